/*
 * app.c: the application the handler-level fuzz targets run against, and
 * the stand-in for httpc_do().  See app.h.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "conf.h"
#include "crypto.h"
#include "db.h"
#include "http.h"
#include "httpc.h"
#include "log.h"
#include "stripe.h"
#include "util.h"
#include "app.h"

#define SEP	"\n%%\n"

struct app	 fuzz_app;
int64_t		 fuzz_now;
char		 fuzz_bearer[1024];
int		 fuzz_calls;
int		 fuzz_exhausted;

/* Does the input itself hold one of the secrets?  Then an answer or a
 * URL that shows it proves nothing. */
static int		 tainted;

static struct conf	 cf;
static char		 dir[256], dbpath[300], pristine[300];
static const char	*ans;
static size_t		 anslen;

int	__wrap_httpc_do(struct httpc *, const struct httpc_req *,
	    struct httpc_resp *);

static void
die(const char *what)
{
	fprintf(stderr, "fuzz: %s\n", what);
	abort();
}

char *
fuzz_strndup(const void *p, size_t len)
{
	char	*s;

	if ((s = malloc(len + 1)) == NULL)
		die("out of memory");
	memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

/* Copy file from to file to.  1 on success. */
static int
copy_file(const char *from, const char *to)
{
	FILE	*in, *out;
	char	 buf[65536];
	size_t	 n;
	int	 ok = 1;

	if ((in = fopen(from, "rb")) == NULL)
		return 0;
	if ((out = fopen(to, "wb")) == NULL) {
		fclose(in);
		return 0;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			ok = 0;
	fclose(in);
	if (fclose(out) != 0)
		ok = 0;
	return ok;
}

static void
remove_dir(void)
{
	char	 p[400];

	snprintf(p, sizeof(p), "%s/db.sqlite-wal", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/db.sqlite-shm", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/c.conf", dir);
	unlink(p);
	unlink(dbpath);
	unlink(pristine);
	rmdir(dir);
}

/* One request of the setup, which must answer want. */
static void
setup_call(enum method m, const char *path, const char *auth,
    const char *body, int want)
{
	struct req	 req;
	struct resp	 r;

	memset(&req, 0, sizeof(req));
	req.method = m;
	req.path = path;
	req.content_type = "application/json";
	req.authorization = auth;
	req.body = body;
	req.bodylen = strlen(body);
	req.now = fuzz_now;
	http_handle(&fuzz_app, &req, &r);
	if (r.status != want) {
		fprintf(stderr, "fuzz: setup %s: %d %s\n", path, r.status,
		    r.body != NULL ? r.body : "");
		abort();
	}
	resp_free(&r);
}

void
fuzz_app_init(void)
{
	static int	 done;
	struct install	 in;
	struct token	 t;
	unsigned char	 key[32];
	char		 path[400], err[512], now[32], *mk, *tok;
	const char	*tmp;
	struct db	*db;
	FILE		*f;
	size_t		 i;
	int		 applied;

	if (done)
		return;
	done = 1;
	/* A RAM disk where there is one: every input rewrites the file. */
	tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" :
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp";
	snprintf(dir, sizeof(dir), "%s/fuzz-app.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL)
		die("mkdtemp");
	atexit(remove_dir);
	snprintf(dbpath, sizeof(dbpath), "%s/db.sqlite", dir);
	snprintf(pristine, sizeof(pristine), "%s/pristine.sqlite", dir);
	for (i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)(i * 11 + 3);
	if ((mk = b64_encode(key, sizeof(key))) == NULL)
		die("b64_encode");
	snprintf(path, sizeof(path), "%s/c.conf", dir);
	if ((f = fopen(path, "w")) == NULL)
		die("cannot write the configuration");
	fprintf(f, "db_path = %s\nmaster_key = %s\n"
	    "session_secret = 0123456789abcdef0123456789abcdefFUZZ\n"
	    "callback_secret = %s\nportal_url = https://portal.test/app/\n"
	    "cloud_api_url = https://cloud.test/\n"
	    "stripe_api_url = https://stripe.test/\n"
	    "log_file = /dev/null\nlog_level = error\n", dbpath, mk,
	    FUZZ_SECRET);
	fclose(f);
	free(mk);
	if (!conf_load(&cf, path, 1, err, sizeof(err))) {
		fprintf(stderr, "fuzz: %s\n", err);
		abort();
	}
	log_init("fuzz", getenv("FUZZ_LOG"), getenv("FUZZ_LOG") != NULL ?
	    LOG_LEVEL_DEBUG : LOG_LEVEL_ERROR);
	if ((db = db_open(dbpath, DB_MIGRATE, err, sizeof(err))) == NULL ||
	    !db_migrate(db, &applied, err, sizeof(err))) {
		fprintf(stderr, "fuzz: %s\n", err);
		abort();
	}
	db_close(db);
	fuzz_app.cf = &cf;
	if ((fuzz_app.db = db_open(dbpath, DB_SERVE, err, sizeof(err))) ==
	    NULL)
		die(err);
	fuzz_now = 1800000000;

	setup_call(METHOD_POST, "/api/callback/" FUZZ_SECRET, NULL,
	    "{\"type\":\"install\",\"installed_app_id\":\"" FUZZ_INSTALL "\","
	    "\"app_id\":\"" FUZZ_APP "\",\"instance_id\":\"" FUZZ_INSTANCE
	    "\",\"organization_id\":\"" FUZZ_ORG "\",\"api_key\":\""
	    FUZZ_CLOUD_KEY "\",\"api_key_prefix\":\"blnk_fuz\","
	    "\"granted_permissions\":[\"data:read\",\"data:write\","
	    "\"alerts:read\",\"alerts:write\"],"
	    "\"idempotency_key\":\"install:fuzz-1\"}", 200);
	if (db_install_get(fuzz_app.db, FUZZ_INSTALL, &in) != 1)
		die("the install is not there");
	memset(&t, 0, sizeof(t));
	snprintf(t.install_id, sizeof(t.install_id), "%s", FUZZ_INSTALL);
	snprintf(t.instance_id, sizeof(t.instance_id), "%s", FUZZ_INSTANCE);
	t.generation = in.generation;
	t.expires = fuzz_now + cf.session_ttl;
	install_free(&in);
	if ((tok = token_mint(&cf, &t)) == NULL)
		die("token_mint");
	snprintf(fuzz_bearer, sizeof(fuzz_bearer), "Bearer %s", tok);
	free(tok);

	util_now_rfc3339(now, sizeof(now));
	if (!db_begin(fuzz_app.db) ||
	    !db_stripe_put(fuzz_app.db, &cf, FUZZ_INSTALL, FUZZ_STRIPE_KEY,
	    "test", "secret", now) || !db_commit(fuzz_app.db))
		die("cannot store the Stripe key");
	setup_call(METHOD_PUT, "/api/v1/stripe/webhook", fuzz_bearer,
	    "{\"secret\":\"" FUZZ_WHSEC "\"}", 200);

	db_close(fuzz_app.db);
	fuzz_app.db = NULL;
	if (!copy_file(dbpath, pristine))
		die("cannot copy the database");
	fuzz_app_reset();
}

void
fuzz_app_reset(void)
{
	char	 p[400], err[512];

	if (fuzz_app.db != NULL)
		db_close(fuzz_app.db);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
	if (!copy_file(pristine, dbpath))
		die("cannot restore the database");
	if ((fuzz_app.db = db_open(dbpath, DB_SERVE, err, sizeof(err))) ==
	    NULL)
		die(err);
}

/* Does s[0..len) hold needle? */
static int
holds(const void *s, size_t len, const char *needle)
{
	return memmem(s, len, needle, strlen(needle)) != NULL;
}

void
fuzz_input(const void *p, size_t len)
{
	tainted = holds(p, len, FUZZ_SECRET) || holds(p, len, FUZZ_CLOUD_KEY) ||
	    holds(p, len, FUZZ_STRIPE_KEY) || holds(p, len, FUZZ_WHSEC);
}

void
fuzz_answers(const char *p, size_t len)
{
	ans = p;
	anslen = len;
	fuzz_calls = 0;
	fuzz_exhausted = 0;
}


int
__wrap_httpc_do(struct httpc *h, const struct httpc_req *req,
    struct httpc_resp *resp)
{
	struct json_object	*o;
	enum stripe_mode	 mode;
	enum stripe_keytype	 type;
	const char		*end, *nl;
	size_t			 n;
	int			 cloud;

	(void)h;
	fuzz_calls++;
	/* What we send: to Cloud with the install's key, to Stripe with
	 * the Stripe key, never one where the other belongs, and JSON. */
	if (req->url == NULL || req->bearer == NULL)
		abort();
	cloud = strncmp(req->url, "https://cloud.test/", 19) == 0;
	if (!cloud && strncmp(req->url, "https://stripe.test/", 20) != 0)
		abort();
	/* (A key being connected is checked with itself.) */
	if ((cloud ? strcmp(req->bearer, FUZZ_CLOUD_KEY) != 0 :
	    !stripe_key_parse(req->bearer, &mode, &type)) ||
	    (!tainted && (strstr(req->url, FUZZ_CLOUD_KEY) != NULL ||
	    strstr(req->url, FUZZ_STRIPE_KEY) != NULL)))
		abort();
	if (req->body != NULL) {
		if (!cloud || (!tainted && (holds(req->body, req->bodylen,
		    FUZZ_CLOUD_KEY) || holds(req->body, req->bodylen,
		    FUZZ_STRIPE_KEY))) || (o = httpc_json(req->body, req->bodylen)) == NULL)
			abort();
		json_object_put(o);
	}

	/* FUZZ_TRACE=1: each call on stderr, to write seeds by. */
	if (getenv("FUZZ_TRACE") != NULL)
		fprintf(stderr, "fuzz: call %d: %s %s%s%.*s\n", fuzz_calls,
		    req->method == HTTPC_GET ? "GET" : req->method == HTTPC_POST ?
		    "POST" : req->method == HTTPC_PUT ? "PUT" : "DELETE",
		    req->url, req->body != NULL ? " " : "",
		    req->body != NULL ? (int)(req->bodylen > 300 ? 300 :
		    req->bodylen) : 0, req->body != NULL ? req->body : "");
	memset(resp, 0, sizeof(*resp));
	resp->retry_after = -1;
	resp->should_retry = -1;
	resp->attempts = 1;
	if (ans == NULL || anslen == 0) {
		fuzz_exhausted = 1;
		resp->fault = HTTPC_UNREACHABLE;
		snprintf(resp->detail, sizeof(resp->detail), "no more answers");
		return 0;
	}
	end = memmem(ans, anslen, SEP, sizeof(SEP) - 1);
	n = end != NULL ? (size_t)(end - ans) : anslen;
	nl = memchr(ans, '\n', n);
	if (n > 0 && ans[0] >= '0' && ans[0] <= '9') {
		resp->status = strtol(ans, NULL, 10) % 1000;
		if (nl != NULL) {
			resp->len = n - (size_t)(nl + 1 - ans);
			resp->body = fuzz_strndup(nl + 1, resp->len);
		} else
			resp->body = fuzz_strndup("", 0);
	} else
		resp->fault = n > 0 && ans[0] == 'T' ? HTTPC_TIMEOUT :
		    n > 0 && ans[0] == 'S' ? HTTPC_TLS :
		    n > 0 && ans[0] == 'L' ? HTTPC_TOO_LARGE :
		    HTTPC_UNREACHABLE;
	if (end != NULL) {
		anslen -= (size_t)(end - ans) + sizeof(SEP) - 1;
		ans = end + sizeof(SEP) - 1;
	} else {
		ans = NULL;
		anslen = 0;
	}
	return resp->fault == HTTPC_OK;
}

void
fuzz_check_resp(const struct resp *r)
{
	struct json_object	*o;

	if (r->status < 200 || r->status > 599 || r->status == 500 ||
	    r->body == NULL || r->route == NULL)
		abort();
	if (!tainted && (strstr(r->body, FUZZ_SECRET) != NULL ||
	    strstr(r->body, FUZZ_CLOUD_KEY) != NULL ||
	    strstr(r->body, FUZZ_STRIPE_KEY) != NULL ||
	    strstr(r->body, FUZZ_WHSEC) != NULL))
		abort();
	if (r->status == 405 && r->allow == NULL)
		abort();
	if (r->status == 401 && r->www_authenticate == NULL &&
	    strcmp(r->route, "stripe_webhook") != 0)
		abort();
	if (r->content_type == NULL) {
		if ((o = json_tokener_parse(r->body)) == NULL)
			abort();
		json_object_put(o);
	}
}
