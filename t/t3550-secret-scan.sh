#!/bin/sh
test_description='secret scan: the whole stack driven through every feature that touches a secret, then every log, answer, portal asset and database file searched for every secret used, in its encodings: zero hits'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/stack.sh"
. "$top_srcdir/t/sync.sh"

# t3500 does this for one worker over FastCGI; here it is the whole stack
# (nginx, the pool, stripe-syncd, both simulators), every feature, and
# the secrets in the forms a leak would take (base64, hex, URL-encoded).
STACK_ARGS="--stripe-seed t3550-secret-scan --stripe-count 80"
BODIES="$TRASH/bodies"
mkdir -p "$BODIES"

# Every answer of the app is kept: api (t/sync.sh's, as it is there, plus
# a copy of the body) and app_get for the rest.
NB=0
keep() { NB=$((NB + 1)); cp "$1" "$BODIES/$NB.$2"; }
api() {
	if [ $# -ge 3 ]; then
		ST=$(https -o api.json -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOK" \
			-H 'Content-Type: application/json' --data "$3" "$APP$2")
	else
		ST=$(https -o api.json -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOK" "$APP$2")
	fi
	keep api.json api
}
app_get() { https -D hdr.txt -o got.out "$APP$1" && keep hdr.txt head && keep got.out "${2:-get}"; }
# The simulator relays the app's launch answer (portal_url): kept apart,
# the one place a launch token may be.
launch() {
	sim POST /_sim/launch "{\"installed_app_id\":\"$1\"}" && test "$SIM_STATUS" = 200 &&
	TOK=$(jq -r .portal_url sim.json | sed "s/.*token=//") && test -n "$TOK" &&
	echo "$TOK" >> "$TRASH/tokens" && keep sim.json launch
}
# secret VALUE: one more secret to look for.
secret() { [ -n "$1" ] && printf '%s\n' "$1" >> "$TRASH/secrets.raw"; }
hook_post() {
	HOOK_STATUS=$(https -o hook.json -w '%{http_code}' -X POST \
		-H 'Content-Type: application/json; charset=utf-8' \
		-H "Stripe-Signature: $1" --data-binary "@$2" "$APP/api/stripe/webhook/$ID") &&
	keep hook.json hook
}
sign() {
	_t=$(date +%s)
	echo "t=$_t,v1=$( { printf "%s." "$_t"; cat "$2"; } |
		openssl dgst -sha256 -hmac "$1" | sed "s/.*= //")"
}
conf_secret() {
	_v=$(test_config_get "$1" "$CONF")
	[ -z "$_v" ] || { echo "$_v"; return; }
	_f=$(test_config_get "${1}_file" "$CONF")
	[ -z "$_f" ] || cat "$_f"
}

test_expect_success_here 'setup: the stack, an install with its Cloud key, a launch, Stripe connected' '
	: > "$TRASH/secrets.raw" && : > "$TRASH/tokens" &&
	stack_start 2 &&
	sim POST /_sim/register "{}" && test "$SIM_STATUS" = 200 &&
	sim POST /_sim/install "{}" && test "$SIM_STATUS" = 200 &&
	ID=$(jq -r .installed_app_id sim.json) && INSTANCE=$(jq -r .instance_id sim.json) &&
	KEY=$(jq -r .api_key sim.json) && test "${#KEY}" -gt 20 && secret "$KEY" &&
	launch "$ID" &&
	for k in $(jq -r "[.. | strings] | .[]" "$STACK/s/etc/stripe-sim-keys.json"); do secret "$k"; done &&
	SKEY=$(jq -r ".test[0]" "$STACK/s/etc/stripe-sim-keys.json") &&
	api PUT /api/v1/stripe "{\"api_key\":\"$SKEY\"}" && want 200
'

test_expect_success_here 'drive it: context, proxied reads, webhook secret and signed webhooks, a sync, a reconciliation' '
	api GET /api/v1/context && want 200 &&
	api GET /api/v1/ledgers && want 200 &&
	api GET /api/v1/balances && want 200 &&
	api GET /api/v1/stripe && want 200 &&
	api GET /api/v1/settings && want 200 &&
	stripe POST /_sim/webhooks "{\"url\":\"$APP/api/stripe/webhook/$ID\",\"ca_file\":\"$CA\"}" &&
	test "$STRIPE_STATUS" = 200 && WHSEC=$(jq -r .secret stripe.json) && secret "$WHSEC" &&
	api PUT /api/v1/stripe/webhook "{\"secret\":\"$WHSEC\"}" && want 200 &&
	jq -n "{id:\"evt_scan_1\", object:\"event\", type:\"customer.created\", livemode:false,
		data:{object:{id:\"cus_1\", object:\"customer\"}}}" > ev.json &&
	hook_post "$(sign "$WHSEC" ev.json)" ev.json && test "$HOOK_STATUS" = 200 &&
	hook_post "$(sign whsec_forgedforgedforgedforged ev.json)" ev.json && test "$HOOK_STATUS" = 400 &&
	sync_now && sync_wait && test "$(jq -r .status run.json)" = completed && keep run.json api &&
	stripe POST /_sim/activity "{\"count\":5}" && test "$STRIPE_STATUS" = 200 &&
	recon_now && recon_wait && keep rec.json api &&
	api GET "/api/v1/syncs?page_size=100" && want 200 &&
	api GET /api/v1/reconciliations && want 200 &&
	launch "$ID" && api GET /api/v1/context && want 200
'

test_expect_success_here 'drive it: the portal assets, health, a wrong secret, ctl, rotate-keys under a new master key, doctor, uninstall' '
	app_get / html && app_get /index.html html && app_get /app.js js &&
	app_get /chart.js js && app_get /app.css css && app_get /logo.svg svg &&
	app_get /api/health && app_get /api/callback/not-the-secret &&
	OLD_MK=$(conf_secret master_key) && NEW_MK=$(test_master_key) &&
	sed -i "/^master_key[ 	]*=/d; /^old_master_keys[ 	]*=/d" "$CONF" &&
	printf "master_key = %s\nold_master_keys = %s\n" "$NEW_MK" "$OLD_MK" >> "$CONF" &&
	r=$(grep -c "reload: configuration" "$LOGS/app.log" || true) &&
	kill -HUP "$(cat "$STACK/s/pids/syncd.pid")" "$(cat "$STACK/s/pids/pool.pid")" &&
	n=0 && while [ "$(grep -c "reload: configuration" "$LOGS/app.log")" -le "$r" ]; do
		n=$((n + 1)); [ $n -lt 1500 ] || return 1; sleep 0.02; done &&
	"$STACK/s/bin/stripe-syncctl" -c "$CONF" rotate-keys > "$BODIES/ctl.rotate" 2>&1 &&
	"$STACK/s/bin/stripe-syncctl" -c "$CONF" installs --json > "$BODIES/ctl.installs" 2>&1 &&
	"$STACK/s/bin/stripe-syncctl" -c "$CONF" install "$ID" > "$BODIES/ctl.install" 2>&1 &&
	{ "$STACK/s/bin/stripe-syncctl" -c "$CONF" doctor --url "$APP" > "$BODIES/ctl.doctor" 2>&1 || true; } &&
	"$STACK/s/bin/stripe-syncctl" -c "$CONF" check-config > "$BODIES/ctl.check" 2>&1 &&
	sim POST /_sim/uninstall "{\"installed_app_id\":\"$ID\"}" && test "$SIM_STATUS" = 200 &&
	api GET /api/v1/context && want 403 APP_UNINSTALLED
'

# The secrets, each in the forms a leak would take: as it is, URL-encoded,
# base64 (standard and url-safe) and hex of its text; for the master keys
# (base64 of 32 bytes) also the hex and url-safe base64 of the raw key.
test_expect_success_here 'the list of secrets and their encodings' '
	for k in master_key session_secret callback_secret; do secret "$(conf_secret $k)"; done &&
	secret "$NEW_MK" && secret "$OLD_MK" &&
	cat tokens >> secrets.raw &&
	sort -u secrets.raw | while IFS= read -r s; do
		[ ${#s} -ge 16 ] || { echo "too short to search: $s" >&2; exit 1; }
		printf "%s\n" "$s"
		printf "%s" "$s" | jq -sRr @uri
		printf "%s" "$s" | base64 -w0; echo
		printf "%s" "$s" | base64 -w0 | tr "+/" "-_" | tr -d =; echo
		printf "%s" "$s" | od -An -tx1 | tr -d " \n"; echo
	done > secrets.txt &&
	for m in "$NEW_MK" "$OLD_MK"; do
		printf "%s" "$m" | base64 -d | od -An -tx1 | tr -d " \n"; echo
		printf "%s" "$m" | tr "+/" "-_" | tr -d =; echo
	done >> secrets.txt &&
	sort -u secrets.txt -o secrets.txt &&
	test "$(wc -l < tokens)" -ge 2 &&
	test "$(wc -l < secrets.txt)" -ge 40
'
test_diag "$(sort -u "$TRASH/secrets.raw" 2>/dev/null | wc -l) secrets, $(wc -l < "$TRASH/secrets.txt" 2>/dev/null) search strings"

# scan FILE...: no search string in any of them; say where, if one is.
scan() {
	grep -a -n -F -f "$TRASH/secrets.txt" "$@" > hits || return 0
	echo "secrets found:"; cut -c1-300 hits; return 1
}

test_expect_success 'no secret in any log of the app, of nginx or of the pool' '
	ls "$LOGS" &&
	scan "$LOGS"/app.log "$LOGS"/syncd.log "$LOGS"/spawn.log "$LOGS"/nginx-*.log \
		$(ls "$LOGS"/*access*.log "$LOGS"/*error*.log 2>/dev/null)
'

test_expect_success 'no secret in any answer of the app (launch answers apart) nor in ctl output' '
	ls "$BODIES" | grep -v "\.launch$" > answered && test "$(wc -l < answered)" -ge 30 &&
	(cd "$BODIES" && scan $(cat "$TRASH/answered"))
'

# (The scan finds the token there, which shows it finds what is there.)
test_expect_success 'the launch answers hold their own token in portal_url, and no other secret' '
	for f in "$BODIES"/*.launch; do
		t=$(jq -r "[.. | .portal_url? | strings][0]" "$f" | sed "s/.*token=//") &&
		grep -q -x -F "$t" tokens && ! scan "$f" >/dev/null &&
		jq "walk(if type == \"object\" then del(.portal_url) else . end)" "$f" > l.json &&
		scan l.json || return 1
	done
'

test_expect_success 'no secret in the portal assets nginx serves' '
	test "$(ls "$BODIES" | grep -c "\.\(html\|js\|css\|svg\)$")" = 6 &&
	scan "$STACK/s/portal-static"/*
'

test_expect_success 'no secret in the database files, main and journal, in the clear or encoded' '
	ls "$STACK/s/data" &&
	scan "$STACK/s/data"/*
'

test_done
