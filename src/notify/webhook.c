#include "notify/webhook.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/dl-curl.h"

static bool valid_header_name(const char *s, size_t n)
{
	if (n == 0 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-'))
			return false;
	return true;
}

int webhook_parse_headers(const char *text, size_t len, const char *name, struct strvec *out, struct strbuf *err)
{
	struct strbuf line = STRBUF_INIT;
	unsigned lineno = 0;
	size_t pos = 0;
	int r = 0;

	while (pos < len && r == 0) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		const char *p, *colon, *v;

		lineno++;
		strbuf_reset(&line);
		strbuf_add(&line, text + pos, n);
		pos += n + (nl ? 1 : 0);
		if (memchr(line.buf, '\0', line.len)) {
			strbuf_addf(err, "%s:%u: line contains a NUL byte", name, lineno);
			r = -EINVAL;
			break;
		}
		strbuf_rtrim(&line);
		p = line.buf + strspn(line.buf, " \t");
		if (!*p || *p == '#')
			continue;
		colon = strchr(p, ':');
		if (!colon || !valid_header_name(p, (size_t)(colon - p))) {
			strbuf_addf(err, "%s:%u: expected 'Name: value'", name, lineno);
			r = -EINVAL;
			break;
		}
		v = colon + 1 + strspn(colon + 1, " \t");
		for (const char *q = line.buf; q < line.buf + line.len; q++)
			if ((unsigned char)*q < 0x20 && *q != '\t') {
				strbuf_addf(err, "%s:%u: control character in a header", name, lineno);
				r = -EINVAL;
				break;
			}
		if (r == 0)
			strvec_pushf(out, "%.*s: %s", (int)(colon - p), p, v);
	}
	strbuf_release(&line);
	return r;
}

int webhook_load_headers(const char *path, struct strvec *out, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	struct stat sb;
	char buf[1024];
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		strbuf_addf(err, "cannot open header file '%s' - %s", path, strerror(errno));
		return r;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		strbuf_addf(err, "header file '%s' is not a regular file", path);
		r = -EINVAL;
	} else if (sb.st_uid != 0 && sb.st_uid != geteuid()) {
		strbuf_addf(err, "header file '%s' is owned by uid %u - expected root", path, (unsigned)sb.st_uid);
		r = -EPERM;
	} else if (sb.st_mode & 077) {
		strbuf_addf(err, "header file '%s' is accessible by group or others (mode %04o) - expected mode 0600",
			    path, (unsigned)(sb.st_mode & 07777));
		r = -EPERM;
	}
	while (r == 0 && (n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			strbuf_addf(err, "cannot read header file '%s' - %s", path, strerror(errno));
		} else if (text.len + (size_t)n > WEBHOOK_HEADER_FILE_MAX) {
			strbuf_addf(err, "header file '%s' is larger than %d bytes", path, WEBHOOK_HEADER_FILE_MAX);
			r = -EFBIG;
		} else {
			strbuf_add(&text, buf, (size_t)n);
		}
	}
	close(fd);
	if (r == 0)
		r = webhook_parse_headers(text.buf, text.len, path, out, err);
	strbuf_release(&text);
	return r;
}

/* the answer is not needed; it is read and dropped */
static size_t discard(char *ptr, size_t size, size_t nmemb, void *data)
{
	(void)ptr;
	(void)data;
	return size * nmemb;
}

int webhook_post(const char *url, const struct strvec *headers, const char *body, unsigned timeout_s,
		 struct strbuf *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hl = NULL;
	long status = 0;
	CURLcode rc;
	CURL *h;
	int r;

	r = curl_dl_load(err);
	if (r < 0)
		return r;
	h = sym_curl_easy_init();
	if (!h) {
		strbuf_addstr(err, "cannot initialize libcurl");
		return -ENOMEM;
	}
	hl = sym_curl_slist_append(hl, "Content-Type: application/json");
	for (size_t i = 0; i < headers->nr; i++)
		hl = sym_curl_slist_append(hl, headers->v[i]);
	sym_curl_easy_setopt(h, CURLOPT_URL, url);
	sym_curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	sym_curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	sym_curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	sym_curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	sym_curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	sym_curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)timeout_s);
	sym_curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)timeout_s);
	/* no signals: the timeout must not rely on SIGALRM */
	sym_curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	sym_curl_easy_setopt(h, CURLOPT_USERAGENT, "volrep/" VOLREP_VERSION);
	sym_curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	sym_curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	rc = sym_curl_easy_perform(h);
	if (rc != CURLE_OK) {
		strbuf_addstr(err, errbuf[0] ? errbuf : sym_curl_easy_strerror(rc));
		r = -EIO;
	} else {
		sym_curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		if (status < 200 || status > 299) {
			strbuf_addf(err, "server answered HTTP %ld", status);
			r = -EIO;
		}
	}
	sym_curl_slist_free_all(hl);
	sym_curl_easy_cleanup(h);
	return r;
}
