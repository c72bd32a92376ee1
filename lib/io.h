/*
 * io.h: bounded reads and atomic writes.
 *
 * A hook must never hang on a runtime that keeps stdin open, and a peer must
 * never make us allocate without limit: every read here has a size bound and
 * a deadline. Files are replaced atomically (temporary file, fsync, rename,
 * fsync of the directory) so a crash leaves the old file or the new one,
 * never a torn one.
 */
#ifndef OCITAP_IO_H
#define OCITAP_IO_H

#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* Over the size bound, keep reading and discarding until EOF or the deadline,
 * so the writer never sees EPIPE/SIGPIPE; the result is still -EMSGSIZE. */
#define OCITAP_READ_DRAIN 0x1u

/*
 * Read fd to end of file into a new NUL-terminated buffer (*ret_buf, free()
 * it; *ret_len excludes the NUL). At most max_bytes are accepted: more is
 * -EMSGSIZE. timeout_ms < 0 waits forever; otherwise the whole read must end
 * within it, or -ETIMEDOUT. Works on blocking and non-blocking pipes, sockets,
 * ttys and regular files; the fd's flags are left alone. Outputs are set only
 * on success.
 */
OCITAP_EXPORT int ocitap_read_fd(int fd, size_t max_bytes, int timeout_ms, unsigned flags, char **ret_buf,
				 size_t *ret_len, struct ocitap_error *err);

/* Flags of ocitap_read_regular_file(). */
#define OCITAP_READ_NOFOLLOW 0x2u /* a symbolic link is refused (-ELOOP) */

/* Read a whole regular file, never blocking: opened O_NONBLOCK (a FIFO
 * cannot hold the open), then anything that is not a regular file (a FIFO,
 * a socket, a directory, a device) is -EINVAL, "not a regular file: a
 * FIFO", without a byte read. Files over max_bytes are -EMSGSIZE. The
 * message does not repeat the path. */
int ocitap_read_regular_file(const char *path, size_t max_bytes, unsigned flags, char **ret_buf, size_t *ret_len,
			     struct ocitap_error *err);

/* Read a whole file ("-" is stdin) with the same bounds. The message does not
 * repeat the path: the caller names the file when it reports. */
OCITAP_EXPORT int ocitap_read_file(const char *path, size_t max_bytes, int timeout_ms, char **ret_buf, size_t *ret_len,
				   struct ocitap_error *err);

/*
 * Replace path with exactly len bytes of buf, atomically and durably: write a
 * temporary file in the same directory, fsync it, rename it over path, fsync
 * the directory. On failure path is untouched and no temporary file remains.
 */
OCITAP_EXPORT int ocitap_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode,
					   struct ocitap_error *err);

#endif
