/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Toeplitz hash computed bit by bit, as the NIC datasheets define it,
 * independently of lib/nat and of rte_softrss(): what the tests check the
 * RSS-aware NAT port choice (nat_rss.h) against; and the fake devices'
 * RETAs and tables the tests build.
 */
#ifndef EGRESS_TEST_RSS_H
#define EGRESS_TEST_RSS_H

#include <stdint.h>
#include <string.h>

#include <rte_memory.h>

#include "nat_rss.h"

/* The default key of the RSS verification suite (and of most NICs). */
static const uint8_t toeplitz_default_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* The symmetric key: 0x6d5a repeated (hash(a, b) == hash(b, a)). */
static const uint8_t toeplitz_symmetric_key[40] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

/* Bit i of the key (0: the first byte's most significant bit). */
static inline unsigned int
toeplitz_key_bit(const uint8_t *key, unsigned int i)
{
	return (key[i / 8] >> (7 - i % 8)) & 1u;
}

/*
 * For every set bit i of the input (most significant first), XOR in the 32
 * key bits starting at bit i. key must hold len + 4 bytes.
 */
static inline uint32_t
toeplitz_bitwise(const uint8_t *key, const uint8_t *in, unsigned int len)
{
	uint32_t h = 0;
	unsigned int i, j;

	for (i = 0; i < 8 * len; i++) {
		uint32_t window = 0;

		if (((in[i / 8] >> (7 - i % 8)) & 1u) == 0)
			continue;
		for (j = 0; j < 32; j++)
			window = window << 1 | toeplitz_key_bit(key, i + j);
		h ^= window;
	}
	return h;
}

/* The hash of an IPv4 TCP/UDP tuple, fields in network order, as the NIC reads them. */
static inline uint32_t
toeplitz_v4(const uint8_t *key, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	uint8_t in[12];

	memcpy(in, &src, 4);
	memcpy(in + 4, &dst, 4);
	memcpy(in + 8, &sport, 2);
	memcpy(in + 10, &dport, 2);
	return toeplitz_bitwise(key, in, sizeof(in));
}

/* A RETA of size entries: entry i names queue (i / block) % n_queues. */
static inline void
test_reta_fill(uint16_t *reta, uint32_t size, unsigned int n_queues, uint32_t block)
{
	for (uint32_t i = 0; i < size; i++)
		reta[i] = (uint16_t)((i / block) % n_queues);
}

/* nat_rss_create() for a 40-byte key, n workers and the NAT ports [lo, hi]. */
static inline struct nat_rss *
test_rss_create(const uint8_t *key, const uint16_t *reta, uint32_t size, unsigned int n,
		uint16_t lo, uint16_t hi)
{
	struct nat_rss_params p = {
		.key = key,
		.key_len = 40,
		.reta = reta,
		.reta_size = size,
		.n_workers = n,
		.port_lo = lo,
		.port_hi = hi,
		.socket_id = SOCKET_ID_ANY,
	};

	return nat_rss_create(&p);
}

#endif
