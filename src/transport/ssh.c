#include "transport/ssh.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/quote.h"
#include "base/validate.h"
#include "base/xalloc.h"

static int valid_dns_name(const char *s)
{
	size_t n = strlen(s), label = 0;
	char prev = '.';

	if (!n || n > 253)
		return 0;
	for (const char *p = s; *p; p++) {
		char ch = *p;

		if (ch == '.') {
			if (prev == '.' || prev == '-')
				return 0;
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			   (ch >= '0' && ch <= '9') || ch == '-') {
			if (ch == '-' && prev == '.')
				return 0;
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
		prev = ch;
	}
	return prev != '.' && prev != '-';
}

int ssh_valid_address(const char *s)
{
	unsigned char addr[16];

	if (!s || !*s || s[0] == '-')
		return 0;
	if (strchr(s, ':'))
		return strlen(s) < INET6_ADDRSTRLEN && inet_pton(AF_INET6, s, addr) == 1;
	/* all digits and dots: must then be a real IPv4 address, so that
	 * "1.2.3.999" is refused instead of being looked up as a name */
	if (strspn(s, "0123456789.") == strlen(s))
		return inet_pton(AF_INET, s, addr) == 1;
	return valid_dns_name(s);
}

int ssh_private_dir(const char *dir)
{
	struct stat st;
	char *copy;

	if (!dir || dir[0] != '/')
		return -EINVAL;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		if (errno != ENOENT)
			return -errno;
		/* create the parents, then retry */
		copy = xstrdup(dir);
		for (char *p = copy + 1; (p = strchr(p, '/')); p++) {
			*p = '\0';
			if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
				int e = errno;

				free(copy);
				return -e;
			}
			*p = '/';
		}
		free(copy);
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return -errno;
	}
	if (lstat(dir, &st) < 0)
		return -errno;
	/* another user's directory (or a symlink to one) would let them
	 * redirect our connections through their master */
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
		return -EPERM;
	return 0;
}

static int ssh_prepare(const struct transport *t, const char *const *argv, struct child *c)
{
	struct strbuf remote = STRBUF_INIT;
	struct strvec *a = &c->args;
	int r;

	if (t->control_dir) {
		r = ssh_private_dir(t->control_dir);
		if (r < 0)
			return r;
	}
	strvec_pushv(a, (const char *const *)t->cmd.v);
	strvec_push(a, "-e");
	strvec_push(a, "none");
	strvec_push(a, "-T");
	strvec_push(a, "-x");
	strvec_push(a, "-a");
	strvec_push(a, "-o");
	strvec_push(a, "BatchMode=yes");
	strvec_push(a, "-o");
	strvec_pushf(a, "HostKeyAlias=%s", t->node);
	strvec_push(a, "-o");
	strvec_pushf(a, "ConnectTimeout=%d", SSH_CONNECT_TIMEOUT);
	strvec_push(a, "-o");
	strvec_pushf(a, "ServerAliveInterval=%d", SSH_ALIVE_INTERVAL);
	strvec_push(a, "-o");
	strvec_pushf(a, "ServerAliveCountMax=%d", SSH_ALIVE_COUNT);
	if (t->control_dir) {
		strvec_push(a, "-o");
		strvec_push(a, "ControlMaster=auto");
		strvec_push(a, "-o");
		strvec_pushf(a, "ControlPersist=%u", t->control_persist);
		strvec_push(a, "-o");
		strvec_pushf(a, "ControlPath=%s/%%C", t->control_dir);
	} else {
		strvec_push(a, "-o");
		strvec_push(a, "ControlMaster=no");
		strvec_push(a, "-o");
		strvec_push(a, "ControlPath=none");
	}
	strvec_push(a, "--");
	strvec_pushf(a, "%s@%s", t->user, t->address);
	/* one argument: ssh would join several with spaces anyway, and this
	 * way no option parsing of ssh can ever see a remote word */
	sq_quote_argv(&remote, argv);
	strvec_push(a, remote.buf);
	strbuf_release(&remote);
	return 0;
}

static int ssh_map_exit(const struct transport *t, int code)
{
	(void)t;
	/* ssh reports its own failures as 255; volrep never exits 255 */
	return code == 255 ? -ENOTCONN : code;
}

int ssh_unreachable(const char *err)
{
	static const char *const down[] = { "No route to host", "Connection refused", "Connection timed out", NULL };
	int seen = 0;

	if (!err)
		return 0;
	/* every line of ssh's own complaints must be one of these: a host key
	 * warning next to a timeout is not a dead node */
	for (const char *line = err; *line;) {
		size_t n = strcspn(line, "\n");
		int ok = 0;

		if (n && strspn(line, " \t\r") < n) {
			for (size_t k = 0; down[k] && !ok; k++)
				ok = memmem(line, n, down[k], strlen(down[k])) != NULL;
			if (!ok)
				return 0;
			seen = 1;
		}
		line += n;
		if (*line)
			line++;
	}
	return seen;
}

const struct transport_ops ssh_transport_ops = {
	.name = "ssh",
	.prepare = ssh_prepare,
	.map_exit = ssh_map_exit,
};

int transport_ssh_init(struct transport *t, const char *node, const char *address,
		       const char *state_dir)
{
	const char *ssh = getenv("VOLREP_SSH");
	const char *cdir = getenv("VOLREP_SSH_CONTROL_DIR");
	struct strvec cmd = STRVEC_INIT;

	if (!valid_node_name(node) || !ssh_valid_address(address))
		return -EINVAL;
	if (cdir && *cdir && (cdir[0] != '/' || strlen(cdir) > SSH_CONTROL_DIR_MAX))
		return -EINVAL;
	if (ssh && *ssh) {
		for (const char *p = ssh; *p;) {
			size_t n;

			p += strspn(p, " \t");
			n = strcspn(p, " \t");
			if (n)
				strvec_pushf(&cmd, "%.*s", (int)n, p);
			p += n;
		}
	}
	if (!cmd.nr) {
		struct strbuf key = STRBUF_INIT;

		strvec_push(&cmd, "ssh");
		if (ssh_volrep_key(&key) == 0 && access(key.buf, R_OK) == 0) {
			strvec_push(&cmd, "-i");
			strvec_push(&cmd, key.buf);
		}
		strbuf_release(&key);
	}
	transport_release(t);
	t->ops = &ssh_transport_ops;
	t->stall_timeout = TRANSPORT_STALL_DEFAULT;
	t->node = xstrdup(node);
	t->address = xstrdup(address);
	t->user = xstrdup("root");
	t->cmd = cmd;
	t->control_persist = SSH_CONTROL_PERSIST;
	if (cdir) {
		t->control_dir = *cdir ? xstrdup(cdir) : NULL;
	} else if (state_dir && state_dir[0] == '/' && strlen(state_dir) + 4 <= SSH_CONTROL_DIR_MAX) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addf(&sb, "%s/ssh", state_dir);
		t->control_dir = strbuf_detach(&sb, NULL);
	} else {
		t->control_dir = xstrdup(SSH_CONTROL_DIR_FALLBACK);
	}
	return 0;
}

int ssh_volrep_key(struct strbuf *path)
{
	const struct passwd *pw = getpwuid(geteuid());

	strbuf_reset(path);
	if (!pw || !pw->pw_dir || pw->pw_dir[0] != '/')
		return -ENOENT;
	strbuf_addf(path, "%s/.ssh/id_volrep", strcmp(pw->pw_dir, "/") ? pw->pw_dir : "");
	return 0;
}

int transport_ssh_set_port(struct transport *t, unsigned port)
{
	if (t->ops != &ssh_transport_ops || port < 1 || port > 65535)
		return -EINVAL;
	/* after VOLREP_SSH's words: a -p given there comes first and wins */
	strvec_push(&t->cmd, "-p");
	strvec_pushf(&t->cmd, "%u", port);
	return 0;
}

int transport_ssh_set_persist(struct transport *t, unsigned seconds)
{
	if (t->ops != &ssh_transport_ops)
		return -EINVAL;
	if (!seconds) {
		free(t->control_dir);
		t->control_dir = NULL;
	}
	t->control_persist = seconds;
	return 0;
}

int ssh_valid_cipher(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	/* OpenSSH cipher names: "aes128-gcm@openssh.com", "aes256-ctr", ... */
	return n > 0 && n <= 64 && s[0] != '-' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-.@") == n;
}

const char *ssh_cipher_auto(const char *cpuinfo)
{
	/* the "flags" line lists " aes " where the CPU has AES instructions:
	 * AES-GCM is then the fastest of OpenSSH's ciphers, else
	 * ChaCha20-Poly1305 is */
	for (const char *p = cpuinfo; p && (p = strstr(p, "flags")); p++) {
		const char *eol = strchr(p, '\n'), *a = strstr(p, " aes");

		if (a && (!eol || a < eol) && (a[4] == ' ' || a[4] == '\n' || a[4] == '\0'))
			return SSH_CIPHER_AES;
		if (!eol)
			break;
		p = eol;
	}
	return SSH_CIPHER_CHACHA;
}

int transport_ssh_set_cipher(struct transport *t, const char *cipher)
{
	if (t->ops != &ssh_transport_ops || !ssh_valid_cipher(cipher))
		return -EINVAL;
	/* after VOLREP_SSH's words: a -c given there comes first and wins */
	strvec_push(&t->cmd, "-c");
	strvec_push(&t->cmd, cipher);
	return 0;
}
