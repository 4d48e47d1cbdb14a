#!/bin/sh
# Resumable transfers through the whole engine on one host (as t6000:
# zfs-fuse pools rpool = source, tpool = target, the local transport).
# zfs-fuse has no resume tokens, so a zfs in front of it plays them: it
# claims `recv -s` and `send -t`, a receive told to break off reads part
# of its stream, fails and leaves a token, `send -nvP -t` names the
# snapshot of a token it made, and `send -t` sends that stream again
# (a resume that starts at 0). What is tested is volrep's side: after
# the break the run asks the target for its token, checks it, resumes
# with `send -t` into `import --resume`; a stale token is given up with
# `recv -A` for one fresh stream; on plain zfs-fuse nothing of it runs.
. "$(dirname "$0")/../lib/storage.sh"
storage_private_namespace "$0" "$@"
. "$(dirname "$0")/../lib/test-lib.sh"

. "$TOP/tests/lib/local-pair.sh"
local_pair_env
FZ=$TRASH/fz


# the resume-playing zfs: $FZ/break makes the next receive break off,
# $FZ/stale makes `send -nvP -t` refuse every token, $FZ/plain hides
# -s and -t (zfs-fuse as it is)
mkdir -p "$FZ/bin"
REAL_ZFS=$(command -v zfs)
cat >"$FZ/bin/zfs" <<EOS
#!/bin/sh
FZ='$FZ' REAL='$REAL_ZFS'
echo "zfs \$*" >>"\$FZ/calls"
last() { for _a; do :; done; echo "\$_a"; }
case "\$1" in
help)
	[ ! -e "\$FZ/plain" ] || exec "\$REAL" help
	"\$REAL" help 2>&1 | sed -e 's/send \[-RDp\]/send [-RDpt]/' -e 's/receive \[-vnF\]/receive [-vnFs]/' >&2
	exit 2 ;;
get)
	if [ "\$5" = receive_resume_token ]; then
		t=\$FZ/partial.\$(echo "\$7" | tr / _)
		if [ -e "\$t" ]; then cat "\$t"; else echo -; fi
		exit 0
	fi ;;
recv)
	ds=\$(last "\$@")
	t=\$FZ/partial.\$(echo "\$ds" | tr / _)
	if [ "\$2" = -A ]; then
		[ -e "\$t" ] || { echo "cannot resume: '\$ds' does not have any resumable receive state to abort" >&2; exit 1; }
		rm -f "\$t"; exit 0
	fi
	if [ -e "\$FZ/break" ]; then
		rm -f "\$FZ/break"
		n=\$(( \$(cat "\$FZ/n" 2>/dev/null || echo 0) + 1 )); echo \$n >"\$FZ/n"
		tok=\$(printf '1-%x-e0-%04x' \$n \$n)
		cp "\$FZ/sent" "\$FZ/toname.\$tok" && cp "\$FZ/sent-args" "\$FZ/args.\$tok" &&
			echo "\$tok" >"\$t"
		head -c 65536 >/dev/null
		echo "cannot receive incremental stream: checksum mismatch or incomplete stream" >&2
		exit 1
	fi
	rm -f "\$t"
	shift
	args=""
	for a; do [ "\$a" = -s ] || args="\$args \$a"; done
	exec "\$REAL" recv \$args ;;
send)
	if [ "\$2" = -nvP ] && [ "\$3" = -t ]; then
		[ ! -e "\$FZ/stale" ] && [ -e "\$FZ/toname.\$4" ] || { echo "cannot resume send: 'x' used in the initial send no longer exists" >&2; exit 1; }
		printf 'resume token contents:\nnvlist version: 0\n\ttoname = %s\n' "\$(cat "\$FZ/toname.\$4")"
		exit 0
	fi
	if [ "\$2" = -t ]; then
		# shellcheck disable=SC2046
		exec "\$REAL" send \$(cat "\$FZ/args.\$3")
	fi
	last "\$@" >"\$FZ/sent"
	_all="\$*"
	echo "\${_all#send }" >"\$FZ/sent-args" ;;
esac
exec "\$REAL" "\$@"
EOS
chmod +x "$FZ/bin/zfs"

test_expect_success 'set up: pools, configs, a job, and one plain full sync' '
	zfs_start "$TRASH/zfs" &&
	zfs_pool_create rpool "$TRASH/zfs" /rpool/data &&
	zfs_pool_create tpool "$TRASH/zfs" "$TRASH/tpool-data" &&
	zfs create rpool/data/subvol-100-disk-0 &&
	dd if=/dev/urandom of=$SRC/big bs=64k count=32 status=none &&
	write_cfg "$VOLREP_CONFIG_DIR" rpool/data &&
	write_cfg "$VOLREP_TARGET_CONFIG_DIR" tpool/data &&
	"$VOLREP" create-local-job 100-0 pve2 &&
	cp "$VOLREP_CONFIG_DIR/replication.cfg" "$VOLREP_TARGET_CONFIG_DIR/" &&
	"$VOLREP" run --id 100-0 &&
	tree_sums $SRC >s && tree_sums $TGT >t && test_cmp s t
'

test_expect_success 'plain zfs-fuse: a broken-off receive fails the run; no token, no -s, no resume' '
	echo more >>$SRC/small &&
	rm -f "$FZ/calls" && : >"$FZ/break" && : >"$FZ/plain" &&
	sleep 1 &&
	{ PATH="$FZ/bin:$PATH" "$VOLREP" run --id 100-0 2>err || rc=$?; } && test "$rc" = 1 &&
	rm -f "$FZ/plain" "$FZ"/partial.* &&
	expect_grep "checksum mismatch or incomplete stream" err &&
	"$VOLREP" log 100-0 >jl &&
	! grep -q "resum" jl &&
	! grep -q "receive_resume_token\|recv -A\|recv.* -s \|send -t\|send -nvP" "$FZ/calls" &&
	sleep 1 &&
	"$VOLREP" run --id 100-0 &&
	tree_sums $SRC >s && tree_sums $TGT >t && test_cmp s t
'

test_expect_success 'a broken-off incremental resumes from the target token in the same run' '
	dd if=/dev/urandom of=$SRC/more bs=64k count=16 status=none &&
	tree_sums $SRC >s &&
	rm -f "$FZ/calls" && : >"$FZ/break" &&
	sleep 1 &&
	PATH="$FZ/bin:$PATH" "$VOLREP" run --id 100-0 &&
	"$VOLREP" log 100-0 >jl &&
	cat jl &&
	expect_grep "partial receive kept for resuming" jl &&
	expect_grep "transfer of .local-zfs:subvol-100-disk-0. broke off (.*); resuming from the target.s receive token (1 of 3)" jl &&
	expect_grep "^zfs recv -F -u -s -- tpool/data/subvol-100-disk-0$" "$FZ/calls" &&
	tok=$(cat "$FZ/n") && tok=$(printf "1-%x-e0-%04x" $tok $tok) &&
	expect_grep "^zfs send -nvP -t $tok$" "$FZ/calls" &&
	expect_grep "^zfs send -t $tok$" "$FZ/calls" &&
	! grep -q "recv -A" "$FZ/calls" &&
	tree_sums $TGT >t && test_cmp s t &&
	test "$(snaps tpool subvol-100-disk-0)" = "$(snaps rpool subvol-100-disk-0)" &&
	! ls "$FZ"/partial.* 2>/dev/null
'

test_expect_success 'a token the source refuses (stale) is given up with recv -A, then one fresh stream' '
	dd if=/dev/urandom of=$SRC/again bs=64k count=8 status=none &&
	tree_sums $SRC >s &&
	rm -f "$FZ/calls" && : >"$FZ/break" && : >"$FZ/stale" &&
	sleep 1 &&
	PATH="$FZ/bin:$PATH" "$VOLREP" run --id 100-0 &&
	rm -f "$FZ/stale" &&
	"$VOLREP" log 100-0 >jl &&
	cat jl &&
	expect_grep "resume of .local-zfs:subvol-100-disk-0. refused (resume token refused: cannot resume send: .* no longer exists): discarding the partial receive, sending again" jl &&
	expect_grep "^zfs recv -A -- tpool/data/subvol-100-disk-0$" "$FZ/calls" &&
	! grep -q "^zfs send -t " "$FZ/calls" &&
	tree_sums $TGT >t && test_cmp s t
'

test_expect_success 'a hostile token never reaches an argv: the failure stands' '
	echo "1-1-e0-00;touch $TRASH/pwned" >"$FZ/partial.tpool_data_subvol-100-disk-0" &&
	rm -f "$FZ/calls" &&
	sleep 1 &&
	{ PATH="$FZ/bin:$PATH" "$VOLREP" run --id 100-0 2>err || rc=$?; } && test "$rc" = 1 &&
	cat err &&
	expect_grep "cannot parse the resume token" err &&
	! grep -q "send -nvP -t\|send -t" "$FZ/calls" &&
	test ! -e "$TRASH/pwned" &&
	rm -f "$FZ/partial.tpool_data_subvol-100-disk-0" &&
	sleep 1 &&
	PATH="$FZ/bin:$PATH" "$VOLREP" run --id 100-0
'

test_done
