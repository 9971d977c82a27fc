/*
 * ctl.c: stripe-syncctl, the administration tool: main(), the command
 * table and what the commands share.
 *
 *   stripe-syncctl [-c file] command [options] [arguments]
 *
 * Every operator task is a command of this tool so that none needs a
 * hand-written SQL statement: writing a first configuration with fresh
 * secrets, checking a configuration, migrating the database, listing
 * installs, re-sealing stored secrets after a master key rotation, and
 * checking a whole deployment (doctor).  The commands live one group to a
 * file: ctl-init.c (init), ctl-db.c (migrate, backup, restore, rotate-keys),
 * ctl-installs.c (installs, install), doctor.c and doctor-net.c (doctor).
 * check-config, which is loading the configuration and saying so, stays
 * here beside ctl_load().  This file also holds the option helpers, the
 * text buffer and disp(); ctl.h declares what the files share.
 *
 * The exit status is shared with stripe-sync.fcgi and stripe-syncd (see
 * enum ctl_exit and the EXIT STATUS section of stripe-syncctl(8)).  No
 * secret value ever reaches standard output, standard error or the log:
 * messages name the key, never its value.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "crypto.h"
#include "ctl.h"
#include "log.h"

static int	 cmd_check_config(struct ctl *, const struct cmd *, int,
		    char **);

static const struct cmd cmds[] = {
	{ "init", cmd_init,
	  "[--force] [--portal-url URL] [--db PATH] [--user NAME] "
	  "[--secrets-dir DIR] [FILE]",
	  "write a configuration skeleton with fresh secrets",
	  "Write a configuration file with freshly generated master_key,\n"
	  "session_secret and callback_secret.  FILE defaults to the\n"
	  "configuration path (-c, STRIPE_SYNC_CONF, or the built-in default).\n"
	  "Run as root for workers that run as another user, every file it\n"
	  "writes is root's, mode 0640, in the workers' group; otherwise 0600.\n"
	  "The next steps it prints run migrate as the workers' user.  The\n"
	  "secrets are never printed.\n"
	  "\n"
	  "  -f, --force           replace existing files (atomically)\n"
	  "  -p, --portal-url URL  portal_url to write (default https://localhost/)\n"
	  "  -d, --db PATH         db_path to write (default: the built-in one)\n"
	  "  -U, --user NAME       the user the workers run as (default stripe-sync)\n"
	  "  -s, --secrets-dir DIR write each secret to its own file, DIR/master_key,\n"
	  "                        DIR/session_secret, DIR/callback_secret, and name\n"
	  "                        them in FILE (<key>_file) instead of the values\n"
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
	{ "backup", cmd_backup,
	  "FILE",
	  "copy the live database into a new file",
	  "Copy the database, consistently, into FILE (created mode 0600; it\n"
	  "must not exist) with SQLite's online backup API, while the workers\n"
	  "and stripe-syncd go on reading and writing.  Sealed secrets stay\n"
	  "sealed: keep the master keys that seal them (old_master_keys) as\n"
	  "long as you keep the backup.\n"
	  "\n"
	  "  -h, --help            show this help\n" },
	{ "restore", cmd_restore,
	  "FILE",
	  "replace the live database's contents with a backup",
	  "Check FILE (integrity, a schema this binary knows) and copy it into\n"
	  "the live database with SQLite's online backup API, under SQLite's\n"
	  "locking: the running workers wait a moment, then serve the restored\n"
	  "contents, with no restart and no error.  An older schema is then\n"
	  "migrated.  Never restore by renaming a file over the database: the\n"
	  "running workers would hold the old file (they notice, answer 503\n"
	  "once each and restart, but stripe-syncd only every 30 seconds).\n"
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
	  "Re-seal every stored secret (the Cloud and Stripe keys, the webhook\n"
	  "secrets) under the current master_key, in one transaction: nothing\n"
	  "changes on failure.\n"
	  "\n"
	  "It prints how many secrets are sealed under each key id before and\n"
	  "after.\n"
	  "\n"
	  "Rotating the master key without downtime (reload, rotate, check, drop):\n"
	  "  1. generate a key:  openssl rand -base64 32\n"
	  "  2. in the configuration, move the current master_key into\n"
	  "     old_master_keys and set master_key to the new key\n"
	  "  3. reload: systemctl reload stripe-sync-fcgi stripe-syncd (every\n"
	  "     process that seals secrets must run the new configuration;\n"
	  "     verify: each logs its reload)\n"
	  "  4. rotate: stripe-syncctl rotate-keys (verify: \"after:\" lists only\n"
	  "     the new key, as master_key)\n"
	  "  5. check: stripe-syncctl doctor (verify: \"ok sealed secrets: all N\n"
	  "     under the current master_key\"; a FAIL naming the old key means a\n"
	  "     process still ran the old configuration: reload it, go back to 4)\n"
	  "  6. drop the old key from old_master_keys and reload again (verify:\n"
	  "     doctor still says ok)\n"
	  "\n"
	  "  -h, --help            show this help\n" },
	{ "doctor", cmd_doctor,
	  "[--url PUBLIC_URL] [--timeout SECONDS] [--user NAME]",
	  "check a deployment and say how to fix what is wrong",
	  "Check the deployment and print one line per finding, starting with\n"
	  "\"ok\", \"warn\" or \"FAIL\", each problem with its fix: the configuration\n"
	  "and the owners and modes of its file and secret files (readable by\n"
	  "the workers' user, by nobody else), placeholder-looking secrets, the\n"
	  "database (exists, migrated, owned by the workers' user, mode 0600,\n"
	  "directory writable by them), the journal mode, whether cloud_api_url\n"
	  "and stripe_api_url answer, and with --url the public site: the\n"
	  "portal's security headers, /api/health, and that the callback route\n"
	  "refuses a wrong secret.  Each fix names the chown or chmod to run.\n"
	  "Exits 0 without failures (warnings allowed), 1 with any,\n"
	  "3 if the configuration is invalid.  Secrets are never printed.\n"
	  "\n"
	  "  -u, --url URL         the public URL of the site (https; http only\n"
	  "                        for loopback hosts)\n"
	  "  -t, --timeout SECS    per request, 1 to 60 (default 5)\n"
	  "  -U, --user NAME       the user the workers run as (default: the owner\n"
	  "                        of the database directory, or stripe-sync)\n"
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
 * A command that takes only -h: parse it.  Returns -1 to go on, else the
 * exit status.
 */
int
cmd_noargs(const struct cmd *me, int argc, char **argv)
{
	return cmd_nargs(me, argc, argv, 0);
}

int
cmd_nargs(const struct cmd *me, int argc, char **argv, int n)
{
	static const struct option lopts[] = {
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	int	 ch, first = 1;

	if ((ch = cmd_getopt(argc, argv, "h", lopts, &first)) != -1)
		return cmd_common_opt(me, ch == 'h' ? 'h' : '?');
	if (argc - optind != n) {
		cmd_usage(stderr, me, 0);
		return CTL_USAGE;
	}
	return -1;
}

/*
 * Load and validate the configuration into c->cf, then point the log at
 * its log_file (tool messages go to the terminal; the log keeps a record
 * of what was done).  Returns CTL_OK or CTL_CONFIG (message printed).
 */
int
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

/* --- shared helpers: the text buffer, disp() -------------------------- */

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

/* --- check-config ----------------------------------------------------- */

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
