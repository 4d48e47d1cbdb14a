#!/bin/sh
# volrep ssh-setup on two namespace nodes, from scratch: node a has no
# ~/.ssh at all, b's sshd reads root's own ~/.ssh/authorized_keys and
# listens only on port 2222 (nodes.cfg says so). The admin's own access is
# a plain root key of a (~/.ssh/id_ed25519) authorized on b. volrep runs
# here without VOLREP_SSH, as on a real node: the key ssh-setup creates
# must be the one the runs use. Covered: each step's one-line error, the
# host key under the node name (copied from the admin's entry for the
# address, or confirmed by fingerprint), the install through the admin's
# login or by the printed instructions, a wrong forced command replaced,
# a changed host key refused, and a replication run afterwards.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/lib/e2e.sh"
e2e_require
export TZ=UTC

e2e_start a b >"$TRASH/start.log" 2>&1
echo $? >"$TRASH/start.rc"

HA="$TB/nodes/a/home"
HB="$TB/nodes/b/home"

# va ARGS: volrep on a as on a real node (no VOLREP_SSH, no shared sockets)
va() {
	node_exec a env -u VOLREP_SSH VOLREP_SSH_CONTROL_DIR= volrep "$@"
}

test_expect_success 'two nodes; b listens on port 2222 and reads root'\''s authorized_keys' '
	cat "$TRASH/start.log" &&
	test "$(cat "$TRASH/start.rc")" = 0 &&
	node_sshd_stop b &&
	sed -i -e "s|^AuthorizedKeysFile .*|AuthorizedKeysFile .ssh/authorized_keys|" \
		-e "s|^ListenAddress .*|ListenAddress $(node_addr b):2222|" "$TB/nodes/b/sshd_config" &&
	node_sshd_start b &&
	printf "node: a\n\taddress %s\n\nnode: b\n\taddress %s\n\tport 2222\n" \
		"$(node_addr a)" "$(node_addr b)" >"$TB/config/nodes.cfg" &&
	# the admin: a root key of a with a plain shell on b
	mkdir -m 700 "$HA/.ssh" "$HB/.ssh" &&
	ssh-keygen -q -t ed25519 -N "" -C admin -f "$HA/.ssh/id_ed25519" &&
	cp "$HA/.ssh/id_ed25519.pub" "$HB/.ssh/authorized_keys" &&
	ssh-keygen -lf "$TB/nodes/b/ssh_host_ed25519_key.pub" | cut -d" " -f2 >fp_b &&
	test -s fp_b &&
	! test -e "$HA/.ssh/known_hosts"
'
[ "$(cat "$TRASH/start.rc")" = 0 ] || { test_done; exit 1; }

test_expect_success 'bad arguments: one line, exit 2, nothing created' '
	run_mustfail 2 va ssh-setup 2>err &&
	expect_grep "^volrep: missing the target node (usage: volrep ssh-setup <node> " err &&
	run_mustfail 2 va ssh-setup zz 2>err &&
	expect_grep "^volrep: .zz. is not a node of nodes.cfg" err &&
	run_mustfail 2 va ssh-setup a 2>err &&
	expect_grep "^volrep: .a. is this node: run .volrep ssh-setup <target>. here" err &&
	run_mustfail 2 va ssh-setup b --fingerprint abc 2>err &&
	expect_grep "^volrep: invalid fingerprint .abc. (the form ssh-keygen -l prints: SHA256:<base64>)" err &&
	run_mustfail 2 va ssh-setup b c 2>err &&
	expect_grep "^volrep: unexpected argument .c." err &&
	! test -e "$HA/.ssh/id_volrep"
'

test_expect_success 'from scratch: the key is made, an unknown host key stops with its fingerprint' '
	run_mustfail 1 va ssh-setup b >out &&
	cat out &&
	expect_grep "^ok    key: created ./root/.ssh/id_volrep. (ed25519) for volrep$" out &&
	expect_grep "^error host key: .b. ($(node_addr b) port 2222) is not known yet: compare $(cat fp_b) with .ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub. on .b., then run .volrep ssh-setup b --fingerprint $(cat fp_b).$" out &&
	test -f "$HA/.ssh/id_volrep" &&
	expect_grep " volrep@a$" "$HA/.ssh/id_volrep.pub" &&
	! test -e "$HA/.ssh/known_hosts" &&
	run_mustfail 1 va ssh-setup b --fingerprint SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA >out &&
	expect_grep "^error host key: $(node_addr b) port 2222 offers no key with the fingerprint .SHA256:AAAA" out &&
	! test -e "$HA/.ssh/known_hosts"
'

test_expect_success 'after the admin'\''s first login the key is copied under the node name and installed' '
	node_exec a ssh -p 2222 -o StrictHostKeyChecking=accept-new -o BatchMode=yes \
		"root@$(node_addr b)" true &&
	node_exec a ssh-keygen -F "[$(node_addr b)]:2222" -f /root/.ssh/known_hosts >out &&
	expect_grep " ssh-ed25519 " out &&
	va ssh-setup b >out &&
	cat out &&
	expect_grep "^ok    key: ./root/.ssh/id_volrep. (ssh-ed25519 volrep@a)$" out &&
	expect_grep "^ok    host key: recorded under .b. in ./root/.ssh/known_hosts., from its entry for .\[$(node_addr b)\]:2222.$" out &&
	expect_grep "^info  login: $(node_addr b) port 2222 does not run volrep.s forced command for this node.s key yet$" out &&
	expect_grep "^ok    install: key of .a. added in ./root/.ssh/authorized_keys. (command=\"volrep serve --peer a\",restrict)$" out &&
	expect_grep "^ok    login: .b. answers at $(node_addr b) port 2222 with this node.s key (volrep " out &&
	expect_grep "^b ssh-ed25519 " "$HA/.ssh/known_hosts" &&
	test "$(grep -c "^command=\"volrep serve --peer a\",restrict ssh-ed25519 .* volrep@a$" "$HB/.ssh/authorized_keys")" = 1 &&
	expect_grep " admin$" "$HB/.ssh/authorized_keys" &&
	# a second time: nothing to do
	va ssh-setup b >out &&
	! grep -q "install\|created\|recorded" out &&
	expect_grep "^ok    host key: .b. is known under its name in ./root/.ssh/known_hosts.$" out &&
	expect_grep "^ok    login: " out &&
	va check --remote b >out &&
	expect_grep "^ok    ssh to .b.: " out
'

test_expect_success 'a replication run works with what ssh-setup set up' '
	guest_create a 200 lxc &&
	guest_add_disk a 200 rootfs local-btrfs:200/subvol-200-disk-0 32 &&
	vol_write a local-btrfs:200/subvol-200-disk-0 2 &&
	va create-local-job 200-0 b &&
	va run --id 200-0 &&
	test "$(vol_sum a local-btrfs:200/subvol-200-disk-0)" = "$(vol_sum b local-btrfs:200/subvol-200-disk-0)" &&
	va status --output-format json >st &&
	expect_grep "\"fail_count\": *0" st
'

test_expect_success 'a wrong forced command is replaced, other lines kept' '
	sed -i "s|^command=\"volrep serve --peer a\"|command=\"echo hello\"|" "$HB/.ssh/authorized_keys" &&
	run_mustfail 1 va check --remote b >out &&
	va ssh-setup b >out &&
	cat out &&
	expect_grep "^ok    install: key of .a. replaced in " out &&
	expect_grep "^ok    login: " out &&
	test "$(grep -c "volrep@a$" "$HB/.ssh/authorized_keys")" = 1 &&
	! grep -q "echo hello" "$HB/.ssh/authorized_keys" &&
	expect_grep " admin$" "$HB/.ssh/authorized_keys"
'

test_expect_success 'without the admin'\''s access: the exact instructions, which work' '
	: >"$HB/.ssh/authorized_keys" &&
	run_mustfail 1 va ssh-setup b >out &&
	cat out &&
	expect_grep "^error install: cannot log in to root@$(node_addr b) port 2222 as yourself to install the key (" out &&
	expect_grep "^To authorize this node.s key, run as root on .b.:$" out &&
	expect_grep "^  command=\"volrep serve --peer a\",restrict ssh-ed25519 [A-Za-z0-9+/=]* volrep@a$" out &&
	expect_grep "^then run .volrep ssh-setup b. here again.$" out &&
	sed -n "/^To authorize/{n;s/^  //;p;}" out >cmd &&
	expect_grep "^.volrep. .ssh-authorize. .--peer. .a. .ssh-ed25519 " cmd &&
	node_exec b sh -c "$(cat cmd)" >out &&
	expect_grep "^key of .a. added in ./root/.ssh/authorized_keys.$" out &&
	va ssh-setup b --no-install >out &&
	expect_grep "^ok    login: " out
'

test_expect_success 'an sshd that reads another file: installed, still refused, told why' '
	node_sshd_stop b &&
	sed -i "s|^AuthorizedKeysFile .*|AuthorizedKeysFile .ssh/authorized_keys2|" "$TB/nodes/b/sshd_config" &&
	cp "$HA/.ssh/id_ed25519.pub" "$HB/.ssh/authorized_keys2" &&
	: >"$HB/.ssh/authorized_keys" &&
	node_sshd_start b &&
	run_mustfail 1 va ssh-setup b >out &&
	cat out &&
	expect_grep "^ok    install: key of .a. added in " out &&
	expect_grep "^error login: $(node_addr b) port 2222 still refuses this node.s key ./root/.ssh/id_volrep. for root after it was added to root.s ~/.ssh/authorized_keys there: does sshd on .b. read another AuthorizedKeysFile" out &&
	node_sshd_stop b &&
	sed -i "s|^AuthorizedKeysFile .*|AuthorizedKeysFile .ssh/authorized_keys|" "$TB/nodes/b/sshd_config" &&
	node_sshd_start b &&
	va ssh-setup b >out &&
	expect_grep "^ok    login: " out
'

test_expect_success 'host key: confirmed by fingerprint; a changed one is refused' '
	node_exec a ssh-keygen -R b -f /root/.ssh/known_hosts >/dev/null 2>&1 &&
	node_exec a ssh-keygen -R "[$(node_addr b)]:2222" -f /root/.ssh/known_hosts >/dev/null 2>&1 &&
	! grep -q "ssh-ed25519" "$HA/.ssh/known_hosts" &&
	va ssh-setup b --fingerprint "$(cat fp_b)" >out &&
	expect_grep "^ok    host key: recorded under .b. in ./root/.ssh/known_hosts. (fingerprint $(cat fp_b))$" out &&
	expect_grep "^ok    login: " out &&
	# b "reinstalled": a recorded key that is not its own
	sed -i "s|^b .*|b $(cut -d" " -f1,2 "$TB/nodes/a/ssh_host_ed25519_key.pub")|" "$HA/.ssh/known_hosts" &&
	run_mustfail 1 va ssh-setup b >out &&
	cat out &&
	expect_grep "^error host key: the key of $(node_addr b) port 2222 does not match the one recorded for .b. in ./root/.ssh/known_hosts.: if .b. was reinstalled, remove the old one with .ssh-keygen -R b -f /root/.ssh/known_hosts. and run again$" out &&
	# removed as told; --accept-new takes the key unchecked
	node_exec a ssh-keygen -R b -f /root/.ssh/known_hosts >/dev/null 2>&1 &&
	va ssh-setup b --accept-new >out &&
	expect_grep "^ok    host key: recorded under .b. in ./root/.ssh/known_hosts. (accepted unchecked: SHA256:" out &&
	expect_grep "^ok    login: " out
'

test_expect_success 'ssh-authorize takes one valid key line and nothing else' '
	cp "$HB/.ssh/authorized_keys" ak.before &&
	run_mustfail 2 node_exec b volrep ssh-authorize --peer a "ssh-ed25519 AAAA;rm" 2>err &&
	expect_grep "^volrep: invalid public key: the key is not base64 data after its type$" err &&
	run_mustfail 2 node_exec b volrep ssh-authorize --peer a "$(printf "ssh-ed25519 %s x\nssh-rsa %s" \
		AAAAC3NzaC1lZDI1NTE5AAAAIB AAAAC3NzaC1lZDI1NTE5AAAAIB)" 2>err &&
	expect_grep "^volrep: invalid public key: a public key is one line$" err &&
	run_mustfail 2 node_exec b volrep ssh-authorize --peer "a b" "$(cat "$HA/.ssh/id_volrep.pub")" 2>err &&
	expect_grep "^volrep: invalid node name .a b." err &&
	run_mustfail 2 node_exec b volrep ssh-authorize --peer a "ssh-dss AAAAB3NzaC1kc3MAAACB" 2>err &&
	expect_grep "^volrep: invalid public key: unknown key type .ssh-dss." err &&
	run_mustfail 2 node_exec b volrep ssh-authorize --peer a --cluster "etcd://x\" y" "$(cat "$HA/.ssh/id_volrep.pub")" 2>err &&
	expect_grep "^volrep: invalid cluster URL .etcd://x\" y. for a forced command" err &&
	test_cmp ak.before "$HB/.ssh/authorized_keys" &&
	# a cluster store: the forced command names it (the key'\''s line is replaced)
	node_exec b volrep ssh-authorize --peer a --cluster pmxcfs:///etc/pve "$(cat "$HA/.ssh/id_volrep.pub")" >out &&
	expect_grep "^key of .a. replaced in " out &&
	expect_grep "^command=\"volrep --cluster pmxcfs:///etc/pve serve --peer a\",restrict ssh-ed25519 .* volrep@a$" "$HB/.ssh/authorized_keys" &&
	cp ak.before "$HB/.ssh/authorized_keys" &&
	# never through a peer key: serve does not know the verb
	! va remote-exec b volrep ssh-authorize --peer a "$(cat "$HA/.ssh/id_volrep.pub")" 2>err &&
	test_cmp ak.before "$HB/.ssh/authorized_keys"
'

test_done
