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

/* ---- one message with fds: SOCK_SEQPACKET / SOCK_DGRAM protocols ---- */

/* The most fds one message carries (the kernel's SCM_MAX_FD). */
#define OCITAP_SCM_MAX_FDS 253

/* ocitap_scm_recv_msg() flags */
#define OCITAP_SCM_NONBLOCK 0x1u /* MSG_DONTWAIT: -EAGAIN when nothing is there */

/*
 * Receive one message of at most size bytes into buf and at most max_fds
 * (<= OCITAP_SCM_MAX_FDS) fds into fds[]. One recvmsg (EINTR retried), with
 * MSG_CMSG_CLOEXEC: every fd received is close-on-exec. Control messages
 * other than SCM_RIGHTS are ignored.
 *
 * Returns the number of bytes received (0: the peer closed, or an empty
 * datagram) with *ret_n_fds fds in fds[0..], the caller's to close. Errors
 * (err set, except for -EAGAIN): -EMSGSIZE when the data did not fit
 * (MSG_TRUNC), more than max_fds fds came, or the control message was cut
 * (MSG_CTRUNC: the sender passed more than the control buffer holds); the
 * message names which. -EAGAIN with OCITAP_SCM_NONBLOCK when no message is
 * waiting; -errno of recvmsg. On every error no fd received stays open and
 * *ret_n_fds is 0.
 */
OCITAP_EXPORT ssize_t ocitap_scm_recv_msg(int sock, void *buf, size_t size, int *fds, size_t max_fds, size_t *ret_n_fds,
					  unsigned flags, struct ocitap_error *err);

/*
 * Send len bytes and n_fds fds (<= OCITAP_SCM_MAX_FDS; fds need len >= 1) as
 * ONE sendmsg, with MSG_NOSIGNAL (a vanished peer is -EPIPE, not a signal).
 * On a stream socket a short write is an error (-EMSGSIZE), never half a
 * message followed by more: use ocitap_scm_send() for streams. Does not close
 * sock or the fds.
 */
OCITAP_EXPORT int ocitap_scm_send_msg(int sock, const void *buf, size_t len, const int *fds, size_t n_fds,
				      struct ocitap_error *err);

/* Connect a new SOCK_STREAM|SOCK_CLOEXEC socket to path; returns the fd. */
OCITAP_EXPORT int ocitap_unix_connect(const char *path, struct ocitap_error *err);

/* Bind and listen on path (an existing socket file there is replaced), mode
 * applied to the socket file; returns the listening fd. */
OCITAP_EXPORT int ocitap_unix_listen(const char *path, mode_t mode, int backlog, struct ocitap_error *err);

#endif
