/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The compiled policy: one immutable object built by the control thread from
 * the Istio YAML (ServiceEntry, Gateway, DestinationRule, VirtualService,
 * Sidecar) that the appliance config's policy.sources name, and read by
 * workers without locks.
 *
 *   sources --load--> model --validate--> rules --compile--> classifier + metadata
 *                                            ^
 *                     DNS answers (dns.h) ---+
 *
 * A policy is published by one atomic pointer store and freed after an RCU
 * grace period (lib/ctl). policy_build() reports every problem in its inputs
 * and returns NULL when there is any error: a policy is all or nothing.
 * doc/policy.md describes how each Istio field compiles.
 */
#ifndef EGRESS_POLICY_H
#define EGRESS_POLICY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "egress_types.h"
#include "flow_key.h"

#define POLICY_NO_RULE UINT32_MAX
#define POLICY_NO_CAP  UINT32_MAX

/**
 * How a new flow picks one of its rule's targets (DestinationRule
 * trafficPolicy.loadBalancer). Every mode honours the targets' weights, so
 * that VirtualService route weights and endpoint weights survive any mode.
 */
enum policy_lb {
	/** simple: RANDOM (and Istio's default): target i with probability
	 *  weight[i] / total_weight, drawn per new flow. */
	POLICY_LB_RANDOM = 0,
	/** simple: ROUND_ROBIN: a weighted round robin over the rule's targets
	 *  (e.g. smooth WRR, or a per-rule counter walked through the cumulative
	 *  weights). Per worker is fine: Envoy's is per worker thread too. */
	POLICY_LB_ROUND_ROBIN,
	/** simple: LEAST_CONN / LEAST_REQUEST: the target with the fewest active
	 *  flows divided by its weight; ties broken at random. */
	POLICY_LB_LEAST_CONN,
	/** consistentHash.useSourceIp: hash the client's address (src_ip only,
	 *  not its port), take it modulo total_weight and walk the cumulative
	 *  weights: the same client reaches the same target while the target
	 *  list is unchanged. */
	POLICY_LB_CONSISTENT_SOURCE_IP,
};

/** policy_rule.flags */
#define POLICY_RULE_F_ROUTED  0x01 /**< targets from a VirtualService route */
#define POLICY_RULE_F_DNS_DST 0x02 /**< destination prefix is a DNS answer (dst_name) */
#define POLICY_RULE_F_DNS     0x04 /**< some targets are DNS answers (target_names) */
#define POLICY_RULE_F_ANY_DST 0x08 /**< 0.0.0.0/0: an entry without addresses */

/** A destination a rule NATs to (STATIC / DNS endpoints, VirtualService routes). */
struct policy_target {
	uint32_t ip;     /**< network order */
	uint16_t port;   /**< host order; 0: the rule's target_port, else keep */
	uint32_t weight; /**< relative, >= 1; route weight x endpoint weight */
};

/**
 * One compiled allowlist row: destination prefix x port x protocol, and what
 * a new flow it admits gets. Fields marked [dp] are for the data path to
 * enforce; the rest is metadata for --check, telemetry and logs.
 */
struct policy_rule {
	uint32_t dst_ip; /**< host order, host bits zero */
	uint8_t prefix_len;
	uint8_t proto;         /**< IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port;         /**< host order */
	uint16_t target_port;  /**< [dp] host order; 0: keep (spec.ports[].targetPort) */
	uint32_t first_target; /**< [dp] index into policy.targets */
	uint32_t n_targets;    /**< [dp] 0: keep the original destination (NONE) */
	uint32_t total_weight; /**< [dp] sum of the targets' weights */
	/**
	 * [dp] DestinationRule connectionPool.tcp.maxConnections: the most flows
	 * (embryonic and established, TCP and UDP) that the rules sharing cap_id
	 * may have at once on this appliance. A new flow beyond it is refused like
	 * a policy deny (policy.deny: drop or RST), counted under a reason of its
	 * own. 0: no cap (cap_id is then POLICY_NO_CAP).
	 */
	uint32_t max_connections;
	/**
	 * [dp] Index of the counter, < policy.n_caps, that max_connections is
	 * checked against. Rules share one when they reach the same Istio
	 * "cluster" (ServiceEntry host x port x subset): every address of an entry
	 * and every VirtualService route to it. Indexes are per policy: a flow
	 * rechecked after a reload moves its count to the new rule's cap_id.
	 */
	uint32_t cap_id;
	/**
	 * [dp] DestinationRule connectionPool.tcp.connectTimeout, ms: a TCP flow
	 * that is not ESTABLISHED this long after its first SYN is ended (as a
	 * transitory timeout would end it). 0: flows.timeouts.transitory applies.
	 */
	uint64_t connect_timeout_ms;
	uint8_t lb;       /**< [dp] enum policy_lb: how a new flow picks a target */
	uint8_t flags;    /**< POLICY_RULE_F_* */
	const char *name; /**< namespace/name of the ServiceEntry */
	const char *file; /**< where the entry was written */
	unsigned int line;
	unsigned int col;
	unsigned int doc;     /**< 0-based document index in file */
	const char *route;    /**< namespace/name of the VirtualService, or NULL */
	const char *dr;       /**< namespace/name of the DestinationRule, or NULL */
	const char *dst_name; /**< POLICY_RULE_F_DNS_DST: the name resolved */
};

/** Costs of one build, for the benchmark and logs (control side only). */
struct policy_build_stats {
	uint64_t load_ns;          /**< read, parse and validate the YAML */
	uint64_t compile_ns;       /**< model to rules and targets */
	uint64_t classifier_ns;    /**< the exact table and rte_acl_build() */
	uint64_t classifier_bytes; /**< DPDK heap the classifier holds */
	uint32_t n_exact;          /**< rules in the exact table */
	uint32_t n_acl;            /**< rules in the rte_acl context */
};

struct rte_acl_ctx;
struct policy_exact;

/** One row of policy.near: a rule's destination prefix and its index. */
struct policy_near {
	uint32_t dst_ip; /**< host order, as policy_rule.dst_ip */
	uint32_t rule;
	uint8_t prefix_len;
};

struct policy {
	uint32_t generation;           /**< 1 for the first policy, +1 per publish */
	enum egress_outbound outbound; /**< [dp] policy.outbound, or a Sidecar's */
	/**
	 * The classifier: rules for a single address (/32) in an exact-match
	 * table of (destination, port, protocol), since such a match is the
	 * longest prefix there can be; the other rules in rte_acl, consulted
	 * for the keys the table misses. Either is NULL when it has no rule.
	 */
	struct policy_exact *exact;
	struct rte_acl_ctx *acl;
	struct policy_rule *rules;
	uint32_t n_rules;
	struct policy_target *targets;
	uint32_t n_targets;
	uint32_t n_caps;           /**< [dp] max_connections counters needed */
	const char **target_names; /**< [n_targets]: DNS name a target came from, or NULL */
	const char *outbound_from; /**< "Sidecar ns/name at file:line, over policy.outbound
					X" when a Sidecar set outbound; NULL when
					policy.outbound did */
	/**
	 * The rules by address, for policy_near_miss() (explain.h): sorted by
	 * prefix length, address, rule index; near_lens the prefix lengths
	 * present. NULL: not built (a policy made by hand): a linear walk.
	 */
	struct policy_near *near;
	uint8_t near_lens[33];
	uint8_t n_near_lens;
	uint64_t built_at; /**< wall-clock seconds */
	struct policy_build_stats stats;
	void *strings; /**< private: owns names and file paths */
		       /*
	 * No counters: what the workers count per rule, cap and target lives in
	 * struct dp_counters (lib/dp/dp.h), owned by lib/ctl and published with
	 * the policy, so that nothing writes a policy once it is published.
	 */
};

/**
 * Classify n keys (flow_key layout, network order) against the allowlist:
 * rules[i] is the index of the matching rule or POLICY_NO_RULE. When several
 * rules match, the longest destination prefix wins. Any thread, no locks.
 */
void policy_classify_bulk(const struct policy *p, const struct flow_key **keys, unsigned int n,
			  uint32_t *rules);

#endif
