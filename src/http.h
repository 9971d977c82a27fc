/*
 * http.h: a request as the handlers see it, the response they fill in, and
 * the routing between them.  Nothing here knows about FastCGI: fcgi-main.c
 * builds a struct req from the FastCGI parameters and writes the struct
 * resp back, so the handlers can be tested in-process (t/unit/test-router).
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

struct conf;
struct db;
struct json_object;
struct call;

enum method {
	METHOD_GET,
	METHOD_HEAD,
	METHOD_POST,
	METHOD_PUT,
	METHOD_PATCH,
	METHOD_DELETE,
	METHOD_OPTIONS,
	METHOD_OTHER,
	METHOD__MAX
};

extern const char *const method_names[METHOD__MAX];

struct req {
	enum method	 method;
	const char	*path;		/* without the query string */
	const char	*query;		/* raw QUERY_STRING, or NULL */
	const char	*content_type;	/* NULL if absent */
	const char	*authorization;	/* NULL if absent */
	const char	*stripe_signature; /* Stripe-Signature, NULL if
					   absent */
	const char	*body;		/* may hold NULs; NULL if none */
	size_t		 bodylen;
	int		 body_too_large; /* longer than BODY_MAX, not read */
	int64_t		 now;		/* unix seconds, for tokens */
};

struct resp {
	int		 status;
	char		*body;		/* allocated JSON text */
	const char	*content_type;	/* NULL: application/json */
	char		 filename[64];	/* "": not an attachment */
	const char	*allow;		/* Allow header for 405, or NULL */
	const char	*www_authenticate; /* for 401, or NULL */
	const char	*route;		/* route name for the log line */
	char		 install[128 + 1]; /* install id, for the log */
};

struct cloud;

/* Everything a handler may use.  One per process. */
struct app {
	const struct conf	*cf;
	struct db		*db;
	struct cloud		*cloud;	/* made on first use: app_cloud() */
	struct stripe		*stripe; /* made on first use: app_stripe() */
};

/* The process's Cloud and Stripe clients, made on first use; NULL if
 * they cannot be. */
struct cloud	*app_cloud(struct app *app);
struct stripe;
struct stripe	*app_stripe(struct app *app);

struct route;

/*
 * Find the route for req.  Returns it, or NULL after filling *resp with
 * the 404 or 405 answer.  Nothing of the body is needed, so a caller reads
 * the body only once a route (with the right secret) has matched.
 */
const struct route *http_route(struct app *app, const struct req *req,
		    struct resp *resp);

/* Whether the route's handler reads a request body. */
int		 http_route_has_body(const struct route *r);

/* Run the route's handler; *resp is always filled in. */
void		 http_dispatch(const struct route *r, struct app *app,
		    const struct req *req, struct resp *resp);

/* http_route() then http_dispatch(): for callers that already hold the
 * body (the tests).  The caller frees resp->body with resp_free(). */
void		 http_handle(struct app *app, const struct req *req,
		    struct resp *resp);
void		 resp_free(struct resp *resp);

enum method	 http_method(const char *name);
const char	*http_status_text(int status);

/* Fill resp with {"error":{"code":..,"message":..[,"field":..]}}.
 * field may be NULL. */
void		 resp_error(struct resp *resp, int status, const char *code,
		    const char *field, const char *message);

/* Fill resp with the serialised object; takes ownership of obj. */
void		 resp_json(struct resp *resp, int status,
		    struct json_object *obj);

/* The handlers (one file each). */
void		 callback_handle(struct app *, const struct req *,
		    struct resp *);
void		 portal_handle(struct app *, const struct req *,
		    struct resp *);
void		 health_handle(struct app *, const struct req *,
		    struct resp *);
void		 api_context(struct app *, const struct req *, struct resp *,
		    const struct call *);

/* Stripe's webhook deliveries: POST WEBHOOK_PATH<installed_app_id>, no
 * session (api-webhook.c). */
#define WEBHOOK_PATH	"/api/stripe/webhook/"
void		 webhook_handle(struct app *, const struct req *,
		    struct resp *);

/* A verified portal session, from the Bearer token of an /api/v1/ call. */
struct session {
	struct token	 tok;
	struct json_object *scopes;	/* granted_permissions, owned */
};

/*
 * What the router hands a portal API handler: the verified session (the
 * route's scope already checked) and the id the path carried, if the
 * route takes one (already checked to be an id).
 */
struct call {
	struct session	 s;
	const char	*arg;		/* the route's own argument (e.g. the
					   resource a list route serves) */
	char		 id[256 + 1];
};

/* The portal API handlers (api-*.c). */
void		 api_list(struct app *, const struct req *, struct resp *,
		    const struct call *);
void		 api_detail(struct app *, const struct req *, struct resp *,
		    const struct call *);
void		 api_txn_create(struct app *, const struct req *,
		    struct resp *, const struct call *);
void		 api_txn_status(struct app *, const struct req *,
		    struct resp *, const struct call *);
void		 api_alerts_list(struct app *, const struct req *,
		    struct resp *, const struct call *);
void		 api_alert_get(struct app *, const struct req *,
		    struct resp *, const struct call *);
void		 api_alert_statuses(struct app *, const struct req *,
		    struct resp *, const struct call *);
void		 api_alert_flag(struct app *, const struct req *,
		    struct resp *, const struct call *);
void		 api_alert_update(struct app *, const struct req *,
		    struct resp *, const struct call *);
void		 api_stripe_get(struct app *, const struct req *,
		    struct resp *, const struct call *);
void		 api_stripe_put(struct app *, const struct req *,
		    struct resp *, const struct call *);
void		 api_stripe_delete(struct app *, const struct req *,
		    struct resp *, const struct call *);
void		 api_sync_create(struct app *, const struct req *,
		    struct resp *, const struct call *);
void		 api_sync_list(struct app *, const struct req *,
		    struct resp *, const struct call *);
void		 api_sync_get(struct app *, const struct req *,
		    struct resp *, const struct call *);
void		 api_settings_get(struct app *, const struct req *,
		    struct resp *, const struct call *);
void		 api_settings_put(struct app *, const struct req *,
		    struct resp *, const struct call *);
void		 api_webhook_get(struct app *, const struct req *,
		    struct resp *, const struct call *);
void		 api_webhook_put(struct app *, const struct req *,
		    struct resp *, const struct call *);
void		 api_webhook_delete(struct app *, const struct req *,
		    struct resp *, const struct call *);

/* The "webhook" object of GET /api/v1/stripe for install id, or NULL on
 * a database error (logged; the caller answers api_db_error()). */
struct json_object *api_webhook_json(struct app *app, const char *id);
void		 api_problems(struct app *, const struct req *,
		    struct resp *, const struct call *);

void		 api_recon_create(struct app *, const struct req *,
		    struct resp *, const struct call *);
void		 api_recon_list(struct app *, const struct req *,
		    struct resp *, const struct call *);
void		 api_recon_get(struct app *, const struct req *,
		    struct resp *, const struct call *);

/* The query of a run history (status=all|completed|in_progress|failed,
 * page, page_size): 1, or 0 with resp filled with the 400. */
int		 api_history_query(const struct req *req, struct resp *resp,
		    const char **status, long *page, long *size);

/* A history's answer: {counts: {all, completed, in_progress, failed},
 * data (taken), page, page_size}. */
struct json_object *api_history_json(struct json_object *data,
		    const int64_t n[4], long page, long size);

/* An install's settings, stored over the defaults; 0 with resp filled. */
struct settings;
int		 api_settings_load(struct app *app, const char *id,
		    struct settings *s, struct resp *resp);

/*
 * The request's JSON body, checked by valid_body() and its fields by
 * valid_fields() against tab[0..n) into f.  Returns the parsed body
 * (caller json_object_put()s; f points into it), or NULL with resp
 * filled with the 4xx naming what is wrong.
 */
struct field;
struct fieldval;
struct json_object *api_body(const struct req *req, struct resp *resp,
		    const struct field *tab, size_t n, struct fieldval *f);

/*
 * Make call to Cloud for the session's install (its key, its instance).
 * Returns 1 with the answer in *out (caller json_object_put()s), or 0
 * with resp filled with the error to answer.
 */
struct cloud_call;
int		 api_cloud(struct app *app, const struct call *c,
		    struct resp *resp, const struct cloud_call *call,
		    struct json_object **out);

/* Answer 503 DATABASE_UNAVAILABLE after a database failure while doing
 * what (logged with SQLite's message; any open transaction is rolled
 * back). */
void		 api_db_error(struct app *app, struct resp *resp,
		    const char *what);

/* Answer a failed Cloud call (cloud.h's struct cloud_err) as JSON. */
struct cloud_err;
void		 resp_cloud_error(struct resp *resp,
		    const struct cloud_err *e);

/*
 * The one check for every /api/v1/ route: Bearer token signature, expiry,
 * install exists, is active, same generation and instance.  Returns 1 with
 * *s filled (caller calls session_free), or 0 with resp filled (401/403).
 */
int		 session_verify(struct app *, const struct req *,
		    struct resp *, struct session *s);
void		 session_free(struct session *s);

/* Was "scope" granted and is it one we honour?  0 fills resp with 403
 * MISSING_PERMISSION naming the scope. */
int		 session_require(const struct session *s, const char *scope,
		    struct resp *resp);

#endif
