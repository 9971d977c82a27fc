#!/bin/sh
test_description='the reconciliation, problems and webhook screens in headless Chromium over the whole stack and both simulators: a synced install reconciled through the form to "Everything matches" with no day marked; differences planted in Blnk, reconciled again: the headline counts each kind, the chart marks the days that differ, each row with both amounts and what to do, the CSV downloaded in the frame; the webhook secret saved with only its last four shown; problems of an install without alerts:write; read-only scopes; no serious axe violation'
. "$top_srcdir/t/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip_all "Chromium is not installed (Debian package: chromium)"
for p in playwright-core axe-core; do
	[ -d "$top_srcdir/t/browser/node_modules/$p" ] ||
		skip_all "$p is not installed (cd t/browser && npm ci)"
done
. "$top_srcdir/t/stack.sh"
. "$top_srcdir/t/sync.sh"

# 200 balance transactions over ten days, all inside the form's default
# period (the last 30 days); Stripe called at most twice a second, so
# that a reconciliation lasts long enough to be seen in progress.
STACK_ARGS="--stripe-seed t8500-portal-recon --stripe-count 200"
STRIPE_SYNC_STRIPE_RATE=2
export STRIPE_SYNC_STRIPE_RATE

# Payouts may not overdraw their balance: Blnk REJECTS each payout posting.
REJECTING='{"overdraft":{"payouts":false}}'

# Screenshots of every screen and the CSVs downloaded, in the trash
# directory, copied to $T8500_SHOTS at the end if that is set.
SHOTS=$TRASH/shots
mkdir -p "$SHOTS"
[ -z "${T8500_SHOTS:-}" ] ||
	test_at_exit 'rm -rf "$T8500_SHOTS" && cp -R "$SHOTS" "$T8500_SHOTS"'

# A signing secret for the webhook screen (through the environment only).
WHSEC=whsec_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')

# launch INSTALL: a fresh session of it in $TOK.
launch() {
	sim POST /_sim/launch "{\"installed_app_id\":\"$1\"}" && test "$SIM_STATUS" = 200 &&
	TOK=$(jq -r .portal_url sim.json | sed "s/.*token=//") && test -n "$TOK"
}

# browser SCENARIO INSTALL SIZE: t/browser/recon.js in Chromium, with a
# fresh session of INSTALL for the script's own look at the API (Node
# trusts the stack's certificate for it).  The session token and the
# secret go through the environment, never the command line.
browser() {
	launch "$2" &&
	env APP="$APP" SIM="$SIM" OUT="$SHOTS" CHROMIUM="$CHROMIUM" \
		NODE_EXTRA_CA_CERTS="$CA" WHSEC="$WHSEC" GONE="${GONE-}" \
		CHANGED="${CHANGED-}" PLANTED="${PLANTED-}" ID="$2" SIZE="$3" \
		TOK="$TOK" node "$top_srcdir/t/browser/recon.js" "$1"
}

# problems_settled: wait until none of the install's problems is pending.
problems_settled() {
	_end=$(( $(date +%s) + 60 ))
	while :; do
		api GET "/api/v1/problems?limit=100" && want 200 || return 1
		[ "$(jq "[.data[] | select(.state == \"pending\")] | length" api.json)" = 0 ] &&
			return 0
		[ "$(date +%s)" -lt "$_end" ] || { echo "problems still pending:"; cat api.json; echo; return 1; }
		sleep 0.2
	done
}

# core_q JQ: the APPLIED _q rows of $INSTANCE that match a jq condition,
# one a line: reference (without _q), day, precise_amount.
core_q() {
	sim GET "/_sim/core?instance_id=$INSTANCE" &&
	jq -r "[.transactions[] | select(.reference | endswith(\"_q\")) |
		select(.status == \"APPLIED\") | select($1)] | .[] |
		\"\\(.reference | rtrimstr(\"_q\")) \\(.effective_date[0:10]) \\(.precise_amount)\"" sim.json
}

test_expect_success_here 'setup: the stack with the Stripe simulator; a full install synced; one without alerts:write with REJECTED postings; a read-only one' '
	sync_setup 2 && FULL=$ID && FULL_INSTANCE=$INSTANCE && FULL_TOK=$TOK &&
	sync_now && sync_wait &&
	test "$(jq -r .status run.json)" = completed &&
	test "$(jq -r .counts.found run.json)" = 200 &&
	sim POST /_sim/install "{\"instance_id\":\"inst_noalerts\",\"scopes\":[\"data:read\",\"data:write\",\"alerts:read\"]}" &&
	test "$SIM_STATUS" = 200 && NS=$(jq -r .installed_app_id sim.json) &&
	launch "$NS" &&
	api PUT /api/v1/stripe "{\"api_key\":\"$SKEY\"}" && want 200 &&
	api PUT /api/v1/settings "$REJECTING" && want 200 &&
	sync_now && sync_wait &&
	test "$(jq -r .counts.rejected run.json)" -gt 0 &&
	problems_settled &&
	test "$(jq "[.data[] | select(.state == \"unscoped\")] | length" api.json)" -gt 0 &&
	sim POST /_sim/install "{\"instance_id\":\"inst_readonly\",\"scopes\":[\"data:read\"]}" &&
	test "$SIM_STATUS" = 200 && RO=$(jq -r .installed_app_id sim.json) &&
	launch "$RO"
'

test_expect_success 'framed at 480 px: the form refuses bad input at its field (the page, then the server: nothing queued); Reconcile followed live to "Everything matches" with the API'"'"'s counts and totals, a chart per currency with no day marked' '
	browser clean "$FULL" 480
'

test_expect_success_here 'planted in Blnk, on three different days: a posting gone, an amount changed, a reference Stripe does not know' '
	INSTANCE=$FULL_INSTANCE &&
	YDAY=$(date -u -d yesterday +%F) &&
	core_q ".meta_data.stripe_type == \"charge\" and (.reference | endswith(\".gross_q\")) and .effective_date[0:10] != \"$YDAY\"" > charges &&
	read -r GONE GONE_DAY _amt < charges &&
	grep -v " $GONE_DAY " charges | head -1 > changed &&
	read -r CHANGED _day AMT < changed &&
	test -n "$GONE" && test -n "$CHANGED" &&
	sim POST /_sim/tamper "{\"instance_id\":\"$INSTANCE\",\"op\":\"delete\",\"reference\":\"$GONE\"}" &&
	test "$SIM_STATUS" = 200 &&
	sim POST /_sim/tamper "{\"instance_id\":\"$INSTANCE\",\"op\":\"amount\",\"reference\":\"$CHANGED\",\"precise_amount\":$((AMT + 250))}" &&
	test "$SIM_STATUS" = 200 &&
	PLANTED=stripe.txn_t8500planted.gross &&
	sim POST /_sim/tamper "{\"instance_id\":\"$INSTANCE\",\"op\":\"add\",\"reference\":\"$PLANTED\",\"precise_amount\":700,\"currency\":\"USD\",\"source\":\"@world\",\"destination\":\"@stripe\",\"effective_date\":\"${YDAY}T12:00:00Z\"}" &&
	test "$SIM_STATUS" = 200
'

test_expect_success 'framed at 480 px: reconciled again: the headline counts each kind, the chart marks exactly the days that differ, each difference with the Stripe id, the reference, both amounts and what to do; the CSV saved from the frame, header and one row each' '
	browser diffs "$FULL" 480
'

test_expect_success 'at 1280 px: the history with both, the newest opened from it: the same checks, the table, the CSV' '
	browser look "$FULL" 1280
'

test_expect_success 'framed at 480 px: the webhook secret: a bad one refused at its field and not sent, saved with only its last four back, removed once confirmed' '
	browser webhook "$FULL" 480
'

for _size in 480 1280; do
	test_expect_success "problems at $_size px: without alerts:write, each shown with its title, description, time and state in words; the nav counts those not flagged" "
		browser problems \"\$NS\" $_size
	"
	test_expect_success "read-only scopes at $_size px: no secret field, Save disabled with the reason; Reconcile disabled without Stripe" "
		browser readonly \"\$RO\" $_size
	"
done

test_expect_success 'the API agrees with what the screens did' '
	launch "$FULL" &&
	api GET /api/v1/reconciliations && want 200 &&
	test "$(jq -c .counts api.json)" = "{\"all\":2,\"completed\":2,\"in_progress\":0,\"failed\":0}" &&
	test "$(jq -r "[.data[].result] | join(\",\")" api.json)" = differences,clean &&
	test "$(jq -r "[.data[].trigger] | unique | join(\",\")" api.json)" = portal &&
	api GET /api/v1/stripe && want 200 &&
	test "$(jq -r .webhook.set api.json)" = false &&
	launch "$RO" && api GET /api/v1/reconciliations && want 200 &&
	test "$(jq -r .counts.all api.json)" = 0
'

test_expect_success 'no session token, webhook secret or Stripe key reached a log' '
	test -d "$LOGS" &&
	! grep -r -F -e "$WHSEC" -e "${WHSEC#whsec_}" -e "$SKEY" -e "$FULL_TOK" "$LOGS"
'

test_done
