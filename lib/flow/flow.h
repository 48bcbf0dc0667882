/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flow table: one per worker. Each flow is stored once, in a preallocated
 * array, and indexed twice in an rte_hash created for lock-free concurrent
 * readers: under its inside key (the 5-tuple the client sent) and under its
 * outside key (the 5-tuple replies carry: remote -> NAT address). The hash
 * value carries the flow index and which of the two keys matched.
 *
 * Concurrency contract:
 *   - one writer per table: the worker that owns it (add, del, expire);
 *   - any thread registered with the table's QSBR variable may look up;
 *   - a deleted flow's slot and its keys are reused only after every reader
 *     has reported a quiescent state (rte_hash's RCU defer queue calls back
 *     into the table once the grace period of the *outside* key has passed;
 *     that key is deleted last, so the grace period covers both keys).
 *   - other threads (telemetry) may read struct flow fields racily for
 *     display; every field they read is naturally aligned.
 */
#ifndef EGRESS_FLOW_H
#define EGRESS_FLOW_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

struct rte_rcu_qsbr;

/** A 5-tuple as on the wire: network byte order, no padding bytes left undefined. */
struct flow_key {
	uint32_t src_ip;
	uint32_t dst_ip;
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t proto;
	uint8_t pad[3];          /**< always zero */
};
static_assert(sizeof(struct flow_key) == 16, "flow_key must be 16 bytes, no padding");

enum flow_dir {
	FLOW_DIR_OUT = 0,        /**< inside -> outside: matched the client's 5-tuple */
	FLOW_DIR_IN = 1,         /**< outside -> inside: matched a reply's 5-tuple */
};

/** TCP tracking state (see doc/tcp-states.md); UDP flows use NONE/ESTABLISHED. */
enum flow_state {
	FLOW_S_NONE = 0,
	FLOW_S_SYN_SENT,         /**< client SYN seen */
	FLOW_S_SYN_RCVD,         /**< server SYN-ACK seen */
	FLOW_S_ESTABLISHED,      /**< client ACK of the SYN-ACK seen */
	FLOW_S_FIN_OUT,          /**< the client sent FIN */
	FLOW_S_FIN_IN,           /**< the server sent FIN */
	FLOW_S_TIME_WAIT,        /**< both sides sent FIN */
	FLOW_S_CLOSED,           /**< RST seen: lingers (RFC 7857 2.2) */
	FLOW_S_MAX
};

/** One flow; 128 bytes, two cache lines, the first holding what every packet needs. */
struct flow {
	struct flow_key key[2];  /**< [FLOW_DIR_OUT]: as the client sent it;
				      [FLOW_DIR_IN]: as replies arrive (remote -> NAT) */
	uint64_t last_seen;      /**< ms, time of the last packet that refreshed it */
	uint16_t target;         /**< index of its NAT target within the rule's */
	uint8_t pad2[4];
	uint8_t state;           /**< enum flow_state */
	uint8_t worker;          /**< owner worker id */
	uint32_t policy_gen;     /**< generation of the policy that admitted it */
	uint32_t rule;           /**< index of the admitting rule in that policy */
	uint32_t idx;            /**< own index in the table */
	uint8_t in_use;          /**< slot holds a live flow */
	uint8_t embryonic;       /**< counted as not yet established */
	uint8_t quarantine;      /**< ended; kept only to hold its NAT port */
	uint8_t pad0;
	/* second cache line: TCP window tracking, per direction (the sender) */
	struct {
		uint32_t end;    /**< highest seq+len this direction sent */
		uint32_t maxend; /**< highest ack+window the other side allowed it */
		uint32_t maxwin; /**< largest (scaled) window this direction advertised */
		uint8_t wscale;  /**< its SYN's window scale + 1; 0: none */
		uint8_t seen;    /**< a segment of this direction was seen */
		uint8_t acked;   /**< maxend is known */
		uint8_t pad;
	} tcp[2];
	uint32_t serial;         /**< per-worker creation number (embryonic FIFO) */
	uint8_t pad1[28];
};
static_assert(sizeof(struct flow) == 128, "struct flow is designed for 128 bytes");

/** Longest flow table name (rte_hash derives ring names from it). */
#define FLOW_TABLE_NAME_MAX 19

struct flow_table_params {
	const char *name;        /**< unique name (rte_hash needs one), at most
				      FLOW_TABLE_NAME_MAX characters */
	uint32_t max_flows;      /**< capacity; each flow uses two hash keys */
	int socket_id;           /**< NUMA socket for every allocation */
	struct rte_rcu_qsbr *qsbr; /**< readers' QSBR variable, may be NULL when the
				      owner is the only reader */
};

struct flow_table;

/** @return the table, or NULL with rte_errno set (EINVAL, ENOMEM, EEXIST). */
struct flow_table *flow_table_create(const struct flow_table_params *p);

/**
 * Free the table; NULL-tolerant. No reader may use it any more. Deleted keys
 * whose grace period is not over yet (a registered reader still online and
 * not quiescent since) cannot be reclaimed: rte_hash then leaks its defer
 * queue, so take readers offline (or let them report) first.
 */
void flow_table_free(struct flow_table *ft);

/**
 * Look up n keys (n <= 64). For each i, flows[i] is the flow or NULL and
 * dirs[i] which of its keys matched. Any registered reader.
 * @return the number of hits.
 */
unsigned flow_table_lookup_bulk(const struct flow_table *ft, const struct flow_key **keys,
				unsigned n, struct flow **flows, uint8_t *dirs);

/** Single lookup; NULL when absent. Any registered reader. */
struct flow *flow_table_lookup(const struct flow_table *ft, const struct flow_key *key,
			       uint8_t *dir);

/** True when key is present (any direction). Any registered reader. */
bool flow_table_contains(const struct flow_table *ft, const struct flow_key *key);

/**
 * Insert a flow under both keys; the returned flow has key[], idx, in_use set
 * and every other field zero. Owner only. When every slot is in use or
 * waiting for its grace period, it first makes rte_hash reclaim the slots
 * whose grace period is over.
 * @return the flow, or NULL with *err = -ENOSPC (table or hash full),
 *         -EEXIST (either key present, or both keys equal) or -EINVAL (a
 *         key's pad bytes are not zero).
 */
struct flow *flow_table_add(struct flow_table *ft, const struct flow_key *out_key,
			    const struct flow_key *in_key, int *err);

/** Remove a flow (both keys); its slot is reused after the grace period. Owner only. */
void flow_table_del(struct flow_table *ft, struct flow *f);

/** Flow by index (for sweeps and telemetry); NULL when out of range. */
struct flow *flow_table_at(const struct flow_table *ft, uint32_t idx);

/** Capacity (max_flows). */
uint32_t flow_table_capacity(const struct flow_table *ft);

/** Flows currently in the table (not yet deleted). */
uint32_t flow_table_count(const struct flow_table *ft);

/** Bytes of memory the table holds per flow of capacity (hash + keys + entries). */
uint64_t flow_table_memory(const struct flow_table *ft);

#endif
