#!/bin/sh
test_description='what a live deployment meets: a reinstall on the same instance, a mapping to a balance Blnk does not have, an uninstall mid-run, Stripe activity while a start-date listing runs'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/stack.sh"
. "$top_srcdir/t/sync.sh"

STACK_ARGS="--stripe-seed t7300-sync-recovery --stripe-count 600 --stripe-currencies usd,eur"

test_expect_success_here 'setup: the stack' '
	stack_start 2 &&
	sim POST /_sim/register "{}" && test "$SIM_STATUS" = 200 &&
	SKEY=$(jq -r ".test[0]" "$STACK/s/etc/stripe-sim-keys.json") &&
	conf_set sync_confirm_timeout 60
'

# The new install has a new id and its own records, but Blnk already
# holds every posting under the same references: each is found by its
# reference and counted, none is posted twice.
test_expect_success 'a reinstall on the same instance finds what Blnk holds already, and posts nothing twice' '
	sync_install inst_re && OLD=$ID && sync_now && sync_wait &&
	test "$(jq -r .status run.json)" = completed &&
	sim POST /_sim/uninstall "{\"installed_app_id\":\"$OLD\"}" && test "$SIM_STATUS" = 200 &&
	sync_install inst_re && test "$ID" != "$OLD" &&
	sync_now && sync_wait &&
	test "$(jq -r .status run.json)" = completed &&
	test "$(jq -r .counts.imported run.json)" = 600 &&
	test "$(jq -r .counts.rejected run.json)" = 0 &&
	sync_verify
'

# How many of install $ID's items are in state $1.
items_in() {
	db "SELECT count(*) FROM sync_items WHERE installed_app_id = '$ID' AND state = '$1'"
}
# The first N (or, with desc, last N) confirmed items that have postings.
some_items() {
	echo "SELECT txn_id FROM sync_items WHERE installed_app_id = '$ID' AND state = 'confirmed' AND txn_id IN (SELECT txn_id FROM sync_postings WHERE installed_app_id = '$ID') ORDER BY txn_id ${2-} LIMIT $1"
}

# Before one transaction held both, a runner killed between deciding a
# batch's last posting and settling its items left them 'sent' for good:
# a batch with no posting 'sent' is never read back.  The next run's
# confirm phase settles such items and counts them: 7 whose postings were
# applied, 1 whose postings were rejected.
test_expect_success 'items left sent after their every posting was decided: settled and counted by the next run' '
	sync_install inst_sweep && sync_now && sync_wait &&
	test "$(jq -r .status run.json)" = completed &&
	R=$(db "$(some_items 1 desc)") && test -n "$R" &&
	db "UPDATE sync_postings SET state = '\''rejected'\'' WHERE installed_app_id = '\''$ID'\'' AND txn_id = '\''$R'\''" &&
	db "UPDATE sync_items SET state = '\''sent'\'' WHERE installed_app_id = '\''$ID'\'' AND (txn_id IN ($(some_items 7)) OR txn_id = '\''$R'\'')" &&
	test "$(items_in sent)" = 8 &&
	sync_now && sync_wait &&
	test "$(jq -r .status run.json)" = completed &&
	test "$(jq -r .counts.imported run.json)" = 7 &&
	test "$(jq -r .counts.rejected run.json)" = 1 &&
	test "$(items_in sent)" = 0 &&
	test "$(db "SELECT state FROM sync_items WHERE installed_app_id = '\''$ID'\'' AND txn_id = '\''$R'\''")" = rejected &&
	test "$(db "SELECT count(*) FROM sync_items WHERE installed_app_id = '\''$ID'\'' AND run_id = '\''$RUN'\''")" = 8
'

# A trigger makes every settle that changes an item fail.  Split in two
# transactions, the outcomes would be kept and their items stranded; in
# one, neither is kept.  Without the trigger the run then ends as if
# nothing had happened.
test_expect_success 'an outcome is only kept with its settled item: a settle that cannot be written takes the outcome back' '
	test_when_finished "db \"DROP TRIGGER IF EXISTS strand\"; conf_set sync_lease 90" &&
	conf_set sync_lease 2 &&
	sync_install inst_atomic &&
	db "CREATE TRIGGER strand BEFORE UPDATE OF state ON sync_items WHEN OLD.state = '\''sent'\'' BEGIN SELECT RAISE(ABORT, '\''planted by t7300'\''); END" &&
	sync_now &&
	n=0 && while [ "$(grep -c "$RUN: [a-z ]*: planted by t7300" "$LOGS/app.log")" -lt 2 ] &&
	    [ $n -lt 1200 ]; do n=$((n + 1)); sleep 0.1; done &&
	{ [ $n -lt 1200 ] || { echo "no outcome refused"; run_show; false; }; } &&
	test "$(items_in sent)" -gt 0 &&
	{ test "$(items_stranded)" = 0 || { echo "$(items_stranded) items sent with an outcome kept"; false; }; } &&
	db "DROP TRIGGER strand" &&
	sync_wait 300 &&
	test "$(jq -r .status run.json)" = completed &&
	test "$(jq -r .counts.imported run.json)" = 600 &&
	test "$(items_in sent)" = 0 &&
	sync_verify
'

test_expect_success 'a pay-in balance Blnk does not have: given up after a few sends, said plainly' '
	sync_install inst_bad &&
	api PUT /api/v1/settings "{\"mapping\":{\"payins\":\"fixed\",\"payin_balance\":\"bln_doesnotexist\"}}" && want 200 &&
	sync_now && sync_wait 300 &&
	test "$(jq -r .status run.json)" = completed &&
	test "$(jq -r .counts.rejected run.json)" -gt 0 &&
	test "$(jq -r "[.problems[] | select(.code == \"NEVER_STORED\")] | length" run.json)" -gt 0 &&
	jq -r "[.problems[] | select(.code == \"NEVER_STORED\")][0].message" run.json | grep -q mapping
'

test_expect_success 'an uninstall mid-run ends the run at once: no more calls to Stripe' '
	conf_set stripe_rate 2 &&
	sync_install inst_un && sync_now &&
	n=0 && until [ "$(run_field .counts.found)" -ge 100 ]; do
		n=$((n + 1)); [ $n -lt 600 ] || return 1; sleep 0.1; done &&
	sim POST /_sim/uninstall "{\"installed_app_id\":\"$ID\"}" && test "$SIM_STATUS" = 200 &&
	n=0 && until sqlite3 "$STACK/s/data/stripe-sync.db" "SELECT status FROM sync_runs WHERE run_id = '\''$RUN'\''" | grep -q failed; do
		n=$((n + 1)); [ $n -lt 300 ] || return 1; sleep 0.1; done &&
	test "$(sqlite3 "$STACK/s/data/stripe-sync.db" "SELECT error_code FROM sync_runs WHERE run_id = '\''$RUN'\''")" = APP_UNINSTALLED &&
	stripe GET /_sim/requests && a=$(jq -r .total stripe.json) && sleep 2 &&
	stripe GET /_sim/requests && test "$(jq -r .total stripe.json)" = "$a" &&
	conf_set stripe_rate 0
'

# Stripe paced to one call a second: the activity lands (within a poll of
# the first page) well before the listing ends and Stripe's balance is
# read again.
test_expect_success 'Stripe activity while a start-date listing runs: listed again, the opening still exact' '
	conf_set stripe_rate 1 &&
	sync_install inst_moving &&
	api PUT /api/v1/settings "{\"start_date\":\"$(date -u -d "@$(( $(date +%s) - 5 * 86400 ))" +%Y-%m-%d)\"}" && want 200 &&
	sync_now &&
	n=0 && until [ "$(run_field .counts.found)" -ge 1 ]; do
		n=$((n + 1)); [ $n -lt 600 ] || return 1; sleep 0.05; done &&
	stripe POST /_sim/activity "{\"count\":5}" && test "$STRIPE_STATUS" = 200 &&
	sync_wait 300 &&
	test "$(jq -r .status run.json)" = completed &&
	grep -q "$RUN: Stripe.s balance moved while listing" "$LOGS/app.log" &&
	conf_set stripe_rate 0 &&
	since=$(sqlite3 "$STACK/s/data/stripe-sync.db" "SELECT start_at FROM sync_cursors WHERE installed_app_id = '\''$ID'\''") &&
	{ sync_verify --since "$since" || {
		sim GET "/_sim/core?instance_id=$INSTANCE" &&
		jq -c "[.transactions[] | select(.status == \"REJECTED\") | {reference, precise_amount, currency, m: .meta_data}]" sim.json
		jq -c ".problems" run.json; false; }; } &&
	test "$(jq -r "[.balances[] | select(.match | not)] | length" run.json)" = 0
'

test_done
