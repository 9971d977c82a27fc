/*
 * alerts.c: the problems worth a Blnk Cloud alert: noted where they are
 * found (a failed sync, a REJECTED posting), and sent by the job runner.
 * See alerts.h.
 *
 * The sender takes each pending row due now for one try and:
 *   - without alerts:write (the install's granted_permissions): 'unscoped'
 *     at once, no call made: the portal shows the problem;
 *   - resolves the target: a bln_ or txn_ id as it is; an @indicator in
 *     its currency by GET /data/balances?indicator_eq=&currency_eq=; a
 *     posting's reference by GET /data/transactions?reference_in=<ref>_q,
 *     <ref> (the _q row, Blnk's outcome, first); nothing found:
 *     'untargeted', shown by the portal;
 *   - POST /alerts/flag/<id> {title, description}: 'flagged' with the
 *     anomaly id Cloud made.
 * An outage, a 429 or a 5xx is tried again later, 5 s after the first try
 * and twice as long after each one (at most an hour), and ends the flush
 * (the rows after it would fare no better); any other refusal is tried
 * again at that pace too, its error shown.  A 404 from the flag is
 * 'untargeted'.  A try that may have reached
 * Cloud (the target was resolved before) first looks, where alerts:read
 * was granted, for the alert it may have made: Cloud takes no idempotency
 * key, and the same problem must not be flagged twice.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "alerts.h"
#include "cloud.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "money.h"
#include "settings.h"
#include "sync.h"
#include "util.h"
#include "valid.h"

#define FLUSH_MAX	16	/* rows tried in one flush */
#define RETRY_FIRST_S	5
#define RETRY_MAX_S	3600
#define CALLS_PER_TRY	3	/* resolve, look for a flag made, flag */
#define DESC_MAX	1000	/* Cloud's own limit is not documented */

/* --- noting ---------------------------------------------------------- */

/*
 * Copy s into buf as printable ASCII (what Blnk or Stripe wrote goes out
 * to Cloud and into the portal): anything else becomes a space.
 */
static void
clean(char *buf, size_t bufsz, const char *s)
{
	size_t	 i;

	for (i = 0; s != NULL && s[i] != '\0' && i + 1 < bufsz; i++)
		buf[i] = isprint((unsigned char)s[i]) ? s[i] : ' ';
	buf[i] = '\0';
}

/* The settings of install as stored over the defaults (the defaults if
 * they do not parse: an alert is still worth raising). */
static int
load_settings(struct db *db, const char *install, struct settings *s)
{
	struct json_object	*o;
	struct verr		 e;
	char			*json;
	int			 rc;

	settings_default(s);
	if ((rc = db_settings_get(db, install, &json)) < 0)
		return 0;
	if (rc == 0)
		return 1;
	o = json_tokener_parse(json);
	free(json);
	if (o == NULL || !settings_parse(o, s, &e))
		settings_default(s);
	json_object_put(o);
	return 1;
}

/* What to do about a failed run, by its code. */
static const char *
failed_advice(const char *code)
{
	static const struct {
		const char	*prefix;
		const char	*advice;
	} t[] = {
		{ "STRIPE_KEY_", "Open Stripe Sync in Blnk Cloud and connect "
		  "a valid Stripe key (Stripe settings), then start a sync." },
		{ "STRIPE_PERMISSION", "Give the restricted Stripe key read "
		  "access to balance transactions, balance and customers, or "
		  "connect a secret key, then start a sync." },
		{ "STRIPE_NOT_CONNECTED", "Open Stripe Sync in Blnk Cloud and "
		  "connect a Stripe key, then start a sync." },
		{ "STRIPE_", "Stripe was unavailable for longer than the sync "
		  "waits; nothing was lost: start a sync once Stripe answers "
		  "again (a scheduled sync retries by itself)." },
		{ "CLOUD_KEY_REVOKED", "Reinstall Stripe Sync from Blnk "
		  "Cloud: its key is no longer accepted." },
		{ "CLOUD_", "Blnk Cloud was unavailable for longer than the "
		  "sync waits; nothing was lost: start a sync once it answers "
		  "again (a scheduled sync retries by itself)." },
		{ "CONFIRM_TIMEOUT", "Blnk has not applied every posting yet; "
		  "the next sync checks them again. If this goes on, look at "
		  "Blnk's transaction queue." },
		{ "", "Do what the message says, then start a sync from Stripe "
		  "Sync in Blnk Cloud." },
	};
	size_t	 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strncmp(code, t[i].prefix, strlen(t[i].prefix)) == 0)
			break;
	return t[i].advice;
}

struct fail_ctx {
	struct db		*db;
	const char		*install;
	const char		*run_id;
	const char		*target;
	const char		*desc;
	const char		*now;
	int			 n;
	int			 ok;
};

/* One currency's alert of a failed run. */
static int
fail_one(const char *cur, void *arg)
{
	struct fail_ctx	*c = arg;
	char		 key[256], up[4];

	if (money_upper(cur, up) == NULL)
		return 1;
	snprintf(key, sizeof(key), "run_failed:%s:%s", c->run_id, up);
	if (db_alert_note(c->db, c->install, key, c->run_id, "balance",
	    c->target, up, ALERT_TITLE_FAILED, c->desc, c->now) < 0) {
		c->ok = 0;
		return 0;
	}
	c->n++;
	return 1;
}

int
alerts_run_ended(struct db *db, const char *install, const char *run_id,
    const char *mode, const char *status, const char *code, const char *msg)
{
	struct settings	 s;
	struct fail_ctx	 c;
	char		 now[32], key[256], desc[DESC_MAX], ccode[64];
	char		 cmsg[300];
	int		 first;

	util_now_rfc3339(now, sizeof(now));
	if (!db_alert_streak(db, install, run_id, &first))
		return 0;
	if (first < 0)
		return 1;			/* not a sync */
	if (strcmp(status, "completed") == 0)
		return db_alerts_clear(db, install, "run_failed:", now) >= 0;
	/* An uninstall is no problem to flag (and nothing could be). */
	if (first == 0 || code == NULL || strcmp(code, "APP_UNINSTALLED") == 0)
		return 1;
	if (!load_settings(db, install, &s))
		return 0;
	clean(ccode, sizeof(ccode), code);
	clean(cmsg, sizeof(cmsg), msg != NULL ? msg : "");
	snprintf(desc, sizeof(desc), "Stripe Sync could not finish sync run "
	    "%s: %s (%s). What to do: %s This alert is raised once for a run "
	    "of failed syncs; a sync that completes ends it.", run_id,
	    cmsg[0] != '\0' ? cmsg : "no message", ccode,
	    failed_advice(ccode));
	memset(&c, 0, sizeof(c));
	c.db = db;
	c.install = install;
	c.run_id = run_id;
	c.target = s.balance[ROLE_STRIPE];
	c.desc = desc;
	c.now = now;
	c.ok = 1;
	/* A balance id is one balance in one currency. */
	if (strncmp(c.target, "@", 1) == 0 && !db_alert_currencies(db,
	    install, mode != NULL && mode[0] != '\0' ? mode : NULL, fail_one,
	    &c))
		return 0;
	if (!c.ok)
		return 0;
	if (c.n > 0)
		return 1;
	/* Nothing imported yet (or a balance id): one alert, flagged on the
	 * balance id, or shown by the portal. */
	snprintf(key, sizeof(key), "run_failed:%s", run_id);
	return db_alert_note(db, install, key, run_id, "balance", c.target,
	    NULL, ALERT_TITLE_FAILED, desc, now) >= 0;
}

/* The role (the settings' overdraft name) whose balance is bal. */
static const char *
role_of(const struct settings *s, const char *bal)
{
	int	 r;

	for (r = 0; r < ROLE_PAYINS; r++)
		if (strcmp(s->balance[r], bal) == 0)
			return role_names[r];
	return role_names[ROLE_PAYINS];
}

int
alerts_rejected(struct db *db, const char *install, const char *run_id,
    const struct settings *s, const char *reference, struct json_object *body,
    const char *why)
{
	struct json_object	*meta, *v;
	const char		*txn, *type, *src, *dst, *cur;
	char			 now[32], key[256], desc[DESC_MAX];
	char			 amount[MONEY_FMTLEN], reason[200];
	char			 csrc[PARTY_MAX], cdst[PARTY_MAX];
	int64_t			 precise = 0, precision = 0;

	util_now_rfc3339(now, sizeof(now));
	meta = json_object_object_get(body, "meta_data");
	txn = json_object_get_string(json_object_object_get(meta,
	    "stripe_txn"));
	type = json_object_get_string(json_object_object_get(meta,
	    "stripe_type"));
	src = json_object_get_string(json_object_object_get(body, "source"));
	dst = json_object_get_string(json_object_object_get(body,
	    "destination"));
	cur = json_object_get_string(json_object_object_get(body, "currency"));
	if (json_object_object_get_ex(body, "precise_amount", &v))
		precise = json_object_get_int64(v);
	if (json_object_object_get_ex(body, "precision", &v))
		precision = json_object_get_int64(v);
	if (!money_format(precise, precision, amount, sizeof(amount)))
		snprintf(amount, sizeof(amount), "?");
	clean(reason, sizeof(reason), why != NULL ? why : "not given");
	clean(csrc, sizeof(csrc), src != NULL ? src : "?");
	clean(cdst, sizeof(cdst), dst != NULL ? dst : "?");
	/* Cut short, if it must be, rather than not raised. */
	if (snprintf(desc, sizeof(desc), "Blnk rejected the posting %s of "
	    "Stripe balance transaction %s (%s): %s %s from %s to %s. Blnk's "
	    "reason: %s. What to do: fund %s in Blnk, or allow it to go below "
	    "zero (Stripe Sync settings, Overdraft: %s), then post the "
	    "transaction again from Blnk.", reference,
	    txn != NULL ? txn : "?", type != NULL ? type : "?", amount,
	    cur != NULL ? cur : "", csrc, cdst, reason, csrc,
	    s != NULL && src != NULL ? role_of(s, src) : "the source's role") <
	    0 || snprintf(key, sizeof(key), "rejected:%s", reference) >=
	    (int)sizeof(key))
		return 1;	/* no reference is that long (REF_MAX) */
	return db_alert_note(db, install, key, run_id, "transaction",
	    reference, cur, ALERT_TITLE_REJECTED, desc, now) >= 0;
}

/* --- sending --------------------------------------------------------- */

struct due {
	struct alert_flag	*v;
	size_t			 n;
};

static int
due_add(const struct alert_flag *f, void *arg)
{
	struct due	*d = arg;

	d->v[d->n++] = *f;
	return d->n < FLUSH_MAX;
}

/* The wait before the try after attempt number n (1, 2, ...). */
static int64_t
backoff(int64_t n)
{
	int64_t	 s = RETRY_FIRST_S;

	while (--n > 0 && s < RETRY_MAX_S)
		s *= 2;
	return s > RETRY_MAX_S ? RETRY_MAX_S : s;
}

/* Is scope in the JSON array text granted? */
static int
granted(const char *perms, const char *scope)
{
	struct json_object	*a, *it;
	size_t			 i, n;
	int			 yes = 0;

	if (perms == NULL || (a = json_tokener_parse(perms)) == NULL)
		return 0;
	n = json_object_is_type(a, json_type_array) ?
	    json_object_array_length(a) : 0;
	for (i = 0; i < n && !yes; i++) {
		it = json_object_array_get_idx(a, i);
		yes = json_object_is_type(it, json_type_string) &&
		    strcmp(json_object_get_string(it), scope) == 0;
	}
	json_object_put(a);
	return yes;
}

/* Is a failed call worth trying again soon (an outage)? */
static int
transient(const struct cloud_err *e)
{
	return strcmp(e->code, "CLOUD_UNREACHABLE") == 0 ||
	    strcmp(e->code, "CLOUD_TIMEOUT") == 0 ||
	    strcmp(e->code, "CLOUD_RATE_LIMITED") == 0 ||
	    strcmp(e->code, "CLOUD_ERROR") == 0 ||
	    strcmp(e->code, "GEN_RESOURCE_LOCKED") == 0 ||
	    strcmp(e->code, "DATABASE_UNAVAILABLE") == 0 ||
	    e->upstream_status == 429 || e->upstream_status >= 500;
}

/* One try of a row, for one install. */
struct try {
	struct sync_ctx		*x;
	const struct alert_flag	*f;
	char			 instance[130];
	int			 can_read;	/* alerts:read granted */
	char			 target_id[64];
	char			 anomaly[64];
	char			 error[330];	/* code: message */
	const char		*state;		/* the outcome */
	int			 transient;
};

/* A call for the row's install.  1 with *out, or 0 with t->error. */
static int
call(struct try *t, enum cloud_api api, enum httpc_method m,
    const char *const *segs, const char *const *query,
    struct json_object *body, struct json_object **out, struct cloud_err *e)
{
	if (sync_cloud(t->x, t->f->install_id, t->instance, api, m, segs,
	    query, body, out, e))
		return 1;
	snprintf(t->error, sizeof(t->error), "%s: %s", e->code, e->message);
	t->transient = transient(e);
	return 0;
}

/* The "data" rows of a Data API answer (or the answer, if an array). */
static struct json_object *
rows_of(struct json_object *out)
{
	struct json_object	*d;

	if (json_object_is_type(out, json_type_array))
		return out;
	if (json_object_object_get_ex(out, "data", &d) &&
	    json_object_is_type(d, json_type_array))
		return d;
	return NULL;
}

/* String member k of o, or NULL. */
static const char *
str_of(struct json_object *o, const char *k)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/*
 * The Blnk id of the row's target into t->target_id ("" if Blnk has
 * nothing by that name).  1, or 0 when a call failed.
 */
static int
resolve(struct try *t)
{
	static const char *const bsegs[] = { "balances", NULL };
	static const char *const tsegs[] = { "transactions", NULL };
	const struct alert_flag	*f = t->f;
	struct json_object	*out, *rows, *row;
	struct cloud_err	 e;
	const char		*query[8], *id, *ref;
	char			 refs[400];
	size_t			 i, n;
	int			 best = 0, rank;

	t->target_id[0] = '\0';
	if (f->target_id[0] != '\0') {
		snprintf(t->target_id, sizeof(t->target_id), "%s",
		    f->target_id);
		return 1;
	}
	if (strncmp(f->target, strcmp(f->target_type, "balance") == 0 ?
	    "bln_" : "txn_", 4) == 0) {
		snprintf(t->target_id, sizeof(t->target_id), "%s", f->target);
		return 1;
	}
	if (strcmp(f->target_type, "balance") == 0) {
		if (f->target[0] != '@' || f->currency[0] == '\0')
			return 1;
		query[0] = "indicator_eq";
		query[1] = f->target;
		query[2] = "currency_eq";
		query[3] = f->currency;
		query[4] = NULL;
		if (!call(t, CLOUD_DATA, HTTPC_GET, bsegs, query, NULL, &out,
		    &e))
			return 0;
	} else {
		if (snprintf(refs, sizeof(refs), "%s_q,%s", f->target,
		    f->target) >= (int)sizeof(refs))
			return 1;
		query[0] = "reference_in";
		query[1] = refs;
		query[2] = NULL;
		if (!call(t, CLOUD_DATA, HTTPC_GET, tsegs, query, NULL, &out,
		    &e))
			return 0;
	}
	rows = rows_of(out);
	n = rows != NULL ? json_object_array_length(rows) : 0;
	for (i = 0; i < n; i++) {
		row = json_object_array_get_idx(rows, i);
		if (strcmp(f->target_type, "balance") == 0) {
			id = str_of(row, "balance_id");
			/* Only the balance asked for, whatever the filter
			 * did. */
			rank = str_of(row, "indicator") != NULL &&
			    strcmp(str_of(row, "indicator"), f->target) == 0 &&
			    str_of(row, "currency") != NULL &&
			    strcmp(str_of(row, "currency"), f->currency) == 0;
		} else {
			id = str_of(row, "transaction_id");
			ref = str_of(row, "reference");
			/* The _q row is Blnk's outcome (APPLIED or
			 * REJECTED): the one to flag. */
			rank = ref == NULL ? 0 : strcmp(ref, f->target) == 0 ?
			    1 : strlen(ref) == strlen(f->target) + 2 &&
			    strncmp(ref, f->target, strlen(f->target)) == 0 &&
			    strcmp(ref + strlen(f->target), "_q") == 0 ? 2 : 0;
		}
		if (id != NULL && rank > best && strlen(id) <
		    sizeof(t->target_id) && valid_string(FT_REF, id,
		    strlen(id))) {
			snprintf(t->target_id, sizeof(t->target_id), "%s", id);
			best = rank;
		}
	}
	json_object_put(out);
	return 1;
}

/* Does alert a say it is ours: on the target, with our description? */
static int
is_ours(struct json_object *a, const struct try *t)
{
	static const char *const lists[] = { "affected_balances",
	    "affected_transactions", NULL };
	struct json_object	*l, *v;
	const char		*d = str_of(a, "description");
	size_t			 i, j, n;

	if (d == NULL || strcmp(d, t->f->description) != 0)
		return 0;
	for (i = 0; lists[i] != NULL; i++) {
		if (!json_object_object_get_ex(a, lists[i], &l) ||
		    !json_object_is_type(l, json_type_array))
			continue;
		n = json_object_array_length(l);
		for (j = 0; j < n; j++) {
			v = json_object_array_get_idx(l, j);
			if (json_object_is_type(v, json_type_string) &&
			    strcmp(json_object_get_string(v),
			    t->target_id) == 0)
				return 1;
		}
	}
	return 0;
}

/*
 * A try before this one may have flagged the target already, its answer
 * lost: look among the newest alerts.  1 with t->anomaly set or not, 0
 * when the call failed for a reason worth waiting out.
 */
static int
find_made(struct try *t)
{
	static const char *const query[] = { "pageSize", "100", NULL };
	struct json_object	*out, *rows, *a;
	struct cloud_err	 e;
	const char		*id;
	size_t			 i, n;

	t->anomaly[0] = '\0';
	if (!call(t, CLOUD_ALERTS, HTTPC_GET, NULL, query, NULL, &out, &e)) {
		if (t->transient)
			return 0;
		t->error[0] = '\0';	/* not listable here: flag it */
		return 1;
	}
	rows = rows_of(out);
	n = rows != NULL ? json_object_array_length(rows) : 0;
	for (i = 0; i < n; i++) {
		a = json_object_array_get_idx(rows, i);
		if (is_ours(a, t) && (id = str_of(a, "anomaly_id")) != NULL &&
		    strlen(id) < sizeof(t->anomaly)) {
			snprintf(t->anomaly, sizeof(t->anomaly), "%s", id);
			break;
		}
	}
	json_object_put(out);
	t->error[0] = '\0';
	return 1;
}

/* Flag the resolved target.  Fills t->state and the rest. */
static void
flag(struct try *t)
{
	const char		*segs[] = { "flag", t->target_id, NULL };
	struct json_object	*body, *out;
	struct cloud_err	 e;
	const char		*id;

	body = json_object_new_object();
	json_object_object_add(body, "title",
	    json_object_new_string(t->f->title));
	json_object_object_add(body, "description",
	    json_object_new_string(t->f->description));
	if (!call(t, CLOUD_ALERTS, HTTPC_POST, segs, NULL, body, &out, &e)) {
		json_object_put(body);
		/* Blnk has no such entity after all. */
		t->state = e.upstream_status == 404 ? "untargeted" :
		    "pending";
		return;
	}
	json_object_put(body);
	if ((id = str_of(out, "anomaly_id")) != NULL &&
	    strlen(id) < sizeof(t->anomaly))
		snprintf(t->anomaly, sizeof(t->anomaly), "%s", id);
	json_object_put(out);
	t->state = "flagged";
}

/* Store what became of a row: 1, 0 on a database error. */
static int
record(struct sync_ctx *x, const struct alert_flag *f, const char *state,
    const char *target_id, const char *anomaly, const char *error,
    int64_t next_at)
{
	char	 now[32];
	int	 rc;

	util_now_rfc3339(now, sizeof(now));
	if (!db_begin(x->db))
		return 0;
	rc = db_alert_set(x->db, f->install_id, f->key, state,
	    target_id != NULL && target_id[0] != '\0' ? target_id : NULL,
	    anomaly != NULL && anomaly[0] != '\0' ? anomaly : NULL,
	    error != NULL && error[0] != '\0' ? error : NULL, next_at, now);
	if (rc < 0 || !db_commit(x->db)) {
		db_rollback(x->db);
		return 0;
	}
	return 1;
}

/* The calls of one try, into t->state ("pending": try again later). */
static void
attempt(struct try *t)
{
	const struct alert_flag	*f = t->f;

	t->state = "pending";
	if (!resolve(t))
		return;
	if (t->target_id[0] == '\0') {
		t->state = "untargeted";
		return;
	}
	/* A try before this one may have got as far as the flag and made
	 * it, its answer lost, or its runner killed before it recorded the
	 * outcome (the target it resolved then is not stored either). */
	if (f->attempts > 0 && t->can_read) {
		if (!find_made(t))
			return;
		if (t->anomaly[0] != '\0') {
			log_info("alerts: %s was flagged by an earlier "
			    "try (%s)", f->key, t->anomaly);
			t->state = "flagged";
			return;
		}
	}
	flag(t);
}

/*
 * One row: 1 tried (or settled without a call), 2 tried and Cloud is
 * unavailable (the flush stops: the next rows would fare no better), 0
 * skipped, -1 database.
 */
static int
send_one(struct sync_ctx *x, const struct alert_flag *f)
{
	struct install	 in;
	struct try	 t;
	char		 now_text[32];
	int64_t		 now = util_now(), lease;
	int		 rc, scoped;

	if ((rc = db_install_get(x->db, f->install_id, &in)) < 0)
		return -1;
	if (rc == 0)
		return 0;
	memset(&t, 0, sizeof(t));
	t.x = x;
	t.f = f;
	snprintf(t.instance, sizeof(t.instance), "%s", in.instance_id);
	scoped = granted(in.granted_permissions, "alerts:write");
	t.can_read = granted(in.granted_permissions, "alerts:read");
	rc = in.status == INSTALL_ACTIVE;
	install_free(&in);
	if (!rc)
		return 0;
	if (!scoped) {
		log_info("alerts: %s is shown in the portal (the install was "
		    "not granted alerts:write)", f->key);
		return record(x, f, "unscoped", NULL, NULL, NULL, 0) ? 1 : -1;
	}
	if (strcmp(f->target_type, "balance") == 0 && f->target[0] == '@' &&
	    f->currency[0] == '\0')
		return record(x, f, "untargeted", NULL, NULL, NULL, 0) ? 1 : -1;

	/* Taken for the longest its calls can take. */
	lease = (int64_t)CALLS_PER_TRY * (x->cf->cloud_timeout + 1) + 5;
	util_now_rfc3339(now_text, sizeof(now_text));
	if (!db_begin(x->db))
		return -1;
	if ((rc = db_alert_claim(x->db, f->install_id, f->key, now,
	    now + lease, now_text)) < 0 || (rc == 1 && !db_commit(x->db))) {
		db_rollback(x->db);
		return -1;
	}
	if (rc == 0) {
		db_rollback(x->db);
		return 0;		/* another runner has it */
	}

	attempt(&t);
	if (strcmp(t.state, "flagged") == 0)
		log_info("alerts: %s flagged in Blnk Cloud (%s)", f->key,
		    t.anomaly[0] != '\0' ? t.anomaly : "no anomaly id");
	else if (strcmp(t.state, "untargeted") == 0)
		log_info("alerts: %s has nothing in Blnk to flag; the portal "
		    "shows it", f->key);
	else
		log_warn("alerts: %s not flagged yet (%s); trying again in "
		    "%lld s", f->key, t.error, (long long)backoff(f->attempts +
		    1));
	if (!record(x, f, t.state, t.target_id, t.anomaly, t.error,
	    strcmp(t.state, "pending") == 0 ? util_now() +
	    backoff(f->attempts + 1) : 0))
		return -1;
	return strcmp(t.state, "pending") == 0 && t.transient ? 2 : 1;
}

int
alerts_flush(struct sync_ctx *x)
{
	struct due	 d;
	size_t		 i;
	int		 rc, n = 0;

	if ((rc = db_alerts_due_any(x->db, util_now())) <= 0)
		return rc;
	if ((d.v = calloc(FLUSH_MAX, sizeof(*d.v))) == NULL)
		return -1;
	d.n = 0;
	/* Read them all first: no statement stays open across the calls. */
	if (!db_alerts_due(x->db, util_now(), FLUSH_MAX, due_add, &d)) {
		free(d.v);
		return -1;
	}
	for (i = 0; i < d.n && !x->stopping(x->arg); i++) {
		if ((rc = send_one(x, &d.v[i])) < 0) {
			free(d.v);
			return -1;
		}
		n += rc > 0;
		if (rc == 2)
			break;
	}
	free(d.v);
	return n;
}
