/* Fuzz target: volrep serve's whole gate (split, grammar, peer policy,
 * child argv) on arbitrary command lines, against the fixed cluster of
 * fuzz/serve-fixture.h (this node "b"; the peer "a", then "c"). For
 * every command the gate lets through, it checks independently of the
 * policy code:
 *   - the guest named lives on the peer (replication and migration
 *     verbs), never on this node, except guest-start, which names only a
 *     guest that lives here; failover verbs name a guest of a third node;
 *   - every volume named is one of that guest's config, every snapshot
 *     one of that guest's replication snapshots;
 *   - the child's argv is the verb, then words of which every option is
 *     in that verb's table (never a global option), and it survives a
 *     quote/parse round trip unchanged.
 * Any violation aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cidr.h"
#include "base/quote.h"
#include "config/cluster.h"
#include "serve-fixture.h"
#include "transport/serve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cluster_config cc = CLUSTER_CONFIG_INIT;
static struct state *st;
static char *fixture_dir;

static void cleanup(void)
{
	cluster_config_release(&cc);
	state_free(st);
	serve_fixture_remove(fixture_dir);
	free(fixture_dir);
}

static void load(void)
{
	if (fixture_dir)
		return;
	fixture_dir = serve_fixture_write();
	if (!fixture_dir || cluster_config_load(&cc, fixture_dir, 0, NULL) < 0 ||
	    state_parse(serve_fixture_state, strlen(serve_fixture_state), "fixture", &st, NULL) < 0)
		abort();
	/* the policy reads the guest configs again: the directory lives
	 * as long as the process */
	atexit(cleanup);
}

static void violated(const char *what, const char *peer, const struct strvec *av)
{
	fprintf(stderr, "fuzz-serve-policy: %s (peer %s):", what, peer);
	for (size_t i = 0; i < av->nr; i++)
		fprintf(stderr, " '%s'", av->v[i]);
	fputc('\n', stderr);
	abort();
}

/* the fixture's config text of guest vmid, NULL if none */
static const char *conf_of(uint32_t vmid)
{
	for (size_t i = 0; i < sizeof(serve_fixture_guests) / sizeof(serve_fixture_guests[0]); i++)
		if (serve_fixture_guests[i].vmid == vmid)
			return serve_fixture_guests[i].conf;
	return NULL;
}

/* volid appears in the config of vmid as "<volid>," */
static int volume_of(uint32_t vmid, const char *volid)
{
	const char *conf = conf_of(vmid), *p;
	size_t n = strlen(volid);

	for (p = conf; p && (p = strstr(p, volid)); p += n)
		if ((p == conf || p[-1] == ' ') && p[n] == ',')
			return 1;
	return 0;
}

/* the guest whose config has volid, 0 if none */
static uint32_t owner_of_volume(const char *volid)
{
	for (size_t i = 0; i < sizeof(serve_fixture_guests) / sizeof(serve_fixture_guests[0]); i++)
		if (volume_of(serve_fixture_guests[i].vmid, volid))
			return serve_fixture_guests[i].vmid;
	return 0;
}

/* "__replicate_<vmid>-" */
static int snapshot_of(uint32_t vmid, const char *snap)
{
	char pre[48];

	snprintf(pre, sizeof(pre), "__replicate_%u-", (unsigned)vmid);
	return snap && !strncmp(snap, pre, strlen(pre));
}

static const char *const *allowed_opts(const char *verb)
{
	static const char *const prepare[] = { "--scan", "--last_sync", "--parent_snapname", "--force", "--keep", NULL };
	static const char *const finalize[] = { "--last_sync", "--keep", NULL };
	/* none of these names a node, a config, a pool or a path; --direct
	 * a network the import listens in (checked below) */
	static const char *const import[] = { "--snapshot", "--base", "--compress", "--raw", "--resume",
					      "--resume-token", "--abort-resume", "--direct", NULL };
	static const char *const none[] = { NULL };

	if (!strcmp(verb, "prepare-local-job"))
		return prepare;
	if (!strcmp(verb, "finalize-local-job"))
		return finalize;
	if (!strcmp(verb, "import"))
		return import;
	return none;
}

static void check_argv(const char *peer, const struct strvec *av)
{
	const char *const *ok = allowed_opts(av->v[0]);

	for (size_t i = 1; i < av->nr; i++) {
		int found = 0;

		if (strncmp(av->v[i], "--", 2))
			continue;
		for (size_t k = 0; ok[k] && !found; k++)
			found = !strcmp(ok[k], av->v[i]);
		if (!found)
			violated("option outside the verb's table", peer, av);
		if (!strcmp(av->v[i], "--direct")) {
			struct cidr net;

			if (i + 1 >= av->nr || cidr_parse(av->v[i + 1], &net) < 0)
				violated("--direct without a network", peer, av);
		}
	}
}

static void check_accepted(const char *peer, const struct serve_cmd *c, const struct strvec *av)
{
	const char *verb = c->name, *owner;
	uint32_t vmid;

	check_argv(peer, av);
	if (!strcmp(verb, "version"))
		return;
	if (!strcmp(verb, "import"))
		vmid = owner_of_volume(c->pos[0]);
	else
		vmid = (uint32_t)strtoul(c->pos[0], NULL, 10); /* "<vmid>" or "<vmid>-<n>" */
	owner = serve_fixture_owner(vmid);
	if (!owner)
		violated("unknown guest accepted", peer, av);
	for (size_t i = 0; i < c->nrest; i++)
		if (!volume_of(vmid, c->rest[i]))
			violated("a volume not of the guest", peer, av);
	if (!strcmp(verb, "import")) {
		if (!volume_of(vmid, c->pos[0]) || !snapshot_of(vmid, serve_cmd_opt(c, "--snapshot")) ||
		    (serve_cmd_opt(c, "--base") && !snapshot_of(vmid, serve_cmd_opt(c, "--base"))))
			violated("import of a foreign volume or snapshot", peer, av);
	}
	if (!strcmp(verb, "guest-start")) {
		if (strcmp(owner, "b") || vmid == 300 || vmid == 800)
			violated("guest-start of a guest not on this node or not failed over", peer, av);
		return;
	}
	if (!strcmp(owner, "b"))
		violated("a guest of this node", peer, av);
	if (!strcmp(verb, "import") || !strcmp(verb, "prepare-local-job") || !strcmp(verb, "finalize-local-job")) {
		if (strcmp(owner, peer))
			violated("replication verb for a guest not of the peer", peer, av);
	} else if (!strcmp(verb, "set-state")) {
		if (strcmp(owner, peer) && strcmp(c->pos[1], "{}") && strspn(c->pos[1], "{} \t") != strlen(c->pos[1]))
			violated("state of a guest not of the peer", peer, av);
	} else if (!strcmp(verb, "replica-rollback")) {
		if (!strcmp(owner, peer) || !snapshot_of(vmid, c->pos[1]))
			violated("rollback of the peer's live guest or a foreign snapshot", peer, av);
	}
}

static void one(const char *peer, const uint8_t *data, size_t size)
{
	struct serve_policy p = { .cc = &cc, .self = "b", .peer = peer, .state = st };
	struct serve_cmd c = SERVE_CMD_INIT, c2 = SERVE_CMD_INIT;
	struct strvec av = STRVEC_INIT, av2 = STRVEC_INIT, back = STRVEC_INIT;
	struct strbuf why = STRBUF_INIT, q = STRBUF_INIT;

	if (serve_parse_cmd((const char *)data, size, &c, &why) == 0 && serve_policy_check(&p, &c, &why) == 0) {
		serve_cmd_argv(&c, &av);
		if (!av.nr || strcmp(av.v[0], c.name))
			violated("argv does not start with the verb", peer, &av);
		check_accepted(peer, &c, &av);
		strvec_push(&back, "volrep");
		strvec_pushv(&back, (const char *const *)av.v);
		sq_quote_argv(&q, (const char *const *)back.v);
		if (serve_parse_cmd(q.buf, q.len, &c2, NULL) != 0 || serve_policy_check(&p, &c2, NULL) != 0)
			violated("canonical argv refused", peer, &av);
		serve_cmd_argv(&c2, &av2);
		if (av2.nr != av.nr)
			violated("round trip changed the argv", peer, &av);
		for (size_t i = 0; i < av.nr; i++)
			if (strcmp(av.v[i], av2.v[i]))
				violated("round trip changed the argv", peer, &av);
	}
	serve_cmd_release(&c);
	serve_cmd_release(&c2);
	strvec_clear(&av);
	strvec_clear(&av2);
	strvec_clear(&back);
	strbuf_release(&why);
	strbuf_release(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	load();
	one("a", data, size);
	one("c", data, size);
	return 0;
}
