/*
 * api-stripe.c: connecting an install to Stripe, and its sync settings.
 *
 *   GET    /api/v1/stripe	data:read	the connection: mode, key type,
 *					last four characters (never the key)
 *   PUT    /api/v1/stripe	data:write	{api_key, confirm_mode_switch?}
 *   DELETE /api/v1/stripe	data:write	disconnect: the key is deleted
 *   GET    /api/v1/settings	data:read	the settings (settings.h)
 *   PUT    /api/v1/settings	data:write	new settings, validated whole
 *
 * A key is checked against Stripe (GET /v1/balance) before it is stored,
 * sealed like the Cloud key.  An install that imported in one mode (test
 * or live) never silently starts importing in the other: a key of the
 * other mode needs confirm_mode_switch: true.
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
#include "settings.h"
#include "stripe.h"
#include "util.h"
#include "valid.h"

enum { KF_KEY, KF_CONFIRM, KF__MAX };
static const struct field key_fields[KF__MAX] = {
	[KF_KEY] = { "api_key", FT_APIKEY, 1 },
	[KF_CONFIRM] = { "confirm_mode_switch", FT_BOOL, 0 },
};

/* Made on first use, after any fork, and kept: its connections stay
 * warm. */
struct stripe *
app_stripe(struct app *app)
{
	if (app->stripe == NULL &&
	    (app->stripe = stripe_new(app->cf)) == NULL)
		log_error("cannot make the Stripe client (out of memory)");
	return app->stripe;
}

/* The connection as the portal sees it. */
static struct json_object *
conn_json(const struct stripe_conn *c, int connected)
{
	struct json_object	*o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "connected",
	    json_object_new_boolean(connected));
	if (!connected)
		return o;
	json_object_object_add(o, "mode", json_object_new_string(c->mode));
	json_object_object_add(o, "key_type",
	    json_object_new_string(c->key_type));
	json_object_object_add(o, "last4", json_object_new_string(c->last4));
	json_object_object_add(o, "connected_at",
	    json_object_new_string(c->connected_at));
	json_object_object_add(o, "updated_at",
	    json_object_new_string(c->updated_at));
	return o;
}

void
api_stripe_get(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	struct stripe_conn	 sc;
	struct json_object	*o, *w;
	int			 rc;

	(void)req;
	if ((rc = db_stripe_get(app->db, c->s.tok.install_id, &sc)) < 0) {
		api_db_error(app, resp, "reading the connection");
		return;
	}
	/* The webhook's signing secret is the install's, not the key's:
	 * it is shown connected or not. */
	if ((w = api_webhook_json(app, c->s.tok.install_id)) == NULL) {
		api_db_error(app, resp, "reading the webhook");
		return;
	}
	if ((o = conn_json(&sc, rc)) == NULL) {
		json_object_put(w);
		resp_error(resp, 500, "INTERNAL", NULL, "out of memory");
		return;
	}
	json_object_object_add(o, "webhook", w);
	resp_json(resp, 200, o);
}

/*
 * The currencies of Stripe's balance answer, to show that the key reads
 * the account it should; 0 if the answer is not a balance of that mode.
 */
static int
balance_currencies(struct json_object *bal, enum stripe_mode mode,
    struct json_object *out)
{
	struct json_object	*v, *arr, *it, *cur;
	size_t			 i, n;

	if (!json_object_object_get_ex(bal, "object", &v) ||
	    strcmp(json_object_get_string(v), "balance") != 0 ||
	    !json_object_object_get_ex(bal, "livemode", &v) ||
	    !json_object_is_type(v, json_type_boolean) ||
	    json_object_get_boolean(v) != (mode == STRIPE_LIVE))
		return 0;
	if (!json_object_object_get_ex(bal, "available", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return 0;
	n = json_object_array_length(arr);
	for (i = 0; i < n && i < 64; i++) {
		it = json_object_array_get_idx(arr, i);
		if (json_object_object_get_ex(it, "currency", &cur) &&
		    json_object_is_type(cur, json_type_string) &&
		    valid_string(FT_WORD, json_object_get_string(cur),
		    (size_t)json_object_get_string_len(cur)))
			json_object_array_add(out, json_object_get(cur));
	}
	return 1;
}

/* Is key of the same mode as what the install connected or imported?
 * Returns 1 if it may be stored, 0 with resp filled. */
static int
mode_check(struct app *app, const char *id, enum stripe_mode mode,
    int confirmed, struct resp *resp)
{
	struct stripe_conn	 sc;
	char			 last[8], msg[256];
	const char		*was = NULL;
	int			 rc;

	if ((rc = db_stripe_get(app->db, id, &sc)) < 0 ||
	    !db_stripe_last_mode(app->db, id, last)) {
		api_db_error(app, resp, "reading the connection");
		return 0;
	}
	if (rc == 1 && strcmp(sc.mode, stripe_mode_names[mode]) != 0)
		was = sc.mode;
	else if (last[0] != '\0' && strcmp(last, stripe_mode_names[mode]) != 0)
		was = last;
	if (was == NULL || confirmed)
		return 1;
	snprintf(msg, sizeof(msg), "this install has used a %s-mode key; this "
	    "is a %s-mode key, and its postings would go to the same Blnk "
	    "balances: send confirm_mode_switch: true to switch", was,
	    stripe_mode_names[mode]);
	resp_error(resp, 409, "MODE_SWITCH_UNCONFIRMED",
	    "confirm_mode_switch", msg);
	return 0;
}

void
api_stripe_put(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	static const char *const segs[] = { "balance", NULL };
	struct json_object	*in, *bal = NULL, *o, *curs;
	struct fieldval		 f[KF__MAX];
	struct stripe_conn	 sc;
	struct stripe_err	 e;
	struct stripe		*st;
	enum stripe_mode	 mode;
	enum stripe_keytype	 type;
	const char		*id = c->s.tok.install_id;
	char			*key = NULL, now[32];

	if ((in = api_body(req, resp, key_fields, KF__MAX, f)) == NULL)
		return;
	/* Our own copy, wiped below; json-c's is wiped at once. */
	key = strdup(f[KF_KEY].s);
	valid_wipe_string(in, "api_key");
	if (key == NULL) {
		resp_error(resp, 500, "INTERNAL", NULL, "out of memory");
		goto out;
	}
	if (!stripe_key_parse(key, &mode, &type)) {
		resp_error(resp, 400, "INVALID_FIELD", "api_key", "must be a "
		    "Stripe secret key (sk_test_..., sk_live_...) or restricted "
		    "key (rk_...); a publishable key (pk_) cannot read balance "
		    "transactions");
		goto out;
	}
	if (!mode_check(app, id, mode, f[KF_CONFIRM].present &&
	    f[KF_CONFIRM].b, resp))
		goto out;
	if ((st = app_stripe(app)) == NULL) {
		resp_error(resp, 500, "INTERNAL", NULL, "no Stripe client");
		goto out;
	}
	if (!stripe_get(st, key, segs, NULL, &bal, &e)) {
		if (strcmp(e.code, "STRIPE_KEY_INVALID") == 0 ||
		    strcmp(e.code, "STRIPE_PERMISSION") == 0)
			resp_error(resp, 400, e.code, "api_key", e.message);
		else
			resp_error(resp, e.status, e.code, NULL, e.message);
		goto out;
	}
	if ((curs = json_object_new_array()) == NULL ||
	    !balance_currencies(bal, mode, curs)) {
		json_object_put(curs);
		resp_error(resp, 502, "STRIPE_ERROR", NULL, "Stripe's answer "
		    "to GET /v1/balance is not a balance of this key's mode");
		goto out;
	}
	util_now_rfc3339(now, sizeof(now));
	if (!db_begin(app->db) ||
	    !db_stripe_put(app->db, app->cf, id, key,
	    stripe_mode_names[mode], stripe_keytype_names[type], now) ||
	    !db_commit(app->db)) {
		db_rollback(app->db);
		json_object_put(curs);
		api_db_error(app, resp, "storing the key");
		goto out;
	}
	log_info("stripe: connected a %s-mode %s key", stripe_mode_names[mode],
	    stripe_keytype_names[type]);
	if (db_stripe_get(app->db, id, &sc) != 1 ||
	    (o = conn_json(&sc, 1)) == NULL) {
		json_object_put(curs);
		api_db_error(app, resp, "reading the connection");
		goto out;
	}
	json_object_object_add(o, "currencies", curs);
	resp_json(resp, 200, o);
out:
	if (key != NULL) {
		crypto_wipe(key, strlen(key));
		free(key);
	}
	json_object_put(bal);
	json_object_put(in);
}

void
api_stripe_delete(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	int	 rc;

	(void)req;
	if (!db_begin(app->db) ||
	    (rc = db_stripe_delete(app->db, c->s.tok.install_id)) < 0 ||
	    !db_commit(app->db)) {
		db_rollback(app->db);
		api_db_error(app, resp, "deleting the key");
		return;
	}
	if (rc == 1)
		log_info("stripe: disconnected; the key is deleted");
	resp_json(resp, 200, conn_json(NULL, 0));
}

/*
 * The install's settings: the stored ones over the defaults.  Returns 1,
 * or 0 with resp filled.  Shared with the job runner's reading.
 */
int
api_settings_load(struct app *app, const char *id, struct settings *s,
    struct resp *resp)
{
	struct json_object	*o;
	struct verr		 e;
	char			*json;
	int			 rc;

	settings_default(s);
	if ((rc = db_settings_get(app->db, id, &json)) < 0) {
		api_db_error(app, resp, "reading the settings");
		return 0;
	}
	if (rc == 0)
		return 1;
	o = json_tokener_parse(json);
	free(json);
	if (o == NULL || !settings_parse(o, s, &e)) {
		json_object_put(o);
		log_error("stripe: the stored settings do not parse");
		resp_error(resp, 500, "INTERNAL", NULL, "the stored settings "
		    "are damaged");
		return 0;
	}
	json_object_put(o);
	return 1;
}

void
api_settings_get(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	struct settings	 s;

	(void)req;
	if (api_settings_load(app, c->s.tok.install_id, &s, resp))
		resp_json(resp, 200, settings_json(&s));
}

void
api_settings_put(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	struct json_object	*in, *out;
	struct settings		 s, old;
	struct stripe_conn	 sc;
	struct verr		 e;
	const char		*id = c->s.tok.install_id, *text;
	int64_t			 start_at;
	char			 now[32], msg[200];
	int			 rc;

	memset(&e, 0, sizeof(e));
	if ((in = valid_body(req->content_type, req->body, req->bodylen,
	    req->body_too_large, &e)) == NULL) {
		resp_error(resp, e.status, e.code, e.field, e.message);
		return;
	}
	if (!api_settings_load(app, id, &old, resp)) {
		json_object_put(in);
		return;
	}
	/* The body is the whole of the settings: what it leaves out takes
	 * its default, not the old value. */
	settings_default(&s);
	if (!settings_parse(in, &s, &e)) {
		json_object_put(in);
		resp_error(resp, e.status, e.code, e.field, e.message);
		return;
	}
	json_object_put(in);
	/* A date to come would import nothing until then, and the opening
	 * would be the whole balance. */
	if (s.start_at > req->now) {
		resp_error(resp, 400, "INVALID_FIELD", "start_date", "must not "
		    "be later than today (UTC)");
		return;
	}
	/* Once the first listing began from a start date, the opening
	 * balance is computed for it: moving the date would break the
	 * match with Stripe's balance. */
	if ((rc = db_stripe_get(app->db, id, &sc)) < 0) {
		api_db_error(app, resp, "reading the connection");
		return;
	}
	if (rc == 1 && (rc = db_cursor_start(app->db, id, sc.mode,
	    &start_at)) != 0) {
		if (rc < 0) {
			api_db_error(app, resp, "reading the cursor");
			return;
		}
		if (start_at != s.start_at) {
			snprintf(msg, sizeof(msg), "cannot change once the "
			    "first sync has begun (it lists from %s)",
			    old.start_date[0] != '\0' ? old.start_date :
			    "the beginning");
			resp_error(resp, 409, "START_DATE_LOCKED",
			    "start_date", msg);
			return;
		}
	}
	if ((out = settings_json(&s)) == NULL ||
	    (text = json_object_to_json_string_ext(out,
	    JSON_C_TO_STRING_PLAIN)) == NULL) {
		json_object_put(out);
		resp_error(resp, 500, "INTERNAL", NULL, "out of memory");
		return;
	}
	util_now_rfc3339(now, sizeof(now));
	if (!db_begin(app->db) || !db_settings_put(app->db, id, text, now) ||
	    !db_commit(app->db)) {
		db_rollback(app->db);
		json_object_put(out);
		api_db_error(app, resp, "storing the settings");
		return;
	}
	log_info("stripe: settings saved");
	resp_json(resp, 200, out);
}
