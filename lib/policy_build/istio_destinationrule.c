/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DestinationRule: host, subsets and traffic policies (the rule's own, per
 * port, per subset), of which an L4 gateway enforces maxConnections,
 * connectTimeout and the load balancer; the rest gets its one warning.
 *
 * Control thread only.
 */
#include <assert.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "istio_private.h"

static const char *const dr_spec_fields[] = {
	"host", "subsets", "trafficPolicy", "exportTo", "workloadSelector", NULL,
};
static const char *const dr_policy_fields[] = {
	"connectionPool",    "loadBalancer", "outlierDetection", "tls",
	"portLevelSettings", "tunnel",       "proxyProtocol",    NULL,
};
static const char *const dr_port_policy_fields[] = {
	"port", "connectionPool", "loadBalancer", "outlierDetection", "tls", NULL,
};
static const char *const dr_pool_fields[] = { "tcp", "http", NULL };
static const char *const dr_tcp_fields[] = {
	"maxConnections",        "connectTimeout", "tcpKeepalive",
	"maxConnectionDuration", "idleTimeout",    NULL,
};
static const char *const dr_lb_fields[] = {
	"simple", "consistentHash", "localityLbSetting", "warmupDurationSecs", "warmup", NULL,
};
static const char *const dr_hash_fields[] = {
	"httpHeaderName", "httpCookie", "useSourceIp",     "httpQueryParameterName",
	"ringHash",       "maglev",     "minimumRingSize", NULL,
};
static const char *const dr_subset_fields[] = { "name", "labels", "trafficPolicy", NULL };

static void
dr_tcp(struct ld *ld, const struct ynode *tcp, struct dr_settings *st)
{
	const struct ynode *n;
	const char *s;
	size_t mark;

	ld_unknown_fields(ld, tcp, dr_tcp_fields);
	n = ymap_get(tcp, "maxConnections");
	if (n != NULL && !ynode_is_null(n)) {
		int64_t v;

		mark = yr_key(&ld->r, "maxConnections");
		if (yr_int(&ld->r, n, &v) == 0) {
			if (v < 0) {
				yr_err(&ld->r, n, "max connections must be non-negative");
			} else if (v > INT32_MAX) {
				yr_err(&ld->r, n, "max connections %s out of range (0-2147483647)",
				       n->str);
			} else {
				st->max_connections = (uint32_t)v;
				st->has_max_connections = true;
			}
		}
		yr_pop(&ld->r, mark);
	}
	s = yr_get_str(&ld->r, tcp, "connectTimeout", &n);
	if (s != NULL) {
		uint64_t ns;
		int rc;

		mark = yr_key(&ld->r, "connectTimeout");
		rc = istio_parse_duration_ns(s, &ns);
		if (rc < 0) {
			yr_err(&ld->r, n, "invalid duration %s (want e.g. 10s, 500ms, 1m)",
			       yr_quote(&ld->r, s));
		} else if (rc == 0 && ns < 1000000) {
			yr_err(&ld->r, n, "duration must be greater than 1ms");
		} else if (rc == 0 && ns % 1000000 != 0) {
			yr_err(&ld->r, n, "only durations to ms precision are supported");
		} else if (rc > 0 || ns / 1000000 > EGRESS_TIMEOUT_MAX_MS) {
			/* Istio takes any positive duration: not an error in the
			 * user's manifest, but the flow table cannot time it */
			yr_warn(&ld->r, n,
				"%s is longer than a flow can be timed (%" PRIu64 "h): "
				"clamped to %" PRIu64 "h",
				yr_quote(&ld->r, s), EGRESS_TIMEOUT_MAX_MS / 3600000,
				EGRESS_TIMEOUT_MAX_MS / 3600000);
			st->connect_timeout_ms = EGRESS_TIMEOUT_MAX_MS;
			st->has_connect_timeout = true;
		} else {
			st->connect_timeout_ms = ns / 1000000;
			st->has_connect_timeout = true;
		}
		yr_pop(&ld->r, mark);
	}
	if (ymap_key(tcp, "tcpKeepalive") != NULL)
		ld_unhonoured(ld, tcp, "tcpKeepalive",
			      "the gateway does not originate the "
			      "connection, so it sends no keepalives; ignored");
	if (ymap_key(tcp, "maxConnectionDuration") != NULL)
		ld_unhonoured(ld, tcp, "maxConnectionDuration", "not enforced by egressd; ignored");
	if (ymap_key(tcp, "idleTimeout") != NULL)
		ld_unhonoured(ld, tcp, "idleTimeout",
			      "idle flows follow flows.timeouts of the "
			      "appliance config; ignored");
}

static void
dr_connection_pool(struct ld *ld, const struct ynode *pool, struct dr_settings *st)
{
	const struct ynode *tcp = yr_get(&ld->r, pool, "tcp", YNODE_MAP);
	size_t mark = yr_key(&ld->r, "connectionPool");

	ld_unknown_fields(ld, pool, dr_pool_fields);
	if (pool->n == 0)
		yr_err(&ld->r, pool, "connection pool must have at least one field");
	ld_unhonoured(ld, pool, "http",
		      "HTTP connection pool settings need an L7 "
		      "proxy; ignored");
	if (tcp != NULL) {
		size_t m2 = yr_key(&ld->r, "tcp");

		dr_tcp(ld, tcp, st);
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

/* consistentHash: the client's address is the one key an L4 gateway has. */
static void
dr_consistent_hash(struct ld *ld, const struct ynode *ch, struct dr_settings *st)
{
	static const char *const l7_keys[] = {
		"httpHeaderName",
		"httpCookie",
		"httpQueryParameterName",
		NULL,
	};
	const struct ynode *n = ymap_get(ch, "useSourceIp");
	const struct ynode *cookie = yr_get(&ld->r, ch, "httpCookie", YNODE_MAP);
	bool src = false;
	size_t i, mark;

	ld_unknown_fields(ld, ch, dr_hash_fields);
	if (n != NULL && !ynode_is_null(n)) {
		mark = yr_key(&ld->r, "useSourceIp");
		yr_bool(&ld->r, n, &src);
		yr_pop(&ld->r, mark);
	}
	if (cookie != NULL) {
		mark = yr_key(&ld->r, "httpCookie");
		if (ymap_opt(cookie, "name") == NULL)
			yr_err(&ld->r, cookie, "name required for HttpCookie");
		if (ymap_opt(cookie, "ttl") == NULL)
			yr_err(&ld->r, cookie, "ttl required for HttpCookie");
		yr_pop(&ld->r, mark);
	}
	for (i = 0; l7_keys[i] != NULL; i++) {
		if (ymap_key(ch, l7_keys[i]) == NULL)
			continue;
		ld_unhonoured(ld, ch, l7_keys[i],
			      "hashing on HTTP request attributes needs an "
			      "L7 proxy; the client's source address is hashed instead");
		src = true;
	}
	if (!src) {
		yr_warn(&ld->r, ch,
			"no hash key an L4 gateway can use (set useSourceIp: true); "
			"the client's source address is hashed");
	}
	st->lb = POLICY_LB_CONSISTENT_SOURCE_IP;
	st->has_lb = true;
}

static void
dr_load_balancer(struct ld *ld, const struct ynode *lbn, struct dr_settings *st)
{
	static const struct {
		const char *name;
		enum policy_lb lb;
	} simple[] = {
		{ "UNSPECIFIED", POLICY_LB_RANDOM },       { "RANDOM", POLICY_LB_RANDOM },
		{ "ROUND_ROBIN", POLICY_LB_ROUND_ROBIN },  { "LEAST_CONN", POLICY_LB_LEAST_CONN },
		{ "LEAST_REQUEST", POLICY_LB_LEAST_CONN }, { "PASSTHROUGH", POLICY_LB_RANDOM },
	};
	const struct ynode *sn, *ch;
	const char *s;
	size_t i, mark = yr_key(&ld->r, "loadBalancer");

	ld_unknown_fields(ld, lbn, dr_lb_fields);
	s = yr_get_str(&ld->r, lbn, "simple", &sn);
	ch = yr_get(&ld->r, lbn, "consistentHash", YNODE_MAP);
	if (s != NULL && ch != NULL) {
		size_t m2 = yr_key(&ld->r, "consistentHash");

		yr_err(&ld->r, ymap_key(lbn, "consistentHash"),
		       "only one of simple or consistentHash can be set");
		yr_pop(&ld->r, m2);
	} else if (s != NULL) {
		size_t m2 = yr_key(&ld->r, "simple");

		for (i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
			if (strcmp(s, simple[i].name) == 0)
				break;
		if (i == sizeof(simple) / sizeof(simple[0])) {
			yr_err(&ld->r, sn,
			       "invalid load balancer %s (want RANDOM, ROUND_ROBIN, "
			       "LEAST_CONN, LEAST_REQUEST or PASSTHROUGH)",
			       yr_quote(&ld->r, s));
		} else {
			if (strcmp(s, "PASSTHROUGH") == 0)
				yr_warn(&ld->r, sn,
					"PASSTHROUGH (to the address the client asked "
					"for) is what entries without endpoints do; with "
					"endpoints, RANDOM is used");
			st->lb = simple[i].lb;
			st->has_lb = true;
		}
		yr_pop(&ld->r, m2);
	} else if (ch != NULL) {
		size_t m2 = yr_key(&ld->r, "consistentHash");

		dr_consistent_hash(ld, ch, st);
		yr_pop(&ld->r, m2);
	}
	ld_unhonoured(ld, lbn, "localityLbSetting",
		      "locality-aware load balancing is not "
		      "done by an L4 gateway; ignored");
	ld_unhonoured(ld, lbn, "warmupDurationSecs",
		      "slow start is not done by egressd; "
		      "ignored");
	ld_unhonoured(ld, lbn, "warmup", "slow start is not done by egressd; ignored");
	yr_pop(&ld->r, mark);
}

/* The parts of a trafficPolicy (or of one portLevelSettings item) egressd uses. */
static void
dr_settings_fields(struct ld *ld, const struct ynode *tp, struct dr_settings *st)
{
	static const char *const not_enforced[] = {
		"outlierDetection", "tls", "tunnel", "proxyProtocol", NULL,
	};
	const struct ynode *pool, *lbn;
	size_t i;

	for (i = 0; not_enforced[i] != NULL; i++)
		ld_unhonoured(ld, tp, not_enforced[i], "not enforced by egressd; ignored");
	pool = yr_get(&ld->r, tp, "connectionPool", YNODE_MAP);
	if (pool != NULL)
		dr_connection_pool(ld, pool, st);
	lbn = yr_get(&ld->r, tp, "loadBalancer", YNODE_MAP);
	if (lbn != NULL)
		dr_load_balancer(ld, lbn, st);
}

static void
dr_port_level(struct ld *ld, const struct ynode *seq, struct dr_port_settings **ports,
	      unsigned int *n_ports)
{
	size_t i, mark = yr_key(&ld->r, "portLevelSettings");

	*ports = ld_calloc(ld, seq->n, sizeof(**ports));
	for (i = 0; *ports != NULL && i < seq->n; i++) {
		const struct ynode *pm = seq->items[i];
		const struct ynode *port;
		struct dr_port_settings *ps;
		size_t m2 = yr_idx(&ld->r, i);
		long num = 0;

		if (pm->type != YNODE_MAP) {
			yr_err(&ld->r, pm, "traffic policy may not be null");
			yr_pop(&ld->r, m2);
			continue;
		}
		ld_unknown_fields(ld, pm, dr_port_policy_fields);
		port = yr_get(&ld->r, pm, "port", YNODE_MAP);
		if (port != NULL) {
			size_t m3 = yr_key(&ld->r, "port");

			num = ld_port_number(ld, port, "number", "port number");
			yr_pop(&ld->r, m3);
		}
		if (port == NULL || num == 0) {
			size_t m3 = yr_key(&ld->r, "port");

			yr_err(&ld->r, port != NULL ? port : pm,
			       "portTrafficPolicy must have valid port");
			yr_pop(&ld->r, m3);
		}
		if (ymap_opt(pm, "connectionPool") == NULL &&
		    ymap_opt(pm, "loadBalancer") == NULL &&
		    ymap_opt(pm, "outlierDetection") == NULL && ymap_opt(pm, "tls") == NULL)
			yr_err(&ld->r, pm, "port traffic policy must have at least one field");
		ps = &(*ports)[(*n_ports)++];
		ps->port = num > 0 ? (uint32_t)num : 0;
		ps->pos = ld_pos(ld, pm);
		dr_settings_fields(ld, pm, &ps->s);
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

/* A trafficPolicy (path pushed): the DestinationRule's own or a subset's. */
static void
dr_traffic_policy(struct ld *ld, const struct ynode *tp, struct dr_settings *st,
		  struct dr_port_settings **ports, unsigned int *n_ports)
{
	const struct ynode *pls;

	ld_unknown_fields(ld, tp, dr_policy_fields);
	if (tp->n == 0)
		yr_err(&ld->r, tp, "traffic policy must have at least one field");
	dr_settings_fields(ld, tp, st);
	pls = yr_get(&ld->r, tp, "portLevelSettings", YNODE_SEQ);
	if (pls != NULL && pls->n > 0)
		dr_port_level(ld, pls, ports, n_ports);
}

static void
dr_subsets(struct ld *ld, const struct ynode *spec, struct destination_rule *dr)
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
		size_t m2 = yr_idx(&ld->r, i);

		if (sm->type != YNODE_MAP) {
			yr_err(&ld->r, sm, "expected a mapping, got %s", yr_describe(&ld->r, sm));
			yr_pop(&ld->r, m2);
			continue;
		}
		sub = &dr->subsets[dr->n_subsets++];
		sub->pos = ld_pos(ld, sm);
		ld_unknown_fields(ld, sm, dr_subset_fields);
		name = yr_get_str(&ld->r, sm, "name", &nn);
		if (name == NULL || name[0] == '\0') {
			size_t m3 = yr_key(&ld->r, "name");

			yr_err(&ld->r, nn != NULL ? nn : sm, "subset name cannot be empty");
			yr_pop(&ld->r, m3);
		} else if (!istio_dns1123_label(name, strlen(name))) {
			size_t m3 = yr_key(&ld->r, "name");

			yr_err(&ld->r, nn, "subset name is invalid: %s", name);
			yr_pop(&ld->r, m3);
		} else {
			for (j = 0; j + 1 < dr->n_subsets; j++) {
				if (dr->subsets[j].name != NULL &&
				    strcmp(dr->subsets[j].name, name) == 0) {
					size_t m3 = yr_key(&ld->r, "name");

					yr_err(&ld->r, nn, "duplicate subset names: %s", name);
					yr_pop(&ld->r, m3);
					break;
				}
			}
		}
		sub->name = ld_strdup(ld, name);
		lm = yr_get(&ld->r, sm, "labels", YNODE_MAP);
		if (lm != NULL && lm->n > 0) {
			size_t m3 = yr_key(&ld->r, "labels");
			struct label_sink sink;

			sub->labels = ld_calloc(ld, lm->n, sizeof(*sub->labels));
			sink = (struct label_sink){ sub->labels, &sub->n_labels };
			if (sub->labels != NULL)
				ld_string_map(ld, lm, ld_label_add, &sink);
			yr_pop(&ld->r, m3);
		}
		tp = yr_get(&ld->r, sm, "trafficPolicy", YNODE_MAP);
		if (tp != NULL) {
			size_t m3 = yr_key(&ld->r, "trafficPolicy");

			dr_traffic_policy(ld, tp, &sub->s, &sub->ports, &sub->n_ports);
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
	const struct ynode *hn, *tp;
	const char *host;
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
	else if (!ld_check_wildcard_domain(ld, host, err, sizeof(err)))
		yr_err(&ld->r, hn, "%s", err);
	yr_pop(&ld->r, mark);
	dr.host = ld_strdup(ld, host);

	mark = yr_key(&ld->r, "spec");
	dr_subsets(ld, spec, &dr);
	tp = yr_get(&ld->r, spec, "trafficPolicy", YNODE_MAP);
	if (tp != NULL) {
		size_t m2 = yr_key(&ld->r, "trafficPolicy");

		dr_traffic_policy(ld, tp, &dr.s, &dr.ports, &dr.n_ports);
		yr_pop(&ld->r, m2);
	}
	dr.max_connections = dr.s.max_connections;
	dr.connect_timeout_ms = dr.s.connect_timeout_ms;
	ld_export_to(ld, spec, md->ns, false);
	ld_unhonoured(ld, spec, "workloadSelector",
		      "an L4 gateway does not select "
		      "workloads; ignored");
	yr_pop(&ld->r, mark);
	model_add_dr(ld, &dr);
}
