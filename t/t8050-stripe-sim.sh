#!/bin/sh
# The Stripe simulator's behaviour is specified by its own node:test suite
# (tools/stripe-sim/test/), which reads it through Stripe's official Node
# client; this runs it and passes its TAP through.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
if ! command -v node >/dev/null 2>&1; then
	echo "1..0 # SKIP node is not installed (Debian package: nodejs)"
	exit 0
fi
if [ ! -d "$top_srcdir/tools/stripe-sim/test/node_modules/stripe" ]; then
	echo "1..0 # SKIP the stripe npm package is not installed (cd tools/stripe-sim/test && npm ci)"
	exit 0
fi
# No test may hang the suite: each has 60 s, and the whole run 10 minutes
# (then the TAP stream ends without its plan, which fails the file).
exec timeout 600 node --test --test-timeout=60000 --test-force-exit \
	--test-reporter=tap "$top_srcdir/tools/stripe-sim/test/"
