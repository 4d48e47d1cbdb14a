#!/bin/sh
# docs/quickstart.md, followed as written on three namespace nodes of the
# test bed: every `sh` block marked "<!-- run: NODE... -->" runs verbatim
# on those nodes, with only these replacements: the example addresses
# 192.0.2.1{1,2,3} become the nodes' test bed addresses and /etc/volrep the
# test bed's shared config dir. Each node has its own /root (e2e.sh), and
# its sshd is switched to root's own ~/.ssh/authorized_keys, so the keys,
# known_hosts and forced commands are the ones the guide sets up. volrep
# runs without VOLREP_SSH, as the guide has it. Between the blocks, the
# steps the guide leaves to the admin (their own first root login to each
# target) are done here, and volrep check is asked what is still missing.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/e2e.sh"
e2e_require
export TZ=UTC

DOC="$TOP/docs/quickstart.md"

e2e_start pve1 pve2 pve3 >"$TRASH/start.log" 2>&1
echo $? >"$TRASH/start.rc"
test_expect_success 'three nodes come up; their sshd reads root'\''s authorized_keys' '
	cat "$TRASH/start.log" &&
	test "$(cat "$TRASH/start.rc")" = 0 &&
	for n in pve1 pve2 pve3; do
		node_sshd_stop $n &&
		sed -i "s|^AuthorizedKeysFile .*|AuthorizedKeysFile .ssh/authorized_keys|" "$TB/nodes/$n/sshd_config" &&
		node_sshd_start $n || return 1
	done
'
[ "$(cat "$TRASH/start.rc")" = 0 ] || { test_done; exit 1; }

# the marked blocks, one file per block ($TRASH/blocks/N.sh) with its nodes
# in N.nodes
test_expect_success 'extract the runnable blocks of the guide' '
	mkdir -p blocks &&
	awk -v dir=blocks "
		/^<!-- run: .* -->\$/ { nodes = \$0; sub(/^<!-- run: /, \"\", nodes); sub(/ -->\$/, \"\", nodes); want = 1; next }
		want && /^\`\`\`sh\$/ { n++; printf \"%s\\n\", nodes >(dir \"/\" n \".nodes\"); inblock = 1; want = 0; next }
		inblock && /^\`\`\`\$/ { inblock = 0; next }
		inblock { print >(dir \"/\" n \".sh\") }
	" "$DOC" &&
	ls blocks/*.sh >list &&
	test "$(wc -l <list)" -ge 5 &&
	# ssh is set up by volrep itself
	expect_grep "^volrep ssh-setup pve2$" "$DOC"
'

# run_block N: block N on each of its nodes, after the replacements
run_block() {
	sed -e "s|192\.0\.2\.11|$(node_addr pve1)|g" -e "s|192\.0\.2\.12|$(node_addr pve2)|g" \
		-e "s|192\.0\.2\.13|$(node_addr pve3)|g" -e "s|/etc/volrep|$TB/config|g" \
		"blocks/$1.sh" >"blocks/$1.run"
	for _bn in $(cat "blocks/$1.nodes"); do
		echo "== block $1 on $_bn"
		node_exec "$_bn" env -u VOLREP_SSH VOLREP_SSH_CONTROL_DIR= \
			sh -e "$TRASH/blocks/$1.run" || { echo "block $1 failed on $_bn:"; cat "blocks/$1.run"; return 1; }
	done
}

block_with() { # TEXT: the number of the block containing TEXT
	grep -l -F -- "$1" blocks/*.sh | head -1 | sed "s|blocks/||; s|\.sh||"
}

vq() { # NODE ARGS: volrep on NODE with the guide's ssh settings
	_vn=$1; shift
	node_exec "$_vn" env -u VOLREP_SSH VOLREP_SSH_CONTROL_DIR= volrep "$@"
}

test_expect_success 'step 3: the configuration directory' '
	run_block "$(block_with "cat >/etc/volrep/nodes.cfg")" &&
	{ vq pve1 check >out || { cat out; return 1; }; } &&
	expect_grep "^ok    identity: this node is .pve1." out
'

test_expect_success 'step 5: a container on btrfs' '
	run_block "$(block_with "subvol-200-disk-0/README")" &&
	test -f "$TB/config/nodes/pve1/lxc/200.conf"
'

test_expect_success 'step 6: ssh-setup; check names what is missing before' '
	# no host key yet under the alias
	! vq pve1 check --remote pve2 >out &&
	expect_grep "host key of .$(node_addr pve2). not known under the alias .pve2." out &&
	# the admin: a root key of their own, one first login to each target
	node_exec pve1 install -d -m 700 /root/.ssh &&
	node_exec pve1 ssh-keygen -q -t ed25519 -N "" -C admin -f /root/.ssh/id_ed25519 &&
	for n in pve2 pve3; do
		node_exec $n install -d -m 700 /root/.ssh &&
		cat "$TB/nodes/pve1/home/.ssh/id_ed25519.pub" >>"$TB/nodes/$n/home/.ssh/authorized_keys" &&
		node_exec pve1 ssh -o StrictHostKeyChecking=accept-new -o BatchMode=yes "root@$(node_addr $n)" true ||
			return 1
	done &&
	{ run_block "$(block_with "volrep ssh-setup pve2")" >out || { cat out; return 1; }; } &&
	expect_grep "^ok    key: created ./root/.ssh/id_volrep. (ed25519) for volrep$" out &&
	test "$(grep -c "^ok    install: key of .pve1. added in ./root/.ssh/authorized_keys. " out)" = 2 &&
	test "$(grep -c "^ok    login: " out)" = 2 &&
	run_block "$(block_with "volrep check --remote")" &&
	vq pve1 check --remote pve2 pve3 >out &&
	expect_grep "^ok    ssh to .pve2.: .pve2. answers at $(node_addr pve2) (volrep " out &&
	expect_grep "^ok    ssh to .pve3.: " out &&
	# remote-exec finds the address in nodes.cfg too
	vq pve1 remote-exec pve2 volrep version >out &&
	expect_grep "^volrep " out
'

test_expect_success 'check --remote: a missing key and a wrong forced command are told apart' '
	cp "$TB/nodes/pve3/home/.ssh/authorized_keys" ak.orig &&
	: >"$TB/nodes/pve3/home/.ssh/authorized_keys" &&
	! vq pve1 check --remote pve3 >out &&
	expect_grep "login refused at $(node_addr pve3): this node.s key is not in root.s authorized_keys there" out &&
	sed "s|^command=\"[^\"]*\"|command=\"echo hello\"|" ak.orig >"$TB/nodes/pve3/home/.ssh/authorized_keys" &&
	! vq pve1 check --remote pve3 >out &&
	expect_grep "the remote command did not answer .volrep <version>. but .hello." out &&
	cp ak.orig "$TB/nodes/pve3/home/.ssh/authorized_keys" &&
	vq pve1 check --remote pve3 >out
'

test_expect_success 'step 7: the job replicates the container to pve2' '
	{ run_block "$(block_with "volrep create-local-job 200-0")" >out 2>&1 || { cat out; return 1; }; } &&
	expect_grep "200-0 " out &&
	test "$(node_exec pve2 cat /mnt/btrfs/images/200/subvol-200-disk-0/README)" = "hello from CT 200" &&
	vq pve1 status --output-format json >st &&
	expect_grep "\"fail_count\": *0" st
'

test_done
