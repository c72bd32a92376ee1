/*
 * push.h: every event POSTed to each --push URL as CloudEvents (batched
 * JSON), from the store, with a cursor per URL kept in the store: at least
 * once, in order, retried with backoff, on its own thread (push.c).
 */
#ifndef OCITAPD_PUSH_H
#define OCITAPD_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "writer.h"

struct push_config {
	const char *const *urls;
	size_t n_urls;
	const char *token_file; /* NULL: no Authorization header */
	const char *ca_file;	/* NULL: the system's CAs */
	const char *db_path;
	struct writer *writer; /* cursors are written through it */
	int64_t max_backlog;   /* events a receiver may fall behind before the oldest are skipped */
};

/* cfg must stay valid until push_stop(). */
int push_start(const struct push_config *cfg, char *why, size_t why_size);
/* Events were committed: send them. Any thread. */
void push_wake(void);
void push_stop(void);

#endif
