/* The target side's gate: "volrep serve --peer NODE" is the forced command
 * of a replication key (authorized_keys:
 *   restrict,command="volrep serve --peer pve1" ssh-ed25519 AAAA... root@pve1
 * ), so that the holder of pve1's key can run volrep's target-side verbs
 * for pve1's own guests with validated arguments, and nothing else (the
 * trust model: docs/security.md).
 *
 * Three steps, in this order:
 *   1. serve_parse_cmd() takes SSH_ORIGINAL_COMMAND as the client sent it
 *      (words quoted by sq_quote_argv), splits it with sq_split_strict()
 *      and checks it against the verb table in serve.c: "volrep <verb>
 *      <args>" where every argument and option matches the verb's
 *      grammar. Only the options the source's engine sends are known;
 *      global options (--node, --config-dir, ...) are never among them.
 *   2. serve_policy_check() ties the command to the peer: the guest it
 *      names must be the peer's (or, for the failover and migration
 *      verbs, take part in the peer's flow), judged from this node's own
 *      view of the cluster config, never one named by the caller.
 *   3. serve_cmd_argv() builds the child's argv from the parsed values,
 *      in the table's order: nothing the caller typed is copied through
 *      unparsed.
 * Extending the whitelist = one row in that table (plus its options and
 * its policy check). */
#ifndef VOLREP_TRANSPORT_SERVE_H
#define VOLREP_TRANSPORT_SERVE_H

#include <stddef.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "config/cluster.h"
#include "state/state.h"

#define SERVE_MAX_OPTS 12
#define SERVE_MAX_VOLUMES 256

struct serve_verb;

/* A parsed, grammatically valid command. Strings point into words. */
struct serve_cmd {
	const struct serve_verb *verb;
	const char *name;                 /* the verb, e.g. "import" */
	const char *pos[2];               /* fixed positionals, NULL when the verb has fewer */
	const char *rest[SERVE_MAX_VOLUMES]; /* further positionals (volume ids) */
	size_t nrest;
	const char *opt[SERVE_MAX_OPTS];  /* by index in the verb's option table; flags: "" */
	struct strvec words;              /* owns every string */
};
#define SERVE_CMD_INIT { .verb = NULL, .words = STRVEC_INIT }

void serve_cmd_release(struct serve_cmd *c);

/* Split and validate cmd (len bytes) into *c. Returns 0, or -EINVAL
 * with a one-line reason in why (offending values are quoted, shortened
 * and printable; why may be NULL) and *c empty. */
int serve_parse_cmd(const char *cmd, size_t len, struct serve_cmd *c, struct strbuf *why);

/* The value of option name ("--snapshot") of c, NULL if not given. */
const char *serve_cmd_opt(const struct serve_cmd *c, const char *name);

/* Append the child's argv for c (verb first, no program name): fixed
 * positionals, further positionals, then the options in table order. */
void serve_cmd_argv(const struct serve_cmd *c, struct strvec *argv);

struct serve_policy {
	const struct cluster_config *cc; /* this node's own view */
	const char *self;                /* this node */
	const char *peer;                /* the key's node; NULL: --any-peer (no ownership checks) */
	const struct state *state;       /* this node's replication state (guest-start); NULL: unknown */
};

/* May p->peer run c on this node? 0, or -EACCES with the reason in why. */
int serve_policy_check(const struct serve_policy *p, const struct serve_cmd *c, struct strbuf *why);

/* Whether verb name needs the cluster config for its policy check
 * ("version" does not). */
int serve_verb_needs_config(const struct serve_cmd *c);

/* Compatibility wrappers (tests, fuzzing): split and validate, then put
 * the canonical argv (serve_cmd_argv) into out. */
int serve_parse(const char *cmd, size_t len, struct strvec *out, struct strbuf *why);
/* Validate already split words (words[0] must be "volrep"). */
int serve_check(const char *const *words, struct strbuf *why);

#endif
