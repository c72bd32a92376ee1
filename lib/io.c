/*
 * io.c: reading with a size bound and a deadline, and writing files atomically.
 */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "clock.h"
#include "io.h"
#include "macro.h"
#include "spool.h"

/* Milliseconds left before deadline (-1: none); 0 once it has passed. */
static int remaining_ms(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - ocitap_mono_ms();
	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* Wait until fd is readable (or hung up). 0, -ETIMEDOUT, or -errno. */
static int wait_readable(int fd, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	for (;;) {
		int wait = remaining_ms(deadline);

		if (wait == 0 && deadline >= 0) {
			/* one last non-blocking look: data may already be there */
			r = poll(&p, 1, 0);
			return r > 0 ? 0 : -ETIMEDOUT;
		}
		r = poll(&p, 1, wait);
		if (r > 0)
			return 0;
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int drain(int fd, int64_t deadline)
{
	char sink[65536];

	for (;;) {
		ssize_t n;
		int r = wait_readable(fd, deadline);

		if (r < 0)
			return r;
		n = read(fd, sink, sizeof(sink));
		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
	}
}

int ocitap_read_fd(int fd, size_t max_bytes, int timeout_ms, unsigned flags, char **ret_buf, size_t *ret_len,
		   struct ocitap_error *err)
{
	int64_t deadline = timeout_ms < 0 ? -1 : ocitap_mono_ms() + timeout_ms;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	struct stat st;
	int r;

	if (max_bytes >= SIZE_MAX - 1)
		return ocitap_error_set(err, -EINVAL, NULL, "size bound too large");

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > max_bytes)
			return ocitap_error_set(err, -EMSGSIZE, NULL,
						"input is %jd bytes, more than the limit of %zu bytes",
						(intmax_t)st.st_size, max_bytes);
		cap = (size_t)st.st_size + 1;
	}
	if (cap < 4096)
		cap = 4096;
	if (cap > max_bytes + 1)
		cap = max_bytes + 1;
	buf = malloc(cap + 1);
	if (!buf)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");

	for (;;) {
		ssize_t n;

		if (len == cap) {
			/* grow by doubling, but never past max_bytes + 1: one byte
			 * beyond the bound is how an oversized input is detected */
			size_t ncap = cap > (max_bytes + 1) / 2 ? max_bytes + 1 : cap * 2;
			char *nbuf;

			if (ncap <= cap)
				break; /* len == max_bytes + 1: over the bound */
			nbuf = realloc(buf, ncap + 1);
			if (!nbuf)
				return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
			buf = nbuf;
			cap = ncap;
		}
		r = wait_readable(fd, deadline);
		if (r == -ETIMEDOUT)
			return ocitap_error_set(err, r, NULL, "input did not end within %d ms (%zu bytes read)",
						timeout_ms, len);
		if (r < 0)
			return ocitap_error_set(err, r, NULL, "cannot wait for input: %s", strerror(-r));
		n = read(fd, buf + len, cap - len);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return ocitap_error_set(err, -errno, NULL, "read failed: %m");
		}
		len += (size_t)n;
	}

	if (len > max_bytes) {
		if (flags & OCITAP_READ_DRAIN)
			(void)drain(fd, deadline);
		return ocitap_error_set(err, -EMSGSIZE, NULL, "input is larger than the limit of %zu bytes", max_bytes);
	}
	buf[len] = '\0';
	*ret_buf = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

int ocitap_read_file(const char *path, size_t max_bytes, int timeout_ms, char **ret_buf, size_t *ret_len,
		     struct ocitap_error *err)
{
	_cleanup_close_ int fd = -1;

	if (strcmp(path, "-") == 0)
		return ocitap_read_fd(STDIN_FILENO, max_bytes, timeout_ms, 0, ret_buf, ret_len, err);

	/* O_NONBLOCK so opening a FIFO nobody writes to cannot hang us; reads
	 * still go through poll with the deadline. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot open: %m");
	return ocitap_read_fd(fd, max_bytes, timeout_ms, 0, ret_buf, ret_len, err);
}

static const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	case S_IFDIR:
		return "a directory";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFLNK:
		return "a symbolic link";
	}
	return "of an unknown kind";
}

int ocitap_read_regular_file(const char *path, size_t max_bytes, unsigned flags, char **ret_buf, size_t *ret_len,
			     struct ocitap_error *err)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	/* before the open too: a socket cannot be opened at all (ENXIO) */
	if (((flags & OCITAP_READ_NOFOLLOW) ? lstat(path, &st) : stat(path, &st)) == 0 && !S_ISREG(st.st_mode) &&
	    !S_ISLNK(st.st_mode))
		return ocitap_error_set(err, -EINVAL, NULL, "not a regular file: %s", file_kind(st.st_mode));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (flags & OCITAP_READ_NOFOLLOW ? O_NOFOLLOW : 0));
	if (fd < 0 && errno == ELOOP && (flags & OCITAP_READ_NOFOLLOW))
		return ocitap_error_set(err, -ELOOP, NULL, "a symbolic link, not followed");
	if (fd < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot open: %m");
	if (fstat(fd, &st) < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot stat: %m");
	if (!S_ISREG(st.st_mode))
		return ocitap_error_set(err, -EINVAL, NULL, "not a regular file: %s", file_kind(st.st_mode));
	return ocitap_read_fd(fd, max_bytes, -1, 0, ret_buf, ret_len, err);
}

int ocitap_fsync_dir_of(const char *path)
{
	_cleanup_free_ char *dir = strdup(path);
	_cleanup_close_ int dfd = -1;
	char *slash;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fsync(dfd) < 0)
		return -errno;
	return 0;
}

int ocitap_write_temp_next_to(const char *path, const void *buf, size_t len, mode_t mode, char tmp[PATH_MAX],
			      struct ocitap_error *err)
{
	const char *p = buf;
	int fd, r, n;

	n = snprintf(tmp, PATH_MAX, "%s.tmp.XXXXXX", path); /* mkostemp's template */
	if (n < 0 || n >= PATH_MAX)
		return ocitap_error_set(err, -ENAMETOOLONG, NULL, "path too long: %s", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot create a temporary file next to %s: %m", path);
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r = ocitap_error_set(err, -errno, NULL, "cannot write %s: %m", tmp);
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	/* the mode asked for, whatever the umask took from mkostemp's 0600 */
	if (fchmod(fd, mode) < 0) {
		r = ocitap_error_set(err, -errno, NULL, "cannot set the mode of %s: %m", tmp);
		goto fail;
	}
	return fd;

fail:
	close(fd);
	unlink(tmp);
	return r;
}

int ocitap_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode, struct ocitap_error *err)
{
	char tmp[PATH_MAX];
	int fd, r;

	fd = ocitap_write_temp_next_to(path, buf, len, mode, tmp, err);
	if (fd < 0)
		return fd;
	if (fsync(fd) < 0) {
		r = ocitap_error_set(err, -errno, NULL, "cannot sync %s: %m", tmp);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = ocitap_error_set(err, -errno, NULL, "cannot close %s: %m", tmp);
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = ocitap_error_set(err, -errno, NULL, "cannot rename %s to %s: %m", tmp, path);
		goto fail;
	}
	r = ocitap_fsync_dir_of(path);
	if (r < 0)
		return ocitap_error_set(err, r, NULL, "cannot sync the directory of %s: %s", path, strerror(-r));
	return 0;

fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}
