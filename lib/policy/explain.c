/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * egressctl explain: the verdict from the workers' own classifier, and for
 * a deny the rule the flow nearly matched, as a sentence in Istio terms
 * (explain.h). A linear walk of the rules: the operator asks, not a packet.
 */
#include <stdio.h>
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

enum policy_explain_why
policy_closest_rule(const struct policy *p, const struct flow_key *k, uint32_t *closest)
{
	uint32_t dst = rte_be_to_cpu_32(k->dst_ip), i, best = POLICY_NO_RULE;
	uint16_t port = rte_be_to_cpu_16(k->dst_port);
	int best_score = -1;
	enum policy_explain_why why = POLICY_EXPLAIN_NO_ADDRESS;

	/* 1. the rules that list the address: another protocol on this port
	 * first, else the same protocol, else any; the longest prefix */
	for (i = 0; i < p->n_rules; i++) {
		const struct policy_rule *r = &p->rules[i];
		int score;

		if (!covers(r, dst))
			continue;
		score = r->prefix_len + (r->port == port ? 200 : r->proto == k->proto ? 100 : 0);
		if (score > best_score) {
			best_score = score;
			best = i;
		}
	}
	if (best != POLICY_NO_RULE) {
		*closest = best;
		return p->rules[best].port == port ? POLICY_EXPLAIN_NO_PROTO :
						     POLICY_EXPLAIN_NO_PORT;
	}
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
