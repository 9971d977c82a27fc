/*
 * syncd.c: stripe-syncd, the job runner.
 *
 * It will claim queued sync runs from the database with a lease and run
 * them, resuming from a stored cursor after a crash.  This version has no
 * job kinds yet: it validates the configuration and the database, says
 * plainly that it has nothing to run, and idles until SIGTERM, SIGINT or
 * SIGQUIT, checking every 30 seconds that the database is still usable.
 * SIGHUP reloads the configuration.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "db.h"
#include "log.h"
#include "proc.h"

#define PROGNAME	"stripe-syncd"
#define PING_INTERVAL	30	/* seconds between database checks */

/* Exit statuses shared by all three binaries (see the man pages). */
enum exitcode {
	EXIT_OK = 0,		/* success */
	EXIT_RUNTIME = 1,	/* runtime failure */
	EXIT_USAGE = 2,		/* usage error */
	EXIT_CONFIG = 3,	/* configuration invalid */
	EXIT_NOTFOUND = 4,	/* not found */
	EXIT_SCHEMA = 5,	/* database schema mismatch */
	EXIT_DB_FAULT = 6,	/* database unwritable, moved or replaced */
};

static volatile sig_atomic_t	 got_stop;
static volatile sig_atomic_t	 got_alarm;
static volatile sig_atomic_t	 got_hup;

/* SIGTERM, SIGINT, SIGQUIT: ask the idle loop to stop. */
static void
on_stop(int sig)
{
	(void)sig;
	got_stop = 1;
}

/* SIGALRM: time for the periodic database check. */
static void
on_alarm(int sig)
{
	(void)sig;
	got_alarm = 1;
}

/* SIGHUP: ask the idle loop to reload the configuration. */
static void
on_hup(int sig)
{
	(void)sig;
	got_hup = 1;
}

/* Print the usage summary to f. */
static void
usage(FILE *f)
{
	fprintf(f, "usage: %s [-hV] [--check] [-c file]\n"
	    "  -c, --config file  configuration file\n"
	    "      --check        validate configuration and database, "
	    "then exit\n"
	    "  -h, --help         show this help\n"
	    "  -V, --version      show the version\n", PROGNAME);
}

/*
 * Install the handlers for SIGTERM, SIGINT, SIGQUIT, SIGHUP and SIGALRM
 * (without SA_RESTART) and block those signals, so they are only
 * delivered inside sigsuspend().  The mask to wait with goes into
 * *waitmask.  Returns 1 on success, 0 on failure (errno set).
 */
static int
signals_setup(sigset_t *waitmask)
{
	struct sigaction	 sa;
	sigset_t		 block;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	sa.sa_handler = on_stop;
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGQUIT, &sa, NULL) == -1)
		return 0;
	sa.sa_handler = on_hup;
	if (sigaction(SIGHUP, &sa, NULL) == -1)
		return 0;
	sa.sa_handler = on_alarm;
	if (sigaction(SIGALRM, &sa, NULL) == -1)
		return 0;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGQUIT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGALRM);
	if (sigprocmask(SIG_BLOCK, &block, waitmask) == -1)
		return 0;
	sigdelset(waitmask, SIGTERM);
	sigdelset(waitmask, SIGINT);
	sigdelset(waitmask, SIGQUIT);
	sigdelset(waitmask, SIGHUP);
	sigdelset(waitmask, SIGALRM);
	return 1;
}

/*
 * SIGHUP: read path again.  A configuration that does not validate, would
 * have us run as root unasked, or names a db_path that cannot be served is
 * logged and changes nothing.  A good one replaces *cf, the log is opened
 * again as it says, and the database too if db_path changed (*db then is
 * the new connection).
 */
static void
reload(struct conf *cf, struct db **db, const char *path, int must_exist)
{
	struct conf	 ncf;
	struct db	*ndb = NULL;
	enum db_fault	 fault;
	char		 err[512];
	int		 newdb;

	if (!conf_load(&ncf, path, must_exist, err, sizeof(err))) {
		log_error("reload: configuration %s refused, nothing changed: "
		    "%s", path, err);
		return;
	}
	if (!proc_lockdown(&ncf, PROGNAME, err, sizeof(err))) {
		log_error("reload: configuration %s refused, nothing changed: "
		    "%s", path, err);
		conf_free(&ncf);
		return;
	}
	newdb = strcmp(ncf.db_path, cf->db_path) != 0;
	if (newdb && (ndb = db_connect(ncf.db_path, DB_SERVE, &fault, err,
	    sizeof(err))) == NULL) {
		log_error("reload: configuration %s refused, nothing changed: "
		    "%s", path, err);
		conf_free(&ncf);
		return;
	}
	if (newdb) {
		db_close(*db);
		*db = ndb;
	}
	conf_free(cf);
	*cf = ncf;
	log_init(PROGNAME, cf->log_file, cf->log_level);
	log_info("reload: configuration %s loaded%s", path,
	    newdb ? "; database reopened" : "");
}

/*
 * Wait for SIGTERM, SIGINT or SIGQUIT, checking the database every
 * PING_INTERVAL seconds and reloading the configuration on SIGHUP (see
 * reload(); *cf and *db may change).  A failing check is logged once when the database becomes
 * unusable and once when it recovers.  A database deleted or replaced
 * under us cannot recover on this connection: returns EXIT_DB_FAULT then
 * (the service manager starts us again on the current file), else
 * EXIT_OK once told to stop.
 */
static int
idle(struct conf *cf, struct db **db, const char *path, int must_exist,
    const sigset_t *waitmask)
{
	enum db_fault	 f;
	int		 healthy = 1;

	alarm(PING_INTERVAL);
	while (!got_stop) {
		sigsuspend(waitmask);
		if (got_stop)
			break;
		if (got_hup) {
			got_hup = 0;
			reload(cf, db, path, must_exist);
		}
		if (!got_alarm)
			continue;
		got_alarm = 0;
		if ((f = db_check(*db)) == DB_FAULT_MOVED) {
			log_error("the database file was deleted or replaced "
			    "since %s opened it: exiting so that a restart "
			    "opens the current file", PROGNAME);
			alarm(0);
			return EXIT_DB_FAULT;
		}
		if (f != DB_FAULT_NONE) {
			if (healthy)
				log_error("database became unusable (%s): %s",
				    db_fault_names[f], db_errmsg(*db));
			healthy = 0;
		} else if (!healthy) {
			log_info("database usable again");
			healthy = 1;
		}
		alarm(PING_INTERVAL);
	}
	alarm(0);
	return EXIT_OK;
}

/*
 * Parse options, load the configuration, open the log and the database,
 * then idle until told to stop.  Returns one of enum exitcode.
 */
int
main(int argc, char *argv[])
{
	static const struct option	 longopts[] = {
		{ "config",	required_argument,	NULL, 'c' },
		{ "check",	no_argument,		NULL, 'k' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "version",	no_argument,		NULL, 'V' },
		{ NULL,		0,			NULL, 0 },
	};
	struct conf	 cf;
	struct db	*db = NULL;
	const char	*opt_config = NULL, *env, *path;
	char		 err[512];
	sigset_t	 waitmask;
	enum db_fault	 fault;
	int		 c, check = 0, must_exist, have_conf = 0;
	int		 rc = EXIT_RUNTIME;

	while ((c = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1)
		switch (c) {
		case 'c':
			opt_config = optarg;
			break;
		case 'k':
			check = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("%s %s\n", PROGNAME, PACKAGE_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument: %s\n",
		    PROGNAME, argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (opt_config != NULL && *opt_config == '\0') {
		fprintf(stderr, "%s: --config needs a file name\n", PROGNAME);
		return EXIT_USAGE;
	}

	/* A path the operator named must exist; the default may not. */
	env = getenv("STRIPE_SYNC_CONF");
	must_exist = opt_config != NULL || (env != NULL && *env != '\0');
	path = conf_path(opt_config);
	if (!conf_load(&cf, path, must_exist, err, sizeof(err))) {
		fprintf(stderr, "%s: configuration: %s\n", PROGNAME, err);
		return EXIT_CONFIG;
	}
	have_conf = 1;

	log_init(PROGNAME, cf.log_file, cf.log_level);
	if (!proc_lockdown(&cf, PROGNAME, err, sizeof(err))) {
		log_error("%s", err);
		fprintf(stderr, "%s: %s\n", PROGNAME, err);
		goto out;
	}

	if ((db = db_connect(cf.db_path, DB_SERVE, &fault, err,
	    sizeof(err))) == NULL) {
		rc = fault == DB_FAULT_MISSING || fault == DB_FAULT_SCHEMA ?
		    EXIT_SCHEMA : fault == DB_FAULT_READONLY ||
		    fault == DB_FAULT_MOVED ? EXIT_DB_FAULT : EXIT_RUNTIME;
		log_error("%s", err);
		fprintf(stderr, "%s: %s\n", PROGNAME, err);
		goto out;
	}

	if (check) {
		printf("%s: configuration and database OK\n", PROGNAME);
		rc = EXIT_OK;
		goto out;
	}

	if (!signals_setup(&waitmask)) {
		log_error("signal setup: %s", strerror(errno));
		goto out;
	}

	log_info("%s ready: no job kinds in this version (sync runs arrive "
	    "with the sync issue); idle", PROGNAME);
	rc = idle(&cf, &db, path, must_exist, &waitmask);
	log_info("%s stopping", PROGNAME);
out:
	if (db != NULL)
		db_close(db);
	if (have_conf)
		conf_free(&cf);
	log_close();
	return rc;
}
