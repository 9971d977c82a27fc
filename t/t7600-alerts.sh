#!/bin/sh
test_description='alerts: a REJECTED posting and a failed sync are flagged in Cloud exactly once (two runners, a second sync, a restart, a Cloud outage while flagging), and without alerts:write nothing reaches Cloud and the portal lists them'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/stack.sh"
. "$top_srcdir/t/sync.sh"

STACK_ARGS="--stripe-seed t7600-alerts --stripe-count 150 --stripe-currencies usd,eur"

# Payouts may not overdraw their balance: Blnk REJECTS each payout posting.
REJECTING='{"overdraft":{"payouts":false}}'

# core: the simulator's dump of $INSTANCE (alerts, transactions) in sim.json.
core() {
	sim GET "/_sim/core?instance_id=$INSTANCE" && test "$SIM_STATUS" = 200
}

# alerts_of TYPE: how many alerts of that type the instance has.
alerts_of() {
	core && jq "[.alerts[] | select(.type == \"$1\")] | length" sim.json
}

# problems_settled [SECONDS]: wait until none of the install's problems is
# pending; the list in problems.json.
problems_settled() {
	_end=$(( $(date +%s) + ${1:-60} ))
	while :; do
		api GET "/api/v1/problems?limit=100" && want 200 || return 1
		[ "$(jq "[.data[] | select(.state == \"pending\")] | length" api.json)" = 0 ] &&
			{ cp api.json problems.json; return 0; }
		[ "$(date +%s)" -lt "$_end" ] || { echo "problems still pending:"; cat api.json; echo; return 1; }
		sleep 0.2
	done
}

# quiet SECONDS: let the runners poll for that long (each idle poll sends
# what is due).
quiet() { sleep "$1"; }

# rejected_flagged_once: every REJECTED outcome row of the instance has
# exactly one Transaction alert, on that row, titled and described as it
# should be (the Stripe id, the reference, what to do).
rejected_flagged_once() {
	core && jq -e '
		[.transactions[] | select(.status == "REJECTED" and
		    (.reference | endswith("_q")))] as $rej |
		[.alerts[] | select(.type == "Transaction")] as $al |
		($rej | length) > 0 and ($al | length) == ($rej | length) and
		([$al[].affected_transactions[0]] | unique | length) == ($al | length) and
		all($al[]; . as $a |
		    $a.title == "Posting rejected by Blnk" and
		    $a.status == "FLAGGED" and
		    ($a.affected_transactions | length) == 1 and
		    any($rej[]; . as $r |
			$r.transaction_id == $a.affected_transactions[0] and
			($a.description | contains($r.meta_data.stripe_txn)) and
			($a.description | contains($r.reference | rtrimstr("_q"))) and
			($a.description | contains("What to do: fund")) and
			($a.description | contains("Overdraft: payouts"))))
	' sim.json >/dev/null || {
		jq -c "{rejected: [.transactions[] | select(.status == \"REJECTED\") | {transaction_id, reference}], alerts: [.alerts[] | {type, title, affected_transactions, description}]}" sim.json
		return 1; }
}

test_expect_success_here 'setup: the stack, two job runners' '
	stack_start 2 &&
	sim POST /_sim/register "{}" && test "$SIM_STATUS" = 200 &&
	SKEY=$(jq -r ".test[0]" "$STACK/s/etc/stripe-sim-keys.json") &&
	syncd_restart syncd2
'

test_expect_success_here 'with alerts:write, each REJECTED posting is flagged once, on its transaction' '
	sync_install inst_flag && FLAG_ID=$ID &&
	api GET /api/v1/context && want 200 &&
	jq -e ".granted_permissions | index(\"alerts:write\")" api.json >/dev/null &&
	api PUT /api/v1/settings "$REJECTING" && want 200 &&
	sync_now && sync_wait &&
	test "$(jq -r .status run.json)" = completed &&
	test "$(jq -r .counts.rejected run.json)" -gt 0 &&
	problems_settled &&
	test "$(jq -r .alerts_write problems.json)" = true &&
	rejected_flagged_once &&
	test "$(alerts_of Balance)" = 0 &&
	core && jq "[.alerts[].anomaly_id] | sort" sim.json > made &&
	jq "[.data[] | select(.key | startswith(\"rejected:\"))] |
	    (length > 0 and all(.state == \"flagged\" and .target_type == \"transaction\" and
	    (.target_id | startswith(\"txn_\"))))" problems.json | grep -qx true &&
	jq "[.data[] | select(.key | startswith(\"rejected:\")) | .anomaly_id] | sort" problems.json > stored &&
	test_cmp made stored
'

test_expect_success_here 'a second sync and a runner restart flag nothing new' '
	cp made made.before &&
	sync_now && sync_wait &&
	test "$(jq -r .status run.json)" = completed &&
	kill -TERM "$(cat "$STACK/s/pids/syncd.pid")" &&
	syncd_restart && quiet 3 &&
	problems_settled &&
	core && jq "[.alerts[].anomaly_id] | sort" sim.json > made &&
	test_cmp made.before made &&
	rejected_flagged_once
'

test_expect_success_here 'without alerts:write, no alert reaches Cloud and the portal lists the problems as unscoped' '
	sim POST /_sim/install "{\"instance_id\":\"inst_noscope\",\"scopes\":[\"data:read\",\"data:write\"]}" &&
	test "$SIM_STATUS" = 200 && ID=$(jq -r .installed_app_id sim.json) && INSTANCE=inst_noscope &&
	sim POST /_sim/launch "{\"installed_app_id\":\"$ID\"}" && test "$SIM_STATUS" = 200 &&
	TOK=$(jq -r .portal_url sim.json | sed "s/.*token=//") &&
	api PUT /api/v1/stripe "{\"api_key\":\"$SKEY\"}" && want 200 &&
	api PUT /api/v1/settings "$REJECTING" && want 200 &&
	sync_now && sync_wait &&
	test "$(jq -r .counts.rejected run.json)" -gt 0 &&
	problems_settled && quiet 2 &&
	test "$(jq -r .alerts_write problems.json)" = false &&
	test "$(jq "[.data[] | select(.key | startswith(\"rejected:\"))] | length" problems.json)" = \
		"$(jq -r .counts.rejected run.json)" &&
	jq -e "all(.data[]; .state == \"unscoped\" and .anomaly_id == null and
	    .title == \"Posting rejected by Blnk\" and (.description | contains(\"What to do\")))" problems.json >/dev/null &&
	test "$(alerts_of Transaction)" = 0 &&
	sim GET /_sim/audit && test "$SIM_STATUS" = 200 &&
	test "$(jq "[.data[] | select(.installed_app_id == \"$ID\" and (.path | startswith(\"/alerts\")))] | length" sim.json)" = 0 &&
	api GET "/api/v1/problems?limit=1&offset=1" && want 200 &&
	test "$(jq ".data | length" api.json)" = 1 &&
	test "$(jq -r ".data[0].key" api.json)" = "$(jq -r ".data[1].key" problems.json)" &&
	api GET "/api/v1/problems?limit=0" && want 400 INVALID_QUERY &&
	api GET "/api/v1/problems?page=2" && want 400 INVALID_QUERY
'

test_expect_success_here 'a failed sync is flagged once per streak of failures, on the Stripe balance in each currency' '
	sim POST /_sim/launch "{\"installed_app_id\":\"$FLAG_ID\"}" && test "$SIM_STATUS" = 200 &&
	TOK=$(jq -r .portal_url sim.json | sed "s/.*token=//") && INSTANCE=inst_flag &&
	RK=rk_test_t7600balanceonly0000000 &&
	stripe POST /_sim/keys "{\"mode\":\"test\",\"key\":\"$RK\",\"resources\":[\"balance\"]}" &&
	test "$STRIPE_STATUS" = 200 &&
	api PUT /api/v1/stripe "{\"api_key\":\"$RK\"}" && want 200 &&
	sync_now && sync_wait &&
	test "$(jq -r .status run.json)" = failed &&
	test "$(jq -r .error.code run.json)" = STRIPE_PERMISSION &&
	FIRST=$RUN && problems_settled &&
	core && jq -e --arg run "$FIRST" "
		[.balances[] | select(.indicator == \"@stripe\") | .balance_id] as \$ids |
		[.alerts[] | select(.type == \"Balance\")] as \$al |
		(\$al | length) == 2 and (\$ids | length) == 2 and
		([\$al[].affected_balances[0]] | sort) == (\$ids | sort) and
		all(\$al[]; .title == \"Stripe sync failed\" and
		    (.description | contains(\$run)) and
		    (.description | contains(\"STRIPE_PERMISSION\")) and
		    (.description | contains(\"What to do\")))" sim.json >/dev/null &&
	! grep -q "$RK" sim.json &&
	sync_now && sync_wait &&
	test "$(jq -r .status run.json)" = failed &&
	problems_settled && quiet 2 &&
	test "$(alerts_of Balance)" = 2 &&
	test "$(jq "[.data[] | select(.key | startswith(\"run_failed:\"))] | length" problems.json)" = 2 &&
	api PUT /api/v1/stripe "{\"api_key\":\"$SKEY\"}" && want 200 &&
	sync_now && sync_wait &&
	test "$(jq -r .status run.json)" = completed &&
	api PUT /api/v1/stripe "{\"api_key\":\"$RK\"}" && want 200 &&
	sync_now && sync_wait &&
	test "$(jq -r .status run.json)" = failed &&
	problems_settled &&
	test "$(alerts_of Balance)" = 4 &&
	test "$(jq "[.data[] | select(.key | startswith(\"run_failed:$RUN:\")) | select(.state == \"flagged\")] | length" problems.json)" = 2 &&
	rejected_flagged_once
'

test_expect_success_here 'Cloud failing while flagging: tried again with backoff, each problem still flagged once' '
	sync_install inst_outage &&
	api PUT /api/v1/settings "$REJECTING" && want 200 &&
	sim POST /_sim/faults "{\"mode\":\"500\",\"count\":6,\"paths_prefix\":\"/alerts/flag\"}" &&
	test "$SIM_STATUS" = 200 &&
	sync_now && sync_wait &&
	test "$(jq -r .counts.rejected run.json)" -gt 0 &&
	problems_settled 120 &&
	sim GET /_sim/faults && test "$(jq -r .count sim.json)" = 0 &&
	grep -q "not flagged yet (CLOUD_ERROR" "$LOGS/app.log" &&
	test "$(jq "[.data[] | select(.attempts >= 2)] | length" problems.json)" -gt 0 &&
	jq -e "all(.data[]; .state == \"flagged\")" problems.json >/dev/null &&
	rejected_flagged_once &&
	sim GET /_sim/audit &&
	jq "[.data[] | select(.method == \"POST\" and (.path | startswith(\"/alerts/flag/\")) and .fault != null)] | length" sim.json > faulted &&
	test "$(cat faulted)" = 6 &&
	jq -e "[.data[] | select(.method == \"POST\" and (.path | startswith(\"/alerts/flag/\")))] |
	    group_by(.path) | map(select(any(.[]; .fault != null))) |
	    length == 6 and all(.[]; length == 2 and .[0].fault != null and .[1].status == 201 and
		((.[1].at | sub(\"[.][0-9]+Z$\"; \"Z\") | fromdateiso8601) -
		 (.[0].at | sub(\"[.][0-9]+Z$\"; \"Z\") | fromdateiso8601)) >= 4)" sim.json >/dev/null
'

# flags_of INSTALL: its rows of alert_flags, as the database holds them.
flags_of() {
	sqlite3 "$(sed -n "s/^db_path[ 	]*=[ 	]*//p" "$CONF")" \
		"SELECT count(*) FROM alert_flags WHERE installed_app_id = '$1'"
}

if command -v sqlite3 >/dev/null 2>&1; then
test_expect_success_here 'an uninstall forgets the install'"'"'s problems' '
	test "$(flags_of "$ID")" -gt 0 &&
	sim POST /_sim/uninstall "{\"installed_app_id\":\"$ID\"}" && test "$SIM_STATUS" = 200 &&
	test "$(flags_of "$ID")" = 0 && test "$(flags_of "$FLAG_ID")" -gt 0
'
else
	test_diag "sqlite3 (Debian package: sqlite3) not found: the uninstall check is left out"
fi

test_done
