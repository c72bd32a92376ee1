/*
 * cmd_inspect.c: `ocitap inspect ID`: one container as completely as this
 * machine can tell: the runtime's state and the bundle's config.json; the
 * timeline ocitap recorded (each transition, its source, the time since
 * the one before), the exit and the seccomp notifications; and the init
 * process as /proc shows it now, after checking that the pid still belongs
 * to the container (its start time against the one the runtime recorded).
 * Works with the daemon down (its store, read-only) and says which sources
 * answered.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "commands.h"
#include "records.h"
#include "runtimes.h"

/* ---- is the pid still the container's init? ---- */

enum pid_check {
	PID_NONE,	/* no pid to look at */
	PID_VERIFIED,	/* start time equals the runtime's record */
	PID_UNVERIFIED, /* alive, no recorded start time to compare, started before the container was created */
	PID_REUSED,	/* alive, but another process */
	PID_GONE,	/* no such process */
};

static const char *const pid_check_names[] = {
	[PID_NONE] = "none",	 [PID_VERIFIED] = "verified", [PID_UNVERIFIED] = "unverified",
	[PID_REUSED] = "reused", [PID_GONE] = "gone",
};

static enum pid_check check_pid(const char *proc_root, pid_t pid, const struct ocitap_runtime_container *rc,
				int64_t created_ns, char *detail, size_t size)
{
	uint64_t ticks;
	int64_t started;

	if (pid <= 0) {
		snprintf(detail, size, "no pid recorded");
		return PID_NONE;
	}
	if (ocitap_proc_start_ticks(proc_root, pid, &ticks) < 0) {
		snprintf(detail, size, "pid %d is gone", pid);
		return PID_GONE;
	}
	if (rc && rc->has_start && rc->pid == pid) {
		if (ticks == rc->start_ticks) {
			snprintf(detail, size, "start time %" PRIu64 " matches the %s record", ticks, rc->runtime);
			return PID_VERIFIED;
		}
		snprintf(detail, size,
			 "pid %d now belongs to another process: it started at tick %" PRIu64
			 ", the container's init at tick %" PRIu64,
			 pid, ticks, rc->start_ticks);
		return PID_REUSED;
	}
	/* no recorded start time: a process younger than the container is not its init */
	if (created_ns > 0 && ocitap_proc_start_wall_ns(proc_root, ticks, &started) == 0 &&
	    started > created_ns + 2000000000) {
		snprintf(detail, size, "pid %d started %.0f s after the container was created: another process", pid,
			 (double)(started - created_ns) / 1e9);
		return PID_REUSED;
	}
	snprintf(detail, size, "no recorded start time to compare (the runtime's state is gone)");
	return PID_UNVERIFIED;
}

/* ---- JSON of the parts ---- */

static struct json_object *strv_json(char *const *v, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static struct json_object *caps_json(uint64_t mask)
{
	struct json_object *a = json_object_new_array();

	for (unsigned bit = 0; bit < 64; bit++)
		if (mask & (UINT64_C(1) << bit)) {
			char name[16];

			if (!ocitap_cap_name(bit))
				snprintf(name, sizeof(name), "CAP_%u", bit);
			json_object_array_add(
				a, json_object_new_string(ocitap_cap_name(bit) ? ocitap_cap_name(bit) : name));
		}
	return a;
}

static struct json_object *unreadable(int error)
{
	return json_object_new_string(strerror(-error));
}

static struct json_object *process_json(const struct ocitap_proc_info *p, const struct ocitap_proc_info *host)
{
	struct json_object *o = json_object_new_object(), *ns = json_object_new_object(),
			   *errs = json_object_new_object();

	json_object_object_add(o, "pid", json_object_new_int(p->pid));
	if (!p->stat_error) {
		char state[2] = { p->state, 0 };

		json_object_object_add(o, "comm", json_object_new_string(p->comm));
		json_object_object_add(o, "state", json_object_new_string(state));
		json_object_object_add(o, "ppid", json_object_new_int(p->ppid));
		json_object_object_add(o, "startTicks", json_object_new_int64((int64_t)p->start_ticks));
	} else {
		json_object_object_add(errs, "stat", unreadable(p->stat_error));
	}
	if (!p->cmdline_error)
		json_object_object_add(o, "cmdline", strv_json(p->argv, p->argc));
	else
		json_object_object_add(errs, "cmdline", unreadable(p->cmdline_error));
	if (!p->status_error) {
		struct json_object *caps = json_object_new_object(), *ids = json_object_new_object();

		json_object_object_add(o, "seccomp", json_object_new_string(ocitap_seccomp_mode_name(p->seccomp)));
		json_object_object_add(o, "seccompFilters",
				       p->seccomp_filters >= 0 ? json_object_new_int(p->seccomp_filters) : NULL);
		json_object_object_add(o, "noNewPrivileges",
				       p->no_new_privs >= 0 ? json_object_new_boolean(p->no_new_privs) : NULL);
		if (p->has_caps) {
			json_object_object_add(caps, "effective", caps_json(p->cap_eff));
			json_object_object_add(caps, "permitted", caps_json(p->cap_prm));
			json_object_object_add(caps, "inheritable", caps_json(p->cap_inh));
			json_object_object_add(caps, "bounding", caps_json(p->cap_bnd));
			json_object_object_add(caps, "ambient", caps_json(p->cap_amb));
		}
		json_object_object_add(o, "capabilities", caps);
		if (p->has_ids) {
			struct json_object *u = json_object_new_array(), *g = json_object_new_array();

			for (int i = 0; i < 4; i++) {
				json_object_array_add(u, json_object_new_int64(p->uid[i]));
				json_object_array_add(g, json_object_new_int64(p->gid[i]));
			}
			json_object_object_add(ids, "uid", u); /* real, effective, saved, filesystem */
			json_object_object_add(ids, "gid", g);
		}
		json_object_object_add(o, "ids", ids);
	} else {
		json_object_object_add(errs, "status", unreadable(p->status_error));
	}
	for (int i = 0; i < OCITAP_PROC_N_NS; i++) {
		struct json_object *n = json_object_new_object();

		if (p->ns[i].error) {
			json_object_object_add(errs, p->ns[i].name, unreadable(p->ns[i].error));
			json_object_put(n);
			continue;
		}
		json_object_object_add(n, "inode", json_object_new_int64((int64_t)p->ns[i].inode));
		json_object_object_add(n, "host",
				       host && !host->ns[i].error
					       ? json_object_new_boolean(host->ns[i].inode == p->ns[i].inode)
					       : NULL);
		json_object_object_add(ns, p->ns[i].name, n);
	}
	json_object_object_add(o, "namespaces", ns);
	if (!p->cgroup_error)
		json_object_object_add(o, "cgroup", json_object_new_string(p->cgroup));
	else
		json_object_object_add(errs, "cgroup", unreadable(p->cgroup_error));
	if (!p->maps_error) {
		json_object_object_add(o, "uidMap", json_object_new_string(p->uid_map));
		json_object_object_add(o, "gidMap", json_object_new_string(p->gid_map));
	} else {
		json_object_object_add(errs, "maps", unreadable(p->maps_error));
	}
	json_object_object_add(o, "unreadable", errs);
	return o;
}

static struct json_object *bundle_json(const char *bundle, const struct ocitap_config *cfg, const char *error)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "path", bundle ? json_object_new_string(bundle) : NULL);
	if (error) {
		json_object_object_add(o, "error", json_object_new_string(error));
		return o;
	}
	if (!cfg)
		return o;
	{
		struct json_object *ann = json_object_new_object(), *hooks = json_object_new_object();

		json_object_object_add(o, "ociVersion",
				       cfg->oci_version ? json_object_new_string(cfg->oci_version) : NULL);
		json_object_object_add(o, "args", cfg->args ? strv_json((char *const *)cfg->args, cfg->n_args) : NULL);
		for (size_t i = 0; i < cfg->n_annotations; i++)
			json_object_object_add(
				ann, cfg->annotations[i].key,
				json_object_new_string(cfg->annotations[i].value ? cfg->annotations[i].value : ""));
		json_object_object_add(o, "annotations", ann);
		for (int s = 0; s < OCITAP_STAGE_COUNT; s++) {
			struct json_object *list = json_object_new_array();

			for (size_t k = 0; k < cfg->n_hooks[s]; k++)
				json_object_array_add(list, json_object_new_string(cfg->hooks[s][k].path));
			if (cfg->n_hooks[s])
				json_object_object_add(hooks, ocitap_stage_to_string(s), list);
			else
				json_object_put(list);
		}
		json_object_object_add(o, "hooks", hooks);
		if (cfg->has_seccomp) {
			struct json_object *sc = json_object_new_object();

			json_object_object_add(sc, "defaultAction",
					       cfg->seccomp.default_action
						       ? json_object_new_string(cfg->seccomp.default_action)
						       : NULL);
			json_object_object_add(
				sc, "listenerPath",
				cfg->seccomp.listener_path ? json_object_new_string(cfg->seccomp.listener_path) : NULL);
			json_object_object_add(sc, "rules", json_object_new_int64((int64_t)cfg->seccomp.n_rules));
			json_object_object_add(o, "seccomp", sc);
		}
	}
	return o;
}

static struct json_object *runtime_json(const struct ocitap_runtime_container *rc)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(rc->runtime));
	json_object_object_add(o, "status", rc->status ? json_object_new_string(rc->status) : NULL);
	json_object_object_add(o, "pid", rc->pid > 0 ? json_object_new_int(rc->pid) : NULL);
	json_object_object_add(o, "created", rc->created ? json_object_new_string(rc->created) : NULL);
	json_object_object_add(o, "rootfs", rc->rootfs ? json_object_new_string(rc->rootfs) : NULL);
	json_object_object_add(o, "cgroup", rc->cgroup ? json_object_new_string(rc->cgroup) : NULL);
	json_object_object_add(o, "initStartTicks",
			       rc->has_start ? json_object_new_int64((int64_t)rc->start_ticks) : NULL);
	return o;
}

/* ---- for people ---- */

static void heading(const char *title)
{
	printf("\n%s%s%s\n", cli_sgr(CLI_BOLD), title, CLI_RESET);
}

static void print_caps(const char *label, uint64_t mask)
{
	char buf[2048];

	ocitap_caps_format(mask, " ", buf, sizeof(buf));
	printf("  %-11s %s\n", label, mask == 0 ? "(none)" : buf);
}

/* "         0          0 4294967295\n" -> "0 0 4294967295"; lines joined with "; " */
static void squeeze(const char *in, char *out, size_t size)
{
	size_t n = 0;
	bool space = false;

	for (; *in && n + 3 < size; in++) {
		if (*in == '\n') {
			if (in[1] && n + 3 < size) {
				out[n++] = ';';
				out[n++] = ' ';
			}
			space = false;
		} else if (*in == ' ' || *in == '\t') {
			space = n > 0 && out[n - 1] != ' ';
		} else {
			if (space)
				out[n++] = ' ';
			space = false;
			out[n++] = *in;
		}
	}
	out[n] = '\0';
}

static void print_process(const struct ocitap_proc_info *p, const struct ocitap_proc_info *host)
{
	if (!p->cmdline_error) {
		printf("  %-11s", "cmdline");
		for (size_t i = 0; i < p->argc; i++)
			printf(" %s", p->argv[i]);
		putchar('\n');
	}
	if (!p->stat_error)
		printf("  %-11s %c (%s), parent %d\n", "state", p->state, p->comm, p->ppid);
	if (!p->cgroup_error)
		printf("  %-11s %s\n", "cgroup", p->cgroup);
	if (!p->status_error) {
		printf("  %-11s %s", "seccomp", ocitap_seccomp_mode_name(p->seccomp));
		if (p->seccomp_filters >= 0)
			printf(" (%d filter%s)", p->seccomp_filters, p->seccomp_filters == 1 ? "" : "s");
		printf(", NoNewPrivs %s\n", p->no_new_privs < 0 ? "unknown" : p->no_new_privs ? "yes" : "no");
		if (p->has_caps) {
			print_caps("effective", p->cap_eff);
			if (p->cap_prm != p->cap_eff)
				print_caps("permitted", p->cap_prm);
			print_caps("bounding", p->cap_bnd);
			if (p->cap_inh)
				print_caps("inheritable", p->cap_inh);
			if (p->cap_amb)
				print_caps("ambient", p->cap_amb);
		}
		if (p->has_ids)
			printf("  %-11s uid %ld/%ld/%ld/%ld gid %ld/%ld/%ld/%ld (real/effective/saved/fs)\n", "ids",
			       p->uid[0], p->uid[1], p->uid[2], p->uid[3], p->gid[0], p->gid[1], p->gid[2], p->gid[3]);
	}
	if (!p->maps_error) {
		char u[128], g[128];

		squeeze(p->uid_map, u, sizeof(u));
		squeeze(p->gid_map, g, sizeof(g));
		printf("  %-11s uid %s, gid %s%s\n", "id maps", u, g,
		       strcmp(u, "0 0 4294967295") == 0 ? " (no user namespace)" : "");
	}
	printf("  %-11s", "namespaces");
	for (int i = 0; i < OCITAP_PROC_N_NS; i++) {
		if (p->ns[i].error)
			continue;
		if (host && !host->ns[i].error && host->ns[i].inode == p->ns[i].inode)
			printf(" %s%s:host%s", cli_sgr(CLI_DIM), p->ns[i].name, CLI_RESET); /* ocitap's own */
		else
			printf(" %s:%" PRIu64, p->ns[i].name, p->ns[i].inode);
	}
	putchar('\n');
	{
		const char *parts[] = { "stat", "status", "cgroup", "id maps", "cmdline" };
		int errs[] = { p->stat_error, p->status_error, p->cgroup_error, p->maps_error, p->cmdline_error };

		for (size_t i = 0; i < 5; i++)
			if (errs[i])
				printf("  %-11s %sunreadable: %s%s\n", parts[i], cli_sgr(CLI_YELLOW),
				       strerror(-errs[i]), CLI_RESET);
	}
}

static void print_timeline(struct json_object *record)
{
	struct json_object *tl, *notes;
	size_t n;

	heading("timeline (ocitap)");
	if (!json_object_object_get_ex(record, "timeline", &tl) || !(n = json_object_array_length(tl))) {
		printf("  nothing recorded\n");
	} else {
		for (size_t i = 0; i < n; i++) {
			struct json_object *ev = json_object_array_get_idx(tl, i), *v;
			const char *kind = cli_json_string(ev, "kind"), *when = cli_json_string(ev, "time");
			char since[32] = "";

			if (json_object_object_get_ex(ev, "sincePreviousSeconds", &v))
				snprintf(since, sizeof(since), "+%.3fs", json_object_get_double(v));
			printf("  %-6" PRId64 " %-31s %-10s %-8s -> %-8s %-16s %s",
			       json_object_get_int64(json_object_object_get(ev, "seq")), when ? when : "-",
			       kind ? kind : "?", cli_json_string(ev, "from") ? cli_json_string(ev, "from") : "-",
			       cli_json_string(ev, "to") ? cli_json_string(ev, "to") : "-",
			       cli_json_string(ev, "source") ? cli_json_string(ev, "source") : "-", since);
			if (json_object_object_get_ex(ev, "exitCode", &v)) {
				int sig = json_object_get_int(json_object_object_get(ev, "signal"));

				printf(sig ? "  signal %d" : "  exit %d", sig ? sig : json_object_get_int(v));
			}
			putchar('\n');
		}
	}
	if (json_object_object_get_ex(record, "notifications", &notes) && (n = json_object_array_length(notes))) {
		heading("seccomp notifications");
		for (size_t i = 0; i < n; i++) {
			struct json_object *x = json_object_array_get_idx(notes, i);

			printf("  %-20s %-10s %" PRId64 "\n",
			       cli_json_string(x, "syscall") ? cli_json_string(x, "syscall") : "?",
			       cli_json_string(x, "action") ? cli_json_string(x, "action") : "?",
			       json_object_get_int64(json_object_object_get(x, "count")));
		}
	}
}

/* ---- the command ---- */

static void usage(FILE *out)
{
	fprintf(out, "usage: ocitap inspect ID [--json] [--http ADDR] [--state-dir DIR] [--runc-root DIR]\n"
		     "                      [--crun-root DIR] [--proc-root DIR]\n"
		     "\n"
		     "One container: the runtime's state and the bundle; the timeline ocitap recorded (each\n"
		     "transition, its source, the time since the previous one), exit code, signal or OOM\n"
		     "kill, seccomp notification counts; and the init process from /proc: namespaces,\n"
		     "cgroup, seccomp mode and filters, NoNewPrivs, capabilities, ids and id maps, command\n"
		     "line. The pid is checked first: its start time must be the one the runtime recorded,\n"
		     "else it is reported as reused (or gone) and not shown. Works with ocitapd down (its\n"
		     "store, read-only) and says which sources answered.\n"
		     "\n" CLI_JSON_HELP CLI_SOURCE_HELP
		     "      --proc-root DIR    read processes from DIR instead of /proc (a captured copy)\n"
		     "  -h, --help             this text\n"
		     "\n"
		     "Exit status: 0; 1 when the sources could not be read; 2 on a bad command line;\n"
		     "3 when no source knows the container.\n");
}

int cmd_inspect(int argc, char **argv)
{
	enum { OPT_PROC_ROOT = 256 };
	static const struct option options[] = {
		CLI_SOURCE_OPTIONS,
		{ "proc-root", required_argument, NULL, OPT_PROC_ROOT },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	_cleanup_(cli_http_release) struct cli_http http = { 0 };
	_cleanup_(json_object_putp) struct json_object *record = NULL;
	_cleanup_(ocitap_runtime_container_release) struct ocitap_runtime_container rc = { 0 };
	_cleanup_(ocitap_config_release) struct ocitap_config cfg = { 0 };
	_cleanup_(ocitap_proc_info_release) struct ocitap_proc_info proc = { 0 };
	_cleanup_(ocitap_proc_info_release) struct ocitap_proc_info host = { 0 };
	struct ocitap_error err = { 0 }, rec_err = { 0 }, rt_err = { 0 };
	struct runtime_source rts[2];
	struct cli_sources src;
	char rec_how[1024] = "", rt_how[768] = "", bundle_err[600] = "", pid_why[256] = "";
	const char *proc_root = "/proc", *id, *bundle = NULL;
	bool have_rc = false, have_cfg = false, have_proc = false, have_host = false;
	enum pid_check check = PID_NONE;
	int opt, r, rec_r;
	int64_t created_ns = 0;
	pid_t pid = 0;

	cli.command = "inspect";
	cli_sources_init(&src);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		if (cli_sources_option(&src, opt, optarg))
			continue;
		switch (opt) {
		case OPT_PROC_ROOT:
			proc_root = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return cli_fail(EXIT_USAGE, "bad command line");
		}
	}
	if (cli_container_id(argc, argv, optind, &id, &err) < 0)
		return cli_fail(EXIT_USAGE, "%s", err.message);
	if (cli_http_init(&http, src.http, src.token_file, &err) < 0)
		return cli_fail(EXIT_INVALID, "%s", err.message);

	rec_r = records_get(&http, src.state_dir, id, &record, rec_how, sizeof(rec_how), &rec_err);
	runtimes_init(rts, src.runc_root, src.crun_root);
	for (int k = 0; k < 2 && !have_rc; k++) {
		ocitap_error_clear(&err);
		r = runtime_get(&rts[k], id, &rc, rt_how, sizeof(rt_how), &err);
		if (r == 0)
			have_rc = true;
		else if (r != -ENOENT)
			rt_err = err;
	}
	if (rec_r < 0 && !have_rc) {
		if (rt_err.code) /* a runtime has it but cannot say what it is */
			return cli_fail(EXIT_INVALID, "container '%s': %s%s%s", id, rt_err.message,
					rec_r == -ENOENT ? "; not recorded by ocitap" : "; ocitap's record: ",
					rec_r == -ENOENT ? "" : rec_err.message);
		if (rec_r == -ENOENT)
			return cli_fail(EXIT_NOT_FOUND,
					"no container '%s': unknown to runc (%s), crun (%s) and ocitap (%s)", id,
					rts[0].root, rts[1].root, rec_how);
		return cli_fail(EXIT_NOT_FOUND,
				"no container '%s' in runc (%s) or crun (%s), and ocitap's record cannot be read: %s",
				id, rts[0].root, rts[1].root, rec_err.message);
	}
	if (rec_r < 0 && rec_r != -ENOENT && !cli.json)
		cli_note("ocitap's record cannot be read: %s", rec_err.message);
	else if (rec_r == 0 && strncmp(rec_how, "ocitapd", 7) != 0 && !cli.json)
		cli_note("read %s", rec_how);

	/* the bundle */
	bundle = have_rc && rc.bundle ? rc.bundle : record ? cli_json_string(record, "bundle") : NULL;
	if (bundle) {
		ocitap_error_clear(&err);
		if (ocitap_bundle_load_config(bundle, 0, NULL, &cfg, &err) == 0)
			have_cfg = true;
		else
			ocitap_error_format(&err, bundle_err, sizeof(bundle_err));
	}
	/* the process, if it is still the container's */
	if (record && cli_json_string(record, "created"))
		ocitap_rfc3339_parse(cli_json_string(record, "created"), &created_ns, NULL);
	if (have_rc && rc.created_wall_ns)
		created_ns = rc.created_wall_ns;
	if (have_rc && rc.pid > 0 && rc.status && strcmp(rc.status, "stopped") != 0)
		pid = rc.pid;
	else if (!have_rc && record &&
		 strcmp(cli_json_string(record, "status") ? cli_json_string(record, "status") : "", "stopped") != 0)
		pid = json_object_get_int(json_object_object_get(record, "pid"));
	check = check_pid(proc_root, pid, have_rc ? &rc : NULL, created_ns, pid_why, sizeof(pid_why));
	if ((check == PID_VERIFIED || check == PID_UNVERIFIED) &&
	    ocitap_proc_info_read(proc_root, pid, &proc, NULL) == 0)
		have_proc = true;
	/* "host": the namespaces ocitap itself runs in (pid 1's may be unreadable) */
	if (have_proc && ocitap_proc_info_read("/proc", getpid(), &host, NULL) == 0)
		have_host = true;

	if (cli.json) {
		struct json_object *o = json_object_new_object(), *sources = json_object_new_object(), *pc;

		json_object_object_add(o, "id", json_object_new_string(id));
		json_object_object_add(o, "status",
				       json_object_new_string(have_rc && rc.status ? rc.status
							      : record && cli_json_string(record, "status")
								      ? cli_json_string(record, "status")
								      : "unknown"));
		json_object_object_add(sources, "runtime", have_rc ? json_object_new_string(rt_how) : NULL);
		json_object_object_add(sources, "ocitap", rec_r == 0 ? json_object_new_string(rec_how) : NULL);
		if (rec_r < 0 && rec_r != -ENOENT)
			json_object_object_add(sources, "ocitapError", json_object_new_string(rec_err.message));
		json_object_object_add(o, "sources", sources);
		json_object_object_add(o, "runtime", have_rc ? runtime_json(&rc) : NULL);
		json_object_object_add(
			o, "bundle",
			bundle ? bundle_json(bundle, have_cfg ? &cfg : NULL, bundle_err[0] ? bundle_err : NULL) : NULL);
		json_object_object_add(o, "record", record ? json_object_get(record) : NULL);
		pc = json_object_new_object();
		json_object_object_add(pc, "pid", pid > 0 ? json_object_new_int(pid) : NULL);
		json_object_object_add(pc, "result", json_object_new_string(pid_check_names[check]));
		json_object_object_add(pc, "detail", json_object_new_string(pid_why));
		json_object_object_add(o, "pidCheck", pc);
		json_object_object_add(o, "process", have_proc ? process_json(&proc, have_host ? &host : NULL) : NULL);
		cli_print_json(o);
		json_object_put(o);
		return EXIT_OK;
	}

	{
		const char *st = have_rc && rc.status ? rc.status : record ? cli_json_string(record, "status") : NULL;
		struct json_object *ex;

		printf("%scontainer %s%s  %s", cli_sgr(CLI_BOLD), id, CLI_RESET, st ? st : "unknown");
		if (have_rc)
			printf(" (%s)", rc.runtime);
		putchar('\n');
		printf("  %-11s %s%s%s\n", "sources", have_rc ? rt_how : "no runtime knows it",
		       rec_r == 0 ? "; " : "; not recorded by ocitap", rec_r == 0 ? rec_how : "");
		if (created_ns > 0) {
			char age[32], when[OCITAP_RFC3339_MAX];

			cli_format_age((double)(ocitap_wall_ns() - created_ns) / 1e9, age, sizeof(age));
			ocitap_rfc3339_format(created_ns, 0, when, sizeof(when));
			printf("  %-11s %s (%s ago)\n", "created", when, age);
		}
		if (bundle)
			printf("  %-11s %s\n", "bundle", bundle);
		if (bundle_err[0])
			printf("  %-11s %sunreadable: %s%s\n", "config", cli_sgr(CLI_YELLOW), bundle_err, CLI_RESET);
		if (have_cfg) {
			int n_hooks = 0;

			if (cfg.args) {
				printf("  %-11s", "process");
				for (size_t i = 0; i < cfg.n_args; i++)
					printf(" %s", cfg.args[i]);
				putchar('\n');
			}
			for (int s = 0; s < OCITAP_STAGE_COUNT; s++)
				n_hooks += (int)cfg.n_hooks[s];
			printf("  %-11s %zu annotation%s, %d hook%s", "config", cfg.n_annotations,
			       cfg.n_annotations == 1 ? "" : "s", n_hooks, n_hooks == 1 ? "" : "s");
			if (cfg.has_seccomp)
				printf(", seccomp %s%s%s", cfg.seccomp.default_action ? cfg.seccomp.default_action : "",
				       cfg.seccomp.listener_path ? " listener " : "",
				       cfg.seccomp.listener_path ? cfg.seccomp.listener_path : "");
			putchar('\n');
		}
		if (have_rc && rc.cgroup)
			printf("  %-11s %s\n", "cgroup", rc.cgroup);
		if (record && json_object_object_get_ex(record, "exit", &ex) && ex) {
			struct json_object *v;

			printf("  %-11s", "exit");
			if (json_object_object_get_ex(ex, "signal", &v) && json_object_get_int(v))
				printf(" killed by signal %d", json_object_get_int(v));
			else if (json_object_object_get_ex(ex, "code", &v))
				printf(" code %d", json_object_get_int(v));
			if (json_object_object_get_ex(ex, "oomKilled", &v) && json_object_get_boolean(v))
				printf(" %s(OOM-killed)%s", cli_sgr(CLI_RED), CLI_RESET);
			putchar('\n');
		}
		if (record)
			print_timeline(record);
		if (pid > 0) {
			char title[160];

			snprintf(title, sizeof(title), "process %d (init)", pid);
			heading(title);
			printf("  %-11s %s%s%s: %s\n", "pid check",
			       cli_sgr(check == PID_VERIFIED	 ? CLI_GREEN
				       : check == PID_UNVERIFIED ? CLI_YELLOW
								 : CLI_RED),
			       pid_check_names[check], CLI_RESET, pid_why);
			if (have_proc)
				print_process(&proc, have_host ? &host : NULL);
		}
	}
	return EXIT_OK;
}
