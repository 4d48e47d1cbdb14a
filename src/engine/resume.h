/* Resumable transfers (docs/storage.md "Resumable receives"): what a run
 * does after the stream of a volume broke off, where both storages have
 * resume tokens (zfs recv -s / send -t).
 *
 * The target's `volrep import ... --resume-token` answers one line,
 * "resume-token <token>" or "resume-token -". The token is the target's
 * (hostile) text: it is checked against the token grammar before it can
 * reach `zfs send -t` on this side, which then checks it once more with a
 * dry run (backend_export_resume_start). The decision between attempts
 * is a pure function, so that unit tests can walk every branch. */
#ifndef VOLREP_ENGINE_RESUME_H
#define VOLREP_ENGINE_RESUME_H

#include "base/strbuf.h"

/* Resumed attempts per volume and run, after the first transfer. */
#define RESUME_TRIES 3

/* The answer of `import --resume-token`: 1 with the token in *token,
 * 0 for "-" (no partial receive there), -EINVAL for anything else (no
 * such line, two of them, a token that is not well-formed). */
int resume_parse_reply(const char *out, struct strbuf *token);

enum resume_step {
	RESUME_STOP,     /* the failure stands (nothing to resume, or tried enough) */
	RESUME_CONTINUE, /* send the rest: zfs send -t <token> | import --resume */
	RESUME_RESTART,  /* give the partial receive up (import --abort-resume) and
			  * send the whole stream again, once */
};

/* After failed attempt number attempt (1: the first transfer), given
 * the query's result q (resume_parse_reply, or -EIO when the query
 * failed), the token it returned and the token the failed attempt
 * resumed from (NULL after the first transfer), and whether this side
 * refused that token (source_refused: -ESTALE from the export). */
enum resume_step resume_decide(int attempt, int q, const char *token, const char *prev_token,
			       int source_refused);

#endif
