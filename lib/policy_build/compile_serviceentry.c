/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rules of a ServiceEntry: each address times each port, with the NAT
 * targets of that port (STATIC endpoints, DNS answers, with their weights)
 * and what the DestinationRule of the entry's host says. Routes reuse the
 * targets and cc_rule_add() (compile_routes.c).
 *
 * Control thread only.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "compile_private.h"

/* ------------------------------------------------------------------ */
/* DNS answers                                                         */

/*
 * The answer for a name an entry needs, with what the operator must know
 * about it (unless quiet: the entry's other ports already said it).
 */
static const struct dns_answer *
dns_answer(struct cc *c, const char *se_name, const char *name, const struct ypos *pos, bool quiet)
{
	const struct dns_answer *a;
	int rc;

	if (c->dns == NULL) {
		if (!quiet)
			diag_add(c->dl, DIAG_WARNING, pos->file, pos->line, pos->col,
				 "ServiceEntry %s: %s is not resolved (this build has no DNS "
				 "resolver); it adds no address",
				 se_name, name);
		return NULL;
	}
	rc = dns_want(c->dns, name);
	if (rc == -ENOMEM) {
		c->oom = true;
		return NULL;
	}
	a = rc == 0 ? dns_get(c->dns, name) : NULL;
	if (a == NULL || quiet)
		return a;
	switch (a->state) {
	case DNS_PENDING:
		diag_add(c->dl, DIAG_WARNING, pos->file, pos->line, pos->col,
			 "ServiceEntry %s: %s is not resolved yet; it adds no address until "
			 "it is",
			 se_name, name);
		break;
	case DNS_NONE:
		diag_add(c->dl, DIAG_WARNING, pos->file, pos->line, pos->col,
			 "ServiceEntry %s: %s has no IPv4 address (NXDOMAIN or no A record)",
			 se_name, name);
		break;
	case DNS_FAILED:
		diag_add(c->dl, DIAG_WARNING, pos->file, pos->line, pos->col,
			 "ServiceEntry %s: %s cannot be resolved (%s); it adds no address", se_name,
			 name, a->error != NULL ? a->error : "no answer");
		break;
	case DNS_STALE:
		diag_add(c->dl, DIAG_WARNING, pos->file, pos->line, pos->col,
			 "ServiceEntry %s: the resolver fails for %s (%s); its last good "
			 "addresses are kept",
			 se_name, name, a->error != NULL ? a->error : "no answer");
		break;
	case DNS_OK:
		break;
	}
	if (a->n_v6 > 0)
		diag_add(c->dl, DIAG_WARNING, pos->file, pos->line, pos->col,
			 "ServiceEntry %s: %s has %u IPv6 address%s, not forwarded (IPv6 is not "
			 "forwarded yet)",
			 se_name, name, a->n_v6, a->n_v6 == 1 ? "" : "es");
	return a;
}

/* The names a DNS entry needs: endpoint hostnames, else its hosts. */
bool
se_uses_dns(const struct service_entry *se)
{
	return se->resolution == SE_RES_DNS || se->resolution == SE_RES_DNS_ROUND_ROBIN;
}

/* ------------------------------------------------------------------ */
/* Targets                                                             */

static int
target_add(struct cc *c, uint32_t ip_net, uint16_t port, uint32_t weight, const char *from)
{
	struct builder *b = c->b;

	if (cc_grow((void **)&b->targets, &b->cap_targets, b->n_targets + 1, sizeof(*b->targets)) <
		    0 ||
	    cc_grow((void **)&b->tnames, &b->cap_tnames, b->n_targets + 1, sizeof(*b->tnames)) <
		    0) {
		c->oom = true;
		return -ENOMEM;
	}
	b->targets[b->n_targets] = (struct policy_target){
		.ip = ip_net,
		.port = port,
		.weight = weight,
	};
	b->tnames[b->n_targets++] = from;
	return 0;
}

/* The port an endpoint receives on: its ports map, else targetPort, else dflt. */
static uint16_t
endpoint_port(const struct se_endpoint *ep, const struct se_port *sp, uint16_t dflt)
{
	unsigned int i;

	for (i = 0; i < ep->n_ports; i++)
		if (sp->name != NULL && strcmp(ep->ports[i].name, sp->name) == 0)
			return (uint16_t)ep->ports[i].number;
	return sp->target_port != 0 ? (uint16_t)sp->target_port : dflt;
}

/* Is the endpoint in the subset (its labels include every label of the subset)? */
static bool
endpoint_in_subset(const struct se_endpoint *ep, const struct dr_subset *sub)
{
	unsigned int i, j;

	for (i = 0; sub != NULL && i < sub->n_labels; i++) {
		for (j = 0; j < ep->n_labels; j++)
			if (strcmp(ep->labels[j].key, sub->labels[i].key) == 0 &&
			    strcmp(ep->labels[j].value, sub->labels[i].value) == 0)
				break;
		if (j == ep->n_labels)
			return false;
	}
	return true;
}

/*
 * Append the NAT targets of one ServiceEntry port: its endpoints (STATIC and
 * DNS IP literals), the addresses of its endpoint names (DNS), or of its
 * hosts (DNS without endpoints). DNS_ROUND_ROBIN keeps the first address
 * only. dflt is the port a target gets when neither the endpoint nor
 * targetPort says (0: the client's). @return targets appended, or -ENOMEM.
 */
int
se_targets(struct cc *c, uint32_t se_i, const struct se_port *sp, const struct dr_subset *sub,
	   uint16_t dflt, bool quiet, bool *from_dns)
{
	const struct service_entry *se = &c->m->ses[se_i];
	bool rr = se->resolution == SE_RES_DNS_ROUND_ROBIN;
	uint32_t first = c->b->n_targets;
	unsigned int i, k;

	if (se->resolution == SE_RES_NONE)
		return 0;
	for (i = 0; i < se->n_endpoints; i++) {
		const struct se_endpoint *ep = &se->endpoints[i];
		uint16_t port = endpoint_port(ep, sp, dflt);
		uint32_t w = ep->weight ? ep->weight : 1;
		const struct dns_answer *a;

		/* ignored (warned when loaded): a unix socket, another network, us */
		if (ep->ignored || ep->address == NULL || !endpoint_in_subset(ep, sub))
			continue;
		if (ep->is_ip) {
			if (target_add(c, htonl(ep->ip), port, w, NULL) < 0)
				return -ENOMEM;
		} else if (!ep->is_ip6 && se_uses_dns(se)) {
			a = dns_answer(c, c->se_names[se_i], ep->address, &ep->pos, quiet);
			for (k = 0; a != NULL && k < a->n_addrs; k++) {
				if (target_add(c, a->addrs[k], port, w, ep->address) < 0)
					return -ENOMEM;
				*from_dns = true;
				if (rr)
					break;
			}
		}
		if (rr && c->b->n_targets > first)
			break;
	}
	if (se->n_endpoints == 0 && se_uses_dns(se)) {
		for (i = 0; i < se->n_hosts && !(rr && c->b->n_targets > first); i++) {
			const struct dns_answer *a;

			if (se->hosts[i] == NULL || strchr(se->hosts[i], '*') != NULL)
				continue;
			a = dns_answer(c, c->se_names[se_i], se->hosts[i], &se->pos, quiet);
			for (k = 0; a != NULL && k < a->n_addrs; k++) {
				uint16_t port = sp->target_port ? (uint16_t)sp->target_port : dflt;

				if (target_add(c, a->addrs[k], port, 1, se->hosts[i]) < 0)
					return -ENOMEM;
				*from_dns = true;
				if (rr)
					break;
			}
		}
	}
	return (int)(c->b->n_targets - first);
}

/*
 * Keep the sum of a rule's weights within 31 bits (the data path draws a
 * 32-bit random number modulo the total): scale down, never below 1.
 */
static uint32_t
weights_normalize(struct policy_target *t, uint32_t n)
{
	uint64_t total = 0, div;
	uint32_t i;

	for (i = 0; i < n; i++)
		total += t[i].weight;
	if (total <= INT32_MAX)
		return (uint32_t)total;
	div = total / INT32_MAX + 1;
	total = 0;
	for (i = 0; i < n; i++) {
		t[i].weight = (uint32_t)(t[i].weight / div);
		if (t[i].weight == 0)
			t[i].weight = 1;
		total += t[i].weight;
	}
	return (uint32_t)total;
}

/* ------------------------------------------------------------------ */
/* Rules                                                               */

int
cc_rule_add(struct cc *c, uint32_t se_i, const struct se_port *sp, const struct rule_spec *rs)
{
	struct builder *b = c->b;
	struct policy_rule *r;

	if (cc_grow((void **)&b->rules, &b->cap_rules, b->n_rules + 1, sizeof(*b->rules)) < 0 ||
	    cc_grow((void **)&b->meta, &b->cap_meta, b->n_rules + 1, sizeof(*b->meta)) < 0) {
		c->oom = true;
		return -ENOMEM;
	}
	r = &b->rules[b->n_rules];
	memset(r, 0, sizeof(*r));
	r->dst_ip = rs->dst;
	r->prefix_len = rs->len;
	r->proto = sp->l4proto;
	r->port = (uint16_t)sp->number;
	r->target_port = rs->target_port;
	r->first_target = rs->first;
	r->n_targets = rs->n;
	/* no target (resolution NONE): no array to point into, even at offset 0 */
	r->total_weight = rs->n ? weights_normalize(&b->targets[rs->first], rs->n) : 0;
	r->max_connections = rs->s.max_connections;
	r->cap_id = POLICY_NO_CAP;
	r->connect_timeout_ms = rs->s.connect_timeout_ms;
	r->lb = (uint8_t)rs->s.lb;
	r->flags = rs->flags;
	r->name = c->se_names[se_i];
	r->file = rs->pos->file;
	r->line = rs->pos->line;
	r->col = rs->pos->col;
	r->doc = rs->pos->doc;
	r->route = rs->route;
	r->dr = rs->dr;
	r->dst_name = rs->dst_name;
	b->meta[b->n_rules] = (struct rule_meta){
		.se = rs->cap_se,
		.port = rs->cap_port,
		.subset = rs->cap_subset,
	};
	b->n_rules++;
	return 0;
}

/* A rule for this key already added since index from? (an address listed twice) */
bool
cc_rule_exists(const struct builder *b, uint32_t from, uint32_t dst, uint8_t len, uint16_t port,
	       uint8_t proto)
{
	uint32_t i;

	for (i = from; i < b->n_rules; i++)
		if (b->rules[i].dst_ip == dst && b->rules[i].prefix_len == len &&
		    b->rules[i].port == port && b->rules[i].proto == proto)
			return true;
	return false;
}

/* The rules of one ServiceEntry: each address times each port. */
int
compile_se(struct cc *c, uint32_t se_i)
{
	const struct service_entry *se = &c->m->ses[se_i];
	const char *name = c->se_names[se_i];
	int d = dr_for_se(c, se_i);
	const struct destination_rule *dr = d >= 0 ? &c->m->drs[d] : NULL;
	bool dns_dst = se_uses_dns(se) && se->n_endpoints == 0 && se->n_addresses == 0;
	unsigned int p, a, h, k, n_v4 = 0, n_own = 0;

	if (se->hidden != NULL)
		return 0; /* the loader said why: it admits nothing */
	for (a = 0; a < se->n_addresses; a++) {
		n_v4 += !se->addresses[a].v6 && !se->addresses[a].ignored;
		n_own += se->addresses[a].ignored;
	}
	for (p = 0; p < se->n_ports; p++) {
		const struct se_port *sp = &se->ports[p];
		uint32_t first = c->b->n_targets, from = c->b->n_rules;
		struct rule_spec rs = {
			.first = first,
			.target_port = (uint16_t)sp->target_port,
			.s = dr_effective(dr, NULL, sp->number),
			.dr = dr != NULL ? c->dr_names[d] : NULL,
			.pos = &se->pos,
			.cap_se = se_i,
			.cap_port = sp->number,
		};
		bool from_dns = false;
		int n;

		if (sp->number == 0)
			continue;
		n = se_targets(c, se_i, sp, NULL, 0, p > 0, &from_dns);
		if (n < 0)
			return n;
		rs.n = (uint32_t)n;
		rs.flags = from_dns ? POLICY_RULE_F_DNS : 0;
		if (dns_dst && se->resolution == SE_RES_DNS) {
			/* DNS without endpoints or addresses: the hosts' own addresses
			 * are what clients connect to, and they keep them; only
			 * DNS_ROUND_ROBIN sends to its first one (Envoy's LOGICAL_DNS) */
			c->b->n_targets = first;
			rs.n = 0;
			rs.flags = 0;
		} else if (!dns_dst && se->resolution != SE_RES_NONE && rs.n == 0) {
			diag_add(c->dl, DIAG_WARNING, sp->pos.file, sp->pos.line, sp->pos.col,
				 "ServiceEntry %s port %u: no endpoint address to send to; the "
				 "port admits nothing",
				 name, sp->number);
			continue;
		}
		if (dns_dst) {
			for (h = 0; h < se->n_hosts; h++) {
				const struct dns_answer *ans;

				if (se->hosts[h] == NULL || strchr(se->hosts[h], '*') != NULL)
					continue;
				ans = dns_answer(c, name, se->hosts[h], &se->pos, true);
				for (k = 0; ans != NULL && k < ans->n_addrs; k++) {
					uint32_t ip = ntohl(ans->addrs[k]);

					if (cc_rule_exists(c->b, from, ip, 32, (uint16_t)sp->number,
							   sp->l4proto))
						continue;
					rs.dst = ip;
					rs.len = 32;
					rs.flags |= POLICY_RULE_F_DNS_DST;
					rs.dst_name = se->hosts[h];
					if (cc_rule_add(c, se_i, sp, &rs) < 0)
						return -ENOMEM;
				}
			}
			if (c->b->n_rules == from)
				diag_add(c->dl, DIAG_WARNING, sp->pos.file, sp->pos.line,
					 sp->pos.col,
					 "ServiceEntry %s port %u: no address of its "
					 "hosts is known; the port admits nothing",
					 name, sp->number);
			continue;
		}
		/* No address at all: Istio matches the port on any destination. */
		if (se->n_addresses == 0) {
			if (rs.n > 0)
				diag_add(c->dl, DIAG_WARNING, sp->pos.file, sp->pos.line,
					 sp->pos.col,
					 "ServiceEntry %s has no addresses: port %u "
					 "of EVERY destination is sent to its endpoints (add "
					 "spec.addresses to restrict it)",
					 name, sp->number);
			rs.flags |= POLICY_RULE_F_ANY_DST;
			if (cc_rule_add(c, se_i, sp, &rs) < 0)
				return -ENOMEM;
			continue;
		}
		for (a = 0; a < se->n_addresses; a++) {
			const struct se_address *ad = &se->addresses[a];

			if (ad->v6 || ad->ignored ||
			    cc_rule_exists(c->b, from, ad->ip, ad->prefix_len, (uint16_t)sp->number,
					   sp->l4proto))
				continue;
			rs.dst = ad->ip;
			rs.len = ad->prefix_len;
			if (cc_rule_add(c, se_i, sp, &rs) < 0)
				return -ENOMEM;
		}
	}
	/* its addresses are what it admits: none left is nothing, never any */
	if (se->n_addresses > 0 && n_v4 == 0 && n_own == 0)
		diag_add(c->dl, DIAG_WARNING, se->pos.file, se->pos.line, se->pos.col,
			 "ServiceEntry %s has only IPv6 addresses; IPv6 is not forwarded "
			 "yet, the entry admits nothing",
			 name);
	else if (se->n_addresses > 0 && n_v4 == 0)
		diag_add(c->dl, DIAG_WARNING, se->pos.file, se->pos.line, se->pos.col,
			 "ServiceEntry %s has no address egressd forwards to (this "
			 "appliance's own are never, IPv6 not yet); the entry admits nothing",
			 name);
	return 0;
}
