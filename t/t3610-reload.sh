#!/bin/sh
test_description='reload without dropping a request: SIGHUP, SIGTTIN/SIGTTOU, SIGQUIT, PDEATHSIG, stripe-syncd SIGHUP'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fcgi.sh"

# until_ok CMD...: run CMD until it succeeds, 5 s at most.
until_ok() {
	_u=0
	until "$@"; do
		_u=$((_u + 1)); [ $_u -lt 500 ] || { echo "timed out: $*"; return 1; }
		sleep 0.01
	done
}

# gone PATTERN PID...: none of those processes runs any more.
gone() {
	test -z "$(test_running "$@")"
}

# workers_are N: the supervisor has exactly N children, and its process
# group holds nothing else (no retired worker still running).
workers_are() {
	[ "$(pgrep -P "$MASTER" | wc -l)" = "$1" ] &&
	[ "$(test_running stripe-sync.fcgi $(pgrep -g "$MASTER") | wc -l)" = $(($1 + 1)) ]
}

# load_start: GET /api/health in a loop in the background, one status a
# line in statuses ("fail" when cgi-fcgi fails or times out), until the
# file "stop" exists and at least 300 requests were made (5000 at most),
# or at once when "abort" exists.  load_wait: stop it, wait for it, and
# check every answer was a 200.
load_start() {
	rm -f stop abort statuses && mkdir -p load &&
	(
		cd load && i=0
		while [ $i -lt 5000 ] && [ ! -e ../abort ]; do
			[ $i -lt 300 ] || [ ! -e ../stop ] || break
			HTTP_STATUS=
			FCGI_TIMEOUT=10 fcgi_req GET /api/health >/dev/null 2>&1
			echo "${HTTP_STATUS:-fail}" >> ../statuses
			i=$((i + 1))
		done
	) &
	LOAD=$!
	# Some answers first, so that what follows happens under load.
	until_ok test -s statuses
}
load_wait() {
	touch stop && wait "$LOAD" &&
	test_diag "$(wc -l < statuses) requests, $(grep -cvx 200 statuses) not 200" &&
	test "$(wc -l < statuses)" -ge 300 &&
	{ ! grep -n -vx 200 statuses || { echo "answers other than 200 (line: status)"; false; }; }
}

# token_ttl: the lifetime in seconds of a fresh launch token, as
# GET /api/v1/context reports its expiry.
token_ttl() {
	launch_event l.json instapp_1 &&
	fcgi_req POST "$PORTAL" l.json && expect_status 200 &&
	tok=$(jq -r .portal_url resp.body | sed "s/.*token=//") &&
	now=$(date +%s) &&
	fcgi_req GET /api/v1/context /dev/null - "Bearer $tok" &&
	expect_status 200 &&
	echo $(($(date -d "$(jq -r .expires_at resp.body)" +%s) - now))
}

test_expect_success_here 'setup: supervisor with 3 workers, one install' '
	fcgi_setup "session_ttl = 600" &&
	cp "$CONF" good.conf &&
	start_supervisor 3 &&
	wait_for 3 "worker ready" &&
	install_event ev.json instapp_1 && fcgi_req POST "$CB" ev.json &&
	expect_status 200
'

test_expect_success 'SIGHUP under load: every answer 200, then only new workers, all children of the supervisor' '
	old=$(pgrep -P "$MASTER") &&
	test "$(echo "$old" | wc -l)" = 3 &&
	load_start &&
	test_when_finished "touch abort; wait $LOAD" &&
	for r in 1 2 3; do
		kill -HUP "$MASTER" &&
		wait_for $r "reload done: 3 workers on the new configuration" ||
		return 1
	done &&
	load_wait &&
	test "$(grep -c "reload: configuration $CONF loaded; replacing 3 workers" app.log)" = 3 &&
	test "$(grep -c "reload: worker [0-9]* replaces worker [0-9]*" app.log)" = 9 &&
	until_ok workers_are 3 &&
	for p in $old; do ! pgrep -P "$MASTER" | grep -qx "$p" || return 1; done
'

test_expect_success 'a broken configuration is refused naming the key, and no worker changes' '
	test_when_finished "cp good.conf \"$CONF\"" &&
	sed "/^master_key =/d" good.conf > "$CONF" &&
	before=$(pgrep -P "$MASTER" | sort) &&
	kill -HUP "$MASTER" &&
	wait_for 1 "reload: configuration $CONF refused, nothing changed: master_key: missing" &&
	fcgi_req GET /api/health && expect_status 200 &&
	test "$(pgrep -P "$MASTER" | sort)" = "$before" &&
	test "$(grep -c "replacing 3 workers" app.log)" = 3
'

test_expect_success 'a new worker that cannot start stops the roll: the old workers stay and answer' '
	test_when_finished "cp good.conf \"$CONF\"" &&
	sed "s#^db_path = .*#db_path = $TRASH/none.sqlite#" good.conf > "$CONF" &&
	before=$(pgrep -P "$MASTER" | sort) &&
	kill -HUP "$MASTER" &&
	wait_for 1 "reload failed: new worker [0-9]* exited with status 5; 0 of 3 workers replaced" &&
	wait_for 1 "reload: back on the old configuration" &&
	for i in 1 2 3 4 5 6; do fcgi_req GET /api/health && expect_status 200 || return 1; done &&
	test "$(pgrep -P "$MASTER" | sort)" = "$before"
'

test_expect_success 'a reload takes effect: session_ttl for new tokens, log_level for the supervisor' '
	test "$(token_ttl)" -ge 595 && test "$(token_ttl)" -le 601 &&
	test_grep ! "debug:" app.log &&
	sed -e "s/^session_ttl = .*/session_ttl = 300/" good.conf > "$CONF" &&
	echo "log_level = debug" >> "$CONF" &&
	kill -HUP "$MASTER" &&
	wait_for 4 "reload done: 3 workers" &&
	ttl=$(token_ttl) && test "$ttl" -ge 295 && test "$ttl" -le 301 &&
	wait_for 1 "debug: retired worker [0-9]* exited with status 0"
'

test_expect_success 'SIGTTIN adds a worker and SIGTTOU removes one, under load without an error' '
	load_start &&
	test_when_finished "touch abort; wait $LOAD" &&
	kill -TTIN "$MASTER" && wait_for 1 "SIGTTIN: 4 workers" && until_ok workers_are 4 &&
	kill -TTIN "$MASTER" && wait_for 1 "SIGTTIN: 5 workers" && until_ok workers_are 5 &&
	for n in 4 3 2 1; do
		kill -TTOU "$MASTER" && wait_for 1 "SIGTTOU: $n workers" &&
		until_ok workers_are $n || return 1
	done &&
	kill -TTOU "$MASTER" && wait_for 1 "SIGTTOU: keeping the last worker" &&
	kill -TTIN "$MASTER" && wait_for 1 "SIGTTIN: 2 workers" && until_ok workers_are 2 &&
	kill -TTIN "$MASTER" && wait_for 1 "SIGTTIN: 3 workers" && until_ok workers_are 3 &&
	load_wait
'

test_expect_success 'SIGUSR1 and SIGUSR2 are logged and ignored' '
	kill -USR1 "$MASTER" && wait_for 1 "SIGUSR1 ignored" &&
	kill -USR2 "$MASTER" && wait_for 1 "SIGUSR2 ignored" &&
	fcgi_req GET /api/health && expect_status 200 &&
	workers_are 3
'

test_expect_success 'SIGQUIT stops the supervisor and its workers gracefully' '
	kids=$(pgrep -P "$MASTER") &&
	stopped=$(grep -c "worker stopping" app.log) &&
	kill -QUIT "$MASTER" &&
	until_ok gone stripe-sync.fcgi $MASTER $kids &&
	test_grep "supervisor stopping" app.log &&
	test "$(grep -c "worker stopping" app.log)" = $((stopped + 3))
'

test_expect_success_here 'killing the supervisor with SIGKILL leaves no worker behind' '
	test_when_finished stop_supervisors &&
	ready=$(grep -c "worker ready" app.log) &&
	start_supervisor 3 &&
	wait_for $((ready + 3)) "worker ready" &&
	kids=$(pgrep -P "$MASTER") && test -n "$kids" &&
	kill -KILL "$MASTER" &&
	until_ok gone stripe-sync.fcgi $kids
'

test_expect_success_here 'setup: stripe-syncd idling' '
	setsid stripe-syncd --config "$CONF" >>syncd.out 2>&1 &
	SYNCD=$! &&
	test_at_exit "test_stop stripe-syncd $SYNCD" &&
	wait_for 1 "stripe-syncd ready"
'

# syncd_hup N LEVEL MESSAGE: SIGHUP stripe-syncd, wait until the log has N
# lines "LEVEL: reload: configuration $CONF MESSAGE" from it, and check that
# it still runs.
syncd_hup() {
	kill -HUP "$SYNCD" &&
	wait_for "$1" "stripe-syncd\[$SYNCD\] $2: reload: configuration $CONF $3" &&
	test "$(test_running stripe-syncd "$SYNCD")" = "$SYNCD"
}

test_expect_success 'stripe-syncd reloads on SIGHUP and keeps running' '
	syncd_hup 1 info "loaded$"
'

test_expect_success 'stripe-syncd refuses a broken configuration on reload, naming the key' '
	test_when_finished "cp good.conf \"$CONF\"" &&
	sed "/^master_key =/d" good.conf > "$CONF" &&
	syncd_hup 1 error "refused, nothing changed: master_key: missing"
'

test_expect_success 'stripe-syncd opens the new database when db_path changes, and refuses one it cannot serve' '
	test_when_finished "cp good.conf \"$CONF\"" &&
	sed "s#^db_path = .*#db_path = $TRASH/none.sqlite#" good.conf > "$CONF" &&
	syncd_hup 2 error refused &&
	ls -l /proc/$SYNCD/fd | grep -q "/db.sqlite$" &&
	sed "s#^db_path = .*#db_path = $TRASH/db2.sqlite#" good.conf > "$CONF" &&
	stripe-syncctl --config "$CONF" migrate >/dev/null &&
	syncd_hup 1 info "loaded; database reopened" &&
	ls -l /proc/$SYNCD/fd | grep -q "/db2.sqlite$" &&
	! ls -l /proc/$SYNCD/fd | grep -q "/db.sqlite$"
'

test_expect_success 'stripe-syncd still stops on SIGTERM' '
	kill -TERM "$SYNCD" &&
	until_ok gone stripe-syncd "$SYNCD" &&
	test_grep "stripe-syncd stopping" app.log
'

test_done
