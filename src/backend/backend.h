/* Storage backends: one ops struct per storage type (zfspool, btrfs).
 *
 * The backend layer knows storages only through the small descriptor below;
 * it never reads storage.cfg (the engine maps a configured storage onto a
 * struct backend_storage). Every operation drives the storage's own tools
 * (zfs, btrfs) through exec/spawn.h with argv arrays, and validates every
 * name it is given before any command runs: volume names, snapshot names,
 * pools and paths arrive from ssh and must be treated as hostile.
 *
 * Calling sequence:
 *   struct backend b = BACKEND_INIT;
 *   struct backend_storage st = { .type = BACKEND_ZFSPOOL, .pool = "rpool/data" };
 *   if (backend_open(&b, &st) < 0) ...;          -EINVAL: bad descriptor
 *   r = backend_snapshot(&b, volnames, n, "snap");
 *   if (r < 0) error("%s", backend_errmsg(&b));
 *   backend_close(&b);
 *
 * Errors: every operation returns 0 (or a count) on success and a negative
 * errno on failure; it then leaves a one-line, lower-case description in
 * the backend (backend_errmsg()), e.g. "volume 'rpool/data/vm-100-disk-0'
 * already exists" or the tool's own message. Operations do not print.
 * Typical codes: -EINVAL invalid name (nothing ran), -ENOENT volume or
 * snapshot missing, -EEXIST target exists, -EIO the tool failed,
 * -ENOTSUP feature missing on this storage. */
#ifndef VOLREP_BACKEND_BACKEND_H
#define VOLREP_BACKEND_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "base/strvec.h"
#include "exec/spawn.h"

/* The storage types, an index into the table of their descriptors
 * (backend/types.h: name, storage.cfg keys, volume-name grammar, CLI
 * options, ops). */
enum backend_type {
	BACKEND_ZFSPOOL,
	BACKEND_BTRFS,
	BACKEND_NTYPES
};

/* The most values a storage's location has (types.h). */
#define BACKEND_LOC_MAX 2

/* A storage as the backend layer sees it. Strings are borrowed for the
 * duration of backend_open() (which copies them). */
struct backend_storage {
	const char *id;      /* storage id (for messages and volids), may be NULL */
	enum backend_type type;
	/* where the volumes live, one value per location key of the type's
	 * descriptor; zfspool and btrfs have one, named here */
	union {
		const char *loc[BACKEND_LOC_MAX];
		const char *pool; /* zfspool: dataset holding the volumes ("rpool/data") */
		const char *path; /* btrfs: absolute storage path ("/mnt/btrfs") */
	};
	const char *tool;    /* program to run; NULL: the type's ("zfs", "btrfs"; a test seam) */
};

/* One snapshot of a volume. */
struct backend_snapshot {
	char *name;          /* snapshot name without the volume part */
	char *id;            /* identity shared by sender and receiver: the ZFS
			      * guid (decimal), the btrfs received UUID or, for a
			      * locally created snapshot, its UUID */
	int64_t creation;    /* epoch seconds */
};

struct backend_snapshot_list {
	struct backend_snapshot *v;
	size_t nr, alloc;
};
#define BACKEND_SNAPSHOT_LIST_INIT { .v = NULL, .nr = 0, .alloc = 0 }
void backend_snapshot_list_clear(struct backend_snapshot_list *l);
/* Append (copies the strings). */
void backend_snapshot_list_add(struct backend_snapshot_list *l, const char *name,
			       const char *id, int64_t creation);
/* Find by name; NULL if absent. */
const struct backend_snapshot *backend_snapshot_list_find(const struct backend_snapshot_list *l,
							  const char *name);

/* What a storage's tools can do, probed once per backend (never required:
 * volrep works with none of the optional features, as on zfs-fuse). */
struct backend_caps {
	unsigned list_parsable : 1;    /* zfs list -p */
	unsigned multi_snapshot : 1;   /* several snapshots in one atomic call */
	unsigned send_replicate : 1;   /* zfs send -R */
	unsigned send_props : 1;       /* zfs send -p */
	unsigned send_no_encrypt : 1;  /* zfs send -U */
	unsigned send_compressed : 1;  /* zfs send -c / btrfs send --compressed-data */
	unsigned send_raw : 1;         /* zfs send -w */
	unsigned recv_exclude : 1;     /* zfs recv -x encryption */
	unsigned recv_exclude_props : 1; /* zfs recv -x property */
	unsigned resume_tokens : 1;    /* zfs recv -s / send -t */
	unsigned bookmarks : 1;        /* the tool has `zfs bookmark` (pool feature not probed) */
	unsigned zvols : 1;            /* block volumes (vm-* on zfspool) */
	unsigned recv_chroot : 1;      /* btrfs receive -C */
	unsigned send_estimate : 1;    /* zfs send -nP: dry run printing the size */
	unsigned get_parsable : 1;     /* zfs get -p: sizes in bytes */
};

/* Flags of backend_export_start(). */
#define BACKEND_EXPORT_COMPRESSED 0x1 /* ask for a compressed stream if possible */
/* the receiver keeps older snapshots the sender no longer has (a job's
 * "keep"): zfs sends a plain incremental (-i), not a replication stream
 * or package (-R, -I, and -p on zfs-fuse), which `zfs recv -F` prunes to
 * the sender's snapshots */
#define BACKEND_EXPORT_KEEP_TARGET 0x2
/* a raw stream (zfs send -w): encrypted data stays encrypted, the target
 * needs no key (and cannot mount it without one); -ENOTSUP where the tool
 * has no raw sends */
#define BACKEND_EXPORT_RAW 0x4
/* with a base: the data from base to snap alone (zfs: a plain `send -i`,
 * no stream package with -R -p -I), for when the caller knows a package
 * would carry nothing more: no snapshot between base and snap, none on
 * the target that the source lacks (a package's receive prunes those),
 * no property changed since the last package (backend_stream_props). On
 * zfs-fuse a package costs its daemon ~15 ms of CPU on each side, more
 * than the rest of a no-change run's zfs calls together. */
#define BACKEND_EXPORT_PLAIN 0x8

/* Flags of backend_import_flags(). */
/* the stream continues an interrupted receive of the volume (an export
 * from backend_export_resume_start()): the partial state must be there */
#define BACKEND_IMPORT_RESUME 0x1
/* the stream is raw (BACKEND_EXPORT_RAW): -ENOTSUP where the tool has no
 * encryption; the received file system is not mounted (no key here) */
#define BACKEND_IMPORT_RAW 0x2

struct backend;

struct backend_ops {
	const char *type_name; /* "zfspool", "btrfs" */
	int (*open)(struct backend *b);
	void (*close)(struct backend *b);
	int (*probe)(struct backend *b, struct backend_caps *caps);
	int (*list_volumes)(struct backend *b, const char *vmid, struct strvec *out);
	int (*volume_path)(struct backend *b, const char *volname, struct strbuf *out);
	int (*volume_exists)(struct backend *b, const char *volname);
	int (*snapshot)(struct backend *b, const char *const *volnames, size_t n, const char *snap);
	int (*delete_snapshot)(struct backend *b, const char *volname, const char *snap);
	int (*list_snapshots)(struct backend *b, const char *volname, struct backend_snapshot_list *out);
	int (*export_argv)(struct backend *b, const char *volname, const char *snap,
			   const char *base, unsigned flags, struct strvec *argv);
	int (*import)(struct backend *b, const char *volname, const char *snap,
		      const char *base, unsigned flags, int in_fd);
	int (*free_space)(struct backend *b, uint64_t *bytes);
	int (*destroy_volume)(struct backend *b, const char *volname);
	int (*rollback)(struct backend *b, const char *volname, const char *snap);
	/* may be NULL: no estimates on this storage type */
	int (*estimate_send_size)(struct backend *b, const char *volname, const char *snap,
				  const char *base, uint64_t *bytes);
	/* may be NULL: nothing an interrupted import can leave behind.
	 * snaps may be NULL; else, where the same call lists them, the
	 * volume's snapshots go there and *listed is set to 1 */
	int (*clean_stale)(struct backend *b, const char *volname, struct backend_snapshot_list *snaps,
			   int *listed);
	/* may be NULL: nothing is encrypted on this type */
	int (*encrypted)(struct backend *b, const char *volname);
	/* may be NULL: streams carry no properties on this type */
	int (*stream_props)(struct backend *b, const char *volname, struct strbuf *out);
	/* may be NULL (all three): no resumable receives on this type */
	int (*resume_token)(struct backend *b, const char *volname, struct strbuf *token);
	int (*resume_abort)(struct backend *b, const char *volname);
	int (*resume_argv)(struct backend *b, const char *volname, const char *snap, const char *token,
			   struct strvec *argv);
};

struct backend {
	const struct backend_ops *ops;
	char *id, *tool;
	union { /* as in struct backend_storage */
		char *loc[BACKEND_LOC_MAX];
		char *pool;
		char *path;
	};
	enum backend_type type;
	int caps_probed;
	struct backend_caps caps;
	struct strbuf errmsg;
};
#define BACKEND_INIT { .ops = NULL, .id = NULL, .tool = NULL, .loc = { NULL }, .caps_probed = 0, \
		       .errmsg = STRBUF_INIT }

extern const struct backend_ops backend_zfs_ops;
extern const struct backend_ops backend_btrfs_ops;

/* Validate the descriptor (the location values with the type's checks,
 * e.g. "invalid zfs pool 'x'"; id: valid_storage_id when set) and bind
 * the type's implementation. Returns 0 or -EINVAL (message in
 * backend_errmsg). Nothing is run. */
int backend_open(struct backend *b, const struct backend_storage *st);
void backend_close(struct backend *b);
/* The last operation's error description ("" when none). */
const char *backend_errmsg(const struct backend *b);
/* "<id>:<volname>" when the storage has an id, else volname (for messages
 * such as "successfully imported '<volid>'"). Caller frees. */
char *backend_volid(const struct backend *b, const char *volname);

/* Name checks done before anything reaches a command line (the type's
 * descriptor, types.h). A volume name must be one of this storage type's
 * forms, owned by a guest id:
 *   zfspool: (vm|subvol|base)-<vmid>-<name>          e.g. vm-100-disk-0
 *   btrfs:   <vmid>/(vm|base)-<vmid>-<name>.raw      e.g. 100/vm-100-disk-0.raw
 *            <vmid>/subvol-<vmid>-<name>             e.g. 100/subvol-100-disk-0
 * where <name> is [A-Za-z0-9_.-]+ without "..". Returns 1 when valid and
 * stores the guest id in *vmid (if non-NULL). */
int backend_valid_volname(enum backend_type type, const char *volname, uint32_t *vmid);
/* The accepted forms above as one line for messages, e.g. for btrfs
 * "'<vmid>/vm-<vmid>-disk-<n>.raw' or '<vmid>/subvol-<vmid>-disk-<n>'". */
const char *backend_volname_form(enum backend_type type);
/* A valid volume name close to volname (the "<vmid>/" directory or the
 * ".raw" suffix of btrfs added or dropped) into *out, for a "did you
 * mean" hint. Returns 1 when one was found. */
int backend_volname_suggest(enum backend_type type, const char *volname, struct strbuf *out);

/* Snapshot names: valid_snapshot_name() and, as they become part of file
 * names on btrfs, not starting with '.' (no hidden entries, no ".."). */
int backend_valid_snapname(const char *snap);

/* From now on, probes are cached per process too (per storage type and
 * tool), in memory shared with the children this process forks from
 * here on: a session server's commands (transport/session.h) probe
 * `zfs help` once per session instead of once per command. */
int backend_caps_cache_share(void);
/* Probe the tools once (cached). Returns 0 or -errno. */
int backend_probe(struct backend *b, struct backend_caps *caps);
/* The guest's volume names on this storage, sorted. vmid: valid_vmid. */
int backend_list_volumes(struct backend *b, const char *vmid, struct strvec *out);
/* The dataset (zfs) or path (btrfs: the subvolume directory) of a volume. */
int backend_volume_path(struct backend *b, const char *volname, struct strbuf *out);
/* 1 if the volume exists, 0 if not, or -errno. */
int backend_volume_exists(struct backend *b, const char *volname);
/* Snapshot n volumes as snap. zfs: one `zfs snapshot` call for all of them
 * (atomic) where the tool allows several arguments; otherwise (and on
 * btrfs) one by one, removing the ones made so far when one fails. */
int backend_snapshot(struct backend *b, const char *const *volnames, size_t n, const char *snap);
/* Delete one snapshot; -ENOENT when it does not exist. */
int backend_delete_snapshot(struct backend *b, const char *volname, const char *snap);
/* The volume's snapshots, oldest first. -ENOENT when the volume is missing. */
int backend_list_snapshots(struct backend *b, const char *volname, struct backend_snapshot_list *out);
/* The same, for finalize: in a session, the listing the volume's import
 * made after its receive when it is still there (backend/listmemo.h). */
int backend_list_snapshots_after_import(struct backend *b, const char *volname, struct backend_snapshot_list *out);
/* Build the argv of the export (send) command: the full stream of snap, or
 * the incremental stream from base to snap when base is non-NULL. */
int backend_export_argv(struct backend *b, const char *volname, const char *snap,
			const char *base, unsigned flags, struct strvec *argv);
/* Start the export. c must be CHILD_INIT with c->out (an fd, or CHILD_PIPE
 * to read the stream from c->out afterwards) and c->err set; the caller
 * relays the stream and calls child_finish(c) (exit code 0 = complete). */
int backend_export_start(struct backend *b, const char *volname, const char *snap,
			 const char *base, unsigned flags, struct child *c);
/* Receive a stream from in_fd as volname@snap. With base, the volume must
 * have snapshot base (else -ENOENT "base snapshot '<x>' doesn't exist");
 * without, the volume must not exist (else -EEXIST "volume '<x>' already
 * exists"). On failure the volume is left as before: rolled back to base,
 * or removed when the import created it. in_fd is not closed. */
int backend_import(struct backend *b, const char *volname, const char *snap,
		   const char *base, int in_fd);
/* backend_import with flags: BACKEND_IMPORT_RESUME (-ENOTSUP where the
 * storage has no resume tokens; -ENOENT "no interrupted receive of '<x>'
 * to resume" when there is none). Resumable receives: where the storage
 * has them (zfs recv -s), every import is resumable; a failed one whose
 * partial state the tool kept is not undone ("partial receive kept for
 * resuming" ends the message), and an import without RESUME first
 * discards any partial state an earlier one left (zfs recv -A). */
int backend_import_flags(struct backend *b, const char *volname, const char *snap,
			 const char *base, unsigned flags, int in_fd);
/* The resume token of an interrupted receive into the volume: 1 with the
 * token in *token, 0 when there is none or the storage has no resume
 * tokens, -errno otherwise. */
int backend_resume_token(struct backend *b, const char *volname, struct strbuf *token);
/* Discard the partial state of an interrupted receive (zfs recv -A):
 * 0 (also when there was none), -ENOTSUP without resume tokens, -errno. */
int backend_resume_abort(struct backend *b, const char *volname);
/* Start the export that continues an interrupted receive of volname@snap
 * on the other side from its token (zfs send -t; c as for
 * backend_export_start). The token comes from the receiver (hostile):
 * -EINVAL when it is not a well-formed token (nothing ran), -ESTALE when
 * this side refuses it or it resumes another snapshot than snap (a dry
 * run checks; message set), -ENOTSUP without resume tokens. */
int backend_export_resume_start(struct backend *b, const char *volname, const char *snap, const char *token,
				struct child *c);
/* 1 when the volume is encrypted (zfs: its `encryption` property is not
 * "off"; a zfs without the property has none), 0 when not, -errno. Its
 * export must then be raw (BACKEND_EXPORT_RAW): a replication stream with
 * properties of an encrypted dataset is refused otherwise. */
int backend_encrypted(struct backend *b, const char *volname);
/* The properties a full stream package (zfs send -p) carries of the
 * volume, the ones set locally or received, as sorted "name\tvalue"
 * lines into out (appended): what a plain incremental would not bring
 * along if it changed. Empty on a type whose streams carry none.
 * Returns 0 or -errno (message set). */
int backend_stream_props(struct backend *b, const char *volname, struct strbuf *out);
/* Destroy a volume with all its snapshots (pvesr vdisk_free; the target
 * side of a job removal). -ENOENT when the volume does not exist. */
int backend_destroy_volume(struct backend *b, const char *volname);
/* Make the volume's data that of its snapshot snap again (failover to a
 * replica: back to the newest snapshot every volume has). zfs: `zfs
 * rollback -r`, which also destroys the snapshots newer than snap; btrfs:
 * the volume is replaced by a writable snapshot of <subvol>@<snap>
 * (swapped in atomically; later snapshots are kept). -ENOENT when the
 * volume or the snapshot does not exist. */
int backend_rollback(struct backend *b, const char *volname, const char *snap);
/* An estimate of the size of the stream that backend_export_start()
 * (flags 0) would produce, for a progress display: never required, and
 * only as good as the storage can tell cheaply. Stores the bytes and
 * returns 0, or -ENOTSUP when no honest estimate is available (message
 * set), or another -errno (-EINVAL bad name, -ENOENT snapshot missing,
 * -EIO the tool failed). Nothing is changed on the storage.
 *   zfspool: `zfs send -nP` with the export's options where the tool has
 *            it; else, for a full stream, the snapshot's `referenced`
 *            (too low when older snapshots go along in the replication
 *            stream); else -ENOTSUP.
 *   btrfs:   full stream: the space allocated to the snapshot's files
 *            (st_blocks, a bounded walk that stays within the subvolume);
 *            incremental: -ENOTSUP. */
int backend_estimate_send_size(struct backend *b, const char *volname, const char *snap,
			       const char *base, uint64_t *bytes);
/* Remove what killed imports of the volume's guest left behind (btrfs:
 * staging directories no running import holds; zfs: nothing, a killed
 * receive leaves no dataset, but with resume tokens an interrupted full
 * receive leaves a partial volume without snapshots: discarded, with
 * `zfs recv -A`). Safe while other imports run. Returns 0, 1 when the
 * volume itself was such a leftover and is gone now, or -errno (message
 * set). snaps (may be NULL): where the type can list the volume's
 * snapshots in the same call (zfs: one `zfs get` for both, since prepare
 * needs both before every run), they go there, as from
 * backend_list_snapshots, and *listed is 1; else *listed is 0. */
int backend_clean_stale(struct backend *b, const char *volname, struct backend_snapshot_list *snaps,
			int *listed);
/* Bytes available for new data on the storage. */
int backend_free_space(struct backend *b, uint64_t *bytes);

#include "backend/listmemo.h"

/* For implementations: the volume's snapshot listing kept in the
 * session's memo (backend/listmemo.h), into l: 1 when there was a fresh
 * one. And keep l as its listing (an import's, after the receive). */
int backend_memo_get(const struct backend *b, const char *volname, enum listmemo_tag tag,
		     struct backend_snapshot_list *l);
void backend_memo_put(const struct backend *b, const char *volname, enum listmemo_tag tag,
		      const struct backend_snapshot_list *l);

/* For implementations: set the error message (returns r). */
int backend_fail(struct backend *b, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* For implementations: run argv, capturing stdout into out (may be NULL)
 * and stderr; on a non-zero exit store "<tool's first stderr line>" (or
 * "command '<argv0> <argv1>' failed: exit code N") and return -EIO. */
int backend_run(struct backend *b, const struct strvec *argv, struct strbuf *out);
/* Like backend_run but returns the exit code and stderr instead of failing. */
int backend_run_status(struct backend *b, const struct strvec *argv, struct strbuf *out,
		       struct strbuf *err);
/* For implementations: run argv with stdin from in_fd (a stream; stdout
 * to /dev/null), keeping the first 64 KiB of its stderr in err. Returns
 * the exit code or -errno (message set). */
int backend_run_stdin(struct backend *b, const struct strvec *argv, int in_fd, struct strbuf *err);
/* For implementations: the first line of a tool's stderr as the message,
 * or "command '<argv0> <argv1>' failed: <status>" when it said nothing.
 * Returns -EIO. */
int backend_fail_tool(struct backend *b, const struct strvec *argv, int code, const char *err);

#endif
