# t/lib.sh: a small test vocabulary for the shell tests, printing TAP.
#
#   test_description='what this file covers'
#   . "$top_srcdir/t/lib.sh"
#   test_expect_success 'what it proves' '
#       command && other command
#   '
#   test_done
#
# Each test file runs in its own fresh trash directory (removed when every
# test passed, kept for inspection otherwise).  Commands in a test are chained
# with && so that the first failure fails the test; test_when_finished
# registers cleanup that runs whether the test passed or not.

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

test_name=$(basename "$0" .sh)
TRASH="$top_builddir/t/trash.$test_name"
rm -rf "$TRASH"
mkdir -p "$TRASH" || exit 99
cd "$TRASH" || exit 99

PATH="$top_builddir:$top_builddir/t:$PATH"
export PATH
# No configuration from the caller's environment leaks into a test.
for v in $(env | sed -n 's/^\(STRIPE_SYNC_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done

test_count=0
test_failures=0
test_cleanup=:
test_exit_hooks=

test_when_finished() {
	test_cleanup="$*
$test_cleanup"
}

# Run at exit of the whole file (stop servers a test started), also when
# the file dies half way.
test_at_exit() {
	test_exit_hooks="$*
$test_exit_hooks"
}
trap 'eval "$test_exit_hooks"' EXIT
trap 'exit 130' INT TERM HUP

# test_report NAME BODY: after a test ran with its status in $eval_ret and
# its output in $TRASH/.out, print its TAP line (and why, if it failed).
test_report() {
	cat "$TRASH/.out" >> "$TRASH/.log"
	if [ "$eval_ret" = 0 ]; then
		printf 'ok %d - %s\n' "$test_count" "$1"
		return
	fi
	test_failures=$((test_failures + 1))
	printf 'not ok %d - %s\n' "$test_count" "$1"
	printf '#   failed commands:\n'
	printf '%s\n' "$2" | sed 's/^/#   /'
	printf '#   output (last 40 lines):\n'
	tail -n 40 "$TRASH/.out" | sed 's/^/#   /'
}

test_expect_success() {
	test_count=$((test_count + 1))
	test_cleanup=:
	printf '# -- %s\n' "$1" >> "$TRASH/.log"
	(
		eval "$2"
		_test_rc=$?	# a name no helper sets: a cleanup may call any
		eval "$test_cleanup"
		exit "$_test_rc"
	) > "$TRASH/.out" 2>&1 </dev/null
	eval_ret=$?
	test_report "$1" "$2"
}

# The body of a _here test, in a function of its own: a "return" in it
# ends the body with its status, not the harness function that reports it.
_here_body() {
	eval "$1"
}

# Like test_expect_success, but the body runs in the test file's own shell,
# so variables it sets (a server's pid, a token) are seen by later tests.
test_expect_success_here() {
	test_count=$((test_count + 1))
	test_cleanup=:
	printf '# -- %s\n' "$1" >> "$TRASH/.log"
	_here_body "$2" > "$TRASH/.out" 2>&1 </dev/null
	eval_ret=$?
	eval "$test_cleanup" >> "$TRASH/.out" 2>&1
	test_report "$1" "$2"
}

# test_diag TEXT: a TAP comment line, for figures worth keeping in the log.
test_diag() {
	printf '# %s\n' "$*"
}

skip_all() {
	# Past its first tests (a file whose later part needs the stack),
	# the rest is skipped and what ran so far stands.
	if [ "$test_count" -gt 0 ]; then
		printf '# the rest skipped: %s\n' "$*"
		test_done
	fi
	printf '1..0 # SKIP %s\n' "$*"
	# What the test started before it knew it would skip (a stub) goes,
	# and so does its trash: nothing is left in the build directory.
	eval "$test_exit_hooks"
	test_exit_hooks=
	cd "$top_builddir" && rm -rf "$TRASH"
	exit 0
}

test_done() {
	eval "$test_exit_hooks"
	test_exit_hooks=
	printf '1..%d\n' "$test_count"
	if [ "$test_failures" = 0 ]; then
		cd "$top_builddir" && rm -rf "$TRASH"
		exit 0
	fi
	printf '# %d of %d failed; see %s\n' "$test_failures" "$test_count" "$TRASH"
	exit 1
}

# --- stopping what a test started -------------------------------------------

# test_running PATTERN PID...: those PIDs that still run (a zombie has
# stopped) with PATTERN in their command line (so that a pid the system
# has since given to another program is never signalled).
test_running() {
	_tr_pat=$1; shift
	for _tr_p in "$@"; do
		_tr_st=$(sed -n 's/^[0-9]* (.*) \(.\) .*/\1/p' "/proc/$_tr_p/stat" 2>/dev/null)
		[ -n "$_tr_st" ] && [ "$_tr_st" != Z ] || continue
		tr '\0' ' ' < "/proc/$_tr_p/cmdline" 2>/dev/null | grep -q -F -e "$_tr_pat" &&
			echo "$_tr_p"
	done
	return 0
}

# test_stop PATTERN PID...: TERM those PIDs (see test_running), give them
# 5 s to go, then KILL what is left.  test_stop PATTERN -g PGID: the same
# for every process of the process group PGID (start a server with setsid
# to give it and its children a group of their own), also those its
# leader started while it stopped and those it left behind.
test_stop() {
	_ts_pat=$1; shift
	if [ "$1" = -g ]; then
		_ts_g=$2
		set -- $(pgrep -g "$_ts_g")
	else
		_ts_g=
	fi
	set -- $(test_running "$_ts_pat" "$@")
	[ $# -eq 0 ] || kill -TERM "$@" 2>/dev/null
	_ts_end=$(($(date +%s) + 5))
	while [ $# -gt 0 ] && [ "$(date +%s)" -le $_ts_end ]; do
		sleep 0.01
		[ -z "$_ts_g" ] || set -- "$@" $(pgrep -g "$_ts_g")
		set -- $(test_running "$_ts_pat" "$@" | sort -u)
	done
	[ $# -eq 0 ] || { echo "test_stop: still running after 5 s, killing: $*"; kill -KILL "$@" 2>/dev/null; }
	return 0
}

# --- assertions ------------------------------------------------------------

# test_cmp EXPECTED ACTUAL: the files are equal, else show the diff.
test_cmp() {
	diff -u "$1" "$2"
}

# test_must_fail CMD...: CMD exits non-zero but was not killed by a signal.
test_must_fail() {
	"$@"
	_rc=$?
	if [ "$_rc" = 0 ]; then
		echo "test_must_fail: command succeeded: $*"
		return 1
	elif [ "$_rc" -gt 128 ]; then
		echo "test_must_fail: command died of signal $((_rc - 128)): $*"
		return 1
	fi
	return 0
}

# test_exit_code N CMD...: CMD exits with exactly N.
test_exit_code() {
	_want=$1; shift
	"$@"
	_rc=$?
	[ "$_rc" = "$_want" ] || { echo "exit code $_rc, want $_want: $*"; return 1; }
}

# test_grep PATTERN FILE / test_grep ! PATTERN FILE, with the file shown on failure.
test_grep() {
	if [ "$1" = "!" ]; then
		shift
		if grep -e "$1" "$2" >/dev/null; then
			echo "unexpected match for '$1' in $2:"; grep -n -e "$1" "$2"; return 1
		fi
		return 0
	fi
	grep -e "$1" "$2" >/dev/null && return 0
	echo "no match for '$1' in $2:"; cat "$2"; return 1
}

# test_grep_F STRING FILE: FILE has the fixed string (shown on failure).
test_grep_F() {
	grep -F -e "$1" "$2" >/dev/null && return 0
	echo "no match for '$1' in $2:"; cat "$2"; return 1
}

# A fresh random secret of 32 url-safe bytes, and a fresh master key.
test_secret() {
	head -c 48 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' | cut -c1-48
}
test_master_key() {
	head -c 32 /dev/urandom | base64 | tr -d '\n'
}

# Write a complete valid config to "$1" (default ./stripe-sync.conf) with
# fresh secrets and the database at ./db.sqlite; extra "key = value" lines
# may follow as further arguments.
test_write_config() {
	_f=${1:-stripe-sync.conf}; [ $# -gt 0 ] && shift
	{
		echo "# written by t/lib.sh"
		echo "db_path = $TRASH/db.sqlite"
		echo "master_key = $(test_master_key)"
		echo "session_secret = $(test_secret)"
		echo "callback_secret = $(test_secret)"
		echo "portal_url = https://portal.test/"
		echo "cloud_api_url = http://127.0.0.1:9/"
		# No test may reach the real Stripe: a closed port, unless the
		# test names its own.
		_s=1; for _l in "$@"; do case $_l in stripe_api_url*) _s=0 ;; esac; done
		[ "$_s" = 0 ] || echo "stripe_api_url = http://127.0.0.1:9/"
		echo "log_file = $TRASH/app.log"
		# The binaries refuse root without it; t3800 checks that.
		[ "$(id -u)" != 0 ] || echo "allow_root = yes"
		for _l in "$@"; do echo "$_l"; done
	} > "$_f" && chmod 600 "$_f"
}

# test_no_secret OUTPUT CONF [KEY...]: no secret value of CONF (nor its
# first 12 characters) appears in the file OUTPUT.  The secrets are
# master_key, session_secret, callback_secret and any KEY given; those
# absent from CONF are skipped, but at least one must be there.
test_no_secret() {
	_out=$1 _conf=$2 _seen=0
	shift 2
	for _k in master_key session_secret callback_secret "$@"; do
		_v=$(test_config_get "$_k" "$_conf")
		test -n "$_v" || continue
		_seen=1
		_p=$(printf '%s' "$_v" | cut -c1-12)
		if grep -F -e "$_p" "$_out" >/dev/null; then
			echo "value of $_k from $_conf appears in $_out:"; cat "$_out"
			return 1
		fi
	done
	[ "$_seen" = 1 ] || { echo "no secret found in $_conf"; return 1; }
}

# The value of KEY in config file FILE.
test_config_get() {
	sed -n "s/^$1[ 	]*=[ 	]*//p" "${2:-stripe-sync.conf}" | tail -n 1
}
