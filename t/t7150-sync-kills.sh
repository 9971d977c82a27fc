#!/bin/sh
test_description='torture: the job runner SIGKILLed about 100 ms into each of its turns at a sync, again and again until the sync ends: Blnk equals Stripe exactly, nothing lost or doubled'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/stack.sh"
. "$top_srcdir/t/sync.sh"

# TORTURE_SCALE multiplies the balance transactions; TORTURE_SEED fixes
# the Stripe account and the moments of the kills.
SCALE=${TORTURE_SCALE:-1}
SEED=${TORTURE_SEED:-t7150}
TXNS=$((400 * SCALE))
STACK_ARGS="--stripe-seed $SEED --stripe-count $TXNS --stripe-currencies usd,eur,jpy,kwd"
SYNCD_PID() { cat "$STACK/s/pids/syncd.pid"; }
test_diag "seed $SEED, scale $SCALE: $TXNS balance transactions"

# The moments of the kills, 50 to 200 ms after a runner has claimed the
# run, from the seed.
awk -v s="$(printf '%s' "$SEED" | cksum | cut -d" " -f1)" \
	'BEGIN { srand(s); for (i = 0; i < 5000; i++) printf "%.3f\n", 0.05 + rand() * 0.15 }' \
	> "$TRASH/delays"

test_expect_success_here 'setup: the stack with the shortest lease, an install with Stripe connected' '
	stack_start 2 &&
	sim POST /_sim/register "{}" && test "$SIM_STATUS" = 200 &&
	SKEY=$(jq -r ".test[0]" "$STACK/s/etc/stripe-sim-keys.json") &&
	conf_set sync_lease 2 && conf_set stripe_rate 1 &&
	sync_install inst_kills
'

# Wherever a runner dies, no item is left 'sent' once none of its
# postings is: such an item is in no batch the confirm phase reads back.
no_stranded_items() {
	_s=$(items_stranded) &&
	{ [ "$_s" = 0 ] || { echo "killed in $(tail -n 1 phases): $_s items sent with every posting decided"; return 1; }; }
}

# A runner killed holds the run until its lease (2 s) runs out; the next
# one claims it then (attempts goes up) and is killed in its turn, in
# whatever phase it is: listing Stripe (paced to 1 call a second),
# posting to Blnk, confirming (Blnk's queue holds each posting 6 s, so
# each new runner must re-check what its predecessors sent).  kill_loop
# does that until the run has ended; a function, so that its returns end
# it and not the harness around the test's body.
kill_loop() {
	seen=0 && KILLS=0 && : > phases &&
	while :; do
		n=0 && while :; do
			api GET "/api/v1/syncs/$RUN" && st=$(jq -r .status api.json) &&
			a=$(jq -r .attempts api.json) || return 1
			[ "$st" = running ] || [ "$st" = queued ] || break
			[ "$a" -le "$seen" ] || break
			n=$((n + 1)); [ $n -lt $((200 * VG_SCALE)) ] || { echo "not claimed again"; run_show; return 1; }
			sleep 0.05
		done &&
		case $st in completed|failed) return 0 ;; esac &&
		seen=$a &&
		sleep "$(sed -n "$((KILLS + 1))p" "$TRASH/delays")" &&
		kill -KILL "$(SYNCD_PID)" &&
		run_field .progress.phase >> phases &&
		no_stranded_items &&
		KILLS=$((KILLS + 1)) &&
		syncd_restart || return 1
	done
}

test_expect_success_here 'a sync whose runner is killed again and again ends complete' '
	sim POST /_sim/queue "{\"delay_ms\":6000}" && test "$SIM_STATUS" = 200 &&
	sync_now && kill_loop &&
	sim POST /_sim/queue "{\"delay_ms\":50}" &&
	sync_wait 300 && echo "$KILLS" > kills &&
	{ { test "$(jq -r .status run.json)" = completed &&
	    test "$(jq -r .counts.found run.json)" = $TXNS &&
	    test "$(jq -r .counts.imported run.json)" = $TXNS &&
	    test "$(jq -r .counts.failed run.json)" = 0; } || { run_show; false; }; }
'
test_diag "kills: $(cat "$TRASH/kills" 2>/dev/null), by phase: $(sort "$TRASH/phases" 2>/dev/null | uniq -c | tr -s " \n" " ")"

test_expect_success 'the runner was killed many times, in more than one phase' '
	test "$(cat kills)" -ge 5 &&
	test "$(jq -r .attempts run.json)" -ge "$(cat kills)" &&
	test "$(sort -u phases | wc -l)" -ge 2
'

test_expect_success 'Blnk holds every balance transaction exactly once and equals Stripe' '
	sync_verify &&
	test "$(jq -r .txns verify.json)" = $TXNS
'

test_expect_success 'a second run finds nothing new and imports nothing' '
	sync_now && sync_wait 300 &&
	test "$(jq -r .status run.json)" = completed &&
	test "$(jq -r .counts.imported run.json)" = 0 &&
	sync_verify
'

test_done
