/*
 * ctl-init.c: "stripe-syncctl init", which writes a first configuration
 * file with fresh secrets: generating the secrets, composing the file
 * (every key, the optional ones commented out with their defaults), and
 * writing it mode 0600, atomically with --force.  See ctl.h.
 *
 * The secrets are never printed; every buffer that held one is wiped.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "crypto.h"
#include "ctl.h"
#include "log.h"
#include "util.h"

/*
 * Wipe and free a NUL terminated secret string (NULL is fine).
 */
static void
secret_free(char *s)
{

	if (s != NULL) {
		crypto_wipe(s, strlen(s));
		free(s);
	}
}

/*
 * A fresh secret: nbytes random bytes as base64, url-safe ('-' and '_'
 * for '+' and '/', padding removed) if "urlsafe".  Returns an allocated
 * string the caller must secret_free(), or NULL on failure.
 */
static char *
secret_new(size_t nbytes, int urlsafe)
{
	unsigned char	 raw[64];
	char		*s;

	if (nbytes > sizeof(raw) || !crypto_random(raw, nbytes))
		return NULL;
	s = urlsafe ? b64url_encode(raw, nbytes) : b64_encode(raw, nbytes);
	crypto_wipe(raw, sizeof(raw));
	return s;
}

/*
 * Is this value fit for one line of the configuration file (non-empty,
 * no control characters that would end the line or hide text)?
 */
static int
conf_value_ok(const char *s)
{
	const unsigned char	*p;

	if (*s == '\0')
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

/* The optional keys init writes commented out, with their defaults. */
static const struct {
	const char	*key;
	const char	*value;		/* default, "" if none to show */
	const char	*comment;
} init_optional[] = {
	{ "old_master_keys", "",
	  "Previous master keys (base64, comma separated), still able to open\n"
	  "# values sealed before a rotation.  Empty once rotate-keys has run;\n"
	  "# see \"stripe-syncctl rotate-keys --help\"." },
	{ "cloud_api_url", "https://api.cloud.blnkfinance.com",
	  "Blnk Cloud API (a self-hosted Cloud's public URL).  https, except\n"
	  "# for loopback hosts." },
	{ "stripe_api_url", "https://api.stripe.com",
	  "Stripe API." },
	{ "session_ttl", "900",
	  "Lifetime of a portal launch token in seconds (300 to 900)." },
	{ "frame_ancestors",
	  "'self' https://blnkfinance.com https://*.blnkfinance.com",
	  "Origins allowed to frame the portal (CSP frame-ancestors)." },
	{ "ca_file", "",
	  "CA bundle for outbound TLS.  Unset: the system default." },
	{ "log_level", "info",
	  "One of error, warn, info, debug." },
	{ "log_file", "",
	  "Log file, appended to.  Unset: standard error." },
};

#define NINIT_OPTIONAL (sizeof(init_optional) / sizeof(init_optional[0]))

/* Keys init writes itself (not repeated from conf_keys[]). */
static const char *const init_written[] = {
	"portal_url", "db_path", "master_key", "session_secret",
	"callback_secret", NULL
};

/*
 * Is key one that init already wrote or described?
 */
static int
init_known_key(const char *key)
{
	size_t	 i;

	for (i = 0; init_written[i] != NULL; i++)
		if (strcmp(init_written[i], key) == 0)
			return 1;
	for (i = 0; i < NINIT_OPTIONAL; i++)
		if (strcmp(init_optional[i].key, key) == 0)
			return 1;
	return 0;
}

/*
 * Compose the configuration skeleton into b.  db may be NULL (the line is
 * then left commented out so the built-in default applies).
 */
static void
init_compose(struct buf *b, const char *portal, const char *db,
    const char *mkey, const char *ssec, const char *csec)
{
	char	 now[32];
	size_t	 i;

	buf_printf(b,
	    "# stripe-sync.conf: configuration of stripe-sync.fcgi, stripe-syncd\n"
	    "# and stripe-syncctl, written by \"stripe-syncctl init\" at %s.\n"
	    "#\n"
	    "# \"key = value\" lines; '#' starts a comment line.  Every key can be\n"
	    "# overridden by the environment as STRIPE_SYNC_<KEY> (upper case), and\n"
	    "# each secret can be given as <key>_file naming a file holding it.\n"
	    "# See stripe-sync.conf(5).\n"
	    "#\n"
	    "# This file holds secrets: keep it mode 0600, readable only by the\n"
	    "# user the workers run as, and out of version control.\n"
	    "\n",
	    util_now_rfc3339(now, sizeof(now)));

	buf_printf(b,
	    "# Public https URL of this app; Cloud's launch answers point here.\n"
	    "portal_url = %s\n\n", portal);

	buf_printf(b,
	    "# The SQLite database shared by every process on this machine.\n");
	if (db != NULL)
		buf_printf(b, "db_path = %s\n\n", db);
	else
		buf_printf(b, "# Unset: the built-in default (check-config and "
		    "migrate print it).\n#db_path =\n\n");

	buf_printf(b,
	    "# AES-256-GCM key sealing the stored API keys: base64 of 32 random\n"
	    "# bytes.  Losing it loses every stored key; see rotate-keys --help.\n"
	    "master_key = %s\n\n", mkey);
	buf_printf(b,
	    "# Key material for signing portal launch tokens (32+ characters).\n"
	    "session_secret = %s\n\n", ssec);
	buf_printf(b,
	    "# Secret path segment of the URLs registered in Blnk Cloud:\n"
	    "#   callback URL: <public URL>/api/callback/<callback_secret>\n"
	    "#   portal URL:   <public URL>/api/portal/<callback_secret>\n"
	    "# Anyone who knows it can send install events: guard it like a key.\n"
	    "callback_secret = %s\n\n", csec);

	buf_printf(b, "# --- optional: shown commented out with their "
	    "defaults ---\n\n");
	for (i = 0; i < NINIT_OPTIONAL; i++)
		buf_printf(b, "# %s\n#%s =%s%s\n\n", init_optional[i].comment,
		    init_optional[i].key,
		    init_optional[i].value[0] != '\0' ? " " : "",
		    init_optional[i].value);

	/* Keys this tool does not describe (the <secret>_file forms). */
	buf_printf(b, "# Each secret may instead be read from a file (trailing "
	    "newline\n# stripped); give either the key or its _file form, "
	    "not both.\n");
	for (i = 0; conf_keys[i] != NULL; i++)
		if (!init_known_key(conf_keys[i]))
			buf_printf(b, "#%s =\n", conf_keys[i]);
}

/*
 * Write len bytes to fd, retrying short writes.  Returns 1 or 0.
 */
static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		p += n;
		len -= (size_t)n;
	}
	return 1;
}

/*
 * Create "path" (O_EXCL, mode 0600 whatever the umask) holding b.  Returns
 * CTL_OK, or CTL_FAIL with a message; a file this call created is removed
 * on failure.
 */
static int
init_write(const char *path, const struct buf *b)
{
	int	 fd, serr;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		if (errno == EEXIST)
			fprintf(stderr, "%s: %s already exists: not "
			    "overwriting it (use --force to replace it)\n",
			    PROGNAME, path);
		else
			fprintf(stderr, "%s: %s: %s\n", PROGNAME, path,
			    strerror(errno));
		return CTL_FAIL;
	}
	if (fchmod(fd, 0600) == -1 || !write_all(fd, b->p, b->len) ||
	    fsync(fd) == -1) {
		serr = errno;
		close(fd);
		unlink(path);
		fprintf(stderr, "%s: %s: %s\n", PROGNAME, path,
		    strerror(serr));
		return CTL_FAIL;
	}
	if (close(fd) == -1) {
		serr = errno;
		unlink(path);
		fprintf(stderr, "%s: %s: %s\n", PROGNAME, path,
		    strerror(serr));
		return CTL_FAIL;
	}
	return CTL_OK;
}

/*
 * Replace "path" atomically: write path.tmp (0600), then rename it.
 * Returns CTL_OK or CTL_FAIL (message printed, no .tmp left behind).
 */
static int
init_replace(const char *path, const struct buf *b)
{
	char	*tmp;
	int	 rc;

	if (asprintf(&tmp, "%s.tmp", path) == -1) {
		fprintf(stderr, "%s: out of memory\n", PROGNAME);
		return CTL_FAIL;
	}
	/* A stale .tmp from an interrupted run is ours to replace. */
	if (unlink(tmp) == -1 && errno != ENOENT) {
		fprintf(stderr, "%s: %s: %s\n", PROGNAME, tmp,
		    strerror(errno));
		free(tmp);
		return CTL_FAIL;
	}
	if ((rc = init_write(tmp, b)) == CTL_OK &&
	    rename(tmp, path) == -1) {
		fprintf(stderr, "%s: rename %s to %s: %s\n", PROGNAME, tmp,
		    path, strerror(errno));
		unlink(tmp);
		rc = CTL_FAIL;
	}
	free(tmp);
	return rc;
}

/*
 * init: write a configuration skeleton with fresh secrets.  Prints the
 * next steps, never a secret.
 */
int
cmd_init(struct ctl *c, const struct cmd *me, int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "force",	no_argument,		NULL, 'f' },
		{ "portal-url",	required_argument,	NULL, 'p' },
		{ "db",		required_argument,	NULL, 'd' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	const char	*portal = "https://localhost/", *db = NULL;
	const char	*file;
	char		*mkey = NULL, *ssec = NULL, *csec = NULL;
	char		 err[512];
	struct buf	 b;
	int		 ch, rc, first = 1, force = 0;

	while ((ch = cmd_getopt(argc, argv, "fp:d:h", lopts, &first)) != -1) {
		switch (ch) {
		case 'f':
			force = 1;
			break;
		case 'p':
			portal = optarg;
			break;
		case 'd':
			db = optarg;
			break;
		default:
			if ((rc = cmd_common_opt(me, ch)) == -1)
				rc = cmd_common_opt(me, '?');
			return rc;
		}
	}
	if (argc - optind > 1) {
		cmd_usage(stderr, me, 0);
		return CTL_USAGE;
	}
	file = argc - optind == 1 ? argv[optind] : c->conf_file;
	if (!conf_value_ok(portal) || (db != NULL && !conf_value_ok(db))) {
		fprintf(stderr, "%s: init: --portal-url and --db must be "
		    "non-empty and hold no control characters\n", PROGNAME);
		return CTL_USAGE;
	}
	if (*file == '\0') {
		cmd_usage(stderr, me, 0);
		return CTL_USAGE;
	}

	memset(&b, 0, sizeof(b));
	if ((mkey = secret_new(CONF_KEYLEN, 0)) == NULL ||
	    (ssec = secret_new(36, 1)) == NULL ||
	    (csec = secret_new(36, 1)) == NULL) {
		fprintf(stderr, "%s: init: cannot generate secrets\n",
		    PROGNAME);
		rc = CTL_FAIL;
		goto out;
	}
	init_compose(&b, portal, db, mkey, ssec, csec);
	if (b.failed) {
		fprintf(stderr, "%s: out of memory\n", PROGNAME);
		rc = CTL_FAIL;
		goto out;
	}
	rc = force ? init_replace(file, &b) : init_write(file, &b);
	if (rc != CTL_OK)
		goto out;

	/* Validate what we wrote exactly as the workers will. */
	err[0] = '\0';
	if (!conf_load(&c->cf, file, 1, err, sizeof(err))) {
		fprintf(stderr, "%s: configuration: %s\n", PROGNAME,
		    err[0] != '\0' ? err : "invalid");
		fprintf(stderr, "%s: %s was written but does not validate: "
		    "fix it, then run \"%s -c %s check-config\"\n",
		    PROGNAME, file, PROGNAME, file);
		rc = CTL_CONFIG;
		goto out;
	}
	c->cf_loaded = 1;
	log_info("init: wrote configuration %s", file);

	printf("wrote %s (mode 0600) with a fresh master_key, session_secret "
	    "and callback_secret\n"
	    "database: %s\n"
	    "\n"
	    "next steps:\n"
	    "  1. edit %s: set portal_url to this app's public https URL\n"
	    "     (now %s) and review the other keys\n"
	    "  2. %s -c %s migrate\n"
	    "  3. %s -c %s check-config\n"
	    "  4. register the app in Blnk Cloud with\n"
	    "       callback URL: <your public URL>/api/callback/"
	    "<callback_secret>\n"
	    "       portal URL:   <your public URL>/api/portal/"
	    "<callback_secret>\n"
	    "     where <callback_secret> is the value of callback_secret in\n"
	    "     %s (it is not printed here: treat it like a password)\n",
	    file, c->cf.db_path, file, portal, PROGNAME, file,
	    PROGNAME, file, file);
out:
	secret_free(mkey);
	secret_free(ssec);
	secret_free(csec);
	buf_free(&b);
	return rc;
}
