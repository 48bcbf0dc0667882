/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Rewriting a forwarded frame: the NAT of addresses and ports with the TTL
 * decrement and incremental checksums, and the MSS clamp of SYNs. Inline:
 * every forwarded frame runs it. Private to lib/dp.
 */
#ifndef EGRESS_DP_REWRITE_H
#define EGRESS_DP_REWRITE_H

#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "dp_private.h"

/* The L4 checksum field, or NULL when the segment carries none. */
static inline uint16_t *
l4_cksum_field(uint8_t *l4, uint8_t proto)
{
	if (proto == IPPROTO_TCP)
		return (uint16_t *)(l4 + offsetof(struct rte_tcp_hdr, cksum));
	if (proto == IPPROTO_UDP) {
		uint16_t *c = (uint16_t *)(l4 + offsetof(struct rte_udp_hdr, dgram_cksum));

		/* UDP checksum 0 means "none" and must stay so (RFC 768) */
		return *c != 0 ? c : NULL;
	}
	return NULL;
}

/*
 * Rewrite the addresses and ports of a forwarded packet and decrement its TTL,
 * fixing both checksums incrementally (RFC 1624): each fix-up needs the old
 * value, so it runs before the field is overwritten.
 */
static inline void
rewrite_l3l4(uint8_t *frame, const struct pkt_meta *pm, uint32_t src, uint16_t sport, uint32_t dst,
	     uint16_t dport)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + pm->l2_len);
	uint8_t *l4 = (uint8_t *)ip + pm->l3_len;
	uint16_t *ports = (uint16_t *)l4;
	uint16_t *l4c = l4_cksum_field(l4, pm->proto);
	uint16_t *ttl_word = HDR_U16(ip, struct rte_ipv4_hdr, time_to_live);
	uint16_t old_ttl_word = *ttl_word, new_ttl_word = old_ttl_word;
	uint16_t *ipc = HDR_U16(ip, struct rte_ipv4_hdr, hdr_checksum);
	uint32_t addrs = pkt_csum_delta32(ip->src_addr, src) + pkt_csum_delta32(ip->dst_addr, dst);

	/* every change summed in registers, each checksum written once: a byte
	 * store followed by a wider load of the same word (TTL, then the word
	 * it shares with the protocol) would stall on store forwarding */
	if (l4c != NULL) {
		uint16_t c = pkt_csum_adjust(*l4c, addrs + pkt_csum_delta16(ports[0], sport) +
							   pkt_csum_delta16(ports[1], dport));

		/* UDP: a computed 0 is sent as 0xffff (RFC 768) */
		*l4c = (pm->proto == IPPROTO_UDP && c == 0) ? 0xffff : c;
	}
	ports[0] = sport;
	ports[1] = dport;
	/* TTL shares a 16-bit checksum word with the protocol */
	((uint8_t *)&new_ttl_word)[0]--;
	*ttl_word = new_ttl_word;
	*ipc = pkt_csum_adjust(*ipc, addrs + pkt_csum_delta16(old_ttl_word, new_ttl_word));
	ip->src_addr = src;
	ip->dst_addr = dst;
}

/* Clamp the MSS option of a SYN to conf->mss_clamp (RFC 6691 / RFC 879). */
static inline void
clamp_mss(const struct dp_conf *conf, uint8_t *frame, const struct pkt_meta *pm)
{
	struct rte_tcp_hdr *th;
	uint16_t old, new;

	if (conf->mss_clamp == 0 || pm->tcp_mss_off == 0)
		return;
	memcpy(&old, frame + pm->tcp_mss_off, sizeof(old));
	if (rte_be_to_cpu_16(old) <= conf->mss_clamp)
		return;
	new = rte_cpu_to_be_16(conf->mss_clamp);
	th = (struct rte_tcp_hdr *)(frame + pm->l2_len + pm->l3_len);
	/* the option value is 2-byte aligned within the header only when the
	 * options before it are; an odd offset swaps the bytes in the sum */
	if (((pm->tcp_mss_off - pm->l2_len - pm->l3_len) & 1) == 0) {
		pkt_csum_update16(HDR_U16(th, struct rte_tcp_hdr, cksum), old, new);
	} else {
		pkt_csum_update16(HDR_U16(th, struct rte_tcp_hdr, cksum),
				  (uint16_t)((old << 8) | (old >> 8)),
				  (uint16_t)((new << 8) | (new >> 8)));
	}
	memcpy(frame + pm->tcp_mss_off, &new, sizeof(new));
}

#endif
