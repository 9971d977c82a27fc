/*
 * httpc.h: the one HTTP client core under every outbound call (Cloud now,
 * Stripe later), on libcurl.
 *
 * One struct httpc per service per process, made once and kept: its curl
 * handle keeps the connections (and TLS sessions) it opened, so a warm
 * process makes no new TCP or TLS handshake per call.  A worker serves one
 * request at a time, so one handle per service is all it needs.
 *
 * Every call has a connect timeout and a total deadline, verifies TLS
 * (never turned off; ca_file only adds a CA bundle), follows no redirect,
 * speaks only http(s), and caps the size of the answer.  Retries are
 * bounded and only where they are safe: a read (GET) is retried on a
 * failure to connect, a 429, 502, 503 or 504; a write only on 429 and 503,
 * the answers that say the server did not act on it, and only before the
 * deadline.  Retry-After is honoured within the deadline.
 *
 * Nothing here logs a header or a body: a bearer key lives only in the
 * header list of one call, which is wiped before it is freed.
 */
#ifndef HTTPC_H
#define HTTPC_H

#include <stddef.h>

struct httpc;

struct httpc_conf {
	long		 connect_timeout_ms;	/* per attempt */
	long		 timeout_ms;		/* the whole call, retries too */
	const char	*ca_file;		/* NULL: the system store */
	size_t		 max_response;		/* bytes of body, at most */
	int		 max_attempts;		/* 1: no retry */
	long		 backoff_ms;		/* first pause; doubles */
};

enum httpc_method {
	HTTPC_GET,
	HTTPC_POST,
	HTTPC_PUT,
	HTTPC_DELETE,
	HTTPC__MAX
};

/* What went wrong below HTTP.  An HTTP error status is not a fault. */
enum httpc_fault {
	HTTPC_OK,
	HTTPC_UNREACHABLE,	/* DNS, refused, reset before an answer */
	HTTPC_TIMEOUT,		/* connect timeout or the deadline */
	HTTPC_TLS,		/* certificate or handshake */
	HTTPC_TOO_LARGE,	/* the answer passed max_response */
	HTTPC_INTERNAL,		/* out of memory, bad URL, ... */
	HTTPC__FAULT_MAX
};

extern const char *const httpc_fault_names[HTTPC__FAULT_MAX];

struct httpc_req {
	enum httpc_method	 method;
	const char		*url;		/* built with curl_url() */
	const char		*bearer;	/* or NULL; wiped copy only */
	const char		*body;		/* JSON, or NULL */
	size_t			 bodylen;
	const char		*const *headers; /* NULL-terminated, or NULL */
};

struct httpc_resp {
	enum httpc_fault	 fault;
	long			 status;	/* 0 without an answer */
	char			*body;		/* NUL-terminated, allocated */
	size_t			 len;
	int			 attempts;
	long			 retry_after;	/* seconds, -1 if none */
	int			 should_retry;	/* Stripe-Should-Retry: 1
						   true, 0 false, -1 none */
	char			 request_id[64]; /* Request-Id, or "" */
	char			 detail[128];	/* libcurl's words, for logs;
						   never a header or URL */
};

/* Returns a client, or NULL.  The conf is copied. */
struct httpc	*httpc_new(const struct httpc_conf *conf);
void		 httpc_free(struct httpc *h);

/*
 * Make one call, with the retries the method allows.  Always fills *resp
 * (free it with httpc_resp_free()); returns 1 when an HTTP answer came
 * back (any status), 0 on a fault.
 */
int		 httpc_do(struct httpc *h, const struct httpc_req *req,
		    struct httpc_resp *resp);
void		 httpc_resp_free(struct httpc_resp *resp);

/*
 * The URL base + "/" + each of segs (NULL-terminated, each escaped on its
 * own; an empty, "." or ".." segment is refused) + "?" + the pairs of
 * query (k, v, ..., NULL; each URL-encoded).  Returns an allocated string
 * (free with free()), or NULL.  The base is parsed once (by libcurl's
 * URL API) and kept: its query and fragment are dropped, and so are its
 * path's trailing slashes.
 */
char		*httpc_url(const char *base, const char *const *segs,
		    const char *const *query);

/* Parse an answer as one strict JSON value (object or array) with only
 * blanks after it; NULL if it is not.  Caller json_object_put()s. */
struct json_object;
struct json_object *httpc_json(const char *s, size_t len);

/* How many connections this client has opened so far (for tests and the
 * benchmark: a warm client opens none per call). */
long		 httpc_connects(const struct httpc *h);

#endif
