#!/bin/sh
# stripe-sync: run the FastCGI worker pool on a host WITHOUT systemd.
# (With systemd, use deploy/systemd/ instead.)
#
# Run as root; spawn-fcgi creates the socket, hands it to www-data (nginx's
# user) with mode 0660, drops to stripe-sync and execs stripe-sync.fcgi in
# its place ("-n").  With --workers N, stripe-sync.fcgi forks N workers that
# all accept() on that one socket and replaces any worker that dies (a
# crash, an OOM kill), so the pool does not shrink.  nginx/stripe-sync.conf
# needs no change: same socket path.
#
#   WORKERS=4 deploy/spawn-fcgi.sh
#
# The script stays in the foreground: run it from a supervisor (runit,
# daemontools, s6, supervisord) so that the supervisor process itself is
# restarted too, e.g. /etc/sv/stripe-sync-fcgi/run:
#
#   #!/bin/sh
#   exec 2>&1
#   WORKERS=4 exec /usr/local/share/stripe-sync/deploy/spawn-fcgi.sh
#
# SIGTERM to it lets every worker finish the request in hand and stops the
# pool.  SIGHUP reloads the configuration, replacing the workers one at a
# time without dropping a request; SIGTTIN and SIGTTOU add and remove a
# worker until the next start (see stripe-sync.fcgi(8), SIGNALS).  To
# change the number for good: raise WORKERS and restart it.
#
# Do not use "spawn-fcgi -F N" for production: spawn-fcgi forks the
# children and exits, nobody watches them, and a crashed worker is gone for
# good until the last one dies (then nginx answers 502).

set -eu

WORKERS=${WORKERS:-4}
SOCK=${SOCK:-/run/stripe-sync/fcgi.sock}
CONF=${CONF:-/etc/stripe-sync/stripe-sync.conf}
FCGI=${FCGI:-/usr/local/sbin/stripe-sync.fcgi}

# nginx (www-data) must be able to reach the socket: the directory is
# world-searchable, the socket itself is 0660 stripe-sync:www-data.
install -d -m 0755 -o root -g root "$(dirname "$SOCK")"
rm -f "$SOCK"

# The workers log to standard error unless log_file is set in the config.
exec spawn-fcgi -n \
	-s "$SOCK" -M 0660 -U stripe-sync -G www-data \
	-u stripe-sync -g stripe-sync \
	-d /var/lib/stripe-sync \
	-- "$FCGI" --config "$CONF" --workers "$WORKERS"
