/*
 * store-internal.h: what the store's own files share (store.c,
 * store-meta.c): the connection and the errno for SQLite's last error.
 */
#ifndef OCITAP_STORE_INTERNAL_H
#define OCITAP_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store.h"

sqlite3 *ocitap_store_db(struct ocitap_store *s);
/* err from the connection's last error: -ENOSPC (full), -EROFS, -EBUSY, else -EIO. */
int ocitap_store_db_error(struct ocitap_store *s, struct ocitap_error *err, const char *what);

#endif
