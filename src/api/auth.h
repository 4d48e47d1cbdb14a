/* API authentication: tokens and login tickets.
 *
 * Tokens (PVE's "PVEAPIToken=USER@REALM!TOKENID=SECRET") are kept in
 * <state_dir>/api-tokens, node-local, mode 0600, one line per token:
 *     USER@REALM!TOKENID r|w SALT HASH
 * where HASH is PBKDF2-HMAC-SHA256 (API_PBKDF2_ITER rounds) of the secret
 * with the 16-byte SALT, both hex. The file is rewritten atomically under
 * <state_dir>/api-tokens.lck and refused when it is not a regular file of
 * ours with mode 0600 (or stricter). A read-only token ('r') may only GET.
 *
 * Tickets (POST /access/ticket, cookie PVEAuthCookie) are
 *     VOLREP:<token id>:<hex time>:<r|w>::<hex HMAC-SHA256>
 * signed with <state_dir>/api-ticket.key (32 random bytes, created on
 * first use), valid API_TICKET_LIFETIME seconds. The CSRFPreventionToken
 * that goes with it is "<hex time>:<hex HMAC of 'csrf' and the token id>". */
#ifndef VOLREP_API_AUTH_H
#define VOLREP_API_AUTH_H

#include <stdint.h>

#include "base/strbuf.h"
#include "base/strvec.h"

#define API_TICKET_LIFETIME 7200
#define API_PBKDF2_ITER 10000

/* USER@REALM!TOKENID: user and realm [A-Za-z0-9._-], token id
 * [A-Za-z][A-Za-z0-9._-]*, at most 128 bytes in all. */
int api_token_id_valid(const char *id);

/* Add token id (-EEXIST when it exists), write access if write; its
 * secret (a random UUID) goes to *secret. */
int api_token_add(const char *state_dir, const char *id, int write, struct strbuf *secret, struct strbuf *err);
/* Remove token id (-ENOENT when there is none). */
int api_token_remove(const char *state_dir, const char *id, struct strbuf *err);
/* "ID r|w" per token, in file order. */
int api_token_list(const char *state_dir, struct strvec *out, struct strbuf *err);
/* Check id and secret: 0 and *write, -EACCES (wrong or unknown), or
 * another -errno (an unreadable or unsafe file, said in err). */
int api_token_verify(const char *state_dir, const char *id, const char *secret, int *write, struct strbuf *err);
/* Parse "PVEAPIToken=ID=SECRET" (also "PVEAPIToken ID=SECRET"): -EINVAL
 * or 0 with id and secret. */
int api_token_header_parse(const char *h, struct strbuf *id, struct strbuf *secret);

/* Ticket and CSRF token of id at time now. */
int api_ticket_make(const char *state_dir, const char *id, int write, int64_t now, struct strbuf *ticket,
		    struct strbuf *csrf, struct strbuf *err);
/* Check ticket at now: 0 with *id and *write, or -EACCES. */
int api_ticket_verify(const char *state_dir, const char *ticket, int64_t now, struct strbuf *id, int *write);
/* Check the CSRF token of id at now: 0 or -EACCES. */
int api_csrf_verify(const char *state_dir, const char *id, const char *csrf, int64_t now);

/* Keyed variants without files, for the unit tests. */
void api_ticket_sign(const uint8_t key[32], const char *id, int write, int64_t t, struct strbuf *ticket,
		     struct strbuf *csrf);
int api_ticket_check(const uint8_t key[32], const char *ticket, int64_t now, struct strbuf *id, int *write);
int api_csrf_check(const uint8_t key[32], const char *id, const char *csrf, int64_t now);
/* PBKDF2 of secret with salt, hex (64 characters) into out. */
void api_token_hash(const uint8_t salt[16], const char *secret, char out[65]);

#endif
