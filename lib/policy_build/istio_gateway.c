/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Gateway: its selector (does it pick this appliance?) and servers: port,
 * protocol, hosts and TLS mode, where only what passes TLS through untouched
 * fits an L4 gateway.
 *
 * Control thread only.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "istio_private.h"

static const char *const gw_spec_fields[] = { "selector", "servers", NULL };
static const char *const gw_server_fields[] = {
	"port", "hosts", "tls", "bind", "defaultEndpoint", "name", NULL,
};
static const char *const gw_port_fields[] = {
	"number", "protocol", "name", "targetPort", NULL,
};
static const char *const gw_tls_fields[] = {
	"mode",
	"httpsRedirect",
	"serverCertificate",
	"privateKey",
	"caCertificates",
	"caCrl",
	"credentialName",
	"credentialNames",
	"subjectAltNames",
	"verifyCertificateSpki",
	"verifyCertificateHash",
	"minProtocolVersion",
	"maxProtocolVersion",
	"cipherSuites",
	"tlsCertificates",
	NULL,
};

static void
gw_add_label(struct ld *ld, const char *k, const char *v, void *arg)
{
	struct gateway *gw = arg;
	struct egress_label *l = &gw->selector[gw->n_selector++];

	l->key = ld_strdup(ld, k);
	l->value = ld_strdup(ld, v);
}

/* Server hosts: "host" or "namespace/host"; host may be "*" or "*.suffix". */
static void
gw_server_hosts(struct ld *ld, const struct ynode *sm, struct gw_server *s)
{
	const struct ynode *seq = yr_get(&ld->r, sm, "hosts", YNODE_SEQ);
	size_t i, mark = yr_key(&ld->r, "hosts");
	char err[MSG_MAX];

	if (seq == NULL || seq->n == 0) {
		if (seq != NULL || ymap_opt(sm, "hosts") == NULL)
			yr_err(&ld->r, seq != NULL ? seq : sm,
			       "server config must contain at least one host");
		yr_pop(&ld->r, mark);
		return;
	}
	s->hosts = ld_calloc(ld, seq->n, sizeof(*s->hosts));
	for (i = 0; s->hosts != NULL && i < seq->n; i++) {
		const struct ynode *n = seq->items[i];
		size_t m2 = yr_idx(&ld->r, i);
		const char *h = yr_str(&ld->r, n), *slash;

		if (h == NULL) {
			yr_pop(&ld->r, m2);
			continue;
		}
		slash = strchr(h, '/');
		if (slash != NULL) {
			size_t nl = (size_t)(slash - h);

			if (!(nl == 1 && (h[0] == '*' || h[0] == '.')) &&
			    !istio_dns1123_label(h, nl)) {
				char ns[QUOTE_MAX + 1];

				snprintf(ns, sizeof(ns), "%.*s", (int)nl, h);
				yr_err(&ld->r, n,
				       "invalid namespace %s in host %s (want \".\", "
				       "\"*\" or a namespace)",
				       yr_quote(&ld->r, ns), yr_quote(&ld->r, ynode_str(n)));
			}
			h = slash + 1;
		}
		if (strcmp(h, "*") != 0 && !ld_check_wildcard_domain(ld, h, err, sizeof(err)))
			yr_err(&ld->r, n, "%s", err);
		s->hosts[s->n_hosts++] = ld_strdup(ld, ynode_str(n));
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

static void
gw_server_port(struct ld *ld, const struct ynode *sm, struct gw_server *s,
	       const struct proto_info **pi)
{
	const struct ynode *pm = yr_get(&ld->r, sm, "port", YNODE_MAP);
	const struct ynode *nn, *pn;
	const char *name, *proto;
	size_t mark = yr_key(&ld->r, "port");
	long num;

	*pi = NULL;
	if (pm == NULL) {
		if (ymap_opt(sm, "port") == NULL)
			yr_err(&ld->r, sm, "port is required");
		yr_pop(&ld->r, mark);
		return;
	}
	ld_unknown_fields(ld, pm, gw_port_fields);
	num = ld_port_number(ld, pm, "number", "port number");
	s->port = num > 0 ? (uint32_t)num : 0;
	if (num == 0 && ymap_opt(pm, "number") == NULL) {
		size_t m2 = yr_key(&ld->r, "number");

		yr_err(&ld->r, pm, "required field missing");
		yr_pop(&ld->r, m2);
	}
	ld_port_number(ld, pm, "targetPort", "targetPort");
	if (ymap_key(pm, "targetPort") != NULL)
		ld_unhonoured(ld, pm, "targetPort",
			      "a Gateway's targetPort is a listener "
			      "detail of Envoy; ignored");

	name = yr_get_str(&ld->r, pm, "name", &nn);
	if (name == NULL || name[0] == '\0') {
		size_t m2 = yr_key(&ld->r, "name");

		yr_err(&ld->r, nn != NULL ? nn : pm, "port name must be set");
		yr_pop(&ld->r, m2);
	}
	s->port_name = ld_strdup(ld, name);

	proto = yr_get_str(&ld->r, pm, "protocol", &pn);
	if (proto == NULL || proto[0] == '\0') {
		size_t m2 = yr_key(&ld->r, "protocol");

		yr_err(&ld->r, pn != NULL ? pn : pm,
		       "invalid protocol %s, supported protocols "
		       "are " PROTOCOL_LIST,
		       yr_quote(&ld->r, ""));
		yr_pop(&ld->r, m2);
	} else if ((*pi = istio_proto_find(proto)) == NULL) {
		size_t m2 = yr_key(&ld->r, "protocol");

		yr_err(&ld->r, pn, "invalid protocol %s, supported protocols are " PROTOCOL_LIST,
		       yr_quote(&ld->r, proto));
		yr_pop(&ld->r, m2);
	}
	s->protocol = ld_strdup_upper(ld, proto);
	yr_pop(&ld->r, mark);
}

/* tls.mode: only what passes TLS through untouched fits an L4 gateway. */
static void
gw_server_tls(struct ld *ld, const struct ynode *tls, struct gw_server *s)
{
	const struct ynode *mn;
	const char *mode = yr_get_str(&ld->r, tls, "mode", &mn);
	size_t mark;

	ld_unknown_fields(ld, tls, gw_tls_fields);
	/* the protobuf default (0) is PASSTHROUGH */
	if (mode == NULL)
		mode = "PASSTHROUGH";
	s->tls_mode = ld_strdup(ld, mode);
	mark = yr_key(&ld->r, "mode");
	if (strcmp(mode, "PASSTHROUGH") == 0 || strcmp(mode, "AUTO_PASSTHROUGH") == 0) {
		/* accepted: forwarded as plain TCP */
	} else if (strcmp(mode, "SIMPLE") == 0 || strcmp(mode, "MUTUAL") == 0 ||
		   strcmp(mode, "ISTIO_MUTUAL") == 0 || strcmp(mode, "OPTIONAL_MUTUAL") == 0) {
		yr_err(&ld->r, mn,
		       "tls mode %s terminates TLS at the gateway, which an L4 gateway "
		       "cannot do (use PASSTHROUGH or AUTO_PASSTHROUGH)",
		       mode);
	} else {
		yr_err(&ld->r, mn, "invalid tls mode %s (want PASSTHROUGH or AUTO_PASSTHROUGH)",
		       yr_quote(&ld->r, mode));
	}
	yr_pop(&ld->r, mark);
}

/*
 * Istio's pairing of port protocol and TLS settings: a plain HTTP server may
 * carry only a passthrough block (httpsRedirect), other non-TLS ports none.
 */
static void
gw_check_tls_pairing(struct ld *ld, const struct ynode *tls, const struct gw_server *s,
		     const struct proto_info *pi)
{
	static const char *const certs[] = {
		"serverCertificate",
		"privateKey",
		"caCertificates",
		NULL,
	};
	bool passthrough = s->tls_mode != NULL && strstr(s->tls_mode, "PASSTHROUGH") != NULL;
	size_t mark = yr_key(&ld->r, "tls"), i;
	bool has_certs = false;

	for (i = 0; certs[i] != NULL; i++)
		has_certs = has_certs || ymap_opt(tls, certs[i]) != NULL;
	if (pi != NULL && pi->http && (!passthrough || has_certs))
		yr_err(&ld->r, tls, "server cannot have TLS settings for plain text HTTP ports");
	else if (pi != NULL && !pi->http && !pi->tls)
		yr_err(&ld->r, tls, "server cannot have TLS settings for non HTTPS/TLS ports");
	yr_pop(&ld->r, mark);
	if (ymap_key(tls, "httpsRedirect") != NULL) {
		mark = yr_key(&ld->r, "tls");
		ld_unhonoured(ld, tls, "httpsRedirect",
			      "an HTTP redirect needs an L7 proxy; "
			      "ignored");
		yr_pop(&ld->r, mark);
	}
}

static void
gw_servers(struct ld *ld, const struct ynode *spec, struct gateway *gw)
{
	const struct ynode *seq = yr_get(&ld->r, spec, "servers", YNODE_SEQ);
	size_t i, j, mark = yr_key(&ld->r, "servers");

	if (seq == NULL || seq->n == 0) {
		if (seq != NULL || ymap_opt(spec, "servers") == NULL)
			yr_err(&ld->r, seq != NULL ? seq : spec,
			       "gateway must have at least one server");
		yr_pop(&ld->r, mark);
		return;
	}
	gw->servers = ld_calloc(ld, seq->n, sizeof(*gw->servers));
	for (i = 0; gw->servers != NULL && i < seq->n; i++) {
		const struct ynode *sm = seq->items[i];
		const struct ynode *tls;
		const struct proto_info *pi;
		struct gw_server *s;
		size_t m2 = yr_idx(&ld->r, i);

		if (sm->type != YNODE_MAP) {
			yr_err(&ld->r, sm, "expected a mapping, got %s", yr_describe(&ld->r, sm));
			yr_pop(&ld->r, m2);
			continue;
		}
		s = &gw->servers[gw->n_servers++];
		s->pos = ld_pos(ld, sm);
		ld_unknown_fields(ld, sm, gw_server_fields);
		gw_server_port(ld, sm, s, &pi);
		gw_server_hosts(ld, sm, s);
		if (ymap_key(sm, "bind") != NULL)
			ld_unhonoured(ld, sm, "bind",
				      "the appliance listens on its inside port; "
				      "ignored");
		if (ymap_key(sm, "defaultEndpoint") != NULL)
			ld_unhonoured(ld, sm, "defaultEndpoint",
				      "not used by an L4 gateway; "
				      "ignored");
		tls = yr_get(&ld->r, sm, "tls", YNODE_MAP);
		if (tls != NULL) {
			size_t m3 = yr_key(&ld->r, "tls");

			gw_server_tls(ld, tls, s);
			yr_pop(&ld->r, m3);
		}
		if (tls != NULL)
			gw_check_tls_pairing(ld, tls, s, pi);
		else if (pi != NULL && pi->tls)
			yr_err(&ld->r, sm, "server must have TLS settings for HTTPS/TLS protocols");
		for (j = 0;
		     s->port_name != NULL && s->port_name[0] != '\0' && j + 1 < gw->n_servers;
		     j++) {
			if (gw->servers[j].port_name != NULL &&
			    strcmp(gw->servers[j].port_name, s->port_name) == 0) {
				const struct ynode *pm = ymap_get(sm, "port");
				size_t m3 = yr_key(&ld->r, "port.name");

				yr_err(&ld->r, ymap_get(pm, "name"),
				       "port names in servers must "
				       "be unique: duplicate name %s",
				       s->port_name);
				yr_pop(&ld->r, m3);
				break;
			}
		}
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

void
load_gateway(struct ld *ld, const struct meta *md, const struct ynode *spec)
{
	struct gateway gw = { 0 };
	const struct ynode *sel;
	size_t mark;

	gw.name = ld_strdup(ld, md->name);
	gw.ns = ld_strdup(ld, md->ns);
	gw.pos = ld_pos(ld, md->name_node);
	/* Gateway names must be DNS labels: no dots (Istio). */
	if (strchr(md->name, '.') != NULL) {
		mark = yr_key(&ld->r, "metadata.name");
		yr_err(&ld->r, md->name_node, "invalid gateway name: %s",
		       yr_quote(&ld->r, md->name));
		yr_pop(&ld->r, mark);
	}

	mark = yr_key(&ld->r, "spec");
	ld_unknown_fields(ld, spec, gw_spec_fields);
	sel = yr_get(&ld->r, spec, "selector", YNODE_MAP);
	if (sel != NULL && sel->n > 0) {
		size_t m2 = yr_key(&ld->r, "selector");

		gw.selector = ld_calloc(ld, sel->n, sizeof(*gw.selector));
		if (gw.selector != NULL)
			ld_string_map(ld, sel, gw_add_label, &gw);
		yr_pop(&ld->r, m2);
	}
	gw_servers(ld, spec, &gw);
	yr_pop(&ld->r, mark);
	gw.selects_us = istio_labels_select(ld->cfg, gw.selector, gw.n_selector);
	model_add_gw(ld, &gw);
}
