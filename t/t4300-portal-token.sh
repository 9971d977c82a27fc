#!/bin/sh
# The portal's rule for the launch token, checked without a browser
# (t/portal-token.js runs portal-static/app.js under Node with a fake
# window), so it is checked also where t8200's browser packages are absent:
# out of the address bar before the first API call, sent only as a bearer
# token, kept only in this tab's sessionStorage (never localStorage or a
# cookie), deleted when the server ends the session or it expires.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
if ! command -v node >/dev/null 2>&1; then
	echo "1..0 # SKIP node is not installed (Debian package: nodejs)"
	exit 0
fi
exec node "$top_srcdir/t/portal-token.js" "$top_srcdir/portal-static/app.js"
