/*
 * sync-call.c: the sync engine's plumbing: each step's database
 * transaction with the lease, problems, outages waited out with backoff,
 * and the calls to Stripe and Cloud.  See sync-int.h.
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
#include "sync-int.h"
#include "sync-map.h"
#include "util.h"
#include "valid.h"

int64_t
run_now(void)
{
	return (int64_t)time(NULL);
}

void
run_now_text(char *buf, size_t bufsz)
{
	util_now_rfc3339(buf, bufsz);
}

enum step
run_fail(struct run *u, const char *code, const char *msg)
{
	snprintf(u->code, sizeof(u->code), "%s", code);
	snprintf(u->msg, sizeof(u->msg), "%s", msg);
	return S_FAIL;
}

enum step
run_db_fail(struct run *u, const char *what)
{
	log_error("sync %s: %s: %s", u->r.run_id, what, db_errmsg(u->x->db));
	db_rollback(u->x->db);
	return S_DBERR;
}

/* Save the run (and commit what the caller wrote with it) while the
 * lease is ours; extends it.  Call inside db_begin(). */
enum step
run_save(struct run *u)
{
	char	 now[32];
	int	 rc;

	run_now_text(now, sizeof(now));
	rc = db_run_save(u->x->db, &u->r, u->x->owner,
	    run_now() + u->x->cf->sync_lease, now);
	if (rc < 0)
		return run_db_fail(u, "saving the run");
	if (rc == 0) {
		db_rollback(u->x->db);
		return S_LOST;
	}
	if (!db_commit(u->x->db))
		return run_db_fail(u, "commit");
	return S_NEXT;
}

enum step
run_begin(struct run *u)
{
	if (!db_begin(u->x->db))
		return run_db_fail(u, "begin");
	return S_NEXT;
}

/* The lease renewed, nothing else written. */
enum step
run_renew(struct run *u)
{
	enum step	 st;

	if ((st = run_begin(u)) != S_NEXT)
		return st;
	return run_save(u);
}

/* See sync-int.h. */
int
run_problem(struct run *u, const char *stripe_id, const char *ref,
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
enum step
run_transient(struct run *u, const char *code, const char *msg)
{
	enum step	 st;
	double		 now = util_monotonic_ms();
	uint32_t	 jitter = 0;

	if (u->patience_end == 0) {
		u->patience_end = now + (double)u->x->cf->sync_patience * 1000;
		u->backoff = BACKOFF_FIRST_MS;
	}
	if (now >= u->patience_end)
		return run_fail(u, code, msg);
	log_warn("sync %s: %s (%s); retrying in %ld ms", u->r.run_id, code,
	    msg, u->backoff);
	if ((st = run_renew(u)) != S_NEXT)
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
void
run_calm(struct run *u)
{
	u->patience_end = 0;
}

/*
 * GET from Stripe.  Returns 1 with *out; or 0 with *st the step to return
 * (S_NEXT: an outage waited out, try again).
 */
int
run_stripe(struct run *u, const char *const *segs, const char *const *query,
    struct json_object **out, enum step *st)
{
	struct stripe_err	 e;

	u->x->stripe_calls++;
	if (stripe_get(u->x->stripe, u->key, segs, query, out, &e)) {
		run_calm(u);
		return 1;
	}
	*st = e.retryable ? run_transient(u, e.code, e.message) :
	    run_fail(u, e.code, e.message);
	return 0;
}

/* Is a Cloud failure an outage to wait out? */
int
run_cloud_transient(const struct cloud_err *e)
{
	return strcmp(e->code, "CLOUD_UNREACHABLE") == 0 ||
	    strcmp(e->code, "CLOUD_TIMEOUT") == 0 ||
	    strcmp(e->code, "CLOUD_RATE_LIMITED") == 0 ||
	    strcmp(e->code, "CLOUD_ERROR") == 0 ||
	    strcmp(e->code, "GEN_RESOURCE_LOCKED") == 0 ||
	    e->upstream_status == 429 || e->upstream_status >= 500;
}

/* See sync.h. */
int
sync_cloud(struct sync_ctx *x, const char *install, const char *instance,
    enum cloud_api api, enum httpc_method m, const char *const *segs,
    const char *const *query, struct json_object *body,
    struct json_object **out, struct cloud_err *e)
{
	struct cloud_call	 c;

	memset(&c, 0, sizeof(c));
	c.api = api;
	c.method = m;
	c.segs = segs;
	c.query = query;
	c.body = body;
	x->cloud_calls++;
	return cloud_do(x->cloud, x->db, x->cf, install, instance, &c, out, e);
}

/* A call to Cloud for the run's install.  1 with *out, or 0 with *e. */
int
run_cloud(struct run *u, enum cloud_api api, enum httpc_method m,
    const char *const *segs, const char *const *query,
    struct json_object *body, struct json_object **out, struct cloud_err *e)
{
	if (sync_cloud(u->x, u->r.install_id, u->instance, api, m, segs, query,
	    body, out, e)) {
		run_calm(u);
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
int
run_stripe_balance(struct run *u, struct json_object **sums, enum step *st)
{
	static const char *const segs[] = { "balance", NULL };
	struct json_object	*bal;

	if (!run_stripe(u, segs, NULL, &bal, st))
		return 0;
	if (!balance_sums(bal, sums)) {
		json_object_put(bal);
		*st = run_fail(u, "STRIPE_ERROR", "Stripe's balance answer is "
		    "not a balance");
		return 0;
	}
	json_object_put(bal);
	return 1;
}

char *
run_json_dup(struct json_object *o)
{
	const char	*s = json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN);

	return s != NULL ? strdup(s) : NULL;
}

/* String member k of o, or NULL. */
const char *
run_str(struct json_object *o, const char *k)
{
	struct json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* See sync-int.h. */
int
run_stripe_page(struct run *u, const char *const *segs,
    const char *const *extra, struct json_object **page,
    struct json_object **data, int *more, enum step *st)
{
	const char		*query[16];
	struct json_object	*v;
	size_t			 q = 0, i;

	query[q++] = "limit";
	query[q++] = "100";		/* Stripe's largest page */
	for (i = 0; extra != NULL && extra[i] != NULL && q < 12; i++)
		query[q++] = extra[i];
	if (u->r.cursor[0] != '\0') {
		query[q++] = "starting_after";
		query[q++] = u->r.cursor;
	}
	query[q] = NULL;
	if (!run_stripe(u, segs, query, page, st))
		return 0;
	*more = json_object_object_get_ex(*page, "has_more", &v) &&
	    json_object_get_boolean(v);
	if (!json_object_object_get_ex(*page, "data", data) ||
	    !json_object_is_type(*data, json_type_array) ||
	    (*more && json_object_array_length(*data) == 0)) {
		json_object_put(*page);
		*page = NULL;
		*st = run_fail(u, "STRIPE_ERROR", "Stripe's answer is not a "
		    "list page (or says there is more after an empty page)");
		return 0;
	}
	return 1;
}

int
run_blnk_balances(struct run *u, struct json_object **out,
    struct json_object **rows, enum step *st)
{
	static const char *const segs[] = { "balances", NULL };
	struct cloud_err	 e;
	const char		*query[6];

	query[0] = strncmp(u->s.balance[ROLE_STRIPE], "@", 1) == 0 ?
	    "indicator_eq" : "balance_id_eq";
	query[1] = u->s.balance[ROLE_STRIPE];
	query[2] = "pageSize";
	query[3] = "100";
	query[4] = NULL;
	if (!run_cloud(u, CLOUD_DATA, HTTPC_GET, segs, query, NULL, out,
	    &e)) {
		*st = run_cloud_transient(&e) ? run_transient(u, e.code,
		    e.message) : run_fail(u, e.code, e.message);
		return 0;
	}
	*rows = json_object_object_get(*out, "data");
	if (!json_object_is_type(*rows, json_type_array)) {
		json_object_put(*out);
		*st = run_fail(u, "CLOUD_ERROR", "Cloud's list of "
		    "balances has no data array");
		return 0;
	}
	return 1;
}
