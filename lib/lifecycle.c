/*
 * lifecycle.c: ordering observations into forward-only status transitions.
 */
#include <string.h>

#include "lifecycle.h"
#include "macro.h"

static const char *const phase_names[OCITAP_PHASE_COUNT] = {
	[OCITAP_PHASE_UNKNOWN] = "unknown", [OCITAP_PHASE_CREATING] = "creating", [OCITAP_PHASE_CREATED] = "created",
	[OCITAP_PHASE_RUNNING] = "running", [OCITAP_PHASE_STOPPED] = "stopped",
};

const char *ocitap_phase_to_string(enum ocitap_phase phase)
{
	if ((unsigned)phase >= OCITAP_PHASE_COUNT)
		return "unknown";
	return phase_names[phase];
}

enum ocitap_phase ocitap_phase_from_stage(enum ocitap_stage stage)
{
	switch (stage) {
	case OCITAP_STAGE_PRESTART:
	case OCITAP_STAGE_CREATE_RUNTIME:
	case OCITAP_STAGE_CREATE_CONTAINER:
		return OCITAP_PHASE_CREATING;
	case OCITAP_STAGE_START_CONTAINER:
		return OCITAP_PHASE_CREATED;
	case OCITAP_STAGE_POSTSTART:
		return OCITAP_PHASE_RUNNING;
	case OCITAP_STAGE_POSTSTOP:
		return OCITAP_PHASE_STOPPED;
	default:
		return OCITAP_PHASE_UNKNOWN;
	}
}

enum ocitap_phase ocitap_phase_from_status(enum ocitap_status status)
{
	switch (status) {
	case OCITAP_STATUS_CREATING:
		return OCITAP_PHASE_CREATING;
	case OCITAP_STATUS_CREATED:
		return OCITAP_PHASE_CREATED;
	case OCITAP_STATUS_RUNNING:
		return OCITAP_PHASE_RUNNING;
	case OCITAP_STATUS_STOPPED:
		return OCITAP_PHASE_STOPPED;
	default:
		return OCITAP_PHASE_UNKNOWN;
	}
}

void ocitap_lifecycle_init(struct ocitap_lifecycle *lc)
{
	memset(lc, 0, sizeof(*lc));
	lc->phase = OCITAP_PHASE_UNKNOWN;
}

static void copy_source(char dst[OCITAP_SOURCE_MAX], const char *src)
{
	size_t n = src ? strnlen(src, OCITAP_SOURCE_MAX - 1) : 0;

	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

static void take_exit(struct ocitap_lifecycle *lc, const struct ocitap_observation *obs)
{
	if (obs->has_exit && !lc->has_exit) {
		lc->has_exit = true;
		lc->exit_code = obs->exit_code;
		lc->signal = obs->signal;
	}
	if (obs->oom)
		lc->oom = true;
}

int ocitap_lifecycle_apply(struct ocitap_lifecycle *lc, const struct ocitap_observation *obs,
			   struct ocitap_transition_rec *ret_transition)
{
	enum ocitap_phase to = obs->phase;
	struct ocitap_transition_rec *t;

	take_exit(lc, obs);
	if (to <= OCITAP_PHASE_UNKNOWN || to >= OCITAP_PHASE_COUNT)
		return OCITAP_APPLY_IGNORED;

	if (to < lc->phase) {
		lc->late_events++;
		return OCITAP_APPLY_LATE;
	}
	t = &lc->at[to];
	if (to == lc->phase) {
		/* a second witness of the current phase: one transition, earliest time */
		t->sources++;
		if (obs->mono_ns < t->mono_ns) {
			t->mono_ns = obs->mono_ns;
			t->wall_ns = obs->wall_ns;
		}
		return OCITAP_APPLY_MERGED;
	}
	t->from = lc->phase;
	t->to = to;
	t->mono_ns = obs->mono_ns;
	t->wall_ns = obs->wall_ns;
	t->sources = 1;
	copy_source(t->source, obs->source);
	lc->reached[to] = true;
	lc->phase = to;
	if (ret_transition)
		*ret_transition = *t;
	return OCITAP_APPLY_TRANSITION;
}
