#include "config/volrepcfg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/cidr.h"
#include "base/fileio.h"
#include "base/parse-util.h"
#include "cluster/store.h"

enum cfg_key {
	K_MAX_WORKERS,
	K_MAX_PER_TARGET,
	K_BWLIMIT,
	K_SHUTDOWN_GRACE,
	K_NOTIFY_MAIL,
	K_SENDMAIL,
	K_WEBHOOK,
	K_NOTIFY_TIMEOUT,
	K_METRICS_LISTEN,
	K_MAX_LAG,
	K_LOG_KEEP,
	K_API_LISTEN,
	K_API_CERT,
	K_API_KEY,
	K_STALL_TIMEOUT,
	K_COMPRESS,
	K_COMPRESS_LEVEL,
	K_SSH_CIPHER,
	K_MIGRATION_TYPE,
	K_MIGRATION_NETWORK,
	K_HA_GRACE,
	K_SSH_PERSIST,
	K_COUNT
};

/* The keyword table: name, value word for --help, help text. */
static const struct {
	const char *name;
	const char *arg;
	const char *help;
} keys[K_COUNT] = {
	[K_MAX_WORKERS] = { "max-workers", "N", "replication jobs running at once on this node, 1..256" },
	[K_MAX_PER_TARGET] = { "max-per-target", "N", "concurrent transfers (streams) to one target node, 1..256" },
	[K_BWLIMIT] = { "bwlimit", "MBPS", "node-wide bandwidth cap in MB/s (>= 1), shared by the running jobs" },
	[K_SHUTDOWN_GRACE] = { "shutdown-grace", "SECONDS",
			       "at shutdown, time running jobs get to finish before they are terminated, 0..86400" },
	[K_NOTIFY_MAIL] = { "notify-mail", "ADDR[,ADDR...]",
			    "mail failure notices to these recipients (user or user@domain)" },
	[K_SENDMAIL] = { "notify-sendmail-command", "PATH",
			 "absolute path of the sendmail program, run as 'PATH -t -oi'" },
	[K_WEBHOOK] = { "notify-webhook", "URL [format=json|ntfy|gotify] [header-file=PATH]",
			"POST notices as JSON to this http(s) URL (up to 8 of them)" },
	[K_NOTIFY_TIMEOUT] = { "notify-timeout", "SECONDS", "time one notification may take, 1..300" },
	[K_METRICS_LISTEN] = { "metrics-listen", "ADDR:PORT",
			       "serve Prometheus metrics (GET /metrics) on this address, e.g. 127.0.0.1:9108" },
	[K_MAX_LAG] = { "max-lag", "SECONDS",
			"a replica older than this is stale (0: twice the job's schedule interval)" },
	[K_LOG_KEEP] = { "log-keep", "N", "logs of earlier runs kept per job, 0..1000" },
	[K_API_LISTEN] = { "api-listen", "ADDR:PORT",
			   "serve the replication API and web panel here (plain HTTP only on loopback)" },
	[K_API_CERT] = { "api-cert", "PATH", "TLS certificate (PEM) of api-listen" },
	[K_API_KEY] = { "api-key", "PATH", "TLS private key (PEM) of api-listen" },
	[K_STALL_TIMEOUT] = { "stall-timeout", "SECONDS",
			      "a remote call or stream that moves no data for this long is killed, 1..86400" },
	[K_COMPRESS] = { "compress", "none|zstd|lz4",
			 "compression on the wire for jobs without their own 'compress'" },
	[K_COMPRESS_LEVEL] = { "compress-level", "N", "zstd compression level, 1..19 (lz4 has one level)" },
	[K_SSH_CIPHER] = { "ssh-cipher", "auto|default|NAME",
			   "ssh cipher of replication streams: auto (AES-GCM with AES instructions, else "
			   "ChaCha20-Poly1305), default (ssh's choice) or an OpenSSH cipher name" },
	[K_MIGRATION_TYPE] = { "migration-type", "secure|insecure",
			       "replication streams through ssh (secure) or over a direct, unencrypted TCP "
			       "connection (insecure; control stays on ssh)" },
	[K_MIGRATION_NETWORK] = { "migration-network", "CIDR",
				  "network of the direct connections (insecure), e.g. 10.1.0.0/24; none: the "
				  "target's address" },
	[K_HA_GRACE] = { "ha-grace", "SECONDS",
			 "etcd mode: a node's liveness key must have been gone this long before its HA guests are "
			 "recovered elsewhere, 1..86400 (docs/ha.md)" },
	[K_SSH_PERSIST] = { "ssh-persist", "SECONDS",
			    "seconds ssh keeps a connection to a target open after its last use, for the next "
			    "runs, 0..86400 (0: no connection sharing)" },
};

static const char *const compress_names[] = { "none", "zstd", "lz4" };

void volrep_cfg_init(struct volrep_cfg *cfg)
{
	/* also zeroes the padding: equal settings are equal bytes (memcmp) */
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_workers = VOLREP_CFG_DEFAULT_MAX_WORKERS;
	cfg->max_per_target = VOLREP_CFG_DEFAULT_MAX_PER_TARGET;
	cfg->bwlimit = 0;
	cfg->shutdown_grace = VOLREP_CFG_DEFAULT_SHUTDOWN_GRACE;
	snprintf(cfg->sendmail, sizeof(cfg->sendmail), "%s", VOLREP_CFG_DEFAULT_SENDMAIL);
	cfg->notify_timeout = VOLREP_CFG_DEFAULT_NOTIFY_TIMEOUT;
	cfg->log_keep = VOLREP_CFG_DEFAULT_LOG_KEEP;
	cfg->stall_timeout = VOLREP_CFG_DEFAULT_STALL_TIMEOUT;
	cfg->compress = 0;
	cfg->compress_level = VOLREP_CFG_DEFAULT_COMPRESS_LEVEL;
	snprintf(cfg->ssh_cipher, sizeof(cfg->ssh_cipher), "auto");
	cfg->ha_grace = VOLREP_CFG_DEFAULT_HA_GRACE;
	cfg->ssh_persist = VOLREP_CFG_DEFAULT_SSH_PERSIST;
}

/* A recipient: a local user or user@domain, no blanks, quotes or angle
 * brackets (it goes into a To: header), not starting with '-'. */
static bool valid_recipient(const char *s, size_t n)
{
	static const char local_ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+=-";
	size_t at = 0;

	if (n == 0 || n > 254 || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '@') {
			if (at || i == 0)
				return false;
			at = i;
		} else if (!at && !strchr(local_ok, s[i])) {
			return false;
		} else if (at && !(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-", s[i]))) {
			return false;
		}
	}
	return !at || (at + 1 < n && s[at + 1] != '.' && s[n - 1] != '.');
}

static bool valid_recipients(const char *v)
{
	if (!*v || strlen(v) >= sizeof(((struct volrep_cfg *)0)->notify_mail))
		return false;
	for (const char *p = v;;) {
		size_t n = strcspn(p, ",");

		if (!valid_recipient(p, n))
			return false;
		if (!p[n])
			return true;
		p += n + 1;
	}
}

/* An absolute path of printable characters without blanks. */
static bool valid_abs_path(const char *v, size_t max)
{
	if (v[0] != '/' || strlen(v) >= max)
		return false;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	size_t n = strlen(v);

	/* no ".." component: the path is what it looks like */
	return !strstr(v, "/../") && !(n >= 3 && !strcmp(v + n - 3, "/.."));
}

/* http:// or https:// with a host, printable ASCII without blanks. */
static bool valid_url(const char *v)
{
	const char *host;

	if (!strncmp(v, "http://", 7))
		host = v + 7;
	else if (!strncmp(v, "https://", 8))
		host = v + 8;
	else
		return false;
	if (strlen(v) >= sizeof(((struct volrep_webhook *)0)->url) || !*host || *host == '/')
		return false;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	return true;
}

int volrep_cfg_parse_listen(const char *s, struct sockaddr_storage *ss, unsigned *len)
{
	char host[64];
	const char *colon;
	uint64_t port;
	bool v6 = s[0] == '[';
	size_t n;

	if (v6) {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		n = (size_t)(end - s - 1);
		colon = end + 1;
		s++;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		n = (size_t)(colon - s);
	}
	if (n == 0 || n >= sizeof(host) || parse_uint_range(colon + 1, 1, 65535, &port) < 0)
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	if (v6) {
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port) };

		if (inet_pton(AF_INET6, host, &a6.sin6_addr) != 1)
			return -EINVAL;
		if (ss)
			memcpy(ss, &a6, sizeof(a6));
		if (len)
			*len = sizeof(a6);
	} else {
		struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };

		if (inet_pton(AF_INET, host, &a4.sin_addr) != 1)
			return -EINVAL;
		if (ss)
			memcpy(ss, &a4, sizeof(a4));
		if (len)
			*len = sizeof(a4);
	}
	return 0;
}

static const char *const webhook_formats[] = { [WEBHOOK_JSON] = "json", [WEBHOOK_NTFY] = "ntfy",
					       [WEBHOOK_GOTIFY] = "gotify" };

/* "URL [format=F] [header-file=PATH]": words of the value, blank-separated. */
static int set_webhook(struct volrep_cfg *cfg, char *words, struct strbuf *why)
{
	struct volrep_webhook wh;
	char *save = NULL, *w;
	int first = 1, seen_format = 0, seen_header = 0;

	memset(&wh, 0, sizeof(wh));
	if (cfg->nwebhooks == VOLREP_CFG_WEBHOOKS_MAX) {
		strbuf_addf(why, "too many 'notify-webhook' settings - at most %d", VOLREP_CFG_WEBHOOKS_MAX);
		return -EINVAL;
	}
	for (w = strtok_r(words, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save), first = 0) {
		if (first) {
			if (!valid_url(w)) {
				strbuf_addf(why, "invalid URL '%s' for 'notify-webhook' - expected http://HOST[:PORT]/PATH or https://...", w);
				return -EINVAL;
			}
			snprintf(wh.url, sizeof(wh.url), "%s", w);
		} else if (!strncmp(w, "format=", 7)) {
			int f = -1;

			if (seen_format++) {
				strbuf_addstr(why, "option 'format' given twice for 'notify-webhook'");
				return -EINVAL;
			}
			for (int i = 0; i < 3; i++)
				if (!strcmp(w + 7, webhook_formats[i]))
					f = i;
			if (f < 0) {
				strbuf_addf(why, "invalid format '%s' for 'notify-webhook' - expected json, ntfy or gotify", w + 7);
				return -EINVAL;
			}
			wh.format = (enum webhook_format)f;
		} else if (!strncmp(w, "header-file=", 12)) {
			if (seen_header++) {
				strbuf_addstr(why, "option 'header-file' given twice for 'notify-webhook'");
				return -EINVAL;
			}			if (!valid_abs_path(w + 12, sizeof(wh.header_file))) {
				strbuf_addf(why, "invalid header-file '%s' for 'notify-webhook' - expected an absolute path", w + 12);
				return -EINVAL;
			}
			snprintf(wh.header_file, sizeof(wh.header_file), "%s", w + 12);
		} else {
			strbuf_addf(why, "unknown option '%s' for 'notify-webhook' - expected format=... or header-file=...", w);
			return -EINVAL;
		}
	}
	cfg->webhook[cfg->nwebhooks++] = wh;
	return 0;
}

static int lookup(const char *name)
{
	for (int k = 0; k < K_COUNT; k++)
		if (!strcmp(keys[k].name, name))
			return k;
	return -1;
}

/* The settings that are a whole number: their field and bounds. */
static const struct {
	int k;
	unsigned min, max;
	size_t off;
} uint_keys[] = {
	{ K_MAX_WORKERS, 1, VOLREP_CFG_WORKERS_LIMIT, offsetof(struct volrep_cfg, max_workers) },
	{ K_MAX_PER_TARGET, 1, VOLREP_CFG_WORKERS_LIMIT, offsetof(struct volrep_cfg, max_per_target) },
	{ K_SHUTDOWN_GRACE, 0, VOLREP_CFG_GRACE_LIMIT, offsetof(struct volrep_cfg, shutdown_grace) },
	{ K_NOTIFY_TIMEOUT, 1, VOLREP_CFG_NOTIFY_TIMEOUT_LIMIT, offsetof(struct volrep_cfg, notify_timeout) },
	{ K_LOG_KEEP, 0, VOLREP_CFG_LOG_KEEP_LIMIT, offsetof(struct volrep_cfg, log_keep) },
	{ K_STALL_TIMEOUT, 1, VOLREP_CFG_GRACE_LIMIT, offsetof(struct volrep_cfg, stall_timeout) },
	{ K_COMPRESS_LEVEL, 1, 19, offsetof(struct volrep_cfg, compress_level) },
	{ K_HA_GRACE, 1, VOLREP_CFG_GRACE_LIMIT, offsetof(struct volrep_cfg, ha_grace) },
	{ K_SSH_PERSIST, 0, VOLREP_CFG_GRACE_LIMIT, offsetof(struct volrep_cfg, ssh_persist) },
};

/* k's field when it is a whole number (NULL: not one), and its bounds. */
static unsigned *uint_field(struct volrep_cfg *cfg, int k, uint64_t *min, uint64_t *max)
{
	for (size_t i = 0; i < sizeof(uint_keys) / sizeof(uint_keys[0]); i++)
		if (uint_keys[i].k == k) {
			*min = uint_keys[i].min;
			*max = uint_keys[i].max;
			return (unsigned *)((char *)cfg + uint_keys[i].off);
		}
	return NULL;
}

/* Numbers: 0, -ERANGE (not one, or out of bounds), -ENOENT (k is not
 * a number). */
static int set_number(struct volrep_cfg *cfg, int k, const char *value)
{
	uint64_t u, min, max;
	unsigned *field = uint_field(cfg, k, &min, &max);
	double d;

	if (field) {
		if (parse_uint_range(value, min, max, &u) < 0)
			return -ERANGE;
		*field = (unsigned)u;
		return 0;
	}
	switch (k) {
	case K_BWLIMIT:
		/* as a job's rate: at least 1 MB/s; a sanity upper bound
		 * keeps the byte rate far from overflow */
		if (parse_double(value, &d) < 0 || d < 1 || d > 1e6)
			return -ERANGE;
		cfg->bwlimit = d;
		return 0;
	case K_MAX_LAG:
		if (parse_uint_range(value, 0, VOLREP_CFG_MAX_LAG_LIMIT, &u) < 0)
			return -ERANGE;
		cfg->max_lag = (long long)u;
		return 0;
	}
	return -ENOENT;
}

/* A text setting's field: nothing of an earlier value behind the NUL
 * (equal settings are equal bytes). */
static void set_field(char *dst, size_t size, const char *value)
{
	memset(dst, 0, size);
	snprintf(dst, size, "%s", value);
}

/* Absolute paths: 0, or -EINVAL with the reason; -ENOENT (not a path). */
static int set_path(struct volrep_cfg *cfg, int k, const char *value, struct strbuf *why)
{
	char *dst;
	size_t size;

	switch (k) {
	case K_SENDMAIL:
		dst = cfg->sendmail, size = sizeof(cfg->sendmail);
		break;
	case K_API_CERT:
		dst = cfg->api_cert, size = sizeof(cfg->api_cert);
		break;
	case K_API_KEY:
		dst = cfg->api_key, size = sizeof(cfg->api_key);
		break;
	default:
		return -ENOENT;
	}
	if (!valid_abs_path(value, size)) {
		strbuf_addf(why, "invalid value '%s' for '%s' - expected an absolute path", value, keys[k].name);
		return -EINVAL;
	}
	set_field(dst, size, value);
	return 0;
}

/* Addresses, names and words: 0, -ERANGE, -ENOENT (none of those). */
static int set_word(struct volrep_cfg *cfg, int k, const char *value)
{
	struct cidr net;

	switch (k) {
	case K_METRICS_LISTEN:
	case K_API_LISTEN: {
		char *dst = k == K_API_LISTEN ? cfg->api_listen : cfg->metrics_listen;

		if (strlen(value) >= sizeof(cfg->api_listen) || volrep_cfg_parse_listen(value, NULL, NULL) < 0)
			return -ERANGE;
		set_field(dst, sizeof(cfg->api_listen), value);
		return 0;
	}
	case K_COMPRESS:
		for (unsigned i = 0; i < 3; i++)
			if (!strcmp(value, compress_names[i])) {
				cfg->compress = i;
				return 0;
			}
		return -ERANGE;
	case K_MIGRATION_TYPE:
		if (strcmp(value, "secure") && strcmp(value, "insecure"))
			return -ERANGE;
		cfg->migration_insecure = !strcmp(value, "insecure");
		return 0;
	case K_MIGRATION_NETWORK:
		if (cidr_parse(value, &net) < 0)
			return -ERANGE;
		/* canonical: the network itself, host bits cleared */
		memset(cfg->migration_network, 0, sizeof(cfg->migration_network));
		cidr_format(&net, cfg->migration_network, sizeof(cfg->migration_network));
		return 0;
	case K_SSH_CIPHER:
		/* [a-z0-9.@-], not starting with '-' (as ssh_valid_cipher) */
		if (!*value || strlen(value) >= sizeof(cfg->ssh_cipher) || value[0] == '-' ||
		    strspn(value, "abcdefghijklmnopqrstuvwxyz0123456789-.@") != strlen(value))
			return -ERANGE;
		set_field(cfg->ssh_cipher, sizeof(cfg->ssh_cipher), value);
		return 0;
	}
	return -ENOENT;
}

/* Set key k from value; on error append the reason (without position). */
static int set_value(struct volrep_cfg *cfg, int k, const char *value, struct strbuf *why)
{
	int r;

	if (k == K_NOTIFY_MAIL) {
		if (!valid_recipients(value)) {
			strbuf_addf(why, "invalid value '%s' for '%s' - expected user or user@domain, comma-separated", value,
				    keys[k].name);
			return -EINVAL;
		}
		set_field(cfg->notify_mail, sizeof(cfg->notify_mail), value);
		return 0;
	}
	r = set_number(cfg, k, value);
	if (r == -ENOENT)
		r = set_path(cfg, k, value, why);
	if (r == -ENOENT)
		r = set_word(cfg, k, value);
	if (r == -ERANGE) {
		strbuf_addf(why, "invalid value '%s' for '%s' - expected %s", value, keys[k].name, keys[k].help);
		return -EINVAL;
	}
	return r < 0 ? -EINVAL : 0;
}

int volrep_cfg_parse(struct volrep_cfg *cfg, const char *name, const char *text, size_t len,
		     struct strbuf *err)
{
	struct volrep_cfg tmp;
	struct strbuf line = STRBUF_INIT, why = STRBUF_INIT;
	unsigned seen[K_COUNT] = { 0 };
	unsigned lineno = 0;
	size_t pos = 0;
	int r = 0;

	volrep_cfg_init(&tmp);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *p, *key, *val, *extra;
		int k;

		lineno++;
		strbuf_reset(&line);
		strbuf_add(&line, text + pos, n);
		pos += n + (nl ? 1 : 0);
		if (memchr(line.buf, '\0', line.len)) {
			strbuf_addstr(&why, "line contains a NUL byte");
			goto fail;
		}
		p = line.buf;
		p += strspn(p, " \t\r");
		if (!*p || *p == '#')
			continue;
		key = p;
		p += strcspn(p, " \t\r");
		if (*p)
			*p++ = '\0';
		p += strspn(p, " \t\r");
		val = p;
		k = lookup(key);
		if (k == K_WEBHOOK && *val) {
			/* the URL and its options */
			seen[k] = lineno;
			if (set_webhook(&tmp, val, &why) < 0)
				goto fail;
			continue;
		}
		p += strcspn(p, " \t\r");
		if (*p)
			*p++ = '\0';
		extra = p + strspn(p, " \t\r");
		if (k < 0) {
			strbuf_addf(&why, "unknown setting '%s'", key);
			goto fail;
		}
		if (!*val) {
			strbuf_addf(&why, "setting '%s' needs a value", key);
			goto fail;
		}
		if (*extra) {
			strbuf_addf(&why, "unexpected text '%s' after the value of '%s'", extra, key);
			goto fail;
		}
		if (seen[k]) {
			strbuf_addf(&why, "setting '%s' given twice (first on line %u)", key, seen[k]);
			goto fail;
		}
		seen[k] = lineno;
		if (set_value(&tmp, k, val, &why) < 0)
			goto fail;
	}
	*cfg = tmp;
	goto out;
fail:
	strbuf_addf(err, "%s:%u: %s", name, lineno, why.buf);
	r = -EINVAL;
out:
	strbuf_release(&line);
	strbuf_release(&why);
	return r;
}

int volrep_cfg_load(struct volrep_cfg *cfg, const char *config_dir, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	int r;

	if (store_cluster()) {
		strbuf_addf(&path, "%s/%s", store_cluster()->where, VOLREP_CFG_NAME);
		r = store_read(store_cluster(), VOLREP_CFG_NAME, 0, &text, NULL, err);
		if (r == 1)
			r = -ENOENT;
		else if (r == 0 && text.len > VOLREP_CFG_MAX)
			r = -EFBIG;
		else if (r < 0)
			goto out;
	} else {
		strbuf_addf(&path, "%s/%s", config_dir, VOLREP_CFG_NAME);
		r = strbuf_read_file(&text, path.buf, VOLREP_CFG_MAX);
	}
	if (r == -ENOENT) {
		volrep_cfg_init(cfg);
		r = 0;
	} else if (r < 0) {
		strbuf_addf(err, "unable to read '%s' - %s", path.buf,
			    r == -EFBIG ? "file larger than 64 KiB" : file_strerror(r));
	} else {
		r = volrep_cfg_parse(cfg, path.buf, text.buf, text.len, err);
	}
out:
	strbuf_release(&path);
	strbuf_release(&text);
	return r;
}

void volrep_cfg_format(const struct volrep_cfg *cfg, struct strbuf *out)
{
	strbuf_addf(out, "%s %u\n", keys[K_MAX_WORKERS].name, cfg->max_workers);
	strbuf_addf(out, "%s %u\n", keys[K_MAX_PER_TARGET].name, cfg->max_per_target);
	if (cfg->bwlimit > 0)
		strbuf_addf(out, "%s %.17g\n", keys[K_BWLIMIT].name, cfg->bwlimit);
	strbuf_addf(out, "%s %u\n", keys[K_SHUTDOWN_GRACE].name, cfg->shutdown_grace);
	/* the newer settings only when not at their default, so that the
	 * form of a file without them stays as it was */
	if (cfg->notify_mail[0])
		strbuf_addf(out, "%s %s\n", keys[K_NOTIFY_MAIL].name, cfg->notify_mail);
	if (strcmp(cfg->sendmail, VOLREP_CFG_DEFAULT_SENDMAIL))
		strbuf_addf(out, "%s %s\n", keys[K_SENDMAIL].name, cfg->sendmail);
	for (unsigned i = 0; i < cfg->nwebhooks; i++) {
		const struct volrep_webhook *w = &cfg->webhook[i];

		strbuf_addf(out, "%s %s", keys[K_WEBHOOK].name, w->url);
		if (w->format != WEBHOOK_JSON)
			strbuf_addf(out, " format=%s", webhook_formats[w->format]);
		if (w->header_file[0])
			strbuf_addf(out, " header-file=%s", w->header_file);
		strbuf_addch(out, '\n');
	}
	if (cfg->notify_timeout != VOLREP_CFG_DEFAULT_NOTIFY_TIMEOUT)
		strbuf_addf(out, "%s %u\n", keys[K_NOTIFY_TIMEOUT].name, cfg->notify_timeout);
	if (cfg->metrics_listen[0])
		strbuf_addf(out, "%s %s\n", keys[K_METRICS_LISTEN].name, cfg->metrics_listen);
	if (cfg->max_lag)
		strbuf_addf(out, "%s %lld\n", keys[K_MAX_LAG].name, cfg->max_lag);
	if (cfg->log_keep != VOLREP_CFG_DEFAULT_LOG_KEEP)
		strbuf_addf(out, "%s %u\n", keys[K_LOG_KEEP].name, cfg->log_keep);
	if (cfg->api_listen[0])
		strbuf_addf(out, "%s %s\n", keys[K_API_LISTEN].name, cfg->api_listen);
	if (cfg->api_cert[0])
		strbuf_addf(out, "%s %s\n", keys[K_API_CERT].name, cfg->api_cert);
	if (cfg->api_key[0])
		strbuf_addf(out, "%s %s\n", keys[K_API_KEY].name, cfg->api_key);
	if (cfg->stall_timeout != VOLREP_CFG_DEFAULT_STALL_TIMEOUT)
		strbuf_addf(out, "%s %u\n", keys[K_STALL_TIMEOUT].name, cfg->stall_timeout);
	if (cfg->compress)
		strbuf_addf(out, "%s %s\n", keys[K_COMPRESS].name, compress_names[cfg->compress]);
	if (cfg->compress_level != VOLREP_CFG_DEFAULT_COMPRESS_LEVEL)
		strbuf_addf(out, "%s %u\n", keys[K_COMPRESS_LEVEL].name, cfg->compress_level);
	if (strcmp(cfg->ssh_cipher, "auto"))
		strbuf_addf(out, "%s %s\n", keys[K_SSH_CIPHER].name, cfg->ssh_cipher);
	if (cfg->migration_insecure)
		strbuf_addf(out, "%s insecure\n", keys[K_MIGRATION_TYPE].name);
	if (cfg->migration_network[0])
		strbuf_addf(out, "%s %s\n", keys[K_MIGRATION_NETWORK].name, cfg->migration_network);
	if (cfg->ha_grace != VOLREP_CFG_DEFAULT_HA_GRACE)
		strbuf_addf(out, "%s %u\n", keys[K_HA_GRACE].name, cfg->ha_grace);
	if (cfg->ssh_persist != VOLREP_CFG_DEFAULT_SSH_PERSIST)
		strbuf_addf(out, "%s %u\n", keys[K_SSH_PERSIST].name, cfg->ssh_persist);
}

void volrep_cfg_describe(struct strbuf *out)
{
	static const char *const dflt[K_COUNT] = {
		[K_MAX_WORKERS] = "4",
		[K_MAX_PER_TARGET] = "2",
		[K_BWLIMIT] = "none",
		[K_SHUTDOWN_GRACE] = "60",
		[K_NOTIFY_MAIL] = "none",
		[K_SENDMAIL] = VOLREP_CFG_DEFAULT_SENDMAIL,
		[K_WEBHOOK] = "none",
		[K_NOTIFY_TIMEOUT] = "10",
		[K_METRICS_LISTEN] = "off",
		[K_MAX_LAG] = "0",
		[K_LOG_KEEP] = "10",
		[K_API_LISTEN] = "off",
		[K_API_CERT] = "none",
		[K_API_KEY] = "none",
		[K_STALL_TIMEOUT] = "300",
		[K_COMPRESS] = "none",
		[K_COMPRESS_LEVEL] = "3",
		[K_SSH_CIPHER] = "auto",
		[K_MIGRATION_TYPE] = "secure",
		[K_MIGRATION_NETWORK] = "none",
		[K_HA_GRACE] = "60",
		[K_SSH_PERSIST] = "900",
	};

	for (int k = 0; k < K_COUNT; k++) {
		struct strbuf left = STRBUF_INIT;

		strbuf_addf(&left, "%s %s", keys[k].name, keys[k].arg);
		if (left.len > 24)
			strbuf_addf(out, "  %s\n  %-24s %s (default %s)\n", left.buf, "", keys[k].help, dflt[k]);
		else
			strbuf_addf(out, "  %-24s %s (default %s)\n", left.buf, keys[k].help, dflt[k]);
		strbuf_release(&left);
	}
}
