/*
 * test-index.h: for the store's unit tests, SQL run on a store's index
 * behind the store's back (to make an index of an older version, or
 * damage one).
 */
#ifndef TEST_INDEX_H
#define TEST_INDEX_H

#include <stdio.h>

#include <sqlite3.h>

/* Run stmt on <root>/index.db: 0, or -1. */
static int __attribute__((unused))
index_sql(const char *root, const char *stmt)
{
	char p[4200];
	sqlite3 *db;
	int r;

	snprintf(p, sizeof(p), "%s/index.db", root);
	if (sqlite3_open(p, &db) != SQLITE_OK)
		return -1;
	r = sqlite3_exec(db, stmt, NULL, NULL, NULL);
	sqlite3_close(db);
	return r == SQLITE_OK ? 0 : -1;
}

#endif
