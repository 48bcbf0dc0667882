/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbour (ARP) cache of one port. The control thread is the only writer
 * (it learns from ARP seen by workers, resolves misses by ARP request with
 * retries, ages and evicts entries); workers only look up, without locks: the
 * hash is created for lock-free concurrent readers, a MAC is published with
 * one 64-bit store, and a deleted entry's slot is reused only after a grace
 * period of the QSBR variable given to neigh_rcu_qsbr_add().
 *
 * An entry is one of three kinds, by how it got its MAC:
 *   static     configured (neigh_add_static()): never aged, refreshed,
 *              overridden by ARP or evicted.
 *   solicited  created by neigh_resolve() (a worker needed the address).
 *   learned    from ARP a host sent on its own (neigh_learn() of an address
 *              not in the table).
 * Any ARP from the host confirms a solicited or learned entry. Unconfirmed
 * for NEIGH_REACHABLE_MS, it is asked again while its MAC stays in use; when
 * NEIGH_RETRIES requests go unanswered it is removed (a solicited one after
 * a FAILED hold-down of NEIGH_RETRY_MS).
 *
 * Bounds, so that no host on the segment can fill the table for good: a MAC
 * holds at most NEIGH_LEARN_PER_MAC learned entries; at most NEIGH_LEARN_RATE
 * learned entries are created per second (token bucket, burst of as many);
 * learned entries are only created while fewer than capacity entries exist.
 * Learn events over a bound are dropped and counted. A full table never locks
 * out a host that answers ARP: neigh_resolve() may create up to
 * NEIGH_PENDING_MAX requests beyond capacity, and the answer to one takes the
 * place of a learned entry (least recently confirmed first) or, when none is
 * left, of the solicited entry least recently needed by a worker.
 */
#ifndef EGRESS_NEIGH_H
#define EGRESS_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#define NEIGH_RETRIES  3    /**< ARP requests before an entry is FAILED */
#define NEIGH_RETRY_MS 1000 /**< between requests; also how long FAILED lasts */
#define NEIGH_REACHABLE_MS                                                                         \
	30000                  /**< confirmed this often or aged (Linux's
					base_reachable_time, without its jitter) */
#define NEIGH_LEARN_PER_MAC 16 /**< learned entries one MAC may hold */
#define NEIGH_LEARN_RATE    64 /**< learned entries created per second */
#define NEIGH_PENDING_MAX   64 /**< resolutions beyond capacity */
#define NEIGH_NAME_MAX      21 /**< longest table name (rte_hash ring names) */

struct neigh_table;
struct rte_rcu_qsbr;

enum neigh_state {
	NEIGH_INCOMPLETE = 0, /**< request sent, no answer yet */
	NEIGH_REACHABLE,
	NEIGH_FAILED, /**< NEIGH_RETRIES requests unanswered */
};

/**
 * What the control thread must do: send an ARP request for ip. When
 * neigh_lookup() still finds a MAC for ip, the request checks a known host
 * and may go to that MAC alone (RFC 1122 2.3.2.1); otherwise, broadcast.
 */
typedef void (*neigh_request_fn)(void *arg, uint32_t ip);

/** Counters of one table; the control thread's view (neigh_stats_get()). */
struct neigh_stats {
	uint32_t entries;            /**< in the table, pending requests included */
	uint32_t limbo;              /**< deleted, slot awaiting a grace period */
	uint64_t learn_dropped_full; /**< learn of a new address, table full */
	uint64_t learn_dropped_mac;  /**< the MAC holds NEIGH_LEARN_PER_MAC already */
	uint64_t learn_dropped_rate; /**< over NEIGH_LEARN_RATE */
	uint64_t resolve_dropped;    /**< no room even for a pending request */
	uint64_t expired;            /**< removed by age or unanswered requests */
	uint64_t evicted;            /**< removed to make room for an answer */
};

/**
 * @return a table for up to capacity neighbours (plus NEIGH_PENDING_MAX
 *         pending requests), or NULL with rte_errno set (EINVAL: no name, a
 *         name longer than NEIGH_NAME_MAX or capacity 0; EEXIST: name taken;
 *         ENOMEM).
 */
struct neigh_table *neigh_create(const char *name, uint32_t capacity, int socket_id);

/**
 * Control, before workers look up: reuse a deleted entry's slot only once
 * every reader of v has passed a quiescent state after the deletion. Without
 * it a slot is reused at once: only for tables nobody reads concurrently.
 * @return 0, -EINVAL (NULL), -EEXIST (already added) or -ENOMEM.
 */
int neigh_rcu_qsbr_add(struct neigh_table *nt, struct rte_rcu_qsbr *v);

/** NULL-tolerant. */
void neigh_free(struct neigh_table *nt);

/**
 * Worker (any thread; a QSBR reader between quiescent states): the MAC of ip
 * (network order).
 * @return true with *mac set when the neighbour is reachable.
 */
bool neigh_lookup(const struct neigh_table *nt, uint32_t ip, uint8_t mac[6]);

/**
 * Control: ARP says ip is at mac (a request or reply from that host).
 * Confirms a known address; an unknown one becomes a learned entry, within
 * the bounds above.
 * @return 0; -ENOSPC: table full (or an answer with no entry to evict);
 *         -EDQUOT: NEIGH_LEARN_PER_MAC reached; -EAGAIN: over NEIGH_LEARN_RATE.
 */
int neigh_learn(struct neigh_table *nt, uint32_t ip, const uint8_t mac[6], uint64_t now_ms);

/**
 * Control: a static entry (configured): REACHABLE for good, never refreshed,
 * never overridden by what ARP says. 0 / -ENOSPC.
 */
int neigh_add_static(struct neigh_table *nt, uint32_t ip, const uint8_t mac[6]);

/**
 * Control: a worker needed ip and had no MAC. Creates an INCOMPLETE entry and
 * calls req at once, unless a request is already pending; a full table still
 * takes NEIGH_PENDING_MAX of them. 0 / -ENOSPC.
 */
int neigh_resolve(struct neigh_table *nt, uint32_t ip, uint64_t now_ms, neigh_request_fn req,
		  void *arg);

/**
 * Control, periodically: retries, failures, aging, re-resolution; calls req
 * per request; hands slots whose grace period is over back to the table.
 */
void neigh_tick(struct neigh_table *nt, uint64_t now_ms, neigh_request_fn req, void *arg);

/** Control: state of ip, for telemetry and tests; -ENOENT when unknown. */
int neigh_state(const struct neigh_table *nt, uint32_t ip);

/** Control: the table's counters. */
void neigh_stats_get(const struct neigh_table *nt, struct neigh_stats *st);

/**
 * Any thread (telemetry): learn events dropped over a bound or for a full
 * table, the sum of the three learn_dropped_* counters. 0 for NULL.
 */
uint64_t neigh_learn_dropped(const struct neigh_table *nt);

#endif
