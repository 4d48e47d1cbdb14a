#!/bin/sh
# volrep ha in dir mode: ha.cfg written in Proxmox style, list and status
# output, bad input (one line, exit 2, nothing changed), and failover is
# not refused for an HA guest here (HA acts only with the etcd store).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/lib-config.sh"
make_cluster

test_expect_success 'ha group, add, set write ha.cfg' '
	run_check "$VOLREP" ha group prefer-2 --nodes pve2,pve3 &&
	run_check "$VOLREP" ha add 200 --group prefer-2 &&
	run_check "$VOLREP" ha add 100 --state stopped --max-relocate 2 &&
	printf "group: prefer-2\n\tnodes pve2,pve3\n\nvm: 100\n\tmax-relocate 2\n\tstate stopped\n\nct: 200\n\tgroup prefer-2\n\tmax-relocate 1\n\tstate started\n\n" >expect &&
	test_cmp expect "$CFG/ha.cfg" &&
	run_check "$VOLREP" ha set 100 --state ignored &&
	grep -q "state ignored" "$CFG/ha.cfg"
'

test_expect_success 'ha list and status' '
	"$VOLREP" ha list >out &&
	grep -q "^ct:200 state started group prefer-2 max-relocate 1\$" out &&
	"$VOLREP" ha status --output-format json >st.json &&
	jq -e "length == 2 and (.[] | select(.vmid == 200) | .node == \"pve1\" and .state == \"started\" and .type == \"ct\" and .last_recovery == null)" st.json &&
	"$VOLREP" ha status >st.txt &&
	grep -q "^HA inactive" st.txt
'

test_expect_success 'bad input: one line, exit 2, nothing changed' '
	expect_bad_input "invalid guest id '\''99'\''" ha add 99 &&
	expect_bad_input "no such guest '\''999'\''" ha add 999 &&
	expect_bad_input "already managed by HA" ha add 200 &&
	expect_bad_input "invalid state '\''on'\''" ha set 200 --state on &&
	expect_bad_input "invalid max-relocate '\''11'\''" ha set 200 --max-relocate 11 &&
	expect_bad_input "no such HA group '\''nope'\''" ha set 200 --group nope &&
	expect_bad_input "invalid group name '\''1x'\''" ha group 1x --nodes pve2 &&
	expect_bad_input "invalid nodes '\''pve2,pve2'\''" ha group g --nodes pve2,pve2 &&
	expect_bad_input "is used by guest 200" ha group prefer-2 --delete &&
	expect_bad_input "is not managed by HA" ha remove 999 &&
	expect_bad_input "unknown ha subcommand '\''start'\''" ha start &&
	expect_bad_input "needs the etcd cluster store" ha recover pve2
'

test_expect_success 'ha remove, group delete' '
	run_check "$VOLREP" ha remove 200 &&
	run_check "$VOLREP" ha group prefer-2 --delete &&
	printf "vm: 100\n\tmax-relocate 2\n\tstate ignored\n\n" >expect &&
	test_cmp expect "$CFG/ha.cfg"
'

test_done
