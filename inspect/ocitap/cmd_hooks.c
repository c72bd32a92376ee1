/*
 * cmd_hooks.c: `ocitap hooks explain BUNDLE` says, per hooks.d file, which
 * stages it would add to this bundle's container and why (or why not), as
 * podman/CRI-O would decide it; `ocitap hooks lint [DIR...]` reports the
 * files they would refuse, with file and field. The rules are in
 * lib/hooksd.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "ocitap-private.h"

#define MAX_DIRS 64

/* The containers/common rules modelled: those of the podman named by
 * --podman-version, else of the installed one (podman --version), else the
 * newest; source says which, for the output. */
static struct ocitap_hooksd_rules rules;
static char rules_version[48];
static const char *rules_source;

static int find_rules(const char *given)
{
	struct ocitap_error err = { 0 };
	char line[256] = "", *v;
	FILE *p;

	if (given) {
		if (ocitap_hooksd_rules_for_podman(given, &rules, &err) < 0)
			return cli_fail(EXIT_USAGE, "--podman-version: %s", err.message);
		snprintf(rules_version, sizeof(rules_version), "%s", given);
		rules_source = "--podman-version";
		return EXIT_OK;
	}
	/* "podman version 4.3.1" */
	if ((p = popen("podman --version 2>/dev/null", "r"))) {
		if (!fgets(line, sizeof(line), p))
			line[0] = '\0';
		pclose(p);
	}
	line[strcspn(line, "\n")] = '\0';
	v = strrchr(line, ' ');
	if (v && ocitap_hooksd_rules_for_podman(v + 1, &rules, NULL) == 0) {
		snprintf(rules_version, sizeof(rules_version), "%s", v + 1);
		rules_source = "podman --version";
		return EXIT_OK;
	}
	ocitap_hooksd_rules_for_podman("5.0.0", &rules, NULL);
	snprintf(rules_version, sizeof(rules_version), "5.0 or later");
	rules_source = "no podman found: the newest rules";
	return EXIT_OK;
}

static const char *injected(const char *stage)
{
	return ocitap_hooksd_injected_stage_under(stage, &rules);
}

/* "podman 4.3.1 (podman --version): containers/common before v0.58.0, prestart stays prestart" */
static void print_model(void)
{
	printf("%smodelled%s: podman %s (%s): containers/common %s, prestart %s\n", cli_sgr(CLI_BOLD), CLI_RESET,
	       rules_version, rules_source, rules.common,
	       rules.prestart_as_create_runtime ? "injected as createRuntime" : "stays prestart");
}

static struct json_object *model_json(void)
{
	struct json_object *m = json_object_new_object();

	json_object_object_add(m, "podman", json_object_new_string(rules_version));
	json_object_object_add(m, "source", json_object_new_string(rules_source));
	json_object_object_add(m, "containersCommon", json_object_new_string(rules.common));
	json_object_object_add(m, "prestartAsCreateRuntime", json_object_new_boolean(rules.prestart_as_create_runtime));
	return m;
}

static const char *const stage_order[] = {
	"createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

static const char *file_status(const struct ocitap_hooksd_file *f, const struct ocitap_hooksd_verdict *v,
			       bool match_failed)
{
	if (!f->loaded)
		return "broken";
	if (f->masked_by)
		return "masked";
	if (match_failed)
		return "error";
	return v->match ? "match" : "no-match";
}

static struct json_object *strv_json(char *const *v, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static struct json_object *error_json(const struct ocitap_error *e)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "field", json_object_new_string(e->field));
	json_object_object_add(o, "message", json_object_new_string(e->message));
	return o;
}

static struct json_object *dirs_json(const struct ocitap_hooksd_set *set)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < set->n_dirs; i++) {
		struct json_object *d = json_object_new_object();

		json_object_object_add(d, "path", json_object_new_string(set->dirs[i].path));
		json_object_object_add(d, "present", json_object_new_boolean(set->dirs[i].error == 0));
		if (set->dirs[i].error && set->dirs[i].error != -ENOENT)
			json_object_object_add(d, "error", json_object_new_string(strerror(-set->dirs[i].error)));
		json_object_object_add(d, "files", json_object_new_int64((int64_t)set->dirs[i].n_json));
		json_object_array_add(a, d);
	}
	return a;
}

static void print_dirs(const struct ocitap_hooksd_set *set)
{
	printf("hooks.d, in increasing preference:\n");
	for (size_t i = 0; i < set->n_dirs; i++) {
		const struct ocitap_hooksd_dir *d = &set->dirs[i];

		if (d->error == -ENOENT)
			printf("  %s %s(absent)%s\n", d->path, cli_sgr(CLI_DIM), CLI_RESET);
		else if (d->error)
			printf("  %s %s(%s)%s\n", d->path, cli_sgr(CLI_RED), strerror(-d->error), CLI_RESET);
		else
			printf("  %s (%zu file%s)\n", d->path, d->n_json, d->n_json == 1 ? "" : "s");
	}
}

/* "createRuntime (from prestart), poststop" */
static void stages_text(const struct ocitap_hooksd_file *f, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < f->n_stages && used < size; i++) {
		const char *to = injected(f->stages[i]);

		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", to);
		if (strcmp(to, f->stages[i]) != 0 && used < size)
			used += (size_t)snprintf(buf + used, size - used, " (from %s)", f->stages[i]);
	}
	if (!f->n_stages)
		snprintf(buf, size, "no stage (\"stages\" is empty)");
}

static void print_hook_line(const struct ocitap_hooksd_file *f)
{
	printf("    %s", f->hook_path);
	for (size_t i = 1; i < f->n_args; i++)
		printf(" %s", f->args[i]);
	if (f->has_timeout)
		printf("  (timeout %ds)", f->timeout);
	putchar('\n');
}

/* ---- explain ---- */

static const char *schema_name(const struct ocitap_hooksd_file *f)
{
	return f->legacy ? "0.1.0" : "1.0.0";
}

/* The head of explain's JSON: the bundle as the rules see it, the directories. */
static struct json_object *explain_json_new(const char *bundle, const struct ocitap_config *cfg,
					    const struct ocitap_hooksd_set *set, bool has_bind)
{
	struct json_object *out = json_object_new_object();

	json_object_object_add(out, "bundle", json_object_new_string(bundle));
	json_object_object_add(out, "model", model_json());
	json_object_object_add(out, "processArgs0",
			       cfg->args && cfg->n_args ? json_object_new_string(cfg->args[0]) : NULL);
	json_object_object_add(out, "annotations", json_object_new_int64((int64_t)cfg->n_annotations));
	json_object_object_add(out, "hasBindMounts", json_object_new_boolean(has_bind));
	json_object_object_add(out, "directories", dirs_json(set));
	return out;
}

static void print_bundle(const char *bundle, const struct ocitap_config *cfg, const struct ocitap_hooksd_set *set,
			 bool has_bind, int bind_mounts)
{
	printf("%sbundle%s %s: ", cli_sgr(CLI_BOLD), CLI_RESET, bundle);
	if (cfg->args && cfg->n_args)
		printf("process.args[0] \"%s\"", cfg->args[0]);
	else
		printf("%s", cfg->args ? "process with no args" : "no process");
	printf(", %zu annotation%s, %s bind mounts%s\n", cfg->n_annotations, cfg->n_annotations == 1 ? "" : "s",
	       has_bind ? "with" : "no", bind_mounts >= 0 ? " (as told)" : "");
	print_dirs(set);
	putchar('\n');
}

static struct json_object *reasons_json(const struct ocitap_hooksd_verdict *v)
{
	struct json_object *reasons = json_object_new_array();

	for (size_t k = 0; k < v->n_reasons; k++) {
		struct json_object *r = json_object_new_object();

		json_object_object_add(r, "condition", json_object_new_string(v->reasons[k].condition));
		json_object_object_add(r, "matched", json_object_new_boolean(v->reasons[k].matched));
		json_object_object_add(r, "detail", json_object_new_string(v->reasons[k].detail));
		json_object_array_add(reasons, r);
	}
	return reasons;
}

/* One file's verdict; merr is the match's error, NULL when the match did not fail. */
static struct json_object *file_verdict_json(const struct ocitap_hooksd_file *f, const struct ocitap_hooksd_verdict *v,
					     const struct ocitap_error *merr)
{
	struct json_object *o = json_object_new_object(), *adds = json_object_new_array();

	json_object_object_add(o, "name", json_object_new_string(f->name));
	json_object_object_add(o, "path", json_object_new_string(f->path));
	json_object_object_add(o, "status", json_object_new_string(file_status(f, v, merr != NULL)));
	if (f->version)
		json_object_object_add(o, "schema", json_object_new_string(schema_name(f)));
	if (!f->loaded || merr)
		json_object_object_add(o, "error", error_json(merr ? merr : &f->error));
	if (f->masked_by)
		json_object_object_add(o, "maskedBy", json_object_new_string(f->masked_by));
	json_object_object_add(o, "stages", strv_json(f->stages, f->n_stages));
	for (size_t k = 0; v->match && k < f->n_stages; k++)
		json_object_array_add(adds, json_object_new_string(injected(f->stages[k])));
	json_object_object_add(o, "adds", adds);
	json_object_object_add(o, "reasons", reasons_json(v));
	return o;
}

/* One file's verdict for people; merr as for file_verdict_json. */
static void print_file_verdict(const struct ocitap_hooksd_file *f, const struct ocitap_hooksd_verdict *v,
			       const struct ocitap_error *merr)
{
	char buf[512];

	if (!f->loaded) {
		printf("%sbroken%s  %s: %s\n", cli_sgr(CLI_RED), CLI_RESET, f->path,
		       ocitap_error_format(&f->error, buf, sizeof(buf)));
		return;
	}
	if (f->masked_by) {
		printf("%smasked%s  %s: masked by %s\n", cli_sgr(CLI_DIM), CLI_RESET, f->path, f->masked_by);
		return;
	}
	if (merr) {
		/* -ERANGE: ocitap's pattern search gave up, podman would have decided */
		printf("%serror%s   %s: %s (%s)\n", cli_sgr(CLI_RED), CLI_RESET, f->path,
		       ocitap_error_format(merr, buf, sizeof(buf)),
		       merr->code == -ERANGE ? "ocitap cannot say what podman decides"
					     : "podman would refuse to create the container");
		return;
	}
	stages_text(f, buf, sizeof(buf));
	if (v->match)
		printf("%smatch%s   %s%s%s: adds %s\n", cli_sgr(CLI_GREEN), CLI_RESET, cli_sgr(CLI_BOLD), f->name,
		       CLI_RESET, buf);
	else
		printf("%sno%s      %s%s%s: adds nothing (would add %s)\n", cli_sgr(CLI_YELLOW), CLI_RESET,
		       cli_sgr(CLI_BOLD), f->name, CLI_RESET, buf);
	printf("        %s, schema %s%s\n", f->path, schema_name(f),
	       f->legacy ? " (any one condition is enough)" : " (every condition must hold)");
	for (size_t k = 0; k < v->n_reasons; k++)
		printf("        %s %s: %s\n", v->reasons[k].matched ? "+" : "-", v->reasons[k].condition,
		       v->reasons[k].detail);
}

/* The files that could not be matched: how many, and the first's path and error. */
struct match_failures {
	size_t n;
	const char *path;
	struct ocitap_error err;
};

/*
 * Each file against the bundle: its verdict added to files (--json), or
 * printed when files is NULL. Failures counted in *failed.
 */
static void explain_files(const struct ocitap_hooksd_set *set, const struct ocitap_config *cfg, bool has_bind,
			  struct json_object *files, struct match_failures *failed)
{
	for (size_t i = 0; i < set->n_files; i++) {
		const struct ocitap_hooksd_file *f = &set->files[i];
		struct ocitap_hooksd_verdict v = { 0 };
		struct ocitap_error merr = { 0 };
		bool match_failed = f->loaded && !f->masked_by && ocitap_hooksd_match(f, cfg, has_bind, &v, &merr) < 0;

		if (match_failed && failed->n++ == 0) {
			failed->path = f->path;
			failed->err = merr;
		}
		if (files)
			json_object_array_add(files, file_verdict_json(f, &v, match_failed ? &merr : NULL));
		else
			print_file_verdict(f, &v, match_failed ? &merr : NULL);
	}
}

/* How many times f's hook runs in stage: once per stage of f injected there
 * (none unless f is loaded, not masked, and matches). */
static size_t hook_runs_in(const struct ocitap_hooksd_file *f, const char *stage, const struct ocitap_config *cfg,
			   bool has_bind)
{
	struct ocitap_hooksd_verdict v;
	size_t n = 0;

	if (!f->loaded || f->masked_by || ocitap_hooksd_match(f, cfg, has_bind, &v, NULL) < 0 || !v.match)
		return 0;
	for (size_t k = 0; k < f->n_stages; k++)
		if (strcmp(injected(f->stages[k]), stage) == 0)
			n++;
	return n;
}

static struct json_object *hook_json(const struct ocitap_hooksd_file *f)
{
	struct json_object *h = json_object_new_object();

	json_object_object_add(h, "path", json_object_new_string(f->hook_path));
	json_object_object_add(h, "args", f->args ? strv_json(f->args, f->n_args) : NULL);
	if (f->has_timeout)
		json_object_object_add(h, "timeout", json_object_new_int(f->timeout));
	json_object_object_add(h, "file", json_object_new_string(f->path));
	return h;
}

/* What the runtime would run, stage by stage, in file order. */
static struct json_object *runtime_hooks_json(const struct ocitap_hooksd_set *set, const struct ocitap_config *cfg,
					      bool has_bind)
{
	struct json_object *hooks = json_object_new_object();

	for (size_t s = 0; s < ELEMENTSOF(stage_order); s++) {
		struct json_object *list = json_object_new_array();

		for (size_t i = 0; i < set->n_files; i++)
			for (size_t n = hook_runs_in(&set->files[i], stage_order[s], cfg, has_bind); n; n--)
				json_object_array_add(list, hook_json(&set->files[i]));
		json_object_object_add(hooks, stage_order[s], list);
	}
	return hooks;
}

static void print_runtime_hooks(const struct ocitap_hooksd_set *set, const struct ocitap_config *cfg, bool has_bind)
{
	size_t total = 0, own = 0;

	printf("\n%sthe runtime would run%s:\n", cli_sgr(CLI_BOLD), CLI_RESET);
	for (size_t s = 0; s < ELEMENTSOF(stage_order); s++) {
		bool header = false;

		for (size_t i = 0; i < set->n_files; i++)
			for (size_t n = hook_runs_in(&set->files[i], stage_order[s], cfg, has_bind); n; n--) {
				if (!header)
					printf("  %s:\n", stage_order[s]);
				header = true;
				print_hook_line(&set->files[i]);
				total++;
			}
	}
	if (total == 0)
		printf("  nothing from hooks.d\n");
	for (int s = 0; s < OCITAP_STAGE_COUNT; s++)
		own += cfg->n_hooks[s];
	if (own)
		printf("  (after the %zu hook%s config.json already has: engines append)\n", own, own == 1 ? "" : "s");
}

/* named: the directories came from --hooks-dir, so a missing one is an error (as for lint) */
static int explain(const char *bundle, const char *const *dirs, size_t n_dirs, bool named, int bind_mounts)
{
	_cleanup_(ocitap_config_release) struct ocitap_config cfg = { 0 };
	_cleanup_(ocitap_hooksd_set_release) struct ocitap_hooksd_set set = { 0 };
	struct ocitap_error err = { 0 };
	struct match_failures failed = { 0 };
	bool has_bind;
	char buf[512];

	if (ocitap_bundle_load_config(bundle, 0, NULL, &cfg, &err) < 0) {
		if (!err.field[0]) /* the message names the file already */
			return cli_fail(EXIT_INVALID, "%s", err.message);
		return cli_fail(EXIT_INVALID, "%s/config.json: %s", bundle,
				ocitap_error_format(&err, buf, sizeof(buf)));
	}
	if (ocitap_hooksd_load(dirs, n_dirs, &set, &err) < 0)
		return cli_fail(EXIT_INVALID, "%s", err.message);
	for (size_t i = 0; named && i < set.n_dirs; i++)
		if (set.dirs[i].error == -ENOENT)
			return cli_fail(EXIT_INVALID, "--hooks-dir %s: no such directory", set.dirs[i].path);
	has_bind = bind_mounts >= 0 ? bind_mounts : ocitap_hooksd_bundle_has_bind_mounts(&cfg);
	if (cli.json) {
		struct json_object *out = explain_json_new(bundle, &cfg, &set, has_bind);
		struct json_object *files = json_object_new_array();

		explain_files(&set, &cfg, has_bind, files, &failed);
		json_object_object_add(out, "files", files);
		json_object_object_add(out, "hooks", runtime_hooks_json(&set, &cfg, has_bind));
		cli_print_json(out);
		json_object_put(out);
	} else {
		print_model();
		print_bundle(bundle, &cfg, &set, has_bind, bind_mounts);
		explain_files(&set, &cfg, has_bind, NULL, &failed);
		print_runtime_hooks(&set, &cfg, has_bind);
	}
	/* one line, naming the file and the problem; the others are in the report above */
	if (failed.n == 1)
		return cli_fail(EXIT_INVALID, "%s cannot be matched against this bundle: %s", failed.path,
				ocitap_error_format(&failed.err, buf, sizeof(buf)));
	if (failed.n)
		return cli_fail(EXIT_INVALID,
				"%s cannot be matched against this bundle: %s (and %zu more files: see above)",
				failed.path, ocitap_error_format(&failed.err, buf, sizeof(buf)), failed.n - 1);
	return EXIT_OK;
}

/* ---- lint ---- */

/* Things that load but probably do not do what the author meant. */
static size_t lint_warnings(const struct ocitap_hooksd_file *f, const char **w, size_t max)
{
	size_t n = 0;

#define WARN(s)                     \
	do {                        \
		if (n < max)        \
			w[n++] = s; \
	} while (0)
	if (f->masked_by)
		WARN("masked by a file of the same name in a later directory: never used");
	if (f->legacy)
		WARN("legacy schema 0.1.0: any one condition is enough; schema 1.0.0 requires all");
	if (f->n_stages == 0)
		WARN("\"stages\" is empty: the file adds nothing");
	{
		bool pre = false, cr = false;

		for (size_t i = 0; i < f->n_stages; i++) {
			pre |= strcmp(f->stages[i], "prestart") == 0;
			cr |= strcmp(f->stages[i], "createRuntime") == 0;
		}
		if (pre && cr && rules.prestart_as_create_runtime)
			WARN("prestart and createRuntime both: prestart is injected as createRuntime "
			     "(containers/common v0.58.0 or later, podman 5.0 or later): the hook runs twice there");
		else if (pre && rules.prestart_as_create_runtime)
			WARN("prestart is injected as createRuntime (containers/common v0.58.0 or later, podman 5.0 "
			     "or later)");
	}
	if (f->has_always && !f->always)
		WARN("\"always\": false never matches; remove the file or the condition");
	if (f->has_bind_mounts_cond && !f->bind_mounts)
		WARN("\"hasBindMounts\": false never matches (it does not mean \"without bind mounts\")");
	if (!f->has_always && !f->has_bind_mounts_cond && !f->n_annotations && !f->n_commands)
		WARN("\"when\" has no condition: the file never matches");
	{
		const char *newer = NULL;

		for (size_t i = 0; i < f->n_annotations && !newer; i++) {
			newer = ocitap_regex_newer_go(&f->annotations[i].key_re);
			if (!newer)
				newer = ocitap_regex_newer_go(&f->annotations[i].value_re);
		}
		for (size_t i = 0; i < f->n_commands && !newer && f->command_res; i++)
			newer = ocitap_regex_newer_go(&f->command_res[i]);
		if (newer)
			WARN(newer);
	}
#undef WARN
	return n;
}

/* named: the directories came from the command line, so a missing one is an error */
static int lint(const char *const *dirs, size_t n_dirs, bool named)
{
	_cleanup_(ocitap_hooksd_set_release) struct ocitap_hooksd_set set = { 0 };
	struct ocitap_error err = { 0 };
	struct json_object *files = NULL;
	size_t broken = 0, ok = 0;
	char buf[512];

	if (ocitap_hooksd_load(dirs, n_dirs, &set, &err) < 0)
		return cli_fail(EXIT_INVALID, "%s", err.message);
	for (size_t i = 0; named && i < set.n_dirs; i++)
		if (set.dirs[i].error == -ENOENT)
			return cli_fail(EXIT_INVALID, "%s: no such directory", set.dirs[i].path);
	if (cli.json)
		files = json_object_new_array();
	for (size_t i = 0; i < n_dirs; i++)
		if (set.dirs[i].error && set.dirs[i].error != -ENOENT)
			broken++;
	if (!cli.json) {
		print_model();
		print_dirs(&set);
	}
	for (size_t i = 0; i < set.n_files; i++) {
		const struct ocitap_hooksd_file *f = &set.files[i];
		const char *warn[8];
		size_t n_warn = f->loaded ? lint_warnings(f, warn, 8) : 0;

		if (f->loaded)
			ok++;
		else
			broken++;
		if (files) {
			struct json_object *o = json_object_new_object(), *w = json_object_new_array();

			json_object_object_add(o, "path", json_object_new_string(f->path));
			json_object_object_add(o, "ok", json_object_new_boolean(f->loaded));
			if (!f->loaded) {
				json_object_object_add(o, "field", json_object_new_string(f->error.field));
				json_object_object_add(o, "error", json_object_new_string(f->error.message));
			}
			for (size_t k = 0; k < n_warn; k++)
				json_object_array_add(w, json_object_new_string(warn[k]));
			json_object_object_add(o, "warnings", w);
			json_object_array_add(files, o);
			continue;
		}
		if (!f->loaded) {
			printf("%sFAIL%s %s: %s\n", cli_sgr(CLI_RED), CLI_RESET, f->path,
			       ocitap_error_format(&f->error, buf, sizeof(buf)));
			continue;
		}
		stages_text(f, buf, sizeof(buf));
		printf("%sok%s   %s (%s: %s)\n", cli_sgr(CLI_GREEN), CLI_RESET, f->path, f->legacy ? "0.1.0" : "1.0.0",
		       buf);
		for (size_t k = 0; k < n_warn; k++)
			printf("     %swarning%s: %s\n", cli_sgr(CLI_YELLOW), CLI_RESET, warn[k]);
	}
	if (files) {
		struct json_object *out = json_object_new_object();

		json_object_object_add(out, "model", model_json());
		json_object_object_add(out, "directories", dirs_json(&set));
		json_object_object_add(out, "files", files);
		json_object_object_add(out, "broken", json_object_new_int64((int64_t)broken));
		cli_print_json(out);
		json_object_put(out);
	} else {
		printf("%zu file%s loaded, %zu broken\n", ok, ok == 1 ? "" : "s", broken);
	}
	return broken ? EXIT_INVALID : EXIT_OK;
}

/* ---- the command ---- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ocitap hooks explain BUNDLE [--hooks-dir DIR]... [--bind-mounts yes|no|auto]\n"
		"                          [--podman-version X.Y.Z] [--json]\n"
		"       ocitap hooks lint [DIR...] [--podman-version X.Y.Z] [--json]\n"
		"\n"
		"oci-hooks(5) files as podman, CRI-O and Buildah read them (containers/common).\n"
		"\n"
		"  explain   for each hooks.d file: would it add its stages to the container of BUNDLE\n"
		"            (a directory with config.json), and why or why not; then the hooks the\n"
		"            runtime would run, stage by stage\n"
		"  lint      the files an engine would refuse (bad version, missing hook path, bad\n"
		"            regular expression, unknown stage), with file and field; warnings for\n"
		"            files that load but never match\n"
		"\n"
		"      --hooks-dir DIR    a hooks.d directory; repeat in increasing preference (default\n"
		"                         %s then %s)\n"
		"      --bind-mounts yes|no|auto\n"
		"                         what the engine says about bind mounts (podman: user volumes);\n"
		"                         auto (default): a bind mount in config.json other than the\n"
		"                         engine's own (/etc/hosts, /etc/resolv.conf, ...)\n"
		"      --podman-version X.Y.Z\n"
		"                         model the containers/common of that podman (default: the\n"
		"                         installed one, podman --version; none: the newest rules);\n"
		"                         the output names the version modelled\n"
		"      --json             one JSON document (errors too)\n"
		"  -h, --help             this text\n"
		"\n"
		"Exit status: 0; 1 when the bundle cannot be read or a file cannot be matched (explain)\n"
		"or when a file is broken (lint); 2 on a bad command line.\n",
		OCITAP_HOOKSD_DEFAULT_DIR, OCITAP_HOOKSD_OVERRIDE_DIR);
}

enum { OPT_DIR = 256, OPT_BIND, OPT_JSON, OPT_PODMAN };
const struct option cmd_hooks_options[] = {
	{ "hooks-dir", required_argument, NULL, OPT_DIR },
	{ "bind-mounts", required_argument, NULL, OPT_BIND },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "podman-version", required_argument, NULL, OPT_PODMAN },
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};
const char *const cmd_hooks_subcommands[] = { "explain", "lint", NULL };

int cmd_hooks(int argc, char **argv)
{
	const char *dirs[MAX_DIRS], *sub, *podman_version = NULL;
	size_t n_dirs = 0;
	int opt_c, r, bind_mounts = -1;

	cli.command = "hooks";
	cli.json = cli.json || cli_wants_json(argc, argv, 1);
	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
			usage(stdout);
			return EXIT_OK;
		}
		return cli_fail(EXIT_USAGE, "expected 'explain' or 'lint' first (see 'ocitap hooks --help')");
	}
	sub = argv[1];
	if (strcmp(sub, "explain") == 0)
		cli.command = "hooks explain";
	else if (strcmp(sub, "lint") == 0)
		cli.command = "hooks lint";
	else
		return cli_fail(EXIT_USAGE, "unknown sub-command '%s' (explain or lint)", sub);
	argc--;
	argv++;
	while ((opt_c = cli_getopt(argc, argv, "h", cmd_hooks_options)) != -1) {
		switch (opt_c) {
		case OPT_DIR:
			if (n_dirs == MAX_DIRS)
				return cli_fail(EXIT_USAGE, "more than %d --hooks-dir", MAX_DIRS);
			dirs[n_dirs++] = optarg;
			break;
		case OPT_BIND:
			if (strcmp(optarg, "yes") == 0)
				bind_mounts = 1;
			else if (strcmp(optarg, "no") == 0)
				bind_mounts = 0;
			else if (strcmp(optarg, "auto") == 0)
				bind_mounts = -1;
			else
				return cli_fail(EXIT_USAGE, "--bind-mounts: yes, no or auto, not '%s'", optarg);
			break;
		case OPT_JSON:
			cli.json = true;
			break;
		case OPT_PODMAN:
			podman_version = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default: /* CLI_OPT_BAD: said */
			return EXIT_USAGE;
		}
	}
	if ((r = find_rules(podman_version)) != EXIT_OK)
		return r;
	if (strcmp(sub, "explain") == 0) {
		if (optind == argc)
			return cli_fail(EXIT_USAGE, "expected a BUNDLE directory");
		if (optind + 1 != argc)
			return cli_fail(EXIT_USAGE, "unexpected argument '%s'", argv[optind + 1]);
		if (n_dirs > 0)
			return explain(argv[optind], dirs, n_dirs, true, bind_mounts);
		dirs[n_dirs++] = OCITAP_HOOKSD_DEFAULT_DIR;
		dirs[n_dirs++] = OCITAP_HOOKSD_OVERRIDE_DIR;
		return explain(argv[optind], dirs, n_dirs, false, bind_mounts);
	}
	for (int i = optind; i < argc; i++) {
		if (n_dirs == MAX_DIRS)
			return cli_fail(EXIT_USAGE, "more than %d directories", MAX_DIRS);
		dirs[n_dirs++] = argv[i];
	}
	if (n_dirs == 0) {
		dirs[n_dirs++] = OCITAP_HOOKSD_DEFAULT_DIR;
		dirs[n_dirs++] = OCITAP_HOOKSD_OVERRIDE_DIR;
		return lint(dirs, n_dirs, false);
	}
	return lint(dirs, n_dirs, true);
}
