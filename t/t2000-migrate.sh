#!/bin/sh
test_description='stripe-syncctl migrate: schema versions, file mode, journal mode'
. "$top_srcdir/t/lib.sh"

command -v sqlite3 >/dev/null || skip_all 'sqlite3 (Debian package: sqlite3) not found'

# The number of migrations shipped in sql/.
nmig=$(ls "$top_srcdir"/sql/[0-9]*.sql | wc -l)

# journal_mode_for VERSION: the journal mode db_journal_mode() picks for a
# linked SQLite of that version.  The WAL-reset corruption bug is fixed in
# 3.51.3 and backported to 3.44.6 and 3.50.7; WAL only with the fix.
journal_mode_for() {
	_maj=$(echo "$1" | cut -d. -f1)
	_min=$(echo "$1" | cut -d. -f2)
	_pat=$(echo "$1" | cut -d. -f3)
	: "${_pat:=0}"
	if [ "$_maj" -gt 3 ] ||
	   [ "$_min" -gt 51 ] ||
	   { [ "$_min" -eq 51 ] && [ "$_pat" -ge 3 ]; } ||
	   { [ "$_min" -eq 50 ] && [ "$_pat" -ge 7 ]; } ||
	   { [ "$_min" -eq 44 ] && [ "$_pat" -ge 6 ]; }; then
		echo wal
	else
		echo delete
	fi
}

test_expect_success 'setup: a config and at least one migration' '
	test_write_config &&
	test "$nmig" -ge 1
'

test_expect_success 'migrate creates the database mode 600 under umask 022' '
	(umask 022 && stripe-syncctl -c stripe-sync.conf migrate >out) &&
	test "$(stat -c %a db.sqlite)" = 600
'

test_expect_success 'first migrate applies every migration' '
	echo "database $TRASH/db.sqlite: schema version $nmig (applied $nmig migrations)" >want &&
	test_cmp want out
'

test_expect_success 'second migrate applies 0' '
	stripe-syncctl -c stripe-sync.conf migrate >out &&
	echo "database $TRASH/db.sqlite: schema version $nmig (applied 0 migrations)" >want &&
	test_cmp want out
'

test_expect_success 'user_version equals the number of sql/ migrations' '
	test "$(sqlite3 db.sqlite "PRAGMA user_version")" = "$nmig"
'

test_expect_success 'schema_migrations has one row per version' '
	sqlite3 db.sqlite "SELECT version FROM schema_migrations ORDER BY version" >got &&
	seq 1 "$nmig" >want &&
	test_cmp want got
'

test_expect_success 'the database stays mode 600 after migrating again' '
	test "$(stat -c %a db.sqlite)" = 600
'

test_expect_success 'migrate under umask 000 still creates mode 600' '
	(umask 000 &&
	 STRIPE_SYNC_DB_PATH="$TRASH/loose.sqlite" \
		stripe-syncctl -c stripe-sync.conf migrate >/dev/null) &&
	test "$(stat -c %a loose.sqlite)" = 600
'

test_expect_success 'migrate on a fresh machine creates the database directory 0700' '
	env STRIPE_SYNC_DB_PATH="$TRASH/nosuchdir/sub/db.sqlite" \
		stripe-syncctl -c stripe-sync.conf migrate &&
	test "$(stat -c %a nosuchdir/sub)" = 700 &&
	test "$(stat -c %a nosuchdir/sub/db.sqlite)" = 600
'

test_expect_success 'migrate where a directory cannot be made exits 1' '
	: > afile &&
	test_exit_code 1 env STRIPE_SYNC_DB_PATH="$TRASH/afile/db.sqlite" \
		stripe-syncctl -c stripe-sync.conf migrate 2>err &&
	test_grep "cannot create" err
'

test_expect_success 'a database newer than the binary: migrate exits 5' '
	sqlite3 v99.sqlite "PRAGMA user_version = 99" &&
	test_exit_code 5 env STRIPE_SYNC_DB_PATH="$TRASH/v99.sqlite" \
		stripe-syncctl -c stripe-sync.conf migrate >out 2>err &&
	test_grep "99" err
'

test_expect_success 'a database newer than the binary keeps user_version 99' '
	test "$(sqlite3 v99.sqlite "PRAGMA user_version")" = 99
'

test_expect_success 'a database newer than the binary gets no schema_migrations rows' '
	n=$(sqlite3 v99.sqlite "SELECT count(*) FROM schema_migrations" 2>/dev/null ||
		echo 0) &&
	test "$n" = 0
'

test_expect_success 'installs on a newer database exits 5' '
	test_exit_code 5 env STRIPE_SYNC_DB_PATH="$TRASH/v99.sqlite" \
		stripe-syncctl -c stripe-sync.conf installs 2>err
'

test_expect_success 'stripe-syncd --check on an unmigrated database exits 5' '
	: >empty.sqlite && chmod 600 empty.sqlite &&
	test_exit_code 5 env STRIPE_SYNC_DB_PATH="$TRASH/empty.sqlite" \
		stripe-syncd --config stripe-sync.conf --check
'

test_expect_success 'stripe-syncd --check on a missing database fails' '
	test_must_fail env STRIPE_SYNC_DB_PATH="$TRASH/missing.sqlite" \
		stripe-syncd --config stripe-sync.conf --check
'

test_expect_success 'stripe-syncd --check on a newer database exits 5' '
	test_exit_code 5 env STRIPE_SYNC_DB_PATH="$TRASH/v99.sqlite" \
		stripe-syncd --config stripe-sync.conf --check
'

test_expect_success 'stripe-syncd --check on a migrated database exits 0' '
	stripe-syncd --config stripe-sync.conf --check
'

# The expectation is computed from the version, as db_journal_mode() does;
# first check the computation itself against the fixed versions.
while read -r version mode; do
	test_expect_success "journal mode for SQLite $version is $mode" "
		test \"\$(journal_mode_for $version)\" = $mode
	"
done <<'EOF'
3.40.1 delete
3.44.5 delete
3.44.6 wal
3.45.0 delete
3.50.6 delete
3.50.7 wal
3.51.2 delete
3.51.3 wal
3.52.0 wal
4.0.0 wal
EOF

# migrate_race N DIR: N "stripe-syncctl migrate" runs released at the same
# moment on a fresh database in DIR (a directory that does not exist yet);
# outputs in DIR.runs/.  Fails unless every run exits 0.
migrate_race() {
	sed "s#^db_path = .*#db_path = $TRASH/$2/db.sqlite#" stripe-sync.conf >"$2.conf" &&
	rm -rf "$2" "$2.runs" "$2.gate" && mkdir "$2.runs" && mkfifo "$2.gate" &&
	exec 3<>"$2.gate" &&
	_pids= && _i=0 &&
	while [ $_i -lt "$1" ]; do
		( touch "$2.runs/ready.$_i" && read -r _ <&3 &&
		  exec stripe-syncctl -c "$2.conf" migrate >"$2.runs/out.$_i" 2>"$2.runs/err.$_i" ) &
		_pids="$_pids $!" && _i=$((_i + 1))
	done &&
	_n=0 && while [ "$(ls "$2.runs" | grep -c "^ready")" -lt "$1" ]; do
		_n=$((_n + 1)); [ $_n -lt 500 ] || return 1; sleep 0.01; done &&
	_i=0 && while [ $_i -lt "$1" ]; do echo go; _i=$((_i + 1)); done >&3 &&
	_failed=0 && for _p in $_pids; do wait "$_p" || _failed=$((_failed + 1)); done &&
	exec 3>&- &&
	cat "$2".runs/err.* &&
	test "$_failed" = 0
}

# Ten rounds of sixteen: a round may by chance run them one after another.
for round in 1 2 3 4 5 6 7 8 9 10; do
	test_expect_success "round $round: sixteen migrate runs at once on a fresh database all succeed, each migration applied once" '
		migrate_race 16 par$round &&
		test "$(sqlite3 par$round/db.sqlite "PRAGMA user_version")" = "$nmig" &&
		sqlite3 par$round/db.sqlite "SELECT version, count(*) FROM schema_migrations GROUP BY version ORDER BY version" >got &&
		seq 1 "$nmig" | sed "s/$/|1/" >want &&
		test_cmp want got &&
		applied=$(sed -n "s/.*(applied \([0-9]*\) migrations)$/\1/p" par$round.runs/out.* |
			awk "{ s += \$1 } END { print s }") &&
		test "$applied" = "$nmig"
	'
done

test_expect_success 'journal mode of the database matches the linked SQLite' '
	v=$(sqlite3 --version | cut -d" " -f1) &&
	want=$(journal_mode_for "$v") &&
	got=$(sqlite3 db.sqlite "PRAGMA journal_mode") &&
	echo "SQLite $v: want $want, got $got" &&
	test "$got" = "$want"
'

test_done
