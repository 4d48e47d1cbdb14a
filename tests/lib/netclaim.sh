# claim_loopback_net VAR: set VAR to a loopback /24 (127.0.X, X in
# 20-219) that no other test script running at the same time holds, and
# hold it until this script exits. Test runs going on at the same time
# (two checkouts, a stress run beside a developer's, a bench) must never
# bind the same addresses: the sshds of a test bed (testbed.sh), the
# members of an etcd cluster (etcd.sh).
#
# The claim is a directory /tmp/volrep-tbnet.X, made atomically by mkdir,
# holding the pid of the claiming script ($$: the same in the subshells
# of test bodies); a claim whose script is gone (killed by a time limit,
# say) is taken over, and every claim, when a new one is made, is
# removed if its script is gone. Released at exit through test_atexit, which the
# caller provides (test-lib.sh, or the shim of a bench or of the demo).
# Call it at a script's top level, not in a test body (a subshell).
claim_loopback_net() {
	# first the claims of scripts that are gone (killed with -9: no exit
	# cleanup), so that none stays behind for long; only ones older than
	# a minute, so as not to race with a script taking one over just now
	for _c in $(find /tmp -maxdepth 1 -name 'volrep-tbnet.*' -mmin +1 2>/dev/null); do
		_o=$(cat "$_c/pid" 2>/dev/null) && [ -n "$_o" ] || continue
		kill -0 "$_o" 2>/dev/null || rm -rf "$_c"
	done
	_i=0
	while [ $_i -lt 200 ]; do
		_x=$(( ($$ + _i) % 200 + 20 ))
		_c=/tmp/volrep-tbnet.$_x
		if mkdir "$_c" 2>/dev/null; then
			echo $$ >"$_c/pid"
			test_atexit "rm -rf $_c"
			eval "$1=127.0.$_x"
			return 0
		fi
		_o=$(cat "$_c/pid" 2>/dev/null)
		# a claim being made has no pid yet: leave it to its maker
		if [ -n "$_o" ] && ! kill -0 "$_o" 2>/dev/null; then
			rm -rf "$_c"
			continue
		fi
		_i=$((_i + 1))
	done
	echo "no free loopback /24 for a test bed among 127.0.20-219 (claims: /tmp/volrep-tbnet.*)" >&2
	return 1
}
