#!/bin/sh
# The Cloud simulator's behaviour is specified by its own node:test suite
# (tools/cloud-sim/test/); this runs it and passes its TAP through.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
if ! command -v node >/dev/null 2>&1; then
	echo "1..0 # SKIP node is not installed (Debian package: nodejs)"
	exit 0
fi
exec node --test --test-reporter=tap "$top_srcdir/tools/cloud-sim/test/"
