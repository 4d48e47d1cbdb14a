#!/bin/sh
# The build is quiet (make demo's first screen is the demo, not 70
# compiler lines): make demo's own build call (SILENT=1) prints nothing at
# all, and the default build one "  CC/AR/LD/GEN <file>" line per step,
# no compiler command line and no warning. Built in a copy of the work
# tree's sources (Makefile, src, web, scripts), not in its build/.
. "$(dirname "$0")/../lib/test-lib.sh"

command -v gcc >/dev/null 2>&1 && command -v make >/dev/null 2>&1 || test_skip_all "needs gcc and make"

test_expect_success 'a copy of the tree' '
	mkdir tree &&
	(cd "$TOP" && tar -cf - Makefile src web scripts) | tar -xf - -C tree &&
	test -f tree/Makefile
'

test_expect_success 'make demo'\''s build: no output at all' '
	make -C tree --no-print-directory -j2 SILENT=1 build/volrep >out 2>&1 &&
	{ test ! -s out || { cat out; false; }; } &&
	test -x tree/build/volrep
'

test_expect_success 'the default build: one short line per step' '
	touch tree/src/base/strbuf.c &&
	make -C tree --no-print-directory build/volrep >out 2>&1 &&
	cat out &&
	expect_grep "^  CC      src/base/strbuf.c$" out &&
	expect_grep "^  LD      build/volrep$" out &&
	! grep -v "^  \(CC\|AR\|LD\|GEN\) " out
'

test_done
