/*
 * sync-int.h: what the sync engine's files share and nobody else sees:
 * sync.c (a run's life: claim, start, list, check, end, schedules),
 * sync-post.c (posting and confirming), sync-call.c (the steps' database
 * transactions with the lease, outages, calls to Stripe and Cloud).
 */
#ifndef SYNC_INT_H
#define SYNC_INT_H

#include <stddef.h>
#include <stdint.h>

#include "cloud.h"
#include "db.h"
#include "settings.h"

struct json_object;
struct sync_ctx;

#define BATCH		250	/* items posted in one bulk call */
#define READ_PAGE	100	/* the Data API's largest page */
#define REPOST_S	5	/* a posting Blnk shows no row of this long
				   after it was sent is sent again */
#define RESEND_MAX	5	/* sends of one posting before it is given up */
#define OPENING_TRIES	5
#define BACKOFF_FIRST_MS	250
#define BACKOFF_MAX_MS	5000	/* as Stripe's own clients: short, often */
#define PROBLEM_MAX	400	/* a message, with its NUL */

enum step {
	S_NEXT,		/* go on with the run */
	S_DONE,		/* it is complete */
	S_FAIL,		/* it failed: run.code and run.msg say why */
	S_LOST,		/* another runner holds it now */
	S_STOP,		/* this runner is stopping */
	S_DBERR,	/* the database failed */
};

struct run {
	struct sync_ctx	*x;
	struct sync_run	 r;
	struct settings	 s;
	char		 instance[130];
	char		*key;		/* the Stripe key, wiped at the end */
	char		 key_at[32];	/* its connection's updated_at */
	unsigned	 mask;		/* KIND_* this run posts */
	int		 opening_tries;
	double		 patience_end;	/* monotonic ms; 0: no outage */
	long		 backoff;
	double		 confirm_end;
	long		 confirm_wait;
	char		 code[64];
	char		 msg[256];
	struct recon	 rc;		/* a reconciliation's (recon.c) */
	int		 rc_loaded;
};

/* Unix seconds now; RFC 3339 UTC now into buf. */
int64_t		 run_now(void);
void		 run_now_text(char *buf, size_t bufsz);

/* The run fails with code and msg: returns S_FAIL. */
enum step	 run_fail(struct run *u, const char *code, const char *msg);

/* A database failure: logged, rolled back; returns S_DBERR. */
enum step	 run_db_fail(struct run *u, const char *what);

/* BEGIN IMMEDIATE; S_NEXT or S_DBERR. */
enum step	 run_begin(struct run *u);

/* Save the run (and commit what the caller wrote with it) while the
 * lease is ours, extending it; call inside run_begin().  S_NEXT, S_LOST
 * (rolled back) or S_DBERR. */
enum step	 run_save(struct run *u);

/* The lease renewed, nothing else written. */
enum step	 run_renew(struct run *u);

/* A problem of the run in plain words, inside the caller's transaction.
 * Returns 1, 0 on a database error. */
int		 run_problem(struct run *u, const char *stripe_id,
		    const char *ref, const char *code, const char *fmt, ...)
		    __attribute__((format(printf, 5, 6)));

/*
 * An outage (Cloud or Stripe down, slow or limiting): wait with backoff
 * and have the caller try again (S_NEXT), renewing the lease meanwhile,
 * until sync_patience has passed since the outage began; then S_FAIL with
 * code and msg.  S_STOP if asked to stop while waiting.
 */
enum step	 run_transient(struct run *u, const char *code,
		    const char *msg);

/* A call went through: the outage, if any, is over. */
void		 run_calm(struct run *u);

/* GET from Stripe: 1 with *out, or 0 with *st the step to return (S_NEXT:
 * an outage waited out, try again). */
int		 run_stripe(struct run *u, const char *const *segs,
		    const char *const *query, struct json_object **out,
		    enum step *st);

/*
 * One page of a Stripe list: limit=100, the extra query pairs, and
 * starting_after the run's cursor when it has one.  1 with *page (caller
 * frees), its "data" array in *data and has_more in *more; or 0 with *st
 * (an answer that is not a list page fails the run).
 */
int		 run_stripe_page(struct run *u, const char *const *segs,
		    const char *const *extra, struct json_object **page,
		    struct json_object **data, int *more, enum step *st);

/* Stripe's balance (available + pending) per currency, {"usd": 123}. */
int		 run_stripe_balance(struct run *u, struct json_object **sums,
		    enum step *st);

/* Is a Cloud failure an outage to wait out? */
int		 run_cloud_transient(const struct cloud_err *e);

/* A call to Cloud for the run's install: 1 with *out, or 0 with *e. */
int		 run_cloud(struct run *u, enum cloud_api api,
		    enum httpc_method m, const char *const *segs,
		    const char *const *query, struct json_object *body,
		    struct json_object **out, struct cloud_err *e);

/* String member k of o, or NULL. */
const char	*run_str(struct json_object *o, const char *k);

/* o as compact JSON text, allocated; NULL on out of memory. */
char		*run_json_dup(struct json_object *o);

/* What a run needs each time it is claimed (the install, the key, the
 * mode, the settings), and the check between two steps that the install
 * is still active and the same key connected (sync.c). */
enum step	 run_setup(struct run *u);
enum step	 run_recheck(struct run *u);

/* Blnk's balances of the mapping's Stripe balance (one per currency):
 * 1 with *out (the Data API's answer; caller frees) and its "data" array
 * in *rows, or 0 with *st. */
int		 run_blnk_balances(struct run *u, struct json_object **out,
		    struct json_object **rows, enum step *st);

/* One step of a reconciliation (recon.c). */
enum step	 recon_step(struct run *u);

/* The phases in sync-post.c. */
enum step	 step_post(struct run *u);
enum step	 step_confirm(struct run *u);

#endif
