/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbour (ARP) cache of one port. The control thread is the only writer
 * (it learns from ARP seen by workers and resolves misses by ARP request, with
 * retries); workers only look up, without locks: the hash is created for
 * lock-free concurrent readers and a MAC is published with one 64-bit store.
 * Entries are never deleted, only re-resolved, so no reclamation is needed.
 */
#ifndef EGRESS_NEIGH_H
#define EGRESS_NEIGH_H

#include <stdbool.h>
#include <stdint.h>

#define NEIGH_RETRIES       3      /**< ARP requests before an entry is FAILED */
#define NEIGH_RETRY_MS      1000   /**< between requests */
#define NEIGH_REFRESH_MS    60000  /**< re-resolve a reachable entry this often */
#define NEIGH_NAME_MAX      21     /**< longest table name (rte_hash ring names) */

struct neigh_table;

enum neigh_state {
	NEIGH_INCOMPLETE = 0,     /**< request sent, no answer yet */
	NEIGH_REACHABLE,
	NEIGH_FAILED,             /**< NEIGH_RETRIES requests unanswered */
};

/** What the control thread must do after neigh_tick(): send a request for ip. */
typedef void (*neigh_request_fn)(void *arg, uint32_t ip);

/**
 * @return a table for up to capacity neighbours, or NULL with rte_errno set
 *         (EINVAL: no name, a name longer than NEIGH_NAME_MAX or capacity 0;
 *         EEXIST: name taken; ENOMEM).
 */
struct neigh_table *neigh_create(const char *name, uint32_t capacity, int socket_id);

/** NULL-tolerant. */
void neigh_free(struct neigh_table *nt);

/**
 * Worker: the MAC of ip (network order).
 * @return true with *mac set when the neighbour is reachable.
 */
bool neigh_lookup(const struct neigh_table *nt, uint32_t ip, uint8_t mac[6]);

/** Control: record that ip is at mac (from an ARP request or reply). 0 / -ENOSPC. */
int neigh_learn(struct neigh_table *nt, uint32_t ip, const uint8_t mac[6], uint64_t now_ms);

/**
 * Control: a static entry (configured): REACHABLE for good, never refreshed,
 * never overridden by what ARP says. 0 / -ENOSPC.
 */
int neigh_add_static(struct neigh_table *nt, uint32_t ip, const uint8_t mac[6]);

/**
 * Control: a worker needed ip and had no MAC. Creates an INCOMPLETE entry and
 * calls req at once, unless a request is already pending. 0 / -ENOSPC.
 */
int neigh_resolve(struct neigh_table *nt, uint32_t ip, uint64_t now_ms,
		  neigh_request_fn req, void *arg);

/** Control, periodically: retries, failures and refreshes; calls req per request. */
void neigh_tick(struct neigh_table *nt, uint64_t now_ms, neigh_request_fn req, void *arg);

/** State of ip, for telemetry and tests; -ENOENT when unknown. */
int neigh_state(const struct neigh_table *nt, uint32_t ip);

#endif
