#!/bin/sh
test_description='Stripe webhooks through the whole stack: the Stripe simulator delivers signed events over TLS through nginx; new activity makes one webhook sync that imports it; payout.reconciliation_completed queues a reconciliation of that payout; forgeries are refused at the edge'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/stack.sh"
. "$top_srcdir/t/sync.sh"

STACK_ARGS="--stripe-seed t7500-webhook --stripe-count 200"

# stack_sql QUERY: read the stack's database (never written from here),
# waiting up to 10 s for a writer of the app (it holds the lock a moment).
stack_sql() { sqlite3 -readonly -cmd ".timeout 10000" "$STACK/s/data/stripe-sync.db" "$1"; }

# hook_post SIGNATURE BODYFILE: a delivery to the install's endpoint
# through nginx, as Stripe would make it -> hook.json, $HOOK_STATUS.
hook_post() {
	if [ -n "$1" ]; then
		HOOK_STATUS=$(https -o hook.json -w '%{http_code}' -X POST \
			-H 'Content-Type: application/json; charset=utf-8' \
			-H "Stripe-Signature: $1" --data-binary "@$2" "$APP/api/stripe/webhook/$ID")
	else
		HOOK_STATUS=$(https -o hook.json -w '%{http_code}' -X POST \
			-H 'Content-Type: application/json; charset=utf-8' \
			--data-binary "@$2" "$APP/api/stripe/webhook/$ID")
	fi
}

# webhook_runs: the ids of the install's sync runs that webhooks queued.
webhook_runs() {
	api GET "/api/v1/syncs?page_size=100" && [ "$ST" = 200 ] &&
	jq -r '.data[] | select(.trigger == "webhook") | .id' api.json
}

# deliveries_done: every delivery the simulator tried has ended.
deliveries_done() {
	stripe GET /_sim/webhooks && [ "$(jq -r .in_flight stripe.json)" = 0 ] &&
	[ "$(jq -r .retries_pending stripe.json)" = 0 ]
}

test_expect_success_here 'setup: the stack, an install, the simulated Stripe connected and imported once' '
	sync_setup 2 &&
	sync_now && sync_wait && test "$(jq -r .status run.json)" = completed
'

test_expect_success_here 'the simulator registers the stack as its endpoint; the secret is set in the portal' '
	stripe POST /_sim/webhooks "{\"url\":\"$APP/api/stripe/webhook/$ID\",\"ca_file\":\"$CA\"}" &&
	test "$STRIPE_STATUS" = 200 &&
	WHSEC=$(jq -r .secret stripe.json) &&
	case "$WHSEC" in whsec_?*) ;; *) false ;; esac &&
	api PUT /api/v1/stripe/webhook "{\"secret\":\"$WHSEC\"}" && want 200 &&
	test "$(jq -r .webhook.set api.json)" = true
'

# Signed with Stripe's own library when it is installed (tools/test's npm
# ci), else by hand with openssl: the header reaches the app either way.
have_stripe_npm() { [ -d "$top_srcdir/tools/stripe-sim/test/node_modules/stripe" ]; }
sign() {
	if have_stripe_npm; then
		node "$top_srcdir/t/webhook-sign.js" "$1" "$2"
	else
		_t=$(date +%s)
		echo "t=$_t,v1=$( { printf "%s." "$_t"; cat "$2"; } |
			openssl dgst -sha256 -hmac "$1" | sed "s/.*= //")"
	fi
}

test_expect_success 'through nginx: Stripe-signed deliveries are taken, forgeries and no signature are 400' '
	jq -n "{id:\"evt_edge_1\", object:\"event\", type:\"customer.created\", livemode:false,
		data:{object:{id:\"cus_1\", object:\"customer\"}}}" > ev.json &&
	hook_post "$(sign "$WHSEC" ev.json)" ev.json &&
	test "$HOOK_STATUS" = 200 && test "$(jq -r .received hook.json)" = true &&
	hook_post "$(sign "whsec_forgedforgedforgedforged" ev.json)" ev.json &&
	test "$HOOK_STATUS" = 400 && test "$(jq -r .error.code hook.json)" = SIGNATURE_MISMATCH &&
	hook_post "" ev.json &&
	test "$HOOK_STATUS" = 400 && test "$(jq -r .error.code hook.json)" = SIGNATURE_MISSING &&
	test "$(webhook_runs | wc -l)" = 0
'

test_expect_success 'new activity: signed events through nginx, one webhook sync, which imports it' '
	stripe POST /_sim/activity "{\"count\":20}" && test "$STRIPE_STATUS" = 200 &&
	n=0 && until deliveries_done; do
		n=$((n + 1)); [ $n -lt 200 ] || { cat stripe.json; return 1; }; sleep 0.1
	done &&
	stripe GET /_sim/webhooks && cp stripe.json deliveries.json &&
	test "$(jq "[.deliveries[] | select(.type == \"charge.succeeded\")] | length" deliveries.json)" -ge 1 &&
	test "$(jq -r "[.deliveries[].status] | unique | join(\",\")" deliveries.json)" = 200 &&
	sent=$(jq ".deliveries | length" deliveries.json) &&
	# debounce (5 s) and the runner poll: the run comes within seconds.
	n=0 && until [ -n "$(webhook_runs)" ]; do
		n=$((n + 1)); [ $n -lt 150 ] || { echo "no webhook run"; return 1; }; sleep 0.2
	done &&
	RUN=$(webhook_runs) && test "$(echo "$RUN" | wc -l)" = 1 &&
	sync_wait &&
	test "$(jq -r "[.status, .trigger, .kind] | join(\" \")" run.json)" = "completed webhook all" &&
	test "$(jq -r .counts.found run.json)" = 20 &&
	test "$(jq -r .counts.imported run.json)" = 20 &&
	sync_verify && test "$(jq -r .txns verify.json)" = 220 &&
	api GET /api/v1/stripe && want 200 &&
	test "$(jq -r .webhook.events api.json)" -ge "$sent" &&
	test "$(stack_sql "SELECT count(*) FROM job_requests")" = 0 &&
	sleep 6 && test "$(webhook_runs | wc -l)" = 1
'

test_expect_success 'payout.reconciliation_completed: a reconciliation of that payout is queued' '
	stripe POST /_sim/webhooks/send "{\"type\":\"payout.reconciliation_completed\"}" &&
	test "$STRIPE_STATUS" = 200 &&
	test "$(jq -r ".deliveries[0].status" stripe.json)" = 200 &&
	PO=$(jq -r .event.object stripe.json) && case "$PO" in po_?*) ;; *) false ;; esac &&
	n=0 && until [ -n "$(stack_sql "SELECT run_id FROM reconciliations WHERE payout = '\''$PO'\''")" ]; do
		n=$((n + 1)); [ $n -lt 150 ] || { echo "no reconciliation queued"; return 1; }; sleep 0.2
	done &&
	test "$(stack_sql "SELECT s.job || '\'' '\'' || s.trigger || '\'' '\'' || r.scope || '\'' '\'' || r.payout FROM sync_runs s JOIN reconciliations r USING (run_id) WHERE r.payout = '\''$PO'\''")" = "reconcile webhook payout $PO" &&
	test "$(stack_sql "SELECT count(*) FROM sync_runs WHERE job = '\''reconcile'\''")" = 1 &&
	case "$(stack_sql "SELECT run_id FROM reconciliations WHERE payout = '\''$PO'\''")" in rec_?*) ;; *) false ;; esac
'

test_expect_success 'no secret reached a log; nginx logs the route redacted' '
	! grep -r -F -e "${WHSEC#whsec_}" "$LOGS" &&
	! grep -r -F -e "$SKEY" "$LOGS" &&
	grep -q "/api/stripe/webhook/\[redacted\]" "$LOGS/stripe-sync.access.log" &&
	grep -q "webhook: sync run_" "$LOGS/app.log"
'

test_done
