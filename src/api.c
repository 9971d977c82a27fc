/*
 * api.c: the portal API under /api/v1/, and the one session check that
 * guards every route of it.
 *
 * The portal sends the launch token as "Authorization: Bearer <token>".
 * Each call re-checks, in this order, and answers a distinct code for each
 * failure so the portal can tell the user what to do next:
 *   no bearer token			401 MISSING_TOKEN
 *   bad format or signature		401 TOKEN_INVALID
 *   expired				401 SESSION_EXPIRED
 *   install unknown			403 INSTALL_NOT_FOUND
 *   install uninstalled		403 APP_UNINSTALLED
 *   install reinstalled since launch	403 SESSION_REVOKED
 *   token for another instance		403 INSTANCE_MISMATCH
 * and then the scope each operation needs (403 MISSING_PERMISSION).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <json-c/json.h>

#include "cloud.h"
#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "valid.h"

static int
deny(struct resp *resp, int status, const char *code, const char *msg)
{
	if (status == 401)
		resp->www_authenticate = "Bearer";
	resp_error(resp, status, code, NULL, msg);
	return 0;
}

/* The token from "Bearer <token>" (scheme case-insensitive), or NULL. */
static const char *
bearer(const char *h)
{
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h == '\0' ? NULL : h;
}

/*
 * The stored permissions (a JSON array) of the last install seen, parsed
 * once: every portal request reads them, and json-c's parse (with its
 * locale switch) cost more than the rest of the install read.  The tree
 * is only ever read; each session holds a reference.  Returns a new
 * reference, or NULL if the text is not JSON.
 */
static struct json_object *
scopes_parse(const char *text)
{
	static char			*memo_text;
	static struct json_object	*memo;
	struct json_object		*o;
	char				*t;

	if (memo_text != NULL && strcmp(memo_text, text) == 0)
		return json_object_get(memo);
	if ((o = json_tokener_parse(text)) == NULL)
		return NULL;
	if ((t = strdup(text)) != NULL) {
		json_object_put(memo);
		free(memo_text);
		memo = json_object_get(o);
		memo_text = t;
	}
	return o;
}

int
session_verify(struct app *app, const struct req *req, struct resp *resp,
    struct session *s)
{
	struct install	 in;
	const char	*tok;
	int		 rc, ok = 0;

	memset(s, 0, sizeof(*s));
	if ((tok = bearer(req->authorization)) == NULL)
		return deny(resp, 401, "MISSING_TOKEN", "launch the app from "
		    "Blnk Cloud to get a session");

	switch (token_verify(app->cf, tok, req->now, &s->tok)) {
	case TOKEN_OK:
		break;
	case TOKEN_EXPIRED:
		return deny(resp, 401, "SESSION_EXPIRED", "your session has "
		    "expired: launch the app again from Blnk Cloud");
	default:
		return deny(resp, 401, "TOKEN_INVALID", "the session token "
		    "is not valid: launch the app again from Blnk Cloud");
	}
	snprintf(resp->install, sizeof(resp->install), "%s",
	    s->tok.install_id);

	if ((rc = db_install_get(app->db, s->tok.install_id, &in)) < 0) {
		log_error("session: reading the install: %s",
		    db_errmsg(app->db));
		resp_error(resp, 503, "DATABASE_UNAVAILABLE", NULL,
		    "the install could not be read; retry later");
		return 0;
	} else if (rc == 0)
		return deny(resp, 403, "INSTALL_NOT_FOUND", "this session "
		    "belongs to no known install");

	if (in.status != INSTALL_ACTIVE)
		deny(resp, 403, "APP_UNINSTALLED", "the app has been "
		    "uninstalled from this instance");
	else if (in.generation != s->tok.generation)
		deny(resp, 403, "SESSION_REVOKED", "the app was reinstalled "
		    "after this session began: launch it again");
	else if (strcmp(in.instance_id, s->tok.instance_id) != 0)
		deny(resp, 403, "INSTANCE_MISMATCH", "this session belongs "
		    "to another instance");
	else if ((s->scopes = scopes_parse(in.granted_permissions))
	    == NULL || !json_object_is_type(s->scopes, json_type_array)) {
		log_error("session: stored permissions are not a JSON array");
		resp_error(resp, 500, "INTERNAL", NULL, "corrupt install "
		    "record");
	} else
		ok = 1;
	install_free(&in);
	if (!ok)
		session_free(s);
	return ok;
}

void
session_free(struct session *s)
{
	json_object_put(s->scopes);
	s->scopes = NULL;
}

/* Is entry i of the stored permissions the string scope?  (A damaged row
 * may hold something else: never a string compare on NULL.) */
static int
scope_at(struct json_object *arr, size_t i, const char *scope)
{
	struct json_object	*it = json_object_array_get_idx(arr, i);

	return json_object_is_type(it, json_type_string) &&
	    strcmp(json_object_get_string(it), scope) == 0;
}

int
session_require(const struct session *s, const char *scope,
    struct resp *resp)
{
	size_t	 i, n;
	char	 msg[128];

	n = json_object_array_length(s->scopes);
	for (i = 0; i < n; i++)
		if (scope_at(s->scopes, i, scope) && valid_known_scope(scope))
			return 1;
	snprintf(msg, sizeof(msg), "this install was not granted %s; "
	    "reinstall the app with that permission", scope);
	resp_error(resp, 403, "MISSING_PERMISSION", NULL, msg);
	return 0;
}

/* See http.h. */
void
api_db_error(struct app *app, struct resp *resp, const char *what)
{
	log_error("portal: %s: %s", what, db_errmsg(app->db));
	db_rollback(app->db);
	resp_error(resp, 503, "DATABASE_UNAVAILABLE", NULL, "the database "
	    "could not be read or written; retry later");
}

/* Made on first use, after any fork, and kept for the life of the
 * process: its connections stay warm. */
struct cloud *
app_cloud(struct app *app)
{
	if (app->cloud == NULL && (app->cloud = cloud_new(app->cf)) == NULL)
		log_error("cannot make the Cloud client (out of memory)");
	return app->cloud;
}

/* See http.h. */
struct json_object *
api_body(const struct req *req, struct resp *resp, const struct field *tab,
    size_t n, struct fieldval *f)
{
	struct json_object	*in;
	struct verr		 e;

	memset(&e, 0, sizeof(e));
	if ((in = valid_body(req->content_type, req->body, req->bodylen,
	    req->body_too_large, &e)) == NULL ||
	    !valid_fields(in, tab, n, f, &e)) {
		json_object_put(in);
		resp_error(resp, e.status, e.code, e.field, e.message);
		return NULL;
	}
	return in;
}

/* See http.h. */
int
api_cloud(struct app *app, const struct call *c, struct resp *resp,
    const struct cloud_call *call, struct json_object **out)
{
	struct cloud_err	 ce;
	struct cloud		*cl;

	*out = NULL;
	if ((cl = app_cloud(app)) == NULL) {
		resp_error(resp, 500, "INTERNAL", NULL, "no Cloud client");
		return 0;
	}
	if (!cloud_do(cl, app->db, app->cf, c->s.tok.install_id,
	    c->s.tok.instance_id, call, out, &ce)) {
		resp_cloud_error(resp, &ce);
		return 0;
	}
	return 1;
}

/*
 * The scopes the manifest requests (manifest.json's "permissions"; t/t5100
 * checks the two agree).  A known scope the install was not granted is
 * "not granted"; one the manifest never requests is not offered at all.
 */
static const char *const requested[] = {
	"data:read", "data:write", "alerts:read", "alerts:write", NULL
};

static int
has_scope(struct json_object *arr, const char *scope)
{
	size_t	 i, n = json_object_array_length(arr);

	for (i = 0; i < n; i++)
		if (scope_at(arr, i, scope))
			return 1;
	return 0;
}

/*
 * GET /api/v1/context: who this session is for and what it may do, for
 * the portal to show and hide.  Never a key.
 */
void
api_context(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	struct json_object	*o, *granted, *ignored, *missing, *it;
	struct tm		 tm;
	time_t			 exp;
	char			 when[32];
	size_t			 i, n;

	(void)app;
	o = json_object_new_object();
	granted = json_object_new_array();
	ignored = json_object_new_array();
	missing = json_object_new_array();
	if (o == NULL || granted == NULL || ignored == NULL ||
	    missing == NULL) {
		json_object_put(o);
		json_object_put(granted);
		json_object_put(ignored);
		json_object_put(missing);
		resp_json(resp, 500, NULL);
		return;
	}
	n = json_object_array_length(c->s.scopes);
	for (i = 0; i < n; i++) {
		it = json_object_array_get_idx(c->s.scopes, i);
		if (!json_object_is_type(it, json_type_string))
			continue;
		json_object_array_add(
		    valid_known_scope(json_object_get_string(it)) ?
		    granted : ignored, json_object_get(it));
	}
	for (i = 0; requested[i] != NULL; i++)
		if (!has_scope(c->s.scopes, requested[i]))
			json_object_array_add(missing,
			    json_object_new_string(requested[i]));
	exp = (time_t)c->s.tok.expires;
	gmtime_r(&exp, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);

	json_object_object_add(o, "installed_app_id",
	    json_object_new_string(c->s.tok.install_id));
	json_object_object_add(o, "instance_id",
	    json_object_new_string(c->s.tok.instance_id));
	json_object_object_add(o, "granted_permissions", granted);
	json_object_object_add(o, "not_granted_permissions", missing);
	json_object_object_add(o, "ignored_permissions", ignored);
	json_object_object_add(o, "expires_at", json_object_new_string(when));
	json_object_object_add(o, "expires_in",
	    json_object_new_int64(c->s.tok.expires - req->now));
	resp_json(resp, 200, o);
}
