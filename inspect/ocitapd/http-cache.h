/*
 * http-cache.h: the HTTP export's answers kept ready to send (http-cache.c),
 * per key (the endpoint, its id and its query), each valid for one
 * generation of what the answers are made of (the store's commits and the
 * live notify fds: http.c). Bounded: at most HTTP_CACHE_SLOTS answers and
 * max_bytes in all; an answer of an older generation is dropped as soon as
 * one of a newer generation is kept. No libmicrohttpd here: a value is
 * opaque, freed by the drop function the cache was made with, so that the
 * cache is tested on its own (tests/unit/test_http_cache.c).
 */
#ifndef OCITAPD_HTTP_CACHE_H
#define OCITAPD_HTTP_CACHE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_CACHE_SLOTS 64
/* A key longer than this is not kept (its answer is built every time). */
#define HTTP_CACHE_KEY_MAX 512

struct http_cache_slot {
	char *key; /* NULL: free */
	uint64_t generation;
	void *value;
	size_t bytes;
	uint64_t used; /* the cache's clock at its last use: the least recent goes first */
};

struct http_cache {
	pthread_rwlock_t lock; /* lookups share it; keeping and dropping take it alone */
	size_t max_bytes, bytes;
	uint64_t newest;       /* the newest generation kept so far */
	uint64_t clock;	       /* atomic: bumped at every use */
	uint64_t hits, misses; /* atomic: answers found; builds handed out by http_cache_await() */
	void (*drop)(void *value);
	struct http_cache_slot slot[HTTP_CACHE_SLOTS];

	/* the answers being built: one request builds, the others of the same
	 * key and generation wait for it instead of building it again */
	pthread_mutex_t build_lock;
	pthread_cond_t built; /* CLOCK_MONOTONIC */
	struct {
		char key[HTTP_CACHE_KEY_MAX + 1]; /* "": free */
		uint64_t generation;
	} building[HTTP_CACHE_SLOTS];
};

/* An empty cache of at most max_bytes whose values drop() frees. */
void http_cache_init(struct http_cache *c, size_t max_bytes, void (*drop)(void *value));
/* Drops every value. */
void http_cache_release(struct http_cache *c);

/*
 * The value kept for key at exactly generation, handed to use(value,
 * userdata) while it cannot be dropped (use must take its own reference if
 * it keeps it, and must not call into the cache). false: none (use not
 * called); a hit is counted, a miss is not (http_cache_await() counts it).
 */
bool http_cache_use(struct http_cache *c, const char *key, uint64_t generation,
		    void (*use)(void *value, void *userdata), void *userdata);

/*
 * After a miss of http_cache_use(): wait up to wait_ms while another
 * request builds key at generation, then look again. true: found (use()
 * called). false: the caller builds the answer, and calls http_cache_put()
 * if it has one; *ret_builder true: the others wait for it, so it calls
 * http_cache_built() in every case (false: it timed out waiting, or too
 * many builds are under way, and builds alongside).
 */
bool http_cache_await(struct http_cache *c, const char *key, uint64_t generation, int wait_ms,
		      void (*use)(void *value, void *userdata), void *userdata, bool *ret_builder);
/* The build http_cache_await() handed out is over (kept or not): the
 * requests waiting for it look again. */
void http_cache_built(struct http_cache *c, const char *key, uint64_t generation);

/*
 * Keep value (bytes long) for key at generation, dropping the answers of
 * older generations and, while full, the least recently used. true: the
 * cache owns value now; false: not kept (too large, key too long, an older
 * generation than one already kept, or key already kept at generation),
 * and the caller still owns it.
 */
bool http_cache_put(struct http_cache *c, const char *key, uint64_t generation, void *value, size_t bytes);

/* How many answers are kept, and their bytes (for tests and /metrics). */
void http_cache_size(struct http_cache *c, size_t *ret_count, size_t *ret_bytes);

#endif
