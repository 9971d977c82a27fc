/*
 * fuzz-callback.c: Cloud's install and uninstall events and its launch
 * request, through their handlers and down to the install table, on the
 * database every input starts from afresh.  The first byte picks the
 * route (callback or launch) and the content type; the rest is the body.
 *
 * Whatever the body: fuzz_check_resp()'s answer; an install event
 * answered 200 stored exactly the api_key it carried (it opens again from
 * the database); a launch answered 200 points into portal_url with a
 * token that verifies and names the install.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "app.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const ctypes[] = {
	"application/json", "application/json; charset=utf-8", "text/plain",
	NULL,
};

/*
 * An event answered 200: an install now active holds exactly the api_key
 * the event carried; one an uninstall left inactive holds no key.
 */
static void
check_event(const char *body)
{
	struct json_object	*o, *v, *id;
	struct install		 in;
	char			*key = NULL;
	int			 rc;

	if ((o = json_tokener_parse(body)) == NULL)
		abort();
	if (json_object_object_get_ex(o, "installed_app_id", &id) &&
	    db_install_get(fuzz_app.db, json_object_get_string(id), &in) == 1) {
		rc = db_install_key(fuzz_app.db, fuzz_app.cf,
		    json_object_get_string(id), &key);
		if (in.status != INSTALL_ACTIVE ? rc != 0 : rc != 1 ||
		    !json_object_object_get_ex(o, "api_key", &v) ||
		    strcmp(key, json_object_get_string(v)) != 0)
			abort();
		free(key);
		install_free(&in);
	}
	json_object_put(o);
}

/* The launch answered 200: {"portal_url": portal_url + ?token=...}. */
static void
check_launch(const char *answer)
{
	struct json_object	*o, *v;
	struct token		 t;
	CURLU			*u;
	char			*q = NULL;

	if ((o = json_tokener_parse(answer)) == NULL ||
	    !json_object_object_get_ex(o, "portal_url", &v) ||
	    strncmp(json_object_get_string(v), fuzz_app.cf->portal_url,
	    strlen(fuzz_app.cf->portal_url)) != 0 ||
	    (u = curl_url()) == NULL ||
	    curl_url_set(u, CURLUPART_URL, json_object_get_string(v), 0) !=
	    CURLUE_OK ||
	    curl_url_get(u, CURLUPART_QUERY, &q, 0) != CURLUE_OK ||
	    strncmp(q, "token=", 6) != 0 ||
	    token_verify(fuzz_app.cf, q + 6, fuzz_now, &t) != TOKEN_OK ||
	    strcmp(t.install_id, FUZZ_INSTALL) != 0)
		abort();
	curl_free(q);
	curl_url_cleanup(u);
	json_object_put(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct req	 req;
	struct resp	 r;
	int		 launch;

	if (size == 0)
		return 0;
	fuzz_app_init();
	fuzz_input(data, size);
	fuzz_answers(NULL, 0);
	memset(&req, 0, sizeof(req));
	launch = data[0] & 1;
	req.method = METHOD_POST;
	req.path = launch ? "/api/portal/" FUZZ_SECRET :
	    "/api/callback/" FUZZ_SECRET;
	req.content_type = ctypes[(data[0] >> 1) % 4];
	req.body = (const char *)data + 1;
	req.bodylen = size - 1;
	req.now = fuzz_now;
	http_handle(&fuzz_app, &req, &r);
	fuzz_check_resp(&r);
	if (r.status == 200 && launch)
		check_launch(r.body);
	else if (r.status == 200 && strstr(r.body, "duplicate") == NULL) {
		/* valid_body() said it is one NUL-free JSON object. */
		char *s = fuzz_strndup(req.body, req.bodylen);

		check_event(s);
		free(s);
	}
	resp_free(&r);
	if (!launch)
		fuzz_app_reset();
	return 0;
}
