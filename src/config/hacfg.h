/* ha.cfg: which guests the daemons recover when their node dies
 * (docs/ha.md). A cluster file, Proxmox style:
 *
 *     group: prefer-b
 *     \tnodes b,c
 *
 *     ct: 200
 *     \tgroup prefer-b
 *     \tmax-relocate 1
 *     \tstate started
 *
 *     vm: 100
 *     \tstate stopped
 *
 * vm = a qemu guest, ct = an lxc guest. state: started (recovered and
 * started on another node when its node dies; the default), stopped
 * (recovered, not started), ignored (HA leaves it alone). group names a
 * group: section whose nodes are preferred, in that order, when replicas
 * are equally fresh. max-relocate 0..10 (default 1) is kept for
 * compatibility with Proxmox's resources.cfg (docs/ha.md says what it
 * does today).
 *
 * Parsing is lenient like the other cluster files (a bad section is
 * dropped with a warning naming file and line); the input is untrusted. */
#ifndef VOLREP_CONFIG_HACFG_H
#define VOLREP_CONFIG_HACFG_H

#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "config/guest.h"

#define HA_CFG_FILE "ha.cfg"
#define HA_MAX_RELOCATE_LIMIT 10
#define HA_GROUP_NODES_MAX 64

enum ha_state { HA_STARTED, HA_STOPPED, HA_IGNORED };

struct ha_resource {
	uint32_t vmid;
	enum guest_type type; /* vm: GUEST_QEMU, ct: GUEST_LXC */
	enum ha_state state;
	char *group;          /* NULL: none */
	unsigned max_relocate;
};

struct ha_group {
	char *name;
	struct strvec nodes;  /* preference order */
};

struct ha_cfg {
	struct ha_resource *res; /* file order */
	size_t nres, ares;
	struct ha_group *groups;
	size_t ngroups, agroups;
};

#define HA_CFG_INIT { 0 }

/* "started" ... ; 0 or -EINVAL */
int ha_state_parse(const char *s, enum ha_state *out);
const char *ha_state_name(enum ha_state s);
/* "vm" / "ct" */
const char *ha_type_name(enum guest_type t);
/* a group name: [A-Za-z][A-Za-z0-9_.-]{0,63} */
int ha_valid_group_name(const char *s);

int ha_cfg_parse(struct ha_cfg *hc, const char *text, size_t len, struct strvec *warnings);
/* Canonical text: groups first (sorted by name), then the resources
 * sorted by vmid. Returns 0 or -EINVAL (message in err). */
int ha_cfg_format(const struct ha_cfg *hc, struct strbuf *out, struct strbuf *err);
void ha_cfg_release(struct ha_cfg *hc);

struct ha_resource *ha_cfg_find(const struct ha_cfg *hc, uint32_t vmid);
struct ha_group *ha_cfg_group(const struct ha_cfg *hc, const char *name);
/* Add a resource (vmid not present yet); returns it. group copied. */
struct ha_resource *ha_cfg_add(struct ha_cfg *hc, uint32_t vmid, enum guest_type t);
/* Remove vmid; 1 if it was there. */
int ha_cfg_remove(struct ha_cfg *hc, uint32_t vmid);
void ha_resource_set_group(struct ha_resource *r, const char *group);
/* Add or replace a group with nodes (comma-separated, validated by the
 * caller). */
struct ha_group *ha_cfg_set_group(struct ha_cfg *hc, const char *name, const char *nodes);

/* Read ha.cfg from the cluster store of config_dir (a missing file is an
 * empty configuration). rev (may be NULL) gets its revision (0: absent).
 * Returns 0 or -errno (message in err). */
int ha_cfg_load(const char *config_dir, unsigned store_flags, struct ha_cfg *hc, int64_t *rev,
		struct strvec *warnings, struct strbuf *err);

/* Change ha.cfg: read it fresh, call fn, write the result with the read
 * revision as the expected one (compare-and-swap, retried when another
 * node wrote first), under the cluster lock "config". fn returns 1
 * (changed: write), 0 (nothing to write) or -errno (message in err:
 * nothing written). Returns what fn returned, or -errno. */
typedef int ha_modify_fn(struct ha_cfg *hc, void *data, struct strbuf *err);
int ha_cfg_modify(const char *config_dir, ha_modify_fn *fn, void *data, struct strbuf *err);

#endif
