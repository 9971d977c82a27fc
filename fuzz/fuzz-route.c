/*
 * fuzz-route.c: the router on any method, path and Authorization header,
 * without a body.  The first byte picks the method (and, with its top bit,
 * a valid session in place of the header); then the path, a newline, and
 * the header.  Whatever comes in, the answer is one fuzz_check_resp()
 * accepts; an unknown path is the 404 "not_found" whatever the method; a
 * path that the callback secret does not end exactly is never routed to
 * the callback or the launch.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct route	*rt;
	struct req		 req;
	struct resp		 r;
	const char		*nl;
	char			*path, *auth = NULL;
	int			 session, wrote;

	if (size == 0)
		return 0;
	fuzz_app_init();
	fuzz_input(data, size);
	fuzz_answers(NULL, 0);
	memset(&req, 0, sizeof(req));
	req.method = (enum method)((data[0] & 0x7f) % METHOD__MAX);
	session = data[0] & 0x80;
	data++;
	size--;
	if ((nl = memchr(data, '\n', size)) != NULL) {
		path = fuzz_strndup(data, (size_t)(nl - (const char *)data));
		auth = fuzz_strndup(nl + 1, size - (size_t)(nl + 1 -
		    (const char *)data));
	} else
		path = fuzz_strndup(data, size);
	req.path = path;
	req.authorization = session ? fuzz_bearer : auth;
	req.body = "";
	req.now = fuzz_now;
	if ((rt = http_route(&fuzz_app, &req, &r)) != NULL) {
		resp_free(&r);
		http_dispatch(rt, &fuzz_app, &req, &r);
	}
	fuzz_check_resp(&r);
	if ((strcmp(r.route, "callback") == 0 ||
	    strcmp(r.route, "portal") == 0) &&
	    strcmp(strrchr(path, '/') + 1, FUZZ_SECRET) != 0)
		abort();
	if (strcmp(r.route, "not_found") == 0 && r.status != 404)
		abort();
	/* A write (a disconnect, say) changes what the next input sees. */
	wrote = rt != NULL && req.method != METHOD_GET &&
	    req.method != METHOD_HEAD;
	resp_free(&r);
	if (wrote)
		fuzz_app_reset();
	free(path);
	free(auth);
	return 0;
}
