/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VirtualService: hosts, gateways and the tcp / tls routes (matches by
 * destination subnet and port, weighted destinations), with Istio's checks
 * of unreachable rules. HTTP routes need an L7 proxy: one warning.
 *
 * Control thread only.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "istio_private.h"

static const char *const vs_spec_fields[] = {
	"hosts", "gateways", "http", "tls", "tcp", "exportTo", NULL,
};
static const char *const vs_route_fields[] = { "match", "route", NULL };
static const char *const vs_tcp_match_fields[] = {
	"destinationSubnets", "port",         "sourceLabels", "gateways",
	"sourceNamespace",    "sourceSubnet", NULL,
};
static const char *const vs_tls_match_fields[] = {
	"sniHosts", "destinationSubnets", "port", "sourceLabels",
	"gateways", "sourceNamespace",    NULL,
};
static const char *const vs_route_dest_fields[] = { "destination", "weight", NULL };
static const char *const vs_dest_fields[] = { "host", "subset", "port", NULL };

/* What was said once per VirtualService about fields an L4 gateway ignores. */
struct vs_warned {
	bool sni, source;
};

/* Istio's validateGatewayNames(), for spec.gateways and match.gateways. */
static void
vs_gateway_names(struct ld *ld, const struct ynode *seq, char ***out, unsigned int *n_out)
{
	char err[MSG_MAX];
	size_t i;

	*out = ld_calloc(ld, seq->n, sizeof(**out));
	for (i = 0; *out != NULL && i < seq->n; i++) {
		const struct ynode *n = seq->items[i];
		size_t m2 = yr_idx(&ld->r, i);
		const char *g = yr_str(&ld->r, n), *slash;

		if (g == NULL) {
			yr_pop(&ld->r, m2);
			continue;
		}
		slash = strchr(g, '/');
		if (slash != NULL) {
			size_t nl = (size_t)(slash - g);
			const char *name = slash + 1;

			if (nl == 0 || name[0] == '\0')
				yr_err(&ld->r, n,
				       "config namespace and gateway name cannot be "
				       "empty");
			if (nl > 0 && !istio_dns1123_label(g, nl)) {
				char ns[QUOTE_MAX + 1];

				snprintf(ns, sizeof(ns), "%.*s", (int)nl, g);
				yr_err(&ld->r, n, "invalid value for namespace: %s",
				       yr_quote(&ld->r, ns));
			}
			if (name[0] != '\0' && !istio_dns1123_label(name, strlen(name)))
				yr_err(&ld->r, n, "invalid value for gateway name: %s",
				       yr_quote(&ld->r, name));
		} else if (strcmp(g, "mesh") != 0) {
			const char *dot = strchr(g, '.');

			if (dot != NULL) {
				const char *ns = dot + 1, *end = strchr(ns, '.');
				char rec[2 * QUOTE_MAX + 2];

				snprintf(rec, sizeof(rec), "%.*s/%.*s",
					 (int)(end != NULL ? (size_t)(end - ns) : strlen(ns)), ns,
					 (int)(dot - g), g);
				yr_warn(&ld->r, n,
					"using legacy gatewayName format %s; prefer the "
					"<namespace>/<name> format: %s",
					yr_quote(&ld->r, g), yr_quote(&ld->r, rec));
			}
			if (!ld_check_dns_labels(ld, g, g, err, sizeof(err)))
				yr_err(&ld->r, n, "%s", err);
		}
		(*out)[(*n_out)++] = ld_strdup(ld, g);
		yr_pop(&ld->r, m2);
	}
}

/* destinationSubnets: addresses or CIDRs (Istio's ValidateIPSubnet). */
static void
vs_subnets(struct ld *ld, const struct ynode *seq, struct vs_match *vm)
{
	size_t i;

	vm->subnets = ld_calloc(ld, seq->n, sizeof(*vm->subnets));
	for (i = 0; vm->subnets != NULL && i < seq->n; i++) {
		const struct ynode *n = seq->items[i];
		size_t m2 = yr_idx(&ld->r, i);
		struct se_address a = { .pos = ld_pos(ld, n) };
		const char *s = yr_str(&ld->r, n);
		char pfx[INET6_ADDRSTRLEN + 8];
		bool host_bits;

		if (s == NULL) {
			yr_pop(&ld->r, m2);
			continue;
		}
		if (istio_parse_prefix(s, &a, &host_bits) != 0) {
			if (strchr(s, '/') != NULL)
				yr_err(&ld->r, n, "%s is not a valid CIDR block", s);
			else
				yr_err(&ld->r, n, "%s is not a valid IP", s);
			yr_pop(&ld->r, m2);
			continue;
		}
		istio_format_prefix(&a, pfx, sizeof(pfx));
		if (host_bits)
			yr_err(&ld->r, n, "%s has host bits set (the network is %s)", s, pfx);
		if (a.v6)
			yr_warn(&ld->r, n,
				"%s is IPv6: parsed and validated, but IPv6 is not "
				"forwarded yet",
				s);
		vm->subnets[vm->n_subnets++] = a;
		yr_pop(&ld->r, m2);
	}
}

/*
 * A canonical text of a match, so that two matches that select the same
 * flows compare equal (Istio compares their JSON).
 */
static void
vs_match_key(const struct ynode *mm, char *buf, size_t sz)
{
	static const char *const keys[] = {
		"destinationSubnets", "port",         "sniHosts", "gateways", "sourceLabels",
		"sourceNamespace",    "sourceSubnet", NULL,
	};
	size_t o = 0, i, j;

	buf[0] = '\0';
	for (i = 0; keys[i] != NULL && o < sz; i++) {
		const struct ynode *v = ymap_get(mm, keys[i]);

		if (v == NULL || ynode_is_null(v))
			continue;
		o += (size_t)snprintf(buf + o, sz - o, "%s=", keys[i]);
		if (v->type == YNODE_SCALAR) {
			o += (size_t)snprintf(buf + o, o < sz ? sz - o : 0, "%s;", v->str);
			continue;
		}
		for (j = 0; j < (v->type == YNODE_MAP ? 2 * v->n : v->n) && o < sz; j++)
			o += (size_t)snprintf(buf + o, sz - o, "%s,",
					      ynode_str(v->items[j]) != NULL ? v->items[j]->str :
									       "?");
		if (o < sz)
			o += (size_t)snprintf(buf + o, sz - o, ";");
	}
}

/* SNI hosts: valid, and each within a host of the VirtualService (Istio). */
static void
vs_sni_hosts(struct ld *ld, const struct ynode *seq, const struct virtual_service *vs)
{
	char err[MSG_MAX], list[MSG_MAX / 2];
	size_t i, o = 0;
	unsigned int h;

	list[0] = '\0';
	for (h = 0; h < vs->n_hosts && o < sizeof(list); h++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", h > 0 ? ", " : "",
				      vs->hosts[h]);
	for (i = 0; i < seq->n; i++) {
		const struct ynode *n = seq->items[i];
		size_t m2 = yr_idx(&ld->r, i);
		const char *sni = yr_str(&ld->r, n);
		struct in6_addr in6;
		struct in_addr in4;

		if (sni == NULL) {
			yr_pop(&ld->r, m2);
			continue;
		}
		if (!ld_check_wildcard_domain(ld, sni, err, sizeof(err))) {
			if (inet_pton(AF_INET, sni, &in4) == 1 ||
			    inet_pton(AF_INET6, sni, &in6) == 1)
				yr_warn(&ld->r, n,
					"using an IP address (%s) goes against SNI spec "
					"and most clients do not support this",
					yr_quote(&ld->r, sni));
			else
				yr_err(&ld->r, n, "%s", err);
			yr_pop(&ld->r, m2);
			continue;
		}
		for (h = 0; h < vs->n_hosts; h++)
			if (vs->hosts[h] != NULL && istio_host_covers(vs->hosts[h], sni))
				break;
		if (h == vs->n_hosts)
			yr_err(&ld->r, n,
			       "SNI host %s is not a compatible subset of any of the "
			       "virtual service hosts: [%s]",
			       yr_quote(&ld->r, sni), list);
		yr_pop(&ld->r, m2);
	}
}

/* One item of match[] (path pushed). */
static void
vs_match(struct ld *ld, const struct ynode *mm, bool tls, struct virtual_service *vs,
	 struct vs_match *vm, struct vs_warned *warned)
{
	const struct ynode *seq;
	long port;

	vm->pos = ld_pos(ld, mm);
	ld_unknown_fields(ld, mm, tls ? vs_tls_match_fields : vs_tcp_match_fields);
	if (tls) {
		seq = yr_get(&ld->r, mm, "sniHosts", YNODE_SEQ);
		if (seq == NULL || seq->n == 0) {
			yr_err(&ld->r, mm, "TLS match must have at least one SNI host");
		} else {
			size_t m2 = yr_key(&ld->r, "sniHosts");

			vs_sni_hosts(ld, seq, vs);
			if (!warned->sni) {
				warned->sni = true;
				yr_warn(&ld->r, ymap_key(mm, "sniHosts"),
					"an L4 gateway does not "
					"read the TLS server name: the route applies to every TLS "
					"flow its destinationSubnets and port select");
			}
			yr_pop(&ld->r, m2);
		}
	}
	seq = yr_get(&ld->r, mm, "destinationSubnets", YNODE_SEQ);
	if (seq != NULL && seq->n > 0) {
		size_t m2 = yr_key(&ld->r, "destinationSubnets");

		vs_subnets(ld, seq, vm);
		yr_pop(&ld->r, m2);
	}
	port = ld_port_number(ld, mm, "port", "port number");
	vm->port = port > 0 ? (uint32_t)port : 0;
	seq = yr_get(&ld->r, mm, "gateways", YNODE_SEQ);
	if (seq != NULL && seq->n > 0) {
		size_t m2 = yr_key(&ld->r, "gateways");

		vs_gateway_names(ld, seq, &vm->gateways, &vm->n_gateways);
		yr_pop(&ld->r, m2);
	}
	if (!warned->source) {
		static const char *const src_keys[] = {
			"sourceLabels",
			"sourceNamespace",
			"sourceSubnet",
			NULL,
		};
		size_t i;

		for (i = 0; src_keys[i] != NULL; i++) {
			if (ymap_key(mm, src_keys[i]) == NULL)
				continue;
			warned->source = true;
			ld_unhonoured(ld, mm, src_keys[i],
				      "an L4 gateway does not tell clients "
				      "apart by workload: the route applies to every client");
			break;
		}
	}
}

/* One item of route[] (path pushed). @return the weight as written (Istio sums those). */
static int64_t
vs_route_dest(struct ld *ld, const struct ynode *rd, struct vs_destination *d)
{
	int64_t raw = 0;
	const struct ynode *dm, *hn, *wn, *pm, *sn;
	const char *host, *subset;
	char err[MSG_MAX];
	size_t mark;

	d->pos = ld_pos(ld, rd);
	ld_unknown_fields(ld, rd, vs_route_dest_fields);
	dm = yr_get(&ld->r, rd, "destination", YNODE_MAP);
	if (dm == NULL) {
		if (ymap_opt(rd, "destination") == NULL)
			yr_err(&ld->r, rd, "destination is required");
	} else {
		mark = yr_key(&ld->r, "destination");
		d->pos = ld_pos(ld, dm);
		ld_unknown_fields(ld, dm, vs_dest_fields);
		host = yr_get_str(&ld->r, dm, "host", &hn);
		if (host == NULL || host[0] == '\0') {
			size_t m2 = yr_key(&ld->r, "host");

			yr_err(&ld->r, hn != NULL ? hn : dm, "empty domain name not allowed");
			yr_pop(&ld->r, m2);
		} else if (strcmp(host, "*") == 0) {
			size_t m2 = yr_key(&ld->r, "host");

			yr_err(&ld->r, hn, "invalid destination host %s", host);
			yr_pop(&ld->r, m2);
		} else if (!ld_check_wildcard_domain(ld, host, err, sizeof(err))) {
			size_t m2 = yr_key(&ld->r, "host");

			yr_err(&ld->r, hn, "%s", err);
			yr_pop(&ld->r, m2);
		}
		d->host = ld_strdup(ld, host);
		subset = yr_get_str(&ld->r, dm, "subset", &sn);
		if (subset != NULL) {
			size_t m2 = yr_key(&ld->r, "subset");

			if (subset[0] == '\0')
				yr_err(&ld->r, sn, "subset name cannot be empty");
			else if (!istio_dns1123_label(subset, strlen(subset)))
				yr_err(&ld->r, sn, "subset name is invalid: %s", subset);
			d->subset = ld_strdup(ld, subset);
			yr_pop(&ld->r, m2);
		}
		pm = yr_get(&ld->r, dm, "port", YNODE_MAP);
		if (pm != NULL) {
			size_t m2 = yr_key(&ld->r, "port");
			long num = ld_port_number(ld, pm, "number", "port number");

			d->port = num > 0 ? (uint32_t)num : 0;
			yr_pop(&ld->r, m2);
		}
		yr_pop(&ld->r, mark);
	}
	wn = ymap_get(rd, "weight");
	if (wn != NULL && !ynode_is_null(wn)) {
		int64_t w;

		mark = yr_key(&ld->r, "weight");
		if (yr_int(&ld->r, wn, &w) == 0) {
			raw = w;
			if (w < 0 || w > 100) {
				yr_err(&ld->r, wn, "percentage %s is not in range 0..100", wn->str);
			} else {
				d->weight = (uint32_t)w;
				d->has_weight = true;
			}
		}
		yr_pop(&ld->r, mark);
	}
	return raw;
}

/* spec.tcp[i] or spec.tls[i] (path pushed). */
static void
vs_route(struct ld *ld, const struct ynode *rm, bool tls, struct virtual_service *vs,
	 struct vs_route *r, struct vs_warned *warned)
{
	const struct ynode *matches = yr_get(&ld->r, rm, "match", YNODE_SEQ);
	const struct ynode *route = yr_get(&ld->r, rm, "route", YNODE_SEQ);
	int64_t total = 0;
	size_t i, mark;

	r->pos = ld_pos(ld, rm);
	r->tls = tls;
	ld_unknown_fields(ld, rm, vs_route_fields);
	if (tls && (matches == NULL || matches->n == 0))
		yr_err(&ld->r, rm, "TLS route must have at least one match condition");
	if (matches != NULL && matches->n > 0) {
		mark = yr_key(&ld->r, "match");
		r->matches = ld_calloc(ld, matches->n, sizeof(*r->matches));
		for (i = 0; r->matches != NULL && i < matches->n; i++) {
			const struct ynode *mm = matches->items[i];
			size_t m2 = yr_idx(&ld->r, i);

			if (mm->type != YNODE_MAP)
				yr_err(&ld->r, mm,
				       tls ? "TLS match may not be null" :
					     "tcp match may not be nil");
			else
				vs_match(ld, mm, tls, vs, &r->matches[r->n_matches++], warned);
			yr_pop(&ld->r, m2);
		}
		yr_pop(&ld->r, mark);
	}
	if (route == NULL || route->n == 0) {
		mark = yr_key(&ld->r, "route");
		yr_err(&ld->r, route != NULL ? route : rm,
		       tls ? "TLS route is required" : "TCP route is required");
		yr_pop(&ld->r, mark);
		return;
	}
	mark = yr_key(&ld->r, "route");
	r->dests = ld_calloc(ld, route->n, sizeof(*r->dests));
	for (i = 0; r->dests != NULL && i < route->n; i++) {
		const struct ynode *rd = route->items[i];
		size_t m2 = yr_idx(&ld->r, i);

		if (rd->type != YNODE_MAP) {
			yr_err(&ld->r, rd, "weight may not be nil");
		} else {
			int64_t w = vs_route_dest(ld, rd, &r->dests[r->n_dests++]);

			/* saturating: a weight of 2^62 must not wrap the sum */
			total = w > 0 && total > INT64_MAX - w ? INT64_MAX :
				w < 0 && total < INT64_MIN - w ? INT64_MIN :
								 total + w;
		}
		yr_pop(&ld->r, m2);
	}
	if (r->n_dests > 1 && total != 100)
		yr_err(&ld->r, route, "total destination weight %" PRId64 " != 100", total);
	yr_pop(&ld->r, mark);
}

/*
 * Istio's analyzeUnreachableTCPRules / TLSRules: a route without a match must
 * be the last one; a match seen in an earlier route is never used.
 */
static void
vs_unreachable(struct ld *ld, const struct ynode *seq)
{
	char(*keys)[256];
	unsigned int *owner;
	size_t i, j, k, n_keys = 0, total = 0;
	bool empty_seen = false;

	for (i = 0; i < seq->n; i++) {
		const struct ynode *m = ymap_get(seq->items[i], "match");

		total += m != NULL && m->type == YNODE_SEQ ? m->n : 0;
	}
	keys = total > 0 ? calloc(total, sizeof(*keys)) : NULL;
	owner = total > 0 ? calloc(total, sizeof(*owner)) : NULL;
	if (total > 0 && (keys == NULL || owner == NULL)) {
		ld->oom = true;
		goto out;
	}
	for (i = 0; i < seq->n; i++) {
		const struct ynode *rm = seq->items[i];
		const struct ynode *m = ymap_get(rm, "match");
		size_t dups = 0, mark = yr_idx(&ld->r, i);

		if (rm->type != YNODE_MAP) {
			yr_pop(&ld->r, mark);
			continue;
		}
		if (m == NULL || m->type != YNODE_SEQ || m->n == 0) {
			if (empty_seen)
				yr_warn(&ld->r, rm,
					"virtualService rule #%zu not used (only the "
					"last rule can have no matches)",
					i);
			empty_seen = true;
			yr_pop(&ld->r, mark);
			continue;
		}
		for (j = 0; j < m->n; j++) {
			char key[256];

			vs_match_key(m->items[j], key, sizeof(key));
			for (k = 0; k < n_keys && strcmp(keys[k], key) != 0; k++)
				;
			if (k < n_keys) {
				yr_warn(&ld->r, m->items[j],
					"virtualService rule #%zu match #%zu "
					"is not used (duplicate/overlapping match in rule #%u)",
					i, j, owner[k]);
				dups++;
				continue;
			}
			snprintf(keys[n_keys], sizeof(keys[n_keys]), "%s", key);
			owner[n_keys++] = (unsigned int)i;
		}
		if (dups == m->n)
			yr_warn(&ld->r, rm,
				"virtualService rule #%zu not used (all matches used "
				"by prior rules)",
				i);
		yr_pop(&ld->r, mark);
	}
out:
	free(keys);
	free(owner);
}

static void
vs_hosts(struct ld *ld, const struct ynode *spec, struct virtual_service *vs, bool to_mesh)
{
	const struct ynode *seq = yr_get(&ld->r, spec, "hosts", YNODE_SEQ);
	bool all_valid = true;
	char err[MSG_MAX];
	size_t i, j, mark;

	if (seq == NULL || seq->n == 0)
		return;
	mark = yr_key(&ld->r, "hosts");
	vs->hosts = ld_calloc(ld, seq->n, sizeof(*vs->hosts));
	for (i = 0; vs->hosts != NULL && i < seq->n; i++) {
		const struct ynode *n = seq->items[i];
		size_t m2 = yr_idx(&ld->r, i);
		const char *h = yr_str(&ld->r, n);
		struct in6_addr in6;
		struct in_addr in4;

		if (h == NULL) {
			all_valid = false;
			yr_pop(&ld->r, m2);
			continue;
		}
		if (!ld_check_wildcard_domain(ld, h, err, sizeof(err))) {
			if (inet_pton(AF_INET, h, &in4) != 1 && inet_pton(AF_INET6, h, &in6) != 1) {
				yr_err(&ld->r, n, "%s", err);
				all_valid = false;
			}
		} else if (to_mesh && strcmp(h, "*") == 0) {
			yr_err(&ld->r, n,
			       "wildcard host * is not allowed for virtual services "
			       "bound to the mesh gateway");
			all_valid = false;
		}
		vs->hosts[vs->n_hosts++] = ld_strdup(ld, h);
		yr_pop(&ld->r, m2);
	}
	for (i = 0; all_valid && i < vs->n_hosts; i++) {
		for (j = i + 1; j < vs->n_hosts; j++) {
			if (vs->hosts[i] == NULL || vs->hosts[j] == NULL ||
			    (!istio_host_covers(vs->hosts[i], vs->hosts[j]) &&
			     !istio_host_covers(vs->hosts[j], vs->hosts[i])))
				continue;
			yr_err(&ld->r, seq, "duplicate hosts in virtual service: %s & %s",
			       vs->hosts[i], vs->hosts[j]);
		}
	}
	yr_pop(&ld->r, mark);
}

static void
vs_routes(struct ld *ld, const struct ynode *spec, struct virtual_service *vs, bool tls,
	  struct vs_warned *warned)
{
	const char *key = tls ? "tls" : "tcp";
	const struct ynode *seq = yr_get(&ld->r, spec, key, YNODE_SEQ);
	struct vs_route *v;
	size_t i, mark;

	if (seq == NULL || seq->n == 0)
		return;
	mark = yr_key(&ld->r, key);
	v = realloc(vs->routes, (vs->n_routes + seq->n) * sizeof(*v));
	if (v == NULL) {
		ld->oom = true;
		yr_pop(&ld->r, mark);
		return;
	}
	vs->routes = v;
	for (i = 0; i < seq->n; i++) {
		const struct ynode *rm = seq->items[i];
		size_t m2 = yr_idx(&ld->r, i);

		if (rm->type != YNODE_MAP) {
			yr_err(&ld->r, rm, "%s route may not be null", tls ? "TLS" : "TCP");
		} else {
			struct vs_route *r = &vs->routes[vs->n_routes++];

			memset(r, 0, sizeof(*r));
			r->index = (unsigned int)i;
			vs_route(ld, rm, tls, vs, r, warned);
		}
		yr_pop(&ld->r, m2);
	}
	vs_unreachable(ld, seq);
	yr_pop(&ld->r, mark);
}

void
load_virtual_service(struct ld *ld, const struct meta *md, const struct ynode *spec)
{
	struct virtual_service vs = { 0 };
	struct vs_warned warned = { 0 };
	const struct ynode *gws, *http;
	bool to_mesh = true;
	size_t mark;
	unsigned int i;

	vs.name = ld_strdup(ld, md->name);
	vs.ns = ld_strdup(ld, md->ns);
	vs.pos = ld_pos(ld, md->name_node);
	vs.gateways_pos = vs.pos;

	mark = yr_key(&ld->r, "spec");
	ld_unknown_fields(ld, spec, vs_spec_fields);
	gws = yr_get(&ld->r, spec, "gateways", YNODE_SEQ);
	if (gws != NULL && gws->n > 0) {
		size_t m2 = yr_key(&ld->r, "gateways");

		vs.gateways_pos = ld_pos(ld, gws);
		vs_gateway_names(ld, gws, &vs.gateways, &vs.n_gateways);
		to_mesh = false;
		for (i = 0; i < vs.n_gateways; i++)
			to_mesh = to_mesh ||
				  (vs.gateways[i] != NULL && strcmp(vs.gateways[i], "mesh") == 0);
		yr_pop(&ld->r, m2);
	}
	if (vs.n_gateways == 0 || (to_mesh && vs.n_gateways == 1)) {
		size_t m2 = yr_key(&ld->r, "gateways");

		yr_warn(&ld->r, gws != NULL ? gws : spec,
			"bound to the mesh only (sidecars): no "
			"route of this VirtualService applies to a gateway; ignored");
		yr_pop(&ld->r, m2);
	}
	vs_hosts(ld, spec, &vs, to_mesh);
	if (ymap_opt(spec, "http") == NULL && ymap_opt(spec, "tcp") == NULL &&
	    ymap_opt(spec, "tls") == NULL)
		yr_err(&ld->r, spec, "http, tcp or tls must be provided in virtual service");
	if (vs.n_hosts == 0) {
		if (ymap_opt(spec, "tls") != NULL) {
			size_t m2 = yr_key(&ld->r, "tls");

			yr_err(&ld->r, ymap_key(spec, "tls"),
			       "delegate virtual service must have "
			       "no tls route specified");
			yr_pop(&ld->r, m2);
		}
		if (ymap_opt(spec, "tcp") != NULL) {
			size_t m2 = yr_key(&ld->r, "tcp");

			yr_err(&ld->r, ymap_key(spec, "tcp"),
			       "delegate virtual service must have "
			       "no tcp route specified");
			yr_pop(&ld->r, m2);
		}
	}
	http = ymap_key(spec, "http");
	if (http != NULL)
		ld_unhonoured(ld, spec, "http",
			      "HTTP routes need an L7 proxy; ignored (HTTP "
			      "ports keep their ServiceEntry's endpoints)");
	/* tls first: Istio matches TLS ports by the tls routes, the rest by tcp */
	vs_routes(ld, spec, &vs, true, &warned);
	vs_routes(ld, spec, &vs, false, &warned);
	vs.hidden = ld_export_to(ld, spec, md, EGRESS_EXPORT_VS);
	yr_pop(&ld->r, mark);
	model_add_vs(ld, &vs);
}
