/* Fuzz target: arbitrary bytes as the target's announce line of the
 * direct data path (direct_parse_announce(), src/transport/direct.h) and
 * as a migration network (cidr_parse(), src/base/cidr.h). The first line
 * is the announce, checked against a fixed network and against the
 * second line taken as the network.
 * Invariants checked (abort on violation):
 *  - an accepted announce names an IP address inside the network, a port
 *    1..65535 and a token of exactly 64 lower-case hex digits, and
 *    formats back to the very line;
 *  - a parsed network formats to a text that parses to the same network
 *    and contains its own address. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/cidr.h"
#include "base/strbuf.h"
#include "transport/direct.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void announce(const char *line, const char *network)
{
	char addr[INET6_ADDRSTRLEN], token[DIRECT_TOKEN_HEX + 1], back[DIRECT_LINE_MAX + 64];
	struct strbuf err = STRBUF_INIT;
	struct cidr net;
	unsigned port = 0;

	if (direct_parse_announce(line, network, addr, &port, token, &err) == 0) {
		if (cidr_parse(network, &net) < 0 || !cidr_contains_str(&net, addr))
			abort();
		if (port < 1 || port > 65535)
			abort();
		if (strlen(token) != DIRECT_TOKEN_HEX || strspn(token, "0123456789abcdef") != DIRECT_TOKEN_HEX)
			abort();
		snprintf(back, sizeof(back), DIRECT_ANNOUNCE " %s %u %s", addr, port, token);
		if (strcmp(back, line))
			abort();
	} else if (!err.len) {
		abort();
	}
	strbuf_release(&err);
}

static void network(const char *s)
{
	struct cidr a, b;
	char buf[64];

	if (cidr_parse(s, &a) < 0)
		return;
	cidr_format(&a, buf, sizeof(buf));
	if (cidr_parse(buf, &b) < 0 || memcmp(&a, &b, sizeof(a)) || !cidr_contains(&a, a.family, a.addr))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf text = STRBUF_INIT, line = STRBUF_INIT, net = STRBUF_INIT;
	size_t n;

	strbuf_add(&text, data, size);
	n = strcspn(text.buf, "\n");
	strbuf_add(&line, text.buf, n);
	if (n < text.len)
		strbuf_add(&net, text.buf + n + 1, strcspn(text.buf + n + 1, "\n"));
	announce(line.buf, "10.1.0.0/24");
	announce(line.buf, "0.0.0.0/0");
	announce(line.buf, "fd00::/8");
	network(line.buf);
	if (net.len) {
		announce(line.buf, net.buf);
		network(net.buf);
	}
	strbuf_release(&text);
	strbuf_release(&line);
	strbuf_release(&net);
	return 0;
}
