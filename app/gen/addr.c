/* SPDX-License-Identifier: BSD-3-Clause */
/* egress-gen: IPv4 and MAC addresses, parsed, printed and counted up. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

/* out = base + n, counted in the three low bytes (the OUI kept). */
void
addr_mac_add(uint8_t *out, const uint8_t *base, uint32_t n)
{
	uint32_t low = ((uint32_t)base[3] << 16 | (uint32_t)base[4] << 8 | base[5]) + n;

	memcpy(out, base, 3);
	out[3] = (uint8_t)(low >> 16);
	out[4] = (uint8_t)(low >> 8);
	out[5] = (uint8_t)low;
}

int
addr_parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

int
addr_parse_ip(const char *s, uint32_t *ip)
{
	unsigned int a, b, c, d;
	char tail;

	if (sscanf(s, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 || b > 255 ||
	    c > 255 || d > 255)
		return -EINVAL;
	*ip = a << 24 | b << 16 | c << 8 | d;
	return 0;
}

/*
 * "a.b.c.d/len" or a bare address: the usable hosts of the prefix (a /31 or
 * /32 as is, otherwise without the network and broadcast addresses).
 */
int
addr_parse_hosts(const char *s, uint32_t *first, uint32_t *n)
{
	char addr[32];
	const char *slash = strchr(s, '/');
	unsigned long len = 32;
	uint32_t ip, size, base;
	char *end;

	if (slash == NULL) {
		if (addr_parse_ip(s, &ip) != 0)
			return -EINVAL;
		*first = ip;
		*n = 1;
		return 0;
	}
	if ((size_t)(slash - s) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (errno || *end != '\0' || end == slash + 1 || len > 32 || len < 8 ||
	    addr_parse_ip(addr, &ip) != 0)
		return -EINVAL;
	size = len == 32 ? 1 : 1u << (32 - len);
	base = ip & ~(size - 1);
	if (size <= 2) {
		*first = base;
		*n = size;
	} else {
		*first = base + 1;
		*n = size - 2;
	}
	return 0;
}

void
addr_ip_str(uint32_t ip, char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}
