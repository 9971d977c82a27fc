#!/bin/sh
test_description='GET /api/health: version and database check, 503 when the database is unusable'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fcgi.sh"

test_expect_success_here 'setup' '
	fcgi_setup && fcgi_start 1
'

test_expect_success 'health is 200 with version and schema version' '
	fcgi_req GET /api/health && expect_status 200 &&
	test "$(jq -r .status resp.body)" = ok &&
	test "$(jq -r .database resp.body)" = ok &&
	test "$(jq -r .version resp.body)" = "$(stripe-syncctl --version | sed "s/.* //")" &&
	test "$(jq -r .schema_version resp.body)" = "$(sql "PRAGMA user_version")"
'

test_expect_success 'HEAD health answers the headers without a body' '
	fcgi_req HEAD /api/health && expect_status 200 && test ! -s resp.body
'

test_expect_success 'health says nothing secret' '
	fcgi_req GET /api/health &&
	test "$(jq -r "keys | join(\",\")" resp.body)" = "database,schema_version,status,version"
'

test_expect_success 'POST to health is 405 with Allow' '
	fcgi_req POST /api/health && expect_error 405 METHOD_NOT_ALLOWED &&
	test_grep "^Allow: GET, HEAD$" resp.head
'

test_expect_success 'workers refuse to start on an unmigrated database, with a clear log line' '
	test_write_config fresh.conf &&
	sed -i "s#^db_path = .*#db_path = $TRASH/fresh.sqlite#; s#^log_file = .*#log_file = $TRASH/fresh.log#" fresh.conf &&
	: > fresh.sqlite &&
	test_exit_code 5 stripe-sync.fcgi --config fresh.conf < /dev/null &&
	test_grep "refusing to serve: .*schema version 0.*stripe-syncctl migrate" fresh.log
'

test_expect_success 'workers refuse a database newer than they are' '
	test_write_config newer.conf &&
	sed -i "s#^db_path = .*#db_path = $TRASH/newer.sqlite#; s#^log_file = .*#log_file = $TRASH/newer.log#" newer.conf &&
	stripe-syncctl --config newer.conf migrate &&
	sqlite3 newer.sqlite "PRAGMA user_version = 99" &&
	test_exit_code 5 stripe-sync.fcgi --config newer.conf < /dev/null &&
	test_grep "refusing to serve: .*99" newer.log
'

test_expect_success 'a database that becomes unusable turns health into 503' '
	cp db.sqlite db.good &&
	head -c 8192 /dev/urandom > db.sqlite &&
	fcgi_req GET /api/health &&
	cp db.good db.sqlite &&
	expect_error 503 DATABASE_UNAVAILABLE
'

test_expect_success 'and health recovers when the database is back' '
	fcgi_req GET /api/health && expect_status 200
'

test_done
