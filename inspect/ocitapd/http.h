/*
 * http.h: the HTTP export (http.c, http-api.c, http-stream.c) on
 * libmicrohttpd's own threads, as one struct http_server. The gauges are
 * read atomically; the store is read through its own read-only
 * connections; nothing here touches the event loop's state.
 */
#ifndef OCITAPD_HTTP_H
#define OCITAPD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "writer.h"

struct tracer;
struct pusher;

struct http_config {
	const char *addr;	/* HOST:PORT, [V6]:PORT, unix:/PATH */
	const char *token_file; /* NULL: none (required off loopback) */
	const char *db_path;
	const char *socket_path;
	const char *spool_dir; /* where the hooks spool: /healthz and /metrics count what waits there */
	struct writer *writer; /* its stats: writer_get_stats() */
	struct tracer *tracer; /* /healthz and the profile endpoint */
	struct pusher *push;   /* /healthz (NULL: no --push) */
	const uint64_t *tracked_containers, *notify_fds; /* read atomically */
};

/* The listening socket, the token, libmicrohttpd and its threads. */
struct http_server;

/*
 * Listen on cfg->addr and serve: *ret is the caller's until http_stop().
 * cfg (and what it points to) must stay valid until then. -errno with err
 * filled (naming the flag) when it cannot; *ret is then untouched.
 */
int http_start(const struct http_config *cfg, struct http_server **ret, struct ocitap_error *err);
/* Where a client reaches s, in buf: "unix:/PATH", or the IP and port it
 * listens on, the loopback's for a wildcard (the port is the kernel's
 * when --http asked for port 0). 0, or -errno. */
int http_address(const struct http_server *s, char *buf, size_t size);
/* Wake the event streams: events were committed. Any thread. */
void http_events_committed(struct http_server *s);
/* End every stream, stop the threads, close and unlink the socket, free s.
 * NULL is ignored. */
void http_stop(struct http_server *s);
/* The event loop tells how many seccomp notify fds it holds for a container
 * (0: none left), for "notifyFds" in /v1/containers, and their policies
 * (policies: a JSON array of {"init", "policy", "policyFallback",
 * "policyRequested"}, copied; NULL: none). s may be NULL (no HTTP):
 * nothing to tell. */
void http_set_notify_fds(struct http_server *s, const char *id, int n, const char *policies);

#endif
