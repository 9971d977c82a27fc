/*
 * syncd.c: stripe-syncd, the job runner.
 *
 * It claims queued sync runs from the database with a lease and runs them
 * (sync.c), one at a time; several stripe-syncd may run against the same
 * database, each claiming its own runs.  Between runs it looks for work
 * every second, queues the runs schedules and Stripe's webhooks
 * (sync-jobs.c) ask for, flags in Cloud the problems the runs noted
 * (alerts.c), and checks every 30 seconds that the database is still
 * usable.  SIGTERM, SIGINT or SIGQUIT stop it: a
 * run in progress stops at its next step and gives its lease up, so
 * another runner (or this one, restarted) continues it at once.  SIGHUP
 * reloads the configuration between runs.  Signals are blocked and
 * taken with sigtimedwait(), so none is lost while a call is under way.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alerts.h"
#include "cloud.h"
#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "proc.h"
#include "sandbox.h"
#include "stripe.h"
#include "sync.h"
#include "util.h"
#include "webhook.h"

#define PROGNAME	"stripe-syncd"
#define PING_INTERVAL	30	/* seconds between database checks */
#define SCHEDULE_INTERVAL 10	/* seconds between looks at schedules */
#define POLL_MS		500	/* between looks for queued runs */

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

/* What the signals asked for, taken with sigtimedwait(). */
struct runner {
	sigset_t	 sigs;		/* TERM, INT, QUIT, HUP: blocked */
	int		 stop;
	int		 hup;
};

/* Note signal sig. */
static void
took(struct runner *d, int sig)
{
	if (sig == SIGHUP)
		d->hup = 1;
	else if (sig > 0)
		d->stop = 1;
}

/* Wait up to ms for one of our signals; returns 1 if told to stop. */
static int
runner_sleep(long ms, void *arg)
{
	struct runner	*d = arg;
	struct timespec	 ts;
	double		 end = util_monotonic_ms() + (double)ms, left;
	int		 sig;

	while (!d->stop && (left = end - util_monotonic_ms()) > 0) {
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)((left - (double)ts.tv_sec * 1000) * 1e6);
		sig = sigtimedwait(&d->sigs, NULL, &ts);
		if (sig > 0)
			took(d, sig);
		else if (errno != EINTR)
			break;
	}
	return d->stop;
}

/* Has a stop been asked for?  (Takes any pending signal.) */
static int
runner_stopping(void *arg)
{
	struct runner	*d = arg;
	struct timespec	 zero = { 0, 0 };
	int		 sig;

	while ((sig = sigtimedwait(&d->sigs, NULL, &zero)) > 0)
		took(d, sig);
	return d->stop;
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

/* Block the signals we take with sigtimedwait().  1, or 0 (errno). */
static int
signals_setup(struct runner *d)
{
	sigemptyset(&d->sigs);
	sigaddset(&d->sigs, SIGTERM);
	sigaddset(&d->sigs, SIGINT);
	sigaddset(&d->sigs, SIGQUIT);
	sigaddset(&d->sigs, SIGHUP);
	return sigprocmask(SIG_BLOCK, &d->sigs, NULL) == 0;
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

/* The runner's id in leases: host, pid and a random tag. */
static void
owner_id(char *buf, size_t bufsz)
{
	unsigned char	 r[4];
	char		 host[32];

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "host");
	host[sizeof(host) - 1] = '\0';
	crypto_random(r, sizeof(r));
	snprintf(buf, bufsz, "%s:%ld:%02x%02x%02x%02x", host, (long)getpid(),
	    r[0], r[1], r[2], r[3]);
}

/* (Re)make the Cloud and Stripe clients from the configuration. */
static int
clients(struct sync_ctx *x, const struct conf *cf)
{
	cloud_free(x->cloud);
	stripe_free(x->stripe);
	x->cloud = cloud_new(cf);
	x->stripe = stripe_new(cf);
	return x->cloud != NULL && x->stripe != NULL;
}

/*
 * Run sync runs until SIGTERM, SIGINT or SIGQUIT, reloading on SIGHUP
 * (*cf and *db may change), queueing scheduled runs, and checking the
 * database every PING_INTERVAL seconds.  A database deleted or replaced
 * under us cannot recover on this connection: returns EXIT_DB_FAULT then
 * (the service manager starts us again on the current file), else
 * EXIT_OK once told to stop.
 */
static int
serve(struct conf *cf, struct db **db, const char *path, int must_exist,
    struct runner *d)
{
	struct sync_ctx	 x;
	enum db_fault	 f;
	double		 next_ping, next_sched, now;
	int		 healthy = 1, rc = EXIT_OK, worked;

	memset(&x, 0, sizeof(x));
	x.cf = cf;
	x.db = *db;
	x.sleep_ms = runner_sleep;
	x.stopping = runner_stopping;
	x.arg = d;
	owner_id(x.owner, sizeof(x.owner));
	if (!clients(&x, cf)) {
		log_error("cannot make the Cloud and Stripe clients");
		rc = EXIT_RUNTIME;
		goto out;
	}
	next_ping = util_monotonic_ms() + PING_INTERVAL * 1000.0;
	next_sched = 0;
	while (!runner_stopping(d)) {
		if (d->hup) {
			d->hup = 0;
			reload(cf, db, path, must_exist);
			x.db = *db;
			if (!clients(&x, cf)) {
				log_error("cannot make the Cloud and Stripe "
				    "clients");
				rc = EXIT_RUNTIME;
				break;
			}
		}
		now = util_monotonic_ms();
		if (now >= next_ping) {
			next_ping = now + PING_INTERVAL * 1000.0;
			if ((f = db_check(*db)) == DB_FAULT_MOVED) {
				log_error("the database file was deleted or "
				    "replaced since %s opened it: exiting so "
				    "that a restart opens the current file",
				    PROGNAME);
				rc = EXIT_DB_FAULT;
				break;
			}
			if (f != DB_FAULT_NONE) {
				if (healthy)
					log_error("database became unusable "
					    "(%s): %s", db_fault_names[f],
					    db_errmsg(*db));
				healthy = 0;
			} else if (!healthy) {
				log_info("database usable again");
				healthy = 1;
			}
		}
		if (now >= next_sched) {
			next_sched = now + SCHEDULE_INTERVAL * 1000.0;
			if (sync_schedule(&x) < 0)
				log_error("schedules: %s", db_errmsg(*db));
		}
		/* Jobs Stripe's events asked for, once due (a read when
		 * nothing is). */
		if (sync_jobs(*db, util_now()) < 0)
			log_error("webhook jobs: %s", db_errmsg(*db));
		worked = sync_work(&x);
		if (worked < 0)
			log_error("sync: database error: %s", db_errmsg(*db));
		/* Problems to flag in Cloud: after each job, and on an idle
		 * poll (a read without the write lock first: most find
		 * nothing). */
		if (worked >= 0 && !runner_stopping(d) && alerts_flush(&x) < 0)
			log_error("alerts: database error: %s", db_errmsg(*db));
		if (worked != 1)
			runner_sleep(worked < 0 ? 1000 : POLL_MS, d);
	}
out:
	if (x.cloud_calls > 0 || x.stripe_calls > 0)
		log_info("calls made: %ld to Blnk Cloud, %ld to Stripe",
		    x.cloud_calls, x.stripe_calls);
	cloud_free(x.cloud);
	stripe_free(x.stripe);
	return rc;
}

/*
 * Parse options, load the configuration, open the log and the database,
 * then run sync runs until told to stop.  Returns one of enum exitcode.
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
	struct runner	 d;
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

	memset(&d, 0, sizeof(d));
	if (!signals_setup(&d)) {
		log_error("signal setup: %s", strerror(errno));
		goto out;
	}

	/* The database and the log are open: from here on, only the system
	 * calls and files of sandbox.c. */
	if (!sandbox_enter(&cf, PROGNAME, SANDBOX_RUNNER, err, sizeof(err))) {
		log_error("%s", err);
		fprintf(stderr, "%s: %s\n", PROGNAME, err);
		goto out;
	}
	log_info("%s ready: running sync runs", PROGNAME);
	rc = serve(&cf, &db, path, must_exist, &d);
	log_info("%s stopping", PROGNAME);
out:
	if (db != NULL)
		db_close(db);
	if (have_conf)
		conf_free(&cf);
	log_close();
	return rc;
}
