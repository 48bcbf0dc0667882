/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control-plane exception path, control side (doc/operations.md
 * "Control-plane exception path"). Per port with a TAP, every tick:
 *
 *   conf->exc[p].ring (frames the workers matched) ─► MAC to the TAP's ─► TAP TX
 *   TAP RX ─► ARP request: answered from egressd's neighbour table
 *          └► IPv4 from the port's address: our MAC as source ─► conf->tx[p]
 *             (worker 0 sends it, tagged and offloaded like its own)
 *
 * The host's kernel owns the TAP's address (the port's) and routing; its
 * neighbour entries are egressd's: it asks by ARP, and is answered with the
 * MAC egressd's table has, or, not yet known, not answered while egressd
 * resolves it (the kernel asks again). Nothing here blocks a worker: a
 * worker's full ring drops (exception_dropped); a full TAP or worker ring
 * drops here (exception_host_dropped).
 *
 * Control thread only: the TAP's queues are its alone, and it is the writer
 * of the neighbour tables it reads.
 */
#include <rte_arp.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "ctl.h"
#include "neigh.h"

#define EXC_BURST 32

/* Frames the workers queued for the host: to the kernel interface's MAC. */
static void
to_host(struct ctl *c, unsigned int p)
{
	struct ctl_exception *x = &c->exc[p];
	struct rte_mbuf *m[EXC_BURST];
	unsigned int n, i;
	uint16_t sent;

	n = rte_ring_sc_dequeue_burst(c->conf->exc[p].ring, (void **)m, EXC_BURST, NULL);
	if (n == 0)
		return;
	for (i = 0; i < n; i++) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m[i], struct rte_ether_hdr *);

		memcpy(&eth->dst_addr, x->host_mac, RTE_ETHER_ADDR_LEN);
		/* the checksums were verified: nothing for the TAP's PMD to do */
		m[i]->ol_flags = 0;
	}
	sent = rte_eth_tx_burst(x->port_id, 0, m, (uint16_t)n);
	if (sent < n)
		rte_pktmbuf_free_bulk(&m[sent], n - sent);
	__atomic_store_n(&x->to_host, x->to_host + sent, __ATOMIC_RELAXED);
	__atomic_store_n(&x->host_dropped, x->host_dropped + (n - sent), __ATOMIC_RELAXED);
}

/*
 * The host asks for a neighbour on the port's prefix: answer with the MAC
 * egressd's table has, in place; or have it resolved and say nothing yet.
 * @return true when m became the answer.
 */
static bool
host_arp(struct ctl *c, unsigned int p, struct rte_mbuf *m, uint64_t now_ms)
{
	const struct dp_port_conf *pc = &c->conf->port[p];
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);
	uint8_t mac[RTE_ETHER_ADDR_LEN];
	uint32_t tip;

	if (rte_pktmbuf_data_len(m) < sizeof(*eth) + sizeof(*arp) ||
	    arp->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
	    arp->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return false;
	tip = arp->arp_data.arp_tip;
	/* the kernel's duplicate-address probes and announcements: nobody */
	if (tip == pc->addr || arp->arp_data.arp_sip != pc->addr || (tip & pc->mask) != pc->net)
		return false;
	if (!neigh_lookup(pc->neigh, tip, mac)) {
		ctl_resolve(c, (enum dp_port)p, tip, now_ms);
		return false;
	}
	memcpy(&eth->dst_addr, &arp->arp_data.arp_sha, RTE_ETHER_ADDR_LEN);
	memcpy(&eth->src_addr, mac, RTE_ETHER_ADDR_LEN);
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	arp->arp_data.arp_tha = arp->arp_data.arp_sha;
	arp->arp_data.arp_tip = arp->arp_data.arp_sip;
	memcpy(&arp->arp_data.arp_sha, mac, RTE_ETHER_ADDR_LEN);
	arp->arp_data.arp_sip = tip;
	return true;
}

/*
 * What the host's kernel wrote: ARP requests answered back into the TAP,
 * IPv4 from the port's address sent out of the port (its destination MAC
 * is the one host_arp() gave the kernel), everything else (IPv6 the
 * operator did not turn off, the kernel's own chatter) dropped.
 */
static void
from_host(struct ctl *c, unsigned int p, uint64_t now_ms)
{
	const struct dp_port_conf *pc = &c->conf->port[p];
	struct ctl_exception *x = &c->exc[p];
	struct rte_mbuf *m[EXC_BURST], *reply[EXC_BURST];
	uint64_t out = 0, dropped = 0, arp = 0;
	uint16_t n, i, n_reply = 0, sent;

	n = rte_eth_rx_burst(x->port_id, 0, m, EXC_BURST);
	for (i = 0; i < n; i++) {
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m[i], struct rte_ether_hdr *);
		const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(eth + 1);

		if (m[i]->nb_segs != 1 || rte_pktmbuf_data_len(m[i]) < sizeof(*eth) + sizeof(*ip)) {
			/* too short for ARP too */
		} else if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
			if (host_arp(c, p, m[i], now_ms)) {
				reply[n_reply++] = m[i];
				continue;
			}
		} else if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) &&
			   ip->src_addr == pc->addr &&
			   /* draining: the router hears nothing more from the host */
			   (p != DP_INSIDE ||
			    __atomic_load_n(&c->conf->draining, __ATOMIC_RELAXED) == 0)) {
			memcpy(&eth->src_addr, pc->mac, RTE_ETHER_ADDR_LEN);
			m[i]->ol_flags = 0;
			dp_pad_runt(m[i]); /* a bare ACK, as workers pad theirs */
			if (rte_ring_mp_enqueue(c->conf->tx[p], m[i]) == 0) {
				out++;
				continue;
			}
		}
		dropped++;
		rte_pktmbuf_free(m[i]);
	}
	if (n_reply > 0) {
		sent = rte_eth_tx_burst(x->port_id, 0, reply, n_reply);
		if (sent < n_reply)
			rte_pktmbuf_free_bulk(&reply[sent], n_reply - sent);
		arp = sent;
		dropped += n_reply - sent;
	}
	__atomic_store_n(&x->from_host, x->from_host + out, __ATOMIC_RELAXED);
	__atomic_store_n(&x->arp_replies, x->arp_replies + arp, __ATOMIC_RELAXED);
	__atomic_store_n(&x->host_dropped, x->host_dropped + dropped, __ATOMIC_RELAXED);
}

void
ctl_exception_poll(struct ctl *c, uint64_t now_ms)
{
	unsigned int p;

	for (p = 0; p < DP_NPORTS; p++) {
		if (!c->exc[p].on || c->conf->exc[p].ring == NULL || c->conf->tx[p] == NULL)
			continue;
		to_host(c, p);
		from_host(c, p, now_ms);
	}
}
