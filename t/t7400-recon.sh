#!/bin/sh
test_description='reconciliation: a clean import reconciles clean; each planted difference (a posting gone, an amount changed, a foreign reference, a REJECTED posting, a balance off) is found item by item with both amounts and what to do; per currency and per payout; CSV; a killed runner resumes; bad input changes nothing'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/stack.sh"
. "$top_srcdir/t/sync.sh"

STACK_ARGS="--stripe-seed t7400-recon --stripe-count 900 --stripe-currencies usd,eur,jpy,kwd"
SYNCD_PID() { cat "$STACK/s/pids/syncd.pid"; }

# core_ref JQ: the first _q row of the instance that matches a jq
# condition, as {reference (without _q), precise_amount, txn, created}.
core_ref() {
	sim GET "/_sim/core?instance_id=$INSTANCE" &&
	jq -c "[.transactions[] | select(.reference | endswith(\"_q\")) |
		select(.status == \"APPLIED\") | select($1)][0] |
		{reference: (.reference | rtrimstr(\"_q\")), precise_amount,
		 txn: .meta_data.stripe_txn, currency}" sim.json
}

# diffs JQ: how many of the reconciliation's differences match.
diffs() {
	jq "[.differences[] | select($1)] | length" rec.json
}

test_expect_success_here 'setup: the stack, an install synced in four currencies' '
	sync_setup 2 &&
	conf_set sync_lease 2 &&
	sync_now && sync_wait 300 &&
	test "$(jq -r .status run.json)" = completed &&
	sync_verify
'

test_expect_success 'a clean import reconciles clean: every item matched, every total and day equal' '
	recon_now && recon_wait &&
	test "$(jq -r .status rec.json)" = completed &&
	test "$(jq -r .result rec.json)" = clean &&
	test "$(jq -r .counts.differences rec.json)" = 0 &&
	test "$(jq -r .differences_total rec.json)" = 0 &&
	test "$(jq -r .counts.stripe rec.json)" = 900 &&
	test "$(jq -r .counts.matched rec.json)" -gt 900 &&
	test "$(jq -r .counts.blnk rec.json)" = "$(jq -r .counts.matched rec.json)" &&
	test "$(jq -r ".totals | length" rec.json)" = 4 &&
	test "$(jq -r "[.totals[] | select(.match | not)] | length" rec.json)" = 0 &&
	test "$(jq -r "[.totals[].stripe_count] | add" rec.json)" = 900 &&
	test "$(jq -r ".days | length" rec.json)" -gt 10 &&
	test "$(jq -r "[.days[] | select(.match | not)] | length" rec.json)" = 0 &&
	test "$(jq -r "[.balances[] | select(.match and .comparable)] | length" rec.json)" = 4 &&
	api GET /api/v1/reconciliations && want 200 &&
	test "$(jq -r .counts.all api.json)" = 1 &&
	test "$(jq -r .data[0].id api.json)" = "$REC" &&
	test "$(jq -r .data[0].result api.json)" = clean &&
	api GET /api/v1/syncs && want 200 &&
	test "$(jq -r .counts.all api.json)" = 1 &&
	api GET "/api/v1/syncs/$REC" && want 404
'

test_expect_success_here 'planted in Blnk: a posting gone, an amount changed, a foreign reference: each found with both sides and what to do' '
	core_ref ".meta_data.stripe_type == \"charge\" and .currency == \"USD\" and (.reference | endswith(\".gross_q\"))" > gone &&
	GONE=$(jq -r .reference gone) && GONE_TXN=$(jq -r .txn gone) &&
	core_ref ".meta_data.stripe_type == \"charge\" and .currency == \"EUR\" and (.reference | endswith(\".gross_q\"))" > changed &&
	CHANGED=$(jq -r .reference changed) && CHANGED_TXN=$(jq -r .txn changed) &&
	AMT=$(jq -r ".precise_amount + 1" changed) &&
	test -n "$GONE_TXN" && test "$GONE_TXN" != null && test -n "$CHANGED_TXN" &&
	sim POST /_sim/tamper "{\"instance_id\":\"$INSTANCE\",\"op\":\"delete\",\"reference\":\"$GONE\"}" &&
	test "$SIM_STATUS" = 200 &&
	sim POST /_sim/tamper "{\"instance_id\":\"$INSTANCE\",\"op\":\"amount\",\"reference\":\"$CHANGED\",\"precise_amount\":$AMT}" &&
	test "$SIM_STATUS" = 200 &&
	YDAY=$(date -u -d yesterday +%FT12:00:00Z) &&
	sim POST /_sim/tamper "{\"instance_id\":\"$INSTANCE\",\"op\":\"add\",\"reference\":\"stripe.txn_planted.gross\",\"precise_amount\":700,\"currency\":\"USD\",\"source\":\"@world\",\"destination\":\"@stripe\",\"effective_date\":\"$YDAY\"}" &&
	test "$SIM_STATUS" = 200 &&
	recon_now && recon_wait &&
	test "$(jq -r .status rec.json)" = completed &&
	test "$(jq -r .result rec.json)" = differences &&
	test "$(diffs ".kind == \"missing\" and .stripe_id == \"$GONE_TXN\" and .reference == \"$GONE\" and .blnk_amount == null and .stripe_amount != null")" = 1 &&
	test "$(diffs ".kind == \"amount\" and .stripe_id == \"$CHANGED_TXN\" and .reference == \"$CHANGED\" and .currency == \"EUR\" and .stripe_amount != .blnk_amount")" = 1 &&
	test "$(diffs ".kind == \"unknown\" and .reference == \"stripe.txn_planted.gross\" and .stripe_id == \"txn_planted\" and .blnk_amount == \"-7.00\"")" = 1 &&
	test "$(diffs ".kind == \"balance\" and .currency == \"USD\"")" = 1 &&
	test "$(diffs ".kind == \"balance\" and .currency == \"EUR\"")" = 1 &&
	test "$(diffs ".kind == \"balance\" and (.currency == \"JPY\" or .currency == \"KWD\")")" = 0 &&
	test "$(jq -r .differences_total rec.json)" = 5 &&
	test "$(diffs "(.action | length) < 20 or (.message | length) < 20")" = 0 &&
	test "$(jq -r "[.totals[] | select(.match | not) | .currency] | sort | join(\",\")" rec.json)" = EUR,USD &&
	jq -r "[.days[] | select(.match | not) | .day] | unique | .[]" rec.json > bad-days &&
	test "$(wc -l < bad-days)" -ge 2 && test "$(wc -l < bad-days)" -le 3 &&
	grep -q -x "$(date -u -d yesterday +%F)" bad-days
'

test_expect_success 'the differences download as CSV: a header, one row per difference, RFC 4180' '
	https -D csv.headers -o rec.csv -H "Authorization: Bearer $TOK" \
		"$APP/api/v1/reconciliations/$REC?format=csv" &&
	grep -qi "^content-type: text/csv; charset=utf-8" csv.headers &&
	grep -qi "^content-disposition: attachment; filename=\"$REC.csv\"" csv.headers &&
	head -1 rec.csv | tr -d "\r" > header &&
	echo "kind,currency,day,stripe_id,reference,blnk_id,stripe_amount,blnk_amount,message,action" > want &&
	test_cmp want header &&
	node "$top_srcdir/t/csv-rows.js" rec.csv > rows.json &&
	jq ".[1:]" rows.json > csv.json &&
	test "$(jq length csv.json)" = 5 &&
	test "$(jq -r "[.[] | select(.[0] == \"missing\" and .[4] == \"$GONE\")] | length" csv.json)" = 1 &&
	test "$(jq -r "[.[] | select(.[0] == \"unknown\" and .[7] == \"-7.00\")] | length" csv.json)" = 1 &&
	api GET "/api/v1/reconciliations/$REC?format=xml" && want 400 INVALID_QUERY &&
	api GET "/api/v1/reconciliations/$REC?limit=3" && want 400 INVALID_QUERY
'

test_expect_success 'one currency: only its items, totals and balance' '
	recon_now "{\"from\":\"$(date -u -d "-61 days" +%F)\",\"currency\":\"eur\"}" && recon_wait &&
	test "$(jq -r .status rec.json)" = completed &&
	test "$(jq -r .currency rec.json)" = EUR &&
	test "$(jq -r "[.totals[].currency] | join(\",\")" rec.json)" = EUR &&
	test "$(jq -r "[.balances[].currency] | join(\",\")" rec.json)" = EUR &&
	test "$(jq -r "[.differences[] | select(.currency != \"EUR\")] | length" rec.json)" = 0 &&
	test "$(diffs ".kind == \"amount\" and .stripe_id == \"$CHANGED_TXN\"")" = 1
'

# recon_alerts: how many of the instance's Cloud alerts a reconciliation
# raised.
recon_alerts() {
	sim GET "/_sim/core?instance_id=$INSTANCE" &&
	jq "[.alerts[] | select(.title | startswith(\"Stripe reconciliation\"))] | length" sim.json
}

test_expect_success 'each difference is flagged in Cloud once, however often it is found again' '
	n=0 && until [ "$(recon_alerts)" -ge 5 ]; do
		n=$((n + 1)); [ $n -lt 300 ] || { recon_alerts; return 1; }; sleep 0.1; done &&
	sim GET "/_sim/core?instance_id=$INSTANCE" &&
	jq -c "[.alerts[] | select(.title | startswith(\"Stripe reconciliation\"))]" sim.json > alerts.json &&
	test "$(jq "[.[] | select(.type == \"Transaction\")] | length" alerts.json)" = 2 &&
	test "$(jq "[.[] | select(.type == \"Balance\")] | length" alerts.json)" = 3 &&
	test "$(jq "[.[] | select(.description | test(\"What to do\"))] | length" alerts.json)" = 5 &&
	test "$(jq "[.[] | select(.description | test(\"$GONE_TXN\"))] | length" alerts.json)" = 1 &&
	recon_now && recon_wait && test "$(jq -r .differences_total rec.json)" = 5 &&
	sleep 2 && test "$(recon_alerts)" = 5
'

test_expect_success 'a payout: what it settled, looked up by reference, matches and nets to zero' '
	curl -s -H "Authorization: Bearer $SKEY" "$STRIPE/v1/payouts?limit=100" > payouts.json &&
	PO=$(jq -r "[.data[] | select(.automatic and .status == \"paid\" and .currency == \"jpy\")][0].id" payouts.json) &&
	test -n "$PO" && test "$PO" != null &&
	recon_now "{\"payout\":\"$PO\"}" && recon_wait &&
	jq -c "{status, error, currency, scope, payout, counts, from, result, totals, balances}" rec.json &&
	test "$(jq -r .status rec.json)" = completed &&
	test "$(jq -r .scope rec.json)" = payout &&
	test "$(jq -r .payout rec.json)" = "$PO" &&
	test "$(jq -r .counts.stripe rec.json)" -gt 1 &&
	test "$(jq -r .currency rec.json)" = JPY &&
	test "$(jq -r "[.balances[].currency] | join(\",\")" rec.json)" = JPY &&
	{ test "$(jq -r .result rec.json)" = clean || { jq -c "{differences, balances, totals, counts}" rec.json; false; }; } &&
	test "$(jq -r "[.totals[] | select(.currency == \"JPY\")][0].stripe" rec.json)" = 0 &&
	test "$(jq -r "[.totals[] | select(.currency == \"JPY\")][0].match" rec.json)" = true &&
	test "$(jq -r .from rec.json)" != null
'

test_expect_success 'a REJECTED posting is a difference with Blnk'"'"'s id and what to do' '
	sync_install inst_rejected &&
	api PUT /api/v1/settings "{\"overdraft\":{\"payouts\":false}}" && want 200 &&
	sync_now && sync_wait 300 &&
	test "$(jq -r .counts.rejected run.json)" -gt 0 &&
	recon_now && recon_wait &&
	test "$(jq -r .status rec.json)" = completed &&
	test "$(diffs ".kind == \"rejected\"")" = "$(jq -r .counts.rejected run.json)" &&
	test "$(diffs ".kind == \"rejected\" and (.blnk_id | startswith(\"txn_\")) and (.action | test(\"overdraft\"))")" -gt 0 &&
	R=$(jq -r .counts.rejected run.json) && n=0 &&
	until sim GET "/_sim/core?instance_id=$INSTANCE" &&
		[ "$(jq "[.alerts[] | select(.type == \"Transaction\")] | length" sim.json)" -ge "$R" ] &&
		[ "$(recon_alerts)" -ge 4 ]; do
		n=$((n + 1)); [ $n -lt 600 ] || { jq -c "[.alerts[] | .title] | group_by(.) | map([.[0], length])" sim.json; return 1; }
		sleep 0.1; done &&
	sleep 1 && sim GET "/_sim/core?instance_id=$INSTANCE" &&
	test "$(jq "[.alerts[] | select(.type == \"Transaction\")] | length" sim.json)" = "$R" &&
	test "$(jq "[.alerts[] | select(.title == \"Stripe reconciliation: rejected in Blnk\")] | length" sim.json)" = 0
'

test_expect_success 'bad input is refused, naming the field, and queues nothing' '
	api GET /api/v1/reconciliations && want 200 && before=$(jq -r .counts.all api.json) &&
	api POST /api/v1/reconciliations "{\"from\":\"2026-13-01\"}" && want 400 INVALID_FIELD &&
	test "$(jq -r .error.field api.json)" = from &&
	api POST /api/v1/reconciliations "{\"from\":\"2026-02-30\"}" && want 400 INVALID_FIELD &&
	api POST /api/v1/reconciliations "{\"to\":\"$(date -u -d tomorrow +%F)\"}" && want 400 INVALID_FIELD &&
	test "$(jq -r .error.field api.json)" = to &&
	api POST /api/v1/reconciliations "{\"from\":\"2026-03-02\",\"to\":\"2026-03-01\"}" && want 400 INVALID_FIELD &&
	api POST /api/v1/reconciliations "{\"from\":\"2024-01-01\",\"to\":\"2025-06-01\"}" && want 400 INVALID_FIELD &&
	api POST /api/v1/reconciliations "{\"currency\":\"usdx\"}" && want 400 INVALID_FIELD &&
	test "$(jq -r .error.field api.json)" = currency &&
	api POST /api/v1/reconciliations "{\"currency\":\"zzz\"}" && want 400 INVALID_FIELD &&
	api POST /api/v1/reconciliations "{\"payout\":\"tr_123\"}" && want 400 INVALID_FIELD &&
	test "$(jq -r .error.field api.json)" = payout &&
	api POST /api/v1/reconciliations "{\"payout\":\"po_123\",\"currency\":\"usd\"}" && want 400 INVALID_FIELD &&
	api POST /api/v1/reconciliations "{\"period\":\"x\"}" && want 400 &&
	api POST /api/v1/reconciliations "[1]" && want 400 &&
	api GET "/api/v1/reconciliations/rec_nope" && want 404 NOT_FOUND &&
	api GET "/api/v1/reconciliations?status=done" && want 400 INVALID_QUERY &&
	api GET /api/v1/reconciliations && want 200 &&
	test "$(jq -r .counts.all api.json)" = "$before"
'

test_expect_success 'one job at a time per install: a second is refused while one is queued' '
	kill -KILL "$(SYNCD_PID)" &&
	recon_now && FIRST=$REC &&
	api POST /api/v1/reconciliations "{}" && want 409 JOB_IN_PROGRESS &&
	jq -r .error.message api.json | grep -q "$FIRST" &&
	api POST /api/v1/syncs "{}" && want 409 &&
	syncd_restart && recon_wait &&
	test "$(jq -r .status rec.json)" = completed
'

test_expect_success 'killed with SIGKILL while it reads Blnk, it resumes and finds the same' '
	jq -S "{differences_total, counts, totals}" rec.json > first &&
	sim POST /_sim/faults "{\"mode\":\"stall\",\"count\":3}" &&
	recon_now && n=0 &&
	until api GET "/api/v1/reconciliations/$REC" && [ "$(jq -r .phase api.json)" = rc_blnk ]; do
		n=$((n + 1)); [ $n -lt 600 ] || return 1; sleep 0.05; done &&
	kill -KILL "$(SYNCD_PID)" && syncd_restart &&
	sim POST /_sim/faults "{\"mode\":\"none\"}" &&
	recon_wait 180 &&
	test "$(jq -r .status rec.json)" = completed &&
	test "$(jq -r .attempts rec.json)" -ge 2 &&
	jq -S "{differences_total, counts, totals}" rec.json > second &&
	test_cmp first second
'

test_expect_success 'activity since the last sync is not a difference: counted as not imported yet, taken out of the balance check' '
	stripe POST /_sim/activity "{\"count\":6}" && test "$STRIPE_STATUS" = 200 &&
	recon_now && recon_wait &&
	test "$(jq -r .pending rec.json)" = 6 &&
	test "$(diffs ".kind == \"missing\"")" = 1 &&
	test "$(jq -r "[.balances[] | select(.currency == \"JPY\" or .currency == \"KWD\") | select(.match | not)] | length" rec.json)" = 0 &&
	test "$(jq -r "[.balances[].not_imported_yet] | map(select(. != 0)) | length" rec.json)" -ge 1 &&
	sync_now && sync_wait && test "$(jq -r .counts.found run.json)" = 6 &&
	recon_now && recon_wait &&
	test "$(jq -r .pending rec.json)" = 0 &&
	test "$(jq -r "[.balances[].not_imported_yet] | map(select(. != 0)) | length" rec.json)" = 0
'

test_expect_success 'a currency only Blnk'"'"'s mirror holds, outside the period, is a balance difference' '
	sim POST /_sim/tamper "{\"instance_id\":\"$INSTANCE\",\"op\":\"add\",\"reference\":\"hand.gbp.1\",\"precise_amount\":1250,\"currency\":\"GBP\",\"source\":\"@world\",\"destination\":\"@stripe\",\"effective_date\":\"2020-01-01T00:00:00Z\"}" &&
	test "$SIM_STATUS" = 200 &&
	recon_now && recon_wait &&
	test "$(diffs ".kind == \"balance\" and .currency == \"GBP\" and .stripe_amount == \"0.00\" and .blnk_amount == \"-12.50\"")" = 1
'

test_expect_success 'a posting whose currency was changed in Blnk is a currency difference, also in that currency'"'"'s reconciliation' '
	core_ref ".meta_data.stripe_type == \"charge\" and .currency == \"KWD\" and (.reference | endswith(\".gross_q\"))" > moved &&
	MOVED=$(jq -r .reference moved) && MOVED_TXN=$(jq -r .txn moved) &&
	sim POST /_sim/tamper "{\"instance_id\":\"$INSTANCE\",\"op\":\"amount\",\"reference\":\"$MOVED\",\"currency\":\"GBP\"}" &&
	test "$SIM_STATUS" = 200 &&
	recon_now "{\"from\":\"$(date -u -d "-61 days" +%F)\",\"currency\":\"kwd\"}" && recon_wait &&
	test "$(diffs ".kind == \"currency\" and .stripe_id == \"$MOVED_TXN\" and .reference == \"$MOVED\" and .currency == \"KWD\" and (.message | test(\"GBP\"))")" = 1
'

test_expect_success 'what others posted cannot become a formula in the CSV' '
	sim POST /_sim/tamper "{\"instance_id\":\"$INSTANCE\",\"op\":\"add\",\"reference\":\"stripe.-2+3+cmd|'"'"' /C calc'"'"'!A0.gross\",\"precise_amount\":100,\"currency\":\"USD\",\"source\":\"@world\",\"destination\":\"@stripe\"}" &&
	test "$SIM_STATUS" = 200 &&
	sim POST /_sim/tamper "{\"instance_id\":\"$INSTANCE\",\"op\":\"add\",\"reference\":\"stripe.txn_odd.gross\",\"precise_amount\":100,\"currency\":\"=1+2\",\"source\":\"@world\",\"destination\":\"@stripe\"}" &&
	test "$SIM_STATUS" = 200 &&
	recon_now && recon_wait &&
	test "$(diffs ".kind == \"unknown\" and (.reference | startswith(\"stripe.-2+3\")) and .stripe_id == null")" = 1 &&
	test "$(diffs ".kind == \"unknown\" and .reference == \"stripe.txn_odd.gross\" and .currency == null")" = 1 &&
	https -o rec.csv -H "Authorization: Bearer $TOK" "$APP/api/v1/reconciliations/$REC?format=csv" &&
	node "$top_srcdir/t/csv-rows.js" rec.csv > rows.json &&
	jq -r ".[1:][][]" rows.json > cells && test -s cells &&
	! grep -E "^[-=+@]" cells | grep -qvE "^-?[0-9]+([.][0-9]+)?$" &&
	grep -q "\"'"'"'-2+3" rec.csv || grep -q "stripe.-2+3" rec.csv
'

test_expect_success 'after a switch to the live key, the test-mode postings are not unknown; nothing live imported yet is pending' '
	LKEY=$(jq -r ".live[0]" "$STACK/s/etc/stripe-sim-keys.json") &&
	api PUT /api/v1/stripe "{\"api_key\":\"$LKEY\",\"confirm_mode_switch\":true}" && want 200 &&
	recon_now && recon_wait &&
	test "$(jq -r .status rec.json)" = completed &&
	test "$(jq -r .mode rec.json)" = live &&
	test "$(jq -r .other_mode rec.json)" -gt 1000 &&
	test "$(diffs ".kind == \"unknown\" and (.stripe_id // \"\" | startswith(\"txn_\"))")" -le 2 &&
	test "$(diffs ".kind == \"missing\"")" = 0 &&
	test "$(jq -r .pending rec.json)" -gt 0 &&
	test "$(jq -r "[.balances[] | select(.comparable)] | length" rec.json)" = 0
'

test_done
