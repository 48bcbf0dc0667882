/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building a policy: load every source the appliance config names (the
 * Istio YAML), validate, compile to rules and targets, build the classifier
 * (lib/policy), and print it for --check. Control thread only: allocates,
 * blocks (DNS) and reports through a diag_list. The data path links none of
 * this: it reads the built struct policy through lib/policy alone.
 */
#ifndef EGRESS_POLICY_BUILD_H
#define EGRESS_POLICY_BUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "diag.h"
#include "policy.h"

struct dns_cache;

/** How the classifier is made (policy_build_params.classifier). */
enum policy_classifier {
	/** /32 rules in an exact-match table, prefixes in rte_acl (the default) */
	POLICY_CLASSIFIER_HYBRID = 0,
	/** every rule in rte_acl (for the benchmark's comparison) */
	POLICY_CLASSIFIER_ACL,
};

/** What policy_build_ex() builds from. */
struct policy_build_params {
	const struct egress_config *cfg;
	uint32_t generation;
	/**
	 * Answers for ServiceEntries with resolution DNS / DNS_ROUND_ROBIN, or
	 * NULL: those entries then admit nothing (a warning says so). The build
	 * registers every name it needs with the cache (dns_want()) and, when
	 * it succeeds, forgets names no longer needed (dns_sweep()).
	 */
	struct dns_cache *dns;
	/**
	 * Resolve names the cache has never answered before compiling, in the
	 * calling thread (blocking: at most one resolver timeout per name, one
	 * for all once the resolver proves unreachable). Start-up and --check
	 * want this; a reload need not: dns_refresh() reports the first answers
	 * as a change and the caller rebuilds.
	 */
	bool dns_wait;
	uint64_t now_ms;                   /**< the clock dns_refresh() is given (dns_wait) */
	enum policy_classifier classifier; /**< 0: the default */
};

/**
 * Load every source the config names, validate and compile. Control thread;
 * needs the EAL (rte_acl allocates from DPDK memory). Same as
 * policy_build_ex() without a DNS cache.
 * @return the policy, or NULL (diagnostics in dl; rte_errno EINVAL or ENOMEM).
 */
struct policy *policy_build(const struct egress_config *cfg, uint32_t generation,
			    struct diag_list *dl);

/**
 * policy_build() with DNS answers. Control thread only (the DNS cache is
 * the control thread's). @return the policy, or NULL with rte_errno set.
 */
struct policy *policy_build_ex(const struct policy_build_params *prm, struct diag_list *dl);

/** Free a policy; NULL-tolerant. Only once no worker can hold it. */
void policy_free(struct policy *p);

/** Name of an enum policy_lb value ("RANDOM", "ROUND_ROBIN", ...). */
const char *policy_lb_name(unsigned int lb);

/**
 * Print what --check shows: where outbound comes from, the Gateways that
 * select this appliance with their servers, then the compiled allowlist, one
 * line per rule (source, ServiceEntry, destination, port, protocol, NAT,
 * DestinationRule / VirtualService effects).
 */
void policy_print(const struct policy *p, FILE *out);

#endif
