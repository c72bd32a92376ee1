/*
 * push.h: every event POSTed to each --push URL as CloudEvents (batched
 * JSON), from the store, with a cursor per URL kept in the store: at least
 * once, in order, retried with backoff, on its own thread (push.c). One
 * struct pusher per daemon; nothing in push.c is file-level state.
 */
#ifndef OCITAPD_PUSH_H
#define OCITAPD_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
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

/* The push thread and its receivers (push.c). */
struct pusher;

/*
 * Check the URLs and files of cfg, read each receiver's cursor from the
 * store at cfg->db_path and start the push thread: *ret is the caller's
 * until push_stop(). cfg (and what it points to) must stay valid until
 * then. -errno with err filled (a message naming the flag) when it cannot;
 * *ret is then untouched.
 */
int push_start(const struct push_config *cfg, struct pusher **ret, struct ocitap_error *err);
/* Events were committed: send them. Any thread. */
void push_wake(struct pusher *p);
/* Stop the thread (a transfer in flight is cut short), queue nothing more,
 * and free p. The writer must still run: the last cursors go through it.
 * NULL is ignored. */
void push_stop(struct pusher *p);

#endif
