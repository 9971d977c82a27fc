/*
 * fcgi-floor.c: the FastCGI floor of bench/run.  The least a libfcgi
 * program can do for a request: accept it, answer a fixed JSON body of
 * about the size of GET /api/v1/context's, finish.  It reads no
 * parameter, no body, no file and no clock, and writes no log.
 *
 * It ends a connection the way the application does on a Unix-domain
 * socket (src/fcgi-main.c): the request read to its end, then closed at
 * once (FCGX_Detach), without libfcgi's shutdown and wait for the web
 * server to close first.  A floor that kept that wait would be slower
 * than the application and flatter every ratio.
 *
 * Run under spawn-fcgi (-F N for N processes on one socket), behind the
 * same nginx location settings as the application; bench/run compares
 * every route of the application with the rate of this program in the
 * same round.
 */
#include <stdio.h>

#include <fcgiapp.h>

#define BODY \
    "{\"floor\":true,\"installed_app_id\":\"instapp_bench_floor_0000000000\"," \
    "\"instance_id\":\"inst_bench_floor_000000000000\",\"app_id\":\"app_bench\"," \
    "\"scopes\":[\"data:read\",\"data:write\",\"alerts:read\",\"alerts:write\"]," \
    "\"expires_at\":\"2026-12-01T00:00:00Z\",\"padding\":\"01234567\"}\n"

/* 256: the length of BODY, checked at compile time below. */
static const char answer[] =
    "Status: 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Cache-Control: no-store\r\n"
    "Content-Length: 256\r\n"
    "\r\n"
    BODY;

_Static_assert(sizeof(BODY) - 1 == 256, "Content-Length is not BODY's length");

int
main(void)
{
	FCGX_Request	 r;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&r, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&r) >= 0) {
		FCGX_PutStr(answer, sizeof(answer) - 1, r.out);
		if (FCGX_GetChar(r.in) == EOF)
			(void)FCGX_Detach(&r);
		FCGX_Finish_r(&r);
	}
	return 0;
}
