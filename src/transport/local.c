#include "transport/local.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "base/validate.h"
#include "base/xalloc.h"

int self_exe_path(struct strbuf *sb)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n < 0)
		return -errno;
	if ((size_t)n >= sizeof(buf) - 1)
		return -ENAMETOOLONG;
	strbuf_add(sb, buf, (size_t)n);
	return 0;
}

static int local_prepare(const struct transport *t, const char *const *argv, struct child *c)
{
	size_t i = 0;

	if (!strcmp(argv[0], "volrep")) {
		strvec_push(&c->args, t->cmd.v[0]);
		i = 1;
	}
	strvec_pushv(&c->args, argv + i);
	strvec_pushf(&c->env, "VOLREP_NODE=%s", t->node);
	strvec_pushv(&c->env, (const char *const *)t->env.v);
	return 0;
}

static int local_map_exit(const struct transport *t, int code)
{
	(void)t;
	return code;
}

const struct transport_ops local_transport_ops = {
	.name = "local",
	.prepare = local_prepare,
	.map_exit = local_map_exit,
};

int transport_local_init(struct transport *t, const char *node, const char *exe)
{
	struct strbuf sb = STRBUF_INIT;
	int r;

	if (!valid_node_name(node))
		return -EINVAL;
	if (exe) {
		strbuf_addstr(&sb, exe);
	} else if ((r = self_exe_path(&sb)) < 0) {
		strbuf_release(&sb);
		return r;
	}
	transport_release(t);
	t->ops = &local_transport_ops;
	t->stall_timeout = TRANSPORT_STALL_DEFAULT;
	t->node = xstrdup(node);
	strvec_push(&t->cmd, sb.buf);
	strbuf_release(&sb);
	return 0;
}
