/*
 * test_journal.c: the hook reports' journal (inspect/ocitapd/journal.c):
 * a report taken is found again, with its uid, by a second mapping of the
 * file (what a daemon starting after a kill -9 sees), oldest first; a
 * released slot is not; a report too long for a slot, or an empty one, is
 * refused, and so is one more than the slots; a second mapping while one
 * is held is refused (the lock); a file that is not a journal is cleared,
 * one not 0600, not a regular file or with a second name refused; a slot
 * whose length says more than a slot holds is dropped at the mapping; the
 * slots of another boot are kept, and said to be.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../inspect/ocitapd/journal.h"
#include "testutil.h"

static char dir[] = "/tmp/ocitap-test-journal-XXXXXX";
static char path[256];

static int setup(void **unused)
{
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ocitapd.journal", dir);
	return 0;
}

static int teardown(void **unused)
{
	unlink(path);
	rmdir(dir);
	return 0;
}

static struct journal *map(void)
{
	struct ocitap_error err = { 0 };
	struct journal *j = NULL;

	assert_int_equal(journal_map(path, &j, &err), 0);
	return j;
}

static void unmap(struct journal *j)
{
	journal_unmap(j);
}

static void test_taken_found_again(void **unused)
{
	struct journal *j = map(), *again;
	struct journal_slot *a, *b, *c, *left[JOURNAL_SLOTS];

	assert_int_equal(journal_pending(j), 0);
	a = journal_take(j, "first", 5, 0);
	b = journal_take(j, "second", 6, 1000);
	c = journal_take(j, "third", 5, 0);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_int_equal(journal_pending(j), 3);
	journal_release(a);
	journal_release(NULL);
	assert_int_equal(journal_pending(j), 2);
	assert_int_equal(journal_map(path, &again, &(struct ocitap_error){ 0 }), -EBUSY); /* one per process */
	unmap(j);

	again = map(); /* the next daemon's mapping: the same slots */
	assert_int_equal(journal_left(again, left, JOURNAL_SLOTS), 2);
	assert_true(journal_slot_this_boot(left[0]) && journal_slot_this_boot(left[1]));
	assert_int_equal(left[0]->len, 6);
	assert_memory_equal(left[0]->report, "second", 6);
	assert_int_equal(left[0]->uid, 1000);
	assert_memory_equal(left[1]->report, "third", 5);
	assert_int_equal(journal_left(again, left, 1), 1); /* at most max */
	journal_release(left[0]);
	journal_release(left[1]);
	assert_int_equal(journal_left(again, left, JOURNAL_SLOTS), 0);
	unmap(again);
	(void)b;
	(void)c;
}

static void test_bounds(void **unused)
{
	struct journal *j = map();
	static char big[JOURNAL_REPORT_MAX + 1];
	struct journal_slot *s;

	memset(big, 'x', sizeof(big));
	assert_null(journal_take(j, big, sizeof(big), 0));
	assert_null(journal_take(j, "", 0, 0));
	assert_null(journal_take(NULL, "x", 1, 0));
	s = journal_take(j, big, JOURNAL_REPORT_MAX, 0);
	assert_non_null(s);
	journal_release(s);
	for (size_t i = 0; i < JOURNAL_SLOTS; i++)
		assert_non_null(journal_take(j, "r", 1, 0));
	assert_null(journal_take(j, "one more", 8, 0)); /* full: answered once committed instead */
	assert_int_equal(journal_pending(j), JOURNAL_SLOTS);
	for (size_t i = 0; i < JOURNAL_SLOTS; i++)
		journal_release(&j->slot[i]);
	assert_non_null(s = journal_take(j, "r", 1, 0));
	journal_release(s);
	unmap(j);
}

static void test_not_a_journal(void **unused)
{
	struct ocitap_error err = { 0 };
	struct journal *j = map(), *again = NULL;
	struct journal_slot *left[JOURNAL_SLOTS], *kept, *cut;
	int fd;

	assert_non_null(kept = journal_take(j, "kept", 4, 0));
	cut = &j->slot[(size_t)(kept - j->slot + 1) % JOURNAL_SLOTS];
	cut->used = 1; /* a length no slot holds */
	cut->len = JOURNAL_REPORT_MAX + 1;
	unmap(j);
	again = map();
	assert_int_equal(journal_left(again, left, JOURNAL_SLOTS), 1);
	assert_memory_equal(left[0]->report, "kept", 4);
	assert_true(journal_slot_this_boot(left[0]));
	memcpy(again->boot, "another boot", 13); /* the slots of another boot: recorded, pids not trusted */
	unmap(again);
	again = map();
	assert_int_equal(journal_left(again, left, JOURNAL_SLOTS), 1);
	assert_false(journal_slot_this_boot(left[0]));
	unmap(again); /* mapped again in this boot, the slot not yet applied: still another boot's */
	again = map();
	assert_int_equal(journal_left(again, left, JOURNAL_SLOTS), 1);
	assert_false(journal_slot_this_boot(left[0]));
	assert_true(journal_slot_this_boot(journal_take(again, "new", 3, 0)));
	memset(again->boot, 0, sizeof(again->boot)); /* of unknown boot (an older build's): not trusted either */
	unmap(again);
	again = map();
	assert_int_equal(journal_left(again, left, JOURNAL_SLOTS), 2);
	assert_false(journal_slot_this_boot(left[0]) || journal_slot_this_boot(left[1]));
	again->magic = 0; /* not one: cleared */
	unmap(again);
	again = map();
	assert_int_equal(journal_pending(again), 0);
	unmap(again);
	assert_int_equal(link(path, "/tmp/ocitap-test-journal-link"), 0); /* a second name: refused */
	assert_int_equal(journal_map(path, &again, &err), -EPERM);
	unlink("/tmp/ocitap-test-journal-link");

	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(journal_map(path, &again, &err), -EPERM);
	assert_non_null(strstr(err.message, "refusing it"));
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	fd = open(path, O_RDONLY | O_NONBLOCK);
	assert_true(fd >= 0);
	assert_true(journal_map(path, &again, &err) < 0);
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_taken_found_again),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_not_a_journal),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
