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
