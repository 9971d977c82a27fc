/*
 * test-alerts.c: the record of problems worth a Cloud alert (db-alerts.c)
 * and what the engine notes in it (alerts.c), against a real migrated
 * SQLite file: a problem noted once whatever happens to it, a row taken
 * for a try by one connection only, the streak of failed syncs, what an
 * uninstall forgets.  Rows the engine would write elsewhere (installs,
 * runs, items) are written raw.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>
#include <sqlite3.h>

#include "alerts.h"
#include "db.h"
#include "settings.h"
#include "tap.h"

#define NOW	"2026-12-01T12:00:00Z"

static char	 dir[PATH_MAX];
static char	 path[PATH_MAX + 32];

/* Run sql on its own connection.  1 on success. */
static int
raw(const char *sql)
{
	sqlite3	*h;
	char	*err = NULL;
	int	 rc;

	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(h);
		return 0;
	}
	sqlite3_busy_timeout(h, 5000);
	rc = sqlite3_exec(h, sql, NULL, NULL, &err);
	if (rc != SQLITE_OK)
		diag("raw: %s", err != NULL ? err : "?");
	sqlite3_free(err);
	sqlite3_close(h);
	return rc == SQLITE_OK;
}

/* One integer from sql on its own connection, -1 on failure. */
static int64_t
raw_int(const char *sql)
{
	sqlite3		*h;
	sqlite3_stmt	*st;
	int64_t		 v = -1;

	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(h);
		return -1;
	}
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return v;
}

/* One text from sql into buf ("" on failure). */
static void
raw_text(const char *sql, char *buf, size_t bufsz)
{
	sqlite3		*h;
	sqlite3_stmt	*st;
	const unsigned char *t;

	buf[0] = '\0';
	if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(h);
		return;
	}
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW &&
	    (t = sqlite3_column_text(st, 0)) != NULL)
		snprintf(buf, bufsz, "%s", (const char *)t);
	sqlite3_finalize(st);
	sqlite3_close(h);
}

static struct db *
db_conn(void)
{
	char	 err[512];
	struct db *db;

	if ((db = db_open(path, DB_SERVE, err, sizeof(err))) == NULL)
		diag("db_open: %s", err);
	return db;
}

/* An install row, active or not, granted perms. */
static int
install(const char *id, const char *status, const char *perms)
{
	char	 sql[1024];

	snprintf(sql, sizeof(sql), "INSERT INTO installs (installed_app_id, "
	    "app_id, instance_id, api_key_prefix, granted_permissions, "
	    "status, generation, install_event, installed_at, updated_at) "
	    "VALUES ('%s', 'app_1', 'inst_%s', 'blnk_abc', '%s', '%s', 1, "
	    "'install:%s', '" NOW "', '" NOW "')", id, id, perms, status, id);
	return raw(sql);
}

/* A sync run (job) of install, ended as status at finished. */
static int
run(const char *id, const char *install_id, const char *job,
    const char *status, const char *finished)
{
	char	 sql[1024];

	snprintf(sql, sizeof(sql), "INSERT INTO sync_runs (run_id, "
	    "installed_app_id, kind, trigger, status, phase, created_at, "
	    "finished_at, updated_at, job) VALUES ('%s', '%s', 'all', "
	    "'portal', '%s', 'done', '%s', '%s', '%s', '%s')", id, install_id,
	    status, finished, finished, finished, job);
	return raw(sql);
}

static int
note(struct db *db, const char *key, const char *desc)
{
	int	 rc;

	if (!db_begin(db))
		return -2;
	rc = db_alert_note(db, "ia_1", key, "run_1", "transaction",
	    "stripe.txn_1.gross", "USD", "Posting rejected by Blnk", desc, NOW);
	if (rc < 0 || !db_commit(db)) {
		db_rollback(db);
		return -1;
	}
	return rc;
}

static int
claim(struct db *db, const char *key, int64_t now, int64_t until)
{
	int	 rc;

	if (!db_begin(db))
		return -2;
	rc = db_alert_claim(db, "ia_1", key, now, until, NOW);
	if (rc < 0 || !db_commit(db)) {
		db_rollback(db);
		return -1;
	}
	return rc;
}

static int
set(struct db *db, const char *key, const char *state, int64_t next_at)
{
	int	 rc;

	if (!db_begin(db))
		return -2;
	rc = db_alert_set(db, "ia_1", key, state, "txn_q1", state[0] == 'f' ?
	    "ano_1" : NULL, state[0] == 'p' ? "CLOUD_ERROR: down" : NULL,
	    next_at, NOW);
	if (rc < 0 || !db_commit(db)) {
		db_rollback(db);
		return -1;
	}
	return rc;
}

static int
count_cb(const struct alert_flag *f, void *arg)
{
	(void)f;
	(*(int *)arg)++;
	return 1;
}

static int
due(struct db *db, int64_t now)
{
	int	 n = 0;

	if (!db_alerts_due(db, now, 100, count_cb, &n))
		return -1;
	return n;
}

/* Noted once; taken by one connection only; what became of it sticks. */
static void
test_note_and_claim(void)
{
	struct db	*a, *b;
	char		 got[256];

	if (!ok((a = db_conn()) != NULL && (b = db_conn()) != NULL,
	    "two connections")) {
		db_close(a);
		return;
	}
	ok(install("ia_1", "active", "[\"data:read\",\"alerts:write\"]"),
	    "an active install");
	is_int(db_alert_note(a, "ia_1", "k", NULL, "balance", "@stripe",
	    NULL, "t", "d", NOW), -1,
	    "a note outside a transaction is refused");
	is_int(note(a, "rejected:r1", "first"), 1, "a new problem is noted");
	is_int(note(b, "rejected:r1", "second"), 0,
	    "the same key again changes nothing");
	raw_text("SELECT description || '/' || state FROM alert_flags",
	    got, sizeof(got));
	is_str(got, "first/pending", "the first note stands, pending");
	is_int(db_alerts_due_any(a, 1000), 1, "it is due");
	is_int(due(b, 1000), 1, "listed as due");

	is_int(claim(a, "rejected:r1", 1000, 1100), 1, "one runner takes it");
	is_int(claim(b, "rejected:r1", 1000, 1100), 0,
	    "another runner cannot take it meanwhile");
	is_int(db_alerts_due_any(b, 1050), 0, "not due while taken");
	is_int(db_alerts_due_any(b, 1100), 1, "due again once the try's "
	    "time is up (a runner that died)");
	is_int(raw_int("SELECT attempts FROM alert_flags"), 1,
	    "the try is counted");

	is_int(set(a, "rejected:r1", "pending", 1205), 1,
	    "a failed try waits its backoff");
	is_int(due(b, 1204), 0, "not due before its backoff");
	is_int(due(b, 1205), 1, "due after it");
	raw_text("SELECT target_id || '/' || last_error FROM alert_flags",
	    got, sizeof(got));
	is_str(got, "txn_q1/CLOUD_ERROR: down", "the resolved id and the "
	    "error are kept");

	is_int(set(a, "rejected:r1", "flagged", 0), 1, "flagged");
	is_int(set(b, "rejected:r1", "pending", 0), 0,
	    "a flagged problem is never pending again");
	is_int(claim(b, "rejected:r1", 5000, 5100), 0,
	    "nor taken for another try");
	is_int(due(a, 99999), 0, "nor due");
	is_int(note(b, "rejected:r1", "third"), 0, "nor noted again");
	raw_text("SELECT state || '/' || anomaly_id || '/' || "
	    "coalesce(last_error, '-') FROM alert_flags", got, sizeof(got));
	is_str(got, "flagged/ano_1/-", "flagged with its anomaly, no error");

	ok(install("ia_2", "inactive", "[\"alerts:write\"]"),
	    "an uninstalled install");
	ok(raw("INSERT INTO alert_flags (installed_app_id, problem_key, "
	    "target_type, target, title, description, state, created_at, "
	    "updated_at) VALUES ('ia_2', 'k', 'balance', '@stripe', 't', 'd', "
	    "'pending', '" NOW "', '" NOW "')"), "with a pending problem");
	is_int(due(a, 99999), 0, "an inactive install's problem is never due");
	db_close(a);
	db_close(b);
}

/* One alert per streak of failed syncs; a completed sync ends it. */
static void
test_streak(void)
{
	struct db	*db;
	int		 first;

	if ((db = db_conn()) == NULL)
		return;
	ok(install("ia_3", "active", "[\"alerts:write\"]"), "an install");
	ok(run("r0", "ia_3", "sync", "failed", "2026-12-01T10:00:00Z"),
	    "a failed sync, the first ever");
	ok(db_alert_streak(db, "ia_3", "r0", &first) && first == 1,
	    "the first sync failing begins a streak");
	ok(run("r1", "ia_3", "sync", "completed", "2026-12-01T11:00:00Z") &&
	    run("r2", "ia_3", "sync", "failed", "2026-12-01T12:00:00Z"),
	    "a completed sync, then a failed one");
	ok(raw("INSERT INTO sync_items (installed_app_id, txn_id, mode, "
	    "created, type, kind, currency, amount, fee, net, ctx, state) "
	    "VALUES ('ia_3', 'txn_a', 'test', 1, 'charge', 'payins', 'usd', "
	    "100, 3, 97, '{}', 'confirmed'), ('ia_3', 'txn_b', 'test', 2, "
	    "'charge', 'payins', 'eur', 100, 3, 97, '{}', 'confirmed'), "
	    "('ia_3', 'txn_c', 'live', 2, 'charge', 'payins', 'gbp', 100, 3, "
	    "97, '{}', 'confirmed')"),
	    "items in two test currencies, one live");
	ok(db_begin(db) && alerts_run_ended(db, "ia_3", "r2", "test",
	    "failed", "STRIPE_KEY_INVALID", "Stripe refuses this key") &&
	    db_commit(db), "the failure is noted");
	is_int(raw_int("SELECT count(*) FROM alert_flags WHERE "
	    "installed_app_id = 'ia_3' AND problem_key IN "
	    "('run_failed:r2:USD', 'run_failed:r2:EUR') AND target = '@stripe' "
	    "AND target_type = 'balance' AND title = 'Stripe sync failed' AND "
	    "description LIKE '%r2%STRIPE_KEY_INVALID%What to do: %Stripe "
	    "key%'"), 2, "one alert on @stripe in each currency of the mode, "
	    "saying what failed and what to do");

	ok(run("r3", "ia_3", "sync", "failed", "2026-12-01T13:00:00Z") &&
	    db_begin(db) && alerts_run_ended(db, "ia_3", "r3", "test",
	    "failed", "STRIPE_KEY_INVALID", "again") && db_commit(db),
	    "a second failure in a row");
	is_int(raw_int("SELECT count(*) FROM alert_flags WHERE "
	    "installed_app_id = 'ia_3'"), 2, "raises nothing new");

	ok(run("r4", "ia_3", "reconcile", "failed", "2026-12-01T13:30:00Z") &&
	    db_begin(db) && alerts_run_ended(db, "ia_3", "r4", "test",
	    "failed", "CLOUD_ERROR", "down") && db_commit(db),
	    "a failed reconciliation");
	is_int(raw_int("SELECT count(*) FROM alert_flags WHERE "
	    "installed_app_id = 'ia_3'"), 2, "is not a failed sync");

	ok(run("r5", "ia_3", "sync", "completed", "2026-12-01T14:00:00Z") &&
	    db_begin(db) && alerts_run_ended(db, "ia_3", "r5", "test",
	    "completed", NULL, "") && db_commit(db), "a completed sync");
	is_int(raw_int("SELECT count(*) FROM alert_flags WHERE "
	    "installed_app_id = 'ia_3' AND state = 'cleared'"), 2,
	    "clears the streak's alerts not flagged yet");

	ok(run("r6", "ia_3", "sync", "failed", "2026-12-01T15:00:00Z") &&
	    db_begin(db) && alerts_run_ended(db, "ia_3", "r6", "", "failed",
	    "CLOUD_UNREACHABLE", "Blnk Cloud cannot be reached") &&
	    db_commit(db), "a failure after it (mode not known yet)");
	is_int(raw_int("SELECT count(*) FROM alert_flags WHERE "
	    "installed_app_id = 'ia_3' AND problem_key LIKE 'run_failed:r6:%' "
	    "AND state = 'pending'"), 3, "begins a new streak (every mode's "
	    "currencies when the run's is not known)");

	ok(run("r7", "ia_3", "sync", "failed", "2026-12-01T16:00:00Z") &&
	    raw("UPDATE sync_runs SET status = 'completed' WHERE run_id = "
	    "'r6'") && db_begin(db) && alerts_run_ended(db, "ia_3", "r7",
	    "test", "failed", "APP_UNINSTALLED", "gone") && db_commit(db),
	    "an uninstall failing a run");
	is_int(raw_int("SELECT count(*) FROM alert_flags WHERE "
	    "problem_key LIKE 'run_failed:r7%'"), 0, "is no problem to flag");

	ok(install("ia_4", "active", "[]") &&
	    run("s1", "ia_4", "sync", "failed", NOW) && db_begin(db) &&
	    alerts_run_ended(db, "ia_4", "s1", "test", "failed",
	    "STRIPE_ERROR", "x") && db_commit(db),
	    "a failure before anything was imported");
	is_int(raw_int("SELECT count(*) FROM alert_flags WHERE "
	    "installed_app_id = 'ia_4' AND problem_key = 'run_failed:s1' AND "
	    "currency IS NULL"), 1, "one alert, without a currency (nothing "
	    "to flag: the portal shows it)");

	ok(db_begin(db) && db_alerts_delete(db, "ia_3") && db_commit(db),
	    "an uninstall forgets");
	is_int(raw_int("SELECT count(*) FROM alert_flags WHERE "
	    "installed_app_id = 'ia_3'"), 0, "the install's problems");
	is_int(raw_int("SELECT count(*) FROM alert_flags WHERE "
	    "installed_app_id = 'ia_4'"), 1, "and no other's");
	db_close(db);
}

/* A REJECTED posting: what it says, once. */
static void
test_rejected(void)
{
	struct settings		 s;
	struct json_object	*body;
	struct db		*db;
	char			 got[2048];

	if ((db = db_conn()) == NULL)
		return;
	settings_default(&s);
	body = json_tokener_parse("{\"precise_amount\": 33309, \"precision\": "
	    "100, \"currency\": \"USD\", \"source\": \"@stripe-payouts\", "
	    "\"destination\": \"@stripe\", \"reference\": "
	    "\"stripe.txn_P1.gross\", \"meta_data\": {\"stripe_txn\": "
	    "\"txn_P1\", \"stripe_type\": \"payout\"}}");
	ok(body != NULL && install("ia_5", "active", "[\"alerts:write\"]") &&
	    run("p1", "ia_5", "sync", "running", NOW), "a payout posting");
	ok(db_begin(db) && alerts_rejected(db, "ia_5", "p1", &s,
	    "stripe.txn_P1.gross", body, "insufficient funds\n in source") &&
	    alerts_rejected(db, "ia_5", "p1", &s, "stripe.txn_P1.gross", body,
	    "other words") && db_commit(db), "rejected, noted twice");
	is_int(raw_int("SELECT count(*) FROM alert_flags WHERE "
	    "installed_app_id = 'ia_5'"), 1, "one problem");
	raw_text("SELECT problem_key || '|' || target_type || '|' || target || "
	    "'|' || title || '|' || description FROM alert_flags WHERE "
	    "installed_app_id = 'ia_5'", got, sizeof(got));
	ok(strstr(got, "rejected:stripe.txn_P1.gross|transaction|"
	    "stripe.txn_P1.gross|Posting rejected by Blnk|") == got,
	    "keyed by the reference, on the transaction");
	ok(strstr(got, "txn_P1 (payout): 333.09 USD from @stripe-payouts to "
	    "@stripe") != NULL, "names the Stripe id, the amount, the "
	    "balances");
	ok(strstr(got, "reason: insufficient funds  in source.") != NULL,
	    "Blnk's reason, control characters out");
	ok(strstr(got, "What to do: fund @stripe-payouts in Blnk, or allow it "
	    "to go below zero (Stripe Sync settings, Overdraft: payouts)") !=
	    NULL, "and what to do, naming the role");
	if (!ok(strlen(got) < 1000, "short enough for Cloud"))
		diag("%s", got);
	json_object_put(body);
	db_close(db);
}

/* Newest first, limit and offset. */
static int
key_cb(const struct alert_flag *f, void *arg)
{
	char	*out = arg;

	strcat(out, f->key);
	strcat(out, " ");
	return 1;
}

static void
test_list(void)
{
	struct db	*db;
	char		 got[512];

	if ((db = db_conn()) == NULL)
		return;
	ok(install("ia_6", "active", "[]") && db_begin(db) &&
	    db_alert_note(db, "ia_6", "a", NULL, "balance", "@x", NULL, "t",
	    "d", "2026-12-01T01:00:00Z") == 1 &&
	    db_alert_note(db, "ia_6", "b", NULL, "balance", "@x", NULL, "t",
	    "d", "2026-12-01T03:00:00Z") == 1 &&
	    db_alert_note(db, "ia_6", "c", NULL, "balance", "@x", NULL, "t",
	    "d", "2026-12-01T02:00:00Z") == 1 && db_commit(db),
	    "three problems");
	got[0] = '\0';
	ok(db_alert_list(db, "ia_6", 10, 0, key_cb, got), "listed");
	is_str(got, "b c a ", "newest first");
	got[0] = '\0';
	ok(db_alert_list(db, "ia_6", 1, 1, key_cb, got), "a page");
	is_str(got, "c ", "limit and offset");
	db_close(db);
}

int
main(void)
{
	const char	*tmp = getenv("TMPDIR");
	struct db	*db;
	char		 err[512];
	int		 n;

	snprintf(dir, sizeof(dir), "%s/test-alerts.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/db.sqlite", dir);
	if ((db = db_open(path, DB_MIGRATE, err, sizeof(err))) == NULL ||
	    !db_migrate(db, &n, err, sizeof(err))) {
		printf("Bail out! %s\n", err);
		return 1;
	}
	db_close(db);

	test_note_and_claim();
	test_streak();
	test_rejected();
	test_list();

	unlink(path);
	{
		char	 j[PATH_MAX + 40];

		snprintf(j, sizeof(j), "%s-journal", path);
		unlink(j);
		snprintf(j, sizeof(j), "%s-wal", path);
		unlink(j);
		snprintf(j, sizeof(j), "%s-shm", path);
		unlink(j);
	}
	rmdir(dir);
	return done_testing();
}
