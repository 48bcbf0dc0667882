/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control side: everything that may block, allocate and log, on one
 * thread (the EAL main lcore). It owns policy publication (atomic pointer +
 * RCU QSBR), the neighbour caches, reload requests from signals and
 * telemetry, and the statistics the operator sees.
 *
 * Thread-safety: every function is for the control thread, except the
 * telemetry callbacks (DPDK's telemetry thread), which only read counters and
 * hand reload requests over through atomics.
 */
#ifndef EGRESS_CTL_H
#define EGRESS_CTL_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "diag.h"
#include "dp.h"

struct dns_cache;
struct rte_mempool;
struct rte_rcu_qsbr;

struct ctl {
	const struct egress_config *cfg;
	struct dp_conf *conf;
	struct dp_worker **workers;
	unsigned int n_workers;
	struct rte_rcu_qsbr *qsbr;   /**< readers' quiescent states: workers 0..n-1,
					  telemetry n_workers */
	struct rte_mempool *pool;    /**< for ARP requests */
	uint32_t generation;         /**< of the published policy */
	uint64_t reloads;            /**< successful publishes after the first */
	uint64_t reload_failures;
	uint64_t last_reload_time;   /**< unix seconds of the last good publish */
	char last_reload_error[1024];/**< first error of the last failed reload */
	uint32_t reload_req;         /**< bumped by telemetry (atomic) */
	uint32_t reload_done;        /**< set to reload_req when served (atomic) */
	int reload_result;           /**< 0 or -EINVAL of the last served request */
	uint64_t started_ms;
	struct dns_cache *dns;       /**< answers for DNS ServiceEntries; may be NULL */
};

/**
 * Publish p as the current policy: one release store, then wait for every
 * worker to pass a quiescent state, carry the per-rule counters of rules
 * that still exist over to p, and free the previous policy. Blocks only the
 * control thread.
 */
void ctl_publish(struct ctl *c, struct policy *p);

/**
 * Give p its per-rule counters (one cache-line-padded row per worker).
 * Before p is published. @return 0 or -ENOMEM.
 */
int ctl_attach_counters(const struct ctl *c, struct policy *p);

/** Flows admitted under rule of p, this generation and the same rule's before. */
uint64_t ctl_rule_flows(const struct ctl *c, const struct policy *p, uint32_t rule);

/**
 * Load, validate and compile the policy sources again and publish the result.
 * All or nothing: on any error the running policy stays, the diagnostics are
 * logged and counted. @return 0 or -EINVAL.
 */
int ctl_reload(struct ctl *c);

/** One control tick: neighbour events and retries, telemetry reload requests. */
void ctl_poll(struct ctl *c, uint64_t now_ms);

/** Ask for the MAC of ip on port (sends an ARP request now). */
void ctl_resolve(struct ctl *c, enum dp_port port, uint32_t ip, uint64_t now_ms);

/** Register the /egress/ telemetry commands. @return 0 or -errno. */
int ctl_telemetry_init(struct ctl *c);

/**
 * Before the appliance is torn down: later /egress/ requests get an error,
 * and one in progress is waited for. (The commands stay registered.)
 */
void ctl_telemetry_close(void);

/** Sum every worker's counters. */
void ctl_stats_sum(const struct ctl *c, struct dp_stats *sum);

/** Flows in all workers' tables. */
uint64_t ctl_flows_active(const struct ctl *c);

/**
 * Memory per flow of capacity, over every worker: flow tables, embryonic
 * FIFOs and per-source tables, divided by the capacity of all the tables.
 */
uint64_t ctl_bytes_per_flow(const struct ctl *c);

/** The final counters as one JSON object on one line (with newline). */
void ctl_stats_json(const struct ctl *c, FILE *out);

#endif
