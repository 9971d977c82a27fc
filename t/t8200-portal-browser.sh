#!/bin/sh
test_description='the portal in headless Chromium, framed by the Cloud simulator'
. "$top_srcdir/t/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip_all "Chromium is not installed (Debian package: chromium)"
[ -d "$top_srcdir/t/browser/node_modules/playwright-core" ] ||
	skip_all "playwright-core is not installed (cd t/browser && npm ci)"
. "$top_srcdir/t/stack.sh"

browser() {
	APP=$APP SIM=$SIM ID=$ID OUT=$TRASH CHROMIUM=$CHROMIUM \
		node "$top_srcdir/t/browser/portal.js" "$@"
}

test_expect_success_here 'setup: the stack, with the app installed without alerts:read' '
	stack_start 2 &&
	sim POST /_sim/register "{}" &&
	sim POST /_sim/install "{\"scopes\":[\"data:read\",\"data:write\",\"alerts:write\"]}" &&
	test "$(jq -r .status sim.json)" = installed &&
	ID=$(jq -r .installed_app_id sim.json)
'

test_expect_success 'the launch page frames the portal; it loads its context and drops the token from its address' '
	browser framed && test -s framed.png
'

test_expect_success 'the Open link works in a tab of its own' '
	browser tab
'

test_expect_success 'a page on another origin cannot frame the portal' '
	browser foreign
'

test_expect_success 'an uninstalled app: the portal says so and what to do' '
	sim POST /_sim/launch "{\"installed_app_id\":\"$ID\"}" &&
	url=$(jq -r .portal_url sim.json) &&
	sim POST /_sim/uninstall "{\"installed_app_id\":\"$ID\"}" &&
	test "$(jq -r .status sim.json)" = uninstalled &&
	URL=$url CODE=APP_UNINSTALLED browser session
'

test_expect_success 'a tampered link: the portal says the session is not valid' '
	URL="$APP/?token=djF8Zm9yZ2Vk.AAAA" CODE=TOKEN_INVALID browser session
'

test_expect_success 'the dashboard buttons work in a real browser: install, launch, redeliver, uninstall' '
	browser buttons > buttons.out &&
	new=$(cat buttons.out) &&
	sim GET /_sim/installs &&
	jq -e --arg id "$new" ".data[] | select(.installed_app_id == \$id) |
		.status == \"uninstalled\" and (.events | length) == 2 and
		(.events[0].deliveries | length) == 2 and
		.events[1].deliveries[0].ok and .last_launch.ok" sim.json &&
	test -s buttons.png
'

test_done
