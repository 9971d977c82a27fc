/*
 * db-sync.c: sync runs and their leases, the balance transactions seen,
 * the postings made for them, and what the runs need to look up.  See
 * db.h.  Every lease check is a plain UPDATE ... WHERE lease_owner = ?
 * whose change count says whether the caller still holds the run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db-int.h"

const char *const sync_n_names[SN__MAX] = {
	"found", "imported", "present", "rejected", "failed", "to_confirm",
	"confirmed",
};

#define RUN_COLS \
	"run_id, installed_app_id, kind, trigger, mode, status, phase, " \
	"cursor, window_gte, high_water, balance_before, lease_owner, " \
	"lease_until, attempts, found, imported, present, rejected, failed, " \
	"to_confirm, confirmed, balances, error_code, error_message, " \
	"created_at, started_at, finished_at, updated_at, job"

enum stmt {
	STMT_RUN_INSERT,
	STMT_RUN_ACTIVE,
	STMT_RUN_GET,
	STMT_RUN_GET_FOR,
	STMT_RUN_LIST,
	STMT_RUN_COUNTS,
	STMT_RUN_CLAIMABLE,
	STMT_RUN_CLAIM,
	STMT_RUN_SAVE,
	STMT_RUN_FINISH,
	STMT_RUN_RELEASE,
	STMT_PROBLEM_ADD,
	STMT_PROBLEMS,
	STMT_PROBLEM_COUNT,
	STMT_ITEM_ADD,
	STMT_ITEM_STATE,
	STMT_ITEMS_NEW,
	STMT_ITEM_SET,
	STMT_ITEMS_CONFIRM,
	STMT_ITEMS_REJECT,
	STMT_ITEMS_CONFIRM_ALL,
	STMT_ITEMS_REJECT_ALL,
	STMT_ITEMS_NET,
	STMT_POSTING_ADD,
	STMT_SENT_BATCHES,
	STMT_POSTINGS_SENT,
	STMT_POSTING_SET,
	STMT_POSTING_RESENT,
	STMT_POSTINGS_COUNT,
	STMT_CURSOR_GET,
	STMT_CURSOR_PUT,
	STMT_CHARGE_GET,
	STMT_CHARGE_PUT,
	STMT_CUSTOMER_GET,
	STMT_CUSTOMER_PUT,
	STMT_SCHEDULES,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	/* STMT_RUN_INSERT: the partial unique index refuses a second
	 * active run of the install; DO NOTHING turns that into 0 rows. */
	"INSERT INTO sync_runs (run_id, installed_app_id, kind, trigger, "
	"status, phase, created_at, updated_at) "
	"VALUES (?1, ?2, ?3, ?4, 'queued', 'queued', ?5, ?5) "
	"ON CONFLICT DO NOTHING",
	/* STMT_RUN_ACTIVE */
	"SELECT run_id FROM sync_runs WHERE installed_app_id = ?1 "
	"AND status IN ('queued', 'running')",
	/* STMT_RUN_GET */
	"SELECT " RUN_COLS " FROM sync_runs WHERE run_id = ?1",
	/* STMT_RUN_GET_FOR */
	"SELECT " RUN_COLS " FROM sync_runs WHERE run_id = ?1 "
	"AND installed_app_id = ?2",
	/* STMT_RUN_LIST */
	"SELECT " RUN_COLS " FROM sync_runs WHERE installed_app_id = ?1 "
	"AND job = 'sync' AND (?2 IS NULL OR status = ?2 OR (?2 = 'in_progress' AND "
	"status IN ('queued', 'running'))) "
	"ORDER BY created_at DESC, run_id DESC LIMIT ?3 OFFSET ?4",
	/* STMT_RUN_COUNTS */
	"SELECT count(*), "
	"coalesce(sum(status = 'completed'), 0), "
	"coalesce(sum(status IN ('queued', 'running')), 0), "
	"coalesce(sum(status = 'failed'), 0) "
	"FROM sync_runs WHERE installed_app_id = ?1 AND job = ?2",
	/* STMT_RUN_CLAIMABLE */
	"SELECT run_id FROM sync_runs WHERE status = 'queued' OR "
	"(status = 'running' AND lease_until < ?1) "
	"ORDER BY created_at, run_id LIMIT 1",
	/* STMT_RUN_CLAIM */
	"UPDATE sync_runs SET status = 'running', lease_owner = ?2, "
	"lease_until = ?3, attempts = attempts + 1, "
	"started_at = coalesce(started_at, ?4), updated_at = ?4 "
	"WHERE run_id = ?1 AND (status = 'queued' OR "
	"(status = 'running' AND lease_until < ?5))",
	/* STMT_RUN_SAVE */
	"UPDATE sync_runs SET mode = ?3, phase = ?4, cursor = ?5, "
	"window_gte = ?6, high_water = ?7, balance_before = ?8, "
	"found = ?9, imported = ?10, present = ?11, rejected = ?12, "
	"failed = ?13, to_confirm = ?14, confirmed = ?15, balances = ?16, "
	"lease_until = ?17, updated_at = ?18 "
	"WHERE run_id = ?1 AND lease_owner = ?2 AND status = 'running'",
	/* STMT_RUN_FINISH */
	"UPDATE sync_runs SET status = ?3, phase = 'done', error_code = ?4, "
	"error_message = ?5, finished_at = ?6, updated_at = ?6, "
	"lease_owner = NULL, lease_until = NULL "
	"WHERE run_id = ?1 AND lease_owner = ?2 AND status = 'running'",
	/* STMT_RUN_RELEASE */
	"UPDATE sync_runs SET lease_until = 0 "
	"WHERE run_id = ?1 AND lease_owner = ?2 AND status = 'running'",
	/* STMT_PROBLEM_ADD */
	"INSERT INTO sync_problems (run_id, seq, stripe_id, reference, code, "
	"message) SELECT ?1, coalesce(max(seq), 0) + 1, ?2, ?3, ?4, ?5 "
	"FROM sync_problems WHERE run_id = ?1",
	/* STMT_PROBLEMS */
	"SELECT stripe_id, reference, code, message FROM sync_problems "
	"WHERE run_id = ?1 ORDER BY seq LIMIT ?2",
	/* STMT_PROBLEM_COUNT */
	"SELECT count(*) FROM sync_problems WHERE run_id = ?1",
	/* STMT_ITEM_ADD */
	"INSERT INTO sync_items (installed_app_id, txn_id, mode, created, "
	"type, kind, currency, amount, fee, net, source, ctx, state, run_id) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'new', "
	"?13) ON CONFLICT DO NOTHING",
	/* STMT_ITEM_STATE */
	"SELECT state FROM sync_items WHERE installed_app_id = ?1 "
	"AND txn_id = ?2",
	/* STMT_ITEMS_NEW */
	"SELECT txn_id, mode, created, type, kind, currency, amount, fee, "
	"net, source, ctx FROM sync_items WHERE installed_app_id = ?1 "
	"AND state = 'new' AND mode = ?2 AND (?3 & CASE kind "
	"WHEN 'payins' THEN 1 WHEN 'fees' THEN 2 WHEN 'payouts' THEN 4 "
	"WHEN 'other' THEN 8 ELSE 16 END) != 0 "
	/* In one second, a charge before what refers to it (its refund,
	 * its dispute): ids do not sort in time. */
	"ORDER BY created, type NOT IN ('charge', 'payment'), txn_id "
	"LIMIT ?4",
	/* STMT_ITEM_SET */
	"UPDATE sync_items SET state = ?3, run_id = ?4, reason = ?5 "
	"WHERE installed_app_id = ?1 AND txn_id = ?2",
	/* STMT_ITEMS_CONFIRM: the items of one batch only, so that a
	 * settle costs what the batch holds, not every item still sent. */
	"UPDATE sync_items SET state = 'confirmed', run_id = ?2 "
	"WHERE installed_app_id = ?1 AND state = 'sent' AND txn_id IN "
	"(SELECT txn_id FROM sync_postings WHERE installed_app_id = ?1 "
	"AND batch = ?3) AND NOT EXISTS "
	"(SELECT 1 FROM sync_postings p WHERE p.installed_app_id = ?1 "
	"AND p.txn_id = sync_items.txn_id AND p.state <> 'applied')",
	/* STMT_ITEMS_REJECT */
	"UPDATE sync_items SET state = 'rejected', run_id = ?2 "
	"WHERE installed_app_id = ?1 AND state = 'sent' AND txn_id IN "
	"(SELECT txn_id FROM sync_postings WHERE installed_app_id = ?1 "
	"AND batch = ?3) AND EXISTS "
	"(SELECT 1 FROM sync_postings p WHERE p.installed_app_id = ?1 "
	"AND p.txn_id = sync_items.txn_id AND p.state = 'rejected') "
	"AND NOT EXISTS (SELECT 1 FROM sync_postings p WHERE "
	"p.installed_app_id = ?1 AND p.txn_id = sync_items.txn_id AND "
	"p.state = 'sent')",
	/* STMT_ITEMS_CONFIRM_ALL: every item left 'sent' whose postings
	 * are all decided, whatever their batch (see db.h). */
	"UPDATE sync_items SET state = 'confirmed', run_id = ?2 "
	"WHERE installed_app_id = ?1 AND state = 'sent' AND EXISTS "
	"(SELECT 1 FROM sync_postings p WHERE p.installed_app_id = ?1 "
	"AND p.txn_id = sync_items.txn_id) AND NOT EXISTS "
	"(SELECT 1 FROM sync_postings p WHERE p.installed_app_id = ?1 "
	"AND p.txn_id = sync_items.txn_id AND p.state <> 'applied')",
	/* STMT_ITEMS_REJECT_ALL */
	"UPDATE sync_items SET state = 'rejected', run_id = ?2 "
	"WHERE installed_app_id = ?1 AND state = 'sent' AND EXISTS "
	"(SELECT 1 FROM sync_postings p WHERE p.installed_app_id = ?1 "
	"AND p.txn_id = sync_items.txn_id AND p.state = 'rejected') "
	"AND NOT EXISTS (SELECT 1 FROM sync_postings p WHERE "
	"p.installed_app_id = ?1 AND p.txn_id = sync_items.txn_id AND "
	"p.state = 'sent')",
	/* STMT_ITEMS_NET */
	"SELECT currency, sum(net) FROM sync_items WHERE installed_app_id = ?1 "
	"AND mode = ?2 AND created >= ?3 AND kind <> 'opening' "
	"GROUP BY currency ORDER BY currency",
	/* STMT_POSTING_ADD */
	"INSERT INTO sync_postings (installed_app_id, reference, txn_id, leg, "
	"body, state, batch, sends, sent_at) VALUES (?1, ?2, ?3, ?4, ?5, "
	"'sent', ?6, 1, ?7) ON CONFLICT DO NOTHING",
	/* STMT_SENT_BATCHES */
	"SELECT batch FROM sync_postings WHERE installed_app_id = ?1 "
	"AND state = 'sent' GROUP BY batch ORDER BY min(rowid) LIMIT ?2",
	/* STMT_POSTINGS_SENT */
	"SELECT rowid, reference, txn_id, body, sends, sent_at "
	"FROM sync_postings WHERE installed_app_id = ?1 AND state = 'sent' "
	"AND batch = ?2 ORDER BY rowid",
	/* STMT_POSTING_SET */
	"UPDATE sync_postings SET state = ?3, blnk_id = ?4 "
	"WHERE installed_app_id = ?1 AND reference = ?2 AND state = 'sent'",
	/* STMT_POSTING_RESENT */
	"UPDATE sync_postings SET sends = sends + 1, sent_at = ?3 "
	"WHERE installed_app_id = ?1 AND reference = ?2",
	/* STMT_POSTINGS_COUNT */
	"SELECT count(*) FROM sync_postings WHERE installed_app_id = ?1 "
	"AND state = ?2",
	/* STMT_CURSOR_GET */
	"SELECT high_water, start_at FROM sync_cursors "
	"WHERE installed_app_id = ?1 AND mode = ?2",
	/* STMT_CURSOR_PUT */
	"INSERT INTO sync_cursors (installed_app_id, mode, high_water, "
	"start_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) "
	"ON CONFLICT (installed_app_id, mode) DO UPDATE SET "
	"high_water = excluded.high_water, updated_at = excluded.updated_at",
	/* STMT_CHARGE_GET */
	"SELECT party FROM stripe_charges WHERE installed_app_id = ?1 "
	"AND charge_id = ?2",
	/* STMT_CHARGE_PUT */
	"INSERT INTO stripe_charges (installed_app_id, charge_id, party, "
	"customer) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
	/* STMT_CUSTOMER_GET */
	"SELECT coalesce(party, '') FROM stripe_customers "
	"WHERE installed_app_id = ?1 AND customer_id = ?2",
	/* STMT_CUSTOMER_PUT */
	"INSERT INTO stripe_customers (installed_app_id, mode, customer_id, "
	"created, party) VALUES (?1, ?2, ?3, ?4, ?5) "
	"ON CONFLICT (installed_app_id, customer_id) DO UPDATE SET "
	"party = excluded.party",
	/* STMT_SCHEDULES */
	"SELECT s.installed_app_id, "
	"json_extract(s.settings, '$.schedule_minutes'), "
	"(SELECT max(r.created_at) FROM sync_runs r "
	"WHERE r.installed_app_id = s.installed_app_id AND r.job = 'sync') "
	"FROM sync_settings s "
	"JOIN installs i ON i.installed_app_id = s.installed_app_id "
	"JOIN stripe_connections c ON c.installed_app_id = s.installed_app_id "
	"WHERE i.status = 'active' AND "
	"json_extract(s.settings, '$.schedule_minutes') > 0 AND NOT EXISTS "
	"(SELECT 1 FROM sync_runs r WHERE r.installed_app_id = "
	"s.installed_app_id AND r.status IN ('queued', 'running')) "
	"ORDER BY s.installed_app_id",
};

#define PREP(db, s, ...)	db_prep((db), DBF_SYNC, stmts, (s), __VA_ARGS__)

/* Integer column i, or dflt for NULL. */
static int64_t
coli(sqlite3_stmt *st, int i, int64_t dflt)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? dflt :
	    sqlite3_column_int64(st, i);
}

void
sync_run_free(struct sync_run *r)
{
	free(r->balance_before);
	free(r->balances);
	r->balance_before = r->balances = NULL;
}

/* A row of RUN_COLS into *r.  1, or 0 out of memory. */
static int
run_row(sqlite3_stmt *st, struct sync_run *r)
{
	int	 i;

	memset(r, 0, sizeof(*r));
	db_col_copy(st, 0, r->run_id, sizeof(r->run_id));
	db_col_copy(st, 1, r->install_id, sizeof(r->install_id));
	db_col_copy(st, 2, r->kind, sizeof(r->kind));
	db_col_copy(st, 3, r->trigger, sizeof(r->trigger));
	db_col_copy(st, 4, r->mode, sizeof(r->mode));
	db_col_copy(st, 5, r->status, sizeof(r->status));
	db_col_copy(st, 6, r->phase, sizeof(r->phase));
	db_col_copy(st, 7, r->cursor, sizeof(r->cursor));
	r->window_gte = coli(st, 8, -1);
	r->high_water = coli(st, 9, -1);
	db_col_copy(st, 11, r->lease_owner, sizeof(r->lease_owner));
	r->lease_until = coli(st, 12, 0);
	r->attempts = coli(st, 13, 0);
	for (i = 0; i < SN__MAX; i++)
		r->n[i] = coli(st, 14 + i, 0);
	db_col_copy(st, 22, r->error_code, sizeof(r->error_code));
	db_col_copy(st, 23, r->error_message, sizeof(r->error_message));
	db_col_copy(st, 24, r->created_at, sizeof(r->created_at));
	db_col_copy(st, 25, r->started_at, sizeof(r->started_at));
	db_col_copy(st, 26, r->finished_at, sizeof(r->finished_at));
	db_col_copy(st, 27, r->updated_at, sizeof(r->updated_at));
	db_col_copy(st, 28, r->job, sizeof(r->job));
	if (!db_col_dup(st, 10, 1, &r->balance_before) ||
	    !db_col_dup(st, 21, 1, &r->balances)) {
		sync_run_free(r);
		return 0;
	}
	return 1;
}

int
db_run_create(struct db *db, const char *run_id, const char *install,
    const char *kind, const char *trigger, const char *now, char *active)
{
	int64_t		 n;

	active[0] = '\0';
	if (!db_in_txn(db))
		return -1;
	n = db_done(db, PREP(db, STMT_RUN_INSERT, "ttttt", run_id, install,
	    kind, trigger, now));
	if (n != 0)
		return n > 0 ? 1 : -1;
	return db_run_active(db, install, active);
}

int
db_run_active(struct db *db, const char *install, char *active)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = PREP(db, STMT_RUN_ACTIVE, "t", install)) == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		db_col_copy(st, 0, active, 40);
	db_stmt_done(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int
db_run_get(struct db *db, const char *run_id, const char *install,
    struct sync_run *r)
{
	sqlite3_stmt	*st;
	int		 rc, ret = -1;

	memset(r, 0, sizeof(*r));
	st = install == NULL ? PREP(db, STMT_RUN_GET, "t", run_id) :
	    PREP(db, STMT_RUN_GET_FOR, "tt", run_id, install);
	if (st == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		ret = run_row(st, r) ? 1 : -1;
	else if (rc == SQLITE_DONE)
		ret = 0;
	db_stmt_done(st);
	return ret;
}

int
db_job_get(struct db *db, const char *run_id, const char *install,
    const char *job, struct sync_run *r)
{
	int	 rc;

	if ((rc = db_run_get(db, run_id, install, r)) == 1 &&
	    strcmp(r->job, job) != 0) {
		sync_run_free(r);
		rc = 0;
	}
	return rc;
}

int
db_run_list(struct db *db, const char *install, const char *status,
    int64_t limit, int64_t offset,
    int (*cb)(const struct sync_run *, void *), void *arg)
{
	sqlite3_stmt	*st;
	struct sync_run	 r;
	int		 rc, go = 1;

	if ((st = PREP(db, STMT_RUN_LIST, "ttii", install, status, limit,
	    offset)) == NULL)
		return 0;
	while (go && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (!run_row(st, &r)) {
			rc = SQLITE_NOMEM;
			break;
		}
		go = cb(&r, arg);
		sync_run_free(&r);
	}
	db_stmt_done(st);
	return !go || rc == SQLITE_DONE;
}

int
db_run_counts(struct db *db, const char *install, const char *job,
    int64_t out[4])
{
	sqlite3_stmt	*st;
	int		 rc, i;

	if ((st = PREP(db, STMT_RUN_COUNTS, "tt", install, job)) == NULL)
		return 0;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		for (i = 0; i < 4; i++)
			out[i] = sqlite3_column_int64(st, i);
	db_stmt_done(st);
	return rc == SQLITE_ROW;
}

int
db_run_claim(struct db *db, const char *owner, int64_t now,
    int64_t lease_until, const char *now_text, struct sync_run *r)
{
	sqlite3_stmt	*st;
	char		 id[40];
	int		 rc;
	int64_t		 n;

	memset(r, 0, sizeof(*r));
	/* Most polls find nothing: look first without the write lock, so
	 * that an idle runner never holds the workers' writes back. */
	if ((st = PREP(db, STMT_RUN_CLAIMABLE, "i", now)) == NULL)
		return -1;
	rc = sqlite3_step(st);
	db_stmt_done(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -1;
	if (!db_begin(db))
		return -1;
	if ((st = PREP(db, STMT_RUN_CLAIMABLE, "i", now)) == NULL)
		goto fail;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		db_col_copy(st, 0, id, sizeof(id));
	db_stmt_done(st);
	if (rc == SQLITE_DONE) {
		db_rollback(db);
		return 0;
	}
	if (rc != SQLITE_ROW)
		goto fail;
	n = db_done(db, PREP(db, STMT_RUN_CLAIM, "ttiti", id, owner,
	    lease_until, now_text, now));
	if (n != 1 || db_run_get(db, id, NULL, r) != 1 || !db_commit(db)) {
		sync_run_free(r);
		goto fail;
	}
	return 1;
fail:
	db_rollback(db);
	return -1;
}

int
db_run_save(struct db *db, const struct sync_run *r, const char *owner,
    int64_t lease_until, const char *now)
{
	sqlite3_stmt	*st;
	int64_t		 n;

	if (!db_in_txn(db))
		return -1;
	if ((st = PREP(db, STMT_RUN_SAVE, "ttttt", r->run_id, owner,
	    r->mode[0] != '\0' ? r->mode : NULL, r->phase,
	    r->cursor[0] != '\0' ? r->cursor : NULL)) == NULL)
		return -1;
	if ((r->window_gte >= 0 ? sqlite3_bind_int64(st, 6, r->window_gte) :
	    sqlite3_bind_null(st, 6)) != SQLITE_OK ||
	    (r->high_water >= 0 ? sqlite3_bind_int64(st, 7, r->high_water) :
	    sqlite3_bind_null(st, 7)) != SQLITE_OK ||
	    !db_bind_text(st, 8, r->balance_before) ||
	    sqlite3_bind_int64(st, 9, r->n[SN_FOUND]) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 10, r->n[SN_IMPORTED]) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 11, r->n[SN_PRESENT]) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 12, r->n[SN_REJECTED]) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 13, r->n[SN_FAILED]) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 14, r->n[SN_TO_CONFIRM]) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 15, r->n[SN_CONFIRMED]) != SQLITE_OK ||
	    !db_bind_text(st, 16, r->balances) ||
	    sqlite3_bind_int64(st, 17, lease_until) != SQLITE_OK ||
	    !db_bind_text(st, 18, now)) {
		db_stmt_done(st);
		return -1;
	}
	n = db_done(db, st);
	return n < 0 ? -1 : n == 1;
}

int
db_run_finish(struct db *db, const char *run_id, const char *owner,
    const char *status, const char *code, const char *message,
    const char *now)
{
	int64_t	 n;

	if (!db_in_txn(db))
		return -1;
	n = db_done(db, PREP(db, STMT_RUN_FINISH, "tttttt", run_id, owner,
	    status, code, message, now));
	return n < 0 ? -1 : n == 1;
}

int
db_run_release(struct db *db, const char *run_id, const char *owner)
{
	int64_t	 n;

	n = db_done(db, PREP(db, STMT_RUN_RELEASE, "tt", run_id, owner));
	return n < 0 ? -1 : n == 1;
}

int
db_problem_add(struct db *db, const char *run_id, const char *stripe_id,
    const char *reference, const char *code, const char *message)
{
	if (!db_in_txn(db))
		return 0;
	return db_done(db, PREP(db, STMT_PROBLEM_ADD, "ttttt", run_id,
	    stripe_id, reference, code, message)) == 1;
}

int
db_problems(struct db *db, const char *run_id, int64_t limit,
    int (*cb)(const char *, const char *, const char *, const char *,
    void *), void *arg, int64_t *total)
{
	sqlite3_stmt	*st;
	char		 sid[128], ref[192], code[64], msg[512];
	int		 rc, go = 1;

	*total = 0;
	if ((st = PREP(db, STMT_PROBLEM_COUNT, "t", run_id)) == NULL)
		return 0;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*total = sqlite3_column_int64(st, 0);
	db_stmt_done(st);
	if (rc != SQLITE_ROW ||
	    (st = PREP(db, STMT_PROBLEMS, "ti", run_id, limit)) == NULL)
		return 0;
	while (go && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		db_col_copy(st, 0, sid, sizeof(sid));
		db_col_copy(st, 1, ref, sizeof(ref));
		db_col_copy(st, 2, code, sizeof(code));
		db_col_copy(st, 3, msg, sizeof(msg));
		go = cb(sid, ref, code, msg, arg);
	}
	db_stmt_done(st);
	return !go || rc == SQLITE_DONE;
}

int
db_item_add(struct db *db, const char *install, const struct sync_item *it,
    const char *run_id, char *state)
{
	sqlite3_stmt	*st;
	int64_t		 n;
	int		 rc;

	if (!db_in_txn(db))
		return -1;
	n = db_done(db, PREP(db, STMT_ITEM_ADD, "tttitttiiittt", install,
	    it->txn_id, it->mode, it->created, it->type, it->kind,
	    it->currency, it->amount, it->fee, it->net,
	    it->source[0] != '\0' ? it->source : NULL, it->ctx, run_id));
	if (n != 0)
		return n > 0 ? 1 : -1;
	if (state == NULL)
		return 0;
	if ((st = PREP(db, STMT_ITEM_STATE, "tt", install, it->txn_id)) ==
	    NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		db_col_copy(st, 0, state, 12);
	db_stmt_done(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

int
db_items_new(struct db *db, const char *install, const char *mode,
    unsigned mask, int64_t limit,
    int (*cb)(const struct sync_item *, void *), void *arg)
{
	sqlite3_stmt	*st;
	struct sync_item it;
	int		 rc, go = 1;

	if ((st = PREP(db, STMT_ITEMS_NEW, "ttii", install, mode,
	    (int64_t)mask, limit)) == NULL)
		return 0;
	while (go && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&it, 0, sizeof(it));
		db_col_copy(st, 0, it.txn_id, sizeof(it.txn_id));
		db_col_copy(st, 1, it.mode, sizeof(it.mode));
		it.created = sqlite3_column_int64(st, 2);
		db_col_copy(st, 3, it.type, sizeof(it.type));
		db_col_copy(st, 4, it.kind, sizeof(it.kind));
		db_col_copy(st, 5, it.currency, sizeof(it.currency));
		it.amount = sqlite3_column_int64(st, 6);
		it.fee = sqlite3_column_int64(st, 7);
		it.net = sqlite3_column_int64(st, 8);
		db_col_copy(st, 9, it.source, sizeof(it.source));
		it.ctx = (const char *)sqlite3_column_text(st, 10);
		snprintf(it.state, sizeof(it.state), "new");
		go = cb(&it, arg);
	}
	db_stmt_done(st);
	return !go || rc == SQLITE_DONE;
}

int
db_item_set(struct db *db, const char *install, const char *txn_id,
    const char *state, const char *run_id, const char *reason)
{
	if (!db_in_txn(db))
		return 0;
	return db_done(db, PREP(db, STMT_ITEM_SET, "ttttt", install, txn_id,
	    state, run_id, reason)) == 1;
}

int
db_items_settle(struct db *db, const char *install, const char *batch,
    const char *run_id, int64_t *confirmed, int64_t *rejected)
{
	if (!db_in_txn(db))
		return 0;
	/* The second statement is not run once the first failed: its
	 * success would leave db_errmsg() saying "not an error". */
	if (batch == NULL) {
		*confirmed = db_done(db, PREP(db, STMT_ITEMS_CONFIRM_ALL, "tt",
		    install, run_id));
		if (*confirmed < 0)
			return 0;
		*rejected = db_done(db, PREP(db, STMT_ITEMS_REJECT_ALL, "tt",
		    install, run_id));
		return *rejected >= 0;
	}
	*confirmed = db_done(db, PREP(db, STMT_ITEMS_CONFIRM, "ttt", install,
	    run_id, batch));
	if (*confirmed < 0)
		return 0;
	*rejected = db_done(db, PREP(db, STMT_ITEMS_REJECT, "ttt", install,
	    run_id, batch));
	return *rejected >= 0;
}

int
db_items_net(struct db *db, const char *install, const char *mode,
    int64_t since, int (*cb)(const char *, int64_t, void *), void *arg)
{
	sqlite3_stmt	*st;
	char		 cur[16];
	int		 rc, go = 1;

	if ((st = PREP(db, STMT_ITEMS_NET, "tti", install, mode, since)) ==
	    NULL)
		return 0;
	while (go && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		db_col_copy(st, 0, cur, sizeof(cur));
		go = cb(cur, sqlite3_column_int64(st, 1), arg);
	}
	db_stmt_done(st);
	return !go || rc == SQLITE_DONE;
}

int
db_posting_add(struct db *db, const char *install, const char *reference,
    const char *txn_id, const char *leg, const char *body, const char *batch,
    int64_t now)
{
	int64_t	 n;

	if (!db_in_txn(db))
		return -1;
	n = db_done(db, PREP(db, STMT_POSTING_ADD, "tttttti", install,
	    reference, txn_id, leg, body, batch, now));
	return n < 0 ? -1 : n == 1;
}

int
db_sent_batches(struct db *db, const char *install, int64_t limit,
    int (*cb)(const char *, void *), void *arg)
{
	sqlite3_stmt	*st;
	char		 batch[64];
	int		 rc, go = 1;

	if ((st = PREP(db, STMT_SENT_BATCHES, "ti", install, limit)) == NULL)
		return 0;
	while (go && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		db_col_copy(st, 0, batch, sizeof(batch));
		go = cb(batch, arg);
	}
	db_stmt_done(st);
	return !go || rc == SQLITE_DONE;
}

int
db_postings_sent(struct db *db, const char *install, const char *batch,
    int (*cb)(const struct sync_posting *, void *), void *arg)
{
	sqlite3_stmt		*st;
	struct sync_posting	 p;
	int			 rc, go = 1;

	if ((st = PREP(db, STMT_POSTINGS_SENT, "tt", install, batch)) == NULL)
		return 0;
	while (go && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&p, 0, sizeof(p));
		p.rowid = sqlite3_column_int64(st, 0);
		db_col_copy(st, 1, p.reference, sizeof(p.reference));
		db_col_copy(st, 2, p.txn_id, sizeof(p.txn_id));
		p.body = (const char *)sqlite3_column_text(st, 3);
		p.sends = sqlite3_column_int64(st, 4);
		p.sent_at = sqlite3_column_int64(st, 5);
		go = cb(&p, arg);
	}
	db_stmt_done(st);
	return !go || rc == SQLITE_DONE;
}

int
db_posting_set(struct db *db, const char *install, const char *reference,
    const char *state, const char *blnk_id)
{
	if (!db_in_txn(db))
		return 0;
	return db_done(db, PREP(db, STMT_POSTING_SET, "tttt", install,
	    reference, state, blnk_id)) >= 0;
}

int
db_posting_resent(struct db *db, const char *install, const char *reference,
    int64_t now)
{
	if (!db_in_txn(db))
		return 0;
	return db_done(db, PREP(db, STMT_POSTING_RESENT, "tti", install,
	    reference, now)) == 1;
}

int64_t
db_postings_count(struct db *db, const char *install, const char *state)
{
	sqlite3_stmt	*st;
	int64_t		 n = -1;

	if ((st = PREP(db, STMT_POSTINGS_COUNT, "tt", install, state)) == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	db_stmt_done(st);
	return n;
}

int
db_cursor_get(struct db *db, const char *install, const char *mode,
    int64_t *high_water, int64_t *start_at)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = PREP(db, STMT_CURSOR_GET, "tt", install, mode)) == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*high_water = sqlite3_column_int64(st, 0);
		*start_at = sqlite3_column_int64(st, 1);
	}
	db_stmt_done(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
db_cursor_put(struct db *db, const char *install, const char *mode,
    int64_t high_water, int64_t start_at, const char *now)
{
	if (!db_in_txn(db))
		return 0;
	return db_done(db, PREP(db, STMT_CURSOR_PUT, "ttiit", install, mode,
	    high_water, start_at, now)) == 1;
}

/* One text column of a one-row lookup into buf: -1, 0 no row, 1. */
static int
lookup(struct db *db, sqlite3_stmt *st, char *buf, size_t bufsz)
{
	int	 rc;

	(void)db;
	if (st == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		db_col_copy(st, 0, buf, bufsz);
	db_stmt_done(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
db_charge_get(struct db *db, const char *install, const char *charge,
    char *party, size_t partysz)
{
	return lookup(db, PREP(db, STMT_CHARGE_GET, "tt", install, charge),
	    party, partysz);
}

int
db_charge_put(struct db *db, const char *install, const char *charge,
    const char *party, const char *customer)
{
	if (!db_in_txn(db))
		return 0;
	return db_done(db, PREP(db, STMT_CHARGE_PUT, "tttt", install, charge,
	    party, customer)) >= 0;
}

int
db_customer_get(struct db *db, const char *install, const char *customer,
    char *party, size_t partysz)
{
	return lookup(db, PREP(db, STMT_CUSTOMER_GET, "tt", install, customer),
	    party, partysz);
}

int
db_customer_put(struct db *db, const char *install, const char *mode,
    const char *customer, int64_t created, const char *party)
{
	if (!db_in_txn(db))
		return 0;
	return db_done(db, PREP(db, STMT_CUSTOMER_PUT, "tttit", install, mode,
	    customer, created, party)) == 1;
}

int
db_schedules(struct db *db,
    int (*cb)(const char *, int64_t, const char *, void *), void *arg)
{
	sqlite3_stmt	*st;
	char		 id[130], last[32];
	int		 rc, go = 1;

	if ((st = PREP(db, STMT_SCHEDULES, "")) == NULL)
		return 0;
	while (go && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		db_col_copy(st, 0, id, sizeof(id));
		db_col_copy(st, 2, last, sizeof(last));
		go = cb(id, sqlite3_column_int64(st, 1),
		    last[0] != '\0' ? last : NULL, arg);
	}
	db_stmt_done(st);
	return !go || rc == SQLITE_DONE;
}
