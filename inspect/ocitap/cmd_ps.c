/*
 * cmd_ps.c: `ocitap ps`: every container, merged from what ocitap recorded
 * (the daemon, or its store) and what runc and crun themselves report, so
 * that containers started before ocitap (or without its hooks) show too.
 * The runtime is the authority on a live status; ocitap adds the names
 * (name, pod, namespace, manager), the notify fds it holds and the last
 * event it saw. Ids are cut to 12 characters for people, as Docker does.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "clock.h"
#include "commands.h"
#include "event-json.h"
#include "exit-text.h"
#include "records.h"
#include "runtime.h"

struct row {
	char *id;
	const char *status; /* shown: the runtime's when it has one */
	const char *ocitap_status, *runtime_status;
	const char *runtime;
	pid_t pid;
	int64_t created_ns;
	int notify_fds;		    /* -1 unknown */
	struct json_object *record; /* ocitap's, borrowed; NULL when untracked */
	const struct ocitap_runtime_container *rc;
};

struct rows {
	struct row *v;
	size_t n;
};

static struct row *find_or_add(struct rows *rows, const char *id)
{
	struct row *p;

	for (size_t i = 0; i < rows->n; i++)
		if (strcmp(rows->v[i].id, id) == 0)
			return &rows->v[i];
	p = realloc(rows->v, (rows->n + 1) * sizeof(*p));
	if (!p)
		return NULL;
	rows->v = p;
	p = &rows->v[rows->n];
	memset(p, 0, sizeof(*p));
	p->id = strdup(id);
	if (!p->id)
		return NULL;
	p->notify_fds = -1;
	rows->n++;
	return p;
}

/* "running via poststart, 3m02s ago", "stopped via pidfd (exit 0), 5s ago",
 * "report arrived late: created (after running) via poststart, 1s ago" */
static void last_event_text(struct json_object *ev, char *buf, size_t size)
{
	const char *to = cli_json_string(ev, "to"), *source = cli_json_string(ev, "source"),
		   *kind = cli_json_string(ev, "kind"), *when = cli_json_string(ev, "time");
	char age[32] = "", ended[64], extra[80] = "", change[96];
	int64_t t;

	if (when && ocitap_rfc3339_parse(when, &t, NULL) == 0)
		cli_format_age((double)(ocitap_wall_ns() - t) / 1e9, age, sizeof(age));
	if (*exit_event_text(ev, ended, sizeof(ended)))
		snprintf(extra, sizeof(extra), " (%s)", ended);
	if (kind && strcmp(kind, "transition") == 0)
		snprintf(buf, size, "%s via %s%s, %s ago", to ? to : "?", source ? source : "?", extra, age);
	else if (kind && strcmp(kind, "late") == 0)
		snprintf(buf, size, "%s via %s%s, %s ago", exit_event_change_text(ev, change, sizeof(change)),
			 source ? source : "?", extra, age);
	else
		snprintf(buf, size, "%s %s%s, %s ago", kind ? kind : "?", source ? source : "", extra, age);
}

static bool is_stopped(const char *status)
{
	return !status || strcmp(status, "stopped") == 0 || strcmp(status, "failed") == 0 ||
	       strcmp(status, "unknown") == 0;
}

#define PS_ID_WIDTH 12 /* Docker's short ids */

/* Member key of ocitap's record, or JSON null: the names. */
static struct json_object *record_member(const struct row *r, const char *key)
{
	struct json_object *v;

	return r->record && json_object_object_get_ex(r->record, key, &v) ? json_object_get(v) : NULL;
}

static struct json_object *row_json(const struct row *r, int64_t now)
{
	struct json_object *o = json_object_new_object(), *v;

	json_object_object_add(o, "id", json_object_new_string(r->id));
	json_object_object_add(o, "name", record_member(r, "name"));
	json_object_object_add(o, "pod", record_member(r, "pod"));
	json_object_object_add(o, "namespace", record_member(r, "namespace"));
	json_object_object_add(o, "manager", record_member(r, "manager"));
	json_object_object_add(o, "status", json_object_new_string(r->status ? r->status : "unknown"));
	json_object_object_add(o, "pid", r->pid > 0 ? json_object_new_int(r->pid) : NULL);
	json_object_object_add(o, "runtime", r->runtime ? json_object_new_string(r->runtime) : NULL);
	json_object_object_add(o, "runtimeStatus",
			       r->runtime_status ? json_object_new_string(r->runtime_status) : NULL);
	json_object_object_add(o, "ocitapStatus", r->ocitap_status ? json_object_new_string(r->ocitap_status) : NULL);
	json_object_object_add(o, "tracked", json_object_new_boolean(r->record != NULL));
	json_object_object_add(o, "ageSeconds",
			       r->created_ns > 0 ? json_object_new_double((double)(now - r->created_ns) / 1e9) : NULL);
	json_object_object_add(o, "notifyFds", r->notify_fds >= 0 ? json_object_new_int(r->notify_fds) : NULL);
	if (r->rc && r->rc->bundle)
		json_object_object_add(o, "bundle", json_object_new_string(r->rc->bundle));
	else if (r->record && json_object_object_get_ex(r->record, "bundle", &v))
		json_object_object_add(o, "bundle", json_object_get(v));
	if (r->record && json_object_object_get_ex(r->record, "lastEvent", &v))
		json_object_object_add(o, "lastEvent", json_object_get(v));
	else
		json_object_object_add(o, "lastEvent", NULL);
	if (r->record && json_object_object_get_ex(r->record, "exit", &v))
		json_object_object_add(o, "exit", json_object_get(v));
	/* ocitap's record is the id's latest run */
	if (r->record && json_object_object_get_ex(r->record, "run", &v))
		json_object_object_add(o, "run", json_object_get(v));
	if (r->record && json_object_object_get_ex(r->record, "runs", &v))
		json_object_object_add(o, "runs", json_object_get(v));
	if (r->rc && r->rc->error)
		json_object_object_add(o, "error", json_object_new_string(r->rc->error));
	return o;
}

static void rows_release(struct rows *rows)
{
	for (size_t i = 0; i < rows->n; i++)
		free(rows->v[i].id);
	free(rows->v);
	*rows = (struct rows){ 0 };
}

/* What each runtime root listed, one array each. */
struct listed {
	struct ocitap_runtimes roots;
	struct ocitap_runtime_container **v;
	size_t *n;
};

static void listed_release(struct listed *l)
{
	for (size_t k = 0; l->v && k < l->roots.n; k++)
		ocitap_runtime_containers_free(l->v[k], l->n[k]);
	free(l->v);
	free(l->n);
	ocitap_runtimes_release(&l->roots);
	*l = (struct listed){ 0 };
}

static int row_order(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->created_ns != y->created_ns)
		return x->created_ns < y->created_ns ? -1 : 1;
	return strcmp(x->id, y->id);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ocitap ps [--all] [--no-trunc] [--json] [--http ADDR] [--state-dir DIR]\n"
		"                 [--runc-root DIR] [--crun-root DIR]\n"
		"\n"
		"Containers: what ocitapd recorded (or its store, when the daemon is down) merged with\n"
		"what runc and crun report (`list`, or their state directories when the binary is\n"
		"absent), so containers started before ocitap are listed too (LAST EVENT says \"not\n"
		"seen by ocitap\"). STATUS is the runtime's when it knows the container. NAME is\n"
		"Docker's, podman's or the Kubernetes container's (and --json has pod, namespace and\n"
		"manager). Ids are cut to 12 characters, which other commands take as a prefix.\n"
		"\n"
		"  -a, --all              stopped containers too, and an EXIT column (exited 3,\n"
		"                         killed (SIGKILL), failed)\n"
		"      --no-trunc         ids in full (--json always has them in full)\n" CLI_JSON_HELP CLI_SOURCE_HELP
		"  -h, --help             this text\n"
		"\n"
		"Exit status: 0; 1 when no source could be read; 2 on a bad command line.\n");
}

enum { OPT_NO_TRUNC = 256 };
const struct option cmd_ps_options[] = {
	{ "all", no_argument, NULL, 'a' },
	{ "no-trunc", no_argument, NULL, OPT_NO_TRUNC },
	CLI_SOURCE_OPTIONS,
	{ "help", no_argument, NULL, 'h' },
	{ 0 },
};

struct ps_options {
	struct cli_sources src;
	bool all;
	bool no_trunc; /* ids in full in the table */
};

/* true to go on; false when the command ends here with *status (the help
 * printed, or a bad command line reported) */
static bool ps_parse_command_line(int argc, char **argv, struct ps_options *opts, int *status)
{
	int opt;

	opts->all = opts->no_trunc = false;
	cli_sources_init(&opts->src);
	while ((opt = cli_getopt(argc, argv, "ah", cmd_ps_options)) != -1) {
		if (cli_sources_option(&opts->src, opt, optarg))
			continue;
		switch (opt) {
		case 'a':
			opts->all = true;
			break;
		case OPT_NO_TRUNC:
			opts->no_trunc = true;
			break;
		case 'h':
			usage(stdout);
			*status = EXIT_OK;
			return false;
		default: /* CLI_OPT_BAD: said */
			*status = EXIT_USAGE;
			return false;
		}
	}
	if (optind != argc) {
		*status = cli_fail(EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
		return false;
	}
	return true;
}

/*
 * Everything ps gathered. The rows borrow from records and listed, so all
 * of it lives as long as the rows: the caller owns it, zeroed, and releases
 * it with gathered_release.
 */
struct gathered {
	struct json_object *records; /* ocitap's, an array */
	struct listed listed;
	struct rows rows;
	struct json_object *sources; /* what each source said, for --json */
	bool any_source;
};

static void gathered_release(struct gathered *g)
{
	rows_release(&g->rows);
	listed_release(&g->listed);
	json_object_put(g->sources);
	json_object_put(g->records);
	*g = (struct gathered){ 0 };
}

static void row_fill_from_record(struct row *row, struct json_object *c)
{
	const char *created = cli_json_string(c, "created");
	struct json_object *v;

	row->record = c;
	row->ocitap_status = cli_json_string(c, "status");
	row->status = row->ocitap_status;
	row->pid = json_object_get_int(json_object_object_get(c, "pid"));
	if (json_object_object_get_ex(c, "notifyFds", &v) && v)
		row->notify_fds = json_object_get_int(v);
	if (created)
		ocitap_rfc3339_parse(created, &row->created_ns, NULL);
}

/* A row for each container ocitap recorded (the daemon's, or its store's). */
static void gather_records(struct gathered *g, struct cli_http *http, const char *state_dir)
{
	struct json_object *s = json_object_new_object();
	struct ocitap_error err = { 0 };
	char how[768];

	json_object_object_add(s, "name", json_object_new_string("ocitap"));
	if (records_list(http, state_dir, &g->records, how, sizeof(how), &err) == 0) {
		g->any_source = true;
		json_object_object_add(s, "from", json_object_new_string(how));
		if (strncmp(how, "ocitapd", 7) != 0 && !cli.json)
			cli_note("read %s", how);
		for (size_t i = 0; i < json_object_array_length(g->records); i++) {
			struct json_object *c = json_object_array_get_idx(g->records, i);
			const char *id = cli_json_string(c, "id");
			struct row *row;

			if (id && (row = find_or_add(&g->rows, id)))
				row_fill_from_record(row, c);
		}
	} else {
		json_object_object_add(s, "error", json_object_new_string(err.message));
		if (!cli.json)
			cli_note("no record from ocitap: %s", err.message);
	}
	json_object_array_add(g->sources, s);
}

/* The runtime is the authority on status, pid and creation time. */
static void row_fill_from_runtime(struct row *row, const struct ocitap_runtime_container *rc, const char *runtime)
{
	row->rc = rc;
	row->runtime = runtime;
	row->runtime_status = rc->status;
	row->status = rc->status ? rc->status : row->status;
	if (rc->pid > 0)
		row->pid = rc->pid;
	if (rc->created_wall_ns > 0)
		row->created_ns = rc->created_wall_ns;
}

/* A row for each container a runtime root lists, merged into ocitap's. */
static void gather_runtime_containers(struct gathered *g, const struct cli_sources *src)
{
	struct listed *l = &g->listed;
	const struct ocitap_runtime *rts;

	if (ocitap_runtimes_find(&l->roots, src->runc_root, src->crun_root) < 0 ||
	    !(l->v = calloc(l->roots.n, sizeof(*l->v))) || !(l->n = calloc(l->roots.n, sizeof(*l->n)))) {
		cli_note("out of memory");
		listed_release(l);
		return;
	}
	rts = l->roots.v;
	for (size_t k = 0; k < l->roots.n; k++) {
		struct json_object *s = json_object_new_object();
		struct ocitap_runtime_container *rc;
		struct ocitap_error err = { 0 };
		char how[768];
		int r;

		json_object_object_add(s, "name", json_object_new_string(rts[k].label));
		if (strcmp(rts[k].label, rts[k].name) != 0) {
			json_object_object_add(s, "runtime", json_object_new_string(rts[k].name));
			json_object_object_add(s, "root", json_object_new_string(rts[k].root));
		}
		r = ocitap_runtime_list(&rts[k], &g->listed.v[k], &g->listed.n[k], how, sizeof(how), &err);
		if (r == 0) {
			g->any_source = true;
			json_object_object_add(s, "from", json_object_new_string(how));
		} else {
			json_object_object_add(s, "error", json_object_new_string(err.message));
			if (r != -ENOENT && !cli.json)
				cli_note("%s: %s%s", rts[k].label, err.message,
					 r == -EACCES || r == -EPERM
						 ? " (its state is root's: run as root to list its containers)"
						 : "");
		}
		json_object_array_add(g->sources, s);
		rc = g->listed.v[k];
		for (size_t i = 0; i < g->listed.n[k]; i++) {
			struct row *row = find_or_add(&g->rows, rc[i].id);

			if (row)
				row_fill_from_runtime(row, &rc[i], rc[i].runtime); /* rc lives as long as the rows */
		}
	}
}

static void ps_print_json(const struct rows *rows, struct json_object *sources, bool all, int64_t now)
{
	struct json_object *out = json_object_new_object(), *list = json_object_new_array();

	for (size_t i = 0; i < rows->n; i++)
		if (all || !is_stopped(rows->v[i].status))
			json_object_array_add(list, row_json(&rows->v[i], now));
	json_object_object_add(out, "containers", list);
	json_object_object_add(out, "sources", json_object_get(sources));
	cli_print_json(out);
	json_object_put(out);
}

/* The columns of the table; EXIT only with --all (without it every row is live). */
enum { COL_ID, COL_NAME, COL_STATUS, COL_EXIT, COL_PID, COL_AGE, COL_RUNTIME, COL_FDS, COL_LAST, N_COLS };

static void table_add_row(struct cli_table *t, const struct row *row, bool all, bool no_trunc, int64_t now)
{
	char pid[16] = "", age[32] = "", fds[16] = "", last[200] = "", id[PS_ID_WIDTH + 1], ended[64];
	struct json_object *ev = NULL;
	const char *cells[N_COLS];
	size_t n = 0, status_col;

	if (row->pid > 0)
		snprintf(pid, sizeof(pid), "%d", row->pid);
	if (row->created_ns > 0)
		cli_format_age((double)(now - row->created_ns) / 1e9, age, sizeof(age));
	if (row->notify_fds >= 0)
		snprintf(fds, sizeof(fds), "%d", row->notify_fds);
	if (!row->record)
		snprintf(last, sizeof(last), "not seen by ocitap%s%s", row->rc && row->rc->error ? ": " : "",
			 row->rc && row->rc->error ? row->rc->error : "");
	else if (json_object_object_get_ex(row->record, "lastEvent", &ev) && ev)
		last_event_text(ev, last, sizeof(last));
	/* the runtime's live status wins over an exit ocitap recorded for an earlier run */
	if (!is_stopped(row->status))
		snprintf(ended, sizeof(ended), "-");
	else
		exit_column_text(row->record ? json_object_object_get(row->record, "exit") : NULL, row->status,
				 row->record ? cli_json_string(row->record, "error") : NULL, ended, sizeof(ended));
	snprintf(id, sizeof(id), "%s", row->id); /* cut: a prefix the other commands take */
	cells[n++] = no_trunc ? row->id : id;
	cells[n++] = row->record ? cli_json_string(row->record, "name") : NULL;
	status_col = n;
	cells[n++] = row->status;
	if (all)
		cells[n++] = ended;
	cells[n++] = pid;
	cells[n++] = age;
	cells[n++] = row->runtime;
	cells[n++] = fds;
	cells[n++] = last;
	cli_table_add(t, cells);
	if (row->status && strcmp(row->status, "running") == 0)
		cli_table_colour(t, status_col, CLI_GREEN);
	else if (is_stopped(row->status))
		cli_table_colour(t, status_col, CLI_DIM);
	else
		cli_table_colour(t, status_col, CLI_YELLOW);
	if (all && (strncmp(ended, "killed", 6) == 0 || strcmp(ended, "failed") == 0 ||
		    (strncmp(ended, "exited ", 7) == 0 && strcmp(ended, "exited 0") != 0)))
		cli_table_colour(t, status_col + 1, CLI_RED);
	if (!row->record)
		cli_table_colour(t, n - 1, CLI_YELLOW);
}

static void ps_print_table(const struct rows *rows, bool all, bool no_trunc, int64_t now)
{
	static const char *const with_exit[N_COLS] = { "ID",  "NAME",	 "STATUS", "EXIT",	"PID",
						       "AGE", "RUNTIME", "FDS",	   "LAST EVENT" };
	static const char *const live_only[N_COLS - 1] = { "ID",  "NAME",    "STATUS", "PID",
							   "AGE", "RUNTIME", "FDS",    "LAST EVENT" };
	struct cli_table t;
	size_t hidden = 0;

	if (all)
		cli_table_init(&t, with_exit, N_COLS, COL_LAST);
	else
		cli_table_init(&t, live_only, N_COLS - 1, COL_LAST - 1);
	for (size_t i = 0; i < rows->n; i++) {
		if (!all && is_stopped(rows->v[i].status))
			hidden++;
		else
			table_add_row(&t, &rows->v[i], all, no_trunc, now);
	}
	cli_table_print(&t, stdout);
	cli_table_release(&t);
	if (hidden)
		printf("%s(%zu stopped not shown: --all)%s\n", cli_sgr(CLI_DIM), hidden, CLI_RESET);
}

int cmd_ps(int argc, char **argv)
{
	_cleanup_(cli_http_release) struct cli_http http = { 0 };
	_cleanup_(gathered_release) struct gathered g = { 0 };
	struct ocitap_error err = { 0 };
	struct ps_options opts;
	int64_t now = ocitap_wall_ns();
	int status, r;

	cli.command = "ps";
	if (!ps_parse_command_line(argc, argv, &opts, &status))
		return status;
	if ((r = cli_http_init(&http, opts.src.http, opts.src.token_file, &err)) < 0)
		return cli_fail(cli_http_init_status(r), "%s", err.message);
	g.sources = json_object_new_array();
	gather_records(&g, &http, opts.src.state_dir);
	gather_runtime_containers(&g, &opts.src);
	if (g.rows.n)
		qsort(g.rows.v, g.rows.n, sizeof(*g.rows.v), row_order);
	if (!g.any_source)
		return cli_fail(EXIT_INVALID, "no source could be read: not ocitap's record, not runc, not crun");
	if (cli.json)
		ps_print_json(&g.rows, g.sources, opts.all, now);
	else
		ps_print_table(&g.rows, opts.all, opts.no_trunc, now);
	return EXIT_OK;
}
