/* Fuzz target: the section-config parser and the typed parsers on top of
 * it (replication.cfg, storage.cfg, nodes.cfg). Also checks the writer's
 * round trip: write(parse(write(parse(x)))) == write(parse(x)), and that
 * what storage.cfg / nodes.cfg accept has valid storage ids, node names
 * and addresses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/validate.h"
#include "config/jobs.h"
#include "config/nodes.h"
#include "config/sectioncfg.h"
#include "config/storage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const req[] = { "target", NULL };
static const char *const bools[] = { "disable", NULL };
static const struct sc_layout layouts[] = { { "local", req, bools }, { NULL, NULL, NULL } };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct sectioncfg sc = SECTIONCFG_INIT, sc2 = SECTIONCFG_INIT;
	struct strvec w = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT, out2 = STRBUF_INIT;

	if (sectioncfg_parse(&sc, "fuzz.cfg", text, size, &w) == 0 &&
	    sectioncfg_write(&sc, layouts, &out, NULL) == 0) {
		if (sectioncfg_parse(&sc2, "fuzz.cfg", out.buf, out.len, NULL) != 0 ||
		    sectioncfg_write(&sc2, layouts, &out2, NULL) != 0 || strcmp(out.buf, out2.buf))
			BUG("section config round trip differs");
	}
	sectioncfg_release(&sc);
	sectioncfg_release(&sc2);
	strbuf_reset(&out);
	strbuf_reset(&out2);

	struct jobs_cfg jc = { 0 }, jc2 = { 0 };
	if (jobs_cfg_parse(&jc, text, size, &w) == 0 && jobs_cfg_format(&jc, &out, &out2) == 0) {
		strbuf_reset(&out2);
		if (jobs_cfg_parse(&jc2, out.buf, out.len, NULL) != 0 || jc2.nr != jc.nr ||
		    jobs_cfg_format(&jc2, &out2, NULL) != 0 || strcmp(out.buf, out2.buf))
			BUG("replication.cfg round trip differs");
	}
	jobs_cfg_release(&jc);
	jobs_cfg_release(&jc2);

	struct storage_cfg stc = { 0 };
	if (storage_cfg_parse(&stc, text, size, &w) == 0) {
		for (size_t i = 0; i < stc.nr; i++)
			if (!valid_storage_id(stc.v[i].id))
				BUG("storage.cfg accepted an invalid storage id");
	}
	storage_cfg_release(&stc);
	struct nodes_cfg nc = { 0 };
	if (nodes_cfg_parse(&nc, text, size, &w) == 0) {
		for (size_t i = 0; i < nc.nr; i++)
			if (!valid_node_name(nc.v[i].name) || !valid_host_address(nc.v[i].address))
				BUG("nodes.cfg accepted an invalid node name or address");
	}
	nodes_cfg_release(&nc);

	strvec_clear(&w);
	strbuf_release(&out);
	strbuf_release(&out2);
	return 0;
}
