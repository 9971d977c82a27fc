/*
 * sync.c: the sync engine: a run's life (claim, set up, start, list the
 * customers and the balance transactions, check the balances, end), and
 * the schedules.  See sync.h for the phases; sync-post.c posts and
 * confirms, sync-call.c holds the plumbing, sync-map.c turns a balance
 * transaction into postings.
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

/* --- setting up ------------------------------------------------------ */

/* What a run needs each time it is claimed: the install, the key, the
 * mode, the settings. */
enum step
run_setup(struct run *u)
{
	struct install		 in;
	struct stripe_conn	 sc;
	struct json_object	*o;
	struct verr		 e;
	char			*json;
	int			 rc;

	if ((rc = db_install_get(u->x->db, u->r.install_id, &in)) < 0)
		return run_db_fail(u, "reading the install");
	if (rc == 0 || in.status != INSTALL_ACTIVE) {
		if (rc == 1)
			install_free(&in);
		return run_fail(u, "APP_UNINSTALLED", "the app was uninstalled "
		    "from this instance; the run cannot go on");
	}
	snprintf(u->instance, sizeof(u->instance), "%s", in.instance_id);
	install_free(&in);
	if ((rc = db_stripe_get(u->x->db, u->r.install_id, &sc)) < 0)
		return run_db_fail(u, "reading the connection");
	if (rc == 0)
		return run_fail(u, "STRIPE_NOT_CONNECTED", "Stripe was "
		    "disconnected; connect a key and start a new run");
	if (u->r.mode[0] != '\0' && strcmp(u->r.mode, sc.mode) != 0)
		return run_fail(u, "MODE_CHANGED", "the Stripe key was switched "
		    "to the other mode during the run; start a new run");
	snprintf(u->r.mode, sizeof(u->r.mode), "%s", sc.mode);
	snprintf(u->key_at, sizeof(u->key_at), "%s", sc.updated_at);
	if (u->key != NULL) {
		crypto_wipe(u->key, strlen(u->key));
		free(u->key);
		u->key = NULL;
	}
	/* A key that no longer opens (the master key that sealed it is not
	 * configured) is not an outage: the run fails and says so, instead
	 * of being claimed again after every lease. */
	if ((rc = db_stripe_key(u->x->db, u->x->cf, u->r.install_id,
	    &u->key)) != 1)
		return rc == 0 ? run_fail(u, "STRIPE_NOT_CONNECTED", "Stripe "
		    "was disconnected; connect a key and start a new run") :
		    run_fail(u, "STRIPE_KEY_UNREADABLE", "the stored Stripe key "
		    "cannot be opened (is the master key that sealed it in "
		    "master_key or old_master_keys?): connect the key again");
	settings_default(&u->s);
	if ((rc = db_settings_get(u->x->db, u->r.install_id, &json)) < 0)
		return run_db_fail(u, "reading the settings");
	if (rc == 1) {
		o = json_tokener_parse(json);
		free(json);
		if (o == NULL || !settings_parse(o, &u->s, &e)) {
			json_object_put(o);
			return run_fail(u, "SETTINGS_DAMAGED", "the stored "
			    "settings do not parse; save them again");
		}
		json_object_put(o);
	}
	u->mask = KIND_OPENING;
	if (strcmp(u->r.kind, "payouts") != 0) {
		if (u->s.import_payins)
			u->mask |= KIND_PAYINS;
		if (strcmp(u->r.kind, "all") == 0 && u->s.import_fees)
			u->mask |= KIND_FEES;
		if (strcmp(u->r.kind, "all") == 0 && u->s.import_other)
			u->mask |= KIND_OTHER;
	}
	if (strcmp(u->r.kind, "payins") != 0 && u->s.import_payouts)
		u->mask |= KIND_PAYOUTS;
	stripe_set_rate(u->x->stripe, u->x->cf->stripe_rate > 0 ?
	    u->x->cf->stripe_rate : strcmp(sc.mode, "live") == 0 ? 50 : 20);
	return S_NEXT;
}

/*
 * Between two steps: is the install still active and the same Stripe key
 * connected?  An uninstall or a disconnect ends the run at once (no more
 * calls with a key that is gone); a new key of the same mode is opened
 * and used from the next step on.
 */
enum step
run_recheck(struct run *u)
{
	struct install		 in;
	struct stripe_conn	 sc;
	int			 rc;

	if ((rc = db_install_get(u->x->db, u->r.install_id, &in)) < 0)
		return run_db_fail(u, "reading the install");
	if (rc == 1 && in.status != INSTALL_ACTIVE)
		rc = 0;
	if (rc == 1)
		install_free(&in);
	if (rc == 0)
		return run_fail(u, "APP_UNINSTALLED", "the app was uninstalled "
		    "from this instance during the run");
	if ((rc = db_stripe_get(u->x->db, u->r.install_id, &sc)) < 0)
		return run_db_fail(u, "reading the connection");
	if (rc == 0)
		return run_fail(u, "STRIPE_NOT_CONNECTED", "Stripe was "
		    "disconnected during the run");
	if (strcmp(sc.updated_at, u->key_at) != 0)
		return run_setup(u);
	return S_NEXT;
}

/* Phase "start": where the listing begins, and Stripe's balance before
 * it when an opening balance is to be posted. */
static enum step
step_start(struct run *u)
{
	struct json_object	*sums;
	enum step		 st;
	int64_t			 hw, start_at;
	int			 rc;

	rc = db_cursor_get(u->x->db, u->r.install_id, u->r.mode, &hw,
	    &start_at);
	if (rc < 0)
		return run_db_fail(u, "reading the cursor");
	free(u->r.balance_before);
	u->r.balance_before = NULL;
	if (rc == 1)
		u->r.window_gte = hw;
	else {
		u->r.window_gte = u->s.start_at;
		if (u->s.start_at > 0) {
			if (!run_stripe_balance(u, &sums, &st))
				return st;
			u->r.balance_before = run_json_dup(sums);
			json_object_put(sums);
			if (u->r.balance_before == NULL)
				return run_fail(u, "INTERNAL", "out of memory");
		}
	}
	u->r.high_water = u->r.window_gte;
	u->r.cursor[0] = '\0';
	snprintf(u->r.phase, sizeof(u->r.phase), "%s",
	    u->s.payins == PAYIN_METADATA && (u->mask & KIND_PAYINS) ?
	    "customers" : "fetch");
	if ((st = run_begin(u)) != S_NEXT)
		return st;
	return run_save(u);
}

/* Phase "customers": the Blnk balance each customer's metadata names. */
static enum step
step_customers(struct run *u)
{
	static const char *const segs[] = { "customers", NULL };
	struct json_object	*page, *data, *c, *v, *md;
	const char		*id, *party;
	enum step		 st;
	size_t			 i, n;
	int			 more;

	if (!run_stripe_page(u, segs, NULL, &page, &data, &more, &st))
		return st;
	if ((st = run_begin(u)) != S_NEXT) {
		json_object_put(page);
		return st;
	}
	n = json_object_array_length(data);
	for (i = 0; i < n; i++) {
		c = json_object_array_get_idx(data, i);
		if (!json_object_object_get_ex(c, "id", &v) ||
		    !json_object_is_type(v, json_type_string))
			continue;
		id = json_object_get_string(v);
		if (!valid_string(FT_REF, id, strlen(id)) ||
		    strlen(id) >= sizeof(u->r.cursor))
			continue;
		snprintf(u->r.cursor, sizeof(u->r.cursor), "%s", id);
		party = NULL;
		if (json_object_object_get_ex(c, "metadata", &md) &&
		    json_object_object_get_ex(md, u->s.metadata_key, &v) &&
		    json_object_is_type(v, json_type_string) &&
		    valid_string(FT_PARTY, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v)) &&
		    strcmp(json_object_get_string(v),
		    u->s.balance[ROLE_STRIPE]) != 0)
			party = json_object_get_string(v);
		if (!db_customer_put(u->x->db, u->r.install_id, u->r.mode, id,
		    json_object_object_get_ex(c, "created", &v) ?
		    json_object_get_int64(v) : 0, party)) {
			json_object_put(page);
			return run_db_fail(u, "storing a customer");
		}
	}
	json_object_put(page);
	if (!more) {
		u->r.cursor[0] = '\0';
		snprintf(u->r.phase, sizeof(u->r.phase), "fetch");
	}
	return run_save(u);
}

/* --- fetch ----------------------------------------------------------- */

/* Are two balance sums the same? */
static int
sums_equal(const char *a, struct json_object *b)
{
	struct json_object	*o;
	int			 eq;

	if ((o = json_tokener_parse(a)) == NULL)
		return 0;
	eq = json_object_equal(o, b);
	json_object_put(o);
	return eq;
}

struct net_ctx {
	struct run		*u;
	struct json_object	*sums;	/* Stripe's balance, per currency */
	struct json_object	*seen;	/* currencies with items */
	int64_t			 since;	/* the start date */
	int			 ok;
};

/* One currency's opening balance: Stripe's balance less what the items
 * since the start date add up to. */
static int
opening_one(const char *cur, int64_t net, void *arg)
{
	struct net_ctx		*c = arg;
	struct json_object	*v;
	struct sync_item	 it;
	int64_t			 bal = 0, open;

	json_object_object_add(c->seen, cur, json_object_new_boolean(1));
	if (json_object_object_get_ex(c->sums, cur, &v))
		bal = json_object_get_int64(v);
	if (__builtin_sub_overflow(bal, net, &open)) {
		c->ok = 0;
		return 0;
	}
	if (open == 0)
		return 1;
	syncmap_opening(c->u->r.mode, cur, open, c->since, &it);
	if (db_item_add(c->u->x->db, c->u->r.install_id, &it, c->u->r.run_id,
	    NULL) < 0) {
		c->ok = 0;
		return 0;
	}
	return 1;
}

/*
 * The opening balances, per currency, inside the caller's transaction:
 * Stripe's balance (taken before and after the listing, and equal) less
 * the net of every balance transaction since the start date.
 */
static int
add_openings(struct run *u, struct json_object *sums, int64_t since)
{
	struct json_object_iterator it, end;
	struct net_ctx		 c;
	struct sync_item	 item;
	const char		*cur;

	memset(&c, 0, sizeof(c));
	c.u = u;
	c.sums = sums;
	c.seen = json_object_new_object();
	c.ok = 1;
	c.since = since;
	if (c.seen == NULL || !db_items_net(u->x->db, u->r.install_id,
	    u->r.mode, since, opening_one, &c) || !c.ok) {
		json_object_put(c.seen);
		return 0;
	}
	/* A currency Stripe holds with no balance transaction since. */
	it = json_object_iter_begin(sums);
	end = json_object_iter_end(sums);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		cur = json_object_iter_peek_name(&it);
		if (json_object_object_get_ex(c.seen, cur, NULL) ||
		    json_object_get_int64(json_object_iter_peek_value(&it)) == 0)
			continue;
		syncmap_opening(u->r.mode, cur,
		    json_object_get_int64(json_object_iter_peek_value(&it)),
		    since, &item);
		if (db_item_add(u->x->db, u->r.install_id, &item,
		    u->r.run_id, NULL) < 0) {
			json_object_put(c.seen);
			return 0;
		}
	}
	json_object_put(c.seen);
	return 1;
}

/*
 * The listing is complete: the opening balance if one is due, the
 * high-water mark for the next run, and on to posting.  The opening is
 * due on the install's first listing from a start date: the date the
 * listing ran from (the run's window, not the settings of now).  Stripe's
 * balance must be the same after the listing as before it, or the
 * listing is done again against the newer balance; the older one is kept
 * until the newer is read, so no failure here can lose the opening.
 */
static enum step
fetch_done(struct run *u)
{
	struct json_object	*sums = NULL;
	enum step		 st;
	int64_t			 hw, start_at;
	char			 now[32], *again;
	int			 rc;

	if ((rc = db_cursor_get(u->x->db, u->r.install_id, u->r.mode, &hw,
	    &start_at)) < 0)
		return run_db_fail(u, "reading the cursor");
	if (rc == 0)
		start_at = u->r.window_gte > 0 ? u->r.window_gte : 0;
	if (rc == 0 && start_at > 0) {
		if (!run_stripe_balance(u, &sums, &st))
			return st;
		if (u->r.balance_before == NULL ||
		    !sums_equal(u->r.balance_before, sums)) {
			/* Something moved Stripe's balance while we listed
			 * (or its first reading is missing): list again from
			 * the newest, or the opening would count it twice. */
			if (u->r.balance_before != NULL &&
			    ++u->opening_tries >= OPENING_TRIES) {
				json_object_put(sums);
				return run_fail(u, "OPENING_UNSTABLE", "Stripe's "
				    "balance kept changing while the run listed "
				    "its balance transactions; run again");
			}
			if (u->r.balance_before != NULL)
				log_info("sync %s: Stripe's balance moved while "
				    "listing; listing again for the opening "
				    "balance", u->r.run_id);
			again = run_json_dup(sums);
			json_object_put(sums);
			if (again == NULL)
				return run_fail(u, "INTERNAL", "out of memory");
			if ((st = run_begin(u)) != S_NEXT) {
				free(again);
				return st;
			}
			free(u->r.balance_before);
			u->r.balance_before = again;
			u->r.cursor[0] = '\0';
			return run_save(u);
		}
	}
	if ((st = run_begin(u)) != S_NEXT) {
		json_object_put(sums);
		return st;
	}
	if (sums != NULL && !add_openings(u, sums, start_at)) {
		json_object_put(sums);
		return run_db_fail(u, "adding the opening balance");
	}
	json_object_put(sums);
	hw = u->r.high_water > u->r.window_gte ? u->r.high_water :
	    u->r.window_gte;
	run_now_text(now, sizeof(now));
	if (!db_cursor_put(u->x->db, u->r.install_id, u->r.mode,
	    hw < 0 ? 0 : hw, start_at, now))
		return run_db_fail(u, "storing the cursor");
	free(u->r.balance_before);
	u->r.balance_before = NULL;
	u->r.cursor[0] = '\0';
	snprintf(u->r.phase, sizeof(u->r.phase), "post");
	return run_save(u);
}

/* Phase "fetch": one page of balance transactions, stored. */
static enum step
step_fetch(struct run *u)
{
	static const char *const segs[] = { "balance_transactions", NULL };
	struct json_object	*page, *data, *t, *v;
	struct sync_item	 it;
	const char		*query[12];
	enum step		 st;
	char			*ctx, why[WHY_MAX], gte[24], state[12];
	char			 before[128];
	size_t			 i, n, q = 0;
	int			 more, rc;

	query[q++] = "expand[]";
	query[q++] = "data.source";
	if (u->r.window_gte > 0) {
		snprintf(gte, sizeof(gte), "%lld", (long long)u->r.window_gte);
		query[q++] = "created[gte]";
		query[q++] = gte;
	}
	query[q] = NULL;
	if (!run_stripe_page(u, segs, query, &page, &data, &more, &st))
		return st;
	n = json_object_array_length(data);
	if ((st = run_begin(u)) != S_NEXT) {
		json_object_put(page);
		return st;
	}
	snprintf(before, sizeof(before), "%s", u->r.cursor);
	for (i = 0; i < n; i++) {
		t = json_object_array_get_idx(data, i);
		if (json_object_object_get_ex(t, "id", &v) &&
		    json_object_is_type(v, json_type_string) &&
		    (size_t)json_object_get_string_len(v) <
		    sizeof(u->r.cursor) && valid_string(FT_REF,
		    json_object_get_string(v), (size_t)
		    json_object_get_string_len(v)))
			snprintf(u->r.cursor, sizeof(u->r.cursor), "%s",
			    json_object_get_string(v));
		if (!syncmap_item(t, u->r.mode, &it, &ctx, why, sizeof(why))) {
			/* Not one we can read: reported, never guessed. */
			if (!run_problem(u, u->r.cursor, NULL, "UNREADABLE",
			    "this balance transaction cannot be read (%s); it "
			    "is not imported: report it to the app's "
			    "maintainers", why))
				goto dberr;
			u->r.n[SN_FAILED]++;
			continue;
		}
		it.ctx = ctx;
		rc = db_item_add(u->x->db, u->r.install_id, &it, u->r.run_id,
		    state);
		free(ctx);
		if (rc < 0)
			goto dberr;
		if (rc == 1)
			u->r.n[SN_FOUND]++;
		else if (strcmp(state, "confirmed") == 0)
			u->r.n[SN_PRESENT]++;
		if (it.created > u->r.high_water)
			u->r.high_water = it.created;
	}
	json_object_put(page);
	if (more && strcmp(before, u->r.cursor) == 0) {
		db_rollback(u->x->db);
		return run_fail(u, "STRIPE_ERROR", "Stripe answered the same "
		    "page twice; the listing cannot go on");
	}
	if ((st = run_save(u)) != S_NEXT || more)
		return st;
	return fetch_done(u);
dberr:
	json_object_put(page);
	return run_db_fail(u, "storing balance transactions");
}

/* --- check ----------------------------------------------------------- */

/* Phase "check": Stripe's balance against Blnk's, per currency. */
static enum step
step_check(struct run *u)
{
	struct json_object	*sums, *out, *data, *row, *arr, *o, *v;
	struct json_object_iterator it, end;
	enum step		 st;
	const char		*cur;
	char			 up[4], text[MONEY_FMTLEN];
	int64_t			 precise, precision, blnk;
	size_t			 i, n;
	int			 found, all;

	if (!run_stripe_balance(u, &sums, &st))
		return st;
	if (!run_blnk_balances(u, &out, &data, &st)) {
		json_object_put(sums);
		return st;
	}
	n = json_object_array_length(data);
	arr = json_object_new_array();
	all = u->s.import_payins && u->s.import_fees && u->s.import_payouts &&
	    u->s.import_other && strcmp(u->r.kind, "all") == 0;
	it = json_object_iter_begin(sums);
	end = json_object_iter_end(sums);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		cur = json_object_iter_peek_name(&it);
		if (money_upper(cur, up) == NULL)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "currency", json_object_new_string(up));
		json_object_object_add(o, "stripe_minor", json_object_new_int64(
		    json_object_get_int64(json_object_iter_peek_value(&it))));
		blnk = 0;
		found = 0;
		for (i = 0; i < n; i++) {
			row = json_object_array_get_idx(data, i);
			if (run_str(row, "currency") != NULL &&
			    strcmp(run_str(row, "currency"), up) == 0 &&
			    json_object_object_get_ex(row, "balance", &v)) {
				blnk = json_object_get_int64(v);
				found = 1;
			}
		}
		if (money_to_blnk(cur, json_object_get_int64(
		    json_object_iter_peek_value(&it)), &precise, &precision,
		    NULL)) {
			money_format(precise, precision, text, sizeof(text));
			json_object_object_add(o, "stripe",
			    json_object_new_string(text));
			money_format(blnk, precision, text, sizeof(text));
			json_object_object_add(o, "blnk",
			    json_object_new_string(text));
			json_object_object_add(o, "precision",
			    json_object_new_int64(precision));
			json_object_object_add(o, "match",
			    json_object_new_boolean(blnk == -precise));
		} else
			json_object_object_add(o, "match",
			    json_object_new_boolean(0));
		json_object_object_add(o, "blnk_precise",
		    json_object_new_int64(blnk));
		json_object_object_add(o, "blnk_found",
		    json_object_new_boolean(found));
		json_object_object_add(o, "all_kinds_imported",
		    json_object_new_boolean(all));
		json_object_array_add(arr, o);
	}
	json_object_put(out);
	json_object_put(sums);
	free(u->r.balances);
	u->r.balances = run_json_dup(arr);
	json_object_put(arr);
	snprintf(u->r.phase, sizeof(u->r.phase), "done");
	if ((st = run_begin(u)) != S_NEXT)
		return st;
	if ((st = run_save(u)) != S_NEXT)
		return st;
	return S_DONE;
}

/* --- the run --------------------------------------------------------- */

static enum step
step(struct run *u)
{
	const char	*p = u->r.phase;

	if (strcmp(p, "queued") == 0 || strcmp(p, "start") == 0)
		return step_start(u);
	if (strcmp(p, "customers") == 0)
		return step_customers(u);
	if (strcmp(p, "fetch") == 0)
		return step_fetch(u);
	if (strcmp(p, "post") == 0)
		return step_post(u);
	if (strcmp(p, "confirm") == 0)
		return step_confirm(u);
	if (strcmp(p, "check") == 0)
		return step_check(u);
	if (strcmp(p, "done") == 0)
		return S_DONE;
	return run_fail(u, "INTERNAL", "the run is in a phase this version "
	    "does not know");
}

/* End the run as status. */
static void
finish(struct run *u, const char *status)
{
	char	 now[32];

	run_now_text(now, sizeof(now));
	if (!db_begin(u->x->db))
		return;
	if (db_run_save(u->x->db, &u->r, u->x->owner,
	    run_now() + u->x->cf->sync_lease, now) != 1 ||
	    db_run_finish(u->x->db, u->r.run_id, u->x->owner, status, u->code[0] != '\0' ? u->code : NULL,
	    u->msg[0] != '\0' ? u->msg : NULL, now) != 1 ||
	    /* A failure begins (or goes on with) a streak worth one alert;
	     * a completed sync ends it.  With the end, or not at all. */
	    !alerts_run_ended(u->x->db, u->r.install_id, u->r.run_id,
	    u->r.mode, status, u->code[0] != '\0' ? u->code : NULL, u->msg) ||
	    !db_commit(u->x->db)) {
		db_rollback(u->x->db);
		log_error("sync %s: could not record its end: %s",
		    u->r.run_id, db_errmsg(u->x->db));
		return;
	}
	if (strcmp(status, "completed") == 0)
		log_info("sync %s: completed: %lld found, %lld imported, %lld "
		    "already present, %lld rejected, %lld failed",
		    u->r.run_id, (long long)u->r.n[SN_FOUND],
		    (long long)u->r.n[SN_IMPORTED],
		    (long long)u->r.n[SN_PRESENT],
		    (long long)u->r.n[SN_REJECTED],
		    (long long)u->r.n[SN_FAILED]);
	else
		log_warn("sync %s: failed: %s: %s", u->r.run_id, u->code,
		    u->msg);
}

int
sync_work(struct sync_ctx *x)
{
	struct run	 u;
	char		 now[32];
	enum step	 st;
	int		 rc;

	memset(&u, 0, sizeof(u));
	u.x = x;
	run_now_text(now, sizeof(now));
	if ((rc = db_run_claim(x->db, x->owner, run_now(),
	    run_now() + x->cf->sync_lease,
	    now, &u.r)) <= 0)
		return rc;
	log_info("sync %s: claimed (%s, attempt %lld, phase %s)", u.r.run_id,
	    u.r.kind, (long long)u.r.attempts, u.r.phase);
	/* A reconciliation is a job of the same queue: its own steps. */
	if ((st = run_setup(&u)) == S_NEXT)
		while ((st = strcmp(u.r.job, "reconcile") == 0 ?
		    recon_step(&u) : step(&u)) == S_NEXT &&
		    !x->stopping(x->arg) && (st = run_recheck(&u)) == S_NEXT)
			continue;
	switch (st) {
	case S_NEXT:
	case S_STOP:
		if (db_run_release(x->db, u.r.run_id, x->owner) == 1)
			log_info("sync %s: stopping; the lease is given up for "
			    "the next runner", u.r.run_id);
		break;
	case S_DONE:
		finish(&u, "completed");
		break;
	case S_FAIL:
		finish(&u, "failed");
		break;
	case S_LOST:
		log_warn("sync %s: another runner holds it now; leaving it",
		    u.r.run_id);
		break;
	case S_DBERR:
		break;
	}
	if (u.key != NULL) {
		crypto_wipe(u.key, strlen(u.key));
		free(u.key);
	}
	sync_run_free(&u.r);
	recon_free(&u.rc);
	return st == S_DBERR ? -1 : 1;
}

struct sched_ctx {
	struct sync_ctx	*x;
	int		 queued;
	int		 ok;
};

static int
sched_one(const char *install, int64_t minutes, const char *last, void *arg)
{
	struct sched_ctx	*c = arg;
	char			 id[40], now[32], active[40];
	int			 rc;

	if (last != NULL && util_parse_utc(last) + minutes * 60 > run_now())
		return 1;
	if (!crypto_random_id("run_", id, sizeof(id)))
		return 1;
	run_now_text(now, sizeof(now));
	if (!db_begin(c->x->db)) {
		c->ok = 0;
		return 0;
	}
	rc = db_run_create(c->x->db, id, install, "all", "schedule", now,
	    active);
	if (rc < 0 || (rc == 1 && !db_commit(c->x->db))) {
		db_rollback(c->x->db);
		c->ok = 0;
		return 0;
	}
	if (rc == 0)
		db_rollback(c->x->db);
	else {
		log_info("sync %s: queued by the schedule (every %lld "
		    "minutes)", id, (long long)minutes);
		c->queued++;
	}
	return 1;
}

int
sync_schedule(struct sync_ctx *x)
{
	struct sched_ctx	 c;

	memset(&c, 0, sizeof(c));
	c.x = x;
	c.ok = 1;
	if (!db_schedules(x->db, sched_one, &c) || !c.ok)
		return -1;
	return c.queued;
}
