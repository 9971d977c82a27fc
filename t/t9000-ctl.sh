#!/bin/sh
test_description='stripe-syncctl: usage, init, installs, install, rotate-keys'
. "$top_srcdir/t/lib.sh"

commands='init check-config migrate installs install rotate-keys'

# init as root gives the files to the workers' group when their user
# (default stripe-sync) exists; the tests of the plain 0600 file name
# ourselves, so that they do not depend on the machine's users.
ME=$(id -un)

# no_secret_in OUTPUT CONF: see test_no_secret in t/lib.sh.
no_secret_in() {
	test_no_secret "$1" "$2"
}

# --- usage -------------------------------------------------------------------

test_expect_success '--help exits 0 and lists every command on stdout' '
	stripe-syncctl --help >out 2>err &&
	for c in $commands; do test_grep "$c" out || return 1; done &&
	test_grep "usage:" out &&
	! test -s err
'

test_expect_success '-h is the same as --help' '
	stripe-syncctl --help >want &&
	stripe-syncctl -h >got &&
	test_cmp want got
'

test_expect_success '-V prints the version' '
	stripe-syncctl -V >out &&
	test_grep "^stripe-syncctl .*[0-9]\.[0-9]" out
'

for c in $commands; do
	test_expect_success "$c --help exits 0 and names the command" "
		stripe-syncctl $c --help >out 2>err &&
		test_grep 'usage: stripe-syncctl .*$c' out &&
		! test -s err
	"
	test_expect_success "$c -h exits 0 without any configuration" "
		STRIPE_SYNC_CONF=\$PWD/nosuch.conf stripe-syncctl $c -h >out &&
		test_grep '$c' out
	"
done

test_expect_success 'rotate-keys --help explains the rotation steps' '
	stripe-syncctl rotate-keys --help >out &&
	test_grep "old_master_keys" out &&
	test_grep "master_key" out &&
	test_grep "reload" out
'

test_expect_success 'no command exits 2 with usage on stderr' '
	test_exit_code 2 stripe-syncctl >out 2>err &&
	test_grep "usage:" err &&
	! test -s out
'

test_expect_success 'unknown command exits 2 with usage on stderr' '
	test_exit_code 2 stripe-syncctl frobnicate >out 2>err &&
	test_grep "frobnicate" err &&
	test_grep "usage:" err &&
	! test -s out
'

test_expect_success 'unknown global option exits 2' '
	test_exit_code 2 stripe-syncctl --bogus installs 2>err &&
	test_grep "usage:" err
'

test_expect_success '-c without a file name exits 2' '
	test_exit_code 2 stripe-syncctl -c 2>err
'

test_expect_success 'unknown command option exits 2 with the command usage' '
	test_exit_code 2 stripe-syncctl installs --bogus 2>err &&
	test_grep "usage: stripe-syncctl .*installs" err
'

test_expect_success 'check-config takes no arguments (exit 2)' '
	test_exit_code 2 stripe-syncctl check-config extra 2>err &&
	test_grep "usage:" err
'

test_expect_success 'install without an ID exits 2' '
	test_exit_code 2 stripe-syncctl install 2>err &&
	test_grep "usage:" err
'

test_expect_success 'install with two IDs exits 2' '
	test_exit_code 2 stripe-syncctl install a b 2>err
'

test_expect_success 'init with two files exits 2 and writes neither' '
	test_exit_code 2 stripe-syncctl init a.conf b.conf 2>err &&
	! test -e a.conf && ! test -e b.conf
'

# --- init --------------------------------------------------------------------

test_expect_success 'init writes the file mode 600 even under umask 022' '
	(umask 022 && stripe-syncctl init --user "$ME" --db "$TRASH/db.sqlite" \
		init.conf >init.out 2>init.err) &&
	test "$(stat -c %a init.conf)" = 600
'

test_expect_success 'init writes the file mode 600 even under umask 000' '
	(umask 000 && stripe-syncctl init --user "$ME" loose.conf >/dev/null) &&
	test "$(stat -c %a loose.conf)" = 600
'

test_expect_success 'init writes every required key once' '
	for k in master_key session_secret callback_secret portal_url db_path
	do
		test "$(grep -c "^$k *=" init.conf)" = 1 ||
		{ echo "$k not exactly once"; return 1; }
	done
'

test_expect_success 'init comments out the optional keys' '
	for k in cloud_api_url stripe_api_url session_ttl frame_ancestors \
		log_level
	do
		test_grep "^#$k *=" init.conf || return 1
	done
'

test_expect_success 'init master_key is base64 of 32 bytes' '
	test "$(test_config_get master_key init.conf | base64 -d | wc -c)" = 32
'

test_expect_success 'init session_secret is 48 url-safe characters' '
	test_config_get session_secret init.conf >s &&
	grep -Eqx "[A-Za-z0-9_-]{48}" s
'

test_expect_success 'init callback_secret is 48 url-safe characters' '
	test_config_get callback_secret init.conf >s &&
	grep -Eqx "[A-Za-z0-9_-]{48}" s
'

test_expect_success 'init secrets are three different values' '
	m=$(test_config_get master_key init.conf) &&
	s=$(test_config_get session_secret init.conf) &&
	c=$(test_config_get callback_secret init.conf) &&
	test "$m" != "$s" && test "$s" != "$c" && test "$m" != "$c"
'

test_expect_success 'init two runs give different secrets' '
	test "$(test_config_get master_key init.conf)" != \
		"$(test_config_get master_key loose.conf)" &&
	test "$(test_config_get callback_secret init.conf)" != \
		"$(test_config_get callback_secret loose.conf)"
'

test_expect_success 'init default portal_url is https://localhost/' '
	test "$(test_config_get portal_url init.conf)" = https://localhost/
'

test_expect_success 'init writes --db as db_path' '
	test "$(test_config_get db_path init.conf)" = "$TRASH/db.sqlite"
'

test_expect_success 'init prints the path and next steps' '
	test_grep "init.conf" init.out &&
	test_grep "migrate" init.out &&
	test_grep "/api/callback/<callback_secret>" init.out
'

test_expect_success 'init prints no secret' '
	cat init.out init.err >all &&
	no_secret_in all init.conf
'

test_expect_success 'init refuses to overwrite without --force (exit 1)' '
	cp init.conf before &&
	test_exit_code 1 stripe-syncctl init init.conf >out 2>err &&
	test_grep "force" err &&
	test_cmp before init.conf
'

test_expect_success 'init refuses a dangling symlink and creates nothing' '
	ln -s "$TRASH/target.conf" link.conf &&
	test_exit_code 1 stripe-syncctl init link.conf 2>err &&
	! test -e target.conf
'

test_expect_success 'init into a missing directory exits 1' '
	test_exit_code 1 stripe-syncctl init nosuchdir/x.conf 2>err &&
	test_grep "nosuchdir" err
'

test_expect_success 'init rejects a --portal-url with a newline (exit 2)' '
	test_exit_code 2 stripe-syncctl init \
		--portal-url "$(printf "https://a/\nmaster_key = x")" nl.conf &&
	! test -e nl.conf
'

test_expect_success 'init rejects an empty --db (exit 2)' '
	test_exit_code 2 stripe-syncctl init --db "" empty.conf &&
	! test -e empty.conf
'

test_expect_success 'init --force replaces the file with new secrets' '
	cp init.conf before &&
	chmod 644 init.conf &&
	stripe-syncctl init --user "$ME" --force --db "$TRASH/db.sqlite" \
		--portal-url https://portal.test/ init.conf >force.out 2>force.err &&
	test "$(stat -c %a init.conf)" = 600 &&
	for k in master_key session_secret callback_secret; do
		test "$(test_config_get $k before)" != \
			"$(test_config_get $k init.conf)" ||
		{ echo "$k unchanged"; return 1; }
	done
'

test_expect_success 'init --force writes --portal-url' '
	test "$(test_config_get portal_url init.conf)" = https://portal.test/
'

test_expect_success 'init --force leaves no temporary file behind' '
	! test -e init.conf.tmp
'

test_expect_success 'init --force prints neither the old nor the new secrets' '
	cat force.out force.err >all &&
	no_secret_in all init.conf &&
	no_secret_in all before
'

test_expect_success 'init options may follow the file name' '
	stripe-syncctl init late.conf --portal-url https://late.test/ \
		>/dev/null &&
	test "$(test_config_get portal_url late.conf)" = https://late.test/
'

test_expect_success 'init without a file writes to $STRIPE_SYNC_CONF' '
	STRIPE_SYNC_CONF="$TRASH/env.conf" stripe-syncctl init --user "$ME" >/dev/null &&
	test "$(stat -c %a env.conf)" = 600
'

test_expect_success 'init without a file writes to -c FILE' '
	stripe-syncctl -c "$TRASH/opt.conf" init >/dev/null &&
	test -s opt.conf
'

test_expect_success 'init --user with no such user exits 2 and writes nothing' '
	test_exit_code 2 stripe-syncctl init --user no-such-user-here nouser.conf 2>err &&
	test_grep "no-such-user-here: no such user" err &&
	! test -e nouser.conf
'

test_expect_success 'init prints migrate and doctor run as the workers'"'"' user' '
	me=$(id -un) &&
	stripe-syncctl init --user "$me" me.conf >out &&
	test_grep "^  [0-9]\. stripe-syncctl -c me.conf migrate$" out &&
	if [ "$me" != nobody ] && id nobody >/dev/null 2>&1; then
		stripe-syncctl init --user nobody nb0.conf >out &&
		test_grep_F ". runuser -u nobody -- stripe-syncctl -c nb0.conf migrate" out &&
		test_grep_F ". runuser -u nobody -- stripe-syncctl -c nb0.conf doctor" out
	fi
'

test_expect_success 'init --secrets-dir: one file per secret, named by the configuration' '
	stripe-syncctl init --secrets-dir sec --db "$TRASH/db.sqlite" sd.conf >out &&
	for k in master_key session_secret callback_secret; do
		test "$(test_config_get ${k}_file sd.conf)" = "$TRASH/sec/$k" &&
		! grep -q "^$k *=" sd.conf &&
		test -s "sec/$k" || return 1
	done &&
	test "$(base64 -d <sec/master_key | wc -c)" = 32 &&
	grep -Eqx "[A-Za-z0-9_-]{48}" sec/callback_secret &&
	test_grep_F "$TRASH/sec/callback_secret (it is not printed here" out &&
	sed -i "s|^portal_url *=.*|portal_url = https://portal.test/|" sd.conf &&
	stripe-syncctl -c sd.conf check-config >/dev/null &&
	test "$(test_config_get old_master_keys_file sd.conf)" = "$TRASH/sec/old_master_keys" &&
	test "$(cat sec/old_master_keys)" = "" && test "$(stat -c %a sec/old_master_keys)" = 600 &&
	cat out >all && for k in master_key session_secret callback_secret; do
		! grep -F -e "$(cut -c1-12 sec/$k)" all || return 1
	done
'

test_expect_success 'init --secrets-dir refuses existing secret files without --force, and keeps them' '
	cp sec/master_key mk.before &&
	test_exit_code 1 stripe-syncctl init --secrets-dir sec sd2.conf 2>err &&
	test_grep "force" err && test_cmp mk.before sec/master_key && ! test -e sd2.conf &&
	stripe-syncctl init --force --secrets-dir sec sd.conf >/dev/null &&
	! test_cmp mk.before sec/master_key >/dev/null && ! test -e sec/master_key.tmp
'

if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	NG=$(id -gn nobody)
	test_expect_success 'init as root for workers that run as nobody: root'"'"'s files, 0640, their group' '
		stripe-syncctl init --user nobody --secrets-dir nbsec --db "$TRASH/nb/db.sqlite" nb.conf >nb.out &&
		test "$(stat -c "%a %U:%G" nb.conf)" = "640 root:$NG" &&
		test "$(stat -c "%a %U:%G" nbsec)" = "750 root:$NG" &&
		for k in master_key session_secret callback_secret; do
			test "$(stat -c "%a %U:%G" nbsec/$k)" = "640 root:$NG" || return 1
		done &&
		test_grep_F "(mode 0640, group $NG)" nb.out
	'

	test_expect_success 'its next steps, run as printed, give a database the workers own; doctor agrees' '
		sed -i "s|^portal_url *=.*|portal_url = https://portal.test/|" nb.conf &&
		sed -n -e "s/^       \(install -d .*\)$/\1/p" \
			-e "s/^  [0-9]*\. \(runuser .* migrate\)$/\1/p" nb.out >steps &&
		test "$(wc -l <steps)" = 2 &&
		sh -e steps >/dev/null &&
		test "$(stat -c "%a %U" nb/db.sqlite)" = "600 nobody" &&
		test "$(stat -c "%a %U" nb)" = "700 nobody" &&
		stripe-syncctl -c nb.conf doctor >doc || true &&
		test_grep_F "ok    workers'"'"' user nobody, group $NG (the owner of the database directory" doc &&
		test_grep "^ok    database $TRASH/nb/db.sqlite mode 0600 owner nobody:" doc &&
		test_grep ! "^FAIL  \(config\|database\|workers\|.*secret_file\)" doc
	'
fi

test_expect_success 'check-config accepts the init file with portal_url set' '
	sed -i "s|^portal_url *=.*|portal_url = https://portal.test/|" \
		init.conf &&
	stripe-syncctl -c init.conf check-config >out 2>err &&
	test_grep "^configuration OK: .*init.conf" out &&
	no_secret_in out init.conf && no_secret_in err init.conf
'

# --- commands on a database ----------------------------------------------------

test_expect_success 'installs on an unmigrated database exits 5' '
	test_exit_code 5 stripe-syncctl -c init.conf installs >out 2>err &&
	test_grep "migrate" err &&
	! test -s out
'

test_expect_success 'rotate-keys on an unmigrated database exits 5' '
	test_exit_code 5 stripe-syncctl -c init.conf rotate-keys 2>err
'

test_expect_success 'install on an unmigrated database exits 5' '
	test_exit_code 5 stripe-syncctl -c init.conf install x 2>err
'

test_expect_success 'migrate the init database' '
	stripe-syncctl -c init.conf migrate >out &&
	test_grep "schema version" out
'

test_expect_success 'installs on an empty database prints only the header' '
	stripe-syncctl -c init.conf installs >out &&
	echo "INSTALLED_APP_ID  INSTANCE_ID  STATUS  KEY_PREFIX  SCOPES  INSTALLED_AT  UNINSTALLED_AT" >want &&
	test_cmp want out
'

test_expect_success 'installs --json on an empty database prints []' '
	stripe-syncctl -c init.conf installs --json >out &&
	jq -e "type == \"array\" and length == 0" out
'

test_expect_success 'install nosuch exits 4 and says so' '
	test_exit_code 4 stripe-syncctl -c init.conf install nosuch >out 2>err &&
	test_grep "no install nosuch" err &&
	! test -s out
'

test_expect_success 'install --json nosuch exits 4' '
	test_exit_code 4 stripe-syncctl -c init.conf install --json nosuch
'

test_expect_success 'rotate-keys on an empty database re-seals 0' '
	stripe-syncctl -c init.conf rotate-keys >out 2>err &&
	test_grep "^re-sealed 0 secrets under key [0-9a-f]\{8\}$" out
'

test_expect_success 'rotate-keys prints no secret' '
	cat out err >all &&
	no_secret_in all init.conf
'

# Two installs written straight into the schema of sql/001-installs.sql:
# one active with a (fake, unopenable) sealed key, one uninstalled.
installs_sql="
INSERT INTO installs (installed_app_id, app_id, instance_id, api_key_prefix,
    api_key_sealed, api_key_kid, granted_permissions, status, generation,
    install_event, installed_at, updated_at)
  VALUES ('instapp_a', 'app_1', 'inst_1', 'blnk_abc', x'00112233', 'deadbeef',
    '[\"data:read\",\"data:write\"]', 'active', 1, 'install:instapp_a',
    '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z');
INSERT INTO installs (installed_app_id, app_id, instance_id, api_key_prefix,
    granted_permissions, status, generation, install_event, installed_at,
    uninstalled_at, updated_at)
  VALUES ('instapp_bb', 'app_1', 'inst_22', 'blnk_xyz', '[]', 'inactive', 3,
    'install:instapp_bb', '2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z',
    '2026-01-03T00:00:00Z');
"

test_expect_success 'setup: two installs in the database' '
	sqlite3 "$TRASH/db.sqlite" "$installs_sql"
'

test_expect_success 'installs prints the header and one line per install' '
	stripe-syncctl -c init.conf installs >out &&
	test "$(wc -l <out)" = 3 &&
	sed -n 2p out | grep "^instapp_a " &&
	sed -n 3p out | grep "^instapp_bb "
'

test_expect_success 'installs shows status, prefix, scopes and times' '
	grep "^instapp_a  *inst_1  *active  *blnk_abc  *data:read,data:write  *2026-01-01T00:00:00Z  *-$" out &&
	grep "^instapp_bb  *inst_22  *inactive  *blnk_xyz  *-  *2026-01-02T00:00:00Z  *2026-01-03T00:00:00Z$" out
'

test_expect_success 'installs aligns the columns' '
	h=$(sed -n 1p out | awk "{ print index(\$0, \"KEY_PREFIX\") }") &&
	a=$(sed -n 2p out | awk "{ print index(\$0, \"blnk_abc\") }") &&
	b=$(sed -n 3p out | awk "{ print index(\$0, \"blnk_xyz\") }") &&
	test "$h" -gt 0 && test "$h" = "$a" && test "$h" = "$b"
'

test_expect_success 'installs --json has generation and has_key and no key' '
	stripe-syncctl -c init.conf installs --json >out &&
	jq -e "length == 2" out &&
	jq -e ".[0].installed_app_id == \"instapp_a\" and .[0].has_key == true and .[0].generation == 1" out &&
	jq -e ".[1].has_key == false and .[1].generation == 3 and .[1].status == \"inactive\"" out &&
	jq -e ".[0].uninstalled_at == null and .[1].uninstalled_at == \"2026-01-03T00:00:00Z\"" out &&
	jq -e "[.[] | has(\"api_key\") or has(\"api_key_sealed\")] | any | not" out
'

test_expect_success 'install ID prints field: value lines' '
	stripe-syncctl -c init.conf install instapp_bb >out &&
	test_grep "^installed_app_id: instapp_bb$" out &&
	test_grep "^instance_id: inst_22$" out &&
	test_grep "^status: inactive$" out &&
	test_grep "^api_key_prefix: blnk_xyz$" out &&
	test_grep "^uninstalled_at: 2026-01-03T00:00:00Z$" out
'

test_expect_success 'install ID (options after the ID) --json prints one object' '
	stripe-syncctl -c init.conf install instapp_a --json >out &&
	jq -e ".installed_app_id == \"instapp_a\" and .granted_permissions == [\"data:read\", \"data:write\"] and .has_key == true" out
'

test_expect_success 'rotate-keys with a seal that does not open exits 1 and changes nothing' '
	sqlite3 "$TRASH/db.sqlite" "SELECT hex(api_key_sealed), api_key_kid FROM installs" >before &&
	test_exit_code 1 stripe-syncctl -c init.conf rotate-keys >out 2>err &&
	sqlite3 "$TRASH/db.sqlite" "SELECT hex(api_key_sealed), api_key_kid FROM installs" >after &&
	test_cmp before after &&
	test_grep "^before: .*(NOT IN THIS CONFIGURATION)" out &&
	test_grep ! "^re-sealed\|^after:" out &&
	test_grep "nothing changed" err
'

# --- the configuration is checked before anything else --------------------------

test_expect_success 'installs with an invalid configuration exits 3' '
	test_write_config bad.conf &&
	sed -i -e "/^master_key/d" \
		-e "s|^db_path *=.*|db_path = $TRASH/bad.sqlite|" bad.conf &&
	test_exit_code 3 stripe-syncctl -c bad.conf installs 2>err &&
	test_grep "^stripe-syncctl: configuration: .*master_key" err
'

test_expect_success 'migrate with an invalid configuration exits 3 and creates no database' '
	test_exit_code 3 stripe-syncctl -c bad.conf migrate 2>err &&
	! test -e bad.sqlite
'

test_expect_success 'rotate-keys with an invalid configuration exits 3' '
	test_exit_code 3 stripe-syncctl -c bad.conf rotate-keys 2>err
'

test_expect_success 'a missing -c file exits 3' '
	test_exit_code 3 stripe-syncctl -c "$TRASH/nosuch.conf" installs 2>err &&
	test_grep "configuration" err
'

test_done
