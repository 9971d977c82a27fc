/*
 * db-webhook.c: Stripe webhooks' tables: the sealed signing secret of an
 * install, the events seen (each once), and the debounced job requests
 * the job runner turns into runs.  See db.h and sql/003-reconcile.sql.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "db-int.h"

enum stmt {
	STMT_INFO,
	STMT_SECRET_PUT,
	STMT_SECRET_DELETE,
	STMT_ACTIVE,
	STMT_EVENT_ADD,
	STMT_REQUEST,
	STMT_DUE,
	STMT_DUE_LIST,
	STMT_REQUEST_DELETE,
	STMT_FORGET_SECRET,
	STMT_FORGET_EVENTS,
	STMT_FORGET_REQUESTS,
	STMT__MAX
};

/* A request waits while its install has a job queued or running (the
 * partial index sync_runs_active answers that). */
#define NO_ACTIVE_JOB \
	"NOT EXISTS (SELECT 1 FROM sync_runs r " \
	"WHERE r.installed_app_id = j.installed_app_id " \
	"AND r.status IN ('queued', 'running'))"

static const char *const stmts[STMT__MAX] = {
	/* STMT_INFO */
	"SELECT s.last4, s.set_at, "
	"(SELECT count(*) FROM webhook_events e "
	"WHERE e.installed_app_id = ?1), "
	"(SELECT max(received_at) FROM webhook_events e "
	"WHERE e.installed_app_id = ?1) "
	"FROM (SELECT 1) LEFT JOIN webhook_secrets s "
	"ON s.installed_app_id = ?1",
	/* STMT_SECRET_PUT */
	"INSERT INTO webhook_secrets (installed_app_id, secret_sealed, "
	"key_kid, last4, set_at) VALUES (?1, ?2, ?3, ?4, ?5) "
	"ON CONFLICT (installed_app_id) DO UPDATE SET "
	"secret_sealed = excluded.secret_sealed, key_kid = excluded.key_kid, "
	"last4 = excluded.last4, set_at = excluded.set_at",
	/* STMT_SECRET_DELETE */
	"DELETE FROM webhook_secrets WHERE installed_app_id = ?1",
	/* STMT_ACTIVE */
	"SELECT 1 FROM installs WHERE installed_app_id = ?1 "
	"AND status = 'active'",
	/* STMT_EVENT_ADD: the primary key makes a redelivery, even one
	 * racing the first copy on another worker, change nothing. */
	"INSERT INTO webhook_events (installed_app_id, event_id, type, "
	"livemode, action, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	"ON CONFLICT DO NOTHING",
	/* STMT_REQUEST: ?4 now, ?5 debounce, ?6 longest wait. */
	"INSERT INTO job_requests (installed_app_id, job, payout, first_at, "
	"due_at, events) VALUES (?1, ?2, ?3, ?4, ?4 + min(?5, ?6), 1) "
	"ON CONFLICT (installed_app_id, job, payout) DO UPDATE SET "
	"due_at = max(due_at, min(excluded.first_at + ?5, first_at + ?6)), "
	"events = events + 1",
	/* STMT_DUE */
	"SELECT 1 FROM job_requests j WHERE j.due_at <= ?1 AND "
	NO_ACTIVE_JOB " LIMIT 1",
	/* STMT_DUE_LIST */
	"SELECT j.installed_app_id, j.job, j.payout, j.first_at, j.due_at, "
	"j.events, EXISTS (SELECT 1 FROM installs i JOIN stripe_connections c "
	"ON c.installed_app_id = i.installed_app_id "
	"WHERE i.installed_app_id = j.installed_app_id "
	"AND i.status = 'active') "
	"FROM job_requests j WHERE j.due_at <= ?1 AND " NO_ACTIVE_JOB " "
	"ORDER BY j.job = 'reconcile', j.due_at, j.installed_app_id, "
	"j.payout LIMIT ?2",
	/* STMT_REQUEST_DELETE */
	"DELETE FROM job_requests WHERE installed_app_id = ?1 AND job = ?2 "
	"AND payout = ?3",
	/* STMT_FORGET_SECRET */
	"DELETE FROM webhook_secrets WHERE installed_app_id = ?1",
	/* STMT_FORGET_EVENTS */
	"DELETE FROM webhook_events WHERE installed_app_id = ?1",
	/* STMT_FORGET_REQUESTS */
	"DELETE FROM job_requests WHERE installed_app_id = ?1",
};

#define PREP(db, s, ...) \
	db_prep((db), DBF_WEBHOOK, stmts, (s), __VA_ARGS__)

void
db_webhook_secret_aad(const char *id, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "stripe-sync:v1:webhook_secrets.secret:%s", id);
}

int
db_webhook_info(struct db *db, const char *id, struct webhook_info *w)
{
	sqlite3_stmt	*st;
	int		 rc;

	memset(w, 0, sizeof(*w));
	if ((st = PREP(db, STMT_INFO, "t", id)) == NULL)
		return 0;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		w->set = sqlite3_column_type(st, 0) != SQLITE_NULL;
		db_col_copy(st, 0, w->last4, sizeof(w->last4));
		db_col_copy(st, 1, w->set_at, sizeof(w->set_at));
		w->events = sqlite3_column_int64(st, 2);
		db_col_copy(st, 3, w->last_event_at, sizeof(w->last_event_at));
	}
	db_stmt_done(st);
	return rc == SQLITE_ROW;
}

int
db_webhook_secret_put(struct db *db, const struct conf *cf, const char *id,
    const char *secret, const char *now)
{
	sqlite3_stmt	*st;
	unsigned char	*sealed = NULL;
	size_t		 sealedlen = 0, n = strlen(secret);
	char		 aad[DB_AADMAX], kid[CONF_KIDLEN + 1], last4[5];
	int		 rc = SQLITE_ERROR;

	if (!db_in_txn(db) || n < 4)
		return 0;
	/* A truncated aad could be shared by two rows. */
	db_webhook_secret_aad(id, aad, sizeof(aad));
	if (strlen(aad) >= sizeof(aad) - 1)
		return 0;
	if (!crypto_seal(cf, aad, secret, n, &sealed, &sealedlen, kid))
		return 0;
	memcpy(last4, secret + n - 4, 4);
	last4[4] = '\0';
	if ((st = PREP(db, STMT_SECRET_PUT, "t", id)) != NULL &&
	    db_bind_blob(st, 2, sealed, sealedlen) &&
	    db_bind_text(st, 3, kid) && db_bind_text(st, 4, last4) &&
	    db_bind_text(st, 5, now))
		rc = sqlite3_step(st);
	db_stmt_done(st);
	free(sealed);
	return rc == SQLITE_DONE;
}

int
db_webhook_secret_delete(struct db *db, const char *id)
{
	int64_t	 n;

	if (!db_in_txn(db))
		return -1;
	n = db_done(db, PREP(db, STMT_SECRET_DELETE, "t", id));
	return n < 0 ? -1 : n > 0;
}

int
db_webhook_secret(struct db *db, const struct conf *cf, const char *id,
    char **secret)
{
	sqlite3_stmt	*st;
	int		 rc;

	*secret = NULL;
	if ((st = PREP(db, STMT_ACTIVE, "t", id)) == NULL)
		return -1;
	rc = sqlite3_step(st);
	db_stmt_done(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -1;
	return db_sealed_string(db, cf, SEALED_WEBHOOK_SECRET, id, secret);
}

int
db_webhook_event_add(struct db *db, const char *id, const char *event_id,
    const char *type, int livemode, const char *action, const char *now)
{
	int64_t	 n;

	if (!db_in_txn(db))
		return -1;
	n = db_done(db, PREP(db, STMT_EVENT_ADD, "ttt" "itt", id, event_id,
	    type, (int64_t)(livemode != 0), action, now));
	return n < 0 ? -1 : n > 0;
}

int
db_job_request(struct db *db, const char *id, const char *job,
    const char *payout, int64_t now, int64_t debounce, int64_t max_wait)
{
	if (!db_in_txn(db))
		return 0;
	return db_done(db, PREP(db, STMT_REQUEST, "ttt" "iii", id, job, payout,
	    now, debounce, max_wait)) == 1;
}

int
db_job_due(struct db *db, int64_t now)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = PREP(db, STMT_DUE, "i", now)) == NULL)
		return -1;
	rc = sqlite3_step(st);
	db_stmt_done(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
db_jobs_due(struct db *db, int64_t now, struct job_request *out, size_t max,
    size_t *n)
{
	sqlite3_stmt	*st;
	struct job_request *r;
	int		 rc = SQLITE_DONE;

	*n = 0;
	if ((st = PREP(db, STMT_DUE_LIST, "ii", now, (int64_t)max)) == NULL)
		return 0;
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		r = &out[(*n)++];
		memset(r, 0, sizeof(*r));
		db_col_copy(st, 0, r->install, sizeof(r->install));
		db_col_copy(st, 1, r->job, sizeof(r->job));
		db_col_copy(st, 2, r->payout, sizeof(r->payout));
		r->first_at = sqlite3_column_int64(st, 3);
		r->due_at = sqlite3_column_int64(st, 4);
		r->events = sqlite3_column_int64(st, 5);
		r->ready = sqlite3_column_int(st, 6) != 0;
	}
	if (*n == max)
		rc = SQLITE_DONE;
	db_stmt_done(st);
	return rc == SQLITE_DONE;
}

int
db_job_request_delete(struct db *db, const struct job_request *r)
{
	if (!db_in_txn(db))
		return 0;
	return db_done(db, PREP(db, STMT_REQUEST_DELETE, "ttt", r->install,
	    r->job, r->payout)) >= 0;
}

int
db_webhook_forget(struct db *db, const char *id)
{
	if (!db_in_txn(db))
		return 0;
	return db_done(db, PREP(db, STMT_FORGET_SECRET, "t", id)) >= 0 &&
	    db_done(db, PREP(db, STMT_FORGET_EVENTS, "t", id)) >= 0 &&
	    db_done(db, PREP(db, STMT_FORGET_REQUESTS, "t", id)) >= 0;
}
