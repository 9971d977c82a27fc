# t/sync.sh: the sync tests' vocabulary over the whole stack (t/stack.sh):
# an install connected to the Stripe simulator, runs started and followed
# through the portal API, and Blnk compared with Stripe.  Source it after
# t/lib.sh and t/stack.sh.
#
#   sync_setup [WORKERS]  stack_start, register, install with every scope,
#                         a session ($TOK), the simulator's test key connected;
#                         sets ID, INSTANCE, SKEY
#   api METHOD PATH [JSON]  a portal API call: body in api.json, status $ST
#   want STATUS [CODE]    the last call answered that
#   sync_now [KIND]       queue a run; its id in $RUN
#   sync_wait [SECONDS]   wait for $RUN to end (default 120 s): run.json
#   sync_verify [OPTS]    Blnk holds Stripe exactly (t/sync-verify.js)
#   syncd_restart         start a stripe-syncd like the stack's (its pid
#                         recorded for stack_stop)
#   recon_now [JSON]      queue a reconciliation; its id in $REC
#   recon_wait [SECONDS]  wait for $REC to end: rec.json

# Test-only: the simulator returns the minted api keys.
CLOUD_SIM_EXPOSE_KEYS=1
export CLOUD_SIM_EXPOSE_KEYS

api() {
	if [ $# -ge 3 ]; then
		ST=$(https -o api.json -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOK" \
			-H 'Content-Type: application/json' --data "$3" "$APP$2")
	else
		ST=$(https -o api.json -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOK" "$APP$2")
	fi
}
want() {
	[ "$ST" = "$1" ] && { [ -z "${2-}" ] || [ "$(jq -r .error.code api.json)" = "$2" ]; } ||
		{ echo "status $ST, want $1 ${2-}:"; cat api.json; echo; return 1; }
}

sync_setup() {
	stack_start "${1:-2}" &&
	sim POST /_sim/register "{}" && test "$SIM_STATUS" = 200 &&
	sim POST /_sim/install "{}" && test "$SIM_STATUS" = 200 &&
	ID=$(jq -r .installed_app_id sim.json) &&
	INSTANCE=$(jq -r .instance_id sim.json) &&
	sim POST /_sim/launch "{\"installed_app_id\":\"$ID\"}" && test "$SIM_STATUS" = 200 &&
	TOK=$(jq -r .portal_url sim.json | sed "s/.*token=//") && test -n "$TOK" &&
	SKEY=$(jq -r ".test[0]" "$STACK/s/etc/stripe-sim-keys.json") &&
	api PUT /api/v1/stripe "{\"api_key\":\"$SKEY\"}" && want 200
}

sync_now() {
	api POST /api/v1/syncs "{\"kind\":\"${1:-all}\"}" && want 202 &&
	RUN=$(jq -r .id api.json)
}

# job_wait PATH OUT SECONDS: poll the job at PATH until it has ended; its
# last answer in OUT.
job_wait() {
	_end=$(( $(date +%s) + $3 * ${VG_SCALE:-1} ))
	while :; do
		api GET "$1" || return 1
		[ "$ST" = 200 ] || { cat api.json; echo; return 1; }
		case "$(jq -r .status api.json)" in
		completed|failed) cp api.json "$2"; return 0 ;;
		esac
		[ "$(date +%s)" -lt "$_end" ] || { echo "$1 did not end:"; cat api.json; echo; return 1; }
		sleep 0.2
	done
}

sync_wait() {
	job_wait "/api/v1/syncs/$RUN" run.json "${1:-120}"
}

# run_show: what a failed check of a run should print: the run as the
# API last showed it, and the job runner's last words.
run_show() {
	echo "the run:"; jq -c "{status, attempts, phase: .progress.phase, counts, error}" run.json
	echo "stripe-syncd, last lines:"; grep "stripe-syncd" "$LOGS/app.log" | tail -n 15
	tail -n 5 "$LOGS/syncd.log"
}

# db SQL: the stack's database, by hand (waits for a writer).
db() {
	sqlite3 -cmd ".timeout 10000" "$STACK/s/data/stripe-sync.db" "$@"
}

# items_stranded: how many of install $ID's items are 'sent' with every
# posting decided.  Each should have been settled in the transaction that
# decided its last posting; one left so is in no batch confirm reads back.
items_stranded() {
	db "SELECT count(*) FROM sync_items i WHERE installed_app_id = '$ID' AND state = 'sent' AND txn_id IN (SELECT txn_id FROM sync_postings WHERE installed_app_id = '$ID') AND NOT EXISTS (SELECT 1 FROM sync_postings p WHERE p.installed_app_id = i.installed_app_id AND p.txn_id = i.txn_id AND p.state = 'sent')"
}

sync_verify() {
	node "$top_srcdir/t/sync-verify.js" "$STRIPE" "$SKEY" "$SIM" "$INSTANCE" "$@" > verify.json ||
		{ cat verify.json; return 1; }
}

# stripe-syncd with the stack's configuration, as the stack's user; waits
# for its "ready" line (before it, a SIGHUP would still kill it).
syncd_restart() {
	_r=$(grep -c "stripe-syncd ready" "$LOGS/app.log" || true)
	# Started from a subshell, so that it is not a job of the test's
	# shell: a runner the test kills is not reported ("Killed ...") into
	# the output a failure shows.
	(
		# shellcheck disable=SC2086
		if [ "$(id -u)" = 0 ]; then
			setpriv --reuid=nobody --regid="$(id -gn nobody)" --init-groups \
				${VALGRIND:-} "$STACK/s/bin/stripe-syncd" -c "$CONF" >> "$LOGS/syncd.log" 2>&1 &
		else
			${VALGRIND:-} "$STACK/s/bin/stripe-syncd" -c "$CONF" >> "$LOGS/syncd.log" 2>&1 &
		fi
		echo $! > "$STACK/s/pids/${1:-syncd}.pid"
	)
	_n=0 && while [ "$(grep -c "stripe-syncd ready" "$LOGS/app.log")" -le "$_r" ]; do
		_n=$((_n + 1)); [ $_n -lt $((500 * ${VG_SCALE:-1})) ] || { echo "stripe-syncd did not start"; return 1; }
		sleep 0.01
	done
}

# sync_install INSTANCE: install the app on another instance of the Cloud
# simulator (its own Core) and connect the same Stripe account; sets ID,
# INSTANCE, TOK.
sync_install() {
	sim POST /_sim/install "{\"instance_id\":\"$1\"}" && test "$SIM_STATUS" = 200 &&
	ID=$(jq -r .installed_app_id sim.json) && INSTANCE=$1 &&
	sim POST /_sim/launch "{\"installed_app_id\":\"$ID\"}" && test "$SIM_STATUS" = 200 &&
	TOK=$(jq -r .portal_url sim.json | sed "s/.*token=//") && test -n "$TOK" &&
	api PUT /api/v1/stripe "{\"api_key\":\"$SKEY\"}" && want 200
}

# conf_set KEY VALUE: set a key in the stack's configuration and have
# stripe-syncd reload it (wait for its log line: it reloads between runs).
conf_set() {
	sed -i "/^$1[ 	]*=/d" "$CONF" && echo "$1 = $2" >> "$CONF" &&
	_r=$(grep -c "reload: configuration" "$LOGS/app.log" || true) &&
	kill -HUP "$(cat "$STACK/s/pids/syncd.pid")" &&
	_n=0 && while [ "$(grep -c "reload: configuration" "$LOGS/app.log")" -le "$_r" ]; do
		_n=$((_n + 1)); [ $_n -lt 3000 ] || { echo "stripe-syncd did not reload"; return 1; }
		sleep 0.02
	done
}

# run_field FIELD: a field of $RUN as the API shows it now.
run_field() {
	api GET "/api/v1/syncs/$RUN" && jq -r "$1" api.json
}

# recon_now [JSON]: queue a reconciliation (default: the last 62 days,
# which covers every history the simulator makes); its id in $REC.
recon_now() {
	_body=${1-}
	[ -n "$_body" ] || _body="{\"from\":\"$(date -u -d '-61 days' +%F)\"}"
	api POST /api/v1/reconciliations "$_body" &&
	want 202 && REC=$(jq -r .id api.json)
}

# recon_wait [SECONDS]: wait for $REC to end (default 120 s): rec.json.
recon_wait() {
	job_wait "/api/v1/reconciliations/$REC" rec.json "${1:-120}"
}
