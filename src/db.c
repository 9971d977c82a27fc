/*
 * db.c: the SQLite database and every statement run against it.
 *
 * Every SQL statement lives in stmts[] below, named by enum stmt.  Each is
 * prepared the first time it is used on a connection (persistent, so SQLite
 * keeps it out of its lookaside), then bound, stepped, reset and cleared.
 * The only SQL not in that table is what cannot take a bound parameter or
 * be cached: the migration scripts themselves and "PRAGMA user_version = N"
 * (N being our own integer, never input).
 *
 * Several processes share the file.  Each opens its own connection after
 * any fork, writes only inside BEGIN IMMEDIATE (so a writer waits for the
 * lock up front under busy_timeout instead of failing to upgrade a read
 * lock half way through), and never memory-maps the file.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "util.h"
#include "migrations.h"

#define DB_BUSY_TIMEOUT_MS	5000
#define DB_AADMAX		512

/* The columns db_install_get() and db_install_list() read, in the order
 * install_fill() expects. */
#define INSTALL_COLS \
	"installed_app_id, app_id, instance_id, organization_id, " \
	"api_key_prefix, granted_permissions, status, generation, " \
	"install_event, installed_at, uninstalled_at, updated_at, " \
	"api_key_sealed IS NOT NULL"

enum stmt {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_FOREIGN_KEYS,
	STMT_MMAP_OFF,
	STMT_SYNCHRONOUS,
	STMT_JOURNAL_WAL,
	STMT_JOURNAL_DELETE,
	STMT_USER_VERSION,
	STMT_PING,
	STMT_MIGRATION_RECORD,
	STMT_INSTALL_GET,
	STMT_INSTALL_LIST,
	STMT_INSTALL_ACTIVATE,
	STMT_INSTALL_DEACTIVATE,
	STMT_INSTALL_KEY,
	STMT_INSTALL_KEY_IDS,
	STMT_INSTALL_KEY_PUT,
	STMT_EVENT_CLAIM,
	STMT_EVENT_COUNT,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	/* STMT_BEGIN */
	"BEGIN IMMEDIATE",
	/* STMT_COMMIT */
	"COMMIT",
	/* STMT_ROLLBACK */
	"ROLLBACK",
	/* STMT_FOREIGN_KEYS */
	"PRAGMA foreign_keys = ON",
	/* STMT_MMAP_OFF */
	"PRAGMA mmap_size = 0",
	/* STMT_SYNCHRONOUS: FULL in both journal modes.  NORMAL in WAL mode
	 * may lose the last commits on power loss, and a lost commit here is
	 * an install Cloud believes succeeded. */
	"PRAGMA synchronous = FULL",
	/* STMT_JOURNAL_WAL */
	"PRAGMA journal_mode = wal",
	/* STMT_JOURNAL_DELETE */
	"PRAGMA journal_mode = delete",
	/* STMT_USER_VERSION */
	"PRAGMA user_version",
	/* STMT_PING */
	"SELECT count(*) FROM sqlite_master",
	/* STMT_MIGRATION_RECORD */
	"INSERT INTO schema_migrations (version, name, applied_at) "
	"VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
	/* STMT_INSTALL_GET */
	"SELECT " INSTALL_COLS " FROM installs WHERE installed_app_id = ?1",
	/* STMT_INSTALL_LIST */
	"SELECT " INSTALL_COLS " FROM installs "
	"ORDER BY installed_at, installed_app_id",
	/* STMT_INSTALL_ACTIVATE */
	"INSERT INTO installs (installed_app_id, app_id, instance_id, "
	"organization_id, api_key_prefix, api_key_sealed, api_key_kid, "
	"granted_permissions, status, generation, install_event, "
	"installed_at, uninstalled_at, updated_at) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'active', 1, ?9, "
	"?10, NULL, ?10) "
	"ON CONFLICT (installed_app_id) DO UPDATE SET "
	"app_id = excluded.app_id, "
	"instance_id = excluded.instance_id, "
	"organization_id = excluded.organization_id, "
	"api_key_prefix = excluded.api_key_prefix, "
	"api_key_sealed = excluded.api_key_sealed, "
	"api_key_kid = excluded.api_key_kid, "
	"granted_permissions = excluded.granted_permissions, "
	"status = 'active', "
	"generation = installs.generation + 1, "
	"install_event = excluded.install_event, "
	"installed_at = excluded.installed_at, "
	"uninstalled_at = NULL, "
	"updated_at = excluded.updated_at",
	/* STMT_INSTALL_DEACTIVATE */
	"UPDATE installs SET status = 'inactive', api_key_sealed = NULL, "
	"api_key_kid = NULL, uninstalled_at = ?2, updated_at = ?3 "
	"WHERE installed_app_id = ?1",
	/* STMT_INSTALL_KEY */
	"SELECT api_key_sealed, api_key_kid FROM installs "
	"WHERE installed_app_id = ?1",
	/* STMT_INSTALL_KEY_IDS */
	"SELECT installed_app_id FROM installs "
	"WHERE api_key_sealed IS NOT NULL ORDER BY installed_app_id",
	/* STMT_INSTALL_KEY_PUT */
	"UPDATE installs SET api_key_sealed = ?2, api_key_kid = ?3 "
	"WHERE installed_app_id = ?1",
	/* STMT_EVENT_CLAIM */
	"INSERT INTO events (idempotency_key, kind, installed_app_id, "
	"outcome, received_at) VALUES (?1, ?2, ?3, ?4, ?5) "
	"ON CONFLICT (idempotency_key) DO NOTHING",
	/* STMT_EVENT_COUNT */
	"SELECT count(*) FROM events",
};

/*
 * Every sealed column in the schema, for db_rotate_keys().  A new secret
 * (say a Stripe key table) is one more row here plus its three statements:
 * "ids" lists the ids of rows holding a value, "get" selects (blob, kid)
 * by id, "put" sets (blob, kid) by id.
 */
struct sealed_col {
	const char	*name;		/* table.column, for messages */
	enum stmt	 ids;
	enum stmt	 get;
	enum stmt	 put;
	void		(*aad)(const char *, char *, size_t);
};

static const struct sealed_col sealed_cols[] = {
	{ "installs.api_key", STMT_INSTALL_KEY_IDS, STMT_INSTALL_KEY,
	  STMT_INSTALL_KEY_PUT, db_install_key_aad },
};

const char *const install_status_names[INSTALL__MAX] = {
	"active",	/* INSTALL_ACTIVE */
	"inactive",	/* INSTALL_INACTIVE */
};

struct db {
	sqlite3		*h;
	char		*path;
	sqlite3_stmt	*stmts[STMT__MAX];
	const char	*msg;	/* our own error, shadows sqlite3_errmsg */
	char		 msgbuf[256];	/* for msg, when not static */
};

/*
 * The prepared statement s of this connection, preparing it on first use.
 * Returns NULL on failure (see db_errmsg()).  The connection owns it.
 */
static sqlite3_stmt *
stmt_get(struct db *db, enum stmt s)
{
	db->msg = NULL;
	if (db->stmts[s] == NULL &&
	    sqlite3_prepare_v3(db->h, stmts[s], -1,
	    SQLITE_PREPARE_PERSISTENT, &db->stmts[s], NULL) != SQLITE_OK) {
		db->stmts[s] = NULL;
		return NULL;
	}
	return db->stmts[s];
}

/*
 * Make a statement ready for its next use.  The result of sqlite3_reset()
 * only repeats the error sqlite3_step() already returned.
 */
static void
stmt_done(sqlite3_stmt *st)
{
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
}

/* Bind text, or NULL for a NULL pointer.  Returns 1 on success. */
static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(st, i) == SQLITE_OK;
	return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) == SQLITE_OK;
}

/* Bind a blob, or NULL for a NULL pointer.  Returns 1 on success. */
static int
bind_blob(sqlite3_stmt *st, int i, const void *p, size_t len)
{
	if (p == NULL)
		return sqlite3_bind_null(st, i) == SQLITE_OK;
	return sqlite3_bind_blob64(st, i, p, len, SQLITE_STATIC) ==
	    SQLITE_OK;
}

/*
 * Run a statement that takes no parameters to completion, ignoring any
 * rows.  Returns the last sqlite3_step() (or prepare) result code:
 * SQLITE_DONE on success.
 */
static int
stmt_run(struct db *db, enum stmt s)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = stmt_get(db, s)) == NULL)
		return sqlite3_errcode(db->h);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		continue;
	stmt_done(st);
	return rc;
}

/*
 * Run a statement that returns one integer row.  Returns 1 and sets *v on
 * success, 0 on failure.
 */
static int
stmt_int(struct db *db, enum stmt s, int64_t *v)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = stmt_get(db, s)) == NULL)
		return 0;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	stmt_done(st);
	return rc == SQLITE_ROW;
}

/*
 * Refuse a write outside db_begin(): the callers' invariants (claim the
 * event and change the install together) only hold inside a transaction.
 * Returns 1 if a transaction is open.
 */
static int
in_txn(struct db *db)
{
	if (sqlite3_get_autocommit(db->h)) {
		db->msg = "write outside a transaction (db_begin() missing)";
		return 0;
	}
	return 1;
}

int
db_schema_latest(void)
{
	return nmigrations;
}

/*
 * WAL lets readers and a writer work at once, but SQLite before 3.51.3
 * (backported to 3.44.6 and 3.50.7) has the WAL-reset bug: when several
 * processes write one WAL database, a checkpoint racing a WAL reset can
 * corrupt the database.  That is exactly our shape (fcgi workers, syncd,
 * ctl), so with an older library we use the rollback journal.  Returns a
 * static string.
 */
const char *
db_journal_mode(void)
{
	int	 v = sqlite3_libversion_number();

	if (v >= 3051003 ||
	    (v >= 3044006 && v < 3045000) ||
	    (v >= 3050007 && v < 3051000))
		return "wal";
	return "delete";
}

/*
 * Create the directories leading to path that do not exist yet, mode 0700
 * (the database's directory holds its journals too).  Returns 1 on
 * success, 0 with errno set.
 */
static int
db_mkdirs(const char *path)
{
	char	 buf[PATH_MAX];
	char	*p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return 0;
	}
	for (p = buf + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(buf, 0700) == -1 && errno != EEXIST)
			return 0;
		*p = '/';
	}
	return 1;
}

/*
 * Create path as an empty file of mode 0600 if it does not exist, so that
 * the database (and the journals SQLite creates with the database's mode)
 * is never readable by others whatever the umask.  Missing directories on
 * the way are created 0700.  Returns 1 if the file exists afterwards, 0 on
 * failure with errno set.
 */
static int
db_create(const char *path)
{
	int	 fd;

	if (!db_mkdirs(path))
		return 0;
	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (fd == -1)
		return errno == EEXIST;
	if (close(fd) == -1)
		return 0;
	return 1;
}

/*
 * Set the per-connection pragmas.  Returns 1 on success, 0 on failure
 * with the message in err.
 */
static int
db_setup(struct db *db, char *err, size_t errsz)
{
	enum stmt	 jm;
	int		 rc;

	if (sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS) != SQLITE_OK ||
	    stmt_run(db, STMT_FOREIGN_KEYS) != SQLITE_DONE ||
	    stmt_run(db, STMT_MMAP_OFF) != SQLITE_DONE)
		goto fail;

	/*
	 * The journal mode is stored in the file (WAL) or is the default
	 * (delete), so another process has most likely set it already.
	 * Changing it needs an exclusive lock; if another process holds
	 * the database past busy_timeout, carry on with the mode it has.
	 */
	jm = strcmp(db_journal_mode(), "wal") == 0 ?
	    STMT_JOURNAL_WAL : STMT_JOURNAL_DELETE;
	rc = stmt_run(db, jm);
	if (rc != SQLITE_DONE && (rc & 0xff) != SQLITE_BUSY &&
	    (rc & 0xff) != SQLITE_LOCKED)
		goto fail;

	if (stmt_run(db, STMT_SYNCHRONOUS) != SQLITE_DONE)
		goto fail;
	return 1;
fail:
	util_errf(err, errsz, "database %s: %s", db->path, db_errmsg(db));
	return 0;
}

/*
 * Open path (see db.h).  Returns a connection the caller must db_close(),
 * or NULL with a message in err.
 */
struct db *
db_open(const char *path, enum db_mode mode, char *err, size_t errsz)
{
	struct db	*db;
	int		 v, rc;

	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->path = strdup(path)) == NULL) {
		util_errf(err, errsz, "database %s: %s", path, strerror(errno));
		free(db);
		return NULL;
	}

	if (mode == DB_MIGRATE && !db_create(path)) {
		util_errf(err, errsz, "database %s: cannot create: %s",
		    path, strerror(errno));
		goto fail;
	}

	/* Never SQLITE_OPEN_CREATE: DB_SERVE needs the file to exist, and
	 * DB_MIGRATE has just created it with the right mode. */
	rc = sqlite3_open_v2(path, &db->h,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		if (mode == DB_SERVE && access(path, F_OK) == -1)
			util_errf(err, errsz, "database %s does not exist: "
			    "run 'stripe-syncctl migrate'", path);
		else
			util_errf(err, errsz, "database %s: %s", path,
			    db->h != NULL ? sqlite3_errmsg(db->h) :
			    sqlite3_errstr(rc));
		goto fail;
	}
	(void)sqlite3_extended_result_codes(db->h, 1);

	if (!db_setup(db, err, errsz))
		goto fail;

	if (mode == DB_SERVE) {
		if ((v = db_schema_version(db)) < 0) {
			util_errf(err, errsz, "database %s: %s", path,
			    db_errmsg(db));
			goto fail;
		}
		if (v > db_schema_latest()) {
			util_errf(err, errsz, "database %s is at schema "
			    "version %d, which is newer than this binary "
			    "(version %d)", path, v, db_schema_latest());
			goto fail;
		}
		if (v < db_schema_latest()) {
			util_errf(err, errsz, "database %s is at schema "
			    "version %d but this binary speaks version %d: "
			    "run 'stripe-syncctl migrate'", path, v,
			    db_schema_latest());
			goto fail;
		}
	}
	return db;
fail:
	db_close(db);
	return NULL;
}

/*
 * Finalize every statement and close.  A transaction still open is rolled
 * back by SQLite.  Safe with NULL.
 */
void
db_close(struct db *db)
{
	size_t	 i;

	if (db == NULL)
		return;
	for (i = 0; i < STMT__MAX; i++)
		sqlite3_finalize(db->stmts[i]);
	sqlite3_close(db->h);
	free(db->path);
	free(db);
}

/* Returns the file's user_version, -1 on error. */
int
db_schema_version(struct db *db)
{
	int64_t	 v;

	if (!stmt_int(db, STMT_USER_VERSION, &v))
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

	if ((st = stmt_get(db, STMT_MIGRATION_RECORD)) == NULL)
		goto fail;
	if (sqlite3_bind_int(st, 1, m->version) != SQLITE_OK ||
	    !bind_text(st, 2, m->name)) {
		stmt_done(st);
		goto fail;
	}
	rc = sqlite3_step(st);
	stmt_done(st);
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

/* Returns 1 if the database answers and is at our schema, else 0. */
int
db_ping(struct db *db)
{
	int64_t	 n;

	if (!stmt_int(db, STMT_PING, &n))
		return 0;
	return db_schema_version(db) == db_schema_latest();
}

/* Returns 1 once the write lock is held, 0 on failure (busy too). */
int
db_begin(struct db *db)
{
	return stmt_run(db, STMT_BEGIN) == SQLITE_DONE;
}

/*
 * Returns 1 on success.  On failure (e.g. SQLITE_BUSY waiting for readers
 * in rollback-journal mode) the transaction is rolled back here, so no
 * caller is left holding an open transaction; db_errmsg() tells why.
 */
int
db_commit(struct db *db)
{
	if (stmt_run(db, STMT_COMMIT) == SQLITE_DONE)
		return 1;
	if (!sqlite3_get_autocommit(db->h)) {
		/* Keep the commit's error, not the rollback's. */
		snprintf(db->msgbuf, sizeof(db->msgbuf), "%s",
		    sqlite3_errmsg(db->h));
		db_rollback(db);
		db->msg = db->msgbuf;
	}
	return 0;
}

/* Roll back the open transaction, if any. */
void
db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		(void)stmt_run(db, STMT_ROLLBACK);
}

/* Returns a string owned by the connection, valid until its next use. */
const char *
db_errmsg(struct db *db)
{
	if (db->msg != NULL)
		return db->msg;
	return sqlite3_errmsg(db->h);
}

/* Free the strings of an install and zero it.  Safe with NULL. */
void
install_free(struct install *in)
{
	if (in == NULL)
		return;
	free(in->installed_app_id);
	free(in->app_id);
	free(in->instance_id);
	free(in->organization_id);
	free(in->api_key_prefix);
	free(in->granted_permissions);
	free(in->install_event);
	free(in->installed_at);
	free(in->uninstalled_at);
	free(in->updated_at);
	memset(in, 0, sizeof(*in));
}

/*
 * Copy text column i into *out (allocated, caller frees; NULL for SQL
 * NULL, which is accepted only if nullable).  Returns 1 on success.
 */
static int
col_dup(sqlite3_stmt *st, int i, int nullable, char **out)
{
	const unsigned char	*s;

	*out = NULL;
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return nullable;
	if ((s = sqlite3_column_text(st, i)) == NULL)
		return 0;
	return (*out = strdup((const char *)s)) != NULL;
}

/*
 * Fill *in from the current row of a statement selecting INSTALL_COLS.
 * Returns 1 on success; on failure *in holds nothing to free.
 */
static int
install_fill(sqlite3_stmt *st, struct install *in)
{
	const char	*status;
	size_t		 i;

	memset(in, 0, sizeof(*in));
	if (!col_dup(st, 0, 0, &in->installed_app_id) ||
	    !col_dup(st, 1, 0, &in->app_id) ||
	    !col_dup(st, 2, 0, &in->instance_id) ||
	    !col_dup(st, 3, 1, &in->organization_id) ||
	    !col_dup(st, 4, 0, &in->api_key_prefix) ||
	    !col_dup(st, 5, 0, &in->granted_permissions) ||
	    !col_dup(st, 8, 0, &in->install_event) ||
	    !col_dup(st, 9, 0, &in->installed_at) ||
	    !col_dup(st, 10, 1, &in->uninstalled_at) ||
	    !col_dup(st, 11, 0, &in->updated_at))
		goto fail;

	if ((status = (const char *)sqlite3_column_text(st, 6)) == NULL)
		goto fail;
	for (i = 0; i < INSTALL__MAX; i++)
		if (strcmp(status, install_status_names[i]) == 0)
			break;
	if (i == INSTALL__MAX)
		goto fail;
	in->status = (enum install_status)i;
	in->generation = sqlite3_column_int64(st, 7);
	in->has_key = sqlite3_column_int(st, 12) != 0;
	return 1;
fail:
	install_free(in);
	return 0;
}

/* -1 error, 0 not found, 1 found (caller must install_free(in)). */
int
db_install_get(struct db *db, const char *id, struct install *in)
{
	sqlite3_stmt	*st;
	int		 rc, ret = -1;

	memset(in, 0, sizeof(*in));
	if ((st = stmt_get(db, STMT_INSTALL_GET)) == NULL)
		return -1;
	if (bind_text(st, 1, id)) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			ret = 0;
		else if (rc == SQLITE_ROW && install_fill(st, in))
			ret = 1;
	}
	stmt_done(st);
	return ret;
}

/*
 * See db.h.  The install passed to cb is freed when cb returns.  cb may
 * run other db_* calls but not db_install_list() itself.
 */
int
db_install_list(struct db *db, int (*cb)(const struct install *, void *),
    void *arg)
{
	sqlite3_stmt	*st;
	struct install	 in;
	int		 rc, ret = 0;

	if ((st = stmt_get(db, STMT_INSTALL_LIST)) == NULL)
		return 0;
	for (;;) {
		if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
			ret = 1;
			break;
		}
		if (rc != SQLITE_ROW || !install_fill(st, &in))
			break;
		rc = cb(&in, arg);
		install_free(&in);
		if (rc == 0) {
			ret = 1;
			break;
		}
	}
	stmt_done(st);
	return ret;
}

/* See db.h.  Returns 1 on success, 0 on failure. */
int
db_install_activate(struct db *db, const struct install *in,
    const unsigned char *sealed, size_t sealedlen, const char *kid,
    const char *now)
{
	sqlite3_stmt	*st;
	int		 rc = SQLITE_ERROR;

	if (!in_txn(db))
		return 0;
	if ((st = stmt_get(db, STMT_INSTALL_ACTIVATE)) == NULL)
		return 0;
	if (bind_text(st, 1, in->installed_app_id) &&
	    bind_text(st, 2, in->app_id) &&
	    bind_text(st, 3, in->instance_id) &&
	    bind_text(st, 4, in->organization_id) &&
	    bind_text(st, 5, in->api_key_prefix) &&
	    bind_blob(st, 6, sealed, sealedlen) &&
	    bind_text(st, 7, kid) &&
	    bind_text(st, 8, in->granted_permissions) &&
	    bind_text(st, 9, in->install_event) &&
	    bind_text(st, 10, now))
		rc = sqlite3_step(st);
	stmt_done(st);
	return rc == SQLITE_DONE;
}

/* See db.h: -1 error, 0 no such install, 1 done. */
int
db_install_deactivate(struct db *db, const char *id,
    const char *uninstalled_at, const char *now)
{
	sqlite3_stmt	*st;
	int		 rc = SQLITE_ERROR;

	if (!in_txn(db))
		return -1;
	if ((st = stmt_get(db, STMT_INSTALL_DEACTIVATE)) == NULL)
		return -1;
	if (bind_text(st, 1, id) &&
	    bind_text(st, 2, uninstalled_at) &&
	    bind_text(st, 3, now))
		rc = sqlite3_step(st);
	stmt_done(st);
	if (rc != SQLITE_DONE)
		return -1;
	return sqlite3_changes(db->h) > 0;
}

/* See db.h: -1 error, 0 already claimed, 1 claimed now. */
int
db_event_claim(struct db *db, const char *key, const char *kind,
    const char *install_id, const char *outcome, const char *now)
{
	sqlite3_stmt	*st;
	int		 rc = SQLITE_ERROR;

	if (!in_txn(db))
		return -1;
	if ((st = stmt_get(db, STMT_EVENT_CLAIM)) == NULL)
		return -1;
	if (bind_text(st, 1, key) &&
	    bind_text(st, 2, kind) &&
	    bind_text(st, 3, install_id) &&
	    bind_text(st, 4, outcome) &&
	    bind_text(st, 5, now))
		rc = sqlite3_step(st);
	stmt_done(st);
	if (rc != SQLITE_DONE)
		return -1;
	return sqlite3_changes(db->h) == 1;
}

/* Returns the number of events, -1 on error. */
int64_t
db_event_count(struct db *db)
{
	int64_t	 n;

	return stmt_int(db, STMT_EVENT_COUNT, &n) ? n : -1;
}

/* Writes "stripe-sync:v1:installs.api_key:<id>" into buf. */
void
db_install_key_aad(const char *id, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "stripe-sync:v1:installs.api_key:%s", id);
}

/*
 * The aad of row id of sealed column c into buf[DB_AADMAX].  Returns 0 if
 * it does not fit (a truncated aad could be shared by two rows).
 */
static int
sealed_aad(const struct sealed_col *c, const char *id, char *buf)
{
	c->aad(id, buf, DB_AADMAX);
	return strlen(buf) < DB_AADMAX - 1;
}

/*
 * Open the value of sealed column c in row id into *pt (allocated with a
 * trailing NUL; caller must crypto_wipe() and free).  Returns -1 on a
 * database error, -2 if the value does not open, 0 if the row or value is
 * missing, 1 on success.  *kid receives the stored key id (or "").
 */
static int
sealed_open(struct db *db, const struct conf *cf,
    const struct sealed_col *c, const char *id,
    unsigned char **pt, size_t *ptlen, char kid[CONF_KIDLEN + 1])
{
	sqlite3_stmt		*st;
	const unsigned char	*blob, *k;
	char			 aad[DB_AADMAX];
	int			 rc, ret = -1, n;

	*pt = NULL;
	*ptlen = 0;
	kid[0] = '\0';
	if (!sealed_aad(c, id, aad))
		return -2;
	if ((st = stmt_get(db, c->get)) == NULL)
		return -1;
	if (!bind_text(st, 1, id))
		goto out;
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		ret = 0;
		goto out;
	}
	if (rc != SQLITE_ROW)
		goto out;
	if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
		ret = 0;
		goto out;
	}
	ret = -2;
	blob = sqlite3_column_blob(st, 0);
	n = sqlite3_column_bytes(st, 0);
	if ((k = sqlite3_column_text(st, 1)) == NULL ||
	    strlen((const char *)k) > CONF_KIDLEN)
		goto out;
	snprintf(kid, CONF_KIDLEN + 1, "%s", (const char *)k);
	if (blob == NULL || n <= 0 ||
	    !crypto_open(cf, kid, aad, blob, (size_t)n, pt, ptlen))
		goto out;
	ret = 1;
out:
	stmt_done(st);
	return ret;
}

/*
 * See db.h.  The opened key is checked to hold no NUL byte, since callers
 * use it as a string.
 */
int
db_install_key(struct db *db, const struct conf *cf, const char *id,
    char **key)
{
	unsigned char	*pt;
	size_t		 ptlen;
	char		 kid[CONF_KIDLEN + 1];
	int		 rc;

	*key = NULL;
	rc = sealed_open(db, cf, &sealed_cols[0], id, &pt, &ptlen, kid);
	if (rc <= 0)
		return rc < 0 ? -1 : 0;
	if (memchr(pt, '\0', ptlen) != NULL) {
		crypto_wipe(pt, ptlen);
		free(pt);
		return -1;
	}
	*key = (char *)pt;
	return 1;
}

/*
 * Re-seal row id of column c under keys[0].  Returns 1 on success, 0 with
 * a message naming the row (never the value) in err.
 */
static int
rotate_one(struct db *db, const struct conf *cf,
    const struct sealed_col *c, const char *id, char *err, size_t errsz)
{
	sqlite3_stmt	*st;
	unsigned char	*pt = NULL, *out = NULL;
	size_t		 ptlen = 0, outlen = 0;
	char		 aad[DB_AADMAX], kid[CONF_KIDLEN + 1],
			 newkid[CONF_KIDLEN + 1];
	int		 rc, ret = 0;

	rc = sealed_open(db, cf, c, id, &pt, &ptlen, kid);
	if (rc == -1) {
		util_errf(err, errsz, "%s of %s: %s", c->name, id,
		    db_errmsg(db));
		goto out;
	} else if (rc == -2) {
		util_errf(err, errsz, "%s of %s: cannot open the value "
		    "sealed under key id \"%s\" (key not configured, or "
		    "value damaged)", c->name, id, kid);
		goto out;
	} else if (rc == 0) {
		/* Gone since we listed it: inside our own transaction,
		 * that cannot happen; nothing to re-seal. */
		ret = 1;
		goto out;
	}

	if (!sealed_aad(c, id, aad) ||
	    !crypto_seal(cf, aad, pt, ptlen, &out, &outlen, newkid)) {
		util_errf(err, errsz, "%s of %s: cannot seal under the "
		    "current key", c->name, id);
		goto out;
	}

	if ((st = stmt_get(db, c->put)) == NULL) {
		util_errf(err, errsz, "%s of %s: %s", c->name, id,
		    db_errmsg(db));
		goto out;
	}
	rc = SQLITE_ERROR;
	if (bind_text(st, 1, id) &&
	    bind_blob(st, 2, out, outlen) &&
	    bind_text(st, 3, newkid))
		rc = sqlite3_step(st);
	stmt_done(st);
	if (rc != SQLITE_DONE || sqlite3_changes(db->h) != 1) {
		util_errf(err, errsz, "%s of %s: %s", c->name, id,
		    db_errmsg(db));
		goto out;
	}
	ret = 1;
out:
	if (pt != NULL) {
		crypto_wipe(pt, ptlen);
		free(pt);
	}
	free(out);
	return ret;
}

/*
 * The ids of every row of c holding a value, into *ids (allocated array
 * of allocated strings; caller frees with free_ids()).  Collected before
 * any update so that no row is changed under a running SELECT.  Returns
 * 1 on success.
 */
static int
sealed_ids(struct db *db, const struct sealed_col *c, char ***ids,
    size_t *nids)
{
	sqlite3_stmt	*st;
	char		**p;
	const char	*s;
	int		 rc;

	*ids = NULL;
	*nids = 0;
	if ((st = stmt_get(db, c->ids)) == NULL)
		return 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((s = (const char *)sqlite3_column_text(st, 0)) == NULL)
			break;
		p = reallocarray(*ids, *nids + 1, sizeof(**ids));
		if (p == NULL)
			break;
		*ids = p;
		if (((*ids)[*nids] = strdup(s)) == NULL)
			break;
		(*nids)++;
	}
	stmt_done(st);
	return rc == SQLITE_DONE;
}

static void
free_ids(char **ids, size_t nids)
{
	size_t	 i;

	for (i = 0; i < nids; i++)
		free(ids[i]);
	free(ids);
}

/* See db.h.  Returns 1 on success, 0 (nothing changed) with err set. */
int
db_rotate_keys(struct db *db, const struct conf *cf, size_t *n, char *err,
    size_t errsz)
{
	const struct sealed_col	*c;
	char			**ids = NULL;
	size_t			 nids = 0, i, j;

	*n = 0;
	if (cf->nkeys == 0) {
		util_errf(err, errsz, "no master key configured");
		return 0;
	}
	if (!db_begin(db)) {
		util_errf(err, errsz, "database %s: %s", db->path,
		    db_errmsg(db));
		return 0;
	}
	for (i = 0; i < sizeof(sealed_cols) / sizeof(sealed_cols[0]); i++) {
		c = &sealed_cols[i];
		if (!sealed_ids(db, c, &ids, &nids)) {
			util_errf(err, errsz, "%s: %s", c->name,
			    db_errmsg(db));
			goto fail;
		}
		for (j = 0; j < nids; j++) {
			if (!rotate_one(db, cf, c, ids[j], err, errsz))
				goto fail;
			(*n)++;
		}
		free_ids(ids, nids);
		ids = NULL;
		nids = 0;
	}
	if (!db_commit(db)) {
		util_errf(err, errsz, "database %s: commit: %s", db->path,
		    db_errmsg(db));
		*n = 0;
		return 0;
	}
	return 1;
fail:
	free_ids(ids, nids);
	db_rollback(db);
	*n = 0;
	return 0;
}
