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
	"destinationSubnets", "port", "sourceLabels", "gateways", "sourceNamespace",
	"sourceSubnet", NULL,
};
static const char *const vs_tls_match_fields[] = {
	"sniHosts", "destinationSubnets", "port", "sourceLabels", "gateways",
	"sourceNamespace", NULL,
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
		size_t m2 = path_idx(ld, i);
		const char *g = ld_str(ld, n), *slash;

		if (g == NULL) {
			path_pop(ld, m2);
			continue;
		}
		slash = strchr(g, '/');
		if (slash != NULL) {
			size_t nl = (size_t)(slash - g);
			const char *name = slash + 1;

			if (nl == 0 || name[0] == '\0')
				ld_err(ld, n, "config namespace and gateway name cannot be empty");
			if (nl > 0 && !is_dns1123_label(g, nl)) {
				char ns[QUOTE_MAX + 1];

				snprintf(ns, sizeof(ns), "%.*s", (int)nl, g);
				ld_err(ld, n, "invalid value for namespace: %s", q(ld, ns));
			}
			if (name[0] != '\0' && !is_dns1123_label(name, strlen(name)))
				ld_err(ld, n, "invalid value for gateway name: %s", q(ld, name));
		} else if (strcmp(g, "mesh") != 0) {
			const char *dot = strchr(g, '.');

			if (dot != NULL) {
				const char *ns = dot + 1, *end = strchr(ns, '.');
				char rec[2 * QUOTE_MAX + 2];

				snprintf(rec, sizeof(rec), "%.*s/%.*s",
					 (int)(end != NULL ? (size_t)(end - ns) : strlen(ns)), ns,
					 (int)(dot - g), g);
				ld_warn(ld, n, "using legacy gatewayName format %s; prefer the "
					"<namespace>/<name> format: %s", q(ld, g), q(ld, rec));
			}
			if (!check_dns_labels(ld, g, g, err, sizeof(err)))
				ld_err(ld, n, "%s", err);
		}
		(*out)[(*n_out)++] = ld_strdup(ld, g);
		path_pop(ld, m2);
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
		size_t m2 = path_idx(ld, i);
		struct se_address a = { .pos = ld_pos(ld, n) };
		const char *s = ld_str(ld, n);
		char pfx[INET6_ADDRSTRLEN + 8];
		bool host_bits;

		if (s == NULL) {
			path_pop(ld, m2);
			continue;
		}
		if (parse_prefix(s, &a, &host_bits) != 0) {
			if (strchr(s, '/') != NULL)
				ld_err(ld, n, "%s is not a valid CIDR block", s);
			else
				ld_err(ld, n, "%s is not a valid IP", s);
			path_pop(ld, m2);
			continue;
		}
		format_prefix(&a, pfx, sizeof(pfx));
		if (host_bits)
			ld_err(ld, n, "%s has host bits set (the network is %s)", s, pfx);
		if (a.v6)
			ld_warn(ld, n, "%s is IPv6: parsed and validated, but IPv6 is not "
				"forwarded yet", s);
		vm->subnets[vm->n_subnets++] = a;
		path_pop(ld, m2);
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
		"destinationSubnets", "port", "sniHosts", "gateways", "sourceLabels",
		"sourceNamespace", "sourceSubnet", NULL,
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
					      ynode_str(v->items[j]) != NULL ?
					      v->items[j]->str : "?");
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
		size_t m2 = path_idx(ld, i);
		const char *sni = ld_str(ld, n);
		struct in6_addr in6;
		struct in_addr in4;

		if (sni == NULL) {
			path_pop(ld, m2);
			continue;
		}
		if (!check_wildcard_domain(ld, sni, err, sizeof(err))) {
			if (inet_pton(AF_INET, sni, &in4) == 1 ||
			    inet_pton(AF_INET6, sni, &in6) == 1)
				ld_warn(ld, n, "using an IP address (%s) goes against SNI spec and "
					"most clients do not support this", q(ld, sni));
			else
				ld_err(ld, n, "%s", err);
			path_pop(ld, m2);
			continue;
		}
		for (h = 0; h < vs->n_hosts; h++)
			if (vs->hosts[h] != NULL && istio_host_covers(vs->hosts[h], sni))
				break;
		if (h == vs->n_hosts)
			ld_err(ld, n, "SNI host %s is not a compatible subset of any of the "
			       "virtual service hosts: [%s]", q(ld, sni), list);
		path_pop(ld, m2);
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
		seq = ld_get(ld, mm, "sniHosts", YNODE_SEQ);
		if (seq == NULL || seq->n == 0) {
			ld_err(ld, mm, "TLS match must have at least one SNI host");
		} else {
			size_t m2 = path_key(ld, "sniHosts");

			vs_sni_hosts(ld, seq, vs);
			if (!warned->sni) {
				warned->sni = true;
				ld_warn(ld, ymap_key(mm, "sniHosts"), "an L4 gateway does not read "
					"the TLS server name: the route applies to every TLS "
					"flow its destinationSubnets and port select");
			}
			path_pop(ld, m2);
		}
	}
	seq = ld_get(ld, mm, "destinationSubnets", YNODE_SEQ);
	if (seq != NULL && seq->n > 0) {
		size_t m2 = path_key(ld, "destinationSubnets");

		vs_subnets(ld, seq, vm);
		path_pop(ld, m2);
	}
	port = ld_port_number(ld, mm, "port", "port number");
	vm->port = port > 0 ? (uint32_t)port : 0;
	seq = ld_get(ld, mm, "gateways", YNODE_SEQ);
	if (seq != NULL && seq->n > 0) {
		size_t m2 = path_key(ld, "gateways");

		vs_gateway_names(ld, seq, &vm->gateways, &vm->n_gateways);
		path_pop(ld, m2);
	}
	if (!warned->source) {
		static const char *const src_keys[] = {
			"sourceLabels", "sourceNamespace", "sourceSubnet", NULL,
		};
		size_t i;

		for (i = 0; src_keys[i] != NULL; i++) {
			if (ymap_key(mm, src_keys[i]) == NULL)
				continue;
			warned->source = true;
			ld_unhonoured(ld, mm, src_keys[i], "an L4 gateway does not tell clients "
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
	dm = ld_get(ld, rd, "destination", YNODE_MAP);
	if (dm == NULL) {
		if (ld_absent(rd, "destination"))
			ld_err(ld, rd, "destination is required");
	} else {
		mark = path_key(ld, "destination");
		d->pos = ld_pos(ld, dm);
		ld_unknown_fields(ld, dm, vs_dest_fields);
		host = ld_get_str(ld, dm, "host", &hn);
		if (host == NULL || host[0] == '\0') {
			size_t m2 = path_key(ld, "host");

			ld_err(ld, hn != NULL ? hn : dm, "empty domain name not allowed");
			path_pop(ld, m2);
		} else if (strcmp(host, "*") == 0) {
			size_t m2 = path_key(ld, "host");

			ld_err(ld, hn, "invalid destination host %s", host);
			path_pop(ld, m2);
		} else if (!check_wildcard_domain(ld, host, err, sizeof(err))) {
			size_t m2 = path_key(ld, "host");

			ld_err(ld, hn, "%s", err);
			path_pop(ld, m2);
		}
		d->host = ld_strdup(ld, host);
		subset = ld_get_str(ld, dm, "subset", &sn);
		if (subset != NULL) {
			size_t m2 = path_key(ld, "subset");

			if (subset[0] == '\0')
				ld_err(ld, sn, "subset name cannot be empty");
			else if (!is_dns1123_label(subset, strlen(subset)))
				ld_err(ld, sn, "subset name is invalid: %s", subset);
			d->subset = ld_strdup(ld, subset);
			path_pop(ld, m2);
		}
		pm = ld_get(ld, dm, "port", YNODE_MAP);
		if (pm != NULL) {
			size_t m2 = path_key(ld, "port");
			long num = ld_port_number(ld, pm, "number", "port number");

			d->port = num > 0 ? (uint32_t)num : 0;
			path_pop(ld, m2);
		}
		path_pop(ld, mark);
	}
	wn = ymap_get(rd, "weight");
	if (wn != NULL && !ynode_is_null(wn)) {
		int64_t w;

		mark = path_key(ld, "weight");
		if (ld_int(ld, wn, &w) == 0) {
			raw = w;
			if (w < 0 || w > 100) {
				ld_err(ld, wn, "percentage %s is not in range 0..100", wn->str);
			} else {
				d->weight = (uint32_t)w;
				d->has_weight = true;
			}
		}
		path_pop(ld, mark);
	}
	return raw;
}

/* spec.tcp[i] or spec.tls[i] (path pushed). */
static void
vs_route(struct ld *ld, const struct ynode *rm, bool tls, struct virtual_service *vs,
	 struct vs_route *r, struct vs_warned *warned)
{
	const struct ynode *matches = ld_get(ld, rm, "match", YNODE_SEQ);
	const struct ynode *route = ld_get(ld, rm, "route", YNODE_SEQ);
	int64_t total = 0;
	size_t i, mark;

	r->pos = ld_pos(ld, rm);
	r->tls = tls;
	ld_unknown_fields(ld, rm, vs_route_fields);
	if (tls && (matches == NULL || matches->n == 0))
		ld_err(ld, rm, "TLS route must have at least one match condition");
	if (matches != NULL && matches->n > 0) {
		mark = path_key(ld, "match");
		r->matches = ld_calloc(ld, matches->n, sizeof(*r->matches));
		for (i = 0; r->matches != NULL && i < matches->n; i++) {
			const struct ynode *mm = matches->items[i];
			size_t m2 = path_idx(ld, i);

			if (mm->type != YNODE_MAP)
				ld_err(ld, mm, tls ? "TLS match may not be null" :
				       "tcp match may not be nil");
			else
				vs_match(ld, mm, tls, vs, &r->matches[r->n_matches++], warned);
			path_pop(ld, m2);
		}
		path_pop(ld, mark);
	}
	if (route == NULL || route->n == 0) {
		mark = path_key(ld, "route");
		ld_err(ld, route != NULL ? route : rm, tls ? "TLS route is required" :
		       "TCP route is required");
		path_pop(ld, mark);
		return;
	}
	mark = path_key(ld, "route");
	r->dests = ld_calloc(ld, route->n, sizeof(*r->dests));
	for (i = 0; r->dests != NULL && i < route->n; i++) {
		const struct ynode *rd = route->items[i];
		size_t m2 = path_idx(ld, i);

		if (rd->type != YNODE_MAP) {
			ld_err(ld, rd, "weight may not be nil");
		} else {
			int64_t w = vs_route_dest(ld, rd, &r->dests[r->n_dests++]);

			/* saturating: a weight of 2^62 must not wrap the sum */
			total = w > 0 && total > INT64_MAX - w ? INT64_MAX :
				w < 0 && total < INT64_MIN - w ? INT64_MIN : total + w;
		}
		path_pop(ld, m2);
	}
	if (r->n_dests > 1 && total != 100)
		ld_err(ld, route, "total destination weight %" PRId64 " != 100", total);
	path_pop(ld, mark);
}

/*
 * Istio's analyzeUnreachableTCPRules / TLSRules: a route without a match must
 * be the last one; a match seen in an earlier route is never used.
 */
static void
vs_unreachable(struct ld *ld, const struct ynode *seq)
{
	char (*keys)[256];
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
		size_t dups = 0, mark = path_idx(ld, i);

		if (rm->type != YNODE_MAP) {
			path_pop(ld, mark);
			continue;
		}
		if (m == NULL || m->type != YNODE_SEQ || m->n == 0) {
			if (empty_seen)
				ld_warn(ld, rm, "virtualService rule #%zu not used (only the last "
					"rule can have no matches)", i);
			empty_seen = true;
			path_pop(ld, mark);
			continue;
		}
		for (j = 0; j < m->n; j++) {
			char key[256];

			vs_match_key(m->items[j], key, sizeof(key));
			for (k = 0; k < n_keys && strcmp(keys[k], key) != 0; k++)
				;
			if (k < n_keys) {
				ld_warn(ld, m->items[j], "virtualService rule #%zu match #%zu is "
					"not used (duplicate/overlapping match in rule #%u)", i, j,
					owner[k]);
				dups++;
				continue;
			}
			snprintf(keys[n_keys], sizeof(keys[n_keys]), "%s", key);
			owner[n_keys++] = (unsigned int)i;
		}
		if (dups == m->n)
			ld_warn(ld, rm, "virtualService rule #%zu not used (all matches used by "
				"prior rules)", i);
		path_pop(ld, mark);
	}
out:
	free(keys);
	free(owner);
}

static void
vs_hosts(struct ld *ld, const struct ynode *spec, struct virtual_service *vs, bool to_mesh)
{
	const struct ynode *seq = ld_get(ld, spec, "hosts", YNODE_SEQ);
	bool all_valid = true;
	char err[MSG_MAX];
	size_t i, j, mark;

	if (seq == NULL || seq->n == 0)
		return;
	mark = path_key(ld, "hosts");
	vs->hosts = ld_calloc(ld, seq->n, sizeof(*vs->hosts));
	for (i = 0; vs->hosts != NULL && i < seq->n; i++) {
		const struct ynode *n = seq->items[i];
		size_t m2 = path_idx(ld, i);
		const char *h = ld_str(ld, n);
		struct in6_addr in6;
		struct in_addr in4;

		if (h == NULL) {
			all_valid = false;
			path_pop(ld, m2);
			continue;
		}
		if (!check_wildcard_domain(ld, h, err, sizeof(err))) {
			if (inet_pton(AF_INET, h, &in4) != 1 && inet_pton(AF_INET6, h, &in6) != 1) {
				ld_err(ld, n, "%s", err);
				all_valid = false;
			}
		} else if (to_mesh && strcmp(h, "*") == 0) {
			ld_err(ld, n, "wildcard host * is not allowed for virtual services bound "
			       "to the mesh gateway");
			all_valid = false;
		}
		vs->hosts[vs->n_hosts++] = ld_strdup(ld, h);
		path_pop(ld, m2);
	}
	for (i = 0; all_valid && i < vs->n_hosts; i++) {
		for (j = i + 1; j < vs->n_hosts; j++) {
			if (vs->hosts[i] == NULL || vs->hosts[j] == NULL ||
			    (!istio_host_covers(vs->hosts[i], vs->hosts[j]) &&
			     !istio_host_covers(vs->hosts[j], vs->hosts[i])))
				continue;
			ld_err(ld, seq, "duplicate hosts in virtual service: %s & %s", vs->hosts[i],
			       vs->hosts[j]);
		}
	}
	path_pop(ld, mark);
}

static void
vs_routes(struct ld *ld, const struct ynode *spec, struct virtual_service *vs, bool tls,
	  struct vs_warned *warned)
{
	const char *key = tls ? "tls" : "tcp";
	const struct ynode *seq = ld_get(ld, spec, key, YNODE_SEQ);
	struct vs_route *v;
	size_t i, mark;

	if (seq == NULL || seq->n == 0)
		return;
	mark = path_key(ld, key);
	v = realloc(vs->routes, (vs->n_routes + seq->n) * sizeof(*v));
	if (v == NULL) {
		ld->oom = true;
		path_pop(ld, mark);
		return;
	}
	vs->routes = v;
	for (i = 0; i < seq->n; i++) {
		const struct ynode *rm = seq->items[i];
		size_t m2 = path_idx(ld, i);

		if (rm->type != YNODE_MAP) {
			ld_err(ld, rm, "%s route may not be null", tls ? "TLS" : "TCP");
		} else {
			struct vs_route *r = &vs->routes[vs->n_routes++];

			memset(r, 0, sizeof(*r));
			r->index = (unsigned int)i;
			vs_route(ld, rm, tls, vs, r, warned);
		}
		path_pop(ld, m2);
	}
	vs_unreachable(ld, seq);
	path_pop(ld, mark);
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

	mark = path_key(ld, "spec");
	ld_unknown_fields(ld, spec, vs_spec_fields);
	gws = ld_get(ld, spec, "gateways", YNODE_SEQ);
	if (gws != NULL && gws->n > 0) {
		size_t m2 = path_key(ld, "gateways");

		vs.gateways_pos = ld_pos(ld, gws);
		vs_gateway_names(ld, gws, &vs.gateways, &vs.n_gateways);
		to_mesh = false;
		for (i = 0; i < vs.n_gateways; i++)
			to_mesh = to_mesh || (vs.gateways[i] != NULL &&
					      strcmp(vs.gateways[i], "mesh") == 0);
		path_pop(ld, m2);
	}
	if (vs.n_gateways == 0 || (to_mesh && vs.n_gateways == 1)) {
		size_t m2 = path_key(ld, "gateways");

		ld_warn(ld, gws != NULL ? gws : spec, "bound to the mesh only (sidecars): no "
			"route of this VirtualService applies to a gateway; ignored");
		path_pop(ld, m2);
	}
	vs_hosts(ld, spec, &vs, to_mesh);
	if (ld_absent(spec, "http") && ld_absent(spec, "tcp") && ld_absent(spec, "tls"))
		ld_err(ld, spec, "http, tcp or tls must be provided in virtual service");
	if (vs.n_hosts == 0) {
		if (!ld_absent(spec, "tls")) {
			size_t m2 = path_key(ld, "tls");

			ld_err(ld, ymap_key(spec, "tls"), "delegate virtual service must have no "
			       "tls route specified");
			path_pop(ld, m2);
		}
		if (!ld_absent(spec, "tcp")) {
			size_t m2 = path_key(ld, "tcp");

			ld_err(ld, ymap_key(spec, "tcp"), "delegate virtual service must have no "
			       "tcp route specified");
			path_pop(ld, m2);
		}
	}
	http = ymap_key(spec, "http");
	if (http != NULL)
		ld_unhonoured(ld, spec, "http", "HTTP routes need an L7 proxy; ignored (HTTP "
			      "ports keep their ServiceEntry's endpoints)");
	/* tls first: Istio matches TLS ports by the tls routes, the rest by tcp */
	vs_routes(ld, spec, &vs, true, &warned);
	vs_routes(ld, spec, &vs, false, &warned);
	ld_export_to(ld, spec, md->ns, false);
	path_pop(ld, mark);
	model_add_vs(ld, &vs);
}
