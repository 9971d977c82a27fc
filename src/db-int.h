/*
 * db-int.h: what the storage files (db.c, db-*.c) share and nobody else
 * sees.  The public interface is db.h.
 *
 * Each db-*.c file holds one family of tables and its own statement table
 * (enum + const char *const stmts[]).  A statement is prepared the first
 * time it is used on a connection, cached in db->st[family][i], and reset
 * after each use, so every query is prepare-once, bind, step, reset.
 */
#ifndef DB_INT_H
#define DB_INT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* The families of statements, one per db-*.c file. */
enum db_family {
	DBF_CORE,	/* db.c: pragmas, transactions, ping */
	DBF_MIGRATE,	/* db-migrate.c: schema versions */
	DBF_INSTALLS,	/* db-installs.c: installs and delivered events */
	DBF_SECRETS,	/* db-secrets.c: every sealed column */
	DBF_STRIPE,	/* db-stripe.c: Stripe connections and settings */
	DBF_SYNC,	/* db-sync.c: runs, items, postings */
	DBF_ALERTS,	/* db-alerts.c: problems flagged in Cloud */
	DBF_WEBHOOK,	/* db-webhook.c: webhook secrets, events, jobs */
	DBF_RECON,	/* db-recon.c: reconciliations */
	DBF__MAX
};

#define DB_FAMILY_STMTS	48	/* statements per family, at most */
#define DB_AADMAX	512	/* associated data of a sealed value */

struct db {
	sqlite3		*h;
	char		*path;
	sqlite3_stmt	*st[DBF__MAX][DB_FAMILY_STMTS];
	dev_t		 dev;		/* the file opened, for db_moved() */
	ino_t		 ino;
	int		 qfd;		/* the writers' queue (db_begin()), -1 */
	int		 queued;	/* we hold our place at its head */
	double		 busy_since;	/* db_busy(): when the wait began */
	const char	*msg;		/* our own error, shadows sqlite's */
	char		 msgbuf[256];	/* for msg, when not static */
};

/*
 * A read transaction (BEGIN DEFERRED: a shared lock from its first read
 * to db_commit()), for reads that must see one state.  1 on success.
 */
int		 db_read_begin(struct db *db);

/*
 * The database file's change counter, read without a lock.  In a
 * rollback-journal database every commit that changes the file changes
 * it (SQLite writes it with page 1); in WAL mode it does not, so it tells
 * nothing there.  1 on success, 0 if it could not be read.
 */
int		 db_file_counter(struct db *db, uint32_t *v);

/*
 * Statement i of family f, whose SQL is sql[i], preparing it on first use.
 * Returns NULL on failure (see db_errmsg()).  The connection owns it.
 */
sqlite3_stmt	*db_stmt(struct db *db, enum db_family f,
		    const char *const *sql, int i);

/*
 * Statement i of family f with its parameters bound from the arguments by
 * fmt, one letter each: 't' a const char * (NULL binds NULL), 'i' an
 * int64_t.  Returns the statement (step it, then db_stmt_done()), or NULL.
 */
sqlite3_stmt	*db_prep(struct db *db, enum db_family f,
		    const char *const *sql, int i, const char *fmt, ...);

/* Step st to the end and reset it; returns the rows changed, or -1 on
 * error (or if st is NULL, a failed db_prep()). */
int64_t		 db_done(struct db *db, sqlite3_stmt *st);

/* Reset a statement and clear its bindings after use. */
void		 db_stmt_done(sqlite3_stmt *st);

/* Run a statement without parameters to completion, ignoring rows;
 * returns the last sqlite3_step() (or prepare) code, SQLITE_DONE on
 * success. */
int		 db_stmt_run(struct db *db, enum db_family f,
		    const char *const *sql, int i);

/* Run a statement without parameters that returns one integer; 1 and *v
 * set on success, 0 on failure. */
int		 db_stmt_int(struct db *db, enum db_family f,
		    const char *const *sql, int i, int64_t *v);

/* Bind text or a blob, or NULL for a NULL pointer.  1 on success. */
int		 db_bind_text(sqlite3_stmt *st, int i, const char *s);
int		 db_bind_blob(sqlite3_stmt *st, int i, const void *p,
		    size_t len);

/* Copy text column i into buf[bufsz] ("" for SQL NULL). */
void		 db_col_copy(sqlite3_stmt *st, int i, char *buf, size_t bufsz);

/* Copy text column i into *out (allocated; NULL for SQL NULL, accepted
 * only if nullable).  1 on success. */
int		 db_col_dup(sqlite3_stmt *st, int i, int nullable, char **out);

/* 1 if a transaction is open, else 0 with db->msg set: every write runs
 * inside db_begin(). */
int		 db_in_txn(struct db *db);

/* Set db->msg to a formatted message of our own (for db_errmsg()). */
void		 db_set_msg(struct db *db, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));

struct conf;

/* The sealed columns (db-secrets.c). */
enum sealed_id {
	SEALED_INSTALL_API_KEY,	/* installs.api_key_sealed */
	SEALED_STRIPE_KEY,	/* stripe_connections.key_sealed */
	SEALED_WEBHOOK_SECRET,	/* webhook_secrets.secret_sealed */
	SEALED__MAX
};

/*
 * Open the sealed value "which" of row id into *pt (allocated with a
 * trailing NUL; the caller must crypto_wipe() and free), *kid receiving
 * the stored key id.  Returns -1 on error (including a value that does not
 * open), 0 if the row or the value is missing, 1 on success.
 */
int		 db_sealed_open(struct db *db, const struct conf *cf,
		    enum sealed_id which, const char *id, unsigned char **pt,
		    size_t *ptlen, char *kid);

/* The same for a value used as a string: *out is NUL-terminated, holds
 * no NUL, and must be crypto_wipe()d and freed.  -1, 0 or 1 as above. */
int		 db_sealed_string(struct db *db, const struct conf *cf,
		    enum sealed_id which, const char *id, char **out);
/*
 * The same for a value as stored (blob of n bytes, sealed under key id
 * kid), read earlier (db-installs.c's cache).  1, or -1 if it does not
 * open or holds a NUL byte.
 */
int		 db_sealed_string_stored(const struct conf *cf,
		    enum sealed_id which, const char *id, const char *kid,
		    const unsigned char *blob, size_t n, char **out);

#endif
