/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Compile the policy model into the immutable object workers classify with.
 *
 * One rule per (ServiceEntry address, port): destination prefix x port x L4
 * protocol, with the NAT targets of that port (STATIC endpoints). The
 * classifier is an rte_acl context over the flow_key layout itself, so the
 * data path classifies the very keys it built for the flow lookup, in bulk,
 * with no copy. Longest destination prefix wins (ACL priority = prefix + 1).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_acl.h>
#include <rte_errno.h>

#include "policy.h"
#include "policy_private.h"

enum {
	ACL_FIELD_PROTO,
	ACL_FIELD_SRC,
	ACL_FIELD_DST,
	ACL_FIELD_SPORT,
	ACL_FIELD_DPORT,
	ACL_NUM_FIELDS
};

RTE_ACL_RULE_DEF(acl_rule, ACL_NUM_FIELDS);

/*
 * rte_acl reads its input in 4-byte groups (input_index); the first field
 * must be one byte long. Both ports share one group, as in DPDK's l3fwd-acl.
 */
static const struct rte_acl_field_def acl_fields[ACL_NUM_FIELDS] = {
	[ACL_FIELD_PROTO] = {
		.type = RTE_ACL_FIELD_TYPE_BITMASK, .size = sizeof(uint8_t),
		.field_index = ACL_FIELD_PROTO, .input_index = 0,
		.offset = offsetof(struct flow_key, proto),
	},
	[ACL_FIELD_SRC] = {
		.type = RTE_ACL_FIELD_TYPE_MASK, .size = sizeof(uint32_t),
		.field_index = ACL_FIELD_SRC, .input_index = 1,
		.offset = offsetof(struct flow_key, src_ip),
	},
	[ACL_FIELD_DST] = {
		.type = RTE_ACL_FIELD_TYPE_MASK, .size = sizeof(uint32_t),
		.field_index = ACL_FIELD_DST, .input_index = 2,
		.offset = offsetof(struct flow_key, dst_ip),
	},
	[ACL_FIELD_SPORT] = {
		.type = RTE_ACL_FIELD_TYPE_RANGE, .size = sizeof(uint16_t),
		.field_index = ACL_FIELD_SPORT, .input_index = 3,
		.offset = offsetof(struct flow_key, src_port),
	},
	[ACL_FIELD_DPORT] = {
		.type = RTE_ACL_FIELD_TYPE_RANGE, .size = sizeof(uint16_t),
		.field_index = ACL_FIELD_DPORT, .input_index = 3,
		.offset = offsetof(struct flow_key, dst_port),
	},
};

/* Growable arrays of the compiler's output. */
struct builder {
	struct policy_rule *rules;
	uint32_t n_rules, cap_rules;
	struct policy_target *targets;
	uint32_t n_targets, cap_targets;
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

static const char *
se_qualified_name(const struct service_entry *se)
{
	/* names live as long as the model, which the policy owns */
	return se->name;
}

/* The port an endpoint receives on: its ports map, else targetPort, else keep. */
static uint16_t
endpoint_port(const struct se_endpoint *ep, const struct se_port *sp)
{
	unsigned int i;

	for (i = 0; i < ep->n_ports; i++)
		if (sp->name != NULL && strcmp(ep->ports[i].name, sp->name) == 0)
			return (uint16_t)ep->ports[i].number;
	return (uint16_t)sp->target_port;
}

/* Append the NAT targets of one ServiceEntry port, described by first, n, total. */
static int
add_targets(struct builder *b, const struct service_entry *se, const struct se_port *sp,
	    uint32_t *first, uint32_t *n, uint32_t *total)
{
	unsigned int i;

	*first = b->n_targets;
	*n = 0;
	*total = 0;
	if (se->resolution == SE_RES_NONE)
		return 0;
	for (i = 0; i < se->n_endpoints; i++) {
		const struct se_endpoint *ep = &se->endpoints[i];
		struct policy_target *t;

		if (!ep->is_ip)
			continue; /* names: resolved by the DNS refresher, not here */
		if (se->resolution == SE_RES_DNS_ROUND_ROBIN && *n == 1)
			break; /* Istio: first address only */
		if (grow((void **)&b->targets, &b->cap_targets, b->n_targets + 1,
			 sizeof(*b->targets)) < 0)
			return -ENOMEM;
		t = &b->targets[b->n_targets++];
		t->ip = htonl(ep->ip);
		t->port = endpoint_port(ep, sp);
		t->weight = ep->weight ? ep->weight : 1;
		*total += t->weight;
		(*n)++;
	}
	return 0;
}

static int
add_rule(struct builder *b, const struct service_entry *se, const struct se_port *sp,
	 uint32_t dst, uint8_t prefix_len, uint32_t first, uint32_t n, uint32_t total)
{
	struct policy_rule *r;

	if (grow((void **)&b->rules, &b->cap_rules, b->n_rules + 1, sizeof(*b->rules)) < 0)
		return -ENOMEM;
	r = &b->rules[b->n_rules++];
	memset(r, 0, sizeof(*r));
	r->dst_ip = dst;
	r->prefix_len = prefix_len;
	r->proto = sp->l4proto;
	r->port = (uint16_t)sp->number;
	r->target_port = (uint16_t)sp->target_port;
	r->first_target = first;
	r->n_targets = n;
	r->total_weight = total;
	r->name = se_qualified_name(se);
	r->file = se->pos.file;
	r->line = se->pos.line;
	r->col = se->pos.col;
	r->doc = se->pos.doc;
	return 0;
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
 * depend on rule order. Refuse the policy and name both.
 */
static void
check_conflicts(const struct builder *b, struct diag_list *dl)
{
	uint32_t i, j;

	for (i = 0; i < b->n_rules; i++) {
		const struct policy_rule *x = &b->rules[i];

		for (j = i + 1; j < b->n_rules; j++) {
			const struct policy_rule *y = &b->rules[j];

			if (x->dst_ip != y->dst_ip || x->prefix_len != y->prefix_len ||
			    x->port != y->port || x->proto != y->proto || x->name == y->name)
				continue;
			if (targets_equal(b, x, y))
				continue;
			diag_add(dl, DIAG_ERROR, y->file, y->line, y->col,
				 "ServiceEntry %s overlaps %s (%s:%u) on %u.%u.%u.%u/%u port %u "
				 "with a different NAT target",
				 y->name, x->name, x->file, x->line, y->dst_ip >> 24,
				 (y->dst_ip >> 16) & 0xff, (y->dst_ip >> 8) & 0xff, y->dst_ip & 0xff,
				 y->prefix_len, y->port);
		}
	}
}

static int
compile_model(struct builder *b, const struct policy_model *m, struct diag_list *dl)
{
	unsigned int i, p, a;

	for (i = 0; i < m->n_ses; i++) {
		const struct service_entry *se = &m->ses[i];
		unsigned int n_v4 = 0;

		for (a = 0; a < se->n_addresses; a++)
			n_v4 += !se->addresses[a].v6;
		if (se->resolution == SE_RES_DNS || se->resolution == SE_RES_DNS_ROUND_ROBIN) {
			bool all_ip = se->n_endpoints > 0;

			for (a = 0; a < se->n_endpoints; a++)
				all_ip = all_ip && se->endpoints[a].is_ip;
			if (!all_ip) {
				diag_add(dl, DIAG_WARNING, se->pos.file, se->pos.line, se->pos.col,
					 "ServiceEntry %s: resolution DNS needs host names resolved; "
					 "the DNS resolver is not part of this build, the entry "
					 "admits nothing",
					 se->name);
				continue;
			}
		}
		for (p = 0; p < se->n_ports; p++) {
			const struct se_port *sp = &se->ports[p];
			uint32_t first, n, total;

			if (add_targets(b, se, sp, &first, &n, &total) < 0)
				return -ENOMEM;
			if (se->resolution != SE_RES_NONE && n == 0) {
				diag_add(dl, DIAG_WARNING, sp->pos.file, sp->pos.line, sp->pos.col,
					 "ServiceEntry %s port %u: no endpoint address to send "
					 "to; the port admits nothing",
					 se->name, sp->number);
				continue;
			}
			/* No address at all: Istio matches the port on any destination. */
			if (se->n_addresses == 0) {
				if (add_rule(b, se, sp, 0, 0, first, n, total) < 0)
					return -ENOMEM;
				continue;
			}
			for (a = 0; a < se->n_addresses; a++) {
				const struct se_address *ad = &se->addresses[a];

				if (ad->v6)
					continue;
				if (add_rule(b, se, sp, ad->ip, ad->prefix_len, first, n,
					     total) < 0)
					return -ENOMEM;
			}
		}
		if (se->n_addresses > 0 && n_v4 == 0)
			diag_add(dl, DIAG_WARNING, se->pos.file, se->pos.line, se->pos.col,
				 "ServiceEntry %s has only IPv6 addresses; IPv6 is not forwarded "
				 "yet, the entry admits nothing",
				 se->name);
	}
	check_conflicts(b, dl);
	return 0;
}

static int
build_acl(struct policy *p)
{
	struct rte_acl_param prm = {
		.socket_id = SOCKET_ID_ANY,
		.rule_size = RTE_ACL_RULE_SZ(ACL_NUM_FIELDS),
		.max_rule_num = p->n_rules,
	};
	struct rte_acl_config cfg = {
		.num_categories = 1,
		.num_fields = ACL_NUM_FIELDS,
	};
	static unsigned int seq;
	char name[RTE_ACL_NAMESIZE];
	struct acl_rule r;
	uint32_t i;
	int rc;

	if (p->n_rules == 0)
		return 0;
	/* rte_acl names are global to the process: generation + sequence */
	snprintf(name, sizeof(name), "egacl%u_%u", p->generation, seq++);
	prm.name = name;
	p->acl = rte_acl_create(&prm);
	if (p->acl == NULL)
		return -rte_errno;
	for (i = 0; i < p->n_rules; i++) {
		const struct policy_rule *pr = &p->rules[i];

		memset(&r, 0, sizeof(r));
		r.data.category_mask = 1;
		r.data.priority = pr->prefix_len + 1;
		r.data.userdata = i + 1;
		r.field[ACL_FIELD_PROTO].value.u8 = pr->proto;
		r.field[ACL_FIELD_PROTO].mask_range.u8 = 0xff;
		r.field[ACL_FIELD_SRC].value.u32 = 0;
		r.field[ACL_FIELD_SRC].mask_range.u32 = 0;
		r.field[ACL_FIELD_DST].value.u32 = pr->dst_ip;
		r.field[ACL_FIELD_DST].mask_range.u32 = pr->prefix_len;
		r.field[ACL_FIELD_SPORT].value.u16 = 0;
		r.field[ACL_FIELD_SPORT].mask_range.u16 = 0xffff;
		r.field[ACL_FIELD_DPORT].value.u16 = pr->port;
		r.field[ACL_FIELD_DPORT].mask_range.u16 = pr->port;
		rc = rte_acl_add_rules(p->acl, (const struct rte_acl_rule *)&r, 1);
		if (rc < 0)
			return rc;
	}
	memcpy(cfg.defs, acl_fields, sizeof(acl_fields));
	return rte_acl_build(p->acl, &cfg);
}

struct policy *
policy_build(const struct egress_config *cfg, uint32_t generation, struct diag_list *dl)
{
	struct builder b = {0};
	struct policy_model *m;
	struct policy *p;
	int rc;

	p = calloc(1, sizeof(*p));
	m = calloc(1, sizeof(*m));
	if (p == NULL || m == NULL) {
		free(p);
		free(m);
		rte_errno = ENOMEM;
		return NULL;
	}
	p->strings = m;
	p->generation = generation;
	p->outbound = cfg->outbound;
	p->built_at = (uint64_t)time(NULL);

	rc = istio_load_sources(cfg, m, dl);
	if (rc == 0 && diag_errors(dl) == 0)
		rc = compile_model(&b, m, dl);
	p->rules = b.rules;
	p->n_rules = b.n_rules;
	p->targets = b.targets;
	p->n_targets = b.n_targets;
	if (rc == 0 && diag_errors(dl) == 0) {
		rc = build_acl(p);
		if (rc < 0)
			diag_add(dl, DIAG_ERROR, cfg->path, 0, 0,
				 "cannot build the classifier for %u rules: %s", p->n_rules,
				 rte_strerror(-rc));
	}
	if (rc < 0 || diag_errors(dl) > 0) {
		policy_free(p);
		rte_errno = rc == -ENOMEM ? ENOMEM : EINVAL;
		return NULL;
	}
	return p;
}

void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	rte_acl_free(p->acl);
	free(p->rules);
	free(p->targets);
	free(p->rule_flows);
	free(p->rule_carried);
	if (p->strings != NULL) {
		policy_model_free(p->strings);
		free(p->strings);
	}
	free(p);
}

void
policy_classify_bulk(const struct policy *p, const struct flow_key **keys, unsigned int n,
		     uint32_t *rules)
{
	unsigned int i;

	if (p->acl == NULL || n == 0 ||
	    rte_acl_classify(p->acl, (const uint8_t **)keys, rules, n, 1) != 0) {
		for (i = 0; i < n; i++)
			rules[i] = POLICY_NO_RULE;
		return;
	}
	/* userdata is index + 1 so that 0 can mean "no match" */
	for (i = 0; i < n; i++)
		rules[i] = rules[i] - 1; /* 0 - 1 wraps to POLICY_NO_RULE */
}

static const char *
proto_name(uint8_t proto)
{
	return proto == IPPROTO_UDP ? "udp" : "tcp";
}

void
policy_print(const struct policy *p, FILE *out)
{
	uint32_t i, t;

	fprintf(out, "# outbound %s, %u rule%s\n",
		p->outbound == EGRESS_OUTBOUND_ALLOW_ANY ? "ALLOW_ANY" : "REGISTRY_ONLY",
		p->n_rules, p->n_rules == 1 ? "" : "s");
	fprintf(out, "# source\tserviceentry\tdestination\tport\tprotocol\tnat\n");
	for (i = 0; i < p->n_rules; i++) {
		const struct policy_rule *r = &p->rules[i];

		fprintf(out, "%s:%u (doc %u)\t%s\t%u.%u.%u.%u/%u\t%u\t%s\tsnat", r->file, r->line,
			r->doc, r->name, r->dst_ip >> 24, (r->dst_ip >> 16) & 0xff,
			(r->dst_ip >> 8) & 0xff, r->dst_ip & 0xff, r->prefix_len, r->port,
			proto_name(r->proto));
		if (r->n_targets == 0 && r->target_port != 0)
			fprintf(out, " dnat :%u", r->target_port);
		for (t = 0; t < r->n_targets; t++) {
			const struct policy_target *pt = &p->targets[r->first_target + t];
			uint32_t ip = ntohl(pt->ip);

			fprintf(out, "%s%u.%u.%u.%u:%u w%u", t == 0 ? " dnat " : ",", ip >> 24,
				(ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff,
				pt->port ? pt->port : r->port, pt->weight);
		}
		fputc('\n', out);
	}
}
