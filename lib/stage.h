/*
 * stage.h: which hook stage is running, when nobody said.
 *
 * An oci-hooks(5) file (podman, CRI-O) gives one path and one argument list
 * for all the stages it names, so a hook run from it cannot be told its
 * stage. The State on stdin and the processes around the hook still tell:
 *
 *   status                      pid   hook           stage
 *   stopped                     any   any            poststop
 *   running                     any   any            poststart
 *   starting (crun)             any   any            startContainer
 *   creating/created            0, 1  any            createContainer (creating, or crun's
 *                                                    pid 0), startContainer (runc: created, pid 1)
 *   creating/created            > 1   in the init's  createContainer (a container sharing the
 *                                     mount ns       host's pid namespace)
 *   created                     > 1   outside, init  poststart (runc 1.1 says "created"; its
 *                                     no longer a    init is "runc:[2:INIT]" or the program)
 *                                     runtime fork
 *   creating/created            > 1   outside        prestart or createRuntime: the same
 *                                                    moment, the same input; *ret_ambiguous
 *
 * runc and crun pass the pid as seen from inside the container (1) or 0
 * when the hook runs in the container's namespaces (docs/design/runtimes.md).
 */
#ifndef OCITAP_STAGE_H
#define OCITAP_STAGE_H

#include <stdbool.h>
#include <sys/types.h>

#include "bundle.h"
#include "error.h"
#include "state.h"

struct ocitap_stage_clues {
	bool inside;	      /* the hook shares the init's mount namespace */
	bool init_is_runtime; /* the init still runs the runtime's own code: same name as the hook's parent */
};

/* Look at /proc: the init (st->pid) against the hook itself and its parent. */
void ocitap_stage_clues_read(const struct ocitap_state *st, pid_t parent, struct ocitap_stage_clues *ret);
/*
 * The stage by the table above, or -EINVAL (a status that no stage sends,
 * such as "paused"). *ret_ambiguous (may be NULL) is set when the answer is
 * prestart but could as well be createRuntime.
 */
int ocitap_stage_infer(const struct ocitap_state *st, const struct ocitap_stage_clues *clues, bool *ret_ambiguous,
		       struct ocitap_error *err);

#endif
