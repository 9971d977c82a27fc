#!/bin/sh
test_description='a sync survives its job runner killed at 20 points, Cloud failing and stalling, Stripe rate limiting, two runners, a slow queue and an outage longer than its patience: Blnk ends equal to Stripe, nothing lost or doubled'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/stack.sh"
. "$top_srcdir/t/sync.sh"

STACK_ARGS="--stripe-seed t7100-sync-faults --stripe-count 1500 --stripe-currencies usd,eur,jpy,kwd"
SYNCD_PID() { cat "$STACK/s/pids/syncd.pid"; }

test_expect_success_here 'setup: the stack with short leases and timeouts' '
	stack_start 2 &&
	sim POST /_sim/register "{}" && test "$SIM_STATUS" = 200 &&
	SKEY=$(jq -r ".test[0]" "$STACK/s/etc/stripe-sim-keys.json") &&
	conf_set sync_lease 2 && conf_set sync_patience 60 &&
	conf_set cloud_timeout 2 && conf_set cloud_connect_timeout 1
'

# Each kill lands while the run is being worked on: after the new runner
# has claimed it (attempts went up), at a random moment.  The first 8 fall
# while it lists (Stripe paced to 3 calls a second), the other 12 while it
# posts or confirms (Blnk's queue holds every posting until the kills are
# over, so confirming lasts however slow the machine is, and each new
# runner must re-check what its predecessors sent; a hold of 40 s once
# ran out on a loaded machine before the 20th kill).
# Cloud gets 10 s a call here: what is tested is the kills, and on a
# loaded machine a re-check of 1,500 postings against the simulator can
# take longer than the 2 s the other tests give it.
test_expect_success 'killed with SIGKILL at 20 points of a run and restarted each time, the run ends and Blnk equals Stripe' '
	conf_set stripe_rate 3 && conf_set cloud_timeout 10 &&
	sim POST /_sim/queue "{\"delay_ms\":3600000}" &&
	sync_install inst_kill && sync_now &&
	i=0 && seen=0 && : > phases &&
	while [ $i -lt 20 ]; do
		n=0 && while :; do
			a=$(run_field .attempts) && ph=$(jq -r .progress.phase api.json) &&
			if [ "$a" -gt "$seen" ]; then
				[ $i -lt 8 ] || [ "$ph" = post ] || [ "$ph" = confirm ] && break
			fi
			n=$((n + 1)); [ $n -lt 1200 ] || { echo "stuck in $ph"; return 1; }
			sleep 0.05
		done &&
		seen=$a &&
		sleep "0.$(od -An -N1 -tu1 /dev/urandom | tr -d " " | cut -c1 | tr 56789 01234)" &&
		run_field .progress.phase >> phases &&
		kill -KILL "$(SYNCD_PID)" &&
		syncd_restart &&
		i=$((i + 1)) || return 1
	done &&
	sim POST /_sim/queue "{\"delay_ms\":50}" && sync_wait 300 &&
	conf_set stripe_rate 0 && conf_set cloud_timeout 2 &&
	{ { test "$(jq -r .status run.json)" = completed &&
	    test "$(jq -r .attempts run.json)" -ge 21 &&
	    test "$(jq -r .counts.found run.json)" = 1500 &&
	    test "$(jq -r .counts.imported run.json)" = 1500; } || { run_show; false; }; } &&
	sync_verify &&
	test "$(jq -r .txns verify.json)" = 1500 &&
	grep -q fetch phases && grep -q confirm phases && ! grep -q done phases
'
test_diag "kills by phase: $(sort "$TRASH/phases" 2>/dev/null | uniq -c | tr -s " \n" " ")"

test_expect_success 'Cloud answering 503 and then stalling mid-run: waited out, nothing lost or doubled' '
	sync_install inst_cloud && sync_now &&
	n=0 && until [ "$(run_field .progress.phase)" = post ] || [ "$(run_field .progress.phase)" = confirm ]; do
		n=$((n + 1)); [ $n -lt 600 ] || return 1; sleep 0.05; done &&
	sim POST /_sim/faults "{\"mode\":\"503\",\"count\":6}" && test "$SIM_STATUS" = 200 &&
	n=0 && until [ "$(sim GET /_sim/faults && jq -r .count sim.json)" = 0 ]; do
		n=$((n + 1)); [ $n -lt 600 ] || return 1; sleep 0.05; done &&
	sim POST /_sim/faults "{\"mode\":\"stall\",\"count\":2}" && test "$SIM_STATUS" = 200 &&
	sync_wait 300 &&
	test "$(jq -r .status run.json)" = completed &&
	grep -q "retrying in" "$LOGS/app.log" &&
	sync_verify
'

test_expect_success 'a storm of Stripe 429s is waited out with backoff' '
	sync_install inst_429 &&
	stripe POST /_sim/requests/reset "{}" &&
	stripe POST /_sim/faults "{\"mode\":\"429\",\"count\":8,\"paths_prefix\":\"/v1/balance_transactions\"}" &&
	test "$STRIPE_STATUS" = 200 &&
	sync_now && sync_wait 300 &&
	test "$(jq -r .status run.json)" = completed &&
	stripe GET /_sim/faults && test "$(jq -r .count stripe.json)" = 0 &&
	grep -q "STRIPE_RATE_LIMITED" "$LOGS/app.log" &&
	sync_verify
'

test_expect_success 'two job runners at once: each run claimed by one, both complete exactly' '
	syncd_restart syncd2 &&
	sync_install inst_two_a && TOK_A=$TOK && I_A=$INSTANCE && sync_now && RUN_A=$RUN &&
	sync_install inst_two_b && TOK_B=$TOK && I_B=$INSTANCE && sync_now && RUN_B=$RUN &&
	TOK=$TOK_A && RUN=$RUN_A && sync_wait 300 && cp run.json run_a.json &&
	TOK=$TOK_B && RUN=$RUN_B && sync_wait 300 && cp run.json run_b.json &&
	test "$(jq -r .status run_a.json)" = completed &&
	test "$(jq -r .status run_b.json)" = completed &&
	test "$(jq -r .attempts run_a.json)" = 1 &&
	test "$(jq -r .attempts run_b.json)" = 1 &&
	test "$(grep -c "$RUN_A: claimed" "$LOGS/app.log")" = 1 &&
	test "$(grep -c "$RUN_B: claimed" "$LOGS/app.log")" = 1 &&
	INSTANCE=$I_A && sync_verify && INSTANCE=$I_B && sync_verify &&
	kill -TERM "$(cat "$STACK/s/pids/syncd2.pid")"
'

test_expect_success 'a queue that takes seconds to apply is waited for' '
	sim POST /_sim/queue "{\"delay_ms\":3000}" && test "$SIM_STATUS" = 200 &&
	test_when_finished "sim POST /_sim/queue \"{\\\"delay_ms\\\":50}\"" &&
	sync_install inst_slow && sync_now && sync_wait 300 &&
	test "$(jq -r .status run.json)" = completed &&
	sync_verify
'

test_expect_success 'an outage longer than the patience fails the run; the next run re-checks what was posted and completes' '
	conf_set sync_patience 3 &&
	sync_install inst_outage && sync_now &&
	n=0 && until [ "$(run_field .progress.phase)" = post ] || [ "$(run_field .progress.phase)" = confirm ]; do
		n=$((n + 1)); [ $n -lt 600 ] || return 1; sleep 0.05; done &&
	sim POST /_sim/faults "{\"mode\":\"503\",\"count\":100000,\"paths_prefix\":\"/data\"}" &&
	sync_wait 300 && test "$(jq -r .status run.json)" = failed &&
	{ test "$(jq -r .error.code run.json)" = CLOUD_ERROR ||
	  test "$(jq -r .error.code run.json)" = CLOUD_TIMEOUT; } &&
	sim POST /_sim/faults "{\"mode\":\"none\"}" &&
	conf_set sync_patience 60 &&
	sync_now && sync_wait 300 &&
	test "$(jq -r .status run.json)" = completed &&
	test "$(jq -r .counts.found run.json)" = 0 &&
	sync_verify &&
	api GET /api/v1/syncs && want 200 &&
	test "$(jq -c .counts api.json)" = "{\"all\":2,\"completed\":1,\"in_progress\":0,\"failed\":1}"
'

test_done
