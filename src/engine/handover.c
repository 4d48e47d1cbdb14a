#include "engine/handover.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fileio.h"
#include "cluster/store.h"
#include "sched/jobstatus.h"

/* output of a verb: JSON of a guest's snapshots fits easily */

void guest_conf_path_on(struct strbuf *sb, const char *config_dir, const struct guest *g, const char *node)
{
	strbuf_addf(sb, "%s/nodes/%s/%s/%" PRIu32 ".conf", config_dir, node,
		    g->type == GUEST_LXC ? "lxc" : "qemu-server", g->vmid);
}

struct hand_over {
	const char *config_dir;
	const struct guest *g;
	const char *old_node, *new_node;
	struct strvec *jobs;
	struct store *st;
	struct strbuf conf, dst;
};

static void guest_conf_name_on(struct strbuf *sb, const struct guest *g, const char *node)
{
	strbuf_addf(sb, "nodes/%s/%s/%" PRIu32 ".conf", node, g->type == GUEST_LXC ? "lxc" : "qemu-server",
		    g->vmid);
}

/* The node whose folder holds the config of vmid now (fresh read). */
static int owner_now(struct store *st, const char *config_dir, uint32_t vmid, struct strbuf *node)
{
	struct guest_list gl = { 0 };
	struct strbuf err = STRBUF_INIT;
	const struct guest *g;
	int r = store_load(st, 0, &err);

	if (r == 0 && (r = guests_scan(&gl, config_dir, NULL)) == 0 && (g = guests_find(&gl, vmid)))
		strbuf_addstr(node, g->node);
	else if (r == 0)
		r = -ENOENT;
	guests_release(&gl);
	strbuf_release(&err);
	return r;
}

static int hand_over_fn(struct jobs_cfg *jc, void *data, struct strbuf *err, struct jobs_extra *extra)
{
	struct hand_over *h = data;
	struct strbuf text = STRBUF_INIT;
	int64_t rev = STORE_REV_ANY;
	int n, r;

	/* the owner is whoever holds the config now, not when we looked */
	strbuf_reset(&h->conf);
	if (h->st->kind != STORE_DIR) {
		r = store_read(h->st, h->g->conf_name, STORE_FRESH, &h->conf, &rev, err);
		if (r < 0)
			return r;
		if (r == 1) {
			struct strbuf now = STRBUF_INIT;

			if (owner_now(h->st, h->config_dir, h->g->vmid, &now) == 0)
				strbuf_addf(err, "guest %" PRIu32 " was already moved to '%s'", h->g->vmid, now.buf);
			else
				strbuf_addf(err, "guest %" PRIu32 " is no longer on '%s'", h->g->vmid, h->old_node);
			strbuf_release(&now);
			return -EALREADY;
		}
	}
	n = job_status_switch_stolen(jc, h->g->vmid, h->old_node, h->new_node, err);
	if (n < 0)
		return n;
	/* a rewrite that cannot be written must stop us before the move */
	r = jobs_cfg_format(jc, &text, err);
	strbuf_release(&text);
	if (r < 0)
		return r;
	strbuf_reset(&h->dst);
	guest_conf_name_on(&h->dst, h->g, h->new_node);
	extra->ops[extra->n++] = (struct store_op){ .kind = STORE_MOVE, .name = h->g->conf_name,
						    .to = h->dst.buf, .data = h->conf.buf,
						    .len = h->conf.len, .rev = rev };
	if (h->jobs) {
		struct repl_job **mine = NULL;
		size_t k = jobs_cfg_of_guest(jc, h->g->vmid, &mine);

		strvec_clear(h->jobs);
		for (size_t i = 0; i < k; i++)
			strvec_pushf(h->jobs, "%s %s %s", mine[i]->id, mine[i]->source ? mine[i]->source : h->new_node,
				     mine[i]->target);
		free(mine);
	}
	return n > 0 ? 1 : 0;
}

struct hand_over_call {
	struct hand_over *h;
	struct jobs_extra *extra;
};

static int hand_over_cb(struct jobs_cfg *jc, void *data, struct strbuf *err)
{
	struct hand_over_call *c = data;

	return hand_over_fn(jc, c->h, err, c->extra);
}

int guest_hand_over(const char *config_dir, const struct guest *g, const char *old_node, const char *new_node,
		    struct strvec *jobs, struct strbuf *err)
{
	struct hand_over h = { .config_dir = config_dir, .g = g, .old_node = old_node, .new_node = new_node,
			       .jobs = jobs, .st = store_get(config_dir), .conf = STRBUF_INIT, .dst = STRBUF_INIT };
	struct jobs_extra extra = { .n = 0 };
	struct hand_over_call c = { &h, &extra };
	struct strbuf e = STRBUF_INIT, dst = STRBUF_INIT;
	int r = jobs_cfg_modify_txn(config_dir, hand_over_cb, &c, &extra, NULL, &e);

	/* dir: the rename came first; only replication.cfg may have failed */
	guest_conf_path_on(&dst, config_dir, g, new_node);
	if (r < 0 && h.st->kind == STORE_DIR && access(dst.buf, F_OK) == 0 && access(g->conf_path, F_OK) < 0)
		strbuf_addf(err, "guest '%" PRIu32 "' moved to '%s', but its jobs could not be rewritten: %s "
			    "(the next run on '%s' switches them)", g->vmid, new_node, e.buf, new_node);
	else
		strbuf_add(err, e.buf, e.len);
	strbuf_release(&e);
	strbuf_release(&dst);
	strbuf_release(&h.conf);
	strbuf_release(&h.dst);
	return r < 0 ? r : 0;
}

