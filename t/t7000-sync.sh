#!/bin/sh
test_description='a full sync through the stack: 5,000 balance transactions in seven currencies land in Blnk exactly once, fees apart, balances equal to Stripe'"'"'s; a second run imports nothing; new activity comes in'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/stack.sh"
. "$top_srcdir/t/sync.sh"

STACK_ARGS="--stripe-seed t7000-sync --stripe-count 5000 --stripe-currencies usd,eur,gbp,jpy,kwd,krw,bhd"

test_expect_success_here 'setup: the stack, an install, the simulated Stripe connected' '
	sync_setup 2
'

test_expect_success 'a full sync completes: every balance transaction found and imported; the workers answer all along' '
	sync_now &&
	: > during && n=0 &&
	while [ "$(run_field .status)" != completed ] && [ $n -lt 600 ]; do
		api GET /api/v1/context && echo "$ST" >> during &&
		api PUT /api/v1/settings "{}" && echo "$ST" >> during &&
		n=$((n + 1))
	done &&
	test "$(sort -u during)" = 200 && test "$(wc -l < during)" -ge 4 &&
	sync_wait 300 &&
	test "$(jq -r .status run.json)" = completed &&
	test "$(jq -r .counts.found run.json)" = 5000 &&
	test "$(jq -r .counts.imported run.json)" = 5000 &&
	test "$(jq -r .counts.failed run.json)" = 0 &&
	test "$(jq -r .counts.rejected run.json)" = 0 &&
	test "$(jq -r .problems_total run.json)" = 0 &&
	test "$(jq -r .progress.to_confirm run.json)" = "$(jq -r .progress.confirmed run.json)"
'

test_expect_success 'Blnk holds each one exactly once, fees apart, presentment recorded, balances equal' '
	sync_verify &&
	test "$(jq -r .txns verify.json)" = 5000 &&
	test "$(jq -r .currencies verify.json | jq length)" = 7 &&
	test "$(jq -r .presentment verify.json)" -gt 0 &&
	test "$(jq -r ".postings" verify.json)" -gt 5000
'

test_expect_success 'the run reports each balance as matching Stripe'"'"'s, in Blnk'"'"'s precision' '
	test "$(jq -r "[.balances[] | select(.match | not)] | length" run.json)" = 0 &&
	test "$(jq -r "[.balances[].currency] | sort | join(\",\")" run.json)" = "BHD,EUR,GBP,JPY,KRW,KWD,USD" &&
	test "$(jq -r ".balances[] | select(.currency == \"KRW\") | .precision" run.json)" = 100 &&
	test "$(jq -r ".balances[] | select(.currency == \"JPY\") | .precision" run.json)" = 1
'

test_expect_success 'few calls: Stripe pages of 100, Cloud bulk posts and batched read-back' '
	stripe GET /_sim/requests && cp stripe.json stripe-requests.json &&
	sim GET /_sim/connections &&
	calls=$(jq -r .gateway_requests sim.json) &&
	test "$calls" -le 250 &&
	test "$(jq -r .gateway_connections sim.json)" -le 4
'

test_expect_success 'a second run imports nothing new; the boundary second is seen again, not posted' '
	sync_now && sync_wait &&
	test "$(jq -r .status run.json)" = completed &&
	test "$(jq -r .counts.found run.json)" = 0 &&
	test "$(jq -r .counts.imported run.json)" = 0 &&
	test "$(jq -r .counts.present run.json)" -ge 1 &&
	sync_verify
'

test_expect_success 'new activity in Stripe is imported by the next run, nothing else' '
	stripe POST /_sim/activity "{\"count\":40}" && test "$STRIPE_STATUS" = 200 &&
	sync_now && sync_wait &&
	test "$(jq -r .status run.json)" = completed &&
	test "$(jq -r .counts.found run.json)" = 40 &&
	test "$(jq -r .counts.imported run.json)" = 40 &&
	sync_verify && test "$(jq -r .txns verify.json)" = 5040
'

test_expect_success 'the history lists the runs with their names and counts' '
	api GET /api/v1/syncs && want 200 &&
	test "$(jq -c .counts api.json)" = "{\"all\":3,\"completed\":3,\"in_progress\":0,\"failed\":0}" &&
	test "$(jq -r "[.data[].name] | unique | join(\",\")" api.json)" = "Full sync"
'

test_expect_success 'no key reached a log' '
	! grep -r -F -e "$SKEY" "$LOGS"
'

test_done
