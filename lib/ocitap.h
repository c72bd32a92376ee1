/*
 * ocitap.h: the installed interface of libocitap, the SDK for OCI hooks and
 * seccomp agents written in C (docs/design/sdk.md):
 *
 *   error.h     struct ocitap_error and the error convention
 *   defaults.h  the default socket, state directory, HTTP address and their variables
 *   io.h        bounded reads with a deadline, atomic file writes
 *   state.h     OCI State and ContainerProcessState: parse, validate, write
 *   scm.h       the seccomp listener protocol (SCM_RIGHTS) on unix sockets,
 *               one message with fds, connect and listen
 *   bundle.h    the parts of a bundle's config.json ocitap needs
 *   report.h    the hook report ocitap hooks send to ocitapd
 *
 * Link with -locitap (pkg-config ocitap). Only the functions declared here are
 * exported. The daemon's internals (the store, the keeper protocol, policies,
 * hooks.d, /proc, runtimes, clocks, number parsing, ...) are not part of it:
 * programs inside the tree include them with ocitap-private.h.
 */
#ifndef OCITAP_H
#define OCITAP_H

#include "error.h"
#include "defaults.h"
#include "io.h"
#include "state.h"
#include "scm.h"
#include "bundle.h"
#include "report.h"

#endif
