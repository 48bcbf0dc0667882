/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the files of the data path share, and nothing outside lib/dp sees:
 * the per-burst state, a frame's fates (drop, free, emit), predicates on
 * addresses, and the functions one file calls in another. What is inline
 * here runs per packet.
 *
 *   dp.c       the pipeline: parse, flow stage, forward (dp_process())
 *   admit.c    a flow's admission, accounting, re-check, reopen, revocation
 *   tcp.c/.h   TCP tracking: the state table, sequence windows
 *   rewrite.h  NAT rewrite and MSS clamp of forwarded frames
 *   reply.c    what we answer or generate: ARP, echo, RST, ICMP errors
 *   expire.c   timeouts and the aging sweep
 *   exception.c  frames for the host's TAP (the control-plane exception path)
 *   loop.c     the worker's poll loop: RX/TX, hand-off, sweep
 *   idle.c     what an idle worker does: sleep, or wait for an RX interrupt
 *   worker.c   a worker's life cycle (control side)
 */
#ifndef EGRESS_DP_PRIVATE_H
#define EGRESS_DP_PRIVATE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "dp.h"
#include "flow.h"
#include "nat.h"
#include "nat_dests.h"
#include "pkt.h"
#include "policy.h"
#include "tcp.h"

/**
 * A token bucket: `rate` tokens per second, at most `rate` banked (a burst
 * of one second), full at creation. Generated RSTs, generated ICMP errors
 * and each client's new flows (flows.per_source.new_per_second) all use it.
 */
struct dp_bucket {
	uint32_t tokens;  /**< left */
	uint32_t last_ms; /**< last refill, low 32 bits of the ms clock */
};

struct dp_worker {
	unsigned int id; /**< 0 .. n_workers-1 */
	unsigned int lcore;
	const struct dp_conf *conf;
	struct flow_table *flows; /**< owned; written by this worker only */
	struct nat_range nat;     /**< the NAT ports it may bind (dp_owner()) */
	struct nat_dests *dests;  /**< its ports in use per destination; owned */
	struct rte_mempool *pool; /**< for generated frames */
	struct rte_rcu_qsbr *qsbr;
	struct dp_nh {       /**< next hops resolved lately (nh_lookup in dp.c) */
		uint64_t ms; /**< when filled in; 0: never */
		uint32_t ip;
		uint8_t port;
		uint8_t mac[6];
	} nh[1u << DP_NH_CACHE_BITS];
	uint64_t aux_bytes;    /**< per-flow memory outside the flow table: the
				       embryonic FIFO, the per-source table */
	uint32_t sweep_cursor; /**< next flow index dp_expire() examines */
	uint64_t sweep_ms;     /**< when the sweep's credit was last topped up */
	uint64_t sweep_credit; /**< slots the sweep may examine (sweep_budget()) */
	uint64_t idle_tsc;     /**< TSC of the last frame (idle_backoff(), loop.c) */
	uint32_t idle_slept;   /**< times it slept since (dp_idle_sleep_us()) */
	bool idle_irq;         /**< waits for RX interrupts (dp_worker_irq_setup()) */
	bool irq_armed;        /**< its queues' RX interrupts are enabled (idle.c) */
	bool irq_woke;         /**< an interrupt ended the last wait: poll on (idle.c) */
	uint32_t embryonic;    /**< flows not yet established */
	uint64_t *emb_fifo;    /**< embryonic flows oldest first: idx << 32 | serial;
				       NULL: at the cap new SYNs are dropped instead */
	uint32_t emb_mask;     /**< fifo size - 1 (a power of two) */
	uint32_t emb_head, emb_tail;
	uint32_t serial;          /**< next flow serial */
	struct rte_hash *sources; /**< client address -> sources[] slot (flows.per_source);
				       NULL: no per-source caps. Owner only. */
	struct dp_source *source; /**< per client: flows, rate bucket */
	struct dp_bucket rst;     /**< generated RSTs: DP_RST_RATE per second */
	struct dp_bucket icmp;    /**< generated ICMP errors: DP_ICMP_RATE per second */
	uint64_t reclaim_ms;      /**< last on-demand reclaim of a full table */
	uint64_t last_rx_ms;      /**< last time any RX queue had a frame */
	volatile bool quit;       /**< set by the control thread */
	uint64_t now;             /**< ms: the time of the dp_process() or dp_expire()
				       call running (dp_flow_remove()'s end records) */
	struct rte_ring *flowlog; /**< its flow-log ring (conf->flowlog[id]); NULL: off */
	struct dp_bucket fl_deny; /**< deny records: conf->flowlog_deny_rate per second */
	uint32_t fl_suppressed;   /**< deny records skipped since the last one made */
	struct rte_ring *sync;    /**< its session-sync ring (conf->sync[id]); NULL: off */
	struct dp_stats stats __rte_cache_aligned;
} __rte_cache_aligned;

/** What flows.per_source tracks of one client (per worker). */
struct dp_source {
	uint32_t flows;        /**< flows of this client in this worker's table */
	struct dp_bucket rate; /**< its new flows: source_rate per second */
};

#define ICMP_ECHO_REPLY       0
#define ICMP_UNREACH          3
#define ICMP_ECHO_REQUEST     8
#define ICMP_TIME_EXCEEDED    11
#define ICMP_UNREACH_NEEDFRAG 4  /* code: fragmentation needed and DF set */
#define ICMP_UNREACH_ADMIN    13 /* code: communication administratively prohibited */
#define DP_DEFAULT_TTL        64
#define DP_RECLAIM_BUDGET     1024 /* slots aged on demand when the table is full */

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
	struct dp_counters *cnt; /* pol's counters (dp_counters()); NULL: none */
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
	/* a new flow's random number, drawn ahead for its prefetch
	 * (dp_admit_prefetch()); valid for the frames classified as misses */
	uint64_t rnd[DP_BURST_MAX];
	/* the reply key nat_bind() will look up first, guessed before the
	 * classification (no DNAT) for a two-step prefetch; proto 0: none */
	struct flow_key probe[DP_BURST_MAX];
	/* forwarded frames of one rule and direction in a row, not yet added
	 * to the rule's counters (dp.c, rule_traffic_count()) */
	struct dp_rule_traffic *traffic; /* this worker's row of cnt's; NULL: none */
	struct {
		uint32_t key; /* rule << 1 | dir; DP_RUN_NONE: none pending */
		uint32_t packets;
		uint64_t bytes;
	} run;
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

/* One of the peer's NAT addresses, once this appliance took them over. */
static inline bool
is_peer_addr(const struct dp_conf *conf, uint32_t ip)
{
	uint32_t i;

	if (likely(!__atomic_load_n(&conf->sync_takeover, __ATOMIC_ACQUIRE)))
		return false;
	for (i = 0; i < conf->n_sync_peer_addrs; i++)
		if (conf->sync_peer_addrs[i] == ip)
			return true;
	return false;
}

static inline bool
is_nat_addr(const struct dp_conf *conf, uint32_t ip)
{
	uint32_t i;

	for (i = 0; i < conf->n_nat_addrs; i++)
		if (conf->nat_addrs[i] == ip)
			return true;
	return is_peer_addr(conf, ip);
}

/*
 * Which worker owns the flow whose reply key (server -> NAT address:port) is
 * in; -1 when there is one worker or the port is no NAT port. The rule the
 * workers bind by (nat_bind()): the reply's RSS hash where the outside
 * port's is known, the port's share of the range otherwise.
 */
static inline int
dp_owner(const struct dp_conf *conf, const struct flow_key *in)
{
	uint16_t port = rte_be_to_cpu_16(in->dst_port);

	if (conf->n_workers <= 1)
		return -1;
	if (conf->rss != NULL)
		return port < conf->nat_port_lo || port > conf->nat_port_hi ?
			       -1 :
			       (int)nat_rss_owner(conf->rss, in);
	return nat_range_owner(conf->nat_port_lo, conf->nat_port_hi, conf->n_workers, port);
}

/* sync.c: a record of flow f (enum dp_sync_type) on the worker's sync ring */
void dp_sync_flow(struct dp_worker *w, const struct flow *f, uint8_t type);

static inline void
flow_set_state(struct dp_worker *w, struct flow *f, uint8_t next)
{
	bool emb = state_embryonic(next);

	/* session sync: one predicted branch when it is off */
	if (unlikely(w->sync != NULL) && next != f->state) {
		f->state = next;
		dp_sync_flow(w, f, DP_SYNC_STATE);
	}
	f->state = next;
	if (emb != (bool)f->embryonic) {
		f->embryonic = emb;
		if (emb)
			w->embryonic++;
		else
			w->embryonic--;
	}
}

static inline bool
flow_expired(const struct dp_conf *conf, const struct flow *f, uint64_t now)
{
	/* the common case without a call: an established TCP flow */
	if (likely(!f->embryonic && f->key[FLOW_DIR_OUT].proto == IPPROTO_TCP))
		return flow_age(f, now) >= conf->timeout_ms[f->state];
	return flow_age(f, now) >= dp_flow_timeout(conf, f);
}

static inline void
set_l2(uint8_t *frame, const uint8_t *dst, const uint8_t *src)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)frame;

	memcpy(&eth->dst_addr, dst, RTE_ETHER_ADDR_LEN);
	memcpy(&eth->src_addr, src, RTE_ETHER_ADDR_LEN);
}

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
			bk->last_ms = bk->tokens == rate ?
					      (uint32_t)now :
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
	uint32_t seq, ack; /* host order */
	uint8_t flags;
};

/* The one rule the policy gives a 5-tuple (POLICY_NO_RULE: none). */
static inline uint32_t
classify_one(const struct policy *pol, const struct flow_key *k)
{
	uint32_t rule;

	policy_classify_bulk(pol, &k, 1, &rule);
	return rule;
}

static inline bool
is_new_flow_packet(const struct pkt_meta *pm)
{
	if (pm->proto != IPPROTO_TCP)
		return true;
	return (pm->tcp_flags & (PKT_TCP_SYN | PKT_TCP_ACK)) == PKT_TCP_SYN;
}

/* A client SYN on a 5-tuple whose last connection is over. */
static inline bool
is_reopen(const struct flow *f, uint8_t dir, const struct pkt_meta *pm)
{
	return dir == FLOW_DIR_OUT && pm->proto == IPPROTO_TCP && is_new_flow_packet(pm) &&
	       (f->state == FLOW_S_TIME_WAIT || f->state == FLOW_S_CLOSED);
}

enum reopen {
	REOPEN_OK,   /* the flow carries the SYN */
	REOPEN_DONE, /* the SYN was dropped */
	REOPEN_NEW,  /* the flow was ended: admit the SYN as a new flow */
};

/* ------------------------------------------- what one file calls in another */

/* dp.c: tell the control thread about a neighbour (a full ring loses a hint) */
void dp_event(const struct dp_conf *conf, uint8_t type, enum dp_port port, uint32_t ip,
	      const uint8_t *mac);
/* dp.c: pass an outside frame to the worker that owns its NAT port */
void dp_handoff(struct dp_burst *b, struct rte_mbuf *m, unsigned int owner);

/* admit.c: a new flow allowed by rule (POLICY_NO_RULE under ALLOW_ANY);
 * NULL with *why, EGRESS_DROP_MAX when the 5-tuple exists already */
struct flow *dp_flow_create(struct dp_burst *b, const struct flow_key *k, uint32_t rule,
			    uint64_t rnd, enum egress_drop *why);
/* admit.c: end a flow, giving back what it counted against; why (enum
 * dp_end_reason, or DP_END_BY_STATE) goes to its flow-log end record */
void dp_flow_remove(struct dp_worker *w, struct flow *f, unsigned int why);
/* admit.c: prefetches for a burst's n_new new flows, ahead of dp_flow_create():
 * the guess before the classification, the rest after it */
void dp_admit_prefetch_guess(struct dp_burst *b, unsigned int n_new, const unsigned int *idx);
void dp_admit_prefetch(struct dp_burst *b, const uint32_t *rules, unsigned int n_new,
		       const unsigned int *idx);
void dp_evict_prefetch(struct dp_worker *w, unsigned int n_new, bool heads);
/* admit.c: still allowed, to the same destination, by pol? */
bool dp_flow_recheck(struct dp_worker *w, const struct policy *pol, struct flow *f);
/* admit.c: end a flow pol no longer allows (RSTs per on_revoke to out);
 * @return the RSTs appended */
uint16_t dp_flow_revoke(struct dp_worker *w, struct flow *f, struct dp_out *out, uint64_t now);
/* admit.c: a client SYN on an ended 5-tuple (is_reopen()) */
enum reopen dp_flow_reopen(struct dp_burst *b, unsigned int i, struct flow *f, uint32_t *rule);

/* expire.c: a flow idle past its timeout: quarantine or delete;
 * @return true when deleted */
bool dp_flow_age_out(struct dp_worker *w, struct flow *f, uint64_t now);

/* exception.c: a frame to the port's own address for the host's TAP?
 * (conf->exc[in].ring set); then hand it to the control thread */
bool dp_exception_match(const struct dp_conf *conf, enum dp_port in, const struct pkt_meta *pm);
void dp_exception(struct dp_burst *b, struct rte_mbuf *m);

/* reply.c: frames we answer or generate */
void dp_write_rst(struct rte_mbuf *m, const struct rst_spec *r);
bool dp_icmp_error(struct dp_burst *b, struct rte_mbuf *m, const struct pkt_meta *pm, uint8_t type,
		   uint8_t code, uint16_t mtu);
void dp_icmp_translate(struct dp_burst *b, struct rte_mbuf *m, const struct pkt_meta *pm);
void dp_handle_arp(struct dp_burst *b, struct rte_mbuf *m, const struct pkt_meta *pm);
void dp_handle_local(struct dp_burst *b, struct rte_mbuf *m, const struct pkt_meta *pm);
void dp_too_big(struct dp_burst *b, struct rte_mbuf *m, const struct pkt_meta *pm, uint16_t mtu);
void dp_deny(struct dp_burst *b, unsigned int i, enum egress_drop why);
void dp_not_syn(struct dp_burst *b, unsigned int i);

/*
 * idle.c: the end of a poll-loop iteration with poll.idle set (not busy), at
 * TSC tsc; frames: the iteration had some (any RX queue, the hand-off ring,
 * the control thread's). Sleeps, or waits for an RX interrupt, when the
 * worker has been idle long enough (dp_idle_sleep_us()). The worker's own.
 */
void dp_idle(struct dp_worker *w, bool frames, uint64_t tsc, uint64_t tsc_per_us);
/* idle.c: disable and unregister what dp_worker_irq_setup() registered; on
 * the worker's lcore, as it leaves its loop */
void dp_worker_irq_teardown(struct dp_worker *w);

/* flowlog.c: the flow log's records (struct dp_flowlog_rec), made only when
 * w->flowlog is set */
void dp_flowlog_first(struct dp_worker *w, struct flow *f, uint8_t dir, const struct pkt_meta *pm,
		      const uint8_t *frame, uint64_t now);
void dp_flowlog_end(struct dp_worker *w, struct flow *f, unsigned int why);
void dp_flowlog_deny(struct dp_burst *b, unsigned int i, enum egress_drop why);
/* the flow starts a new connection (a reopened 5-tuple) at now */
void dp_flowlog_restart(struct dp_worker *w, struct flow *f, uint64_t now);

/*
 * A frame of flow f forwarded in dir, with flow logs on: counted in the
 * flow's extension (the line its TCP tracking is in), for the end record,
 * and the admit record of a flow that has none yet, at its first payload
 * (TCP) or frame (UDP). The one call forward() makes for the flow log.
 */
static inline void
flow_forwarded(struct dp_burst *b, struct flow *f, uint8_t dir, const struct pkt_meta *pm,
	       const uint8_t *frame)
{
	struct dp_flow_ext *x;

	if (likely(b->w->flowlog == NULL))
		return; /* no end record to count for: the extension is TCP's alone */
	x = dp_flow_ext(b->w->flows, f);
	x->packets[dir]++;
	x->bytes[dir] += pm->ip_len;
	if (!(x->logged & DP_FLOWLOG_ADMITTED) &&
	    (pm->proto != IPPROTO_TCP || pm->ip_len > pm->l3_len + pm->l4_len))
		dp_flowlog_first(b->w, f, dir, pm, frame, b->now);
}

#endif
