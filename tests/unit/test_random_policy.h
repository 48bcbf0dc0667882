/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Random ServiceEntry policies and the keys that probe them, for the tests
 * that hold explain against the classifier (test_explain) and the pipeline
 * (test_pipeline). rand() draws: seed it with srand() first.
 */
#ifndef EGRESS_TEST_RANDOM_POLICY_H
#define EGRESS_TEST_RANDOM_POLICY_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define RAND_ENTRIES 12

static const uint16_t rand_ports[] = { 53, 80, 443, 5432, 6379, 6380 };
#define RAND_N_PORTS (sizeof(rand_ports) / sizeof(rand_ports[0]))

/* 10.0.x.y (host order) with few distinct values: prefixes overlap, keys hit them. */
static inline uint32_t
rand_addr(void)
{
	return (UINT32_C(10) << 24) | ((uint32_t)(rand() % 4) << 8) | (uint32_t)(rand() % 8);
}

/* A destination to probe (host order): mostly near the entries, some in 10.16/16. */
static inline uint32_t
rand_probe_addr(void)
{
	return rand_addr() ^ (rand() % 5 == 0 ? 0x100000u : 0);
}

static inline uint16_t
rand_port(void)
{
	return rand_ports[(unsigned int)rand() % RAND_N_PORTS];
}

/* One of three is UDP. */
static inline uint8_t
rand_proto(void)
{
	return rand() % 3 == 0 ? 17 : 6;
}

/*
 * RAND_ENTRIES ServiceEntries (resolution NONE) in one file: each a random
 * prefix /22../32 under 10.0.0.0/22 and 1-3 distinct ports of rand_ports,
 * TCP or UDP. @return 0, or -1 when the file cannot be written.
 */
static inline int
random_policy_write(const char *path)
{
	FILE *f = fopen(path, "w");
	unsigned int i, j, n_ports;

	if (f == NULL)
		return -1;
	for (i = 0; i < RAND_ENTRIES; i++) {
		uint32_t a = rand_addr();
		unsigned int len = (unsigned int)(22 + rand() % 11);
		uint16_t used[3] = { 0 };

		a &= ~UINT32_C(0) << (32 - len);
		fprintf(f,
			"%sapiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: "
			"se%u, namespace: ns}\nspec:\n  hosts: [se%u.example]\n  location: "
			"MESH_EXTERNAL\n  resolution: NONE\n  addresses: [%u.%u.%u.%u/%u]\n  ports:\n",
			i ? "---\n" : "", i, i, a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
			a & 0xff, len);
		n_ports = (unsigned int)(1 + rand() % 3);
		for (j = 0; j < n_ports; j++) {
			uint16_t port = rand_port();
			unsigned int u;

			for (u = 0; u < j && used[u] != port; u++)
				;
			if (u < j)
				continue; /* a port twice in one entry is an error */
			used[j] = port;
			fprintf(f, "  - {number: %u, name: p%u, protocol: %s}\n", port, j,
				rand_proto() == 17 ? "UDP" : "TCP");
		}
	}
	return fclose(f) == 0 ? 0 : -1;
}

#endif
