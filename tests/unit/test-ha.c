/* Unit tests of high availability's pure parts: the ha.cfg parser and
 * writer, the watch of dead nodes, which guests a recovery moves and a
 * fence stops, the preferred nodes and the tie-breaking among equally
 * fresh replicas, and the recovery record. */
#include "unit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "config/hacfg.h"
#include "engine/replica.h"
#include "ha/ha.h"
#include "notify/notify.h"

static const char good[] = "group: pb\n\tnodes b,c\n\n"
			   "ct: 200\n\tgroup pb\n\tstate started\n\tmax-relocate 2\n\n"
			   "vm: 100\n\tstate stopped\n\n"
			   "vm: 300\n\tstate ignored\n\n"
			   "vm: 400\n";

static void parse(struct ha_cfg *hc, const char *text, struct strvec *w)
{
	*hc = (struct ha_cfg)HA_CFG_INIT;
	assert_int_equal(ha_cfg_parse(hc, text, strlen(text), w), 0);
}

static void test_parse(void **state)
{
	struct ha_cfg hc;
	struct strvec w = STRVEC_INIT;
	const struct ha_resource *r;

	(void)state;
	parse(&hc, good, &w);
	assert_int_equal(w.nr, 0);
	assert_int_equal(hc.nres, 4);
	assert_int_equal(hc.ngroups, 1);
	r = ha_cfg_find(&hc, 200);
	assert_non_null(r);
	assert_int_equal(r->type, GUEST_LXC);
	assert_int_equal(r->state, HA_STARTED);
	assert_string_equal(r->group, "pb");
	assert_int_equal(r->max_relocate, 2);
	r = ha_cfg_find(&hc, 100);
	assert_int_equal(r->type, GUEST_QEMU);
	assert_int_equal(r->state, HA_STOPPED);
	assert_null(r->group);
	assert_int_equal(r->max_relocate, 1);
	assert_int_equal(ha_cfg_find(&hc, 300)->state, HA_IGNORED);
	/* the default state is started */
	assert_int_equal(ha_cfg_find(&hc, 400)->state, HA_STARTED);
	assert_int_equal(ha_cfg_group(&hc, "pb")->nodes.nr, 2);
	assert_string_equal(ha_cfg_group(&hc, "pb")->nodes.v[0], "b");
	ha_cfg_release(&hc);
	strvec_clear(&w);
}

static void test_parse_bad(void **state)
{
	struct ha_cfg hc;
	struct strvec w = STRVEC_INIT;

	(void)state;
	parse(&hc,
	      "vm: 99\n\n"                           /* below 100 */
	      "vm: 100\n\tstate running\n\n"         /* bad state */
	      "ct: 101\n\tmax-relocate 11\n\n"       /* out of range */
	      "ct: 102\n\tgroup 9x\n\n"              /* bad group name */
	      "vm: 103\n\tgroup nosuch\n\tcolour red\n\n" /* kept, with warnings */
	      "ct: 103\n\n"                          /* duplicate vmid */
	      "group: g1\n\tnodes b,b\n\n"           /* repeated node */
	      "group: g2\n\tnodes b,-x\n\n"          /* invalid node */
	      "group: g3\n\n"                        /* no nodes */
	      "pool: p\n\tx 1\n",                    /* unknown type */
	      &w);
	assert_int_equal(hc.nres, 1);
	assert_int_equal(hc.res[0].vmid, 103);
	assert_int_equal(hc.res[0].type, GUEST_QEMU);
	assert_int_equal(hc.ngroups, 0);
	/* every dropped section and each problem of the kept one is named */
	assert_int_equal(w.nr, 11);
	for (size_t i = 0; i < w.nr; i++)
		assert_non_null(strstr(w.v[i], "ha.cfg"));
	ha_cfg_release(&hc);
	strvec_clear(&w);
}

static void test_format_roundtrip(void **state)
{
	struct ha_cfg hc, hc2;
	struct strbuf out = STRBUF_INIT, out2 = STRBUF_INIT, err = STRBUF_INIT;

	(void)state;
	parse(&hc, good, NULL);
	assert_int_equal(ha_cfg_format(&hc, &out, &err), 0);
	/* groups first, resources by vmid */
	assert_string_equal(out.buf, "group: pb\n\tnodes b,c\n\n"
				     "vm: 100\n\tmax-relocate 1\n\tstate stopped\n\n"
				     "ct: 200\n\tgroup pb\n\tmax-relocate 2\n\tstate started\n\n"
				     "vm: 300\n\tmax-relocate 1\n\tstate ignored\n\n"
				     "vm: 400\n\tmax-relocate 1\n\tstate started\n\n");
	parse(&hc2, out.buf, NULL);
	assert_int_equal(ha_cfg_format(&hc2, &out2, &err), 0);
	assert_string_equal(out.buf, out2.buf);
	/* changes */
	assert_int_equal(ha_cfg_remove(&hc2, 300), 1);
	assert_int_equal(ha_cfg_remove(&hc2, 300), 0);
	ha_cfg_set_group(&hc2, "pb", "c,a");
	ha_resource_set_group(ha_cfg_add(&hc2, 500, GUEST_LXC), "pb");
	strbuf_reset(&out2);
	assert_int_equal(ha_cfg_format(&hc2, &out2, &err), 0);
	assert_non_null(strstr(out2.buf, "group: pb\n\tnodes c,a\n"));
	assert_non_null(strstr(out2.buf, "ct: 500\n\tgroup pb\n"));
	assert_null(strstr(out2.buf, "vm: 300"));
	ha_cfg_release(&hc);
	ha_cfg_release(&hc2);
	strbuf_release(&out);
	strbuf_release(&out2);
	strbuf_release(&err);
}

static void test_names(void **state)
{
	enum ha_state s;

	(void)state;
	assert_int_equal(ha_state_parse("ignored", &s), 0);
	assert_int_equal(s, HA_IGNORED);
	assert_int_equal(ha_state_parse("Started", &s), -EINVAL);
	assert_int_equal(ha_state_parse("", &s), -EINVAL);
	assert_string_equal(ha_state_name(HA_STOPPED), "stopped");
	assert_string_equal(ha_type_name(GUEST_LXC), "ct");
	assert_true(ha_valid_group_name("prefer-b.1_x"));
	assert_false(ha_valid_group_name("1x"));
	assert_false(ha_valid_group_name(""));
	assert_false(ha_valid_group_name("a b"));
	assert_false(ha_valid_group_name("a/b"));
}

static void test_watch(void **state)
{
	struct ha_watch w = HA_WATCH_INIT;
	struct store_member m[2] = { { .node = (char *)"a", .online = 1 }, { .node = (char *)"b", .online = 1 } };

	(void)state;
	ha_watch_update(&w, m, 2, 1000);
	assert_int_equal(ha_watch_dead_since(&w, "a", 1000, 5), 0);
	m[0].online = 0;
	ha_watch_update(&w, m, 2, 1001);
	/* gone, but not for the grace period yet */
	assert_int_equal(ha_watch_dead_since(&w, "a", 1005, 5), 0);
	ha_watch_update(&w, m, 2, 1005);
	/* the first time it was seen gone counts */
	assert_int_equal(ha_watch_dead_since(&w, "a", 1006, 5), 1001);
	assert_int_equal(ha_watch_dead_since(&w, "b", 1006, 5), 0);
	assert_int_equal(ha_watch_dead_since(&w, "x", 1006, 5), 0);
	/* back: the clock starts again */
	m[0].online = 1;
	ha_watch_update(&w, m, 2, 1007);
	assert_int_equal(ha_watch_dead_since(&w, "a", 2000, 5), 0);
	m[0].online = 0;
	ha_watch_update(&w, m, 2, 2000);
	assert_int_equal(ha_watch_dead_since(&w, "a", 2004, 5), 0);
	assert_int_equal(ha_watch_dead_since(&w, "a", 2005, 5), 2000);
	ha_watch_release(&w);
}

static void add_guest(struct guest_list *gl, uint32_t vmid, enum guest_type t, const char *node)
{
	gl->v = realloc(gl->v, (gl->nr + 1) * sizeof(*gl->v));
	gl->v[gl->nr++] = (struct guest){ .vmid = vmid, .type = t, .node = (char *)node };
}

static void test_which_guests(void **state)
{
	struct ha_cfg hc;
	struct guest_list gl = { 0 };
	uint32_t *ids;
	size_t n;

	(void)state;
	parse(&hc, good, NULL);
	/* sorted by vmid, as guests_scan leaves them */
	add_guest(&gl, 100, GUEST_QEMU, "a");
	add_guest(&gl, 200, GUEST_LXC, "a");
	add_guest(&gl, 300, GUEST_QEMU, "a");
	add_guest(&gl, 400, GUEST_LXC, "a"); /* ha.cfg says vm: not this guest */
	add_guest(&gl, 500, GUEST_QEMU, "a"); /* not HA */
	ha_guests_of(&hc, &gl, "a", &ids, &n);
	/* started and stopped ones move, ignored ones do not */
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], 100);
	assert_int_equal(ids[1], 200);
	free(ids);
	ha_started_of(&hc, &gl, "a", &ids, &n);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], 200);
	free(ids);
	ha_guests_of(&hc, &gl, "b", &ids, &n);
	assert_int_equal(n, 0);
	free(ids);
	free(gl.v);
	ha_cfg_release(&hc);
}

static void cand(struct replica_candidate *c, const char *node, int complete, int64_t t)
{
	*c = (struct replica_candidate){ .node = (char *)node, .complete = complete, .time = t };
}

static void test_prefer(void **state)
{
	struct ha_cfg hc;
	struct strvec prefer = STRVEC_INIT, none = STRVEC_INIT;
	struct replica_candidate c[4];

	(void)state;
	parse(&hc, "group: g\n\tnodes a,d,c,b\n\nct: 200\n\tgroup g\n", NULL);
	/* the group's nodes in order, without the dead one */
	ha_preferred(&hc, ha_cfg_find(&hc, 200), "a", &prefer);
	assert_int_equal(prefer.nr, 3);
	assert_string_equal(prefer.v[0], "d");
	assert_string_equal(prefer.v[2], "b");
	cand(&c[0], "b", 1, 300);
	cand(&c[1], "c", 1, 300);
	cand(&c[2], "d", 1, 200); /* preferred, but older */
	cand(&c[3], "e", 0, 300); /* not complete */
	/* freshness first, then the preference among the equally fresh */
	assert_int_equal(replica_prefer(c, 4, 0, &prefer), 1);
	assert_int_equal(replica_prefer(c, 4, 1, &prefer), 1);
	/* nobody listed: the choice stands */
	assert_int_equal(replica_prefer(c, 4, 0, &none), 0);
	assert_int_equal(replica_prefer(c, 4, 0, NULL), 0);
	assert_int_equal(replica_prefer(c, 4, -ENOENT, &prefer), -ENOENT);
	/* an equally fresh but incomplete one never wins */
	strvec_clear(&prefer);
	strvec_push(&prefer, "e");
	assert_int_equal(replica_prefer(c, 4, 0, &prefer), 0);
	/* no group: no preference */
	strvec_clear(&prefer);
	ha_preferred(&hc, NULL, "a", &prefer);
	assert_int_equal(prefer.nr, 0);
	strvec_clear(&prefer);
	ha_cfg_release(&hc);
}

static void test_status_record(void **state)
{
	struct ha_status hs = HA_STATUS_INIT, hs2 = HA_STATUS_INIT;
	struct strbuf out = STRBUF_INIT;
	const struct ha_recovery *r;
	static const char text[] = "{\"200\": {\"from\": \"a\", \"to\": \"b\", \"when\": 1700000100, \"node_lost\": "
				   "1700000050, \"snapshot\": \"__replicate_200-0_1700000000__\", \"snapshot_time\": "
				   "1700000000, \"data_loss_window\": 50, \"result\": \"started\"},"
				   " \"12\": {\"from\": \"a\"}, \"300\": {\"from\": \"-x\"}, \"301\": 5,"
				   " \"400\": {\"from\": \"a\", \"to\": null, \"result\": \"failed: x\"}}";

	(void)state;
	assert_int_equal(ha_status_parse(&hs, text, strlen(text)), 0);
	/* bad entries dropped */
	assert_int_equal(hs.nr, 2);
	r = ha_status_find(&hs, 200);
	assert_non_null(r);
	assert_string_equal(r->to, "b");
	assert_int_equal(r->window, 50);
	assert_int_equal(r->snapshot_time, 1700000000);
	assert_null(ha_status_find(&hs, 400)->to);
	ha_status_format(&hs, &out);
	assert_int_equal(ha_status_parse(&hs2, out.buf, out.len), 0);
	assert_int_equal(hs2.nr, 2);
	assert_string_equal(ha_status_find(&hs2, 200)->result, "started");
	ha_status_release(&hs2);
	assert_int_equal(ha_status_parse(&hs2, "[1]", 3), -EINVAL);
	assert_int_equal(ha_status_parse(&hs2, "{", 1), -EINVAL);
	assert_int_equal(ha_status_parse(&hs2, "", 0), 0);
	assert_int_equal(hs2.nr, 0);
	ha_status_release(&hs);
	ha_status_release(&hs2);
	strbuf_release(&out);
}

static void test_notify(void **state)
{
	struct notify_event ev = {
		.kind = NOTIFY_HA_RECOVERED, .job_id = "", .guest = 200, .vmtype = "lxc", .source = "a", .target = "b",
		.last_sync = 1700000000, .now = 1700000100,
		.error = "guest 200 of node 'a' recovered on 'b' ...; data-loss window: 50 s", .hostname = "b",
	};
	struct strbuf sb = STRBUF_INIT;
	char *json;

	(void)state;
	notify_format_subject(&ev, &sb);
	assert_string_equal(sb.buf, "HA: guest 200 recovered on 'b' from 'a'");
	strbuf_reset(&sb);
	notify_format_body(&ev, &sb);
	assert_non_null(strstr(sb.buf, "data-loss window: 50 s"));
	json = notify_format_json(&ev, WEBHOOK_JSON, "http://x/");
	assert_non_null(json);
	assert_non_null(strstr(json, "\"event\":\"ha-recovered\""));
	assert_non_null(strstr(json, "\"guest\":200"));
	free(json);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_watch),
		cmocka_unit_test(test_which_guests),
		cmocka_unit_test(test_prefer),
		cmocka_unit_test(test_status_record),
		cmocka_unit_test(test_notify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
