/*
 * db.c: the connection to the SQLite database: opening it (with its
 * pragmas and checks), transactions, errors, and the statement cache every
 * db-*.c file uses (db-int.h).  The families of tables live in db-*.c,
 * each with its own statement table.
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

#include "db.h"
#include "db-int.h"
#include "util.h"

#define DB_BUSY_TIMEOUT_MS	5000

enum stmt {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_FOREIGN_KEYS,
	STMT_MMAP_OFF,
	STMT_SYNCHRONOUS,
	STMT_JOURNAL_WAL,
	STMT_JOURNAL_DELETE,
	STMT_PING,
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
	/* STMT_PING */
	"SELECT count(*) FROM sqlite_master",
};

#define RUN(db, s)	db_stmt_run((db), DBF_CORE, stmts, (s))

sqlite3_stmt *
db_stmt(struct db *db, enum db_family f, const char *const *sql, int i)
{
	db->msg = NULL;
	if (i < 0 || i >= DB_FAMILY_STMTS) {
		db->msg = "statement number out of range";
		return NULL;
	}
	if (db->st[f][i] == NULL &&
	    sqlite3_prepare_v3(db->h, sql[i], -1,
	    SQLITE_PREPARE_PERSISTENT, &db->st[f][i], NULL) != SQLITE_OK) {
		db->st[f][i] = NULL;
		return NULL;
	}
	return db->st[f][i];
}

/*
 * The result of sqlite3_reset() only repeats the error sqlite3_step()
 * already returned.
 */
void
db_stmt_done(sqlite3_stmt *st)
{
	(void)sqlite3_reset(st);
	(void)sqlite3_clear_bindings(st);
}

int
db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		return sqlite3_bind_null(st, i) == SQLITE_OK;
	return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) == SQLITE_OK;
}

int
db_bind_blob(sqlite3_stmt *st, int i, const void *p, size_t len)
{
	if (p == NULL)
		return sqlite3_bind_null(st, i) == SQLITE_OK;
	return sqlite3_bind_blob64(st, i, p, len, SQLITE_STATIC) ==
	    SQLITE_OK;
}

int
db_stmt_run(struct db *db, enum db_family f, const char *const *sql, int i)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = db_stmt(db, f, sql, i)) == NULL)
		return db->msg != NULL ? SQLITE_MISUSE : sqlite3_errcode(db->h);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		continue;
	db_stmt_done(st);
	return rc;
}

int
db_stmt_int(struct db *db, enum db_family f, const char *const *sql, int i,
    int64_t *v)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = db_stmt(db, f, sql, i)) == NULL)
		return 0;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	db_stmt_done(st);
	return rc == SQLITE_ROW;
}

/* *out is allocated (caller frees), NULL for SQL NULL. */
int
db_col_dup(sqlite3_stmt *st, int i, int nullable, char **out)
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
 * The callers' invariants (claim the event and change the install
 * together) only hold inside a transaction.
 */
int
db_in_txn(struct db *db)
{
	if (sqlite3_get_autocommit(db->h)) {
		db->msg = "write outside a transaction (db_begin() missing)";
		return 0;
	}
	return 1;
}

void
db_set_msg(struct db *db, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(db->msgbuf, sizeof(db->msgbuf), fmt, ap);
	va_end(ap);
	db->msg = db->msgbuf;
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
	    RUN(db, STMT_FOREIGN_KEYS) != SQLITE_DONE ||
	    RUN(db, STMT_MMAP_OFF) != SQLITE_DONE)
		goto fail;

	/*
	 * The journal mode is stored in the file (WAL) or is the default
	 * (delete), so another process has most likely set it already.
	 * Changing it needs an exclusive lock; if another process holds
	 * the database past busy_timeout, carry on with the mode it has.
	 */
	jm = strcmp(db_journal_mode(), "wal") == 0 ?
	    STMT_JOURNAL_WAL : STMT_JOURNAL_DELETE;
	rc = RUN(db, jm);
	if (rc != SQLITE_DONE && (rc & 0xff) != SQLITE_BUSY &&
	    (rc & 0xff) != SQLITE_LOCKED)
		goto fail;

	if (RUN(db, STMT_SYNCHRONOUS) != SQLITE_DONE)
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
	size_t	 f, i;

	if (db == NULL)
		return;
	for (f = 0; f < DBF__MAX; f++)
		for (i = 0; i < DB_FAMILY_STMTS; i++)
			sqlite3_finalize(db->st[f][i]);
	sqlite3_close(db->h);
	free(db->path);
	free(db);
}

/* Returns 1 if the database answers and is at our schema, else 0. */
int
db_ping(struct db *db)
{
	int64_t	 n;

	if (!db_stmt_int(db, DBF_CORE, stmts, STMT_PING, &n))
		return 0;
	return db_schema_version(db) == db_schema_latest();
}

/* Returns 1 once the write lock is held, 0 on failure (busy too). */
int
db_begin(struct db *db)
{
	return RUN(db, STMT_BEGIN) == SQLITE_DONE;
}

/*
 * Returns 1 on success.  On failure (e.g. SQLITE_BUSY waiting for readers
 * in rollback-journal mode) the transaction is rolled back here, so no
 * caller is left holding an open transaction; db_errmsg() tells why.
 */
int
db_commit(struct db *db)
{
	if (RUN(db, STMT_COMMIT) == SQLITE_DONE)
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
		(void)RUN(db, STMT_ROLLBACK);
}

/* Returns a string owned by the connection, valid until its next use. */
const char *
db_errmsg(struct db *db)
{
	if (db->msg != NULL)
		return db->msg;
	return sqlite3_errmsg(db->h);
}

