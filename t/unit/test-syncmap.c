/*
 * test-syncmap.c: the chart of accounts, table by table: a Stripe balance
 * transaction in, the Blnk postings out (src/sync-map.c).  The first rows
 * are README's worked example: one charge, its fee, a partial refund and
 * the payout that settles it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "db.h"
#include "settings.h"
#include "sync-map.h"
#include "tap.h"

/*
 * The postings of one balance transaction as one line:
 * "leg:source>destination:precise_amount/precision:overdraft;..." or
 * "FAIL:<code>" or "BAD:<why>" (not readable).
 */
static void
summary(const char *json, const struct settings *s, const char *party,
    char *out, size_t outsz)
{
	struct json_object	*txn, *ctx, *b, *v;
	struct sync_item	 it;
	struct leg		 legs[2];
	const char		*code;
	char			*ctxs, why[256], part[1024];
	int			 n, i;

	out[0] = '\0';
	if ((txn = json_tokener_parse(json)) == NULL) {
		snprintf(out, outsz, "BAD:json");
		return;
	}
	if (!syncmap_item(txn, "test", &it, &ctxs, why, sizeof(why))) {
		snprintf(out, outsz, "BAD:%s", why);
		json_object_put(txn);
		return;
	}
	json_object_put(txn);
	ctx = json_tokener_parse(ctxs);
	it.ctx = ctxs;
	if (!syncmap_legs(&it, ctx, s, party, "run_x", "b_x", legs, &n, &code, why,
	    sizeof(why))) {
		snprintf(out, outsz, "FAIL:%s", code);
		goto done;
	}
	for (i = 0; i < n; i++) {
		b = legs[i].body;
		snprintf(part, sizeof(part), "%s%s:%s>%s:%" PRId64 "/%" PRId64
		    ":%s", i > 0 ? ";" : "", legs[i].leg,
		    json_object_get_string(json_object_object_get(b, "source")),
		    json_object_get_string(json_object_object_get(b,
		    "destination")),
		    json_object_get_int64(json_object_object_get(b,
		    "precise_amount")),
		    json_object_get_int64(json_object_object_get(b,
		    "precision")),
		    json_object_get_boolean(json_object_object_get(b,
		    "allow_overdraft")) ? "od" : "no");
		strncat(out, part, outsz - strlen(out) - 1);
		/* Every posting names its reference, currency and mode. */
		v = json_object_object_get(b, "meta_data");
		if (strcmp(json_object_get_string(json_object_object_get(b,
		    "reference")), legs[i].reference) != 0 ||
		    strcmp(json_object_get_string(json_object_object_get(v,
		    "stripe_mode")), "test") != 0 ||
		    json_object_object_get(b, "description") == NULL)
			strncat(out, "!meta", outsz - strlen(out) - 1);
		json_object_put(b);
	}
done:
	json_object_put(ctx);
	free(ctxs);
}

/* One balance transaction of Stripe's list, as JSON text into buf. */
static const char *
txn_json(char *buf, size_t bufsz, const char *id, const char *type,
    const char *cur, long long amount, long long fee, long long net,
    const char *source)
{
	snprintf(buf, bufsz, "{\"id\":\"%s\",\"object\":\"balance_transaction\","
	    "\"amount\":%lld,\"fee\":%lld,\"net\":%lld,\"currency\":\"%s\","
	    "\"created\":1764547200,\"type\":\"%s\",\"status\":\"available\","
	    "\"exchange_rate\":null,\"fee_details\":[],\"source\":%s}", id,
	    amount, fee, net, cur, type, source);
	return buf;
}

#define SRC_CHARGE_A	"{\"id\":\"ch_1\",\"object\":\"charge\"," \
	"\"customer\":\"cus_A\",\"amount\":10000,\"currency\":\"usd\"}"
#define SRC_REFUND	"{\"id\":\"re_1\",\"object\":\"refund\"," \
	"\"charge\":\"ch_1\"}"
#define SRC_PAYOUT	"{\"id\":\"po_1\",\"object\":\"payout\"," \
	"\"status\":\"paid\"}"
#define SRC_DISPUTE	"{\"id\":\"dp_1\",\"object\":\"dispute\"," \
	"\"charge\":\"ch_1\"}"

static const struct {
	const char	*name;
	const char	*id, *type, *cur;
	long long	 amount, fee, net;
	const char	*source;
	const char	*party;
	const char	*want;
} rows[] = {
	/* README's worked example. */
	{ "charge: gross to the customer, the fee its own posting",
	  "txn_1", "charge", "usd", 10000, 320, 9680, SRC_CHARGE_A, "@cus_A",
	  "gross:@stripe>@cus_A:10000/100:od;"
	  "fee:@stripe-fees>@stripe:320/100:od" },
	{ "partial refund: back out of the customer, no overdraft",
	  "txn_2", "refund", "usd", -3000, 0, -3000, SRC_REFUND, "@cus_A",
	  "gross:@cus_A>@stripe:3000/100:no" },
	{ "payout: from the payouts balance into @stripe",
	  "txn_3", "payout", "usd", -6680, 0, -6680, SRC_PAYOUT, NULL,
	  "gross:@stripe-payouts>@stripe:6680/100:od" },

	{ "failed payout comes back", "txn_4", "payout_failure", "usd", 6680,
	  0, 6680, "\"po_1\"", NULL,
	  "gross:@stripe>@stripe-payouts:6680/100:od" },
	{ "dispute withdrawal and its fee belong to the pay-in", "txn_5",
	  "adjustment", "usd", -5000, 1500, -6500, SRC_DISPUTE, "@cus_A",
	  "gross:@cus_A>@stripe:5000/100:no;"
	  "fee:@stripe-fees>@stripe:1500/100:od" },
	{ "a refund sent to the world balance has the world's overdraft",
	  "txn_2w", "refund", "usd", -3000, 0, -3000, SRC_REFUND, "@world",
	  "gross:@world>@stripe:3000/100:od" },
	{ "an adjustment that is no dispute goes to the world", "txn_6",
	  "adjustment", "usd", -250, 0, -250, "\"ia_1\"", "@cus_A",
	  "gross:@world>@stripe:250/100:od" },
	{ "a Stripe fee billed on its own", "txn_7", "stripe_fee", "usd",
	  -999, 0, -999, "null", NULL,
	  "gross:@stripe-fees>@stripe:999/100:od" },
	{ "a fee given back (negative fee)", "txn_8", "charge", "usd", 0, -50,
	  50, "\"ch_9\"", "@cus_B", "fee:@stripe>@stripe-fees:50/100:od" },
	{ "a topup is money from outside", "txn_9", "topup", "usd", 50000, 0,
	  50000, "\"tu_1\"", NULL, "gross:@stripe>@world:50000/100:od" },
	{ "zero amount, zero fee: nothing to post", "txn_10", "charge", "usd",
	  0, 0, 0, "\"ch_0\"", "@cus_B", "" },
	{ "JPY is zero-decimal in both", "txn_11", "charge", "jpy", 5000, 180,
	  4820, "\"ch_2\"", "@g",
	  "gross:@stripe>@g:5000/1:od;fee:@stripe-fees>@stripe:180/1:od" },
	{ "KRW: Stripe zero-decimal, Blnk precision 100", "txn_12", "charge",
	  "krw", 5000, 0, 5000, "\"ch_3\"", "@g",
	  "gross:@stripe>@g:500000/100:od" },
	{ "KWD: three decimals in both", "txn_13", "charge", "kwd", 12340,
	  370, 11970, "\"ch_4\"", "@g",
	  "gross:@stripe>@g:12340/1000:od;"
	  "fee:@stripe-fees>@stripe:370/1000:od" },
	{ "MGA: Stripe zero-decimal, Blnk precision 10", "txn_14", "charge",
	  "mga", 7, 0, 7, "\"ch_5\"", "@g", "gross:@stripe>@g:70/10:od" },
	{ "GBP, absent from Blnk's list, keeps Stripe's unit", "txn_15",
	  "charge", "gbp", 2599, 0, 2599, "\"ch_6\"", "@g",
	  "gross:@stripe>@g:2599/100:od" },
	{ "a currency Stripe does not document is not imported", "txn_16",
	  "charge", "mru", 2599, 0, 2599, "\"ch_7\"", "@g",
	  "FAIL:currency_unsupported" },
	{ "net must be amount minus fee", "txn_17", "charge", "usd", 100, 3,
	  98, "null", "@g", "BAD:net is not amount minus fee" },
	{ "no txn_ id", "ch_1", "charge", "usd", 1, 0, 1, "null", "@g",
	  "BAD:no balance transaction id (txn_...)" },
	{ "a bad currency", "txn_19", "charge", "us$", 1, 0, 1, "null", "@g",
	  "BAD:currency is not a three-letter code" },
};

/* Bodies no row above can spell: a float, a number beyond int64. */
static const struct {
	const char	*name;
	const char	*json;
	const char	*want;
} odd[] = {
	{ "a float amount is refused, never rounded",
	  "{\"id\":\"txn_18\",\"amount\":10.5,\"fee\":0,\"net\":10.5,"
	  "\"currency\":\"usd\",\"created\":1,\"type\":\"charge\"}",
	  "BAD:amount is not a whole number" },
	{ "an amount beyond int64 is refused",
	  "{\"id\":\"txn_20\",\"amount\":99999999999999999999,\"fee\":0,"
	  "\"net\":99999999999999999999,\"currency\":\"usd\",\"created\":1,"
	  "\"type\":\"charge\"}", "BAD:net is not amount minus fee" },
};

static void
test_rows(void)
{
	struct settings	 s;
	char		 got[1024], json[1024];
	size_t		 i;

	settings_default(&s);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		txn_json(json, sizeof(json), rows[i].id, rows[i].type,
		    rows[i].cur, rows[i].amount, rows[i].fee, rows[i].net,
		    rows[i].source);
		summary(json, &s, rows[i].party, got, sizeof(got));
		is_str(got, rows[i].want, "%s", rows[i].name);
	}
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		summary(odd[i].json, &s, "@g", got, sizeof(got));
		is_str(got, odd[i].want, "%s", odd[i].name);
	}
}

/* The worked example, summed per balance: @stripe ends where Stripe's
 * balance does, mirrored, and the ledger balances. */
static void
test_worked_example_sums(void)
{
	struct settings	 s;
	struct {
		const char	*party;
		int64_t		 sum;
	} bal[4] = { { "@stripe", 0 }, { "@cus_A", 0 },
	    { "@stripe-fees", 0 }, { "@stripe-payouts", 0 } };
	struct json_object *txn, *ctx;
	struct sync_item it;
	struct leg	 legs[2];
	const char	*code, *src, *dst;
	char		*ctxs, why[256], json[1024];
	int64_t		 a, stripe = 0;
	size_t		 i, j;
	int		 n, k;

	settings_default(&s);
	for (i = 0; i < 3; i++) {
		txn = json_tokener_parse(txn_json(json, sizeof(json), rows[i].id,
		    rows[i].type, rows[i].cur, rows[i].amount, rows[i].fee,
		    rows[i].net, rows[i].source));
		if (!syncmap_item(txn, "test", &it, &ctxs, why, sizeof(why))) {
			ok(0, "worked example row %zu reads", i);
			json_object_put(txn);
			return;
		}
		stripe += it.net;
		ctx = json_tokener_parse(ctxs);
		syncmap_legs(&it, ctx, &s, "@cus_A", "run_x", "b_x", legs, &n, &code,
		    why, sizeof(why));
		for (k = 0; k < n; k++) {
			a = json_object_get_int64(json_object_object_get(
			    legs[k].body, "precise_amount"));
			src = json_object_get_string(json_object_object_get(
			    legs[k].body, "source"));
			dst = json_object_get_string(json_object_object_get(
			    legs[k].body, "destination"));
			for (j = 0; j < 4; j++) {
				if (strcmp(bal[j].party, src) == 0)
					bal[j].sum -= a;
				if (strcmp(bal[j].party, dst) == 0)
					bal[j].sum += a;
			}
			json_object_put(legs[k].body);
		}
		json_object_put(ctx);
		json_object_put(txn);
		free(ctxs);
	}
	is_int(stripe, 0, "worked example: Stripe's balance ends at 0");
	is_int(bal[0].sum, -stripe, "worked example: @stripe mirrors it");
	is_int(bal[1].sum, 7000, "worked example: the customer keeps 70.00");
	is_int(bal[2].sum, -320, "worked example: 3.20 of fees paid");
	is_int(bal[3].sum, -6680, "worked example: 66.80 paid out");
	is_int(bal[0].sum + bal[1].sum + bal[2].sum + bal[3].sum, 0,
	    "worked example: the ledger balances");
}

/* What a charge presented in one currency and settled in another keeps. */
static void
test_presentment(void)
{
	static const char json[] =
	    "{\"id\":\"txn_p\",\"amount\":10866,\"fee\":345,"
	    "\"net\":10521,\"currency\":\"usd\",\"created\":1764547200,"
	    "\"type\":\"charge\",\"exchange_rate\":1.08660,"
	    "\"fee_details\":[{\"amount\":345,\"currency\":\"usd\","
	    "\"type\":\"stripe_fee\"}],"
	    "\"source\":{\"id\":\"ch_p\",\"object\":\"charge\","
	    "\"amount\":10000,\"currency\":\"eur\",\"customer\":null}}";
	struct settings	 s;
	struct json_object *txn, *ctx, *m;
	struct sync_item it;
	struct leg	 legs[2];
	const char	*code;
	char		*ctxs, why[256];
	int		 n;

	settings_default(&s);
	txn = json_tokener_parse(json);
	ok(syncmap_item(txn, "live", &it, &ctxs, why, sizeof(why)),
	    "presentment: reads");
	is_str(it.kind, "payins", "presentment: a pay-in");
	ctx = json_tokener_parse(ctxs);
	ok(syncmap_legs(&it, ctx, &s, "@stripe-guests", "run_x", "b_x", legs, &n,
	    &code, why, sizeof(why)) && n == 2, "presentment: two legs");
	is_str(json_object_get_string(json_object_object_get(legs[0].body,
	    "currency")), "USD", "presentment: posted in the settlement "
	    "currency");
	m = json_object_object_get(legs[0].body, "meta_data");
	is_int(json_object_get_int64(json_object_object_get(m,
	    "presentment_amount")), 10000, "presentment: amount kept");
	is_str(json_object_get_string(json_object_object_get(m,
	    "presentment_currency")), "eur", "presentment: currency kept");
	is_str(json_object_get_string(json_object_object_get(m,
	    "stripe_exchange_rate")), "1.08660", "presentment: the rate as "
	    "Stripe wrote it, a string, never a float");
	is_str(json_object_get_string(json_object_object_get(m,
	    "stripe_mode")), "live", "presentment: the mode is recorded");
	is_str(legs[0].reference, "stripe.txn_p.gross", "reference: gross");
	is_str(legs[1].reference, "stripe.txn_p.fee", "reference: fee");
	m = json_object_object_get(legs[1].body, "meta_data");
	ok(json_object_is_type(json_object_object_get(m, "stripe_fee_details"),
	    json_type_array), "fee leg: the fee details, as an array");
	json_object_put(legs[0].body);
	json_object_put(legs[1].body);
	json_object_put(ctx);
	json_object_put(txn);
	free(ctxs);
}

/* Settings that change the postings. */
static void
test_settings(void)
{
	struct settings	 s;
	char		 got[512], j0[1024], j1[1024], j2[1024];

	txn_json(j0, sizeof(j0), rows[0].id, rows[0].type, rows[0].cur,
	    rows[0].amount, rows[0].fee, rows[0].net, rows[0].source);
	txn_json(j1, sizeof(j1), rows[1].id, rows[1].type, rows[1].cur,
	    rows[1].amount, rows[1].fee, rows[1].net, rows[1].source);
	txn_json(j2, sizeof(j2), rows[2].id, rows[2].type, rows[2].cur,
	    rows[2].amount, rows[2].fee, rows[2].net, rows[2].source);
	settings_default(&s);
	s.import_fees = 0;
	summary(j0, &s, "@cus_A", got, sizeof(got));
	is_str(got, "gross:@stripe>@cus_A:10000/100:od",
	    "fees off: the gross alone");
	settings_default(&s);
	s.overdraft[ROLE_PAYINS] = 1;
	summary(j1, &s, "@cus_A", got, sizeof(got));
	is_str(got, "gross:@cus_A>@stripe:3000/100:od",
	    "payins overdraft on: "
	    "a refund may take a customer below zero");
	settings_default(&s);
	snprintf(s.balance[ROLE_STRIPE], PARTY_MAX, "bln_stripe_usd");
	snprintf(s.balance[ROLE_PAYOUTS], PARTY_MAX, "@bank");
	summary(j2, &s, NULL, got, sizeof(got));
	is_str(got, "gross:@bank>bln_stripe_usd:6680/100:od",
	    "mapping: named balances are used as they are");
	summary(j0, &s, "bln_stripe_usd", got, sizeof(got));
	is_str(got, "FAIL:mapping", "a counterparty equal to the Stripe "
	    "balance is refused");
}

static void
test_opening(void)
{
	struct settings	 s;
	struct sync_item it;
	struct leg	 legs[2];
	const char	*code;
	char		 why[256];
	int		 n;

	settings_default(&s);
	syncmap_opening("test", "usd", 12345, 1772323200, &it);
	ok(syncmap_legs(&it, NULL, &s, NULL, "run_x", "b_x", legs, &n, &code, why,
	    sizeof(why)) && n == 1, "opening: one posting");
	is_str(legs[0].reference, "stripe.opening.test.usd",
	    "opening: one reference per mode and currency");
	is_str(json_object_get_string(json_object_object_get(legs[0].body,
	    "source")), "@stripe", "opening: Stripe held it, out of @stripe");
	is_str(json_object_get_string(json_object_object_get(legs[0].body,
	    "destination")), "@world", "opening: from the outside world");
	ok(strstr(json_object_get_string(json_object_object_get(legs[0].body,
	    "description")), "before 2026-03-01") != NULL,
	    "opening: says which day it stands before");
	json_object_put(legs[0].body);
}

static void
test_kinds(void)
{
	is_str(syncmap_kind("charge", NULL), "payins", "kind: charge");
	is_str(syncmap_kind("payment_refund", NULL), "payins",
	    "kind: payment_refund");
	is_str(syncmap_kind("adjustment", "dispute"), "payins",
	    "kind: dispute adjustment");
	is_str(syncmap_kind("adjustment", NULL), "other", "kind: adjustment");
	is_str(syncmap_kind("payout_cancel", NULL), "payouts",
	    "kind: payout_cancel");
	is_str(syncmap_kind("stripe_fx_fee", NULL), "fees", "kind: fx fee");
	is_str(syncmap_kind("transfer", NULL), "other", "kind: transfer");
	is_str(syncmap_kind("some_future_type", NULL), "other",
	    "kind: an unknown type is imported, not dropped");
}

int
main(void)
{
	test_rows();
	test_worked_example_sums();
	test_presentment();
	test_settings();
	test_opening();
	test_kinds();
	return done_testing();
}
