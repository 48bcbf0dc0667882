/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VirtualService tcp / tls routes bound to a Gateway that selects this
 * appliance: the flows of the entries their hosts name, narrowed by each
 * match (destinationSubnets, port), sent to the weighted targets of the
 * route's destinations. A route replaces the entry's own rule for the very
 * same key; an earlier route takes the flows a later one would.
 *
 * Control thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile_private.h"

/* ------------------------------------------------------------------ */
/* VirtualService routes                                               */

/*
 * Does a gateway reference ("ns/name", "name", legacy "name.ns...") name a
 * Gateway of the policy that selects this appliance? A namespace that either
 * side leaves out matches any: files applied with `kubectl -n` rarely say.
 * *known tells whether the Gateway exists in the policy at all.
 */
static bool
gateway_ref_is_us(const struct cc *c, const char *ref, const char *vs_ns, bool *known)
{
	const char *slash = strchr(ref, '/'), *dot = strchr(ref, '.');
	char ns[256], name[256];
	unsigned int i;

	*known = true;
	if (strcmp(ref, "mesh") == 0)
		return false;
	if (slash != NULL) {
		snprintf(ns, sizeof(ns), "%.*s", (int)(slash - ref), ref);
		snprintf(name, sizeof(name), "%s", slash + 1);
	} else if (dot != NULL) {
		const char *end = strchr(dot + 1, '.');

		snprintf(name, sizeof(name), "%.*s", (int)(dot - ref), ref);
		snprintf(ns, sizeof(ns), "%.*s",
			 (int)(end != NULL ? (size_t)(end - dot - 1) : strlen(dot + 1)), dot + 1);
	} else {
		snprintf(name, sizeof(name), "%s", ref);
		snprintf(ns, sizeof(ns), "%s", vs_ns);
	}
	for (i = 0; i < c->m->n_gateways; i++) {
		const struct gateway *gw = &c->m->gateways[i];

		if (gw->name == NULL || strcmp(gw->name, name) != 0)
			continue;
		if (ns[0] != '\0' && gw->ns[0] != '\0' && strcmp(ns, gw->ns) != 0)
			continue;
		if (gw->selects_us)
			return true;
	}
	for (i = 0; i < c->m->n_gateways; i++)
		if (c->m->gateways[i].name != NULL && strcmp(c->m->gateways[i].name, name) == 0)
			return false;
	*known = false;
	return false;
}

static bool
gateways_include_us(const struct cc *c, char *const *refs, unsigned int n, const char *vs_ns)
{
	unsigned int i;
	bool known;

	for (i = 0; i < n; i++)
		if (refs[i] != NULL && gateway_ref_is_us(c, refs[i], vs_ns, &known))
			return true;
	return false;
}

/* Is the VirtualService bound to a Gateway that selects us? Unknown Gateways warn. */
static bool
vs_for_us(struct cc *c, const struct virtual_service *vs, const char *vs_name)
{
	bool us = false, known;
	unsigned int i;

	for (i = 0; i < vs->n_gateways; i++) {
		if (vs->gateways[i] == NULL)
			continue;
		if (gateway_ref_is_us(c, vs->gateways[i], vs->ns, &known))
			us = true;
		else if (!known)
			diag_add(c->dl, DIAG_WARNING, vs->gateways_pos.file, vs->gateways_pos.line,
				 vs->gateways_pos.col,
				 "VirtualService %s: gateway %s is not "
				 "defined in the policy sources; its routes are not for this "
				 "appliance",
				 vs_name, vs->gateways[i]);
	}
	return us;
}

/* x = a n b for two prefixes; false when they are disjoint. */
static bool
prefix_intersect(uint32_t a, uint8_t al, uint32_t b, uint8_t bl, uint32_t *x, uint8_t *xl)
{
	uint8_t l = al < bl ? al : bl;

	if ((a & mask4(l)) != (b & mask4(l)))
		return false;
	*x = al >= bl ? a : b;
	*xl = al >= bl ? al : bl;
	return true;
}

/* Where a route sends the flows of one matched port. */
struct route_to {
	bool ok;     /* usable; else errors were reported */
	bool keep;   /* to the original destination (a NONE entry) */
	bool refuse; /* destinations, none with an address or seen: the flows are refused */
	uint16_t keep_port;
	uint32_t first, n;
	uint8_t flags;
	struct dr_settings s;
	const char *dr;
	uint32_t cap_se, cap_port;
	const char *cap_subset;
};

/*
 * Scale each destination's endpoint weights by its route weight, exactly
 * where the lcm of the destinations' endpoint totals allows:
 * w = route_weight x endpoint_weight x (L / endpoint_total).
 */
static void
route_weights(struct policy_target *t, const uint32_t *range_n, const uint32_t *route_w,
	      unsigned int n_ranges)
{
	uint64_t l = 1, tot[64];
	unsigned int r, i, o = 0;

	for (r = 0; r < n_ranges && r < 64; r++) {
		uint64_t e = 0, a, b2;

		for (i = 0; i < range_n[r]; i++)
			e += t[o + i].weight;
		o += range_n[r];
		tot[r] = e;
		if (e == 0)
			continue;
		/* lcm(l, e), capped: past 1e6 the split is rounded instead */
		for (a = l, b2 = e; b2 != 0;) {
			uint64_t tmp = a % b2;

			a = b2;
			b2 = tmp;
		}
		l = l / a * e;
		if (l > 1000000)
			l = 1000000;
	}
	for (r = 0, o = 0; r < n_ranges && r < 64; r++) {
		for (i = 0; i < range_n[r]; i++) {
			uint64_t w =
				((uint64_t)route_w[r] * t[o + i].weight * l + tot[r] / 2) / tot[r];

			t[o + i].weight = w == 0 ? 1 : w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
		}
		o += range_n[r];
	}
}

#define ROUTE_MAX_DESTS 64

static void
route_targets(struct cc *c, const struct virtual_service *vs, const char *vs_name,
	      const struct vs_route *r, uint32_t mport, struct route_to *out)
{
	uint32_t range_n[ROUTE_MAX_DESTS], route_w[ROUTE_MAX_DESTS];
	unsigned int i, n_ranges = 0, n_live = 0, n_hidden = 0;
	bool warned_settings = false;

	memset(out, 0, sizeof(*out));
	out->ok = true;
	out->first = c->b->n_targets;
	for (i = 0; i < r->n_dests; i++)
		n_live += !r->dests[i].has_weight || r->dests[i].weight > 0;
	for (i = 0; i < r->n_dests && i < ROUTE_MAX_DESTS; i++) {
		const struct vs_destination *d = &r->dests[i];
		uint32_t w = d->has_weight ? d->weight : r->n_dests == 1 ? 100 : 0;
		const struct service_entry *se;
		const struct se_port *sp = NULL;
		const struct dr_subset *sub = NULL;
		const struct destination_rule *dr = NULL;
		struct dr_settings s;
		uint32_t dport;
		unsigned int p;
		bool dns = false;
		int se_i, di, n;

		if (w == 0 || d->host == NULL)
			continue;
		se_i = se_for_host(c, d->host, vs->ns);
		if (se_i < 0 && (di = se_hidden_for_host(c, d->host, vs->ns)) >= 0) {
			/* Istio: a cluster the gateway does not have, whose share fails */
			diag_add(c->dl, DIAG_WARNING, d->pos.file, d->pos.line, d->pos.col,
				 "VirtualService %s: destination host %s is ServiceEntry %s, "
				 "which %s: %s",
				 vs_name, d->host, c->se_names[di], c->m->ses[di].hidden,
				 n_live > 1 ? "its share of the flows goes to the route's other "
					      "destinations" :
					      "the route refuses its flows");
			range_n[n_ranges] = 0;
			route_w[n_ranges++] = w;
			n_hidden++;
			continue;
		}
		if (se_i < 0) {
			diag_add(c->dl, DIAG_ERROR, d->pos.file, d->pos.line, d->pos.col,
				 "VirtualService %s: destination host %s is not the host of any "
				 "ServiceEntry; an L4 gateway has nowhere to send its flows",
				 vs_name, d->host);
			out->ok = false;
			continue;
		}
		se = &c->m->ses[se_i];
		dport = d->port != 0 ? d->port : mport;
		for (p = 0; p < se->n_ports; p++)
			if (se->ports[p].number == dport)
				sp = &se->ports[p];
		if (sp == NULL && d->port == 0 && se->n_ports == 1) {
			sp = &se->ports[0];
			dport = sp->number;
		}
		if (sp == NULL) {
			diag_add(c->dl, DIAG_ERROR, d->pos.file, d->pos.line, d->pos.col,
				 "VirtualService %s: port %u is not a port of ServiceEntry %s "
				 "(host %s)",
				 vs_name, dport, c->se_names[se_i], d->host);
			out->ok = false;
			continue;
		}
		di = dr_for_se(c, (uint32_t)se_i);
		dr = di >= 0 ? &c->m->drs[di] : NULL;
		if (d->subset != NULL) {
			int other;

			sub = dr_subset_find(dr, d->subset);
			other = sub == NULL ? dr_subset_elsewhere(c, se_i, d->subset) : -1;
			if (sub == NULL) {
				diag_add(c->dl, DIAG_ERROR, d->pos.file, d->pos.line, d->pos.col,
					 "VirtualService %s: subset %s of %s is not defined by a "
					 "DestinationRule%s%s%s",
					 vs_name, d->subset, d->host,
					 other >= 0 ? " that applies to it (" : "",
					 other >= 0 ? c->dr_names[other] : "",
					 other >= 0 ? " defines it, but Istio takes a host's rule "
						      "from the gateway's, the ServiceEntry's or "
						      "the root namespace, in that order)" :
						      "");
				out->ok = false;
				continue;
			}
		}
		s = dr_effective(dr, sub, dport);
		if (n_ranges == 0 && !out->keep) {
			out->s = s;
			out->dr = dr != NULL ? c->dr_names[di] : NULL;
			out->cap_se = (uint32_t)se_i;
			out->cap_port = dport;
			out->cap_subset = d->subset;
		} else if (!dr_settings_equal(&out->s, &s) && !warned_settings) {
			warned_settings = true;
			diag_add(c->dl, DIAG_WARNING, d->pos.file, d->pos.line, d->pos.col,
				 "VirtualService %s: destinations have different DestinationRule "
				 "settings; the flows of this route follow the first "
				 "destination's",
				 vs_name);
		}
		if (se->resolution == SE_RES_NONE) {
			/* Envoy's ORIGINAL_DST cluster: the address the client asked for */
			if (n_live > 1) {
				diag_add(c->dl, DIAG_ERROR, d->pos.file, d->pos.line, d->pos.col,
					 "VirtualService %s: ServiceEntry %s has resolution NONE "
					 "(the original destination), which an L4 gateway cannot "
					 "split with other destinations",
					 vs_name, c->se_names[se_i]);
				out->ok = false;
				continue;
			}
			out->keep = true;
			out->keep_port = (uint16_t)(dport != mport ? dport : sp->target_port);
			continue;
		}
		n = se_targets(c, (uint32_t)se_i, sp, sub, dport != mport ? (uint16_t)dport : 0,
			       true, &dns);
		if (n < 0)
			return;
		if (n == 0)
			diag_add(c->dl, DIAG_WARNING, d->pos.file, d->pos.line, d->pos.col,
				 "VirtualService %s: destination %s%s%s has no address to send "
				 "to; its share of the flows is refused",
				 vs_name, d->host, d->subset != NULL ? " subset " : "",
				 d->subset != NULL ? d->subset : "");
		if (dns)
			out->flags |= POLICY_RULE_F_DNS;
		range_n[n_ranges] = (uint32_t)n;
		route_w[n_ranges++] = w;
	}
	out->n = c->b->n_targets - out->first;
	/* Envoy's clusters have no endpoint (or the gateway has no cluster:
	 * every destination hidden): the flows fail; a rule without targets
	 * would send them to the original destination instead */
	if (n_ranges > 0 && out->n == 0)
		out->refuse = true;
	else if (n_ranges > 1)
		route_weights(&c->b->targets[out->first], range_n, route_w, n_ranges);
}

/* What one route adds to the table, for one matched entry port. */
struct vs_gen {
	const struct virtual_service *vs;
	const char *vs_name;
	uint32_t vs_first;     /* first rule this VirtualService added */
	uint32_t all_vs_first; /* first rule any VirtualService added */
};

/* An earlier rule of this VirtualService already takes these flows? */
static int
vs_shadowed(const struct cc *c, const struct vs_gen *g, uint32_t dst, uint8_t len, uint16_t port,
	    uint8_t proto)
{
	uint32_t i;

	for (i = g->vs_first; i < c->b->n_rules; i++) {
		const struct policy_rule *x = &c->b->rules[i];

		if (x->port == port && x->proto == proto && x->prefix_len <= len &&
		    (dst & mask4(x->prefix_len)) == x->dst_ip)
			return (int)i;
	}
	return -1;
}

/* Targets of a route, computed once per matched port (they depend on it). */
struct route_cache {
	uint32_t mport;
	struct route_to to;
};

static const struct route_to *
route_for_port(struct cc *c, struct vs_gen *g, const struct vs_route *r, uint32_t mport,
	       struct route_cache **cache, unsigned int *n_cache)
{
	struct route_cache *v;
	unsigned int i;

	for (i = 0; i < *n_cache; i++)
		if ((*cache)[i].mport == mport)
			return &(*cache)[i].to;
	v = realloc(*cache, (*n_cache + 1) * sizeof(*v));
	if (v == NULL) {
		c->oom = true;
		return NULL;
	}
	*cache = v;
	v[*n_cache].mport = mport;
	route_targets(c, g->vs, g->vs_name, r, mport, &v[*n_cache].to);
	return c->oom ? NULL : &v[(*n_cache)++].to;
}

/* The working state of one route while its rules are made. */
struct route_run {
	const struct vs_route *r;
	const char *name; /* "ns/vs tcp[i]" */
	struct route_cache *cache;
	unsigned int n_cache;
	bool warned_shadow;
	bool failed;  /* a destination was in error: say nothing more */
	bool skipped; /* earlier routes took flows: that was said */
};

/* One candidate rule of a route: skipped when an earlier route has its flows. */
static int
route_rule(struct cc *c, struct vs_gen *g, struct route_run *rr, uint32_t se_i,
	   const struct se_port *sp, uint32_t dst, uint8_t len)
{
	const struct vs_route *r = rr->r;
	const struct route_to *to;
	struct rule_spec rs;
	int sh;

	sh = vs_shadowed(c, g, dst, len, (uint16_t)sp->number, sp->l4proto);
	if (sh >= 0) {
		const struct policy_rule *x = &c->b->rules[sh];

		if (x->route != rr->name && !rr->warned_shadow && x->prefix_len < len) {
			rr->warned_shadow = true;
			diag_add(c->dl, DIAG_WARNING, r->pos.file, r->pos.line, r->pos.col,
				 "VirtualService %s: route %s comes first for these flows of "
				 "port %u; route %s[%u] is never used for them",
				 g->vs_name, x->route, sp->number, r->tls ? "tls" : "tcp",
				 r->index);
		}
		rr->skipped = true;
		return 0;
	}
	if (cc_rule_exists(c->b, g->all_vs_first, dst, len, (uint16_t)sp->number, sp->l4proto)) {
		diag_add(c->dl, DIAG_WARNING, r->pos.file, r->pos.line, r->pos.col,
			 "VirtualService %s: port %u of ServiceEntry %s is routed by another "
			 "VirtualService first; route %s[%u] is not used for it",
			 g->vs_name, sp->number, c->se_names[se_i], r->tls ? "tls" : "tcp",
			 r->index);
		rr->skipped = true;
		return 0;
	}
	to = route_for_port(c, g, r, sp->number, &rr->cache, &rr->n_cache);
	if (to == NULL)
		return -ENOMEM;
	if (!to->ok)
		rr->failed = true;
	if (!to->ok && !to->refuse)
		return 0;
	rs = (struct rule_spec){
		.dst = dst,
		.len = len,
		.first = to->first,
		.n = to->keep ? 0 : to->n,
		.target_port = to->keep ? to->keep_port : (uint16_t)sp->target_port,
		.s = to->s,
		.dr = to->dr,
		.route = rr->name,
		.pos = &r->pos,
		.cap_se = to->cap_se,
		.cap_port = to->cap_port,
		.cap_subset = to->cap_subset,
		.flags = (uint8_t)(POLICY_RULE_F_ROUTED | to->flags |
				   (len == 0 ? POLICY_RULE_F_ANY_DST : 0)),
	};
	if (cc_rule_add(c, se_i, sp, &rs) < 0)
		return -ENOMEM;
	/* refused: the rule only takes these flows from later routes and from
	 * the entry's own rule (compile_vss()), then goes too */
	if (to->refuse)
		c->b->meta[c->b->n_rules - 1].dead = true;
	return 0;
}

/* Does a host of the VirtualService name this entry? */
static bool
vs_covers_se(struct cc *c, const struct virtual_service *vs, const struct service_entry *se)
{
	unsigned int h, k;

	for (h = 0; h < vs->n_hosts; h++)
		for (k = 0; k < se->n_hosts; k++)
			if (vs->hosts[h] != NULL && se->hosts[k] != NULL &&
			    istio_host_covers(cc_fqdn(c, vs->hosts[h], vs->ns),
					      cc_fqdn(c, se->hosts[k], se->ns)))
				return true;
	return false;
}

/* One match against one port of one entry: its addresses x the match's subnets. */
static int
route_port(struct cc *c, struct vs_gen *g, struct route_run *rr, const struct vs_match *mt,
	   uint32_t se_i, const struct se_port *sp)
{
	const struct service_entry *se = &c->m->ses[se_i];
	unsigned int n_addr = se->n_addresses > 0 ? se->n_addresses : 1;
	unsigned int n_sub = mt->n_subnets > 0 ? mt->n_subnets : 1;
	unsigned int a, k;
	int rc;

	for (a = 0; a < n_addr; a++) {
		/* no address: Istio matches the port on any destination */
		const struct se_address *ad = se->n_addresses > 0 ? &se->addresses[a] : NULL;
		uint32_t base = ad != NULL ? ad->ip : 0;
		uint8_t blen = ad != NULL ? ad->prefix_len : 0;

		if (ad != NULL && (ad->v6 || ad->ignored))
			continue;
		for (k = 0; k < n_sub; k++) {
			const struct se_address *sub = mt->n_subnets > 0 ? &mt->subnets[k] : NULL;
			uint32_t dst = base;
			uint8_t len = blen;

			if (sub != NULL &&
			    (sub->v6 ||
			     !prefix_intersect(base, blen, sub->ip, sub->prefix_len, &dst, &len)))
				continue;
			rc = route_rule(c, g, rr, se_i, sp, dst, len);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* Does the route's kind apply to this port (tls: TLS/HTTPS; tcp: non-HTTP)? */
static bool
route_kind_fits(const struct vs_route *r, const struct se_port *sp)
{
	if (sp->number == 0 || istio_proto_is_http(sp->protocol))
		return false;
	return !r->tls || istio_proto_is_tls(sp->protocol);
}

/*
 * The rules of one route: the flows of the entries its VirtualService's hosts
 * name (their addresses x the ports of the route's kind), narrowed by each
 * match (destinationSubnets x port), sent to the route's destinations.
 */
static int
compile_route(struct cc *c, struct vs_gen *g, const struct vs_route *r)
{
	static const struct vs_match match_all;
	const struct virtual_service *vs = g->vs;
	struct route_run rr = {
		.r = r,
		.name = cc_printf(c, "%s %s[%u]", g->vs_name, r->tls ? "tls" : "tcp", r->index),
	};
	unsigned int mi, s, p, n_matches = r->n_matches > 0 ? r->n_matches : 1;
	uint32_t before = c->b->n_rules;
	bool applies = false;
	int rc = 0;

	for (mi = 0; mi < n_matches && rc == 0; mi++) {
		const struct vs_match *mt = r->n_matches > 0 ? &r->matches[mi] : &match_all;

		if (mt->n_gateways > 0 &&
		    !gateways_include_us(c, mt->gateways, mt->n_gateways, vs->ns))
			continue;
		applies = true;
		for (s = 0; s < c->m->n_ses && rc == 0; s++) {
			const struct service_entry *se = &c->m->ses[s];

			if (se->hidden != NULL || !vs_covers_se(c, vs, se))
				continue;
			for (p = 0; p < se->n_ports && rc == 0; p++)
				if (route_kind_fits(r, &se->ports[p]) &&
				    (mt->port == 0 || mt->port == se->ports[p].number))
					rc = route_port(c, g, &rr, mt, s, &se->ports[p]);
		}
	}
	free(rr.cache);
	if (rc < 0)
		return rc;
	if (applies && !rr.failed && !rr.skipped && c->b->n_rules == before)
		diag_add(c->dl, DIAG_WARNING, r->pos.file, r->pos.line, r->pos.col,
			 "VirtualService %s: route %s[%u] selects no flow: no match names a %s "
			 "port of the ServiceEntries its hosts name (an L4 gateway sees each "
			 "flow's own destination port, not a Gateway listener's)",
			 g->vs_name, r->tls ? "tls" : "tcp", r->index,
			 r->tls ? "TLS or HTTPS" : "non-HTTP");
	return 0;
}

int
compile_vss(struct cc *c)
{
	struct vs_gen g = { .all_vs_first = c->b->n_rules };
	unsigned int v, i;

	for (v = 0; v < c->m->n_vss; v++) {
		const struct virtual_service *vs = &c->m->vss[v];

		g.vs = vs;
		g.vs_name = cc_qualified(c, vs->ns, vs->name);
		g.vs_first = c->b->n_rules;
		if (vs->hidden != NULL || !vs_for_us(c, vs, g.vs_name))
			continue;
		for (i = 0; i < vs->n_routes; i++)
			if (compile_route(c, &g, &vs->routes[i]) < 0)
				return -ENOMEM;
	}
	/* a route replaces the entry's own rule for the very same flows */
	for (i = 0; i < g.all_vs_first; i++) {
		const struct policy_rule *x = &c->b->rules[i];

		if (cc_rule_exists(c->b, g.all_vs_first, x->dst_ip, x->prefix_len, x->port,
				   x->proto))
			c->b->meta[i].dead = true;
	}
	return 0;
}
