/*
 * test-router.c: routing in-process, without FastCGI: which handler a
 * path and method reach, the secret path segment, 404 and 405 answers, and
 * the route names that go to the log in place of raw paths.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "tap.h"
#include "conf.h"
#include "db.h"
#include "http.h"

#define SECRET	"Zx9_secret-segment-0123456789abcdefghij"

static struct app	 app;
static struct conf	 cf;

/* The error code of a JSON error body, or "" (static buffer). */
static const char *
code_of(const struct resp *r)
{
	static char		 buf[64];
	struct json_object	*o, *e, *c;

	buf[0] = '\0';
	if ((o = json_tokener_parse(r->body)) == NULL)
		return "(not json)";
	if (json_object_object_get_ex(o, "error", &e) &&
	    json_object_object_get_ex(e, "code", &c))
		snprintf(buf, sizeof(buf), "%s", json_object_get_string(c));
	json_object_put(o);
	return buf;
}

static const struct {
	const char	*name;
	enum method	 method;
	const char	*path;
	int		 status;
	const char	*code;		/* "" for a success */
	const char	*route;
	const char	*allow;
} rows[] = {
	{ "health", METHOD_GET, "/api/health", 200, "", "health", NULL },
	{ "health HEAD", METHOD_HEAD, "/api/health", 200, "", "health", NULL },
	{ "health POST", METHOD_POST, "/api/health", 405, "METHOD_NOT_ALLOWED", "health", "GET, HEAD" },
	{ "health trailing slash", METHOD_GET, "/api/health/", 404, "NOT_FOUND", "not_found", NULL },
	{ "health case", METHOD_GET, "/API/health", 404, "NOT_FOUND", "not_found", NULL },
	{ "root", METHOD_GET, "/", 404, "NOT_FOUND", "not_found", NULL },
	{ "empty path", METHOD_GET, "", 404, "NOT_FOUND", "not_found", NULL },
	{ "callback right secret, no body", METHOD_POST, "/api/callback/" SECRET, 415, "UNSUPPORTED_MEDIA_TYPE", "callback", NULL },
	{ "callback GET", METHOD_GET, "/api/callback/" SECRET, 405, "METHOD_NOT_ALLOWED", "callback", "POST" },
	{ "callback unknown method", METHOD_OTHER, "/api/callback/" SECRET, 405, "METHOD_NOT_ALLOWED", "callback", "POST" },
	{ "callback no secret", METHOD_POST, "/api/callback/", 404, "NOT_FOUND", "not_found", NULL },
	{ "callback no slash", METHOD_POST, "/api/callback", 404, "NOT_FOUND", "not_found", NULL },
	{ "callback secret prefix", METHOD_POST, "/api/callback/Zx9_secret", 404, "NOT_FOUND", "not_found", NULL },
	{ "callback secret plus one", METHOD_POST, "/api/callback/" SECRET "k", 404, "NOT_FOUND", "not_found", NULL },
	{ "callback secret plus slash", METHOD_POST, "/api/callback/" SECRET "/", 404, "NOT_FOUND", "not_found", NULL },
	{ "callback secret case changed", METHOD_POST, "/api/callback/zx9_secret-segment-0123456789abcdefghij", 404, "NOT_FOUND", "not_found", NULL },
	{ "callback wrong secret GET is 404 not 405", METHOD_GET, "/api/callback/nope", 404, "NOT_FOUND", "not_found", NULL },
	{ "portal right secret", METHOD_POST, "/api/portal/" SECRET, 415, "UNSUPPORTED_MEDIA_TYPE", "portal", NULL },
	{ "portal GET", METHOD_GET, "/api/portal/" SECRET, 405, "METHOD_NOT_ALLOWED", "portal", "POST" },
	{ "portal wrong secret", METHOD_POST, "/api/portal/x", 404, "NOT_FOUND", "not_found", NULL },
	{ "portal with callback secret path swapped", METHOD_POST, "/api/portal" SECRET, 404, "NOT_FOUND", "not_found", NULL },
	{ "context without token", METHOD_GET, "/api/v1/context", 401, "MISSING_TOKEN", "context", NULL },
	{ "context POST", METHOD_POST, "/api/v1/context", 405, "METHOD_NOT_ALLOWED", "context", "GET, HEAD" },
	{ "context HEAD", METHOD_HEAD, "/api/v1/context", 401, "MISSING_TOKEN", "context", NULL },
	{ "unknown v1 route", METHOD_GET, "/api/v1/nothing", 404, "NOT_FOUND", "not_found", NULL },
};

int
main(void)
{
	char		 dir[] = "/tmp/test-router.XXXXXX", path[512];
	char		 err[512], mk[64];
	struct req	 req;
	struct resp	 r;
	struct db	*db;
	FILE		*f;
	size_t		 i;
	int		 applied;
	unsigned char	 key[32];

	if (mkdtemp(dir) == NULL)
		return 99;
	for (i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(i * 7 + 1);
	{
		char *b = b64_encode(key, sizeof(key));
		snprintf(mk, sizeof(mk), "%s", b);
		free(b);
	}
	snprintf(path, sizeof(path), "%s/c.conf", dir);
	f = fopen(path, "w");
	fprintf(f, "db_path = %s/db.sqlite\nmaster_key = %s\n"
	    "session_secret = 0123456789abcdef0123456789abcdefXYZ\n"
	    "callback_secret = %s\nportal_url = https://portal.test/\n"
	    "log_file = %s/log\n", dir, mk, SECRET, dir);
	fclose(f);
	clearenv();
	if (!ok(conf_load(&cf, path, 1, err, sizeof(err)),
	    "config loads: %s", err))
		return done_testing();
	snprintf(path, sizeof(path), "%s/db.sqlite", dir);
	db = db_open(path, DB_MIGRATE, err, sizeof(err));
	ok(db != NULL && db_migrate(db, &applied, err, sizeof(err)),
	    "database migrates");
	db_close(db);
	app.cf = &cf;
	app.db = db_open(path, DB_SERVE, err, sizeof(err));
	ok(app.db != NULL, "database opens for serving");

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		memset(&req, 0, sizeof(req));
		req.method = rows[i].method;
		req.path = rows[i].path;
		req.body = "";
		http_handle(&app, &req, &r);
		ok(r.status == rows[i].status &&
		    strcmp(code_of(&r), rows[i].code) == 0 &&
		    strcmp(r.route, rows[i].route) == 0 &&
		    ((r.allow == NULL && rows[i].allow == NULL) ||
		    (r.allow != NULL && rows[i].allow != NULL &&
		    strcmp(r.allow, rows[i].allow) == 0)),
		    "%s: %d %s route %s", rows[i].name, rows[i].status,
		    rows[i].code, rows[i].route);
		if (r.status != rows[i].status)
			diag("got %d %s route %s", r.status, code_of(&r),
			    r.route);
		ok(strstr(r.body, SECRET) == NULL, "%s: no secret in the "
		    "answer", rows[i].name);
		resp_free(&r);
	}

	/* A NULL path (no REQUEST_URI at all) is just not found. */
	memset(&req, 0, sizeof(req));
	req.method = METHOD_GET;
	http_handle(&app, &req, &r);
	ok(r.status == 404 && strcmp(r.route, "not_found") == 0,
	    "no path at all: 404");
	resp_free(&r);

	ok(http_method("GET") == METHOD_GET && http_method("get") ==
	    METHOD_OTHER && http_method(NULL) == METHOD_OTHER &&
	    http_method("OTHER") == METHOD_OTHER,
	    "methods are matched exactly; unknown ones are OTHER");

	db_close(app.db);
	conf_free(&cf);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		diag("could not remove %s", dir);
	return done_testing();
}
