#!/bin/sh
# bash completion (completion/volrep.bash): commands, options, job ids,
# node names; and `make install` puts it where bash-completion looks.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/integration/lib-config.sh"

command -v bash >/dev/null || test_skip_all "needs bash"

# complete WORDS...: the last word is the one being completed; prints
# COMPREPLY sorted, one per line
complete_words() {
	bash -c '
		. "$1/completion/volrep.bash" || exit 1
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		_volrep
		[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort
	' complete-test "$TOP" "$VOLREP" "$@"
}

test_expect_success 'setup' '
	make_cluster &&
	run_check "$VOLREP" create-local-job 100-0 pve2 &&
	run_check "$VOLREP" create-local-job 100-1 pve3 &&
	run_check "$VOLREP" create-local-job 200-0 pve2
'

test_expect_success 'commands' '
	complete_words cr >out &&
	printf "create-local-job\n" >expect && test_cmp expect out &&
	complete_words d >out &&
	printf "daemon\ndelete\ndisable\n" >expect && test_cmp expect out &&
	complete_words pre >out &&
	printf "prepare-local-job\n" >expect && test_cmp expect out
'

test_expect_success 'options of a command, from its usage line' '
	complete_words update 100-0 --s >out &&
	printf -- "--schedule\n--source\n" >expect && test_cmp expect out &&
	complete_words --st >out &&
	printf -- "--state-dir\n" >expect && test_cmp expect out &&
	complete_words run --i >out &&
	printf -- "--id\n" >expect && test_cmp expect out
'

test_expect_success 'job ids' '
	complete_words disable 1 >out &&
	printf "100-0\n100-1\n" >expect && test_cmp expect out &&
	complete_words run --id 2 >out &&
	printf "200-0\n" >expect && test_cmp expect out &&
	complete_words update 100-0 "" >out &&
	! test -s out
'

test_expect_success 'node names from nodes.cfg, also of --config-dir' '
	complete_words create-local-job 100-5 pve >out &&
	printf "pve1\npve2\npve3\n" >expect && test_cmp expect out &&
	complete_words migrate 100 --online 0 pve3 >out &&
	printf "pve3\n" >expect && test_cmp expect out &&
	mkdir other && printf "node: alpha\n\nnode: beta\n" >other/nodes.cfg &&
	complete_words check --remote pve2 p >out &&
	printf "pve1\npve2\npve3\n" >expect && test_cmp expect out &&
	complete_words ssh-setup pve >out &&
	printf "pve1\npve2\npve3\n" >expect && test_cmp expect out &&
	complete_words ssh-setup pve2 --f >out &&
	printf -- "--fingerprint\n" >expect && test_cmp expect out &&
	complete_words ssh-setup pve2 --fingerprint SHA256:x "" >out &&
	! test -s out &&
	complete_words --config-dir other --node "" >out &&
	printf "alpha\nbeta\n" >expect && test_cmp expect out
'

test_expect_success 'values of enumerated options' '
	complete_words list --output-format j >out &&
	printf "json\njson-pretty\n" >expect && test_cmp expect out &&
	complete_words update 100-0 --disable "" >out &&
	printf "0\n1\n" >expect && test_cmp expect out
'

test_expect_success 'make install puts the completion where bash-completion looks' '
	make -s -C "$TOP" install DESTDIR="$TRASH/root" PREFIX=/usr SYSTEMD_UNIT_DIR=/lib/systemd/system >out 2>&1 &&
	test_cmp "$TOP/completion/volrep.bash" "$TRASH/root/usr/share/bash-completion/completions/volrep" &&
	test -x "$TRASH/root/usr/sbin/volrep" &&
	make -s -C "$TOP" uninstall DESTDIR="$TRASH/root" PREFIX=/usr SYSTEMD_UNIT_DIR=/lib/systemd/system &&
	! test -e "$TRASH/root/usr/share/bash-completion/completions/volrep"
'

test_done
