/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Gateway: its selector (does it pick this appliance?) and servers: port,
 * bind, hosts and TLS settings, validated as Istio's ValidateGateway() does
 * (pkg/config/validation/validation.go). Only the servers of a Gateway that
 * selects the appliance mean anything here, and of their TLS settings only
 * what passes TLS through untouched fits an L4 gateway.
 *
 * Control thread only.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "istio_private.h"

/* What kubectl's Istio converts a Kubernetes Gateway API resource with. */
#define GW_SEMANTICS_KEY   "internal.istio.io/gateway-semantics"
#define GW_SEMANTICS_VALUE "gateway"

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
static const char *const gw_tls_modes[] = {
	"PASSTHROUGH",  "SIMPLE",          "MUTUAL", "AUTO_PASSTHROUGH",
	"ISTIO_MUTUAL", "OPTIONAL_MUTUAL", NULL,
};
static const char *const gw_tls_versions[] = {
	"TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3", NULL,
};

static void
gw_add_label(struct ld *ld, const char *k, const char *v, void *arg)
{
	struct gateway *gw = arg;
	struct egress_label *l = &gw->selector[gw->n_selector++];

	l->key = ld_strdup(ld, k);
	l->value = ld_strdup(ld, v);
}

static bool
in_list(const char *s, const char *const *list)
{
	for (; s != NULL && *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------------ */
/* ServerTLSSettings: Istio's validateTLSOptions()                      */

/* A string field of the TLS settings: set when present and not "" (proto3). */
static bool
tls_str(struct ld *ld, const struct ynode *map, const char *key)
{
	const char *s = yr_get_str(&ld->r, map, key, NULL);

	return s != NULL && s[0] != '\0';
}

/* A list of strings: @return how many items it has (0 when absent). */
static size_t
tls_list(struct ld *ld, const struct ynode *map, const char *key)
{
	const struct ynode *seq = yr_get(&ld->r, map, key, YNODE_SEQ);
	size_t i, mark;

	if (seq == NULL)
		return 0;
	mark = yr_key(&ld->r, key);
	for (i = 0; i < seq->n; i++) {
		size_t m2 = yr_idx(&ld->r, i);

		yr_str(&ld->r, seq->items[i]);
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
	return seq->n;
}

/* An enum field (minProtocolVersion...): one of names, else an error. */
static const char *
tls_enum(struct ld *ld, const struct ynode *map, const char *key, const char *const *names,
	 const char *want)
{
	const struct ynode *n;
	const char *s = yr_get_str(&ld->r, map, key, &n);

	if (s != NULL && !in_list(s, names)) {
		size_t mark = yr_key(&ld->r, key);

		yr_err(&ld->r, n, "invalid %s %s (want %s)", key, yr_quote(&ld->r, s), want);
		yr_pop(&ld->r, mark);
		return NULL;
	}
	return s;
}

/*
 * tlsCertificates: each a server certificate and its key (and a CA bundle).
 * prefix non-NULL: the mode needs both, "PREFIX requires a ..." otherwise.
 */
static void
tls_certificates(struct ld *ld, const struct ynode *seq, const char *prefix)
{
	static const char *const fields[] = {
		"serverCertificate",
		"privateKey",
		"caCertificates",
		NULL,
	};
	size_t i, mark = yr_key(&ld->r, "tlsCertificates");

	for (i = 0; i < seq->n; i++) {
		const struct ynode *c = seq->items[i];
		size_t m2 = yr_idx(&ld->r, i);

		if (c->type != YNODE_MAP) {
			yr_err(&ld->r, c, "expected a mapping, got %s", yr_describe(&ld->r, c));
		} else {
			bool cert = tls_str(ld, c, "serverCertificate");
			bool key = tls_str(ld, c, "privateKey");

			ld_unknown_fields(ld, c, fields);
			tls_str(ld, c, "caCertificates");
			if (prefix != NULL && !cert)
				yr_err(&ld->r, c, "%s requires a server certificate", prefix);
			if (prefix != NULL && !key)
				yr_err(&ld->r, c, "%s requires a private key", prefix);
		}
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

/*
 * Istio's validateTLSOptions() of a server's tls (the path names it), and
 * what it says for the caller: the mode (the protobuf default PASSTHROUGH
 * when absent) and the fields a Sidecar's ingress listener refuses.
 */
void
ld_server_tls(struct ld *ld, const struct ynode *tls, struct server_tls *out)
{
	const struct ynode *mn, *certs = yr_get(&ld->r, tls, "tlsCertificates", YNODE_SEQ);
	const struct ynode *rn = ymap_opt(tls, "httpsRedirect");
	const char *mode = yr_get_str(&ld->r, tls, "mode", &mn), *minv, *prefix = NULL;
	bool cert, key, ca, crl, cred, simple, mutual, passthrough;
	size_t n_creds, n_ciphers, n_certs = certs != NULL ? certs->n : 0, mark;
	unsigned int sources;

	memset(out, 0, sizeof(*out));
	ld_unknown_fields(ld, tls, gw_tls_fields);
	out->mode = mode != NULL ? mode : "PASSTHROUGH";
	out->known_mode = in_list(out->mode, gw_tls_modes);
	if (!out->known_mode) {
		mark = yr_key(&ld->r, "mode");
		yr_err(&ld->r, mn,
		       "invalid tls mode %s (want PASSTHROUGH, SIMPLE, MUTUAL, "
		       "AUTO_PASSTHROUGH, ISTIO_MUTUAL or OPTIONAL_MUTUAL)",
		       yr_quote(&ld->r, mode));
		yr_pop(&ld->r, mark);
	}
	if (rn != NULL) {
		mark = yr_key(&ld->r, "httpsRedirect");
		if (yr_bool(&ld->r, rn, &out->https_redirect) < 0)
			out->https_redirect = false;
		yr_pop(&ld->r, mark);
	}
	cert = tls_str(ld, tls, "serverCertificate");
	key = tls_str(ld, tls, "privateKey");
	ca = tls_str(ld, tls, "caCertificates");
	crl = tls_str(ld, tls, "caCrl");
	cred = tls_str(ld, tls, "credentialName");
	n_creds = tls_list(ld, tls, "credentialNames");
	out->has_san = tls_list(ld, tls, "subjectAltNames") > 0;
	tls_list(ld, tls, "verifyCertificateSpki");
	tls_list(ld, tls, "verifyCertificateHash");
	n_ciphers = tls_list(ld, tls, "cipherSuites");
	minv = tls_enum(ld, tls, "minProtocolVersion", gw_tls_versions,
			"TLS_AUTO, TLSV1_0, TLSV1_1, TLSV1_2 or TLSV1_3");
	tls_enum(ld, tls, "maxProtocolVersion", gw_tls_versions,
		 "TLS_AUTO, TLSV1_0, TLSV1_1, TLSV1_2 or TLSV1_3");
	out->has_credential_name = cred;
	out->has_credential_names = n_creds > 0;
	out->has_tls_certificates = n_certs > 0;
	out->has_certs = cert || key || ca;
	if (minv != NULL && (strcmp(minv, "TLSV1_0") == 0 || strcmp(minv, "TLSV1_1") == 0) &&
	    n_ciphers == 0)
		yr_warn(&ld->r, tls,
			"TLS version below TLSV1_2 require setting compatible ciphers as by "
			"default they no longer include compatible ciphers.");

	if (strcmp(out->mode, "ISTIO_MUTUAL") == 0) {
		/* Istio's own certificates: nothing of the user's may come along */
		static const char *const keys[] = {
			"serverCertificate", "privateKey",     "caCertificates",
			"tlsCertificates",   "credentialName", "credentialNames",
		};
		static const char *const what[] = {
			"server certificate", "private key",    "CA bundle",
			"tlsCertificates",    "credentialName", "credentialNames",
		};
		const bool set[] = { cert, key, ca, n_certs > 0, cred, n_creds > 0 };
		size_t i;

		for (i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
			if (!set[i])
				continue;
			mark = yr_key(&ld->r, keys[i]);
			yr_err(&ld->r, ymap_get(tls, keys[i]),
			       "ISTIO_MUTUAL TLS cannot have associated %s", what[i]);
			yr_pop(&ld->r, mark);
		}
		if (certs != NULL)
			tls_certificates(ld, certs, NULL);
		return;
	}
	passthrough =
		strcmp(out->mode, "PASSTHROUGH") == 0 || strcmp(out->mode, "AUTO_PASSTHROUGH") == 0;
	if (passthrough && (crl || out->has_certs || n_certs > 0 || cred || n_creds > 0))
		yr_warn(&ld->r, tls, "%s mode does not use certificates, they will be ignored",
			out->mode);
	sources = (unsigned int)(cert && key) + (unsigned int)cred + (unsigned int)(n_creds > 0) +
		  (unsigned int)(n_certs > 0);
	if (sources > 1)
		yr_err(&ld->r, tls,
		       "only one of credential_name, credential_names, "
		       "server_certificate/private_key, tls_certificates should be specified");
	simple = strcmp(out->mode, "SIMPLE") == 0;
	mutual = strcmp(out->mode, "MUTUAL") == 0 || strcmp(out->mode, "OPTIONAL_MUTUAL") == 0;
	/* credentials fetched by name: no certificate is needed here */
	if ((simple || mutual) && (cred || n_creds > 0)) {
		if (certs != NULL)
			tls_certificates(ld, certs, NULL);
		return;
	}
	if (simple || mutual) {
		prefix = simple ? "SIMPLE TLS" : "MUTUAL TLS";
		if (mutual && !ca)
			yr_err(&ld->r, tls, "%s requires a client CA bundle", prefix);
		if (n_certs > 2)
			yr_warn(&ld->r, certs, "%s can support up to 2 server certificates",
				prefix);
		if (n_certs == 0 && !cert)
			yr_err(&ld->r, tls, "%s requires a server certificate", prefix);
		if (n_certs == 0 && !key)
			yr_err(&ld->r, tls, "%s requires a private key", prefix);
	}
	if (certs != NULL)
		tls_certificates(ld, certs, prefix);
	if (crl && cred)
		yr_err(&ld->r, tls,
		       "CRL is not supported with credentialName. CRL has to be "
		       "specified in the credential");
	if (crl && simple)
		yr_err(&ld->r, tls, "CRL is not supported with SIMPLE TLS");
}

/* ------------------------------------------------------------------ */
/* Servers: Istio's validateServer()                                    */

/* Server hosts: "host" or "namespace/host" (agent.ValidateNamespaceSlashWildcardHostname). */
static void
gw_server_hosts(struct ld *ld, const struct ynode *sm, struct gw_server *s, bool gw_semantics)
{
	const struct ynode *seq = yr_get(&ld->r, sm, "hosts", YNODE_SEQ);
	size_t i, mark = yr_key(&ld->r, "hosts");

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
		const char *h = yr_str(&ld->r, n);

		if (h == NULL) {
			if (ynode_is_null(n))
				yr_err(&ld->r, n, "empty domain name not allowed");
			yr_pop(&ld->r, m2);
			continue;
		}
		ld_istio_ns_host(ld, n, h, true, gw_semantics);
		s->hosts[s->n_hosts++] = ld_strdup(ld, h);
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

/*
 * Istio's validateServerPort(): a protocol Istio knows, a number in 1-65535
 * (0 with a unix:// bind), a name, no targetPort. *pi: the protocol, NULL
 * when unknown. @return true when the port is valid (Istio then pairs its
 * protocol with the TLS settings).
 */
static bool
gw_server_port(struct ld *ld, const struct ynode *sm, struct gw_server *s, bool unix_bind,
	       const struct proto_info **pi)
{
	const struct ynode *pm = yr_get(&ld->r, sm, "port", YNODE_MAP);
	const struct ynode *nn, *pn;
	const char *name, *proto;
	size_t errors = diag_errors(ld->r.dl), mark = yr_key(&ld->r, "port");
	int64_t num = 0;

	*pi = NULL;
	if (pm == NULL) {
		if (ymap_opt(sm, "port") == NULL)
			yr_err(&ld->r, sm, "port is required");
		yr_pop(&ld->r, mark);
		return false;
	}
	ld_unknown_fields(ld, pm, gw_port_fields);
	if (ld_int(ld, pm, "number", 0, UINT32_MAX, &num) && (num > 0 || !unix_bind) &&
	    (num < 1 || num > 65535)) {
		size_t m2 = yr_key(&ld->r, "number");

		yr_err(&ld->r, ymap_get(pm, "number"),
		       "port number %" PRId64 " must be in the range 1..65535", num);
		yr_pop(&ld->r, m2);
	} else if (ymap_opt(pm, "number") == NULL && !unix_bind) {
		size_t m2 = yr_key(&ld->r, "number");

		yr_err(&ld->r, pm, "required field missing");
		yr_pop(&ld->r, m2);
	}
	s->port = num > 0 && num <= 65535 ? (uint32_t)num : 0;
	if (ld_int(ld, pm, "targetPort", 0, UINT32_MAX, &num) && num > 0) {
		size_t m2 = yr_key(&ld->r, "targetPort");

		yr_err(&ld->r, ymap_get(pm, "targetPort"), "targetPort has no impact on Gateways");
		yr_pop(&ld->r, m2);
	}
	name = yr_get_str(&ld->r, pm, "name", &nn);
	if (name == NULL || name[0] == '\0') {
		size_t m2 = yr_key(&ld->r, "name");

		yr_err(&ld->r, nn != NULL ? nn : pm, "port name must be set");
		yr_pop(&ld->r, m2);
	}
	s->port_name = ld_strdup(ld, name != NULL ? name : "");
	proto = yr_get_str(&ld->r, pm, "protocol", &pn);
	if (proto == NULL || (*pi = istio_proto_find(proto)) == NULL) {
		size_t m2 = yr_key(&ld->r, "protocol");

		yr_err(&ld->r, pn != NULL ? pn : pm,
		       "invalid protocol %s, supported protocols are " PROTOCOL_LIST,
		       yr_quote(&ld->r, proto != NULL ? proto : ""));
		yr_pop(&ld->r, m2);
	}
	s->protocol = ld_strdup_upper(ld, proto);
	yr_pop(&ld->r, mark);
	return diag_errors(ld->r.dl) == errors;
}

/*
 * Istio's validateServerBind(): an IP address, or unix://PATH with port
 * number 0. ours: the Gateway selects this appliance.
 */
static void
gw_server_bind(struct ld *ld, const struct ynode *sm, bool ours)
{
	const struct ynode *bn, *pm = yr_get(&ld->r, sm, "port", YNODE_MAP);
	const char *bind = yr_get_str(&ld->r, sm, "bind", &bn), *path = istio_unix_path(bind);
	char err[MSG_MAX];
	int64_t num;
	size_t mark;

	if (bind == NULL || bind[0] == '\0')
		return;
	mark = yr_key(&ld->r, "bind");
	if (path != NULL) {
		if (!istio_unix_address(path, err, sizeof(err)))
			yr_err(&ld->r, bn, "%s", err);
		if (pm != NULL && ymap_opt(pm, "number") != NULL &&
		    yr_int(&ld->r, ymap_get(pm, "number"), &num) == 0 && num != 0)
			yr_err(&ld->r, bn, "port number must be 0 for unix domain socket");
		yr_pop(&ld->r, mark);
		return;
	}
	if (!istio_ip_address(bind))
		yr_err(&ld->r, bn, "%s is not a valid IP", yr_quote(&ld->r, bind));
	else if (ours)
		yr_warn(&ld->r, ymap_key(sm, "bind"),
			"the appliance listens on its inside port; ignored");
	yr_pop(&ld->r, mark);
}

/*
 * Istio's pairing of port protocol and TLS settings, made only of a valid
 * port: HTTPS and TLS need TLS settings, plain HTTP may carry only a
 * passthrough block (httpsRedirect), other ports none.
 */
static void
gw_check_tls_pairing(struct ld *ld, const struct ynode *sm, const struct ynode *tls,
		     const struct server_tls *st, const struct proto_info *pi)
{
	bool passthrough;
	size_t mark;

	if (pi->tls) {
		if (tls == NULL)
			yr_err(&ld->r, sm, "server must have TLS settings for HTTPS/TLS protocols");
		return;
	}
	if (tls == NULL)
		return;
	passthrough =
		strcmp(st->mode, "PASSTHROUGH") == 0 || strcmp(st->mode, "AUTO_PASSTHROUGH") == 0;
	mark = yr_key(&ld->r, "tls");
	if (pi->http && (!passthrough || st->has_certs))
		yr_err(&ld->r, tls, "server cannot have TLS settings for plain text HTTP ports");
	else if (!pi->http)
		yr_err(&ld->r, tls, "server cannot have TLS settings for non HTTPS/TLS ports");
	yr_pop(&ld->r, mark);
}

/* What an L4 gateway does with a server's TLS settings, when it selects us. */
static void
gw_tls_meaning(struct ld *ld, const struct ynode *tls, const struct server_tls *st,
	       const struct proto_info *pi)
{
	const struct ynode *mn = ymap_opt(tls, "mode");
	size_t mark = yr_key(&ld->r, mn != NULL ? "tls.mode" : "tls");

	if (st->known_mode && strcmp(st->mode, "PASSTHROUGH") != 0 &&
	    strcmp(st->mode, "AUTO_PASSTHROUGH") != 0)
		yr_warn(&ld->r, mn != NULL ? mn : tls,
			"tls mode %s terminates TLS at the gateway, which an L4 gateway "
			"cannot do: the flows of this server pass with their TLS untouched",
			st->mode);
	yr_pop(&ld->r, mark);
	mark = yr_key(&ld->r, "tls");
	if (st->https_redirect && pi != NULL && pi->http)
		ld_unhonoured(ld, tls, "httpsRedirect",
			      "an HTTP redirect needs an L7 proxy; "
			      "ignored");
	yr_pop(&ld->r, mark);
}

static void
gw_server(struct ld *ld, const struct ynode *sm, struct gateway *gw, struct gw_server *s,
	  bool gw_semantics)
{
	const struct ynode *tls = yr_get(&ld->r, sm, "tls", YNODE_MAP);
	const struct proto_info *pi;
	struct server_tls st = { .mode = "PASSTHROUGH" };
	bool unix_bind, port_ok;

	s->pos = ld_pos(ld, sm);
	ld_unknown_fields(ld, sm, gw_server_fields);
	/* the port's number may be 0 on a unix domain socket only */
	unix_bind = istio_unix_path(ynode_str(ymap_opt(sm, "bind"))) != NULL;
	port_ok = gw_server_port(ld, sm, s, unix_bind, &pi);
	gw_server_hosts(ld, sm, s, gw_semantics);
	gw_server_bind(ld, sm, gw->selects_us);
	if (gw->selects_us)
		ld_unhonoured(ld, sm, "defaultEndpoint",
			      "not used by an L4 gateway; "
			      "ignored");
	if (tls != NULL) {
		size_t mark = yr_key(&ld->r, "tls");

		ld_server_tls(ld, tls, &st);
		s->tls_mode = ld_strdup(ld, st.mode);
		yr_pop(&ld->r, mark);
	}
	if (port_ok && pi != NULL)
		gw_check_tls_pairing(ld, sm, tls, &st, pi);
	if (st.https_redirect && (pi == NULL || !pi->http)) {
		size_t mark = yr_key(&ld->r, "tls.httpsRedirect");

		yr_warn(&ld->r, ymap_key(tls, "httpsRedirect"),
			"tls.httpsRedirect should only be used with http servers");
		yr_pop(&ld->r, mark);
	}
	if (tls != NULL && gw->selects_us)
		gw_tls_meaning(ld, tls, &st, pi);
	if (unix_bind && gw->selects_us)
		yr_warn(&ld->r, sm,
			"a server on a unix domain socket takes no network traffic: "
			"nothing reaches it through this appliance");
}

static void
gw_servers(struct ld *ld, const struct ynode *spec, struct gateway *gw, bool gw_semantics)
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
		struct gw_server *s;
		size_t m2 = yr_idx(&ld->r, i);

		if (sm->type != YNODE_MAP) {
			if (ynode_is_null(sm))
				yr_err(&ld->r, sm, "server may not be nil");
			else
				yr_err(&ld->r, sm, "expected a mapping, got %s",
				       yr_describe(&ld->r, sm));
			yr_pop(&ld->r, m2);
			continue;
		}
		s = &gw->servers[gw->n_servers++];
		gw_server(ld, sm, gw, s, gw_semantics);
		/* Istio's map of names: an empty one counts too */
		for (j = 0;
		     s->port_name != NULL && ymap_opt(sm, "port") != NULL && j + 1 < gw->n_servers;
		     j++) {
			if (gw->servers[j].port_name != NULL &&
			    strcmp(gw->servers[j].port_name, s->port_name) == 0) {
				const struct ynode *pm = ymap_get(sm, "port");
				const struct ynode *nn = ymap_opt(pm, "name");
				size_t m3 = yr_key(&ld->r, "port.name");

				yr_err(&ld->r, nn != NULL ? nn : pm,
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

/* A Gateway Istio made from a Kubernetes Gateway API one: other name rules. */
static bool
gw_semantics(const struct meta *md)
{
	const struct ynode *v = ymap_opt(md->annotations, GW_SEMANTICS_KEY);

	return v != NULL && v->type == YNODE_SCALAR && strcmp(v->str, GW_SEMANTICS_VALUE) == 0;
}

void
load_gateway(struct ld *ld, const struct meta *md, const struct ynode *spec)
{
	struct gateway gw = { 0 };
	const struct ynode *sel;
	bool semantics = gw_semantics(md);
	size_t mark;

	gw.name = ld_strdup(ld, md->name);
	gw.ns = ld_strdup(ld, md->ns);
	gw.pos = ld_pos(ld, md->name_node);
	/* Gateway names must be DNS labels: no dots (Istio). */
	if (!semantics && istio_dns1123_subdomain(md->name) &&
	    !istio_label(md->name, strlen(md->name))) {
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
	/* before the servers: what they mean depends on it */
	gw.selects_us = istio_labels_select(ld->cfg, gw.selector, gw.n_selector);
	gw_servers(ld, spec, &gw, semantics);
	yr_pop(&ld->r, mark);
	model_add_gw(ld, &gw);
}
