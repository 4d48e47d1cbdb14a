/* Whether an incremental can go without a stream package.
 *
 * pvesr sends every incremental as a package (zfs send -R -p -I): the
 * snapshots between base and the new one, the volume's properties, and
 * a snapshot list that the target's `recv -F` prunes its own to. Most
 * runs change none of that: no snapshot was taken in between, none was
 * removed, no property was set. A plain `send -i` then brings the same,
 * for a fraction of the work (zfs-fuse: ~15 ms of its daemon's CPU on
 * each side per package, the largest single cost of a no-change run).
 *
 * The snapshot part is plan_plain() (engine/plan.h). The property part
 * is a digest: SHA-256 over every volume's id and the properties a
 * package would carry (backend_stream_props), recorded in the job state
 * (props_digest) when a run ends well. A run whose digest equals the
 * recorded one sends plain incrementals where plan_plain() agrees; any
 * change (a property set, a volume added or removed, the digest not
 * known) sends packages, as pvesr would, and records the new digest. */
#ifndef VOLREP_ENGINE_STREAMPROPS_H
#define VOLREP_ENGINE_STREAMPROPS_H

#include "base/strbuf.h"
#include "config/guest.h"
#include "engine/storemap.h"

#define STREAMPROPS_HEX 65 /* 64 hex digits and the NUL */

/* The digest of vols' stream properties into hex (lower-case). Returns 0,
 * or -errno with hex empty and the reason in err. */
int streamprops_digest(struct storemap *sm, const struct volume_list *vols, char hex[STREAMPROPS_HEX],
		       struct strbuf *err);

#endif
