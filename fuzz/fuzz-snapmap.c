/* Fuzz target: arbitrary bytes as the JSON answer of the target's
 * prepare-local-job (snap_map_from_json, src/engine/prepare.h): it comes
 * over ssh from another node and is untrusted.
 * Invariants checked (abort on violation):
 *  - a failure always explains itself (err not empty);
 *  - what is accepted has valid volids, snapshot names and ids;
 *  - parse -> snap_map_to_json -> parse gives the same map, and the JSON
 *    is then stable;
 *  - prepare_select on every accepted volume only ever picks snapshots of
 *    the job, never the last_sync snapshot nor the parent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "base/strbuf.h"
#include "base/strvec.h"
#include "base/validate.h"
#include "engine/prepare.h"
#include "engine/storemap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_valid(const struct snap_map *m)
{
	for (size_t i = 0; i < m->nr; i++) {
		struct strbuf e = STRBUF_INIT;
		char sid[STOREID_MAX + 1];
		const char *volname;

		if (volid_parse(m->v[i].volid, sid, &volname, &e) < 0 || !valid_storage_id(sid))
			abort();
		for (size_t j = i + 1; j < m->nr; j++)
			if (!strcmp(m->v[i].volid, m->v[j].volid))
				abort();
		for (size_t k = 0; k < m->v[i].snaps.nr; k++) {
			const struct backend_snapshot *s = &m->v[i].snaps.v[k];

			if (!valid_snapshot_name(s->name) || !s->id)
				abort();
		}
		strbuf_release(&e);
	}
}

static void check_same(const struct snap_map *a, const struct snap_map *b)
{
	if (a->nr != b->nr)
		abort();
	for (size_t i = 0; i < a->nr; i++) {
		const struct vol_snaps *vb = snap_map_find(b, a->v[i].volid);

		if (!vb || vb->snaps.nr != a->v[i].snaps.nr)
			abort();
		for (size_t k = 0; k < a->v[i].snaps.nr; k++) {
			const struct backend_snapshot *s = &a->v[i].snaps.v[k];
			const struct backend_snapshot *t = backend_snapshot_list_find(&vb->snaps, s->name);

			if (!t || strcmp(s->id, t->id) || s->creation != t->creation)
				abort();
		}
	}
}

static void check_select(const struct snap_map *m)
{
	static const char *const jobs[] = { "100-0", "100-1", "100-10" };

	for (size_t i = 0; i < m->nr; i++) {
		const struct backend_snapshot_list *l = &m->v[i].snaps;

		for (size_t j = 0; j < sizeof(jobs) / sizeof(*jobs); j++) {
			/* last_sync: 0, 1, and the time of each snapshot of the list */
			for (size_t k = 0; k <= l->nr + 1; k++) {
				int64_t last = k == 0 ? 0 : k == 1 ? 1 : l->v[k - 2].creation;
				const char *parent = l->nr ? l->v[0].name : NULL;
				struct strvec stale = STRVEC_INIT, kstale = STRVEC_INIT;
				struct strbuf lastname = STRBUF_INIT;
				int warn;

				prepare_select(l, jobs[j], last, parent, 0, &stale, &warn);
				/* retention only ever keeps more: a subset, and at
				 * most keep fewer */
				prepare_select(l, jobs[j], last, parent, (unsigned)(k % 3), &kstale, &warn);
				if (kstale.nr > stale.nr || stale.nr - kstale.nr > k % 3)
					abort();
				for (size_t s = 0; s < kstale.nr; s++) {
					size_t t = 0;

					while (t < stale.nr && strcmp(stale.v[t], kstale.v[s]))
						t++;
					if (t == stale.nr)
						abort();
				}
				strvec_clear(&kstale);
				repl_snapname(&lastname, jobs[j], last);
				for (size_t s = 0; s < stale.nr; s++) {
					if (!repl_snap_of_job(stale.v[s], jobs[j]) ||
					    !strcmp(stale.v[s], lastname.buf) ||
					    (parent && !strcmp(stale.v[s], parent)) || !backend_snapshot_list_find(l, stale.v[s]))
						abort();
				}
				strvec_clear(&stale);
				strbuf_release(&lastname);
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snap_map m = SNAP_MAP_INIT, m2 = SNAP_MAP_INIT;
	struct strbuf err = STRBUF_INIT;

	if (snap_map_from_json((const char *)data, size, &m, &err) == 0) {
		char *j, *j2;

		check_valid(&m);
		j = snap_map_to_json(&m);
		if (snap_map_from_json(j, strlen(j), &m2, NULL) != 0)
			abort();
		check_same(&m, &m2);
		check_same(&m2, &m);
		j2 = snap_map_to_json(&m2);
		if (strcmp(j, j2))
			abort();
		free(j);
		free(j2);
		check_select(&m);
	} else if (!err.len) {
		abort();
	}
	snap_map_release(&m);
	snap_map_release(&m2);
	strbuf_release(&err);
	return 0;
}
