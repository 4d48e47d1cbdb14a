#include "base/cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int cidr_parse(const char *s, struct cidr *c)
{
	char buf[65];
	const char *slash;
	size_t n = s ? strlen(s) : 0, alen, bytes;
	unsigned max, prefix;

	if (!n || n >= sizeof(buf))
		return -EINVAL;
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : n;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, buf, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	prefix = max;
	if (slash) {
		const char *p = slash + 1;
		size_t d = strspn(p, "0123456789");

		if (!d || d != strlen(p) || d > 3 || (p[0] == '0' && d > 1))
			return -EINVAL;
		prefix = 0;
		for (size_t i = 0; i < d; i++)
			prefix = prefix * 10 + (unsigned)(p[i] - '0');
		if (prefix > max)
			return -EINVAL;
	}
	c->prefix = prefix;
	bytes = max / 8;
	for (size_t i = 0; i < bytes; i++) {
		unsigned keep = prefix >= 8 * (i + 1) ? 8 : prefix > 8 * i ? prefix - 8 * (unsigned)i : 0;

		c->addr[i] &= (unsigned char)(0xff00u >> keep);
	}
	return 0;
}

int cidr_contains(const struct cidr *c, int family, const void *addr)
{
	const unsigned char *a = addr;
	unsigned full = c->prefix / 8, rest = c->prefix % 8;

	if (family != c->family)
		return 0;
	if (memcmp(a, c->addr, full))
		return 0;
	return !rest || ((a[full] ^ c->addr[full]) & (unsigned char)(0xff00u >> rest)) == 0;
}

int cidr_contains_str(const struct cidr *c, const char *ip)
{
	unsigned char a[16];

	if (!ip)
		return 0;
	if (c->family == AF_INET)
		return inet_pton(AF_INET, ip, a) == 1 && cidr_contains(c, AF_INET, a);
	return inet_pton(AF_INET6, ip, a) == 1 && cidr_contains(c, AF_INET6, a);
}

void cidr_format(const struct cidr *c, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN] = "";

	inet_ntop(c->family, c->addr, a, sizeof(a));
	snprintf(buf, size, "%s/%u", a, c->prefix);
}
