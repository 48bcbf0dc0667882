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
 * This file: the host indexes, DestinationRule settings, the whole-table
 * checks and policy_compile(); compile_serviceentry.c and compile_routes.c
 * make the rules (compile_private.h lists the files).
 *
 * Control thread only: allocates freely, never logs or prints.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>

#include "compile_private.h"

int
cc_grow(void **v, uint32_t *cap, uint32_t need, size_t elem)
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

/* ------------------------------------------------------------------ */
/* Strings the policy owns                                             */

const char *
cc_printf(struct cc *c, const char *fmt, ...)
{
	struct policy_store *st = c->st;
	va_list ap;
	char *s;
	int n;

	if (cc_grow((void **)&st->strs, &st->cap_strs, st->n_strs + 1, sizeof(*st->strs)) < 0)
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
const char *
cc_qualified(struct cc *c, const char *ns, const char *name)
{
	if (ns == NULL || ns[0] == '\0')
		return name;
	return cc_printf(c, "%s/%s", ns, name);
}

/*
 * A short host ("redis") means the Kubernetes service of that name in the
 * resource's namespace, as Istio reads it; anything with a dot is a FQDN.
 */
const char *
cc_fqdn(struct cc *c, const char *host, const char *ns)
{
	if (host == NULL || strchr(host, '.') != NULL || strcmp(host, "*") == 0)
		return host;
	return cc_printf(c, "%s.%s.svc.cluster.local", host, istio_ns(ns));
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
	if (cc_grow((void **)v, cap, *n + 1, sizeof(**v)) < 0)
		return -ENOMEM;
	(*v)[(*n)++] = (struct host_ref){ host, idx };
	return 0;
}

/*
 * Istio merges the rules for one host of one namespace; egressd keeps the
 * first the gateway sees and warns about the others (of the same pool,
 * what a lookup can find).
 */
static void
warn_dr_duplicates(struct cc *c)
{
	const struct policy_model *m = c->m;
	uint32_t i, j;

	for (i = 1; i < c->n_dr_exact; i++) {
		const struct destination_rule *a = NULL, *d = &m->drs[c->dr_exact[i].idx];

		for (j = i; j-- > 0 && strcmp(c->dr_exact[j].host, c->dr_exact[i].host) == 0;) {
			const struct destination_rule *x = &m->drs[c->dr_exact[j].idx];

			if (x->hidden == NULL && strcmp(istio_ns(x->ns), istio_ns(d->ns)) == 0)
				a = x;
		}
		if (a == NULL || d->hidden != NULL)
			continue;
		diag_add(c->dl, DIAG_WARNING, d->pos.file, d->pos.line, d->pos.col,
			 "DestinationRule %s: host %s already has DestinationRule %s (%s:%u); "
			 "this one is ignored",
			 c->dr_names[c->dr_exact[i].idx], d->host, c->dr_names[a - m->drs],
			 a->pos.file, a->pos.line);
	}
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

		c->se_names[i] = cc_qualified(c, se->ns, se->name);
		/* what the gateway does not see is no one's destination */
		for (h = 0; se->hidden == NULL && h < se->n_hosts; h++) {
			const char *fq = cc_fqdn(c, se->hosts[h], se->ns);
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
	/* all of them, seen or not: a rule exported elsewhere still hides a wildcard */
	for (i = 0; i < m->n_drs; i++) {
		const struct destination_rule *dr = &m->drs[i];
		const char *fq = cc_fqdn(c, dr->host, dr->ns);
		int rc;

		c->dr_names[i] = cc_qualified(c, dr->ns, dr->name);
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
	warn_dr_duplicates(c);
	return c->oom ? -ENOMEM : 0;
}

/* Where dr_match() looks: Istio's DestinationRule pools of one namespace. */
enum dr_pool {
	DR_POOL_LOCAL,     /* namespaceLocal: what its own namespace sees */
	DR_POOL_ROOT_PRIV, /* rootNamespaceLocal: kept in the root namespace */
	DR_POOL_EXPORTED,  /* exportedByNamespace: exported anywhere */
};

static bool
dr_in_pool(const struct destination_rule *dr, const char *ns, enum dr_pool pool)
{
	if (strcmp(istio_ns(dr->ns), ns) != 0)
		return false;
	switch (pool) {
	case DR_POOL_LOCAL:
		return dr->hidden == NULL;
	case DR_POOL_ROOT_PRIV:
		return dr->hidden == NULL && dr->priv;
	case DR_POOL_EXPORTED:
		return !dr->priv;
	}
	return false;
}

/*
 * The DestinationRule of namespace ns's pool for a host, as Istio's
 * MostSpecificHostMatch() picks it: one written for exactly that host (the
 * first), else the most specific wildcard covering it, else -1.
 */
static int
dr_match(const struct cc *c, const char *host, const char *ns, enum dr_pool pool)
{
	uint32_t i = host_lower_bound(c->dr_exact, c->n_dr_exact, host);
	size_t best_len = 0;
	int best = -1;

	for (; i < c->n_dr_exact && strcmp(c->dr_exact[i].host, host) == 0; i++)
		if (dr_in_pool(&c->m->drs[c->dr_exact[i].idx], ns, pool))
			return (int)c->dr_exact[i].idx;
	for (i = 0; i < c->n_dr_wild; i++) {
		size_t l = strlen(c->dr_wild[i].host);

		if (dr_in_pool(&c->m->drs[c->dr_wild[i].idx], ns, pool) &&
		    istio_host_covers(c->dr_wild[i].host, host) && (best < 0 || l > best_len)) {
			best = (int)c->dr_wild[i].idx;
			best_len = l;
		}
	}
	return best;
}

/*
 * The DestinationRule for a host of a ServiceEntry of namespace se_ns, as
 * Istio's push context looks it up for the gateway (destinationRule()):
 * 1. the gateway's namespace (policy.namespace): every rule it sees there;
 *    when that is the root namespace, only the rules kept there (".");
 * 2. the ServiceEntry's namespace: its exported rules, if the one that
 *    matches is exported to the gateway's namespace;
 * 3. the same in the root namespace (policy.root_namespace).
 * A rule of any other namespace never applies. @return it, or -1.
 */
static int
dr_lookup(const struct cc *c, const char *host, const char *se_ns)
{
	const char *gw = egress_namespace(c->cfg), *root = egress_root_namespace(c->cfg);
	bool gw_root = strcmp(gw, root) == 0;
	int d = dr_match(c, host, gw, gw_root ? DR_POOL_ROOT_PRIV : DR_POOL_LOCAL);

	if (d >= 0)
		return d;
	d = dr_match(c, host, se_ns, DR_POOL_EXPORTED);
	if (d >= 0 && c->m->drs[d].exported)
		return d;
	d = dr_match(c, host, root, DR_POOL_EXPORTED);
	return d >= 0 && c->m->drs[d].exported ? d : -1;
}

/* The DestinationRule of the first host of se that has one, or -1. */
int
dr_for_se(struct cc *c, uint32_t se_i)
{
	const struct service_entry *se = &c->m->ses[se_i];
	unsigned int h;
	int d;

	for (h = 0; h < se->n_hosts; h++) {
		const char *fq = cc_fqdn(c, se->hosts[h], se->ns);

		if (fq != NULL && (d = dr_lookup(c, fq, istio_ns(se->ns))) >= 0) {
			c->dr_used[d] = true;
			return d;
		}
	}
	return -1;
}

/*
 * A DestinationRule for a host of se, other than the one dr_for_se() finds,
 * that defines this subset (for the message of a route to it); -1 when none.
 */
int
dr_subset_elsewhere(struct cc *c, uint32_t se_i, const char *subset)
{
	const struct service_entry *se = &c->m->ses[se_i];
	int found = dr_for_se(c, se_i);
	unsigned int i, h;

	for (i = 0; i < c->m->n_drs; i++) {
		const struct destination_rule *dr = &c->m->drs[i];
		const char *fq = cc_fqdn(c, dr->host, dr->ns);

		if ((int)i == found || fq == NULL || dr_subset_find(dr, subset) == NULL)
			continue;
		for (h = 0; h < se->n_hosts; h++) {
			const char *sh = cc_fqdn(c, se->hosts[h], se->ns);

			if (sh != NULL && (strcmp(sh, fq) == 0 || istio_host_covers(fq, sh)))
				return (int)i;
		}
	}
	return -1;
}

/* The ServiceEntry for a route destination host: exact host, else a wildcard. */
int
se_for_host(struct cc *c, const char *host, const char *ns)
{
	const char *fq = cc_fqdn(c, host, ns);
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

/*
 * A ServiceEntry the gateway does not see (compile_se() skips it) that has
 * this host, for the message of a route that names it; -1 when none.
 */
int
se_hidden_for_host(struct cc *c, const char *host, const char *ns)
{
	const char *fq = cc_fqdn(c, host, ns);
	unsigned int i, h;

	for (i = 0; fq != NULL && i < c->m->n_ses; i++) {
		const struct service_entry *se = &c->m->ses[i];

		for (h = 0; se->hidden != NULL && h < se->n_hosts; h++) {
			const char *sh = cc_fqdn(c, se->hosts[h], se->ns);

			if (sh != NULL && (strcmp(sh, fq) == 0 || istio_host_covers(sh, fq)))
				return (int)i;
		}
	}
	return -1;
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

const struct dr_subset *
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
struct dr_settings
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

bool
dr_settings_equal(const struct dr_settings *a, const struct dr_settings *b)
{
	return a->max_connections == b->max_connections &&
	       a->connect_timeout_ms == b->connect_timeout_ms && a->lb == b->lb;
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

/*
 * How a Sidecar applies to the gateway, by Istio's precedence (its
 * getSidecarScope()): one in the gateway's namespace that selects it by its
 * labels, else that namespace's default (no selector), else the mesh-wide
 * default (no selector, in the root namespace). @return 3, 2, 1, or 0: it
 * does not apply.
 */
static int
sidecar_rank(const struct cc *c, const struct sidecar *sc)
{
	const char *ns = istio_ns(sc->ns);

	if (strcmp(ns, egress_namespace(c->cfg)) == 0)
		return !sc->has_selector ? 2 : sc->selects_us ? 3 : 0;
	if (!sc->has_selector && strcmp(ns, egress_root_namespace(c->cfg)) == 0)
		return 1;
	return 0;
}

static const char *const sidecar_rank_why[] = {
	"",
	"is the mesh-wide default",
	"is the default of the gateway's namespace",
	"selects the gateway by its labels",
};

static enum egress_outbound
cfg_outbound(const struct cc *c)
{
	return c->cfg != NULL ? c->cfg->outbound : EGRESS_OUTBOUND_REGISTRY_ONLY;
}

/* What a Sidecar says of outbound traffic, for the ambiguity message. */
static const char *
sidecar_says(struct cc *c, const struct sidecar *sc, bool first)
{
	if (sc->has_outbound)
		return cc_printf(c, first ? "sets outboundTrafficPolicy %s" : "sets %s",
				 outbound_name(sc->outbound));
	return cc_printf(c,
			 first ? "sets no outboundTrafficPolicy (policy.outbound %s)" :
				 "sets none (policy.outbound %s)",
			 outbound_name(cfg_outbound(c)));
}

/* Sidecars that set outbound but do not apply to the gateway: say why. */
static void
warn_sidecars_not_ours(struct cc *c, const struct sidecar *best, int best_rank)
{
	unsigned int i;

	for (i = 0; i < c->m->n_sidecars; i++) {
		const struct sidecar *sc = &c->m->sidecars[i];
		int r = sidecar_rank(c, sc);

		if (!sc->has_outbound || sc == best)
			continue;
		if (r > 0 && r < best_rank)
			diag_add(c->dl, DIAG_WARNING, sc->outbound_pos.file, sc->outbound_pos.line,
				 sc->outbound_pos.col,
				 "Sidecar %s: outboundTrafficPolicy does not apply to this "
				 "appliance: Sidecar %s (%s:%u) %s and comes first",
				 cc_qualified(c, sc->ns, sc->name),
				 cc_qualified(c, best->ns, best->name), best->pos.file,
				 best->pos.line, sidecar_rank_why[best_rank]);
		else if (r == 0 && sc->ns[0] == '\0' && (!sc->has_selector || sc->selects_us))
			diag_add(c->dl, DIAG_WARNING, sc->pos.file, sc->pos.line, sc->pos.col,
				 "Sidecar %s has no metadata.namespace, so it is taken to be in "
				 "namespace %s: its outboundTrafficPolicy does not apply to the "
				 "gateway (namespace %s); set metadata.namespace",
				 sc->name, ISTIO_DEFAULT_NAMESPACE, egress_namespace(c->cfg));
	}
}

/*
 * The Sidecar that applies to the gateway (sidecar_rank()) overrides
 * policy.outbound with its outboundTrafficPolicy, if it sets one (Istio:
 * else the mesh's applies, not a lower-ranked Sidecar's).
 */
static void
compile_outbound(struct cc *c, struct policy *p)
{
	const struct sidecar *best = NULL;
	unsigned int i;
	int best_rank = 0;

	for (i = 0; i < c->m->n_sidecars; i++) {
		const struct sidecar *sc = &c->m->sidecars[i];
		int r = sidecar_rank(c, sc);

		if (r > best_rank) {
			best = sc;
			best_rank = r;
		}
	}
	for (i = 0; best != NULL && i < c->m->n_sidecars; i++) {
		const struct sidecar *sc = &c->m->sidecars[i];
		enum egress_outbound a, b;

		if (sc == best || sidecar_rank(c, sc) != best_rank)
			continue;
		/* Istio takes the oldest; a file has no age, so disagreeing is an error */
		a = sc->has_outbound ? sc->outbound : cfg_outbound(c);
		b = best->has_outbound ? best->outbound : cfg_outbound(c);
		if (a == b)
			continue;
		diag_add(c->dl, DIAG_ERROR, sc->has_outbound ? sc->outbound_pos.file : sc->pos.file,
			 sc->has_outbound ? sc->outbound_pos.line : sc->pos.line,
			 sc->has_outbound ? sc->outbound_pos.col : sc->pos.col,
			 "Sidecar %s %s, but Sidecar %s (%s:%u) %s: which one applies to this "
			 "appliance is ambiguous",
			 cc_qualified(c, sc->ns, sc->name), sidecar_says(c, sc, true),
			 cc_qualified(c, best->ns, best->name), best->pos.file, best->pos.line,
			 sidecar_says(c, best, false));
	}
	warn_sidecars_not_ours(c, best, best_rank);
	if (best == NULL || !best->has_outbound)
		return;
	p->outbound = best->outbound;
	p->outbound_from = cc_printf(c, "Sidecar %s at %s:%u, over policy.outbound %s",
				     cc_qualified(c, best->ns, best->name), best->pos.file,
				     best->pos.line, outbound_name(cfg_outbound(c)));
	if (c->cfg != NULL && best->outbound != c->cfg->outbound)
		diag_add(c->dl, DIAG_WARNING, best->outbound_pos.file, best->outbound_pos.line,
			 best->outbound_pos.col,
			 "Sidecar %s: outboundTrafficPolicy %s overrides "
			 "policy.outbound %s of the appliance config",
			 cc_qualified(c, best->ns, best->name), outbound_name(best->outbound),
			 outbound_name(c->cfg->outbound));
}

enum dr_reach_why {
	DR_NO_HOST,
	DR_OTHER_NAMESPACE,
	DR_OUTRANKED
};

/* Why a DestinationRule the gateway sees applies to no ServiceEntry. */
static enum dr_reach_why
dr_reach(struct cc *c, const struct destination_rule *dr)
{
	const char *fq = cc_fqdn(c, dr->host, dr->ns), *ns = istio_ns(dr->ns);
	enum dr_reach_why why = DR_NO_HOST;
	unsigned int i, h;

	if (strcmp(ns, egress_namespace(c->cfg)) == 0 ||
	    strcmp(ns, egress_root_namespace(c->cfg)) == 0)
		why = DR_OUTRANKED;
	for (i = 0; fq != NULL && i < c->m->n_ses; i++) {
		const struct service_entry *se = &c->m->ses[i];

		for (h = 0; se->hidden == NULL && h < se->n_hosts; h++) {
			const char *sh = cc_fqdn(c, se->hosts[h], se->ns);

			if (sh == NULL || (strcmp(sh, fq) != 0 && !istio_host_covers(fq, sh)))
				continue;
			if (strcmp(istio_ns(se->ns), ns) == 0)
				return DR_OUTRANKED;
			if (why == DR_NO_HOST)
				why = DR_OTHER_NAMESPACE;
		}
	}
	return why;
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
				   dr->subsets[k].s.has_connect_timeout || dr->subsets[k].s.has_lb;
		if (c->dr_used[i] || !enforces || dr->host == NULL || dr->hidden != NULL)
			continue;
		switch (dr_reach(c, dr)) {
		case DR_NO_HOST:
			diag_add(c->dl, DIAG_WARNING, dr->pos.file, dr->pos.line, dr->pos.col,
				 "DestinationRule %s: host %s is not the host of any "
				 "ServiceEntry; its traffic policy applies to nothing here",
				 c->dr_names[i], dr->host);
			break;
		case DR_OTHER_NAMESPACE:
			diag_add(c->dl, DIAG_WARNING, dr->pos.file, dr->pos.line, dr->pos.col,
				 "DestinationRule %s: Istio looks for the DestinationRule of a "
				 "host in the gateway's namespace (%s), the ServiceEntry's and "
				 "the root namespace (%s), never in %s: its traffic policy "
				 "applies to nothing here",
				 c->dr_names[i], egress_namespace(c->cfg),
				 egress_root_namespace(c->cfg), istio_ns(dr->ns));
			break;
		case DR_OUTRANKED:
			break; /* a rule Istio finds first applies: that is the lookup */
		}
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
/* Compiling a model                                                   */

int
policy_compile(struct policy *p, const struct policy_model *m, const struct egress_config *cfg,
	       struct dns_cache *dns, enum policy_classifier classifier, struct diag_list *dl)
{
	struct builder b = { 0 };
	struct cc c = {
		.m = m,
		.cfg = cfg,
		.dns = dns,
		.dl = dl,
		.b = &b,
		.st = p->strings,
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
