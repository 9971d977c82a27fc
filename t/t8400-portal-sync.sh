#!/bin/sh
test_description='the sync screens in headless Chromium over the whole stack and the Stripe simulator: Stripe connected through the form, settings saved, Sync now followed live to Completed, the four cards, the run with its balances, read-only scopes; no serious axe violation'
. "$top_srcdir/t/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip_all "Chromium is not installed (Debian package: chromium)"
for p in playwright-core axe-core; do
	[ -d "$top_srcdir/t/browser/node_modules/$p" ] ||
		skip_all "$p is not installed (cd t/browser && npm ci)"
done
. "$top_srcdir/t/stack.sh"
. "$top_srcdir/t/sync.sh"

# 300 balance transactions in the simulated account; the job runner calls
# Stripe at most once a second (stripe_rate, from the environment), so
# that a sync lasts long enough to be watched as it goes: its history is
# refreshed every 1.5 s, and the tour wants to see two refreshes while it
# runs (at twice a second the sync took 2 s here, too close).
STACK_ARGS="--stripe-seed t8400-portal-sync --stripe-count 300"
STRIPE_SYNC_STRIPE_RATE=1
export STRIPE_SYNC_STRIPE_RATE

# Screenshots of every screen (and what the progress showed) in the trash
# directory, copied to $T8400_SHOTS at the end if that is set.
SHOTS=$TRASH/shots
mkdir -p "$SHOTS"
[ -z "${T8400_SHOTS:-}" ] ||
	test_at_exit 'rm -rf "$T8400_SHOTS" && cp -R "$SHOTS" "$T8400_SHOTS"'

# browser SCENARIO [VAR=value...]: t/browser/sync.js in Chromium.  The
# Stripe keys go through the environment, never the command line.
browser() {
	_s=$1; shift
	env APP="$APP" SIM="$SIM" STRIPE="$STRIPE" OUT="$SHOTS" \
		CHROMIUM="$CHROMIUM" SKEY="$SKEY" LKEY="$LKEY" "$@" \
		node "$top_srcdir/t/browser/sync.js" "$_s"
}

test_expect_success_here 'setup: the stack with the Stripe simulator; a full install, and a read-only one on another instance' '
	stack_start 2 &&
	sim POST /_sim/register "{}" && test "$SIM_STATUS" = 200 &&
	sim POST /_sim/install "{}" && test "$(jq -r .status sim.json)" = installed &&
	FULL=$(jq -r .installed_app_id sim.json) &&
	sim POST /_sim/install "{\"scopes\":[\"data:read\"],\"instance_id\":\"inst_readonly\"}" &&
	test "$(jq -r .status sim.json)" = installed &&
	RO=$(jq -r .installed_app_id sim.json) &&
	SKEY=$(jq -r ".test[0]" "$STACK/s/etc/stripe-sim-keys.json") &&
	LKEY=$(jq -r ".live[0]" "$STACK/s/etc/stripe-sim-keys.json") &&
	test -n "$SKEY" && test -n "$LKEY"
'

test_expect_success 'framed at 480 px: Stripe connected through the form (a refused key named at its field, mode and last four only), settings saved (a bad value refused at its field), Sync now followed live to Completed, the cards, the run with its balances matching, a pay-in sync followed on its page, disconnect, the mode switch confirmed' '
	browser tour ID=$FULL SIZE=480
'

test_expect_success 'at 1280 px: every sync screen with data, the cards as filters by keyboard' '
	browser look ID=$FULL SIZE=1280
'

for _size in 480 1280; do
	test_expect_success "read-only scopes at $_size px: no key field, settings and Sync now disabled, each with the reason" "
		browser readonly ID=\$RO SIZE=$_size
	"
done

test_expect_success 'the API agrees with what the screens showed' '
	sim POST /_sim/launch "{\"installed_app_id\":\"$FULL\"}" &&
	TOK=$(jq -r .portal_url sim.json | sed "s/.*token=//") &&
	api GET /api/v1/syncs && want 200 &&
	test "$(jq -c .counts api.json)" = "{\"all\":2,\"completed\":2,\"in_progress\":0,\"failed\":0}" &&
	test "$(jq -r "[.data[].name] | join(\",\")" api.json)" = "Pay-in sync,Full sync" &&
	test "$(jq -r "[.data[].trigger] | unique | join(\",\")" api.json)" = portal &&
	api GET /api/v1/stripe && want 200 &&
	test "$(jq -r "[.connected, .mode] | join(\" \")" api.json)" = "true test" &&
	api GET /api/v1/settings && want 200 &&
	test "$(jq -r .mapping.guest_balance api.json)" = @stripe-guests-2 &&
	test "$(jq -r .mapping.fees api.json)" = @stripe-fees &&
	test "$(jq -r .schedule_minutes api.json)" = 0
'

test_expect_success 'no Stripe key reached a log' '
	test -d "$LOGS" && ! grep -r -F -e "$SKEY" -e "$LKEY" "$LOGS"
'

test_done
