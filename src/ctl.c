/*
 * ctl.c: stripe-syncctl, the administration tool.
 *
 *   stripe-syncctl [-c file] command [options] [arguments]
 *
 * Every operator task is a command of this tool so that none needs a
 * hand-written SQL statement: writing a first configuration with fresh
 * secrets, checking a configuration, migrating the database, listing
 * installs, re-sealing stored secrets after a master key rotation, and
 * checking a whole deployment (doctor).  This file holds main(), the
 * command table and every command but doctor, which is in doctor.c;
 * ctl.h declares what the two files share.
 *
 * The exit status is shared with stripe-sync.fcgi and stripe-syncd (see
 * enum ctl_exit and the EXIT STATUS section of stripe-syncctl(8)).  No
 * secret value ever reaches standard output, standard error or the log:
 * messages name the key, never its value.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "conf.h"
#include "crypto.h"
#include "ctl.h"
#include "db.h"
#include "log.h"
#include "util.h"

static int	 cmd_init(struct ctl *, const struct cmd *, int, char **);
static int	 cmd_check_config(struct ctl *, const struct cmd *, int,
		    char **);
static int	 cmd_migrate(struct ctl *, const struct cmd *, int, char **);
static int	 cmd_installs(struct ctl *, const struct cmd *, int, char **);
static int	 cmd_install(struct ctl *, const struct cmd *, int, char **);
static int	 cmd_rotate_keys(struct ctl *, const struct cmd *, int,
		    char **);

static const struct cmd cmds[] = {
	{ "init", cmd_init,
	  "[--force] [--portal-url URL] [--db PATH] [FILE]",
	  "write a configuration skeleton with fresh secrets",
	  "Write a configuration file with freshly generated master_key,\n"
	  "session_secret and callback_secret, created mode 0600.  FILE\n"
	  "defaults to the configuration path (-c, STRIPE_SYNC_CONF, or the\n"
	  "built-in default).  The secrets are never printed.\n"
	  "\n"
	  "  -f, --force           replace an existing FILE (atomically)\n"
	  "  -p, --portal-url URL  portal_url to write (default https://localhost/)\n"
	  "  -d, --db PATH         db_path to write (default: the built-in one)\n"
	  "  -h, --help            show this help\n" },
	{ "check-config", cmd_check_config,
	  "",
	  "load and validate the configuration",
	  "Load the configuration file and the STRIPE_SYNC_* environment and\n"
	  "validate them exactly as the workers do at start-up.  Exits 3 with\n"
	  "a message naming the offending key if they are invalid.\n"
	  "\n"
	  "  -h, --help            show this help\n" },
	{ "migrate", cmd_migrate,
	  "",
	  "create or upgrade the database schema",
	  "Create the database (mode 0600) if it does not exist and apply every\n"
	  "schema migration it lacks, each in its own transaction.  Running it\n"
	  "again applies nothing.  A database newer than this binary is left\n"
	  "alone (exit 5).\n"
	  "\n"
	  "  -h, --help            show this help\n" },
	{ "installs", cmd_installs,
	  "[--json]",
	  "list every install",
	  "List every install: id, instance, status, api key prefix, granted\n"
	  "scopes, install and uninstall times.  Keys are never shown.\n"
	  "\n"
	  "  -j, --json            print a JSON array (adds generation, has_key)\n"
	  "  -h, --help            show this help\n" },
	{ "install", cmd_install,
	  "[--json] ID",
	  "show one install",
	  "Show the install ID as \"field: value\" lines.  Exits 4 if there is\n"
	  "no such install.  Keys are never shown.\n"
	  "\n"
	  "  -j, --json            print a JSON object\n"
	  "  -h, --help            show this help\n" },
	{ "rotate-keys", cmd_rotate_keys,
	  "",
	  "re-seal every stored secret under the current master key",
	  "Re-seal every stored secret (Cloud and Stripe API keys) under the\n"
	  "current master_key, in one transaction: nothing changes on failure.\n"
	  "\n"
	  "Rotating the master key without downtime:\n"
	  "  1. generate a key:  openssl rand -base64 32\n"
	  "  2. in the configuration, move the current master_key into\n"
	  "     old_master_keys and set master_key to the new key\n"
	  "  3. restart or reload the workers and stripe-syncd at leisure:\n"
	  "     workers holding both keys keep serving, old and new alike\n"
	  "  4. run: stripe-syncctl rotate-keys\n"
	  "  5. drop the old key from old_master_keys and reload again\n"
	  "\n"
	  "  -h, --help            show this help\n" },
	{ "doctor", cmd_doctor,
	  "[--url PUBLIC_URL] [--timeout SECONDS]",
	  "check a deployment and say how to fix what is wrong",
	  "Check the deployment and print one line per finding, starting with\n"
	  "\"ok\", \"warn\" or \"FAIL\", each problem with its fix: the configuration\n"
	  "and the modes of its file and secret files, placeholder-looking\n"
	  "secrets, the database (exists, migrated, mode 0600, directory\n"
	  "writable), the journal mode, whether cloud_api_url and stripe_api_url\n"
	  "answer, and with --url the public site: the portal's security\n"
	  "headers, /api/health, and that the callback route refuses a wrong\n"
	  "secret.  Exits 0 without failures (warnings allowed), 1 with any,\n"
	  "3 if the configuration is invalid.  Secrets are never printed.\n"
	  "\n"
	  "  -u, --url URL         the public URL of the site (https; http only\n"
	  "                        for loopback hosts)\n"
	  "  -t, --timeout SECS    per request, 1 to 60 (default 5)\n"
	  "  -h, --help            show this help\n" },
};

#define NCMDS	(sizeof(cmds) / sizeof(cmds[0]))

/*
 * Print the global usage to f.
 */
static void
usage(FILE *f)
{
	size_t	 i;

	fprintf(f, "usage: %s [-hV] [-c file] command [options] [arguments]\n"
	    "\n"
	    "options:\n"
	    "  -c, --config FILE  configuration file (default: $STRIPE_SYNC_CONF,\n"
	    "                     else the built-in path)\n"
	    "  -h, --help         show this help\n"
	    "  -V, --version      show the version\n"
	    "\n"
	    "commands:\n", PROGNAME);
	for (i = 0; i < NCMDS; i++)
		fprintf(f, "  %-13s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\nconfiguration file now: %s\n"
	    "Run \"%s COMMAND --help\" for a command's options.\n",
	    conf_path(NULL), PROGNAME);
}

/*
 * Print the usage of one command to f (its full help if "full").
 */
void
cmd_usage(FILE *f, const struct cmd *c, int full)
{

	fprintf(f, "usage: %s [-c file] %s%s%s\n", PROGNAME, c->name,
	    c->synopsis[0] != '\0' ? " " : "", c->synopsis);
	if (full)
		fprintf(f, "\n%s", c->help);
}

/*
 * Parse a command's options with getopt_long.  argv[0] is the command
 * name.  optind is set to 0, not 1: glibc then re-reads the ordering mode
 * of this optstring (the global parse used '+' to stop at the command
 * name; here we want permutation so options may follow arguments, as in
 * "install ID --json").  Returns the option character, -1 at the end, 'h'
 * for help, '?' on error (getopt already printed why).
 */
int
cmd_getopt(int argc, char **argv, const char *optstr,
    const struct option *lopts, int *first)
{

	if (*first) {
		optind = 0;
		*first = 0;
	}
	return getopt_long(argc, argv, optstr, lopts, NULL);
}

/*
 * Handle the common outcomes of an option loop: 'h' prints the help to
 * stdout (returns CTL_OK), '?' prints the usage to stderr (returns
 * CTL_USAGE).  Returns -1 for any other option.
 */
int
cmd_common_opt(const struct cmd *c, int ch)
{

	if (ch == 'h') {
		cmd_usage(stdout, c, 1);
		return CTL_OK;
	}
	if (ch == '?' || ch == ':') {
		cmd_usage(stderr, c, 0);
		return CTL_USAGE;
	}
	return -1;
}

/*
 * Load and validate the configuration into c->cf, then point the log at
 * its log_file (tool messages go to the terminal; the log keeps a record
 * of what was done).  Returns CTL_OK or CTL_CONFIG (message printed).
 */
static int
ctl_load(struct ctl *c)
{
	char	 err[512];

	if (c->cf_loaded)
		return CTL_OK;
	err[0] = '\0';
	if (!conf_load(&c->cf, c->conf_file, c->conf_explicit,
	    err, sizeof(err))) {
		fprintf(stderr, "%s: configuration: %s\n", PROGNAME,
		    err[0] != '\0' ? err : "invalid");
		return CTL_CONFIG;
	}
	c->cf_loaded = 1;
	if (c->cf.log_file != NULL) {
		log_close();
		if (!log_init(PROGNAME, c->cf.log_file, c->cf.log_level)) {
			log_close();
			log_init(PROGNAME, NULL, LOG_LEVEL_WARN);
		}
	}
	return CTL_OK;
}

/*
 * Report a failed db_open(): its message already names the database.
 */
static void
db_open_failed(const char *path, const char *err)
{

	if (err[0] != '\0')
		fprintf(stderr, "%s: %s\n", PROGNAME, err);
	else
		fprintf(stderr, "%s: database %s: cannot open\n", PROGNAME,
		    path);
}

/*
 * Open the database for normal use (DB_SERVE).  On a refusal, find out
 * whether the schema version is the reason (then CTL_SCHEMA, with the
 * next step to take) by opening it for migration and comparing versions
 * ourselves rather than parsing the message.  Returns CTL_OK with *dbp
 * set (caller must db_close()), or an exit status (message printed).
 */
static int
ctl_open(struct ctl *c, struct db **dbp)
{
	char		 err[512], err2[512];
	struct stat	 st;
	struct db	*db;
	int		 have, want;

	*dbp = NULL;
	err[0] = '\0';
	if ((db = db_open(c->cf.db_path, DB_SERVE, err, sizeof(err))) != NULL) {
		*dbp = db;
		return CTL_OK;
	}
	if (stat(c->cf.db_path, &st) == -1 && errno == ENOENT) {
		fprintf(stderr, "%s: database %s does not exist: "
		    "run \"%s migrate\" first\n", PROGNAME, c->cf.db_path,
		    PROGNAME);
		return CTL_SCHEMA;
	}
	/* The file exists, so DB_MIGRATE creates nothing. */
	if ((db = db_open(c->cf.db_path, DB_MIGRATE, err2, sizeof(err2)))
	    != NULL) {
		have = db_schema_version(db);
		want = db_schema_latest();
		db_close(db);
		if (have >= 0 && have < want) {
			fprintf(stderr, "%s: database %s: schema version %d, "
			    "this binary needs %d: run \"%s migrate\"\n",
			    PROGNAME, c->cf.db_path, have, want, PROGNAME);
			return CTL_SCHEMA;
		}
		if (have > want) {
			fprintf(stderr, "%s: database %s: schema version %d "
			    "is newer than this binary's %d: upgrade "
			    "stripe-sync\n", PROGNAME, c->cf.db_path, have,
			    want);
			return CTL_SCHEMA;
		}
	}
	db_open_failed(c->cf.db_path, err);
	return CTL_FAIL;
}

/* --- init ------------------------------------------------------------- */

/*
 * Append formatted text to a struct buf (see ctl.h: it may hold secrets);
 * on allocation failure set b->failed and append nothing more.
 */
void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;
	size_t	 need, ncap;
	char	*np;

	if (b->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = 1;
		return;
	}
	need = b->len + (size_t)n + 1;
	if (need > b->cap) {
		ncap = b->cap == 0 ? 8192 : b->cap;
		while (ncap < need)
			ncap *= 2;
		if ((np = malloc(ncap)) == NULL) {
			b->failed = 1;
			return;
		}
		if (b->p != NULL) {
			memcpy(np, b->p, b->len);
			crypto_wipe(b->p, b->cap);
			free(b->p);
		}
		b->p = np;
		b->cap = ncap;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Wipe and free the buffer. */
void
buf_free(struct buf *b)
{

	if (b->p != NULL) {
		crypto_wipe(b->p, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof(*b));
}

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
static int
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

/* --- check-config, migrate ------------------------------------------- */

/*
 * A command that takes only -h: parse it.  Returns -1 to go on, else the
 * exit status.
 */
static int
cmd_noargs(const struct cmd *me, int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	int	 ch, first = 1;

	if ((ch = cmd_getopt(argc, argv, "h", lopts, &first)) != -1)
		return cmd_common_opt(me, ch == 'h' ? 'h' : '?');
	if (optind != argc) {
		cmd_usage(stderr, me, 0);
		return CTL_USAGE;
	}
	return -1;
}

/* check-config: load and validate, say which file. */
static int
cmd_check_config(struct ctl *c, const struct cmd *me, int argc, char **argv)
{
	int	 rc;

	if ((rc = cmd_noargs(me, argc, argv)) != -1)
		return rc;
	if ((rc = ctl_load(c)) != CTL_OK)
		return rc;
	if (c->cf.path != NULL)
		printf("configuration OK: %s\n", c->cf.path);
	else
		printf("configuration OK: environment only (no file at %s)\n",
		    c->conf_file);
	return CTL_OK;
}

/* migrate: create or upgrade the schema. */
static int
cmd_migrate(struct ctl *c, const struct cmd *me, int argc, char **argv)
{
	char		 err[512];
	struct db	*db;
	int		 rc, have, want, applied = 0;

	if ((rc = cmd_noargs(me, argc, argv)) != -1)
		return rc;
	if ((rc = ctl_load(c)) != CTL_OK)
		return rc;

	err[0] = '\0';
	if ((db = db_open(c->cf.db_path, DB_MIGRATE, err, sizeof(err)))
	    == NULL) {
		db_open_failed(c->cf.db_path, err);
		return CTL_FAIL;
	}
	have = db_schema_version(db);
	want = db_schema_latest();
	if (have > want) {
		fprintf(stderr, "%s: database %s: schema version %d is newer "
		    "than this binary's %d: not touching it (upgrade "
		    "stripe-sync)\n", PROGNAME, c->cf.db_path, have, want);
		db_close(db);
		return CTL_SCHEMA;
	}
	err[0] = '\0';
	if (have < 0 || !db_migrate(db, &applied, err, sizeof(err))) {
		fprintf(stderr, "%s: migrate %s: %s\n", PROGNAME,
		    c->cf.db_path, err[0] != '\0' ? err : db_errmsg(db));
		db_close(db);
		return CTL_FAIL;
	}
	have = db_schema_version(db);
	db_close(db);
	if (applied > 0)
		log_info("migrate: %s now at schema version %d "
		    "(applied %d)", c->cf.db_path, have, applied);
	printf("database %s: schema version %d (applied %d migrations)\n",
	    c->cf.db_path, have, applied);
	return CTL_OK;
}

/* --- installs, install ------------------------------------------------ */

/*
 * A printable copy of an untrusted string: escaped by log_escape(), "-"
 * for NULL or empty.  Returns an allocated string (caller frees), NULL
 * on memory failure.
 */
char *
disp(const char *s)
{
	char	*d;
	size_t	 len, sz;

	if (s == NULL || *s == '\0')
		return strdup("-");
	len = strlen(s);
	sz = len * 4 + 4;
	if ((d = malloc(sz)) == NULL)
		return NULL;
	return log_escape(d, sz, s, len);
}

/*
 * The granted scopes (a JSON array of strings) as "a,b,c" for display.
 * Anything else is shown escaped as stored.  Returns an allocated string
 * the caller frees, NULL on memory failure.
 */
static char *
disp_scopes(const char *json)
{
	struct json_object	*arr, *v;
	struct buf		 b;
	size_t			 i, n;
	char			*s, *e;

	if (json == NULL || (arr = json_tokener_parse(json)) == NULL)
		return disp(json);
	if (!json_object_is_type(arr, json_type_array)) {
		json_object_put(arr);
		return disp(json);
	}
	memset(&b, 0, sizeof(b));
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(arr, i);
		if ((e = disp(json_object_get_string(v))) == NULL) {
			b.failed = 1;
			break;
		}
		buf_printf(&b, "%s%s", i > 0 ? "," : "", e);
		free(e);
	}
	json_object_put(arr);
	if (b.failed || b.p == NULL) {
		buf_free(&b);
		return b.failed ? NULL : strdup("-");
	}
	s = strdup(b.p);
	buf_free(&b);
	return s;
}

/* The name of a status, guarded against a value out of range. */
static const char *
status_name(enum install_status st)
{

	if ((int)st < 0 || st >= INSTALL__MAX)
		return "unknown";
	return install_status_names[st];
}

/*
 * An install as a JSON object (json-c escapes every string).  Returns a
 * new reference the caller must json_object_put(), NULL on failure.
 */
static struct json_object *
install_json(const struct install *in)
{
	struct json_object	*o, *scopes = NULL;

#define JSTR(s)	((s) != NULL ? json_object_new_string(s) : NULL)
	if ((o = json_object_new_object()) == NULL)
		return NULL;
	if (in->granted_permissions != NULL &&
	    (scopes = json_tokener_parse(in->granted_permissions)) != NULL &&
	    !json_object_is_type(scopes, json_type_array)) {
		json_object_put(scopes);
		scopes = NULL;
	}
	if (scopes == NULL)
		scopes = json_object_new_array();
	json_object_object_add(o, "installed_app_id",
	    JSTR(in->installed_app_id));
	json_object_object_add(o, "app_id", JSTR(in->app_id));
	json_object_object_add(o, "instance_id", JSTR(in->instance_id));
	json_object_object_add(o, "organization_id",
	    JSTR(in->organization_id));
	json_object_object_add(o, "status",
	    json_object_new_string(status_name(in->status)));
	json_object_object_add(o, "api_key_prefix", JSTR(in->api_key_prefix));
	json_object_object_add(o, "granted_permissions", scopes);
	json_object_object_add(o, "generation",
	    json_object_new_int64(in->generation));
	json_object_object_add(o, "has_key",
	    json_object_new_boolean(in->has_key));
	json_object_object_add(o, "installed_at", JSTR(in->installed_at));
	json_object_object_add(o, "uninstalled_at",
	    JSTR(in->uninstalled_at));
	json_object_object_add(o, "updated_at", JSTR(in->updated_at));
#undef JSTR
	return o;
}

/* Columns of the installs table. */
enum col {
	COL_ID,
	COL_INSTANCE,
	COL_STATUS,
	COL_PREFIX,
	COL_SCOPES,
	COL_INSTALLED,
	COL_UNINSTALLED,
	COL__MAX
};

static const char *const col_names[COL__MAX] = {
	"INSTALLED_APP_ID",
	"INSTANCE_ID",
	"STATUS",
	"KEY_PREFIX",
	"SCOPES",
	"INSTALLED_AT",
	"UNINSTALLED_AT",
};

/* Rows collected for the table (all strings owned, already escaped). */
struct table {
	char	*(*rows)[COL__MAX];
	size_t	 nrows;
	size_t	 cap;
	struct json_object *json;	/* non-NULL in --json mode */
	int	 failed;
};

/*
 * db_install_list() callback: add one install to the table or the JSON
 * array.  Returns 0 (stop) on memory failure.
 */
static int
installs_cb(const struct install *in, void *arg)
{
	struct table		 *t = arg;
	struct json_object	 *o;
	char			*(*nr)[COL__MAX], **r;
	size_t			  i;

	if (t->json != NULL) {
		if ((o = install_json(in)) == NULL ||
		    json_object_array_add(t->json, o) != 0) {
			json_object_put(o);
			t->failed = 1;
			return 0;
		}
		return 1;
	}
	if (t->nrows == t->cap) {
		i = t->cap == 0 ? 16 : t->cap * 2;
		if ((nr = reallocarray(t->rows, i, sizeof(*nr))) == NULL) {
			t->failed = 1;
			return 0;
		}
		t->rows = nr;
		t->cap = i;
	}
	r = t->rows[t->nrows++];
	r[COL_ID] = disp(in->installed_app_id);
	r[COL_INSTANCE] = disp(in->instance_id);
	r[COL_STATUS] = disp(status_name(in->status));
	r[COL_PREFIX] = disp(in->api_key_prefix);
	r[COL_SCOPES] = disp_scopes(in->granted_permissions);
	r[COL_INSTALLED] = disp(in->installed_at);
	r[COL_UNINSTALLED] = disp(in->uninstalled_at);
	for (i = 0; i < COL__MAX; i++)
		if (r[i] == NULL) {
			t->failed = 1;
			return 0;
		}
	return 1;
}

/* Free the table's rows and JSON array. */
static void
table_free(struct table *t)
{
	size_t	 i, j;

	for (i = 0; i < t->nrows; i++)
		for (j = 0; j < COL__MAX; j++)
			free(t->rows[i][j]);
	free(t->rows);
	json_object_put(t->json);
	memset(t, 0, sizeof(*t));
}

/* Print one line of the table, padded to the widths w. */
static void
table_line(const size_t w[COL__MAX], const char *const f[COL__MAX])
{
	size_t	 j;

	for (j = 0; j + 1 < COL__MAX; j++)
		printf("%-*s  ", (int)w[j], f[j]);
	printf("%s\n", f[COL__MAX - 1]);
}

/*
 * Print the table with columns aligned: two spaces between columns, no
 * trailing blanks.
 */
static void
table_print(const struct table *t)
{
	size_t	 w[COL__MAX], i, j, l;

	for (j = 0; j < COL__MAX; j++)
		w[j] = strlen(col_names[j]);
	for (i = 0; i < t->nrows; i++)
		for (j = 0; j < COL__MAX; j++)
			if ((l = strlen(t->rows[i][j])) > w[j])
				w[j] = l;
	table_line(w, col_names);
	for (i = 0; i < t->nrows; i++)
		table_line(w, (const char *const *)t->rows[i]);
}

/*
 * Parse [--json] plus "nargs" positional arguments.  Returns -1 to go on
 * (with *json set), else the exit status.
 */
static int
cmd_jsonopt(const struct cmd *me, int argc, char **argv, int nargs,
    int *json)
{
	static const struct option lopts[] = {
		{ "json",	no_argument,		NULL, 'j' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	int	 ch, first = 1;

	*json = 0;
	while ((ch = cmd_getopt(argc, argv, "jh", lopts, &first)) != -1) {
		if (ch == 'j')
			*json = 1;
		else
			return cmd_common_opt(me, ch == 'h' ? 'h' : '?');
	}
	if (argc - optind != nargs) {
		cmd_usage(stderr, me, 0);
		return CTL_USAGE;
	}
	return -1;
}

/* Print a JSON value and a newline. */
static void
json_print(struct json_object *o)
{

	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	    JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* installs: list every install. */
static int
cmd_installs(struct ctl *c, const struct cmd *me, int argc, char **argv)
{
	struct table	 t;
	struct db	*db;
	int		 rc, json;

	if ((rc = cmd_jsonopt(me, argc, argv, 0, &json)) != -1)
		return rc;
	if ((rc = ctl_load(c)) != CTL_OK || (rc = ctl_open(c, &db)) != CTL_OK)
		return rc;
	memset(&t, 0, sizeof(t));
	if (json && (t.json = json_object_new_array()) == NULL) {
		db_close(db);
		fprintf(stderr, "%s: out of memory\n", PROGNAME);
		return CTL_FAIL;
	}
	if (!db_install_list(db, installs_cb, &t) && !t.failed) {
		fprintf(stderr, "%s: database %s: %s\n", PROGNAME,
		    c->cf.db_path, db_errmsg(db));
		rc = CTL_FAIL;
	} else if (t.failed) {
		fprintf(stderr, "%s: out of memory\n", PROGNAME);
		rc = CTL_FAIL;
	} else if (json)
		json_print(t.json);
	else
		table_print(&t);
	table_free(&t);
	db_close(db);
	return rc;
}

/* install ID: show one install. */
static int
cmd_install(struct ctl *c, const struct cmd *me, int argc, char **argv)
{
	struct install		 in;
	struct json_object	*o;
	struct db		*db;
	const char		*id;
	char			*f[13];
	size_t			 i;
	int			 rc, json, found;

	if ((rc = cmd_jsonopt(me, argc, argv, 1, &json)) != -1)
		return rc;
	id = argv[optind];
	if ((rc = ctl_load(c)) != CTL_OK || (rc = ctl_open(c, &db)) != CTL_OK)
		return rc;
	memset(&in, 0, sizeof(in));
	found = db_install_get(db, id, &in);
	if (found == -1) {
		fprintf(stderr, "%s: database %s: %s\n", PROGNAME,
		    c->cf.db_path, db_errmsg(db));
		db_close(db);
		return CTL_FAIL;
	}
	db_close(db);
	if (found == 0) {
		if ((f[0] = disp(id)) != NULL)
			fprintf(stderr, "%s: no install %s\n", PROGNAME, f[0]);
		free(f[0]);
		return CTL_NOTFOUND;
	}

	rc = CTL_OK;
	if (json) {
		if ((o = install_json(&in)) == NULL) {
			fprintf(stderr, "%s: out of memory\n", PROGNAME);
			rc = CTL_FAIL;
		} else
			json_print(o);
		json_object_put(o);
		install_free(&in);
		return rc;
	}

	memset(f, 0, sizeof(f));
	f[0] = disp(in.installed_app_id);
	f[1] = disp(in.app_id);
	f[2] = disp(in.instance_id);
	f[3] = disp(in.organization_id);
	f[4] = disp(status_name(in.status));
	f[5] = disp(in.api_key_prefix);
	f[6] = disp(in.has_key ? "yes" : "no");
	f[7] = disp_scopes(in.granted_permissions);
	f[8] = disp(in.install_event);
	f[9] = disp(in.installed_at);
	f[10] = disp(in.uninstalled_at);
	f[11] = disp(in.updated_at);
	for (i = 0; i < 12; i++)
		if (f[i] == NULL)
			rc = CTL_FAIL;
	if (rc != CTL_OK)
		fprintf(stderr, "%s: out of memory\n", PROGNAME);
	else
		printf("installed_app_id: %s\n"
		    "app_id: %s\n"
		    "instance_id: %s\n"
		    "organization_id: %s\n"
		    "status: %s\n"
		    "generation: %lld\n"
		    "api_key_prefix: %s\n"
		    "has_key: %s\n"
		    "granted_permissions: %s\n"
		    "install_event: %s\n"
		    "installed_at: %s\n"
		    "uninstalled_at: %s\n"
		    "updated_at: %s\n",
		    f[0], f[1], f[2], f[3], f[4], (long long)in.generation,
		    f[5], f[6], f[7], f[8], f[9], f[10], f[11]);
	for (i = 0; i < 12; i++)
		free(f[i]);
	install_free(&in);
	return rc;
}

/* --- rotate-keys ------------------------------------------------------ */

/* rotate-keys: re-seal everything under keys[0]. */
static int
cmd_rotate_keys(struct ctl *c, const struct cmd *me, int argc, char **argv)
{
	char		 err[512];
	struct db	*db;
	size_t		 n = 0;
	int		 rc;

	if ((rc = cmd_noargs(me, argc, argv)) != -1)
		return rc;
	if ((rc = ctl_load(c)) != CTL_OK || (rc = ctl_open(c, &db)) != CTL_OK)
		return rc;
	err[0] = '\0';
	if (!db_rotate_keys(db, &c->cf, &n, err, sizeof(err))) {
		fprintf(stderr, "%s: rotate-keys: %s (nothing changed)\n",
		    PROGNAME, err[0] != '\0' ? err : db_errmsg(db));
		db_close(db);
		return CTL_FAIL;
	}
	db_close(db);
	log_info("rotate-keys: re-sealed %zu secrets under key %s",
	    n, c->cf.keys[0].id);
	printf("re-sealed %zu secrets under key %s\n", n, c->cf.keys[0].id);
	return CTL_OK;
}

/* --- main ------------------------------------------------------------- */

int
main(int argc, char *argv[])
{
	static const struct option lopts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 }
	};
	struct ctl	 c;
	char		 label[64];
	const char	*env;
	const struct cmd *cmd = NULL;
	size_t		 i;
	int		 ch, rc;

	memset(&c, 0, sizeof(c));
	log_init(PROGNAME, NULL, LOG_LEVEL_WARN);

	/* '+': stop at the command name, its options are its own. */
	while ((ch = getopt_long(argc, argv, "+c:hV", lopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c.conf_arg = optarg;
			break;
		case 'h':
			usage(stdout);
			rc = CTL_OK;
			goto out;
		case 'V':
			printf("%s %s\n", PROGNAME, PACKAGE_VERSION);
			rc = CTL_OK;
			goto out;
		default:
			usage(stderr);
			rc = CTL_USAGE;
			goto out;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		rc = CTL_USAGE;
		goto out;
	}
	for (i = 0; i < NCMDS; i++)
		if (strcmp(argv[optind], cmds[i].name) == 0)
			cmd = &cmds[i];
	if (cmd == NULL) {
		fprintf(stderr, "%s: unknown command: %s\n\n", PROGNAME,
		    argv[optind]);
		usage(stderr);
		rc = CTL_USAGE;
		goto out;
	}
	if (c.conf_arg != NULL && *c.conf_arg == '\0') {
		fprintf(stderr, "%s: --config needs a file name\n", PROGNAME);
		rc = CTL_USAGE;
		goto out;
	}

	env = getenv("STRIPE_SYNC_CONF");
	c.conf_explicit = c.conf_arg != NULL ||
	    (env != NULL && *env != '\0');
	c.conf_file = conf_path(c.conf_arg);

	/* getopt's messages name argv[0]: make it "stripe-syncctl init". */
	snprintf(label, sizeof(label), "%s %s", PROGNAME, cmd->name);
	argv[optind] = label;
	rc = cmd->fn(&c, cmd, argc - optind, argv + optind);
out:
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "%s: standard output: %s\n", PROGNAME,
		    strerror(errno));
		if (rc == CTL_OK)
			rc = CTL_FAIL;
	}
	if (c.cf_loaded)
		conf_free(&c.cf);
	log_close();
	return rc;
}
