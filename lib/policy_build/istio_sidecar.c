/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Sidecar: its workload selector and outboundTrafficPolicy, which overrides
 * policy.outbound when the Sidecar selects this appliance (compile.c).
 *
 * Control thread only.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ------------------------------------------------------------------ */
/* Listeners and outboundTrafficPolicy: Istio's ValidateSidecar()      */

static const char *const sc_port_fields[] = { "number", "protocol", "name", "targetPort", NULL };
static const char *const sc_ingress_fields[] = {
	"port", "bind", "captureMode", "defaultEndpoint", "tls", "connectionPool", NULL,
};
static const char *const sc_egress_fields[] = { "port", "bind", "captureMode", "hosts", NULL };
static const char *const sc_capture_modes[] = { "DEFAULT", "IPTABLES", "NONE", NULL };
static const char *const sc_proxy_fields[] = { "host", "subset", "port", NULL };

/* What Istio reads of a listener's port (a SidecarPort), for the checks across listeners. */
struct sc_port {
	int64_t number; /* 0 when absent */
	const char *protocol;
	const struct proto_info *pi; /* NULL when absent or unknown */
};

/* An error at key of map (or at map when the key is absent), with the key on the path. */
static void
sc_err_at(struct ld *ld, const struct ynode *map, const char *key, const char *msg)
{
	const struct ynode *n = ymap_opt(map, key);
	size_t mark = yr_key(&ld->r, key);

	yr_err(&ld->r, n != NULL ? n : map, "%s", msg);
	yr_pop(&ld->r, mark);
}

/* An error at a listener's port.number. */
static void
sc_port_err(struct ld *ld, const struct ynode *pm, const char *msg)
{
	size_t mark = yr_key(&ld->r, "port");

	sc_err_at(ld, pm, "number", msg);
	yr_pop(&ld->r, mark);
}

/*
 * A SidecarPort: Istio's ValidatePortName() of a name given, ValidateProtocol()
 * (empty: sniffed) and, unless number_zero_ok, ValidatePort(); targetPort
 * has no meaning. *p: what was read.
 */
static void
sc_port(struct ld *ld, const struct ynode *pm, bool number_zero_ok, struct sc_port *p)
{
	const struct ynode *nn, *pn;
	const char *name;
	int64_t v;
	size_t mark = yr_key(&ld->r, "port");

	memset(p, 0, sizeof(*p));
	ld_unknown_fields(ld, pm, sc_port_fields);
	if (ld_int(ld, pm, "targetPort", 0, UINT32_MAX, &v) && v > 0)
		sc_err_at(ld, pm, "targetPort", "targetPort has no impact on Sidecars");
	name = yr_get_str(&ld->r, pm, "name", &nn);
	if (name != NULL && name[0] != '\0' && !istio_label(name, strlen(name))) {
		size_t m2 = yr_key(&ld->r, "name");

		yr_err(&ld->r, nn, "invalid port name: %s", yr_quote(&ld->r, name));
		yr_pop(&ld->r, m2);
	}
	p->protocol = yr_get_str(&ld->r, pm, "protocol", &pn);
	if (p->protocol != NULL && p->protocol[0] != '\0' &&
	    (p->pi = istio_proto_find(p->protocol)) == NULL) {
		size_t m2 = yr_key(&ld->r, "protocol");

		yr_err(&ld->r, pn, "unsupported protocol: %s", yr_quote(&ld->r, p->protocol));
		yr_pop(&ld->r, m2);
	}
	if (!ld_int(ld, pm, "number", 0, UINT32_MAX, &p->number))
		p->number = ymap_opt(pm, "number") == NULL ? 0 : -1;
	if (p->number >= 0 && !(number_zero_ok && p->number == 0) &&
	    (p->number < 1 || p->number > 65535)) {
		char msg[64];

		snprintf(msg, sizeof(msg), "port number %" PRId64 " must be in the range 1..65535",
			 p->number);
		sc_err_at(ld, pm, "number", msg);
	}
	yr_pop(&ld->r, mark);
}

/* A listener's bind: an IP address (Istio's ValidateIPAddress()); @return it. */
static const char *
sc_bind_ip(struct ld *ld, const struct ynode *l)
{
	const struct ynode *bn;
	const char *bind = yr_get_str(&ld->r, l, "bind", &bn);

	if (bind != NULL && bind[0] != '\0' && !istio_ip_address(bind)) {
		size_t mark = yr_key(&ld->r, "bind");

		yr_err(&ld->r, bn, "%s is not a valid IP", yr_quote(&ld->r, bind));
		yr_pop(&ld->r, mark);
	}
	return bind;
}

/* captureMode: DEFAULT, IPTABLES or NONE (the CRD's enum); @return it, or NULL. */
static const char *
sc_capture_mode(struct ld *ld, const struct ynode *l)
{
	const struct ynode *n;
	const char *m = yr_get_str(&ld->r, l, "captureMode", &n);
	size_t i;

	if (m == NULL)
		return NULL;
	for (i = 0; sc_capture_modes[i] != NULL; i++)
		if (strcmp(m, sc_capture_modes[i]) == 0)
			return m;
	sc_err_at(ld, l, "captureMode", "invalid captureMode (want DEFAULT, IPTABLES or NONE)");
	return NULL;
}

/*
 * Go's net.SplitHostPort(): host and port around the last ':', an IPv6 host
 * in brackets. @return NULL, or why ep is no HOST:PORT (Go's words).
 */
static const char *
split_host_port(const char *ep, const char **host, size_t *hl, const char **port)
{
	const char *colon = strrchr(ep, ':'), *close = strchr(ep, ']');
	size_t j = 0, k = 0; /* no '[' before j, no ']' before k */

	if (colon == NULL)
		return "missing port in address";
	if (ep[0] == '[') {
		if (close == NULL)
			return "missing ']' in address";
		if (close + 1 != colon)
			return close[1] == ':' ? "too many colons in address" :
						 "missing port in address";
		*host = ep + 1;
		*hl = (size_t)(close - ep - 1);
		j = 1;
		k = (size_t)(close - ep) + 1;
	} else {
		*host = ep;
		*hl = (size_t)(colon - ep);
		if (memchr(ep, ':', *hl) != NULL)
			return "too many colons in address";
	}
	if (strchr(ep + j, '[') != NULL)
		return "unexpected '[' in address";
	if (strchr(ep + k, ']') != NULL)
		return "unexpected ']' in address";
	*port = colon + 1;
	return NULL;
}

/*
 * An ingress listener's defaultEndpoint: unix://PATH, or HOST:PORT with
 * HOST empty or a loopback or unspecified address and PORT in 1-65535.
 */
static void
sc_default_endpoint(struct ld *ld, const struct ynode *n, const char *ep)
{
	static const char *const hosts[] = { "", "127.0.0.1", "0.0.0.0", "::1", "::", NULL };
	const char *path = istio_unix_path(ep), *host, *port, *why;
	char err[MSG_MAX];
	size_t i, hl;
	int64_t v;

	if (path != NULL) {
		if (!istio_unix_address(path, err, sizeof(err)))
			yr_err(&ld->r, n, "%s", err);
		return;
	}
	why = split_host_port(ep, &host, &hl, &port);
	if (why != NULL) {
		yr_err(&ld->r, n, "address %s: %s", yr_quote(&ld->r, ep), why);
		return;
	}
	for (i = 0; hosts[i] != NULL; i++)
		if (hl == strlen(hosts[i]) && strncmp(host, hosts[i], hl) == 0)
			break;
	if (hosts[i] == NULL)
		yr_err(&ld->r, n,
		       "sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,"
		       "[::1]:port,[::]:port,unix://filepath or unset");
	if (!istio_go_atoi(port, &v))
		yr_err(&ld->r, n, "sidecar: defaultEndpoint port (%s) is not a number",
		       yr_quote(&ld->r, port));
	else if (v < 1 || v > 65535)
		yr_err(&ld->r, n, "port number %" PRId64 " must be in the range 1..65535", v);
}

/* An ingress listener's tls: a ServerTLSSettings, less what a sidecar cannot do. */
static void
sc_ingress_tls(struct ld *ld, const struct ynode *tls, const struct sc_port *p)
{
	struct server_tls st;
	size_t mark = yr_key(&ld->r, "tls");

	ld_server_tls(ld, tls, &st);
	if (st.has_san)
		yr_err(&ld->r, tls, "sidecar: subjectAltNames is not supported in ingress tls");
	if (st.https_redirect)
		yr_err(&ld->r, tls, "sidecar: httpsRedirect is not supported");
	if (st.has_credential_name)
		yr_err(&ld->r, tls, "sidecar: credentialName is not currently supported");
	if (st.has_credential_names)
		yr_err(&ld->r, tls, "sidecar: credentialNames is not currently supported");
	if (st.has_tls_certificates)
		yr_err(&ld->r, tls, "sidecar: tls_certificates is not currently supported");
	if (strcmp(st.mode, "ISTIO_MUTUAL") == 0 || strcmp(st.mode, "AUTO_PASSTHROUGH") == 0)
		yr_err(&ld->r, tls,
		       "configuration is invalid: cannot set mode to %s in sidecar ingress tls",
		       st.mode);
	/* Istio parses the protocol as it is: empty or unknown is no TLS either */
	if (p->pi == NULL || !p->pi->tls)
		yr_err(&ld->r, tls, "server cannot have TLS settings for non HTTPS/TLS ports");
	yr_pop(&ld->r, mark);
}

static void
sc_ingress(struct ld *ld, const struct ynode *spec)
{
	const struct ynode *seq = yr_get(&ld->r, spec, "ingress", YNODE_SEQ);
	int64_t *numbers = NULL;
	size_t i, j, n_numbers = 0, mark;

	if (seq == NULL)
		return;
	mark = yr_key(&ld->r, "ingress");
	numbers = seq->n > 0 ? ld_calloc(ld, seq->n, sizeof(*numbers)) : NULL;
	for (i = 0; i < seq->n; i++) {
		const struct ynode *l = seq->items[i], *pm, *ep, *tls, *pool;
		const char *eps;
		struct sc_port p;
		size_t m2 = yr_idx(&ld->r, i);

		if (l->type != YNODE_MAP) {
			yr_err(&ld->r, l, "sidecar: ingress may not be null");
			yr_pop(&ld->r, m2);
			continue;
		}
		ld_unknown_fields(ld, l, sc_ingress_fields);
		pm = yr_get(&ld->r, l, "port", YNODE_MAP);
		if (pm == NULL) {
			if (ymap_opt(l, "port") == NULL)
				yr_err(&ld->r, l,
				       "sidecar: port is required for ingress listeners");
			yr_pop(&ld->r, m2);
			continue;
		}
		sc_port(ld, pm, false, &p);
		sc_bind_ip(ld, l);
		sc_capture_mode(ld, l);
		for (j = 0; numbers != NULL && j < n_numbers && numbers[j] != p.number; j++)
			;
		if (numbers != NULL && j < n_numbers)
			sc_port_err(ld, pm, "sidecar: ports on IP bound listeners must be unique");
		else if (numbers != NULL)
			numbers[n_numbers++] = p.number;
		eps = yr_get_str(&ld->r, l, "defaultEndpoint", &ep);
		if (eps != NULL && eps[0] != '\0') {
			size_t m3 = yr_key(&ld->r, "defaultEndpoint");

			sc_default_endpoint(ld, ep, eps);
			yr_pop(&ld->r, m3);
		}
		tls = yr_get(&ld->r, l, "tls", YNODE_MAP);
		if (tls != NULL)
			sc_ingress_tls(ld, tls, &p);
		pool = yr_get(&ld->r, l, "connectionPool", YNODE_MAP);
		if (pool != NULL) {
			size_t m3 = yr_key(&ld->r, "connectionPool");

			ld_connection_pool(ld, pool, NULL);
			if (ymap_opt(pool, "http") != NULL && (p.pi == NULL || !p.pi->http))
				yr_warn(&ld->r, pool,
					"sidecar: HTTP connection pool settings are configured for "
					"port %" PRId64 " (%s) but its protocol is not HTTP (%s); "
					"only TCP settings will apply",
					p.number, yr_quote(&ld->r, ynode_str(ymap_opt(pm, "name"))),
					p.protocol != NULL ? p.protocol : "");
			yr_pop(&ld->r, m3);
		}
		yr_pop(&ld->r, m2);
	}
	free(numbers);
	yr_pop(&ld->r, mark);
}

/*
 * Istio's validateSidecarEgressPortBindAndCaptureMode(): port 0 is a unix
 * domain socket listener (bind unix://PATH, captureMode DEFAULT or NONE),
 * any other port an IP one. @return the bind.
 */
static const char *
sc_egress_port(struct ld *ld, const struct ynode *l, const struct ynode *pm, struct sc_port *p)
{
	const struct ynode *bn;
	const char *bind, *mode;
	char err[MSG_MAX];

	sc_port(ld, pm, true, p);
	mode = sc_capture_mode(ld, l);
	if (p->number != 0)
		return sc_bind_ip(ld, l);
	bind = yr_get_str(&ld->r, l, "bind", &bn);
	if (istio_unix_path(bind) == NULL)
		sc_err_at(ld, l, "bind",
			  "sidecar: ports with 0 value must have a unix domain socket bind "
			  "address");
	else if (!istio_unix_address(istio_unix_path(bind), err, sizeof(err)))
		sc_err_at(ld, l, "bind", err);
	if (mode != NULL && strcmp(mode, "DEFAULT") != 0 && strcmp(mode, "NONE") != 0)
		sc_err_at(ld, l, "captureMode",
			  "sidecar: captureMode must be DEFAULT/NONE for unix domain socket "
			  "listeners");
	return bind;
}

/* Istio's warnings on an egress listener's hosts that repeat each other. */
static void
sc_egress_duplicates(struct ld *ld, const struct ynode *hosts, const char *sc_ns)
{
	bool all = false, other_ns = false;
	size_t i, j;

	for (i = 0; i < hosts->n; i++) {
		const char *h = ynode_str(hosts->items[i]),
			   *slash = h != NULL ? strchr(h, '/') : NULL;
		const char *ns = h, *svc = slash != NULL ? slash + 1 : NULL;
		size_t nl = slash != NULL ? (size_t)(slash - h) : 0;

		if (svc == NULL)
			continue;
		if (nl == 1 && ns[0] == '.') {
			ns = sc_ns;
			nl = strlen(sc_ns);
		}
		for (j = 0; j < i; j++) {
			const char *o = ynode_str(hosts->items[j]);
			const char *os = o != NULL ? strchr(o, '/') : NULL, *ons = o;
			size_t onl = os != NULL ? (size_t)(os - o) : 0;

			if (os == NULL)
				continue;
			if (onl == 1 && o[0] == '.') {
				ons = sc_ns;
				onl = strlen(sc_ns);
			}
			if (onl != nl || strncmp(ons, ns, nl) != 0)
				continue;
			if (strcmp(svc, "*") == 0 || strcmp(os + 1, svc) == 0 ||
			    strcmp(os + 1, "*") == 0) {
				size_t mark = yr_idx(&ld->r, i);

				yr_warn(&ld->r, hosts->items[i], "duplicated egress host: %s", h);
				yr_pop(&ld->r, mark);
				break;
			}
		}
		if (nl == 1 && ns[0] == '*' && strcmp(svc, "*") == 0)
			all = true;
		else if (!(nl == 1 && ns[0] == '*'))
			other_ns = true;
	}
	if (all && other_ns)
		yr_warn(&ld->r, hosts,
			"`*/*` host select all resources, no other hosts can be added");
}

static void
sc_egress_hosts(struct ld *ld, const struct ynode *l, const char *sc_ns)
{
	const struct ynode *hosts = yr_get(&ld->r, l, "hosts", YNODE_SEQ);
	size_t i, mark;

	if (hosts == NULL) {
		if (ymap_opt(l, "hosts") == NULL)
			yr_err(&ld->r, l,
			       "sidecar: egress listener must contain at least one host");
		return;
	}
	mark = yr_key(&ld->r, "hosts");
	if (hosts->n == 0) {
		yr_err(&ld->r, hosts, "sidecar: egress listener must contain at least one host");
		yr_pop(&ld->r, mark);
		return;
	}
	for (i = 0; i < hosts->n; i++) {
		const struct ynode *n = hosts->items[i];
		const char *h = yr_str(&ld->r, n);
		size_t m2 = yr_idx(&ld->r, i);

		if (h != NULL || ynode_is_null(n))
			ld_istio_ns_host(ld, n, h != NULL ? h : "", false, false);
		yr_pop(&ld->r, m2);
	}
	sc_egress_duplicates(ld, hosts, sc_ns);
	yr_pop(&ld->r, mark);
}

/* An IP listener's port, or a unix domain socket listener's bind (port 0). */
struct sc_bound {
	int64_t number;
	const char *bind;
};

static void
sc_egress(struct ld *ld, const struct ynode *spec, const char *sc_ns)
{
	const struct ynode *seq = yr_get(&ld->r, spec, "egress", YNODE_SEQ);
	struct sc_bound *seen;
	size_t i, j, n_seen = 0, mark;
	bool catch_all = false;

	if (seq == NULL)
		return;
	mark = yr_key(&ld->r, "egress");
	seen = ld_calloc(ld, seq->n, sizeof(*seen));
	for (i = 0; i < seq->n; i++) {
		const struct ynode *l = seq->items[i], *pm;
		size_t m2 = yr_idx(&ld->r, i);

		if (l->type != YNODE_MAP) {
			yr_err(&ld->r, l, "egress listener may not be null");
			yr_pop(&ld->r, m2);
			continue;
		}
		ld_unknown_fields(ld, l, sc_egress_fields);
		pm = yr_get(&ld->r, l, "port", YNODE_MAP);
		if (pm == NULL && ymap_opt(l, "port") == NULL) {
			/* the catch-all listener: one, and last */
			if (catch_all) {
				yr_err(&ld->r, l,
				       "sidecar: egress can have only one listener with empty port");
				yr_pop(&ld->r, m2);
				continue;
			}
			if (i + 1 == seq->n)
				catch_all = true;
			else
				yr_err(&ld->r, l,
				       "sidecar: the egress listener with empty port should be the "
				       "last listener in the list");
		} else if (pm != NULL) {
			struct sc_port p;
			const char *bind = sc_egress_port(ld, l, pm, &p);

			if (bind == NULL)
				bind = "";
			/* ports must differ, and so must unix sockets (port 0) */
			for (j = 0; seen != NULL && j < n_seen; j++) {
				if (p.number == 0 && seen[j].number == 0 &&
				    strcmp(seen[j].bind, bind) == 0) {
					sc_err_at(ld, l, "bind",
						  "sidecar: unix domain socket values for "
						  "listeners must be unique");
					break;
				}
				if (p.number > 0 && seen[j].number == p.number) {
					sc_port_err(ld, pm,
						    "sidecar: ports on IP bound listeners must be "
						    "unique");
					break;
				}
			}
			if (seen != NULL)
				seen[n_seen++] = (struct sc_bound){ p.number, bind };
		}
		sc_egress_hosts(ld, l, sc_ns);
		yr_pop(&ld->r, m2);
	}
	free(seen);
	yr_pop(&ld->r, mark);
}

/*
 * egressProxy (a Destination), with ALLOW_ANY only: Istio's ValidateFQDN()
 * of its host, a port, then validateDestination(): host not "*" and a
 * wildcard domain, subset a label, port number in 1-65535.
 */
static void
sc_egress_proxy(struct ld *ld, const struct ynode *ep)
{
	static const char *const port_fields[] = { "number", NULL };
	const struct ynode *pm;
	const char *host, *subset;
	char err[MSG_MAX];
	int64_t num = 0;
	bool fqdn;
	size_t mark;

	ld_unknown_fields(ld, ep, sc_proxy_fields);
	host = yr_get_str(&ld->r, ep, "host", NULL);
	fqdn = ld_istio_fqdn(ld, host != NULL ? host : "", err, sizeof(err));
	if (!fqdn)
		sc_err_at(ld, ep, "host", err);
	pm = yr_get(&ld->r, ep, "port", YNODE_MAP);
	if (pm == NULL) {
		if (ymap_opt(ep, "port") == NULL)
			sc_err_at(ld, ep, "port", "sidecar: egress_proxy port must be non-nil");
		return;
	}
	/* a FQDN is a wildcard domain too: one message for a bad host */
	if (fqdn && strcmp(host, "*") == 0)
		sc_err_at(ld, ep, "host", "invalid destination host *");
	else if (fqdn && !ld_istio_wildcard_domain(ld, host, err, sizeof(err)))
		sc_err_at(ld, ep, "host", err);
	subset = yr_get_str(&ld->r, ep, "subset", NULL);
	if (subset != NULL && subset[0] != '\0' && !istio_label(subset, strlen(subset))) {
		snprintf(err, sizeof(err), "subset name is invalid: %s", yr_quote(&ld->r, subset));
		sc_err_at(ld, ep, "subset", err);
	}
	mark = yr_key(&ld->r, "port");
	ld_unknown_fields(ld, pm, port_fields);
	/* absent is 0, as protobuf has it; a malformed number was reported */
	if ((ld_int(ld, pm, "number", 0, UINT32_MAX, &num) || ymap_opt(pm, "number") == NULL) &&
	    (num < 1 || num > 65535)) {
		snprintf(err, sizeof(err), "port number %" PRId64 " must be in the range 1..65535",
			 num);
		sc_err_at(ld, pm, "number", err);
	}
	yr_pop(&ld->r, mark);
}

/* outboundTrafficPolicy: the mode egressd takes; an egressProxy, validated. */
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
	ep = ymap_opt(ot, "egressProxy");
	if (ep != NULL) {
		size_t m2 = yr_key(&ld->r, "egressProxy");

		if (sc->outbound != EGRESS_OUTBOUND_ALLOW_ANY) {
			yr_err(&ld->r, ymap_key(ot, "egressProxy"),
			       "sidecar: egress_proxy must be set only with ALLOW_ANY "
			       "outbound_traffic_policy mode");
		} else if (ep->type != YNODE_MAP) {
			yr_err(&ld->r, ep, "expected a mapping, got %s", yr_describe(&ld->r, ep));
		} else {
			sc_egress_proxy(ld, ep);
			yr_warn(&ld->r, ymap_key(ot, "egressProxy"),
				"unregistered traffic keeps its original destination: "
				"an L4 gateway has no egress proxy to send it to; ignored");
		}
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

/* A list or mapping that is present and not empty, as Istio's len() / nil see it. */
static bool
sc_set(const struct ynode *spec, const char *key, bool map)
{
	const struct ynode *n = ymap_opt(spec, key);

	return n != NULL && (map || n->type != YNODE_SEQ || n->n > 0);
}

void
load_sidecar(struct ld *ld, const struct meta *md, const struct ynode *spec)
{
	struct sidecar sc = { 0 };
	const struct ynode *ot, *pool;
	size_t mark;

	sc.name = ld_strdup(ld, md->name);
	sc.ns = ld_strdup(ld, md->ns);
	sc.pos = ld_pos(ld, md->name_node);

	mark = yr_key(&ld->r, "spec");
	ld_unknown_fields(ld, spec, sc_spec_fields);
	sc_selector(ld, spec, &sc);
	if (!sc_set(spec, "egress", false) && !sc_set(spec, "ingress", false) &&
	    !sc_set(spec, "outboundTrafficPolicy", true) &&
	    !sc_set(spec, "inboundConnectionPool", true))
		yr_err(&ld->r, spec, "sidecar: empty configuration provided");
	sc_ingress(ld, spec);
	pool = yr_get(&ld->r, spec, "inboundConnectionPool", YNODE_MAP);
	if (pool != NULL) {
		size_t m2 = yr_key(&ld->r, "inboundConnectionPool");

		ld_connection_pool(ld, pool, NULL);
		yr_pop(&ld->r, m2);
	}
	sc_egress(ld, spec, md->ns);
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
