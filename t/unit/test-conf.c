/*
 * test-conf.c: conf_load() and friends.  Most checks are rows of a table
 * of bad configurations, each named after the failure it covers, with the
 * key its error message must name; the rest walk the good paths (defaults,
 * environment precedence, the _file forms, the key ring, loopback http).
 * Every failure is also checked to leave the struct zeroed and to print
 * none of the secret values the test uses.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "conf.h"
#include "crypto.h"
#include "tap.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR	"/var"
#endif

extern char **environ;

/* base64 of "0123456789abcdef0123456789abcdef" */
#define MK	"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
/* base64 of "old-key-one-old-key-one-old-key1" and "...two...2" */
#define OK1	"b2xkLWtleS1vbmUtb2xkLWtleS1vbmUtb2xkLWtleTE="
#define OK2	"b2xkLWtleS10d28tb2xkLWtleS10d28tb2xkLWtleTI="
/* base64 of 31 and of 33 bytes, and of 32 zero bytes */
#define MK31	"c2hvcnQta2V5LTMxLWJ5dGVzLXNob3J0LWtleS0zMQ=="
#define MK33	"YS1rZXktb2YtMzMtYnl0ZXMtYS1rZXktb2YtMzMtYnl0"
#define MK0	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define SS	"session-secret-Zq8vLw2p9XkRt4Nm7Hc3Fy"
#define SS31	"short-session-secret-xY7Kq2Wm9P"	/* 31 bytes */
#define CS	"cbSecret_Yb3kT9wQ-xV2nM8rL5pZ4hJ6gF1d"
#define CS31	"cbShort_Yb3kT9wQxV2nM8rL5pZ4hJ6"	/* 31 chars */
#define CSDOT	"cbSecret.Yb3kT9wQxV2nM8rL5pZ4hJ6gF1dE"	/* bad '.' */
#define CSSL	"cbSecret/Yb3kT9wQxV2nM8rL5pZ4hJ6gF1dE"	/* bad '/' */

#define L_MK	"master_key = " MK "\n"
#define L_SS	"session_secret = " SS "\n"
#define L_CS	"callback_secret = " CS "\n"
#define L_PU	"portal_url = https://portal.example.com/app\n"
#define BASE	L_MK L_SS L_CS L_PU
#define CONF	"@D@/stripe-sync.conf"

/* Values that must never show up in an error message. */
static const char *const secrets[] = {
	MK, OK1, OK2, MK31, MK33, MK0, SS, SS31, CS, CS31, CSDOT, CSSL, NULL
};

static char	 dir[64];	/* the mkdtemp(3) directory */
static char	 confpath[128];	/* dir/stripe-sync.conf */

/* Replace every "@D@" in in by the temporary directory, into out. */
static char *
subst(const char *in, char *out, size_t outsz)
{
	const char	*p;
	size_t		 j = 0, dl = strlen(dir);

	for (p = in; *p != '\0' && j + 1 < outsz; ) {
		if (strncmp(p, "@D@", 3) == 0 && j + dl + 1 < outsz) {
			memcpy(out + j, dir, dl);
			j += dl;
			p += 3;
		} else
			out[j++] = *p++;
	}
	out[j] = '\0';
	return out;
}

/* Write len bytes to dir/name.  Returns 1 on success. */
static int
write_file(const char *name, const void *buf, size_t len)
{
	char	 path[256];
	FILE	*f;
	int	 rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return 0;
	rc = fwrite(buf, 1, len, f) == len;
	return fclose(f) == 0 && rc;
}

/* Write the configuration file (text after subst()), or remove it. */
static void
write_conf(const char *text)
{
	static char	 buf[65536];

	if (text == NULL) {
		unlink(confpath);
		return;
	}
	subst(text, buf, sizeof(buf));
	if (!write_file("stripe-sync.conf", buf, strlen(buf)))
		diag("cannot write %s", confpath);
}

/* Unset every STRIPE_SYNC_* variable. */
static void
clear_env(void)
{
	char	**ep, name[128];
	size_t	  n;
	int	  again = 1;

	while (again) {
		again = 0;
		for (ep = environ; *ep != NULL; ep++) {
			if (strncmp(*ep, "STRIPE_SYNC_", 12) != 0)
				continue;
			n = strcspn(*ep, "=");
			if (n >= sizeof(name))
				n = sizeof(name) - 1;
			memcpy(name, *ep, n);
			name[n] = '\0';
			unsetenv(name);
			again = 1;
			break;
		}
	}
}

/* Set each "NAME=value" (value after subst()) of env[] (NULL ends). */
static void
set_env(const char *const *env, size_t n)
{
	char		 name[128], val[8192];
	const char	*eq;
	size_t		 i;

	for (i = 0; i < n && env[i] != NULL; i++) {
		eq = strchr(env[i], '=');
		snprintf(name, sizeof(name), "%.*s",
		    (int)(eq - env[i]), env[i]);
		setenv(name, subst(eq + 1, val, sizeof(val)), 1);
	}
}

/* Is every byte of cf zero? */
static int
is_zeroed(const struct conf *cf)
{
	const unsigned char	*p = (const unsigned char *)cf;
	size_t			 i;

	for (i = 0; i < sizeof(*cf); i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* Does err contain any secret, or the first 12 bytes of one? */
static int
leaks_secret(const char *err, const char *extra)
{
	char	 pre[13];
	size_t	 i;

	for (i = 0; secrets[i] != NULL; i++) {
		memcpy(pre, secrets[i], sizeof(pre) - 1);
		pre[sizeof(pre) - 1] = '\0';
		if (strstr(err, pre) != NULL)
			return 1;
	}
	return extra != NULL && strstr(err, extra) != NULL;
}

/*
 * Load with the current file and environment and check that it fails:
 * struct zeroed, message on one line naming "want" (and "want2"), equal
 * to "exact" if given, and free of secrets.
 */
static void
check_fail(const char *name, int must_exist, const char *want,
    const char *want2, const char *exact, const char *extra)
{
	struct conf	 cf;
	char		 err[512], ex[512], w[512];
	int		 rc;

	memset(&cf, 0xa5, sizeof(cf));
	memset(err, 0, sizeof(err));
	rc = conf_load(&cf, confpath, must_exist, err, sizeof(err));
	is_int(rc, 0, "%s: conf_load fails", name);
	if (rc) {
		conf_free(&cf);
		return;
	}
	ok(is_zeroed(&cf), "%s: struct zeroed", name);
	subst(want, w, sizeof(w));
	if (!ok(strstr(err, w) != NULL, "%s: error names %s", name, w))
		diag("error was: %s", err);
	if (want2 != NULL && !ok(strstr(err, subst(want2, w, sizeof(w))) !=
	    NULL, "%s: error names %s", name, w))
		diag("error was: %s", err);
	if (exact != NULL)
		is_str(err, subst(exact, ex, sizeof(ex)), "%s: message", name);
	ok(err[0] != '\0' && strchr(err, '\n') == NULL,
	    "%s: one non-empty line", name);
	ok(!leaks_secret(err, extra), "%s: no secret in message", name);
}

/* Load with the current file and environment; must succeed. */
static int
load_ok(const char *name, struct conf *cf, int must_exist)
{
	char	 err[512] = "";

	if (!ok(conf_load(cf, confpath, must_exist, err, sizeof(err)),
	    "%s: conf_load succeeds", name)) {
		diag("error was: %s", err);
		return 0;
	}
	return 1;
}

struct bad {
	const char	*name;	/* the failure covered */
	const char	*file;	/* configuration text, NULL: no file */
	const char	*env[4];/* "NAME=value" */
	const char	*want;	/* the key the message must name */
	const char	*want2;	/* and this too, if not NULL */
	const char	*exact;	/* the whole message, if not NULL */
};

static const struct bad bad[] = {
	/* The file format. */
	{ "line-without-equals", BASE "just some words\n", { NULL },
	  CONF ":5:", NULL, CONF ":5: expected \"key = value\"" },
	{ "pasted-secret-without-key", BASE CS "\n", { NULL },
	  CONF ":5:", NULL, NULL },
	{ "pasted-base64-not-echoed", BASE MK "\n", { NULL },
	  "unknown key", NULL, NULL },
	{ "missing-key-before-equals", BASE " = value\n", { NULL },
	  CONF ":5:", "missing key", NULL },
	{ "unknown-key-typo", "# comment\n" BASE "\nsesion_secret = x\n",
	  { NULL }, "sesion_secret", NULL,
	  CONF ":7: unknown key 'sesion_secret'" },
	{ "unknown-key-control-byte", BASE "fo\001o = 1\n", { NULL },
	  "unknown key", NULL, CONF ":5: unknown key 'fo\\x01o'" },
	{ "unknown-key-quote", BASE "it's = 1\n", { NULL },
	  "unknown key", NULL, CONF ":5: unknown key 'it\\x27s'" },
	{ "unknown-key-upper-case", BASE "MASTER_KEY = " MK "\n", { NULL },
	  "MASTER_KEY", NULL, NULL },
	{ "key-is-case-sensitive-env-name", BASE "STRIPE_SYNC_LOG_LEVEL = x\n",
	  { NULL }, "STRIPE_SYNC_LOG_LEVEL", NULL, NULL },
	{ "duplicate-key", BASE "log_level = info\n" L_MK, { NULL },
	  "master_key", NULL,
	  CONF ":6: duplicate key 'master_key' (first given on line 1)" },
	{ "duplicate-key-same-value", BASE "session_ttl = 600\n"
	  "session_ttl = 600\n", { NULL }, "session_ttl", ":6:", NULL },
	{ "empty-value", BASE "log_level =\n", { NULL },
	  "log_level", ":5:", NULL },
	{ "empty-value-blanks", BASE "log_file = \t \r\n", { NULL },
	  "log_file", ":5:", NULL },
	{ "empty-secret-value", L_SS L_CS L_PU "master_key = \n", { NULL },
	  "master_key", NULL, NULL },
	{ "both-forms-in-file", BASE "master_key_file = @D@/mk.txt\n",
	  { NULL }, "master_key", "master_key_file", NULL },
	{ "both-forms-in-file-session", BASE
	  "session_secret_file = @D@/ss.txt\n", { NULL },
	  "session_secret", "session_secret_file", NULL },

	/* Required keys. */
	{ "master-key-missing", L_SS L_CS L_PU, { NULL }, "master_key",
	  NULL, "master_key: missing (required)" },
	{ "session-secret-missing", L_MK L_CS L_PU, { NULL },
	  "session_secret", NULL, "session_secret: missing (required)" },
	{ "callback-secret-missing", L_MK L_SS L_PU, { NULL },
	  "callback_secret", NULL, "callback_secret: missing (required)" },
	{ "portal-url-missing", L_MK L_SS L_CS, { NULL }, "portal_url",
	  NULL, "portal_url: missing (required)" },
	{ "empty-file", "", { NULL }, "master_key", NULL, NULL },
	{ "no-file-no-env", NULL, { NULL }, "no configuration: " CONF,
	  NULL, "no configuration: " CONF " does not exist (searched: "
	  "-c/--config: not given; $STRIPE_SYNC_CONF: not set; default: "
	  CONF ") and no STRIPE_SYNC_* variable is set" },
	{ "no-file-only-conf-variable", NULL, { "STRIPE_SYNC_CONF=/elsewhere" },
	  "no configuration: " CONF, NULL, NULL },

	/* master_key and old_master_keys. */
	{ "master-key-not-base64", L_SS L_CS L_PU
	  "master_key = not base64 at all!!\n", { NULL }, "master_key",
	  NULL, "master_key: must be base64 of exactly 32 random bytes" },
	{ "master-key-31-bytes", L_SS L_CS L_PU "master_key = " MK31 "\n",
	  { NULL }, "master_key", NULL,
	  "master_key: must be base64 of exactly 32 random bytes" },
	{ "master-key-33-bytes", L_SS L_CS L_PU "master_key = " MK33 "\n",
	  { NULL }, "master_key", NULL, NULL },
	{ "master-key-all-zero", L_SS L_CS L_PU "master_key = " MK0 "\n",
	  { NULL }, "master_key", NULL, NULL },
	{ "master-key-no-padding", L_SS L_CS L_PU
	  "master_key = MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY\n",
	  { NULL }, "master_key", NULL, NULL },
	{ "master-key-base64url", L_SS L_CS L_PU
	  "master_key = b2xkLWtleS1vbmUtb2xkLWtleS1vbmUtb2xkLWtleTE_\n",
	  { NULL }, "master_key", NULL, NULL },
	{ "master-key-inner-space", L_SS L_CS L_PU
	  "master_key = MDEyMzQ1Njc4OWFi Y2RlZjAxMjM0NTY3ODlhYmNkZWY=\n",
	  { NULL }, "master_key", NULL, NULL },
	{ "old-key-bad", BASE "old_master_keys = " OK1 ", " MK31 "\n",
	  { NULL }, "old_master_keys", NULL, NULL },
	{ "old-key-equals-master", BASE "old_master_keys = " OK1 "," MK "\n",
	  { NULL }, "old_master_keys", "master_key", NULL },
	{ "old-key-duplicate", BASE "old_master_keys = " OK1 "," OK2 ","
	  OK1 "\n", { NULL }, "old_master_keys", NULL, NULL },
	{ "old-key-empty-entry", BASE "old_master_keys = " OK1 ",," OK2 "\n",
	  { NULL }, "old_master_keys", NULL, NULL },
	{ "old-key-trailing-comma", BASE "old_master_keys = " OK1 ",\n",
	  { NULL }, "old_master_keys", NULL, NULL },
	{ "old-key-only-comma", BASE "old_master_keys = ,\n",
	  { NULL }, "old_master_keys", NULL, NULL },

	/* session_secret and callback_secret. */
	{ "session-secret-short", L_MK L_CS L_PU "session_secret = " SS31 "\n",
	  { NULL }, "session_secret", NULL,
	  "session_secret: too short (at least 32 bytes)" },
	{ "callback-secret-short", L_MK L_SS L_PU "callback_secret = " CS31
	  "\n", { NULL }, "callback_secret", NULL, NULL },
	{ "session-secret-placeholder", L_MK L_CS L_PU
	  "session_secret = aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	  { NULL }, "session_secret", NULL, NULL },
	{ "session-secret-repeated-word", L_MK L_CS L_PU
	  "session_secret = changemechangemechangemechangeme\n",
	  { NULL }, "session_secret", NULL, NULL },
	{ "callback-secret-placeholder", L_MK L_SS L_PU
	  "callback_secret = xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
	  { NULL }, "callback_secret", NULL, NULL },
	{ "callback-secret-dot", L_MK L_SS L_PU "callback_secret = " CSDOT
	  "\n", { NULL }, "callback_secret", NULL, NULL },
	{ "callback-secret-slash", L_MK L_SS L_PU "callback_secret = " CSSL
	  "\n", { NULL }, "callback_secret", NULL, NULL },

	/* URLs. */
	{ "cloud-url-http-private", BASE "cloud_api_url = http://10.0.0.1/\n",
	  { NULL }, "cloud_api_url", NULL,
	  "cloud_api_url: must be https (http only for loopback hosts)" },
	{ "cloud-url-http-public", BASE
	  "cloud_api_url = http://example.com/\n", { NULL },
	  "cloud_api_url", NULL, NULL },
	{ "cloud-url-localhost-lookalike", BASE
	  "cloud_api_url = http://localhost.example.com/\n", { NULL },
	  "cloud_api_url", NULL, NULL },
	{ "cloud-url-127-lookalike", BASE
	  "cloud_api_url = http://127.0.0.1.example.com/\n", { NULL },
	  "cloud_api_url", NULL, NULL },
	{ "cloud-url-no-scheme", BASE "cloud_api_url = example.com\n",
	  { NULL }, "cloud_api_url", NULL, NULL },
	{ "cloud-url-ftp", BASE "cloud_api_url = ftp://example.com/\n",
	  { NULL }, "cloud_api_url", NULL, NULL },
	{ "cloud-url-space", BASE "cloud_api_url = https://exa mple.com/\n",
	  { NULL }, "cloud_api_url", NULL, NULL },
	{ "cloud-url-user-password", BASE
	  "cloud_api_url = https://bob:hunter2secret@api.example.com/\n",
	  { NULL }, "cloud_api_url", NULL,
	  "cloud_api_url: must not carry a user name or password "
	  "(user:password@host)" },
	{ "cloud-url-user-only", BASE
	  "cloud_api_url = https://bob@api.example.com/\n",
	  { NULL }, "cloud_api_url", NULL, NULL },
	{ "stripe-url-password", BASE
	  "stripe_api_url = http://:sk_live_0123456789@127.0.0.1:9/\n",
	  { NULL }, "stripe_api_url", NULL,
	  "stripe_api_url: must not carry a user name or password "
	  "(user:password@host)" },
	{ "portal-url-password", L_MK L_SS L_CS
	  "portal_url = https://u:p4ssw0rd@portal.example.com/\n", { NULL },
	  "portal_url", NULL, NULL },
	{ "stripe-url-http", BASE "stripe_api_url = http://api.stripe.com\n",
	  { NULL }, "stripe_api_url", NULL, NULL },
	{ "stripe-url-garbage", BASE "stripe_api_url = https://\n",
	  { NULL }, "stripe_api_url", NULL, NULL },
	{ "portal-url-http", L_MK L_SS L_CS
	  "portal_url = http://portal.example.com/\n", { NULL },
	  "portal_url", NULL, NULL },
	{ "portal-url-query", L_MK L_SS L_CS
	  "portal_url = https://portal.example.com/?a=b\n", { NULL },
	  "portal_url", NULL, NULL },
	{ "portal-url-empty-query", L_MK L_SS L_CS
	  "portal_url = https://portal.example.com/?\n", { NULL },
	  "portal_url", NULL, NULL },
	{ "portal-url-fragment", L_MK L_SS L_CS
	  "portal_url = https://portal.example.com/#top\n", { NULL },
	  "portal_url", NULL, NULL },

	/* The timeouts of calls to Cloud. */
	{ "cloud-timeout-zero", BASE "cloud_timeout = 0\n", { NULL },
	  "cloud_timeout", NULL,
	  "cloud_timeout: must be a whole number of seconds from 1 to 60" },
	{ "cloud-timeout-huge", BASE "cloud_timeout = 61\n", { NULL },
	  "cloud_timeout", NULL, NULL },
	{ "cloud-timeout-fraction", BASE "cloud_timeout = 2.5\n", { NULL },
	  "cloud_timeout", NULL, NULL },
	{ "cloud-connect-timeout-word", BASE "cloud_connect_timeout = ten\n",
	  { NULL }, "cloud_connect_timeout", NULL, NULL },
	{ "cloud-connect-longer-than-total", BASE
	  "cloud_connect_timeout = 9\ncloud_timeout = 5\n", { NULL },
	  "cloud_connect_timeout", "cloud_timeout",
	  "cloud_connect_timeout: must not be longer than cloud_timeout" },
	{ "cloud-timeout-env", BASE, { "STRIPE_SYNC_CLOUD_TIMEOUT=-1" },
	  "cloud_timeout", NULL, NULL },

	/* Stripe's timeouts and rate, and the job runner's patience. */
	{ "stripe-timeout-zero", BASE "stripe_timeout = 0\n", { NULL },
	  "stripe_timeout", NULL,
	  "stripe_timeout: must be a whole number of seconds from 1 to 60" },
	{ "stripe-connect-longer-than-total", BASE
	  "stripe_connect_timeout = 9\nstripe_timeout = 5\n", { NULL },
	  "stripe_connect_timeout", "stripe_timeout",
	  "stripe_connect_timeout: must not be longer than stripe_timeout" },
	{ "stripe-rate-over-live-limit", BASE "stripe_rate = 101\n", { NULL },
	  "stripe_rate", NULL,
	  "stripe_rate: must be a whole number of calls a second from 0 "
	  "to 100" },
	{ "stripe-rate-negative-env", BASE, { "STRIPE_SYNC_STRIPE_RATE=-5" },
	  "stripe_rate", NULL, NULL },
	{ "sync-patience-zero", BASE "sync_patience = 0\n", { NULL },
	  "sync_patience", NULL, NULL },
	{ "sync-confirm-timeout-word", BASE "sync_confirm_timeout = soon\n",
	  { NULL }, "sync_confirm_timeout", NULL, NULL },
	{ "sync-lease-one-second", BASE "sync_lease = 1\n", { NULL },
	  "sync_lease", NULL,
	  "sync_lease: must be a whole number of seconds from 2 to 3600" },
	{ "webhook-debounce-over-five-minutes", BASE
	  "webhook_debounce = 301\n", { NULL }, "webhook_debounce", NULL,
	  "webhook_debounce: must be a whole number of seconds from 0 to "
	  "300" },
	{ "webhook-max-wait-negative-env", BASE,
	  { "STRIPE_SYNC_WEBHOOK_MAX_WAIT=-1" }, "webhook_max_wait", NULL,
	  NULL },

	/* session_ttl. */
	{ "ttl-too-low", BASE "session_ttl = 299\n", { NULL },
	  "session_ttl", NULL,
	  "session_ttl: must be an integer from 300 to 900" },
	{ "ttl-too-high", BASE "session_ttl = 901\n", { NULL },
	  "session_ttl", NULL, NULL },
	{ "ttl-junk-suffix", BASE "session_ttl = 600s\n", { NULL },
	  "session_ttl", NULL, NULL },
	{ "ttl-comment-is-value", BASE "session_ttl = 600 # ten minutes\n",
	  { NULL }, "session_ttl", NULL, NULL },
	{ "ttl-plus-sign", BASE "session_ttl = +600\n", { NULL },
	  "session_ttl", NULL, NULL },
	{ "ttl-negative", BASE "session_ttl = -600\n", { NULL },
	  "session_ttl", NULL, NULL },
	{ "ttl-hex", BASE "session_ttl = 0x258\n", { NULL },
	  "session_ttl", NULL, NULL },
	{ "ttl-float", BASE "session_ttl = 600.0\n", { NULL },
	  "session_ttl", NULL, NULL },
	{ "ttl-overflow", BASE "session_ttl = 99999999999999999999999\n",
	  { NULL }, "session_ttl", NULL, NULL },

	/* frame_ancestors, ca_file, log_level. */
	{ "frame-ancestors-semicolon", BASE
	  "frame_ancestors = 'self'; script-src *\n", { NULL },
	  "frame_ancestors", NULL, NULL },
	{ "frame-ancestors-comma", BASE
	  "frame_ancestors = 'self', https://x.example\n", { NULL },
	  "frame_ancestors", NULL, NULL },
	{ "frame-ancestors-control", BASE "frame_ancestors = 'self'\001\n",
	  { NULL }, "frame_ancestors", NULL, NULL },
	{ "frame-ancestors-newline-env", BASE, {
	  "STRIPE_SYNC_FRAME_ANCESTORS='self'\r\nX-Evil: 1" },
	  "frame_ancestors", NULL, NULL },
	{ "ca-file-missing", BASE "ca_file = @D@/no-such.pem\n", { NULL },
	  "ca_file", NULL, NULL },
	{ "ca-file-directory", BASE "ca_file = @D@/cadir\n", { NULL },
	  "ca_file", NULL, NULL },
	{ "log-level-unknown", BASE "log_level = verbose\n", { NULL },
	  "log_level", NULL, NULL },
	{ "log-level-upper-case", BASE "log_level = INFO\n", { NULL },
	  "log_level", NULL, NULL },

	/* The environment. */
	{ "env-unknown", BASE, { "STRIPE_SYNC_FOO=1" }, "STRIPE_SYNC_FOO",
	  NULL, "STRIPE_SYNC_FOO: unknown configuration variable" },
	{ "env-typo", BASE, { "STRIPE_SYNC_MASTERKEY=" MK },
	  "STRIPE_SYNC_MASTERKEY", NULL, NULL },
	{ "env-bare-prefix", BASE, { "STRIPE_SYNC_=1" }, "STRIPE_SYNC_",
	  NULL, NULL },
	{ "env-lower-case-suffix", BASE, { "STRIPE_SYNC_log_level=info" },
	  "STRIPE_SYNC_log_level", NULL, NULL },
	{ "env-empty-value", BASE, { "STRIPE_SYNC_LOG_LEVEL=" },
	  "STRIPE_SYNC_LOG_LEVEL", NULL, NULL },
	{ "env-both-forms", BASE, { "STRIPE_SYNC_MASTER_KEY=" MK,
	  "STRIPE_SYNC_MASTER_KEY_FILE=@D@/mk.txt" },
	  "STRIPE_SYNC_MASTER_KEY", "STRIPE_SYNC_MASTER_KEY_FILE", NULL },
	{ "env-overrides-to-bad-ttl", BASE "session_ttl = 600\n",
	  { "STRIPE_SYNC_SESSION_TTL=1000" }, "session_ttl", NULL, NULL },
	{ "env-overrides-to-bad-master-key", BASE,
	  { "STRIPE_SYNC_MASTER_KEY=" MK31 }, "master_key", NULL, NULL },
	{ "env-file-form-replaces-file-value", BASE,
	  { "STRIPE_SYNC_MASTER_KEY_FILE=@D@/no-such-key" },
	  "master_key_file", NULL, NULL },
	{ "env-only-missing-portal", NULL, { "STRIPE_SYNC_MASTER_KEY=" MK,
	  "STRIPE_SYNC_SESSION_SECRET=" SS,
	  "STRIPE_SYNC_CALLBACK_SECRET=" CS }, "portal_url", NULL,
	  "portal_url: missing (required)" },
	{ "env-short-session-secret", BASE,
	  { "STRIPE_SYNC_SESSION_SECRET=" SS31 }, "session_secret", NULL,
	  NULL },

	/* The _file forms. */
	{ "secret-file-missing", L_SS L_CS L_PU
	  "master_key_file = @D@/no-such-key\n", { NULL },
	  "master_key_file", NULL, NULL },
	{ "secret-file-empty", L_SS L_CS L_PU
	  "master_key_file = @D@/empty.txt\n", { NULL },
	  "master_key_file", NULL, NULL },
	{ "secret-file-only-newline", L_SS L_CS L_PU
	  "master_key_file = @D@/nl.txt\n", { NULL },
	  "master_key_file", NULL, NULL },
	{ "secret-file-nul", L_MK L_CS L_PU
	  "session_secret_file = @D@/nul.txt\n", { NULL },
	  "session_secret_file", NULL, NULL },
	{ "secret-file-too-big", L_MK L_CS L_PU
	  "session_secret_file = @D@/big.txt\n", { NULL },
	  "session_secret_file", NULL, NULL },
	{ "secret-file-max-size-read", L_MK L_CS L_PU
	  "session_secret_file = @D@/max.txt\n", { NULL },
	  "session_secret", NULL, "session_secret: too long "
	  "(at most 1024 bytes)" },
	{ "secret-file-directory", L_MK L_CS L_PU
	  "session_secret_file = @D@/cadir\n", { NULL },
	  "session_secret_file", NULL, NULL },
	{ "secret-file-two-newlines", L_SS L_CS L_PU
	  "master_key_file = @D@/mk-2nl.txt\n", { NULL },
	  "master_key", NULL, NULL },
	{ "secret-file-short-session", L_MK L_CS L_PU
	  "session_secret_file = @D@/ss-short.txt\n", { NULL },
	  "session_secret", NULL, NULL },
	{ "secret-file-bad-old-keys", BASE
	  "old_master_keys_file = @D@/old-bad.txt\n", { NULL },
	  "old_master_keys", NULL, NULL },
	{ "secret-file-bad-callback", L_MK L_SS L_PU
	  "callback_secret_file = @D@/cs-bad.txt\n", { NULL },
	  "callback_secret", NULL, NULL },
};

/* Run every row of bad[]. */
static void
test_bad_rows(void)
{
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		clear_env();
		write_conf(bad[i].file);
		set_env(bad[i].env, 4);
		check_fail(bad[i].name, 0, bad[i].want, bad[i].want2,
		    bad[i].exact, NULL);
	}
	clear_env();
}

/* The defaults, the key id and the derived token key. */
static void
test_defaults(void)
{
	struct conf	 cf;
	unsigned char	 tk[32];
	char		 id[CONF_KIDLEN + 1];

	clear_env();
	write_conf(BASE);
	if (!load_ok("defaults", &cf, 1))
		return;
	is_str(cf.path, confpath, "defaults: path");
	is_str(cf.db_path, LOCALSTATEDIR "/lib/stripe-sync/stripe-sync.db",
	    "defaults: db_path");
	is_str(cf.cloud_api_url, "https://api.cloud.blnkfinance.com",
	    "defaults: cloud_api_url");
	is_str(cf.stripe_api_url, "https://api.stripe.com",
	    "defaults: stripe_api_url");
	is_str(cf.portal_url, "https://portal.example.com/app",
	    "defaults: portal_url kept as given");
	is_int(cf.session_ttl, 900, "defaults: session_ttl");
	is_str(cf.frame_ancestors,
	    "'self' https://blnkfinance.com https://*.blnkfinance.com",
	    "defaults: frame_ancestors");
	ok(cf.ca_file == NULL, "defaults: ca_file unset");
	ok(cf.log_file == NULL, "defaults: log_file unset");
	is_int(cf.log_level, LOG_LEVEL_INFO, "defaults: log_level");
	is_int(cf.cloud_connect_timeout, 3, "defaults: cloud_connect_timeout");
	is_int(cf.cloud_timeout, 10, "defaults: cloud_timeout");
	is_int(cf.allow_root, 0, "defaults: allow_root off");
	is_int(cf.webhook_debounce, 5, "defaults: webhook_debounce");
	is_int(cf.webhook_max_wait, 60, "defaults: webhook_max_wait");
	is_int(cf.nkeys, 1, "defaults: one key");
	is_str(cf.session_secret, SS, "defaults: session_secret");
	is_int(cf.session_secret_len, strlen(SS),
	    "defaults: session_secret_len");
	is_str(cf.callback_secret, CS, "defaults: callback_secret");
	ok(memcmp(cf.keys[0].key, "0123456789abcdef0123456789abcdef",
	    32) == 0, "defaults: master key decoded");
	crypto_key_id(cf.keys[0].key, id);
	is_str(cf.keys[0].id, id, "defaults: key id from crypto_key_id");
	is_int(strlen(cf.keys[0].id), CONF_KIDLEN, "defaults: id length");
	ok(crypto_hkdf(SS, strlen(SS), "stripe-sync launch token v1", tk) &&
	    memcmp(tk, cf.token_key, 32) == 0,
	    "defaults: token_key is HKDF of session_secret");
	conf_free(&cf);
	ok(is_zeroed(&cf), "defaults: conf_free zeroes");
	conf_free(&cf);
	ok(is_zeroed(&cf), "defaults: conf_free twice is harmless");
}

/* Comments, blanks, CRLF, '#' inside a value, every key set. */
static void
test_format_and_all_keys(void)
{
	struct conf	 cf;
	char		 want[256];

	clear_env();
	write_conf("# a comment\n"
	    "   # an indented comment\n"
	    "\n"
	    "\t \r\n"
	    "  master_key\t=\t" MK "  \r\n"
	    "session_secret=" SS "\n"
	    L_CS L_PU
	    "db_path = @D@/db.sqlite\n"
	    "cloud_api_url = http://127.0.0.1:9/\n"
	    "stripe_api_url = http://localhost:12111\n"
	    "session_ttl = 300\n"
	    "frame_ancestors = 'self' https://app.example #x\n"
	    "ca_file = @D@/ca.pem\n"
	    "log_level = debug\n"
	    "log_file = @D@/app.log");	/* no final newline */
	if (!load_ok("format", &cf, 1))
		return;
	ok(memcmp(cf.keys[0].key, "0123456789abcdef0123456789abcdef",
	    32) == 0, "format: blanks and CRLF trimmed from master_key");
	is_str(cf.session_secret, SS, "format: no blanks around '='");
	is_str(cf.db_path, subst("@D@/db.sqlite", want, sizeof(want)),
	    "format: db_path");
	is_str(cf.cloud_api_url, "http://127.0.0.1:9/",
	    "format: http allowed for 127.0.0.1");
	is_str(cf.stripe_api_url, "http://localhost:12111",
	    "format: http allowed for localhost");
	is_int(cf.session_ttl, 300, "format: session_ttl");
	is_str(cf.frame_ancestors, "'self' https://app.example #x",
	    "format: '#' later in a line is part of the value");
	is_str(cf.ca_file, subst("@D@/ca.pem", want, sizeof(want)),
	    "format: ca_file");
	is_int(cf.log_level, LOG_LEVEL_DEBUG, "format: log_level");
	is_str(cf.log_file, subst("@D@/app.log", want, sizeof(want)),
	    "format: last line without newline");
	conf_free(&cf);
}

/* The environment beats the file. */
static void
test_env_precedence(void)
{
	struct conf	 cf;
	char		 buf[256];

	clear_env();
	write_conf(BASE "session_ttl = 600\nlog_level = warn\n");
	setenv("STRIPE_SYNC_SESSION_TTL", "300", 1);
	setenv("STRIPE_SYNC_DB_PATH", "/srv/x.db", 1);
	setenv("STRIPE_SYNC_CONF", "/nonexistent/ignored.conf", 1);
	if (load_ok("env wins", &cf, 1)) {
		is_int(cf.session_ttl, 300, "env wins: session_ttl");
		is_str(cf.db_path, "/srv/x.db", "env wins: db_path");
		is_int(cf.log_level, LOG_LEVEL_WARN,
		    "env wins: file value kept when env unset");
		conf_free(&cf);
	}

	/* Env's value form replaces the file's _file form. */
	clear_env();
	write_conf(L_SS L_CS L_PU "master_key_file = @D@/no-such-key\n");
	setenv("STRIPE_SYNC_MASTER_KEY", OK1, 1);
	if (load_ok("env value replaces file _file", &cf, 1)) {
		ok(memcmp(cf.keys[0].key, "old-key-one-old-key-one-old-key1",
		    32) == 0, "env value replaces file _file: key");
		conf_free(&cf);
	}

	/* Env's _file form replaces the file's value form. */
	clear_env();
	write_conf(L_MK L_CS L_PU "session_secret = " SS31 "\n");
	setenv("STRIPE_SYNC_SESSION_SECRET_FILE",
	    subst("@D@/ss.txt", buf, sizeof(buf)), 1);
	if (load_ok("env _file replaces file value", &cf, 1)) {
		is_str(cf.session_secret, SS,
		    "env _file replaces file value: secret, CRLF stripped");
		conf_free(&cf);
	}

	/* No file at all: the environment alone. */
	clear_env();
	write_conf(NULL);
	setenv("STRIPE_SYNC_MASTER_KEY", MK, 1);
	setenv("STRIPE_SYNC_SESSION_SECRET", SS, 1);
	setenv("STRIPE_SYNC_CALLBACK_SECRET", CS, 1);
	setenv("STRIPE_SYNC_PORTAL_URL", "http://[::1]:8080/portal", 1);
	setenv("STRIPE_SYNC_CLOUD_API_URL", "https://cloud.example", 1);
	if (load_ok("env only", &cf, 0)) {
		ok(cf.path == NULL, "env only: no path");
		is_str(cf.portal_url, "http://[::1]:8080/portal",
		    "env only: http allowed for ::1");
		is_str(cf.cloud_api_url, "https://cloud.example",
		    "env only: cloud_api_url");
		conf_free(&cf);
	}
	check_fail("must-exist-missing-file", 1, CONF, NULL,
	    "no configuration: " CONF " does not exist (searched: "
	    "-c/--config: " CONF ")", NULL);
	clear_env();
}

/* The _file forms of every secret. */
static void
test_secret_files(void)
{
	struct conf	 cf;

	clear_env();
	write_conf(L_PU
	    "master_key_file = @D@/mk-crlf.txt\n"
	    "old_master_keys_file = @D@/old.txt\n"
	    "session_secret_file = @D@/ss-blank.txt\n"
	    "callback_secret_file = @D@/cs.txt\n");
	if (!load_ok("_file", &cf, 1))
		return;
	ok(memcmp(cf.keys[0].key, "0123456789abcdef0123456789abcdef",
	    32) == 0, "_file: master_key, CRLF stripped");
	is_int(cf.nkeys, 3, "_file: old_master_keys read");
	is_str(cf.session_secret, SS " ",
	    "_file: only one newline stripped, inner blank kept");
	is_int(cf.session_secret_len, strlen(SS) + 1,
	    "_file: session_secret_len");
	is_str(cf.callback_secret, CS, "_file: no newline at all");
	conf_free(&cf);

	clear_env();
	write_conf(L_SS L_CS L_PU "master_key_file = @D@/mk.txt\n");
	if (load_ok("_file newline", &cf, 1)) {
		ok(memcmp(cf.keys[0].key, "0123456789abcdef0123456789abcdef",
		    32) == 0, "_file newline: master_key");
		conf_free(&cf);
	}
}

/* Encode 32 bytes "old-key-<n>..." as base64 into out (at least 45). */
static void
make_key(int n, char *out)
{
	unsigned char	 k[32];

	memset(k, 'a' + n, sizeof(k));
	snprintf((char *)k, sizeof(k), "key-number-%d-", n);
	k[13] = 'x';
	EVP_EncodeBlock((unsigned char *)out, k, sizeof(k));
}

/* old_master_keys: order, ids, and the limit of CONF_MAXKEYS - 1. */
static void
test_old_keys(void)
{
	struct conf	 cf;
	char		 text[2048], key[64];
	char		 id[CONF_KIDLEN + 1];
	size_t		 i;
	int		 n;

	clear_env();
	/* An empty old_master_keys_file (the credential file between two
	 * rotations) means no old key; an empty master_key_file is still an
	 * error (row master-key-file-empty). */
	write_conf(BASE "old_master_keys_file = @D@/empty.txt\n");
	if (load_ok("old keys empty file", &cf, 1)) {
		is_int(cf.nkeys, 1, "old keys: an empty file is none");
		conf_free(&cf);
	}
	write_conf(BASE "old_master_keys_file = @D@/nl.txt\n");
	if (load_ok("old keys newline file", &cf, 1)) {
		is_int(cf.nkeys, 1, "old keys: a lone newline is none");
		conf_free(&cf);
	}
	write_conf(BASE "old_master_keys = " OK1 " , " OK2 "\n");
	if (load_ok("old keys", &cf, 1)) {
		is_int(cf.nkeys, 3, "old keys: three keys");
		ok(memcmp(cf.keys[1].key, "old-key-one-old-key-one-old-key1",
		    32) == 0, "old keys: keys[1] is the first old key");
		ok(memcmp(cf.keys[2].key, "old-key-two-old-key-two-old-key2",
		    32) == 0, "old keys: keys[2] is the second old key");
		for (i = 0; i < cf.nkeys; i++) {
			crypto_key_id(cf.keys[i].key, id);
			is_str(cf.keys[i].id, id, "old keys: id of key %zu",
			    i);
		}
		ok(strcmp(cf.keys[0].id, cf.keys[1].id) != 0 &&
		    strcmp(cf.keys[1].id, cf.keys[2].id) != 0,
		    "old keys: ids differ");
		conf_free(&cf);
	}

	for (n = CONF_MAXKEYS - 1; n <= CONF_MAXKEYS; n++) {
		snprintf(text, sizeof(text), BASE "old_master_keys = ");
		for (i = 0; i < (size_t)n; i++) {
			make_key((int)i, key);
			if (i > 0)
				strcat(text, ",");
			strcat(text, key);
		}
		strcat(text, "\n");
		clear_env();
		write_conf(text);
		if (n == CONF_MAXKEYS - 1) {
			if (load_ok("seven old keys", &cf, 1)) {
				is_int(cf.nkeys, CONF_MAXKEYS,
				    "seven old keys: all loaded");
				conf_free(&cf);
			}
		} else
			check_fail("eight-old-keys", 1, "old_master_keys",
			    NULL, "old_master_keys: at most 7 keys", key);
	}
}

/* Length limits of the two secrets, at and past each boundary. */
static void
test_secret_lengths(void)
{
	struct conf	 cf;
	char		 text[4096], s[1100];
	size_t		 i;

	/* Varied characters: a secret of one repeated letter is refused
	 * as a placeholder, whatever its length. */
	for (i = 0; i < sizeof(s); i++)
		s[i] = "abcdefghijklmnop"[i % 16];
	clear_env();

	s[32] = '\0';
	snprintf(text, sizeof(text), L_MK L_CS L_PU "session_secret = %s\n",
	    s);
	write_conf(text);
	if (load_ok("session secret 32 bytes", &cf, 1))
		conf_free(&cf);

	s[32] = "abcdefghijklmnop"[32 % 16];
	s[1024] = '\0';
	snprintf(text, sizeof(text), L_MK L_CS L_PU "session_secret = %s\n",
	    s);
	write_conf(text);
	if (load_ok("session secret 1024 bytes", &cf, 1))
		conf_free(&cf);

	s[1024] = 'x';
	s[1025] = '\0';
	snprintf(text, sizeof(text), L_MK L_CS L_PU "session_secret = %s\n",
	    s);
	write_conf(text);
	check_fail("session-secret-1025-bytes", 1, "session_secret", NULL,
	    "session_secret: too long (at most 1024 bytes)", s);

	for (i = 0; i < sizeof(s); i++)
		s[i] = "ABCDEFGHIJ_-0123"[i % 16];
	s[128] = '\0';
	snprintf(text, sizeof(text), L_MK L_SS L_PU "callback_secret = %s\n",
	    s);
	write_conf(text);
	if (load_ok("callback secret 128 chars", &cf, 1))
		conf_free(&cf);

	s[128] = 'y';
	s[129] = '\0';
	snprintf(text, sizeof(text), L_MK L_SS L_PU "callback_secret = %s\n",
	    s);
	write_conf(text);
	check_fail("callback-secret-129-chars", 1, "callback_secret", NULL,
	    NULL, s);

	s[32] = '\0';
	snprintf(text, sizeof(text), L_MK L_SS L_PU "callback_secret = %s\n",
	    s);
	write_conf(text);
	if (load_ok("callback secret 32 chars", &cf, 1))
		conf_free(&cf);
}

/* Line length limit and NUL bytes in the configuration file. */
static void
test_file_bytes(void)
{
	struct conf	 cf;
	static char	 text[8192];
	size_t		 len;

	clear_env();
	/* A 4096-byte line: "log_file = /" plus padding. */
	len = snprintf(text, sizeof(text), BASE "log_file = /");
	memset(text + len, 'l', 4096 - 12);
	len += 4096 - 12;
	text[len++] = '\n';
	text[len] = '\0';
	write_conf(text);
	if (load_ok("line of 4096 bytes", &cf, 1)) {
		is_int(strlen(cf.log_file), 4096 - 11,
		    "line of 4096 bytes: value");
		conf_free(&cf);
	}

	text[len - 1] = 'l';
	text[len++] = '\n';
	text[len] = '\0';
	write_conf(text);
	check_fail("line-of-4097-bytes", 1, CONF ":5:", "longer", NULL,
	    NULL);

	len = snprintf(text, sizeof(text), BASE "log_level = in");
	memcpy(text + len, "\0fo\n", 4);
	write_file("stripe-sync.conf", text, len + 4);
	check_fail("nul-byte-in-file", 1, CONF ":5:", "NUL", NULL, NULL);
}

/* conf_url_is_loopback() directly. */
static void
test_loopback(void)
{
	static const struct {
		const char	*url;
		int		 want;
	} rows[] = {
		{ "http://127.0.0.1/", 1 },
		{ "http://127.8.9.10:8080/x", 1 },
		{ "http://127.255.255.255/", 1 },
		{ "https://localhost/", 1 },
		{ "http://LocalHost:9/", 1 },
		{ "http://[::1]:9/", 1 },
		{ "http://10.0.0.1/", 0 },
		{ "http://128.0.0.1/", 0 },
		{ "http://126.255.255.255/", 0 },
		{ "http://example.com/", 0 },
		{ "http://localhost.example.com/", 0 },
		{ "http://127.0.0.1.example.com/", 0 },
		{ "http://[::2]/", 0 },
		{ "http://[::ffff:10.0.0.1]/", 0 },
		{ "http://0.0.0.0/", 0 },
		{ "not a url", 0 },
		{ "", 0 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		is_int(conf_url_is_loopback(rows[i].url), rows[i].want,
		    "loopback: \"%s\"", rows[i].url);
	is_int(conf_url_is_loopback(NULL), 0, "loopback: NULL");
}

/* conf_path() precedence. */
static void
test_conf_path(void)
{
	clear_env();
	is_str(conf_path("/x/y.conf"), "/x/y.conf", "conf_path: argument");
	is_str(conf_path(NULL), SYSCONFDIR "/stripe-sync.conf",
	    "conf_path: default");
	setenv("STRIPE_SYNC_CONF", "/from/env.conf", 1);
	is_str(conf_path(NULL), "/from/env.conf", "conf_path: environment");
	is_str(conf_path("/x/y.conf"), "/x/y.conf",
	    "conf_path: argument beats environment");
	setenv("STRIPE_SYNC_CONF", "", 1);
	is_str(conf_path(NULL), SYSCONFDIR "/stripe-sync.conf",
	    "conf_path: empty environment ignored");
	clear_env();
}

/* conf_keys[]: complete, NULL-terminated, every one known to the env. */
static void
test_conf_keys(void)
{
	static const char *const want[] = {
		"db_path", "master_key", "master_key_file",
		"old_master_keys", "old_master_keys_file", "session_secret",
		"session_secret_file", "callback_secret",
		"callback_secret_file", "cloud_api_url", "stripe_api_url",
		"portal_url", "session_ttl", "frame_ancestors", "ca_file",
		"log_level", "log_file", "allow_root",
		"cloud_connect_timeout", "cloud_timeout",
		"stripe_connect_timeout", "stripe_timeout", "stripe_rate",
		"sync_patience", "sync_confirm_timeout", "sync_lease",
		"webhook_debounce", "webhook_max_wait", "sandbox", NULL
	};
	struct conf	 cf;
	char		 name[64], err[512];
	size_t		 i, j, n;
	int		 found;

	for (n = 0; conf_keys[n] != NULL; n++)
		continue;
	is_int(n, sizeof(want) / sizeof(want[0]) - 1, "conf_keys: count");
	for (i = 0; want[i] != NULL; i++) {
		for (found = 0, j = 0; conf_keys[j] != NULL; j++)
			found |= strcmp(conf_keys[j], want[i]) == 0;
		ok(found, "conf_keys: has %s", want[i]);
	}

	/* Each STRIPE_SYNC_<KEY> is a known variable. */
	write_conf(NULL);
	for (i = 0; conf_keys[i] != NULL; i++) {
		clear_env();
		snprintf(name, sizeof(name), "STRIPE_SYNC_");
		for (j = 0; conf_keys[i][j] != '\0'; j++)
			name[12 + j] = (char)(conf_keys[i][j] >= 'a' &&
			    conf_keys[i][j] <= 'z' ? conf_keys[i][j] - 32 :
			    conf_keys[i][j]);
		name[12 + j] = '\0';
		setenv(name, "1", 1);
		err[0] = '\0';
		if (conf_load(&cf, confpath, 0, err, sizeof(err)))
			conf_free(&cf);
		ok(strstr(err, "unknown configuration variable") == NULL,
		    "conf_keys: %s is a known variable", name);
	}
	clear_env();
}

/* A missing file the operator named: the message says where it looked. */
static void
test_no_conf(void)
{
	char	 path[512];

	clear_env();
	write_conf(NULL);
	setenv("STRIPE_SYNC_CONF", subst(CONF, path, sizeof(path)), 1);
	check_fail("named by STRIPE_SYNC_CONF, missing", 1,
	    "no configuration: " CONF, NULL, "no configuration: " CONF
	    " does not exist (searched: $STRIPE_SYNC_CONF: " CONF ")", NULL);
	clear_env();
}

/* Null and tiny error buffers are tolerated. */
static void
test_err_buffers(void)
{
	struct conf	 cf;
	char		 err[8];

	clear_env();
	write_conf(L_SS);
	is_int(conf_load(&cf, confpath, 1, NULL, 0), 0,
	    "err NULL: still fails");
	memset(err, 'z', sizeof(err));
	is_int(conf_load(&cf, confpath, 1, err, sizeof(err)), 0,
	    "err small: fails");
	ok(memchr(err, '\0', sizeof(err)) != NULL, "err small: terminated");
	ok(!leaks_secret(err, NULL), "err small: no secret");
	conf_free(&cf);
	ok(is_zeroed(&cf), "conf_free on a zeroed struct");
}

/* The files the rows refer to as @D@/name. */
static const char *const files[] = {
	"mk.txt", "mk-crlf.txt", "mk-2nl.txt", "ss.txt", "ss-blank.txt",
	"ss-short.txt", "cs.txt", "cs-bad.txt", "old.txt", "old-bad.txt",
	"empty.txt", "nl.txt", "nul.txt", "big.txt", "max.txt", "ca.pem",
	"stripe-sync.conf", NULL
};

static int
make_files(void)
{
	static char	 big[4097];
	static const char nul[] = "0123456789abcdef\0" "0123456789abcdefg";
	int		 rc = 1;

	memset(big, 's', sizeof(big));
	rc &= write_file("mk.txt", MK "\n", strlen(MK) + 1);
	rc &= write_file("mk-crlf.txt", MK "\r\n", strlen(MK) + 2);
	rc &= write_file("mk-2nl.txt", MK "\n\n", strlen(MK) + 2);
	rc &= write_file("ss.txt", SS "\r\n", strlen(SS) + 2);
	rc &= write_file("ss-blank.txt", SS " \n", strlen(SS) + 2);
	rc &= write_file("ss-short.txt", SS31 "\n", strlen(SS31) + 1);
	rc &= write_file("cs.txt", CS, strlen(CS));
	rc &= write_file("cs-bad.txt", CSDOT "\n", strlen(CSDOT) + 1);
	rc &= write_file("old.txt", OK1 "," OK2 "\n",
	    strlen(OK1 "," OK2) + 1);
	rc &= write_file("old-bad.txt", OK1 "," MK33 "\n",
	    strlen(OK1 "," MK33) + 1);
	rc &= write_file("empty.txt", "", 0);
	rc &= write_file("nl.txt", "\n", 1);
	rc &= write_file("nul.txt", nul, sizeof(nul) - 1);
	rc &= write_file("big.txt", big, 4097);
	rc &= write_file("max.txt", big, 4096);
	rc &= write_file("ca.pem", "not really a CA\n", 16);
	return rc;
}

static void
remove_files(void)
{
	char	 path[256];
	size_t	 i;

	for (i = 0; files[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/cadir", dir);
	rmdir(path);
	rmdir(dir);
}

int
main(void)
{
	char	 path[256];
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/test-conf.XXXXXX",
	    tmp != NULL && *tmp != '\0' && strlen(tmp) < 32 ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return done_testing();
	}
	snprintf(confpath, sizeof(confpath), "%s/stripe-sync.conf", dir);
	snprintf(path, sizeof(path), "%s/cadir", dir);
	if (!ok(make_files() && mkdir(path, 0700) == 0, "fixtures written")) {
		remove_files();
		return done_testing();
	}

	test_bad_rows();
	test_defaults();
	test_format_and_all_keys();
	test_env_precedence();
	test_secret_files();
	test_old_keys();
	test_secret_lengths();
	test_file_bytes();
	test_loopback();
	test_conf_path();
	test_conf_keys();
	test_no_conf();
	test_err_buffers();

	clear_env();
	remove_files();
	return done_testing();
}
