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
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static volatile sig_atomic_t stopping;

/*
 * SIGTERM and SIGINT: finish the request in hand, then leave.  Without
 * SA_RESTART, a worker idle in accept(2) returns at once.
 */
static void
on_stop(int sig)
{
	(void)sig;
	stopping = 1;
	FCGX_ShutdownPending();
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: stripe-sync.fcgi [-c file]\n"
	    "  -c, --config FILE  configuration file (default %s)\n"
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

int
main(int argc, char *argv[])
{
	static const struct option lopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct conf	 cf;
	struct app	 app;
	struct db	*db;
	FCGX_Request	 r;
	struct req	 req;
	struct resp	 rs;
	struct sigaction sa;
	const struct route *route;
	const char	*cfgopt = NULL, *method;
	char		 err[512], path[2048];
	char		*body;
	double		 t0;
	int		 c;

	while ((c = getopt_long(argc, argv, "c:hV", lopts, NULL)) != -1)
		switch (c) {
		case 'c':
			cfgopt = optarg;
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
	if ((db = db_open(cf.db_path, DB_SERVE, err, sizeof(err))) == NULL) {
		log_error("refusing to serve: %s", err);
		fprintf(stderr, "stripe-sync.fcgi: %s\n", err);
		conf_free(&cf);
		return 5;
	}
	if ((body = malloc(BODY_MAX + 1)) == NULL) {
		log_error("out of memory");
		db_close(db);
		conf_free(&cf);
		return 1;
	}

	/* A client gone mid-answer must not kill the worker. */
	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	app.cf = &cf;
	app.db = db;
	FCGX_Init();
	FCGX_InitRequest(&r, 0, 0);
	log_info("worker ready (database %s, journal %s)", cf.db_path,
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
	curl_global_cleanup();
	conf_free(&cf);
	log_close();
	return 0;
}
