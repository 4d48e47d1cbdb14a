/* Parsers of zfs command output, kept apart from zfs.c so that unit tests
 * and fuzzers can feed them captured or hostile text. The input is treated
 * like untrusted data: lines are capped, fields are split one at a time and
 * each has its own error, and a column count is never assumed. All return
 * 0 or -EINVAL / -E2BIG, and append to their output only on success. */
#ifndef VOLREP_BACKEND_ZFS_PARSE_H
#define VOLREP_BACKEND_ZFS_PARSE_H

#include <stdint.h>

#include "backend/backend.h"
#include "base/strbuf.h"
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

/* `zfs get -Hp -r -o name,property,value,source guid,creation,<more>
 * <dataset>` (prepare's one call per volume): the source column of
 * dataset's own rows of the other properties into sources, one a line,
 * and its snapshots into out as zfs_parse_snapshot_get. 0 or -EINVAL /
 * -E2BIG for a listing that is not one. */
int zfs_parse_volume_state(const char *text, const char *dataset, struct strbuf *sources,
			   struct backend_snapshot_list *out);

/* `zfs get -H -r -o name,property,value,source type,<more> <dataset>`
 * (after a receive): the tree as zfs_argv_list_tree lists it
 * ("<name>\t<type>" lines, from the type rows) into tree, and dataset's
 * own rows of the other properties as "<property>\t<value>\t<source>"
 * lines (what zfs_parse_secure_state reads) into state. 0 or -EINVAL /
 * -E2BIG. */
int zfs_parse_received(const char *text, const char *dataset, struct strbuf *tree, struct strbuf *state);

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

/* A size as zfs prints it: a byte count ("5365760", "512B"), or without
 * `-p` a human-readable one with a binary unit K, M, G, T, P or E and at
 * most 4 fraction digits ("40.1M" = 40.1 * 2^20, rounded down). Nothing
 * else: no sign, space, lower-case unit or fraction of bytes. Returns 0,
 * -EINVAL or -ERANGE (too big for 64 bits). */
int zfs_parse_size(const char *s, uint64_t *out);

/* The output of `zfs get -H [-p] -o value <size property> <name>`: one
 * size (zfs_parse_size) on one line. */
int zfs_parse_property_size(const char *text, uint64_t *out);

/* The output of `zfs send -nP ...` (a dry run): the line "size\t<bytes>"
 * with the estimated stream size (the last one when there are several);
 * the "full"/"incremental" lines before it are skipped. -EINVAL when there
 * is no well-formed size line. */
int zfs_parse_send_estimate(const char *text, uint64_t *out);

/* A receive resume token as OpenZFS prints it (the property
 * receive_resume_token): "<version>-<checksum>-<length>-<payload>", a
 * decimal version of at most 3 digits, two hex fields of at most 16
 * digits, and a hex payload of whole bytes, lower-case, at most
 * ZFS_RESUME_TOKEN_MAX characters in all. The token comes from the
 * target of a replication (hostile): nothing else may reach `zfs send -t`.
 * Returns 1 when valid. */
#define ZFS_RESUME_TOKEN_MAX 3072
int zfs_valid_resume_token(const char *s);

/* The output of `zfs get -H -o value receive_resume_token <ds>`: "-"
 * (no interrupted receive: returns 0), or a valid token (stored in
 * *token, returns 1). Anything else: -EINVAL, token untouched. */
int zfs_parse_resume_property(const char *text, struct strbuf *token);

/* The output of `zfs send -nvP -t <token>` (a dry run on the sending
 * side): the "toname = <dataset>@<snap>" line of the token's contents
 * into *toname. -EINVAL when there is none, or more than one. */
int zfs_parse_resume_toname(const char *text, struct strbuf *toname);

#endif
