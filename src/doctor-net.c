/*
 * doctor-net.c: the checks of "stripe-syncctl doctor" over the network:
 * one small libcurl GET/POST that keeps the status, headers and the start
 * of the body; whether cloud_api_url and stripe_api_url answer; and with
 * --url the public site: the portal's security headers (CSP
 * frame-ancestors against the configuration), /api/health, and that the
 * callback route answers 404 without the secret.  See doctor.h.
 *
 * No redirect is followed, and the callback is probed with a random
 * wrong secret, never the configured one.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "conf.h"
#include "crypto.h"
#include "ctl.h"
#include "doctor.h"

#define DOCTOR_BODYMAX		65536	/* response body kept, bytes */
#define DOCTOR_HDRMAX		100	/* response header lines kept */

/* A response as doctor_http() collects it. */
struct hresp {
	long	 status;		/* HTTP status, 0 if none */
	char	*hdr[DOCTOR_HDRMAX];	/* "Name: value", no CRLF */
	size_t	 nhdr;
	char	*body;			/* NUL terminated, at most BODYMAX */
	size_t	 bodylen;
	int	 failed;		/* out of memory while collecting */
};

/* --- doctor: HTTP --- */

/* Free what doctor_http() collected. */
static void
hresp_free(struct hresp *r)
{
	size_t	 i;

	for (i = 0; i < r->nhdr; i++)
		free(r->hdr[i]);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/*
 * CURLOPT_HEADERFUNCTION: keep each header line without its CRLF.  A
 * status line starts a new set (interim 1xx responses come first).
 */
static size_t
hresp_header(char *p, size_t size, size_t n, void *arg)
{
	struct hresp	*r = arg;
	size_t		 len = size * n, i;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		for (i = 0; i < r->nhdr; i++)
			free(r->hdr[i]);
		r->nhdr = 0;
		return size * n;
	}
	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	if (len == 0 || r->nhdr == DOCTOR_HDRMAX)
		return size * n;
	if ((r->hdr[r->nhdr] = strndup(p, len)) == NULL)
		r->failed = 1;
	else
		r->nhdr++;
	return size * n;
}

/* CURLOPT_WRITEFUNCTION: keep the first DOCTOR_BODYMAX bytes. */
static size_t
hresp_body(char *p, size_t size, size_t n, void *arg)
{
	struct hresp	*r = arg;
	size_t		 len = size * n, take;
	char		*nb;

	take = DOCTOR_BODYMAX - r->bodylen;
	if (take > len)
		take = len;
	if (take == 0)
		return len;
	if ((nb = realloc(r->body, r->bodylen + take + 1)) == NULL) {
		r->failed = 1;
		return len;
	}
	memcpy(nb + r->bodylen, p, take);
	r->bodylen += take;
	nb[r->bodylen] = '\0';
	r->body = nb;
	return len;
}

/*
 * The idx-th value (0 first) of header "name" (any case), leading and
 * trailing blanks removed, into an allocated string the caller frees.
 * Returns NULL if there is no such header (or out of memory).
 */
static char *
hresp_get(const struct hresp *r, const char *name, size_t idx)
{
	const char	*v, *e;
	size_t		 i, nlen = strlen(name);

	for (i = 0; i < r->nhdr; i++) {
		if (strncasecmp(r->hdr[i], name, nlen) != 0 ||
		    r->hdr[i][nlen] != ':')
			continue;
		if (idx > 0) {
			idx--;
			continue;
		}
		for (v = r->hdr[i] + nlen + 1; *v == ' ' || *v == '\t'; v++)
			continue;
		for (e = v + strlen(v); e > v && (e[-1] == ' ' ||
		    e[-1] == '\t'); e--)
			continue;
		return strndup(v, (size_t)(e - v));
	}
	return NULL;
}

/*
 * One request: GET url, or POST "{}" as JSON if "post".  No redirect is
 * followed; proxies come from the environment as libcurl reads them.
 * Returns CURLE_OK with r filled in (the caller must hresp_free() it in
 * every case), or the libcurl error.
 */
static CURLcode
doctor_http(struct doctor *d, const char *url, int post, struct hresp *r)
{
	CURL			*h;
	struct curl_slist	*hl = NULL;
	CURLcode		 rc;

	memset(r, 0, sizeof(*r));
	if ((h = curl_easy_init()) == NULL)
		return CURLE_OUT_OF_MEMORY;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, d->timeout);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(h, CURLOPT_USERAGENT,
	    PROGNAME "-doctor/" PACKAGE_VERSION);
	if (d->c->cf.ca_file != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, d->c->cf.ca_file);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, hresp_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, hresp_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	if (post) {
		if ((hl = curl_slist_append(NULL,
		    "Content-Type: application/json")) == NULL) {
			curl_easy_cleanup(h);
			return CURLE_OUT_OF_MEMORY;
		}
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "{}");
	}
	if ((rc = curl_easy_perform(h)) == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
		if (r->failed)
			rc = CURLE_OUT_OF_MEMORY;
	}
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	return rc;
}

/*
 * The fix printed with a failed request: for a certificate that does not
 * verify, how to trust a private CA without losing the public ones
 * (ca_file replaces the system store for every outbound call, Cloud and
 * Stripe included); else the network.  Returns a static string.
 */
static const char *
net_fix(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
		return "fix: if the certificate comes from a private CA, add "
		    "that CA to the system store (copy it to "
		    "/usr/local/share/ca-certificates/NAME.crt, run "
		    "update-ca-certificates), or set ca_file to a bundle "
		    "holding the system CAs and the private one: ca_file "
		    "replaces the system store, for Blnk Cloud and Stripe too";
	default:
		return "fix: check DNS/firewall/proxy";
	}
}

/*
 * url as doctor prints it: scheme, host, port and path only, never a user,
 * password, query or fragment, whatever the URL carries.  Returns an
 * allocated string (free with curl_free()), or NULL.
 */
static char *
url_shown(const char *url)
{
	CURLU	*u;
	char	*s = NULL;

	if ((u = curl_url()) == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_QUERY, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
		s = NULL;
	curl_url_cleanup(u);
	return s;
}

/*
 * Is the outbound base URL of "key" reachable?  Any HTTP status says so.
 */
void
doctor_reach(struct doctor *d, const char *key, const char *url)
{
	struct hresp	 r;
	CURLcode	 rc;
	char		*shown;

	shown = url_shown(url);
	if ((rc = doctor_http(d, url, 0, &r)) == CURLE_OK)
		finding(d, SEV_OK, "%s %s reachable (HTTP %ld)", key,
		    shown != NULL ? shown : "(URL)", r.status);
	else
		finding(d, SEV_FAIL, "%s %s: %s; %s", key,
		    shown != NULL ? shown : "(URL)", curl_easy_strerror(rc),
		    net_fix(rc));
	curl_free(shown);
	hresp_free(&r);
}

/* --- doctor: the public site (--url) --- */

/*
 * A copy of s[0..len) with runs of blanks collapsed to one space and no
 * blank at either end.  Returns an allocated string the caller frees.
 */
static char *
ws_collapse(const char *s, size_t len)
{
	char	*o, *q;
	size_t	 i;
	int	 blank = 0;

	if ((o = malloc(len + 1)) == NULL)
		return NULL;
	for (q = o, i = 0; i < len; i++) {
		if (s[i] == ' ' || s[i] == '\t') {
			blank = q != o;
			continue;
		}
		if (blank)
			*q++ = ' ';
		blank = 0;
		*q++ = s[i];
	}
	*q = '\0';
	return o;
}

/*
 * The source list of the first frame-ancestors directive of the policy
 * csp (directives end at ';', policies at ','), whitespace collapsed.
 * Returns an allocated string the caller frees, NULL if there is none.
 */
static char *
csp_frame_ancestors(const char *csp)
{
	static const char	 fa[] = "frame-ancestors";
	const char		*p, *end;
	size_t			 len;

	for (p = csp; *p != '\0'; p = *end != '\0' ? end + 1 : end) {
		end = p + strcspn(p, ";,");
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		len = strcspn(p, " \t;,");
		if (len == sizeof(fa) - 1 && strncasecmp(p, fa, len) == 0)
			return ws_collapse(p + len, (size_t)(end - p - len));
	}
	return NULL;
}

/*
 * Check one security header on the portal's answer: it must be present
 * with the value "want" (any case).
 */
static void
doctor_header(struct doctor *d, const char *url, const struct hresp *r,
    const char *name, const char *want)
{
	char	*v, *e;

	if ((v = hresp_get(r, name, 0)) == NULL) {
		finding(d, SEV_FAIL, "portal %s: no %s header; fix: include "
		    "snippets/stripe-sync-security-headers.conf in the "
		    "location serving the portal", url, name);
		return;
	}
	if (strcasecmp(v, want) != 0) {
		e = disp(v);
		finding(d, SEV_FAIL, "portal %s: %s is \"%s\", not \"%s\"; fix: "
		    "include snippets/stripe-sync-security-headers.conf in "
		    "the location serving the portal", url, name,
		    e != NULL ? e : "?", want);
		free(e);
	} else
		finding(d, SEV_OK, "portal %s: %s: %s", url, name, want);
	free(v);
}

/*
 * GET the portal: a 2xx answer with a Content-Security-Policy whose
 * frame-ancestors is the configured one, and the two other security
 * headers.
 */
static void
doctor_portal(struct doctor *d, const char *url)
{
	const char	*cfa = d->c->cf.frame_ancestors;
	struct hresp	 r;
	CURLcode	 rc;
	struct buf	 csp;
	char		*v, *fa = NULL, *want = NULL, *e1, *e2;
	size_t		 i;

	if ((rc = doctor_http(d, url, 0, &r)) != CURLE_OK) {
		finding(d, SEV_FAIL, "portal %s: %s; %s", url,
		    curl_easy_strerror(rc), net_fix(rc));
		hresp_free(&r);
		return;
	}
	if (r.status < 200 || r.status > 299)
		finding(d, SEV_FAIL, "portal %s: HTTP %ld, want 2xx (redirects "
		    "are not followed); fix: serve portal-static at / as in "
		    "nginx/stripe-sync.conf, and give --url the final URL",
		    url, r.status);
	else
		finding(d, SEV_OK, "portal %s: HTTP %ld", url, r.status);

	/* Several CSP headers are all enforced: search them all. */
	memset(&csp, 0, sizeof(csp));
	for (i = 0; (v = hresp_get(&r, "Content-Security-Policy", i)) != NULL;
	    i++) {
		buf_printf(&csp, "%s%s", i > 0 ? "," : "", v);
		free(v);
	}
	if (csp.p != NULL && !csp.failed) {
		fa = csp_frame_ancestors(csp.p);
		want = ws_collapse(cfa, strlen(cfa));
	}
	if (csp.failed || (fa != NULL && want == NULL))
		finding(d, SEV_FAIL, "portal %s: out of memory", url);
	else if (csp.p == NULL)
		finding(d, SEV_FAIL, "portal %s: no Content-Security-Policy "
		    "header; fix: include "
		    "snippets/stripe-sync-portal-headers.conf in the location "
		    "serving the portal", url);
	else if (fa == NULL)
		finding(d, SEV_FAIL, "portal %s: Content-Security-Policy has "
		    "no frame-ancestors: any site may frame the portal; fix: "
		    "add \"frame-ancestors %s\" (see "
		    "snippets/stripe-sync-portal-headers.conf)", url, cfa);
	else if (strcasecmp(fa, want) != 0) {
		e1 = disp(fa);
		e2 = disp(want);
		finding(d, SEV_WARN, "portal %s: frame-ancestors is \"%s\" but "
		    "the configuration says \"%s\"; fix: make "
		    "snippets/stripe-sync-portal-headers.conf and "
		    "frame_ancestors agree", url, e1 != NULL ? e1 : "?",
		    e2 != NULL ? e2 : "?");
		free(e1);
		free(e2);
	} else
		finding(d, SEV_OK, "portal %s: Content-Security-Policy "
		    "frame-ancestors matches frame_ancestors", url);
	free(fa);
	free(want);
	buf_free(&csp);

	doctor_header(d, url, &r, "X-Content-Type-Options", "nosniff");
	doctor_header(d, url, &r, "Referrer-Policy", "no-referrer");
	hresp_free(&r);
}

/*
 * GET /api/health: 200 with the JSON {"status": "ok", ...}.
 */
static void
doctor_health(struct doctor *d, const char *url)
{
	struct json_object	*o = NULL, *st;
	struct hresp		 r;
	CURLcode		 rc;

	if ((rc = doctor_http(d, url, 0, &r)) != CURLE_OK)
		finding(d, SEV_FAIL, "health %s: %s; %s", url,
		    curl_easy_strerror(rc), net_fix(rc));
	else if (r.status != 200)
		finding(d, SEV_FAIL, "health %s: HTTP %ld, want 200; fix: check "
		    "that the workers run and reach the database (their log, "
		    "and %s doctor on the worker host)", url, r.status,
		    PROGNAME);
	else if (r.body == NULL ||
	    (o = json_tokener_parse(r.body)) == NULL ||
	    !json_object_object_get_ex(o, "status", &st) ||
	    !json_object_is_type(st, json_type_string) ||
	    strcmp(json_object_get_string(st), "ok") != 0)
		finding(d, SEV_FAIL, "health %s: HTTP 200 but not JSON with "
		    "status \"ok\"; fix: check that /api/ is passed to the "
		    "stripe-sync workers (nginx/stripe-sync.conf)", url);
	else
		finding(d, SEV_OK, "health %s: HTTP 200, status ok", url);
	json_object_put(o);
	hresp_free(&r);
}

/*
 * POST {} to a callback URL that does not carry the secret ("shown" is
 * how to print it): anything but 404 is a failure.
 */
static void
doctor_callback(struct doctor *d, const char *url, const char *shown)
{
	struct hresp	 r;
	CURLcode	 rc;

	if ((rc = doctor_http(d, url, 1, &r)) != CURLE_OK)
		finding(d, SEV_FAIL, "callback %s: %s; %s", shown,
		    curl_easy_strerror(rc), net_fix(rc));
	else if (r.status != 404)
		finding(d, SEV_FAIL, "callback %s: HTTP %ld, want 404: the "
		    "callback route answers without the secret; fix: pass "
		    "/api/callback/ to the stripe-sync workers unchanged and "
		    "nothing else (nginx/snippets/stripe-sync-site.conf)",
		    shown, r.status);
	else
		finding(d, SEV_OK, "callback %s: HTTP 404 (refused without "
		    "the secret)", shown);
	hresp_free(&r);
}

/*
 * The URL of the relative reference "rel" under base (whose path ends in
 * '/').  Returns an allocated string the caller must curl_free(), NULL
 * on failure.
 */
static char *
url_under(CURLU *base, const char *rel)
{
	CURLU	*u;
	char	*s = NULL;

	if ((u = curl_url_dup(base)) == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, rel, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
		s = NULL;
	curl_url_cleanup(u);
	return s;
}

/*
 * Parse the --url argument into a base for url_under(): https (http for
 * a loopback host, as conf requires of its URLs), no user, password,
 * query or fragment, the path made to end in '/'.  Returns the handle
 * (caller curl_url_cleanup()s) or NULL if the URL is not acceptable.
 */
CURLU *
doctor_base(const char *url)
{
	CURLU	*u;
	char	*scheme = NULL, *path = NULL, *p = NULL, *np = NULL;
	int	 ok = 0;

	if ((u = curl_url()) == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		goto out;
	if (strcasecmp(scheme, "https") != 0 &&
	    !(strcasecmp(scheme, "http") == 0 && conf_url_is_loopback(url)))
		goto out;
	if (curl_url_get(u, CURLUPART_USER, &p, 0) != CURLUE_NO_USER ||
	    curl_url_get(u, CURLUPART_PASSWORD, &p, 0) !=
	    CURLUE_NO_PASSWORD ||
	    curl_url_get(u, CURLUPART_QUERY, &p, 0) != CURLUE_NO_QUERY ||
	    curl_url_get(u, CURLUPART_FRAGMENT, &p, 0) != CURLUE_NO_FRAGMENT)
		goto out;
	if (path[0] == '\0' || path[strlen(path) - 1] != '/') {
		if ((np = str_printf("%s/", path)) == NULL ||
		    curl_url_set(u, CURLUPART_PATH, np, 0) != CURLUE_OK)
			goto out;
	}
	ok = 1;
out:
	curl_free(p);
	curl_free(scheme);
	curl_free(path);
	free(np);
	if (!ok) {
		curl_url_cleanup(u);
		u = NULL;
	}
	return u;
}

/*
 * The checks of the public site under base: the portal, health, and the
 * callback route with a random wrong secret and with none.
 */
void
doctor_site(struct doctor *d, CURLU *base)
{
	unsigned char	 raw[30];
	char		*root = NULL, *health = NULL, *cb = NULL, *cb0 = NULL;
	char		*rnd = NULL, *rel = NULL, *shown = NULL, *shown0 = NULL;

	/* 30 random bytes: 40 url-safe characters, never the secret. */
	do {
		free(rnd);
		rnd = NULL;
		if (!crypto_random(raw, sizeof(raw)) ||
		    (rnd = b64url_encode(raw, sizeof(raw))) == NULL)
			break;
	} while (strcmp(rnd, d->c->cf.callback_secret) == 0);

	if (rnd == NULL ||
	    (rel = str_printf("api/callback/%s", rnd)) == NULL ||
	    curl_url_get(base, CURLUPART_URL, &root, 0) != CURLUE_OK ||
	    (health = url_under(base, "api/health")) == NULL ||
	    (cb = url_under(base, rel)) == NULL ||
	    (cb0 = url_under(base, "api/callback/")) == NULL ||
	    (shown = str_printf("%sapi/callback/<random>", root)) == NULL ||
	    (shown0 = str_printf("%sapi/callback/", root)) == NULL) {
		finding(d, SEV_FAIL, "--url: cannot build the URLs to check "
		    "(out of memory)");
		goto out;
	}
	doctor_portal(d, root);
	doctor_health(d, health);
	doctor_callback(d, cb, shown);
	doctor_callback(d, cb0, shown0);
out:
	free(rnd);
	free(rel);
	free(shown);
	free(shown0);
	curl_free(root);
	curl_free(health);
	curl_free(cb);
	curl_free(cb0);
}
