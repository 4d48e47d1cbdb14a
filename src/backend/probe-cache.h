/* The storage tools' probes (`zfs help`, btrfs's), kept across processes.
 *
 * backend_probe() caches what a probe found per process (and per session
 * server, backend_caps_cache_share). Without more, every volrep process
 * that touches a storage starts with a probe: one `zfs help` on each node
 * per run, about as much CPU as the run's own reads. Here the result
 * lasts in a file per storage type in the state directory, for as long
 * as both the tool and this volrep binary stay the same file: the key is
 * the tool's resolved path with its device, inode, size, mtime and ctime,
 * and volrep's own device, inode and mtime (an upgrade of either probes
 * anew, and so does a rebuild, which may lay the caps out differently).
 * Everything is best effort: a cache that cannot be read or written is a
 * probe as before, never an error. */
#ifndef VOLREP_BACKEND_PROBE_CACHE_H
#define VOLREP_BACKEND_PROBE_CACHE_H

#include <stddef.h>

/* Where the cache files live (NULL, the default: nowhere, no file cache).
 * The directory is not created. */
void probe_cache_set_dir(const char *dir);

/* The cached result of probing tool (a name looked up in PATH, or a
 * path) for storage type_name into caps (size bytes). Returns 1 when
 * there was a valid one, 0 otherwise (caps untouched). */
int probe_cache_load(const char *type_name, const char *tool, void *caps, size_t size);

/* Keep caps as the result of probing tool for type_name. */
void probe_cache_store(const char *type_name, const char *tool, const void *caps, size_t size);

#endif
