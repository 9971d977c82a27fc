#!/bin/sh
test_description='the sandbox: forbidden calls are refused, logged with sandbox = log, and the real work still runs'
. "$top_srcdir/t/lib.sh"

PROBE="$top_builddir/t/sandbox-probe"
[ -x "$PROBE" ] || skip_all "t/sandbox-probe is not built (make check builds it)"
"$PROBE" --features > features || exit 99
grep -q "^sanitizers yes" features &&
	skip_all "sanitizer build: the sandbox keeps only no-new-privileges"
grep -q "^seccomp yes" features ||
	skip_all "built without libseccomp (Debian package: libseccomp-dev)"
grep -q "^landlock 0" features &&
	test_diag "this kernel has no Landlock: file rules are not checked"
LANDLOCK=$(sed -n 's/^landlock //p' features)

# The database in a directory of its own, so that "outside" is near;
# probe_conf [LINE...] writes the probe's configuration.
probe_conf() {
	test_write_config probe.conf "$@" &&
	sed -i "s#^db_path = .*#db_path = $TRASH/data/db.sqlite#" probe.conf
}
test_expect_success_here 'setup: a migrated database in its own directory' '
	mkdir data &&
	probe_conf &&
	stripe-syncctl --config probe.conf migrate >/dev/null &&
	echo secret > outside-read
'

# probe EXPECTED_STATUS CALL...: run the probe; its output in out.
probe() {
	_want=$1; shift
	: > app.log
	"$PROBE" -c probe.conf "$@" > out 2>err
	_rc=$?
	[ "$_rc" = "$_want" ] && return 0
	echo "probe $* exited $_rc, want $_want:"; cat out err app.log; return 1
}

for call in exec fork listen bind ptrace mmap-exec; do
	test_expect_success "sandbox = on: $call is refused and kills the process (SIGSYS)" '
		probe 159 $call &&
		test_grep "sandbox: on (seccomp, [0-9]* system calls allowed to the worker" app.log &&
		test_grep "error: sandbox: forbidden system call [0-9]* (.*): killing the process (sandbox = on)" app.log &&
		test_grep ! "^$call: " out
	'
done

test_expect_success 'the call named is the one made: execve, listen' '
	probe 159 exec && test_grep "forbidden system call 59 (execve)" app.log &&
	probe 159 listen && test_grep "forbidden system call [0-9]* (listen)" app.log
'

test_expect_success 'the job runner and the supervisor may not exec either' '
	: > app.log && test_exit_code 159 "$PROBE" -c probe.conf -r runner exec >out &&
	test_grep "allowed to the runner" app.log &&
	: > app.log && test_exit_code 159 "$PROBE" -c probe.conf -r supervisor exec >out &&
	test_grep "allowed to the supervisor" app.log
'

test_expect_success 'the supervisor may fork (its workers), a worker may not' '
	: > app.log && "$PROBE" -c probe.conf -r supervisor fork > out &&
	test_grep "^fork: ok" out
'

test_expect_success 'an AF_UNIX socket is refused without a kill (glibc probes fall back)' '
	probe 0 unix && test_grep "^unix: refused: Address family not supported" out
'

if [ "$LANDLOCK" != 0 ]; then
	test_expect_success 'files outside the database directory cannot be written or read' '
		probe 0 write-outside "$TRASH/outside-write" read-outside "$TRASH/outside-read" &&
		test_grep "^write-outside: refused: Permission denied" out &&
		test_grep "^read-outside: refused: Permission denied" out &&
		! test -e "$TRASH/outside-write" &&
		test_grep "landlock ABI [0-9]*: files written only in $TRASH/data" app.log
	'

	test_expect_success 'the supervisor has no Landlock (a reload may name another database)' '
		: > app.log && "$PROBE" -c probe.conf -r supervisor write-outside "$TRASH/sup-write" > out &&
		test_grep "^write-outside: ok" out &&
		test_grep "no landlock for the supervisor" app.log
	'
fi

test_expect_success 'allowed: a write transaction, a file in the database directory, name resolution' '
	probe 0 db write-dbdir resolve localhost &&
	test_grep "^db: ok" out && test_grep "^write-dbdir: ok" out &&
	test_grep "^resolve: ok" out &&
	test_grep ! "forbidden" app.log
'

test_expect_success 'sandbox = log: the same calls are logged, fail with EPERM, and the process goes on' '
	probe_conf "sandbox = log" &&
	probe 0 exec listen fork mmap-exec db &&
	test_grep "sandbox: log (seccomp" app.log &&
	for c in exec listen fork mmap-exec; do
		test_grep "^$c: refused: Operation not permitted" out || return 1
	done &&
	test_grep "warn: sandbox: forbidden system call 59 (execve): refused with EPERM (sandbox = log)" app.log &&
	test_grep "forbidden system call [0-9]* (listen): refused" app.log &&
	test_grep "forbidden system call [0-9]* (clone): refused" app.log &&
	test_grep "^db: ok" out
'

test_expect_success 'sandbox = off: no-new-privileges only, and said so' '
	probe_conf "sandbox = off" &&
	probe 0 fork && test_grep "^fork: ok" out &&
	test_grep "sandbox: off (sandbox = off): no-new-privileges only" app.log
'

test_expect_success 'a bad value is refused, naming the key' '
	test_exit_code 3 env STRIPE_SYNC_SANDBOX=yes stripe-syncd --config probe.conf --check 2>err &&
	test_grep "sandbox: must be on, log or off" err
'

# --- the real binaries, the whole stack, the sandbox on (the default) ----
. "$top_srcdir/t/stack.sh"
. "$top_srcdir/t/sync.sh"

test_expect_success_here 'the stack starts with the sandbox on in every worker, the supervisor and stripe-syncd' '
	sync_setup 2 &&
	test_grep ! "^sandbox" "$CONF" &&
	test "$(grep -c "stripe-sync.fcgi.*sandbox: on (seccomp, [0-9]* system calls allowed to the worker" "$LOGS/app.log")" -ge 2 &&
	test_grep "stripe-sync.fcgi.*sandbox: on (seccomp, [0-9]* system calls allowed to the supervisor" "$LOGS/app.log" &&
	test_grep "stripe-syncd.*sandbox: on (seccomp, [0-9]* system calls allowed to the runner" "$LOGS/app.log"
'

# no_sandbox_trouble: no call was trapped, no worker died.
no_sandbox_trouble() {
	! grep -e "forbidden system call" -e "killed by signal" -e "Permission denied" "$LOGS/app.log"
}

test_expect_success 'install callback, launch, context, a proxied read, with the sandbox on' '
	stripe-syncctl -c "$CONF" install "$ID" --json > inst.json &&
	test "$(jq -r .status inst.json)" = active &&
	api GET /api/v1/context && want 200 &&
	test "$(jq -r .installed_app_id api.json)" = "$ID" &&
	api GET /api/v1/ledgers && want 200 &&
	no_sandbox_trouble
'

test_expect_success 'a sync with Stripe and Cloud calls completes in the sandboxed stripe-syncd' '
	sync_now && sync_wait || { run_show; false; } &&
	test "$(jq -r .status run.json)" = completed || { run_show; false; } &&
	sync_verify &&
	no_sandbox_trouble
'

test_expect_success 'cloud_api_url by name (localhost): workers and stripe-syncd resolve it after a reload' '
	port=${SIM##*:} &&
	sed -i "s#^cloud_api_url = .*#cloud_api_url = http://localhost:$port#" "$CONF" &&
	r=$(grep -c "reload done" "$LOGS/app.log" || true) &&
	kill -HUP "$(cat "$STACK/s/pids/pool.pid")" &&
	n=0 && while [ "$(grep -c "reload done" "$LOGS/app.log")" -le "$r" ]; do
		n=$((n + 1)); [ $n -lt 1000 ] || { tail "$LOGS/app.log"; false; } || return 1; sleep 0.02
	done &&
	conf_set sync_patience 300 &&
	sim POST /_sim/launch "{\"installed_app_id\":\"$ID\"}" && test "$SIM_STATUS" = 200 &&
	TOK=$(jq -r .portal_url sim.json | sed "s/.*token=//") &&
	api GET /api/v1/ledgers && want 200 &&
	sync_now && sync_wait && test "$(jq -r .status run.json)" = completed &&
	no_sandbox_trouble
'

test_expect_success 'TLS with the ca_file under the sandbox: the probe fetches the app over https' '
	probe_conf "ca_file = $CA" &&
	probe 0 fetch "$APP/api/health" &&
	test_grep "^fetch: ok 200" out &&
	test_grep ! "forbidden" app.log
'

test_expect_success 'the pool is still the one it started with: no worker died' '
	test_grep ! "killed by signal" "$LOGS/app.log" &&
	test_grep ! "forbidden system call" "$LOGS/app.log"
'

test_done
