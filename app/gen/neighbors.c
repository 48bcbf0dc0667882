/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * egress-gen --neighbors: the clients' addresses and MACs as a YAML flow
 * mapping, for egressd's ports.inside.neighbors (which takes at most 64).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gen.h"

int
neighbors_write(const struct gen_opts *o)
{
	FILE *f = fopen(o->neighbors_path, "w");
	char ip[16];
	uint8_t m[6];
	uint32_t c;

	if (f == NULL) {
		fprintf(stderr, "egress-gen: %s: %s\n", o->neighbors_path, strerror(errno));
		return -1;
	}
	/* a YAML flow mapping for ports.inside.neighbors */
	fputs("{ ", f);
	for (c = 0; c < o->n_clients; c++) {
		addr_mac_add(m, o->src_mac, c);
		addr_ip_str(o->client_net + c, ip, sizeof(ip));
		fprintf(f, "%s%s: \"%02x:%02x:%02x:%02x:%02x:%02x\"", c ? ", " : "", ip, m[0], m[1],
			m[2], m[3], m[4], m[5]);
	}
	fputs(" }\n", f);
	if (fclose(f) != 0) {
		fprintf(stderr, "egress-gen: %s: %s\n", o->neighbors_path, strerror(errno));
		return -1;
	}
	return 0;
}
