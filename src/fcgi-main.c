/*
 * fcgi-main.c: stripe-sync.fcgi, one FastCGI worker process.
 *
 * The life of the process: read and validate the whole configuration,
 * open the database (refusing a schema we do not speak), then serve one
 * request at a time with FCGX_Accept_r.  The life of a request: read the
 * parameters and at most BODY_MAX bytes of body, route, write the answer
 * with the headers every response carries, log one line.  Scale by
 * running more processes (spawn-fcgi -F, or systemd instances).
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <fcgiapp.h>

#include "config.h"
#include "cloud.h"
#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "proc.h"
#include "util.h"
#include "valid.h"

#define WORKERS_MAX	256
#define RETRY_MIN_MS	1000.0	/* first wait before refilling a slot */
#define RETRY_MAX_MS	8000.0	/* the wait doubles up to this */

/* Exit statuses (shared with stripe-syncd and stripe-syncctl). */
#define EXIT_RUNTIME	1
#define EXIT_SCHEMA	5	/* database missing, unmigrated or newer */
#define EXIT_DB_FAULT	6	/* database unwritable, moved or replaced:
				   worth retrying with a new process */

/* The exit status for a database this process cannot serve. */
static int
fault_exit(enum db_fault f)
{
	switch (f) {
	case DB_FAULT_MISSING:
	case DB_FAULT_SCHEMA:
		return EXIT_SCHEMA;
	case DB_FAULT_READONLY:
	case DB_FAULT_MOVED:
		return EXIT_DB_FAULT;
	default:
		return EXIT_RUNTIME;
	}
}

static volatile sig_atomic_t stopping;
static volatile sig_atomic_t idle;

/*
 * SIGTERM and SIGINT in a worker: finish the request in hand, then leave.
 * The signals are blocked while a request is handled (a body read is
 * never cut short); they are let in only around FCGX_Accept_r.  Closing
 * the listening socket there makes a pending or about-to-start accept(2)
 * fail at once, so the worker cannot sleep on through a stop.
 */
static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
	if (idle)
		close(0);
}

static void
catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* SIGTERM and SIGINT, the signals that stop us. */
static void
stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

/*
 * Is standard input NOT a listening socket, as spawn-fcgi and systemd's
 * socket units hand it to us?  Then there is nothing to serve: say so
 * (returns 1) rather than fail in accept(2) again and again.
 */
static int
no_listen_socket(void)
{
	int		 on = 0;
	socklen_t	 len = sizeof(on);

	if (getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on)
		return 0;
	log_error("standard input is not a listening socket: start "
	    "stripe-sync.fcgi with spawn-fcgi or a systemd socket unit");
	fprintf(stderr, "stripe-sync.fcgi: standard input is not a listening "
	    "socket (run it under spawn-fcgi)\n");
	return 1;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: stripe-sync.fcgi [-c file] [-w workers]\n"
	    "  -c, --config FILE  configuration file (default %s)\n"
	    "  -w, --workers N    supervise N worker processes on the "
	    "socket,\n"
	    "                     restarting any that dies (default: serve "
	    "alone)\n"
	    "  -h, --help         this text\n"
	    "  -V, --version      print the version\n"
	    "Run it under spawn-fcgi (or with the FastCGI socket on "
	    "standard input).\nSee stripe-sync.fcgi(8).\n", conf_path(NULL));
}

/*
 * The request path without its query string, copied into buf.  nginx
 * passes the raw REQUEST_URI; other servers may only give SCRIPT_NAME and
 * PATH_INFO.
 */
static const char *
req_path(FCGX_ParamArray env, char *buf, size_t bufsz)
{
	const char	*uri, *sn, *pi;
	size_t		 n;

	if ((uri = FCGX_GetParam("REQUEST_URI", env)) != NULL &&
	    *uri != '\0') {
		n = strcspn(uri, "?#");
		if (n >= bufsz)
			return NULL;
		memcpy(buf, uri, n);
		buf[n] = '\0';
		return buf;
	}
	sn = FCGX_GetParam("SCRIPT_NAME", env);
	pi = FCGX_GetParam("PATH_INFO", env);
	if ((size_t)snprintf(buf, bufsz, "%s%s", sn ? sn : "",
	    pi ? pi : "") >= bufsz)
		return NULL;
	return buf;
}

/*
 * Read the body into buf (BODY_MAX + 1 bytes).  A declared or actual
 * length over BODY_MAX marks it too large; we do not read the rest.  A
 * body that ends before (or runs past) its declared CONTENT_LENGTH, or a
 * stream error, sets *incomplete.  Returns how many bytes landed in buf,
 * so the caller can wipe them.
 */
static size_t
req_body(FCGX_Request *r, char *buf, struct req *req, int *incomplete)
{
	const char	*cl;
	char		*end;
	long long	 n = 0;
	int		 got, declared = 0;

	req->body = buf;
	req->bodylen = 0;
	*incomplete = 0;
	if ((cl = FCGX_GetParam("CONTENT_LENGTH", r->envp)) != NULL &&
	    *cl != '\0') {
		errno = 0;
		n = strtoll(cl, &end, 10);
		if (errno != 0 || *end != '\0' || n < 0 || n > BODY_MAX) {
			req->body_too_large = n > BODY_MAX || errno != 0;
			*incomplete = !req->body_too_large;
			return 0;
		}
		declared = 1;
	}
	got = FCGX_GetStr(buf, BODY_MAX + 1, r->in);
	if (got < 0)
		got = 0;
	if (got > BODY_MAX) {
		req->body_too_large = 1;
		return (size_t)got;
	}
	if (FCGX_GetError(r->in) != 0 || (declared && got != n))
		*incomplete = 1;
	req->bodylen = (size_t)got;
	buf[req->bodylen] = '\0';
	return (size_t)got;
}

static void
write_resp(FCGX_Request *r, const struct req *req, const struct resp *rs)
{
	size_t	 len = rs->body != NULL ? strlen(rs->body) : 0;

	FCGX_FPrintF(r->out,
	    "Status: %d %s\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: %lu\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Referrer-Policy: no-referrer\r\n"
	    "Content-Security-Policy: default-src 'none'; "
	    "frame-ancestors 'none'\r\n",
	    rs->status, http_status_text(rs->status), (unsigned long)len);
	if (rs->allow != NULL)
		FCGX_FPrintF(r->out, "Allow: %s\r\n", rs->allow);
	if (rs->www_authenticate != NULL)
		FCGX_FPrintF(r->out, "WWW-Authenticate: %s\r\n",
		    rs->www_authenticate);
	FCGX_PutS("\r\n", r->out);
	if (len > 0 && req->method != METHOD_HEAD)
		FCGX_PutStr(rs->body, (int)len, r->out);
}

/*
 * One worker: open the database (after any fork), serve requests until
 * told to stop.  Returns the exit status.
 */
static int
serve(const struct conf *cf)
{
	struct app	 app;
	struct db	*db;
	FCGX_Request	 r;
	struct req	 req;
	struct resp	 rs;
	const struct route *route;
	const char	*method;
	char		 err[512], path[2048];
	char		*body;
	double		 t0;
	sigset_t	 stopset;
	size_t		 nread;
	enum db_fault	 fault;
	int		 rc, ret = 0, incomplete, moved;

	if ((db = db_connect(cf->db_path, DB_SERVE, &fault, err,
	    sizeof(err))) == NULL) {
		log_error("refusing to serve: %s", err);
		fprintf(stderr, "stripe-sync.fcgi: %s\n", err);
		return fault_exit(fault);
	}
	if (no_listen_socket()) {
		db_close(db);
		return 1;
	}
	if ((body = malloc(BODY_MAX + 1)) == NULL) {
		log_error("out of memory");
		db_close(db);
		return 1;
	}

	memset(&app, 0, sizeof(app));
	app.cf = cf;
	app.db = db;
	FCGX_Init();
	FCGX_InitRequest(&r, 0, 0);
	log_info("worker ready (database %s, journal %s)", cf->db_path,
	    db_journal_mode());

	stop_signals(&stopset);
	sigprocmask(SIG_BLOCK, &stopset, NULL);
	for (;;) {
		idle = 1;
		sigprocmask(SIG_UNBLOCK, &stopset, NULL);
		rc = stopping ? -1 : FCGX_Accept_r(&r);
		sigprocmask(SIG_BLOCK, &stopset, NULL);
		idle = 0;
		if (rc < 0) {
			if (!stopping) {
				log_error("accepting a connection failed: %s",
				    strerror(errno));
				ret = 1;
			}
			break;
		}

		t0 = util_monotonic_ms();
		memset(&req, 0, sizeof(req));
		method = FCGX_GetParam("REQUEST_METHOD", r.envp);
		req.method = http_method(method);
		req.path = req_path(r.envp, path, sizeof(path));
		req.query = FCGX_GetParam("QUERY_STRING", r.envp);
		req.content_type = FCGX_GetParam("CONTENT_TYPE", r.envp);
		req.authorization = FCGX_GetParam("HTTP_AUTHORIZATION",
		    r.envp);
		req.now = util_now();
		nread = 0;

		/*
		 * A database restored by renaming a file into place (or
		 * deleted) leaves this connection on a file nobody else sees:
		 * answer 503 and make way for a worker that opens the current
		 * file.  One stat(2) per request.
		 */
		if ((moved = db_moved(db)) != 0) {
			memset(&rs, 0, sizeof(rs));
			rs.route = "any";
			resp_error(&rs, 503, "DATABASE_MOVED", NULL,
			    "the database was replaced; retry in a moment");
		} else if ((route = http_route(&app, &req, &rs)) != NULL) {
			/* The body is read only once a route (and for
			 * callback and launch, the secret) has matched: a
			 * forged call costs us nothing. */
			incomplete = 0;
			if (http_route_has_body(route))
				nread = req_body(&r, body, &req, &incomplete);
			if (incomplete)
				resp_error(&rs, 400, "INVALID_BODY", "body",
				    "the body does not match its "
				    "Content-Length");
			else
				http_dispatch(route, &app, &req, &rs);
		}
		write_resp(&r, &req, &rs);
		log_request(method_names[req.method], rs.route, rs.status,
		    util_monotonic_ms() - t0,
		    rs.install[0] != '\0' ? rs.install : NULL);
		resp_free(&rs);
		/* The body may have held an api key. */
		crypto_wipe(body, nread);
		FCGX_Finish_r(&r);
		if (moved) {
			log_error("the database file %s was deleted or "
			    "replaced since this worker opened it: exiting "
			    "so that a new worker opens the current file",
			    cf->db_path);
			ret = EXIT_DB_FAULT;
			break;
		}
	}

	log_info("worker stopping");
	free(body);
	cloud_free(app.cloud);
	db_close(db);
	return ret;
}

/*
 * Fork one worker with the signal mask the supervisor started with;
 * returns its pid, or -1.
 */
static pid_t
spawn(const struct conf *cf, const sigset_t *mask)
{
	pid_t	 pid;

	if ((pid = fork()) == -1) {
		log_error("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, mask, NULL);
		_exit(serve(cf));
	}
	return pid;
}

/*
 * The supervisor: fork n workers that share the FastCGI socket on
 * standard input, replace any that dies, and on SIGTERM or SIGINT pass
 * the signal on and wait for them.  It never opens the database itself,
 * so no connection crosses a fork.
 *
 * Every signal it cares about (TERM, INT, CHLD) stays blocked and is taken
 * with sigtimedwait(), so none is lost while it forks, logs or waits out a
 * pause.  A slot whose worker died within a second of its start, or whose
 * fork failed, is filled again only after a wait that starts at a second
 * and doubles with each such death up to RETRY_MAX_MS, so an unwritable
 * database or a full process table does not become a fork loop, and the
 * pool heals by itself within seconds once the fault is mended.
 */
static int
supervise(const struct conf *cf, int n)
{
	pid_t		 pids[WORKERS_MAX], pid;
	double		 born[WORKERS_MAX], due[WORKERS_MAX], pause[WORKERS_MAX],
			 now, wait_ms;
	sigset_t	 set, orig;
	struct timespec	 ts;
	int		 i, sig, status, live = 0, forwarded = 0;

	/* SIGCHLD may come to us ignored from whoever exec'd us: then
	 * dead workers would be reaped behind our back. */
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &orig);
	sigdelset(&orig, SIGTERM);
	sigdelset(&orig, SIGINT);
	sigdelset(&orig, SIGCHLD);

	for (i = 0; i < n; i++) {
		pids[i] = 0;
		due[i] = 0;
		pause[i] = 0;
	}
	log_info("supervising %d workers", n);

	for (;;) {
		/* Reap. */
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (i = 0; i < n && pids[i] != pid; i++)
				continue;
			if (i == n)
				continue;
			pids[i] = 0;
			live--;
			if (stopping)
				continue;
			if (WIFSIGNALED(status))
				log_warn("worker %d killed by signal %d; "
				    "replacing it", (int)pid,
				    WTERMSIG(status));
			else
				log_warn("worker %d exited with status %d; "
				    "replacing it", (int)pid,
				    WEXITSTATUS(status));
			now = util_monotonic_ms();
			if (now - born[i] < RETRY_MIN_MS) {
				pause[i] = pause[i] == 0 ? RETRY_MIN_MS :
				    pause[i] * 2 > RETRY_MAX_MS ?
				    RETRY_MAX_MS : pause[i] * 2;
				due[i] = now + pause[i];
			} else {
				pause[i] = 0;
				due[i] = now;
			}
		}

		if (stopping) {
			if (!forwarded) {
				for (i = 0; i < n; i++)
					if (pids[i] > 0)
						kill(pids[i], SIGTERM);
				forwarded = 1;
			}
			if (live == 0)
				break;
		} else {
			/* Fill every empty slot that is due. */
			now = util_monotonic_ms();
			for (i = 0; i < n; i++) {
				if (pids[i] > 0 || due[i] > now)
					continue;
				born[i] = now;
				if ((pids[i] = spawn(cf, &orig)) > 0)
					live++;
				else {
					pids[i] = 0;
					due[i] = now + RETRY_MIN_MS;
				}
			}
		}

		/* Sleep until a signal or the next slot falls due. */
		wait_ms = 1000.0;
		now = util_monotonic_ms();
		for (i = 0; i < n && !stopping; i++)
			if (pids[i] == 0 && due[i] - now < wait_ms)
				wait_ms = due[i] - now;
		if (wait_ms < 1.0)
			wait_ms = 1.0;
		ts.tv_sec = (time_t)(wait_ms / 1000.0);
		ts.tv_nsec = (long)((wait_ms - ts.tv_sec * 1000.0) * 1e6);
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			stopping = 1;
	}
	log_info("supervisor stopping");
	return 0;
}

int
main(int argc, char *argv[])
{
	static const struct option lopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "workers", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct conf	 cf;
	struct db	*db;
	const char	*cfgopt = NULL;
	char		 err[512], *end;
	enum db_fault	 fault;
	long		 workers = 0;
	int		 c, rc;

	while ((c = getopt_long(argc, argv, "c:w:hV", lopts, NULL)) != -1)
		switch (c) {
		case 'c':
			cfgopt = optarg;
			break;
		case 'w':
			errno = 0;
			workers = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || workers < 1 ||
			    workers > WORKERS_MAX) {
				fprintf(stderr, "stripe-sync.fcgi: --workers "
				    "must be a number from 1 to %d\n",
				    WORKERS_MAX);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("stripe-sync.fcgi %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	if (!conf_load(&cf, conf_path(cfgopt),
	    cfgopt != NULL || getenv("STRIPE_SYNC_CONF") != NULL,
	    err, sizeof(err))) {
		fprintf(stderr, "stripe-sync.fcgi: configuration: %s\n", err);
		return 3;
	}
	log_init("stripe-sync.fcgi", cf.log_file, cf.log_level);
	if (!proc_lockdown(&cf, "stripe-sync.fcgi", err, sizeof(err))) {
		log_error("%s", err);
		fprintf(stderr, "stripe-sync.fcgi: %s\n", err);
		conf_free(&cf);
		log_close();
		return EXIT_RUNTIME;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("curl_global_init failed");
		conf_free(&cf);
		return 1;
	}
	/* A client gone mid-answer must not kill the worker. */
	signal(SIGPIPE, SIG_IGN);
	catch_stop_signals();

	if (workers == 0)
		rc = serve(&cf);
	else if ((db = db_connect(cf.db_path, DB_SERVE, &fault, err,
	    sizeof(err))) == NULL && fault_exit(fault) == EXIT_SCHEMA) {
		/* Refuse now rather than fork workers that would: this one
		 * needs the operator (migrate). */
		log_error("refusing to serve: %s", err);
		fprintf(stderr, "stripe-sync.fcgi: %s\n", err);
		rc = EXIT_SCHEMA;
	} else {
		/* A fault that may pass (a read-only file, say) is retried
		 * by the workers, each a fresh process. */
		if (db == NULL)
			log_warn("the database cannot be served yet; the "
			    "workers will retry: %s", err);
		db_close(db);
		rc = no_listen_socket() ? 1 : supervise(&cf, (int)workers);
	}

	curl_global_cleanup();
	conf_free(&cf);
	log_close();
	return rc;
}
