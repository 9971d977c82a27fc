/*
 * db-migrate.c: the schema version of the file and the migrations that
 * bring it to the version this binary speaks.
 *
 * The only SQL here that is not in the statement table is what cannot take
 * a bound parameter: the migration scripts themselves (compiled in from
 * sql/, see build-aux/sql2c.sh) and "PRAGMA user_version = N", N being our
 * own integer, never input.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db-int.h"
#include "migrations.h"
#include "util.h"

enum stmt {
	STMT_USER_VERSION,
	STMT_MIGRATION_RECORD,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	/* STMT_USER_VERSION */
	"PRAGMA user_version",
	/* STMT_MIGRATION_RECORD */
	"INSERT INTO schema_migrations (version, name, applied_at) "
	"VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
};

int
db_schema_latest(void)
{
	return nmigrations;
}

/* Returns the file's user_version, -1 on error. */
int
db_schema_version(struct db *db)
{
	int64_t	 v;

	if (!db_stmt_int(db, DBF_MIGRATE, stmts, STMT_USER_VERSION, &v))
		return -1;
	return (int)v;
}


/*
 * Apply migration m, which must be the next one, inside the caller's
 * transaction.  Returns 1 on success, 0 with a message in err.
 */
static int
db_migrate_one(struct db *db, const struct migration *m, char *err,
    size_t errsz)
{
	sqlite3_stmt	*st;
	char		*msg = NULL;
	char		 sql[64];
	int		 rc;

	/* A script of several statements: sqlite3_exec() is the tool. */
	if (sqlite3_exec(db->h, m->sql, NULL, NULL, &msg) != SQLITE_OK) {
		util_errf(err, errsz, "migration %s: %s", m->name,
		    msg != NULL ? msg : db_errmsg(db));
		sqlite3_free(msg);
		return 0;
	}

	if ((st = db_stmt(db, DBF_MIGRATE, stmts, STMT_MIGRATION_RECORD)) == NULL)
		goto fail;
	if (sqlite3_bind_int(st, 1, m->version) != SQLITE_OK ||
	    !db_bind_text(st, 2, m->name)) {
		db_stmt_done(st);
		goto fail;
	}
	rc = sqlite3_step(st);
	db_stmt_done(st);
	if (rc != SQLITE_DONE)
		goto fail;

	/* PRAGMA takes no parameters; the version is our own integer. */
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", m->version);
	if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	return 1;
fail:
	util_errf(err, errsz, "migration %s: %s", m->name, db_errmsg(db));
	return 0;
}

/*
 * See db.h.  Each migration runs in its own BEGIN IMMEDIATE transaction,
 * and the version is read again once the write lock is held: another
 * process may have migrated while we waited for it.
 */
int
db_migrate(struct db *db, int *applied, char *err, size_t errsz)
{
	int	 v, latest = db_schema_latest();

	*applied = 0;
	for (;;) {
		if ((v = db_schema_version(db)) < 0) {
			util_errf(err, errsz, "database %s: %s", db->path,
			    db_errmsg(db));
			return 0;
		}
		if (v > latest) {
			util_errf(err, errsz, "database %s is at schema "
			    "version %d, which is newer than this binary "
			    "(version %d): refusing to migrate",
			    db->path, v, latest);
			return 0;
		}
		if (v == latest)
			return 1;

		if (!db_begin(db)) {
			util_errf(err, errsz, "database %s: %s", db->path,
			    db_errmsg(db));
			return 0;
		}
		if ((v = db_schema_version(db)) < 0) {
			util_errf(err, errsz, "database %s: %s", db->path,
			    db_errmsg(db));
			db_rollback(db);
			return 0;
		}
		if (v > latest) {
			/* Another, newer binary migrated while we waited. */
			util_errf(err, errsz, "database %s is at schema "
			    "version %d, which is newer than this binary "
			    "(version %d): refusing to migrate",
			    db->path, v, latest);
			db_rollback(db);
			return 0;
		}
		if (v == latest) {
			/* Another process finished the job meanwhile. */
			db_rollback(db);
			return 1;
		}
		if (migrations[v].version != v + 1) {
			util_errf(err, errsz, "migration table is out of "
			    "order at version %d", v + 1);
			db_rollback(db);
			return 0;
		}
		if (!db_migrate_one(db, &migrations[v], err, errsz)) {
			db_rollback(db);
			return 0;
		}
		if (!db_commit(db)) {
			util_errf(err, errsz, "migration %s: commit: %s",
			    migrations[v].name, db_errmsg(db));
			return 0;
		}
		(*applied)++;
	}
}

