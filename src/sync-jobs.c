/*
 * sync-jobs.c: the job runner's side of the webhooks.  Events only ask for
 * work (db.h's job_requests, debounced by the worker that verified them);
 * here the requests that are due become queued runs with trigger
 * "webhook": a sync of everything new, or a reconciliation of one payout.
 *
 * stripe-syncd calls sync_jobs() at every poll, so the idle case must be
 * cheap: one read that finds nothing due, without the write lock.  Only
 * when something is due is a write transaction opened, and there each
 * request is deleted in the same transaction as its run is made, so two
 * runners can never both queue it.  A request whose install already has
 * a job queued or running waits for a later poll (the read does not even
 * see it then); one whose install is uninstalled or no longer connected
 * to Stripe is dropped.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "db.h"
#include "log.h"
#include "webhook.h"

#define BATCH	16	/* requests looked at per poll */

/* now as "YYYY-MM-DDTHH:MM:SSZ" into buf[32]. */
static void
time_text(int64_t now, char *buf, size_t bufsz)
{
	struct tm	 tm;
	time_t		 t = (time_t)now;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, bufsz, "1970-01-01T00:00:00Z");
}

/*
 * Turn request r into a run (inside the transaction).  Returns 1 queued,
 * 0 kept for later or dropped, -1 on a database error.
 */
static int
one(struct db *db, const struct job_request *r, const char *now)
{
	char	 id[40], active[40];
	int	 rc, recon = strcmp(r->job, "reconcile") == 0;

	if (!r->ready) {
		log_info("webhook: dropped a %s request of install %s: it is "
		    "uninstalled or not connected to Stripe", r->job,
		    r->install);
		return db_job_request_delete(db, r) ? 0 : -1;
	}
	if (!crypto_random_id(recon ? "rec_" : "run_", id, sizeof(id)))
		return 0;
	if (recon)
		rc = db_recon_create(db, id, r->install, "webhook", "payout",
		    0, 0, NULL, r->payout, now, active);
	else
		rc = db_run_create(db, id, r->install, "all", "webhook", now,
		    active);
	if (rc <= 0)
		return rc;
	if (!db_job_request_delete(db, r))
		return -1;
	if (recon)
		log_info("webhook: reconciliation %s of payout %s queued for "
		    "install %s", id, r->payout, r->install);
	else
		log_info("webhook: sync %s queued for install %s (%lld "
		    "event%s)", id, r->install, (long long)r->events,
		    r->events == 1 ? "" : "s");
	return 1;
}

int
sync_jobs(struct db *db, int64_t now)
{
	struct job_request	 r[BATCH];
	char			 text[32];
	size_t			 n, i;
	int			 rc, queued = 0;

	if ((rc = db_job_due(db, now)) <= 0)
		return rc;
	time_text(now, text, sizeof(text));
	if (!db_begin(db))
		return -1;
	/* Read again under the lock: another runner may have been first. */
	if (!db_jobs_due(db, now, r, BATCH, &n))
		goto fail;
	for (i = 0; i < n; i++) {
		if ((rc = one(db, &r[i], text)) < 0)
			goto fail;
		queued += rc;
	}
	if (!db_commit(db))
		goto fail;
	return queued;
fail:
	db_rollback(db);
	return -1;
}
