#!/bin/sh
test_description='workers and the job runner refuse root, leave no core, and cannot be traced'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fcgi.sh"

test_expect_success_here 'setup: a config without allow_root and a migrated database' '
	fcgi_setup &&
	sed "/^allow_root/d" "$CONF" > noroot.conf && chmod 600 noroot.conf &&
	test_grep ! allow_root noroot.conf
'

if [ "$(id -u)" = 0 ]; then
	test_expect_success 'as root, a worker refuses to serve, naming -u/-g and allow_root' '
		before=$(sql "SELECT count(*) FROM installs; PRAGMA user_version") &&
		test_exit_code 1 stripe-sync.fcgi --config noroot.conf </dev/null 2>err &&
		test_grep "refusing to run as root" err &&
		test_grep "spawn-fcgi -u USER -g GROUP" err &&
		test_grep "allow_root = yes" err &&
		test_grep "refusing to run as root" app.log &&
		test_grep ! "worker ready" app.log &&
		test "$(sql "SELECT count(*) FROM installs; PRAGMA user_version")" = "$before"
	'

	test_expect_success 'so does the supervisor, before forking any worker' '
		: > app.log &&
		test_exit_code 1 stripe-sync.fcgi --config noroot.conf --workers 2 </dev/null 2>err &&
		test_grep "refusing to run as root" err &&
		test_grep ! "supervising" app.log
	'

	test_expect_success 'and so does stripe-syncd' '
		test_exit_code 1 stripe-syncd --config noroot.conf 2>err &&
		test_grep "refusing to run as root: start stripe-syncd" err
	'

	test_expect_success 'allow_root = yes (file or environment) is the way out, and is logged' '
		: > app.log &&
		stripe-syncd --config "$CONF" --check >out 2>&1 &&
		test_grep "running as root because allow_root = yes" app.log &&
		STRIPE_SYNC_ALLOW_ROOT=yes stripe-syncd --config noroot.conf --check >out 2>&1
	'
fi

test_expect_success 'allow_root takes yes or no, nothing else' '
	test_exit_code 3 env STRIPE_SYNC_ALLOW_ROOT=1 stripe-syncd --config noroot.conf --check 2>err &&
	test_grep "allow_root: must be yes or no" err
'

# The limits of a running worker: the pool runs as nobody when we are root,
# so that /proc tells a process that made itself undumpable (its /proc
# files then belong to root) from one that did not.
if [ "$(id -u)" = 0 ]; then
	id nobody >/dev/null 2>&1 || skip_all "no user nobody"
	D=$(mktemp -d /tmp/sshard.XXXXXX) || exit 99
	test_at_exit 'rm -rf "$D"'
	chmod 755 "$D"
fi

# The pool runs in a process group of its own (setsid): stop it whole.
POOL=
test_at_exit '[ -z "$POOL" ] || test_stop stripe-sync.fcgi -g $POOL'
test_expect_success_here 'a pool of workers starts' '
	if [ "$(id -u)" = 0 ]; then
		sed -e "s#^db_path = .*#db_path = $D/db.sqlite#" \
		    -e "s#^log_file = .*#log_file = $D/app.log#" "$CONF" > "$D/c.conf" &&
		cp db.sqlite "$D/db.sqlite" &&
		chown nobody "$D" "$D/c.conf" "$D/db.sqlite" || return 1
		setsid "$SPAWN_FCGI" -n -s "$FCGI_SOCK" -u nobody -g "$(id -gn nobody)" -- \
			"$top_builddir/stripe-sync.fcgi" --config "$D/c.conf" --workers 2 \
			>>spawn.log 2>&1 &
		echo $! > "$FCGI_PIDS"
		POOL=$!
		WLOG=$D/app.log
	else
		setsid "$SPAWN_FCGI" -n -s "$FCGI_SOCK" -- "$top_builddir/stripe-sync.fcgi" \
			--config "$CONF" --workers 2 >>spawn.log 2>&1 &
		echo $! > "$FCGI_PIDS"
		POOL=$!
		WLOG=$TRASH/app.log
	fi &&
	n=0 && while [ "$(grep -c "worker ready" "$WLOG" 2>/dev/null)" -lt 2 ]; do
		n=$((n + 1)); [ $n -lt 1000 ] || { cat "$WLOG"; false; } || return 1; sleep 0.01
	done &&
	fcgi_req GET /api/health && expect_status 200 &&
	WORKERS=$(pgrep -P "$(cat "$FCGI_PIDS")") && test -n "$WORKERS"
'

test_expect_success 'workers and their supervisor may dump no core' '
	for p in $(cat "$FCGI_PIDS") $WORKERS; do
		grep "^Max core file size" /proc/$p/limits > lim &&
		test_grep "^Max core file size *0 *0 " lim || return 1
	done
'

if [ "${SANITIZERS:-no}" = yes ]; then
	test_diag "sanitizer build: workers stay dumpable (LeakSanitizer needs it)"
else
	test_expect_success 'workers are undumpable: their /proc files belong to root' '
		for p in $(cat "$FCGI_PIDS") $WORKERS; do
			test "$(stat -c %u /proc/$p/mem)" = 0 || return 1
			test "$(ps -o uid= -p $p | tr -d " ")" != 0 || test "$(id -u)" != 0 || return 1
		done
	'
fi

test_done
