/*
 * db.h: the SQLite database and every statement run against it.
 *
 * One struct db per process, opened after any fork.  All statements live in
 * one table in db.c (enum stmt + stmts[]), are prepared once per connection
 * and reset after each use.  Write transactions are always BEGIN IMMEDIATE.
 * Functions return 1 on success, 0 on failure; where "not found" is not an
 * error they return -1 on failure, 0 for not found, 1 for found.
 */
#ifndef DB_H
#define DB_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct conf;

/* Schema version this binary was built with (number of migrations). */
int		 db_schema_latest(void);

enum db_mode {
	DB_SERVE,	/* must exist and be at db_schema_latest(); no DDL */
	DB_MIGRATE,	/* created (mode 0600) if missing; caller migrates */
};

/* Why a database cannot be served (db_connect(), db_check()). */
enum db_fault {
	DB_FAULT_NONE,
	DB_FAULT_MISSING,	/* no such file: run migrate */
	DB_FAULT_SCHEMA,	/* unmigrated, older or newer schema */
	DB_FAULT_READONLY,	/* this process cannot write it (or its
				   directory, where the journals go) */
	DB_FAULT_MOVED,		/* deleted, or another file renamed into
				   place, since this connection opened it */
	DB_FAULT_ERROR,		/* anything else (I/O, corrupt, ...) */
	DB_FAULT__MAX
};

/* Stable names for the faults ("readonly", ...), for logs and health. */
extern const char *const db_fault_names[DB_FAULT__MAX];

/*
 * Open path: busy_timeout, foreign_keys=ON, mmap off, journal mode chosen by
 * db_journal_mode().  Refuses (returns NULL, message in err, the reason in
 * *fault if fault is not NULL) a database this process cannot write:
 * SQLite would otherwise fall back to read-only without a word, and every
 * write would fail until a restart.  DB_SERVE also refuses a database that
 * is missing or whose user_version is not exactly the one this binary
 * knows.
 */
struct db	*db_connect(const char *path, enum db_mode mode,
		    enum db_fault *fault, char *err, size_t errsz);
struct db	*db_open(const char *path, enum db_mode mode, char *err,
		    size_t errsz);
void		 db_close(struct db *db);

/*
 * Is the file at the connection's path still the one it opened?  One
 * stat(2), cheap enough for every request.  Returns 1 if it was deleted or
 * replaced (a backup renamed into place): the connection then reads a
 * file nobody else sees and can no longer write, and the process should
 * answer 503 and make way for one that opens the current file.
 */
int		 db_moved(struct db *db);

/*
 * What health reports, without writing anything: moved (as db_moved()),
 * not writable by this process (the file or its directory), the schema
 * not the one this binary speaks, or the database not answering.
 * Returns DB_FAULT_NONE when all is well.
 */
enum db_fault	 db_check(struct db *db);

/* "wal" if the linked SQLite has the WAL-reset fix, else "delete". */
const char	*db_journal_mode(void);

/* The schema version stored in the file (PRAGMA user_version), -1 error. */
int		 db_schema_version(struct db *db);

/*
 * Apply all migrations newer than the file's version, each in its own
 * IMMEDIATE transaction that also records the version.  Refuses a database
 * newer than the binary.  *applied receives how many ran.  Idempotent.
 */
int		 db_migrate(struct db *db, int *applied, char *err, size_t errsz);

/* A cheap query that fails if the database does not answer or is not at
 * our schema. */
int		 db_ping(struct db *db);

/*
 * Copy the whole database, consistently, into dest with SQLite's online
 * backup API while others go on reading and writing.  dest must not exist;
 * it is created mode 0600.  Returns 1, or 0 with a message in err (dest
 * then does not exist).
 */
int		 db_backup(struct db *db, const char *dest, char *err,
		    size_t errsz);

/*
 * Replace the contents of the live database with the backup src, inside
 * SQLite's own locking, so running workers go on serving (they wait for
 * the write lock and then see the restored contents: nothing is renamed,
 * nothing needs a restart).  src must pass PRAGMA integrity_check and be
 * at a schema no newer than this binary's; *version receives its version
 * (the caller migrates if it is older).  Returns 1, or 0 with a message in
 * err and nothing changed.
 */
int		 db_restore(struct db *db, const char *src, int *version,
		    char *err, size_t errsz);

int		 db_begin(struct db *db);	/* BEGIN IMMEDIATE */
int		 db_commit(struct db *db);
void		 db_rollback(struct db *db);	/* safe if no transaction */

/* Last SQLite error message, for logs (never contains bound values). */
const char	*db_errmsg(struct db *db);

/* --- installs --- */

enum install_status {
	INSTALL_ACTIVE,
	INSTALL_INACTIVE,
	INSTALL__MAX
};

extern const char *const install_status_names[INSTALL__MAX];

/* An install row.  All strings owned by the struct; free with
 * install_free().  The sealed key is never loaded here. */
struct install {
	char			*installed_app_id;
	char			*app_id;
	char			*instance_id;
	char			*organization_id;	/* may be NULL */
	char			*api_key_prefix;
	char			*granted_permissions;	/* JSON array text */
	enum install_status	 status;
	int64_t			 generation;	/* +1 on every (re)install */
	char			*install_event;	/* idempotency key */
	char			*installed_at;	/* RFC 3339 UTC */
	char			*uninstalled_at; /* may be NULL */
	char			*updated_at;
	int			 has_key;	/* sealed api key present */
	char			*api_key_kid;	/* the key id sealing it, or
						   NULL without a key */
};

void		 install_free(struct install *in);

/* -1 error, 0 not found, 1 found (then *in must be install_free()d). */
int		 db_install_get(struct db *db, const char *id,
		    struct install *in);

/*
 * Call cb for every install ordered by installed_at, id.  cb returns 0 to
 * stop early.  Returns 0 on a database error.
 */
int		 db_install_list(struct db *db,
		    int (*cb)(const struct install *, void *), void *arg);

/*
 * Insert or replace the install row for in->installed_app_id as active,
 * with generation = old generation + 1 (1 if new), uninstalled_at NULL,
 * and the given sealed key.  Must run inside db_begin().
 */
int		 db_install_activate(struct db *db, const struct install *in,
		    const unsigned char *sealed, size_t sealedlen,
		    const char *kid, const char *now);

/*
 * Mark inactive, set uninstalled_at, and destroy every secret tied to the
 * install (sealed api key set to NULL, kid NULL).  Must run inside
 * db_begin().  Returns -1 error, 0 no such install, 1 done.
 */
int		 db_install_deactivate(struct db *db, const char *id,
		    const char *uninstalled_at, const char *now);

/* --- delivered events (idempotency) --- */

/*
 * Claim an idempotency key inside the caller's transaction, recording with
 * it the event's kind ("install" or "uninstall") and installed_app_id.
 * "outcome" is a short word recorded with the claim ("installed",
 * "uninstalled", "unknown-install", ...).  A key already claimed is a
 * duplicate only if it was claimed by the same kind of event for the same
 * install; anything else is a key reused by a different event.
 */
enum claim {
	CLAIM_ERROR = -1,	/* database error */
	CLAIM_DUPLICATE = 0,	/* claimed before by this same event */
	CLAIM_NEW = 1,		/* this call claimed it */
	CLAIM_OTHER_KIND = 2,	/* claimed before by the other kind */
	CLAIM_OTHER_INSTALL = 3	/* claimed before for another install */
};
enum claim	 db_event_claim(struct db *db, const char *key,
		    const char *kind, const char *install_id,
		    const char *outcome, const char *now);

/* Number of recorded events (tests, ctl). -1 on error. */
int64_t		 db_event_count(struct db *db);

/* --- sealed secrets, for rotate-keys --- */

/*
 * Re-seal every stored secret under cf's current key in one IMMEDIATE
 * transaction: for each sealed column, open with the stored kid, seal
 * again with keys[0] and the same aad.  *n receives how many values were
 * re-sealed.  On any failure nothing changes.
 */
int		 db_rotate_keys(struct db *db, const struct conf *cf,
		    size_t *n, char *err, size_t errsz);

/*
 * How many stored secrets are sealed under each key id, over every sealed
 * column (the Cloud keys, and every secret added later), into out[0..max)
 * in key id order; *n receives how many ids there are.  Returns 1, or 0
 * on a database error or if there are more than max ids.
 */
#define DB_KIDMAX	16	/* longest key id kept, with its NUL */
struct kid_count {
	char		 kid[DB_KIDMAX];
	int64_t		 n;
};
int		 db_sealed_counts(struct db *db, struct kid_count *out,
		    size_t max, size_t *n);

/*
 * Open the sealed api key of install "id" into *key (allocated, NUL
 * terminated; caller must crypto_wipe() and free).  -1 error (including a
 * seal that does not open), 0 no key (unknown or uninstalled), 1 found.
 */
int		 db_install_key(struct db *db, const struct conf *cf,
		    const char *id, char **key);

/* The associated data for the api key of install "id" (static buffer
 * semantics: writes into buf of size bufsz). */
void		 db_install_key_aad(const char *id, char *buf, size_t bufsz);

#endif
