/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: the Istio loader, istio_load_buffer(), on arbitrary bytes
 * with a fixed minimal appliance config. Beyond not crashing or leaking:
 *   - 0 exactly when no error was reported, and then the model is consistent
 *     (IPv4 prefixes with host bits zero, ports and protocols in range,
 *     every element with a position);
 *   - a buffer that loads cleanly goes on through the whole policy_build()
 *     (cross-resource checks, compile, classifier build) from a memfd, and
 *     the compiled classifier (exact table + rte_acl) agrees with a linear
 *     longest-prefix reference on keys around every rule.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include "fuzz_common.h"

#include "config.h"
#include "diag.h"
#include "flow_key.h"
#include "policy_build.h"
#include "policy_private.h"

#define RULES_CHECKED 32 /* classifier checks on at most this many rules */

static struct egress_config cfg;
static struct fuzz_memfile mf;
static uint32_t generation;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (fuzz_eal_init("fuzz_istio") != 0)
		abort();
	if (fuzz_memfile_open(&mf, "policy.yaml") != 0) {
		perror("fuzz_istio: memfd_create");
		abort();
	}
	cfg.path = "fuzz-egressd.yaml";
	cfg.dir = ".";
	cfg.outbound = EGRESS_OUTBOUND_REGISTRY_ONLY;
	cfg.labels[0] = (struct egress_label){ "istio", "egressgateway" };
	cfg.n_labels = 1;
	cfg.workers = 1;
	return 0;
}

static void
check_pos(const struct ypos *pos, const char *what)
{
	FUZZ_CHECK(pos->file != NULL, "%s without a file", what);
}

static void
model_check(const struct policy_model *m)
{
	unsigned int i, j;

	FUZZ_CHECK(m->n_ses == 0 || m->ses != NULL, "ServiceEntries without an array");
	for (i = 0; i < m->n_ses; i++) {
		const struct service_entry *se = &m->ses[i];

		FUZZ_CHECK(se->name != NULL && se->ns != NULL, "ServiceEntry %u unnamed", i);
		check_pos(&se->pos, "ServiceEntry");
		for (j = 0; j < se->n_hosts; j++)
			FUZZ_CHECK(se->hosts[j] != NULL, "%s: host %u NULL", se->name, j);
		for (j = 0; j < se->n_addresses; j++) {
			const struct se_address *a = &se->addresses[j];

			check_pos(&a->pos, "address");
			if (a->v6) {
				FUZZ_CHECK(a->prefix_len <= 128, "%s: /%u", se->name,
					   a->prefix_len);
				continue;
			}
			FUZZ_CHECK(a->prefix_len <= 32, "%s: /%u", se->name, a->prefix_len);
			FUZZ_CHECK(a->prefix_len == 32 ||
					   (a->ip & (0xffffffffu >> a->prefix_len)) == 0,
				   "%s: host bits set in %#x/%u", se->name, a->ip, a->prefix_len);
		}
		for (j = 0; j < se->n_ports; j++) {
			const struct se_port *p = &se->ports[j];

			check_pos(&p->pos, "port");
			FUZZ_CHECK(p->number >= 1 && p->number <= 65535, "%s: port %u", se->name,
				   p->number);
			FUZZ_CHECK(p->target_port <= 65535, "%s: targetPort %u", se->name,
				   p->target_port);
			FUZZ_CHECK(p->l4proto == IPPROTO_TCP || p->l4proto == IPPROTO_UDP,
				   "%s: port %u protocol %u", se->name, p->number, p->l4proto);
		}
		for (j = 0; j < se->n_endpoints; j++)
			FUZZ_CHECK(se->endpoints[j].address != NULL, "%s: endpoint %u", se->name,
				   j);
	}
	FUZZ_CHECK(m->n_gateways == 0 || m->gateways != NULL, "Gateways without an array");
	for (i = 0; i < m->n_gateways; i++) {
		FUZZ_CHECK(m->gateways[i].name != NULL, "Gateway %u unnamed", i);
		check_pos(&m->gateways[i].pos, "Gateway");
	}
	FUZZ_CHECK(m->n_drs == 0 || m->drs != NULL, "DestinationRules without an array");
	for (i = 0; i < m->n_drs; i++) {
		FUZZ_CHECK(m->drs[i].name != NULL, "DestinationRule %u unnamed", i);
		check_pos(&m->drs[i].pos, "DestinationRule");
	}
}

static bool
rule_matches(const struct policy_rule *r, uint32_t dst, uint16_t port, uint8_t proto)
{
	uint32_t mask = r->prefix_len ? 0xffffffffu << (32 - r->prefix_len) : 0;

	return r->proto == proto && r->port == port && (dst & mask) == r->dst_ip;
}

/* The compiled classifier against a linear scan, for one key (host order). */
static void
check_classify(const struct policy *p, uint32_t dst, uint16_t port, uint8_t proto)
{
	struct flow_key k = {
		.src_ip = htonl(0x0a080002),
		.dst_ip = htonl(dst),
		.src_port = htons(40000),
		.dst_port = htons(port),
		.proto = proto,
	};
	const struct flow_key *kp = &k;
	uint32_t got, i;
	int best = -1;

	for (i = 0; i < p->n_rules; i++)
		if (rule_matches(&p->rules[i], dst, port, proto) &&
		    (int)p->rules[i].prefix_len > best)
			best = p->rules[i].prefix_len;
	policy_classify_bulk(p, &kp, 1, &got);
	if (best < 0) {
		FUZZ_CHECK(got == POLICY_NO_RULE, "%#x:%u/%u matched rule %u, expected none", dst,
			   port, proto, got);
		return;
	}
	FUZZ_CHECK(got < p->n_rules, "%#x:%u/%u matched no rule, expected a /%d", dst, port, proto,
		   best);
	FUZZ_CHECK(rule_matches(&p->rules[got], dst, port, proto) &&
			   p->rules[got].prefix_len == best,
		   "%#x:%u/%u matched rule %u (%#x/%u port %u proto %u), expected a /%d", dst, port,
		   proto, got, p->rules[got].dst_ip, p->rules[got].prefix_len, p->rules[got].port,
		   p->rules[got].proto, best);
}

static void
check_policy(const struct policy *p)
{
	uint32_t i, j;

	/* /32 rules go to the exact table, prefixes to rte_acl */
	FUZZ_CHECK(p->n_rules == 0 || p->acl != NULL || p->exact != NULL, "%u rules, no classifier",
		   p->n_rules);
	for (i = 0; i < p->n_rules; i++) {
		const struct policy_rule *r = &p->rules[i];
		uint32_t sum = 0;

		FUZZ_CHECK(r->proto == IPPROTO_TCP || r->proto == IPPROTO_UDP, "rule %u proto %u",
			   i, r->proto);
		FUZZ_CHECK(r->prefix_len <= 32, "rule %u /%u", i, r->prefix_len);
		FUZZ_CHECK(r->prefix_len == 32 || (r->dst_ip & (0xffffffffu >> r->prefix_len)) == 0,
			   "rule %u: host bits in %#x/%u", i, r->dst_ip, r->prefix_len);
		FUZZ_CHECK(r->name != NULL && r->file != NULL, "rule %u unnamed", i);
		FUZZ_CHECK((uint64_t)r->first_target + r->n_targets <= p->n_targets,
			   "rule %u targets %u+%u of %u", i, r->first_target, r->n_targets,
			   p->n_targets);
		for (j = 0; j < r->n_targets; j++) {
			FUZZ_CHECK(p->targets[r->first_target + j].weight >= 1, "rule %u weight 0",
				   i);
			sum += p->targets[r->first_target + j].weight;
		}
		FUZZ_CHECK(r->n_targets == 0 || sum == r->total_weight,
			   "rule %u total_weight %u, sum %u", i, r->total_weight, sum);
	}
	for (i = 0; i < p->n_rules && i < RULES_CHECKED; i++) {
		const struct policy_rule *r = &p->rules[i];
		uint32_t host = r->prefix_len >= 32 ? 0 : 0xffffffffu >> r->prefix_len;

		check_classify(p, r->dst_ip, r->port, r->proto);
		check_classify(p, r->dst_ip | host, r->port, r->proto);
		check_classify(p, r->dst_ip ^ 1, r->port, r->proto);
		check_classify(p, r->dst_ip, (uint16_t)(r->port + 1), r->proto);
		check_classify(p, r->dst_ip, r->port, r->proto ^ (IPPROTO_TCP ^ IPPROTO_UDP));
		if (r->prefix_len > 0)
			check_classify(p, r->dst_ip ^ (1u << (32 - r->prefix_len)), r->port,
				       r->proto);
	}
}

static void
build_and_check(const uint8_t *data, size_t size)
{
	struct diag_list dl = { 0 };
	char *src = mf.path;
	struct policy *p;
	FILE *null;

	if (fuzz_memfile_set(&mf, data, size) != 0)
		abort();
	cfg.sources = &src;
	cfg.n_sources = 1;
	p = policy_build(&cfg, ++generation, &dl);
	cfg.sources = NULL;
	cfg.n_sources = 0;
	if (p == NULL) {
		FUZZ_CHECK(diag_errors(&dl) > 0 || rte_errno == ENOMEM,
			   "policy_build failed without an error");
	} else {
		FUZZ_CHECK(diag_errors(&dl) == 0, "built with %zu errors", diag_errors(&dl));
		FUZZ_CHECK(p->generation == generation, "generation %u", p->generation);
		check_policy(p);
		null = fopen("/dev/null", "w");
		if (null != NULL) {
			policy_print(p, null);
			fclose(null);
		}
		policy_free(p);
	}
	diag_list_clear(&dl);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list dl = { 0 };
	struct policy_model m = { 0 };
	size_t i;
	int rc;

	rc = istio_load_buffer(&cfg, &m, "fuzz.yaml", (const char *)data, size, &dl);
	for (i = 0; i < dl.n; i++) {
		char buf[512];

		FUZZ_CHECK(dl.v[i].file != NULL && dl.v[i].msg != NULL && dl.v[i].msg[0] != '\0',
			   "diagnostic %zu without file or message", i);
		(void)diag_format(&dl.v[i], buf, sizeof(buf));
	}
	if (rc == 0)
		FUZZ_CHECK(diag_errors(&dl) == 0, "loaded with %zu errors", diag_errors(&dl));
	else
		FUZZ_CHECK(rc < 0 && diag_errors(&dl) > 0, "refused (%d) with %zu errors", rc,
			   diag_errors(&dl));
	/* after an error the model need only be freeable */
	if (rc == 0)
		model_check(&m);
	policy_model_free(&m);
	diag_list_clear(&dl);
	if (rc == 0)
		build_and_check(data, size);
	return 0;
}
