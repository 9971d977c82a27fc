#!/bin/sh
test_description='the documented deployment: make install, the guide'\''s layout, nginx from the installed files, workers unprivileged'
. "$top_srcdir/t/lib.sh"

# deploy/README.md and README's "By hand", followed under a scratch root R
# instead of /: make install DESTDIR=R, the directories and modes of the
# guide, init --secrets-dir as root, migrate as the workers' user, the pool
# under spawn-fcgi -n (-u/-g, socket -U/-G for nginx's group), stripe-syncd
# as the workers' user, and nginx running the installed site file with only
# its host-specific lines (listen, certificates, paths) changed.  Blnk Cloud
# is the simulator.  The workers' user is nobody (the guide creates
# stripe-sync), nginx's group www-data.

[ "$(id -u)" = 0 ] || skip_all "the deployment runs as root, as the guide does"
id nobody >/dev/null 2>&1 || skip_all "no user nobody"
getent group www-data >/dev/null || skip_all "no group www-data (nginx-light creates it)"
for c in nginx spawn-fcgi node curl jq openssl setpriv make; do
	command -v $c >/dev/null 2>&1 || [ -x /usr/sbin/$c ] || skip_all "$c is not installed"
done
[ -f "$top_builddir/Makefile" ] || skip_all "no build tree to install from"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
WU=nobody WG=$(id -gn nobody)

R=$(mktemp -d /tmp/ssdeploy.XXXXXX) || exit 99
chmod 755 "$R"
PIDS=
test_at_exit 'for p in $PIDS; do kill $p 2>/dev/null; done; [ -f "$R/nginx/nginx.pid" ] && kill "$(cat "$R/nginx/nginx.pid")" 2>/dev/null; sleep 0.2; for p in $PIDS; do kill -9 $p 2>/dev/null; done; rm -rf "$R"'

free_port() {
	node -e 'const s = require("net").createServer();
		s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}
# wait_for CMD...: until CMD succeeds, at most ~10 s.
wait_for() {
	_n=0
	until "$@" >/dev/null 2>&1; do
		_n=$((_n + 1)); [ $_n -lt 1000 ] || { echo "timed out: $*"; return 1; }
		sleep 0.01
	done
}

CONF=$R/etc/stripe-sync/stripe-sync.conf
DB=$R/var/lib/stripe-sync/stripe-sync.db
SOCK=$R/run/stripe-sync/fcgi.sock

test_expect_success_here 'make install DESTDIR puts everything the guide copies' '
	make -C "$top_builddir" install DESTDIR="$R" >install.log 2>&1 &&
	PREFIX=$(sed -n "s/^prefix = //p" "$top_builddir/Makefile") &&
	SBIN=$R$(sed -n "s/^sbindir = //p" "$top_builddir/Makefile" | sed "s#\${exec_prefix}#$PREFIX#") &&
	BIN=$R$(sed -n "s/^bindir = //p" "$top_builddir/Makefile" | sed "s#\${exec_prefix}#$PREFIX#") &&
	SHARE=$R$PREFIX/share/stripe-sync &&
	for f in "$SBIN/stripe-sync.fcgi" "$SBIN/stripe-syncd" "$BIN/stripe-syncctl"; do
		test -x "$f" || { echo "missing $f"; return 1; }
	done &&
	for f in portal-static/index.html portal-static/app.js portal-static/chart.js \
	    portal-static/logo.svg \
	    nginx/stripe-sync.conf nginx/snippets/stripe-sync-site.conf \
	    nginx/conf.d/stripe-sync-maps.conf deploy/README.md \
	    deploy/systemd/stripe-sync-fcgi.service manifest.json; do
		test -f "$SHARE/$f" || { echo "missing $SHARE/$f"; return 1; }
	done &&
	CTL=$BIN/stripe-syncctl
'

test_expect_success_here 'user, directories and modes as the guide gives them' '
	install -d -m 0750 -o root -g "$WG" "$R/etc/stripe-sync" &&
	install -d -m 0700 -o "$WU" -g "$WG" "$R/var/lib/stripe-sync" &&
	install -d -m 0755 "$R/run/stripe-sync" "$R/logs" &&
	PORT=$(free_port) && SIMPORT=$(free_port) &&
	APP=https://127.0.0.1:$PORT SIM=http://127.0.0.1:$SIMPORT
'

test_expect_success_here 'init --secrets-dir as root, then migrate as the workers'\'' user' '
	"$CTL" init --user "$WU" --portal-url "$APP/" --db "$DB" \
		--secrets-dir "$R/etc/stripe-sync" "$CONF" > init.out &&
	for f in stripe-sync.conf master_key session_secret callback_secret old_master_keys; do
		test "$(stat -c "%a %U %G" "$R/etc/stripe-sync/$f")" = "640 root $WG" || { stat "$R/etc/stripe-sync/$f"; return 1; }
	done &&
	{
		echo "cloud_api_url = $SIM"
		echo "frame_ancestors = '\''self'\'' $SIM"
		echo "ca_file = $R/tls/cert.pem"
		echo "log_file = $R/logs/app.log"
	} >> "$CONF" &&
	install -m 0640 -o "$WU" -g "$WG" /dev/null "$R/logs/app.log" &&
	mkdir -p "$R/tls" &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1" \
		-keyout "$R/tls/key.pem" -out "$R/tls/cert.pem" 2>/dev/null &&
	chmod 644 "$R/tls/cert.pem" &&
	runuser -u "$WU" -- "$CTL" -c "$CONF" migrate > mig.out &&
	test "$(stat -c "%a %U" "$DB")" = "600 $WU"
'

test_expect_success_here 'the pool under spawn-fcgi, as the workers'\'' user, on a socket nginx'\''s group may use' '
	spawn-fcgi -n -s "$SOCK" -M 0660 -U "$WU" -G www-data -u "$WU" -g "$WG" \
		-d "$R/var/lib/stripe-sync" -- "$SBIN/stripe-sync.fcgi" -c "$CONF" --workers 2 \
		>> spawn.log 2>&1 &
	POOL=$!
	PIDS="$PIDS $POOL"
	wait_for sh -c "test \$(grep -c \"worker ready\" \"$R/logs/app.log\") -ge 2" &&
	test "$(stat -c "%a %U %G" "$SOCK")" = "660 $WU www-data" &&
	for p in $POOL $(pgrep -P $POOL); do
		test "$(ps -o user= -p $p)" = "$WU" || return 1
	done || return 1
	# Not through a shell function: $! must be stripe-syncd itself.
	setpriv --reuid="$WU" --regid="$WG" --init-groups "$SBIN/stripe-syncd" \
		-c "$CONF" >> syncd.log 2>&1 &
	SYNCD=$!
	PIDS="$PIDS $SYNCD"
	wait_for grep -q "stripe-syncd ready" "$R/logs/app.log"
'

test_expect_success_here 'nginx runs the installed site, changed only where the guide says to' '
	N=$R/nginx && mkdir -p "$N/snippets" "$N/conf.d" "$N/tmp" &&
	cp "$SHARE"/nginx/snippets/*.conf "$N/snippets/" &&
	cp "$SHARE"/nginx/conf.d/*.conf "$N/conf.d/" &&
	cp /etc/nginx/mime.types /etc/nginx/fastcgi_params "$N/" &&
	sed -i -e "s#/var/log/nginx/#$R/logs/#g" \
	    -e "s#frame-ancestors '\''self'\'' https://blnkfinance.com https://\*.blnkfinance.com#frame-ancestors '\''self'\'' $SIM#" \
	    "$N"/snippets/*.conf &&
	sed -e "s#unix:/run/stripe-sync/fcgi.sock#unix:$SOCK#" \
	    -e "s#listen 443 ssl http2;#listen 127.0.0.1:$PORT ssl http2;#" \
	    -e "/listen \[::\]/d" -e "s#listen 80;#listen 127.0.0.1:$(free_port);#" \
	    -e "s#server_name stripe-sync.example.com;#server_name 127.0.0.1;#" \
	    -e "s#/etc/letsencrypt/live/stripe-sync.example.com/fullchain.pem#$R/tls/cert.pem#" \
	    -e "s#/etc/letsencrypt/live/stripe-sync.example.com/privkey.pem#$R/tls/key.pem#" \
	    -e "s#/var/log/nginx/#$R/logs/#g" \
	    -e "s#root /usr/local/share/stripe-sync/portal-static;#root $SHARE/portal-static;#" \
	    "$SHARE/nginx/stripe-sync.conf" > "$N/site.conf" &&
	diff "$SHARE/nginx/stripe-sync.conf" "$N/site.conf" > site.diff;
	test "$(grep -c "^>" site.diff)" -le 9 &&
	cat > "$N/nginx.conf" <<-EOF &&
	user www-data;
	worker_processes 1;
	pid $N/nginx.pid;
	error_log $R/logs/nginx-error.log;
	events { worker_connections 256; }
	http {
		include mime.types;
		client_body_temp_path $N/tmp/body;
		fastcgi_temp_path $N/tmp/fastcgi;
		proxy_temp_path $N/tmp/proxy;
		uwsgi_temp_path $N/tmp/uwsgi;
		scgi_temp_path $N/tmp/scgi;
		include conf.d/stripe-sync-maps.conf;
		include site.conf;
	}
	EOF
	chmod -R a+rX "$SHARE" &&
	"$NGINX" -t -q -p "$N" -c "$N/nginx.conf" &&
	"$NGINX" -p "$N" -c "$N/nginx.conf" &&
	wait_for curl -fsS --cacert "$R/tls/cert.pem" "$APP/api/health"
'

test_expect_success_here 'doctor, as the workers'\'' user, finds the deployment sound' '
	runuser -u "$WU" -- "$CTL" -c "$CONF" doctor --url "$APP/" > doctor.out 2>&1;
	cat doctor.out &&
	! grep "^FAIL" doctor.out | grep -v "cloud_api_url\|stripe_api_url"
'

test_expect_success_here 'Cloud installs the app through nginx, launches it, and the portal answers' '
	node "$top_srcdir/tools/cloud-sim/cloud-sim.js" --port "$SIMPORT" \
		--manifest "$SHARE/manifest.json" --app-base "$APP" \
		--callback-secret-file "$R/etc/stripe-sync/callback_secret" --ca-file "$R/tls/cert.pem" \
		--ready-file "$R/sim.ready" --register >> sim.log 2>&1 &
	SIMPID=$!
	PIDS="$PIDS $SIMPID"
	wait_for test -s "$R/sim.ready" &&
	curl -fsS -X POST -H "Content-Type: application/json" -d "{}" "$SIM/_sim/install" > inst.json &&
	test "$(jq -r .status inst.json)" = installed &&
	ID=$(jq -r .installed_app_id inst.json) &&
	test "$(runuser -u "$WU" -- "$CTL" -c "$CONF" install "$ID" --json | jq -r .status)" = active &&
	curl -fsS -X POST -H "Content-Type: application/json" -d "{\"installed_app_id\":\"$ID\"}" "$SIM/_sim/launch" > l.json &&
	TOK=$(jq -r .portal_url l.json | sed "s/.*token=//") &&
	curl -fsS --cacert "$R/tls/cert.pem" -H "Authorization: Bearer $TOK" "$APP/api/v1/context" > ctx.json &&
	test "$(jq -r .installed_app_id ctx.json)" = "$ID" &&
	curl -fsS --cacert "$R/tls/cert.pem" -H "Authorization: Bearer $TOK" "$APP/api/v1/ledgers" > led.json &&
	test "$(jq -r .page_size led.json)" = 30
'

# reloaded N: until the pool's log says "reload done" N times and
# stripe-syncd's "configuration ... loaded" N times.
reloaded() {
	wait_for sh -c "test \$(grep -c \"reload done\" \"$R/logs/app.log\") -ge $1 &&
		test \$(grep -c \"stripe-syncd.*reload: configuration .* loaded\" \"$R/logs/app.log\") -ge $1"
}

test_expect_success 'systemctl reload'\''s SIGHUP under load: every request answered, every worker new' '
	old=$(pgrep -P $POOL | sort | tr "\n" " ") &&
	( i=0; while [ $i -lt 300 ]; do
		curl -s -o /dev/null -w "%{http_code}\n" --cacert "$R/tls/cert.pem" \
			-H "Authorization: Bearer $TOK" "$APP/api/v1/context"
		i=$((i + 1))
	done > load.codes ) &
	loader=$!
	kill -HUP $POOL $SYNCD && reloaded 1 &&
	kill -HUP $POOL $SYNCD && reloaded 2 &&
	wait $loader &&
	test "$(wc -l < load.codes)" = 300 &&
	test "$(sort -u load.codes)" = 200 &&
	new=$(pgrep -P $POOL | sort | tr "\n" " ") &&
	for p in $old; do case " $new " in *" $p "*) echo "worker $p survived"; return 1;; esac; done &&
	test "$(echo $new | wc -w)" = 2
'

test_expect_success 'the master key rotates as the guide says: reload, rotate, check, drop' '
	cd "$R/etc/stripe-sync" &&
	cp master_key old_master_keys && openssl rand -base64 32 > master_key &&
	chgrp "$WG" master_key old_master_keys && chmod 0640 master_key old_master_keys &&
	cd "$TRASH" &&
	runuser -u "$WU" -- "$CTL" -c "$CONF" check-config &&
	kill -HUP $POOL $SYNCD && reloaded 3 &&
	runuser -u "$WU" -- "$CTL" -c "$CONF" rotate-keys > rot.out &&
	test_grep "^before: 1 sealed under key [0-9a-f]* (old_master_keys)$" rot.out &&
	test_grep "^after: 1 sealed under key [0-9a-f]* (master_key)$" rot.out &&
	{ runuser -u "$WU" -- "$CTL" -c "$CONF" doctor > doc1.out 2>&1; true; } &&
	test_grep "^ok    sealed secrets: all 1 under the current master_key" doc1.out &&
	: > "$R/etc/stripe-sync/old_master_keys" &&
	kill -HUP $POOL $SYNCD && reloaded 4 &&
	{ runuser -u "$WU" -- "$CTL" -c "$CONF" doctor > doc2.out 2>&1; true; } &&
	test_grep "^ok    sealed secrets: all 1 under the current master_key [0-9a-f]*$" doc2.out &&
	curl -fsS --cacert "$R/tls/cert.pem" -H "Authorization: Bearer $TOK" "$APP/api/v1/ledgers" >/dev/null
'

test_expect_success 'uninstall through nginx completes and destroys the key' '
	curl -fsS -X POST -H "Content-Type: application/json" -d "{\"installed_app_id\":\"$ID\"}" "$SIM/_sim/uninstall" > un.json &&
	test "$(jq -r .status un.json)" = uninstalled &&
	runuser -u "$WU" -- "$CTL" -c "$CONF" install "$ID" --json > i.json &&
	test "$(jq -c "[.status, .has_key]" i.json)" = "[\"inactive\",false]"
'

test_expect_success 'the access log never holds the callback secret or a token' '
	test -s "$R/logs/stripe-sync.access.log" &&
	test_grep ! "$(cat "$R/etc/stripe-sync/callback_secret")" "$R/logs/stripe-sync.access.log" &&
	test_grep ! "$TOK" "$R/logs/stripe-sync.access.log" &&
	test_grep "/api/callback/\[redacted\]" "$R/logs/stripe-sync.access.log"
'

test_expect_success 'make uninstall DESTDIR removes what install put there' '
	make -C "$top_builddir" uninstall DESTDIR="$R" > uninstall.log 2>&1 &&
	! test -e "$SBIN/stripe-sync.fcgi" && ! test -e "$BIN/stripe-syncctl" &&
	! test -e "$SHARE"
'

test_done
