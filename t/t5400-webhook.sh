#!/bin/sh
test_description='Stripe webhooks through the FastCGI workers: signatures made by Stripe'"'"'s own library accepted, every forgery, replay and malformed header refused with 400 and nothing stored; events recorded once, money events debounced into one job request; the signing secret validated, sealed, shown as its last four only'
. "$top_srcdir/t/lib.sh"
[ -d "$top_srcdir/tools/stripe-sim/test/node_modules/stripe" ] ||
	skip_all "the stripe npm package is not installed (cd tools/stripe-sim/test && npm ci)"
. "$top_srcdir/t/fcgi.sh"
. "$top_srcdir/t/stub.sh"

SK=sk_test_51AbCdEfGhIjKlMnOpQrStUvWx4242
BAL='{"object":"balance","livemode":false,"available":[],"pending":[]}'
# Fresh secrets each run: a value that shows up in a log or an answer
# can only have come from this run.
WHSEC=whsec_$(head -c 24 /dev/urandom | base64 | tr -d '+/=')
OTHER=whsec_$(head -c 24 /dev/urandom | base64 | tr -d '+/=')

api() { portal_api "$@"; }
api_ro() { fcgi_req "$1" "$2" "${3:-/dev/null}" application/json "Bearer $TOK_RO"; }
secret_body() { jq -n --arg s "$1" '{secret:$s}' > s.json; }

# sign FILE [SECRET [TIMESTAMP]]: Stripe's library's header for FILE.
sign() { node "$top_srcdir/t/webhook-sign.js" "${2:-$WHSEC}" "$1" ${3:+"$3"}; }

# event FILE TYPE [ID [LIVEMODE [OBJECT_JSON]]]: an event as Stripe sends
# one (pretty-printed: the signature is over these very bytes).
event() {
	_id=${3:-evt_$(head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n')}
	_obj=${5:-}
	[ -n "$_obj" ] || _obj='{"id":"ch_3Nq1","object":"charge","amount":2000}'
	jq -n --arg type "$2" --arg id "$_id" --argjson live "${4:-false}" \
		--argjson obj "$_obj" \
		'{id:$id, object:"event", api_version:"2022-11-15", created:1733054400,
		  data:{object:$obj}, livemode:$live, pending_webhooks:1,
		  request:{id:null, idempotency_key:null}, type:$type}' > "$1"
}

# deliver FILE [SIGNATURE [ID]]: POST FILE to the webhook route of ID
# (default instapp_1) with that Stripe-Signature (none if empty), as nginx
# passes it (HTTP_STRIPE_SIGNATURE).  -> $HTTP_STATUS, resp.head, resp.body
deliver() {
	_p="/api/stripe/webhook/${3:-instapp_1}"
	set -- "$1" "${2-}" REQUEST_METHOD=POST REQUEST_URI="$_p" SCRIPT_NAME="$_p" \
		QUERY_STRING= GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 \
		CONTENT_TYPE="application/json; charset=utf-8" \
		CONTENT_LENGTH="$(wc -c < "$1" | tr -d ' ')"
	_b=$1; _sig=$2; shift 2
	[ -z "$_sig" ] || set -- "$@" HTTP_STRIPE_SIGNATURE="$_sig"
	timeout 60 env -i "$@" "$CGI_FCGI" -bind -connect "$FCGI_SOCK" \
		< "$_b" > resp.raw || { echo "cgi-fcgi failed"; return 1; }
	sed -n '1,/^\r$/p' resp.raw | tr -d '\r' > resp.head
	sed '1,/^\r$/d' resp.raw > resp.body
	HTTP_STATUS=$(sed -n 's/^Status: \([0-9]*\).*/\1/p' resp.head)
}

# rows: how many events and job requests are stored, and their events.
rows() {
	sql "SELECT (SELECT count(*) FROM webhook_events) || ' ' ||
		(SELECT count(*) FROM job_requests) || ' ' ||
		(SELECT coalesce(sum(events), 0) FROM job_requests)"
}

test_expect_success_here 'setup: an install connected to Stripe (test mode), a read-only one' '
	fcgi_setup "webhook_debounce = 100" "webhook_max_wait = 101" &&
	sed -i "s#^stripe_api_url = .*#stripe_api_url = $STUB/#" "$CONF" &&
	fcgi_start 2 &&
	install_event ev.json instapp_1 blnk_live_hook_0123456789abcdefghijk install:instapp_1 \
		"[\"data:read\",\"data:write\"]" &&
	fcgi_req POST "$CB" ev.json && expect_status 200 &&
	install_event ev.json instapp_ro blnk_live_ro_0123456789abcdefghijkl install:instapp_ro \
		"[\"data:read\"]" &&
	fcgi_req POST "$CB" ev.json && expect_status 200 &&
	TOK=$(launch_token instapp_1) && test -n "$TOK" &&
	TOK_RO=$(launch_token instapp_ro) && test -n "$TOK_RO" &&
	stub_script "[{\"body\":$BAL}]" &&
	jq -n --arg k "$SK" "{api_key:\$k}" > k.json &&
	api PUT /api/v1/stripe k.json && expect_status 200
'

test_expect_success 'GET /api/v1/stripe shows the webhook: no secret yet, the path to give Stripe' '
	api GET /api/v1/stripe && expect_status 200 &&
	test "$(jq -c .webhook resp.body)" = "{\"set\":false,\"last4\":null,\"set_at\":null,\"path\":\"/api/stripe/webhook/instapp_1\",\"last_event_at\":null,\"events\":0}" &&
	api GET /api/v1/stripe/webhook && expect_status 200 &&
	test "$(jq -r .webhook.path resp.body)" = /api/stripe/webhook/instapp_1
'

test_expect_success 'without a secret every delivery is refused as a signature mismatch' '
	event e.json charge.succeeded && deliver e.json "$(sign e.json)" &&
	expect_error 400 SIGNATURE_MISMATCH Stripe-Signature &&
	test "$(rows)" = "0 0 0"
'

test_expect_success 'a secret that is not whsec_... is refused naming secret, nothing stored' '
	for s in sk_test_51AbCdEfGhIjKlMnOpQrStUvWx4242 whsec_short "whsec_abcdefgh ijklmnop" \
	    whsec_abcdefghijklmnopqrs=tuv "whsec_abc\"def" WHSEC_abcdefghijklmnopqrstu \
	    "whsec_$(printf "%0300d" 0)"; do
		secret_body "$s" && api PUT /api/v1/stripe/webhook s.json &&
		expect_error 400 INVALID_FIELD secret || return 1
		! grep -F -e "${s#whsec_}" resp.body || return 1
	done &&
	echo "{\"secret\":12345678901}" > s.json && api PUT /api/v1/stripe/webhook s.json &&
	expect_error 400 INVALID_FIELD secret &&
	echo "{}" > s.json && api PUT /api/v1/stripe/webhook s.json &&
	expect_error 400 MISSING_FIELD secret &&
	test "$(sql "SELECT count(*) FROM webhook_secrets")" = 0
'

test_expect_success 'setting the secret needs data:write' '
	secret_body "$WHSEC" && api_ro PUT /api/v1/stripe/webhook s.json &&
	expect_error 403 MISSING_PERMISSION &&
	api_ro DELETE /api/v1/stripe/webhook && expect_error 403 MISSING_PERMISSION &&
	test "$(sql "SELECT count(*) FROM webhook_secrets")" = 0
'

test_expect_success 'the secret is stored sealed and shown as its last four only' '
	secret_body "$WHSEC" && api PUT /api/v1/stripe/webhook s.json && expect_status 200 &&
	last4=$(printf "%s" "$WHSEC" | tail -c 4) &&
	test "$(jq -r "[.webhook.set, .webhook.last4] | join(\" \")" resp.body)" = "true $last4" &&
	test "$(jq -r .webhook.set_at resp.body)" != null &&
	! grep -F -e "${WHSEC#whsec_}" resp.body &&
	api GET /api/v1/stripe && expect_status 200 &&
	test "$(jq -r .webhook.last4 resp.body)" = "$last4" &&
	! grep -F -e "${WHSEC#whsec_}" resp.body &&
	sqlite3 "$TRASH/db.sqlite" .dump > dump.sql &&
	! grep -F -e "$(printf "%s" "${WHSEC#whsec_}" | cut -c1-12)" dump.sql &&
	test "$(sql "SELECT last4 FROM webhook_secrets WHERE installed_app_id = '\''instapp_1'\''")" = "$last4"
'

test_expect_success 'an event signed by the stripe npm package is taken: recorded, a sync asked for' '
	event e.json charge.succeeded evt_first && sign e.json > sig && deliver e.json "$(cat sig)" &&
	expect_status 200 &&
	test "$(jq -c . resp.body)" = "{\"received\":true,\"duplicate\":false,\"action\":\"sync\"}" &&
	test "$(rows)" = "1 1 1" &&
	test "$(sql "SELECT event_id || '\'' '\'' || type || '\'' '\'' || livemode || '\'' '\'' || action FROM webhook_events")" = "evt_first charge.succeeded 0 sync" &&
	test "$(sql "SELECT job || '\''|'\'' || payout || '\''|'\'' || (due_at - first_at) FROM job_requests")" = "sync||100" &&
	test "$(sql "SELECT count(*) FROM sync_runs")" = 0
'

test_expect_success 'forgeries, replays and bad headers: 400 with the reason, nothing stored' '
	event e.json charge.refunded evt_forged &&
	now=$(date +%s) &&
	good=$(sign e.json) && sig=${good#*v1=} &&
	before=$(rows) &&
	# A body altered after signing (one byte), a signature altered.
	sed "s/2000/2001/" e.json > altered.json && ! cmp -s e.json altered.json &&
	deliver altered.json "$good" && expect_error 400 SIGNATURE_MISMATCH &&
	bad=$(printf "%s" "$sig" | tr "0-9a-f" "1-9a-f0") && test "$bad" != "$sig" &&
	deliver e.json "${good%%v1=*}v1=$bad" && expect_error 400 SIGNATURE_MISMATCH &&
	# Stale (301 s, a day) and future (an hour; 301 s ahead of the shell
	# clock may be 300 by the time a worker reads it), the right secret.
	deliver e.json "$(sign e.json "$WHSEC" $((now - 301)))" &&
	expect_error 400 SIGNATURE_TIMESTAMP_STALE Stripe-Signature &&
	deliver e.json "$(sign e.json "$WHSEC" $((now - 86400)))" &&
	expect_error 400 SIGNATURE_TIMESTAMP_STALE &&
	deliver e.json "$(sign e.json "$WHSEC" $((now + 3600)))" &&
	expect_error 400 SIGNATURE_TIMESTAMP_FUTURE &&
	# Another endpoint secret; no header; malformed headers; no v1.
	deliver e.json "$(sign e.json "$OTHER")" && expect_error 400 SIGNATURE_MISMATCH &&
	deliver e.json "" && expect_error 400 SIGNATURE_MISSING Stripe-Signature &&
	for h in garbage "v1=$sig" "t=abc,v1=$sig" "t=$now, v1=$sig" \
	    "t=$now,v1=$sig," "t=$now,v1=${sig#??}" "t=$now,t=$now,v1=$sig"; do
		deliver e.json "$h" && expect_error 400 SIGNATURE_MALFORMED || return 1
	done &&
	deliver e.json "t=$now,v0=$sig" && expect_error 400 SIGNATURE_NO_V1 &&
	deliver e.json "t=$now" && expect_error 400 SIGNATURE_NO_V1 &&
	test "$(rows)" = "$before" &&
	test "$(sql "SELECT count(*) FROM webhook_events WHERE event_id = '\''evt_forged'\''")" = 0 &&
	# The untouched original still passes: the refusals were for cause.
	deliver e.json "$good" && expect_status 200
'

test_expect_success 'several v1 (a secret being rolled): the one that matches is enough' '
	event e.json charge.succeeded evt_rolled &&
	ts=$(date +%s) &&
	good=$(sign e.json "$WHSEC" "$ts") && other=$(sign e.json "$OTHER" "$ts") &&
	deliver e.json "${other},v1=${good#*v1=}" && expect_status 200 &&
	test "$(jq -r .action resp.body)" = sync &&
	test "$(sql "SELECT count(*) FROM webhook_events WHERE event_id = '\''evt_rolled'\''")" = 1
'

test_expect_success 'a redelivery of an event id is 200 and changes nothing' '
	before=$(rows) &&
	event e.json charge.succeeded evt_first && deliver e.json "$(sign e.json)" &&
	expect_status 200 &&
	test "$(jq -c . resp.body)" = "{\"received\":true,\"duplicate\":true,\"action\":\"none\"}" &&
	test "$(rows)" = "$before" &&
	test "$(sql "SELECT count(*) FROM webhook_events WHERE event_id = '\''evt_first'\''")" = 1 &&
	test "$(sql "SELECT count(*) FROM job_requests")" = 1
'

test_expect_success 'the same event delivered 12 times at once to two workers: recorded once, counted once' '
	sql "DELETE FROM job_requests" &&
	event e.json charge.succeeded evt_race && h=$(sign e.json) &&
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		mkdir -p race/$i && ( cd race/$i && deliver "$TRASH/e.json" "$h" &&
			echo "$HTTP_STATUS" > status ) &
	done && wait &&
	test "$(cat race/*/status | sort -u)" = 200 &&
	test "$(sql "SELECT count(*) FROM webhook_events WHERE event_id = '\''evt_race'\''")" = 1 &&
	test "$(sql "SELECT count(*) || '\'' '\'' || events FROM job_requests")" = "1 1" &&
	test "$(grep -l "\"duplicate\":false" race/*/resp.body | wc -l)" = 1 &&
	test "$(grep -l "\"duplicate\":true" race/*/resp.body | wc -l)" = 11
'

test_expect_success 'debounce: events of a burst make one request, due later but never past the longest wait' '
	sql "DELETE FROM job_requests" &&
	event a.json balance.available evt_burst_a "false" "{\"object\":\"balance\",\"available\":[]}" &&
	deliver a.json "$(sign a.json)" && expect_status 200 &&
	first=$(sql "SELECT first_at FROM job_requests") &&
	due1=$(sql "SELECT due_at FROM job_requests") &&
	test "$due1" = $((first + 100)) &&
	# The next event two seconds on: due 100 s after it, capped at 101.
	while [ "$(date +%s)" -lt $((first + 2)) ]; do sleep 0.1; done &&
	event b.json charge.dispute.created evt_burst_b "false" "{\"id\":\"dp_1\",\"object\":\"dispute\"}" &&
	deliver b.json "$(sign b.json)" && expect_status 200 &&
	test "$(sql "SELECT count(*) || '\'' '\'' || events || '\'' '\'' || first_at FROM job_requests")" = "1 2 $first" &&
	due2=$(sql "SELECT due_at FROM job_requests") &&
	test "$due2" -gt "$due1" && test "$due2" = $((first + 101))
'

test_expect_success 'an event of the other mode than the key is acknowledged and ignored' '
	before=$(rows) &&
	event e.json payout.paid evt_live true "{\"id\":\"po_live1\",\"object\":\"payout\"}" &&
	deliver e.json "$(sign e.json)" && expect_status 200 &&
	test "$(jq -c . resp.body)" = "{\"received\":true,\"duplicate\":false,\"action\":\"none\",\"ignored\":\"other_mode\"}" &&
	test "$(sql "SELECT action || livemode FROM webhook_events WHERE event_id = '\''evt_live'\''")" = none1 &&
	test "$(sql "SELECT sum(events) FROM job_requests")" = "$(echo "$before" | cut -d" " -f3)"
'

test_expect_success 'an event that asks for nothing is recorded, nothing requested' '
	before=$(sql "SELECT count(*) FROM job_requests") &&
	event e.json customer.created evt_cust false "{\"id\":\"cus_1\",\"object\":\"customer\"}" &&
	deliver e.json "$(sign e.json)" && expect_status 200 &&
	test "$(jq -r .action resp.body)" = none &&
	test "$(sql "SELECT action FROM webhook_events WHERE event_id = '\''evt_cust'\''")" = none &&
	test "$(sql "SELECT count(*) FROM job_requests")" = "$before"
'

test_expect_success 'payout.reconciliation_completed asks for a reconciliation of that payout' '
	event e.json payout.reconciliation_completed evt_rec false \
		"{\"id\":\"po_1OaBcDeFgHiJkLmN\",\"object\":\"payout\",\"automatic\":true}" &&
	deliver e.json "$(sign e.json)" && expect_status 200 &&
	test "$(jq -r .action resp.body)" = reconcile &&
	test "$(sql "SELECT job || '\'' '\'' || payout || '\'' '\'' || events FROM job_requests WHERE job = '\''reconcile'\''")" = "reconcile po_1OaBcDeFgHiJkLmN 1" &&
	event e.json payout.reconciliation_completed evt_rec_bad false "{\"id\":\"ch_1\",\"object\":\"charge\"}" &&
	deliver e.json "$(sign e.json)" && expect_error 400 INVALID_FIELD data.object.id &&
	test "$(sql "SELECT count(*) FROM webhook_events WHERE event_id = '\''evt_rec_bad'\''")" = 0
'

test_expect_success 'a signed body that is not an event is a 400 naming what is wrong, nothing stored' '
	before=$(rows) &&
	printf "not json" > x.json && deliver x.json "$(sign x.json)" && expect_status 400 &&
	jq -n "{id:\"ch_1\", type:\"charge.succeeded\", livemode:false, data:{object:{}}}" > x.json &&
	deliver x.json "$(sign x.json)" && expect_error 400 INVALID_FIELD id &&
	jq -n "{id:\"evt_x\", type:\"charge.succeeded\", livemode:\"no\", data:{object:{}}}" > x.json &&
	deliver x.json "$(sign x.json)" && expect_error 400 INVALID_FIELD livemode &&
	jq -n "{id:\"evt_x\", type:\"charge.succeeded\", livemode:false, data:{}}" > x.json &&
	deliver x.json "$(sign x.json)" && expect_error 400 INVALID_FIELD data.object &&
	jq -n "{id:\"evt_x\", livemode:false, data:{object:{}}}" > x.json &&
	deliver x.json "$(sign x.json)" && expect_error 400 MISSING_FIELD type &&
	test "$(rows)" = "$before"
'

test_expect_success 'no oracle: an unknown install, one without a secret, a bad id answer as a wrong signature' '
	event e.json charge.succeeded evt_probe && deliver e.json "$(sign e.json "$OTHER")" &&
	expect_error 400 SIGNATURE_MISMATCH && cp resp.body wrong.body &&
	deliver e.json "$(sign e.json)" instapp_nobody && test_cmp wrong.body resp.body &&
	expect_status 400 &&
	deliver e.json "$(sign e.json)" instapp_ro && test_cmp wrong.body resp.body &&
	deliver e.json "$(sign e.json)" "bad%id" && test_cmp wrong.body resp.body &&
	deliver e.json "" instapp_nobody && expect_error 400 SIGNATURE_MISSING &&
	test "$(sql "SELECT count(*) FROM webhook_events WHERE event_id = '\''evt_probe'\''")" = 0 &&
	! grep -e "instapp_nobody" app.log
'

test_expect_success 'GET /api/v1/stripe counts the events and shows the last' '
	api GET /api/v1/stripe && expect_status 200 &&
	test "$(jq -r .webhook.events resp.body)" = "$(sql "SELECT count(*) FROM webhook_events")" &&
	test "$(jq -r .webhook.last_event_at resp.body)" = "$(sql "SELECT max(received_at) FROM webhook_events")"
'

test_expect_success_here 'rotate-keys re-seals the webhook secret under a new key, doctor counts it, and it still verifies once the old key is gone' '
	KEY_A=$(test_config_get master_key "$CONF") && KEY_B=$(test_master_key) &&
	KID_A=$(sql "SELECT key_kid FROM webhook_secrets") && test -n "$KID_A" &&
	sed -i "s#^master_key = .*#master_key = $KEY_B\nold_master_keys = $KEY_A#" "$CONF" &&
	fcgi_stop && fcgi_start 2 &&
	stripe-syncctl --config "$CONF" rotate-keys > rot.out 2>&1 &&
	test_grep "re-sealed 4 secrets" rot.out &&
	KID_B=$(sql "SELECT key_kid FROM webhook_secrets") &&
	test "$KID_B" != "$KID_A" &&
	test "$(sql "SELECT api_key_kid FROM installs WHERE installed_app_id = '\''instapp_1'\''")" = "$KID_B" &&
	{ stripe-syncctl --config "$CONF" doctor > doc.out 2>&1 || true; } &&
	test_grep "sealed secrets: all 4 under the current master_key $KID_B" doc.out &&
	sed -i "/^old_master_keys/d" "$CONF" && fcgi_stop && fcgi_start 2 &&
	event e.json charge.succeeded evt_after_rotate && deliver e.json "$(sign e.json)" &&
	expect_status 200 && test "$(jq -r .action resp.body)" = sync
'

test_expect_success 'DELETE removes the secret: deliveries are refused again' '
	api DELETE /api/v1/stripe/webhook && expect_status 200 &&
	test "$(jq -r "[.webhook.set, .webhook.last4] | map(tostring) | join(\" \")" resp.body)" = "false null" &&
	test "$(sql "SELECT count(*) FROM webhook_secrets")" = 0 &&
	event e.json charge.succeeded evt_after_delete && deliver e.json "$(sign e.json)" &&
	expect_error 400 SIGNATURE_MISMATCH
'

test_expect_success 'uninstall destroys the secret, the events and the requests' '
	secret_body "$WHSEC" && api PUT /api/v1/stripe/webhook s.json && expect_status 200 &&
	test "$(sql "SELECT count(*) FROM webhook_secrets")" = 1 &&
	test "$(sql "SELECT count(*) FROM job_requests")" -ge 1 &&
	uninstall_event u.json instapp_1 && fcgi_req POST "$CB" u.json && expect_status 200 &&
	test "$(sql "SELECT (SELECT count(*) FROM webhook_secrets) + (SELECT count(*) FROM webhook_events) + (SELECT count(*) FROM job_requests)")" = 0 &&
	event e.json charge.succeeded evt_after_uninstall && deliver e.json "$(sign e.json)" &&
	expect_error 400 SIGNATURE_MISMATCH
'

test_expect_success 'no secret in any log' '
	for f in app.log spawn.log; do
		[ ! -f "$f" ] || {
			! grep -F -e "${WHSEC#whsec_}" "$f" &&
			! grep -F -e "${OTHER#whsec_}" "$f" &&
			! grep -F -e "$(printf "%s" "${WHSEC#whsec_}" | cut -c1-12)" "$f"
		} || return 1
	done &&
	grep -q "webhook: refused a delivery" app.log &&
	grep -q "webhook signing secret set" app.log
'

test_done
