#include "backend/probe-cache.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/xalloc.h"

/* a cache file is one line: the key, a tab, the caps in hex */
#define PROBE_CACHE_MAX 8192

static char *cache_dir;

void probe_cache_set_dir(const char *dir)
{
	free(cache_dir);
	cache_dir = dir && *dir ? xstrdup(dir) : NULL;
}

/* The file execvp would run for tool, into path (as PATH finds it; a
 * name with a '/' is itself). Returns 0, or -ENOENT. */
static int resolve_tool(const char *tool, struct strbuf *path, struct stat *st)
{
	const char *p = getenv("PATH");

	if (strchr(tool, '/')) {
		strbuf_addstr(path, tool);
		return stat(tool, st) == 0 && S_ISREG(st->st_mode) ? 0 : -ENOENT;
	}
	if (!p)
		p = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*p) {
		size_t n = strcspn(p, ":");

		strbuf_reset(path);
		strbuf_add(path, n ? p : ".", n ? n : 1);
		strbuf_addf(path, "/%s", tool);
		if (stat(path->buf, st) == 0 && S_ISREG(st->st_mode) && access(path->buf, X_OK) == 0)
			return 0;
		p += n + (p[n] == ':');
	}
	return -ENOENT;
}

static void add_stat(struct strbuf *key, const struct stat *st, int full)
{
	strbuf_addf(key, " %ju %ju %jd.%09ld", (uintmax_t)st->st_dev, (uintmax_t)st->st_ino,
		    (intmax_t)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	if (full)
		strbuf_addf(key, " %jd %jd.%09ld", (intmax_t)st->st_size, (intmax_t)st->st_ctim.tv_sec,
			    st->st_ctim.tv_nsec);
}

/* The key of tool's probe, and the file it is kept in. 0 or -errno. */
static int cache_key(const char *type_name, const char *tool, struct strbuf *key, struct strbuf *file)
{
	struct strbuf path = STRBUF_INIT;
	struct stat st, self;
	int r = -ENOENT;

	if (!cache_dir || stat("/proc/self/exe", &self) < 0 || resolve_tool(tool, &path, &st) < 0)
		goto out;
	/* the key is one line of one file: no separators in the path */
	if (strpbrk(path.buf, "\t\n"))
		goto out;
	strbuf_addf(key, "volrep-probe 1 %s", type_name);
	add_stat(key, &self, 0);
	strbuf_addf(key, " %s", path.buf);
	add_stat(key, &st, 1);
	strbuf_addf(file, "%s/probe.%s", cache_dir, type_name);
	r = 0;
out:
	strbuf_release(&path);
	return r;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int probe_cache_load(const char *type_name, const char *tool, void *caps, size_t size)
{
	struct strbuf key = STRBUF_INIT, file = STRBUF_INIT, text = STRBUF_INIT;
	unsigned char *out = xmalloc(size);
	const char *hex;
	int ok = 0, fd = -1;

	if (cache_key(type_name, tool, &key, &file) < 0)
		goto out;
	/* not through a symlink planted there */
	fd = open_regular(file.buf, O_RDONLY, 0, 1);
	if (fd < 0 || strbuf_read_fd(&text, fd, PROBE_CACHE_MAX) < 0)
		goto out;
	if (strncmp(text.buf, key.buf, key.len) || text.buf[key.len] != '\t')
		goto out;
	hex = text.buf + key.len + 1;
	if (strlen(hex) != 2 * size + 1 || hex[2 * size] != '\n')
		goto out;
	for (size_t i = 0; i < size; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			goto out;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	memcpy(caps, out, size);
	ok = 1;
out:
	if (fd >= 0)
		close(fd);
	free(out);
	strbuf_release(&key);
	strbuf_release(&file);
	strbuf_release(&text);
	return ok;
}

void probe_cache_store(const char *type_name, const char *tool, const void *caps, size_t size)
{
	struct strbuf key = STRBUF_INIT, file = STRBUF_INIT;
	const unsigned char *c = caps;
	int r;

	if (cache_key(type_name, tool, &key, &file) < 0)
		goto out;
	strbuf_addch(&key, '\t');
	for (size_t i = 0; i < size; i++)
		strbuf_addf(&key, "%02x", c[i]);
	strbuf_addch(&key, '\n');
	r = write_file_atomic(file.buf, key.buf, key.len, 0644);
	if (r < 0)
		debug("probe cache %s not written: %s", file.buf, file_strerror(r));
out:
	strbuf_release(&key);
	strbuf_release(&file);
}
