#!/bin/sh
# volrep.cfg ssh-persist: how long ssh's control master keeps a
# connection to a target open after its last use. A fake ssh records the
# argv volrep gives it (remote-exec sets the transport up as a run does).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/lib-config.sh"

make_cluster
cat >"$TRASH/fakessh" <<'EOT'
#!/bin/sh
printf '%s\n' "$@" >"$TRASH/argv"
echo "volrep 0.1.0"
EOT
chmod +x "$TRASH/fakessh"
export VOLREP_SSH="$TRASH/fakessh" VOLREP_SSH_CONTROL_DIR="$TRASH/cm"

call() { rm -f "$TRASH/argv" && "$VOLREP" remote-exec pve2 volrep version >out && test -s "$TRASH/argv"; }

test_expect_success 'default: the control master stays 900 s' '
	rm -f "$CFG/volrep.cfg" &&
	call &&
	expect_grep "^ControlMaster=auto$" "$TRASH/argv" &&
	expect_grep "^ControlPersist=900$" "$TRASH/argv" &&
	expect_grep "^ControlPath=$TRASH/cm/%C$" "$TRASH/argv"
'

test_expect_success 'ssh-persist N: ControlPersist=N' '
	echo "ssh-persist 42" >"$CFG/volrep.cfg" &&
	call &&
	expect_grep "^ControlMaster=auto$" "$TRASH/argv" &&
	expect_grep "^ControlPersist=42$" "$TRASH/argv" &&
	test "$(grep -c "^ControlPersist=" "$TRASH/argv")" = 1
'

test_expect_success 'ssh-persist 0: no connection sharing' '
	echo "ssh-persist 0" >"$CFG/volrep.cfg" &&
	call &&
	expect_grep "^ControlMaster=no$" "$TRASH/argv" &&
	expect_grep "^ControlPath=none$" "$TRASH/argv" &&
	! grep "^ControlPersist=" "$TRASH/argv" &&
	! grep "^ControlMaster=auto" "$TRASH/argv"
'

# not only runs: every ssh call to another node reads it (here check's)
test_expect_success 'check --remote follows ssh-persist too' '
	echo "ssh-persist 0" >"$CFG/volrep.cfg" &&
	rm -f "$TRASH/argv" &&
	{ "$VOLREP" check --remote pve2 >out 2>&1 || :; } &&
	test -s "$TRASH/argv" &&
	expect_grep "^ControlMaster=no$" "$TRASH/argv" &&
	echo "ssh-persist 42" >"$CFG/volrep.cfg" &&
	rm -f "$TRASH/argv" &&
	{ "$VOLREP" check --remote pve2 >out 2>&1 || :; } &&
	expect_grep "^ControlPersist=42$" "$TRASH/argv"
'

test_done
