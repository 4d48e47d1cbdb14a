#include "exec/wire.h"

#include <errno.h>
#include <lz4.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "base/log.h"
#include "base/xalloc.h"

static const char magic[4] = { 'V', 'R', 'W', '1' };

int wire_codec_parse(const char *s, enum wire_codec *c)
{
	if (!s)
		return -EINVAL;
	if (!strcmp(s, "none"))
		*c = WIRE_NONE;
	else if (!strcmp(s, "zstd"))
		*c = WIRE_ZSTD;
	else if (!strcmp(s, "lz4"))
		*c = WIRE_LZ4;
	else
		return -EINVAL;
	return 0;
}

const char *wire_codec_name(enum wire_codec c)
{
	switch (c) {
	case WIRE_ZSTD:
		return "zstd";
	case WIRE_LZ4:
		return "lz4";
	default:
		return "none";
	}
}

/* CRC-32 (IEEE, reflected), table driven, slicing by one byte: fast
 * enough next to a compressor, no extra dependency. */
static uint32_t crc_table[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t wire_crc32(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!crc_table[1])
		crc_init();
	crc = ~crc;
	while (len--)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void frame_header(uint8_t *p, char type, uint32_t raw_len, uint32_t wire_len, uint32_t crc)
{
	p[0] = (uint8_t)type;
	p[1] = p[2] = p[3] = 0;
	put32(p + 4, raw_len);
	put32(p + 8, wire_len);
	put32(p + 12, crc);
}

struct wire_enc {
	enum wire_codec codec;
	int level;
	int started;
	unsigned misses; /* chunks in a row that did not shrink */
	unsigned skip;   /* chunks still to send untried */
	ZSTD_CCtx *zc;
	uint8_t *tmp;
	size_t tmp_size;
	struct wire_enc_stats st;
};

struct wire_enc *wire_enc_new(enum wire_codec codec, int level)
{
	struct wire_enc *e = xcalloc(1, sizeof(*e));

	e->codec = codec;
	e->level = level > 0 ? level : 3;
	if (codec == WIRE_ZSTD) {
		e->zc = ZSTD_createCCtx();
		if (!e->zc)
			die_code(1, "out of memory");
		e->tmp_size = ZSTD_compressBound(WIRE_CHUNK_MAX);
	} else {
		e->tmp_size = (size_t)LZ4_compressBound(WIRE_CHUNK_MAX);
	}
	e->tmp = xmalloc(e->tmp_size);
	return e;
}

void wire_enc_free(struct wire_enc *e)
{
	if (!e)
		return;
	ZSTD_freeCCtx(e->zc);
	free(e->tmp);
	free(e);
}

size_t wire_enc_bound(size_t len)
{
	return WIRE_HEADER_LEN + WIRE_FRAME_HDR + len;
}

static size_t start(struct wire_enc *e, uint8_t *out)
{
	if (e->started)
		return 0;
	e->started = 1;
	memcpy(out, magic, 4);
	out[4] = (uint8_t)e->codec;
	out[5] = out[6] = out[7] = 0;
	return WIRE_HEADER_LEN;
}

/* Compressed size, or 0 when the chunk did not shrink by more than 3 %. */
static size_t try_compress(struct wire_enc *e, const void *raw, size_t len)
{
	size_t n, want = len - len * 3 / 100 - 1;

	if (e->codec == WIRE_ZSTD) {
		n = ZSTD_compressCCtx(e->zc, e->tmp, e->tmp_size, raw, len, e->level);
		if (ZSTD_isError(n))
			return 0;
	} else {
		int r = LZ4_compress_default(raw, (char *)e->tmp, (int)len, (int)e->tmp_size);

		if (r <= 0)
			return 0;
		n = (size_t)r;
	}
	return n <= want ? n : 0;
}

size_t wire_enc_chunk(struct wire_enc *e, const void *raw, size_t len, uint8_t *out)
{
	size_t off = start(e, out), n = 0;
	uint32_t crc = wire_crc32(0, raw, len);

	if (e->skip) {
		e->skip--;
		e->st.skipped++;
	} else if ((n = try_compress(e, raw, len))) {
		e->misses = 0;
	} else if (++e->misses >= WIRE_GIVEUP_AFTER) {
		/* incompressible (already compressed, encrypted): stop
		 * spending CPU on it for a while */
		e->misses = 0;
		e->skip = WIRE_SKIP_CHUNKS;
	}
	e->st.chunks++;
	if (n) {
		frame_header(out + off, 'Z', (uint32_t)len, (uint32_t)n, crc);
		memcpy(out + off + WIRE_FRAME_HDR, e->tmp, n);
	} else {
		e->st.raw_chunks++;
		n = len;
		frame_header(out + off, 'R', (uint32_t)len, (uint32_t)len, crc);
		memcpy(out + off + WIRE_FRAME_HDR, raw, len);
	}
	e->st.raw += len;
	e->st.wire += off + WIRE_FRAME_HDR + n;
	return off + WIRE_FRAME_HDR + n;
}

size_t wire_enc_finish(struct wire_enc *e, uint8_t *out)
{
	size_t off = start(e, out);
	uint8_t total[8];

	for (int i = 0; i < 8; i++)
		total[i] = (uint8_t)(e->st.raw >> (56 - 8 * i));
	frame_header(out + off, 'E', 0, 8, wire_crc32(0, total, 8));
	memcpy(out + off + WIRE_FRAME_HDR, total, 8);
	e->st.wire += off + WIRE_FRAME_HDR + 8;
	return off + WIRE_FRAME_HDR + 8;
}

const struct wire_enc_stats *wire_enc_stats(const struct wire_enc *e)
{
	return &e->st;
}

/* decoder */

enum dec_state { D_HEADER, D_FRAME, D_PAYLOAD, D_DONE, D_ERROR };

struct wire_dec {
	enum wire_codec want, codec;
	enum dec_state state;
	uint8_t hdr[WIRE_FRAME_HDR];
	size_t have;     /* bytes of hdr or payload collected */
	char type;
	uint32_t raw_len, wire_len, crc;
	uint64_t raw_total;
	ZSTD_DCtx *zd;
	uint8_t *payload, *out, *tmp;
	size_t held;     /* bytes of the last good frame in out, not yet emitted */
	int err;
	char msg[160];
};

struct wire_dec *wire_dec_new(enum wire_codec want)
{
	struct wire_dec *d = xcalloc(1, sizeof(*d));

	d->want = want;
	d->payload = xmalloc(WIRE_CHUNK_MAX);
	d->out = xmalloc(WIRE_CHUNK_MAX);
	d->tmp = xmalloc(WIRE_CHUNK_MAX);
	return d;
}

void wire_dec_free(struct wire_dec *d)
{
	if (!d)
		return;
	ZSTD_freeDCtx(d->zd);
	free(d->payload);
	free(d->out);
	free(d->tmp);
	free(d);
}

const char *wire_dec_error(const struct wire_dec *d)
{
	return d->msg;
}

uint64_t wire_dec_raw_bytes(const struct wire_dec *d)
{
	return d->raw_total;
}

static int bad(struct wire_dec *d, const char *fmt, unsigned long long v)
{
	snprintf(d->msg, sizeof(d->msg), fmt, v);
	d->state = D_ERROR;
	d->err = -EBADMSG;
	return d->err;
}

static int check_header(struct wire_dec *d)
{
	if (memcmp(d->hdr, magic, 4))
		return bad(d, "compressed stream: bad magic (not a volrep wire stream)%.0llu", 0);
	if (d->hdr[4] != WIRE_ZSTD && d->hdr[4] != WIRE_LZ4)
		return bad(d, "compressed stream: unknown codec %llu", d->hdr[4]);
	if (d->want != WIRE_NONE && d->hdr[4] != d->want)
		return bad(d, "compressed stream: codec %llu, not the one announced", d->hdr[4]);
	if (d->hdr[5] || d->hdr[6] || d->hdr[7])
		return bad(d, "compressed stream: bad header flags%.0llu", 0);
	d->codec = d->hdr[4];
	if (d->codec == WIRE_ZSTD && !d->zd) {
		d->zd = ZSTD_createDCtx();
		if (!d->zd)
			return bad(d, "compressed stream: out of memory%.0llu", 0);
	}
	d->state = D_FRAME;
	return 0;
}

static int check_frame(struct wire_dec *d)
{
	d->type = (char)d->hdr[0];
	d->raw_len = get32(d->hdr + 4);
	d->wire_len = get32(d->hdr + 8);
	d->crc = get32(d->hdr + 12);
	if (d->hdr[1] || d->hdr[2] || d->hdr[3])
		return bad(d, "compressed stream: bad frame flags at byte %llu", d->raw_total);
	switch (d->type) {
	case 'E':
		if (d->raw_len || d->wire_len != 8)
			return bad(d, "compressed stream: bad end frame after %llu bytes", d->raw_total);
		break;
	case 'R':
	case 'Z':
		/* the bound on the output per frame: a hostile sender cannot
		 * make a small frame expand beyond WIRE_CHUNK_MAX */
		if (!d->raw_len || d->raw_len > WIRE_CHUNK_MAX)
			return bad(d, "compressed stream: frame of %llu bytes (at most 131072)", d->raw_len);
		if (d->type == 'R' ? d->wire_len != d->raw_len : !d->wire_len || d->wire_len >= d->raw_len)
			return bad(d, "compressed stream: bad frame length %llu", d->wire_len);
		break;
	default:
		return bad(d, "compressed stream: unknown frame type %llu", (unsigned char)d->type);
	}
	d->state = D_PAYLOAD;
	return 0;
}

/* The last good frame is held back until the next one (or the end
 * frame) checks out: a stream cut anywhere never hands over its last
 * chunk, which holds the end of the storage tool's own stream, so the
 * receive fails instead of accepting a stream whose end was lost. */
static int emit_held(struct wire_dec *d, wire_emit_fn emit, void *data)
{
	size_t n = d->held;
	int r;

	if (!n)
		return 0;
	d->held = 0;
	r = emit(data, d->out, n);
	if (r < 0) {
		d->state = D_ERROR;
		d->err = r;
		snprintf(d->msg, sizeof(d->msg), "cannot pass the stream on: %s", strerror(-r));
	}
	return r;
}

static int end_frame(struct wire_dec *d, wire_emit_fn emit, void *data)
{
	uint64_t total = 0;

	if (wire_crc32(0, d->payload, 8) != d->crc)
		return bad(d, "compressed stream: corrupt end frame after %llu bytes", d->raw_total);
	for (int i = 0; i < 8; i++)
		total = total << 8 | d->payload[i];
	if (total != d->raw_total)
		return bad(d, "compressed stream: %llu bytes announced, a different number arrived", total);
	d->state = D_DONE;
	return emit_held(d, emit, data);
}

static int data_frame(struct wire_dec *d, wire_emit_fn emit, void *data)
{
	uint8_t *raw = d->payload, *swap;
	int r;

	if (d->type == 'Z') {
		size_t n;

		if (d->codec == WIRE_ZSTD) {
			n = ZSTD_decompressDCtx(d->zd, d->tmp, d->raw_len, d->payload, d->wire_len);
			if (ZSTD_isError(n))
				n = (size_t)-1;
		} else {
			int k = LZ4_decompress_safe((const char *)d->payload, (char *)d->tmp, (int)d->wire_len,
						    (int)d->raw_len);

			n = k < 0 ? (size_t)-1 : (size_t)k;
		}
		if (n != d->raw_len)
			return bad(d, "compressed stream: corrupt frame at byte %llu", d->raw_total);
		raw = d->tmp;
	}
	if (wire_crc32(0, raw, d->raw_len) != d->crc)
		return bad(d, "compressed stream: checksum mismatch at byte %llu", d->raw_total);
	r = emit_held(d, emit, data);
	if (r < 0)
		return r;
	/* this frame's bytes become the held ones */
	swap = d->out;
	d->out = raw;
	if (raw == d->payload)
		d->payload = swap;
	else
		d->tmp = swap;
	d->held = d->raw_len;
	d->raw_total += d->raw_len;
	d->state = D_FRAME;
	return 0;
}

int wire_dec_feed(struct wire_dec *d, const void *buf, size_t len, wire_emit_fn emit, void *data)
{
	const uint8_t *p = buf;

	while (len) {
		size_t need, take;
		uint8_t *dst;
		int r = 0;

		switch (d->state) {
		case D_ERROR:
			return d->err;
		case D_DONE:
			return bad(d, "compressed stream: data after the end frame%.0llu", 0);
		case D_HEADER:
			need = WIRE_HEADER_LEN;
			dst = d->hdr;
			break;
		case D_FRAME:
			need = WIRE_FRAME_HDR;
			dst = d->hdr;
			break;
		default:
			need = d->wire_len;
			dst = d->payload;
			break;
		}
		take = need - d->have < len ? need - d->have : len;
		memcpy(dst + d->have, p, take);
		d->have += take;
		p += take;
		len -= take;
		if (d->have < need)
			break;
		d->have = 0;
		if (d->state == D_HEADER)
			r = check_header(d);
		else if (d->state == D_FRAME)
			r = check_frame(d);
		else if (d->type == 'E')
			r = end_frame(d, emit, data);
		else
			r = data_frame(d, emit, data);
		if (r < 0)
			return r;
	}
	return d->state == D_ERROR ? d->err : 0;
}

int wire_dec_finish(struct wire_dec *d)
{
	if (d->state == D_ERROR)
		return d->err;
	if (d->state != D_DONE)
		return bad(d, "compressed stream: truncated after %llu bytes", d->raw_total);
	return 0;
}
