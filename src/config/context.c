#include "config/context.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "base/log.h"
#include "base/strbuf.h"
#include "base/validate.h"
#include "cluster/store.h"
#include "base/xalloc.h"

/* Returns where the value came from: NULL (an option), env or dflt_from. */
static const char *fill(char **field, const char *env, const char *dflt, const char *dflt_from)
{
	const char *v;

	if (*field)
		return NULL;
	v = getenv(env);
	*field = xstrdup(v && *v ? v : dflt);
	return v && *v ? env : dflt_from;
}

int context_resolve(struct context *ctx)
{
	struct utsname u;
	char host[sizeof(u.nodename)] = "localhost";

	if (uname(&u) == 0) {
		/* hostname -s: up to the first dot */
		memcpy(host, u.nodename, sizeof(host));
		host[strcspn(host, ".")] = '\0';
	}
	const char *from;

	from = fill(&ctx->config_dir, "VOLREP_CONFIG_DIR", "/etc/volrep", "the default");
	ctx->config_dir_from = from ? from : "--config-dir";
	fill(&ctx->state_dir, "VOLREP_STATE_DIR", "/var/lib/volrep", NULL);
	fill(&ctx->log_dir, "VOLREP_LOG_DIR", "/var/log/volrep", NULL);
	from = fill(&ctx->node, "VOLREP_NODE", host, "hostname -s");
	ctx->node_from = from ? from : "--node";
	if (!ctx->cluster && getenv("VOLREP_CLUSTER") && *getenv("VOLREP_CLUSTER"))
		ctx->cluster = xstrdup(getenv("VOLREP_CLUSTER"));
	if (!valid_node_name(ctx->node))
		return -EINVAL;
	return 0;
}

void context_release(struct context *ctx)
{
	free(ctx->config_dir);
	free(ctx->state_dir);
	free(ctx->log_dir);
	free(ctx->node);
	free(ctx->cluster);
	store_set_cluster(NULL);
	memset(ctx, 0, sizeof(*ctx));
}

int context_open_cluster(struct context *ctx)
{
	struct strbuf err = STRBUF_INIT;
	struct store *st = NULL;
	int r;

	if (!ctx->cluster)
		return 0;
	r = store_open_url(ctx->cluster, ctx->state_dir, &st, &err);
	if (r < 0)
		error("%s", err.buf);
	else
		store_set_cluster(st);
	strbuf_release(&err);
	return r;
}
