/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sidecar: its workload selector and outboundTrafficPolicy, which overrides
 * policy.outbound when the Sidecar selects this appliance (compile.c).
 *
 * Control thread only.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "istio_private.h"

static const char *const sc_spec_fields[] = {
	"workloadSelector",      "ingress", "egress", "outboundTrafficPolicy",
	"inboundConnectionPool", NULL,
};
static const char *const sc_outbound_fields[] = { "mode", "egressProxy", NULL };

/* Istio's validateAlphaWorkloadSelector(), the labels kept for selection. */
static void
sc_selector(struct ld *ld, const struct ynode *spec, struct sidecar *sc)
{
	static const char *const fields[] = { "labels", NULL };
	const struct ynode *ws = yr_get(&ld->r, spec, "workloadSelector", YNODE_MAP);
	const struct ynode *lm;
	size_t i, mark;

	if (ws == NULL)
		return;
	sc->has_selector = true;
	mark = yr_key(&ld->r, "workloadSelector");
	ld_unknown_fields(ld, ws, fields);
	lm = yr_get(&ld->r, ws, "labels", YNODE_MAP);
	if (lm == NULL || lm->n == 0) {
		yr_warn(&ld->r, ws,
			"sidecar: workload selector specified without labels, will be "
			"applied to all services in namespace");
		sc->has_selector = false;
		yr_pop(&ld->r, mark);
		return;
	}
	yr_key(&ld->r, "labels");
	sc->selector = ld_calloc(ld, lm->n, sizeof(*sc->selector));
	for (i = 0; sc->selector != NULL && i < lm->n; i++) {
		const struct ynode *k = lm->items[2 * i], *v = lm->items[2 * i + 1];
		const char *ks = ynode_str(k), *vs = yr_str_opt(&ld->r, v);
		char kv[2 * QUOTE_MAX + 2];

		if (ks == NULL || vs == NULL) /* reported; or null, which the API server drops */
			continue;
		snprintf(kv, sizeof(kv), "%s=%s", ks, vs);
		if (ks[0] == '\0')
			yr_err(&ld->r, k, "empty key is not supported in selector: %s",
			       yr_quote(&ld->r, kv));
		if (strchr(ks, '*') != NULL || strchr(vs, '*') != NULL)
			yr_err(&ld->r, k, "wildcard is not supported in selector: %s",
			       yr_quote(&ld->r, kv));
		sc->selector[sc->n_selector].key = ld_strdup(ld, ks);
		sc->selector[sc->n_selector++].value = ld_strdup(ld, vs);
	}
	yr_pop(&ld->r, mark);
}

static void
sc_outbound(struct ld *ld, const struct ynode *ot, struct sidecar *sc)
{
	const struct ynode *mn, *ep;
	const char *mode;
	size_t mark = yr_key(&ld->r, "outboundTrafficPolicy");

	ld_unknown_fields(ld, ot, sc_outbound_fields);
	sc->has_outbound = true;
	sc->outbound_pos = ld_pos(ld, ot);
	/* the protobuf default (0) is REGISTRY_ONLY */
	sc->outbound = EGRESS_OUTBOUND_REGISTRY_ONLY;
	mode = yr_get_str(&ld->r, ot, "mode", &mn);
	if (mode != NULL) {
		size_t m2 = yr_key(&ld->r, "mode");

		sc->outbound_pos = ld_pos(ld, mn);
		if (strcmp(mode, "ALLOW_ANY") == 0) {
			sc->outbound = EGRESS_OUTBOUND_ALLOW_ANY;
		} else if (strcmp(mode, "REGISTRY_ONLY") != 0) {
			yr_err(&ld->r, mn,
			       "invalid outbound traffic policy mode %s (want "
			       "REGISTRY_ONLY or ALLOW_ANY)",
			       yr_quote(&ld->r, mode));
			sc->has_outbound = false;
		}
		yr_pop(&ld->r, m2);
	}
	ep = ymap_key(ot, "egressProxy");
	if (ep != NULL) {
		size_t m2 = yr_key(&ld->r, "egressProxy");

		if (sc->outbound != EGRESS_OUTBOUND_ALLOW_ANY)
			yr_err(&ld->r, ep,
			       "sidecar: egress_proxy must be set only with ALLOW_ANY "
			       "outbound_traffic_policy mode");
		else
			yr_warn(&ld->r, ep,
				"unregistered traffic keeps its original destination: "
				"an L4 gateway has no egress proxy to send it to; ignored");
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

void
load_sidecar(struct ld *ld, const struct meta *md, const struct ynode *spec)
{
	struct sidecar sc = { 0 };
	const struct ynode *egress, *ot;
	size_t i, mark;

	sc.name = ld_strdup(ld, md->name);
	sc.ns = ld_strdup(ld, md->ns);
	sc.pos = ld_pos(ld, md->name_node);

	mark = yr_key(&ld->r, "spec");
	ld_unknown_fields(ld, spec, sc_spec_fields);
	sc_selector(ld, spec, &sc);
	if (ymap_opt(spec, "egress") == NULL && ymap_opt(spec, "ingress") == NULL &&
	    ymap_opt(spec, "outboundTrafficPolicy") == NULL &&
	    ymap_opt(spec, "inboundConnectionPool") == NULL)
		yr_err(&ld->r, spec, "sidecar: empty configuration provided");
	egress = yr_get(&ld->r, spec, "egress", YNODE_SEQ);
	for (i = 0; egress != NULL && i < egress->n; i++) {
		const struct ynode *e = egress->items[i];
		const struct ynode *hosts = ymap_get(e, "hosts");
		size_t m2 = yr_push(&ld->r, ".egress[%zu]", i);

		if (e->type != YNODE_MAP)
			yr_err(&ld->r, e, "egress listener may not be null");
		else if (hosts == NULL || hosts->type != YNODE_SEQ || hosts->n == 0)
			yr_err(&ld->r, e,
			       "sidecar: egress listener must contain at least one "
			       "host");
		yr_pop(&ld->r, m2);
	}
	ld_unhonoured(ld, spec, "egress",
		      "egress listeners limit what a sidecar's workloads "
		      "see; an L4 gateway admits what its ServiceEntries list; ignored");
	ld_unhonoured(ld, spec, "ingress",
		      "ingress listeners configure a sidecar's inbound "
		      "side; ignored");
	ld_unhonoured(ld, spec, "inboundConnectionPool",
		      "configures a sidecar's inbound "
		      "side; ignored");
	ot = yr_get(&ld->r, spec, "outboundTrafficPolicy", YNODE_MAP);
	if (ot != NULL)
		sc_outbound(ld, ot, &sc);
	yr_pop(&ld->r, mark);
	sc.selects_us = istio_labels_select(ld->cfg, sc.selector, sc.n_selector);
	model_add_sidecar(ld, &sc);
}
