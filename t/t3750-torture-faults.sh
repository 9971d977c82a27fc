#!/bin/sh
test_description='torture: the disk full, the database read-only, replaced and deleted under 16 clients while workers are SIGKILLed every 100 ms: clear 503s, no corruption, nothing acknowledged lost, and the pool serving again once the fault goes'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fcgi.sh"

command -v node >/dev/null 2>&1 || skip_all "node is not installed (Debian package: nodejs)"
command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 is not installed"

# t3700 covers each fault once, with one request at a time; here each
# comes under load.  Modes bind only an unprivileged process: as root the
# workers run as nobody (as in t3700), and the database lives on a small
# tmpfs the test mounts, so that it can fill it.
if [ "$(id -u)" = 0 ]; then
	id nobody >/dev/null 2>&1 || skip_all "no user nobody to run the workers as"
	WUSER=nobody WGROUP=$(id -gn nobody)
	as_worker() { setpriv --reuid="$WUSER" --regid="$WGROUP" --clear-groups "$@"; }
	SPAWN_AS="-u $WUSER -g $WGROUP"
else
	as_worker() { "$@"; }
	SPAWN_AS=
fi
SCALE=${TORTURE_SCALE:-1}
SEED=${TORTURE_SEED:-t3750}
# How long each fault lasts, and the load around it, in seconds.
HOLD=$((2 * SCALE))
WORKERS=12
TC="$top_srcdir/t/torture-client.js"
D=$(mktemp -d /tmp/sstf.XXXXXX) || exit 99
chmod 755 "$D"
mkdir -m 700 "$D/data"
test_at_exit 'rm -rf "$D"'
TMPFS=
# Room for every phase's events and a backup copy of them (the workers
# write faster than they did: 8 MiB once filled up before the backup).
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=$((64 * SCALE))m,mode=0700 sstorture "$D/data" 2>/dev/null; then
	TMPFS=yes
	test_at_exit 'umount "$D/data" 2>/dev/null || umount -l "$D/data"'
fi
DB="$D/data/db.sqlite"
LOG="$D/app.log"
now_ms() { date +%s%3N; }
wsql() { sqlite3 -batch "$DB" "$1"; }
test_diag "seed $SEED, scale $SCALE: faults of $HOLD s, $WORKERS workers, 16 clients"

POOLS=
test_at_exit 'for _g in $POOLS; do test_stop stripe-sync.fcgi -g $_g; done'
test_at_exit '[ -z "${LOADPID-}" ] || kill "$LOADPID" 2>/dev/null'

# skip_test WHAT WHY: a TAP test skipped with its reason.
skip_test() {
	test_count=$((test_count + 1))
	printf 'ok %d - %s # SKIP %s\n' "$test_count" "$1" "$2"
}

test_expect_success_here 'setup: a pool of 12 workers on a database the workers own' '
	test_write_config "$CONF" &&
	sed -i "s#^db_path = .*#db_path = $DB#; s#^log_file = .*#log_file = $LOG#" "$CONF" &&
	{ [ -z "$SPAWN_AS" ] || chown "$WUSER:$WGROUP" "$CONF" "$D" "$D/data"; } &&
	as_worker stripe-syncctl --config "$CONF" migrate >/dev/null &&
	SECRET=$(test_config_get callback_secret "$CONF") &&
	rm -f "$FCGI_SOCK" &&
	# shellcheck disable=SC2086
	{ setsid "$SPAWN_FCGI" -n -s "$FCGI_SOCK" $SPAWN_AS -- "$top_builddir/stripe-sync.fcgi" \
		--config "$CONF" --workers $WORKERS >>"$D/spawn.log" 2>&1 & } &&
	MASTER=$! && POOLS="$POOLS $MASTER" &&
	n=0 && while [ "$(grep -c "worker ready" "$LOG" 2>/dev/null)" -lt $WORKERS ]; do
		n=$((n + 1)); [ $n -lt 1000 ] || return 1; sleep 0.01; done
'

# load_start NAME: 16 clients sending events (apps NAME_<client>_<n>)
# until stop.NAME exists, a worker killed every 100 ms.
load_start() {
	rm -f "stop.$1" &&
	{ node "$TC" run --sock "$FCGI_SOCK" --secret "$SECRET" --out "$1.jsonl" \
		--clients 16 --cycles 2 --prefix "$1" --seed "$SEED:$1" --until-file "stop.$1" \
		--kill-master "$MASTER" --kill-ms 100 --stats "$1.stats" > "$1.out" 2>&1 & } &&
	LOADPID=$!
}
load_stop() {
	touch "stop.$1" && wait "$LOADPID" && LOADPID= &&
	cat "$1.stats" && test "$(jq .bad_count "$1.stats")" = 0
}

# window NAME FROM TO: how the attempts sent in that span were answered.
window() {
	node "$TC" window --events "$1.jsonl" --from "$2" --to "$3"
}

# fault NAME INJECT HEAL: load, then the fault for HOLD seconds, then
# load again; the moments in NAME.t (start, end of the fault, end).
fault() {
	load_start "$1" && sleep 1 &&
	exits=$(grep -c "exited with status" "$LOG" || true) &&
	t0=$(now_ms) && eval "$2" && t1=$(now_ms) &&
	sleep $HOLD &&
	t2=$(now_ms) && eval "$3" && t3=$(now_ms) &&
	sleep $((HOLD + 1)) && t4=$(now_ms) &&
	load_stop "$1" &&
	echo "$t0 $t1 $t2 $t3 $t4 $exits" > "$1.t" ||
	{ [ -z "$LOADPID" ] || { touch "stop.$1"; wait "$LOADPID"; LOADPID=; }; return 1; }
}

# moments NAME: T0 T1 (the fault made), T2 T3 (healed), T4 (load
# stopped), EXITS (workers that had exited before it).
moments() { read -r T0 T1 T2 T3 T4 EXITS < "$1.t"; }
# The attempts sent while the fault held, and after it went.
during() { moments "$1" && window "$1" "$((T1 + 200))" "$T2"; }
after() { moments "$1" && window "$1" "$((T3 + 1000))" "$T4"; }

# verify_phase NAME [OPTIONS]: the database against the events of NAME.
verify_phase() {
	_n=$1; shift
	test "$(wsql "PRAGMA integrity_check")" = ok &&
	node "$TC" verify --db "$DB" --events "$_n.jsonl" --out "$_n.verify" "$@" >/dev/null ||
		{ cat "$_n.verify"; return 1; }
	cat "$_n.verify"
}

# The pool serves again: after the fault, events were acknowledged, and
# answers were 200 once it had settled.
served_again() {
	after "$1" > a.json && cat a.json &&
	test "$(jq ".ok + .dup" a.json)" -ge 20 &&
	test "$(jq "[.unavailable[]] | add // 0" a.json)" = 0
}

# fill: a filler takes every free byte of the tmpfs, and a topper takes
# whatever a journal gives back, until the fault ends.
fill() {
	dd if=/dev/zero of="$D/data/filler" bs=64k 2>/dev/null
	( while [ ! -f "$TRASH/unfill" ] && [ -d "$D/data" ]; do
		cat /dev/zero >> "$D/data/filler" 2>/dev/null; sleep 0.02
	done ) &
	TOPPER=$!
	# A phase that fails half way must not leave the topper running (it
	# would keep the disk full for the other phases and the test alive).
	test_at_exit "kill $TOPPER 2>/dev/null"
	# A journal deleted after a commit gives room back for a moment,
	# until the topper takes it: full within a second or so.
	_n=0
	while [ "$(df --output=avail "$D/data" | tail -n 1 | tr -d " ")" != 0 ]; do
		_n=$((_n + 1)); [ $_n -lt 100 ] || return 1; sleep 0.01
	done
}
unfill() {
	touch "$TRASH/unfill" && wait "$TOPPER" && rm -f "$D/data/filler" "$TRASH/unfill"
}

if [ -n "$TMPFS" ]; then
test_expect_success_here 'the disk full under load: 503 DATABASE_UNAVAILABLE, and writes again once there is room' '
	{ fault full "fill" "unfill" || { unfill; false; }; } &&
	during full > d.json && cat d.json &&
	test "$(jq ".unavailable.DATABASE_UNAVAILABLE // 0" d.json)" -ge 20 &&
	test "$(jq .acked_by_to d.json)" = 0 &&
	served_again full
'
test_expect_success 'the disk full: no corruption, acknowledged events there, none half there' '
	verify_phase full &&
	test "$(jq .problem_count full.verify)" = 0
'
test_expect_success 'the disk full: no worker exited for it (only the killed ones were replaced)' '
	moments full &&
	test "$(grep -c "exited with status" "$LOG" || true)" = "$EXITS"
'
else
	skip_test 'the disk full under load' "needs root to mount a small tmpfs (or the mount failed)"
fi

test_expect_success_here 'the database read-only under load: 503 DATABASE_UNAVAILABLE, then writes again, same pool' '
	# The directory is closed first and opened last: a journal made
	# while the file is 0400 and the directory open would be 0400 too
	# (SQLite copies the mode), and would keep everyone out after (t3700).
	fault ro "chmod 500 \"$D/data\" && chmod 400 \"$DB\"" \
		"chmod 600 \"$DB\" && chmod 700 \"$D/data\"" &&
	during ro > d.json && cat d.json &&
	test "$(jq ".unavailable.DATABASE_UNAVAILABLE // 0" d.json)" -ge 20 &&
	test "$(jq .acked_by_to d.json)" = 0 &&
	served_again ro
'
test_expect_success 'read-only: no corruption, acknowledged events there, none half there' '
	verify_phase ro &&
	test "$(jq .problem_count ro.verify)" = 0
'
test_expect_success 'read-only: no worker exited for it (the new ones answered 503 until it mended)' '
	moments ro &&
	grep "exited with status" "$LOG" | tail -n +$((EXITS + 1)) > exits &&
	test_grep ! "exited with status" exits
'

# A backup taken under load, renamed into place a moment later: what was
# acknowledged before the backup began is in it; what came between is
# lost (the operator's choice); what is sent after the rename must land.
test_expect_success_here 'the database replaced under load: 503 DATABASE_MOVED, new workers on the new file' '
	fault re "as_worker stripe-syncctl --config \"$CONF\" backup \"$D/data/restore.sqlite\" >/dev/null && sleep 1" \
		"mv \"$D/data/restore.sqlite\" \"$DB\"" &&
	moments re && window re "$T1" "$((T3 + 1000))" > d.json && cat d.json &&
	test "$(jq ".unavailable.DATABASE_MOVED // 0" d.json)" -ge 1 &&
	served_again re
'
test_expect_success 'replaced: no corruption; acknowledged before the backup or after the rename, there' '
	moments re &&
	verify_phase re --kept-before "$T0" --lost-before "$T3" &&
	test "$(jq .problem_count re.verify)" = 0 &&
	verify_phase ro --kept-before "$T0" --lost-before "$T3" &&
	test "$(jq .problem_count ro.verify)" = 0
'

test_expect_success_here 'the database deleted under load: 503 DATABASE_MOVED or DATABASE_UNAVAILABLE at once, then served again once migrate makes it anew' '
	fault del "rm -f \"$DB\" \"$DB-journal\"" \
		"as_worker stripe-syncctl --config \"$CONF\" migrate >/dev/null" &&
	moments del && window del "$T0" "$T2" > d.json && cat d.json &&
	# From the workers that had the old file (MOVED), or from those
	# started since, which wait for a database to open (UNAVAILABLE).
	test "$(jq "(.unavailable.DATABASE_MOVED // 0) + (.unavailable.DATABASE_UNAVAILABLE // 0)" d.json)" -ge 1 &&
	# The workers started while there is no file answer at once (not
	# left to the backlog until the web server gives up).
	during del > d.json && cat d.json &&
	test "$(jq ".unavailable.DATABASE_UNAVAILABLE // 0" d.json)" -ge 20 &&
	window del "$((T1 + 50))" "$T2" > d.json && cat d.json &&
	test "$(jq .acked_by_to d.json)" = 0 &&
	after del > a.json && cat a.json && test "$(jq ".ok + .dup" a.json)" -ge 20
'
test_expect_success 'deleted: no corruption; what was sent after migrate is there, nothing half there' '
	moments del &&
	verify_phase del --lost-before "$T3" &&
	test "$(jq .problem_count del.verify)" = 0 &&
	test "$(wsql "SELECT count(*) FROM installs WHERE installed_app_id NOT LIKE '\''del\\_%'\'' ESCAPE '\''\\'\''")" = 0
'

test_expect_success 'the pool still runs all its workers, none as root' '
	n=0 && while [ "$(pgrep -P "$MASTER" | wc -l)" -lt $WORKERS ]; do
		n=$((n + 1)); [ $n -lt 1000 ] || return 1; sleep 0.01; done &&
	{ [ -z "$SPAWN_AS" ] || {
		for p in $(pgrep -P "$MASTER"); do
			test "$(ps -o uid= -p "$p" | tr -d " ")" = "$(id -u "$WUSER")" || return 1
		done; }; }
'
for p in full ro re del; do
	[ -f "$TRASH/$p.stats" ] || continue
	test_diag "$p: $(jq -c "{events, acked, unacked, attempts, unanswered, kills, answered}" "$TRASH/$p.stats") moments $(cat "$TRASH/$p.t" 2>/dev/null)"
done

test_done
