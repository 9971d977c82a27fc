/*
 * db-recon.c: reconciliations.  A reconciliation is a job of sync_runs
 * (job 'reconcile': the same queue, lease and one-active-job index as a
 * sync) with a row in reconciliations saying what it compares, both sides
 * as listed (recon_stripe, recon_blnk) and the differences it found.  See
 * db.h and sql/003-reconcile.sql.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db-int.h"

#define RUN_COLS_R \
	"r.run_id, r.installed_app_id, r.kind, r.trigger, r.mode, r.status, " \
	"r.phase, r.error_code, r.error_message, r.created_at, " \
	"r.started_at, r.finished_at, r.updated_at, r.attempts"
#define RECON_COLS \
	"c.run_id, c.installed_app_id, c.scope, c.period_from, c.period_to, " \
	"coalesce(c.currency, ''), coalesce(c.payout, ''), c.blnk_page, " \
	"c.stripe_count, c.blnk_count, c.matched, c.differences, " \
	"coalesce(c.result, ''), c.summary"

enum stmt {
	STMT_RUN_INSERT,
	STMT_INSERT,
	STMT_GET,
	STMT_SAVE,
	STMT_LIST,
	STMT_STRIPE_ADD,
	STMT_BLNK_ADD,
	STMT_STRIPE_EACH,
	STMT_BLNK_EACH,
	STMT_DIFFS_CLEAR,
	STMT_DIFF_ADD,
	STMT_DIFFS,
	STMT_ITEM_KNOWN,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	/* STMT_RUN_INSERT: as a sync's, refused (0 rows) while the
	 * install has another job queued or running. */
	"INSERT INTO sync_runs (run_id, installed_app_id, kind, trigger, "
	"status, phase, created_at, updated_at, job) "
	"VALUES (?1, ?2, 'all', ?3, 'queued', 'queued', ?4, ?4, "
	"'reconcile') ON CONFLICT DO NOTHING",
	/* STMT_INSERT */
	"INSERT INTO reconciliations (run_id, installed_app_id, scope, "
	"period_from, period_to, currency, payout) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	/* STMT_GET */
	"SELECT " RECON_COLS " FROM reconciliations c WHERE c.run_id = ?1",
	/* STMT_SAVE */
	"UPDATE reconciliations SET period_from = ?2, period_to = ?3, "
	"blnk_page = ?4, stripe_count = ?5, blnk_count = ?6, matched = ?7, "
	"differences = ?8, result = ?9, summary = ?10, currency = ?11 "
	"WHERE run_id = ?1",
	/* STMT_LIST */
	"SELECT " RUN_COLS_R ", " RECON_COLS " FROM sync_runs r "
	"JOIN reconciliations c ON c.run_id = r.run_id "
	"WHERE r.installed_app_id = ?1 AND r.job = 'reconcile' "
	"AND (?2 IS NULL OR r.status = ?2 OR (?2 = 'in_progress' AND "
	"r.status IN ('queued', 'running'))) "
	"ORDER BY r.created_at DESC, r.run_id DESC LIMIT ?3 OFFSET ?4",
	/* STMT_STRIPE_ADD */
	"INSERT OR REPLACE INTO recon_stripe (run_id, txn_id, created, type, "
	"kind, currency, amount, fee, net) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	/* STMT_BLNK_ADD */
	"INSERT OR REPLACE INTO recon_blnk (run_id, transaction_id, "
	"reference, status, currency, precise_amount, precision, source, "
	"destination, effective, mode) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	/* STMT_STRIPE_EACH: each transaction with its postings, if any, in
	 * a stable order, so that a lookup resumed at an offset goes on
	 * where it stopped. */
	"SELECT s.txn_id, s.created, s.type, s.currency, s.amount, s.fee, "
	"s.net, coalesce(i.state, ''), i.reason, p.reference, p.leg, s.kind "
	"FROM recon_stripe s "
	"LEFT JOIN sync_items i ON i.installed_app_id = ?2 "
	"AND i.txn_id = s.txn_id "
	"LEFT JOIN sync_postings p ON p.installed_app_id = ?2 "
	"AND p.txn_id = s.txn_id "
	"WHERE s.run_id = ?1 AND s.txn_id IN (SELECT txn_id FROM "
	"recon_stripe WHERE run_id = ?1 ORDER BY created, txn_id "
	"LIMIT ?4 OFFSET ?3) "
	"ORDER BY s.created, s.txn_id, p.leg",
	/* STMT_BLNK_EACH */
	"SELECT transaction_id, reference, status, currency, precise_amount, "
	"precision, source, destination, effective, mode FROM recon_blnk "
	"WHERE run_id = ?1 ORDER BY reference, transaction_id",
	/* STMT_DIFFS_CLEAR */
	"DELETE FROM recon_diffs WHERE run_id = ?1",
	/* STMT_DIFF_ADD */
	"INSERT INTO recon_diffs (run_id, seq, kind, currency, day, "
	"stripe_id, reference, blnk_id, stripe_amount, blnk_amount, message, "
	"action) SELECT ?1, coalesce(max(seq), 0) + 1, ?2, ?3, ?4, ?5, ?6, "
	"?7, ?8, ?9, ?10, ?11 FROM recon_diffs WHERE run_id = ?1",
	/* STMT_DIFFS */
	"SELECT kind, currency, day, stripe_id, reference, blnk_id, "
	"stripe_amount, blnk_amount, message, action FROM recon_diffs "
	"WHERE run_id = ?1 ORDER BY seq LIMIT ?3 OFFSET ?2",
	/* STMT_ITEM_KNOWN */
	"SELECT 1 FROM sync_items WHERE installed_app_id = ?1 AND txn_id = ?2",
};

#define PREP(db, s, ...)	db_prep((db), DBF_RECON, stmts, (s), __VA_ARGS__)

/* Text column i, or NULL for SQL NULL (valid until the next step). */
static const char *
colt(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

void
recon_free(struct recon *r)
{
	free(r->summary);
	r->summary = NULL;
}

/* RECON_COLS from column i on into *r.  1, or 0 out of memory. */
static int
recon_row(sqlite3_stmt *st, int i, struct recon *r)
{
	memset(r, 0, sizeof(*r));
	db_col_copy(st, i, r->run_id, sizeof(r->run_id));
	db_col_copy(st, i + 1, r->install_id, sizeof(r->install_id));
	db_col_copy(st, i + 2, r->scope, sizeof(r->scope));
	r->from = sqlite3_column_int64(st, i + 3);
	r->to = sqlite3_column_int64(st, i + 4);
	db_col_copy(st, i + 5, r->currency, sizeof(r->currency));
	db_col_copy(st, i + 6, r->payout, sizeof(r->payout));
	r->blnk_page = sqlite3_column_int64(st, i + 7);
	r->n_stripe = sqlite3_column_int64(st, i + 8);
	r->n_blnk = sqlite3_column_int64(st, i + 9);
	r->matched = sqlite3_column_int64(st, i + 10);
	r->differences = sqlite3_column_int64(st, i + 11);
	db_col_copy(st, i + 12, r->result, sizeof(r->result));
	return db_col_dup(st, i + 13, 1, &r->summary);
}

int
db_recon_create(struct db *db, const char *run_id, const char *install,
    const char *trigger, const char *scope, int64_t from, int64_t to,
    const char *currency, const char *payout, const char *now, char *active)
{
	int64_t		 n;

	active[0] = '\0';
	if (!db_in_txn(db))
		return -1;
	n = db_done(db, PREP(db, STMT_RUN_INSERT, "tttt", run_id, install,
	    trigger, now));
	if (n > 0)
		return db_done(db, PREP(db, STMT_INSERT, "tttiitt", run_id,
		    install, scope, from, to, currency, payout)) == 1 ? 1 : -1;
	return n < 0 ? -1 : db_run_active(db, install, active);
}

int
db_recon_get(struct db *db, const char *run_id, struct recon *r)
{
	sqlite3_stmt	*st;
	int		 rc, ret = -1;

	memset(r, 0, sizeof(*r));
	if ((st = PREP(db, STMT_GET, "t", run_id)) == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		ret = recon_row(st, 0, r) ? 1 : -1;
	else if (rc == SQLITE_DONE)
		ret = 0;
	db_stmt_done(st);
	return ret;
}

int
db_recon_save(struct db *db, const struct recon *r)
{
	if (!db_in_txn(db))
		return 0;
	return db_done(db, PREP(db, STMT_SAVE, "tiiiiiiittt", r->run_id,
	    r->from, r->to, r->blnk_page, r->n_stripe, r->n_blnk, r->matched,
	    r->differences, r->result[0] != '\0' ? r->result : NULL,
	    r->summary, r->currency[0] != '\0' ? r->currency : NULL)) == 1;
}

int
db_recon_list(struct db *db, const char *install, const char *status,
    int64_t limit, int64_t offset,
    int (*cb)(const struct sync_run *, const struct recon *, void *),
    void *arg)
{
	sqlite3_stmt	*st;
	struct sync_run	 run;
	struct recon	 r;
	int		 rc, go = 1;

	if ((st = PREP(db, STMT_LIST, "ttii", install, status, limit,
	    offset)) == NULL)
		return 0;
	while (go && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&run, 0, sizeof(run));
		db_col_copy(st, 0, run.run_id, sizeof(run.run_id));
		db_col_copy(st, 1, run.install_id, sizeof(run.install_id));
		db_col_copy(st, 2, run.kind, sizeof(run.kind));
		db_col_copy(st, 3, run.trigger, sizeof(run.trigger));
		db_col_copy(st, 4, run.mode, sizeof(run.mode));
		db_col_copy(st, 5, run.status, sizeof(run.status));
		db_col_copy(st, 6, run.phase, sizeof(run.phase));
		db_col_copy(st, 7, run.error_code, sizeof(run.error_code));
		db_col_copy(st, 8, run.error_message,
		    sizeof(run.error_message));
		db_col_copy(st, 9, run.created_at, sizeof(run.created_at));
		db_col_copy(st, 10, run.started_at, sizeof(run.started_at));
		db_col_copy(st, 11, run.finished_at, sizeof(run.finished_at));
		db_col_copy(st, 12, run.updated_at, sizeof(run.updated_at));
		run.attempts = sqlite3_column_int64(st, 13);
		snprintf(run.job, sizeof(run.job), "reconcile");
		if (!recon_row(st, 14, &r)) {
			rc = SQLITE_NOMEM;
			break;
		}
		go = cb(&run, &r, arg);
		recon_free(&r);
	}
	db_stmt_done(st);
	return !go || rc == SQLITE_DONE;
}

int
db_recon_stripe_add(struct db *db, const char *run_id,
    const struct recon_txn *t)
{
	return db_in_txn(db) && db_done(db, PREP(db, STMT_STRIPE_ADD,
	    "ttitttiii", run_id, t->txn_id, t->created, t->type, t->kind,
	    t->currency,
	    t->amount, t->fee, t->net)) == 1;
}

int
db_recon_blnk_add(struct db *db, const char *run_id,
    const struct recon_row *b)
{
	return db_in_txn(db) && db_done(db, PREP(db, STMT_BLNK_ADD,
	    "tttttiittit", run_id, b->transaction_id, b->reference, b->status,
	    b->currency, b->precise_amount, b->precision, b->source,
	    b->destination, b->effective, b->mode)) == 1;
}

int
db_recon_stripe_each(struct db *db, const char *run_id, const char *install,
    int64_t offset, int64_t limit,
    int (*cb)(const struct recon_txn *, const char *, const char *,
    const char *, const char *, void *), void *arg)
{
	sqlite3_stmt		*st;
	struct recon_txn	 t;
	int			 rc, go = 1;

	if ((st = PREP(db, STMT_STRIPE_EACH, "ttii", run_id, install, offset,
	    limit)) == NULL)
		return 0;
	while (go && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		t.txn_id = colt(st, 0);
		t.created = sqlite3_column_int64(st, 1);
		t.type = colt(st, 2);
		t.currency = colt(st, 3);
		t.amount = sqlite3_column_int64(st, 4);
		t.fee = sqlite3_column_int64(st, 5);
		t.net = sqlite3_column_int64(st, 6);
		t.kind = colt(st, 11);
		go = cb(&t, colt(st, 7), colt(st, 8), colt(st, 9), colt(st, 10),
		    arg);
	}
	db_stmt_done(st);
	return !go || rc == SQLITE_DONE;
}

int
db_recon_blnk_each(struct db *db, const char *run_id,
    int (*cb)(const struct recon_row *, void *), void *arg)
{
	sqlite3_stmt		*st;
	struct recon_row	 b;
	int			 rc, go = 1;

	if ((st = PREP(db, STMT_BLNK_EACH, "t", run_id)) == NULL)
		return 0;
	while (go && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		b.transaction_id = colt(st, 0);
		b.reference = colt(st, 1);
		b.status = colt(st, 2);
		b.currency = colt(st, 3);
		b.precise_amount = sqlite3_column_int64(st, 4);
		b.precision = sqlite3_column_int64(st, 5);
		b.source = colt(st, 6);
		b.destination = colt(st, 7);
		b.effective = sqlite3_column_int64(st, 8);
		b.mode = colt(st, 9);
		go = cb(&b, arg);
	}
	db_stmt_done(st);
	return !go || rc == SQLITE_DONE;
}

int
db_recon_diffs_clear(struct db *db, const char *run_id)
{
	return db_in_txn(db) &&
	    db_done(db, PREP(db, STMT_DIFFS_CLEAR, "t", run_id)) >= 0;
}

int
db_recon_diff_add(struct db *db, const char *run_id,
    const struct recon_diff *d)
{
	return db_in_txn(db) && db_done(db, PREP(db, STMT_DIFF_ADD,
	    "ttttttttttt", run_id, d->kind, d->currency, d->day, d->stripe_id,
	    d->reference, d->blnk_id, d->stripe_amount, d->blnk_amount,
	    d->message, d->action)) == 1;
}

int
db_recon_diffs(struct db *db, const char *run_id, int64_t offset,
    int64_t limit, int (*cb)(const struct recon_diff *, void *), void *arg)
{
	sqlite3_stmt		*st;
	struct recon_diff	 d;
	int			 rc, go = 1;

	if ((st = PREP(db, STMT_DIFFS, "tii", run_id, offset, limit)) == NULL)
		return 0;
	while (go && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		d.kind = colt(st, 0);
		d.currency = colt(st, 1);
		d.day = colt(st, 2);
		d.stripe_id = colt(st, 3);
		d.reference = colt(st, 4);
		d.blnk_id = colt(st, 5);
		d.stripe_amount = colt(st, 6);
		d.blnk_amount = colt(st, 7);
		d.message = colt(st, 8);
		d.action = colt(st, 9);
		go = cb(&d, arg);
	}
	db_stmt_done(st);
	return !go || rc == SQLITE_DONE;
}

int
db_item_known(struct db *db, const char *install, const char *txn_id)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = PREP(db, STMT_ITEM_KNOWN, "tt", install, txn_id)) == NULL)
		return -1;
	rc = sqlite3_step(st);
	db_stmt_done(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}
