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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "istio_private.h"

#define NS_PER_MS 1000000

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
	/* Istio's generic outbound proxy port (protocol.HTTP_PROXY): HTTP */
	{ "HTTP_PROXY", IPPROTO_TCP, true, false },
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

/* metadata.labels or .annotations: map[string]string in ObjectMeta, each value a string. */
static void
ld_meta_string_map(struct ld *ld, const struct ynode *meta, const char *key)
{
	const struct ynode *m = yr_get(&ld->r, meta, key, YNODE_MAP);
	size_t mark;

	if (m == NULL)
		return;
	mark = yr_key(&ld->r, key);
	ld_string_map(ld, m, NULL, NULL);
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
	ld_meta_string_map(ld, meta, "labels");
	ld_meta_string_map(ld, meta, "annotations");
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
		/* a null value is dropped, as the API server drops it */
		if (yr_str_opt(&ld->r, v) != NULL && f != NULL)
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

/* Is this label (key=value) one of the appliance's (policy.labels, default istio=egressgateway)? */
static bool
label_is_ours(const struct egress_config *cfg, const char *key, const char *value)
{
	unsigned int i;

	if (cfg == NULL || cfg->n_labels == 0)
		return strcmp(key, "istio") == 0 && strcmp(value, "egressgateway") == 0;
	for (i = 0; i < cfg->n_labels; i++)
		if (strcmp(key, cfg->labels[i].key) == 0 &&
		    strcmp(value, cfg->labels[i].value) == 0)
			return true;
	return false;
}

/*
 * The labels of a workloadSelector (the path is pushed): field is "labels"
 * (networking's WorkloadSelector: ServiceEntry, Sidecar) or "matchLabels"
 * (istio.type's: DestinationRule), checked as Istio's ValidateAlphaWorkloadSelector() and
 * validateWorkloadSelector() do: an empty key or a '*' in a key or value is
 * an error; and as its CRD does: at most 256 labels, values of at most 63
 * bytes. *ours tells whether every label is one of the appliance's.
 * @return the number of labels; 0 means none, which the caller warns about in
 * its kind's words (Istio: the selector then selects every workload).
 */
size_t
ld_selector_check(struct ld *ld, const struct ynode *ws, const char *field, bool *ours)
{
	const char *const fields[] = { field, NULL };
	const struct ynode *lm;
	size_t i, mark;

	*ours = true;
	ld_unknown_fields(ld, ws, fields);
	lm = yr_get(&ld->r, ws, field, YNODE_MAP);
	if (lm == NULL || lm->n == 0)
		return 0;
	mark = yr_key(&ld->r, field);
	if (lm->n > 256)
		yr_err(&ld->r, lm, "too many labels: %zu (at most 256)", lm->n);
	for (i = 0; i < lm->n; i++) {
		const struct ynode *k = lm->items[2 * i], *v = lm->items[2 * i + 1];
		const char *ks = ynode_str(k), *vs = yr_str_opt(&ld->r, v);
		char kv[2 * QUOTE_MAX + 2];
		size_t m2;

		if (ks == NULL || vs == NULL) { /* reported; or null, which the API server drops */
			*ours = *ours && ynode_is_null(v);
			continue;
		}
		m2 = ks[0] != '\0' ? yr_key(&ld->r, ks) : ld->r.path_len;
		snprintf(kv, sizeof(kv), "%s=%s", ks, vs);
		if (ks[0] == '\0')
			yr_err(&ld->r, k, "empty key is not supported in selector: %s",
			       yr_quote(&ld->r, kv));
		if (strchr(ks, '*') != NULL || strchr(vs, '*') != NULL)
			yr_err(&ld->r, strchr(ks, '*') != NULL ? k : v,
			       "wildcard is not supported in selector: %s", yr_quote(&ld->r, kv));
		if (strlen(vs) > 63)
			yr_err(&ld->r, v, "label value %s is longer than 63 bytes",
			       yr_quote(&ld->r, vs));
		*ours = *ours && label_is_ours(ld->cfg, ks, vs);
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
	return lm->n;
}

/* Does an exportTo list show a resource of namespace res_ns to namespace to? */
bool
istio_exported_to(const char *const *e, size_t n, const char *res_ns, const char *to)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (e[i] == NULL)
			continue;
		if (strcmp(e[i], "*") == 0 || strcmp(e[i], to) == 0 ||
		    (strcmp(e[i], ".") == 0 && strcmp(res_ns, to) == 0))
			return true;
	}
	return false;
}

static const char *const export_kind_names[EGRESS_EXPORT_KINDS] = {
	[EGRESS_EXPORT_SE] = "ServiceEntry",
	[EGRESS_EXPORT_VS] = "VirtualService",
	[EGRESS_EXPORT_DR] = "DestinationRule",
};
static const char *const export_kind_keys[EGRESS_EXPORT_KINDS] = {
	[EGRESS_EXPORT_SE] = "service_entry",
	[EGRESS_EXPORT_VS] = "virtual_service",
	[EGRESS_EXPORT_DR] = "destination_rule",
};
/* What a resource the gateway does not see comes to (the warnings' end). */
static const char *const export_kind_effect[EGRESS_EXPORT_KINDS] = {
	[EGRESS_EXPORT_SE] = "admits nothing",
	[EGRESS_EXPORT_VS] = "its routes do not apply",
	[EGRESS_EXPORT_DR] = "its traffic policy does not apply",
};

/*
 * The exportTo entries, checked in the order and with the words of Istio's
 * validateExportTo(): "." stands for the resource's namespace when looking
 * for duplicates; "~" (nobody) is for ServiceEntries only and alone; "*"
 * alone; a DestinationRule with a workloadSelector exports to its own
 * namespace only. seq is spec.exportTo (path pushed). The valid entries go
 * to v (room for seq->n), as written ("." stays "."); @return how many.
 */
static size_t
export_to_check(struct ld *ld, const struct ynode *seq, const char *ns,
		enum egress_export_kind kind, bool dr_selector, const char **v)
{
	size_t i, j, n = 0;
	bool has_ns = false, has_all = false, has_none = false;

	for (i = 0; i < seq->n; i++) {
		const struct ynode *it = seq->items[i];
		size_t mark = yr_idx(&ld->r, i);
		const char *e = yr_str(&ld->r, it), *key;

		if (e == NULL) {
			if (it->type == YNODE_SCALAR)
				yr_err(&ld->r, it,
				       "only .,*,~, or a valid DNS 1123 label is "
				       "allowed as exportTo entry");
			yr_pop(&ld->r, mark);
			continue;
		}
		key = strcmp(e, ".") == 0 ? ns : e;
		for (j = 0; j < n && strcmp(strcmp(v[j], ".") == 0 ? ns : v[j], key) != 0; j++)
			;
		if (j < n) {
			if (key != e)
				yr_err(&ld->r, it,
				       "duplicate entries in exportTo: . and current namespace %s",
				       ns);
			else
				yr_err(&ld->r, it, "duplicate entries in exportTo for entry %s", e);
		} else if (strcmp(key, "~") == 0 && kind != EGRESS_EXPORT_SE) {
			yr_err(&ld->r, it,
			       "exportTo ~ (none) is not allowed for Istio configuration objects");
		} else if (strcmp(key, "*") != 0 && strcmp(key, "~") != 0 && key != ns &&
			   !istio_dns1123_label(key, strlen(key))) {
			/* "." of an invalid namespace: metadata.namespace says so */
			yr_err(&ld->r, it,
			       "%s: only .,*,~, or a valid DNS 1123 label is allowed as exportTo "
			       "entry",
			       yr_quote(&ld->r, e));
		} else {
			v[n++] = e;
			has_ns = has_ns || strcmp(key, ns) == 0;
			has_all = has_all || strcmp(key, "*") == 0;
			has_none = has_none || strcmp(key, "~") == 0;
		}
		yr_pop(&ld->r, mark);
	}
	if (dr_selector && n > 0) {
		if (!has_ns)
			yr_err(&ld->r, seq,
			       "destination rule with workload selector cannot have exportTo "
			       "beyond current namespace");
		else if (n > 1)
			yr_err(&ld->r, seq,
			       "destination rule with workload selector cannot have multiple "
			       "entries in exportTo");
	}
	if (has_all && seq->n > 1)
		yr_err(&ld->r, seq,
		       "cannot have both public (*) and non-public exportTo values for a "
		       "resource");
	if (has_none && seq->n > 1)
		yr_err(&ld->r, seq, "cannot export service entry to no one (~) and someone");
	return n;
}

/*
 * A DestinationRule's workloadSelector, validated as Istio's
 * validateWorkloadSelector() does. Istio applies such a rule only to the
 * workloads it selects in the rule's own namespace. @return why it does not
 * apply to the gateway, or NULL.
 */
static const char *
dr_selector_scope(struct ld *ld, const struct ynode *spec, const char *ns, const char *gw,
		  bool hidden)
{
	const struct ynode *k = ymap_key(spec, "workloadSelector");
	const struct ynode *ws = ymap_get(spec, "workloadSelector");
	size_t mark = yr_key(&ld->r, "workloadSelector");
	const char *why = NULL;
	bool ours;

	if (ld_selector_check(ld, ws, "matchLabels", &ours) == 0)
		yr_warn(&ld->r, k, "workload selector specified without labels");
	if (hidden) {
		/* exportTo said it already */
	} else if (strcmp(ns, gw) != 0) {
		yr_warn(&ld->r, k,
			"DestinationRule with a workloadSelector applies to workloads of its own "
			"namespace (%s), not to the gateway (%s): its traffic policy does not "
			"apply",
			ns, gw);
		why = "applies to workloads of its own namespace only (workloadSelector)";
	} else if (!ours) {
		yr_warn(&ld->r, k,
			"DestinationRule workloadSelector does not select the gateway (its "
			"labels are policy.labels): its traffic policy does not apply");
		why = "has a workloadSelector that does not select the gateway";
	}
	yr_pop(&ld->r, mark);
	return why;
}

/* Does the list hold this entry? */
static bool
export_has(const char *const *v, size_t n, const char *e)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], e) == 0)
			return true;
	return false;
}

/*
 * spec.exportTo validated (export_to_check()). @return its valid entries as
 * written (*n of them; NULL when none, or out of memory: ld->oom).
 */
static const char **
export_to_validate(struct ld *ld, const struct ynode *spec, const char *ns,
		   enum egress_export_kind kind, bool dr_selector, size_t *n)
{
	const struct ynode *seq = yr_get(&ld->r, spec, "exportTo", YNODE_SEQ);
	size_t mark = yr_key(&ld->r, "exportTo");
	const char **v = NULL;

	*n = 0;
	if (seq != NULL && seq->n > 0) {
		v = calloc(seq->n, sizeof(*v));
		if (v == NULL)
			ld->oom = true;
		else
			*n = export_to_check(ld, seq, ns, kind, dr_selector, v);
	}
	yr_pop(&ld->r, mark);
	return v;
}

/*
 * How Istio's push context indexes a DestinationRule of namespace ns whose
 * exportTo is v (n entries, none: the mesh default dflt), for a gateway in
 * gw (setDestinationRules(), destinationRule()). view->local: in its own
 * namespace's pool (exportTo empty, "*", "." or that namespace); view->priv:
 * there only (Istio's isPrivateOnly: one entry, "." or its namespace; or
 * none and a mesh default holding "."); view->exported: in the exported pool
 * and exported to gw (empty, "*" or gw as written: Istio does not read "."
 * there). A rule with a workloadSelector is Istio's ["."]. @return whether
 * any of the gateway's lookups can find it.
 */
static bool
dr_export_view(const char *const *v, size_t n, const struct egress_export_to *dflt, const char *ns,
	       const char *gw, bool dr_selector, struct export_view *view)
{
	static const char *const dot[] = { "." };

	if (dr_selector) {
		v = dot;
		n = 1;
	}
	if (n == 0) {
		view->priv = dflt->n > 0 && export_has((const char *const *)dflt->v, dflt->n, ".");
		view->exported = !view->priv;
		view->local = true;
	} else {
		view->local =
			export_has(v, n, "*") || export_has(v, n, ".") || export_has(v, n, ns);
		view->priv = n == 1 && (strcmp(v[0], ".") == 0 || strcmp(v[0], ns) == 0);
		view->exported = !view->priv && (export_has(v, n, "*") || export_has(v, n, gw));
	}
	/* its own namespace's pool is searched first when the gateway is there */
	return view->exported || (view->local && strcmp(ns, gw) == 0);
}

/*
 * The mesh default exportTo as Istio's push context reads it for a
 * ServiceEntry or VirtualService (initServiceRegistry(), IsServiceVisible(),
 * initVirtualServices(): "We only honor . and *"): "." first, its own
 * namespace only (*own); else "*", everyone; else nobody. @return whether a
 * resource of ns is seen from gw.
 */
static bool
default_export_seen(const struct egress_export_to *d, const char *ns, const char *gw, bool *own)
{
	const char *const *v = (const char *const *)d->v;

	*own = d->n > 0 && export_has(v, d->n, ".");
	if (d->n == 0)
		return true; /* unset: "*" */
	if (*own)
		return strcmp(ns, gw) == 0;
	return export_has(v, d->n, "*");
}

/*
 * Whether the gateway (policy.namespace) sees a resource of namespace ns
 * whose valid exportTo entries are v (n; none: the mesh default,
 * policy.default_export_to, "*" unless set), as Istio's push context does:
 * "*", that namespace, or "." and the resource lives there; "~" nobody. A
 * DestinationRule's view is filled in too (dr_export_view()). @return why
 * not (a static phrase for the compiler's messages), after a warning; NULL
 * when it does.
 */
static const char *
export_visibility(struct ld *ld, const struct ynode *spec, const struct meta *md,
		  enum egress_export_kind kind, const char *const *v, size_t n, bool dr_selector,
		  struct export_view *view)
{
	static const char hidden[] = "is not exported to the gateway's namespace";
	static const struct egress_export_to star = { { NULL }, 0 };
	const struct ynode *k = ymap_key(spec, "exportTo");
	const struct ynode *seq = ymap_get(spec, "exportTo");
	const char *ns = istio_ns(md->ns), *gw = egress_namespace(ld->cfg);
	const struct egress_export_to *dflt =
		ld->cfg != NULL ? &ld->cfg->default_export_to[kind] : &star;
	bool dflt_used = n == 0 && (seq == NULL || seq->type != YNODE_SEQ || seq->n == 0);
	bool seen, own = true;

	*view = (struct export_view){ 0 };
	if (n == 0 && !dflt_used)
		return NULL; /* nothing valid: the errors said it */
	if (kind == EGRESS_EXPORT_DR)
		/* a selector's rule stays home: dr_selector_scope() says whether it is ours */
		seen = dr_export_view(v, n, dflt, ns, gw, dr_selector, view) || dr_selector;
	else if (dflt_used)
		seen = default_export_seen(dflt, ns, gw, &own);
	else
		seen = istio_exported_to(v, n, ns, gw);
	if (seen)
		return NULL;
	if (dflt_used && own) {
		yr_diag_bare(&ld->r, DIAG_WARNING, md->name_node,
			     "metadata.name: %s without exportTo is exported to the mesh default "
			     "(policy.default_export_to.%s), which Istio reads as its own "
			     "namespace only (%s): %s",
			     export_kind_names[kind], export_kind_keys[kind], ns,
			     export_kind_effect[kind]);
	} else if (dflt_used) {
		yr_diag_bare(&ld->r, DIAG_WARNING, md->name_node,
			     "metadata.name: %s without exportTo is exported to the mesh default "
			     "(policy.default_export_to.%s), which Istio reads as nobody (it "
			     "honours only \".\" and \"*\" there): %s",
			     export_kind_names[kind], export_kind_keys[kind],
			     export_kind_effect[kind]);
	} else {
		size_t mark = yr_key(&ld->r, "exportTo");

		if (n == 1 && strcmp(v[0], "~") == 0)
			yr_warn(&ld->r, k, "%s exported to no namespace (~): %s",
				export_kind_names[kind], export_kind_effect[kind]);
		else
			yr_warn(&ld->r, k,
				"%s exported to namespaces the gateway (%s) is not in: %s",
				export_kind_names[kind], gw, export_kind_effect[kind]);
		yr_pop(&ld->r, mark);
	}
	return hidden;
}

/*
 * spec.exportTo of a ServiceEntry, VirtualService or DestinationRule:
 * validated (export_to_validate()), then applied for the gateway's namespace
 * (export_visibility()); a DestinationRule's workloadSelector is checked
 * after (dr_selector_scope()): the rule applies only where it selects the
 * gateway. view (DestinationRules; NULL for the others) gets how Istio
 * indexes the rule, for compile.c's lookup by namespace.
 * @return why the gateway does not see the resource (a static phrase for the
 * compiler's messages), after a warning here; NULL when it does.
 */
const char *
ld_export_to(struct ld *ld, const struct ynode *spec, const struct meta *md,
	     enum egress_export_kind kind, struct export_view *view)
{
	const char *ns = istio_ns(md->ns), *why;
	const struct ynode *ws = ymap_get(spec, "workloadSelector");
	bool dr_selector = kind == EGRESS_EXPORT_DR && ws != NULL && ws->type == YNODE_MAP;
	struct export_view scratch;
	const char **v;
	size_t n;

	v = export_to_validate(ld, spec, ns, kind, dr_selector, &n);
	if (ld->oom) {
		free(v);
		return NULL;
	}
	why = export_visibility(ld, spec, md, kind, v, n, dr_selector,
				view != NULL ? view : &scratch);
	free(v);
	if (dr_selector) {
		const char *w =
			dr_selector_scope(ld, spec, ns, egress_namespace(ld->cfg), why != NULL);

		why = why != NULL ? why : w;
	}
	return why;
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
	unsigned int i;

	for (i = 0; i < n_sel; i++)
		if (sel[i].key == NULL || sel[i].value == NULL ||
		    !label_is_ours(cfg, sel[i].key, sel[i].value))
			return false;
	return true;
}

static void
pool_tcp(struct ld *ld, const struct ynode *tcp, struct dr_settings *st)
{
	static const char *const fields[] = {
		"maxConnections",        "connectTimeout", "tcpKeepalive",
		"maxConnectionDuration", "idleTimeout",    NULL,
	};
	static const char *const ka_fields[] = { "probes", "time", "interval", NULL };
	const struct ynode *ka;
	int64_t v, ns;

	ld_unknown_fields(ld, tcp, fields);
	if (ld_nonneg_int32(ld, tcp, "maxConnections", "max connections", &v) && st != NULL) {
		st->max_connections = (uint32_t)v;
		st->has_max_connections = true;
	}
	if (ld_duration(ld, tcp, "connectTimeout", LD_DUR_ISTIO, &ns) && st != NULL) {
		uint64_t ms = (uint64_t)ns / NS_PER_MS;

		if (ms > EGRESS_TIMEOUT_MAX_MS) {
			/* Istio takes it: not an error in the user's manifest, but
			 * the flow table cannot time it */
			const struct ynode *n = ymap_get(tcp, "connectTimeout");
			size_t mark = yr_key(&ld->r, "connectTimeout");

			yr_warn(&ld->r, n,
				"%s is longer than a flow can be timed (%" PRIu64 "h): "
				"clamped to %" PRIu64 "h",
				yr_quote(&ld->r, n->str), EGRESS_TIMEOUT_MAX_MS / 3600000,
				EGRESS_TIMEOUT_MAX_MS / 3600000);
			yr_pop(&ld->r, mark);
			ms = EGRESS_TIMEOUT_MAX_MS;
		}
		st->connect_timeout_ms = ms;
		st->has_connect_timeout = true;
	}
	ld_duration(ld, tcp, "maxConnectionDuration", LD_DUR_ISTIO, &ns);
	ld_duration(ld, tcp, "idleTimeout", LD_DUR_IDLE, &ns);
	ka = yr_get(&ld->r, tcp, "tcpKeepalive", YNODE_MAP);
	if (ka != NULL) {
		size_t mark = yr_key(&ld->r, "tcpKeepalive");

		ld_unknown_fields(ld, ka, ka_fields);
		ld_int(ld, ka, "probes", 0, UINT32_MAX, &v);
		ld_duration(ld, ka, "time", LD_DUR_ISTIO, &ns);
		ld_duration(ld, ka, "interval", LD_DUR_ISTIO, &ns);
		yr_pop(&ld->r, mark);
	}
	if (st == NULL)
		return;
	ld_unhonoured(ld, tcp, "tcpKeepalive",
		      "the gateway does not originate the "
		      "connection, so it sends no keepalives; ignored");
	ld_unhonoured(ld, tcp, "maxConnectionDuration", "not enforced by egressd; ignored");
	ld_unhonoured(ld, tcp, "idleTimeout",
		      "idle flows follow flows.timeouts of the "
		      "appliance config; ignored");
}

static void
pool_http(struct ld *ld, const struct ynode *http, bool sidecar)
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
		"http2KeepAlive",
		NULL,
	};
	static const struct {
		const char *key, *what;
	} counts[] = {
		{ "http1MaxPendingRequests", "http1 max pending requests" },
		{ "http2MaxRequests", "http2 max requests" },
		{ "maxRequestsPerConnection", "max requests per connection" },
		{ "maxRetries", "max retries" },
		{ "maxConcurrentStreams", "max concurrent streams" },
	};
	static const char *const upgrade[] = { "DEFAULT", "DO_NOT_UPGRADE", "UPGRADE", NULL };
	static const char *const ka_fields[] = { "interval", "timeout", NULL };
	const struct ynode *ka;
	bool client = false;
	int64_t v, ns;
	size_t i;
	int h2;

	ld_unknown_fields(ld, http, fields);
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		ld_nonneg_int32(ld, http, counts[i].key, counts[i].what, &v);
	ld_duration(ld, http, "idleTimeout", LD_DUR_ISTIO, &ns);
	h2 = ld_enum(ld, http, "h2UpgradePolicy", upgrade, "h2UpgradePolicy");
	if (ld_bool(ld, http, "useClientProtocol", &client) && client && h2 == 2) {
		/* Istio names no field: a Sidecar's says it at the policy */
		const char *at = sidecar ? "h2UpgradePolicy" : "useClientProtocol";
		size_t mark = yr_key(&ld->r, at);

		yr_err(&ld->r, ymap_get(http, at),
		       "use client protocol must not be true when H2UpgradePolicy is UPGRADE");
		yr_pop(&ld->r, mark);
	}
	ka = yr_get(&ld->r, http, "http2KeepAlive", YNODE_MAP);
	if (ka != NULL) {
		size_t mark = yr_key(&ld->r, "http2KeepAlive");

		ld_unknown_fields(ld, ka, ka_fields);
		ld_duration(ld, ka, "interval", LD_DUR_DECODE, &ns);
		ld_duration(ld, ka, "timeout", LD_DUR_DECODE, &ns);
		yr_pop(&ld->r, mark);
	}
}

void
ld_connection_pool(struct ld *ld, const struct ynode *pool, struct dr_settings *st)
{
	static const char *const fields[] = { "tcp", "http", NULL };
	const struct ynode *tcp, *http;

	ld_unknown_fields(ld, pool, fields);
	if (ymap_opt(pool, "tcp") == NULL && ymap_opt(pool, "http") == NULL) {
		yr_err(&ld->r, pool, "connection pool must have at least one field");
		return;
	}
	if (st != NULL)
		ld_unhonoured(ld, pool, "http",
			      "HTTP connection pool settings need an L7 "
			      "proxy; ignored");
	http = yr_get(&ld->r, pool, "http", YNODE_MAP);
	if (http != NULL) {
		size_t m2 = yr_key(&ld->r, "http");

		pool_http(ld, http, st == NULL);
		yr_pop(&ld->r, m2);
	}
	tcp = yr_get(&ld->r, pool, "tcp", YNODE_MAP);
	if (tcp != NULL) {
		size_t m2 = yr_key(&ld->r, "tcp");

		pool_tcp(ld, tcp, st);
		yr_pop(&ld->r, m2);
	}
}

/* Is s (may be NULL) one of list (NULL-terminated)? */
bool
istio_in_list(const char *s, const char *const *list)
{
	for (; s != NULL && *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}
