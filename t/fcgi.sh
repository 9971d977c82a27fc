# t/fcgi.sh: run a pool of real stripe-sync.fcgi workers under spawn-fcgi
# and talk real FastCGI to them with cgi-fcgi (from libfcgi-bin).  Source it
# after t/lib.sh.
#
#   fcgi_setup            config with fresh secrets + migrated database
#   fcgi_start [N]        N workers (default 4) on a unix socket
#   fcgi_req METHOD PATH [BODYFILE [CONTENT_TYPE [AUTHORIZATION]]]
#                         -> $HTTP_STATUS, resp.head, resp.body
#   fcgi_stop             stop the workers (also run at exit)
#   start_supervisor [N]  stripe-sync.fcgi --workers N (default 3) under
#                         spawn-fcgi -n; its pid in $MASTER
#   stop_supervisors      stop every supervisor and its workers (also at exit)
#   wait_for COUNT PATTERN  until app.log has COUNT lines matching PATTERN
#
# VALGRIND (set by make check-valgrind) is a command the workers are
# started under, starting with an absolute path (spawn-fcgi execs it as
# it is), e.g. "/usr/bin/valgrind --log-file=DIR/vg.%p ..."; unset, they
# run as they are.  VG_SCALE (1, or 20 under it) stretches the waits.

: "${SPAWN_FCGI:=$(command -v spawn-fcgi)}"
: "${CGI_FCGI:=$(command -v cgi-fcgi)}"
[ -n "$SPAWN_FCGI" ] && [ -x "$SPAWN_FCGI" ] ||
	skip_all "spawn-fcgi is not installed (Debian package: spawn-fcgi)"
[ -n "$CGI_FCGI" ] && [ -x "$CGI_FCGI" ] ||
	skip_all "cgi-fcgi is not installed (Debian package: libfcgi-bin)"
command -v jq >/dev/null || skip_all "jq is not installed (Debian package: jq)"

CONF="$TRASH/stripe-sync.conf"
VG_SCALE=1
[ -z "${VALGRIND:-}" ] || VG_SCALE=20
# Under valgrind the sandbox is off: valgrind's own system calls are not
# on its list (the sandbox has its own test, t3810).
[ -z "${VALGRIND:-}" ] || { STRIPE_SYNC_SANDBOX=off; export STRIPE_SYNC_SANDBOX; }
# Unix socket paths are limited to 108 bytes: keep it short.
FCGI_DIR=$(mktemp -d /tmp/ssfcgi.XXXXXX) || exit 99
FCGI_SOCK="$FCGI_DIR/sock"
FCGI_PIDS="$FCGI_DIR/pids"
# Every worker fcgi_start ever started (FCGI_PIDS has the last start's).
FCGI_ALL="$FCGI_DIR/all"

fcgi_setup() {
	test_write_config "$CONF" "$@" &&
	stripe-syncctl --config "$CONF" migrate >/dev/null &&
	SECRET=$(test_config_get callback_secret "$CONF") &&
	CB="/api/callback/$SECRET" &&
	PORTAL="/api/portal/$SECRET"
}

fcgi_start() {
	rm -f "$FCGI_SOCK" "$FCGI_PIDS"
	# shellcheck disable=SC2086
	"$SPAWN_FCGI" -s "$FCGI_SOCK" -F "${1:-4}" -P "$FCGI_PIDS" -- \
		${VALGRIND:-} "$top_builddir/stripe-sync.fcgi" --config "$CONF" \
		>>"$TRASH/spawn.log" 2>&1 || return 1
	# (spawn-fcgi ends the file without a newline.)
	{ cat "$FCGI_PIDS"; echo; } >>"$FCGI_ALL"
	# spawn-fcgi returns once the socket exists and the children are forked;
	# wait for each worker's readiness line in the log.
	_n=0
	while [ "$(grep -c 'worker ready' "$TRASH/app.log" 2>/dev/null)" -lt \
	    "$((${FCGI_READY_BASE:-0} + ${1:-4}))" ]; do
		_n=$((_n + 1))
		[ "$_n" -lt $((500 * VG_SCALE)) ] || { echo "workers did not start"; cat "$TRASH/app.log"; return 1; }
		sleep 0.01
	done
	FCGI_READY_BASE=$(grep -c 'worker ready' "$TRASH/app.log")
}

# TERM every worker fcgi_start started, KILL any still there after 5 s.
fcgi_stop() {
	test_stop "$CONF" $(cat "$FCGI_ALL" 2>/dev/null)
	rm -f "$FCGI_PIDS" "$FCGI_ALL" "$FCGI_SOCK"
	return 0
}
test_at_exit 'fcgi_stop; rm -rf "$FCGI_DIR"'

# wait_for COUNT PATTERN: until app.log has COUNT lines matching PATTERN
# (5 s at most).
wait_for() {
	_n=0
	while [ "$(grep -c -e "$2" app.log)" -lt "$1" ]; do
		_n=$((_n + 1)); [ $_n -lt $((500 * VG_SCALE)) ] || { echo "timed out waiting for $1 x '$2'"; cat app.log; return 1; }
		sleep 0.01
	done
}

# spawn-fcgi -n binds the socket and execs the supervisor in its place.
# setsid gives it and its workers a process group of their own (its pid),
# so that stop_supervisors finds every process it started, also workers a
# dead supervisor left behind.
SUPERVISORS="$FCGI_DIR/supervisors"
start_supervisor() {
	# shellcheck disable=SC2086
	setsid "$SPAWN_FCGI" -n -s "$FCGI_SOCK" -- ${VALGRIND:-} "$top_builddir/stripe-sync.fcgi" \
		--config "$CONF" --workers "${1:-3}" >>spawn.log 2>&1 &
	MASTER=$!
	echo "$MASTER" >> "$SUPERVISORS"
}

# stop_supervisors: stop every supervisor started here and all its workers,
# whatever state a failed test left them in.  Run at exit, and by each
# test that starts its own.
stop_supervisors() {
	for _g in $(cat "$SUPERVISORS" 2>/dev/null); do
		test_stop "$CONF" -g "$_g"
	done
	rm -f "$SUPERVISORS"
}
test_at_exit stop_supervisors

# fcgi_req METHOD PATH [BODYFILE [CONTENT_TYPE [AUTHORIZATION]]]
# CONTENT_TYPE "-" sends none; FCGI_CONTENT_LENGTH overrides the declared
# length.  Writes resp.raw, resp.head, resp.body.
fcgi_req() {
	_b=${3:-/dev/null}
	_ct=${4-application/json}
	_auth=${5-}
	_has_auth=${5+y}
	# PATH may carry "?query": nginx passes it in REQUEST_URI and,
	# decoded of nothing, in QUERY_STRING.
	_path=${2%%\?*}
	case "$2" in *\?*) _qs=${2#*\?} ;; *) _qs= ;; esac
	set -- REQUEST_METHOD="$1" REQUEST_URI="$2" SCRIPT_NAME="$_path" \
		QUERY_STRING="$_qs" \
		GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 \
		CONTENT_LENGTH="${FCGI_CONTENT_LENGTH:-$(wc -c < "$_b" | tr -d ' ')}"
	[ -z "$_has_auth" ] || set -- "$@" HTTP_AUTHORIZATION="$_auth"
	[ "$_ct" = "-" ] || set -- "$@" CONTENT_TYPE="$_ct"
	# A pool with no live worker would keep cgi-fcgi waiting for ever.
	timeout "${FCGI_TIMEOUT:-60}" env -i "$@" "$CGI_FCGI" -bind -connect "$FCGI_SOCK" \
		< "$_b" > resp.raw || { echo "cgi-fcgi failed or timed out"; return 1; }
	sed -n '1,/^\r$/p' resp.raw | tr -d '\r' > resp.head
	sed '1,/^\r$/d' resp.raw > resp.body
	HTTP_STATUS=$(sed -n 's/^Status: \([0-9]*\).*/\1/p' resp.head)
}

# fcgi_req_other ARGS...: fcgi_req while one worker of the pool is held by
# an idle connection (libfcgi waits up to 2 s for its first bytes; it is
# closed after the request), so that the request goes to another.  Idle
# workers are woken one at a time (EPOLLEXCLUSIVE, src/fcgi-main.c), the
# same one first: without this a test's requests, one after the other,
# all reach that one.
fcgi_req_other() {
	command -v node >/dev/null 2>&1 ||
		{ echo "fcgi_req_other: node is not installed"; return 1; }
	rm -f hold.out
	node -e '
		const c = require("net").connect(process.argv[1], () => console.log("held"));
		c.on("error", () => process.exit(1));
		setTimeout(() => c.destroy(), 1500);' "$FCGI_SOCK" > hold.out &
	_hold=$!
	_n=0
	while ! grep -q held hold.out 2>/dev/null; do
		_n=$((_n + 1))
		[ $_n -lt 300 ] || {
			echo "fcgi_req_other: the idle connection was not made"
			kill "$_hold" 2>/dev/null; wait "$_hold" 2>/dev/null
			return 1
		}
		sleep 0.01
	done
	sleep 0.05
	fcgi_req "$@"
	_rc=$?
	kill "$_hold" 2>/dev/null
	wait "$_hold" 2>/dev/null
	return $_rc
}

# expect_status CODE: the last response had that status.
expect_status() {
	[ "$HTTP_STATUS" = "$1" ] && return 0
	echo "status '$HTTP_STATUS', want $1:"; cat resp.raw; echo; return 1
}

# expect_error STATUS CODE [FIELD]: a JSON error with that code (and field).
expect_error() {
	expect_status "$1" &&
	[ "$(jq -r .error.code resp.body)" = "$2" ] &&
	{ [ -z "${3-}" ] || [ "$(jq -r .error.field resp.body)" = "$3" ]; } ||
	{ echo "want error $1 $2 ${3-}:"; cat resp.body; echo; return 1; }
}

# install_event FILE ID [KEY [IDEM [SCOPES_JSON [INSTANCE]]]]: an install event.
install_event() {
	jq -n --arg id "$2" --arg key "${3:-blnk_test_$2_0123456789abcdef}" \
		--arg idem "${4:-install:$2}" --argjson scopes "${5:-[\"data:read\",\"data:write\",\"alerts:write\"]}" \
		--arg inst "${6:-inst_1}" \
		'{installed_app_id:$id, app_id:"app_1", instance_id:$inst,
		  api_key:$key, api_key_prefix:($key[0:9]),
		  granted_permissions:$scopes, idempotency_key:$idem}' > "$1"
}

# uninstall_event FILE ID [IDEM [INSTANCE]]
uninstall_event() {
	jq -n --arg id "$2" --arg idem "${3:-uninstall:$2}" --arg inst "${4:-inst_1}" \
		'{installed_app_id:$id, app_id:"app_1", instance_id:$inst,
		  uninstalled_at:"2026-04-21T12:00:00Z", idempotency_key:$idem}' > "$1"
}

# launch_token ID: a fresh portal session token for install ID, from a
# launch through the worker.
launch_token() {
	launch_event l.json "$1" && fcgi_req POST "$PORTAL" l.json &&
	expect_status 200 && jq -r .portal_url resp.body | sed "s/.*token=//"
}

# portal_api METHOD PATH [BODYFILE]: a portal API call with session $TOK.
portal_api() { fcgi_req "$1" "$2" "${3:-/dev/null}" application/json "Bearer $TOK"; }

# launch_event FILE ID [APP [INSTANCE]]
launch_event() {
	jq -n --arg id "$2" --arg app "${3:-app_1}" --arg inst "${4:-inst_1}" \
		'{installed_app_id:$id, app_id:$app, instance_id:$inst}' > "$1"
}

# sql QUERY: run a query against the test database.
sql() {
	sqlite3 -batch "$TRASH/db.sqlite" "$1"
}
