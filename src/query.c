/*
 * query.c: decoding and checking query strings.  See query.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "query.h"
#include "util.h"
#include "valid.h"

static int
fail(struct verr *e, const char *field, const char *msg)
{
	e->status = 400;
	e->code = "INVALID_QUERY";
	snprintf(e->fieldbuf, sizeof(e->fieldbuf), "%s", field);
	e->field = e->fieldbuf;
	snprintf(e->message, sizeof(e->message), "%s", msg);
	return 0;
}

/* Decode s[0..len): '+' is a space, then %XX.  Returns an allocated string
 * or NULL if it is not clean text (control bytes, bad UTF-8). */
static char *
decode(const char *s, size_t len)
{
	char	*t, *d, *out;
	size_t	 i;
	int	 n;

	if ((t = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i++)
		t[i] = s[i] == '+' ? ' ' : s[i];
	t[len] = '\0';
	d = curl_easy_unescape(NULL, t, (int)len, &n);
	free(t);
	if (d == NULL)
		return NULL;
	out = NULL;
	if (util_utf8_valid(d, (size_t)n)) {
		for (i = 0; i < (size_t)n; i++)
			if ((unsigned char)d[i] < 0x20 || d[i] == 0x7f)
				break;
		if (i == (size_t)n)
			out = strdup(d);
	}
	curl_free(d);
	return out;
}

int
query_parse(const char *qs, struct query *q, struct verr *e)
{
	const char	*p, *amp, *eq;
	char		 shown[65];
	size_t		 len, i;

	memset(q, 0, sizeof(*q));
	for (p = qs; p != NULL && *p != '\0'; p = amp != NULL ? amp + 1 : NULL) {
		amp = strchr(p, '&');
		len = amp != NULL ? (size_t)(amp - p) : strlen(p);
		if (len == 0)
			continue;
		if (len > QUERY_LEN) {
			query_free(q);
			return fail(e, "query", "a parameter is too long");
		}
		if (q->n == QUERY_MAX) {
			query_free(q);
			return fail(e, "query", "too many parameters");
		}
		eq = memchr(p, '=', len);
		q->p[q->n].key = decode(p, eq != NULL ? (size_t)(eq - p) : len);
		q->p[q->n].val = decode(eq != NULL ? eq + 1 : "",
		    eq != NULL ? len - (size_t)(eq - p) - 1 : 0);
		if (q->p[q->n].key == NULL || q->p[q->n].val == NULL ||
		    q->p[q->n].key[0] == '\0') {
			free(q->p[q->n].key);
			free(q->p[q->n].val);
			query_free(q);
			return fail(e, "query", "a parameter is not clean text");
		}
		for (i = 0; i < q->n; i++)
			if (strcmp(q->p[i].key, q->p[q->n].key) == 0) {
				snprintf(shown, sizeof(shown), "%s",
				    valid_string(FT_WORD, q->p[i].key,
				    strlen(q->p[i].key)) ? q->p[i].key :
				    "query");
				q->n++;
				query_free(q);
				return fail(e, shown, "is given twice");
			}
		q->n++;
	}
	return 1;
}

void
query_free(struct query *q)
{
	size_t	 i;

	for (i = 0; i < q->n; i++) {
		free(q->p[i].key);
		free(q->p[i].val);
	}
	memset(q, 0, sizeof(*q));
}

const char *
query_get(const struct query *q, const char *key)
{
	size_t	 i;

	for (i = 0; i < q->n; i++)
		if (strcmp(q->p[i].key, key) == 0)
			return q->p[i].val;
	return NULL;
}

/* See query.h. */
int
query_page(const char *s, long max, long *out)
{
	size_t	 n;

	if (s == NULL)
		return 1;
	n = strspn(s, "0123456789");
	if (n == 0 || n > 6 || s[n] != '\0' ||
	    (*out = strtol(s, NULL, 10)) < 1 || *out > max)
		return 0;
	return 1;
}
