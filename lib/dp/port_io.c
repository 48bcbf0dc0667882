/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The port's side of a frame to send: checksum offload and the VLAN tag.
 * See dp_tx_prepare() in dp.h.
 */
#include <netinet/in.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "dp.h"

/*
 * Leave the checksums of an IPv4 frame to the NIC: the IPv4 header's zeroed,
 * a TCP or UDP checksum set to the pseudo-header sum that the NIC completes
 * over the segment. The software checksums the frame carries (incremental
 * updates of forwarded frames, full sums of generated ones) are correct
 * either way; offloaded, a frame whose checksum the sender left to be
 * completed (virtio's partial checksums) leaves complete too. A UDP
 * checksum of 0 means none (RFC 768) and stays 0.
 */
static void
tx_cksum(const struct dp_port_conf *pc, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip;
	uint8_t *l4;

	if (eth->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return;
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = rte_ipv4_hdr_len(ip);
	l4 = (uint8_t *)ip + m->l3_len;
	if (pc->offloads & DP_PORT_TX_IP_CKSUM) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
		ip->hdr_checksum = 0;
	}
	if (!(pc->offloads & DP_PORT_TX_L4_CKSUM))
		return;
	if (ip->next_proto_id == IPPROTO_TCP) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
		((struct rte_tcp_hdr *)l4)->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	} else if (ip->next_proto_id == IPPROTO_UDP &&
		   ((struct rte_udp_hdr *)l4)->dgram_cksum != 0) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
		((struct rte_udp_hdr *)l4)->dgram_cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	}
}

uint16_t
dp_tx_prepare(const struct dp_port_conf *pc, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i, kept = 0;

	if (likely(pc->vlan == 0 &&
		   (pc->offloads & (DP_PORT_TX_IP_CKSUM | DP_PORT_TX_L4_CKSUM)) == 0))
		return n;
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (pc->offloads & (DP_PORT_TX_IP_CKSUM | DP_PORT_TX_L4_CKSUM))
			tx_cksum(pc, m);
		if (pc->vlan != 0) {
			m->vlan_tci = pc->vlan;
			if (pc->offloads & DP_PORT_VLAN_INSERT) {
				m->ol_flags |= RTE_MBUF_F_TX_VLAN;
			} else if (rte_vlan_insert(&m) != 0) {
				rte_pktmbuf_free(m);
				continue;
			}
		}
		pkts[kept++] = m;
	}
	return kept;
}

void
dp_rss_symmetric_key(uint8_t *key, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		key[i] = (i & 1) ? 0x5a : 0x6d;
}
