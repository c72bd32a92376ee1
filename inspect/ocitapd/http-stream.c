/*
 * http-stream.c: GET /v1/events/stream, the events as Server-Sent Events.
 * Each stream has a cursor, the last seq sent, and takes a read-only store
 * connection from the server's pool only to read; it sends what the
 * store holds after the cursor, 200 events at a time, then waits on the
 * server's commit condition (http_events_committed()) and sends a
 * keep-alive comment every 10 s of silence. It resumes after
 * Last-Event-ID (or ?since=), else from now on.
 *
 * At most HTTP_MAX_STREAMS at once (the next is 503). While it waits, a
 * stream looks every second whether its client hung up (POLLRDHUP): a
 * client that connects and goes away gives back its thread and its slot
 * within a second, not at the next keep-alive. One
 * that stops reading is closed by libmicrohttpd once nothing could be
 * written for HTTP_STREAM_TIMEOUT_S.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "event-json.h"
#include "http-internal.h"
#include "metrics.h"

#define KEEPALIVE_MS	10000
#define HANGUP_CHECK_MS 1000

struct stream {
	struct http_server *server; /* its commits wake the stream */
	int64_t cursor;		    /* the last seq sent */
	char *buf;		    /* formatted, not yet handed to libmicrohttpd */
	size_t len, off;
	uint64_t seen_generation;
	int fd; /* the connection's socket (libmicrohttpd's): watched for a hang-up */
	bool failed;
};

/* The client closed its end (or the socket failed). */
static bool client_gone(const struct stream *st)
{
	struct pollfd p = { .fd = st->fd, .events = POLLRDHUP };

	return st->fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

struct sse_fill {
	FILE *out;
	int n;
	int64_t last;
};

static int sse_one(const struct ocitap_event *ev, void *userdata)
{
	struct sse_fill *f = userdata;
	struct json_object *o = ocitap_event_json(ev);

	/* one line of JSON: the data field never holds a newline */
	fprintf(f->out, "id: %" PRId64 "\nevent: %s\ndata: %s\n\n", ev->seq, ev->kind,
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	f->last = ev->seq;
	return ++f->n == 200;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct stream *st = cls;
	int64_t deadline = ocitap_now_ms() + KEEPALIVE_MS;

	while (st->off == st->len) {
		struct ocitap_error err = { 0 };
		struct ocitap_store *store;
		struct sse_fill f = { 0 };
		uint64_t gen;
		size_t size = 0;
		char *text = NULL;

		free(st->buf);
		st->buf = NULL;
		st->len = st->off = 0;
		if (st->failed)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		pthread_mutex_lock(&st->server->lock);
		gen = st->server->generation;
		pthread_mutex_unlock(&st->server->lock);
		f.out = open_memstream(&text, &size);
		if (!f.out)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		f.last = st->cursor;
		store = NULL;
		if (http_store_take(st->server, &store, &err) < 0 ||
		    ocitap_store_foreach_event(store, NULL, 0, st->cursor, sse_one, &f, &err) < 0) {
			fprintf(f.out, "event: error\ndata: {\"error\":\"store unreadable\"}\n\n");
			st->failed = true;
		}
		http_store_give(st->server, store);
		st->cursor = f.last;
		fclose(f.out);
		if (size) {
			st->buf = text;
			st->len = size;
			break;
		}
		free(text);
		pthread_mutex_lock(&st->server->lock);
		while (!st->server->stopping && st->server->generation == gen) {
			int64_t now = ocitap_now_ms(), until = now + HANGUP_CHECK_MS;
			struct timespec ts;
			bool gone;

			if (now >= deadline)
				break;
			if (until > deadline)
				until = deadline;
			ts = (struct timespec){ .tv_sec = until / 1000, .tv_nsec = (until % 1000) * 1000000 };
			if (pthread_cond_timedwait(&st->server->committed, &st->server->lock, &ts) != ETIMEDOUT)
				continue;
			pthread_mutex_unlock(&st->server->lock);
			gone = client_gone(st);
			pthread_mutex_lock(&st->server->lock);
			if (gone) {
				pthread_mutex_unlock(&st->server->lock);
				return MHD_CONTENT_READER_END_WITH_ERROR;
			}
		}
		if (st->server->stopping) {
			pthread_mutex_unlock(&st->server->lock);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		pthread_mutex_unlock(&st->server->lock);
		if (ocitap_now_ms() >= deadline) {
			/* a comment: keeps proxies from closing an idle stream, and
			 * finds a client that went away */
			st->buf = strdup(": keep-alive\n\n");
			st->len = st->buf ? strlen(st->buf) : 0;
			break;
		}
	}
	if (max > st->len - st->off)
		max = st->len - st->off;
	memcpy(out, st->buf + st->off, max);
	st->off += max;
	return (ssize_t)max;
}

/* A place among the HTTP_MAX_STREAMS, or false. */
static bool stream_slot_take(struct http_server *server)
{
	bool ok;

	pthread_mutex_lock(&server->lock);
	ok = server->n_streams < HTTP_MAX_STREAMS;
	if (ok)
		server->n_streams++;
	pthread_mutex_unlock(&server->lock);
	return ok;
}

static void stream_slot_give(struct http_server *server)
{
	pthread_mutex_lock(&server->lock);
	server->n_streams--;
	pthread_mutex_unlock(&server->lock);
}

/* libmicrohttpd's, when the response goes with its connection: the slot
 * goes back. */
static void stream_free(void *cls)
{
	struct stream *st = cls;

	stream_slot_give(st->server);
	free(st->buf);
	free(st);
}

enum MHD_Result http_get_stream(struct http_server *server, struct MHD_Connection *conn)
{
	const char *last_id = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Last-Event-ID");
	const union MHD_ConnectionInfo *ci;
	struct ocitap_error err = { 0 };
	struct ocitap_store *store;
	struct MHD_Response *resp;
	struct stream *st;
	struct ocitap_query q;
	int64_t since = -1;
	char line[512];
	enum MHD_Result r;

	if (last_id) {
		ocitap_query_init(&q);
		if (ocitap_query_last_event_id(&q, last_id, &err) < 0)
			return http_reply_error(conn, MHD_HTTP_BAD_REQUEST, "%s",
						ocitap_error_format(&err, line, sizeof(line)));
	} else if (!http_read_query(conn, &q, &r)) {
		return r;
	}
	if (q.has_since)
		since = q.since;
	ocitap_query_release(&q);
	if (!stream_slot_take(server)) {
		return http_reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
					"too many event streams: %d are open, the limit", HTTP_MAX_STREAMS);
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		stream_slot_give(server);
		return MHD_NO;
	}
	st->server = server;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	st->fd = ci ? ci->connect_fd : -1;
	if (http_store_take(server, &store, &err) < 0) {
		free(st);
		stream_slot_give(server);
		return http_reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "store: %s",
					ocitap_error_format(&err, line, sizeof(line)));
	}
	/* without a position: from now on */
	st->cursor = since >= 0 ? since : ocitap_store_last_seq(store);
	http_store_give(server, store);
	if (st->cursor < 0)
		st->cursor = 0;
	/* the first bytes say how soon to reconnect */
	st->buf = strdup("retry: 1000\n\n");
	st->len = st->buf ? strlen(st->buf) : 0;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, st, stream_free);
	if (!resp) {
		stream_free(st);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)HTTP_STREAM_TIMEOUT_S);
	r = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	metric_add("ocitap_http_requests_total", 1, "code", "200", NULL);
	return r;
}
