/*
 * test_writer.c: ocitapd's store thread (inspect/ocitapd/writer.c) against a
 * real SQLite store in a temporary directory: a hook is answered "ok" only
 * once the commit holding its report has landed; a failing commit (made to
 * fail here by wrapping ocitap_store_commit at link time) is retried with
 * everything queued since, nothing it holds is acknowledged early, and the
 * record lands exactly once when the store works again; writer_stop()
 * writes what is still queued.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../inspect/ocitapd/log.h"
#include "../../inspect/ocitapd/writer.h"
#include "testutil.h"

/* ---- the store's commit, failing on demand (-Wl,--wrap=ocitap_store_commit) ---- */

int __real_ocitap_store_commit(struct ocitap_store *store, struct ocitap_error *err);
int __wrap_ocitap_store_commit(struct ocitap_store *store, struct ocitap_error *err);

static int failing_commits; /* how many commits fail from now on (atomic) */
static int commit_calls;

int __wrap_ocitap_store_commit(struct ocitap_store *store, struct ocitap_error *err)
{
	__atomic_fetch_add(&commit_calls, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&failing_commits, __ATOMIC_SEQ_CST) > 0) {
		__atomic_fetch_sub(&failing_commits, 1, __ATOMIC_SEQ_CST);
		return ocitap_error_set(err, -ENOSPC, NULL, "database or disk is full (test)");
	}
	return __real_ocitap_store_commit(store, err);
}

/* ---- fixture ---- */

struct fixture {
	char dir[64], db[96];
	struct ocitap_store *store;
	struct writer w;
	int commits_seen; /* the committed callback (atomic) */
	int peer[2];	  /* [0] the "hook", [1] the daemon's side the ack goes to */
};

static void on_committed(void *userdata)
{
	struct fixture *f = userdata;

	__atomic_fetch_add(&f->commits_seen, 1, __ATOMIC_SEQ_CST);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_writer-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/ocitap.db", f->dir);
	assert_int_equal(ocitap_store_open(f->db, 0, &f->store, NULL), 0);
	assert_int_equal(writer_init(&f->w, f->store, 0, on_committed, f), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->peer), 0);
	fcntl(f->peer[0], F_SETFL, O_NONBLOCK);
	failing_commits = 0;
	commit_calls = 0;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	writer_stop(&f->w);
	ocitap_store_close(f->store);
	close(f->peer[0]);
	close(f->peer[1]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* A hook's report: a hook event for id, answered on ack once durable. */
static struct wop *report(const char *id, struct writer_ack *ack)
{
	struct wop *op = wop_new(WOP_EVENT, id);

	op->kind_text = strdup(OCITAP_EVENT_HOOK);
	op->source = strdup("prestart");
	op->ev.from = OCITAP_PHASE_UNKNOWN;
	op->ev.to = OCITAP_PHASE_CREATING;
	op->ev.mono_ns = 1;
	op->ev.wall_ns = op->wall_ns;
	op->ack = ack;
	return op;
}

static int count_one(const struct ocitap_event *ev, void *userdata)
{
	(*(int *)userdata)++;
	return 0;
}

/* Events stored for id, read through a connection of its own. */
static int stored_events(struct fixture *f, const char *id)
{
	struct ocitap_store *ro;
	int n = 0;

	assert_int_equal(ocitap_store_open(f->db, OCITAP_STORE_READONLY, &ro, NULL), 0);
	assert_int_equal(ocitap_store_foreach_event(ro, id, 0, 0, count_one, &n, NULL), 0);
	ocitap_store_close(ro);
	return n;
}

/* What the hook reads now ("" when nothing has come). */
static void hook_reads(struct fixture *f, char *buf, size_t size)
{
	ssize_t n = recv(f->peer[0], buf, size - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
}

/* Wait (2 s at most) for acks to be back, as the loop sees them: the
 * eventfd is written only when the loop has an answer to send itself, so
 * the loop also looks (writer_has_acked()) after every round. */
static struct writer_ack *wait_acked(struct fixture *f)
{
	for (int i = 0; i < 200 && !writer_has_acked(&f->w); i++)
		usleep(10 * 1000);
	assert_true(writer_has_acked(&f->w));
	return writer_take_acked(&f->w);
}

static void test_ack_only_after_commit(void **state)
{
	struct fixture *f = *state;
	struct writer_ack ack = { .fd = f->peer[1] };
	struct writer_ack *back;
	struct writer_stats st;
	char buf[64];

	assert_int_equal(writer_start(&f->w), 0);
	usleep(50 * 1000); /* the thread waits for work */
	writer_push(&f->w, report("c1", &ack));
	usleep(100 * 1000);
	/* queued but not kicked: not written, not answered */
	hook_reads(f, buf, sizeof(buf));
	assert_string_equal(buf, "");
	assert_int_equal(stored_events(f, "c1"), 0);
	assert_false(writer_has_acked(&f->w));

	writer_kick(&f->w);
	back = wait_acked(f);
	assert_ptr_equal(back, &ack);
	assert_null(back->next);
	assert_int_equal(back->error, 0);
	assert_true(back->sent); /* the store thread answered it itself */
	hook_reads(f, buf, sizeof(buf));
	assert_string_equal(buf, OCITAP_REPORT_ACK);
	/* the answer came after the commit: the record is there */
	assert_int_equal(stored_events(f, "c1"), 1);
	assert_true(__atomic_load_n(&f->commits_seen, __ATOMIC_SEQ_CST) >= 1);
	writer_get_stats(&f->w, &st);
	assert_true(st.commits >= 1);
	assert_int_equal(st.failures, 0);
	assert_false(st.degraded);
}

static void test_failed_commit_retried_nothing_acked_early(void **state)
{
	struct fixture *f = *state;
	struct writer_ack a1 = { .fd = f->peer[1] }, a2 = { .fd = f->peer[1] };
	struct writer_ack *back;
	struct writer_stats st;
	char buf[64];
	int acks = 0;

	failing_commits = 1000; /* until told otherwise */
	assert_int_equal(writer_start(&f->w), 0);
	writer_push(&f->w, report("c2", &a1));
	writer_kick(&f->w);
	usleep(500 * 1000); /* a few retries (200 ms apart) */
	writer_get_stats(&f->w, &st);
	assert_true(st.degraded);
	assert_true(st.failures >= 2);
	assert_int_equal(st.commits, 0);
	hook_reads(f, buf, sizeof(buf));
	assert_string_equal(buf, ""); /* nothing acknowledged before it is durable */
	assert_false(writer_has_acked(&f->w));
	assert_int_equal(stored_events(f, "c2"), 0);

	/* what comes meanwhile joins the retried batch */
	writer_push(&f->w, report("c3", &a2));
	writer_kick(&f->w);
	usleep(300 * 1000);
	assert_int_equal(stored_events(f, "c3"), 0);

	__atomic_store_n(&failing_commits, 0, __ATOMIC_SEQ_CST); /* space is back */
	for (int i = 0; i < 2 && acks < 2; i++)
		for (back = wait_acked(f); back; back = back->next) {
			assert_int_equal(back->error, 0);
			assert_true(back->sent);
			acks++;
		}
	assert_int_equal(acks, 2);
	usleep(50 * 1000);
	hook_reads(f, buf, sizeof(buf));
	assert_string_equal(buf, OCITAP_REPORT_ACK OCITAP_REPORT_ACK);
	/* exactly once each, though the batch was tried many times */
	assert_int_equal(stored_events(f, "c2"), 1);
	assert_int_equal(stored_events(f, "c3"), 1);
	writer_get_stats(&f->w, &st);
	assert_false(st.degraded);
	assert_true(st.commits >= 1);
}

static void test_stop_writes_what_is_queued(void **state)
{
	struct fixture *f = *state;
	struct wop *op = wop_new(WOP_META, "push.cursor.test");

	assert_int_equal(writer_start(&f->w), 0);
	op->meta_value = strdup("42");
	writer_push(&f->w, op);
	writer_push(&f->w, report("c4", NULL));
	writer_stop(&f->w); /* no kick: stopping writes it all */
	assert_int_equal(stored_events(f, "c4"), 1);
	{
		char v[16] = "";

		assert_int_equal(ocitap_store_get_meta(f->store, "push.cursor.test", v, sizeof(v)), 0);
		assert_string_equal(v, "42");
	}
}

static void test_never_started_releases(void **state)
{
	struct fixture *f = *state;

	/* queued, never started: dropped, nothing leaks (valgrind, ASan), nothing written */
	writer_push(&f->w, report("c5", NULL));
	writer_stop(&f->w);
	assert_int_equal(stored_events(f, "c5"), 0);
	assert_int_equal(f->w.done_fd, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ack_only_after_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_commit_retried_nothing_acked_early, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_writes_what_is_queued, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_started_releases, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
