/* Parsers of btrfs-progs output (see zfs-parse.h for the rules: untrusted
 * text, capped lines, one error per field). Return 0 or -EINVAL. */
#ifndef VOLREP_BACKEND_BTRFS_PARSE_H
#define VOLREP_BACKEND_BTRFS_PARSE_H

#include <stdint.h>

#define BTRFS_UUID_STRLEN 36

struct btrfs_subvol_info {
	char uuid[BTRFS_UUID_STRLEN + 1];          /* "" when the subvolume has none */
	char received_uuid[BTRFS_UUID_STRLEN + 1]; /* "" when not received ("-") */
	char parent_uuid[BTRFS_UUID_STRLEN + 1];   /* "" when not a snapshot */
	int64_t creation;                          /* epoch seconds */
	int readonly;
};

/* `btrfs subvolume show <path>`: needs UUID, Creation time and Flags;
 * Received UUID and Parent UUID are optional ("-" = none). Unknown lines
 * are ignored; a known field given twice or malformed is an error. */
int btrfs_parse_subvolume_show(const char *text, struct btrfs_subvol_info *info);

/* "YYYY-MM-DD HH:MM:SS +HHMM" (as printed by btrfs-progs) -> epoch. */
int btrfs_parse_time(const char *s, int64_t *out);

/* 1 for "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (hex), else 0. */
int btrfs_valid_uuid(const char *s);

/* `btrfs --version`: "btrfs-progs v6.2" or "btrfs-progs v5.16.2" ->
 * major/minor. */
int btrfs_parse_version(const char *text, unsigned *major, unsigned *minor);

#endif
