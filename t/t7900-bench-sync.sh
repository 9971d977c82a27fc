#!/bin/sh
test_description='bench/sync still runs: a small sync through its own stack prints every row of its table and verifies the result (no time is checked)'
. "$top_srcdir/t/lib.sh"

command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] ||
	skip_all "nginx is not installed (Debian package: nginx-light)"
command -v node >/dev/null 2>&1 || skip_all "node is not installed (Debian package: nodejs)"
command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"
command -v spawn-fcgi >/dev/null 2>&1 || skip_all "spawn-fcgi is not installed"

test_expect_success 'bench/sync --count 300 completes, verified, and writes its table' '
	sh "$top_srcdir/bench/sync" --bindir "$top_builddir" --count 300 \
		--out "$TRASH/table.txt" > out.txt 2> err.txt ||
		{ cat out.txt err.txt; false; } &&
	test_cmp out.txt "$TRASH/table.txt"
'

test_expect_success 'the table has every row' '
	for row in "run status" "postings confirmed in Blnk" \
		"run time (started_at..finished_at)" \
		"imported per second (run time)" \
		"wall time (POST..completed seen)" \
		"imported per second (wall time)" \
		"time line (from the Cloud audit)" \
		"Cloud calls " "Cloud calls per balance transaction" \
		"Stripe calls " "Stripe calls per balance transaction" \
		"runner peak memory (VmHWM)" "runner CPU (utime+stime)" \
		"simulators CPU (Cloud + Stripe)" "runner CPU / simulators CPU" \
		"runner busy / waiting (of wall time)" \
		"rate bound by the simulators" \
		"floor: simulators alone, same calls" \
		"floor rate (imported / floor)" "wall time / floor" "result"
	do
		grep -q -F "$row" out.txt || { echo "no row \"$row\":"; cat out.txt; return 1; }
	done
'

test_expect_success 'it imported all 300 and says verified; the targets are marked' '
	grep -q "^run status  *completed (found 300, imported 300, failed 0, rejected 0, problems 0)" out.txt &&
	grep -q "^result  *verified (300 balance transactions" out.txt &&
	grep -q "^Cloud calls per balance transaction .*target <= 0.05  \(PASS\|MISS\)$" out.txt &&
	grep -q "^Stripe calls per balance transaction .*target <= 0.02  \(PASS\|MISS\)$" out.txt &&
	! grep -q "FAILED\|NOT verified" out.txt
'

test_expect_success 'the floor replayed the same calls as the sync made' '
	stripe=$(sed -n "s/^Stripe calls  *\([0-9][0-9]*\) .*/\1/p" out.txt) &&
	test -n "$stripe" &&
	grep -q "^floor: simulators alone, same calls .*($stripe Stripe + [0-9]* Cloud calls" out.txt
'

test_expect_success 'it removed its working directory (and so stopped its stack)' '
	dir=$(sed -n "s/^bench\/sync: working in //p" err.txt) &&
	test -n "$dir" && test ! -e "$dir"
'

test_done
