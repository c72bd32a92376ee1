/*
 * ocitap-private.h: everything libocitap holds for the programs of this tree
 * (ocitapd, ocitap, ocitap-hook, ocitap-fdkeeper, the tests): the installed
 * interface (ocitap.h) and the modules that are not part of it. These are
 * never installed and their functions are not exported from libocitap.so;
 * they keep the ocitap_ prefix and may change in any release.
 *
 *   clock.h     the clocks in ns and ms, RFC 3339 both ways
 *   number.h    checked number parsing
 *   lifecycle.h the state machine ordering status transitions from all sources
 *   policy.h    seccomp notify policies: the policy file and listenerMetadata
 *   store.h     the durable record (SQLite, WAL): containers, events, notification counts
 *   proc.h      pidfds: how a process ended
 *   spool.h     hook reports kept on disk while ocitapd is away
 *   stage.h     which hook stage is running, told from the State and /proc
 *   hooksd.h    oci-hooks(5) files: read, validate, mask, order, match a bundle
 *   procinfo.h  a process as /proc shows it: namespaces, seccomp, capabilities, start time
 *   runtime.h   runc and crun: their state/list output and state directories
 *   keeper.h    the messages between ocitapd and ocitap-fdkeeper
 *   profile.h   seccomp profiles written from recorded syscalls, and where (profile-path.c)
 *   query.h     the filters of the HTTP API's lists
 *   names.h     a container's name, pod, namespace and manager; names and id prefixes as arguments
 *
 * event-json.h (store events as JSON, json-c in its interface), json-util.h
 * (the parsers' json-c helpers) and macro.h (cleanup attributes) are private
 * too; include them by name where needed.
 */
#ifndef OCITAP_PRIVATE_H
#define OCITAP_PRIVATE_H

#include "ocitap.h"

#include "clock.h"
#include "number.h"
#include "lifecycle.h"
#include "policy.h"
#include "store.h"
#include "proc.h"
#include "spool.h"
#include "stage.h"
#include "hooksd.h"
#include "procinfo.h"
#include "runtime.h"
#include "keeper.h"
#include "profile.h"
#include "query.h"
#include "nsid.h"
#include "names.h"

#endif
