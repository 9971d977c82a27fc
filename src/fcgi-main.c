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
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <fcgiapp.h>

#include "config.h"
#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "util.h"
#include "valid.h"

#define WORKERS_MAX	256

static volatile sig_atomic_t stopping;

/*
 * SIGTERM and SIGINT: finish the request in hand, then leave.  Without
 * SA_RESTART, a worker idle in accept(2) and a supervisor in wait(2)
 * return at once.
 */
static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
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
 * length over BODY_MAX marks it too large; we do not read the rest.
 */
static void
req_body(FCGX_Request *r, char *buf, struct req *req)
{
	const char	*cl;
	char		*end;
	long long	 n = 0;
	int		 got;

	req->body = buf;
	req->bodylen = 0;
	if ((cl = FCGX_GetParam("CONTENT_LENGTH", r->envp)) != NULL &&
	    *cl != '\0') {
		errno = 0;
		n = strtoll(cl, &end, 10);
		if (errno != 0 || *end != '\0' || n < 0 || n > BODY_MAX) {
			req->body_too_large = n > BODY_MAX || errno != 0;
			return;
		}
	}
	got = FCGX_GetStr(buf, BODY_MAX + 1, r->in);
	if (got > BODY_MAX) {
		req->body_too_large = 1;
		return;
	}
	req->bodylen = got < 0 ? 0 : (size_t)got;
	buf[req->bodylen] = '\0';
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

	if ((db = db_open(cf->db_path, DB_SERVE, err, sizeof(err))) == NULL) {
		log_error("refusing to serve: %s", err);
		fprintf(stderr, "stripe-sync.fcgi: %s\n", err);
		return 5;
	}
	if ((body = malloc(BODY_MAX + 1)) == NULL) {
		log_error("out of memory");
		db_close(db);
		return 1;
	}

	app.cf = cf;
	app.db = db;
	FCGX_Init();
	FCGX_InitRequest(&r, 0, 0);
	log_info("worker ready (database %s, journal %s)", cf->db_path,
	    db_journal_mode());

	while (!stopping && FCGX_Accept_r(&r) >= 0) {
		t0 = util_monotonic_ms();
		memset(&req, 0, sizeof(req));
		method = FCGX_GetParam("REQUEST_METHOD", r.envp);
		req.method = http_method(method);
		req.path = req_path(r.envp, path, sizeof(path));
		req.content_type = FCGX_GetParam("CONTENT_TYPE", r.envp);
		req.authorization = FCGX_GetParam("HTTP_AUTHORIZATION",
		    r.envp);
		req.now = util_now();

		/* The body is read only once a route (and for callback and
		 * launch, the secret) has matched: a forged call costs us
		 * nothing. */
		if ((route = http_route(&app, &req, &rs)) != NULL) {
			if (http_route_has_body(route))
				req_body(&r, body, &req);
			http_dispatch(route, &app, &req, &rs);
		}
		write_resp(&r, &req, &rs);
		log_request(method_names[req.method], rs.route, rs.status,
		    util_monotonic_ms() - t0,
		    rs.install[0] != '\0' ? rs.install : NULL);
		resp_free(&rs);
		/* The body may have held an api key. */
		crypto_wipe(body, req.bodylen);
		FCGX_Finish_r(&r);
	}

	log_info("worker stopping");
	free(body);
	db_close(db);
	return 0;
}

/* Fork one worker; returns its pid, or -1. */
static pid_t
spawn(const struct conf *cf)
{
	pid_t	 pid;

	if ((pid = fork()) == -1) {
		log_error("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		_exit(serve(cf));
	return pid;
}

/*
 * The supervisor: fork n workers that share the FastCGI socket on
 * standard input, replace any that dies, and on SIGTERM pass the signal
 * on and wait for them.  It never opens the database itself, so no
 * connection crosses a fork.  A worker that dies within a second of its
 * start is replaced only after a pause, so a broken database or
 * configuration does not become a fork loop.
 */
static int
supervise(const struct conf *cf, int n)
{
	pid_t		 pids[WORKERS_MAX], pid;
	double		 born[WORKERS_MAX];
	int		 i, status, live = 0;

	for (i = 0; i < n; i++) {
		born[i] = util_monotonic_ms();
		if ((pids[i] = spawn(cf)) > 0)
			live++;
	}
	log_info("supervising %d workers", live);

	while (live > 0) {
		pid = wait(&status);
		if (pid == -1) {
			if (errno != EINTR)
				break;
			if (stopping)
				for (i = 0; i < n; i++)
					if (pids[i] > 0)
						kill(pids[i], SIGTERM);
			continue;
		}
		for (i = 0; i < n && pids[i] != pid; i++)
			continue;
		if (i == n)
			continue;
		pids[i] = 0;
		live--;
		if (stopping)
			continue;
		if (WIFSIGNALED(status))
			log_warn("worker %d killed by signal %d; replacing it",
			    (int)pid, WTERMSIG(status));
		else
			log_warn("worker %d exited with status %d; replacing "
			    "it", (int)pid, WEXITSTATUS(status));
		if (util_monotonic_ms() - born[i] < 1000.0)
			sleep(1);
		if (stopping)
			continue;
		born[i] = util_monotonic_ms();
		if ((pids[i] = spawn(cf)) > 0)
			live++;
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
	else if ((db = db_open(cf.db_path, DB_SERVE, err,
	    sizeof(err))) == NULL) {
		/* Refuse now rather than fork workers that would. */
		log_error("refusing to serve: %s", err);
		fprintf(stderr, "stripe-sync.fcgi: %s\n", err);
		rc = 5;
	} else {
		db_close(db);
		rc = supervise(&cf, (int)workers);
	}

	curl_global_cleanup();
	conf_free(&cf);
	log_close();
	return rc;
}
