/* The target side's gate: "volrep serve" is the forced command of the
 * replication key (authorized_keys: command="volrep serve",restrict ...),
 * so a compromised source node can run volrep's target-side verbs with
 * validated arguments and nothing else (DESIGN.md §6).
 *
 * serve_parse() takes SSH_ORIGINAL_COMMAND as the client sent it (words
 * quoted by sq_quote_argv), splits it with sq_split_strict() and checks it
 * against the verb table in serve.c: "volrep <verb> <args>" where every
 * argument matches the verb's grammar. Extending the whitelist = one row
 * in that table (plus its options array). */
#ifndef VOLREP_TRANSPORT_SERVE_H
#define VOLREP_TRANSPORT_SERVE_H

#include <stddef.h>

#include "base/strbuf.h"
#include "base/strvec.h"

/* Split and validate cmd (len bytes). On success appends the words after
 * "volrep" (verb first, then its arguments) to out and returns 0. On
 * refusal returns -EINVAL, leaves out unchanged and puts a one-line reason
 * into why (offending values are quoted, shortened and printable). */
int serve_parse(const char *cmd, size_t len, struct strvec *out, struct strbuf *why);

/* Validate already split words (words[0] must be "volrep"). Same results
 * as serve_parse. */
int serve_check(const char *const *words, struct strbuf *why);

#endif
