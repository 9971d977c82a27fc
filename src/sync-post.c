/*
 * sync-post.c: the "post" and "confirm" phases of a sync run (sync.h):
 * new items into postings, stored before they are sent in bulk, and each
 * posting read back from Blnk until it is APPLIED or REJECTED.
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
		*st = run_db_fail(u, "reading a customer");
		return 0;
	}
	if (rc == 0) {
		/* Created after the customers were listed. */
		segs[1] = customer;
		if (!run_stripe(u, segs, NULL, &c, st))
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
	const char	*obj = run_str(ctx, "object"), *charge, *cus;
	size_t		 k;
	int		 rc;

	cus = run_str(ctx, "customer");
	charge = run_str(ctx, "charge");
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
		*st = run_db_fail(u, "reading a charge");
		return 0;
	}
	if (rc == 0) {
		snprintf(bi->party, sizeof(bi->party), "%s",
		    u->s.balance[ROLE_WORLD]);
		bi->charge[0] = '\0';	/* nothing to remember */
	}
	return 1;
}

/*
 * Settle batch's items (NULL: every batch's) whose postings are now all
 * decided, and count them, inside the caller's transaction.  Every
 * transaction that decides a posting settles in it too: an item is never
 * left 'sent' once its last posting is decided, whatever kills the runner
 * in between (a batch with no posting left 'sent' is never read again).
 */
static int
settle(struct run *u, const char *batch)
{
	int64_t	 c, r;

	if (!db_items_settle(u->x->db, u->r.install_id, batch, u->r.run_id,
	    &c, &r))
		return 0;
	u->r.n[SN_IMPORTED] += c;
	u->r.n[SN_REJECTED] += r;
	return 1;
}

/* POST the bodies of batch in bulk (or one by one if the batch is
 * refused).  The postings are stored already: a failure here only means
 * the confirm phase sends them again. */
static enum step
post_bodies(struct run *u, const char *batch, struct json_object **bodies,
    size_t n)
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
		if (run_cloud(u, CLOUD_PROXY, HTTPC_POST, bulk, NULL, req,
		    &out, &e)) {
			json_object_put(out);
			json_object_put(req);
			return S_NEXT;
		}
		if (!run_cloud_transient(&e))
			break;
		if ((st = run_transient(u, e.code, e.message)) != S_NEXT) {
			json_object_put(req);
			return st;
		}
	}
	json_object_put(req);
	if (strcmp(e.code, "CLOUD_KEY_REVOKED") == 0 ||
	    strcmp(e.code, "CLOUD_FORBIDDEN") == 0 ||
	    strcmp(e.code, "APP_UNINSTALLED") == 0)
		return run_fail(u, e.code, e.message);
	/* Core refused the batch as a whole: one by one, so that only the
	 * posting it refuses is held back. */
	log_warn("sync %s: the bulk post was refused (%s: %s); posting one "
	    "by one", u->r.run_id, e.code, e.message);
	for (i = 0; i < n; i++) {
		if (run_cloud(u, CLOUD_PROXY, HTTPC_POST, one, NULL,
		    bodies[i], &out, &e)) {
			json_object_put(out);
			continue;
		}
		if (run_cloud_transient(&e)) {
			if ((st = run_transient(u, e.code, e.message)) != S_NEXT)
				return st;
			i--;
			continue;
		}
		if (strcmp(e.code, "TXN_DUPLICATE_REFERENCE") == 0)
			continue;	/* there already: confirm will see */
		if (strcmp(e.code, "CLOUD_KEY_REVOKED") == 0 ||
		    strcmp(e.code, "CLOUD_FORBIDDEN") == 0 ||
		    strcmp(e.code, "APP_UNINSTALLED") == 0)
			return run_fail(u, e.code, e.message);
		ref = run_str(bodies[i], "reference");
		if ((st = run_begin(u)) != S_NEXT)
			return st;
		if (!db_posting_set(u->x->db, u->r.install_id, ref,
		    "rejected", NULL) ||
		    !run_problem(u, run_str(json_object_object_get(bodies[i],
		    "meta_data"), "stripe_txn"), ref, "BLNK_REFUSED", "Blnk "
		    "refused the posting (%s: %s): check the mapping in the "
		    "settings, then start a new run", e.code, e.message) ||
		    !settle(u, batch))
			return run_db_fail(u, "recording a refusal");
		if ((st = run_save(u)) != S_NEXT)
			return st;
	}
	return S_NEXT;
}

/* Phase "post": the next batch of new items, stored, then posted. */
enum step
step_post(struct run *u)
{
	struct batch		 b;
	struct json_object	*ctx, **bodies = NULL;
	enum step		 st = S_NEXT;
	char			 bid[64], ref[REF_MAX];
	size_t			 i, nb = 0;
	int			 j, rc;
	int64_t			 now = run_now();

	memset(&b, 0, sizeof(b));
	if ((b.v = calloc(BATCH, sizeof(*b.v))) == NULL)
		return run_fail(u, "INTERNAL", "out of memory");
	if (!db_items_new(u->x->db, u->r.install_id, u->r.mode, u->mask, BATCH,
	    batch_add, &b)) {
		batch_free(&b);
		return run_db_fail(u, "listing new items");
	}
	if (b.n == 0) {
		batch_free(&b);
		snprintf(u->r.phase, sizeof(u->r.phase), "confirm");
		if ((st = run_begin(u)) != S_NEXT)
			return st;
		return run_save(u);
	}
	if (!crypto_random_id("b_", bid, sizeof(bid))) {
		batch_free(&b);
		return run_fail(u, "INTERNAL", "no randomness");
	}
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
		return run_fail(u, "INTERNAL", "out of memory");
	}
	if ((st = run_begin(u)) != S_NEXT)
		goto out;
	for (i = 0; i < b.n; i++) {
		struct bitem	*bi = &b.v[i];

		if (bi->fail_code != NULL) {
			syncmap_reference(bi->it.txn_id, "gross", ref);
			if (!db_item_set(u->x->db, u->r.install_id,
			    bi->it.txn_id, "failed", u->r.run_id, bi->why) ||
			    !run_problem(u, bi->it.txn_id, ref, bi->fail_code,
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
	if ((st = run_save(u)) != S_NEXT)
		goto out;
	st = post_bodies(u, bid, bodies, nb);
out:
	free(bodies);
	batch_free(&b);
	return st;
dberr:
	free(bodies);
	batch_free(&b);
	return run_db_fail(u, "storing postings");
}

/* --- confirm --------------------------------------------------------- */

struct sent {
	char			 reference[REF_MAX];
	char			*body;		/* owned */
	int64_t			 sent_at;
	int64_t			 sends;
	int			 decided;	/* applied or rejected now */
	int			 queued;	/* Blnk shows it queued */
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
	l->v[l->n].sends = p->sends;
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

/* Does the _q row hold what the posting's body says (amount, currency)? */
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

/* The posting of l whose reference is ref, not yet decided, or NULL. */
static struct sent *
sent_find(struct sentlist *l, const char *ref)
{
	size_t	 k;

	for (k = 0; k < l->n; k++)
		if (!l->v[k].decided && strcmp(l->v[k].reference, ref) == 0)
			return &l->v[k];
	return NULL;
}

/*
 * Decide posting p from Blnk's outcome row (its <ref>_q), inside the
 * caller's transaction: applied if Blnk applied what was sent, else
 * rejected with a problem that says why and what to do.  1, 0 on a
 * database error.
 */
static int
decide(struct run *u, struct sent *p, struct json_object *row)
{
	struct json_object	*body, *meta;
	const char		*status, *id, *txn, *why;
	int			 ok;

	status = run_str(row, "status");
	id = run_str(row, "transaction_id");
	body = json_tokener_parse(p->body);
	txn = run_str(json_object_object_get(body, "meta_data"), "stripe_txn");
	p->decided = 1;
	u->r.n[SN_CONFIRMED]++;
	if (status != NULL && strcmp(status, "APPLIED") == 0 &&
	    row_matches(row, body))
		ok = db_posting_set(u->x->db, u->r.install_id, p->reference,
		    "applied", id);
	else if (status != NULL && strcmp(status, "APPLIED") == 0)
		ok = db_posting_set(u->x->db, u->r.install_id, p->reference,
		    "rejected", id) && run_problem(u, txn, p->reference,
		    "AMOUNT_MISMATCH", "Blnk holds this reference with another "
		    "amount or currency than the app posted: look at "
		    "transaction %s in Blnk", id != NULL ? id : "?");
	else {
		meta = json_object_object_get(row, "meta_data");
		why = run_str(meta, "blnk_rejection_reason");
		ok = db_posting_set(u->x->db, u->r.install_id, p->reference,
		    "rejected", id) && run_problem(u, txn, p->reference,
		    "REJECTED", "Blnk rejected the posting (%s): fund the "
		    "source balance or allow it to go below zero in the "
		    "settings (overdraft), then post it again from Blnk",
		    why != NULL ? why : (status != NULL ? status :
		    "no status")) &&
		    /* Worth an alert on the transaction, noted once. */
		    alerts_rejected(u->x->db, u->r.install_id, u->r.run_id,
		    &u->s, p->reference, body, why);
	}
	json_object_put(body);
	return ok;
}

/* Decide every posting of l that a page of Blnk's rows (data) has an
 * outcome row for.  1, 0 on a database error. */
static int
decide_rows(struct run *u, struct sentlist *l, struct json_object *data)
{
	struct json_object	*row;
	struct sent		*p;
	const char		*ref;
	char			 base[REF_MAX];
	size_t			 i, n, len;

	n = json_object_is_type(data, json_type_array) ?
	    json_object_array_length(data) : 0;
	for (i = 0; i < n; i++) {
		row = json_object_array_get_idx(data, i);
		if ((ref = run_str(row, "reference")) == NULL ||
		    (len = strlen(ref)) < 3 || len >= REF_MAX ||
		    strcmp(ref + len - 2, "_q") != 0)
			continue;
		memcpy(base, ref, len - 2);
		base[len - 2] = '\0';
		if ((p = sent_find(l, base)) != NULL && !decide(u, p, row))
			return 0;
	}
	return 1;
}

/* GET /data/transactions with query; 1 with *out, or 0 with *st. */
static int
read_rows(struct run *u, const char *const *query, struct json_object **out,
    enum step *st)
{
	static const char *const segs[] = { "transactions", NULL };
	struct cloud_err	 e;
	struct json_object	*data;

	if (!run_cloud(u, CLOUD_DATA, HTTPC_GET, segs, query, NULL, out,
	    &e)) {
		*st = run_cloud_transient(&e) ? run_transient(u, e.code,
		    e.message) : run_fail(u, e.code, e.message);
		return 0;
	}
	if (!json_object_object_get_ex(*out, "data", &data) ||
	    !json_object_is_type(data, json_type_array)) {
		json_object_put(*out);
		*st = run_fail(u, "CLOUD_ERROR", "Blnk Cloud's transaction list "
		    "is not a list");
		return 0;
	}
	return 1;
}

/*
 * Blnk's outcome rows (status not QUEUED) of batch, page by page until a
 * page comes back empty or the total is reached (whatever page size Cloud
 * really serves), decided against the sent postings l.  1, or 0 with *st.
 */
static int
read_batch(struct run *u, const char *batch, struct sentlist *l,
    enum step *st)
{
	struct json_object	*out, *data, *v;
	const char		*query[12];
	char			 pagebuf[24];
	int64_t			 seen = 0, total = -1;
	size_t			 n;
	long			 page;

	for (page = 1; page <= 1000; page++) {
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
		if (!read_rows(u, query, &out, st))
			return 0;
		data = json_object_object_get(out, "data");
		n = json_object_array_length(data);
		if (json_object_object_get_ex(out, "total", &v) &&
		    json_object_is_type(v, json_type_int))
			total = json_object_get_int64(v);
		if ((*st = run_begin(u)) != S_NEXT) {
			json_object_put(out);
			return 0;
		}
		if (!decide_rows(u, l, data) || !settle(u, batch)) {
			json_object_put(out);
			*st = run_db_fail(u, "recording an outcome");
			return 0;
		}
		json_object_put(out);
		if ((*st = run_save(u)) != S_NEXT)
			return 0;
		seen += (int64_t)n;
		if (n == 0 || (total >= 0 && seen >= total))
			return 1;
	}
	return 1;
}

/*
 * The references of l's undecided postings sent more than REPOST_S ago,
 * each with suffix, comma-joined into refs (reference_in takes at most
 * 1000 characters a value), from *next on.  Returns how many went in.
 */
static size_t
ref_chunk(struct sentlist *l, size_t *next, const char *suffix,
    char *refs, size_t refsz)
{
	size_t	 used = 0, n = 0, need;
	int64_t	 now = run_now();

	refs[0] = '\0';
	for (; *next < l->n; (*next)++) {
		struct sent	*p = &l->v[*next];

		if (p->decided || p->queued || p->sent_at > now - REPOST_S)
			continue;
		need = strlen(p->reference) + strlen(suffix) + (used > 0);
		if (used + need >= refsz)
			break;
		used += (size_t)snprintf(refs + used, refsz - used, "%s%s%s",
		    used > 0 ? "," : "", p->reference, suffix);
		n++;
	}
	return n;
}

/*
 * Postings the batch's read did not decide: looked up by reference, as
 * <ref>_q (Blnk may hold them from another batch, a reinstall, a
 * restored database) and then as <ref> (still queued: wait).  What Blnk
 * has no trace of is sent again, up to RESEND_MAX times; then it is
 * given up with a problem that says what to check.  1, or 0 with *st.
 */
static int
resend_missing(struct run *u, const char *batch, struct sentlist *l,
    enum step *st)
{
	struct json_object	*out, *data, **bodies = NULL, *row;
	struct sent		*p;
	const char		*query[6], *ref;
	char			 refs[1001];
	size_t			 next, i, k, n, nb = 0;
	int64_t			 now = run_now();
	int			 pass, gave_up = 0;

	*st = S_NEXT;
	/* Pass 0: the outcome rows; pass 1: the rows still queued. */
	for (pass = 0; pass < 2; pass++)
		for (next = 0; ref_chunk(l, &next, pass == 0 ? "_q" : "", refs,
		    sizeof(refs)) > 0; ) {
			query[0] = "reference_in";
			query[1] = refs;
			query[2] = "pageSize";
			query[3] = "100";
			query[4] = NULL;
			if (!read_rows(u, query, &out, st))
				return 0;
			data = json_object_object_get(out, "data");
			if ((*st = run_begin(u)) != S_NEXT) {
				json_object_put(out);
				return 0;
			}
			if (pass == 0 && (!decide_rows(u, l, data) ||
			    !settle(u, batch))) {
				json_object_put(out);
				*st = run_db_fail(u, "recording an outcome");
				return 0;
			}
			n = json_object_array_length(data);
			for (i = 0; pass == 1 && i < n; i++) {
				row = json_object_array_get_idx(data, i);
				if ((ref = run_str(row, "reference")) != NULL &&
				    (p = sent_find(l, ref)) != NULL)
					p->queued = 1;	/* wait */
			}
			json_object_put(out);
			if ((*st = run_save(u)) != S_NEXT)
				return 0;
		}
	if ((bodies = calloc(l->n + 1, sizeof(*bodies))) == NULL) {
		*st = run_fail(u, "INTERNAL", "out of memory");
		return 0;
	}
	if ((*st = run_begin(u)) != S_NEXT)
		goto out;
	for (k = 0; k < l->n; k++) {
		p = &l->v[k];
		if (p->decided || p->queued || p->sent_at > now - REPOST_S)
			continue;
		if (p->sends >= RESEND_MAX) {
			/* Core drops a post it cannot take without a word
			 * (an unknown balance id, a used reference): after
			 * RESEND_MAX tries, say so instead of trying on. */
			if (!db_posting_set(u->x->db, u->r.install_id,
			    p->reference, "rejected", NULL) ||
			    !run_problem(u, NULL, p->reference, "NEVER_STORED",
			    "Blnk never stored this posting after %d sends: "
			    "check that the balances in the settings' mapping "
			    "exist in Blnk", RESEND_MAX)) {
				*st = run_db_fail(u, "giving a posting up");
				goto out;
			}
			p->decided = 1;
			u->r.n[SN_CONFIRMED]++;
			gave_up = 1;
			continue;
		}
		if (!db_posting_resent(u->x->db, u->r.install_id,
		    p->reference, now)) {
			*st = run_db_fail(u, "marking a resend");
			goto out;
		}
		p->sends++;
		p->sent_at = now;
		bodies[nb++] = json_tokener_parse(p->body);
	}
	if (gave_up && !settle(u, batch)) {
		*st = run_db_fail(u, "giving a posting up");
		goto out;
	}
	if ((*st = run_save(u)) != S_NEXT)
		goto out;
	if (nb > 0) {
		log_info("sync %s: %zu postings Blnk has no trace of are sent "
		    "again", u->r.run_id, nb);
		*st = post_bodies(u, batch, bodies, nb);
	}
out:
	for (i = 0; i < nb; i++)
		json_object_put(bodies[i]);
	free(bodies);
	return *st == S_NEXT;
}

/* Phase "confirm": read back every posting still "sent". */
enum step
step_confirm(struct run *u)
{
	struct batches	 bs;
	struct sentlist	 l;
	enum step	 st;
	int64_t		 waiting = 0;
	size_t		 i, k;

	if (u->confirm_end == 0) {
		u->confirm_end = util_monotonic_ms() +
		    (double)u->x->cf->sync_confirm_timeout * 1000;
		u->confirm_wait = 100;
	}
	memset(&bs, 0, sizeof(bs));
	if (!db_sent_batches(u->x->db, u->r.install_id, 16, batch_name, &bs))
		return run_db_fail(u, "listing batches");
	for (i = 0; i < bs.n; i++) {
		memset(&l, 0, sizeof(l));
		if (!db_postings_sent(u->x->db, u->r.install_id, bs.v[i],
		    sent_add, &l)) {
			sent_free(&l);
			return run_db_fail(u, "listing postings");
		}
		if (!read_batch(u, bs.v[i], &l, &st) ||
		    !resend_missing(u, bs.v[i], &l, &st)) {
			sent_free(&l);
			return st;
		}
		for (k = 0; k < l.n; k++)
			waiting += !l.v[k].decided;
		sent_free(&l);
		if (u->x->stopping(u->x->arg))
			return S_STOP;
	}
	if (bs.n == 0) {
		/* Nothing is 'sent' any more: no item should be either.  One
		 * still is only in a database written by a version that
		 * settled in a transaction of its own (a runner killed
		 * between the two left it so): settled here, counted in
		 * this run. */
		snprintf(u->r.phase, sizeof(u->r.phase), "check");
		if ((st = run_begin(u)) != S_NEXT)
			return st;
		if (!settle(u, NULL))
			return run_db_fail(u, "settling items");
		return run_save(u);
	}
	if (waiting == 0)
		return S_NEXT;		/* more batches, or none left */
	if (util_monotonic_ms() >= u->confirm_end) {
		char	 msg[200];

		snprintf(msg, sizeof(msg), "%lld postings sent to Blnk are not "
		    "applied yet; the next run checks them again",
		    (long long)db_postings_count(u->x->db, u->r.install_id,
		    "sent"));
		return run_fail(u, "CONFIRM_TIMEOUT", msg);
	}
	if (u->x->sleep_ms(u->confirm_wait, u->x->arg))
		return S_STOP;
	u->confirm_wait = u->confirm_wait * 2 > 2000 ? 2000 :
	    u->confirm_wait * 2;
	return S_NEXT;
}
