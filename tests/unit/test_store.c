/*
 * test_store.c: the SQLite store: containers, events with sequence numbers
 * that survive a reopen, exit fields, notification counts, a read-only
 * reader alongside the writer, retention, runs of one id kept apart, each
 * run's names, the list read from a page's cursor, and databases of
 * earlier schemas brought up to date.
 */
#include <errno.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ocitap-private.h"
#include "testutil.h"

static struct ocitap_error err;
static char dir[64], path[128];

static int setup(void **unused)
{
	snprintf(dir, sizeof(dir), "/tmp/ocitap-store-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/ocitap.db", dir);
	return 0;
}

static int teardown(void **unused)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* meta's schema, as any reader of the database file sees it */
static const char *schema_of(const char *db_path)
{
	static char v[16];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	v[0] = '\0';
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema'", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		snprintf(v, sizeof(v), "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static int collect(const struct ocitap_event *ev, void *userdata)
{
	char *out = userdata;
	char line[128];

	snprintf(line, sizeof(line), "%lld:%s:%s>%s:%s;", (long long)ev->seq, ev->kind,
		 ocitap_phase_to_string(ev->from), ocitap_phase_to_string(ev->to), ev->source ? ev->source : "-");
	strcat(out, line);
	return 0;
}

static int count_notif(const char *syscall, const char *action, int64_t count, void *userdata)
{
	char *out = userdata;
	char line[128];

	snprintf(line, sizeof(line), "%s/%s=%lld;", syscall, action, (long long)count);
	strcat(out, line);
	return 0;
}

#define OR_DASH(s) ((s) ? (s) : "-")

static int collect_names(const struct ocitap_store_container *c, int64_t stopped_wall_ns, void *userdata)
{
	char *out = userdata;
	char line[300];

	snprintf(line, sizeof(line), "%s#%lld:%s/%s/%s/%s;", c->id, (long long)c->run, OR_DASH(c->name),
		 OR_DASH(c->pod), OR_DASH(c->pod_namespace), OR_DASH(c->manager));
	(void)stopped_wall_ns;
	strcat(out, line);
	return 0;
}

static struct ocitap_event transition(const char *id, enum ocitap_phase from, enum ocitap_phase to, const char *src,
				      int64_t wall)
{
	return (struct ocitap_event){ .container_id = id,
				      .kind = OCITAP_EVENT_TRANSITION,
				      .from = from,
				      .to = to,
				      .source = src,
				      .mono_ns = wall,
				      .wall_ns = wall };
}

static void test_lifecycle_round_trip(void **unused)
{
	static const struct ocitap_annotation ann[] = { { "io.podman", "x\"y" } };
	struct ocitap_store *s, *ro;
	struct ocitap_store_container c;
	struct ocitap_event ev;
	char events[1024] = "", notif[256] = "";
	int64_t seq;

	assert_int_equal(ocitap_store_open(path, 0, &s, &err), 0);
	assert_int_equal(ocitap_store_begin(s, &err), 0);
	assert_int_equal(ocitap_store_put_container(s, "c1", 1, "/b", 42, ann, 1, 1000, 100, &err), 0);
	ev = transition("c1", OCITAP_PHASE_UNKNOWN, OCITAP_PHASE_CREATING, "prestart", 100);
	assert_int_equal(ocitap_store_append_event(s, &ev, &seq, &err), 0);
	assert_int_equal(seq, 1);
	ev = transition("c1", OCITAP_PHASE_CREATING, OCITAP_PHASE_RUNNING, "poststart", 200);
	assert_int_equal(ocitap_store_append_event(s, &ev, &seq, &err), 0);
	assert_int_equal(ocitap_store_add_notifications(s, "c1", 1, "mkdir", "errno:EPERM", 3, &err), 0);
	assert_int_equal(ocitap_store_add_notifications(s, "c1", 1, "mkdir", "errno:EPERM", 2, &err), 0);
	assert_int_equal(ocitap_store_add_notifications(s, "c1", 1, "chmod", "continue", 1, &err), 0);
	assert_int_equal(ocitap_store_commit(s, &err), 0);

	/* a reader while the writer is open */
	assert_int_equal(ocitap_store_open(path, OCITAP_STORE_READONLY, &ro, &err), 0);
	assert_int_equal(ocitap_store_get_container(ro, "c1", 0, &c, &err), 0);
	assert_string_equal(c.bundle, "/b");
	assert_int_equal(c.pid, 42);
	assert_int_equal(c.phase, OCITAP_PHASE_RUNNING);
	assert_string_equal(c.annotations_json, "{\"io.podman\":\"x\\\"y\"}");
	assert_false(c.has_exit);
	assert_int_equal(c.notifications, 6); /* every syscall and action of the run */
	ocitap_store_container_release(&c);
	assert_int_equal(ocitap_store_foreach_notification(ro, "c1", 1, count_notif, notif, &err), 0);
	assert_string_equal(notif, "chmod/continue=1;mkdir/errno:EPERM=5;");
	assert_int_equal(ocitap_store_get_container(ro, "nope", 0, &c, &err), -ENOENT);

	/* the pid is kept when a later report has none; exit and stop */
	assert_int_equal(ocitap_store_begin(s, &err), 0);
	assert_int_equal(ocitap_store_put_container(s, "c1", 1, NULL, 0, NULL, 0, 0, 300, &err), 0);
	ev = transition("c1", OCITAP_PHASE_RUNNING, OCITAP_PHASE_STOPPED, "hangup", 300);
	ev.has_exit = true;
	ev.exit_code = 3;
	assert_int_equal(ocitap_store_append_event(s, &ev, &seq, &err), 0);
	assert_int_equal(ocitap_store_commit(s, &err), 0);
	assert_int_equal(ocitap_store_get_container(ro, "c1", 0, &c, &err), 0);
	assert_int_equal(c.pid, 42);
	assert_int_equal(c.owner, 1000); /* set once: a later refresh does not change it */
	assert_int_equal(c.phase, OCITAP_PHASE_STOPPED);
	assert_true(c.has_exit);
	assert_int_equal(c.exit_code, 3);
	assert_string_equal(c.annotations_json, "{\"io.podman\":\"x\\\"y\"}");
	ocitap_store_container_release(&c);
	ocitap_store_close(ro);
	ocitap_store_close(s);

	/* sequence numbers continue after a reopen */
	assert_int_equal(ocitap_store_open(path, 0, &s, &err), 0);
	ev = transition("c2", OCITAP_PHASE_UNKNOWN, OCITAP_PHASE_CREATING, "seccomp", 400);
	assert_int_equal(ocitap_store_put_container(s, "c2", 1, "/b2", 7, NULL, 0, -1, 400, &err), 0);
	assert_int_equal(ocitap_store_append_event(s, &ev, &seq, &err), 0);
	assert_int_equal(seq, 4);
	assert_int_equal(ocitap_store_foreach_event(s, NULL, 0, 1, collect, events, &err), 0);
	assert_string_equal(events, "2:transition:creating>running:poststart;3:transition:running>stopped:hangup;"
				    "4:transition:unknown>creating:seccomp;");
	events[0] = '\0';
	assert_int_equal(ocitap_store_foreach_event(s, "c2", 0, 0, collect, events, &err), 0);
	assert_string_equal(events, "4:transition:unknown>creating:seccomp;");
	assert_int_equal(ocitap_store_count_containers(s, OCITAP_PHASE_UNKNOWN), 2);
	assert_int_equal(ocitap_store_count_containers(s, OCITAP_PHASE_STOPPED), 1);

	/* retention: c1 stopped at 300 goes, c2 (not stopped) stays */
	assert_int_equal(ocitap_store_prune(s, 250, &err), 0);
	assert_int_equal(ocitap_store_prune(s, 301, &err), 1);
	assert_int_equal(ocitap_store_get_container(s, "c1", 0, &c, &err), -ENOENT);
	notif[0] = '\0';
	assert_int_equal(ocitap_store_foreach_notification(s, "c1", 1, count_notif, notif, &err), 0);
	assert_string_equal(notif, "");
	assert_int_equal(ocitap_store_count_containers(s, OCITAP_PHASE_UNKNOWN), 1);
	ocitap_store_close(s);
}

static void test_open_errors(void **unused)
{
	struct ocitap_store *s;

	assert_int_equal(ocitap_store_open("/nonexistent/dir/x.db", 0, &s, &err), -ENOENT);
	assert_non_null(strstr(err.message, "/nonexistent/dir/x.db"));
	assert_int_equal(ocitap_store_open("/nonexistent/x.db", OCITAP_STORE_READONLY, &s, &err), -ENOENT);
}

/* A write in a read-only store fails with an error, not a crash. */
static void test_readonly_refuses_writes(void **unused)
{
	struct ocitap_store *s;

	assert_int_equal(ocitap_store_open(path, 0, &s, &err), 0);
	ocitap_store_close(s);
	assert_int_equal(ocitap_store_open(path, OCITAP_STORE_READONLY, &s, &err), 0);
	assert_true(ocitap_store_count_containers(s, OCITAP_PHASE_UNKNOWN) >= 0);
	ocitap_store_close(s);
}

/* The last seq never goes back, even when pruning removes the newest
 * events (the event stream's Last-Event-ID relies on it); counts by phase;
 * meta values (push cursors) set, replaced and read back. */
/* A database an earlier ocitapd made (schema 1: a containers table, first
 * without the failed/error columns) opens, keeps its rows as run 1 of each
 * id with their events and counts, and a reader finds them; a read-only
 * open of a database no new ocitapd has opened says what to do. */
static void test_old_schema_migrated(void **unused)
{
	struct ocitap_store_container c = { 0 };
	struct ocitap_store *s = NULL;
	char events[256] = "", notif[128] = "";
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(db,
			     "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
			     "INSERT INTO meta VALUES ('schema', '1');"
			     "CREATE TABLE containers (id TEXT PRIMARY KEY, bundle TEXT, pid INTEGER NOT NULL DEFAULT 0,"
			     " annotations TEXT, phase TEXT NOT NULL DEFAULT 'unknown', created_wall_ns INTEGER NOT NULL,"
			     " updated_wall_ns INTEGER NOT NULL, stopped_wall_ns INTEGER, exit_code INTEGER,"
			     " signal INTEGER, oom INTEGER NOT NULL DEFAULT 0);"
			     "INSERT INTO containers (id, bundle, pid, phase, created_wall_ns, updated_wall_ns, exit_code,"
			     " signal) VALUES ('old', '/b', 7, 'stopped', 1, 2, 3, 0);"
			     "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, container_id TEXT NOT NULL,"
			     " kind TEXT NOT NULL, from_phase TEXT, to_phase TEXT, source TEXT, mono_ns INTEGER,"
			     " wall_ns INTEGER, exit_code INTEGER, signal INTEGER, oom INTEGER NOT NULL DEFAULT 0);"
			     "INSERT INTO events (container_id, kind, from_phase, to_phase, source, mono_ns, wall_ns)"
			     " VALUES ('old', 'transition', 'running', 'stopped', 'hangup', 2, 2);"
			     "CREATE TABLE notifications (container_id TEXT NOT NULL, syscall TEXT NOT NULL,"
			     " action TEXT NOT NULL, count INTEGER NOT NULL, PRIMARY KEY (container_id, syscall, action));"
			     "INSERT INTO notifications VALUES ('old', 'mkdir', 'continue', 5);",
			     NULL, NULL, NULL),
		SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(ocitap_store_open(path, OCITAP_STORE_READONLY, &s, &err), -EPROTO);
	assert_non_null(strstr(err.message, "start ocitapd once"));
	assert_int_equal(ocitap_store_open(path, 0, &s, &err), 0);
	assert_int_equal(ocitap_store_get_container(s, "old", 0, &c, &err), 0);
	assert_int_equal(c.exit_code, 3);
	assert_int_equal(c.run, 1);
	assert_int_equal(c.runs, 1);
	assert_int_equal(c.owner, -1); /* schema 1 did not know */
	assert_false(c.failed);
	ocitap_store_container_release(&c);
	assert_int_equal(ocitap_store_foreach_event(s, "old", 1, 0, collect, events, &err), 0);
	assert_string_equal(events, "1:transition:running>stopped:hangup;");
	assert_int_equal(ocitap_store_foreach_notification(s, "old", 1, count_notif, notif, &err), 0);
	assert_string_equal(notif, "mkdir/continue=5;");
	ocitap_store_close(s);
	/* and a second open (and a reader) finds the current schema there, names unknown */
	assert_int_equal(ocitap_store_open(path, 0, &s, &err), 0);
	ocitap_store_close(s);
	assert_int_equal(ocitap_store_open(path, OCITAP_STORE_READONLY, &s, &err), 0);
	assert_int_equal(ocitap_store_get_container(s, "old", 1, &c, &err), 0);
	assert_null(c.name);
	assert_null(c.manager);
	ocitap_store_container_release(&c);
	ocitap_store_close(s);
	assert_string_equal(schema_of(path), "3");
}

/* The store as schema 2 left it (runs without names; the containers view) */
static const char schema_2[] =
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"INSERT INTO meta VALUES ('schema', '2');"
	"CREATE TABLE runs (id TEXT NOT NULL, run INTEGER NOT NULL, bundle TEXT, pid INTEGER NOT NULL DEFAULT 0,"
	" annotations TEXT, phase TEXT NOT NULL DEFAULT 'unknown', created_wall_ns INTEGER NOT NULL,"
	" updated_wall_ns INTEGER NOT NULL, stopped_wall_ns INTEGER, exit_code INTEGER, signal INTEGER,"
	" oom INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0, error TEXT, init_start INTEGER,"
	" mnt_ns INTEGER, pid_ns INTEGER, cgroup TEXT, owner INTEGER, profile_status TEXT, profile_path TEXT,"
	" profile_error TEXT, PRIMARY KEY (id, run));"
	"CREATE VIEW containers AS SELECT r.*, (SELECT COUNT(*) FROM runs n WHERE n.id = r.id) AS runs FROM runs r"
	" WHERE NOT EXISTS (SELECT 1 FROM runs n WHERE n.id = r.id AND n.run > r.run);"
	"CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, container_id TEXT NOT NULL, kind TEXT NOT NULL,"
	" from_phase TEXT, to_phase TEXT, source TEXT, mono_ns INTEGER, wall_ns INTEGER, exit_code INTEGER,"
	" signal INTEGER, oom INTEGER NOT NULL DEFAULT 0, run INTEGER NOT NULL DEFAULT 1);"
	"CREATE TABLE notifications (container_id TEXT NOT NULL, run INTEGER NOT NULL DEFAULT 1,"
	" syscall TEXT NOT NULL, action TEXT NOT NULL, count INTEGER NOT NULL,"
	" PRIMARY KEY (container_id, run, syscall, action));"
	"CREATE TABLE spool_applied (name TEXT PRIMARY KEY, wall_ns INTEGER NOT NULL);"
	"INSERT INTO runs (id, run, bundle, pid, phase, created_wall_ns, updated_wall_ns, exit_code, signal, owner)"
	" VALUES ('two', 1, '/b', 5, 'stopped', 1, 2, 0, 0, 0), ('two', 2, '/b', 6, 'running', 3, 4, NULL, NULL, 0);"
	"INSERT INTO events (container_id, kind, from_phase, to_phase, source, mono_ns, wall_ns, run)"
	" VALUES ('two', 'transition', 'created', 'running', 'poststart', 3, 3, 2);";

/* A database ocitapd made with schema 2: a reader sees its runs with no
 * names (the database untouched); a writer adds the names to every run in
 * one step, keeps the rest, and names can be stored from then on. */
static void test_schema_2_migrated(void **unused)
{
	static const struct ocitap_names names = { .name = "web", .manager = "podman" };
	struct ocitap_store_container c = { 0 };
	struct ocitap_store *s = NULL;
	char events[256] = "", out[256] = "";
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, schema_2, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(ocitap_store_open(path, OCITAP_STORE_READONLY, &s, &err), 0);
	assert_int_equal(ocitap_store_get_container(s, "two", 0, &c, &err), 0);
	assert_int_equal(c.run, 2);
	assert_int_equal(c.runs, 2);
	assert_null(c.name);
	assert_null(c.pod);
	ocitap_store_container_release(&c);
	assert_int_equal(ocitap_store_foreach_run(s, "two", collect_names, out, &err), 0);
	assert_string_equal(out, "two#1:-/-/-/-;two#2:-/-/-/-;");
	assert_int_equal(ocitap_store_count_containers(s, OCITAP_PHASE_RUNNING), 1);
	ocitap_store_close(s);
	assert_string_equal(schema_of(path), "2"); /* a reader changes nothing */

	assert_int_equal(ocitap_store_open(path, 0, &s, &err), 0);
	assert_string_equal(schema_of(path), "3");
	assert_int_equal(ocitap_store_begin(s, &err), 0);
	assert_int_equal(ocitap_store_set_names(s, "two", 2, &names, &err), 0);
	assert_int_equal(ocitap_store_commit(s, &err), 0);
	assert_int_equal(ocitap_store_get_container(s, "two", 0, &c, &err), 0);
	assert_string_equal(c.name, "web");
	assert_string_equal(c.manager, "podman");
	assert_int_equal(c.pid, 6);
	ocitap_store_container_release(&c);
	assert_int_equal(ocitap_store_get_container(s, "two", 1, &c, &err), 0);
	assert_null(c.name);
	assert_int_equal(c.exit_code, 0);
	assert_true(c.has_exit);
	ocitap_store_container_release(&c);
	assert_int_equal(ocitap_store_foreach_event(s, "two", 2, 0, collect, events, &err), 0);
	assert_string_equal(events, "1:transition:created>running:poststart;");
	ocitap_store_close(s);

	/* the view of the latest runs has the names too (readers of the SQL) */
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	{
		sqlite3_stmt *st = NULL;

		assert_int_equal(sqlite3_prepare_v2(db, "SELECT name, manager, runs FROM containers WHERE id = 'two'",
						    -1, &st, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(st, 0), "web");
		assert_string_equal((const char *)sqlite3_column_text(st, 1), "podman");
		assert_int_equal(sqlite3_column_int(st, 2), 2);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	/* and opened again, nothing more to do */
	assert_int_equal(ocitap_store_open(path, 0, &s, &err), 0);
	ocitap_store_close(s);
	assert_string_equal(schema_of(path), "3");
}

/* A run's names: stored, read by every reader; the first known of each is
 * kept (a later report cannot rename a run), an unknown one may still be
 * learnt; each run its own. */
static void test_names(void **unused)
{
	static const struct ocitap_names first = { .name = "web", .manager = "docker" };
	static const struct ocitap_names later = { .name = "evil", .pod = "web-0", .pod_namespace = "shop",
						   .manager = "kubernetes" };
	struct ocitap_store_container c = { 0 };
	struct ocitap_store *s = NULL;
	char out[256] = "";

	assert_int_equal(ocitap_store_open(path, 0, &s, &err), 0);
	assert_int_equal(ocitap_store_begin(s, &err), 0);
	assert_int_equal(ocitap_store_put_container(s, "n", 1, "/b", 10, NULL, 0, 0, 100, &err), 0);
	assert_int_equal(ocitap_store_set_names(s, "n", 1, &first, &err), 0);
	assert_int_equal(ocitap_store_set_names(s, "n", 1, &later, &err), 0);
	assert_int_equal(ocitap_store_put_container(s, "n", 2, "/b", 20, NULL, 0, 0, 200, &err), 0);
	assert_int_equal(ocitap_store_put_container(s, "m", 1, "/b", 30, NULL, 0, 0, 300, &err), 0);
	assert_int_equal(ocitap_store_set_names(s, "m", 1, &later, &err), 0);
	assert_int_equal(ocitap_store_commit(s, &err), 0);
	ocitap_store_close(s);

	assert_int_equal(ocitap_store_open(path, OCITAP_STORE_READONLY, &s, &err), 0);
	assert_int_equal(ocitap_store_get_container(s, "n", 1, &c, &err), 0);
	assert_string_equal(c.name, "web");
	assert_string_equal(c.manager, "docker");
	assert_string_equal(c.pod, "web-0");
	assert_string_equal(c.pod_namespace, "shop");
	ocitap_store_container_release(&c);
	assert_int_equal(ocitap_store_get_container(s, "n", 0, &c, &err), 0);
	assert_int_equal(c.run, 2);
	assert_null(c.name);
	ocitap_store_container_release(&c);
	assert_int_equal(ocitap_store_foreach_run(s, "n", collect_names, out, &err), 0);
	assert_string_equal(out, "n#1:web/web-0/shop/docker;n#2:-/-/-/-;");
	out[0] = '\0';
	assert_int_equal(ocitap_store_foreach_container(s, collect_names, out, &err), 0);
	assert_string_equal(out, "n#2:-/-/-/-;m#1:evil/web-0/shop/kubernetes;");
	ocitap_store_close(s);
}

static int collect_run(const struct ocitap_store_container *c, int64_t stopped_wall_ns, void *userdata)
{
	char *out = userdata;
	char line[128];

	snprintf(line, sizeof(line), "%s#%lld/%lld:%s:%d;", c->id, (long long)c->run, (long long)c->runs,
		 ocitap_phase_to_string(c->phase), c->has_exit ? c->exit_code : -1);
	(void)stopped_wall_ns;
	strcat(out, line);
	return 0;
}

/* Two runs of one id: each its own phase, exit, events and counts; the
 * latest is what a container is read as; the older run is pruned first. */
static void test_runs_apart(void **unused)
{
	struct ocitap_store_container c = { 0 };
	struct ocitap_run_init in = { .start_ticks = 1234, .mnt_ns = 4026531840u, .pid_ns = 4026531836u,
				      .cgroup = "/ocitap/x" };
	struct ocitap_store *s = NULL;
	struct ocitap_event ev;
	char out[512] = "", notif[128] = "";

	assert_int_equal(ocitap_store_open(path, 0, &s, &err), 0);
	assert_int_equal(ocitap_store_begin(s, &err), 0);
	assert_int_equal(ocitap_store_put_container(s, "x", 1, "/b", 10, NULL, 0, 1000, 100, &err), 0);
	assert_int_equal(ocitap_store_set_run_init(s, "x", 1, &in, &err), 0);
	ev = transition("x", OCITAP_PHASE_RUNNING, OCITAP_PHASE_STOPPED, "pidfd", 200);
	ev.has_exit = true;
	ev.exit_code = 3;
	assert_int_equal(ocitap_store_append_event(s, &ev, NULL, &err), 0);
	assert_int_equal(ocitap_store_add_notifications(s, "x", 1, "mkdir", "continue", 2, &err), 0);
	assert_int_equal(ocitap_store_put_container(s, "x", 2, "/b", 20, NULL, 0, 0, 300, &err), 0);
	ev = transition("x", OCITAP_PHASE_UNKNOWN, OCITAP_PHASE_RUNNING, "poststart", 300);
	ev.run = 2;
	assert_int_equal(ocitap_store_append_event(s, &ev, NULL, &err), 0);
	assert_int_equal(ocitap_store_add_notifications(s, "x", 2, "mkdir", "continue", 7, &err), 0);
	assert_int_equal(ocitap_store_commit(s, &err), 0);

	assert_int_equal(ocitap_store_get_container(s, "x", 0, &c, &err), 0);
	assert_int_equal(c.run, 2);
	assert_int_equal(c.runs, 2);
	assert_int_equal(c.pid, 20);
	assert_int_equal(c.owner, 0);
	assert_int_equal(c.phase, OCITAP_PHASE_RUNNING);
	assert_false(c.has_exit);
	assert_int_equal(c.init_start_ticks, 0);
	assert_int_equal(c.notifications, 7); /* run 2's only */
	ocitap_store_container_release(&c);
	assert_int_equal(ocitap_store_get_container(s, "x", 1, &c, &err), 0);
	assert_int_equal(c.pid, 10);
	assert_int_equal(c.notifications, 2);
	assert_int_equal(c.exit_code, 3);
	assert_int_equal(c.init_start_ticks, 1234);
	assert_int_equal(c.mnt_ns, 4026531840u);
	assert_string_equal(c.cgroup, "/ocitap/x");
	ocitap_store_container_release(&c);
	assert_int_equal(ocitap_store_get_container(s, "x", 3, &c, &err), -ENOENT);
	assert_non_null(strstr(err.message, "no run 3"));
	assert_int_equal(ocitap_store_foreach_notification(s, "x", 2, count_notif, notif, &err), 0);
	assert_string_equal(notif, "mkdir/continue=7;");
	assert_int_equal(ocitap_store_foreach_container(s, collect_run, out, &err), 0);
	assert_string_equal(out, "x#2/2:running:-1;");
	out[0] = '\0';
	assert_int_equal(ocitap_store_foreach_run(s, "x", collect_run, out, &err), 0);
	assert_string_equal(out, "x#1/2:stopped:3;x#2/2:running:-1;");
	out[0] = '\0';
	assert_int_equal(ocitap_store_foreach_event(s, "x", 2, 0, collect, out, &err), 0);
	assert_string_equal(out, "2:transition:unknown>running:poststart;");
	assert_int_equal(ocitap_store_count_containers(s, OCITAP_PHASE_UNKNOWN), 1);

	/* retention takes the stopped run 1 only */
	assert_int_equal(ocitap_store_begin(s, &err), 0);
	assert_int_equal(ocitap_store_prune(s, 1000, &err), 1);
	assert_int_equal(ocitap_store_commit(s, &err), 0);
	out[0] = '\0';
	assert_int_equal(ocitap_store_foreach_run(s, "x", collect_run, out, &err), 0);
	assert_string_equal(out, "x#2/1:running:-1;");
	out[0] = '\0';
	assert_int_equal(ocitap_store_foreach_event(s, "x", 0, 0, collect, out, &err), 0);
	assert_string_equal(out, "2:transition:unknown>running:poststart;");
	ocitap_store_close(s);
}

/* The container list read from a cursor: only what comes after it in the
 * list's order (creation time, then id), each id by its latest run; the
 * order has its index, and one container's events are read by theirs. */
static void test_list_after_cursor(void **unused)
{
	struct ocitap_store *s;
	struct ocitap_event ev;
	char out[512] = "";
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	assert_int_equal(ocitap_store_open(path, 0, &s, &err), 0);
	assert_int_equal(ocitap_store_begin(s, &err), 0);
	assert_int_equal(ocitap_store_put_container(s, "a", 1, "/b", 0, NULL, 0, 0, 100, &err), 0);
	assert_int_equal(ocitap_store_put_container(s, "c", 1, "/b", 0, NULL, 0, 0, 200, &err), 0);
	assert_int_equal(ocitap_store_put_container(s, "b", 1, "/b", 0, NULL, 0, 0, 200, &err), 0);
	assert_int_equal(ocitap_store_put_container(s, "d", 1, "/b", 0, NULL, 0, 0, 300, &err), 0);
	assert_int_equal(ocitap_store_put_container(s, "a", 2, "/b", 0, NULL, 0, 0, 400, &err), 0);
	for (int i = 0; i < 3; i++) {
		ev = transition(i == 1 ? "b" : "c", OCITAP_PHASE_UNKNOWN, OCITAP_PHASE_RUNNING, "poststart", 500 + i);
		assert_int_equal(ocitap_store_append_event(s, &ev, NULL, &err), 0);
	}
	assert_int_equal(ocitap_store_commit(s, &err), 0);

	assert_int_equal(ocitap_store_foreach_container(s, collect_run, out, &err), 0);
	assert_string_equal(out, "b#1/1:running:-1;c#1/1:running:-1;d#1/1:unknown:-1;a#2/2:unknown:-1;");
	out[0] = '\0';
	/* after b (200): c at the same time, then the later ones */
	assert_int_equal(ocitap_store_foreach_container_after(s, 200, "b", collect_run, out, &err), 0);
	assert_string_equal(out, "c#1/1:running:-1;d#1/1:unknown:-1;a#2/2:unknown:-1;");
	out[0] = '\0';
	/* run 1 of a (100) is not the list's: a cursor before everything gives all four */
	assert_int_equal(ocitap_store_foreach_container_after(s, 0, "", collect_run, out, &err), 0);
	assert_string_equal(out, "b#1/1:running:-1;c#1/1:running:-1;d#1/1:unknown:-1;a#2/2:unknown:-1;");
	out[0] = '\0';
	assert_int_equal(ocitap_store_foreach_container_after(s, 400, "a", collect_run, out, &err), 0);
	assert_string_equal(out, "");
	assert_int_equal(ocitap_store_foreach_event(s, "c", 0, 0, collect, out, &err), 0);
	assert_string_equal(out, "1:transition:unknown>running:poststart;3:transition:unknown>running:poststart;");
	out[0] = '\0';
	assert_int_equal(ocitap_store_foreach_event(s, "b", 1, 0, collect, out, &err), 0);
	assert_string_equal(out, "2:transition:unknown>running:poststart;");
	ocitap_store_close(s);

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'runs_by_created'",
					    -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_seq_phases_meta(void **unused)
{
	struct ocitap_store *s;
	struct ocitap_event ev = transition("a", OCITAP_PHASE_RUNNING, OCITAP_PHASE_STOPPED, "hangup", 1000);
	int64_t counts[OCITAP_PHASE_COUNT], seq = 0, failed = -1;
	char v[32];

	assert_int_equal(ocitap_store_open(path, 0, &s, &err), 0);
	assert_int_equal(ocitap_store_last_seq(s), 0);
	assert_int_equal(ocitap_store_get_meta(s, "push-cursor:x", v, sizeof(v)), -ENOENT);
	assert_int_equal(ocitap_store_begin(s, &err), 0);
	assert_int_equal(ocitap_store_put_container(s, "a", 1, "/b", 1, NULL, 0, 0, 1000, &err), 0);
	assert_int_equal(ocitap_store_put_container(s, "b", 1, "/b", 2, NULL, 0, 0, 1000, &err), 0);
	assert_int_equal(ocitap_store_append_event(s, &ev, NULL, &err), 0);
	assert_int_equal(ocitap_store_append_event(s, &ev, &seq, &err), 0);
	assert_int_equal(ocitap_store_set_meta(s, "push-cursor:x", "1", &err), 0);
	assert_int_equal(ocitap_store_set_meta(s, "push-cursor:x", "2", &err), 0);
	assert_int_equal(ocitap_store_commit(s, &err), 0);
	assert_int_equal(seq, 2);
	assert_int_equal(ocitap_store_last_seq(s), 2);
	assert_int_equal(ocitap_store_count_by_phase(s, counts, &failed), 0);
	assert_int_equal(failed, 0);
	assert_int_equal(counts[OCITAP_PHASE_STOPPED], 1);
	assert_int_equal(counts[OCITAP_PHASE_UNKNOWN], 1);
	assert_int_equal(counts[OCITAP_PHASE_RUNNING], 0);
	/* a failed container is counted apart, and says why */
	{
		struct ocitap_store_container c = { 0 };

		assert_int_equal(ocitap_store_begin(s, &err), 0);
		assert_int_equal(ocitap_store_set_failed(s, "b", 1, "never started", &err), 0);
		assert_int_equal(ocitap_store_commit(s, &err), 0);
		assert_int_equal(ocitap_store_count_by_phase(s, counts, &failed), 0);
		assert_int_equal(failed, 1);
		assert_int_equal(counts[OCITAP_PHASE_UNKNOWN], 0);
		assert_int_equal(ocitap_store_get_container(s, "b", 0, &c, &err), 0);
		assert_true(c.failed);
		assert_string_equal(c.error, "never started");
		ocitap_store_container_release(&c);
		assert_int_equal(ocitap_store_get_container(s, "a", 0, &c, &err), 0);
		assert_false(c.failed);
		assert_null(c.error);
		ocitap_store_container_release(&c);
	}
	assert_int_equal(ocitap_store_get_meta(s, "push-cursor:x", v, sizeof(v)), 0);
	assert_string_equal(v, "2");
	/* every event of "a" pruned: the high-water mark stays */
	assert_int_equal(ocitap_store_begin(s, &err), 0);
	assert_int_equal(ocitap_store_prune(s, 2000, &err), 1);
	assert_int_equal(ocitap_store_commit(s, &err), 0);
	assert_int_equal(ocitap_store_last_seq(s), 2);
	assert_int_equal(ocitap_store_begin(s, &err), 0);
	ev.container_id = "b";
	assert_int_equal(ocitap_store_append_event(s, &ev, &seq, &err), 0);
	assert_int_equal(ocitap_store_commit(s, &err), 0);
	assert_int_equal(seq, 3);
	ocitap_store_close(s);
	/* and a reader sees the same */
	assert_int_equal(ocitap_store_open(path, OCITAP_STORE_READONLY, &s, &err), 0);
	assert_int_equal(ocitap_store_last_seq(s), 3);
	assert_int_equal(ocitap_store_get_meta(s, "push-cursor:x", v, 2), 0);
	assert_string_equal(v, "2");
	ocitap_store_close(s);
}

/* A reader's begin_read: one state of the store until it ends, whatever
 * the writer commits meanwhile (an API answer made of two reads). */
static void test_read_snapshot(void **unused)
{
	struct ocitap_store *w = NULL, *r = NULL;
	struct ocitap_store_container c = { 0 };
	char out[256] = "";

	assert_int_equal(ocitap_store_open(path, 0, &w, &err), 0);
	assert_int_equal(ocitap_store_begin(w, &err), 0);
	assert_int_equal(ocitap_store_put_container(w, "x", 1, "/b", 10, NULL, 0, 0, 100, &err), 0);
	assert_int_equal(ocitap_store_commit(w, &err), 0);
	assert_int_equal(ocitap_store_open(path, OCITAP_STORE_READONLY, &r, &err), 0);
	assert_int_equal(ocitap_store_begin_read(r, &err), 0);
	assert_int_equal(ocitap_store_get_container(r, "x", 0, &c, &err), 0);
	assert_int_equal(c.run, 1);
	ocitap_store_container_release(&c);
	/* a second run of x, and another container, committed in between */
	assert_int_equal(ocitap_store_begin(w, &err), 0);
	assert_int_equal(ocitap_store_put_container(w, "x", 2, "/b", 20, NULL, 0, 0, 200, &err), 0);
	assert_int_equal(ocitap_store_put_container(w, "y", 1, "/b", 30, NULL, 0, 0, 300, &err), 0);
	assert_int_equal(ocitap_store_commit(w, &err), 0);
	assert_int_equal(ocitap_store_foreach_container(r, collect_names, out, &err), 0);
	assert_string_equal(out, "x#1:-/-/-/-;");
	ocitap_store_rollback(r);
	out[0] = '\0';
	assert_int_equal(ocitap_store_foreach_container(r, collect_names, out, &err), 0);
	assert_string_equal(out, "x#2:-/-/-/-;y#1:-/-/-/-;");
	ocitap_store_close(r);
	ocitap_store_close(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lifecycle_round_trip, setup, teardown),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test_setup_teardown(test_readonly_refuses_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq_phases_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_schema_migrated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runs_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_2_migrated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_after_cursor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_snapshot, setup, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
