/* Fuzz target: arbitrary bytes as what a VM's guest agent sends back
 * (qga_parse_reply, src/engine/qga.h), and as a guest config's `agent:`
 * option (pve_agent_freeze_wanted, src/engine/pveguest.h); the guest
 * writes the first, the second comes from a file other nodes write.
 * Invariants checked (abort on violation):
 *  - the parser answers 1, 0 or -EPROTO, and 0 only below QGA_REPLY_MAX;
 *  - -EPROTO comes with a message, 1 with a reply whose word holds only
 *    [a-z-] and whose error text is NUL-terminated printable text;
 *  - the agent option parses to 1, 0 or -EINVAL. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "engine/pveguest.h"
#include "engine/qga.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct qga_reply rep;
	char *s;
	int r = qga_parse_reply((const char *)data, size, 7, &rep, &err);

	if (r != 1 && r != 0 && r != -EPROTO)
		abort();
	if (r == 0 && size >= QGA_REPLY_MAX)
		abort();
	if (r == -EPROTO && !err.len)
		abort();
	if (r == 1) {
		if (strspn(rep.word, "abcdefghijklmnopqrstuvwxyz-") != strlen(rep.word))
			abort();
		if (!memchr(rep.desc, 0, sizeof(rep.desc)))
			abort();
		for (const char *p = rep.desc; *p; p++)
			if ((unsigned char)*p < 0x20 && *p != '\t')
				abort();
	}
	strbuf_release(&err);
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	r = pve_agent_freeze_wanted(s);
	if (r != 1 && r != 0 && r != -EINVAL)
		abort();
	free(s);
	return 0;
}
