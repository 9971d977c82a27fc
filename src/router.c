/*
 * router.c: from a path and a method to a handler.
 *
 * The callback and portal routes end in the callback secret: Cloud does not
 * sign its calls, so knowing that long random path segment is what
 * authenticates them.  A request without it is answered exactly like an
 * unknown path (404, route "not_found"), compared in constant time, and the
 * path itself is never logged.
 */
#include <string.h>

#include "conf.h"
#include "crypto.h"
#include "http.h"

#define M(m)	(1u << (m))

typedef void (*handler)(struct app *, const struct req *, struct resp *);

struct route {
	const char	*name;		/* for the log line */
	const char	*path;		/* exact path, or prefix if secret */
	int		 secret;	/* path + callback_secret */
	unsigned	 methods;	/* bit mask of enum method */
	const char	*allow;		/* the Allow header for 405 */
	int		 body;		/* the handler reads a body */
	handler		 fn;
};

static const struct route routes[] = {
	{ "callback", "/api/callback/", 1, M(METHOD_POST), "POST", 1,
	    callback_handle },
	{ "portal", "/api/portal/", 1, M(METHOD_POST), "POST", 1,
	    portal_handle },
	{ "health", "/api/health", 0, M(METHOD_GET) | M(METHOD_HEAD),
	    "GET, HEAD", 0, health_handle },
	{ "context", "/api/v1/context", 0, M(METHOD_GET) | M(METHOD_HEAD),
	    "GET, HEAD", 0, api_context },
};

/* Does path name this route (including the right secret)? */
static int
route_match(const struct route *r, const char *path, const char *secret)
{
	size_t	 n;

	if (!r->secret)
		return strcmp(path, r->path) == 0;
	n = strlen(r->path);
	if (strncmp(path, r->path, n) != 0)
		return 0;
	path += n;
	return crypto_equal(path, strlen(path), secret, strlen(secret));
}

const struct route *
http_route(struct app *app, const struct req *req, struct resp *resp)
{
	const struct route	*r;
	size_t			 i;

	memset(resp, 0, sizeof(*resp));
	resp->route = "not_found";
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		r = &routes[i];
		if (req->path == NULL ||
		    !route_match(r, req->path, app->cf->callback_secret))
			continue;
		resp->route = r->name;
		if (!(r->methods & M(req->method))) {
			resp->allow = r->allow;
			resp_error(resp, 405, "METHOD_NOT_ALLOWED", NULL,
			    "this route does not accept that method");
			return NULL;
		}
		return r;
	}
	resp_error(resp, 404, "NOT_FOUND", NULL, "no such route");
	return NULL;
}

int
http_route_has_body(const struct route *r)
{
	return r->body;
}

void
http_dispatch(const struct route *r, struct app *app, const struct req *req,
    struct resp *resp)
{
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
