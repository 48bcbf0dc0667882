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
#include <stddef.h>
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
 * The near miss of a key no rule matches (k network order, as flow_key):
 * the rule that lists its destination address but not that port
 * (NO_PORT) or not that protocol on that port (NO_PROTO); NO_ADDRESS and
 * POLICY_NO_RULE when no rule lists the address. The first step of
 * policy_closest_rule(), cheap enough for the data path to run per denied
 * new flow: a binary search per prefix length present in p->near (built
 * by policy_near_build()), a linear walk without it. Any thread holding p.
 */
enum policy_explain_why policy_near_miss(const struct policy *p, const struct flow_key *k,
					 uint32_t *rule);

/**
 * Build p->near (and near_lens) from p->rules: the control thread, before
 * p is published. @return 0 or -ENOMEM (p->near then NULL: still correct,
 * slower).
 */
int policy_near_build(struct policy *p);

/** The length of a rule's name as policy_rule_label() writes it, at most. */
#define POLICY_LABEL_MAX 384

/**
 * A rule's name as the operator's interfaces show it (explain, rules,
 * metrics, flow logs): "ServiceEntry/NAMESPACE/NAME", the namespace
 * "default" when the entry has none (Kubernetes' default namespace, where
 * kubectl applies it). @return buf.
 */
const char *policy_rule_label(const struct policy_rule *r, char *buf, size_t size);

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
