/* Fuzz target: arbitrary bytes as a compressed stream arriving at
 * `volrep import --compress` (src/exec/wire.c), fed to the decoder in
 * pieces whose size comes from the first input byte.
 * Invariants (abort on violation):
 *  - no emit passes more than WIRE_CHUNK_MAX bytes, and all of them
 *    together at most WIRE_CHUNK_MAX per 16 input bytes (the bound on
 *    expansion: no decompression bomb);
 *  - after an error the decoder stays failed;
 *  - a stream that decodes completely has emitted exactly the byte count
 *    of its end frame, and that data re-encoded with either codec decodes
 *    to the same bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	uint8_t *buf;
	size_t len, cap;
};

static int collect(void *arg, const void *buf, size_t len)
{
	struct sink *s = arg;

	if (len > WIRE_CHUNK_MAX)
		abort();
	if (s->len + len > s->cap) {
		s->cap = (s->len + len) * 2;
		s->buf = realloc(s->buf, s->cap);
		if (!s->buf)
			abort();
	}
	memcpy(s->buf + s->len, buf, len);
	s->len += len;
	return 0;
}

static void round_trip(enum wire_codec c, const struct sink *s)
{
	struct wire_enc *e = wire_enc_new(c, 1);
	struct wire_dec *d = wire_dec_new(c);
	uint8_t *out = malloc(wire_enc_bound(WIRE_CHUNK_MAX));
	struct sink back = { 0 };

	for (size_t off = 0; off < s->len; off += WIRE_CHUNK_MAX) {
		size_t n = s->len - off < WIRE_CHUNK_MAX ? s->len - off : WIRE_CHUNK_MAX;
		size_t k = wire_enc_chunk(e, s->buf + off, n, out);

		if (wire_dec_feed(d, out, k, collect, &back) < 0)
			abort();
	}
	if (wire_dec_feed(d, out, wire_enc_finish(e, out), collect, &back) < 0 || wire_dec_finish(d) < 0)
		abort();
	if (back.len != s->len || (s->len && memcmp(back.buf, s->buf, s->len)))
		abort();
	free(back.buf);
	free(out);
	wire_dec_free(d);
	wire_enc_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wire_dec *d;
	struct sink s = { 0 };
	size_t step;
	int r = 0;

	if (!size)
		return 0;
	step = (size_t)data[0] * 37 + 1;
	data++;
	size--;
	d = wire_dec_new(WIRE_NONE);
	for (size_t off = 0; off < size && !r; off += step)
		r = wire_dec_feed(d, data + off, size - off < step ? size - off : step, collect, &s);
	if (s.len > (size / 16 + 1) * WIRE_CHUNK_MAX)
		abort();
	if (r < 0) {
		if (wire_dec_feed(d, "x", 1, collect, &s) != r || wire_dec_finish(d) != r)
			abort();
	} else if (wire_dec_finish(d) == 0) {
		if (wire_dec_raw_bytes(d) != s.len)
			abort();
		round_trip(WIRE_ZSTD, &s);
		round_trip(WIRE_LZ4, &s);
	}
	wire_dec_free(d);
	free(s.buf);
	return 0;
}
