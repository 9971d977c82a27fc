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

/*
 * Open path: busy_timeout, foreign_keys=ON, mmap off, journal mode chosen by
 * db_journal_mode().  DB_SERVE refuses (returns NULL, message in err) a
 * database that is missing or whose user_version is not exactly the one
 * this binary knows.
 */
struct db	*db_open(const char *path, enum db_mode mode, char *err,
		    size_t errsz);
void		 db_close(struct db *db);

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

/* A cheap query that fails if the database is unusable (for health). */
int		 db_ping(struct db *db);

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
