/*
 * runtime-exec.c: an OCI runtime driven by its command line (runtime.h,
 * struct ocitap_runtime): state, list, create, start, kill, delete, each
 * with a deadline. For state and list the binary's own answer is the
 * authority on status (runc also knows "paused"); the state directory adds
 * what it does not print (the init's recorded start time, the cgroup) and
 * stands in when the binary is absent or fails. And the roots runtimes keep
 * their containers in on this host (runc's, crun's, runsc's, Docker's,
 * containerd's, rootless podman's).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "macro.h"
#include "runtime.h"

#define EXEC_TIMEOUT_MS 5000
#define MAX_OUTPUT	(16u << 20)

extern char **environ;

/*
 * Run BIN --root ROOT ARGS... with stdin closed and a deadline. *ret_out gets
 * stdout (NUL-terminated), err_line the first line of stderr. Returns the
 * exit status, -ENOENT when the binary is not there, -ETIMEDOUT (it is
 * killed), other -errno.
 */
/* Is path the program running now (ocitap-runtime installed as "runc", say)? */
static bool is_self(const char *path)
{
	struct stat a, b;

	return stat(path, &a) == 0 && stat("/proc/self/exe", &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int ocitap_runtime_which(const char *bin, bool not_self, char *buf, size_t size)
{
	const char *path = getenv("PATH");

	if (strchr(bin, '/')) {
		if (access(bin, X_OK) < 0)
			return -errno;
		if (not_self && is_self(bin))
			return -ELOOP;
		return snprintf(buf, size, "%s", bin) < (int)size ? 0 : -ENAMETOOLONG;
	}
	for (const char *p = path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	     *p;) {
		size_t n = strcspn(p, ":");

		if (n > 0 && snprintf(buf, size, "%.*s/%s", (int)n, p, bin) < (int)size && access(buf, X_OK) == 0 &&
		    !(not_self && is_self(buf)))
			return 0;
		p += n;
		if (*p == ':')
			p++;
	}
	return -ENOENT;
}

int ocitap_runtime_run(const struct ocitap_runtime *rt, const char *const *args, char **ret_out, size_t *ret_len,
		       char *err_line, size_t err_size)
{
	const char *argv[16];
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, status = 0, r = 0, n = 0;
	posix_spawn_file_actions_t fa;
	char *buf = NULL, ebuf[1024];
	size_t len = 0, elen = 0;
	int64_t deadline = ocitap_mono_ms() + EXEC_TIMEOUT_MS;
	pid_t pid;

	/* asked first: a failed exec is not always told apart from the program's own exit 127 */
	if (ocitap_runtime_which(rt->bin, false, (char[PATH_MAX]){ 0 }, PATH_MAX) < 0)
		return -ENOENT;
	argv[n++] = rt->bin;
	argv[n++] = "--root";
	argv[n++] = rt->root;
	for (; *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	err_line[0] = '\0';
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		r = -errno;
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	r = posix_spawnp(&pid, rt->bin, &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(errp[1]);
	out[1] = errp[1] = -1;
	if (r != 0) {
		r = -r;
		goto out;
	}
	for (int open_fds = 2; open_fds > 0;) {
		struct pollfd p[2] = { { out[0], POLLIN, 0 }, { errp[0], POLLIN, 0 } };
		int64_t left = deadline - ocitap_mono_ms();

		if (left <= 0 || poll(p, 2, (int)left) == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			r = -ETIMEDOUT;
			goto out;
		}
		if (p[0].revents) {
			char *nb = len + 65536 + 1 <= MAX_OUTPUT ? realloc(buf, len + 65536 + 1) : NULL;
			ssize_t got;

			if (!nb) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
				r = -EMSGSIZE;
				goto out;
			}
			buf = nb;
			got = read(out[0], buf + len, 65536);
			if (got <= 0) {
				close(out[0]);
				out[0] = -1;
				open_fds--;
			} else {
				len += (size_t)got;
			}
		}
		if (p[1].revents) {
			char tmp[4096];
			ssize_t got = read(errp[0], tmp, sizeof(tmp));

			if (got <= 0) {
				close(errp[0]);
				errp[0] = -1;
				open_fds--;
			} else { /* keep the first KiB */
				size_t keep =
					sizeof(ebuf) - 1 - elen < (size_t)got ? sizeof(ebuf) - 1 - elen : (size_t)got;

				memcpy(ebuf + elen, tmp, keep);
				elen += keep;
			}
		}
	}
	if (waitpid(pid, &status, 0) < 0) {
		r = -errno;
		goto out;
	}
	ebuf[elen] = '\0';
	ebuf[strcspn(ebuf, "\n")] = '\0';
	{
		size_t l = strlen(ebuf) < err_size ? strlen(ebuf) : err_size - 1;

		memcpy(err_line, ebuf, l);
		err_line[l] = '\0';
	}
	if (!buf && !(buf = calloc(1, 1))) {
		r = -ENOMEM;
		goto out;
	}
	buf[len] = '\0';
	*ret_out = buf;
	*ret_len = len;
	buf = NULL;
	r = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	free(buf);
	return r;
}

/* What only the state directory knows: the recorded start time, the cgroup, rootfs. */
static void add_dir_details(const struct ocitap_runtime *rt, struct ocitap_runtime_container *c)
{
	struct ocitap_runtime_container d;

	if (ocitap_runtime_read_dir(rt->name, rt->root, c->id, "/proc", &d, NULL) < 0)
		return;
	c->has_start = d.has_start;
	c->start_ticks = d.start_ticks;
	if (!c->cgroup)
		c->cgroup = d.cgroup, d.cgroup = NULL;
	if (!c->rootfs)
		c->rootfs = d.rootfs, d.rootfs = NULL;
	if (!c->pid && (!c->status || strcmp(c->status, "stopped") != 0))
		c->pid = d.pid;
	ocitap_runtime_container_release(&d);
}

/* runc list skips a container whose state file it cannot load (it says so
 * on stderr only): add what the state directory has that the list lacks,
 * with the reason it could not be read. */
static void add_unlisted(const struct ocitap_runtime *rt, struct ocitap_runtime_container **v, size_t *n)
{
	struct ocitap_runtime_container *dir = NULL, *p;
	size_t n_dir = 0;

	if (ocitap_runtime_list_dir(rt->name, rt->root, "/proc", &dir, &n_dir, NULL) < 0)
		return;
	for (size_t i = 0; i < n_dir; i++) {
		bool listed = false;

		for (size_t k = 0; k < *n && !listed; k++)
			listed = strcmp((*v)[k].id, dir[i].id) == 0;
		/* unreadable, or of another layout than the binary's (runsc's files in runc's root) */
		if (listed || (!dir[i].error && strcmp(dir[i].runtime, rt->name) == 0) ||
		    !(p = realloc(*v, (*n + 1) * sizeof(*p))))
			continue;
		*v = p;
		p[(*n)++] = dir[i];
		memset(&dir[i], 0, sizeof(dir[i])); /* moved */
	}
	ocitap_runtime_containers_free(dir, n_dir);
}

/* Why the binary did not answer: err, and its code. */
static int exec_failure(const struct ocitap_runtime *rt, const char *what, int r, const char *err_line,
			struct ocitap_error *err)
{
	if (r == -ENOENT)
		return ocitap_error_set(err, r, NULL, "%s: not installed", rt->bin);
	if (r < 0)
		return ocitap_error_set(err, r, NULL, "%s %s: %s", rt->bin, what, strerror(-r));
	return ocitap_error_set(err, -EIO, NULL, "%s %s: exit %d%s%s", rt->bin, what, r, err_line[0] ? ": " : "",
				err_line);
}

int ocitap_runtime_list(const struct ocitap_runtime *rt, struct ocitap_runtime_container **ret, size_t *ret_n,
			char *how, size_t how_size, struct ocitap_error *err)
{
	static const char *const args[] = { "list", "--format", "json", NULL };
	struct ocitap_error bin_err = { 0 }, dir_err = { 0 };
	_cleanup_free_ char *out = NULL;
	char err_line[256];
	size_t len;
	int r;

	if (access(rt->root, F_OK) < 0 && errno == ENOENT) /* nothing was ever run with this root */
		return ocitap_error_set(err, -ENOENT, NULL, "%s: no such directory", rt->root);
	r = ocitap_runtime_run(rt, args, &out, &len, err_line, sizeof(err_line));
	if (r == 0 && ocitap_runtime_parse_list(out, len, rt->name, ret, ret_n, &bin_err) == 0) {
		for (size_t i = 0; i < *ret_n; i++)
			add_dir_details(rt, &(*ret)[i]);
		add_unlisted(rt, ret, ret_n);
		snprintf(how, how_size, "%s list", rt->name);
		return 0;
	}
	if (r == 0)
		ocitap_error_prefix(&bin_err, "%s list", rt->bin);
	else
		exec_failure(rt, "list", r, err_line, &bin_err);
	if (ocitap_runtime_list_dir(rt->name, rt->root, "/proc", ret, ret_n, &dir_err) == 0) {
		snprintf(how, how_size, "%s (%s)", rt->root, bin_err.message);
		return 0;
	}
	return ocitap_error_set(err, dir_err.code, NULL, "%s; %s", bin_err.message, dir_err.message);
}

int ocitap_runtime_state(const struct ocitap_runtime *rt, const char *id, struct ocitap_runtime_container *ret,
			 char *how, size_t how_size, struct ocitap_error *err)
{
	const char *args[] = { "state", id, NULL };
	struct ocitap_error bin_err = { 0 }, dir_err = { 0 };
	_cleanup_free_ char *out = NULL;
	char err_line[256], path[4096];
	size_t len;
	int r;

	if (access(rt->root, F_OK) < 0 && errno == ENOENT)
		return ocitap_error_set(err, -ENOENT, NULL, "%s: no such directory", rt->root);
	r = ocitap_runtime_run(rt, args, &out, &len, err_line, sizeof(err_line));
	if (r == 0 && ocitap_runtime_parse_state(out, len, rt->name, ret, &bin_err) == 0) {
		add_dir_details(rt, ret);
		snprintf(how, how_size, "%s state", rt->name);
		return 0;
	}
	if (r == 0)
		ocitap_error_prefix(&bin_err, "%s state", rt->bin);
	else
		exec_failure(rt, "state", r, err_line, &bin_err);
	/* the binary does not know it: it is unknown unless its directory is there */
	snprintf(path, sizeof(path), "%s/%s", rt->root, id);
	if (strchr(id, '/'))
		return ocitap_error_set(err, -ENOENT, NULL, "%s: no container '%s'", rt->name, id);
	if (access(path, F_OK) < 0) {
		/* runsc's state file, in its own root or behind a wrapper in another's */
		if (ocitap_runtime_read_dir("runsc", rt->root, id, "/proc", ret, &dir_err) == 0) {
			snprintf(how, how_size, "%s (runsc's state file)", rt->root);
			return 0;
		}
		return ocitap_error_set(err, -ENOENT, NULL, "%s: no container '%s'", rt->name, id);
	}
	if (ocitap_runtime_read_dir(rt->name, rt->root, id, "/proc", ret, &dir_err) == 0) {
		snprintf(how, how_size, "%s/%s (%s)", rt->root, id, bin_err.message);
		return 0;
	}
	return ocitap_error_set(err, dir_err.code, NULL, "%s; %s", bin_err.message, dir_err.message);
}

/* A command whose output is not needed: 0, or err with its first stderr line. */
static int simple(const struct ocitap_runtime *rt, const char *what, const char *const *args, struct ocitap_error *err)
{
	_cleanup_free_ char *out = NULL;
	char err_line[256];
	size_t len;
	int r = ocitap_runtime_run(rt, args, &out, &len, err_line, sizeof(err_line));

	return r == 0 ? 0 : exec_failure(rt, what, r, err_line, err);
}

int ocitap_runtime_create(const struct ocitap_runtime *rt, const char *id, const char *bundle, const char *pid_file,
			  struct ocitap_error *err)
{
	const char *args[] = { "create",
			       "--bundle",
			       bundle,
			       pid_file ? "--pid-file" : id,
			       pid_file ? pid_file : NULL,
			       pid_file ? id : NULL,
			       NULL };

	return simple(rt, "create", args, err);
}

int ocitap_runtime_start(const struct ocitap_runtime *rt, const char *id, struct ocitap_error *err)
{
	const char *args[] = { "start", id, NULL };

	return simple(rt, "start", args, err);
}

int ocitap_runtime_kill(const struct ocitap_runtime *rt, const char *id, int sig, bool all, struct ocitap_error *err)
{
	char num[16];
	const char *args[] = { "kill", all ? "--all" : id, all ? id : num, all ? num : NULL, NULL };

	snprintf(num, sizeof(num), "%d", sig);
	return simple(rt, "kill", args, err);
}

int ocitap_runtime_delete(const struct ocitap_runtime *rt, const char *id, bool force, struct ocitap_error *err)
{
	const char *args[] = { "delete", force ? "--force" : id, force ? id : NULL, NULL };

	return simple(rt, "delete", args, err);
}

const char *ocitap_runtime_default_root(const char *name)
{
	if (strcmp(name, "crun") == 0)
		return "/run/crun";
	if (strcmp(name, "runsc") == 0)
		return "/var/run/runsc";
	return "/run/runc";
}

static const char *binary(const char *name)
{
	const char *env = strcmp(name, "crun") == 0    ? getenv("OCITAP_CRUN")
			  : strcmp(name, "runsc") == 0 ? getenv("OCITAP_RUNSC")
						       : getenv("OCITAP_RUNC");

	return env && *env ? env : name;
}

static int add_root(struct ocitap_runtimes *set, const char *label, const char *name, const char *root)
{
	struct ocitap_runtime *v;
	char *l = strdup(label), *r = strdup(root);

	if (!l || !r || !(v = realloc(set->v, (set->n + 1) * sizeof(*v)))) {
		free(l);
		free(r);
		return -ENOMEM;
	}
	set->v = v;
	v[set->n++] = (struct ocitap_runtime){ .name = name, .bin = binary(name), .root = r, .label = l };
	return 0;
}

/* Each directory PARENT/x/SUB (SUB may be ""), labelled LABEL/x. */
static void add_each(struct ocitap_runtimes *set, const char *label, const char *name, const char *parent,
		     const char *sub)
{
	struct dirent **names = NULL;
	int count = scandir(parent, &names, NULL, alphasort);

	for (int i = 0; i < count; i++) {
		char root[PATH_MAX], lab[PATH_MAX];
		struct stat st;

		snprintf(root, sizeof(root), "%s/%s%s%s", parent, names[i]->d_name, *sub ? "/" : "", sub);
		snprintf(lab, sizeof(lab), "%s/%s", label, names[i]->d_name);
		if (names[i]->d_name[0] != '.' && stat(root, &st) == 0 && S_ISDIR(st.st_mode))
			add_root(set, lab, name, root);
		free(names[i]);
	}
	free(names);
}

int ocitap_runtimes_find(struct ocitap_runtimes *set, const char *runc_root, const char *crun_root)
{
	*set = (struct ocitap_runtimes){ 0 };
	if (add_root(set, "runc", "runc", runc_root ? runc_root : "/run/runc") < 0 ||
	    add_root(set, "crun", "crun", crun_root ? crun_root : "/run/crun") < 0)
		goto oom;
	if (runc_root || crun_root) /* the operator named where to look */
		return 0;
	if (access("/var/run/runsc", F_OK) == 0 && add_root(set, "runsc", "runsc", "/var/run/runsc") < 0)
		goto oom;
	/* Docker: runtime-NAME/moby under its exec root, whichever runtime */
	add_each(set, "docker", "runc", "/run/docker", "moby");
	/* containerd's runc shim: one root per namespace */
	add_each(set, "containerd", "runc", "/run/containerd/runc", "");
	/* rootless podman: runc's and crun's roots under each user's runtime directory */
	add_each(set, "rootless-runc", "runc", "/run/user", "runc");
	add_each(set, "rootless-crun", "crun", "/run/user", "crun");
	return 0;
oom:
	ocitap_runtimes_release(set);
	return -ENOMEM;
}

void ocitap_runtimes_release(struct ocitap_runtimes *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free((char *)set->v[i].root);
		free((char *)set->v[i].label);
	}
	free(set->v);
	*set = (struct ocitap_runtimes){ 0 };
}
