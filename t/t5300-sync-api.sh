#!/bin/sh
test_description='sync runs through the portal API: queued at once with 202, one at a time per install, the history with its four counts, one run with its problems; scopes first'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fcgi.sh"
. "$top_srcdir/t/stub.sh"

SK=sk_test_51AbCdEfGhIjKlMnOpQrStUvWx4242
BAL='{"object":"balance","livemode":false,"available":[],"pending":[]}'

api() { portal_api "$@"; }
api_ro() { fcgi_req "$1" "$2" "${3:-/dev/null}" application/json "Bearer $TOK_RO"; }
# finish ID STATUS: end a run as the job runner would.
finish() {
	sql "UPDATE sync_runs SET status = '$2', phase = 'done', finished_at = '2026-12-01T00:00:00Z' WHERE run_id = '$1'"
}

test_expect_success_here 'setup: an install with every scope and a read-only one' '
	fcgi_setup &&
	sed -i "s#^stripe_api_url = .*#stripe_api_url = $STUB/#" "$CONF" &&
	fcgi_start 2 &&
	install_event ev.json instapp_1 blnk_live_sync_0123456789abcdefghijk install:instapp_1 \
		"[\"data:read\",\"data:write\"]" &&
	fcgi_req POST "$CB" ev.json && expect_status 200 &&
	install_event ev.json instapp_ro blnk_live_ro_0123456789abcdefghijkl install:instapp_ro \
		"[\"data:read\"]" &&
	fcgi_req POST "$CB" ev.json && expect_status 200 &&
	TOK=$(launch_token instapp_1) && test -n "$TOK" &&
	TOK_RO=$(launch_token instapp_ro) && test -n "$TOK_RO"
'

test_expect_success 'no sync before Stripe is connected' '
	echo "{}" > b.json && api POST /api/v1/syncs b.json &&
	expect_error 409 STRIPE_NOT_CONNECTED &&
	test "$(sql "SELECT count(*) FROM sync_runs")" = 0
'

test_expect_success_here 'setup: connect Stripe' '
	stub_script "[{\"body\":$BAL}]" &&
	jq -n --arg k "$SK" "{api_key:\$k}" > k.json &&
	api PUT /api/v1/stripe k.json && expect_status 200
'

test_expect_success 'a run is queued at once: 202 with its id, named by its kind' '
	stub_reset &&
	echo "{}" > b.json && api POST /api/v1/syncs b.json && expect_status 202 &&
	RUN=$(jq -r .id resp.body) &&
	expr "$RUN" : "run_[0-9a-f]\{24\}$" >/dev/null &&
	test "$(jq -r "[.name, .kind, .status, .trigger, .counts.found] | map(tostring) | join(\" \")" resp.body)" = "Full sync all queued portal 0" &&
	test "$(sql "SELECT status FROM sync_runs WHERE run_id = '\''$RUN'\''")" = queued &&
	test "$(stub_count)" = 0 &&
	echo "$RUN" > run1
'

test_expect_success 'a second run while one is queued is a 409 naming it, and none is added' '
	echo "{\"kind\":\"payouts\"}" > b.json && api POST /api/v1/syncs b.json &&
	expect_error 409 SYNC_IN_PROGRESS && test_grep "$(cat run1)" resp.body &&
	test "$(sql "SELECT count(*) FROM sync_runs")" = 1
'

test_expect_success 'bad input is a 400 naming the field; a kind the settings leave out is a 409' '
	finish "$(cat run1)" completed &&
	for b in "{\"kind\":\"fees\"}" "{\"kind\":1}" "[]" "not json"; do
		printf "%s" "$b" > b.json && api POST /api/v1/syncs b.json &&
		expect_status 400 || return 1
	done &&
	printf "{\"kind\":\"fees\"}" > b.json && api POST /api/v1/syncs b.json &&
	expect_error 400 INVALID_FIELD kind &&
	echo "{\"import\":{\"payouts\":false}}" > s.json && api PUT /api/v1/settings s.json && expect_status 200 &&
	echo "{\"kind\":\"payouts\"}" > b.json && api POST /api/v1/syncs b.json &&
	expect_error 409 KIND_NOT_IMPORTED kind &&
	echo "{}" > s.json && api PUT /api/v1/settings s.json && expect_status 200 &&
	test "$(sql "SELECT count(*) FROM sync_runs")" = 1
'

test_expect_success 'the history: newest first, with the four counts, filtered by status' '
	echo "{\"kind\":\"payins\"}" > b.json && api POST /api/v1/syncs b.json && expect_status 202 &&
	jq -r .id resp.body > run2 && finish "$(cat run2)" failed &&
	echo "{\"kind\":\"payouts\"}" > b.json && api POST /api/v1/syncs b.json && expect_status 202 &&
	jq -r .id resp.body > run3 &&
	sql "UPDATE sync_runs SET created_at = '\''2026-12-01T00:00:0'\'' || rowid || '\''Z'\''" &&
	api GET /api/v1/syncs && expect_status 200 &&
	test "$(jq -c .counts resp.body)" = "{\"all\":3,\"completed\":1,\"in_progress\":1,\"failed\":1}" &&
	test "$(jq -r "[.data[].name] | join(\",\")" resp.body)" = "Payout sync,Pay-in sync,Full sync" &&
	api GET "/api/v1/syncs?status=failed" && expect_status 200 &&
	test "$(jq -r "[.data[].id] | join(\",\")" resp.body)" = "$(cat run2)" &&
	api GET "/api/v1/syncs?status=in_progress" &&
	test "$(jq -r "[.data[].id] | join(\",\")" resp.body)" = "$(cat run3)" &&
	api GET "/api/v1/syncs?status=completed&page_size=1&page=1" &&
	test "$(jq -r "[.data[].id] | join(\",\")" resp.body)" = "$(cat run1)" &&
	api GET "/api/v1/syncs?page_size=2&page=2" &&
	test "$(jq -r "[.data[].id] | join(\",\")" resp.body)" = "$(cat run1)"
'

test_expect_success 'the history refuses what it does not know' '
	api GET "/api/v1/syncs?status=done" && expect_error 400 INVALID_QUERY status &&
	api GET "/api/v1/syncs?page=0" && expect_error 400 INVALID_QUERY page &&
	api GET "/api/v1/syncs?page_size=101" && expect_error 400 INVALID_QUERY page_size &&
	api GET "/api/v1/syncs?sort=asc" && expect_error 400 INVALID_QUERY
'

test_expect_success 'one run: counters, progress and every problem, in plain words' '
	R=$(cat run2) &&
	sql "UPDATE sync_runs SET found = 7, imported = 5, present = 1, rejected = 1, failed = 0, to_confirm = 12, confirmed = 11, error_code = '\''CLOUD_UNREACHABLE'\'', error_message = '\''Blnk Cloud cannot be reached'\'' WHERE run_id = '\''$R'\''" &&
	sql "INSERT INTO sync_problems VALUES ('\''$R'\'', 1, '\''txn_1'\'', '\''stripe.txn_1.gross'\'', '\''REJECTED'\'', '\''Blnk rejected it: insufficient funds'\'')" &&
	api GET "/api/v1/syncs/$R" && expect_status 200 &&
	test "$(jq -c .counts resp.body)" = "{\"found\":7,\"imported\":5,\"present\":1,\"rejected\":1,\"failed\":0}" &&
	test "$(jq -c .progress resp.body)" = "{\"phase\":\"done\",\"to_confirm\":12,\"confirmed\":11}" &&
	test "$(jq -r .error.code resp.body)" = CLOUD_UNREACHABLE &&
	test "$(jq -r ".problems[0] | [.stripe_id, .reference, .code, .message] | join(\"|\")" resp.body)" = "txn_1|stripe.txn_1.gross|REJECTED|Blnk rejected it: insufficient funds" &&
	test "$(jq -r .problems_total resp.body)" = 1
'

test_expect_success 'a run of another install, or none, is a 404; a bad id a 400' '
	api_ro GET "/api/v1/syncs/$(cat run1)" && expect_error 404 NOT_FOUND &&
	api GET /api/v1/syncs/run_nope && expect_error 404 NOT_FOUND &&
	api GET "/api/v1/syncs/a%20b" && expect_status 400
'

test_expect_success 'without data:write the history can be read, no run started' '
	api_ro GET /api/v1/syncs && expect_status 200 &&
	test "$(jq -c .counts resp.body)" = "{\"all\":0,\"completed\":0,\"in_progress\":0,\"failed\":0}" &&
	echo "{}" > b.json && api_ro POST /api/v1/syncs b.json &&
	expect_error 403 MISSING_PERMISSION &&
	fcgi_req GET /api/v1/syncs && expect_error 401 MISSING_TOKEN
'

test_expect_success 'stop the workers' '
	fcgi_stop
'

test_done
