#include "engine/resume.h"

#include <errno.h>
#include <string.h>

#include "backend/zfs-parse.h"

int resume_parse_reply(const char *out, struct strbuf *token)
{
	static const char key[] = "resume-token ";
	const size_t kl = sizeof(key) - 1;
	const char *found = NULL;
	size_t flen = 0;
	int r;

	for (const char *line = out ? out : ""; *line;) {
		size_t n = strcspn(line, "\n");

		if (n >= kl && !strncmp(line, key, kl)) {
			if (found)
				return -EINVAL;
			found = line + kl;
			flen = n - kl;
		}
		line += n;
		if (*line)
			line++;
	}
	if (!found || !flen || flen > ZFS_RESUME_TOKEN_MAX)
		return -EINVAL;
	if (flen == 1 && found[0] == '-')
		return 0;
	{
		struct strbuf t = STRBUF_INIT;

		strbuf_add(&t, found, flen);
		r = zfs_valid_resume_token(t.buf) ? 1 : -EINVAL;
		if (r > 0) {
			strbuf_reset(token);
			strbuf_add(token, t.buf, t.len);
		}
		strbuf_release(&t);
	}
	return r;
}

enum resume_step resume_decide(int attempt, int q, const char *token, const char *prev_token,
			       int source_refused)
{
	/* this side will not send from it (another snapshot, a source that
	 * changed): the partial state is of no use */
	if (source_refused)
		return RESUME_RESTART;
	/* nothing kept there, or an answer we cannot use: the failure is
	 * the transfer's */
	if (q <= 0 || !token)
		return RESUME_STOP;
	/* the resume got nowhere (the token did not move): the target
	 * refuses it; one fresh stream, which discards the partial state */
	if (prev_token && !strcmp(prev_token, token))
		return RESUME_RESTART;
	if (attempt > RESUME_TRIES)
		return RESUME_STOP;
	return RESUME_CONTINUE;
}
