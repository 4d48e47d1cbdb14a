/* Fuzz target: an etcd watch stream (src/cluster/etcd.h,
 * etcd_watch_parse): newline-delimited JSON answers of POST /v3/watch, as
 * a hostile member or a man in the middle would send them. Each line of
 * the input is one answer.
 * Invariants checked (abort on violation):
 *  - an accepted answer has revisions >= 0 and events with a non-empty
 *    key without NUL bytes that survives base64 encode -> decode, of type
 *    PUT or DELETE;
 *  - a refused one says why and leaves nothing allocated behind
 *    (message zeroed). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "cluster/etcd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const char *p, size_t n)
{
	struct etcd_watch_msg m;
	struct strbuf err = STRBUF_INIT;
	int r = etcd_watch_parse(p, n, &m, &err);

	if (r < 0) {
		if (!err.len || m.ev || m.nr || m.cancel_reason)
			abort();
	} else {
		if (m.revision < 0 || m.compact_revision < 0)
			abort();
		for (size_t i = 0; i < m.nr; i++) {
			const struct etcd_event *ev = &m.ev[i];
			struct strbuf enc = STRBUF_INIT, dec = STRBUF_INIT;

			if (!ev->key_len || memchr(ev->key, '\0', ev->key_len) || ev->mod_rev < 0 ||
			    ev->create_rev < 0 || (ev->type != ETCD_EVENT_PUT && ev->type != ETCD_EVENT_DELETE))
				abort();
			etcd_b64_encode(ev->key, ev->key_len, &enc);
			if (etcd_b64_decode(enc.buf, enc.len, &dec) < 0 || dec.len != ev->key_len ||
			    memcmp(dec.buf, ev->key, dec.len))
				abort();
			strbuf_release(&enc);
			strbuf_release(&dec);
		}
		etcd_watch_msg_release(&m);
	}
	strbuf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		check_line(p, n);
		p += n + (nl ? 1 : 0);
	}
	return 0;
}
