#include "config/cluster.h"

#include <errno.h>
#include <string.h>

#include "base/fileio.h"
#include "base/xalloc.h"
#include "cluster/store.h"
#include "config/pvesr.h"

int cluster_guest_volumes(const struct cluster_config *cc, const struct guest *g, unsigned flags,
			  struct volume_list *out, struct strbuf *err)
{
	return cluster_guest_volumes_w(cc, g, flags, out, err, NULL);
}

int cluster_guest_volumes_w(const struct cluster_config *cc, const struct guest *g, unsigned flags,
			    struct volume_list *out, struct strbuf *err, struct strvec *warnings)
{
	struct guest_conf gc = GUEST_CONF_INIT;
	int r;

	r = guest_conf_load(&gc, g, warnings);
	if (r < 0) {
		strbuf_addf(err, "unable to read config of guest '%u' - %s", g->vmid, file_strerror(-r));
		goto out;
	}
	r = guest_replicatable_volumes(&cc->storages, g->vmid, g->type, &gc, flags, out, err);
out:
	guest_conf_release(&gc);
	return r;
}

static int load_err(int r, struct strbuf *err, const char *dir, const char *file)
{
	strbuf_addf(err, "unable to read '%s/%s' - %s", dir, file, file_strerror(-r));
	if (r == -ENOENT)
		strbuf_addf(err, " (the config dir '%s' does not exist: give it with --config-dir DIR or "
			    "VOLREP_CONFIG_DIR)", dir);
	return r;
}

int cluster_config_load(struct cluster_config *cc, const char *config_dir, unsigned flags,
			struct strbuf *err)
{
	struct store *st = store_get(config_dir);
	int r;

	/* etcd: the whole prefix in one range request; without quorum the
	 * last good snapshot, so that replication goes on (store.h) */
	if ((r = store_load(st, STORE_ALLOW_STALE, err)) < 0)
		return r;
	if (st->stale) {
		const char *why = st->stale_why ? st->stale_why : "";

		if (!strncmp(why, "cluster not quorate: ", 21))
			why += 21;
		strvec_pushf(&cc->warnings, "cluster not quorate: using the last configuration read (%s)", why);
	}
	if ((r = nodes_cfg_load(&cc->nodes, config_dir, &cc->warnings)) < 0)
		return load_err(r, err, config_dir, "nodes.cfg");
	if ((r = storage_cfg_load(&cc->storages, config_dir, &cc->warnings)) < 0)
		return load_err(r, err, config_dir, "storage.cfg");
	if ((r = jobs_cfg_load(&cc->jobs, config_dir, &cc->warnings)) < 0)
		return load_err(r, err, config_dir, "replication.cfg");
	pvesr_warn_overlap(&cc->jobs, config_dir, &cc->warnings);
	if ((r = guests_scan(&cc->guests, config_dir, &cc->warnings)) < 0)
		return load_err(r, err, config_dir, "nodes");
	if (!(flags & CLUSTER_LOAD_VOLUMES))
		return 0;
	for (size_t i = 0; i < cc->guests.nr; i++) {
		struct guest *g = &cc->guests.v[i];
		struct strbuf e = STRBUF_INIT;

		if (cluster_guest_volumes_w(cc, g, 0, &g->volumes, &e, &cc->warnings) < 0) {
			volume_list_release(&g->volumes);
			g->vol_error = strbuf_detach(&e, NULL);
		}
		strbuf_release(&e);
	}
	return 0;
}

void cluster_config_release(struct cluster_config *cc)
{
	nodes_cfg_release(&cc->nodes);
	storage_cfg_release(&cc->storages);
	jobs_cfg_release(&cc->jobs);
	guests_release(&cc->guests);
	strvec_clear(&cc->warnings);
}
