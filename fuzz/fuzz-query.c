/*
 * fuzz-query.c: query strings, as the portal API reads them.  query_parse()
 * either refuses (a 400 naming the parameter) or gives at most QUERY_MAX
 * pairs of clean text (valid UTF-8, no control character, a key not
 * empty, no key twice) that, escaped again with libcurl, parse back to
 * the same pairs; query_page() gives a number in range or refuses; the
 * run history's filter (api_history_query) gives a known status and a
 * page in range or a 400; and a timestamp util_is_rfc3339() accepts is
 * read by util_parse_utc() as the same date and time.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "http.h"
#include "query.h"
#include "util.h"
#include "valid.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_pairs(const struct query *q)
{
	size_t	 i, j, k;

	if (q->n > QUERY_MAX)
		abort();
	for (i = 0; i < q->n; i++) {
		if (q->p[i].key[0] == '\0' ||
		    !util_utf8_valid(q->p[i].key, strlen(q->p[i].key)) ||
		    !util_utf8_valid(q->p[i].val, strlen(q->p[i].val)))
			abort();
		for (k = 0; q->p[i].key[k] != '\0'; k++)
			if ((unsigned char)q->p[i].key[k] < 0x20 ||
			    q->p[i].key[k] == 0x7f)
				abort();
		for (k = 0; q->p[i].val[k] != '\0'; k++)
			if ((unsigned char)q->p[i].val[k] < 0x20 ||
			    q->p[i].val[k] == 0x7f)
				abort();
		for (j = 0; j < i; j++)
			if (strcmp(q->p[i].key, q->p[j].key) == 0)
				abort();
		if (query_get(q, q->p[i].key) != q->p[i].val)
			abort();
	}
}

/* Escape q again and parse it: the same pairs. */
static void
round_trip(const struct query *q)
{
	struct query	 q2;
	struct verr	 e;
	char		*s, *k, *v;
	size_t		 i, len = 1, n;

	for (i = 0; i < q->n; i++)
		len += 3 * (strlen(q->p[i].key) + strlen(q->p[i].val)) + 2;
	if ((s = malloc(len)) == NULL)
		abort();
	s[0] = '\0';
	for (i = 0, n = 0; i < q->n; i++) {
		k = curl_easy_escape(NULL, q->p[i].key, 0);
		v = curl_easy_escape(NULL, q->p[i].val, 0);
		if (k == NULL || v == NULL)
			abort();
		n += (size_t)snprintf(s + n, len - n, "%s%s=%s",
		    i > 0 ? "&" : "", k, v);
		curl_free(k);
		curl_free(v);
	}
	memset(&e, 0, sizeof(e));
	/* A pair may be longer escaped than QUERY_LEN allows. */
	if (query_parse(s, &q2, &e)) {
		if (q2.n != q->n)
			abort();
		for (i = 0; i < q->n; i++)
			if (strcmp(q2.p[i].key, q->p[i].key) != 0 ||
			    strcmp(q2.p[i].val, q->p[i].val) != 0)
				abort();
		query_free(&q2);
	} else if (strcmp(e.message, "a parameter is too long") != 0)
		abort();
	free(s);
}

static void
check_time(const char *s)
{
	struct tm	 tm;
	time_t		 t;
	char		 back[64];

	if (!util_is_rfc3339(s) || s[17] == '6')
		return;
	t = (time_t)util_parse_utc(s);
	if (gmtime_r(&t, &tm) == NULL)
		abort();
	snprintf(back, sizeof(back), "%04d-%02d-%02dT%02d:%02d:%02d",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	if (strncmp(back, s, 19) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct query	 q;
	struct verr	 e;
	struct req	 req;
	struct resp	 r;
	struct json_object *o;
	const char	*st;
	char		*s;
	long		 page, psize, n;
	size_t		 i;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	memset(&e, 0, sizeof(e));
	if (query_parse(s, &q, &e)) {
		check_pairs(&q);
		round_trip(&q);
		for (i = 0; i < q.n; i++) {
			n = -1;
			if (query_page(q.p[i].val, 1000, &n) &&
			    (n < 1 || n > 1000))
				abort();
			check_time(q.p[i].val);
		}
		query_free(&q);
	} else if (e.status != 400 || e.field == NULL ||
	    !valid_string(FT_WORD, e.field, strlen(e.field)))
		abort();

	memset(&req, 0, sizeof(req));
	memset(&r, 0, sizeof(r));
	req.query = s;
	if (api_history_query(&req, &r, &st, &page, &psize)) {
		if ((st != NULL && strcmp(st, "completed") != 0 &&
		    strcmp(st, "in_progress") != 0 &&
		    strcmp(st, "failed") != 0) || page < 1 || psize < 1 ||
		    psize > 100 || r.body != NULL)
			abort();
	} else {
		if (r.status != 400 || r.body == NULL ||
		    (o = json_tokener_parse(r.body)) == NULL)
			abort();
		json_object_put(o);
		resp_free(&r);
	}
	check_time(s);
	free(s);
	return 0;
}
