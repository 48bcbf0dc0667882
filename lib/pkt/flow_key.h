/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The 5-tuple key as the packet core builds it from a parsed frame, and as
 * the flow table and the policy classifier take it: fixed size, no padding
 * left undefined, network byte order.
 */
#ifndef EGRESS_FLOW_KEY_H
#define EGRESS_FLOW_KEY_H

#include <assert.h>
#include <stdint.h>
#include <string.h>

#include <rte_hash_crc.h>

/** A 5-tuple as on the wire: network byte order, no padding bytes left undefined. */
struct flow_key {
	uint32_t src_ip;
	uint32_t dst_ip;
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t proto;
	uint8_t pad[3]; /**< always zero */
};
static_assert(sizeof(struct flow_key) == 16, "flow_key must be 16 bytes, no padding");

/**
 * The hash of a key (the flow table's, and any other table keyed by 5-tuples): CRC32C of its two 8-byte words. The words are
 * loaded with memcpy: rte_hash_crc() reads through a uint64_t pointer, which
 * the compiler may move ahead of stores to the key made just before it.
 */
static inline uint32_t
flow_key_hash(const struct flow_key *k, uint32_t seed)
{
	uint64_t w[2];

	memcpy(w, k, sizeof(w));
	return rte_hash_crc_8byte(w[1], rte_hash_crc_8byte(w[0], seed));
}

#endif
