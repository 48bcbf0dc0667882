/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flow table: one per worker. Each flow is stored once, in preallocated
 * arrays, and indexed twice in a chained hash of 4-byte bucket heads: under
 * its inside key (the 5-tuple the client sent) and under its outside key
 * (the 5-tuple replies carry: remote -> NAT address). Every link names a
 * flow and which of its two keys it chains (index << 1 | direction), so the
 * chains run through the flows themselves and the index costs 4 bytes per
 * bucket and nothing per key. doc/flow-table.md has the layout, the memory
 * per flow and the benchmark against rte_hash that chose it.
 *
 * Concurrency contract:
 *   - one writer per table: the worker that owns it (add, del, sync);
 *   - any thread registered with the table's QSBR variable may look up
 *     (links are published with release stores, read with acquire loads);
 *   - a deleted flow leaves the chains at once, but its slot is reused only
 *     after every reader has reported a quiescent state since the owner's
 *     next flow_table_sync() (which the owner calls once per poll loop: one
 *     QSBR token for every flow deleted in that iteration);
 *   - other threads (telemetry) may read struct flow fields racily for
 *     display; every field they read is naturally aligned.
 */
#ifndef EGRESS_FLOW_H
#define EGRESS_FLOW_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "flow_key.h"

struct rte_rcu_qsbr;

enum flow_dir {
	FLOW_DIR_OUT = 0, /**< inside -> outside: matched the client's 5-tuple */
	FLOW_DIR_IN = 1,  /**< outside -> inside: matched a reply's 5-tuple */
};

/** One flow: one cache line, everything a packet needs but the owner's extension. */
struct flow {
	struct flow_key key[2]; /**< [FLOW_DIR_OUT]: as the client sent it;
				      [FLOW_DIR_IN]: as replies arrive (remote -> NAT) */
	uint32_t next[2];       /**< table-private: chain link of each key */
	uint32_t last_seen;     /**< ms, low 32 bits of the clock (flow_age()) */
	uint32_t policy_gen;    /**< generation of the policy that admitted it */
	uint32_t rule;          /**< index of the admitting rule in that policy */
	uint32_t serial;        /**< per-worker creation number (embryonic FIFO) */
	uint16_t target;        /**< index of its NAT target within the rule's */
	uint8_t state;          /**< the owner's (lib/dp: enum flow_state) */
	uint8_t worker;         /**< owner worker id */
	uint8_t in_use;         /**< slot holds a live flow */
	uint8_t embryonic;      /**< counted as not yet established */
	uint8_t quarantine;     /**< ended; kept only to hold its NAT port */
	uint8_t nat_counted;    /**< counted in the owner's NAT destinations
				      (lib/dp, nat_dests.h); 0: untracked */
};
static_assert(sizeof(struct flow) == 64, "struct flow is designed for one cache line");

/**
 * Bytes of state the owner keeps beside each flow, in a parallel array (the
 * data path's TCP tracking, and with flow logs its per-flow counters): zero
 * when the flow is added, opaque to the table. Chosen per table
 * (flow_table_params.ext_size): FLOW_EXT_MIN, half a cache line, or
 * FLOW_EXT_MAX, one. The array is cache aligned, so an extension never
 * straddles two lines.
 */
#define FLOW_EXT_MIN 32
#define FLOW_EXT_MAX 64

/** ms since the flow's last refresh, now being the full ms clock (wraps safely). */
static inline uint32_t
flow_age(const struct flow *f, uint64_t now_ms)
{
	return (uint32_t)now_ms - f->last_seen;
}

struct flow_table_params {
	uint32_t max_flows;        /**< capacity, at most FLOW_TABLE_MAX */
	int socket_id;             /**< NUMA socket for every allocation */
	struct rte_rcu_qsbr *qsbr; /**< readers' QSBR variable, may be NULL when the
				      owner is the only reader */
	uint32_t ext_size;         /**< bytes beside each flow: FLOW_EXT_MIN or
				      FLOW_EXT_MAX; 0: FLOW_EXT_MIN */
};

/** Largest capacity: 2^26 flows (a link holds index << 1 | direction, and a null). */
#define FLOW_TABLE_MAX (UINT32_C(1) << 26)

/**
 * The table. Its layout is public for the inline accessors below only:
 * use the functions.
 */
struct flow_table {
	struct flow *flows; /**< max_flows entries, cache aligned */
	uint8_t *ext;       /**< max_flows extensions, parallel to flows */
	uint32_t ext_shift; /**< log2 of an extension's size */
	uint32_t *heads;    /**< n_heads bucket heads (links) */
	uint32_t head_mask; /**< n_heads - 1 */
	uint32_t seed;      /**< hash seed, random per table */
	uint32_t max_flows;
	uint32_t count;     /**< live flows (telemetry reads it) */
	uint32_t free_head; /**< freed slots, chained through next[0] */
	uint32_t fresh;     /**< slots from here on were never used */
	uint32_t n_free;    /**< freed slots and never used ones */
	uint32_t deletions; /**< flows deleted so far (wraps); owner only */
	/* deleted flows waiting for their grace period: a FIFO of slot indices
	 * cut into batches, each closed by flow_table_sync() with one token */
	uint32_t *limbo; /**< limbo_mask + 1 slot indices */
	uint32_t limbo_mask;
	uint32_t limbo_head;             /**< oldest waiting */
	uint32_t limbo_open;             /**< first one not in a closed batch yet */
	uint32_t limbo_tail;             /**< next free position */
	uint32_t batch_head, batch_tail; /**< closed batches, FIFO */
	struct {
		uint64_t token; /**< QSBR token taken when the batch closed */
		uint32_t end;   /**< limbo position after its last slot */
	} batch[64];
	struct rte_rcu_qsbr *qsbr;
	uint64_t mem_bytes; /**< heap bytes the table holds, all parts */
};

/** @return the table, or NULL with rte_errno set (EINVAL, ENOMEM, EEXIST). */
struct flow_table *flow_table_create(const struct flow_table_params *p);

/** Free the table; NULL-tolerant. No reader may use it any more. */
void flow_table_free(struct flow_table *ft);

/**
 * Look up n keys (any n). For each i, flows[i] is the flow or NULL and
 * dirs[i] which of its keys matched. Any registered reader.
 * @return the number of hits.
 */
unsigned flow_table_lookup_bulk(const struct flow_table *ft, const struct flow_key **keys,
				unsigned n, struct flow **flows, uint8_t *dirs);

/** Single lookup; NULL when absent. Any registered reader. */
struct flow *flow_table_lookup(const struct flow_table *ft, const struct flow_key *key,
			       uint8_t *dir);

/**
 * Prefetch the bucket head key hashes to, ahead of a lookup or an add of
 * key that no bulk lookup covers (a new flow's reply key).
 */
void flow_table_prefetch(const struct flow_table *ft, const struct flow_key *key);

/**
 * The second step of flow_table_prefetch(), once its line came in: the
 * first flow of key's bucket, which a lookup of key compares first.
 */
void flow_table_prefetch_chain(const struct flow_table *ft, const struct flow_key *key);

/** True when key is present (any direction). Any registered reader. */
bool flow_table_contains(const struct flow_table *ft, const struct flow_key *key);

/**
 * Insert a flow under both keys; the returned flow has key[] and in_use set
 * and every other field zero, its extension too. Owner only. When no slot
 * is free, it first reclaims the slots whose grace period is over.
 * @return the flow, or NULL with *err = -ENOSPC (table full, or a chain at
 *         its length limit), -EEXIST (either key present, or both keys
 *         equal) or -EINVAL (a key's pad bytes are not zero).
 */
struct flow *flow_table_add(struct flow_table *ft, const struct flow_key *out_key,
			    const struct flow_key *in_key, int *err);

/** Remove a flow (both keys); its slot is reused after the grace period. Owner only. */
void flow_table_del(struct flow_table *ft, struct flow *f);

/**
 * Start the grace period of the flows deleted since the last call, and
 * reclaim the slots whose grace period is over. Owner only, once per poll
 * loop iteration (cheap when nothing was deleted); a no-op without QSBR.
 */
void flow_table_sync(struct flow_table *ft);

/** Flow by index (for sweeps and telemetry); NULL when out of range. */
static inline struct flow *
flow_table_at(const struct flow_table *ft, uint32_t idx)
{
	if (ft == NULL || idx >= ft->max_flows)
		return 0;
	return &ft->flows[idx];
}

/** The flow's own index in the table. */
static inline uint32_t
flow_table_index(const struct flow_table *ft, const struct flow *f)
{
	return (uint32_t)(f - ft->flows);
}

/** The flow's extension: flow_table_ext_size() bytes within one cache line. */
static inline void *
flow_table_ext(const struct flow_table *ft, const struct flow *f)
{
	return ft->ext + ((size_t)(f - ft->flows) << ft->ext_shift);
}

/** Bytes of each flow's extension (flow_table_params.ext_size). */
static inline uint32_t
flow_table_ext_size(const struct flow_table *ft)
{
	return UINT32_C(1) << ft->ext_shift;
}

/**
 * Flows deleted since the table was created (wrapping). A flow pointer the
 * owner looked up is still the flow it found for as long as this has not
 * changed: with no grace period (no QSBR) a deleted slot is reused at once.
 */
static inline uint32_t
flow_table_deletions(const struct flow_table *ft)
{
	return ft->deletions;
}

/** Capacity (max_flows). */
static inline uint32_t
flow_table_capacity(const struct flow_table *ft)
{
	return ft->max_flows;
}

/** Flows currently in the table (not yet deleted). */
static inline uint32_t
flow_table_count(const struct flow_table *ft)
{
	return __atomic_load_n(&ft->count, __ATOMIC_RELAXED);
}

/** Bytes of memory the table holds per flow of capacity (entries, extensions, index). */
uint64_t flow_table_memory(const struct flow_table *ft);

/**
 * Bytes allocated in the DPDK heaps of every socket: the difference across
 * the creation of a structure is what it holds, malloc headers included.
 */
uint64_t flow_heap_allocated(void);

#endif
