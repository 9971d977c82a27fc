#!/bin/sh
test_description='database faults: unwritable, replaced or deleted under the pool; it heals without a restart'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fcgi.sh"

# Modes only bind an unprivileged process: as root, the workers run as
# nobody, in a directory of their own under /tmp that nobody may enter.
if [ "$(id -u)" = 0 ]; then
	id nobody >/dev/null 2>&1 || skip_all "no user nobody to run the workers as"
	WUSER=nobody WGROUP=$(id -gn nobody)
	as_worker() { setpriv --reuid="$WUSER" --regid="$WGROUP" --clear-groups "$@"; }
	SPAWN_AS="-u $WUSER -g $WGROUP"
else
	as_worker() { "$@"; }
	SPAWN_AS=
fi
D=$(mktemp -d /tmp/ssdbf.XXXXXX) || exit 99
chmod 755 "$D"
test_at_exit 'rm -rf "$D"'
DB="$D/data/db.sqlite"
LOG="$D/app.log"

# wait_log COUNT PATTERN: until the log has COUNT lines matching PATTERN
# (up to about 30 s: the supervisor's retry pause doubles up to 8 s).
wait_log() {
	_n=0
	while [ "$(grep -c -e "$2" "$LOG" 2>/dev/null)" -lt "$1" ]; do
		_n=$((_n + 1))
		[ $_n -lt 3000 ] || { echo "timed out waiting for $1 x '$2'"; cat "$LOG"; return 1; }
		sleep 0.01
	done
}

# The pool: spawn-fcgi -n execs the supervisor with 2 workers.
start_pool() {
	rm -f "$FCGI_SOCK"
	# shellcheck disable=SC2086
	# setsid: a group of its own, which the exit hook stops whole.
	setsid "$SPAWN_FCGI" -n -s "$FCGI_SOCK" $SPAWN_AS -- "$top_builddir/stripe-sync.fcgi" \
		--config "$CONF" --workers 2 >>"$D/spawn.log" 2>&1 &
	echo $! > "$FCGI_PIDS"
	POOLS="$POOLS $!"
}

wsql() { sqlite3 -batch "$DB" "$1"; }
POOLS=
test_at_exit 'for _g in $POOLS; do test_stop stripe-sync.fcgi -g $_g; done'

test_expect_success_here 'setup: config and database owned by the workers'\'' user' '
	test_write_config "$CONF" &&
	sed -i "s#^db_path = .*#db_path = $DB#; s#^log_file = .*#log_file = $LOG#" "$CONF" &&
	mkdir -m 700 "$D/data" &&
	{ [ -z "$SPAWN_AS" ] || chown "$WUSER:$WGROUP" "$CONF" "$D" "$D/data"; } &&
	as_worker stripe-syncctl --config "$CONF" migrate >/dev/null &&
	SECRET=$(test_config_get callback_secret "$CONF") && CB="/api/callback/$SECRET"
'

test_expect_success 'a worker refuses a database it cannot write, naming it, and exits 6' '
	chmod 400 "$DB" &&
	test_when_finished "chmod 600 \"$DB\"" &&
	test_exit_code 6 as_worker stripe-sync.fcgi --config "$CONF" </dev/null 2>err &&
	test_grep "cannot write the file" err &&
	test_grep "refusing to serve: .*cannot write" "$LOG" &&
	test_grep ! "worker ready" "$LOG"
'

test_expect_success 'and one whose directory it cannot write (the journal goes there)' '
	chmod 500 "$D/data" &&
	test_when_finished "chmod 700 \"$D/data\"" &&
	test_exit_code 6 as_worker stripe-sync.fcgi --config "$CONF" </dev/null 2>err &&
	test_grep "cannot write its directory" err
'

# SQLite gives a journal the mode the file has when the journal is made:
# a file made read-only under a running writer can leave a 0400 journal
# behind, which keeps everyone out once the file is writable again.
test_expect_success 'and one whose journal it cannot write, naming the journal' '
	as_worker touch "$DB-journal" && chmod 400 "$DB-journal" &&
	test_when_finished "rm -f \"$DB-journal\"" &&
	test_exit_code 6 as_worker stripe-sync.fcgi --config "$CONF" </dev/null 2>err &&
	test_grep "cannot write its journal" err
'

test_expect_success 'stripe-syncd refuses it too, with the same status' '
	chmod 400 "$DB" &&
	test_when_finished "chmod 600 \"$DB\"" &&
	test_exit_code 6 as_worker stripe-syncd --config "$CONF" --check 2>err &&
	test_grep "cannot write" err
'

# health_until STATUS: ask /api/health until it answers STATUS (a worker
# without its database tries the file again every 250 ms).
health_until() {
	_n=0
	while :; do
		fcgi_req GET /api/health || return 1
		[ "$HTTP_STATUS" = "$1" ] && return 0
		_n=$((_n + 1)); [ $_n -lt 300 ] || { echo "health never $1:"; cat resp.head resp.body; return 1; }
		sleep 0.05
	done
}

# A worker with a socket but no database it can open answers every
# request 503 DATABASE_UNAVAILABLE at once (the socket is never left to
# nobody), and takes the database as soon as it opens again.
test_expect_success_here 'a pool started on a read-only database answers 503 and heals once it is writable' '
	chmod 400 "$DB" &&
	start_pool &&
	wait_log 1 "the workers will retry" &&
	wait_log 2 "answering 503 until the database can be opened: .*cannot write" &&
	fcgi_req GET /api/health && expect_error 503 DATABASE_UNAVAILABLE &&
	install_event ev.json instapp_A && fcgi_req POST "$CB" ev.json &&
	expect_error 503 DATABASE_UNAVAILABLE &&
	chmod 600 "$DB" &&
	health_until 200 &&
	# Both workers take the file again (each on a request of its own),
	# so that the later tests find two workers on this file.
	n=0 && while [ "$(grep -c "the database opens again: serving" "$LOG")" -lt 2 ]; do
		n=$((n + 1)); [ $n -lt 500 ] || { echo "a worker did not take the file again"; false; } || break
		fcgi_req GET /api/health && expect_status 200 &&
		fcgi_req_other GET /api/health && expect_status 200 || break
	done &&
	test "$(grep -c "the database opens again: serving" "$LOG")" = 2 &&
	fcgi_req GET /api/health && expect_status 200 &&
	install_event ev.json instapp_A && fcgi_req POST "$CB" ev.json && expect_status 200 &&
	test "$(wsql "SELECT status FROM installs WHERE installed_app_id = '\''instapp_A'\''")" = active
'

test_expect_success 'health is 503 DATABASE_READONLY while the directory is unwritable, 200 after' '
	chmod 500 "$D/data" &&
	fcgi_req GET /api/health &&
	chmod 700 "$D/data" &&
	expect_error 503 DATABASE_READONLY &&
	fcgi_req GET /api/health && expect_status 200
'

test_expect_success 'health is 503 DATABASE_SCHEMA_MISMATCH on a schema it does not know' '
	v=$(wsql "PRAGMA user_version") &&
	wsql "PRAGMA user_version = 99" &&
	fcgi_req GET /api/health &&
	wsql "PRAGMA user_version = $v" &&
	expect_error 503 DATABASE_SCHEMA_MISMATCH &&
	fcgi_req GET /api/health && expect_status 200
'

test_expect_success_here 'a backup renamed into place: each old worker answers 503 once and is replaced' '
	as_worker sqlite3 -batch "$DB" ".backup $D/data/restore.sqlite" &&
	install_event ev.json instapp_B && fcgi_req POST "$CB" ev.json && expect_status 200 &&
	ready=$(grep -c "worker ready" "$LOG") &&
	mv "$D/data/restore.sqlite" "$DB" &&
	moved=0 n=0 bad= &&
	while [ -z "$bad" ] &&
	    [ "$(grep -c "deleted or replaced since this worker" "$LOG")" -lt 2 ]; do
		n=$((n + 1)); [ $n -lt 500 ] || { cp "$LOG" "$TRASH/replaced.log"; bad=timeout; break; }
		fcgi_req GET /api/health || { bad=request; break; }
		case $HTTP_STATUS in
		200) ;;
		503) expect_error 503 DATABASE_MOVED || bad=code; moved=$((moved + 1)) ;;
		*) cat resp.raw; bad=status ;;
		esac
	done &&
	{ [ -z "$bad" ] || { echo "failed: $bad"; false; }; } &&
	test "$moved" = 2 &&
	wait_log $((ready + 2)) "worker ready" &&
	fcgi_req GET /api/health && expect_status 200 &&
	test "$(wsql "SELECT group_concat(installed_app_id) FROM installs")" = instapp_A &&
	install_event ev.json instapp_C && fcgi_req POST "$CB" ev.json && expect_status 200 &&
	test "$(wsql "SELECT group_concat(installed_app_id) FROM installs ORDER BY 1")" = "instapp_A,instapp_C" &&
	test "$(wsql "PRAGMA integrity_check")" = ok
'

test_expect_success_here 'a deleted database: 503 at once, from the old workers and their successors, then healed by migrate' '
	ready=$(grep -c "worker ready" "$LOG") &&
	rm -f "$DB" &&
	fcgi_req GET /api/health && expect_error 503 DATABASE_MOVED &&
	fcgi_req GET /api/health && expect_status 503 &&
	wait_log $((ready + 2)) "worker ready" &&
	wait_log 1 "answering 503 until the database can be opened: .*does not exist" &&
	fcgi_req GET /api/health && expect_error 503 DATABASE_UNAVAILABLE &&
	as_worker stripe-syncctl --config "$CONF" migrate >/dev/null &&
	health_until 200 &&
	install_event ev.json instapp_D && fcgi_req POST "$CB" ev.json && expect_status 200
'

test_expect_success 'backup copies the live database into a new 0600 file, never over one' '
	install_event ev.json instapp_E && fcgi_req POST "$CB" ev.json && expect_status 200 &&
	as_worker stripe-syncctl --config "$CONF" backup "$D/data/b1.sqlite" >out &&
	test_grep "copied to" out &&
	test "$(stat -c %a "$D/data/b1.sqlite")" = 600 &&
	test "$(sqlite3 "$D/data/b1.sqlite" "SELECT count(*) FROM installs WHERE installed_app_id = '\''instapp_E'\''")" = 1 &&
	test "$(sqlite3 "$D/data/b1.sqlite" "PRAGMA integrity_check")" = ok &&
	cp "$D/data/b1.sqlite" before.sqlite &&
	test_exit_code 1 as_worker stripe-syncctl --config "$CONF" backup "$D/data/b1.sqlite" 2>err &&
	test_grep "File exists" err &&
	cmp before.sqlite "$D/data/b1.sqlite"
'

test_expect_success 'restore puts a backup back under running workers: no 503, no restart' '
	install_event ev.json instapp_F && fcgi_req POST "$CB" ev.json && expect_status 200 &&
	ready=$(grep -c "worker ready" "$LOG") &&
	as_worker stripe-syncctl --config "$CONF" restore "$D/data/b1.sqlite" >out &&
	test_grep "restored from" out &&
	for i in 1 2 3 4 5 6; do
		fcgi_req GET /api/health && expect_status 200 || return 1
	done &&
	test "$(grep -c "worker ready" "$LOG")" = "$ready" &&
	test "$(wsql "SELECT count(*) FROM installs WHERE installed_app_id IN ('\''instapp_E'\'', '\''instapp_F'\'')")" = 1 &&
	launch_event l.json instapp_F && fcgi_req POST "/api/portal/$SECRET" l.json &&
	expect_error 404 INSTALL_NOT_FOUND &&
	install_event ev.json instapp_G && fcgi_req POST "$CB" ev.json && expect_status 200 &&
	test "$(wsql "PRAGMA integrity_check")" = ok
'

test_expect_success 'restore refuses a damaged or unknown file and changes nothing' '
	before=$(wsql "SELECT * FROM installs; SELECT count(*) FROM events") &&
	head -c 9000 /dev/urandom > "$D/junk.sqlite" && chmod 644 "$D/junk.sqlite" &&
	test_exit_code 1 as_worker stripe-syncctl --config "$CONF" restore "$D/junk.sqlite" 2>err &&
	test_grep "nothing restored\|not a database" err &&
	cp "$D/data/b1.sqlite" "$D/newer.sqlite" && sqlite3 "$D/newer.sqlite" "PRAGMA user_version = 99" &&
	chmod 644 "$D/newer.sqlite" &&
	test_exit_code 1 as_worker stripe-syncctl --config "$CONF" restore "$D/newer.sqlite" 2>err &&
	test_grep "schema version 99 .*nothing restored" err &&
	test_exit_code 1 as_worker stripe-syncctl --config "$CONF" restore "$D/absent.sqlite" 2>err &&
	test "$(wsql "SELECT * FROM installs; SELECT count(*) FROM events")" = "$before" &&
	fcgi_req GET /api/health && expect_status 200
'

test_expect_success 'no worker ever served as root' '
	[ -z "$SPAWN_AS" ] || {
		for p in $(pgrep -f "stripe-sync.fcgi --config $CONF"); do
			test "$(ps -o uid= -p "$p" | tr -d " ")" = "$(id -u "$WUSER")" || return 1
		done
	}
'

test_done
