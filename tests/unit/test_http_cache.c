/*
 * test_http_cache.c: the HTTP export's kept answers
 * (inspect/ocitapd/http-cache.c): an answer is found only under its key
 * and its exact generation; keeping one of a newer generation drops every
 * older one, and one of an older generation is refused; the bytes and the
 * slots are bounded, the least recently used going first; a key kept
 * twice, a key too long and a value larger than the bound are refused and
 * left to the caller; one request builds while another of the same key
 * waits and then finds its answer, and a waiter gives up after its time.
 */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "../../inspect/ocitapd/http-cache.h"
#include "testutil.h"

/* Values are ints owned by the test; drop marks them dropped. */
static int dropped[HTTP_CACHE_SLOTS * 2];

static void drop_value(void *value)
{
	(*(int *)value)++;
}

static void copy_value(void *value, void *userdata)
{
	*(void **)userdata = value;
}

static void *found(struct http_cache *c, const char *key, uint64_t generation)
{
	void *v = NULL;

	return http_cache_use(c, key, generation, copy_value, &v) ? v : NULL;
}

static void test_key_and_generation(void **unused)
{
	struct http_cache c;
	size_t n, bytes;

	memset(dropped, 0, sizeof(dropped));
	http_cache_init(&c, 1000, drop_value);
	assert_null(found(&c, "a", 1));
	assert_true(http_cache_put(&c, "a", 1, &dropped[0], 10));
	assert_true(http_cache_put(&c, "b", 1, &dropped[1], 20));
	assert_ptr_equal(found(&c, "a", 1), &dropped[0]);
	assert_ptr_equal(found(&c, "b", 1), &dropped[1]);
	assert_null(found(&c, "a", 2)); /* a newer generation: built again */
	assert_null(found(&c, "a", 0));
	assert_null(found(&c, "ab", 1));
	http_cache_size(&c, &n, &bytes);
	assert_int_equal(n, 2);
	assert_int_equal(bytes, 30);
	/* the same key at the same generation: the first one stays */
	assert_false(http_cache_put(&c, "a", 1, &dropped[2], 10));
	assert_int_equal(dropped[2], 0);
	/* a newer generation drops both older answers */
	assert_true(http_cache_put(&c, "a", 2, &dropped[3], 5));
	assert_int_equal(dropped[0], 1);
	assert_int_equal(dropped[1], 1);
	assert_null(found(&c, "b", 1));
	http_cache_size(&c, &n, &bytes);
	assert_int_equal(n, 1);
	assert_int_equal(bytes, 5);
	/* built from data already replaced: refused */
	assert_false(http_cache_put(&c, "b", 1, &dropped[4], 5));
	assert_int_equal(dropped[4], 0);
	assert_int_equal(c.hits, 2);
	http_cache_release(&c);
	assert_int_equal(dropped[3], 1);
}

static void test_bounds(void **unused)
{
	struct http_cache c;
	char key[HTTP_CACHE_KEY_MAX + 2];
	size_t n, bytes;

	memset(dropped, 0, sizeof(dropped));
	http_cache_init(&c, 100, drop_value);
	assert_false(http_cache_put(&c, "big", 1, &dropped[0], 101));
	assert_true(http_cache_put(&c, "x", 1, &dropped[1], 60));
	assert_true(http_cache_put(&c, "y", 1, &dropped[2], 30));
	assert_non_null(found(&c, "x", 1)); /* x used last: y goes first */
	assert_true(http_cache_put(&c, "z", 1, &dropped[3], 40));
	assert_int_equal(dropped[2], 1);
	assert_int_equal(dropped[1], 0);
	http_cache_size(&c, &n, &bytes);
	assert_int_equal(n, 2);
	assert_int_equal(bytes, 100);
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	assert_false(http_cache_put(&c, key, 1, &dropped[4], 1));
	http_cache_release(&c);

	/* the slots: one more than there are drops the least recently used */
	memset(dropped, 0, sizeof(dropped));
	http_cache_init(&c, 1 << 20, drop_value);
	for (int i = 0; i < HTTP_CACHE_SLOTS; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_true(http_cache_put(&c, key, 7, &dropped[i], 1));
	}
	assert_non_null(found(&c, "k0", 7));
	assert_true(http_cache_put(&c, "extra", 7, &dropped[HTTP_CACHE_SLOTS], 1));
	assert_int_equal(dropped[0], 0);
	assert_int_equal(dropped[1], 1);
	assert_null(found(&c, "k1", 7));
	assert_non_null(found(&c, "extra", 7));
	http_cache_size(&c, &n, &bytes);
	assert_int_equal(n, HTTP_CACHE_SLOTS);
	http_cache_release(&c);
}

struct waiter {
	struct http_cache *c;
	int wait_ms;
	bool found, builder;
	void *value;
};

static void *wait_for_answer(void *arg)
{
	struct waiter *w = arg;

	w->found = http_cache_await(w->c, "list", 3, w->wait_ms, copy_value, &w->value, &w->builder);
	return NULL;
}

static void test_one_builds_the_others_wait(void **unused)
{
	struct http_cache c;
	struct waiter w;
	pthread_t t;
	bool builder = false;
	struct timespec t0, t1;

	memset(dropped, 0, sizeof(dropped));
	http_cache_init(&c, 1000, drop_value);
	/* the first miss builds */
	assert_false(http_cache_await(&c, "list", 3, 1000, copy_value, NULL, &builder));
	assert_true(builder);
	assert_int_equal(c.misses, 1);
	/* a second request of the same answer waits for it and finds it */
	w = (struct waiter){ .c = &c, .wait_ms = 5000 };
	assert_int_equal(pthread_create(&t, NULL, wait_for_answer, &w), 0);
	usleep(50 * 1000);
	assert_true(http_cache_put(&c, "list", 3, &dropped[0], 10));
	http_cache_built(&c, "list", 3);
	pthread_join(t, NULL);
	assert_true(w.found);
	assert_false(w.builder);
	assert_ptr_equal(w.value, &dropped[0]);
	assert_int_equal(c.misses, 1);
	http_cache_release(&c);

	/* a builder that never finishes: the waiter builds after its time */
	http_cache_init(&c, 1000, drop_value);
	assert_false(http_cache_await(&c, "list", 3, 1000, copy_value, NULL, &builder));
	assert_true(builder);
	w = (struct waiter){ .c = &c, .wait_ms = 200 };
	clock_gettime(CLOCK_MONOTONIC, &t0);
	wait_for_answer(&w);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_false(w.found);
	assert_false(w.builder); /* the first one still holds the build */
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 >= 190);
	/* another generation is another build: no waiting */
	assert_false(http_cache_await(&c, "list", 4, 5000, copy_value, NULL, &builder));
	assert_true(builder);
	http_cache_built(&c, "list", 3);
	http_cache_built(&c, "list", 4);
	assert_false(http_cache_await(&c, "list", 3, 5000, copy_value, NULL, &builder));
	assert_true(builder); /* built() freed the first claim */
	http_cache_built(&c, "list", 3);
	http_cache_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_and_generation),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_one_builds_the_others_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
