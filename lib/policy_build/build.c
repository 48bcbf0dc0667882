/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Building and freeing a policy: load the sources, resolve the names DNS
 * entries need, compile (compile.c), and build the classifier the workers
 * read: /32 rules in an exact-match table, the other prefixes in an rte_acl
 * context over the flow_key layout (classify.c looks keys up in both).
 *
 * Control thread only: allocates freely, never logs or prints.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_acl.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "compile_private.h"
#include "explain.h"

enum {
	ACL_FIELD_PROTO,
	ACL_FIELD_DST,
	ACL_FIELD_SPORT,
	ACL_FIELD_DPORT,
	ACL_NUM_FIELDS
};

RTE_ACL_RULE_DEF(acl_rule, ACL_NUM_FIELDS);

/*
 * rte_acl reads its input in 4-byte groups (input_index); the first field
 * must be one byte long. No rule looks at the source address, so it is not
 * a field: four transitions less per key and a slightly smaller trie (the
 * wildcard bytes mostly collapse, so bench-classify sees it within noise).
 * Both ports share one group, as in DPDK's l3fwd-acl: a group is consumed
 * four bytes at a time, so the destination port cannot stand alone.
 */
static const struct rte_acl_field_def acl_fields[ACL_NUM_FIELDS] = {
	[ACL_FIELD_PROTO] = {
		.type = RTE_ACL_FIELD_TYPE_BITMASK, .size = sizeof(uint8_t),
		.field_index = ACL_FIELD_PROTO, .input_index = 0,
		.offset = offsetof(struct flow_key, proto),
	},
	[ACL_FIELD_DST] = {
		.type = RTE_ACL_FIELD_TYPE_MASK, .size = sizeof(uint32_t),
		.field_index = ACL_FIELD_DST, .input_index = 1,
		.offset = offsetof(struct flow_key, dst_ip),
	},
	[ACL_FIELD_SPORT] = {
		.type = RTE_ACL_FIELD_TYPE_RANGE, .size = sizeof(uint16_t),
		.field_index = ACL_FIELD_SPORT, .input_index = 2,
		.offset = offsetof(struct flow_key, src_port),
	},
	[ACL_FIELD_DPORT] = {
		.type = RTE_ACL_FIELD_TYPE_RANGE, .size = sizeof(uint16_t),
		.field_index = ACL_FIELD_DPORT, .input_index = 2,
		.offset = offsetof(struct flow_key, dst_port),
	},
};

/* ------------------------------------------------------------------ */
/* The classifier                                                      */

static uint64_t
dpdk_heap_bytes(void)
{
	struct rte_malloc_socket_stats st;
	uint64_t total = 0;
	unsigned int i;

	for (i = 0; i < rte_socket_count(); i++)
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			total += st.heap_allocsz_bytes;
	return total;
}

static int
build_exact(struct policy *p, uint32_t n_exact)
{
	uint32_t slots = 16, i;
	struct policy_exact *t;

	while (slots < 2 * n_exact)
		slots *= 2;
	t = rte_malloc_socket("policy_exact", sizeof(*t) + (size_t)slots * sizeof(t->slot[0]),
			      RTE_CACHE_LINE_SIZE, SOCKET_ID_ANY);
	if (t == NULL)
		return -ENOMEM;
	t->mask = slots - 1;
	for (i = 0; i < slots; i++)
		t->slot[i].key = EXACT_EMPTY;
	for (i = 0; i < p->n_rules; i++) {
		const struct policy_rule *pr = &p->rules[i];
		uint64_t k;
		uint32_t s;

		if (pr->prefix_len != 32)
			continue;
		k = exact_key(htonl(pr->dst_ip), htons(pr->port), pr->proto);
		for (s = exact_hash(k) & t->mask;
		     t->slot[s].key != EXACT_EMPTY && t->slot[s].key != k; s = (s + 1) & t->mask)
			;
		/* the same key twice has the same targets (check_conflicts): keep the first */
		if (t->slot[s].key == k)
			continue;
		t->slot[s].key = k;
		t->slot[s].rule = i;
	}
	p->exact = t;
	return 0;
}

static int
build_acl(struct policy *p, bool all)
{
	struct rte_acl_param prm = {
		.socket_id = SOCKET_ID_ANY,
		.rule_size = RTE_ACL_RULE_SZ(ACL_NUM_FIELDS),
		.max_rule_num = p->stats.n_acl,
	};
	struct rte_acl_config cfg = {
		.num_categories = 1,
		.num_fields = ACL_NUM_FIELDS,
	};
	static unsigned int seq;
	char name[RTE_ACL_NAMESIZE];
	struct acl_rule *rules;
	uint32_t i, n = 0;
	int rc;

	/* rte_acl names are global to the process: generation + sequence */
	snprintf(name, sizeof(name), "egacl%u_%u", p->generation, seq++);
	prm.name = name;
	p->acl = rte_acl_create(&prm);
	if (p->acl == NULL)
		return -rte_errno;
	rules = calloc(p->stats.n_acl, sizeof(*rules));
	if (rules == NULL)
		return -ENOMEM;
	for (i = 0; i < p->n_rules; i++) {
		const struct policy_rule *pr = &p->rules[i];
		struct acl_rule *r = &rules[n];

		if (!all && pr->prefix_len == 32)
			continue;
		n++;
		r->data.category_mask = 1;
		r->data.priority = pr->prefix_len + 1;
		r->data.userdata = i + 1;
		r->field[ACL_FIELD_PROTO].value.u8 = pr->proto;
		r->field[ACL_FIELD_PROTO].mask_range.u8 = 0xff;
		r->field[ACL_FIELD_DST].value.u32 = pr->dst_ip;
		r->field[ACL_FIELD_DST].mask_range.u32 = pr->prefix_len;
		r->field[ACL_FIELD_SPORT].value.u16 = 0;
		r->field[ACL_FIELD_SPORT].mask_range.u16 = 0xffff;
		r->field[ACL_FIELD_DPORT].value.u16 = pr->port;
		r->field[ACL_FIELD_DPORT].mask_range.u16 = pr->port;
	}
	rc = rte_acl_add_rules(p->acl, (const struct rte_acl_rule *)rules, n);
	free(rules);
	if (rc < 0)
		return rc;
	memcpy(cfg.defs, acl_fields, sizeof(acl_fields));
	return rte_acl_build(p->acl, &cfg);
}

/*
 * rte_acl's build grows faster than linearly with its rules (about 0.5 s for
 * 12 000, 7 s for 120 000 here), while most ServiceEntries name single
 * addresses: those go to the exact table, built in linear time, and only
 * prefixes to rte_acl. A /32 match is the longest prefix there is, so a hit
 * in the table needs no rte_acl at all; doc/policy.md has the measurements.
 */
int
build_classifier(struct policy *p, enum policy_classifier how)
{
	uint64_t heap0 = dpdk_heap_bytes();
	bool all = how == POLICY_CLASSIFIER_ACL;
	uint32_t i;
	int rc = 0;

	p->stats.n_exact = 0;
	for (i = 0; !all && i < p->n_rules; i++)
		p->stats.n_exact += p->rules[i].prefix_len == 32;
	p->stats.n_acl = p->n_rules - p->stats.n_exact;
	if (p->stats.n_exact > 0)
		rc = build_exact(p, p->stats.n_exact);
	if (rc == 0 && p->stats.n_acl > 0)
		rc = build_acl(p, all);
	p->stats.classifier_bytes = dpdk_heap_bytes() - heap0;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Building and freeing                                                */

/* A policy shell that owns its model and strings from the start. */
static struct policy *
policy_alloc(const struct egress_config *cfg, uint32_t generation)
{
	struct policy *p = calloc(1, sizeof(*p));
	struct policy_store *st = calloc(1, sizeof(*st));

	if (p == NULL || st == NULL) {
		free(p);
		free(st);
		return NULL;
	}
	p->strings = st;
	p->generation = generation;
	p->outbound = cfg != NULL ? cfg->outbound : EGRESS_OUTBOUND_REGISTRY_ONLY;
	p->built_at = (uint64_t)time(NULL);
	return p;
}

/* The names the model's DNS entries need, registered with the cache. */
static void
dns_want_model(struct dns_cache *dns, const struct policy_model *m)
{
	unsigned int i, k;

	for (i = 0; i < m->n_ses; i++) {
		const struct service_entry *se = &m->ses[i];

		if (!se_uses_dns(se))
			continue;
		for (k = 0; k < se->n_endpoints; k++)
			if (!se->endpoints[k].is_ip && !se->endpoints[k].is_ip6 &&
			    se->endpoints[k].address != NULL)
				dns_want(dns, se->endpoints[k].address);
		for (k = 0; se->n_endpoints == 0 && k < se->n_hosts; k++)
			if (se->hosts[k] != NULL && strchr(se->hosts[k], '*') == NULL)
				dns_want(dns, se->hosts[k]);
	}
}

struct policy *
policy_build_ex(const struct policy_build_params *prm, struct diag_list *dl)
{
	const struct egress_config *cfg = prm->cfg;
	struct policy_store *st;
	struct policy *p;
	uint64_t t0 = mono_ns();
	int rc;

	p = policy_alloc(cfg, prm->generation);
	if (p == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	st = p->strings;
	rc = istio_load_sources(cfg, &st->m, dl);
	p->stats.load_ns = mono_ns() - t0;
	if (rc == 0 && diag_errors(dl) == 0 && prm->dns != NULL) {
		dns_mark_begin(prm->dns);
		dns_want_model(prm->dns, &st->m);
		if (prm->dns_wait)
			dns_resolve_now(prm->dns, prm->now_ms);
	}
	if (rc == 0 && diag_errors(dl) == 0)
		rc = policy_compile(p, &st->m, cfg, prm->dns, prm->classifier, dl);
	/* the data path names the near miss of every denied new flow */
	if (rc == 0 && diag_errors(dl) == 0)
		rc = policy_near_build(p);
	if (rc < 0 || diag_errors(dl) > 0) {
		policy_free(p);
		rte_errno = rc == -ENOMEM ? ENOMEM : EINVAL;
		return NULL;
	}
	if (prm->dns != NULL)
		dns_sweep(prm->dns);
	return p;
}

struct policy *
policy_build(const struct egress_config *cfg, uint32_t generation, struct diag_list *dl)
{
	const struct policy_build_params prm = { .cfg = cfg, .generation = generation };

	return policy_build_ex(&prm, dl);
}

void
policy_free(struct policy *p)
{
	struct policy_store *st;
	uint32_t i;

	if (p == NULL)
		return;
	rte_free(p->exact);
	rte_acl_free(p->acl);
	free(p->rules);
	free(p->targets);
	free(p->target_names);
	free(p->near);
	st = p->strings;
	if (st != NULL) {
		policy_model_free(&st->m);
		for (i = 0; i < st->n_strs; i++)
			free(st->strs[i]);
		free(st->strs);
		free(st);
	}
	free(p);
}
