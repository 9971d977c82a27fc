# t/stack.sh: the whole stack (nginx with the repo's site snippets, the
# supervised worker pool, stripe-syncd, the Cloud simulator) on loopback,
# started by tools/stack for one test file.  Source it after t/lib.sh.
#
#   stack_start [WORKERS]   start it; sets STACK (dir), APP (https origin),
#                           SIM (Cloud simulator), STRIPE (Stripe simulator),
#                           CA, CONF, SECRET; STACK_ARGS adds options
#                           (--stripe-count N, ...)
#   sim POST|GET PATH [JSON]  call the simulator's control API -> sim.json
#   https ARGS...           curl against the app, trusting the stack's CA
#   stack_stop              stop it (also run at exit)
#
# VALGRIND (make check-valgrind) reaches tools/stack through the
# environment: the workers and stripe-syncd run under it; VG_SCALE (1, or
# 20 under it) stretches the waits.

# tools/test runs the whole-stack tests in its two builds and skips them
# in the distcheck build, which checks the tarball, to keep CI short.
[ -z "${SKIP_STACK_TESTS:-}" ] ||
	skip_all "whole-stack tests skipped (SKIP_STACK_TESTS is set)"
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] ||
	skip_all "nginx is not installed (Debian package: nginx-light)"
command -v node >/dev/null 2>&1 || skip_all "node is not installed (Debian package: nodejs)"
command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed"

# nginx's workers (www-data) must reach the socket and the portal files:
# keep the stack out of private home directories.
VG_SCALE=1
[ -z "${VALGRIND:-}" ] || VG_SCALE=20
# Under valgrind the sandbox is off: valgrind's own system calls are not
# on its list (the sandbox has its own test, t3810).
[ -z "${VALGRIND:-}" ] || { STRIPE_SYNC_SANDBOX=off; export STRIPE_SYNC_SANDBOX; }
STACK=$(mktemp -d /tmp/ssstack.XXXXXX) || exit 99
chmod 755 "$STACK"

free_port() {
	node -e 'const s = require("net").createServer();
		s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

stack_start() {
	_port=$(free_port) && _simport=$(free_port) && _stripeport=$(free_port) &&
	if [ "$(id -u)" = 0 ]; then _user="--user nobody"; else _user=; fi &&
	sh "$top_srcdir/tools/stack" start "$STACK/s" --bindir "$top_builddir" \
		--port "$_port" --sim-port "$_simport" --workers "${1:-3}" \
		--stripe-port "$_stripeport" $_user ${STACK_ARGS:-} \
		> stack.out 2>&1 || { cat stack.out; return 1; }
	APP="https://127.0.0.1:$_port"
	SIM="http://127.0.0.1:$_simport"
	STRIPE="http://127.0.0.1:$_stripeport"
	CA="$STACK/s/tls/cert.pem"
	CONF="$STACK/s/etc/stripe-sync.conf"
	SECRET=$(sed -n 's/^callback_secret[ 	]*=[ 	]*//p' "$CONF")
	LOGS="$STACK/s/logs"
}

stack_stop() {
	sh "$top_srcdir/tools/stack" stop "$STACK/s" >/dev/null 2>&1
}
# At exit, stop every stack a test started under $STACK (not only "s"):
# once the directory is gone, so are the pid files that name them.
stack_stop_all() {
	for _d in "$STACK"/*/; do
		[ ! -d "$_d/pids" ] || sh "$top_srcdir/tools/stack" stop "$_d" >/dev/null 2>&1
	done
}
# STACK_KEEP_LOGS=1 keeps the stack's logs in the trash directory, to
# read after a failure.
test_at_exit 'stack_stop_all; [ -z "${STACK_KEEP_LOGS-}" ] || [ ! -d "$STACK/s/logs" ] ||
	cp -r "$STACK/s/logs" "$TRASH/stack-logs"; rm -rf "$STACK"'

# sim METHOD PATH [JSON]: the simulator's control API; body in sim.json,
# status in $SIM_STATUS.
sim() {
	if [ $# -ge 3 ]; then
		SIM_STATUS=$(curl -s -o sim.json -w '%{http_code}' -X "$1" \
			-H 'Content-Type: application/json' --data "$3" "$SIM$2")
	else
		SIM_STATUS=$(curl -s -o sim.json -w '%{http_code}' -X "$1" \
			-H 'Content-Type: application/json' "$SIM$2")
	fi
}

# stripe METHOD PATH [JSON]: the Stripe simulator's control API -> stripe.json
stripe() {
	if [ $# -ge 3 ]; then
		STRIPE_STATUS=$(curl -s -o stripe.json -w '%{http_code}' -X "$1" \
			-H 'Content-Type: application/json' --data "$3" "$STRIPE$2")
	else
		STRIPE_STATUS=$(curl -s -o stripe.json -w '%{http_code}' -X "$1" \
			-H 'Content-Type: application/json' "$STRIPE$2")
	fi
}

# https ARGS...: curl the app over TLS, trusting only the stack's certificate.
https() {
	curl -s --cacert "$CA" "$@"
}
