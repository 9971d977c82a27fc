#!/bin/sh
test_description='the three binaries exist, print their version and usage'
. "$top_srcdir/t/lib.sh"

for b in stripe-sync.fcgi stripe-syncd stripe-syncctl; do
	test_expect_success "$b --version prints the package version" "
		$b --version > out &&
		test_grep '^$b [0-9][0-9.]*\$' out
	"
	test_expect_success "$b --help exits 0 and mentions --config" "
		$b --help > out && grep -q -e '--config' out
	"
	test_expect_success "$b rejects an unknown option with exit 2" "
		test_exit_code 2 $b --no-such-option 2> err && test -s err
	"
done

# The harness itself: a "return" in the body of a _here test (it runs in
# the file's own shell) fails that test, and the file goes on.
test_expect_success 'a _here body that returns 1 is reported as failed, and the rest still runs' '
	mkdir -p probe/t &&
	printf "%s\\n" ". \"\$top_srcdir/t/lib.sh\"" \
	    "test_expect_success_here first \"X=1 && return 1\"" \
	    "test_expect_success second \"test \\\"\\\$X\\\" = 1\"" \
	    test_done > probe/here.sh &&
	{ top_builddir=$PWD/probe sh probe/here.sh > probe.out; test $? = 1; } &&
	test_grep "^not ok 1 - first" probe.out &&
	test_grep "^ok 2 - second" probe.out &&
	test_grep "^1\.\.2\$" probe.out
'

test_expect_success 'COPYING holds the ISC license' '
	test_grep "Permission to use, copy, modify, and/or distribute this software" "$top_srcdir/COPYING"
'

test_expect_success 'make install ships every deployment file (each is listed in Makefile.am)' '
	(cd "$top_srcdir" && for f in $(find nginx deploy portal-static -type f); do
		grep -q -F "$f" Makefile.am || { echo "$f is not installed"; exit 1; }
	done)
'

test_done
