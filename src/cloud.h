/*
 * cloud.h: the client of Blnk Cloud's gateway (Proxy, Data, Filter and
 * Alerts APIs), for the workers and the job runner.
 *
 * One struct cloud per process, on its own httpc (so its connections stay
 * warm).  Every call is made for one install: its sealed api_key is opened
 * for that call only, sent as "Authorization: Bearer", and wiped.  The
 * URL is built with libcurl's URL API from cloud_api_url, path segments
 * escaped one by one, and the query with instance_id on every Proxy, Data
 * and Filter call.  Answers are JSON; failures come back as a struct
 * cloud_err that says what the portal should answer.
 */
#ifndef CLOUD_H
#define CLOUD_H

#include <stddef.h>

#include "httpc.h"

struct conf;
struct db;
struct json_object;
struct cloud;

/* Which API a call belongs to: Proxy, Data and Filter calls carry
 * ?instance_id=, Alerts calls do not need it. */
enum cloud_api {
	CLOUD_PROXY,
	CLOUD_DATA,
	CLOUD_FILTER,
	CLOUD_ALERTS,
	CLOUD__API_MAX
};

/*
 * A failed call, as the portal API answers it: status and code are ours
 * (status 4xx passes Core's own refusals through with Core's code, 5xx
 * says what failed between us and Cloud); upstream_* are Cloud's, for the
 * log.  Messages never hold a key or a URL.
 */
struct cloud_err {
	int		 status;
	char		 code[64];
	char		 field[64];	/* a field Core named, or "" */
	char		 message[256];
	long		 upstream_status; /* 0: no answer */
	char		 detail[128];	/* the transport's words, for logs */
};

/* Make the client from cf (cloud_api_url, timeouts, ca_file); NULL on
 * failure. */
struct cloud	*cloud_new(const struct conf *cf);
void		 cloud_free(struct cloud *c);

/* The call to make: path segments after the API's prefix (each escaped),
 * and query pairs. */
struct cloud_call {
	enum cloud_api		 api;
	enum httpc_method	 method;
	const char		*const *segs;	/* NULL-terminated */
	const char		*const *query;	/* k, v, ..., NULL */
	struct json_object	*body;		/* or NULL; not taken */
};

/*
 * Call Cloud for install install_id on instance instance_id.  On success
 * returns 1 with the parsed answer in *out (caller json_object_put()s).
 * On failure returns 0 with *e filled.
 */
int		 cloud_do(struct cloud *c, struct db *db, const struct conf *cf,
		    const char *install_id, const char *instance_id,
		    const struct cloud_call *call, struct json_object **out,
		    struct cloud_err *e);

/* Connections opened so far (tests, benchmark). */
long		 cloud_connects(const struct cloud *c);

/*
 * The URL of a call, for tests: allocated (free with free()), or
 * NULL if a segment or the base is not acceptable.
 */
char		*cloud_url(const char *base, const struct cloud_call *call,
		    const char *instance_id);

#endif
