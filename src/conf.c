/*
 * conf.c: read the configuration: stripe-sync.conf, overlaid by the
 * STRIPE_SYNC_* environment, with the <key>_file forms of the secrets
 * replaced by the files' contents; then conf-check.c validates the result
 * into a struct conf.  Also conf_path(), conf_load() and conf_free().  See
 * conf.h.
 *
 * Every error message names a key (or a variable, or the file and line)
 * and never prints a value, because most values here are secrets.  Every
 * buffer that may have held a secret is wiped before it is freed.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "conf-int.h"
#include "util.h"
#include "crypto.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif

extern char **environ;

#define CONF_FILEMAX	65536	/* largest configuration file read */
#define CONF_LINEMAX	4096	/* longest line, newline excluded */
#define CONF_SECRETFILEMAX 4096	/* largest <secret>_file */
#define CONF_SHOWKEYMAX	32	/* longest unknown key echoed back */
#define CONF_ENVPREFIX	"STRIPE_SYNC_"

#define DEFAULT_CONF	SYSCONFDIR "/stripe-sync.conf"

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
	"allow_root",
	"cloud_connect_timeout",
	"cloud_timeout",
	"stripe_connect_timeout",
	"stripe_timeout",
	"stripe_rate",
	"sync_patience",
	"sync_confirm_timeout",
	"sync_lease",
	"webhook_debounce",
	"webhook_max_wait",
	"sandbox",
	NULL
};

/* The secrets, each with its <key>_file form. */
static const struct {
	enum ckey	 val;
	enum ckey	 file;
	int		 empty_ok;	/* an empty file means "none" */
} secrets[] = {
	{ K_MASTER_KEY, K_MASTER_KEY_FILE, 0 },
	/* Loaded as a systemd credential, which must exist: between two
	 * rotations the file is there and empty. */
	{ K_OLD_MASTER_KEYS, K_OLD_MASTER_KEYS_FILE, 1 },
	{ K_SESSION_SECRET, K_SESSION_SECRET_FILE, 0 },
	{ K_CALLBACK_SECRET, K_CALLBACK_SECRET_FILE, 0 },
};
#define NSECRETS	(sizeof(secrets) / sizeof(secrets[0]))

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
int
conf_is_blank(char c)
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

	while (len > 0 && conf_is_blank(*line)) {
		line++;
		len--;
	}
	while (len > 0 && conf_is_blank(line[len - 1]))
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
	while (klen > 0 && conf_is_blank(k[klen - 1]))
		klen--;
	v = eq + 1;
	vlen = len - (size_t)(v - line);
	while (vlen > 0 && conf_is_blank(*v)) {
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
 * set to whether the file existed (a file that does not exist is no
 * failure here: conf_load() decides), 0 with err set on failure.  The file
 * is read with read(2) into one buffer that is wiped afterwards, so no
 * stdio buffer keeps a copy of the secrets in it.
 */
static int
read_conf_file(struct raw *r, const char *path, int *found, char *err,
    size_t errsz)
{
	int		 fd, rc = 0;
	char		*buf = NULL, *p, *nl, *end;
	size_t		 len = 0, lineno = 0, linelen;
	ssize_t		 n;
	size_t		 i, j;

	*found = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
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
 * stripped, not empty unless empty_ok.  Returns 1 on success, 0 with err
 * set.
 */
static int
read_secret_file(const char *fkey, const char *path, int empty_ok,
    char **out, char *err, size_t errsz)
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
	if (len == 0 && !empty_ok) {
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
		    r->val[secrets[i].file], secrets[i].empty_ok, &v, err,
		    errsz))
			return 0;
		wipe_str(r->val[secrets[i].val]);
		r->val[secrets[i].val] = v;
		wipe_str(r->val[secrets[i].file]);
		r->val[secrets[i].file] = NULL;
	}
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
 * Does the environment hold any configuration variable (STRIPE_SYNC_*
 * other than STRIPE_SYNC_CONF, known or not: read_env() judges them)?
 */
static int
env_has_conf(void)
{
	char	**ep;
	size_t	  plen = strlen(CONF_ENVPREFIX);

	for (ep = environ; ep != NULL && *ep != NULL; ep++)
		if (strncmp(*ep, CONF_ENVPREFIX, plen) == 0 &&
		    strncmp(*ep, "STRIPE_SYNC_CONF=", 17) != 0)
			return 1;
	return 0;
}

/*
 * The message for a configuration file that does not exist, naming where
 * it was looked for: the path the operator gave (-c, else
 * $STRIPE_SYNC_CONF) when must_exist, else the whole search.  Without it,
 * a missing file would show as the first required key missing.
 */
static void
no_conf(const char *path, int must_exist, char *err, size_t errsz)
{
	const char	*e = getenv("STRIPE_SYNC_CONF");

	if (!must_exist)
		util_errf(err, errsz, CONF_ERR_NONE "%s does not exist "
		    "(searched: -c/--config: not given; $STRIPE_SYNC_CONF: "
		    "not set; default: %s) and no STRIPE_SYNC_* variable is "
		    "set", path, path);
	else if (e != NULL && strcmp(e, path) == 0)
		util_errf(err, errsz, CONF_ERR_NONE "%s does not exist "
		    "(searched: $STRIPE_SYNC_CONF: %s)", path, path);
	else
		util_errf(err, errsz, CONF_ERR_NONE "%s does not exist "
		    "(searched: -c/--config: %s)", path, path);
}

/*
 * Load the file (which must exist if must_exist, or if the environment
 * holds no STRIPE_SYNC_* variable to stand in for it), overlay the
 * environment, read the secret files and validate.  Returns 1 with cf filled in (the caller
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
	if (!read_conf_file(&r, path, &found, err, errsz))
		goto out;
	if (!found && (must_exist || !env_has_conf())) {
		no_conf(path, must_exist, err, errsz);
		goto out;
	}
	if (found && (cf->path = strdup(path)) == NULL) {
		util_errf(err, errsz, "%s: out of memory", path);
		goto out;
	}
	if (!read_env(&env, err, errsz))
		goto out;
	merge_env(&r, &env);
	if (!resolve_secret_files(&r, err, errsz))
		goto out;
	if (!conf_validate(cf, &r, err, errsz))
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
