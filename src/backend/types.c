#include "backend/types.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/parse-util.h"
#include "base/validate.h"

/* --- helpers of the grammars --- */

static int is_digits(const char *s, size_t n)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

int volname_owned(const char *s, size_t len, const char *const *kinds, uint32_t *owner)
{
	for (const char *const *k = kinds; *k; k++) {
		size_t kl = strlen(*k), i;
		uint64_t v;

		if (len <= kl + 1 || strncmp(s, *k, kl) || s[kl] != '-')
			continue;
		i = kl + 1;
		size_t d0 = i;
		while (i < len && isdigit((unsigned char)s[i]))
			i++;
		if (i == d0 || i - d0 > 9 || i >= len - 1 || s[i] != '-' || memchr(s + i, '/', len - i))
			continue;
		char num[16];
		memcpy(num, s + d0, i - d0);
		num[i - d0] = '\0';
		if (parse_u64(num, &v) < 0)
			continue;
		*owner = (uint32_t)v;
		return 0;
	}
	return -1;
}

/* "<prefix>-<vmid>-<name>" (strict: a valid vmid): returns a pointer
 * after the vmid's '-' and stores the vmid, or NULL. */
static const char *match_owner(const char *s, const char *prefix, uint32_t *vmid)
{
	size_t pl = strlen(prefix), n;
	char buf[16];

	if (strncmp(s, prefix, pl) || s[pl] != '-')
		return NULL;
	s += pl + 1;
	n = strspn(s, "0123456789");
	if (!n || n >= sizeof(buf) || s[n] != '-')
		return NULL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (!valid_vmid(buf))
		return NULL;
	*vmid = (uint32_t)strtoul(buf, NULL, 10);
	return s + n + 1;
}

/* The free part of a volume name: [A-Za-z0-9_.-]+, no "..", bounded. */
static int valid_name_part(const char *s, size_t len)
{
	if (!len || len > 128 || s[0] == '.' || s[0] == '-')
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return 0;
		if (s[i] == '.' && i + 1 < len && s[i + 1] == '.')
			return 0;
	}
	return 1;
}

static int has_raw(const char *s, size_t n)
{
	return n > 4 && !strcmp(s + n - 4, ".raw");
}

/* A location a command line may carry: no '@' (it would name a snapshot). */
static int valid_pool(const char *v)
{
	return valid_dataset(v) && !strchr(v, '@');
}

static int valid_path(const char *v)
{
	return valid_abs_path(v) && !strchr(v, '@');
}

/* --- zfspool --- */

static const char *const zfs_kinds[] = { "base", "basevol", "vm", "subvol", NULL };
static const char *const zfs_base_kinds[] = { "base", "basevol", NULL };

/* [base-<vmid>-<x>/]<vm|subvol|base|basevol>-<vmid>-<x> */
static int zfs_owner(const char *volname, uint32_t *owner)
{
	const char *slash = strchr(volname, '/');
	uint32_t base_owner;

	if (!valid_volname(volname))
		return -EINVAL;
	if (slash) {
		if (volname_owned(volname, (size_t)(slash - volname), zfs_base_kinds, &base_owner) < 0)
			return -EINVAL;
		volname = slash + 1;
	}
	return volname_owned(volname, strlen(volname), zfs_kinds, owner) < 0 ? -EINVAL : 0;
}

/* (vm|subvol|base)-<vmid>-<name> */
static int zfs_valid(const char *volname, uint32_t *vmid)
{
	static const char *const prefixes[] = { "vm", "subvol", "base", NULL };
	const char *rest = NULL;

	if (strchr(volname, '/'))
		return 0;
	for (int i = 0; prefixes[i] && !rest; i++)
		rest = match_owner(volname, prefixes[i], vmid);
	return rest && valid_name_part(rest, strlen(rest));
}

/* the btrfs form given: drop the directory and ".raw" */
static int zfs_suggest(const char *volname, struct strbuf *out)
{
	const char *name = strrchr(volname, '/');

	name = name ? name + 1 : volname;
	strbuf_addstr(out, name);
	if (has_raw(name, strlen(name)))
		strbuf_setlen(out, out->len - 4);
	return 1;
}

static const char *const zfspool_keys[] = {
	"pool", "blocksize", "sparse", "mountpoint", "content", "nodes", "disable", "shared", "bwlimit", NULL,
};

static const char *const zfs_list_argv[] = { "zfs", "list", "-H", "-o", "name", NULL };

static const struct storage_type zfspool_type = {
	.name = "zfspool",
	.type = BACKEND_ZFSPOOL,
	.loc = { { .key = "pool", .what = "zfs pool", .option = "--zfs-pool", .valid = valid_pool } },
	.cfg_keys = zfspool_keys,
	.tool = "zfs",
	.ops = &backend_zfs_ops,
	.volname_owner = zfs_owner,
	.volname_valid = zfs_valid,
	.volname_form = "'vm-<vmid>-disk-<n>' (VM disk) or 'subvol-<vmid>-disk-<n>' (container)",
	.volname_suggest = zfs_suggest,
	.presence = { .what = "zfs dataset", .missing = "not found", .argv = zfs_list_argv,
		      .features = STORAGE_FEAT_RESUME | STORAGE_FEAT_RAW },
};

/* --- btrfs --- */

static const char *const btrfs_kinds[] = { "base", "vm", "subvol", NULL };

/* [<vmid>/]<vm|subvol|base>-<vmid>-<x>[.raw|.subvol]; a directory names
 * the owner */
static int btrfs_owner(const char *volname, uint32_t *owner)
{
	const char *slash = strchr(volname, '/'), *name = volname;
	uint64_t dir;
	char num[16];
	size_t n;

	if (!valid_volname(volname))
		return -EINVAL;
	if (slash) {
		n = (size_t)(slash - volname);
		if (!is_digits(volname, n) || n >= sizeof(num))
			return -EINVAL;
		name = slash + 1;
	}
	if (volname_owned(name, strlen(name), btrfs_kinds, owner) < 0)
		return -EINVAL;
	if (slash) {
		memcpy(num, volname, n);
		num[n] = '\0';
		if (parse_u64(num, &dir) < 0 || dir != *owner)
			return -EINVAL;
	}
	return 0;
}

/* <vmid>/(vm|base)-<vmid>-<name>.raw or <vmid>/subvol-<vmid>-<name> */
static int btrfs_valid(const char *volname, uint32_t *vmid)
{
	const char *slash = strchr(volname, '/'), *rest;
	uint32_t dir_vmid;
	char dir[16];
	size_t n;

	if (!slash || (size_t)(slash - volname) >= sizeof(dir) || strchr(slash + 1, '/'))
		return 0;
	memcpy(dir, volname, (size_t)(slash - volname));
	dir[slash - volname] = '\0';
	if (!valid_vmid(dir))
		return 0;
	dir_vmid = (uint32_t)strtoul(dir, NULL, 10);
	if ((rest = match_owner(slash + 1, "subvol", vmid))) {
		n = strlen(rest);
		if (has_raw(rest, n))
			return 0;
	} else if ((rest = match_owner(slash + 1, "vm", vmid)) || (rest = match_owner(slash + 1, "base", vmid))) {
		n = strlen(rest);
		if (!has_raw(rest, n))
			return 0;
		n -= 4;
	} else {
		return 0;
	}
	return valid_name_part(rest, n) && *vmid == dir_vmid;
}

/* the zfs form given: add the directory, ".raw" for disks */
static int btrfs_suggest(const char *volname, struct strbuf *out)
{
	const char *name = strrchr(volname, '/');
	uint32_t vmid = 0;
	size_t n;

	name = name ? name + 1 : volname;
	n = strlen(name);
	if (!match_owner(name, "subvol", &vmid) && !match_owner(name, "vm", &vmid) &&
	    !match_owner(name, "base", &vmid))
		return 0;
	strbuf_addf(out, "%u/%s", vmid, name);
	if (!strncmp(name, "subvol-", 7)) {
		if (has_raw(name, n))
			strbuf_setlen(out, out->len - 4);
	} else if (!has_raw(name, n)) {
		strbuf_addstr(out, ".raw");
	}
	return 1;
}

static const char *const btrfs_keys[] = {
	"path", "content", "nodes", "disable", "shared", "preallocation", "format", "is_mountpoint", "mkdir",
	"create-base-path", "create-subdirs", "prune-backups", "max-protected-backups", "content-dirs",
	"bwlimit", NULL,
};

static const struct storage_type btrfs_type = {
	.name = "btrfs",
	.type = BACKEND_BTRFS,
	.loc = { { .key = "path", .what = "btrfs path", .option = "--btrfs-path", .valid = valid_path } },
	.cfg_keys = btrfs_keys,
	.tool = "btrfs",
	.ops = &backend_btrfs_ops,
	.volname_owner = btrfs_owner,
	.volname_valid = btrfs_valid,
	.volname_form = "'<vmid>/vm-<vmid>-disk-<n>.raw' (VM disk) or '<vmid>/subvol-<vmid>-disk-<n>' (container)",
	.volname_suggest = btrfs_suggest,
	.presence = { .what = "btrfs path", .missing = "does not exist", .argv = NULL, .features = 0 },
};

/* --- the table --- */

const struct storage_type *const storage_types[] = {
	[BACKEND_ZFSPOOL] = &zfspool_type,
	[BACKEND_BTRFS] = &btrfs_type,
	[BACKEND_NTYPES] = NULL,
};

const struct storage_type *storage_type_find(const char *name)
{
	for (const struct storage_type *const *t = storage_types; *t; t++)
		if (!strcmp((*t)->name, name))
			return *t;
	return NULL;
}

const struct storage_type *storage_type_of(enum backend_type type)
{
	return (unsigned)type < BACKEND_NTYPES ? storage_types[type] : NULL;
}

int storage_type_any_owner(const char *volname, uint32_t *owner)
{
	for (const struct storage_type *const *t = storage_types; *t; t++)
		if ((*t)->volname_owner(volname, owner) == 0)
			return 0;
	return -EINVAL;
}
