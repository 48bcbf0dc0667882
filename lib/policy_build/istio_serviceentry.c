/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ServiceEntry: hosts, addresses, ports, endpoints and resolution, checked
 * with Istio's rules (and its messages), plus what an L4 gateway needs: an
 * entry that opens every destination, an address that is the appliance
 * itself, fields it cannot honour.
 *
 * Control thread only.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "istio_private.h"

/*
 * The limits of Istio's CRD schema (istio/api service_entry.proto and
 * workload_entry.proto: MaxItems, MaxProperties, MaxLength), which the API
 * server enforces before Istio's own validation runs.
 */
#define SE_MAX_HOSTS        256
#define SE_MAX_ADDRESSES    256
#define SE_MAX_ADDRESS_LEN  64
#define SE_MAX_PORTS        256
#define SE_MAX_ENDPOINTS    4096
#define EP_MAX_ADDRESS_LEN  256
#define EP_MAX_PORTS        128
#define EP_MAX_LABELS       256
#define EP_MAX_NETWORK_LEN  2048
#define EP_MAX_LOCALITY_LEN 2048
#define EP_MAX_SA_LEN       253

static const char *const se_spec_fields[] = {
	"hosts",     "addresses",        "ports",    "location",        "resolution",
	"endpoints", "workloadSelector", "exportTo", "subjectAltNames", NULL,
};
static const char *const se_port_fields[] = {
	"number", "protocol", "name", "targetPort", NULL,
};
static const char *const se_endpoint_fields[] = {
	"address", "ports", "labels", "network", "locality", "weight", "serviceAccount", NULL,
};

/* Which endpoint fields have had their one "cannot honour" warning. */
struct ep_warned {
	bool network, locality, service_account;
};

/* What the ServiceEntry checks need to know before reading hosts and ports. */
struct se_ctx {
	bool res_ok;   /* spec.resolution is usable */
	bool open_all; /* NONE without addresses: ports open to anything */
	struct ep_warned warned;
};

/* A list or map longer than the CRD allows (path pushed), in the API server's words. */
static void
se_max_items(struct ld *ld, const struct ynode *n, size_t max)
{
	if (n != NULL && (n->type == YNODE_SEQ || n->type == YNODE_MAP) && n->n > max)
		yr_err(&ld->r, n, "Too many: %zu: must have at most %zu items", n->n, max);
}

/* A string longer than the CRD allows (path pushed). */
static void
se_max_len(struct ld *ld, const struct ynode *n, const char *s, size_t max)
{
	if (s != NULL && strlen(s) > max)
		yr_err(&ld->r, n, "Too long: may not be longer than %zu", max);
}

/* The same for a string field of map (path not pushed yet). */
static void
se_field_max_len(struct ld *ld, const struct ynode *map, const char *key, size_t max)
{
	const struct ynode *n = ymap_get(map, key);
	size_t mark;

	if (n == NULL || n->type != YNODE_SCALAR)
		return;
	mark = yr_key(&ld->r, key);
	se_max_len(ld, n, n->str, max);
	yr_pop(&ld->r, mark);
}

static void
se_hosts(struct ld *ld, const struct ynode *spec, struct service_entry *se)
{
	const struct ynode *seq = yr_get(&ld->r, spec, "hosts", YNODE_SEQ);
	char err[MSG_MAX];
	size_t i, mark = yr_key(&ld->r, "hosts");

	if (seq == NULL || seq->n == 0) {
		if (seq != NULL || ymap_opt(spec, "hosts") == NULL)
			yr_err(&ld->r, seq != NULL ? seq : spec,
			       "service entry must have at least one host");
		yr_pop(&ld->r, mark);
		return;
	}
	se_max_items(ld, seq, SE_MAX_HOSTS);
	se->hosts = ld_calloc(ld, seq->n, sizeof(*se->hosts));
	for (i = 0; se->hosts != NULL && i < seq->n; i++) {
		const struct ynode *n = seq->items[i];
		size_t m2 = yr_idx(&ld->r, i);
		const char *h = yr_str(&ld->r, n);

		if (h == NULL) {
			if (n->type == YNODE_SCALAR)
				yr_err(&ld->r, n, "empty domain name not allowed");
			yr_pop(&ld->r, m2);
			continue;
		}
		/* Full wildcard is not allowed in a service entry (Istio). */
		if (strcmp(h, "*") == 0)
			yr_err(&ld->r, n, "invalid host %s", h);
		else if (!ld_istio_wildcard_domain(ld, h, err, sizeof(err)))
			yr_err(&ld->r, n, "%s", err);
		else if (istio_partial_wildcard(h))
			/* a warning in Istio too; Envoy would match it as a suffix */
			yr_warn(&ld->r, n,
				"partial wildcard %s not allowed: egressd takes it as a literal "
				"host name",
				yr_quote(&ld->r, h));
		se->hosts[se->n_hosts++] = ld_strdup(ld, h);
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

/*
 * An address as Istio's agent.ValidateIPSubnet() takes it (Go's netip): an
 * IPv4/IPv6 address or prefix, no leading zero in a prefix length, an IPv6
 * zone on a plain address. Host bits are cleared (*host_bits says so), a zone
 * dropped (*zone says so). @return 0 or -1.
 */
static int
se_parse_address(const char *s, struct se_address *a, bool *host_bits, bool *zone)
{
	const char *slash = strchr(s, '/'), *pct = strchr(s, '%');
	char buf[INET6_ADDRSTRLEN];
	size_t alen;

	*zone = false;
	/* netip.ParsePrefix: "/08" is refused, as strconv would take it */
	if (slash != NULL && slash[1] == '0' && slash[2] != '\0')
		return -1;
	if (slash != NULL || pct == NULL)
		return istio_parse_prefix(s, a, host_bits);
	/* netip.ParseAddr: "fe80::1%eth0", a non-empty zone on IPv6 only */
	alen = (size_t)(pct - s);
	if (pct[1] == '\0' || alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (strchr(buf, ':') == NULL || istio_parse_prefix(buf, a, host_bits) != 0)
		return -1;
	*zone = true;
	return 0;
}

/* The checks of one parsed address (path pushed); it may be marked ignored. */
static void
se_address_check(struct ld *ld, const struct ynode *n, const char *s, struct se_address *a,
		 bool host_bits, bool zone)
{
	const struct own_addr *own;
	char pfx[INET6_ADDRSTRLEN + 8];

	istio_format_prefix(a, pfx, sizeof(pfx));
	/* Istio keeps such a prefix as written; Envoy's CidrRange masks it */
	if (host_bits)
		yr_warn(&ld->r, n, "%s has host bits set: egressd matches the network %s", s, pfx);
	if (a->prefix_len == 0)
		yr_warn(&ld->r, n, "%s opens every %s destination on this entry's ports", s,
			a->v6 ? "IPv6" : "IPv4");
	if (a->v6) {
		yr_warn(&ld->r, n,
			"%s is IPv6: parsed and validated, but IPv6 is not forwarded yet%s", s,
			zone ? " (its zone is ignored)" : "");
	} else if (a->prefix_len == 32 && (own = ld_own_in_prefix(ld, a->ip, 32)) != NULL) {
		/* valid for Istio; a rule for it would send the mesh to the appliance */
		a->ignored = true;
		yr_warn(&ld->r, n,
			"%s is this appliance's own address (%s): egressd compiles no rule for "
			"it",
			s, own->what);
	} else if (a->prefix_len > 0 && a->prefix_len < 32 &&
		   (own = ld_own_in_prefix(ld, a->ip, a->prefix_len)) != NULL) {
		char ip[INET_ADDRSTRLEN];

		istio_format_ip4(own->ip, ip, sizeof(ip));
		yr_warn(&ld->r, n,
			"%s contains this appliance's own address %s (%s), "
			"which is never forwarded",
			s, ip, own->what);
	}
}

static void
se_addresses(struct ld *ld, const struct ynode *spec, struct service_entry *se,
	     const struct ynode **first_cidr)
{
	const struct ynode *seq = yr_get(&ld->r, spec, "addresses", YNODE_SEQ);
	size_t i, mark;

	*first_cidr = NULL;
	if (seq == NULL || seq->n == 0)
		return;
	mark = yr_key(&ld->r, "addresses");
	se_max_items(ld, seq, SE_MAX_ADDRESSES);
	se->addresses = ld_calloc(ld, seq->n, sizeof(*se->addresses));
	for (i = 0; se->addresses != NULL && i < seq->n; i++) {
		const struct ynode *n = seq->items[i];
		size_t m2 = yr_idx(&ld->r, i);
		struct se_address a = { .pos = ld_pos(ld, n) };
		const char *s = yr_str(&ld->r, n);
		bool host_bits, zone;

		if (s != NULL && strlen(s) > SE_MAX_ADDRESS_LEN) {
			se_max_len(ld, n, s, SE_MAX_ADDRESS_LEN);
		} else if (s == NULL || se_parse_address(s, &a, &host_bits, &zone) != 0) {
			if (s != NULL || n->type == YNODE_SCALAR)
				yr_err(&ld->r, n,
				       "invalid address %s (want an IPv4/IPv6 address "
				       "or CIDR)",
				       yr_quote(&ld->r, s != NULL ? s : ""));
		} else {
			if (a.cidr && *first_cidr == NULL)
				*first_cidr = n;
			se_address_check(ld, n, s, &a, host_bits, zone);
			se->addresses[se->n_addresses++] = a;
		}
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

/* One spec.ports[] item (path already pushed); *p is zeroed. */
static void
se_port(struct ld *ld, const struct ynode *pm, struct service_entry *se, struct se_port *p,
	const struct se_ctx *cx)
{
	const struct proto_info *pi;
	const struct ynode *nn, *pn;
	const char *name, *proto;
	unsigned int j;
	size_t mark;
	long num, tgt;

	p->pos = ld_pos(ld, pm);
	ld_unknown_fields(ld, pm, se_port_fields);

	num = ld_port_number(ld, pm, "number", "port number");
	if (num == 0 && ymap_opt(pm, "number") == NULL) {
		mark = yr_key(&ld->r, "number");
		yr_err(&ld->r, pm, "required field missing");
		yr_pop(&ld->r, mark);
	}
	p->number = num > 0 ? (uint32_t)num : 0;
	tgt = ld_port_number(ld, pm, "targetPort", "targetPort");
	p->target_port = tgt > 0 ? (uint32_t)tgt : 0;
	if (tgt > 0 && cx->res_ok && se->resolution == SE_RES_NONE) {
		mark = yr_key(&ld->r, "targetPort");
		yr_warn(&ld->r, ymap_get(pm, "targetPort"),
			"targetPort has no effect when resolution mode is NONE (Istio); "
			"egressd sends to port %ld of the original destination",
			tgt);
		yr_pop(&ld->r, mark);
	}

	name = yr_get_str(&ld->r, pm, "name", &nn);
	mark = yr_key(&ld->r, "name");
	if (name == NULL || name[0] == '\0')
		yr_err(&ld->r, nn != NULL ? nn : pm, "port name must be set");
	else if (!istio_label(name, strlen(name)))
		yr_err(&ld->r, nn, "invalid port name: %s", name);
	yr_pop(&ld->r, mark);
	p->name = ld_strdup(ld, name);

	proto = yr_get_str(&ld->r, pm, "protocol", &pn);
	/* Empty or absent: Istio sniffs the protocol; that is TCP at L4. */
	pi = proto == NULL || proto[0] == '\0' ? &istio_protocols[0] : istio_proto_find(proto);
	p->protocol = ld_strdup_upper(ld, proto);
	if (pi == NULL) {
		mark = yr_key(&ld->r, "protocol");
		yr_err(&ld->r, pn, "unsupported protocol: %s", proto);
		yr_pop(&ld->r, mark);
		pi = &istio_protocols[0];
	}
	p->l4proto = pi->l4proto;

	/* Istio's duplicate checks, in its words; p is the last port so far. */
	for (j = 0; name != NULL && name[0] != '\0' && j + 1 < se->n_ports; j++) {
		if (se->ports[j].name != NULL && strcmp(se->ports[j].name, name) == 0) {
			mark = yr_key(&ld->r, "name");
			yr_err(&ld->r, nn, "service entry port name %s already defined",
			       yr_quote(&ld->r, name));
			yr_pop(&ld->r, mark);
			break;
		}
	}
	for (j = 0; p->number != 0 && j + 1 < se->n_ports; j++) {
		if (se->ports[j].number == p->number) {
			mark = yr_key(&ld->r, "number");
			yr_err(&ld->r, ymap_get(pm, "number"),
			       "service entry port %u already "
			       "defined",
			       p->number);
			yr_pop(&ld->r, mark);
			break;
		}
	}
	if (cx->open_all && p->number != 0)
		yr_warn(&ld->r, pm,
			"resolution NONE and no addresses: port %u/%s is open to EVERY "
			"destination (add spec.addresses to restrict it)",
			p->number, pi->l4proto == IPPROTO_UDP ? "UDP" : "TCP");
}

static void
se_ports(struct ld *ld, const struct ynode *spec, struct service_entry *se, const struct se_ctx *cx)
{
	const struct ynode *seq = yr_get(&ld->r, spec, "ports", YNODE_SEQ);
	size_t i, mark = yr_key(&ld->r, "ports");

	if (seq == NULL || seq->n == 0) {
		/* Istio allows it; Envoy gets no listener for such a service */
		if (seq != NULL || ymap_opt(spec, "ports") == NULL)
			yr_warn(&ld->r, seq != NULL ? seq : spec,
				"a ServiceEntry with no ports admits nothing (an L4 gateway "
				"admits traffic by port)");
		yr_pop(&ld->r, mark);
		return;
	}
	se_max_items(ld, seq, SE_MAX_PORTS);
	se->ports = ld_calloc(ld, seq->n, sizeof(*se->ports));
	for (i = 0; se->ports != NULL && i < seq->n; i++) {
		const struct ynode *pm = seq->items[i];
		size_t m2 = yr_idx(&ld->r, i);

		if (pm->type != YNODE_MAP)
			yr_err(&ld->r, pm, "expected a mapping, got %s", yr_describe(&ld->r, pm));
		else
			se_port(ld, pm, se, &se->ports[se->n_ports++], cx);
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

static bool
se_has_port_name(const struct service_entry *se, const char *name)
{
	unsigned int i;

	for (i = 0; i < se->n_ports; i++)
		if (se->ports[i].name != NULL && strcmp(se->ports[i].name, name) == 0)
			return true;
	return false;
}

static void
se_endpoint_ports(struct ld *ld, const struct ynode *em, struct service_entry *se,
		  struct se_endpoint *ep)
{
	const struct ynode *map = yr_get(&ld->r, em, "ports", YNODE_MAP);
	size_t i, mark;

	if (map == NULL || map->n == 0)
		return;
	mark = yr_key(&ld->r, "ports");
	se_max_items(ld, map, EP_MAX_PORTS);
	ep->ports = ld_calloc(ld, map->n, sizeof(*ep->ports));
	for (i = 0; ep->ports != NULL && i < map->n; i++) {
		const struct ynode *k = map->items[2 * i];
		const struct ynode *v = map->items[2 * i + 1];
		size_t m2;
		int64_t num;

		if (k->type != YNODE_SCALAR)
			continue;
		m2 = yr_key(&ld->r, k->str);
		if (yr_int(&ld->r, v, &num) == 0) {
			if (num < 1 || num > 65535) {
				yr_err(&ld->r, v, "port number %s out of range (1-65535)", v->str);
			} else {
				struct se_endpoint_port *p = &ep->ports[ep->n_ports++];

				p->name = ld_strdup(ld, k->str);
				p->number = (uint32_t)num;
			}
		}
		if (!istio_label(k->str, strlen(k->str)))
			yr_err(&ld->r, k, "invalid port name: %s", k->str);
		else if (!se_has_port_name(se, k->str))
			yr_err(&ld->r, k, "endpoint port %s is not defined by the service entry",
			       k->str);
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

/*
 * A STATIC endpoint without an address (path pushed): Istio allows it when
 * it names a network (reached through that network's gateway).
 */
static void
se_endpoint_no_address(struct ld *ld, const struct ynode *at, const struct ynode *em,
		       struct se_endpoint *ep, struct se_ctx *cx)
{
	const char *net = ynode_str(ymap_get(em, "network"));

	if (net == NULL || net[0] == '\0') {
		yr_err(&ld->r, at, "address is required");
		return;
	}
	ep->ignored = true;
	cx->warned.network = true; /* this says more than the field's own warning */
	yr_warn(&ld->r, at,
		"address is unset with network %s: egressd cannot route to another network "
		"and ignores this endpoint",
		yr_quote(&ld->r, net));
}

/* A STATIC unix:// endpoint (path pushed): Istio's ValidateUnixAddress() and co. */
static void
se_endpoint_unix(struct ld *ld, const struct ynode *an, const struct ynode *em,
		 const struct service_entry *se, struct se_endpoint *ep)
{
	const char *path = ep->address + strlen("unix://");
	size_t len = strlen(path);
	bool ok = true;

	if (len == 0) {
		yr_err(&ld->r, an, "unix address must not be empty");
		ok = false;
	} else if (path[0] != '@' && (path[0] != '/' || path[len - 1] == '/')) {
		yr_err(&ld->r, an, "%s is not an absolute path to a file", path);
		ok = false;
	}
	if (ymap_key(em, "ports") != NULL) {
		yr_err(&ld->r, an, "unix endpoint %s must not include ports", ep->address);
		ok = false;
	}
	if (se->n_ports != 1) {
		yr_err(&ld->r, an, "exactly 1 service port required for unix endpoints");
		ok = false;
	}
	ep->ignored = true;
	if (ok)
		yr_warn(&ld->r, an,
			"%s is a unix domain socket, which a network gateway cannot reach: "
			"egressd ignores this endpoint",
			yr_quote(&ld->r, ep->address));
}

/*
 * The address of one endpoint (path pushed), checked as Istio checks it for
 * the resolution mode: STATIC wants an IP, a unix socket or (with a network)
 * nothing, DNS an IP or a FQDN. an is the address node, NULL when absent.
 */
static void
se_endpoint_address(struct ld *ld, const struct ynode *an, const struct ynode *em,
		    const struct service_entry *se, struct se_endpoint *ep, struct se_ctx *cx)
{
	const char *addr = ep->address;
	const struct ynode *at = an != NULL ? an : em;
	const struct own_addr *own;
	char err[MSG_MAX];
	struct in_addr in4;
	uint8_t in6[16];

	if (addr != NULL && inet_pton(AF_INET, addr, &in4) == 1) {
		ep->is_ip = true;
		ep->ip = ntohl(in4.s_addr);
	} else if (addr != NULL && inet_pton(AF_INET6, addr, in6) == 1) {
		ep->is_ip6 = true;
	}
	if (!cx->res_ok || se->resolution == SE_RES_NONE) {
		/* NONE: the endpoints themselves are the error, reported once */
	} else if (ep->is_ip6) {
		yr_warn(&ld->r, at,
			"%s is IPv6: parsed and validated, but IPv6 is not forwarded "
			"yet",
			addr);
	} else if (ep->is_ip) {
		own = ld_own_in_prefix(ld, ep->ip, 32);
		if (own != NULL) {
			/* valid for Istio; a NAT target there would loop */
			ep->ignored = true;
			yr_warn(&ld->r, at,
				"%s is this appliance's own address (%s): egressd ignores this "
				"endpoint",
				addr, own->what);
		}
	} else if (se->resolution == SE_RES_STATIC) {
		if (addr == NULL || addr[0] == '\0')
			se_endpoint_no_address(ld, at, em, ep, cx);
		else if (strncmp(addr, "unix://", strlen("unix://")) == 0)
			se_endpoint_unix(ld, at, em, se, ep);
		else
			yr_err(&ld->r, at,
			       "%s is not a valid IP (resolution STATIC needs IP addresses; "
			       "use DNS for hostnames)",
			       addr);
	} else if (addr == NULL || !ld_istio_fqdn(ld, addr, err, sizeof(err))) {
		yr_err(&ld->r, at, "endpoint address %s is not a valid FQDN or an IP address",
		       yr_quote(&ld->r, addr != NULL ? addr : ""));
	} else {
		yr_warn(&ld->r, at,
			"%s is resolved by the control thread (in the background, "
			"never per flow)",
			yr_quote(&ld->r, addr));
	}
}

/* What ep_label_add() needs: where labels go, and the map for positions. */
struct ep_label_sink {
	struct label_sink sink;
	const struct ynode *map;
};

/* One endpoint label, checked with labels.Instance.Validate() (path pushed). */
static void
ep_label_add(struct ld *ld, const char *k, const char *v, void *arg)
{
	struct ep_label_sink *s = arg;

	ld_istio_label_pair(ld, ymap_key(s->map, k), ymap_get(s->map, k), v);
	ld_label_add(ld, k, v, &s->sink);
}

/* One spec.endpoints[] item (path already pushed). */
static void
se_endpoint(struct ld *ld, const struct ynode *em, struct service_entry *se, struct se_endpoint *ep,
	    struct se_ctx *cx)
{
	const struct ynode *an, *wn, *lm;
	const char *addr;
	size_t mark;

	ep->pos = ld_pos(ld, em);
	ld_unknown_fields(ld, em, se_endpoint_fields);
	se_field_max_len(ld, em, "address", EP_MAX_ADDRESS_LEN);
	se_field_max_len(ld, em, "network", EP_MAX_NETWORK_LEN);
	se_field_max_len(ld, em, "locality", EP_MAX_LOCALITY_LEN);
	se_field_max_len(ld, em, "serviceAccount", EP_MAX_SA_LEN);

	addr = yr_get_str(&ld->r, em, "address", &an);
	mark = yr_key(&ld->r, "address");
	ep->address = ld_strdup(ld, addr);
	if (an != NULL)
		ep->pos = ld_pos(ld, an);
	/* not a string: said; a failed copy: the model is partial anyway */
	if (an == NULL ? ymap_opt(em, "address") == NULL : ep->address != NULL)
		se_endpoint_address(ld, an, em, se, ep, cx);
	yr_pop(&ld->r, mark);

	se_endpoint_ports(ld, em, se, ep);

	wn = ymap_get(em, "weight");
	if (wn != NULL && !ynode_is_null(wn)) {
		int64_t w;

		mark = yr_key(&ld->r, "weight");
		if (yr_int(&ld->r, wn, &w) == 0) {
			if (w < 0 || w > UINT32_MAX)
				yr_err(&ld->r, wn, "weight %s out of range (0-4294967295)",
				       wn->str);
			else
				ep->weight = (uint32_t)w;
		}
		yr_pop(&ld->r, mark);
	}
	lm = yr_get(&ld->r, em, "labels", YNODE_MAP);
	if (lm != NULL && lm->n > 0) {
		struct ep_label_sink sink;

		mark = yr_key(&ld->r, "labels");
		se_max_items(ld, lm, EP_MAX_LABELS);
		ep->labels = ld_calloc(ld, lm->n, sizeof(*ep->labels));
		sink = (struct ep_label_sink){ { ep->labels, &ep->n_labels }, lm };
		if (ep->labels != NULL)
			ld_string_map(ld, lm, ep_label_add, &sink);
		yr_pop(&ld->r, mark);
	}
	if (!cx->warned.network && ymap_key(em, "network") != NULL) {
		cx->warned.network = true;
		ld_unhonoured(ld, em, "network",
			      "multi-network routing is not done by an L4 "
			      "gateway; ignored");
	}
	if (!cx->warned.locality && ymap_key(em, "locality") != NULL) {
		cx->warned.locality = true;
		ld_unhonoured(ld, em, "locality",
			      "locality-aware load balancing is not done by "
			      "an L4 gateway; ignored");
	}
	if (!cx->warned.service_account && ymap_key(em, "serviceAccount") != NULL) {
		cx->warned.service_account = true;
		ld_unhonoured(ld, em, "serviceAccount",
			      "an L4 gateway does not verify workload "
			      "identities; ignored");
	}
}

static void
se_endpoints(struct ld *ld, const struct ynode *spec, struct service_entry *se, struct se_ctx *cx)
{
	const struct ynode *seq = yr_get(&ld->r, spec, "endpoints", YNODE_SEQ);
	size_t i, mark;

	if (seq == NULL || seq->n == 0)
		return;
	mark = yr_key(&ld->r, "endpoints");
	se_max_items(ld, seq, SE_MAX_ENDPOINTS);
	se->endpoints = ld_calloc(ld, seq->n, sizeof(*se->endpoints));
	for (i = 0; se->endpoints != NULL && i < seq->n; i++) {
		const struct ynode *em = seq->items[i];
		size_t m2 = yr_idx(&ld->r, i);

		if (em->type != YNODE_MAP)
			yr_err(&ld->r, em, "expected a mapping, got %s", yr_describe(&ld->r, em));
		else
			se_endpoint(ld, em, se, &se->endpoints[se->n_endpoints++], cx);
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

static const char *const resolution_names[] = {
	[SE_RES_NONE] = "NONE",
	[SE_RES_STATIC] = "STATIC",
	[SE_RES_DNS] = "DNS",
	[SE_RES_DNS_ROUND_ROBIN] = "DNS_ROUND_ROBIN",
};

/* spec.resolution; *ok is false when it is unusable (checks that need it stop). */
static enum se_resolution
se_resolution(struct ld *ld, const struct ynode *spec, bool *ok)
{
	const struct ynode *n;
	const char *s = yr_get_str(&ld->r, spec, "resolution", &n);
	size_t mark, i;

	*ok = n != NULL || ymap_opt(spec, "resolution") == NULL;
	if (s == NULL)
		return SE_RES_NONE;
	for (i = 0; i < sizeof(resolution_names) / sizeof(resolution_names[0]); i++)
		if (strcmp(s, resolution_names[i]) == 0)
			return (enum se_resolution)i;
	*ok = false;
	mark = yr_key(&ld->r, "resolution");
	if (strcmp(s, "DYNAMIC_DNS") == 0)
		yr_err(&ld->r, n,
		       "resolution DYNAMIC_DNS is not supported: it routes by the HTTP "
		       "Host or TLS SNI of each request, which needs an L7 proxy");
	else
		yr_err(&ld->r, n, "unsupported resolution type %s", s);
	yr_pop(&ld->r, mark);
	return SE_RES_NONE;
}

static enum se_location
se_location(struct ld *ld, const struct ynode *spec)
{
	const struct ynode *n;
	const char *s = yr_get_str(&ld->r, spec, "location", &n);
	size_t mark;

	if (s == NULL || strcmp(s, "MESH_EXTERNAL") == 0)
		return SE_LOC_MESH_EXTERNAL;
	if (strcmp(s, "MESH_INTERNAL") == 0)
		return SE_LOC_MESH_INTERNAL;
	mark = yr_key(&ld->r, "location");
	yr_err(&ld->r, n, "invalid location %s (want MESH_EXTERNAL or MESH_INTERNAL)",
	       yr_quote(&ld->r, s));
	yr_pop(&ld->r, mark);
	return SE_LOC_MESH_EXTERNAL;
}

/* The whole-entry checks that depend on the resolution mode (Istio's switch). */
static void
se_check_resolution(struct ld *ld, const struct ynode *spec, const struct service_entry *se,
		    bool has_selector)
{
	const struct ynode *hosts = yr_get(&ld->r, spec, "hosts", YNODE_SEQ), *eps;
	const char *res = resolution_names[se->resolution];
	char err[MSG_MAX];
	size_t i, mark;

	switch (se->resolution) {
	case SE_RES_NONE:
		eps = ymap_get(spec, "endpoints");
		mark = yr_key(&ld->r, "endpoints");
		if (se->n_endpoints != 0)
			yr_err(&ld->r, eps,
			       "no endpoints should be provided for resolution type none");
		else if (eps != NULL && eps->type == YNODE_SEQ)
			/* the CRD's rule is !has(self.endpoints): an empty list too */
			yr_err(&ld->r, eps, "NONE mode cannot set endpoints");
		yr_pop(&ld->r, mark);
		break;
	case SE_RES_STATIC:
		/* Istio allows it (the endpoints may be WorkloadEntries) */
		if (se->n_endpoints != 0 || se->n_ports == 0)
			break;
		mark = yr_key(&ld->r, "resolution");
		yr_warn(&ld->r, ymap_get(spec, "resolution"),
			"resolution STATIC and no endpoints: egressd has no address to send "
			"to, so the entry admits nothing%s",
			has_selector ? " (an L4 gateway does not read the "
				       "WorkloadEntries a workloadSelector picks)" :
				       "");
		yr_pop(&ld->r, mark);
		break;
	case SE_RES_DNS:
	case SE_RES_DNS_ROUND_ROBIN:
		mark = yr_key(&ld->r, "hosts");
		for (i = 0; se->n_endpoints == 0 && hosts != NULL && i < hosts->n; i++) {
			const char *h = ynode_str(hosts->items[i]);
			size_t m2;

			/* only hosts that are otherwise valid: one error each */
			if (h == NULL || h[0] == '\0' || strcmp(h, "*") == 0 ||
			    !ld_istio_wildcard_domain(ld, h, err, sizeof(err)) ||
			    ld_istio_fqdn(ld, h, err, sizeof(err)))
				continue;
			m2 = yr_idx(&ld->r, i);
			yr_err(&ld->r, hosts->items[i],
			       "hosts must be FQDN if no endpoints are "
			       "provided for resolution mode %s",
			       res);
			yr_pop(&ld->r, m2);
		}
		yr_pop(&ld->r, mark);
		if (se->resolution == SE_RES_DNS_ROUND_ROBIN && se->n_endpoints > 1) {
			mark = yr_key(&ld->r, "endpoints");
			yr_err(&ld->r, ymap_get(spec, "endpoints"),
			       "there must only be 0 or 1 "
			       "endpoint for resolution mode %s",
			       res);
			yr_pop(&ld->r, mark);
		}
		break;
	}
}

/*
 * Istio: multiple hosts and plain TCP are ambiguous unless the resolution is
 * NONE (the hosts are then ignored): only HTTP Host or TLS SNI tells them
 * apart.
 */
static void
se_check_multi_host(struct ld *ld, const struct ynode *spec, const struct service_entry *se)
{
	unsigned int i;
	size_t mark;

	if (se->resolution == SE_RES_NONE || se->n_hosts < 2)
		return;
	for (i = 0; i < se->n_ports; i++)
		if (!istio_proto_is_http(se->ports[i].protocol) &&
		    !istio_proto_is_tls(se->ports[i].protocol))
			break;
	if (i == se->n_ports)
		return;
	mark = yr_key(&ld->r, "hosts");
	yr_err(&ld->r, ymap_get(spec, "hosts"),
	       "multiple hosts provided with non-HTTP, "
	       "non-TLS ports");
	yr_pop(&ld->r, mark);
}

/*
 * workloadSelector: validated as Istio does. Istio gives such an entry the
 * workloads the selector picks (pods, WorkloadEntries) as its endpoints,
 * whatever its resolution; egressd sees neither, so the entry admits nothing
 * rather than anything it cannot know (NONE would otherwise open its ports to
 * every destination). @return why the entry admits nothing, or NULL.
 */
static const char *
se_workload_selector(struct ld *ld, const struct ynode *spec, const struct service_entry *se)
{
	const struct ynode *k = ymap_key(spec, "workloadSelector");
	const struct ynode *ws = yr_get(&ld->r, spec, "workloadSelector", YNODE_MAP);
	size_t mark;
	bool ours;

	if (ws == NULL)
		return NULL;
	mark = yr_key(&ld->r, "workloadSelector");
	if (ld_selector_check(ld, ws, "labels", &ours) == 0)
		yr_warn(&ld->r, k,
			"service entry: workload selector specified without labels, will be "
			"applied to all services in namespace");
	if (se->n_endpoints != 0)
		yr_err(&ld->r, k,
		       "only one of WorkloadSelector or Endpoints is allowed in Service Entry");
	else if (se->resolution != SE_RES_STATIC)
		yr_warn(&ld->r, k, "workloadSelector should not be set when resolution mode is %s",
			se->resolution == SE_RES_NONE ? "NONE" :
			se->resolution == SE_RES_DNS  ? "DNS" :
							"DNS_ROUND_ROBIN");
	yr_warn(&ld->r, k,
		"the endpoints of this ServiceEntry are the workloads its selector picks "
		"(pods, WorkloadEntries), which egressd cannot see: it admits nothing");
	yr_pop(&ld->r, mark);
	return "selects its endpoints by workloadSelector, which egressd cannot see";
}

static void
se_subject_alt_names(struct ld *ld, const struct ynode *spec)
{
	const struct ynode *san = yr_get(&ld->r, spec, "subjectAltNames", YNODE_SEQ);
	size_t i, mark;

	if (ymap_key(spec, "subjectAltNames") == NULL)
		return;
	ld_unhonoured(ld, spec, "subjectAltNames",
		      "an L4 gateway neither terminates nor "
		      "originates TLS, so it cannot verify subject alternative names; ignored");
	if (san == NULL)
		return;
	mark = yr_key(&ld->r, "subjectAltNames");
	for (i = 0; i < san->n; i++) {
		size_t m2 = yr_idx(&ld->r, i);

		yr_str(&ld->r, san->items[i]);
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

void
load_service_entry(struct ld *ld, const struct meta *md, const struct ynode *spec)
{
	struct service_entry se = { 0 };
	struct se_ctx cx = { 0 };
	const struct ynode *first_cidr, *addrs;
	const char *hidden;
	bool has_selector;
	size_t mark;

	se.name = ld_strdup(ld, md->name);
	se.ns = ld_strdup(ld, md->ns);
	se.pos = ld_pos(ld, md->name_node);

	mark = yr_key(&ld->r, "spec");
	ld_unknown_fields(ld, spec, se_spec_fields);
	/* resolution first: the checks of hosts, ports and endpoints depend on it */
	se.location = se_location(ld, spec);
	se.resolution = se_resolution(ld, spec, &cx.res_ok);
	addrs = ymap_get(spec, "addresses");
	cx.open_all = cx.res_ok && se.resolution == SE_RES_NONE &&
		      (ynode_is_null(addrs) || (addrs->type == YNODE_SEQ && addrs->n == 0)) &&
		      ynode_is_null(ymap_get(spec, "workloadSelector")); /* admits nothing */
	se_hosts(ld, spec, &se);
	se_addresses(ld, spec, &se, &first_cidr);
	se_ports(ld, spec, &se, &cx);
	se_endpoints(ld, spec, &se, &cx);
	se.hidden = se_workload_selector(ld, spec, &se);
	has_selector = se.hidden != NULL;
	hidden = ld_export_to(ld, spec, md, EGRESS_EXPORT_SE);
	if (se.hidden == NULL)
		se.hidden = hidden;
	se_subject_alt_names(ld, spec);

	if (first_cidr != NULL && cx.res_ok && se.resolution != SE_RES_NONE &&
	    se.resolution != SE_RES_STATIC) {
		size_t m2 = yr_key(&ld->r, "resolution");

		yr_err(&ld->r, ymap_get(spec, "resolution"),
		       "CIDR addresses are allowed only for NONE/STATIC resolution types");
		yr_pop(&ld->r, m2);
	}
	if (cx.res_ok) {
		se_check_resolution(ld, spec, &se, has_selector);
		se_check_multi_host(ld, spec, &se);
	}
	yr_pop(&ld->r, mark);
	model_add_se(ld, &se);
}
