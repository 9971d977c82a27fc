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
	test "$(sql "SELECT count(DISTINCT api_key_kid) FROM installs")" = 1 &&
	KID_A=$(sql "SELECT DISTINCT api_key_kid FROM installs")
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
	kid=$(sed -n "s/^re-sealed .* under key \([0-9a-f]*\)$/\1/p" rot.out) &&
	test -n "$kid" && test "$kid" != "$KID_A" &&
	KID_B=$kid && echo "$KID_B" > kid_b &&
	test "$(sql "SELECT DISTINCT api_key_kid FROM installs")" = "$kid" &&
	test "$(cat bg/*/status | sort -u)" = 200
'

test_expect_success 'rotate-keys counts the secrets under each key id before and after' '
	test_grep "^before: 3 sealed under key $KID_A (old_master_keys)$" rot.out &&
	test_grep "^after: 3 sealed under key $(cat kid_b) (master_key)$" rot.out &&
	test_grep "next: run .*doctor" rot.out
'

test_expect_success 'installs --json shows the key id of each sealed key' '
	stripe-syncctl --config "$CONF" installs --json > out &&
	test "$(jq -r "[.[].api_key_kid] | unique | join(\",\")" out)" = "$(cat kid_b)"
'

test_expect_success 'doctor says ok when every secret is under the current key' '
	stripe-syncctl --config "$CONF" doctor > out || true &&
	test_grep "^ok    sealed secrets: all 3 under the current master_key $(cat kid_b); old_master_keys may be dropped" out
'

test_expect_success_here 'a worker still on the old configuration seals under the old key' '
	KID_B=$(cat kid_b) &&
	sed "/^old_master_keys/d; s#^master_key = .*#master_key = $KEY_A#" "$CONF" > stale.conf &&
	chmod 600 stale.conf &&
	MAIN_CONF=$CONF && fcgi_stop &&
	CONF="$TRASH/stale.conf" && fcgi_start 1 &&
	install_event ev.json instapp_stale blnk_stale_key_000000000 &&
	fcgi_req POST "$CB" ev.json && expect_status 200;
	_r=$?
	# Whatever happened, stop the stale worker and go back to the real
	# configuration (fcgi_stop finds workers by their config path).
	fcgi_stop; CONF=$MAIN_CONF
	test $_r = 0 &&
	test "$(sql "SELECT api_key_kid FROM installs WHERE installed_app_id = '\''instapp_stale'\''")" = "$KID_A" &&
	fcgi_start 2
'

test_expect_success 'doctor fails on a secret under the old key, naming it and the fix' '
	test_must_fail stripe-syncctl --config "$CONF" doctor > out &&
	test_grep "^FAIL  sealed secrets: 1 under key $KID_A, an old key (old_master_keys), not the current master_key $KID_B; fix: reload every worker" out &&
	test_grep ! "^ok    sealed secrets" out
'

test_expect_success 'and, once the old key is dropped, on a secret under a key it does not hold' '
	sed "/^old_master_keys/d" "$CONF" > dropped.conf && chmod 600 dropped.conf &&
	test_must_fail stripe-syncctl --config dropped.conf doctor > out &&
	test_grep "^FAIL  sealed secrets: 1 under key $KID_A, which this configuration does not hold at all" out &&
	test_exit_code 1 stripe-syncctl --config dropped.conf rotate-keys > rot2.out 2>&1 &&
	test_grep "before: .*1 sealed under key $KID_A (NOT IN THIS CONFIGURATION)" rot2.out
'

test_expect_success 'rotating again with both keys moves the straggler; doctor is ok' '
	stripe-syncctl --config "$CONF" rotate-keys > out &&
	test_grep "^before: 3 sealed under key $KID_B (master_key), 1 sealed under key $KID_A (old_master_keys)$\|^before: 1 sealed under key $KID_A (old_master_keys), 3 sealed under key $KID_B (master_key)$" out &&
	test_grep "^after: 4 sealed under key $KID_B (master_key)$" out &&
	stripe-syncctl --config "$CONF" doctor > out || true &&
	test_grep "^ok    sealed secrets: all 4 under the current master_key $KID_B" out
'

test_expect_success 'with only key B the re-sealed keys still open' '
	sed "/^old_master_keys/d" "$CONF" > b-only.conf &&
	stripe-syncctl --config b-only.conf rotate-keys > out &&
	test_grep "re-sealed 4" out
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
	test_grep "re-sealed 3" out
'

test_done
