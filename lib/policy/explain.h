/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Why a new flow is allowed or denied, in Istio terms, from the compiled
 * tables the workers classify with (policy_classify_bulk()): egressctl
 * explain. For a deny, the rule the flow nearly matched: the address's
 * ServiceEntry without that port or protocol, or, when no entry lists the
 * address, the one of the same port and protocol nearest to it. Control
 * side (any thread holding p), no allocation, no locks.
 */
#ifndef EGRESS_POLICY_EXPLAIN_H
#define EGRESS_POLICY_EXPLAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

enum policy_explain_why {
	POLICY_EXPLAIN_MATCH = 0,  /**< allowed by .rule */
	POLICY_EXPLAIN_ALLOW_ANY,  /**< no rule; policy.outbound ALLOW_ANY */
	POLICY_EXPLAIN_NO_PORT,    /**< .closest lists the address, not the port */
	POLICY_EXPLAIN_NO_PROTO,   /**< .closest lists address and port, not the protocol */
	POLICY_EXPLAIN_NO_ADDRESS, /**< no rule lists the address; .closest the
				       nearest of the same port and protocol (or of
				       any), POLICY_NO_RULE when there is no rule */
};

#define POLICY_EXPLAIN_REASON_MAX 320

struct policy_explanation {
	bool allow;
	enum policy_explain_why why;
	uint32_t rule;                          /**< the rule that admits, or POLICY_NO_RULE */
	uint32_t closest;                       /**< deny: the nearest rule, or POLICY_NO_RULE */
	char reason[POLICY_EXPLAIN_REASON_MAX]; /**< one sentence */
};

/**
 * The closest rule to a key no rule matches (k network order, as
 * flow_key): see enum policy_explain_why. @return the reason (NO_PORT,
 * NO_PROTO or NO_ADDRESS); *closest the rule or POLICY_NO_RULE.
 */
enum policy_explain_why policy_closest_rule(const struct policy *p, const struct flow_key *k,
					    uint32_t *closest);

/** Decide k as a worker would for a new flow, and say why, in e. */
void policy_explain(const struct policy *p, const struct flow_key *k, struct policy_explanation *e);

#endif
