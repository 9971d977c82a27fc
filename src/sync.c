/*
 * sync.c: the sync engine.  See sync.h for the phases; sync-map.c turns a
 * balance transaction into postings.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "cloud.h"
#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "money.h"
#include "settings.h"
#include "stripe.h"
#include "sync.h"
#include "sync-map.h"
#include "util.h"
#include "valid.h"

#define PAGE		"100"	/* Stripe's largest page */
#define BATCH		250	/* items posted in one bulk call */
#define READ_PAGE	100	/* the Data API's largest page */
#define REPOST_S	5	/* a posting Blnk shows no row of this long
				   after it was sent is sent again */
#define OPENING_TRIES	5
#define BACKOFF_FIRST_MS	250
#define BACKOFF_MAX_MS	5000	/* as Stripe's own clients: short, often */
#define PROBLEM_MAX	400	/* a message, with its NUL */

enum step {
	S_NEXT,		/* go on with the run */
	S_DONE,		/* it is complete */
	S_FAIL,		/* it failed: run.code and run.msg say why */
	S_LOST,		/* another runner holds it now */
	S_STOP,		/* this runner is stopping */
	S_DBERR,	/* the database failed */
};

struct run {
	struct sync_ctx	*x;
	struct sync_run	 r;
	struct settings	 s;
	char		 instance[130];
	char		*key;		/* the Stripe key, wiped at the end */
	unsigned	 mask;		/* KIND_* this run posts */
	int		 opening_tries;
	double		 patience_end;	/* monotonic ms; 0: no outage */
	long		 backoff;
	double		 confirm_end;
	long		 confirm_wait;
	char		 code[64];
	char		 msg[256];
};

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

static void
now_text(char *buf, size_t bufsz)
{
	util_now_rfc3339(buf, bufsz);
}

static enum step
fail_run(struct run *u, const char *code, const char *msg)
{
	snprintf(u->code, sizeof(u->code), "%s", code);
	snprintf(u->msg, sizeof(u->msg), "%s", msg);
	return S_FAIL;
}

static enum step
db_fail(struct run *u, const char *what)
{
	log_error("sync %s: %s: %s", u->r.run_id, what, db_errmsg(u->x->db));
	db_rollback(u->x->db);
	return S_DBERR;
}

/* Save the run (and commit what the caller wrote with it) while the
 * lease is ours; extends it.  Call inside db_begin(). */
static enum step
save(struct run *u)
{
	char	 now[32];
	int	 rc;

	now_text(now, sizeof(now));
	rc = db_run_save(u->x->db, &u->r, u->x->owner,
	    now_s() + u->x->cf->sync_lease, now);
	if (rc < 0)
		return db_fail(u, "saving the run");
	if (rc == 0) {
		db_rollback(u->x->db);
		return S_LOST;
	}
	if (!db_commit(u->x->db))
		return db_fail(u, "commit");
	return S_NEXT;
}

static enum step
begin(struct run *u)
{
	if (!db_begin(u->x->db))
		return db_fail(u, "begin");
	return S_NEXT;
}

/* The lease renewed, nothing else written. */
static enum step
renew(struct run *u)
{
	enum step	 st;

	if ((st = begin(u)) != S_NEXT)
		return st;
	return save(u);
}

/* A problem of the run, inside the caller's transaction. */
static int
problem(struct run *u, const char *stripe_id, const char *ref,
    const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
problem(struct run *u, const char *stripe_id, const char *ref,
    const char *code, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[PROBLEM_MAX];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return db_problem_add(u->x->db, u->r.run_id, stripe_id, ref, code,
	    msg);
}

/*
 * An outage (Cloud or Stripe down, slow or limiting): wait with backoff
 * and have the caller try again, renewing the lease meanwhile, until
 * sync_patience has passed since the outage began; then the run fails
 * with code and msg.
 */
static enum step
transient(struct run *u, const char *code, const char *msg)
{
	enum step	 st;
	double		 now = util_monotonic_ms();
	uint32_t	 jitter = 0;

	if (u->patience_end == 0) {
		u->patience_end = now + (double)u->x->cf->sync_patience * 1000;
		u->backoff = BACKOFF_FIRST_MS;
	}
	if (now >= u->patience_end)
		return fail_run(u, code, msg);
	log_warn("sync %s: %s (%s); retrying in %ld ms", u->r.run_id, code,
	    msg, u->backoff);
	if ((st = renew(u)) != S_NEXT)
		return st;
	/* Up to a quarter more, at random: runners that failed together do
	 * not all come back in the same instant. */
	crypto_random(&jitter, sizeof(jitter));
	if (u->x->sleep_ms(u->backoff + (long)(jitter % (uint32_t)(u->backoff /
	    4 + 1)), u->x->arg))
		return S_STOP;
	u->backoff = u->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
	    u->backoff * 2;
	return S_NEXT;
}

/* A call went through: the outage, if any, is over. */
static void
calm(struct run *u)
{
	u->patience_end = 0;
}

/*
 * GET from Stripe.  Returns 1 with *out; or 0 with *st the step to return
 * (S_NEXT: an outage waited out, try again).
 */
static int
stripe_call(struct run *u, const char *const *segs, const char *const *query,
    struct json_object **out, enum step *st)
{
	struct stripe_err	 e;

	u->x->stripe_calls++;
	if (stripe_get(u->x->stripe, u->key, segs, query, out, &e)) {
		calm(u);
		return 1;
	}
	*st = e.retryable ? transient(u, e.code, e.message) :
	    fail_run(u, e.code, e.message);
	return 0;
}

/* Is a Cloud failure an outage to wait out? */
static int
cloud_transient(const struct cloud_err *e)
{
	return strcmp(e->code, "CLOUD_UNREACHABLE") == 0 ||
	    strcmp(e->code, "CLOUD_TIMEOUT") == 0 ||
	    strcmp(e->code, "CLOUD_RATE_LIMITED") == 0 ||
	    strcmp(e->code, "CLOUD_ERROR") == 0 ||
	    strcmp(e->code, "GEN_RESOURCE_LOCKED") == 0 ||
	    e->upstream_status == 429 || e->upstream_status >= 500;
}

/* A call to Cloud for the run's install.  1 with *out, or 0 with *e. */
static int
cloud_call(struct run *u, enum cloud_api api, enum httpc_method m,
    const char *const *segs, const char *const *query,
    struct json_object *body, struct json_object **out, struct cloud_err *e)
{
	struct cloud_call	 c;

	memset(&c, 0, sizeof(c));
	c.api = api;
	c.method = m;
	c.segs = segs;
	c.query = query;
	c.body = body;
	u->x->cloud_calls++;
	if (cloud_do(u->x->cloud, u->x->db, u->x->cf, u->r.install_id,
	    u->instance, &c, out, e)) {
		calm(u);
		return 1;
	}
	return 0;
}

/* --- the balance ----------------------------------------------------- */

/*
 * Stripe's balance (available + pending) per currency as an object
 * {"usd": 123, ...} into *sums.  Returns 1, or 0 if the answer is not one.
 */
static int
balance_sums(struct json_object *bal, struct json_object **sums)
{
	static const char *const parts[] = { "available", "pending", NULL };
	struct json_object	*arr, *it, *cur, *amt, *was;
	size_t			 i, j, n;
	int64_t			 v;

	if ((*sums = json_object_new_object()) == NULL)
		return 0;
	for (i = 0; parts[i] != NULL; i++) {
		if (!json_object_object_get_ex(bal, parts[i], &arr) ||
		    !json_object_is_type(arr, json_type_array))
			goto bad;
		n = json_object_array_length(arr);
		for (j = 0; j < n; j++) {
			it = json_object_array_get_idx(arr, j);
			if (!json_object_object_get_ex(it, "currency", &cur) ||
			    !json_object_is_type(cur, json_type_string) ||
			    json_object_get_string_len(cur) != 3 ||
			    !json_object_object_get_ex(it, "amount", &amt) ||
			    !json_object_is_type(amt, json_type_int))
				goto bad;
			v = json_object_get_int64(amt);
			if (json_object_object_get_ex(*sums,
			    json_object_get_string(cur), &was) &&
			    __builtin_add_overflow(v, json_object_get_int64(was),
			    &v))
				goto bad;
			json_object_object_add(*sums,
			    json_object_get_string(cur),
			    json_object_new_int64(v));
		}
	}
	return 1;
bad:
	json_object_put(*sums);
	*sums = NULL;
	return 0;
}

/* GET /v1/balance into *sums.  1, or 0 with *st. */
static int
stripe_balance(struct run *u, struct json_object **sums, enum step *st)
{
	static const char *const segs[] = { "balance", NULL };
	struct json_object	*bal;

	if (!stripe_call(u, segs, NULL, &bal, st))
		return 0;
	if (!balance_sums(bal, sums)) {
		json_object_put(bal);
		*st = fail_run(u, "STRIPE_ERROR", "Stripe's balance answer is "
		    "not a balance");
		return 0;
	}
	json_object_put(bal);
	return 1;
}

static char *
json_dup(struct json_object *o)
{
	const char	*s = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN);

	return s != NULL ? strdup(s) : NULL;
}

/* --- setting up ------------------------------------------------------ */

/* What a run needs each time it is claimed: the install, the key, the
 * mode, the settings. */
static enum step
setup(struct run *u)
{
	struct install		 in;
	struct stripe_conn	 sc;
	struct json_object	*o;
	struct verr		 e;
	char			*json;
	int			 rc;

	if ((rc = db_install_get(u->x->db, u->r.install_id, &in)) < 0)
		return db_fail(u, "reading the install");
	if (rc == 0 || in.status != INSTALL_ACTIVE) {
		if (rc == 1)
			install_free(&in);
		return fail_run(u, "APP_UNINSTALLED", "the app was uninstalled "
		    "from this instance; the run cannot go on");
	}
	snprintf(u->instance, sizeof(u->instance), "%s", in.instance_id);
	install_free(&in);
	if ((rc = db_stripe_get(u->x->db, u->r.install_id, &sc)) < 0)
		return db_fail(u, "reading the connection");
	if (rc == 0)
		return fail_run(u, "STRIPE_NOT_CONNECTED", "Stripe was "
		    "disconnected; connect a key and start a new run");
	if (u->r.mode[0] != '\0' && strcmp(u->r.mode, sc.mode) != 0)
		return fail_run(u, "MODE_CHANGED", "the Stripe key was switched "
		    "to the other mode during the run; start a new run");
	snprintf(u->r.mode, sizeof(u->r.mode), "%s", sc.mode);
	if (db_stripe_key(u->x->db, u->x->cf, u->r.install_id, &u->key) != 1)
		return db_fail(u, "opening the Stripe key");
	settings_default(&u->s);
	if ((rc = db_settings_get(u->x->db, u->r.install_id, &json)) < 0)
		return db_fail(u, "reading the settings");
	if (rc == 1) {
		o = json_tokener_parse(json);
		free(json);
		if (o == NULL || !settings_parse(o, &u->s, &e)) {
			json_object_put(o);
			return fail_run(u, "SETTINGS_DAMAGED", "the stored "
			    "settings do not parse; save them again");
		}
		json_object_put(o);
	}
	u->mask = KIND_OPENING;
	if (strcmp(u->r.kind, "payouts") != 0) {
		if (u->s.import_payins)
			u->mask |= KIND_PAYINS;
		if (strcmp(u->r.kind, "all") == 0 && u->s.import_fees)
			u->mask |= KIND_FEES;
		if (strcmp(u->r.kind, "all") == 0 && u->s.import_other)
			u->mask |= KIND_OTHER;
	}
	if (strcmp(u->r.kind, "payins") != 0 && u->s.import_payouts)
		u->mask |= KIND_PAYOUTS;
	stripe_set_rate(u->x->stripe, u->x->cf->stripe_rate > 0 ?
	    u->x->cf->stripe_rate : strcmp(sc.mode, "live") == 0 ? 100 : 25);
	return S_NEXT;
}

/* Phase "start": where the listing begins, and Stripe's balance before
 * it when an opening balance is to be posted. */
static enum step
step_start(struct run *u)
{
	struct json_object	*sums;
	enum step		 st;
	int64_t			 hw, start_at;
	int			 rc;

	rc = db_cursor_get(u->x->db, u->r.install_id, u->r.mode, &hw,
	    &start_at);
	if (rc < 0)
		return db_fail(u, "reading the cursor");
	free(u->r.balance_before);
	u->r.balance_before = NULL;
	if (rc == 1)
		u->r.window_gte = hw;
	else {
		u->r.window_gte = u->s.start_at;
		if (u->s.start_at > 0) {
			if (!stripe_balance(u, &sums, &st))
				return st;
			u->r.balance_before = json_dup(sums);
			json_object_put(sums);
			if (u->r.balance_before == NULL)
				return fail_run(u, "INTERNAL", "out of memory");
		}
	}
	u->r.high_water = u->r.window_gte;
	u->r.cursor[0] = '\0';
	snprintf(u->r.phase, sizeof(u->r.phase), "%s",
	    u->s.payins == PAYIN_METADATA && (u->mask & KIND_PAYINS) ?
	    "customers" : "fetch");
	if ((st = begin(u)) != S_NEXT)
		return st;
	return save(u);
}

/* Phase "customers": the Blnk balance each customer's metadata names. */
static enum step
step_customers(struct run *u)
{
	static const char *const segs[] = { "customers", NULL };
	struct json_object	*page, *data, *c, *v, *md;
	const char		*query[8], *id, *party;
	enum step		 st;
	size_t			 i, n, q = 0;
	int			 more;

	query[q++] = "limit";
	query[q++] = PAGE;
	if (u->r.cursor[0] != '\0') {
		query[q++] = "starting_after";
		query[q++] = u->r.cursor;
	}
	query[q] = NULL;
	if (!stripe_call(u, segs, query, &page, &st))
		return st;
	if (!json_object_object_get_ex(page, "data", &data) ||
	    !json_object_is_type(data, json_type_array)) {
		json_object_put(page);
		return fail_run(u, "STRIPE_ERROR", "Stripe's customer list is "
		    "not a list");
	}
	more = json_object_object_get_ex(page, "has_more", &v) &&
	    json_object_get_boolean(v);
	if ((st = begin(u)) != S_NEXT) {
		json_object_put(page);
		return st;
	}
	n = json_object_array_length(data);
	for (i = 0; i < n; i++) {
		c = json_object_array_get_idx(data, i);
		if (!json_object_object_get_ex(c, "id", &v) ||
		    !json_object_is_type(v, json_type_string))
			continue;
		id = json_object_get_string(v);
		if (!valid_string(FT_REF, id, strlen(id)) ||
		    strlen(id) >= sizeof(u->r.cursor))
			continue;
		snprintf(u->r.cursor, sizeof(u->r.cursor), "%s", id);
		party = NULL;
		if (json_object_object_get_ex(c, "metadata", &md) &&
		    json_object_object_get_ex(md, u->s.metadata_key, &v) &&
		    json_object_is_type(v, json_type_string) &&
		    valid_string(FT_PARTY, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v)) &&
		    strcmp(json_object_get_string(v),
		    u->s.balance[ROLE_STRIPE]) != 0)
			party = json_object_get_string(v);
		if (!db_customer_put(u->x->db, u->r.install_id, u->r.mode, id,
		    json_object_object_get_ex(c, "created", &v) ?
		    json_object_get_int64(v) : 0, party)) {
			json_object_put(page);
			return db_fail(u, "storing a customer");
		}
	}
	json_object_put(page);
	if (!more) {
		u->r.cursor[0] = '\0';
		snprintf(u->r.phase, sizeof(u->r.phase), "fetch");
	}
	return save(u);
}

/* --- fetch ----------------------------------------------------------- */

/* Are two balance sums the same? */
static int
sums_equal(const char *a, struct json_object *b)
{
	struct json_object	*o;
	int			 eq;

	if ((o = json_tokener_parse(a)) == NULL)
		return 0;
	eq = json_object_equal(o, b);
	json_object_put(o);
	return eq;
}

struct net_ctx {
	struct run		*u;
	struct json_object	*sums;	/* Stripe's balance, per currency */
	struct json_object	*seen;	/* currencies with items */
	int			 ok;
};

/* One currency's opening balance: Stripe's balance less what the items
 * since the start date add up to. */
static int
opening_one(const char *cur, int64_t net, void *arg)
{
	struct net_ctx		*c = arg;
	struct json_object	*v;
	struct sync_item	 it;
	int64_t			 bal = 0, open;

	json_object_object_add(c->seen, cur, json_object_new_boolean(1));
	if (json_object_object_get_ex(c->sums, cur, &v))
		bal = json_object_get_int64(v);
	if (__builtin_sub_overflow(bal, net, &open)) {
		c->ok = 0;
		return 0;
	}
	if (open == 0)
		return 1;
	syncmap_opening(c->u->r.mode, cur, open, c->u->s.start_at, &it);
	if (db_item_add(c->u->x->db, c->u->r.install_id, &it, c->u->r.run_id,
	    NULL) < 0) {
		c->ok = 0;
		return 0;
	}
	return 1;
}

/*
 * The opening balances, per currency, inside the caller's transaction:
 * Stripe's balance (taken before and after the listing, and equal) less
 * the net of every balance transaction since the start date.
 */
static int
add_openings(struct run *u, struct json_object *sums)
{
	struct json_object_iterator it, end;
	struct net_ctx		 c;
	struct sync_item	 item;
	const char		*cur;

	memset(&c, 0, sizeof(c));
	c.u = u;
	c.sums = sums;
	c.seen = json_object_new_object();
	c.ok = 1;
	if (c.seen == NULL || !db_items_net(u->x->db, u->r.install_id,
	    u->r.mode, u->s.start_at, opening_one, &c) || !c.ok) {
		json_object_put(c.seen);
		return 0;
	}
	/* A currency Stripe holds with no balance transaction since. */
	it = json_object_iter_begin(sums);
	end = json_object_iter_end(sums);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		cur = json_object_iter_peek_name(&it);
		if (json_object_object_get_ex(c.seen, cur, NULL) ||
		    json_object_get_int64(json_object_iter_peek_value(&it)) == 0)
			continue;
		syncmap_opening(u->r.mode, cur,
		    json_object_get_int64(json_object_iter_peek_value(&it)),
		    u->s.start_at, &item);
		if (db_item_add(u->x->db, u->r.install_id, &item,
		    u->r.run_id, NULL) < 0) {
			json_object_put(c.seen);
			return 0;
		}
	}
	json_object_put(c.seen);
	return 1;
}

/* The listing is complete: the opening balance if one is due, the
 * high-water mark for the next run, and on to posting. */
static enum step
fetch_done(struct run *u)
{
	struct json_object	*sums = NULL;
	enum step		 st;
	int64_t			 hw, start_at = u->s.start_at;
	int			 rc;

	if (u->r.balance_before != NULL) {
		if (!stripe_balance(u, &sums, &st))
			return st;
		if (!sums_equal(u->r.balance_before, sums)) {
			/* Something moved Stripe's balance while we listed:
			 * list again from the newest, or the opening would
			 * count it twice. */
			json_object_put(sums);
			if (++u->opening_tries >= OPENING_TRIES)
				return fail_run(u, "OPENING_UNSTABLE", "Stripe's "
				    "balance kept changing while the run listed "
				    "its balance transactions; run again");
			free(u->r.balance_before);
			u->r.balance_before = NULL;
			if (!stripe_balance(u, &sums, &st))
				return st;
			u->r.balance_before = json_dup(sums);
			json_object_put(sums);
			u->r.cursor[0] = '\0';
			if ((st = begin(u)) != S_NEXT)
				return st;
			return save(u);
		}
	}
	if ((st = begin(u)) != S_NEXT) {
		json_object_put(sums);
		return st;
	}
	if (sums != NULL && !add_openings(u, sums)) {
		json_object_put(sums);
		return db_fail(u, "adding the opening balance");
	}
	json_object_put(sums);
	rc = db_cursor_get(u->x->db, u->r.install_id, u->r.mode, &hw,
	    &start_at);
	if (rc < 0)
		return db_fail(u, "reading the cursor");
	if (rc == 0)
		start_at = u->s.start_at;
	hw = u->r.high_water > u->r.window_gte ? u->r.high_water :
	    u->r.window_gte;
	{
		char	 now[32];

		now_text(now, sizeof(now));
		if (!db_cursor_put(u->x->db, u->r.install_id, u->r.mode,
		    hw < 0 ? 0 : hw, start_at, now))
			return db_fail(u, "storing the cursor");
	}
	free(u->r.balance_before);
	u->r.balance_before = NULL;
	u->r.cursor[0] = '\0';
	snprintf(u->r.phase, sizeof(u->r.phase), "post");
	return save(u);
}

/* Phase "fetch": one page of balance transactions, stored. */
static enum step
step_fetch(struct run *u)
{
	static const char *const segs[] = { "balance_transactions", NULL };
	struct json_object	*page, *data, *t, *v;
	struct sync_item	 it;
	const char		*query[12];
	enum step		 st;
	char			*ctx, why[WHY_MAX], gte[24], state[12];
	size_t			 i, n, q = 0;
	int			 more, rc;

	query[q++] = "limit";
	query[q++] = PAGE;
	query[q++] = "expand[]";
	query[q++] = "data.source";
	if (u->r.window_gte > 0) {
		snprintf(gte, sizeof(gte), "%lld", (long long)u->r.window_gte);
		query[q++] = "created[gte]";
		query[q++] = gte;
	}
	if (u->r.cursor[0] != '\0') {
		query[q++] = "starting_after";
		query[q++] = u->r.cursor;
	}
	query[q] = NULL;
	if (!stripe_call(u, segs, query, &page, &st))
		return st;
	if (!json_object_object_get_ex(page, "data", &data) ||
	    !json_object_is_type(data, json_type_array)) {
		json_object_put(page);
		return fail_run(u, "STRIPE_ERROR", "Stripe's balance "
		    "transaction list is not a list");
	}
	more = json_object_object_get_ex(page, "has_more", &v) &&
	    json_object_get_boolean(v);
	n = json_object_array_length(data);
	if (more && n == 0) {
		json_object_put(page);
		return fail_run(u, "STRIPE_ERROR", "Stripe said there is more "
		    "but sent an empty page");
	}
	if ((st = begin(u)) != S_NEXT) {
		json_object_put(page);
		return st;
	}
	for (i = 0; i < n; i++) {
		t = json_object_array_get_idx(data, i);
		if (json_object_object_get_ex(t, "id", &v) &&
		    json_object_is_type(v, json_type_string) &&
		    (size_t)json_object_get_string_len(v) <
		    sizeof(u->r.cursor) && valid_string(FT_REF,
		    json_object_get_string(v), (size_t)
		    json_object_get_string_len(v)))
			snprintf(u->r.cursor, sizeof(u->r.cursor), "%s",
			    json_object_get_string(v));
		if (!syncmap_item(t, u->r.mode, &it, &ctx, why, sizeof(why))) {
			/* Not one we can read: reported, never guessed. */
			if (!problem(u, u->r.cursor, NULL, "UNREADABLE",
			    "this balance transaction cannot be read (%s); it "
			    "is not imported: report it to the app's "
			    "maintainers", why))
				goto dberr;
			u->r.n[SN_FAILED]++;
			continue;
		}
		it.ctx = ctx;
		rc = db_item_add(u->x->db, u->r.install_id, &it, u->r.run_id,
		    state);
		free(ctx);
		if (rc < 0)
			goto dberr;
		if (rc == 1)
			u->r.n[SN_FOUND]++;
		else if (strcmp(state, "confirmed") == 0)
			u->r.n[SN_PRESENT]++;
		if (it.created > u->r.high_water)
			u->r.high_water = it.created;
	}
	json_object_put(page);
	if ((st = save(u)) != S_NEXT || more)
		return st;
	return fetch_done(u);
dberr:
	json_object_put(page);
	return db_fail(u, "storing balance transactions");
}

/* --- post ------------------------------------------------------------ */

/* An item of a batch, with what was decided for it. */
struct bitem {
	struct sync_item	 it;
	char			*ctx;		/* owned */
	char			 party[PARTY_MAX];
	char			 charge[64];
	char			 customer[64];
	struct leg		 legs[2];
	int			 nlegs;
	const char		*fail_code;	/* NULL: postable */
	char			 why[WHY_MAX];
};

struct batch {
	struct bitem		*v;
	size_t			 n;
};

static int
batch_add(const struct sync_item *it, void *arg)
{
	struct batch	*b = arg;
	struct bitem	*bi = &b->v[b->n];

	memset(bi, 0, sizeof(*bi));
	bi->it = *it;
	if ((bi->ctx = strdup(it->ctx != NULL ? it->ctx : "{}")) == NULL)
		return 0;
	bi->it.ctx = bi->ctx;
	b->n++;
	return b->n < BATCH;
}

static void
batch_free(struct batch *b)
{
	size_t	 i;
	int	 j;

	for (i = 0; i < b->n; i++) {
		free(b->v[i].ctx);
		for (j = 0; j < b->v[i].nlegs; j++)
			json_object_put(b->v[i].legs[j].body);
	}
	free(b->v);
	b->v = NULL;
	b->n = 0;
}

/* String member k of o, or NULL. */
static const char *
str_of(struct json_object *o, const char *k)
{
	struct json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The pay-in balance of a customer (or of none) under the mapping.  May
 * ask Stripe for a customer the listing did not have.  1, or 0 with *st. */
static int
party_of_customer(struct run *u, const char *customer, char *party,
    enum step *st)
{
	static const char *segs[] = { "customers", NULL, NULL };
	struct json_object	*c, *md, *v;
	int			 rc;

	if (customer == NULL || customer[0] == '\0') {
		snprintf(party, PARTY_MAX, "%s", u->s.guest_balance);
		return 1;
	}
	switch (u->s.payins) {
	case PAYIN_FIXED:
		snprintf(party, PARTY_MAX, "%s", u->s.payin_balance);
		return 1;
	case PAYIN_CUSTOMER:
		if (snprintf(party, PARTY_MAX, "%s%s", u->s.customer_prefix,
		    customer) >= PARTY_MAX)
			snprintf(party, PARTY_MAX, "%s", u->s.guest_balance);
		return 1;
	default:
		break;
	}
	if ((rc = db_customer_get(u->x->db, u->r.install_id, customer, party,
	    PARTY_MAX)) < 0) {
		*st = db_fail(u, "reading a customer");
		return 0;
	}
	if (rc == 0) {
		/* Created after the customers were listed. */
		segs[1] = customer;
		if (!stripe_call(u, segs, NULL, &c, st))
			return 0;
		party[0] = '\0';
		if (json_object_object_get_ex(c, "metadata", &md) &&
		    json_object_object_get_ex(md, u->s.metadata_key, &v) &&
		    json_object_is_type(v, json_type_string) &&
		    valid_string(FT_PARTY, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v)))
			snprintf(party, PARTY_MAX, "%s",
			    json_object_get_string(v));
		json_object_put(c);
	}
	if (party[0] == '\0' || strcmp(party, u->s.balance[ROLE_STRIPE]) == 0)
		snprintf(party, PARTY_MAX, "%s", u->s.guest_balance);
	return 1;
}

/*
 * The counterparty of a pay-in item: a charge's by its customer; a
 * refund's or dispute's the balance its charge went to.  A charge this
 * install never imported (before the start date: the opening balance
 * holds its money) is no customer's in Blnk either, so what comes back
 * out of it is the outside world's.  1, or 0 with *st.
 */
static int
party_of(struct run *u, struct batch *b, struct bitem *bi,
    struct json_object *ctx, enum step *st)
{
	const char	*obj = str_of(ctx, "object"), *charge, *cus;
	size_t		 k;
	int		 rc;

	cus = str_of(ctx, "customer");
	charge = str_of(ctx, "charge");
	if (charge != NULL)
		snprintf(bi->charge, sizeof(bi->charge), "%s", charge);
	if (cus != NULL)
		snprintf(bi->customer, sizeof(bi->customer), "%s", cus);
	if ((obj != NULL && strcmp(obj, "charge") == 0) || charge == NULL)
		return party_of_customer(u, cus, bi->party, st);
	/* A charge earlier in this very batch is not stored yet. */
	for (k = 0; &b->v[k] < bi; k++)
		if (strcmp(b->v[k].charge, charge) == 0 &&
		    b->v[k].party[0] != '\0') {
			snprintf(bi->party, sizeof(bi->party), "%s",
			    b->v[k].party);
			return 1;
		}
	if ((rc = db_charge_get(u->x->db, u->r.install_id, charge, bi->party,
	    sizeof(bi->party))) < 0) {
		*st = db_fail(u, "reading a charge");
		return 0;
	}
	if (rc == 0) {
		snprintf(bi->party, sizeof(bi->party), "%s",
		    u->s.balance[ROLE_WORLD]);
		bi->charge[0] = '\0';	/* nothing to remember */
	}
	return 1;
}

/* A batch id: "b_" + the run's id without "run_" + a sequence. */
static void
batch_id(struct run *u, char *buf, size_t bufsz)
{
	unsigned char	 r[4];

	crypto_random(r, sizeof(r));
	snprintf(buf, bufsz, "b_%s_%02x%02x%02x%02x", u->r.run_id + 4, r[0],
	    r[1], r[2], r[3]);
}

/* POST the bodies in bulk (or one by one if the batch is refused).  The
 * postings are stored already: a failure here only means the confirm
 * phase sends them again. */
static enum step
post_bodies(struct run *u, struct json_object **bodies, size_t n)
{
	static const char *const bulk[] = { "transactions", "bulk", NULL };
	static const char *const one[] = { "transactions", NULL };
	struct json_object	*req, *arr, *out;
	struct cloud_err	 e;
	enum step		 st;
	size_t			 i;
	const char		*ref;

	if (n == 0)
		return S_NEXT;
	req = json_object_new_object();
	arr = json_object_new_array();
	for (i = 0; i < n; i++)
		json_object_array_add(arr, json_object_get(bodies[i]));
	json_object_object_add(req, "transactions", arr);
	for (;;) {
		if (cloud_call(u, CLOUD_PROXY, HTTPC_POST, bulk, NULL, req,
		    &out, &e)) {
			json_object_put(out);
			json_object_put(req);
			return S_NEXT;
		}
		if (!cloud_transient(&e))
			break;
		if ((st = transient(u, e.code, e.message)) != S_NEXT) {
			json_object_put(req);
			return st;
		}
	}
	json_object_put(req);
	if (strcmp(e.code, "CLOUD_KEY_REVOKED") == 0 ||
	    strcmp(e.code, "CLOUD_FORBIDDEN") == 0 ||
	    strcmp(e.code, "APP_UNINSTALLED") == 0)
		return fail_run(u, e.code, e.message);
	/* Core refused the batch as a whole: one by one, so that only the
	 * posting it refuses is held back. */
	log_warn("sync %s: the bulk post was refused (%s: %s); posting one "
	    "by one", u->r.run_id, e.code, e.message);
	for (i = 0; i < n; i++) {
		if (cloud_call(u, CLOUD_PROXY, HTTPC_POST, one, NULL,
		    bodies[i], &out, &e)) {
			json_object_put(out);
			continue;
		}
		if (cloud_transient(&e)) {
			if ((st = transient(u, e.code, e.message)) != S_NEXT)
				return st;
			i--;
			continue;
		}
		if (strcmp(e.code, "TXN_DUPLICATE_REFERENCE") == 0)
			continue;	/* there already: confirm will see */
		ref = str_of(bodies[i], "reference");
		if ((st = begin(u)) != S_NEXT)
			return st;
		if (!db_posting_set(u->x->db, u->r.install_id, ref,
		    "rejected", NULL) ||
		    !problem(u, str_of(json_object_object_get(bodies[i],
		    "meta_data"), "stripe_txn"), ref, "BLNK_REFUSED", "Blnk "
		    "refused the posting (%s: %s): check the mapping in the "
		    "settings, then start a new run", e.code, e.message))
			return db_fail(u, "recording a refusal");
		if ((st = save(u)) != S_NEXT)
			return st;
	}
	return S_NEXT;
}

/* Phase "post": the next batch of new items, stored, then posted. */
static enum step
step_post(struct run *u)
{
	struct batch		 b;
	struct json_object	*ctx, **bodies = NULL;
	enum step		 st = S_NEXT;
	char			 bid[64], ref[REF_MAX];
	size_t			 i, nb = 0;
	int			 j, rc;
	int64_t			 now = now_s();

	memset(&b, 0, sizeof(b));
	if ((b.v = calloc(BATCH, sizeof(*b.v))) == NULL)
		return fail_run(u, "INTERNAL", "out of memory");
	if (!db_items_new(u->x->db, u->r.install_id, u->r.mode, u->mask, BATCH,
	    batch_add, &b)) {
		batch_free(&b);
		return db_fail(u, "listing new items");
	}
	if (b.n == 0) {
		batch_free(&b);
		snprintf(u->r.phase, sizeof(u->r.phase), "confirm");
		if ((st = begin(u)) != S_NEXT)
			return st;
		return save(u);
	}
	batch_id(u, bid, sizeof(bid));
	/* Decide every item before writing anything. */
	for (i = 0; i < b.n; i++) {
		struct bitem	*bi = &b.v[i];

		ctx = json_tokener_parse(bi->ctx);
		if (strcmp(bi->it.kind, "payins") == 0 &&
		    !party_of(u, &b, bi, ctx, &st)) {
			json_object_put(ctx);
			batch_free(&b);
			return st;
		}
		if (!syncmap_legs(&bi->it, ctx, &u->s, bi->party,
		    u->r.run_id, bid, bi->legs, &bi->nlegs, &bi->fail_code,
		    bi->why, sizeof(bi->why)) && bi->fail_code == NULL)
			bi->fail_code = "internal";
		json_object_put(ctx);
	}
	if ((bodies = calloc(2 * b.n, sizeof(*bodies))) == NULL) {
		batch_free(&b);
		return fail_run(u, "INTERNAL", "out of memory");
	}
	if ((st = begin(u)) != S_NEXT)
		goto out;
	for (i = 0; i < b.n; i++) {
		struct bitem	*bi = &b.v[i];

		if (bi->fail_code != NULL) {
			syncmap_reference(bi->it.txn_id, "gross", ref);
			if (!db_item_set(u->x->db, u->r.install_id,
			    bi->it.txn_id, "failed", u->r.run_id, bi->why) ||
			    !problem(u, bi->it.txn_id, ref, bi->fail_code,
			    "not imported: %s", bi->why))
				goto dberr;
			u->r.n[SN_FAILED]++;
			continue;
		}
		if (bi->charge[0] != '\0' && bi->party[0] != '\0' &&
		    !db_charge_put(u->x->db, u->r.install_id, bi->charge,
		    bi->party, bi->customer[0] != '\0' ? bi->customer : NULL))
			goto dberr;
		if (bi->nlegs == 0) {
			/* Nothing moved (a zero amount): done as it is. */
			if (!db_item_set(u->x->db, u->r.install_id,
			    bi->it.txn_id, "confirmed", u->r.run_id, NULL))
				goto dberr;
			u->r.n[SN_IMPORTED]++;
			continue;
		}
		for (j = 0; j < bi->nlegs; j++) {
			rc = db_posting_add(u->x->db, u->r.install_id,
			    bi->legs[j].reference, bi->it.txn_id,
			    bi->legs[j].leg, json_object_to_json_string_ext(
			    bi->legs[j].body, JSON_C_TO_STRING_PLAIN), bid, now);
			if (rc < 0)
				goto dberr;
			if (rc == 1) {
				bodies[nb++] = bi->legs[j].body;
				u->r.n[SN_TO_CONFIRM]++;
			}
		}
		if (!db_item_set(u->x->db, u->r.install_id, bi->it.txn_id,
		    "sent", u->r.run_id, NULL))
			goto dberr;
	}
	if ((st = save(u)) != S_NEXT)
		goto out;
	st = post_bodies(u, bodies, nb);
out:
	free(bodies);
	batch_free(&b);
	return st;
dberr:
	free(bodies);
	batch_free(&b);
	return db_fail(u, "storing postings");
}

/* --- confirm --------------------------------------------------------- */

struct sent {
	char			 reference[REF_MAX];
	char			*body;		/* owned */
	int64_t			 sent_at;
	int			 found;
};

struct sentlist {
	struct sent		*v;
	size_t			 n, cap;
};

static int
sent_add(const struct sync_posting *p, void *arg)
{
	struct sentlist	*l = arg;
	struct sent	*nv;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		if ((nv = realloc(l->v, l->cap * sizeof(*nv))) == NULL)
			return 0;
		l->v = nv;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	snprintf(l->v[l->n].reference, REF_MAX, "%s", p->reference);
	l->v[l->n].sent_at = p->sent_at;
	if ((l->v[l->n].body = strdup(p->body)) == NULL)
		return 0;
	l->n++;
	return 1;
}

static void
sent_free(struct sentlist *l)
{
	size_t	 i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].body);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

struct batches {
	char			 v[16][64];
	size_t			 n;
};

static int
batch_name(const char *batch, void *arg)
{
	struct batches	*b = arg;

	snprintf(b->v[b->n++], 64, "%s", batch);
	return b->n < 16;
}

/* Does the _q row match the posting's body (amount, precision,
 * currency)? */
static int
row_matches(struct json_object *row, struct json_object *body)
{
	static const char *const keys[] = { "precise_amount", "currency",
	    NULL };
	struct json_object	*a, *b;
	size_t			 i;

	for (i = 0; keys[i] != NULL; i++) {
		if (!json_object_object_get_ex(row, keys[i], &a) ||
		    !json_object_object_get_ex(body, keys[i], &b) ||
		    strcmp(json_object_get_string(a),
		    json_object_get_string(b)) != 0)
			return 0;
	}
	return 1;
}

/*
 * Every row of Blnk's outcome (status not QUEUED) of batch, page by
 * page, decided against the sent postings l.  1, or 0 with *st.
 */
static int
read_batch(struct run *u, const char *batch, struct sentlist *l,
    enum step *st)
{
	static const char *const segs[] = { "transactions", NULL };
	struct json_object	*out, *data, *row, *body, *meta;
	struct cloud_err	 e;
	const char		*query[12], *ref, *status, *id;
	char			 pagebuf[24], base[REF_MAX];
	size_t			 i, k, n, len;
	long			 page;

	for (page = 1; ; page++) {
		snprintf(pagebuf, sizeof(pagebuf), "%ld", page);
		query[0] = "meta_data.stripe_sync.batch_eq";
		query[1] = batch;
		query[2] = "status_ne";
		query[3] = "QUEUED";
		query[4] = "pageSize";
		query[5] = "100";
		query[6] = "page";
		query[7] = pagebuf;
		query[8] = NULL;
		if (!cloud_call(u, CLOUD_DATA, HTTPC_GET, segs, query, NULL,
		    &out, &e)) {
			*st = cloud_transient(&e) ? transient(u, e.code,
			    e.message) : fail_run(u, e.code, e.message);
			return 0;
		}
		if (!json_object_object_get_ex(out, "data", &data) ||
		    !json_object_is_type(data, json_type_array)) {
			json_object_put(out);
			*st = fail_run(u, "CLOUD_ERROR", "Blnk Cloud's "
			    "transaction list is not a list");
			return 0;
		}
		if ((*st = begin(u)) != S_NEXT) {
			json_object_put(out);
			return 0;
		}
		n = json_object_array_length(data);
		for (i = 0; i < n; i++) {
			row = json_object_array_get_idx(data, i);
			if ((ref = str_of(row, "reference")) == NULL ||
			    (len = strlen(ref)) < 3 || len >= REF_MAX ||
			    strcmp(ref + len - 2, "_q") != 0)
				continue;
			memcpy(base, ref, len - 2);
			base[len - 2] = '\0';
			for (k = 0; k < l->n; k++)
				if (strcmp(l->v[k].reference, base) == 0)
					break;
			if (k == l->n || l->v[k].found)
				continue;
			l->v[k].found = 1;
			status = str_of(row, "status");
			id = str_of(row, "transaction_id");
			body = json_tokener_parse(l->v[k].body);
			if (status != NULL && strcmp(status, "APPLIED") == 0 &&
			    row_matches(row, body)) {
				if (!db_posting_set(u->x->db, u->r.install_id,
				    base, "applied", id))
					goto dberr;
			} else if (status != NULL &&
			    strcmp(status, "APPLIED") == 0) {
				if (!db_posting_set(u->x->db, u->r.install_id,
				    base, "rejected", id) ||
				    !problem(u, str_of(json_object_object_get(
				    body, "meta_data"), "stripe_txn"), base,
				    "AMOUNT_MISMATCH", "Blnk holds this "
				    "reference with another amount or currency "
				    "than the app posted: look at transaction "
				    "%s in Blnk", id != NULL ? id : "?"))
					goto dberr;
			} else {
				meta = json_object_object_get(row, "meta_data");
				if (!db_posting_set(u->x->db, u->r.install_id,
				    base, "rejected", id) ||
				    !problem(u, str_of(json_object_object_get(
				    body, "meta_data"), "stripe_txn"), base,
				    "REJECTED", "Blnk rejected the posting (%s): "
				    "fund the source balance or allow it to go "
				    "below zero in the settings (overdraft), then "
				    "post it again from Blnk",
				    str_of(meta, "blnk_rejection_reason") != NULL ?
				    str_of(meta, "blnk_rejection_reason") :
				    (status != NULL ? status : "no status")))
					goto dberr;
			}
			json_object_put(body);
			u->r.n[SN_CONFIRMED]++;
			continue;
dberr:
			json_object_put(body);
			json_object_put(out);
			*st = db_fail(u, "recording an outcome");
			return 0;
		}
		json_object_put(out);
		if ((*st = save(u)) != S_NEXT)
			return 0;
		if (n < READ_PAGE)
			return 1;
	}
}

/*
 * Postings Blnk shows no outcome for yet: those sent a while ago of which
 * Blnk has no row at all (<ref>) are sent again.  1, or 0 with *st.
 */
static int
resend_missing(struct run *u, struct sentlist *l, enum step *st)
{
	static const char *const segs[] = { "transactions", NULL };
	struct json_object	*out, *data, **bodies;
	struct cloud_err	 e;
	const char		*query[8], *ref;
	char			 refs[1001];
	size_t			 i, j, k, n, used, nb, start;
	int64_t			 now = now_s();

	if ((bodies = calloc(l->n + 1, sizeof(*bodies))) == NULL) {
		*st = fail_run(u, "INTERNAL", "out of memory");
		return 0;
	}
	nb = 0;
	/* reference_in takes at most 1000 characters a value. */
	for (i = 0; i < l->n; ) {
		refs[0] = '\0';
		used = 0;
		start = i;
		for (; i < l->n; i++) {
			if (l->v[i].found || l->v[i].sent_at > now - REPOST_S)
				continue;
			if (used + strlen(l->v[i].reference) + 1 >= sizeof(refs))
				break;
			used += (size_t)snprintf(refs + used, sizeof(refs) - used,
			    "%s%s", used > 0 ? "," : "", l->v[i].reference);
		}
		if (used == 0)
			continue;
		query[0] = "reference_in";
		query[1] = refs;
		query[2] = "pageSize";
		query[3] = "100";
		query[4] = NULL;
		if (!cloud_call(u, CLOUD_DATA, HTTPC_GET, segs, query, NULL,
		    &out, &e)) {
			free(bodies);
			*st = cloud_transient(&e) ? transient(u, e.code,
			    e.message) : fail_run(u, e.code, e.message);
			return 0;
		}
		data = json_object_object_get(out, "data");
		n = json_object_is_type(data, json_type_array) ?
		    json_object_array_length(data) : 0;
		for (j = start; j < i; j++) {
			if (l->v[j].found || l->v[j].sent_at > now - REPOST_S)
				continue;
			for (k = 0; k < n; k++) {
				ref = str_of(json_object_array_get_idx(data, k),
				    "reference");
				if (ref != NULL &&
				    strcmp(ref, l->v[j].reference) == 0)
					break;
			}
			if (k < n)
				continue;	/* queued: wait */
			bodies[nb++] = json_tokener_parse(l->v[j].body);
		}
		json_object_put(out);
	}
	if (nb > 0) {
		log_info("sync %s: %zu postings Blnk has no trace of are sent "
		    "again", u->r.run_id, nb);
		if ((*st = begin(u)) != S_NEXT)
			goto out;
		for (i = 0; i < nb; i++)
			if (!db_posting_resent(u->x->db, u->r.install_id,
			    str_of(bodies[i], "reference"), now)) {
				*st = db_fail(u, "marking a resend");
				goto out;
			}
		if ((*st = save(u)) != S_NEXT ||
		    (*st = post_bodies(u, bodies, nb)) != S_NEXT)
			goto out;
	}
	*st = S_NEXT;
out:
	for (i = 0; i < nb; i++)
		json_object_put(bodies[i]);
	free(bodies);
	return *st == S_NEXT;
}

/* Phase "confirm": read back every posting still "sent". */
static enum step
step_confirm(struct run *u)
{
	struct batches	 bs;
	struct sentlist	 l;
	enum step	 st;
	int64_t		 c, r, waiting = 0;
	size_t		 i, k;

	if (u->confirm_end == 0) {
		u->confirm_end = util_monotonic_ms() +
		    (double)u->x->cf->sync_confirm_timeout * 1000;
		u->confirm_wait = 100;
	}
	memset(&bs, 0, sizeof(bs));
	if (!db_sent_batches(u->x->db, u->r.install_id, 16, batch_name, &bs))
		return db_fail(u, "listing batches");
	for (i = 0; i < bs.n; i++) {
		memset(&l, 0, sizeof(l));
		if (!db_postings_sent(u->x->db, u->r.install_id, bs.v[i],
		    sent_add, &l)) {
			sent_free(&l);
			return db_fail(u, "listing postings");
		}
		if (!read_batch(u, bs.v[i], &l, &st) ||
		    !resend_missing(u, &l, &st)) {
			sent_free(&l);
			return st;
		}
		for (k = 0; k < l.n; k++)
			waiting += !l.v[k].found;
		sent_free(&l);
		if ((st = begin(u)) != S_NEXT)
			return st;
		if (!db_items_settle(u->x->db, u->r.install_id, bs.v[i],
		    u->r.run_id, &c, &r))
			return db_fail(u, "settling items");
		u->r.n[SN_IMPORTED] += c;
		u->r.n[SN_REJECTED] += r;
		if ((st = save(u)) != S_NEXT)
			return st;
		if (u->x->stopping(u->x->arg))
			return S_STOP;
	}
	if (bs.n == 0) {
		snprintf(u->r.phase, sizeof(u->r.phase), "check");
		if ((st = begin(u)) != S_NEXT)
			return st;
		return save(u);
	}
	if (waiting == 0)
		return S_NEXT;		/* more batches, or none left */
	if (util_monotonic_ms() >= u->confirm_end) {
		char	 msg[200];

		snprintf(msg, sizeof(msg), "%lld postings sent to Blnk are not "
		    "applied yet; the next run checks them again",
		    (long long)db_postings_count(u->x->db, u->r.install_id,
		    "sent"));
		return fail_run(u, "CONFIRM_TIMEOUT", msg);
	}
	if (u->x->sleep_ms(u->confirm_wait, u->x->arg))
		return S_STOP;
	u->confirm_wait = u->confirm_wait * 2 > 2000 ? 2000 :
	    u->confirm_wait * 2;
	return S_NEXT;
}

/* --- check ----------------------------------------------------------- */

/* Phase "check": Stripe's balance against Blnk's, per currency. */
static enum step
step_check(struct run *u)
{
	static const char *const segs[] = { "balances", NULL };
	struct json_object	*sums, *out, *data, *row, *arr, *o, *v;
	struct json_object_iterator it, end;
	struct cloud_err	 e;
	enum step		 st;
	const char		*query[6], *cur;
	char			 up[4], text[MONEY_FMTLEN];
	int64_t			 precise, precision, blnk;
	size_t			 i, n;
	int			 found, all;

	if (!stripe_balance(u, &sums, &st))
		return st;
	query[0] = strncmp(u->s.balance[ROLE_STRIPE], "@", 1) == 0 ?
	    "indicator_eq" : "balance_id_eq";
	query[1] = u->s.balance[ROLE_STRIPE];
	query[2] = "pageSize";
	query[3] = "100";
	query[4] = NULL;
	if (!cloud_call(u, CLOUD_DATA, HTTPC_GET, segs, query, NULL, &out,
	    &e)) {
		json_object_put(sums);
		return cloud_transient(&e) ? transient(u, e.code, e.message) :
		    fail_run(u, e.code, e.message);
	}
	data = json_object_object_get(out, "data");
	n = json_object_is_type(data, json_type_array) ?
	    json_object_array_length(data) : 0;
	arr = json_object_new_array();
	all = u->s.import_payins && u->s.import_fees && u->s.import_payouts &&
	    u->s.import_other && strcmp(u->r.kind, "all") == 0;
	it = json_object_iter_begin(sums);
	end = json_object_iter_end(sums);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		cur = json_object_iter_peek_name(&it);
		if (money_upper(cur, up) == NULL)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "currency", json_object_new_string(up));
		json_object_object_add(o, "stripe_minor", json_object_new_int64(
		    json_object_get_int64(json_object_iter_peek_value(&it))));
		blnk = 0;
		found = 0;
		for (i = 0; i < n; i++) {
			row = json_object_array_get_idx(data, i);
			if (str_of(row, "currency") != NULL &&
			    strcmp(str_of(row, "currency"), up) == 0 &&
			    json_object_object_get_ex(row, "balance", &v)) {
				blnk = json_object_get_int64(v);
				found = 1;
			}
		}
		if (money_to_blnk(cur, json_object_get_int64(
		    json_object_iter_peek_value(&it)), &precise, &precision,
		    NULL)) {
			money_format(precise, precision, text, sizeof(text));
			json_object_object_add(o, "stripe",
			    json_object_new_string(text));
			money_format(blnk, precision, text, sizeof(text));
			json_object_object_add(o, "blnk",
			    json_object_new_string(text));
			json_object_object_add(o, "precision",
			    json_object_new_int64(precision));
			json_object_object_add(o, "match",
			    json_object_new_boolean(blnk == -precise));
		} else
			json_object_object_add(o, "match",
			    json_object_new_boolean(0));
		json_object_object_add(o, "blnk_precise",
		    json_object_new_int64(blnk));
		json_object_object_add(o, "blnk_found",
		    json_object_new_boolean(found));
		json_object_object_add(o, "all_kinds_imported",
		    json_object_new_boolean(all));
		json_object_array_add(arr, o);
	}
	json_object_put(out);
	json_object_put(sums);
	free(u->r.balances);
	u->r.balances = json_dup(arr);
	json_object_put(arr);
	snprintf(u->r.phase, sizeof(u->r.phase), "done");
	if ((st = begin(u)) != S_NEXT)
		return st;
	if ((st = save(u)) != S_NEXT)
		return st;
	return S_DONE;
}

/* --- the run --------------------------------------------------------- */

static enum step
step(struct run *u)
{
	const char	*p = u->r.phase;

	if (strcmp(p, "queued") == 0 || strcmp(p, "start") == 0)
		return step_start(u);
	if (strcmp(p, "customers") == 0)
		return step_customers(u);
	if (strcmp(p, "fetch") == 0)
		return step_fetch(u);
	if (strcmp(p, "post") == 0)
		return step_post(u);
	if (strcmp(p, "confirm") == 0)
		return step_confirm(u);
	if (strcmp(p, "check") == 0)
		return step_check(u);
	if (strcmp(p, "done") == 0)
		return S_DONE;
	return fail_run(u, "INTERNAL", "the run is in a phase this version "
	    "does not know");
}

/* End the run as status. */
static void
finish(struct run *u, const char *status)
{
	char	 now[32];

	now_text(now, sizeof(now));
	if (!db_begin(u->x->db))
		return;
	if (db_run_save(u->x->db, &u->r, u->x->owner,
	    now_s() + u->x->cf->sync_lease, now) != 1 || db_run_finish(u->x->db, u->r.run_id, u->x->owner,
	    status, u->code[0] != '\0' ? u->code : NULL,
	    u->msg[0] != '\0' ? u->msg : NULL, now) != 1 ||
	    !db_commit(u->x->db)) {
		db_rollback(u->x->db);
		log_error("sync %s: could not record its end: %s",
		    u->r.run_id, db_errmsg(u->x->db));
		return;
	}
	if (strcmp(status, "completed") == 0)
		log_info("sync %s: completed: %lld found, %lld imported, %lld "
		    "already present, %lld rejected, %lld failed",
		    u->r.run_id, (long long)u->r.n[SN_FOUND],
		    (long long)u->r.n[SN_IMPORTED],
		    (long long)u->r.n[SN_PRESENT],
		    (long long)u->r.n[SN_REJECTED],
		    (long long)u->r.n[SN_FAILED]);
	else
		log_warn("sync %s: failed: %s: %s", u->r.run_id, u->code,
		    u->msg);
}

int
sync_work(struct sync_ctx *x)
{
	struct run	 u;
	char		 now[32];
	enum step	 st;
	int		 rc;

	memset(&u, 0, sizeof(u));
	u.x = x;
	now_text(now, sizeof(now));
	if ((rc = db_run_claim(x->db, x->owner, now_s(),
	    now_s() + x->cf->sync_lease,
	    now, &u.r)) <= 0)
		return rc;
	log_info("sync %s: claimed (%s, attempt %lld, phase %s)", u.r.run_id,
	    u.r.kind, (long long)u.r.attempts, u.r.phase);
	if ((st = setup(&u)) == S_NEXT)
		while ((st = step(&u)) == S_NEXT && !x->stopping(x->arg))
			continue;
	switch (st) {
	case S_NEXT:
	case S_STOP:
		if (db_run_release(x->db, u.r.run_id, x->owner) == 1)
			log_info("sync %s: stopping; the lease is given up for "
			    "the next runner", u.r.run_id);
		break;
	case S_DONE:
		finish(&u, "completed");
		break;
	case S_FAIL:
		finish(&u, "failed");
		break;
	case S_LOST:
		log_warn("sync %s: another runner holds it now; leaving it",
		    u.r.run_id);
		break;
	case S_DBERR:
		break;
	}
	if (u.key != NULL) {
		crypto_wipe(u.key, strlen(u.key));
		free(u.key);
	}
	sync_run_free(&u.r);
	return st == S_DBERR ? -1 : 1;
}

struct sched_ctx {
	struct sync_ctx	*x;
	int		 queued;
	int		 ok;
};

/* Unix time of an RFC 3339 UTC text, or 0. */
static int64_t
parse_time(const char *s)
{
	struct tm	 tm;
	const char	*end;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return 0;
	return (int64_t)timegm(&tm);
}

static int
sched_one(const char *install, int64_t minutes, const char *last, void *arg)
{
	struct sched_ctx	*c = arg;
	unsigned char		 r[12];
	char			 id[40], now[32], active[40];
	size_t			 i;
	int			 rc;

	if (last != NULL && parse_time(last) + minutes * 60 > now_s())
		return 1;
	if (!crypto_random(r, sizeof(r)))
		return 1;
	memcpy(id, "run_", 4);
	for (i = 0; i < sizeof(r); i++)
		snprintf(id + 4 + 2 * i, 3, "%02x", r[i]);
	now_text(now, sizeof(now));
	if (!db_begin(c->x->db)) {
		c->ok = 0;
		return 0;
	}
	rc = db_run_create(c->x->db, id, install, "all", "schedule", now,
	    active);
	if (rc < 0 || (rc == 1 && !db_commit(c->x->db))) {
		db_rollback(c->x->db);
		c->ok = 0;
		return 0;
	}
	if (rc == 0)
		db_rollback(c->x->db);
	else {
		log_info("sync %s: queued by the schedule (every %lld "
		    "minutes)", id, (long long)minutes);
		c->queued++;
	}
	return 1;
}

int
sync_schedule(struct sync_ctx *x)
{
	struct sched_ctx	 c;

	memset(&c, 0, sizeof(c));
	c.x = x;
	c.ok = 1;
	if (!db_schedules(x->db, sched_one, &c) || !c.ok)
		return -1;
	return c.queued;
}
