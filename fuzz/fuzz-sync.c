/*
 * fuzz-sync.c: the job runner fed any answers from Stripe and Cloud.  A
 * job is queued through the portal API, then stripe-syncd's loop runs it
 * (sync_work(), its phases, the reconciliation's, the alerts it flags
 * with alerts_flush()) with every outbound call answered by the next
 * answer of the input (app.h).  The input is
 *
 *	all | payins | payouts | reconcile {"from": ...} | alerts
 *	settings JSON for PUT /api/v1/settings (an empty line: defaults)
 *	answers, as app.h writes them
 *
 * so that Stripe's balance transactions, lists, balances and errors, and
 * Cloud's pages, balances, transactions, bulk answers, alerts and errors
 * are all read by the code that reads them in production.
 *
 * Whatever the answers: no database error on a healthy database, what
 * goes out is JSON with the right key (app.h), and the run as the portal
 * shows it afterwards (the run, its problems, the reconciliation and its
 * CSV) is an answer fuzz_check_resp() accepts, the CSV one record per
 * line with the header's number of fields and no cell a spreadsheet
 * would run as a formula.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "alerts.h"
#include "cloud.h"
#include "stripe.h"
#include "sync.h"
#include "app.h"

#define STEPS_MAX	400	/* stops an engine that would loop */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct sync_ctx	 x;
static int		 steps;

static int
fz_stopping(void *arg)
{
	(void)arg;
	return fuzz_exhausted || ++steps > STEPS_MAX;
}

static int
fz_sleep(long ms, void *arg)
{
	(void)ms;
	return fz_stopping(arg);
}

/* method path with body (or NULL): the answer, checked; caller frees. */
static void
call(enum method m, const char *path, const char *query, const char *body,
    struct resp *r)
{
	struct req	 req;

	memset(&req, 0, sizeof(req));
	req.method = m;
	req.path = path;
	req.query = query;
	req.content_type = "application/json";
	req.authorization = fuzz_bearer;
	req.body = body != NULL ? body : "";
	req.bodylen = body != NULL ? strlen(body) : 0;
	req.now = fuzz_now;
	http_handle(&fuzz_app, &req, r);
	fuzz_check_resp(r);
}

/* The fields of one CSV record at *p (moved past it), or -1 if it is
 * not one; a field that starts a formula aborts. */
static int
csv_record(const char **p)
{
	const char	*s = *p;
	int		 n = 0;

	for (;;) {
		n++;
		if (*s == '"') {
			s++;
			if (strchr("=+-@\t\r", *s) != NULL && *s != '\0' &&
			    !(*s == '-' && s[1] >= '0' && s[1] <= '9'))
				abort();
			for (;; s++) {
				if (*s == '\0')
					return -1;
				if (*s == '"' && s[1] == '"')
					s++;
				else if (*s == '"')
					break;
			}
			s++;
		} else {
			if (*s != '\0' && strchr("=+@\t", *s) != NULL)
				abort();
			if (*s == '-' && !(s[1] >= '0' && s[1] <= '9'))
				abort();
			s += strcspn(s, ",\"\r\n");
		}
		if (*s == ',') {
			s++;
			continue;
		}
		if (s[0] == '\r' && s[1] == '\n') {
			*p = s + 2;
			return n;
		}
		return -1;
	}
}

static void
check_csv(const char *csv)
{
	const char	*p = csv;
	int		 want, n;

	if ((want = csv_record(&p)) < 2)
		abort();
	while (*p != '\0')
		if ((n = csv_record(&p)) != want)
			abort();
}

/* Show run id of path (syncs or reconciliations) as the portal would. */
static void
show(const char *base, const char *id, int recon)
{
	struct resp	 r;
	char		 path[256];

	snprintf(path, sizeof(path), "%s%s", base, id);
	call(METHOD_GET, path, NULL, NULL, &r);
	resp_free(&r);
	if (recon) {
		call(METHOD_GET, path, "format=csv", NULL, &r);
		if (r.status == 200)
			check_csv(r.body);
		resp_free(&r);
	}
	call(METHOD_GET, "/api/v1/problems", NULL, NULL, &r);
	resp_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object	*o, *v;
	struct resp		 r;
	const char		*p = (const char *)data, *nl, *job, *path;
	char			*first, *settings, body[4096], id[64];
	size_t			 len = size, n;
	int			 i, recon;

	fuzz_app_init();
	fuzz_input(data, size);
	if (x.cf == NULL) {
		x.cf = fuzz_app.cf;
		if ((x.cloud = cloud_new(x.cf)) == NULL ||
		    (x.stripe = stripe_new(x.cf)) == NULL)
			abort();
		snprintf(x.owner, sizeof(x.owner), "fuzz");
		x.sleep_ms = fz_sleep;
		x.stopping = fz_stopping;
	}
	x.db = fuzz_app.db;
	nl = memchr(p, '\n', len);
	n = nl != NULL ? (size_t)(nl - p) : len;
	first = fuzz_strndup(p, n);
	p += nl != NULL ? n + 1 : n;
	len -= nl != NULL ? n + 1 : n;
	nl = memchr(p, '\n', len);
	n = nl != NULL ? (size_t)(nl - p) : len;
	settings = fuzz_strndup(p, n);
	p += nl != NULL ? n + 1 : n;
	len -= nl != NULL ? n + 1 : n;

	fuzz_answers(NULL, 0);
	if (settings[0] != '\0') {
		call(METHOD_PUT, "/api/v1/settings", NULL, settings, &r);
		resp_free(&r);
	}
	id[0] = '\0';
	recon = strncmp(first, "reconcile", 9) == 0;
	job = NULL;
	if (recon) {
		path = "/api/v1/reconciliations";
		job = first[9] == ' ' ? first + 10 : "{}";
	} else if (strcmp(first, "alerts") != 0) {
		path = "/api/v1/syncs";
		snprintf(body, sizeof(body), "{\"kind\":\"%s\"}",
		    strcmp(first, "payins") == 0 ||
		    strcmp(first, "payouts") == 0 ? first : "all");
		job = body;
	}
	if (job != NULL) {
		call(METHOD_POST, path, NULL, job, &r);
		if (r.status == 202 && (o = json_tokener_parse(r.body)) !=
		    NULL) {
			if (json_object_object_get_ex(o, "id", &v))
				snprintf(id, sizeof(id), "%s",
				    json_object_get_string(v));
			json_object_put(o);
		}
		resp_free(&r);
	}

	fuzz_answers(p, len);
	steps = 0;
	for (i = 0; i < 3 && !fuzz_exhausted; i++) {
		int rc = sync_work(&x);

		if (rc < 0)
			abort();
		if (rc == 0)
			break;
	}
	if (alerts_flush(&x) < 0)
		abort();
	fuzz_answers(NULL, 0);
	if (id[0] != '\0')
		show(recon ? "/api/v1/reconciliations/" : "/api/v1/syncs/", id,
		    recon);
	fuzz_app_reset();
	x.db = fuzz_app.db;
	free(first);
	free(settings);
	return 0;
}
