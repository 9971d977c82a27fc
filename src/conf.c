/*
 * conf.c: read stripe-sync.conf, overlay the STRIPE_SYNC_* environment,
 * read the <key>_file forms of the secrets, and validate the result into a
 * struct conf.  Every error message names a key (or a variable, or the
 * file and line) and never prints a value, because most values here are
 * secrets.  Every buffer that may have held a secret is wiped before it is
 * freed.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "conf.h"
#include "util.h"
#include "crypto.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR	"/var"
#endif

extern char **environ;

#define CONF_FILEMAX	65536	/* largest configuration file read */
#define CONF_LINEMAX	4096	/* longest line, newline excluded */
#define CONF_SECRETFILEMAX 4096	/* largest <secret>_file */
#define CONF_SECRET_MAX	1024	/* longest session_secret */
#define CONF_CBSECRET_MAX 128	/* longest callback_secret */
#define CONF_SHOWKEYMAX	32	/* longest unknown key echoed back */
#define CONF_ENVPREFIX	"STRIPE_SYNC_"

#define DEFAULT_DB_PATH	LOCALSTATEDIR "/lib/stripe-sync/stripe-sync.db"
#define DEFAULT_CONF	SYSCONFDIR "/stripe-sync.conf"
#define DEFAULT_CLOUD	"https://api.cloud.blnkfinance.com"
#define DEFAULT_STRIPE	"https://api.stripe.com"
#define DEFAULT_TTL	900
#define DEFAULT_FRAME	"'self' https://blnkfinance.com https://*.blnkfinance.com"
#define TTL_MIN		300
#define TTL_MAX		900
#define TOKEN_INFO	"stripe-sync launch token v1"

/* Indexes into conf_keys[]; keep both in the same order. */
enum ckey {
	K_DB_PATH,
	K_MASTER_KEY,
	K_MASTER_KEY_FILE,
	K_OLD_MASTER_KEYS,
	K_OLD_MASTER_KEYS_FILE,
	K_SESSION_SECRET,
	K_SESSION_SECRET_FILE,
	K_CALLBACK_SECRET,
	K_CALLBACK_SECRET_FILE,
	K_CLOUD_API_URL,
	K_STRIPE_API_URL,
	K_PORTAL_URL,
	K_SESSION_TTL,
	K_FRAME_ANCESTORS,
	K_CA_FILE,
	K_LOG_LEVEL,
	K_LOG_FILE,
	K__MAX
};

const char *const conf_keys[K__MAX + 1] = {
	"db_path",
	"master_key",
	"master_key_file",
	"old_master_keys",
	"old_master_keys_file",
	"session_secret",
	"session_secret_file",
	"callback_secret",
	"callback_secret_file",
	"cloud_api_url",
	"stripe_api_url",
	"portal_url",
	"session_ttl",
	"frame_ancestors",
	"ca_file",
	"log_level",
	"log_file",
	NULL
};

/* The secrets, each with its <key>_file form. */
static const struct {
	enum ckey	 val;
	enum ckey	 file;
} secrets[] = {
	{ K_MASTER_KEY, K_MASTER_KEY_FILE },
	{ K_OLD_MASTER_KEYS, K_OLD_MASTER_KEYS_FILE },
	{ K_SESSION_SECRET, K_SESSION_SECRET_FILE },
	{ K_CALLBACK_SECRET, K_CALLBACK_SECRET_FILE },
};
#define NSECRETS	(sizeof(secrets) / sizeof(secrets[0]))

static const char *const log_levels[LOG_LEVEL__MAX] = {
	"error",	/* LOG_LEVEL_ERROR */
	"warn",		/* LOG_LEVEL_WARN */
	"info",		/* LOG_LEVEL_INFO */
	"debug",	/* LOG_LEVEL_DEBUG */
};

/*
 * Unvalidated values from one source (the file or the environment), all
 * owned and wiped on release.  line[] is the file line (0: not set).
 */
struct raw {
	char	*val[K__MAX];
	size_t	 line[K__MAX];
};

/* Wipe and free a NUL terminated string (NULL is fine). */
static void
wipe_str(char *s)
{
	if (s == NULL)
		return;
	crypto_wipe(s, strlen(s));
	free(s);
}

/* Release every value of a raw set and forget them. */
static void
raw_free(struct raw *r)
{
	size_t	 i;

	for (i = 0; i < K__MAX; i++) {
		wipe_str(r->val[i]);
		r->val[i] = NULL;
		r->line[i] = 0;
	}
}

/*
 * Escape up to len bytes of s for an error message into dst (size dstsz,
 * at least 8): printable ASCII other than '\\' and '\'' passes, everything
 * else becomes \xHH.  Returns dst.
 */
static char *
escape(char *dst, size_t dstsz, const char *s, size_t len)
{
	size_t		 i, j = 0;
	unsigned char	 c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (j + 5 >= dstsz)
			break;
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'')
			dst[j++] = (char)c;
		else
			j += (size_t)snprintf(dst + j, dstsz - j, "\\x%02x", c);
	}
	dst[j] = '\0';
	return dst;
}

/* Returns the index of key[0..len) in conf_keys[], or -1. */
static int
key_lookup(const char *key, size_t len)
{
	size_t	 i;

	for (i = 0; i < K__MAX; i++)
		if (strlen(conf_keys[i]) == len &&
		    memcmp(conf_keys[i], key, len) == 0)
			return (int)i;
	return -1;
}

/* Is c blank for the purpose of trimming keys and values? */
static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * Parse one line (len bytes, no newline, no NUL) numbered lineno into r.
 * Returns 1 on success (including comments and blank lines), 0 with err
 * set on failure.
 */
static int
parse_line(struct raw *r, const char *path, size_t lineno,
    const char *line, size_t len, char *err, size_t errsz)
{
	const char	*eq, *k, *v;
	size_t		 klen, vlen;
	int		 idx;
	char		 buf[CONF_SHOWKEYMAX * 4 + 1];

	while (len > 0 && is_blank(*line)) {
		line++;
		len--;
	}
	while (len > 0 && is_blank(line[len - 1]))
		len--;
	if (len == 0 || line[0] == '#')
		return 1;

	if ((eq = memchr(line, '=', len)) == NULL) {
		util_errf(err, errsz, "%s:%zu: expected \"key = value\"",
		    path, lineno);
		return 0;
	}
	k = line;
	klen = (size_t)(eq - line);
	while (klen > 0 && is_blank(k[klen - 1]))
		klen--;
	v = eq + 1;
	vlen = len - (size_t)(v - line);
	while (vlen > 0 && is_blank(*v)) {
		v++;
		vlen--;
	}

	if (klen == 0) {
		util_errf(err, errsz, "%s:%zu: missing key before '='",
		    path, lineno);
		return 0;
	}
	if ((idx = key_lookup(k, klen)) < 0) {
		/*
		 * A long "key" is more likely a pasted secret (base64
		 * ends in '=') than a typo of one of our short names:
		 * do not echo it.
		 */
		if (klen > CONF_SHOWKEYMAX)
			util_errf(err, errsz, "%s:%zu: unknown key "
			    "(too long to be one)", path, lineno);
		else
			util_errf(err, errsz, "%s:%zu: unknown key '%s'",
			    path, lineno, escape(buf, sizeof(buf), k, klen));
		return 0;
	}
	if (r->val[idx] != NULL) {
		util_errf(err, errsz, "%s:%zu: duplicate key '%s' "
		    "(first given on line %zu)", path, lineno,
		    conf_keys[idx], r->line[idx]);
		return 0;
	}
	if (vlen == 0) {
		util_errf(err, errsz, "%s:%zu: %s: empty value",
		    path, lineno, conf_keys[idx]);
		return 0;
	}
	if ((r->val[idx] = strndup(v, vlen)) == NULL) {
		util_errf(err, errsz, "%s:%zu: %s: out of memory",
		    path, lineno, conf_keys[idx]);
		return 0;
	}
	r->line[idx] = lineno;
	return 1;
}

/*
 * Read the configuration file into r.  Returns 1 on success with *found
 * set to whether the file existed, 0 with err set on failure.  The file
 * is read with read(2) into one buffer that is wiped afterwards, so no
 * stdio buffer keeps a copy of the secrets in it.
 */
static int
read_conf_file(struct raw *r, const char *path, int must_exist,
    int *found, char *err, size_t errsz)
{
	int		 fd, rc = 0;
	char		*buf = NULL, *p, *nl, *end;
	size_t		 len = 0, lineno = 0, linelen;
	ssize_t		 n;
	size_t		 i, j;

	*found = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && !must_exist)
			return 1;
		util_errf(err, errsz, "%s: %s", path, strerror(errno));
		return 0;
	}
	*found = 1;
	if ((buf = malloc(CONF_FILEMAX + 1)) == NULL) {
		util_errf(err, errsz, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		n = read(fd, buf + len, CONF_FILEMAX + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			util_errf(err, errsz, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > CONF_FILEMAX) {
			util_errf(err, errsz, "%s: larger than %d bytes",
			    path, CONF_FILEMAX);
			goto out;
		}
	}

	end = buf + len;
	for (p = buf; p < end; p = nl + 1) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		linelen = (size_t)(nl - p);
		if (linelen > CONF_LINEMAX) {
			util_errf(err, errsz, "%s:%zu: line longer than %d "
			    "bytes", path, lineno, CONF_LINEMAX);
			goto out;
		}
		if (memchr(p, '\0', linelen) != NULL) {
			util_errf(err, errsz, "%s:%zu: NUL byte in line",
			    path, lineno);
			goto out;
		}
		if (!parse_line(r, path, lineno, p, linelen, err, errsz))
			goto out;
	}

	for (i = 0; i < NSECRETS; i++) {
		j = secrets[i].val;
		if (r->val[j] != NULL && r->val[secrets[i].file] != NULL) {
			util_errf(err, errsz, "%s:%zu: %s and %s: both given "
			    "(use one)", path, r->line[secrets[i].file],
			    conf_keys[j], conf_keys[secrets[i].file]);
			goto out;
		}
	}
	rc = 1;
out:
	if (buf != NULL) {
		crypto_wipe(buf, CONF_FILEMAX + 1);
		free(buf);
	}
	close(fd);
	return rc;
}

/*
 * Write the environment variable name of key idx into buf (which must
 * hold the prefix plus the longest key).  Returns buf.
 */
static char *
env_name(char *buf, size_t bufsz, int idx)
{
	size_t	 i, plen = strlen(CONF_ENVPREFIX);
	const char *k = conf_keys[idx];

	snprintf(buf, bufsz, "%s", CONF_ENVPREFIX);
	for (i = 0; k[i] != '\0' && plen + i + 1 < bufsz; i++)
		buf[plen + i] = (k[i] >= 'a' && k[i] <= 'z') ?
		    (char)(k[i] - 'a' + 'A') : k[i];
	buf[plen + i] = '\0';
	return buf;
}

/*
 * Collect every STRIPE_SYNC_* variable into env.  Returns 1 on success,
 * 0 with err set for an unknown or empty variable or a secret given in
 * both forms.
 */
static int
read_env(struct raw *env, char *err, size_t errsz)
{
	char		**ep, name[64], a[64], b[64], show[96];
	const char	*e, *eq;
	size_t		 plen = strlen(CONF_ENVPREFIX), nlen, i;
	int		 idx;

	for (ep = environ; ep != NULL && *ep != NULL; ep++) {
		e = *ep;
		if (strncmp(e, CONF_ENVPREFIX, plen) != 0)
			continue;
		if ((eq = strchr(e, '=')) == NULL)
			continue;
		nlen = (size_t)(eq - e);
		if (nlen == strlen("STRIPE_SYNC_CONF") &&
		    strncmp(e, "STRIPE_SYNC_CONF", nlen) == 0)
			continue;
		for (idx = 0; idx < K__MAX; idx++) {
			env_name(name, sizeof(name), idx);
			if (strlen(name) == nlen &&
			    strncmp(name, e, nlen) == 0)
				break;
		}
		if (idx == K__MAX) {
			util_errf(err, errsz, "%s: unknown configuration "
			    "variable", escape(show, sizeof(show), e,
			    nlen < 64 ? nlen : 64));
			return 0;
		}
		if (env->val[idx] != NULL)
			continue;	/* as getenv(3): the first wins */
		if (eq[1] == '\0') {
			util_errf(err, errsz, "%s: empty value", name);
			return 0;
		}
		if ((env->val[idx] = strdup(eq + 1)) == NULL) {
			util_errf(err, errsz, "%s: out of memory", name);
			return 0;
		}
	}

	for (i = 0; i < NSECRETS; i++)
		if (env->val[secrets[i].val] != NULL &&
		    env->val[secrets[i].file] != NULL) {
			util_errf(err, errsz, "%s and %s: both set (use one)",
			    env_name(a, sizeof(a), secrets[i].val),
			    env_name(b, sizeof(b), secrets[i].file));
			return 0;
		}
	return 1;
}

/*
 * Overlay env on r: every key set in env replaces the file's, and either
 * form of a secret in env replaces both forms from the file.  Takes
 * ownership of env's values (env is left empty).
 */
static void
merge_env(struct raw *r, struct raw *env)
{
	size_t	 i;

	for (i = 0; i < NSECRETS; i++) {
		if (env->val[secrets[i].val] == NULL &&
		    env->val[secrets[i].file] == NULL)
			continue;
		wipe_str(r->val[secrets[i].val]);
		wipe_str(r->val[secrets[i].file]);
		r->val[secrets[i].val] = r->val[secrets[i].file] = NULL;
		r->line[secrets[i].val] = r->line[secrets[i].file] = 0;
	}
	for (i = 0; i < K__MAX; i++) {
		if (env->val[i] == NULL)
			continue;
		wipe_str(r->val[i]);
		r->val[i] = env->val[i];
		r->line[i] = 0;
		env->val[i] = NULL;
	}
}

/*
 * Read the secret file named by the value of key "fkey" into *out
 * (allocated, NUL terminated; the caller wipes and frees it).  At most
 * CONF_SECRETFILEMAX bytes, no NUL bytes, one trailing "\n" or "\r\n"
 * stripped, not empty.  Returns 1 on success, 0 with err set.
 */
static int
read_secret_file(const char *fkey, const char *path, char **out,
    char *err, size_t errsz)
{
	char		 buf[CONF_SECRETFILEMAX + 1];
	size_t		 len = 0;
	ssize_t		 n;
	int		 fd, rc = 0;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		util_errf(err, errsz, "%s: cannot open: %s", fkey,
		    strerror(errno));
		return 0;
	}
	for (;;) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			util_errf(err, errsz, "%s: cannot read: %s", fkey,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > CONF_SECRETFILEMAX) {
			util_errf(err, errsz, "%s: larger than %d bytes", fkey,
			    CONF_SECRETFILEMAX);
			goto out;
		}
	}
	if (memchr(buf, '\0', len) != NULL) {
		util_errf(err, errsz, "%s: contains a NUL byte", fkey);
		goto out;
	}
	if (len > 0 && buf[len - 1] == '\n') {
		len--;
		if (len > 0 && buf[len - 1] == '\r')
			len--;
	}
	if (len == 0) {
		util_errf(err, errsz, "%s: empty", fkey);
		goto out;
	}
	if ((*out = strndup(buf, len)) == NULL) {
		util_errf(err, errsz, "%s: out of memory", fkey);
		goto out;
	}
	rc = 1;
out:
	crypto_wipe(buf, sizeof(buf));
	close(fd);
	return rc;
}

/*
 * Replace every <secret>_file in r by the contents of the file it names,
 * as <secret>.  Returns 1 on success, 0 with err set.
 */
static int
resolve_secret_files(struct raw *r, char *err, size_t errsz)
{
	size_t	 i;
	char	*v;

	for (i = 0; i < NSECRETS; i++) {
		if (r->val[secrets[i].file] == NULL)
			continue;
		if (!read_secret_file(conf_keys[secrets[i].file],
		    r->val[secrets[i].file], &v, err, errsz))
			return 0;
		wipe_str(r->val[secrets[i].val]);
		r->val[secrets[i].val] = v;
		wipe_str(r->val[secrets[i].file]);
		r->val[secrets[i].file] = NULL;
	}
	return 1;
}

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

	if ((copy = strdup(val)) == NULL) {
		util_errf(err, errsz, "old_master_keys: out of memory");
		return 0;
	}
	for (p = copy; p != NULL; ) {
		tok = strsep(&p, ",");
		while (is_blank(*tok))
			tok++;
		end = tok + strlen(tok);
		while (end > tok && is_blank(end[-1]))
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
 * http for a loopback host) and, if "portal", carry no query and no
 * fragment because we append "?token=".  Returns 1 if good, 0 with err.
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
parse_ttl(const char *s, long *ttl)
{
	char	*end;
	long	 v;

	if (*s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < TTL_MIN || v > TTL_MAX)
		return 0;
	*ttl = v;
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
static int
validate(struct conf *cf, struct raw *r, char *err, size_t errsz)
{
	static const enum ckey required[] = {
		K_MASTER_KEY, K_SESSION_SECRET, K_CALLBACK_SECRET,
		K_PORTAL_URL
	};
	size_t	 i, j;
	int	 lvl;

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
	    !parse_ttl(r->val[K_SESSION_TTL], &cf->session_ttl)) {
		util_errf(err, errsz, "session_ttl: must be an integer from %d "
		    "to %d", TTL_MIN, TTL_MAX);
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
	return 1;
}

/*
 * Returns path if not NULL, else $STRIPE_SYNC_CONF if set and not empty,
 * else the compiled-in default.  The result is not owned by the caller.
 */
const char *
conf_path(const char *path)
{
	const char	*e;

	if (path != NULL)
		return path;
	if ((e = getenv("STRIPE_SYNC_CONF")) != NULL && *e != '\0')
		return e;
	return DEFAULT_CONF;
}

/*
 * Load the file (if it exists or must), overlay the environment, read the
 * secret files and validate.  Returns 1 with cf filled in (the caller
 * must conf_free() it), or 0 with cf zeroed and one message in err.
 */
int
conf_load(struct conf *cf, const char *path, int must_exist,
    char *err, size_t errsz)
{
	struct raw	 r, env;
	int		 found = 0, rc = 0;

	memset(cf, 0, sizeof(*cf));
	memset(&r, 0, sizeof(r));
	memset(&env, 0, sizeof(env));
	if (err != NULL && errsz > 0)
		err[0] = '\0';

	if (path == NULL)
		path = conf_path(NULL);
	if (!read_conf_file(&r, path, must_exist, &found, err, errsz))
		goto out;
	if (found && (cf->path = strdup(path)) == NULL) {
		util_errf(err, errsz, "%s: out of memory", path);
		goto out;
	}
	if (!read_env(&env, err, errsz))
		goto out;
	merge_env(&r, &env);
	if (!resolve_secret_files(&r, err, errsz))
		goto out;
	if (!validate(cf, &r, err, errsz))
		goto out;
	rc = 1;
out:
	raw_free(&r);
	raw_free(&env);
	if (!rc)
		conf_free(cf);
	return rc;
}

/*
 * Wipe the secrets, free every string and zero cf.  Safe on a zeroed
 * struct and on one already freed.
 */
void
conf_free(struct conf *cf)
{
	if (cf == NULL)
		return;
	free(cf->path);
	free(cf->db_path);
	if (cf->session_secret != NULL) {
		crypto_wipe(cf->session_secret, cf->session_secret_len);
		free(cf->session_secret);
	}
	wipe_str(cf->callback_secret);
	free(cf->cloud_api_url);
	free(cf->stripe_api_url);
	free(cf->portal_url);
	free(cf->frame_ancestors);
	free(cf->ca_file);
	free(cf->log_file);
	crypto_wipe(cf, sizeof(*cf));
}
