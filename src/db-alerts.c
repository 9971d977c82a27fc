/*
 * db-alerts.c: the problems worth a Cloud alert (alert_flags), one row per
 * (install, problem key), so that the same problem is never flagged twice
 * however often it is seen again.  See db.h.  The sender (alerts.c) takes
 * a pending row for one try (db_alert_claim(): next_at moves past the
 * try, so no other runner takes it meanwhile) and then records what
 * became of it; every change is guarded by state = 'pending'.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db-int.h"

#define FLAG_COLS \
	"a.installed_app_id, a.problem_key, a.source_id, a.target_type, " \
	"a.target, a.currency, a.target_id, a.title, a.description, " \
	"a.state, a.anomaly_id, a.attempts, a.last_error, a.next_at, " \
	"a.created_at, a.updated_at"

/* Pending, due, of an install that is active (an uninstalled one's key
 * is gone: nothing can be flagged for it). */
#define FLAG_DUE \
	"FROM alert_flags a JOIN installs i " \
	"ON i.installed_app_id = a.installed_app_id " \
	"WHERE a.state = 'pending' AND a.next_at <= ?1 " \
	"AND i.status = 'active' "

enum stmt {
	STMT_NOTE,
	STMT_DUE_ANY,
	STMT_DUE,
	STMT_CLAIM,
	STMT_SET,
	STMT_LIST,
	STMT_RUN_JOB,
	STMT_LAST_SYNC,
	STMT_CURRENCIES,
	STMT_CLEAR,
	STMT_DELETE,
	STMT__MAX
};

static const char *const stmts[STMT__MAX] = {
	/* STMT_NOTE: the primary key makes a second note of a problem a
	 * no-op (0 rows), whatever its state by now. */
	"INSERT INTO alert_flags (installed_app_id, problem_key, source_id, "
	"target_type, target, currency, title, description, state, "
	"created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
	"'pending', ?9, ?9) ON CONFLICT DO NOTHING",
	/* STMT_DUE_ANY */
	"SELECT 1 " FLAG_DUE "LIMIT 1",
	/* STMT_DUE */
	"SELECT " FLAG_COLS " " FLAG_DUE
	"ORDER BY a.next_at, a.created_at, a.rowid LIMIT ?2",
	/* STMT_CLAIM */
	"UPDATE alert_flags SET attempts = attempts + 1, next_at = ?4, "
	"updated_at = ?5 WHERE installed_app_id = ?1 AND problem_key = ?2 "
	"AND state = 'pending' AND next_at <= ?3",
	/* STMT_SET */
	"UPDATE alert_flags SET state = ?3, "
	"target_id = coalesce(?4, target_id), "
	"anomaly_id = coalesce(?5, anomaly_id), last_error = ?6, "
	"next_at = ?7, updated_at = ?8 "
	"WHERE installed_app_id = ?1 AND problem_key = ?2 "
	"AND state = 'pending'",
	/* STMT_LIST */
	"SELECT " FLAG_COLS " FROM alert_flags a "
	"WHERE a.installed_app_id = ?1 "
	"ORDER BY a.created_at DESC, a.rowid DESC LIMIT ?2 OFFSET ?3",
	/* STMT_RUN_JOB */
	"SELECT job FROM sync_runs WHERE run_id = ?1 "
	"AND installed_app_id = ?2",
	/* STMT_LAST_SYNC: the runs of an install never overlap (one active
	 * job at a time), so the latest to finish is the one before. */
	"SELECT status FROM sync_runs WHERE installed_app_id = ?1 "
	"AND job = 'sync' AND run_id <> ?2 "
	"AND status IN ('completed', 'failed') "
	"ORDER BY finished_at DESC, rowid DESC LIMIT 1",
	/* STMT_CURRENCIES */
	"SELECT DISTINCT currency FROM sync_items WHERE installed_app_id = ?1 "
	"AND (?2 IS NULL OR mode = ?2) "
	"ORDER BY currency",
	/* STMT_CLEAR: the prefix is matched exactly (no LIKE wildcards). */
	"UPDATE alert_flags SET state = 'cleared', updated_at = ?3 "
	"WHERE installed_app_id = ?1 AND state = 'pending' "
	"AND substr(problem_key, 1, length(?2)) = ?2",
	/* STMT_DELETE */
	"DELETE FROM alert_flags WHERE installed_app_id = ?1",
};

#define PREP(db, s, ...) \
	db_prep((db), DBF_ALERTS, stmts, (s), __VA_ARGS__)

int
db_alert_note(struct db *db, const char *install, const char *key,
    const char *source_id, const char *target_type, const char *target,
    const char *currency, const char *title, const char *description,
    const char *now)
{
	int64_t	 n;

	if (!db_in_txn(db))
		return -1;
	n = db_done(db, PREP(db, STMT_NOTE, "ttttttttt", install, key,
	    source_id, target_type, target, currency, title, description,
	    now));
	return n < 0 ? -1 : n > 0;
}

/* A row of FLAG_COLS into *f. */
static void
flag_row(sqlite3_stmt *st, struct alert_flag *f)
{
	memset(f, 0, sizeof(*f));
	db_col_copy(st, 0, f->install_id, sizeof(f->install_id));
	db_col_copy(st, 1, f->key, sizeof(f->key));
	db_col_copy(st, 2, f->source_id, sizeof(f->source_id));
	db_col_copy(st, 3, f->target_type, sizeof(f->target_type));
	db_col_copy(st, 4, f->target, sizeof(f->target));
	db_col_copy(st, 5, f->currency, sizeof(f->currency));
	db_col_copy(st, 6, f->target_id, sizeof(f->target_id));
	db_col_copy(st, 7, f->title, sizeof(f->title));
	db_col_copy(st, 8, f->description, sizeof(f->description));
	db_col_copy(st, 9, f->state, sizeof(f->state));
	db_col_copy(st, 10, f->anomaly_id, sizeof(f->anomaly_id));
	f->attempts = sqlite3_column_int64(st, 11);
	db_col_copy(st, 12, f->last_error, sizeof(f->last_error));
	f->next_at = sqlite3_column_int64(st, 13);
	db_col_copy(st, 14, f->created_at, sizeof(f->created_at));
	db_col_copy(st, 15, f->updated_at, sizeof(f->updated_at));
}

/* Step st calling cb on each row; 0 on error.  Resets st. */
static int
flag_rows(sqlite3_stmt *st, int (*cb)(const struct alert_flag *, void *),
    void *arg)
{
	struct alert_flag	*f;
	int			 rc = SQLITE_DONE, go = 1;

	if (st == NULL)
		return 0;
	/* Over 3 kB: on the heap, not the stack of a callback chain. */
	if ((f = malloc(sizeof(*f))) == NULL) {
		db_stmt_done(st);
		return 0;
	}
	while (go && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		flag_row(st, f);
		go = cb(f, arg);
	}
	db_stmt_done(st);
	free(f);
	return !go || rc == SQLITE_DONE;
}

int
db_alerts_due_any(struct db *db, int64_t now)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = PREP(db, STMT_DUE_ANY, "i", now)) == NULL)
		return -1;
	rc = sqlite3_step(st);
	db_stmt_done(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
db_alerts_due(struct db *db, int64_t now, int64_t limit,
    int (*cb)(const struct alert_flag *, void *), void *arg)
{
	return flag_rows(PREP(db, STMT_DUE, "ii", now, limit), cb, arg);
}

int
db_alert_claim(struct db *db, const char *install, const char *key,
    int64_t now, int64_t until, const char *now_text)
{
	int64_t	 n;

	if (!db_in_txn(db))
		return -1;
	n = db_done(db, PREP(db, STMT_CLAIM, "ttiit", install, key, now,
	    until, now_text));
	return n < 0 ? -1 : n == 1;
}

int
db_alert_set(struct db *db, const char *install, const char *key,
    const char *state, const char *target_id, const char *anomaly_id,
    const char *last_error, int64_t next_at, const char *now)
{
	int64_t	 n;

	if (!db_in_txn(db))
		return -1;
	n = db_done(db, PREP(db, STMT_SET, "ttttttit", install, key, state,
	    target_id, anomaly_id, last_error, next_at, now));
	return n < 0 ? -1 : n == 1;
}

int
db_alert_list(struct db *db, const char *install, int64_t limit,
    int64_t offset, int (*cb)(const struct alert_flag *, void *), void *arg)
{
	return flag_rows(PREP(db, STMT_LIST, "tii", install, limit, offset),
	    cb, arg);
}

int
db_alert_streak(struct db *db, const char *install, const char *run_id,
    int *first)
{
	sqlite3_stmt	*st;
	char		 job[16], status[16];
	int		 rc;

	*first = 0;
	if ((st = PREP(db, STMT_RUN_JOB, "tt", run_id, install)) == NULL)
		return 0;
	job[0] = '\0';
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		db_col_copy(st, 0, job, sizeof(job));
	db_stmt_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return 0;
	if (strcmp(job, "sync") != 0) {
		*first = -1;
		return 1;
	}
	if ((st = PREP(db, STMT_LAST_SYNC, "tt", install, run_id)) == NULL)
		return 0;
	status[0] = '\0';
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		db_col_copy(st, 0, status, sizeof(status));
	db_stmt_done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return 0;
	*first = strcmp(status, "failed") != 0;
	return 1;
}

int
db_alert_currencies(struct db *db, const char *install, const char *mode,
    int (*cb)(const char *, void *), void *arg)
{
	sqlite3_stmt	*st;
	char		 cur[16];
	int		 rc = SQLITE_DONE, go = 1;

	if ((st = PREP(db, STMT_CURRENCIES, "tt", install, mode)) == NULL)
		return 0;
	while (go && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		db_col_copy(st, 0, cur, sizeof(cur));
		go = cb(cur, arg);
	}
	db_stmt_done(st);
	return !go || rc == SQLITE_DONE;
}

int64_t
db_alerts_clear(struct db *db, const char *install, const char *prefix,
    const char *now)
{
	if (!db_in_txn(db))
		return -1;
	return db_done(db, PREP(db, STMT_CLEAR, "ttt", install, prefix, now));
}

int
db_alerts_delete(struct db *db, const char *install)
{
	if (!db_in_txn(db))
		return 0;
	return db_done(db, PREP(db, STMT_DELETE, "t", install)) >= 0;
}
