/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT port saturation as the operator sees it: read from every worker's
 * NAT destinations (nat_dests.h) racily, on the control side, by one
 * function that the metrics, the API's `nat` verb and the warnings share.
 *
 * A NAT port is unique per (NAT address, destination, port, protocol), and
 * each worker binds only ports of its own share of the range
 * (nat_range_split(); with the outside port's RSS known, the ports whose
 * reply to D hashes to its queue, nat_rss_share()): a destination is
 * exhausted on an address when one worker's share is, whatever the others
 * hold. So the fullest share is the largest count_w(D) / ports_w(D) over
 * workers w and destinations D (with one worker: the whole range).
 *
 * Thread-safety: ctl_nat_read() and ctl_nat_dests() on any thread (the
 * metrics and API threads call them); ctl_nat_poll() on the control thread.
 */
#ifndef EGRESS_CTL_NAT_H
#define EGRESS_CTL_NAT_H

#include <stdint.h>

#include "ctl.h"
#include "nat_dests.h"

/** How often ctl_nat_poll() reads the figures (ms). */
#define CTL_NAT_POLL_MS 1000
/** How a share (0 to 1) is printed, in /metrics and the API alike. */
#define CTL_NAT_RATIO_FMT "%.6g"
/** At most one warning per level and address in this long (ms). */
#define CTL_NAT_WARN_INTERVAL_MS 60000

/** One NAT address's figures. */
struct ctl_nat_addr {
	uint32_t addr;         /**< network order */
	uint64_t ports_in_use; /**< over every destination and worker */
	uint64_t destinations; /**< (destination, port, proto) with a port in use, per worker */
	/** the fullest share: fullest.count of share ports, worker fullest_worker's;
	 *  fullest.count 0: no port in use */
	struct nat_dest_view fullest;
	uint32_t share;
	unsigned int fullest_worker;
};

/** Every NAT address's figures, in the configured order. */
struct ctl_nat {
	unsigned int n_addrs;
	struct ctl_nat_addr a[EGRESS_MAX_NAT_ADDRS];
	uint64_t untracked; /**< flows bound but in no count (a full destination table) */
};

/** The fullest share of a, 0 to 1 (0 when no port is in use). */
double ctl_nat_utilization(const struct ctl_nat_addr *a);

/** Read every worker's figures now. Any thread. */
void ctl_nat_read(const struct ctl *c, struct ctl_nat *n);

/** One (NAT address, destination, port, proto) over every worker. */
struct ctl_nat_dest {
	struct nat_dest_view d;  /**< d.count: ports in use over every worker */
	unsigned int addr_index; /**< of d.addr in the configured NAT addresses */
	uint32_t share_count;    /**< the fullest worker's count toward it */
	uint32_t share;          /**< and the ports of that worker's share */
};

/**
 * Every destination with a port in use, over every worker: by NAT address
 * (configured order), then most ports first. *out is malloc'd (free() it).
 * Any thread. @return the number of destinations, or -ENOMEM.
 */
long ctl_nat_dests(const struct ctl *c, struct ctl_nat_dest **out);

/**
 * The warnings (doc/operations.md, "NAT saturation"): at most every
 * CTL_NAT_POLL_MS, read the figures; an address whose fullest share rose to
 * 80 % or 95 % is logged (WARNING), at most once per level and
 * CTL_NAT_WARN_INTERVAL_MS (a level not logged yet is logged on a later
 * poll, if it still holds); one that falls back below 80 % after a warning
 * is logged too (INFO). Control thread (ctl_poll() calls it).
 */
void ctl_nat_poll(struct ctl *c, uint64_t now_ms);

/**
 * Log, at INFO, the ports the NAT never binds (conf->nat_holes: the
 * exception paths' listed ports inside nat.ports), one line per NAT
 * address that has any. Control thread, at start-up.
 */
void ctl_nat_log_holes(const struct dp_conf *conf);

#endif
