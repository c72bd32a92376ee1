/*
 * http-internal.h: what the HTTP export's files share, and nothing
 * outside them sees: the server object (struct http_server, http.c), a
 * connection's context, the replies, the query arguments, and the
 * endpoints' handlers of http-api.c, http-stream.c and http-page.c that http.c's
 * route table dispatches to. Every handler runs on libmicrohttpd's thread
 * for its connection.
 */
#ifndef OCITAPD_HTTP_INTERNAL_H
#define OCITAPD_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http-cache.h"
#include "http.h"
#include "ocitap-private.h"

struct json_object;
struct http_route;

/* Event streams at once: below the server's connection limit (64), so
 * that /healthz, /metrics and the API always have connections left. */
#define HTTP_MAX_STREAMS 32
/* A stream's connection is closed when nothing could be written for this
 * long (a client that stopped reading); above the 10 s keep-alive. */
#define HTTP_STREAM_TIMEOUT_S 30
/* Read-only store connections the requests and streams share: SQLite keeps
 * the fd of a connection closed while another of the process holds a lock
 * (the store thread's, always, in WAL mode), so connections opened per
 * client would leave as many fds as the peak of clients. */
#define HTTP_STORE_POOL 4
/* The answers kept ready (http-cache.h) take at most this much memory. */
#define HTTP_CACHE_BYTES ((size_t)32 << 20)
/* A request whose answer another is building waits this long for it. */
#define HTTP_CACHE_WAIT_MS 2000

/* A container's seccomp notify fds as the event loop last said. */
struct http_live_fds {
	char *id;
	int n;
	char *policies; /* JSON array: each fd's policy (http_set_notify_fds()); may be NULL */
};

struct http_server {
	const struct http_config *cfg;
	struct MHD_Daemon *mhd;
	int listen_fd;
	char *unix_path; /* unlinked at the stop; NULL on TCP */
	char *token;	 /* NULL: no token asked for (loopback or unix socket) */
	int64_t started_wall_s;

	/* the event streams wait for commits (http-stream.c) */
	pthread_mutex_t lock;
	pthread_cond_t committed; /* CLOCK_MONOTONIC */
	uint64_t generation;	  /* bumped at every commit of events */
	bool stopping;
	unsigned n_streams; /* open event streams, at most HTTP_MAX_STREAMS */

	/* the read-only store connections (HTTP_STORE_POOL at most), taken for
	 * one request or one read of a stream */
	pthread_mutex_t pool_lock;
	pthread_cond_t pool_returned; /* CLOCK_MONOTONIC */
	struct ocitap_store *idle[HTTP_STORE_POOL];
	unsigned n_idle, n_open;

	/* notify fds per container, written by the event loop */
	pthread_mutex_t live_lock;
	struct http_live_fds *live;
	size_t n_live, cap_live;
	uint64_t live_changes; /* atomic: bumped at every change of live, after it */

	/* the answers of /v1/containers and /v1/containers/ID kept ready, each
	 * for one generation: the writer's commits plus live_changes */
	struct http_cache cache;
	uint64_t instance; /* this daemon's, in every ETag: generations restart with it */

	/* /metrics' store figures, for the writer's commits they were read
	 * after: counting by status scans every run, so not at every scrape */
	pthread_mutex_t figures_lock;
	struct http_store_figures {
		bool valid;
		uint64_t commits;
		int64_t by_phase[OCITAP_PHASE_COUNT], failed, last_seq;
	} figures;
};

/* Whether a request's answer may come from the cache, and under which key
 * and generation; made by http_cache_ticket_make(). */
struct http_cache_ticket {
	bool on;      /* false: built every time, no ETag (the store degraded, a key too long) */
	bool builder; /* others wait for this request's answer (http_cache_built() after it) */
	uint64_t generation;
	char key[HTTP_CACHE_KEY_MAX + 1];
	char etag[64]; /* "INSTANCE-GENERATION", quotes included */
};

/* One per connection (thread-per-connection: used by one thread at a time). */
struct http_conn_ctx {
	bool niced;
};

/* A read-only store connection of the pool in *ret, opened if none is idle
 * and fewer than HTTP_STORE_POOL are open; waits up to 5 s for one to come
 * back, then -EBUSY. Give it back with http_store_give(). */
int http_store_take(struct http_server *s, struct ocitap_store **ret, struct ocitap_error *err);
/* Back to the pool (NULL: nothing). */
void http_store_give(struct http_server *s, struct ocitap_store *store);

/* Queue body (len bytes, taken: freed here whatever happens) with status
 * and type, and count it in ocitap_http_requests_total. */
enum MHD_Result http_reply(struct MHD_Connection *conn, unsigned status, const char *type, char *body, size_t len);
/* o as one line of JSON (takes o). */
/* o (taken) as one line of JSON, newline-ended, in a new buffer; NULL: out of memory. */
/* How every JSON answer is written. */
#define HTTP_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
char *http_json_body(struct json_object *o, size_t *ret_len);
enum MHD_Result http_reply_json(struct MHD_Connection *conn, unsigned status, struct json_object *o);
/* {"error": MESSAGE, "status": STATUS}. */
enum MHD_Result http_reply_error(struct MHD_Connection *conn, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * The cache's part of a request to /v1/containers or /v1/containers/ID
 * (endpoint and id from the route): the generation is read here, before
 * the store is, so that an answer kept under it never holds data older
 * than it. The writer counts a commit before it sends any "ok" of it, so
 * a hook's report is in every answer read after the hook was answered.
 */
void http_cache_ticket_make(struct http_server *s, struct MHD_Connection *conn, const struct http_route *route,
			    struct http_cache_ticket *ret);
/* The kept answer of t (waiting for another request building it), or 304
 * Not Modified when If-None-Match names its ETag; false: none kept (build
 * it, then http_cache_built()). */
bool http_cache_serve(struct http_server *s, struct MHD_Connection *conn, struct http_cache_ticket *t,
		      enum MHD_Result *ret);
/* o (taken) as the 200 answer of t, with its ETag, kept when t is on;
 * 304 instead when If-None-Match names the ETag. */
enum MHD_Result http_reply_json_cached(struct http_server *s, struct MHD_Connection *conn,
				       const struct http_cache_ticket *t, struct json_object *o);
/* The same for a JSON text already made: body (len bytes, newline-ended,
 * taken: freed here whatever happens). */
enum MHD_Result http_reply_text_cached(struct http_server *s, struct MHD_Connection *conn,
				       const struct http_cache_ticket *t, char *body, size_t len);
/* The request's query arguments (lib/query.h) into q (the caller releases
 * it); false after answering 400, with *ret what to return. */
bool http_read_query(struct MHD_Connection *conn, struct ocitap_query *q, enum MHD_Result *ret);
/* How many notify fds the loop holds for id (0: none). */
int http_live_notify_fds(struct http_server *s, const char *id);
/* Add the live fds' policies of id to its container object o: "notifyFdPolicies"
 * and, from the init's fd (else the oldest), "policy", "policyFallback",
 * "policyRequested". Nothing when o shows no live fd. */
void http_add_live_policies(struct http_server *s, const char *id, struct json_object *o);

/* http-api.c: the JSON API, /metrics and /healthz. store may be NULL where
 * the endpoint allows it (store_why then says why it is). */
enum MHD_Result http_get_healthz(struct http_server *s, struct MHD_Connection *conn, struct ocitap_store *store,
				 const char *store_why);
enum MHD_Result http_get_metrics(struct http_server *s, struct MHD_Connection *conn, struct ocitap_store *store);
/* t: where the 200 answer is kept (http_reply_json_cached()). */
enum MHD_Result http_get_containers(struct http_server *s, struct MHD_Connection *conn, struct ocitap_store *store,
				    const struct http_cache_ticket *t);
/* id: NUL-terminated (the rest of the path). */
enum MHD_Result http_get_container(struct http_server *s, struct MHD_Connection *conn, struct ocitap_store *store,
				   const char *id, const struct http_cache_ticket *t);
enum MHD_Result http_get_events(struct http_server *s, struct MHD_Connection *conn, struct ocitap_store *store);
/* The id is id_len bytes at id (not terminated). */
enum MHD_Result http_get_container_runs(struct http_server *s, struct MHD_Connection *conn, struct ocitap_store *store,
					const char *id, size_t id_len);
enum MHD_Result http_get_profile(struct http_server *s, struct MHD_Connection *conn, const char *id, size_t id_len);

/* http-page.c: GET /, the live page: a static document embedded at build
 * time, served with its Content-Security-Policy. It holds no data, so it is
 * served without the token; its script sends the token with every fetch. */
enum MHD_Result http_get_page(struct MHD_Connection *conn);

/* http-stream.c: GET /v1/events/stream, taking a store connection of the
 * pool for each read; 503 beyond HTTP_MAX_STREAMS. */
enum MHD_Result http_get_stream(struct http_server *s, struct MHD_Connection *conn);

#endif
