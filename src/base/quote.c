#include "base/quote.h"

#include <errno.h>
#include <string.h>

void sq_quote_buf(struct strbuf *dst, const char *word)
{
	strbuf_addch(dst, '\'');
	for (const char *p = word; *p; p++) {
		if (*p == '\'')
			strbuf_addstr(dst, "'\\''");
		else
			strbuf_addch(dst, *p);
	}
	strbuf_addch(dst, '\'');
}

void sq_quote_argv(struct strbuf *dst, const char *const *argv)
{
	for (size_t i = 0; argv[i]; i++) {
		if (dst->len)
			strbuf_addch(dst, ' ');
		sq_quote_buf(dst, argv[i]);
	}
}

static int is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int is_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("_-./:,=@+%", c));
}

static int refuse(struct strbuf *why, const char *msg, size_t pos)
{
	if (why) {
		strbuf_reset(why);
		strbuf_addf(why, "%s at offset %zu", msg, pos);
	}
	return -EINVAL;
}

int sq_split_strict(const char *s, size_t len, struct strvec *out, struct strbuf *why)
{
	struct strvec words = STRVEC_INIT;
	struct strbuf w = STRBUF_INIT;
	size_t i = 0;
	int r;

	if (len > SQ_SPLIT_MAX_LEN) {
		r = refuse(why, "command too long", SQ_SPLIT_MAX_LEN);
		goto out;
	}
	while (i < len) {
		int in_word = 0;

		while (i < len && s[i] == ' ')
			i++;
		if (i == len)
			break;
		strbuf_reset(&w);
		while (i < len && s[i] != ' ') {
			unsigned char c = (unsigned char)s[i];

			in_word = 1;
			if (c == '\'') {
				size_t start = ++i;

				while (i < len && s[i] != '\'') {
					if (is_ctl((unsigned char)s[i])) {
						r = refuse(why, "control character", i);
						goto out;
					}
					i++;
				}
				if (i == len) {
					r = refuse(why, "unterminated quote", start - 1);
					goto out;
				}
				strbuf_add(&w, s + start, i - start);
				i++;
			} else if (c == '\\') {
				if (i + 1 >= len || s[i + 1] != '\'') {
					r = refuse(why, "backslash not followed by a quote", i);
					goto out;
				}
				strbuf_addch(&w, '\'');
				i += 2;
			} else if (is_ctl(c)) {
				r = refuse(why, "control character", i);
				goto out;
			} else if (is_plain(c)) {
				strbuf_addch(&w, (char)c);
				i++;
			} else {
				r = refuse(why, "shell metacharacter", i);
				goto out;
			}
		}
		if (in_word) {
			if (words.nr >= SQ_SPLIT_MAX_WORDS) {
				r = refuse(why, "too many words", i);
				goto out;
			}
			strvec_push(&words, w.buf);
		}
	}
	r = (int)words.nr;
	for (size_t k = 0; k < words.nr; k++)
		strvec_push(out, words.v[k]);
out:
	strbuf_release(&w);
	strvec_clear(&words);
	return r;
}
