/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session sync, the control side (doc/session-sync.md): one thread (a
 * pthread, not an lcore) that drains every worker's sync ring (struct
 * dp_sync_rec, lib/dp/sync.c), sends the records to the peer in batches of
 * UDP datagrams (and a heartbeat when there is nothing to send), receives
 * the peer's, keeps the peer's flows (at most sync.max_flows) and, when
 * the peer is declared dead (no datagram for sync.dead_after, with
 * takeover: auto) or ctl_sync_takeover() is called, takes over: the
 * workers answer ARP for and accept replies to the peer's NAT addresses
 * (conf->sync_takeover), each held flow is queued to the worker that owns
 * it (conf->sync_in[], installed by dp_sync_apply() on that worker's own
 * lcore), and gratuitous ARP for each peer address goes out of the outside
 * port.
 *
 * Datagram: a 16-byte header (struct ctl_sync_hdr, network order) and
 * `count` records of 32 bytes (struct dp_sync_rec), nothing else: its
 * length is exactly 16 + 32 * count, count at most CTL_SYNC_BATCH.
 */
#ifndef EGRESS_CTL_SYNC_H
#define EGRESS_CTL_SYNC_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl.h"

#define CTL_SYNC_MAGIC        0x45535931u /**< "ESY1" */
#define CTL_SYNC_VERSION      1
#define CTL_SYNC_BATCH        44  /**< records per datagram: 1424 bytes, under a 1500 MTU */
#define CTL_SYNC_HEARTBEAT_MS 100 /**< a datagram at least this often */
#define CTL_SYNC_TICK_MS      2   /**< the thread drains the rings this often */

struct ctl_sync_hdr {
	uint32_t magic; /**< CTL_SYNC_MAGIC */
	uint8_t version;
	uint8_t flags;   /**< zero */
	uint16_t count;  /**< records after the header */
	uint32_t seq;    /**< datagram number (gaps: datagrams lost) */
	uint32_t sender; /**< random per start of the sender */
};
static_assert(sizeof(struct ctl_sync_hdr) == 16, "the sync header is 16 bytes");

#define CTL_SYNC_DGRAM_MAX                                                                         \
	(sizeof(struct ctl_sync_hdr) + CTL_SYNC_BATCH * sizeof(struct dp_sync_rec))

/**
 * One datagram of n records (n <= CTL_SYNC_BATCH; 0: a heartbeat) into buf.
 * @return its length, or 0 when it does not fit in size or n is too large.
 */
size_t ctl_sync_encode(void *buf, size_t size, uint32_t seq, uint32_t sender,
		       const struct dp_sync_rec *recs, unsigned int n);

/**
 * Read a datagram: its header into *h and its valid records
 * (dp_sync_rec_valid()) into recs (room for CTL_SYNC_BATCH). *bad counts
 * the records dropped as malformed. Pure: any thread.
 * @return the records stored; -EINVAL when the datagram itself is
 *   malformed (short, wrong magic, version or flags, a length that is not
 *   16 + 32 * count, count over CTL_SYNC_BATCH): nothing stored.
 */
int ctl_sync_decode(const void *buf, size_t len, struct ctl_sync_hdr *h, struct dp_sync_rec *recs,
		    unsigned int *bad);

/** What the sync thread counted; every field read atomically. */
struct ctl_sync_stats {
	uint64_t records_sent;       /**< records sent to the peer */
	uint64_t records_received;   /**< valid records received */
	uint64_t records_malformed;  /**< records, and datagrams, dropped as malformed */
	uint64_t send_errors;        /**< datagrams sendto() refused (their records lost) */
	uint64_t peer_flows;         /**< the peer's flows held */
	uint64_t peer_flows_dropped; /**< records of new peer flows dropped at sync.max_flows */
	uint64_t flows_queued;       /**< held flows queued to the workers at the takeover */
	uint64_t flows_skipped;      /**< held flows not continued: their handshake was not over */
	uint64_t peer_alive;         /**< 1: a datagram came within sync.dead_after */
	uint64_t takeover;           /**< 1: the peer's addresses and flows are ours */
};

/**
 * Start the sync thread for c (c->cfg->sync; the workers' rings exist:
 * dp_worker_create()). The listening socket is bound here: an address that
 * cannot be bound fails the start. Control thread.
 * @return 0, or -errno (nothing started).
 */
int ctl_sync_start(struct ctl *c);

/** Stop the thread and close its socket; before the workers are freed. No-op if not started. */
void ctl_sync_stop(void);

/** Take over now (egressctl takeover). Any thread. @return 0, -ENOTCONN: sync is off. */
int ctl_sync_takeover(void);

/** The counters (zero when sync is off). Any thread. */
void ctl_sync_stats_get(struct ctl_sync_stats *st);

#endif
