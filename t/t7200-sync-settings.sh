#!/bin/sh
test_description='the settings shape the import: a start date and its opening balance, pay-ins by customer metadata or to one balance, pay-ins before payouts, fees left out, a REJECTED posting reported, a schedule'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/stack.sh"
. "$top_srcdir/t/sync.sh"

STACK_ARGS="--stripe-seed t7200-sync-settings --stripe-count 800 --stripe-currencies usd,eur,jpy,kwd"

# refs_where JQ: how many of the instance's _q rows match a jq condition.
refs_where() {
	sim GET "/_sim/core?instance_id=$INSTANCE" &&
	jq "[.transactions[] | select(.reference | endswith(\"_q\")) | select($1)] | length" sim.json
}

test_expect_success_here 'setup: the stack' '
	stack_start 2 &&
	sim POST /_sim/register "{}" && test "$SIM_STATUS" = 200 &&
	SKEY=$(jq -r ".test[0]" "$STACK/s/etc/stripe-sim-keys.json")
'

test_expect_success 'a start date: only what came after is imported, one opening balance per currency, balances equal' '
	sync_install inst_since &&
	node -e "
		const key = process.argv[1], url = process.argv[2];
		(async () => { const all = []; let after = null;
		for (;;) { const r = await fetch(url + \"/v1/balance_transactions?limit=100\" +
		    (after ? \"&starting_after=\" + after : \"\"), { headers: { authorization: \"Bearer \" + key } });
		  if (r.status === 429) { await new Promise((s) => setTimeout(s, 300)); continue; }
		  const p = await r.json(); all.push(...p.data); if (!p.has_more) break; after = p.data[p.data.length - 1].id; }
		const mid = all[Math.floor(all.length / 2)].created;
		const day = new Date(mid * 1000).toISOString().slice(0, 10);
		const since = Date.parse(day + \"T00:00:00Z\") / 1000;
		console.log(day, since, all.filter((t) => t.created >= since).length); })();
	" "$SKEY" "$STRIPE" > since &&
	read DAY SINCE N < since && test "$N" -gt 0 && test "$N" -lt 800 &&
	api PUT /api/v1/settings "{\"start_date\":\"$DAY\"}" && want 200 &&
	sync_now && sync_wait &&
	test "$(jq -r .status run.json)" = completed &&
	test "$(jq -r .counts.found run.json)" -ge "$N" &&
	{ sync_verify --since "$SINCE" || {
		sim GET "/_sim/core?instance_id=$INSTANCE" &&
		jq -c "[.transactions[] | select(.status == \"REJECTED\") | {reference, source, destination, precise_amount, currency, m: .meta_data}]" sim.json
		jq -c "[.balances[] | {balance_id, indicator, currency, balance}]" sim.json
		jq -c ".problems" run.json; false; }; } &&
	test "$(refs_where ".reference | startswith(\"stripe.opening.test.\")")" -ge 1 &&
	test "$(jq -r "[.balances[] | select(.match | not)] | length" run.json)" = 0 &&
	api PUT /api/v1/settings "{\"start_date\":\"2020-01-01\"}" && want 409 START_DATE_LOCKED
'

test_expect_success 'pay-ins by customer metadata: the named balance, guests to the fallback' '
	sync_install inst_meta &&
	api PUT /api/v1/settings "{\"mapping\":{\"payins\":\"customer_metadata\",\"metadata_key\":\"blnk_balance\",\"guest_balance\":\"@walk-ins\"}}" && want 200 &&
	sync_now && sync_wait &&
	test "$(jq -r .status run.json)" = completed &&
	sync_verify &&
	sim GET "/_sim/core?instance_id=$INSTANCE" &&
	jq -r "[.balances[].indicator] | unique | .[]" sim.json > indicators &&
	grep -q "^@walk-ins$" indicators &&
	! grep -q "^@cus_" indicators &&
	stripe GET /_sim/summary?mode=test &&
	curl -s -H "Authorization: Bearer $SKEY" "$STRIPE/v1/customers?limit=100" |
		jq -r "[.data[].metadata.blnk_balance | select(. != null)] | unique | .[]" > named &&
	test -s named &&
	while read -r b; do grep -q -x -F "$b" indicators || echo "$b"; done < named > unused &&
	test "$(wc -l < unused)" -lt "$(wc -l < named)"
'

test_expect_success 'pay-ins to one fixed balance; payouts without overdraft are REJECTED and reported' '
	sync_install inst_fixed &&
	api PUT /api/v1/settings "{\"mapping\":{\"payins\":\"fixed\",\"payin_balance\":\"@shop\"},\"overdraft\":{\"payouts\":false}}" && want 200 &&
	sync_now && sync_wait &&
	test "$(jq -r .status run.json)" = completed &&
	test "$(jq -r .counts.rejected run.json)" -gt 0 &&
	test "$(jq -r "[.problems[] | select(.code == \"REJECTED\")] | length" run.json)" -gt 0 &&
	jq -r "[.problems[] | select(.code == \"REJECTED\")][0].message" run.json | grep -q overdraft &&
	jq -r "[.problems[] | select(.code == \"REJECTED\")][0].reference" run.json |
		grep -q "^stripe\.txn_.*\.gross$" &&
	test "$(refs_where ".status == \"REJECTED\" and .meta_data.stripe_type == \"payout\"")" -gt 0 &&
	test "$(refs_where ".status == \"REJECTED\" and .meta_data.stripe_type != \"payout\"")" = 0 &&
	sim GET "/_sim/core?instance_id=$INSTANCE" &&
	test "$(jq -r "[.balances[].indicator] | map(select(startswith(\"@cus_\"))) | length" sim.json)" = 0
'

test_expect_success 'a pay-in sync leaves payouts for later; a full sync then imports them' '
	sync_install inst_kinds &&
	sync_now payins && sync_wait &&
	test "$(jq -r .status run.json)" = completed &&
	test "$(jq -r .name run.json)" = "Pay-in sync" &&
	test "$(refs_where ".meta_data.stripe_type == \"payout\"")" = 0 &&
	test "$(refs_where ".meta_data.stripe_type == \"charge\"")" -gt 0 &&
	sync_now && sync_wait &&
	test "$(jq -r .status run.json)" = completed &&
	test "$(refs_where ".meta_data.stripe_type == \"payout\"")" -gt 0 &&
	sync_verify
'

test_expect_success 'fees left out: no fee postings, and the balance check says the kinds are not all imported' '
	sync_install inst_nofees &&
	api PUT /api/v1/settings "{\"import\":{\"fees\":false}}" && want 200 &&
	sync_now && sync_wait &&
	test "$(jq -r .status run.json)" = completed &&
	test "$(refs_where ".reference | endswith(\".fee_q\")")" = 0 &&
	test "$(jq -r "[.balances[] | select(.all_kinds_imported)] | length" run.json)" = 0 &&
	test "$(jq -r "[.balances[] | select(.match | not)] | length" run.json)" -gt 0
'

test_expect_success 'a schedule queues a run by itself' '
	sync_install inst_sched &&
	api PUT /api/v1/settings "{\"schedule_minutes\":5}" && want 200 &&
	n=0 && while :; do
		api GET /api/v1/syncs && want 200 &&
		[ "$(jq -r ".data | length" api.json)" -ge 1 ] && break
		n=$((n + 1)); [ $n -lt 150 ] || return 1; sleep 0.2
	done &&
	test "$(jq -r ".data[0].trigger" api.json)" = schedule &&
	RUN=$(jq -r ".data[0].id" api.json) && sync_wait &&
	test "$(jq -r .status run.json)" = completed &&
	sync_verify
'

test_done
