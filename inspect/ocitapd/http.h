/*
 * http.h: the HTTP export (http.c) on libmicrohttpd's own threads. The
 * gauges are read atomically; the store is read through its own read-only
 * connections; nothing here touches the event loop's state.
 */
#ifndef OCITAPD_HTTP_H
#define OCITAPD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "writer.h"

struct tracer;

struct http_config {
	const char *addr;	/* HOST:PORT, [V6]:PORT, unix:/PATH */
	const char *token_file; /* NULL: none (required off loopback) */
	const char *db_path;
	const char *socket_path;
	struct writer *writer;				 /* its stats: writer_get_stats() */
	struct tracer *tracer;				 /* /healthz and the profile endpoint */
	const uint64_t *tracked_containers, *notify_fds; /* read atomically */
};

/* Listen and serve; -errno with why filled when it cannot. cfg must stay valid until http_stop(). */
int http_start(const struct http_config *cfg, char *why, size_t why_size);
/* Wake the event streams: events were committed. Any thread. */
void http_events_committed(void);
void http_stop(void);
/* The event loop tells how many seccomp notify fds it holds for a container
 * (0: none left), for "notifyFds" in /v1/containers. */
void http_set_notify_fds(const char *id, int n);

#endif
