/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The port's side of a received frame: its 802.1Q tag checked against the
 * port's VLAN and taken off, by the NIC or here, so that everything after
 * sees an untagged frame. Inline: every frame of a tagged port runs it.
 * Private to lib/dp; the TX side is dp_tx_prepare() (port_io.c).
 */
#ifndef EGRESS_DP_PORT_IO_H
#define EGRESS_DP_PORT_IO_H

#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dp.h"

#define DP_VLAN_VID_MASK 0x0fff /* the TCI's VLAN ID; the 3 PCP bits and DEI are not ours */

/*
 * A frame's tag against the port's: on a tagged port only frames of its VLAN
 * pass, untagged after; on an untagged port a frame the NIC reports it
 * stripped a tag from was tagged. A tag taken off here is recorded as the
 * NIC would record it (RTE_MBUF_F_RX_VLAN_STRIPPED, vlan_tci), so a frame
 * handed to another worker passes this check again there.
 * @return EGRESS_DROP_MAX when the frame passes, else why it is dropped.
 */
static inline enum egress_drop
dp_rx_vlan(const struct dp_port_conf *pc, struct rte_mbuf *m)
{
	uint8_t *frame;
	uint16_t tci;

	if (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) {
		if (pc->vlan == 0)
			return EGRESS_DROP_VLAN_TAGGED;
		return (m->vlan_tci & DP_VLAN_VID_MASK) == pc->vlan ? EGRESS_DROP_MAX :
								      EGRESS_DROP_VLAN_MISMATCH;
	}
	if (pc->vlan == 0)
		return EGRESS_DROP_MAX; /* a tag in the frame: pkt_parse() drops it */
	frame = rte_pktmbuf_mtod(m, uint8_t *);
	if (rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN + sizeof(struct rte_vlan_hdr) ||
	    frame[12] != 0x81 || frame[13] != 0x00)
		return EGRESS_DROP_VLAN_MISMATCH;
	tci = (uint16_t)(frame[14] << 8 | frame[15]);
	if ((tci & DP_VLAN_VID_MASK) != pc->vlan)
		return EGRESS_DROP_VLAN_MISMATCH;
	/* the two MAC addresses move up over the tag */
	memmove(frame + sizeof(struct rte_vlan_hdr), frame, 2 * RTE_ETHER_ADDR_LEN);
	rte_pktmbuf_adj(m, sizeof(struct rte_vlan_hdr));
	m->vlan_tci = tci;
	m->ol_flags |= RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED;
	return EGRESS_DROP_MAX;
}

#endif
