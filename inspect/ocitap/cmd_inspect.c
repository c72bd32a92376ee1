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
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "clock.h"
#include "commands.h"
#include "exit-text.h"
#include "inspect-process.h"
#include "ocitap-private.h"
#include "records.h"
#include "runtime.h"

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
		json_object_object_add(o, "args",
				       cfg->args ? inspect_strv_json((char *const *)cfg->args, cfg->n_args) : NULL);
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
			char since[32] = "", change[96], ended[64];

			if (json_object_object_get_ex(ev, "sincePreviousSeconds", &v))
				snprintf(since, sizeof(since), "+%.3fs", json_object_get_double(v));
			printf("  %-6" PRId64 " %-31s %-10s %-20s %-16s %s",
			       json_object_get_int64(json_object_object_get(ev, "seq")), when ? when : "-",
			       kind ? kind : "?", exit_event_change_text(ev, change, sizeof(change)),
			       cli_json_string(ev, "source") ? cli_json_string(ev, "source") : "-", since);
			if (*exit_event_text(ev, ended, sizeof(ended)))
				printf("  %s", ended);
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
	fprintf(out,
		"usage: ocitap inspect ID [--run N] [--json] [--http ADDR] [--state-dir DIR] [--runc-root DIR]\n"
		"                      [--crun-root DIR] [--proc-root DIR]\n"
		"\n"
		"ID is a container's id, its name (the live one's, when stopped ones had it too), or\n"
		"a prefix of its id of at least 3 characters that no other id has.\n"
		"\n"
		"One container: the runtime's state and the bundle; the timeline ocitap recorded (each\n"
		"transition, its source, the time since the previous one), exit code, signal or OOM\n"
		"kill, seccomp notification counts; and the init process from /proc: namespaces,\n"
		"cgroup, seccomp mode and filters, NoNewPrivs, capabilities, ids and id maps, command\n"
		"line. The pid is checked first: its start time must be the one the runtime recorded,\n"
		"else it is reported as reused (or gone) and not shown. Works with ocitapd down (its\n"
		"store, read-only) and says which sources answered. An id run again is a new run:\n"
		"the latest is shown, and says how many there were.\n"
		"\n"
		"      --run N            run N of the container (from 1) instead of the latest; an\n"
		"                         earlier run's process is gone, so only its record is shown\n" CLI_JSON_HELP
			CLI_SOURCE_HELP
		"      --proc-root DIR    read processes from DIR instead of /proc (a captured copy)\n"
		"  -h, --help             this text\n"
		"\n"
		"Exit status: 0; 1 when the sources could not be read, or ID means several containers\n"
		"(they are listed); 2 on a bad command line (a prefix under 3 characters too); 3 when\n"
		"no source knows the container.\n");
}

enum { OPT_PROC_ROOT = 256, OPT_RUN };
const struct option cmd_inspect_options[] = {
	CLI_SOURCE_OPTIONS,
	{ "proc-root", required_argument, NULL, OPT_PROC_ROOT },
	{ "run", required_argument, NULL, OPT_RUN },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

struct inspect_options {
	struct cli_sources src;
	const char *proc_root;
	const char *id;
	int64_t run; /* 0: the latest */
};

/* true to go on; false when the command ends here with *status (the help
 * printed, or a bad command line reported) */
static bool inspect_parse_command_line(int argc, char **argv, struct inspect_options *opts, int *status)
{
	struct ocitap_error err = { 0 };
	int opt;

	opts->proc_root = "/proc";
	opts->run = 0;
	cli_sources_init(&opts->src);
	while ((opt = cli_getopt(argc, argv, "h", cmd_inspect_options)) != -1) {
		if (cli_sources_option(&opts->src, opt, optarg))
			continue;
		switch (opt) {
		case OPT_PROC_ROOT:
			opts->proc_root = optarg;
			break;
		case OPT_RUN: {
			char *end = NULL;
			long long n;

			errno = 0;
			n = strtoll(optarg, &end, 10);
			if (errno || !*optarg || *end || n < 1) {
				*status = cli_fail(EXIT_USAGE, "--run: expected a run number (1, 2, ...), not '%s'",
						   optarg);
				return false;
			}
			opts->run = n;
			break;
		}
		case 'h':
			usage(stdout);
			*status = EXIT_OK;
			return false;
		default: /* CLI_OPT_BAD: said */
			*status = EXIT_USAGE;
			return false;
		}
	}
	if (cli_container_id(argc, argv, optind, &opts->id, &err) < 0) {
		*status = cli_fail(EXIT_USAGE, "%s", err.message);
		return false;
	}
	return true;
}

/*
 * What inspect learnt about one container, from every source. The caller
 * owns it, zeroed, and releases it with inspection_release.
 */
struct inspection {
	const char *id;
	int64_t run;  /* asked for (0: the latest) */
	bool old_run; /* the record is an earlier run than the latest: its process is gone */

	struct json_object *record; /* ocitap's, or NULL */
	int rec_r;		    /* records_get's answer: 0, -ENOENT, another -errno with rec_err */
	struct ocitap_error rec_err;
	char rec_how[1024];

	struct ocitap_runtime_container rc; /* valid when have_rc */
	bool have_rc;
	char rt_how[768];

	const char *bundle;	  /* rc's or the record's, borrowed; NULL when neither says */
	struct ocitap_config cfg; /* valid when have_cfg */
	bool have_cfg;
	char bundle_err[600]; /* "" unless the bundle cannot be read */

	int64_t created_ns; /* 0 unknown */
	pid_t pid;	    /* the init to look at; 0 none */
	enum pid_check check;
	char pid_why[256];
	struct ocitap_proc_info proc, host; /* valid when have_proc, have_host */
	bool have_proc, have_host;
};

static void inspection_release(struct inspection *in)
{
	ocitap_proc_info_release(&in->host);
	ocitap_proc_info_release(&in->proc);
	ocitap_config_release(&in->cfg);
	ocitap_runtime_container_release(&in->rc);
	json_object_put(in->record);
	in->record = NULL;
}

static const char *record_status(struct json_object *record)
{
	return record ? cli_json_string(record, "status") : NULL;
}

/* No source has the container: reported, and the exit status returned. */
static int inspect_fail_unknown(const struct inspection *in, const struct ocitap_runtimes *set,
				const struct ocitap_error *rt_err)
{
	char where[2048] = "";
	size_t used = 0;

	for (size_t k = 0; k < set->n && used < sizeof(where); k++)
		used += (size_t)snprintf(where + used, sizeof(where) - used, "%s%s (%s)", k ? ", " : "",
					 set->v[k].label, set->v[k].root);
	if (rt_err->code) /* a runtime has it but cannot say what it is */
		return cli_fail(EXIT_INVALID, "container '%s': %s%s%s", in->id, rt_err->message,
				in->rec_r == -ENOENT ? "; not recorded by ocitap" : "; ocitap's record: ",
				in->rec_r == -ENOENT ? "" : in->rec_err.message);
	if (in->rec_r == -ENOENT)
		return cli_fail(EXIT_NOT_FOUND, "no container '%s': unknown to %s and ocitap (%s)", in->id, where,
				in->rec_how);
	return cli_fail(EXIT_NOT_FOUND, "no container '%s' in %s, and ocitap's record cannot be read: %s", in->id,
			where, in->rec_err.message);
}

/*
 * The container ref means (an id, a name, an id prefix of at least 3
 * characters): among ocitap's record and, when that knows nothing of it,
 * the runtimes' containers too. *ret_id is borrowed from refs; an id
 * nothing knows is taken as it is (inspect_find says it is unknown). false
 * with *status (reported) when ref is ambiguous or a short prefix.
 */
static bool inspect_resolve(const char *ref, struct cli_http *http, const struct cli_sources *src,
			    struct records_refs *refs, const char **ret_id, int *status)
{
	struct ocitap_error err = { 0 };
	int r;

	if (records_refs_load(refs, http, src->state_dir) < 0) {
		*status = cli_fail(EXIT_INVALID, "out of memory");
		return false;
	}
	r = records_refs_resolve(refs, ref, ret_id, &err);
	if (r == -ENOENT || r == -EINVAL) {
		_cleanup_(ocitap_runtimes_release) struct ocitap_runtimes set = { 0 };

		if (ocitap_runtimes_find(&set, src->runc_root, src->crun_root) < 0)
			r = -ENOMEM;
		for (size_t k = 0; r != -ENOMEM && k < set.n; k++) {
			struct ocitap_runtime_container *v = NULL;
			struct ocitap_error rt_err = { 0 };
			size_t n = 0;
			char how[768];

			if (ocitap_runtime_list(&set.v[k], &v, &n, how, sizeof(how), &rt_err) < 0)
				continue; /* inspect_find asks it again, and says what it answers */
			for (size_t i = 0; i < n; i++)
				if (v[i].id &&
				    records_refs_add(refs, v[i].id,
						     !v[i].status || strcmp(v[i].status, "stopped") != 0) < 0)
					r = -ENOMEM;
			ocitap_runtime_containers_free(v, n);
		}
		if (r != -ENOMEM)
			r = records_refs_resolve(refs, ref, ret_id, &err);
	}
	if (r == -ENOENT) {
		*ret_id = ref;
		return true;
	}
	if (r < 0) {
		*status = r == -ENOMEM ? cli_fail(EXIT_INVALID, "out of memory")
				       : cli_fail(records_refs_exit_status(r), "%s", err.message);
		return false;
	}
	return true;
}

/* ocitap's record and the first runtime that knows the container. false
 * when none does, with *status (reported). */
static bool inspect_find(struct inspection *in, struct cli_http *http, const struct cli_sources *src, int *status)
{
	struct ocitap_error rt_err = { 0 };
	_cleanup_(ocitap_runtimes_release) struct ocitap_runtimes set = { 0 };

	in->rec_r = records_get(http, src->state_dir, in->id, in->run, &in->record, in->rec_how, sizeof(in->rec_how),
				&in->rec_err);
	if (in->rec_r == 0) {
		struct json_object *run, *runs;

		if (json_object_object_get_ex(in->record, "run", &run) &&
		    json_object_object_get_ex(in->record, "runs", &runs))
			in->old_run = json_object_get_int64(run) < json_object_get_int64(runs);
	}
	if (in->run > 0 && in->rec_r == -ENOENT) {
		*status = cli_fail(EXIT_NOT_FOUND, "no run %lld of container '%s' in ocitap's record (%s)",
				   (long long)in->run, in->id, in->rec_how);
		return false;
	}
	if (ocitap_runtimes_find(&set, src->runc_root, src->crun_root) < 0) {
		*status = cli_fail(EXIT_INVALID, "out of memory");
		return false;
	}
	for (size_t k = 0; k < set.n && !in->have_rc; k++) {
		struct ocitap_error err = { 0 };
		int r = ocitap_runtime_state(&set.v[k], in->id, &in->rc, in->rt_how, sizeof(in->rt_how), &err);

		if (r == 0) {
			in->have_rc = true;
			if (strcmp(set.v[k].label, set.v[k].name) != 0) { /* say which root */
				size_t l = strlen(in->rt_how);

				snprintf(in->rt_how + l, sizeof(in->rt_how) - l, " in %s (%s)", set.v[k].label,
					 set.v[k].root);
			}
		} else if (r != -ENOENT)
			rt_err = err;
	}
	if (in->rec_r < 0 && !in->have_rc) {
		*status = inspect_fail_unknown(in, &set, &rt_err);
		return false;
	}
	if (in->rec_r < 0 && in->rec_r != -ENOENT && !cli.json)
		cli_note("ocitap's record cannot be read: %s", in->rec_err.message);
	else if (in->rec_r == 0 && strncmp(in->rec_how, "ocitapd", 7) != 0 && !cli.json)
		cli_note("read %s", in->rec_how);
	return true;
}

/* The runtime's status when it knows the container, else ocitap's; NULL when neither says. */
static const char *shown_status(const struct inspection *in)
{
	return in->have_rc && in->rc.status && !in->old_run ? in->rc.status : record_status(in->record);
}

static void inspect_load_bundle(struct inspection *in)
{
	struct ocitap_error err = { 0 };

	if (in->have_rc && in->rc.bundle && !in->old_run)
		in->bundle = in->rc.bundle;
	else if (in->record)
		in->bundle = cli_json_string(in->record, "bundle");
	if (!in->bundle)
		return;
	if (ocitap_bundle_load_config(in->bundle, 0, NULL, &in->cfg, &err) == 0)
		in->have_cfg = true;
	else
		ocitap_error_format(&err, in->bundle_err, sizeof(in->bundle_err));
}

/* The init process, read only if it is still the container's. */
static void inspect_read_process(struct inspection *in, const char *proc_root)
{
	const char *status = record_status(in->record);

	if (in->record && cli_json_string(in->record, "created"))
		ocitap_rfc3339_parse(cli_json_string(in->record, "created"), &in->created_ns, NULL);
	if (in->have_rc && in->rc.created_wall_ns)
		in->created_ns = in->rc.created_wall_ns;
	if (in->old_run)
		in->pid = 0; /* an earlier run: whatever runs under its id now is another run's */
	else if (in->have_rc && in->rc.pid > 0 && in->rc.status && strcmp(in->rc.status, "stopped") != 0)
		in->pid = in->rc.pid;
	else if (!in->have_rc && in->record && strcmp(status ? status : "", "stopped") != 0 &&
		 strcmp(status ? status : "", "failed") != 0)
		in->pid = json_object_get_int(json_object_object_get(in->record, "pid"));
	in->check = check_pid(proc_root, in->pid, in->have_rc ? &in->rc : NULL, in->created_ns, in->pid_why,
			      sizeof(in->pid_why));
	if ((in->check == PID_VERIFIED || in->check == PID_UNVERIFIED) &&
	    ocitap_proc_info_read(proc_root, in->pid, &in->proc, NULL) == 0)
		in->have_proc = true;
	/* "host": the namespaces ocitap itself runs in (pid 1's may be unreadable) */
	if (in->have_proc && ocitap_proc_info_read("/proc", getpid(), &in->host, NULL) == 0)
		in->have_host = true;
}

static struct json_object *sources_json(const struct inspection *in)
{
	struct json_object *sources = json_object_new_object();

	json_object_object_add(sources, "runtime", in->have_rc ? json_object_new_string(in->rt_how) : NULL);
	json_object_object_add(sources, "ocitap", in->rec_r == 0 ? json_object_new_string(in->rec_how) : NULL);
	if (in->rec_r < 0 && in->rec_r != -ENOENT)
		json_object_object_add(sources, "ocitapError", json_object_new_string(in->rec_err.message));
	return sources;
}

static struct json_object *pid_check_json(const struct inspection *in)
{
	struct json_object *pc = json_object_new_object();

	json_object_object_add(pc, "pid", in->pid > 0 ? json_object_new_int(in->pid) : NULL);
	json_object_object_add(pc, "result", json_object_new_string(pid_check_names[in->check]));
	json_object_object_add(pc, "detail", json_object_new_string(in->pid_why));
	return pc;
}

static void inspect_print_json(const struct inspection *in)
{
	struct json_object *o = json_object_new_object();
	const char *status = shown_status(in);

	json_object_object_add(o, "id", json_object_new_string(in->id));
	json_object_object_add(o, "status", json_object_new_string(status ? status : "unknown"));
	json_object_object_add(o, "run", json_object_get(json_object_object_get(in->record, "run")));
	json_object_object_add(o, "runs", json_object_get(json_object_object_get(in->record, "runs")));
	json_object_object_add(o, "sources", sources_json(in));
	json_object_object_add(o, "runtime", in->have_rc ? runtime_json(&in->rc) : NULL);
	json_object_object_add(o, "bundle",
			       in->bundle ? bundle_json(in->bundle, in->have_cfg ? &in->cfg : NULL,
							in->bundle_err[0] ? in->bundle_err : NULL)
					  : NULL);
	json_object_object_add(o, "record", in->record ? json_object_get(in->record) : NULL);
	json_object_object_add(o, "pidCheck", pid_check_json(in));
	json_object_object_add(
		o, "process", in->have_proc ? inspect_process_json(&in->proc, in->have_host ? &in->host : NULL) : NULL);
	cli_print_json(o);
	json_object_put(o);
}

#define ANNOTATION_VALUE_SHOWN 60 /* a longer value is cut in text (--json has it whole) */
#define ANNOTATION_TEXT_MAX    200

/* "key=value" on one line: control characters as '?', a long value cut with "..." */
static void annotation_text(const char *key, const char *value, char *buf, size_t size)
{
	size_t vlen = value ? strlen(value) : 0;

	if (vlen > ANNOTATION_VALUE_SHOWN)
		snprintf(buf, size, "%.100s=%.*s... (%zu bytes)", key, ANNOTATION_VALUE_SHOWN - 3, value, vlen);
	else
		snprintf(buf, size, "%.100s=%s", key, value ? value : "");
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* "process sh -c ...", "config 2 annotations, 1 hook, seccomp ...", then each annotation */
static void print_config(const struct ocitap_config *cfg)
{
	int n_hooks = 0;

	if (cfg->args) {
		printf("  %-11s", "process");
		for (size_t i = 0; i < cfg->n_args; i++)
			printf(" %s", cfg->args[i]);
		putchar('\n');
	}
	for (int s = 0; s < OCITAP_STAGE_COUNT; s++)
		n_hooks += (int)cfg->n_hooks[s];
	printf("  %-11s %zu annotation%s, %d hook%s", "config", cfg->n_annotations, cfg->n_annotations == 1 ? "" : "s",
	       n_hooks, n_hooks == 1 ? "" : "s");
	if (cfg->has_seccomp)
		printf(", seccomp %s%s%s", cfg->seccomp.default_action ? cfg->seccomp.default_action : "",
		       cfg->seccomp.listener_path ? " listener " : "",
		       cfg->seccomp.listener_path ? cfg->seccomp.listener_path : "");
	putchar('\n');
	for (size_t i = 0; i < cfg->n_annotations; i++) {
		char line[ANNOTATION_TEXT_MAX + 8];

		annotation_text(cfg->annotations[i].key, cfg->annotations[i].value, line, sizeof(line));
		printf("  %-11s %s\n", i == 0 ? "annotations" : "", line);
	}
}

/* The record's "exit": a code, or a signal, and an OOM kill; or why a
 * start failed before its program ran. */
static void print_exit(struct json_object *record)
{
	struct json_object *ex, *v;
	const char *error = record ? cli_json_string(record, "error") : NULL;
	char sig[32];

	if (error)
		printf("  %-11s %s%s%s\n", "failed", cli_sgr(CLI_RED), error, CLI_RESET);
	if (!record || !json_object_object_get_ex(record, "exit", &ex) || !ex)
		return;
	printf("  %-11s", "exit");
	if (json_object_object_get_ex(ex, "signal", &v) && json_object_get_int(v))
		printf(" killed by %s", exit_signal_name(json_object_get_int(v), sig, sizeof(sig)));
	else if (json_object_object_get_ex(ex, "code", &v))
		printf(" code %d", json_object_get_int(v));
	if (json_object_object_get_ex(ex, "oomKilled", &v) && json_object_get_boolean(v))
		printf(" %s(OOM-killed)%s", cli_sgr(CLI_RED), CLI_RESET);
	putchar('\n');
}

/* What became of the syscall profile the run's annotation asked for. */
static void print_profile(struct json_object *record)
{
	struct json_object *p = record ? json_object_object_get(record, "profile") : NULL;
	const char *status = p ? cli_json_string(p, "status") : NULL;
	const char *path = p ? cli_json_string(p, "path") : NULL;
	const char *error = p ? cli_json_string(p, "error") : NULL;

	if (!status)
		return;
	if (strcmp(status, "written") == 0)
		printf("  %-11s written to %s\n", "profile", path ? path : "?");
	else if (strcmp(status, "pending") == 0)
		printf("  %-11s to be written to %s when it stops\n", "profile", path ? path : "?");
	else
		printf("  %-11s %s%s%s%s%s%s%s\n", "profile", cli_sgr(CLI_YELLOW), status, path ? " " : "",
		       path ? path : "", error ? ": " : "", error ? error : "", CLI_RESET);
}

/* Each live notify fd's policy: "policy      deny (init's fd), a fallback:
 * listenerMetadata asked for "strcit", which ocitapd does not have". */
static void print_policies(struct json_object *record)
{
	struct json_object *fds = record ? json_object_object_get(record, "notifyFdPolicies") : NULL;

	for (size_t i = 0; json_object_is_type(fds, json_type_array) && i < json_object_array_length(fds); i++) {
		struct json_object *fd = json_object_array_get_idx(fds, i);
		const char *policy = cli_json_string(fd, "policy"), *asked = cli_json_string(fd, "policyRequested");
		bool init = json_object_get_boolean(json_object_object_get(fd, "init"));

		printf("  %-11s %s (%s fd)", "policy", policy ? policy : "?", init ? "the init's" : "an exec's");
		if (json_object_get_boolean(json_object_object_get(fd, "policyFallback")))
			printf(", %sa fallback: listenerMetadata asked for \"%s\", which ocitapd does not have%s",
			       cli_sgr(CLI_YELLOW), asked ? asked : "", CLI_RESET);
		printf("\n");
	}
}

/* The names the run is known by: "name web", "pod shop/web-0", "manager kubernetes". */
static void print_names(struct json_object *record)
{
	const char *name = record ? cli_json_string(record, "name") : NULL;
	const char *pod = record ? cli_json_string(record, "pod") : NULL;
	const char *ns = record ? cli_json_string(record, "namespace") : NULL;
	const char *manager = record ? cli_json_string(record, "manager") : NULL;

	if (name)
		printf("  %-11s %s\n", "name", name);
	if (pod || ns)
		printf("  %-11s %s%s%s\n", "pod", ns ? ns : "", ns ? "/" : "", pod ? pod : "?");
	if (manager)
		printf("  %-11s %s\n", "manager", manager);
}

/* The container's header lines: status, names, sources, creation, bundle and config, cgroup, exit. */
static void print_overview(const struct inspection *in)
{
	const char *st = shown_status(in);

	int64_t run = json_object_get_int64(json_object_object_get(in->record, "run"));
	int64_t runs = json_object_get_int64(json_object_object_get(in->record, "runs"));

	printf("%scontainer %s%s  %s", cli_sgr(CLI_BOLD), in->id, CLI_RESET, st ? st : "unknown");
	if (in->have_rc && !in->old_run)
		printf(" (%s)", in->rc.runtime);
	putchar('\n');
	print_names(in->record);
	if (runs > 1)
		printf("  %-11s %lld of %lld%s\n", "run", (long long)run, (long long)runs,
		       in->old_run ? " (an earlier run: its process is gone; --run N for another)"
				   : " (the latest; --run N for an earlier one)");
	if (in->record && json_object_get_type(json_object_object_get(in->record, "owner")) == json_type_int) {
		int64_t owner = json_object_get_int64(json_object_object_get(in->record, "owner"));
		struct passwd *pw = getpwuid((uid_t)owner);

		printf("  %-11s uid %lld%s%s%s\n", "owner", (long long)owner, pw ? " (" : "", pw ? pw->pw_name : "",
		       pw ? ")" : "");
	}
	printf("  %-11s %s%s%s\n", "sources", in->have_rc ? in->rt_how : "no runtime knows it",
	       in->rec_r == 0 ? "; " : "; not recorded by ocitap", in->rec_r == 0 ? in->rec_how : "");
	if (in->created_ns > 0) {
		char age[32], when[OCITAP_RFC3339_MAX];

		cli_format_age((double)(ocitap_wall_ns() - in->created_ns) / 1e9, age, sizeof(age));
		ocitap_rfc3339_format(in->created_ns, 0, when, sizeof(when));
		printf("  %-11s %s (%s ago)\n", "created", when, age);
	}
	if (in->bundle)
		printf("  %-11s %s\n", "bundle", in->bundle);
	if (in->bundle_err[0])
		printf("  %-11s %sunreadable: %s%s\n", "config", cli_sgr(CLI_YELLOW), in->bundle_err, CLI_RESET);
	if (in->have_cfg)
		print_config(&in->cfg);
	if (in->have_rc && in->rc.cgroup)
		printf("  %-11s %s\n", "cgroup", in->rc.cgroup);
	print_profile(in->record);
	print_policies(in->record);
	print_exit(in->record);
}

static void print_init(const struct inspection *in)
{
	char title[160];

	snprintf(title, sizeof(title), "process %d (init)", in->pid);
	heading(title);
	printf("  %-11s %s%s%s: %s\n", "pid check",
	       cli_sgr(in->check == PID_VERIFIED     ? CLI_GREEN
		       : in->check == PID_UNVERIFIED ? CLI_YELLOW
						     : CLI_RED),
	       pid_check_names[in->check], CLI_RESET, in->pid_why);
	if (in->have_proc)
		inspect_print_process(&in->proc, in->have_host ? &in->host : NULL);
}

static void inspect_print_text(const struct inspection *in)
{
	print_overview(in);
	if (in->record)
		print_timeline(in->record);
	if (in->pid > 0)
		print_init(in);
}

int cmd_inspect(int argc, char **argv)
{
	_cleanup_(cli_http_release) struct cli_http http = { 0 };
	_cleanup_(inspection_release) struct inspection in = { 0 };
	_cleanup_(records_refs_release) struct records_refs refs = { 0 };
	struct ocitap_error err = { 0 };
	struct inspect_options opts;
	int status, r;

	cli.command = "inspect";
	if (!inspect_parse_command_line(argc, argv, &opts, &status))
		return status;
	if ((r = cli_http_init(&http, opts.src.http, opts.src.token_file, &err)) < 0)
		return cli_fail(cli_http_init_status(r), "%s", err.message);
	if (!inspect_resolve(opts.id, &http, &opts.src, &refs, &in.id, &status))
		return status;
	in.run = opts.run;
	if (!inspect_find(&in, &http, &opts.src, &status))
		return status;
	inspect_load_bundle(&in);
	inspect_read_process(&in, opts.proc_root);
	if (cli.json)
		inspect_print_json(&in);
	else
		inspect_print_text(&in);
	return EXIT_OK;
}
