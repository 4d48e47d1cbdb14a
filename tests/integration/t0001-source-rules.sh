#!/bin/sh
# Rules of the source tree that a grep can check (see src/exec/spawn.h):
# only src/exec starts processes, always from an argv array and never
# through a shell: no fork, exec*, posix_spawn, system or popen anywhere
# else in src/, and no "sh -c" handed to the spawner.
. "$(dirname "$0")/../lib/test-lib.sh"

# calls, not mentions: the name followed by "(" (comments too: a comment
# that shows such a call is rare enough to be worded differently)
SPAWN_RE='(^|[^A-Za-z0-9_.>])(fork|vfork|clone|clone3|execl|execlp|execle|execv|execvp|execvpe|execve|execveat|fexecve|posix_spawnp?|system|popen)[[:space:]]*\('

test_expect_success 'the pattern finds what it is meant to find' '
	printf "%s\n" "pid = fork();" "	execvp(a[0], a);" "if (system(cmd))" "f = popen(c, \"r\");" \
		"posix_spawnp(&p, f, 0, 0, a, e);" "x = vfork ();" >calls &&
	test "$(grep -cE "$SPAWN_RE" calls)" = 6 &&
	printf "%s\n" "child_fork_safe(x);" "my_system(x);" "s->exec(x);" "p->system (x);" \
		"/* the filesystem (zfs) */" "strvec_push(&a, \"exec\");" >others &&
	! grep -E "$SPAWN_RE" others
'

test_expect_success 'only src/exec spawns processes' '
	grep -rnE "$SPAWN_RE" "$TOP/src" --include="*.c" --include="*.h" >all &&
	# banned.h names them only to make their use fail to compile
	{ grep -v -e "^$TOP/src/exec/" -e "^$TOP/src/base/banned.h:" all >outside || :; } &&
	{ test ! -s outside || { echo "process spawned outside src/exec:" && cat outside && false; }; } &&
	# the check sees the real ones (so it is not blind)
	grep -q "^$TOP/src/exec/spawn.c:.*fork" all
'

test_expect_success 'no shell handed to the spawner' '
	! grep -rnE "\"(/bin/)?(ba|da)?sh\"[[:space:]]*,[[:space:]]*\"-c\"" "$TOP/src" --include="*.c"
'

test_done
