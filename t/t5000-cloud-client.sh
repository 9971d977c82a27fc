#!/bin/sh
test_description='the Cloud client: warm connections, bearer and instance_id, timeouts, caps, safe retries, Core errors'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fcgi.sh"

. "$top_srcdir/t/stub.sh"

script() { stub_script "$@"; }
call() { cloud-call -c "$CONF" -i instapp_1 -n inst_1 "$@" > out.json 2>err; }
last() { sed -n '$!p' out.json | tail -n 1 | jq -r "$1"; }

test_expect_success_here 'setup: an install whose key is sealed, calls going to the stub' '
	fcgi_setup "cloud_timeout = 3" "cloud_connect_timeout = 1" &&
	sed -i "s#^cloud_api_url = .*#cloud_api_url = $STUB/base/#" "$CONF" &&
	fcgi_start 1 &&
	install_event ev.json instapp_1 blnk_live_0123456789abcdefghijklmn &&
	fcgi_req POST "$CB" ev.json && expect_status 200 &&
	KEY=blnk_live_0123456789abcdefghijklmn &&
	fcgi_stop
'

test_expect_success 'twenty calls from one process use one connection' '
	stub_reset &&
	call -r 20 transactions &&
	test "$(grep -c "\"ok\":true" out.json)" = 20 &&
	test "$(tail -n 1 out.json)" = "{\"connects\":1}" &&
	stub_log && test "$(jq .connections stub.json)" = 1 &&
	test "$(jq ".requests | length" stub.json)" = 20
'

test_expect_success 'the key goes as a bearer; instance_id on Data, Proxy and Filter calls, not on Alerts' '
	stub_reset &&
	call -a data transactions txn_1 &&
	call -a proxy -m POST -b "{\"a\":1}" transactions &&
	call -a filter -m POST -b "{\"filters\":[]}" ledger filter page=1 &&
	call -a alerts statuses &&
	stub_log &&
	test "$(jq -r "[.requests[].authorization] | unique | .[]" stub.json)" = "Bearer $KEY" &&
	test "$(jq -r ".requests[0].url" stub.json)" = "/base/data/transactions/txn_1?instance_id=inst_1" &&
	test "$(jq -r ".requests[1].url" stub.json)" = "/base/proxy/transactions?instance_id=inst_1" &&
	test "$(jq -r ".requests[1].content_type" stub.json)" = application/json &&
	test "$(jq -r ".requests[1].body" stub.json)" = "{\"a\":1}" &&
	test "$(jq -r ".requests[2].url" stub.json)" = "/base/ledger/filter?instance_id=inst_1&page=1" &&
	test "$(jq -r ".requests[3].url" stub.json)" = "/base/alerts/statuses"
'

test_expect_success 'ids and values are escaped: no id can add a path segment or a query' '
	stub_reset &&
	call transactions "a/b?c#e f" "reference_in=r1,r2" "x=a&b=c d" &&
	stub_log &&
	test "$(jq -r ".requests[0].url" stub.json)" = "/base/data/transactions/a%2fb%3fc%23e%20f?instance_id=inst_1&reference_in=r1%2cr2&x=a%26b%3dc+d" &&
	test_must_fail call transactions .. &&
	test "$(last .code)" = INTERNAL &&
	stub_log && test "$(jq ".requests | length" stub.json)" = 1
'

test_expect_success 'a stalled answer is a 504 CLOUD_TIMEOUT within cloud_timeout, and the next call works' '
	stub_reset && script "[{\"stall\":true}]" &&
	test_must_fail call -r 2 transactions &&
	test "$(sed -n 1p out.json | jq -r .code)" = CLOUD_TIMEOUT &&
	test "$(sed -n 1p out.json | jq -r .status)" = 504 &&
	test "$(sed -n 2p out.json | jq -r .ok)" = true
'

test_expect_success 'an answer over the cap is refused: 502 CLOUD_ANSWER_TOO_LARGE' '
	stub_reset && script "[{\"big\":5000000}]" &&
	test_must_fail call transactions &&
	test "$(last .code)" = CLOUD_ANSWER_TOO_LARGE && test "$(last .status)" = 502
'

test_expect_success 'a read is retried after a 429, honouring Retry-After' '
	stub_reset &&
	script "[{\"status\":429,\"headers\":{\"Retry-After\":\"1\"},\"body\":{\"error\":\"rate limited\",\"error_detail\":{\"code\":\"GEN_RATE_LIMITED\",\"message\":\"slow down\"}}}]" &&
	call transactions &&
	test "$(last .ok)" = true &&
	stub_log && test "$(jq ".requests | length" stub.json)" = 2
'

test_expect_success 'reads are retried on 503 and a reset connection, a bounded number of times' '
	stub_reset && script "[{\"status\":503},{\"reset\":true},{\"status\":200,\"body\":{\"data\":[1]}}]" &&
	call transactions && test "$(last ".body.data[0]")" = 1 &&
	stub_reset && script "[{\"status\":503},{\"status\":503},{\"status\":503},{\"status\":503}]" &&
	test_must_fail call transactions &&
	stub_log && test "$(jq ".requests | length" stub.json)" = 3 &&
	test "$(last .code)" = CLOUD_ERROR && test "$(last .upstream_status)" = 503
'

test_expect_success 'a write is retried on 429 and 503 only, never blindly' '
	stub_reset && script "[{\"status\":503},{\"status\":201,\"body\":{\"status\":\"QUEUED\"}}]" &&
	call -a proxy -m POST -b "{}" transactions && test "$(last .body.status)" = QUEUED &&
	stub_log && test "$(jq ".requests | length" stub.json)" = 2 &&
	stub_reset && script "[{\"reset\":true}]" &&
	test_must_fail call -a proxy -m POST -b "{}" transactions &&
	test "$(last .code)" = CLOUD_UNREACHABLE &&
	stub_log && test "$(jq ".requests | length" stub.json)" = 1 &&
	stub_reset && script "[{\"status\":502}]" &&
	test_must_fail call -a proxy -m POST -b "{}" transactions &&
	stub_log && test "$(jq ".requests | length" stub.json)" = 1 &&
	stub_reset && script "[{\"stall\":true}]" &&
	test_must_fail call -a proxy -m POST -b "{}" transactions &&
	test "$(last .code)" = CLOUD_TIMEOUT &&
	stub_log && test "$(jq ".requests | length" stub.json)" = 1
'

test_expect_success 'a 401 from Cloud is its own code: the key was revoked' '
	stub_reset && script "[{\"status\":401,\"body\":{\"error\":\"invalid api key\",\"error_detail\":{\"code\":\"AUTH_INVALID_API_KEY\",\"message\":\"invalid\"}}}]" &&
	test_must_fail call transactions &&
	test "$(last .code)" = CLOUD_KEY_REVOKED && test "$(last .status)" = 502
'

test_expect_success 'Core refusals pass through with their status, code and message' '
	stub_reset && script "[{\"status\":409,\"body\":{\"error\":\"duplicate\",\"error_detail\":{\"code\":\"TXN_DUPLICATE_REFERENCE\",\"message\":\"reference ref_1 has already been used\"}}}]" &&
	test_must_fail call -a proxy -m POST -b "{}" transactions &&
	test "$(last .status)" = 409 && test "$(last .code)" = TXN_DUPLICATE_REFERENCE &&
	test "$(last .message)" = "reference ref_1 has already been used" &&
	stub_reset && script "[{\"status\":400,\"body\":{\"errors\":{\"description\":\"cannot be blank\"}}}]" &&
	test_must_fail call -a proxy -m POST -b "{}" transactions &&
	test "$(last .status)" = 400 && test "$(last .code)" = VALIDATION_ERROR &&
	test "$(last .field)" = description && test "$(last .message)" = "cannot be blank"
'

test_expect_success 'an answer that is not JSON is a 502 CLOUD_ERROR' '
	stub_reset && script "[{\"status\":200,\"body\":\"<html>oops</html>\"}]" &&
	test_must_fail call transactions &&
	test "$(last .code)" = CLOUD_ERROR
'

test_expect_success 'nothing listening: 502 CLOUD_UNREACHABLE' '
	sed "s#^cloud_api_url = .*#cloud_api_url = http://127.0.0.1:9/#" "$CONF" > down.conf &&
	test_must_fail cloud-call -c down.conf -i instapp_1 -n inst_1 transactions > out.json &&
	test "$(last .code)" = CLOUD_UNREACHABLE
'

test_expect_success 'an uninstalled install makes no call at all' '
	fcgi_start 1 && uninstall_event un.json instapp_1 &&
	fcgi_req POST "$CB" un.json && expect_status 200 && fcgi_stop &&
	stub_reset &&
	test_must_fail call transactions &&
	test "$(last .code)" = APP_UNINSTALLED &&
	stub_log && test "$(jq ".requests | length" stub.json)" = 0
'

test_expect_success 'no key in any log line or output' '
	cat app.log err out.json > all.txt 2>/dev/null;
	test_grep ! "$KEY" all.txt && test_grep ! "0123456789abcdefghij" all.txt
'

test_done
