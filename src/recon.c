/*
 * recon.c: a reconciliation, a job of the sync queue (sync.c claims it,
 * sets it up and hands each step here).  It proves, item by item, that
 * Blnk holds what Stripe's balance transactions say, and says what does
 * not match.  Its phases, each stored before the next (a killed runner's
 * successor goes on from there):
 *
 *   rc_stripe	Stripe's side: GET /v1/balance_transactions of the period
 *		(created in [from, to), one currency or all) or of what an
 *		automatic payout settled (payout=po_...), 100 a page
 *   rc_blnk	Blnk's side of a period: every transaction under the app's
 *		references ("stripe.%") with an effective date in it, page
 *		by page (the app posts each with Stripe's created time)
 *   rc_lookup	Blnk's side of a payout: the references the import made for
 *		its balance transactions, looked up as <ref> and <ref>_q
 *   rc_balances	Stripe's balance and Blnk's of the mapped balance, now
 *   rc_compare	both sides compared, in one transaction: differences,
 *		totals per currency and per day, alerts noted
 *
 * What is expected of a balance transaction is what the import made of
 * it: the postings it recorded (sync_postings), each checked against
 * Stripe's own amount.  One the import left out on purpose (a kind the
 * settings do not import, one from before the start date, covered by the
 * opening balance) is not expected.  The totals are in Stripe's terms:
 * what each side says the Stripe balance moved by, Blnk's read from the
 * postings' source or destination being the mapped Stripe balance.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "cloud.h"
#include "conf.h"
#include "db.h"
#include "log.h"
#include "money.h"
#include "settings.h"
#include "sync.h"
#include "sync-int.h"
#include "sync-map.h"
#include "util.h"
#include "valid.h"

#define LOOKUP_TXNS	25	/* balance transactions per reference lookup:
				   two legs each, as <ref> and <ref>_q, in the
				   Data API's 100 values of one "in" filter */
#define ALERTS_MAX	25	/* new item differences flagged per
				   reconciliation (the balances always); the
				   rest are on its page and in its CSV */
#define APP_PREFIX	"stripe."
#define OPENING_PREFIX	"stripe.opening."

/* --- loading and saving ---------------------------------------------- */

static enum step
rc_load(struct run *u)
{
	int	 rc;

	if (u->rc_loaded)
		return S_NEXT;
	if ((rc = db_recon_get(u->x->db, u->r.run_id, &u->rc)) < 0)
		return run_db_fail(u, "reading the reconciliation");
	if (rc == 0)
		return run_fail(u, "INTERNAL", "the reconciliation's "
		    "parameters are missing");
	u->rc_loaded = 1;
	return S_NEXT;
}

/* Store the reconciliation with the run (and commit), inside
 * run_begin(). */
static enum step
rc_save(struct run *u, const char *phase)
{
	if (phase != NULL)
		snprintf(u->r.phase, sizeof(u->r.phase), "%s", phase);
	if (!db_recon_save(u->x->db, &u->rc))
		return run_db_fail(u, "saving the reconciliation");
	return run_save(u);
}

/* --- Stripe's side --------------------------------------------------- */

static enum step
rc_stripe(struct run *u)
{
	static const char *const segs[] = { "balance_transactions", NULL };
	struct json_object	*page, *data, *t;
	struct sync_item	 it;
	struct recon_txn	 rt;
	const char		*query[10];
	char			 gte[24], lt[24], before[128], *ctx;
	char			 why[WHY_MAX];
	enum step		 st;
	size_t			 i, n, q = 0;
	int			 more;

	query[q++] = "expand[]";
	query[q++] = "data.source";
	if (strcmp(u->rc.scope, "payout") == 0) {
		query[q++] = "payout";
		query[q++] = u->rc.payout;
	} else {
		snprintf(gte, sizeof(gte), "%" PRId64, u->rc.from);
		snprintf(lt, sizeof(lt), "%" PRId64, u->rc.to);
		query[q++] = "created[gte]";
		query[q++] = gte;
		query[q++] = "created[lt]";
		query[q++] = lt;
		if (u->rc.currency[0] != '\0') {
			query[q++] = "currency";
			query[q++] = u->rc.currency;
		}
	}
	query[q] = NULL;
	if (!run_stripe_page(u, segs, query, &page, &data, &more, &st))
		return st;
	if ((st = run_begin(u)) != S_NEXT) {
		json_object_put(page);
		return st;
	}
	snprintf(before, sizeof(before), "%s", u->r.cursor);
	n = json_object_array_length(data);
	for (i = 0; i < n; i++) {
		t = json_object_array_get_idx(data, i);
		if (!syncmap_item(t, u->r.mode, &it, &ctx, why, sizeof(why))) {
			log_warn("reconciliation %s: a balance transaction "
			    "cannot be read (%s); left out", u->r.run_id, why);
			continue;
		}
		free(ctx);
		rt.txn_id = it.txn_id;
		rt.created = it.created;
		rt.type = it.type;
		rt.kind = it.kind;
		rt.currency = it.currency;
		rt.amount = it.amount;
		rt.fee = it.fee;
		rt.net = it.net;
		if (!db_recon_stripe_add(u->x->db, u->r.run_id, &rt)) {
			json_object_put(page);
			return run_db_fail(u, "storing Stripe's side");
		}
		if (strlen(it.txn_id) < sizeof(u->r.cursor))
			snprintf(u->r.cursor, sizeof(u->r.cursor), "%s",
			    it.txn_id);
		/* A payout's period is the span of what it settled, its
		 * currency theirs. */
		if (strcmp(u->rc.scope, "payout") == 0) {
			if (u->rc.from == 0 || it.created < u->rc.from)
				u->rc.from = it.created;
			if (it.created + 1 > u->rc.to)
				u->rc.to = it.created + 1;
			if (u->rc.currency[0] == '\0' &&
			    strlen(it.currency) == 3)
				snprintf(u->rc.currency, sizeof(u->rc.currency),
				    "%s", it.currency);
		}
		u->rc.n_stripe++;
	}
	json_object_put(page);
	if (more && strcmp(before, u->r.cursor) == 0) {
		db_rollback(u->x->db);
		return run_fail(u, "STRIPE_ERROR", "Stripe answered the same "
		    "page twice; the listing cannot go on");
	}
	if (more)
		return rc_save(u, NULL);
	if (strcmp(u->rc.scope, "payout") == 0 && u->rc.n_stripe == 0) {
		db_rollback(u->x->db);
		return run_fail(u, "PAYOUT_EMPTY", "Stripe lists nothing this "
		    "payout settled (a payout still in transit, or one made "
		    "before Stripe's reconciliation of it)");
	}
	u->r.cursor[0] = '\0';
	return rc_save(u, strcmp(u->rc.scope, "payout") == 0 ? "rc_lookup" :
	    "rc_blnk");
}

/* --- Blnk's side ----------------------------------------------------- */

/* Store the rows of a Data API answer: how many there were in *n. */
static int
store_rows(struct run *u, struct json_object *data, size_t *n)
{
	struct json_object	*row, *v;
	struct recon_row	 b;
	size_t			 i;

	*n = json_object_array_length(data);
	for (i = 0; i < *n; i++) {
		row = json_object_array_get_idx(data, i);
		memset(&b, 0, sizeof(b));
		b.transaction_id = run_str(row, "transaction_id");
		b.reference = run_str(row, "reference");
		/* Only the app's references are its business (should Cloud
		 * ever ignore the filter). */
		if (b.transaction_id == NULL || b.reference == NULL ||
		    strncmp(b.reference, APP_PREFIX, strlen(APP_PREFIX)) != 0) {
			log_warn("reconciliation %s: Blnk sent a transaction "
			    "without its id or the app's reference; left out",
			    u->r.run_id);
			continue;
		}
		/* Anything else missing is shown as it is: an odd row
		 * under the app's references is itself worth a look. */
		if ((b.status = run_str(row, "status")) == NULL)
			b.status = "";
		if ((b.currency = run_str(row, "currency")) == NULL)
			b.currency = "";
		if ((b.source = run_str(row, "source")) == NULL)
			b.source = "";
		if ((b.destination = run_str(row, "destination")) == NULL)
			b.destination = "";
		if ((b.mode = run_str(json_object_object_get(row, "meta_data"),
		    "stripe_mode")) == NULL)
			b.mode = "";
		if (json_object_object_get_ex(row, "precise_amount", &v))
			b.precise_amount = json_object_get_int64(v);
		b.precision = json_object_object_get_ex(row, "precision", &v) ?
		    json_object_get_int64(v) : 1;
		b.effective = util_parse_utc(run_str(row, "effective_date"));
		if (!db_recon_blnk_add(u->x->db, u->r.run_id, &b))
			return 0;
	}
	return 1;
}

/* GET /data/transactions with query: the rows stored, how many in *n,
 * the total Cloud says the filter matches in *total (-1: not said).
 * *got is 0 when nothing was read (S_NEXT then means an outage waited
 * out: the caller tries again, without a transaction to save in). */
static enum step
read_rows(struct run *u, const char *const *query, size_t *n,
    int64_t *total, int *got)
{
	static const char *const segs[] = { "transactions", NULL };
	struct json_object	*out, *data;
	struct cloud_err	 e;
	enum step		 st;

	*n = 0;
	*total = -1;
	*got = 0;
	if (!run_cloud(u, CLOUD_DATA, HTTPC_GET, segs, query, NULL, &out, &e))
		return run_cloud_transient(&e) ? run_transient(u, e.code,
		    e.message) : run_fail(u, e.code, e.message);
	run_calm(u);
	data = json_object_object_get(out, "data");
	if (!json_object_is_type(data, json_type_array)) {
		json_object_put(out);
		return run_fail(u, "CLOUD_ERROR", "Cloud's list of "
		    "transactions has no data array");
	}
	if (json_object_is_type(json_object_object_get(out, "total"),
	    json_type_int))
		*total = json_object_get_int64(json_object_object_get(out,
		    "total"));
	if ((st = run_begin(u)) != S_NEXT) {
		json_object_put(out);
		return st;
	}
	if (!store_rows(u, data, n)) {
		json_object_put(out);
		return run_db_fail(u, "storing Blnk's side");
	}
	json_object_put(out);
	*got = 1;
	return S_NEXT;
}

/* Time t as RFC 3339 UTC. */
static void
utc_text(int64_t t, char *buf, size_t bufsz)
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static enum step
rc_blnk(struct run *u)
{
	const char	*query[16];
	char		 from[32], to[32], page[24];
	enum step	 st;
	int64_t		 total;
	size_t		 q = 0, n;
	int		 got;

	utc_text(u->rc.from, from, sizeof(from));
	utc_text(u->rc.to, to, sizeof(to));
	snprintf(page, sizeof(page), "%" PRId64, u->rc.blnk_page + 1);
	query[q++] = "reference_like";
	query[q++] = "stripe.%";
	query[q++] = "effective_date_gte";
	query[q++] = from;
	query[q++] = "effective_date_lt";
	query[q++] = to;
	/* Every currency, also for one currency's reconciliation: a
	 * posting whose currency was changed in Blnk is found as such. */
	query[q++] = "page";
	query[q++] = page;
	query[q++] = "pageSize";
	query[q++] = "100";
	query[q] = NULL;
	if ((st = read_rows(u, query, &n, &total, &got)) != S_NEXT || !got)
		return st;
	u->rc.blnk_page++;
	/* The end: an empty page, or as many as Cloud says there are. */
	return rc_save(u, n == 0 || (total >= 0 ? (u->rc.blnk_page - 1) *
	    READ_PAGE + (int64_t)n >= total : n < READ_PAGE) ? "rc_pending" :
	    NULL);
}

struct lookup {
	char	*buf;
	size_t	 len, cap;
	char	 last[64];
	int	 txns;
	int	 ok;
};

/* Add ref and ref_q to the lookup's "in" list. */
static int
lookup_ref(const struct recon_txn *t, const char *state, const char *reason,
    const char *ref, const char *leg, void *arg)
{
	struct lookup	*l = arg;
	int		 n;

	(void)state;
	(void)reason;
	(void)leg;
	if (strcmp(l->last, t->txn_id) != 0) {
		snprintf(l->last, sizeof(l->last), "%s", t->txn_id);
		l->txns++;
	}
	if (ref == NULL)
		return 1;
	n = snprintf(l->buf + l->len, l->cap - l->len, "%s%s,%s_q",
	    l->len > 0 ? "," : "", ref, ref);
	if (n < 0 || (size_t)n >= l->cap - l->len) {
		l->ok = 0;
		return 0;
	}
	l->len += (size_t)n;
	return 1;
}

static enum step
rc_lookup(struct run *u)
{
	struct lookup	 l;
	const char	*query[8];
	enum step	 st;
	int64_t		 total;
	size_t		 n;
	int		 got = 1;

	memset(&l, 0, sizeof(l));
	l.ok = 1;
	l.cap = LOOKUP_TXNS * 2 * 2 * (REF_MAX + 3);
	if ((l.buf = malloc(l.cap)) == NULL)
		return run_fail(u, "INTERNAL", "out of memory");
	l.buf[0] = '\0';
	if (!db_recon_stripe_each(u->x->db, u->r.run_id, u->r.install_id,
	    u->rc.blnk_page, LOOKUP_TXNS, lookup_ref, &l) || !l.ok) {
		free(l.buf);
		return run_db_fail(u, "reading Stripe's side");
	}
	if (l.len > 0) {
		query[0] = "reference_in";
		query[1] = l.buf;
		query[2] = "pageSize";
		query[3] = "100";
		query[4] = NULL;
		st = read_rows(u, query, &n, &total, &got);
	} else
		st = run_begin(u);
	free(l.buf);
	if (st != S_NEXT || !got)
		return st;
	u->rc.blnk_page += l.txns;
	return rc_save(u, l.txns < LOOKUP_TXNS ? "rc_pending" : NULL);
}

/* --- what the import has not seen yet -------------------------------- */

/* The stored summary (what the phases gathered so far), or a new object. */
static struct json_object *
summary_load(struct run *u)
{
	struct json_object	*o;

	o = u->rc.summary != NULL ? json_tokener_parse(u->rc.summary) : NULL;
	return json_object_is_type(o, json_type_object) ? o :
	    (json_object_put(o), json_object_new_object());
}

/* Store o (taken) as the summary with the run, going on to phase (NULL:
 * the same again). */
static enum step
summary_save(struct run *u, struct json_object *o, const char *phase)
{
	enum step	 st;

	free(u->rc.summary);
	u->rc.summary = run_json_dup(o);
	json_object_put(o);
	if (u->rc.summary == NULL)
		return run_fail(u, "INTERNAL", "out of memory");
	if ((st = run_begin(u)) != S_NEXT)
		return st;
	if (phase != NULL && strcmp(phase, "rc_balances") == 0)
		u->r.cursor[0] = '\0';
	return rc_save(u, phase);
}

/*
 * Phase "rc_pending": Stripe's balance transactions since the last
 * import's high-water second that the import has not listed yet, summed
 * per currency: the balance check takes them out of Stripe's balance,
 * so that activity since the last sync is not called a difference.
 */
static enum step
rc_pending(struct run *u)
{
	static const char *const segs[] = { "balance_transactions", NULL };
	struct json_object	*page, *data, *t, *o, *sums, *v;
	const char		*query[4], *id, *cur;
	char			 gte[24], before[128];
	enum step		 st;
	int64_t			 hw, start_at, n;
	size_t			 i, len;
	int			 rc, more;

	if ((rc = db_cursor_get(u->x->db, u->r.install_id, u->r.mode, &hw,
	    &start_at)) < 0)
		return run_db_fail(u, "reading the cursor");
	o = summary_load(u);
	if (rc == 0) {
		/* Never imported in this mode: nothing to compare with. */
		json_object_object_add(o, "never_imported",
		    json_object_new_boolean(1));
		return summary_save(u, o, "rc_balances");
	}
	snprintf(gte, sizeof(gte), "%" PRId64, hw);
	query[0] = "created[gte]";
	query[1] = gte;
	query[2] = NULL;
	if (!run_stripe_page(u, segs, query, &page, &data, &more, &st)) {
		json_object_put(o);
		return st;
	}
	if (!json_object_object_get_ex(o, "pending", &sums)) {
		sums = json_object_new_object();
		json_object_object_add(o, "pending", sums);
	}
	n = json_object_get_int64(json_object_object_get(o, "pending_count"));
	snprintf(before, sizeof(before), "%s", u->r.cursor);
	len = json_object_array_length(data);
	for (i = 0; i < len; i++) {
		t = json_object_array_get_idx(data, i);
		if ((id = run_str(t, "id")) == NULL ||
		    (cur = run_str(t, "currency")) == NULL ||
		    strlen(id) >= sizeof(u->r.cursor))
			continue;
		snprintf(u->r.cursor, sizeof(u->r.cursor), "%s", id);
		if ((rc = db_item_known(u->x->db, u->r.install_id, id)) < 0) {
			json_object_put(page);
			json_object_put(o);
			return run_db_fail(u, "reading the import's items");
		}
		if (rc == 1)
			continue;
		v = json_object_object_get(sums, cur);
		json_object_object_add(sums, cur, json_object_new_int64(
		    json_object_get_int64(v) + json_object_get_int64(
		    json_object_object_get(t, "net"))));
		n++;
	}
	json_object_put(page);
	if (more && strcmp(before, u->r.cursor) == 0) {
		json_object_put(o);
		return run_fail(u, "STRIPE_ERROR", "Stripe answered the same "
		    "page twice; the listing cannot go on");
	}
	json_object_object_add(o, "pending_count", json_object_new_int64(n));
	return summary_save(u, o, more ? NULL : "rc_balances");
}

/* --- balances -------------------------------------------------------- */

static enum step
rc_balances(struct run *u)
{
	struct json_object	*sums, *out, *rows, *o, *list, *row, *v;
	enum step		 st;
	size_t			 i, n;

	if (!run_stripe_balance(u, &sums, &st))
		return st;
	if (!run_blnk_balances(u, &out, &rows, &st)) {
		json_object_put(sums);
		return st;
	}
	run_calm(u);
	o = summary_load(u);
	list = json_object_new_array();
	n = json_object_array_length(rows);
	for (i = 0; i < n; i++) {
		row = json_object_array_get_idx(rows, i);
		if (run_str(row, "currency") == NULL ||
		    run_str(row, "balance_id") == NULL)
			continue;
		v = json_object_new_object();
		json_object_object_add(v, "currency", json_object_new_string(
		    run_str(row, "currency")));
		json_object_object_add(v, "balance_id", json_object_new_string(
		    run_str(row, "balance_id")));
		json_object_object_add(v, "balance", json_object_new_int64(
		    json_object_get_int64(json_object_object_get(row,
		    "balance"))));
		json_object_array_add(list, v);
	}
	json_object_object_add(o, "stripe", sums);
	json_object_object_add(o, "blnk", list);
	json_object_put(out);
	return summary_save(u, o, "rc_compare");
}

/* --- comparing ------------------------------------------------------- */

struct brow {
	char		*txn, *ref, *status, *cur, *src, *dst, *mode;
	int64_t		 precise, precision, effective;
	int		 used;
};

/* Per currency and day (day "" for the currency's total), in Stripe's
 * minor unit. */
struct sum {
	char		 cur[4];
	char		 day[11];
	int64_t		 stripe, blnk;
	int64_t		 nstripe, nblnk;
};

struct cmp {
	struct run	*u;
	struct brow	*b;
	size_t		 nb;
	struct sum	*s;
	size_t		 ns, caps;
	struct json_object *bal;	/* rc_balances' {"stripe", "blnk"} */
	int64_t		 start_at, high_water;
	int		 imported;	/* the mode has a cursor */
	int		 ok;
	int		 alerts;
	int64_t		 excluded;	/* left out on purpose */
	int64_t		 pending;	/* newer than the last import */
	int64_t		 other_mode;	/* Blnk rows of the other mode */
	char		 now[32];
	/* The balance transaction being gathered (one callback a posting). */
	int		 have;
	struct sync_item t;
	char		 state[12];
	char		 reason[PROBLEM_MAX];
	char		 refs[2][REF_MAX];
	char		 legs[2][8];
	int		 nlegs;
};

static void
brows_free(struct brow *b, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(b[i].txn);
		free(b[i].ref);
		free(b[i].status);
		free(b[i].cur);
		free(b[i].src);
		free(b[i].dst);
		free(b[i].mode);
	}
	free(b);
}

static int
brow_add(const struct recon_row *r, void *arg)
{
	struct cmp	*c = arg;
	struct brow	*b, *nb;

	if ((c->nb & (c->nb + 1)) == 0 || c->nb == 0) {
		/* grow at 0, 1, 3, 7, ...: doubling */
		if ((nb = realloc(c->b, (c->nb * 2 + 2) * sizeof(*nb))) ==
		    NULL) {
			c->ok = 0;
			return 0;
		}
		c->b = nb;
	}
	b = &c->b[c->nb];
	memset(b, 0, sizeof(*b));
	b->txn = strdup(r->transaction_id);
	b->ref = strdup(r->reference);
	b->status = strdup(r->status);
	b->cur = strdup(r->currency);
	b->src = strdup(r->source);
	b->dst = strdup(r->destination);
	b->mode = strdup(r->mode != NULL ? r->mode : "");
	b->precise = r->precise_amount;
	b->precision = r->precision;
	b->effective = r->effective;
	c->nb++;
	if (b->txn == NULL || b->ref == NULL || b->status == NULL ||
	    b->cur == NULL || b->src == NULL || b->dst == NULL ||
	    b->mode == NULL) {
		c->ok = 0;
		return 0;
	}
	return 1;
}

/* The Blnk row of reference ref (rows are sorted by reference). */
static struct brow *
brow_find(struct cmp *c, const char *ref)
{
	size_t	 lo = 0, hi = c->nb, mid;
	int	 d;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((d = strcmp(c->b[mid].ref, ref)) == 0) {
			while (mid > 0 && strcmp(c->b[mid - 1].ref, ref) == 0)
				mid--;
			return &c->b[mid];
		}
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The day (UTC) of t. */
static void
day_of(int64_t t, char day[11])
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(day, 11, "%Y-%m-%d", &tm);
}

/* Add to the sums of cur on day and on the currency's total. */
static void
sum_add(struct cmp *c, const char *cur, const char *day, int64_t stripe,
    int64_t blnk, int nstripe, int nblnk)
{
	struct sum	*s, *ns;
	char		 up[4];
	const char	*days[2];
	size_t		 i, k;

	if (money_upper(cur, up) == NULL)
		return;
	days[0] = day;
	days[1] = "";
	for (k = 0; k < 2; k++) {
		for (i = c->ns; i > 0; i--)
			if (strcmp(c->s[i - 1].cur, up) == 0 &&
			    strcmp(c->s[i - 1].day, days[k]) == 0)
				break;
		if (i == 0) {
			if (c->ns == c->caps) {
				c->caps = c->caps ? c->caps * 2 : 64;
				if ((ns = realloc(c->s, c->caps *
				    sizeof(*ns))) == NULL) {
					c->ok = 0;
					return;
				}
				c->s = ns;
			}
			s = &c->s[c->ns++];
			memset(s, 0, sizeof(*s));
			snprintf(s->cur, sizeof(s->cur), "%s", up);
			snprintf(s->day, sizeof(s->day), "%s", days[k]);
		} else
			s = &c->s[i - 1];
		s->stripe += stripe;
		s->blnk += blnk;
		s->nstripe += nstripe;
		s->nblnk += nblnk;
	}
}

/* Stripe minor units of cur as the currency's decimal text. */
static void
fmt_minor(const char *cur, int64_t amount, char *buf, size_t bufsz)
{
	int64_t	 precise, precision;

	if (money_to_blnk(cur, amount, &precise, &precision, NULL))
		money_format(precise, precision, buf, bufsz);
	else
		snprintf(buf, bufsz, "%" PRId64, amount);
}

/* The id of the mapped Stripe balance in Blnk for cur (upper case), or
 * NULL. */
static const char *
stripe_balance_id(struct cmp *c, const char *cur)
{
	struct json_object	*list, *row;
	const char		*mapped = c->u->s.balance[ROLE_STRIPE];
	size_t			 i, n;

	if (strncmp(mapped, "@", 1) != 0)
		return mapped;
	list = json_object_object_get(c->bal, "blnk");
	n = json_object_is_type(list, json_type_array) ?
	    json_object_array_length(list) : 0;
	for (i = 0; i < n; i++) {
		row = json_object_array_get_idx(list, i);
		if (run_str(row, "currency") != NULL &&
		    strcasecmp(run_str(row, "currency"), cur) == 0)
			return run_str(row, "balance_id");
	}
	return NULL;
}

/* What an APPLIED row moved the Stripe balance by, in Stripe's minor
 * unit: out of the mapped balance is into Stripe's (the mirror). */
static int64_t
effect_of(struct cmp *c, const struct brow *b)
{
	const char	*id;
	int64_t		 a;

	if (strcmp(b->status, "APPLIED") != 0 ||
	    (id = stripe_balance_id(c, b->cur)) == NULL ||
	    !money_from_blnk(b->cur, b->precise, b->precision, &a, NULL))
		return 0;
	if (strcmp(b->src, id) == 0)
		return a;
	if (strcmp(b->dst, id) == 0)
		return -a;
	return 0;
}

/* Record a difference, and note it for an alert (the first ALERTS_MAX of
 * a reconciliation). */
static void
diff(struct cmp *c, const struct recon_diff *d, const char *target_type,
    const char *target)
{
	struct run	*u = c->u;
	char		 key[256], title[96], desc[1024];
	const char	*id;

	if (!c->ok)
		return;
	if (!db_recon_diff_add(u->x->db, u->r.run_id, d)) {
		c->ok = 0;
		return;
	}
	u->rc.differences++;
	/* The balances (a few, one per currency) always; items up to the
	 * cap of new ones. */
	if (target == NULL || (c->alerts >= ALERTS_MAX &&
	    strcmp(d->kind, "balance") != 0))
		return;
	id = d->stripe_id != NULL ? d->stripe_id : d->reference != NULL ?
	    d->reference : d->currency;
	/*
	 * One problem, one key: a REJECTED posting is the sync's problem
	 * too (one key for both, flagged once whoever saw it first); an
	 * item's by its reference (each leg apart); a balance's by its two
	 * amounts, so that a new discrepancy in a currency is flagged
	 * again, the same one never.
	 */
	if (strcmp(d->kind, "rejected") == 0 && d->reference != NULL)
		snprintf(key, sizeof(key), "rejected:%s", d->reference);
	else if (strcmp(d->kind, "balance") == 0)
		snprintf(key, sizeof(key), "recon:balance:%s:%s:%s",
		    d->currency, d->stripe_amount, d->blnk_amount);
	else
		snprintf(key, sizeof(key), "recon:%s:%s", d->kind,
		    d->reference != NULL ? d->reference : id != NULL ? id : "");
	snprintf(title, sizeof(title), "Stripe reconciliation: %s",
	    strcmp(d->kind, "missing") == 0 ? "missing in Blnk" :
	    strcmp(d->kind, "rejected") == 0 ? "rejected in Blnk" :
	    strcmp(d->kind, "queued") == 0 ? "not applied in Blnk" :
	    strcmp(d->kind, "unknown") == 0 ? "unknown to Stripe" :
	    strcmp(d->kind, "balance") == 0 ? "balances differ" :
	    "amount differs");
	snprintf(desc, sizeof(desc), "%s What to do: %s (reconciliation %s)",
	    d->message, d->action, u->r.run_id);
	switch (db_alert_note(u->x->db, u->r.install_id, key, u->r.run_id,
	    target_type, target, d->currency, title, desc, c->now)) {
	case -1:
		c->ok = 0;
		break;
	case 1:
		c->alerts++;
		break;
	}
}

/* Compare one leg of the gathered transaction with Blnk's rows. */
static void
compare_leg(struct cmp *c, int k, char *day, char *cur, int64_t *blnk_sum,
    int *nblnk)
{
	struct recon_diff	 d;
	struct brow		*q, *o, *out;
	char			 qref[REF_MAX + 2], sa[MONEY_FMTLEN];
	char			 ba[MONEY_FMTLEN], msg[512];
	const char		*ref = c->refs[k];
	int64_t			 want, precise, precision, eff;
	__int128		 l, r;

	want = strcmp(c->legs[k], "fee") == 0 ? -c->t.fee : c->t.amount;
	snprintf(qref, sizeof(qref), "%s_q", ref);
	q = brow_find(c, qref);
	o = brow_find(c, ref);
	if (q != NULL)
		q->used = 1;
	if (o != NULL)
		o->used = 1;
	out = q != NULL ? q : o;
	fmt_minor(c->t.currency, want, sa, sizeof(sa));
	memset(&d, 0, sizeof(d));
	d.currency = cur;
	d.day = day;
	d.stripe_id = c->t.txn_id;
	d.reference = ref;
	d.stripe_amount = sa;
	d.message = msg;
	if (out == NULL) {
		d.kind = "missing";
		snprintf(msg, sizeof(msg), "Stripe's %s %s of %s %s has no "
		    "posting %s in Blnk.", c->t.type, c->t.txn_id, cur, sa,
		    ref);
		/* The import re-sends a posting only while it confirms it;
		 * one it saw APPLIED was removed in Blnk since. */
		d.action = strcmp(c->state, "sent") == 0 || strcmp(c->state,
		    "new") == 0 ? "Run a sync: the import is still confirming "
		    "this posting and sends it again if Blnk has no trace of "
		    "it (its reference makes a double impossible)." :
		    "Blnk had this posting applied and no longer has it: post "
		    "it again in Blnk with the same reference, amount, source "
		    "and destination (the import does not send a confirmed "
		    "posting twice), then reconcile again.";
		diff(c, &d, "balance", c->u->s.balance[ROLE_STRIPE]);
		return;
	}
	d.blnk_id = out->txn;
	eff = effect_of(c, out);
	if (strcmp(out->status, "APPLIED") == 0) {
		*blnk_sum += eff;
		(*nblnk)++;
	}
	if (!money_to_blnk(c->t.currency, want < 0 ? -want : want, &precise,
	    &precision, NULL))
		precise = precision = 0;
	money_format(out->precise, out->precision, ba, sizeof(ba));
	d.blnk_amount = ba;
	if (strcmp(out->status, "REJECTED") == 0) {
		d.kind = "rejected";
		snprintf(msg, sizeof(msg), "Blnk rejected %s (%s %s) for "
		    "Stripe's %s %s.", ref, out->cur, ba, c->t.type,
		    c->t.txn_id);
		d.action = "Blnk refused it, most often for insufficient "
		    "funds: fund the source balance or allow overdraft for "
		    "its role in Settings, then post it again with the "
		    "reference shown.";
		diff(c, &d, "transaction", out->txn);
		return;
	}
	if (strcmp(out->status, "APPLIED") != 0) {
		d.kind = "queued";
		snprintf(msg, sizeof(msg), "Blnk has %s as %s, not applied "
		    "yet.", ref, out->status);
		d.action = "Wait for Blnk's queue and reconcile again; if it "
		    "stays queued, ask Blnk support about the queue.";
		diff(c, &d, NULL, NULL);
		return;
	}
	if (strcasecmp(out->cur, cur) != 0) {
		d.kind = "currency";
		snprintf(msg, sizeof(msg), "Stripe's %s %s is in %s; Blnk's "
		    "%s is in %s.", c->t.type, c->t.txn_id, cur, ref,
		    out->cur);
		d.action = "The posting was changed in Blnk: reverse it and "
		    "post it again with Stripe's currency and amount.";
		diff(c, &d, "transaction", out->txn);
		return;
	}
	l = (__int128)out->precise * precision;
	r = (__int128)precise * out->precision;
	if (l != r || (want != 0 && eff != want)) {
		d.kind = "amount";
		fmt_minor(c->t.currency, eff, ba, sizeof(ba));
		snprintf(msg, sizeof(msg), "Stripe's %s %s moved %s %s; "
		    "Blnk's %s moved %s %s.", c->t.type, c->t.txn_id, cur, sa,
		    ref, cur, ba);
		d.action = "The posting differs from Stripe's amount (or "
		    "direction): reverse it in Blnk and post the difference, "
		    "or correct it, so that it equals Stripe's.";
		diff(c, &d, "transaction", out->txn);
		return;
	}
	c->u->rc.matched++;
}

/* Compare the gathered balance transaction. */
static void
compare_txn(struct cmp *c)
{
	struct recon_diff	 d;
	char			 day[11], cur[4], sa[MONEY_FMTLEN], msg[1024];
	int64_t			 want = 0, blnk = 0;
	unsigned		 bit;
	int			 k, nblnk = 0;

	c->have = 0;
	c->u->rc.n_stripe++;
	if (money_upper(c->t.currency, cur) == NULL)
		snprintf(cur, sizeof(cur), "???");
	day_of(c->t.created, day);
	if (c->nlegs == 0 && c->state[0] == '\0' && (!c->imported ||
	    c->t.created >= c->high_water)) {
		/* Newer than the last import: not due yet, not compared. */
		c->pending++;
		return;
	}
	bit = strcmp(c->t.kind, "payins") == 0 ? KIND_PAYINS :
	    strcmp(c->t.kind, "fees") == 0 ? KIND_FEES :
	    strcmp(c->t.kind, "payouts") == 0 ? KIND_PAYOUTS : KIND_OTHER;
	if (c->nlegs == 0 && (strcmp(c->state, "skipped") == 0 ||
	    c->t.created < c->start_at || !(c->u->mask & bit))) {
		/* Left out on purpose: a kind not imported, or covered by
		 * the opening balance. */
		c->excluded++;
		return;
	}
	for (k = 0; k < c->nlegs; k++)
		want += strcmp(c->legs[k], "fee") == 0 ? -c->t.fee :
		    c->t.amount;
	if (c->nlegs == 0)
		want = c->t.amount - (c->u->s.import_fees ? c->t.fee : 0);
	for (k = 0; k < c->nlegs; k++)
		compare_leg(c, k, day, cur, &blnk, &nblnk);
	sum_add(c, c->t.currency, day, want, blnk, 1, nblnk);
	if (c->nlegs > 0 || want == 0)
		return;
	fmt_minor(c->t.currency, want, sa, sizeof(sa));
	memset(&d, 0, sizeof(d));
	d.kind = "missing";
	d.currency = cur;
	d.day = day;
	d.stripe_id = c->t.txn_id;
	d.stripe_amount = sa;
	d.message = msg;
	if (strcmp(c->state, "failed") == 0) {
		snprintf(msg, sizeof(msg), "Stripe's %s %s (%s %s) could not "
		    "be imported: %s", c->t.type, c->t.txn_id, cur, sa,
		    c->reason[0] != '\0' ? c->reason : "see the sync's "
		    "problems");
		d.action = "Fix what the reason names (a mapping, a currency "
		    "Blnk lacks), then post it by hand or ask for a re-import.";
	} else {
		snprintf(msg, sizeof(msg), "Stripe's %s %s (%s %s) is not in "
		    "Blnk%s.", c->t.type, c->t.txn_id, cur, sa,
		    c->state[0] == '\0' ? " and the import never listed it" :
		    ": the import has not posted it yet");
		d.action = "Run a sync; if it stays missing, report it with "
		    "the Stripe id.";
	}
	diff(c, &d, "balance", c->u->s.balance[ROLE_STRIPE]);
}

/* db_recon_stripe_each(): one call per posting; a new id ends the
 * previous transaction. */
static int
gather(const struct recon_txn *t, const char *state, const char *reason,
    const char *ref, const char *leg, void *arg)
{
	struct cmp	*c = arg;

	if (c->have && strcmp(c->t.txn_id, t->txn_id) != 0)
		compare_txn(c);
	if (!c->ok)
		return 0;
	if (!c->have) {
		memset(&c->t, 0, sizeof(c->t));
		snprintf(c->t.txn_id, sizeof(c->t.txn_id), "%s", t->txn_id);
		snprintf(c->t.type, sizeof(c->t.type), "%s", t->type);
		snprintf(c->t.kind, sizeof(c->t.kind), "%s", t->kind);
		snprintf(c->t.currency, sizeof(c->t.currency), "%s",
		    t->currency);
		c->t.created = t->created;
		c->t.amount = t->amount;
		c->t.fee = t->fee;
		c->t.net = t->net;
		snprintf(c->state, sizeof(c->state), "%s", state != NULL ?
		    state : "");
		snprintf(c->reason, sizeof(c->reason), "%s", reason != NULL ?
		    reason : "");
		c->nlegs = 0;
		c->have = 1;
	}
	if (ref != NULL && leg != NULL && strcmp(leg, "opening") != 0 &&
	    c->nlegs < 2) {
		snprintf(c->refs[c->nlegs], REF_MAX, "%s", ref);
		snprintf(c->legs[c->nlegs], sizeof(c->legs[0]), "%s", leg);
		c->nlegs++;
	}
	return 1;
}

/* What Blnk has under the app's references that Stripe does not. */
static void
compare_unknown(struct cmp *c)
{
	struct recon_diff	 d;
	struct brow		*b, *out, *other;
	char			 base[REF_MAX + 2], txn[REF_MAX], day[11];
	char			 cur[4], ba[MONEY_FMTLEN], msg[512], *dot;
	int64_t			 eff;
	size_t			 i, n;

	for (i = 0; i < c->nb && c->ok; i++) {
		b = &c->b[i];
		if (b->used || strncmp(b->ref, OPENING_PREFIX,
		    strlen(OPENING_PREFIX)) == 0)
			continue;
		/* The queued original and its <ref>_q outcome are one. */
		snprintf(base, sizeof(base), "%s", b->ref);
		n = strlen(base);
		if (n > 2 && strcmp(base + n - 2, "_q") == 0)
			base[n - 2] = '\0';
		snprintf(txn, sizeof(txn), "%s_q", base);
		out = brow_find(c, txn);
		other = brow_find(c, base);
		if (out != NULL)
			out->used = 1;
		if (other != NULL)
			other->used = 1;
		b->used = 1;
		if (out == NULL)
			out = other != NULL ? other : b;
		/* The other Stripe mode's postings (before a switch of the
		 * key) are not this mode's to explain. */
		if (out->mode[0] != '\0' && strcmp(out->mode, c->u->r.mode) !=
		    0) {
			c->other_mode++;
			continue;
		}
		if (c->u->rc.currency[0] != '\0' &&
		    strcasecmp(out->cur, c->u->rc.currency) != 0)
			continue;
		/* stripe.<txn>.<leg>: the id Stripe would know it by, if it
		 * looks like one at all (it comes from whoever posted it:
		 * it must not carry anything into a CSV cell). */
		snprintf(txn, sizeof(txn), "%s", base + strlen(APP_PREFIX));
		if ((dot = strrchr(txn, '.')) != NULL)
			*dot = '\0';
		if (strspn(txn, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
		    "TUVWXYZ0123456789_") != strlen(txn))
			txn[0] = '\0';
		eff = effect_of(c, out);
		day_of(out->effective, day);
		if (money_upper(out->cur, cur) == NULL)
			cur[0] = '\0';
		if (strcmp(out->status, "APPLIED") == 0)
			sum_add(c, out->cur, day, 0, eff, 0, 1);
		c->u->rc.n_blnk++;
		/* Signed as Stripe would see it, when it moves the Stripe
		 * balance at all. */
		if (eff != 0)
			fmt_minor(out->cur, eff, ba, sizeof(ba));
		else
			money_format(out->precise, out->precision, ba,
			    sizeof(ba));
		memset(&d, 0, sizeof(d));
		d.kind = "unknown";
		d.currency = cur[0] != '\0' ? cur : NULL;
		d.day = day;
		d.stripe_id = txn[0] != '\0' ? txn : NULL;
		d.reference = base;
		d.blnk_id = out->txn;
		d.blnk_amount = ba;
		d.message = msg;
		snprintf(msg, sizeof(msg), "Blnk has %s (%s %s, %s) under the "
		    "app's references, but Stripe has no balance transaction "
		    "%s in %s.", base, out->cur, ba, out->status,
		    txn[0] != '\0' ? txn : "for it",
		    strcmp(c->u->rc.scope, "payout") == 0 ? "this payout" :
		    "this period");
		d.action = "Nobody but this app should post under \"stripe.\" "
		    "references: find who posted it (its Blnk id is shown) "
		    "and reverse it in Blnk.";
		diff(c, &d, "transaction", out->txn);
	}
}

/* Compare one currency's balances (cur lower case): Stripe's less what
 * the import has not seen yet, against the mirror of the mapped Stripe
 * balance.  found: Blnk has that balance. */
static void
balance_one(struct cmp *c, struct json_object *arr, const char *cur,
    int64_t stripe, int found, int64_t precise, int comparable)
{
	struct json_object	*o, *pend;
	struct recon_diff	 d;
	char			 up[4], sa[MONEY_FMTLEN], ba[MONEY_FMTLEN];
	char			 msg[512], prefix[64];
	int64_t			 blnk = 0, prec, zero, waiting;
	int			 exact = 1, match;

	if (money_upper(cur, up) == NULL)
		return;
	pend = json_object_object_get(json_object_object_get(c->bal,
	    "pending"), cur);
	waiting = json_object_get_int64(pend);
	stripe -= waiting;
	/* -balance at the precision the import posts this currency with;
	 * one that does not convert back exactly cannot equal Stripe's. */
	if (found)
		exact = money_to_blnk(cur, 0, &zero, &prec, NULL) &&
		    money_from_blnk(cur, -precise, prec, &blnk, NULL);
	match = exact && stripe == blnk;
	fmt_minor(cur, stripe, sa, sizeof(sa));
	if (exact)
		fmt_minor(cur, blnk, ba, sizeof(ba));
	else
		money_format(-precise, 1, ba, sizeof(ba));
	o = json_object_new_object();
	json_object_object_add(o, "currency", json_object_new_string(up));
	json_object_object_add(o, "stripe", json_object_new_string(sa));
	json_object_object_add(o, "blnk", json_object_new_string(ba));
	json_object_object_add(o, "match", json_object_new_boolean(match));
	json_object_object_add(o, "comparable",
	    json_object_new_boolean(comparable));
	json_object_object_add(o, "not_imported_yet",
	    json_object_new_int64(waiting));
	json_object_array_add(arr, o);
	snprintf(prefix, sizeof(prefix), "recon:balance:%s:", up);
	if (match) {
		/* Gone before it was flagged: not worth an alert now. */
		if (db_alerts_clear(c->u->x->db, c->u->r.install_id, prefix,
		    c->now) < 0)
			c->ok = 0;
		return;
	}
	if (!comparable)
		return;
	memset(&d, 0, sizeof(d));
	d.kind = "balance";
	d.currency = up;
	d.stripe_amount = sa;
	d.blnk_amount = ba;
	d.message = msg;
	snprintf(msg, sizeof(msg), "Stripe's %s balance (less what the "
	    "import has not seen yet) is %s; Blnk's %s mirrors %s.", up, sa,
	    c->u->s.balance[ROLE_STRIPE], ba);
	d.action = "The differences listed here explain it, or postings made "
	    "to the Stripe balance by something other than this app (outside "
	    "the period too): find them in Blnk and reverse them.";
	diff(c, &d, "balance", c->u->s.balance[ROLE_STRIPE]);
}

/* Stripe's balance against Blnk's, per currency either side has (or the
 * reconciliation's one), into arr. */
static void
compare_balances(struct cmp *c, struct json_object *arr)
{
	struct json_object	*sums, *list, *row, *v;
	struct json_object_iterator it, end;
	const char		*cur, *rowcur;
	char			 low[4];
	size_t			 i, k, n;
	int			 comparable, found;
	int64_t			 precise;

	sums = json_object_object_get(c->bal, "stripe");
	list = json_object_object_get(c->bal, "blnk");
	n = json_object_is_type(list, json_type_array) ?
	    json_object_array_length(list) : 0;
	/* Only when every kind is imported does the mirror hold all of
	 * Stripe's balance; and only once there was an import. */
	comparable = c->u->s.import_payins && c->u->s.import_fees &&
	    c->u->s.import_payouts && c->u->s.import_other && c->imported;
	it = json_object_iter_begin(sums);
	end = json_object_iter_end(sums);
	for (; !json_object_iter_equal(&it, &end) && c->ok;
	    json_object_iter_next(&it)) {
		cur = json_object_iter_peek_name(&it);
		if (c->u->rc.currency[0] != '\0' &&
		    strcasecmp(c->u->rc.currency, cur) != 0)
			continue;
		found = 0;
		precise = 0;
		for (i = 0; i < n && !found; i++) {
			row = json_object_array_get_idx(list, i);
			if ((rowcur = run_str(row, "currency")) != NULL &&
			    strcasecmp(rowcur, cur) == 0) {
				precise = json_object_get_int64(
				    json_object_object_get(row, "balance"));
				found = 1;
			}
		}
		balance_one(c, arr, cur, json_object_get_int64(
		    json_object_iter_peek_value(&it)), found, precise,
		    comparable);
	}
	/* A currency only Blnk's mirror has: Stripe holds none of it. */
	for (i = 0; i < n && c->ok; i++) {
		row = json_object_array_get_idx(list, i);
		if ((rowcur = run_str(row, "currency")) == NULL ||
		    strlen(rowcur) != 3)
			continue;
		for (k = 0; k < 3; k++)
			low[k] = (char)(rowcur[k] | 0x20);
		low[3] = '\0';
		if (json_object_object_get_ex(sums, low, &v) ||
		    (c->u->rc.currency[0] != '\0' &&
		    strcmp(c->u->rc.currency, low) != 0))
			continue;
		balance_one(c, arr, low, 0, 1, json_object_get_int64(
		    json_object_object_get(row, "balance")), comparable);
	}
}

static int
sum_cmp(const void *a, const void *b)
{
	const struct sum	*x = a, *y = b;
	int			 d;

	if ((d = strcmp(x->cur, y->cur)) != 0)
		return d;
	return strcmp(x->day, y->day);
}

/* The summary: totals, days, balances, what was left out. */
static struct json_object *
summary(struct cmp *c)
{
	struct json_object	*o, *totals, *days, *bal, *e;
	char			 a[MONEY_FMTLEN], b[MONEY_FMTLEN];
	size_t			 i;

	if (c->ns > 1)	/* (c->s is NULL when there are none) */
		qsort(c->s, c->ns, sizeof(*c->s), sum_cmp);
	o = json_object_new_object();
	totals = json_object_new_array();
	days = json_object_new_array();
	for (i = 0; i < c->ns; i++) {
		e = json_object_new_object();
		fmt_minor(c->s[i].cur, c->s[i].stripe, a, sizeof(a));
		fmt_minor(c->s[i].cur, c->s[i].blnk, b, sizeof(b));
		if (c->s[i].day[0] != '\0')
			json_object_object_add(e, "day",
			    json_object_new_string(c->s[i].day));
		json_object_object_add(e, "currency",
		    json_object_new_string(c->s[i].cur));
		json_object_object_add(e, "stripe", json_object_new_string(a));
		json_object_object_add(e, "blnk", json_object_new_string(b));
		json_object_object_add(e, "match",
		    json_object_new_boolean(c->s[i].stripe == c->s[i].blnk));
		if (c->s[i].day[0] == '\0') {
			json_object_object_add(e, "stripe_count",
			    json_object_new_int64(c->s[i].nstripe));
			json_object_object_add(e, "blnk_count",
			    json_object_new_int64(c->s[i].nblnk));
			json_object_array_add(totals, e);
		} else
			json_object_array_add(days, e);
	}
	bal = json_object_new_array();
	compare_balances(c, bal);
	json_object_object_add(o, "totals", totals);
	json_object_object_add(o, "days", days);
	json_object_object_add(o, "balances", bal);
	json_object_object_add(o, "excluded", json_object_new_int64(
	    c->excluded));
	json_object_object_add(o, "pending", json_object_new_int64(
	    c->pending));
	json_object_object_add(o, "other_mode", json_object_new_int64(
	    c->other_mode));
	json_object_object_add(o, "start_at", json_object_new_int64(
	    c->start_at));
	return o;
}

static enum step
rc_compare(struct run *u)
{
	struct cmp		 c;
	struct json_object	*o;
	enum step		 st;
	int64_t			 hw, start_at;
	size_t			 i;
	int			 rc;

	memset(&c, 0, sizeof(c));
	c.u = u;
	c.ok = 1;
	run_now_text(c.now, sizeof(c.now));
	if (u->rc.summary == NULL ||
	    (c.bal = json_tokener_parse(u->rc.summary)) == NULL)
		return run_fail(u, "INTERNAL", "the balances read before the "
		    "comparison are missing");
	if ((rc = db_cursor_get(u->x->db, u->r.install_id, u->r.mode, &hw,
	    &start_at)) < 0) {
		json_object_put(c.bal);
		return run_db_fail(u, "reading the cursor");
	}
	c.start_at = rc == 1 ? start_at : 0;
	c.high_water = rc == 1 ? hw : 0;
	c.imported = rc == 1;
	if ((st = run_begin(u)) != S_NEXT) {
		json_object_put(c.bal);
		return st;
	}
	u->rc.n_stripe = u->rc.n_blnk = u->rc.matched = 0;
	u->rc.differences = 0;
	if (!db_recon_diffs_clear(u->x->db, u->r.run_id) ||
	    !db_recon_blnk_each(u->x->db, u->r.run_id, brow_add, &c) || !c.ok)
		goto dberr;
	if (!db_recon_stripe_each(u->x->db, u->r.run_id, u->r.install_id, 0,
	    -1, gather, &c) || !c.ok)
		goto dberr;
	if (c.have)
		compare_txn(&c);
	/* Every row an expected posting found counts on Blnk's side. */
	for (i = 0; i < c.nb; i++)
		if (c.b[i].used && strcmp(c.b[i].status, "APPLIED") == 0)
			u->rc.n_blnk++;
	compare_unknown(&c);
	if (!c.ok)
		goto dberr;
	o = summary(&c);
	if (!c.ok) {
		json_object_put(o);
		goto dberr;
	}
	free(u->rc.summary);
	u->rc.summary = run_json_dup(o);
	json_object_put(o);
	snprintf(u->rc.result, sizeof(u->rc.result), "%s",
	    u->rc.differences == 0 ? "clean" : "differences");
	brows_free(c.b, c.nb);
	free(c.s);
	json_object_put(c.bal);
	if (u->rc.summary == NULL) {
		db_rollback(u->x->db);
		return run_fail(u, "INTERNAL", "out of memory");
	}
	if ((st = rc_save(u, "done")) != S_NEXT)
		return st;
	log_info("reconciliation %s: %s: %lld Stripe balance transactions, "
	    "%lld Blnk postings, %lld matched, %lld differences",
	    u->r.run_id, u->rc.result, (long long)u->rc.n_stripe,
	    (long long)u->rc.n_blnk, (long long)u->rc.matched,
	    (long long)u->rc.differences);
	return S_DONE;
dberr:
	brows_free(c.b, c.nb);
	free(c.s);
	json_object_put(c.bal);
	return run_db_fail(u, "comparing");
}

/* --- the job --------------------------------------------------------- */

enum step
recon_step(struct run *u)
{
	const char	*p = u->r.phase;
	enum step	 st;

	if ((st = rc_load(u)) != S_NEXT)
		return st;
	if (strcmp(p, "queued") == 0 || strcmp(p, "start") == 0) {
		u->r.cursor[0] = '\0';
		if ((st = run_begin(u)) != S_NEXT)
			return st;
		return rc_save(u, "rc_stripe");
	}
	if (strcmp(p, "rc_stripe") == 0)
		return rc_stripe(u);
	if (strcmp(p, "rc_blnk") == 0)
		return rc_blnk(u);
	if (strcmp(p, "rc_lookup") == 0)
		return rc_lookup(u);
	if (strcmp(p, "rc_pending") == 0)
		return rc_pending(u);
	if (strcmp(p, "rc_balances") == 0)
		return rc_balances(u);
	if (strcmp(p, "rc_compare") == 0)
		return rc_compare(u);
	if (strcmp(p, "done") == 0)
		return S_DONE;
	return run_fail(u, "INTERNAL", "the reconciliation is in a phase "
	    "this version does not know");
}
