/* Fuzz target: arbitrary bytes as a webhook header file
 * (webhook_parse_headers, src/notify/webhook.h).
 * Invariants checked (abort on violation):
 *  - a failure explains itself as "<name>:<line>: ...";
 *  - every accepted header is "Name: value" with a token name and no
 *    control character but tab, so nothing can inject a header line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "notify/webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strvec h = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;

	if (webhook_parse_headers((const char *)data, size, "fuzz.hdr", &h, &err) == 0) {
		for (size_t i = 0; i < h.nr; i++) {
			const char *colon = strstr(h.v[i], ": ");

			if (!colon || colon == h.v[i] || strspn(h.v[i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") !=
								       (size_t)(colon - h.v[i]))
				abort();
			for (const char *p = h.v[i]; *p; p++)
				if ((unsigned char)*p < 0x20 && *p != '\t')
					abort();
		}
	} else if (strncmp(err.buf, "fuzz.hdr:", 9)) {
		abort();
	}
	strvec_clear(&h);
	strbuf_release(&err);
	return 0;
}
