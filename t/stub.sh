# t/stub.sh: a scripted HTTP server on loopback (t/http-stub.js) standing
# in for Blnk Cloud, for the tests of the outbound path.  Source it after
# t/lib.sh.
#
#   STUB                  its base URL (http://127.0.0.1:PORT)
#   stub_script JSON      queue answers for the next requests
#   stub_reset            forget requests, script and connection count
#   stub_log              the requests seen, into stub.json
#   stub_count            how many requests it has seen

command -v node >/dev/null || skip_all "node is not installed"

node "$top_srcdir/t/http-stub.js" "$TRASH/stub.ready" 2>>"$TRASH/stub.log" &
STUB_PID=$!
test_at_exit 'kill $STUB_PID 2>/dev/null; wait $STUB_PID 2>/dev/null'
_n=0; while [ ! -s "$TRASH/stub.ready" ]; do
	_n=$((_n + 1)); [ $_n -lt 500 ] || { echo "Bail out! the stub did not start"; exit 1; }
	sleep 0.01
done
STUB=$(cat "$TRASH/stub.ready")

stub_script() { curl -fsS -X POST -H 'Content-Type: application/json' -d "$1" "$STUB/_stub/script" >/dev/null; }
stub_reset() { curl -fsS -X POST "$STUB/_stub/reset" >/dev/null; }
stub_log() { curl -fsS "$STUB/_stub/log" > stub.json; }
stub_count() { curl -fsS "$STUB/_stub/log" | jq ".requests | length"; }
