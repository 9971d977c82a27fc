#!/bin/sh
test_description='every parser replays its fuzz corpus (seeds and past crashes) without a fault'
. "$top_srcdir/t/lib.sh"

for t in body token conf b64 text sig money query stripe route callback api \
    sync; do
	test_expect_success "fuzz-$t replays fuzz/corpus/$t" "
		n=\$(ls \"\$top_srcdir/fuzz/corpus/$t\" | wc -l) &&
		test \"\$n\" -gt 0 &&
		\"\$top_builddir/fuzz/fuzz-$t\" \"\$top_srcdir/fuzz/corpus/$t\" > out &&
		test \"\$(cat out)\" = \"\$n inputs\"
	"
done

test_done
