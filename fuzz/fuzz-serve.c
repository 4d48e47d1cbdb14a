/* Fuzz target: the forced-command gate (sq_split_strict + serve_check)
 * and the ssh address check, on arbitrary bytes. Whatever is accepted
 * must survive a quote/split round trip unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/quote.h"
#include "transport/serve.h"
#include "transport/ssh.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strvec words = STRVEC_INIT, back = STRVEC_INIT;
	struct strbuf why = STRBUF_INIT, q = STRBUF_INIT;
	char *s = malloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	(void)ssh_valid_address(s);
	if (serve_parse((const char *)data, size, &words, &why) == 0) {
		strvec_push(&back, "volrep");
		strvec_pushv(&back, (const char *const *)words.v);
		sq_quote_argv(&q, (const char *const *)back.v);
		strvec_clear(&words);
		if (serve_parse(q.buf, q.len, &words, NULL) != 0)
			abort();
		for (size_t i = 0; i < words.nr; i++)
			if (strcmp(words.v[i], back.v[i + 1]))
				abort();
	}
	strvec_clear(&words);
	strvec_clear(&back);
	strbuf_release(&why);
	strbuf_release(&q);
	free(s);
	return 0;
}
