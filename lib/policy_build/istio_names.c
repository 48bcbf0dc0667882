/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Names, hosts and addresses in Istio resources: Kubernetes object names,
 * Istio's domain rules (in Istio's words), IP prefixes, Istio's host
 * matching, and the appliance's own addresses that no rule may send to.
 *
 * Control thread only.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "istio_private.h"

/* ------------------------------------------------------------------ */
/* Names and hosts (Kubernetes and Istio rules)                        */

static bool
is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_alnum(char c, bool upper)
{
	return is_lower_alnum(c) || (upper && c >= 'A' && c <= 'Z');
}

/*
 * [a-z0-9]([-a-z0-9]*[a-z0-9])? of any length, or with upper, Istio's
 * dns1123LabelFmt [a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?.
 */
static bool
label_chars(const char *s, size_t len, bool upper)
{
	size_t i;

	if (len == 0 || !is_alnum(s[0], upper) || !is_alnum(s[len - 1], upper))
		return false;
	for (i = 1; i + 1 < len; i++)
		if (!is_alnum(s[i], upper) && s[i] != '-')
			return false;
	return true;
}

/* RFC 1123 label (Kubernetes): [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 bytes. */
bool
istio_dns1123_label(const char *s, size_t len)
{
	return len <= 63 && label_chars(s, len, false);
}

/* RFC 1123 subdomain (Kubernetes object names): labels joined by dots. */
bool
istio_dns1123_subdomain(const char *s)
{
	size_t len = strlen(s);
	const char *p = s;

	if (len == 0 || len > 253)
		return false;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t l = dot != NULL ? (size_t)(dot - p) : strlen(p);

		if (!istio_dns1123_label(p, l))
			return false;
		if (dot == NULL)
			return true;
		p = dot + 1;
	}
}

static bool
all_digits(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool
istio_host_covers(const char *pattern, const char *host)
{
	const char *slash = strchr(pattern, '/');
	size_t pl, hl;

	if (slash != NULL)
		pattern = slash + 1;
	if (strcmp(pattern, "*") == 0 || strcmp(pattern, host) == 0)
		return true;
	if (strncmp(pattern, "*.", 2) != 0)
		return false;
	/* "*.example.com" covers "a.example.com" and "*.a.example.com" */
	pl = strlen(pattern + 1);
	hl = strlen(host);
	return hl > pl && strcmp(host + hl - pl, pattern + 1) == 0;
}

/* ------------------------------------------------------------------ */
/* Addresses                                                           */

/*
 * "a.b.c.d", "a.b.c.d/len", an IPv6 address or IPv6 CIDR. Host bits are
 * cleared in a and reported through *host_bits. @return 0 or -1.
 */
int
istio_parse_prefix(const char *s, struct se_address *a, bool *host_bits)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	char buf[INET6_ADDRSTRLEN];
	unsigned int max, len, i;
	struct in_addr in4;

	*host_bits = false;
	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, &in4) == 1) {
		a->v6 = false;
		a->ip = ntohl(in4.s_addr);
		max = 32;
	} else if (inet_pton(AF_INET6, buf, a->ip6) == 1) {
		a->v6 = true;
		max = 128;
	} else {
		return -1;
	}
	len = max;
	a->cidr = slash != NULL;
	if (slash != NULL) {
		const char *p = slash + 1;
		size_t plen = strlen(p);

		if (plen == 0 || plen > 3 || !all_digits(p, plen))
			return -1;
		len = (unsigned int)atoi(p);
		if (len > max)
			return -1;
	}
	a->prefix_len = (uint8_t)len;
	if (!a->v6) {
		*host_bits = (a->ip & ~mask4(a->prefix_len)) != 0;
		a->ip &= mask4(a->prefix_len);
		return 0;
	}
	for (i = 0; i < 16; i++) {
		unsigned int keep = len >= 8 * (i + 1) ? 8 : len > 8 * i ? len - 8 * i : 0;
		uint8_t m = (uint8_t)(keep == 0 ? 0 : 0xff << (8 - keep));

		if (a->ip6[i] & ~m)
			*host_bits = true;
		a->ip6[i] &= m;
	}
	return 0;
}

void
istio_format_prefix(const struct se_address *a, char *buf, size_t sz)
{
	char ip[INET6_ADDRSTRLEN];

	if (a->v6) {
		inet_ntop(AF_INET6, a->ip6, ip, sizeof(ip));
	} else {
		struct in_addr in = { .s_addr = htonl(a->ip) };

		inet_ntop(AF_INET, &in, ip, sizeof(ip));
	}
	snprintf(buf, sz, "%s/%u", ip, a->prefix_len);
}

void
istio_format_ip4(uint32_t ip, char *buf, size_t sz)
{
	struct in_addr in = { .s_addr = htonl(ip) };

	if (inet_ntop(AF_INET, &in, buf, (socklen_t)sz) == NULL)
		snprintf(buf, sz, "?");
}

static void
own_add(struct ld *ld, uint32_t ip_net, const char *what)
{
	struct own_addr *o;

	if (ip_net == 0 || ld->n_own == MAX_OWN_ADDRS)
		return;
	o = &ld->own[ld->n_own++];
	o->ip = ntohl(ip_net);
	snprintf(o->what, sizeof(o->what), "%s", what);
}

/* The appliance's own addresses, from the config (all in network order). */
void
ld_own_init(struct ld *ld)
{
	const struct egress_config *cfg = ld->cfg;
	unsigned int i;

	ld->n_own = 0;
	if (cfg == NULL)
		return;
	own_add(ld, cfg->port[EGRESS_PORT_INSIDE].addr, "ports.inside.address");
	own_add(ld, cfg->port[EGRESS_PORT_OUTSIDE].addr, "ports.outside.address");
	for (i = 0; i < cfg->n_nat_addrs && i < EGRESS_MAX_NAT_ADDRS; i++) {
		char what[32];

		snprintf(what, sizeof(what), "nat.addresses[%u]", i);
		own_add(ld, cfg->nat_addrs[i], what);
	}
}

/* The own address equal to / inside the prefix, or NULL. */
const struct own_addr *
ld_own_in_prefix(const struct ld *ld, uint32_t ip, uint8_t len)
{
	unsigned int i;

	for (i = 0; i < ld->n_own; i++)
		if ((ld->own[i].ip & mask4(len)) == ip)
			return &ld->own[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Istio's own label and domain rules, exactly (pkg/config/labels,     */
/* pkg/config/validation/agent): either case, "*x" first labels        */

/* labels.IsDNS1123Label(): label_chars(), at most 63 bytes. */
bool
istio_label(const char *s, size_t len)
{
	return len <= 63 && label_chars(s, len, true);
}

/* labels.IsWildcardDNS1123Label(): "*", or a label led by "*" or "*-". */
static bool
istio_wildcard_label(const char *s, size_t len)
{
	if (len > 63)
		return false;
	if (len == 1 && s[0] == '*')
		return true;
	if (len > 1 && s[0] == '*')
		return istio_label(s + 1, len - 1) ||
		       (len > 2 && s[1] == '-' && istio_label(s + 2, len - 2));
	return istio_label(s, len);
}

/* Would Go's strconv.Atoi() take s (a sign, digits, within 64 bits)? */
static bool
go_atoi_ok(const char *s)
{
	const char *d = s[0] == '+' || s[0] == '-' ? s + 1 : s;
	size_t n = strlen(d);

	while (n > 1 && d[0] == '0') { /* leading zeros do not count towards the range */
		d++;
		n--;
	}
	if (!all_digits(d, n))
		return false;
	/* INT64_MAX has 19 digits; "-9223372036854775808" is the one 19-digit edge */
	return n < 19 || (n == 19 && strcmp(d, s[0] == '-' ? "9223372036854775808" :
							     "9223372036854775807") <= 0);
}

/* Istio's message for the label at p (len bytes) of domain. @return false. */
static bool
bad_label(struct ld *ld, const char *domain, const char *p, size_t len, char *err, size_t sz)
{
	char label[QUOTE_MAX + 1];

	snprintf(label, sizeof(label), "%.*s", (int)len, p);
	snprintf(err, sz, "domain name %s invalid (label %s invalid)", yr_quote(&ld->r, domain),
		 yr_quote(&ld->r, label));
	return false;
}

/* agent.ValidateDNS1123Labels() on labels (part of domain); Istio's messages. */
static bool
istio_dns_labels(struct ld *ld, const char *domain, const char *labels, char *err, size_t sz)
{
	const char *p = labels, *tld = strrchr(labels, '.');

	tld = tld != NULL ? tld + 1 : labels;
	if (go_atoi_ok(tld)) {
		snprintf(err, sz,
			 "domain name %s invalid (top level domain %s cannot be all-numeric)",
			 yr_quote(&ld->r, domain), yr_quote(&ld->r, tld));
		return false;
	}
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t l = dot != NULL ? (size_t)(dot - p) : strlen(p);

		if (dot == NULL && l == 0) /* the last label may be empty: "istio.io." */
			return true;
		if (!istio_label(p, l))
			return bad_label(ld, domain, p, l, err, sz);
		if (dot == NULL)
			return true;
		p = dot + 1;
	}
}

/* agent.CheckDNS1123Preconditions(). */
bool
ld_istio_domain_size(struct ld *ld, const char *domain, char *err, size_t sz)
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

bool
ld_istio_wildcard_domain(struct ld *ld, const char *domain, char *err, size_t sz)
{
	const char *dot;
	size_t first;

	if (!ld_istio_domain_size(ld, domain, err, sz))
		return false;
	dot = strchr(domain, '.');
	first = dot != NULL ? (size_t)(dot - domain) : strlen(domain);
	if (!istio_wildcard_label(domain, first))
		return bad_label(ld, domain, domain, first, err, sz);
	return dot == NULL || istio_dns_labels(ld, domain, dot + 1, err, sz);
}

bool
ld_istio_fqdn(struct ld *ld, const char *name, char *err, size_t sz)
{
	return ld_istio_domain_size(ld, name, err, sz) && istio_dns_labels(ld, name, name, err, sz);
}

bool
istio_partial_wildcard(const char *host)
{
	return strchr(host, '*') != NULL && strcmp(host, "*") != 0 && strncmp(host, "*.", 2) != 0;
}

/* [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])? (Istio's qualifiedNameFmt) */
static bool
istio_qualified_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || !is_alnum(s[0], true) || !is_alnum(s[len - 1], true))
		return false;
	for (i = 1; i + 1 < len; i++)
		if (!is_alnum(s[i], true) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

/* Labels of any case and length joined by dots (a label key's DNS prefix); not empty. */
static bool
istio_dns_prefix(const char *s, size_t len)
{
	const char *end = s + len;

	for (;;) {
		const char *dot = memchr(s, '.', (size_t)(end - s));
		size_t l = dot != NULL ? (size_t)(dot - s) : (size_t)(end - s);

		if (!label_chars(s, l, true))
			return false;
		if (dot == NULL)
			return true;
		s = dot + 1;
	}
}

/*
 * Istio's validateTagKey() of the len bytes at k: tagRegexp (an optional
 * DNS prefix and "/", then a qualified name), then the lengths. @return
 * NULL when valid, else what Istio adds to "invalid tag key: K".
 */
static const char *
tag_key_error(const char *k, size_t len)
{
	const char *slash = memchr(k, '/', len);
	const char *name = slash != NULL ? slash + 1 : k;
	size_t nl = len - (size_t)(name - k);

	if (!istio_qualified_name(name, nl) ||
	    (slash != NULL && !istio_dns_prefix(k, (size_t)(slash - k))))
		return "";
	if (slash != NULL && (size_t)(slash - k) > 253)
		return " (DNS prefix is too long)";
	if (nl > 63)
		return " (name is too long)";
	return NULL;
}

bool
ld_istio_label_pair(struct ld *ld, const struct ynode *kn, const struct ynode *vn,
		    const char *value)
{
	const char *why = tag_key_error(kn->str, kn->len);
	bool ok = why == NULL;

	if (!ok)
		yr_err(&ld->r, kn, "invalid tag key: %s%s", yr_quote_node(&ld->r, kn), why);
	/* Istio's labelValueRegexp: empty, or a qualified name (no length limit) */
	if (value != NULL && value[0] != '\0' && !istio_qualified_name(value, strlen(value))) {
		yr_err(&ld->r, vn, "invalid tag value: %s", yr_quote(&ld->r, value));
		ok = false;
	}
	return ok;
}

/*
 * Go's netip.ParseAddr(), which Istio's ValidateIPAddress() is: IPv4 in four
 * decimal fields without leading zeros, or IPv6 with an optional non-empty
 * zone ("fe80::1%eth0"), never a prefix.
 */
bool
istio_ip_address(const char *s)
{
	char buf[INET6_ADDRSTRLEN];
	const char *pct = strchr(s, '%');
	size_t alen = pct != NULL ? (size_t)(pct - s) : strlen(s);
	uint8_t bin[16];

	if (alen >= sizeof(buf))
		return false;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (pct == NULL && inet_pton(AF_INET, buf, bin) == 1)
		return true;
	return (pct == NULL || pct[1] != '\0') && inet_pton(AF_INET6, buf, bin) == 1;
}

/* What follows "unix://" in a bind or an endpoint, or NULL: not a unix domain socket. */
const char *
istio_unix_path(const char *s)
{
	static const char prefix[] = "unix://";

	return s != NULL && strncmp(s, prefix, sizeof(prefix) - 1) == 0 ? s + sizeof(prefix) - 1 :
									  NULL;
}

/*
 * Istio's ValidateUnixAddress() of what follows "unix://": an abstract
 * socket ("@name") or an absolute path to a file. Writes Istio's message.
 */
bool
istio_unix_address(const char *path, char *err, size_t sz)
{
	size_t len = strlen(path);

	if (len == 0) {
		snprintf(err, sz, "unix address must not be empty");
		return false;
	}
	if (path[0] == '@')
		return true;
	if (path[0] != '/' || path[len - 1] == '/') {
		snprintf(err, sz, "%.*s is not an absolute path to a file", QUOTE_MAX, path);
		return false;
	}
	return true;
}

/* Istio's validateSidecarOrGatewayHostnamePart(): errors reported at n. */
static void
ld_host_part(struct ld *ld, const struct ynode *n, const char *host, bool gateway)
{
	char err[MSG_MAX];

	if (strcmp(host, "*") != 0 && strchr(host, '.') == NULL)
		yr_err(&ld->r, n, "short names (non FQDN) are not allowed");
	/* a Gateway takes an IP address for a host as well */
	if (!ld_istio_wildcard_domain(ld, host, err, sizeof(err)) &&
	    !(gateway && istio_ip_address(host)))
		yr_err(&ld->r, n, "%s", err);
	if (strchr(host, '*') != NULL && strcmp(host, "*") != 0 && strncmp(host, "*.", 2) != 0)
		yr_err(&ld->r, n, "partial wildcard %s not allowed", yr_quote(&ld->r, host));
}

/*
 * Istio's agent.ValidateNamespaceSlashWildcardHostname(): "namespace/host"
 * (a Gateway's may leave the namespace out), the namespace ".", "*", "~" (a
 * Sidecar's, or a Gateway's converted from the Gateway API) or a label, the
 * host a FQDN, "*" or "*.suffix" (a Gateway's may be an IP address).
 * Every error is reported at n, in Istio's words.
 */
void
ld_istio_ns_host(struct ld *ld, const struct ynode *n, const char *host, bool gateway,
		 bool gw_semantics)
{
	const char *slash = strchr(host, '/');
	char ns[QUOTE_MAX + 1];
	size_t nl;

	if (slash == NULL) {
		if (gateway)
			ld_host_part(ld, n, host, true);
		else
			yr_err(&ld->r, n, "host must be of form namespace/dnsName");
		return;
	}
	nl = (size_t)(slash - host);
	if (nl == 0 || slash[1] == '\0')
		yr_err(&ld->r, n, "config namespace and dnsName in host entry cannot be empty");
	snprintf(ns, sizeof(ns), "%.*s", (int)nl, host);
	if (!(nl == 1 && (host[0] == '*' || host[0] == '.' ||
			  (host[0] == '~' && (!gateway || gw_semantics)))) &&
	    !istio_label(host, nl))
		yr_err(&ld->r, n, "invalid namespace value %s in %s", yr_quote(&ld->r, ns),
		       gateway ? "gateway" : "sidecar");
	ld_host_part(ld, n, slash + 1, gateway);
}
