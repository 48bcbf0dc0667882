/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The network sections of the appliance config: ports (device, address and
 * prefix, gateway, MTU, static neighbours) and nat (addresses, port range,
 * port allocation, MSS clamp), metrics (the listening address), and
 * egress_parse_cidr(). An address is
 * checked on its own first; its relations to the others (gateway inside the
 * prefix, prefixes that overlap, a NAT address inside the inside prefix)
 * only once both are valid.
 *
 * Control thread only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config_private.h"

#define CFG_MTU_MIN  68 /* RFC 791 */
#define CFG_MTU_MAX  9000
#define CFG_DESC_MIN 64
#define CFG_DESC_MAX 32768
#define CFG_MSS_MIN  536 /* RFC 879 default MSS */

static const char *const port_names[EGRESS_PORT_MAX] = {
	[EGRESS_PORT_INSIDE] = "inside",
	[EGRESS_PORT_OUTSIDE] = "outside",
};

static const char *const ports_keys[] = { "inside", "outside", NULL };
static const char *const port_keys[] = {
	"device",         "address",        "gateway",          "mtu",       "neighbors", "vlan",
	"rx_descriptors", "tx_descriptors", "checksum_offload", "exception", NULL
};
static const char *const nat_keys[] = { "addresses", "ports", "port_alloc", "mss_clamp", NULL };
static const char *const port_alloc_names[] = { "random", "preserve", NULL };
static const char *const metrics_keys[] = { "listen", NULL };

/* Host-order helpers for prefixes. */
static uint32_t
prefix_mask(uint8_t len)
{
	return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

static bool
is_unicast(uint32_t host)
{
	uint8_t a = (uint8_t)(host >> 24);

	/* 0/8 "this network", 127/8 loopback, 224/4 multicast, 240/4 reserved. */
	return a != 0 && a != 127 && a < 224;
}

static void
fmt_prefix(char *buf, size_t size, uint32_t host, uint8_t len)
{
	host &= prefix_mask(len);
	snprintf(buf, size, "%u.%u.%u.%u/%u", host >> 24, (host >> 16) & 0xff, (host >> 8) & 0xff,
		 host & 0xff, len);
}

/*
 * A unicast host address (the path is pushed), as "A.B.C.D" (or ".../32").
 * Stores it (network order) and returns true, or adds an error and returns
 * false.
 */
bool
cfg_parse_host(struct cfg_ctx *c, const struct ynode *v, uint32_t *addr)
{
	uint32_t a;
	uint8_t len;

	if (yr_scalar(&c->r, v, "an IPv4 address") == NULL)
		return false;
	if (egress_parse_cidr(v->str, &a, &len) < 0 || len != 32) {
		yr_err(&c->r, v, "invalid address %s (want A.B.C.D)", yr_quote_node(&c->r, v));
		return false;
	}
	if (!is_unicast(ntohl(a))) {
		yr_err(&c->r, v, "%s is not a unicast address", yr_quote_node(&c->r, v));
		return false;
	}
	*addr = a;
	return true;
}

/* A port's own address: "A.B.C.D/LEN", unicast, not its prefix's network or broadcast. */
static bool
parse_port_addr(struct cfg_ctx *c, const struct ynode *v, struct egress_port_cfg *pc)
{
	uint32_t a, host, mask;
	uint8_t len;

	if (yr_scalar(&c->r, v, "an address with prefix length") == NULL)
		return false;
	if (egress_parse_cidr(v->str, &a, &len) < 0 || strchr(v->str, '/') == NULL || len == 0) {
		yr_err(&c->r, v, "invalid address %s (want A.B.C.D/LEN, e.g. 10.8.0.1/16)",
		       yr_quote_node(&c->r, v));
		return false;
	}
	host = ntohl(a);
	mask = prefix_mask(len);
	if (!is_unicast(host)) {
		yr_err(&c->r, v, "%s is not a unicast address", yr_quote_node(&c->r, v));
		return false;
	}
	if (len <= 30 && (host & ~mask) == 0) {
		yr_err(&c->r, v, "%s is the network address of its prefix",
		       yr_quote_node(&c->r, v));
		return false;
	}
	if (len <= 30 && (host & ~mask) == ~mask) {
		yr_err(&c->r, v, "%s is the broadcast address of its prefix",
		       yr_quote_node(&c->r, v));
		return false;
	}
	pc->addr = a;
	pc->prefix_len = len;
	return true;
}

/* "aa:bb:cc:dd:ee:ff", unicast. */
static bool
parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6], i;
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6 ||
	    strlen(s) != 17)
		return false;
	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return (mac[0] & 1) == 0;
}

/*
 * ports.X.neighbors: { ADDRESS: MAC, ... }, static ARP entries for next hops
 * that do not answer ARP (pcap replay) or must not be learnt (pinned routers).
 */
static void
parse_neighbors(struct cfg_ctx *c, const struct ynode *m, struct egress_port_cfg *pc)
{
	size_t i, mark;

	if (m == NULL || ynode_is_null(m))
		return;
	mark = yr_key(&c->r, "neighbors");
	if (m->type != YNODE_MAP) {
		yr_err(&c->r, m, "want a mapping of ADDRESS: MAC");
		yr_pop(&c->r, mark);
		return;
	}
	for (i = 0; i < m->n; i++) {
		const struct ynode *k = m->items[2 * i], *v = m->items[2 * i + 1];
		struct egress_neighbor *nb;
		size_t m2;

		if (pc->n_neighbors == EGRESS_MAX_NEIGHBORS) {
			yr_err(&c->r, k, "more than %d static neighbours", EGRESS_MAX_NEIGHBORS);
			break;
		}
		nb = &pc->neighbors[pc->n_neighbors];
		/* the key is an address: longer ones are cut, and rejected below */
		m2 = yr_push(&c->r, ".%.20s", k->str);
		if (cfg_parse_host(c, k, &nb->ip) && yr_scalar(&c->r, v, "a MAC address") != NULL) {
			if (!parse_mac(v->str, nb->mac))
				yr_err(&c->r, v,
				       "invalid MAC address %s (want unicast "
				       "aa:bb:cc:dd:ee:ff)",
				       yr_quote_node(&c->r, v));
			else
				pc->n_neighbors++;
		}
		yr_pop(&c->r, m2);
	}
	yr_pop(&c->r, mark);
}

/*
 * rx_descriptors / tx_descriptors: a power of two (what every PMD's ring
 * takes); the device's own limits are only known at start, where
 * rte_eth_dev_adjust_nb_rx_tx_desc() fits the count to them (logged).
 */
static void
parse_desc(struct cfg_ctx *c, const struct ynode *m, const char *key, uint16_t *desc)
{
	const char *want = "a power of two, 64-32768";
	const struct ynode *v;
	uint64_t x;

	v = yr_get_uint(&c->r, m, key, CFG_DESC_MIN, CFG_DESC_MAX, want, &x);
	if (v == NULL)
		return;
	if ((x & (x - 1)) != 0) {
		size_t mark = yr_key(&c->r, key);

		yr_err(&c->r, v, "invalid value \"%s\" (want %s)", v->str, want);
		yr_pop(&c->r, mark);
		return;
	}
	*desc = (uint16_t)x;
}

/* ports.inside or ports.outside (the path is "ports"). */
static void
parse_port(struct cfg_ctx *c, const struct ynode *ports, enum egress_port_role r)
{
	struct egress_port_cfg *pc = &c->cfg->port[r];
	const struct ynode *m, *v;
	size_t mark, m2;
	uint64_t x;

	m = cfg_need(c, ports, port_names[r]);
	mark = yr_key(&c->r, port_names[r]);
	if (m == NULL || !cfg_check_map(c, m, port_keys)) {
		yr_pop(&c->r, mark);
		return;
	}
	pc->line = m->line;

	v = cfg_need(c, m, "device");
	m2 = yr_key(&c->r, "device");
	if (v != NULL && yr_scalar(&c->r, v, "a device name") != NULL)
		cfg_strdup(c, v->str, &pc->device);
	yr_pop(&c->r, m2);

	v = cfg_need(c, m, "address");
	m2 = yr_key(&c->r, "address");
	if (v != NULL && parse_port_addr(c, v, pc))
		c->addr[r] = v;
	yr_pop(&c->r, m2);

	v = ymap_opt(m, "gateway");
	m2 = yr_key(&c->r, "gateway");
	if (v != NULL && cfg_parse_host(c, v, &pc->gateway))
		c->gateway[r] = v;
	yr_pop(&c->r, m2);

	if (yr_get_uint(&c->r, m, "mtu", CFG_MTU_MIN, CFG_MTU_MAX, NULL, &x) != NULL)
		pc->mtu = (uint16_t)x;
	if (yr_get_uint(&c->r, m, "vlan", 1, 4094, NULL, &x) != NULL)
		pc->vlan = (uint16_t)x;
	parse_desc(c, m, "rx_descriptors", &pc->rx_desc);
	parse_desc(c, m, "tx_descriptors", &pc->tx_desc);
	{
		bool on = true;

		if (yr_get_flag(&c->r, m, "checksum_offload", &on) != NULL)
			pc->no_cksum_offload = !on;
	}

	parse_neighbors(c, ymap_opt(m, "neighbors"), pc);
	cfg_parse_exception(c, m, r);
	yr_pop(&c->r, mark);
}

/* The gateway is a neighbour: inside the port's prefix, not the port itself. */
static void
check_gateway(struct cfg_ctx *c, enum egress_port_role r)
{
	const struct egress_port_cfg *pc = &c->cfg->port[r];
	const struct ynode *v = c->gateway[r];
	uint32_t gw = ntohl(pc->gateway), own = ntohl(pc->addr);
	uint32_t mask = prefix_mask(pc->prefix_len);
	char prefix[24];
	size_t mark;

	if (v == NULL || c->addr[r] == NULL)
		return;
	fmt_prefix(prefix, sizeof(prefix), own, pc->prefix_len);
	mark = yr_push(&c->r, "ports.%s.gateway", port_names[r]);
	if (gw == own)
		yr_err(&c->r, v, "%s is the port's own address", yr_quote_node(&c->r, v));
	else if ((gw & mask) != (own & mask))
		yr_err(&c->r, v, "%s is not inside the port's prefix %s", yr_quote_node(&c->r, v),
		       prefix);
	else if (pc->prefix_len <= 30 && ((gw & ~mask) == 0 || (gw & ~mask) == ~mask))
		yr_err(&c->r, v, "%s is the %s address of prefix %s", yr_quote_node(&c->r, v),
		       (gw & ~mask) == 0 ? "network" : "broadcast", prefix);
	yr_pop(&c->r, mark);
}

void
cfg_parse_ports(struct cfg_ctx *c, const struct ynode *root)
{
	const struct egress_port_cfg *in = &c->cfg->port[EGRESS_PORT_INSIDE];
	const struct egress_port_cfg *out = &c->cfg->port[EGRESS_PORT_OUTSIDE];
	const struct ynode *ports = cfg_need(c, root, "ports");
	size_t mark = yr_key(&c->r, "ports");
	uint8_t len;

	if (ports == NULL || !cfg_check_map(c, ports, ports_keys)) {
		yr_pop(&c->r, mark);
		return;
	}
	parse_port(c, ports, EGRESS_PORT_INSIDE);
	parse_port(c, ports, EGRESS_PORT_OUTSIDE);
	yr_pop(&c->r, mark);
	check_gateway(c, EGRESS_PORT_INSIDE);
	check_gateway(c, EGRESS_PORT_OUTSIDE);

	if (c->addr[EGRESS_PORT_INSIDE] == NULL || c->addr[EGRESS_PORT_OUTSIDE] == NULL)
		return;
	len = in->prefix_len < out->prefix_len ? in->prefix_len : out->prefix_len;
	if (((ntohl(in->addr) ^ ntohl(out->addr)) & prefix_mask(len)) == 0) {
		mark = yr_key(&c->r, "ports.outside.address");
		yr_err(&c->r, c->addr[EGRESS_PORT_OUTSIDE], "%s overlaps ports.inside.address %s",
		       yr_quote_node(&c->r, c->addr[EGRESS_PORT_OUTSIDE]),
		       yr_quote_node(&c->r, c->addr[EGRESS_PORT_INSIDE]));
		yr_pop(&c->r, mark);
	}
}

/* One NAT address (the path is pushed). */
static void
nat_address(struct cfg_ctx *c, const struct ynode *v)
{
	const struct egress_port_cfg *in = &c->cfg->port[EGRESS_PORT_INSIDE];
	struct egress_config *cfg = c->cfg;
	char prefix[24];
	uint32_t a;
	unsigned int i;

	if (!cfg_parse_host(c, v, &a))
		return;
	for (i = 0; i < cfg->n_nat_addrs; i++) {
		if (cfg->nat_addrs[i] == a) {
			yr_err(&c->r, v, "duplicate address %s", yr_quote_node(&c->r, v));
			return;
		}
	}
	if (c->addr[EGRESS_PORT_INSIDE] != NULL &&
	    ((ntohl(a) ^ ntohl(in->addr)) & prefix_mask(in->prefix_len)) == 0) {
		fmt_prefix(prefix, sizeof(prefix), ntohl(in->addr), in->prefix_len);
		yr_err(&c->r, v, "%s is inside ports.inside's prefix %s", yr_quote_node(&c->r, v),
		       prefix);
		return;
	}
	cfg->nat_addrs[cfg->n_nat_addrs++] = a;
}

/* "LO-HI", both 1-65535, LO <= HI. */
static int
parse_port_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	const char *dash = strchr(s, '-');
	char first[8];
	uint64_t a, b;

	if (dash == NULL || dash == s || (size_t)(dash - s) >= sizeof(first))
		return -EINVAL;
	memcpy(first, s, (size_t)(dash - s));
	first[dash - s] = '\0';
	if (yparse_uint(first, UINT16_MAX, &a) < 0 || yparse_uint(dash + 1, UINT16_MAX, &b) < 0)
		return -EINVAL;
	if (a == 0 || a > b)
		return -EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

void
cfg_parse_nat(struct cfg_ctx *c, const struct ynode *root)
{
	struct egress_config *cfg = c->cfg;
	size_t i, mark, m2, m3;
	const struct ynode *nat = cfg_section(c, root, "nat", nat_keys, &mark);
	const struct ynode *v;
	unsigned int e;
	uint64_t x;

	if (nat == NULL)
		return;

	v = ymap_opt(nat, "addresses");
	m2 = yr_key(&c->r, "addresses");
	if (v != NULL && v->type == YNODE_SEQ) {
		if (v->n == 0)
			yr_err(&c->r, v, "empty list (want at least one address)");
		for (i = 0; i < v->n; i++) {
			if (i == EGRESS_MAX_NAT_ADDRS) {
				yr_err(&c->r, v->items[i], "too many addresses (limit %d)",
				       EGRESS_MAX_NAT_ADDRS);
				break;
			}
			m3 = yr_idx(&c->r, i);
			nat_address(c, v->items[i]);
			yr_pop(&c->r, m3);
		}
	} else if (v != NULL && v->type == YNODE_SCALAR) {
		nat_address(c, v);
	} else if (v != NULL) {
		yr_err(&c->r, v, "expected a list of addresses, got %s", ynode_kind(v));
	}
	yr_pop(&c->r, m2);

	v = ymap_opt(nat, "ports");
	m2 = yr_key(&c->r, "ports");
	if (v != NULL && yr_scalar(&c->r, v, "a port range") != NULL &&
	    parse_port_range(v->str, &cfg->nat_port_lo, &cfg->nat_port_hi) < 0)
		yr_err(&c->r, v, "invalid port range %s (want LO-HI within 1-65535)",
		       yr_quote_node(&c->r, v));
	yr_pop(&c->r, m2);

	e = cfg->port_alloc;
	yr_get_enum(&c->r, nat, "port_alloc", port_alloc_names, NULL, &e);
	cfg->port_alloc = (enum egress_port_alloc)e;

	v = ymap_opt(nat, "mss_clamp");
	m2 = yr_key(&c->r, "mss_clamp");
	if (v != NULL && yr_scalar(&c->r, v, "a number") != NULL) {
		if (yparse_uint(v->str, UINT16_MAX, &x) < 0 || (x != 0 && x < CFG_MSS_MIN))
			yr_err(&c->r, v, "invalid value %s (want 0 for off, or %u-65535)",
			       yr_quote_node(&c->r, v), CFG_MSS_MIN);
		else
			cfg->mss_clamp = (uint16_t)x;
	}
	yr_pop(&c->r, m2);
	yr_pop(&c->r, mark);
}

/* Strict dotted quad: 1-3 digits per byte, no leading zero; "/LEN" 0-32 optional. */
int
egress_parse_cidr(const char *s, uint32_t *addr, uint8_t *len)
{
	uint32_t a = 0;
	unsigned int i, l = 32;

	if (s == NULL || addr == NULL || len == NULL)
		return -EINVAL;
	for (i = 0; i < 4; i++) {
		unsigned int v = 0, digits = 0;

		if (i > 0 && *s++ != '.')
			return -EINVAL;
		if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
			return -EINVAL;
		for (; *s >= '0' && *s <= '9' && digits < 4; s++, digits++)
			v = v * 10 + (unsigned int)(*s - '0');
		if (digits == 0 || digits > 3 || v > 255)
			return -EINVAL;
		a = a << 8 | v;
	}
	if (*s == '/') {
		s++;
		if (s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] != '\0'))
			return -EINVAL;
		l = (unsigned int)(s[0] - '0');
		s++;
		if (*s >= '0' && *s <= '9')
			l = l * 10 + (unsigned int)(*s++ - '0');
		if (l > 32)
			return -EINVAL;
	}
	if (*s != '\0')
		return -EINVAL;
	*addr = htonl(a);
	*len = (uint8_t)l;
	return 0;
}

/*
 * Literal addresses only: a name would need the resolver at startup, and a
 * scraper's target is an address anyway. IPv6 in brackets (RFC 3986 3.2.2),
 * so that the last colon is unambiguous.
 */
int
egress_parse_listen(const char *s, struct egress_listen *l)
{
	char host[INET6_ADDRSTRLEN];
	const char *h = s, *colon;
	struct egress_listen x = { .family = AF_INET };
	uint64_t port;
	size_t hl;

	if (s == NULL)
		return -EINVAL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		x.family = AF_INET6;
		h = s + 1;
		colon = close + 1;
		hl = (size_t)(close - h);
	} else {
		colon = strchr(s, ':');
		if (colon == NULL || strchr(colon + 1, ':') != NULL)
			return -EINVAL; /* none, or an IPv6 address without brackets */
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (yparse_uint(colon + 1, UINT16_MAX, &port) < 0 || port == 0 ||
	    inet_pton(x.family, host, x.addr) != 1)
		return -EINVAL;
	x.port = (uint16_t)port;
	*l = x;
	return 0;
}

void
cfg_parse_metrics(struct cfg_ctx *c, const struct ynode *root)
{
	size_t mark, m2;
	const struct ynode *m = cfg_section(c, root, "metrics", metrics_keys, &mark);
	const struct ynode *v;

	if (m == NULL)
		return;
	v = cfg_need(c, m, "listen");
	m2 = yr_key(&c->r, "listen");
	if (v != NULL && yr_scalar(&c->r, v, "an address") != NULL &&
	    egress_parse_listen(v->str, &c->cfg->metrics) < 0)
		yr_err(&c->r, v, "invalid address %s (want IPV4:PORT or [IPV6]:PORT, PORT 1-65535)",
		       yr_quote_node(&c->r, v));
	yr_pop(&c->r, m2);
	yr_pop(&c->r, mark);
}
