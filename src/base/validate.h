/* Strict name validation. Everything that may end up on a command line
 * (locally or on a remote node through ssh) is checked here first, against
 * a whitelist pattern: no leading '-', no shell metacharacters, no '..'
 * path tricks, bounded length. Each returns 1 when valid, 0 otherwise. */
#ifndef VOLREP_BASE_VALIDATE_H
#define VOLREP_BASE_VALIDATE_H

#include <stdint.h>

/* pve-node: ^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$, at most 63 chars */
int valid_node_name(const char *s);
/* storage id (pve-storage-id): ^[a-z][a-z0-9\-\_\.]*[a-z0-9]$, at most 64 */
int valid_storage_id(const char *s);
/* guest id: 100..999999999 without leading zeros */
int valid_vmid(const char *s);
/* job id <vmid>-<jobnum> in canonical form (no leading zeros); on success
 * stores the parts when the pointers are non-NULL */
int valid_job_id(const char *s, uint32_t *vmid, uint32_t *jobnum);
/* volume name on a storage: vm-<vmid>-disk-<n>, subvol-<vmid>-disk-<n>,
 * base-..., or for btrfs "<vmid>/vm-<vmid>-disk-<n>.raw"; characters
 * [A-Za-z0-9._-/] only, no "..", no leading '-' or '/' */
int valid_volname(const char *s);
/* snapshot name: [A-Za-z0-9_.:-]+, not starting with '-', at most 200 */
int valid_snapshot_name(const char *s);
/* ZFS dataset path: components [A-Za-z0-9_.:-]+ separated by '/', no
 * leading '-' or '/', no empty components, no '.'/'..' components */
int valid_dataset(const char *s);
/* absolute path without "..", "//", control characters or shell specials */
int valid_abs_path(const char *s);

#endif
