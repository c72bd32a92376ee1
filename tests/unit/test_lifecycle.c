/*
 * test_lifecycle.c: the state machine under every ordering of the sources
 * that observe one container (hooks, listener, hang-up, pidfd), and the
 * single rules: forward only, duplicates merged, late phases as events, exit
 * information kept whenever it arrives.
 */
#include "ocitap-private.h"
#include "lifecycle.h"
#include "testutil.h"

#define MS 1000000LL

/* One runc container's life as ocitapd sees it, in real order. */
static const struct ocitap_observation life[] = {
	{ OCITAP_PHASE_CREATING, "prestart", 10 * MS, 0, false, 0, 0, false },
	{ OCITAP_PHASE_CREATING, "seccomp", 12 * MS, 0, false, 0, 0, false },
	{ OCITAP_PHASE_CREATING, "createContainer", 15 * MS, 0, false, 0, 0, false },
	{ OCITAP_PHASE_CREATED, "startContainer", 20 * MS, 0, false, 0, 0, false },
	{ OCITAP_PHASE_RUNNING, "poststart", 25 * MS, 0, false, 0, 0, false },
	{ OCITAP_PHASE_STOPPED, "hangup", 90 * MS, 0, false, 0, 0, false },
	{ OCITAP_PHASE_STOPPED, "pidfd", 91 * MS, 0, true, 3, 0, false },
	{ OCITAP_PHASE_STOPPED, "poststop", 95 * MS, 0, false, 0, 0, false },
};
#define N (sizeof(life) / sizeof(life[0]))

static unsigned long orderings;

static void check_ordering(const size_t *order)
{
	struct ocitap_lifecycle lc;
	enum ocitap_phase last = OCITAP_PHASE_UNKNOWN;
	unsigned transitions = 0, merged = 0, late = 0, expect_transitions = 0;
	enum ocitap_phase max = OCITAP_PHASE_UNKNOWN;

	ocitap_lifecycle_init(&lc);
	for (size_t i = 0; i < N; i++) {
		const struct ocitap_observation *o = &life[order[i]];
		struct ocitap_transition_rec t;
		int r = ocitap_lifecycle_apply(&lc, o, &t);

		if (o->phase > max) {
			max = o->phase;
			expect_transitions++;
		}
		switch (r) {
		case OCITAP_APPLY_TRANSITION:
			/* never backwards, never sideways */
			assert_true(t.to > last);
			assert_int_equal(t.from, last);
			assert_string_equal(t.source, o->source);
			last = t.to;
			transitions++;
			break;
		case OCITAP_APPLY_MERGED:
			assert_int_equal(o->phase, lc.phase);
			merged++;
			break;
		case OCITAP_APPLY_LATE:
			assert_true(o->phase < lc.phase);
			late++;
			break;
		default:
			fail_msg("unexpected result %d", r);
		}
		assert_int_equal(lc.phase, max);
	}
	assert_int_equal(transitions, expect_transitions);
	assert_int_equal(transitions + merged + late, N);
	assert_int_equal(lc.late_events, late);
	assert_int_equal(lc.phase, OCITAP_PHASE_STOPPED);
	/* stopped is reached once, from all three witnesses, at the earliest time */
	assert_int_equal(lc.at[OCITAP_PHASE_STOPPED].sources, 3);
	assert_int_equal(lc.at[OCITAP_PHASE_STOPPED].mono_ns, 90 * MS);
	/* the exit code arrives whatever the order */
	assert_true(lc.has_exit);
	assert_int_equal(lc.exit_code, 3);
	orderings++;
}

static void permute(size_t *a, size_t k)
{
	if (k == N) {
		check_ordering(a);
		return;
	}
	for (size_t i = k; i < N; i++) {
		size_t t = a[k];

		a[k] = a[i];
		a[i] = t;
		permute(a, k + 1);
		a[i] = a[k];
		a[k] = t;
	}
}

static void test_every_ordering(void **unused)
{
	size_t order[N];

	for (size_t i = 0; i < N; i++)
		order[i] = i;
	permute(order, 0);
	assert_int_equal(orderings, 40320); /* 8! */
}

static void test_in_order(void **unused)
{
	struct ocitap_lifecycle lc;
	struct ocitap_transition_rec t;
	const char *seen[8];
	int n = 0;

	ocitap_lifecycle_init(&lc);
	for (size_t i = 0; i < N; i++)
		if (ocitap_lifecycle_apply(&lc, &life[i], &t) == OCITAP_APPLY_TRANSITION)
			seen[n++] = ocitap_phase_to_string(t.to);
	assert_int_equal(n, 4);
	assert_string_equal(seen[0], "creating");
	assert_string_equal(seen[1], "created");
	assert_string_equal(seen[2], "running");
	assert_string_equal(seen[3], "stopped");
	assert_string_equal(lc.at[OCITAP_PHASE_CREATING].source, "prestart");
	assert_int_equal(lc.at[OCITAP_PHASE_CREATING].sources, 3);
	assert_int_equal(lc.at[OCITAP_PHASE_STOPPED].from, OCITAP_PHASE_RUNNING);
}

static void test_late_created_after_stopped(void **unused)
{
	struct ocitap_lifecycle lc;
	struct ocitap_observation stopped = { .phase = OCITAP_PHASE_STOPPED, .source = "hangup", .mono_ns = 5 };
	struct ocitap_observation created = { .phase = OCITAP_PHASE_CREATED, .source = "startContainer", .mono_ns = 1 };

	ocitap_lifecycle_init(&lc);
	assert_int_equal(ocitap_lifecycle_apply(&lc, &stopped, NULL), OCITAP_APPLY_TRANSITION);
	assert_int_equal(ocitap_lifecycle_apply(&lc, &created, NULL), OCITAP_APPLY_LATE);
	assert_int_equal(lc.phase, OCITAP_PHASE_STOPPED);
	assert_false(lc.reached[OCITAP_PHASE_CREATED]);
	assert_int_equal(lc.at[OCITAP_PHASE_STOPPED].from, OCITAP_PHASE_UNKNOWN);
}

static void test_exit_before_stopped_and_signal(void **unused)
{
	struct ocitap_lifecycle lc;
	struct ocitap_observation run = { .phase = OCITAP_PHASE_RUNNING, .source = "poststart" };
	struct ocitap_observation killed = {
		.phase = OCITAP_PHASE_UNKNOWN, .source = "pidfd", .has_exit = true, .signal = 9
	};
	struct ocitap_observation oom = { .phase = OCITAP_PHASE_UNKNOWN, .source = "bpf", .oom = true };
	struct ocitap_observation again = {
		.phase = OCITAP_PHASE_STOPPED, .source = "pidfd", .has_exit = true, .exit_code = 1
	};

	ocitap_lifecycle_init(&lc);
	assert_int_equal(ocitap_lifecycle_apply(&lc, &run, NULL), OCITAP_APPLY_TRANSITION);
	assert_int_equal(ocitap_lifecycle_apply(&lc, &killed, NULL), OCITAP_APPLY_IGNORED);
	assert_int_equal(ocitap_lifecycle_apply(&lc, &oom, NULL), OCITAP_APPLY_IGNORED);
	assert_true(lc.has_exit);
	assert_int_equal(lc.signal, 9);
	assert_true(lc.oom);
	/* the first exit report wins; a second one does not overwrite it */
	assert_int_equal(ocitap_lifecycle_apply(&lc, &again, NULL), OCITAP_APPLY_TRANSITION);
	assert_int_equal(lc.signal, 9);
	assert_int_equal(lc.exit_code, 0);
}

static void test_stage_and_status_mapping(void **unused)
{
	assert_int_equal(ocitap_phase_from_stage(OCITAP_STAGE_PRESTART), OCITAP_PHASE_CREATING);
	assert_int_equal(ocitap_phase_from_stage(OCITAP_STAGE_CREATE_RUNTIME), OCITAP_PHASE_CREATING);
	assert_int_equal(ocitap_phase_from_stage(OCITAP_STAGE_CREATE_CONTAINER), OCITAP_PHASE_CREATING);
	assert_int_equal(ocitap_phase_from_stage(OCITAP_STAGE_START_CONTAINER), OCITAP_PHASE_CREATED);
	assert_int_equal(ocitap_phase_from_stage(OCITAP_STAGE_POSTSTART), OCITAP_PHASE_RUNNING);
	assert_int_equal(ocitap_phase_from_stage(OCITAP_STAGE_POSTSTOP), OCITAP_PHASE_STOPPED);
	assert_int_equal(ocitap_phase_from_stage(OCITAP_STAGE_COUNT), OCITAP_PHASE_UNKNOWN);
	assert_int_equal(ocitap_phase_from_status(OCITAP_STATUS_OTHER), OCITAP_PHASE_UNKNOWN);
	assert_int_equal(ocitap_phase_from_status(OCITAP_STATUS_RUNNING), OCITAP_PHASE_RUNNING);
	assert_string_equal(ocitap_phase_to_string(42), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_ordering),
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_late_created_after_stopped),
		cmocka_unit_test(test_exit_before_stopped_and_signal),
		cmocka_unit_test(test_stage_and_status_mapping),
	};

	return cmocka_run_group_tests_name("lifecycle", tests, NULL, NULL);
}
