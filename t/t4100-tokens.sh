#!/bin/sh
test_description='session tokens: tampered, expired, wrong install, uninstalled, reinstalled each refused with its own code'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fcgi.sh"

test_expect_success_here 'setup: two installs on two instances' '
	fcgi_setup && fcgi_start 2 &&
	install_event ev.json instapp_1 && fcgi_req POST "$CB" ev.json && expect_status 200 &&
	install_event ev.json instapp_2 blnk_two_key_000000000 install:instapp_2 \
		"[\"alerts:write\"]" inst_2 &&
	fcgi_req POST "$CB" ev.json && expect_status 200 &&
	launch_event l.json instapp_1 && fcgi_req POST "$PORTAL" l.json &&
	TOK=$(jq -r .portal_url resp.body | sed "s/.*token=//") && test -n "$TOK"
'

ctx() {
	fcgi_req GET /api/v1/context /dev/null - "$1"
}

test_expect_success 'a good token is accepted' '
	ctx "Bearer $TOK" && expect_status 200
'
test_expect_success 'the bearer scheme is case-insensitive' '
	ctx "bearer $TOK" && expect_status 200
'
test_expect_success 'no Authorization header: 401 MISSING_TOKEN with WWW-Authenticate' '
	fcgi_req GET /api/v1/context && expect_error 401 MISSING_TOKEN &&
	test_grep "^WWW-Authenticate: Bearer" resp.head
'
test_expect_success 'a non-bearer scheme: 401 MISSING_TOKEN' '
	ctx "Basic dXNlcjpwYXNz" && expect_error 401 MISSING_TOKEN
'
test_expect_success 'tampered payload: 401 TOKEN_INVALID' '
	payload=$(echo "$TOK" | cut -d. -f1) && sig=$(echo "$TOK" | cut -d. -f2) &&
	forged=$(printf "%s" "$payload" | tr "A-Za-z" "B-ZAb-za").$sig &&
	ctx "Bearer $forged" && expect_error 401 TOKEN_INVALID
'
test_expect_success 'tampered signature: 401 TOKEN_INVALID' '
	payload=$(echo "$TOK" | cut -d. -f1) && sig=$(echo "$TOK" | cut -d. -f2) &&
	first=$(printf "%s" "$sig" | cut -c1) &&
	if [ "$first" = A ]; then new=B; else new=A; fi &&
	ctx "Bearer $payload.$new$(printf "%s" "$sig" | cut -c2-)" &&
	expect_error 401 TOKEN_INVALID
'
test_expect_success 'garbage token: 401 TOKEN_INVALID' '
	ctx "Bearer not-a-token" && expect_error 401 TOKEN_INVALID
'
test_expect_success 'a token signed with another session_secret: 401 TOKEN_INVALID' '
	test_write_config other.conf &&
	forged=$(mint-token --config other.conf --install instapp_1 --instance inst_1) &&
	ctx "Bearer $forged" && expect_error 401 TOKEN_INVALID
'
test_expect_success 'expired token: 401 SESSION_EXPIRED' '
	old=$(mint-token --config "$CONF" --install instapp_1 --instance inst_1 --ttl -5) &&
	ctx "Bearer $old" && expect_error 401 SESSION_EXPIRED
'
test_expect_success 'token for an install that does not exist: 403 INSTALL_NOT_FOUND' '
	t=$(mint-token --config "$CONF" --install instapp_ghost --instance inst_1) &&
	ctx "Bearer $t" && expect_error 403 INSTALL_NOT_FOUND
'
test_expect_success 'token naming another instance than the install: 403 INSTANCE_MISMATCH' '
	t=$(mint-token --config "$CONF" --install instapp_2 --instance inst_1) &&
	ctx "Bearer $t" && expect_error 403 INSTANCE_MISMATCH
'
test_expect_success 'after uninstall the token is refused: 403 APP_UNINSTALLED' '
	uninstall_event un.json instapp_1 && fcgi_req POST "$CB" un.json && expect_status 200 &&
	ctx "Bearer $TOK" && expect_error 403 APP_UNINSTALLED
'
test_expect_success 'after a reinstall an old session stays refused: 403 SESSION_REVOKED' '
	install_event ev.json instapp_1 blnk_again_key_0000000 install:instapp_1:2 &&
	fcgi_req POST "$CB" ev.json && expect_status 200 &&
	ctx "Bearer $TOK" && expect_error 403 SESSION_REVOKED &&
	launch_event l.json instapp_1 && fcgi_req POST "$PORTAL" l.json &&
	new=$(jq -r .portal_url resp.body | sed "s/.*token=//") &&
	ctx "Bearer $new" && expect_status 200
'
test_expect_success 'unknown scopes are listed apart and never granted' '
	install_event ev.json instapp_3 blnk_three_key_0000000 install:instapp_3 \
		"[\"data:read\",\"root:all\"]" &&
	fcgi_req POST "$CB" ev.json && expect_status 200 &&
	launch_event l.json instapp_3 && fcgi_req POST "$PORTAL" l.json &&
	t=$(jq -r .portal_url resp.body | sed "s/.*token=//") &&
	ctx "Bearer $t" && expect_status 200 &&
	test "$(jq -c .granted_permissions resp.body)" = "[\"data:read\"]" &&
	test "$(jq -c .ignored_permissions resp.body)" = "[\"root:all\"]"
'

test_done
