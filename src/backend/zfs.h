/* zfspool backend internals, exposed for unit tests (the engine uses
 * backend.h only). The argv builders are pure: they take names that the
 * caller has already validated and append the exact command line. */
#ifndef VOLREP_BACKEND_ZFS_H
#define VOLREP_BACKEND_ZFS_H

#include "backend/backend.h"
#include "base/strbuf.h"
#include "base/strvec.h"

/* zfs snapshot ds1@snap ds2@snap ... (one atomic call) */
void zfs_argv_snapshot(struct strvec *argv, const char *tool, const char *const *datasets,
		       size_t n, const char *snap);
/* zfs send -Rp[U] [-w | -c] [-I ds@base] -- ds@snap: a replication stream, as
 * pvesr's `zfs send -RpvU` minus the progress output; -U only where the
 * tool has it, -c only when asked for and available. */
void zfs_argv_send(struct strvec *argv, const char *tool, const struct backend_caps *caps,
		   const char *ds, const char *snap, const char *base, unsigned flags);
/* zfs send -nP <zfs_argv_send's options, flags 0> -- ds@snap: the dry run
 * that prints the stream's size (where caps->send_estimate) */
void zfs_argv_send_estimate(struct strvec *argv, const char *tool, const struct backend_caps *caps,
			    const char *ds, const char *snap, const char *base);
/* zfs get -H[p] -o value <property> -- name (-p where caps->get_parsable) */
void zfs_argv_get_size(struct strvec *argv, const char *tool, const struct backend_caps *caps,
		       const char *property, const char *name);
/* zfs recv -F -u [-s] [-x <prop> for each of zfs_unsafe_props] [-x encryption (not raw)]
 * -- ds: never mounted by the receive; -s (resumable) where
 * caps->resume_tokens; the -x list (filesystems only,
 * where caps->recv_exclude_props) keeps the stream's values of the
 * properties that place, share or execute out from the start */
void zfs_argv_recv(struct strvec *argv, const char *tool, const struct backend_caps *caps,
		   const char *ds, int filesystem, int raw);
/* zfs send [-nvP] -t <token>: the rest of an interrupted stream (or,
 * dry_run, the token's contents and size); token: zfs_valid_resume_token */
void zfs_argv_send_resume(struct strvec *argv, const char *tool, const char *token, int dry_run);
/* zfs get -H -o value receive_resume_token -- ds */
void zfs_argv_get_resume_token(struct strvec *argv, const char *tool, const char *ds);
/* zfs recv -A -- ds: discard an interrupted receive's partial state */
void zfs_argv_recv_abort(struct strvec *argv, const char *tool, const char *ds);
/* The inheritable properties a received stream must not choose: where a
 * file system is mounted, whether it is shared, what may execute from it
 * (NULL-terminated; mountpoint last: resetting it may mount) */
extern const char *const zfs_unsafe_props[];
/* zfs inherit <prop> ds (zfs-fuse takes no "--" here) */
void zfs_argv_inherit(struct strvec *argv, const char *tool, const char *prop, const char *ds);
/* zfs set <prop>=<value> ds */
void zfs_argv_set(struct strvec *argv, const char *tool, const char *prop, const char *value,
		  const char *ds);
/* zfs list -H -o name,type -t filesystem,volume,snapshot -r -- ds: ds, any
 * children, and their snapshots */
void zfs_argv_list_tree(struct strvec *argv, const char *tool, const char *ds);
/* zfs get -H -o value mounted,mountpoint -- ds */
void zfs_argv_get_mounted(struct strvec *argv, const char *tool, const char *ds);
/* zfs get -H -o property,value,source <zfs_unsafe_props>,canmount,mounted
 * -- ds: all that the reset after a receive needs to know, in one call */
void zfs_argv_get_secure_state(struct strvec *argv, const char *tool, const char *ds);
/* What that get printed: bit i of reset set for each zfs_unsafe_props[i]
 * whose value is not the default or inherited (a local or received one,
 * or the property missing from the text: then the reset runs as if it
 * were set), canmount_on, mounted, and the mountpoint. Returns 0, or
 * -EINVAL for text without canmount and mounted or with a malformed line. */
struct zfs_secure_state {
	unsigned reset;
	int canmount_on, mounted;
	struct strbuf mountpoint;
};
#define ZFS_SECURE_STATE_INIT { 0, 0, 0, STRBUF_INIT }
int zfs_parse_secure_state(const char *text, struct zfs_secure_state *st);
/* zfs mount ds */
void zfs_argv_mount(struct strvec *argv, const char *tool, const char *ds);
/* zfs list -Hp -t snapshot -o name,guid,creation -r -- ds, or where list
 * has no -p: zfs get -Hp -r -o name,property,value guid,creation -- ds */
void zfs_argv_list_snapshots(struct strvec *argv, const char *tool, const struct backend_caps *caps,
			     const char *ds);
/* zfs list -H -o name,type -t filesystem,volume -d 1 -- pool */
void zfs_argv_list_volumes(struct strvec *argv, const char *tool, const char *pool);
/* zfs destroy -- ds@snap */
void zfs_argv_destroy_snapshot(struct strvec *argv, const char *tool, const char *ds, const char *snap);
/* zfs rollback -r -- ds@snap */
void zfs_argv_rollback(struct strvec *argv, const char *tool, const char *ds, const char *snap);
/* zfs destroy -r -f -- ds */
void zfs_argv_destroy_volume(struct strvec *argv, const char *tool, const char *ds);

/* Fill caps from the full usage text (`zfs help`) and whether bookmarks
 * are there (the probe passes: the usage lists `zfs bookmark`). */
void zfs_caps_from_usage(struct backend_caps *caps, const char *usage, int bookmark_list_ok);

#endif
