#!/bin/sh
test_description='stripe-sync.fcgi --workers: a supervisor replaces a killed worker and stops cleanly'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fcgi.sh"

test_expect_success_here 'setup: supervisor with 3 workers under spawn-fcgi -n' '
	fcgi_setup &&
	start_supervisor &&
	wait_for 3 "worker ready" &&
	test_grep "supervising 3 workers" app.log
'

test_expect_success 'the workers answer' '
	fcgi_req GET /api/health && expect_status 200
'

test_expect_success 'the workers are children of the supervisor, which holds no database' '
	test "$(pgrep -P "$MASTER" | wc -l)" = 3 &&
	! ls -l /proc/$MASTER/fd | grep -q db.sqlite
'

test_expect_success 'a worker killed with SIGKILL is replaced and the pool keeps answering' '
	victim=$(pgrep -P "$MASTER" | head -n 1) &&
	kill -KILL "$victim" &&
	wait_for 4 "worker ready" &&
	test_grep "worker $victim killed by signal 9; replacing it" app.log &&
	test "$(pgrep -P "$MASTER" | wc -l)" = 3 &&
	! pgrep -P "$MASTER" | grep -qx "$victim" &&
	for i in 1 2 3 4 5 6; do fcgi_req GET /api/health && expect_status 200 || return 1; done
'

test_expect_success 'SIGTERM stops the supervisor and every worker' '
	kids=$(pgrep -P "$MASTER") &&
	kill -TERM "$MASTER" &&
	n=0 && while kill -0 "$MASTER" 2>/dev/null; do
		n=$((n + 1)); [ $n -lt 500 ] || return 1; sleep 0.01; done &&
	for k in $kids; do ! kill -0 "$k" 2>/dev/null || return 1; done &&
	test_grep "supervisor stopping" app.log &&
	test "$(grep -c "worker stopping" app.log)" = 3
'

test_expect_success_here 'SIGTERM right after a worker died young still stops everything at once' '
	test_when_finished stop_supervisors &&
	start_supervisor &&
	wait_for 7 "worker ready" &&
	victim=$(pgrep -P "$MASTER" | head -n 1) &&
	kill -KILL "$victim" &&
	wait_for 1 "worker $victim killed" &&
	kill -TERM "$MASTER" &&
	n=0 && while kill -0 "$MASTER" 2>/dev/null; do
		n=$((n + 1)); [ $n -lt 300 ] || { echo "still running after 3 s"; return 1; }
		sleep 0.01; done &&
	test -z "$(pgrep -f "stripe-sync.fcgi --config $CONF")"
'

test_expect_success_here 'an inherited ignored SIGCHLD does not stop workers being replaced' '
	( trap "" CHLD; exec setsid "$SPAWN_FCGI" -n -s "$FCGI_SOCK" -- \
		"$top_builddir/stripe-sync.fcgi" --config "$CONF" --workers 2 \
		>>spawn.log 2>&1 ) &
	MASTER=$! && echo "$MASTER" >> "$SUPERVISORS" &&
	test_when_finished stop_supervisors &&
	ready=$(grep -c "worker ready" app.log) &&
	n=0 && while [ "$(pgrep -P "$MASTER" | wc -l)" -lt 2 ]; do
		n=$((n + 1)); [ $n -lt 500 ] || return 1; sleep 0.01; done &&
	wait_for $((ready + 2)) "worker ready" &&
	victim=$(pgrep -P "$MASTER" | head -n 1) && kill -KILL "$victim" &&
	wait_for $((ready + 3)) "worker ready" &&
	test "$(pgrep -P "$MASTER" | wc -l)" = 2 &&
	kill -TERM "$MASTER"
'

test_expect_success 'without a listening socket on standard input it says so and exits 1' '
	test_exit_code 1 stripe-sync.fcgi --config "$CONF" </dev/null 2>err &&
	test_grep "not a listening socket" err &&
	test_exit_code 1 stripe-sync.fcgi --config "$CONF" --workers 2 </dev/null 2>err &&
	test_grep "not a listening socket" err
'

test_expect_success 'a bad --workers value is a usage error' '
	test_exit_code 2 stripe-sync.fcgi --config "$CONF" --workers 0 2>err &&
	test_grep "workers" err &&
	test_exit_code 2 stripe-sync.fcgi --config "$CONF" --workers 3x 2>err
'

test_expect_success 'the supervisor refuses an unmigrated database before forking' '
	sed "s#^db_path = .*#db_path = $TRASH/none.sqlite#" "$CONF" > none.conf &&
	test_exit_code 5 stripe-sync.fcgi --config none.conf --workers 2 </dev/null 2>err &&
	test_grep "none.sqlite" err
'

test_done
