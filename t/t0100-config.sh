#!/bin/sh
test_description='configuration: loading, validation, environment, _file keys'
. "$top_srcdir/t/lib.sh"

# set_key FILE KEY VALUE: replace every KEY line of FILE with "KEY = VALUE"
# (kept mode 600: a loader may refuse a configuration others can read).
set_key() {
	grep -v "^$2[ 	]*=" "$1" > "$1.new"
	echo "$2 = $3" >> "$1.new"
	mv "$1.new" "$1" && chmod 600 "$1"
}

# set_key_in KEY VALUE FILE: set_key with the file last, for the table.
set_key_in() {
	set_key "$3" "$1" "$2"
}

# no_secret_in OUTPUT CONF: see test_no_secret; the misspelt sesion_secret
# counts as a secret too.
no_secret_in() {
	test_no_secret "$1" "$2" sesion_secret
}

# --- good configurations -------------------------------------------------------

test_expect_success 'check-config accepts a good config' '
	test_write_config &&
	stripe-syncctl -c stripe-sync.conf check-config >out 2>err &&
	test_grep "^configuration OK: .*stripe-sync.conf" out
'

test_expect_success 'check-config on a good config prints no secret' '
	stripe-syncctl -c stripe-sync.conf check-config >out 2>err &&
	cat out err >all &&
	no_secret_in all stripe-sync.conf
'

test_expect_success 'check-config finds the file through STRIPE_SYNC_CONF' '
	STRIPE_SYNC_CONF="$TRASH/stripe-sync.conf" \
		stripe-syncctl check-config >out &&
	test_grep "^configuration OK: .*stripe-sync.conf" out
'

test_expect_success '-c wins over STRIPE_SYNC_CONF' '
	STRIPE_SYNC_CONF="$TRASH/nosuch.conf" \
		stripe-syncctl -c stripe-sync.conf check-config >out &&
	test_grep "^configuration OK: .*stripe-sync.conf" out
'

test_expect_success 'a missing -c file exits 3' '
	test_exit_code 3 stripe-syncctl -c "$TRASH/nosuch.conf" check-config \
		>out 2>err &&
	test_grep "^stripe-syncctl: configuration: " err &&
	! test -s out
'

test_expect_success 'a missing $STRIPE_SYNC_CONF file exits 3' '
	STRIPE_SYNC_CONF="$TRASH/nosuch.conf" &&
	export STRIPE_SYNC_CONF &&
	test_exit_code 3 stripe-syncctl check-config 2>err &&
	test_grep "^stripe-syncctl: configuration: " err
'

test_expect_success 'a missing -c file is named as such, not as a missing key' '
	test_exit_code 3 stripe-syncctl -c "$TRASH/nosuch.conf" check-config 2>err &&
	test_grep_F "configuration: no configuration: $TRASH/nosuch.conf does not exist (searched: -c/--config: $TRASH/nosuch.conf)" err &&
	test_grep ! "master_key" err
'

test_expect_success 'so is a missing $STRIPE_SYNC_CONF file, by all three binaries' '
	for b in "stripe-syncctl check-config" "stripe-syncd --check" stripe-sync.fcgi; do
		test_exit_code 3 env STRIPE_SYNC_CONF="$TRASH/nosuch.conf" $b 2>err </dev/null &&
		test_grep_F "configuration: no configuration: $TRASH/nosuch.conf does not exist (searched: \$STRIPE_SYNC_CONF: $TRASH/nosuch.conf)" err || return 1
	done
'

# The compiled-in default, which may exist on this machine: only testable
# where it does not.
DEFAULT_CONF=$(env -u STRIPE_SYNC_CONF stripe-syncctl --help |
	sed -n 's/^configuration file now: //p')
if [ -n "$DEFAULT_CONF" ] && ! [ -e "$DEFAULT_CONF" ]; then
	test_expect_success 'no file and no environment: "no configuration", naming every place searched' '
		for b in "stripe-syncctl check-config" "stripe-syncd --check" stripe-sync.fcgi; do
			test_exit_code 3 $b 2>err </dev/null &&
			test_grep_F "configuration: no configuration: $DEFAULT_CONF does not exist (searched: -c/--config: not given; \$STRIPE_SYNC_CONF: not set; default: $DEFAULT_CONF) and no STRIPE_SYNC_* variable is set" err &&
			test_grep ! "master_key" err || return 1
		done
	'

	test_expect_success 'no file, the whole configuration in the environment: accepted (containers)' '
		STRIPE_SYNC_DB_PATH="$TRASH/db.sqlite" \
		STRIPE_SYNC_MASTER_KEY="$(test_master_key)" \
		STRIPE_SYNC_SESSION_SECRET="$(test_secret)" \
		STRIPE_SYNC_CALLBACK_SECRET="$(test_secret)" \
		STRIPE_SYNC_PORTAL_URL=https://portal.test/ \
			stripe-syncctl check-config >out &&
		test_grep "^configuration OK" out
	'

	test_expect_success 'no file and a partial environment: the missing key is named' '
		test_exit_code 3 env STRIPE_SYNC_MASTER_KEY="$(test_master_key)" \
			stripe-syncctl check-config 2>err &&
		test_grep "session_secret: missing" err
	'
fi

test_expect_success 'env override STRIPE_SYNC_SESSION_TTL=300 is accepted' '
	STRIPE_SYNC_SESSION_TTL=300 \
		stripe-syncctl -c stripe-sync.conf check-config >out &&
	test_grep "configuration OK" out
'

test_expect_success 'env override STRIPE_SYNC_SESSION_TTL=1000 is rejected (the environment is read)' '
	test_exit_code 3 env STRIPE_SYNC_SESSION_TTL=1000 \
		stripe-syncctl -c stripe-sync.conf check-config 2>err &&
	test_grep "session_ttl" err
'

test_expect_success 'env STRIPE_SYNC_MASTER_KEY fills a key missing from the file' '
	test_write_config nokey.conf &&
	sed -i "/^master_key/d" nokey.conf &&
	STRIPE_SYNC_MASTER_KEY=$(test_master_key) \
		stripe-syncctl -c nokey.conf check-config >out &&
	test_grep "configuration OK" out
'

test_expect_success 'master_key_file works' '
	test_write_config keyfile.conf &&
	test_config_get master_key keyfile.conf >master.key &&
	chmod 600 master.key &&
	sed -i "/^master_key/d" keyfile.conf &&
	echo "master_key_file = $TRASH/master.key" >>keyfile.conf &&
	stripe-syncctl -c keyfile.conf check-config >out &&
	test_grep "configuration OK" out
'

test_expect_success 'master_key_file naming a missing file exits 3 naming the key' '
	test_write_config nofile.conf &&
	sed -i "/^master_key/d" nofile.conf &&
	echo "master_key_file = $TRASH/nosuch.key" >>nofile.conf &&
	test_exit_code 3 stripe-syncctl -c nofile.conf check-config 2>err &&
	test_grep "master_key" err
'

test_expect_success 'both master_key and master_key_file exit 3 naming the key' '
	test_write_config both.conf &&
	echo "master_key_file = $TRASH/master.key" >>both.conf &&
	test_exit_code 3 stripe-syncctl -c both.conf check-config 2>err &&
	test_grep "master_key" err &&
	no_secret_in err both.conf
'

# --- bad configurations, one per line: name | key named | how to break it ----
#
# Each gives two tests: exit 3 with a message naming the key, and no secret
# value (from anywhere in the file) in that message.

n=0
while IFS='|' read -r name key how; do
	n=$((n + 1))
	test_expect_success "check-config rejects $name (exit 3, names $key)" "
		test_write_config bad$n.conf &&
		$how bad$n.conf &&
		test_exit_code 3 stripe-syncctl -c bad$n.conf check-config \
			>out$n 2>err$n &&
		test_grep '^stripe-syncctl: configuration: .*$key' err$n &&
		! test -s out$n
	"
	test_expect_success "check-config rejects $name without printing a secret" "
		cat out$n err$n >all$n &&
		no_secret_in all$n bad$n.conf
	"
done <<'EOF'
missing master_key|master_key|sed -i '/^master_key/d'
missing session_secret|session_secret|sed -i '/^session_secret/d'
missing callback_secret|callback_secret|sed -i '/^callback_secret/d'
master_key of 16 bytes|master_key|set_key_in master_key "$(head -c 16 /dev/urandom | base64)"
master_key not base64|master_key|set_key_in master_key 'not*base64!this-is-no-key-xyzzy-0123456789abcdefg'
session_secret of 31 bytes|session_secret|set_key_in session_secret "$(test_secret | cut -c1-31)"
http cloud_api_url to a non-loopback host|cloud_api_url|set_key_in cloud_api_url http://cloud.example.com/
unknown key sesion_secret|sesion_secret|set_key_in sesion_secret "$(test_secret)"
session_ttl 1000|session_ttl|set_key_in session_ttl 1000
EOF

test_expect_success 'unknown env STRIPE_SYNC_MASTER_KY exits 3 naming it' '
	v=$(test_master_key) &&
	test_exit_code 3 env STRIPE_SYNC_MASTER_KY="$v" \
		stripe-syncctl -c stripe-sync.conf check-config >out 2>err &&
	grep -i "master_ky" err &&
	! grep -F -e "$v" err &&
	no_secret_in err stripe-sync.conf
'

# --- the other binaries refuse a bad configuration the same way -----------------

test_expect_success 'setup: a config with a 16-byte master_key' '
	test_write_config short.conf &&
	set_key short.conf master_key "$(head -c 16 /dev/urandom | base64)"
'

test_expect_success 'stripe-sync.fcgi --config with a bad config exits 3 naming the key' '
	test_exit_code 3 stripe-sync.fcgi --config short.conf >out 2>err &&
	test_grep "master_key" err
'

test_expect_success 'stripe-sync.fcgi prints no secret of the bad config' '
	cat out err >all &&
	no_secret_in all short.conf
'

test_expect_success 'stripe-syncd --config with a bad config exits 3 naming the key' '
	test_exit_code 3 stripe-syncd --config short.conf >out 2>err &&
	test_grep "master_key" err
'

test_expect_success 'stripe-syncd prints no secret of the bad config' '
	cat out err >all &&
	no_secret_in all short.conf
'

test_expect_success 'stripe-syncd -c with a config missing session_secret exits 3' '
	test_write_config nosess.conf &&
	sed -i "/^session_secret/d" nosess.conf &&
	test_exit_code 3 stripe-syncd -c nosess.conf >out 2>err &&
	test_grep "session_secret" err
'

# --- a log_file that is a symbolic link -----------------------------------
# The binaries open log_file with O_NOFOLLOW (a root-run tool must not
# append through a link someone planted): they say so, log to standard
# error instead and leave the link's target alone.

test_expect_success 'setup: a log_file that is a link to a file worth keeping' '
	echo "not a log: keep me" >precious && cp precious precious.orig &&
	ln -s "$TRASH/precious" link.log &&
	test_write_config link.conf && sed -i "/^log_file/d" link.conf &&
	sed -i "s#^db_path = .*#db_path = $TRASH/link.sqlite#" link.conf &&
	echo "log_file = $TRASH/link.log" >>link.conf
'

# link_refused ERR: ERR says the link was not opened, and the link and its
# target are as they were.
link_refused() {
	test_grep "warn: cannot open log_file \"$TRASH/link.log\": Too many levels of symbolic links; logging to standard error" "$1" &&
	test -L link.log && test_cmp precious.orig precious
}

test_expect_success 'stripe-syncctl check-config: the link is refused, its target untouched' '
	stripe-syncctl -c link.conf check-config >out 2>err &&
	test_grep "^configuration OK" out &&
	link_refused err
'

test_expect_success 'stripe-syncctl migrate (which logs what it applied) writes nothing through the link' '
	stripe-syncctl -c link.conf migrate >out 2>err &&
	test_grep "schema version" out &&
	link_refused err
'

test_expect_success 'stripe-sync.fcgi logs its refusal to start to standard error, not through the link' '
	test_exit_code 1 stripe-sync.fcgi -c link.conf </dev/null >out 2>err &&
	test_grep "stripe-sync.fcgi\[[0-9]*\] error: standard input is not a listening socket" err &&
	link_refused err
'

test_expect_success 'a dangling log_file link is refused and nothing is created at its target' '
	ln -s "$TRASH/nosuch-dir-or-file" dangling.log &&
	sed "s#^log_file = .*#log_file = $TRASH/dangling.log#" link.conf >dangling.conf &&
	chmod 600 dangling.conf &&
	stripe-syncctl -c dangling.conf migrate >out 2>err &&
	test_grep "cannot open log_file \"$TRASH/dangling.log\": Too many levels of symbolic links" err &&
	! test -e "$TRASH/nosuch-dir-or-file"
'

test_done
