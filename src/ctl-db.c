/*
 * ctl-db.c: the commands that handle the database as a whole (migrate,
 * backup, restore) or all its secrets (rotate-keys), and ctl_open(), how
 * every command opens it (saying which step to take when the schema is the
 * reason it cannot).  See ctl.h.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "db.h"
#include "log.h"

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
int
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

/*
 * Open the database as migrate does (DB_MIGRATE: created if missing, at
 * any schema), for the commands that change or replace it whole.  Returns
 * the connection, or NULL with the message printed.
 */
static struct db *
ctl_open_any(struct ctl *c)
{
	struct db	*db;
	char		 err[512];

	err[0] = '\0';
	if ((db = db_open(c->cf.db_path, DB_MIGRATE, err, sizeof(err))) ==
	    NULL)
		db_open_failed(c->cf.db_path, err);
	return db;
}

/* --- migrate ---------------------------------------------------------- */

/* migrate: create or upgrade the schema. */
int
cmd_migrate(struct ctl *c, const struct cmd *me, int argc, char **argv)
{
	char		 err[512];
	struct db	*db;
	int		 rc, have, want, applied = 0;

	if ((rc = cmd_noargs(me, argc, argv)) != -1)
		return rc;
	if ((rc = ctl_load(c)) != CTL_OK)
		return rc;

	if ((db = ctl_open_any(c)) == NULL)
		return CTL_FAIL;
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

/* --- backup and restore ----------------------------------------------- */

/* backup FILE */
int
cmd_backup(struct ctl *c, const struct cmd *me, int argc, char **argv)
{
	char		 err[512];
	struct db	*db;
	int		 rc;

	if ((rc = cmd_nargs(me, argc, argv, 1)) != -1)
		return rc;
	if ((rc = ctl_load(c)) != CTL_OK || (rc = ctl_open(c, &db)) != CTL_OK)
		return rc;
	err[0] = '\0';
	rc = db_backup(db, argv[optind], err, sizeof(err));
	db_close(db);
	if (!rc) {
		fprintf(stderr, "%s: %s\n", PROGNAME, err);
		return CTL_FAIL;
	}
	log_info("backup: %s copied to %s", c->cf.db_path, argv[optind]);
	printf("database %s copied to %s\n", c->cf.db_path, argv[optind]);
	return CTL_OK;
}

/* restore FILE: into the live file, then migrate if it was older. */
int
cmd_restore(struct ctl *c, const struct cmd *me, int argc, char **argv)
{
	char		 err[512];
	struct db	*db;
	int		 rc, version, applied = 0;

	if ((rc = cmd_nargs(me, argc, argv, 1)) != -1)
		return rc;
	if ((rc = ctl_load(c)) != CTL_OK)
		return rc;
	/* DB_MIGRATE: the live file may be damaged, missing, or at any
	 * schema; it is about to be replaced. */
	if ((db = ctl_open_any(c)) == NULL)
		return CTL_FAIL;
	if (!db_restore(db, argv[optind], &version, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", PROGNAME, err);
		db_close(db);
		return CTL_FAIL;
	}
	if (!db_migrate(db, &applied, err, sizeof(err))) {
		fprintf(stderr, "%s: restored, but migrate failed: %s\n",
		    PROGNAME, err);
		db_close(db);
		return CTL_FAIL;
	}
	db_close(db);
	log_info("restore: %s restored from %s (schema version %d, applied "
	    "%d migrations)", c->cf.db_path, argv[optind], version, applied);
	printf("database %s restored from %s (schema version %d, applied %d "
	    "migrations)\n", c->cf.db_path, argv[optind], version, applied);
	return CTL_OK;
}

/* --- rotate-keys ------------------------------------------------------ */

const char *
ctl_kid_role(const struct conf *cf, const char *kid)
{
	size_t	 i;

	for (i = 0; i < cf->nkeys; i++)
		if (strcmp(cf->keys[i].id, kid) == 0)
			return i == 0 ? "current" : "old";
	return NULL;
}

#define KIDS_MAX	64

/*
 * Print "WHEN: N secrets sealed under KID (ROLE), ..." for the database.
 * Returns 1, or 0 on a database error (message printed).
 */
static int
print_kids(struct ctl *c, struct db *db, const char *when)
{
	struct kid_count	 k[KIDS_MAX];
	const char		*role;
	size_t			 i, n;

	if (!db_sealed_counts(db, k, KIDS_MAX, &n)) {
		fprintf(stderr, "%s: rotate-keys: %s\n", PROGNAME,
		    db_errmsg(db));
		return 0;
	}
	printf("%s:", when);
	if (n == 0)
		printf(" no sealed secrets");
	for (i = 0; i < n; i++) {
		role = ctl_kid_role(&c->cf, k[i].kid);
		printf("%s %lld sealed under key %s (%s)", i > 0 ? "," : "",
		    (long long)k[i].n, k[i].kid, role == NULL ?
		    "NOT IN THIS CONFIGURATION" : strcmp(role, "current") == 0
		    ? "master_key" : "old_master_keys");
	}
	printf("\n");
	return 1;
}

/* rotate-keys: re-seal everything under keys[0], counting before and
 * after. */
int
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
	if (!print_kids(c, db, "before")) {
		db_close(db);
		return CTL_FAIL;
	}
	err[0] = '\0';
	if (!db_rotate_keys(db, &c->cf, &n, err, sizeof(err))) {
		fprintf(stderr, "%s: rotate-keys: %s (nothing changed)\n",
		    PROGNAME, err[0] != '\0' ? err : db_errmsg(db));
		db_close(db);
		return CTL_FAIL;
	}
	log_info("rotate-keys: re-sealed %zu secrets under key %s",
	    n, c->cf.keys[0].id);
	printf("re-sealed %zu secrets under key %s\n", n, c->cf.keys[0].id);
	rc = print_kids(c, db, "after") ? CTL_OK : CTL_FAIL;
	db_close(db);
	printf("next: run \"%s doctor\": a worker or stripe-syncd that still "
	    "runs the old configuration seals new secrets under the old key; "
	    "drop the old key only once doctor finds every secret under %s\n",
	    PROGNAME, c->cf.keys[0].id);
	return rc;
}
