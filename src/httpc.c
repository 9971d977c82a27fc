/*
 * httpc.c: the HTTP client core on libcurl.  See httpc.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "config.h"
#include "crypto.h"
#include "httpc.h"
#include "util.h"

#define RETRY_AFTER_MAX_S	30	/* a longer wait is not worth it */

struct httpc {
	CURL			*curl;
	struct httpc_conf	 conf;
	char			*ca_file;	/* owned copy */
	long			 connects;
};

const char *const httpc_fault_names[HTTPC__FAULT_MAX] = {
	"ok",		/* HTTPC_OK */
	"unreachable",	/* HTTPC_UNREACHABLE */
	"timeout",	/* HTTPC_TIMEOUT */
	"tls",		/* HTTPC_TLS */
	"too-large",	/* HTTPC_TOO_LARGE */
	"internal",	/* HTTPC_INTERNAL */
};

static const char *const method_names[HTTPC__MAX] = {
	"GET", "POST", "PUT", "DELETE"
};

struct httpc *
httpc_new(const struct httpc_conf *conf)
{
	struct httpc	*h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->conf = *conf;
	if (conf->ca_file != NULL &&
	    (h->ca_file = strdup(conf->ca_file)) == NULL) {
		free(h);
		return NULL;
	}
	h->conf.ca_file = h->ca_file;
	if (h->conf.max_attempts < 1)
		h->conf.max_attempts = 1;
	if ((h->curl = curl_easy_init()) == NULL) {
		free(h->ca_file);
		free(h);
		return NULL;
	}
	return h;
}

void
httpc_free(struct httpc *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	free(h->ca_file);
	free(h);
}

long
httpc_connects(const struct httpc *h)
{
	return h->connects;
}

void
httpc_resp_free(struct httpc_resp *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
}

/* The body being received, with its cap. */
struct sink {
	struct httpc_resp	*resp;
	size_t			 cap;	/* bytes allocated */
	size_t			 max;
	int			 too_large;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink	*s = arg;
	size_t		 len = size * n, want;
	char		*nb;

	if (s->resp->len + len > s->max) {
		s->too_large = 1;
		return 0;	/* libcurl stops with CURLE_WRITE_ERROR */
	}
	if (s->resp->len + len + 1 > s->cap) {
		want = s->cap ? s->cap : 4096;
		while (want < s->resp->len + len + 1)
			want *= 2;
		if ((nb = realloc(s->resp->body, want)) == NULL)
			return 0;
		s->resp->body = nb;
		s->cap = want;
	}
	memcpy(s->resp->body + s->resp->len, p, len);
	s->resp->len += len;
	s->resp->body[s->resp->len] = '\0';
	return len;
}

/* The value of header line p[0..len) if it is header "name:" (lower
 * case), without leading blanks and the line end; NULL otherwise. */
static const char *
header_value(const char *p, size_t len, const char *name, size_t *vlen)
{
	size_t	 n = strlen(name), i;

	if (len <= n || strncasecmp(p, name, n) != 0)
		return NULL;
	for (i = n; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
		continue;
	*vlen = len - i;
	while (*vlen > 0 && (p[i + *vlen - 1] == '\r' ||
	    p[i + *vlen - 1] == '\n' || p[i + *vlen - 1] == ' '))
		(*vlen)--;
	return p + i;
}

/*
 * The headers we act on: Retry-After in whole seconds (an HTTP date is
 * not worth parsing here), Stripe-Should-Retry, and Request-Id (Stripe's
 * id of the call, for the log: letters, digits and _ only).
 */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct httpc_resp	*resp = arg;
	size_t			 len = size * n, vlen, j;
	const char		*v;
	char			 num[16];

	if ((v = header_value(p, len, "retry-after:", &vlen)) != NULL) {
		for (j = 0; j < vlen && j < sizeof(num) - 1 && v[j] >= '0' &&
		    v[j] <= '9'; j++)
			num[j] = v[j];
		num[j] = '\0';
		if (j > 0 && j < 6 && j == vlen)
			resp->retry_after = strtol(num, NULL, 10);
	} else if ((v = header_value(p, len, "stripe-should-retry:",
	    &vlen)) != NULL) {
		if (vlen == 4 && strncasecmp(v, "true", 4) == 0)
			resp->should_retry = 1;
		else if (vlen == 5 && strncasecmp(v, "false", 5) == 0)
			resp->should_retry = 0;
	} else if ((v = header_value(p, len, "request-id:", &vlen)) != NULL &&
	    vlen < sizeof(resp->request_id)) {
		for (j = 0; j < vlen; j++)
			if (!(v[j] == '_' || (v[j] >= '0' && v[j] <= '9') ||
			    (v[j] >= 'a' && v[j] <= 'z') ||
			    (v[j] >= 'A' && v[j] <= 'Z')))
				break;
		if (j == vlen) {
			memcpy(resp->request_id, v, vlen);
			resp->request_id[vlen] = '\0';
		}
	}
	return len;
}

/* What a libcurl result means for us. */
static enum httpc_fault
classify(CURLcode rc, int too_large)
{
	if (too_large)
		return HTTPC_TOO_LARGE;
	switch (rc) {
	case CURLE_OK:
		return HTTPC_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return HTTPC_UNREACHABLE;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTPC_TIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		return HTTPC_TLS;
	case CURLE_FILESIZE_EXCEEDED:
		return HTTPC_TOO_LARGE;
	default:
		return HTTPC_INTERNAL;
	}
}

/*
 * May this outcome be tried again?  Reads: a failure to connect or an
 * overloaded or failing gateway.  Writes: only the answers that say the
 * request was not acted on (429, 503): a write that may have reached the
 * server is never repeated blindly.
 */
static int
retryable(enum httpc_method m, const struct httpc_resp *r)
{
	/* Stripe says outright whether a retry can help. */
	if (r->fault == HTTPC_OK && r->should_retry == 0)
		return 0;
	if (r->fault == HTTPC_OK && r->should_retry == 1 && m == HTTPC_GET)
		return 1;
	if (r->fault == HTTPC_OK)
		return r->status == 429 || r->status == 503 ||
		    (m == HTTPC_GET && (r->status == 502 || r->status == 504));
	return m == HTTPC_GET && r->fault == HTTPC_UNREACHABLE;
}

/* Free a header list after wiping what it holds (a bearer key). */
static void
headers_free(struct curl_slist *l)
{
	struct curl_slist	*p;

	for (p = l; p != NULL; p = p->next)
		if (p->data != NULL)
			crypto_wipe(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

/* The headers of one call; NULL on failure. */
static struct curl_slist *
headers_make(const struct httpc_req *req)
{
	struct curl_slist	*l = NULL, *n;
	char			*auth;
	size_t			 i, len;

	if ((n = curl_slist_append(l, "Accept: application/json")) == NULL)
		return NULL;
	l = n;
	if (req->body != NULL) {
		if ((n = curl_slist_append(l,
		    "Content-Type: application/json")) == NULL)
			goto fail;
		l = n;
	}
	/* No "Expect: 100-continue" round trip on a POST. */
	if ((n = curl_slist_append(l, "Expect:")) == NULL)
		goto fail;
	l = n;
	for (i = 0; req->headers != NULL && req->headers[i] != NULL; i++) {
		if ((n = curl_slist_append(l, req->headers[i])) == NULL)
			goto fail;
		l = n;
	}
	if (req->bearer != NULL) {
		len = strlen(req->bearer) + sizeof("Authorization: Bearer ");
		if ((auth = malloc(len)) == NULL)
			goto fail;
		snprintf(auth, len, "Authorization: Bearer %s", req->bearer);
		n = curl_slist_append(l, auth);
		crypto_wipe(auth, len);
		free(auth);
		if (n == NULL)
			goto fail;
		l = n;
	}
	return l;
fail:
	headers_free(l);
	return NULL;
}

static void
pause_ms(long ms)
{
	struct timespec	 ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		continue;
}

/* One attempt; fills resp (status, body, fault). */
static void
attempt(struct httpc *h, const struct httpc_req *req,
    struct curl_slist *hdrs, long left_ms, struct httpc_resp *resp)
{
	struct sink	 s;
	CURL		*c = h->curl;
	CURLcode	 rc;
	long		 n = 0, ct;
	char		 err[CURL_ERROR_SIZE];

	memset(&s, 0, sizeof(s));
	s.resp = resp;
	s.max = h->conf.max_response;
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
	resp->status = 0;
	resp->retry_after = -1;
	resp->should_retry = -1;
	resp->request_id[0] = '\0';
	err[0] = '\0';

	/* Reset keeps the live connections and TLS sessions. */
	curl_easy_reset(c);
	ct = h->conf.connect_timeout_ms < left_ms ?
	    h->conf.connect_timeout_ms : left_ms;
	if (curl_easy_setopt(c, CURLOPT_URL, req->url) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK) {
		resp->fault = HTTPC_INTERNAL;
		snprintf(resp->detail, sizeof(resp->detail), "bad URL");
		return;
	}
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->conf.ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->conf.ca_file);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ct);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, left_ms);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, PACKAGE_NAME "/"
	    PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)h->conf.max_response);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	switch (req->method) {
	case HTTPC_GET:
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		break;
	default:
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST,
		    method_names[req->method]);
		if (req->body != NULL) {
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)req->bodylen);
		}
		break;
	}

	rc = curl_easy_perform(c);
	if (curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &n) == CURLE_OK)
		h->connects += n;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->fault = classify(rc, s.too_large);
	if (resp->fault != HTTPC_OK) {
		/* libcurl's message names the host at most, never a header
		 * or the path; keep it short all the same. */
		snprintf(resp->detail, sizeof(resp->detail), "%s",
		    err[0] != '\0' ? err : curl_easy_strerror(rc));
		if (resp->fault != HTTPC_TOO_LARGE)
			resp->status = 0;
	}
	/* The error buffer and header list belong to this call only. */
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
}

int
httpc_do(struct httpc *h, const struct httpc_req *req,
    struct httpc_resp *resp)
{
	struct curl_slist	*hdrs;
	double			 deadline, left;
	long			 pause;

	memset(resp, 0, sizeof(*resp));
	resp->retry_after = -1;
	resp->should_retry = -1;
	if ((hdrs = headers_make(req)) == NULL) {
		resp->fault = HTTPC_INTERNAL;
		snprintf(resp->detail, sizeof(resp->detail), "out of memory");
		return 0;
	}
	deadline = util_monotonic_ms() + (double)h->conf.timeout_ms;
	pause = h->conf.backoff_ms;
	for (;;) {
		left = deadline - util_monotonic_ms();
		if (left < 1) {
			resp->fault = HTTPC_TIMEOUT;
			resp->status = 0;
			snprintf(resp->detail, sizeof(resp->detail),
			    "deadline passed");
			break;
		}
		resp->attempts++;
		attempt(h, req, hdrs, (long)left, resp);
		if (resp->attempts >= h->conf.max_attempts ||
		    !retryable(req->method, resp))
			break;
		/* Retry-After wins over our own backoff; neither may run
		 * past the deadline (then this answer is the answer). */
		if (resp->retry_after >= 0)
			pause = (resp->retry_after > RETRY_AFTER_MAX_S ?
			    RETRY_AFTER_MAX_S : resp->retry_after) * 1000L;
		if ((double)pause >= deadline - util_monotonic_ms() - 1)
			break;
		pause_ms(pause);
		pause *= 2;
	}
	headers_free(hdrs);
	return resp->fault == HTTPC_OK;
}

/* A path segment we may send: not empty, not "." or "..". */
static int
seg_ok(const char *s)
{
	return s != NULL && *s != '\0' && strcmp(s, ".") != 0 &&
	    strcmp(s, "..") != 0;
}

/*
 * A base URL as every URL on it starts: scheme, authority and path as
 * libcurl's URL parser has them, the path's trailing slashes, the query
 * and the fragment dropped.  Parsing it cost more than the rest of a
 * request's URL, and a process has two bases (Cloud's and Stripe's), so
 * the last few are kept.
 */
#define BASES_KEPT	4

static struct base {
	char	*base;		/* as given */
	char	*prefix;	/* as URLs start; NULL: not a URL */
} bases[BASES_KEPT];
static size_t	 bases_next;

/* The prefix of base in *prefix (NULL if base is no URL we can use). */
static int
base_prefix(const char *base, const char **prefix)
{
	struct base	*b;
	CURLU		*u;
	char		*origin = NULL, *bpath = NULL, *p;
	size_t		 i, olen, plen;
	CURLUcode	 uc;
	int		 ok = 1;

	for (i = 0; i < BASES_KEPT; i++)
		if (bases[i].base != NULL && strcmp(bases[i].base, base) == 0) {
			*prefix = bases[i].prefix;
			return 1;
		}
	b = &bases[bases_next];
	bases_next = (bases_next + 1) % BASES_KEPT;
	free(b->base);
	free(b->prefix);
	b->base = b->prefix = NULL;
	if ((b->base = strdup(base)) == NULL)
		return 0;

	if ((u = curl_url()) == NULL) {
		free(b->base);
		b->base = NULL;
		return 0;
	}
	if ((uc = curl_url_set(u, CURLUPART_URL, base, 0)) != CURLUE_OK) {
		/* Kept as "no URL" only if it is not one. */
		if (uc == CURLUE_OUT_OF_MEMORY) {
			free(b->base);
			b->base = NULL;
			ok = 0;
		}
	} else if (curl_url_get(u, CURLUPART_PATH, &bpath, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PATH, "/", 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_QUERY, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &origin, 0) == CURLUE_OK) {
		/* "scheme://authority/" less its slash, then the path. */
		olen = strlen(origin);
		if (olen > 0 && origin[olen - 1] == '/')
			olen--;
		plen = strlen(bpath);
		while (plen > 0 && bpath[plen - 1] == '/')
			plen--;
		if ((p = malloc(olen + plen + 1)) != NULL) {
			memcpy(p, origin, olen);
			memcpy(p + olen, bpath, plen);
			p[olen + plen] = '\0';
			b->prefix = p;
		}
	}
	if (b->base != NULL && b->prefix == NULL && uc == CURLUE_OK) {
		/* A URL, but memory ran out: not kept as "no URL". */
		free(b->base);
		b->base = NULL;
		ok = 0;
	}
	curl_free(origin);
	curl_free(bpath);
	curl_url_cleanup(u);
	*prefix = b->prefix;
	return ok;
}

/* Is c unreserved (RFC 3986 2.3), sent as it is? */
static int
unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/* Append s to the buffer at *out (room checked by the caller), every
 * byte but the unreserved ones percent-encoded; in a query, a space is
 * '+' (as libcurl's URL API writes it). */
static void
encode(char **out, const char *s, int query)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*c;
	char			*o = *out;

	for (c = (const unsigned char *)s; *c != '\0'; c++)
		if (unreserved(*c))
			*o++ = (char)*c;
		else if (query && *c == ' ')
			*o++ = '+';
		else {
			*o++ = '%';
			*o++ = hex[*c >> 4];
			*o++ = hex[*c & 0xf];
		}
	*out = o;
}

/* See httpc.h. */
char *
httpc_url(const char *base, const char *const *segs,
    const char *const *query)
{
	const char	*prefix;
	char		*url, *o;
	size_t		 n, i;

	if (!base_prefix(base, &prefix) || prefix == NULL)
		return NULL;
	/* Each segment escaped on its own: an id can never add a segment
	 * or a query; every byte takes at most three. */
	n = strlen(prefix) + 1;
	for (i = 0; segs != NULL && segs[i] != NULL; i++) {
		if (!seg_ok(segs[i]))
			return NULL;
		n += 1 + 3 * strlen(segs[i]);
	}
	for (i = 0; query != NULL && query[i] != NULL &&
	    query[i + 1] != NULL; i += 2)
		n += 2 + 3 * (strlen(query[i]) + strlen(query[i + 1]));
	if ((url = malloc(n)) == NULL)
		return NULL;
	o = url + strlen(prefix);
	memcpy(url, prefix, (size_t)(o - url));
	for (i = 0; segs != NULL && segs[i] != NULL; i++) {
		*o++ = '/';
		encode(&o, segs[i], 0);
	}
	for (i = 0; query != NULL && query[i] != NULL &&
	    query[i + 1] != NULL; i += 2) {
		*o++ = i == 0 ? '?' : '&';
		encode(&o, query[i], 1);
		*o++ = '=';
		encode(&o, query[i + 1], 1);
	}
	*o = '\0';
	return url;
}

/* See httpc.h. */
struct json_object *
httpc_json(const char *s, size_t len)
{
	/* One tokener per process, reset for each parse: making and freeing
	 * one cost a fifth of a small parse.  It is kept only after a whole,
	 * clean parse of a small body: json_tokener_reset() leaves some
	 * state (a pending UTF-16 high surrogate) that a failed parse can
	 * leave set, and a large body's buffer is not worth keeping. */
	static struct json_tokener	*tok;
	struct json_object		*o;
	size_t				 end;

	if (s == NULL || len == 0 || len > INT_MAX)
		return NULL;
	if (tok == NULL) {
		if ((tok = json_tokener_new_ex(64)) == NULL)
			return NULL;
		json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	} else
		json_tokener_reset(tok);
	o = json_tokener_parse_ex(tok, s, (int)len);
	if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success
	    || json_tokener_get_parse_end(tok) < len)) {
		/* Only blanks may follow. */
		for (end = json_tokener_get_parse_end(tok); end < len; end++)
			if (strchr(" \t\r\n", s[end]) == NULL) {
				json_object_put(o);
				o = NULL;
				break;
			}
	}
	if (o == NULL || len > 65536) {
		json_tokener_free(tok);
		tok = NULL;
	}
	return o;
}
