#include "config/pvesr.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cluster/store-pmxcfs.h"
#include "cluster/store.h"

int pvesr_jobs_load(struct jobs_cfg *jc, const char *config_dir, struct strbuf *err)
{
	struct store *st = store_get(config_dir);
	struct strbuf text = STRBUF_INIT;
	int r;

	memset(jc, 0, sizeof(*jc));
	if (st->kind != STORE_PMXCFS)
		return 0;
	r = store_read(st, PMXCFS_PVESR_CFG, 0, &text, NULL, err);
	/* pvesr's file, in pvesr's format: what it skips, we skip, quietly */
	if (r == 0)
		r = jobs_cfg_parse(jc, text.buf, text.len, NULL);
	strbuf_release(&text);
	return r < 0 ? r : 0;
}

static const char *pvesr_path(const char *config_dir, struct strbuf *sb)
{
	struct store *st = store_get(config_dir);

	strbuf_addf(sb, "%s/replication.cfg", st->kind == STORE_PMXCFS ? pmxcfs_store_root(st) : config_dir);
	return sb->buf;
}

int pvesr_refuse_guest(const char *config_dir, uint32_t guest, struct strbuf *err)
{
	struct jobs_cfg pj;
	struct strbuf path = STRBUF_INIT;
	int r = pvesr_jobs_load(&pj, config_dir, err);

	if (r < 0)
		return r;
	for (size_t i = 0; i < pj.nr; i++) {
		if (pj.v[i].guest != guest)
			continue;
		strbuf_addf(err,
			    "guest '%" PRIu32 "' is replicated by pvesr job '%s' (%s): remove it there "
			    "('pvesr delete %s --force' keeps its snapshots) or take it over with "
			    "'volrep create-local-job %s ...' after that (docs/proxmox.md)",
			    guest, pj.v[i].id, pvesr_path(config_dir, &path), pj.v[i].id, pj.v[i].id);
		r = -EEXIST;
		break;
	}
	jobs_cfg_release(&pj);
	strbuf_release(&path);
	return r;
}

void pvesr_warn_overlap(const struct jobs_cfg *jc, const char *config_dir, struct strvec *warnings)
{
	struct jobs_cfg pj;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT;

	if (pvesr_jobs_load(&pj, config_dir, &err) < 0) {
		strvec_pushf(warnings, "cannot check for pvesr jobs: %s", err.buf);
		goto out;
	}
	for (size_t i = 0; i < jc->nr; i++)
		for (size_t k = 0; k < pj.nr; k++)
			if (pj.v[k].guest == jc->v[i].guest)
				strvec_pushf(warnings,
					     "guest '%" PRIu32 "' has volrep job '%s' and pvesr job '%s' (%s): "
					     "two replicators of one guest fight over its target; remove one",
					     jc->v[i].guest, jc->v[i].id, pj.v[k].id,
					     path.len ? path.buf : pvesr_path(config_dir, &path));
	jobs_cfg_release(&pj);
out:
	strbuf_release(&err);
	strbuf_release(&path);
}
