/*
 * sync-map.c: Stripe balance transactions to Blnk postings.  See
 * sync-map.h; the worked example is in README ("Chart of accounts").
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "db.h"
#include "money.h"
#include "settings.h"
#include "sync-map.h"
#include "valid.h"

#define DESC_MAX	200	/* of Stripe's own description, kept */

/* The types of each kind (docs.stripe.com/reports/balance-transaction-types). */
static const char *const payin_types[] = {
	"charge", "payment", "refund", "payment_refund",
	"payment_failure_refund", "payment_reversal", "refund_failure", NULL
};
static const char *const payout_types[] = {
	"payout", "payout_cancel", "payout_failure",
	"payout_minimum_balance_hold", "payout_minimum_balance_release", NULL
};
static const char *const fee_types[] = {
	"stripe_fee", "stripe_fx_fee", "tax_fee", "network_cost", NULL
};

static int
in_list(const char *s, const char *const *list)
{
	size_t	 i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

const char *
syncmap_kind(const char *type, const char *source_object)
{
	if (in_list(type, payin_types))
		return "payins";
	/* A dispute's withdrawal, its fee and a won dispute's return are
	 * "adjustment"s whose source is the dispute: they belong to the
	 * pay-in they dispute. */
	if (strcmp(type, "adjustment") == 0 && source_object != NULL &&
	    strcmp(source_object, "dispute") == 0)
		return "payins";
	if (in_list(type, payout_types))
		return "payouts";
	if (in_list(type, fee_types))
		return "fees";
	return "other";
}

/* Member k of o, if it is of type t; else NULL. */
static struct json_object *
get(struct json_object *o, const char *k, json_type t)
{
	struct json_object	*v;

	if (o == NULL || !json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, t))
		return NULL;
	return v;
}

/* String member k of o if it is a well-formed id (FT_REF), else NULL. */
static const char *
get_id(struct json_object *o, const char *k)
{
	struct json_object	*v = get(o, k, json_type_string);

	if (v == NULL || !valid_string(FT_REF, json_object_get_string(v),
	    (size_t)json_object_get_string_len(v)))
		return NULL;
	return json_object_get_string(v);
}

/* Member k of o as an id whether it is a string or an expanded object. */
static const char *
get_ref(struct json_object *o, const char *k)
{
	struct json_object	*v;

	if ((v = get(o, k, json_type_object)) != NULL)
		return get_id(v, "id");
	return get_id(o, k);
}

/* Copy text member k of o into ctx as name, printable and cut short. */
static void
copy_text(struct json_object *ctx, const char *name, struct json_object *o,
    const char *k)
{
	struct json_object	*v = get(o, k, json_type_string);
	char			 buf[DESC_MAX + 1];
	const char		*s;
	size_t			 i;

	if (v == NULL)
		return;
	s = json_object_get_string(v);
	for (i = 0; s[i] != '\0' && i < DESC_MAX; i++)
		buf[i] = (unsigned char)s[i] >= 0x20 && s[i] != 0x7f ?
		    s[i] : ' ';
	buf[i] = '\0';
	/* Do not cut a UTF-8 sequence in two. */
	while (i > 0 && ((unsigned char)buf[i - 1] & 0xc0) == 0x80 &&
	    s[i] != '\0')
		buf[--i] = '\0';
	if (i > 0 && (unsigned char)buf[i - 1] >= 0xc0 && s[i] != '\0')
		buf[--i] = '\0';
	json_object_object_add(ctx, name, json_object_new_string(buf));
}

static int
fail(char *why, size_t whysz, const char *msg)
{
	snprintf(why, whysz, "%s", msg);
	return 0;
}

/* The fee details, only the members we record. */
static struct json_object *
fee_details(struct json_object *txn)
{
	struct json_object	*arr, *out, *it, *d, *v;
	size_t			 i, n;

	if ((arr = get(txn, "fee_details", json_type_array)) == NULL ||
	    (out = json_object_new_array()) == NULL)
		return NULL;
	n = json_object_array_length(arr);
	for (i = 0; i < n && i < 16; i++) {
		it = json_object_array_get_idx(arr, i);
		if (!json_object_is_type(it, json_type_object) ||
		    (v = get(it, "amount", json_type_int)) == NULL)
			continue;
		d = json_object_new_object();
		json_object_object_add(d, "amount", json_object_get(v));
		copy_text(d, "currency", it, "currency");
		copy_text(d, "type", it, "type");
		json_object_array_add(out, d);
	}
	return out;
}

int
syncmap_item(struct json_object *txn, const char *mode, struct sync_item *it,
    char **ctx, char *why, size_t whysz)
{
	struct json_object	*c, *src, *v, *ch;
	const char		*s, *obj = NULL, *sid = NULL;
	size_t			 len;

	*ctx = NULL;
	memset(it, 0, sizeof(*it));
	if (!json_object_is_type(txn, json_type_object))
		return fail(why, whysz, "not a JSON object");
	if ((s = get_id(txn, "id")) == NULL || strncmp(s, "txn_", 4) != 0 ||
	    strlen(s) >= sizeof(it->txn_id))
		return fail(why, whysz, "no balance transaction id (txn_...)");
	snprintf(it->txn_id, sizeof(it->txn_id), "%s", s);
	snprintf(it->mode, sizeof(it->mode), "%s", mode);
	if ((v = get(txn, "created", json_type_int)) == NULL ||
	    (it->created = json_object_get_int64(v)) < 0)
		return fail(why, whysz, "created is not a unix time");
	if ((v = get(txn, "type", json_type_string)) == NULL ||
	    (len = (size_t)json_object_get_string_len(v)) >= sizeof(it->type) ||
	    !valid_string(FT_WORD, json_object_get_string(v), len))
		return fail(why, whysz, "type is missing or not a word");
	snprintf(it->type, sizeof(it->type), "%s", json_object_get_string(v));
	if ((v = get(txn, "currency", json_type_string)) == NULL ||
	    money_upper(json_object_get_string(v), it->currency) == NULL)
		return fail(why, whysz, "currency is not a three-letter code");
	for (len = 0; it->currency[len] != '\0'; len++)
		it->currency[len] = (char)tolower((unsigned char)
		    it->currency[len]);
	if ((v = get(txn, "amount", json_type_int)) == NULL)
		return fail(why, whysz, "amount is not a whole number");
	it->amount = json_object_get_int64(v);
	if ((v = get(txn, "fee", json_type_int)) == NULL)
		return fail(why, whysz, "fee is not a whole number");
	it->fee = json_object_get_int64(v);
	if ((v = get(txn, "net", json_type_int)) == NULL)
		return fail(why, whysz, "net is not a whole number");
	it->net = json_object_get_int64(v);
	/* json-c clamps what does not fit to the ends of int64. */
	if (it->amount == INT64_MIN || it->amount == INT64_MAX ||
	    it->fee == INT64_MIN || it->fee == INT64_MAX ||
	    it->net == INT64_MIN || it->net == INT64_MAX ||
	    __builtin_sub_overflow(it->amount, it->fee, &(int64_t){ 0 }) ||
	    it->amount - it->fee != it->net)
		return fail(why, whysz, "net is not amount minus fee");

	if ((c = json_object_new_object()) == NULL)
		return fail(why, whysz, "out of memory");
	if ((src = get(txn, "source", json_type_object)) != NULL) {
		sid = get_id(src, "id");
		if ((v = get(src, "object", json_type_string)) != NULL)
			obj = json_object_get_string(v);
	} else
		sid = get_id(txn, "source");
	if (sid != NULL && strlen(sid) < sizeof(it->source)) {
		snprintf(it->source, sizeof(it->source), "%s", sid);
		json_object_object_add(c, "source", json_object_new_string(sid));
	}
	if (obj != NULL && valid_string(FT_WORD, obj, strlen(obj)))
		json_object_object_add(c, "object", json_object_new_string(obj));
	else
		obj = NULL;
	snprintf(it->kind, sizeof(it->kind), "%s", syncmap_kind(it->type, obj));

	if (src != NULL && obj != NULL) {
		if (strcmp(obj, "charge") == 0) {
			if ((s = get_ref(src, "customer")) != NULL)
				json_object_object_add(c, "customer",
				    json_object_new_string(s));
			json_object_object_add(c, "charge",
			    json_object_new_string(it->source));
			if ((s = get_ref(src, "payment_intent")) != NULL)
				json_object_object_add(c, "payment_intent",
				    json_object_new_string(s));
		} else if (strcmp(obj, "refund") == 0 ||
		    strcmp(obj, "dispute") == 0) {
			if ((s = get_ref(src, "charge")) != NULL)
				json_object_object_add(c, "charge",
				    json_object_new_string(s));
			/* A charge expanded within: its customer too. */
			if ((ch = get(src, "charge", json_type_object)) !=
			    NULL && (s = get_ref(ch, "customer")) != NULL)
				json_object_object_add(c, "customer",
				    json_object_new_string(s));
			copy_text(c, "reason", src, "reason");
		} else if (strcmp(obj, "payout") == 0) {
			copy_text(c, "payout_status", src, "status");
			if ((v = get(src, "arrival_date", json_type_int)) !=
			    NULL)
				json_object_object_add(c, "arrival_date",
				    json_object_get(v));
		}
	}
	/* A charge, refund or dispute is in the currency the customer saw
	 * (the presentment currency); the balance transaction in the one
	 * it settled in. */
	if (src != NULL && obj != NULL && (strcmp(obj, "charge") == 0 ||
	    strcmp(obj, "refund") == 0 || strcmp(obj, "dispute") == 0) &&
	    (v = get(src, "amount", json_type_int)) != NULL &&
	    get(src, "currency", json_type_string) != NULL) {
		json_object_object_add(c, "presentment_amount",
		    json_object_get(v));
		copy_text(c, "presentment_currency", src, "currency");
	}
	/* Stripe's float, as Stripe wrote it: recorded, never computed
	 * with (json-c keeps the text a double was parsed from). */
	if ((v = get(txn, "exchange_rate", json_type_double)) != NULL ||
	    (v = get(txn, "exchange_rate", json_type_int)) != NULL)
		json_object_object_add(c, "exchange_rate",
		    json_object_new_string(json_object_get_string(v)));
	copy_text(c, "reporting_category", txn, "reporting_category");
	copy_text(c, "status", txn, "status");
	copy_text(c, "description", txn, "description");
	if ((v = get(txn, "available_on", json_type_int)) != NULL)
		json_object_object_add(c, "available_on", json_object_get(v));
	if ((v = fee_details(txn)) != NULL)
		json_object_object_add(c, "fee_details", v);
	if ((s = json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE)) == NULL ||
	    (*ctx = strdup(s)) == NULL) {
		json_object_put(c);
		return fail(why, whysz, "out of memory");
	}
	json_object_put(c);
	return 1;
}

void
syncmap_opening(const char *mode, const char *currency, int64_t amount,
    int64_t start_at, struct sync_item *it)
{
	memset(it, 0, sizeof(*it));
	snprintf(it->txn_id, sizeof(it->txn_id), "opening.%s.%s", mode,
	    currency);
	snprintf(it->mode, sizeof(it->mode), "%s", mode);
	it->created = start_at > 0 ? start_at - 1 : 0;
	snprintf(it->type, sizeof(it->type), "opening_balance");
	snprintf(it->kind, sizeof(it->kind), "opening");
	snprintf(it->currency, sizeof(it->currency), "%s", currency);
	it->amount = it->net = amount;
	it->fee = 0;
	it->ctx = "{}";
	snprintf(it->state, sizeof(it->state), "new");
}

int
syncmap_reference(const char *txn_id, const char *leg, char *buf)
{
	int	 n;

	n = strcmp(leg, "opening") == 0 ?
	    snprintf(buf, REF_MAX, "stripe.%s", txn_id) :
	    snprintf(buf, REF_MAX, "stripe.%s.%s", txn_id, leg);
	return n > 0 && n < REF_MAX;
}

/* Copy member k of ctx into meta as name, if present. */
static void
meta_copy(struct json_object *meta, const char *name, struct json_object *ctx,
    const char *k)
{
	struct json_object	*v;

	if (ctx != NULL && json_object_object_get_ex(ctx, k, &v) && v != NULL)
		json_object_object_add(meta, name, json_object_get(v));
}

/* The meta_data every posting of it carries. */
static struct json_object *
meta_of(const struct sync_item *it, struct json_object *ctx, const char *leg,
    const char *run_id, const char *batch)
{
	struct json_object	*m, *app;
	char			 cur[4];

	m = json_object_new_object();
	app = json_object_new_object();
	json_object_object_add(app, "posted_from",
	    json_object_new_string("sync"));
	json_object_object_add(app, "run_id", json_object_new_string(run_id));
	json_object_object_add(app, "batch", json_object_new_string(batch));
	json_object_object_add(m, "stripe_sync", app);
	json_object_object_add(m, "stripe_mode",
	    json_object_new_string(it->mode));
	json_object_object_add(m, "stripe_txn",
	    json_object_new_string(it->txn_id));
	json_object_object_add(m, "stripe_leg", json_object_new_string(leg));
	json_object_object_add(m, "stripe_type",
	    json_object_new_string(it->type));
	json_object_object_add(m, "stripe_amount",
	    json_object_new_int64(it->amount));
	json_object_object_add(m, "stripe_fee", json_object_new_int64(it->fee));
	json_object_object_add(m, "stripe_net", json_object_new_int64(it->net));
	if (money_upper(it->currency, cur) != NULL)
		json_object_object_add(m, "stripe_currency",
		    json_object_new_string(it->currency));
	json_object_object_add(m, "stripe_created",
	    json_object_new_int64(it->created));
	meta_copy(m, "stripe_source", ctx, "source");
	meta_copy(m, "stripe_customer", ctx, "customer");
	meta_copy(m, "stripe_charge", ctx, "charge");
	meta_copy(m, "stripe_reporting_category", ctx, "reporting_category");
	meta_copy(m, "stripe_status", ctx, "status");
	meta_copy(m, "stripe_available_on", ctx, "available_on");
	meta_copy(m, "stripe_exchange_rate", ctx, "exchange_rate");
	meta_copy(m, "presentment_amount", ctx, "presentment_amount");
	meta_copy(m, "presentment_currency", ctx, "presentment_currency");
	if (strcmp(it->kind, "payouts") == 0)
		meta_copy(m, "stripe_payout", ctx, "source");
	if (strcmp(leg, "fee") == 0)
		meta_copy(m, "stripe_fee_details", ctx, "fee_details");
	return m;
}

/* RFC 3339 of unix time t. */
static void
rfc3339(int64_t t, char *buf, size_t bufsz)
{
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * One posting of amount (> 0, Stripe's minor unit) from src to dst into
 * *l.  Returns 1, or 0 with why filled.
 */
static int
leg_make(const struct sync_item *it, struct json_object *ctx,
    const char *leg, int64_t amount, const char *src, const char *dst,
    int overdraft, const char *desc, const char *run_id, const char *batch,
    struct leg *l, const char **code, char *why, size_t whysz)
{
	struct json_object	*b;
	enum money_err		 merr;
	int64_t			 precise, precision;
	char			 cur[4], when[32];

	if (!money_to_blnk(it->currency, amount, &precise, &precision,
	    &merr)) {
		*code = merr == MONEY_STRIPE_CURRENCY ||
		    merr == MONEY_UNKNOWN_CURRENCY ? "currency_unsupported" :
		    "amount_not_exact";
		money_message(merr, it->currency, why, whysz);
		return 0;
	}
	if (!syncmap_reference(it->txn_id, leg, l->reference)) {
		*code = "reference_too_long";
		return fail(why, whysz, "the balance transaction id is too "
		    "long for a Blnk reference");
	}
	money_upper(it->currency, cur);
	snprintf(l->leg, sizeof(l->leg), "%s", leg);
	rfc3339(it->created, when, sizeof(when));
	if ((b = json_object_new_object()) == NULL) {
		*code = "internal";
		return fail(why, whysz, "out of memory");
	}
	json_object_object_add(b, "precise_amount",
	    json_object_new_int64(precise));
	json_object_object_add(b, "precision",
	    json_object_new_int64(precision));
	json_object_object_add(b, "currency", json_object_new_string(cur));
	json_object_object_add(b, "source", json_object_new_string(src));
	json_object_object_add(b, "destination", json_object_new_string(dst));
	json_object_object_add(b, "description", json_object_new_string(desc));
	json_object_object_add(b, "reference",
	    json_object_new_string(l->reference));
	json_object_object_add(b, "allow_overdraft",
	    json_object_new_boolean(overdraft));
	json_object_object_add(b, "effective_date",
	    json_object_new_string(when));
	json_object_object_add(b, "meta_data", meta_of(it, ctx, leg, run_id,
	    batch));
	l->body = b;
	return 1;
}

int
syncmap_legs(const struct sync_item *it, struct json_object *ctx,
    const struct settings *s, const char *party, const char *run_id,
    const char *batch, struct leg *legs, int *n, const char **code,
    char *why, size_t whysz)
{
	const char	*stripe = s->balance[ROLE_STRIPE], *other, *srcname;
	enum role	 role;
	char		 desc[320], day[32];
	int64_t		 a;
	int		 i;

	*n = 0;
	*code = NULL;
	if (strcmp(it->kind, "payins") == 0) {
		/* A refund or dispute of a charge from before the start date
		 * goes to the world balance: with the world's overdraft. */
		role = party != NULL && strcmp(party, s->balance[ROLE_WORLD]) ==
		    0 ? ROLE_WORLD : ROLE_PAYINS;
		other = party;
	} else if (strcmp(it->kind, "payouts") == 0) {
		role = ROLE_PAYOUTS;
		other = s->balance[ROLE_PAYOUTS];
	} else if (strcmp(it->kind, "fees") == 0) {
		role = ROLE_FEES;
		other = s->balance[ROLE_FEES];
	} else {
		role = ROLE_WORLD;
		other = s->balance[ROLE_WORLD];
	}
	if (other == NULL || strcmp(other, stripe) == 0) {
		*code = "mapping";
		return fail(why, whysz, "the counterparty is the Stripe "
		    "balance itself: check the mapping");
	}
	srcname = it->source[0] != '\0' ? it->source : it->txn_id;

	if (strcmp(it->kind, "opening") == 0) {
		/* The date alone: strftime into a buffer too small for the
		 * whole timestamp leaves it undefined. */
		rfc3339(it->created + 1, day, sizeof(day));
		day[10] = '\0';
		snprintf(desc, sizeof(desc), "Opening balance of the Stripe "
		    "%s account before %s (%s)", it->mode, day, it->currency);
	} else
		snprintf(desc, sizeof(desc), "Stripe %s %s", it->type,
		    srcname);
	if (it->amount != 0) {
		a = it->amount > 0 ? it->amount : -it->amount;
		if (!leg_make(it, ctx, strcmp(it->kind, "opening") == 0 ?
		    "opening" : "gross", a,
		    it->amount > 0 ? stripe : other,
		    it->amount > 0 ? other : stripe,
		    s->overdraft[it->amount > 0 ? ROLE_STRIPE : role], desc,
		    run_id, batch, &legs[*n], code, why, whysz))
			goto fail;
		(*n)++;
	}
	if (it->fee != 0 && s->import_fees) {
		snprintf(desc, sizeof(desc), "Stripe fees on %s %s", it->type,
		    srcname);
		a = it->fee > 0 ? it->fee : -it->fee;
		if (!leg_make(it, ctx, "fee", a,
		    it->fee > 0 ? s->balance[ROLE_FEES] : stripe,
		    it->fee > 0 ? stripe : s->balance[ROLE_FEES],
		    s->overdraft[it->fee > 0 ? ROLE_FEES : ROLE_STRIPE], desc,
		    run_id, batch, &legs[*n], code, why, whysz))
			goto fail;
		(*n)++;
	}
	return 1;
fail:
	for (i = 0; i < *n; i++)
		json_object_put(legs[i].body);
	*n = 0;
	return 0;
}
