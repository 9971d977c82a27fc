/*
 * cloud.c: the client of Blnk Cloud's gateway.  See cloud.h.
 *
 * How a failed call is answered (the portal turns each code into a state
 * with a next step):
 *   no answer, refused, DNS	502 CLOUD_UNREACHABLE
 *   past the deadline		504 CLOUD_TIMEOUT
 *   certificate		502 CLOUD_TLS
 *   answer over the cap	502 CLOUD_ANSWER_TOO_LARGE
 *   401 from Cloud		502 CLOUD_KEY_REVOKED (the install's key was
 *				revoked or is unknown: reinstall)
 *   403 from Cloud		502 CLOUD_FORBIDDEN (we check scopes first, so
 *				Cloud disagrees with the install record)
 *   429 from Cloud		503 CLOUD_RATE_LIMITED
 *   other 4xx from Core	the same status, Core's own code and message
 *				(TXN_DUPLICATE_REFERENCE, a validation error
 *				naming its field, ...)
 *   5xx, or an answer that is not JSON	502 CLOUD_ERROR
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "cloud.h"
#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "httpc.h"
#include "log.h"

#define CLOUD_MAX_RESPONSE	(4 * 1024 * 1024)
#define CLOUD_ATTEMPTS		3
#define CLOUD_BACKOFF_MS	200

#define CLOUD_SEGS_MAX	8	/* path segments of a call */
#define CLOUD_QUERY_MAX	64	/* query strings of a call (k and v) */

struct cloud {
	struct httpc	*h;
};

static const char *const api_prefix[CLOUD__API_MAX] = {
	"proxy",	/* CLOUD_PROXY */
	"data",		/* CLOUD_DATA */
	NULL,		/* CLOUD_FILTER: /<resource>/filter at the root */
	"alerts",	/* CLOUD_ALERTS */
};

struct cloud *
cloud_new(const struct conf *cf)
{
	struct httpc_conf	 hc;
	struct cloud		*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	memset(&hc, 0, sizeof(hc));
	hc.connect_timeout_ms = cf->cloud_connect_timeout * 1000L;
	hc.timeout_ms = cf->cloud_timeout * 1000L;
	hc.ca_file = cf->ca_file;
	hc.max_response = CLOUD_MAX_RESPONSE;
	hc.max_attempts = CLOUD_ATTEMPTS;
	hc.backoff_ms = CLOUD_BACKOFF_MS;
	if ((c->h = httpc_new(&hc)) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void
cloud_free(struct cloud *c)
{
	if (c == NULL)
		return;
	httpc_free(c->h);
	free(c);
}

long
cloud_connects(const struct cloud *c)
{
	return httpc_connects(c->h);
}

/* See cloud.h.  The API's prefix, then the call's segments; instance_id
 * first in the query of every call but Alerts. */
char *
cloud_url(const char *base, const struct cloud_call *call,
    const char *instance_id)
{
	const char	*segs[CLOUD_SEGS_MAX + 2], *query[CLOUD_QUERY_MAX + 3];
	size_t		 ns = 0, nq = 0, i;

	if (api_prefix[call->api] != NULL)
		segs[ns++] = api_prefix[call->api];
	for (i = 0; call->segs != NULL && call->segs[i] != NULL; i++) {
		if (i == CLOUD_SEGS_MAX)
			return NULL;
		segs[ns++] = call->segs[i];
	}
	segs[ns] = NULL;
	if (call->api != CLOUD_ALERTS) {
		if (instance_id == NULL)
			return NULL;
		query[nq++] = "instance_id";
		query[nq++] = instance_id;
	}
	for (i = 0; call->query != NULL && call->query[i] != NULL &&
	    call->query[i + 1] != NULL; i += 2) {
		if (i >= CLOUD_QUERY_MAX)
			return NULL;
		query[nq++] = call->query[i];
		query[nq++] = call->query[i + 1];
	}
	query[nq] = NULL;
	return httpc_url(base, segs, query);
}

static int
fail(struct cloud_err *e, int status, const char *code, const char *msg)
{
	e->status = status;
	snprintf(e->code, sizeof(e->code), "%s", code);
	snprintf(e->message, sizeof(e->message), "%s", msg);
	return 0;
}

/* Copy s into buf, printable ASCII only (a message from upstream goes
 * back to the browser and into logs). */
static void
clean_copy(char *buf, size_t bufsz, const char *s)
{
	size_t	 i;

	for (i = 0; s != NULL && s[i] != '\0' && i + 1 < bufsz; i++)
		buf[i] = isprint((unsigned char)s[i]) ? s[i] : ' ';
	buf[i] = '\0';
}

/*
 * Is s one of Core's own error codes (api/errors.go, internal/apierror:
 * TXN_..., BAL_..., LGR_..., IDT_..., GEN_...)?  Only those are passed to
 * the browser as they are: an upstream must not be able to answer with
 * one of the app's own codes (SESSION_EXPIRED, APP_UNINSTALLED, ...) and
 * make the portal act on it.
 */
static int
core_code(const char *s)
{
	static const char *const families[] = {
		"TXN_", "BAL_", "LGR_", "IDT_", "GEN_", NULL
	};
	size_t	 i, n;

	for (i = 0; families[i] != NULL; i++)
		if (strncmp(s, families[i], strlen(families[i])) == 0)
			break;
	if (families[i] == NULL || (n = strlen(s)) > 48)
		return 0;
	for (i = 0; i < n; i++)
		if (!isupper((unsigned char)s[i]) && s[i] != '_' &&
		    !isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * Core's refusal into *e: {"error": "...", "error_detail": {"code",
 * "message"}}, or validation errors under "errors" ({"field": "why"}).
 */
static void
core_error(const struct httpc_resp *r, struct cloud_err *e)
{
	struct json_object	*o, *d, *v;
	struct json_object_iterator it, end;

	/* Core's refusals keep their status only where it means the same to
	 * the browser; any other 4xx (a 405 without its Allow, say) is ours
	 * to answer as a failed call. */
	e->status = r->status == 400 || r->status == 404 || r->status == 409 ||
	    r->status == 422 || r->status == 423 ? (int)r->status : 502;
	snprintf(e->code, sizeof(e->code), "UPSTREAM_REJECTED");
	snprintf(e->message, sizeof(e->message), "Blnk refused the request "
	    "(HTTP %ld)", r->status);
	if ((o = httpc_json(r->body, r->len)) == NULL ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return;
	}
	if (json_object_object_get_ex(o, "error_detail", &d) &&
	    json_object_is_type(d, json_type_object)) {
		if (json_object_object_get_ex(d, "code", &v) &&
		    json_object_is_type(v, json_type_string) &&
		    core_code(json_object_get_string(v)))
			clean_copy(e->code, sizeof(e->code),
			    json_object_get_string(v));
		if (json_object_object_get_ex(d, "message", &v) &&
		    json_object_is_type(v, json_type_string))
			clean_copy(e->message, sizeof(e->message),
			    json_object_get_string(v));
	} else if (json_object_object_get_ex(o, "error", &v) &&
	    json_object_is_type(v, json_type_string))
		clean_copy(e->message, sizeof(e->message),
		    json_object_get_string(v));
	if (json_object_object_get_ex(o, "errors", &d) &&
	    json_object_is_type(d, json_type_object)) {
		it = json_object_iter_begin(d);
		end = json_object_iter_end(d);
		if (!json_object_iter_equal(&it, &end)) {
			snprintf(e->code, sizeof(e->code), "VALIDATION_ERROR");
			clean_copy(e->field, sizeof(e->field),
			    json_object_iter_peek_name(&it));
			v = json_object_iter_peek_value(&it);
			if (json_object_is_type(v, json_type_string))
				clean_copy(e->message, sizeof(e->message),
				    json_object_get_string(v));
		}
	}
	json_object_put(o);
}

/* An answer or a fault into *e; returns 1 for a 2xx with JSON in *out. */
static int
outcome(const struct httpc_resp *r, struct json_object **out,
    struct cloud_err *e)
{
	e->upstream_status = r->status;
	snprintf(e->detail, sizeof(e->detail), "%s", r->detail);
	switch (r->fault) {
	case HTTPC_OK:
		break;
	case HTTPC_TIMEOUT:
		return fail(e, 504, "CLOUD_TIMEOUT", "Blnk Cloud did not "
		    "answer in time; try again in a moment");
	case HTTPC_TLS:
		return fail(e, 502, "CLOUD_TLS", "the connection to Blnk "
		    "Cloud failed its certificate check");
	case HTTPC_TOO_LARGE:
		return fail(e, 502, "CLOUD_ANSWER_TOO_LARGE", "Blnk Cloud's "
		    "answer was larger than this app accepts");
	case HTTPC_UNREACHABLE:
		return fail(e, 502, "CLOUD_UNREACHABLE", "Blnk Cloud cannot "
		    "be reached; try again in a moment");
	default:
		return fail(e, 502, "CLOUD_ERROR", "the call to Blnk Cloud "
		    "failed");
	}
	if (r->status >= 200 && r->status < 300) {
		if (r->len == 0) {
			*out = json_object_new_object();
			return *out != NULL ? 1 : fail(e, 500, "INTERNAL",
			    "out of memory");
		}
		if ((*out = httpc_json(r->body, r->len)) == NULL)
			return fail(e, 502, "CLOUD_ERROR", "Blnk Cloud's "
			    "answer was not JSON");
		return 1;
	}
	switch (r->status) {
	case 401:
		return fail(e, 502, "CLOUD_KEY_REVOKED", "Blnk Cloud no longer "
		    "accepts this install's key: reinstall the app from Blnk "
		    "Cloud");
	case 403:
		return fail(e, 502, "CLOUD_FORBIDDEN", "Blnk Cloud refused "
		    "this install the operation");
	case 429:
		return fail(e, 503, "CLOUD_RATE_LIMITED", "Blnk Cloud is "
		    "limiting requests; try again in a moment");
	default:
		break;
	}
	if (r->status >= 400 && r->status < 500) {
		core_error(r, e);
		return 0;
	}
	return fail(e, 502, "CLOUD_ERROR", "Blnk Cloud answered with an "
	    "error; try again in a moment");
}

/* See cloud.h. */
int
cloud_do(struct cloud *c, struct db *db, const struct conf *cf,
    const char *install_id, const char *instance_id,
    const struct cloud_call *call, struct json_object **out,
    struct cloud_err *e)
{
	struct httpc_req	 req;
	struct httpc_resp	 r;
	const char		*text = NULL;
	char			*key = NULL, *url = NULL;
	int			 rc, ok;

	memset(e, 0, sizeof(*e));
	*out = NULL;
	if ((url = cloud_url(cf->cloud_api_url, call, instance_id)) == NULL)
		return fail(e, 500, "INTERNAL", "could not build the URL "
		    "for Blnk Cloud");
	if ((rc = db_install_key(db, cf, install_id, &key)) <= 0) {
		free(url);
		if (rc == 0)
			return fail(e, 403, "APP_UNINSTALLED", "this install "
			    "holds no key: the app was uninstalled");
		log_error("cloud: the install's key cannot be opened: %s",
		    db_errmsg(db));
		return fail(e, 503, "DATABASE_UNAVAILABLE", "the install's "
		    "key could not be read; retry later");
	}
	memset(&req, 0, sizeof(req));
	req.method = call->method;
	req.url = url;
	req.bearer = key;
	if (call->body != NULL) {
		text = json_object_to_json_string_ext(call->body,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		if (text == NULL) {
			crypto_wipe(key, strlen(key));
			free(key);
			free(url);
			return fail(e, 500, "INTERNAL", "out of memory");
		}
		req.body = text;
		req.bodylen = strlen(text);
	}
	httpc_do(c->h, &req, &r);
	crypto_wipe(key, strlen(key));
	free(key);
	free(url);
	ok = outcome(&r, out, e);
	if (!ok)
		log_warn("cloud: %s call failed: %s (HTTP %ld, %d attempts%s%s)",
		    call->method == HTTPC_GET ? "read" : "write", e->code,
		    r.status, r.attempts, r.detail[0] != '\0' ? ": " : "",
		    r.detail);
	httpc_resp_free(&r);
	return ok;
}
