/*
 * query.h: a request's query string, decoded and checked once.
 *
 * "a=1&b=x%20y": pairs split on '&', key and value split on the first
 * '=', each percent-decoded (and '+' read as a space) by libcurl.  Refused
 * with a 400 naming the parameter: a key or value that is not valid UTF-8
 * or holds a control character (NUL included), a key given twice (two
 * readers could disagree, as with JSON names), more than QUERY_MAX pairs
 * or a pair longer than QUERY_LEN bytes.
 */
#ifndef QUERY_H
#define QUERY_H

#include <stddef.h>

struct verr;

#define QUERY_MAX	32
#define QUERY_LEN	512

struct qpair {
	char	*key;
	char	*val;
};

struct query {
	struct qpair	 p[QUERY_MAX];
	size_t		 n;
};

/* Parse qs (may be NULL or empty) into *q.  Returns 1, or 0 with *e
 * filled (q then holds nothing).  Free with query_free(). */
int		 query_parse(const char *qs, struct query *q, struct verr *e);
void		 query_free(struct query *q);

/* The value of key, or NULL. */
const char	*query_get(const struct query *q, const char *key);

/* A page or page size s (NULL: keep *out): a whole number from 1 to
 * max into *out.  Returns 0 if s is anything else. */
int		 query_page(const char *s, long max, long *out);

#endif
