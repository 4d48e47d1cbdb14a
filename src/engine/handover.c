#include "engine/handover.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fileio.h"
#include "engine/jobstatus.h"

/* output of a verb: JSON of a guest's snapshots fits easily */
#define CALL_OUT_MAX (4u << 20)

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
	int moved;
};

static int hand_over_fn(struct jobs_cfg *jc, void *data, struct strbuf *err)
{
	struct hand_over *h = data;
	struct strbuf dst = STRBUF_INIT, text = STRBUF_INIT;
	char *slash;
	int n, r;

	n = job_status_switch_stolen(jc, h->g->vmid, h->old_node, h->new_node, err);
	if (n < 0)
		return n;
	/* a rewrite that cannot be written must stop us before the move */
	r = jobs_cfg_format(jc, &text, err);
	if (r < 0)
		goto out;
	guest_conf_path_on(&dst, h->config_dir, h->g, h->new_node);
	slash = strrchr(dst.buf, '/');
	*slash = '\0';
	r = mkdir_p(dst.buf, 0755);
	*slash = '/';
	if (r < 0) {
		strbuf_addf(err, "cannot create the config directory of node '%s': %s", h->new_node, strerror(-r));
		goto out;
	}
	if (renameat2(AT_FDCWD, h->g->conf_path, AT_FDCWD, dst.buf, RENAME_NOREPLACE) < 0) {
		r = -errno;
		strbuf_addf(err, "cannot move '%s' to '%s': %s", h->g->conf_path, dst.buf, strerror(errno));
		goto out;
	}
	h->moved = 1;
	if (h->jobs) {
		struct repl_job **mine = NULL;
		size_t k = jobs_cfg_of_guest(jc, h->g->vmid, &mine);

		for (size_t i = 0; i < k; i++)
			strvec_pushf(h->jobs, "%s %s %s", mine[i]->id, mine[i]->source ? mine[i]->source : h->new_node,
				     mine[i]->target);
		free(mine);
	}
	r = n > 0 ? 1 : 0;
out:
	strbuf_release(&dst);
	strbuf_release(&text);
	return r;
}

int guest_hand_over(const char *config_dir, const struct guest *g, const char *old_node, const char *new_node,
		    struct strvec *jobs, struct strbuf *err)
{
	struct hand_over h = { .config_dir = config_dir, .g = g, .old_node = old_node, .new_node = new_node,
			       .jobs = jobs, .moved = 0 };
	struct strbuf e = STRBUF_INIT;
	int r = jobs_cfg_modify(config_dir, hand_over_fn, &h, NULL, &e);

	if (r < 0 && h.moved)
		strbuf_addf(err, "guest '%" PRIu32 "' moved to '%s', but its jobs could not be rewritten: %s "
			    "(the next run on '%s' switches them)", g->vmid, new_node, e.buf, new_node);
	else
		strbuf_add(err, e.buf, e.len);
	strbuf_release(&e);
	return r < 0 ? r : 0;
}

int handover_call(struct transport *t, const struct strvec *argv, struct strbuf *out, struct strbuf *err)
{
	struct strbuf rerr = STRBUF_INIT;
	int r = transport_run(t, (const char *const *)argv->v, NULL, 0, out, &rerr, CALL_OUT_MAX);

	if (r != 0) {
		struct strbuf msg = STRBUF_INIT;

		transport_describe(t, (const char *const *)argv->v, r, rerr.buf, &msg);
		strbuf_add(err, msg.buf, msg.len);
		strbuf_release(&msg);
		r = r == -ENOTCONN ? -ENOTCONN : -EIO;
	}
	strbuf_release(&rerr);
	return r;
}
