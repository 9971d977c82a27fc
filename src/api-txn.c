/*
 * api-txn.c: posting a transaction from the portal (data:write) and
 * following it to its outcome (data:read).
 *
 *   POST /api/v1/transactions	{amount, precision, currency, source,
 *				 destination, description, reference?,
 *				 allow_overdraft?}
 *   GET /api/v1/references/<reference>
 *
 * In the product this is the correcting adjustment a user posts from a
 * reconciliation difference.  Core's rules are checked here, before any
 * call: a whole positive amount in minor units at a precision that is a
 * power of ten (precise_amount is sent as a JSON number: Core decodes a
 * big integer, and a string is a 400 there), a description (Core requires
 * one), two different parties.  The reference is the idempotency key: one
 * is made here when the user gives none.
 *
 * Core answers 201 QUEUED and applies the transaction later, writing a new
 * row with the reference "<reference>_q" whose status is APPLIED or
 * REJECTED.  The 201 proves nothing, so the status route reads both rows
 * back through the Data API and says which state the posting is in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cloud.h"
#include "crypto.h"
#include "http.h"
#include "log.h"
#include "valid.h"

#define AMOUNT_MAX	999999999999999LL	/* 10^15 - 1 minor units */
#define PRECISION_MAX	1000000000000000000LL	/* 10^18 */
#define REFERENCE_MAX	100

enum {
	TF_AMOUNT, TF_PRECISION, TF_CURRENCY, TF_SOURCE, TF_DESTINATION,
	TF_DESCRIPTION, TF_REFERENCE, TF_OVERDRAFT, TF__MAX
};
static const struct field txn_fields[TF__MAX] = {
	[TF_AMOUNT] = { "amount", FT_INT, 1 },
	[TF_PRECISION] = { "precision", FT_INT, 1 },
	[TF_CURRENCY] = { "currency", FT_CURRENCY, 1 },
	[TF_SOURCE] = { "source", FT_PARTY, 1 },
	[TF_DESTINATION] = { "destination", FT_PARTY, 1 },
	[TF_DESCRIPTION] = { "description", FT_TEXT, 1 },
	[TF_REFERENCE] = { "reference", FT_REF, 0 },
	[TF_OVERDRAFT] = { "allow_overdraft", FT_BOOL, 0 },
};

static int
power_of_ten(int64_t p)
{
	int64_t	 v;

	/* Stop before multiplying past PRECISION_MAX: 10^19 overflows. */
	for (v = 1; ; v *= 10) {
		if (v == p)
			return 1;
		if (v > PRECISION_MAX / 10)
			return 0;
	}
}

void
api_txn_create(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	struct json_object	*in, *body, *meta, *app_meta, *out, *o, *v;
	struct fieldval		 f[TF__MAX];
	struct cloud_call	 call;
	const char		*segs[] = { "transactions", NULL };
	char			 ref[REFERENCE_MAX + 1];
	char			 url[REFERENCE_MAX + 32];
	int			 rc;

	if ((in = api_body(req, resp, txn_fields, TF__MAX, f)) == NULL)
		return;
	if (f[TF_AMOUNT].i < 1 || f[TF_AMOUNT].i > AMOUNT_MAX)
		resp_error(resp, 400, "INVALID_FIELD", "amount", "must be a "
		    "whole number of minor units from 1 to 999999999999999");
	else if (!power_of_ten(f[TF_PRECISION].i))
		resp_error(resp, 400, "INVALID_FIELD", "precision", "must be "
		    "a power of ten (1, 10, 100, ...), the number of minor "
		    "units in one unit of the currency");
	else if (strcmp(f[TF_SOURCE].s, f[TF_DESTINATION].s) == 0)
		resp_error(resp, 400, "INVALID_FIELD", "destination", "must "
		    "differ from source");
	else if (f[TF_REFERENCE].present &&
	    f[TF_REFERENCE].len > REFERENCE_MAX)
		resp_error(resp, 400, "INVALID_FIELD", "reference", "must be "
		    "at most 100 characters");
	else if (f[TF_REFERENCE].present && f[TF_REFERENCE].len > 2 &&
	    strcmp(f[TF_REFERENCE].s + f[TF_REFERENCE].len - 2, "_q") == 0)
		resp_error(resp, 400, "INVALID_FIELD", "reference", "must not "
		    "end in _q, which Core gives the row of the applied "
		    "transaction");
	if (resp->body != NULL) {
		json_object_put(in);
		return;
	}
	if (f[TF_REFERENCE].present)
		snprintf(ref, sizeof(ref), "%s", f[TF_REFERENCE].s);
	else if (!crypto_random_id("portal-", ref, sizeof(ref))) {
		json_object_put(in);
		resp_error(resp, 500, "INTERNAL", NULL, "no randomness");
		return;
	}

	body = json_object_new_object();
	meta = json_object_new_object();
	app_meta = json_object_new_object();
	json_object_object_add(body, "precise_amount",
	    json_object_new_int64(f[TF_AMOUNT].i));
	json_object_object_add(body, "precision",
	    json_object_new_int64(f[TF_PRECISION].i));
	json_object_object_add(body, "currency",
	    json_object_new_string(f[TF_CURRENCY].s));
	json_object_object_add(body, "source",
	    json_object_new_string(f[TF_SOURCE].s));
	json_object_object_add(body, "destination",
	    json_object_new_string(f[TF_DESTINATION].s));
	json_object_object_add(body, "description",
	    json_object_new_string(f[TF_DESCRIPTION].s));
	json_object_object_add(body, "reference", json_object_new_string(ref));
	if (f[TF_OVERDRAFT].present)
		json_object_object_add(body, "allow_overdraft",
		    json_object_new_boolean(f[TF_OVERDRAFT].b));
	json_object_object_add(app_meta, "posted_from",
	    json_object_new_string("portal"));
	json_object_object_add(meta, "stripe_sync", app_meta);
	json_object_object_add(body, "meta_data", meta);
	json_object_put(in);

	memset(&call, 0, sizeof(call));
	call.api = CLOUD_PROXY;
	call.method = HTTPC_POST;
	call.segs = segs;
	call.body = body;
	rc = api_cloud(app, c, resp, &call, &out);
	json_object_put(body);
	if (!rc)
		return;
	log_info("portal: transaction posted (reference %s)", ref);
	o = json_object_new_object();
	json_object_object_add(o, "reference", json_object_new_string(ref));
	json_object_object_add(o, "status",
	    json_object_object_get_ex(out, "status", &v) &&
	    json_object_is_type(v, json_type_string) ? json_object_get(v) :
	    json_object_new_string("QUEUED"));
	if (json_object_object_get_ex(out, "transaction_id", &v))
		json_object_object_add(o, "transaction_id",
		    json_object_get(v));
	snprintf(url, sizeof(url), "/api/v1/references/%s", ref);
	json_object_object_add(o, "status_url", json_object_new_string(url));
	json_object_put(out);
	resp_json(resp, 201, o);
}

/* The row of list whose reference is ref, or NULL. */
static struct json_object *
row_of(struct json_object *list, const char *ref)
{
	struct json_object	*it, *v;
	size_t			 i, n = json_object_array_length(list);

	for (i = 0; i < n; i++) {
		it = json_object_array_get_idx(list, i);
		if (json_object_object_get_ex(it, "reference", &v) &&
		    json_object_is_type(v, json_type_string) &&
		    strcmp(json_object_get_string(v), ref) == 0)
			return it;
	}
	return NULL;
}

void
api_txn_status(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	struct json_object	*out, *list, *first, *final, *o, *v;
	struct cloud_call	 call;
	const char		*segs[] = { "transactions", NULL };
	const char		*query[5], *state;
	char			 both[2 * 256 + 4], q[256 + 3];

	(void)req;
	if (strlen(c->id) > REFERENCE_MAX) {
		resp_error(resp, 400, "INVALID_FIELD", "reference", "must be "
		    "at most 100 characters");
		return;
	}
	snprintf(q, sizeof(q), "%s_q", c->id);
	snprintf(both, sizeof(both), "%s,%s", c->id, q);
	query[0] = "reference_in";
	query[1] = both;
	query[2] = "pageSize";
	query[3] = "10";
	query[4] = NULL;
	memset(&call, 0, sizeof(call));
	call.api = CLOUD_DATA;
	call.method = HTTPC_GET;
	call.segs = segs;
	call.query = query;
	if (!api_cloud(app, c, resp, &call, &out))
		return;
	if (!json_object_object_get_ex(out, "data", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		json_object_put(out);
		resp_error(resp, 502, "CLOUD_ERROR", NULL, "Blnk Cloud's "
		    "answer had no data list");
		return;
	}
	first = row_of(list, c->id);
	final = row_of(list, q);
	if (first == NULL && final == NULL) {
		json_object_put(out);
		resp_error(resp, 404, "NOT_FOUND", "reference", "no "
		    "transaction has this reference (yet)");
		return;
	}
	/* The _q row is the outcome; without it, the first row's own
	 * status (QUEUED, or final if it skipped the queue). */
	state = "QUEUED";
	if ((final != NULL && json_object_object_get_ex(final, "status",
	    &v)) || (final == NULL && json_object_object_get_ex(first,
	    "status", &v)))
		if (json_object_is_type(v, json_type_string))
			state = json_object_get_string(v);
	o = json_object_new_object();
	json_object_object_add(o, "reference", json_object_new_string(c->id));
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "final", json_object_new_boolean(
	    strcmp(state, "APPLIED") == 0 || strcmp(state, "REJECTED") == 0 ||
	    strcmp(state, "VOID") == 0));
	json_object_object_add(o, "transaction",
	    json_object_get(final != NULL ? final : first));
	json_object_put(out);
	resp_json(resp, 200, o);
}
