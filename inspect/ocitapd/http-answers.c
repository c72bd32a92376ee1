/*
 * http-answers.c: answers kept ready (http-cache.c) for /v1/containers and
 * /v1/containers/{id}: the key and generation of a request (its ticket), a
 * kept answer served or a 304 for an If-None-Match naming its ETag, and a
 * new answer sent and kept. The generation is the store's commits plus the
 * live fds' changes: read before the store is, so an answer is never older
 * than its tag says (http-internal.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "http-internal.h"
#include "http-routes.h"
#include "metrics.h"

/* What every answer is made of: the store's commits and the live fds. */
static uint64_t answers_generation(struct http_server *s)
{
	uint64_t commits = s->cfg->writer ? writer_commits(s->cfg->writer) : 0;

	return commits + __atomic_load_n(&s->live_changes, __ATOMIC_ACQUIRE);
}

struct key_ctx {
	char *buf;
	size_t len;
	bool overflow;
};

static void key_append(struct key_ctx *k, const char *text)
{
	size_t n = strlen(text);

	if (k->len + n > HTTP_CACHE_KEY_MAX) {
		k->overflow = true;
		return;
	}
	memcpy(k->buf + k->len, text, n);
	k->len += n;
	k->buf[k->len] = '\0';
}

static enum MHD_Result key_add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct key_ctx *k = cls;

	key_append(k, "&");
	key_append(k, key);
	if (value) {
		key_append(k, "=");
		key_append(k, value);
	}
	return k->overflow ? MHD_NO : MHD_YES;
}

void http_cache_ticket_make(struct http_server *s, struct MHD_Connection *conn, const struct http_route *route,
			    struct http_cache_ticket *ret)
{
	struct key_ctx k = { .buf = ret->key };
	struct writer_stats ws = { 0 };

	*ret = (struct http_cache_ticket){ .generation = answers_generation(s) };
	if (s->cfg->writer)
		writer_get_stats(s->cfg->writer, &ws);
	if (ws.degraded)
		return; /* the answers say what is held in memory, which no generation counts */
	/* the endpoint, the id (it holds no '\n': a control character is refused) and the query as sent */
	key_append(&k, route->endpoint == HTTP_ENDPOINT_CONTAINER ? "container\n" : "containers\n");
	if (route->endpoint == HTTP_ENDPOINT_CONTAINER && route->id_len <= HTTP_CACHE_KEY_MAX - k.len) {
		memcpy(k.buf + k.len, route->id, route->id_len);
		k.len += route->id_len;
		k.buf[k.len] = '\0';
	} else if (route->endpoint == HTTP_ENDPOINT_CONTAINER) {
		k.overflow = true;
	}
	key_append(&k, "\n");
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, key_add_arg, &k);
	if (k.overflow)
		return;
	snprintf(ret->etag, sizeof(ret->etag), "\"%" PRIx64 "-%" PRIu64 "\"", s->instance, ret->generation);
	ret->on = true;
}

/* Does If-None-Match (a list of entity tags, maybe weak: W/"...") name
 * etag? Anything else in it (garbage, "*") matches nothing. */
static bool etag_listed(struct MHD_Connection *conn, const char *etag)
{
	const char *p = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	size_t n = strlen(etag);

	while (p && *p) {
		p += strspn(p, " \t,");
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (strncmp(p, etag, n) == 0 && (p[n] == '\0' || strchr(", \t", p[n])))
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

static enum MHD_Result reply_not_modified(struct MHD_Connection *conn, const char *etag)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result r;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	r = MHD_queue_response(conn, MHD_HTTP_NOT_MODIFIED, resp);
	MHD_destroy_response(resp);
	metric_add("ocitap_http_requests_total", 1, "code", "304", NULL);
	return r;
}

struct serve_ctx {
	struct MHD_Connection *conn;
	bool not_modified;
	enum MHD_Result r;
};

/* Under the cache's lock: queueing takes the connection's own reference. */
static void serve_kept(void *value, void *userdata)
{
	struct serve_ctx *c = userdata;

	if (!c->not_modified)
		c->r = MHD_queue_response(c->conn, MHD_HTTP_OK, value);
}

bool http_cache_serve(struct http_server *s, struct MHD_Connection *conn, struct http_cache_ticket *t,
		      enum MHD_Result *ret)
{
	/* 304 only with an answer kept: it says the resource is there (a 404 has no ETag) */
	struct serve_ctx c = { .conn = conn, .not_modified = t->on && etag_listed(conn, t->etag) };

	if (!t->on)
		return false;
	/* a miss waits for the request already building the same answer, if any */
	if (!http_cache_use(&s->cache, t->key, t->generation, serve_kept, &c) &&
	    !http_cache_await(&s->cache, t->key, t->generation, HTTP_CACHE_WAIT_MS, serve_kept, &c, &t->builder))
		return false;
	if (c.not_modified) {
		*ret = reply_not_modified(conn, t->etag);
	} else {
		*ret = c.r;
		metric_add("ocitap_http_requests_total", 1, "code", "200", NULL);
	}
	return true;
}

enum MHD_Result http_reply_json_cached(struct http_server *s, struct MHD_Connection *conn,
				       const struct http_cache_ticket *t, struct json_object *o)
{
	size_t len = 0;
	char *body = http_json_body(o, &len);

	return body ? http_reply_text_cached(s, conn, t, body, len) : MHD_NO;
}

enum MHD_Result http_reply_text_cached(struct http_server *s, struct MHD_Connection *conn,
				       const struct http_cache_ticket *t, char *body, size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result r;

	if (!t || !t->on)
		return http_reply(conn, MHD_HTTP_OK, "application/json", body, len);
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	/* kept by a client only to ask again with If-None-Match */
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, t->etag);
	if (etag_listed(conn, t->etag)) {
		r = reply_not_modified(conn, t->etag);
	} else {
		r = MHD_queue_response(conn, MHD_HTTP_OK, resp);
		metric_add("ocitap_http_requests_total", 1, "code", "200", NULL);
	}
	/* queued first: once kept, another request's put may drop it */
	if (!http_cache_put(&s->cache, t->key, t->generation, resp, len))
		MHD_destroy_response(resp);
	return r;
}
