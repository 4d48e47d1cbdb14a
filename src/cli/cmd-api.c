/* volrep api token add|list|remove: the API tokens of this node
 * (src/api/auth.h). The secret is printed once, on stdout, and only its
 * salted hash is kept. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/auth.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/strvec.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "cli/opts.h"

/* api_token_*: -EINVAL a bad id, -EEXIST taken, -ENOENT no such token. */
#define TOKEN_USAGE (ERRK_INVALID | ERRK_MISSING | ERRK_CONFLICT)

static int token_add(int argc, char **argv, struct context *ctx)
{
	static const char *const args[] = { "token-id" };
	struct opt_spec specs[] = { { "write", OPT_BOOL, NULL }, { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT;
	struct strbuf secret = STRBUF_INIT, err = STRBUF_INIT;
	int r, ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0 || opts_want_args(&pos, args, 1) < 0)
		goto out;
	r = api_token_add(ctx->state_dir, pos.v[0], specs[0].value && !strcmp(specs[0].value, "1"), &secret, &err);
	if (r < 0) {
		error("%s", err.buf);
		ret = exit_code_of(r, TOKEN_USAGE);
		goto out;
	}
	printf("%s\n", secret.buf);
	ret = fflush(stdout) == 0 ? 0 : EXIT_FAILED;
	fprintf(stderr, "token '%s' (%s) added; the secret above is shown only now\n", pos.v[0],
		specs[0].value && !strcmp(specs[0].value, "1") ? "write access" : "read-only");
out:
	strbuf_release(&secret);
	strbuf_release(&err);
	strvec_clear(&pos);
	return ret;
}

static int token_list(int argc, char **argv, struct context *ctx)
{
	struct opt_spec none[] = { { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT, lines = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	int r, ret = EXIT_USAGE;

	if (opts_parse(argc, argv, none, &pos) < 0 || opts_want_args(&pos, NULL, 0) < 0)
		goto out;
	r = api_token_list(ctx->state_dir, &lines, &err);
	if (r < 0) {
		error("%s", err.buf);
		ret = EXIT_FAILED;
		goto out;
	}
	for (size_t i = 0; i < lines.nr; i++)
		printf("%s\n", lines.v[i]);
	ret = fflush(stdout) == 0 ? 0 : EXIT_FAILED;
out:
	strvec_clear(&lines);
	strbuf_release(&err);
	strvec_clear(&pos);
	return ret;
}

static int token_remove(int argc, char **argv, struct context *ctx)
{
	static const char *const args[] = { "token-id" };
	struct opt_spec none[] = { { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	int r, ret = EXIT_USAGE;

	if (opts_parse(argc, argv, none, &pos) < 0 || opts_want_args(&pos, args, 1) < 0)
		goto out;
	r = api_token_remove(ctx->state_dir, pos.v[0], &err);
	if (r < 0) {
		error("%s", err.buf);
		ret = exit_code_of(r, TOKEN_USAGE);
		goto out;
	}
	ret = 0;
out:
	strbuf_release(&err);
	strvec_clear(&pos);
	return ret;
}

int cmd_api(int argc, char **argv, struct context *ctx)
{
	if (argc < 3 || strcmp(argv[1], "token")) {
		error("usage: volrep api token add|list|remove ... (see 'volrep help api')");
		return EXIT_USAGE;
	}
	if (!strcmp(argv[2], "add"))
		return token_add(argc - 2, argv + 2, ctx);
	if (!strcmp(argv[2], "list"))
		return token_list(argc - 2, argv + 2, ctx);
	if (!strcmp(argv[2], "remove"))
		return token_remove(argc - 2, argv + 2, ctx);
	error("unknown api token command '%s' - expected add, list or remove", argv[2]);
	return EXIT_USAGE;
}
