#include "engine/streamprops.h"

#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>

#include "backend/backend.h"

int streamprops_digest(struct storemap *sm, const struct volume_list *vols, char hex[STREAMPROPS_HEX],
		       struct strbuf *err)
{
	struct sha256_ctx ctx;
	struct strbuf text = STRBUF_INIT;
	uint8_t d[SHA256_DIGEST_SIZE];
	int r = 0;

	hex[0] = '\0';
	sha256_init(&ctx);
	for (size_t i = 0; i < vols->nr && r == 0; i++) {
		const struct guest_volume *v = &vols->v[i];
		struct backend *b;

		strbuf_reset(&text);
		r = storemap_get(sm, v->storage, &b, err);
		if (r == 0 && (r = backend_stream_props(b, v->volname, &text)) < 0)
			strbuf_addstr(err, backend_errmsg(b));
		/* "<volid>\n<lines>\n": no volume's lines read as another's */
		if (r == 0) {
			sha256_update(&ctx, strlen(v->volid), (const uint8_t *)v->volid);
			sha256_update(&ctx, 1, (const uint8_t *)"\n");
			sha256_update(&ctx, text.len, (const uint8_t *)text.buf);
			sha256_update(&ctx, 1, (const uint8_t *)"\n");
		}
	}
	strbuf_release(&text);
	if (r < 0)
		return r;
	sha256_digest(&ctx, sizeof(d), d);
	for (size_t i = 0; i < sizeof(d); i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return 0;
}
