/*
 * lifecycle.h: the one state machine that turns observations from every
 * source (hook stages, the seccomp listener, notify-fd hang-up, pidfd exit,
 * eBPF) into a container's status transitions.
 *
 * Rules:
 *  - the phase only moves forward: creating < created < running < stopped;
 *    phases may be skipped (a missed hook is not an error);
 *  - the same phase seen again, from another source or the same one, is
 *    merged into the transition already recorded: it is not counted twice,
 *    its source is added, and the transition keeps the earliest time;
 *  - an observation of an earlier phase after a later one (a late created
 *    after stopped, a spooled hook replayed late) is an event, never a
 *    status change;
 *  - exit code, signal and OOM attach to the stopped transition whenever
 *    they arrive (before or after it).
 *
 * For hooks the stage decides, not the status string (runc and crun
 * disagree: docs/design/runtimes.md).
 */
#ifndef OCITAP_LIFECYCLE_H
#define OCITAP_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>

#include "bundle.h"
#include "error.h"
#include "state.h"

enum ocitap_phase {
	OCITAP_PHASE_UNKNOWN = 0,
	OCITAP_PHASE_CREATING,
	OCITAP_PHASE_CREATED,
	OCITAP_PHASE_RUNNING,
	OCITAP_PHASE_STOPPED,
	OCITAP_PHASE_COUNT,
};

/* "unknown", "creating", ... */
const char *ocitap_phase_to_string(enum ocitap_phase phase);
/* The phase a hook stage proves: prestart, createRuntime, createContainer ->
 * creating; startContainer -> created; poststart -> running; poststop -> stopped. */
enum ocitap_phase ocitap_phase_from_stage(enum ocitap_stage stage);
/* The phase a runtime's status string states (the listener message); UNKNOWN
 * for values outside the spec's four. */
enum ocitap_phase ocitap_phase_from_status(enum ocitap_status status);

/* Where an observation came from: a hook stage, or one of these. */
#define OCITAP_SOURCE_SECCOMP	"seccomp" /* listener message */
#define OCITAP_SOURCE_HANGUP	"hangup"  /* notify fd POLLHUP: every process gone */
#define OCITAP_SOURCE_PIDFD	"pidfd"	  /* init process exit */
#define OCITAP_SOURCE_BPF	"bpf"
#define OCITAP_SOURCE_NEXT_RUN	"next-run"  /* a new init under its id: this run is over */
#define OCITAP_SOURCE_INIT_GONE "init-gone" /* a restarted daemon found the init gone, unseen: exit unknown */

#define OCITAP_SOURCE_MAX 24

struct ocitap_observation {
	enum ocitap_phase phase;
	const char *source; /* a stage name or OCITAP_SOURCE_*; at most OCITAP_SOURCE_MAX - 1 bytes kept */
	int64_t mono_ns;    /* CLOCK_MONOTONIC of the observation */
	int64_t wall_ns;    /* CLOCK_REALTIME */
	bool has_exit;	    /* exit_code/signal valid */
	int exit_code;	    /* 0..255 when exited normally */
	int signal;	    /* > 0 when killed by a signal */
	bool oom;	    /* killed by the OOM killer */
};

struct ocitap_transition_rec {
	enum ocitap_phase from, to;
	int64_t mono_ns, wall_ns;	/* earliest observation of "to" */
	char source[OCITAP_SOURCE_MAX]; /* the first source that saw it */
	unsigned sources;		/* how many observations were merged into it */
};

struct ocitap_lifecycle {
	enum ocitap_phase phase;
	struct ocitap_transition_rec at[OCITAP_PHASE_COUNT]; /* at[p]: how phase p was reached (if reached) */
	bool reached[OCITAP_PHASE_COUNT];
	bool has_exit;
	int exit_code;
	int signal;
	bool oom;
	unsigned late_events; /* observations of a phase already passed */
};

enum ocitap_apply_result {
	OCITAP_APPLY_TRANSITION = 0, /* the phase moved forward: *ret is the new transition */
	OCITAP_APPLY_MERGED,	     /* same phase again: merged into at[phase] */
	OCITAP_APPLY_LATE,	     /* an earlier phase: recorded as an event only */
	OCITAP_APPLY_IGNORED,	     /* UNKNOWN phase with nothing to add */
};

void ocitap_lifecycle_init(struct ocitap_lifecycle *lc);

/*
 * Apply one observation. Returns an enum ocitap_apply_result (>= 0). On
 * OCITAP_APPLY_TRANSITION, *ret_transition (may be NULL) is set to the new
 * transition. Exit information is kept whatever the result.
 */
int ocitap_lifecycle_apply(struct ocitap_lifecycle *lc, const struct ocitap_observation *obs,
			   struct ocitap_transition_rec *ret_transition);

#endif
