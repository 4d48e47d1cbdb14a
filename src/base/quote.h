/* Quoting words for a POSIX shell, and splitting them back strictly.
 *
 * sq_quote_*() (after git's quote.c) wrap a word in single quotes and turn
 * every embedded ' into '\'' so that a remote shell (ssh always runs the
 * command through the user's shell) sees exactly the original bytes.
 *
 * sq_split_strict() is the inverse used by "volrep serve": it understands
 * exactly the syntax sq_quote_argv() produces and nothing more, so a
 * forced command never has to trust a shell with an attacker's string. */
#ifndef VOLREP_BASE_QUOTE_H
#define VOLREP_BASE_QUOTE_H

#include <stddef.h>

#include "base/strbuf.h"
#include "base/strvec.h"

/* Append 'word' quoted: abc -> 'abc', it's -> 'it'\''s' */
void sq_quote_buf(struct strbuf *dst, const char *word);
/* Append each word of the NULL-terminated argv quoted, separated by one
 * space (a leading space is added when dst is not empty). */
void sq_quote_argv(struct strbuf *dst, const char *const *argv);

/* Limits of sq_split_strict: a forced command line longer than this, or
 * with more words, is hostile or broken (set-state's JSON is the longest
 * legitimate argument, a few KiB). */
#define SQ_SPLIT_MAX_LEN 65536
#define SQ_SPLIT_MAX_WORDS 256

/* Split s (len bytes, need not be NUL-terminated) into words, appended to
 * out. Accepted syntax, nothing else:
 *   - words separated by one or more spaces (' ' only);
 *   - a word is a concatenation of: '...' (any byte except ' and control
 *     characters), \' (a literal quote, as in '\''), and the unquoted
 *     characters [A-Za-z0-9] and _ - . / : , = @ + %.
 * Refused: control characters anywhere (newline, tab, NUL, DEL, ...), any
 * other unquoted character (shell metacharacters such as ; & | < > $ `
 * ( ) { } * ? [ ] ~ # ! " \ ), an unterminated quote, input over
 * SQ_SPLIT_MAX_LEN, more than SQ_SPLIT_MAX_WORDS words.
 * Returns the number of words added, or -EINVAL (why, when non-NULL, gets
 * a short reason without echoing the input) and out is left as it was. */
int sq_split_strict(const char *s, size_t len, struct strvec *out, struct strbuf *why);

#endif
