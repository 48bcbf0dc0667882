/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data path. dp_process() is the unit everything else is built around: it
 * takes a burst of frames received on one port, the time, and returns the
 * frames to transmit per port; dropped frames are freed and counted, one
 * reason each. It never blocks, never allocates outside mempools, never logs
 * and never reads the clock, so tests drive it with crafted frames and time.
 *
 * Multi-core: each worker owns its flow table and its share of the NAT ports.
 * The inside port's RSS keeps a client's 5-tuple on one worker, the one that
 * creates the flow; replies reach the outside port hashed by a 5-tuple the
 * client never sent. When the outside port's RSS key and RETA are known
 * (conf->rss, nat_rss.h), a worker binds only NAT ports whose reply hashes
 * to its own queue, so replies arrive where their flow is; otherwise each
 * worker owns a disjoint share of the port range (nat_range_split()). Either
 * way dp_owner() names the owner of a reply, and a worker that receives one
 * it does not own passes the frame, untouched, to the owner's handoff ring
 * (with conf->rss, only frames the NIC hashed otherwise than the key and
 * RETA say: none, when they were read right); the owner processes it like
 * its own RX. No flow is ever read or written by two workers.
 *
 * Ownership and concurrency:
 *   - struct dp_conf is written by the control thread before the workers
 *     start; afterwards only conf->policy (atomic pointer, RCU) and
 *     conf->counters (the published policy's, dp_counters()) change.
 *   - struct dp_worker belongs to one lcore; its stats are read racily by
 *     the control and telemetry threads (naturally aligned 64-bit words).
 *   - Workers tell the control thread about neighbours through conf->events
 *     (MP/SC ring of struct dp_event) and the control thread hands frames it
 *     built (ARP requests) or read from an exception TAP to worker 0 through
 *     conf->tx[] (MP/SC rings); workers hand frames for the TAP to the
 *     control thread through conf->exc[].ring (MP/SC).
 */
#ifndef EGRESS_DP_H
#define EGRESS_DP_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>

#include "egress_types.h"
#include "drop.h"
#include "flow.h"
#include "nat.h"
#include "tcp_state.h"

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;
struct rte_rcu_qsbr;
struct dp_worker;
struct neigh_table;
struct nat_dests;
struct policy;

#define DP_BURST_MAX       64 /**< most frames per dp_process() call */
#define DP_NH_CACHE_BITS   8  /**< next hops a worker caches: 256 */
#define DP_MAX_WORKERS     128
#define DP_OUT_MAX         (2 * DP_BURST_MAX) /**< a frame may cause two (RST both ways) */
#define DP_RST_RATE        1000               /**< generated RSTs per second per worker */
#define DP_ICMP_RATE       1000               /**< generated ICMP errors per second per worker */
#define DP_ICMP_QUOTE      64                 /**< bytes of L4 quoted after the IP header */
#define DP_SWEEP_PERIOD_MS 1000               /**< the aging sweep goes round a table in this */

enum dp_port {
	DP_INSIDE = EGRESS_PORT_INSIDE,
	DP_OUTSIDE = EGRESS_PORT_OUTSIDE,
	DP_NPORTS = EGRESS_PORT_MAX,
};

struct dp_port_conf {
	uint16_t port_id;     /**< DPDK port */
	uint8_t mac[6];       /**< own MAC */
	uint32_t addr;        /**< own address, network order */
	uint32_t net;         /**< connected prefix, network order */
	uint32_t mask;        /**< its mask, network order */
	uint32_t gateway;     /**< off-link next hop, network order; 0: none */
	uint16_t mtu;         /**< L3 MTU */
	uint32_t parse_flags; /**< PKT_F_* the port's offloads allow */
	uint16_t vlan;        /**< 802.1Q VLAN ID of every frame on the port; 0: untagged */
	uint8_t offloads;     /**< DP_PORT_* the device does for us */
	/** its RX queues raise interrupts (started with intr_conf.rxq and each
	 *  queue has an event fd: app/egressd/port.c); false: none asked for */
	bool rx_intr;
	struct neigh_table *neigh;
};

/* dp_port_conf.offloads: what the device was configured to do (app/egressd/port.c) */
#define DP_PORT_VLAN_STRIP  (1u << 0) /**< RX: the NIC strips the tag (mbuf vlan_tci) */
#define DP_PORT_VLAN_INSERT (1u << 1) /**< TX: the NIC inserts it (RTE_MBUF_F_TX_VLAN) */
#define DP_PORT_TX_IP_CKSUM (1u << 2) /**< TX: the NIC computes the IPv4 header checksum */
#define DP_PORT_TX_L4_CKSUM (1u << 3) /**< TX: the NIC completes TCP and UDP checksums */

#define DP_EXCEPTION_MAX 16 /**< protocols per port's exception path */

/**
 * A port's control-plane exception path (lib/dp/exception.c): TCP and UDP
 * frames to the port's own address whose destination port is listed (or
 * whose source port is, from a peer answering a connection the host opened)
 * go, untouched, to the control thread, which writes them to a kernel TAP.
 */
struct dp_exception {
	struct rte_ring *ring;           /**< worker -> control (MP/SC, mbufs); NULL: off */
	uint16_t n;                      /**< entries of proto[], port[] */
	uint8_t proto[DP_EXCEPTION_MAX]; /**< IPPROTO_TCP, IPPROTO_UDP */
	uint16_t port[DP_EXCEPTION_MAX]; /**< network order */
};

/** Worker -> control notification (16 bytes, ring element). */
struct dp_event {
	uint8_t type;   /**< DP_EV_* */
	uint8_t port;   /**< enum dp_port */
	uint8_t mac[6]; /**< DP_EV_LEARN: the neighbour's MAC */
	uint32_t ip;    /**< network order */
	uint32_t pad;
};
#define DP_EV_LEARN   1 /**< ARP told us ip is at mac */
#define DP_EV_RESOLVE 2 /**< a worker needed ip and had no MAC */

/**
 * What one worker counted of the frames it forwarded on flows of one rule,
 * per direction ([FLOW_DIR_OUT]: client -> server, [FLOW_DIR_IN]: replies).
 * Bytes are frame lengths as sent (Ethernet header included, FCS excluded,
 * a runt padded to 60), as NIC counters and egressd_port_bytes_total count
 * them. Together, 32 bytes: the one line a frame writes.
 */
struct dp_rule_traffic {
	uint64_t packets[2];
	uint64_t bytes[2];
};

/** Everything counted per rule, summed over the workers (and carried). */
struct dp_rule_counts {
	uint64_t flows;           /**< flows admitted */
	struct dp_rule_traffic t; /**< frames forwarded on them */
	uint64_t near_miss;       /**< new flows denied whose address the rule
				       lists, without their port or protocol */
};

/**
 * The live per-rule counts that go with one published policy. Owned by the
 * control thread (lib/ctl creates them when it publishes the policy, carries
 * the counts of rules that stay over to the next generation's, frees
 * them with the policy), written by the workers: row w of each array by
 * worker w alone, plain stores (the control thread reads them relaxed). Kept
 * out of struct policy, so that a published policy is never written.
 */
struct dp_counters {
	uint32_t generation;     /**< of the policy they count for */
	uint32_t rule_stride;    /**< n_rules rounded up to a cache line of uint64_t */
	uint32_t traffic_stride; /**< n_rules rounded up to a cache line of
				       struct dp_rule_traffic */
	uint32_t cap_stride;     /**< n_caps rounded up to a cache line of uint32_t */
	uint32_t target_stride;  /**< n_targets, likewise */
	/** [w * rule_stride + rule]: flows worker w admitted under the rule;
	 *  NULL: no rule */
	uint64_t *rule_flows;
	/** [w * cap_stride + cap_id]: its flows under each maxConnections cap;
	 *  NULL: no cap */
	uint32_t *cap_count;
	/** [w * target_stride + t]: its flows per NAT target (LEAST_CONN);
	 *  NULL: no target */
	uint32_t *target_active;
	/** [w * traffic_stride + rule]: what worker w forwarded on the rule's
	 *  flows; NULL: no rule */
	struct dp_rule_traffic *rule_traffic;
	/** [w * rule_stride + rule]: near misses worker w denied
	 *  (policy_near_miss()); NULL: no rule */
	uint64_t *rule_near_miss;
	/** [rule]: what the same rule counted under earlier generations
	 *  (lib/ctl's alone); NULL: no rule */
	struct dp_rule_counts *rule_carried;
};

struct dp_conf {
	struct dp_port_conf port[DP_NPORTS];
	uint32_t nat_addrs[EGRESS_MAX_NAT_ADDRS]; /**< network order */
	uint32_t n_nat_addrs;
	uint16_t nat_port_lo, nat_port_hi; /**< host order */
	bool nat_preserve;
	/** Ports the NAT never binds: the exception paths' listed ports inside
	 *  nat.ports on a port's own address when it is a NAT address (nat.h) */
	struct nat_hole nat_holes[NAT_MAX_HOLES];
	uint32_t n_nat_holes;
	uint64_t timeout_ms[FLOW_S_MAX]; /**< idle timeout per TCP state */
	uint64_t udp_timeout_ms;
	uint64_t sweep_period_ms; /**< DP_SWEEP_PERIOD_MS; tests shorten it */
	enum egress_deny deny;
	enum egress_revoke on_revoke;
	/** flows.no_flow: reset answers an inside TCP segment without a flow
	 *  that opens none (dp_not_syn()) */
	enum egress_no_flow no_flow;
	uint16_t mss_clamp;     /**< 0: off */
	bool tcp_liberal;       /**< skip sequence-window checks */
	uint32_t embryonic_max; /**< per worker */
	uint32_t source_max;    /**< flows per client, per worker; 0: no cap */
	uint32_t source_rate;   /**< new flows/s per client, per worker; 0: none */
	unsigned int n_workers;
	/** poll.idle: backoff or interrupt: the longest sleep (wait) of an idle
	 *  worker (dp_idle_sleep_us(), dp_idle_wait_ms()); 0: busy polling, the
	 *  worker never sleeps */
	uint32_t idle_sleep_max_us;
	/** poll.idle: interrupt: an idle worker whose queues have RX interrupts
	 *  (dp_worker_irq_setup()) waits for one rather than sleep */
	bool idle_interrupt;
	/** The outside port's RSS (nat_rss.h): who owns a reply is decided by
	 *  its hash; NULL: by port share. Set before the workers are created;
	 *  the creator's to free. */
	struct nat_rss *rss;
	/** egressctl drain (doc/scale-out.md): 1 once the control thread
	 *  started draining, never back to 0. Workers then refuse new flows
	 *  (dropped, counted "draining": the client's SYN retry finds another
	 *  appliance once the router withdrew this one) and withhold the
	 *  inside port's exception path ("draining_control"), which takes the
	 *  router's BGP and BFD session down. Written by the control thread,
	 *  read relaxed by the workers. */
	uint32_t draining;
	struct policy *policy;                    /**< RCU-published; see dp_policy() */
	struct dp_counters *counters[2];          /**< [g & 1]: the counters of the policy
						       of generation g; see dp_counters() */
	struct rte_ring *events;                  /**< worker -> control */
	struct rte_ring *tx[DP_NPORTS];           /**< control -> worker 0 */
	struct dp_exception exc[DP_NPORTS];       /**< control-plane exception paths */
	struct rte_ring *handoff[DP_MAX_WORKERS]; /**< any worker -> owner: outside
						       frames of flows it owns (MP/SC);
						       NULL with one worker */
	uint32_t flowlog_ring_size;               /**< records per worker's flow-log ring;
						       0: flow logs off */
	uint32_t flowlog_deny_rate;               /**< deny records per second per worker
						       (flowlog.denied_per_second / workers,
						       rounded up); 0: none */
	struct rte_ring *flowlog[DP_MAX_WORKERS]; /**< worker w -> the flow-log writer
						       (SP/SC, struct dp_flowlog_rec);
						       dp_worker_create() makes it */
	uint32_t sync_ring_size;                  /**< records per worker's session-sync
						       ring; 0: session sync off */
	struct rte_ring *sync[DP_MAX_WORKERS];    /**< worker w -> the sync thread (SP/SC,
						       struct dp_sync_rec); dp_worker_create() */
	struct rte_ring *sync_in[DP_MAX_WORKERS]; /**< the sync thread -> worker w: the
						       peer's flows to install (SP/SC,
						       struct dp_sync_rec); dp_worker_create() */
	/** sync.peer_addresses: the peer's NAT addresses, owned once
	 *  sync_takeover is set (network order) */
	uint32_t sync_peer_addrs[EGRESS_MAX_NAT_ADDRS];
	uint32_t n_sync_peer_addrs;
	/** 0, then 1 once the peer was declared dead (lib/ctl/sync.c, atomic
	 *  store): the workers answer ARP for and accept replies to
	 *  sync_peer_addrs */
	uint32_t sync_takeover;
};

/*
 * Session sync (doc/session-sync.md). A worker hands a record of each flow
 * it creates, each state change that matters (established, closing,
 * closed) and each deletion to the sync thread (lib/ctl/sync.c) through
 * its own SP/SC ring, as the flow log does: no lock, no syscall; a full
 * ring loses the record and counts it (sync_records_lost). The record is
 * also the wire format: 32 bytes, addresses and ports in network order.
 */
enum dp_sync_type {
	DP_SYNC_CREATE = 1, /**< a flow was admitted */
	DP_SYNC_STATE,      /**< its TCP state (or UDP's established) changed */
	DP_SYNC_DELETE,     /**< it left the table */
	DP_SYNC_TYPE_MAX,
};

struct dp_sync_rec {
	uint8_t type;      /**< enum dp_sync_type */
	uint8_t proto;     /**< IPPROTO_TCP, IPPROTO_UDP */
	uint8_t state;     /**< enum flow_state after the event */
	uint8_t wscale;    /**< TCP window scale + 1 per direction: low nibble
				  the client's, high the server's; 0: none */
	uint32_t src, dst; /**< the client's 5-tuple (flow key[FLOW_DIR_OUT]) */
	uint16_t sport, dport;
	uint32_t remote;   /**< replies' source: dst after DNAT (key[FLOW_DIR_IN].src_ip) */
	uint32_t nat_addr; /**< the NAT address (key[FLOW_DIR_IN].dst_ip) */
	uint16_t rport;    /**< replies' source port */
	uint16_t nat_port; /**< the NAT port */
	uint32_t reserved; /**< zero */
};
static_assert(sizeof(struct dp_sync_rec) == 32, "a sync record is 32 bytes on the ring and wire");

/**
 * Is r a record a worker could have made? Type, protocol and state in
 * range, addresses and ports non-zero, reserved bits zero. Any thread: the
 * receiver's check of what the network brought.
 */
bool dp_sync_rec_valid(const struct dp_sync_rec *r);

/** r's flow keys: the client's 5-tuple and the replies', pad bytes zero. */
void dp_sync_rec_keys(const struct dp_sync_rec *r, struct flow_key *out, struct flow_key *in);

/** The worker that owns r's flow on this appliance (its reply's owner). */
unsigned int dp_sync_worker(const struct dp_conf *conf, const struct dp_sync_rec *r);

/**
 * Install the peer's flows the sync thread queued for worker w
 * (conf->sync_in[w]), at most a burst: each as an established flow with the
 * record's NAT binding, its TCP windows learnt afresh from the next
 * segments, judged by the policy in force on its next packet. A flow whose
 * 5-tuple or NAT binding is taken, or a full table, is counted
 * (sync_install_failed). Worker lcore (dp_worker_main() calls it each
 * loop while sync is on; a test calls it directly).
 * @return flows installed.
 */
unsigned int dp_sync_apply(struct dp_worker *w, uint64_t now_ms);
#define DP_SYNC_IN_RING 4096 /**< records of the peer's flows queued per worker */

/*
 * The flow log (doc/operations.md "Flow logs"). A worker hands each record
 * to the control side's writer (lib/ctl/flowlog.c) through its own SP/SC
 * ring of 64-byte elements: no lock, no syscall; a full ring loses the
 * record and counts it (dp_stats.flowlog_dropped).
 */
enum dp_flowlog_event {
	DP_FL_ADMIT = 1, /**< a flow admitted (u.admit) */
	DP_FL_DENY,      /**< a new flow denied (u.deny) */
	DP_FL_END,       /**< an admitted flow ended (u.end) */
};

/** Why an admitted flow ended: the end record's end_reason. */
/* clang-format off: one row per entry, aligned by hand */
#define DP_END_REASONS(X)                                                                          \
	X(FIN, "fin")           /* both FINs seen (TIME_WAIT), then aged out or reopened */        \
	X(RST, "rst")           /* a RST closed it */                                              \
	X(TIMEOUT, "timeout")   /* idle past its state's timeout */                                \
	X(REVOKED, "revoked")   /* a published policy no longer allows it */                       \
	X(EVICTED, "evicted")   /* ended for a new flow (embryonic cap) */                         \
	X(SHUTDOWN, "shutdown") /* still open when egressd stopped */
/* clang-format on */
enum dp_end_reason {
#define DP_END_ENUM(name, str) DP_END_##name,
	DP_END_REASONS(DP_END_ENUM)
#undef DP_END_ENUM
	DP_END_MAX,
	DP_END_BY_STATE = DP_END_MAX, /**< dp_flow_remove(): fin, rst or timeout by its state */
};

/** The end reason's name in the flow log; "invalid" out of range. */
const char *dp_end_reason_name(unsigned int why);

#define DP_FLOWLOG_SNI_INLINE 24  /**< SNI bytes in the admit record itself */
#define DP_FLOWLOG_SNI_MAX    255 /**< longest SNI logged (a DNS name is at most 253) */

/**
 * One flow-log record, one ring element. Addresses and ports in network
 * order; time_ms is the worker's ms clock (TSC, dp_worker_main()), which
 * the writer turns into wall time. The rule is named by index in the
 * policy of generation gen (its low 24 bits; the writer keeps the names of
 * the generations it saw). An admit whose SNI is longer than
 * DP_FLOWLOG_SNI_INLINE is followed by dp_flowlog_sni_extra() elements
 * of 64 bytes of it each (no header), enqueued together with it (all or
 * none), so the writer finds them in the ring right behind it.
 */
struct dp_flowlog_rec {
	uint64_t time_ms : 40; /**< admit, end: the flow's creation; deny: now */
	uint64_t gen : 24;     /**< policy generation (low 24 bits) */
	uint32_t src, dst;     /**< the client's 5-tuple */
	uint32_t nat_src;      /**< admit, end: NAT address */
	uint32_t rule;         /**< admit, end: rule index; POLICY_NO_RULE: none */
	uint16_t sport, dport;
	uint16_t nat_sport;
	uint8_t event; /**< enum dp_flowlog_event */
	uint8_t proto; /**< IPPROTO_TCP, IPPROTO_UDP */
	union {
		struct {
			uint64_t bytes[2];   /**< [enum flow_dir]: L3 bytes forwarded */
			uint32_t packets[2]; /**< [enum flow_dir]: frames forwarded */
			uint32_t duration_ms;
			uint8_t reason; /**< enum dp_end_reason */
		} end;
		struct {
			uint32_t nat_dst; /**< where the flow goes (after DNAT) */
			uint16_t nat_dport;
			uint8_t sni_len; /**< 0: none */
			uint8_t pad;
			char sni[DP_FLOWLOG_SNI_INLINE]; /**< its first bytes, no NUL */
		} admit;
		struct {
			uint32_t suppressed; /**< deny records skipped just before it */
			uint8_t reason;      /**< enum egress_drop */
		} deny;
	} u;
};
static_assert(sizeof(struct dp_flowlog_rec) == 64, "a flow-log record is one cache line");

/** Ring elements of SNI that follow an admit record of sni_len bytes. */
static inline unsigned int
dp_flowlog_sni_extra(unsigned int sni_len)
{
	return sni_len <= DP_FLOWLOG_SNI_INLINE ?
		       0 :
		       (sni_len - DP_FLOWLOG_SNI_INLINE + sizeof(struct dp_flowlog_rec) - 1) /
			       sizeof(struct dp_flowlog_rec);
}

struct dp_port_stats {
	uint64_t rx;       /**< frames received */
	uint64_t tx;       /**< frames sent */
	uint64_t rx_bytes; /**< their lengths as received (FCS excluded), per burst */
	uint64_t tx_bytes; /**< as sent */
	uint64_t dropped;  /**< frames received here and dropped, or not sent */
};

/*
 * A worker's event counters, in the order /egress/stats and the final JSON
 * list them (lib/ctl: summed over the workers, each under its own name).
 */
/* clang-format off: one row per entry, aligned by hand */
#define DP_EVENT_COUNTERS(X)                                                                       \
	X(flows_created)                                                                           \
	X(flows_expired)                                                                           \
	X(flows_revoked)                                                                           \
	X(flows_rechecked)   /* re-checked after a publish and kept */                             \
	X(embryonic_evicted) /* oldest embryonic flows ended for new SYNs */                       \
	X(handed_off)        /* outside frames passed to their flow's owner */                     \
	X(arp_replies)                                                                             \
	X(echo_replies)                                                                            \
	X(rst_sent)                                                                                \
	X(icmp_sent)              /* ICMP errors generated */                                      \
	X(icmp_translated)        /* ICMP errors of NATed flows sent on */                         \
	X(denied_no_address)      /* new flows denied to an address no rule lists */               \
	X(nat_spilled)            /* flows bound on another NAT address than the client's */       \
	X(exception_queued)       /* frames for the host's TAP handed to the control thread */     \
	X(idle_sleeps)            /* times an idle worker slept or waited (poll.idle) */           \
	X(idle_wakeups_interrupt) /* waits an RX interrupt ended (poll.idle: interrupt) */         \
	X(idle_wakeups_timeout)   /* waits that ran to their timeout */                            \
	X(sync_records_lost)      /* session-sync records lost to a full ring */                   \
	X(sync_flows_installed)   /* the peer's flows installed at takeover */                     \
	X(sync_install_failed)    /* the peer's flows that could not be installed */
/* clang-format on */

struct dp_stats {
	struct dp_port_stats port[DP_NPORTS];
	uint64_t drops[EGRESS_DROP_MAX];
#define DP_COUNTER_FIELD(name) uint64_t name;
	DP_EVENT_COUNTERS(DP_COUNTER_FIELD)
#undef DP_COUNTER_FIELD
	uint64_t busy_cycles; /**< TSC spent in dp_process() */
	uint64_t busy_pkts;   /**< frames those cycles were spent on */
	uint64_t loop_cycles; /**< TSC of the whole poll loop, idle polls
				        included (wall time of the worker) */
	uint64_t loops;
	uint64_t flowlog_dropped;    /**< flow-log records lost to a full ring */
	uint64_t flowlog_suppressed; /**< deny records over flowlog.denied_per_second */
};

/**
 * A worker: one lcore's flow table, NAT share, limits and counters. Opaque
 * outside lib/dp: built by dp_worker_create(), read through the accessors
 * below (lib/dp/dp_private.h has its fields, for the data path and the
 * white-box tests).
 */
struct dp_worker;

/** Frames to send, per port, filled by dp_process(). */
struct dp_out {
	uint16_t n[DP_NPORTS];
	struct rte_mbuf *pkts[DP_NPORTS][DP_OUT_MAX];
};

/** The current policy (acquire load); workers call it once per burst. */
static inline const struct policy *
dp_policy(const struct dp_conf *conf)
{
	return __atomic_load_n(&conf->policy, __ATOMIC_ACQUIRE);
}

/**
 * The counters of the policy of generation gen, which the caller holds
 * (dp_policy()); NULL when it has none (a policy a test set by hand). The
 * control thread stores them before the release store that publishes the
 * policy, and replaces them two generations later, after the grace period
 * that ends every hold of it: the acquire load of the policy made them
 * visible, and while it is held they stay. Workers call it once per burst,
 * and once per flow ended or re-checked outside a burst.
 */
static inline struct dp_counters *
dp_counters(const struct dp_conf *conf, uint32_t gen)
{
	struct dp_counters *c = __atomic_load_n(&conf->counters[gen & 1], __ATOMIC_RELAXED);

	return c != NULL && c->generation == gen ? c : NULL;
}

/**
 * Process up to DP_BURST_MAX frames received on port `in` at time now_ms.
 * Frames to send are appended to out (which the caller zeroes before and
 * transmits after); dropped frames are freed and counted in w->stats.
 * Worker lcore (or a test), no locks.
 * @return the number of frames appended to out.
 */
uint16_t dp_process(struct dp_worker *w, enum dp_port in, struct rte_mbuf **pkts, uint16_t n,
		    uint64_t now_ms, struct dp_out *out);

/**
 * Age flows: examine at most budget flow slots from the sweep cursor and
 * delete those idle past their state's timeout, and those a policy published
 * since they were admitted no longer allows (revoked: with on_revoke: reset,
 * RSTs toward both ends are appended to out, which may be NULL). Bounded
 * work, never a pause. @return the number of flows deleted.
 */
unsigned int dp_expire(struct dp_worker *w, uint64_t now_ms, unsigned int budget,
		       struct dp_out *out);

/**
 * The background aging of the poll loop: dp_expire() over a share of the
 * table that follows its size, so that the sweep goes round all of it once
 * per conf->sweep_period_ms (at most DP_SWEEP_LOOP_MAX slots per call, and
 * what a slow loop misses is made up over the next calls, up to one round).
 * Worker lcore. @return the number of flows deleted.
 */
unsigned int dp_sweep(struct dp_worker *w, uint64_t now_ms, struct dp_out *out);

/**
 * Flow logs at shutdown: an end record (end_reason "shutdown") for each
 * flow still open, from flow index *cursor on, as long as the worker's
 * flow-log ring has room for one more flow's records; *cursor is where to
 * go on. Control thread, once the worker stopped (dp_worker_stop()), the
 * ring's reader between calls (lib/ctl/flowlog.c).
 * @return true when every flow was done, false when the ring needs draining.
 */
bool dp_flowlog_close(struct dp_worker *w, uint64_t now_ms, uint32_t *cursor);
#define DP_SWEEP_LOOP_MAX 1024

/**
 * The TCP tracker's transition (doc/tcp-states.md): the state a flow in
 * `state` moves to on a segment with `tcp_flags` travelling in `dir`.
 */
uint8_t dp_tcp_next(uint8_t state, uint8_t dir, uint8_t tcp_flags);

/** Idle timeout of a flow in its current state. */
uint64_t dp_flow_timeout(const struct dp_conf *conf, const struct flow *f);

/**
 * The worker's poll loop: RX on every port's queue w->id, dp_process, TX,
 * control frames (worker 0), aging, RCU quiescent state once per loop; with
 * conf->idle_sleep_max_us, an idle worker sleeps (dp_idle_sleep_us()) or,
 * after dp_worker_irq_setup(), waits for an RX interrupt (dp_idle_wait_ms()),
 * off line for its QSBR readers while it does.
 * Runs until w->quit. lcore entry point: arg is the struct dp_worker.
 */
int dp_worker_main(void *arg);

#define DP_IDLE_SPIN_US      200 /**< polled on after the last frame before the first sleep */
#define DP_IDLE_SLEEP_MIN_US 8   /**< the first sleep; each next one doubles */

/**
 * poll.idle: backoff: how long a worker sleeps when it has had nothing to do
 * (no frame on any queue, its hand-off ring or, worker 0, the control
 * thread's rings) for idle_us microseconds, having slept `sleeps` times
 * since. None for the first DP_IDLE_SPIN_US, so that a conversation (a
 * request, its reply some tens of us later) never waits for a sleep; then
 * DP_IDLE_SLEEP_MIN_US, doubling with each sleep, up to max_us. By time, not
 * by empty polls: an empty poll costs tens of ns on a NIC, far more on
 * net_af_packet. Pure: the loop's schedule, unit-tested.
 * @return microseconds, 0: poll on.
 */
uint32_t dp_idle_sleep_us(uint64_t idle_us, uint32_t sleeps, uint32_t max_us);

/**
 * poll.idle: interrupt: the timeout of a wait for an RX interrupt, max_us
 * rounded up to whole milliseconds (epoll's unit), at least 1: the worker
 * still wakes that often for what raises no interrupt (its hand-off ring,
 * the control thread's frames, the sweep) and for the systemd watchdog's
 * progress check (dp_stats.loops).
 */
uint32_t dp_idle_wait_ms(uint32_t max_us);

/**
 * poll.idle: interrupt: register the RX queue w->id of every port with the
 * calling thread's epoll instance (rte_eth_dev_rx_intr_ctl_q(...,
 * RTE_EPOLL_PER_THREAD, RTE_INTR_EVENT_ADD, ...)), so that the idle worker
 * waits for its frames rather than sleeps. Must run on the worker's own
 * lcore (the epoll instance is per thread: rte_eal_remote_launch() it there
 * before dp_worker_main()), with conf->idle_interrupt and every port's
 * rx_intr. On failure nothing stays registered and the worker backs off.
 * @return 0; -errno of the port *bad (-ENOTSUP, -EPERM: the device gives
 *   that queue no interrupt, ...).
 */
int dp_worker_irq_setup(struct dp_worker *w, enum dp_port *bad);

/** The worker waits for RX interrupts when idle (dp_worker_irq_setup() succeeded). */
bool dp_worker_irq(const struct dp_worker *w);

/**
 * Make frames ready for the port's TX queue, as the poll loop does before
 * every rte_eth_tx_burst(): the port's VLAN tag pushed (by the NIC or here),
 * checksums left to the NIC where the port offloads them (the IPv4 header's
 * zeroed, TCP/UDP's set to the pseudo-header sum, ol_flags and l2/l3_len
 * set). Frames arrive untagged, IPv4 headers with valid checksums.
 * @return how many frames are left at the front of pkts; a frame that
 *   could not be tagged (no headroom: never with egressd's own mbufs) is
 *   freed and counted under EGRESS_DROP_VLAN_INSERT by the caller:
 *   n - return value of them.
 */
uint16_t dp_tx_prepare(const struct dp_port_conf *pc, struct rte_mbuf **pkts, uint16_t n);

/**
 * Pad a frame shorter than Ethernet's minimum (60 bytes before the FCS)
 * with zeros, as the data path pads what it sends (not every PMD pads in
 * hardware): for frames others hand to a worker's TX (conf->tx[]). Any thread.
 */
void dp_pad_runt(struct rte_mbuf *m);

/**
 * The symmetric Toeplitz key, len bytes: 0x6d5a repeated. With it the RSS
 * hash of (a, b, pa, pb) equals that of (b, a, pb, pa), so both directions
 * of a 5-tuple land on one queue (Woo and Park, "Scalable TCP Session
 * Monitoring with Symmetric Receive-side Scaling", 2012).
 */
void dp_rss_symmetric_key(uint8_t *key, size_t len);

/* ------------------------------------------------- life cycle (worker.c) */

/** What dp_worker_create() builds a worker from. */
struct dp_worker_params {
	unsigned int id;           /**< 0 .. conf->n_workers - 1 */
	unsigned int lcore;        /**< the lcore it will run on (informative) */
	struct dp_conf *conf;      /**< filled in (ctl_dp_conf(), lib/ctl); the worker's
				       hand-off ring goes to conf->handoff[id] */
	struct rte_mempool *pool;  /**< for the frames the worker generates */
	struct rte_rcu_qsbr *qsbr; /**< flow readers' QSBR variable (dp_qsbr_create());
				       the worker registers as reader `id` */
	uint32_t max_flows;        /**< its flow table's capacity */
	int socket_id;             /**< NUMA socket of every allocation */
};

/**
 * A QSBR variable for n_readers flow readers: the workers (ids 0 ..
 * n_workers - 1) and any other thread that reads flow tables.
 * @return it, or NULL with rte_errno set (EINVAL, ENOMEM). Control.
 */
struct rte_rcu_qsbr *dp_qsbr_create(unsigned int n_readers, int socket_id);

/** Free a dp_qsbr_create() variable; NULL-tolerant. */
void dp_qsbr_free(struct rte_rcu_qsbr *v);

/**
 * Build a worker exactly as the daemon runs it: its flow table (reclaimed
 * through p->qsbr), embryonic FIFO, per-source table (when conf has
 * per-source caps), its share of the NAT ports and, with several workers,
 * its hand-off ring. Control thread, before the worker runs.
 * @return the worker, or NULL with rte_errno set: EINVAL (bad parameters),
 *         ERANGE (fewer NAT ports than workers), ENOMEM.
 */
struct dp_worker *dp_worker_create(const struct dp_worker_params *p);

/**
 * Free a worker and what it owns (its hand-off ring, draining it);
 * NULL-tolerant. The worker must have stopped and be offline.
 */
void dp_worker_free(struct dp_worker *w);

/** The worker's lcore starts (online) or stops (offline) reading flows. */
void dp_worker_online(struct dp_worker *w);
void dp_worker_offline(struct dp_worker *w);

/**
 * Between two poll-loop iterations, on the worker's lcore: nothing of the
 * bursts before is held any more. The flows they deleted start their grace
 * period; this reader reports its quiescent state. A test driving
 * dp_process() by hand calls it where the daemon's loop would.
 */
void dp_worker_quiesce(struct dp_worker *w);

/** Memory one worker holds for flows: its flow table and aux_bytes. Any thread. */
uint64_t dp_flow_memory(const struct dp_worker *w);

/**
 * The worker's counters, written by its lcore only; other threads read them
 * racily (naturally aligned 64-bit words), as ctl_stats_sum() does.
 */
const struct dp_stats *dp_worker_stats(const struct dp_worker *w);

/** Its NAT ports in use per destination (nat_dests.h), for racy readers. */
const struct nat_dests *dp_worker_nat_dests(const struct dp_worker *w);

/** Its flow table, for readers registered with the workers' QSBR (telemetry). */
const struct flow_table *dp_worker_flows(const struct dp_worker *w);

/** The lcore it runs on (dp_worker_params.lcore). */
unsigned int dp_worker_lcore(const struct dp_worker *w);

/** When any of its RX queues last had a frame (ms of the TSC clock). Any thread. */
uint64_t dp_worker_last_rx_ms(const struct dp_worker *w);

/** Ask its poll loop to return (dp_worker_main()). Any thread. */
void dp_worker_stop(struct dp_worker *w);

#endif
