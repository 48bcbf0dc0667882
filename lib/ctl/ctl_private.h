/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the files of lib/ctl share and nothing outside sees: the one walk of
 * the operator's statistics (stats.c) and the interface it writes through,
 * implemented twice: JSON text for the final counters (stats.c) and a
 * telemetry dict for /egress/stats (telemetry.c). One walk, so both list
 * the same keys in the same order (test_stats_outputs_list_the_same_keys).
 */
#ifndef EGRESS_CTL_PRIVATE_H
#define EGRESS_CTL_PRIVATE_H

#include <stdint.h>

#include "ctl.h"
#include "flow.h"

/** The ports' names in the operator's output: "inside", "outside". */
extern const char *const ctl_port_names[DP_NPORTS];

/**
 * Where ctl_stats_walk() writes. Objects nest two deep at most ("ports" ->
 * "inside" -> rx): DPDK 22.11's telemetry encodes one level of containers,
 * so its emitter joins the deepest names to their object's with '/'
 * ("ports": {"inside/rx": ...}); JSON nests them.
 */
struct ctl_stats_out {
	void (*u64)(void *ctx, const char *name, uint64_t v);
	void (*str)(void *ctx, const char *name, const char *s);
	/** num / den per packet (0 when den is 0): one decimal in JSON, an
	 *  integer in telemetry (which has no floating-point value) */
	void (*ratio)(void *ctx, const char *name, uint64_t num, uint64_t den);
	void (*begin)(void *ctx, const char *name); /**< an object of the above */
	void (*end)(void *ctx);
};

/**
 * Walk what the operator sees: policy and reload state, flows, the event
 * counters summed over the workers, DNS figures (when there is a DNS
 * cache: as the control thread published them), drops by reason, and each
 * port, at the top level and again under "ports". Any thread: counters are
 * read racily (never torn), the DNS cache never.
 */
void ctl_stats_walk(const struct ctl *c, const struct ctl_stats_out *o, void *ctx);

/**
 * A QSBR reader id of the pool after the workers' (CTL_TEL_READERS), for a
 * thread that reads the published policy: telemetry listings, the API
 * (api.c). Atomics, no lock. @return the id's slot 0..CTL_TEL_READERS-1
 * (the id is n_workers + slot), or -1 when every id is taken.
 */
int ctl_reader_take(void);

/** Give slot back, after its id went offline. */
void ctl_reader_give(int slot);

/** One flow as a reader sees it: its fields copied, racily (flow.h). */
struct ctl_flow_view {
	struct flow_key out; /**< as the client sent it */
	struct flow_key in;  /**< as replies arrive: remote -> NAT address:port */
	uint32_t rule;       /**< in the policy of policy_gen */
	uint32_t policy_gen;
	uint8_t state; /**< enum flow_state */
};

/**
 * Slot i of worker w's flow table, when it holds a flow. Any thread:
 * slots are never freed while the appliance runs.
 */
bool ctl_flow_at(const struct ctl *c, unsigned int w, uint32_t i, struct ctl_flow_view *v);

/**
 * An ARP request from port's MAC (sender sip, target tip) to dst, or
 * broadcast when dst is NULL, in a 60-byte frame of c->pool.
 * @return it, or NULL (no mbuf). Control threads.
 */
struct rte_mbuf *ctl_arp_request(const struct ctl *c, enum dp_port port, const uint8_t *dst,
				 uint32_t sip, uint32_t tip);

#endif
