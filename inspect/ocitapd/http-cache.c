/*
 * http-cache.c: a small bounded map from a request's key to an answer built
 * for one generation of the data (see http-cache.h). The slots are few
 * (HTTP_CACHE_SLOTS), so a lookup is a scan; lookups run side by side under
 * a shared lock, and only keeping an answer takes the lock alone. Every
 * generation makes every older answer useless, so keeping the first answer
 * of a new generation drops all the others.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http-cache.h"

void http_cache_init(struct http_cache *c, size_t max_bytes, void (*drop)(void *value))
{
	pthread_condattr_t attr;

	memset(c, 0, sizeof(*c));
	pthread_rwlock_init(&c->lock, NULL);
	pthread_mutex_init(&c->build_lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->built, &attr);
	pthread_condattr_destroy(&attr);
	c->max_bytes = max_bytes;
	c->drop = drop;
}

/* Under the lock, alone. */
static void slot_drop(struct http_cache *c, struct http_cache_slot *s)
{
	if (!s->key)
		return;
	c->drop(s->value);
	c->bytes -= s->bytes;
	free(s->key);
	*s = (struct http_cache_slot){ 0 };
}

void http_cache_release(struct http_cache *c)
{
	for (size_t i = 0; i < HTTP_CACHE_SLOTS; i++)
		slot_drop(c, &c->slot[i]);
	pthread_cond_destroy(&c->built);
	pthread_mutex_destroy(&c->build_lock);
	pthread_rwlock_destroy(&c->lock);
}

bool http_cache_use(struct http_cache *c, const char *key, uint64_t generation,
		    void (*use)(void *value, void *userdata), void *userdata)
{
	bool found = false;

	pthread_rwlock_rdlock(&c->lock);
	for (size_t i = 0; i < HTTP_CACHE_SLOTS && !found; i++) {
		struct http_cache_slot *s = &c->slot[i];

		if (s->key && s->generation == generation && strcmp(s->key, key) == 0) {
			__atomic_store_n(&s->used, __atomic_add_fetch(&c->clock, 1, __ATOMIC_RELAXED),
					 __ATOMIC_RELAXED);
			use(s->value, userdata);
			found = true;
		}
	}
	pthread_rwlock_unlock(&c->lock);
	if (found)
		__atomic_add_fetch(&c->hits, 1, __ATOMIC_RELAXED);
	return found;
}

/* Under build_lock: the build of key at generation under way, or a free
 * entry (find_free), or -1. */
static int building_find(struct http_cache *c, const char *key, uint64_t generation, bool find_free)
{
	int free_i = -1;

	for (int i = 0; i < HTTP_CACHE_SLOTS; i++) {
		if (c->building[i].key[0] && c->building[i].generation == generation &&
		    strcmp(c->building[i].key, key) == 0)
			return i;
		if (!c->building[i].key[0] && free_i < 0)
			free_i = i;
	}
	return find_free ? free_i : -1;
}

bool http_cache_await(struct http_cache *c, const char *key, uint64_t generation, int wait_ms,
		      void (*use)(void *value, void *userdata), void *userdata, bool *ret_builder)
{
	struct timespec until;
	int i;

	*ret_builder = false;
	if (strlen(key) > HTTP_CACHE_KEY_MAX)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (long)(wait_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&c->build_lock);
	while (building_find(c, key, generation, false) >= 0) {
		bool timed_out = pthread_cond_timedwait(&c->built, &c->build_lock, &until) == ETIMEDOUT;

		pthread_mutex_unlock(&c->build_lock);
		if (http_cache_use(c, key, generation, use, userdata))
			return true;
		if (timed_out) {
			__atomic_add_fetch(&c->misses, 1, __ATOMIC_RELAXED);
			return false; /* build it alongside: the other one is slow */
		}
		pthread_mutex_lock(&c->build_lock);
	}
	i = building_find(c, key, generation, true);
	if (i >= 0) { /* none free: built without telling the others, who build too */
		snprintf(c->building[i].key, sizeof(c->building[i].key), "%s", key);
		c->building[i].generation = generation;
		*ret_builder = true;
	}
	pthread_mutex_unlock(&c->build_lock);
	__atomic_add_fetch(&c->misses, 1, __ATOMIC_RELAXED);
	return false;
}

void http_cache_built(struct http_cache *c, const char *key, uint64_t generation)
{
	int i;

	pthread_mutex_lock(&c->build_lock);
	i = building_find(c, key, generation, false);
	if (i >= 0)
		c->building[i].key[0] = '\0';
	pthread_cond_broadcast(&c->built);
	pthread_mutex_unlock(&c->build_lock);
}

/* Under the lock, alone: a free slot, made by dropping the least recently
 * used until there is one and bytes more fit. */
static struct http_cache_slot *slot_make_room(struct http_cache *c, size_t bytes)
{
	for (;;) {
		struct http_cache_slot *free_slot = NULL, *oldest = NULL;

		for (size_t i = 0; i < HTTP_CACHE_SLOTS; i++) {
			struct http_cache_slot *s = &c->slot[i];

			if (!s->key && !free_slot)
				free_slot = s;
			else if (s->key && (!oldest || s->used < oldest->used))
				oldest = s;
		}
		if (free_slot && c->bytes + bytes <= c->max_bytes)
			return free_slot;
		if (!oldest)
			return NULL; /* cannot happen: bytes <= max_bytes was checked */
		slot_drop(c, oldest);
	}
}

bool http_cache_put(struct http_cache *c, const char *key, uint64_t generation, void *value, size_t bytes)
{
	struct http_cache_slot *s;
	char *k;

	if (bytes > c->max_bytes || strlen(key) > HTTP_CACHE_KEY_MAX)
		return false;
	pthread_rwlock_wrlock(&c->lock);
	if (generation < c->newest) {
		pthread_rwlock_unlock(&c->lock);
		return false; /* built from data already replaced */
	}
	c->newest = generation;
	for (size_t i = 0; i < HTTP_CACHE_SLOTS; i++) {
		s = &c->slot[i];
		if (s->key && s->generation < generation)
			slot_drop(c, s);
		else if (s->key && strcmp(s->key, key) == 0) {
			pthread_rwlock_unlock(&c->lock);
			return false; /* another request built it at the same time */
		}
	}
	s = slot_make_room(c, bytes);
	k = s ? strdup(key) : NULL;
	if (!k) {
		pthread_rwlock_unlock(&c->lock);
		return false;
	}
	*s = (struct http_cache_slot){ .key = k,
				       .generation = generation,
				       .value = value,
				       .bytes = bytes,
				       .used = __atomic_add_fetch(&c->clock, 1, __ATOMIC_RELAXED) };
	c->bytes += bytes;
	pthread_rwlock_unlock(&c->lock);
	return true;
}

void http_cache_size(struct http_cache *c, size_t *ret_count, size_t *ret_bytes)
{
	size_t n = 0;

	pthread_rwlock_rdlock(&c->lock);
	for (size_t i = 0; i < HTTP_CACHE_SLOTS; i++)
		n += c->slot[i].key != NULL;
	*ret_bytes = c->bytes;
	pthread_rwlock_unlock(&c->lock);
	*ret_count = n;
}
