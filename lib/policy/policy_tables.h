/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The compiled tables of a policy as the classifier reads them: shared by
 * lib/policy (classify.c, the runtime) and lib/policy_build (build.c, which
 * fills them). Not for other modules.
 */
#ifndef EGRESS_POLICY_TABLES_H
#define EGRESS_POLICY_TABLES_H

#include <stdint.h>

#include <rte_hash_crc.h>

#include "policy.h"

/*
 * The exact table: open addressing with linear probing over a flat array of
 * 16-byte slots, at most half full, so that a lookup is one CRC32, one
 * (prefetched) cache line and rarely a second. Immutable once built: workers
 * read it with no synchronisation at all.
 */
struct exact_slot {
	uint64_t key; /* EXACT_EMPTY: free */
	uint32_t rule;
	uint32_t pad;
};

struct policy_exact {
	uint32_t mask; /* slots - 1, slots a power of two */
	struct exact_slot slot[];
};

/* No key has its top byte set: the protocol sits in bits 48-55. */
#define EXACT_EMPTY UINT64_MAX
#define EXACT_BULK  64 /* keys hashed and prefetched ahead */

/*
 * The exact table's key: (destination, port, protocol) as the flow key holds
 * them (network order), in 8 bytes. Rules and packets build it alike.
 */
static inline uint64_t
exact_key(uint32_t dst_net, uint16_t port_net, uint8_t proto)
{
	return (uint64_t)dst_net | (uint64_t)port_net << 32 | (uint64_t)proto << 48;
}

static inline uint32_t
exact_hash(uint64_t key)
{
	return rte_hash_crc_8byte(key, 0);
}

#endif
