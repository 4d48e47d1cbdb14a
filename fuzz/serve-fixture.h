/* A small cluster for the serve policy (fuzz/fuzz-serve-policy.c and
 * tests/unit/test-serve.c): this node is "b", the peer "a".
 *
 *   guest  node  volumes                      jobs
 *   100    a     local-zfs:vm-100-disk-0      100-0 a->b
 *                local-btrfs:100/vm-100-disk-1.raw
 *   300    b     local-zfs:subvol-300-disk-0  300-0 b->a   (this node's own)
 *   400    c     local-zfs:vm-400-disk-0      400-0 c->b, 400-1 c->a
 *   500    a     local-zfs:vm-500-disk-0      500-0 a->c   (no job here)
 *   600    c     local-zfs:vm-600-disk-0      600-0 c->b   (no replica on a)
 *   700    b     local-zfs:vm-700-disk-0      700-0 b->a   (failed over here: no state)
 *   800    b     local-zfs:vm-800-disk-0      800-0 b->c
 *
 * serve_fixture_owner() says which node a guest lives on, independently
 * of the config code, for the fuzzer's invariant. */
#ifndef VOLREP_FUZZ_SERVE_FIXTURE_H
#define VOLREP_FUZZ_SERVE_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
	uint32_t vmid;
	const char *node;
	const char *conf;
} serve_fixture_guests[] = {
	{ 100, "a", "scsi0: local-zfs:vm-100-disk-0,size=1G\nscsi1: local-btrfs:100/vm-100-disk-1.raw,size=1G\n" },
	{ 300, "b", "scsi0: local-zfs:subvol-300-disk-0,size=1G\n" },
	{ 400, "c", "scsi0: local-zfs:vm-400-disk-0,size=1G\n" },
	{ 500, "a", "scsi0: local-zfs:vm-500-disk-0,size=1G\n" },
	{ 600, "c", "scsi0: local-zfs:vm-600-disk-0,size=1G\n" },
	{ 700, "b", "scsi0: local-zfs:vm-700-disk-0,size=1G\n" },
	{ 800, "b", "scsi0: local-zfs:vm-800-disk-0,size=1G\n" },
};

static const char serve_fixture_jobs[] =
	"local: 100-0\n\ttarget b\n\n"
	"local: 300-0\n\ttarget a\n\n"
	"local: 400-0\n\ttarget b\n\n"
	"local: 400-1\n\ttarget a\n\n"
	"local: 500-0\n\ttarget c\n\n"
	"local: 600-0\n\ttarget b\n\n"
	"local: 700-0\n\ttarget a\n\n"
	"local: 800-0\n\ttarget c\n";

/* this node's replication state: 300 and 800 run jobs from here, 700
 * was just failed over (no state) */
static const char serve_fixture_state[] =
	"{\"300\":{\"local/a\":{\"last_sync\":5}},\"800\":{\"local/c\":{\"last_sync\":5}}}";

static const char serve_fixture_nodes[] =
	"node: a\n\taddress 127.0.0.1\n\nnode: b\n\taddress 127.0.0.2\n\nnode: c\n\taddress 127.0.0.3\n";

static const char serve_fixture_storage[] =
	"zfspool: local-zfs\n\tpool rpool/data\n\tcontent images,rootdir\n\n"
	"btrfs: local-btrfs\n\tpath /mnt/btrfs\n\tcontent images,rootdir\n";

static inline int serve_fixture_file(const char *dir, const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* Write the cluster into a new directory under /tmp; returns its path
 * (malloc'd) or NULL. */
static inline char *serve_fixture_write(void)
{
	char tmpl[] = "/tmp/volrep-serve-fixture.XXXXXX", path[4096];
	char *dir = mkdtemp(tmpl);

	if (!dir)
		return NULL;
	if (serve_fixture_file(dir, "nodes.cfg", serve_fixture_nodes) < 0 ||
	    serve_fixture_file(dir, "storage.cfg", serve_fixture_storage) < 0 ||
	    serve_fixture_file(dir, "replication.cfg", serve_fixture_jobs) < 0)
		return NULL;
	snprintf(path, sizeof(path), "%s/nodes", dir);
	mkdir(path, 0755);
	for (const char *n = "abc"; *n; n++) {
		snprintf(path, sizeof(path), "%s/nodes/%c", dir, *n);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/nodes/%c/qemu-server", dir, *n);
		mkdir(path, 0755);
	}
	for (size_t i = 0; i < sizeof(serve_fixture_guests) / sizeof(serve_fixture_guests[0]); i++) {
		char name[64];

		snprintf(name, sizeof(name), "nodes/%s/qemu-server/%u.conf", serve_fixture_guests[i].node,
			 (unsigned)serve_fixture_guests[i].vmid);
		if (serve_fixture_file(dir, name, serve_fixture_guests[i].conf) < 0)
			return NULL;
	}
	return strdup(dir);
}

/* Remove what serve_fixture_write made. */
static inline void serve_fixture_remove(const char *dir)
{
	char path[4096];

	for (size_t i = 0; i < sizeof(serve_fixture_guests) / sizeof(serve_fixture_guests[0]); i++) {
		snprintf(path, sizeof(path), "%s/nodes/%s/qemu-server/%u.conf", dir, serve_fixture_guests[i].node,
			 (unsigned)serve_fixture_guests[i].vmid);
		unlink(path);
	}
	for (const char *n = "abc"; *n; n++) {
		snprintf(path, sizeof(path), "%s/nodes/%c/qemu-server", dir, *n);
		rmdir(path);
		snprintf(path, sizeof(path), "%s/nodes/%c", dir, *n);
		rmdir(path);
	}
	snprintf(path, sizeof(path), "%s/nodes", dir);
	rmdir(path);
	for (const char *const *f = (const char *const[]){ "nodes.cfg", "storage.cfg", "replication.cfg",
							  ".volrep-config.lck", NULL };
	     *f; f++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *f);
		unlink(path);
	}
	rmdir(dir);
}

/* The node guest vmid lives on, NULL if no such guest. */
static inline const char *serve_fixture_owner(uint32_t vmid)
{
	for (size_t i = 0; i < sizeof(serve_fixture_guests) / sizeof(serve_fixture_guests[0]); i++)
		if (serve_fixture_guests[i].vmid == vmid)
			return serve_fixture_guests[i].node;
	return NULL;
}

#endif
