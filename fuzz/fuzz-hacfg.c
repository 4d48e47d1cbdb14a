/* Fuzz target: ha.cfg (config/hacfg.h) and the HA recovery record
 * (ha-status.json, ha/ha.h), both cluster files any node may write.
 * Checks the writer's round trip, format(parse(format(parse(x)))) ==
 * format(parse(x)), and that what the parsers accept is valid: guest ids,
 * group and node names, states and limits in range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/validate.h"
#include "config/hacfg.h"
#include "ha/ha.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct ha_cfg *hc)
{
	for (size_t i = 0; i < hc->nres; i++) {
		const struct ha_resource *r = &hc->res[i];

		if (r->vmid < 100 || r->state > HA_IGNORED || r->max_relocate > HA_MAX_RELOCATE_LIMIT ||
		    (r->group && !ha_valid_group_name(r->group)))
			BUG("ha.cfg accepted an invalid resource");
		for (size_t k = 0; k < i; k++)
			if (hc->res[k].vmid == r->vmid)
				BUG("ha.cfg accepted a guest twice");
	}
	for (size_t i = 0; i < hc->ngroups; i++) {
		if (!ha_valid_group_name(hc->groups[i].name) || !hc->groups[i].nodes.nr)
			BUG("ha.cfg accepted an invalid group");
		for (size_t k = 0; k < hc->groups[i].nodes.nr; k++)
			if (!valid_node_name(hc->groups[i].nodes.v[k]))
				BUG("ha.cfg accepted an invalid node name");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct ha_cfg hc = HA_CFG_INIT, hc2 = HA_CFG_INIT;
	struct ha_status hs = HA_STATUS_INIT, hs2 = HA_STATUS_INIT;
	struct strvec w = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT, out2 = STRBUF_INIT, err = STRBUF_INIT;

	if (ha_cfg_parse(&hc, text, size, &w) == 0) {
		check(&hc);
		if (ha_cfg_format(&hc, &out, &err) != 0)
			BUG("ha.cfg: what was parsed cannot be written");
		if (ha_cfg_parse(&hc2, out.buf, out.len, NULL) != 0 || hc2.nres != hc.nres ||
		    hc2.ngroups != hc.ngroups || ha_cfg_format(&hc2, &out2, &err) != 0 || strcmp(out.buf, out2.buf))
			BUG("ha.cfg round trip differs");
	}
	ha_cfg_release(&hc);
	ha_cfg_release(&hc2);
	strbuf_reset(&out);
	strbuf_reset(&out2);
	if (ha_status_parse(&hs, text, size) == 0) {
		for (size_t i = 0; i < hs.nr; i++)
			if (hs.v[i].vmid < 100 || !valid_node_name(hs.v[i].from) ||
			    (hs.v[i].to && !valid_node_name(hs.v[i].to)))
				BUG("ha-status.json accepted an invalid entry");
		ha_status_format(&hs, &out);
		if (ha_status_parse(&hs2, out.buf, out.len) != 0 || hs2.nr != hs.nr)
			BUG("ha-status.json round trip lost entries");
		ha_status_format(&hs2, &out2);
		if (strcmp(out.buf, out2.buf))
			BUG("ha-status.json round trip differs");
	}
	ha_status_release(&hs);
	ha_status_release(&hs2);
	strvec_clear(&w);
	strbuf_release(&out);
	strbuf_release(&out2);
	strbuf_release(&err);
	return 0;
}
