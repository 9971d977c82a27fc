#!/bin/sh
test_description='every portal screen in headless Chromium, framed at 480 px and at 1280 px, full and read-only scopes, each error state, no serious axe violation'
. "$top_srcdir/t/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip_all "Chromium is not installed (Debian package: chromium)"
for p in playwright-core axe-core; do
	[ -d "$top_srcdir/t/browser/node_modules/$p" ] ||
		skip_all "$p is not installed (cd t/browser && npm ci)"
done
. "$top_srcdir/t/stack.sh"

# Test-only: the simulator returns the minted api_key, so the test can make
# ledger data through the gateway as the app would.
CLOUD_SIM_EXPOSE_KEYS=1
export CLOUD_SIM_EXPOSE_KEYS

# Screenshots of every screen: in the trash directory (kept when a test
# fails), and copied to $T8300_SHOTS at the end if that is set (to look at
# them after a passing run).
SHOTS=$TRASH/shots
mkdir -p "$SHOTS"
[ -z "${T8300_SHOTS:-}" ] ||
	test_at_exit 'rm -rf "$T8300_SHOTS" && cp -R "$SHOTS" "$T8300_SHOTS"'

# browser SCENARIO [VAR=value...]: t/browser/screens.js in Chromium.
browser() {
	_s=$1; shift
	env APP="$APP" SIM="$SIM" OUT="$SHOTS" CHROMIUM="$CHROMIUM" \
		BAL1="$BAL1" BAL2="$BAL2" "$@" \
		node "$top_srcdir/t/browser/screens.js" "$_s"
}

# both_sizes SCENARIO INSTALL WHAT: one test each for the scenario framed
# by the launch page at 480 px and in a tab of its own at 1280 px.
both_sizes() {
	for _size in 480 1280; do
		test_expect_success "$3 at $_size px" "browser $1 ID=$2 SIZE=$_size"
	done
}

# gw METHOD PATH JSON: the simulator's gateway with the full install's key;
# answer in gw.json, which must be a 2xx.
gw() {
	_st=$(curl -s -o gw.json -w '%{http_code}' -X "$1" \
		-H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' \
		--data "$3" "$SIM$2?instance_id=$INST") &&
	case "$_st" in 2??) ;; *) echo "gateway $1 $2: $_st"; cat gw.json; return 1 ;; esac
}

test_expect_success_here 'setup: the stack; a full install with a ledger, balances and transactions; a read-only one on an empty instance' '
	stack_start 2 &&
	sim POST /_sim/register "{}" &&
	sim POST /_sim/install "{}" &&
	test "$(jq -r .status sim.json)" = installed &&
	FULL=$(jq -r .installed_app_id sim.json) &&
	KEY=$(jq -r .api_key sim.json) && INST=$(jq -r .instance_id sim.json) &&
	gw POST /proxy/ledgers "{\"name\":\"Stripe USD\",\"meta_data\":{}}" &&
	LEDGER=$(jq -r .ledger_id gw.json) &&
	gw POST /proxy/balances "{\"ledger_id\":\"$LEDGER\",\"currency\":\"USD\",\"meta_data\":{}}" &&
	BAL1=$(jq -r .balance_id gw.json) &&
	gw POST /proxy/balances "{\"ledger_id\":\"$LEDGER\",\"currency\":\"USD\",\"meta_data\":{}}" &&
	BAL2=$(jq -r .balance_id gw.json) &&
	for i in 1 2 3 4 5 6 7 8 9 10 11; do
		gw POST /proxy/transactions "{\"precise_amount\":$((i * 1250)),\"precision\":100,\"currency\":\"USD\",\"source\":\"@stripe\",\"destination\":\"$BAL1\",\"description\":\"Pay-in $i\",\"reference\":\"seed-payin-$i\",\"allow_overdraft\":true}" || return 1
	done &&
	gw POST /proxy/transactions "{\"precise_amount\":5000,\"precision\":100,\"currency\":\"USD\",\"source\":\"$BAL1\",\"destination\":\"$BAL2\",\"description\":\"Move to reserve\",\"reference\":\"seed-move\"}" &&
	gw POST /proxy/transactions "{\"precise_amount\":90000000,\"precision\":100,\"currency\":\"USD\",\"source\":\"$BAL2\",\"destination\":\"@payouts\",\"description\":\"Payout too large\",\"reference\":\"seed-payout\"}" &&
	n=0 && while [ "$(curl -s "$SIM/_sim/core?instance_id=$INST" | jq .pending)" != 0 ]; do
		n=$((n + 1)) && [ $n -lt 500 ] || return 1; sleep 0.01
	done &&
	sim POST /_sim/install "{\"scopes\":[\"data:read\"],\"instance_id\":\"inst_empty\"}" &&
	test "$(jq -r .status sim.json)" = installed &&
	EMPTY=$(jq -r .installed_app_id sim.json)
'

both_sizes tour "$FULL" "full scopes: overview, ledgers, balances, transactions with paging, filters and details, flagging, posting to APPLIED and REJECTED"

both_sizes empty "$EMPTY" "read-only scopes on an empty instance: empty lists, what is not granted is disabled with the reason"

both_sizes alerts "$FULL" "alerts: the flagged balance listed, opened and moved to INVESTIGATING, through the simulator"

both_sizes errors "$FULL" "upstream failures: each code gets its own state with a next step, and Try again recovers"

test_expect_success 'a reload keeps the session in sessionStorage only; the token never returns to the address' '
	browser reload ID=$FULL SIZE=1280
'

both_sizes expiry "$FULL" "the expiry is shown; when it passes the page says to launch again and forgets the token"

for _size in 480 1280; do
	test_expect_success "an expired launch link: SESSION_EXPIRED with the next step at $_size px" '
		tok=$(mint-token --config "$CONF" --install "$FULL" --instance "$INST" --ttl -5) &&
		browser session ID=$FULL SIZE='"$_size"' URL="$APP/?token=$tok" CODE=SESSION_EXPIRED
	'
done

test_expect_success_here 'read-only scopes on the seeded instance (after an uninstall, which ends the open session)' '
	browser uninstalled ID=$FULL SIZE=480 &&
	sim POST /_sim/install "{\"scopes\":[\"data:read\"]}" &&
	test "$(jq -r .status sim.json)" = installed &&
	RO=$(jq -r .installed_app_id sim.json)
'

both_sizes readonly "$RO" "read-only scopes with data: browse, details, no posting, no flagging"

test_done
