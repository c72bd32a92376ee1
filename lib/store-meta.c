/*
 * store-meta.c: the store's small tables beside the records: meta (push
 * cursors, the ledger's generation, settings) and spool_applied (which
 * spool files a commit took, so that none is applied twice).
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>

#include "clock.h"
#include "store-internal.h"

int ocitap_store_spool_mark(struct ocitap_store *s, const char *name, struct ocitap_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(ocitap_store_db(s), "INSERT INTO spool_applied (name, wall_ns) VALUES (?1, ?2)", -1, &st,
			       NULL) != SQLITE_OK)
		return ocitap_store_db_error(s, err, "spool");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ocitap_wall_ns());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_CONSTRAINT)
		return ocitap_error_set(err, -EEXIST, NULL, "spool file %s was already applied", name);
	if (rc != SQLITE_DONE)
		return ocitap_store_db_error(s, err, "spool");
	return 0;
}

int ocitap_store_spool_seen(struct ocitap_store *s, const char *name, struct ocitap_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(ocitap_store_db(s), "SELECT 1 FROM spool_applied WHERE name = ?1", -1, &st, NULL) !=
	    SQLITE_OK)
		return ocitap_store_db_error(s, err, "spool");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		return ocitap_store_db_error(s, err, "spool");
	return 0;
}

int ocitap_store_set_meta(struct ocitap_store *s, const char *key, const char *value, struct ocitap_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(
		    ocitap_store_db(s),
		    "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2", -1, &st,
		    NULL) != SQLITE_OK)
		return ocitap_store_db_error(s, err, "meta");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return ocitap_store_db_error(s, err, "meta");
	return 0;
}

int ocitap_store_get_meta(struct ocitap_store *s, const char *key, char *ret, size_t size)
{
	sqlite3_stmt *st = NULL;
	int r = -ENOENT;

	if (sqlite3_prepare_v2(ocitap_store_db(s), "SELECT value FROM meta WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(ret, size, "%s", (const char *)sqlite3_column_text(st, 0));
		r = 0;
	}
	sqlite3_finalize(st);
	return r;
}

int ocitap_store_delete_meta(struct ocitap_store *s, const char *key, struct ocitap_error *err)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(ocitap_store_db(s), "DELETE FROM meta WHERE key = ?1", -1, &st, NULL) != SQLITE_OK)
		return ocitap_store_db_error(s, err, "meta");
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : ocitap_store_db_error(s, err, "meta");
}
