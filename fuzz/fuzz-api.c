/*
 * fuzz-api.c: the portal API under a valid session: any method, path,
 * query string and body, and any answers from Cloud and Stripe to the
 * calls the handler makes (app.h).  The input is
 *
 *	METHOD /api/v1/path?query
 *	content type (an empty line: none)
 *	body
 *	%%
 *	answers, as app.h writes them
 *
 * so that the query and filter checks, the field tables, the settings,
 * reconciliation and webhook-secret bodies, and the reading of Cloud's
 * and Stripe's answers all meet hostile bytes.  Whatever comes in: an
 * answer fuzz_check_resp() accepts, and what goes out to Cloud and Stripe
 * carries the right key and is JSON (the stand-in checks it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "valid.h"
#include "app.h"

#define SEP	"\n%%\n"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The next line of *p[0..*len), allocated; *p and *len move past it. */
static char *
line(const char **p, size_t *len)
{
	const char	*nl;
	char		*s;
	size_t		 n;

	nl = memchr(*p, '\n', *len);
	n = nl != NULL ? (size_t)(nl - *p) : *len;
	s = fuzz_strndup(*p, n);
	*p += nl != NULL ? n + 1 : n;
	*len -= nl != NULL ? n + 1 : n;
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct req	 req;
	struct resp	 r;
	const char	*p = (const char *)data, *end;
	size_t		 len = size;
	char		*first, *ctype, *sp, *qm, *body;

	fuzz_app_init();
	fuzz_input(data, size);
	memset(&req, 0, sizeof(req));
	first = line(&p, &len);
	ctype = line(&p, &len);
	if ((end = memmem(p, len, SEP, sizeof(SEP) - 1)) != NULL) {
		body = fuzz_strndup(p, (size_t)(end - p));
		req.bodylen = (size_t)(end - p);
		fuzz_answers(end + sizeof(SEP) - 1, len - req.bodylen -
		    (sizeof(SEP) - 1));
	} else {
		body = fuzz_strndup(p, len);
		req.bodylen = len;
		fuzz_answers(NULL, 0);
	}
	if ((sp = strchr(first, ' ')) != NULL) {
		*sp = '\0';
		req.method = http_method(first);
		req.path = sp + 1;
	} else {
		req.method = METHOD_GET;
		req.path = first;
	}
	if ((qm = strchr(req.path, '?')) != NULL) {
		*qm = '\0';
		req.query = qm + 1;
	}
	req.content_type = ctype[0] != '\0' ? ctype : NULL;
	req.authorization = fuzz_bearer;
	req.body = body;
	req.body_too_large = req.bodylen > BODY_MAX;
	req.now = fuzz_now;
	http_handle(&fuzz_app, &req, &r);
	fuzz_check_resp(&r);
	resp_free(&r);
	if (req.method != METHOD_GET && req.method != METHOD_HEAD)
		fuzz_app_reset();
	free(first);
	free(ctype);
	free(body);
	return 0;
}
