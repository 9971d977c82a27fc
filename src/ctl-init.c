/*
 * ctl-init.c: "stripe-syncctl init", which writes a first configuration
 * file with fresh secrets: generating the secrets, composing the file
 * (every key, the optional ones commented out with their defaults), and
 * writing it, atomically with --force; with --secrets-dir each secret goes
 * to a file of its own and the configuration names them (<key>_file).
 * See ctl.h.
 *
 * The modes follow deploy/README.md, section 3: run as root for workers
 * that run as another user (--user, default stripe-sync), every file is
 * root's, mode 0640, in the workers' group, so they can read it and not
 * change it; otherwise 0600, the invoker's.  The next steps it prints run
 * migrate as the workers' user, since a database root creates is root's
 * and the workers cannot open it.
 *
 * The secrets are never printed; every buffer that held one is wiped.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
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
	{ "cloud_connect_timeout", "3",
	  "Seconds one connection attempt to Blnk Cloud may take." },
	{ "cloud_timeout", "10",
	  "Seconds a whole call to Blnk Cloud may take, retries included;\n"
	  "# keep it under nginx's fastcgi_read_timeout (15 s)." },
	{ "stripe_connect_timeout", "3",
	  "Seconds one connection attempt to Stripe may take." },
	{ "stripe_timeout", "10",
	  "Seconds a whole call to Stripe may take, retries included." },
	{ "stripe_rate", "0",
	  "Calls a second stripe-syncd makes to Stripe, at most; 0: 20 in\n"
	  "# test mode, 50 in live mode (Stripe allows 25 and 100 for the\n"
	  "# whole account: the rest is left to the account's own calls)." },
	{ "sync_patience", "300",
	  "Seconds a sync run waits out Cloud or Stripe being down before\n"
	  "# it fails (the next run resumes where it stopped)." },
	{ "sync_confirm_timeout", "600",
	  "Seconds a sync run waits for Blnk to apply what it posted." },
	{ "sync_lease", "90",
	  "Seconds a job runner holds a run without a sign of life; then\n"
	  "# another runner takes it over." },
	{ "sandbox", "on",
	  "After start-up the workers and stripe-syncd may make only the\n"
	  "# system calls they need and write only in the database directory:\n"
	  "# on (a forbidden call kills the process), log (it is logged and\n"
	  "# fails), off.  See stripe-sync.conf(5)." },
	{ "allow_root", "no",
	  "yes lets the workers and stripe-syncd run as root: only for a\n"
	  "# container that has no other user." },
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
 * The line of secret "key": its value, or with a secrets directory the
 * <key>_file line naming sdir/<key>.
 */
static void
compose_secret(struct buf *b, const char *key, const char *val,
    const char *sdir)
{
	if (sdir != NULL)
		buf_printf(b, "%s_file = %s/%s\n\n", key, sdir, key);
	else
		buf_printf(b, "%s = %s\n\n", key, val);
}

/*
 * Compose the configuration skeleton into b.  db may be NULL (the line is
 * then left commented out so the built-in default applies); with sdir,
 * the secrets are named as files in it rather than written.
 */
static void
init_compose(struct buf *b, const char *portal, const char *db,
    const char *mkey, const char *ssec, const char *csec, const char *sdir)
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
	    "# %s: keep it readable only by the user the workers\n"
	    "# run as (mode 0640 root:<their group>, or 0600 theirs; see\n"
	    "# deploy/README.md, section 3), and out of version control.\n"
	    "\n",
	    util_now_rfc3339(now, sizeof(now)), sdir != NULL ?
	    "This file names the files that hold the secrets" :
	    "This file holds secrets");

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
	    "# bytes.  Losing it loses every stored key; see rotate-keys --help.\n");
	compose_secret(b, "master_key", mkey, sdir);
	buf_printf(b,
	    "# Key material for signing portal launch tokens (32+ characters).\n");
	compose_secret(b, "session_secret", ssec, sdir);
	buf_printf(b,
	    "# Secret path segment of the URLs registered in Blnk Cloud:\n"
	    "#   callback URL: <public URL>/api/callback/<callback_secret>\n"
	    "#   portal URL:   <public URL>/api/portal/<callback_secret>\n"
	    "# Anyone who knows it can send install events: guard it like a key.\n");
	compose_secret(b, "callback_secret", csec, sdir);
	if (sdir != NULL)
		buf_printf(b,
		    "# The previous master keys during a rotation, comma separated\n"
		    "# (see \"stripe-syncctl rotate-keys --help\").  Keep the file,\n"
		    "# empty between rotations: the systemd units load it as a\n"
		    "# credential, which must exist.\n"
		    "old_master_keys_file = %s/old_master_keys\n\n", sdir);

	buf_printf(b, "# --- optional: shown commented out with their "
	    "defaults ---\n\n");
	for (i = 0; i < NINIT_OPTIONAL; i++)
		buf_printf(b, "# %s\n#%s =%s%s\n\n", init_optional[i].comment,
		    init_optional[i].key,
		    init_optional[i].value[0] != '\0' ? " " : "",
		    init_optional[i].value);

	/* Keys this tool does not describe (the <secret>_file forms). */
	buf_printf(b, "# Each secret may %s be read from a file (trailing "
	    "newline\n# stripped); give either the key or its _file form, "
	    "not both.\n", sdir != NULL ? "also" : "instead");
	for (i = 0; conf_keys[i] != NULL; i++)
		if (!init_known_key(conf_keys[i]) && (sdir == NULL ||
		    (strcmp(conf_keys[i], "master_key_file") != 0 &&
		    strcmp(conf_keys[i], "old_master_keys_file") != 0 &&
		    strcmp(conf_keys[i], "session_secret_file") != 0 &&
		    strcmp(conf_keys[i], "callback_secret_file") != 0)))
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

/* Who the files are for: their mode and group (see the top of the file). */
struct init_own {
	mode_t	 mode;		/* 0600 or 0640 */
	gid_t	 gid;		/* the workers' group, or (gid_t)-1: keep */
};

/*
 * Create "path" (O_EXCL, o's mode and group whatever the umask) holding
 * b.  Returns CTL_OK, or CTL_FAIL with a message; a file this call
 * created is removed on failure.
 */
static int
init_write(const char *path, const struct buf *b, const struct init_own *o)
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
	if ((o->gid != (gid_t)-1 && fchown(fd, (uid_t)-1, o->gid) == -1) ||
	    fchmod(fd, o->mode) == -1 || !write_all(fd, b->p, b->len) ||
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
 * Replace "path" atomically: write path.tmp (as init_write()), then
 * rename it.  Returns CTL_OK or CTL_FAIL (message printed, no .tmp left
 * behind).
 */
static int
init_replace(const char *path, const struct buf *b, const struct init_own *o)
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
	if ((rc = init_write(tmp, b, o)) == CTL_OK &&
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
 * Settle who the files are for: the workers' user "user".  Run as root
 * for workers that are not, the files go to their group, mode 0640 (and
 * *gname names it); otherwise they stay the invoker's, mode 0600.  A user
 * that does not exist is an error only if named with --user ("named").
 * Returns CTL_OK or CTL_USAGE (message printed).
 */
static int
init_owner(const char *user, int named, struct init_own *o, char *gname,
    size_t gnamesz, int *exists)
{
	struct passwd	*pw;
	struct group	*gr;

	o->mode = 0600;
	o->gid = (gid_t)-1;
	gname[0] = '\0';
	if ((pw = getpwnam(user)) == NULL) {
		*exists = 0;
		if (named) {
			fprintf(stderr, "%s: init: --user %s: no such user\n",
			    PROGNAME, user);
			return CTL_USAGE;
		}
		return CTL_OK;
	}
	*exists = 1;
	if (geteuid() != 0 || pw->pw_uid == 0)
		return CTL_OK;
	o->mode = 0640;
	o->gid = pw->pw_gid;
	if ((gr = getgrgid(pw->pw_gid)) != NULL)
		snprintf(gname, gnamesz, "%s", gr->gr_name);
	else
		snprintf(gname, gnamesz, "%lu", (unsigned long)pw->pw_gid);
	return CTL_OK;
}

/* The secrets --secrets-dir writes, each to DIR/<key>; old_master_keys
 * is written empty (no rotation in progress). */
static const char *const init_secret_keys[] = {
	"master_key", "session_secret", "callback_secret", "old_master_keys"
};
#define NINIT_SECRETS	3
#define NINIT_FILES	4

/*
 * DIR/<key> of the i-th secret into path (PATH_MAX bytes).  Returns 1, or
 * 0 if it does not fit.
 */
static int
init_secret_path(char *path, const char *dir, size_t i)
{
	int	 n;

	n = snprintf(path, PATH_MAX, "%s/%s", dir, init_secret_keys[i]);
	return n > 0 && n < PATH_MAX;
}

/* Remove the first n secret files of DIR (after a failure). */
static void
init_unlink_secrets(const char *dir, size_t n)
{
	char	 path[PATH_MAX];
	size_t	 i;

	for (i = 0; i < n; i++)
		if (init_secret_path(path, dir, i))
			unlink(path);
}

/*
 * Write the secrets vals[] to DIR/<key>, one file each holding the value
 * and a newline, as init_write() (init_replace() with "force").  On
 * failure remove the files this call wrote (unless "force": the old ones
 * are gone by then).  Returns CTL_OK or CTL_FAIL (message printed).
 */
static int
init_secret_files(const char *dir, char *const vals[], const struct init_own *o,
    int force)
{
	struct buf	 b;
	char		 path[PATH_MAX];
	size_t		 i;
	int		 rc = CTL_OK;

	for (i = 0; i < NINIT_FILES && rc == CTL_OK; i++) {
		memset(&b, 0, sizeof(b));
		buf_printf(&b, "%s\n", i < NINIT_SECRETS ? vals[i] : "");
		if (!init_secret_path(path, dir, i)) {
			fprintf(stderr, "%s: %s: path too long\n", PROGNAME,
			    dir);
			rc = CTL_FAIL;
		} else if (b.failed) {
			fprintf(stderr, "%s: out of memory\n", PROGNAME);
			rc = CTL_FAIL;
		} else
			rc = force ? init_replace(path, &b, o) :
			    init_write(path, &b, o);
		buf_free(&b);
	}
	if (rc != CTL_OK && !force)
		init_unlink_secrets(dir, i - 1);
	return rc;
}

/*
 * The directory for --secrets-dir: created (mode 0750 in the workers'
 * group, or 0700) if missing.  Writes its absolute path, which the
 * configuration names, into abs.  Returns CTL_OK or CTL_FAIL (message
 * printed).
 */
static int
init_secrets_dir(const char *dir, const struct init_own *o, char *abs)
{
	if (mkdir(dir, o->mode == 0640 ? 0750 : 0700) == 0) {
		if ((o->gid != (gid_t)-1 && chown(dir, (uid_t)-1, o->gid) == -1)
		    || chmod(dir, o->mode == 0640 ? 0750 : 0700) == -1) {
			fprintf(stderr, "%s: %s: %s\n", PROGNAME, dir,
			    strerror(errno));
			return CTL_FAIL;
		}
	} else if (errno != EEXIST) {
		fprintf(stderr, "%s: %s: %s\n", PROGNAME, dir, strerror(errno));
		return CTL_FAIL;
	}
	if (realpath(dir, abs) == NULL) {
		fprintf(stderr, "%s: %s: %s\n", PROGNAME, dir, strerror(errno));
		return CTL_FAIL;
	}
	return CTL_OK;
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
		{ "user",	required_argument,	NULL, 'U' },
		{ "secrets-dir", required_argument,	NULL, 's' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	const char	*portal = "https://localhost/", *db = NULL;
	const char	*file, *user = "stripe-sync", *sdir_arg = NULL;
	const char	*sdir = NULL;
	char		*sec[NINIT_SECRETS] = { NULL, NULL, NULL };
	char		 err[512], gname[64], sdir_abs[PATH_MAX], as[128];
	char		 modes[160], *dbdir, *slash;
	struct buf	 b;
	struct init_own	 own;
	struct passwd	*me_pw;
	int		 ch, rc, first = 1, force = 0, named = 0, exists;
	int		 step = 0;
	size_t		 i;

	while ((ch = cmd_getopt(argc, argv, "fp:d:U:s:h", lopts, &first))
	    != -1) {
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
		case 'U':
			user = optarg;
			named = 1;
			break;
		case 's':
			sdir_arg = optarg;
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
	if (!conf_value_ok(portal) || (db != NULL && !conf_value_ok(db)) ||
	    !conf_value_ok(user) ||
	    (sdir_arg != NULL && !conf_value_ok(sdir_arg))) {
		fprintf(stderr, "%s: init: --portal-url, --db, --user and "
		    "--secrets-dir must be non-empty and hold no control "
		    "characters\n", PROGNAME);
		return CTL_USAGE;
	}
	if (*file == '\0') {
		cmd_usage(stderr, me, 0);
		return CTL_USAGE;
	}
	if ((rc = init_owner(user, named, &own, gname, sizeof(gname),
	    &exists)) != CTL_OK)
		return rc;

	memset(&b, 0, sizeof(b));
	if ((sec[0] = secret_new(CONF_KEYLEN, 0)) == NULL ||
	    (sec[1] = secret_new(36, 1)) == NULL ||
	    (sec[2] = secret_new(36, 1)) == NULL) {
		fprintf(stderr, "%s: init: cannot generate secrets\n",
		    PROGNAME);
		rc = CTL_FAIL;
		goto out;
	}
	if (sdir_arg != NULL) {
		if ((rc = init_secrets_dir(sdir_arg, &own, sdir_abs)) != CTL_OK)
			goto out;
		sdir = sdir_abs;
		if (!conf_value_ok(sdir)) {
			fprintf(stderr, "%s: init: %s: a path that cannot "
			    "stand in the configuration\n", PROGNAME, sdir);
			rc = CTL_USAGE;
			goto out;
		}
	}
	init_compose(&b, portal, db, sec[0], sec[1], sec[2], sdir);
	if (b.failed) {
		fprintf(stderr, "%s: out of memory\n", PROGNAME);
		rc = CTL_FAIL;
		goto out;
	}
	if (sdir != NULL &&
	    (rc = init_secret_files(sdir, sec, &own, force)) != CTL_OK)
		goto out;
	rc = force ? init_replace(file, &b, &own) : init_write(file, &b, &own);
	if (rc != CTL_OK) {
		if (sdir != NULL && !force)
			init_unlink_secrets(sdir, NINIT_FILES);
		goto out;
	}

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
	log_info("init: wrote configuration %s%s%s", file,
	    sdir != NULL ? " and secret files in " : "",
	    sdir != NULL ? sdir : "");

	/* The next steps run as the workers' user unless we are them. */
	me_pw = getpwuid(geteuid());
	if (me_pw != NULL && strcmp(me_pw->pw_name, user) == 0)
		as[0] = '\0';
	else
		snprintf(as, sizeof(as), "runuser -u %s -- ", user);
	if (own.mode == 0640)
		snprintf(modes, sizeof(modes), "mode 0640, group %s", gname);
	else
		snprintf(modes, sizeof(modes), "mode 0600");

	if (sdir != NULL)
		printf("wrote %s (%s) naming the secret files\n"
		    "wrote a fresh master_key, session_secret and "
		    "callback_secret, each in its\n"
		    "own file: %s/{master_key,session_secret,callback_secret} "
		    "(%s)\n", file, modes, sdir, modes);
	else
		printf("wrote %s (%s) with a fresh master_key, "
		    "session_secret and callback_secret\n", file, modes);
	printf("database: %s\n\nnext steps:\n", c->cf.db_path);
	if (!exists) {
		printf("  %d. create the user the workers run as (it does not "
		    "exist yet):\n"
		    "       adduser --system --group --no-create-home "
		    "--shell /usr/sbin/nologin %s\n", ++step, user);
		if (geteuid() == 0 && sdir != NULL)
			printf("     then let it read the files:\n"
			    "       chgrp -R %s %s %s && chmod 640 %s %s/* && "
			    "chmod 750 %s\n", user, file, sdir, file, sdir,
			    sdir);
		else if (geteuid() == 0)
			printf("     then let it read the file:\n"
			    "       chgrp %s %s && chmod 640 %s\n", user, file,
			    file);
	}
	if ((dbdir = strdup(c->cf.db_path)) != NULL &&
	    (slash = strrchr(dbdir, '/')) != NULL && slash != dbdir) {
		*slash = '\0';
		if (access(dbdir, F_OK) == -1 && errno == ENOENT)
			printf("  %d. create the database directory, the "
			    "workers' own:\n"
			    "       install -d -m 0700 -o %s -g %s %s\n", ++step, user,
			    gname[0] != '\0' ? gname : user, dbdir);
	}
	free(dbdir);
	printf("  %d. edit %s: set portal_url to this app's public https URL\n"
	    "     (now %s) and review the other keys\n", ++step, file, portal);
	printf("  %d. %s%s -c %s migrate\n"
	    "     (as the workers' user %s, who must own the database: they\n"
	    "     cannot open one that root created)\n", ++step, as, PROGNAME,
	    file, user);
	printf("  %d. %s%s -c %s doctor\n", ++step, as, PROGNAME, file);
	printf("  %d. register the app in Blnk Cloud with\n"
	    "       callback URL: <your public URL>/api/callback/"
	    "<callback_secret>\n"
	    "       portal URL:   <your public URL>/api/portal/"
	    "<callback_secret>\n", ++step);
	if (sdir != NULL)
		printf("     where <callback_secret> is the content of\n"
		    "     %s/callback_secret (it is not printed here: treat it "
		    "like a password)\n", sdir);
	else
		printf("     where <callback_secret> is the value of "
		    "callback_secret in\n"
		    "     %s (it is not printed here: treat it like a "
		    "password)\n", file);
out:
	for (i = 0; i < NINIT_SECRETS; i++)
		secret_free(sec[i]);
	buf_free(&b);
	return rc;
}
