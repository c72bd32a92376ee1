/*
 * scm.h: the seccomp listener protocol on a unix stream socket.
 *
 * The runtime connects to linux.seccomp.listenerPath, writes one
 * ContainerProcessState (possibly over several sendmsg calls, the fds riding
 * only with the first) and, says the spec, closes. In practice runc 1.1.5 and
 * crun 1.8.1 keep the connection open for as long as their process lives (a
 * foreground `runc run` lives as long as the container), so waiting for EOF
 * alone would deadlock a container that makes a notified syscall. The message
 * therefore ends at EOF or when one complete top-level JSON value has
 * arrived, whichever comes first.
 *
 * The receiver reads within bounds, takes the fds with MSG_CMSG_CLOEXEC,
 * refuses a truncated control message, matches the "fds" names to the fds
 * received and hands out the seccompFd. Every other fd, and every fd on every
 * error path, is closed by value.
 *
 * struct ocitap_scm_reader reads incrementally (for an epoll loop);
 * ocitap_scm_recv_process_state() is the blocking form with a deadline.
 */
#ifndef OCITAP_SCM_H
#define OCITAP_SCM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "error.h"
#include "state.h"

#define OCITAP_SECCOMP_FD_NAME "seccompFd"

struct ocitap_scm_reader {
	char *buf; /* bytes received so far */
	size_t len, cap;
	int *fds; /* fds received so far, owned until handed out */
	size_t n_fds;
	size_t max_bytes; /* from the limits given to init */
	size_t max_fds;
	size_t n_messages; /* recvmsg calls that returned data */
	bool eof;	   /* the peer closed its end */
	bool complete;	   /* one whole JSON value (or sure garbage) has arrived */
	/* scanner state: where a top-level JSON value ends, without parsing it */
	size_t scanned;
	int depth;
	bool started, in_string, escaped;
};

/* Start reading one message bounded by lim (NULL: defaults). Cannot fail. */
OCITAP_EXPORT void ocitap_scm_reader_init(struct ocitap_scm_reader *r, const struct ocitap_limits *lim);

/*
 * Read what sock has now, without blocking. Returns 0 once the message is
 * complete (EOF, or a whole JSON value received), -EAGAIN while more may come, or another negative
 * errno: -EMSGSIZE over the byte or fd bound or on MSG_CTRUNC, -ECONNRESET
 * and the like from the socket. After an error the reader holds nothing
 * worth keeping: release it.
 */
OCITAP_EXPORT int ocitap_scm_reader_read(struct ocitap_scm_reader *r, int sock, struct ocitap_error *err);

/*
 * Parse the complete message as a ContainerProcessState, check the fd names
 * against the fds received, and hand out the seccompFd: *ret_seccomp_fd is
 * the caller's. All other fds are closed. The reader is released either way.
 */
OCITAP_EXPORT int ocitap_scm_reader_finish(struct ocitap_scm_reader *r, unsigned flags, const struct ocitap_limits *lim,
					   struct ocitap_process_state *ret, int *ret_seccomp_fd,
					   struct ocitap_error *err);

/* Close every fd held and free the buffer. Safe to call twice. */
OCITAP_EXPORT void ocitap_scm_reader_release(struct ocitap_scm_reader *r);

/*
 * Blocking form: read sock to EOF within timeout_ms (< 0: no deadline), then
 * finish as above. sock may be blocking or not; its flags are left alone.
 */
OCITAP_EXPORT int ocitap_scm_recv_process_state(int sock, unsigned flags, const struct ocitap_limits *lim,
						int timeout_ms, struct ocitap_process_state *ret, int *ret_seccomp_fd,
						struct ocitap_error *err);

/*
 * Send len bytes with n_fds fds the way runc does: one sendmsg carrying the
 * data and an SCM_RIGHTS message, then plain sends for whatever a short
 * write left. Does not close sock or the fds. MSG_NOSIGNAL: a vanished peer
 * is -EPIPE, not a signal.
 */
OCITAP_EXPORT int ocitap_scm_send(int sock, const void *buf, size_t len, const int *fds, size_t n_fds,
				  struct ocitap_error *err);

/* Connect a new SOCK_STREAM|SOCK_CLOEXEC socket to path; returns the fd. */
OCITAP_EXPORT int ocitap_unix_connect(const char *path, struct ocitap_error *err);

/* Bind and listen on path (an existing socket file there is replaced), mode
 * applied to the socket file; returns the listening fd. */
OCITAP_EXPORT int ocitap_unix_listen(const char *path, mode_t mode, int backlog, struct ocitap_error *err);

#endif
