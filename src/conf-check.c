/*
 * conf-check.c: validate the configuration conf.c has read into a struct
 * conf: each key's checks and defaults, the master keys (base64, distinct,
 * distinct ids), the strength of the secrets, the URLs (https, or http for
 * a loopback host), session_ttl, frame_ancestors, ca_file and log_level.
 * See conf-int.h.
 *
 * As in conf.c, every error message names a key and never prints a value,
 * and every buffer that held a secret is wiped.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "conf.h"
#include "conf-int.h"
#include "util.h"
#include "crypto.h"

#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR	"/var"
#endif

#define CONF_SECRET_MAX	1024	/* longest session_secret */
#define CONF_CBSECRET_MAX 128	/* longest callback_secret */

#define DEFAULT_DB_PATH	LOCALSTATEDIR "/lib/stripe-sync/stripe-sync.db"
#define DEFAULT_CLOUD	"https://api.cloud.blnkfinance.com"
#define DEFAULT_STRIPE	"https://api.stripe.com"
#define DEFAULT_TTL	900
#define DEFAULT_CONNECT_TIMEOUT	3	/* seconds */
#define DEFAULT_CLOUD_TIMEOUT	10	/* seconds, all attempts of a call */
#define TIMEOUT_MAX	60
#define DEFAULT_FRAME	"'self' https://blnkfinance.com https://*.blnkfinance.com"
#define TTL_MIN		300
#define TTL_MAX		900
#define TOKEN_INFO	"stripe-sync launch token v1"

/* The numeric keys: default, range, and where they go. */
static const struct numkey {
	enum ckey	 key;
	long		 def, min, max;
	const char	*unit;
	size_t		 off;
} numkeys[] = {
	{ K_CLOUD_CONNECT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, 1, TIMEOUT_MAX,
	  "seconds", offsetof(struct conf, cloud_connect_timeout) },
	{ K_CLOUD_TIMEOUT, DEFAULT_CLOUD_TIMEOUT, 1, TIMEOUT_MAX,
	  "seconds", offsetof(struct conf, cloud_timeout) },
	{ K_STRIPE_CONNECT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, 1, TIMEOUT_MAX,
	  "seconds", offsetof(struct conf, stripe_connect_timeout) },
	{ K_STRIPE_TIMEOUT, DEFAULT_CLOUD_TIMEOUT, 1, TIMEOUT_MAX,
	  "seconds", offsetof(struct conf, stripe_timeout) },
	/* Stripe allows 100 calls a second in live mode, 25 in test. */
	{ K_STRIPE_RATE, 0, 0, 100, "calls a second",
	  offsetof(struct conf, stripe_rate) },
	{ K_SYNC_PATIENCE, 300, 1, 86400, "seconds",
	  offsetof(struct conf, sync_patience) },
	{ K_SYNC_CONFIRM_TIMEOUT, 600, 1, 86400, "seconds",
	  offsetof(struct conf, sync_confirm_timeout) },
	/* Longer than any one call (timeouts are at most 60 s). */
	{ K_SYNC_LEASE, 90, 2, 3600, "seconds",
	  offsetof(struct conf, sync_lease) },
	/* Stripe sends a burst of events for one payment: one run for the
	 * burst, but never a busy account's events postponing it for ever. */
	{ K_WEBHOOK_DEBOUNCE, 5, 0, 300, "seconds",
	  offsetof(struct conf, webhook_debounce) },
	{ K_WEBHOOK_MAX_WAIT, 60, 0, 3600, "seconds",
	  offsetof(struct conf, webhook_max_wait) },
};

static const char *const log_levels[LOG_LEVEL__MAX] = {
	"error",	/* LOG_LEVEL_ERROR */
	"warn",		/* LOG_LEVEL_WARN */
	"info",		/* LOG_LEVEL_INFO */
	"debug",	/* LOG_LEVEL_DEBUG */
};

/*
 * Decode one base64 master key into key.  Returns 1 if s is base64 of
 * exactly CONF_KEYLEN bytes that are not all the same byte (a placeholder
 * such as all zeroes), else 0.  The decoded buffer is wiped.
 */
static int
decode_key(const char *s, unsigned char key[CONF_KEYLEN])
{
	unsigned char	*out = NULL;
	size_t		 outlen = 0, i;
	int		 rc = 0;

	if (!b64_decode(s, &out, &outlen) || out == NULL ||
	    outlen != CONF_KEYLEN)
		goto out;
	for (i = 1; i < CONF_KEYLEN; i++)
		if (out[i] != out[0])
			break;
	if (i == CONF_KEYLEN)
		goto out;
	memcpy(key, out, CONF_KEYLEN);
	rc = 1;
out:
	if (out != NULL) {
		crypto_wipe(out, outlen);
		free(out);
	}
	return rc;
}

/* A secret with fewer distinct bytes than this is a placeholder. */
#define SECRET_MIN_DISTINCT	8

/*
 * Does s use at least SECRET_MIN_DISTINCT different bytes?  32 random
 * url-safe characters almost always use more than 20; "aaaa..." or a
 * repeated word does not.
 */
static int
varied(const char *s)
{
	unsigned char	 seen[256];
	size_t		 n = 0;

	memset(seen, 0, sizeof(seen));
	for (; *s != '\0'; s++)
		if (!seen[(unsigned char)*s]++)
			n++;
	return n >= SECRET_MIN_DISTINCT;
}

/*
 * Parse old_master_keys (comma separated, blanks around each allowed)
 * into cf->keys[1..].  keys[0] must already hold master_key.  Returns 1
 * on success, 0 with err set.
 */
static int
parse_old_keys(struct conf *cf, const char *val, char *err, size_t errsz)
{
	char	*copy, *p, *tok, *end;
	size_t	 n = 0, i, len = strlen(val);
	int	 rc = 0;

	/* Blank means none: the units load old_master_keys_file as a
	 * credential, which must exist, and between rotations it is empty
	 * (conf.c lets that one file be empty). */
	for (i = 0; i < len && conf_is_blank(val[i]); i++)
		continue;
	if (i == len)
		return 1;
	if ((copy = strdup(val)) == NULL) {
		util_errf(err, errsz, "old_master_keys: out of memory");
		return 0;
	}
	for (p = copy; p != NULL; ) {
		tok = strsep(&p, ",");
		while (conf_is_blank(*tok))
			tok++;
		end = tok + strlen(tok);
		while (end > tok && conf_is_blank(end[-1]))
			*--end = '\0';
		n++;
		if (*tok == '\0') {
			util_errf(err, errsz, "old_master_keys: entry %zu is "
			    "empty", n);
			goto out;
		}
		if (cf->nkeys >= CONF_MAXKEYS) {
			util_errf(err, errsz, "old_master_keys: at most %d "
			    "keys", CONF_MAXKEYS - 1);
			goto out;
		}
		if (!decode_key(tok, cf->keys[cf->nkeys].key)) {
			util_errf(err, errsz, "old_master_keys: entry %zu must "
			    "be base64 of exactly %d random bytes", n,
			    CONF_KEYLEN);
			goto out;
		}
		for (i = 0; i < cf->nkeys; i++) {
			if (!crypto_equal(cf->keys[i].key, CONF_KEYLEN,
			    cf->keys[cf->nkeys].key, CONF_KEYLEN))
				continue;
			if (i == 0)
				util_errf(err, errsz, "old_master_keys: entry "
				    "%zu repeats master_key", n);
			else
				util_errf(err, errsz, "old_master_keys: entry "
				    "%zu repeats entry %zu", n, i);
			goto out;
		}
		cf->nkeys++;
	}
	rc = 1;
out:
	/* strsep() left NULs between the keys: wipe the whole copy, not
	 * just up to the first of them. */
	crypto_wipe(copy, len);
	free(copy);
	return rc;
}

/*
 * Check a URL for key "key": it must parse with curl_url(), be https (or
 * http for a loopback host), carry no user or password (a credential in a
 * URL ends up in logs, doctor's output and error messages: the keys have
 * their own sealed home) and, if "portal", no query and no fragment
 * because we append "?token=".  Returns 1 if good, 0 with err, which
 * never repeats the URL.
 */
static int
check_url(const char *key, const char *url, int portal,
    char *err, size_t errsz)
{
	CURLU	*h;
	char	*scheme = NULL, *part = NULL;
	int	 rc = 0;

	if ((h = curl_url()) == NULL) {
		util_errf(err, errsz, "%s: out of memory", key);
		return 0;
	}
	if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_HOST, &part, 0) != CURLUE_OK) {
		util_errf(err, errsz, "%s: not a valid URL", key);
		goto out;
	}
	curl_free(part);
	part = NULL;
	if (curl_url_get(h, CURLUPART_USER, &part, 0) != CURLUE_NO_USER ||
	    curl_url_get(h, CURLUPART_PASSWORD, &part, 0) !=
	    CURLUE_NO_PASSWORD) {
		util_errf(err, errsz, "%s: must not carry a user name or "
		    "password (user:password@host)", key);
		goto out;
	}
	if (strcasecmp(scheme, "https") != 0 &&
	    !(strcasecmp(scheme, "http") == 0 &&
	      conf_url_is_loopback(url))) {
		util_errf(err, errsz, "%s: must be https (http only for "
		    "loopback hosts)", key);
		goto out;
	}
	if (portal && (strpbrk(url, "?#") != NULL ||
	    curl_url_get(h, CURLUPART_QUERY, &part, 0) != CURLUE_NO_QUERY ||
	    curl_url_get(h, CURLUPART_FRAGMENT, &part, 0) !=
	    CURLUE_NO_FRAGMENT)) {
		util_errf(err, errsz, "%s: must not have a query or fragment",
		    key);
		goto out;
	}
	rc = 1;
out:
	curl_free(part);
	curl_free(scheme);
	curl_url_cleanup(h);
	return rc;
}

/*
 * Returns 1 if url parses and its host is "localhost", an address in
 * 127.0.0.0/8, or ::1; else 0.
 */
int
conf_url_is_loopback(const char *url)
{
	CURLU		*h;
	char		*host = NULL, addr[INET6_ADDRSTRLEN + 1];
	struct in_addr	 a4;
	struct in6_addr	 a6;
	size_t		 len;
	int		 rc = 0;

	if (url == NULL || (h = curl_url()) == NULL)
		return 0;
	if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	len = strlen(host);
	if (strcasecmp(host, "localhost") == 0)
		rc = 1;
	else if (inet_pton(AF_INET, host, &a4) == 1)
		rc = (ntohl(a4.s_addr) >> 24) == 127;
	else if (len > 2 && len - 2 < sizeof(addr) && host[0] == '[' &&
	    host[len - 1] == ']') {
		memcpy(addr, host + 1, len - 2);
		addr[len - 2] = '\0';
		rc = inet_pton(AF_INET6, addr, &a6) == 1 &&
		    IN6_IS_ADDR_LOOPBACK(&a6);
	}
out:
	curl_free(host);
	curl_url_cleanup(h);
	return rc;
}

/* Returns 1 if s is printable ASCII with no ';' or ',' (CSP-safe). */
static int
csp_safe(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f ||
		    *s == ';' || *s == ',')
			return 0;
	return 1;
}

/* Returns 1 if s is 32..128 characters of [A-Za-z0-9_-]. */
static int
callback_secret_ok(const char *s)
{
	size_t	 len = strlen(s);

	if (len < CONF_SECRET_MIN || len > CONF_CBSECRET_MAX)
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_-") == len;
}

/* Strict decimal session_ttl into *ttl.  Returns 1 if in range. */
static int
parse_range(const char *s, long min, long max, long *out)
{
	char	*end;
	long	 v;

	if (*s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return 0;
	*out = v;
	return 1;
}

/* Returns 1 if path can be opened for reading and is a regular file. */
static int
readable_file(const char *key, const char *path, char *err, size_t errsz)
{
	struct stat	 st;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		util_errf(err, errsz, "%s: cannot open: %s", key,
		    strerror(errno));
		return 0;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		util_errf(err, errsz, "%s: not a regular file", key);
		close(fd);
		return 0;
	}
	close(fd);
	return 1;
}

/*
 * Move r->val[k] into *dst, or a copy of def if unset (def NULL: leave
 * *dst NULL).  Returns 0 only when out of memory (err set).
 */
static int
take(struct raw *r, enum ckey k, const char *def, char **dst,
    char *err, size_t errsz)
{
	if (r->val[k] != NULL) {
		*dst = r->val[k];
		r->val[k] = NULL;
		return 1;
	}
	if (def == NULL)
		return 1;
	if ((*dst = strdup(def)) == NULL) {
		util_errf(err, errsz, "%s: out of memory", conf_keys[k]);
		return 0;
	}
	return 1;
}

/*
 * Validate the merged values in r into cf.  Returns 1 on success, 0 with
 * err set (cf then holds partial results for the caller to free).
 */
int
conf_validate(struct conf *cf, struct raw *r, char *err, size_t errsz)
{
	static const enum ckey required[] = {
		K_MASTER_KEY, K_SESSION_SECRET, K_CALLBACK_SECRET,
		K_PORTAL_URL
	};
	const struct numkey	*nk;
	size_t			 i, j;
	long			*v;
	int			 lvl;

	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (r->val[required[i]] == NULL) {
			util_errf(err, errsz, "%s: missing (required)",
			    conf_keys[required[i]]);
			return 0;
		}

	if (!take(r, K_DB_PATH, DEFAULT_DB_PATH, &cf->db_path, err, errsz))
		return 0;

	if (!decode_key(r->val[K_MASTER_KEY], cf->keys[0].key)) {
		util_errf(err, errsz, "master_key: must be base64 of exactly "
		    "%d random bytes", CONF_KEYLEN);
		return 0;
	}
	cf->nkeys = 1;
	if (r->val[K_OLD_MASTER_KEYS] != NULL &&
	    !parse_old_keys(cf, r->val[K_OLD_MASTER_KEYS], err, errsz))
		return 0;
	for (i = 0; i < cf->nkeys; i++)
		crypto_key_id(cf->keys[i].key, cf->keys[i].id);
	/* Ids name keys in stored rows, so they must not collide. */
	for (i = 1; i < cf->nkeys; i++)
		for (j = 0; j < i; j++)
			if (strcmp(cf->keys[j].id, cf->keys[i].id) == 0) {
				util_errf(err, errsz, "old_master_keys: entry "
				    "%zu has the same key id as another key",
				    i);
				return 0;
			}

	cf->session_secret_len = strlen(r->val[K_SESSION_SECRET]);
	if (cf->session_secret_len < CONF_SECRET_MIN) {
		util_errf(err, errsz, "session_secret: too short (at least %d "
		    "bytes)", CONF_SECRET_MIN);
		return 0;
	}
	if (cf->session_secret_len > CONF_SECRET_MAX) {
		util_errf(err, errsz, "session_secret: too long (at most %d "
		    "bytes)", CONF_SECRET_MAX);
		return 0;
	}
	if (!varied(r->val[K_SESSION_SECRET])) {
		util_errf(err, errsz, "session_secret: looks like a "
		    "placeholder (fewer than %d different characters): use "
		    "random bytes", SECRET_MIN_DISTINCT);
		return 0;
	}
	take(r, K_SESSION_SECRET, NULL, &cf->session_secret, err, errsz);
	if (!crypto_hkdf(cf->session_secret, cf->session_secret_len,
	    TOKEN_INFO, cf->token_key)) {
		util_errf(err, errsz, "session_secret: cannot derive the "
		    "token key");
		return 0;
	}

	if (!callback_secret_ok(r->val[K_CALLBACK_SECRET])) {
		util_errf(err, errsz, "callback_secret: must be %d to %d "
		    "characters from A-Z a-z 0-9 _ -", CONF_SECRET_MIN,
		    CONF_CBSECRET_MAX);
		return 0;
	}
	if (!varied(r->val[K_CALLBACK_SECRET])) {
		util_errf(err, errsz, "callback_secret: looks like a "
		    "placeholder (fewer than %d different characters): use "
		    "random characters", SECRET_MIN_DISTINCT);
		return 0;
	}
	take(r, K_CALLBACK_SECRET, NULL, &cf->callback_secret, err, errsz);

	if (!take(r, K_CLOUD_API_URL, DEFAULT_CLOUD, &cf->cloud_api_url,
	    err, errsz) ||
	    !check_url("cloud_api_url", cf->cloud_api_url, 0, err, errsz))
		return 0;
	if (!take(r, K_STRIPE_API_URL, DEFAULT_STRIPE, &cf->stripe_api_url,
	    err, errsz) ||
	    !check_url("stripe_api_url", cf->stripe_api_url, 0, err, errsz))
		return 0;
	take(r, K_PORTAL_URL, NULL, &cf->portal_url, err, errsz);
	if (!check_url("portal_url", cf->portal_url, 1, err, errsz))
		return 0;

	cf->session_ttl = DEFAULT_TTL;
	if (r->val[K_SESSION_TTL] != NULL &&
	    !parse_range(r->val[K_SESSION_TTL], TTL_MIN, TTL_MAX,
	    &cf->session_ttl)) {
		util_errf(err, errsz, "session_ttl: must be an integer from %d "
		    "to %d", TTL_MIN, TTL_MAX);
		return 0;
	}

	/* Calls to Cloud and Stripe happen inside a portal request, which
	 * nginx gives up on after fastcgi_read_timeout (15 s in the shipped
	 * site): the whole call, retries included, must end well before. */
	for (i = 0; i < sizeof(numkeys) / sizeof(numkeys[0]); i++) {
		nk = &numkeys[i];
		v = (long *)((char *)cf + nk->off);
		*v = nk->def;
		if (r->val[nk->key] != NULL &&
		    !parse_range(r->val[nk->key], nk->min, nk->max, v)) {
			util_errf(err, errsz, "%s: must be a whole number of "
			    "%s from %ld to %ld", conf_keys[nk->key], nk->unit,
			    nk->min, nk->max);
			return 0;
		}
	}
	if (cf->cloud_connect_timeout > cf->cloud_timeout) {
		util_errf(err, errsz, "cloud_connect_timeout: must not be "
		    "longer than cloud_timeout");
		return 0;
	}
	if (cf->stripe_connect_timeout > cf->stripe_timeout) {
		util_errf(err, errsz, "stripe_connect_timeout: must not be "
		    "longer than stripe_timeout");
		return 0;
	}

	if (!take(r, K_FRAME_ANCESTORS, DEFAULT_FRAME, &cf->frame_ancestors,
	    err, errsz))
		return 0;
	if (!csp_safe(cf->frame_ancestors)) {
		util_errf(err, errsz, "frame_ancestors: must be printable ASCII "
		    "without ';' or ','");
		return 0;
	}

	take(r, K_CA_FILE, NULL, &cf->ca_file, err, errsz);
	if (cf->ca_file != NULL &&
	    !readable_file("ca_file", cf->ca_file, err, errsz))
		return 0;

	cf->log_level = LOG_LEVEL_INFO;
	if (r->val[K_LOG_LEVEL] != NULL) {
		for (lvl = 0; lvl < LOG_LEVEL__MAX; lvl++)
			if (strcmp(r->val[K_LOG_LEVEL], log_levels[lvl]) == 0)
				break;
		if (lvl == LOG_LEVEL__MAX) {
			util_errf(err, errsz, "log_level: must be one of error, "
			    "warn, info, debug");
			return 0;
		}
		cf->log_level = (enum log_level)lvl;
	}
	take(r, K_LOG_FILE, NULL, &cf->log_file, err, errsz);

	cf->allow_root = 0;
	if (r->val[K_ALLOW_ROOT] != NULL) {
		if (strcmp(r->val[K_ALLOW_ROOT], "yes") == 0)
			cf->allow_root = 1;
		else if (strcmp(r->val[K_ALLOW_ROOT], "no") != 0) {
			util_errf(err, errsz, "allow_root: must be yes or no");
			return 0;
		}
	}

	/* Unset means on, with what this build and kernel offer (sandbox.c
	 * logs what that is); on or log asked for by name in a build without
	 * the seccomp allow-list is refused rather than quietly weakened. */
	cf->sandbox = CONF_SANDBOX_ON;
	if (r->val[K_SANDBOX] != NULL) {
		if (strcmp(r->val[K_SANDBOX], "on") == 0)
			cf->sandbox = CONF_SANDBOX_ON;
		else if (strcmp(r->val[K_SANDBOX], "log") == 0)
			cf->sandbox = CONF_SANDBOX_LOG;
		else if (strcmp(r->val[K_SANDBOX], "off") == 0)
			cf->sandbox = CONF_SANDBOX_OFF;
		else {
			util_errf(err, errsz, "sandbox: must be on, log or off");
			return 0;
		}
#ifndef HAVE_SECCOMP
		if (cf->sandbox != CONF_SANDBOX_OFF) {
			util_errf(err, errsz, "sandbox: this build has no "
			    "seccomp allow-list (configure found no libseccomp, "
			    "Debian package libseccomp-dev): rebuild with it, or "
			    "set sandbox = off");
			return 0;
		}
#endif
	}
	return 1;
}
