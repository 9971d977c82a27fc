/*
 * api-sync.c: sync runs from the portal.
 *
 *   POST /api/v1/syncs		data:write	{kind?: "all"|"payins"|"payouts"}
 *					queues a run for stripe-syncd: 202
 *   GET  /api/v1/syncs		data:read	?status=all|completed|
 *					in_progress|failed&page=&page_size=
 *					the history, with the four counts
 *   GET  /api/v1/syncs/<id>	data:read	one run: counters, progress,
 *					balances, problems item by item
 *
 * Nothing here talks to Stripe or Cloud: a request only reads or writes
 * the database, so the workers keep answering at once while runs go on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "crypto.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "query.h"
#include "settings.h"
#include "util.h"
#include "valid.h"

#define PAGE_MAX	100000
#define PAGE_SIZE_MAX	100
#define PROBLEMS_MAX	500	/* shown per run; the total is counted */

static const struct {
	const char	*kind;
	const char	*name;
} kinds[] = {
	{ "all", "Full sync" },
	{ "payins", "Pay-in sync" },
	{ "payouts", "Payout sync" },
};

#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))

enum { SF_KIND, SF__MAX };
static const struct field sync_fields[SF__MAX] = {
	[SF_KIND] = { "kind", FT_WORD, 0 },
};

static const char *
run_name(const char *kind)
{
	size_t	 i;

	for (i = 0; i < NKINDS; i++)
		if (strcmp(kind, kinds[i].kind) == 0)
			return kinds[i].name;
	return "Sync";
}

/* Add k: v (a string, or null for "") to o. */
static void
add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v != NULL && v[0] != '\0' ?
	    json_object_new_string(v) : NULL);
}

/* The run as the portal shows it in the history and the detail. */
static struct json_object *
run_json(const struct sync_run *r)
{
	struct json_object	*o, *n, *p, *err;
	size_t			 i;

	if ((o = json_object_new_object()) == NULL)
		return NULL;
	add_str(o, "id", r->run_id);
	add_str(o, "name", run_name(r->kind));
	add_str(o, "kind", r->kind);
	add_str(o, "trigger", r->trigger);
	add_str(o, "mode", r->mode);
	/* The portal's four cards: "running" and "queued" are both in
	 * progress there. */
	add_str(o, "status", r->status);
	n = json_object_new_object();
	for (i = 0; i < SN_TO_CONFIRM; i++)
		json_object_object_add(n, sync_n_names[i],
		    json_object_new_int64(r->n[i]));
	json_object_object_add(o, "counts", n);
	p = json_object_new_object();
	add_str(p, "phase", r->phase);
	json_object_object_add(p, "to_confirm",
	    json_object_new_int64(r->n[SN_TO_CONFIRM]));
	json_object_object_add(p, "confirmed",
	    json_object_new_int64(r->n[SN_CONFIRMED]));
	json_object_object_add(o, "progress", p);
	if (r->error_code[0] != '\0') {
		err = json_object_new_object();
		add_str(err, "code", r->error_code);
		add_str(err, "message", r->error_message);
		json_object_object_add(o, "error", err);
	} else
		json_object_object_add(o, "error", NULL);
	json_object_object_add(o, "attempts",
	    json_object_new_int64(r->attempts));
	add_str(o, "created_at", r->created_at);
	add_str(o, "started_at", r->started_at);
	add_str(o, "finished_at", r->finished_at);
	return o;
}

/* Does the install's settings import anything a run of kind would post?
 * Returns 1, or 0 with resp filled. */
static int
kind_enabled(const struct settings *s, const char *kind, struct resp *resp)
{
	if (strcmp(kind, "payins") == 0 && !s->import_payins)
		resp_error(resp, 409, "KIND_NOT_IMPORTED", "kind", "the "
		    "settings do not import pay-ins (import.payins)");
	else if (strcmp(kind, "payouts") == 0 && !s->import_payouts)
		resp_error(resp, 409, "KIND_NOT_IMPORTED", "kind", "the "
		    "settings do not import payouts (import.payouts)");
	else if (!s->import_payins && !s->import_payouts && !s->import_fees &&
	    !s->import_other)
		resp_error(resp, 409, "KIND_NOT_IMPORTED", "kind", "the "
		    "settings import nothing: turn on a kind in import");
	return resp->body == NULL;
}

void
api_sync_create(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	struct json_object	*in, *o;
	struct fieldval		 f[SF__MAX];
	struct stripe_conn	 sc;
	struct settings		 s;
	struct sync_run		 r;
	const char		*id = c->s.tok.install_id, *kind = "all";
	char			 run_id[40], active[40], now[32], msg[160];
	size_t			 i;
	int			 rc;

	if ((in = api_body(req, resp, sync_fields, SF__MAX, f)) == NULL)
		return;
	if (f[SF_KIND].present) {
		for (i = 0; i < NKINDS; i++)
			if (strcmp(f[SF_KIND].s, kinds[i].kind) == 0)
				break;
		if (i == NKINDS) {
			json_object_put(in);
			resp_error(resp, 400, "INVALID_FIELD", "kind", "must be "
			    "all, payins or payouts");
			return;
		}
		kind = kinds[i].kind;
	}
	json_object_put(in);
	if ((rc = db_stripe_get(app->db, id, &sc)) < 0) {
		api_db_error(app, resp, "reading the connection");
		return;
	}
	if (rc == 0) {
		resp_error(resp, 409, "STRIPE_NOT_CONNECTED", NULL, "connect a "
		    "Stripe key first");
		return;
	}
	if (!api_settings_load(app, id, &s, resp) ||
	    !kind_enabled(&s, kind, resp))
		return;
	if (!crypto_random_id("run_", run_id, sizeof(run_id))) {
		resp_error(resp, 500, "INTERNAL", NULL, "no randomness");
		return;
	}
	util_now_rfc3339(now, sizeof(now));
	if (!db_begin(app->db)) {
		api_db_error(app, resp, "begin");
		return;
	}
	rc = db_run_create(app->db, run_id, id, kind, "portal", now, active);
	if (rc < 0 || (rc == 1 && !db_commit(app->db))) {
		db_rollback(app->db);
		api_db_error(app, resp, "queueing the run");
		return;
	}
	if (rc == 0) {
		db_rollback(app->db);
		snprintf(msg, sizeof(msg), "a sync or reconciliation is "
		    "already queued or running: %s", active);
		resp_error(resp, 409, "SYNC_IN_PROGRESS", NULL, msg);
		return;
	}
	log_info("sync: %s queued (%s)", run_id, kind);
	if (db_run_get(app->db, run_id, id, &r) != 1) {
		api_db_error(app, resp, "reading the run");
		return;
	}
	o = run_json(&r);
	sync_run_free(&r);
	resp_json(resp, 202, o);
}

struct list_ctx {
	struct json_object	*data;
};

static int
list_one(const struct sync_run *r, void *arg)
{
	struct list_ctx	*l = arg;

	json_object_array_add(l->data, run_json(r));
	return 1;
}

int
api_history_query(const struct req *req, struct resp *resp,
    const char **status, long *page, long *size)
{
	static const char *const statuses[] = { "all", "completed",
	    "in_progress", "failed", NULL };
	struct query		 q;
	struct verr		 e;
	const char		*st;
	size_t			 i;

	*status = NULL;
	*page = 1;
	*size = 20;
	memset(&e, 0, sizeof(e));
	if (!query_parse(req->query, &q, &e)) {
		resp_error(resp, e.status, e.code, e.field, e.message);
		return 0;
	}
	for (i = 0; i < q.n; i++)
		if (strcmp(q.p[i].key, "status") != 0 &&
		    strcmp(q.p[i].key, "page") != 0 &&
		    strcmp(q.p[i].key, "page_size") != 0) {
			query_free(&q);
			resp_error(resp, 400, "INVALID_QUERY", "query", "only "
			    "status, page and page_size are accepted");
			return 0;
		}
	if ((st = query_get(&q, "status")) != NULL) {
		for (i = 0; statuses[i] != NULL; i++)
			if (strcmp(st, statuses[i]) == 0)
				break;
		if (statuses[i] == NULL) {
			query_free(&q);
			resp_error(resp, 400, "INVALID_QUERY", "status", "must "
			    "be all, completed, in_progress or failed");
			return 0;
		}
		*status = i == 0 ? NULL : statuses[i];
	}
	if (!query_page(query_get(&q, "page"), PAGE_MAX, page) ||
	    !query_page(query_get(&q, "page_size"), PAGE_SIZE_MAX, size)) {
		resp_error(resp, 400, "INVALID_QUERY",
		    query_page(query_get(&q, "page"), PAGE_MAX, page) ?
		    "page_size" : "page", "must be a whole number from 1 "
		    "(page_size at most 100)");
		query_free(&q);
		return 0;
	}
	query_free(&q);
	return 1;
}

struct json_object *
api_history_json(struct json_object *data, const int64_t n[4], long page,
    long size)
{
	struct json_object	*o, *counts;

	o = json_object_new_object();
	counts = json_object_new_object();
	json_object_object_add(counts, "all", json_object_new_int64(n[0]));
	json_object_object_add(counts, "completed",
	    json_object_new_int64(n[1]));
	json_object_object_add(counts, "in_progress",
	    json_object_new_int64(n[2]));
	json_object_object_add(counts, "failed", json_object_new_int64(n[3]));
	json_object_object_add(o, "counts", counts);
	json_object_object_add(o, "data", data);
	json_object_object_add(o, "page", json_object_new_int64(page));
	json_object_object_add(o, "page_size", json_object_new_int64(size));
	return o;
}

void
api_sync_list(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	struct list_ctx		 l;
	const char		*status;
	int64_t			 n[4];
	long			 page, size;

	if (!api_history_query(req, resp, &status, &page, &size))
		return;
	l.data = json_object_new_array();
	if (l.data == NULL ||
	    !db_run_counts(app->db, c->s.tok.install_id, "sync", n) ||
	    !db_run_list(app->db, c->s.tok.install_id, status, size,
	    (page - 1) * size, list_one, &l)) {
		json_object_put(l.data);
		api_db_error(app, resp, "listing runs");
		return;
	}
	resp_json(resp, 200, api_history_json(l.data, n, page, size));
}

static int
problem_one(const char *sid, const char *ref, const char *code,
    const char *msg, void *arg)
{
	struct json_object	*arr = arg, *p = json_object_new_object();

	add_str(p, "stripe_id", sid);
	add_str(p, "reference", ref);
	add_str(p, "code", code);
	add_str(p, "message", msg);
	json_object_array_add(arr, p);
	return 1;
}

void
api_sync_get(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	struct json_object	*o, *probs, *bal;
	struct sync_run		 r;
	int64_t			 total;
	int			 rc;

	(void)req;
	if ((rc = db_job_get(app->db, c->id, c->s.tok.install_id, "sync",
	    &r)) < 0) {
		api_db_error(app, resp, "reading the run");
		return;
	}
	if (rc == 0) {
		resp_error(resp, 404, "NOT_FOUND", "id", "no such sync run for "
		    "this install");
		return;
	}
	o = run_json(&r);
	probs = json_object_new_array();
	if (o == NULL || probs == NULL || !db_problems(app->db, r.run_id,
	    PROBLEMS_MAX, problem_one, probs, &total)) {
		json_object_put(o);
		json_object_put(probs);
		sync_run_free(&r);
		api_db_error(app, resp, "reading the problems");
		return;
	}
	json_object_object_add(o, "problems", probs);
	json_object_object_add(o, "problems_total",
	    json_object_new_int64(total));
	bal = r.balances != NULL ? json_tokener_parse(r.balances) : NULL;
	json_object_object_add(o, "balances", bal);
	sync_run_free(&r);
	resp_json(resp, 200, o);
}
