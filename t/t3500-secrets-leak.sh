#!/bin/sh
test_description='the api_key, the secrets and the tokens appear nowhere: database, logs, responses'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fcgi.sh"

KEY=blnk_live_$(test_secret)

test_expect_success_here 'setup: install with a recognisable key, exercise every route' '
	fcgi_setup && fcgi_start 2 &&
	install_event ev.json instapp_1 "$KEY" &&
	fcgi_req POST "$CB" ev.json && cat resp.raw > all.responses &&
	fcgi_req POST "$CB" ev.json && cat resp.raw >> all.responses &&
	launch_event l.json instapp_1 && fcgi_req POST "$PORTAL" l.json &&
	cat resp.raw >> all.responses &&
	TOK=$(jq -r .portal_url resp.body | sed "s/.*token=//") &&
	fcgi_req GET /api/v1/context /dev/null - "Bearer $TOK" && cat resp.raw >> all.responses &&
	fcgi_req GET /api/health && cat resp.raw >> all.responses &&
	stripe-syncctl --config "$CONF" installs > ctl.out 2>&1 &&
	stripe-syncctl --config "$CONF" install instapp_1 >> ctl.out 2>&1 &&
	stripe-syncctl --config "$CONF" installs --json >> ctl.out 2>&1 &&
	stripe-syncctl --config "$CONF" rotate-keys >> ctl.out 2>&1 &&
	cp db.sqlite db.installed &&
	uninstall_event un.json instapp_1 && fcgi_req POST "$CB" un.json &&
	cat resp.raw >> all.responses
'

# nowhere STRING: not in the database files, the logs, the answers or ctl output.
nowhere() {
	for f in db.installed db.sqlite db.sqlite-journal db.sqlite-wal app.log spawn.log all.responses ctl.out; do
		[ -f "$f" ] || continue
		if grep -a -F -q -e "$1" "$f"; then echo "found in $f"; return 1; fi
	done
}

test_expect_success 'the api_key bytes appear nowhere' '
	nowhere "$KEY" &&
	nowhere "$(echo "$KEY" | cut -c10-)"
'
test_expect_success 'while installed, the database holds the key only sealed' '
	test "$(sqlite3 db.installed "SELECT length(api_key_sealed) >= 28 + length('\''$KEY'\'') FROM installs")" = 1 &&
	! grep -a -F -q "$KEY" db.installed
'
test_expect_success 'the callback secret appears in no log or answer' '
	nowhere "$SECRET"
'
test_expect_success 'the master key and session secret appear in no log or answer' '
	nowhere "$(test_config_get master_key "$CONF")" &&
	nowhere "$(test_config_get session_secret "$CONF")"
'
test_expect_success 'the launch token is in the launch answer only, never in a log' '
	! grep -a -F -q "$TOK" app.log &&
	test "$(grep -a -c -F "$TOK" all.responses)" = 1
'

test_done
