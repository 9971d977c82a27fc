#!/bin/sh
test_description='install and uninstall events through real FastCGI workers'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fcgi.sh"

test_expect_success_here 'setup: config, migrated database, 2 workers' '
	fcgi_setup && fcgi_start 2
'

test_expect_success 'install is stored active with the prefix and a sealed key' '
	install_event ev.json instapp_1 &&
	fcgi_req POST "$CB" ev.json &&
	expect_status 200 &&
	test "$(jq -c . resp.body)" = "{\"ok\":true}" &&
	test "$(sql "SELECT status, api_key_prefix, instance_id, generation FROM installs")" = \
		"active|blnk_test|inst_1|1" &&
	test "$(sql "SELECT length(api_key_sealed) > 28, api_key_kid IS NOT NULL FROM installs")" = "1|1" &&
	test "$(sql "SELECT granted_permissions FROM installs")" = \
		"[\"data:read\",\"data:write\",\"alerts:write\"]"
'

test_expect_success 'a repeated idempotency_key is answered 200 and changes nothing' '
	before=$(sql "SELECT * FROM installs; SELECT count(*) FROM events") &&
	install_event ev.json instapp_1 blnk_other_key_9999999999 &&
	fcgi_req POST "$CB" ev.json &&
	expect_status 200 &&
	test "$(jq -r .duplicate resp.body)" = true &&
	test "$(sql "SELECT * FROM installs; SELECT count(*) FROM events")" = "$before"
'

test_expect_success 'install of an active install under another key is 409 and changes nothing' '
	before=$(sql "SELECT * FROM installs; SELECT count(*) FROM events") &&
	install_event ev.json instapp_1 blnk_forged_key_000000000 install:instapp_1:again &&
	fcgi_req POST "$CB" ev.json &&
	expect_error 409 INSTALL_CONFLICT installed_app_id &&
	test "$(sql "SELECT * FROM installs; SELECT count(*) FROM events")" = "$before"
'

test_expect_success 'the event kind can come from an explicit type field' '
	install_event ev.json instapp_t blnk_typed_key_0000000000 idem-typed-1 &&
	jq ". + {type: \"app.installed\"}" ev.json > ev2.json &&
	fcgi_req POST "$CB" ev2.json &&
	expect_status 200 &&
	test "$(sql "SELECT status FROM installs WHERE installed_app_id = '\''instapp_t'\''")" = active
'

test_expect_success 'the event kind can come from the shape alone' '
	install_event ev.json instapp_s blnk_shape_key_0000000000 idem-shape-1 &&
	fcgi_req POST "$CB" ev.json &&
	expect_status 200 &&
	jq "{installed_app_id, app_id, instance_id, uninstalled_at: \"2026-05-01T00:00:00Z\", idempotency_key: \"idem-shape-2\"}" \
		ev.json > un.json &&
	fcgi_req POST "$CB" un.json &&
	expect_status 200 &&
	test "$(sql "SELECT status FROM installs WHERE installed_app_id = '\''instapp_s'\''")" = inactive
'

test_expect_success 'an unknown type value is a 400 naming the field' '
	install_event ev.json instapp_u &&
	jq ". + {event_type: \"app.exploded\"}" ev.json > ev2.json &&
	fcgi_req POST "$CB" ev2.json &&
	expect_error 400 INVALID_FIELD event_type &&
	test "$(sql "SELECT count(*) FROM installs WHERE installed_app_id = '\''instapp_u'\''")" = 0
'

test_expect_success 'unknown and optional fields are accepted; organization_id is stored' '
	install_event ev.json instapp_o blnk_org_key_000000000000 &&
	jq ". + {organization_id: \"org_9\", user_id: \"usr_1\", colour: \"blue\", nested: {a: [1,2]}}" \
		ev.json > ev2.json &&
	fcgi_req POST "$CB" ev2.json &&
	expect_status 200 &&
	test "$(sql "SELECT organization_id FROM installs WHERE installed_app_id = '\''instapp_o'\''")" = org_9
'

test_expect_success 'uninstall marks inactive, destroys the sealed key, records uninstalled_at' '
	uninstall_event un.json instapp_1 &&
	fcgi_req POST "$CB" un.json &&
	expect_status 200 &&
	test "$(sql "SELECT status, api_key_sealed IS NULL, api_key_kid IS NULL, uninstalled_at FROM installs WHERE installed_app_id = '\''instapp_1'\''")" = \
		"inactive|1|1|2026-04-21T12:00:00Z"
'

test_expect_success 'a repeated uninstall is answered 200 and changes nothing' '
	before=$(sql "SELECT * FROM installs; SELECT count(*) FROM events") &&
	fcgi_req POST "$CB" un.json &&
	expect_status 200 &&
	test "$(sql "SELECT * FROM installs; SELECT count(*) FROM events")" = "$before"
'

test_expect_success 'reinstall after uninstall works and bumps the generation' '
	install_event ev.json instapp_1 blnk_second_key_00000000 install:instapp_1:2 &&
	fcgi_req POST "$CB" ev.json &&
	expect_status 200 &&
	test "$(sql "SELECT status, generation, uninstalled_at IS NULL, api_key_prefix FROM installs WHERE installed_app_id = '\''instapp_1'\''")" = \
		"active|2|1|blnk_seco"
'

test_expect_success 'uninstall for an unknown install answers 200 and is recorded' '
	uninstall_event un.json instapp_nobody &&
	fcgi_req POST "$CB" un.json &&
	expect_status 200 &&
	test "$(sql "SELECT outcome FROM events WHERE idempotency_key = '\''uninstall:instapp_nobody'\''")" = unknown-install &&
	test "$(sql "SELECT count(*) FROM installs WHERE installed_app_id = '\''instapp_nobody'\''")" = 0
'

test_expect_success 'uninstall naming another instance is refused and changes nothing' '
	before=$(sql "SELECT * FROM installs; SELECT count(*) FROM events") &&
	uninstall_event un.json instapp_1 uninstall:instapp_1:x inst_other &&
	fcgi_req POST "$CB" un.json &&
	expect_error 409 INSTALL_MISMATCH instance_id &&
	test "$(sql "SELECT * FROM installs; SELECT count(*) FROM events")" = "$before"
'

test_expect_success 'a stale uninstall redelivered after a reinstall is a duplicate; the install stays' '
	before=$(sql "SELECT status, generation, api_key_kid, hex(api_key_sealed) FROM installs WHERE installed_app_id = '\''instapp_1'\''") &&
	test "$(echo "$before" | cut -d"|" -f1,2)" = "active|2" &&
	uninstall_event un.json instapp_1 &&
	fcgi_req POST "$CB" un.json &&
	expect_status 200 &&
	test "$(jq -r .duplicate resp.body)" = true &&
	test "$(sql "SELECT status, generation, api_key_kid, hex(api_key_sealed) FROM installs WHERE installed_app_id = '\''instapp_1'\''")" = "$before"
'

test_expect_success 'an install of another install with a used key is 409 and stores nothing' '
	before=$(sql "SELECT * FROM installs; SELECT count(*) FROM events") &&
	install_event ev.json instapp_E2 blnk_e2_key_000000000000 install:instapp_1 &&
	fcgi_req POST "$CB" ev.json &&
	expect_error 409 IDEMPOTENCY_KEY_REUSED idempotency_key &&
	test "$(sql "SELECT * FROM installs; SELECT count(*) FROM events")" = "$before" &&
	test "$(sql "SELECT count(*) FROM installs WHERE installed_app_id = '\''instapp_E2'\''")" = 0
'

test_expect_success 'an install carrying an uninstall key cannot take that key from the uninstall' '
	install_event ev.json instapp_C blnk_c_key_0000000000000 &&
	fcgi_req POST "$CB" ev.json && expect_status 200 &&
	install_event ev2.json instapp_D blnk_d_key_0000000000000 uninstall:instapp_C &&
	jq ". + {type: \"install\"}" ev2.json > ev3.json &&
	fcgi_req POST "$CB" ev3.json &&
	expect_error 400 INVALID_FIELD type &&
	fcgi_req POST "$CB" ev2.json &&
	expect_error 400 INVALID_FIELD idempotency_key &&
	uninstall_event un.json instapp_C &&
	fcgi_req POST "$CB" un.json &&
	expect_status 200 &&
	test "$(jq -r .duplicate resp.body)" = null &&
	test "$(sql "SELECT status, api_key_sealed IS NULL FROM installs WHERE installed_app_id = '\''instapp_C'\''")" = "inactive|1"
'

test_expect_success 'a key used by an uninstall, reused by an install of the same id, is 409' '
	before=$(sql "SELECT * FROM installs; SELECT count(*) FROM events") &&
	install_event ev.json instapp_C blnk_c_key_1111111111111 uninstall-C-typed &&
	fcgi_req POST "$CB" ev.json && expect_status 200 &&
	uninstall_event un.json instapp_C uninstall-C-typed &&
	fcgi_req POST "$CB" un.json &&
	expect_error 409 IDEMPOTENCY_KEY_REUSED idempotency_key &&
	test "$(sql "SELECT status FROM installs WHERE installed_app_id = '\''instapp_C'\''")" = active
'

test_expect_success 'an uninstall naming another organization_id is refused' '
	install_event ev.json instapp_org blnk_org_key_0000000000 &&
	jq ". + {organization_id: \"org_1\"}" ev.json > ev2.json &&
	fcgi_req POST "$CB" ev2.json && expect_status 200 &&
	before=$(sql "SELECT * FROM installs; SELECT count(*) FROM events") &&
	uninstall_event un.json instapp_org &&
	jq ". + {organization_id: \"org_2\"}" un.json > un2.json &&
	fcgi_req POST "$CB" un2.json &&
	expect_error 409 INSTALL_MISMATCH organization_id &&
	test "$(sql "SELECT * FROM installs; SELECT count(*) FROM events")" = "$before" &&
	fcgi_req POST "$CB" un.json && expect_status 200
'

test_expect_success 'a commit that cannot get the lock answers 503 and stores nothing' '
	before=$(sql "SELECT * FROM installs; SELECT count(*) FROM events") &&
	mkfifo reader.in || return 1
	# A reader holding its transaction open past the busy timeout.
	sqlite3 -batch "$TRASH/db.sqlite" < reader.in > reader.out 2>&1 &
	reader=$!

	exec 3> reader.in &&
	test_when_finished "exec 3>&-; kill $reader 2>/dev/null; wait $reader 2>/dev/null; true" &&
	echo "BEGIN; SELECT count(*) FROM installs; SELECT '\''held'\'';" >&3 &&
	n=0 && while ! grep -q held reader.out; do
		n=$((n + 1)); test $n -lt 500 || { cat reader.out; false; } || return 1; sleep 0.01
	done &&
	install_event ev.json instapp_busy blnk_busy_key_000000000 &&
	fcgi_req POST "$CB" ev.json &&
	expect_error 503 DATABASE_UNAVAILABLE &&
	exec 3>&- && wait $reader &&
	test "$(sql "SELECT * FROM installs; SELECT count(*) FROM events")" = "$before" &&
	fcgi_req POST "$CB" ev.json && expect_status 200 &&
	test "$(jq -r .duplicate resp.body)" = null
'

test_expect_success 'a wrong or missing secret is 404, writes nothing, and is not logged' '
	before=$(sql "SELECT * FROM installs; SELECT count(*) FROM events") &&
	install_event ev.json instapp_forged blnk_forged_000000000000 &&
	fcgi_req POST /api/callback/not-the-secret ev.json &&
	expect_error 404 NOT_FOUND &&
	fcgi_req POST /api/callback/ ev.json &&
	expect_error 404 NOT_FOUND &&
	fcgi_req POST "${CB}x" ev.json &&
	expect_error 404 NOT_FOUND &&
	fcgi_req POST "/api/callback/$(echo "$SECRET" | cut -c1-31)" ev.json &&
	expect_error 404 NOT_FOUND &&
	test "$(sql "SELECT * FROM installs; SELECT count(*) FROM events")" = "$before" &&
	test_grep ! "not-the-secret" app.log &&
	test_grep ! "$SECRET" app.log &&
	test_grep "route=not_found status=404" app.log
'

test_expect_success 'every request is logged once with route, status and install id' '
	lines=$(grep -c " request method=" app.log) &&
	install_event ev.json instapp_log blnk_log_key_00000000000 &&
	fcgi_req POST "$CB" ev.json &&
	test "$(grep -c " request method=" app.log)" = $((lines + 1)) &&
	tail -n 1 app.log > last &&
	test_grep "request method=POST route=callback status=200 ms=[0-9.]* install=instapp_log" last
'

test_done
