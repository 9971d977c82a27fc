#!/bin/sh
test_description='every response: JSON, security headers, 404 for unknown routes, 405 with Allow'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fcgi.sh"

test_expect_success_here 'setup' '
	fcgi_setup && fcgi_start 1
'

# headers_ok: the headers every answer carries, and a JSON body.
headers_ok() {
	test_grep "^Content-Type: application/json$" resp.head &&
	test_grep "^X-Content-Type-Options: nosniff$" resp.head &&
	test_grep "^Referrer-Policy: no-referrer$" resp.head &&
	test_grep "^Cache-Control: no-store$" resp.head &&
	test_grep "^Content-Length: $(wc -c < resp.body | tr -d " ")$" resp.head &&
	jq -e . resp.body >/dev/null
}

test_expect_success 'unknown route: 404 JSON with the headers' '
	fcgi_req GET /api/nothing-here && expect_error 404 NOT_FOUND && headers_ok
'
test_expect_success 'root path: 404 JSON' '
	fcgi_req GET / && expect_error 404 NOT_FOUND && headers_ok
'
test_expect_success 'health with a trailing slash is not health' '
	fcgi_req GET /api/health/ && expect_error 404 NOT_FOUND
'
test_expect_success 'query strings do not change the route' '
	fcgi_req GET "/api/health?x=1" && expect_status 200 && headers_ok
'
test_expect_success 'callback with GET: 405 with Allow: POST, and JSON' '
	fcgi_req GET "$CB" && expect_error 405 METHOD_NOT_ALLOWED && headers_ok &&
	test_grep "^Allow: POST$" resp.head
'
test_expect_success 'callback with DELETE and an unknown method: 405' '
	fcgi_req DELETE "$CB" && expect_error 405 METHOD_NOT_ALLOWED &&
	fcgi_req BREW "$CB" && expect_error 405 METHOD_NOT_ALLOWED
'
test_expect_success 'wrong method on a wrong secret is still 404, not 405' '
	fcgi_req GET /api/callback/guess && expect_error 404 NOT_FOUND
'
test_expect_success 'context with POST: 405 with Allow: GET, HEAD' '
	fcgi_req POST /api/v1/context && expect_error 405 METHOD_NOT_ALLOWED &&
	test_grep "^Allow: GET, HEAD$" resp.head
'
test_expect_success 'errors on 4xx carry the same headers' '
	printf "{" > bad.json &&
	fcgi_req POST "$CB" bad.json && expect_error 400 INVALID_JSON body && headers_ok
'
test_expect_success 'the log names the route, never the raw path' '
	fcgi_req GET "/api/weird\"path\\with\"quotes" &&
	tail -n 1 app.log > last &&
	test_grep "route=not_found status=404" last &&
	test_grep ! "weird" last
'
test_expect_success 'a hostile install id is escaped in the log' '
	launch_event l.json "instapp_x" && fcgi_req POST "$PORTAL" l.json &&
	tail -n 1 app.log > last && test_grep "install=instapp_x" last &&
	test "$(wc -l < app.log)" -ge 1
'

test_done
