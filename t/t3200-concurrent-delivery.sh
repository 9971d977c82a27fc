#!/bin/sh
test_description='one event delivered 60 times at the same moment to 4 workers: one record, all 2xx'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fcgi.sh"

N=60

test_expect_success_here 'setup: 4 workers' '
	fcgi_setup && fcgi_start 4 &&
	test "$(wc -w < "$FCGI_PIDS")" -ge 4
'

# race COUNT FILE-PATTERN: COUNT clients each connect and post a body
# (FILE-PATTERN with %d replaced by the client number), released together:
# each blocks reading one line from a fifo, and the lines are written only
# once every client is waiting.  Statuses land in out/<n>/status.
race() {
	rm -rf out gate && mkfifo gate && mkdir out &&
	exec 3<>gate &&
	i=0 &&
	while [ $i -lt "$1" ]; do
		body=$(printf "$2" $i) &&
		( mkdir out/$i && cd out/$i && touch ready &&
		  read -r _ <&3 &&
		  fcgi_req POST "$CB" "$TRASH/$body" && echo "$HTTP_STATUS" > status ) &
		i=$((i + 1))
	done &&
	n=0 &&
	while [ "$(ls out/*/ready 2>/dev/null | wc -l)" -lt "$1" ]; do
		n=$((n + 1)); [ $n -lt 1000 ] || return 1; sleep 0.01
	done &&
	seq "$1" >&3 && wait && exec 3>&-
}

test_expect_success 'concurrent duplicate install: exactly one record, every delivery 2xx' '
	install_event ev.json instapp_race &&
	race $N ev.json &&
	test "$(cat out/*/status | sort | uniq -c | sed "s/^ *//")" = "$N 200" &&
	test "$(sql "SELECT count(*) FROM installs")" = 1 &&
	test "$(sql "SELECT count(*) FROM events")" = 1 &&
	test "$(sql "SELECT generation, status FROM installs")" = "1|active" &&
	test "$(grep -l "\"duplicate\":true" out/*/resp.body | wc -l)" = $((N - 1))
'

test_expect_success 'the deliveries were served by several worker processes' '
	grep "route=callback status=200" app.log |
		sed -n "s/.*stripe-sync.fcgi\[\([0-9]*\)\].*/\1/p" | sort -u > pids &&
	cat pids &&
	test "$(wc -l < pids)" -ge 2
'
test_diag "$(cat pids 2>/dev/null | wc -l) worker processes served the $N simultaneous deliveries"

test_expect_success 'concurrent duplicate uninstall: one state change, every delivery 2xx' '
	uninstall_event un.json instapp_race &&
	race $N un.json &&
	test "$(cat out/*/status | sort | uniq -c | sed "s/^ *//")" = "$N 200" &&
	test "$(sql "SELECT count(*) FROM events")" = 2 &&
	test "$(sql "SELECT status, api_key_sealed IS NULL FROM installs")" = "inactive|1"
'

test_expect_success 'concurrent installs of distinct apps all land' '
	i=0 &&
	while [ $i -lt 20 ]; do
		install_event "ev$i.json" "instapp_many_$i" && i=$((i + 1))
	done &&
	race 20 "ev%d.json" &&
	test "$(cat out/*/status | sort -u)" = 200 &&
	test "$(sql "SELECT count(*) FROM installs WHERE installed_app_id LIKE '\''instapp_many_%'\''")" = 20
'

test_done
