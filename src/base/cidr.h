/* IP networks in CIDR notation ("10.1.2.0/24", "fd00:1::/64"), for the
 * direct data path's migration network (transport/direct.h). */
#ifndef VOLREP_BASE_CIDR_H
#define VOLREP_BASE_CIDR_H

#include <stddef.h>

struct cidr {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char addr[16];  /* the network, host bits cleared */
	unsigned prefix;         /* 0..32 or 0..128 */
};

/* Parse "<address>/<prefix>" or a bare address (a /32 or /128): the
 * address as inet_pton takes it, the prefix canonical decimal. Host bits
 * may be set ("10.1.2.3/24" is 10.1.2.0/24). At most 64 characters.
 * Returns 0 or -EINVAL. */
int cidr_parse(const char *s, struct cidr *c);
/* 1 when the address addr (family, 4 or 16 bytes) is in the network. */
int cidr_contains(const struct cidr *c, int family, const void *addr);
/* The same for an address in text form (inet_pton); 0 when it is none. */
int cidr_contains_str(const struct cidr *c, const char *ip);
/* "<network>/<prefix>" into buf (at least 64 bytes). */
void cidr_format(const struct cidr *c, char *buf, size_t size);

#endif
