/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The compiled policy: one immutable object built by the control thread from
 * the Istio YAML (ServiceEntry, Gateway, DestinationRule, ...) that the
 * appliance config's policy.sources name, and read by workers without locks.
 *
 *   sources --load--> model --validate--> rules --compile--> rte_acl + metadata
 *
 * A policy is published by one atomic pointer store and freed after an RCU
 * grace period (lib/ctl). policy_build() reports every problem in its inputs
 * and returns NULL when there is any error: a policy is all or nothing.
 */
#ifndef EGRESS_POLICY_H
#define EGRESS_POLICY_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "diag.h"
#include "flow.h"

#define POLICY_NO_RULE UINT32_MAX

/** A destination a rule NATs to (resolution STATIC / DNS endpoints). */
struct policy_target {
	uint32_t ip;              /**< network order */
	uint16_t port;            /**< host order; 0: keep the client's port */
	uint32_t weight;          /**< relative, >= 1 */
};

/** One compiled allowlist row: destination prefix x port x protocol. */
struct policy_rule {
	uint32_t dst_ip;          /**< host order, host bits zero */
	uint8_t prefix_len;
	uint8_t proto;            /**< IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port;            /**< host order */
	uint16_t target_port;     /**< host order; 0: keep (spec.ports[].targetPort) */
	uint32_t first_target;    /**< index into policy.targets */
	uint32_t n_targets;       /**< 0: keep the original destination (NONE) */
	uint32_t total_weight;    /**< sum of the targets' weights */
	const char *name;         /**< namespace/name of the ServiceEntry */
	const char *file;         /**< where the entry was written */
	unsigned int line;
	unsigned int col;
	unsigned int doc;         /**< 0-based document index in file */
};

struct rte_acl_ctx;

struct policy {
	uint32_t generation;      /**< 1 for the first policy, +1 per publish */
	enum egress_outbound outbound;
	struct rte_acl_ctx *acl;  /**< NULL when there are no rules */
	struct policy_rule *rules;
	uint32_t n_rules;
	struct policy_target *targets;
	uint32_t n_targets;
	uint64_t built_at;        /**< wall-clock seconds */
	void *strings;            /**< private: owns names and file paths */
	/*
	 * Per-rule counters, attached by the control thread before publishing
	 * (ctl_attach_counters()); NULL in a policy that was never published.
	 * rule_flows[w * rule_stride + r]: flows worker w admitted under rule r
	 * (written by worker w only); rule_carried[r]: what the same rule
	 * counted under earlier generations (written before publication only).
	 */
	uint64_t *rule_flows;
	uint64_t *rule_carried;
	uint32_t rule_stride;     /**< n_rules rounded up to a cache line of counters */
};

/**
 * Load every source the config names, validate and compile. Control thread;
 * needs the EAL (rte_acl allocates from DPDK memory).
 * @return the policy, or NULL (diagnostics in dl; rte_errno EINVAL or ENOMEM).
 */
struct policy *policy_build(const struct egress_config *cfg, uint32_t generation,
			    struct diag_list *dl);

/** Free a policy; NULL-tolerant. Only once no worker can hold it. */
void policy_free(struct policy *p);

/**
 * Classify n keys (flow_key layout, network order) against the allowlist:
 * rules[i] is the index of the matching rule or POLICY_NO_RULE. When several
 * rules match, the longest destination prefix wins. Any thread, no locks.
 */
void policy_classify_bulk(const struct policy *p, const struct flow_key **keys,
			  unsigned int n, uint32_t *rules);

/** Print the compiled allowlist, one line per rule (egressd --check). */
void policy_print(const struct policy *p, FILE *out);

#endif
