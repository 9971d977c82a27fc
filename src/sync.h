/*
 * sync.h: the sync engine stripe-syncd runs: claim a queued run with a
 * lease, page through Stripe's balance transactions, post them to Blnk
 * through Cloud in bulk, and confirm each posting by reading it back.
 *
 * A run goes through its phases, storing where it is after every page
 * and batch, each step one short database transaction that also renews
 * the lease (and fails, stopping the run, if another runner took it):
 *
 *   start	the install, its key, mode and settings; the listing's window
 *   customers	(mapping "customer_metadata" only) the customers' balances
 *   fetch	GET /v1/balance_transactions, newest first, 100 a page, from
 *		the install's high-water second (overlapped: what is listed
 *		again is known); the opening balance after a start date
 *   post	the new items oldest first, 250 at a time: their postings are
 *		stored (state "sent") before POST /proxy/transactions/bulk
 *   confirm	GET /data/transactions?reference_in=<ref>_q,... 100 at a
 *		time until each posting is APPLIED or REJECTED; one that
 *		Blnk shows neither as <ref> nor <ref>_q is sent again (its
 *		reference makes a second copy impossible)
 *   check	Stripe's balance against the Blnk balance of @stripe
 *
 * A run killed at any point is claimed again once its lease runs out and
 * continues from its phase; a posting stored as sent is checked before it
 * is ever sent again.  Outages of Cloud or Stripe (and rate limits) are
 * waited out with backoff for sync_patience seconds, then the run fails
 * and the next one resumes.
 */
#ifndef SYNC_H
#define SYNC_H

#include <stdint.h>

#include "cloud.h"

struct cloud;
struct conf;
struct db;
struct stripe;

struct sync_ctx {
	const struct conf	*cf;
	struct db		*db;
	struct cloud		*cloud;
	struct stripe		*stripe;
	char			 owner[64];	/* this runner, for leases */
	/* Sleep ms milliseconds; returns 1 if asked to stop meanwhile. */
	int			(*sleep_ms)(long ms, void *arg);
	/* Has a stop been asked for? */
	int			(*stopping)(void *arg);
	void			*arg;
	/* Calls made, for the log and the benchmark. */
	long			 cloud_calls;
	long			 stripe_calls;
};

/*
 * Claim one run and take it as far as it goes: to its end, until the
 * runner is asked to stop (the lease is then given up so another runner
 * continues at once), or until another runner holds it.  Returns 1 if a
 * run was claimed, 0 if none was waiting, -1 on a database error.
 */
int	 sync_work(struct sync_ctx *x);

/* A call to Cloud for install (on instance) with the runner's client,
 * counted in cloud_calls.  1 with *out (caller frees), or 0 with *e. */
int	 sync_cloud(struct sync_ctx *x, const char *install,
	    const char *instance, enum cloud_api api, enum httpc_method m,
	    const char *const *segs, const char *const *query,
	    struct json_object *body, struct json_object **out,
	    struct cloud_err *e);

/* Queue a run for every install whose schedule is due.  Returns how
 * many were queued, -1 on a database error. */
int	 sync_schedule(struct sync_ctx *x);

#endif
