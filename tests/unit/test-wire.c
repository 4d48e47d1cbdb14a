/* Compression on the wire (exec/wire.h): round trips with both codecs,
 * raw chunks for incompressible data and the give-up logic, and a
 * decoder that refuses truncated, corrupt, mislabelled and hostile
 * streams (a frame that would expand beyond its bound); relay_pump with
 * an encoder. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "base/strbuf.h"
#include "exec/relay.h"
#include "exec/wire.h"

struct sink {
	uint8_t *buf;
	size_t len, cap;
	size_t max_call; /* largest emit */
};

static int collect(void *data, const void *buf, size_t len)
{
	struct sink *s = data;

	if (s->len + len > s->cap) {
		s->cap = (s->len + len) * 2;
		s->buf = realloc(s->buf, s->cap);
		assert_non_null(s->buf);
	}
	memcpy(s->buf + s->len, buf, len);
	s->len += len;
	if (len > s->max_call)
		s->max_call = len;
	return 0;
}

/* text-like: words from a small vocabulary, a line counter */
static uint8_t *text_data(size_t n)
{
	static const char *const words[] = { "replication ", "snapshot ", "volume ", "zfs ", "target ",
					     "incremental ", "stream ", "guest ", "node\n", "rate " };
	uint8_t *p = malloc(n);
	size_t off = 0;
	unsigned seed = 7;

	while (off < n) {
		char w[32];
		int k;

		seed = seed * 1103515245 + 12345;
		k = snprintf(w, sizeof(w), "%s%u ", words[(seed >> 16) % 10], (seed >> 8) % 100);
		for (int i = 0; i < k && off < n; i++)
			p[off++] = (uint8_t)w[i];
	}
	return p;
}

static uint8_t *random_data(size_t n)
{
	uint8_t *p = malloc(n);
	uint64_t x = 88172645463325252ULL;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)(x >> 24);
	}
	return p;
}

/* Encode data in chunks of up to chunk bytes. */
static uint8_t *encode(enum wire_codec c, const uint8_t *data, size_t n, size_t chunk, size_t *out_len,
		       struct wire_enc_stats *st)
{
	struct wire_enc *e = wire_enc_new(c, 3);
	uint8_t *out = malloc(wire_enc_bound(WIRE_CHUNK_MAX) * (n / chunk + 2) + 64);
	size_t len = 0;

	for (size_t off = 0; off < n; off += chunk)
		len += wire_enc_chunk(e, data + off, n - off < chunk ? n - off : chunk, out + len);
	len += wire_enc_finish(e, out + len);
	if (st)
		*st = *wire_enc_stats(e);
	wire_enc_free(e);
	*out_len = len;
	return out;
}

/* Decode in pieces of step bytes; returns feed/finish's result. */
static int decode(enum wire_codec want, const uint8_t *wire, size_t n, size_t step, struct sink *s)
{
	struct wire_dec *d = wire_dec_new(want);
	int r = 0;

	for (size_t off = 0; off < n && !r; off += step)
		r = wire_dec_feed(d, wire + off, n - off < step ? n - off : step, collect, s);
	if (!r)
		r = wire_dec_finish(d);
	wire_dec_free(d);
	return r;
}

static void round_trip(enum wire_codec c)
{
	size_t n = 700 * 1000, wl;
	uint8_t *data = text_data(n);
	struct wire_enc_stats st;
	uint8_t *wire = encode(c, data, n, WIRE_CHUNK_MAX, &wl, &st);
	struct sink s = { 0 };

	assert_int_equal(st.raw, n);
	assert_int_equal(st.wire, wl);
	assert_int_equal(st.raw_chunks, 0);
	/* text compresses well beyond 2x with either codec */
	assert_true(wl * 2 < n);
	assert_int_equal(decode(c, wire, wl, 997, &s), 0);
	assert_int_equal(s.len, n);
	assert_memory_equal(s.buf, data, n);
	assert_true(s.max_call <= WIRE_CHUNK_MAX);
	/* any codec accepted when none is demanded; the other one refused */
	s.len = 0;
	assert_int_equal(decode(WIRE_NONE, wire, wl, wl, &s), 0);
	assert_int_equal(s.len, n);
	assert_int_equal(decode(c == WIRE_ZSTD ? WIRE_LZ4 : WIRE_ZSTD, wire, wl, wl, &s), -EBADMSG);
	free(s.buf);
	free(wire);
	free(data);
}

static void test_round_trip_zstd(void **state)
{
	(void)state;
	round_trip(WIRE_ZSTD);
}

static void test_round_trip_lz4(void **state)
{
	(void)state;
	round_trip(WIRE_LZ4);
}

static void test_empty_stream(void **state)
{
	uint8_t out[64];
	struct wire_enc *e = wire_enc_new(WIRE_LZ4, 0);
	size_t n = wire_enc_finish(e, out);
	struct sink s = { 0 };

	(void)state;
	assert_int_equal(n, WIRE_HEADER_LEN + WIRE_FRAME_HDR + 8);
	assert_int_equal(decode(WIRE_LZ4, out, n, 1, &s), 0);
	assert_int_equal(s.len, 0);
	wire_enc_free(e);
}

/* incompressible data: raw chunks, then no more attempts for a while;
 * the overhead is the frame headers only */
static void test_incompressible(void **state)
{
	size_t n = 100 * WIRE_CHUNK_MAX, wl;
	uint8_t *data = random_data(n);
	struct wire_enc_stats st;
	uint8_t *wire = encode(WIRE_ZSTD, data, n, WIRE_CHUNK_MAX, &wl, &st);
	struct sink s = { 0 };

	(void)state;
	assert_int_equal(st.chunks, 100);
	assert_int_equal(st.raw_chunks, 100);
	/* 8 tried, 64 untried, then tried again: 8 more, 20 untried */
	assert_int_equal(st.skipped, 84);
	assert_int_equal(wl, WIRE_HEADER_LEN + 100 * WIRE_FRAME_HDR + n + WIRE_FRAME_HDR + 8);
	assert_int_equal(decode(WIRE_ZSTD, wire, wl, 65536, &s), 0);
	assert_int_equal(s.len, n);
	assert_memory_equal(s.buf, data, n);
	free(s.buf);
	free(wire);
	free(data);
}

/* compressible data after incompressible: compression resumes */
static void test_resumes(void **state)
{
	size_t n = 80 * WIRE_CHUNK_MAX, wl;
	uint8_t *data = random_data(n), *text = text_data(n / 2);
	struct wire_enc_stats st;
	uint8_t *wire;

	(void)state;
	memcpy(data + n / 2, text, n / 2);
	wire = encode(WIRE_LZ4, data, n, WIRE_CHUNK_MAX, &wl, &st);
	/* 8 tried + 64 untried cover 72 chunks: the last 8 (text) compressed */
	assert_int_equal(st.raw_chunks, 72);
	assert_true(wl < n - 4 * WIRE_CHUNK_MAX);
	free(wire);
	free(text);
	free(data);
}

static void test_truncated(void **state)
{
	size_t n = 300 * 1000, wl;
	uint8_t *data = text_data(n);
	uint8_t *wire = encode(WIRE_ZSTD, data, n, WIRE_CHUNK_MAX, &wl, NULL);
	struct sink s = { 0 };
	struct wire_dec *d;

	(void)state;
	/* every cut: in the header, a frame header, a payload, before the
	 * end frame, inside it */
	for (size_t cut = 0; cut < wl; cut += cut < 64 ? 1 : 211) {
		s.len = 0;
		if (decode(WIRE_ZSTD, wire, cut, 4096, &s) != -EBADMSG)
			fail_msg("cut at %zu of %zu decoded", cut, wl);
		assert_true(s.len < n);
	}
	/* without the end frame, the last chunk is held back */
	s.len = 0;
	d = wire_dec_new(WIRE_ZSTD);
	assert_int_equal(wire_dec_feed(d, wire, wl - 24, collect, &s), 0);
	assert_int_equal(s.len, n - n % WIRE_CHUNK_MAX);
	assert_memory_equal(s.buf, data, s.len);
	assert_int_equal(wire_dec_finish(d), -EBADMSG);
	assert_non_null(strstr(wire_dec_error(d), "truncated"));
	wire_dec_free(d);
	/* something after the end frame */
	wire = realloc(wire, wl + 1);
	wire[wl] = 'x';
	assert_int_equal(decode(WIRE_ZSTD, wire, wl + 1, wl + 1, &s), -EBADMSG);
	free(s.buf);
	free(wire);
	free(data);
}

static void test_corrupt(void **state)
{
	size_t n = 300 * 1000, wl;
	uint8_t *data = text_data(n), *rnd = random_data(2 * WIRE_CHUNK_MAX);
	struct sink s = { 0 };

	(void)state;
	for (int c = WIRE_ZSTD; c <= WIRE_LZ4; c++) {
		uint8_t *wire = encode((enum wire_codec)c, data, n, WIRE_CHUNK_MAX, &wl, NULL);

		/* a flipped bit anywhere is noticed, unless it does not
		 * change the data (a bit of zstd's frame header that a
		 * single-shot decoder ignores) */
		for (size_t at = 0; at < wl; at += at < 64 ? 1 : 197) {
			wire[at] ^= 0x10;
			s.len = 0;
			if (decode((enum wire_codec)c, wire, wl, wl, &s) != -EBADMSG &&
			    (s.len != n || memcmp(s.buf, data, n)))
				fail_msg("codec %d: flip at %zu of %zu accepted", c, at, wl);
			wire[at] ^= 0x10;
		}
		free(wire);
	}
	/* raw chunks are checked as well */
	{
		uint8_t *wire = encode(WIRE_LZ4, rnd, 2 * WIRE_CHUNK_MAX, WIRE_CHUNK_MAX, &wl, NULL);

		wire[WIRE_HEADER_LEN + WIRE_FRAME_HDR + 1000] ^= 1;
		assert_int_equal(decode(WIRE_LZ4, wire, wl, wl, &s), -EBADMSG);
		free(wire);
	}
	free(s.buf);
	free(rnd);
	free(data);
}

static size_t put_frame(uint8_t *p, char type, uint32_t raw_len, uint32_t wire_len, uint32_t crc)
{
	p[0] = (uint8_t)type;
	p[1] = p[2] = p[3] = 0;
	for (int i = 0; i < 4; i++) {
		p[4 + i] = (uint8_t)(raw_len >> (24 - 8 * i));
		p[8 + i] = (uint8_t)(wire_len >> (24 - 8 * i));
		p[12 + i] = (uint8_t)(crc >> (24 - 8 * i));
	}
	return WIRE_FRAME_HDR;
}

/* A decompression bomb: a small zstd frame of 16 MiB of zeros; labelled
 * with its true size it is over the bound, labelled within the bound
 * it does not fit. Neither produces a byte. */
static void test_bomb(void **state)
{
	size_t big = 16u << 20, zb = ZSTD_compressBound(big), zn;
	uint8_t *zeros = calloc(1, big), *z = malloc(zb), *wire = malloc(zb + 64);
	struct sink s = { 0 };
	size_t off;

	(void)state;
	zn = ZSTD_compress(z, zb, zeros, big, 3);
	assert_false(ZSTD_isError(zn));
	assert_true(zn < 4096);
	memcpy(wire, "VRW1\1\0\0\0", 8);
	for (int label = 0; label < 2; label++) {
		uint32_t raw_len = label ? WIRE_CHUNK_MAX : (uint32_t)big;

		off = 8 + put_frame(wire + 8, 'Z', raw_len, (uint32_t)zn, wire_crc32(0, zeros, raw_len));
		memcpy(wire + off, z, zn);
		s.len = 0;
		assert_int_equal(decode(WIRE_ZSTD, wire, off + zn, 4096, &s), -EBADMSG);
		assert_int_equal(s.len, 0);
	}
	/* lz4 likewise: a frame claiming more than it decodes to, or less */
	memcpy(wire, "VRW1\2\0\0\0", 8);
	off = 8 + put_frame(wire + 8, 'Z', 100, 50, 0);
	memset(wire + off, 0x1f, 50);
	assert_int_equal(decode(WIRE_LZ4, wire, off + 50, 7, &s), -EBADMSG);
	/* frame lengths: empty, raw with a different wire length, a
	 * "compressed" frame that is not smaller, an unknown type */
	off = 8 + put_frame(wire + 8, 'R', 0, 0, 0);
	assert_int_equal(decode(WIRE_LZ4, wire, off, off, &s), -EBADMSG);
	off = 8 + put_frame(wire + 8, 'R', 10, 11, 0);
	assert_int_equal(decode(WIRE_LZ4, wire, off, off, &s), -EBADMSG);
	off = 8 + put_frame(wire + 8, 'Z', 10, 10, 0);
	assert_int_equal(decode(WIRE_LZ4, wire, off, off, &s), -EBADMSG);
	off = 8 + put_frame(wire + 8, 'X', 10, 10, 0);
	assert_int_equal(decode(WIRE_LZ4, wire, off, off, &s), -EBADMSG);
	/* the end frame must state the bytes that arrived */
	{
		uint8_t total[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };

		off = 8 + put_frame(wire + 8, 'E', 0, 8, wire_crc32(0, total, 8));
		memcpy(wire + off, total, 8);
		assert_int_equal(decode(WIRE_LZ4, wire, off + 8, 3, &s), -EBADMSG);
		total[7] = 0;
		off = 8 + put_frame(wire + 8, 'E', 0, 8, wire_crc32(0, total, 8));
		memcpy(wire + off, total, 8);
		assert_int_equal(decode(WIRE_LZ4, wire, off + 8, 3, &s), 0);
	}
	/* not a wire stream at all (a plain zfs stream sent to --compress) */
	assert_int_equal(decode(WIRE_NONE, zeros, 4096, 4096, &s), -EBADMSG);
	free(s.buf);
	free(wire);
	free(z);
	free(zeros);
}

static void test_codec_names(void **state)
{
	enum wire_codec c;

	(void)state;
	assert_int_equal(wire_codec_parse("zstd", &c), 0);
	assert_int_equal(c, WIRE_ZSTD);
	assert_int_equal(wire_codec_parse("lz4", &c), 0);
	assert_int_equal(c, WIRE_LZ4);
	assert_int_equal(wire_codec_parse("none", &c), 0);
	assert_int_equal(c, WIRE_NONE);
	assert_int_equal(wire_codec_parse("gzip", &c), -EINVAL);
	assert_int_equal(wire_codec_parse("ZSTD", &c), -EINVAL);
	assert_string_equal(wire_codec_name(WIRE_LZ4), "lz4");
	/* the standard check value of CRC-32 */
	assert_int_equal(wire_crc32(0, "123456789", 9), 0xcbf43926u);
}

struct feeder {
	int fd;
	const uint8_t *data;
	size_t n;
};

static void *feed(void *arg)
{
	struct feeder *f = arg;

	for (size_t off = 0; off < f->n;) {
		ssize_t k = write(f->fd, f->data + off, f->n - off < 10000 ? f->n - off : 10000);

		if (k <= 0)
			break;
		off += (size_t)k;
	}
	close(f->fd);
	return NULL;
}

/* relay_pump compresses on the way; what arrives decodes to the input,
 * and the stats tell the stream bytes from the wire bytes */
static void test_pump_compresses(void **state)
{
	size_t n = 1000 * 1000;
	uint8_t *data = text_data(n);
	int in[2], out[2];
	struct feeder f;
	pthread_t th;
	struct relay_opts o = RELAY_OPTS_INIT;
	struct relay_stats st;
	struct relay_side side;
	struct strbuf got = STRBUF_INIT;
	struct sink s = { 0 };

	(void)state;
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	f = (struct feeder){ .fd = in[1], .data = data, .n = n };
	assert_int_equal(pthread_create(&th, NULL, feed, &f), 0);
	o.enc = wire_enc_new(WIRE_ZSTD, 3);
	/* the side collects what pump writes: read by the same loop */
	side = (struct relay_side){ .fd = out[0], .buf = &got, .max = n, .overflow = 0 };
	assert_int_equal(relay_pump(in[0], out[1], &o, &side, 1, &st), 0);
	pthread_join(th, NULL);
	assert_int_equal(st.bytes, n);
	assert_int_equal(st.wire, got.len);
	assert_true(st.wire * 2 < st.bytes);
	assert_int_equal(decode(WIRE_ZSTD, (const uint8_t *)got.buf, got.len, 8192, &s), 0);
	assert_int_equal(s.len, n);
	assert_memory_equal(s.buf, data, n);
	wire_enc_free(o.enc);
	close(in[0]);
	free(s.buf);
	strbuf_release(&got);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec_names),
		cmocka_unit_test(test_round_trip_zstd),
		cmocka_unit_test(test_round_trip_lz4),
		cmocka_unit_test(test_empty_stream),
		cmocka_unit_test(test_incompressible),
		cmocka_unit_test(test_resumes),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_corrupt),
		cmocka_unit_test(test_bomb),
		cmocka_unit_test(test_pump_compresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
