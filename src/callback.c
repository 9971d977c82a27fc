/*
 * callback.c: POST /api/callback/<secret>, Cloud's install and uninstall
 * events.
 *
 * Each event is applied in one BEGIN IMMEDIATE transaction that also claims
 * its idempotency key, so a delivery repeated on any worker process, even
 * at the same moment, is answered 200 and changes nothing.  We answer 200
 * only after the commit: Cloud treats anything else as a failed install and
 * revokes the key, which is what we want if we could not store it.
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

/* The longest api_key_prefix we store in the clear. */
#define PREFIX_MAX	16

enum event_kind {
	EVENT_UNKNOWN,
	EVENT_INSTALL,
	EVENT_UNINSTALL,
};

/* Fields that may name the event type explicitly, in order of trust. */
static const char *const type_fields[] = { "type", "event_type", "event" };

static const struct {
	const char	*word;
	enum event_kind	 kind;
} type_words[] = {
	{ "install", EVENT_INSTALL },
	{ "installed", EVENT_INSTALL },
	{ "app.installed", EVENT_INSTALL },
	{ "app_installed", EVENT_INSTALL },
	{ "uninstall", EVENT_UNINSTALL },
	{ "uninstalled", EVENT_UNINSTALL },
	{ "app.uninstalled", EVENT_UNINSTALL },
	{ "app_uninstalled", EVENT_UNINSTALL },
};

enum {
	IF_ID, IF_APP, IF_INSTANCE, IF_KEY, IF_PREFIX, IF_SCOPES, IF_IDEM,
	IF_ORG, IF_USER, IF__MAX
};
static const struct field install_fields[IF__MAX] = {
	[IF_ID] = { "installed_app_id", FT_ID, 1 },
	[IF_APP] = { "app_id", FT_ID, 1 },
	[IF_INSTANCE] = { "instance_id", FT_ID, 1 },
	[IF_KEY] = { "api_key", FT_APIKEY, 1 },
	[IF_PREFIX] = { "api_key_prefix", FT_PREFIX, 1 },
	[IF_SCOPES] = { "granted_permissions", FT_SCOPES, 1 },
	[IF_IDEM] = { "idempotency_key", FT_IDEMKEY, 1 },
	[IF_ORG] = { "organization_id", FT_ID, 0 },
	[IF_USER] = { "user_id", FT_ID, 0 },
};

enum {
	UF_ID, UF_APP, UF_INSTANCE, UF_AT, UF_IDEM, UF_ORG, UF_USER, UF__MAX
};
static const struct field uninstall_fields[UF__MAX] = {
	[UF_ID] = { "installed_app_id", FT_ID, 1 },
	[UF_APP] = { "app_id", FT_ID, 1 },
	[UF_INSTANCE] = { "instance_id", FT_ID, 1 },
	[UF_AT] = { "uninstalled_at", FT_TIME, 0 },
	[UF_IDEM] = { "idempotency_key", FT_IDEMKEY, 1 },
	[UF_ORG] = { "organization_id", FT_ID, 0 },
	[UF_USER] = { "user_id", FT_ID, 0 },
};

/* Is name present in o with a value other than null? */
static int
has(struct json_object *o, const char *name)
{
	struct json_object	*v;

	return json_object_object_get_ex(o, name, &v) && v != NULL;
}

static enum event_kind
fail_kind(struct verr *e, int status, const char *code, const char *field,
    const char *msg)
{
	e->status = status;
	e->code = code;
	e->field = field;
	snprintf(e->message, sizeof(e->message), "%s", msg);
	return EVENT_UNKNOWN;
}

/*
 * Decide what kind of event this is from the three signals it may carry:
 * an explicit type field, the idempotency_key prefix ("install:" /
 * "uninstall:"), and the shape (an api_key means install, an
 * uninstalled_at means uninstall; both or neither say nothing).  The first
 * present wins, but every signal present must agree: an install dressed as
 * an uninstall (or the reverse) is refused, so that it cannot claim the
 * key of the real event that comes later.  Returns EVENT_UNKNOWN with *e
 * filled if the signals disagree or there are none.
 */
static enum event_kind
event_kind(struct json_object *o, struct verr *e)
{
	struct json_object	*v;
	const char		*s, *tfield = NULL;
	enum event_kind		 typed = EVENT_UNKNOWN, prefixed = EVENT_UNKNOWN,
				 shaped = EVENT_UNKNOWN;
	size_t			 i, j;

	for (i = 0; i < sizeof(type_fields) / sizeof(type_fields[0]); i++) {
		if (!json_object_object_get_ex(o, type_fields[i], &v) ||
		    v == NULL)
			continue;
		tfield = type_fields[i];
		if (!json_object_is_type(v, json_type_string))
			return fail_kind(e, 400, "INVALID_FIELD", tfield,
			    "must be a string");
		s = json_object_get_string(v);
		for (j = 0; j < sizeof(type_words) / sizeof(type_words[0]);
		    j++)
			if (strcmp(s, type_words[j].word) == 0)
				typed = type_words[j].kind;
		if (typed == EVENT_UNKNOWN)
			return fail_kind(e, 400, "INVALID_FIELD", tfield,
			    "must be install or uninstall");
		break;
	}

	if (json_object_object_get_ex(o, "idempotency_key", &v) &&
	    json_object_is_type(v, json_type_string)) {
		s = json_object_get_string(v);
		if (strncmp(s, "install:", 8) == 0)
			prefixed = EVENT_INSTALL;
		else if (strncmp(s, "uninstall:", 10) == 0)
			prefixed = EVENT_UNINSTALL;
	}

	if (has(o, "api_key") && !has(o, "uninstalled_at"))
		shaped = EVENT_INSTALL;
	else if (has(o, "uninstalled_at") && !has(o, "api_key"))
		shaped = EVENT_UNINSTALL;

	if (typed != EVENT_UNKNOWN) {
		if (prefixed != EVENT_UNKNOWN && prefixed != typed)
			return fail_kind(e, 400, "INVALID_FIELD", tfield,
			    "contradicts the idempotency_key prefix");
		if (shaped != EVENT_UNKNOWN && shaped != typed)
			return fail_kind(e, 400, "INVALID_FIELD", tfield,
			    typed == EVENT_INSTALL ?
			    "says install but the body is an uninstall "
			    "(uninstalled_at, no api_key)" :
			    "says uninstall but the body is an install "
			    "(api_key, no uninstalled_at)");
		return typed;
	}
	if (prefixed != EVENT_UNKNOWN) {
		if (shaped != EVENT_UNKNOWN && shaped != prefixed)
			return fail_kind(e, 400, "INVALID_FIELD",
			    "idempotency_key", prefixed == EVENT_INSTALL ?
			    "says install but the body is an uninstall "
			    "(uninstalled_at, no api_key)" :
			    "says uninstall but the body is an install "
			    "(api_key, no uninstalled_at)");
		return prefixed;
	}
	if (shaped != EVENT_UNKNOWN)
		return shaped;
	return fail_kind(e, 400, "UNKNOWN_EVENT", "type", "cannot tell "
	    "whether this is an install or an uninstall event");
}

/*
 * The granted scopes as stored: a JSON array of unique strings in the
 * order given.  Unknown scopes are kept (and listed to the operator) but
 * never honoured.  Returns an allocated string or NULL.
 */
static char *
scopes_text(struct json_object *arr)
{
	struct json_object	*out, *it;
	const char		*s;
	char			*text = NULL;
	size_t			 i, j, n;
	int			 dup;

	if ((out = json_object_new_array()) == NULL)
		return NULL;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		s = json_object_get_string(json_object_array_get_idx(arr, i));
		dup = 0;
		for (j = 0; j < json_object_array_length(out); j++) {
			it = json_object_array_get_idx(out, j);
			if (strcmp(json_object_get_string(it), s) == 0)
				dup = 1;
		}
		if (!dup)
			json_object_array_add(out, json_object_new_string(s));
	}
	s = json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (s != NULL)
		text = strdup(s);
	json_object_put(out);
	return text;
}

static void
answer_ok(struct resp *resp, int duplicate)
{
	struct json_object	*o;

	if ((o = json_object_new_object()) == NULL) {
		resp_json(resp, 500, NULL);
		return;
	}
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	if (duplicate)
		json_object_object_add(o, "duplicate",
		    json_object_new_boolean(1));
	resp_json(resp, 200, o);
}

static void
answer_db_error(struct app *app, struct resp *resp, const char *what)
{
	log_error("callback: %s: %s", what, db_errmsg(app->db));
	db_rollback(app->db);
	resp_error(resp, 503, "DATABASE_UNAVAILABLE", NULL,
	    "the event could not be stored; retry later");
}

/*
 * Answer a claim that did not claim: a duplicate (200, nothing changes) or
 * the key of another event (409).  Returns 1 if it answered, 0 if the
 * claim is new and the caller goes on.  Rolls back in every answered case.
 */
static int
answer_claim(struct app *app, struct resp *resp, enum claim rc,
    const char *kind)
{
	switch (rc) {
	case CLAIM_NEW:
		return 0;
	case CLAIM_DUPLICATE:
		db_rollback(app->db);
		log_info("callback: duplicate %s event ignored", kind);
		answer_ok(resp, 1);
		return 1;
	case CLAIM_OTHER_KIND:
	case CLAIM_OTHER_INSTALL:
		db_rollback(app->db);
		log_warn("callback: %s event refused: its idempotency_key "
		    "was used by %s", kind, rc == CLAIM_OTHER_KIND ?
		    "an event of the other kind" :
		    "an event for another install");
		resp_error(resp, 409, "IDEMPOTENCY_KEY_REUSED",
		    "idempotency_key", rc == CLAIM_OTHER_KIND ?
		    "was already used by an event of the other kind" :
		    "was already used by an event for another install");
		return 1;
	default:
		answer_db_error(app, resp, "claiming the event");
		return 1;
	}
}

static void
do_install(struct app *app, struct json_object *o, struct resp *resp)
{
	struct fieldval	 v[IF__MAX];
	struct verr	 e;
	struct install	 in, old;
	unsigned char	*sealed = NULL;
	size_t		 sealedlen = 0;
	char		 kid[CONF_KIDLEN + 1], aad[256], now[32];
	char		*scopes = NULL;
	int		 rc;

	memset(&e, 0, sizeof(e));
	if (!valid_fields(o, install_fields, IF__MAX, v, &e)) {
		resp_error(resp, e.status, e.code, e.field, e.message);
		return;
	}
	snprintf(resp->install, sizeof(resp->install), "%s", v[IF_ID].s);
	/* Only a short prefix may be stored in the clear: never the key,
	 * nor half of it, nor something that is not its prefix at all. */
	if (v[IF_PREFIX].len > PREFIX_MAX ||
	    2 * v[IF_PREFIX].len >= v[IF_KEY].len) {
		resp_error(resp, 400, "INVALID_FIELD", "api_key_prefix",
		    "must be at most 16 characters and under half of the key");
		return;
	}
	if (memcmp(v[IF_PREFIX].s, v[IF_KEY].s, v[IF_PREFIX].len) != 0) {
		resp_error(resp, 400, "INVALID_FIELD", "api_key_prefix",
		    "must be the first characters of api_key");
		return;
	}
	if ((scopes = scopes_text(v[IF_SCOPES].scopes)) == NULL) {
		resp_error(resp, 500, "INTERNAL", NULL, "out of memory");
		return;
	}

	db_install_key_aad(v[IF_ID].s, aad, sizeof(aad));
	if (!crypto_seal(app->cf, aad, v[IF_KEY].s, v[IF_KEY].len,
	    &sealed, &sealedlen, kid)) {
		free(scopes);
		log_error("callback: sealing the api key failed");
		resp_error(resp, 500, "INTERNAL", NULL,
		    "the key could not be stored");
		return;
	}

	util_now_rfc3339(now, sizeof(now));
	if (!db_begin(app->db)) {
		answer_db_error(app, resp, "begin");
		goto out;
	}
	if (answer_claim(app, resp, db_event_claim(app->db, v[IF_IDEM].s,
	    "install", v[IF_ID].s, "installed", now), "install"))
		goto out;

	rc = db_install_get(app->db, v[IF_ID].s, &old);
	if (rc < 0) {
		answer_db_error(app, resp, "reading the install");
		goto out;
	}
	if (rc > 0) {
		enum install_status st = old.status;

		install_free(&old);
		if (st == INSTALL_ACTIVE) {
			/* Never overwrite an active install from another
			 * event: that is how a forged or stale event would
			 * swap the key. */
			db_rollback(app->db);
			log_warn("callback: install event for an already "
			    "active install refused");
			resp_error(resp, 409, "INSTALL_CONFLICT",
			    "installed_app_id", "this install is already "
			    "active; uninstall it first");
			goto out;
		}
	}

	memset(&in, 0, sizeof(in));
	in.installed_app_id = (char *)v[IF_ID].s;
	in.app_id = (char *)v[IF_APP].s;
	in.instance_id = (char *)v[IF_INSTANCE].s;
	in.organization_id = (char *)v[IF_ORG].s;
	in.api_key_prefix = (char *)v[IF_PREFIX].s;
	in.granted_permissions = scopes;
	in.install_event = (char *)v[IF_IDEM].s;
	if (!db_install_activate(app->db, &in, sealed, sealedlen, kid, now)) {
		answer_db_error(app, resp, "storing the install");
		goto out;
	}
	if (!db_commit(app->db)) {
		answer_db_error(app, resp, "commit");
		goto out;
	}
	log_info("callback: installed (key prefix stored, key sealed "
	    "under %s)", kid);
	answer_ok(resp, 0);
out:
	if (sealed != NULL) {
		crypto_wipe(sealed, sealedlen);
		free(sealed);
	}
	free(scopes);
}

static void
do_uninstall(struct app *app, struct json_object *o, struct resp *resp)
{
	struct fieldval	 v[UF__MAX];
	struct verr	 e;
	struct install	 old;
	const char	*outcome;
	char		 now[32];
	int		 found, mismatch = 0, active = 0;

	memset(&e, 0, sizeof(e));
	if (!valid_fields(o, uninstall_fields, UF__MAX, v, &e)) {
		resp_error(resp, e.status, e.code, e.field, e.message);
		return;
	}
	snprintf(resp->install, sizeof(resp->install), "%s", v[UF_ID].s);
	util_now_rfc3339(now, sizeof(now));

	if (!db_begin(app->db)) {
		answer_db_error(app, resp, "begin");
		return;
	}
	if ((found = db_install_get(app->db, v[UF_ID].s, &old)) < 0) {
		answer_db_error(app, resp, "reading the install");
		return;
	}
	if (found) {
		mismatch = strcmp(old.app_id, v[UF_APP].s) != 0 ?
		    UF_APP : strcmp(old.instance_id, v[UF_INSTANCE].s) != 0 ?
		    UF_INSTANCE : old.organization_id != NULL &&
		    v[UF_ORG].present &&
		    strcmp(old.organization_id, v[UF_ORG].s) != 0 ? UF_ORG : 0;
		active = old.status == INSTALL_ACTIVE;
		install_free(&old);
	}
	outcome = !found ? "unknown-install" : mismatch ? "mismatch" :
	    active ? "uninstalled" : "already-inactive";

	if (answer_claim(app, resp, db_event_claim(app->db, v[UF_IDEM].s,
	    "uninstall", v[UF_ID].s, outcome, now), "uninstall"))
		return;
	if (mismatch) {
		db_rollback(app->db);
		log_warn("callback: uninstall event does not match the "
		    "install's %s", uninstall_fields[mismatch].name);
		resp_error(resp, 409, "INSTALL_MISMATCH",
		    uninstall_fields[mismatch].name,
		    "does not match the stored install");
		return;
	}
	if (active && db_install_deactivate(app->db, v[UF_ID].s,
	    v[UF_AT].present ? v[UF_AT].s : now, now) != 1) {
		answer_db_error(app, resp, "deactivating the install");
		return;
	}
	if (!db_commit(app->db)) {
		answer_db_error(app, resp, "commit");
		return;
	}
	log_info("callback: uninstall event: %s", outcome);
	answer_ok(resp, 0);
}

void
callback_handle(struct app *app, const struct req *req, struct resp *resp)
{
	struct json_object	*o;
	struct verr		 e;

	memset(&e, 0, sizeof(e));
	o = valid_body(req->content_type, req->body, req->bodylen,
	    req->body_too_large, &e);
	if (o == NULL) {
		resp_error(resp, e.status, e.code, e.field, e.message);
		return;
	}
	switch (event_kind(o, &e)) {
	case EVENT_INSTALL:
		do_install(app, o, resp);
		/* Sealed and stored (or refused): the plaintext key must not
		 * stay in the heap json-c frees. */
		valid_wipe_string(o, "api_key");
		break;
	case EVENT_UNINSTALL:
		do_uninstall(app, o, resp);
		break;
	default:
		resp_error(resp, e.status, e.code, e.field, e.message);
		break;
	}
	json_object_put(o);
}
