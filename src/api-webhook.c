/*
 * api-webhook.c: Stripe's webhook deliveries, and the signing secret an
 * install sets for them in the portal.
 *
 *   POST   /api/stripe/webhook/<installed_app_id>
 *				Stripe's deliveries (no session: the
 *				signature authenticates them)
 *   GET    /api/v1/stripe/webhook	data:read	{"webhook": {...}}
 *   PUT    /api/v1/stripe/webhook	data:write	{secret: whsec_...}
 *   DELETE /api/v1/stripe/webhook	data:write	the secret goes
 *
 * A delivery is verified on its raw bytes (webhook.c) before anything of
 * it is parsed.  An install that is unknown, uninstalled, or has no secret
 * is verified all the same under a random key of this process, so it is
 * refused exactly as a wrong signature is (400 SIGNATURE_MISMATCH): the
 * endpoint never tells anyone which install ids exist.  A verified event
 * is recorded once (a redelivery is 200 and changes nothing) and, if it
 * moves money or reports a payout reconciled, asks for a job: a
 * debounced request that stripe-syncd turns into a run (sync-jobs.c).
 * Nothing here calls out, so the answer is immediate; and nothing of an
 * event but its id, type, mode and (for a reconciliation) its payout's id
 * is read: amounts come from Stripe's balance transactions only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "util.h"
#include "valid.h"
#include "webhook.h"

enum { EF_ID, EF_TYPE, EF_LIVEMODE, EF__MAX };
static const struct field event_fields[EF__MAX] = {
	[EF_ID] = { "id", FT_ID, 1 },
	[EF_TYPE] = { "type", FT_WORD, 1 },
	[EF_LIVEMODE] = { "livemode", FT_BOOL, 1 },
};

enum { SF_SECRET, SF__MAX };
static const struct field secret_fields[SF__MAX] = {
	[SF_SECRET] = { "secret", FT_APIKEY, 1 },
};

/* Does s start with prefix and go on with something? */
static int
prefixed(const char *s, const char *prefix)
{
	size_t	 n = strlen(prefix);

	return strncmp(s, prefix, n) == 0 && s[n] != '\0';
}

/*
 * The secret of install id (the install's own, or this process's random
 * stand-in) into *key.  *own is set when it is the install's.  Returns 1,
 * or 0 on a database error.
 */
static int
signing_key(struct app *app, const char *id, char **key, size_t *keylen,
    int *own)
{
	static unsigned char	 standin[32];
	static int		 have;
	int			 rc;

	*key = NULL;
	*keylen = 0;
	*own = 0;
	if (valid_string(FT_ID, id, strlen(id))) {
		if ((rc = db_webhook_secret(app->db, app->cf, id, key)) < 0)
			return 0;
		if (rc == 1) {
			*keylen = strlen(*key);
			*own = 1;
			return 1;
		}
	}
	if (!have && !(have = crypto_random(standin, sizeof(standin))))
		return 0;
	*key = (char *)standin;
	*keylen = sizeof(standin);
	return 1;
}

/* The event's data.object, or NULL. */
static struct json_object *
data_object(struct json_object *ev)
{
	struct json_object	*data, *obj;

	if (!json_object_object_get_ex(ev, "data", &data) ||
	    !json_object_is_type(data, json_type_object) ||
	    !json_object_object_get_ex(data, "object", &obj) ||
	    !json_object_is_type(obj, json_type_object))
		return NULL;
	return obj;
}

/* The answer to a delivery taken: received, what it asked for. */
static struct json_object *
taken_json(enum wh_action action, int duplicate, const char *ignored)
{
	struct json_object	*o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "received", json_object_new_boolean(1));
	json_object_object_add(o, "duplicate",
	    json_object_new_boolean(duplicate));
	json_object_object_add(o, "action",
	    json_object_new_string(wh_action_names[action]));
	if (ignored != NULL)
		json_object_object_add(o, "ignored",
		    json_object_new_string(ignored));
	return o;
}

/*
 * The event's money-moving or reconciling action, or WA_NONE with
 * *ignored saying why not: the install is not connected to Stripe, or the
 * event is of the other mode than its key.  Returns 0 on a database
 * error.
 */
static int
event_action(struct app *app, const char *id, const char *type,
    int livemode, enum wh_action *action, const char **ignored)
{
	struct stripe_conn	 sc;
	int			 rc;

	*ignored = NULL;
	if ((*action = webhook_action(type)) == WA_NONE)
		return 1;
	if ((rc = db_stripe_get(app->db, id, &sc)) < 0)
		return 0;
	if (rc == 0)
		*ignored = "not_connected";
	else if ((strcmp(sc.mode, "live") == 0) != (livemode != 0))
		*ignored = "other_mode";
	if (*ignored != NULL)
		*action = WA_NONE;
	return 1;
}

void
webhook_handle(struct app *app, const struct req *req, struct resp *resp)
{
	struct json_object	*ev = NULL, *obj, *v;
	struct fieldval		 f[EF__MAX];
	struct verr		 e;
	enum wh_status		 st;
	enum wh_action		 action;
	const char		*id = req->path + strlen(WEBHOOK_PATH);
	const char		*payout = "", *ignored;
	char			*key;
	char			 now[32];
	size_t			 keylen;
	int64_t			 t;
	int			 own, rc;

	if (req->body_too_large) {
		resp_error(resp, 413, "BODY_TOO_LARGE", "body", "request body "
		    "is larger than 64 KiB");
		return;
	}
	if (!signing_key(app, id, &key, &keylen, &own)) {
		api_db_error(app, resp, "webhook: reading the signing secret");
		return;
	}
	st = webhook_verify(req->stripe_signature, key, keylen, req->body,
	    req->body != NULL ? req->bodylen : 0, req->now, &t);
	if (own) {
		crypto_wipe(key, keylen);
		free(key);
	}
	if (st != WH_OK) {
		/* The id is logged only when it is an install's, so a
		 * stranger's guesses do not fill the log. */
		if (own)
			log_info("webhook: refused a delivery for install %s: "
			    "%s", id, wh_codes[st]);
		else if (st == WH_NO_MATCH &&
		    valid_string(FT_ID, id, strlen(id)))
			log_info("webhook: refused a delivery: %s (no active "
			    "install with a signing secret has that id)",
			    wh_codes[st]);
		else
			log_info("webhook: refused a delivery: %s",
			    wh_codes[st]);
		resp_error(resp, 400, wh_codes[st], "Stripe-Signature",
		    wh_messages[st]);
		return;
	}
	snprintf(resp->install, sizeof(resp->install), "%s", id);

	/* Signed by Stripe: now the body may be read. */
	memset(&e, 0, sizeof(e));
	if ((ev = valid_body(req->content_type, req->body, req->bodylen, 0,
	    &e)) == NULL || !valid_fields(ev, event_fields, EF__MAX, f, &e)) {
		json_object_put(ev);
		resp_error(resp, e.status, e.code, e.field, e.message);
		return;
	}
	if (!prefixed(f[EF_ID].s, "evt_")) {
		resp_error(resp, 400, "INVALID_FIELD", "id", "is not a Stripe "
		    "event id (evt_...)");
		goto out;
	}
	if ((obj = data_object(ev)) == NULL) {
		resp_error(resp, 400, "INVALID_FIELD", "data.object", "must be "
		    "the object the event is about");
		goto out;
	}
	if (!event_action(app, id, f[EF_TYPE].s, f[EF_LIVEMODE].b, &action,
	    &ignored)) {
		api_db_error(app, resp, "webhook: reading the connection");
		goto out;
	}
	if (action == WA_RECONCILE) {
		if (!json_object_object_get_ex(obj, "id", &v) ||
		    !json_object_is_type(v, json_type_string) ||
		    !valid_string(FT_ID, json_object_get_string(v),
		    (size_t)json_object_get_string_len(v)) ||
		    !prefixed(json_object_get_string(v), "po_") ||
		    json_object_get_string_len(v) >= 64) {
			resp_error(resp, 400, "INVALID_FIELD", "data.object.id",
			    "is not a Stripe payout id (po_...)");
			goto out;
		}
		payout = json_object_get_string(v);
	}

	util_now_rfc3339(now, sizeof(now));
	if (!db_begin(app->db)) {
		api_db_error(app, resp, "webhook: begin");
		goto out;
	}
	rc = db_webhook_event_add(app->db, id, f[EF_ID].s, f[EF_TYPE].s,
	    f[EF_LIVEMODE].b, wh_action_names[action], now);
	if (rc < 0 || (rc == 1 && action != WA_NONE &&
	    !db_job_request(app->db, id, action == WA_SYNC ? "sync" :
	    "reconcile", payout, req->now, app->cf->webhook_debounce,
	    app->cf->webhook_max_wait)) || !db_commit(app->db)) {
		api_db_error(app, resp, "webhook: recording the event");
		goto out;
	}
	if (rc == 0)
		log_info("webhook: event %s (%s) again: already recorded",
		    f[EF_ID].s, f[EF_TYPE].s);
	else
		log_info("webhook: event %s (%s): %s%s%s", f[EF_ID].s,
		    f[EF_TYPE].s, action == WA_NONE ? "nothing to do" :
		    action == WA_SYNC ? "a sync asked for" :
		    "a reconciliation of the payout asked for",
		    ignored != NULL ? ", ignored: " : "",
		    ignored != NULL ? ignored : "");
	/* A redelivery changed nothing: it asked for nothing. */
	resp_json(resp, 200, taken_json(rc == 1 ? action : WA_NONE, rc == 0,
	    rc == 1 ? ignored : NULL));
out:
	json_object_put(ev);
}

/* See http.h. */
struct json_object *
api_webhook_json(struct app *app, const char *id)
{
	struct webhook_info	 w;
	struct json_object	*o;
	char			 path[sizeof(WEBHOOK_PATH) + 256];

	if (!db_webhook_info(app->db, id, &w)) {
		log_error("portal: reading the webhook: %s",
		    db_errmsg(app->db));
		return NULL;
	}
	if ((o = json_object_new_object()) == NULL)
		return NULL;
	snprintf(path, sizeof(path), "%s%s", WEBHOOK_PATH, id);
	json_object_object_add(o, "set", json_object_new_boolean(w.set));
	json_object_object_add(o, "last4", w.set ?
	    json_object_new_string(w.last4) : NULL);
	json_object_object_add(o, "set_at", w.set ?
	    json_object_new_string(w.set_at) : NULL);
	json_object_object_add(o, "path", json_object_new_string(path));
	json_object_object_add(o, "last_event_at", w.last_event_at[0] != '\0' ?
	    json_object_new_string(w.last_event_at) : NULL);
	json_object_object_add(o, "events", json_object_new_int64(w.events));
	return o;
}

/* Answer {"webhook": {...}} for install id. */
static void
webhook_answer(struct app *app, struct resp *resp, const char *id)
{
	struct json_object	*o, *w;

	if ((w = api_webhook_json(app, id)) == NULL) {
		api_db_error(app, resp, "reading the webhook");
		return;
	}
	if ((o = json_object_new_object()) == NULL) {
		json_object_put(w);
		resp_error(resp, 500, "INTERNAL", NULL, "out of memory");
		return;
	}
	json_object_object_add(o, "webhook", w);
	resp_json(resp, 200, o);
}

void
api_webhook_get(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	(void)req;
	webhook_answer(app, resp, c->s.tok.install_id);
}

void
api_webhook_put(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	struct json_object	*in;
	struct fieldval		 f[SF__MAX];
	const char		*id = c->s.tok.install_id;
	char			*secret, now[32];
	size_t			 n;

	if ((in = api_body(req, resp, secret_fields, SF__MAX, f)) == NULL)
		return;
	/* Our own copy, wiped below; json-c's is wiped at once. */
	n = f[SF_SECRET].len;
	secret = strndup(f[SF_SECRET].s, n);
	valid_wipe_string(in, "secret");
	json_object_put(in);
	if (secret == NULL) {
		resp_error(resp, 500, "INTERNAL", NULL, "out of memory");
		return;
	}
	if (!webhook_secret_valid(secret, n)) {
		resp_error(resp, 400, "INVALID_FIELD", "secret", "must be the "
		    "endpoint's signing secret as Stripe's dashboard shows it "
		    "(Developers, Webhooks, the endpoint, \"Signing secret\"): "
		    "whsec_ and at least 16 letters and digits");
		goto out;
	}
	util_now_rfc3339(now, sizeof(now));
	if (!db_begin(app->db) ||
	    !db_webhook_secret_put(app->db, app->cf, id, secret, now) ||
	    !db_commit(app->db)) {
		api_db_error(app, resp, "storing the webhook secret");
		goto out;
	}
	log_info("stripe: webhook signing secret set");
	webhook_answer(app, resp, id);
out:
	crypto_wipe(secret, n);
	free(secret);
}

void
api_webhook_delete(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	int	 rc;

	(void)req;
	if (!db_begin(app->db) ||
	    (rc = db_webhook_secret_delete(app->db, c->s.tok.install_id)) < 0 ||
	    !db_commit(app->db)) {
		api_db_error(app, resp, "deleting the webhook secret");
		return;
	}
	if (rc == 1)
		log_info("stripe: webhook signing secret deleted");
	webhook_answer(app, resp, c->s.tok.install_id);
}
