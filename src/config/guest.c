#include "config/guest.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "base/parse-util.h"
#include "base/validate.h"
#include "base/xalloc.h"
#include "cluster/store.h"
#include "config/sectioncfg.h"

#define GUEST_CONF_MAX (1024 * 1024)

const char *guest_type_name(enum guest_type t)
{
	return t == GUEST_LXC ? "lxc" : "qemu";
}

void volume_list_release(struct volume_list *vl)
{
	for (size_t i = 0; i < vl->nr; i++) {
		free(vl->v[i].storage);
		free(vl->v[i].volname);
		free(vl->v[i].volid);
	}
	free(vl->v);
	vl->v = NULL;
	vl->nr = vl->alloc = 0;
}

static int is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static void warn_conf(struct strvec *w, const char *what, unsigned lineno, const char *line, size_t len)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = len > 80 ? 80 : len;

	if (!w)
		return;
	strbuf_addf(&sb, "%s line %u (ignored; expected 'key: value') - unable to parse config: ", what, lineno);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)line[i];
		strbuf_addch(&sb, (c < 0x20 || c == 0x7f) ? '?' : (char)c);
	}
	strvec_push(w, sb.buf);
	strbuf_release(&sb);
}

/* ^([a-z][a-z_]*\d*):\s*(.*\S)?\s*$ */
int guest_conf_parse(struct guest_conf *gc, const char *what, const char *text, size_t len,
		     struct strvec *warnings)
{
	struct strbuf section = STRBUF_INIT;
	size_t pos = 0;
	unsigned lineno = 0;
	int skip_section = 0;
	const char *line;
	size_t llen;

	if (len > GUEST_CONF_MAX)
		return -EFBIG;
	while ((line = next_text_line(text, len, &pos, &llen))) {
		size_t i = 0, k1, v0, v1;

		lineno++;
		while (i < llen && is_blank(line[i]))
			i++;
		if (i == llen || line[i] == '#')
			continue;
		if (line[0] == '[') { /* [snapshot], [PENDING], [special:cloudinit] */
			const char *close = memchr(line, ']', llen);
			size_t n = close ? (size_t)(close - line - 1) : 0;

			skip_section = 0;
			strbuf_reset(&section);
			if (!close || !n || n > 64 || memchr(line + 1, '\0', n)) {
				warn_conf(warnings, what, lineno, line, llen);
				skip_section = 1;
			} else if (n == 7 && !memcmp(line + 1, "PENDING", 7)) {
				strbuf_addstr(&section, GUEST_SECTION_PENDING);
			} else if (n > 8 && !memcmp(line + 1, "special:", 8)) {
				skip_section = 1;
			} else {
				strbuf_add(&section, line + 1, n);
			}
			continue;
		}
		if (skip_section)
			continue;
		if (memchr(line, '\0', llen)) {
			warn_conf(warnings, what, lineno, line, llen);
			continue;
		}
		i = 0;
		if (!islower((unsigned char)line[0])) {
			warn_conf(warnings, what, lineno, line, llen);
			continue;
		}
		while (i < llen && (islower((unsigned char)line[i]) || line[i] == '_'))
			i++;
		while (i < llen && isdigit((unsigned char)line[i]))
			i++;
		k1 = i;
		if (i >= llen || line[i] != ':' || k1 > 64) {
			warn_conf(warnings, what, lineno, line, llen);
			continue;
		}
		i++;
		while (i < llen && is_blank(line[i]))
			i++;
		v0 = i;
		v1 = llen;
		while (v1 > v0 && is_blank(line[v1 - 1]))
			v1--;
		char *key = xstrndup(line, k1), *val = xstrndup(line + v0, v1 - v0);
		strvec_push(&gc->keys, key);
		strvec_push(&gc->values, val);
		strvec_push(&gc->sections, section.buf);
		free(key);
		free(val);
	}
	strbuf_release(&section);
	return 0;
}

const char *guest_conf_get(const struct guest_conf *gc, const char *key)
{
	for (size_t i = gc->keys.nr; i > 0; i--)
		if (!*gc->sections.v[i - 1] && !strcmp(gc->keys.v[i - 1], key))
			return gc->values.v[i - 1];
	return NULL;
}

void guest_conf_release(struct guest_conf *gc)
{
	strvec_clear(&gc->keys);
	strvec_clear(&gc->values);
	strvec_clear(&gc->sections);
}

/* "<prefix><n>" with n in [0, max] written canonically */
static int numbered_key(const char *key, const char *prefix, unsigned max)
{
	size_t pl = strlen(prefix);
	uint64_t n;

	if (strncmp(key, prefix, pl) || !key[pl])
		return 0;
	if (key[pl] == '0' && key[pl + 1])
		return 0;
	return parse_uint_range(key + pl, 0, max, &n) == 0;
}

static int is_disk_key(enum guest_type t, const char *key)
{
	if (numbered_key(key, "unused", 255))
		return 1;
	if (t == GUEST_LXC)
		return !strcmp(key, "rootfs") || numbered_key(key, "mp", 255);
	return numbered_key(key, "scsi", 30) || numbered_key(key, "virtio", 15) ||
	       numbered_key(key, "sata", 5) || numbered_key(key, "ide", 3) ||
	       !strcmp(key, "efidisk0") || !strcmp(key, "tpmstate0");
}

/* "<letters><digits>" whose letters are a disk prefix of type t: a key
 * meant as a disk, e.g. scsi31 or mp256 (not one, so not replicated). */
static int disk_like_key(enum guest_type t, const char *key)
{
	static const char *const vm[] = { "scsi", "virtio", "sata", "ide", "unused", "efidisk", "tpmstate", NULL };
	static const char *const ct[] = { "mp", "unused", NULL };

	for (const char *const *p = t == GUEST_LXC ? ct : vm; *p; p++) {
		size_t n = strlen(*p);

		if (!strncmp(key, *p, n) && key[n] && strspn(key + n, "0123456789") == strlen(key + n))
			return 1;
	}
	return 0;
}

void guest_conf_check_keys(const struct guest_conf *gc, enum guest_type t, const char *what,
			   struct strvec *warnings)
{
	for (size_t i = 0; warnings && i < gc->keys.nr; i++) {
		const char *k = gc->keys.v[i];

		if (is_disk_key(t, k) || !disk_like_key(t, k))
			continue;
		strvec_pushf(warnings, "%s - '%s' is not a disk key of a %s (%s): its volume is not replicated",
			     what, k, t == GUEST_LXC ? "container" : "VM",
			     t == GUEST_LXC ? "rootfs, mp0-mp255, unused0-unused255"
					    : "scsi0-scsi30, virtio0-virtio15, sata0-sata5, ide0-ide3, efidisk0, "
					      "tpmstate0, unused0-unused255");
	}
}

static int parse_bool_word(const char *v, int dflt)
{
	if (!strcmp(v, "1") || !strcasecmp(v, "yes") || !strcasecmp(v, "on") || !strcasecmp(v, "true"))
		return 1;
	if (!strcmp(v, "0") || !strcasecmp(v, "no") || !strcasecmp(v, "off") || !strcasecmp(v, "false"))
		return 0;
	return dflt;
}

struct disk_ref {
	char *volume;  /* the volume id or path */
	int cdrom;
	int replicate;
};

/* "[file=|volume=]<vol>,k=v,..." */
static void parse_disk(const char *value, struct disk_ref *d)
{
	struct strvec parts = STRVEC_INIT;

	memset(d, 0, sizeof(*d));
	d->replicate = 1;
	strvec_split(&parts, value, ',');
	for (size_t i = 0; i < parts.nr; i++) {
		const char *p = parts.v[i], *eq = strchr(p, '=');

		if (!eq) {
			if (i == 0 && !d->volume)
				d->volume = xstrdup(p);
			continue;
		}
		size_t kl = (size_t)(eq - p);
		if ((kl == 4 && !strncmp(p, "file", 4)) || (kl == 6 && !strncmp(p, "volume", 6))) {
			free(d->volume);
			d->volume = xstrdup(eq + 1);
		} else if (kl == 5 && !strncmp(p, "media", 5)) {
			d->cdrom = !strcmp(eq + 1, "cdrom");
		} else if (kl == 9 && !strncmp(p, "replicate", 9)) {
			d->replicate = parse_bool_word(eq + 1, 1);
		}
	}
	strvec_clear(&parts);
}

static const char *const owner_kinds[] = { "base", "basevol", "vm", "subvol", NULL };

int volname_parse(const struct storage_type *t, const char *volname, uint32_t *owner, int *is_image)
{
	size_t len = strlen(volname);
	const char *slash = strchr(volname, '/');
	uint32_t o = 0;

	if (!len || len > 255)
		return -EINVAL;
	if (t) {
		if (t->volname_owner(volname, &o) < 0)
			return -EINVAL;
		*is_image = 1;
		*owner = o;
		return 0;
	}
	/* dir-like: iso/..., vztmpl/..., backup/..., <vmid>/vm-...;
	 * block storages: vm-<vmid>-disk-<n> */
	static const char *const other_types[] = { "iso/", "vztmpl/", "backup/", "snippets/", "import/", NULL };
	for (const char *const *p = other_types; *p; p++) {
		if (!strncmp(volname, *p, strlen(*p))) {
			*is_image = 0;
			*owner = 0;
			return 0;
		}
	}
	const char *name = slash ? strrchr(volname, '/') + 1 : volname;
	if (volname_owned(name, strcspn(name, "/"), owner_kinds, &o) < 0)
		o = 0;
	*is_image = 1;
	*owner = o;
	return 0;
}

/* Proxmox's parse_volume_id: ^([a-z][a-z0-9\-\_\.]*[a-z0-9]):(.+)$ (case
 * insensitive); the storage id is then checked strictly. */
static int split_volid(const char *volid, char **sid, char **volname)
{
	const char *colon = strchr(volid, ':');

	if (!colon || colon == volid || !colon[1])
		return -EINVAL;
	*sid = xstrndup(volid, (size_t)(colon - volid));
	*volname = xstrdup(colon + 1);
	return 0;
}

static void vl_add(struct volume_list *out, const char *sid, const char *volname)
{
	struct strbuf volid = STRBUF_INIT;
	size_t pos;

	strbuf_addf(&volid, "%s:%s", sid, volname);
	for (pos = 0; pos < out->nr; pos++) {
		int c = strcmp(out->v[pos].volid, volid.buf);
		if (c == 0) {
			strbuf_release(&volid);
			return;
		}
		if (c > 0)
			break;
	}
	ALLOC_GROW(out->v, out->nr + 1, out->alloc);
	memmove(&out->v[pos + 1], &out->v[pos], (out->nr - pos) * sizeof(out->v[0]));
	out->v[pos].storage = xstrdup(sid);
	out->v[pos].volname = xstrdup(volname);
	out->v[pos].volid = strbuf_detach(&volid, NULL);
	out->nr++;
}

/* The steps of test_volume below share its convention: 1 to include (or,
 * for a step, to go on to the next check), 0 to skip, -EINVAL (message in
 * err) to fail.  A cleanup run must still reach every volume it once
 * replicated, so it skips where a normal run fails. */

/* References that are no storage volume at all (empty, cdroms, local
 * files, devices, bind mounts) are decided from the reference alone. */
static int test_ref_kind(enum guest_type t, const struct disk_ref *d, int cleanup,
			 struct strbuf *err)
{
	if (!d->volume || !*d->volume || !strcmp(d->volume, "none"))
		return 0;
	if (t == GUEST_QEMU) {
		if (d->cdrom)
			return 0;
		if (!cleanup && !d->replicate)
			return 0;
		if (d->volume[0] == '/') {
			if (!d->replicate || cleanup)
				return 0;
			strbuf_addf(err, "unable to replicate local file/device '%s'", d->volume);
			return -EINVAL;
		}
	} else if (d->volume[0] == '/') {
		const char *mptype = !strncmp(d->volume, "/dev/", 5) ? "device" : "bind";
		if (!d->replicate)
			return 0;
		strbuf_addf(err, "unable to replicate mountpoint type '%s'", mptype);
		return cleanup ? 0 : -EINVAL;
	}
	return 1;
}

/* Naming a storage that storage.cfg lacks fails; saying where storage.cfg
 * was looked for explains the usual cause, a missing file. */
static int missing_storage(const struct storage_cfg *sc, const char *sid, int cleanup,
			   struct strbuf *err)
{
	if (cleanup)
		return 0;
	strbuf_addf(err, "storage '%s' does not exist", sid);
	if (sc->missing_path)
		strbuf_addf(err, " - there is no storage.cfg (looked for '%s')", sc->missing_path);
	return -EINVAL;
}

/* Only this guest's own disk images are replicated: another guest's
 * volume is skipped, an iso (no image) refused. */
static int test_owner(const struct storage *st, const char *volname, uint32_t vmid,
		      const struct disk_ref *d, int cleanup, struct strbuf *err)
{
	uint32_t owner = 0;
	int is_image = 0;

	if (volname_parse(st->stype, volname, &owner, &is_image) < 0) {
		if (cleanup)
			return 0;
		strbuf_addf(err, "unable to parse volume name '%s' of volume '%s'", volname, d->volume);
		return -EINVAL;
	}
	if (!owner || owner != vmid)
		return 0;
	if (!is_image) {
		if (cleanup)
			return 0;
		strbuf_addf(err, "unable to replicate volume '%s', type '%s'", d->volume, "iso");
		return -EINVAL;
	}
	return 1;
}

/* The storage must be able to replicate, and the volume name must fit
 * the grammar every run applies (backend/types.h): refuse now what would
 * fail at each run. */
static int test_replicable(const struct storage *st, const char *sid, const char *volname,
			   const struct disk_ref *d, int cleanup, struct strbuf *err)
{
	struct strbuf hint = STRBUF_INIT;
	enum backend_type bt;

	/* first: a storage that cannot replicate may have no backend type */
	if (!storage_can_replicate(st)) {
		if (cleanup)
			return 0;
		strbuf_addf(err, "missing replicate feature on volume '%s'", d->volume);
		return -EINVAL;
	}
	bt = st->stype->type;
	if (backend_valid_volname(bt, volname, NULL))
		return 1;
	if (cleanup)
		return 0;
	strbuf_addf(err, "invalid volume name '%s' of volume '%s' - on %s storage '%s' it must be %s",
		    volname, d->volume, st->type, sid, backend_volname_form(bt));
	if (backend_volname_suggest(bt, volname, &hint))
		strbuf_addf(err, ", here '%s:%s'", sid, hint.buf);
	strbuf_release(&hint);
	return -EINVAL;
}

/* Returns 1 to include, 0 to skip, -EINVAL (message in err) to fail. */
static int test_volume(const struct storage_cfg *sc, uint32_t vmid, enum guest_type t,
		       const struct disk_ref *d, unsigned flags, struct strbuf *err)
{
	int cleanup = !!(flags & GUEST_VOL_CLEANUP);
	const struct storage *st;
	char *sid = NULL, *volname = NULL;
	int r;

	r = test_ref_kind(t, d, cleanup, err);
	if (r != 1)
		return r;
	if (split_volid(d->volume, &sid, &volname) < 0) {
		if (cleanup)
			return 0;
		strbuf_addf(err, "unable to parse volume ID '%s'", d->volume);
		return -EINVAL;
	}
	st = storage_cfg_find(sc, sid);
	if (!st)
		r = missing_storage(sc, sid, cleanup, err);
	else if (st->shared)
		r = 0;	/* every node already sees a shared storage */
	else
		r = test_owner(st, volname, vmid, d, cleanup, err);
	/* a container's volume is replicated only when asked for; a cleanup
	 * run still reaches it */
	if (r == 1 && t == GUEST_LXC && !cleanup && !d->replicate)
		r = 0;
	if (r == 1)
		r = test_replicable(st, sid, volname, d, cleanup, err);
	free(sid);
	free(volname);
	return r;
}

/* Which references count (see guest.h): VMs everywhere (vmstate too),
 * containers' rootfs/mpN also in snapshots, their unusedN only now. */
static int counts(enum guest_type t, const char *key, const char *section)
{
	if (t == GUEST_QEMU)
		return is_disk_key(t, key) || !strcmp(key, "vmstate");
	if (!*section)
		return is_disk_key(t, key);
	return strcmp(section, GUEST_SECTION_PENDING) && is_disk_key(t, key) && strncmp(key, "unused", 6);
}

static void disk_of(const char *key, const char *value, struct disk_ref *d)
{
	if (!strcmp(key, "vmstate")) { /* a bare volume id */
		memset(d, 0, sizeof(*d));
		d->volume = xstrdup(value);
		d->replicate = 1;
		return;
	}
	parse_disk(value, d);
	if (!strncmp(key, "unused", 6))
		d->cdrom = 0;
}

/* VMs: the references of one volume merged, as foreach_volid does: a
 * cdrom only if every reference is one, replicated if any reference is. */
static void merge_refs(const struct guest_conf *gc, struct disk_ref **refs, size_t *nr)
{
	size_t alloc = 0;

	*refs = NULL;
	*nr = 0;
	for (size_t i = 0; i < gc->keys.nr; i++) {
		struct disk_ref d;
		size_t j;

		if (!counts(GUEST_QEMU, gc->keys.v[i], gc->sections.v[i]))
			continue;
		disk_of(gc->keys.v[i], gc->values.v[i], &d);
		if (!d.volume) {
			continue;
		}
		for (j = 0; j < *nr; j++)
			if (!strcmp((*refs)[j].volume, d.volume))
				break;
		if (j < *nr) {
			(*refs)[j].cdrom = (*refs)[j].cdrom && d.cdrom;
			(*refs)[j].replicate = (*refs)[j].replicate || d.replicate;
			free(d.volume);
			continue;
		}
		ALLOC_GROW(*refs, *nr + 1, alloc);
		(*refs)[(*nr)++] = d;
	}
}

int guest_replicatable_volumes(const struct storage_cfg *sc, uint32_t vmid, enum guest_type t,
			       const struct guest_conf *gc, unsigned flags, struct volume_list *out,
			       struct strbuf *err)
{
	struct volume_list tmp = { 0 };
	struct disk_ref *refs = NULL;
	size_t nrefs = 0, alloc = 0;
	int r = 0;

	if (t == GUEST_QEMU) {
		merge_refs(gc, &refs, &nrefs);
	} else {
		for (size_t i = 0; i < gc->keys.nr; i++) {
			if (!counts(t, gc->keys.v[i], gc->sections.v[i]))
				continue;
			ALLOC_GROW(refs, nrefs + 1, alloc);
			disk_of(gc->keys.v[i], gc->values.v[i], &refs[nrefs++]);
		}
	}
	for (size_t i = 0; i < nrefs; i++) {
		struct disk_ref d = refs[i];
		struct strbuf e = STRBUF_INIT;

		refs[i].volume = NULL;
		r = test_volume(sc, vmid, t, &d, flags, &e);
		if (r < 0) {
			strbuf_addstr(err, e.buf);
		} else if (r > 0) {
			char *sid = NULL, *vn = NULL;
			split_volid(d.volume, &sid, &vn);
			vl_add(&tmp, sid, vn);
			free(sid);
			free(vn);
		}
		free(d.volume);
		strbuf_release(&e);
		if (r < 0)
			goto out;
	}
	r = 0;
	for (size_t i = 0; i < tmp.nr; i++)
		vl_add(out, tmp.v[i].storage, tmp.v[i].volname);
out:
	for (size_t i = 0; i < nrefs; i++)
		free(refs[i].volume);
	free(refs);
	volume_list_release(&tmp);
	return r;
}

static int cmp_guest(const void *a, const void *b)
{
	const struct guest *ga = a, *gb = b;

	if (ga->vmid != gb->vmid)
		return ga->vmid < gb->vmid ? -1 : 1;
	/* equal ids: the first node in name order wins */
	int c = strcmp(ga->node, gb->node);
	return c ? c : strcmp(ga->conf_path, gb->conf_path);
}

static void scan_dir(struct guest_list *gl, struct store *st, const char *node, const char *sub,
		     enum guest_type t)
{
	struct strbuf path = STRBUF_INIT;
	struct strvec names = STRVEC_INIT;

	strbuf_addf(&path, "nodes/%s/%s", node, sub);
	store_list(st, path.buf, &names, NULL);
	for (size_t i = 0; i < names.nr; i++) {
		size_t n = strlen(names.v[i]);
		uint64_t vmid;

		if (n <= 5 || strcmp(names.v[i] + n - 5, ".conf"))
			continue;
		names.v[i][n - 5] = '\0';
		if (!valid_vmid(names.v[i]) || parse_u64(names.v[i], &vmid) < 0)
			continue;
		ALLOC_GROW(gl->v, gl->nr + 1, gl->alloc);
		struct guest *g = &gl->v[gl->nr++];
		memset(g, 0, sizeof(*g));
		g->vmid = (uint32_t)vmid;
		g->type = t;
		g->node = xstrdup(node);
		struct strbuf cp = STRBUF_INIT;
		strbuf_addf(&cp, "%s/%s.conf", path.buf, names.v[i]);
		g->conf_name = strbuf_detach(&cp, NULL);
		strbuf_addf(&cp, "%s/%s", st->where, g->conf_name);
		g->conf_path = strbuf_detach(&cp, NULL);
	}
	strvec_clear(&names);
	strbuf_release(&path);
}

static void guest_release(struct guest *g)
{
	free(g->node);
	free(g->conf_path);
	free(g->conf_name);
	volume_list_release(&g->volumes);
	free(g->vol_error);
}

int guests_scan(struct guest_list *gl, const char *config_dir, struct strvec *warnings)
{
	struct strvec nodes = STRVEC_INIT;
	struct store *st = store_get(config_dir);
	size_t out = 0;

	store_list(st, "nodes", &nodes, NULL);
	for (size_t i = 0; i < nodes.nr; i++) {
		if (!valid_node_name(nodes.v[i]))
			continue;
		scan_dir(gl, st, nodes.v[i], "qemu-server", GUEST_QEMU);
		scan_dir(gl, st, nodes.v[i], "lxc", GUEST_LXC);
	}
	if (gl->nr > 1)
		qsort(gl->v, gl->nr, sizeof(gl->v[0]), cmp_guest);
	for (size_t i = 0; i < gl->nr; i++) {
		if (out > 0 && gl->v[out - 1].vmid == gl->v[i].vmid) {
			if (warnings)
				strvec_pushf(warnings, "guest %u: ignoring config '%s', already found on node '%s'",
					     gl->v[i].vmid, gl->v[i].conf_path, gl->v[out - 1].node);
			guest_release(&gl->v[i]);
			continue;
		}
		gl->v[out++] = gl->v[i];
	}
	gl->nr = out;
	strvec_clear(&nodes);
	return 0;
}

static int cmp_vmid_key(const void *key, const void *elem)
{
	uint32_t k = *(const uint32_t *)key;
	const struct guest *g = elem;

	return k < g->vmid ? -1 : k > g->vmid;
}

const struct guest *guests_find(const struct guest_list *gl, uint32_t vmid)
{
	if (!gl->nr)
		return NULL;
	return bsearch(&vmid, gl->v, gl->nr, sizeof(gl->v[0]), cmp_vmid_key);
}

int guest_conf_load(struct guest_conf *gc, const struct guest *g, struct strvec *warnings)
{
	struct strbuf sb = STRBUF_INIT, what = STRBUF_INIT;
	int r;

	if (store_cluster() && g->conf_name) {
		r = store_read(store_cluster(), g->conf_name, 0, &sb, NULL, NULL);
		r = r == 1 ? -ENOENT : r;
	} else {
		r = strbuf_read_file(&sb, g->conf_path, GUEST_CONF_MAX);
	}
	if (!r) {
		strbuf_addf(&what, "%s %u: file %s", g->type == GUEST_LXC ? "CT" : "VM", g->vmid, g->conf_path);
		r = guest_conf_parse(gc, what.buf, sb.buf, sb.len, warnings);
		if (!r)
			guest_conf_check_keys(gc, g->type, what.buf, warnings);
	}
	strbuf_release(&sb);
	strbuf_release(&what);
	return r;
}

void guests_release(struct guest_list *gl)
{
	for (size_t i = 0; i < gl->nr; i++)
		guest_release(&gl->v[i]);
	free(gl->v);
	gl->v = NULL;
	gl->nr = gl->alloc = 0;
}
