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
	"mode", "httpsRedirect", "serverCertificate", "privateKey", "caCertificates",
	"caCrl", "credentialName", "credentialNames", "subjectAltNames",
	"verifyCertificateSpki", "verifyCertificateHash", "minProtocolVersion",
	"maxProtocolVersion", "cipherSuites", "tlsCertificates", NULL,
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
	const struct ynode *seq = ld_get(ld, sm, "hosts", YNODE_SEQ);
	size_t i, mark = path_key(ld, "hosts");
	char err[MSG_MAX];

	if (seq == NULL || seq->n == 0) {
		if (seq != NULL || ld_absent(sm, "hosts"))
			ld_err(ld, seq != NULL ? seq : sm,
			       "server config must contain at least one host");
		path_pop(ld, mark);
		return;
	}
	s->hosts = ld_calloc(ld, seq->n, sizeof(*s->hosts));
	for (i = 0; s->hosts != NULL && i < seq->n; i++) {
		const struct ynode *n = seq->items[i];
		size_t m2 = path_idx(ld, i);
		const char *h = ld_str(ld, n), *slash;

		if (h == NULL) {
			path_pop(ld, m2);
			continue;
		}
		slash = strchr(h, '/');
		if (slash != NULL) {
			size_t nl = (size_t)(slash - h);

			if (!(nl == 1 && (h[0] == '*' || h[0] == '.')) &&
			    !is_dns1123_label(h, nl)) {
				char ns[QUOTE_MAX + 1];

				snprintf(ns, sizeof(ns), "%.*s", (int)nl, h);
				ld_err(ld, n, "invalid namespace %s in host %s (want \".\", \"*\" "
				       "or a namespace)", q(ld, ns), q(ld, ynode_str(n)));
			}
			h = slash + 1;
		}
		if (strcmp(h, "*") != 0 && !check_wildcard_domain(ld, h, err, sizeof(err)))
			ld_err(ld, n, "%s", err);
		s->hosts[s->n_hosts++] = ld_strdup(ld, ynode_str(n));
		path_pop(ld, m2);
	}
	path_pop(ld, mark);
}

static void
gw_server_port(struct ld *ld, const struct ynode *sm, struct gw_server *s,
	       const struct proto_info **pi)
{
	const struct ynode *pm = ld_get(ld, sm, "port", YNODE_MAP);
	const struct ynode *nn, *pn;
	const char *name, *proto;
	size_t mark = path_key(ld, "port");
	long num;

	*pi = NULL;
	if (pm == NULL) {
		if (ld_absent(sm, "port"))
			ld_err(ld, sm, "port is required");
		path_pop(ld, mark);
		return;
	}
	ld_unknown_fields(ld, pm, gw_port_fields);
	num = ld_port_number(ld, pm, "number", "port number");
	s->port = num > 0 ? (uint32_t)num : 0;
	if (num == 0 && ld_absent(pm, "number")) {
		size_t m2 = path_key(ld, "number");

		ld_err(ld, pm, "required field missing");
		path_pop(ld, m2);
	}
	ld_port_number(ld, pm, "targetPort", "targetPort");
	if (ymap_key(pm, "targetPort") != NULL)
		ld_unhonoured(ld, pm, "targetPort", "a Gateway's targetPort is a listener "
			      "detail of Envoy; ignored");

	name = ld_get_str(ld, pm, "name", &nn);
	if (name == NULL || name[0] == '\0') {
		size_t m2 = path_key(ld, "name");

		ld_err(ld, nn != NULL ? nn : pm, "port name must be set");
		path_pop(ld, m2);
	}
	s->port_name = ld_strdup(ld, name);

	proto = ld_get_str(ld, pm, "protocol", &pn);
	if (proto == NULL || proto[0] == '\0') {
		size_t m2 = path_key(ld, "protocol");

		ld_err(ld, pn != NULL ? pn : pm, "invalid protocol %s, supported protocols are "
		       PROTOCOL_LIST, q(ld, ""));
		path_pop(ld, m2);
	} else if ((*pi = proto_find(proto)) == NULL) {
		size_t m2 = path_key(ld, "protocol");

		ld_err(ld, pn, "invalid protocol %s, supported protocols are " PROTOCOL_LIST,
		       q(ld, proto));
		path_pop(ld, m2);
	}
	s->protocol = ld_strdup_upper(ld, proto);
	path_pop(ld, mark);
}

/* tls.mode: only what passes TLS through untouched fits an L4 gateway. */
static void
gw_server_tls(struct ld *ld, const struct ynode *tls, struct gw_server *s)
{
	const struct ynode *mn;
	const char *mode = ld_get_str(ld, tls, "mode", &mn);
	size_t mark;

	ld_unknown_fields(ld, tls, gw_tls_fields);
	/* the protobuf default (0) is PASSTHROUGH */
	if (mode == NULL)
		mode = "PASSTHROUGH";
	s->tls_mode = ld_strdup(ld, mode);
	mark = path_key(ld, "mode");
	if (strcmp(mode, "PASSTHROUGH") == 0 || strcmp(mode, "AUTO_PASSTHROUGH") == 0) {
		/* accepted: forwarded as plain TCP */
	} else if (strcmp(mode, "SIMPLE") == 0 || strcmp(mode, "MUTUAL") == 0 ||
		   strcmp(mode, "ISTIO_MUTUAL") == 0 || strcmp(mode, "OPTIONAL_MUTUAL") == 0) {
		ld_err(ld, mn, "tls mode %s terminates TLS at the gateway, which an L4 gateway "
		       "cannot do (use PASSTHROUGH or AUTO_PASSTHROUGH)", mode);
	} else {
		ld_err(ld, mn, "invalid tls mode %s (want PASSTHROUGH or AUTO_PASSTHROUGH)",
		       q(ld, mode));
	}
	path_pop(ld, mark);
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
		"serverCertificate", "privateKey", "caCertificates", NULL,
	};
	bool passthrough = s->tls_mode != NULL && strstr(s->tls_mode, "PASSTHROUGH") != NULL;
	size_t mark = path_key(ld, "tls"), i;
	bool has_certs = false;

	for (i = 0; certs[i] != NULL; i++)
		has_certs = has_certs || !ld_absent(tls, certs[i]);
	if (pi != NULL && pi->http && (!passthrough || has_certs))
		ld_err(ld, tls, "server cannot have TLS settings for plain text HTTP ports");
	else if (pi != NULL && !pi->http && !pi->tls)
		ld_err(ld, tls, "server cannot have TLS settings for non HTTPS/TLS ports");
	path_pop(ld, mark);
	if (ymap_key(tls, "httpsRedirect") != NULL) {
		mark = path_key(ld, "tls");
		ld_unhonoured(ld, tls, "httpsRedirect", "an HTTP redirect needs an L7 proxy; "
			      "ignored");
		path_pop(ld, mark);
	}
}

static void
gw_servers(struct ld *ld, const struct ynode *spec, struct gateway *gw)
{
	const struct ynode *seq = ld_get(ld, spec, "servers", YNODE_SEQ);
	size_t i, j, mark = path_key(ld, "servers");

	if (seq == NULL || seq->n == 0) {
		if (seq != NULL || ld_absent(spec, "servers"))
			ld_err(ld, seq != NULL ? seq : spec,
			       "gateway must have at least one server");
		path_pop(ld, mark);
		return;
	}
	gw->servers = ld_calloc(ld, seq->n, sizeof(*gw->servers));
	for (i = 0; gw->servers != NULL && i < seq->n; i++) {
		const struct ynode *sm = seq->items[i];
		const struct ynode *tls;
		const struct proto_info *pi;
		struct gw_server *s;
		size_t m2 = path_idx(ld, i);

		if (sm->type != YNODE_MAP) {
			ld_err(ld, sm, "expected a mapping, got %s", ydescribe(ld, sm));
			path_pop(ld, m2);
			continue;
		}
		s = &gw->servers[gw->n_servers++];
		s->pos = ld_pos(ld, sm);
		ld_unknown_fields(ld, sm, gw_server_fields);
		gw_server_port(ld, sm, s, &pi);
		gw_server_hosts(ld, sm, s);
		if (ymap_key(sm, "bind") != NULL)
			ld_unhonoured(ld, sm, "bind", "the appliance listens on its inside port; "
				      "ignored");
		if (ymap_key(sm, "defaultEndpoint") != NULL)
			ld_unhonoured(ld, sm, "defaultEndpoint", "not used by an L4 gateway; "
				      "ignored");
		tls = ld_get(ld, sm, "tls", YNODE_MAP);
		if (tls != NULL) {
			size_t m3 = path_key(ld, "tls");

			gw_server_tls(ld, tls, s);
			path_pop(ld, m3);
		}
		if (tls != NULL)
			gw_check_tls_pairing(ld, tls, s, pi);
		else if (pi != NULL && pi->tls)
			ld_err(ld, sm, "server must have TLS settings for HTTPS/TLS protocols");
		for (j = 0; s->port_name != NULL && s->port_name[0] != '\0' &&
			    j + 1 < gw->n_servers; j++) {
			if (gw->servers[j].port_name != NULL &&
			    strcmp(gw->servers[j].port_name, s->port_name) == 0) {
				const struct ynode *pm = ymap_get(sm, "port");
				size_t m3 = path_key(ld, "port.name");

				ld_err(ld, ymap_get(pm, "name"), "port names in servers must be "
				       "unique: duplicate name %s", s->port_name);
				path_pop(ld, m3);
				break;
			}
		}
		path_pop(ld, m2);
	}
	path_pop(ld, mark);
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
		mark = path_key(ld, "metadata.name");
		ld_err(ld, md->name_node, "invalid gateway name: %s", q(ld, md->name));
		path_pop(ld, mark);
	}

	mark = path_key(ld, "spec");
	ld_unknown_fields(ld, spec, gw_spec_fields);
	sel = ld_get(ld, spec, "selector", YNODE_MAP);
	if (sel != NULL && sel->n > 0) {
		size_t m2 = path_key(ld, "selector");

		gw.selector = ld_calloc(ld, sel->n, sizeof(*gw.selector));
		if (gw.selector != NULL)
			ld_string_map(ld, sel, gw_add_label, &gw);
		path_pop(ld, m2);
	}
	gw_servers(ld, spec, &gw);
	path_pop(ld, mark);
	gw.selects_us = labels_select(ld->cfg, gw.selector, gw.n_selector);
	model_add_gw(ld, &gw);
}
