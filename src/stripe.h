/*
 * stripe.h: the client of Stripe's API, for the workers (checking a key
 * when the portal connects it) and the job runner (the sync).
 *
 * One struct stripe per process, on its own httpc (so its connections
 * stay warm), calling stripe_api_url with the Stripe-Version this app
 * speaks pinned on every call: the one Stripe's fixtures and our
 * simulator follow.  Only reads: GET, retried on a failure to connect, a
 * 429 or a 5xx, or when Stripe-Should-Retry says so, within
 * stripe_timeout; never when it says not to.  The key is the caller's,
 * sent as "Authorization: Bearer" and wiped with the header list.  A
 * message from Stripe is cleaned of anything that looks like a key
 * before it goes anywhere.
 */
#ifndef STRIPE_H
#define STRIPE_H

#include <stddef.h>

/* The API version the fixtures (shared/fixtures/stripe, the event's
 * api_version) and tools/stripe-sim follow. */
#define STRIPE_API_VERSION	"2022-11-15"

struct conf;
struct json_object;
struct stripe;

enum stripe_mode {
	STRIPE_TEST,
	STRIPE_LIVE,
	STRIPE__MODE_MAX
};

extern const char *const stripe_mode_names[STRIPE__MODE_MAX];	/* "test" */

enum stripe_keytype {
	STRIPE_SECRET,		/* sk_ */
	STRIPE_RESTRICTED,	/* rk_ */
	STRIPE__KEYTYPE_MAX
};

extern const char *const stripe_keytype_names[STRIPE__KEYTYPE_MAX];

/*
 * Is key a Stripe secret or restricted key: "sk_" or "rk_", "test_" or
 * "live_", then 8 to 247 letters and digits?  Returns 1 with *mode and
 * *type set, else 0.  A publishable key (pk_) is not one.
 */
int		 stripe_key_parse(const char *key, enum stripe_mode *mode,
		    enum stripe_keytype *type);

/*
 * A failed call: status and code are ours, as the portal answers them
 * (STRIPE_KEY_INVALID, STRIPE_PERMISSION, STRIPE_RATE_LIMITED,
 * STRIPE_UNREACHABLE, STRIPE_TIMEOUT, STRIPE_ERROR, ...); retryable says
 * whether waiting and trying again can help (an outage, a rate limit);
 * the rest is Stripe's, for the log and the run report.  No key, URL or
 * header is ever in it.
 */
struct stripe_err {
	int		 status;
	char		 code[64];
	char		 message[256];
	int		 retryable;
	long		 upstream_status;	/* 0: no answer */
	char		 stripe_code[64];	/* error.code, or "" */
	char		 request_id[64];	/* Request-Id, or "" */
	char		 detail[128];		/* the transport's words */
};

/* Make the client from cf (stripe_api_url, timeouts, ca_file); NULL on
 * failure. */
struct stripe	*stripe_new(const struct conf *cf);
void		 stripe_free(struct stripe *s);

/* At most per_second calls a second from now on (0: no limit).  Calls
 * past it wait their turn, they are not refused. */
void		 stripe_set_rate(struct stripe *s, long per_second);

/*
 * GET /v1/<segs...>?<query> with key.  segs are NULL-terminated path
 * segments after /v1 (each escaped), query k, v, ..., NULL.  Returns 1
 * with the parsed JSON object in *out (caller json_object_put()s), or 0
 * with *e filled.
 */
int		 stripe_get(struct stripe *s, const char *key,
		    const char *const *segs, const char *const *query,
		    struct json_object **out, struct stripe_err *e);

/* Calls made and connections opened so far (tests, benchmark). */
long		 stripe_calls(const struct stripe *s);
long		 stripe_connects(const struct stripe *s);

/* Copy msg into buf with every key-like word ([sr]k_test_..., whsec_...)
 * masked, printable ASCII only. */
void		 stripe_scrub(char *buf, size_t bufsz, const char *msg);

#endif
