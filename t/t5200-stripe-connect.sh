#!/bin/sh
test_description='connecting Stripe from the portal: the key checked against Stripe, sealed, shown as mode and last four only; mode switches confirmed; settings validated whole'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fcgi.sh"
. "$top_srcdir/t/stub.sh"

SK=sk_test_51AbCdEfGhIjKlMnOpQrStUvWx4242
LK=rk_live_51ZyXwVuTsRqPoNmLkJiHgFeDc9876
BAL='{"object":"balance","livemode":false,"available":[{"amount":1200,"currency":"usd","source_types":{"card":1200}}],"pending":[{"amount":0,"currency":"usd"}],"connect_reserved":[]}'
LBAL='{"object":"balance","livemode":true,"available":[{"amount":0,"currency":"eur"}],"pending":[]}'

api() { portal_api "$@"; }
api_ro() { fcgi_req "$1" "$2" "${3:-/dev/null}" application/json "Bearer $TOK_RO"; }
key_body() { jq -n --arg k "$1" '{api_key:$k}' > k.json; }

test_expect_success_here 'setup: an install with every scope and a read-only one; Stripe is the stub' '
	fcgi_setup "stripe_timeout = 2" "stripe_connect_timeout = 1" &&
	sed -i "s#^stripe_api_url = .*#stripe_api_url = $STUB/#" "$CONF" &&
	grep -q "^stripe_api_url = $STUB/" "$CONF" &&
	fcgi_start 2 &&
	install_event ev.json instapp_1 blnk_live_stripe_0123456789abcdefghij install:instapp_1 \
		"[\"data:read\",\"data:write\"]" &&
	fcgi_req POST "$CB" ev.json && expect_status 200 &&
	install_event ev.json instapp_ro blnk_live_ro_0123456789abcdefghijkl install:instapp_ro \
		"[\"data:read\"]" &&
	fcgi_req POST "$CB" ev.json && expect_status 200 &&
	TOK=$(launch_token instapp_1) && test -n "$TOK" &&
	TOK_RO=$(launch_token instapp_ro) && test -n "$TOK_RO"
'

test_expect_success 'not connected at first' '
	api GET /api/v1/stripe && expect_status 200 &&
	test "$(jq -c "del(.webhook)" resp.body)" = "{\"connected\":false}" &&
	test "$(jq -r .webhook.set resp.body)" = false
'

test_expect_success 'a key that is not a secret or restricted key is refused before any call' '
	stub_reset &&
	for k in pk_test_51AbCdEfGhIjKlMnOp sk_prod_51AbCdEfGhIjKlMnOp sk_test_short \
	    "sk_test_51AbCdEfGh IjKlMn" whsec_0123456789abcdef; do
		key_body "$k" && api PUT /api/v1/stripe k.json &&
		expect_error 400 INVALID_FIELD api_key || return 1
	done &&
	echo "{}" > e.json && api PUT /api/v1/stripe e.json &&
	expect_error 400 MISSING_FIELD api_key &&
	test "$(stub_count)" = 0 && test "$(sql "SELECT count(*) FROM stripe_connections")" = 0
'

test_expect_success 'a good key is checked with GET /v1/balance, bearer and pinned Stripe-Version, then stored sealed' '
	stub_reset && stub_script "[{\"body\":$BAL}]" &&
	key_body "$SK" && api PUT /api/v1/stripe k.json && expect_status 200 &&
	test "$(jq -r .mode resp.body)" = test &&
	test "$(jq -r .key_type resp.body)" = secret &&
	test "$(jq -r .last4 resp.body)" = 4242 &&
	test "$(jq -c .currencies resp.body)" = "[\"usd\"]" &&
	stub_log &&
	test "$(jq -r ".requests[0].url" stub.json)" = /v1/balance &&
	test "$(jq -r ".requests[0].method" stub.json)" = GET &&
	test "$(jq -r ".requests[0].authorization" stub.json)" = "Bearer $SK" &&
	test "$(jq -r ".requests[0].stripe_version" stub.json)" = 2022-11-15 &&
	test "$(sql "SELECT mode || key_type || last4 FROM stripe_connections WHERE installed_app_id = '\''instapp_1'\''")" = testsecret4242 &&
	sqlite3 "$TRASH/db.sqlite" .dump > dump.sql &&
	! grep -F -e "51AbCdEfGhIjKlMn" dump.sql &&
	! grep -F -e "$SK" "$TRASH/app.log" &&
	api GET /api/v1/stripe && expect_status 200 &&
	test "$(jq -r "[.connected, .mode, .last4] | join(\" \")" resp.body)" = "true test 4242" &&
	! grep -F -e 51AbCdEf resp.body
'

test_expect_success 'rotate-keys re-seals the Stripe key with the two Cloud keys' '
	stripe-syncctl --config "$CONF" rotate-keys > rot.out 2>&1 &&
	test_grep "re-sealed 3 secrets" rot.out
'

test_expect_success 'Stripe refusing the key is a 400 naming api_key, and the old key stays' '
	stub_reset &&
	stub_script "[{\"status\":401,\"body\":{\"error\":{\"message\":\"Invalid API Key provided: sk_test_****9999\",\"type\":\"invalid_request_error\"}}}]" &&
	key_body sk_test_51AbCdEfGhIjKlMnOpQrStUvWx9999 && api PUT /api/v1/stripe k.json &&
	expect_error 400 STRIPE_KEY_INVALID api_key &&
	test_grep "Invalid API Key" resp.body &&
	test "$(sql "SELECT last4 FROM stripe_connections WHERE installed_app_id = '\''instapp_1'\''")" = 4242
'

test_expect_success 'a restricted key without balance access is a 400 naming api_key' '
	stub_reset &&
	stub_script "[{\"status\":403,\"body\":{\"error\":{\"message\":\"The provided key rk_test_abc*****xyz does not have the required permissions\",\"type\":\"invalid_request_error\"}}}]" &&
	key_body rk_test_51AbCdEfGhIjKlMnOpQrStUvWx1111 && api PUT /api/v1/stripe k.json &&
	expect_error 400 STRIPE_PERMISSION api_key
'

test_expect_success 'Stripe failing is a 502, rate limiting a 503, stalling a 504 within stripe_timeout' '
	stub_reset && stub_script "[{\"status\":500},{\"status\":500},{\"status\":500},{\"status\":500}]" &&
	key_body "$SK" && api PUT /api/v1/stripe k.json &&
	expect_error 502 STRIPE_ERROR &&
	stub_reset && stub_script "[{\"status\":429,\"body\":{\"error\":{\"code\":\"rate_limit\",\"message\":\"Too many requests\"}}},{\"status\":429},{\"status\":429},{\"status\":429}]" &&
	api PUT /api/v1/stripe k.json && expect_error 503 STRIPE_RATE_LIMITED &&
	stub_reset && stub_script "[{\"stall\":true}]" &&
	api PUT /api/v1/stripe k.json && expect_error 504 STRIPE_TIMEOUT &&
	test "$(sql "SELECT last4 FROM stripe_connections")" = 4242
'

test_expect_success 'Stripe-Should-Retry decides: false stops the retries, true retries even a 409' '
	stub_reset && stub_script "[{\"status\":500,\"headers\":{\"Stripe-Should-Retry\":\"false\"}},{\"body\":$BAL}]" &&
	key_body "$SK" && api PUT /api/v1/stripe k.json && expect_error 502 STRIPE_ERROR &&
	test "$(stub_count)" = 1 &&
	stub_reset && stub_script "[{\"status\":409,\"headers\":{\"Stripe-Should-Retry\":\"true\"},\"body\":{\"error\":{\"code\":\"lock_timeout\"}}},{\"body\":$BAL}]" &&
	api PUT /api/v1/stripe k.json && expect_status 200 &&
	test "$(stub_count)" = 2
'

test_expect_success 'an answer of the other mode is not taken for this key' '
	stub_reset && stub_script "[{\"body\":$LBAL}]" &&
	key_body sk_test_51AbCdEfGhIjKlMnOpQrStUvWx3333 && api PUT /api/v1/stripe k.json &&
	expect_error 502 STRIPE_ERROR &&
	test "$(sql "SELECT last4 FROM stripe_connections")" = 4242
'

test_expect_success 'a live key on a test-mode install needs confirm_mode_switch, asked before any call' '
	stub_reset &&
	key_body "$LK" && api PUT /api/v1/stripe k.json &&
	expect_error 409 MODE_SWITCH_UNCONFIRMED confirm_mode_switch &&
	test "$(stub_count)" = 0 &&
	stub_script "[{\"body\":$LBAL}]" &&
	jq -n --arg k "$LK" "{api_key:\$k, confirm_mode_switch:true}" > k.json &&
	api PUT /api/v1/stripe k.json && expect_status 200 &&
	test "$(jq -r "[.mode, .key_type, .last4] | join(\" \")" resp.body)" = "live restricted 9876"
'

test_expect_success 'the mode of past imports counts even after a disconnect' '
	api DELETE /api/v1/stripe && expect_status 200 &&
	sql "INSERT INTO sync_cursors VALUES ('\''instapp_1'\'', '\''live'\'', 100, 0, '\''2026-11-01T00:00:00Z'\'')" &&
	stub_reset && key_body "$SK" && api PUT /api/v1/stripe k.json &&
	expect_error 409 MODE_SWITCH_UNCONFIRMED confirm_mode_switch &&
	test "$(stub_count)" = 0 &&
	sql "DELETE FROM sync_cursors"
'

test_expect_success 'without data:write the connection can be read, not changed' '
	stub_reset &&
	api_ro GET /api/v1/stripe && expect_status 200 &&
	key_body "$SK" && api_ro PUT /api/v1/stripe k.json &&
	expect_error 403 MISSING_PERMISSION && test_grep data:write resp.body &&
	api_ro DELETE /api/v1/stripe && expect_error 403 MISSING_PERMISSION &&
	echo "{}" > e.json && api_ro PUT /api/v1/settings e.json &&
	expect_error 403 MISSING_PERMISSION &&
	test "$(stub_count)" = 0
'

test_expect_success 'disconnect deletes the key; uninstall destroys it too' '
	stub_reset && stub_script "[{\"body\":$BAL}]" &&
	key_body "$SK" && api PUT /api/v1/stripe k.json && expect_status 200 &&
	api DELETE /api/v1/stripe && expect_status 200 &&
	test "$(jq -c . resp.body)" = "{\"connected\":false}" &&
	test "$(sql "SELECT count(*) FROM stripe_connections")" = 0 &&
	stub_script "[{\"body\":$BAL}]" &&
	api PUT /api/v1/stripe k.json && expect_status 200 &&
	test "$(sql "SELECT count(*) FROM stripe_connections")" = 1 &&
	uninstall_event u.json instapp_1 && fcgi_req POST "$CB" u.json && expect_status 200 &&
	test "$(sql "SELECT count(*) FROM stripe_connections")" = 0
'

test_expect_success_here 'setup: install again, with a fresh session' '
	install_event ev.json instapp_1 blnk_live_stripe_0123456789abcdefghij install2:instapp_1 \
		"[\"data:read\",\"data:write\"]" &&
	fcgi_req POST "$CB" ev.json && expect_status 200 &&
	TOK=$(launch_token instapp_1) && test -n "$TOK"
'

test_expect_success 'settings: the documented defaults' '
	api GET /api/v1/settings && expect_status 200 &&
	jq -c . resp.body > got &&
	echo "{\"import\":{\"payins\":true,\"fees\":true,\"payouts\":true,\"other\":true},\"start_date\":null,\"schedule_minutes\":0,\"mapping\":{\"payins\":\"customer\",\"customer_prefix\":\"@\",\"metadata_key\":\"blnk_balance\",\"payin_balance\":\"@stripe-payins\",\"guest_balance\":\"@stripe-guests\",\"stripe_balance\":\"@stripe\",\"fees\":\"@stripe-fees\",\"payouts\":\"@stripe-payouts\",\"world\":\"@world\"},\"overdraft\":{\"stripe_balance\":true,\"fees\":true,\"payouts\":true,\"world\":true,\"payins\":false}}" > want &&
	test_cmp want got
'

test_expect_success 'settings: a whole new set is stored and read back; what it leaves out is the default' '
	echo "{\"import\":{\"fees\":false},\"start_date\":\"2026-03-01\",\"schedule_minutes\":15,\"mapping\":{\"payins\":\"customer_metadata\",\"metadata_key\":\"ledger_balance\",\"guest_balance\":\"bln_guests\",\"world\":\"@outside\"},\"overdraft\":{\"payins\":true}}" > s.json &&
	api PUT /api/v1/settings s.json && expect_status 200 &&
	api GET /api/v1/settings && expect_status 200 &&
	test "$(jq -r "[.import.fees, .import.payins, .start_date, .schedule_minutes, .mapping.payins, .mapping.metadata_key, .mapping.guest_balance, .mapping.world, .mapping.stripe_balance, .overdraft.payins] | map(tostring) | join(\" \")" resp.body)" = "false true 2026-03-01 15 customer_metadata ledger_balance bln_guests @outside @stripe true" &&
	echo "{\"schedule_minutes\":5}" > s2.json && api PUT /api/v1/settings s2.json && expect_status 200 &&
	test "$(jq -r "[.start_date, .import.fees, .mapping.payins] | map(tostring) | join(\" \")" resp.body)" = "null true customer"
'

test_expect_success 'settings: each bad value is a 400 naming its field, and nothing changes' '
	api PUT /api/v1/settings s.json && expect_status 200 &&
	sql "SELECT settings FROM sync_settings" > before &&
	while IFS="|" read -r field body; do
		printf "%s\n" "$body" > bad.json &&
		api PUT /api/v1/settings bad.json &&
		{ expect_error 400 INVALID_FIELD "$field" || expect_error 400 UNKNOWN_FIELD "$field"; } || return 1
	done <<-\EOT &&
	import.fees|{"import":{"fees":"yes"}}
	import.payin|{"import":{"payin":true}}
	improt|{"improt":{}}
	import|{"import":[]}
	start_date|{"start_date":"2026-02-30"}
	start_date|{"start_date":"2026-3-1"}
	start_date|{"start_date":"1999-01-01"}
	start_date|{"start_date":20260301}
	schedule_minutes|{"schedule_minutes":3}
	schedule_minutes|{"schedule_minutes":1441}
	schedule_minutes|{"schedule_minutes":5.5}
	mapping.payins|{"mapping":{"payins":"everyone"}}
	mapping.fees|{"mapping":{"fees":"@stripe"}}
	mapping.guest_balance|{"mapping":{"guest_balance":"@stripe"}}
	mapping.world|{"mapping":{"world":"@a b"}}
	mapping.world|{"mapping":{"world":""}}
	mapping.customer_prefix|{"mapping":{"customer_prefix":"cus"}}
	mapping.customer_prefix|{"mapping":{"customer_prefix":"@a/b"}}
	mapping.metadata_key|{"mapping":{"metadata_key":"has space"}}
	overdraft.world|{"overdraft":{"world":1}}
	overdraft.other|{"overdraft":{"other":true}}
	EOT
	echo "[1]" > arr.json && api PUT /api/v1/settings arr.json && expect_status 400 &&
	sql "SELECT settings FROM sync_settings" > after &&
	test_cmp before after
'

test_expect_success 'settings: the start date is fixed once the first listing ran from it' '
	stub_reset && stub_script "[{\"body\":$BAL}]" &&
	key_body "$SK" && api PUT /api/v1/stripe k.json && expect_status 200 &&
	sql "INSERT INTO sync_cursors VALUES ('\''instapp_1'\'', '\''test'\'', 1772323200, 1772323200, '\''2026-11-01T00:00:00Z'\'')" &&
	echo "{\"start_date\":\"2026-04-01\"}" > d.json &&
	api PUT /api/v1/settings d.json && expect_error 409 START_DATE_LOCKED start_date &&
	test_grep 2026-03-01 resp.body &&
	echo "{\"start_date\":\"2026-03-01\",\"schedule_minutes\":60}" > d.json &&
	api PUT /api/v1/settings d.json && expect_status 200
'

test_expect_success 'settings: a start date to come is refused; once a run began listing, the date is fixed' '
	sql "DELETE FROM sync_cursors" &&
	tomorrow=$(date -u -d "@$(( $(date +%s) + 86400 ))" +%Y-%m-%d) &&
	echo "{\"start_date\":\"$tomorrow\"}" > f.json &&
	api PUT /api/v1/settings f.json && expect_error 400 INVALID_FIELD start_date &&
	test_grep "later than today" resp.body &&
	echo "{\"start_date\":\"2026-03-01\"}" > d.json && api PUT /api/v1/settings d.json && expect_status 200 &&
	sql "INSERT INTO sync_runs (run_id, installed_app_id, kind, trigger, mode, status, phase, window_gte, created_at, updated_at) VALUES ('\''run_x'\'', '\''instapp_1'\'', '\''all'\'', '\''portal'\'', '\''test'\'', '\''failed'\'', '\''fetch'\'', 1772323200, '\''2026-11-01T00:00:00Z'\'', '\''2026-11-01T00:00:00Z'\'')" &&
	echo "{\"start_date\":\"2026-04-01\"}" > d.json &&
	api PUT /api/v1/settings d.json && expect_error 409 START_DATE_LOCKED start_date &&
	echo "{\"start_date\":\"2026-03-01\"}" > d.json && api PUT /api/v1/settings d.json && expect_status 200
'

test_expect_success 'no key reached the log' '
	! grep -F -e 51AbCdEf -e 51ZyXwVu "$TRASH/app.log"
'

test_expect_success 'stop the workers' '
	fcgi_stop
'

test_done
