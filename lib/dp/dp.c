/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet pipeline (see dp.h for the contract, doc/architecture.md for the
 * picture). Per burst:
 *
 *   parse + L2/L3 checks ─► local (ARP, exception path, echo) ─► keys
 *   ─► one bulk flow lookup ─► misses: one bulk classify
 *   ─► allow: NAT bind + insert / deny: drop|RST
 *   ─► per packet in arrival order: TCP state, policy epoch check, rewrite,
 *      next hop, emit.
 *
 * Datapath rules: no locks, no syscalls, no allocation but mempools, no logs;
 * every dropped frame is counted under exactly one reason.
 */

#include <rte_ether.h>
#include <rte_prefetch.h>
#include <rte_ring.h>

#include "dp_private.h"
#include "port_io.h"
#include "neigh.h"
#include "rewrite.h"

void
dp_event(const struct dp_conf *conf, uint8_t type, enum dp_port port, uint32_t ip,
	 const uint8_t *mac)
{
	struct dp_event ev = { .type = type, .port = (uint8_t)port, .ip = ip };

	if (conf->events == NULL)
		return;
	if (mac != NULL)
		memcpy(ev.mac, mac, sizeof(ev.mac));
	/* a full ring loses a hint, never a packet: the next miss asks again */
	(void)rte_ring_mp_enqueue_elem(conf->events, &ev, sizeof(ev));
}

/* Pass a frame to the worker that owns its flow; it counts the frame's RX. */
void
dp_handoff(struct dp_burst *b, struct rte_mbuf *m, unsigned int owner)
{
	struct rte_ring *r = b->conf->handoff[owner];

	if (r == NULL || rte_ring_mp_enqueue(r, m) != 0) {
		dp_drop(b, m, EGRESS_DROP_HANDOFF_FULL);
		return;
	}
	b->w->stats.port[b->in].rx--;
	b->w->stats.handed_off++;
}

/*
 * Parse and sort one frame: drop it, answer it (ARP, echo), or queue it for
 * the flow stage with its key built.
 */
static void
stage_parse(struct dp_burst *b, struct rte_mbuf *m)
{
	const struct dp_conf *conf = b->conf;
	const struct dp_port_conf *pc = &conf->port[b->in];
	struct pkt_meta *pm = &b->meta[b->n];
	const struct rte_ether_hdr *eth;
	enum egress_drop why;
	uint32_t len, flags;
	uint8_t *frame;
	uint64_t ol;

	if (unlikely(m->nb_segs != 1)) {
		dp_drop(b, m, EGRESS_DROP_MULTI_SEG);
		return;
	}
	if (unlikely(pc->vlan != 0 || (m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED))) {
		why = dp_rx_vlan(pc, m);
		if (why != EGRESS_DROP_MAX) {
			dp_drop(b, m, why);
			return;
		}
	}
	/* checksums the NIC verified are not verified again; ones it found bad
	 * are dropped as if we had */
	flags = pc->parse_flags;
	ol = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK;
	if (ol == RTE_MBUF_F_RX_IP_CKSUM_GOOD)
		flags |= PKT_F_IP_CKSUM_GOOD;
	else if (unlikely(ol == RTE_MBUF_F_RX_IP_CKSUM_BAD)) {
		dp_drop(b, m, EGRESS_DROP_IP_CHECKSUM);
		return;
	}
	ol = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
	if (ol == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		flags |= PKT_F_L4_CKSUM_GOOD;
	else if (unlikely(ol == RTE_MBUF_F_RX_L4_CKSUM_BAD)) {
		dp_drop(b, m, EGRESS_DROP_L4_CHECKSUM);
		return;
	}
	frame = rte_pktmbuf_mtod(m, uint8_t *);
	len = rte_pktmbuf_data_len(m);
	if (unlikely(pkt_parse(frame, len, flags, pm, &why) != 0)) {
		dp_drop(b, m, why);
		return;
	}
	eth = (const struct rte_ether_hdr *)frame;
	if (unlikely(!rte_is_same_ether_addr(&eth->dst_addr,
					     (const struct rte_ether_addr *)pc->mac))) {
		if (!(pm->ethertype == PKT_ETHERTYPE_ARP &&
		      rte_is_broadcast_ether_addr(&eth->dst_addr))) {
			dp_drop(b, m, EGRESS_DROP_L2_NOT_FOR_US);
			return;
		}
	}
	/* an Ethernet trailer (padding of short frames) is not part of the packet */
	if (pm->frame_len < len)
		rte_pktmbuf_trim(m, (uint16_t)(len - pm->frame_len));
	if (pm->ethertype == PKT_ETHERTYPE_ARP) {
		dp_handle_arp(b, m, pm);
		return;
	}
	/* RFC 1812 4.3.2.7, 5.3.5: nothing to a broadcast, multicast or
	 * martian destination is forwarded or answered (not even a RST or an
	 * ICMP error, which would come from that address) */
	/* a packet from one of our own addresses was not sent by us; one from
	 * the broadcast address of a connected prefix was not sent by any host
	 * (RFC 1812 5.3.7), and an answer to it (a RST, an ICMP error) would
	 * go to every host of that prefix */
	if (unlikely(pm->src_ip == conf->port[DP_INSIDE].addr ||
		     pm->src_ip == conf->port[DP_OUTSIDE].addr || is_nat_addr(conf, pm->src_ip) ||
		     is_directed_broadcast(&conf->port[DP_INSIDE], pm->src_ip) ||
		     is_directed_broadcast(&conf->port[DP_OUTSIDE], pm->src_ip))) {
		dp_drop(b, m, EGRESS_DROP_IP_MARTIAN);
		return;
	}
	if (unlikely(pkt_ipv4_martian(pm->dst_ip) ||
		     is_directed_broadcast(&conf->port[DP_INSIDE], pm->dst_ip) ||
		     is_directed_broadcast(&conf->port[DP_OUTSIDE], pm->dst_ip))) {
		dp_drop(b, m, EGRESS_DROP_IP_MARTIAN_DST);
		return;
	}
	/* the host's control plane (BGP, BFD, SSH) on our address: before
	 * anything here answers, tracks or refuses it */
	if (unlikely(conf->exc[b->in].ring != NULL) && pm->dst_ip == pc->addr &&
	    dp_exception_match(conf, b->in, pm)) {
		/* draining: the router's BGP and BFD go silent, it withdraws us */
		if (unlikely(b->in == DP_INSIDE &&
			     __atomic_load_n(&conf->draining, __ATOMIC_RELAXED) != 0)) {
			dp_drop(b, m, EGRESS_DROP_DRAINING_CONTROL);
			return;
		}
		dp_exception(b, m);
		return;
	}

	if (b->in == DP_INSIDE) {
		if (pm->dst_ip == pc->addr) {
			dp_handle_local(b, m, pm);
			return;
		}
		/* anti-spoofing: the mesh only sends from its own prefix */
		if (unlikely(!in_prefix(pc, pm->src_ip))) {
			dp_drop(b, m, EGRESS_DROP_SPOOFED);
			return;
		}
		/* the mesh's own prefix is not reached through the gateway: no
		 * hairpin (a flow to a mesh address, even the sender's own, would
		 * NAT the mesh to itself) */
		if (unlikely(in_prefix(pc, pm->dst_ip))) {
			dp_drop(b, m, EGRESS_DROP_NO_ROUTE);
			return;
		}
	} else {
		if (pm->proto == IPPROTO_ICMP && is_nat_addr(conf, pm->dst_ip) &&
		    (pm->icmp_type == ICMP_UNREACH || pm->icmp_type == ICMP_TIME_EXCEEDED)) {
			dp_icmp_translate(b, m, pm);
			return;
		}
		if (pm->proto == IPPROTO_ICMP || !is_nat_addr(conf, pm->dst_ip)) {
			if (pm->dst_ip == pc->addr || is_nat_addr(conf, pm->dst_ip))
				dp_handle_local(b, m, pm);
			else
				dp_drop(b, m, EGRESS_DROP_NO_ROUTE);
			return;
		}
	}
	if (pm->proto == IPPROTO_ICMP) {
		/* ICMP through the NAT (echo, errors) is not translated yet */
		dp_drop(b, m, EGRESS_DROP_PROTO);
		return;
	}
	/* the slot is only taken (b->n) once the frame stays here */
	b->key[b->n] = (struct flow_key){
		.src_ip = pm->src_ip,
		.dst_ip = pm->dst_ip,
		.src_port = pm->src_port,
		.dst_port = pm->dst_port,
		.proto = pm->proto,
	};
	if (b->in == DP_OUTSIDE) {
		int owner = dp_owner(conf, &b->key[b->n]);

		if (owner >= 0 && (unsigned int)owner != b->w->id) {
			dp_handoff(b, m, (unsigned int)owner);
			return;
		}
	}
	if (unlikely(pm->ttl <= 1)) {
		/* RFC 1812 5.3.1: time exceeded in transit, to the sender */
		dp_icmp_error(b, m, pm, ICMP_TIME_EXCEEDED, 0, 0);
		dp_drop(b, m, EGRESS_DROP_TTL_EXPIRED);
		return;
	}
	b->m[b->n] = m;
	b->keyp[b->n] = &b->key[b->n];
	b->n++;
}

/*
 * neigh_lookup() through the worker's direct-mapped cache of next hops: the
 * neighbour table is an rte_hash (a hash and a memcmp per lookup), and a
 * worker sends to one gateway and a few clients. An entry is good for the
 * millisecond it was filled in, so a MAC the control thread changes is in
 * use within a millisecond.
 */
static inline bool
nh_lookup(struct dp_burst *b, enum dp_port port, uint32_t ip, uint8_t mac[RTE_ETHER_ADDR_LEN])
{
	/* Fibonacci hashing of the address in host order: consecutive hosts
	 * spread over the whole cache */
	struct dp_nh *e =
		&b->w->nh[(rte_be_to_cpu_32(ip) * UINT32_C(0x9e3779b1)) >> (32 - DP_NH_CACHE_BITS)];

	if (e->ms == b->now && e->ip == ip && e->port == port) {
		memcpy(mac, e->mac, RTE_ETHER_ADDR_LEN);
		return true;
	}
	if (!neigh_lookup(b->conf->port[port].neigh, ip, mac))
		return false;
	e->ms = b->now;
	e->ip = ip;
	e->port = (uint8_t)port;
	memcpy(e->mac, mac, RTE_ETHER_ADDR_LEN);
	return true;
}

/* No run pending: no rule's key (POLICY_NO_RULE << 1 | dir is one either) */
#define DP_RUN_NONE UINT32_MAX

/* Add the pending run of rule_traffic_count() to the rule's counters. */
static inline void
rule_traffic_flush(struct dp_burst *b)
{
	uint32_t rule = b->run.key >> 1;

	if (b->run.key != DP_RUN_NONE && rule != POLICY_NO_RULE >> 1 && b->traffic != NULL) {
		b->traffic[rule].packets[b->run.key & 1] += b->run.packets;
		b->traffic[rule].bytes[b->run.key & 1] += b->run.bytes;
	}
	b->run.key = DP_RUN_NONE;
}

/*
 * Count a forwarded frame under its flow's rule. forward() re-checked the
 * flow against b->pol first, so f->rule is an index of b->pol, whose
 * counters b->cnt are (a flow still of an older generation never gets
 * here). Frames of one rule and direction in a row are summed in the burst
 * and added to the worker's own row of the rule's counters once, when the
 * run ends or the burst does (dp_process()): per frame one compare and two
 * adds, instead of a read-modify-write chain on the counters' line.
 */
static inline void
rule_traffic_count(struct dp_burst *b, const struct flow *f, uint8_t dir, const struct rte_mbuf *m)
{
	uint32_t key = f->rule << 1 | dir;

	if (unlikely(b->run.key != key)) {
		rule_traffic_flush(b);
		b->run.key = key;
		b->run.packets = 0;
		b->run.bytes = 0;
	}
	b->run.packets++;
	b->run.bytes += rte_pktmbuf_pkt_len(m);
}

/* Forward one frame of an existing flow: state, rewrite, next hop, emit. */
static void
forward(struct dp_burst *b, unsigned int i, struct flow *f, uint8_t dir)
{
	struct dp_worker *w = b->w;
	const struct dp_conf *conf = b->conf;
	const struct pkt_meta *pm = &b->meta[i];
	struct rte_mbuf *m = b->m[i];
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	const struct dp_port_conf *opc;
	enum dp_port out_port;
	uint32_t nexthop;
	uint8_t mac[6];

	if (unlikely(f->quarantine)) {
		/* only the client's new SYN brings it back (dp_flow_reopen());
		 * the connection timed out: its segments have no flow */
		if (dir == FLOW_DIR_OUT)
			dp_not_syn(b, i);
		else
			dp_drop(b, m, EGRESS_DROP_NO_FLOW);
		return;
	}
	if (unlikely(f->policy_gen != b->pol->generation) && !dp_flow_recheck(w, b->pol, f)) {
		/* this segment is not delivered: its receiver expects its seq */
		struct flow_tcp *t = dp_flow_tcp(w->flows, f);

		if (pm->proto == IPPROTO_TCP && !t[dir].seen) {
			t[dir].end = pm->tcp_seq;
			t[dir].seen = 1;
		}
		b->emitted += dp_flow_revoke(w, f, b->out, b->now);
		dp_drop(b, m, EGRESS_DROP_REVOKED);
		return;
	}
	out_port = dir == FLOW_DIR_OUT ? DP_OUTSIDE : DP_INSIDE;
	opc = &conf->port[out_port];
	/* before the segment is tracked: one that does not leave moves no
	 * state (a FIN too big to pass must not close the flow) */
	if (unlikely(pm->ip_len > opc->mtu)) {
		dp_too_big(b, m, pm, opc->mtu);
		return;
	}
	if (pm->proto == IPPROTO_TCP) {
		struct flow_tcp *t = dp_flow_tcp(w->flows, f);

		if (!conf->tcp_liberal && unlikely(!tcp_in_window(t, dir, pm))) {
			dp_drop(b, m, EGRESS_DROP_TCP_WINDOW);
			return;
		}
		/* a SYN on a connection past its handshake passes unjudged and
		 * unlearnt, as in Linux's conntrack: it must not reset the window
		 * scale, and its receiver answers it with a challenge ACK
		 * (RFC 5961 section 4) */
		if (likely(!(pm->tcp_flags & PKT_TCP_SYN) || state_handshake(f->state))) {
			track_tcp(t, dir, pm);
			flow_set_state(w, f, dp_tcp_table[f->state][dir][tcp_class(pm->tcp_flags)]);
		}
		if (pm->tcp_flags & PKT_TCP_SYN)
			clamp_mss(conf, frame, pm);
	} else if (dir == FLOW_DIR_IN) {
		flow_set_state(w, f, FLOW_S_ESTABLISHED);
	}
	f->last_seen = (uint32_t)b->now;

	if (dir == FLOW_DIR_OUT) {
		const struct flow_key *in = &f->key[FLOW_DIR_IN];

		nexthop = in_prefix(opc, in->src_ip) ? in->src_ip : opc->gateway;
		if (unlikely(nexthop == 0)) {
			dp_drop(b, m, EGRESS_DROP_NO_ROUTE);
			return;
		}
		if (unlikely(!nh_lookup(b, out_port, nexthop, mac))) {
			dp_event(conf, DP_EV_RESOLVE, out_port, nexthop, NULL);
			dp_drop(b, m, EGRESS_DROP_NEIGH_UNRESOLVED);
			return;
		}
		rewrite_l3l4(frame, pm, in->dst_ip, in->dst_port, in->src_ip, in->src_port);
	} else {
		const struct flow_key *o = &f->key[FLOW_DIR_OUT];

		nexthop = o->src_ip;
		if (unlikely(!nh_lookup(b, out_port, nexthop, mac))) {
			dp_event(conf, DP_EV_RESOLVE, out_port, nexthop, NULL);
			dp_drop(b, m, EGRESS_DROP_NEIGH_UNRESOLVED);
			return;
		}
		rewrite_l3l4(frame, pm, o->dst_ip, o->dst_port, o->src_ip, o->src_port);
	}
	flow_forwarded(b, f, dir, pm, frame);
	set_l2(frame, mac, opc->mac);
	dp_emit(b, out_port, m);
	rule_traffic_count(b, f, dir, m);
}

/*
 * An inside frame no flow carries: a new flow's first packet (classified
 * already when rule is not NULL), or one right behind it in this burst (a
 * duplicate SYN, data behind its SYN in a replayed capture).
 * @return the flow to forward it on, with *dir; NULL when it was consumed.
 */
static struct flow *
admit(struct dp_burst *b, unsigned int i, const uint32_t *rule, uint8_t *dir)
{
	enum egress_drop why;
	struct flow *f;
	uint32_t r;

	if (is_new_flow_packet(&b->meta[i])) {
		/* draining: no new flow, and no RST: the client's retry goes
		 * to another appliance once the router withdrew this one */
		if (unlikely(__atomic_load_n(&b->conf->draining, __ATOMIC_RELAXED) != 0)) {
			dp_drop(b, b->m[i], EGRESS_DROP_DRAINING);
			return NULL;
		}
		r = rule != NULL ? *rule : classify_one(b->pol, &b->key[i]);
		if (r == POLICY_NO_RULE && b->pol->outbound != EGRESS_OUTBOUND_ALLOW_ANY) {
			dp_deny(b, i, EGRESS_DROP_POLICY_DENIED);
			return NULL;
		}
		/* a frame classified with the burst's misses has its random
		 * number drawn already (dp_admit_prefetch()) */
		f = dp_flow_create(b, &b->key[i], r, rule != NULL ? b->rnd[i] : rte_rand(), &why);
		if (f != NULL) {
			*dir = FLOW_DIR_OUT;
			return f;
		}
		/* over a DestinationRule's cap: refused like a deny */
		if (why == EGRESS_DROP_CONN_LIMIT) {
			dp_deny(b, i, why);
			return NULL;
		}
		/* refused for want of a resource (NAT ports, the table, a
		 * per-source or embryonic cap): logged as denied with that
		 * reason, dropped without a RST, so that the client retries */
		if (why != EGRESS_DROP_MAX) {
			if (unlikely(b->w->flowlog != NULL))
				dp_flowlog_deny(b, i, why);
			dp_drop(b, b->m[i], why);
			return NULL;
		}
	}
	f = flow_table_lookup(b->w->flows, &b->key[i], dir);
	if (f == NULL)
		dp_not_syn(b, i); /* flows.no_flow */
	return f;
}

/* One frame of the flow stage: admit, reopen or forward. */
static void
flow_step(struct dp_burst *b, unsigned int i, struct flow *f, uint8_t dir, const uint32_t *rule)
{
	uint32_t r;

	if (f == NULL) {
		if (b->in != DP_INSIDE) {
			dp_drop(b, b->m[i], EGRESS_DROP_NO_FLOW);
			return;
		}
		f = admit(b, i, rule, &dir);
		if (f == NULL)
			return;
	}
	if (unlikely(is_reopen(f, dir, &b->meta[i]))) {
		switch (dp_flow_reopen(b, i, f, &r)) {
		case REOPEN_DONE:
			return;
		case REOPEN_NEW:
			f = admit(b, i, &r, &dir);
			if (f == NULL)
				return;
			break;
		case REOPEN_OK:
			break;
		}
	}
	if (dir != (b->in == DP_INSIDE ? FLOW_DIR_OUT : FLOW_DIR_IN)) {
		dp_drop(b, b->m[i], EGRESS_DROP_NO_FLOW);
		return;
	}
	forward(b, i, f, dir);
}

static void
stage_flows(struct dp_burst *b)
{
	struct dp_worker *w = b->w;
	const struct flow_key *miss_keys[DP_BURST_MAX];
	uint32_t miss_rules[DP_BURST_MAX];
	unsigned int miss_idx[DP_BURST_MAX];
	unsigned int i, n_miss = 0, next_miss = 0;
	uint32_t deletions;

	flow_table_lookup_bulk(w->flows, b->keyp, b->n, b->flow, b->dir);

	for (i = 0; i < b->n; i++) {
		struct flow *f = b->flow[i];

		/* expired but not yet swept: reclaim now, treat as a miss */
		if (f != NULL && (!f->in_use || flow_expired(b->conf, f, b->now))) {
			if (f->in_use)
				dp_flow_age_out(w, f, b->now);
			b->flow[i] = f = NULL;
		}
		/* the TCP tracking is another line, in another array: its misses
		 * overlap here rather than one at a time in forward() */
		if (f != NULL)
			rte_prefetch0(dp_flow_tcp(w->flows, f));
		if (f == NULL && b->in == DP_INSIDE && is_new_flow_packet(&b->meta[i])) {
			miss_idx[n_miss] = i;
			miss_keys[n_miss++] = b->keyp[i];
		}
	}
	if (n_miss > 0) {
		/* the misses of a new flow that the bulk lookup did not take,
		 * each in two steps around the classification: the flows it
		 * may evict, then their buckets; the NAT reply key's bucket,
		 * then its first flow (dp_admit_prefetch_guess()) */
		dp_evict_prefetch(w, n_miss, false);
		dp_admit_prefetch_guess(b, n_miss, miss_idx);
		policy_classify_bulk(b->pol, miss_keys, n_miss, miss_rules);
		dp_evict_prefetch(w, n_miss, true);
		dp_admit_prefetch(b, miss_rules, n_miss, miss_idx);
	}

	deletions = flow_table_deletions(w->flows);
	for (i = 0; i < b->n; i++) {
		struct flow *f = b->flow[i];
		uint8_t dir = b->dir[i];
		const uint32_t *rule = NULL;

		if (next_miss < n_miss && miss_idx[next_miss] == i)
			rule = &miss_rules[next_miss++];
		/* an earlier frame of this burst ended a flow (a revocation, an
		 * embryonic eviction, an on-demand reclaim): a flow looked up
		 * before may be dead, or, before its grace period (none without
		 * QSBR), another flow in the same slot. Look it up again. */
		if (unlikely(flow_table_deletions(w->flows) != deletions) && f != NULL)
			f = flow_table_lookup(w->flows, &b->key[i], &dir);
		flow_step(b, i, f, dir, rule);
	}
}

uint16_t
dp_process(struct dp_worker *w, enum dp_port in, struct rte_mbuf **pkts, uint16_t n,
	   uint64_t now_ms, struct dp_out *out)
{
	struct dp_burst b;
	uint16_t i;

	b.w = w;
	b.conf = w->conf;
	b.pol = dp_policy(w->conf);
	b.cnt = dp_counters(w->conf, b.pol->generation);
	b.in = in;
	b.now = now_ms;
	w->now = now_ms;
	b.out = out;
	b.emitted = 0;
	b.n = 0;
	b.n_dead = 0;
	b.run.key = DP_RUN_NONE;
	b.run.packets = 0;
	b.run.bytes = 0;
	b.traffic = b.cnt != NULL && b.cnt->rule_traffic != NULL ?
			    &b.cnt->rule_traffic[w->id * b.cnt->traffic_stride] :
			    NULL;
	if (n > DP_BURST_MAX)
		n = DP_BURST_MAX;
	w->stats.port[in].rx += n;

	for (i = 0; i < n && i < 4; i++)
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
	for (i = 0; i < n; i++) {
		if (i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 4], void *));
		stage_parse(&b, pkts[i]);
	}
	if (b.n > 0) {
		stage_flows(&b);
		rule_traffic_flush(&b);
	}
	if (b.n_dead > 0)
		rte_pktmbuf_free_bulk(b.dead, b.n_dead);
	return b.emitted;
}
