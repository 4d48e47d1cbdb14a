/* Parsers of zfs command output, kept apart from zfs.c so that unit tests
 * and fuzzers can feed them captured or hostile text. The input is treated
 * like untrusted data: lines are capped, fields are split one at a time and
 * each has its own error, and a column count is never assumed. All return
 * 0 or -EINVAL / -E2BIG, and append to their output only on success. */
#ifndef VOLREP_BACKEND_ZFS_PARSE_H
#define VOLREP_BACKEND_ZFS_PARSE_H

#include <stdint.h>

#include "backend/backend.h"
#include "base/strvec.h"

/* Longest line accepted from a zfs listing (dataset names are at most 256
 * bytes; anything far longer is not zfs talking). */
#define ZFS_LINE_MAX 4096

/* `zfs list -Hp -t snapshot -o name,guid,creation -r <dataset>`: lines
 * "<dataset>@<snap>\t<guid>\t<creation>". Snapshots of other datasets
 * (children, from -r) are skipped; the result is sorted by creation (ties
 * keep the listing order). */
int zfs_parse_snapshot_list(const char *text, const char *dataset, struct backend_snapshot_list *out);

/* `zfs get -Hp -r -o name,property,value guid,creation <dataset>` (the
 * form that works where `zfs list -p` does not, e.g. zfs-fuse): lines
 * "<name>\t<property>\t<value>". Entries that are not snapshots of dataset
 * are skipped; each snapshot must have both properties. */
int zfs_parse_snapshot_get(const char *text, const char *dataset, struct backend_snapshot_list *out);

/* `zfs list -H -o name,type -t filesystem,volume -r -d 1 <pool>`: the
 * volumes of guest vmid directly below pool, sorted. vm-* must be
 * volumes, subvol-* filesystems; base-* may be either. Other datasets are
 * skipped. */
int zfs_parse_volume_list(const char *text, const char *pool, const char *vmid, struct strvec *out);

/* The option letters that the usage text of `zfs <subcmd>` (printed by
 * the subcommand without arguments) lists for it, as a bitmask:
 * bit (c - 'a') for a..z, bit (26 + c - 'A') for A..Z. Every usage line
 * of the subcommand counts. Returns 0 when the subcommand is not found. */
uint64_t zfs_usage_flags(const char *usage, const char *subcmd);
#define ZFS_FLAG(c) ((c) >= 'a' && (c) <= 'z' ? (UINT64_C(1) << ((c) - 'a')) : \
		     (UINT64_C(1) << (26 + (c) - 'A')))

/* 1 when the usage text of `zfs snapshot` accepts several snapshots
 * ("... <filesystem|volume>@<snap> ..."), 0 otherwise (zfs-fuse:
 * "<filesystem@snapname|volume@snapname>"). */
int zfs_usage_multi_snapshot(const char *usage);

#endif
