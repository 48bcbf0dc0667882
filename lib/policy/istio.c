/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Istio networking loader: ServiceEntry, Gateway, DestinationRule,
 * VirtualService and Sidecar YAML
 * (networking.istio.io v1alpha3 / v1beta1 / v1) read into the policy model and
 * validated with Istio's own rules and messages where Istio has them, plus the
 * checks an L4 gateway needs (an entry that opens every destination, an
 * address that is the appliance itself, host bits in a CIDR, ...).
 *
 * The loader never stops at the first problem: every diagnostic carries the
 * file, line and column of the offending node and its YAML path
 * ("spec.ports[0].number: ..."), so that one run of `egressd --check` shows an
 * operator everything there is to fix. Unknown fields are warnings, never
 * errors: users apply the YAML they already have, and Istio adds fields.
 *
 * Control thread only: allocates freely, never logs or prints.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "diag.h"
#include "policy_private.h"
#include "ydoc.h"

#define ISTIO_GROUP "networking.istio.io"
#define YPATH_MAX 256
#define QUOTE_MAX 80              /* bytes of a value shown in a message */
#define N_QBUF 4
#define MSG_MAX 768

/* a connectTimeout is compared with a flow's 32-bit age (flow_age()) */
static_assert(EGRESS_TIMEOUT_MAX_MS < (1ull << (8 * sizeof(((struct flow *)0)->last_seen) - 1)),
	      "EGRESS_TIMEOUT_MAX_MS must stay below half the range of flow.last_seen");

/* Every address the appliance owns: no rule may send traffic to one of them. */
#define MAX_OWN_ADDRS (EGRESS_PORT_MAX + EGRESS_MAX_NAT_ADDRS)

struct own_addr {
	uint32_t ip;              /* host order */
	char what[32];            /* the config key that gives it */
};

/* State of one file being loaded. */
struct ld {
	const struct egress_config *cfg; /* may be NULL (fuzzing) */
	struct policy_model *m;
	struct diag_list *dl;
	const char *file;         /* model-owned copy, for ypos and diagnostics */
	unsigned int doc;
	bool oom;                 /* an allocation failed: the model is partial */
	char path[YPATH_MAX];     /* YAML path of the node being read */
	size_t path_len;
	char qbuf[N_QBUF][QUOTE_MAX * 4 + 32];
	unsigned int qi;
	struct own_addr own[MAX_OWN_ADDRS];
	unsigned int n_own;
};

/* The L4 meaning of Istio's protocol names (case-insensitive, as in Istio). */
struct proto_info {
	const char *name;
	uint8_t l4proto;
	bool http;                /* Istio's IsHTTP(): hosts told apart by Host */
	bool tls;                 /* Istio's IsTLS(): hosts told apart by SNI */
};

static const struct proto_info protocols[] = {
	{ "TCP", IPPROTO_TCP, false, false },
	{ "HTTP", IPPROTO_TCP, true, false },
	{ "HTTPS", IPPROTO_TCP, false, true },
	{ "HTTP2", IPPROTO_TCP, true, false },
	{ "GRPC", IPPROTO_TCP, true, false },
	{ "GRPC-WEB", IPPROTO_TCP, true, false },
	{ "TLS", IPPROTO_TCP, false, true },
	{ "MONGO", IPPROTO_TCP, false, false },
	{ "REDIS", IPPROTO_TCP, false, false },
	{ "MYSQL", IPPROTO_TCP, false, false },
	/* An extension: Istio has no UDP, but an L4 gateway can carry it. */
	{ "UDP", IPPROTO_UDP, false, false },
};

#define PROTOCOL_LIST "HTTP, HTTPS, HTTP2, GRPC, GRPC-WEB, TLS, MONGO, REDIS, MYSQL, TCP, UDP"

/* ------------------------------------------------------------------ */
/* Paths, quoting and diagnostics                                      */

static size_t
path_push(struct ld *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append to the current YAML path; returns the mark that path_pop() restores. */
static size_t
path_push(struct ld *ld, const char *fmt, ...)
{
	size_t mark = ld->path_len;
	size_t room = sizeof(ld->path) - mark;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(ld->path + mark, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		ld->path[mark] = '\0';
	else if ((size_t)n >= room)
		ld->path_len = sizeof(ld->path) - 1;
	else
		ld->path_len = mark + (size_t)n;
	return mark;
}

static size_t
path_key(struct ld *ld, const char *key)
{
	return path_push(ld, "%s%s", ld->path_len > 0 ? "." : "", key);
}

static size_t
path_idx(struct ld *ld, size_t i)
{
	return path_push(ld, "[%zu]", i);
}

static void
path_pop(struct ld *ld, size_t mark)
{
	ld->path_len = mark;
	ld->path[mark] = '\0';
}

/*
 * A value as it goes into a message: double-quoted, escaped, truncated. The
 * buffers rotate so that a message can quote a few values at once.
 */
static const char *
q(struct ld *ld, const char *s)
{
	char *buf = ld->qbuf[ld->qi++ % N_QBUF];
	size_t o = 0, i;

	buf[o++] = '"';
	for (i = 0; s != NULL && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		/* cut on a character boundary: the message stays valid UTF-8 */
		if (i >= QUOTE_MAX && (c & 0xc0) != 0x80) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(buf + o, 5, "\\x%02x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static void
ld_diag(struct ld *ld, enum diag_severity sev, const struct ynode *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* One diagnostic at node n, prefixed with the current YAML path. */
static void
ld_diag(struct ld *ld, enum diag_severity sev, const struct ynode *n, const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ld->path_len > 0)
		diag_add(ld->dl, sev, ld->file, n != NULL ? n->line : 0, n != NULL ? n->col : 0,
			 "%s: %s", ld->path, msg);
	else
		diag_add(ld->dl, sev, ld->file, n != NULL ? n->line : 0, n != NULL ? n->col : 0,
			 "%s", msg);
}

#define ld_err(ld, n, ...) ld_diag(ld, DIAG_ERROR, n, __VA_ARGS__)
#define ld_warn(ld, n, ...) ld_diag(ld, DIAG_WARNING, n, __VA_ARGS__)

static char *
ld_strdup(struct ld *ld, const char *s)
{
	char *d = strdup(s != NULL ? s : "");

	if (d == NULL)
		ld->oom = true;
	return d;
}

static void *
ld_calloc(struct ld *ld, size_t n, size_t size)
{
	void *p;

	if (n == 0)
		return NULL;
	p = calloc(n, size);
	if (p == NULL)
		ld->oom = true;
	return p;
}

/* ------------------------------------------------------------------ */
/* Typed access to the YAML tree                                       */

static const char *
ytype_name(const struct ynode *n)
{
	switch (n->type) {
	case YNODE_MAP:
		return "a mapping";
	case YNODE_SEQ:
		return "a list";
	case YNODE_SCALAR:
	default:
		return "a scalar";
	}
}

/* What a node is, for "expected X, got Y" messages. */
static const char *
ydescribe(struct ld *ld, const struct ynode *n)
{
	if (n->type != YNODE_SCALAR)
		return ytype_name(n);
	return q(ld, n->str);
}

/*
 * The value of key in map when it has type t. Absent or null: NULL, silently.
 * Another type: an error at the value, and NULL.
 */
static const struct ynode *
ld_get(struct ld *ld, const struct ynode *map, const char *key, enum ynode_type t)
{
	const struct ynode *v = ymap_get(map, key);
	size_t mark;

	if (v == NULL || ynode_is_null(v))
		return NULL;
	if (v->type == t)
		return v;
	mark = path_key(ld, key);
	ld_err(ld, v, "expected %s, got %s",
	       t == YNODE_MAP ? "a mapping" : t == YNODE_SEQ ? "a list" : "a string",
	       ydescribe(ld, v));
	path_pop(ld, mark);
	return NULL;
}

/* True when key is missing from map or null: "required" checks fire on this. */
static bool
ld_absent(const struct ynode *map, const char *key)
{
	return ynode_is_null(ymap_get(map, key));
}

/* A scalar's text, with the error for anything else (path already pushed). */
static const char *
ld_str(struct ld *ld, const struct ynode *n)
{
	if (n == NULL || ynode_is_null(n))
		return NULL;
	if (n->type != YNODE_SCALAR) {
		ld_err(ld, n, "expected a string, got %s", ytype_name(n));
		return NULL;
	}
	return n->str;
}

/* The string value of key; *node gets the value node (NULL when absent). */
static const char *
ld_get_str(struct ld *ld, const struct ynode *map, const char *key, const struct ynode **node)
{
	const struct ynode *v = ld_get(ld, map, key, YNODE_SCALAR);

	if (node != NULL)
		*node = v;
	return v != NULL ? v->str : NULL;
}

/*
 * A YAML integer: a plain (unquoted) decimal scalar, as the Kubernetes API
 * server wants for an integer field. Overflow saturates; callers range-check
 * and quote n->str. @return 0, or -1 after an error.
 */
static int
ld_int(struct ld *ld, const struct ynode *n, int64_t *v)
{
	const char *s = n->str;
	bool neg = false;
	int64_t val = 0;

	if (n->type != YNODE_SCALAR || !n->plain)
		goto bad;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (*s < '0' || *s > '9')
		goto bad;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			goto bad;
		if (val > (INT64_MAX - (*s - '0')) / 10)
			val = INT64_MAX;
		else
			val = val * 10 + (*s - '0');
	}
	*v = neg ? -val : val;
	return 0;
bad:
	ld_err(ld, n, "expected an integer, got %s%s",
	       n->type == YNODE_SCALAR && !n->plain ? "the string " : "", ydescribe(ld, n));
	return -1;
}

static bool
in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* A warning for every key of map that is not in known (NULL-terminated). */
static void
ld_unknown_fields(struct ld *ld, const struct ynode *map, const char *const *known)
{
	size_t i, mark;

	if (map == NULL || map->type != YNODE_MAP)
		return;
	for (i = 0; i < map->n; i++) {
		const struct ynode *k = map->items[2 * i];

		if (k->type != YNODE_SCALAR || in_list(k->str, known))
			continue;
		mark = path_key(ld, k->str);
		ld_warn(ld, k, "unknown field, ignored");
		path_pop(ld, mark);
	}
}

/* A warning for a known field that an L4 gateway cannot act on. */
static void
ld_unhonoured(struct ld *ld, const struct ynode *map, const char *key, const char *why)
{
	const struct ynode *k = ymap_key(map, key);
	size_t mark;

	if (k == NULL)
		return;
	mark = path_key(ld, key);
	ld_warn(ld, k, "%s", why);
	path_pop(ld, mark);
}

/* ------------------------------------------------------------------ */
/* Names and hosts (Kubernetes and Istio rules)                        */

static bool
is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63 bytes. */
static bool
is_dns1123_label(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 63 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
		return false;
	for (i = 1; i + 1 < len; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

/* RFC 1123 subdomain (Kubernetes object names): labels joined by dots. */
static bool
is_dns1123_subdomain(const char *s)
{
	size_t len = strlen(s);
	const char *p = s;

	if (len == 0 || len > 253)
		return false;
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t l = dot != NULL ? (size_t)(dot - p) : strlen(p);

		if (!is_dns1123_label(p, l))
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

/*
 * Istio's validateDNS1123Labels(): dot-separated labels, a top-level domain
 * that is not all digits, an optional trailing dot. Writes Istio's message.
 */
static bool
check_dns_labels(struct ld *ld, const char *domain, const char *labels, char *err, size_t sz)
{
	const char *p = labels, *tld = strrchr(labels, '.');

	tld = tld != NULL ? tld + 1 : labels;
	if (all_digits(tld, strlen(tld))) {
		snprintf(err, sz,
			 "domain name %s invalid (top level domain %s cannot be all-numeric)",
			 q(ld, domain), q(ld, tld));
		return false;
	}
	for (;;) {
		const char *dot = strchr(p, '.');
		size_t l = dot != NULL ? (size_t)(dot - p) : strlen(p);

		/* the last label may be empty: "istio.io." */
		if (dot == NULL && l == 0 && p != labels)
			return true;
		if (!is_dns1123_label(p, l)) {
			char label[QUOTE_MAX + 1];

			snprintf(label, sizeof(label), "%.*s", (int)l, p);
			snprintf(err, sz, "domain name %s invalid (label %s invalid)",
				 q(ld, domain), q(ld, label));
			return false;
		}
		if (dot == NULL)
			return true;
		p = dot + 1;
	}
}

/* Istio's ValidateWildcardDomain(): a FQDN, or one whose first label is "*". */
static bool
check_wildcard_domain(struct ld *ld, const char *domain, char *err, size_t sz)
{
	const char *dot;
	size_t first;

	if (strlen(domain) > 255) {
		snprintf(err, sz, "domain name %s too long (max 255)", q(ld, domain));
		return false;
	}
	if (domain[0] == '\0') {
		snprintf(err, sz, "empty domain name not allowed");
		return false;
	}
	dot = strchr(domain, '.');
	first = dot != NULL ? (size_t)(dot - domain) : strlen(domain);
	if (!(first == 1 && domain[0] == '*') && !is_dns1123_label(domain, first)) {
		char label[QUOTE_MAX + 1];

		snprintf(label, sizeof(label), "%.*s", (int)first, domain);
		snprintf(err, sz, "domain name %s invalid (label %s invalid)", q(ld, domain),
			 q(ld, label));
		return false;
	}
	if (dot == NULL)
		return true;
	return check_dns_labels(ld, domain, dot + 1, err, sz);
}

/* Istio's ValidateFQDN(): no wildcard anywhere. */
static bool
is_fqdn(struct ld *ld, const char *name)
{
	char err[MSG_MAX];

	if (name[0] == '\0' || strlen(name) > 255)
		return false;
	return check_dns_labels(ld, name, name, err, sizeof(err));
}

/* ------------------------------------------------------------------ */
/* Addresses                                                           */

static uint32_t
mask4(uint8_t len)
{
	return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

/*
 * "a.b.c.d", "a.b.c.d/len", an IPv6 address or IPv6 CIDR. Host bits are
 * cleared in a and reported through *host_bits. @return 0 or -1.
 */
static int
parse_prefix(const char *s, struct se_address *a, bool *host_bits)
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

static void
format_prefix(const struct se_address *a, char *buf, size_t sz)
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

static void
format_ip4(uint32_t ip, char *buf, size_t sz)
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
static void
own_init(struct ld *ld)
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
static const struct own_addr *
own_in_prefix(const struct ld *ld, uint32_t ip, uint8_t len)
{
	unsigned int i;

	for (i = 0; i < ld->n_own; i++)
		if ((ld->own[i].ip & mask4(len)) == ip)
			return &ld->own[i];
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Model storage                                                       */

/*
 * Make room for element n of an array that holds n: the capacity is implied by
 * n (4, then doubling whenever n reaches a power of two), so the model needs
 * no capacity fields and 100 000 entries cost O(log n) reallocations.
 */
static void *
grow(void *v, unsigned int n, size_t size)
{
	if (n == 0)
		return realloc(v, 4 * size);
	if (n < 4 || (n & (n - 1)) != 0)
		return v;
	return realloc(v, (size_t)n * 2 * size);
}

static const char *
model_add_file(struct policy_model *m, const char *path)
{
	char **files = grow(m->files, m->n_files, sizeof(*files));
	char *copy;

	if (files == NULL)
		return NULL;
	m->files = files;
	copy = strdup(path);
	if (copy == NULL)
		return NULL;
	m->files[m->n_files++] = copy;
	return copy;
}

static void
labels_free(struct egress_label *v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		free(v[i].key);
		free(v[i].value);
	}
	free(v);
}

static void
se_free(struct service_entry *se)
{
	unsigned int i, j;

	free(se->name);
	free(se->ns);
	for (i = 0; i < se->n_hosts; i++)
		free(se->hosts[i]);
	free(se->hosts);
	free(se->addresses);
	for (i = 0; i < se->n_ports; i++) {
		free(se->ports[i].name);
		free(se->ports[i].protocol);
	}
	free(se->ports);
	for (i = 0; i < se->n_endpoints; i++) {
		free(se->endpoints[i].address);
		for (j = 0; j < se->endpoints[i].n_ports; j++)
			free(se->endpoints[i].ports[j].name);
		free(se->endpoints[i].ports);
		labels_free(se->endpoints[i].labels, se->endpoints[i].n_labels);
	}
	free(se->endpoints);
	memset(se, 0, sizeof(*se));
}

static void
gw_free(struct gateway *gw)
{
	unsigned int i, j;

	free(gw->name);
	free(gw->ns);
	for (i = 0; i < gw->n_selector; i++) {
		free(gw->selector[i].key);
		free(gw->selector[i].value);
	}
	free(gw->selector);
	for (i = 0; i < gw->n_servers; i++) {
		struct gw_server *s = &gw->servers[i];

		free(s->port_name);
		free(s->protocol);
		for (j = 0; j < s->n_hosts; j++)
			free(s->hosts[j]);
		free(s->hosts);
		free(s->tls_mode);
	}
	free(gw->servers);
	memset(gw, 0, sizeof(*gw));
}

static void
dr_free(struct destination_rule *dr)
{
	unsigned int i;

	free(dr->name);
	free(dr->ns);
	free(dr->host);
	for (i = 0; i < dr->n_subsets; i++) {
		free(dr->subsets[i].name);
		labels_free(dr->subsets[i].labels, dr->subsets[i].n_labels);
		free(dr->subsets[i].ports);
	}
	free(dr->subsets);
	free(dr->ports);
	memset(dr, 0, sizeof(*dr));
}

static void
strv_free(char **v, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
vs_free(struct virtual_service *vs)
{
	unsigned int i, j;

	free(vs->name);
	free(vs->ns);
	strv_free(vs->hosts, vs->n_hosts);
	strv_free(vs->gateways, vs->n_gateways);
	for (i = 0; i < vs->n_routes; i++) {
		struct vs_route *r = &vs->routes[i];

		for (j = 0; j < r->n_matches; j++) {
			free(r->matches[j].subnets);
			strv_free(r->matches[j].gateways, r->matches[j].n_gateways);
		}
		free(r->matches);
		for (j = 0; j < r->n_dests; j++) {
			free(r->dests[j].host);
			free(r->dests[j].subset);
		}
		free(r->dests);
	}
	free(vs->routes);
	memset(vs, 0, sizeof(*vs));
}

static void
sidecar_free(struct sidecar *sc)
{
	free(sc->name);
	free(sc->ns);
	labels_free(sc->selector, sc->n_selector);
	memset(sc, 0, sizeof(*sc));
}

void
policy_model_free(struct policy_model *m)
{
	unsigned int i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n_ses; i++)
		se_free(&m->ses[i]);
	free(m->ses);
	for (i = 0; i < m->n_gateways; i++)
		gw_free(&m->gateways[i]);
	free(m->gateways);
	for (i = 0; i < m->n_drs; i++)
		dr_free(&m->drs[i]);
	free(m->drs);
	for (i = 0; i < m->n_vss; i++)
		vs_free(&m->vss[i]);
	free(m->vss);
	for (i = 0; i < m->n_sidecars; i++)
		sidecar_free(&m->sidecars[i]);
	free(m->sidecars);
	for (i = 0; i < m->n_files; i++)
		free(m->files[i]);
	free(m->files);
	memset(m, 0, sizeof(*m));
}

/* Move a parsed resource into the model; on failure it is freed. */
static void
model_add_se(struct ld *ld, struct service_entry *se)
{
	struct service_entry *v = grow(ld->m->ses, ld->m->n_ses, sizeof(*v));

	if (v == NULL) {
		ld->oom = true;
		se_free(se);
		return;
	}
	ld->m->ses = v;
	v[ld->m->n_ses++] = *se;
}

static void
model_add_gw(struct ld *ld, struct gateway *gw)
{
	struct gateway *v = grow(ld->m->gateways, ld->m->n_gateways, sizeof(*v));

	if (v == NULL) {
		ld->oom = true;
		gw_free(gw);
		return;
	}
	ld->m->gateways = v;
	v[ld->m->n_gateways++] = *gw;
}

static void
model_add_dr(struct ld *ld, struct destination_rule *dr)
{
	struct destination_rule *v = grow(ld->m->drs, ld->m->n_drs, sizeof(*v));

	if (v == NULL) {
		ld->oom = true;
		dr_free(dr);
		return;
	}
	ld->m->drs = v;
	v[ld->m->n_drs++] = *dr;
}

static void
model_add_vs(struct ld *ld, struct virtual_service *vs)
{
	struct virtual_service *v = grow(ld->m->vss, ld->m->n_vss, sizeof(*v));

	if (v == NULL) {
		ld->oom = true;
		vs_free(vs);
		return;
	}
	ld->m->vss = v;
	v[ld->m->n_vss++] = *vs;
}

static void
model_add_sidecar(struct ld *ld, struct sidecar *sc)
{
	struct sidecar *v = grow(ld->m->sidecars, ld->m->n_sidecars, sizeof(*v));

	if (v == NULL) {
		ld->oom = true;
		sidecar_free(sc);
		return;
	}
	ld->m->sidecars = v;
	v[ld->m->n_sidecars++] = *sc;
}

static struct ypos
ld_pos(const struct ld *ld, const struct ynode *n)
{
	struct ypos p = {
		.file = ld->file,
		.doc = ld->doc,
		.line = n != NULL ? n->line : 0,
		.col = n != NULL ? n->col : 0,
	};
	return p;
}

/* ------------------------------------------------------------------ */
/* Shared pieces of the resources                                      */

struct meta {
	const char *name;
	const char *ns;
	const struct ynode *name_node; /* the position of the resource */
};

static const char *const metadata_fields[] = {
	"name", "namespace", "labels", "annotations",
	/* what `kubectl get -o yaml` adds; meaningless here, but not wrong */
	"uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
	"deletionGracePeriodSeconds", "managedFields", "ownerReferences", "finalizers",
	"generateName", "selfLink", NULL,
};

/* metadata.name (required) and metadata.namespace. @return 0 or -1. */
static int
ld_metadata(struct ld *ld, const struct ynode *res, struct meta *md)
{
	const struct ynode *meta = ld_get(ld, res, "metadata", YNODE_MAP);
	const struct ynode *n;
	size_t mark;
	int rc = 0;

	memset(md, 0, sizeof(*md));
	md->ns = "";
	md->name_node = res;
	if (meta == NULL) {
		if (!ld_absent(res, "metadata"))
			return -1; /* not a mapping: already reported */
		mark = path_key(ld, "metadata.name");
		ld_err(ld, res, "required field missing");
		path_pop(ld, mark);
		return -1;
	}
	mark = path_key(ld, "metadata");
	ld_unknown_fields(ld, meta, metadata_fields);
	md->name = ld_get_str(ld, meta, "name", &n);
	if (md->name == NULL || md->name[0] == '\0') {
		path_key(ld, "name");
		ld_err(ld, n != NULL ? n : meta, "required field missing");
		md->name = NULL;
		rc = -1;
	} else {
		md->name_node = n;
		if (!is_dns1123_subdomain(md->name)) {
			path_key(ld, "name");
			ld_err(ld, n, "invalid name %s (want a lowercase RFC 1123 subdomain)",
			       q(ld, md->name));
			rc = -1;
		}
	}
	path_pop(ld, mark);
	mark = path_key(ld, "metadata");
	md->ns = ld_get_str(ld, meta, "namespace", &n);
	if (md->ns == NULL) {
		md->ns = "";
	} else if (!is_dns1123_label(md->ns, strlen(md->ns))) {
		path_key(ld, "namespace");
		ld_err(ld, n, "invalid namespace %s (want a lowercase RFC 1123 label)",
		       q(ld, md->ns));
		rc = -1;
	}
	path_pop(ld, mark);
	return rc;
}

/* A mapping of string to string (labels, selectors); calls f for each pair. */
static void
ld_string_map(struct ld *ld, const struct ynode *map,
	      void (*f)(struct ld *, const char *, const char *, void *), void *arg)
{
	size_t i, mark;

	for (i = 0; i < map->n; i++) {
		const struct ynode *k = map->items[2 * i];
		const struct ynode *v = map->items[2 * i + 1];

		if (k->type != YNODE_SCALAR)
			continue;
		mark = path_key(ld, k->str);
		if (v->type != YNODE_SCALAR)
			ld_err(ld, v, "expected a string, got %s", ytype_name(v));
		else if (f != NULL)
			f(ld, k->str, v->str, arg);
		path_pop(ld, mark);
	}
}

/* Where ld_string_map() puts pairs: an array sized for the map, and its count. */
struct label_sink {
	struct egress_label *v;
	unsigned int *n;
};

static void
label_add(struct ld *ld, const char *k, const char *v, void *arg)
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
static void
ld_export_to(struct ld *ld, const struct ynode *spec, const char *ns, bool is_se)
{
	const struct ynode *k = ymap_key(spec, "exportTo");
	const struct ynode *seq = ld_get(ld, spec, "exportTo", YNODE_SEQ);
	size_t i, j, mark;

	if (k == NULL)
		return;
	mark = path_key(ld, "exportTo");
	ld_warn(ld, k, "namespace visibility is not enforced by an L4 gateway "
		"(every client that reaches it is served); ignored");
	for (i = 0; seq != NULL && i < seq->n; i++) {
		const struct ynode *n = seq->items[i];
		const char *e;
		size_t m2 = path_idx(ld, i);

		e = ld_str(ld, n);
		if (e == NULL) {
			path_pop(ld, m2);
			continue;
		}
		if (!(strcmp(e, ".") == 0 || strcmp(e, "*") == 0 ||
		      (is_se && strcmp(e, "~") == 0) || is_dns1123_label(e, strlen(e))))
			ld_err(ld, n, "invalid exportTo entry %s (want \".\", \"*\"%s or "
			       "a namespace)", q(ld, e), is_se ? ", \"~\"" : "");
		for (j = 0; j < i; j++) {
			const char *o = ynode_str(seq->items[j]);
			bool dot_e = strcmp(e, ".") == 0, dot_o = o != NULL && strcmp(o, ".") == 0;

			if (o == NULL)
				continue;
			if (strcmp(o, e) == 0) {
				ld_err(ld, n, "duplicate entries in exportTo for entry %s", e);
				break;
			}
			if (ns[0] != '\0' && ((dot_e && strcmp(o, ns) == 0) ||
					      (dot_o && strcmp(e, ns) == 0))) {
				ld_err(ld, n, "duplicate entries in exportTo: . and current "
				       "namespace %s", ns);
				break;
			}
		}
		path_pop(ld, m2);
	}
	path_pop(ld, mark);
}

static const struct proto_info *
proto_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++)
		if (strcasecmp(name, protocols[i].name) == 0)
			return &protocols[i];
	return NULL;
}

bool
istio_proto_is_http(const char *name)
{
	const struct proto_info *pi = name != NULL && name[0] != '\0' ? proto_find(name) : NULL;

	return pi != NULL && pi->http;
}

bool
istio_proto_is_tls(const char *name)
{
	const struct proto_info *pi = name != NULL && name[0] != '\0' ? proto_find(name) : NULL;

	return pi != NULL && pi->tls;
}

static char *
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
static long
ld_port_number(struct ld *ld, const struct ynode *map, const char *key, const char *what)
{
	const struct ynode *n = ymap_get(map, key);
	size_t mark;
	int64_t v;
	long rc = -1;

	if (n == NULL || ynode_is_null(n))
		return 0;
	mark = path_key(ld, key);
	if (ld_int(ld, n, &v) == 0) {
		if (v < 1 || v > 65535)
			ld_err(ld, n, "%s %s out of range (1-65535)", what, n->str);
		else
			rc = (long)v;
	}
	path_pop(ld, mark);
	return rc;
}

/* ------------------------------------------------------------------ */
/* ServiceEntry                                                        */

static const char *const se_spec_fields[] = {
	"hosts", "addresses", "ports", "location", "resolution", "endpoints",
	"workloadSelector", "exportTo", "subjectAltNames", NULL,
};
static const char *const se_port_fields[] = {
	"number", "protocol", "name", "targetPort", NULL,
};
static const char *const se_endpoint_fields[] = {
	"address", "ports", "labels", "network", "locality", "weight", "serviceAccount", NULL,
};

/* Which endpoint fields have had their one "cannot honour" warning. */
struct ep_warned {
	bool network, locality, service_account;
};

/* What the ServiceEntry checks need to know before reading hosts and ports. */
struct se_ctx {
	bool res_ok;              /* spec.resolution is usable */
	bool open_all;            /* NONE without addresses: ports open to anything */
	struct ep_warned warned;
};

static void
se_hosts(struct ld *ld, const struct ynode *spec, struct service_entry *se)
{
	const struct ynode *seq = ld_get(ld, spec, "hosts", YNODE_SEQ);
	char err[MSG_MAX];
	size_t i, mark = path_key(ld, "hosts");

	if (seq == NULL || seq->n == 0) {
		if (seq != NULL || ld_absent(spec, "hosts"))
			ld_err(ld, seq != NULL ? seq : spec,
			       "service entry must have at least one host");
		path_pop(ld, mark);
		return;
	}
	se->hosts = ld_calloc(ld, seq->n, sizeof(*se->hosts));
	for (i = 0; se->hosts != NULL && i < seq->n; i++) {
		const struct ynode *n = seq->items[i];
		size_t m2 = path_idx(ld, i);
		const char *h = ld_str(ld, n);

		if (h == NULL) {
			if (n->type == YNODE_SCALAR)
				ld_err(ld, n, "empty domain name not allowed");
			path_pop(ld, m2);
			continue;
		}
		/* Full wildcard is not allowed in a service entry (Istio). */
		if (strcmp(h, "*") == 0)
			ld_err(ld, n, "invalid host %s", h);
		else if (!check_wildcard_domain(ld, h, err, sizeof(err)))
			ld_err(ld, n, "%s", err);
		se->hosts[se->n_hosts++] = ld_strdup(ld, h);
		path_pop(ld, m2);
	}
	path_pop(ld, mark);
}

static void
se_addresses(struct ld *ld, const struct ynode *spec, struct service_entry *se,
	     const struct ynode **first_cidr)
{
	const struct ynode *seq = ld_get(ld, spec, "addresses", YNODE_SEQ);
	size_t i, mark;

	*first_cidr = NULL;
	if (seq == NULL || seq->n == 0)
		return;
	mark = path_key(ld, "addresses");
	se->addresses = ld_calloc(ld, seq->n, sizeof(*se->addresses));
	for (i = 0; se->addresses != NULL && i < seq->n; i++) {
		const struct ynode *n = seq->items[i];
		size_t m2 = path_idx(ld, i);
		struct se_address a = { .pos = ld_pos(ld, n) };
		const struct own_addr *own;
		const char *s = ld_str(ld, n);
		char pfx[INET6_ADDRSTRLEN + 8];
		bool host_bits;

		if (s == NULL || parse_prefix(s, &a, &host_bits) != 0) {
			if (s != NULL || n->type == YNODE_SCALAR)
				ld_err(ld, n, "invalid address %s (want an IPv4/IPv6 address or "
				       "CIDR)", q(ld, s != NULL ? s : ""));
			path_pop(ld, m2);
			continue;
		}
		if (a.cidr && *first_cidr == NULL)
			*first_cidr = n;
		format_prefix(&a, pfx, sizeof(pfx));
		if (host_bits)
			ld_err(ld, n, "%s has host bits set (the network is %s)", s, pfx);
		if (a.prefix_len == 0)
			ld_warn(ld, n, "%s opens every %s destination on this entry's ports", s,
				a.v6 ? "IPv6" : "IPv4");
		if (a.v6) {
			ld_warn(ld, n, "%s is IPv6: parsed and validated, but IPv6 is not "
				"forwarded yet", s);
		} else if (a.prefix_len == 32 && (own = own_in_prefix(ld, a.ip, 32)) != NULL) {
			ld_err(ld, n, "%s is this appliance's own address (%s)", s, own->what);
		} else if (a.prefix_len > 0 && a.prefix_len < 32 &&
			   (own = own_in_prefix(ld, a.ip, a.prefix_len)) != NULL) {
			char ip[INET_ADDRSTRLEN];

			format_ip4(own->ip, ip, sizeof(ip));
			ld_warn(ld, n, "%s contains this appliance's own address %s (%s), which "
				"is never forwarded", s, ip, own->what);
		}
		se->addresses[se->n_addresses++] = a;
		path_pop(ld, m2);
	}
	path_pop(ld, mark);
}

/* One spec.ports[] item (path already pushed); *p is zeroed. */
static void
se_port(struct ld *ld, const struct ynode *pm, struct service_entry *se, struct se_port *p,
	const struct se_ctx *cx)
{
	const struct proto_info *pi;
	const struct ynode *nn, *pn;
	const char *name, *proto;
	unsigned int j;
	size_t mark;
	long num, tgt;

	p->pos = ld_pos(ld, pm);
	ld_unknown_fields(ld, pm, se_port_fields);

	num = ld_port_number(ld, pm, "number", "port number");
	if (num == 0 && ld_absent(pm, "number")) {
		mark = path_key(ld, "number");
		ld_err(ld, pm, "required field missing");
		path_pop(ld, mark);
	}
	p->number = num > 0 ? (uint32_t)num : 0;
	tgt = ld_port_number(ld, pm, "targetPort", "targetPort");
	p->target_port = tgt > 0 ? (uint32_t)tgt : 0;

	name = ld_get_str(ld, pm, "name", &nn);
	mark = path_key(ld, "name");
	if (name == NULL || name[0] == '\0')
		ld_err(ld, nn != NULL ? nn : pm, "port name must be set");
	else if (!is_dns1123_label(name, strlen(name)))
		ld_err(ld, nn, "invalid port name: %s", name);
	path_pop(ld, mark);
	p->name = ld_strdup(ld, name);

	proto = ld_get_str(ld, pm, "protocol", &pn);
	/* Empty or absent: Istio sniffs the protocol; that is TCP at L4. */
	pi = proto == NULL || proto[0] == '\0' ? &protocols[0] : proto_find(proto);
	p->protocol = ld_strdup_upper(ld, proto);
	if (pi == NULL) {
		mark = path_key(ld, "protocol");
		ld_err(ld, pn, "unsupported protocol: %s", proto);
		path_pop(ld, mark);
		pi = &protocols[0];
	}
	p->l4proto = pi->l4proto;

	/* Istio's duplicate checks, in its words; p is the last port so far. */
	for (j = 0; name != NULL && name[0] != '\0' && j + 1 < se->n_ports; j++) {
		if (se->ports[j].name != NULL && strcmp(se->ports[j].name, name) == 0) {
			mark = path_key(ld, "name");
			ld_err(ld, nn, "service entry port name %s already defined", q(ld, name));
			path_pop(ld, mark);
			break;
		}
	}
	for (j = 0; p->number != 0 && j + 1 < se->n_ports; j++) {
		if (se->ports[j].number == p->number) {
			mark = path_key(ld, "number");
			ld_err(ld, ymap_get(pm, "number"), "service entry port %u already defined",
			       p->number);
			path_pop(ld, mark);
			break;
		}
	}
	if (cx->open_all && p->number != 0)
		ld_warn(ld, pm, "resolution NONE and no addresses: port %u/%s is open to EVERY "
			"destination (add spec.addresses to restrict it)", p->number,
			pi->l4proto == IPPROTO_UDP ? "UDP" : "TCP");
}

static void
se_ports(struct ld *ld, const struct ynode *spec, struct service_entry *se,
	 const struct se_ctx *cx)
{
	const struct ynode *seq = ld_get(ld, spec, "ports", YNODE_SEQ);
	size_t i, mark = path_key(ld, "ports");

	if (seq == NULL || seq->n == 0) {
		if (seq != NULL || ld_absent(spec, "ports"))
			ld_err(ld, seq != NULL ? seq : spec, "service entry must have at least "
			       "one port (an L4 gateway admits traffic by port)");
		path_pop(ld, mark);
		return;
	}
	se->ports = ld_calloc(ld, seq->n, sizeof(*se->ports));
	for (i = 0; se->ports != NULL && i < seq->n; i++) {
		const struct ynode *pm = seq->items[i];
		size_t m2 = path_idx(ld, i);

		if (pm->type != YNODE_MAP)
			ld_err(ld, pm, "expected a mapping, got %s", ydescribe(ld, pm));
		else
			se_port(ld, pm, se, &se->ports[se->n_ports++], cx);
		path_pop(ld, m2);
	}
	path_pop(ld, mark);
}

static bool
se_has_port_name(const struct service_entry *se, const char *name)
{
	unsigned int i;

	for (i = 0; i < se->n_ports; i++)
		if (se->ports[i].name != NULL && strcmp(se->ports[i].name, name) == 0)
			return true;
	return false;
}

static void
se_endpoint_ports(struct ld *ld, const struct ynode *em, struct service_entry *se,
		  struct se_endpoint *ep)
{
	const struct ynode *map = ld_get(ld, em, "ports", YNODE_MAP);
	size_t i, mark;

	if (map == NULL || map->n == 0)
		return;
	mark = path_key(ld, "ports");
	ep->ports = ld_calloc(ld, map->n, sizeof(*ep->ports));
	for (i = 0; ep->ports != NULL && i < map->n; i++) {
		const struct ynode *k = map->items[2 * i];
		const struct ynode *v = map->items[2 * i + 1];
		size_t m2;
		int64_t num;

		if (k->type != YNODE_SCALAR)
			continue;
		m2 = path_key(ld, k->str);
		if (ld_int(ld, v, &num) == 0) {
			if (num < 1 || num > 65535) {
				ld_err(ld, v, "port number %s out of range (1-65535)", v->str);
			} else {
				struct se_endpoint_port *p = &ep->ports[ep->n_ports++];

				p->name = ld_strdup(ld, k->str);
				p->number = (uint32_t)num;
			}
		}
		if (!se_has_port_name(se, k->str))
			ld_err(ld, k, "endpoint port %s is not defined by the service entry",
			       k->str);
		path_pop(ld, m2);
	}
	path_pop(ld, mark);
}

/* The address of one endpoint, checked for the resolution mode (path pushed). */
static void
se_endpoint_address(struct ld *ld, const struct ynode *an, const struct service_entry *se,
		    struct se_endpoint *ep, const struct se_ctx *cx)
{
	const char *addr = ep->address;
	const struct own_addr *own;
	struct in_addr in4;
	uint8_t in6[16];

	if (inet_pton(AF_INET, addr, &in4) == 1) {
		ep->is_ip = true;
		ep->ip = ntohl(in4.s_addr);
	} else if (inet_pton(AF_INET6, addr, in6) == 1) {
		ep->is_ip6 = true;
	}
	if (strncmp(addr, "unix://", 7) == 0) {
		ld_err(ld, an, "%s is a unix domain socket, which a network gateway cannot reach",
		       q(ld, addr));
	} else if (ep->is_ip6) {
		ld_warn(ld, an, "%s is IPv6: parsed and validated, but IPv6 is not forwarded yet",
			addr);
	} else if (ep->is_ip) {
		own = own_in_prefix(ld, ep->ip, 32);
		if (own != NULL)
			ld_err(ld, an, "%s is this appliance's own address (%s)", addr, own->what);
	} else if (!cx->res_ok || se->resolution == SE_RES_NONE) {
		/* NONE: the endpoints themselves are the error, reported once */
	} else if (se->resolution == SE_RES_STATIC) {
		ld_err(ld, an, "%s is not a valid IP (resolution STATIC needs IP addresses; use "
		       "DNS for hostnames)", addr);
	} else if (!is_fqdn(ld, addr)) {
		ld_err(ld, an, "endpoint address %s is not a valid FQDN or an IP address",
		       q(ld, addr));
	} else {
		ld_warn(ld, an, "%s is resolved by the control thread (in the background, "
			"never per flow)", q(ld, addr));
	}
}

/* One spec.endpoints[] item (path already pushed). */
static void
se_endpoint(struct ld *ld, const struct ynode *em, struct service_entry *se,
	    struct se_endpoint *ep, struct se_ctx *cx)
{
	const struct ynode *an, *wn, *lm;
	const char *addr;
	size_t mark;

	ep->pos = ld_pos(ld, em);
	ld_unknown_fields(ld, em, se_endpoint_fields);

	addr = ld_get_str(ld, em, "address", &an);
	mark = path_key(ld, "address");
	ep->address = ld_strdup(ld, addr);
	if (addr == NULL || addr[0] == '\0') {
		ld_err(ld, an != NULL ? an : em, "endpoint address must be set");
	} else if (ep->address != NULL) {
		ep->pos = ld_pos(ld, an);
		se_endpoint_address(ld, an, se, ep, cx);
	}
	path_pop(ld, mark);

	se_endpoint_ports(ld, em, se, ep);

	wn = ymap_get(em, "weight");
	if (wn != NULL && !ynode_is_null(wn)) {
		int64_t w;

		mark = path_key(ld, "weight");
		if (ld_int(ld, wn, &w) == 0) {
			if (w < 0 || w > UINT32_MAX)
				ld_err(ld, wn, "weight %s out of range (0-4294967295)", wn->str);
			else
				ep->weight = (uint32_t)w;
		}
		path_pop(ld, mark);
	}
	lm = ld_get(ld, em, "labels", YNODE_MAP);
	if (lm != NULL && lm->n > 0) {
		struct label_sink sink;

		mark = path_key(ld, "labels");
		ep->labels = ld_calloc(ld, lm->n, sizeof(*ep->labels));
		sink = (struct label_sink){ ep->labels, &ep->n_labels };
		if (ep->labels != NULL)
			ld_string_map(ld, lm, label_add, &sink);
		path_pop(ld, mark);
	}
	if (!cx->warned.network && ymap_key(em, "network") != NULL) {
		cx->warned.network = true;
		ld_unhonoured(ld, em, "network", "multi-network routing is not done by an L4 "
			      "gateway; ignored");
	}
	if (!cx->warned.locality && ymap_key(em, "locality") != NULL) {
		cx->warned.locality = true;
		ld_unhonoured(ld, em, "locality", "locality-aware load balancing is not done by "
			      "an L4 gateway; ignored");
	}
	if (!cx->warned.service_account && ymap_key(em, "serviceAccount") != NULL) {
		cx->warned.service_account = true;
		ld_unhonoured(ld, em, "serviceAccount", "an L4 gateway does not verify workload "
			      "identities; ignored");
	}
}

static void
se_endpoints(struct ld *ld, const struct ynode *spec, struct service_entry *se,
	     struct se_ctx *cx)
{
	const struct ynode *seq = ld_get(ld, spec, "endpoints", YNODE_SEQ);
	size_t i, mark;

	if (seq == NULL || seq->n == 0)
		return;
	mark = path_key(ld, "endpoints");
	se->endpoints = ld_calloc(ld, seq->n, sizeof(*se->endpoints));
	for (i = 0; se->endpoints != NULL && i < seq->n; i++) {
		const struct ynode *em = seq->items[i];
		size_t m2 = path_idx(ld, i);

		if (em->type != YNODE_MAP)
			ld_err(ld, em, "expected a mapping, got %s", ydescribe(ld, em));
		else
			se_endpoint(ld, em, se, &se->endpoints[se->n_endpoints++], cx);
		path_pop(ld, m2);
	}
	path_pop(ld, mark);
}

static const char *const resolution_names[] = {
	[SE_RES_NONE] = "NONE",
	[SE_RES_STATIC] = "STATIC",
	[SE_RES_DNS] = "DNS",
	[SE_RES_DNS_ROUND_ROBIN] = "DNS_ROUND_ROBIN",
};

/* spec.resolution; *ok is false when it is unusable (checks that need it stop). */
static enum se_resolution
se_resolution(struct ld *ld, const struct ynode *spec, bool *ok)
{
	const struct ynode *n;
	const char *s = ld_get_str(ld, spec, "resolution", &n);
	size_t mark, i;

	*ok = n != NULL || ld_absent(spec, "resolution");
	if (s == NULL)
		return SE_RES_NONE;
	for (i = 0; i < sizeof(resolution_names) / sizeof(resolution_names[0]); i++)
		if (strcmp(s, resolution_names[i]) == 0)
			return (enum se_resolution)i;
	*ok = false;
	mark = path_key(ld, "resolution");
	if (strcmp(s, "DYNAMIC_DNS") == 0)
		ld_err(ld, n, "resolution DYNAMIC_DNS is not supported: it routes by the HTTP "
		       "Host or TLS SNI of each request, which needs an L7 proxy");
	else
		ld_err(ld, n, "unsupported resolution type %s", s);
	path_pop(ld, mark);
	return SE_RES_NONE;
}

static enum se_location
se_location(struct ld *ld, const struct ynode *spec)
{
	const struct ynode *n;
	const char *s = ld_get_str(ld, spec, "location", &n);
	size_t mark;

	if (s == NULL || strcmp(s, "MESH_EXTERNAL") == 0)
		return SE_LOC_MESH_EXTERNAL;
	if (strcmp(s, "MESH_INTERNAL") == 0)
		return SE_LOC_MESH_INTERNAL;
	mark = path_key(ld, "location");
	ld_err(ld, n, "invalid location %s (want MESH_EXTERNAL or MESH_INTERNAL)", q(ld, s));
	path_pop(ld, mark);
	return SE_LOC_MESH_EXTERNAL;
}

/* The whole-entry checks that depend on the resolution mode (Istio's switch). */
static void
se_check_resolution(struct ld *ld, const struct ynode *spec, const struct service_entry *se,
		    bool has_selector)
{
	const struct ynode *hosts = ld_get(ld, spec, "hosts", YNODE_SEQ);
	const char *res = resolution_names[se->resolution];
	char err[MSG_MAX];
	size_t i, mark;

	switch (se->resolution) {
	case SE_RES_NONE:
		if (se->n_endpoints == 0)
			break;
		mark = path_key(ld, "endpoints");
		ld_err(ld, ymap_get(spec, "endpoints"),
		       "no endpoints should be provided for resolution type none");
		path_pop(ld, mark);
		break;
	case SE_RES_STATIC:
		if (se->n_endpoints != 0)
			break;
		mark = path_key(ld, "endpoints");
		ld_err(ld, spec, "endpoints must be provided if service entry resolution mode is "
		       "static%s", has_selector ? " (an L4 gateway does not read the "
		       "WorkloadEntries a workloadSelector picks)" : "");
		path_pop(ld, mark);
		break;
	case SE_RES_DNS:
	case SE_RES_DNS_ROUND_ROBIN:
		mark = path_key(ld, "hosts");
		for (i = 0; se->n_endpoints == 0 && hosts != NULL && i < hosts->n; i++) {
			const char *h = ynode_str(hosts->items[i]);
			size_t m2;

			/* only hosts that are otherwise valid: one error each */
			if (h == NULL || h[0] == '\0' || strcmp(h, "*") == 0 ||
			    !check_wildcard_domain(ld, h, err, sizeof(err)) || is_fqdn(ld, h))
				continue;
			m2 = path_idx(ld, i);
			ld_err(ld, hosts->items[i], "hosts must be FQDN if no endpoints are "
			       "provided for resolution mode %s", res);
			path_pop(ld, m2);
		}
		path_pop(ld, mark);
		if (se->resolution == SE_RES_DNS_ROUND_ROBIN && se->n_endpoints > 1) {
			mark = path_key(ld, "endpoints");
			ld_err(ld, ymap_get(spec, "endpoints"), "there must only be 0 or 1 "
			       "endpoint for resolution mode %s", res);
			path_pop(ld, mark);
		}
		break;
	}
}

/*
 * Istio: multiple hosts and plain TCP are ambiguous unless the resolution is
 * NONE (the hosts are then ignored): only HTTP Host or TLS SNI tells them
 * apart.
 */
static void
se_check_multi_host(struct ld *ld, const struct ynode *spec, const struct service_entry *se)
{
	unsigned int i;
	size_t mark;

	if (se->resolution == SE_RES_NONE || se->n_hosts < 2)
		return;
	for (i = 0; i < se->n_ports; i++) {
		const char *p = se->ports[i].protocol;
		const struct proto_info *pi = p != NULL && p[0] != '\0' ? proto_find(p) : NULL;

		if (pi == NULL || (!pi->http && !pi->tls))
			break;
	}
	if (i == se->n_ports)
		return;
	mark = path_key(ld, "hosts");
	ld_err(ld, ymap_get(spec, "hosts"), "multiple hosts provided with non-HTTP, non-TLS ports");
	path_pop(ld, mark);
}

static void
se_workload_selector(struct ld *ld, const struct ynode *spec, const struct service_entry *se,
		     bool *present)
{
	static const char *const fields[] = { "labels", NULL };
	const struct ynode *ws = ld_get(ld, spec, "workloadSelector", YNODE_MAP);
	const struct ynode *lm;
	size_t mark;

	*present = ws != NULL;
	if (ymap_key(spec, "workloadSelector") == NULL)
		return;
	ld_unhonoured(ld, spec, "workloadSelector", "an L4 gateway does not select workloads "
		      "(WorkloadEntries are not read); ignored");
	if (ws == NULL)
		return;
	mark = path_key(ld, "workloadSelector");
	ld_unknown_fields(ld, ws, fields);
	lm = ld_get(ld, ws, "labels", YNODE_MAP);
	if (lm != NULL) {
		size_t m2 = path_key(ld, "labels");

		ld_string_map(ld, lm, NULL, NULL);
		path_pop(ld, m2);
	}
	path_pop(ld, mark);
	if (se->n_endpoints != 0) {
		mark = path_key(ld, "workloadSelector");
		ld_err(ld, ymap_key(spec, "workloadSelector"), "only one of WorkloadSelector or "
		       "Endpoints is allowed in Service Entry");
		path_pop(ld, mark);
	}
}

static void
se_subject_alt_names(struct ld *ld, const struct ynode *spec)
{
	const struct ynode *san = ld_get(ld, spec, "subjectAltNames", YNODE_SEQ);
	size_t i, mark;

	if (ymap_key(spec, "subjectAltNames") == NULL)
		return;
	ld_unhonoured(ld, spec, "subjectAltNames", "an L4 gateway neither terminates nor "
		      "originates TLS, so it cannot verify subject alternative names; ignored");
	if (san == NULL)
		return;
	mark = path_key(ld, "subjectAltNames");
	for (i = 0; i < san->n; i++) {
		size_t m2 = path_idx(ld, i);

		ld_str(ld, san->items[i]);
		path_pop(ld, m2);
	}
	path_pop(ld, mark);
}

static void
load_service_entry(struct ld *ld, const struct meta *md, const struct ynode *spec)
{
	struct service_entry se = { 0 };
	struct se_ctx cx = { 0 };
	const struct ynode *first_cidr, *addrs;
	bool has_selector;
	size_t mark;

	se.name = ld_strdup(ld, md->name);
	se.ns = ld_strdup(ld, md->ns);
	se.pos = ld_pos(ld, md->name_node);

	mark = path_key(ld, "spec");
	ld_unknown_fields(ld, spec, se_spec_fields);
	/* resolution first: the checks of hosts, ports and endpoints depend on it */
	se.location = se_location(ld, spec);
	se.resolution = se_resolution(ld, spec, &cx.res_ok);
	addrs = ymap_get(spec, "addresses");
	cx.open_all = cx.res_ok && se.resolution == SE_RES_NONE &&
		      (ynode_is_null(addrs) || (addrs->type == YNODE_SEQ && addrs->n == 0));
	se_hosts(ld, spec, &se);
	se_addresses(ld, spec, &se, &first_cidr);
	se_ports(ld, spec, &se, &cx);
	se_endpoints(ld, spec, &se, &cx);
	se_workload_selector(ld, spec, &se, &has_selector);
	ld_export_to(ld, spec, md->ns, true);
	se_subject_alt_names(ld, spec);

	if (first_cidr != NULL && cx.res_ok && se.resolution != SE_RES_NONE &&
	    se.resolution != SE_RES_STATIC) {
		size_t m2 = path_key(ld, "resolution");

		ld_err(ld, ymap_get(spec, "resolution"),
		       "CIDR addresses are allowed only for NONE/STATIC resolution types");
		path_pop(ld, m2);
	}
	if (cx.res_ok) {
		se_check_resolution(ld, spec, &se, has_selector);
		se_check_multi_host(ld, spec, &se);
	}
	path_pop(ld, mark);
	model_add_se(ld, &se);
}

/* ------------------------------------------------------------------ */
/* Gateway                                                             */

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

/*
 * Does a selector (Gateway spec.selector, Sidecar workloadSelector.labels)
 * pick this appliance? Every pair must be among the appliance's labels
 * (policy.labels, default istio=egressgateway); no selector picks everyone
 * (Istio: a Gateway without one applies to every gateway workload).
 */
static bool
labels_select(const struct egress_config *cfg, const struct egress_label *sel,
	      unsigned int n_sel)
{
	static const struct egress_label dflt = {
		.key = (char *)"istio", .value = (char *)"egressgateway",
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

static void
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

/* ------------------------------------------------------------------ */
/* DestinationRule                                                     */

static const char *const dr_spec_fields[] = {
	"host", "subsets", "trafficPolicy", "exportTo", "workloadSelector", NULL,
};
static const char *const dr_policy_fields[] = {
	"connectionPool", "loadBalancer", "outlierDetection", "tls", "portLevelSettings",
	"tunnel", "proxyProtocol", NULL,
};
static const char *const dr_port_policy_fields[] = {
	"port", "connectionPool", "loadBalancer", "outlierDetection", "tls", NULL,
};
static const char *const dr_pool_fields[] = { "tcp", "http", NULL };
static const char *const dr_tcp_fields[] = {
	"maxConnections", "connectTimeout", "tcpKeepalive", "maxConnectionDuration",
	"idleTimeout", NULL,
};
static const char *const dr_lb_fields[] = {
	"simple", "consistentHash", "localityLbSetting", "warmupDurationSecs", "warmup", NULL,
};
static const char *const dr_hash_fields[] = {
	"httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName", "ringHash",
	"maglev", "minimumRingSize", NULL,
};
static const char *const dr_subset_fields[] = { "name", "labels", "trafficPolicy", NULL };

/*
 * A protobuf / Go duration: "10s", "1.5s", "500ms", "1m30s", "2h". Units ns,
 * us, ms, s, m, h. @return 0 and *ns; 1 when it is well formed but more than
 * UINT64_MAX ns (584 years: Istio still takes it, the caller clamps); -1.
 */
static int
parse_duration_ns(const char *s, uint64_t *ns)
{
	static const struct { const char *u; uint64_t ns; } units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 }, { "s", 1000000000 },
		{ "m", 60000000000ull }, { "h", 3600000000000ull },
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

/* A YAML boolean (true/false, as the API server reads it). @return 0 or -1. */
static int
ld_bool(struct ld *ld, const struct ynode *n, bool *v)
{
	if (n->type == YNODE_SCALAR && n->plain) {
		if (strcmp(n->str, "true") == 0 || strcmp(n->str, "True") == 0 ||
		    strcmp(n->str, "TRUE") == 0) {
			*v = true;
			return 0;
		}
		if (strcmp(n->str, "false") == 0 || strcmp(n->str, "False") == 0 ||
		    strcmp(n->str, "FALSE") == 0) {
			*v = false;
			return 0;
		}
	}
	ld_err(ld, n, "expected true or false, got %s", ydescribe(ld, n));
	return -1;
}

static void
dr_tcp(struct ld *ld, const struct ynode *tcp, struct dr_settings *st)
{
	const struct ynode *n;
	const char *s;
	size_t mark;

	ld_unknown_fields(ld, tcp, dr_tcp_fields);
	n = ymap_get(tcp, "maxConnections");
	if (n != NULL && !ynode_is_null(n)) {
		int64_t v;

		mark = path_key(ld, "maxConnections");
		if (ld_int(ld, n, &v) == 0) {
			if (v < 0) {
				ld_err(ld, n, "max connections must be non-negative");
			} else if (v > INT32_MAX) {
				ld_err(ld, n, "max connections %s out of range (0-2147483647)",
				       n->str);
			} else {
				st->max_connections = (uint32_t)v;
				st->has_max_connections = true;
			}
		}
		path_pop(ld, mark);
	}
	s = ld_get_str(ld, tcp, "connectTimeout", &n);
	if (s != NULL) {
		uint64_t ns;
		int rc;

		mark = path_key(ld, "connectTimeout");
		rc = parse_duration_ns(s, &ns);
		if (rc < 0) {
			ld_err(ld, n, "invalid duration %s (want e.g. 10s, 500ms, 1m)", q(ld, s));
		} else if (rc == 0 && ns < 1000000) {
			ld_err(ld, n, "duration must be greater than 1ms");
		} else if (rc == 0 && ns % 1000000 != 0) {
			ld_err(ld, n, "only durations to ms precision are supported");
		} else if (rc > 0 || ns / 1000000 > EGRESS_TIMEOUT_MAX_MS) {
			/* Istio takes any positive duration: not an error in the
			 * user's manifest, but the flow table cannot time it */
			ld_warn(ld, n, "%s is longer than a flow can be timed (%" PRIu64 "h): "
				"clamped to %" PRIu64 "h", q(ld, s), EGRESS_TIMEOUT_MAX_MS / 3600000,
				EGRESS_TIMEOUT_MAX_MS / 3600000);
			st->connect_timeout_ms = EGRESS_TIMEOUT_MAX_MS;
			st->has_connect_timeout = true;
		} else {
			st->connect_timeout_ms = ns / 1000000;
			st->has_connect_timeout = true;
		}
		path_pop(ld, mark);
	}
	if (ymap_key(tcp, "tcpKeepalive") != NULL)
		ld_unhonoured(ld, tcp, "tcpKeepalive", "the gateway does not originate the "
			      "connection, so it sends no keepalives; ignored");
	if (ymap_key(tcp, "maxConnectionDuration") != NULL)
		ld_unhonoured(ld, tcp, "maxConnectionDuration", "not enforced by egressd; ignored");
	if (ymap_key(tcp, "idleTimeout") != NULL)
		ld_unhonoured(ld, tcp, "idleTimeout", "idle flows follow flows.timeouts of the "
			      "appliance config; ignored");
}

static void
dr_connection_pool(struct ld *ld, const struct ynode *pool, struct dr_settings *st)
{
	const struct ynode *tcp = ld_get(ld, pool, "tcp", YNODE_MAP);
	size_t mark = path_key(ld, "connectionPool");

	ld_unknown_fields(ld, pool, dr_pool_fields);
	if (pool->n == 0)
		ld_err(ld, pool, "connection pool must have at least one field");
	ld_unhonoured(ld, pool, "http", "HTTP connection pool settings need an L7 "
		      "proxy; ignored");
	if (tcp != NULL) {
		size_t m2 = path_key(ld, "tcp");

		dr_tcp(ld, tcp, st);
		path_pop(ld, m2);
	}
	path_pop(ld, mark);
}

/* consistentHash: the client's address is the one key an L4 gateway has. */
static void
dr_consistent_hash(struct ld *ld, const struct ynode *ch, struct dr_settings *st)
{
	static const char *const l7_keys[] = {
		"httpHeaderName", "httpCookie", "httpQueryParameterName", NULL,
	};
	const struct ynode *n = ymap_get(ch, "useSourceIp");
	const struct ynode *cookie = ld_get(ld, ch, "httpCookie", YNODE_MAP);
	bool src = false;
	size_t i, mark;

	ld_unknown_fields(ld, ch, dr_hash_fields);
	if (n != NULL && !ynode_is_null(n)) {
		mark = path_key(ld, "useSourceIp");
		ld_bool(ld, n, &src);
		path_pop(ld, mark);
	}
	if (cookie != NULL) {
		mark = path_key(ld, "httpCookie");
		if (ld_absent(cookie, "name"))
			ld_err(ld, cookie, "name required for HttpCookie");
		if (ld_absent(cookie, "ttl"))
			ld_err(ld, cookie, "ttl required for HttpCookie");
		path_pop(ld, mark);
	}
	for (i = 0; l7_keys[i] != NULL; i++) {
		if (ymap_key(ch, l7_keys[i]) == NULL)
			continue;
		ld_unhonoured(ld, ch, l7_keys[i], "hashing on HTTP request attributes needs an "
			      "L7 proxy; the client's source address is hashed instead");
		src = true;
	}
	if (!src) {
		ld_warn(ld, ch, "no hash key an L4 gateway can use (set useSourceIp: true); "
			"the client's source address is hashed");
	}
	st->lb = POLICY_LB_CONSISTENT_SOURCE_IP;
	st->has_lb = true;
}

static void
dr_load_balancer(struct ld *ld, const struct ynode *lbn, struct dr_settings *st)
{
	static const struct {
		const char *name;
		enum policy_lb lb;
	} simple[] = {
		{ "UNSPECIFIED", POLICY_LB_RANDOM }, { "RANDOM", POLICY_LB_RANDOM },
		{ "ROUND_ROBIN", POLICY_LB_ROUND_ROBIN }, { "LEAST_CONN", POLICY_LB_LEAST_CONN },
		{ "LEAST_REQUEST", POLICY_LB_LEAST_CONN }, { "PASSTHROUGH", POLICY_LB_RANDOM },
	};
	const struct ynode *sn, *ch;
	const char *s;
	size_t i, mark = path_key(ld, "loadBalancer");

	ld_unknown_fields(ld, lbn, dr_lb_fields);
	s = ld_get_str(ld, lbn, "simple", &sn);
	ch = ld_get(ld, lbn, "consistentHash", YNODE_MAP);
	if (s != NULL && ch != NULL) {
		size_t m2 = path_key(ld, "consistentHash");

		ld_err(ld, ymap_key(lbn, "consistentHash"),
		       "only one of simple or consistentHash can be set");
		path_pop(ld, m2);
	} else if (s != NULL) {
		size_t m2 = path_key(ld, "simple");

		for (i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
			if (strcmp(s, simple[i].name) == 0)
				break;
		if (i == sizeof(simple) / sizeof(simple[0])) {
			ld_err(ld, sn, "invalid load balancer %s (want RANDOM, ROUND_ROBIN, "
			       "LEAST_CONN, LEAST_REQUEST or PASSTHROUGH)", q(ld, s));
		} else {
			if (strcmp(s, "PASSTHROUGH") == 0)
				ld_warn(ld, sn, "PASSTHROUGH (to the address the client asked "
					"for) is what entries without endpoints do; with "
					"endpoints, RANDOM is used");
			st->lb = simple[i].lb;
			st->has_lb = true;
		}
		path_pop(ld, m2);
	} else if (ch != NULL) {
		size_t m2 = path_key(ld, "consistentHash");

		dr_consistent_hash(ld, ch, st);
		path_pop(ld, m2);
	}
	ld_unhonoured(ld, lbn, "localityLbSetting", "locality-aware load balancing is not "
		      "done by an L4 gateway; ignored");
	ld_unhonoured(ld, lbn, "warmupDurationSecs", "slow start is not done by egressd; "
		      "ignored");
	ld_unhonoured(ld, lbn, "warmup", "slow start is not done by egressd; ignored");
	path_pop(ld, mark);
}

/* The parts of a trafficPolicy (or of one portLevelSettings item) egressd uses. */
static void
dr_settings_fields(struct ld *ld, const struct ynode *tp, struct dr_settings *st)
{
	static const char *const not_enforced[] = {
		"outlierDetection", "tls", "tunnel", "proxyProtocol", NULL,
	};
	const struct ynode *pool, *lbn;
	size_t i;

	for (i = 0; not_enforced[i] != NULL; i++)
		ld_unhonoured(ld, tp, not_enforced[i], "not enforced by egressd; ignored");
	pool = ld_get(ld, tp, "connectionPool", YNODE_MAP);
	if (pool != NULL)
		dr_connection_pool(ld, pool, st);
	lbn = ld_get(ld, tp, "loadBalancer", YNODE_MAP);
	if (lbn != NULL)
		dr_load_balancer(ld, lbn, st);
}

static void
dr_port_level(struct ld *ld, const struct ynode *seq, struct dr_port_settings **ports,
	      unsigned int *n_ports)
{
	size_t i, mark = path_key(ld, "portLevelSettings");

	*ports = ld_calloc(ld, seq->n, sizeof(**ports));
	for (i = 0; *ports != NULL && i < seq->n; i++) {
		const struct ynode *pm = seq->items[i];
		const struct ynode *port;
		struct dr_port_settings *ps;
		size_t m2 = path_idx(ld, i);
		long num = 0;

		if (pm->type != YNODE_MAP) {
			ld_err(ld, pm, "traffic policy may not be null");
			path_pop(ld, m2);
			continue;
		}
		ld_unknown_fields(ld, pm, dr_port_policy_fields);
		port = ld_get(ld, pm, "port", YNODE_MAP);
		if (port != NULL) {
			size_t m3 = path_key(ld, "port");

			num = ld_port_number(ld, port, "number", "port number");
			path_pop(ld, m3);
		}
		if (port == NULL || num == 0) {
			size_t m3 = path_key(ld, "port");

			ld_err(ld, port != NULL ? port : pm,
			       "portTrafficPolicy must have valid port");
			path_pop(ld, m3);
		}
		if (ld_absent(pm, "connectionPool") && ld_absent(pm, "loadBalancer") &&
		    ld_absent(pm, "outlierDetection") && ld_absent(pm, "tls"))
			ld_err(ld, pm, "port traffic policy must have at least one field");
		ps = &(*ports)[(*n_ports)++];
		ps->port = num > 0 ? (uint32_t)num : 0;
		ps->pos = ld_pos(ld, pm);
		dr_settings_fields(ld, pm, &ps->s);
		path_pop(ld, m2);
	}
	path_pop(ld, mark);
}

/* A trafficPolicy (path pushed): the DestinationRule's own or a subset's. */
static void
dr_traffic_policy(struct ld *ld, const struct ynode *tp, struct dr_settings *st,
		  struct dr_port_settings **ports, unsigned int *n_ports)
{
	const struct ynode *pls;

	ld_unknown_fields(ld, tp, dr_policy_fields);
	if (tp->n == 0)
		ld_err(ld, tp, "traffic policy must have at least one field");
	dr_settings_fields(ld, tp, st);
	pls = ld_get(ld, tp, "portLevelSettings", YNODE_SEQ);
	if (pls != NULL && pls->n > 0)
		dr_port_level(ld, pls, ports, n_ports);
}

static void
dr_subsets(struct ld *ld, const struct ynode *spec, struct destination_rule *dr)
{
	const struct ynode *seq = ld_get(ld, spec, "subsets", YNODE_SEQ);
	size_t i, j, mark;

	if (seq == NULL || seq->n == 0)
		return;
	mark = path_key(ld, "subsets");
	dr->subsets = ld_calloc(ld, seq->n, sizeof(*dr->subsets));
	for (i = 0; dr->subsets != NULL && i < seq->n; i++) {
		const struct ynode *sm = seq->items[i];
		const struct ynode *nn, *lm, *tp;
		struct dr_subset *sub;
		const char *name;
		size_t m2 = path_idx(ld, i);

		if (sm->type != YNODE_MAP) {
			ld_err(ld, sm, "expected a mapping, got %s", ydescribe(ld, sm));
			path_pop(ld, m2);
			continue;
		}
		sub = &dr->subsets[dr->n_subsets++];
		sub->pos = ld_pos(ld, sm);
		ld_unknown_fields(ld, sm, dr_subset_fields);
		name = ld_get_str(ld, sm, "name", &nn);
		if (name == NULL || name[0] == '\0') {
			size_t m3 = path_key(ld, "name");

			ld_err(ld, nn != NULL ? nn : sm, "subset name cannot be empty");
			path_pop(ld, m3);
		} else if (!is_dns1123_label(name, strlen(name))) {
			size_t m3 = path_key(ld, "name");

			ld_err(ld, nn, "subset name is invalid: %s", name);
			path_pop(ld, m3);
		} else {
			for (j = 0; j + 1 < dr->n_subsets; j++) {
				if (dr->subsets[j].name != NULL &&
				    strcmp(dr->subsets[j].name, name) == 0) {
					size_t m3 = path_key(ld, "name");

					ld_err(ld, nn, "duplicate subset names: %s", name);
					path_pop(ld, m3);
					break;
				}
			}
		}
		sub->name = ld_strdup(ld, name);
		lm = ld_get(ld, sm, "labels", YNODE_MAP);
		if (lm != NULL && lm->n > 0) {
			size_t m3 = path_key(ld, "labels");
			struct label_sink sink;

			sub->labels = ld_calloc(ld, lm->n, sizeof(*sub->labels));
			sink = (struct label_sink){ sub->labels, &sub->n_labels };
			if (sub->labels != NULL)
				ld_string_map(ld, lm, label_add, &sink);
			path_pop(ld, m3);
		}
		tp = ld_get(ld, sm, "trafficPolicy", YNODE_MAP);
		if (tp != NULL) {
			size_t m3 = path_key(ld, "trafficPolicy");

			dr_traffic_policy(ld, tp, &sub->s, &sub->ports, &sub->n_ports);
			path_pop(ld, m3);
		}
		path_pop(ld, m2);
	}
	path_pop(ld, mark);
}

static void
load_destination_rule(struct ld *ld, const struct meta *md, const struct ynode *spec)
{
	struct destination_rule dr = { 0 };
	const struct ynode *hn, *tp;
	const char *host;
	char err[MSG_MAX];
	size_t mark;

	dr.name = ld_strdup(ld, md->name);
	dr.ns = ld_strdup(ld, md->ns);
	dr.pos = ld_pos(ld, md->name_node);

	mark = path_key(ld, "spec");
	ld_unknown_fields(ld, spec, dr_spec_fields);
	host = ld_get_str(ld, spec, "host", &hn);
	path_key(ld, "host");
	if (host == NULL || host[0] == '\0')
		ld_err(ld, hn != NULL ? hn : spec, "empty domain name not allowed");
	else if (!check_wildcard_domain(ld, host, err, sizeof(err)))
		ld_err(ld, hn, "%s", err);
	path_pop(ld, mark);
	dr.host = ld_strdup(ld, host);

	mark = path_key(ld, "spec");
	dr_subsets(ld, spec, &dr);
	tp = ld_get(ld, spec, "trafficPolicy", YNODE_MAP);
	if (tp != NULL) {
		size_t m2 = path_key(ld, "trafficPolicy");

		dr_traffic_policy(ld, tp, &dr.s, &dr.ports, &dr.n_ports);
		path_pop(ld, m2);
	}
	dr.max_connections = dr.s.max_connections;
	dr.connect_timeout_ms = dr.s.connect_timeout_ms;
	ld_export_to(ld, spec, md->ns, false);
	ld_unhonoured(ld, spec, "workloadSelector", "an L4 gateway does not select "
		      "workloads; ignored");
	path_pop(ld, mark);
	model_add_dr(ld, &dr);
}

/* ------------------------------------------------------------------ */
/* VirtualService                                                      */

static const char *const vs_spec_fields[] = {
	"hosts", "gateways", "http", "tls", "tcp", "exportTo", NULL,
};
static const char *const vs_route_fields[] = { "match", "route", NULL };
static const char *const vs_tcp_match_fields[] = {
	"destinationSubnets", "port", "sourceLabels", "gateways", "sourceNamespace",
	"sourceSubnet", NULL,
};
static const char *const vs_tls_match_fields[] = {
	"sniHosts", "destinationSubnets", "port", "sourceLabels", "gateways",
	"sourceNamespace", NULL,
};
static const char *const vs_route_dest_fields[] = { "destination", "weight", NULL };
static const char *const vs_dest_fields[] = { "host", "subset", "port", NULL };

/* What was said once per VirtualService about fields an L4 gateway ignores. */
struct vs_warned {
	bool sni, source;
};

/* Istio's validateGatewayNames(), for spec.gateways and match.gateways. */
static void
vs_gateway_names(struct ld *ld, const struct ynode *seq, char ***out, unsigned int *n_out)
{
	char err[MSG_MAX];
	size_t i;

	*out = ld_calloc(ld, seq->n, sizeof(**out));
	for (i = 0; *out != NULL && i < seq->n; i++) {
		const struct ynode *n = seq->items[i];
		size_t m2 = path_idx(ld, i);
		const char *g = ld_str(ld, n), *slash;

		if (g == NULL) {
			path_pop(ld, m2);
			continue;
		}
		slash = strchr(g, '/');
		if (slash != NULL) {
			size_t nl = (size_t)(slash - g);
			const char *name = slash + 1;

			if (nl == 0 || name[0] == '\0')
				ld_err(ld, n, "config namespace and gateway name cannot be empty");
			if (nl > 0 && !is_dns1123_label(g, nl)) {
				char ns[QUOTE_MAX + 1];

				snprintf(ns, sizeof(ns), "%.*s", (int)nl, g);
				ld_err(ld, n, "invalid value for namespace: %s", q(ld, ns));
			}
			if (name[0] != '\0' && !is_dns1123_label(name, strlen(name)))
				ld_err(ld, n, "invalid value for gateway name: %s", q(ld, name));
		} else if (strcmp(g, "mesh") != 0) {
			const char *dot = strchr(g, '.');

			if (dot != NULL) {
				const char *ns = dot + 1, *end = strchr(ns, '.');
				char rec[2 * QUOTE_MAX + 2];

				snprintf(rec, sizeof(rec), "%.*s/%.*s",
					 (int)(end != NULL ? (size_t)(end - ns) : strlen(ns)), ns,
					 (int)(dot - g), g);
				ld_warn(ld, n, "using legacy gatewayName format %s; prefer the "
					"<namespace>/<name> format: %s", q(ld, g), q(ld, rec));
			}
			if (!check_dns_labels(ld, g, g, err, sizeof(err)))
				ld_err(ld, n, "%s", err);
		}
		(*out)[(*n_out)++] = ld_strdup(ld, g);
		path_pop(ld, m2);
	}
}

/* destinationSubnets: addresses or CIDRs (Istio's ValidateIPSubnet). */
static void
vs_subnets(struct ld *ld, const struct ynode *seq, struct vs_match *vm)
{
	size_t i;

	vm->subnets = ld_calloc(ld, seq->n, sizeof(*vm->subnets));
	for (i = 0; vm->subnets != NULL && i < seq->n; i++) {
		const struct ynode *n = seq->items[i];
		size_t m2 = path_idx(ld, i);
		struct se_address a = { .pos = ld_pos(ld, n) };
		const char *s = ld_str(ld, n);
		char pfx[INET6_ADDRSTRLEN + 8];
		bool host_bits;

		if (s == NULL) {
			path_pop(ld, m2);
			continue;
		}
		if (parse_prefix(s, &a, &host_bits) != 0) {
			if (strchr(s, '/') != NULL)
				ld_err(ld, n, "%s is not a valid CIDR block", s);
			else
				ld_err(ld, n, "%s is not a valid IP", s);
			path_pop(ld, m2);
			continue;
		}
		format_prefix(&a, pfx, sizeof(pfx));
		if (host_bits)
			ld_err(ld, n, "%s has host bits set (the network is %s)", s, pfx);
		if (a.v6)
			ld_warn(ld, n, "%s is IPv6: parsed and validated, but IPv6 is not "
				"forwarded yet", s);
		vm->subnets[vm->n_subnets++] = a;
		path_pop(ld, m2);
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
		"destinationSubnets", "port", "sniHosts", "gateways", "sourceLabels",
		"sourceNamespace", "sourceSubnet", NULL,
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
					      ynode_str(v->items[j]) != NULL ?
					      v->items[j]->str : "?");
		if (o < sz)
			o += (size_t)snprintf(buf + o, sz - o, ";");
	}
}

/* SNI hosts: valid, and each within a host of the VirtualService (Istio). */
static void
vs_sni_hosts(struct ld *ld, const struct ynode *seq, const struct virtual_service *vs)
{
	char err[MSG_MAX], list[MSG_MAX / 2];
	size_t i, o = 0;
	unsigned int h;

	list[0] = '\0';
	for (h = 0; h < vs->n_hosts && o < sizeof(list); h++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", h > 0 ? ", " : "",
				      vs->hosts[h]);
	for (i = 0; i < seq->n; i++) {
		const struct ynode *n = seq->items[i];
		size_t m2 = path_idx(ld, i);
		const char *sni = ld_str(ld, n);
		struct in6_addr in6;
		struct in_addr in4;

		if (sni == NULL) {
			path_pop(ld, m2);
			continue;
		}
		if (!check_wildcard_domain(ld, sni, err, sizeof(err))) {
			if (inet_pton(AF_INET, sni, &in4) == 1 ||
			    inet_pton(AF_INET6, sni, &in6) == 1)
				ld_warn(ld, n, "using an IP address (%s) goes against SNI spec and "
					"most clients do not support this", q(ld, sni));
			else
				ld_err(ld, n, "%s", err);
			path_pop(ld, m2);
			continue;
		}
		for (h = 0; h < vs->n_hosts; h++)
			if (vs->hosts[h] != NULL && istio_host_covers(vs->hosts[h], sni))
				break;
		if (h == vs->n_hosts)
			ld_err(ld, n, "SNI host %s is not a compatible subset of any of the "
			       "virtual service hosts: [%s]", q(ld, sni), list);
		path_pop(ld, m2);
	}
}

/* One item of match[] (path pushed). */
static void
vs_match(struct ld *ld, const struct ynode *mm, bool tls, struct virtual_service *vs,
	 struct vs_match *vm, struct vs_warned *warned)
{
	const struct ynode *seq;
	long port;

	vm->pos = ld_pos(ld, mm);
	ld_unknown_fields(ld, mm, tls ? vs_tls_match_fields : vs_tcp_match_fields);
	if (tls) {
		seq = ld_get(ld, mm, "sniHosts", YNODE_SEQ);
		if (seq == NULL || seq->n == 0) {
			ld_err(ld, mm, "TLS match must have at least one SNI host");
		} else {
			size_t m2 = path_key(ld, "sniHosts");

			vs_sni_hosts(ld, seq, vs);
			if (!warned->sni) {
				warned->sni = true;
				ld_warn(ld, ymap_key(mm, "sniHosts"), "an L4 gateway does not read "
					"the TLS server name: the route applies to every TLS "
					"flow its destinationSubnets and port select");
			}
			path_pop(ld, m2);
		}
	}
	seq = ld_get(ld, mm, "destinationSubnets", YNODE_SEQ);
	if (seq != NULL && seq->n > 0) {
		size_t m2 = path_key(ld, "destinationSubnets");

		vs_subnets(ld, seq, vm);
		path_pop(ld, m2);
	}
	port = ld_port_number(ld, mm, "port", "port number");
	vm->port = port > 0 ? (uint32_t)port : 0;
	seq = ld_get(ld, mm, "gateways", YNODE_SEQ);
	if (seq != NULL && seq->n > 0) {
		size_t m2 = path_key(ld, "gateways");

		vs_gateway_names(ld, seq, &vm->gateways, &vm->n_gateways);
		path_pop(ld, m2);
	}
	if (!warned->source) {
		static const char *const src_keys[] = {
			"sourceLabels", "sourceNamespace", "sourceSubnet", NULL,
		};
		size_t i;

		for (i = 0; src_keys[i] != NULL; i++) {
			if (ymap_key(mm, src_keys[i]) == NULL)
				continue;
			warned->source = true;
			ld_unhonoured(ld, mm, src_keys[i], "an L4 gateway does not tell clients "
				      "apart by workload: the route applies to every client");
			break;
		}
	}
}

/* One item of route[] (path pushed). @return the weight as written (Istio sums those). */
static int64_t
vs_route_dest(struct ld *ld, const struct ynode *rd, struct vs_destination *d)
{
	int64_t raw = 0;
	const struct ynode *dm, *hn, *wn, *pm, *sn;
	const char *host, *subset;
	char err[MSG_MAX];
	size_t mark;

	d->pos = ld_pos(ld, rd);
	ld_unknown_fields(ld, rd, vs_route_dest_fields);
	dm = ld_get(ld, rd, "destination", YNODE_MAP);
	if (dm == NULL) {
		if (ld_absent(rd, "destination"))
			ld_err(ld, rd, "destination is required");
	} else {
		mark = path_key(ld, "destination");
		d->pos = ld_pos(ld, dm);
		ld_unknown_fields(ld, dm, vs_dest_fields);
		host = ld_get_str(ld, dm, "host", &hn);
		if (host == NULL || host[0] == '\0') {
			size_t m2 = path_key(ld, "host");

			ld_err(ld, hn != NULL ? hn : dm, "empty domain name not allowed");
			path_pop(ld, m2);
		} else if (strcmp(host, "*") == 0) {
			size_t m2 = path_key(ld, "host");

			ld_err(ld, hn, "invalid destination host %s", host);
			path_pop(ld, m2);
		} else if (!check_wildcard_domain(ld, host, err, sizeof(err))) {
			size_t m2 = path_key(ld, "host");

			ld_err(ld, hn, "%s", err);
			path_pop(ld, m2);
		}
		d->host = ld_strdup(ld, host);
		subset = ld_get_str(ld, dm, "subset", &sn);
		if (subset != NULL) {
			size_t m2 = path_key(ld, "subset");

			if (subset[0] == '\0')
				ld_err(ld, sn, "subset name cannot be empty");
			else if (!is_dns1123_label(subset, strlen(subset)))
				ld_err(ld, sn, "subset name is invalid: %s", subset);
			d->subset = ld_strdup(ld, subset);
			path_pop(ld, m2);
		}
		pm = ld_get(ld, dm, "port", YNODE_MAP);
		if (pm != NULL) {
			size_t m2 = path_key(ld, "port");
			long num = ld_port_number(ld, pm, "number", "port number");

			d->port = num > 0 ? (uint32_t)num : 0;
			path_pop(ld, m2);
		}
		path_pop(ld, mark);
	}
	wn = ymap_get(rd, "weight");
	if (wn != NULL && !ynode_is_null(wn)) {
		int64_t w;

		mark = path_key(ld, "weight");
		if (ld_int(ld, wn, &w) == 0) {
			raw = w;
			if (w < 0 || w > 100) {
				ld_err(ld, wn, "percentage %s is not in range 0..100", wn->str);
			} else {
				d->weight = (uint32_t)w;
				d->has_weight = true;
			}
		}
		path_pop(ld, mark);
	}
	return raw;
}

/* spec.tcp[i] or spec.tls[i] (path pushed). */
static void
vs_route(struct ld *ld, const struct ynode *rm, bool tls, struct virtual_service *vs,
	 struct vs_route *r, struct vs_warned *warned)
{
	const struct ynode *matches = ld_get(ld, rm, "match", YNODE_SEQ);
	const struct ynode *route = ld_get(ld, rm, "route", YNODE_SEQ);
	int64_t total = 0;
	size_t i, mark;

	r->pos = ld_pos(ld, rm);
	r->tls = tls;
	ld_unknown_fields(ld, rm, vs_route_fields);
	if (tls && (matches == NULL || matches->n == 0))
		ld_err(ld, rm, "TLS route must have at least one match condition");
	if (matches != NULL && matches->n > 0) {
		mark = path_key(ld, "match");
		r->matches = ld_calloc(ld, matches->n, sizeof(*r->matches));
		for (i = 0; r->matches != NULL && i < matches->n; i++) {
			const struct ynode *mm = matches->items[i];
			size_t m2 = path_idx(ld, i);

			if (mm->type != YNODE_MAP)
				ld_err(ld, mm, tls ? "TLS match may not be null" :
				       "tcp match may not be nil");
			else
				vs_match(ld, mm, tls, vs, &r->matches[r->n_matches++], warned);
			path_pop(ld, m2);
		}
		path_pop(ld, mark);
	}
	if (route == NULL || route->n == 0) {
		mark = path_key(ld, "route");
		ld_err(ld, route != NULL ? route : rm, tls ? "TLS route is required" :
		       "TCP route is required");
		path_pop(ld, mark);
		return;
	}
	mark = path_key(ld, "route");
	r->dests = ld_calloc(ld, route->n, sizeof(*r->dests));
	for (i = 0; r->dests != NULL && i < route->n; i++) {
		const struct ynode *rd = route->items[i];
		size_t m2 = path_idx(ld, i);

		if (rd->type != YNODE_MAP) {
			ld_err(ld, rd, "weight may not be nil");
		} else {
			int64_t w = vs_route_dest(ld, rd, &r->dests[r->n_dests++]);

			/* saturating: a weight of 2^62 must not wrap the sum */
			total = w > 0 && total > INT64_MAX - w ? INT64_MAX :
				w < 0 && total < INT64_MIN - w ? INT64_MIN : total + w;
		}
		path_pop(ld, m2);
	}
	if (r->n_dests > 1 && total != 100)
		ld_err(ld, route, "total destination weight %" PRId64 " != 100", total);
	path_pop(ld, mark);
}

/*
 * Istio's analyzeUnreachableTCPRules / TLSRules: a route without a match must
 * be the last one; a match seen in an earlier route is never used.
 */
static void
vs_unreachable(struct ld *ld, const struct ynode *seq)
{
	char (*keys)[256];
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
		size_t dups = 0, mark = path_idx(ld, i);

		if (rm->type != YNODE_MAP) {
			path_pop(ld, mark);
			continue;
		}
		if (m == NULL || m->type != YNODE_SEQ || m->n == 0) {
			if (empty_seen)
				ld_warn(ld, rm, "virtualService rule #%zu not used (only the last "
					"rule can have no matches)", i);
			empty_seen = true;
			path_pop(ld, mark);
			continue;
		}
		for (j = 0; j < m->n; j++) {
			char key[256];

			vs_match_key(m->items[j], key, sizeof(key));
			for (k = 0; k < n_keys && strcmp(keys[k], key) != 0; k++)
				;
			if (k < n_keys) {
				ld_warn(ld, m->items[j], "virtualService rule #%zu match #%zu is "
					"not used (duplicate/overlapping match in rule #%u)", i, j,
					owner[k]);
				dups++;
				continue;
			}
			snprintf(keys[n_keys], sizeof(keys[n_keys]), "%s", key);
			owner[n_keys++] = (unsigned int)i;
		}
		if (dups == m->n)
			ld_warn(ld, rm, "virtualService rule #%zu not used (all matches used by "
				"prior rules)", i);
		path_pop(ld, mark);
	}
out:
	free(keys);
	free(owner);
}

static void
vs_hosts(struct ld *ld, const struct ynode *spec, struct virtual_service *vs, bool to_mesh)
{
	const struct ynode *seq = ld_get(ld, spec, "hosts", YNODE_SEQ);
	bool all_valid = true;
	char err[MSG_MAX];
	size_t i, j, mark;

	if (seq == NULL || seq->n == 0)
		return;
	mark = path_key(ld, "hosts");
	vs->hosts = ld_calloc(ld, seq->n, sizeof(*vs->hosts));
	for (i = 0; vs->hosts != NULL && i < seq->n; i++) {
		const struct ynode *n = seq->items[i];
		size_t m2 = path_idx(ld, i);
		const char *h = ld_str(ld, n);
		struct in6_addr in6;
		struct in_addr in4;

		if (h == NULL) {
			all_valid = false;
			path_pop(ld, m2);
			continue;
		}
		if (!check_wildcard_domain(ld, h, err, sizeof(err))) {
			if (inet_pton(AF_INET, h, &in4) != 1 && inet_pton(AF_INET6, h, &in6) != 1) {
				ld_err(ld, n, "%s", err);
				all_valid = false;
			}
		} else if (to_mesh && strcmp(h, "*") == 0) {
			ld_err(ld, n, "wildcard host * is not allowed for virtual services bound "
			       "to the mesh gateway");
			all_valid = false;
		}
		vs->hosts[vs->n_hosts++] = ld_strdup(ld, h);
		path_pop(ld, m2);
	}
	for (i = 0; all_valid && i < vs->n_hosts; i++) {
		for (j = i + 1; j < vs->n_hosts; j++) {
			if (vs->hosts[i] == NULL || vs->hosts[j] == NULL ||
			    (!istio_host_covers(vs->hosts[i], vs->hosts[j]) &&
			     !istio_host_covers(vs->hosts[j], vs->hosts[i])))
				continue;
			ld_err(ld, seq, "duplicate hosts in virtual service: %s & %s", vs->hosts[i],
			       vs->hosts[j]);
		}
	}
	path_pop(ld, mark);
}

static void
vs_routes(struct ld *ld, const struct ynode *spec, struct virtual_service *vs, bool tls,
	  struct vs_warned *warned)
{
	const char *key = tls ? "tls" : "tcp";
	const struct ynode *seq = ld_get(ld, spec, key, YNODE_SEQ);
	struct vs_route *v;
	size_t i, mark;

	if (seq == NULL || seq->n == 0)
		return;
	mark = path_key(ld, key);
	v = realloc(vs->routes, (vs->n_routes + seq->n) * sizeof(*v));
	if (v == NULL) {
		ld->oom = true;
		path_pop(ld, mark);
		return;
	}
	vs->routes = v;
	for (i = 0; i < seq->n; i++) {
		const struct ynode *rm = seq->items[i];
		size_t m2 = path_idx(ld, i);

		if (rm->type != YNODE_MAP) {
			ld_err(ld, rm, "%s route may not be null", tls ? "TLS" : "TCP");
		} else {
			struct vs_route *r = &vs->routes[vs->n_routes++];

			memset(r, 0, sizeof(*r));
			r->index = (unsigned int)i;
			vs_route(ld, rm, tls, vs, r, warned);
		}
		path_pop(ld, m2);
	}
	vs_unreachable(ld, seq);
	path_pop(ld, mark);
}

static void
load_virtual_service(struct ld *ld, const struct meta *md, const struct ynode *spec)
{
	struct virtual_service vs = { 0 };
	struct vs_warned warned = { 0 };
	const struct ynode *gws, *http;
	bool to_mesh = true;
	size_t mark;
	unsigned int i;

	vs.name = ld_strdup(ld, md->name);
	vs.ns = ld_strdup(ld, md->ns);
	vs.pos = ld_pos(ld, md->name_node);
	vs.gateways_pos = vs.pos;

	mark = path_key(ld, "spec");
	ld_unknown_fields(ld, spec, vs_spec_fields);
	gws = ld_get(ld, spec, "gateways", YNODE_SEQ);
	if (gws != NULL && gws->n > 0) {
		size_t m2 = path_key(ld, "gateways");

		vs.gateways_pos = ld_pos(ld, gws);
		vs_gateway_names(ld, gws, &vs.gateways, &vs.n_gateways);
		to_mesh = false;
		for (i = 0; i < vs.n_gateways; i++)
			to_mesh = to_mesh || (vs.gateways[i] != NULL &&
					      strcmp(vs.gateways[i], "mesh") == 0);
		path_pop(ld, m2);
	}
	if (vs.n_gateways == 0 || (to_mesh && vs.n_gateways == 1)) {
		size_t m2 = path_key(ld, "gateways");

		ld_warn(ld, gws != NULL ? gws : spec, "bound to the mesh only (sidecars): no "
			"route of this VirtualService applies to a gateway; ignored");
		path_pop(ld, m2);
	}
	vs_hosts(ld, spec, &vs, to_mesh);
	if (ld_absent(spec, "http") && ld_absent(spec, "tcp") && ld_absent(spec, "tls"))
		ld_err(ld, spec, "http, tcp or tls must be provided in virtual service");
	if (vs.n_hosts == 0) {
		if (!ld_absent(spec, "tls")) {
			size_t m2 = path_key(ld, "tls");

			ld_err(ld, ymap_key(spec, "tls"), "delegate virtual service must have no "
			       "tls route specified");
			path_pop(ld, m2);
		}
		if (!ld_absent(spec, "tcp")) {
			size_t m2 = path_key(ld, "tcp");

			ld_err(ld, ymap_key(spec, "tcp"), "delegate virtual service must have no "
			       "tcp route specified");
			path_pop(ld, m2);
		}
	}
	http = ymap_key(spec, "http");
	if (http != NULL)
		ld_unhonoured(ld, spec, "http", "HTTP routes need an L7 proxy; ignored (HTTP "
			      "ports keep their ServiceEntry's endpoints)");
	/* tls first: Istio matches TLS ports by the tls routes, the rest by tcp */
	vs_routes(ld, spec, &vs, true, &warned);
	vs_routes(ld, spec, &vs, false, &warned);
	ld_export_to(ld, spec, md->ns, false);
	path_pop(ld, mark);
	model_add_vs(ld, &vs);
}

/* ------------------------------------------------------------------ */
/* Sidecar                                                             */

static const char *const sc_spec_fields[] = {
	"workloadSelector", "ingress", "egress", "outboundTrafficPolicy",
	"inboundConnectionPool", NULL,
};
static const char *const sc_outbound_fields[] = { "mode", "egressProxy", NULL };

/* Istio's validateAlphaWorkloadSelector(), the labels kept for selection. */
static void
sc_selector(struct ld *ld, const struct ynode *spec, struct sidecar *sc)
{
	static const char *const fields[] = { "labels", NULL };
	const struct ynode *ws = ld_get(ld, spec, "workloadSelector", YNODE_MAP);
	const struct ynode *lm;
	size_t i, mark;

	if (ws == NULL)
		return;
	sc->has_selector = true;
	mark = path_key(ld, "workloadSelector");
	ld_unknown_fields(ld, ws, fields);
	lm = ld_get(ld, ws, "labels", YNODE_MAP);
	if (lm == NULL || lm->n == 0) {
		ld_warn(ld, ws, "sidecar: workload selector specified without labels, will be "
			"applied to all services in namespace");
		sc->has_selector = false;
		path_pop(ld, mark);
		return;
	}
	path_key(ld, "labels");
	sc->selector = ld_calloc(ld, lm->n, sizeof(*sc->selector));
	for (i = 0; sc->selector != NULL && i < lm->n; i++) {
		const struct ynode *k = lm->items[2 * i], *v = lm->items[2 * i + 1];
		const char *ks = ynode_str(k), *vs = ynode_str(v);
		char kv[2 * QUOTE_MAX + 2];

		if (ks == NULL || vs == NULL) {
			ld_err(ld, v, "expected a string, got %s", ytype_name(v));
			continue;
		}
		snprintf(kv, sizeof(kv), "%s=%s", ks, vs);
		if (ks[0] == '\0')
			ld_err(ld, k, "empty key is not supported in selector: %s", q(ld, kv));
		if (strchr(ks, '*') != NULL || strchr(vs, '*') != NULL)
			ld_err(ld, k, "wildcard is not supported in selector: %s", q(ld, kv));
		sc->selector[sc->n_selector].key = ld_strdup(ld, ks);
		sc->selector[sc->n_selector++].value = ld_strdup(ld, vs);
	}
	path_pop(ld, mark);
}

static void
sc_outbound(struct ld *ld, const struct ynode *ot, struct sidecar *sc)
{
	const struct ynode *mn, *ep;
	const char *mode;
	size_t mark = path_key(ld, "outboundTrafficPolicy");

	ld_unknown_fields(ld, ot, sc_outbound_fields);
	sc->has_outbound = true;
	sc->outbound_pos = ld_pos(ld, ot);
	/* the protobuf default (0) is REGISTRY_ONLY */
	sc->outbound = EGRESS_OUTBOUND_REGISTRY_ONLY;
	mode = ld_get_str(ld, ot, "mode", &mn);
	if (mode != NULL) {
		size_t m2 = path_key(ld, "mode");

		sc->outbound_pos = ld_pos(ld, mn);
		if (strcmp(mode, "ALLOW_ANY") == 0) {
			sc->outbound = EGRESS_OUTBOUND_ALLOW_ANY;
		} else if (strcmp(mode, "REGISTRY_ONLY") != 0) {
			ld_err(ld, mn, "invalid outbound traffic policy mode %s (want "
			       "REGISTRY_ONLY or ALLOW_ANY)", q(ld, mode));
			sc->has_outbound = false;
		}
		path_pop(ld, m2);
	}
	ep = ymap_key(ot, "egressProxy");
	if (ep != NULL) {
		size_t m2 = path_key(ld, "egressProxy");

		if (sc->outbound != EGRESS_OUTBOUND_ALLOW_ANY)
			ld_err(ld, ep, "sidecar: egress_proxy must be set only with ALLOW_ANY "
			       "outbound_traffic_policy mode");
		else
			ld_warn(ld, ep, "unregistered traffic keeps its original destination: an "
				"L4 gateway has no egress proxy to send it to; ignored");
		path_pop(ld, m2);
	}
	path_pop(ld, mark);
}

static void
load_sidecar(struct ld *ld, const struct meta *md, const struct ynode *spec)
{
	struct sidecar sc = { 0 };
	const struct ynode *egress, *ot;
	size_t i, mark;

	sc.name = ld_strdup(ld, md->name);
	sc.ns = ld_strdup(ld, md->ns);
	sc.pos = ld_pos(ld, md->name_node);

	mark = path_key(ld, "spec");
	ld_unknown_fields(ld, spec, sc_spec_fields);
	sc_selector(ld, spec, &sc);
	if (ld_absent(spec, "egress") && ld_absent(spec, "ingress") &&
	    ld_absent(spec, "outboundTrafficPolicy") && ld_absent(spec, "inboundConnectionPool"))
		ld_err(ld, spec, "sidecar: empty configuration provided");
	egress = ld_get(ld, spec, "egress", YNODE_SEQ);
	for (i = 0; egress != NULL && i < egress->n; i++) {
		const struct ynode *e = egress->items[i];
		const struct ynode *hosts = ymap_get(e, "hosts");
		size_t m2 = path_push(ld, ".egress[%zu]", i);

		if (e->type != YNODE_MAP)
			ld_err(ld, e, "egress listener may not be null");
		else if (hosts == NULL || hosts->type != YNODE_SEQ || hosts->n == 0)
			ld_err(ld, e, "sidecar: egress listener must contain at least one host");
		path_pop(ld, m2);
	}
	ld_unhonoured(ld, spec, "egress", "egress listeners limit what a sidecar's workloads "
		      "see; an L4 gateway admits what its ServiceEntries list; ignored");
	ld_unhonoured(ld, spec, "ingress", "ingress listeners configure a sidecar's inbound "
		      "side; ignored");
	ld_unhonoured(ld, spec, "inboundConnectionPool", "configures a sidecar's inbound "
		      "side; ignored");
	ot = ld_get(ld, spec, "outboundTrafficPolicy", YNODE_MAP);
	if (ot != NULL)
		sc_outbound(ld, ot, &sc);
	path_pop(ld, mark);
	sc.selects_us = labels_select(ld->cfg, sc.selector, sc.n_selector);
	model_add_sidecar(ld, &sc);
}

/* ------------------------------------------------------------------ */
/* Documents                                                           */

static const char *const resource_fields[] = {
	"apiVersion", "kind", "metadata", "spec", "status", NULL,
};
static const char *const list_fields[] = { "apiVersion", "kind", "metadata", "items", NULL };

static void load_resource(struct ld *ld, const struct ynode *res, bool in_list);

static void
load_list(struct ld *ld, const struct ynode *res, bool in_list)
{
	const struct ynode *items, *kn = ymap_get(res, "kind");
	size_t i, mark;

	if (in_list) {
		ld_err(ld, kn, "a List cannot contain a List");
		return;
	}
	ld_unknown_fields(ld, res, list_fields);
	items = ld_get(ld, res, "items", YNODE_SEQ);
	for (i = 0; items != NULL && i < items->n; i++) {
		const struct ynode *it = items->items[i];

		mark = path_push(ld, "items[%zu]", i);
		if (it->type != YNODE_MAP)
			ld_err(ld, it, "expected a mapping (a Kubernetes resource), got %s",
			       ydescribe(ld, it));
		else
			load_resource(ld, it, true);
		path_pop(ld, mark);
	}
}

/* One resource: a document, or an item of a List. */
static void
load_resource(struct ld *ld, const struct ynode *res, bool in_list)
{
	const struct ynode *an, *kn, *spec;
	const char *api = ld_get_str(ld, res, "apiVersion", &an);
	const char *kind = ld_get_str(ld, res, "kind", &kn);
	const char *slash, *version;
	struct meta md;
	size_t mark;

	if (kind == NULL || kind[0] == '\0') {
		mark = path_key(ld, "kind");
		ld_err(ld, kn != NULL ? kn : res, "required field missing");
		path_pop(ld, mark);
		return;
	}
	if (strcmp(kind, "List") == 0) {
		load_list(ld, res, in_list);
		return;
	}
	if (api == NULL || api[0] == '\0') {
		mark = path_key(ld, "apiVersion");
		ld_err(ld, an != NULL ? an : res, "required field missing");
		path_pop(ld, mark);
		return;
	}
	slash = strchr(api, '/');
	if (slash == NULL || (size_t)(slash - api) != strlen(ISTIO_GROUP) ||
	    strncmp(api, ISTIO_GROUP, strlen(ISTIO_GROUP)) != 0) {
		/* a whole manifest may be mounted: other kinds are not our business */
		ld_warn(ld, kn, "skipped: kind %s is not an Istio networking resource", kind);
		return;
	}
	version = slash + 1;
	if (strcmp(version, "v1alpha3") != 0 && strcmp(version, "v1beta1") != 0 &&
	    strcmp(version, "v1") != 0) {
		mark = path_key(ld, "apiVersion");
		ld_err(ld, an, "unsupported apiVersion %s (want " ISTIO_GROUP
		       "/v1alpha3, v1beta1 or v1)", api);
		path_pop(ld, mark);
		return;
	}
	if (strcmp(kind, "ServiceEntry") != 0 && strcmp(kind, "Gateway") != 0 &&
	    strcmp(kind, "DestinationRule") != 0 && strcmp(kind, "VirtualService") != 0 &&
	    strcmp(kind, "Sidecar") != 0) {
		ld_warn(ld, kn, "skipped: kind %s is not handled by egressd", kind);
		return;
	}

	ld_unknown_fields(ld, res, resource_fields);
	if (ld_metadata(ld, res, &md) != 0 && md.name == NULL)
		md.name = "";
	spec = ld_get(ld, res, "spec", YNODE_MAP);
	if (spec == NULL) {
		if (ld_absent(res, "spec")) {
			mark = path_key(ld, "spec");
			ld_err(ld, res, "required field missing");
			path_pop(ld, mark);
		}
		return;
	}
	if (strcmp(kind, "ServiceEntry") == 0)
		load_service_entry(ld, &md, spec);
	else if (strcmp(kind, "Gateway") == 0)
		load_gateway(ld, &md, spec);
	else if (strcmp(kind, "DestinationRule") == 0)
		load_destination_rule(ld, &md, spec);
	else if (strcmp(kind, "VirtualService") == 0)
		load_virtual_service(ld, &md, spec);
	else
		load_sidecar(ld, &md, spec);
}

static void
load_yfile(struct ld *ld, const struct yfile *yf)
{
	size_t i;

	for (i = 0; i < yf->n_docs; i++) {
		const struct ydoc *d = &yf->docs[i];

		ld->doc = d->index;
		ld->path_len = 0;
		ld->path[0] = '\0';
		if (d->root == NULL)
			continue;
		if (d->root->type != YNODE_MAP) {
			ld_err(ld, d->root, "expected a mapping (a Kubernetes resource), got %s",
			       ydescribe(ld, d->root));
			continue;
		}
		load_resource(ld, d->root, false);
	}
}

static void
ld_init(struct ld *ld, const struct egress_config *cfg, struct policy_model *m,
	struct diag_list *dl, const char *file)
{
	memset(ld, 0, sizeof(*ld));
	ld->cfg = cfg;
	ld->m = m;
	ld->dl = dl;
	ld->file = file;
	own_init(ld);
}

static int
ld_result(struct ld *ld, size_t errors_before, int rc)
{
	if (ld->oom) {
		diag_add(ld->dl, DIAG_ERROR, ld->file, 0, 0, "out of memory");
		return -ENOMEM;
	}
	if (rc != 0 && rc != -EINVAL)
		return rc;
	return diag_errors(ld->dl) > errors_before ? -EINVAL : 0;
}

int
istio_load_buffer(const struct egress_config *cfg, struct policy_model *m, const char *name,
		  const char *buf, size_t len, struct diag_list *dl)
{
	size_t errors_before = diag_errors(dl);
	struct yfile yf = { 0 };
	const char *file;
	struct ld ld;
	int rc;

	file = model_add_file(m, name);
	if (file == NULL) {
		diag_add(dl, DIAG_ERROR, name, 0, 0, "out of memory");
		return -ENOMEM;
	}
	ld_init(&ld, cfg, m, dl, file);
	rc = yfile_parse(&yf, name, buf, len, dl);
	if (rc == 0)
		load_yfile(&ld, &yf);
	yfile_free(&yf);
	return ld_result(&ld, errors_before, rc);
}

int
istio_load_file(const struct egress_config *cfg, struct policy_model *m, const char *path,
		struct diag_list *dl)
{
	size_t errors_before = diag_errors(dl);
	struct yfile yf = { 0 };
	const char *file;
	struct ld ld;
	int rc;

	file = model_add_file(m, path);
	if (file == NULL) {
		diag_add(dl, DIAG_ERROR, path, 0, 0, "out of memory");
		return -ENOMEM;
	}
	ld_init(&ld, cfg, m, dl, file);
	rc = yfile_load(&yf, path, dl);
	if (rc == 0)
		load_yfile(&ld, &yf);
	yfile_free(&yf);
	/* an I/O failure that the reader did not describe must still be seen */
	if (rc != 0 && diag_errors(dl) == errors_before)
		diag_add(dl, DIAG_ERROR, path, 0, 0, "cannot load: %s", strerror(-rc));
	return ld_result(&ld, errors_before, rc);
}

/* ------------------------------------------------------------------ */
/* Sources: files and folders                                          */

static bool
has_yaml_suffix(const char *name)
{
	size_t len = strlen(name);

	return (len > 5 && strcmp(name + len - 5, ".yaml") == 0) ||
	       (len > 4 && strcmp(name + len - 4, ".yml") == 0);
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files already loaded in this run, by real path: a file named twice loads once. */
struct seen {
	char **v;
	unsigned int n;
};

static bool
seen_add(struct seen *seen, const char *path, bool *oom)
{
	char *real = realpath(path, NULL);
	char **v;
	unsigned int i;

	if (real == NULL)
		return false;  /* the load reports why */
	for (i = 0; i < seen->n; i++) {
		if (strcmp(seen->v[i], real) == 0) {
			free(real);
			return true;
		}
	}
	v = grow(seen->v, seen->n, sizeof(*v));
	if (v == NULL) {
		*oom = true;
		free(real);
		return false;
	}
	seen->v = v;
	seen->v[seen->n++] = real;
	return false;
}

static void
seen_free(struct seen *seen)
{
	unsigned int i;

	for (i = 0; i < seen->n; i++)
		free(seen->v[i]);
	free(seen->v);
}

/*
 * A folder: its *.yaml / *.yml entries in name order, dotfiles skipped. In a
 * Kubernetes ConfigMap volume the visible names are symlinks through the
 * "..data" symlink into a "..<timestamp>" folder: stat() follows them, and the
 * dot-named entries themselves are skipped, so every file loads once.
 */
static int
load_dir(const struct egress_config *cfg, struct policy_model *m, const char *dir,
	 struct diag_list *dl, struct seen *seen, bool *oom)
{
	char **names = NULL;
	unsigned int n = 0, i;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	d = opendir(dir);
	if (d == NULL) {
		rc = -errno; /* before diag_add() can change errno */
		diag_add(dl, DIAG_ERROR, dir, 0, 0, "cannot open folder: %s", strerror(-rc));
		return rc;
	}
	while ((de = readdir(d)) != NULL) {
		char **v;

		if (de->d_name[0] == '.' || !has_yaml_suffix(de->d_name))
			continue;
		v = grow(names, n, sizeof(*v));
		if (v == NULL)
			goto nomem;
		names = v;
		names[n] = strdup(de->d_name);
		if (names[n] == NULL)
			goto nomem;
		n++;
	}
	closedir(d);
	d = NULL;
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_names);
	if (n == 0)
		diag_add(dl, DIAG_WARNING, dir, 0, 0, "no *.yaml or *.yml files in this folder");

	for (i = 0; i < n; i++) {
		size_t len = strlen(dir) + strlen(names[i]) + 2;
		char *path = malloc(len);
		struct stat st;
		int r;

		if (path == NULL)
			goto nomem;
		snprintf(path, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
			 names[i]);
		if (stat(path, &st) != 0) {
			diag_add(dl, DIAG_ERROR, path, 0, 0, "cannot read: %s", strerror(errno));
			rc = -EINVAL;
		} else if (!S_ISREG(st.st_mode)) {
			diag_add(dl, DIAG_WARNING, path, 0, 0, "not a regular file; skipped");
		} else if (!seen_add(seen, path, oom)) {
			r = istio_load_file(cfg, m, path, dl);
			if (r != 0 && (rc == 0 || r == -ENOMEM))
				rc = r;
		}
		free(path);
	}
	goto out;
nomem:
	*oom = true;
	rc = -ENOMEM;
out:
	if (d != NULL)
		closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
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

/* Does a server of a Gateway that selects us carry port p for one of se's hosts? */
static bool
port_served(const struct policy_model *m, const struct service_entry *se,
	    const struct se_port *p)
{
	unsigned int g, s, h, k;

	for (g = 0; g < m->n_gateways; g++) {
		const struct gateway *gw = &m->gateways[g];

		if (!gw->selects_us)
			continue;
		for (s = 0; s < gw->n_servers; s++) {
			const struct gw_server *srv = &gw->servers[s];

			if (srv->port != p->number)
				continue;
			for (h = 0; h < srv->n_hosts; h++)
				for (k = 0; k < se->n_hosts; k++)
					if (srv->hosts[h] != NULL && se->hosts[k] != NULL &&
					    istio_host_covers(srv->hosts[h], se->hosts[k]))
						return true;
		}
	}
	return false;
}

struct res_ref {
	const char *kind;
	const char *ns;
	const char *name;
	const struct ypos *pos;
	size_t order;             /* load order: the first definition wins */
};

static int
cmp_res(const void *a, const void *b)
{
	const struct res_ref *x = a, *y = b;
	int c = strcmp(x->kind, y->kind);

	if (c == 0)
		c = strcmp(x->ns, y->ns);
	if (c == 0)
		c = strcmp(x->name, y->name);
	return c;
}

static int
cmp_res_order(const void *a, const void *b)
{
	const struct res_ref *x = a, *y = b;
	int c = cmp_res(a, b);

	if (c == 0)
		c = x->order < y->order ? -1 : x->order > y->order;
	return c;
}

/*
 * Checks across files, once everything is loaded: a resource defined twice
 * (kubectl would keep only the last one: almost always a copy-paste mistake),
 * and ServiceEntry ports that no Gateway selecting this appliance serves.
 */
static int
check_model(const struct policy_model *m, struct diag_list *dl)
{
	size_t n = (size_t)m->n_ses + m->n_gateways + m->n_drs + m->n_vss + m->n_sidecars;
	size_t k = 0, i, first;
	struct res_ref *refs;
	unsigned int s, p;

	refs = n > 0 ? calloc(n, sizeof(*refs)) : NULL;
	if (n > 0 && refs == NULL)
		return -ENOMEM;
	for (i = 0; i < m->n_ses; i++)
		refs[k++] = (struct res_ref){ "ServiceEntry", m->ses[i].ns, m->ses[i].name,
					      &m->ses[i].pos };
	for (i = 0; i < m->n_gateways; i++)
		refs[k++] = (struct res_ref){ "Gateway", m->gateways[i].ns, m->gateways[i].name,
					      &m->gateways[i].pos };
	for (i = 0; i < m->n_drs; i++)
		refs[k++] = (struct res_ref){ "DestinationRule", m->drs[i].ns, m->drs[i].name,
					      &m->drs[i].pos };
	for (i = 0; i < m->n_vss; i++)
		refs[k++] = (struct res_ref){ "VirtualService", m->vss[i].ns, m->vss[i].name,
					      &m->vss[i].pos };
	for (i = 0; i < m->n_sidecars; i++)
		refs[k++] = (struct res_ref){ "Sidecar", m->sidecars[i].ns, m->sidecars[i].name,
					      &m->sidecars[i].pos };
	for (i = 0; i < k; i++) {
		refs[i].order = i;
		if (refs[i].ns == NULL || refs[i].name == NULL)
			refs[i].name = refs[i].ns = "";
	}
	if (k > 1)
		qsort(refs, k, sizeof(*refs), cmp_res_order);
	for (i = 1, first = 0; i < k; i++) {
		const struct res_ref *a, *b = &refs[i];

		if (cmp_res(&refs[first], b) != 0) {
			first = i;
			continue;
		}
		if (b->name[0] == '\0')
			continue;
		/* every later definition points at the first one */
		a = &refs[first];
		diag_add(dl, DIAG_ERROR, b->pos->file, b->pos->line, b->pos->col,
			 "metadata.name: %s %s%s%s already defined at %s:%u:%u", b->kind, b->ns,
			 b->ns[0] != '\0' ? "/" : "", b->name, a->pos->file, a->pos->line,
			 a->pos->col);
	}
	free(refs);

	/* Without any Gateway the ServiceEntries are the whole policy: nothing to say. */
	if (m->n_gateways == 0)
		return 0;
	for (s = 0; s < m->n_ses; s++) {
		const struct service_entry *se = &m->ses[s];

		for (p = 0; p < se->n_ports; p++) {
			const struct se_port *pt = &se->ports[p];

			if (pt->number == 0 || port_served(m, se, pt))
				continue;
			diag_add(dl, DIAG_WARNING, pt->pos.file, pt->pos.line, pt->pos.col,
				 "ServiceEntry %s: port %u is not served by any Gateway that "
				 "selects this appliance; admitted anyway", se->name, pt->number);
		}
	}
	return 0;
}

int
istio_load_sources(const struct egress_config *cfg, struct policy_model *m,
		   struct diag_list *dl)
{
	size_t errors_before = diag_errors(dl);
	struct seen seen = { 0 };
	bool oom = false;
	unsigned int i;
	int rc = 0, r;

	for (i = 0; cfg != NULL && i < cfg->n_sources; i++) {
		const char *src = cfg->sources[i];
		struct stat st;

		if (stat(src, &st) != 0) {
			diag_add(dl, DIAG_ERROR, src, 0, 0, "cannot read policy source: %s",
				 strerror(errno));
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			r = load_dir(cfg, m, src, dl, &seen, &oom);
		} else if (!seen_add(&seen, src, &oom)) {
			r = istio_load_file(cfg, m, src, dl);
		} else {
			r = 0;
		}
		if (r == -ENOMEM)
			oom = true;
	}
	seen_free(&seen);
	if (!oom && check_model(m, dl) != 0)
		oom = true;
	if (oom) {
		diag_add(dl, DIAG_ERROR, cfg != NULL ? cfg->path : "policy", 0, 0,
			 "out of memory");
		rc = -ENOMEM;
	} else if (diag_errors(dl) > errors_before) {
		rc = -EINVAL;
	}
	return rc;
}
