#include "config/volrepcfg.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "base/parse-util.h"
#include "cluster/store.h"

enum cfg_key { K_MAX_WORKERS, K_MAX_PER_TARGET, K_BWLIMIT, K_SHUTDOWN_GRACE, K_COUNT };

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
};

void volrep_cfg_init(struct volrep_cfg *cfg)
{
	cfg->max_workers = VOLREP_CFG_DEFAULT_MAX_WORKERS;
	cfg->max_per_target = VOLREP_CFG_DEFAULT_MAX_PER_TARGET;
	cfg->bwlimit = 0;
	cfg->shutdown_grace = VOLREP_CFG_DEFAULT_SHUTDOWN_GRACE;
}

static int lookup(const char *name)
{
	for (int k = 0; k < K_COUNT; k++)
		if (!strcmp(keys[k].name, name))
			return k;
	return -1;
}

/* Set key k from value; on error append the reason (without position). */
static int set_value(struct volrep_cfg *cfg, int k, const char *value, struct strbuf *why)
{
	uint64_t u;
	double d;

	switch (k) {
	case K_MAX_WORKERS:
	case K_MAX_PER_TARGET:
		if (parse_uint_range(value, 1, VOLREP_CFG_WORKERS_LIMIT, &u) < 0)
			goto range;
		if (k == K_MAX_WORKERS)
			cfg->max_workers = (unsigned)u;
		else
			cfg->max_per_target = (unsigned)u;
		return 0;
	case K_SHUTDOWN_GRACE:
		if (parse_uint_range(value, 0, VOLREP_CFG_GRACE_LIMIT, &u) < 0)
			goto range;
		cfg->shutdown_grace = (unsigned)u;
		return 0;
	case K_BWLIMIT:
		/* as a job's rate: at least 1 MB/s; a sanity upper bound
		 * keeps the byte rate far from overflow */
		if (parse_double(value, &d) < 0 || d < 1 || d > 1e6)
			goto range;
		cfg->bwlimit = d;
		return 0;
	}
	return -EINVAL;
range:
	strbuf_addf(why, "invalid value '%s' for '%s' - expected %s", value, keys[k].name, keys[k].help);
	return -EINVAL;
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
		p += strcspn(p, " \t\r");
		if (*p)
			*p++ = '\0';
		extra = p + strspn(p, " \t\r");
		k = lookup(key);
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
			    r == -EFBIG ? "file larger than 64 KiB" : strerror(-r));
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
}

void volrep_cfg_describe(struct strbuf *out)
{
	static const char *const dflt[K_COUNT] = {
		[K_MAX_WORKERS] = "4",
		[K_MAX_PER_TARGET] = "2",
		[K_BWLIMIT] = "none",
		[K_SHUTDOWN_GRACE] = "60",
	};

	for (int k = 0; k < K_COUNT; k++) {
		struct strbuf left = STRBUF_INIT;

		strbuf_addf(&left, "%s %s", keys[k].name, keys[k].arg);
		strbuf_addf(out, "  %-24s %s (default %s)\n", left.buf, keys[k].help, dflt[k]);
		strbuf_release(&left);
	}
}
