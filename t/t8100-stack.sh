#!/bin/sh
test_description='whole stack on loopback: nginx + worker pool + Cloud simulator'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/stack.sh"

# Test-only: the simulator returns the minted api_key, so we can look for it.
CLOUD_SIM_EXPOSE_KEYS=1
export CLOUD_SIM_EXPOSE_KEYS

# hold_port FILE: listen on a free loopback port in the background (pid in
# $HOLDER); the port is in FILE once it listens.
hold_port() {
	rm -f "$1"
	node -e 'const s = require("net").createServer(), fs = require("fs");
		s.listen(0, "127.0.0.1", () => {
			fs.writeFileSync(process.argv[1] + ".tmp", String(s.address().port));
			fs.renameSync(process.argv[1] + ".tmp", process.argv[1]);
		});
		process.on("SIGTERM", () => process.exit(0));' "$1" &
	HOLDER=$!
	_n=0
	while ! test -s "$1"; do
		_n=$((_n + 1)); [ $_n -lt 500 ] || { echo "the port holder did not listen"; return 1; }
		sleep 0.01
	done
}

for which in port sim-port; do
	test_expect_success "a --$which another program holds is named before anything starts" '
		hold_port busy &&
		test_when_finished "kill $HOLDER; sh \"\$top_srcdir/tools/stack\" stop \"\$STACK/busy\"" &&
		busy=$(cat busy) && other=$(free_port) &&
		if [ $which = port ]; then set -- --port $busy --sim-port $other
		else set -- --port $other --sim-port $busy; fi &&
		test_exit_code 1 sh "$top_srcdir/tools/stack" start "$STACK/busy" \
			--bindir "$top_builddir" "$@" 2>err &&
		test_grep "^tools/stack: port $busy on 127.0.0.1 .* is already in use by another program: .*choose another port with --$which N$" err &&
		test_grep ! "nginx" err &&
		test -z "$(ls "$STACK/busy/pids" 2>/dev/null)" &&
		! test -e "$STACK/busy/tls/cert.pem" &&
		! test -e "$STACK/busy/etc/stripe-sync.conf"
	'
done

test_expect_success_here 'the stack starts: nginx, 3 workers, stripe-syncd, simulator' '
	stack_start 3 &&
	test_grep "stack ready" stack.out &&
	test "$(grep -c "worker ready" "$LOGS/app.log")" = 3 &&
	test_grep "stripe-syncd ready" "$LOGS/app.log"
'

test_expect_success_here 'register and install from the simulator: the app stores the install' '
	sim POST /_sim/register "{}" && test "$SIM_STATUS" = 200 &&
	sim POST /_sim/install "{\"scopes\":[\"data:read\",\"alerts:write\"]}" &&
	test "$SIM_STATUS" = 200 && test "$(jq -r .status sim.json)" = installed &&
	ID=$(jq -r .installed_app_id sim.json) && INST=$(jq -r .instance_id sim.json) &&
	KEY=$(jq -r .api_key sim.json) && test "${#KEY}" -gt 20 &&
	stripe-syncctl -c "$CONF" install "$ID" --json > inst.json &&
	test "$(jq -r .status inst.json)" = active &&
	test "$(jq -r .instance_id inst.json)" = "$INST" &&
	test "$(jq -c .granted_permissions inst.json)" = "[\"data:read\",\"alerts:write\"]"
'

test_expect_success 'a redelivered install event is acknowledged and changes nothing' '
	before=$(stripe-syncctl -c "$CONF" install "$ID" --json) &&
	sim POST /_sim/redeliver "{\"installed_app_id\":\"$ID\"}" &&
	test "$SIM_STATUS" = 200 && test "$(jq -r .http_status sim.json)" = 200 &&
	test "$(stripe-syncctl -c "$CONF" install "$ID" --json)" = "$before"
'

test_expect_success_here 'launch gives a portal_url on the app; its token opens /api/v1/context through nginx' '
	sim POST /_sim/launch "{\"installed_app_id\":\"$ID\"}" && test "$SIM_STATUS" = 200 &&
	URL=$(jq -r .portal_url sim.json) &&
	case "$URL" in "$APP/?token="*) ;; *) echo "$URL"; false;; esac &&
	TOK=${URL#*token=} &&
	https -H "Authorization: Bearer $TOK" "$APP/api/v1/context" > ctx.json &&
	test "$(jq -r .installed_app_id ctx.json)" = "$ID" &&
	test "$(jq -r .instance_id ctx.json)" = "$INST"
'

test_expect_success 'the portal page carries the CSP with the configured frame-ancestors and the other headers' '
	https -D head -o page.html "$URL" &&
	tr -d "\r" < head > h &&
	test_grep "^HTTP/2 200" h &&
	test_grep "^content-security-policy: .*frame-ancestors '\''self'\'' $SIM$" h &&
	test_grep "^x-content-type-options: nosniff" h &&
	test_grep "^referrer-policy: no-referrer" h &&
	test_grep "^strict-transport-security: max-age=" h &&
	test_grep "<script src=\"app.js\"" page.html
'

test_expect_success 'a missing portal file still carries the CSP header' '
	https -D head -o /dev/null "$APP/no-such-file.js" && tr -d "\r" < head > h &&
	test_grep "^HTTP/2 404" h && test_grep "^content-security-policy: .*frame-ancestors" h
'

test_expect_success 'API answers through nginx carry nosniff, no-referrer, no-store' '
	https -D head -o body "$APP/api/health" && tr -d "\r" < head > h &&
	test_grep "^HTTP/2 200" h &&
	test_grep "^x-content-type-options: nosniff" h &&
	test_grep "^referrer-policy: no-referrer" h &&
	test_grep "^cache-control: no-store" h &&
	test "$(grep -ci "^x-content-type-options" h)" = 1
'

test_expect_success 'forged calls without the secret get 404 through nginx' '
	test "$(https -o /dev/null -w "%{http_code}" -X POST -H "Content-Type: application/json" \
		--data "{}" "$APP/api/callback/guess")" = 404 &&
	test "$(https -o /dev/null -w "%{http_code}" -X POST -H "Content-Type: application/json" \
		--data "{}" "$APP/api/portal/")" = 404
'

test_expect_success 'a body over 64 KiB is refused by nginx with a JSON 413' '
	head -c 70000 /dev/zero | tr "\0" a > big &&
	https -o body -w "%{http_code}" -X POST -H "Content-Type: application/json" \
		--data-binary @big "$APP/api/callback/$SECRET" > code &&
	test "$(cat code)" = 413 && test "$(jq -r .error.code body)" = BODY_TOO_LARGE &&
	test "$(jq -r .error.field body)" = body
'

test_expect_success 'nginx and the application refuse a large body with the same code' '
	head -c 70000 /dev/zero | tr "\0" a > big &&
	https -o body -X POST -H "Content-Type: application/json" \
		--data-binary @big "$APP/api/callback/$SECRET" &&
	jq -c .error.code,.error.field body > nginx.said &&
	env -i REQUEST_METHOD=POST PATH_INFO=/api/callback/$SECRET CONTENT_TYPE=application/json \
		CONTENT_LENGTH=70000 SCRIPT_NAME= REQUEST_URI=/api/callback/$SECRET \
		DOCUMENT_URI=/api/callback/$SECRET QUERY_STRING= \
		"${CGI_FCGI:-cgi-fcgi}" -bind -connect "$STACK/s/run/fcgi.sock" < big > raw &&
	sed "1,/^\r*$/d" raw | jq -c .error.code,.error.field > app.said &&
	test_cmp nginx.said app.said
'

for path in /api /api/callback /api/portal /api/stripe/webhook; do
	test_expect_success "POST $path (no trailing slash) is a JSON 404, not nginx's HTML 301" "
		https -D head -o body -X POST -H 'Content-Type: application/json' \
			--data '{}' \"\$APP$path\" &&
		tr -d '\r' < head > h &&
		test_grep '^HTTP/2 404' h &&
		test_grep '^content-type: application/json' h &&
		test_grep '^x-content-type-options: nosniff' h &&
		test \"\$(jq -r .error.code body)\" = NOT_FOUND
	"
done

test_expect_success 'a worker killed with SIGKILL is replaced and the stack keeps answering' '
	master=$(cat "$STACK/s/pids/pool.pid") &&
	victim=$(pgrep -P "$master" | head -n 1) && test -n "$victim" &&
	kill -KILL "$victim" &&
	n=0 && while [ "$(grep -c "worker ready" "$LOGS/app.log")" -lt 4 ]; do
		n=$((n + 1)); [ $n -lt 500 ] || return 1; sleep 0.01; done &&
	test "$(pgrep -P "$master" | wc -l)" = 3 &&
	for i in 1 2 3 4 5 6 7 8 9; do
		test "$(https -o /dev/null -w "%{http_code}" "$APP/api/health")" = 200 || return 1
	done
'

test_expect_success 'nginx cannot use a socket its user may not open: 502, and 200 again once fixed' '
	if [ "$(id -u)" != 0 ]; then echo "not root: nginx runs as us; nothing to prove"; return 0; fi &&
	sock="$STACK/s/run/fcgi.sock" &&
	test "$(stat -c "%a %G" "$sock")" = "660 www-data" &&
	chmod 600 "$sock" &&
	https -o body -w "%{http_code}" "$APP/api/health" > code &&
	chmod 660 "$sock" &&
	test "$(cat code)" = 502 && test "$(jq -r .error.code body)" = SERVICE_UNAVAILABLE &&
	test "$(https -o /dev/null -w "%{http_code}" "$APP/api/health")" = 200
'

test_expect_success 'the workers run unprivileged when the stack is started as root' '
	if [ "$(id -u)" != 0 ]; then return 0; fi &&
	master=$(cat "$STACK/s/pids/pool.pid") &&
	test "$(ps -o user= -p "$master")" = nobody &&
	for p in $(pgrep -P "$master"); do test "$(ps -o user= -p "$p")" = nobody || return 1; done
'

test_expect_success_here 'uninstall from the simulator deactivates the install; its session dies' '
	sim POST /_sim/uninstall "{\"installed_app_id\":\"$ID\"}" &&
	test "$SIM_STATUS" = 200 && test "$(jq -r .status sim.json)" = uninstalled &&
	test "$(stripe-syncctl -c "$CONF" install "$ID" --json | jq -r .status)" = inactive &&
	test "$(stripe-syncctl -c "$CONF" install "$ID" --json | jq -r .has_key)" = false &&
	https -o body -w "%{http_code}" -H "Authorization: Bearer $TOK" "$APP/api/v1/context" > code &&
	test "$(cat code)" = 403 && test "$(jq -r .error.code body)" = APP_UNINSTALLED
'

test_expect_success 'launch after uninstall is refused: no portal_url' '
	curl -s -o launch.json -w "%{http_code}" -X POST -H "Content-Type: application/json" \
		--cacert "$CA" --data "{\"installed_app_id\":\"$ID\",\"app_id\":\"$(jq -r .app_id inst.json)\",\"instance_id\":\"$INST\"}" \
		"$APP/api/portal/$SECRET" > code &&
	test "$(cat code)" = 403 && test "$(jq -r .error.code launch.json)" = APP_UNINSTALLED &&
	sim POST /_sim/launch "{\"installed_app_id\":\"$ID\"}" &&
	test "$(jq -r .portal_url sim.json)" = null
'

test_expect_success 'no log or database file holds the callback secret, a token or the api key' '
	for f in "$LOGS"/* "$STACK"/s/data/*; do
		! grep -a -F -q -e "$KEY" "$f" || { echo "api key in $f"; return 1; }
		! grep -a -F -q -e "$SECRET" "$f" || { echo "secret in $f"; return 1; }
		! grep -a -F -q -e "$TOK" "$f" || { echo "token in $f"; return 1; }
		! grep -a -F -q -e "$(echo "$TOK" | cut -d. -f2)" "$f" || { echo "token tag in $f"; return 1; }
	done &&
	test_grep "POST /api/callback/\[redacted\]" "$LOGS/stripe-sync.access.log" &&
	test_grep "POST /api/portal/\[redacted\]" "$LOGS/stripe-sync.access.log"
'

test_expect_success 'stopping the stack leaves no process behind' '
	pids=$(cat "$STACK"/s/pids/*.pid) &&
	kids=$(for p in $pids; do pgrep -P "$p" || :; done) &&
	stack_stop &&
	for p in $pids $kids; do ! kill -0 "$p" 2>/dev/null || { echo "$p still runs"; return 1; }; done
'

test_done
