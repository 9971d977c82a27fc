/*
 * db.c: the connection to the SQLite database: opening it (with its
 * pragmas and checks), transactions, errors, and the statement cache every
 * db-*.c file uses (db-int.h).  The families of tables live in db-*.c,
 * each with its own statement table.
 *
 * Several processes share the file.  Each opens its own connection after
 * any fork, writes only inside BEGIN IMMEDIATE (so a writer waits for the
 * lock up front instead of failing to upgrade a read lock half way
 * through), and never memory-maps the file.
 *
 * Writers queue in the kernel first.  SQLite's own wait for a lock is a
 * sleep of 1, 2, 5, 10 ... ms between tries: with two workers taking
 * turns, the one that lost sleeps while the other commits again and
 * again, and an install callback could wait most of a second.  So
 * db_begin() first takes an open file description lock (F_OFD_SETLKW) on
 * one byte of the database file far from the bytes SQLite locks: the
 * kernel wakes the next writer the moment the last one commits, in
 * order.  BEGIN IMMEDIATE then finds the write lock free (bar a writer
 * that does not queue, such as the sqlite3 shell); what is left to wait
 * for is readers finishing, which db_busy() polls for in steps of
 * microseconds rather than milliseconds.  The lock is the process's own
 * description of the file, so a process that dies loses its place at
 * once.
 */
#include <sys/types.h>
#include <sys/time.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db.h"
#include "db-int.h"
#include "util.h"

#define DB_BUSY_TIMEOUT_MS	5000

/* The byte of the database file the writers' queue locks: past SQLite's
 * lock bytes (1 GiB to 1 GiB + 512) and any file we will ever have. */
#define DB_QUEUE_BYTE		((off_t)0x60000000)

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
	STMT_BEGIN_READ,
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
	/* STMT_BEGIN_READ */
	"BEGIN",
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

/* See db-int.h. */
sqlite3_stmt *
db_prep(struct db *db, enum db_family f, const char *const *sql, int i,
    const char *fmt, ...)
{
	sqlite3_stmt	*st;
	va_list		 ap;
	int		 n, ok = 1;

	if ((st = db_stmt(db, f, sql, i)) == NULL)
		return NULL;
	va_start(ap, fmt);
	for (n = 1; ok && fmt[n - 1] != '\0'; n++)
		switch (fmt[n - 1]) {
		case 't':
			ok = db_bind_text(st, n, va_arg(ap, const char *));
			break;
		case 'i':
			ok = sqlite3_bind_int64(st, n, va_arg(ap, int64_t)) ==
			    SQLITE_OK;
			break;
		default:
			ok = 0;
			break;
		}
	va_end(ap);
	if (!ok) {
		db_stmt_done(st);
		db_set_msg(db, "binding statement %d failed", i);
		return NULL;
	}
	return st;
}

/* See db-int.h. */
int64_t
db_done(struct db *db, sqlite3_stmt *st)
{
	int	 rc;

	if (st == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		continue;
	db_stmt_done(st);
	return rc == SQLITE_DONE ? (int64_t)sqlite3_changes(db->h) : -1;
}

/* See db-int.h. */
void
db_col_copy(sqlite3_stmt *st, int i, char *buf, size_t bufsz)
{
	const unsigned char	*t = sqlite3_column_text(st, i);

	snprintf(buf, bufsz, "%s", t != NULL ? (const char *)t : "");
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
 * SQLite's busy handler: wait for another connection's lock in short
 * steps (10 us doubling to 1 ms) for up to DB_BUSY_TIMEOUT_MS.  Returns
 * 1 to try again, 0 to give up (SQLITE_BUSY).
 */
static int
db_busy(void *arg, int n)
{
	struct db	*db = arg;
	struct timespec	 ts;
	double		 now = util_monotonic_ms();
	long		 us;

	if (n == 0)
		db->busy_since = now;
	else if (now - db->busy_since >= DB_BUSY_TIMEOUT_MS)
		return 0;
	us = n < 7 ? 10L << n : 1000;
	ts.tv_sec = 0;
	ts.tv_nsec = us * 1000;
	(void)nanosleep(&ts, NULL);
	return 1;
}

static void
on_alarm(int sig)
{
	(void)sig;	/* only to interrupt fcntl(F_OFD_SETLKW) */
}

/*
 * Take (type F_WRLCK) or leave (F_UNLCK) our place in the writers' queue.
 * A wait longer than DB_BUSY_TIMEOUT_MS gives up, like SQLite's own.
 * Returns 1 on success, 0 with db->msg set.
 */
static int
db_queue(struct db *db, short type)
{
	struct flock		 fl;
	struct itimerval	 it, off;
	struct sigaction	 sa, old;
	struct timespec		 zero = { 0, 0 };
	sigset_t		 alrm, oldmask, pend;
	double			 end;
	long long		 us;
	int			 rc, e;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = DB_QUEUE_BYTE;
	fl.l_len = 1;
	if (type == F_UNLCK) {
		(void)fcntl(db->qfd, F_OFD_SETLK, &fl);
		db->queued = 0;
		return 1;
	}
	/* Nobody ahead: one system call. */
	if (fcntl(db->qfd, F_OFD_SETLK, &fl) == 0) {
		db->queued = 1;
		return 1;
	}
	if (errno != EAGAIN && errno != EACCES) {
		db_set_msg(db, "the writers' queue: %s", strerror(errno));
		return 0;
	}

	/* Wait in the kernel, with SIGALRM as the clock. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGALRM, &sa, &old);
	memset(&off, 0, sizeof(off));
	end = util_monotonic_ms() + DB_BUSY_TIMEOUT_MS;
	for (;;) {
		double	 left = end - util_monotonic_ms();

		if (left <= 0) {
			errno = EAGAIN;
			rc = -1;
			break;
		}
		/* Whole microseconds, at least one, split so that tv_usec
		 * stays below a second (setitimer refuses it otherwise, and
		 * the wait would have no end). */
		us = (long long)(left * 1000) + 1;
		memset(&it, 0, sizeof(it));
		it.it_value.tv_sec = (time_t)(us / 1000000);
		it.it_value.tv_usec = (suseconds_t)(us % 1000000);
		if (setitimer(ITIMER_REAL, &it, NULL) == -1) {
			rc = -1;
			break;
		}
		rc = fcntl(db->qfd, F_OFD_SETLKW, &fl);
		e = errno;
		(void)setitimer(ITIMER_REAL, &off, NULL);
		errno = e;
		if (rc == 0 || errno != EINTR)
			break;
	}
	/*
	 * The timer may have run out just as the lock came, and a signal
	 * can be delivered late (valgrind does): with the old action (the
	 * default ends the process) back, that would kill us.  Take any
	 * such SIGALRM first, with it blocked.
	 */
	e = errno;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	(void)sigprocmask(SIG_BLOCK, &alrm, &oldmask);
	while (sigpending(&pend) == 0 && sigismember(&pend, SIGALRM) == 1 &&
	    sigtimedwait(&alrm, NULL, &zero) == SIGALRM)
		continue;
	(void)sigaction(SIGALRM, &old, NULL);
	(void)sigprocmask(SIG_SETMASK, &oldmask, NULL);
	errno = e;
	if (rc == -1) {
		if (errno == EAGAIN || errno == EINTR)
			db->msg = "database is locked (another writer held it "
			    "for 5 s)";
		else
			db_set_msg(db, "the writers' queue: %s",
			    strerror(errno));
		return 0;
	}
	db->queued = 1;
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

	if (sqlite3_busy_handler(db->h, db_busy, db) != SQLITE_OK ||
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

const char *const db_fault_names[DB_FAULT__MAX] = {
	"ok",		/* DB_FAULT_NONE */
	"missing",	/* DB_FAULT_MISSING */
	"schema",	/* DB_FAULT_SCHEMA */
	"readonly",	/* DB_FAULT_READONLY */
	"moved",	/* DB_FAULT_MOVED */
	"error",	/* DB_FAULT_ERROR */
};

/*
 * Can this process write the file and create files (the journals) in its
 * directory?  access(2) asks with our real ids, which are the ones that
 * count for a worker.  Returns 0 with the culprit in *what if not.
 */
static int
db_writable(const char *path, const char **what)
{
	char	 dir[PATH_MAX];
	char	*slash;

	if (access(path, W_OK) == -1) {
		*what = "the file";
		return 0;
	}
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return 1;
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (access(dir, W_OK | X_OK) == -1) {
		*what = "its directory (where the journal is written)";
		return 0;
	}
	/*
	 * A journal left by a write that was cut short must be rolled back
	 * before anyone can read; SQLite gives a new journal the mode the
	 * file had then, so a file made read-only under a running writer can
	 * leave one (say 0400) that keeps every process out once the file is
	 * writable again, with no better word than "unable to open".
	 */
	if (snprintf(dir, sizeof(dir), "%s-journal", path) < (int)sizeof(dir) &&
	    access(dir, W_OK) == -1 && errno != ENOENT) {
		*what = "its journal (left by a write that was cut short: give "
		    "it the file's owner and mode)";
		return 0;
	}
	return 1;
}

/* Fill err and *fault; always returns NULL after closing db. */
static struct db *
db_refuse(struct db *db, enum db_fault f, enum db_fault *fault)
{
	if (fault != NULL)
		*fault = f;
	db_close(db);
	return NULL;
}

/*
 * See db.h.  Returns a connection the caller must db_close(), or NULL with
 * a message in err and the reason in *fault.
 */
struct db *
db_connect(const char *path, enum db_mode mode, enum db_fault *fault,
    char *err, size_t errsz)
{
	struct db	*db;
	struct stat	 st;
	const char	*what = "the file";
	int		 v, rc, writable;

	if (fault != NULL)
		*fault = DB_FAULT_NONE;
	if ((db = calloc(1, sizeof(*db))) == NULL ||
	    (db->path = strdup(path)) == NULL) {
		util_errf(err, errsz, "database %s: %s", path, strerror(errno));
		free(db);
		return db_refuse(NULL, DB_FAULT_ERROR, fault);
	}
	db->qfd = -1;

	if (mode == DB_MIGRATE && !db_create(path)) {
		util_errf(err, errsz, "database %s: cannot create: %s",
		    path, strerror(errno));
		return db_refuse(db, errno == EACCES || errno == EROFS ||
		    errno == EPERM ? DB_FAULT_READONLY : DB_FAULT_ERROR,
		    fault);
	}

	/* Never SQLITE_OPEN_CREATE: DB_SERVE needs the file to exist, and
	 * DB_MIGRATE has just created it with the right mode. */
	rc = sqlite3_open_v2(path, &db->h,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK && access(path, F_OK) == -1) {
		util_errf(err, errsz, "database %s does not exist: "
		    "run 'stripe-syncctl migrate'", path);
		return db_refuse(db, DB_FAULT_MISSING, fault);
	}
	writable = db_writable(path, &what);
	if (rc != SQLITE_OK && writable) {
		util_errf(err, errsz, "database %s: %s", path,
		    db->h != NULL ? sqlite3_errmsg(db->h) :
		    sqlite3_errstr(rc));
		return db_refuse(db, DB_FAULT_ERROR, fault);
	}

	/*
	 * SQLITE_OPEN_READWRITE quietly opens read-only a file we may not
	 * write, and a worker would then answer every write with 503 until
	 * restarted, even once the fault is mended.  Refuse instead, and
	 * say what to mend: the caller tries again with a new connection.
	 */
	if (!writable || sqlite3_db_readonly(db->h, "main") != 0) {
		util_errf(err, errsz, "database %s: this process (uid %ld) "
		    "cannot write %s: check the owner and mode of the file "
		    "and its directory (the workers' user must own both)",
		    path, (long)geteuid(), what);
		return db_refuse(db, DB_FAULT_READONLY, fault);
	}
	(void)sqlite3_extended_result_codes(db->h, 1);
	if (stat(path, &st) == -1) {
		util_errf(err, errsz, "database %s: %s", path,
		    strerror(errno));
		return db_refuse(db, DB_FAULT_MOVED, fault);
	}
	db->dev = st.st_dev;
	db->ino = st.st_ino;

	/*
	 * The writers' queue (db_begin()).  This descriptor is closed only
	 * after SQLite's connection (db_close()): closing any descriptor of
	 * the file would drop the POSIX locks SQLite holds on it.
	 */
	if ((db->qfd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) == -1 ||
	    fstat(db->qfd, &st) == -1 || st.st_dev != db->dev ||
	    st.st_ino != db->ino) {
		int	 e = errno;

		util_errf(err, errsz, "database %s: %s", path,
		    db->qfd == -1 ? strerror(e) : "replaced while opening");
		return db_refuse(db, db->qfd == -1 && (e == EACCES ||
		    e == EROFS || e == EPERM) ? DB_FAULT_READONLY :
		    DB_FAULT_MOVED, fault);
	}

	if (!db_setup(db, err, errsz))
		return db_refuse(db, DB_FAULT_ERROR, fault);

	if (mode == DB_SERVE) {
		if ((v = db_schema_version(db)) < 0) {
			util_errf(err, errsz, "database %s: %s", path,
			    db_errmsg(db));
			return db_refuse(db, DB_FAULT_ERROR, fault);
		}
		if (v > db_schema_latest()) {
			util_errf(err, errsz, "database %s is at schema "
			    "version %d, which is newer than this binary "
			    "(version %d)", path, v, db_schema_latest());
			return db_refuse(db, DB_FAULT_SCHEMA, fault);
		}
		if (v < db_schema_latest()) {
			util_errf(err, errsz, "database %s is at schema "
			    "version %d but this binary speaks version %d: "
			    "run 'stripe-syncctl migrate'", path, v,
			    db_schema_latest());
			return db_refuse(db, DB_FAULT_SCHEMA, fault);
		}
	}
	return db;
}

struct db *
db_open(const char *path, enum db_mode mode, char *err, size_t errsz)
{
	return db_connect(path, mode, NULL, err, errsz);
}

/* See db.h: 1 if the file at db->path is not the one we opened. */
int
db_moved(struct db *db)
{
	struct stat	 st;

	if (stat(db->path, &st) == -1)
		return errno == ENOENT || errno == ENOTDIR;
	return st.st_dev != db->dev || st.st_ino != db->ino;
}

/* See db.h. */
enum db_fault
db_check(struct db *db)
{
	const char	*what;
	int64_t		 n;

	if (db_moved(db)) {
		db->msg = "the database file was deleted or replaced since "
		    "this process opened it";
		return DB_FAULT_MOVED;
	}
	if (!db_writable(db->path, &what)) {
		db_set_msg(db, "this process cannot write %s", what);
		return DB_FAULT_READONLY;
	}
	if (!db_stmt_int(db, DBF_CORE, stmts, STMT_PING, &n))
		return DB_FAULT_ERROR;
	if (db_schema_version(db) != db_schema_latest()) {
		db->msg = "the database is not at the schema this binary "
		    "speaks";
		return DB_FAULT_SCHEMA;
	}
	return DB_FAULT_NONE;
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
	db_install_cache_drop(db);
	for (f = 0; f < DBF__MAX; f++)
		for (i = 0; i < DB_FAMILY_STMTS; i++)
			sqlite3_finalize(db->st[f][i]);
	sqlite3_close(db->h);
	if (db->qfd != -1)
		close(db->qfd);
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

/*
 * Returns 1 once the write lock is held, 0 on failure (busy too).  The
 * place in the writers' queue is taken first and held until db_commit()
 * or db_rollback().
 */
int
db_begin(struct db *db)
{
	db->msg = NULL;
	if (!db->queued && !db_queue(db, F_WRLCK))
		return 0;
	if (RUN(db, STMT_BEGIN) == SQLITE_DONE)
		return 1;
	if (sqlite3_get_autocommit(db->h))
		db_queue(db, F_UNLCK);
	return 0;
}

/*
 * Returns 1 on success.  On failure (e.g. SQLITE_BUSY waiting for readers
 * in rollback-journal mode) the transaction is rolled back here, so no
 * caller is left holding an open transaction; db_errmsg() tells why.
 */
int
db_commit(struct db *db)
{
	if (RUN(db, STMT_COMMIT) == SQLITE_DONE) {
		if (db->queued)
			db_queue(db, F_UNLCK);
		return 1;
	}
	if (!sqlite3_get_autocommit(db->h)) {
		/* Keep the commit's error, not the rollback's. */
		snprintf(db->msgbuf, sizeof(db->msgbuf), "%s",
		    sqlite3_errmsg(db->h));
		db_rollback(db);
		db->msg = db->msgbuf;
	} else if (db->queued)
		db_queue(db, F_UNLCK);
	return 0;
}

/*
 * See db-int.h.  A read transaction: no place in the writers' queue.
 */
int
db_read_begin(struct db *db)
{
	return RUN(db, STMT_BEGIN_READ) == SQLITE_DONE;
}

/*
 * See db-int.h.  The file change counter (bytes 24..27 of the header,
 * big-endian), read from our own descriptor without a lock.
 */
int
db_file_counter(struct db *db, uint32_t *v)
{
	unsigned char	 b[4];

	if (db->qfd == -1 || pread(db->qfd, b, sizeof(b), 24) != 4)
		return 0;
	*v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
	return 1;
}

/* Roll back the open transaction, if any, and leave the queue. */
void
db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->h))
		(void)RUN(db, STMT_ROLLBACK);
	if (db->queued)
		db_queue(db, F_UNLCK);
}

/* Returns a string owned by the connection, valid until its next use. */
const char *
db_errmsg(struct db *db)
{
	if (db->msg != NULL)
		return db->msg;
	return sqlite3_errmsg(db->h);
}


/* Run the backup b to its end; 1 on success.  Frees b. */
static int
backup_run(sqlite3_backup *b)
{
	int	 rc;

	/* All pages in one step: the source is locked only for its
	 * duration, and busy or locked pages are retried by SQLite's
	 * busy handler on the destination. */
	do {
		rc = sqlite3_backup_step(b, -1);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(20);
	} while (rc == SQLITE_OK || rc == SQLITE_BUSY ||
	    rc == SQLITE_LOCKED);
	return sqlite3_backup_finish(b) == SQLITE_OK && rc == SQLITE_DONE;
}

/* See db.h. */
int
db_backup(struct db *db, const char *dest, char *err, size_t errsz)
{
	sqlite3		*d = NULL;
	sqlite3_backup	*b;
	int		 fd, ok = 0;

	/* Create it ourselves, 0600 whatever the umask, refusing to
	 * overwrite anything (a backup is never written over a file). */
	fd = open(dest, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1) {
		util_errf(err, errsz, "backup %s: %s", dest, strerror(errno));
		return 0;
	}
	close(fd);
	if (sqlite3_open_v2(dest, &d, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		util_errf(err, errsz, "backup %s: %s", dest,
		    d != NULL ? sqlite3_errmsg(d) : "cannot open");
		goto out;
	}
	if ((b = sqlite3_backup_init(d, "main", db->h, "main")) == NULL) {
		util_errf(err, errsz, "backup %s: %s", dest,
		    sqlite3_errmsg(d));
		goto out;
	}
	if (!backup_run(b)) {
		util_errf(err, errsz, "backup %s: %s", dest,
		    sqlite3_errmsg(d));
		goto out;
	}
	ok = 1;
out:
	sqlite3_close(d);
	if (!ok)
		(void)unlink(dest);
	return ok;
}

/* See db.h. */
int
db_restore(struct db *db, const char *src, int *version, char *err,
    size_t errsz)
{
	sqlite3		*s = NULL;
	sqlite3_stmt	*st = NULL;
	sqlite3_backup	*b;
	const char	*t;
	int		 ok = 0;

	*version = -1;
	if (access(src, R_OK) == -1) {
		util_errf(err, errsz, "restore %s: %s", src, strerror(errno));
		return 0;
	}
	if (sqlite3_open_v2(src, &s, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		util_errf(err, errsz, "restore %s: %s", src,
		    s != NULL ? sqlite3_errmsg(s) : "cannot open");
		goto out;
	}
	/* Ad-hoc statements on the backup's own connection: they take no
	 * input and run once. */
	if (sqlite3_prepare_v2(s, "PRAGMA integrity_check", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW ||
	    (t = (const char *)sqlite3_column_text(st, 0)) == NULL ||
	    strcmp(t, "ok") != 0) {
		util_errf(err, errsz, "restore %s: not an intact SQLite "
		    "database (integrity check failed): nothing restored",
		    src);
		goto out;
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(s, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		util_errf(err, errsz, "restore %s: %s", src, sqlite3_errmsg(s));
		goto out;
	}
	*version = sqlite3_column_int(st, 0);
	if (*version < 1 || *version > db_schema_latest()) {
		util_errf(err, errsz, "restore %s: schema version %d is not "
		    "one this binary knows (1 to %d): nothing restored", src,
		    *version, db_schema_latest());
		goto out;
	}
	if ((b = sqlite3_backup_init(db->h, "main", s, "main")) == NULL ||
	    !backup_run(b)) {
		util_errf(err, errsz, "restore %s: %s: nothing restored", src,
		    sqlite3_errmsg(db->h));
		goto out;
	}
	ok = 1;
out:
	sqlite3_finalize(st);
	sqlite3_close(s);
	return ok;
}
