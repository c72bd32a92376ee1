/*
 * store-schema.h: the tables of ocitapd's store (store.c) and the upgrade
 * of an earlier schema. Internal to libocitap.
 */
#ifndef OCITAP_STORE_SCHEMA_H
#define OCITAP_STORE_SCHEMA_H

#include <sqlite3.h>
#include <stdbool.h>

#define OCITAP_STORE_SCHEMA_VERSION 3

/* db (opened writable) brought to the current schema: a schema-1 or
 * schema-2 database upgraded, each step in one transaction, then what is
 * missing made. SQLITE_OK, or SQLite's error with *msg set. */
int ocitap_store_schema_setup(sqlite3 *db, char **msg);
/* db was made by an earlier ocitapd (schema 1) and not upgraded yet. */
bool ocitap_store_schema_is_1(sqlite3 *db);
/* db is of schema 2 (runs without their names) and not upgraded yet. */
bool ocitap_store_schema_is_2(sqlite3 *db);
/* For a read-only connection to a schema-2 database: its runs read with
 * the names of schema 3, unknown (a temporary view). SQLITE_OK, or
 * SQLite's error with *msg set. */
int ocitap_store_schema_read_2(sqlite3 *db, char **msg);

#endif
