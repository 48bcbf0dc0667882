/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT ports in use per destination: how close each (NAT address,
 * destination address, destination port, protocol) is to running out of
 * ports. A NAT port is unique per that 4-tuple (nat.h, RFC 7857 section 3),
 * so it is there, not per address, that a port range is exhausted.
 *
 * One table per worker: the ports its flows hold, per destination, in its
 * own share of the port range (nat_range_split()). The worker counts a flow
 * when it binds it and gives it back when the flow's slot leaves its flow
 * table (quarantine and TIME_WAIT included: the port is held until then), so
 * only flow creation and removal touch it, never a packet.
 *
 * Layout: an rte_hash (the owner alone adds, looks up and deletes: no lock,
 * no RW concurrency flags) maps the 12-byte key to a position, and an array
 * of slots, parallel to the hash's positions, holds the key and the count.
 * Other threads read the slots racily, never the hash: each slot carries a
 * sequence word, odd while the slot holds a destination, written with a
 * release store after the key (add) and before the key may change again
 * (remove); a reader takes the key and count between two loads of it and
 * keeps them only when they are equal and odd (a seqlock whose writer never
 * waits). Counts are naturally aligned 32-bit words: a reader may see one a
 * flow behind, never torn.
 *
 * Capacity: nat_dests_capacity_for(); when full, a new destination is not
 * counted (nat_dests_add() fails) and the flow is remembered as untracked:
 * nat_dests_untracked() says how many flows the figures leave out.
 */
#ifndef EGRESS_NAT_DESTS_H
#define EGRESS_NAT_DESTS_H

#include <stdbool.h>
#include <stdint.h>

#include "flow_key.h"

/** Fewest destinations a worker's table holds (unless its flow table is smaller). */
#define NAT_DESTS_MIN 1024
/** Most destinations a worker's table holds (about 2.5 MiB). */
#define NAT_DESTS_MAX 32768

/** One destination of one NAT address, as a reader sees it (network order). */
struct nat_dest_view {
	uint32_t addr;     /**< NAT address */
	uint32_t dst_ip;   /**< destination after DNAT */
	uint16_t dst_port; /**< its port */
	uint8_t proto;     /**< IPPROTO_TCP, IPPROTO_UDP */
	uint32_t count;    /**< ports of this worker's share in use toward it */
};

struct nat_dests;

/**
 * The destinations a worker with max_flows flows tracks: a sixteenth of its
 * flows, at least NAT_DESTS_MIN (but never more than max_flows: a flow
 * holds one port toward one destination), at most NAT_DESTS_MAX. About 78
 * bytes per destination (hash entry, extendable bucket, slot): at most 5
 * bytes per flow of capacity from 16 Ki flows up, under 3 from 512 Ki.
 * Few because exhaustion needs many flows to one destination (thousands
 * of ports of one share): a table full of destinations averaging 16 flows
 * or fewer is one no share is near exhausting, and an egress gateway's
 * destinations are what its ServiceEntries list. What does not fit is
 * counted (nat_dests_untracked()).
 */
uint32_t nat_dests_capacity_for(uint32_t max_flows);

/**
 * A table of capacity destinations (at least 8: rte_hash's bucket) on NUMA
 * socket socket_id. Control thread.
 * @return it, or NULL with rte_errno set (EINVAL: capacity 0; ENOMEM).
 */
struct nat_dests *nat_dests_create(uint32_t capacity, int socket_id);

/** Free it; NULL-tolerant. No reader may use it any more. */
void nat_dests_free(struct nat_dests *d);

/**
 * One more port in use toward the destination of the flow whose reply key
 * (remote -> NAT address:port) is in. Owner only.
 * @return 0 (counted), or -ENOSPC: a new destination and the table is
 *         full; the flow is counted as untracked instead (give it back with
 *         tracked false).
 */
int nat_dests_add(struct nat_dests *d, const struct flow_key *in);

/**
 * The flow of reply key in no longer holds its port. tracked: what
 * nat_dests_add() said of it (0). A destination whose count falls to zero
 * leaves the table. Owner only.
 */
void nat_dests_remove(struct nat_dests *d, const struct flow_key *in, bool tracked);

/** Its capacity: the positions nat_dests_read() takes. Any thread. */
uint32_t nat_dests_capacity(const struct nat_dests *d);

/**
 * Position i, when it holds a destination: its key and count, consistent
 * with each other (see above). Any thread, racily.
 */
bool nat_dests_read(const struct nat_dests *d, uint32_t i, struct nat_dest_view *v);

/** Flows bound now but not counted (the table was full). Any thread, racily. */
uint64_t nat_dests_untracked(const struct nat_dests *d);

#endif
