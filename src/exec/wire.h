/* Compression on the wire: a small framing around zstd or lz4 chunks, so
 * that the receiving `volrep import` knows the codec, detects corruption
 * and truncation, and never produces more than WIRE_CHUNK_MAX bytes per
 * frame it reads (a hostile stream cannot make it expand without bound).
 *
 *   stream  = header frame* end
 *   header  = "VRW1" codec(1) 0 0 0                      8 bytes
 *   frame   = type(1) 0 0 0 raw_len(4) wire_len(4) crc(4) payload[wire_len]
 *             type 'Z': payload compressed, wire_len < raw_len
 *             type 'R': payload raw (did not shrink), wire_len == raw_len
 *             crc = CRC-32 of the raw (decoded) bytes
 *   end     = 'E' 0 0 0, raw_len 0, wire_len 8, crc of the payload,
 *             payload = total raw bytes (8, big endian)
 * Integers big endian; 0 < raw_len <= WIRE_CHUNK_MAX. Nothing may follow
 * the end frame; EOF before it is a truncated stream.
 *
 *   struct wire_enc *e = wire_enc_new(WIRE_ZSTD, 3);
 *   n = wire_enc_chunk(e, raw, len, out);  (out: wire_enc_bound(len) bytes)
 *   n = wire_enc_finish(e, out);
 *
 * Incompressible data: a chunk that does not shrink by more than 3 % goes
 * raw; after WIRE_GIVEUP_AFTER such chunks in a row the encoder stops
 * trying for WIRE_SKIP_CHUNKS chunks, then tries again. */
#ifndef VOLREP_EXEC_WIRE_H
#define VOLREP_EXEC_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define WIRE_CHUNK_MAX (128 * 1024)
#define WIRE_HEADER_LEN 8
#define WIRE_FRAME_HDR 16
#define WIRE_GIVEUP_AFTER 8
#define WIRE_SKIP_CHUNKS 64

enum wire_codec { WIRE_NONE = 0, WIRE_ZSTD = 1, WIRE_LZ4 = 2 };

/* "none", "zstd", "lz4" -> *c; 0 or -EINVAL. */
int wire_codec_parse(const char *s, enum wire_codec *c);
const char *wire_codec_name(enum wire_codec c);

struct wire_enc_stats {
	uint64_t raw, wire;      /* bytes in, bytes out */
	uint64_t chunks, raw_chunks, skipped; /* skipped: sent raw untried */
};

struct wire_enc;
/* codec WIRE_ZSTD or WIRE_LZ4; level: zstd 1..19 (0: 3), lz4 ignored. */
struct wire_enc *wire_enc_new(enum wire_codec codec, int level);
void wire_enc_free(struct wire_enc *e);
/* Most bytes wire_enc_chunk() writes for len raw bytes (the stream header
 * included). */
size_t wire_enc_bound(size_t len);
/* Encode len (1..WIRE_CHUNK_MAX) bytes into out; the first call also
 * writes the stream header. Returns the bytes written. */
size_t wire_enc_chunk(struct wire_enc *e, const void *raw, size_t len, uint8_t *out);
/* The end frame (and the header, for an empty stream): at most
 * WIRE_HEADER_LEN + WIRE_FRAME_HDR + 8 bytes. */
size_t wire_enc_finish(struct wire_enc *e, uint8_t *out);
const struct wire_enc_stats *wire_enc_stats(const struct wire_enc *e);

/* Decoder: feed it what arrives; emit gets the decoded bytes (at most
 * WIRE_CHUNK_MAX per call) and returns 0 or -errno to stop. Each frame's
 * bytes are passed on only once the next frame (or the end frame) has
 * checked out: a truncated stream never delivers its last chunk. */
typedef int (*wire_emit_fn)(void *data, const void *buf, size_t len);
struct wire_dec;
/* want: the codec the stream must announce (WIRE_NONE: any). */
struct wire_dec *wire_dec_new(enum wire_codec want);
void wire_dec_free(struct wire_dec *d);
/* Returns 0, -EBADMSG for a bad stream (message in wire_dec_error), or
 * emit's error. After an error further calls return it again. */
int wire_dec_feed(struct wire_dec *d, const void *buf, size_t len, wire_emit_fn emit, void *data);
/* At EOF: 0 when the end frame was seen, else -EBADMSG ("truncated"). */
int wire_dec_finish(struct wire_dec *d);
const char *wire_dec_error(const struct wire_dec *d);
uint64_t wire_dec_raw_bytes(const struct wire_dec *d);

uint32_t wire_crc32(uint32_t crc, const void *buf, size_t len);

#endif
