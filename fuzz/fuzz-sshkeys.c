/* Fuzz target: OpenSSH key lines (src/transport/sshkeys.c): ssh-keyscan's
 * output from the network, known_hosts entries, public key files.
 * Invariants checked (abort on violation):
 *  - every key sshkey_parse_hosts() returns parses again as a public key
 *    and holds no character outside the type and base64 alphabets;
 *  - a parsed public key's authorized_keys line is one line, and merging
 *    it into the input twice changes nothing the second time. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "transport/sshkeys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct strvec keys = STRVEC_INIT;
	struct strbuf line = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;
	struct sshkey k;
	size_t n = sshkey_parse_hosts(text, size, &keys);

	if (n != keys.nr)
		abort();
	for (size_t i = 0; i < keys.nr; i++) {
		if (sshkey_parse_pub(keys.v[i], strlen(keys.v[i]), &k, NULL) < 0 ||
		    strspn(keys.v[i], "abcdefghijklmnopqrstuvwxyz0123456789-@. ABCDEFGHIJKLMNOPQRSTUVWXYZ+/=") !=
			    strlen(keys.v[i]))
			abort();
	}
	if (sshkey_parse_pub(text, size, &k, NULL) == 0) {
		sshkey_authorized_line(&line, "pve1", NULL, &k);
		if (strchr(line.buf, '\n') != line.buf + line.len - 1)
			abort();
		sshkey_merge_authorized(NULL, 0, line.buf, &k, &a);
		if (sshkey_merge_authorized(a.buf, a.len, line.buf, &k, &b) != SSHKEY_UNCHANGED || strcmp(a.buf, b.buf))
			abort();
	}
	strvec_clear(&keys);
	strbuf_release(&line);
	strbuf_release(&a);
	strbuf_release(&b);
	return 0;
}
