#include "api/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/pbkdf2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/xalloc.h"

#define TOKENS_MAX_SIZE (1u << 20)

static const char hexd[] = "0123456789abcdef";

static void to_hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hexd[b[i] >> 4];
		out[2 * i + 1] = hexd[b[i] & 15];
	}
	out[2 * n] = '\0';
}

static int from_hex(const char *s, uint8_t *b, size_t n)
{
	if (strlen(s) != 2 * n || strspn(s, hexd) != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)((strchr(hexd, s[2 * i]) - hexd) * 16 + (strchr(hexd, s[2 * i + 1]) - hexd));
	return 0;
}

static int random_bytes(uint8_t *b, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(b + got, n - got, 0);

		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0)
			got += (size_t)r;
	}
	return 0;
}

static int part_ok(const char *s, size_t n, int letter_first)
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";

	if (n == 0 || (letter_first && !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strchr(ok, s[i]) || !s[i])
			return 0;
	return s[0] != '-' && s[0] != '.';
}

int api_token_id_valid(const char *id)
{
	const char *at = strchr(id, '@'), *bang = strchr(id, '!');

	if (strlen(id) > 128 || !at || !bang || bang < at)
		return 0;
	return part_ok(id, (size_t)(at - id), 0) && part_ok(at + 1, (size_t)(bang - at - 1), 0) &&
	       part_ok(bang + 1, strlen(bang + 1), 1);
}

void api_token_hash(const uint8_t salt[16], const char *secret, char out[65])
{
	uint8_t dk[32];

	pbkdf2_hmac_sha256(strlen(secret), (const uint8_t *)secret, API_PBKDF2_ITER, 16, salt, sizeof(dk), dk);
	to_hex(dk, sizeof(dk), out);
}

/* ---- the token file ---- */

static void tokens_path(struct strbuf *path, const char *state_dir, const char *suffix)
{
	strbuf_addf(path, "%s/api-tokens%s", state_dir, suffix);
}

/* Read the file (missing: empty) after checking that it is ours and
 * private: a token file others can read or replace is refused. */
static int read_private(const char *path, struct strbuf *text, struct strbuf *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY), r;

	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		r = -errno;
		strbuf_addf(err, "unable to open '%s' - %s", path, strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077) ||
	    st.st_size > (off_t)TOKENS_MAX_SIZE) {
		strbuf_addf(err, "refusing '%s' - it must be a regular file of uid %u with mode 0600 (at most 1 MiB)",
			    path, (unsigned)geteuid());
		close(fd);
		return -EPERM;
	}
	for (;;) {
		char buf[4096];
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			strbuf_addf(err, "unable to read '%s' - %s", path, strerror(errno));
			close(fd);
			return r;
		}
		if (n == 0)
			break;
		strbuf_add(text, buf, (size_t)n);
		if (text->len > TOKENS_MAX_SIZE)
			break;
	}
	close(fd);
	return 0;
}

struct token {
	char id[129];
	int write;
	uint8_t salt[16];
	char hash[65];
};

/* Parse the lines; malformed ones are skipped (and dropped on the next
 * write). */
static size_t parse_tokens(const char *text, struct token **out)
{
	size_t nr = 0, alloc = 0;
	struct token *v = NULL;
	const char *p = text;

	while (*p) {
		size_t n = strcspn(p, "\n");
		char line[512], id[200], rw[4], salt[64], hash[80];

		if (n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = '\0';
			if (sscanf(line, "%199s %3s %63s %79s", id, rw, salt, hash) == 4 && api_token_id_valid(id) &&
			    (!strcmp(rw, "r") || !strcmp(rw, "w")) && strlen(hash) == 64 && strspn(hash, hexd) == 64) {
				if (nr == alloc) {
					alloc = alloc ? 2 * alloc : 8;
					v = xrealloc(v, alloc * sizeof(*v));
				}
				if (from_hex(salt, v[nr].salt, 16) == 0) {
					memcpy(v[nr].id, id, strlen(id) + 1); /* valid: <= 128 */
					v[nr].write = rw[0] == 'w';
					memcpy(v[nr].hash, hash, 65);
					nr++;
				}
			}
		}
		p += n;
		if (*p)
			p++;
	}
	*out = v;
	return nr;
}

static int load_tokens(const char *state_dir, struct token **v, size_t *nr, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	int r;

	tokens_path(&path, state_dir, "");
	r = read_private(path.buf, &text, err);
	*v = NULL;
	*nr = r < 0 ? 0 : parse_tokens(text.buf, v);
	strbuf_release(&text);
	strbuf_release(&path);
	return r;
}

static int write_tokens(const char *state_dir, const struct token *v, size_t nr, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	int r;

	for (size_t i = 0; i < nr; i++) {
		char salt[33];

		to_hex(v[i].salt, 16, salt);
		strbuf_addf(&text, "%s %c %s %s\n", v[i].id, v[i].write ? 'w' : 'r', salt, v[i].hash);
	}
	tokens_path(&path, state_dir, "");
	r = write_file_atomic(path.buf, text.buf, text.len, 0600);
	if (r < 0)
		strbuf_addf(err, "unable to write '%s' - %s", path.buf, strerror(-r));
	strbuf_release(&text);
	strbuf_release(&path);
	return r;
}

static int lock_tokens(const char *state_dir, struct lock *lk, struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT;
	int r;

	r = mkdir_p(state_dir, 0755);
	if (r < 0) {
		strbuf_addf(err, "unable to create '%s' - %s", state_dir, strerror(-r));
		return r;
	}
	tokens_path(&path, state_dir, ".lck");
	r = lock_acquire(lk, path.buf, 10000);
	if (r < 0)
		strbuf_addf(err, "can't lock file '%s' - %s", path.buf, r == -ETIMEDOUT ? "got timeout" : strerror(-r));
	strbuf_release(&path);
	return r;
}

static void uuid_format(const uint8_t b[16], struct strbuf *out)
{
	char h[33];
	uint8_t c[16];

	memcpy(c, b, 16);
	c[6] = (uint8_t)((c[6] & 0x0f) | 0x40);
	c[8] = (uint8_t)((c[8] & 0x3f) | 0x80);
	to_hex(c, 16, h);
	strbuf_addf(out, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
}

int api_token_add(const char *state_dir, const char *id, int write, struct strbuf *secret, struct strbuf *err)
{
	struct lock lk = LOCK_INIT;
	struct token *v = NULL;
	size_t nr = 0;
	uint8_t rnd[16];
	int r;

	if (!api_token_id_valid(id)) {
		strbuf_addf(err, "invalid token id '%s' - expected USER@REALM!TOKENID (letters, digits, '.', '_', '-')",
			    id);
		return -EINVAL;
	}
	if ((r = lock_tokens(state_dir, &lk, err)) < 0)
		return r;
	if ((r = load_tokens(state_dir, &v, &nr, err)) < 0)
		goto out;
	for (size_t i = 0; i < nr; i++) {
		if (!strcmp(v[i].id, id)) {
			strbuf_addf(err, "token '%s' already exists", id);
			r = -EEXIST;
			goto out;
		}
	}
	v = xrealloc(v, (nr + 1) * sizeof(*v));
	memset(&v[nr], 0, sizeof(v[nr]));
	memcpy(v[nr].id, id, strlen(id) + 1); /* valid: <= 128 */
	v[nr].write = write;
	if ((r = random_bytes(v[nr].salt, 16)) < 0 || (r = random_bytes(rnd, sizeof(rnd))) < 0) {
		strbuf_addf(err, "no random bytes - %s", strerror(-r));
		goto out;
	}
	strbuf_reset(secret);
	uuid_format(rnd, secret);
	api_token_hash(v[nr].salt, secret->buf, v[nr].hash);
	r = write_tokens(state_dir, v, nr + 1, err);
out:
	free(v);
	lock_release(&lk);
	return r;
}

int api_token_remove(const char *state_dir, const char *id, struct strbuf *err)
{
	struct lock lk = LOCK_INIT;
	struct token *v = NULL;
	size_t nr = 0, j = 0;
	int r;

	if ((r = lock_tokens(state_dir, &lk, err)) < 0)
		return r;
	if ((r = load_tokens(state_dir, &v, &nr, err)) < 0)
		goto out;
	for (size_t i = 0; i < nr; i++)
		if (strcmp(v[i].id, id))
			v[j++] = v[i];
	if (j == nr) {
		strbuf_addf(err, "no such token '%s' (see 'volrep api token list')", id);
		r = -ENOENT;
		goto out;
	}
	r = write_tokens(state_dir, v, j, err);
out:
	free(v);
	lock_release(&lk);
	return r;
}

int api_token_list(const char *state_dir, struct strvec *out, struct strbuf *err)
{
	struct token *v = NULL;
	size_t nr = 0;
	int r = load_tokens(state_dir, &v, &nr, err);

	for (size_t i = 0; i < nr; i++) {
		char line[160];

		snprintf(line, sizeof(line), "%s %s", v[i].id, v[i].write ? "write" : "read-only");
		strvec_push(out, line);
	}
	free(v);
	return r;
}

int api_token_verify(const char *state_dir, const char *id, const char *secret, int *write, struct strbuf *err)
{
	struct token *v = NULL;
	size_t nr = 0;
	int r = load_tokens(state_dir, &v, &nr, err);

	if (r < 0)
		goto out;
	r = -EACCES;
	if (strlen(secret) > 256)
		goto out;
	for (size_t i = 0; i < nr; i++) {
		char h[65];

		if (strcmp(v[i].id, id))
			continue;
		api_token_hash(v[i].salt, secret, h);
		if (memeql_sec(h, v[i].hash, 64)) {
			*write = v[i].write;
			r = 0;
		}
		break;
	}
out:
	free(v);
	return r;
}

int api_token_header_parse(const char *h, struct strbuf *id, struct strbuf *secret)
{
	const char *p, *eq;

	if (strncmp(h, "PVEAPIToken", 11) || (h[11] != '=' && h[11] != ' '))
		return -EINVAL;
	p = h + 12;
	eq = strchr(p, '=');
	if (!eq || eq == p || !eq[1])
		return -EINVAL;
	strbuf_reset(id);
	strbuf_add(id, p, (size_t)(eq - p));
	strbuf_reset(secret);
	strbuf_addstr(secret, eq + 1);
	return api_token_id_valid(id->buf) ? 0 : -EINVAL;
}

/* ---- tickets ---- */

static void mac_hex(const uint8_t key[32], const char *a, const char *b, char out[65])
{
	struct hmac_sha256_ctx c;
	uint8_t d[SHA256_DIGEST_SIZE];

	hmac_sha256_set_key(&c, 32, key);
	hmac_sha256_update(&c, strlen(a), (const uint8_t *)a);
	hmac_sha256_update(&c, 1, (const uint8_t *)"\n");
	hmac_sha256_update(&c, strlen(b), (const uint8_t *)b);
	hmac_sha256_digest(&c, sizeof(d), d);
	to_hex(d, sizeof(d), out);
}

void api_ticket_sign(const uint8_t key[32], const char *id, int write, int64_t t, struct strbuf *ticket,
		     struct strbuf *csrf)
{
	struct strbuf body = STRBUF_INIT;
	char mac[65], tm[20];

	snprintf(tm, sizeof(tm), "%08" PRIX64, (uint64_t)t);
	strbuf_addf(&body, "VOLREP:%s:%s:%c", id, tm, write ? 'w' : 'r');
	mac_hex(key, "ticket", body.buf, mac);
	strbuf_reset(ticket);
	strbuf_addf(ticket, "%s::%s", body.buf, mac);
	if (csrf) {
		strbuf_reset(&body);
		strbuf_addf(&body, "%s:%s", tm, id);
		mac_hex(key, "csrf", body.buf, mac);
		strbuf_reset(csrf);
		strbuf_addf(csrf, "%s:%s", tm, mac);
	}
	strbuf_release(&body);
}

static int time_ok(const char *tm, size_t n, int64_t now)
{
	char buf[20];
	char *end;
	unsigned long long t;

	if (n != 8 || strspn(tm, "0123456789ABCDEF") < 8)
		return 0;
	memcpy(buf, tm, 8);
	buf[8] = '\0';
	t = strtoull(buf, &end, 16);
	/* a little clock skew between nodes is fine, a ticket from the future is not */
	return (int64_t)t <= now + 300 && now - (int64_t)t < API_TICKET_LIFETIME;
}

int api_ticket_check(const uint8_t key[32], const char *ticket, int64_t now, struct strbuf *id, int *write)
{
	const char *sep = strstr(ticket, "::"), *p;
	struct strbuf body = STRBUF_INIT;
	char mac[65];
	int r = -EACCES;

	if (strncmp(ticket, "VOLREP:", 7) || !sep || strlen(sep + 2) != 64 || strlen(ticket) > 300)
		return -EACCES;
	strbuf_add(&body, ticket, (size_t)(sep - ticket));
	mac_hex(key, "ticket", body.buf, mac);
	if (!memeql_sec(mac, sep + 2, 64))
		goto out;
	/* VOLREP:<id>:<time>:<r|w>; the id has no ':' */
	p = body.buf + 7;
	{
		const char *c1 = strchr(p, ':'), *c2;

		if (!c1 || !(c2 = strchr(c1 + 1, ':')) || strlen(c2) != 2 || !time_ok(c1 + 1, (size_t)(c2 - c1 - 1), now))
			goto out;
		strbuf_reset(id);
		strbuf_add(id, p, (size_t)(c1 - p));
		*write = c2[1] == 'w';
		r = api_token_id_valid(id->buf) ? 0 : -EACCES;
	}
out:
	strbuf_release(&body);
	return r;
}

int api_csrf_check(const uint8_t key[32], const char *id, const char *csrf, int64_t now)
{
	struct strbuf body = STRBUF_INIT;
	char mac[65];
	int ok;

	if (strlen(csrf) != 8 + 1 + 64 || csrf[8] != ':' || !time_ok(csrf, 8, now))
		return -EACCES;
	strbuf_add(&body, csrf, 8);
	strbuf_addf(&body, ":%s", id);
	mac_hex(key, "csrf", body.buf, mac);
	ok = memeql_sec(mac, csrf + 9, 64);
	strbuf_release(&body);
	return ok ? 0 : -EACCES;
}

/* The node's ticket key, created on first use. */
static int ticket_key(const char *state_dir, uint8_t key[32], struct strbuf *err)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT;
	struct lock lk = LOCK_INIT;
	int r;

	strbuf_addf(&path, "%s/api-ticket.key", state_dir);
	r = read_private(path.buf, &text, err);
	if (r == 0 && text.len >= 64 && from_hex((text.buf[64] = '\0', text.buf), key, 32) == 0)
		goto out;
	if (r < 0)
		goto out;
	if ((r = lock_tokens(state_dir, &lk, err)) < 0)
		goto out;
	strbuf_reset(&text);
	r = read_private(path.buf, &text, err);
	if (r == 0 && text.len >= 64 && from_hex((text.buf[64] = '\0', text.buf), key, 32) == 0)
		goto out;
	if (r == 0 && (r = random_bytes(key, 32)) == 0) {
		char hex[66];

		to_hex(key, 32, hex);
		hex[64] = '\n';
		hex[65] = '\0';
		r = write_file_atomic(path.buf, hex, 65, 0600);
		if (r < 0)
			strbuf_addf(err, "unable to write '%s' - %s", path.buf, strerror(-r));
	}
out:
	lock_release(&lk);
	strbuf_release(&text);
	strbuf_release(&path);
	return r;
}

int api_ticket_make(const char *state_dir, const char *id, int write, int64_t now, struct strbuf *ticket,
		    struct strbuf *csrf, struct strbuf *err)
{
	uint8_t key[32];
	int r = ticket_key(state_dir, key, err);

	if (r == 0)
		api_ticket_sign(key, id, write, now, ticket, csrf);
	return r;
}

int api_ticket_verify(const char *state_dir, const char *ticket, int64_t now, struct strbuf *id, int *write)
{
	struct strbuf err = STRBUF_INIT;
	uint8_t key[32];
	int r = ticket_key(state_dir, key, &err);

	strbuf_release(&err);
	return r < 0 ? -EACCES : api_ticket_check(key, ticket, now, id, write);
}

int api_csrf_verify(const char *state_dir, const char *id, const char *csrf, int64_t now)
{
	struct strbuf err = STRBUF_INIT;
	uint8_t key[32];
	int r = ticket_key(state_dir, key, &err);

	strbuf_release(&err);
	return r < 0 ? -EACCES : api_csrf_check(key, id, csrf, now);
}
