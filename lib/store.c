/*
 * store.c: the SQLite store behind ocitapd. Prepared statements are made
 * once at open; every write goes through them.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "macro.h"
#include "store-schema.h"
#include "store-internal.h"
#include "store.h"

enum {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_PUT_CONTAINER,
	ST_APPEND_EVENT,
	ST_SET_PHASE,
	ST_SET_EXIT,
	ST_ADD_NOTIF,
	ST_GET_CONTAINER,
	ST_SET_FAILED,
	ST_SET_INIT,
	ST_SET_PROFILE,
	ST_SET_NAMES,
	ST_LAST_EVENT, /* of one run: read for every container of a list */
	ST_COUNT,
};

/* A run's notifications, every syscall and action (the primary key's index) */
#define NOTIFICATION_TOTAL \
	"(SELECT COALESCE(SUM(count), 0) FROM notifications m WHERE m.container_id = r.id AND m.run = r.run)"

static const char *const statements[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_PUT_CONTAINER] = "INSERT INTO runs (id, run, bundle, pid, annotations, created_wall_ns, updated_wall_ns,"
			     " owner) VALUES (?1, ?6, ?2, ?3, ?4, ?5, ?5, ?7) ON CONFLICT (id, run) DO UPDATE SET"
			     " bundle = COALESCE(?2, bundle), pid = CASE WHEN ?3 > 0 THEN ?3 ELSE pid END,"
			     " annotations = COALESCE(?4, annotations), updated_wall_ns = ?5,"
			     " owner = COALESCE(owner, ?7)",
	[ST_APPEND_EVENT] = "INSERT INTO events (container_id, kind, from_phase, to_phase, source, mono_ns, wall_ns,"
			    " exit_code, signal, oom, run) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ST_SET_PHASE] = "UPDATE runs SET phase = ?2, updated_wall_ns = ?3,"
			 " stopped_wall_ns = CASE WHEN ?2 = 'stopped' THEN ?3 ELSE stopped_wall_ns END"
			 " WHERE id = ?1 AND run = ?4",
	[ST_SET_EXIT] = "UPDATE runs SET exit_code = COALESCE(exit_code, ?2), signal = COALESCE(signal, ?3),"
			" oom = MAX(oom, ?4) WHERE id = ?1 AND run = ?5",
	[ST_ADD_NOTIF] = "INSERT INTO notifications (container_id, run, syscall, action, count)"
			 " VALUES (?1, ?5, ?2, ?3, ?4) ON CONFLICT DO UPDATE SET count = count + ?4",
	[ST_GET_CONTAINER] =
		"SELECT id, bundle, pid, annotations, phase, created_wall_ns, updated_wall_ns,"
		" exit_code, signal, oom, failed, error, run,"
		" (SELECT COUNT(*) FROM runs n WHERE n.id = r.id), init_start, mnt_ns, pid_ns, cgroup, owner,"
		" profile_status, profile_path, profile_error, name, pod, namespace, manager, " NOTIFICATION_TOTAL
		" FROM runs r WHERE id = ?1 AND (run = ?2 OR (?2 IS NULL AND NOT EXISTS"
		" (SELECT 1 FROM runs n WHERE n.id = r.id AND n.run > r.run)))",
	[ST_SET_FAILED] = "UPDATE runs SET failed = 1, error = ?2 WHERE id = ?1 AND run = ?3",
	[ST_SET_PROFILE] = "UPDATE runs SET profile_status = ?3, profile_path = COALESCE(?4, profile_path),"
			   " profile_error = ?5 WHERE id = ?1 AND run = ?2",
	[ST_SET_INIT] = "UPDATE runs SET init_start = ?3, mnt_ns = ?4, pid_ns = ?5, cgroup = COALESCE(?6, cgroup)"
			" WHERE id = ?1 AND run = ?2",
	/* the first known is kept: what the run's creation said */
	[ST_SET_NAMES] = "UPDATE runs SET name = COALESCE(name, ?3), pod = COALESCE(pod, ?4),"
			 " namespace = COALESCE(namespace, ?5), manager = COALESCE(manager, ?6)"
			 " WHERE id = ?1 AND run = ?2",
	[ST_LAST_EVENT] = "SELECT seq, container_id, kind, from_phase, to_phase, source, mono_ns, wall_ns,"
			  " exit_code, signal, oom, run FROM events WHERE container_id = ?1 AND run = ?2"
			  " ORDER BY seq DESC LIMIT 1",
};

struct ocitap_store {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	bool readonly, sync_later;
	char *wal_path;
};

sqlite3 *ocitap_store_db(struct ocitap_store *s)
{
	return s->db;
}

int ocitap_store_db_error(struct ocitap_store *s, struct ocitap_error *err, const char *what)
{
	int rc = sqlite3_extended_errcode(s->db);
	int code = (rc & 0xff) == SQLITE_FULL	    ? -ENOSPC
		   : (rc & 0xff) == SQLITE_READONLY ? -EROFS
		   : (rc & 0xff) == SQLITE_BUSY	    ? -EBUSY
						    : -EIO;

	return ocitap_error_set(err, code, NULL, "%s: %s", what, sqlite3_errmsg(s->db));
}

static int db_error(struct ocitap_store *s, struct ocitap_error *err, const char *what)
{
	return ocitap_store_db_error(s, err, what);
}

static int step_done(struct ocitap_store *s, int which, struct ocitap_error *err)
{
	sqlite3_stmt *st = s->st[which];
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_error(s, err, statements[which]);
	return 0;
}

/* SQLite's memory statistics take a process-wide mutex on every allocation:
 * every HTTP thread's answer contended on it. Off, before SQLite starts. */
static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int ocitap_store_open(const char *path, unsigned flags, struct ocitap_store **ret, struct ocitap_error *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	struct ocitap_store *s;
	int oflags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
	struct stat st;
	int rc;

	/* a link planted where the database goes is refused, not followed:
	 * here, and by SQLite itself (SQLITE_OPEN_NOFOLLOW) */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
		return ocitap_error_set(err, -ELOOP, NULL, "%s is a symbolic link: refusing to open it", path);
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return ocitap_error_set(err, -EINVAL, NULL, "%s is not a regular file: refusing to open it", path);
	pthread_once(&once, sqlite_setup);
	s = calloc(1, sizeof(*s));
	if (!s)
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	s->readonly = flags & OCITAP_STORE_READONLY;
	s->sync_later = !s->readonly && (flags & OCITAP_STORE_SYNC_LATER);
	if (s->sync_later && asprintf(&s->wal_path, "%s-wal", path) < 0) {
		free(s);
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	}
	oflags |= s->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &s->db, oflags, NULL);
	if (rc != SQLITE_OK) {
		int r = ocitap_error_set(err, rc == SQLITE_CANTOPEN ? -ENOENT : -EIO, NULL, "cannot open %s: %s", path,
					 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		ocitap_store_close(s);
		return r;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (!s->readonly) {
		char *msg = NULL;

		rc = sqlite3_exec(s->db,
				  s->sync_later ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
						: "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
				  NULL, NULL, &msg);
		if (rc == SQLITE_OK)
			rc = ocitap_store_schema_setup(s->db, &msg);
		if (rc != SQLITE_OK) {
			int r = ocitap_error_set(err, -EIO, NULL, "cannot set up %s: %s", path, msg ? msg : "?");

			sqlite3_free(msg);
			ocitap_store_close(s);
			return r;
		}
	}
	if (s->readonly && ocitap_store_schema_is_2(s->db)) {
		char *msg = NULL;

		if (ocitap_store_schema_read_2(s->db, &msg) != SQLITE_OK) {
			int r = ocitap_error_set(err, -EIO, NULL, "cannot read %s (store schema 2): %s", path,
						 msg ? msg : "?");

			sqlite3_free(msg);
			ocitap_store_close(s);
			return r;
		}
	}
	if (s->readonly && ocitap_store_schema_is_1(s->db)) {
		int r = ocitap_error_set(err, -EPROTO, NULL,
					 "%s was written by an older ocitapd (store schema 1): start ocitapd once to "
					 "bring it to schema %d",
					 path, OCITAP_STORE_SCHEMA_VERSION);

		ocitap_store_close(s);
		return r;
	}
	for (int i = 0; i < ST_COUNT; i++) {
		if (s->readonly && i != ST_GET_CONTAINER && i != ST_LAST_EVENT && i != ST_BEGIN && i != ST_COMMIT &&
		    i != ST_ROLLBACK)
			continue;
		if (sqlite3_prepare_v3(s->db, statements[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) !=
		    SQLITE_OK) {
			int r = db_error(s, err, "cannot prepare a statement");

			ocitap_store_close(s);
			return r;
		}
	}
	*ret = s;
	return 0;
}

void ocitap_store_close(struct ocitap_store *s)
{
	if (!s)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	free(s->wal_path);
	free(s);
}

int ocitap_store_begin(struct ocitap_store *s, struct ocitap_error *err)
{
	return step_done(s, ST_BEGIN, err);
}

int ocitap_store_begin_read(struct ocitap_store *s, struct ocitap_error *err)
{
	if (sqlite3_exec(s->db, "BEGIN DEFERRED", NULL, NULL, NULL) != SQLITE_OK)
		return db_error(s, err, "begin a read");
	return 0;
}

int ocitap_store_commit(struct ocitap_store *s, struct ocitap_error *err)
{
	return step_done(s, ST_COMMIT, err);
}

int ocitap_store_sync(struct ocitap_store *s, struct ocitap_error *err)
{
	int fd, r = 0;

	if (!s->sync_later)
		return 0;
	/* synchronous=NORMAL syncs the WAL before each checkpoint and the
	 * database after it: what is not yet on disk is in the WAL */
	fd = open(s->wal_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : ocitap_error_set(err, -errno, NULL, "cannot open %s: %m", s->wal_path);
	if (fsync(fd) < 0)
		r = ocitap_error_set(err, -errno, NULL, "cannot sync %s: %m", s->wal_path);
	close(fd);
	return r;
}

void ocitap_store_rollback(struct ocitap_store *s)
{
	if (sqlite3_get_autocommit(s->db) == 0)
		(void)step_done(s, ST_ROLLBACK, NULL);
}

static char *annotations_to_json(const struct ocitap_annotation *a, size_t n)
{
	json_object *o = json_object_new_object();
	char *out = NULL;

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++)
		json_object_object_add(o, a[i].key, json_object_new_string(a[i].value));
	out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return out;
}

int ocitap_store_put_container(struct ocitap_store *s, const char *id, int64_t run, const char *bundle, pid_t pid,
			       const struct ocitap_annotation *annotations, size_t n_annotations, int64_t owner,
			       int64_t wall_ns, struct ocitap_error *err)
{
	_cleanup_free_ char *ann = NULL;
	sqlite3_stmt *st = s->st[ST_PUT_CONTAINER];

	if (annotations) {
		ann = annotations_to_json(annotations, n_annotations);
		if (!ann)
			return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (bundle)
		sqlite3_bind_text(st, 2, bundle, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, pid);
	if (ann)
		sqlite3_bind_text(st, 4, ann, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, wall_ns);
	sqlite3_bind_int64(st, 6, run > 0 ? run : 1);
	if (owner >= 0)
		sqlite3_bind_int64(st, 7, owner);
	return step_done(s, ST_PUT_CONTAINER, err);
}

int ocitap_store_set_run_init(struct ocitap_store *s, const char *id, int64_t run, const struct ocitap_run_init *in,
			      struct ocitap_error *err)
{
	sqlite3_stmt *st = s->st[ST_SET_INIT];

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, run > 0 ? run : 1);
	if (in->start_ticks)
		sqlite3_bind_int64(st, 3, (int64_t)in->start_ticks);
	if (in->mnt_ns)
		sqlite3_bind_int64(st, 4, (int64_t)in->mnt_ns);
	if (in->pid_ns)
		sqlite3_bind_int64(st, 5, (int64_t)in->pid_ns);
	if (in->cgroup)
		sqlite3_bind_text(st, 6, in->cgroup, -1, SQLITE_STATIC);
	return step_done(s, ST_SET_INIT, err);
}

int ocitap_store_append_event(struct ocitap_store *s, const struct ocitap_event *ev, int64_t *ret_seq,
			      struct ocitap_error *err)
{
	sqlite3_stmt *st = s->st[ST_APPEND_EVENT];
	int64_t run = ev->run > 0 ? ev->run : 1;
	int r;

	sqlite3_bind_text(st, 1, ev->container_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ev->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ocitap_phase_to_string(ev->from), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ocitap_phase_to_string(ev->to), -1, SQLITE_STATIC);
	if (ev->source)
		sqlite3_bind_text(st, 5, ev->source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, ev->mono_ns);
	sqlite3_bind_int64(st, 7, ev->wall_ns);
	if (ev->has_exit) {
		sqlite3_bind_int(st, 8, ev->exit_code);
		sqlite3_bind_int(st, 9, ev->signal);
	}
	sqlite3_bind_int(st, 10, ev->oom);
	sqlite3_bind_int64(st, 11, run);
	r = step_done(s, ST_APPEND_EVENT, err);
	if (r < 0)
		return r;
	if (ret_seq)
		*ret_seq = sqlite3_last_insert_rowid(s->db);

	if (strcmp(ev->kind, OCITAP_EVENT_TRANSITION) == 0) {
		st = s->st[ST_SET_PHASE];
		sqlite3_bind_text(st, 1, ev->container_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, ocitap_phase_to_string(ev->to), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, ev->wall_ns);
		sqlite3_bind_int64(st, 4, run);
		r = step_done(s, ST_SET_PHASE, err);
		if (r < 0)
			return r;
	}
	if (ev->has_exit || ev->oom) {
		st = s->st[ST_SET_EXIT];
		sqlite3_bind_text(st, 1, ev->container_id, -1, SQLITE_STATIC);
		if (ev->has_exit) {
			sqlite3_bind_int(st, 2, ev->exit_code);
			sqlite3_bind_int(st, 3, ev->signal);
		}
		sqlite3_bind_int(st, 4, ev->oom);
		sqlite3_bind_int64(st, 5, run);
		r = step_done(s, ST_SET_EXIT, err);
	}
	return r;
}

int ocitap_store_set_profile(struct ocitap_store *s, const char *id, int64_t run, const char *status, const char *path,
			     const char *error, struct ocitap_error *err)
{
	sqlite3_stmt *st = s->st[ST_SET_PROFILE];

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, run > 0 ? run : 1);
	sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
	if (path)
		sqlite3_bind_text(st, 4, path, -1, SQLITE_STATIC);
	if (error)
		sqlite3_bind_text(st, 5, error, -1, SQLITE_STATIC);
	return step_done(s, ST_SET_PROFILE, err);
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

int ocitap_store_set_names(struct ocitap_store *s, const char *id, int64_t run, const struct ocitap_names *names,
			   struct ocitap_error *err)
{
	sqlite3_stmt *st = s->st[ST_SET_NAMES];

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, run > 0 ? run : 1);
	bind_text_or_null(st, 3, names->name);
	bind_text_or_null(st, 4, names->pod);
	bind_text_or_null(st, 5, names->pod_namespace);
	bind_text_or_null(st, 6, names->manager);
	return step_done(s, ST_SET_NAMES, err);
}

int ocitap_store_set_failed(struct ocitap_store *s, const char *id, int64_t run, const char *error,
			    struct ocitap_error *err)
{
	sqlite3_stmt *st = s->st[ST_SET_FAILED];

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, error ? error : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, run > 0 ? run : 1);
	return step_done(s, ST_SET_FAILED, err);
}

int ocitap_store_add_notifications(struct ocitap_store *s, const char *id, int64_t run, const char *syscall,
				   const char *action, int64_t count, struct ocitap_error *err)
{
	sqlite3_stmt *st = s->st[ST_ADD_NOTIF];

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, syscall, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, count);
	sqlite3_bind_int64(st, 5, run > 0 ? run : 1);
	return step_done(s, ST_ADD_NOTIF, err);
}

int ocitap_store_prune(struct ocitap_store *s, int64_t before, struct ocitap_error *err)
{
	sqlite3_stmt *st = NULL;
	char *msg = NULL;
	int n = 0;

	if (sqlite3_exec(s->db,
			 "CREATE TEMP TABLE IF NOT EXISTS doomed (id TEXT NOT NULL, run INTEGER NOT NULL,"
			 " PRIMARY KEY (id, run)); DELETE FROM doomed;",
			 NULL, NULL, &msg) != SQLITE_OK) {
		sqlite3_free(msg);
		return db_error(s, err, "prune");
	}
	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO doomed SELECT id, run FROM runs WHERE phase = 'stopped'"
			       " AND stopped_wall_ns < ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(s, err, "prune");
	sqlite3_bind_int64(st, 1, before);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_finalize(st);
		return db_error(s, err, "prune");
	}
	n = sqlite3_changes(s->db);
	sqlite3_finalize(st);
	if (sqlite3_exec(s->db,
			 "DELETE FROM events WHERE (container_id, run) IN (SELECT id, run FROM doomed);"
			 "DELETE FROM notifications WHERE (container_id, run) IN (SELECT id, run FROM doomed);"
			 "DELETE FROM runs WHERE (id, run) IN (SELECT id, run FROM doomed); DELETE FROM doomed;",
			 NULL, NULL, &msg) != SQLITE_OK) {
		sqlite3_free(msg);
		return db_error(s, err, "prune");
	}
	return n;
}

static char *column_strdup(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? strdup((const char *)t) : NULL;
}

static enum ocitap_phase phase_from_text(const unsigned char *t)
{
	for (int p = OCITAP_PHASE_UNKNOWN; p < OCITAP_PHASE_COUNT; p++)
		if (t && strcmp((const char *)t, ocitap_phase_to_string(p)) == 0)
			return p;
	return OCITAP_PHASE_UNKNOWN;
}

int ocitap_store_get_container(struct ocitap_store *s, const char *id, int64_t run, struct ocitap_store_container *ret,
			       struct ocitap_error *err)
{
	sqlite3_stmt *st = s->st[ST_GET_CONTAINER];
	struct ocitap_store_container c = { 0 };
	int rc;

	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (run > 0)
		sqlite3_bind_int64(st, 2, run);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		c.id = column_strdup(st, 0);
		c.bundle = column_strdup(st, 1);
		c.pid = (pid_t)sqlite3_column_int64(st, 2);
		c.annotations_json = column_strdup(st, 3);
		c.phase = phase_from_text(sqlite3_column_text(st, 4));
		c.created_wall_ns = sqlite3_column_int64(st, 5);
		c.updated_wall_ns = sqlite3_column_int64(st, 6);
		c.has_exit = sqlite3_column_type(st, 7) != SQLITE_NULL;
		c.exit_code = sqlite3_column_int(st, 7);
		c.signal = sqlite3_column_int(st, 8);
		c.oom = sqlite3_column_int(st, 9);
		c.failed = sqlite3_column_int(st, 10);
		c.error = column_strdup(st, 11);
		c.run = sqlite3_column_int64(st, 12);
		c.runs = sqlite3_column_int64(st, 13);
		c.init_start_ticks = (uint64_t)sqlite3_column_int64(st, 14);
		c.mnt_ns = (uint64_t)sqlite3_column_int64(st, 15);
		c.pid_ns = (uint64_t)sqlite3_column_int64(st, 16);
		c.cgroup = column_strdup(st, 17);
		c.owner = sqlite3_column_type(st, 18) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 18);
		c.profile_status = column_strdup(st, 19);
		c.profile_path = column_strdup(st, 20);
		c.profile_error = column_strdup(st, 21);
		c.name = column_strdup(st, 22);
		c.pod = column_strdup(st, 23);
		c.pod_namespace = column_strdup(st, 24);
		c.manager = column_strdup(st, 25);
		c.notifications = sqlite3_column_int64(st, 26);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_DONE && run > 0)
		return ocitap_error_set(err, -ENOENT, NULL, "no run %lld of container \"%s\" in the store",
					(long long)run, id);
	if (rc == SQLITE_DONE)
		return ocitap_error_set(err, -ENOENT, NULL, "no container \"%s\" in the store", id);
	if (rc != SQLITE_ROW)
		return db_error(s, err, "read container");
	if (!c.id) {
		ocitap_store_container_release(&c);
		return ocitap_error_set(err, -ENOMEM, NULL, "out of memory");
	}
	*ret = c;
	return 0;
}

void ocitap_store_container_release(struct ocitap_store_container *c)
{
	if (!c)
		return;
	free(c->id);
	free(c->bundle);
	free(c->annotations_json);
	free(c->error);
	free(c->cgroup);
	free(c->profile_status);
	free(c->profile_path);
	free(c->profile_error);
	free(c->name);
	free(c->pod);
	free(c->pod_namespace);
	free(c->manager);
	memset(c, 0, sizeof(*c));
}

/* Call fn for each row of st (an events SELECT in the usual column order), then finalize st. */
static int each_event_row(struct ocitap_store *s, sqlite3_stmt *st,
			  int (*fn)(const struct ocitap_event *ev, void *userdata), void *userdata,
			  struct ocitap_error *err)
{
	int rc, r = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ocitap_event ev = {
			.seq = sqlite3_column_int64(st, 0),
			.container_id = (const char *)sqlite3_column_text(st, 1),
			.kind = (const char *)sqlite3_column_text(st, 2),
			.from = phase_from_text(sqlite3_column_text(st, 3)),
			.to = phase_from_text(sqlite3_column_text(st, 4)),
			.source = (const char *)sqlite3_column_text(st, 5),
			.mono_ns = sqlite3_column_int64(st, 6),
			.wall_ns = sqlite3_column_int64(st, 7),
			.has_exit = sqlite3_column_type(st, 8) != SQLITE_NULL,
			.exit_code = sqlite3_column_int(st, 8),
			.signal = sqlite3_column_int(st, 9),
			.oom = sqlite3_column_int(st, 10),
			.run = sqlite3_column_int64(st, 11),
		};

		r = fn(&ev, userdata);
		if (r != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = db_error(s, err, "read events");
	if (st == s->st[ST_LAST_EVENT]) { /* kept for the next call */
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else {
		sqlite3_finalize(st);
	}
	return r;
}

int ocitap_store_foreach_event(struct ocitap_store *s, const char *id, int64_t run, int64_t since,
			       int (*fn)(const struct ocitap_event *ev, void *userdata), void *userdata,
			       struct ocitap_error *err)
{
#define EVENT_COLUMNS \
	"seq, container_id, kind, from_phase, to_phase, source, mono_ns, wall_ns, exit_code, signal, oom, run"
	/* one statement per case: an "?2 IS NULL OR" would keep SQLite from the
	 * container's index, and one container's timeline would scan every event */
	static const char *const sql[] = {
		"SELECT " EVENT_COLUMNS " FROM events WHERE seq > ?1 ORDER BY seq",
		"SELECT " EVENT_COLUMNS " FROM events WHERE container_id = ?2 AND seq > ?1 ORDER BY seq",
		"SELECT " EVENT_COLUMNS " FROM events WHERE container_id = ?2 AND run = ?3 AND seq > ?1 ORDER BY seq",
	};
#undef EVENT_COLUMNS
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(s->db, sql[!id ? 0 : run > 0 ? 2 : 1], -1, &st, NULL);
	if (rc != SQLITE_OK)
		return db_error(s, err, "read events");
	sqlite3_bind_int64(st, 1, since);
	if (id)
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (id && run > 0)
		sqlite3_bind_int64(st, 3, run);
	return each_event_row(s, st, fn, userdata, err);
}

int ocitap_store_last_event(struct ocitap_store *s, const char *id, int64_t run,
			    int (*fn)(const struct ocitap_event *ev, void *userdata), void *userdata,
			    struct ocitap_error *err)
{
	sqlite3_stmt *st = NULL;

	if (run > 0 && s->st[ST_LAST_EVENT]) {
		st = s->st[ST_LAST_EVENT];
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, run);
		return each_event_row(s, st, fn, userdata, err);
	}
	if (sqlite3_prepare_v2(s->db,
			       "SELECT seq, container_id, kind, from_phase, to_phase, source, mono_ns, wall_ns,"
			       " exit_code, signal, oom, run FROM events WHERE container_id = ?1"
			       " AND (?2 IS NULL OR run = ?2) ORDER BY seq DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(s, err, "read events");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (run > 0)
		sqlite3_bind_int64(st, 2, run);
	return each_event_row(s, st, fn, userdata, err);
}

int ocitap_store_foreach_notification(struct ocitap_store *s, const char *id, int64_t run,
				      int (*fn)(const char *syscall, const char *action, int64_t count, void *userdata),
				      void *userdata, struct ocitap_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT syscall, action, count FROM notifications WHERE container_id = ?1"
			       " AND run = ?2 ORDER BY syscall, action",
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(s, err, "read notifications");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, run > 0 ? run : 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = fn((const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
		       sqlite3_column_int64(st, 2), userdata);
		if (r != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = db_error(s, err, "read notifications");
	sqlite3_finalize(st);
	return r;
}

static int each_run_row(struct ocitap_store *s, sqlite3_stmt *st,
			int (*fn)(const struct ocitap_store_container *c, int64_t stopped_wall_ns, void *userdata),
			void *userdata, struct ocitap_error *err)
{
	int rc, r = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ocitap_store_container c = {
			.id = (char *)sqlite3_column_text(st, 0),
			.bundle = (char *)sqlite3_column_text(st, 1),
			.pid = (pid_t)sqlite3_column_int64(st, 2),
			.annotations_json = (char *)sqlite3_column_text(st, 3),
			.phase = phase_from_text(sqlite3_column_text(st, 4)),
			.created_wall_ns = sqlite3_column_int64(st, 5),
			.updated_wall_ns = sqlite3_column_int64(st, 6),
			.has_exit = sqlite3_column_type(st, 7) != SQLITE_NULL,
			.exit_code = sqlite3_column_int(st, 7),
			.signal = sqlite3_column_int(st, 8),
			.oom = sqlite3_column_int(st, 9),
			.failed = sqlite3_column_int(st, 11),
			.error = (char *)sqlite3_column_text(st, 12),
			.run = sqlite3_column_int64(st, 13),
			.runs = sqlite3_column_int64(st, 14),
			.init_start_ticks = (uint64_t)sqlite3_column_int64(st, 15),
			.mnt_ns = (uint64_t)sqlite3_column_int64(st, 16),
			.pid_ns = (uint64_t)sqlite3_column_int64(st, 17),
			.cgroup = (char *)sqlite3_column_text(st, 18),
			.owner = sqlite3_column_type(st, 19) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 19),
			.profile_status = (char *)sqlite3_column_text(st, 20),
			.profile_path = (char *)sqlite3_column_text(st, 21),
			.profile_error = (char *)sqlite3_column_text(st, 22),
			.name = (char *)sqlite3_column_text(st, 23),
			.pod = (char *)sqlite3_column_text(st, 24),
			.pod_namespace = (char *)sqlite3_column_text(st, 25),
			.manager = (char *)sqlite3_column_text(st, 26),
			.notifications = sqlite3_column_int64(st, 27),
		};

		r = fn(&c, sqlite3_column_int64(st, 10), userdata);
		if (r != 0)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = db_error(s, err, "read containers");
	sqlite3_finalize(st);
	return r;
}

#define RUN_COLUMNS                                                                                          \
	"id, bundle, pid, annotations, phase, created_wall_ns, updated_wall_ns, exit_code, signal, oom,"     \
	" stopped_wall_ns, failed, error, run, (SELECT COUNT(*) FROM runs n WHERE n.id = r.id), init_start," \
	" mnt_ns, pid_ns, cgroup, owner, profile_status, profile_path, profile_error, name, pod, namespace," \
	" manager, " NOTIFICATION_TOTAL

/* each id's latest run, in the order of the runs_by_created index */
#define LATEST_RUN_IN_ORDER \
	" NOT EXISTS (SELECT 1 FROM runs n WHERE n.id = r.id AND n.run > r.run) ORDER BY created_wall_ns, id"

int ocitap_store_foreach_container(struct ocitap_store *s,
				   int (*fn)(const struct ocitap_store_container *c, int64_t stopped_wall_ns,
					     void *userdata),
				   void *userdata, struct ocitap_error *err)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, "SELECT " RUN_COLUMNS " FROM runs r WHERE" LATEST_RUN_IN_ORDER, -1, &st, NULL) !=
	    SQLITE_OK)
		return db_error(s, err, "read containers");
	return each_run_row(s, st, fn, userdata, err);
}

int ocitap_store_foreach_container_after(struct ocitap_store *s, int64_t after_ns, const char *after_id,
					 int (*fn)(const struct ocitap_store_container *c, int64_t stopped_wall_ns,
						   void *userdata),
					 void *userdata, struct ocitap_error *err)
{
	sqlite3_stmt *st = NULL;

	/* a row value compared in the index's order: the scan starts at the cursor */
	if (sqlite3_prepare_v2(s->db,
			       "SELECT " RUN_COLUMNS
			       " FROM runs r WHERE (created_wall_ns, id) > (?1, ?2) AND" LATEST_RUN_IN_ORDER,
			       -1, &st, NULL) != SQLITE_OK)
		return db_error(s, err, "read containers");
	sqlite3_bind_int64(st, 1, after_ns);
	sqlite3_bind_text(st, 2, after_id, -1, SQLITE_STATIC);
	return each_run_row(s, st, fn, userdata, err);
}

int ocitap_store_foreach_run(struct ocitap_store *s, const char *id,
			     int (*fn)(const struct ocitap_store_container *c, int64_t stopped_wall_ns, void *userdata),
			     void *userdata, struct ocitap_error *err)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(s->db, "SELECT " RUN_COLUMNS " FROM runs r WHERE id = ?1 ORDER BY run", -1, &st, NULL) !=
	    SQLITE_OK)
		return db_error(s, err, "read runs");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return each_run_row(s, st, fn, userdata, err);
}

int64_t ocitap_store_count_containers(struct ocitap_store *s, enum ocitap_phase phase)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -EIO;

	if (sqlite3_prepare_v2(s->db, "SELECT COUNT(*) FROM containers WHERE ?1 IS NULL OR phase = ?1", -1, &st,
			       NULL) != SQLITE_OK)
		return -EIO;
	if (phase != OCITAP_PHASE_UNKNOWN)
		sqlite3_bind_text(st, 1, ocitap_phase_to_string(phase), -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

int64_t ocitap_store_last_seq(struct ocitap_store *s)
{
	sqlite3_stmt *st = NULL;
	int64_t n = -EIO;

	/* sqlite_sequence keeps AUTOINCREMENT's high-water mark */
	if (sqlite3_prepare_v2(s->db, "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)", -1,
			       &st, NULL) != SQLITE_OK)
		return -EIO;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

int ocitap_store_count_by_phase(struct ocitap_store *s, int64_t counts[OCITAP_PHASE_COUNT], int64_t *ret_failed)
{
	sqlite3_stmt *st = NULL;
	int rc;

	for (int p = 0; p < OCITAP_PHASE_COUNT; p++)
		counts[p] = 0;
	*ret_failed = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT phase, failed, COUNT(*) FROM containers GROUP BY phase, failed", -1, &st,
			       NULL) != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (sqlite3_column_int(st, 1))
			*ret_failed += sqlite3_column_int64(st, 2);
		else
			counts[phase_from_text(sqlite3_column_text(st, 0))] += sqlite3_column_int64(st, 2);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int64_t ocitap_store_run_at(struct ocitap_store *s, const char *id, int64_t wall_ns)
{
	sqlite3_stmt *st = NULL;
	int64_t run = 0;
	int rc;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT run FROM events WHERE container_id = ?1 GROUP BY run"
			       " HAVING MIN(wall_ns) <= ?2 ORDER BY run DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, wall_ns);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		run = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		run = -EIO;
	sqlite3_finalize(st);
	return run;
}

int ocitap_store_has_hook_report(struct ocitap_store *s, const char *id, const char *stage, int64_t mono_ns)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db,
			       "SELECT 1 FROM events WHERE container_id = ?1 AND kind = 'hook' AND source = ?2"
			       " AND mono_ns = ?3 LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, stage, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, mono_ns);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -EIO;
}
