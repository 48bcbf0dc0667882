/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The packet pipeline (see dp.h for the contract, doc/architecture.md for the
 * picture). Per burst:
 *
 *   parse + L2/L3 checks ─► local (ARP, echo) ─► keys ─► one bulk flow lookup
 *   ─► misses: one bulk classify ─► allow: NAT bind + insert / deny: drop|RST
 *   ─► per packet in arrival order: TCP state, policy epoch check, rewrite,
 *      next hop, emit.
 *
 * Datapath rules: no locks, no syscalls, no allocation but mempools, no logs;
 * every dropped frame is counted under exactly one reason.
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_ether.h>
#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_random.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "dp.h"
#include "flow.h"
#include "nat.h"
#include "neigh.h"
#include "pkt.h"
#include "policy.h"

#define ICMP_ECHO_REPLY   0
#define ICMP_UNREACH      3
#define ICMP_ECHO_REQUEST 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_UNREACH_NEEDFRAG 4   /* code: fragmentation needed and DF set */
#define ICMP_UNREACH_ADMIN    13  /* code: communication administratively prohibited */
#define DP_DEFAULT_TTL    64
#define DP_RECLAIM_BUDGET 1024    /* slots aged on demand when the table is full */

/*
 * A 16-bit field of a packed DPDK header, as a pointer the checksum helpers
 * can take. Headers start 2-byte aligned in an mbuf (Ethernet's 14 bytes
 * after a 64-byte aligned headroom), so these accesses are aligned.
 */
#define HDR_U16(hdr, type, field) ((uint16_t *)((uint8_t *)(hdr) + offsetof(type, field)))

/* Per-call state: what dp_process() learnt about each frame. */
struct dp_burst {
	struct dp_worker *w;
	const struct dp_conf *conf;
	const struct policy *pol;
	enum dp_port in;
	uint64_t now;
	struct dp_out *out;
	uint16_t emitted;
	/* frames that need the flow table, in arrival order */
	unsigned int n;
	struct rte_mbuf *m[DP_BURST_MAX];
	struct pkt_meta meta[DP_BURST_MAX];
	struct flow_key key[DP_BURST_MAX];
	const struct flow_key *keyp[DP_BURST_MAX];
	struct flow *flow[DP_BURST_MAX];
	uint8_t dir[DP_BURST_MAX];
	uint32_t rule[DP_BURST_MAX];
	/* frames dropped, freed together at the end (one mempool put) */
	unsigned int n_dead;
	struct rte_mbuf *dead[DP_BURST_MAX];
};

/* A frame of this burst is done with: freed when the burst ends. */
static inline void
dp_free(struct dp_burst *b, struct rte_mbuf *m)
{
	b->dead[b->n_dead++] = m;
}

static inline void
dp_drop(struct dp_burst *b, struct rte_mbuf *m, enum egress_drop why)
{
	b->w->stats.drops[why]++;
	b->w->stats.port[b->in].dropped++;
	dp_free(b, m);
}

/*
 * Frames shorter than Ethernet's minimum (60 bytes before the FCS) leave
 * padded with zeros: a SYN whose trailer was trimmed, a generated RST. Not
 * every PMD pads in hardware. A frame whose buffer has no room stays short.
 */
static inline void
pad_runt(struct rte_mbuf *m)
{
	const uint16_t min = RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN;
	uint16_t len = (uint16_t)rte_pktmbuf_pkt_len(m);
	char *tail;

	if (likely(len >= min))
		return;
	tail = rte_pktmbuf_append(m, (uint16_t)(min - len));
	if (tail != NULL)
		memset(tail, 0, min - len);
}

static inline void
dp_emit(struct dp_burst *b, enum dp_port port, struct rte_mbuf *m)
{
	struct dp_out *out = b->out;

	pad_runt(m);
	/* DP_OUT_MAX leaves room for two frames per input: never full */
	out->pkts[port][out->n[port]++] = m;
	b->emitted++;
}

static inline bool
in_prefix(const struct dp_port_conf *pc, uint32_t ip)
{
	return (ip & pc->mask) == pc->net;
}

/* The broadcast address of one of our connected prefixes. */
static inline bool
is_directed_broadcast(const struct dp_port_conf *pc, uint32_t ip)
{
	return pc->mask != UINT32_MAX && in_prefix(pc, ip) && (ip | pc->mask) == UINT32_MAX;
}

static inline bool
is_nat_addr(const struct dp_conf *conf, uint32_t ip)
{
	uint32_t i;

	for (i = 0; i < conf->n_nat_addrs; i++)
		if (conf->nat_addrs[i] == ip)
			return true;
	return false;
}

static void
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

/*
 * Which worker owns the flow a frame to NAT port `port` (network order)
 * belongs to; -1 when there is one worker or the port is no NAT port.
 */
static inline int
port_owner(const struct dp_conf *conf, uint16_t port)
{
	if (conf->n_workers <= 1)
		return -1;
	return nat_range_owner(conf->nat_port_lo, conf->nat_port_hi, conf->n_workers,
			       rte_be_to_cpu_16(port));
}

/* Pass a frame to the worker that owns its flow; it counts the frame's RX. */
static void
handoff(struct dp_burst *b, struct rte_mbuf *m, unsigned int owner)
{
	struct rte_ring *r = b->conf->handoff[owner];

	if (r == NULL || rte_ring_mp_enqueue(r, m) != 0) {
		dp_drop(b, m, EGRESS_DROP_HANDOFF_FULL);
		return;
	}
	b->w->stats.port[b->in].rx--;
	b->w->stats.handed_off++;
}

/* ---------------------------------------------------------------- TCP state */

enum tcp_class {
	TC_SYN,     /* SYN without ACK */
	TC_SYNACK,
	TC_FIN,     /* FIN (with ACK; FIN without ACK never passes the parser) */
	TC_RST,
	TC_ACK,     /* anything else */
	TC_MAX
};

static inline enum tcp_class
tcp_class(uint8_t flags)
{
	if (flags & PKT_TCP_RST)
		return TC_RST;
	if (flags & PKT_TCP_SYN)
		return (flags & PKT_TCP_ACK) ? TC_SYNACK : TC_SYN;
	if (flags & PKT_TCP_FIN)
		return TC_FIN;
	return TC_ACK;
}

#define S_NONE FLOW_S_NONE
#define S_SS   FLOW_S_SYN_SENT
#define S_SR   FLOW_S_SYN_RCVD
#define S_ES   FLOW_S_ESTABLISHED
#define S_FO   FLOW_S_FIN_OUT
#define S_FI   FLOW_S_FIN_IN
#define S_TW   FLOW_S_TIME_WAIT
#define S_CL   FLOW_S_CLOSED
#define S_SS2  FLOW_S_SYN_SENT2
#define S_SR2  FLOW_S_SYN_RCVD2

/*
 * next = tcp_next[state][direction][class]. One row per state and direction;
 * columns: SYN, SYN-ACK, FIN, RST, other. The unit test has one case per row.
 */
static const uint8_t tcp_next[FLOW_S_MAX][2][TC_MAX] = {
	/* only a client SYN creates a flow */
	[S_NONE] = { [FLOW_DIR_OUT] = { S_SS, S_NONE, S_NONE, S_NONE, S_NONE },
		     [FLOW_DIR_IN]  = { S_NONE, S_NONE, S_NONE, S_NONE, S_NONE } },
	/* client SYN retransmits stay; the server's SYN-ACK moves on, its own
	 * SYN is a simultaneous open (RFC 793 figure 8); RST closes */
	[S_SS] = { [FLOW_DIR_OUT] = { S_SS, S_SS, S_SS, S_CL, S_SS },
		   [FLOW_DIR_IN]  = { S_SS2, S_SR, S_SS, S_CL, S_SS } },
	/* the client's ACK of the SYN-ACK establishes, and so does its own
	 * SYN-ACK (the last step of a simultaneous open whose server answered
	 * first); FIN before that is a half-close of an embryonic connection */
	[S_SR] = { [FLOW_DIR_OUT] = { S_SR, S_ES, S_FO, S_CL, S_ES },
		   [FLOW_DIR_IN]  = { S_SR, S_SR, S_FI, S_CL, S_SR } },
	/* simultaneous open, both SYNs seen: each side now sends a SYN-ACK;
	 * the server's first leads to SYN_RCVD, the client's to SYN_RCVD2 */
	[S_SS2] = { [FLOW_DIR_OUT] = { S_SS2, S_SR2, S_SS2, S_CL, S_SS2 },
		    [FLOW_DIR_IN]  = { S_SS2, S_SR, S_SS2, S_CL, S_SS2 } },
	/* simultaneous open, the client's SYN-ACK seen: the server's SYN-ACK
	 * (or any ACK of the client's SYN) establishes */
	[S_SR2] = { [FLOW_DIR_OUT] = { S_SR2, S_SR2, S_SR2, S_CL, S_SR2 },
		    [FLOW_DIR_IN]  = { S_SR2, S_ES, S_FI, S_CL, S_ES } },
	/* a FIN starts the close from the side that sent it */
	[S_ES] = { [FLOW_DIR_OUT] = { S_ES, S_ES, S_FO, S_CL, S_ES },
		   [FLOW_DIR_IN]  = { S_ES, S_ES, S_FI, S_CL, S_ES } },
	/* client closed; the server's FIN completes the close */
	[S_FO] = { [FLOW_DIR_OUT] = { S_FO, S_FO, S_FO, S_CL, S_FO },
		   [FLOW_DIR_IN]  = { S_FO, S_FO, S_TW, S_CL, S_FO } },
	/* server closed; the client's FIN completes the close */
	[S_FI] = { [FLOW_DIR_OUT] = { S_FI, S_FI, S_TW, S_CL, S_FI },
		   [FLOW_DIR_IN]  = { S_FI, S_FI, S_FI, S_CL, S_FI } },
	/* a new client SYN reopens the same 5-tuple (RFC 6191 style reuse) */
	[S_TW] = { [FLOW_DIR_OUT] = { S_SS, S_TW, S_TW, S_CL, S_TW },
		   [FLOW_DIR_IN]  = { S_TW, S_TW, S_TW, S_CL, S_TW } },
	/* after RST the flow lingers (RFC 7857 2.2); a client SYN reopens it */
	[S_CL] = { [FLOW_DIR_OUT] = { S_SS, S_CL, S_CL, S_CL, S_CL },
		   [FLOW_DIR_IN]  = { S_CL, S_CL, S_CL, S_CL, S_CL } },
};

uint8_t
dp_tcp_next(uint8_t state, uint8_t dir, uint8_t tcp_flags)
{
	if (state >= FLOW_S_MAX || dir > FLOW_DIR_IN)
		return state;
	return tcp_next[state][dir][tcp_class(tcp_flags)];
}

/* A TCP flow whose handshake has not completed. */
static inline bool
state_embryonic(uint8_t s)
{
	return s == FLOW_S_SYN_SENT || s == FLOW_S_SYN_RCVD || s == FLOW_S_SYN_SENT2 ||
	       s == FLOW_S_SYN_RCVD2;
}

/* A TCP flow whose SYNs are still handshake segments (or a new one's). */
static inline bool
state_handshake(uint8_t s)
{
	return s == FLOW_S_NONE || state_embryonic(s);
}

static inline void
flow_set_state(struct dp_worker *w, struct flow *f, uint8_t next)
{
	bool emb = state_embryonic(next);

	f->state = next;
	if (emb != (bool)f->embryonic) {
		f->embryonic = emb;
		if (emb)
			w->embryonic++;
		else
			w->embryonic--;
	}
}

uint64_t
dp_flow_timeout(const struct dp_conf *conf, const struct flow *f)
{
	const struct policy *pol;

	if (f->key[FLOW_DIR_OUT].proto != IPPROTO_TCP)
		return conf->udp_timeout_ms;
	/* DestinationRule connectTimeout bounds the handshake of its flows */
	if (f->embryonic && f->rule != POLICY_NO_RULE) {
		pol = dp_policy(conf);
		if (pol != NULL && f->policy_gen == pol->generation && f->rule < pol->n_rules &&
		    pol->rules[f->rule].connect_timeout_ms != 0)
			return pol->rules[f->rule].connect_timeout_ms;
	}
	return conf->timeout_ms[f->state];
}

static inline bool
flow_expired(const struct dp_conf *conf, const struct flow *f, uint64_t now)
{
	/* the common case without a call: an established TCP flow */
	if (likely(!f->embryonic && f->key[FLOW_DIR_OUT].proto == IPPROTO_TCP))
		return flow_age(f, now) >= conf->timeout_ms[f->state];
	return flow_age(f, now) >= dp_flow_timeout(conf, f);
}

/* Count a flow against its rule's cap and target (or give it back: delta -1). */
static inline void
flow_account(const struct dp_worker *w, const struct policy *pol, const struct flow *f,
	     int delta)
{
	const struct policy_rule *r;

	if (f->rule == POLICY_NO_RULE || f->rule >= pol->n_rules)
		return;
	r = &pol->rules[f->rule];
	if (pol->cap_count != NULL && r->cap_id != POLICY_NO_CAP)
		pol->cap_count[w->id * pol->cap_stride + r->cap_id] += (uint32_t)delta;
	if (pol->target_active != NULL && r->n_targets > 0)
		pol->target_active[w->id * pol->target_stride + r->first_target + f->target] +=
			(uint32_t)delta;
}

/* A flow of this client ends: one fewer against flows.per_source.max. */
static void
source_release(struct dp_worker *w, const struct flow *f)
{
	uint32_t ip = f->key[FLOW_DIR_OUT].src_ip;
	int pos;

	if (w->sources == NULL)
		return;
	pos = rte_hash_lookup(w->sources, &ip);
	if (pos < 0)
		return;
	/* a client with no flow left is forgotten, its rate bucket with it:
	 * ended TCP flows linger (TIME_WAIT, quarantine), so that is minutes
	 * after its last connection, and the table stays bounded by flows */
	if (w->source[pos].flows <= 1)
		rte_hash_del_key(w->sources, &ip);
	else
		w->source[pos].flows--;
}

static void
flow_remove(struct dp_worker *w, struct flow *f)
{
	const struct policy *pol = dp_policy(w->conf);

	if (!f->in_use)
		return; /* ended already: nothing of it is counted any more */
	/* counted in the policy that admitted or last re-checked it, if current */
	if (f->policy_gen == pol->generation)
		flow_account(w, pol, f, -1);
	source_release(w, f);
	if (f->embryonic)
		w->embryonic--;
	f->embryonic = 0;
	flow_table_del(w->flows, f);
}

/*
 * A flow idle past its timeout. A TCP flow that did not end in TIME_WAIT or
 * CLOSED (which already held its binding for their own timeouts) is kept
 * another time_wait in quarantine, holding its NAT port so that the port is
 * not reused toward the same destination while the server may still hold
 * the old connection (RFC 6146 3.5.2.2, RFC 7857 2.3). Anything else goes.
 * @return true when the flow was deleted.
 */
static bool
flow_age_out(struct dp_worker *w, struct flow *f, uint64_t now)
{
	if (f->key[FLOW_DIR_OUT].proto == IPPROTO_TCP && !f->quarantine &&
	    f->state != FLOW_S_TIME_WAIT && f->state != FLOW_S_CLOSED) {
		f->quarantine = 1;
		flow_set_state(w, f, FLOW_S_TIME_WAIT);
		f->last_seen = (uint32_t)now;
		return false;
	}
	w->stats.flows_expired++;
	flow_remove(w, f);
	return true;
}

/* ------------------------------------------------------------ rewriting */

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
rewrite_l3l4(uint8_t *frame, const struct pkt_meta *pm, uint32_t src, uint16_t sport,
	     uint32_t dst, uint16_t dport)
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
		pkt_csum_update16(HDR_U16(th, struct rte_tcp_hdr, cksum), (uint16_t)((old << 8) | (old >> 8)),
				  (uint16_t)((new << 8) | (new >> 8)));
	}
	memcpy(frame + pm->tcp_mss_off, &new, sizeof(new));
}

static inline void
set_l2(uint8_t *frame, const uint8_t *dst, const uint8_t *src)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;

	memcpy(&eth->dst_addr, dst, RTE_ETHER_ADDR_LEN);
	memcpy(&eth->src_addr, src, RTE_ETHER_ADDR_LEN);
}

/* ------------------------------------------------------- generated frames */

/*
 * Take a token from a bucket of `rate` per second (struct dp_bucket). The
 * refill keeps the remainder: the clock advances only by the time the added
 * tokens stand for, so a slow rate (10/s) is not rounded down to nothing.
 */
static inline bool
bucket_take(struct dp_bucket *bk, uint64_t now, uint32_t rate)
{
	uint32_t elapsed = (uint32_t)now - bk->last_ms;

	if (elapsed >= 1000) {
		bk->tokens = rate; /* a second or more: full (no overflow below) */
		bk->last_ms = (uint32_t)now;
	} else {
		uint32_t add = (uint32_t)((uint64_t)elapsed * rate / 1000);

		if (add > 0) {
			bk->tokens = RTE_MIN(bk->tokens + add, rate);
			bk->last_ms = bk->tokens == rate ? (uint32_t)now :
				bk->last_ms + (uint32_t)((uint64_t)add * 1000 / rate);
		}
	}
	if (bk->tokens == 0)
		return false;
	bk->tokens--;
	return true;
}

/* What a generated TCP RST carries (addresses and ports in network order). */
struct rst_spec {
	const uint8_t *dmac, *smac;
	uint32_t src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;        /* host order */
	uint8_t flags;
};

/* Write a bare RST (Ethernet + IPv4 + TCP, 54 bytes) into m, replacing its data. */
static void
write_rst(struct rte_mbuf *m, const struct rst_spec *r)
{
	const uint16_t len = RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr) +
			     sizeof(struct rte_tcp_hdr);
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
 * before write_rst() rebuilds the headers.
 */
static void
make_rst(struct rte_mbuf *m, const struct pkt_meta *pm, const uint8_t *our_mac)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	uint32_t payload = pm->ip_len - pm->l3_len - pm->l4_len;
	uint8_t peer_mac[RTE_ETHER_ADDR_LEN];
	struct rst_spec r = {
		.dmac = peer_mac, .smac = our_mac,
		.src = pm->dst_ip, .dst = pm->src_ip,
		.sport = pm->dst_port, .dport = pm->src_port,
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
	write_rst(m, &r);
}

/*
 * Answer the frame m (received on port `in`, parsed as pm) with an ICMP error
 * of type/code (RFC 792; next-hop MTU for "fragmentation needed", RFC 1191),
 * from our own address on that port, back to the frame's sender, quoting its
 * IP header and the first DP_ICMP_QUOTE bytes after it (RFC 1812 4.3.2.3).
 * Rate-limited. The frame itself is consumed by the caller's drop.
 * @return true when an error was queued.
 */
static bool
icmp_error(struct dp_burst *b, struct rte_mbuf *m, const struct pkt_meta *pm, uint8_t type,
	   uint8_t code, uint16_t mtu)
{
	const struct dp_port_conf *pc = &b->conf->port[b->in];
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ether_hdr *oeth = (const struct rte_ether_hdr *)frame;
	uint16_t quote = (uint16_t)RTE_MIN((uint32_t)pm->ip_len,
					   (uint32_t)pm->l3_len + DP_ICMP_QUOTE);
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
static void
icmp_translate(struct dp_burst *b, struct rte_mbuf *m, const struct pkt_meta *pm)
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
	k = (struct flow_key){ .src_ip = iip->dst_addr, .dst_ip = iip->src_addr,
			       .src_port = iports[1], .dst_port = iports[0],
			       .proto = iip->next_proto_id };
	{
		int owner = port_owner(conf, k.dst_port);

		if (owner >= 0 && (unsigned int)owner != b->w->id) {
			handoff(b, m, (unsigned int)owner);
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
	*HDR_U16(ip, struct rte_ipv4_hdr, hdr_checksum) =
		pkt_csum_adjust(*HDR_U16(ip, struct rte_ipv4_hdr, hdr_checksum),
				pkt_csum_delta16(old_ttl_word, new_ttl_word) +
				pkt_csum_delta32(ip->src_addr, src) +
				pkt_csum_delta32(ip->dst_addr, o->src_ip));
	ip->src_addr = src;
	ip->dst_addr = o->src_ip;
	set_l2(frame, mac, ipc->mac);
	b->w->stats.icmp_translated++;
	dp_emit(b, DP_INSIDE, m);
}

/* ARP: answer requests for our address; tell the control thread what we learn. */
static void
handle_arp(struct dp_burst *b, struct rte_mbuf *m, const struct pkt_meta *pm)
{
	const struct dp_port_conf *pc = &b->conf->port[b->in];
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(frame + pm->l2_len);

	if (pm->arp_tip != pc->addr || pm->arp_sip == pc->addr) {
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
	arp->arp_data.arp_sip = pc->addr;
	b->w->stats.arp_replies++;
	dp_emit(b, b->in, m);
}

/* A frame for one of our own addresses that is not a NATed reply. */
static void
handle_local(struct dp_burst *b, struct rte_mbuf *m, const struct pkt_meta *pm)
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

/* ---------------------------------------------------------------- stage 1 */

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
		handle_arp(b, m, pm);
		return;
	}
	/* RFC 1812 4.3.2.7, 5.3.5: nothing to a broadcast, multicast or
	 * martian destination is forwarded or answered (not even a RST or an
	 * ICMP error, which would come from that address) */
	/* a packet from one of our own addresses was not sent by us */
	if (unlikely(pm->src_ip == conf->port[DP_INSIDE].addr ||
		     pm->src_ip == conf->port[DP_OUTSIDE].addr || is_nat_addr(conf, pm->src_ip))) {
		dp_drop(b, m, EGRESS_DROP_IP_MARTIAN);
		return;
	}
	if (unlikely(pkt_ipv4_martian(pm->dst_ip) ||
		     is_directed_broadcast(&conf->port[DP_INSIDE], pm->dst_ip) ||
		     is_directed_broadcast(&conf->port[DP_OUTSIDE], pm->dst_ip))) {
		dp_drop(b, m, EGRESS_DROP_IP_MARTIAN_DST);
		return;
	}

	if (b->in == DP_INSIDE) {
		if (pm->dst_ip == pc->addr) {
			handle_local(b, m, pm);
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
			icmp_translate(b, m, pm);
			return;
		}
		if (pm->proto == IPPROTO_ICMP || !is_nat_addr(conf, pm->dst_ip)) {
			if (pm->dst_ip == pc->addr || is_nat_addr(conf, pm->dst_ip))
				handle_local(b, m, pm);
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
	if (b->in == DP_OUTSIDE) {
		int owner = port_owner(conf, pm->dst_port);

		if (owner >= 0 && (unsigned int)owner != b->w->id) {
			handoff(b, m, (unsigned int)owner);
			return;
		}
	}
	if (unlikely(pm->ttl <= 1)) {
		/* RFC 1812 5.3.1: time exceeded in transit, to the sender */
		icmp_error(b, m, pm, ICMP_TIME_EXCEEDED, 0, 0);
		dp_drop(b, m, EGRESS_DROP_TTL_EXPIRED);
		return;
	}
	b->m[b->n] = m;
	b->key[b->n] = (struct flow_key){
		.src_ip = pm->src_ip, .dst_ip = pm->dst_ip,
		.src_port = pm->src_port, .dst_port = pm->dst_port,
		.proto = pm->proto,
	};
	b->keyp[b->n] = &b->key[b->n];
	b->n++;
}

/* ---------------------------------------------------------------- stage 2 */

/*
 * A SYN flood must not starve real connections nor evict established ones:
 * at the embryonic cap the oldest flow still embryonic is ended to make room
 * (as Linux's SYN queue drops its oldest). The FIFO holds every embryonic
 * flow in creation order; entries of flows that have since established or
 * gone are stale (serial mismatch) and skipped. @return true when one was
 * ended.
 */
static bool
embryonic_evict(struct dp_worker *w)
{
	while (w->emb_fifo != NULL && w->emb_head != w->emb_tail) {
		uint64_t e = w->emb_fifo[w->emb_head++ & w->emb_mask];
		struct flow *f = flow_table_at(w->flows, (uint32_t)(e >> 32));

		if (f != NULL && f->in_use && f->embryonic && f->serial == (uint32_t)e) {
			flow_remove(w, f);
			w->stats.embryonic_evicted++;
			return true;
		}
	}
	return false;
}

static void
embryonic_push(struct dp_worker *w, struct flow *f)
{
	if (w->emb_fifo == NULL)
		return;
	/* full: the oldest entries are stale or the oldest embryonic flows */
	while (w->emb_tail - w->emb_head > w->emb_mask) {
		uint64_t e = w->emb_fifo[w->emb_head++ & w->emb_mask];
		struct flow *old = flow_table_at(w->flows, (uint32_t)(e >> 32));

		if (old != NULL && old->in_use && old->embryonic && old->serial == (uint32_t)e) {
			flow_remove(w, old);
			w->stats.embryonic_evicted++;
		}
	}
	w->emb_fifo[w->emb_tail++ & w->emb_mask] = (uint64_t)flow_table_index(w->flows, f) << 32 | f->serial;
}

/*
 * flows.per_source: may this client open one more flow now? Counts it when
 * yes (source_release() gives it back). A token bucket of source_rate per
 * second caps new flows, source_max the concurrent ones.
 */
static bool
source_admit(struct dp_worker *w, uint32_t ip, uint64_t now)
{
	const struct dp_conf *conf = w->conf;
	struct dp_source *s;
	int pos = rte_hash_lookup(w->sources, &ip);

	if (pos < 0) {
		pos = rte_hash_add_key(w->sources, &ip);
		if (pos < 0)
			return false; /* more clients than the table holds: refuse */
		s = &w->source[pos];
		s->flows = 0;
		s->rate = (struct dp_bucket){ .tokens = conf->source_rate,
					      .last_ms = (uint32_t)now };
	}
	s = &w->source[pos];
	if (conf->source_max != 0 && s->flows >= conf->source_max)
		return false;
	if (conf->source_rate != 0 && !bucket_take(&s->rate, now, conf->source_rate))
		return false;
	s->flows++;
	return true;
}

/*
 * A client opens a new connection on a 5-tuple it already holds (a reopened
 * TIME_WAIT or CLOSED flow): it counts against its new flows per second,
 * not against its concurrent flows, which it already holds.
 */
static bool
source_reopen(struct dp_worker *w, uint32_t ip, uint64_t now)
{
	int pos;

	if (w->sources == NULL || w->conf->source_rate == 0)
		return true;
	pos = rte_hash_lookup(w->sources, &ip);
	return pos < 0 || bucket_take(&w->source[pos].rate, now, w->conf->source_rate);
}

/* Give back what source_admit() took, for a flow that was not created. */
static void
source_unadmit(struct dp_worker *w, uint32_t ip)
{
	int pos;

	if (w->sources == NULL)
		return;
	pos = rte_hash_lookup(w->sources, &ip);
	if (pos < 0)
		return;
	if (w->conf->source_rate != 0 && w->source[pos].rate.tokens < w->conf->source_rate)
		w->source[pos].rate.tokens++;
	if (w->source[pos].flows <= 1)
		rte_hash_del_key(w->sources, &ip);
	else
		w->source[pos].flows--;
}

/* The target whose cumulative weight covers pick (0 <= pick < total_weight). */
static inline uint32_t
target_by_weight(const struct policy_target *t, uint32_t n, uint32_t pick)
{
	uint32_t i;

	for (i = 0; i + 1 < n && pick >= t[i].weight; i++)
		pick -= t[i].weight;
	return i;
}

/*
 * Pick a NAT target of rule r for a new flow by the rule's load-balancing
 * mode (DestinationRule trafficPolicy.loadBalancer); every mode honours the
 * weights. @return the target's index within the rule's targets.
 */
static uint32_t
pick_target(const struct dp_worker *w, const struct policy *pol, const struct policy_rule *r,
	    const struct flow_key *k, uint64_t rnd)
{
	const struct policy_target *t = &pol->targets[r->first_target];
	uint32_t i, best;

	switch (r->lb) {
	case POLICY_LB_ROUND_ROBIN:
		/* this worker's flows admitted under the rule so far: its sequence */
		if (pol->rule_flows != NULL)
			return target_by_weight(t, r->n_targets,
				(uint32_t)(pol->rule_flows[w->id * pol->rule_stride +
							   (uint32_t)(r - pol->rules)] %
					   r->total_weight));
		break;
	case POLICY_LB_CONSISTENT_SOURCE_IP:
		return target_by_weight(t, r->n_targets,
					rte_hash_crc_4byte(k->src_ip, 0) % r->total_weight);
	case POLICY_LB_LEAST_CONN:
		if (pol->target_active == NULL)
			break;
		{
			const uint32_t *act = &pol->target_active[w->id * pol->target_stride +
								  r->first_target];

			/* fewest active flows per unit of weight; ties: the later
			 * random start breaks them */
			best = (uint32_t)(rnd % r->n_targets);
			for (i = 0; i < r->n_targets; i++) {
				uint32_t j = (uint32_t)((best + i) % r->n_targets);

				if ((uint64_t)act[j] * t[best].weight <
				    (uint64_t)act[best] * t[j].weight)
					best = j;
			}
			return best;
		}
	default:
		break;
	}
	return target_by_weight(t, r->n_targets, (uint32_t)(rnd % r->total_weight));
}

/* Where a new flow under rule r goes: ip and port in network order. */
static void
target_address(const struct policy *pol, const struct policy_rule *r, uint32_t ti,
	       const struct flow_key *k, uint32_t *ip, uint16_t *port)
{
	uint16_t p = 0;

	*ip = k->dst_ip;
	if (r->n_targets > 0) {
		*ip = pol->targets[r->first_target + ti].ip;
		p = pol->targets[r->first_target + ti].port;
	}
	if (p == 0)
		p = r->target_port;
	*port = p != 0 ? rte_cpu_to_be_16(p) : k->dst_port;
}

/* DestinationRule maxConnections: this worker's share of the cap is full. */
static inline bool
cap_reached(const struct dp_worker *w, const struct policy *pol, const struct policy_rule *r)
{
	uint32_t share;

	if (r->max_connections == 0 || pol->cap_count == NULL || r->cap_id == POLICY_NO_CAP)
		return false;
	share = (r->max_connections + w->conf->n_workers - 1) / RTE_MAX(w->conf->n_workers, 1u);
	return pol->cap_count[w->id * pol->cap_stride + r->cap_id] >= share;
}

/*
 * Admit a new flow allowed by rule (POLICY_NO_RULE under ALLOW_ANY).
 * @return the flow; NULL with *why set; NULL with *why = EGRESS_DROP_MAX when
 *         the flow already exists (a duplicate SYN earlier in this burst).
 */
static struct flow *
flow_create(struct dp_burst *b, const struct flow_key *k, uint32_t rule, enum egress_drop *why)
{
	struct dp_worker *w = b->w;
	struct flow_key in;
	uint32_t dst_ip;
	uint16_t dst_port;
	uint64_t rnd = rte_rand();
	uint32_t ti = 0;
	struct flow *f;
	int err;

	/* the 5-tuple exists already (a duplicate SYN earlier in this burst,
	 * a quarantined flow its SYN reopens): nothing to admit, nothing to
	 * evict or charge for it */
	if (flow_table_contains(w->flows, k)) {
		*why = EGRESS_DROP_MAX;
		return NULL;
	}
	if (rule != POLICY_NO_RULE) {
		const struct policy_rule *r = &b->pol->rules[rule];

		if (cap_reached(w, b->pol, r)) {
			*why = EGRESS_DROP_CONN_LIMIT;
			return NULL;
		}
		ti = r->n_targets > 0 ? pick_target(w, b->pol, r, k, rnd >> 32) : 0;
		target_address(b->pol, r, ti, k, &dst_ip, &dst_port);
	} else {
		dst_ip = k->dst_ip;
		dst_port = k->dst_port;
	}
	if (nat_bind(&w->nat, w->flows, k, dst_ip, dst_port, rnd, &in) != 0) {
		*why = EGRESS_DROP_NAT_EXHAUSTED;
		return NULL;
	}
	/* last, the checks that take something: a per-source token, an evicted
	 * embryonic flow; nothing can fail after them but a full table */
	if (w->sources != NULL && !source_admit(w, k->src_ip, b->now)) {
		*why = EGRESS_DROP_SOURCE_LIMIT;
		return NULL;
	}
	/* a UDP flow nobody answered yet is as cheap to make as a SYN: it is
	 * embryonic too, under the same cap */
	if (w->embryonic >= b->conf->embryonic_max && !embryonic_evict(w)) {
		source_unadmit(w, k->src_ip);
		*why = EGRESS_DROP_EMBRYONIC_FULL;
		return NULL;
	}
	f = flow_table_add(w->flows, k, &in, &err);
	if (f == NULL && err == -ENOSPC && w->reclaim_ms != b->now) {
		/* full: reclaim what has expired but not been swept yet, a bounded
		 * stretch of the table, and try once more. Once per millisecond:
		 * under a flood at a full table, not a stretch per packet */
		w->reclaim_ms = b->now;
		dp_expire(w, b->now, DP_RECLAIM_BUDGET, NULL);
		f = flow_table_add(w->flows, k, &in, &err);
	}
	if (f == NULL) {
		source_unadmit(w, k->src_ip);
		*why = err == -EEXIST ? EGRESS_DROP_MAX : EGRESS_DROP_FLOW_TABLE_FULL;
		return NULL;
	}
	f->last_seen = (uint32_t)b->now;
	f->policy_gen = b->pol->generation;
	f->rule = rule;
	f->worker = (uint8_t)w->id;
	f->serial = w->serial++;
	f->target = (uint16_t)ti;
	flow_account(w, b->pol, f, +1);
	if (k->proto != IPPROTO_TCP) {
		/* TCP becomes embryonic with its SYN (forward()), UDP until a reply */
		f->embryonic = 1;
		w->embryonic++;
	}
	embryonic_push(w, f);
	w->stats.flows_created++;
	if (rule != POLICY_NO_RULE && b->pol->rule_flows != NULL)
		b->pol->rule_flows[w->id * b->pol->rule_stride + rule]++;
	return f;
}

/* The one rule the policy gives a 5-tuple (POLICY_NO_RULE: none). */
static inline uint32_t
classify_one(const struct policy *pol, const struct flow_key *k)
{
	uint32_t rule;

	policy_classify_bulk(pol, &k, 1, &rule);
	return rule;
}

/*
 * Does rule (from the policy pol) send flow f where its NAT binding already
 * goes? Under ALLOW_ANY with no rule, that is the client's own destination.
 * @return true with *target the index of the rule's target it matches.
 */
static bool
binding_allowed(const struct policy *pol, const struct flow *f, uint32_t rule,
		uint16_t *target)
{
	const struct flow_key *k = &f->key[FLOW_DIR_OUT];
	const struct flow_key *in = &f->key[FLOW_DIR_IN];
	const struct policy_rule *r;
	uint32_t i;

	*target = 0;
	if (rule == POLICY_NO_RULE)
		return pol->outbound == EGRESS_OUTBOUND_ALLOW_ANY &&
		       in->src_ip == k->dst_ip && in->src_port == k->dst_port;
	r = &pol->rules[rule];
	if (r->n_targets == 0) {
		uint16_t p = r->target_port ? rte_cpu_to_be_16(r->target_port) : k->dst_port;

		return in->src_ip == k->dst_ip && in->src_port == p;
	}
	for (i = 0; i < r->n_targets; i++) {
		const struct policy_target *t = &pol->targets[r->first_target + i];
		uint16_t p = t->port ? t->port : r->target_port;

		if (in->src_ip == t->ip && in->src_port == (p ? rte_cpu_to_be_16(p) : k->dst_port)) {
			*target = (uint16_t)i;
			return true;
		}
	}
	return false;
}

/* Count f under rule of pol from now on (it was counted under its old one). */
static void
flow_rebind_rule(struct dp_worker *w, const struct policy *pol, struct flow *f, uint32_t rule,
		 uint16_t target)
{
	if (f->policy_gen == pol->generation)
		flow_account(w, pol, f, -1);
	f->policy_gen = pol->generation;
	f->rule = rule;
	f->target = target;
	flow_account(w, pol, f, +1);
}

/*
 * A policy was published since this flow was admitted: is it still allowed,
 * to the same destination? Same rule set, same endpoint: keep it untouched.
 * With on_revoke: keep a connection the policy no longer allows is kept too,
 * counted under no rule; it ends with the connection (a new one on its
 * 5-tuple is judged like any new one: flow_reopen()).
 */
static bool
flow_recheck(struct dp_worker *w, const struct policy *pol, struct flow *f)
{
	uint32_t rule = classify_one(pol, &f->key[FLOW_DIR_OUT]);
	uint16_t target;
	bool ok = binding_allowed(pol, f, rule, &target);

	if (!ok && w->conf->on_revoke != EGRESS_REVOKE_KEEP)
		return false;
	/* the policy it was counted in is gone: nothing to give back there */
	f->policy_gen = pol->generation;
	f->rule = ok ? rule : POLICY_NO_RULE;
	f->target = ok ? target : 0;
	flow_account(w, pol, f, +1);
	w->stats.flows_rechecked++;
	return true;
}

/*
 * End a flow the policy no longer allows. With on_revoke: reset both ends
 * get an in-window RST, built from the sequence numbers tracked per
 * direction: each end receives the sequence number its peer would send next
 * (the end of the last segment seen from that peer, RFC 5961 section 3:
 * exactly what it expects). Used on the flow's next packet and by the
 * background sweep alike. @return the number of RSTs appended to out.
 */
static uint16_t
flow_revoke(struct dp_worker *w, struct flow *f, struct dp_out *out, uint64_t now)
{
	const struct dp_conf *conf = w->conf;
	const struct flow_key *in = &f->key[FLOW_DIR_IN], *o = &f->key[FLOW_DIR_OUT];
	const struct flow_tcp *t = flow_table_tcp(w->flows, f);
	uint16_t n = 0;
	unsigned int d;

	w->stats.flows_revoked++;
	if (conf->on_revoke != EGRESS_REVOKE_RESET || o->proto != IPPROTO_TCP || out == NULL ||
	    f->state == FLOW_S_CLOSED) {
		flow_remove(w, f);
		return 0;
	}
	/* d: the direction whose receiver gets the RST */
	for (d = 0; d < 2; d++) {
		enum dp_port port = d == FLOW_DIR_OUT ? DP_OUTSIDE : DP_INSIDE;
		const struct dp_port_conf *pc = &conf->port[port];
		uint8_t mac[RTE_ETHER_ADDR_LEN];
		struct rte_mbuf *m;
		struct rst_spec r;
		uint32_t nexthop;

		if (!t[d].seen)
			continue;
		if (d == FLOW_DIR_OUT) {
			/* to the server, as if from the client through the NAT */
			r = (struct rst_spec){ .src = in->dst_ip, .dst = in->src_ip,
					       .sport = in->dst_port, .dport = in->src_port };
			nexthop = in_prefix(pc, in->src_ip) ? in->src_ip : pc->gateway;
		} else {
			/* to the client, as if from the server */
			r = (struct rst_spec){ .src = o->dst_ip, .dst = o->src_ip,
					       .sport = o->dst_port, .dport = o->src_port };
			nexthop = o->src_ip;
		}
		r.seq = t[d].end;
		r.flags = RTE_TCP_RST_FLAG;
		r.dmac = mac;
		r.smac = pc->mac;
		/* rate-limited like every RST we make: a reload that revokes a
		 * million flows must not flood either side */
		if (nexthop == 0 || !neigh_lookup(pc->neigh, nexthop, mac) ||
		    out->n[port] >= DP_OUT_MAX || !bucket_take(&w->rst, now, DP_RST_RATE))
			continue;
		m = rte_pktmbuf_alloc(w->pool);
		if (m == NULL)
			continue;
		write_rst(m, &r);
		pad_runt(m);
		out->pkts[port][out->n[port]++] = m;
		w->stats.rst_sent++;
		n++;
	}
	flow_remove(w, f);
	return n;
}

static inline uint32_t
seg_end(const struct pkt_meta *pm)
{
	return pm->tcp_seq + (uint32_t)(pm->ip_len - pm->l3_len - pm->l4_len) +
	       !!(pm->tcp_flags & PKT_TCP_SYN) + !!(pm->tcp_flags & PKT_TCP_FIN);
}

#define SEQ_LT(a, b) ((int32_t)((a) - (b)) < 0)
#define SEQ_GT(a, b) ((int32_t)((a) - (b)) > 0)

/* Window of a non-SYN segment, scaled when both SYNs agreed on scaling. */
static inline uint32_t
seg_window(const struct flow_tcp *t, uint8_t dir, const struct pkt_meta *pm)
{
	if ((pm->tcp_flags & PKT_TCP_SYN) || !t[0].wscale || !t[1].wscale)
		return pm->tcp_win;
	return (uint32_t)pm->tcp_win << (t[dir].wscale - 1);
}

/*
 * Is a segment of an established-enough flow inside the window its receiver
 * can accept (as Linux's nf_conntrack and VPP do, after G. van Rooij)?
 * Upper bound: no byte beyond the highest ack + window the receiver gave.
 * Lower bound: not more than a window (at least 64 KiB) behind what this
 * side already sent: old retransmissions pass, blind RSTs and far-away data
 * do not. Its ACK, when it has one, acknowledges nothing the other side has
 * not sent, and nothing more than a window (at least 64 KiB) behind what it
 * has (van Rooij's third and fourth conditions). Handshake segments and
 * directions not yet seen are not judged.
 */
static inline bool
tcp_in_window(const struct flow_tcp *t, uint8_t dir, const struct pkt_meta *pm)
{
	const uint8_t rdir = dir ^ 1;
	uint32_t end = seg_end(pm), win;

	if ((pm->tcp_flags & PKT_TCP_SYN) || !t[dir].seen || !t[rdir].seen)
		return true;
	if (t[dir].acked && SEQ_GT(end, t[dir].maxend))
		return false;
	win = RTE_MAX(t[rdir].maxwin, (uint32_t)UINT16_MAX);
	if (SEQ_LT(end, t[dir].end - win))
		return false;
	if (pm->tcp_flags & PKT_TCP_ACK) {
		win = RTE_MAX(t[dir].maxwin, (uint32_t)UINT16_MAX);
		if (SEQ_GT(pm->tcp_ack, t[rdir].end) || SEQ_LT(pm->tcp_ack, t[rdir].end - win))
			return false;
	}
	return true;
}

/*
 * Learn from a segment: sequence end, scale, largest window, what it acks.
 * Only handshake SYNs are learnt from (the window scale is agreed there,
 * RFC 7323 2.2); forward() does not call this for a SYN on a connection
 * past its handshake.
 */
static inline void
track_tcp(struct flow_tcp *t, uint8_t dir, const struct pkt_meta *pm)
{
	uint32_t end = seg_end(pm), win;

	if (pm->tcp_flags & PKT_TCP_SYN)
		t[dir].wscale = pm->tcp_wscale == PKT_WSCALE_NONE ? 0 : pm->tcp_wscale + 1;
	if (!t[dir].seen || SEQ_GT(end, t[dir].end)) {
		t[dir].end = end;
		t[dir].seen = 1;
	}
	win = seg_window(t, dir, pm);
	if (win > t[dir].maxwin)
		t[dir].maxwin = win;
	if (pm->tcp_flags & PKT_TCP_ACK) {
		uint32_t maxend = pm->tcp_ack + RTE_MAX(win, 1u);

		/* what this side acks and opens bounds what the other may send */
		if (!t[dir ^ 1].acked || SEQ_GT(maxend, t[dir ^ 1].maxend)) {
			t[dir ^ 1].maxend = maxend;
			t[dir ^ 1].acked = 1;
		}
	}
}

/*
 * Larger than the MTU of the port it would leave by. egressd does not
 * fragment: with DF set the sender learns the MTU (RFC 1191, ICMP
 * "fragmentation needed"), without it the packet is dropped and counted.
 */
static void
too_big(struct dp_burst *b, struct rte_mbuf *m, const struct pkt_meta *pm, uint16_t mtu)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
								pm->l2_len);

	if (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG))
		icmp_error(b, m, pm, ICMP_UNREACH, ICMP_UNREACH_NEEDFRAG, mtu);
	dp_drop(b, m, EGRESS_DROP_MTU_EXCEEDED);
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
	struct dp_nh *e = &b->w->nh[(rte_be_to_cpu_32(ip) * UINT32_C(0x9e3779b1)) >>
				    (32 - DP_NH_CACHE_BITS)];

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

static inline bool
is_new_flow_packet(const struct pkt_meta *pm)
{
	if (pm->proto != IPPROTO_TCP)
		return true;
	return (pm->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK)) == PKT_TCP_SYN;
}

/* A new connection the policy refuses: count, and answer per `deny`. */
static void
deny(struct dp_burst *b, unsigned int i, enum egress_drop why)
{
	const struct pkt_meta *pm = &b->meta[i];
	struct rte_mbuf *m = b->m[i];

	b->w->stats.drops[why]++;
	b->w->stats.port[b->in].dropped++;
	if (b->conf->deny == EGRESS_DENY_RESET && pm->proto == IPPROTO_TCP &&
	    bucket_take(&b->w->rst, b->now, DP_RST_RATE)) {
		make_rst(m, pm, b->conf->port[b->in].mac);
		b->w->stats.rst_sent++;
		dp_emit(b, b->in, m);
		return;
	}
	/* not TCP: "communication administratively prohibited" (RFC 1812 5.2.7.1) */
	if (b->conf->deny == EGRESS_DENY_RESET && pm->proto != IPPROTO_TCP)
		icmp_error(b, m, pm, ICMP_UNREACH, ICMP_UNREACH_ADMIN, 0);
	dp_free(b, m);
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
		/* only the client's new SYN brings it back (flow_reopen()) */
		dp_drop(b, m, dir == FLOW_DIR_OUT ? EGRESS_DROP_NOT_SYN : EGRESS_DROP_NO_FLOW);
		return;
	}
	if (unlikely(f->policy_gen != b->pol->generation) && !flow_recheck(w, b->pol, f)) {
		/* this segment is not delivered: its receiver expects its seq */
		struct flow_tcp *t = flow_table_tcp(w->flows, f);

		if (pm->proto == IPPROTO_TCP && !t[dir].seen) {
			t[dir].end = pm->tcp_seq;
			t[dir].seen = 1;
		}
		b->emitted += flow_revoke(w, f, b->out, b->now);
		dp_drop(b, m, EGRESS_DROP_REVOKED);
		return;
	}
	if (pm->proto == IPPROTO_TCP) {
		struct flow_tcp *t = flow_table_tcp(w->flows, f);

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
			flow_set_state(w, f, tcp_next[f->state][dir][tcp_class(pm->tcp_flags)]);
		}
		if (pm->tcp_flags & PKT_TCP_SYN)
			clamp_mss(conf, frame, pm);
	} else if (dir == FLOW_DIR_IN) {
		flow_set_state(w, f, FLOW_S_ESTABLISHED);
	}
	f->last_seen = (uint32_t)b->now;

	if (dir == FLOW_DIR_OUT) {
		const struct flow_key *in = &f->key[FLOW_DIR_IN];

		out_port = DP_OUTSIDE;
		opc = &conf->port[out_port];
		nexthop = in_prefix(opc, in->src_ip) ? in->src_ip : opc->gateway;
		if (unlikely(pm->ip_len > opc->mtu)) {
			too_big(b, m, pm, opc->mtu);
			return;
		}
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

		out_port = DP_INSIDE;
		opc = &conf->port[out_port];
		nexthop = o->src_ip;
		if (unlikely(pm->ip_len > opc->mtu)) {
			too_big(b, m, pm, opc->mtu);
			return;
		}
		if (unlikely(!nh_lookup(b, out_port, nexthop, mac))) {
			dp_event(conf, DP_EV_RESOLVE, out_port, nexthop, NULL);
			dp_drop(b, m, EGRESS_DROP_NEIGH_UNRESOLVED);
			return;
		}
		rewrite_l3l4(frame, pm, o->dst_ip, o->dst_port, o->src_ip, o->src_port);
	}
	set_l2(frame, mac, opc->mac);
	dp_emit(b, out_port, m);
}

/* A client SYN on a 5-tuple whose last connection is over. */
static inline bool
is_reopen(const struct flow *f, uint8_t dir, const struct pkt_meta *pm)
{
	return dir == FLOW_DIR_OUT && pm->proto == IPPROTO_TCP && is_new_flow_packet(pm) &&
	       (f->state == FLOW_S_TIME_WAIT || f->state == FLOW_S_CLOSED);
}

enum reopen {
	REOPEN_OK,     /* the flow carries the SYN */
	REOPEN_DONE,   /* the SYN was dropped */
	REOPEN_NEW,    /* the flow was ended: admit the SYN as a new flow */
};

/*
 * A client SYN on a 5-tuple whose last connection ended (TIME_WAIT, CLOSED,
 * or quarantine after a timeout): a new connection, admitted as one. The
 * policy in force must allow it, whatever on_revoke kept of the old one; it
 * takes an embryonic slot (evicting the oldest embryonic flow at the cap)
 * and one of the client's new flows per second. It keeps the flow's NAT
 * binding, so the port stays held and the server sees the same 4-tuple
 * with a new sequence space (RFC 6191). A rule that now sends the 5-tuple
 * elsewhere (another DNAT endpoint), or none, ends the old flow: the caller
 * admits or denies the SYN like any first packet, with *rule.
 */
static enum reopen
flow_reopen(struct dp_burst *b, unsigned int i, struct flow *f, uint32_t *rule)
{
	struct dp_worker *w = b->w;
	uint16_t target;

	*rule = classify_one(b->pol, &f->key[FLOW_DIR_OUT]);
	if (!binding_allowed(b->pol, f, *rule, &target)) {
		flow_remove(w, f);
		return REOPEN_NEW;
	}
	if (!source_reopen(w, f->key[FLOW_DIR_OUT].src_ip, b->now)) {
		dp_drop(b, b->m[i], EGRESS_DROP_SOURCE_LIMIT);
		return REOPEN_DONE;
	}
	if (w->embryonic >= b->conf->embryonic_max && !embryonic_evict(w)) {
		dp_drop(b, b->m[i], EGRESS_DROP_EMBRYONIC_FULL);
		return REOPEN_DONE;
	}
	flow_rebind_rule(w, b->pol, f, *rule, target);
	if (*rule != POLICY_NO_RULE && b->pol->rule_flows != NULL)
		b->pol->rule_flows[w->id * b->pol->rule_stride + *rule]++;
	f->quarantine = 0;
	f->serial = w->serial++;
	memset(flow_table_tcp(w->flows, f), 0, 2 * sizeof(struct flow_tcp));
	flow_set_state(w, f, FLOW_S_NONE);
	embryonic_push(w, f);
	return REOPEN_OK;
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
		r = rule != NULL ? *rule : classify_one(b->pol, &b->key[i]);
		if (r == POLICY_NO_RULE && b->pol->outbound != EGRESS_OUTBOUND_ALLOW_ANY) {
			deny(b, i, EGRESS_DROP_POLICY_DENIED);
			return NULL;
		}
		f = flow_create(b, &b->key[i], r, &why);
		if (f != NULL) {
			*dir = FLOW_DIR_OUT;
			return f;
		}
		/* over a DestinationRule's cap: refused like a deny */
		if (why == EGRESS_DROP_CONN_LIMIT) {
			deny(b, i, why);
			return NULL;
		}
		if (why != EGRESS_DROP_MAX) {
			dp_drop(b, b->m[i], why);
			return NULL;
		}
	}
	f = flow_table_lookup(b->w->flows, &b->key[i], dir);
	if (f == NULL)
		dp_drop(b, b->m[i], EGRESS_DROP_NOT_SYN);
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
		switch (flow_reopen(b, i, f, &r)) {
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
				flow_age_out(w, f, b->now);
			b->flow[i] = f = NULL;
		}
		/* the TCP tracking is another line, in another array: its misses
		 * overlap here rather than one at a time in forward() */
		if (f != NULL)
			rte_prefetch0(flow_table_tcp(w->flows, f));
		if (f == NULL && b->in == DP_INSIDE && is_new_flow_packet(&b->meta[i])) {
			miss_idx[n_miss] = i;
			miss_keys[n_miss++] = b->keyp[i];
		}
	}
	if (n_miss > 0)
		policy_classify_bulk(b->pol, miss_keys, n_miss, miss_rules);

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
	b.in = in;
	b.now = now_ms;
	b.out = out;
	b.emitted = 0;
	b.n = 0;
	b.n_dead = 0;
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
	if (b.n > 0)
		stage_flows(&b);
	if (b.n_dead > 0)
		rte_pktmbuf_free_bulk(b.dead, b.n_dead);
	return b.emitted;
}

unsigned int
dp_expire(struct dp_worker *w, uint64_t now_ms, unsigned int budget, struct dp_out *out)
{
	const struct policy *pol = dp_policy(w->conf);
	uint32_t cap = flow_table_capacity(w->flows);
	unsigned int deleted = 0;

	while (budget-- > 0) {
		struct flow *f;

		if (w->sweep_cursor >= cap)
			w->sweep_cursor = 0;
		f = flow_table_at(w->flows, w->sweep_cursor++);
		if (!f->in_use)
			continue;
		if (flow_expired(w->conf, f, now_ms)) {
			deleted += flow_age_out(w, f, now_ms);
		} else if (f->policy_gen != pol->generation && !flow_recheck(w, pol, f)) {
			flow_revoke(w, f, out, now_ms);
			deleted++;
		}
	}
	return deleted;
}

/* ------------------------------------------------------------- poll loop */

static void
tx_out(struct dp_worker *w, struct dp_out *out)
{
	unsigned int p;

	for (p = 0; p < DP_NPORTS; p++) {
		uint16_t n = out->n[p], sent;

		if (n == 0)
			continue;
		sent = rte_eth_tx_burst(w->conf->port[p].port_id, (uint16_t)w->id,
					out->pkts[p], n);
		w->stats.port[p].tx += sent;
		if (unlikely(sent < n)) {
			w->stats.drops[EGRESS_DROP_TX_FULL] += n - sent;
			w->stats.port[p].dropped += n - sent;
			rte_pktmbuf_free_bulk(&out->pkts[p][sent], n - sent);
		}
		out->n[p] = 0;
	}
}

/* Frames the control thread built (ARP requests), sent by worker 0. */
static void
tx_control(struct dp_worker *w, struct dp_out *out)
{
	unsigned int p, n;

	for (p = 0; p < DP_NPORTS; p++) {
		if (w->conf->tx[p] == NULL)
			continue;
		n = rte_ring_sc_dequeue_burst(w->conf->tx[p], (void **)out->pkts[p],
					      DP_BURST_MAX, NULL);
		out->n[p] = (uint16_t)n;
	}
	tx_out(w, out);
}


/*
 * Slots the background sweep may examine now: enough to go round the table
 * once per sweep period whatever its size, spread over the loop iterations
 * (a busy loop runs hundreds of times per ms: examining a fixed 64 slots in
 * each went round a small table many times a second, a cache miss per slot,
 * and round a 16 Mi table once in 16 s). What a slow iteration could not
 * examine is banked, up to one round, and examined over the next ones,
 * DP_SWEEP_LOOP_MAX at most each: bounded work per iteration.
 */
static unsigned int
sweep_budget(struct dp_worker *w, uint64_t now)
{
	uint64_t cap = flow_table_capacity(w->flows);
	uint64_t period = RTE_MAX(w->conf->sweep_period_ms, (uint64_t)1);
	unsigned int budget;

	if (now != w->sweep_ms) {
		uint64_t elapsed = RTE_MIN(now - w->sweep_ms, period);

		w->sweep_credit = RTE_MIN(w->sweep_credit + (elapsed * cap + period - 1) / period,
					  cap);
		w->sweep_ms = now;
	}
	budget = (unsigned int)RTE_MIN(w->sweep_credit, (uint64_t)DP_SWEEP_LOOP_MAX);
	w->sweep_credit -= budget;
	return budget;
}

unsigned int
dp_sweep(struct dp_worker *w, uint64_t now_ms, struct dp_out *out)
{
	return dp_expire(w, now_ms, sweep_budget(w, now_ms), out);
}

int
dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	const struct dp_conf *conf = w->conf;
	uint64_t tsc_per_ms = rte_get_tsc_hz() / 1000;
	struct rte_mbuf *pkts[DP_BURST_MAX];
	struct dp_out out;
	uint64_t loop_tsc;
	unsigned int p;

	dp_worker_online(w);
	memset(&out, 0, sizeof(out));
	loop_tsc = rte_rdtsc();
	w->last_rx_ms = loop_tsc / tsc_per_ms;

	while (!__atomic_load_n(&w->quit, __ATOMIC_RELAXED)) {
		uint64_t tsc = rte_rdtsc(), now = tsc / tsc_per_ms;

		w->stats.loop_cycles += tsc - loop_tsc;
		loop_tsc = tsc;

		/* nothing of the previous iteration is held past this point */
		dp_worker_quiesce(w);
		for (p = 0; p < DP_NPORTS; p++) {
			uint16_t n = rte_eth_rx_burst(conf->port[p].port_id, (uint16_t)w->id,
						      pkts, DP_BURST_MAX);
			uint64_t t0;

			if (n == 0)
				continue;
			w->last_rx_ms = now;
			t0 = rte_rdtsc();
			dp_process(w, (enum dp_port)p, pkts, n, now, &out);
			w->stats.busy_cycles += rte_rdtsc() - t0;
			w->stats.busy_pkts += n;
			tx_out(w, &out);
		}
		/* outside frames of our flows that another worker received */
		if (conf->handoff[w->id] != NULL) {
			uint16_t n = (uint16_t)rte_ring_sc_dequeue_burst(conf->handoff[w->id],
									(void **)pkts,
									DP_BURST_MAX, NULL);

			if (n > 0) {
				uint64_t t0 = rte_rdtsc();

				dp_process(w, DP_OUTSIDE, pkts, n, now, &out);
				w->stats.busy_cycles += rte_rdtsc() - t0;
				w->stats.busy_pkts += n;
				tx_out(w, &out);
			}
		}
		if (w->id == 0)
			tx_control(w, &out);
		dp_sweep(w, now, &out);
		tx_out(w, &out);
		w->stats.loops++;
	}
	dp_worker_offline(w);
	return 0;
}
