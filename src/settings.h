/*
 * settings.h: an install's sync settings, their defaults, and the one
 * validation every path (the portal's PUT, the stored row) goes through.
 *
 * The JSON shape, with the defaults:
 *   {"import": {"payins": true, "fees": true, "payouts": true,
 *               "other": true},
 *    "start_date": null,                 (or "YYYY-MM-DD", UTC midnight)
 *    "schedule_minutes": 0,              (0: off, else 5 to 1440)
 *    "mapping": {"payins": "customer",   (or "customer_metadata", "fixed")
 *                "customer_prefix": "@",
 *                "metadata_key": "blnk_balance",
 *                "payin_balance": "@stripe-payins",
 *                "guest_balance": "@stripe-guests",
 *                "stripe_balance": "@stripe",
 *                "fees": "@stripe-fees",
 *                "payouts": "@stripe-payouts",
 *                "world": "@world"},
 *    "overdraft": {"stripe_balance": true, "fees": true, "payouts": true,
 *                  "world": true, "payins": false}}
 * README's "Chart of accounts" says what each balance stands for.
 */
#ifndef SETTINGS_H
#define SETTINGS_H

#include <stddef.h>
#include <stdint.h>

struct json_object;
struct verr;

#define PARTY_MAX	257	/* a balance id or an @indicator, + NUL */

enum payin_mode {
	PAYIN_CUSTOMER,		/* customer_prefix + the customer's id */
	PAYIN_METADATA,		/* the balance named in metadata_key */
	PAYIN_FIXED,		/* payin_balance */
	PAYIN__MAX
};

extern const char *const payin_mode_names[PAYIN__MAX];

/* The roles a Blnk balance plays in the postings. */
enum role {
	ROLE_STRIPE,		/* the Stripe balance */
	ROLE_FEES,		/* what Stripe charged */
	ROLE_PAYOUTS,		/* money paid out to the bank */
	ROLE_WORLD,		/* everything else outside */
	ROLE_PAYINS,		/* the customer (or fixed) pay-in balances */
	ROLE__MAX
};

extern const char *const role_names[ROLE__MAX];	/* "stripe_balance", ... */

struct settings {
	int		 import_payins;
	int		 import_fees;
	int		 import_payouts;
	int		 import_other;
	char		 start_date[11];	/* "" or YYYY-MM-DD */
	int64_t		 start_at;		/* its unix time, 0 if none */
	long		 schedule_minutes;
	enum payin_mode	 payins;
	char		 customer_prefix[66];
	char		 metadata_key[41];
	char		 payin_balance[PARTY_MAX];
	char		 guest_balance[PARTY_MAX];
	char		 balance[ROLE_PAYINS][PARTY_MAX]; /* by role */
	int		 overdraft[ROLE__MAX];
};

void		 settings_default(struct settings *s);

/*
 * Read settings from obj over the defaults: members left out keep their
 * default, an unknown member is refused (a typo must not pass for a
 * setting).  Returns 1, or 0 with *e naming the field ("mapping.fees")
 * and saying what is wrong.
 */
int		 settings_parse(struct json_object *obj, struct settings *s,
		    struct verr *e);

/* The settings as JSON (every member); NULL on out of memory. */
struct json_object *settings_json(const struct settings *s);

#endif
