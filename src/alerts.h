/*
 * alerts.h: problems flagged in Blnk Cloud (POST /alerts/flag/<id>).
 *
 * A problem is noted once, inside the transaction that finds it, as a row
 * of alert_flags (db_alert_note(), db.h): a failed sync run (once per
 * streak of failures), a posting Blnk REJECTED, a reconciliation's
 * difference.  The job runner then sends what is pending (alerts_flush()):
 * an install without alerts:write gets no call (the portal shows the
 * problem instead, GET /api/v1/problems), the target is resolved to a
 * Blnk id and flagged, and what became of it is stored, so that nothing
 * is flagged twice.
 */
#ifndef ALERTS_H
#define ALERTS_H

struct db;
struct json_object;
struct settings;
struct sync_ctx;

#define ALERT_TITLE_FAILED	"Stripe sync failed"
#define ALERT_TITLE_REJECTED	"Posting rejected by Blnk"

/*
 * Sync run run_id of install has ended as status ("completed" or
 * "failed", with code and msg), inside the caller's transaction: the
 * first failure after a completed sync notes an alert on the mapping's
 * Stripe balance in each currency the install imported; a completed sync
 * ends the streak (an alert of it not flagged yet is cleared).  Nothing
 * for a job that is not a sync.  Returns 1, 0 on a database error.
 */
int	 alerts_run_ended(struct db *db, const char *install,
	    const char *run_id, const char *mode, const char *status,
	    const char *code, const char *msg);

/*
 * Blnk REJECTED posting reference of install (its body as sent, Blnk's
 * reason or NULL), found by run_id, under settings s: noted inside the
 * caller's transaction (key "rejected:<reference>").  Returns 1, 0 on a
 * database error.
 */
int	 alerts_rejected(struct db *db, const char *install,
	    const char *run_id, const struct settings *s,
	    const char *reference, struct json_object *body, const char *why);

/*
 * Send the pending problems that are due, a few at a time (a cheap read
 * first: most calls find nothing), stopping at the first that finds Cloud
 * unavailable.  Each row is taken for its try (db_alert_claim()), so
 * runners sharing the database never both send one.  Returns how many
 * were tried, -1 on a database error.
 */
int	 alerts_flush(struct sync_ctx *x);

#endif
