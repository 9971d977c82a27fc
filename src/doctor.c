/*
 * doctor.c: "stripe-syncctl doctor", which checks a deployment: the
 * command, its findings, and the local checks (the configuration, the
 * modes of its file and secret files, placeholder-looking secrets, the
 * database and its journal mode).  The checks over the network are in
 * doctor-net.c.  See doctor.h.
 *
 * doctor prints one line per finding: "ok", "warn" or "FAIL", what was
 * found and, for a problem, "fix:" and what to do.  The checks run in
 * order (configuration, secrets, database, the outbound URLs, then the
 * public site with --url) and each goes on after a failure, so one run
 * shows everything; only an invalid configuration stops it, since nothing
 * else can be checked without one.
 *
 * Secrets never reach the output: no finding is built from a secret, and
 * finding() replaces any secret value of the configuration that would
 * still reach it (through a URL, say) by its key name in angle brackets.
 *
 * The command's entry in the command table (its synopsis and help) and
 * main() are in ctl.c.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "conf.h"
#include "crypto.h"
#include "ctl.h"
#include "db.h"
#include "doctor.h"

#define DOCTOR_TIMEOUT		5	/* default --timeout, seconds */
#define DOCTOR_TIMEOUT_MAX	60
#define DOCTOR_DISTINCT_MIN	8	/* fewer distinct bytes: weak secret */

/*
 * A formatted string, allocated (the caller frees), NULL on failure.
 */
char *
str_printf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

/*
 * A copy of s with every occurrence of "secret" replaced by "name".
 * Returns an allocated string the caller frees, NULL on memory failure.
 * A NULL or empty secret replaces nothing.
 */
static char *
redact(const char *s, const char *secret, const char *name)
{
	struct buf	 b;
	const char	*p;
	char		*r;
	size_t		 slen;

	if (secret == NULL || *secret == '\0')
		return strdup(s);
	slen = strlen(secret);
	memset(&b, 0, sizeof(b));
	while ((p = strstr(s, secret)) != NULL) {
		buf_printf(&b, "%.*s%s", (int)(p - s), s, name);
		s = p + slen;
	}
	buf_printf(&b, "%s", s);
	r = b.failed ? NULL : strdup(b.p);
	buf_free(&b);
	return r;
}

/*
 * Print one finding, "ok", "warn" or "FAIL" then the message, with the
 * secrets of the configuration redacted, and count it.
 */
void
finding(struct doctor *d, enum sev sev, const char *fmt, ...)
{
	static const char *const words[] = { "ok", "warn", "FAIL" };
	va_list		 ap;
	char		*msg, *r;
	int		 n;

	if (sev == SEV_FAIL)
		d->nfail++;
	else if (sev == SEV_WARN)
		d->nwarn++;
	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		printf("%-4s  (out of memory formatting this finding)\n",
		    words[sev]);
		return;
	}
	if (d->c->cf_loaded) {
		r = redact(msg, d->c->cf.callback_secret,
		    "<callback_secret>");
		free(msg);
		msg = r != NULL ? redact(r, d->c->cf.session_secret,
		    "<session_secret>") : NULL;
		free(r);
	}
	printf("%-4s  %s\n", words[sev],
	    msg != NULL ? msg : "(out of memory formatting this finding)");
	free(msg);
}

/* --- doctor: configuration and secrets --- */

/* What the workers need of a file doctor checks. */
enum fkind {
	FK_READ,	/* read it: the configuration, a secret file */
	FK_WRITE,	/* read and write it: the database */
	FK_DIR,		/* create files in it: the database's directory */
};

/* Is gid one of the workers' user's groups? */
static int
user_in_group(const struct doctor *d, gid_t gid)
{
	int	 i;

	for (i = 0; i < d->ngroups; i++)
		if (d->groups[i] == gid)
			return 1;
	return gid == d->gid;
}

/*
 * May the workers' user (d->have_user) use the file st as kind says,
 * going by its owner, group and mode?  root may do anything.
 */
static int
user_can(const struct doctor *d, const struct stat *st, enum fkind kind)
{
	unsigned int	 need = kind == FK_READ ? 4 : kind == FK_WRITE ? 6 : 3;

	if (d->uid == 0)
		return 1;
	if (st->st_uid == d->uid)
		return ((st->st_mode >> 6) & need) == need;
	if (user_in_group(d, st->st_gid))
		return ((st->st_mode >> 3) & need) == need;
	return (st->st_mode & need) == need;
}

/* "user:group" of st, by name where there is one, into buf.  Returns buf. */
static char *
owner_str(char *buf, size_t bufsz, const struct stat *st)
{
	struct passwd	*pw = getpwuid(st->st_uid);
	struct group	*gr = getgrgid(st->st_gid);
	char		 u[32], g[32];

	snprintf(u, sizeof(u), "%lu", (unsigned long)st->st_uid);
	snprintf(g, sizeof(g), "%lu", (unsigned long)st->st_gid);
	snprintf(buf, bufsz, "%s:%s", pw != NULL ? pw->pw_name : u,
	    gr != NULL ? gr->gr_name : g);
	return buf;
}

/*
 * The commands that give the file st at "path" the layout stripe-sync
 * expects (see deploy/README.md, section 3), as one line.  A file the
 * workers read is either theirs, 0600, or root's (anyone's but theirs)
 * in their group, 0640; the database and its directory are theirs, 0600
 * and 0700.  Returns an allocated string the caller frees, NULL on
 * memory failure.
 */
static char *
file_fix(const struct doctor *d, const char *path, const struct stat *st,
    enum fkind kind)
{
	unsigned int	 want;
	char		*own = NULL, *fix;

	if (kind == FK_READ && (!d->have_user || st->st_uid == d->uid))
		want = 0600;
	else if (kind == FK_READ) {
		want = 0640;
		if (st->st_gid != d->gid)
			own = str_printf("chgrp %s %s", d->group, path);
	} else {
		want = kind == FK_DIR ? 0700 : 0600;
		if (d->have_user && st->st_uid != d->uid)
			own = str_printf("chown %s:%s %s", d->user, d->group,
			    path);
	}
	if ((st->st_mode & 0777) == want && own != NULL)
		return own;
	fix = str_printf("%s%schmod %o %s", own != NULL ? own : "",
	    own != NULL ? " && " : "", want, path);
	free(own);
	return fix;
}

/*
 * Check the owner and permission bits of the file "path", described as
 * "what", which the workers use as kind says: FAIL if others may read or
 * write it, or its group may write it, or (for the database) read it, or
 * if the workers' user cannot use it (a secret file they cannot read is
 * a warning: systemd may be passing it as a credential).  Prints one
 * finding naming the owner and mode, with the chown/chmod that fix it.
 */
static void
doctor_mode(struct doctor *d, const char *what, const char *path,
    enum fkind kind, int secret)
{
	struct stat	 st;
	const char	*why = NULL;
	char		 owner[160], whybuf[256], *fix;
	unsigned int	 m;
	enum sev	 sev = SEV_FAIL;

	if (stat(path, &st) == -1) {
		finding(d, SEV_FAIL, "%s %s: %s; fix: check the path",
		    what, path, strerror(errno));
		return;
	}
	m = st.st_mode & 07777;
	owner_str(owner, sizeof(owner), &st);
	if (m & S_IROTH)
		why = "readable by others";
	else if (m & S_IWOTH)
		why = "writable by others";
	else if (m & S_IWGRP)
		why = "writable by its group";
	else if (kind != FK_READ && (m & S_IRGRP))
		why = "readable by its group";
	else if (d->have_user && !user_can(d, &st, kind)) {
		snprintf(whybuf, sizeof(whybuf), kind == FK_READ ?
		    "the workers' user %s cannot read it%s" :
		    "the workers' user %s cannot write it (the workers "
		    "would exit 6)", d->user, secret ? " (fine only if "
		    "systemd passes it to them with LoadCredential=)" : "");
		why = whybuf;
		if (secret)
			sev = SEV_WARN;
		fix = file_fix(d, path, &st, kind);
		finding(d, sev, "%s %s mode %04o owner %s: %s; fix: %s",
		    what, path, m, owner, why, fix != NULL ? fix :
		    "(out of memory)");
		free(fix);
		return;
	}
	if (why == NULL) {
		finding(d, SEV_OK, "%s %s mode %04o owner %s", what, path, m,
		    owner);
		return;
	}
	fix = file_fix(d, path, &st, kind);
	finding(d, SEV_FAIL, "%s %s mode %04o owner %s: %s; fix: %s", what,
	    path, m, owner, why, fix != NULL ? fix : "(out of memory)");
	free(fix);
}

/*
 * The value of "key" in the configuration file "path", which conf_load()
 * has just accepted (so every line is a comment, blank or "key = value").
 * Used for the <secret>_file keys only, whose values are paths, not
 * secrets; the file itself holds secrets, so it is read with read(2) into
 * a buffer that is wiped.  Returns an allocated string the caller frees,
 * or NULL if the key is not set (or on failure).
 */
static char *
conf_file_value(const char *path, const char *key)
{
	char		*buf, *line, *next, *eq, *k, *v, *e, *val = NULL;
	size_t		 len = 0, cap = 65536;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if ((buf = malloc(cap + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (len < cap && ((n = read(fd, buf + len, cap - len)) > 0 ||
	    (n == -1 && errno == EINTR)))
		if (n > 0)
			len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	for (line = buf; line != NULL && val == NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if ((eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		for (k = line; *k == ' ' || *k == '\t'; k++)
			continue;
		for (e = eq; e > k && strchr(" \t\r\f\v", e[-1]) != NULL; e--)
			continue;
		*e = '\0';
		if (strcmp(k, key) != 0)
			continue;
		for (v = eq + 1; *v != '\0' && strchr(" \t\r\f\v", *v) != NULL;
		    v++)
			continue;
		for (e = v + strlen(v); e > v &&
		    strchr(" \t\r\f\v", e[-1]) != NULL; e--)
			continue;
		val = strndup(v, (size_t)(e - v));
	}
	crypto_wipe(buf, cap + 1);
	free(buf);
	return val;
}

/* The secrets that may be given as <key>_file. */
static const char *const doctor_secret_keys[] = {
	"master_key", "old_master_keys", "session_secret", "callback_secret",
	NULL
};

/*
 * Check that no secret file named by <key>_file is readable by others.
 * Which file conf_load() read follows its rules: the environment
 * (STRIPE_SYNC_<KEY>_FILE, or STRIPE_SYNC_<KEY> which replaces both
 * forms) wins over the file.  struct conf keeps only the values, so the
 * paths are looked up again here.
 */
static void
doctor_secret_files(struct doctor *d)
{
	char		 env[48], fenv[64], what[64], *path;
	const char	*e;
	size_t		 i, j;

	for (i = 0; doctor_secret_keys[i] != NULL; i++) {
		snprintf(env, sizeof(env), "STRIPE_SYNC_%s",
		    doctor_secret_keys[i]);
		for (j = 0; env[j] != '\0'; j++)
			if (env[j] >= 'a' && env[j] <= 'z')
				env[j] = (char)(env[j] - 'a' + 'A');
		snprintf(fenv, sizeof(fenv), "%s_FILE", env);
		snprintf(what, sizeof(what), "%s_file",
		    doctor_secret_keys[i]);
		path = NULL;
		if ((e = getenv(fenv)) != NULL && *e != '\0')
			path = strdup(e);
		else if (getenv(env) == NULL && d->c->cf.path != NULL)
			path = conf_file_value(d->c->cf.path, what);
		if (path == NULL)
			continue;
		doctor_mode(d, what, path, FK_READ, 1);
		free(path);
	}
}

/*
 * The directory of path, allocated (the caller frees), NULL on memory
 * failure.
 */
static char *
dir_of(const char *path)
{
	char	*dir, *slash;

	if ((dir = strdup(path)) == NULL)
		return NULL;
	if ((slash = strrchr(dir, '/')) == NULL)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	return dir;
}

/*
 * Settle whose files these should be: the user the workers run as,
 * --user, else the owner of the database's directory (unless that is
 * root and allow_root is off: the workers refuse root), else
 * "stripe-sync".  Prints one finding; d->have_user says whether the
 * ownership checks can run.
 */
static void
doctor_user(struct doctor *d)
{
	const struct conf	*cf = &d->c->cf;
	struct passwd		*pw = NULL;
	struct group		*gr;
	struct stat		 st;
	const char		*how, *name = d->user_opt;
	char			*dir;
	int			 n = DOCTOR_MAXGROUPS;

	if (name != NULL) {
		how = "--user";
		pw = getpwnam(name);
	} else {
		name = "stripe-sync";
		how = "the default; --user names another";
		if ((dir = dir_of(cf->db_path)) != NULL &&
		    stat(dir, &st) == 0 && (st.st_uid != 0 || cf->allow_root) &&
		    (pw = getpwuid(st.st_uid)) != NULL)
			how = "the owner of the database directory; --user "
			    "names another";
		else
			pw = getpwnam(name);
		free(dir);
	}
	if (pw == NULL) {
		finding(d, d->user_opt != NULL ? SEV_FAIL : SEV_WARN,
		    "workers' user %s (%s): no such user, so the owners of "
		    "the files were not checked; fix: create it (adduser "
		    "--system --group --no-create-home stripe-sync) or name "
		    "the workers' user with --user", name, how);
		return;
	}
	d->have_user = 1;
	d->uid = pw->pw_uid;
	d->gid = pw->pw_gid;
	snprintf(d->user, sizeof(d->user), "%s", pw->pw_name);
	if ((gr = getgrgid(pw->pw_gid)) != NULL)
		snprintf(d->group, sizeof(d->group), "%s", gr->gr_name);
	else
		snprintf(d->group, sizeof(d->group), "%lu",
		    (unsigned long)pw->pw_gid);
	if (getgrouplist(d->user, d->gid, d->groups, &n) == -1)
		n = 0;
	d->ngroups = n;
	if (d->uid == 0 && !cf->allow_root)
		finding(d, SEV_FAIL, "workers' user root (%s): the workers "
		    "refuse to run as root; fix: run them as their own user "
		    "(deploy/README.md, section 2) and name it with --user",
		    how);
	else
		finding(d, SEV_OK, "workers' user %s, group %s (%s)", d->user,
		    d->group, how);
	if (geteuid() == 0 && d->uid != 0)
		d->ctl_as = str_printf("runuser -u %s -- %s", d->user, d->ctl);
}

/*
 * Load the configuration (without ctl_load(): its message goes to the
 * report, as a FAIL line), settle the workers' user and check the owners
 * and modes of the configuration file and secret files.  Returns CTL_OK,
 * or CTL_CONFIG if it is invalid.
 */
static int
doctor_config(struct doctor *d)
{
	struct ctl	*c = d->c;
	char		 err[512];

	err[0] = '\0';
	if (!conf_load(&c->cf, c->conf_file, c->conf_explicit,
	    err, sizeof(err))) {
		if (strncmp(err, CONF_ERR_NONE, strlen(CONF_ERR_NONE)) == 0)
			finding(d, SEV_FAIL, "config: %s; fix: write one with "
			    "\"%s init --portal-url URL FILE\" and name it with "
			    "-c FILE (or $STRIPE_SYNC_CONF)", err, PROGNAME);
		else
			finding(d, SEV_FAIL, "config: %s; fix: correct that "
			    "key in %s or the environment (see "
			    "stripe-sync.conf(5))", err[0] != '\0' ? err :
			    "invalid", c->conf_file);
		return CTL_CONFIG;
	}
	c->cf_loaded = 1;
	if (c->cf.path == NULL)
		finding(d, SEV_OK, "config: environment only (no file at %s) "
		    "is valid", c->conf_file);
	else
		finding(d, SEV_OK, "config: %s is valid", c->cf.path);
	doctor_user(d);
	if (c->cf.path != NULL)
		doctor_mode(d, "config file", c->cf.path, FK_READ, 0);
	doctor_secret_files(d);
	return CTL_OK;
}

/*
 * Number of distinct byte values in p[0..len).
 */
static size_t
distinct_bytes(const unsigned char *p, size_t len)
{
	unsigned char	 seen[256];
	size_t		 i, n = 0;

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < len; i++)
		if (!seen[p[i]]) {
			seen[p[i]] = 1;
			n++;
		}
	return n;
}

/* Words that mark a secret copied from an example, not generated. */
static const char *const placeholder_words[] = {
	"changeme", "change-me", "change_me", "example", "secret",
	"password", "placeholder", NULL
};

/*
 * Does the secret s[0..len) look like a placeholder: a placeholder word
 * (any case) or fewer than DOCTOR_DISTINCT_MIN distinct characters?  The
 * reason goes into *why, never the word itself.  Returns 1 if so.
 */
static int
secret_weak(const char *s, size_t len, const char **why)
{
	size_t	 i;

	for (i = 0; placeholder_words[i] != NULL; i++)
		if (strcasestr(s, placeholder_words[i]) != NULL) {
			*why = "contains a placeholder word such as "
			    "\"changeme\", \"example\" or \"secret\"";
			return 1;
		}
	if (distinct_bytes((const unsigned char *)s, len) <
	    DOCTOR_DISTINCT_MIN) {
		*why = "has fewer than 8 distinct characters";
		return 1;
	}
	return 0;
}

/*
 * Secrets conf_load() accepts but a person would not choose: the same
 * value for session_secret and callback_secret, placeholder-looking
 * values, master keys of few distinct bytes.  Warnings only.
 */
static void
doctor_secrets(struct doctor *d)
{
	const struct conf	*cf = &d->c->cf;
	const char		*why;
	size_t			 i;
	int			 warned = 0;

	if (crypto_equal(cf->session_secret, cf->session_secret_len,
	    cf->callback_secret, strlen(cf->callback_secret))) {
		finding(d, SEV_WARN, "secrets: session_secret and "
		    "callback_secret are the same value; fix: give each its "
		    "own, e.g. from: openssl rand -base64 36 | tr '+/' '-_'");
		warned = 1;
	}
	if (secret_weak(cf->session_secret, cf->session_secret_len, &why)) {
		finding(d, SEV_WARN, "secrets: session_secret %s; fix: "
		    "replace it with: openssl rand -base64 36", why);
		warned = 1;
	}
	if (secret_weak(cf->callback_secret, strlen(cf->callback_secret),
	    &why)) {
		finding(d, SEV_WARN, "secrets: callback_secret %s; fix: "
		    "replace it with: openssl rand -base64 36 | tr '+/' '-_' "
		    "(and register the new callback and portal URLs in "
		    "Blnk Cloud)", why);
		warned = 1;
	}
	for (i = 0; i < cf->nkeys; i++)
		if (distinct_bytes(cf->keys[i].key, CONF_KEYLEN) <
		    DOCTOR_DISTINCT_MIN) {
			finding(d, SEV_WARN, "secrets: %s key %s has fewer "
			    "than 8 distinct bytes; fix: generate keys with: "
			    "openssl rand -base64 32 (then rotate-keys)",
			    i == 0 ? "master_key" : "old_master_keys",
			    cf->keys[i].id);
			warned = 1;
		}
	if (!warned)
		finding(d, SEV_OK, "secrets: distinct, no placeholder values");
}

/* --- doctor: database --- */

/*
 * The directory holding the database: SQLite creates its journal (or
 * -wal and -shm) files there, so the workers' user must be able to
 * create files in it; warn too if it is not writable by its owner.
 */
static void
doctor_db_dir(struct doctor *d, const char *path)
{
	struct stat	 st;
	char		*dir, *fix, owner[160];
	unsigned int	 m;

	if ((dir = dir_of(path)) == NULL) {
		finding(d, SEV_FAIL, "database directory: out of memory");
		return;
	}
	if (stat(dir, &st) == -1) {
		if (d->have_user)
			finding(d, SEV_WARN, "database directory %s: %s; fix: "
			    "install -d -m 0700 -o %s -g %s %s", dir,
			    strerror(errno), d->user, d->group, dir);
		else
			finding(d, SEV_WARN, "database directory %s: %s; fix: "
			    "mkdir -p %s, owned by the workers' user", dir,
			    strerror(errno), dir);
		free(dir);
		return;
	}
	m = st.st_mode & 07777;
	owner_str(owner, sizeof(owner), &st);
	if (d->have_user && !user_can(d, &st, FK_DIR)) {
		fix = file_fix(d, dir, &st, FK_DIR);
		finding(d, SEV_FAIL, "database directory %s mode %04o owner "
		    "%s: the workers' user %s cannot create SQLite's journal "
		    "files there (the workers would exit 6); fix: %s", dir, m,
		    owner, d->user, fix != NULL ? fix : "(out of memory)");
		free(fix);
	} else if (!(st.st_mode & S_IWUSR))
		finding(d, SEV_WARN, "database directory %s mode %04o owner "
		    "%s: not writable by its owner, SQLite cannot create its "
		    "journal files there; fix: chmod u+w %s", dir, m, owner,
		    dir);
	else
		finding(d, SEV_OK, "database directory %s writable by its "
		    "owner (mode %04o owner %s)", dir, m, owner);
	free(dir);
}

/*
 * The database: it exists, opens, answers and is at this binary's schema
 * version; its mode; its directory; the journal mode.
 */
static void
doctor_db(struct doctor *d)
{
	const char	*path = d->c->cf.db_path;
	char		 err[512];
	struct stat	 st;
	struct db	*db;
	int		 have, want = db_schema_latest();

	if (stat(path, &st) == -1) {
		finding(d, SEV_FAIL, "database %s: %s; fix: run \"%s migrate\"",
		    path, strerror(errno), d->ctl_as != NULL ? d->ctl_as :
		    d->ctl);
		doctor_db_dir(d, path);
		return;
	}
	doctor_mode(d, "database", path, FK_WRITE, 0);

	/* The file exists, so DB_MIGRATE creates nothing. */
	err[0] = '\0';
	if ((db = db_open(path, DB_MIGRATE, err, sizeof(err))) == NULL)
		finding(d, SEV_FAIL, "%s; fix: check the file is the "
		    "stripe-sync database and readable by this user",
		    err[0] != '\0' ? err : "database: cannot open");
	else if ((have = db_schema_version(db)) < 0)
		finding(d, SEV_FAIL, "database %s: %s; fix: check the file "
		    "is the stripe-sync database", path, db_errmsg(db));
	else if (have < want)
		finding(d, SEV_FAIL, "database %s: schema version %d, this "
		    "binary needs %d; fix: run \"%s migrate\"", path, have,
		    want, d->ctl_as != NULL ? d->ctl_as : d->ctl);
	else if (have > want)
		finding(d, SEV_FAIL, "database %s: schema version %d is newer "
		    "than this binary's %d; fix: upgrade stripe-sync (all "
		    "binaries together)", path, have, want);
	else if (!db_ping(db))
		finding(d, SEV_FAIL, "database %s: %s; fix: check the file "
		    "is the stripe-sync database", path, db_errmsg(db));
	else
		finding(d, SEV_OK, "database %s: reachable, schema version %d "
		    "(current)", path, have);
	db_close(db);
	doctor_db_dir(d, path);

	if (strcmp(db_journal_mode(), "wal") == 0)
		finding(d, SEV_OK, "journal mode wal");
	else
		finding(d, SEV_OK, "journal mode %s: this SQLite lacks the "
		    "WAL-reset fix", db_journal_mode());
}

/* doctor: check the deployment, one finding per line. */
int
cmd_doctor(struct ctl *c, const struct cmd *me, int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "url",	required_argument,	NULL, 'u' },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "user",	required_argument,	NULL, 'U' },
		{ "help",	no_argument,		NULL, 'h' },
		{ NULL,		0,			NULL, 0 }
	};
	struct doctor	 d;
	CURLU		*base = NULL;
	const char	*url = NULL;
	char		*end;
	int		 ch, rc, first = 1;

	memset(&d, 0, sizeof(d));
	d.c = c;
	d.timeout = DOCTOR_TIMEOUT;
	while ((ch = cmd_getopt(argc, argv, "u:t:U:h", lopts, &first)) != -1) {
		switch (ch) {
		case 'u':
			url = optarg;
			break;
		case 'U':
			if (*optarg == '\0') {
				fprintf(stderr, "%s: doctor: --user needs a "
				    "user name\n", PROGNAME);
				return CTL_USAGE;
			}
			d.user_opt = optarg;
			break;
		case 't':
			errno = 0;
			d.timeout = strtol(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end != '\0' ||
			    errno != 0 || d.timeout < 1 ||
			    d.timeout > DOCTOR_TIMEOUT_MAX) {
				fprintf(stderr, "%s: doctor: --timeout must be "
				    "a whole number of seconds from 1 to %d\n",
				    PROGNAME, DOCTOR_TIMEOUT_MAX);
				return CTL_USAGE;
			}
			break;
		default:
			if ((rc = cmd_common_opt(me, ch)) == -1)
				rc = cmd_common_opt(me, '?');
			return rc;
		}
	}
	if (optind != argc) {
		cmd_usage(stderr, me, 0);
		return CTL_USAGE;
	}
	if (url != NULL && (base = doctor_base(url)) == NULL) {
		fprintf(stderr, "%s: doctor: --url must be an https URL (http "
		    "only for a loopback host) without user, password, query "
		    "or fragment\n", PROGNAME);
		return CTL_USAGE;
	}
	d.ctl = c->conf_explicit ?
	    str_printf("%s -c %s", PROGNAME, c->conf_file) : strdup(PROGNAME);
	if (d.ctl == NULL) {
		fprintf(stderr, "%s: out of memory\n", PROGNAME);
		curl_url_cleanup(base);
		return CTL_FAIL;
	}

	if ((rc = doctor_config(&d)) != CTL_OK)
		goto out;
	doctor_secrets(&d);
	doctor_db(&d);
	doctor_keys(&d);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		finding(&d, SEV_FAIL, "libcurl: cannot initialise; nothing "
		    "over the network was checked");
	} else {
		doctor_reach(&d, "cloud_api_url", c->cf.cloud_api_url);
		doctor_reach(&d, "stripe_api_url", c->cf.stripe_api_url);
		if (base != NULL)
			doctor_site(&d, base);
		else
			finding(&d, SEV_WARN, "no --url given: portal, health "
			    "and callback route not checked");
		curl_global_cleanup();
	}
	rc = d.nfail > 0 ? CTL_FAIL : CTL_OK;
out:
	curl_url_cleanup(base);
	free(d.ctl);
	free(d.ctl_as);
	return rc;
}
