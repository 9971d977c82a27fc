/*
 * webhook.h: Stripe's webhooks.  The signature check and the reading of an
 * event's type are pure (no I/O: webhook.c); the endpoint and the signing
 * secret API are api-webhook.c, their tables db-webhook.c, and the job
 * runner's side, which turns the debounced requests into queued runs,
 * sync-jobs.c.
 *
 * Stripe signs every delivery with the endpoint's secret (whsec_...):
 *
 *	Stripe-Signature: t=<unix time>,v1=<hex>[,v1=<hex>...][,v0=<hex>]
 *
 * where each v1 is HMAC-SHA256, keyed with the whole secret string, of
 * "<t>.<raw body>".  While a secret is being rolled Stripe sends one v1
 * per live secret; v0 and any other scheme are ignored.
 */
#ifndef WEBHOOK_H
#define WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define WH_TOLERANCE	300	/* seconds either side of now */
#define WH_HEADER_MAX	4096	/* longest Stripe-Signature header */
#define WH_SIGS_MAX	16	/* v1 signatures looked at, at most */
#define WH_SECRET_MIN	16	/* characters after "whsec_", at least */
#define WH_SECRET_MAX	256	/* the whole secret, at most */

/* Why a delivery was refused (or WH_OK). */
enum wh_status {
	WH_OK,
	WH_NO_HEADER,		/* no Stripe-Signature, or an empty one */
	WH_MALFORMED,		/* not t=...,v1=... as Stripe writes it */
	WH_NO_V1,		/* no v1 signature (only v0 or others) */
	WH_NO_MATCH,		/* no v1 is the body's under the secret */
	WH_STALE,		/* signed more than WH_TOLERANCE s ago */
	WH_FUTURE,		/* signed more than WH_TOLERANCE s ahead */
	WH__MAX
};

/* The error code each status answers with ("SIGNATURE_MISMATCH", ...),
 * and a message in plain words. */
extern const char *const wh_codes[WH__MAX];
extern const char *const wh_messages[WH__MAX];

/*
 * Check header (NULL: none) against the raw body[0..bodylen) under
 * secret[0..secretlen) at time now.  Every v1 is compared in constant
 * time; the timestamp is checked only once a signature matched, so that
 * a stale or future answer is only ever given to whoever holds the
 * secret.  *t receives the signed time when the header parsed (else 0).
 */
enum wh_status	 webhook_verify(const char *header, const void *secret,
		    size_t secretlen, const void *body, size_t bodylen,
		    int64_t now, int64_t *t);

/* What an event asks of the app. */
enum wh_action {
	WA_NONE,	/* acknowledged, nothing to do */
	WA_SYNC,	/* money moved: an incremental import */
	WA_RECONCILE,	/* a payout reconciled: reconcile that payout */
	WA__MAX
};

/* "none", "sync", "reconcile": webhook_events.action and the answer. */
extern const char *const wh_action_names[WA__MAX];

/* The action of an event type: balance.available, charge.succeeded,
 * charge.refunded, charge.dispute.*, payout.paid and payout.failed are
 * a sync; payout.reconciliation_completed a reconciliation. */
enum wh_action	 webhook_action(const char *type);

/* Is s[0..len) a signing secret as Stripe shows them: "whsec_", then
 * WH_SECRET_MIN or more of [A-Za-z0-9+/_-], up to two '=', at most
 * WH_SECRET_MAX in all? */
int		 webhook_secret_valid(const char *s, size_t len);

/*
 * The job runner's side (sync-jobs.c): turn the job requests that are
 * due at now into queued runs (trigger "webhook"), one write transaction
 * and only when something is due.  Returns how many runs it queued, or
 * -1 on a database error.
 */
int		 sync_jobs(struct db *db, int64_t now);

#endif
