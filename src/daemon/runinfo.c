#include "daemon/runinfo.h"

#include <errno.h>
#include <string.h>

#include "base/parse-util.h"

int runinfo_parse_bytes(const char *text, const char *jobid, uint64_t *ret)
{
	size_t idlen = strlen(jobid);
	uint64_t sum = 0;
	int found = 0;

	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		/* "YYYY-MM-DD HH:MM:SS <jobid>: transferred <N> bytes" */
		const char *p = len > 20 ? line + 20 : NULL;

		if (p && !strncmp(p, jobid, idlen) && !strncmp(p + idlen, ": transferred ", 14)) {
			char num[24];
			size_t n;
			uint64_t v;

			p += idlen + 14;
			n = strspn(p, "0123456789");
			if (n && n < sizeof(num) && !strncmp(p + n, " bytes", 6)) {
				memcpy(num, p, n);
				num[n] = '\0';
				if (parse_u64(num, &v) == 0 && sum + v >= sum) {
					sum += v;
					found = 1;
				}
			}
		}
		line += len + (end ? 1 : 0);
	}
	if (!found)
		return -ENOENT;
	*ret = sum;
	return 0;
}

int runinfo_bytes(const char *log_dir, const char *jobid, uint64_t *ret)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	int r;

	strbuf_addf(&path, "%s/%s", log_dir, jobid);
	r = strbuf_read_file(&text, path.buf, RUNINFO_LOG_MAX);
	if (r == 0)
		r = runinfo_parse_bytes(text.buf, jobid, ret);
	strbuf_release(&path);
	strbuf_release(&text);
	return r;
}

void runinfo_format_size(uint64_t bytes, struct strbuf *out)
{
	if (bytes < 1000)
		strbuf_addf(out, "%u B", (unsigned)bytes);
	else if (bytes < 1000000)
		strbuf_addf(out, "%.1f kB", (double)bytes / 1e3);
	else if (bytes < 1000000000)
		strbuf_addf(out, "%.1f MB", (double)bytes / 1e6);
	else
		strbuf_addf(out, "%.2f GB", (double)bytes / 1e9);
}
