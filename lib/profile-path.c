/*
 * profile-path.c: where a container's io.containers.trace-syscall
 * annotation may make ocitapd write its seccomp profile and read its input
 * profile, and the opening, reading and replacing that keeps to it
 * (profile.h: struct ocitap_profile_rules). The annotation comes from
 * whoever created the container, and ocitapd runs as root: without these
 * rules it made root create files in /etc, overwrite any file, follow a
 * symbolic link the container planted in its rootfs into a host directory,
 * and copy a root-only file's syscall names into a world-readable one.
 *
 * The rules: a path lands under the profile directory or under a prefix
 * the operator allowed, never inside the container's rootfs or bundle; from
 * there on every component is opened with openat2() without following a
 * symbolic link or crossing a mount; every directory on the way is root's
 * (or ours) and writable by no one else; an existing file is replaced only
 * when ocitap wrote it (OCITAP_PROFILE_MARKER), through a temporary name
 * and a rename.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "io.h"
#include "json-util.h"
#include "macro.h"
#include "profile.h"

#define RESOLVE_STRICT (RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

/* Debian 12's glibc has no openat2() wrapper. -errno on failure. No
 * O_NOFOLLOW: RESOLVE_NO_SYMLINKS refuses a trailing link too, with ELOOP,
 * where O_NOFOLLOW | O_DIRECTORY would say ENOTDIR. */
static int openat2_strict(int dirfd, const char *name, int flags, mode_t mode)
{
	struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC),
				.mode = (flags & O_CREAT) ? mode : 0,
				.resolve = RESOLVE_STRICT };
	long fd = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

/* path is tree or beneath it (both normalised; component by component). */
static bool under(const char *path, const char *tree)
{
	size_t n = strlen(tree);

	while (n > 1 && tree[n - 1] == '/')
		n--;
	if (n == 1 && tree[0] == '/')
		return path[0] == '/';
	return strncmp(path, tree, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* path strictly beneath tree: something is left to open under it. */
static bool beneath(const char *path, const char *tree)
{
	size_t n = strlen(tree);

	return under(path, tree) && path[n] == '/' && path[n + 1] != '\0';
}

/* Repeated slashes collapsed (size bytes at most, PATH_MAX checked before). */
static void collapse(const char *src, char *dst, size_t size)
{
	size_t o = 0;

	for (const char *p = src; *p && o + 1 < size; p++)
		if (!(p[0] == '/' && p[1] == '/'))
			dst[o++] = *p;
	dst[o] = '\0';
}

static const char *const forbidden_names[] = { "rootfs", "bundle" };

int ocitap_profile_place(const struct ocitap_profile_rules *rules, const char *path, struct ocitap_profile_place *ret,
			 struct ocitap_error *err)
{
	struct ocitap_profile_place p = { 0 };
	char norm[PATH_MAX], real_base[PATH_MAX], real_tree[PATH_MAX], full[PATH_MAX];
	const char *base = NULL;
	int r = ocitap_profile_name_check(path, err);

	if (r < 0)
		return r;
	collapse(path, norm, sizeof(norm));
	if (norm[0] != '/') {
		if (!rules->dir)
			return ocitap_error_set(err, -EPERM, NULL,
						"\"%s\" is relative, and there is no profile directory", norm);
		base = rules->dir;
		p.in_dir = true;
		if ((size_t)snprintf(p.path, sizeof(p.path), "%s/%s", base, norm) >= sizeof(p.path))
			return ocitap_error_set(err, -ENAMETOOLONG, NULL, "the path is longer than %d bytes",
						PATH_MAX - 1);
	} else {
		if (rules->dir && beneath(norm, rules->dir)) {
			base = rules->dir;
			p.in_dir = true;
		}
		for (size_t i = 0; i < rules->n_allow; i++)
			if (beneath(norm, rules->allow[i]) && (!base || strlen(rules->allow[i]) > strlen(base))) {
				base = rules->allow[i];
				p.in_dir = false;
			}
		if (!base)
			return ocitap_error_set(err, -EPERM, NULL,
						"%s is outside the profile directory (%s) and every --profile-allow "
						"prefix: refused",
						norm, rules->dir ? rules->dir : "none");
		snprintf(p.path, sizeof(p.path), "%s", norm);
	}
	snprintf(p.base, sizeof(p.base), "%s", base);
	snprintf(p.rel, sizeof(p.rel), "%s", p.path + strlen(base) + (strcmp(base, "/") != 0));

	/* the container's own trees, as named and with their links resolved:
	 * what the container can change under ocitapd's feet */
	if (!realpath(p.base, real_base))
		real_base[0] = '\0';
	for (size_t i = 0; i < ELEMENTSOF(rules->forbidden); i++) {
		const char *tree = rules->forbidden[i];

		if (!tree || !*tree)
			continue;
		if (under(p.path, tree))
			return ocitap_error_set(err, -EPERM, NULL, "%s is inside the container's %s (%s): refused",
						p.path, forbidden_names[i], tree);
		if (!realpath(tree, real_tree))
			continue;
		if (under(p.path, real_tree) ||
		    (real_base[0] && (size_t)snprintf(full, sizeof(full), "%s/%s", real_base, p.rel) < sizeof(full) &&
		     under(full, real_tree)))
			return ocitap_error_set(err, -EPERM, NULL, "%s is inside the container's %s (%s): refused",
						p.path, forbidden_names[i], real_tree);
	}
	*ret = p;
	return 0;
}

/* An openat2() failure, said as a refusal when a rule made it. */
static int open_error(int r, const char *verb, const char *shown, struct ocitap_error *err)
{
	if (r == -ELOOP)
		return ocitap_error_set(err, -EPERM, NULL, "%s is a symbolic link: refused", shown);
	if (r == -EXDEV)
		return ocitap_error_set(err, -EPERM, NULL, "%s is on another mount: refused", shown);
	return ocitap_error_set(err, r, NULL, "cannot %s %s: %s", verb, shown, strerror(-r));
}

/* Root's (or ours), and nobody else may add, remove or rename in it (a
 * sticky directory of root's, like /tmp, lets nobody touch our files). */
static int dir_check(int fd, const char *shown, struct ocitap_error *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot stat %s: %s", shown, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return ocitap_error_set(err, -ENOTDIR, NULL, "%s is not a directory", shown);
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return ocitap_error_set(err, -EPERM, NULL, "%s belongs to uid %u, not root: refused", shown,
					(unsigned)st.st_uid);
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !((st.st_mode & S_ISVTX) && st.st_uid == 0))
		return ocitap_error_set(err, -EPERM, NULL, "%s is writable by other users: refused", shown);
	return 0;
}

/* The directory of place's file, opened from base component by component;
 * *ret_name: the file's name in it (points into place). */
static int open_parent(const struct ocitap_profile_place *place, bool create, int *ret_fd, const char **ret_name,
		       struct ocitap_error *err)
{
	_cleanup_close_ int fd = open(place->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const char *c = place->rel;
	char shown[PATH_MAX], comp[NAME_MAX + 1];
	int r;

	if (fd < 0 && errno == ENOENT && create && place->in_dir) {
		if (mkdir(place->base, 0755) < 0 && errno != EEXIST)
			return ocitap_error_set(err, -errno, NULL, "cannot create %s: %s", place->base,
						strerror(errno));
		fd = open(place->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot open %s: %s", place->base, strerror(errno));
	if ((r = dir_check(fd, place->base, err)) < 0)
		return r;
	for (const char *slash; (slash = strchr(c, '/')); c = slash + 1) {
		size_t len = (size_t)(slash - c);
		int next;

		if (len > NAME_MAX)
			return ocitap_error_set(err, -ENAMETOOLONG, NULL, "a component is longer than %d bytes",
						NAME_MAX);
		memcpy(comp, c, len);
		comp[len] = '\0';
		/* place->path ends with place->rel */
		snprintf(shown, sizeof(shown), "%.*s",
			 (int)(strlen(place->path) - strlen(place->rel) + (size_t)(slash - place->rel)), place->path);
		next = openat2_strict(fd, comp, O_RDONLY | O_DIRECTORY, 0);
		if (next == -ENOENT && create && place->in_dir) {
			if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST)
				return ocitap_error_set(err, -errno, NULL, "cannot create %s: %s", shown,
							strerror(errno));
			next = openat2_strict(fd, comp, O_RDONLY | O_DIRECTORY, 0);
		}
		if (next < 0)
			return open_error(next, "open", shown, err);
		close(fd);
		fd = next;
		if ((r = dir_check(fd, shown, err)) < 0)
			return r;
	}
	if (strlen(c) > NAME_MAX)
		return ocitap_error_set(err, -ENAMETOOLONG, NULL, "a component is longer than %d bytes", NAME_MAX);
	*ret_name = c;
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* 1: name exists and ocitap wrote it; 0: absent; -EPERM: not ours to replace. */
static int existing_is_ours(int dfd, const char *name, const char *shown, struct ocitap_error *err)
{
	_cleanup_close_ int fd = openat2_strict(dfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	_cleanup_(json_object_putp) json_object *o = NULL;
	_cleanup_free_ char *buf = NULL;
	struct ocitap_limits lim;
	struct stat st;
	size_t len = 0;

	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return open_error(fd, "open", shown, err);
	if (fstat(fd, &st) < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot stat %s: %s", shown, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return ocitap_error_set(err, -EPERM, NULL, "%s exists and is not a regular file: not replaced", shown);
	ocitap_limits_init(&lim);
	lim.max_bytes = OCITAP_PROFILE_IN_MAX;
	lim.max_depth = 32;
	if (st.st_size > OCITAP_PROFILE_IN_MAX ||
	    ocitap_read_fd(fd, OCITAP_PROFILE_IN_MAX, 1000, 0, &buf, &len, NULL) < 0 ||
	    ocitap_json_parse_object(buf, len, &lim, "a profile", &o, NULL) < 0 ||
	    !json_object_object_get_ex(o, OCITAP_PROFILE_MARKER, NULL))
		return ocitap_error_set(err, -EPERM, NULL,
					"%s exists and was not written by ocitap (no \"%s\" key): not replaced", shown,
					OCITAP_PROFILE_MARKER);
	return 1;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int ocitap_profile_write(const struct ocitap_profile_place *place, const char *json, size_t len, mode_t mode,
			 struct ocitap_error *err)
{
	static unsigned serial;
	_cleanup_close_ int dfd = -1, fd = -1;
	const char *name = NULL;
	char tmp[64];
	int r, ours;

	if ((r = open_parent(place, true, &dfd, &name, err)) < 0)
		return r;
	if ((ours = existing_is_ours(dfd, name, place->path, err)) < 0)
		return ours;
	for (int tries = 0; fd < 0; tries++) {
		snprintf(tmp, sizeof(tmp), ".ocitap-%d-%u-%ld.tmp", (int)getpid(),
			 __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED), (long)(ocitap_now_ms() % 1000000));
		fd = openat2_strict(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL, mode);
		if (fd == -EEXIST && tries < 8)
			continue;
		if (fd < 0)
			return open_error(fd, "create a temporary file beside", place->path, err);
	}
	r = write_all(fd, json, len);
	if (r == 0 && fchmod(fd, mode) < 0) /* the umask's say */
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dfd, tmp, 0);
		return ocitap_error_set(err, r, NULL, "cannot write %s: %s", place->path, strerror(-r));
	}
	/* absent when looked at: it must still be (nobody else writes here, but
	 * a second daemon might) */
	if ((ours ? renameat(dfd, tmp, dfd, name) : renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE)) < 0) {
		r = -errno;
		unlinkat(dfd, tmp, 0);
		if (r == -EEXIST)
			return ocitap_error_set(err, -EPERM, NULL, "%s appeared while it was written: not replaced",
						place->path);
		return ocitap_error_set(err, r, NULL, "cannot rename to %s: %s", place->path, strerror(-r));
	}
	if (fsync(dfd) < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot sync the directory of %s: %s", place->path,
					strerror(errno));
	return 0;
}

int ocitap_profile_read(const struct ocitap_profile_place *place, char **ret_json, size_t *ret_len, mode_t *ret_mode,
			struct ocitap_error *err)
{
	_cleanup_close_ int dfd = -1, fd = -1;
	_cleanup_free_ char *buf = NULL, *check = NULL;
	const char *name = NULL;
	struct stat st;
	size_t len = 0;
	int r;

	if ((r = open_parent(place, false, &dfd, &name, err)) < 0)
		return r;
	fd = openat2_strict(dfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0)
		return open_error(fd, "read", place->path, err);
	if (fstat(fd, &st) < 0)
		return ocitap_error_set(err, -errno, NULL, "cannot read %s: %s", place->path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return ocitap_error_set(err, -EINVAL, NULL, "%s is not a regular file", place->path);
	if (st.st_size > OCITAP_PROFILE_IN_MAX)
		return ocitap_error_set(err, -EFBIG, NULL, "%s is larger than %d bytes", place->path,
					OCITAP_PROFILE_IN_MAX);
	if (ret_json) {
		r = ocitap_read_fd(fd, OCITAP_PROFILE_IN_MAX, 1000, 0, &buf, &len, err);
		if (r < 0)
			return ocitap_error_prefix(err, "cannot read %s", place->path);
		if (ocitap_profile_build(NULL, buf, len, &check, err) < 0)
			return ocitap_error_prefix(err, "%s is not a seccomp profile", place->path);
		*ret_json = TAKE_PTR(buf);
		*ret_len = len;
	}
	if (ret_mode)
		*ret_mode = st.st_mode & 07777;
	return 0;
}
