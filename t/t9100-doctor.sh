#!/bin/sh
test_description='stripe-syncctl doctor: every check, passing and failing'
. "$top_srcdir/t/lib.sh"

command -v node >/dev/null 2>&1 || skip_all "node is not installed (Debian package: nodejs)"
command -v jq >/dev/null 2>&1 || skip_all "jq is not installed (Debian package: jq)"
command -v sqlite3 >/dev/null 2>&1 || skip_all "sqlite3 is not installed (Debian package: sqlite3)"

# Loopback only: no proxy from the caller's environment.
unset http_proxy https_proxy HTTPS_PROXY ALL_PROXY all_proxy
no_proxy='*'
export no_proxy

DCONF="$TRASH/stripe-sync.conf"
FA="'self' https://blnkfinance.com https://*.blnkfinance.com"
GOOD_CSP="default-src 'self'; object-src 'none'; frame-ancestors $FA"

# A fake public site (and the Cloud and Stripe APIs: any path answers).
# How it answers comes from site.json, read at every request; every
# request is logged to site.log as "METHOD PATH BODY".  A path under
# /sub/ is served as if /sub were not there (a site under a prefix).
cat > "$TRASH/site.js" <<'EOF'
const http = require("http");
const fs = require("fs");
const dir = process.argv[2];
const server = http.createServer((req, res) => {
	let body = "";
	req.on("data", (c) => { body += c; });
	req.on("end", () => {
		let m = {};
		try {
			m = JSON.parse(fs.readFileSync(dir + "/site.json", "utf8"));
		} catch (e) {
			m = {};
		}
		fs.appendFileSync(dir + "/site.log",
		    req.method + " " + req.url + " " + body + "\n");
		const path = req.url.replace(/^\/sub(?=\/)/, "");
		if (path === "/") {
			const h = { "Content-Type": "text/html" };
			if (m.csp) h["Content-Security-Policy"] = m.csp;
			if (m.xcto) h["X-Content-Type-Options"] = m.xcto;
			if (m.rp) h["Referrer-Policy"] = m.rp;
			res.writeHead(m.root, h);
			res.end("<!doctype html><title>portal</title>\n");
		} else if (path === "/api/health") {
			if (m.hang)
				return;
			res.writeHead(m.health, { "Content-Type": "application/json" });
			res.end(JSON.stringify({ status: m.hstatus }) + "\n");
		} else if (path === "/api/callback/") {
			res.writeHead(m.cb0, { "Content-Type": "application/json" });
			res.end("{}\n");
		} else if (path.startsWith("/api/callback/")) {
			res.writeHead(m.cb, { "Content-Type": "application/json" });
			res.end("{}\n");
		} else {
			res.writeHead(404, { "Content-Type": "application/json" });
			res.end("{\"error\":{\"code\":\"NOT_FOUND\"}}\n");
		}
	});
});
server.listen(0, "127.0.0.1", () => {
	fs.writeFileSync(dir + "/port.tmp", String(server.address().port));
	fs.renameSync(dir + "/port.tmp", dir + "/port");
});
process.on("SIGTERM", () => process.exit(0));
EOF

# site [key=value...]: how the fake site answers from now on.  Statuses:
# root (GET /), health, cb (POST /api/callback/X), cb0 (POST
# /api/callback/); hstatus: the health JSON's "status"; csp, xcto, rp: the
# Content-Security-Policy, X-Content-Type-Options and Referrer-Policy of /
# (empty: header absent); hang=true: /api/health never answers.
site() {
	_root=200 _health=200 _cb=404 _cb0=404 _hstatus=ok _csp=$GOOD_CSP
	_xcto=nosniff _rp=no-referrer _hang=false
	for _a in "$@"; do eval "_${_a%%=*}=\${_a#*=}"; done
	jq -n --argjson root "$_root" --argjson health "$_health" \
		--argjson cb "$_cb" --argjson cb0 "$_cb0" --arg hstatus "$_hstatus" \
		--arg csp "$_csp" --arg xcto "$_xcto" --arg rp "$_rp" \
		--argjson hang "$_hang" \
		'{root:$root, health:$health, cb:$cb, cb0:$cb0, hstatus:$hstatus,
		  csp:$csp, xcto:$xcto, rp:$rp, hang:$hang}' > "$TRASH/site.json.tmp" &&
	mv "$TRASH/site.json.tmp" "$TRASH/site.json"
}

# doctor ARGS...: run the doctor on $DCONF; report in out, errors in err.
doctor() {
	stripe-syncctl -c "$DCONF" doctor "$@" >out 2>err
}

# no_secret_in OUTPUT [CONF]: see test_no_secret in t/lib.sh.
no_secret_in() {
	test_no_secret "$1" "${2:-$DCONF}"
}

# no_fail: the report has no FAIL line (and no warn line unless $1 = warn).
no_fail() {
	test_grep ! "^FAIL" out &&
	{ [ "${1-}" = warn ] || test_grep ! "^warn" out; }
}

test_at_exit '[ -f "$TRASH/site.pid" ] && kill $(cat "$TRASH/site.pid") 2>/dev/null'

# --- usage ---------------------------------------------------------------

test_expect_success 'doctor --help names --url and --timeout, needs no config' '
	STRIPE_SYNC_CONF=$PWD/nosuch.conf stripe-syncctl doctor --help >out 2>err &&
	test_grep "usage: stripe-syncctl .*doctor" out &&
	test_grep "[-]-url" out &&
	test_grep "[-]-timeout" out &&
	! test -s err
'

test_expect_success 'the global usage lists doctor' '
	stripe-syncctl --help >out &&
	test_grep "^  doctor " out
'

for bad in 0 61 -1 abc 5x ""; do
	test_expect_success "--timeout '$bad' exits 2" "
		test_write_config \"\$DCONF\" &&
		test_exit_code 2 doctor --timeout '$bad' &&
		test_grep 'timeout' err &&
		! test -s out
	"
done

for bad in ftp://127.0.0.1/ http://example.com/ https://user:pw@example.com/ \
    'https://example.com/?a=1' 'https://example.com/#x' 'not a url'; do
	test_expect_success "--url '$bad' exits 2" "
		test_write_config \"\$DCONF\" &&
		test_exit_code 2 doctor --url '$bad' &&
		test_grep 'url' err &&
		test_grep ! 'pw@' err &&
		! test -s out
	"
done

test_expect_success 'doctor takes no arguments (exit 2)' '
	test_exit_code 2 doctor extra &&
	test_grep "usage:" err
'

# --- a good deployment ---------------------------------------------------

test_expect_success_here 'setup: config, migrated database, loopback site' '
	test_write_config "$DCONF" &&
	stripe-syncctl -c "$DCONF" migrate >/dev/null &&
	site &&
	rm -f port &&
	(node "$TRASH/site.js" "$TRASH" >site.err 2>&1 & echo $! >"$TRASH/site.pid") &&
	_n=0 &&
	while ! test -s port; do
		_n=$((_n + 1)) &&
		[ "$_n" -lt 1000 ] || { echo "site did not start"; cat site.err; return 1; }
		sleep 0.01
	done &&
	PORT=$(cat port) &&
	URL="http://127.0.0.1:$PORT/" &&
	sed -i "s|^cloud_api_url = .*|cloud_api_url = ${URL}cloud|" "$DCONF" &&
	sed -i "s|^stripe_api_url = .*|stripe_api_url = ${URL}stripe|" "$DCONF" &&
	chmod 600 "$DCONF" &&
	SECRET=$(test_config_get callback_secret "$DCONF") &&
	test -n "$SECRET"
'

test_expect_success 'good deployment without --url: exit 0, ok lines, one warn' '
	doctor &&
	test_grep "^ok    config: $DCONF is valid" out &&
	test_grep "^ok    config file $DCONF mode 0600" out &&
	test_grep "^ok    secrets: " out &&
	test_grep "^ok    database $TRASH/db.sqlite mode 0600" out &&
	test_grep "^ok    database $TRASH/db.sqlite: reachable, schema version" out &&
	test_grep "^ok    database directory $TRASH writable" out &&
	test_grep "^ok    journal mode \(wal\|delete: this SQLite lacks the WAL-reset fix\)$" out &&
	test_grep "^ok    cloud_api_url ${URL}cloud reachable (HTTP 404)" out &&
	test_grep "^ok    stripe_api_url ${URL}stripe reachable (HTTP 404)" out &&
	test_grep "^warn  no --url given: portal, health and callback route not checked" out &&
	test "$(grep -c "^warn" out)" = 1 &&
	test_grep ! "^FAIL" out &&
	! test -s err
'

test_expect_success 'a configured URL with a user and password is refused and never printed' '
	test_exit_code 3 env STRIPE_SYNC_CLOUD_API_URL="https://bob:hunter2pass@127.0.0.1:$PORT/cloud" \
		stripe-syncctl --config "$DCONF" doctor >out 2>err &&
	test_grep "^FAIL.*cloud_api_url: must not carry a user name or password" out &&
	test_grep ! hunter2pass out && test_grep ! hunter2pass err &&
	test_grep ! "bob:" out
'

test_expect_success '--url with a user and password is refused and never printed' '
	test_must_fail stripe-syncctl --config "$DCONF" doctor --url "http://bob:hunter2pass@127.0.0.1:$PORT/" >out 2>err &&
	test_grep ! hunter2pass out && test_grep ! hunter2pass err
'

test_expect_success 'every line starts with ok, warn or FAIL' '
	doctor --url "$URL" &&
	! grep -v "^\(ok  \|warn\|FAIL\)  [^ ]" out
'

test_expect_success 'the outbound checks really called the loopback APIs' '
	: >site.log &&
	doctor &&
	test_grep "^GET /cloud " site.log &&
	test_grep "^GET /stripe " site.log
'

test_expect_success 'the report never contains a secret of the config' '
	doctor --url "$URL" &&
	no_secret_in out &&
	no_secret_in err
'

# --- configuration --------------------------------------------------------

test_expect_success 'invalid config (missing master_key): exit 3, one FAIL line naming it' '
	test_write_config bad.conf &&
	sed -i "/^master_key/d" bad.conf &&
	test_exit_code 3 stripe-syncctl -c bad.conf doctor --url "$URL" >out 2>err &&
	test_grep "^FAIL  config: master_key" out &&
	test "$(wc -l <out)" = 1
'

test_expect_success 'invalid config from the environment: exit 3 naming the variable' '
	test_exit_code 3 env STRIPE_SYNC_BOGUS=1 stripe-syncctl -c "$DCONF" doctor >out &&
	test_grep "^FAIL  config: STRIPE_SYNC_BOGUS" out
'

test_expect_success 'missing config file named by -c: exit 3' '
	test_exit_code 3 stripe-syncctl -c nosuch.conf doctor >out &&
	test_grep "^FAIL  config: .*nosuch.conf" out
'

test_expect_success 'config mode 0644: FAIL naming chmod 600, exit 1' '
	test_when_finished "chmod 600 \"$DCONF\"" &&
	chmod 644 "$DCONF" &&
	test_exit_code 1 doctor &&
	test_grep "^FAIL  config file $DCONF mode 0644 owner [^ ]*: readable by others; fix: chmod 600 $DCONF" out
'

test_expect_success 'config mode 0604 (world-readable only): FAIL' '
	test_when_finished "chmod 600 \"$DCONF\"" &&
	chmod 604 "$DCONF" &&
	test_exit_code 1 doctor &&
	test_grep "^FAIL  config file .*readable by others" out
'

test_expect_success 'config mode 0640 (the deployment mode): ok' '
	test_when_finished "chmod 600 \"$DCONF\"" &&
	chmod 640 "$DCONF" &&
	doctor &&
	test_grep "^ok    config file $DCONF mode 0640" out &&
	no_fail warn
'

test_expect_success 'config mode 0660 (group-writable): FAIL' '
	test_when_finished "chmod 600 \"$DCONF\"" &&
	chmod 660 "$DCONF" &&
	test_exit_code 1 doctor &&
	test_grep "^FAIL  config file .*mode 0660 owner [^ ]*: writable by its group; fix: chmod 600" out
'

test_expect_success 'config mode 0602 (other-writable): FAIL' '
	test_when_finished "chmod 600 \"$DCONF\"" &&
	chmod 602 "$DCONF" &&
	test_exit_code 1 doctor &&
	test_grep "^FAIL  config file .*writable by others" out
'

# Environment only: no -c and no STRIPE_SYNC_CONF, so the built-in path,
# which may be absent; only testable where it is.
DEFAULT_CONF=$(env -u STRIPE_SYNC_CONF stripe-syncctl --help |
	sed -n 's/^configuration file now: //p')
# As root, allow_root (which test_write_config adds to the files) makes
# root the workers' user, whatever users this machine has.
ROOT_OK=
[ "$(id -u)" != 0 ] || ROOT_OK=STRIPE_SYNC_ALLOW_ROOT=yes
if [ -n "$DEFAULT_CONF" ] && ! [ -e "$DEFAULT_CONF" ]; then
	test_expect_success 'environment-only configuration: reported as such, no file mode line' '
		env -u STRIPE_SYNC_CONF \
			STRIPE_SYNC_DB_PATH="$TRASH/db.sqlite" \
			STRIPE_SYNC_MASTER_KEY="$(test_config_get master_key "$DCONF")" \
			STRIPE_SYNC_SESSION_SECRET="$(test_secret)" \
			STRIPE_SYNC_CALLBACK_SECRET="$(test_secret)" \
			STRIPE_SYNC_PORTAL_URL=https://portal.test/ \
			STRIPE_SYNC_CLOUD_API_URL="${URL}cloud" \
			STRIPE_SYNC_STRIPE_API_URL="${URL}stripe" \
			$ROOT_OK stripe-syncctl doctor >out 2>err &&
		test_grep_F "ok    config: environment only (no file at $DEFAULT_CONF) is valid" out &&
		test_grep ! "config file" out &&
		test_grep ! "^FAIL" out
	'
fi

# A copy of $DCONF whose callback_secret comes from cb.secret.
write_file_conf() {
	test_config_get callback_secret "$DCONF" > cb.secret &&
	sed "/^callback_secret/d" "$DCONF" > file.conf &&
	echo "callback_secret_file = $TRASH/cb.secret" >> file.conf &&
	chmod 600 file.conf
}

test_expect_success 'callback_secret_file in the config, mode 0600: ok line' '
	write_file_conf && chmod 600 cb.secret &&
	stripe-syncctl -c file.conf doctor >out &&
	test_grep "^ok    callback_secret_file $TRASH/cb.secret mode 0600" out
'

test_expect_success 'callback_secret_file in the config, mode 0644: FAIL, exit 1' '
	write_file_conf && chmod 644 cb.secret &&
	test_exit_code 1 stripe-syncctl -c file.conf doctor >out &&
	test_grep "^FAIL  callback_secret_file $TRASH/cb.secret mode 0644 owner [^ ]*: readable by others; fix: chmod 600 $TRASH/cb.secret" out
'

test_expect_success 'a secret given in the environment replaces the file form: not checked' '
	write_file_conf && chmod 644 cb.secret &&
	STRIPE_SYNC_CALLBACK_SECRET=$(test_secret) \
		stripe-syncctl -c file.conf doctor >out &&
	test_grep ! "callback_secret_file" out
'

test_expect_success 'STRIPE_SYNC_SESSION_SECRET_FILE world-readable: FAIL' '
	test_secret > ss.secret && chmod 604 ss.secret &&
	test_exit_code 1 env STRIPE_SYNC_SESSION_SECRET_FILE="$TRASH/ss.secret" \
		stripe-syncctl -c "$DCONF" doctor >out &&
	test_grep "^FAIL  session_secret_file $TRASH/ss.secret mode 0604 owner [^ ]*: readable by others" out
'

test_expect_success 'STRIPE_SYNC_SESSION_SECRET_FILE group-readable 0640: ok' '
	test_secret > ss.secret && chmod 640 ss.secret &&
	env STRIPE_SYNC_SESSION_SECRET_FILE="$TRASH/ss.secret" \
		stripe-syncctl -c "$DCONF" doctor >out &&
	test_grep "^ok    session_secret_file $TRASH/ss.secret mode 0640" out
'

# --- secrets ----------------------------------------------------------------

test_expect_success 'session_secret equal to callback_secret: warn, exit 0' '
	s=$(test_secret) &&
	STRIPE_SYNC_SESSION_SECRET=$s STRIPE_SYNC_CALLBACK_SECRET=$s doctor &&
	test_grep "^warn  secrets: session_secret and callback_secret are the same value; fix:" out &&
	test_grep ! "^ok    secrets" out &&
	! grep -F -e "$(printf %s "$s" | cut -c1-12)" out
'

test_expect_success 'placeholder session_secret (changeme): warn, the value not shown' '
	s=ChangeMe-ChangeMe-ChangeMe-ChangeMe-1234 &&
	STRIPE_SYNC_SESSION_SECRET=$s doctor &&
	test_grep "^warn  secrets: session_secret contains a placeholder word" out &&
	test_grep ! "ChangeMe-Cha" out
'

test_expect_success 'placeholder callback_secret (example): warn' '
	STRIPE_SYNC_CALLBACK_SECRET=my-example-callback-value-0123456789abcdef doctor &&
	test_grep "^warn  secrets: callback_secret contains a placeholder word" out &&
	test_grep ! "my-example-c" out
'

test_expect_success 'callback_secret of few distinct characters: the config is refused, naming it' '
	test_exit_code 3 env STRIPE_SYNC_CALLBACK_SECRET=abababababababababababababababababababab \
		stripe-syncctl -c "$DCONF" doctor > out 2>&1 &&
	test_grep "callback_secret" out &&
	test_grep ! "abababababab" out
'

test_expect_success 'master_key of few distinct bytes: warn naming its id, not its value' '
	k=$(printf "abcd%.0s" 1 2 3 4 5 6 7 8 | base64 | tr -d "\n") &&
	STRIPE_SYNC_MASTER_KEY=$k doctor &&
	test_grep "^warn  secrets: master_key key [0-9a-f]\{8\} has fewer than 8 distinct bytes" out &&
	! grep -F -e "$(printf %s "$k" | cut -c1-12)" out
'

test_expect_success 'the callback secret in --url is printed as <callback_secret>' '
	test_exit_code 1 doctor --url "${URL}sub/$SECRET/" &&
	test_grep "<callback_secret>" out &&
	no_secret_in out
'

# --- database ---------------------------------------------------------------

test_expect_success 'database mode 0644: FAIL with chmod 600, exit 1' '
	test_when_finished "chmod 600 \"$TRASH/db.sqlite\"" &&
	chmod 644 db.sqlite &&
	test_exit_code 1 doctor &&
	test_grep "^FAIL  database $TRASH/db.sqlite mode 0644 owner [^ ]*: readable by others; fix: chmod 600 $TRASH/db.sqlite" out
'

test_expect_success 'database mode 0640 (group-readable): FAIL' '
	test_when_finished "chmod 600 \"$TRASH/db.sqlite\"" &&
	chmod 640 db.sqlite &&
	test_exit_code 1 doctor &&
	test_grep "^FAIL  database .*mode 0640 owner [^ ]*: readable by its group; fix: chmod 600" out
'

test_expect_success 'missing database: FAIL naming migrate, and doctor creates nothing' '
	test_exit_code 1 env STRIPE_SYNC_DB_PATH="$TRASH/nosuch.db" \
		stripe-syncctl -c "$DCONF" doctor >out &&
	test_grep "^FAIL  database $TRASH/nosuch.db: No such file or directory; fix: run \"stripe-syncctl -c $DCONF migrate\"" out &&
	! test -e nosuch.db
'

test_expect_success 'unmigrated database: FAIL naming migrate, exit 1' '
	: >empty.db && chmod 600 empty.db &&
	test_exit_code 1 env STRIPE_SYNC_DB_PATH="$TRASH/empty.db" \
		stripe-syncctl -c "$DCONF" doctor >out &&
	test_grep "^FAIL  database $TRASH/empty.db: schema version 0, this binary needs [1-9][0-9]*; fix: run \"stripe-syncctl -c $DCONF migrate\"" out
'

test_expect_success 'database newer than the binary: FAIL, exit 1' '
	cp db.sqlite newer.db && chmod 600 newer.db &&
	sqlite3 newer.db "PRAGMA user_version = 999" &&
	test_exit_code 1 env STRIPE_SYNC_DB_PATH="$TRASH/newer.db" \
		stripe-syncctl -c "$DCONF" doctor >out &&
	test_grep "^FAIL  database $TRASH/newer.db: schema version 999 is newer than this binary" out
'

test_expect_success 'a file that is not a database: FAIL, exit 1' '
	echo "not a database, just text that is long enough to matter here" >junk.db &&
	chmod 600 junk.db &&
	test_exit_code 1 env STRIPE_SYNC_DB_PATH="$TRASH/junk.db" \
		stripe-syncctl -c "$DCONF" doctor >out &&
	test_grep "^FAIL  database $TRASH/junk.db: .*not a database" out
'

test_expect_success 'database directory not writable by its owner: warn, exit 0' '
	test_when_finished "chmod 700 \"$TRASH/ro\"" &&
	mkdir -p ro && cp db.sqlite ro/db.sqlite && chmod 600 ro/db.sqlite &&
	chmod 500 ro &&
	env STRIPE_SYNC_DB_PATH="$TRASH/ro/db.sqlite" \
		stripe-syncctl -c "$DCONF" doctor >out &&
	test_grep "^warn  database directory $TRASH/ro mode 0500 owner [^ ]*: not writable by its owner.*fix: chmod u+w $TRASH/ro" out &&
	test_grep "^ok    database $TRASH/ro/db.sqlite: reachable" out
'

# --- owners: the files as the workers' user sees them ---------------------
# As root, a database made by "migrate" run as root (the usual slip) and
# workers that run as nobody.  Each FAIL line names owner and mode, and
# the fixes it prints, run as printed, make doctor content.

if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	NG=$(id -gn nobody)
	test_expect_success 'root-owned database, config and directory, --user nobody: FAIL each, with the chown/chmod' '
		mkdir own && cp db.sqlite own/db.sqlite && chmod 600 own/db.sqlite &&
		sed "s|^db_path = .*|db_path = $TRASH/own/db.sqlite|" "$DCONF" >own/own.conf &&
		chmod 600 own/own.conf &&
		test_exit_code 1 stripe-syncctl -c own/own.conf doctor --user nobody >out &&
		test_grep_F "ok    workers'"'"' user nobody, group $NG (--user)" out &&
		test_grep_F "FAIL  config file own/own.conf mode 0600 owner root:root: the workers'"'"' user nobody cannot read it; fix: chgrp $NG own/own.conf && chmod 640 own/own.conf" out &&
		test_grep_F "FAIL  database $TRASH/own/db.sqlite mode 0600 owner root:root: the workers'"'"' user nobody cannot write it (the workers would exit 6); fix: chown nobody:$NG $TRASH/own/db.sqlite" out &&
		test_grep_F "FAIL  database directory $TRASH/own mode 0755 owner root:root: the workers'"'"' user nobody cannot create SQLite'"'"'s journal files there (the workers would exit 6); fix: chown nobody:$NG $TRASH/own && chmod 700 $TRASH/own" out
	'

	test_expect_success 'the printed fixes, run as printed, leave nothing to fix; the directory owner is the default user' '
		sed -n "s/^FAIL  .*; fix: //p" out >fixes && test "$(wc -l <fixes)" = 3 &&
		sh -e fixes &&
		stripe-syncctl -c own/own.conf doctor >out2 &&
		test_grep_F "ok    workers'"'"' user nobody, group $NG (the owner of the database directory" out2 &&
		test_grep_F "ok    config file own/own.conf mode 0640 owner root:$NG" out2 &&
		test_grep_F "ok    database $TRASH/own/db.sqlite mode 0600 owner nobody:$NG" out2 &&
		test_grep ! "^FAIL" out2
	'

	test_expect_success 'a missing database, as root for workers that are not: migrate through runuser' '
		test_exit_code 1 env STRIPE_SYNC_DB_PATH="$TRASH/own/nosuch.db" \
			stripe-syncctl -c own/own.conf doctor >out &&
		test_grep_F "FAIL  database $TRASH/own/nosuch.db: No such file or directory; fix: run \"runuser -u nobody -- stripe-syncctl -c own/own.conf migrate\"" out
	'

	test_expect_success 'a secret file the workers cannot read: warn (systemd may pass it as a credential)' '
		test_config_get callback_secret "$DCONF" >own/cb.secret && chmod 600 own/cb.secret &&
		sed "/^callback_secret/d" own/own.conf >own/f.conf &&
		echo "callback_secret_file = $TRASH/own/cb.secret" >>own/f.conf &&
		chgrp $NG own/f.conf && chmod 640 own/f.conf &&
		stripe-syncctl -c own/f.conf doctor >out &&
		test_grep_F "warn  callback_secret_file $TRASH/own/cb.secret mode 0600 owner root:root: the workers'"'"' user nobody cannot read it (fine only if systemd passes it to them with LoadCredential=); fix: chgrp $NG $TRASH/own/cb.secret && chmod 640 $TRASH/own/cb.secret" out
	'
fi

test_expect_success '--user naming no user: FAIL, and the owners are not checked' '
	test_exit_code 1 stripe-syncctl -c "$DCONF" doctor --user no-such-user-here >out &&
	test_grep_F "FAIL  workers'"'"' user no-such-user-here (--user): no such user" out
'

test_expect_success 'no configuration at all: FAIL saying so, with init as the fix' '
	test_exit_code 3 stripe-syncctl -c nosuch.conf doctor >out &&
	test_grep_F "FAIL  config: no configuration: nosuch.conf does not exist (searched: -c/--config: nosuch.conf); fix: write one with \"stripe-syncctl init --portal-url URL FILE\"" out
'

# --- outbound URLs ------------------------------------------------------------

test_expect_success 'cloud_api_url on a closed port: FAIL naming it and the curl error' '
	test_exit_code 1 env STRIPE_SYNC_CLOUD_API_URL=http://127.0.0.1:9/ \
		stripe-syncctl -c "$DCONF" doctor >out &&
	test_grep "^FAIL  cloud_api_url http://127.0.0.1:9/: Couldn.t connect to server; fix: check DNS/firewall/proxy$" out &&
	test_grep "^ok    stripe_api_url" out
'

test_expect_success 'stripe_api_url on a closed port: FAIL naming it' '
	test_exit_code 1 env STRIPE_SYNC_STRIPE_API_URL=http://127.0.0.1:9/ \
		stripe-syncctl -c "$DCONF" doctor >out &&
	test_grep "^FAIL  stripe_api_url http://127.0.0.1:9/: " out &&
	test_grep "^ok    cloud_api_url" out
'

test_expect_success 'an https URL to a plain-http server: FAIL with the TLS error' '
	test_exit_code 1 env STRIPE_SYNC_CLOUD_API_URL="https://127.0.0.1:$PORT/" \
		stripe-syncctl -c "$DCONF" doctor >out &&
	test_grep "^FAIL  cloud_api_url https://127.0.0.1:$PORT/: .*SSL" out
'

# --- the public site (--url) ----------------------------------------------------

test_expect_success '--url, all good: ok lines, exit 0, no warning' '
	site && doctor --url "$URL" &&
	test_grep "^ok    portal $URL: HTTP 200" out &&
	test_grep "^ok    portal $URL: Content-Security-Policy frame-ancestors matches frame_ancestors" out &&
	test_grep "^ok    portal $URL: X-Content-Type-Options: nosniff" out &&
	test_grep "^ok    portal $URL: Referrer-Policy: no-referrer" out &&
	test_grep "^ok    health ${URL}api/health: HTTP 200, status ok" out &&
	test_grep "^ok    callback ${URL}api/callback/<random>: HTTP 404" out &&
	test_grep "^ok    callback ${URL}api/callback/: HTTP 404" out &&
	test_grep ! "no --url" out &&
	no_fail
'

test_expect_success '--url: the callback probe uses a random 40-char secret, never the real one' '
	site && : >site.log && doctor --url "$URL" &&
	test_grep "^POST /api/callback/[A-Za-z0-9_-]\{40\} {}$" site.log &&
	test_grep "^POST /api/callback/ {}$" site.log &&
	! grep -F -e "$SECRET" site.log &&
	doctor --url "$URL" &&
	test "$(grep -c "^POST /api/callback/[^ ]" site.log)" = 2 &&
	test "$(grep "^POST /api/callback/[^ ]" site.log | sort -u | wc -l)" = 2
'

test_expect_success '--url: no Content-Security-Policy: FAIL, exit 1' '
	site csp= && test_exit_code 1 doctor --url "$URL" &&
	test_grep "^FAIL  portal $URL: no Content-Security-Policy header; fix: " out
'

test_expect_success '--url: CSP without frame-ancestors: FAIL' '
	site "csp=default-src '\''self'\''" && test_exit_code 1 doctor --url "$URL" &&
	test_grep "^FAIL  portal $URL: Content-Security-Policy has no frame-ancestors" out
'

test_expect_success '--url: frame-ancestors differs from the config: warn with both, exit 0' '
	site "csp=default-src '\''self'\''; frame-ancestors '\''self'\'' https://other.test" &&
	doctor --url "$URL" &&
	test_grep_F "warn  portal $URL: frame-ancestors is \"'\''self'\'' https://other.test\" but the configuration says \"$FA\"; fix: " out &&
	no_fail warn
'

test_expect_success '--url: frame-ancestors matched ignoring case and spacing' '
	site "csp=DEFAULT-SRC '\''self'\'' ;  Frame-Ancestors   $FA  ; img-src data:" &&
	doctor --url "$URL" &&
	test_grep "^ok    portal .*frame-ancestors matches" out &&
	no_fail
'

test_expect_success '--url: no X-Content-Type-Options: FAIL' '
	site xcto= && test_exit_code 1 doctor --url "$URL" &&
	test_grep "^FAIL  portal $URL: no X-Content-Type-Options header; fix: include snippets/stripe-sync-security-headers.conf" out
'

test_expect_success '--url: X-Content-Type-Options not nosniff: FAIL showing it' '
	site xcto=sniff-away && test_exit_code 1 doctor --url "$URL" &&
	test_grep "^FAIL  portal $URL: X-Content-Type-Options is \"sniff-away\", not \"nosniff\"" out
'

test_expect_success '--url: no Referrer-Policy: FAIL' '
	site rp= && test_exit_code 1 doctor --url "$URL" &&
	test_grep "^FAIL  portal $URL: no Referrer-Policy header" out
'

test_expect_success '--url: portal answers 404: FAIL' '
	site root=404 && test_exit_code 1 doctor --url "$URL" &&
	test_grep "^FAIL  portal $URL: HTTP 404, want 2xx" out
'

test_expect_success '--url: portal redirects: FAIL (redirects are not followed)' '
	site root=301 && test_exit_code 1 doctor --url "$URL" &&
	test_grep "^FAIL  portal $URL: HTTP 301, want 2xx (redirects are not followed)" out
'

test_expect_success '--url: callback route answers 200 without the secret: FAIL, exit 1' '
	site cb=200 && test_exit_code 1 doctor --url "$URL" &&
	test_grep "^FAIL  callback ${URL}api/callback/<random>: HTTP 200, want 404: the callback route answers without the secret" out &&
	test_grep "^ok    callback ${URL}api/callback/: HTTP 404" out
'

test_expect_success '--url: empty-secret callback route answers 400: FAIL' '
	site cb0=400 && test_exit_code 1 doctor --url "$URL" &&
	test_grep "^FAIL  callback ${URL}api/callback/: HTTP 400, want 404" out &&
	test_grep "^ok    callback ${URL}api/callback/<random>: HTTP 404" out
'

test_expect_success '--url: health 503: FAIL with the status, exit 1' '
	site health=503 && test_exit_code 1 doctor --url "$URL" &&
	test_grep "^FAIL  health ${URL}api/health: HTTP 503, want 200; fix: " out
'

test_expect_success '--url: health 200 but status not ok: FAIL' '
	site hstatus=degraded && test_exit_code 1 doctor --url "$URL" &&
	test_grep "^FAIL  health ${URL}api/health: HTTP 200 but not JSON with status \"ok\"" out
'

test_expect_success '--url: health never answers: FAIL after --timeout 1' '
	site hang=true &&
	start=$(date +%s) &&
	test_exit_code 1 doctor --timeout 1 --url "$URL" &&
	end=$(date +%s) &&
	test_grep "^FAIL  health ${URL}api/health: Timeout was reached; fix: check DNS/firewall/proxy" out &&
	test_grep "^ok    callback" out &&
	test $((end - start)) -lt 10
'

test_expect_success '--url under a path prefix: the checks go below it' '
	site && : >site.log &&
	doctor --url "${URL}sub" &&
	test_grep "^ok    health ${URL}sub/api/health: HTTP 200" out &&
	test_grep "^GET /sub/ " site.log &&
	test_grep "^GET /sub/api/health " site.log &&
	test_grep "^POST /sub/api/callback/ {}" site.log &&
	no_fail
'

test_expect_success '--url on a closed port: FAIL lines with the curl error, exit 1' '
	test_exit_code 1 doctor --url http://127.0.0.1:9/ &&
	test_grep "^FAIL  portal http://127.0.0.1:9/: Couldn.t connect to server" out &&
	test_grep "^FAIL  health http://127.0.0.1:9/api/health: Couldn.t connect" out
'

# --- the real stack (t/stack.sh: nginx with the repo's site, workers) --------

if [ -z "${SKIP_STACK_TESTS:-}" ] &&
    [ -f "$top_srcdir/t/stack.sh" ] && [ -f "$top_srcdir/tools/stack" ] &&
    { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; } &&
    command -v spawn-fcgi >/dev/null 2>&1 && command -v curl >/dev/null 2>&1 &&
    command -v openssl >/dev/null 2>&1; then
	. "$top_srcdir/t/stack.sh"

	test_expect_success_here 'stack: start nginx, workers and the simulator' '
		stack_start 2
	'

	test_expect_success 'stack: doctor --url on the real site: no failure' '
		STRIPE_SYNC_STRIPE_API_URL="$SIM/" \
			stripe-syncctl -c "$CONF" doctor --url "$APP/" >out 2>err ||
			{ cat out err; false; } &&
		test_grep "^ok    portal $APP/: HTTP 200" out &&
		test_grep "^ok    portal .*frame-ancestors matches" out &&
		test_grep "^ok    health $APP/api/health: HTTP 200, status ok" out &&
		test_grep "^ok    callback $APP/api/callback/<random>: HTTP 404" out &&
		test_grep "^ok    callback $APP/api/callback/: HTTP 404" out &&
		test_grep ! "^FAIL" out &&
		no_secret_in out "$CONF"
	'

	test_expect_success 'stack: without ca_file the private CA is not trusted: FAIL' '
		sed "/^ca_file/d" "$CONF" > noca.conf && chmod 600 noca.conf &&
		test_exit_code 1 env STRIPE_SYNC_STRIPE_API_URL="$SIM/" \
			stripe-syncctl -c noca.conf doctor --url "$APP/" >out &&
		test_grep "^FAIL  portal $APP/: .*certificate.*; fix: if the certificate comes from a private CA, add that CA to the system store (.*update-ca-certificates), or set ca_file to a bundle holding the system CAs and the private one: ca_file replaces the system store, for Blnk Cloud and Stripe too$" out
	'
fi

test_done
