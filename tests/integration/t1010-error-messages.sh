#!/bin/sh
# Every mistake caught early and explained: the table in
# tests/data/error-messages.tsv (exit code, exact message, arguments),
# each row leaving the config, state and log dirs untouched; then the
# warnings of files volrep reads (nodes.cfg, storage.cfg, guest
# configs) and --help on every command.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/integration/lib-config.sh"

EMPTY="$TRASH/empty"
NOSTORAGE="$TRASH/nostorage"

dir_sums() {
	for d in "$CFG" "$VOLREP_STATE_DIR" "$VOLREP_LOG_DIR" "$EMPTY" "$NOSTORAGE"; do
		test -d "$d" || { echo "absent $d"; continue; }
		(cd "$d" && find . ! -name '.volrep-config.lck' | sort && find . -type f ! -name '.volrep-config.lck' | sort | xargs -r sha1sum)
	done
}

test_expect_success 'setup' '
	make_cluster &&
	printf "rootfs: local-btrfs:subvol-208-disk-0,size=8G\n" >"$CFG/nodes/pve1/lxc/208.conf" &&
	printf "scsi0: local-btrfs:vm-204-disk-2.raw,size=8G\n" >"$CFG/nodes/pve1/qemu-server/204.conf" &&
	run_check "$VOLREP" create-local-job 100-0 pve2 &&
	mkdir -p "$EMPTY/nodes/pve1/qemu-server" &&
	cp "$CFG/nodes/pve1/qemu-server/100.conf" "$EMPTY/nodes/pve1/qemu-server/" &&
	cp -r "$EMPTY" "$NOSTORAGE" && cp "$CFG/nodes.cfg" "$NOSTORAGE/" &&
	mkdir -p "$VOLREP_STATE_DIR" "$VOLREP_LOG_DIR"
'

test_expect_success 'the error table: exit code, exact message, nothing changed' '
	n=0 &&
	while IFS="	" read -r code msg args; do
		case "$code" in "#"*|"") continue ;; esac
		n=$((n + 1)) &&
		msg=$(printf "%s" "$msg" | sed -e "s|@CFG@|$CFG|g" -e "s|@EMPTY@|$EMPTY|g" -e "s|@NOSTORAGE@|$NOSTORAGE|g") &&
		args=$(printf "%s" "$args" | sed -e "s|@CFG@|$CFG|g" -e "s|@EMPTY@|$EMPTY|g" -e "s|@NOSTORAGE@|$NOSTORAGE|g") &&
		dir_sums >sums.before &&
		rc=0 &&
		eval "set -- $args" &&
		{ "$VOLREP" "$@" >out 2>err </dev/null || rc=$?; } &&
		dir_sums >sums.after || return 1
		if [ "$rc" != "$code" ]; then
			echo "row $n: volrep $args: exit $rc, expected $code"; cat err; return 1
		fi
		printf "%s\n" "$msg" >expect.msg || return 1
		if ! cmp -s expect.msg err; then
			echo "row $n: volrep $args:"; diff expect.msg err; return 1
		fi
		if ! cmp -s sums.before sums.after; then
			echo "row $n: volrep $args changed files:"; diff sums.before sums.after; return 1
		fi
	done <"$TOP/tests/data/error-messages.tsv" &&
	test "$n" -ge 25
'

test_expect_success 'nodes.cfg: host:port address, bad port, unknown key warn with file:line' '
	cp "$CFG/nodes.cfg" nodes.orig &&
	printf "node: pve4\n\taddress 127.0.1.111:22\n\nnode: pve5\n\taddress 127.0.1.5\n\tport 0\n\nnode: pve6\n\tadress 127.0.1.6\n\tport 2222\n\n" >>"$CFG/nodes.cfg" &&
	"$VOLREP" status >out 2>err &&
	cp nodes.orig "$CFG/nodes.cfg" &&
	expect_grep "^volrep: warning: file nodes.cfg line 10 (skip section .pve4.): invalid address .127.0.1.111:22. - expected a host name or an IP address; give the port on its own line: .port 22.$" err &&
	expect_grep "file nodes.cfg line 13 (skip section .pve5.): invalid port .0. - expected a number from 1 to 65535" err &&
	expect_grep "file nodes.cfg line 18 (section .pve6.) - unknown key .adress. (ignored; known keys: address, port, comment)" err
'

test_expect_success 'storage.cfg: a section without a blank line before it, one warning' '
	cp "$CFG/storage.cfg" storage.orig &&
	printf "zfspool: z1\n\tpool tank/a\nbtrfs: b1\n\tpath /srv/b\n\tpoool x\n" >"$CFG/storage.cfg" &&
	"$VOLREP" status >out 2>err &&
	cp storage.orig "$CFG/storage.cfg" &&
	expect_grep "file storage.cfg line 3 - no blank line between section .z1. and .btrfs: b1. (read as a new section; add a blank line)" err &&
	expect_grep "file storage.cfg line 5 (section .b1.) - unknown key .poool." err &&
	test "$(grep -v "no volrep daemon" err | grep -c warning)" = 2
'

test_expect_success 'a guest config line without its colon, a disk key out of range: warned' '
	printf "name x\nscsi0: local-zfs:vm-250-disk-0\n" >"$CFG/nodes/pve1/qemu-server/250.conf" &&
	"$VOLREP" create-local-job 250-0 pve2 >out 2>err &&
	expect_grep "warning: VM 250: file $CFG/nodes/pve1/qemu-server/250.conf line 1 (ignored; expected .key: value.) - unable to parse config: name x" err &&
	printf "scsi0: local-zfs:vm-251-disk-0\nscsi31: local-zfs:vm-251-disk-1\n" >"$CFG/nodes/pve1/qemu-server/251.conf" &&
	"$VOLREP" create-local-job 251-0 pve2 >out 2>err &&
	expect_grep "warning: VM 251: file $CFG/nodes/pve1/qemu-server/251.conf - .scsi31. is not a disk key of a VM (scsi0-scsi30, " err
'

test_expect_success 'create/update show the normalized schedule and the next run' '
	VOLREP_NOW=1700000000 "$VOLREP" update 100-0 --schedule 25:00 2>err &&
	expect_grep "schedule .25:00. means .\*-\*-\* \*:25:00.; next run 2023-11-14 22:25:00" err
'

test_expect_success 'status and run name this node when it is not in nodes.cfg' '
	"$VOLREP" --node pve9 status >out 2>err &&
	expect_grep "warning: this node .pve9. (from --node) is not in .$CFG/nodes.cfg." err &&
	VOLREP_NODE=pve8 "$VOLREP" run >out 2>err &&
	expect_grep "warning: this node .pve8. (from VOLREP_NODE) is not in" err
'

test_expect_success 'check: every problem on one line, exit 1, JSON for scripts' '
	mkdir -p chk/nodes/pve1/lxc chk/btrfs &&
	printf "node: pve1\n\nnode: pve2\n\tadress x\n" >chk/nodes.cfg &&
	printf "zfspool: local-zfs\n\tpool nosuchpool/data\n\nbtrfs: local-btrfs\n\tpath $TRASH/chk/btrfs\n" >chk/storage.cfg &&
	printf "rootfs: local-btrfs:subvol-300-disk-0\n" >chk/nodes/pve1/lxc/300.conf &&
	printf "local: 300-0\n\ttarget pve2\n\nlocal: 301-0\n\ttarget pve9\n" >chk/replication.cfg &&
	dir_sums >sums.before &&
	expect_exit 1 --config-dir "$TRASH/chk" check --output-format json &&
	dir_sums >sums.after && test_cmp sums.before sums.after &&
	jq -e ".node == \"pve1\" and .errors == 2 and .warnings == 2" out &&
	jq -e ".checks[] | select(.check == \"storage '"'"'local-zfs'"'"'\" and .level == \"error\")" out &&
	jq -e ".checks[] | select(.check == \"storage '"'"'local-btrfs'"'"'\" and .level == \"ok\")" out &&
	jq -r ".checks[] | select(.check == \"job '"'"'300-0'"'"'\") | .message" out >msg &&
	expect_grep "^invalid volume name .subvol-300-disk-0. of volume" msg &&
	jq -r ".checks[] | select(.level == \"warn\") | .message" out >warn &&
	expect_grep "unknown key .adress." warn &&
	expect_grep "guest 301 has no config" warn &&
	expect_exit 1 --config-dir "$TRASH/chk" --node pve2 check &&
	expect_grep "^ok    job .300-0.: this node holds the replica of guest 300 from .pve1.$" out &&
	expect_exit 1 --config-dir "$TRASH/chk" --node pve7 check &&
	expect_grep "^error identity: this node .pve7. (from --node) is not in" out &&
	expect_grep "^2 error(s), 2 warning(s)$" out
'

test_expect_success '--help on every command prints its help, exit 0' '
	for c in $("$VOLREP" help | sed -n "s/^  \([a-z][a-z-]*\)  .*/\1/p"); do
		"$VOLREP" "$c" --help >out 2>err || { echo "$c --help failed"; cat err; return 1; }
		grep -q "^usage: volrep $c" out || { echo "$c --help:"; cat out; return 1; }
		"$VOLREP" help "$c" >out2 || return 1
		test_cmp out out2 || return 1
	done &&
	"$VOLREP" run -h >out && expect_grep "^exit status: 0 all runs succeeded, 1 a job failed" out
'

test_expect_success 'help lists user commands and target-side verbs apart' '
	"$VOLREP" help >out &&
	sed -n "/^commands:/,/^$/p" out >user &&
	sed -n "/^target-side/,/^$/p" out >internal &&
	expect_grep "^  create-local-job " user && expect_grep "^  check " user &&
	! grep -q "prepare-local-job" user &&
	expect_grep "^  prepare-local-job " internal && expect_grep "^  serve " internal &&
	! grep -q "create-local-job" internal
'

test_done
