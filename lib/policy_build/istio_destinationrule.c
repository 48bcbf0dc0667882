/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DestinationRule: host, subsets and traffic policies (the rule's own, per
 * port, per subset), checked as Istio's ValidateDestinationRule() and the
 * CRD schema check them. An L4 gateway enforces maxConnections,
 * connectTimeout and the load balancer; the rest gets its one warning. The
 * parts of a policy are in istio_dr_settings.c and istio_dr_locality.c.
 *
 * Control thread only.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "istio_dr_private.h"

static const char *const dr_spec_fields[] = {
	"host", "subsets", "trafficPolicy", "exportTo", "workloadSelector", NULL,
};
static const char *const dr_policy_fields[] = {
	"connectionPool", "loadBalancer",  "outlierDetection", "tls", "portLevelSettings",
	"tunnel",         "proxyProtocol", "retryBudget",      NULL,
};
static const char *const dr_port_policy_fields[] = {
	"port", "connectionPool", "loadBalancer", "outlierDetection", "tls", NULL,
};
static const char *const dr_subset_fields[] = { "name", "labels", "trafficPolicy", NULL };

/* The portLevelSettings items the CRD allows (maxItems). */
#define DR_PORT_SETTINGS_MAX 4096

/*
 * The parts a trafficPolicy and a portLevelSettings item both have:
 * outlierDetection, connectionPool, loadBalancer, tls. ignored: the fields
 * of map egressd does not act on (NULL-terminated), one warning each.
 */
static void
dr_settings_fields(struct ld *ld, const struct ynode *map, const char *ns,
		   const char *const *ignored, struct dr_settings *st)
{
	const struct ynode *od, *pool, *lbn, *tls;
	size_t i;

	for (i = 0; ignored[i] != NULL; i++)
		ld_unhonoured(ld, map, ignored[i], "not enforced by egressd; ignored");
	od = yr_get(&ld->r, map, "outlierDetection", YNODE_MAP);
	if (od != NULL)
		dr_outlier_detection(ld, od);
	pool = yr_get(&ld->r, map, "connectionPool", YNODE_MAP);
	if (pool != NULL) {
		size_t mark = yr_key(&ld->r, "connectionPool");

		ld_connection_pool(ld, pool, st);
		yr_pop(&ld->r, mark);
	}
	lbn = yr_get(&ld->r, map, "loadBalancer", YNODE_MAP);
	if (lbn != NULL)
		dr_load_balancer(ld, lbn, st, od != NULL);
	tls = yr_get(&ld->r, map, "tls", YNODE_MAP);
	if (tls != NULL)
		dr_client_tls(ld, tls, ns);
}

/* portLevelSettings[].port: any port that is set passes Istio; 1-65535 match one. */
static uint32_t
dr_port(struct ld *ld, const struct ynode *pm)
{
	static const char *const fields[] = { "number", NULL };
	const struct ynode *port = yr_get(&ld->r, pm, "port", YNODE_MAP);
	size_t mark = yr_key(&ld->r, "port");
	int64_t num = 0;

	if (port == NULL) {
		/* absent or null (a value of another type is reported already) */
		if (ymap_opt(pm, "port") == NULL)
			yr_err(&ld->r, ymap_key(pm, "port") != NULL ? ymap_get(pm, "port") : pm,
			       "portTrafficPolicy must have valid port");
		yr_pop(&ld->r, mark);
		return 0;
	}
	ld_unknown_fields(ld, port, fields);
	if (ymap_opt(port, "number") != NULL && !ld_int(ld, port, "number", 0, UINT32_MAX, &num)) {
		yr_pop(&ld->r, mark);
		return 0;
	}
	if (num == 0 || num > 65535) {
		const struct ynode *at = ymap_opt(port, "number");

		if (at != NULL)
			yr_key(&ld->r, "number");
		yr_warn(&ld->r, at != NULL ? at : port,
			"port %" PRId64 " is no port number (1-65535): these settings apply to "
			"no port",
			num);
		num = 0;
	}
	yr_pop(&ld->r, mark);
	return (uint32_t)num;
}

static void
dr_port_level(struct ld *ld, const struct ynode *seq, const char *ns,
	      struct dr_port_settings **ports, unsigned int *n_ports)
{
	static const char *const ignored[] = { "outlierDetection", "tls", NULL };
	size_t i, mark = yr_key(&ld->r, "portLevelSettings");

	if (seq->n > DR_PORT_SETTINGS_MAX)
		yr_err(&ld->r, seq, "%zu items, more than the %d the CRD allows", seq->n,
		       DR_PORT_SETTINGS_MAX);
	*ports = ld_calloc(ld, seq->n, sizeof(**ports));
	for (i = 0; *ports != NULL && i < seq->n; i++) {
		const struct ynode *pm = seq->items[i];
		struct dr_port_settings *ps;
		size_t m2 = yr_idx(&ld->r, i);
		uint32_t port;

		if (pm->type != YNODE_MAP) {
			if (ynode_is_null(pm))
				yr_err(&ld->r, pm, "traffic policy may not be null");
			else
				yr_err(&ld->r, pm, "expected a mapping, got %s",
				       yr_describe(&ld->r, pm));
			yr_pop(&ld->r, m2);
			continue;
		}
		ld_unknown_fields(ld, pm, dr_port_policy_fields);
		port = dr_port(ld, pm);
		ps = &(*ports)[(*n_ports)++];
		ps->port = port;
		ps->pos = ld_pos(ld, pm);
		if (ymap_opt(pm, "connectionPool") == NULL &&
		    ymap_opt(pm, "loadBalancer") == NULL &&
		    ymap_opt(pm, "outlierDetection") == NULL && ymap_opt(pm, "tls") == NULL)
			yr_err(&ld->r, pm, "port traffic policy must have at least one field");
		else
			dr_settings_fields(ld, pm, ns, ignored, &ps->s);
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

/* validateTunnelSettings(), and the CRD's required targetHost and targetPort. */
static void
dr_tunnel(struct ld *ld, const struct ynode *t)
{
	static const char *const fields[] = { "protocol", "targetHost", "targetPort", NULL };
	const struct ynode *pn, *hn, *portn = ymap_opt(t, "targetPort");
	const char *proto, *host;
	char err[MSG_MAX];
	size_t mark = yr_key(&ld->r, "tunnel"), m2;
	int64_t port = 0;

	ld_unknown_fields(ld, t, fields);
	proto = yr_get_str(&ld->r, t, "protocol", &pn);
	if (proto != NULL && proto[0] != '\0' && strcmp(proto, "CONNECT") != 0 &&
	    strcmp(proto, "POST") != 0) {
		m2 = yr_key(&ld->r, "protocol");
		yr_err(&ld->r, pn, "tunnel protocol must be \"CONNECT\" or \"POST\"");
		yr_pop(&ld->r, m2);
	}
	host = yr_get_str(&ld->r, t, "targetHost", &hn);
	if (host == NULL ||
	    (!ld_istio_fqdn(ld, host, err, sizeof(err)) && !istio_ip_address(host))) {
		m2 = yr_key(&ld->r, "targetHost");
		yr_err(&ld->r, hn != NULL ? hn : t,
		       "tunnel target host must be valid FQDN or IP address: %s",
		       yr_quote(&ld->r, host));
		yr_pop(&ld->r, m2);
	}
	if (portn == NULL || ld_int(ld, t, "targetPort", 0, UINT32_MAX, &port)) {
		if (port < 1 || port > 65535) {
			m2 = yr_key(&ld->r, "targetPort");
			yr_err(&ld->r, portn != NULL ? portn : t,
			       "tunnel target port is invalid: port number %" PRId64
			       " must be in the range 1..65535",
			       port);
			yr_pop(&ld->r, m2);
		}
	}
	yr_pop(&ld->r, mark);
}

/* tunnel, proxyProtocol, retryBudget: a trafficPolicy's own. */
static void
dr_policy_extras(struct ld *ld, const struct ynode *tp)
{
	static const char *const pp_fields[] = { "version", NULL };
	static const char *const pp_versions[] = { "V1", "V2", NULL };
	static const char *const rb_fields[] = { "percent", "minRetryConcurrency", NULL };
	const struct ynode *t, *pp, *rb;
	size_t mark;
	int64_t v;
	double pct;

	t = yr_get(&ld->r, tp, "tunnel", YNODE_MAP);
	if (t != NULL)
		dr_tunnel(ld, t);
	pp = yr_get(&ld->r, tp, "proxyProtocol", YNODE_MAP);
	if (pp != NULL) {
		mark = yr_key(&ld->r, "proxyProtocol");
		ld_unknown_fields(ld, pp, pp_fields);
		ld_enum(ld, pp, "version", pp_versions, "proxy protocol version");
		yr_pop(&ld->r, mark);
	}
	rb = yr_get(&ld->r, tp, "retryBudget", YNODE_MAP);
	if (rb != NULL) {
		mark = yr_key(&ld->r, "retryBudget");
		ld_unknown_fields(ld, rb, rb_fields);
		if (ld_number(ld, rb, "percent", &pct) && (pct < 0 || pct > 100)) {
			size_t m2 = yr_key(&ld->r, "percent");

			yr_err(&ld->r, ymap_get(rb, "percent"), "percent %s out of range (0-100)",
			       ymap_get(rb, "percent")->str);
			yr_pop(&ld->r, m2);
		}
		ld_int(ld, rb, "minRetryConcurrency", 0, UINT32_MAX, &v);
		yr_pop(&ld->r, mark);
	}
	ld_unhonoured(ld, tp, "retryBudget", "retries need an L7 proxy; ignored");
}

/*
 * A trafficPolicy (path pushed): the DestinationRule's own or a subset's.
 * Like validateTrafficPolicy(), nothing more is checked once it has no field
 * or both tunnel and proxyProtocol.
 */
static void
dr_traffic_policy(struct ld *ld, const struct ynode *tp, const char *ns, struct dr_settings *st,
		  struct dr_port_settings **ports, unsigned int *n_ports)
{
	static const char *const any[] = {
		"outlierDetection", "connectionPool", "loadBalancer", "tls",
		"tunnel",           "proxyProtocol",  NULL,
	};
	static const char *const ignored[] = {
		"outlierDetection", "tls", "tunnel", "proxyProtocol", NULL,
	};
	const struct ynode *pls;
	bool set;
	size_t i;

	ld_unknown_fields(ld, tp, dr_policy_fields);
	pls = yr_get(&ld->r, tp, "portLevelSettings", YNODE_SEQ);
	/* an empty list decodes to none, so it is no field either */
	set = pls != NULL && pls->n > 0;
	for (i = 0; any[i] != NULL; i++)
		set = set || ymap_opt(tp, any[i]) != NULL;
	if (!set) {
		yr_err(&ld->r, tp, "traffic policy must have at least one field");
		return;
	}
	if (ymap_opt(tp, "tunnel") != NULL && ymap_opt(tp, "proxyProtocol") != NULL) {
		size_t mark = yr_key(&ld->r, "tunnel");

		yr_err(&ld->r, ymap_key(tp, "tunnel"),
		       "tunnel and proxyProtocol must not be set together");
		yr_pop(&ld->r, mark);
		return;
	}
	dr_settings_fields(ld, tp, ns, ignored, st);
	if (pls != NULL && pls->n > 0)
		dr_port_level(ld, pls, ns, ports, n_ports);
	dr_policy_extras(ld, tp);
}

/* Push a map key on the path; an empty one reads [""], not a trailing dot. */
static size_t
dr_push_key(struct ld *ld, const char *k)
{
	return k[0] != '\0' ? yr_key(&ld->r, k) : yr_push(&ld->r, "[\"\"]");
}

/* labels.Instance.Validate(): Kubernetes label keys and values; then into sink. */
static void
dr_subset_labels(struct ld *ld, const struct ynode *lm, struct label_sink *sink)
{
	size_t i, mark = yr_key(&ld->r, "labels");

	for (i = 0; i < lm->n; i++) {
		const struct ynode *k = lm->items[2 * i], *v = lm->items[2 * i + 1];
		size_t m2 = dr_push_key(ld, k->str);
		const char *val = yr_str_opt(&ld->r, v);

		ld_istio_label_pair(ld, k, v, val);
		if (val != NULL)
			ld_label_add(ld, k->str, val, sink);
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

static void
dr_subsets(struct ld *ld, const struct ynode *spec, const char *ns, struct destination_rule *dr)
{
	const struct ynode *seq = yr_get(&ld->r, spec, "subsets", YNODE_SEQ);
	size_t i, j, mark;

	if (seq == NULL || seq->n == 0)
		return;
	mark = yr_key(&ld->r, "subsets");
	dr->subsets = ld_calloc(ld, seq->n, sizeof(*dr->subsets));
	for (i = 0; dr->subsets != NULL && i < seq->n; i++) {
		const struct ynode *sm = seq->items[i];
		const struct ynode *nn, *lm, *tp;
		struct dr_subset *sub;
		const char *name;
		size_t m2 = yr_idx(&ld->r, i), m3;

		if (sm->type != YNODE_MAP) {
			if (ynode_is_null(sm))
				yr_err(&ld->r, sm, "subset may not be null");
			else
				yr_err(&ld->r, sm, "expected a mapping, got %s",
				       yr_describe(&ld->r, sm));
			yr_pop(&ld->r, m2);
			continue;
		}
		sub = &dr->subsets[dr->n_subsets++];
		sub->pos = ld_pos(ld, sm);
		ld_unknown_fields(ld, sm, dr_subset_fields);
		name = yr_get_str(&ld->r, sm, "name", &nn);
		m3 = yr_key(&ld->r, "name");
		if (name == NULL || name[0] == '\0')
			yr_err(&ld->r, nn != NULL ? nn : sm, "subset name cannot be empty");
		else if (!istio_label(name, strlen(name)))
			yr_err(&ld->r, nn, "subset name is invalid: %s", name);
		for (j = 0; name != NULL && j + 1 < dr->n_subsets; j++) {
			if (dr->subsets[j].name != NULL && strcmp(dr->subsets[j].name, name) == 0) {
				yr_err(&ld->r, nn, "duplicate subset names: %s", name);
				break;
			}
		}
		yr_pop(&ld->r, m3);
		sub->name = ld_strdup(ld, name);
		lm = yr_get(&ld->r, sm, "labels", YNODE_MAP);
		if (lm != NULL && lm->n > 0) {
			struct label_sink sink;

			sub->labels = ld_calloc(ld, lm->n, sizeof(*sub->labels));
			sink = (struct label_sink){ sub->labels, &sub->n_labels };
			if (sub->labels != NULL)
				dr_subset_labels(ld, lm, &sink);
		}
		tp = yr_get(&ld->r, sm, "trafficPolicy", YNODE_MAP);
		if (tp != NULL) {
			m3 = yr_key(&ld->r, "trafficPolicy");
			dr_traffic_policy(ld, tp, ns, &sub->s, &sub->ports, &sub->n_ports);
			yr_pop(&ld->r, m3);
		}
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

void
load_destination_rule(struct ld *ld, const struct meta *md, const struct ynode *spec)
{
	struct destination_rule dr = { 0 };
	struct export_view view;
	const struct ynode *hn, *tp;
	const char *host;
	/* the namespace kubectl would put a namespace-less manifest in */
	const char *ns = md->ns[0] != '\0' ? md->ns : "default";
	char err[MSG_MAX];
	size_t mark;

	dr.name = ld_strdup(ld, md->name);
	dr.ns = ld_strdup(ld, md->ns);
	dr.pos = ld_pos(ld, md->name_node);

	mark = yr_key(&ld->r, "spec");
	ld_unknown_fields(ld, spec, dr_spec_fields);
	host = yr_get_str(&ld->r, spec, "host", &hn);
	yr_key(&ld->r, "host");
	if (host == NULL || host[0] == '\0')
		yr_err(&ld->r, hn != NULL ? hn : spec, "empty domain name not allowed");
	else if (!ld_istio_wildcard_domain(ld, host, err, sizeof(err)))
		yr_err(&ld->r, hn, "%s", err);
	else if (host[0] == '*' && host[1] != '\0' && host[1] != '.')
		/* istio_host_covers() knows "*" and "*.suffix" */
		yr_warn(&ld->r, hn,
			"a partial wildcard host is valid in Istio, but egressd applies this "
			"rule only to hosts written exactly so");
	yr_pop(&ld->r, mark);
	dr.host = ld_strdup(ld, host);

	mark = yr_key(&ld->r, "spec");
	dr_subsets(ld, spec, ns, &dr);
	tp = yr_get(&ld->r, spec, "trafficPolicy", YNODE_MAP);
	if (tp != NULL) {
		size_t m2 = yr_key(&ld->r, "trafficPolicy");

		dr_traffic_policy(ld, tp, ns, &dr.s, &dr.ports, &dr.n_ports);
		yr_pop(&ld->r, m2);
	}
	dr.max_connections = dr.s.max_connections;
	dr.connect_timeout_ms = dr.s.connect_timeout_ms;
	/* also whether its workloadSelector, if any, picks the gateway */
	dr.hidden = ld_export_to(ld, spec, md, EGRESS_EXPORT_DR, &view);
	dr.priv = view.priv;
	dr.exported = view.exported;
	yr_pop(&ld->r, mark);
	model_add_dr(ld, &dr);
}
