/*
 * ocitap.h: the public interface of libocitap, the core shared by the ocitap
 * hooks, the ocitapd daemon and the ocitap CLI.
 *
 *   error.h   struct ocitap_error and the error convention
 *   defaults.h  the default socket, state directory, HTTP address and their variables
 *   io.h      bounded reads with a deadline, atomic file writes
 *   state.h   OCI State and ContainerProcessState: parse, validate, write
 *   scm.h     the seccomp listener protocol (SCM_RIGHTS) on unix sockets
 *   bundle.h  the parts of a bundle's config.json ocitap needs
 *   lifecycle.h  the state machine ordering status transitions from all sources
 *   policy.h  seccomp notify policies: the policy file and listenerMetadata
 *   spool.h   hook reports kept on disk while ocitapd is away
 *   stage.h   which hook stage is running, told from the State and /proc
 *   hooksd.h  oci-hooks(5) files: read, validate, mask, order, match a bundle
 *   procinfo.h  a process as /proc shows it: namespaces, seccomp, capabilities, start time
 *   runtime.h runc and crun: their state/list output and state directories
 *   keeper.h  the messages between ocitapd and ocitap-fdkeeper
 *   proc.h    pidfds: how a process ended
 *   report.h  the hook report ocitap hooks send to ocitapd
 *   store.h   the durable record (SQLite, WAL): containers, events, notification counts
 *
 * Link with -locitap (pkg-config ocitap). Only ocitap_* symbols are exported.
 */
#ifndef OCITAP_H
#define OCITAP_H

#include "error.h"
#include "defaults.h"
#include "clock.h"
#include "io.h"
#include "state.h"
#include "scm.h"
#include "bundle.h"
#include "lifecycle.h"
#include "policy.h"
#include "store.h"
#include "report.h"
#include "proc.h"
#include "spool.h"
#include "stage.h"
#include "hooksd.h"
#include "procinfo.h"
#include "runtime.h"
#include "keeper.h"
#include "profile.h"
#include "query.h"

#endif
