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

/*
 * -1 error, 0 not found, 1 found (then *in must be install_free()d).
 * Served from a small per-process cache while no commit has changed the
 * database file since the row was read (db-installs.c).
 */
int		 db_install_get(struct db *db, const char *id,
		    struct install *in);
/* Forget what the cache holds for this connection (before closing it). */
void		 db_install_cache_drop(struct db *db);

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

/* --- Stripe connections and settings (db-stripe.c) --- */

/* An install's Stripe connection, without its key. */
struct stripe_conn {
	char		 mode[8];	/* "test" or "live" */
	char		 key_type[16];	/* "secret" or "restricted" */
	char		 last4[8];
	char		 connected_at[32];
	char		 updated_at[32];
};

/* -1 error, 0 not connected, 1 connected (*c filled). */
int		 db_stripe_get(struct db *db, const char *id,
		    struct stripe_conn *c);

/*
 * Seal key (with associated data bound to the install) and store it with
 * its mode, type and last four characters, replacing any key before it.
 * Must run inside db_begin().  Returns 1, or 0 (nothing stored).
 */
int		 db_stripe_put(struct db *db, const struct conf *cf,
		    const char *id, const char *key, const char *mode,
		    const char *key_type, const char *now);

/* Delete the connection (the sealed key goes with it).  Inside
 * db_begin().  -1 error, 0 there was none, 1 deleted. */
int		 db_stripe_delete(struct db *db, const char *id);

/* Open the install's Stripe key into *key (caller crypto_wipe()s and
 * frees).  -1 error, 0 not connected, 1 found. */
int		 db_stripe_key(struct db *db, const struct conf *cf,
		    const char *id, char **key);

void		 db_stripe_key_aad(const char *id, char *buf, size_t bufsz);

/* The mode of what this install imported last, into mode[8] ("" if it
 * never imported).  Returns 1, 0 on error. */
int		 db_stripe_last_mode(struct db *db, const char *id,
		    char *mode);

/* The stored settings JSON of install id into *json (allocated).  -1
 * error, 0 none stored (the defaults apply), 1 found. */
int		 db_settings_get(struct db *db, const char *id, char **json);

/* Store settings JSON text for install id.  Inside db_begin(). */
int		 db_settings_put(struct db *db, const char *id,
		    const char *json, const char *now);

/* Has install id begun listing balance transactions in mode (a start
 * date is then fixed)?  -1 error, 0 no, 1 yes with *start_at set to the
 * date it lists from (0: the beginning). */
int		 db_cursor_start(struct db *db, const char *id,
		    const char *mode, int64_t *start_at);

/* --- Stripe webhooks: secrets, events, job requests (db-webhook.c) --- */

/* What the portal shows of an install's webhook. */
struct webhook_info {
	int		 set;		/* a signing secret is stored */
	char		 last4[8];	/* "" unless set */
	char		 set_at[32];	/* "" unless set */
	char		 last_event_at[32]; /* "" before the first event */
	int64_t		 events;	/* verified events recorded */
};

/* 1 with *w filled, 0 on error. */
int		 db_webhook_info(struct db *db, const char *id,
		    struct webhook_info *w);

/* Seal secret (associated data bound to the install) and store it with
 * its last four characters, replacing any before it.  Inside db_begin().
 * 1, or 0 (nothing stored). */
int		 db_webhook_secret_put(struct db *db, const struct conf *cf,
		    const char *id, const char *secret, const char *now);

/* Delete the secret.  Inside db_begin().  -1 error, 0 none, 1 deleted. */
int		 db_webhook_secret_delete(struct db *db, const char *id);

/* Open the signing secret of install id, if the install is active, into
 * *secret (caller crypto_wipe()s and frees).  -1 error (a seal that does
 * not open included), 0 none (unknown or inactive install, or no secret),
 * 1 found. */
int		 db_webhook_secret(struct db *db, const struct conf *cf,
		    const char *id, char **secret);

void		 db_webhook_secret_aad(const char *id, char *buf,
		    size_t bufsz);

/* Record a verified event once (inside db_begin()): 1 recorded, 0 it was
 * recorded before (a redelivery), -1 error. */
int		 db_webhook_event_add(struct db *db, const char *id,
		    const char *event_id, const char *type, int livemode,
		    const char *action, const char *now);

/* Ask for job ("sync" or "reconcile"; payout "" for a sync) of install id
 * (inside db_begin()): a new request is due at now + debounce; one
 * already waiting counts one more event and is due debounce after now,
 * but never later than max_wait after its first event.  1, 0 on error. */
int		 db_job_request(struct db *db, const char *id,
		    const char *job, const char *payout, int64_t now,
		    int64_t debounce, int64_t max_wait);

/* A request of the queue. */
struct job_request {
	char		 install[130];
	char		 job[12];
	char		 payout[64];
	int64_t		 first_at;
	int64_t		 due_at;
	int64_t		 events;
	int		 ready;		/* active, connected to Stripe */
};

/* Is a request due at now for an install without an active job?  A read
 * only.  -1 error, 0 no, 1 yes. */
int		 db_job_due(struct db *db, int64_t now);

/* Up to max such requests into out, syncs before reconciliations, the
 * earliest due first; *n receives how many.  1, 0 on error. */
int		 db_jobs_due(struct db *db, int64_t now,
		    struct job_request *out, size_t max, size_t *n);

/* Drop request r (inside db_begin()).  1, 0 on error. */
int		 db_job_request_delete(struct db *db,
		    const struct job_request *r);

/* Forget install id's secret, events and requests (an uninstall).
 * Inside db_begin().  1, 0 on error. */
int		 db_webhook_forget(struct db *db, const char *id);

/* --- sync runs, items, postings (db-sync.c) --- */

/* A run's counters, in sync_runs' column order. */
enum sync_n {
	SN_FOUND,	/* balance transactions new to this install */
	SN_IMPORTED,	/* items whose every posting Blnk APPLIED */
	SN_PRESENT,	/* listed again, already imported */
	SN_REJECTED,	/* items with a posting Blnk REJECTED */
	SN_FAILED,	/* items that cannot be imported */
	SN_TO_CONFIRM,	/* postings sent in this run */
	SN_CONFIRMED,	/* of those, confirmed (applied or rejected) */
	SN__MAX
};

extern const char *const sync_n_names[SN__MAX];	/* "found", ... */

/* A run row.  balance_before and balances are allocated (or NULL): free
 * with sync_run_free(). */
struct sync_run {
	char		 run_id[40];
	char		 install_id[130];
	char		 kind[12];
	char		 trigger[12];
	char		 mode[8];		/* "" until the run starts */
	char		 status[12];
	char		 phase[16];
	char		 cursor[128];		/* "" if none */
	int64_t		 window_gte;		/* -1 if none */
	int64_t		 high_water;		/* -1 if none */
	char		*balance_before;
	char		 lease_owner[64];
	int64_t		 lease_until;
	int64_t		 attempts;
	int64_t		 n[SN__MAX];
	char		*balances;
	char		 error_code[64];
	char		 error_message[256];
	char		 created_at[32];
	char		 started_at[32];
	char		 finished_at[32];
	char		 updated_at[32];
	char		 job[12];		/* "sync" or "reconcile" */
};

void		 sync_run_free(struct sync_run *r);

/*
 * Queue a run for install (inside db_begin()).  Returns 1, 0 if the
 * install already has a queued or running run (its id in active[40]),
 * -1 on error.
 */
int		 db_run_create(struct db *db, const char *run_id,
		    const char *install, const char *kind, const char *trigger,
		    const char *now, char *active);

/* After a refused insert: the install's active job into active[40].
 * Returns 0, or -1 if there is none after all (or on error). */
int		 db_run_active(struct db *db, const char *install,
		    char *active);

/* Run run_id, of install (NULL: any).  -1, 0 not found, 1 found. */
int		 db_run_get(struct db *db, const char *run_id,
		    const char *install, struct sync_run *r);

/* The runs of install, newest first; status NULL (all), "completed",
 * "in_progress" (queued or running) or "failed".  cb returns 0 to stop.
 * Returns 0 on a database error. */
int		 db_run_list(struct db *db, const char *install,
		    const char *status, int64_t limit, int64_t offset,
		    int (*cb)(const struct sync_run *, void *), void *arg);

/* How many jobs of kind job ("sync", "reconcile") install has: all,
 * completed, in progress, failed. */
int		 db_run_counts(struct db *db, const char *install,
		    const char *job, int64_t out[4]);

/* As db_run_get(), but a job of another kind is not found. */
int		 db_job_get(struct db *db, const char *run_id,
		    const char *install, const char *job, struct sync_run *r);

/*
 * Claim the oldest run that is queued, or running under a lease that ran
 * out before now: it becomes running under owner until lease_until, its
 * attempts + 1.  In its own IMMEDIATE transaction.  -1 error, 0 nothing
 * to claim, 1 claimed into *r.
 */
int		 db_run_claim(struct db *db, const char *owner, int64_t now,
		    int64_t lease_until, const char *now_text,
		    struct sync_run *r);

/*
 * Store where run r is (phase, cursor, window, high water, balances,
 * mode, counters) and extend its lease, only while owner still holds it.
 * Inside db_begin(): the caller's other writes commit with it or not at
 * all.  1 saved, 0 the lease is lost (roll back and stop), -1 error.
 */
int		 db_run_save(struct db *db, const struct sync_run *r,
		    const char *owner, int64_t lease_until, const char *now);

/* End run_id as status ("completed" or "failed") with an error or not,
 * while owner holds it.  Inside db_begin().  1, 0 lease lost, -1. */
int		 db_run_finish(struct db *db, const char *run_id,
		    const char *owner, const char *status, const char *code,
		    const char *message, const char *now);

/* Give the lease up at once (a runner stopping): another may claim the
 * run now.  1, 0 not held, -1. */
int		 db_run_release(struct db *db, const char *run_id,
		    const char *owner);

/* Record a problem with an item in run_id (inside db_begin()). */
int		 db_problem_add(struct db *db, const char *run_id,
		    const char *stripe_id, const char *reference,
		    const char *code, const char *message);

/* The problems of run_id in order, at most limit; cb(stripe_id,
 * reference, code, message, arg) returns 0 to stop.  *total receives how
 * many there are.  0 on error. */
int		 db_problems(struct db *db, const char *run_id, int64_t limit,
		    int (*cb)(const char *, const char *, const char *,
		    const char *, void *), void *arg, int64_t *total);

/* One Stripe balance transaction, as stored. */
struct sync_item {
	char		 txn_id[64];
	char		 mode[8];
	int64_t		 created;
	char		 type[48];
	char		 kind[12];
	char		 currency[8];
	int64_t		 amount;
	int64_t		 fee;
	int64_t		 net;
	char		 source[64];
	const char	*ctx;		/* JSON text; borrowed */
	char		 state[12];
};

/* Add item unless install has it: 1 added, 0 there (*state set to its
 * state, if state is not NULL), -1.  Inside db_begin(). */
int		 db_item_add(struct db *db, const char *install,
		    const struct sync_item *it, const char *run_id,
		    char *state);

/* The kinds of items, as bits for db_items_new(). */
#define KIND_PAYINS	0x01
#define KIND_FEES	0x02
#define KIND_PAYOUTS	0x04
#define KIND_OTHER	0x08
#define KIND_OPENING	0x10

/* Up to limit items of install in mode still 'new' whose kind is in mask,
 * oldest first (created; in one second charges first; then id).  cb
 * returns 0 to stop.  0 on error. */
int		 db_items_new(struct db *db, const char *install,
		    const char *mode, unsigned mask, int64_t limit,
		    int (*cb)(const struct sync_item *, void *), void *arg);

/* Set an item's state (and reason, or NULL).  Inside db_begin(). */
int		 db_item_set(struct db *db, const char *install,
		    const char *txn_id, const char *state, const char *run_id,
		    const char *reason);

/* Items 'sent' with a posting in batch whose postings are all decided
 * become 'confirmed' (every one applied) or 'rejected'; *confirmed and
 * *rejected receive how many.  A NULL batch: every such item of install,
 * whatever its batch (the sweep that mends a database where an item was
 * left 'sent' after its last posting was decided).  Inside db_begin(). */
int		 db_items_settle(struct db *db, const char *install,
		    const char *batch, const char *run_id, int64_t *confirmed,
		    int64_t *rejected);

/* Per currency, the sum of net of install's items in mode created at or
 * after since (the opening balance's other half).  0 on error. */
int		 db_items_net(struct db *db, const char *install,
		    const char *mode, int64_t since,
		    int (*cb)(const char *, int64_t, void *), void *arg);

/* Record posting reference of txn_id (state 'sent', sent now, in bulk
 * batch).  Inside db_begin().  1, 0 it exists already, -1. */
int		 db_posting_add(struct db *db, const char *install,
		    const char *reference, const char *txn_id, const char *leg,
		    const char *body, const char *batch, int64_t now);

/* A posting still 'sent', for confirming. */
struct sync_posting {
	int64_t		 rowid;
	char		 reference[160];
	char		 txn_id[64];
	const char	*body;		/* borrowed */
	int64_t		 sends;
	int64_t		 sent_at;
};

/* The batches holding 'sent' postings of install, oldest first, at most
 * limit: cb(batch, arg).  0 on error. */
int		 db_sent_batches(struct db *db, const char *install,
		    int64_t limit, int (*cb)(const char *, void *), void *arg);

/* The 'sent' postings of batch, in the order they were made.  0 on
 * error. */
int		 db_postings_sent(struct db *db, const char *install,
		    const char *batch,
		    int (*cb)(const struct sync_posting *, void *), void *arg);

/* Decide a posting ("applied" or "rejected"), with the _q row's id. */
int		 db_posting_set(struct db *db, const char *install,
		    const char *reference, const char *state,
		    const char *blnk_id);

/* A posting sent once more, now. */
int		 db_posting_resent(struct db *db, const char *install,
		    const char *reference, int64_t now);

/* How many of install's postings are in state.  -1 on error. */
int64_t		 db_postings_count(struct db *db, const char *install,
		    const char *state);

/* The listing cursor of install in mode: -1, 0 none, 1 found. */
int		 db_cursor_get(struct db *db, const char *install,
		    const char *mode, int64_t *high_water, int64_t *start_at);
int		 db_cursor_put(struct db *db, const char *install,
		    const char *mode, int64_t high_water, int64_t start_at,
		    const char *now);

/* The Blnk balance a charge's pay-in went to: -1, 0 unknown, 1 into
 * party[PARTY_MAX]. */
int		 db_charge_get(struct db *db, const char *install,
		    const char *charge, char *party, size_t partysz);
int		 db_charge_put(struct db *db, const char *install,
		    const char *charge, const char *party,
		    const char *customer);

/* The balance a customer's metadata names: -1, 0 customer unknown, 1
 * known (party "" if its metadata names none). */
int		 db_customer_get(struct db *db, const char *install,
		    const char *customer, char *party, size_t partysz);
int		 db_customer_put(struct db *db, const char *install,
		    const char *mode, const char *customer, int64_t created,
		    const char *party);

/*
 * The installs whose settings have a schedule, that are active and
 * connected and have no queued or running run: cb(install, minutes,
 * created_at of the last run or NULL, arg).  0 on error.
 */
int		 db_schedules(struct db *db,
		    int (*cb)(const char *, int64_t, const char *, void *),
		    void *arg);

/* --- reconciliations (db-recon.c) --- */

/* A reconciliation: a job of sync_runs (job 'reconcile') and what it
 * compares. */
struct recon {
	char		 run_id[40];
	char		 install_id[130];
	char		 scope[8];		/* "period" or "payout" */
	int64_t		 from, to;		/* [from, to), unix seconds */
	char		 currency[4];		/* lower case, "" all */
	char		 payout[64];		/* "" unless scope payout */
	int64_t		 blnk_page;		/* pages (or lookups) done */
	int64_t		 n_stripe, n_blnk, matched, differences;
	char		 result[12];		/* "", "clean", "differences" */
	char		*summary;		/* JSON, or NULL */
};

void		 recon_free(struct recon *r);

/*
 * Queue a reconciliation (inside db_begin()).  scope "period": from/to
 * unix seconds [from, to), currency lower case or NULL; scope "payout":
 * payout "po_...".  trigger: portal, webhook, schedule or cli.  Returns 1,
 * 0 if the install has an active job (its id in active[40]), -1 on error.
 */
int		 db_recon_create(struct db *db, const char *run_id,
		    const char *install, const char *trigger, const char *scope,
		    int64_t from, int64_t to, const char *currency,
		    const char *payout, const char *now, char *active);

/* The reconciliation of run run_id.  -1, 0 none, 1 found. */
int		 db_recon_get(struct db *db, const char *run_id,
		    struct recon *r);

/* Store its progress and result (inside db_begin()).  1, 0 on error. */
int		 db_recon_save(struct db *db, const struct recon *r);

/* The reconciliations of install, newest first, with their runs; status
 * as db_run_list().  cb returns 0 to stop.  0 on a database error. */
int		 db_recon_list(struct db *db, const char *install,
		    const char *status, int64_t limit, int64_t offset,
		    int (*cb)(const struct sync_run *, const struct recon *,
		    void *), void *arg);


/* One of Stripe's balance transactions in the scope (inside db_begin();
 * listed again, it replaces the first). */
struct recon_txn {
	const char	*txn_id;
	int64_t		 created;
	const char	*type;
	const char	*kind;		/* as syncmap_kind() */
	const char	*currency;
	int64_t		 amount, fee, net;
};
int		 db_recon_stripe_add(struct db *db, const char *run_id,
		    const struct recon_txn *t);

/* One Blnk transaction under the app's references (inside db_begin()). */
struct recon_row {
	const char	*transaction_id;
	const char	*reference;
	const char	*status;
	const char	*currency;
	int64_t		 precise_amount, precision;
	const char	*source, *destination;
	int64_t		 effective;
	const char	*mode;		/* meta_data.stripe_mode, or "" */
};
int		 db_recon_blnk_add(struct db *db, const char *run_id,
		    const struct recon_row *b);

/*
 * Stripe's side with what the import made of each balance transaction,
 * oldest first, from the offset-th on (at most limit; -1 all): cb gets
 * the transaction, the import's state of it ("" never seen), its reason,
 * and each posting (reference, leg), one call per posting or one with
 * leg NULL when it has none.  cb returns 0 to stop.  0 on error.
 */
int		 db_recon_stripe_each(struct db *db, const char *run_id,
		    const char *install, int64_t offset, int64_t limit,
		    int (*cb)(const struct recon_txn *, const char *state,
		    const char *reason, const char *reference, const char *leg,
		    void *), void *arg);

/* Has the import seen balance transaction txn_id?  -1, 0, 1. */
int		 db_item_known(struct db *db, const char *install,
		    const char *txn_id);

/* Blnk's side, by reference.  cb returns 0 to stop.  0 on error. */
int		 db_recon_blnk_each(struct db *db, const char *run_id,
		    int (*cb)(const struct recon_row *, void *), void *arg);

/* A difference found (kind as recon_diffs.kind; any of the texts NULL). */
struct recon_diff {
	const char	*kind;
	const char	*currency;
	const char	*day;
	const char	*stripe_id;
	const char	*reference;
	const char	*blnk_id;
	const char	*stripe_amount;
	const char	*blnk_amount;
	const char	*message;
	const char	*action;
};

/* Drop the differences of a run (a compare is done again whole). */
int		 db_recon_diffs_clear(struct db *db, const char *run_id);
int		 db_recon_diff_add(struct db *db, const char *run_id,
		    const struct recon_diff *d);

/* The differences of a run in order, from offset (limit -1: all).  0 on
 * error. */
int		 db_recon_diffs(struct db *db, const char *run_id,
		    int64_t offset, int64_t limit,
		    int (*cb)(const struct recon_diff *, void *), void *arg);

/* --- problems worth a Cloud alert (db-alerts.c) --- */

/* A problem worth an alert, inside the caller's transaction: recorded once per
 * (install, key); a key already recorded changes nothing.  target_type
 * "balance" (target: an @indicator or bln_ id, currency its currency) or
 * "transaction" (target: the posting's reference, or a txn_ id).  Returns 1
 * if new, 0 if already known, -1 on error. */
int		 db_alert_note(struct db *db, const char *install,
		    const char *key, const char *source_id,
		    const char *target_type, const char *target,
		    const char *currency, const char *title,
		    const char *description, const char *now);

/* One row of alert_flags.  Strings are "" for SQL NULL. */
struct alert_flag {
	char		 install_id[130];
	char		 key[256];
	char		 source_id[64];
	char		 target_type[16];
	char		 target[192];
	char		 currency[8];
	char		 target_id[64];
	char		 title[128];
	char		 description[2048];
	char		 state[12];
	char		 anomaly_id[64];
	int64_t		 attempts;
	char		 last_error[256];
	int64_t		 next_at;
	char		 created_at[32];
	char		 updated_at[32];
};

/* Is a problem of an active install pending and due at now (unix
 * seconds)?  A read without the write lock, for an idle job runner.  -1
 * error, 0 no, 1 yes. */
int		 db_alerts_due_any(struct db *db, int64_t now);

/* Up to limit pending problems of active installs due at now, oldest
 * first.  cb returns 0 to stop.  0 on error. */
int		 db_alerts_due(struct db *db, int64_t now, int64_t limit,
		    int (*cb)(const struct alert_flag *, void *), void *arg);

/*
 * Take a pending problem due at now for one try: attempts + 1, and not due
 * again before until (past the longest the try's calls can take), so that
 * no other runner tries it meanwhile.  Inside db_begin().  1 taken, 0
 * another runner has it or it is not pending any more, -1 error.
 */
int		 db_alert_claim(struct db *db, const char *install,
		    const char *key, int64_t now, int64_t until,
		    const char *now_text);

/*
 * What became of a try: the new state ("pending" to try again at next_at),
 * the id the target resolved to and the anomaly Cloud made (each NULL:
 * unchanged), and the error (NULL: none).  Changes only a row still
 * pending.  Inside db_begin().  1 changed, 0 not pending, -1 error.
 */
int		 db_alert_set(struct db *db, const char *install,
		    const char *key, const char *state, const char *target_id,
		    const char *anomaly_id, const char *last_error,
		    int64_t next_at, const char *now);

/* The problems of install, newest first.  cb returns 0 to stop.  0 on
 * error. */
int		 db_alert_list(struct db *db, const char *install,
		    int64_t limit, int64_t offset,
		    int (*cb)(const struct alert_flag *, void *), void *arg);

/* Where run_id of install stands in a streak of failures: *first 1 if
 * the install's sync that finished before it (if any) did not fail, 0 if
 * it failed, -1 if run_id is not a sync.  1, 0 on error. */
int		 db_alert_streak(struct db *db, const char *install,
		    const char *run_id, int *first);

/* The currencies (lower case) of install's balance transactions in mode
 * (NULL: any): cb(currency, arg) returns 0 to stop.  0 on error. */
int		 db_alert_currencies(struct db *db, const char *install,
		    const char *mode, int (*cb)(const char *, void *),
		    void *arg);

/* Problems of install still pending whose key starts with prefix become
 * 'cleared' (they went away before they were flagged).  Inside
 * db_begin().  The rows changed, or -1. */
int64_t		 db_alerts_clear(struct db *db, const char *install,
		    const char *prefix, const char *now);

/* Forget every problem of install (an uninstall).  Inside db_begin().
 * 1, 0 on error. */
int		 db_alerts_delete(struct db *db, const char *install);

#endif
