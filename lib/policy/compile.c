/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Compile the policy model into the immutable object workers classify with.
 *
 * One rule per (destination prefix, port, L4 protocol):
 *   - each ServiceEntry address times each of its ports, with the NAT targets
 *     of that port (STATIC endpoints, DNS answers) and what the
 *     DestinationRule of the entry's host says (maxConnections,
 *     connectTimeout, loadBalancer, per port and per subset);
 *   - each VirtualService tcp/tls route bound to a Gateway that selects this
 *     appliance, restricted to its match (destinationSubnets, port), with the
 *     weighted targets of its destinations; it replaces the entry's own rule
 *     for the very same key, and a narrower prefix wins by itself;
 *   - a Sidecar's outboundTrafficPolicy overrides policy.outbound.
 * The classifier reads the very flow keys the data path built for its flow
 * lookup, in bulk, with no copy: rules for one address (/32) sit in an
 * exact-match hash, the rest in an rte_acl context over the flow_key layout.
 * Longest destination prefix wins: a /32 hit is final, and in rte_acl the
 * priority is prefix + 1.
 *
 * Control thread only: allocates freely, never logs or prints (policy_print()
 * writes to the stream it is given).
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_acl.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_prefetch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "dns.h"
#include "policy.h"
#include "policy_private.h"

enum {
	ACL_FIELD_PROTO,
	ACL_FIELD_DST,
	ACL_FIELD_SPORT,
	ACL_FIELD_DPORT,
	ACL_NUM_FIELDS
};

RTE_ACL_RULE_DEF(acl_rule, ACL_NUM_FIELDS);

/*
 * rte_acl reads its input in 4-byte groups (input_index); the first field
 * must be one byte long. No rule looks at the source address, so it is not
 * a field: four transitions less per key and a slightly smaller trie (the
 * wildcard bytes mostly collapse, so bench-classify sees it within noise).
 * Both ports share one group, as in DPDK's l3fwd-acl: a group is consumed
 * four bytes at a time, so the destination port cannot stand alone.
 */
static const struct rte_acl_field_def acl_fields[ACL_NUM_FIELDS] = {
	[ACL_FIELD_PROTO] = {
		.type = RTE_ACL_FIELD_TYPE_BITMASK, .size = sizeof(uint8_t),
		.field_index = ACL_FIELD_PROTO, .input_index = 0,
		.offset = offsetof(struct flow_key, proto),
	},
	[ACL_FIELD_DST] = {
		.type = RTE_ACL_FIELD_TYPE_MASK, .size = sizeof(uint32_t),
		.field_index = ACL_FIELD_DST, .input_index = 1,
		.offset = offsetof(struct flow_key, dst_ip),
	},
	[ACL_FIELD_SPORT] = {
		.type = RTE_ACL_FIELD_TYPE_RANGE, .size = sizeof(uint16_t),
		.field_index = ACL_FIELD_SPORT, .input_index = 2,
		.offset = offsetof(struct flow_key, src_port),
	},
	[ACL_FIELD_DPORT] = {
		.type = RTE_ACL_FIELD_TYPE_RANGE, .size = sizeof(uint16_t),
		.field_index = ACL_FIELD_DPORT, .input_index = 2,
		.offset = offsetof(struct flow_key, dst_port),
	},
};

/* What a policy owns besides its arrays: the model and the strings made here. */
struct policy_store {
	struct policy_model m;
	char **strs;
	uint32_t n_strs, cap_strs;
};

/* Compile-time facts about one rule, dropped once the rules are final. */
struct rule_meta {
	uint32_t se;              /* the entry whose cluster it is (cap key) */
	uint32_t port;            /* the cluster's port (cap key) */
	const char *subset;       /* the cluster's subset (cap key), or NULL */
	bool dead;                /* replaced by a VirtualService rule */
};

/* Growable arrays of the compiler's output. */
struct builder {
	struct policy_rule *rules;
	struct rule_meta *meta;
	uint32_t n_rules, cap_rules, cap_meta;
	struct policy_target *targets;
	const char **tnames;
	uint32_t n_targets, cap_targets, cap_tnames;
};

/* A host name and the index of what declares it (ServiceEntry, DestinationRule). */
struct host_ref {
	const char *host;         /* fully qualified */
	uint32_t idx;
};

/* Everything one compilation works with. */
struct cc {
	const struct policy_model *m;
	const struct egress_config *cfg;
	struct dns_cache *dns;
	struct diag_list *dl;
	struct builder *b;
	struct policy_store *st;
	bool oom;
	const char **se_names;    /* [n_ses] "ns/name" */
	const char **dr_names;    /* [n_drs] */
	const char **se_hosts_fq; /* per SE: its first host, qualified (display) */
	struct host_ref *se_exact; /* every non-wildcard SE host, sorted */
	uint32_t n_se_exact;
	struct host_ref *se_wild; /* every wildcard SE host */
	uint32_t n_se_wild;
	struct host_ref *dr_exact; /* DestinationRules by exact host, sorted */
	uint32_t n_dr_exact;
	struct host_ref *dr_wild;
	uint32_t n_dr_wild;
	bool *dr_used;
};

static int
grow(void **v, uint32_t *cap, uint32_t need, size_t elem)
{
	uint32_t ncap;
	void *nv;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 64;
	while (ncap < need)
		ncap *= 2;
	nv = realloc(*v, (size_t)ncap * elem);
	if (nv == NULL)
		return -ENOMEM;
	*v = nv;
	*cap = ncap;
	return 0;
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t
mask4(uint8_t len)
{
	return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

/* ------------------------------------------------------------------ */
/* Strings the policy owns                                             */

static const char *
store_printf(struct cc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static const char *
store_printf(struct cc *c, const char *fmt, ...)
{
	struct policy_store *st = c->st;
	va_list ap;
	char *s;
	int n;

	if (grow((void **)&st->strs, &st->cap_strs, st->n_strs + 1, sizeof(*st->strs)) < 0)
		goto nomem;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		goto nomem;
	st->strs[st->n_strs++] = s;
	return s;
nomem:
	c->oom = true;
	return "?";
}

/* "namespace/name", or the name when the resource has no namespace. */
static const char *
qualified(struct cc *c, const char *ns, const char *name)
{
	if (ns == NULL || ns[0] == '\0')
		return name;
	return store_printf(c, "%s/%s", ns, name);
}

/*
 * A short host ("redis") means the Kubernetes service of that name in the
 * resource's namespace, as Istio reads it; anything with a dot is a FQDN.
 */
static const char *
fqdn(struct cc *c, const char *host, const char *ns)
{
	if (host == NULL || strchr(host, '.') != NULL || strcmp(host, "*") == 0)
		return host;
	return store_printf(c, "%s.%s.svc.cluster.local", host,
			    ns != NULL && ns[0] != '\0' ? ns : "default");
}

/* ------------------------------------------------------------------ */
/* Host indexes: ServiceEntries and DestinationRules by host           */

static int
cmp_host_ref(const void *a, const void *b)
{
	const struct host_ref *x = a, *y = b;
	int r = strcmp(x->host, y->host);

	if (r == 0)
		r = x->idx < y->idx ? -1 : x->idx > y->idx;
	return r;
}

/* The first index of the refs with this host in a sorted array, or n. */
static uint32_t
host_lower_bound(const struct host_ref *v, uint32_t n, const char *host)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (strcmp(v[mid].host, host) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
push_ref(struct host_ref **v, uint32_t *n, uint32_t *cap, const char *host, uint32_t idx)
{
	if (grow((void **)v, cap, *n + 1, sizeof(**v)) < 0)
		return -ENOMEM;
	(*v)[(*n)++] = (struct host_ref){ host, idx };
	return 0;
}

static int
build_indexes(struct cc *c)
{
	const struct policy_model *m = c->m;
	uint32_t cap_se = 0, cap_sw = 0, cap_de = 0, cap_dw = 0, i, h;

	c->se_names = calloc(m->n_ses + 1, sizeof(*c->se_names));
	c->se_hosts_fq = calloc(m->n_ses + 1, sizeof(*c->se_hosts_fq));
	c->dr_names = calloc(m->n_drs + 1, sizeof(*c->dr_names));
	c->dr_used = calloc(m->n_drs + 1, sizeof(*c->dr_used));
	if (c->se_names == NULL || c->se_hosts_fq == NULL || c->dr_names == NULL ||
	    c->dr_used == NULL)
		return -ENOMEM;
	for (i = 0; i < m->n_ses; i++) {
		const struct service_entry *se = &m->ses[i];

		c->se_names[i] = qualified(c, se->ns, se->name);
		for (h = 0; h < se->n_hosts; h++) {
			const char *fq = fqdn(c, se->hosts[h], se->ns);
			int rc;

			if (fq == NULL)
				continue;
			if (c->se_hosts_fq[i] == NULL)
				c->se_hosts_fq[i] = fq;
			if (strncmp(fq, "*.", 2) == 0)
				rc = push_ref(&c->se_wild, &c->n_se_wild, &cap_sw, fq, i);
			else
				rc = push_ref(&c->se_exact, &c->n_se_exact, &cap_se, fq, i);
			if (rc < 0)
				return rc;
		}
	}
	for (i = 0; i < m->n_drs; i++) {
		const struct destination_rule *dr = &m->drs[i];
		const char *fq = fqdn(c, dr->host, dr->ns);
		int rc;

		c->dr_names[i] = qualified(c, dr->ns, dr->name);
		if (fq == NULL)
			continue;
		if (fq[0] == '*')
			rc = push_ref(&c->dr_wild, &c->n_dr_wild, &cap_dw, fq, i);
		else
			rc = push_ref(&c->dr_exact, &c->n_dr_exact, &cap_de, fq, i);
		if (rc < 0)
			return rc;
	}
	if (c->n_se_exact > 1)
		qsort(c->se_exact, c->n_se_exact, sizeof(*c->se_exact), cmp_host_ref);
	if (c->n_dr_exact > 1)
		qsort(c->dr_exact, c->n_dr_exact, sizeof(*c->dr_exact), cmp_host_ref);
	/* Istio merges rules for one host only when they do not overlap: the first wins */
	for (i = 1; i < c->n_dr_exact; i++) {
		const struct destination_rule *a, *d;

		if (strcmp(c->dr_exact[i - 1].host, c->dr_exact[i].host) != 0)
			continue;
		a = &m->drs[c->dr_exact[i - 1].idx];
		d = &m->drs[c->dr_exact[i].idx];
		diag_add(c->dl, DIAG_WARNING, d->pos.file, d->pos.line, d->pos.col,
			 "DestinationRule %s: host %s already has DestinationRule %s (%s:%u); "
			 "this one is ignored", c->dr_names[c->dr_exact[i].idx], d->host,
			 c->dr_names[c->dr_exact[i - 1].idx], a->pos.file, a->pos.line);
	}
	return c->oom ? -ENOMEM : 0;
}

/*
 * The DestinationRule for a host: one written for exactly that host, else the
 * most specific wildcard covering it (Istio's lookup), else NULL.
 */
static int
dr_for_host(const struct cc *c, const char *host)
{
	uint32_t i = host_lower_bound(c->dr_exact, c->n_dr_exact, host);
	size_t best_len = 0;
	int best = -1;

	if (i < c->n_dr_exact && strcmp(c->dr_exact[i].host, host) == 0)
		return (int)c->dr_exact[i].idx;
	for (i = 0; i < c->n_dr_wild; i++) {
		size_t l = strlen(c->dr_wild[i].host);

		if (istio_host_covers(c->dr_wild[i].host, host) && (best < 0 || l > best_len)) {
			best = (int)c->dr_wild[i].idx;
			best_len = l;
		}
	}
	return best;
}

/* The DestinationRule of the first host of se that has one, or -1. */
static int
dr_for_se(struct cc *c, uint32_t se_i)
{
	const struct service_entry *se = &c->m->ses[se_i];
	unsigned int h;
	int d;

	for (h = 0; h < se->n_hosts; h++) {
		const char *fq = fqdn(c, se->hosts[h], se->ns);

		if (fq != NULL && (d = dr_for_host(c, fq)) >= 0) {
			c->dr_used[d] = true;
			return d;
		}
	}
	return -1;
}

/* The ServiceEntry for a route destination host: exact host, else a wildcard. */
static int
se_for_host(struct cc *c, const char *host, const char *ns)
{
	const char *fq = fqdn(c, host, ns);
	uint32_t i = host_lower_bound(c->se_exact, c->n_se_exact, fq);
	size_t best_len = 0;
	int best = -1;

	if (i < c->n_se_exact && strcmp(c->se_exact[i].host, fq) == 0)
		return (int)c->se_exact[i].idx;
	for (i = 0; i < c->n_se_wild; i++) {
		size_t l = strlen(c->se_wild[i].host);

		if (istio_host_covers(c->se_wild[i].host, fq) && (best < 0 || l > best_len)) {
			best = (int)c->se_wild[i].idx;
			best_len = l;
		}
	}
	return best;
}

/* ------------------------------------------------------------------ */
/* DestinationRule settings                                            */

static void
settings_merge(struct dr_settings *to, const struct dr_settings *from)
{
	if (from->has_max_connections) {
		to->max_connections = from->max_connections;
		to->has_max_connections = true;
	}
	if (from->has_connect_timeout) {
		to->connect_timeout_ms = from->connect_timeout_ms;
		to->has_connect_timeout = true;
	}
	if (from->has_lb) {
		to->lb = from->lb;
		to->has_lb = true;
	}
}

static const struct dr_subset *
dr_subset_find(const struct destination_rule *dr, const char *name)
{
	unsigned int i;

	for (i = 0; dr != NULL && name != NULL && i < dr->n_subsets; i++)
		if (dr->subsets[i].name != NULL && strcmp(dr->subsets[i].name, name) == 0)
			return &dr->subsets[i];
	return NULL;
}

/*
 * What applies to one port (and subset) of a host: the rule's trafficPolicy,
 * overridden by its portLevelSettings for the port, then by the subset's
 * trafficPolicy and the subset's portLevelSettings (Istio's precedence).
 */
static struct dr_settings
dr_effective(const struct destination_rule *dr, const struct dr_subset *sub, uint32_t port)
{
	struct dr_settings s = { 0 };
	unsigned int i;

	if (dr == NULL)
		return s;
	settings_merge(&s, &dr->s);
	for (i = 0; i < dr->n_ports; i++)
		if (dr->ports[i].port == port)
			settings_merge(&s, &dr->ports[i].s);
	if (sub != NULL) {
		settings_merge(&s, &sub->s);
		for (i = 0; i < sub->n_ports; i++)
			if (sub->ports[i].port == port)
				settings_merge(&s, &sub->ports[i].s);
	}
	return s;
}

static bool
settings_equal(const struct dr_settings *a, const struct dr_settings *b)
{
	return a->max_connections == b->max_connections &&
	       a->connect_timeout_ms == b->connect_timeout_ms && a->lb == b->lb;
}

/* ------------------------------------------------------------------ */
/* DNS answers                                                         */

/*
 * The answer for a name an entry needs, with what the operator must know
 * about it (unless quiet: the entry's other ports already said it).
 */
static const struct dns_answer *
dns_answer(struct cc *c, const char *se_name, const char *name, const struct ypos *pos,
	   bool quiet)
{
	const struct dns_answer *a;
	int rc;

	if (c->dns == NULL) {
		if (!quiet)
			diag_add(c->dl, DIAG_WARNING, pos->file, pos->line, pos->col,
				 "ServiceEntry %s: %s is not resolved (this build has no DNS "
				 "resolver); it adds no address", se_name, name);
		return NULL;
	}
	rc = dns_want(c->dns, name);
	if (rc == -ENOMEM) {
		c->oom = true;
		return NULL;
	}
	a = rc == 0 ? dns_get(c->dns, name) : NULL;
	if (a == NULL || quiet)
		return a;
	switch (a->state) {
	case DNS_PENDING:
		diag_add(c->dl, DIAG_WARNING, pos->file, pos->line, pos->col,
			 "ServiceEntry %s: %s is not resolved yet; it adds no address until "
			 "it is", se_name, name);
		break;
	case DNS_NONE:
		diag_add(c->dl, DIAG_WARNING, pos->file, pos->line, pos->col,
			 "ServiceEntry %s: %s has no IPv4 address (NXDOMAIN or no A record)",
			 se_name, name);
		break;
	case DNS_FAILED:
		diag_add(c->dl, DIAG_WARNING, pos->file, pos->line, pos->col,
			 "ServiceEntry %s: %s cannot be resolved (%s); it adds no address",
			 se_name, name, a->error != NULL ? a->error : "no answer");
		break;
	case DNS_STALE:
		diag_add(c->dl, DIAG_WARNING, pos->file, pos->line, pos->col,
			 "ServiceEntry %s: the resolver fails for %s (%s); its last good "
			 "addresses are kept", se_name, name,
			 a->error != NULL ? a->error : "no answer");
		break;
	case DNS_OK:
		break;
	}
	if (a->n_v6 > 0)
		diag_add(c->dl, DIAG_WARNING, pos->file, pos->line, pos->col,
			 "ServiceEntry %s: %s has %u IPv6 address%s, not forwarded (IPv6 is not "
			 "forwarded yet)", se_name, name, a->n_v6, a->n_v6 == 1 ? "" : "es");
	return a;
}

/* The names a DNS entry needs: endpoint hostnames, else its hosts. */
static bool
se_uses_dns(const struct service_entry *se)
{
	return se->resolution == SE_RES_DNS || se->resolution == SE_RES_DNS_ROUND_ROBIN;
}

/* ------------------------------------------------------------------ */
/* Targets                                                             */

static int
target_add(struct cc *c, uint32_t ip_net, uint16_t port, uint32_t weight, const char *from)
{
	struct builder *b = c->b;

	if (grow((void **)&b->targets, &b->cap_targets, b->n_targets + 1,
		 sizeof(*b->targets)) < 0 ||
	    grow((void **)&b->tnames, &b->cap_tnames, b->n_targets + 1, sizeof(*b->tnames)) < 0) {
		c->oom = true;
		return -ENOMEM;
	}
	b->targets[b->n_targets] = (struct policy_target){
		.ip = ip_net, .port = port, .weight = weight,
	};
	b->tnames[b->n_targets++] = from;
	return 0;
}

/* The port an endpoint receives on: its ports map, else targetPort, else dflt. */
static uint16_t
endpoint_port(const struct se_endpoint *ep, const struct se_port *sp, uint16_t dflt)
{
	unsigned int i;

	for (i = 0; i < ep->n_ports; i++)
		if (sp->name != NULL && strcmp(ep->ports[i].name, sp->name) == 0)
			return (uint16_t)ep->ports[i].number;
	return sp->target_port != 0 ? (uint16_t)sp->target_port : dflt;
}

/* Is the endpoint in the subset (its labels include every label of the subset)? */
static bool
endpoint_in_subset(const struct se_endpoint *ep, const struct dr_subset *sub)
{
	unsigned int i, j;

	for (i = 0; sub != NULL && i < sub->n_labels; i++) {
		for (j = 0; j < ep->n_labels; j++)
			if (strcmp(ep->labels[j].key, sub->labels[i].key) == 0 &&
			    strcmp(ep->labels[j].value, sub->labels[i].value) == 0)
				break;
		if (j == ep->n_labels)
			return false;
	}
	return true;
}

/*
 * Append the NAT targets of one ServiceEntry port: its endpoints (STATIC and
 * DNS IP literals), the addresses of its endpoint names (DNS), or of its
 * hosts (DNS without endpoints). DNS_ROUND_ROBIN keeps the first address
 * only. dflt is the port a target gets when neither the endpoint nor
 * targetPort says (0: the client's). @return targets appended, or -ENOMEM.
 */
static int
se_targets(struct cc *c, uint32_t se_i, const struct se_port *sp, const struct dr_subset *sub,
	   uint16_t dflt, bool quiet, bool *from_dns)
{
	const struct service_entry *se = &c->m->ses[se_i];
	bool rr = se->resolution == SE_RES_DNS_ROUND_ROBIN;
	uint32_t first = c->b->n_targets;
	unsigned int i, k;

	if (se->resolution == SE_RES_NONE)
		return 0;
	for (i = 0; i < se->n_endpoints; i++) {
		const struct se_endpoint *ep = &se->endpoints[i];
		uint16_t port = endpoint_port(ep, sp, dflt);
		uint32_t w = ep->weight ? ep->weight : 1;
		const struct dns_answer *a;

		if (!endpoint_in_subset(ep, sub))
			continue;
		if (ep->is_ip) {
			if (target_add(c, htonl(ep->ip), port, w, NULL) < 0)
				return -ENOMEM;
		} else if (!ep->is_ip6 && se_uses_dns(se)) {
			a = dns_answer(c, c->se_names[se_i], ep->address, &ep->pos, quiet);
			for (k = 0; a != NULL && k < a->n_addrs; k++) {
				if (target_add(c, a->addrs[k], port, w, ep->address) < 0)
					return -ENOMEM;
				*from_dns = true;
				if (rr)
					break;
			}
		}
		if (rr && c->b->n_targets > first)
			break;
	}
	if (se->n_endpoints == 0 && se_uses_dns(se)) {
		for (i = 0; i < se->n_hosts && !(rr && c->b->n_targets > first); i++) {
			const struct dns_answer *a;

			if (se->hosts[i] == NULL || strchr(se->hosts[i], '*') != NULL)
				continue;
			a = dns_answer(c, c->se_names[se_i], se->hosts[i], &se->pos, quiet);
			for (k = 0; a != NULL && k < a->n_addrs; k++) {
				uint16_t port = sp->target_port ? (uint16_t)sp->target_port : dflt;

				if (target_add(c, a->addrs[k], port, 1, se->hosts[i]) < 0)
					return -ENOMEM;
				*from_dns = true;
				if (rr)
					break;
			}
		}
	}
	return (int)(c->b->n_targets - first);
}

/*
 * Keep the sum of a rule's weights within 31 bits (the data path draws a
 * 32-bit random number modulo the total): scale down, never below 1.
 */
static uint32_t
weights_normalize(struct policy_target *t, uint32_t n)
{
	uint64_t total = 0, div;
	uint32_t i;

	for (i = 0; i < n; i++)
		total += t[i].weight;
	if (total <= INT32_MAX)
		return (uint32_t)total;
	div = total / INT32_MAX + 1;
	total = 0;
	for (i = 0; i < n; i++) {
		t[i].weight = (uint32_t)(t[i].weight / div);
		if (t[i].weight == 0)
			t[i].weight = 1;
		total += t[i].weight;
	}
	return (uint32_t)total;
}

/* ------------------------------------------------------------------ */
/* Rules                                                               */

struct rule_spec {
	uint32_t dst;
	uint8_t len;
	uint8_t flags;
	const char *dst_name;
	uint32_t first, n;
	uint16_t target_port;
	struct dr_settings s;
	const char *dr;
	const char *route;
	const struct ypos *pos;
	uint32_t cap_se, cap_port;
	const char *cap_subset;
};

static int
rule_add(struct cc *c, uint32_t se_i, const struct se_port *sp, const struct rule_spec *rs)
{
	struct builder *b = c->b;
	struct policy_rule *r;

	if (grow((void **)&b->rules, &b->cap_rules, b->n_rules + 1, sizeof(*b->rules)) < 0 ||
	    grow((void **)&b->meta, &b->cap_meta, b->n_rules + 1, sizeof(*b->meta)) < 0) {
		c->oom = true;
		return -ENOMEM;
	}
	r = &b->rules[b->n_rules];
	memset(r, 0, sizeof(*r));
	r->dst_ip = rs->dst;
	r->prefix_len = rs->len;
	r->proto = sp->l4proto;
	r->port = (uint16_t)sp->number;
	r->target_port = rs->target_port;
	r->first_target = rs->first;
	r->n_targets = rs->n;
	/* no target (resolution NONE): no array to point into, even at offset 0 */
	r->total_weight = rs->n ? weights_normalize(&b->targets[rs->first], rs->n) : 0;
	r->max_connections = rs->s.max_connections;
	r->cap_id = POLICY_NO_CAP;
	r->connect_timeout_ms = rs->s.connect_timeout_ms;
	r->lb = (uint8_t)rs->s.lb;
	r->flags = rs->flags;
	r->name = c->se_names[se_i];
	r->file = rs->pos->file;
	r->line = rs->pos->line;
	r->col = rs->pos->col;
	r->doc = rs->pos->doc;
	r->route = rs->route;
	r->dr = rs->dr;
	r->dst_name = rs->dst_name;
	b->meta[b->n_rules] = (struct rule_meta){
		.se = rs->cap_se, .port = rs->cap_port, .subset = rs->cap_subset,
	};
	b->n_rules++;
	return 0;
}

/* A rule for this key already added since index from? (an address listed twice) */
static bool
rule_exists(const struct builder *b, uint32_t from, uint32_t dst, uint8_t len, uint16_t port,
	    uint8_t proto)
{
	uint32_t i;

	for (i = from; i < b->n_rules; i++)
		if (b->rules[i].dst_ip == dst && b->rules[i].prefix_len == len &&
		    b->rules[i].port == port && b->rules[i].proto == proto)
			return true;
	return false;
}

/* The rules of one ServiceEntry: each address times each port. */
static int
compile_se(struct cc *c, uint32_t se_i)
{
	const struct service_entry *se = &c->m->ses[se_i];
	const char *name = c->se_names[se_i];
	int d = dr_for_se(c, se_i);
	const struct destination_rule *dr = d >= 0 ? &c->m->drs[d] : NULL;
	bool dns_dst = se_uses_dns(se) && se->n_endpoints == 0 && se->n_addresses == 0;
	unsigned int p, a, h, k, n_v4 = 0;

	for (a = 0; a < se->n_addresses; a++)
		n_v4 += !se->addresses[a].v6;
	for (p = 0; p < se->n_ports; p++) {
		const struct se_port *sp = &se->ports[p];
		uint32_t first = c->b->n_targets, from = c->b->n_rules;
		struct rule_spec rs = {
			.first = first, .target_port = (uint16_t)sp->target_port,
			.s = dr_effective(dr, NULL, sp->number),
			.dr = dr != NULL ? c->dr_names[d] : NULL, .pos = &se->pos,
			.cap_se = se_i, .cap_port = sp->number,
		};
		bool from_dns = false;
		int n;

		if (sp->number == 0)
			continue;
		n = se_targets(c, se_i, sp, NULL, 0, p > 0, &from_dns);
		if (n < 0)
			return n;
		rs.n = (uint32_t)n;
		rs.flags = from_dns ? POLICY_RULE_F_DNS : 0;
		if (dns_dst && se->resolution == SE_RES_DNS) {
			/* DNS without endpoints or addresses: the hosts' own addresses
			 * are what clients connect to, and they keep them; only
			 * DNS_ROUND_ROBIN sends to its first one (Envoy's LOGICAL_DNS) */
			c->b->n_targets = first;
			rs.n = 0;
			rs.flags = 0;
		} else if (!dns_dst && se->resolution != SE_RES_NONE && rs.n == 0) {
			diag_add(c->dl, DIAG_WARNING, sp->pos.file, sp->pos.line, sp->pos.col,
				 "ServiceEntry %s port %u: no endpoint address to send to; the "
				 "port admits nothing", name, sp->number);
			continue;
		}
		if (dns_dst) {
			for (h = 0; h < se->n_hosts; h++) {
				const struct dns_answer *ans;

				if (se->hosts[h] == NULL || strchr(se->hosts[h], '*') != NULL)
					continue;
				ans = dns_answer(c, name, se->hosts[h], &se->pos, true);
				for (k = 0; ans != NULL && k < ans->n_addrs; k++) {
					uint32_t ip = ntohl(ans->addrs[k]);

					if (rule_exists(c->b, from, ip, 32, (uint16_t)sp->number,
							sp->l4proto))
						continue;
					rs.dst = ip;
					rs.len = 32;
					rs.flags |= POLICY_RULE_F_DNS_DST;
					rs.dst_name = se->hosts[h];
					if (rule_add(c, se_i, sp, &rs) < 0)
						return -ENOMEM;
				}
			}
			if (c->b->n_rules == from)
				diag_add(c->dl, DIAG_WARNING, sp->pos.file, sp->pos.line,
					 sp->pos.col, "ServiceEntry %s port %u: no address of its "
					 "hosts is known; the port admits nothing", name,
					 sp->number);
			continue;
		}
		/* No address at all: Istio matches the port on any destination. */
		if (se->n_addresses == 0) {
			if (rs.n > 0)
				diag_add(c->dl, DIAG_WARNING, sp->pos.file, sp->pos.line,
					 sp->pos.col, "ServiceEntry %s has no addresses: port %u "
					 "of EVERY destination is sent to its endpoints (add "
					 "spec.addresses to restrict it)", name, sp->number);
			rs.flags |= POLICY_RULE_F_ANY_DST;
			if (rule_add(c, se_i, sp, &rs) < 0)
				return -ENOMEM;
			continue;
		}
		for (a = 0; a < se->n_addresses; a++) {
			const struct se_address *ad = &se->addresses[a];

			if (ad->v6 || rule_exists(c->b, from, ad->ip, ad->prefix_len,
						  (uint16_t)sp->number, sp->l4proto))
				continue;
			rs.dst = ad->ip;
			rs.len = ad->prefix_len;
			if (rule_add(c, se_i, sp, &rs) < 0)
				return -ENOMEM;
		}
	}
	if (se->n_addresses > 0 && n_v4 == 0)
		diag_add(c->dl, DIAG_WARNING, se->pos.file, se->pos.line, se->pos.col,
			 "ServiceEntry %s has only IPv6 addresses; IPv6 is not forwarded "
			 "yet, the entry admits nothing", name);
	return 0;
}

/* ------------------------------------------------------------------ */
/* VirtualService routes                                               */

/*
 * Does a gateway reference ("ns/name", "name", legacy "name.ns...") name a
 * Gateway of the policy that selects this appliance? A namespace that either
 * side leaves out matches any: files applied with `kubectl -n` rarely say.
 * *known tells whether the Gateway exists in the policy at all.
 */
static bool
gateway_ref_is_us(const struct cc *c, const char *ref, const char *vs_ns, bool *known)
{
	const char *slash = strchr(ref, '/'), *dot = strchr(ref, '.');
	char ns[256], name[256];
	unsigned int i;

	*known = true;
	if (strcmp(ref, "mesh") == 0)
		return false;
	if (slash != NULL) {
		snprintf(ns, sizeof(ns), "%.*s", (int)(slash - ref), ref);
		snprintf(name, sizeof(name), "%s", slash + 1);
	} else if (dot != NULL) {
		const char *end = strchr(dot + 1, '.');

		snprintf(name, sizeof(name), "%.*s", (int)(dot - ref), ref);
		snprintf(ns, sizeof(ns), "%.*s",
			 (int)(end != NULL ? (size_t)(end - dot - 1) : strlen(dot + 1)), dot + 1);
	} else {
		snprintf(name, sizeof(name), "%s", ref);
		snprintf(ns, sizeof(ns), "%s", vs_ns);
	}
	for (i = 0; i < c->m->n_gateways; i++) {
		const struct gateway *gw = &c->m->gateways[i];

		if (gw->name == NULL || strcmp(gw->name, name) != 0)
			continue;
		if (ns[0] != '\0' && gw->ns[0] != '\0' && strcmp(ns, gw->ns) != 0)
			continue;
		if (gw->selects_us)
			return true;
	}
	for (i = 0; i < c->m->n_gateways; i++)
		if (c->m->gateways[i].name != NULL && strcmp(c->m->gateways[i].name, name) == 0)
			return false;
	*known = false;
	return false;
}

static bool
gateways_include_us(const struct cc *c, char *const *refs, unsigned int n, const char *vs_ns)
{
	unsigned int i;
	bool known;

	for (i = 0; i < n; i++)
		if (refs[i] != NULL && gateway_ref_is_us(c, refs[i], vs_ns, &known))
			return true;
	return false;
}

/* Is the VirtualService bound to a Gateway that selects us? Unknown Gateways warn. */
static bool
vs_for_us(struct cc *c, const struct virtual_service *vs, const char *vs_name)
{
	bool us = false, known;
	unsigned int i;

	for (i = 0; i < vs->n_gateways; i++) {
		if (vs->gateways[i] == NULL)
			continue;
		if (gateway_ref_is_us(c, vs->gateways[i], vs->ns, &known))
			us = true;
		else if (!known)
			diag_add(c->dl, DIAG_WARNING, vs->gateways_pos.file, vs->gateways_pos.line,
				 vs->gateways_pos.col, "VirtualService %s: gateway %s is not "
				 "defined in the policy sources; its routes are not for this "
				 "appliance", vs_name, vs->gateways[i]);
	}
	return us;
}

/* x = a n b for two prefixes; false when they are disjoint. */
static bool
prefix_intersect(uint32_t a, uint8_t al, uint32_t b, uint8_t bl, uint32_t *x, uint8_t *xl)
{
	uint8_t l = al < bl ? al : bl;

	if ((a & mask4(l)) != (b & mask4(l)))
		return false;
	*x = al >= bl ? a : b;
	*xl = al >= bl ? al : bl;
	return true;
}

/* Where a route sends the flows of one matched port. */
struct route_to {
	bool ok;                  /* usable; else errors were reported */
	bool keep;                /* to the original destination (a NONE entry) */
	uint16_t keep_port;
	uint32_t first, n;
	uint8_t flags;
	struct dr_settings s;
	const char *dr;
	uint32_t cap_se, cap_port;
	const char *cap_subset;
};

/*
 * Scale each destination's endpoint weights by its route weight, exactly
 * where the lcm of the destinations' endpoint totals allows:
 * w = route_weight x endpoint_weight x (L / endpoint_total).
 */
static void
route_weights(struct policy_target *t, const uint32_t *range_n, const uint32_t *route_w,
	      unsigned int n_ranges)
{
	uint64_t l = 1, tot[64];
	unsigned int r, i, o = 0;

	for (r = 0; r < n_ranges && r < 64; r++) {
		uint64_t e = 0, a, b2;

		for (i = 0; i < range_n[r]; i++)
			e += t[o + i].weight;
		o += range_n[r];
		tot[r] = e;
		if (e == 0)
			continue;
		/* lcm(l, e), capped: past 1e6 the split is rounded instead */
		for (a = l, b2 = e; b2 != 0;) {
			uint64_t tmp = a % b2;

			a = b2;
			b2 = tmp;
		}
		l = l / a * e;
		if (l > 1000000)
			l = 1000000;
	}
	for (r = 0, o = 0; r < n_ranges && r < 64; r++) {
		for (i = 0; i < range_n[r]; i++) {
			uint64_t w = ((uint64_t)route_w[r] * t[o + i].weight * l + tot[r] / 2) /
				     tot[r];

			t[o + i].weight = w == 0 ? 1 : w > UINT32_MAX ? UINT32_MAX : (uint32_t)w;
		}
		o += range_n[r];
	}
}

#define ROUTE_MAX_DESTS 64

static void
route_targets(struct cc *c, const struct virtual_service *vs, const char *vs_name,
	      const struct vs_route *r, uint32_t mport, struct route_to *out)
{
	uint32_t range_n[ROUTE_MAX_DESTS], route_w[ROUTE_MAX_DESTS];
	unsigned int i, n_ranges = 0, n_live = 0;
	bool warned_settings = false;

	memset(out, 0, sizeof(*out));
	out->ok = true;
	out->first = c->b->n_targets;
	for (i = 0; i < r->n_dests; i++)
		n_live += !r->dests[i].has_weight || r->dests[i].weight > 0;
	for (i = 0; i < r->n_dests && i < ROUTE_MAX_DESTS; i++) {
		const struct vs_destination *d = &r->dests[i];
		uint32_t w = d->has_weight ? d->weight : r->n_dests == 1 ? 100 : 0;
		const struct service_entry *se;
		const struct se_port *sp = NULL;
		const struct dr_subset *sub = NULL;
		const struct destination_rule *dr = NULL;
		struct dr_settings s;
		uint32_t dport;
		unsigned int p;
		bool dns = false;
		int se_i, di, n;

		if (w == 0 || d->host == NULL)
			continue;
		se_i = se_for_host(c, d->host, vs->ns);
		if (se_i < 0) {
			diag_add(c->dl, DIAG_ERROR, d->pos.file, d->pos.line, d->pos.col,
				 "VirtualService %s: destination host %s is not the host of any "
				 "ServiceEntry; an L4 gateway has nowhere to send its flows",
				 vs_name, d->host);
			out->ok = false;
			continue;
		}
		se = &c->m->ses[se_i];
		dport = d->port != 0 ? d->port : mport;
		for (p = 0; p < se->n_ports; p++)
			if (se->ports[p].number == dport)
				sp = &se->ports[p];
		if (sp == NULL && d->port == 0 && se->n_ports == 1) {
			sp = &se->ports[0];
			dport = sp->number;
		}
		if (sp == NULL) {
			diag_add(c->dl, DIAG_ERROR, d->pos.file, d->pos.line, d->pos.col,
				 "VirtualService %s: port %u is not a port of ServiceEntry %s "
				 "(host %s)", vs_name, dport, c->se_names[se_i], d->host);
			out->ok = false;
			continue;
		}
		di = dr_for_se(c, (uint32_t)se_i);
		dr = di >= 0 ? &c->m->drs[di] : NULL;
		if (d->subset != NULL) {
			sub = dr_subset_find(dr, d->subset);
			if (sub == NULL) {
				diag_add(c->dl, DIAG_ERROR, d->pos.file, d->pos.line, d->pos.col,
					 "VirtualService %s: subset %s of %s is not defined by a "
					 "DestinationRule", vs_name, d->subset, d->host);
				out->ok = false;
				continue;
			}
		}
		s = dr_effective(dr, sub, dport);
		if (n_ranges == 0 && !out->keep) {
			out->s = s;
			out->dr = dr != NULL ? c->dr_names[di] : NULL;
			out->cap_se = (uint32_t)se_i;
			out->cap_port = dport;
			out->cap_subset = d->subset;
		} else if (!settings_equal(&out->s, &s) && !warned_settings) {
			warned_settings = true;
			diag_add(c->dl, DIAG_WARNING, d->pos.file, d->pos.line, d->pos.col,
				 "VirtualService %s: destinations have different DestinationRule "
				 "settings; the flows of this route follow the first "
				 "destination's", vs_name);
		}
		if (se->resolution == SE_RES_NONE) {
			/* Envoy's ORIGINAL_DST cluster: the address the client asked for */
			if (n_live > 1) {
				diag_add(c->dl, DIAG_ERROR, d->pos.file, d->pos.line, d->pos.col,
					 "VirtualService %s: ServiceEntry %s has resolution NONE "
					 "(the original destination), which an L4 gateway cannot "
					 "split with other destinations", vs_name,
					 c->se_names[se_i]);
				out->ok = false;
				continue;
			}
			out->keep = true;
			out->keep_port = (uint16_t)(dport != mport ? dport : sp->target_port);
			continue;
		}
		n = se_targets(c, (uint32_t)se_i, sp, sub, dport != mport ? (uint16_t)dport : 0,
			       true, &dns);
		if (n < 0)
			return;
		if (n == 0)
			diag_add(c->dl, DIAG_WARNING, d->pos.file, d->pos.line, d->pos.col,
				 "VirtualService %s: destination %s%s%s has no address to send "
				 "to; its share of the flows is refused", vs_name, d->host,
				 d->subset != NULL ? " subset " : "",
				 d->subset != NULL ? d->subset : "");
		if (dns)
			out->flags |= POLICY_RULE_F_DNS;
		range_n[n_ranges] = (uint32_t)n;
		route_w[n_ranges++] = w;
	}
	out->n = c->b->n_targets - out->first;
	if (n_ranges > 1)
		route_weights(&c->b->targets[out->first], range_n, route_w, n_ranges);
	else if (n_ranges == 1 && out->n == 0)
		out->ok = false;
}

/* What one route adds to the table, for one matched entry port. */
struct vs_gen {
	const struct virtual_service *vs;
	const char *vs_name;
	uint32_t vs_first;        /* first rule this VirtualService added */
	uint32_t all_vs_first;    /* first rule any VirtualService added */
};

/* An earlier rule of this VirtualService already takes these flows? */
static int
vs_shadowed(const struct cc *c, const struct vs_gen *g, uint32_t dst, uint8_t len,
	    uint16_t port, uint8_t proto)
{
	uint32_t i;

	for (i = g->vs_first; i < c->b->n_rules; i++) {
		const struct policy_rule *x = &c->b->rules[i];

		if (x->port == port && x->proto == proto && x->prefix_len <= len &&
		    (dst & mask4(x->prefix_len)) == x->dst_ip)
			return (int)i;
	}
	return -1;
}

/* Targets of a route, computed once per matched port (they depend on it). */
struct route_cache {
	uint32_t mport;
	struct route_to to;
};

static const struct route_to *
route_for_port(struct cc *c, struct vs_gen *g, const struct vs_route *r, uint32_t mport,
	       struct route_cache **cache, unsigned int *n_cache)
{
	struct route_cache *v;
	unsigned int i;

	for (i = 0; i < *n_cache; i++)
		if ((*cache)[i].mport == mport)
			return &(*cache)[i].to;
	v = realloc(*cache, (*n_cache + 1) * sizeof(*v));
	if (v == NULL) {
		c->oom = true;
		return NULL;
	}
	*cache = v;
	v[*n_cache].mport = mport;
	route_targets(c, g->vs, g->vs_name, r, mport, &v[*n_cache].to);
	return c->oom ? NULL : &v[(*n_cache)++].to;
}

/* The working state of one route while its rules are made. */
struct route_run {
	const struct vs_route *r;
	const char *name;         /* "ns/vs tcp[i]" */
	struct route_cache *cache;
	unsigned int n_cache;
	bool warned_shadow;
	bool failed;              /* a destination was in error: say nothing more */
	bool skipped;             /* earlier routes took flows: that was said */
};

/* One candidate rule of a route: skipped when an earlier route has its flows. */
static int
route_rule(struct cc *c, struct vs_gen *g, struct route_run *rr, uint32_t se_i,
	   const struct se_port *sp, uint32_t dst, uint8_t len)
{
	const struct vs_route *r = rr->r;
	const struct route_to *to;
	struct rule_spec rs;
	int sh;

	sh = vs_shadowed(c, g, dst, len, (uint16_t)sp->number, sp->l4proto);
	if (sh >= 0) {
		const struct policy_rule *x = &c->b->rules[sh];

		if (x->route != rr->name && !rr->warned_shadow && x->prefix_len < len) {
			rr->warned_shadow = true;
			diag_add(c->dl, DIAG_WARNING, r->pos.file, r->pos.line, r->pos.col,
				 "VirtualService %s: route %s comes first for these flows of "
				 "port %u; route %s[%u] is never used for them", g->vs_name,
				 x->route, sp->number, r->tls ? "tls" : "tcp", r->index);
		}
		rr->skipped = true;
		return 0;
	}
	if (rule_exists(c->b, g->all_vs_first, dst, len, (uint16_t)sp->number, sp->l4proto)) {
		diag_add(c->dl, DIAG_WARNING, r->pos.file, r->pos.line, r->pos.col,
			 "VirtualService %s: port %u of ServiceEntry %s is routed by another "
			 "VirtualService first; route %s[%u] is not used for it", g->vs_name,
			 sp->number, c->se_names[se_i], r->tls ? "tls" : "tcp", r->index);
		rr->skipped = true;
		return 0;
	}
	to = route_for_port(c, g, r, sp->number, &rr->cache, &rr->n_cache);
	if (to == NULL)
		return -ENOMEM;
	if (!to->ok) {
		rr->failed = true;
		return 0;
	}
	rs = (struct rule_spec){
		.dst = dst, .len = len, .first = to->first, .n = to->keep ? 0 : to->n,
		.target_port = to->keep ? to->keep_port : (uint16_t)sp->target_port,
		.s = to->s, .dr = to->dr, .route = rr->name, .pos = &r->pos,
		.cap_se = to->cap_se, .cap_port = to->cap_port, .cap_subset = to->cap_subset,
		.flags = (uint8_t)(POLICY_RULE_F_ROUTED | to->flags |
				   (len == 0 ? POLICY_RULE_F_ANY_DST : 0)),
	};
	return rule_add(c, se_i, sp, &rs);
}

/* Does a host of the VirtualService name this entry? */
static bool
vs_covers_se(struct cc *c, const struct virtual_service *vs, const struct service_entry *se)
{
	unsigned int h, k;

	for (h = 0; h < vs->n_hosts; h++)
		for (k = 0; k < se->n_hosts; k++)
			if (vs->hosts[h] != NULL && se->hosts[k] != NULL &&
			    istio_host_covers(fqdn(c, vs->hosts[h], vs->ns),
					      fqdn(c, se->hosts[k], se->ns)))
				return true;
	return false;
}

/* One match against one port of one entry: its addresses x the match's subnets. */
static int
route_port(struct cc *c, struct vs_gen *g, struct route_run *rr, const struct vs_match *mt,
	   uint32_t se_i, const struct se_port *sp)
{
	const struct service_entry *se = &c->m->ses[se_i];
	unsigned int n_addr = se->n_addresses > 0 ? se->n_addresses : 1;
	unsigned int n_sub = mt->n_subnets > 0 ? mt->n_subnets : 1;
	unsigned int a, k;
	int rc;

	for (a = 0; a < n_addr; a++) {
		/* no address: Istio matches the port on any destination */
		const struct se_address *ad = se->n_addresses > 0 ? &se->addresses[a] : NULL;
		uint32_t base = ad != NULL ? ad->ip : 0;
		uint8_t blen = ad != NULL ? ad->prefix_len : 0;

		if (ad != NULL && ad->v6)
			continue;
		for (k = 0; k < n_sub; k++) {
			const struct se_address *sub = mt->n_subnets > 0 ? &mt->subnets[k] : NULL;
			uint32_t dst = base;
			uint8_t len = blen;

			if (sub != NULL &&
			    (sub->v6 || !prefix_intersect(base, blen, sub->ip, sub->prefix_len,
							  &dst, &len)))
				continue;
			rc = route_rule(c, g, rr, se_i, sp, dst, len);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* Does the route's kind apply to this port (tls: TLS/HTTPS; tcp: non-HTTP)? */
static bool
route_kind_fits(const struct vs_route *r, const struct se_port *sp)
{
	if (sp->number == 0 || istio_proto_is_http(sp->protocol))
		return false;
	return !r->tls || istio_proto_is_tls(sp->protocol);
}

/*
 * The rules of one route: the flows of the entries its VirtualService's hosts
 * name (their addresses x the ports of the route's kind), narrowed by each
 * match (destinationSubnets x port), sent to the route's destinations.
 */
static int
compile_route(struct cc *c, struct vs_gen *g, const struct vs_route *r)
{
	static const struct vs_match match_all;
	const struct virtual_service *vs = g->vs;
	struct route_run rr = {
		.r = r,
		.name = store_printf(c, "%s %s[%u]", g->vs_name, r->tls ? "tls" : "tcp", r->index),
	};
	unsigned int mi, s, p, n_matches = r->n_matches > 0 ? r->n_matches : 1;
	uint32_t before = c->b->n_rules;
	bool applies = false;
	int rc = 0;

	for (mi = 0; mi < n_matches && rc == 0; mi++) {
		const struct vs_match *mt = r->n_matches > 0 ? &r->matches[mi] : &match_all;

		if (mt->n_gateways > 0 && !gateways_include_us(c, mt->gateways, mt->n_gateways,
							       vs->ns))
			continue;
		applies = true;
		for (s = 0; s < c->m->n_ses && rc == 0; s++) {
			const struct service_entry *se = &c->m->ses[s];

			if (!vs_covers_se(c, vs, se))
				continue;
			for (p = 0; p < se->n_ports && rc == 0; p++)
				if (route_kind_fits(r, &se->ports[p]) &&
				    (mt->port == 0 || mt->port == se->ports[p].number))
					rc = route_port(c, g, &rr, mt, s, &se->ports[p]);
		}
	}
	free(rr.cache);
	if (rc < 0)
		return rc;
	if (applies && !rr.failed && !rr.skipped && c->b->n_rules == before)
		diag_add(c->dl, DIAG_WARNING, r->pos.file, r->pos.line, r->pos.col,
			 "VirtualService %s: route %s[%u] selects no flow: no match names a %s "
			 "port of the ServiceEntries its hosts name (an L4 gateway sees each "
			 "flow's own destination port, not a Gateway listener's)", g->vs_name,
			 r->tls ? "tls" : "tcp", r->index, r->tls ? "TLS or HTTPS" : "non-HTTP");
	return 0;
}

static int
compile_vss(struct cc *c)
{
	struct vs_gen g = { .all_vs_first = c->b->n_rules };
	unsigned int v, i;

	for (v = 0; v < c->m->n_vss; v++) {
		const struct virtual_service *vs = &c->m->vss[v];

		g.vs = vs;
		g.vs_name = qualified(c, vs->ns, vs->name);
		g.vs_first = c->b->n_rules;
		if (!vs_for_us(c, vs, g.vs_name))
			continue;
		for (i = 0; i < vs->n_routes; i++)
			if (compile_route(c, &g, &vs->routes[i]) < 0)
				return -ENOMEM;
	}
	/* a route replaces the entry's own rule for the very same flows */
	for (i = 0; i < g.all_vs_first; i++) {
		const struct policy_rule *x = &c->b->rules[i];

		if (rule_exists(c->b, g.all_vs_first, x->dst_ip, x->prefix_len, x->port, x->proto))
			c->b->meta[i].dead = true;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Whole-table checks and the last touches                             */

static int
cmp_rule_key(const void *a, const void *b, void *arg)
{
	const struct builder *bl = arg;
	const struct policy_rule *x = &bl->rules[*(const uint32_t *)a];
	const struct policy_rule *y = &bl->rules[*(const uint32_t *)b];

	if (x->dst_ip != y->dst_ip)
		return x->dst_ip < y->dst_ip ? -1 : 1;
	if (x->prefix_len != y->prefix_len)
		return x->prefix_len < y->prefix_len ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static bool
targets_equal(const struct builder *b, const struct policy_rule *x, const struct policy_rule *y)
{
	uint32_t i;

	if (x->n_targets != y->n_targets || x->target_port != y->target_port)
		return false;
	for (i = 0; i < x->n_targets; i++) {
		const struct policy_target *a = &b->targets[x->first_target + i];
		const struct policy_target *c = &b->targets[y->first_target + i];

		if (a->ip != c->ip || a->port != c->port || a->weight != c->weight)
			return false;
	}
	return true;
}

/*
 * Two entries that claim the very same destination, port and protocol but NAT
 * it to different places cannot both be honoured: which one a flow gets would
 * depend on rule order. Refuse the policy and name both. Sorted by key, so
 * 100 000 rules cost a sort, not 5e9 comparisons.
 */
static int
check_conflicts(const struct builder *b, struct diag_list *dl)
{
	uint32_t *idx, i, j, n = b->n_rules;

	if (n < 2)
		return 0;
	idx = malloc((size_t)n * sizeof(*idx));
	if (idx == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), cmp_rule_key, (void *)b);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n; j++) {
			const struct policy_rule *x = &b->rules[idx[i]];
			const struct policy_rule *y = &b->rules[idx[j]];
			uint32_t k;

			if (x->dst_ip != y->dst_ip || x->prefix_len != y->prefix_len ||
			    x->port != y->port || x->proto != y->proto)
				break;
			/* every later rule of the run against every earlier one */
			for (k = i; k < j; k++) {
				x = &b->rules[idx[k]];
				if (x->name == y->name || targets_equal(b, x, y))
					continue;
				diag_add(dl, DIAG_ERROR, y->file, y->line, y->col,
					 "ServiceEntry %s overlaps %s (%s:%u) on %u.%u.%u.%u/%u "
					 "port %u with a different NAT target",
					 y->name, x->name, x->file, x->line, y->dst_ip >> 24,
					 (y->dst_ip >> 16) & 0xff, (y->dst_ip >> 8) & 0xff,
					 y->dst_ip & 0xff, y->prefix_len, y->port);
				break;
			}
		}
	}
	free(idx);
	return 0;
}

/* The cluster a capped rule counts against: entry, port, subset. */
static int
cmp_cluster(const struct rule_meta *x, const struct rule_meta *y)
{
	if (x->se != y->se)
		return x->se < y->se ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return strcmp(x->subset != NULL ? x->subset : "", y->subset != NULL ? y->subset : "");
}

static int
cmp_cap_key(const void *a, const void *b, void *arg)
{
	const struct builder *bl = arg;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	int r = cmp_cluster(&bl->meta[i], &bl->meta[j]);

	return r != 0 ? r : i < j ? -1 : 1;
}

/* Drop replaced rules, then give the capped ones their shared counters. */
static int
finish_rules(struct cc *c, struct policy *p)
{
	struct builder *b = c->b;
	uint32_t i, n = 0, n_capped = 0, *idx;

	for (i = 0; i < b->n_rules; i++) {
		if (b->meta[i].dead)
			continue;
		b->rules[n] = b->rules[i];
		b->meta[n++] = b->meta[i];
	}
	b->n_rules = n;
	idx = malloc(((size_t)n + 1) * sizeof(*idx));
	if (idx == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		if (b->rules[i].max_connections > 0)
			idx[n_capped++] = i;
	if (n_capped > 1)
		qsort_r(idx, n_capped, sizeof(*idx), cmp_cap_key, b);
	p->n_caps = 0;
	for (i = 0; i < n_capped; i++) {
		if (i == 0 || cmp_cluster(&b->meta[idx[i - 1]], &b->meta[idx[i]]) != 0)
			p->n_caps++;
		b->rules[idx[i]].cap_id = p->n_caps - 1;
	}
	free(idx);
	return 0;
}

static const char *
outbound_name(enum egress_outbound o)
{
	return o == EGRESS_OUTBOUND_ALLOW_ANY ? "ALLOW_ANY" : "REGISTRY_ONLY";
}

/* A Sidecar that selects this appliance overrides policy.outbound (Istio's precedence). */
static void
compile_outbound(struct cc *c, struct policy *p)
{
	const struct sidecar *best = NULL;
	unsigned int i;

	for (i = 0; i < c->m->n_sidecars; i++) {
		const struct sidecar *sc = &c->m->sidecars[i];

		if (!sc->selects_us || !sc->has_outbound)
			continue;
		/* one that selects this appliance by its labels beats a namespace default */
		if (best == NULL || (sc->has_selector && !best->has_selector)) {
			best = sc;
			continue;
		}
		if (sc->has_selector != best->has_selector || sc->outbound == best->outbound)
			continue;
		diag_add(c->dl, DIAG_ERROR, sc->outbound_pos.file, sc->outbound_pos.line,
			 sc->outbound_pos.col, "Sidecar %s sets outboundTrafficPolicy %s, but "
			 "Sidecar %s (%s:%u) sets %s: which one applies to this appliance is "
			 "ambiguous", qualified(c, sc->ns, sc->name), outbound_name(sc->outbound),
			 qualified(c, best->ns, best->name), best->pos.file, best->pos.line,
			 outbound_name(best->outbound));
	}
	if (best == NULL)
		return;
	p->outbound = best->outbound;
	p->outbound_from = store_printf(c, "Sidecar %s at %s:%u, over policy.outbound %s",
					qualified(c, best->ns, best->name), best->pos.file,
					best->pos.line,
					outbound_name(c->cfg != NULL ? c->cfg->outbound :
						      EGRESS_OUTBOUND_REGISTRY_ONLY));
	if (c->cfg != NULL && best->outbound != c->cfg->outbound)
		diag_add(c->dl, DIAG_WARNING, best->outbound_pos.file, best->outbound_pos.line,
			 best->outbound_pos.col, "Sidecar %s: outboundTrafficPolicy %s overrides "
			 "policy.outbound %s of the appliance config",
			 qualified(c, best->ns, best->name), outbound_name(best->outbound),
			 outbound_name(c->cfg->outbound));
}

/* DestinationRules that would enforce something but reach no entry. */
static void
warn_unused_drs(struct cc *c)
{
	unsigned int i;

	for (i = 0; i < c->m->n_drs; i++) {
		const struct destination_rule *dr = &c->m->drs[i];
		bool enforces = dr->s.has_max_connections || dr->s.has_connect_timeout ||
				dr->s.has_lb || dr->n_ports > 0;
		unsigned int k;

		for (k = 0; k < dr->n_subsets; k++)
			enforces = enforces || dr->subsets[k].s.has_max_connections ||
				   dr->subsets[k].s.has_connect_timeout ||
				   dr->subsets[k].s.has_lb;
		if (c->dr_used[i] || !enforces || dr->host == NULL)
			continue;
		diag_add(c->dl, DIAG_WARNING, dr->pos.file, dr->pos.line, dr->pos.col,
			 "DestinationRule %s: host %s is not the host of any ServiceEntry; its "
			 "traffic policy applies to nothing here", c->dr_names[i], dr->host);
	}
}

static int
compile_model(struct cc *c, struct policy *p)
{
	uint32_t i;
	int rc;

	rc = build_indexes(c);
	if (rc < 0)
		return rc;
	compile_outbound(c, p);
	for (i = 0; i < c->m->n_ses; i++) {
		rc = compile_se(c, i);
		if (rc < 0)
			return rc;
	}
	rc = compile_vss(c);
	if (rc < 0)
		return rc;
	warn_unused_drs(c);
	rc = finish_rules(c, p);
	if (rc < 0)
		return rc;
	rc = check_conflicts(c->b, c->dl);
	if (rc < 0)
		return rc;
	return c->oom ? -ENOMEM : 0;
}

/* ------------------------------------------------------------------ */
/* The classifier                                                      */

static uint64_t
dpdk_heap_bytes(void)
{
	struct rte_malloc_socket_stats st;
	uint64_t total = 0;
	unsigned int i;

	for (i = 0; i < rte_socket_count(); i++)
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			total += st.heap_allocsz_bytes;
	return total;
}

/*
 * The exact table: open addressing with linear probing over a flat array of
 * 16-byte slots, at most half full, so that a lookup is one CRC32, one
 * (prefetched) cache line and rarely a second. Immutable once built: workers
 * read it with no synchronisation at all.
 */
struct exact_slot {
	uint64_t key;             /* EXACT_EMPTY: free */
	uint32_t rule;
	uint32_t pad;
};

struct policy_exact {
	uint32_t mask;            /* slots - 1, slots a power of two */
	struct exact_slot slot[];
};

/* No key has its top byte set: the protocol sits in bits 48-55. */
#define EXACT_EMPTY UINT64_MAX
#define EXACT_BULK 64             /* keys hashed and prefetched ahead */

/*
 * The exact table's key: (destination, port, protocol) as the flow key holds
 * them (network order), in 8 bytes. Rules and packets build it alike.
 */
static inline uint64_t
exact_key(uint32_t dst_net, uint16_t port_net, uint8_t proto)
{
	return (uint64_t)dst_net | (uint64_t)port_net << 32 | (uint64_t)proto << 48;
}

static inline uint32_t
exact_hash(uint64_t key)
{
	return rte_hash_crc_8byte(key, 0);
}

static int
build_exact(struct policy *p, uint32_t n_exact)
{
	uint32_t slots = 16, i;
	struct policy_exact *t;

	while (slots < 2 * n_exact)
		slots *= 2;
	t = rte_malloc_socket("policy_exact", sizeof(*t) + (size_t)slots * sizeof(t->slot[0]),
			      RTE_CACHE_LINE_SIZE, SOCKET_ID_ANY);
	if (t == NULL)
		return -ENOMEM;
	t->mask = slots - 1;
	for (i = 0; i < slots; i++)
		t->slot[i].key = EXACT_EMPTY;
	for (i = 0; i < p->n_rules; i++) {
		const struct policy_rule *pr = &p->rules[i];
		uint64_t k;
		uint32_t s;

		if (pr->prefix_len != 32)
			continue;
		k = exact_key(htonl(pr->dst_ip), htons(pr->port), pr->proto);
		for (s = exact_hash(k) & t->mask; t->slot[s].key != EXACT_EMPTY &&
		     t->slot[s].key != k; s = (s + 1) & t->mask)
			;
		/* the same key twice has the same targets (check_conflicts): keep the first */
		if (t->slot[s].key == k)
			continue;
		t->slot[s].key = k;
		t->slot[s].rule = i;
	}
	p->exact = t;
	return 0;
}

static int
build_acl(struct policy *p, bool all)
{
	struct rte_acl_param prm = {
		.socket_id = SOCKET_ID_ANY,
		.rule_size = RTE_ACL_RULE_SZ(ACL_NUM_FIELDS),
		.max_rule_num = p->stats.n_acl,
	};
	struct rte_acl_config cfg = {
		.num_categories = 1,
		.num_fields = ACL_NUM_FIELDS,
	};
	static unsigned int seq;
	char name[RTE_ACL_NAMESIZE];
	struct acl_rule *rules;
	uint32_t i, n = 0;
	int rc;

	/* rte_acl names are global to the process: generation + sequence */
	snprintf(name, sizeof(name), "egacl%u_%u", p->generation, seq++);
	prm.name = name;
	p->acl = rte_acl_create(&prm);
	if (p->acl == NULL)
		return -rte_errno;
	rules = calloc(p->stats.n_acl, sizeof(*rules));
	if (rules == NULL)
		return -ENOMEM;
	for (i = 0; i < p->n_rules; i++) {
		const struct policy_rule *pr = &p->rules[i];
		struct acl_rule *r = &rules[n];

		if (!all && pr->prefix_len == 32)
			continue;
		n++;
		r->data.category_mask = 1;
		r->data.priority = pr->prefix_len + 1;
		r->data.userdata = i + 1;
		r->field[ACL_FIELD_PROTO].value.u8 = pr->proto;
		r->field[ACL_FIELD_PROTO].mask_range.u8 = 0xff;
		r->field[ACL_FIELD_DST].value.u32 = pr->dst_ip;
		r->field[ACL_FIELD_DST].mask_range.u32 = pr->prefix_len;
		r->field[ACL_FIELD_SPORT].value.u16 = 0;
		r->field[ACL_FIELD_SPORT].mask_range.u16 = 0xffff;
		r->field[ACL_FIELD_DPORT].value.u16 = pr->port;
		r->field[ACL_FIELD_DPORT].mask_range.u16 = pr->port;
	}
	rc = rte_acl_add_rules(p->acl, (const struct rte_acl_rule *)rules, n);
	free(rules);
	if (rc < 0)
		return rc;
	memcpy(cfg.defs, acl_fields, sizeof(acl_fields));
	return rte_acl_build(p->acl, &cfg);
}

/*
 * rte_acl's build grows faster than linearly with its rules (about 0.5 s for
 * 12 000, 7 s for 120 000 here), while most ServiceEntries name single
 * addresses: those go to the exact table, built in linear time, and only
 * prefixes to rte_acl. A /32 match is the longest prefix there is, so a hit
 * in the table needs no rte_acl at all; doc/policy.md has the measurements.
 */
static int
build_classifier(struct policy *p, enum policy_classifier how)
{
	uint64_t heap0 = dpdk_heap_bytes();
	bool all = how == POLICY_CLASSIFIER_ACL;
	uint32_t i;
	int rc = 0;

	p->stats.n_exact = 0;
	for (i = 0; !all && i < p->n_rules; i++)
		p->stats.n_exact += p->rules[i].prefix_len == 32;
	p->stats.n_acl = p->n_rules - p->stats.n_exact;
	if (p->stats.n_exact > 0)
		rc = build_exact(p, p->stats.n_exact);
	if (rc == 0 && p->stats.n_acl > 0)
		rc = build_acl(p, all);
	p->stats.classifier_bytes = dpdk_heap_bytes() - heap0;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Building and freeing                                                */

int
policy_compile(struct policy *p, const struct policy_model *m, const struct egress_config *cfg,
	       struct dns_cache *dns, enum policy_classifier classifier, struct diag_list *dl)
{
	struct builder b = { 0 };
	struct cc c = {
		.m = m, .cfg = cfg, .dns = dns, .dl = dl, .b = &b, .st = p->strings,
	};
	size_t errors_before = diag_errors(dl);
	uint64_t t0 = mono_ns(), t1;
	int rc;

	rc = compile_model(&c, p);
	p->rules = b.rules;
	p->n_rules = b.n_rules;
	p->targets = b.targets;
	p->target_names = b.tnames;
	p->n_targets = b.n_targets;
	free(b.meta);
	free(c.se_names);
	free(c.se_hosts_fq);
	free(c.dr_names);
	free(c.dr_used);
	free(c.se_exact);
	free(c.se_wild);
	free(c.dr_exact);
	free(c.dr_wild);
	t1 = mono_ns();
	p->stats.compile_ns = t1 - t0;
	if (rc == 0 && diag_errors(dl) == errors_before) {
		rc = build_classifier(p, classifier);
		p->stats.classifier_ns = mono_ns() - t1;
		if (rc < 0)
			diag_add(dl, DIAG_ERROR, cfg != NULL ? cfg->path : "policy", 0, 0,
				 "cannot build the classifier for %u rules: %s", p->n_rules,
				 rte_strerror(-rc));
	}
	if (rc == 0 && diag_errors(dl) > errors_before)
		rc = -EINVAL;
	return rc;
}

/* A policy shell that owns its model and strings from the start. */
static struct policy *
policy_alloc(const struct egress_config *cfg, uint32_t generation)
{
	struct policy *p = calloc(1, sizeof(*p));
	struct policy_store *st = calloc(1, sizeof(*st));

	if (p == NULL || st == NULL) {
		free(p);
		free(st);
		return NULL;
	}
	p->strings = st;
	p->generation = generation;
	p->outbound = cfg != NULL ? cfg->outbound : EGRESS_OUTBOUND_REGISTRY_ONLY;
	p->built_at = (uint64_t)time(NULL);
	return p;
}

/* The names the model's DNS entries need, registered with the cache. */
static void
dns_want_model(struct dns_cache *dns, const struct policy_model *m)
{
	unsigned int i, k;

	for (i = 0; i < m->n_ses; i++) {
		const struct service_entry *se = &m->ses[i];

		if (!se_uses_dns(se))
			continue;
		for (k = 0; k < se->n_endpoints; k++)
			if (!se->endpoints[k].is_ip && !se->endpoints[k].is_ip6 &&
			    se->endpoints[k].address != NULL)
				dns_want(dns, se->endpoints[k].address);
		for (k = 0; se->n_endpoints == 0 && k < se->n_hosts; k++)
			if (se->hosts[k] != NULL && strchr(se->hosts[k], '*') == NULL)
				dns_want(dns, se->hosts[k]);
	}
}

struct policy *
policy_build_ex(const struct policy_build_params *prm, struct diag_list *dl)
{
	const struct egress_config *cfg = prm->cfg;
	struct policy_store *st;
	struct policy *p;
	uint64_t t0 = mono_ns();
	int rc;

	p = policy_alloc(cfg, prm->generation);
	if (p == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	st = p->strings;
	rc = istio_load_sources(cfg, &st->m, dl);
	p->stats.load_ns = mono_ns() - t0;
	if (rc == 0 && diag_errors(dl) == 0 && prm->dns != NULL) {
		dns_mark_begin(prm->dns);
		dns_want_model(prm->dns, &st->m);
		if (prm->dns_wait)
			dns_resolve_now(prm->dns, prm->now_ms);
	}
	if (rc == 0 && diag_errors(dl) == 0)
		rc = policy_compile(p, &st->m, cfg, prm->dns, prm->classifier, dl);
	if (rc < 0 || diag_errors(dl) > 0) {
		policy_free(p);
		rte_errno = rc == -ENOMEM ? ENOMEM : EINVAL;
		return NULL;
	}
	if (prm->dns != NULL)
		dns_sweep(prm->dns);
	return p;
}

struct policy *
policy_build(const struct egress_config *cfg, uint32_t generation, struct diag_list *dl)
{
	const struct policy_build_params prm = { .cfg = cfg, .generation = generation };

	return policy_build_ex(&prm, dl);
}

void
policy_free(struct policy *p)
{
	struct policy_store *st;
	uint32_t i;

	if (p == NULL)
		return;
	rte_free(p->exact);
	rte_acl_free(p->acl);
	free(p->rules);
	free(p->targets);
	free(p->target_names);
	st = p->strings;
	if (st != NULL) {
		policy_model_free(&st->m);
		for (i = 0; i < st->n_strs; i++)
			free(st->strs[i]);
		free(st->strs);
		free(st);
	}
	free(p);
}

/* ------------------------------------------------------------------ */
/* Classify                                                            */

/* Up to EXACT_BULK keys: the exact table, then rte_acl for what it misses. */
static void
classify_chunk(const struct policy *p, const struct flow_key **keys, unsigned int n,
	       uint32_t *rules)
{
	const struct flow_key *miss[EXACT_BULK];
	uint32_t miss_rules[EXACT_BULK];
	uint8_t miss_idx[EXACT_BULK];
	unsigned int i, n_miss = 0;

	if (p->exact != NULL) {
		const struct policy_exact *t = p->exact;
		uint64_t k[EXACT_BULK];
		uint32_t s[EXACT_BULK];

		/* hash and prefetch the whole burst first, then probe */
		for (i = 0; i < n; i++) {
			k[i] = exact_key(keys[i]->dst_ip, keys[i]->dst_port, keys[i]->proto);
			s[i] = exact_hash(k[i]) & t->mask;
			rte_prefetch0(&t->slot[s[i]]);
		}
		for (i = 0; i < n; i++) {
			uint32_t j = s[i];

			while (t->slot[j].key != k[i] && t->slot[j].key != EXACT_EMPTY)
				j = (j + 1) & t->mask;
			rules[i] = POLICY_NO_RULE;
			if (t->slot[j].key == k[i]) {
				rules[i] = t->slot[j].rule;
			} else {
				miss_idx[n_miss] = (uint8_t)i;
				miss[n_miss++] = keys[i];
			}
		}
	} else {
		for (i = 0; i < n; i++) {
			rules[i] = POLICY_NO_RULE;
			miss_idx[i] = (uint8_t)i;
			miss[i] = keys[i];
		}
		n_miss = n;
	}
	if (n_miss == 0 || p->acl == NULL ||
	    rte_acl_classify(p->acl, (const uint8_t **)miss, miss_rules, n_miss, 1) != 0)
		return;
	/* userdata is index + 1 so that 0 can mean "no match": 0 - 1 wraps to
	 * POLICY_NO_RULE */
	for (i = 0; i < n_miss; i++)
		rules[miss_idx[i]] = miss_rules[i] - 1;
}

void
policy_classify_bulk(const struct policy *p, const struct flow_key **keys, unsigned int n,
		     uint32_t *rules)
{
	unsigned int done, m;

	for (done = 0; done < n; done += m) {
		m = n - done < EXACT_BULK ? n - done : EXACT_BULK;
		classify_chunk(p, keys + done, m, rules + done);
	}
}

/* ------------------------------------------------------------------ */
/* --check                                                             */

const char *
policy_lb_name(unsigned int lb)
{
	static const char *const names[] = {
		[POLICY_LB_RANDOM] = "RANDOM",
		[POLICY_LB_ROUND_ROBIN] = "ROUND_ROBIN",
		[POLICY_LB_LEAST_CONN] = "LEAST_CONN",
		[POLICY_LB_CONSISTENT_SOURCE_IP] = "CONSISTENT_SOURCE_IP",
	};

	return lb < sizeof(names) / sizeof(names[0]) ? names[lb] : "?";
}

static const char *
proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : "tcp";
}

static void
print_ip(FILE *out, uint32_t ip_host)
{
	fprintf(out, "%u.%u.%u.%u", ip_host >> 24, (ip_host >> 16) & 0xff,
		(ip_host >> 8) & 0xff, ip_host & 0xff);
}

static void
print_gateways(const struct policy *p, FILE *out)
{
	const struct policy_store *st = p->strings;
	unsigned int g, s, h;

	if (st == NULL)
		return;
	for (g = 0; g < st->m.n_gateways; g++) {
		const struct gateway *gw = &st->m.gateways[g];

		if (!gw->selects_us)
			continue;
		fprintf(out, "# gateway %s%s%s (%s:%u) selects this appliance\n", gw->ns,
			gw->ns[0] != '\0' ? "/" : "", gw->name, gw->pos.file, gw->pos.line);
		for (s = 0; s < gw->n_servers; s++) {
			const struct gw_server *sv = &gw->servers[s];

			fprintf(out, "#   server %u/%s hosts ", sv->port,
				sv->protocol != NULL ? sv->protocol : "");
			for (h = 0; h < sv->n_hosts; h++)
				fprintf(out, "%s%s", h > 0 ? "," : "", sv->hosts[h]);
			if (sv->tls_mode != NULL)
				fprintf(out, " tls %s", sv->tls_mode);
			fputc('\n', out);
		}
	}
}

/* The DestinationRule / VirtualService column: "-" when nothing applies. */
static void
print_effects(const struct policy_rule *r, FILE *out)
{
	bool any = false;

	if (r->max_connections > 0) {
		fprintf(out, "maxconn=%u(cap %u)", r->max_connections, r->cap_id);
		any = true;
	}
	if (r->connect_timeout_ms > 0) {
		fprintf(out, "%sconnect=%" PRIu64 "ms", any ? " " : "", r->connect_timeout_ms);
		any = true;
	}
	if (r->n_targets > 1 || r->lb != POLICY_LB_RANDOM) {
		fprintf(out, "%slb=%s", any ? " " : "", policy_lb_name(r->lb));
		any = true;
	}
	if (r->dr != NULL) {
		fprintf(out, "%sdr=%s", any ? " " : "", r->dr);
		any = true;
	}
	if (r->route != NULL) {
		fprintf(out, "%svs=%s", any ? " " : "", r->route);
		any = true;
	}
	if (!any)
		fputc('-', out);
}

void
policy_print(const struct policy *p, FILE *out)
{
	uint32_t i, t;

	if (p->outbound_from != NULL)
		fprintf(out, "# outbound %s (%s)\n", outbound_name(p->outbound), p->outbound_from);
	else
		fprintf(out, "# outbound %s (policy.outbound)\n", outbound_name(p->outbound));
	print_gateways(p, out);
	fprintf(out, "# %u rule%s, %u target%s, %u connection cap%s\n", p->n_rules,
		p->n_rules == 1 ? "" : "s", p->n_targets, p->n_targets == 1 ? "" : "s",
		p->n_caps, p->n_caps == 1 ? "" : "s");
	fprintf(out, "# source\tserviceentry\tdestination\tport\tprotocol\tnat\tpolicy\n");
	for (i = 0; i < p->n_rules; i++) {
		const struct policy_rule *r = &p->rules[i];

		fprintf(out, "%s:%u (doc %u)\t%s\t", r->file, r->line, r->doc, r->name);
		print_ip(out, r->dst_ip);
		fprintf(out, "/%u", r->prefix_len);
		if (r->dst_name != NULL)
			fprintf(out, " (%s)", r->dst_name);
		fprintf(out, "\t%u\t%s\tsnat", r->port, proto_name(r->proto));
		if (r->n_targets == 0 && r->target_port != 0)
			fprintf(out, " dnat :%u", r->target_port);
		for (t = 0; t < r->n_targets; t++) {
			const struct policy_target *pt = &p->targets[r->first_target + t];
			const char *from = p->target_names != NULL ?
					   p->target_names[r->first_target + t] : NULL;

			fputs(t == 0 ? " dnat " : ",", out);
			print_ip(out, ntohl(pt->ip));
			fprintf(out, ":%u w%u", pt->port ? pt->port :
				r->target_port ? r->target_port : r->port, pt->weight);
			if (from != NULL)
				fprintf(out, " (%s)", from);
		}
		fputc('\t', out);
		print_effects(r, out);
		fputc('\n', out);
	}
}
