/* OpenSSH key lines, for `volrep ssh-setup` and `volrep ssh-authorize`:
 * public keys, known_hosts entries (and ssh-keyscan's output, which is
 * the same format and comes from the network: hostile) and the
 * authorized_keys line with volrep's forced command.
 *
 * Only what volrep writes itself is accepted: a known key type, a
 * base64 blob, and (public keys) an optional comment of [A-Za-z0-9@._+-].
 * Nothing else of such a line ever reaches a file or a command line. */
#ifndef VOLREP_TRANSPORT_SSHKEYS_H
#define VOLREP_TRANSPORT_SSHKEYS_H

#include <stddef.h>

#include "base/strbuf.h"
#include "base/strvec.h"

#define SSHKEY_BLOB_MAX 16384
#define SSHKEY_COMMENT_MAX 64

/* 1 when s is a key type volrep accepts ("ssh-ed25519", "ssh-rsa",
 * "ecdsa-sha2-nistp256", ... and their sk- variants). */
int sshkey_valid_type(const char *s);

struct sshkey {
	char type[48];
	char blob[SSHKEY_BLOB_MAX + 1];
	char comment[SSHKEY_COMMENT_MAX + 1]; /* "" when there was none */
};

/* Parse "TYPE BLOB [COMMENT]" (one line, a trailing newline allowed) into
 * k. Returns 0, or -EINVAL naming the problem in err (may be NULL). */
int sshkey_parse_pub(const char *s, size_t len, struct sshkey *k, struct strbuf *err);

/* The keys of known_hosts-format text (ssh-keyscan's output, or
 * `ssh-keygen -F`'s): every line "HOSTS TYPE BLOB [...]" whose type and
 * blob are valid adds "TYPE BLOB" to keys; comments, markers
 * (@cert-authority, @revoked) and anything malformed are skipped.
 * Returns the number of keys added. */
size_t sshkey_parse_hosts(const char *text, size_t len, struct strvec *keys);

/* known_hosts line for the host key alias:  "ALIAS TYPE BLOB\n", where
 * key is a "TYPE BLOB" of sshkey_parse_hosts. */
void sshkey_known_hosts_line(struct strbuf *out, const char *alias, const char *key);

/* The authorized_keys line of a peer's key:
 *   command="volrep [--cluster URL ]serve --peer PEER",restrict TYPE BLOB COMMENT\n
 * (peer a valid node name; cluster NULL or sshkey_valid_cluster(); k from
 * sshkey_parse_pub). */
void sshkey_authorized_line(struct strbuf *out, const char *peer, const char *cluster, const struct sshkey *k);

/* 1 when a cluster store URL may go into a forced command: at most 512
 * characters of [A-Za-z0-9:/.,_@%+=-] (no quote, backslash or blank) and
 * not starting with '-'. Whether it names a usable store is for
 * `volrep --cluster` to say. */
int sshkey_valid_cluster(const char *url);

enum sshkey_merge { SSHKEY_ADDED, SSHKEY_REPLACED, SSHKEY_UNCHANGED };

/* New content of an authorized_keys file holding `existing` (may be
 * NULL) with `line` (from sshkey_authorized_line) for k: a line with the
 * same blob is replaced (its options were wrong or another peer's), or
 * line is appended. The other lines are kept byte for byte. Returns what
 * was done; out is replaced. */
enum sshkey_merge sshkey_merge_authorized(const char *existing, size_t len, const char *line,
					  const struct sshkey *k, struct strbuf *out);

#endif
