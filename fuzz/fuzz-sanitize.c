/* Fuzz target: arbitrary bytes through strbuf_add_sanitized()
 * (src/base/sanitize.h), the filter between remote or file text and
 * job logs, warnings and status.
 * Invariants checked (abort on violation):
 *  - the output is valid UTF-8 without C0 controls (tab, and newline
 *    when asked for, excepted), DEL, C1 code points or bidi controls;
 *  - each input byte yields at most one output byte (never longer);
 *  - sanitizing the output again changes nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/sanitize.h"
#include "base/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_clean(const struct strbuf *sb, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)sb->buf, *end = p + sb->len;

	while (p < end) {
		uint32_t cp;
		size_t n;

		if (*p < 0x80) {
			if ((*p < 0x20 && *p != '\t' && !(*p == '\n' && (flags & SANITIZE_KEEP_NEWLINE))) ||
			    *p == 0x7f)
				abort();
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf)
			n = 2, cp = *p & 0x1f;
		else if (*p >= 0xe0 && *p <= 0xef)
			n = 3, cp = *p & 0x0f;
		else if (*p >= 0xf0 && *p <= 0xf4)
			n = 4, cp = *p & 0x07;
		else
			abort();
		if ((size_t)(end - p) < n)
			abort();
		for (size_t i = 1; i < n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				abort();
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f) ||
		    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
			abort();
		p += n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (unsigned flags = 0; flags <= SANITIZE_KEEP_NEWLINE; flags += SANITIZE_KEEP_NEWLINE) {
		struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

		strbuf_add_sanitized(&a, (const char *)data, size, flags);
		if (a.len > size || strlen(a.buf) != a.len)
			abort();
		check_clean(&a, flags);
		strbuf_add_sanitized(&b, a.buf, a.len, flags);
		if (b.len != a.len || memcmp(a.buf, b.buf, a.len))
			abort();
		strbuf_release(&a);
		strbuf_release(&b);
	}
	return 0;
}
