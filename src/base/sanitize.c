#include "base/sanitize.h"

#include <stdint.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (at most left bytes) and its
 * code point, or 0 when the bytes there are not one (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t left, uint32_t *cp)
{
	size_t n;
	uint32_t c, min;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2, c = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3, c = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4, c = s[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

static int shown_as_is(uint32_t cp)
{
	if (cp >= 0x80 && cp <= 0x9f)
		return 0;
	if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return 1;
}

void strbuf_add_sanitized(struct strbuf *dst, const char *s, size_t len, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		uint32_t cp;
		size_t n;

		if (*p < 0x80) {
			int keep = (*p >= 0x20 && *p != 0x7f) || *p == '\t' ||
				   (*p == '\n' && (flags & SANITIZE_KEEP_NEWLINE));

			strbuf_addch(dst, keep ? (char)*p : '?');
			p++;
			continue;
		}
		n = utf8_seq(p, (size_t)(end - p), &cp);
		if (!n) {
			strbuf_addch(dst, '?');
			p++;
		} else {
			if (shown_as_is(cp))
				strbuf_add(dst, (const char *)p, n);
			else
				strbuf_addch(dst, '?');
			p += n;
		}
	}
}

void strbuf_sanitize(struct strbuf *sb, unsigned flags)
{
	struct strbuf tmp = STRBUF_INIT;

	strbuf_add_sanitized(&tmp, sb->buf, sb->len, flags);
	strbuf_reset(sb);
	strbuf_add(sb, tmp.buf, tmp.len);
	strbuf_release(&tmp);
}
