/*
 * stripe.c: the Stripe API client.  See stripe.h.
 *
 * How an answer becomes an error (status is what the portal answers):
 *   no answer in time			504 STRIPE_TIMEOUT	retryable
 *   cannot connect			502 STRIPE_UNREACHABLE	retryable
 *   certificate or handshake		502 STRIPE_TLS
 *   answer over the cap		502 STRIPE_ANSWER_TOO_LARGE
 *   401 (key unknown, revoked)		502 STRIPE_KEY_INVALID
 *   403 (a restricted key's limits)	502 STRIPE_PERMISSION
 *   429 (rate limit)			503 STRIPE_RATE_LIMITED	retryable
 *   5xx				502 STRIPE_ERROR	retryable
 *   any other 4xx (a bad request)	502 STRIPE_REQUEST_FAILED
 * and Stripe-Should-Retry, when Stripe sends it, decides "retryable".
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "conf.h"
#include "httpc.h"
#include "log.h"
#include "stripe.h"
#include "util.h"

#define STRIPE_MAX_RESPONSE	(16L * 1024 * 1024) /* a page of 100 with
						   their sources is ~0.5 MiB */
#define STRIPE_ATTEMPTS		4
#define STRIPE_BACKOFF_MS	250
#define STRIPE_SEGS_MAX		4

const char *const stripe_mode_names[STRIPE__MODE_MAX] = {
	"test",		/* STRIPE_TEST */
	"live",		/* STRIPE_LIVE */
};

const char *const stripe_keytype_names[STRIPE__KEYTYPE_MAX] = {
	"secret",	/* STRIPE_SECRET */
	"restricted",	/* STRIPE_RESTRICTED */
};

struct stripe {
	struct httpc	*h;
	char		*base;
	long		 calls;
	double		 interval_ms;	/* between calls; 0: no limit */
	double		 next_ms;	/* monotonic time of the next call */
};

int
stripe_key_parse(const char *key, enum stripe_mode *mode,
    enum stripe_keytype *type)
{
	size_t	 i, n;

	if (key == NULL)
		return 0;
	if (strncmp(key, "sk_", 3) == 0)
		*type = STRIPE_SECRET;
	else if (strncmp(key, "rk_", 3) == 0)
		*type = STRIPE_RESTRICTED;
	else
		return 0;
	if (strncmp(key + 3, "test_", 5) == 0)
		*mode = STRIPE_TEST;
	else if (strncmp(key + 3, "live_", 5) == 0)
		*mode = STRIPE_LIVE;
	else
		return 0;
	n = strlen(key + 8);
	if (n < 8 || n > 247)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)key[8 + i]))
			return 0;
	return 1;
}

struct stripe *
stripe_new(const struct conf *cf)
{
	struct httpc_conf	 hc;
	struct stripe		*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	memset(&hc, 0, sizeof(hc));
	hc.connect_timeout_ms = cf->stripe_connect_timeout * 1000L;
	hc.timeout_ms = cf->stripe_timeout * 1000L;
	hc.ca_file = cf->ca_file;
	hc.max_response = STRIPE_MAX_RESPONSE;
	hc.max_attempts = STRIPE_ATTEMPTS;
	hc.backoff_ms = STRIPE_BACKOFF_MS;
	if ((s->base = strdup(cf->stripe_api_url)) == NULL ||
	    (s->h = httpc_new(&hc)) == NULL) {
		free(s->base);
		free(s);
		return NULL;
	}
	return s;
}

void
stripe_free(struct stripe *s)
{
	if (s == NULL)
		return;
	httpc_free(s->h);
	free(s->base);
	free(s);
}

void
stripe_set_rate(struct stripe *s, long per_second)
{
	s->interval_ms = per_second > 0 ? 1000.0 / (double)per_second : 0;
}

long
stripe_calls(const struct stripe *s)
{
	return s->calls;
}

long
stripe_connects(const struct stripe *s)
{
	return httpc_connects(s->h);
}

/* Wait for this call's turn under the rate. */
static void
pace(struct stripe *s)
{
	struct timespec	 ts;
	double		 now = util_monotonic_ms(), wait;

	if (s->interval_ms <= 0)
		return;
	if ((wait = s->next_ms - now) > 0) {
		ts.tv_sec = (time_t)(wait / 1000);
		ts.tv_nsec = (long)((wait - (double)ts.tv_sec * 1000) * 1e6);
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			continue;
		now = s->next_ms;
	}
	s->next_ms = now + s->interval_ms;
}

/* Is p the start of a word that holds a secret? Returns the length of
 * the prefix to keep, or 0. */
static size_t
secret_prefix(const char *p)
{
	static const char *const prefixes[] = {
		"sk_test_", "sk_live_", "rk_test_", "rk_live_", "whsec_",
		NULL
	};
	size_t	 i;

	for (i = 0; prefixes[i] != NULL; i++)
		if (strncmp(p, prefixes[i], strlen(prefixes[i])) == 0)
			return strlen(prefixes[i]);
	return 0;
}

void
stripe_scrub(char *buf, size_t bufsz, const char *msg)
{
	size_t	 i = 0, o = 0, k;

	if (bufsz == 0)
		return;
	while (msg != NULL && msg[i] != '\0' && o + 1 < bufsz) {
		if ((i == 0 || !isalnum((unsigned char)msg[i - 1])) &&
		    (k = secret_prefix(msg + i)) > 0) {
			/* Keep the prefix, mask the rest of the word. */
			for (; k > 0 && o + 1 < bufsz; k--)
				buf[o++] = msg[i++];
			while (msg[i] != '\0' && (isalnum((unsigned char)msg[i])
			    || msg[i] == '*'))
				i++;
			for (k = 0; k < 4 && o + 1 < bufsz; k++)
				buf[o++] = '*';
			continue;
		}
		buf[o++] = isprint((unsigned char)msg[i]) ? msg[i] : ' ';
		i++;
	}
	buf[o] = '\0';
}

static int
fail(struct stripe_err *e, int status, const char *code, int retryable,
    const char *msg)
{
	e->status = status;
	e->retryable = retryable;
	snprintf(e->code, sizeof(e->code), "%s", code);
	snprintf(e->message, sizeof(e->message), "%s", msg);
	return 0;
}

/* Stripe's own error ({"error": {"message", "code", "type"}}) into *e:
 * its message replaces ours when it has one. */
static void
stripe_error_body(const struct httpc_resp *r, struct stripe_err *e)
{
	struct json_object	*o, *err, *v;

	if ((o = httpc_json(r->body, r->len)) == NULL)
		return;
	if (json_object_object_get_ex(o, "error", &err) &&
	    json_object_is_type(err, json_type_object)) {
		if (json_object_object_get_ex(err, "message", &v) &&
		    json_object_is_type(v, json_type_string) &&
		    json_object_get_string_len(v) > 0) {
			char	 m[sizeof(e->message) - 16];

			stripe_scrub(m, sizeof(m), json_object_get_string(v));
			snprintf(e->message, sizeof(e->message), "Stripe: %s",
			    m);
		}
		if (json_object_object_get_ex(err, "code", &v) &&
		    json_object_is_type(v, json_type_string))
			stripe_scrub(e->stripe_code, sizeof(e->stripe_code),
			    json_object_get_string(v));
	}
	json_object_put(o);
}

/* An answer or a fault into *e; returns 1 for a 2xx with a JSON object
 * in *out. */
static int
outcome(const struct httpc_resp *r, struct json_object **out,
    struct stripe_err *e)
{
	e->upstream_status = r->status;
	snprintf(e->detail, sizeof(e->detail), "%s", r->detail);
	snprintf(e->request_id, sizeof(e->request_id), "%s", r->request_id);
	switch (r->fault) {
	case HTTPC_OK:
		break;
	case HTTPC_TIMEOUT:
		return fail(e, 504, "STRIPE_TIMEOUT", 1, "Stripe did not "
		    "answer in time; try again in a moment");
	case HTTPC_UNREACHABLE:
		return fail(e, 502, "STRIPE_UNREACHABLE", 1, "Stripe cannot "
		    "be reached; try again in a moment");
	case HTTPC_TLS:
		return fail(e, 502, "STRIPE_TLS", 0, "the connection to "
		    "Stripe failed its certificate check");
	case HTTPC_TOO_LARGE:
		return fail(e, 502, "STRIPE_ANSWER_TOO_LARGE", 0, "Stripe's "
		    "answer was larger than this app accepts");
	default:
		return fail(e, 502, "STRIPE_ERROR", 0, "the call to Stripe "
		    "failed");
	}
	if (r->status >= 200 && r->status < 300) {
		if ((*out = httpc_json(r->body, r->len)) == NULL ||
		    !json_object_is_type(*out, json_type_object)) {
			json_object_put(*out);
			*out = NULL;
			return fail(e, 502, "STRIPE_ERROR", 0, "Stripe's "
			    "answer was not a JSON object");
		}
		return 1;
	}
	if (r->status == 401)
		fail(e, 502, "STRIPE_KEY_INVALID", 0, "Stripe does not accept "
		    "this key: it is unknown, expired or revoked");
	else if (r->status == 403)
		fail(e, 502, "STRIPE_PERMISSION", 0, "the Stripe key may not "
		    "do this: give the restricted key read access to it");
	else if (r->status == 429)
		fail(e, 503, "STRIPE_RATE_LIMITED", 1, "Stripe is limiting "
		    "requests; try again in a moment");
	else if (r->status >= 500)
		fail(e, 502, "STRIPE_ERROR", 1, "Stripe answered with an "
		    "error; try again in a moment");
	else
		fail(e, 502, "STRIPE_REQUEST_FAILED", 0, "Stripe refused the "
		    "request");
	/* Stripe-Should-Retry decides, except that a rate limit is always
	 * waited out: Stripe asks for backoff there, not for giving up. */
	if (r->should_retry >= 0 && r->status != 429)
		e->retryable = r->should_retry;
	stripe_error_body(r, e);
	return 0;
}

int
stripe_get(struct stripe *s, const char *key, const char *const *segs,
    const char *const *query, struct json_object **out,
    struct stripe_err *e)
{
	static const char *const headers[] = {
		"Stripe-Version: " STRIPE_API_VERSION, NULL
	};
	const char		*path[STRIPE_SEGS_MAX + 2];
	struct httpc_req	 req;
	struct httpc_resp	 r;
	char			*url;
	size_t			 i;
	int			 ok;

	memset(e, 0, sizeof(*e));
	*out = NULL;
	path[0] = "v1";
	for (i = 0; segs[i] != NULL; i++) {
		if (i == STRIPE_SEGS_MAX)
			return fail(e, 500, "INTERNAL", 0, "too many path "
			    "segments for Stripe");
		path[i + 1] = segs[i];
	}
	path[i + 1] = NULL;
	if ((url = httpc_url(s->base, path, query)) == NULL)
		return fail(e, 500, "INTERNAL", 0, "could not build the URL "
		    "for Stripe");
	memset(&req, 0, sizeof(req));
	req.method = HTTPC_GET;
	req.url = url;
	req.bearer = key;
	req.headers = headers;
	pace(s);
	s->calls++;
	httpc_do(s->h, &req, &r);
	free(url);
	ok = outcome(&r, out, e);
	if (!ok)
		log_warn("stripe: call failed: %s (HTTP %ld, %d attempts%s%s%s%s)",
		    e->code, r.status, r.attempts,
		    r.request_id[0] != '\0' ? ", request " : "", r.request_id,
		    r.detail[0] != '\0' ? ": " : "", r.detail);
	httpc_resp_free(&r);
	return ok;
}
