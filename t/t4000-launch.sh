#!/bin/sh
test_description='launch: portal_url with a fresh token only for an active, matching install'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fcgi.sh"

test_expect_success_here 'setup: one active install' '
	fcgi_setup "session_ttl = 600" && fcgi_start 2 &&
	install_event ev.json instapp_1 && fcgi_req POST "$CB" ev.json && expect_status 200
'

test_expect_success 'launch answers portal_url on the configured portal with a token' '
	launch_event l.json instapp_1 &&
	fcgi_req POST "$PORTAL" l.json &&
	expect_status 200 &&
	url=$(jq -r .portal_url resp.body) &&
	case "$url" in https://portal.test/\?token=*) ;; *) echo "$url"; false;; esac &&
	test "$(jq -r "keys | join(\",\")" resp.body)" = portal_url
'

test_expect_success 'each launch gets a fresh token' '
	launch_event l.json instapp_1 &&
	fcgi_req POST "$PORTAL" l.json && jq -r .portal_url resp.body > a &&
	fcgi_req POST "$PORTAL" l.json && jq -r .portal_url resp.body > b &&
	! cmp -s a b
'

test_expect_success 'the token works for GET /api/v1/context and expires after session_ttl' '
	launch_event l.json instapp_1 &&
	fcgi_req POST "$PORTAL" l.json &&
	tok=$(jq -r .portal_url resp.body | sed "s/.*token=//") &&
	now=$(date +%s) &&
	fcgi_req GET /api/v1/context /dev/null - "Bearer $tok" &&
	expect_status 200 &&
	test "$(jq -r .installed_app_id resp.body)" = instapp_1 &&
	test "$(jq -r .instance_id resp.body)" = inst_1 &&
	test "$(jq -c .granted_permissions resp.body)" = "[\"data:read\",\"data:write\",\"alerts:write\"]" &&
	exp=$(date -d "$(jq -r .expires_at resp.body)" +%s) &&
	test $((exp - now)) -ge 595 && test $((exp - now)) -le 601
'

test_expect_success 'the context never carries a key' '
	launch_event l.json instapp_1 && fcgi_req POST "$PORTAL" l.json &&
	tok=$(jq -r .portal_url resp.body | sed "s/.*token=//") &&
	fcgi_req GET /api/v1/context /dev/null - "Bearer $tok" &&
	test_grep ! "blnk_test" resp.body && test_grep ! api_key resp.body
'

test_expect_success 'unknown install: 404 INSTALL_NOT_FOUND, no token' '
	launch_event l.json instapp_nobody &&
	fcgi_req POST "$PORTAL" l.json &&
	expect_error 404 INSTALL_NOT_FOUND installed_app_id &&
	test_grep ! token resp.body
'

test_expect_success 'mismatched app_id: 403 INSTALL_MISMATCH naming app_id' '
	launch_event l.json instapp_1 app_other &&
	fcgi_req POST "$PORTAL" l.json &&
	expect_error 403 INSTALL_MISMATCH app_id && test_grep ! token resp.body
'

test_expect_success 'mismatched instance_id: 403 INSTALL_MISMATCH naming instance_id' '
	launch_event l.json instapp_1 app_1 inst_other &&
	fcgi_req POST "$PORTAL" l.json &&
	expect_error 403 INSTALL_MISMATCH instance_id && test_grep ! token resp.body
'

test_expect_success 'organization_id: must match when both sides have one' '
	install_event ev.json instapp_org blnk_org_key_0000000000 &&
	jq ". + {organization_id: \"org_1\"}" ev.json > ev2.json &&
	fcgi_req POST "$CB" ev2.json && expect_status 200 &&
	launch_event l.json instapp_org &&
	jq ". + {organization_id: \"org_2\"}" l.json > l2.json &&
	fcgi_req POST "$PORTAL" l2.json &&
	expect_error 403 INSTALL_MISMATCH organization_id && test_grep ! token resp.body &&
	jq ". + {organization_id: \"org_1\"}" l.json > l3.json &&
	fcgi_req POST "$PORTAL" l3.json && expect_status 200 &&
	fcgi_req POST "$PORTAL" l.json && expect_status 200
'

test_expect_success 'organization_id on a launch is fine when the install has none' '
	launch_event l.json instapp_1 &&
	jq ". + {organization_id: \"org_9\"}" l.json > l2.json &&
	fcgi_req POST "$PORTAL" l2.json && expect_status 200
'

test_expect_success 'a launch naming instance_id twice is refused' '
	launch_event l.json instapp_1 app_1 inst_other &&
	sed "s/^{/{\"instance_id\":\"inst_1\",/" l.json > l2.json &&
	fcgi_req POST "$PORTAL" l2.json &&
	expect_error 400 DUPLICATE_NAME instance_id && test_grep ! token resp.body
'

test_expect_success 'inactive install: 403 APP_UNINSTALLED, no token' '
	install_event ev.json instapp_2 blnk_two_key_0000000000 &&
	fcgi_req POST "$CB" ev.json && expect_status 200 &&
	uninstall_event un.json instapp_2 && fcgi_req POST "$CB" un.json && expect_status 200 &&
	launch_event l.json instapp_2 &&
	fcgi_req POST "$PORTAL" l.json &&
	expect_error 403 APP_UNINSTALLED installed_app_id && test_grep ! token resp.body
'

test_expect_success 'launch with a wrong secret is 404' '
	launch_event l.json instapp_1 &&
	fcgi_req POST /api/portal/guess l.json && expect_error 404 NOT_FOUND
'

test_expect_success 'launch is POST only: GET is 405 with Allow' '
	fcgi_req GET "$PORTAL" && expect_error 405 METHOD_NOT_ALLOWED &&
	test_grep "^Allow: POST$" resp.head
'

test_expect_success 'tokens never reach the log' '
	launch_event l.json instapp_1 && fcgi_req POST "$PORTAL" l.json &&
	tok=$(jq -r .portal_url resp.body | sed "s/.*token=//") &&
	fcgi_req GET /api/v1/context /dev/null - "Bearer $tok" && expect_status 200 &&
	test_grep ! "$tok" app.log &&
	test_grep ! "$(echo "$tok" | cut -d. -f2)" app.log
'

# The link is made from what libcurl made of portal_url once per worker
# (src/portal.c): launch after launch, on a portal_url with a port and a
# path, each link is that URL with its own token, and the token works.
test_expect_success 'a portal_url with a port and a path: the same link shape every time, each token its own' '
	fcgi_stop && sed -i "/^portal_url/d" "$CONF" &&
	echo "portal_url = https://Portal.Test:8443/app/sub" >> "$CONF" &&
	fcgi_start 1 &&
	launch_event l.json instapp_1 && : > toks &&
	for i in 1 2 3; do
		fcgi_req POST "$PORTAL" l.json && expect_status 200 &&
		url=$(jq -r .portal_url resp.body) &&
		case "$url" in
		https://Portal.Test:8443/app/sub\?token=*) ;;
		*) echo "$url"; return 1 ;;
		esac &&
		tok=${url#*token=} && echo "$tok" >> toks &&
		fcgi_req GET /api/v1/context /dev/null - "Bearer $tok" &&
		expect_status 200 || return 1
	done &&
	test "$(sort -u toks | wc -l)" = 3
'

test_done
