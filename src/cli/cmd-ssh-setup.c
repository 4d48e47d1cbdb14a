/* volrep ssh-setup <node>: set up and check ssh from this node to a
 * target, in the order a run needs it, and stop at the first step that
 * cannot be done, saying on one line what is wrong:
 *
 *   key       the dedicated key (ssh_volrep_key(), or the -i file of
 *             VOLREP_SSH); created with ssh-keygen when missing
 *   host key  the target's host key in ssh's known_hosts under the node
 *             name (volrep's HostKeyAlias): kept when there, else copied
 *             from an entry for the address (a key the admin accepted
 *             before), else scanned and recorded only when its fingerprint
 *             is confirmed (--fingerprint) or --accept-new says so
 *   login     the key logs in and the forced command answers `version`
 *             (through the very transport of a run: nodes.cfg address
 *             and port, BatchMode, the alias)
 *   install   when it does not: `volrep ssh-authorize --peer <this node>
 *             <key>` on the target through the admin's own ssh login
 *             (root, the target's host key checked under the alias), or,
 *             when that is impossible or --no-install, the exact line to
 *             add there; then the login is checked again
 *
 * volrep ssh-authorize --peer NODE [--cluster URL] 'TYPE BLOB [COMMENT]':
 * the target half,
 * run by the above over the admin's login (never by `volrep serve`: a
 * peer's key must not add keys): puts the line
 *   command="volrep [--cluster URL ]serve --peer NODE",restrict TYPE BLOB COMMENT
 * into the user's ~/.ssh/authorized_keys, replacing a line with the same
 * key, atomically, mode 0600. */
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fileio.h"
#include "base/log.h"
#include "base/quote.h"
#include "base/sanitize.h"
#include "base/strbuf.h"
#include "base/strvec.h"
#include "base/validate.h"
#include "cli/cmds.h"
#include "cli/commands.h"
#include "cli/opts.h"
#include "config/cluster.h"
#include "engine/remote.h"
#include "exec/spawn.h"
#include "transport/ssh.h"
#include "transport/sshkeys.h"
#include "transport/transport.h"

#define OUT_MAX 65536
#define SSH_SETUP_USAGE "<node> [--fingerprint SHA256:...] [--accept-new] [--no-install]"

struct setup {
	const struct context *ctx;
	const struct cluster_node *n;
	const char *node;
	struct strbuf where;      /* "ADDR" or "ADDR port N", for messages */
	struct strbuf key;        /* private key file */
	struct strbuf known;      /* ssh's user known_hosts file */
	struct strbuf host;       /* where ssh connects (ssh -G: nodes.cfg, ~/.ssh/config) */
	unsigned port;            /* and its port */
	struct sshkey pub;
	const char *fingerprint;  /* --fingerprint */
	int accept_new, no_install;
};

static void say(const char *level, const char *what, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(const char *level, const char *what, const char *fmt, ...)
{
	va_list ap;

	printf("%-5s %s: ", level, what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* the first line of untrusted text, made printable */
static const char *first_line(const char *text, struct strbuf *buf)
{
	size_t n = strcspn(text, "\n");

	strbuf_reset(buf);
	strbuf_add_sanitized(buf, text, n > 200 ? 200 : n, 0);
	return buf->buf;
}

static const char *home_dir(void)
{
	const struct passwd *pw = getpwuid(geteuid());

	return pw && pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : NULL;
}

/* the -i file of the transport's ssh words, else NULL */
static const char *transport_identity(const struct transport *t)
{
	for (size_t i = 1; i + 1 < t->cmd.nr; i++)
		if (!strcmp(t->cmd.v[i], "-i"))
			return t->cmd.v[i + 1];
	return NULL;
}

static int make_key(struct setup *s)
{
	struct strbuf dir = STRBUF_INIT, err = STRBUF_INIT, l = STRBUF_INIT;
	const char *slash = strrchr(s->key.buf, '/');
	int r;

	strbuf_add(&dir, s->key.buf, (size_t)(slash - s->key.buf));
	if (mkdir(dir.buf, 0700) < 0 && errno != EEXIST) {
		say("error", "key", "cannot create '%s': %s", dir.buf, strerror(errno));
		r = -1;
	} else {
		struct strbuf comment = STRBUF_INIT;
		const char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", NULL, "-f",
				       s->key.buf, NULL };

		strbuf_addf(&comment, "volrep@%s", s->ctx->node);
		argv[7] = comment.buf;
		r = run_capture(argv, NULL, 0, NULL, &err, OUT_MAX);
		if (r != 0)
			say("error", "key", "ssh-keygen could not create '%s': %s", s->key.buf,
			    r < 0 ? strerror(-r) : first_line(err.buf, &l));
		else
			say("ok", "key", "created '%s' (ed25519) for volrep", s->key.buf);
		strbuf_release(&comment);
	}
	strbuf_release(&dir);
	strbuf_release(&err);
	strbuf_release(&l);
	return r == 0 ? 0 : -1;
}

/* s->pub from "<key>.pub", or from the private key (ssh-keygen -y) */
static int read_pub(struct setup *s)
{
	struct strbuf path = STRBUF_INIT, text = STRBUF_INIT, err = STRBUF_INIT, l = STRBUF_INIT;
	int r;

	strbuf_addf(&path, "%s.pub", s->key.buf);
	r = strbuf_read_file(&text, path.buf, OUT_MAX);
	if (r < 0) {
		const char *argv[] = { "ssh-keygen", "-y", "-f", s->key.buf, NULL };

		strbuf_reset(&text);
		r = run_capture(argv, NULL, 0, &text, &err, OUT_MAX);
		if (r != 0) {
			say("error", "key", "no '%s' and ssh-keygen -y cannot read '%s': %s", path.buf, s->key.buf,
			    r < 0 ? strerror(-r) : first_line(err.buf, &l));
			r = -1;
			goto out;
		}
	}
	strbuf_reset(&err);
	r = sshkey_parse_pub(text.buf, text.len, &s->pub, &err);
	if (r < 0) {
		say("error", "key", "'%s': %s", path.buf, err.buf);
		goto out;
	}
	/* the target sees which node a key belongs to */
	snprintf(s->pub.comment, sizeof(s->pub.comment), "volrep@%s", s->ctx->node);
out:
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&err);
	strbuf_release(&l);
	return r < 0 ? -1 : 0;
}

static int setup_key(struct setup *s, const struct transport *t)
{
	const char *id = transport_identity(t);

	if (id) {
		strbuf_addstr(&s->key, id);
		if (access(id, R_OK) < 0) {
			say("error", "key", "'%s' (the -i of VOLREP_SSH) does not exist: create it or drop -i from "
			    "VOLREP_SSH to use volrep's own key", id);
			return -1;
		}
	} else {
		if (ssh_volrep_key(&s->key) < 0) {
			say("error", "key", "this user has no home directory for ~/.ssh/id_volrep");
			return -1;
		}
		if (access(s->key.buf, F_OK) < 0 && make_key(s) < 0)
			return -1;
	}
	if (read_pub(s) < 0)
		return -1;
	say("ok", "key", "'%s' (%s %s)", s->key.buf, s->pub.type, s->pub.comment);
	return 0;
}

/* ssh's known_hosts file for this connection (ssh -G: the user's config
 * and VOLREP_SSH's options count) */
static int find_known_hosts(struct setup *s, const struct transport *t)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT, l = STRBUF_INIT;
	const char *home = home_dir();
	int r;

	strvec_pushv(&argv, (const char *const *)t->cmd.v);
	strvec_push(&argv, "-G");
	strvec_push(&argv, "-o");
	strvec_pushf(&argv, "HostKeyAlias=%s", s->node);
	strvec_push(&argv, "--");
	strvec_pushf(&argv, "%s@%s", t->user, t->address);
	r = run_capture((const char *const *)argv.v, NULL, 0, &out, &err, OUT_MAX);
	if (r == 0) {
		for (const char *p = out.buf; *p; p += strcspn(p, "\n"), p += !!*p) {
			size_t n;
			unsigned port;

			if (!strncmp(p, "hostname ", 9) && !s->host.len) {
				strbuf_add(&s->host, p + 9, strcspn(p + 9, " \n"));
				if (!ssh_valid_address(s->host.buf))
					strbuf_reset(&s->host);
			} else if (!strncmp(p, "port ", 5) && sscanf(p + 5, "%u", &port) == 1 && port && port < 65536) {
				s->port = port;
			} else if (!strncmp(p, "userknownhostsfile ", 19) && !s->known.len) {
				p += 19;
				n = strcspn(p, " \n");
				if (n > 1 && p[0] == '~' && p[1] == '/' && home)
					strbuf_addf(&s->known, "%s%.*s", strcmp(home, "/") ? home : "", (int)n - 1,
						    p + 1);
				else
					strbuf_add(&s->known, p, n);
			}
		}
		if (!s->host.len)
			strbuf_addstr(&s->host, t->address);
		if (!s->port)
			s->port = 22;
	}
	if (r != 0 || s->known.buf[0] != '/') {
		say("error", "host key", "cannot tell which known_hosts file ssh uses ('ssh -G' %s)",
		    r ? first_line(err.buf, &l) : "names none");
		r = -1;
	}
	strvec_clear(&argv);
	strbuf_release(&out);
	strbuf_release(&err);
	strbuf_release(&l);
	return r;
}

/* ssh-keygen -F host: the keys known_hosts has for host */
static void known_keys(const struct setup *s, const char *host, struct strvec *keys)
{
	const char *argv[] = { "ssh-keygen", "-F", host, "-f", s->known.buf, NULL };
	struct strbuf out = STRBUF_INIT;

	if (access(s->known.buf, F_OK) == 0 && run_capture(argv, NULL, 0, &out, NULL, OUT_MAX) == 0)
		sshkey_parse_hosts(out.buf, out.len, keys);
	strbuf_release(&out);
}

static int append_known(const struct setup *s, const struct strvec *keys)
{
	struct strbuf text = STRBUF_INIT, dir = STRBUF_INIT;
	const char *slash = strrchr(s->known.buf, '/');
	struct stat st;
	mode_t mode = 0644;
	int r;

	strbuf_add(&dir, s->known.buf, (size_t)(slash - s->known.buf));
	if (*dir.buf && mkdir(dir.buf, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		goto out;
	}
	r = strbuf_read_file(&text, s->known.buf, 16u << 20);
	if (r < 0 && r != -ENOENT)
		goto out;
	if (r == 0 && lstat(s->known.buf, &st) == 0)
		mode = st.st_mode & 0777;
	if (text.len && text.buf[text.len - 1] != '\n')
		strbuf_addch(&text, '\n');
	for (size_t i = 0; i < keys->nr; i++)
		sshkey_known_hosts_line(&text, s->node, keys->v[i]);
	r = write_file_atomic(s->known.buf, text.buf, text.len, mode);
out:
	if (r < 0)
		say("error", "host key", "cannot write '%s': %s", s->known.buf, file_strerror(r));
	strbuf_release(&text);
	strbuf_release(&dir);
	return r < 0 ? -1 : 0;
}

/* fingerprints of keys ("TYPE BLOB" each), one "SHA256:... (ED25519)" per
 * key into fps, in the same order */
static int fingerprints(const struct strvec *keys, struct strvec *fps)
{
	for (size_t i = 0; i < keys->nr; i++) {
		const char *argv[] = { "ssh-keygen", "-l", "-f", "-", NULL };
		struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;
		int r;

		strbuf_addf(&in, "%s\n", keys->v[i]);
		r = run_capture(argv, in.buf, in.len, &out, NULL, OUT_MAX);
		/* "256 SHA256:xxxx no comment (ED25519)": the second word */
		if (r == 0 && !strncmp(out.buf + strcspn(out.buf, " "), " SHA256:", 8)) {
			const char *fp = out.buf + strcspn(out.buf, " ") + 1;

			strvec_pushf(fps, "%.*s", (int)strcspn(fp, " \n"), fp);
		} else {
			strvec_push(fps, "?");
		}
		strbuf_release(&in);
		strbuf_release(&out);
	}
	return 0;
}

static int setup_host_key(struct setup *s, const struct transport *t)
{
	struct strvec keys = STRVEC_INIT, fps = STRVEC_INIT, pick = STRVEC_INIT;
	struct strbuf host = STRBUF_INIT, err = STRBUF_INIT, l = STRBUF_INIT;
	int r = -1;

	if (find_known_hosts(s, t) < 0)
		goto out;
	known_keys(s, s->node, &keys);
	if (keys.nr) {
		say("ok", "host key", "'%s' is known under its name in '%s'", s->node, s->known.buf);
		r = 0;
		goto out;
	}
	/* an entry for the address: the key the admin accepted logging in */
	if (s->port != 22)
		strbuf_addf(&host, "[%s]:%u", s->host.buf, s->port);
	else
		strbuf_addstr(&host, s->host.buf);
	known_keys(s, host.buf, &keys);
	if (keys.nr) {
		r = append_known(s, &keys);
		if (!r)
			say("ok", "host key", "recorded under '%s' in '%s', from its entry for '%s'", s->node,
			    s->known.buf, host.buf);
		goto out;
	}
	{
		char port[16];
		const char *argv[] = { "ssh-keyscan", "-T", "10", "-p", port, "--", s->host.buf, NULL };

		snprintf(port, sizeof(port), "%u", s->port);
		r = run_capture(argv, NULL, 0, &host, &err, OUT_MAX);
		strbuf_reset(&l);
		if (!sshkey_parse_hosts(host.buf, host.len, &keys)) {
			say("error", "host key", "no host key from %s: is sshd running there? (ssh-keyscan: %s)",
			    s->where.buf, err.len ? first_line(err.buf, &l) : "no answer");
			r = -1;
			goto out;
		}
	}
	fingerprints(&keys, &fps);
	r = -1;
	for (size_t i = 0; i < keys.nr; i++)
		if (s->accept_new || (s->fingerprint && !strcmp(fps.v[i], s->fingerprint)))
			strvec_push(&pick, keys.v[i]);
	if (!pick.nr) {
		/* the ed25519 key, when there is one, is the one to compare */
		size_t k = 0;

		for (size_t i = 0; i < keys.nr; i++)
			if (!strncmp(keys.v[i], "ssh-ed25519 ", 12))
				k = i;
		if (s->fingerprint)
			say("error", "host key", "%s offers no key with the fingerprint '%s' (its %.*s key is %s): "
			    "do not go on before you know why", s->where.buf, s->fingerprint,
			    (int)strcspn(keys.v[k], " "), keys.v[k], fps.v[k]);
		else
			say("error", "host key", "'%s' (%s) is not known yet: compare %s with 'ssh-keygen -lf "
			    "/etc/ssh/ssh_host_%s_key.pub' on '%s', then run 'volrep ssh-setup %s --fingerprint %s'",
			    s->node, s->where.buf, fps.v[k],
			    !strncmp(keys.v[k], "ssh-ed25519 ", 12) ? "ed25519" :
			    !strncmp(keys.v[k], "ssh-rsa ", 8) ? "rsa" : "ecdsa",
			    s->node, s->node, fps.v[k]);
		goto out;
	}
	r = append_known(s, &pick);
	if (!r)
		say("ok", "host key", "recorded under '%s' in '%s' (%s%s)", s->node, s->known.buf,
		    s->accept_new ? "accepted unchecked: " : "fingerprint ",
		    s->accept_new ? fps.v[0] : s->fingerprint);
out:
	strvec_clear(&keys);
	strvec_clear(&fps);
	strvec_clear(&pick);
	strbuf_release(&host);
	strbuf_release(&err);
	strbuf_release(&l);
	return r;
}

enum login { LOGIN_OK, LOGIN_DENIED, LOGIN_WRONG_COMMAND, LOGIN_FAILED };

/* `volrep version` through the transport of a run; final: say an
 * error for anything but OK */
static enum login check_login(struct setup *s, struct transport *t, int final)
{
	const char *const argv[] = { remote_bin(), "version", NULL };
	struct strbuf out = STRBUF_INIT, err = STRBUF_INIT, msg = STRBUF_INIT, l = STRBUF_INIT;
	enum login res;
	int r = transport_run(t, argv, NULL, 0, &out, &err, 4096);

	if (r == 0 && !strncmp(out.buf, "volrep ", 7) && out.len < 200) {
		out.buf[strcspn(out.buf, "\n")] = '\0';
		say("ok", "login", "'%s' answers at %s with this node's key (%s)", s->node, s->where.buf,
		    first_line(out.buf, &l));
		if (strcmp(out.buf + 7, VOLREP_VERSION))
			say("warn", "version", "'%s' runs %s, this node volrep %s: update one of them",
			    s->node, l.buf, VOLREP_VERSION);
		res = LOGIN_OK;
	} else if (strstr(err.buf, "IDENTIFICATION HAS CHANGED") || strstr(err.buf, "Host key verification failed")) {
		say("error", "host key", "the key of %s does not match the one recorded for '%s' in '%s': if '%s' "
		    "was reinstalled, remove the old one with 'ssh-keygen -R %s -f %s' and run again",
		    s->where.buf, s->node, s->known.buf, s->node, s->node, s->known.buf);
		res = LOGIN_FAILED;
	} else if (strstr(err.buf, "Permission denied")) {
		res = LOGIN_DENIED;
		/* only called with final after the key was installed */
		if (final)
			say("error", "login", "%s still refuses this node's key '%s' for root after it was added to "
			    "root's ~/.ssh/authorized_keys there: does sshd on '%s' read another AuthorizedKeysFile, "
			    "or forbid root logins with a key (PermitRootLogin)?", s->where.buf, s->key.buf, s->node);
	} else if (r == 0 || r == 127 || (r > 0 && r < 128)) {
		res = LOGIN_WRONG_COMMAND;
		if (final)
			say("error", "login", "the key logs in at %s but the command there did not answer "
			    "'volrep <version>' (%s%s): is volrep installed on '%s', and is its key's forced "
			    "command 'volrep serve --peer %s'?", s->where.buf, r ? "exit code, " : "answer: ",
			    r ? (r == 127 ? "127, not found" : "non-zero") : first_line(out.buf, &l),
			    s->node, s->ctx->node);
	} else {
		transport_describe(t, argv, r, err.buf, &msg);
		say("error", "login", "%s", msg.buf);
		res = LOGIN_FAILED;
	}
	strbuf_release(&out);
	strbuf_release(&err);
	strbuf_release(&msg);
	strbuf_release(&l);
	return res;
}

/* volrep ssh-authorize --peer <this node> [--cluster URL] '<key>': the
 * target's forced command names the store this node uses (all nodes
 * share it; docs/cluster.md) */
static void authorize_argv(const struct setup *s, const char *bin, struct strvec *argv, struct strbuf *key)
{
	strbuf_addf(key, "%s %s %s", s->pub.type, s->pub.blob, s->pub.comment);
	strvec_pushv(argv, (const char *const[]){ bin, "ssh-authorize", "--peer", s->ctx->node, NULL });
	if (s->ctx->cluster) {
		strvec_push(argv, "--cluster");
		strvec_push(argv, s->ctx->cluster);
	}
	strvec_push(argv, key->buf);
}

static void instructions(const struct setup *s)
{
	struct strbuf line = STRBUF_INIT, cmd = STRBUF_INIT, key = STRBUF_INIT;
	struct strvec argv = STRVEC_INIT;

	authorize_argv(s, "volrep", &argv, &key);
	sq_quote_argv(&cmd, (const char *const *)argv.v);
	strvec_clear(&argv);
	sshkey_authorized_line(&line, s->ctx->node, s->ctx->cluster, &s->pub);
	printf("To authorize this node's key, run as root on '%s':\n  %s\n"
	       "or add this line to root's ~/.ssh/authorized_keys there:\n  %s"
	       "then run 'volrep ssh-setup %s' here again.\n", s->node, cmd.buf, line.buf, s->node);
	strbuf_release(&line);
	strbuf_release(&cmd);
	strbuf_release(&key);
}

/* ssh-authorize on the target through the admin's own login: plain ssh
 * (the user's keys, agent, ~/.ssh/config), the host key checked under the
 * alias in the file just set up, a password prompt only with a terminal */
static int install(struct setup *s, const struct transport *t)
{
	struct strvec argv = STRVEC_INIT;
	struct strbuf remote = STRBUF_INIT, key = STRBUF_INIT, out = STRBUF_INIT, err = STRBUF_INIT,
		      l = STRBUF_INIT;
	struct strvec rargv = STRVEC_INIT;
	int r;

	strvec_push(&argv, "ssh");
	if (s->n->port) {
		strvec_push(&argv, "-p");
		strvec_pushf(&argv, "%u", s->n->port);
	}
	strvec_pushv(&argv, (const char *const[]){ "-e", "none", "-T", "-x", "-a", "-o", "ControlMaster=no",
						   "-o", "ControlPath=none", "-o", "ConnectTimeout=10",
						   "-o", "StrictHostKeyChecking=yes", NULL });
	strvec_push(&argv, "-o");
	strvec_pushf(&argv, "HostKeyAlias=%s", s->node);
	strvec_push(&argv, "-o");
	strvec_pushf(&argv, "UserKnownHostsFile=%s", s->known.buf);
	if (!isatty(STDIN_FILENO)) {
		strvec_push(&argv, "-o");
		strvec_push(&argv, "BatchMode=yes");
	}
	strvec_push(&argv, "--");
	strvec_pushf(&argv, "%s@%s", t->user, t->address);
	authorize_argv(s, remote_bin(), &rargv, &key);
	sq_quote_argv(&remote, (const char *const *)rargv.v);
	strvec_clear(&rargv);
	strvec_push(&argv, remote.buf);
	r = run_capture((const char *const *)argv.v, NULL, 0, &out, &err, OUT_MAX);
	if (r == 0) {
		say("ok", "install", "%s (command=\"volrep %s%s%sserve --peer %s\",restrict)", first_line(out.buf, &l),
		    s->ctx->cluster ? "--cluster " : "", s->ctx->cluster ? s->ctx->cluster : "",
		    s->ctx->cluster ? " " : "", s->ctx->node);
	} else if (r == 255 || r < 0) {
		say("error", "install", "cannot log in to %s@%s as yourself to install the key (%s)", t->user,
		    s->where.buf, r < 0 ? strerror(-r) : first_line(err.buf, &l));
	} else if (r == 127) {
		say("error", "install", "volrep is not installed on '%s' (not in root's PATH there)", s->node);
	} else {
		say("error", "install", "'volrep ssh-authorize' on '%s' failed: %s", s->node,
		    first_line(err.buf, &l));
	}
	strvec_clear(&argv);
	strbuf_release(&remote);
	strbuf_release(&key);
	strbuf_release(&out);
	strbuf_release(&err);
	strbuf_release(&l);
	return r == 0 ? 0 : -1;
}

static int setup_run(struct setup *s, struct cluster_config *cc)
{
	struct transport t = TRANSPORT_INIT;
	struct strbuf msg = STRBUF_INIT;
	enum login lg;
	int ret = EXIT_FAILED;

	/* the key first: the transport names it when it exists */
	if (remote_open(&t, &cc->nodes, s->node, s->ctx->state_dir, &msg) < 0) {
		say("error", "ssh", "%s", msg.buf);
		goto out;
	}
	remote_set_persist(&t, s->ctx->config_dir);
	if (setup_key(s, &t) < 0)
		goto out;
	transport_release(&t);
	if (remote_open(&t, &cc->nodes, s->node, s->ctx->state_dir, &msg) < 0) {
		say("error", "ssh", "%s", msg.buf);
		goto out;
	}
	remote_set_persist(&t, s->ctx->config_dir);
	if (setup_host_key(s, &t) < 0)
		goto out;
	lg = check_login(s, &t, 0);
	if (lg == LOGIN_FAILED)
		goto out;
	if (lg != LOGIN_OK) {
		say("info", "login", "%s does not run volrep's forced command for this node's key yet",
		    s->where.buf);
		if (s->no_install || install(s, &t) < 0) {
			instructions(s);
			goto out;
		}
		if (check_login(s, &t, 1) != LOGIN_OK)
			goto out;
	}
	ret = 0;
out:
	transport_release(&t);
	strbuf_release(&msg);
	return ret;
}

int cmd_ssh_setup(int argc, char **argv, struct context *ctx)
{
	struct opt_spec specs[] = {
		{ "fingerprint", OPT_VALUE, NULL }, { "accept-new", OPT_BOOL, NULL },
		{ "no-install", OPT_BOOL, NULL }, { NULL, OPT_VALUE, NULL },
	};
	struct cluster_config cc = CLUSTER_CONFIG_INIT;
	struct strvec pos = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT;
	struct setup s = { .ctx = ctx, .where = STRBUF_INIT, .key = STRBUF_INIT, .known = STRBUF_INIT,
			   .host = STRBUF_INIT };
	const char *mode = getenv("VOLREP_TRANSPORT");
	int ret = EXIT_USAGE;

	if (opts_parse(argc, argv, specs, &pos) < 0)
		goto out;
	if (pos.nr > 1) {
		error("unexpected argument '%s' (usage: volrep ssh-setup %s)", pos.v[1], SSH_SETUP_USAGE);
		goto out;
	}
	if (!pos.nr) {
		error("missing the target node (usage: volrep ssh-setup %s)", SSH_SETUP_USAGE);
		goto out;
	}
	s.node = pos.v[0];
	s.fingerprint = specs[0].value;
	s.accept_new = specs[1].value && !strcmp(specs[1].value, "1");
	s.no_install = specs[2].value && !strcmp(specs[2].value, "1");
	if (!valid_node_name(s.node)) {
		error("invalid node name '%s' (letters, digits, '-' and '.')", s.node);
		goto out;
	}
	if (s.fingerprint && (strncmp(s.fingerprint, "SHA256:", 7) || strlen(s.fingerprint) > 60 ||
			      strspn(s.fingerprint + 7, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
							"0123456789+/=") != strlen(s.fingerprint + 7))) {
		error("invalid fingerprint '%s' (the form ssh-keygen -l prints: SHA256:<base64>)", s.fingerprint);
		goto out;
	}
	if (mode && !strcmp(mode, "local")) {
		error("VOLREP_TRANSPORT=local: there is no ssh to set up");
		goto out;
	}
	if (ctx->cluster && !sshkey_valid_cluster(ctx->cluster)) {
		error("cluster URL '%s' cannot go into a forced command (only [A-Za-z0-9:/.,_@%%+=-])", ctx->cluster);
		goto out;
	}
	if (cluster_config_load(&cc, ctx->config_dir, 0, &err) < 0) {
		error("%s", err.buf);
		ret = EXIT_FAILED;
		goto out;
	}
	strbuf_reset(&err);
	if (nodes_cfg_check_self(&cc.nodes, ctx, &err)) {
		/* the target would know this node's key under a wrong name */
		error("%s", err.buf);
		goto out;
	}
	s.n = nodes_cfg_find(&cc.nodes, s.node);
	if (!s.n) {
		error("'%s' is not a node of nodes.cfg (in '%s')", s.node, ctx->config_dir);
		goto out;
	}
	if (!strcmp(s.node, ctx->node)) {
		error("'%s' is this node: run 'volrep ssh-setup <target>' here for each node it replicates to",
		      s.node);
		goto out;
	}
	strbuf_addstr(&s.where, s.n->address);
	if (s.n->port)
		strbuf_addf(&s.where, " port %u", s.n->port);
	ret = setup_run(&s, &cc);
out:
	cluster_config_release(&cc);
	strvec_clear(&pos);
	strbuf_release(&err);
	strbuf_release(&s.where);
	strbuf_release(&s.key);
	strbuf_release(&s.known);
	strbuf_release(&s.host);
	return ret;
}

int cmd_ssh_authorize(int argc, char **argv, struct context *ctx)
{
	struct opt_spec specs[] = { { "peer", OPT_VALUE, NULL }, { "cluster", OPT_VALUE, NULL }, { NULL, OPT_VALUE, NULL } };
	struct strvec pos = STRVEC_INIT;
	struct strbuf err = STRBUF_INIT, path = STRBUF_INIT, text = STRBUF_INIT, line = STRBUF_INIT,
		      out = STRBUF_INIT;
	static const char *const done[] = { "added", "replaced", "already present" };
	struct sshkey k;
	const char *home = home_dir();
	enum sshkey_merge what;
	int ret = EXIT_USAGE, r;

	(void)ctx;
	if (opts_parse(argc, argv, specs, &pos) < 0)
		goto out;
	if (!specs[0].value || !valid_node_name(specs[0].value)) {
		error("%s '%s' (usage: volrep ssh-authorize --peer NODE [--cluster URL] 'TYPE BLOB [COMMENT]')",
		      specs[0].value ? "invalid node name" : "missing --peer", specs[0].value ? specs[0].value : "");
		goto out;
	}
	if (specs[1].value && !sshkey_valid_cluster(specs[1].value)) {
		error("invalid cluster URL '%s' for a forced command (only [A-Za-z0-9:/.,_@%%+=-])", specs[1].value);
		goto out;
	}
	if (pos.nr != 1) {
		error("usage: volrep ssh-authorize --peer NODE [--cluster URL] 'TYPE BLOB [COMMENT]' (one public key line)");
		goto out;
	}
	if (sshkey_parse_pub(pos.v[0], strlen(pos.v[0]), &k, &err) < 0) {
		error("invalid public key: %s", err.buf);
		goto out;
	}
	ret = EXIT_FAILED;
	if (!home) {
		error("this user has no home directory for ~/.ssh/authorized_keys");
		goto out;
	}
	strbuf_addf(&path, "%s/.ssh", strcmp(home, "/") ? home : "");
	if (mkdir(path.buf, 0700) < 0 && errno != EEXIST) {
		error("cannot create '%s': %s", path.buf, strerror(errno));
		goto out;
	}
	strbuf_addstr(&path, "/authorized_keys");
	r = strbuf_read_file(&text, path.buf, 4u << 20);
	if (r < 0 && r != -ENOENT) {
		error("cannot read '%s': %s", path.buf, file_strerror(r));
		goto out;
	}
	sshkey_authorized_line(&line, specs[0].value, specs[1].value, &k);
	what = sshkey_merge_authorized(r < 0 ? NULL : text.buf, text.len, line.buf, &k, &out);
	if (what != SSHKEY_UNCHANGED) {
		r = write_file_atomic(path.buf, out.buf, out.len, 0600);
		if (r < 0) {
			error("cannot write '%s': %s", path.buf, file_strerror(r));
			goto out;
		}
	}
	printf("key of '%s' %s in '%s'\n", specs[0].value, done[what], path.buf);
	ret = fflush(stdout) == 0 ? 0 : EXIT_FAILED;
out:
	strvec_clear(&pos);
	strbuf_release(&err);
	strbuf_release(&path);
	strbuf_release(&text);
	strbuf_release(&line);
	strbuf_release(&out);
	return ret;
}
