#!/bin/sh
test_description='torture: thousands of install and uninstall events from 16 concurrent clients while a worker is SIGKILLed every 100 ms and replaced: every acknowledged event there, no unacknowledged one half there, none doubled, integrity ok'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fcgi.sh"

command -v node >/dev/null 2>&1 || skip_all "node is not installed (Debian package: nodejs)"
command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 is not installed"

# TORTURE_SCALE multiplies the number of apps (about 2.5 events each);
# TORTURE_SEED fixes the clients' and the killer's dice.
SCALE=${TORTURE_SCALE:-1}
SEED=${TORTURE_SEED:-t3250}
APPS=$((800 * SCALE))
CLIENTS=16
# Enough workers that one killed every 100 ms has always lived past the
# supervisor's second of grace (a worker that dies younger is replaced
# only after a pause, by design: see t3600).
WORKERS=12
TC="$top_srcdir/t/torture-client.js"
test_diag "seed $SEED, scale $SCALE: $APPS apps from $CLIENTS clients, $WORKERS workers"

test_expect_success_here 'setup: a supervised pool of 12 workers' '
	fcgi_setup &&
	start_supervisor $WORKERS &&
	wait_for $WORKERS "worker ready"
'

test_expect_success_here 'the events, sent while a worker is killed every 100 ms' '
	node "$TC" run --sock "$FCGI_SOCK" --secret "$SECRET" --out events.jsonl \
		--clients $CLIENTS --apps $APPS --cycles 2 --prefix tt --seed "$SEED" \
		--kill-master "$MASTER" --kill-ms 100 --stats stats.json > run.out 2>&1 &&
	cat stats.json && test "$(jq .bad_count stats.json)" = 0
'
test_diag "figures: $(jq -c "{events, acked, unacked, attempts, unanswered, applied_unanswered, twins, kills, kill_ticks_skipped, answered, seconds: ((.ended_ms - .started_ms) / 1000)}" stats.json 2>/dev/null)"

test_expect_success 'the kills landed: workers died mid-request and events went unanswered' '
	test "$(jq .kills stats.json)" -ge 10 &&
	test "$(jq .unanswered stats.json)" -ge 1 &&
	test "$(jq .acked stats.json)" -ge $((APPS * 2)) &&
	test "$(jq .events stats.json)" -ge $((APPS * 2))
'

test_expect_success 'every answer was 200 or a 503 of the JSON error shape' '
	test "$(jq -c "[.answered | keys[] | select(. != \"200\" and . != \"503\")]" stats.json)" = "[]"
'

test_expect_success 'the supervisor replaced every killed worker and still runs all of them' '
	n=0 && while [ "$(pgrep -P "$MASTER" | wc -l)" -lt $WORKERS ]; do
		n=$((n + 1)); [ $n -lt 500 ] || return 1; sleep 0.01; done &&
	# (The supervisor logs each replacement when it reaps the worker:
	# the last kills may still be on their way to the log.)
	n=0 && while [ "$(grep -c "killed by signal 9; replacing it" app.log)" -lt "$(jq .kills stats.json)" ]; do
		n=$((n + 1)); [ $n -lt 1000 ] || break; sleep 0.01; done &&
	test "$(grep -c "killed by signal 9; replacing it" app.log)" = "$(jq .kills stats.json)" &&
	fcgi_req GET /api/health && expect_status 200
'

test_expect_success 'PRAGMA integrity_check says ok' '
	test "$(sql "PRAGMA integrity_check")" = ok &&
	test "$(sql "PRAGMA foreign_key_check" | wc -l)" = 0
'

test_expect_success 'acknowledged events are there, unacknowledged ones all or nothing, nothing doubled, each key sealed as sent' '
	node "$TC" verify --db "$TRASH/db.sqlite" --events events.jsonl \
		--conf "$CONF" --cloud-call "$top_builddir/t/cloud-call" --out verify.json >/dev/null ||
		{ cat verify.json; false; } &&
	cat verify.json &&
	test "$(jq .problem_count verify.json)" = 0 &&
	test "$(jq .keys_checked verify.json)" = "$(jq .active verify.json)" &&
	test "$(jq .active verify.json)" -gt 0
'
test_diag "verified: $(jq -c "{apps, events, acked, unacked, unacked_there, unacked_not_there, active, keys_checked}" verify.json 2>/dev/null)"

test_expect_success 'the check sees an event half there: a claimed key without its change, a change without its key' '
	cp db.sqlite half.sqlite &&
	app=$(sqlite3 half.sqlite "SELECT installed_app_id FROM installs WHERE status = '\''active'\'' LIMIT 1") &&
	sqlite3 half.sqlite "DELETE FROM events WHERE idempotency_key = (SELECT install_event FROM installs WHERE installed_app_id = '\''$app'\'')" &&
	test_must_fail node "$TC" verify --db half.sqlite --events events.jsonl --out half.json >/dev/null &&
	test_grep "$app: .* not in events" half.json &&
	cp db.sqlite half.sqlite &&
	sqlite3 half.sqlite "UPDATE installs SET generation = generation + 1 WHERE installed_app_id = '\''$app'\''" &&
	test_must_fail node "$TC" verify --db half.sqlite --events events.jsonl --out half.json >/dev/null &&
	test_grep "$app: generation" half.json
'

test_expect_success 'every install row is whole: active with a sealed key, or inactive without one' '
	test "$(sql "SELECT count(*) FROM installs WHERE (status = '\''active'\'') <> (api_key_sealed IS NOT NULL) OR (status = '\''active'\'') <> (uninstalled_at IS NULL)")" = 0 &&
	test "$(sql "SELECT count(*) FROM installs i WHERE generation <> (SELECT count(*) FROM events e WHERE e.installed_app_id = i.installed_app_id AND e.kind = '\''install'\'')")" = 0
'

test_done
