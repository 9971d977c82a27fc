#!/bin/sh
test_description='the portal API through real FastCGI: scopes first, allow-listed filters, transactions, alerts, upstream failures'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fcgi.sh"
. "$top_srcdir/t/stub.sh"

KEY=blnk_live_portal_0123456789abcdefghij

api() { portal_api "$@"; }
# api_ro METHOD PATH [BODYFILE]: the same with the read-only session.
api_ro() { fcgi_req "$1" "$2" "${3:-/dev/null}" application/json "Bearer $TOK_RO"; }
url0() { stub_log && jq -r ".requests[0].url" stub.json; }

test_expect_success_here 'setup: two installs, all scopes and read-only; Cloud is the stub' '
	fcgi_setup "cloud_timeout = 2" "cloud_connect_timeout = 1" &&
	sed -i "s#^cloud_api_url = .*#cloud_api_url = $STUB/#" "$CONF" &&
	fcgi_start 2 &&
	install_event ev.json instapp_1 "$KEY" install:instapp_1 \
		"[\"data:read\",\"data:write\",\"alerts:read\",\"alerts:write\"]" &&
	fcgi_req POST "$CB" ev.json && expect_status 200 &&
	install_event ev.json instapp_ro blnk_live_readonly_0123456789abcdef install:instapp_ro \
		"[\"data:read\",\"future:scope\"]" &&
	fcgi_req POST "$CB" ev.json && expect_status 200 &&
	TOK=$(launch_token instapp_1) && test -n "$TOK" &&
	TOK_RO=$(launch_token instapp_ro) && test -n "$TOK_RO"
'

test_expect_success 'context: granted, not granted, ignored scopes and the expiry' '
	api_ro GET /api/v1/context && expect_status 200 &&
	test "$(jq -c .granted_permissions resp.body)" = "[\"data:read\"]" &&
	test "$(jq -c .not_granted_permissions resp.body)" = "[\"data:write\",\"alerts:read\",\"alerts:write\"]" &&
	test "$(jq -c .ignored_permissions resp.body)" = "[\"future:scope\"]" &&
	test "$(jq -r .expires_in resp.body)" -gt 800 &&
	api GET /api/v1/context && test "$(jq -c .not_granted_permissions resp.body)" = "[]"
'

test_expect_success 'sessions of installs with other permissions, in turn, each get their own' '
	for i in 1 2 3 4 5 6; do
		api_ro GET /api/v1/context &&
		test "$(jq -c .granted_permissions resp.body)" = "[\"data:read\"]" &&
		api GET /api/v1/context &&
		test "$(jq -c .not_granted_permissions resp.body)" = "[]" &&
		echo "{}" > b.json && api_ro POST /api/v1/transactions b.json &&
		expect_error 403 MISSING_PERMISSION || return 1
	done
'

test_expect_success 'the scopes the app knows it requests are exactly the manifest'\''s' '
	api_ro GET /api/v1/context &&
	jq -c "[.granted_permissions[], .not_granted_permissions[]] | sort" resp.body > ours &&
	jq -c ".permissions | sort" "$top_srcdir/manifest.json" > manifest &&
	test_cmp manifest ours
'

test_expect_success 'every operation needs its scope, checked before any call to Cloud' '
	stub_reset &&
	for r in "POST /api/v1/transactions data:write" "GET /api/v1/alerts alerts:read" \
	    "GET /api/v1/alerts/ano_1 alerts:read" "GET /api/v1/alert-statuses alerts:read" \
	    "POST /api/v1/alerts alerts:write" "PUT /api/v1/alerts/ano_1 alerts:write"; do
		set -- $r &&
		echo "{}" > b.json &&
		api_ro "$1" "$2" b.json &&
		expect_error 403 MISSING_PERMISSION &&
		test_grep "$3" resp.body || return 1
	done &&
	test "$(stub_count)" = 0
'

test_expect_success 'no session, no call: every /api/v1/ route wants the bearer token' '
	stub_reset &&
	for p in context ledgers ledgers/l1 balances balances/b1 transactions transactions/t1 \
	    identities identities/i1 references/r1 alerts alerts/a1 alert-statuses; do
		fcgi_req GET "/api/v1/$p" && expect_error 401 MISSING_TOKEN || return 1
	done &&
	test "$(stub_count)" = 0
'

test_expect_success 'a list asks Cloud for the page, with Cloud'\''s default page sizes' '
	stub_reset && stub_script "[{\"body\":{\"data\":[{\"ledger_id\":\"ldg_1\"}],\"total\":41}}]" &&
	api GET /api/v1/ledgers && expect_status 200 &&
	test "$(jq -c . resp.body)" = "{\"data\":[{\"ledger_id\":\"ldg_1\"}],\"total\":41,\"page\":1,\"page_size\":30}" &&
	test "$(url0)" = "/data/ledgers?instance_id=inst_1&page=1&pageSize=30" &&
	stub_reset && api GET "/api/v1/transactions?page=3&page_size=50" && expect_status 200 &&
	test "$(url0)" = "/data/transactions?instance_id=inst_1&page=3&pageSize=50"
'

test_expect_success 'allowed filters reach Cloud escaped, one parameter each' '
	stub_reset &&
	api GET "/api/v1/transactions?status_in=APPLIED,REJECTED&currency_eq=USD&reference_like=stripe%25&created_at_between=2026-01-01T00:00:00Z%7C2026-02-01T00:00:00Z&amount_gte=10.50&source_eq=%40stripe&meta_data.stripe_sync.mode_eq=live" &&
	expect_status 200 &&
	test "$(url0)" = "/data/transactions?instance_id=inst_1&page=1&pageSize=20&status_in=APPLIED%2cREJECTED&currency_eq=USD&reference_like=stripe%25&created_at_between=2026-01-01T00%3a00%3a00Z%7c2026-02-01T00%3a00%3a00Z&amount_gte=10.50&source_eq=%40stripe&meta_data.stripe_sync.mode_eq=live"
'

test_expect_success 'a filter Cloud does not document, or a value of the wrong kind, is a 400 naming it, and no call' '
	stub_reset &&
	for q in precise_amount_eq=100 description_eq=x status_eq=BOGUS currency_eq=usd \
	    created_at_eq=2026-01-01T00:00:00Z created_at_gt=yesterday amount_gte=1e5 \
	    status_like=APP% balance_id_gt=bln_1 meta_data_eq=x meta_data..a_eq=x \
	    meta_data.a.b.c.d_eq=x instance_id=inst_2 pageSize=1000 sort=created_at \
	    "created_at_between=2026-01-01T00:00:00Z" "currency_in=USD,,EUR"; do
		api GET "/api/v1/transactions?$q" &&
		expect_error 400 INVALID_FILTER "${q%%=*}" || return 1
	done &&
	api GET "/api/v1/balances?ledger_id_like=ldg%25" && expect_error 400 INVALID_FILTER ledger_id_like &&
	test "$(stub_count)" = 0
'

test_expect_success 'paging and query hygiene: bounds, repeats, control bytes' '
	stub_reset &&
	api GET "/api/v1/ledgers?page=0" && expect_error 400 INVALID_QUERY page &&
	api GET "/api/v1/ledgers?page_size=101" && expect_error 400 INVALID_QUERY page_size &&
	api GET "/api/v1/ledgers?page=x" && expect_error 400 INVALID_QUERY page &&
	api GET "/api/v1/ledgers?name_eq=a&name_eq=b" && expect_error 400 INVALID_QUERY name_eq &&
	api GET "/api/v1/ledgers?name_eq=a%00b" && expect_error 400 INVALID_QUERY &&
	api GET "/api/v1/ledgers?name_eq=%ff" && expect_error 400 INVALID_QUERY &&
	test "$(stub_count)" = 0
'

test_expect_success 'detail by id; an id with other characters is a 400 and no call' '
	stub_reset && stub_script "[{\"body\":{\"balance_id\":\"bln_1\",\"balance\":5}}]" &&
	api GET /api/v1/balances/bln_1 && expect_status 200 &&
	test "$(jq -r .balance_id resp.body)" = bln_1 &&
	test "$(url0)" = "/data/balances/bln_1?instance_id=inst_1" &&
	stub_reset && stub_script "[{\"body\":{\"data\":{\"balance_id\":\"bln_2\"}}}]" &&
	api GET /api/v1/balances/bln_2 && expect_status 200 &&
	test "$(jq -c . resp.body)" = "{\"balance_id\":\"bln_2\"}" &&
	stub_reset &&
	api GET "/api/v1/balances/bln%2F..%2Fx" && expect_error 400 INVALID_FIELD id &&
	api GET "/api/v1/balances/a%20b" && expect_error 400 INVALID_FIELD id &&
	api GET "/api/v1/balances/.." && expect_error 400 INVALID_FIELD id &&
	api GET "/api/v1/balances/..." && expect_error 400 INVALID_FIELD id &&
	api GET "/api/v1/transactions/." && expect_error 400 INVALID_FIELD id &&
	test "$(stub_count)" = 0
'

good_txn='{"amount":1250,"precision":100,"currency":"USD","source":"@stripe-fees","destination":"bln_9","description":"fee correction"}'

test_expect_success 'a transaction is checked like Core would, naming the field, before any call' '
	stub_reset &&
	while read -r field jq_change; do
		echo "$good_txn" | jq -c "$jq_change" > t.json &&
		api POST /api/v1/transactions t.json &&
		expect_status 400 &&
		test "$(jq -r .error.field resp.body)" = "$field" || { echo "for: $jq_change"; return 1; }
	done <<-EOF &&
	amount .amount = "1250"
	amount .amount = 12.5
	amount .amount = 0
	amount .amount = -5
	amount .amount = 1000000000000000
	amount .amount = 9223372036854775807
	amount .amount = -9223372036854775808
	amount del(.amount)
	precision .precision = 3
	precision .precision = 0
	precision .precision = "100"
	currency .currency = "usd"
	source .source = "stripe fees"
	destination .destination = .source
	description del(.description)
	description .description = ""
	description .description = "a\u0001b"
	reference .reference = "ref/1"
	reference .reference = "abc_q"
	allow_overdraft .allow_overdraft = "yes"
	EOF
	test "$(stub_count)" = 0
'

test_expect_success 'posting: precise_amount as a JSON number, a reference made when none is given, 201 QUEUED' '
	stub_reset && stub_script "[{\"status\":201,\"body\":{\"transaction_id\":\"txn_1\",\"status\":\"QUEUED\"}}]" &&
	echo "$good_txn" > t.json &&
	api POST /api/v1/transactions t.json && expect_status 201 &&
	test_grep "^Status: 201 Created" resp.head &&
	ref=$(jq -r .reference resp.body) &&
	case "$ref" in portal-[0-9a-f]*) ;; *) echo "$ref"; false;; esac &&
	test "$(jq -r .status resp.body)" = QUEUED &&
	test "$(jq -r .status_url resp.body)" = "/api/v1/references/$ref" &&
	stub_log &&
	test "$(jq -r ".requests[0].method" stub.json) $(url0)" = "POST /proxy/transactions?instance_id=inst_1" &&
	jq -r ".requests[0].body" stub.json > sent.json &&
	test "$(jq -r ".precise_amount | type" sent.json)" = number &&
	test "$(jq -c "[.precise_amount, .precision, .currency, .source, .destination, .description, .reference]" sent.json)" = \
		"[1250,100,\"USD\",\"@stripe-fees\",\"bln_9\",\"fee correction\",\"$ref\"]" &&
	test "$(jq -r "has(\"amount\")" sent.json)" = false &&
	echo "$good_txn" | jq -c ". + {reference: \"adj-77\"}" > t2.json &&
	stub_reset && api POST /api/v1/transactions t2.json && expect_status 201 &&
	test "$(jq -r .reference resp.body)" = adj-77
'

test_expect_success 'a duplicate reference comes back as Core says it: 409 TXN_DUPLICATE_REFERENCE' '
	stub_reset && stub_script "[{\"status\":409,\"body\":{\"error\":\"dup\",\"error_detail\":{\"code\":\"TXN_DUPLICATE_REFERENCE\",\"message\":\"reference adj-77 has already been used\"}}}]" &&
	api POST /api/v1/transactions t2.json &&
	expect_error 409 TXN_DUPLICATE_REFERENCE &&
	test "$(stub_count)" = 1
'

test_expect_success 'the status route reads <ref> and <ref>_q and says where the posting is' '
	stub_reset && stub_script "[{\"body\":{\"data\":[{\"reference\":\"adj-77\",\"status\":\"QUEUED\"}],\"total\":1}},
	    {\"body\":{\"data\":[{\"reference\":\"adj-77\",\"status\":\"QUEUED\"},{\"reference\":\"adj-77_q\",\"status\":\"APPLIED\",\"transaction_id\":\"txn_2\"}],\"total\":2}},
	    {\"body\":{\"data\":[{\"reference\":\"adj-77_q\",\"status\":\"REJECTED\",\"meta_data\":{\"blnk_rejection_reason\":\"insufficient funds\"}}],\"total\":1}},
	    {\"body\":{\"data\":[],\"total\":0}}]" &&
	api GET /api/v1/references/adj-77 && expect_status 200 &&
	test "$(jq -c "[.state, .final]" resp.body)" = "[\"QUEUED\",false]" &&
	test "$(url0)" = "/data/transactions?instance_id=inst_1&reference_in=adj-77%2cadj-77_q&pageSize=10" &&
	api GET /api/v1/references/adj-77 &&
	test "$(jq -c "[.state, .final, .transaction.transaction_id]" resp.body)" = "[\"APPLIED\",true,\"txn_2\"]" &&
	api GET /api/v1/references/adj-77 &&
	test "$(jq -c "[.state, .final]" resp.body)" = "[\"REJECTED\",true]" &&
	api GET /api/v1/references/adj-77 && expect_error 404 NOT_FOUND reference
'

test_expect_success 'alerts: flag a transaction, update its status, list, statuses, in Cloud'\''s shapes' '
	stub_reset &&
	stub_script "[{\"status\":201,\"body\":{\"anomaly_id\":\"ano_1\",\"type\":\"Transaction\",\"status\":\"FLAGGED\",\"description\":\"d\",\"affected_transactions\":[\"txn_1\"]}},
	    {\"body\":{\"anomaly_id\":\"ano_1\",\"status\":\"PENDING_REVIEW\"}},
	    {\"body\":[{\"anomaly_id\":\"ano_1\"}]},
	    {\"body\":{\"data\":[{\"key\":\"FLAGGED\",\"name\":\"Flagged\",\"colour\":\"red\"}],\"allowed_colours\":[\"red\"]}}]" &&
	echo "{\"target_id\":\"txn_1\",\"description\":\"amount differs from Stripe\",\"title\":\"Difference\"}" > f.json &&
	api POST /api/v1/alerts f.json && expect_status 201 &&
	test "$(jq -r .anomaly_id resp.body)" = ano_1 &&
	echo "{\"status\":\"PENDING_REVIEW\"}" > u.json &&
	api PUT /api/v1/alerts/ano_1 u.json && expect_status 200 &&
	api GET /api/v1/alerts && test "$(jq -r ".data[0].anomaly_id" resp.body)" = ano_1 &&
	api GET /api/v1/alert-statuses && test "$(jq -r ".data[0].key" resp.body)" = FLAGGED &&
	stub_log &&
	test "$(jq -r "[.requests[] | .method + \" \" + .url] | join(\",\")" stub.json)" = \
		"POST /alerts/flag/txn_1,PUT /alerts/flag/ano_1,GET /alerts,GET /alerts/statuses" &&
	test "$(jq -r ".requests[0].body" stub.json | jq -c .)" = "{\"description\":\"amount differs from Stripe\",\"title\":\"Difference\"}" &&
	test "$(jq -r ".requests[1].body" stub.json | jq -c .)" = "{\"status\":\"PENDING_REVIEW\"}"
'

test_expect_success 'alerts: a flag needs a description and a balance, transaction or identity id' '
	stub_reset &&
	echo "{\"target_id\":\"txn_1\"}" > f.json && api POST /api/v1/alerts f.json &&
	expect_error 400 MISSING_FIELD description &&
	echo "{\"target_id\":\"ldg_1\",\"description\":\"x\"}" > f.json && api POST /api/v1/alerts f.json &&
	expect_error 400 INVALID_FIELD target_id &&
	echo "{}" > u.json && api PUT /api/v1/alerts/ano_1 u.json && expect_error 400 MISSING_FIELD &&
	test "$(stub_count)" = 0
'

test_expect_success 'an upstream cannot answer with one of the app'\''s own codes, or a status the browser cannot use' '
	stub_reset && stub_script "[{\"status\":400,\"body\":{\"error\":\"x\",\"error_detail\":{\"code\":\"SESSION_EXPIRED\",\"message\":\"launch again\"}}},
	    {\"status\":405,\"body\":{\"error\":\"x\",\"error_detail\":{\"code\":\"GEN_METHOD\",\"message\":\"m\"}}},
	    {\"status\":404,\"body\":{\"error\":\"x\",\"error_detail\":{\"code\":\"BAL_NOT_FOUND\",\"message\":\"balance not found\"}}}]" &&
	api GET /api/v1/ledgers && expect_error 400 UPSTREAM_REJECTED &&
	api GET /api/v1/ledgers && expect_error 502 GEN_METHOD &&
	test_grep "^Status: 502 Bad Gateway" resp.head &&
	api GET /api/v1/balances/bln_x && expect_error 404 BAL_NOT_FOUND
'

test_expect_success 'a damaged permissions row (a null entry) is read without a crash' '
	sql "UPDATE installs SET granted_permissions = '\''[\"data:read\",null,7]'\'' WHERE installed_app_id = '\''instapp_ro'\''" &&
	test_when_finished "sql \"UPDATE installs SET granted_permissions = '\''[\\\"data:read\\\",\\\"future:scope\\\"]'\'' WHERE installed_app_id = '\''instapp_ro'\''\"" &&
	api_ro GET /api/v1/context && expect_status 200 &&
	test "$(jq -c .granted_permissions resp.body)" = "[\"data:read\"]" &&
	echo "{}" > b.json && api_ro POST /api/v1/transactions b.json && expect_error 403 MISSING_PERMISSION &&
	stub_reset && api_ro GET /api/v1/ledgers && expect_status 200
'

test_expect_success 'upstream failures each answer their own code, and the worker serves on' '
	stub_reset && stub_script "[{\"status\":401,\"body\":{\"error\":\"bad key\"}}]" &&
	api GET /api/v1/ledgers && expect_error 502 CLOUD_KEY_REVOKED &&
	stub_reset && stub_script "[{\"stall\":true}]" &&
	api GET /api/v1/balances/bln_1 && expect_error 504 CLOUD_TIMEOUT &&
	api GET /api/v1/ledgers && expect_status 200 &&
	stub_reset && stub_script "[{\"big\":5000000}]" &&
	api GET /api/v1/ledgers && expect_error 502 CLOUD_ANSWER_TOO_LARGE &&
	stub_reset && stub_script "[{\"status\":500},{\"status\":500},{\"status\":500}]" &&
	api GET /api/v1/ledgers && expect_error 502 CLOUD_ERROR
'

test_expect_success 'a pool of warm workers opens no new connection per request' '
	stub_reset &&
	for i in 1 2 3 4 5 6 7 8 9 10; do api GET /api/v1/ledgers && expect_status 200 || return 1; done &&
	stub_log && test "$(jq .connections stub.json)" -le 2
'

test_expect_success 'Cloud unreachable: 502 CLOUD_UNREACHABLE' '
	fcgi_stop &&
	sed "s#^cloud_api_url = .*#cloud_api_url = http://127.0.0.1:9/#" "$CONF" > down.conf &&
	cp down.conf "$CONF" && fcgi_start 1 &&
	api GET /api/v1/ledgers && expect_error 502 CLOUD_UNREACHABLE
'

test_expect_success 'an uninstalled app: 403 APP_UNINSTALLED, nothing called' '
	stub_reset &&
	uninstall_event un.json instapp_1 && fcgi_req POST "$CB" un.json && expect_status 200 &&
	api GET /api/v1/ledgers && expect_error 403 APP_UNINSTALLED &&
	test "$(stub_count)" = 0
'

test_expect_success 'no key in any answer, log line or the database in the clear' '
	cat app.log resp.body > all.txt &&
	test_grep ! "$KEY" all.txt && test_grep ! "portal_0123456789" all.txt &&
	! grep -a -q "portal_0123456789" "$TRASH/db.sqlite"
'

test_done
