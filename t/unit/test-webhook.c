/*
 * test-webhook.c: the Stripe-Signature check (webhook_verify), the event
 * types that ask for work (webhook_action) and the shape of a signing
 * secret (webhook_secret_valid), each against a table.
 *
 * The signed vectors were made once with Stripe's official Node library,
 * stripe 23.1.0 (the version tools/stripe-sim/test/package-lock.json pins),
 * from tools/stripe-sim/test after npm ci:
 *
 *   node -e 'const s = require("stripe")("sk_test_x");
 *     console.log(s.webhooks.generateTestHeaderString(
 *       {payload: BODY, secret: SECRET, timestamp: T}))'
 *
 * so what passes here is what Stripe's own code signs (t/t5400 signs
 * with the library again at run time, through the real worker).
 *
 * Then the tables behind them, on a real migrated database: the debounce
 * of db_job_request(), sync_jobs() turning due requests into runs, the
 * sealed secret, and an uninstall forgetting all of it.
 */
#include <sys/types.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "tap.h"
#include "webhook.h"

struct vector {
	const char	*secret;
	const char	*body;
	int64_t		 t;
	const char	*header;	/* generateTestHeaderString's */
};

static const struct vector vectors[] = {
	{ "whsec_test_secret_0123456789abcdef",
	  "{\"id\":\"evt_1\",\"object\":\"event\"}", 1700000000,
	  "t=1700000000,v1=f81891d9c5115555d9b4ca09689b89904fff5e78642936b9"
	  "88072bdd96c49bb0" },
	/* Pretty-printed, as Stripe sends its events: the raw bytes. */
	{ "whsec_MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCB",
	  "{\n  \"id\": \"evt_1NwJf2LkdIwHu7ix\",\n  \"type\": "
	  "\"charge.succeeded\"\n}", 1733054400,
	  "t=1733054400,v1=36a1be0a5e9facd8e0007ac91e9d210d01f44de3d129fd2e"
	  "722d9a98e7d5bc3b" },
	/* A Stripe CLI secret (64 hex digits), the smallest time. */
	{ "whsec_5d8c1c7f0e8a4b2f9a3e6d1c0b7a9f4e2d8c6b1a3f5e7d9c0b2a4f6e8d0"
	  "c1b3a",
	  "x", 1,
	  "t=1,v1=f5c59cff292fb9416a44a8ff7995aa951012602639677074f67c4224233"
	  "90994" },
	/* UTF-8 in the body: signed as bytes. */
	{ "whsec_abcdefghijklmnop", "caf\xc3\xa9 \xe2\x82\xac", 1733054400,
	  "t=1733054400,v1=41599fe752824567b75ccc61a945727767835553c0f910d9"
	  "eeb70403e75440d6" },
};
#define NVECTORS	(sizeof(vectors) / sizeof(vectors[0]))

static enum wh_status
verify(const char *header, const char *secret, const char *body,
    int64_t now)
{
	int64_t	 t;

	return webhook_verify(header, secret, strlen(secret), body,
	    strlen(body), now, &t);
}

static const char *
name(enum wh_status st)
{
	return st < WH__MAX ? wh_codes[st] : "?";
}

#define is_status(got, want, ...) do {					\
	enum wh_status g_ = (got), w_ = (want);				\
	if (!tap_ok(g_ == w_, __FILE__, __LINE__, __VA_ARGS__))		\
		printf("#   got %s, want %s\n", name(g_), name(w_));	\
} while (0)

/* Stripe's own signatures pass, within 300 s either way. */
static void
test_vectors(void)
{
	const struct vector	*v;
	int64_t			 t;
	size_t			 i;

	for (i = 0; i < NVECTORS; i++) {
		v = &vectors[i];
		is_status(verify(v->header, v->secret, v->body, v->t), WH_OK,
		    "vector %zu: stripe-node's header verifies", i);
		is_status(verify(v->header, v->secret, v->body, v->t + 300),
		    WH_OK, "vector %zu: 300 s old is still fresh", i);
		is_status(verify(v->header, v->secret, v->body, v->t - 300),
		    WH_OK, "vector %zu: 300 s ahead is still fine", i);
		webhook_verify(v->header, v->secret, strlen(v->secret),
		    v->body, strlen(v->body), v->t, &t);
		is_int(t, v->t, "vector %zu: the signed time is returned", i);
	}
}

/* The refusals, each with its own reason. */
static void
test_refusals(void)
{
	const struct vector	*v = &vectors[0];
	const int64_t		 now = v->t;
	char			 h[8192], body[128], sec[64];
	size_t			 i;
	int64_t			 t;
	static const struct {
		const char	*header;
		enum wh_status	 want;
		const char	*what;
	} table[] = {
		{ "", WH_NO_HEADER, "an empty header" },
		{ "garbage", WH_MALFORMED, "no key=value" },
		{ "t=1700000000", WH_NO_V1, "a time alone" },
		{ "t=1700000000,v0=f81891d9c5115555d9b4ca09689b89904fff5e7864"
		  "2936b988072bdd96c49bb0", WH_NO_V1, "v0 only" },
		{ "v1=f81891d9c5115555d9b4ca09689b89904fff5e78642936b988072bd"
		  "d96c49bb0", WH_MALFORMED, "no t" },
		{ "t=abc,v1=f81891d9c5115555d9b4ca09689b89904fff5e78642936b98"
		  "8072bdd96c49bb0", WH_MALFORMED, "t not a number" },
		{ "t=-1700000000,v1=f81891d9c5115555d9b4ca09689b89904fff5e786"
		  "42936b988072bdd96c49bb0", WH_MALFORMED, "t negative" },
		{ "t=01700000000,v1=f81891d9c5115555d9b4ca09689b89904fff5e786"
		  "42936b988072bdd96c49bb0", WH_MALFORMED,
		  "t with a leading 0" },
		{ "t=,v1=f81891d9c5115555d9b4ca09689b89904fff5e78642936b98807"
		  "2bdd96c49bb0", WH_MALFORMED, "t empty" },
		{ "t=1700000000,t=1700000000,v1=f81891d9c5115555d9b4ca09689b8"
		  "9904fff5e78642936b988072bdd96c49bb0", WH_MALFORMED,
		  "two t" },
		{ "t=1700000000, v1=f81891d9c5115555d9b4ca09689b89904fff5e786"
		  "42936b988072bdd96c49bb0", WH_MALFORMED, "a blank" },
		{ "t=1700000000,v1=f81891d9c5115555d9b4ca09689b89904fff5e7864"
		  "2936b988072bdd96c49bb0,", WH_MALFORMED, "a trailing comma" },
		{ "t=1700000000,v1=f81891d9", WH_MALFORMED, "a short v1" },
		{ "t=1700000000,v1=z81891d9c5115555d9b4ca09689b89904fff5e7864"
		  "2936b988072bdd96c49bb0", WH_MALFORMED, "v1 not hex" },
		{ "t=1700000000,v1=f81891d9c5115555d9b4ca09689b89904fff5e7864"
		  "2936b988072bdd96c49bb00", WH_MALFORMED, "a long v1" },
		{ "t=1700000000,V1=f81891d9c5115555d9b4ca09689b89904fff5e7864"
		  "2936b988072bdd96c49bb0", WH_MALFORMED, "an upper-case key" },
		{ "t=1700000000,v1=f81891d9c5115555d9b4ca09689b89904fff5e7864"
		  "2936b988072bdd96c49bb1", WH_NO_MATCH,
		  "a signature altered" },
		{ "t=1700000001,v1=f81891d9c5115555d9b4ca09689b89904fff5e7864"
		  "2936b988072bdd96c49bb0", WH_NO_MATCH, "the time altered" },
	};

	is_status(webhook_verify(NULL, v->secret, strlen(v->secret), v->body,
	    strlen(v->body), now, &t), WH_NO_HEADER, "no header");
	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		is_status(verify(table[i].header, v->secret, v->body, now),
		    table[i].want, "%s: %s", table[i].what,
		    wh_codes[table[i].want]);

	/* The body: one byte changed, one added, one taken away. */
	snprintf(body, sizeof(body), "%s", v->body);
	body[5] ^= 1;
	is_status(verify(v->header, v->secret, body, now), WH_NO_MATCH,
	    "a byte of the body altered");
	snprintf(body, sizeof(body), "%s ", v->body);
	is_status(verify(v->header, v->secret, body, now), WH_NO_MATCH,
	    "a blank added to the body");
	snprintf(body, sizeof(body), "%.*s", (int)strlen(v->body) - 1, v->body);
	is_status(verify(v->header, v->secret, body, now), WH_NO_MATCH,
	    "the body cut short");
	is_status(verify(v->header, v->secret, "", now), WH_NO_MATCH,
	    "an empty body");

	/* Another secret, or this one without its prefix (Stripe's
	 * libraries key the HMAC with the whole string). */
	is_status(verify(v->header, vectors[1].secret, v->body, now),
	    WH_NO_MATCH, "another endpoint's secret");
	is_status(verify(v->header, v->secret + strlen("whsec_"), v->body, now),
	    WH_NO_MATCH, "the secret without whsec_");
	snprintf(sec, sizeof(sec), "%.*s", (int)strlen(v->secret) - 1,
	    v->secret);
	is_status(verify(v->header, sec, v->body, now), WH_NO_MATCH,
	    "the secret's last character missing");
	is_status(webhook_verify(v->header, "", 0, v->body, strlen(v->body),
	    now, &t), WH_NO_MATCH, "an empty secret matches nothing");

	/* Time: stricter than Stripe's libraries, the future is bounded. */
	is_status(verify(v->header, v->secret, v->body, now + 301), WH_STALE,
	    "301 s old");
	is_status(verify(v->header, v->secret, v->body, now + 86400), WH_STALE,
	    "a day old");
	is_status(verify(v->header, v->secret, v->body, now - 301), WH_FUTURE,
	    "301 s ahead");
	/* Only whoever holds the secret learns it is stale. */
	is_status(verify(v->header, vectors[1].secret, v->body, now + 86400),
	    WH_NO_MATCH, "stale under another secret: a mismatch");

	/* Too long a header. */
	memset(h, 'a', sizeof(h) - 1);
	h[sizeof(h) - 1] = '\0';
	memcpy(h, "t=1,x=", 6);
	is_status(verify(h, v->secret, v->body, now), WH_MALFORMED,
	    "a header over %d bytes", WH_HEADER_MAX);
}

/* Several v1 (a secret being rolled), v0 and other schemes beside. */
static void
test_several(void)
{
	const struct vector	*v = &vectors[0];
	const char		*sig = v->header + strlen("t=1700000000,v1=");
	const char		*bad =
	    "0000000000000000000000000000000000000000000000000000000000000000";
	char			 h[4096], up[80];
	size_t			 i, n;

	snprintf(h, sizeof(h), "t=1700000000,v1=%s,v1=%s", bad, sig);
	is_status(verify(h, v->secret, v->body, v->t), WH_OK,
	    "a wrong v1, then the right one");
	snprintf(h, sizeof(h), "t=1700000000,v1=%s,v1=%s", sig, bad);
	is_status(verify(h, v->secret, v->body, v->t), WH_OK,
	    "the right v1, then a wrong one");
	snprintf(h, sizeof(h), "v1=%s,t=1700000000,v0=%s", sig, bad);
	is_status(verify(h, v->secret, v->body, v->t), WH_OK,
	    "t after v1, and a v0: order does not matter, v0 is ignored");
	snprintf(h, sizeof(h), "t=1700000000,v1=%s,v1=%s", bad, bad);
	is_status(verify(h, v->secret, v->body, v->t), WH_NO_MATCH,
	    "two wrong v1");
	snprintf(h, sizeof(h), "t=1700000000,v1=%s,scheme2=abc", sig);
	is_status(verify(h, v->secret, v->body, v->t), WH_OK,
	    "an unknown scheme beside is ignored");
	for (i = 0; sig[i] != '\0' && i < sizeof(up) - 1; i++)
		up[i] = (char)(sig[i] >= 'a' && sig[i] <= 'f' ?
		    sig[i] - 'a' + 'A' : sig[i]);
	up[i] = '\0';
	snprintf(h, sizeof(h), "t=1700000000,v1=%s", up);
	is_status(verify(h, v->secret, v->body, v->t), WH_OK,
	    "upper-case hex is the same signature");

	/* At most WH_SIGS_MAX of them. */
	n = (size_t)snprintf(h, sizeof(h), "t=1700000000");
	for (i = 0; i < WH_SIGS_MAX - 1; i++)
		n += (size_t)snprintf(h + n, sizeof(h) - n, ",v1=%s", bad);
	snprintf(h + n, sizeof(h) - n, ",v1=%s", sig);
	is_status(verify(h, v->secret, v->body, v->t), WH_OK,
	    "%d v1, the last right", WH_SIGS_MAX);
	snprintf(h + n, sizeof(h) - n, ",v1=%s,v1=%s", bad, sig);
	is_status(verify(h, v->secret, v->body, v->t), WH_MALFORMED,
	    "%d v1 are too many", WH_SIGS_MAX + 1);
}

static void
test_actions(void)
{
	static const struct {
		const char	*type;
		enum wh_action	 want;
	} table[] = {
		{ "balance.available", WA_SYNC },
		{ "charge.succeeded", WA_SYNC },
		{ "charge.refunded", WA_SYNC },
		{ "charge.dispute.created", WA_SYNC },
		{ "charge.dispute.closed", WA_SYNC },
		{ "charge.dispute.funds_withdrawn", WA_SYNC },
		{ "payout.paid", WA_SYNC },
		{ "payout.failed", WA_SYNC },
		{ "payout.reconciliation_completed", WA_RECONCILE },
		{ "charge.dispute.", WA_NONE },
		{ "charge.dispute", WA_NONE },
		{ "charge.failed", WA_NONE },
		{ "charge.succeeded.x", WA_NONE },
		{ "payout.created", WA_NONE },
		{ "payment_intent.succeeded", WA_NONE },
		{ "customer.created", WA_NONE },
		{ "", WA_NONE },
	};
	size_t	 i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		is_str(wh_action_names[webhook_action(table[i].type)],
		    wh_action_names[table[i].want], "action of \"%s\"",
		    table[i].type);
	is_int(webhook_action(NULL), WA_NONE, "action of no type");
}

static void
test_secrets(void)
{
	static const struct {
		const char	*s;
		int		 want;
	} table[] = {
		{ "whsec_test_secret_0123456789abcdef", 1 },
		{ "whsec_MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCB", 1 },
		{ "whsec_5d8c1c7f0e8a4b2f9a3e6d1c0b7a9f4e2d8c6b1a3f5e7d9c0b2a4f"
		  "6e8d0c1b3a", 1 },
		{ "whsec_abcdefghijklmnop", 1 },
		{ "whsec_abcd+efgh/ijklmnop==", 1 },
		{ "whsec_abcdefghijklmno", 0 },	/* 15 after whsec_ */
		{ "whsec_abcdefghijklmno==", 0 }, /* padding is not counted */
		{ "whsec_abcdefgh=ijklmnop", 0 },	/* padding inside */
		{ "whsec_abcdefghijklmnop===", 0 },
		{ "whsec_abcdefghij klmnop", 0 },
		{ "whsec_abcdefghijklmnop\n", 0 },
		{ "WHSEC_abcdefghijklmnop", 0 },
		{ "sk_test_abcdefghijklmnopqrstuvwx", 0 },
		{ "whsec_", 0 },
		{ "", 0 },
	};
	char	 big[WH_SECRET_MAX + 2];
	size_t	 i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		is_int(webhook_secret_valid(table[i].s, strlen(table[i].s)),
		    table[i].want, "secret %zu (\"%.12s...\")", i, table[i].s);
	memcpy(big, "whsec_", 6);
	memset(big + 6, 'a', sizeof(big) - 7);
	big[sizeof(big) - 1] = '\0';
	is_int(webhook_secret_valid(big, WH_SECRET_MAX), 1,
	    "%d characters in all", WH_SECRET_MAX);
	is_int(webhook_secret_valid(big, WH_SECRET_MAX + 1), 0,
	    "%d characters are too many", WH_SECRET_MAX + 1);
}


/* --- the job requests and sync_jobs(), on a real database --- */

struct jt {
	char		 dir[PATH_MAX];
	char		 path[PATH_MAX + 32];
	struct db	*db;
	sqlite3		*raw;		/* looks from the outside */
	struct conf	 cf;
};

static int
jt_open(struct jt *j)
{
	const char	*tmp = getenv("TMPDIR");
	char		 err[512];
	int		 n;

	memset(j, 0, sizeof(*j));
	snprintf(j->dir, sizeof(j->dir), "%s/test-webhook.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(j->dir) == NULL)
		return 0;
	snprintf(j->path, sizeof(j->path), "%s/db.sqlite", j->dir);
	if ((j->db = db_open(j->path, DB_MIGRATE, err, sizeof(err))) == NULL ||
	    !db_migrate(j->db, &n, err, sizeof(err))) {
		diag("database: %s", err);
		return 0;
	}
	if (sqlite3_open(j->path, &j->raw) != SQLITE_OK)
		return 0;
	sqlite3_busy_timeout(j->raw, 5000);
	memset(j->cf.keys[0].key, 0x5a, CONF_KEYLEN);
	j->cf.keys[0].key[0] = 1;
	crypto_key_id(j->cf.keys[0].key, j->cf.keys[0].id);
	j->cf.nkeys = 1;
	return 1;
}

static void
jt_close(struct jt *j)
{
	char	 p[PATH_MAX + 64];

	db_close(j->db);
	sqlite3_close(j->raw);
	snprintf(p, sizeof(p), "%s-journal", j->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-wal", j->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", j->path);
	unlink(p);
	unlink(j->path);
	rmdir(j->dir);
}

static int
jt_exec(struct jt *j, const char *sql)
{
	char	*msg = NULL;

	if (sqlite3_exec(j->raw, sql, NULL, NULL, &msg) != SQLITE_OK) {
		diag("sql: %s: %s", sql, msg != NULL ? msg : "?");
		sqlite3_free(msg);
		return 0;
	}
	return 1;
}

/* The first column of the first row of sql as an integer (-1: none). */
static int64_t
jt_int(struct jt *j, const char *sql)
{
	sqlite3_stmt	*st;
	int64_t		 v = -1;

	if (sqlite3_prepare_v2(j->raw, sql, -1, &st, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The first column of the first row of sql as text into buf. */
static const char *
jt_text(struct jt *j, const char *sql, char *buf, size_t bufsz)
{
	sqlite3_stmt		*st;
	const unsigned char	*t;

	snprintf(buf, bufsz, "(none)");
	if (sqlite3_prepare_v2(j->raw, sql, -1, &st, NULL) != SQLITE_OK)
		return buf;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    (t = sqlite3_column_text(st, 0)) != NULL)
		snprintf(buf, bufsz, "%s", (const char *)t);
	sqlite3_finalize(st);
	return buf;
}

static int
request(struct jt *j, const char *id, const char *job, const char *payout,
    int64_t now, int64_t debounce, int64_t max_wait)
{
	int	 ok;

	if (!db_begin(j->db))
		return 0;
	ok = db_job_request(j->db, id, job, payout, now, debounce, max_wait);
	if (!ok || !db_commit(j->db)) {
		db_rollback(j->db);
		return 0;
	}
	return 1;
}

#define INSTALL(id, status) \
	"INSERT INTO installs (installed_app_id, app_id, instance_id, " \
	"api_key_prefix, granted_permissions, status, generation, " \
	"install_event, installed_at, updated_at) VALUES ('" id "', 'app_1', " \
	"'inst_1', 'blnk_', '[]', '" status "', 1, 'install:" id "', " \
	"'2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z');"
#define CONNECT(id) \
	"INSERT INTO stripe_connections (installed_app_id, mode, key_type, " \
	"last4, key_sealed, key_kid, connected_at, updated_at) VALUES ('" id \
	"', 'test', 'secret', '4242', x'00', 'k', '2026-12-01T00:00:00Z', " \
	"'2026-12-01T00:00:00Z');"
#define REQ(id, job, col) \
	"SELECT " col " FROM job_requests WHERE installed_app_id = '" id \
	"' AND job = '" job "'"

static void
test_debounce(struct jt *j)
{
	ok(request(j, "a", "sync", "", 1000, 5, 60), "debounce: a request");
	is_int(jt_int(j, REQ("a", "sync", "due_at")), 1005,
	    "debounce: due 5 s after the event");
	is_int(jt_int(j, REQ("a", "sync", "first_at")), 1000,
	    "debounce: its first event");
	ok(request(j, "a", "sync", "", 1003, 5, 60), "debounce: a second");
	is_int(jt_int(j, "SELECT count(*) FROM job_requests WHERE "
	    "installed_app_id = 'a'"), 1, "debounce: still one request");
	is_int(jt_int(j, REQ("a", "sync", "events")), 2,
	    "debounce: counting two events");
	is_int(jt_int(j, REQ("a", "sync", "due_at")), 1008,
	    "debounce: due moved 5 s after the second");
	is_int(jt_int(j, REQ("a", "sync", "first_at")), 1000,
	    "debounce: the first event kept");
	ok(request(j, "a", "sync", "", 1058, 5, 60), "debounce: a late one");
	is_int(jt_int(j, REQ("a", "sync", "due_at")), 1060,
	    "debounce: never past 60 s after the first event");
	ok(request(j, "a", "sync", "", 1070, 5, 60), "debounce: later still");
	is_int(jt_int(j, REQ("a", "sync", "due_at")), 1060,
	    "debounce: still capped");
	is_int(jt_int(j, REQ("a", "sync", "events")), 4,
	    "debounce: four events");
	ok(request(j, "b", "sync", "", 1000, 0, 60), "debounce 0: a request");
	is_int(jt_int(j, REQ("b", "sync", "due_at")), 1000,
	    "debounce 0: due at once");
	ok(request(j, "b", "reconcile", "po_1", 1000, 5, 2) &&
	    request(j, "b", "reconcile", "po_2", 1001, 5, 2),
	    "reconcile: a request per payout");
	is_int(jt_int(j, "SELECT due_at FROM job_requests WHERE payout = "
	    "'po_1'"), 1002, "a longest wait shorter than the debounce wins");
	is_int(jt_int(j, "SELECT count(*) FROM job_requests WHERE "
	    "installed_app_id = 'b'"), 3, "a sync and two payouts wait apart");
}

static void
test_jobs(struct jt *j)
{
	char	 buf[128];

	ok(jt_exec(j, "UPDATE job_requests SET due_at = 2000 WHERE "
	    "installed_app_id = 'b' AND payout = 'po_2'"),
	    "jobs: po_2 is due later");
	/* a: due at 1060; b: a sync at 1000, po_1 at 1002. */
	is_int(sync_jobs(j->db, 999), 0, "jobs: nothing due yet");
	is_int(jt_int(j, "SELECT count(*) FROM sync_runs"), 0,
	    "jobs: no run");
	is_int(sync_jobs(j->db, 1001), 1, "jobs: b's sync is due: one run");
	is_str(jt_text(j, "SELECT trigger || ' ' || kind || ' ' || job || ' ' "
	    "|| status FROM sync_runs WHERE installed_app_id = 'b'", buf,
	    sizeof(buf)), "webhook all sync queued",
	    "jobs: a webhook sync of everything, queued");
	ok(strncmp(jt_text(j, "SELECT run_id FROM sync_runs", buf,
	    sizeof(buf)), "run_", 4) == 0, "jobs: its id is run_...");
	is_int(jt_int(j, REQ("b", "sync", "count(*)")), 0,
	    "jobs: the request is gone with it");

	/* b has a job now: its due reconciliation waits, and the look at
	 * the queue is a read (it would wait for this lock otherwise). */
	ok(jt_exec(j, "BEGIN IMMEDIATE"),
	    "jobs: another writer holds the lock");
	is_int(sync_jobs(j->db, 1002), 0, "jobs: b's po_1 waits for its sync, "
	    "without asking for the lock");
	ok(jt_exec(j, "ROLLBACK"), "jobs: the lock released");
	is_int(jt_int(j, "SELECT count(*) FROM job_requests WHERE payout = "
	    "'po_1'"), 1, "jobs: po_1 still asked for");

	ok(jt_exec(j, "UPDATE sync_runs SET status = 'completed'"),
	    "jobs: b's sync ends");
	is_int(sync_jobs(j->db, 1002), 1, "jobs: then po_1 is reconciled");
	is_str(jt_text(j, "SELECT s.trigger || ' ' || s.job || ' ' || "
	    "r.scope || ' ' || r.payout FROM sync_runs s JOIN reconciliations "
	    "r USING (run_id) WHERE s.installed_app_id = 'b'", buf,
	    sizeof(buf)), "webhook reconcile payout po_1",
	    "jobs: a webhook reconciliation of payout po_1");
	ok(strncmp(jt_text(j, "SELECT run_id FROM sync_runs WHERE job = "
	    "'reconcile'", buf, sizeof(buf)), "rec_", 4) == 0,
	    "jobs: its id is rec_...");
	is_int(jt_int(j, "SELECT count(*) FROM job_requests WHERE payout = "
	    "'po_1'"), 0, "jobs: its request is gone");
	is_int(jt_int(j, "SELECT count(*) FROM job_requests WHERE payout = "
	    "'po_2'"), 1, "jobs: po_2, not due, stays");

	is_int(sync_jobs(j->db, 1059), 0, "jobs: a's sync is not due at 1059");
	is_int(sync_jobs(j->db, 1060), 1, "jobs: a's sync at 1060");

	/* Installs that cannot run: dropped. */
	ok(request(j, "c", "sync", "", 3000, 0, 0) &&
	    request(j, "d", "sync", "", 3000, 0, 0) &&
	    request(j, "d", "reconcile", "po_3", 3000, 0, 0),
	    "jobs: requests of an uninstalled and an unconnected install");
	is_int(sync_jobs(j->db, 3000), 0, "jobs: no run for them");
	is_int(jt_int(j, "SELECT count(*) FROM job_requests WHERE "
	    "installed_app_id IN ('c', 'd')"), 0,
	    "jobs: their requests dropped");
	is_int(jt_int(j, "SELECT count(*) FROM sync_runs WHERE "
	    "installed_app_id IN ('c', 'd')"), 0, "jobs: and no run");
	is_int(sync_jobs(j->db, 3000), 0, "jobs: nothing left");
}

static void
test_secret_rows(struct jt *j)
{
	struct webhook_info	 w;
	char			*s = NULL, buf[128];
	int			 rc;

	ok(db_webhook_info(j->db, "a", &w) && !w.set && w.events == 0 &&
	    w.last4[0] == '\0' && w.last_event_at[0] == '\0',
	    "secret: none at first");
	is_int(db_webhook_secret(j->db, &j->cf, "a", &s), 0,
	    "secret: none to open");
	ok(db_begin(j->db) && db_webhook_secret_put(j->db, &j->cf, "a",
	    "whsec_abcdefghijklmnopWXYZ", "2026-12-01T00:00:01Z") &&
	    db_webhook_event_add(j->db, "a", "evt_1", "charge.succeeded", 0,
	    "sync", "2026-12-01T00:00:02Z") == 1 &&
	    db_webhook_event_add(j->db, "a", "evt_1", "charge.succeeded", 0,
	    "sync", "2026-12-01T00:00:03Z") == 0 &&
	    db_commit(j->db), "secret: stored; an event recorded once");
	ok(db_webhook_info(j->db, "a", &w) && w.set && w.events == 1 &&
	    strcmp(w.last4, "WXYZ") == 0 &&
	    strcmp(w.last_event_at, "2026-12-01T00:00:02Z") == 0,
	    "secret: shown as its last four, one event");
	is_int(jt_int(j, "SELECT count(*) FROM webhook_secrets WHERE "
	    "instr(secret_sealed, 'abcdefgh') > 0"), 0,
	    "secret: not in the clear");
	rc = db_webhook_secret(j->db, &j->cf, "a", &s);
	is_int(rc, 1, "secret: opens");
	is_str(s, "whsec_abcdefghijklmnopWXYZ", "secret: as stored");
	free(s);
	s = NULL;
	/* Bound to its install: moved to another row, it does not open. */
	ok(jt_exec(j, "INSERT INTO webhook_secrets SELECT 'b', secret_sealed, "
	    "key_kid, last4, set_at FROM webhook_secrets WHERE "
	    "installed_app_id = 'a'"), "secret: copied to install b");
	is_int(db_webhook_secret(j->db, &j->cf, "b", &s), -1,
	    "secret: another install's seal does not open");
	ok(jt_exec(j, "UPDATE installs SET status = 'inactive' WHERE "
	    "installed_app_id = 'b'"), "b uninstalled by hand");
	is_int(db_webhook_secret(j->db, &j->cf, "b", &s), 0,
	    "secret: none for an inactive install");

	ok(request(j, "a", "sync", "", 5000, 5, 60), "uninstall: a request");
	ok(db_begin(j->db) && db_install_deactivate(j->db, "a",
	    "2026-12-02T00:00:00Z", "2026-12-02T00:00:00Z") == 1 &&
	    db_commit(j->db), "uninstall: a");
	is_str(jt_text(j, "SELECT (SELECT count(*) FROM webhook_secrets WHERE "
	    "installed_app_id = 'a') || (SELECT count(*) FROM webhook_events "
	    "WHERE installed_app_id = 'a') || (SELECT count(*) FROM "
	    "job_requests WHERE installed_app_id = 'a')", buf, sizeof(buf)),
	    "000", "uninstall: its secret, events and requests are gone");
}

static void
test_tables(void)
{
	struct jt	 j;

	if (!jt_open(&j)) {
		ok(0, "a migrated database");
		return;
	}
	ok(jt_exec(&j, INSTALL("a", "active") CONNECT("a")
	    INSTALL("b", "active") CONNECT("b")
	    INSTALL("c", "inactive") CONNECT("c")
	    INSTALL("d", "active")), "installs a, b (connected), c "
	    "(uninstalled), d (not connected)");
	test_debounce(&j);
	test_jobs(&j);
	test_secret_rows(&j);
	jt_close(&j);
}

int
main(void)
{
	test_vectors();
	test_refusals();
	test_several();
	test_actions();
	test_secrets();
	test_tables();
	return done_testing();
}
