/*
 * router.c: from a path and a method to a handler, and the one place where
 * the portal API's session and scopes are checked.
 *
 * The callback and portal routes end in the callback secret: Cloud does not
 * sign its calls, so knowing that long random path segment is what
 * authenticates them.  A request without it is answered exactly like an
 * unknown path (404, route "not_found"), compared in constant time, and the
 * path itself is never logged.
 *
 * Every /api/v1/ route names the scope it needs in the table below (""
 * for a session alone).  http_dispatch() verifies the session and that
 * scope before the handler runs, so no handler, and no call to Cloud, is
 * reached without them.  A route may take one id as its last path
 * segment; it is checked to be an id here too.
 */
#include <string.h>

#include "conf.h"
#include "crypto.h"
#include "http.h"
#include "valid.h"

#define M(m)	(1u << (m))

typedef void (*handler)(struct app *, const struct req *, struct resp *);
typedef void (*api_handler)(struct app *, const struct req *, struct resp *,
    const struct call *);

enum rkind {
	R_EXACT,	/* the path, exactly */
	R_SECRET,	/* path + callback_secret */
	R_ID,		/* path + one id segment */
};

struct route {
	const char	*name;		/* for the log line */
	const char	*path;
	enum rkind	 kind;
	unsigned	 methods;	/* bit mask of enum method */
	const char	*allow;		/* the Allow header of the path */
	int		 body;		/* the handler reads a body */
	handler		 fn;		/* a route outside the portal API */
	const char	*scope;		/* portal API: the scope, or "" */
	api_handler	 api;
	const char	*arg;		/* passed as call->arg */
};

#define GETS	(M(METHOD_GET) | M(METHOD_HEAD))
#define STRIPE_ALLOW	"GET, HEAD, PUT, DELETE"

static const struct route routes[] = {
	{ "callback", "/api/callback/", R_SECRET, M(METHOD_POST), "POST", 1,
	    callback_handle, NULL, NULL, NULL },
	{ "portal", "/api/portal/", R_SECRET, M(METHOD_POST), "POST", 1,
	    portal_handle, NULL, NULL, NULL },
	{ "health", "/api/health", R_EXACT, GETS, "GET, HEAD", 0,
	    health_handle, NULL, NULL, NULL },
	/* Stripe's deliveries: no session, the signature is checked by the
	 * handler (the id is checked there too, so that a bad one is
	 * refused exactly like a bad signature). */
	{ "stripe_webhook", WEBHOOK_PATH, R_ID, M(METHOD_POST), "POST", 1,
	    webhook_handle, NULL, NULL, NULL },

	/* The portal API: session, then scope, then the handler. */
	{ "context", "/api/v1/context", R_EXACT, GETS, "GET, HEAD", 0,
	    NULL, "", api_context, NULL },
	{ "ledgers", "/api/v1/ledgers", R_EXACT, GETS, "GET, HEAD", 0,
	    NULL, "data:read", api_list, "ledgers" },
	{ "ledger", "/api/v1/ledgers/", R_ID, GETS, "GET, HEAD", 0,
	    NULL, "data:read", api_detail, "ledgers" },
	{ "balances", "/api/v1/balances", R_EXACT, GETS, "GET, HEAD", 0,
	    NULL, "data:read", api_list, "balances" },
	{ "balance", "/api/v1/balances/", R_ID, GETS, "GET, HEAD", 0,
	    NULL, "data:read", api_detail, "balances" },
	{ "transactions", "/api/v1/transactions", R_EXACT, GETS,
	    "GET, HEAD, POST", 0, NULL, "data:read", api_list,
	    "transactions" },
	{ "transaction_create", "/api/v1/transactions", R_EXACT,
	    M(METHOD_POST), "GET, HEAD, POST", 1, NULL, "data:write",
	    api_txn_create, NULL },
	{ "transaction", "/api/v1/transactions/", R_ID, GETS, "GET, HEAD", 0,
	    NULL, "data:read", api_detail, "transactions" },
	{ "reference", "/api/v1/references/", R_ID, GETS, "GET, HEAD", 0,
	    NULL, "data:read", api_txn_status, NULL },
	{ "identities", "/api/v1/identities", R_EXACT, GETS, "GET, HEAD", 0,
	    NULL, "data:read", api_list, "identities" },
	{ "identity", "/api/v1/identities/", R_ID, GETS, "GET, HEAD", 0,
	    NULL, "data:read", api_detail, "identities" },
	{ "alerts", "/api/v1/alerts", R_EXACT, GETS, "GET, HEAD, POST", 0,
	    NULL, "alerts:read", api_alerts_list, NULL },
	{ "alert_flag", "/api/v1/alerts", R_EXACT, M(METHOD_POST),
	    "GET, HEAD, POST", 1, NULL, "alerts:write", api_alert_flag,
	    NULL },
	{ "alert_statuses", "/api/v1/alert-statuses", R_EXACT, GETS,
	    "GET, HEAD", 0, NULL, "alerts:read", api_alert_statuses, NULL },
	{ "alert", "/api/v1/alerts/", R_ID, GETS, "GET, HEAD, PUT", 0,
	    NULL, "alerts:read", api_alert_get, NULL },
	{ "alert_update", "/api/v1/alerts/", R_ID, M(METHOD_PUT),
	    "GET, HEAD, PUT", 1, NULL, "alerts:write", api_alert_update,
	    NULL },
	{ "stripe", "/api/v1/stripe", R_EXACT, GETS, STRIPE_ALLOW, 0,
	    NULL, "data:read", api_stripe_get, NULL },
	{ "stripe_connect", "/api/v1/stripe", R_EXACT, M(METHOD_PUT),
	    STRIPE_ALLOW, 1, NULL, "data:write", api_stripe_put, NULL },
	{ "stripe_disconnect", "/api/v1/stripe", R_EXACT, M(METHOD_DELETE),
	    STRIPE_ALLOW, 0, NULL, "data:write", api_stripe_delete, NULL },
	{ "stripe_webhook_get", "/api/v1/stripe/webhook", R_EXACT, GETS,
	    STRIPE_ALLOW, 0, NULL, "data:read", api_webhook_get, NULL },
	{ "stripe_webhook_set", "/api/v1/stripe/webhook", R_EXACT,
	    M(METHOD_PUT), STRIPE_ALLOW, 1, NULL, "data:write",
	    api_webhook_put, NULL },
	{ "stripe_webhook_delete", "/api/v1/stripe/webhook", R_EXACT,
	    M(METHOD_DELETE), STRIPE_ALLOW, 0, NULL, "data:write",
	    api_webhook_delete, NULL },
	{ "syncs", "/api/v1/syncs", R_EXACT, GETS, "GET, HEAD, POST", 0,
	    NULL, "data:read", api_sync_list, NULL },
	{ "sync_create", "/api/v1/syncs", R_EXACT, M(METHOD_POST),
	    "GET, HEAD, POST", 1, NULL, "data:write", api_sync_create, NULL },
	{ "sync", "/api/v1/syncs/", R_ID, GETS, "GET, HEAD", 0,
	    NULL, "data:read", api_sync_get, NULL },
	{ "reconciliations", "/api/v1/reconciliations", R_EXACT, GETS,
	    "GET, HEAD, POST", 0, NULL, "data:read", api_recon_list, NULL },
	{ "reconciliation_create", "/api/v1/reconciliations", R_EXACT,
	    M(METHOD_POST), "GET, HEAD, POST", 1, NULL, "data:read",
	    api_recon_create, NULL },
	{ "reconciliation", "/api/v1/reconciliations/", R_ID, GETS,
	    "GET, HEAD", 0, NULL, "data:read", api_recon_get, NULL },
	{ "settings", "/api/v1/settings", R_EXACT, GETS, "GET, HEAD, PUT", 0,
	    NULL, "data:read", api_settings_get, NULL },
	{ "settings_update", "/api/v1/settings", R_EXACT, M(METHOD_PUT),
	    "GET, HEAD, PUT", 1, NULL, "data:write", api_settings_put, NULL },
	{ "problems", "/api/v1/problems", R_EXACT, GETS, "GET, HEAD", 0,
	    NULL, "data:read", api_problems, NULL },
};

#define NROUTES	(sizeof(routes) / sizeof(routes[0]))

/* Does path name this route (with the right secret, or an id)? */
static int
route_match(const struct route *r, const char *path, const char *secret)
{
	size_t	 n;

	if (r->kind == R_EXACT)
		return strcmp(path, r->path) == 0;
	n = strlen(r->path);
	if (strncmp(path, r->path, n) != 0)
		return 0;
	path += n;
	if (r->kind == R_SECRET)
		return crypto_equal(path, strlen(path), secret,
		    strlen(secret));
	/* R_ID: one non-empty segment; what it may hold is checked at
	 * dispatch, so that a bad id is a 400, not a 404. */
	return *path != '\0' && strchr(path, '/') == NULL;
}

const struct route *
http_route(struct app *app, const struct req *req, struct resp *resp)
{
	const struct route	*r, *path_match = NULL;
	size_t			 i;

	memset(resp, 0, sizeof(*resp));
	resp->route = "not_found";
	for (i = 0; i < NROUTES; i++) {
		r = &routes[i];
		if (req->path == NULL ||
		    !route_match(r, req->path, app->cf->callback_secret))
			continue;
		if (r->methods & M(req->method)) {
			resp->route = r->name;
			return r;
		}
		if (path_match == NULL)
			path_match = r;
	}
	if (path_match != NULL) {
		resp->route = path_match->name;
		resp->allow = path_match->allow;
		resp_error(resp, 405, "METHOD_NOT_ALLOWED", NULL,
		    "this route does not accept that method");
		return NULL;
	}
	resp_error(resp, 404, "NOT_FOUND", NULL, "no such route");
	return NULL;
}

int
http_route_has_body(const struct route *r)
{
	return r->body;
}

/*
 * A portal API route: the session, the scope, the id; then the handler.
 * Nothing reaches the handler (or Cloud) without all three.
 */
static void
dispatch_api(const struct route *r, struct app *app, const struct req *req,
    struct resp *resp)
{
	struct call	 c;
	const char	*id;

	memset(&c, 0, sizeof(c));
	c.arg = r->arg;
	if (!session_verify(app, req, resp, &c.s))
		return;
	if (r->scope[0] != '\0' && !session_require(&c.s, r->scope, resp)) {
		session_free(&c.s);
		return;
	}
	if (r->kind == R_ID) {
		id = req->path + strlen(r->path);
		if (strlen(id) >= sizeof(c.id) ||
		    !valid_string(FT_REF, id, strlen(id)) ||
		    strspn(id, ".") == strlen(id)) {
			resp_error(resp, 400, "INVALID_FIELD", "id", "is not "
			    "an id: letters, digits and _ . : - only");
			session_free(&c.s);
			return;
		}
		memcpy(c.id, id, strlen(id) + 1);
	}
	r->api(app, req, resp, &c);
	session_free(&c.s);
}

void
http_dispatch(const struct route *r, struct app *app, const struct req *req,
    struct resp *resp)
{
	if (r->api != NULL)
		dispatch_api(r, app, req, resp);
	else
		r->fn(app, req, resp);
	if (resp->body == NULL)
		resp_error(resp, 500, "INTERNAL", NULL,
		    "the handler gave no answer");
}

void
http_handle(struct app *app, const struct req *req, struct resp *resp)
{
	const struct route	*r;

	if ((r = http_route(app, req, resp)) != NULL)
		http_dispatch(r, app, req, resp);
}
