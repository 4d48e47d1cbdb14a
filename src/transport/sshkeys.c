#include "transport/sshkeys.h"

#include <errno.h>
#include <string.h>

static const char *const key_types[] = {
	"ssh-ed25519",
	"ssh-rsa",
	"ecdsa-sha2-nistp256",
	"ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521",
	"sk-ssh-ed25519@openssh.com",
	"sk-ecdsa-sha2-nistp256@openssh.com",
	NULL,
};

int sshkey_valid_type(const char *s)
{
	for (const char *const *t = key_types; *t; t++)
		if (!strcmp(*t, s))
			return 1;
	return 0;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* the next blank-separated word of [*p, end) into w (at most max bytes);
 * returns its length, 0 at the end, -1 when it is too long */
static long next_word(const char **p, const char *end, char *w, size_t max)
{
	const char *s = *p, *e;

	while (s < end && is_blank(*s))
		s++;
	for (e = s; e < end && !is_blank(*e); e++)
		;
	*p = e;
	if ((size_t)(e - s) > max)
		return -1;
	memcpy(w, s, (size_t)(e - s));
	w[e - s] = '\0';
	return (long)(e - s);
}

static int valid_blob(const char *b)
{
	size_t n = strlen(b), pad = 0;

	if (n < 16 || n > SSHKEY_BLOB_MAX || n % 4)
		return 0;
	while (pad < n && b[n - 1 - pad] == '=')
		pad++;
	return pad <= 2 &&
	       strspn(b, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") == n - pad;
}

static int valid_comment(const char *c)
{
	return strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@._+-") == strlen(c);
}

/* parse "TYPE BLOB" from [p, end) into k; returns 0 or -EINVAL */
static int parse_type_blob(const char **p, const char *end, struct sshkey *k, struct strbuf *err)
{
	long n = next_word(p, end, k->type, sizeof(k->type) - 1);

	if (n <= 0 || !sshkey_valid_type(k->type)) {
		if (err)
			strbuf_addf(err, "unknown key type '%.40s' (accepted: ssh-ed25519, ssh-rsa, ecdsa-sha2-*, sk-*)",
				    n > 0 ? k->type : "");
		return -EINVAL;
	}
	n = next_word(p, end, k->blob, SSHKEY_BLOB_MAX);
	if (n <= 0 || !valid_blob(k->blob)) {
		if (err)
			strbuf_addstr(err, "the key is not base64 data after its type");
		return -EINVAL;
	}
	return 0;
}

int sshkey_parse_pub(const char *s, size_t len, struct sshkey *k, struct strbuf *err)
{
	const char *end = s + len, *p = s;
	long n;

	if (len && end[-1] == '\n')
		end--;
	if (memchr(s, '\n', (size_t)(end - s)) || memchr(s, '\0', (size_t)(end - s)) ||
	    memchr(s, '\r', (size_t)(end - s))) {
		if (err)
			strbuf_addstr(err, "a public key is one line");
		return -EINVAL;
	}
	memset(k, 0, sizeof(*k));
	if (parse_type_blob(&p, end, k, err) < 0)
		return -EINVAL;
	n = next_word(&p, end, k->comment, SSHKEY_COMMENT_MAX);
	if (n < 0 || !valid_comment(k->comment)) {
		if (err)
			strbuf_addf(err, "key comment not of [A-Za-z0-9@._+-], at most %d characters",
				    SSHKEY_COMMENT_MAX);
		return -EINVAL;
	}
	while (p < end && is_blank(*p))
		p++;
	if (p != end) {
		if (err)
			strbuf_addstr(err, "text after the key comment");
		return -EINVAL;
	}
	return 0;
}

size_t sshkey_parse_hosts(const char *text, size_t len, struct strvec *keys)
{
	const char *end = text + len;
	size_t added = 0;

	for (const char *line = text; line < end;) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		const char *p = line;
		char host[256];
		struct sshkey k;

		if (!eol)
			eol = end;
		if (!memchr(line, '\0', (size_t)(eol - line)) && next_word(&p, eol, host, sizeof(host) - 1) > 0 &&
		    host[0] != '#' && host[0] != '@' && parse_type_blob(&p, eol, &k, NULL) == 0 &&
		    (p == eol || is_blank(*p) || *p == '\r')) {
			strvec_pushf(keys, "%s %s", k.type, k.blob);
			added++;
		}
		line = eol < end ? eol + 1 : end;
	}
	return added;
}

void sshkey_known_hosts_line(struct strbuf *out, const char *alias, const char *key)
{
	strbuf_addf(out, "%s %s\n", alias, key);
}

void sshkey_authorized_line(struct strbuf *out, const char *peer, const char *cluster, const struct sshkey *k)
{
	strbuf_addf(out, "command=\"volrep %s%s%sserve --peer %s\",restrict %s %s%s%s\n", cluster ? "--cluster " : "",
		    cluster ? cluster : "", cluster ? " " : "", peer, k->type, k->blob, k->comment[0] ? " " : "",
		    k->comment);
}

int sshkey_valid_cluster(const char *url)
{
	size_t n = url ? strlen(url) : 0;

	return n > 0 && n <= 512 && url[0] != '-' &&
	       strspn(url, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:/.,_@%+=-") == n;
}

/* whether [line, eol) holds "TYPE BLOB" as two words */
static int line_has_key(const char *line, const char *eol, const struct sshkey *k)
{
	size_t tn = strlen(k->type), bn = strlen(k->blob);

	for (const char *p = line; p + tn + 1 + bn <= eol; p++) {
		if ((p != line && !is_blank(p[-1])) || memcmp(p, k->type, tn) || !is_blank(p[tn]) ||
		    memcmp(p + tn + 1, k->blob, bn))
			continue;
		if (p + tn + 1 + bn == eol || is_blank(p[tn + 1 + bn]) || p[tn + 1 + bn] == '\r')
			return 1;
	}
	return 0;
}

enum sshkey_merge sshkey_merge_authorized(const char *existing, size_t len, const char *line,
					  const struct sshkey *k, struct strbuf *out)
{
	const char *end = existing ? existing + len : NULL;
	enum sshkey_merge what = SSHKEY_ADDED;
	size_t ln = strlen(line);

	strbuf_reset(out);
	for (const char *l = existing; l && l < end;) {
		const char *eol = memchr(l, '\n', (size_t)(end - l));
		size_t n;

		if (!eol)
			eol = end;
		n = (size_t)(eol - l);
		if (line_has_key(l, eol, k)) {
			/* the first one becomes the new line, later copies go */
			if (what == SSHKEY_ADDED) {
				what = n + 1 == ln && !memcmp(l, line, n) ? SSHKEY_UNCHANGED : SSHKEY_REPLACED;
				strbuf_addstr(out, line);
			} else {
				what = SSHKEY_REPLACED;
			}
		} else {
			strbuf_add(out, l, n);
			strbuf_addch(out, '\n');
		}
		l = eol < end ? eol + 1 : end;
	}
	if (what == SSHKEY_ADDED)
		strbuf_addstr(out, line);
	return what;
}
