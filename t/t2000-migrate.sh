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

test_expect_success 'journal mode of the database matches the linked SQLite' '
	v=$(sqlite3 --version | cut -d" " -f1) &&
	want=$(journal_mode_for "$v") &&
	got=$(sqlite3 db.sqlite "PRAGMA journal_mode") &&
	echo "SQLite $v: want $want, got $got" &&
	test "$got" = "$want"
'

test_done
