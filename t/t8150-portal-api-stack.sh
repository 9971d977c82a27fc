#!/bin/sh
test_description='the portal API through nginx against the Cloud simulator: post, follow, browse, flag, scopes, warm connections'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/stack.sh"

# api, want and CLOUD_SIM_EXPOSE_KEYS (the simulator returns the minted
# api keys, to look for them) come from t/sync.sh.
. "$top_srcdir/t/sync.sh"

# follow REF: poll the status route (bounded) until the state is final.
follow() {
	_n=0
	while :; do
		api GET "/api/v1/references/$1" || return 1
		[ "$ST" = 200 ] && [ "$(jq -r .final api.json)" = true ] && return 0
		_n=$((_n + 1)); [ $_n -lt 300 ] || { cat api.json; return 1; }
		sleep 0.02
	done
}
launch() {
	sim POST /_sim/launch "{\"installed_app_id\":\"$1\"}" && test "$SIM_STATUS" = 200 &&
	jq -r .portal_url sim.json | sed "s/.*token=//"
}

test_expect_success_here 'the stack runs; the app is installed with every scope it requests' '
	stack_start 2 &&
	sim POST /_sim/register "{}" && test "$SIM_STATUS" = 200 &&
	sim POST /_sim/install "{}" && test "$SIM_STATUS" = 200 &&
	ID=$(jq -r .installed_app_id sim.json) && KEY1=$(jq -r .api_key sim.json) &&
	test "${#KEY1}" -gt 20 &&
	test "$(jq -c .granted_permissions sim.json)" = "[\"data:read\",\"data:write\",\"alerts:read\",\"alerts:write\"]" &&
	TOK=$(launch "$ID") && test -n "$TOK" &&
	api GET /api/v1/context && want 200 &&
	test "$(jq -c .not_granted_permissions api.json)" = "[]"
'

test_expect_success_here 'a posted transaction is QUEUED, then read back APPLIED' '
	api POST /api/v1/transactions "{\"amount\":12550,\"precision\":100,\"currency\":\"USD\",\"source\":\"@world-usd\",\"destination\":\"@merchant-usd\",\"description\":\"opening balance\",\"allow_overdraft\":true}" &&
	want 201 && test "$(jq -r .status api.json)" = QUEUED &&
	REF=$(jq -r .reference api.json) &&
	follow "$REF" &&
	test "$(jq -r .state api.json)" = APPLIED &&
	test "$(jq -r .transaction.reference api.json)" = "${REF}_q" &&
	TXN=$(jq -r .transaction.transaction_id api.json) && test -n "$TXN"
'

test_expect_success 'without overdraft an @indicator with no money is REJECTED, and the state says so' '
	api POST /api/v1/transactions "{\"amount\":500,\"precision\":100,\"currency\":\"USD\",\"source\":\"@empty-usd\",\"destination\":\"@merchant-usd\",\"description\":\"no funds\"}" &&
	want 201 && ref=$(jq -r .reference api.json) &&
	follow "$ref" && test "$(jq -r .state api.json)" = REJECTED
'

test_expect_success 'a used reference is refused the way Core refuses it, or never applied twice' '
	api POST /api/v1/transactions "{\"amount\":1,\"precision\":100,\"currency\":\"USD\",\"source\":\"@world-usd\",\"destination\":\"@merchant-usd\",\"description\":\"again\",\"allow_overdraft\":true,\"reference\":\"$REF\"}" &&
	case "$ST" in 201|409) ;; *) cat api.json; false;; esac &&
	api GET "/api/v1/transactions?reference_in=$REF,${REF}_q" && want 200 &&
	test "$(jq "[.data[] | select(.reference == \"${REF}_q\")] | length" api.json)" = 1
'

test_expect_success 'browse: transactions by filter, balances by indicator, detail by id' '
	api GET "/api/v1/transactions?status_eq=APPLIED&currency_eq=USD" && want 200 &&
	test "$(jq "[.data[] | select(.reference == \"${REF}_q\")] | length" api.json)" = 1 &&
	test "$(jq -r .page_size api.json)" = 20 &&
	api GET "/api/v1/balances?indicator_eq=%40merchant-usd" && want 200 &&
	BAL=$(jq -r ".data[0].balance_id" api.json) && case "$BAL" in bln_*) ;; *) false;; esac &&
	api GET "/api/v1/balances/$BAL" && want 200 && test "$(jq -r .balance_id api.json)" = "$BAL" &&
	api GET "/api/v1/transactions/$TXN" && want 200 && test "$(jq -r .transaction_id api.json)" = "$TXN" &&
	api GET /api/v1/ledgers && want 200 && test "$(jq -r .page_size api.json)" = 30 &&
	api GET /api/v1/identities && want 200
'

test_expect_success 'a filter the simulator (and Cloud) would refuse never leaves the app' '
	sim GET /_sim/audit && before=$(jq ".data | length" sim.json) &&
	api GET "/api/v1/transactions?precise_amount_eq=12550" && want 400 INVALID_FILTER &&
	api GET "/api/v1/transactions?instance_id=inst_other" && want 400 INVALID_FILTER &&
	sim GET /_sim/audit && test "$(jq ".data | length" sim.json)" = "$before"
'

test_expect_success 'alerts: flag the transaction, see it listed, change its status' '
	api POST /api/v1/alerts "{\"target_id\":\"$TXN\",\"description\":\"differs from Stripe by 1.00 USD: check the fee\",\"title\":\"Amount difference\"}" &&
	want 201 && ANO=$(jq -r .anomaly_id api.json) && case "$ANO" in ano_*) ;; *) false;; esac &&
	test "$(jq -r .type api.json)" = Transaction && test "$(jq -r .status api.json)" = FLAGGED &&
	api GET /api/v1/alerts && want 200 &&
	test "$(jq "[.data[] | select(.anomaly_id == \"$ANO\")] | length" api.json)" = 1 &&
	api GET /api/v1/alert-statuses && want 200 &&
	api PUT "/api/v1/alerts/$ANO" "{\"status\":\"INVESTIGATING\"}" && want 200 &&
	api GET "/api/v1/alerts/$ANO" && want 200 && test "$(jq -r .status api.json)" = INVESTIGATING
'

test_expect_success 'warm workers: twenty calls, no new connection to Cloud per call' '
	sim GET /_sim/connections && c0=$(jq .gateway_connections sim.json) && r0=$(jq .gateway_requests sim.json) &&
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		api GET /api/v1/ledgers && want 200 || return 1
	done &&
	sim GET /_sim/connections &&
	test $(( $(jq .gateway_requests sim.json) - r0 )) = 20 &&
	new=$(( $(jq .gateway_connections sim.json) - c0 )) &&
	test_diag "new connections to Cloud for 20 portal calls on 2 warm workers: $new" &&
	test "$new" -eq 0
'

test_expect_success 'Cloud failing: 5xx after the retries is CLOUD_ERROR, 429 is retried' '
	sim POST /_sim/faults "{\"mode\":\"500\",\"count\":3,\"paths_prefix\":\"/data\"}" &&
	api GET /api/v1/ledgers && want 502 CLOUD_ERROR &&
	sim POST /_sim/faults "{\"mode\":\"429\",\"count\":1,\"paths_prefix\":\"/data\",\"retry_after\":1}" &&
	api GET /api/v1/ledgers && want 200
'

test_expect_success_here 'a read-only install: writes are 403 MISSING_PERMISSION and never reach Cloud' '
	sim POST /_sim/install "{\"scopes\":[\"data:read\"],\"instance_id\":\"inst_readonly\"}" &&
	test "$SIM_STATUS" = 200 && RO=$(jq -r .installed_app_id sim.json) &&
	KEY2=$(jq -r .api_key sim.json) && test "${#KEY2}" -gt 20 &&
	TOK_FULL=$TOK && TOK=$(launch "$RO") &&
	sim GET /_sim/audit && before=$(jq ".data | length" sim.json) &&
	api POST /api/v1/transactions "{\"amount\":1,\"precision\":100,\"currency\":\"USD\",\"source\":\"@a\",\"destination\":\"@b\",\"description\":\"x\"}" &&
	want 403 MISSING_PERMISSION && test_grep "data:write" api.json &&
	api POST /api/v1/alerts "{\"target_id\":\"$TXN\",\"description\":\"x\"}" && want 403 MISSING_PERMISSION &&
	api GET /api/v1/alerts && want 403 MISSING_PERMISSION &&
	sim GET /_sim/audit && test "$(jq ".data | length" sim.json)" = "$before" &&
	api GET /api/v1/ledgers && want 200 &&
	TOK=$TOK_FULL
'

test_expect_success 'uninstalled: 403 APP_UNINSTALLED for the old session' '
	sim POST /_sim/uninstall "{\"installed_app_id\":\"$ID\"}" && test "$SIM_STATUS" = 200 &&
	api GET /api/v1/ledgers && want 403 APP_UNINSTALLED
'

test_expect_success 'no key in the logs, the answers or the database files' '
	cat "$LOGS"/*.log api.json sim.json > all.txt 2>/dev/null &&
	for k in "$KEY1" "$KEY2"; do
		test_grep ! "$k" all.txt &&
		! grep -a -q -F "$k" "$STACK/s/data/"* || return 1
	done &&
	test_no_secret all.txt "$CONF"
'

test_done
