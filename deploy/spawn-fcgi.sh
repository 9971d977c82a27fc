#!/bin/sh
# stripe-sync: start the FastCGI worker pool on a host WITHOUT systemd.
# (With systemd, use deploy/systemd/ instead: it restarts crashed workers.)
#
# Run as root; spawn-fcgi creates the socket, hands it to www-data (nginx's
# user) with mode 0660, drops to stripe-sync and forks WORKERS processes
# that all accept() on that one socket.  nginx/stripe-sync.conf needs no
# change: same socket path.
#
#   WORKERS=4 deploy/spawn-fcgi.sh
#
# CAVEAT: with -F, spawn-fcgi forks the children and exits.  Nobody watches
# them: a worker that crashes is gone for good and the pool silently
# shrinks until the last one dies (then nginx answers 503).  For anything
# but a quick test, run each worker under a supervisor in the foreground
# ("-n", one process, one socket per worker), e.g. a runit service
# /etc/sv/stripe-sync-fcgi-1/run:
#
#   #!/bin/sh
#   exec 2>&1
#   exec spawn-fcgi -n -s /run/stripe-sync/fcgi-1.sock -M 0660 \
#       -U stripe-sync -G www-data -u stripe-sync -g stripe-sync -- \
#       /usr/local/sbin/stripe-sync.fcgi --config /etc/stripe-sync/stripe-sync.conf
#
# (daemontools, s6 and supervisord work the same way).  Each "-n" worker
# needs its own socket, because spawn-fcgi refuses to bind a socket another
# live process is serving; list every one in the nginx upstream block:
#
#   upstream stripe_sync_fcgi {
#       server unix:/run/stripe-sync/fcgi-1.sock;
#       server unix:/run/stripe-sync/fcgi-2.sock;
#   }
#
# To add workers: raise WORKERS and rerun this script after stopping the old
# pool (kill the PIDs in the pid file), or add one more supervised "-n"
# service and one more "server" line, then "nginx -s reload".

set -eu

WORKERS=${WORKERS:-4}
SOCK=${SOCK:-/run/stripe-sync/fcgi.sock}
CONF=${CONF:-/etc/stripe-sync/stripe-sync.conf}
FCGI=${FCGI:-/usr/local/sbin/stripe-sync.fcgi}
PIDFILE=${PIDFILE:-/run/stripe-sync/fcgi.pid}

# nginx (www-data) must be able to reach the socket: the directory is
# world-searchable, the socket itself is 0660 stripe-sync:www-data.
install -d -m 0755 -o root -g root "$(dirname "$SOCK")"

# The workers log to standard error unless log_file is set in the config;
# spawn-fcgi leaves it attached to whatever started this script.
exec spawn-fcgi \
	-s "$SOCK" -M 0660 -U stripe-sync -G www-data \
	-u stripe-sync -g stripe-sync \
	-F "$WORKERS" -P "$PIDFILE" \
	-d /var/lib/stripe-sync \
	-- "$FCGI" --config "$CONF"
