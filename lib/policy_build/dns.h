/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Names for ServiceEntries with resolution DNS / DNS_ROUND_ROBIN: a cache of
 * A answers (AAAA counted: IPv6 is not forwarded yet) that the control
 * thread owns, refreshed when each answer's TTL runs out.
 *
 *   policy_build_ex() --dns_want()--> cache <--dns_refresh() each tick-- ctl
 *                     <--dns_get()---   |  \--jobs--> resolver thread (optional)
 *                                        \-- changed: the caller rebuilds and publishes
 *
 * Workers never see the cache: answers reach them compiled into a policy.
 * The lookups themselves (res_nquery(), blocking) run on a thread of the
 * cache's own when dns_params.background is set, else inline in
 * dns_refresh(), bounded by max_per_refresh. A lookup that fails for want
 * of a resolver (timeout, refused, SERVFAIL) keeps the last good addresses,
 * is counted and reported once (dns_drain_diags()); NXDOMAIN and an empty
 * answer are answers: the name then has no address.
 *
 * Thread-safety: every function is for the one thread that owns the cache
 * (the control thread); the resolver thread only exchanges jobs with it
 * through two single-producer single-consumer rings.
 */
#ifndef EGRESS_DNS_H
#define EGRESS_DNS_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"

#define DNS_MAX_ADDRS 16 /**< A records kept per name (the lowest ones) */

struct dns_params {
	const char *resolv_conf;      /**< NULL: the system's (/etc/resolv.conf, read
				       by res_ninit() at every lookup round); else a
				       file of "nameserver IPv4" and "options
				       timeout:N attempts:N" lines, re-read per round */
	uint16_t port;                /**< 0: 53; tests run a stub on another port */
	bool background;              /**< lookups on a resolver thread of the cache */
	uint32_t min_ttl_ms;          /**< answers are kept at least this long; default 1 s */
	uint32_t max_ttl_ms;          /**< and at most this long; default 1 h */
	uint32_t retry_ms;            /**< next try after a failure; default 5 s */
	uint32_t negative_ttl_ms;     /**< NXDOMAIN / no A record kept; default 30 s */
	unsigned int max_per_refresh; /**< lookups started per dns_refresh(); default 64 */
};

enum dns_state {
	DNS_PENDING = 0, /**< never answered yet */
	DNS_OK,          /**< addresses from the last lookup */
	DNS_NONE,        /**< NXDOMAIN or no A record */
	DNS_STALE,       /**< the last lookup failed: last good addresses kept */
	DNS_FAILED,      /**< failed, and never answered before */
};

/** What the cache knows of one name (valid until the next call on the cache). */
struct dns_answer {
	enum dns_state state;
	uint32_t addrs[DNS_MAX_ADDRS]; /**< network order, sorted: a server that
					    rotates its records changes nothing */
	unsigned int n_addrs;
	unsigned int n_v6;    /**< AAAA records seen (not forwarded) */
	uint64_t expires_ms;  /**< when it is looked up again */
	uint64_t answered_ms; /**< last good answer; 0: never */
	const char *error;    /**< last failure, or NULL */
};

struct dns_stats {
	uint64_t lookups;  /**< names looked up (A + AAAA counts once) */
	uint64_t answers;  /**< lookups that returned an answer (NXDOMAIN too) */
	uint64_t failures; /**< lookups that failed: resolver unreachable or broken */
	uint64_t changes;  /**< times a name's address set changed */
	uint64_t names;    /**< names in the cache */
	uint64_t stale;    /**< names served from their last good answer now */
};

struct dns_cache;

/**
 * Create a cache (and its resolver thread when prm->background).
 * @return the cache, or NULL with rte_errno (EINVAL bad params, ENOMEM, or the
 *         error of pthread_create).
 */
struct dns_cache *dns_cache_create(const struct dns_params *prm);

/** Stop the resolver thread and free everything; NULL-tolerant. */
void dns_cache_free(struct dns_cache *c);

/**
 * Need name in the policy being built: adds it (due now) when new, and marks
 * it wanted by the current build. @return 0, -EINVAL (not a name), -ENOMEM.
 */
int dns_want(struct dns_cache *c, const char *name);

/** Begin a build: names not wanted again before dns_sweep() are dropped. */
void dns_mark_begin(struct dns_cache *c);

/** After a successful build: forget names it did not want. */
void dns_sweep(struct dns_cache *c);

/** The cache's answer for name, or NULL when it is not in the cache. */
const struct dns_answer *dns_get(const struct dns_cache *c, const char *name);

/**
 * Look up, in the calling thread, every name never answered yet (blocking).
 * After the first failure for want of a resolver the remaining names are
 * marked failed without trying (one timeout, not one per name).
 * @return the number of names looked up.
 */
unsigned int dns_resolve_now(struct dns_cache *c, uint64_t now_ms);

/**
 * The control thread's tick: collect finished lookups, start (or, without a
 * resolver thread, do) at most max_per_refresh lookups of names whose answer
 * expired at now_ms. *changed is set when the address set of any name changed
 * since the previous call: the caller then rebuilds the policy with
 * policy_build_ex() and publishes it. Never blocks with a resolver thread.
 * @return 0.
 */
int dns_refresh(struct dns_cache *c, uint64_t now_ms, bool *changed);

/** True when an answer changed and no dns_refresh() has reported it yet. */
bool dns_changed(const struct dns_cache *c);

/**
 * Move the cache's reports (a name's resolver failing, recovering, losing
 * its addresses) to dl, one warning per change of state, not per retry.
 * @return how many were moved.
 */
size_t dns_drain_diags(struct dns_cache *c, struct diag_list *dl);

void dns_stats_get(const struct dns_cache *c, struct dns_stats *st);

/** "PENDING", "OK", ... */
const char *dns_state_name(enum dns_state s);

#endif
