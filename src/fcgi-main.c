/*
 * fcgi-main.c: stripe-sync.fcgi, one FastCGI worker process.
 *
 * The life of the process: read and validate the whole configuration,
 * open the database (refusing a schema we do not speak), then serve one
 * request at a time with FCGX_Accept_r.  The life of a request: read the
 * parameters and at most BODY_MAX bytes of body, route, write the answer
 * with the headers every response carries, log one line.  Scale by
 * running more processes: --workers N (the supervisor of
 * fcgi-supervise.c), or systemd instances.
 */
#include <sys/epoll.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <fcgiapp.h>

#include "config.h"
#include "cloud.h"
#include "stripe.h"
#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "fcgi-supervise.h"
#include "http.h"
#include "log.h"
#include "proc.h"
#include "sandbox.h"
#include "util.h"
#include "valid.h"

/* Exit statuses (shared with stripe-syncd and stripe-syncctl). */
#define EXIT_RUNTIME	1
#define EXIT_SCHEMA	5	/* database missing, unmigrated or newer */
#define EXIT_DB_FAULT	6	/* database unwritable, moved or replaced:
				   worth retrying with a new process */

/* How often a worker without its database tries the file again. */
#define DB_RETRY_MS	250

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

/*
 * SIGTERM, SIGINT and SIGQUIT in a worker (and SIGHUP in one that serves
 * alone): finish the request in hand, then leave.  The signals are
 * blocked everywhere but in the wait for a connection (conn_wait(); see
 * serve()), so they never cut short a body read, nor libfcgi between its
 * accept(2) and its first read, where an interrupted select(2) would make
 * it drop the connection.
 */
static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

/*
 * A worker's dispositions.  Alone (supervised 0), SIGHUP stops it like
 * SIGTERM: a service manager that restarts it (Restart=always) starts it
 * on the new configuration.  Under the supervisor, SIGHUP is the
 * supervisor's to act on, and is ignored.  SIGUSR1, SIGUSR2, SIGTTIN and
 * SIGTTOU, whose defaults would kill or stop the process, are ignored.
 */
static void
catch_signals(int supervised)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	if (supervised)
		signal(SIGHUP, SIG_IGN);
	else
		sigaction(SIGHUP, &sa, NULL);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
}

/* The signals that stop a worker. */
static void
stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGQUIT);
	sigaddset(set, SIGHUP);
}

/* Is standard input a listening socket?  Says nothing. */
static int
listening(void)
{
	int		 on = 0;
	socklen_t	 len = sizeof(on);

	return getsockopt(0, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == 0 && on;
}

/* Is standard input a Unix-domain socket? */
static int
unix_socket(void)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);

	return getsockname(0, (struct sockaddr *)&ss, &len) == 0 &&
	    ss.ss_family == AF_UNIX;
}

/*
 * Is standard input NOT a listening socket, as spawn-fcgi and systemd's
 * socket units hand it to us?  Then there is nothing to serve: say so
 * (returns 1) rather than fail in accept(2) again and again.
 */
static int
no_listen_socket(void)
{
	if (listening())
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

/*
 * Has the web server's request been read to its end?  body_read says
 * whether req_body() ran (it reads to the end of a body it takes); a
 * request that declared no body has only the empty end of its stream
 * left, read here (one record, already in libfcgi's buffer as a rule).
 */
static int
drained(FCGX_Request *r, const struct req *req, int body_read)
{
	const char	*cl;

	if (body_read) {
		/* req_body() reads to the end unless the body is too
		 * large or its length unreadable: then it read nothing. */
		if (req->body_too_large)
			return 0;
	} else {
		cl = FCGX_GetParam("CONTENT_LENGTH", r->envp);
		if (cl != NULL && *cl != '\0' && strcmp(cl, "0") != 0)
			return 0;
		/* A web server that streams a body it did not declare
		 * (nginx buffers and declares it) could make the read
		 * below wait for its client: the answer goes out first. */
		if (req->method == METHOD_POST || req->method == METHOD_PUT ||
		    req->method == METHOD_PATCH)
			(void)FCGX_FFlush(r->out);
	}
	return FCGX_GetChar(r->in) == EOF && FCGX_GetError(r->in) == 0;
}

static void
write_resp(FCGX_Request *r, const struct req *req, const struct resp *rs)
{
	size_t	 len = rs->body != NULL ? strlen(rs->body) : 0;

	FCGX_FPrintF(r->out,
	    "Status: %d %s\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %lu\r\n"
	    "Cache-Control: no-store\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Referrer-Policy: no-referrer\r\n"
	    "Content-Security-Policy: default-src 'none'; "
	    "frame-ancestors 'none'\r\n",
	    rs->status, http_status_text(rs->status), rs->content_type != NULL ?
	    rs->content_type : "application/json", (unsigned long)len);
	/* The name is ours (an id checked by the router), never the
	 * client's: nothing to escape. */
	if (rs->filename[0] != '\0')
		FCGX_FPrintF(r->out, "Content-Disposition: attachment; "
		    "filename=\"%s\"\r\n", rs->filename);
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
 * The wait for a connection.  Every worker waits on the same listening
 * socket; poll(2) would wake all of them for each connection, and all but
 * one would then fail in accept(2) and sleep again (on two workers, about
 * half of all accepts).  An epoll set with EPOLLEXCLUSIVE (Linux 4.5)
 * wakes one (kernels before 4.5 ignore the flag and wake all, which is
 * still correct).  Where epoll cannot be set up, ppoll(2) does the job.
 */
static int
conn_wait_init(void)
{
	struct epoll_event	 ev;
	int			 fd;

	if ((fd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	if (epoll_ctl(fd, EPOLL_CTL_ADD, 0, &ev) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sleep until the listening socket is readable or a signal of those
 * waitmask lets in arrives (-1, EINTR). */
static int
conn_wait(int epfd, const sigset_t *waitmask)
{
	struct epoll_event	 ev;
	struct pollfd		 lfd;

	if (epfd != -1)
		return epoll_pwait(epfd, &ev, 1, -1, waitmask);
	lfd.fd = 0;
	lfd.events = POLLIN;
	return ppoll(&lfd, 1, NULL, waitmask);
}

/*
 * One worker: open the database (after any fork), serve requests until
 * told to stop.  Once it is about to accept its first connection it
 * writes one byte to ready_fd and closes it, unless ready_fd is -1.
 * Returns the exit status.
 */
static int
serve(const struct conf *cf, int ready_fd)
{
	struct app	 app;
	struct db	*db;
	FCGX_Request	 r;
	struct req	 req;
	struct resp	 rs;
	const struct route *route;
	const char	*method;
	char		 err[512], lasterr[512] = "", path[2048];
	char		*body;
	double		 t0, retry_at = 0;
	sigset_t	 stopset, waitmask;
	size_t		 nread;
	enum db_fault	 fault;
	int		 rc, ret = 0, incomplete, moved, quit = 0;
	int		 body_read, unix_sock, epfd;

	/*
	 * A database that is missing, unwritable or replaced may come back
	 * (migrate, a restore, a mended mode).  With a socket to serve, we
	 * do not leave it to nobody (requests would wait in its backlog
	 * until nginx gives up): every request gets 503 DATABASE_UNAVAILABLE
	 * at once, and the file is tried again at most every DB_RETRY_MS
	 * until it opens.  At start, a schema we do not speak, a file that
	 * is no database, or no socket (a start by hand) still refuse and
	 * exit; so does the new worker of a reload (ready_fd): its refusal
	 * stops the roll, and the old workers keep serving the old
	 * configuration.  Once serving 503, only a schema we do not speak
	 * ends the worker: any other reason is tried again.
	 */
	if ((db = db_connect(cf->db_path, DB_SERVE, &fault, err,
	    sizeof(err))) == NULL) {
		if (fault == DB_FAULT_SCHEMA || fault == DB_FAULT_ERROR ||
		    ready_fd != -1 || !listening()) {
			log_error("refusing to serve: %s", err);
			fprintf(stderr, "stripe-sync.fcgi: %s\n", err);
			return fault_exit(fault);
		}
		log_warn("answering 503 until the database can be opened: %s",
		    err);
		retry_at = util_monotonic_ms() + DB_RETRY_MS;
	}
	if (no_listen_socket()) {
		db_close(db);
		return 1;
	}
	unix_sock = unix_socket();
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
	/* Everything a request needs is open: from here on, only the
	 * system calls and files of sandbox.c. */
	if (!sandbox_enter(cf, "stripe-sync.fcgi", SANDBOX_WORKER, err,
	    sizeof(err))) {
		log_error("refusing to serve: %s", err);
		free(body);
		db_close(db);
		return 1;
	}
	log_info("worker ready (database %s, journal %s)", cf->db_path,
	    db_journal_mode());
	if (ready_fd != -1) {
		if (write(ready_fd, "r", 1) != 1)
			log_warn("telling the supervisor this worker is ready: "
			    "%s", strerror(errno));
		close(ready_fd);
	}

	/*
	 * Wait for a connection (conn_wait()), the one place the stop signals
	 * are let in, then take it with FCGX_Accept_r.  The socket is
	 * shared by every worker and made non-blocking (accepted
	 * connections do not inherit that), so a worker that loses the race
	 * for a connection gets EAGAIN and waits again instead of sleeping
	 * in accept(2) with its stop signals blocked.
	 */
	stop_signals(&stopset);
	sigprocmask(SIG_BLOCK, &stopset, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGQUIT);
	sigdelset(&waitmask, SIGHUP);
	if ((rc = fcntl(0, F_GETFL)) == -1 ||
	    fcntl(0, F_SETFL, rc | O_NONBLOCK) == -1) {
		log_error("making the listening socket non-blocking: %s",
		    strerror(errno));
		free(body);
		db_close(db);
		return 1;
	}
	epfd = conn_wait_init();
	for (;;) {
		if (stopping)
			break;
		if (conn_wait(epfd, &waitmask) == -1) {
			if (errno == EINTR)
				continue;
			log_error("waiting for a connection failed: %s",
			    strerror(errno));
			ret = 1;
			break;
		}
		if ((rc = FCGX_Accept_r(&r)) == -EAGAIN ||
		    rc == -EWOULDBLOCK || rc == -EINTR)
			continue;
		if (rc < 0) {
			log_error("accepting a connection failed: %s",
			    rc > -4096 ? strerror(-rc) : "libfcgi");
			ret = 1;
			break;
		}

		t0 = util_monotonic_ms();
		memset(&req, 0, sizeof(req));
		body_read = 0;
		method = FCGX_GetParam("REQUEST_METHOD", r.envp);
		req.method = http_method(method);
		req.path = req_path(r.envp, path, sizeof(path));
		req.query = FCGX_GetParam("QUERY_STRING", r.envp);
		req.content_type = FCGX_GetParam("CONTENT_TYPE", r.envp);
		req.authorization = FCGX_GetParam("HTTP_AUTHORIZATION",
		    r.envp);
		req.stripe_signature = FCGX_GetParam("HTTP_STRIPE_SIGNATURE",
		    r.envp);
		req.now = util_now();
		nread = 0;

		/*
		 * A database restored by renaming a file into place (or
		 * deleted) leaves this connection on a file nobody else sees:
		 * answer 503 and make way for a worker that opens the current
		 * file.  One stat(2) per request.
		 */
		if (db == NULL && t0 >= retry_at) {
			if ((db = db_connect(cf->db_path, DB_SERVE, &fault,
			    err, sizeof(err))) != NULL) {
				app.db = db;
				log_info("the database opens again: serving");
			} else if (fault == DB_FAULT_SCHEMA) {
				/* As at start, once this request has its 503. */
				log_error("refusing to serve: %s", err);
				quit = fault_exit(fault);
			} else {
				/* Anything else may pass (a hot journal left
				 * by a killed writer under a read-only
				 * directory, a lock held while the file comes
				 * back): said once per new reason. */
				if (strcmp(err, lasterr) != 0) {
					log_warn("still answering 503: %s", err);
					snprintf(lasterr, sizeof(lasterr), "%s",
					    err);
				}
				retry_at = t0 + DB_RETRY_MS;
			}
		}
		moved = 0;
		if (db == NULL) {
			memset(&rs, 0, sizeof(rs));
			rs.route = "any";
			resp_error(&rs, 503, "DATABASE_UNAVAILABLE", NULL,
			    "the database cannot be opened; retry in a moment");
		} else if ((moved = db_moved(db)) != 0) {
			memset(&rs, 0, sizeof(rs));
			rs.route = "any";
			resp_error(&rs, 503, "DATABASE_MOVED", NULL,
			    "the database was replaced; retry in a moment");
		} else if ((route = http_route(&app, &req, &rs)) != NULL) {
			/* The body is read only once a route (and for
			 * callback and launch, the secret) has matched: a
			 * forged call costs us nothing. */
			incomplete = 0;
			if ((body_read = http_route_has_body(route)) != 0)
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
		/*
		 * libfcgi ends a connection with shutdown(2), then waits for
		 * the web server to close its end and reads what it sent
		 * meanwhile: over TCP, data left unread would make our
		 * close send a reset that can cost the server the answer.
		 * A Unix-domain socket never loses what was written, so
		 * once the request is read to its end we close at once
		 * (three system calls and a wait on nginx fewer); a body
		 * left unread keeps the careful close.
		 */
		if (unix_sock && drained(&r, &req, body_read))
			(void)FCGX_Detach(&r);
		FCGX_Finish_r(&r);
		/* A connection kept open (keep_conn) must not stay marked. */
		(void)FCGX_Attach(&r);
		if (quit != 0) {
			ret = quit;
			break;
		}
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
	if (epfd != -1)
		close(epfd);
	free(body);
	cloud_free(app.cloud);
	stripe_free(app.stripe);
	db_close(db);
	return ret;
}

/* A worker under the supervisor (see fcgi-supervise.c). */
static int
supervised_worker(const struct conf *cf, int ready_fd)
{
	catch_signals(1);
	return serve(cf, ready_fd);
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
	const char	*cfgopt = NULL, *cfpath;
	char		 err[512], *end;
	enum db_fault	 fault;
	long		 workers = 0;
	int		 c, rc, must_exist;

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

	cfpath = conf_path(cfgopt);
	must_exist = cfgopt != NULL || getenv("STRIPE_SYNC_CONF") != NULL;
	if (!conf_load(&cf, cfpath, must_exist, err, sizeof(err))) {
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

	if (workers == 0) {
		catch_signals(0);
		rc = serve(&cf, -1);
	}
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
		if (no_listen_socket())
			rc = 1;
		else if (!sandbox_enter(&cf, "stripe-sync.fcgi",
		    SANDBOX_SUPERVISOR, err, sizeof(err))) {
			log_error("refusing to serve: %s", err);
			fprintf(stderr, "stripe-sync.fcgi: %s\n", err);
			rc = 1;
		} else
			rc = supervise(&cf, cfpath, must_exist, (int)workers,
			    supervised_worker);
	}

	curl_global_cleanup();
	conf_free(&cf);
	log_close();
	return rc;
}
