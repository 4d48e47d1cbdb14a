/* Fuzz target: an etcd gateway answer (src/cluster/etcd.h): the first
 * byte picks the HTTP status, the rest is the body, as a hostile peer or
 * a man in the middle would send it.
 * Invariants checked (abort on violation):
 *  - etcd_reply_parse gives an object exactly when it returns 0, and an
 *    error message otherwise;
 *  - every kv of an accepted range answer has a non-empty key, revisions
 *    >= 0, and its key and value survive base64 encode -> decode;
 *  - base64 is canonical: when the body decodes, encoding gives it back. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "cluster/etcd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const char *p, size_t n)
{
	struct strbuf enc = STRBUF_INIT, dec = STRBUF_INIT;

	etcd_b64_encode(p, n, &enc);
	if (etcd_b64_decode(enc.buf, enc.len, &dec) < 0 || dec.len != n || memcmp(dec.buf, p, n))
		abort();
	strbuf_release(&enc);
	strbuf_release(&dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 200, 200, 200, 400, 404, 500, 503, 502 };
	struct strbuf err = STRBUF_INIT, dec = STRBUF_INIT, enc = STRBUF_INIT;
	struct etcd_kvs kvs = ETCD_KVS_INIT;
	json_t *j = NULL;
	long status;
	int r;

	if (!size)
		return 0;
	status = statuses[data[0] % 8];
	r = etcd_reply_parse((const char *)data + 1, size - 1, status, &j, &err);
	if ((r == 0) != (j != NULL) || (r < 0 && !err.len) || (r == 0 && !json_is_object(j)))
		abort();
	if (r == 0) {
		strbuf_reset(&err);
		r = etcd_kvs_parse(j, &kvs, &err);
		if (r < 0 && !err.len)
			abort();
		for (size_t i = 0; r == 0 && i < kvs.nr; i++) {
			const struct etcd_kv *kv = &kvs.v[i];

			if (!kv->key_len || kv->mod_rev < 0 || kv->create_rev < 0)
				abort();
			roundtrip(kv->key, kv->key_len);
			roundtrip(kv->value, kv->value_len);
		}
		int64_t rev;
		etcd_header_revision(j, &rev);
		etcd_kvs_release(&kvs);
		json_decref(j);
	}
	if (etcd_b64_decode((const char *)data + 1, size - 1, &dec) == 0) {
		etcd_b64_encode(dec.buf, dec.len, &enc);
		if (enc.len != size - 1 || memcmp(enc.buf, data + 1, enc.len))
			abort();
	}
	strbuf_release(&err);
	strbuf_release(&dec);
	strbuf_release(&enc);
	return 0;
}
