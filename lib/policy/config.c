/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The appliance config loader (the "Appliance config" contract of the design).
 *
 * One pass over the tree that ydoc built: every key is checked where it is
 * read, with its YAML path and its value in the message, and the loader goes
 * on after an error so that one run reports every problem. Checks that need
 * two values (gateway in prefix, overlapping prefixes, NAT addresses) run
 * once both are known, and only when both were valid on their own, so that
 * one typo gives one error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ydoc.h"

#define CFG_DEFAULT_FLOWS_MAX    1048576u
#define CFG_FLOWS_MIN            1024u
#define CFG_FLOWS_LIMIT          16777216u
#define CFG_DEFAULT_ESTABLISHED  (7440ull * 1000)  /* RFC 5382 REQ-5: 2 h 4 min */
#define CFG_DEFAULT_TRANSITORY   (240ull * 1000)   /* RFC 5382 REQ-5: 4 min */
#define CFG_DEFAULT_TIME_WAIT    (120ull * 1000)   /* 2 MSL */
#define CFG_MTU_MIN              68                /* RFC 791 */
#define CFG_MTU_MAX              9000
#define CFG_MTU_DEFAULT          1500
#define CFG_MSS_MIN              536               /* RFC 879 default MSS */
#define CFG_WORKERS_MAX          128
#define CFG_NEW_PER_SECOND_MAX   100000000u
#define CFG_LABEL_NAME_MAX       63
#define CFG_LABEL_PREFIX_MAX     253
#define CFG_QUOTE_MAX            64                /* bytes of a value in a message */
#define CFG_PATH_LEN             96                /* "flows.timeouts.established" */

/* What the loader remembers while it reads, for the checks that need two values. */
struct cfg_ctx {
	struct egress_config *cfg;
	struct diag_list *dl;
	const char *file;
	const struct ynode *addr[EGRESS_PORT_MAX];    /* valid port addresses */
	const struct ynode *gateway[EGRESS_PORT_MAX]; /* gateways valid on their own */
	const struct ynode *embryonic;                /* flows.embryonic_max, when valid */
};

static const char *const port_names[EGRESS_PORT_MAX] = {
	[EGRESS_PORT_INSIDE] = "inside",
	[EGRESS_PORT_OUTSIDE] = "outside",
};

static const char *const top_keys[] = { "ports", "nat", "policy", "flows", "workers", NULL };
static const char *const ports_keys[] = { "inside", "outside", NULL };
static const char *const port_keys[] = { "device", "address", "gateway", "mtu", "neighbors",
					 NULL };
static const char *const nat_keys[] = { "addresses", "ports", "port_alloc", "mss_clamp", NULL };
static const char *const policy_keys[] = {
	"outbound", "deny", "on_revoke", "sources", "labels", NULL,
};
static const char *const flows_keys[] = {
	"max", "timeouts", "embryonic_max", "per_source", "tcp_liberal", NULL,
};
static const char *const timeouts_keys[] = { "established", "transitory", "time_wait", NULL };
static const char *const per_source_keys[] = { "max", "new_per_second", NULL };

/* Values of the enums, in enum order. */
static const char *const outbound_names[] = { "REGISTRY_ONLY", "ALLOW_ANY", NULL };
static const char *const deny_names[] = { "drop", "reset", NULL };
static const char *const revoke_names[] = { "reset", "drop", "keep", NULL };
static const char *const port_alloc_names[] = { "random", "preserve", NULL };

static void
cfg_diag(struct cfg_ctx *c, enum diag_severity sev, const struct ynode *at, const char *fmt,
	 ...) __attribute__((format(printf, 4, 5)));

/* One diagnostic at a node's position (the whole file when at is NULL). */
static void
cfg_diag(struct cfg_ctx *c, enum diag_severity sev, const struct ynode *at, const char *fmt,
	 ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(c->dl, sev, c->file, at != NULL ? at->line : 0, at != NULL ? at->col : 0,
		  fmt, ap);
	va_end(ap);
}

#define cfg_err(c, at, ...)  cfg_diag(c, DIAG_ERROR, at, __VA_ARGS__)
#define cfg_warn(c, at, ...) cfg_diag(c, DIAG_WARNING, at, __VA_ARGS__)

/* Room for one quoted value: every byte may take 4 ("\xNN"), plus quotes and "...". */
struct cfg_quote {
	char s[4 * CFG_QUOTE_MAX + 8];
};

/*
 * A value as a double-quoted literal for a message: quotes, backslashes and
 * control bytes escaped, cut after CFG_QUOTE_MAX bytes on a character
 * boundary ("..." marks the cut). The text lives in q.
 */
static const char *
quote(struct cfg_quote *q, const char *s, size_t len)
{
	size_t n = len, i, o = 0;

	if (n > CFG_QUOTE_MAX) {
		n = CFG_QUOTE_MAX;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	q->s[o++] = '"';
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\') {
			q->s[o++] = '\\';
			q->s[o++] = (char)ch;
		} else if (ch == '\n') {
			q->s[o++] = '\\';
			q->s[o++] = 'n';
		} else if (ch == '\t') {
			q->s[o++] = '\\';
			q->s[o++] = 't';
		} else if (ch < 0x20 || ch == 0x7f) {
			o += (size_t)snprintf(q->s + o, 5, "\\x%02x", ch);
		} else {
			q->s[o++] = (char)ch;
		}
	}
	if (n < len) {
		memcpy(q->s + o, "...", 3);
		o += 3;
	}
	q->s[o++] = '"';
	q->s[o] = '\0';
	return q->s;
}

static const char *
qnode(struct cfg_quote *q, const struct ynode *n)
{
	return quote(q, n->str, n->len);
}

static const char *
kind(const struct ynode *n)
{
	switch (n->type) {
	case YNODE_MAP:
		return "a mapping";
	case YNODE_SEQ:
		return "a list";
	default:
		return "a scalar";
	}
}

/* "parent.key", or "key" at the top level. */
static const char *
path_of(char *buf, size_t size, const char *parent, const char *key)
{
	int n;

	if (parent[0] == '\0')
		n = snprintf(buf, size, "%s", key);
	else
		n = snprintf(buf, size, "%s.%s", parent, key);
	/* Paths are built from this file's key names: they fit. */
	return n >= 0 && (size_t)n < size ? buf : parent;
}

/* "want a, b or c" from a NULL-terminated list of names. */
static const char *
names_hint(char *buf, size_t size, const char *const *names)
{
	size_t o = 0, i;

	buf[0] = '\0';
	for (i = 0; names[i] != NULL && o < size; i++) {
		const char *sep = i == 0 ? "" : names[i + 1] == NULL ? " or " : ", ";

		o += (size_t)snprintf(buf + o, size - o, "%s%s", sep, names[i]);
	}
	return buf;
}

/*
 * Check that n is a mapping (error otherwise) and warn about every key that
 * is not in known. path "" is the top level.
 */
static bool
check_map(struct cfg_ctx *c, const struct ynode *n, const char *path,
	  const char *const *known)
{
	struct cfg_quote q;
	size_t i, j;

	if (n->type != YNODE_MAP) {
		if (path[0] == '\0')
			cfg_err(c, n, "expected a mapping at the top level, got %s", kind(n));
		else
			cfg_err(c, n, "%s: expected a mapping, got %s", path, kind(n));
		return false;
	}
	for (i = 0; i < n->n; i++) {
		const struct ynode *k = n->items[2 * i];

		for (j = 0; known[j] != NULL; j++)
			if (strcmp(k->str, known[j]) == 0 && strlen(known[j]) == k->len)
				break;
		if (known[j] != NULL)
			continue;
		if (path[0] == '\0')
			cfg_warn(c, k, "unknown key %s at the top level", qnode(&q, k));
		else
			cfg_warn(c, k, "unknown key %s in %s", qnode(&q, k), path);
	}
	return true;
}

/*
 * The value of an optional key: NULL when the key is absent or null (the
 * default applies). The caller checks the type.
 */
static const struct ynode *
opt(const struct ynode *map, const char *key)
{
	const struct ynode *v = ymap_get(map, key);

	return ynode_is_null(v) ? NULL : v;
}

/* The value of a required key, or NULL after an error. */
static const struct ynode *
need(struct cfg_ctx *c, const struct ynode *map, const char *parent, const char *key)
{
	const struct ynode *k = ymap_key(map, key);
	const struct ynode *v = ymap_get(map, key);
	char path[CFG_PATH_LEN];

	if (k == NULL) {
		if (parent[0] == '\0')
			cfg_err(c, map, "missing required key \"%s\"", key);
		else
			cfg_err(c, map, "%s: missing required key \"%s\"", parent, key);
		return NULL;
	}
	if (ynode_is_null(v) || (v->type == YNODE_SCALAR && v->len == 0)) {
		cfg_err(c, k, "%s: a value is required", path_of(path, sizeof(path), parent, key));
		return NULL;
	}
	return v;
}

/* The text of a scalar value, or NULL after "PATH: expected WHAT, got ...". */
static const char *
want_scalar(struct cfg_ctx *c, const struct ynode *n, const char *path, const char *what)
{
	if (n->type == YNODE_SCALAR)
		return n->str;
	cfg_err(c, n, "%s: expected %s, got %s", path, what, kind(n));
	return NULL;
}

/* Decimal digits only, no sign, no leading zero (YAML 1.1 would read octal). */
static int
parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != '\0'))
		return -EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (max - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

/*
 * Optional integer key in [lo, hi]. Returns the value node when a valid value
 * was stored in *out, NULL when absent (*out untouched) or after an error.
 * hint: what to say is wanted; NULL: "LO-HI".
 */
static const struct ynode *
get_uint(struct cfg_ctx *c, const struct ynode *map, const char *parent, const char *key,
	 uint64_t lo, uint64_t hi, const char *hint, uint64_t *out)
{
	const struct ynode *v = opt(map, key);
	char path[CFG_PATH_LEN], range[48];
	struct cfg_quote q;
	uint64_t x;

	if (v == NULL)
		return NULL;
	path_of(path, sizeof(path), parent, key);
	if (hint == NULL) {
		snprintf(range, sizeof(range), "%llu-%llu", (unsigned long long)lo,
			 (unsigned long long)hi);
		hint = range;
	}
	if (want_scalar(c, v, path, "a number") == NULL)
		return NULL;
	if (parse_uint(v->str, UINT64_MAX, &x) < 0 || x < lo || x > hi) {
		cfg_err(c, v, "%s: invalid value %s (want %s)", path, qnode(&q, v), hint);
		return NULL;
	}
	*out = x;
	return v;
}

/* Optional enum key: *out is the index of the value in names. */
static void
get_enum(struct cfg_ctx *c, const struct ynode *map, const char *parent, const char *key,
	 const char *const *names, unsigned int *out)
{
	const struct ynode *v = opt(map, key);
	char path[CFG_PATH_LEN], hint[96];
	struct cfg_quote q;
	unsigned int i;

	if (v == NULL)
		return;
	path_of(path, sizeof(path), parent, key);
	if (want_scalar(c, v, path, names_hint(hint, sizeof(hint), names)) == NULL)
		return;
	for (i = 0; names[i] != NULL; i++) {
		if (strcmp(v->str, names[i]) == 0) {
			*out = i;
			return;
		}
	}
	cfg_err(c, v, "%s: invalid value %s (want %s)", path, qnode(&q, v), hint);
}

static void
get_bool(struct cfg_ctx *c, const struct ynode *map, const char *parent, const char *key,
	 bool *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", NULL };
	static const char *const no[] = { "false", "False", "FALSE", NULL };
	const struct ynode *v = opt(map, key);
	char path[CFG_PATH_LEN];
	struct cfg_quote q;
	unsigned int i;

	if (v == NULL)
		return;
	path_of(path, sizeof(path), parent, key);
	if (want_scalar(c, v, path, "true or false") == NULL)
		return;
	for (i = 0; yes[i] != NULL; i++) {
		if (strcmp(v->str, yes[i]) == 0) {
			*out = true;
			return;
		}
		if (strcmp(v->str, no[i]) == 0) {
			*out = false;
			return;
		}
	}
	cfg_err(c, v, "%s: invalid value %s (want true or false)", path, qnode(&q, v));
}

static void
get_duration(struct cfg_ctx *c, const struct ynode *map, const char *parent, const char *key,
	     uint64_t *out)
{
	const struct ynode *v = opt(map, key);
	char path[CFG_PATH_LEN];
	struct cfg_quote q;
	uint64_t ms;

	if (v == NULL)
		return;
	path_of(path, sizeof(path), parent, key);
	if (want_scalar(c, v, path, "a duration") == NULL)
		return;
	if (egress_parse_duration(v->str, &ms) < 0) {
		cfg_err(c, v, "%s: invalid duration %s (want a number with unit s, m, h or ms, "
			"e.g. 240s)", path, qnode(&q, v));
		return;
	}
	if (ms == 0 || ms > EGRESS_TIMEOUT_MAX_MS) {
		cfg_err(c, v, "%s: duration %s out of range (want 1ms to %" PRIu64 "h)", path,
			qnode(&q, v), EGRESS_TIMEOUT_MAX_MS / 3600000);
		return;
	}
	*out = ms;
}

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
	snprintf(buf, size, "%u.%u.%u.%u/%u", host >> 24, (host >> 16) & 0xff,
		 (host >> 8) & 0xff, host & 0xff, len);
}

/*
 * A unicast host address, as "A.B.C.D" (or ".../32"). Stores it (network
 * order) and returns true, or adds an error and returns false.
 */
static bool
parse_host(struct cfg_ctx *c, const struct ynode *v, const char *path, uint32_t *addr)
{
	struct cfg_quote q;
	uint32_t a;
	uint8_t len;

	if (want_scalar(c, v, path, "an IPv4 address") == NULL)
		return false;
	if (egress_parse_cidr(v->str, &a, &len) < 0 || len != 32) {
		cfg_err(c, v, "%s: invalid address %s (want A.B.C.D)", path, qnode(&q, v));
		return false;
	}
	if (!is_unicast(ntohl(a))) {
		cfg_err(c, v, "%s: %s is not a unicast address", path, qnode(&q, v));
		return false;
	}
	*addr = a;
	return true;
}

/* A port's own address: "A.B.C.D/LEN", unicast, not its prefix's network or broadcast. */
static bool
parse_port_addr(struct cfg_ctx *c, const struct ynode *v, const char *path,
		struct egress_port_cfg *pc)
{
	struct cfg_quote q;
	uint32_t a, host, mask;
	uint8_t len;

	if (want_scalar(c, v, path, "an address with prefix length") == NULL)
		return false;
	if (egress_parse_cidr(v->str, &a, &len) < 0 || strchr(v->str, '/') == NULL ||
	    len == 0) {
		cfg_err(c, v, "%s: invalid address %s (want A.B.C.D/LEN, e.g. 10.8.0.1/16)",
			path, qnode(&q, v));
		return false;
	}
	host = ntohl(a);
	mask = prefix_mask(len);
	if (!is_unicast(host)) {
		cfg_err(c, v, "%s: %s is not a unicast address", path, qnode(&q, v));
		return false;
	}
	if (len <= 30 && (host & ~mask) == 0) {
		cfg_err(c, v, "%s: %s is the network address of its prefix", path, qnode(&q, v));
		return false;
	}
	if (len <= 30 && (host & ~mask) == ~mask) {
		cfg_err(c, v, "%s: %s is the broadcast address of its prefix", path,
			qnode(&q, v));
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
		   &tail) != 6 || strlen(s) != 17)
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
parse_neighbors(struct cfg_ctx *c, const struct ynode *m, const char *parent,
		struct egress_port_cfg *pc)
{
	char path[CFG_PATH_LEN + 16];
	struct cfg_quote q;
	size_t i;

	if (m == NULL || ynode_is_null(m))
		return;
	snprintf(path, sizeof(path), "%s.neighbors", parent);
	if (m->type != YNODE_MAP) {
		cfg_err(c, m, "%s: want a mapping of ADDRESS: MAC", path);
		return;
	}
	for (i = 0; i < m->n; i++) {
		const struct ynode *k = m->items[2 * i], *v = m->items[2 * i + 1];
		struct egress_neighbor *nb;
		char kpath[sizeof(path) + 24];

		/* the key is an address: longer ones are cut, and rejected below */
		if (snprintf(kpath, sizeof(kpath), "%s.%.20s", path, k->str) < 0)
			kpath[0] = '\0';
		if (pc->n_neighbors == EGRESS_MAX_NEIGHBORS) {
			cfg_err(c, k, "%s: more than %d static neighbours", path,
				EGRESS_MAX_NEIGHBORS);
			return;
		}
		nb = &pc->neighbors[pc->n_neighbors];
		if (!parse_host(c, k, kpath, &nb->ip))
			continue;
		if (want_scalar(c, v, kpath, "a MAC address") == NULL)
			continue;
		if (!parse_mac(v->str, nb->mac)) {
			cfg_err(c, v, "%s: invalid MAC address %s (want unicast aa:bb:cc:dd:ee:ff)",
				kpath, qnode(&q, v));
			continue;
		}
		pc->n_neighbors++;
	}
}

static int
dup_str(struct cfg_ctx *c, const char *s, char **out)
{
	*out = strdup(s);
	if (*out == NULL) {
		cfg_err(c, NULL, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static void
parse_port(struct cfg_ctx *c, const struct ynode *ports, enum egress_port_role r)
{
	struct egress_port_cfg *pc = &c->cfg->port[r];
	const struct ynode *m, *v;
	char parent[CFG_PATH_LEN], path[CFG_PATH_LEN];
	uint64_t x;

	snprintf(parent, sizeof(parent), "ports.%s", port_names[r]);
	m = need(c, ports, "ports", port_names[r]);
	if (m == NULL || !check_map(c, m, parent, port_keys))
		return;
	pc->line = m->line;

	v = need(c, m, parent, "device");
	if (v != NULL && want_scalar(c, v, path_of(path, sizeof(path), parent, "device"),
				     "a device name") != NULL)
		dup_str(c, v->str, &pc->device);

	v = need(c, m, parent, "address");
	if (v != NULL &&
	    parse_port_addr(c, v, path_of(path, sizeof(path), parent, "address"), pc))
		c->addr[r] = v;

	v = opt(m, "gateway");
	if (v != NULL && parse_host(c, v, path_of(path, sizeof(path), parent, "gateway"),
				    &pc->gateway))
		c->gateway[r] = v;

	if (get_uint(c, m, parent, "mtu", CFG_MTU_MIN, CFG_MTU_MAX, NULL, &x) != NULL)
		pc->mtu = (uint16_t)x;

	parse_neighbors(c, opt(m, "neighbors"), parent, pc);
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
	struct cfg_quote q;

	if (v == NULL || c->addr[r] == NULL)
		return;
	fmt_prefix(prefix, sizeof(prefix), own, pc->prefix_len);
	if (gw == own)
		cfg_err(c, v, "ports.%s.gateway: %s is the port's own address", port_names[r],
			qnode(&q, v));
	else if ((gw & mask) != (own & mask))
		cfg_err(c, v, "ports.%s.gateway: %s is not inside the port's prefix %s",
			port_names[r], qnode(&q, v), prefix);
	else if (pc->prefix_len <= 30 && ((gw & ~mask) == 0 || (gw & ~mask) == ~mask))
		cfg_err(c, v, "ports.%s.gateway: %s is the %s address of prefix %s",
			port_names[r], qnode(&q, v), (gw & ~mask) == 0 ? "network" : "broadcast",
			prefix);
}

static void
parse_ports(struct cfg_ctx *c, const struct ynode *root)
{
	const struct egress_port_cfg *in = &c->cfg->port[EGRESS_PORT_INSIDE];
	const struct egress_port_cfg *out = &c->cfg->port[EGRESS_PORT_OUTSIDE];
	const struct ynode *ports = need(c, root, "", "ports");
	struct cfg_quote q1, q2;
	uint8_t len;

	if (ports == NULL || !check_map(c, ports, "ports", ports_keys))
		return;
	parse_port(c, ports, EGRESS_PORT_INSIDE);
	parse_port(c, ports, EGRESS_PORT_OUTSIDE);
	check_gateway(c, EGRESS_PORT_INSIDE);
	check_gateway(c, EGRESS_PORT_OUTSIDE);

	if (c->addr[EGRESS_PORT_INSIDE] == NULL || c->addr[EGRESS_PORT_OUTSIDE] == NULL)
		return;
	len = in->prefix_len < out->prefix_len ? in->prefix_len : out->prefix_len;
	if (((ntohl(in->addr) ^ ntohl(out->addr)) & prefix_mask(len)) == 0)
		cfg_err(c, c->addr[EGRESS_PORT_OUTSIDE],
			"ports.outside.address: %s overlaps ports.inside.address %s",
			qnode(&q1, c->addr[EGRESS_PORT_OUTSIDE]),
			qnode(&q2, c->addr[EGRESS_PORT_INSIDE]));
}

static void
nat_address(struct cfg_ctx *c, const struct ynode *v, const char *path)
{
	const struct egress_port_cfg *in = &c->cfg->port[EGRESS_PORT_INSIDE];
	struct egress_config *cfg = c->cfg;
	struct cfg_quote q;
	char prefix[24];
	uint32_t a;
	unsigned int i;

	if (!parse_host(c, v, path, &a))
		return;
	for (i = 0; i < cfg->n_nat_addrs; i++) {
		if (cfg->nat_addrs[i] == a) {
			cfg_err(c, v, "%s: duplicate address %s", path, qnode(&q, v));
			return;
		}
	}
	if (c->addr[EGRESS_PORT_INSIDE] != NULL &&
	    ((ntohl(a) ^ ntohl(in->addr)) & prefix_mask(in->prefix_len)) == 0) {
		fmt_prefix(prefix, sizeof(prefix), ntohl(in->addr), in->prefix_len);
		cfg_err(c, v, "%s: %s is inside ports.inside's prefix %s", path, qnode(&q, v),
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
	if (parse_uint(first, UINT16_MAX, &a) < 0 || parse_uint(dash + 1, UINT16_MAX, &b) < 0)
		return -EINVAL;
	if (a == 0 || a > b)
		return -EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

static void
parse_nat(struct cfg_ctx *c, const struct ynode *root)
{
	struct egress_config *cfg = c->cfg;
	const struct ynode *nat = opt(root, "nat");
	const struct ynode *v;
	char path[CFG_PATH_LEN];
	struct cfg_quote q;
	unsigned int e;
	uint64_t x;
	size_t i;

	if (nat == NULL || !check_map(c, nat, "nat", nat_keys))
		return;

	v = opt(nat, "addresses");
	if (v != NULL && v->type == YNODE_SEQ) {
		if (v->n == 0)
			cfg_err(c, v, "nat.addresses: empty list (want at least one address)");
		for (i = 0; i < v->n; i++) {
			if (i == EGRESS_MAX_NAT_ADDRS) {
				cfg_err(c, v->items[i],
					"nat.addresses: too many addresses (limit %d)",
					EGRESS_MAX_NAT_ADDRS);
				break;
			}
			snprintf(path, sizeof(path), "nat.addresses[%zu]", i);
			nat_address(c, v->items[i], path);
		}
	} else if (v != NULL && v->type == YNODE_SCALAR) {
		nat_address(c, v, "nat.addresses");
	} else if (v != NULL) {
		cfg_err(c, v, "nat.addresses: expected a list of addresses, got %s", kind(v));
	}

	v = opt(nat, "ports");
	if (v != NULL && want_scalar(c, v, "nat.ports", "a port range") != NULL &&
	    parse_port_range(v->str, &cfg->nat_port_lo, &cfg->nat_port_hi) < 0)
		cfg_err(c, v, "nat.ports: invalid port range %s (want LO-HI within 1-65535)",
			qnode(&q, v));

	e = cfg->port_alloc;
	get_enum(c, nat, "nat", "port_alloc", port_alloc_names, &e);
	cfg->port_alloc = (enum egress_port_alloc)e;

	v = opt(nat, "mss_clamp");
	if (v != NULL && want_scalar(c, v, "nat.mss_clamp", "a number") != NULL) {
		if (parse_uint(v->str, UINT16_MAX, &x) < 0 || (x != 0 && x < CFG_MSS_MIN))
			cfg_err(c, v,
				"nat.mss_clamp: invalid value %s (want 0 for off, or %u-65535)",
				qnode(&q, v), CFG_MSS_MIN);
		else
			cfg->mss_clamp = (uint16_t)x;
	}
}

/* Kubernetes label name/value: up to 63 of [A-Za-z0-9-_.], alphanumeric at both ends. */
static bool
label_name_ok(const char *s, size_t len, bool may_be_empty)
{
	size_t i;

	if (len == 0)
		return may_be_empty;
	if (len > CFG_LABEL_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			     (ch >= '0' && ch <= '9');

		if (!alnum && ((i == 0 || i == len - 1) || (ch != '-' && ch != '_' && ch != '.')))
			return false;
	}
	return true;
}

/* Label key: [PREFIX/]NAME, PREFIX a DNS subdomain (lower case, '.', '-'). */
static bool
label_key_ok(const char *s, size_t len)
{
	const char *slash = memchr(s, '/', len);
	size_t i, plen;

	if (slash == NULL)
		return label_name_ok(s, len, false);
	plen = (size_t)(slash - s);
	if (plen == 0 || plen > CFG_LABEL_PREFIX_MAX)
		return false;
	for (i = 0; i < plen; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
		      ch == '.'))
			return false;
	}
	return label_name_ok(slash + 1, len - plen - 1, false);
}

static void
parse_labels(struct cfg_ctx *c, const struct ynode *v)
{
	static const char *const want = "up to 63 of A-Z a-z 0-9 - _ . with alphanumeric ends";
	struct egress_config *cfg = c->cfg;
	struct cfg_quote q1, q2;
	size_t i;

	if (v->type != YNODE_MAP) {
		cfg_err(c, v, "policy.labels: expected a mapping of labels, got %s", kind(v));
		return;
	}
	for (i = 0; i < v->n; i++) {
		const struct ynode *k = v->items[2 * i], *val = v->items[2 * i + 1];
		const char *text = "";
		struct egress_label *l;

		if (i == EGRESS_MAX_LABELS) {
			cfg_err(c, k, "policy.labels: too many labels (limit %d)",
				EGRESS_MAX_LABELS);
			return;
		}
		if (!label_key_ok(k->str, k->len)) {
			cfg_err(c, k, "policy.labels: invalid label key %s (want [PREFIX/]NAME, "
				"NAME %s)", qnode(&q1, k), want);
			continue;
		}
		if (val->type != YNODE_SCALAR) {
			cfg_err(c, val, "policy.labels: label %s: expected a string, got %s",
				qnode(&q1, k), kind(val));
			continue;
		}
		if (!ynode_is_null(val))
			text = val->str;
		if (!label_name_ok(text, strlen(text), true)) {
			cfg_err(c, val, "policy.labels: label %s: invalid value %s (want %s)",
				qnode(&q1, k), qnode(&q2, val), want);
			continue;
		}
		l = &cfg->labels[cfg->n_labels];
		if (dup_str(c, k->str, &l->key) < 0)
			return;
		if (dup_str(c, text, &l->value) < 0) {
			free(l->key);
			l->key = NULL;
			return;
		}
		cfg->n_labels++;
	}
}

/*
 * Clean a path lexically: no empty or "." components, no trailing '/'.
 * ".." is kept: resolving it would be wrong across symlinks.
 */
static void
path_clean(char *p)
{
	bool abs = p[0] == '/';
	char *r = p, *w = p;

	if (abs)
		w++;
	while (*r != '\0') {
		char *end;
		size_t n;

		while (*r == '/')
			r++;
		end = r;
		while (*end != '\0' && *end != '/')
			end++;
		n = (size_t)(end - r);
		if (n == 0 || (n == 1 && r[0] == '.')) {
			r = end;
			continue;
		}
		if (w != p + abs)
			*w++ = '/';
		memmove(w, r, n);
		w += n;
		r = end;
	}
	if (w == p + abs && !abs)
		*w++ = '.';
	*w = '\0';
}

/* dir "/" name, cleaned; name when it is absolute. NULL on ENOMEM. */
static char *
path_join(const char *dir, const char *name)
{
	char *p;

	if (name[0] == '/' || dir == NULL)
		p = strdup(name);
	else if (asprintf(&p, "%s/%s", dir, name) < 0)
		p = NULL;
	if (p != NULL)
		path_clean(p);
	return p;
}

/* The config file's folder, absolute when the working directory is known. */
static char *
config_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *cwd = NULL, *dir, *abs;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL || dir[0] == '/')
		goto out;
	cwd = getcwd(NULL, 0);
	if (cwd == NULL)
		goto out;
	abs = path_join(cwd, dir);
	if (abs == NULL)
		goto out;
	free(dir);
	dir = abs;
out:
	free(cwd);
	if (dir != NULL)
		path_clean(dir);
	return dir;
}

static void
add_source(struct cfg_ctx *c, const struct ynode *v, const char *path)
{
	struct egress_config *cfg = c->cfg;
	char *p;

	if (want_scalar(c, v, path, "a file or folder") == NULL)
		return;
	if (v->len == 0 || strlen(v->str) != v->len) {
		cfg_err(c, v, "%s: empty path", path);
		return;
	}
	p = path_join(cfg->dir, v->str);
	if (p == NULL) {
		cfg_err(c, NULL, "out of memory");
		return;
	}
	cfg->sources[cfg->n_sources++] = p;
}

static void
parse_policy(struct cfg_ctx *c, const struct ynode *root)
{
	struct egress_config *cfg = c->cfg;
	const struct ynode *pol = opt(root, "policy");
	const struct ynode *v;
	char path[CFG_PATH_LEN];
	unsigned int e;
	size_t i, n;

	if (pol == NULL || !check_map(c, pol, "policy", policy_keys))
		return;

	e = cfg->outbound;
	get_enum(c, pol, "policy", "outbound", outbound_names, &e);
	cfg->outbound = (enum egress_outbound)e;
	e = cfg->deny;
	get_enum(c, pol, "policy", "deny", deny_names, &e);
	cfg->deny = (enum egress_deny)e;
	e = cfg->on_revoke;
	get_enum(c, pol, "policy", "on_revoke", revoke_names, &e);
	cfg->on_revoke = (enum egress_revoke)e;

	v = opt(pol, "sources");
	if (v != NULL) {
		n = v->type == YNODE_SEQ ? v->n : 1;
		if (v->type == YNODE_MAP) {
			cfg_err(c, v, "policy.sources: expected a list of files or folders, got %s",
				kind(v));
		} else if (n > 0) {
			cfg->sources = calloc(n, sizeof(*cfg->sources));
			if (cfg->sources == NULL)
				cfg_err(c, NULL, "out of memory");
		}
		if (cfg->sources != NULL && v->type == YNODE_SCALAR) {
			add_source(c, v, "policy.sources");
		} else if (cfg->sources != NULL) {
			for (i = 0; i < n; i++) {
				snprintf(path, sizeof(path), "policy.sources[%zu]", i);
				add_source(c, v->items[i], path);
			}
		}
	}

	v = ymap_get(pol, "labels");
	if (v != NULL && !(v->type == YNODE_SCALAR && ynode_is_null(v))) {
		/* Given, even empty: it replaces the default. */
		for (i = 0; i < cfg->n_labels; i++) {
			free(cfg->labels[i].key);
			free(cfg->labels[i].value);
		}
		memset(cfg->labels, 0, sizeof(cfg->labels));
		cfg->n_labels = 0;
		parse_labels(c, v);
	}
}

static void
parse_flows(struct cfg_ctx *c, const struct ynode *root)
{
	struct egress_config *cfg = c->cfg;
	const struct ynode *flows = opt(root, "flows");
	const struct ynode *v;
	struct cfg_quote q;
	uint64_t x;

	if (flows == NULL || !check_map(c, flows, "flows", flows_keys))
		return;

	if (get_uint(c, flows, "flows", "max", CFG_FLOWS_MIN, CFG_FLOWS_LIMIT, NULL, &x) != NULL)
		cfg->flows_max = (uint32_t)x;

	v = opt(flows, "timeouts");
	if (v != NULL && check_map(c, v, "flows.timeouts", timeouts_keys)) {
		get_duration(c, v, "flows.timeouts", "established", &cfg->timeout_established_ms);
		get_duration(c, v, "flows.timeouts", "transitory", &cfg->timeout_transitory_ms);
		get_duration(c, v, "flows.timeouts", "time_wait", &cfg->timeout_time_wait_ms);
	}

	c->embryonic = get_uint(c, flows, "flows", "embryonic_max", 1, CFG_FLOWS_LIMIT, NULL,
				&x);
	if (c->embryonic != NULL)
		cfg->embryonic_max = (uint32_t)x;

	v = opt(flows, "per_source");
	if (v != NULL && check_map(c, v, "flows.per_source", per_source_keys)) {
		if (get_uint(c, v, "flows.per_source", "max", 0, CFG_FLOWS_LIMIT, NULL, &x) != NULL)
			cfg->per_source_max = (uint32_t)x;
		if (get_uint(c, v, "flows.per_source", "new_per_second", 0,
			     CFG_NEW_PER_SECOND_MAX, NULL, &x) != NULL)
			cfg->per_source_new_per_second = (uint32_t)x;
	}

	get_bool(c, flows, "flows", "tcp_liberal", &cfg->tcp_liberal);

	if (c->embryonic == NULL)
		cfg->embryonic_max = cfg->flows_max / 4;
	else if (cfg->embryonic_max > cfg->flows_max)
		cfg_err(c, c->embryonic, "flows.embryonic_max: %s exceeds flows.max (%u)",
			qnode(&q, c->embryonic), cfg->flows_max);
}

static void
set_defaults(struct egress_config *cfg)
{
	unsigned int r;

	for (r = 0; r < EGRESS_PORT_MAX; r++)
		cfg->port[r].mtu = CFG_MTU_DEFAULT;
	cfg->nat_port_lo = 1024;
	cfg->nat_port_hi = 65535;
	cfg->port_alloc = EGRESS_PORT_ALLOC_RANDOM;
	cfg->outbound = EGRESS_OUTBOUND_REGISTRY_ONLY;
	cfg->deny = EGRESS_DENY_DROP;
	cfg->on_revoke = EGRESS_REVOKE_RESET;
	cfg->flows_max = CFG_DEFAULT_FLOWS_MAX;
	cfg->embryonic_max = CFG_DEFAULT_FLOWS_MAX / 4;
	cfg->timeout_established_ms = CFG_DEFAULT_ESTABLISHED;
	cfg->timeout_transitory_ms = CFG_DEFAULT_TRANSITORY;
	cfg->timeout_time_wait_ms = CFG_DEFAULT_TIME_WAIT;
	cfg->workers = 1;
}

static void
parse_root(struct cfg_ctx *c, const struct ynode *root)
{
	struct egress_config *cfg = c->cfg;
	uint64_t x;

	if (!check_map(c, root, "", top_keys))
		return;
	parse_ports(c, root);
	parse_nat(c, root);
	/* Not given: the outside address. Given but wrong: reported already. */
	if (opt(opt(root, "nat"), "addresses") == NULL && c->addr[EGRESS_PORT_OUTSIDE] != NULL) {
		cfg->nat_addrs[0] = cfg->port[EGRESS_PORT_OUTSIDE].addr;
		cfg->n_nat_addrs = 1;
	}
	parse_policy(c, root);
	parse_flows(c, root);
	if (get_uint(c, root, "", "workers", 1, CFG_WORKERS_MAX, NULL, &x) != NULL)
		cfg->workers = (unsigned int)x;
}

/*
 * Put the diagnostics of this load (from index first on) in file order; the
 * loader finds them section by section. Stable, so that two problems at one
 * position keep the order in which they were found.
 */
static void
sort_diags(struct diag_list *dl, size_t first)
{
	size_t i, j;

	for (i = first + 1; i < dl->n; i++) {
		struct diag d = dl->v[i];

		for (j = i; j > first; j--) {
			const struct diag *p = &dl->v[j - 1];

			if (p->line < d.line || (p->line == d.line && p->col <= d.col))
				break;
			dl->v[j] = *p;
		}
		dl->v[j] = d;
	}
}

int
egress_config_load(const char *path, struct egress_config *cfg, struct diag_list *dl)
{
	struct cfg_ctx c = {
		.cfg = cfg,
		.dl = dl,
		.file = path,
	};
	size_t errors, first;
	struct yfile yf;
	int rc;

	if (path == NULL || cfg == NULL || dl == NULL)
		return -EINVAL;
	errors = diag_errors(dl);
	first = dl->n;
	memset(cfg, 0, sizeof(*cfg));
	set_defaults(cfg);
	if (dup_str(&c, path, &cfg->path) < 0 ||
	    dup_str(&c, "istio", &cfg->labels[0].key) < 0 ||
	    dup_str(&c, "egressgateway", &cfg->labels[0].value) < 0) {
		rc = -ENOMEM;
		goto fail;
	}
	cfg->n_labels = 1;
	cfg->dir = config_dir(path);
	if (cfg->dir == NULL) {
		cfg_err(&c, NULL, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}

	rc = yfile_load(&yf, path, dl);
	if (rc < 0)
		goto fail;
	if (yf.n_docs == 0 || yf.docs[0].root == NULL)
		cfg_err(&c, NULL, "empty config (want a mapping with at least \"ports\")");
	else
		parse_root(&c, yf.docs[0].root);
	if (yf.n_docs > 1)
		diag_add(dl, DIAG_ERROR, path, yf.docs[1].line, 1,
			 "more than one document (the config is a single mapping)");
	yfile_free(&yf);
	sort_diags(dl, first);

	if (diag_errors(dl) == errors)
		return 0;
	rc = -EINVAL;
fail:
	egress_config_free(cfg);
	return rc;
}

void
egress_config_free(struct egress_config *cfg)
{
	unsigned int i;

	if (cfg == NULL)
		return;
	for (i = 0; i < EGRESS_PORT_MAX; i++)
		free(cfg->port[i].device);
	for (i = 0; i < cfg->n_sources; i++)
		free(cfg->sources[i]);
	free(cfg->sources);
	for (i = 0; i < EGRESS_MAX_LABELS; i++) {
		free(cfg->labels[i].key);
		free(cfg->labels[i].value);
	}
	free(cfg->path);
	free(cfg->dir);
	memset(cfg, 0, sizeof(*cfg));
}

/*
 * One component is digits and a unit (ms, s, m, h); components add up, as in
 * Go's time.ParseDuration ("2h4m"). A bare number is seconds.
 */
int
egress_parse_duration(const char *s, uint64_t *ms)
{
	uint64_t total = 0;
	const char *p = s;

	if (s == NULL || ms == NULL || *s == '\0')
		return -EINVAL;
	if (s[strspn(s, "0123456789")] == '\0') {
		if (parse_uint(s, UINT64_MAX / 1000, &total) < 0)
			return -EINVAL;
		*ms = total * 1000;
		return 0;
	}
	while (*p != '\0') {
		uint64_t v = 0, unit;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (__builtin_mul_overflow(v, 10, &v) ||
			    __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
				return -EINVAL;
		}
		if (p[0] == 'm' && p[1] == 's') {
			unit = 1;
			p += 2;
		} else if (*p == 's') {
			unit = 1000;
			p++;
		} else if (*p == 'm') {
			unit = 60 * 1000;
			p++;
		} else if (*p == 'h') {
			unit = 3600 * 1000;
			p++;
		} else {
			return -EINVAL;
		}
		if (__builtin_mul_overflow(v, unit, &v) || __builtin_add_overflow(total, v, &total))
			return -EINVAL;
	}
	*ms = total;
	return 0;
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
