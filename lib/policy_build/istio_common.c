/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every Istio resource kind shares: metadata, string maps (labels,
 * selectors) and whether a selector picks this appliance, exportTo, port
 * numbers and protocol names.
 *
 * Control thread only.
 */
#include <inttypes.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "istio_private.h"

const struct proto_info istio_protocols[] = {
	{ "TCP", IPPROTO_TCP, false, false },
	{ "HTTP", IPPROTO_TCP, true, false },
	{ "HTTPS", IPPROTO_TCP, false, true },
	{ "HTTP2", IPPROTO_TCP, true, false },
	/* a Sidecar's egress listener as an HTTP proxy (Istio's HTTP_PROXY) */
	{ "HTTP_PROXY", IPPROTO_TCP, true, false },
	{ "GRPC", IPPROTO_TCP, true, false },
	{ "GRPC-WEB", IPPROTO_TCP, true, false },
	{ "TLS", IPPROTO_TCP, false, true },
	{ "MONGO", IPPROTO_TCP, false, false },
	{ "REDIS", IPPROTO_TCP, false, false },
	{ "MYSQL", IPPROTO_TCP, false, false },
	/* An extension: Istio has no UDP, but an L4 gateway can carry it. */
	{ "UDP", IPPROTO_UDP, false, false },
};

static const char *const metadata_fields[] = {
	"name",
	"namespace",
	"labels",
	"annotations",
	/* what `kubectl get -o yaml` adds; meaningless here, but not wrong */
	"uid",
	"resourceVersion",
	"generation",
	"creationTimestamp",
	"deletionTimestamp",
	"deletionGracePeriodSeconds",
	"managedFields",
	"ownerReferences",
	"finalizers",
	"generateName",
	"selfLink",
	NULL,
};

/* A warning for every key of map that is not in known (NULL-terminated). */
void
ld_unknown_fields(struct ld *ld, const struct ynode *map, const char *const *known)
{
	const struct ynode *k;
	size_t i = 0, mark;

	while ((k = ymap_next_unknown(map, known, &i)) != NULL) {
		mark = yr_key(&ld->r, k->str);
		yr_warn(&ld->r, k, "unknown field, ignored");
		yr_pop(&ld->r, mark);
	}
}

/* A warning for a known field that an L4 gateway cannot act on. */
void
ld_unhonoured(struct ld *ld, const struct ynode *map, const char *key, const char *why)
{
	const struct ynode *k = ymap_key(map, key);
	size_t mark;

	if (k == NULL)
		return;
	mark = yr_key(&ld->r, key);
	yr_warn(&ld->r, k, "%s", why);
	yr_pop(&ld->r, mark);
}

/* metadata.name (required) and metadata.namespace. @return 0 or -1. */
int
ld_metadata(struct ld *ld, const struct ynode *res, struct meta *md)
{
	const struct ynode *meta = yr_get(&ld->r, res, "metadata", YNODE_MAP);
	const struct ynode *n;
	size_t mark;
	int rc = 0;

	memset(md, 0, sizeof(*md));
	md->ns = "";
	md->name_node = res;
	if (meta == NULL) {
		if (ymap_opt(res, "metadata") != NULL)
			return -1; /* not a mapping: already reported */
		mark = yr_key(&ld->r, "metadata.name");
		yr_err(&ld->r, res, "required field missing");
		yr_pop(&ld->r, mark);
		return -1;
	}
	mark = yr_key(&ld->r, "metadata");
	ld_unknown_fields(ld, meta, metadata_fields);
	md->name = yr_get_str(&ld->r, meta, "name", &n);
	if (md->name == NULL || md->name[0] == '\0') {
		yr_key(&ld->r, "name");
		yr_err(&ld->r, n != NULL ? n : meta, "required field missing");
		md->name = NULL;
		rc = -1;
	} else {
		md->name_node = n;
		if (!istio_dns1123_subdomain(md->name)) {
			yr_key(&ld->r, "name");
			yr_err(&ld->r, n, "invalid name %s (want a lowercase RFC 1123 subdomain)",
			       yr_quote(&ld->r, md->name));
			rc = -1;
		}
	}
	yr_pop(&ld->r, mark);
	mark = yr_key(&ld->r, "metadata");
	n = ymap_opt(meta, "annotations");
	md->annotations = n != NULL && n->type == YNODE_MAP ? n : NULL;
	md->ns = yr_get_str(&ld->r, meta, "namespace", &n);
	if (md->ns == NULL) {
		md->ns = "";
	} else if (!istio_dns1123_label(md->ns, strlen(md->ns))) {
		yr_key(&ld->r, "namespace");
		yr_err(&ld->r, n, "invalid namespace %s (want a lowercase RFC 1123 label)",
		       yr_quote(&ld->r, md->ns));
		rc = -1;
	}
	yr_pop(&ld->r, mark);
	return rc;
}

/* A mapping of string to string (labels, selectors); calls f for each pair. */
void
ld_string_map(struct ld *ld, const struct ynode *map,
	      void (*f)(struct ld *, const char *, const char *, void *), void *arg)
{
	size_t i, mark;

	for (i = 0; i < map->n; i++) {
		const struct ynode *k = map->items[2 * i];
		const struct ynode *v = map->items[2 * i + 1];

		if (k->type != YNODE_SCALAR)
			continue;
		mark = yr_key(&ld->r, k->str);
		if (v->type != YNODE_SCALAR)
			yr_err(&ld->r, v, "expected a string, got %s", ynode_kind(v));
		else if (f != NULL)
			f(ld, k->str, v->str, arg);
		yr_pop(&ld->r, mark);
	}
}

void
ld_label_add(struct ld *ld, const char *k, const char *v, void *arg)
{
	struct label_sink *sink = arg;
	struct egress_label *l = &sink->v[(*sink->n)++];

	l->key = ld_strdup(ld, k);
	l->value = ld_strdup(ld, v);
}

/*
 * exportTo: ".", "*", "~" or namespaces, without duplicates (Istio's
 * validateExportTo()). Namespace visibility is a property of sidecars: the
 * gateway serves whoever reaches it, so the field gets its one warning.
 */
void
ld_export_to(struct ld *ld, const struct ynode *spec, const char *ns, bool is_se)
{
	const struct ynode *k = ymap_key(spec, "exportTo");
	const struct ynode *seq = yr_get(&ld->r, spec, "exportTo", YNODE_SEQ);
	size_t i, j, mark;

	if (k == NULL)
		return;
	mark = yr_key(&ld->r, "exportTo");
	yr_warn(&ld->r, k,
		"namespace visibility is not enforced by an L4 gateway "
		"(every client that reaches it is served); ignored");
	for (i = 0; seq != NULL && i < seq->n; i++) {
		const struct ynode *n = seq->items[i];
		const char *e;
		size_t m2 = yr_idx(&ld->r, i);

		e = yr_str(&ld->r, n);
		if (e == NULL) {
			yr_pop(&ld->r, m2);
			continue;
		}
		if (!(strcmp(e, ".") == 0 || strcmp(e, "*") == 0 ||
		      (is_se && strcmp(e, "~") == 0) || istio_dns1123_label(e, strlen(e))))
			yr_err(&ld->r, n,
			       "invalid exportTo entry %s (want \".\", \"*\"%s or "
			       "a namespace)",
			       yr_quote(&ld->r, e), is_se ? ", \"~\"" : "");
		for (j = 0; j < i; j++) {
			const char *o = ynode_str(seq->items[j]);
			bool dot_e = strcmp(e, ".") == 0, dot_o = o != NULL && strcmp(o, ".") == 0;

			if (o == NULL)
				continue;
			if (strcmp(o, e) == 0) {
				yr_err(&ld->r, n, "duplicate entries in exportTo for entry %s", e);
				break;
			}
			if (ns[0] != '\0' &&
			    ((dot_e && strcmp(o, ns) == 0) || (dot_o && strcmp(e, ns) == 0))) {
				yr_err(&ld->r, n,
				       "duplicate entries in exportTo: . and current "
				       "namespace %s",
				       ns);
				break;
			}
		}
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

const struct proto_info *
istio_proto_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(istio_protocols) / sizeof(istio_protocols[0]); i++)
		if (strcasecmp(name, istio_protocols[i].name) == 0)
			return &istio_protocols[i];
	return NULL;
}

bool
istio_proto_is_http(const char *name)
{
	const struct proto_info *pi;

	pi = name != NULL && name[0] != '\0' ? istio_proto_find(name) : NULL;
	return pi != NULL && pi->http;
}

bool
istio_proto_is_tls(const char *name)
{
	const struct proto_info *pi;

	pi = name != NULL && name[0] != '\0' ? istio_proto_find(name) : NULL;
	return pi != NULL && pi->tls;
}

char *
ld_strdup_upper(struct ld *ld, const char *s)
{
	char *d = ld_strdup(ld, s), *p;

	for (p = d; p != NULL && *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return d;
}

/*
 * A port number at key of map (1-65535). what names it in the message
 * ("port number", "targetPort"). @return the number, 0 when absent, -1 bad.
 */
long
ld_port_number(struct ld *ld, const struct ynode *map, const char *key, const char *what)
{
	const struct ynode *n = ymap_get(map, key);
	size_t mark;
	int64_t v;
	long rc = -1;

	if (n == NULL || ynode_is_null(n))
		return 0;
	mark = yr_key(&ld->r, key);
	if (yr_int(&ld->r, n, &v) == 0) {
		if (v < 1 || v > 65535)
			yr_err(&ld->r, n, "%s %s out of range (1-65535)", what, n->str);
		else
			rc = (long)v;
	}
	yr_pop(&ld->r, mark);
	return rc;
}

/*
 * Does a selector (Gateway spec.selector, Sidecar workloadSelector.labels)
 * pick this appliance? Every pair must be among the appliance's labels
 * (policy.labels, default istio=egressgateway); no selector picks everyone
 * (Istio: a Gateway without one applies to every gateway workload).
 */
bool
istio_labels_select(const struct egress_config *cfg, const struct egress_label *sel,
		    unsigned int n_sel)
{
	static const struct egress_label dflt = {
		.key = (char *)"istio",
		.value = (char *)"egressgateway",
	};
	const struct egress_label *labels = &dflt;
	unsigned int n_labels = 1, i, j;

	if (cfg != NULL && cfg->n_labels > 0) {
		labels = cfg->labels;
		n_labels = cfg->n_labels;
	}
	for (i = 0; i < n_sel; i++) {
		if (sel[i].key == NULL || sel[i].value == NULL)
			return false;
		for (j = 0; j < n_labels; j++)
			if (strcmp(sel[i].key, labels[j].key) == 0 &&
			    strcmp(sel[i].value, labels[j].value) == 0)
				break;
		if (j == n_labels)
			return false;
	}
	return true;
}

/*
 * A protobuf / Go duration: "10s", "1.5s", "500ms", "1m30s", "2h". Units ns,
 * us, ms, s, m, h. @return 0 and *ns; 1 when it is well formed but more than
 * UINT64_MAX ns (584 years: Istio still takes it, the caller clamps); -1.
 */
int
istio_parse_duration_ns(const char *s, uint64_t *ns)
{
	static const struct {
		const char *u;
		uint64_t ns;
	} units[] = {
		{ "ns", 1 },         { "us", 1000 },          { "ms", 1000000 },
		{ "s", 1000000000 }, { "m", 60000000000ull }, { "h", 3600000000000ull },
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

/*
 * Istio's ValidateDuration() of the duration at key of map: at least 1 ms,
 * whole milliseconds. zero_ok: "0s" is taken too (a TCP idleTimeout of 0
 * disables it). Errors at the value, in Istio's words.
 */
void
ld_istio_duration(struct ld *ld, const struct ynode *map, const char *key, bool zero_ok)
{
	const struct ynode *n;
	const char *s = yr_get_str(&ld->r, map, key, &n);
	size_t mark;
	uint64_t ns;
	int rc;

	if (s == NULL)
		return;
	mark = yr_key(&ld->r, key);
	rc = istio_parse_duration_ns(s, &ns);
	/* Istio compares whole milliseconds with 0 */
	if (rc == 0 && zero_ok && ns < 1000000) {
		yr_pop(&ld->r, mark);
		return;
	}
	if (rc < 0)
		yr_err(&ld->r, n, "invalid duration %s (want e.g. 10s, 500ms, 1m)",
		       yr_quote(&ld->r, s));
	else if (rc == 0 && ns < 1000000)
		yr_err(&ld->r, n, "duration must be greater than 1ms");
	else if (rc == 0 && ns % 1000000 != 0)
		yr_err(&ld->r, n, "only durations to ms precision are supported");
	yr_pop(&ld->r, mark);
}

/*
 * The integer at key of map, as a protobuf int32 or uint32 field takes it.
 * @return true and *v when it is present and fits; false when absent, or
 * after the error.
 */
bool
ld_istio_int(struct ld *ld, const struct ynode *map, const char *key, bool is_unsigned, int64_t *v)
{
	const struct ynode *n = ymap_opt(map, key);
	int64_t lo = is_unsigned ? 0 : INT32_MIN;
	int64_t hi = is_unsigned ? (int64_t)UINT32_MAX : INT32_MAX;
	size_t mark;
	bool ok = false;

	if (n == NULL)
		return false;
	mark = yr_key(&ld->r, key);
	if (yr_int(&ld->r, n, v) == 0) {
		ok = *v >= lo && *v <= hi;
		if (!ok)
			yr_err(&ld->r, n, "%s out of range (%" PRId64 " to %" PRId64 ")", n->str,
			       lo, hi);
	}
	yr_pop(&ld->r, mark);
	return ok;
}

static void
pool_non_negative(struct ld *ld, const struct ynode *map, const char *key, const char *what)
{
	int64_t v;

	if (ld_istio_int(ld, map, key, false, &v) && v < 0) {
		size_t mark = yr_key(&ld->r, key);

		yr_err(&ld->r, ymap_get(map, key), "%s must be non-negative", what);
		yr_pop(&ld->r, mark);
	}
}

static void
pool_http(struct ld *ld, const struct ynode *http)
{
	static const char *const fields[] = {
		"http1MaxPendingRequests",
		"http2MaxRequests",
		"maxRequestsPerConnection",
		"maxRetries",
		"idleTimeout",
		"h2UpgradePolicy",
		"useClientProtocol",
		"maxConcurrentStreams",
		NULL,
	};
	static const char *const upgrade[] = { "DEFAULT", "DO_NOT_UPGRADE", "UPGRADE", NULL };
	const struct ynode *n, *un = ymap_opt(http, "useClientProtocol");
	const char *policy = yr_get_str(&ld->r, http, "h2UpgradePolicy", &n);
	bool use_client = false;
	size_t mark, i;

	ld_unknown_fields(ld, http, fields);
	pool_non_negative(ld, http, "http1MaxPendingRequests", "http1 max pending requests");
	pool_non_negative(ld, http, "http2MaxRequests", "http2 max requests");
	pool_non_negative(ld, http, "maxRequestsPerConnection", "max requests per connection");
	pool_non_negative(ld, http, "maxRetries", "max retries");
	pool_non_negative(ld, http, "maxConcurrentStreams", "max concurrent streams");
	ld_istio_duration(ld, http, "idleTimeout", false);
	if (un != NULL) {
		mark = yr_key(&ld->r, "useClientProtocol");
		if (yr_bool(&ld->r, un, &use_client) < 0)
			use_client = false;
		yr_pop(&ld->r, mark);
	}
	if (policy == NULL)
		return;
	mark = yr_key(&ld->r, "h2UpgradePolicy");
	for (i = 0; upgrade[i] != NULL && strcmp(upgrade[i], policy) != 0; i++)
		;
	if (upgrade[i] == NULL)
		yr_err(&ld->r, n,
		       "invalid h2UpgradePolicy %s (want DEFAULT, DO_NOT_UPGRADE or "
		       "UPGRADE)",
		       yr_quote(&ld->r, policy));
	else if (strcmp(policy, "UPGRADE") == 0 && use_client)
		yr_err(&ld->r, n,
		       "use client protocol must not be true when H2UpgradePolicy is "
		       "UPGRADE");
	yr_pop(&ld->r, mark);
}

static void
pool_tcp(struct ld *ld, const struct ynode *tcp)
{
	static const char *const fields[] = {
		"maxConnections",        "connectTimeout", "tcpKeepalive",
		"maxConnectionDuration", "idleTimeout",    NULL,
	};
	static const char *const ka_fields[] = { "probes", "time", "interval", NULL };
	const struct ynode *ka = yr_get(&ld->r, tcp, "tcpKeepalive", YNODE_MAP);
	int64_t v;

	ld_unknown_fields(ld, tcp, fields);
	pool_non_negative(ld, tcp, "maxConnections", "max connections");
	ld_istio_duration(ld, tcp, "connectTimeout", false);
	ld_istio_duration(ld, tcp, "maxConnectionDuration", false);
	ld_istio_duration(ld, tcp, "idleTimeout", true);
	if (ka != NULL) {
		size_t mark = yr_key(&ld->r, "tcpKeepalive");

		ld_unknown_fields(ld, ka, ka_fields);
		ld_istio_int(ld, ka, "probes", true, &v);
		ld_istio_duration(ld, ka, "time", false);
		ld_istio_duration(ld, ka, "interval", false);
		yr_pop(&ld->r, mark);
	}
}

/*
 * Istio's validateConnectionPool() of a ConnectionPoolSettings (the path
 * already names it): at least one of tcp and http, counts not negative,
 * durations as ld_istio_duration(). Validation only.
 */
void
ld_istio_connection_pool(struct ld *ld, const struct ynode *pool)
{
	static const char *const fields[] = { "tcp", "http", NULL };
	const struct ynode *tcp = yr_get(&ld->r, pool, "tcp", YNODE_MAP);
	const struct ynode *http = yr_get(&ld->r, pool, "http", YNODE_MAP);
	size_t mark;

	ld_unknown_fields(ld, pool, fields);
	if (ymap_opt(pool, "tcp") == NULL && ymap_opt(pool, "http") == NULL)
		yr_err(&ld->r, pool, "connection pool must have at least one field");
	if (http != NULL) {
		mark = yr_key(&ld->r, "http");
		pool_http(ld, http);
		yr_pop(&ld->r, mark);
	}
	if (tcp != NULL) {
		mark = yr_key(&ld->r, "tcp");
		pool_tcp(ld, tcp);
		yr_pop(&ld->r, mark);
	}
}
