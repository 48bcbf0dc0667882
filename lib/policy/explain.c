/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * egressctl explain: the verdict from the workers' own classifier, and for
 * a deny the rule the flow nearly matched, as a sentence in Istio terms
 * (explain.h). The near miss (policy_near_miss()), which the data path
 * asks per denied new flow, searches an index by address built at compile
 * time; the rest, for a key no rule lists, is a linear walk of the rules:
 * the operator asks, not a packet.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>

#include "explain.h"

#define PORTS_LISTED 8

static bool
covers(const struct policy_rule *r, uint32_t dst)
{
	uint32_t mask = r->prefix_len ? ~UINT32_C(0) << (32 - r->prefix_len) : 0;

	return (dst & mask) == r->dst_ip;
}

/* Leading bits dst and the rule's address share, at most its prefix. */
static unsigned int
common_bits(const struct policy_rule *r, uint32_t dst)
{
	uint32_t x = dst ^ r->dst_ip;
	unsigned int n = x == 0 ? 32 : (unsigned int)__builtin_clz(x);

	return n < r->prefix_len ? n : r->prefix_len;
}

/* Rule r's score as the near miss of (port, proto): a rule of this port
 * first (it lacks the protocol), then of this protocol, then any; the
 * longest prefix within each. The tiers never tie (prefixes are <= 32). */
static int
near_score(const struct policy_rule *r, uint16_t port, uint8_t proto)
{
	return r->prefix_len + (r->port == port ? 200 : r->proto == proto ? 100 : 0);
}

static int
near_cmp(const void *x, const void *y)
{
	const struct policy_near *a = x, *b = y;

	if (a->prefix_len != b->prefix_len)
		return a->prefix_len < b->prefix_len ? -1 : 1;
	if (a->dst_ip != b->dst_ip)
		return a->dst_ip < b->dst_ip ? -1 : 1;
	return a->rule < b->rule ? -1 : a->rule > b->rule;
}

int
policy_near_build(struct policy *p)
{
	uint32_t i;
	bool seen[33] = { false };

	p->near = NULL;
	p->n_near_lens = 0;
	if (p->n_rules == 0)
		return 0;
	p->near = malloc(sizeof(*p->near) * p->n_rules);
	if (p->near == NULL)
		return -ENOMEM;
	for (i = 0; i < p->n_rules; i++) {
		p->near[i] = (struct policy_near){ .dst_ip = p->rules[i].dst_ip,
						   .rule = i,
						   .prefix_len = p->rules[i].prefix_len };
		seen[p->rules[i].prefix_len] = true;
	}
	qsort(p->near, p->n_rules, sizeof(*p->near), near_cmp);
	for (i = 0; i <= 32; i++)
		if (seen[i])
			p->near_lens[p->n_near_lens++] = (uint8_t)i;
	return 0;
}

/* The best-scoring rule of prefix length len covering dst, from p->near. */
static void
near_lookup(const struct policy *p, uint8_t len, uint32_t dst, uint16_t port, uint8_t proto,
	    uint32_t *best, int *best_score)
{
	struct policy_near key = { .dst_ip = dst & (len ? ~UINT32_C(0) << (32 - len) : 0),
				   .rule = 0,
				   .prefix_len = len };
	uint32_t lo = 0, hi = p->n_rules;

	while (lo < hi) { /* the first row >= key */
		uint32_t mid = lo + (hi - lo) / 2;

		if (near_cmp(&p->near[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* rows of one prefix in rule order: the first of a score wins, as in
	 * the linear walk */
	for (; lo < p->n_rules && p->near[lo].prefix_len == len && p->near[lo].dst_ip == key.dst_ip;
	     lo++) {
		int score = near_score(&p->rules[p->near[lo].rule], port, proto);

		if (score > *best_score) {
			*best_score = score;
			*best = p->near[lo].rule;
		}
	}
}

enum policy_explain_why
policy_near_miss(const struct policy *p, const struct flow_key *k, uint32_t *rule)
{
	uint32_t dst = rte_be_to_cpu_32(k->dst_ip), i, best = POLICY_NO_RULE;
	uint16_t port = rte_be_to_cpu_16(k->dst_port);
	int best_score = -1;

	if (p->near != NULL) {
		for (i = 0; i < p->n_near_lens; i++)
			near_lookup(p, p->near_lens[i], dst, port, k->proto, &best, &best_score);
	} else {
		for (i = 0; i < p->n_rules; i++) {
			int score;

			if (!covers(&p->rules[i], dst))
				continue;
			score = near_score(&p->rules[i], port, k->proto);
			if (score > best_score) {
				best_score = score;
				best = i;
			}
		}
	}
	*rule = best;
	if (best == POLICY_NO_RULE)
		return POLICY_EXPLAIN_NO_ADDRESS;
	return p->rules[best].port == port ? POLICY_EXPLAIN_NO_PROTO : POLICY_EXPLAIN_NO_PORT;
}

const char *
policy_rule_label(const struct policy_rule *r, char *buf, size_t size)
{
	const char *name = r->name != NULL ? r->name : "";

	/* policy_rule.name is "namespace/name", or "name" without a namespace */
	snprintf(buf, size, "ServiceEntry/%s%s", strchr(name, '/') != NULL ? "" : "default/", name);
	return buf;
}

enum policy_explain_why
policy_closest_rule(const struct policy *p, const struct flow_key *k, uint32_t *closest)
{
	uint32_t dst = rte_be_to_cpu_32(k->dst_ip), i, best = POLICY_NO_RULE;
	uint16_t port = rte_be_to_cpu_16(k->dst_port);
	int best_score = -1;
	enum policy_explain_why why = policy_near_miss(p, k, closest);

	/* 1. the rules that list the address (policy_near_miss()) */
	if (why != POLICY_EXPLAIN_NO_ADDRESS)
		return why;
	/* 2. none does: of the same port and protocol, the nearest address
	 * (most leading bits in common), else of any */
	for (i = 0; i < p->n_rules; i++) {
		const struct policy_rule *r = &p->rules[i];
		int score = (int)common_bits(r, dst) +
			    (r->port == port && r->proto == k->proto ? 100 : 0);

		if (score > best_score) {
			best_score = score;
			best = i;
		}
	}
	*closest = best;
	return why;
}

static const char *
proto_name(uint8_t proto)
{
	return proto == 17 ? "udp" : "tcp";
}

static void
fmt_ip(char *buf, size_t size, uint32_t host)
{
	snprintf(buf, size, "%u.%u.%u.%u", host >> 24, (host >> 16) & 0xff, (host >> 8) & 0xff,
		 host & 0xff);
}

/* "6379/tcp, 6380/tcp": the ports r's entry lists for r's address and protocol. */
static void
entry_ports(const struct policy *p, const struct policy_rule *r, char *buf, size_t size)
{
	size_t used = 0;
	unsigned int n = 0;
	uint32_t i;

	buf[0] = '\0';
	for (i = 0; i < p->n_rules && used < size; i++) {
		const struct policy_rule *o = &p->rules[i];

		if (o->dst_ip != r->dst_ip || o->prefix_len != r->prefix_len ||
		    o->proto != r->proto || strcmp(o->name, r->name) != 0)
			continue;
		if (n++ == PORTS_LISTED) {
			used += (size_t)snprintf(buf + used, size - used, ", ...");
			break;
		}
		used += (size_t)snprintf(buf + used, size - used, "%s%u/%s", n > 1 ? ", " : "",
					 o->port, proto_name(o->proto));
	}
}

void
policy_explain(const struct policy *p, const struct flow_key *k, struct policy_explanation *e)
{
	const struct flow_key *kp = k;
	const struct policy_rule *r;
	uint16_t port = rte_be_to_cpu_16(k->dst_port);
	char dst[16], at[16], ports[128];

	memset(e, 0, sizeof(*e));
	e->closest = POLICY_NO_RULE;
	policy_classify_bulk(p, &kp, 1, &e->rule);
	fmt_ip(dst, sizeof(dst), rte_be_to_cpu_32(k->dst_ip));
	if (e->rule != POLICY_NO_RULE) {
		r = &p->rules[e->rule];
		fmt_ip(at, sizeof(at), r->dst_ip);
		e->allow = true;
		e->why = POLICY_EXPLAIN_MATCH;
		snprintf(e->reason, sizeof(e->reason),
			 "allowed by ServiceEntry %s: %s/%u port %u/%s", r->name, at, r->prefix_len,
			 r->port, proto_name(r->proto));
		return;
	}
	if (p->outbound == EGRESS_OUTBOUND_ALLOW_ANY) {
		e->allow = true;
		e->why = POLICY_EXPLAIN_ALLOW_ANY;
		snprintf(e->reason, sizeof(e->reason),
			 "no ServiceEntry lists %s port %u/%s; outbound ALLOW_ANY passes it", dst,
			 port, proto_name(k->proto));
		return;
	}
	e->why = policy_closest_rule(p, k, &e->closest);
	if (e->closest == POLICY_NO_RULE) {
		snprintf(e->reason, sizeof(e->reason),
			 "no ServiceEntry lists %s; the policy has no rules", dst);
		return;
	}
	r = &p->rules[e->closest];
	fmt_ip(at, sizeof(at), r->dst_ip);
	switch (e->why) {
	case POLICY_EXPLAIN_NO_PORT:
		entry_ports(p, r, ports, sizeof(ports));
		snprintf(e->reason, sizeof(e->reason),
			 "%u is not a port of ServiceEntry %s (%s/%u lists %s)", port, r->name, at,
			 r->prefix_len, ports);
		break;
	case POLICY_EXPLAIN_NO_PROTO:
		snprintf(e->reason, sizeof(e->reason),
			 "%s is not a protocol of port %u of ServiceEntry %s (%s/%u lists %u/%s)",
			 proto_name(k->proto), port, r->name, at, r->prefix_len, r->port,
			 proto_name(r->proto));
		break;
	default:
		snprintf(
			e->reason, sizeof(e->reason),
			"no ServiceEntry lists %s; the closest is ServiceEntry %s (%s/%u port %u/%s)",
			dst, r->name, at, r->prefix_len, r->port, proto_name(r->proto));
		break;
	}
}
