#!/bin/sh
# volrep import (run over ssh by a replication source) never receives into
# a volume of a guest that lives on this node: zfs recv -F would roll back
# and overwrite the running guest's disk.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$(dirname "$0")/lib-config.sh"

make_cluster

test_expect_success 'import into a volume of a local guest is refused, exit 2' '
	run_mustfail 2 "$VOLREP" import local-btrfs:100/vm-100-disk-1.raw \
		--snapshot __replicate_100-0_5__ --base __replicate_100-0_4__ </dev/null 2>err &&
	cat err &&
	expect_grep "guest .100. is on local node" err &&
	run_mustfail 2 "$VOLREP" import local-zfs:vm-100-disk-0 --snapshot __replicate_100-0_5__ </dev/null 2>err &&
	expect_grep "guest .100. is on local node" err &&
	run_mustfail 2 "$VOLREP" import vm-100-disk-0 --zfs-pool rpool/data --snapshot s </dev/null 2>err &&
	expect_grep "guest .100. is on local node" err
'

# Past the guard the import goes on to the storage, which does not exist
# here: it fails there (exit 1, operation failed), not at the guard (2).
test_expect_success 'a guest of another node passes the guard' '
	run_mustfail 1 env VOLREP_NODE=pve2 "$VOLREP" import local-btrfs:100/vm-100-disk-1.raw \
		--snapshot __replicate_100-0_5__ </dev/null 2>err &&
	cat err &&
	! grep "on local node" err &&
	expect_grep "cannot import .*/mnt/btrfs/images/100/vm-100-disk-1" err
'

test_done
