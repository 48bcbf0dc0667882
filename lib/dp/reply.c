/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The frames the data path answers or generates itself: ARP replies, ICMP
 * echo replies, TCP RSTs (deny: reset, revocation), ICMP errors (time
 * exceeded, fragmentation needed, administratively prohibited) and the
 * translation of ICMP errors about NATed flows (RFC 5508). Generated frames
 * are rate-limited (struct dp_bucket). Worker lcore only.
 */

#include <rte_arp.h>
#include <rte_icmp.h>

#include "dp_private.h"
#include "explain.h"
#include "neigh.h"
#include "rewrite.h"

/* Write a bare RST (Ethernet + IPv4 + TCP, 54 bytes) into m, replacing its data. */
void
dp_write_rst(struct rte_mbuf *m, const struct rst_spec *r)
{
	const uint16_t len =
		RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) + sizeof(struct rte_tcp_hdr);
	uint8_t *frame;
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;

	rte_pktmbuf_reset(m);
	frame = (uint8_t *)rte_pktmbuf_append(m, len);
	if (frame == NULL)
		return; /* cannot happen: every mbuf has room for 54 bytes */
	eth = (struct rte_ether_hdr *)frame;
	memmove(&eth->dst_addr, r->dmac, RTE_ETHER_ADDR_LEN);
	memmove(&eth->src_addr, r->smac, RTE_ETHER_ADDR_LEN);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16(sizeof(*ip) + sizeof(*th));
	ip->packet_id = 0;
	ip->fragment_offset = 0;
	ip->time_to_live = DP_DEFAULT_TTL;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = r->src;
	ip->dst_addr = r->dst;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th = (struct rte_tcp_hdr *)(ip + 1);
	th->src_port = r->sport;
	th->dst_port = r->dport;
	th->sent_seq = rte_cpu_to_be_32(r->seq);
	th->recv_ack = rte_cpu_to_be_32(r->ack);
	th->data_off = (sizeof(*th) / 4) << 4;
	th->tcp_flags = r->flags;
	th->rx_win = 0;
	th->tcp_urp = 0;
	th->cksum = 0;
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
}

/*
 * Turn a received TCP segment, in place, into the RST that answers it
 * (RFC 793 "Reset Generation"): back to its sender, from the address it was
 * sent to. Everything needed is taken from pm and the frame's source MAC
 * before dp_write_rst() rebuilds the headers.
 */
static void
make_rst(struct rte_mbuf *m, const struct pkt_meta *pm, const uint8_t *our_mac)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	uint32_t payload = pm->ip_len - pm->l3_len - pm->l4_len;
	uint8_t peer_mac[RTE_ETHER_ADDR_LEN];
	struct rst_spec r = {
		.dmac = peer_mac,
		.smac = our_mac,
		.src = pm->dst_ip,
		.dst = pm->src_ip,
		.sport = pm->dst_port,
		.dport = pm->src_port,
	};

	memcpy(peer_mac, &eth->src_addr, sizeof(peer_mac));
	if (pm->tcp_flags & PKT_TCP_ACK) {
		/* the sender expects exactly this from its peer next */
		r.seq = pm->tcp_ack;
		r.flags = RTE_TCP_RST_FLAG;
	} else {
		r.ack = pm->tcp_seq + payload + !!(pm->tcp_flags & PKT_TCP_SYN) +
			!!(pm->tcp_flags & PKT_TCP_FIN);
		r.flags = RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG;
	}
	dp_write_rst(m, &r);
}

/*
 * Answer the frame m (received on port `in`, parsed as pm) with an ICMP error
 * of type/code (RFC 792; next-hop MTU for "fragmentation needed", RFC 1191),
 * from our own address on that port, back to the frame's sender, quoting its
 * IP header and the first DP_ICMP_QUOTE bytes after it (RFC 1812 4.3.2.3).
 * Rate-limited. The frame itself is consumed by the caller's drop.
 * @return true when an error was queued.
 */
bool
dp_icmp_error(struct dp_burst *b, struct rte_mbuf *m, const struct pkt_meta *pm, uint8_t type,
	      uint8_t code, uint16_t mtu)
{
	const struct dp_port_conf *pc = &b->conf->port[b->in];
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ether_hdr *oeth = (const struct rte_ether_hdr *)frame;
	uint16_t quote =
		(uint16_t)RTE_MIN((uint32_t)pm->ip_len, (uint32_t)pm->l3_len + DP_ICMP_QUOTE);
	uint16_t len = RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) +
		       sizeof(struct rte_icmp_hdr) + quote;
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *ic;
	struct rte_mbuf *e;

	if (b->out->n[b->in] >= DP_OUT_MAX || !bucket_take(&b->w->icmp, b->now, DP_ICMP_RATE))
		return false;
	e = rte_pktmbuf_alloc(b->w->pool);
	if (e == NULL)
		return false;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(e, len);
	if (eth == NULL) {
		rte_pktmbuf_free(e);
		return false;
	}
	memcpy(&eth->dst_addr, &oeth->src_addr, RTE_ETHER_ADDR_LEN);
	memcpy(&eth->src_addr, pc->mac, RTE_ETHER_ADDR_LEN);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(len - RTE_ETHER_HDR_LEN);
	ip->time_to_live = DP_DEFAULT_TTL;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = pc->addr;
	ip->dst_addr = pm->src_ip;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	ic = (struct rte_icmp_hdr *)(ip + 1);
	ic->icmp_type = type;
	ic->icmp_code = code;
	ic->icmp_cksum = 0;
	/* unused, or the next-hop MTU in the low 16 bits (RFC 1191) */
	ic->icmp_ident = 0;
	ic->icmp_seq_nb = rte_cpu_to_be_16(mtu);
	memcpy(ic + 1, frame + pm->l2_len, quote);
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, sizeof(*ic) + quote);
	b->w->stats.icmp_sent++;
	dp_emit(b, b->in, e);
	return true;
}

/*
 * An ICMP error (destination unreachable, time exceeded) sent to a NAT
 * address about a packet of a NATed flow (RFC 5508 / RFC 7857 section 2.9):
 * find the flow from the quoted packet, rewrite the outer destination (and
 * the source, when the DNAT endpoint itself reports) and the quoted packet
 * back to what the client sent, fix every checksum, and send it on to the
 * client. It never refreshes, changes or ends the flow.
 */
void
dp_icmp_translate(struct dp_burst *b, struct rte_mbuf *m, const struct pkt_meta *pm)
{
	const struct dp_conf *conf = b->conf;
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + pm->l2_len);
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)((uint8_t *)ip + pm->l3_len);
	uint8_t *inner = (uint8_t *)(ic + 1);
	uint32_t avail = pm->ip_len - pm->l3_len - sizeof(*ic);
	const struct dp_port_conf *ipc = &conf->port[DP_INSIDE];
	struct rte_ipv4_hdr *iip = (struct rte_ipv4_hdr *)inner;
	uint16_t *iports, old_ttl_word, new_ttl_word;
	uint32_t ihl, icmp_len = pm->ip_len - pm->l3_len;
	const struct flow_key *o, *in;
	struct flow_key k;
	uint8_t dir, mac[RTE_ETHER_ADDR_LEN];
	uint32_t src;
	struct flow *f;

	/* the quoted packet: an IPv4 header (options allowed) and 8 bytes of L4 */
	if (avail < sizeof(*iip) || (iip->version_ihl >> 4) != 4) {
		dp_drop(b, m, EGRESS_DROP_ICMP_UNHANDLED);
		return;
	}
	ihl = (uint32_t)(iip->version_ihl & 0xf) * 4;
	if (ihl < sizeof(*iip) || avail < ihl + 8 ||
	    (iip->next_proto_id != IPPROTO_TCP && iip->next_proto_id != IPPROTO_UDP) ||
	    !is_nat_addr(conf, iip->src_addr)) {
		dp_drop(b, m, EGRESS_DROP_ICMP_UNHANDLED);
		return;
	}
	if (unlikely(pm->ttl <= 1)) {
		dp_drop(b, m, EGRESS_DROP_TTL_EXPIRED);
		return;
	}
	iports = (uint16_t *)(inner + ihl);
	/* the quoted packet went out NAT -> server: its flow's reply key is the reverse */
	k = (struct flow_key){ .src_ip = iip->dst_addr,
			       .dst_ip = iip->src_addr,
			       .src_port = iports[1],
			       .dst_port = iports[0],
			       .proto = iip->next_proto_id };
	{
		int owner = dp_owner(conf, &k);

		if (owner >= 0 && (unsigned int)owner != b->w->id) {
			dp_handoff(b, m, (unsigned int)owner);
			return;
		}
	}
	f = flow_table_lookup(b->w->flows, &k, &dir);
	if (f == NULL || dir != FLOW_DIR_IN || !f->in_use) {
		dp_drop(b, m, EGRESS_DROP_NO_FLOW);
		return;
	}
	/* RFC 5508 REQ-3a: a quoted header that fails its checksum (options
	 * included) is damaged or forged, and is not passed on. Checked once
	 * the quote names one of our flows: an error about no flow of ours is
	 * counted as no_flow, whatever the state of its quote */
	if (unlikely(pkt_ipv4_hdr_cksum(inner, (uint16_t)ihl) != 0)) {
		dp_drop(b, m, EGRESS_DROP_ICMP_QUOTE_CHECKSUM);
		return;
	}
	o = &f->key[FLOW_DIR_OUT];
	in = &f->key[FLOW_DIR_IN];
	if (!neigh_lookup(ipc->neigh, o->src_ip, mac)) {
		dp_event(conf, DP_EV_RESOLVE, DP_INSIDE, o->src_ip, NULL);
		dp_drop(b, m, EGRESS_DROP_NEIGH_UNRESOLVED);
		return;
	}
	/* quoted L4 checksum, when quoted: TCP's is at 16, UDP's at 6 (0: none) */
	if (iip->next_proto_id == IPPROTO_TCP && avail >= ihl + 18) {
		uint16_t *c = (uint16_t *)(inner + ihl + 16);

		pkt_csum_update32(c, iip->src_addr, o->src_ip);
		pkt_csum_update32(c, iip->dst_addr, o->dst_ip);
		pkt_csum_update16(c, iports[0], o->src_port);
		pkt_csum_update16(c, iports[1], o->dst_port);
	} else if (iip->next_proto_id == IPPROTO_UDP && iports[3] != 0) {
		pkt_csum_update32(&iports[3], iip->src_addr, o->src_ip);
		pkt_csum_update32(&iports[3], iip->dst_addr, o->dst_ip);
		pkt_csum_update16(&iports[3], iports[0], o->src_port);
		pkt_csum_update16(&iports[3], iports[1], o->dst_port);
		if (iports[3] == 0)
			iports[3] = 0xffff;
	}
	iports[0] = o->src_port;
	iports[1] = o->dst_port;
	pkt_csum_update32(HDR_U16(iip, struct rte_ipv4_hdr, hdr_checksum), iip->src_addr,
			  o->src_ip);
	pkt_csum_update32(HDR_U16(iip, struct rte_ipv4_hdr, hdr_checksum), iip->dst_addr,
			  o->dst_ip);
	iip->src_addr = o->src_ip;
	iip->dst_addr = o->dst_ip;
	/* the ICMP checksum covers all of the above: computed afresh */
	ic->icmp_cksum = 0;
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, icmp_len);

	/* outer: to the client, TTL decremented. The source is who reported:
	 * a router on the path keeps its own address (RFC 5508 REQ-4 allows
	 * it, and traceroute needs it); the DNAT endpoint itself speaks as the
	 * address the client connected to (the VIP), the only one the client
	 * knows: its real address would leak from behind the VIP. The ICMP
	 * checksum has no pseudo-header: only the IP header's changes. */
	src = ip->src_addr;
	if (src == in->src_ip && in->src_ip != o->dst_ip)
		src = o->dst_ip;
	old_ttl_word = *HDR_U16(ip, struct rte_ipv4_hdr, time_to_live);
	ip->time_to_live--;
	new_ttl_word = *HDR_U16(ip, struct rte_ipv4_hdr, time_to_live);
	*HDR_U16(ip, struct rte_ipv4_hdr, hdr_checksum) = pkt_csum_adjust(
		*HDR_U16(ip, struct rte_ipv4_hdr, hdr_checksum),
		pkt_csum_delta16(old_ttl_word, new_ttl_word) + pkt_csum_delta32(ip->src_addr, src) +
			pkt_csum_delta32(ip->dst_addr, o->src_ip));
	ip->src_addr = src;
	ip->dst_addr = o->src_ip;
	set_l2(frame, mac, ipc->mac);
	b->w->stats.icmp_translated++;
	dp_emit(b, DP_INSIDE, m);
}

/* ARP: answer requests for our address; tell the control thread what we learn. */
void
dp_handle_arp(struct dp_burst *b, struct rte_mbuf *m, const struct pkt_meta *pm)
{
	const struct dp_port_conf *pc = &b->conf->port[b->in];
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(frame + pm->l2_len);

	/* after a takeover, the outside port answers for the peer's NAT
	 * addresses too (session sync, doc/session-sync.md) */
	if ((pm->arp_tip != pc->addr &&
	     !(b->in == DP_OUTSIDE && is_peer_addr(b->conf, pm->arp_tip))) ||
	    pm->arp_sip == pc->addr) {
		dp_drop(b, m, EGRESS_DROP_ARP_IGNORED);
		return;
	}
	if (in_prefix(pc, pm->arp_sip))
		dp_event(b->conf, DP_EV_LEARN, b->in, pm->arp_sip, pm->arp_sha);
	if (pm->arp_op != RTE_ARP_OP_REQUEST) {
		dp_free(b, m); /* a reply to us: consumed, not dropped */
		return;
	}
	set_l2(frame, pm->arp_sha, pc->mac);
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	memcpy(&arp->arp_data.arp_tha, pm->arp_sha, RTE_ETHER_ADDR_LEN);
	arp->arp_data.arp_tip = pm->arp_sip;
	memcpy(&arp->arp_data.arp_sha, pc->mac, RTE_ETHER_ADDR_LEN);
	arp->arp_data.arp_sip = pm->arp_tip; /* the address asked for */
	b->w->stats.arp_replies++;
	dp_emit(b, b->in, m);
}

/* A frame for one of our own addresses that is not a NATed reply. */
void
dp_handle_local(struct dp_burst *b, struct rte_mbuf *m, const struct pkt_meta *pm)
{
	const struct dp_port_conf *pc = &b->conf->port[b->in];
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(frame + pm->l2_len);
	struct rte_icmp_hdr *icmp = (struct rte_icmp_hdr *)((uint8_t *)ip + pm->l3_len);

	if (pm->proto != IPPROTO_ICMP) {
		dp_drop(b, m, EGRESS_DROP_TO_SELF);
		return;
	}
	if (pm->icmp_type != ICMP_ECHO_REQUEST || pm->icmp_code != 0) {
		dp_drop(b, m, EGRESS_DROP_ICMP_UNHANDLED);
		return;
	}
	/* echo reply: same payload, type 8 -> 0. The checksum is computed
	 * afresh: an incremental update can yield 0x0000 for an all-zero
	 * message, the one value that does not verify (RFC 1624 section 3) */
	icmp->icmp_type = ICMP_ECHO_REPLY;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = (uint16_t)~rte_raw_cksum(icmp, pm->ip_len - pm->l3_len);

	memcpy(&eth->dst_addr, &eth->src_addr, RTE_ETHER_ADDR_LEN);
	memcpy(&eth->src_addr, pc->mac, RTE_ETHER_ADDR_LEN);
	ip->dst_addr = ip->src_addr;
	ip->src_addr = pc->addr;
	ip->time_to_live = DP_DEFAULT_TTL;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = pkt_ipv4_hdr_cksum((const uint8_t *)ip, pm->l3_len);
	b->w->stats.echo_replies++;
	dp_emit(b, b->in, m);
}

/*
 * Larger than the MTU of the port it would leave by. egressd does not
 * fragment: with DF set the sender learns the MTU (RFC 1191, ICMP
 * "fragmentation needed"), without it the packet is dropped and counted.
 */
void
dp_too_big(struct dp_burst *b, struct rte_mbuf *m, const struct pkt_meta *pm, uint16_t mtu)
{
	const struct rte_ipv4_hdr *ip =
		rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, pm->l2_len);

	if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG))
		dp_icmp_error(b, m, pm, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, mtu);
	dp_drop(b, m, EGRESS_DROP_MTU_EXCEEDED);
}

/*
 * A new flow the policy denies: under the rule that lists its address but
 * not its port or protocol (a near miss: a port missing from an entry),
 * else under no rule (denied_no_address: an address no entry lists).
 */
static void
count_near_miss(struct dp_burst *b, unsigned int i)
{
	struct dp_counters *cnt = b->cnt;
	uint32_t rule;

	if (policy_near_miss(b->pol, &b->key[i], &rule) == POLICY_EXPLAIN_NO_ADDRESS)
		b->w->stats.denied_no_address++;
	else if (cnt != NULL && cnt->rule_near_miss != NULL)
		cnt->rule_near_miss[b->w->id * cnt->rule_stride + rule]++;
}

/*
 * Answer the TCP segment m (counted as dropped already) with its RST, back
 * out of the port it came in on, within the worker's DP_RST_RATE.
 * @return true when the RST was queued (m is it); false: m is still the caller's.
 */
static bool
answer_rst(struct dp_burst *b, struct rte_mbuf *m, const struct pkt_meta *pm)
{
	if (!bucket_take(&b->w->rst, b->now, DP_RST_RATE))
		return false;
	make_rst(m, pm, b->conf->port[b->in].mac);
	b->w->stats.rst_sent++;
	dp_emit(b, b->in, m);
	return true;
}

/* A new connection the policy refuses: count, and answer per `deny`. */
void
dp_deny(struct dp_burst *b, unsigned int i, enum egress_drop why)
{
	const struct pkt_meta *pm = &b->meta[i];
	struct rte_mbuf *m = b->m[i];

	if (why == EGRESS_DROP_POLICY_DENIED)
		count_near_miss(b, i);
	if (unlikely(b->w->flowlog != NULL))
		dp_flowlog_deny(b, i, why);
	b->w->stats.drops[why]++;
	b->w->stats.port[b->in].dropped++;
	if (b->conf->deny == EGRESS_DENY_RESET && pm->proto == IPPROTO_TCP && answer_rst(b, m, pm))
		return;
	/* not TCP: "communication administratively prohibited" (RFC 1812 5.2.7.1) */
	if (b->conf->deny == EGRESS_DENY_RESET && pm->proto != IPPROTO_TCP)
		dp_icmp_error(b, m, pm, ICMP_UNREACH, ICMP_UNREACH_ADMIN, 0);
	dp_free(b, m);
}

/*
 * An inside TCP segment no live flow carries that opens none (no SYN, or a
 * SYN-ACK; or a segment of a flow that timed out, in quarantine): the
 * no_flow_not_syn drop, and with flows.no_flow: reset its RST, so that a
 * client whose connection this appliance never saw (moved here by ECMP
 * after its appliance failed, its flow not synced) fails at once instead of
 * at its own timeout. Only a segment with ACK and without RST is answered:
 * a RST never (RFC 793, "Reset Generation"), and every other valid one
 * but a SYN carries an ACK, which the RST's seq is. With session sync on,
 * only once the peer is taken over: before, the segment may belong to a
 * flow the takeover installs, and the client's retransmission finds it.
 */
void
dp_not_syn(struct dp_burst *b, unsigned int i)
{
	const struct dp_conf *conf = b->conf;
	const struct pkt_meta *pm = &b->meta[i];
	struct rte_mbuf *m = b->m[i];

	b->w->stats.drops[EGRESS_DROP_NOT_SYN]++;
	b->w->stats.port[b->in].dropped++;
	if (conf->no_flow == EGRESS_NO_FLOW_RESET && pm->proto == IPPROTO_TCP &&
	    (pm->tcp_flags & (PKT_TCP_ACK | PKT_TCP_RST)) == PKT_TCP_ACK &&
	    (conf->n_sync_peer_addrs == 0 ||
	     __atomic_load_n(&conf->sync_takeover, __ATOMIC_ACQUIRE) != 0) &&
	    answer_rst(b, m, pm))
		return;
	dp_free(b, m);
}
