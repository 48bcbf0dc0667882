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

/* a connectTimeout is compared with a flow's 32-bit age (flow_age()) */
static_assert(EGRESS_TIMEOUT_MAX_MS < (1ull << (8 * sizeof(((struct flow *)0)->last_seen) - 1)),
	      "EGRESS_TIMEOUT_MAX_MS must stay below half the range of flow.last_seen");

static const char *const dr_spec_fields[] = {
	"host", "subsets", "trafficPolicy", "exportTo", "workloadSelector", NULL,
};
static const char *const dr_policy_fields[] = {
	"connectionPool", "loadBalancer", "outlierDetection", "tls", "portLevelSettings",
	"tunnel", "proxyProtocol", NULL,
};
static const char *const dr_port_policy_fields[] = {
	"port", "connectionPool", "loadBalancer", "outlierDetection", "tls", NULL,
};
static const char *const dr_pool_fields[] = { "tcp", "http", NULL };
static const char *const dr_tcp_fields[] = {
	"maxConnections", "connectTimeout", "tcpKeepalive", "maxConnectionDuration",
	"idleTimeout", NULL,
};
static const char *const dr_lb_fields[] = {
	"simple", "consistentHash", "localityLbSetting", "warmupDurationSecs", "warmup", NULL,
};
static const char *const dr_hash_fields[] = {
	"httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName", "ringHash",
	"maglev", "minimumRingSize", NULL,
};
static const char *const dr_subset_fields[] = { "name", "labels", "trafficPolicy", NULL };

/*
 * A protobuf / Go duration: "10s", "1.5s", "500ms", "1m30s", "2h". Units ns,
 * us, ms, s, m, h. @return 0 and *ns; 1 when it is well formed but more than
 * UINT64_MAX ns (584 years: Istio still takes it, the caller clamps); -1.
 */
static int
parse_duration_ns(const char *s, uint64_t *ns)
{
	static const struct { const char *u; uint64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 },
		{ "m", 60000000000ull }, { "h", 3600000000000ull },
	};
	uint64_t total = 0;
	bool big = false;

	if (strcmp(s, "0") == 0) {
		*ns = 0;
		return 0;
	}
	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		uint64_t whole = 0, frac = 0, scale = 1, unit = 0, lost = 0;
		bool digits = false;
		size_t i, ul = 0;

		for (; *s >= '0' && *s <= '9'; s++, digits = true) {
			if (whole > (UINT64_MAX - 9) / 10)
				big = true;
			else
				whole = whole * 10 + (uint64_t)(*s - '0');
		}
		if (*s == '.') {
			for (s++; *s >= '0' && *s <= '9'; s++, digits = true) {
				if (scale < 1000000000ull) {
					frac = frac * 10 + (uint64_t)(*s - '0');
					scale *= 10;
				} else if (*s != '0') {
					/* below 1e-9 unit: still fails a precision check */
					lost = 1;
				}
			}
		}
		if (!digits)
			return -1;
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].u);

			/* longest match: "ms" before "m" */
			if (strncmp(s, units[i].u, l) == 0 && l > ul) {
				ul = l;
				unit = units[i].ns;
			}
		}
		if (ul == 0)
			return -1;
		s += ul;
		if (big || whole > UINT64_MAX / unit) {
			big = true;
			continue;
		}
		whole *= unit;
		/* frac / scale < 1, so neither product can overflow */
		whole += frac * (unit / scale) + frac * (unit % scale) / scale + lost;
		if (UINT64_MAX - total < whole)
			big = true;
		else
			total += whole;
	}
	*ns = total;
	return big ? 1 : 0;
}

/* A YAML boolean (true/false, as the API server reads it). @return 0 or -1. */
static int
ld_bool(struct ld *ld, const struct ynode *n, bool *v)
{
	if (n->type == YNODE_SCALAR && n->plain) {
		if (strcmp(n->str, "true") == 0 || strcmp(n->str, "True") == 0 ||
		    strcmp(n->str, "TRUE") == 0) {
			*v = true;
			return 0;
		}
		if (strcmp(n->str, "false") == 0 || strcmp(n->str, "False") == 0 ||
		    strcmp(n->str, "FALSE") == 0) {
			*v = false;
			return 0;
		}
	}
	ld_err(ld, n, "expected true or false, got %s", ydescribe(ld, n));
	return -1;
}

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

		mark = path_key(ld, "maxConnections");
		if (ld_int(ld, n, &v) == 0) {
			if (v < 0) {
				ld_err(ld, n, "max connections must be non-negative");
			} else if (v > INT32_MAX) {
				ld_err(ld, n, "max connections %s out of range (0-2147483647)",
				       n->str);
			} else {
				st->max_connections = (uint32_t)v;
				st->has_max_connections = true;
			}
		}
		path_pop(ld, mark);
	}
	s = ld_get_str(ld, tcp, "connectTimeout", &n);
	if (s != NULL) {
		uint64_t ns;
		int rc;

		mark = path_key(ld, "connectTimeout");
		rc = parse_duration_ns(s, &ns);
		if (rc < 0) {
			ld_err(ld, n, "invalid duration %s (want e.g. 10s, 500ms, 1m)", q(ld, s));
		} else if (rc == 0 && ns < 1000000) {
			ld_err(ld, n, "duration must be greater than 1ms");
		} else if (rc == 0 && ns % 1000000 != 0) {
			ld_err(ld, n, "only durations to ms precision are supported");
		} else if (rc > 0 || ns / 1000000 > EGRESS_TIMEOUT_MAX_MS) {
			/* Istio takes any positive duration: not an error in the
			 * user's manifest, but the flow table cannot time it */
			ld_warn(ld, n, "%s is longer than a flow can be timed (%" PRIu64 "h): "
				"clamped to %" PRIu64 "h", q(ld, s), EGRESS_TIMEOUT_MAX_MS / 3600000,
				EGRESS_TIMEOUT_MAX_MS / 3600000);
			st->connect_timeout_ms = EGRESS_TIMEOUT_MAX_MS;
			st->has_connect_timeout = true;
		} else {
			st->connect_timeout_ms = ns / 1000000;
			st->has_connect_timeout = true;
		}
		path_pop(ld, mark);
	}
	if (ymap_key(tcp, "tcpKeepalive") != NULL)
		ld_unhonoured(ld, tcp, "tcpKeepalive", "the gateway does not originate the "
			      "connection, so it sends no keepalives; ignored");
	if (ymap_key(tcp, "maxConnectionDuration") != NULL)
		ld_unhonoured(ld, tcp, "maxConnectionDuration", "not enforced by egressd; ignored");
	if (ymap_key(tcp, "idleTimeout") != NULL)
		ld_unhonoured(ld, tcp, "idleTimeout", "idle flows follow flows.timeouts of the "
			      "appliance config; ignored");
}

static void
dr_connection_pool(struct ld *ld, const struct ynode *pool, struct dr_settings *st)
{
	const struct ynode *tcp = ld_get(ld, pool, "tcp", YNODE_MAP);
	size_t mark = path_key(ld, "connectionPool");

	ld_unknown_fields(ld, pool, dr_pool_fields);
	if (pool->n == 0)
		ld_err(ld, pool, "connection pool must have at least one field");
	ld_unhonoured(ld, pool, "http", "HTTP connection pool settings need an L7 "
		      "proxy; ignored");
	if (tcp != NULL) {
		size_t m2 = path_key(ld, "tcp");

		dr_tcp(ld, tcp, st);
		path_pop(ld, m2);
	}
	path_pop(ld, mark);
}

/* consistentHash: the client's address is the one key an L4 gateway has. */
static void
dr_consistent_hash(struct ld *ld, const struct ynode *ch, struct dr_settings *st)
{
	static const char *const l7_keys[] = {
		"httpHeaderName", "httpCookie", "httpQueryParameterName", NULL,
	};
	const struct ynode *n = ymap_get(ch, "useSourceIp");
	const struct ynode *cookie = ld_get(ld, ch, "httpCookie", YNODE_MAP);
	bool src = false;
	size_t i, mark;

	ld_unknown_fields(ld, ch, dr_hash_fields);
	if (n != NULL && !ynode_is_null(n)) {
		mark = path_key(ld, "useSourceIp");
		ld_bool(ld, n, &src);
		path_pop(ld, mark);
	}
	if (cookie != NULL) {
		mark = path_key(ld, "httpCookie");
		if (ld_absent(cookie, "name"))
			ld_err(ld, cookie, "name required for HttpCookie");
		if (ld_absent(cookie, "ttl"))
			ld_err(ld, cookie, "ttl required for HttpCookie");
		path_pop(ld, mark);
	}
	for (i = 0; l7_keys[i] != NULL; i++) {
		if (ymap_key(ch, l7_keys[i]) == NULL)
			continue;
		ld_unhonoured(ld, ch, l7_keys[i], "hashing on HTTP request attributes needs an "
			      "L7 proxy; the client's source address is hashed instead");
		src = true;
	}
	if (!src) {
		ld_warn(ld, ch, "no hash key an L4 gateway can use (set useSourceIp: true); "
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
		{ "UNSPECIFIED", POLICY_LB_RANDOM }, { "RANDOM", POLICY_LB_RANDOM },
		{ "ROUND_ROBIN", POLICY_LB_ROUND_ROBIN }, { "LEAST_CONN", POLICY_LB_LEAST_CONN },
		{ "LEAST_REQUEST", POLICY_LB_LEAST_CONN }, { "PASSTHROUGH", POLICY_LB_RANDOM },
	};
	const struct ynode *sn, *ch;
	const char *s;
	size_t i, mark = path_key(ld, "loadBalancer");

	ld_unknown_fields(ld, lbn, dr_lb_fields);
	s = ld_get_str(ld, lbn, "simple", &sn);
	ch = ld_get(ld, lbn, "consistentHash", YNODE_MAP);
	if (s != NULL && ch != NULL) {
		size_t m2 = path_key(ld, "consistentHash");

		ld_err(ld, ymap_key(lbn, "consistentHash"),
		       "only one of simple or consistentHash can be set");
		path_pop(ld, m2);
	} else if (s != NULL) {
		size_t m2 = path_key(ld, "simple");

		for (i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
			if (strcmp(s, simple[i].name) == 0)
				break;
		if (i == sizeof(simple) / sizeof(simple[0])) {
			ld_err(ld, sn, "invalid load balancer %s (want RANDOM, ROUND_ROBIN, "
			       "LEAST_CONN, LEAST_REQUEST or PASSTHROUGH)", q(ld, s));
		} else {
			if (strcmp(s, "PASSTHROUGH") == 0)
				ld_warn(ld, sn, "PASSTHROUGH (to the address the client asked "
					"for) is what entries without endpoints do; with "
					"endpoints, RANDOM is used");
			st->lb = simple[i].lb;
			st->has_lb = true;
		}
		path_pop(ld, m2);
	} else if (ch != NULL) {
		size_t m2 = path_key(ld, "consistentHash");

		dr_consistent_hash(ld, ch, st);
		path_pop(ld, m2);
	}
	ld_unhonoured(ld, lbn, "localityLbSetting", "locality-aware load balancing is not "
		      "done by an L4 gateway; ignored");
	ld_unhonoured(ld, lbn, "warmupDurationSecs", "slow start is not done by egressd; "
		      "ignored");
	ld_unhonoured(ld, lbn, "warmup", "slow start is not done by egressd; ignored");
	path_pop(ld, mark);
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
	pool = ld_get(ld, tp, "connectionPool", YNODE_MAP);
	if (pool != NULL)
		dr_connection_pool(ld, pool, st);
	lbn = ld_get(ld, tp, "loadBalancer", YNODE_MAP);
	if (lbn != NULL)
		dr_load_balancer(ld, lbn, st);
}

static void
dr_port_level(struct ld *ld, const struct ynode *seq, struct dr_port_settings **ports,
	      unsigned int *n_ports)
{
	size_t i, mark = path_key(ld, "portLevelSettings");

	*ports = ld_calloc(ld, seq->n, sizeof(**ports));
	for (i = 0; *ports != NULL && i < seq->n; i++) {
		const struct ynode *pm = seq->items[i];
		const struct ynode *port;
		struct dr_port_settings *ps;
		size_t m2 = path_idx(ld, i);
		long num = 0;

		if (pm->type != YNODE_MAP) {
			ld_err(ld, pm, "traffic policy may not be null");
			path_pop(ld, m2);
			continue;
		}
		ld_unknown_fields(ld, pm, dr_port_policy_fields);
		port = ld_get(ld, pm, "port", YNODE_MAP);
		if (port != NULL) {
			size_t m3 = path_key(ld, "port");

			num = ld_port_number(ld, port, "number", "port number");
			path_pop(ld, m3);
		}
		if (port == NULL || num == 0) {
			size_t m3 = path_key(ld, "port");

			ld_err(ld, port != NULL ? port : pm,
			       "portTrafficPolicy must have valid port");
			path_pop(ld, m3);
		}
		if (ld_absent(pm, "connectionPool") && ld_absent(pm, "loadBalancer") &&
		    ld_absent(pm, "outlierDetection") && ld_absent(pm, "tls"))
			ld_err(ld, pm, "port traffic policy must have at least one field");
		ps = &(*ports)[(*n_ports)++];
		ps->port = num > 0 ? (uint32_t)num : 0;
		ps->pos = ld_pos(ld, pm);
		dr_settings_fields(ld, pm, &ps->s);
		path_pop(ld, m2);
	}
	path_pop(ld, mark);
}

/* A trafficPolicy (path pushed): the DestinationRule's own or a subset's. */
static void
dr_traffic_policy(struct ld *ld, const struct ynode *tp, struct dr_settings *st,
		  struct dr_port_settings **ports, unsigned int *n_ports)
{
	const struct ynode *pls;

	ld_unknown_fields(ld, tp, dr_policy_fields);
	if (tp->n == 0)
		ld_err(ld, tp, "traffic policy must have at least one field");
	dr_settings_fields(ld, tp, st);
	pls = ld_get(ld, tp, "portLevelSettings", YNODE_SEQ);
	if (pls != NULL && pls->n > 0)
		dr_port_level(ld, pls, ports, n_ports);
}

static void
dr_subsets(struct ld *ld, const struct ynode *spec, struct destination_rule *dr)
{
	const struct ynode *seq = ld_get(ld, spec, "subsets", YNODE_SEQ);
	size_t i, j, mark;

	if (seq == NULL || seq->n == 0)
		return;
	mark = path_key(ld, "subsets");
	dr->subsets = ld_calloc(ld, seq->n, sizeof(*dr->subsets));
	for (i = 0; dr->subsets != NULL && i < seq->n; i++) {
		const struct ynode *sm = seq->items[i];
		const struct ynode *nn, *lm, *tp;
		struct dr_subset *sub;
		const char *name;
		size_t m2 = path_idx(ld, i);

		if (sm->type != YNODE_MAP) {
			ld_err(ld, sm, "expected a mapping, got %s", ydescribe(ld, sm));
			path_pop(ld, m2);
			continue;
		}
		sub = &dr->subsets[dr->n_subsets++];
		sub->pos = ld_pos(ld, sm);
		ld_unknown_fields(ld, sm, dr_subset_fields);
		name = ld_get_str(ld, sm, "name", &nn);
		if (name == NULL || name[0] == '\0') {
			size_t m3 = path_key(ld, "name");

			ld_err(ld, nn != NULL ? nn : sm, "subset name cannot be empty");
			path_pop(ld, m3);
		} else if (!is_dns1123_label(name, strlen(name))) {
			size_t m3 = path_key(ld, "name");

			ld_err(ld, nn, "subset name is invalid: %s", name);
			path_pop(ld, m3);
		} else {
			for (j = 0; j + 1 < dr->n_subsets; j++) {
				if (dr->subsets[j].name != NULL &&
				    strcmp(dr->subsets[j].name, name) == 0) {
					size_t m3 = path_key(ld, "name");

					ld_err(ld, nn, "duplicate subset names: %s", name);
					path_pop(ld, m3);
					break;
				}
			}
		}
		sub->name = ld_strdup(ld, name);
		lm = ld_get(ld, sm, "labels", YNODE_MAP);
		if (lm != NULL && lm->n > 0) {
			size_t m3 = path_key(ld, "labels");
			struct label_sink sink;

			sub->labels = ld_calloc(ld, lm->n, sizeof(*sub->labels));
			sink = (struct label_sink){ sub->labels, &sub->n_labels };
			if (sub->labels != NULL)
				ld_string_map(ld, lm, label_add, &sink);
			path_pop(ld, m3);
		}
		tp = ld_get(ld, sm, "trafficPolicy", YNODE_MAP);
		if (tp != NULL) {
			size_t m3 = path_key(ld, "trafficPolicy");

			dr_traffic_policy(ld, tp, &sub->s, &sub->ports, &sub->n_ports);
			path_pop(ld, m3);
		}
		path_pop(ld, m2);
	}
	path_pop(ld, mark);
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

	mark = path_key(ld, "spec");
	ld_unknown_fields(ld, spec, dr_spec_fields);
	host = ld_get_str(ld, spec, "host", &hn);
	path_key(ld, "host");
	if (host == NULL || host[0] == '\0')
		ld_err(ld, hn != NULL ? hn : spec, "empty domain name not allowed");
	else if (!check_wildcard_domain(ld, host, err, sizeof(err)))
		ld_err(ld, hn, "%s", err);
	path_pop(ld, mark);
	dr.host = ld_strdup(ld, host);

	mark = path_key(ld, "spec");
	dr_subsets(ld, spec, &dr);
	tp = ld_get(ld, spec, "trafficPolicy", YNODE_MAP);
	if (tp != NULL) {
		size_t m2 = path_key(ld, "trafficPolicy");

		dr_traffic_policy(ld, tp, &dr.s, &dr.ports, &dr.n_ports);
		path_pop(ld, m2);
	}
	dr.max_connections = dr.s.max_connections;
	dr.connect_timeout_ms = dr.s.connect_timeout_ms;
	ld_export_to(ld, spec, md->ns, false);
	ld_unhonoured(ld, spec, "workloadSelector", "an L4 gateway does not select "
		      "workloads; ignored");
	path_pop(ld, mark);
	model_add_dr(ld, &dr);
}
