/* SPDX-License-Identifier: BSD-3-Clause */
/* Frames more than one test program crafts and checks: ARP. */
#ifndef EGRESS_TEST_FRAMES_H
#define EGRESS_TEST_FRAMES_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "test_common.h"

/* A broadcast ARP request from (sha, sip) for tip, zero-padded to len (>= 42) bytes. */
static inline struct rte_mbuf *
test_arp_request(struct rte_mempool *pool, const uint8_t *sha, uint32_t sip, uint32_t tip,
		 uint16_t len)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;

	assert_non_null(m);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, len);
	if (eth == NULL)
		abort(); /* not assert_non_null: the compiler must see it stop */
	memset(eth, 0, len);
	memcpy(&eth->dst_addr, bcast, 6);
	memcpy(&eth->src_addr, sha, 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp = (struct rte_arp_hdr *)(eth + 1);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = 6;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	memcpy(&arp->arp_data.arp_sha, sha, 6);
	arp->arp_data.arp_sip = sip;
	arp->arp_data.arp_tip = tip;
	return m;
}

/* m is the ARP reply "sip is at sha" from src to dst (tha, tip). */
static inline void
test_assert_arp_reply(struct rte_mbuf *m, const uint8_t *dst, const uint8_t *src,
		      const uint8_t *sha, uint32_t sip, uint32_t tip)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);

	assert_memory_equal(&eth->dst_addr, dst, 6);
	assert_memory_equal(&eth->src_addr, src, 6);
	assert_int_equal(rte_be_to_cpu_16(eth->ether_type), RTE_ETHER_TYPE_ARP);
	assert_int_equal(rte_be_to_cpu_16(arp->arp_opcode), RTE_ARP_OP_REPLY);
	assert_memory_equal(&arp->arp_data.arp_sha, sha, 6);
	assert_int_equal(arp->arp_data.arp_sip, sip);
	assert_memory_equal(&arp->arp_data.arp_tha, dst, 6);
	assert_int_equal(arp->arp_data.arp_tip, tip);
}

#endif
