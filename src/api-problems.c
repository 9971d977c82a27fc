/*
 * api-problems.c: the problems worth a Cloud alert, as the portal shows
 * them (alerts.h).
 *
 *   GET /api/v1/problems	data:read	?limit=1..100 (50)&offset=0..
 *					newest first, each with what became
 *					of it (pending, flagged, unscoped,
 *					untargeted, cleared), and whether
 *					the install may flag (alerts_write)
 *
 * Without alerts:write nothing reaches Cloud: this list is where the
 * problems are seen.  Only the database is read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "db.h"
#include "http.h"
#include "query.h"
#include "valid.h"

#define LIMIT_DEFAULT	50
#define LIMIT_MAX	100
#define OFFSET_MAX	1000000

/* k: v, or null for "". */
static void
add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v != NULL && v[0] != '\0' ?
	    json_object_new_string(v) : NULL);
}

static int
problem_one(const struct alert_flag *f, void *arg)
{
	struct json_object	*arr = arg, *o;

	if ((o = json_object_new_object()) == NULL)
		return 0;
	add_str(o, "key", f->key);
	add_str(o, "source_id", f->source_id);
	add_str(o, "target_type", f->target_type);
	add_str(o, "target", f->target);
	add_str(o, "currency", f->currency);
	add_str(o, "target_id", f->target_id);
	add_str(o, "title", f->title);
	add_str(o, "description", f->description);
	add_str(o, "state", f->state);
	add_str(o, "anomaly_id", f->anomaly_id);
	json_object_object_add(o, "attempts",
	    json_object_new_int64(f->attempts));
	add_str(o, "last_error", f->last_error);
	add_str(o, "created_at", f->created_at);
	add_str(o, "updated_at", f->updated_at);
	json_object_array_add(arr, o);
	return 1;
}

/* A whole number from lo to hi in s (NULL: keep *out).  1, or 0. */
static int
number(const char *s, long lo, long hi, long *out)
{
	char	*end;
	long	 v;

	if (s == NULL)
		return 1;
	if (*s < '0' || *s > '9' || strlen(s) > 9)
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return 0;
	*out = v;
	return 1;
}

/* Is scope among the session's granted permissions? */
static int
has(struct json_object *scopes, const char *scope)
{
	struct json_object	*it;
	size_t			 i, n;

	n = json_object_is_type(scopes, json_type_array) ?
	    json_object_array_length(scopes) : 0;
	for (i = 0; i < n; i++) {
		it = json_object_array_get_idx(scopes, i);
		if (json_object_is_type(it, json_type_string) &&
		    strcmp(json_object_get_string(it), scope) == 0)
			return 1;
	}
	return 0;
}

void
api_problems(struct app *app, const struct req *req, struct resp *resp,
    const struct call *c)
{
	struct json_object	*o, *data;
	struct query		 q;
	struct verr		 e;
	long			 limit = LIMIT_DEFAULT, offset = 0;
	size_t			 i;

	memset(&e, 0, sizeof(e));
	if (!query_parse(req->query, &q, &e)) {
		resp_error(resp, e.status, e.code, e.field, e.message);
		return;
	}
	for (i = 0; i < q.n; i++)
		if (strcmp(q.p[i].key, "limit") != 0 &&
		    strcmp(q.p[i].key, "offset") != 0) {
			query_free(&q);
			resp_error(resp, 400, "INVALID_QUERY", "query", "only "
			    "limit and offset are accepted");
			return;
		}
	if (!number(query_get(&q, "limit"), 1, LIMIT_MAX, &limit)) {
		query_free(&q);
		resp_error(resp, 400, "INVALID_QUERY", "limit", "must be a "
		    "whole number from 1 to 100");
		return;
	}
	if (!number(query_get(&q, "offset"), 0, OFFSET_MAX, &offset)) {
		query_free(&q);
		resp_error(resp, 400, "INVALID_QUERY", "offset", "must be a "
		    "whole number from 0 to 1000000");
		return;
	}
	query_free(&q);
	if ((data = json_object_new_array()) == NULL ||
	    !db_alert_list(app->db, c->s.tok.install_id, limit, offset,
	    problem_one, data)) {
		json_object_put(data);
		api_db_error(app, resp, "listing the problems");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "data", data);
	json_object_object_add(o, "alerts_write",
	    json_object_new_boolean(has(c->s.scopes, "alerts:write")));
	json_object_object_add(o, "limit", json_object_new_int64(limit));
	json_object_object_add(o, "offset", json_object_new_int64(offset));
	resp_json(resp, 200, o);
}
