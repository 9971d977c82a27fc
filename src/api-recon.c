/*
 * api-recon.c: reconciliations from the portal.
 *
 *   POST /api/v1/reconciliations	data:read	{from?, to?, currency?}
 *					(UTC days, to inclusive; default
 *					the last 30 days) or {payout}:
 *					queues one for stripe-syncd: 202
 *   GET  /api/v1/reconciliations	data:read	?status=&page=&page_size=
 *					the history, with the four counts
 *   GET  /api/v1/reconciliations/<id>	data:read	one: totals, days,
 *					balances, every difference;
 *					?format=csv: the differences as CSV
 *
 * A reconciliation only reads Stripe and Blnk (and records locally what
 * it found), so data:read is the scope it needs.  Like a sync it is a job
 * of stripe-syncd: a request only reads or writes the database.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "crypto.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "money.h"
#include "query.h"
#include "util.h"
#include "valid.h"

#define DAY		86400
#define SPAN_DAYS_MAX	366
#define DEFAULT_DAYS	30
#define DIFFS_MAX	1000	/* differences in the JSON answer; the CSV
				   has them all */

enum { RF_FROM, RF_TO, RF_CURRENCY, RF_PAYOUT, RF__MAX };
static const struct field recon_fields[RF__MAX] = {
	[RF_FROM] = { "from", FT_WORD, 0 },
	[RF_TO] = { "to", FT_WORD, 0 },
	[RF_CURRENCY] = { "currency", FT_WORD, 0 },
	[RF_PAYOUT] = { "payout", FT_REF, 0 },
};

/* Add k: v (a string, or null for "" and NULL) to o. */
static void
add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v != NULL && v[0] != '\0' ?
	    json_object_new_string(v) : NULL);
}

/* Unix seconds of the UTC day "YYYY-MM-DD", or -1 if it is not one. */
static int64_t
parse_day(const char *s)
{
	struct tm	 tm, back;
	time_t		 t;
	const char	*end;

	if (strlen(s) != 10)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL || *end != '\0')
		return -1;
	back = tm;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	/* timegm() makes 2026-02-30 the 2nd of March: not a day. */
	if (back.tm_mday != tm.tm_mday || back.tm_mon != tm.tm_mon)
		return -1;
	return (int64_t)t;
}

/* The UTC day of t into buf[11]. */
static void
day_text(int64_t t, char *buf)
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(buf, 11, "%Y-%m-%d", &tm);
}

static int
diff_one(const struct recon_diff *d, void *arg)
{
	struct json_object	*arr = arg, *o = json_object_new_object();

	add_str(o, "kind", d->kind);
	add_str(o, "currency", d->currency);
	add_str(o, "day", d->day);
	add_str(o, "stripe_id", d->stripe_id);
	add_str(o, "reference", d->reference);
	add_str(o, "blnk_id", d->blnk_id);
	add_str(o, "stripe_amount", d->stripe_amount);
	add_str(o, "blnk_amount", d->blnk_amount);
	add_str(o, "message", d->message);
	add_str(o, "action", d->action);
	json_object_array_add(arr, o);
	return 1;
}

/* The reconciliation as the portal shows it; detail adds the days and
 * the differences. */
static struct json_object *
recon_json(struct app *app, const struct sync_run *r, const struct recon *c,
    int detail)
{
	struct json_object	*o, *n, *err, *sum, *v, *diffs;
	char			 day[11];

	o = json_object_new_object();
	add_str(o, "id", r->run_id);
	add_str(o, "status", r->status);
	add_str(o, "phase", r->phase);
	add_str(o, "trigger", r->trigger);
	add_str(o, "mode", r->mode);
	add_str(o, "scope", c->scope);
	if (c->to > c->from) {
		day_text(c->from, day);
		add_str(o, "from", day);
		day_text(c->to - 1, day);
		add_str(o, "to", day);
	} else {
		add_str(o, "from", NULL);
		add_str(o, "to", NULL);
	}
	if (c->currency[0] != '\0') {
		char	 up[4];

		add_str(o, "currency", money_upper(c->currency, up));
	} else
		add_str(o, "currency", NULL);
	add_str(o, "payout", c->payout);
	json_object_object_add(o, "attempts",
	    json_object_new_int64(r->attempts));
	add_str(o, "created_at", r->created_at);
	add_str(o, "started_at", r->started_at);
	add_str(o, "finished_at", r->finished_at);
	if (r->error_code[0] != '\0') {
		err = json_object_new_object();
		add_str(err, "code", r->error_code);
		add_str(err, "message", r->error_message);
		json_object_object_add(o, "error", err);
	} else
		json_object_object_add(o, "error", NULL);
	add_str(o, "result", c->result);
	n = json_object_new_object();
	json_object_object_add(n, "stripe", json_object_new_int64(c->n_stripe));
	json_object_object_add(n, "blnk", json_object_new_int64(c->n_blnk));
	json_object_object_add(n, "matched", json_object_new_int64(c->matched));
	json_object_object_add(n, "differences",
	    json_object_new_int64(c->differences));
	json_object_object_add(o, "counts", n);
	/* The summary holds the totals once compared (before that, what
	 * the job read on its way). */
	sum = c->result[0] != '\0' && c->summary != NULL ?
	    json_tokener_parse(c->summary) : NULL;
	json_object_object_add(o, "totals", sum != NULL &&
	    json_object_object_get_ex(sum, "totals", &v) ?
	    json_object_get(v) : json_object_new_array());
	json_object_object_add(o, "balances", sum != NULL &&
	    json_object_object_get_ex(sum, "balances", &v) ?
	    json_object_get(v) : json_object_new_array());
	/* Left out on purpose (kinds not imported, before the start
	 * date), newer than the last import (not compared yet), and Blnk
	 * postings of the other Stripe mode. */
	json_object_object_add(o, "excluded", json_object_new_int64(
	    sum != NULL ? json_object_get_int64(json_object_object_get(sum,
	    "excluded")) : 0));
	json_object_object_add(o, "pending", json_object_new_int64(
	    sum != NULL ? json_object_get_int64(json_object_object_get(sum,
	    "pending")) : 0));
	json_object_object_add(o, "other_mode", json_object_new_int64(
	    sum != NULL ? json_object_get_int64(json_object_object_get(sum,
	    "other_mode")) : 0));
	if (detail) {
		json_object_object_add(o, "days", sum != NULL &&
		    json_object_object_get_ex(sum, "days", &v) ?
		    json_object_get(v) : json_object_new_array());
		diffs = json_object_new_array();
		if (!db_recon_diffs(app->db, r->run_id, 0, DIFFS_MAX, diff_one,
		    diffs)) {
			json_object_put(diffs);
			json_object_put(sum);
			json_object_put(o);
			return NULL;
		}
		json_object_object_add(o, "differences", diffs);
		json_object_object_add(o, "differences_total",
		    json_object_new_int64(c->differences));
	}
	json_object_put(sum);
	return o;
}

/* Check the body and fill the scope; 0 with resp filled. */
static int
recon_params(const struct fieldval *f, struct resp *resp, const char **scope,
    int64_t *from, int64_t *to, char *cur, const char **payout)
{
	const struct currency	*cc;
	int64_t			 today = util_now() / DAY * DAY;
	size_t			 i;

	*scope = "period";
	*payout = NULL;
	cur[0] = '\0';
	if (f[RF_PAYOUT].present) {
		if (f[RF_FROM].present || f[RF_TO].present ||
		    f[RF_CURRENCY].present) {
			resp_error(resp, 400, "INVALID_FIELD", "payout", "a "
			    "payout's reconciliation covers what it settled: "
			    "give payout alone, or from, to and currency");
			return 0;
		}
		if (strncmp(f[RF_PAYOUT].s, "po_", 3) != 0 ||
		    f[RF_PAYOUT].len < 4 || f[RF_PAYOUT].len > 63 ||
		    strspn(f[RF_PAYOUT].s + 3, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") !=
		    f[RF_PAYOUT].len - 3) {
			resp_error(resp, 400, "INVALID_FIELD", "payout", "must "
			    "be a Stripe payout id (po_ then letters and "
			    "digits)");
			return 0;
		}
		*scope = "payout";
		*payout = f[RF_PAYOUT].s;
		*from = *to = 0;
		return 1;
	}
	*to = today + DAY;
	if (f[RF_TO].present && (*to = parse_day(f[RF_TO].s)) < 0) {
		resp_error(resp, 400, "INVALID_FIELD", "to", "must be a day, "
		    "YYYY-MM-DD (UTC)");
		return 0;
	} else if (f[RF_TO].present)
		*to += DAY;		/* to the end of that day */
	if (*to > today + DAY) {
		resp_error(resp, 400, "INVALID_FIELD", "to", "is in the "
		    "future");
		return 0;
	}
	*from = *to - DEFAULT_DAYS * DAY;
	if (f[RF_FROM].present && (*from = parse_day(f[RF_FROM].s)) < 0) {
		resp_error(resp, 400, "INVALID_FIELD", "from", "must be a day, "
		    "YYYY-MM-DD (UTC)");
		return 0;
	}
	if (*from >= *to) {
		resp_error(resp, 400, "INVALID_FIELD", "from", "must not be "
		    "after to");
		return 0;
	}
	if (*to - *from > SPAN_DAYS_MAX * DAY) {
		resp_error(resp, 400, "INVALID_FIELD", "from", "a period is at "
		    "most 366 days");
		return 0;
	}
	if (f[RF_CURRENCY].present) {
		if (f[RF_CURRENCY].len != 3 || (cc = money_currency(
		    f[RF_CURRENCY].s)) == NULL || !(cc->flags & CUR_STRIPE)) {
			resp_error(resp, 400, "INVALID_FIELD", "currency",
			    "must be a three-letter currency Stripe settles "
			    "in (usd, eur, ...)");
			return 0;
		}
		for (i = 0; i < 3; i++)
			cur[i] = (char)(cc->code[i] - 'A' + 'a');
		cur[3] = '\0';
	}
	return 1;
}

void
api_recon_create(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	struct json_object	*in, *o;
	struct fieldval		 f[RF__MAX];
	struct verr		 e;
	struct stripe_conn	 sc;
	struct sync_run		 r;
	struct recon		 rc;
	const char		*id = c->s.tok.install_id, *scope, *payout;
	char			 run_id[40], active[40], now[32], msg[160];
	char			 cur[4];
	int64_t			 from, to;
	int			 n;

	if ((in = api_body(req, resp, recon_fields, RF__MAX, f)) == NULL)
		return;
	memset(&e, 0, sizeof(e));
	if (!valid_known_fields(in, recon_fields, RF__MAX, &e)) {
		json_object_put(in);
		resp_error(resp, e.status, e.code, e.field, e.message);
		return;
	}
	if (!recon_params(f, resp, &scope, &from, &to, cur, &payout)) {
		json_object_put(in);
		return;
	}
	if ((n = db_stripe_get(app->db, id, &sc)) <= 0) {
		json_object_put(in);
		if (n < 0)
			api_db_error(app, resp, "reading the connection");
		else
			resp_error(resp, 409, "STRIPE_NOT_CONNECTED", NULL,
			    "connect a Stripe key first");
		return;
	}
	if (!crypto_random_id("rec_", run_id, sizeof(run_id))) {
		json_object_put(in);
		resp_error(resp, 500, "INTERNAL", NULL, "no randomness");
		return;
	}
	util_now_rfc3339(now, sizeof(now));
	if (!db_begin(app->db)) {
		json_object_put(in);
		api_db_error(app, resp, "begin");
		return;
	}
	n = db_recon_create(app->db, run_id, id, "portal", scope, from, to,
	    cur[0] != '\0' ? cur : NULL, payout, now, active);
	json_object_put(in);
	if (n < 0 || (n == 1 && !db_commit(app->db))) {
		api_db_error(app, resp, "queueing the reconciliation");
		return;
	}
	if (n == 0) {
		db_rollback(app->db);
		snprintf(msg, sizeof(msg), "a sync or reconciliation is queued "
		    "or running (%s): try again when it ends", active);
		resp_error(resp, 409, "JOB_IN_PROGRESS", NULL, msg);
		return;
	}
	log_info("reconciliation: %s queued (%s)", run_id, scope);
	if (db_run_get(app->db, run_id, id, &r) != 1 ||
	    db_recon_get(app->db, run_id, &rc) != 1) {
		sync_run_free(&r);
		api_db_error(app, resp, "reading the reconciliation");
		return;
	}
	o = recon_json(app, &r, &rc, 0);
	sync_run_free(&r);
	recon_free(&rc);
	if (o == NULL) {
		api_db_error(app, resp, "reading the reconciliation");
		return;
	}
	resp_json(resp, 202, o);
}

struct list_ctx {
	struct app		*app;
	struct json_object	*data;
};

static int
list_one(const struct sync_run *r, const struct recon *c, void *arg)
{
	struct list_ctx		*l = arg;
	struct json_object	*o;

	if ((o = recon_json(l->app, r, c, 0)) == NULL)
		return 0;
	json_object_array_add(l->data, o);
	return 1;
}

void
api_recon_list(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	struct list_ctx		 l;
	const char		*status;
	int64_t			 n[4];
	long			 page, size;

	if (!api_history_query(req, resp, &status, &page, &size))
		return;
	l.app = app;
	l.data = json_object_new_array();
	if (l.data == NULL ||
	    !db_run_counts(app->db, c->s.tok.install_id, "reconcile", n) ||
	    !db_recon_list(app->db, c->s.tok.install_id, status, size,
	    (page - 1) * size, list_one, &l)) {
		json_object_put(l.data);
		api_db_error(app, resp, "listing reconciliations");
		return;
	}
	resp_json(resp, 200, api_history_json(l.data, n, page, size));
}

/* --- CSV ------------------------------------------------------------- */

#define CSV_HEADER	"kind,currency,day,stripe_id,reference,blnk_id," \
	"stripe_amount,blnk_amount,message,action\r\n"

struct csv {
	char	*buf;
	size_t	 len, cap;
	int	 ok;
};

static void
csv_put(struct csv *v, const char *s, size_t n)
{
	char	*nb;
	size_t	 cap;

	if (!v->ok)
		return;
	if (v->len + n + 1 > v->cap) {
		cap = v->cap ? v->cap : 4096;
		while (cap < v->len + n + 1)
			cap *= 2;
		if ((nb = realloc(v->buf, cap)) == NULL) {
			v->ok = 0;
			return;
		}
		v->buf = nb;
		v->cap = cap;
	}
	memcpy(v->buf + v->len, s, n);
	v->len += n;
	v->buf[v->len] = '\0';
}

/* Is s a plain decimal amount ("-12.00", "7")? */
static int
csv_amount(const char *s)
{
	size_t	 n;

	if (*s == '-')
		s++;
	if ((n = strspn(s, "0123456789")) == 0)
		return 0;
	s += n;
	if (*s == '.') {
		s++;
		if ((n = strspn(s, "0123456789")) == 0)
			return 0;
		s += n;
	}
	return *s == '\0';
}

/*
 * One field, RFC 4180: quoted when it holds a comma, a quote or a line
 * break, quotes doubled.  A field a spreadsheet could run as a formula
 * (=, +, -, @, a tab or a carriage return first) gets a leading quote
 * mark inside the quotes, unless it is a plain amount such as "-12.00".
 */
static void
csv_field(struct csv *v, const char *s, int last)
{
	const char	*p;
	int		 formula;

	if (s == NULL)
		s = "";
	formula = s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL &&
	    !csv_amount(s);
	if (formula || strpbrk(s, ",\"\r\n") != NULL) {
		csv_put(v, "\"", 1);
		if (formula)
			csv_put(v, "'", 1);
		for (p = s; *p != '\0'; p++) {
			csv_put(v, p, 1);
			if (*p == '"')
				csv_put(v, "\"", 1);
		}
		csv_put(v, "\"", 1);
	} else
		csv_put(v, s, strlen(s));
	csv_put(v, last ? "\r\n" : ",", last ? 2 : 1);
}

static int
csv_row(const struct recon_diff *d, void *arg)
{
	struct csv	*v = arg;

	csv_field(v, d->kind, 0);
	csv_field(v, d->currency, 0);
	csv_field(v, d->day, 0);
	csv_field(v, d->stripe_id, 0);
	csv_field(v, d->reference, 0);
	csv_field(v, d->blnk_id, 0);
	csv_field(v, d->stripe_amount, 0);
	csv_field(v, d->blnk_amount, 0);
	csv_field(v, d->message, 0);
	csv_field(v, d->action, 1);
	return v->ok;
}

static void
recon_csv(struct app *app, const struct sync_run *r, struct resp *resp)
{
	struct csv	 v;

	memset(&v, 0, sizeof(v));
	v.ok = 1;
	csv_put(&v, CSV_HEADER, strlen(CSV_HEADER));
	if (!db_recon_diffs(app->db, r->run_id, 0, -1, csv_row, &v) ||
	    !v.ok) {
		free(v.buf);
		api_db_error(app, resp, "reading the differences");
		return;
	}
	resp->status = 200;
	resp->body = v.buf;
	resp->content_type = "text/csv; charset=utf-8";
	snprintf(resp->filename, sizeof(resp->filename), "%s.csv", r->run_id);
}

void
api_recon_get(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	struct json_object	*o;
	struct sync_run		 r;
	struct recon		 rc;
	struct query		 q;
	struct verr		 e;
	const char		*fmt;
	int			 csv = 0, n;
	size_t			 i;

	memset(&e, 0, sizeof(e));
	if (!query_parse(req->query, &q, &e)) {
		resp_error(resp, e.status, e.code, e.field, e.message);
		return;
	}
	for (i = 0; i < q.n; i++)
		if (strcmp(q.p[i].key, "format") != 0) {
			query_free(&q);
			resp_error(resp, 400, "INVALID_QUERY", "query", "only "
			    "format is accepted");
			return;
		}
	if ((fmt = query_get(&q, "format")) != NULL) {
		if (strcmp(fmt, "csv") != 0 && strcmp(fmt, "json") != 0) {
			query_free(&q);
			resp_error(resp, 400, "INVALID_QUERY", "format", "must "
			    "be json or csv");
			return;
		}
		csv = strcmp(fmt, "csv") == 0;
	}
	query_free(&q);
	if ((n = db_job_get(app->db, c->id, c->s.tok.install_id, "reconcile",
	    &r)) < 0) {
		api_db_error(app, resp, "reading the reconciliation");
		return;
	}
	if (n == 0) {
		resp_error(resp, 404, "NOT_FOUND", "id", "no such "
		    "reconciliation for this install");
		return;
	}
	if ((n = db_recon_get(app->db, r.run_id, &rc)) != 1) {
		sync_run_free(&r);
		api_db_error(app, resp, "reading the reconciliation");
		return;
	}
	if (csv)
		recon_csv(app, &r, resp);
	else if ((o = recon_json(app, &r, &rc, 1)) == NULL)
		api_db_error(app, resp, "reading the differences");
	else
		resp_json(resp, 200, o);
	sync_run_free(&r);
	recon_free(&rc);
}
