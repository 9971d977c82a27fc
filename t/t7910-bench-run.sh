#!/bin/sh
test_description='bench/run still runs: a short run prints every row of its table, all requests answered 2xx, and it stops what it started (no time is checked)'
. "$top_srcdir/t/lib.sh"

# The table from results alone (no stack): a connection count is only
# judged where the proxied read was measured.
table() {
	awk -v mem_warm=2000 -v m0=2000 -v mem_after=2000 -v memdone=100 \
	    -v workers=2 -f "$top_srcdir/bench/table.awk"
}
test_expect_success 'the table judges upstream connections only where the proxied read ran' '
	printf "fcgi 10000 1000 2000 25 1 0 0\ninstalls 400 30000 60000 900 1 0 0\n" |
		table > only.txt &&
	test_grep "^new upstream connections per proxied request  *not measured" only.txt &&
	printf "fcgi 10000 1000 2000 25 1 0 0\nproxied 4000 1000 2000 150 1 0 0\nproxied_conns 0 0 0 100\n" |
		table > none.txt &&
	test_grep "^new upstream connections per proxied request .* 0 calls to Cloud)  target 0  MISS$" none.txt &&
	printf "fcgi 10000 1000 2000 25 1 0 0\nproxied 4000 1000 2000 150 1 0 0\nproxied_conns 0 500 0 100\n" |
		table > kept.txt &&
	test_grep "^new upstream connections per proxied request  *0.0000 (0 new over 500 calls to Cloud)  target 0  PASS$" kept.txt
'

command -v wrk >/dev/null 2>&1 || skip_all "wrk is not installed (tools/deps --bench)"
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] ||
	skip_all "nginx is not installed (Debian package: nginx-light)"
command -v node >/dev/null 2>&1 || skip_all "node is not installed"
command -v spawn-fcgi >/dev/null 2>&1 || skip_all "spawn-fcgi is not installed"
[ -z "${SKIP_STACK_TESTS-}" ] || skip_all "whole-stack tests skipped (SKIP_STACK_TESTS)"

test_expect_success 'bench/run with one short round exits 0 and writes its table' '
	sh "$top_srcdir/bench/run" --bindir "$top_builddir" --rounds 1 \
		--duration 1 --mem-requests 2000 --sync-count 0 \
		--out "$TRASH/table.txt" > out.txt 2> err.txt ||
		{ cat out.txt err.txt; false; } &&
	test_cmp out.txt "$TRASH/table.txt"
'

test_expect_success 'the table has every row, each with figures, and the targets are marked' '
	for row in "floor: nginx, fixed body" "floor: libfcgi program, fixed body" \
		"launch (POST /api/portal/...)" "GET /api/v1/context" \
		"proxied read (GET /api/v1/ledgers)" "install callbacks, new keys" \
		"install callback, redelivered"
	do
		line=$(grep -F "$row" out.txt) || { echo "no row \"$row\":"; cat out.txt; return 1; }
		# req/s, p50 and p99 are numbers, and something was served.
		echo "$line" | awk -v n="${#row}" "{ split(substr(\$0, n + 1), f, \" \"); if (f[1] + 0 <= 0) exit 1 }" ||
			{ echo "no requests in \"$line\""; return 1; }
	done &&
	grep -q "^launch (POST /api/portal/...) .*>= 0.80x  \(PASS\|MISS\)$" out.txt &&
	grep -q "^GET /api/v1/context .*>= 0.85x  \(PASS\|MISS\)$" out.txt &&
	grep -q "^proxied read (GET /api/v1/ledgers) .*>= 0.50x  \(PASS\|MISS\)$" out.txt &&
	grep -q "^install callbacks, new keys .*>= 500/s, p99 <= 100 ms  \(PASS\|MISS\)$" out.txt
'

test_expect_success 'it counted the calls to the Cloud stub and measured the workers' '
	grep -q "^new upstream connections per proxied request  *[0-9.]* ([0-9]* new over [1-9][0-9]* calls to Cloud)" out.txt &&
	grep -q "^worker private memory (RssAnon, largest of 2)  *[0-9.]* MiB after warm-up" out.txt &&
	mem=$(sed -n "s/.*MiB after \([0-9]*\) more requests.*/\1/p" out.txt) &&
	test "$mem" -ge 2000
'

test_expect_success 'the Cloud stub counts the connections it accepts: a kept one once, a new one again' '
	cc -std=c11 -O2 -D_GNU_SOURCE -o cloud-stub "$top_srcdir/bench/cloud-stub.c" &&
	port=$(node -e "const s = require(\"net\").createServer();
		s.listen(0, \"127.0.0.1\", () => { console.log(s.address().port); s.close(); });") &&
	{ ./cloud-stub "$port" & } && pid=$! &&
	test_when_finished "kill $pid" &&
	n=0 && until curl -fsS "http://127.0.0.1:$port/_stub/status" >/dev/null 2>&1; do
		n=$((n + 1)) && test $n -lt 200 || break
		sleep 0.05
	done &&
	test $n -lt 200 &&
	curl -fsS "http://127.0.0.1:$port/data/ledgers?page=1" "http://127.0.0.1:$port/data/balances" > two.json &&
	test "$(jq -s "map(.total) | add" two.json)" = 4 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -d "{}" "http://127.0.0.1:$port/data/transactions")" = 404 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$port/other")" = 404 &&
	curl -fsS "http://127.0.0.1:$port/_stub/status" > status.json &&
	# Connections: the first status, the two GETs on one, the POST, /other,
	# this status; requests: the same with the second GET.
	test "$(jq -c . status.json)" = "{\"accepts\":5,\"requests\":6}" &&
	grep -q "^the Cloud stub.s CPU per proxied request  *[0-9.]* us" out.txt
'

test_expect_success 'it removed its working directory and left no process behind' '
	dir=$(sed -n "s/^bench\/run: working in //p" err.txt) &&
	test -n "$dir" && test ! -e "$dir" &&
	! pgrep -f "$dir/" >/dev/null
'

test_done
