#!/bin/sh
test_description='rotate-keys re-seals every stored secret under the current key while workers serve'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fcgi.sh"

test_expect_success_here 'setup: three installs sealed under key A' '
	fcgi_setup && fcgi_start 2 &&
	for i in 1 2 3; do
		install_event ev.json instapp_$i "blnk_key_${i}_000000000000" &&
		fcgi_req POST "$CB" ev.json && expect_status 200 || return 1
	done &&
	KEY_A=$(test_config_get master_key "$CONF") &&
	KEY_B=$(test_master_key) &&
	test "$(sql "SELECT count(DISTINCT api_key_kid) FROM installs")" = 1
'

test_expect_success_here 'workers restart with B current and A old' '
	sed -i "s#^master_key = .*#master_key = $KEY_B\nold_master_keys = $KEY_A#" "$CONF" &&
	stripe-syncctl --config "$CONF" check-config &&
	fcgi_stop && fcgi_start 2
'

test_expect_success 'rotate-keys re-seals all three under B while requests keep being answered' '
	launch_event l.json instapp_1 &&
	( i=0; while [ $i -lt 40 ]; do
		mkdir -p bg/$i && ( cd bg/$i && fcgi_req POST "$PORTAL" "$TRASH/l.json" &&
		echo "$HTTP_STATUS" > status ); i=$((i + 1)); done ) &
	stripe-syncctl --config "$CONF" rotate-keys > rot.out &&
	wait &&
	test_grep "re-sealed 3 secrets under key" rot.out &&
	kid=$(sed -n "s/.*under key \([0-9a-f]*\).*/\1/p" rot.out) &&
	test "$(sql "SELECT DISTINCT api_key_kid FROM installs")" = "$kid" &&
	test "$(cat bg/*/status | sort -u)" = 200
'

test_expect_success 'with only key B the re-sealed keys still open' '
	sed "/^old_master_keys/d" "$CONF" > b-only.conf &&
	stripe-syncctl --config b-only.conf rotate-keys > out &&
	test_grep "re-sealed 3" out
'

test_expect_success 'with only the old key A nothing opens and nothing changes' '
	sed "/^old_master_keys/d; s#^master_key = .*#master_key = $KEY_A#" "$CONF" > a-only.conf &&
	before=$(sql "SELECT hex(api_key_sealed), api_key_kid FROM installs") &&
	test_exit_code 1 stripe-syncctl --config a-only.conf rotate-keys 2> err &&
	test "$(sql "SELECT hex(api_key_sealed), api_key_kid FROM installs")" = "$before" &&
	test_grep ! "$KEY_A" err && test_grep ! "$KEY_B" err
'

test_expect_success 'uninstalled installs hold no secret to rotate' '
	uninstall_event un.json instapp_3 && fcgi_req POST "$CB" un.json && expect_status 200 &&
	stripe-syncctl --config b-only.conf rotate-keys > out &&
	test_grep "re-sealed 2" out
'

test_done
