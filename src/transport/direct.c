#include "transport/direct.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/cidr.h"
#include "base/time-util.h"
#include "exec/relay.h"

/* How long an aborted stream's command may take to end by itself. */
#define DIRECT_STOP_WAIT_MS 3000

static int sockaddr_of(const char *ip, unsigned port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, ip, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

/* The first interface address inside net, as text into ip. */
static int interface_address(const struct cidr *net, char *ip, size_t size)
{
	struct ifaddrs *ifa, *p;
	int found = 0;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (p = ifa; p && !found; p = p->ifa_next) {
		const void *a;

		if (!p->ifa_addr || p->ifa_addr->sa_family != net->family)
			continue;
		a = net->family == AF_INET ? (const void *)&((struct sockaddr_in *)p->ifa_addr)->sin_addr
					   : (const void *)&((struct sockaddr_in6 *)p->ifa_addr)->sin6_addr;
		if (cidr_contains(net, net->family, a) && inet_ntop(net->family, a, ip, (socklen_t)size))
			found = 1;
	}
	freeifaddrs(ifa);
	return found ? 0 : -EADDRNOTAVAIL;
}

static int make_token(char *hex)
{
	unsigned char b[DIRECT_TOKEN_BYTES];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t r = getrandom(b + got, sizeof(b) - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		got += (size_t)r;
	}
	for (size_t i = 0; i < sizeof(b); i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	return 0;
}

/* A listening socket on ip, port 0, backlog 1: the fd (its address in
 * *ss) or -errno. */
static int listen_on(const char *ip, struct sockaddr_storage *ss, socklen_t *len)
{
	int fd, r;

	if (sockaddr_of(ip, 0, ss, len) < 0)
		return -EINVAL;
	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)ss, *len) < 0 || listen(fd, 1) < 0 ||
	    getsockname(fd, (struct sockaddr *)ss, len) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int direct_listen(struct direct_listener *l, const char *network, const char *prefer, struct strbuf *err)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	struct cidr net;
	int fd, r;

	*l = (struct direct_listener)DIRECT_LISTENER_INIT;
	if (cidr_parse(network, &net) < 0) {
		strbuf_addf(err, "invalid migration network '%.64s': expected an address/prefix, e.g. 10.1.0.0/24",
			    network ? network : "");
		return -EINVAL;
	}
	r = make_token(l->token);
	if (r < 0) {
		strbuf_addf(err, "cannot make a token: %s", strerror(-r));
		return r;
	}
	/* the preferred address only where it is one of ours (not behind
	 * a NAT, say), else an interface's */
	fd = -EADDRNOTAVAIL;
	if (prefer && cidr_contains_str(&net, prefer) && strlen(prefer) < sizeof(l->addr)) {
		snprintf(l->addr, sizeof(l->addr), "%s", prefer);
		fd = listen_on(l->addr, &ss, &len);
	}
	if (fd == -EADDRNOTAVAIL) {
		if (interface_address(&net, l->addr, sizeof(l->addr)) < 0) {
			strbuf_addf(err, "no address of this node in migration network '%s'", network);
			return -EADDRNOTAVAIL;
		}
		fd = listen_on(l->addr, &ss, &len);
	}
	if (fd < 0) {
		strbuf_addf(err, "cannot listen on '%s': %s", l->addr, strerror(-fd));
		return fd;
	}
	l->fd = fd;
	l->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						: ((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

void direct_announce(const struct direct_listener *l, struct strbuf *out)
{
	strbuf_addf(out, DIRECT_ANNOUNCE " %s %u %s", l->addr, l->port, l->token);
}

void direct_close(struct direct_listener *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	/* a used token is of no further use to anyone */
	memset(l->token, 0, sizeof(l->token));
}

static int ms_left(double deadline)
{
	double left = (deadline - mono_now()) * 1000;

	return left <= 0 ? 0 : left > 1e9 ? 1000000000 : (int)left;
}

/* Wait until fd is readable (events) before the deadline: 1, 0 on
 * timeout, -errno. */
static int wait_fd(int fd, short events, double deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int n = poll(&p, 1, ms_left(deadline));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		return n > 0;
	}
}

static int equal_ct(const char *a, const char *b, size_t n)
{
	volatile unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* Read the token line ("<hex>\n") within the deadline and check it. */
static int check_token(int fd, const char *token, double deadline, struct strbuf *err, const char *peer)
{
	char buf[DIRECT_TOKEN_HEX + 1];
	size_t got = 0;

	while (got < sizeof(buf)) {
		ssize_t n;
		int w = wait_fd(fd, POLLIN, deadline);

		if (w <= 0) {
			strbuf_addf(err, "direct connection from '%s' sent no token within %d s", peer,
				    DIRECT_TOKEN_TIMEOUT_MS / 1000);
			return w < 0 ? w : -ETIMEDOUT;
		}
		n = read(fd, buf + got, sizeof(buf) - got);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	/* the whole line is read and compared, whatever it holds */
	if (!equal_ct(buf, token, DIRECT_TOKEN_HEX) || got != sizeof(buf) || buf[DIRECT_TOKEN_HEX] != '\n') {
		strbuf_addf(err, "direct connection from '%s' refused: wrong token", peer);
		return -EACCES;
	}
	return 0;
}

int direct_accept(struct direct_listener *l, int accept_ms, int token_ms, struct strbuf *err)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char peer[INET6_ADDRSTRLEN] = "?";
	double deadline = mono_now() + accept_ms / 1000.0;
	int fd = -1, r;

	if (l->fd < 0)
		return -EBADF;
	for (;;) {
		r = wait_fd(l->fd, POLLIN, deadline);
		if (r <= 0) {
			strbuf_addf(err, "no direct connection to %s port %u within %d s", l->addr, l->port,
				    accept_ms / 1000);
			direct_close(l);
			return r < 0 ? r : -ETIMEDOUT;
		}
		fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0)
			break;
		if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
			r = -errno;
			strbuf_addf(err, "cannot accept the direct connection: %s", strerror(errno));
			direct_close(l);
			return r;
		}
	}
	/* exactly one connection: the port is closed before anything else */
	{
		char token[DIRECT_TOKEN_HEX];

		memcpy(token, l->token, sizeof(token));
		direct_close(l);
		inet_ntop(ss.ss_family,
			  ss.ss_family == AF_INET ? (const void *)&((struct sockaddr_in *)&ss)->sin_addr
						  : (const void *)&((struct sockaddr_in6 *)&ss)->sin6_addr,
			  peer, sizeof(peer));
		r = check_token(fd, token, mono_now() + token_ms / 1000.0, err, peer);
		memset(token, 0, sizeof(token));
	}
	if (r < 0) {
		close(fd);
		return r;
	}
	/* the receive reads it as its stdin: blocking */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

int direct_parse_announce(const char *line, const char *network, char *addr, unsigned *port, char *token,
			  struct strbuf *err)
{
	static const char key[] = DIRECT_ANNOUNCE " ";
	char a[INET6_ADDRSTRLEN], p[8], t[DIRECT_TOKEN_HEX + 2];
	struct cidr net;
	unsigned long pv;
	char *end;
	size_t n = strlen(line);

	if (n > DIRECT_LINE_MAX || strncmp(line, key, sizeof(key) - 1) ||
	    sscanf(line + sizeof(key) - 1, "%45s %7s %65s", a, p, t) != 3)
		goto bad;
	if (cidr_parse(network, &net) < 0 || !cidr_contains_str(&net, a)) {
		strbuf_addf(err, "target announced address '%.64s' outside migration network '%.64s'", a, network);
		return -EPROTO;
	}
	if (p[0] < '1' || p[0] > '9' || strspn(p, "0123456789") != strlen(p))
		goto bad;
	pv = strtoul(p, &end, 10);
	if (*end || pv > 65535)
		goto bad;
	if (strlen(t) != DIRECT_TOKEN_HEX || strspn(t, "0123456789abcdef") != DIRECT_TOKEN_HEX)
		goto bad;
	/* exactly three words */
	{
		char want[DIRECT_LINE_MAX + 1];

		snprintf(want, sizeof(want), "%s%s %s %s", key, a, p, t);
		if (strcmp(want, line))
			goto bad;
	}
	/* a fits (sscanf's %45s), t is exactly DIRECT_TOKEN_HEX digits */
	memcpy(addr, a, strlen(a) + 1);
	*port = (unsigned)pv;
	memcpy(token, t, DIRECT_TOKEN_HEX + 1);
	return 0;
bad:
	strbuf_addstr(err, "invalid direct data path announcement from the target");
	return -EPROTO;
}

int direct_connect(const char *addr, unsigned port, const char *token, int timeout_ms, struct strbuf *err)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char line[DIRECT_TOKEN_HEX + 1];
	int fd, r, soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (sockaddr_of(addr, port, &ss, &len) < 0 || strlen(token) != DIRECT_TOKEN_HEX)
		return -EINVAL;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		if (errno != EINPROGRESS)
			goto fail;
		r = wait_fd(fd, POLLOUT, mono_now() + timeout_ms / 1000.0);
		if (r == 0) {
			errno = ETIMEDOUT;
			goto fail;
		}
		if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
			goto fail;
		if (soerr) {
			errno = soerr;
			goto fail;
		}
	}
	memcpy(line, token, DIRECT_TOKEN_HEX);
	line[DIRECT_TOKEN_HEX] = '\n';
	/* 65 bytes into an empty socket buffer: one write */
	if (write(fd, line, sizeof(line)) != (ssize_t)sizeof(line))
		goto fail;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
fail:
	r = -errno;
	strbuf_addf(err, "cannot connect to %s port %u for the direct data path: %s", addr, port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return r;
}

static void close_pipes(struct child *c)
{
	if (c->out >= 0)
		close(c->out);
	if (c->err >= 0)
		close(c->err);
	c->out = c->err = -1;
}

/* Read the target's stdout until its first line (the announce), draining
 * its stderr meanwhile, for at most stall_ms. 1 with the line in line,
 * 0 when stdout ended first, -ETIMEDOUT, -EFBIG. */
static int read_announce(struct child *c, long stall_ms, struct strbuf *line, struct strbuf *err, size_t max)
{
	double deadline = mono_now() + (stall_ms > 0 ? stall_ms : 300000) / 1000.0;
	char buf[4096];

	for (;;) {
		struct pollfd p[2] = { { .fd = c->out, .events = POLLIN }, { .fd = c->err, .events = POLLIN } };
		char *nl;
		int n = poll(p, c->err >= 0 ? 2 : 1, ms_left(deadline));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ETIMEDOUT;
		if (p[1].revents) {
			ssize_t k = read(c->err, buf, sizeof(buf));

			if (k > 0 && err && err->len < max)
				strbuf_add(err, buf, (size_t)k);
			if (k == 0) {
				close(c->err);
				c->err = -1;
			}
		}
		if (!p[0].revents)
			continue;
		{
			ssize_t k = read(c->out, buf, sizeof(buf));

			if (k < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (k <= 0)
				return 0;
			strbuf_add(line, buf, (size_t)k);
		}
		nl = memchr(line->buf, '\n', line->len);
		if (nl) {
			/* nothing more comes before the import ends */
			strbuf_setlen(line, (size_t)(nl - line->buf));
			return 1;
		}
		if (line->len > DIRECT_LINE_MAX)
			return -EFBIG;
	}
}

/* The import is started with --direct <network>: it listens there and
 * announces where on its stdout, its stdin stays unused. */
static int start_import(struct transport *t, const char *const *argv, const char *network, struct child *c)
{
	struct strvec args = STRVEC_INIT;
	int r;

	strvec_pushv(&args, argv);
	strvec_push(&args, "--direct");
	strvec_push(&args, network);
	c->in = CHILD_NULL;
	c->out = c->err = CHILD_PIPE;
	c->new_pgrp = 1;
	r = transport_start(t, (const char *const *)args.v, c);
	strvec_clear(&args);
	return r;
}

/* The import ended before it listened: its exit code and stderr say
 * why, so its stderr is read to the end (bounded) before the finish. */
static int import_ended(struct transport *t, struct child *c, struct strbuf *err, size_t max,
			long stall_timeout_ms, struct strbuf *why)
{
	int r;

	close(c->out);
	c->out = -1;
	if (c->err >= 0) {
		struct relay_opts drain = RELAY_OPTS_INIT;
		struct relay_side side = { .fd = c->err, .buf = err, .max = max, .overflow = 0 };

		/* relay_pump without a stream: the side to its end, bounded */
		drain.stall_timeout_ms = stall_timeout_ms;
		relay_pump(-1, -1, &drain, &side, 1, NULL);
	}
	r = transport_finish(t, c);
	if (r == 0) {
		strbuf_addstr(why, "the target did not open the direct data path");
		r = -EPROTO;
	}
	return r;
}

/* From read_announce's result (announced is 1 with the line) to the
 * connected data socket, or -EPROTO with the message in why and the
 * import killed. addr is where the data goes, for the job log. */
static int open_data_path(struct child *c, int announced, const char *line, const char *network,
			  long stall_timeout_ms, char addr[INET6_ADDRSTRLEN], unsigned *port, struct strbuf *why)
{
	char token[DIRECT_TOKEN_HEX + 1];
	int r = announced, fd = -1;

	if (r == 1)
		r = direct_parse_announce(line, network, addr, port, token, why);
	else if (r == -ETIMEDOUT)
		strbuf_addf(why, "no answer from the target for %ld s while opening the direct data path",
			    stall_timeout_ms / 1000);
	else
		strbuf_addstr(why, "invalid direct data path announcement from the target");
	if (r == 0) {
		fd = direct_connect(addr, *port, token, DIRECT_CONNECT_TIMEOUT_MS, why);
		r = fd < 0 ? fd : 0;
	}
	/* the token admits a connection to the import: not left on the stack */
	memset(token, 0, sizeof(token));
	if (r == 0)
		return fd;
	child_kill(c, SIGKILL);
	close_pipes(c);
	child_finish(c);
	if (!why->len)
		strbuf_addstr(why, "direct data path failed");
	/* the message is in why (-ETIMEDOUT would read as a stalled
	 * stream, a connect's errno as a start failure) */
	return -EPROTO;
}

/* The stream itself: in_fd to the connection, the import's stdout and
 * stderr collected meanwhile, then its exit. */
static int pump_stream(struct transport *t, struct child *c, int in_fd, int fd, const struct relay_opts *ro,
		       struct strbuf *out, struct strbuf *err, size_t max, struct relay_stats *stats)
{
	struct relay_side sides[2];
	int r, copy;

	sides[0] = (struct relay_side){ .fd = c->out, .buf = out, .max = max, .overflow = 0 };
	sides[1] = (struct relay_side){ .fd = c->err, .buf = err, .max = max, .overflow = 0 };
	/* the connection is the stream's out: closed at EOF of in_fd */
	copy = relay_pump(in_fd, fd, ro, sides, c->err >= 0 ? 2 : 1, stats);
	if (copy == -ETIMEDOUT) {
		child_kill(c, SIGKILL);
		child_finish(c);
		return -ETIMEDOUT;
	}
	if (copy == -EINTR) {
		child_stop(c, DIRECT_STOP_WAIT_MS);
		return -EINTR;
	}
	r = transport_finish(t, c);
	if (r == 0 && copy < 0)
		r = copy;
	return r;
}

int direct_stream(struct transport *t, const char *const *argv, const char *network, int in_fd,
		  const struct relay_opts *o, struct strbuf *out, struct strbuf *err, size_t max,
		  struct relay_stats *stats, struct strbuf *why)
{
	struct child c = CHILD_INIT;
	struct strbuf line = STRBUF_INIT;
	struct relay_opts ro = *o;
	char addr[INET6_ADDRSTRLEN];
	unsigned port = 0;
	int r, fd;

	if (!ro.stall_timeout_ms)
		ro.stall_timeout_ms = (long)t->stall_timeout * 1000;
	r = start_import(t, argv, network, &c);
	if (r < 0)
		return r;
	r = read_announce(&c, ro.stall_timeout_ms, &line, err, max);
	if (r == 0) {
		r = import_ended(t, &c, err, max, ro.stall_timeout_ms, why);
		goto out;
	}
	fd = open_data_path(&c, r, line.buf, network, ro.stall_timeout_ms, addr, &port, why);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	/* for the job log: where the data went (never the token) */
	strbuf_addf(out, "direct data path: %s port %u\n", addr, port);
	r = pump_stream(t, &c, in_fd, fd, &ro, out, err, max, stats);
out:
	strbuf_release(&line);
	return r;
}
