/*
 * sync-map.h: from a Stripe balance transaction to Blnk postings.  Pure
 * functions (no database, no network), so the chart of accounts is tested
 * table by table (t/unit/test-syncmap.c).
 *
 * Sign convention (README, "Chart of accounts"): the Blnk balance standing
 * for the Stripe account, mapping.stripe_balance (@stripe), is the mirror
 * of Stripe's balance, as Blnk's own @World is of the money outside the
 * ledger: when Stripe holds 100.00 USD, @stripe in USD reads -100.00.
 * Money Stripe takes in flows out of @stripe into the counterparty; money
 * Stripe pays out or gives back flows from the counterparty into @stripe.
 * So per currency, @stripe = -(Stripe's available + pending), exactly.
 *
 * Each balance transaction becomes at most two postings:
 *   gross	amount > 0: @stripe -> counterparty, amount
 *		amount < 0: counterparty -> @stripe, -amount
 *   fee	fee > 0: mapping.fees -> @stripe, fee (Stripe kept it)
 *		fee < 0: @stripe -> mapping.fees, -fee (a fee given back)
 * with the reference "stripe.<txn_id>.gross" / ".fee" (an opening balance:
 * "stripe.opening.<mode>.<currency>"), so that each is posted exactly once.
 */
#ifndef SYNC_MAP_H
#define SYNC_MAP_H

#include <stddef.h>
#include <stdint.h>

#include "money.h"

struct json_object;
struct settings;
struct sync_item;

#define REF_MAX		160	/* a posting reference, with its NUL */
#define WHY_MAX		256

/*
 * The kind of a balance transaction: "payins" (charges, payments, their
 * refunds and disputes), "payouts", "fees" (Stripe's own fees billed on
 * their own) or "other".  source_object is the expanded source's
 * "object" ("dispute", ...) or NULL.
 */
const char	*syncmap_kind(const char *type, const char *source_object);

/*
 * Read one balance transaction of Stripe's list (its source expanded or
 * not) into *it (mode copied in) and *ctx (allocated JSON text of what the
 * postings need: the source's id, object, customer, charge, presentment
 * amount and currency, the exchange rate as Stripe wrote it, the fee
 * details; the caller frees it).  Returns 1, or 0 with why filled when
 * the object is not a balance transaction we can read (no id, an amount
 * that is not an integer, net not amount - fee, ...).
 */
int		 syncmap_item(struct json_object *txn, const char *mode,
		    struct sync_item *it, char **ctx, char *why, size_t whysz);

/* An opening balance item for currency (lower case) of amount at start. */
void		 syncmap_opening(const char *mode, const char *currency,
		    int64_t amount, int64_t start_at, struct sync_item *it);

/* One posting to make. */
struct leg {
	char			 leg[8];	/* "gross", "fee", "opening" */
	char			 reference[REF_MAX];
	struct json_object	*body;		/* owned */
};

/*
 * The postings of item it (ctx its parsed ctx) whose counterparty is
 * party, for run_id and its bulk batch, into legs[0..*n) (at most 2; free each body with
 * json_object_put()).  Fee legs only when s->import_fees.  Returns 1, or
 * 0 with why and *code set ("amount_not_exact", ...) when an amount does
 * not convert exactly: nothing of the item is posted then.
 */
int		 syncmap_legs(const struct sync_item *it,
		    struct json_object *ctx, const struct settings *s,
		    const char *party, const char *run_id, const char *batch,
		    struct leg *legs, int *n, const char **code, char *why,
		    size_t whysz);

/* The reference of leg of item txn_id into buf[REF_MAX]; 0 if too long. */
int		 syncmap_reference(const char *txn_id, const char *leg,
		    char *buf);

#endif
