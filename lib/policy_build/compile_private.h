/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the files that make and read a struct policy share:
 *   compile.c               model -> rules: host indexes, DestinationRule
 *                           settings, whole-table checks, Sidecar outbound
 *   compile_serviceentry.c  a ServiceEntry's rules and NAT targets (DNS too)
 *   compile_routes.c        VirtualService routes
 *   build.c                 policy_build*(), the classifier, policy_free()
 *   classify.c              policy_classify_bulk() (any thread, no locks)
 *   print.c                 what --check prints
 */
#ifndef EGRESS_COMPILE_PRIVATE_H
#define EGRESS_COMPILE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <rte_hash_crc.h>

#include "dns.h"
#include "policy.h"
#include "policy_build.h"
#include "policy_tables.h"
#include "policy_private.h"

/* What a policy owns besides its arrays: the model and the strings made here. */
struct policy_store {
	struct policy_model m;
	char **strs;
	uint32_t n_strs, cap_strs;
};

/* Compile-time facts about one rule, dropped once the rules are final. */
struct rule_meta {
	uint32_t se;        /* the entry whose cluster it is (cap key) */
	uint32_t port;      /* the cluster's port (cap key) */
	const char *subset; /* the cluster's subset (cap key), or NULL */
	bool dead;          /* replaced by a VirtualService rule */
};

/* Growable arrays of the compiler's output. */
struct builder {
	struct policy_rule *rules;
	struct rule_meta *meta;
	uint32_t n_rules, cap_rules, cap_meta;
	struct policy_target *targets;
	const char **tnames;
	uint32_t n_targets, cap_targets, cap_tnames;
};

/* A host name and the index of what declares it (ServiceEntry, DestinationRule). */
struct host_ref {
	const char *host; /* fully qualified */
	uint32_t idx;
};

/* Everything one compilation works with. */
struct cc {
	const struct policy_model *m;
	const struct egress_config *cfg;
	struct dns_cache *dns;
	struct diag_list *dl;
	struct builder *b;
	struct policy_store *st;
	bool oom;
	const char **se_names;     /* [n_ses] "ns/name" */
	const char **dr_names;     /* [n_drs] */
	const char **se_hosts_fq;  /* per SE: its first host, qualified (display) */
	struct host_ref *se_exact; /* every non-wildcard SE host, sorted */
	uint32_t n_se_exact;
	struct host_ref *se_wild; /* every wildcard SE host */
	uint32_t n_se_wild;
	struct host_ref *dr_exact; /* DestinationRules by exact host, sorted */
	uint32_t n_dr_exact;
	struct host_ref *dr_wild;
	uint32_t n_dr_wild;
	bool *dr_used;
};

/* One rule to add: its key, targets, settings and where it comes from. */
struct rule_spec {
	uint32_t dst;
	uint8_t len;
	uint8_t flags;
	const char *dst_name;
	uint32_t first, n;
	uint16_t target_port;
	struct dr_settings s;
	const char *dr;
	const char *route;
	const struct ypos *pos;
	uint32_t cap_se, cap_port;
	const char *cap_subset;
};

static inline uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline const char *
outbound_name(enum egress_outbound o)
{
	return o == EGRESS_OUTBOUND_ALLOW_ANY ? "ALLOW_ANY" : "REGISTRY_ONLY";
}

/* compile.c */
int cc_grow(void **v, uint32_t *cap, uint32_t need, size_t elem);
const char *cc_printf(struct cc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *cc_qualified(struct cc *c, const char *ns, const char *name);
const char *cc_fqdn(struct cc *c, const char *host, const char *ns);
int dr_for_se(struct cc *c, uint32_t se_i);
int dr_subset_elsewhere(struct cc *c, uint32_t se_i, const char *subset);
int se_for_host(struct cc *c, const char *host, const char *ns);
int se_hidden_for_host(struct cc *c, const char *host, const char *ns);
const struct dr_subset *dr_subset_find(const struct destination_rule *dr, const char *name);
struct dr_settings dr_effective(const struct destination_rule *dr, const struct dr_subset *sub,
				uint32_t port);
bool dr_settings_equal(const struct dr_settings *a, const struct dr_settings *b);

/* compile_serviceentry.c */
bool se_uses_dns(const struct service_entry *se);
int se_targets(struct cc *c, uint32_t se_i, const struct se_port *sp, const struct dr_subset *sub,
	       uint16_t dflt, bool quiet, bool *from_dns);
int cc_rule_add(struct cc *c, uint32_t se_i, const struct se_port *sp, const struct rule_spec *rs);
bool cc_rule_exists(const struct builder *b, uint32_t from, uint32_t dst, uint8_t len,
		    uint16_t port, uint8_t proto);
int compile_se(struct cc *c, uint32_t se_i);

/* compile_routes.c */
int compile_vss(struct cc *c);

/* build.c */
int build_classifier(struct policy *p, enum policy_classifier how);

#endif
