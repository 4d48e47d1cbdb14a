/* Text from elsewhere (a remote command's stderr, a config file, a
 * stream's names) made safe to show: in job logs, warnings, status.
 *
 * A terminal interprets more than ESC: C1 controls (U+0080..U+009F, raw
 * 0x9B is CSI on many terminals), CR, BS; a log viewer may take invalid
 * UTF-8 for Latin-1 and show those C1 bytes raw. The rule:
 *   - printable ASCII and tab are kept;
 *   - C0 controls (other than tab; newline only where the caller allows
 *     it) and DEL become '?';
 *   - valid UTF-8 multibyte sequences are kept (names in non-Latin
 *     scripts stay readable), except the C1 code points U+0080..U+009F
 *     and the bidirectional overrides/isolates (U+202A..U+202E,
 *     U+2066..U+2069) that can make a line display other than it reads:
 *     each becomes one '?';
 *   - every byte of an invalid sequence (stray continuation bytes,
 *     overlong forms, surrogates, beyond U+10FFFF, truncated) becomes
 *     '?'. */
#ifndef VOLREP_BASE_SANITIZE_H
#define VOLREP_BASE_SANITIZE_H

#include <stddef.h>

#include "base/strbuf.h"

#define SANITIZE_KEEP_NEWLINE 0x1

/* Append s (len bytes) to dst, sanitized as above. */
void strbuf_add_sanitized(struct strbuf *dst, const char *s, size_t len, unsigned flags);

/* Sanitize sb in place. */
void strbuf_sanitize(struct strbuf *sb, unsigned flags);

#endif
