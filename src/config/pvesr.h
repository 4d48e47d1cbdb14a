/* Living next to pvesr on a Proxmox VE cluster (docs/proxmox.md): under
 * the pmxcfs store, PVE's own <root>/replication.cfg holds pvesr's jobs.
 * volrep never writes that file; it refuses to create a job for a guest
 * pvesr replicates, and warns when such a job appears later, since two
 * replicators of one guest would fight over its target datasets. */
#ifndef VOLREP_CONFIG_PVESR_H
#define VOLREP_CONFIG_PVESR_H

#include <stdint.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "config/jobs.h"

/* Load pvesr's jobs into *jc (left empty outside the pmxcfs store, or
 * when there is no such file). Returns 0 or -errno (message in *err). */
int pvesr_jobs_load(struct jobs_cfg *jc, const char *config_dir, struct strbuf *err);

/* 0 when no pvesr job replicates guest, else -EEXIST with the message
 * naming the pvesr job and how to proceed in *err. */
int pvesr_refuse_guest(const char *config_dir, uint32_t guest, struct strbuf *err);

/* A warning for every volrep job (of jc) whose guest also has a pvesr
 * job. */
void pvesr_warn_overlap(const struct jobs_cfg *jc, const char *config_dir, struct strvec *warnings);

#endif
