/*
 * store-schema.c: the store's tables (schema 3) and how a database an
 * earlier ocitapd made (schema 1 or 2) is brought up to them. See
 * store-schema.h.
 */
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "store-schema.h"

/*
 * Schema 3: a record is one run of one container id (runs, keyed by id and
 * run, numbered from 1), with the names people use for it (name, pod,
 * namespace, manager: names.h); events and notification counts carry their
 * run. containers is a view: the latest run of each id, with how many it
 * had (what schema 1's table of the same name held, for readers of the SQL).
 * Schema 2 was the same without the names. runs_by_created is the order
 * the container list is read in, so that a page of it reads that page, not
 * every run (made on any database that lacks it; no schema number of its own).
 */
static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS runs ("
	"  id TEXT NOT NULL, run INTEGER NOT NULL, bundle TEXT, pid INTEGER NOT NULL DEFAULT 0, annotations TEXT,"
	"  phase TEXT NOT NULL DEFAULT 'unknown', created_wall_ns INTEGER NOT NULL, updated_wall_ns INTEGER NOT NULL,"
	"  stopped_wall_ns INTEGER, exit_code INTEGER, signal INTEGER, oom INTEGER NOT NULL DEFAULT 0,"
	"  failed INTEGER NOT NULL DEFAULT 0, error TEXT,"
	"  init_start INTEGER, mnt_ns INTEGER, pid_ns INTEGER, cgroup TEXT, owner INTEGER,"
	"  profile_status TEXT, profile_path TEXT, profile_error TEXT,"
	"  name TEXT, pod TEXT, namespace TEXT, manager TEXT,"
	"  PRIMARY KEY (id, run));"
	"CREATE INDEX IF NOT EXISTS runs_by_created ON runs (created_wall_ns, id);"
	"CREATE VIEW IF NOT EXISTS containers AS SELECT r.*,"
	"  (SELECT COUNT(*) FROM runs n WHERE n.id = r.id) AS runs FROM runs r"
	"  WHERE NOT EXISTS (SELECT 1 FROM runs n WHERE n.id = r.id AND n.run > r.run);"
	"CREATE TABLE IF NOT EXISTS events ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT, container_id TEXT NOT NULL, kind TEXT NOT NULL,"
	"  from_phase TEXT, to_phase TEXT, source TEXT, mono_ns INTEGER, wall_ns INTEGER,"
	"  exit_code INTEGER, signal INTEGER, oom INTEGER NOT NULL DEFAULT 0, run INTEGER NOT NULL DEFAULT 1);"
	"CREATE INDEX IF NOT EXISTS events_by_container ON events (container_id, seq);"
	"CREATE INDEX IF NOT EXISTS events_by_run ON events (container_id, run, seq);"
	"CREATE TABLE IF NOT EXISTS notifications ("
	"  container_id TEXT NOT NULL, run INTEGER NOT NULL DEFAULT 1, syscall TEXT NOT NULL, action TEXT NOT NULL,"
	"  count INTEGER NOT NULL, PRIMARY KEY (container_id, run, syscall, action));"
	"CREATE TABLE IF NOT EXISTS spool_applied (name TEXT PRIMARY KEY, wall_ns INTEGER NOT NULL);"
	"INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', '3');";

/* Schema 1 (a containers table, one row per id) to 2, in one transaction:
 * every record it held becomes run 1 of its id. */
static const char migrate_1_to_2[] =
	"BEGIN IMMEDIATE;"
	"CREATE TABLE runs ("
	"  id TEXT NOT NULL, run INTEGER NOT NULL, bundle TEXT, pid INTEGER NOT NULL DEFAULT 0, annotations TEXT,"
	"  phase TEXT NOT NULL DEFAULT 'unknown', created_wall_ns INTEGER NOT NULL, updated_wall_ns INTEGER NOT NULL,"
	"  stopped_wall_ns INTEGER, exit_code INTEGER, signal INTEGER, oom INTEGER NOT NULL DEFAULT 0,"
	"  failed INTEGER NOT NULL DEFAULT 0, error TEXT,"
	"  init_start INTEGER, mnt_ns INTEGER, pid_ns INTEGER, cgroup TEXT, owner INTEGER,"
	"  profile_status TEXT, profile_path TEXT, profile_error TEXT,"
	"  PRIMARY KEY (id, run));"
	"INSERT INTO runs (id, run, bundle, pid, annotations, phase, created_wall_ns, updated_wall_ns,"
	"  stopped_wall_ns, exit_code, signal, oom, failed, error)"
	"  SELECT id, 1, bundle, pid, annotations, phase, created_wall_ns, updated_wall_ns,"
	"  stopped_wall_ns, exit_code, signal, oom, failed, error FROM containers;"
	"DROP TABLE containers;"
	"ALTER TABLE events ADD COLUMN run INTEGER NOT NULL DEFAULT 1;"
	"CREATE TABLE notifications_2 ("
	"  container_id TEXT NOT NULL, run INTEGER NOT NULL DEFAULT 1, syscall TEXT NOT NULL, action TEXT NOT NULL,"
	"  count INTEGER NOT NULL, PRIMARY KEY (container_id, run, syscall, action));"
	"INSERT INTO notifications_2 (container_id, run, syscall, action, count)"
	"  SELECT container_id, 1, syscall, action, count FROM notifications;"
	"DROP TABLE notifications;"
	"ALTER TABLE notifications_2 RENAME TO notifications;"
	"INSERT INTO meta (key, value) VALUES ('schema', '2') ON CONFLICT (key) DO UPDATE SET value = '2';"
	"COMMIT;";

/* Schema 2 to 3, in one transaction: every run gets its names, unknown. */
static const char migrate_2_to_3[] =
	"BEGIN IMMEDIATE;"
	"ALTER TABLE runs ADD COLUMN name TEXT;"
	"ALTER TABLE runs ADD COLUMN pod TEXT;"
	"ALTER TABLE runs ADD COLUMN namespace TEXT;"
	"ALTER TABLE runs ADD COLUMN manager TEXT;"
	"INSERT INTO meta (key, value) VALUES ('schema', '3') ON CONFLICT (key) DO UPDATE SET value = '3';"
	"COMMIT;";

static bool has_row(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	bool yes;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return false;
	yes = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	return yes;
}

bool ocitap_store_schema_is_1(sqlite3 *db)
{
	return has_row(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'containers'");
}

bool ocitap_store_schema_is_2(sqlite3 *db)
{
	return has_row(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'runs'") &&
	       !has_row(db, "SELECT 1 FROM pragma_table_info('runs') WHERE name = 'name'");
}

/* A transaction that failed part way is undone, and SQLite's error kept. */
static int exec_all_or_nothing(sqlite3 *db, const char *sql, char **msg)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, msg);

	if (rc != SQLITE_OK && sqlite3_get_autocommit(db) == 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static int upgrade_from_1(sqlite3 *db, char **msg)
{
	static const char *const added[] = {
		"ALTER TABLE containers ADD COLUMN failed INTEGER NOT NULL DEFAULT 0",
		"ALTER TABLE containers ADD COLUMN error TEXT",
	};
	int rc;

	if (!ocitap_store_schema_is_1(db))
		return SQLITE_OK;
	if (!has_row(db, "SELECT 1 FROM pragma_table_info('containers') WHERE name = 'failed'"))
		for (size_t i = 0; i < sizeof(added) / sizeof(added[0]); i++)
			if ((rc = sqlite3_exec(db, added[i], NULL, NULL, msg)) != SQLITE_OK)
				return rc;
	return exec_all_or_nothing(db, migrate_1_to_2, msg);
}

/* A database of schema 1 (its containers a table, not the view): its
 * columns made current (failed, error), then brought to schema 2; one of
 * schema 2 (runs without names) to 3; then whatever of schema 3 is
 * missing is made. */
int ocitap_store_schema_setup(sqlite3 *db, char **msg)
{
	int rc = upgrade_from_1(db, msg);

	if (rc == SQLITE_OK && ocitap_store_schema_is_2(db))
		rc = exec_all_or_nothing(db, migrate_2_to_3, msg);
	return rc == SQLITE_OK ? sqlite3_exec(db, schema, NULL, NULL, msg) : rc;
}

/* Readers of a schema-2 database see its runs with unknown names: a
 * temporary view (a read-only connection may make one) in front of the
 * table, so that every statement reads the same columns. */
int ocitap_store_schema_read_2(sqlite3 *db, char **msg)
{
	return sqlite3_exec(db,
			    "CREATE TEMP VIEW runs AS SELECT *, NULL AS name, NULL AS pod, NULL AS namespace,"
			    " NULL AS manager FROM main.runs",
			    NULL, NULL, msg);
}
