/*
 * scm.c: receiving and sending a ContainerProcessState with its fds over a
 * unix stream socket (SCM_RIGHTS); one bounded message with fds for the
 * message-per-command protocols (the fd keeper's SOCK_SEQPACKET, sd_notify's
 * datagrams); connecting and listening on unix socket paths.
 */
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "clock.h"
#include "io.h"
#include "macro.h"
#include "scm.h"

/* The kernel passes at most SCM_MAX_FD (253) fds in one message. */
#define SCM_FDS_HARD_MAX OCITAP_SCM_MAX_FDS

void ocitap_scm_reader_init(struct ocitap_scm_reader *r, const struct ocitap_limits *lim)
{
	struct ocitap_limits dflt;

	if (!lim) {
		ocitap_limits_init(&dflt);
		lim = &dflt;
	}
	*r = (struct ocitap_scm_reader){ 0 };
	r->max_bytes = lim->max_bytes;
	r->max_fds = lim->max_fds > SCM_FDS_HARD_MAX ? SCM_FDS_HARD_MAX : lim->max_fds;
}

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

void ocitap_scm_reader_release(struct ocitap_scm_reader *r)
{
	if (!r)
		return;
	close_fds(r->fds, r->n_fds);
	free(r->fds);
	free(r->buf);
	r->fds = NULL;
	r->buf = NULL;
	r->n_fds = r->len = r->cap = 0;
}

/* Take the fds of every SCM_RIGHTS message in msg; close what does not fit. */
static int take_fds(struct ocitap_scm_reader *r, struct msghdr *msg, struct ocitap_error *err)
{
	int over = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		size_t n;
		int *in;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		if (c->cmsg_len < CMSG_LEN(0))
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		in = (int *)(void *)CMSG_DATA(c);
		if (r->n_fds + n > r->max_fds || over) {
			/* close by value what we will not keep */
			for (size_t i = 0; i < n; i++) {
				int fd;

				memcpy(&fd, in + i, sizeof(fd));
				if (fd >= 0)
					close(fd);
			}
			over = 1;
			continue;
		}
		if (n == 0)
			continue;
		{
			int *nfds = realloc(r->fds, (r->n_fds + n) * sizeof(int));

			if (!nfds) {
				for (size_t i = 0; i < n; i++) {
					int fd;

					memcpy(&fd, in + i, sizeof(fd));
					close(fd);
				}
				return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
			}
			r->fds = nfds;
		}
		memcpy(r->fds + r->n_fds, in, n * sizeof(int));
		r->n_fds += n;
	}
	if (over)
		return ocitap_error_set(err, -EMSGSIZE, "fds", "more than %zu fds sent", r->max_fds);
	return 0;
}

/*
 * Advance the scanner over newly received bytes. The message is complete when
 * the first top-level object or array closes. Input that cannot be JSON (a
 * first non-blank byte other than '{' or '[', or a stray closing bracket) also
 * completes it, so the parser refuses it now rather than at the deadline.
 */
static void scan_for_end(struct ocitap_scm_reader *r)
{
	for (; r->scanned < r->len && !r->complete; r->scanned++) {
		char c = r->buf[r->scanned];

		if (r->in_string) {
			if (r->escaped)
				r->escaped = false;
			else if (c == '\\')
				r->escaped = true;
			else if (c == '"')
				r->in_string = false;
			continue;
		}
		switch (c) {
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			break;
		case '"':
			r->in_string = true;
			if (!r->started)
				r->complete = true;
			break;
		case '{':
		case '[':
			r->depth++;
			r->started = true;
			break;
		case '}':
		case ']':
			if (--r->depth <= 0)
				r->complete = true;
			break;
		default:
			if (!r->started)
				r->complete = true;
			break;
		}
	}
}

int ocitap_scm_reader_read(struct ocitap_scm_reader *r, int sock, struct ocitap_error *err)
{
	/* room for one more fd than allowed, so "too many" is seen as such */
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * (SCM_FDS_HARD_MAX + 1))];
	} control;
	size_t control_len = CMSG_SPACE(sizeof(int) * (r->max_fds + 1));

	if (r->eof || r->complete)
		return 0;
	for (;;) {
		struct iovec iov;
		struct msghdr msg = { 0 };
		ssize_t n;
		int t;

		if (r->cap - r->len == 0) {
			/* grow towards max_bytes + 1: one byte past the bound proves overflow */
			size_t ncap = r->cap ? r->cap * 2 : 4096;
			char *nbuf;

			if (ncap > r->max_bytes + 1)
				ncap = r->max_bytes + 1;
			if (ncap <= r->cap)
				return ocitap_error_set(err, -EMSGSIZE, NULL,
							"message is larger than the limit of %zu bytes", r->max_bytes);
			nbuf = realloc(r->buf, ncap + 1);
			if (!nbuf)
				return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
			r->buf = nbuf;
			r->cap = ncap;
		}
		iov.iov_base = r->buf + r->len;
		iov.iov_len = r->cap - r->len;
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = control.buf;
		msg.msg_controllen = control_len;

		n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -EAGAIN;
			return ocitap_error_set(err, -errno, NULL, "receive failed: %m");
		}
		t = take_fds(r, &msg, err);
		if (msg.msg_flags & MSG_CTRUNC)
			return ocitap_error_set(err, -EMSGSIZE, "fds",
						"control message truncated: more than %zu fds, or not only fds, sent",
						r->max_fds);
		if (t < 0)
			return t;
		if (n == 0) {
			r->eof = true;
			r->buf[r->len] = '\0';
			return 0;
		}
		r->n_messages++;
		r->len += (size_t)n;
		scan_for_end(r);
		if (r->complete) {
			r->buf[r->len] = '\0';
			return 0;
		}
	}
}

int ocitap_scm_reader_finish(struct ocitap_scm_reader *r, unsigned flags, const struct ocitap_limits *lim,
			     struct ocitap_process_state *ret, int *ret_seccomp_fd, struct ocitap_error *err)
{
	struct ocitap_process_state ps;
	int idx, fd, rc;

	if (!r->eof && !r->complete) {
		ocitap_scm_reader_release(r);
		return ocitap_error_set(err, -EINVAL, NULL, "message not complete");
	}
	rc = ocitap_process_state_parse(r->buf ? r->buf : "", r->len, flags, lim, r->n_fds, &ps, err);
	if (rc < 0) {
		ocitap_scm_reader_release(r);
		return rc;
	}
	idx = ocitap_process_state_fd_index(&ps, OCITAP_SECCOMP_FD_NAME);
	if (idx < 0) {
		ocitap_process_state_release(&ps);
		ocitap_scm_reader_release(r);
		return ocitap_error_set(err, -ENOENT, "fds", "no fd named \"%s\"", OCITAP_SECCOMP_FD_NAME);
	}
	fd = r->fds[idx];
	r->fds[idx] = -1; /* handed out: release closes the rest */
	ocitap_scm_reader_release(r);
	*ret = ps;
	*ret_seccomp_fd = fd;
	return 0;
}

int ocitap_scm_recv_process_state(int sock, unsigned flags, const struct ocitap_limits *lim, int timeout_ms,
				  struct ocitap_process_state *ret, int *ret_seccomp_fd, struct ocitap_error *err)
{
	int64_t deadline = timeout_ms < 0 ? -1 : ocitap_mono_ms() + timeout_ms;
	struct ocitap_scm_reader r;
	int rc;

	ocitap_scm_reader_init(&r, lim);
	for (;;) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		int wait = -1;

		rc = ocitap_scm_reader_read(&r, sock, err);
		if (rc == 0)
			break;
		if (rc != -EAGAIN) {
			ocitap_scm_reader_release(&r);
			return rc;
		}
		if (deadline >= 0) {
			int64_t left = deadline - ocitap_mono_ms();

			if (left <= 0) {
				size_t got = r.len;

				ocitap_scm_reader_release(&r);
				return ocitap_error_set(
					err, -ETIMEDOUT, NULL,
					"peer did not finish its message within %d ms (%zu bytes received)", timeout_ms,
					got);
			}
			wait = left > INT32_MAX ? INT32_MAX : (int)left;
		}
		if (poll(&p, 1, wait) < 0 && errno != EINTR) {
			rc = -errno;
			ocitap_scm_reader_release(&r);
			return ocitap_error_set(err, rc, NULL, "poll failed: %s", strerror(-rc));
		}
	}
	return ocitap_scm_reader_finish(&r, flags, lim, ret, ret_seccomp_fd, err);
}

/* One sendmsg of buf with n_fds fds in an SCM_RIGHTS message: the bytes sent, or -errno (err set). */
static ssize_t sendmsg_fds(int sock, const void *buf, size_t len, const int *fds, size_t n_fds,
			   struct ocitap_error *err)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * SCM_FDS_HARD_MAX)];
	} control;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (n_fds > SCM_FDS_HARD_MAX)
		return ocitap_error_set(err, -EINVAL, "fds", "cannot send more than %d fds at once", SCM_FDS_HARD_MAX);
	if (len == 0 && n_fds > 0)
		return ocitap_error_set(err, -EINVAL, NULL, "fds need at least one byte of data to ride with");
	if (n_fds > 0) {
		struct cmsghdr *c;

		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return ocitap_error_set(err, -errno, NULL, "send failed: %m");
	return n;
}

int ocitap_scm_send(int sock, const void *buf, size_t len, const int *fds, size_t n_fds, struct ocitap_error *err)
{
	const char *p = buf;
	ssize_t n = sendmsg_fds(sock, buf, len, fds, n_fds, err);

	if (n < 0)
		return (int)n;
	p += n;
	len -= (size_t)n;
	while (len > 0) {
		n = send(sock, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pf = { .fd = sock, .events = POLLOUT };

				(void)poll(&pf, 1, -1);
				continue;
			}
			return ocitap_error_set(err, -errno, NULL, "send failed: %m");
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t ocitap_scm_recv_msg(int sock, void *buf, size_t size, int *fds, size_t max_fds, size_t *ret_n_fds,
			    unsigned flags, struct ocitap_error *err)
{
	/* room for one more fd than allowed, so "too many" is seen as such and not as MSG_CTRUNC */
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * (SCM_FDS_HARD_MAX + 1))];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf };
	size_t n_fds = 0, n_extra = 0;
	ssize_t n;

	*ret_n_fds = 0;
	if (max_fds > SCM_FDS_HARD_MAX)
		max_fds = SCM_FDS_HARD_MAX;
	msg.msg_controllen = CMSG_SPACE(sizeof(int) * (max_fds + 1));
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | (flags & OCITAP_SCM_NONBLOCK ? MSG_DONTWAIT : 0));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -EAGAIN;
		return ocitap_error_set(err, -errno, NULL, "receive failed: %m");
	}
	/* take every fd that came, by value, before deciding anything */
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		const unsigned char *data = CMSG_DATA(c);
		size_t count;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len < CMSG_LEN(0))
			continue;
		count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			int fd;

			memcpy(&fd, data + i * sizeof(int), sizeof(fd));
			if (fd < 0)
				continue;
			if (n_fds < max_fds) {
				fds[n_fds++] = fd;
			} else {
				close(fd);
				n_extra++;
			}
		}
	}
	if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || n_extra) {
		close_fds(fds, n_fds);
		if (msg.msg_flags & MSG_CTRUNC)
			return ocitap_error_set(err, -EMSGSIZE, "fds",
						"control message truncated (MSG_CTRUNC): more than %zu fds, or not "
						"only fds, sent; none kept",
						max_fds);
		if (n_extra)
			return ocitap_error_set(err, -EMSGSIZE, "fds", "%zu fds sent, more than the limit of %zu",
						n_fds + n_extra, max_fds);
		return ocitap_error_set(err, -EMSGSIZE, NULL,
					"message truncated (MSG_TRUNC): longer than the limit of %zu bytes", size);
	}
	*ret_n_fds = n_fds;
	return n;
}

int ocitap_scm_send_msg(int sock, const void *buf, size_t len, const int *fds, size_t n_fds, struct ocitap_error *err)
{
	ssize_t n = sendmsg_fds(sock, buf, len, fds, n_fds, err);

	if (n < 0)
		return (int)n;
	if ((size_t)n != len)
		return ocitap_error_set(err, -EMSGSIZE, NULL, "short send: %zd of %zu bytes", n, len);
	return 0;
}

static int fill_addr(const char *path, struct sockaddr_un *sa, struct ocitap_error *err)
{
	size_t n = strlen(path);

	if (n == 0)
		return ocitap_error_set(err, -EINVAL, NULL, "empty socket path");
	if (n >= sizeof(sa->sun_path))
		return ocitap_error_set(err, -ENAMETOOLONG, NULL, "socket path is %zu bytes, the limit is %zu: %s", n,
					sizeof(sa->sun_path) - 1, path);
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, n);
	return 0;
}

int ocitap_unix_connect(const char *path, struct ocitap_error *err)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa;
	int r;

	r = fill_addr(path, &sa, err);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot create a socket: %m");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot connect to %s: %m", path);
	return TAKE_FD(fd);
}

int ocitap_unix_listen(const char *path, mode_t mode, int backlog, struct ocitap_error *err)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa;
	struct stat st;
	int r;

	r = fill_addr(path, &sa, err);
	if (r < 0)
		return r;
	/* replace a stale socket, never anything else */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return ocitap_error_set(err, -EEXIST, NULL, "%s exists and is not a socket", path);
		if (unlink(path) < 0)
			return ocitap_error_set(err, -errno, NULL, "cannot remove the old socket %s: %m", path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot create a socket: %m");
	/* on Linux the socket inode's mode becomes the file's at bind: no window
	 * in which the socket is reachable with the umask's looser mode */
	if (fchmod(fd, mode) < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot set the mode of the socket: %m");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot bind %s: %m", path);
	if (chmod(path, mode) < 0) {
		r = -errno;
		unlink(path);
		return ocitap_error_set(err, r, NULL, "cannot set the mode of %s: %s", path, strerror(-r));
	}
	if (listen(fd, backlog) < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot listen on %s: %m", path);
	return TAKE_FD(fd);
}
