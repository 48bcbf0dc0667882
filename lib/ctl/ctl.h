/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control side: everything that may block, allocate and log, on one
 * thread (the EAL main lcore). It owns policy publication (atomic pointer +
 * RCU QSBR), the neighbour caches, every reload trigger (SIGHUP, inotify on
 * the sources, telemetry's /egress/reload, the DNS answers changing) and
 * when a reload runs, and the statistics the operator sees.
 *
 * Thread-safety: every function is for the control thread, except
 * ctl_request_reload() and ctl_reload_served() (any thread) and the
 * telemetry callbacks (DPDK's telemetry threads, one per client, several at
 * once), which only read counters and published policies and hand reload
 * requests over through atomics.
 */
#ifndef EGRESS_CTL_H
#define EGRESS_CTL_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "diag.h"
#include "dns.h"
#include "dp.h"
#include "watch.h"

struct rte_mempool;
struct rte_rcu_qsbr;

/**
 * QSBR reader ids of the telemetry threads' /egress/rules listings, one per
 * listing in progress, after the workers' ids: the QSBR variable is sized
 * n_workers + CTL_TEL_READERS. A listing beyond them is answered "busy".
 */
#define CTL_TEL_READERS 4

/** Why a reload was asked for (ctl_request_reload()); each is logged once. */
enum ctl_reload_why {
	CTL_RELOAD_SIGHUP = 0, /**< the operator's signal (app forwards it) */
	CTL_RELOAD_SOURCES,    /**< inotify saw a source change (watch.c) */
	CTL_RELOAD_TELEMETRY,  /**< the /egress/reload command */
	CTL_RELOAD_DNS,        /**< the background resolver's answers changed */
	CTL_RELOAD_API,        /**< egressctl reload (api.c) */
	CTL_RELOAD_WHY_MAX,
};

/** What the NAT saturation warnings remember (ctl_nat_poll()), per NAT address. */
struct ctl_nat_warn {
	uint64_t read_ms; /**< when the figures were last read */
	/** the level last warned of: 0, 1 (80 %), 2 (95 %) */
	uint8_t level[EGRESS_MAX_NAT_ADDRS];
	/** when each level (80 %, 95 %) was last warned of; 0: never */
	uint64_t warned_ms[EGRESS_MAX_NAT_ADDRS][2];
};

/**
 * A port's link as the control thread last read it (ctl_link_poll()). up and
 * speed_mbps are written by the control thread, read by telemetry and
 * metrics threads: aligned words, relaxed atomics. event is set by the
 * ethdev LSC callback (ctl_link_event(), EAL's interrupt thread).
 */
struct ctl_link {
	uint32_t up;         /**< 1: link up */
	uint32_t speed_mbps; /**< 0 while down or unknown */
	uint32_t event;      /**< an LSC interrupt came: read the link again */
	bool lsc;            /**< the device reports changes (LSC interrupts):
				  read at once; every link is also read every
				  CTL_LINK_POLL_MS */
	bool known;          /**< read at least once */
	uint64_t next_ms;    /**< next read without an event */
};

#define CTL_LINK_POLL_MS 1000 /**< link read period without an LSC event */

/**
 * A port's exception TAP, as the control thread drives it (exception.c):
 * frames the workers queued (conf->exc[].ring) are written to it, and
 * what the host's kernel writes to it goes out of the port through worker
 * 0 (conf->tx[]). The TAP's one RX and one TX queue are the control
 * thread's alone. Counters written by the control thread, read racily.
 */
struct ctl_exception {
	bool on;               /**< the port has an exception TAP */
	uint16_t port_id;      /**< the TAP's DPDK port */
	uint8_t host_mac[6];   /**< the kernel interface's MAC */
	uint64_t to_host;      /**< frames written to the TAP */
	uint64_t from_host;    /**< frames of the host sent on to the port */
	uint64_t arp_replies;  /**< the host's ARP requests answered */
	uint64_t host_dropped; /**< frames of either way not passed on (TAP or
				      ring full, from another address, no ARP entry) */
};

struct ctl {
	const struct egress_config *cfg;
	struct dp_conf *conf;
	struct dp_worker **workers;
	unsigned int n_workers;
	struct rte_rcu_qsbr *qsbr; /**< readers' quiescent states: workers 0..n-1,
					  telemetry listings n_workers .. n_workers +
					  CTL_TEL_READERS - 1 */
	struct rte_mempool *pool;  /**< for ARP requests */
	uint32_t generation;       /**< of the published policy */
	uint64_t reloads;          /**< successful publishes after the first */
	uint64_t reload_failures;
	uint64_t last_reload_time;    /**< unix seconds of the last good publish */
	char last_reload_error[1024]; /**< first error of the last failed reload */
	uint32_t reload_why;          /**< bit per enum ctl_reload_why asked for
					  since the last reload (atomic) */
	uint32_t reload_req;          /**< requests made: a request's ticket (atomic) */
	uint32_t reload_done;         /**< set to reload_req when served (atomic) */
	int reload_result;            /**< 0 or -errno of the last reload served */
	struct ctl_watch watch;       /**< inotify on the sources (ctl_start()) */
	bool watching;                /**< watch was set up: poll and close it */
	uint64_t started_ms;
	struct dns_cache *dns;    /**< answers for DNS ServiceEntries; may be NULL;
					  the control thread's alone (dns.h) */
	struct dns_stats dns_pub; /**< the cache's figures as last published by
					  the control thread, for telemetry: each
					  word written and read atomically */
	uint64_t dns_pub_ms;      /**< when published last (ctl_poll()) */

	struct ctl_nat_warn nat_warn;        /**< NAT saturation warnings (ctl_nat.h) */
	struct ctl_link link[DP_NPORTS];     /**< the ports' links (ctl_link_poll()) */
	struct ctl_exception exc[DP_NPORTS]; /**< exception TAPs (ctl_exception_poll()) */

	/* egressctl drain (drain.c) */
	uint64_t drain_req;         /**< deadline in s + 1 asked for; 0: none (atomic) */
	uint64_t drain_deadline_ms; /**< when draining: exit then (ctl_poll()'s clock) */
	bool drain_done;            /**< no flow left or the deadline passed */
};

/**
 * Ask for a drain (egressctl drain): the next ctl_poll() sets
 * conf->draining (new flows refused, the inside exception path withheld)
 * and the deadline, deadline_s from then; a drain asked again moves the
 * deadline. Any thread.
 */
void ctl_drain_request(struct ctl *c, uint32_t deadline_s);

/** Start a drain asked for, and judge whether it is over. ctl_poll()'s. */
void ctl_drain_poll(struct ctl *c, uint64_t now_ms);

/** The drain is over (no flow left, or the deadline): egressd should exit. Control thread. */
bool ctl_drained(const struct ctl *c);

/** Milliseconds to the drain's deadline; 0 when not draining. Any thread. */
uint64_t ctl_drain_left_ms(const struct ctl *c);

/**
 * Move frames both ways between each port and its exception TAP, at most a
 * burst each way per port (exception.c). Control thread, from ctl_poll().
 */
void ctl_exception_poll(struct ctl *c, uint64_t now_ms);

/**
 * The ethdev LSC callback's work: remember that port's link changed, for
 * the control thread to read and log. Async-safe: one atomic store. Any
 * thread (EAL's interrupt thread).
 */
void ctl_link_event(struct ctl *c, enum dp_port port);

/**
 * Read the links whose LSC event came, and every link every
 * CTL_LINK_POLL_MS; log each change ("inside link down",
 * "outside link up, 10000 Mbps full-duplex"). Nothing is restarted: flows
 * and counters stay. Called by ctl_poll(). Control thread.
 */
void ctl_link_poll(struct ctl *c, uint64_t now_ms);

/**
 * Publish p as the current policy, with counters of its own
 * (ctl_counters_create(), stored in conf->counters[] before the release):
 * one release store, then wait for every worker to pass a quiescent state,
 * carry the per-rule counts of rules that still exist over to p's
 * counters, and free the previous policy and its counters. p->generation
 * must be the running one's + 1 (conf->counters[] is indexed by its
 * parity). Blocks only the control thread. Nothing writes p once it is
 * published. @return 0; -ENOMEM (no counters) or -EINVAL (generation), p
 * then not published and still the caller's.
 */
int ctl_publish(struct ctl *c, struct policy *p);

/**
 * Zeroed counters for policy p (struct dp_counters, tagged with its
 * generation): one cache-line-padded row per worker. Control thread.
 * @return them, or NULL (out of memory).
 */
struct dp_counters *ctl_counters_create(unsigned int n_workers, const struct policy *p);

/** Free ctl_counters_create()'s counters; NULL-tolerant. */
void ctl_counters_free(struct dp_counters *cnt);

/**
 * Free the published policy and its counters, once no worker or telemetry
 * request can read them (teardown). conf may be NULL (never set up).
 */
void ctl_free_policy(struct ctl *c);

/**
 * Flows admitted under rule of p, this generation and the same rule's
 * before. p is the published policy or one its reader still holds.
 */
uint64_t ctl_rule_flows(const struct ctl *c, const struct policy *p, uint32_t rule);

/**
 * Everything counted under rule of p (flows, packets and bytes each way,
 * near misses), this generation and the same rule's before, into *out
 * (zero when p has no counters). Any thread holding p: workers' rows are
 * read relaxed, a figure may be a burst behind, never torn.
 */
void ctl_rule_counts(const struct ctl *c, const struct policy *p, uint32_t rule,
		     struct dp_rule_counts *out);

/**
 * Load, validate and compile the policy sources again and publish the result.
 * All or nothing: on any error the running policy stays, the diagnostics are
 * logged and counted. @return 0 or -EINVAL.
 */
int ctl_reload(struct ctl *c);

/**
 * Copy the DNS cache's figures (dns_stats_get()) into dns_pub, where the
 * telemetry threads read them: the cache itself may be reallocated by any
 * build. Control thread; ctl_reload() and ctl_poll() call it (the latter at
 * most every 100 ms: it walks every name).
 */
void ctl_dns_stats_publish(struct ctl *c);

/**
 * Ask for a reload of the policy sources. Any thread, no lock: the reason's
 * bit is set, then the ticket taken (release), so that the control thread
 * that sees the ticket sees the reason. Every request made before the
 * control thread's next ctl_poll() is served by the one reload it runs.
 * @return the request's ticket, for ctl_reload_served().
 */
uint32_t ctl_request_reload(struct ctl *c, enum ctl_reload_why why);

/**
 * Has a reload that began after the request of ticket ended? Then
 * c->reload_result says how it went (read after this returns true). Any thread.
 */
bool ctl_reload_served(const struct ctl *c, uint32_t ticket);

/**
 * Start watching the policy sources (inotify; watch.h). A source that
 * cannot be watched, or no inotify at all, is logged: SIGHUP and
 * /egress/reload still work. Control thread, once, before ctl_poll().
 */
void ctl_start(struct ctl *c);

/** Stop watching the sources, publish the DNS figures a last time (after the last ctl_poll()). */
void ctl_stop(struct ctl *c);

/**
 * One control tick: neighbour events and retries, the DNS answers, the
 * sources' watch, and then, once, the reload every trigger asked for since
 * the last tick (one reload however many asked; its reasons logged once).
 */
void ctl_poll(struct ctl *c, uint64_t now_ms);

/** Ask for the MAC of ip on port (sends an ARP request now). */
void ctl_resolve(struct ctl *c, enum dp_port port, uint32_t ip, uint64_t now_ms);

/**
 * Register the /egress/ telemetry commands, and the telemetry readers
 * (n_workers .. n_workers + CTL_TEL_READERS - 1) with c->qsbr.
 * @return 0 or -EINVAL (the QSBR variable too small).
 */
int ctl_telemetry_init(struct ctl *c);

/**
 * Before the appliance is torn down: later /egress/ requests get an error,
 * and those in progress are waited for. (The commands stay registered.)
 */
void ctl_telemetry_close(void);

/**
 * Serve egressd's API (doc/api.md) on a UNIX socket at path, on a control
 * thread of its own: the folder is created, the socket made mode 0660, a
 * stale socket file (nobody listening) replaced. Its readers of the
 * published policy take ids of the CTL_TEL_READERS pool, one short stretch
 * at a time. After ctl_telemetry_init(). @return 0, or -errno (logged).
 */
int ctl_api_start(struct ctl *c, const char *path);

/** Stop the API thread, close its clients, remove the socket; before teardown. */
void ctl_api_stop(void);

/** Sum every worker's counters. */
void ctl_stats_sum(const struct ctl *c, struct dp_stats *sum);

/** Flows in all workers' tables. */
uint64_t ctl_flows_active(const struct ctl *c);

/**
 * Memory per flow of capacity, over every worker: flow tables, embryonic
 * FIFOs and per-source tables, divided by the capacity of all the tables.
 */
uint64_t ctl_bytes_per_flow(const struct ctl *c);

/**
 * The final counters as one JSON object on one line (with newline): the
 * same keys, in the same order, as /egress/stats (one walk writes both).
 */
void ctl_stats_json(const struct ctl *c, FILE *out);

/**
 * Fill conf's timeouts, NAT, limits and port addresses from the appliance
 * config (port ids, MACs and neighbour tables are the caller's). Control
 * thread, before the workers are built (dp_worker_create()).
 */
void ctl_dp_conf(struct dp_conf *conf, const struct egress_config *cfg);

#endif
