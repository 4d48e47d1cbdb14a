/* <config_dir>/volrep.cfg: cluster-wide settings of the scheduler daemon.
 *
 * One setting per line, "key value", separated by blanks; '#' starts a
 * comment line; blank lines are ignored:
 *
 *     # volrep daemon settings (same on every node)
 *     max-workers 4
 *     max-per-target 2
 *     bwlimit 100
 *     shutdown-grace 60
 *     notify-mail root@example.com,ops@example.com
 *     notify-webhook https://ntfy.example.com/ format=ntfy header-file=/etc/volrep/ntfy.hdr
 *     metrics-listen 127.0.0.1:9108
 *     stall-timeout 300
 *
 * notify-webhook may be given up to VOLREP_CFG_WEBHOOKS_MAX times (one
 * target each) and takes options after the URL; every other key takes
 * exactly one value. docs/monitoring.md describes the notification and
 * metrics keys for admins.
 *
 * Parsing is strict (openssh readconf style): unknown keys, missing or
 * extra values, out-of-range numbers and a key given twice are errors of
 * the form "<file>:<line>: <message>", and then nothing is applied. A
 * missing file means all defaults. volrep_cfg_format() prints the
 * canonical form, which parses back to the same settings. */
#ifndef VOLREP_CONFIG_VOLREPCFG_H
#define VOLREP_CONFIG_VOLREPCFG_H

#include <stddef.h>

#include "base/strbuf.h"

#define VOLREP_CFG_NAME "volrep.cfg"
/* A settings file is a handful of lines; anything larger is a mistake
 * (or not our file), and refusing it bounds the parser's work. */
#define VOLREP_CFG_MAX (64 * 1024)

#define VOLREP_CFG_DEFAULT_MAX_WORKERS 4
#define VOLREP_CFG_DEFAULT_MAX_PER_TARGET 2
#define VOLREP_CFG_DEFAULT_SHUTDOWN_GRACE 60
#define VOLREP_CFG_DEFAULT_HA_GRACE 60
/* Upper bounds: more workers than this would only thrash the disks and
 * exhaust ssh sessions; a grace longer than a day is surely a typo. */
#define VOLREP_CFG_WORKERS_LIMIT 256
#define VOLREP_CFG_GRACE_LIMIT 86400

#define VOLREP_CFG_DEFAULT_SENDMAIL "/usr/sbin/sendmail"
#define VOLREP_CFG_DEFAULT_NOTIFY_TIMEOUT 10
#define VOLREP_CFG_DEFAULT_LOG_KEEP 10
/* Five minutes without a byte: far beyond a busy pool's pauses (a
 * zfs-fuse snapshot removal retries for 15 s), short enough that a hung
 * target does not hold a guest's lock for long. */
#define VOLREP_CFG_DEFAULT_STALL_TIMEOUT 300
#define VOLREP_CFG_DEFAULT_COMPRESS_LEVEL 3
/* a quarter hour: the runs of a job every 15 minutes, and every job's
 * runs to the same target in between, reuse one connection */
#define VOLREP_CFG_DEFAULT_SSH_PERSIST 900
#define VOLREP_CFG_WEBHOOKS_MAX 8
#define VOLREP_CFG_LOG_KEEP_LIMIT 1000
/* five minutes: a longer wait for one notification is a hung server */
#define VOLREP_CFG_NOTIFY_TIMEOUT_LIMIT 300
/* ten years of lag is surely a typo */
#define VOLREP_CFG_MAX_LAG_LIMIT (10LL * 366 * 86400)

/* What a webhook's JSON body looks like (notify/webhook.h). */
enum webhook_format { WEBHOOK_JSON, WEBHOOK_NTFY, WEBHOOK_GOTIFY };

struct volrep_webhook {
	char url[1024];         /* http:// or https://, printable ASCII */
	char header_file[256];  /* "" = none; absolute path of "Name: value" lines */
	enum webhook_format format;
};

struct volrep_cfg {
	unsigned max_workers;    /* jobs running at once on this node */
	unsigned max_per_target; /* concurrent transfers to one target node (engine/xferslot.h) */
	double bwlimit;          /* node-wide MB/s (10^6 bytes) shared by running jobs; 0 = none */
	unsigned shutdown_grace; /* seconds running jobs get to finish at shutdown */
	/* notifications (notify/notify.h); fixed-size so that the settings
	 * stay a plain value the daemon can copy and compare */
	char notify_mail[1024];  /* comma-separated recipients, "" = no mail */
	char sendmail[256];      /* absolute path of the sendmail program */
	struct volrep_webhook webhook[VOLREP_CFG_WEBHOOKS_MAX];
	unsigned nwebhooks;
	unsigned notify_timeout; /* seconds one delivery may take */
	char metrics_listen[80]; /* "ADDR:PORT" of GET /metrics, "" = off */
	long long max_lag;       /* seconds a replica may lag before "stale"; 0 = twice the interval */
	unsigned log_keep;       /* logs of earlier runs kept per job */
	char api_listen[80];     /* "ADDR:PORT" of the API and web panel (src/api), "" = off */
	char api_cert[256];      /* TLS certificate and key (PEM paths), "" = plain HTTP */
	char api_key[256];
	unsigned stall_timeout;  /* seconds without data before a remote call or stream is killed */
	unsigned compress;       /* jobs' default codec on the wire: 0 none, 1 zstd, 2 lz4 (exec/wire.h) */
	unsigned compress_level; /* zstd level 1..19 */
	char ssh_cipher[65];     /* "auto", "default" or an OpenSSH cipher name */
	/* the direct data path (transport/direct.h): 1 = migration-type
	 * insecure; its network ("" = the target's address) */
	unsigned migration_insecure;
	char migration_network[64];
	unsigned ha_grace;       /* etcd mode: seconds a node's liveness key is gone before HA recovers (docs/ha.md) */
	unsigned ssh_persist;    /* seconds ssh's control master outlives its last use; 0 = no sharing */
};

/* Parse a metrics-listen value: "A.B.C.D:PORT" or "[IPV6]:PORT", port
 * 1..65535. Returns 0 and fills *ss and *len (either may be NULL), or -EINVAL. */
struct sockaddr_storage;
int volrep_cfg_parse_listen(const char *s, struct sockaddr_storage *ss, unsigned *len);

/* The defaults above, bwlimit none. */
void volrep_cfg_init(struct volrep_cfg *cfg);

/* Parse text (len bytes; name is used in messages, normally the path).
 * Returns 0 and fills *cfg (defaults for what is not given), or -EINVAL
 * with "<name>:<line>: <message>" appended to err and *cfg untouched. */
int volrep_cfg_parse(struct volrep_cfg *cfg, const char *name, const char *text, size_t len,
		     struct strbuf *err);

/* Read <config_dir>/volrep.cfg (missing: defaults). Returns 0, -EINVAL
 * (parse error) or -errno (read error, -EFBIG over VOLREP_CFG_MAX), with
 * the message in err; *cfg untouched on failure. */
int volrep_cfg_load(struct volrep_cfg *cfg, const char *config_dir, struct strbuf *err);

/* Append the canonical form (every setting, in table order; bwlimit only
 * when set) to out. */
void volrep_cfg_format(const struct volrep_cfg *cfg, struct strbuf *out);

/* One line per setting for `volrep daemon --help`: "  key VALUE  help
 * (default D)". */
void volrep_cfg_describe(struct strbuf *out);

#endif
