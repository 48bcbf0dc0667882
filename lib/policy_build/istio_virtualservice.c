/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VirtualService: hosts, gateways and the tcp / tls routes (matches by
 * destination subnet and port, weighted destinations), validated as Istio's
 * ValidateVirtualService() does (pkg/config/validation/validation.go), with
 * its checks of unreachable rules. HTTP routes need an L7 proxy: they are
 * validated (istio_vs_http.c) and ignored, with one warning.
 *
 * Control thread only.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "istio_vs_private.h"

static const char *const vs_spec_fields[] = {
	"hosts", "gateways", "http", "tls", "tcp", "exportTo", NULL,
};
static const char *const vs_route_fields[] = { "match", "route", NULL };
static const char *const vs_tcp_match_fields[] = {
	"destinationSubnets", "port",         "sourceLabels", "gateways",
	"sourceNamespace",    "sourceSubnet", NULL,
};
static const char *const vs_tls_match_fields[] = {
	"sniHosts", "destinationSubnets", "port", "sourceLabels",
	"gateways", "sourceNamespace",    NULL,
};
static const char *const vs_route_dest_fields[] = { "destination", "weight", NULL };
static const char *const vs_dest_fields[] = { "host", "subset", "port", NULL };
static const char *const vs_port_fields[] = { "number", NULL };

/* Route weights beyond this sum are scaled down: the compiler multiplies them. */
#define VS_WEIGHT_SCALE 1000

/* What was said once per VirtualService about fields an L4 gateway ignores. */
struct vs_warned {
	bool sni, source;
};

/* ------------------------------------------------------------------ */
/* Istio's names (pkg/config/labels, pkg/config/validation/agent)      */

static bool
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool
vs_label(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 63 || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
		return false;
	for (i = 1; i + 1 < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* Istio's "domain name D invalid (label L invalid)", L the len bytes at label. */
static bool
label_error(struct ld *ld, const char *domain, const char *label, size_t len, char *err, size_t sz)
{
	char l[QUOTE_MAX + 1];

	snprintf(l, sizeof(l), "%.*s", (int)len, label);
	snprintf(err, sz, "domain name %s invalid (label %s invalid)", yr_quote(&ld->r, domain),
		 yr_quote(&ld->r, l));
	return false;
}

bool
vs_item_map(struct ld *ld, const struct ynode *n, const char *null_msg, bool null_warns)
{
	if (ynode_is_null(n))
		yr_diag(&ld->r, null_warns ? DIAG_WARNING : DIAG_ERROR, n, "%s", null_msg);
	else if (n->type != YNODE_MAP)
		yr_err(&ld->r, n, "expected a mapping, got %s", yr_describe(&ld->r, n));
	else
		return true;
	return false;
}

/* Istio's ValidateDNS1123Labels() of labels (a part of domain, for the message). */
static bool
vs_dns_labels(struct ld *ld, const char *domain, const char *labels, char *err, size_t sz)
{
	const char *p = labels, *tld = strrchr(labels, '.');

	tld = tld != NULL ? tld + 1 : labels;
	if (tld[0] != '\0' && strspn(tld, "0123456789") == strlen(tld)) {
		snprintf(err, sz,
			 "domain name %s invalid (top level domain %s cannot be all-numeric)",
			 yr_quote(&ld->r, domain), yr_quote(&ld->r, tld));
		return false;
	}
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t l = dot != NULL ? (size_t)(dot - p) : strlen(p);

		/* the last label may be empty: "istio.io." */
		if (dot == NULL && l == 0 && p != labels)
			return true;
		if (!vs_label(p, l))
			return label_error(ld, domain, p, l, err, sz);
		if (dot == NULL)
			return true;
		p = dot + 1;
	}
}

/* Istio's CheckDNS1123Preconditions(). */
static bool
vs_dns_preconditions(struct ld *ld, const char *domain, char *err, size_t sz)
{
	if (strlen(domain) > 255) {
		snprintf(err, sz, "domain name %s too long (max 255)", yr_quote(&ld->r, domain));
		return false;
	}
	if (domain[0] == '\0') {
		snprintf(err, sz, "empty domain name not allowed");
		return false;
	}
	return true;
}

/* Istio's IsWildcardDNS1123Label(): "*", or a label led by "*" or "*-". */
static bool
wildcard_label(const char *s, size_t len)
{
	if (len == 1 && s[0] == '*')
		return true;
	if (len > 63)
		return false;
	if (len > 0 && s[0] == '*') {
		s++;
		len--;
		if (len > 0 && s[0] == '-') {
			s++;
			len--;
		}
	}
	return vs_label(s, len);
}

bool
vs_wildcard_domain(struct ld *ld, const char *domain, char *err, size_t sz)
{
	const char *dot = strchr(domain, '.');
	size_t first = dot != NULL ? (size_t)(dot - domain) : strlen(domain);

	if (!vs_dns_preconditions(ld, domain, err, sz))
		return false;
	if (!wildcard_label(domain, first))
		return label_error(ld, domain, domain, first, err, sz);
	return dot == NULL || vs_dns_labels(ld, domain, dot + 1, err, sz);
}

/* Istio's ValidateFQDN(). */
static bool
vs_fqdn(struct ld *ld, const char *name, char *err, size_t sz)
{
	return vs_dns_preconditions(ld, name, err, sz) && vs_dns_labels(ld, name, name, err, sz);
}

#define SNI_FORM "outbound_.<PORT>_._.<HOSTNAME>"

/*
 * Istio's parseAutoGeneratedSNIDomain() and its checks: the SNI that
 * AUTO_PASSTHROUGH gateways route by, "outbound_.PORT_._.HOST", split at "_":
 * a digit in the second part, a letter in the fourth (Istio's unanchored
 * regular expressions).
 */
static bool
vs_sni_form(struct ld *ld, const char *domain, char *err, size_t sz)
{
	const char *part[4] = { domain, NULL, NULL, NULL }, *p = domain;
	size_t len[4], i;

	for (i = 1; i < 4; i++) {
		p = strchr(p, '_');
		if (p == NULL) {
			snprintf(err, sz, "domain name %s invalid, should follow '%s' format",
				 domain, SNI_FORM);
			return false;
		}
		len[i - 1] = (size_t)(p - part[i - 1]);
		part[i] = ++p;
	}
	p = strchr(part[3], '_');
	len[3] = p != NULL ? (size_t)(p - part[3]) : strlen(part[3]);
	if (strcspn(part[1], "0123456789") >= len[1] ||
	    strcspn(part[3], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") >= len[3]) {
		char label[QUOTE_MAX + 1];

		i = strcspn(part[1], "0123456789") >= len[1] ? 1 : 3;
		/* Istio quotes the part without its dots */
		while (len[i] > 0 && part[i][0] == '.') {
			part[i]++;
			len[i]--;
		}
		while (len[i] > 0 && part[i][len[i] - 1] == '.')
			len[i]--;
		snprintf(label, sizeof(label), "%.*s", (int)len[i], part[i]);
		snprintf(err, sz,
			 "domain name %s invalid (label %s invalid). should follow %s format",
			 yr_quote(&ld->r, domain), yr_quote(&ld->r, label), SNI_FORM);
		return false;
	}
	return true;
}

/* Istio's ValidateWildcardDomainForVirtualServiceBoundToGateway(). */
static bool
vs_gateway_domain(struct ld *ld, bool sni, const char *domain, char *err, size_t sz)
{
	if (!vs_dns_preconditions(ld, domain, err, sz))
		return false;
	if (sni && strncmp(domain, "outbound_", 9) == 0)
		return vs_sni_form(ld, domain, err, sz);
	return vs_wildcard_domain(ld, domain, err, sz);
}

static bool
is_ip(const char *s)
{
	struct in6_addr in6;
	struct in_addr in4;

	return inet_pton(AF_INET, s, &in4) == 1 || inet_pton(AF_INET6, s, &in6) == 1;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t l = strlen(s), sl = strlen(suffix);

	return l >= sl && strcmp(s + l - sl, suffix) == 0;
}

/* Istio's host.Name.Matches(): n and o overlap (a leading "*" is a wildcard). */
static bool
host_matches(const char *n, const char *o)
{
	if (n[0] == '*' && o[0] == '*')
		return strlen(n) < strlen(o) ? ends_with(o + 1, n + 1) : ends_with(n + 1, o + 1);
	if (n[0] == '*')
		return ends_with(o, n + 1);
	if (o[0] == '*')
		return ends_with(n, o + 1);
	return strcmp(n, o) == 0;
}

/* Istio's host.Name.SubsetOf(): o covers every name n does. */
static bool
host_subset(const char *n, const char *o)
{
	if (n[0] == '*')
		return o[0] == '*' && strlen(n) >= strlen(o) && ends_with(n + 1, o + 1);
	if (o[0] == '*')
		return ends_with(n, o + 1);
	return strcmp(n, o) == 0;
}

/* ------------------------------------------------------------------ */
/* Pieces the tcp, tls and http routes share                           */

/*
 * Istio's validateGatewayNames(), for spec.gateways and match.gateways. Istio
 * returns after the first name without a "/" (so it checks no name after
 * "mesh"): validated the same way, every name is still kept for binding.
 */
void
vs_gateway_names(struct ld *ld, const struct ynode *seq, char ***out, unsigned int *n_out)
{
	bool checking = true;
	char err[MSG_MAX];
	size_t i;

	*out = ld_calloc(ld, seq->n, sizeof(**out));
	for (i = 0; *out != NULL && i < seq->n; i++) {
		const struct ynode *n = seq->items[i];
		size_t m2 = yr_idx(&ld->r, i);
		const char *g = yr_str(&ld->r, n), *slash;

		if (g == NULL) {
			yr_pop(&ld->r, m2);
			continue;
		}
		slash = strchr(g, '/');
		if (checking && slash != NULL) {
			size_t nl = (size_t)(slash - g);
			const char *name = slash + 1;

			if (nl == 0 || name[0] == '\0')
				yr_err(&ld->r, n,
				       "config namespace and gateway name cannot be "
				       "empty");
			if (nl > 0 && !vs_label(g, nl)) {
				char ns[QUOTE_MAX + 1];

				snprintf(ns, sizeof(ns), "%.*s", (int)nl, g);
				yr_err(&ld->r, n, "invalid value for namespace: %s",
				       yr_quote(&ld->r, ns));
			}
			if (name[0] != '\0' && !vs_label(name, strlen(name)))
				yr_err(&ld->r, n, "invalid value for gateway name: %s",
				       yr_quote(&ld->r, name));
		} else if (checking) {
			const char *dot = strchr(g, '.');

			if (dot != NULL) {
				const char *ns = dot + 1, *end = strchr(ns, '.');
				char rec[2 * QUOTE_MAX + 2];

				snprintf(rec, sizeof(rec), "%.*s/%.*s",
					 (int)(end != NULL ? (size_t)(end - ns) : strlen(ns)), ns,
					 (int)(dot - g), g);
				yr_warn(&ld->r, n,
					"using legacy gatewayName format %s; prefer the "
					"<namespace>/<name> format: %s",
					yr_quote(&ld->r, g), yr_quote(&ld->r, rec));
			}
			if (!vs_fqdn(ld, g, err, sizeof(err)))
				yr_err(&ld->r, n, "%s", err);
			checking = false;
		}
		(*out)[(*n_out)++] = ld_strdup(ld, g);
		yr_pop(&ld->r, m2);
	}
}

/* Kubernetes' qualified name: alphanumeric ends, [-A-Za-z0-9_.] between. */
static bool
qualified_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
		return false;
	for (i = 1; i + 1 < len; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

/* A label key's DNS prefix (before "/"): labels joined by dots. */
static bool
dns_prefix(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *dot = memchr(s + i, '.', len - i);
		size_t l = dot != NULL ? (size_t)(dot - (s + i)) : len - i;

		if (l == 0 || !is_alnum(s[i]) || !is_alnum(s[i + l - 1]) ||
		    strspn(s + i,
			   "-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") < l)
			return false;
		i += l + (dot != NULL);
		if (dot != NULL && i == len)
			return false;
	}
	return len > 0;
}

void
vs_source_labels(struct ld *ld, const struct ynode *map, const char *key)
{
	const struct ynode *m = yr_get(&ld->r, map, key, YNODE_MAP);
	size_t i, mark;

	if (m == NULL)
		return;
	mark = yr_key(&ld->r, key);
	for (i = 0; i < m->n; i++) {
		const struct ynode *k = m->items[2 * i], *v = m->items[2 * i + 1];
		const char *slash = memchr(k->str, '/', k->len);
		size_t m2 = yr_key(&ld->r, k->str);

		if (slash == NULL ? !qualified_name(k->str, k->len) :
				    !dns_prefix(k->str, (size_t)(slash - k->str)) ||
					    !qualified_name(slash + 1, strlen(slash + 1)))
			yr_err(&ld->r, k, "invalid tag key: %s", yr_quote_node(&ld->r, k));
		else if (slash != NULL && (size_t)(slash - k->str) > 253)
			yr_err(&ld->r, k, "invalid tag key: %s (DNS prefix is too long)",
			       yr_quote_node(&ld->r, k));
		else if (strlen(slash != NULL ? slash + 1 : k->str) > 63)
			yr_err(&ld->r, k, "invalid tag key: %s (name is too long)",
			       yr_quote_node(&ld->r, k));
		if (!ynode_is_null(v)) {
			const char *s = yr_str(&ld->r, v);

			/* a label value has no length limit in Istio's check */
			if (s != NULL && s[0] != '\0' && !qualified_name(s, v->len))
				yr_err(&ld->r, v, "invalid tag value: %s",
				       yr_quote_node(&ld->r, v));
		}
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

/* An Istio port (uint32) at map[key]; zero_ok: absent or 0 leaves it unset. */
static long
port_at(struct ld *ld, const struct ynode *map, const char *key, bool zero_ok)
{
	const struct ynode *n = ymap_get(map, key);
	int64_t v = 0;
	long rc = -1;
	size_t mark;

	if (ynode_is_null(n)) {
		if (zero_ok)
			return 0;
		n = NULL;
	}
	mark = yr_key(&ld->r, key);
	if (n == NULL || yr_int(&ld->r, n, &v) == 0) {
		if (v == 0 && zero_ok)
			rc = 0;
		else if (v < 1 || v > 65535)
			yr_err(&ld->r, n != NULL ? n : map,
			       "port number %s must be in the range 1..65535",
			       n != NULL ? n->str : "0");
		else
			rc = (long)v;
	}
	yr_pop(&ld->r, mark);
	return rc;
}

long
vs_port(struct ld *ld, const struct ynode *map, const char *key)
{
	return port_at(ld, map, key, true);
}

void
vs_destination(struct ld *ld, const struct ynode *dm, struct vs_destination *d)
{
	const struct ynode *hn, *sn, *pm;
	const char *host, *subset;
	char err[MSG_MAX];
	size_t mark;

	ld_unknown_fields(ld, dm, vs_dest_fields);
	host = yr_get_str(&ld->r, dm, "host", &hn);
	mark = yr_key(&ld->r, "host");
	if (host == NULL || host[0] == '\0')
		yr_err(&ld->r, hn != NULL ? hn : dm, "empty domain name not allowed");
	else if (strcmp(host, "*") == 0)
		yr_err(&ld->r, hn, "invalid destination host %s", host);
	else if (!vs_wildcard_domain(ld, host, err, sizeof(err)))
		yr_err(&ld->r, hn, "%s", err);
	yr_pop(&ld->r, mark);
	subset = yr_get_str(&ld->r, dm, "subset", &sn);
	/* an empty subset is none (Istio checks it only when set) */
	if (subset != NULL && subset[0] != '\0' && !vs_label(subset, strlen(subset))) {
		mark = yr_key(&ld->r, "subset");
		yr_err(&ld->r, sn, "subset name is invalid: %s", subset);
		yr_pop(&ld->r, mark);
	}
	pm = yr_get(&ld->r, dm, "port", YNODE_MAP);
	if (pm != NULL) {
		long num;

		mark = yr_key(&ld->r, "port");
		ld_unknown_fields(ld, pm, vs_port_fields);
		num = port_at(ld, pm, "number", false);
		yr_pop(&ld->r, mark);
		if (d != NULL)
			d->port = num > 0 ? (uint32_t)num : 0;
	}
	if (d != NULL) {
		d->host = ld_strdup(ld, host);
		d->subset = subset != NULL && subset[0] != '\0' ? ld_strdup(ld, subset) : NULL;
	}
}

int64_t
vs_weight(struct ld *ld, const struct ynode *rd, int64_t *total, bool *has)
{
	const struct ynode *wn = ymap_get(rd, "weight");
	int64_t w = 0, rc = 0;
	size_t mark;

	*has = false;
	if (ynode_is_null(wn))
		return 0;
	mark = yr_key(&ld->r, "weight");
	if (yr_int(&ld->r, wn, &w) == 0) {
		if (w < 0) {
			yr_err(&ld->r, wn, "weight %s < 0", wn->str);
		} else if (w > INT32_MAX) {
			yr_err(&ld->r, wn, "weight %s out of range (0-2147483647)", wn->str);
		} else {
			*total += w;
			*has = true;
			rc = w;
		}
	}
	yr_pop(&ld->r, mark);
	return rc;
}

/* ------------------------------------------------------------------ */
/* tcp and tls routes                                                  */

/* destinationSubnets: addresses or CIDRs (Istio's ValidateIPSubnet). */
static void
vs_subnets(struct ld *ld, const struct ynode *seq, struct vs_match *vm)
{
	size_t i;

	vm->subnets = ld_calloc(ld, seq->n, sizeof(*vm->subnets));
	for (i = 0; vm->subnets != NULL && i < seq->n; i++) {
		const struct ynode *n = seq->items[i];
		size_t m2 = yr_idx(&ld->r, i);
		struct se_address a = { .pos = ld_pos(ld, n) };
		const char *s = yr_str(&ld->r, n), *slash;
		char pfx[INET6_ADDRSTRLEN + 8];
		bool host_bits;

		if (s == NULL) {
			yr_pop(&ld->r, m2);
			continue;
		}
		slash = strchr(s, '/');
		/* Go's netip.ParsePrefix: no leading zero in the length */
		if (istio_parse_prefix(s, &a, &host_bits) != 0 ||
		    (slash != NULL && slash[1] == '0' && slash[2] != '\0')) {
			if (slash != NULL && strchr(slash + 1, '/') == NULL)
				yr_err(&ld->r, n, "%s is not a valid CIDR block", s);
			else
				yr_err(&ld->r, n, "%s is not a valid IP", s);
			yr_pop(&ld->r, m2);
			continue;
		}
		istio_format_prefix(&a, pfx, sizeof(pfx));
		/* Istio takes host bits; Envoy matches the masked network */
		if (host_bits)
			yr_warn(&ld->r, n, "%s has host bits set: egressd matches the network %s",
				s, pfx);
		if (a.v6)
			yr_warn(&ld->r, n,
				"%s is IPv6: parsed and validated, but IPv6 is not "
				"forwarded yet",
				s);
		vm->subnets[vm->n_subnets++] = a;
		yr_pop(&ld->r, m2);
	}
}

/*
 * A canonical text of a match, so that two matches that select the same
 * flows compare equal (Istio compares their JSON).
 */
static void
vs_match_key(const struct ynode *mm, char *buf, size_t sz)
{
	static const char *const keys[] = {
		"destinationSubnets", "port",         "sniHosts", "gateways", "sourceLabels",
		"sourceNamespace",    "sourceSubnet", NULL,
	};
	size_t o = 0, i, j;

	buf[0] = '\0';
	for (i = 0; keys[i] != NULL && o < sz; i++) {
		const struct ynode *v = ymap_get(mm, keys[i]);

		if (v == NULL || ynode_is_null(v))
			continue;
		o += (size_t)snprintf(buf + o, sz - o, "%s=", keys[i]);
		if (v->type == YNODE_SCALAR) {
			o += (size_t)snprintf(buf + o, o < sz ? sz - o : 0, "%s;", v->str);
			continue;
		}
		for (j = 0; j < (v->type == YNODE_MAP ? 2 * v->n : v->n) && o < sz; j++)
			o += (size_t)snprintf(buf + o, sz - o, "%s,",
					      ynode_str(v->items[j]) != NULL ? v->items[j]->str :
									       "?");
		if (o < sz)
			o += (size_t)snprintf(buf + o, sz - o, ";");
	}
}

/*
 * SNI hosts (Istio's validateSniHost()): valid, and each a subset of a host
 * of the VirtualService. gw_bound: no "mesh" among spec.gateways, which lets
 * an SNI host take Istio's generated form.
 */
static void
vs_sni_hosts(struct ld *ld, const struct ynode *seq, const struct virtual_service *vs,
	     bool gw_bound)
{
	char err[MSG_MAX], list[MSG_MAX / 2];
	size_t i, o = 0;
	unsigned int h;

	list[0] = '\0';
	for (h = 0; h < vs->n_hosts && o < sizeof(list); h++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", h > 0 ? ", " : "",
				      vs->hosts[h] != NULL ? vs->hosts[h] : "");
	for (i = 0; i < seq->n; i++) {
		const struct ynode *n = seq->items[i];
		size_t m2 = yr_idx(&ld->r, i);
		const char *sni = yr_str(&ld->r, n);
		bool ok;

		if (sni == NULL) {
			yr_pop(&ld->r, m2);
			continue;
		}
		ok = gw_bound ? vs_gateway_domain(ld, true, sni, err, sizeof(err)) :
				vs_wildcard_domain(ld, sni, err, sizeof(err));
		if (!ok) {
			if (is_ip(sni))
				yr_warn(&ld->r, n,
					"using an IP address (%s) goes against SNI spec "
					"and most clients do not support this",
					yr_quote(&ld->r, sni));
			else
				yr_err(&ld->r, n, "%s", err);
			yr_pop(&ld->r, m2);
			continue;
		}
		for (h = 0; h < vs->n_hosts; h++)
			if (vs->hosts[h] != NULL && host_subset(sni, vs->hosts[h]))
				break;
		if (h == vs->n_hosts)
			yr_err(&ld->r, n,
			       "SNI host %s is not a compatible subset of any of the "
			       "virtual service hosts: [%s]",
			       yr_quote(&ld->r, sni), list);
		yr_pop(&ld->r, m2);
	}
}

/* One item of match[] (path pushed): Istio's validateTLSMatch() / validateTCPMatch(). */
static void
vs_match(struct ld *ld, const struct ynode *mm, bool tls, struct virtual_service *vs, bool gw_bound,
	 struct vs_match *vm, struct vs_warned *warned)
{
	const struct ynode *seq;
	long port;

	vm->pos = ld_pos(ld, mm);
	ld_unknown_fields(ld, mm, tls ? vs_tls_match_fields : vs_tcp_match_fields);
	if (tls) {
		seq = yr_get(&ld->r, mm, "sniHosts", YNODE_SEQ);
		if (seq == NULL || seq->n == 0) {
			yr_err(&ld->r, mm, "TLS match must have at least one SNI host");
		} else {
			size_t m2 = yr_key(&ld->r, "sniHosts");

			vs_sni_hosts(ld, seq, vs, gw_bound);
			if (!warned->sni) {
				warned->sni = true;
				yr_warn(&ld->r, ymap_key(mm, "sniHosts"),
					"an L4 gateway does not "
					"read the TLS server name: the route applies to every TLS "
					"flow its destinationSubnets and port select");
			}
			yr_pop(&ld->r, m2);
		}
	}
	seq = yr_get(&ld->r, mm, "destinationSubnets", YNODE_SEQ);
	if (seq != NULL && seq->n > 0) {
		size_t m2 = yr_key(&ld->r, "destinationSubnets");

		vs_subnets(ld, seq, vm);
		yr_pop(&ld->r, m2);
	}
	port = vs_port(ld, mm, "port");
	vm->port = port > 0 ? (uint32_t)port : 0;
	vs_source_labels(ld, mm, "sourceLabels");
	seq = yr_get(&ld->r, mm, "gateways", YNODE_SEQ);
	if (seq != NULL && seq->n > 0) {
		size_t m2 = yr_key(&ld->r, "gateways");

		vs_gateway_names(ld, seq, &vm->gateways, &vm->n_gateways);
		yr_pop(&ld->r, m2);
	}
	if (!warned->source) {
		static const char *const src_keys[] = {
			"sourceLabels",
			"sourceNamespace",
			"sourceSubnet",
			NULL,
		};
		size_t i;

		for (i = 0; src_keys[i] != NULL; i++) {
			if (ymap_key(mm, src_keys[i]) == NULL)
				continue;
			warned->source = true;
			ld_unhonoured(ld, mm, src_keys[i],
				      "an L4 gateway does not tell clients "
				      "apart by workload: the route applies to every client");
			break;
		}
	}
}

/* One item of route[] (path pushed). @return the weight as written. */
static int64_t
vs_route_dest(struct ld *ld, const struct ynode *rd, struct vs_destination *d, int64_t *total)
{
	const struct ynode *dm;
	int64_t w;
	size_t mark;

	d->pos = ld_pos(ld, rd);
	ld_unknown_fields(ld, rd, vs_route_dest_fields);
	dm = yr_get(&ld->r, rd, "destination", YNODE_MAP);
	if (dm == NULL) {
		if (ymap_opt(rd, "destination") == NULL)
			yr_err(&ld->r, rd, "destination is required");
	} else {
		mark = yr_key(&ld->r, "destination");
		d->pos = ld_pos(ld, dm);
		vs_destination(ld, dm, d);
		yr_pop(&ld->r, mark);
	}
	w = vs_weight(ld, rd, total, &d->has_weight);
	d->weight = (uint32_t)w;
	return w;
}

static uint64_t
gcd64(uint64_t a, uint64_t b)
{
	while (b != 0) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/*
 * Weights as the data path splits by them. Istio sends every flow of a route
 * with one destination to it, whatever its weight; several share in
 * proportion to their weights, which need not sum to 100. Weights kept as
 * written up to VS_WEIGHT_SCALE in all (the compiler multiplies them by
 * endpoint weights); beyond, reduced by their common divisor, and scaled to
 * VS_WEIGHT_SCALE parts if that is not enough.
 */
static void
vs_route_weights(struct ld *ld, const struct ynode *route, struct vs_route *r, int64_t total)
{
	uint64_t g = 0, sum = 0;
	unsigned int i;

	if (r->n_dests == 1)
		r->dests[0].has_weight = false;
	if (r->n_dests < 2 || total <= 0)
		return;
	for (i = 0; i < r->n_dests; i++) {
		sum += r->dests[i].weight;
		if (r->dests[i].weight > 0)
			g = gcd64(g, r->dests[i].weight);
	}
	if (sum <= VS_WEIGHT_SCALE)
		return;
	sum = 0;
	for (i = 0; i < r->n_dests; i++) {
		r->dests[i].weight = (uint32_t)(r->dests[i].weight / g);
		sum += r->dests[i].weight;
	}
	if (sum <= VS_WEIGHT_SCALE)
		return;
	for (i = 0; i < r->n_dests; i++) {
		uint64_t w = r->dests[i].weight;

		if (w > 0) {
			w = (w * VS_WEIGHT_SCALE + sum / 2) / sum;
			r->dests[i].weight = w == 0 ? 1 : (uint32_t)w;
		}
	}
	yr_warn(&ld->r, route,
		"weights total %" PRIu64 ": egressd splits flows in %d parts, weights rounded", sum,
		VS_WEIGHT_SCALE);
}

/* spec.tcp[i] or spec.tls[i] (path pushed): Istio's validateTLSRoute() / validateTCPRoute(). */
static void
vs_route(struct ld *ld, const struct ynode *rm, bool tls, struct virtual_service *vs, bool gw_bound,
	 struct vs_route *r, struct vs_warned *warned)
{
	const struct ynode *matches = yr_get(&ld->r, rm, "match", YNODE_SEQ);
	const struct ynode *route = yr_get(&ld->r, rm, "route", YNODE_SEQ);
	int64_t total = 0;
	size_t i, mark;

	r->pos = ld_pos(ld, rm);
	r->tls = tls;
	ld_unknown_fields(ld, rm, vs_route_fields);
	if (tls && (matches == NULL || matches->n == 0))
		yr_err(&ld->r, rm, "TLS route must have at least one match condition");
	if (matches != NULL && matches->n > 0) {
		mark = yr_key(&ld->r, "match");
		r->matches = ld_calloc(ld, matches->n, sizeof(*r->matches));
		for (i = 0; r->matches != NULL && i < matches->n; i++) {
			const struct ynode *mm = matches->items[i];
			size_t m2 = yr_idx(&ld->r, i);

			if (mm->type != YNODE_MAP)
				yr_err(&ld->r, mm,
				       tls ? "TLS match may not be null" :
					     "tcp match may not be nil");
			else
				vs_match(ld, mm, tls, vs, gw_bound, &r->matches[r->n_matches++],
					 warned);
			yr_pop(&ld->r, m2);
		}
		yr_pop(&ld->r, mark);
	}
	if (route == NULL || route->n == 0) {
		mark = yr_key(&ld->r, "route");
		yr_err(&ld->r, route != NULL ? route : rm,
		       tls ? "TLS route is required" : "TCP route is required");
		yr_pop(&ld->r, mark);
		return;
	}
	mark = yr_key(&ld->r, "route");
	r->dests = ld_calloc(ld, route->n, sizeof(*r->dests));
	for (i = 0; r->dests != NULL && i < route->n; i++) {
		const struct ynode *rd = route->items[i];
		size_t m2 = yr_idx(&ld->r, i);

		if (rd->type != YNODE_MAP)
			yr_err(&ld->r, rd, "weight may not be nil");
		else
			vs_route_dest(ld, rd, &r->dests[r->n_dests++], &total);
		yr_pop(&ld->r, m2);
	}
	if (route->n > 1 && total == 0)
		yr_err(&ld->r, route, "total destination weight = 0");
	else if (r->dests != NULL)
		vs_route_weights(ld, route, r, total);
	yr_pop(&ld->r, mark);
}

/*
 * Istio's analyzeUnreachableTCPRules / TLSRules: a route without a match must
 * be the last one; a match seen in an earlier route is never used.
 */
static void
vs_unreachable(struct ld *ld, const struct ynode *seq)
{
	char(*keys)[256];
	unsigned int *owner;
	size_t i, j, k, n_keys = 0, total = 0;
	bool empty_seen = false;

	for (i = 0; i < seq->n; i++) {
		const struct ynode *m = ymap_get(seq->items[i], "match");

		total += m != NULL && m->type == YNODE_SEQ ? m->n : 0;
	}
	keys = total > 0 ? calloc(total, sizeof(*keys)) : NULL;
	owner = total > 0 ? calloc(total, sizeof(*owner)) : NULL;
	if (total > 0 && (keys == NULL || owner == NULL)) {
		ld->oom = true;
		goto out;
	}
	for (i = 0; i < seq->n; i++) {
		const struct ynode *rm = seq->items[i];
		const struct ynode *m = ymap_get(rm, "match");
		size_t dups = 0, mark = yr_idx(&ld->r, i);

		if (rm->type != YNODE_MAP) {
			yr_pop(&ld->r, mark);
			continue;
		}
		if (m == NULL || m->type != YNODE_SEQ || m->n == 0) {
			if (empty_seen)
				yr_warn(&ld->r, rm,
					"virtualService rule #%zu not used (only the "
					"last rule can have no matches)",
					i);
			empty_seen = true;
			yr_pop(&ld->r, mark);
			continue;
		}
		if (empty_seen) {
			yr_warn(&ld->r, rm,
				"virtualService rule #%zu not used (route without matches "
				"defined before)",
				i);
			yr_pop(&ld->r, mark);
			continue;
		}
		for (j = 0; j < m->n; j++) {
			char key[256];

			vs_match_key(m->items[j], key, sizeof(key));
			for (k = 0; k < n_keys && strcmp(keys[k], key) != 0; k++)
				;
			if (k < n_keys) {
				yr_warn(&ld->r, m->items[j],
					"virtualService rule #%zu match #%zu "
					"is not used (duplicate/overlapping match in rule #%u)",
					i, j, owner[k]);
				dups++;
				continue;
			}
			snprintf(keys[n_keys], sizeof(keys[n_keys]), "%s", key);
			owner[n_keys++] = (unsigned int)i;
		}
		if (dups == m->n)
			yr_warn(&ld->r, rm,
				"virtualService rule #%zu not used (all matches used "
				"by prior rules)",
				i);
		yr_pop(&ld->r, mark);
	}
out:
	free(keys);
	free(owner);
}

/* Does a tls match of spec name an SNI host (Istio's isSniHost())? */
static bool
vs_has_sni(const struct ynode *spec)
{
	const struct ynode *tls = ymap_get(spec, "tls");
	size_t i, j;

	for (i = 0; tls != NULL && tls->type == YNODE_SEQ && i < tls->n; i++) {
		const struct ynode *m = ymap_get(tls->items[i], "match");

		for (j = 0; m != NULL && m->type == YNODE_SEQ && j < m->n; j++) {
			const struct ynode *s = ymap_get(m->items[j], "sniHosts");

			if (s != NULL && s->type == YNODE_SEQ && s->n > 0)
				return true;
		}
	}
	return false;
}

static void
vs_hosts(struct ld *ld, const struct ynode *spec, struct virtual_service *vs, bool to_gateway)
{
	const struct ynode *seq = yr_get(&ld->r, spec, "hosts", YNODE_SEQ);
	bool all_valid = true, sni = to_gateway && vs_has_sni(spec);
	char err[MSG_MAX];
	size_t i, j, mark;

	if (seq == NULL || seq->n == 0)
		return;
	mark = yr_key(&ld->r, "hosts");
	vs->hosts = ld_calloc(ld, seq->n, sizeof(*vs->hosts));
	for (i = 0; vs->hosts != NULL && i < seq->n; i++) {
		const struct ynode *n = seq->items[i];
		size_t m2 = yr_idx(&ld->r, i);
		const char *h = yr_str(&ld->r, n);
		bool ok;

		if (h == NULL) {
			all_valid = false;
			yr_pop(&ld->r, m2);
			continue;
		}
		ok = to_gateway ? vs_gateway_domain(ld, sni, h, err, sizeof(err)) :
				  vs_wildcard_domain(ld, h, err, sizeof(err));
		if (!ok) {
			if (!is_ip(h)) {
				yr_err(&ld->r, n, "%s", err);
				all_valid = false;
			}
		} else if (!to_gateway && strcmp(h, "*") == 0) {
			yr_err(&ld->r, n,
			       "wildcard host * is not allowed for virtual services "
			       "bound to the mesh gateway");
			all_valid = false;
		} else if (sni && strncmp(h, "outbound_", 9) == 0) {
			yr_warn(&ld->r, n,
				"Istio's generated SNI form (%s) names no ServiceEntry host, "
				"and an L4 gateway reads no SNI: this host routes nothing here",
				SNI_FORM);
		}
		vs->hosts[vs->n_hosts++] = ld_strdup(ld, h);
		yr_pop(&ld->r, m2);
	}
	for (i = 0; all_valid && i < vs->n_hosts; i++) {
		for (j = i + 1; j < vs->n_hosts; j++) {
			if (vs->hosts[i] == NULL || vs->hosts[j] == NULL ||
			    !host_matches(vs->hosts[i], vs->hosts[j]))
				continue;
			yr_err(&ld->r, seq, "duplicate hosts in virtual service: %s & %s",
			       vs->hosts[i], vs->hosts[j]);
		}
	}
	yr_pop(&ld->r, mark);
}

static void
vs_routes(struct ld *ld, const struct ynode *spec, struct virtual_service *vs, bool tls,
	  bool gw_bound, struct vs_warned *warned)
{
	const char *key = tls ? "tls" : "tcp";
	const struct ynode *seq = yr_get(&ld->r, spec, key, YNODE_SEQ);
	struct vs_route *v;
	size_t i, mark;

	if (seq == NULL || seq->n == 0)
		return;
	mark = yr_key(&ld->r, key);
	v = realloc(vs->routes, (vs->n_routes + seq->n) * sizeof(*v));
	if (v == NULL) {
		ld->oom = true;
		yr_pop(&ld->r, mark);
		return;
	}
	vs->routes = v;
	for (i = 0; i < seq->n; i++) {
		const struct ynode *rm = seq->items[i];
		size_t m2 = yr_idx(&ld->r, i);

		/* Istio skips a null tcp / tls route */
		if (vs_item_map(ld, rm, "null route, ignored", true)) {
			struct vs_route *r = &vs->routes[vs->n_routes++];

			memset(r, 0, sizeof(*r));
			r->index = (unsigned int)i;
			vs_route(ld, rm, tls, vs, gw_bound, r, warned);
		}
		yr_pop(&ld->r, m2);
	}
	vs_unreachable(ld, seq);
	yr_pop(&ld->r, mark);
}

/* How many items the list at spec[key] has (0 when absent or not a list). */
static size_t
seq_len(const struct ynode *spec, const char *key)
{
	const struct ynode *n = ymap_get(spec, key);

	return n != NULL && n->type == YNODE_SEQ ? n->n : 0;
}

/* Istio's delegate checks: a VirtualService without hosts has http routes only. */
static void
vs_delegate(struct ld *ld, const struct ynode *spec)
{
	static const struct {
		const char *key, *msg;
	} rules[] = {
		{ "gateways", "delegate virtual service must have no gateways specified" },
		{ "tls", "delegate virtual service must have no tls route specified" },
		{ "tcp", "delegate virtual service must have no tcp route specified" },
	};
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		size_t m2;

		if (seq_len(spec, rules[i].key) == 0)
			continue;
		m2 = yr_key(&ld->r, rules[i].key);
		yr_err(&ld->r, ymap_key(spec, rules[i].key), "%s", rules[i].msg);
		yr_pop(&ld->r, m2);
	}
}

void
load_virtual_service(struct ld *ld, const struct meta *md, const struct ynode *spec)
{
	struct virtual_service vs = { 0 };
	struct vs_warned warned = { 0 };
	struct vs_ctx ctx = { 0 };
	bool to_mesh = true;
	size_t mark;
	unsigned int i;

	vs.name = ld_strdup(ld, md->name);
	vs.ns = ld_strdup(ld, md->ns);
	vs.pos = ld_pos(ld, md->name_node);
	vs.gateways_pos = vs.pos;

	mark = yr_key(&ld->r, "spec");
	ld_unknown_fields(ld, spec, vs_spec_fields);
	ctx.gw = yr_get(&ld->r, spec, "gateways", YNODE_SEQ);
	if (ctx.gw != NULL && ctx.gw->n > 0) {
		size_t m2 = yr_key(&ld->r, "gateways");

		vs.gateways_pos = ld_pos(ld, ctx.gw);
		vs_gateway_names(ld, ctx.gw, &vs.gateways, &vs.n_gateways);
		to_mesh = false;
		for (i = 0; i < vs.n_gateways; i++)
			to_mesh = to_mesh ||
				  (vs.gateways[i] != NULL && strcmp(vs.gateways[i], "mesh") == 0);
		yr_pop(&ld->r, m2);
	}
	if (vs.n_gateways == 0 || (to_mesh && vs.n_gateways == 1)) {
		size_t m2 = yr_key(&ld->r, "gateways");

		yr_warn(&ld->r, ctx.gw != NULL ? ctx.gw : spec,
			"bound to the mesh only (sidecars): no "
			"route of this VirtualService applies to a gateway; ignored");
		yr_pop(&ld->r, m2);
	}
	vs_hosts(ld, spec, &vs, !to_mesh);
	if (seq_len(spec, "hosts") == 0)
		vs_delegate(ld, spec);
	if (seq_len(spec, "http") == 0 && seq_len(spec, "tcp") == 0 && seq_len(spec, "tls") == 0)
		yr_err(&ld->r, spec, "http, tcp or tls must be provided in virtual service");
	ctx.delegate = seq_len(spec, "hosts") == 0;
	ctx.to_gateway = !to_mesh;
	vs_http_routes(ld, spec, &ctx);
	if (seq_len(spec, "http") > 0)
		ld_unhonoured(ld, spec, "http",
			      "HTTP routes need an L7 proxy; ignored (HTTP "
			      "ports keep their ServiceEntry's endpoints)");
	/*
	 * tls first: Istio matches TLS ports by the tls routes, the rest by
	 * tcp. An SNI host may take the generated form unless "mesh" is a
	 * gateway (Istio's isGateway(), true without gateways).
	 */
	vs_routes(ld, spec, &vs, true, vs.n_gateways == 0 || !to_mesh, &warned);
	vs_routes(ld, spec, &vs, false, vs.n_gateways == 0 || !to_mesh, &warned);
	vs.hidden = ld_export_to(ld, spec, md, EGRESS_EXPORT_VS);
	yr_pop(&ld->r, mark);
	model_add_vs(ld, &vs);
}
