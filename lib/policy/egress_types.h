/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The appliance's settings the data path acts on (policy.outbound,
 * policy.deny, policy.on_revoke, flows.no_flow, nat.port_alloc, the two
 * ports), shared by the appliance config loader (lib/policy_build/config.h),
 * the compiled policy and lib/dp.
 */
#ifndef EGRESS_TYPES_H
#define EGRESS_TYPES_H

#include <stdint.h>

enum egress_port_role {
	EGRESS_PORT_INSIDE = 0,  /**< the mesh side */
	EGRESS_PORT_OUTSIDE = 1, /**< the internet / Memorystore side */
	EGRESS_PORT_MAX
};

enum egress_outbound {
	EGRESS_OUTBOUND_REGISTRY_ONLY = 0,
	EGRESS_OUTBOUND_ALLOW_ANY,
};

enum egress_deny {
	EGRESS_DENY_DROP = 0,
	EGRESS_DENY_RESET,
};

/** flows.no_flow: an inside TCP segment without a flow that opens none */
enum egress_no_flow {
	EGRESS_NO_FLOW_DROP = 0, /**< dropped, counted (no_flow_not_syn) */
	EGRESS_NO_FLOW_RESET,    /**< and answered by a RST (rate-limited) */
};

enum egress_revoke {
	EGRESS_REVOKE_RESET = 0,
	EGRESS_REVOKE_DROP,
	EGRESS_REVOKE_KEEP,
};

enum egress_port_alloc {
	EGRESS_PORT_ALLOC_RANDOM = 0,
	EGRESS_PORT_ALLOC_PRESERVE,
};

/** poll.idle: what a worker does while its queues are empty. */
enum egress_poll_idle {
	EGRESS_POLL_BUSY = 0, /**< poll on: the core is the data path's alone */
	EGRESS_POLL_BACKOFF,  /**< sleep, longer and longer, up to poll.max_sleep_us */
	/** wait for an RX interrupt, at most poll.max_sleep_us (in ms); backoff on
	 *  a port without them */
	EGRESS_POLL_INTERRUPT,
};

#define EGRESS_MAX_NAT_ADDRS 64

/**
 * The longest timeout egressd keeps, in ms: 168 h. A flows.timeouts value
 * above it is an error; a DestinationRule connectTimeout above it (Istio takes
 * any positive duration) is clamped to it, with a warning. Flows keep their
 * last activity as 32-bit ms (flow_age()), so a timeout of 2^32 ms (49.7 days)
 * or more wraps; a week stays far below even 2^31 - 1 ms, so a flow the sweep
 * reaches late still compares as expired.
 */
#define EGRESS_TIMEOUT_MAX_MS (UINT64_C(168) * 3600 * 1000)

#endif
