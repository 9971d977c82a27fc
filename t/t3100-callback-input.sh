#!/bin/sh
test_description='malformed and hostile callback and launch bodies: 4xx naming the field, nothing written'
. "$top_srcdir/t/lib.sh"
. "$top_srcdir/t/fcgi.sh"

test_expect_success_here 'setup' '
	fcgi_setup && fcgi_start 2 &&
	install_event good.json instapp_1
'

# bad NAME STATUS CODE FIELD: post body file NAME.json, expect the error, and
# that neither table changed.
bad() {
	before=$(sql "SELECT count(*) FROM installs; SELECT count(*) FROM events") &&
	fcgi_req POST "$CB" "$1.json" "${5-application/json}" &&
	expect_error "$2" "$3" "$4" &&
	test "$(sql "SELECT count(*) FROM installs; SELECT count(*) FROM events")" = "$before"
}

# mutate NAME JQ: write NAME.json as good.json transformed by JQ.
mutate() {
	jq "$2" good.json > "$1.json"
}

test_expect_success 'not JSON' '
	printf "installed_app_id=instapp_1" > notjson.json &&
	bad notjson 400 INVALID_JSON body
'
test_expect_success 'truncated JSON' '
	head -c 40 good.json > trunc.json && bad trunc 400 INVALID_JSON body
'
test_expect_success 'trailing data after the object' '
	{ cat good.json; echo "{}"; } > trail.json && bad trail 400 INVALID_JSON body
'
test_expect_success 'a JSON array instead of an object' '
	echo "[1,2]" > arr.json && bad arr 400 INVALID_JSON body
'
test_expect_success 'empty body' '
	: > empty.json && bad empty 400 INVALID_JSON body
'
test_expect_success 'wrong content type' '
	bad good 415 UNSUPPORTED_MEDIA_TYPE Content-Type text/plain
'
test_expect_success 'no content type' '
	bad good 415 UNSUPPORTED_MEDIA_TYPE Content-Type -
'
test_expect_success 'content type with a charset parameter is accepted' '
	install_event cs.json instapp_cs blnk_charset_key_00000000 &&
	fcgi_req POST "$CB" cs.json "application/json; charset=utf-8" &&
	expect_status 200
'
test_expect_success 'body over 64 KiB' '
	jq --arg pad "$(head -c 70000 /dev/zero | tr "\0" a)" ". + {pad: \$pad}" good.json > big.json &&
	bad big 413 BODY_TOO_LARGE body
'
test_expect_success 'raw NUL byte in the body' '
	{ head -c 20 good.json; printf "\000"; tail -c +21 good.json; } > nul.json &&
	bad nul 400 INVALID_BODY body
'
test_expect_success 'escaped NUL inside a field' '
	sed "s/\"instapp_1\"/\"instapp_\\\\u0000x\"/" good.json > unul.json &&
	grep -q "u0000" unul.json &&
	bad unul 400 INVALID_JSON body
'
test_expect_success 'invalid UTF-8' '
	{ head -c 20 good.json; printf "\377\376"; tail -c +21 good.json; } > utf.json &&
	bad utf 400 INVALID_UTF8 body
'
test_expect_success 'overlong UTF-8 encoding of a slash' '
	{ printf "{\"installed_app_id\":\"a\300\257b\"}"; } > overlong.json &&
	bad overlong 400 INVALID_UTF8 body
'
test_expect_success 'JSON nested deeper than we parse' '
	{ printf "{\"a\":"; for i in $(seq 40); do printf "["; done;
	  for i in $(seq 40); do printf "]"; done; printf "}"; } > deep.json &&
	bad deep 400 INVALID_JSON body
'

for f in installed_app_id app_id instance_id api_key api_key_prefix granted_permissions idempotency_key; do
	test_expect_success "missing $f" "
		mutate miss_$f 'del(.$f)' && bad miss_$f 400 MISSING_FIELD $f
	"
	test_expect_success "$f of the wrong JSON type" "
		mutate type_$f '.$f = 12' && bad type_$f 400 INVALID_FIELD $f
	"
done

test_expect_success 'a body shorter than its Content-Length' '
	before=$(sql "SELECT count(*) FROM installs; SELECT count(*) FROM events") &&
	FCGI_CONTENT_LENGTH=$(( $(wc -c < good.json) + 20 )) fcgi_req POST "$CB" good.json &&
	expect_error 400 INVALID_BODY body &&
	test "$(sql "SELECT count(*) FROM installs; SELECT count(*) FROM events")" = "$before"
'
test_expect_success 'api_key_prefix that is the whole key is refused' '
	mutate wholekey ".api_key_prefix = .api_key" && bad wholekey 400 INVALID_FIELD api_key_prefix
'
test_expect_success 'api_key_prefix of exactly half the key is refused' '
	mutate halfkey ".api_key = \"blnk_0123456789abc\" | .api_key_prefix = \"blnk_0123\"" &&
	bad halfkey 400 INVALID_FIELD api_key_prefix
'
test_expect_success 'api_key_prefix just under half the key is stored' '
	mutate underhalf ".installed_app_id = \"instapp_under\" | .idempotency_key = \"install:instapp_under\" | .api_key = \"blnk_0123456789abc\" | .api_key_prefix = \"blnk_012\"" &&
	fcgi_req POST "$CB" underhalf.json && expect_status 200 &&
	test "$(sql "SELECT api_key_prefix FROM installs WHERE installed_app_id = '\''instapp_under'\''")" = blnk_012
'
test_expect_success 'on a 12-character key, a 12- and a 7-character prefix are refused' '
	mutate short12 ".api_key = \"blnk_1234567\" | .api_key_prefix = \"blnk_1234567\"" &&
	bad short12 400 INVALID_FIELD api_key_prefix &&
	mutate short7 ".api_key = \"blnk_1234567\" | .api_key_prefix = \"blnk_12\"" &&
	bad short7 400 INVALID_FIELD api_key_prefix
'
test_expect_success 'api_key_prefix that is not a prefix of the key is refused' '
	mutate notprefix ".api_key_prefix = \"blnk_zzzz\"" &&
	bad notprefix 400 INVALID_FIELD api_key_prefix
'
test_expect_success 'a repeated name is refused, naming it, for every field and at depth' '
	for f in installed_app_id app_id instance_id api_key api_key_prefix granted_permissions idempotency_key; do
		sed "s/^{/{\"$f\":\"x\",/" good.json > "dup_$f.json" &&
		bad "dup_$f" 400 DUPLICATE_NAME "$f" || return 1
	done &&
	sed "s/^{/{\"meta\":{\"k\":1,\"k\":2},/" good.json > dup_deep.json &&
	bad dup_deep 400 DUPLICATE_NAME k
'
test_expect_success 'a type field that contradicts the idempotency_key prefix is 400' '
	mutate typecontra ".type = \"install\" | .idempotency_key = \"uninstall:instapp_1\"" &&
	bad typecontra 400 INVALID_FIELD type &&
	mutate typecontra2 ".event_type = \"uninstall\"" &&
	bad typecontra2 400 INVALID_FIELD event_type
'
test_expect_success 'a type field that contradicts the body shape is 400' '
	mutate typeshape ".type = \"uninstall\" | .idempotency_key = \"evt-77\"" &&
	bad typeshape 400 INVALID_FIELD type &&
	jq -n "{installed_app_id:\"instapp_1\", app_id:\"app_1\", instance_id:\"inst_1\", uninstalled_at:\"2026-04-21T12:00:00Z\", idempotency_key:\"evt-78\", type:\"install\"}" > typeshape2.json &&
	bad typeshape2 400 INVALID_FIELD type
'
test_expect_success 'an idempotency_key prefix that contradicts the body shape is 400' '
	jq -n "{installed_app_id:\"instapp_1\", app_id:\"app_1\", instance_id:\"inst_1\", uninstalled_at:\"2026-04-21T12:00:00Z\", idempotency_key:\"install:instapp_1\"}" > prefshape.json &&
	bad prefshape 400 INVALID_FIELD idempotency_key
'
test_expect_success 'api_key_prefix longer than 16 characters is refused' '
	mutate longprefix ".api_key = \"blnk_0123456789abcdefghijklmnopqrstuvwxyz\" | .api_key_prefix = \"blnk_0123456789ab\"" &&
	bad longprefix 400 INVALID_FIELD api_key_prefix
'
test_expect_success 'null counts as missing' '
	mutate nullid ".installed_app_id = null" && bad nullid 400 MISSING_FIELD installed_app_id
'
test_expect_success 'id with characters outside the allowed set' '
	mutate badid ".installed_app_id = \"inst app;1\"" && bad badid 400 INVALID_FIELD installed_app_id
'
test_expect_success 'id too long' '
	mutate longid ".instance_id = \"$(head -c 129 /dev/zero | tr "\0" x)\"" &&
	bad longid 400 INVALID_FIELD instance_id
'
test_expect_success 'id with a newline (log injection)' '
	mutate nlid ".app_id = \"app\\nINFO forged\"" && bad nlid 400 INVALID_FIELD app_id
'
test_expect_success 'api_key too short' '
	mutate shortkey ".api_key = \"blnk\"" && bad shortkey 400 INVALID_FIELD api_key
'
test_expect_success 'api_key with a space' '
	mutate spacekey ".api_key = \"blnk_abc def_0123456\"" && bad spacekey 400 INVALID_FIELD api_key
'
test_expect_success 'granted_permissions not an array' '
	mutate scopestr ".granted_permissions = \"data:read\"" &&
	bad scopestr 400 INVALID_FIELD granted_permissions
'
test_expect_success 'granted_permissions with a non-string entry' '
	mutate scopenum ".granted_permissions = [\"data:read\", 7]" &&
	bad scopenum 400 INVALID_FIELD granted_permissions
'
test_expect_success 'granted_permissions with too many entries' '
	mutate scopemany ".granted_permissions = [range(40) | \"x:\(.)\"]" &&
	bad scopemany 400 INVALID_FIELD granted_permissions
'
test_expect_success 'uninstalled_at that is not a timestamp' '
	uninstall_event un.json instapp_1 &&
	jq ".uninstalled_at = \"yesterday\"" un.json > badtime.json &&
	bad badtime 400 INVALID_FIELD uninstalled_at
'
test_expect_success 'cannot tell install from uninstall' '
	echo "{\"installed_app_id\":\"instapp_1\",\"app_id\":\"a\",\"instance_id\":\"i\",\"idempotency_key\":\"k1\"}" > kind.json &&
	bad kind 400 UNKNOWN_EVENT type
'
test_expect_success 'unknown scopes are stored but not honoured' '
	install_event sc.json instapp_sc blnk_scope_key_0000000000 install:instapp_sc \
		"[\"data:read\",\"admin:everything\"]" &&
	fcgi_req POST "$CB" sc.json && expect_status 200 &&
	test "$(sql "SELECT granted_permissions FROM installs WHERE installed_app_id = '\''instapp_sc'\''")" = \
		"[\"data:read\",\"admin:everything\"]"
'
test_expect_success 'error answers never echo the rejected value' '
	mutate echo ".api_key = \"blnk_secret value_4242\"" &&
	fcgi_req POST "$CB" echo.json && expect_status 400 &&
	test_grep ! "secret value_4242" resp.body &&
	test_grep ! "secret value_4242" app.log
'
test_expect_success 'launch bodies get the same checks' '
	fcgi_req POST "$PORTAL" notjson.json && expect_error 400 INVALID_JSON body &&
	launch_event l.json instapp_1 && jq "del(.app_id)" l.json > l2.json &&
	fcgi_req POST "$PORTAL" l2.json && expect_error 400 MISSING_FIELD app_id &&
	fcgi_req POST "$PORTAL" l.json text/html && expect_error 415 UNSUPPORTED_MEDIA_TYPE Content-Type
'

test_done
