/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * egressctl explain (lib/policy/explain.c): the exact sentences for the
 * Memorystore policy, the closest-rule search case by case, and explain
 * against the workers' classifier (policy_classify_bulk() in bursts, as
 * stage_flows() calls it) and a linear longest-prefix reference, on
 * randomized policies and 5-tuples.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "explain.h"
#include "policy_build.h"
#include "test_common.h"
#include "test_policy_common.h"
#include "test_random_policy.h"

static struct policy *
build_dir(const char *dir, enum egress_outbound outbound)
{
	struct egress_config cfg;
	struct diag_list dl = { 0 };
	struct policy_build_params prm = { .generation = 1, .now_ms = 1000, .cfg = &cfg };
	char *sources[1] = { (char *)dir };
	struct policy *p;

	test_cfg(&cfg);
	cfg.outbound = outbound;
	cfg.sources = sources;
	cfg.n_sources = 1;
	p = policy_build_ex(&prm, &dl);
	if (p == NULL)
		print_diags(&dl);
	diag_list_clear(&dl);
	return p;
}

/* Explain dst:port/proto from 10.8.0.2; it must say allow and reason, why. */
static void
expect(const struct policy *p, const char *dst, uint16_t port, uint8_t proto, bool allow,
       enum policy_explain_why why, const char *reason, struct policy_explanation *e)
{
	struct flow_key k = test_key(dst, port, proto);

	policy_explain(p, &k, e);
	assert_int_equal(e->allow, allow);
	assert_int_equal(e->why, why);
	assert_string_equal(e->reason, reason);
	/* a rule for an allow (but under ALLOW_ANY), a closest one for a deny */
	assert_int_equal(e->rule == POLICY_NO_RULE, !allow || why == POLICY_EXPLAIN_ALLOW_ANY);
	if (allow)
		assert_int_equal(e->closest, POLICY_NO_RULE);
}

/* The Memorystore scenario: allow, and each kind of deny, word for word. */
static void
test_memorystore(void **state)
{
	struct policy *p = build_dir("../config/memorystore/policy", EGRESS_OUTBOUND_REGISTRY_ONLY);
	struct policy_explanation e;

	(void)state;
	assert_non_null(p);
	expect(p, "10.59.118.59", 6379, IPPROTO_TCP, true, POLICY_EXPLAIN_MATCH,
	       "allowed by ServiceEntry redis-serviceentry: 10.59.118.59/32 port 6379/tcp", &e);
	assert_string_equal(p->rules[e.rule].name, "redis-serviceentry");
	expect(p, "10.59.118.59", 6380, IPPROTO_TCP, false, POLICY_EXPLAIN_NO_PORT,
	       "6380 is not a port of ServiceEntry redis-serviceentry (10.59.118.59/32 lists "
	       "6379/tcp)",
	       &e);
	assert_string_equal(p->rules[e.closest].name, "redis-serviceentry");
	expect(p, "10.59.118.59", 6379, IPPROTO_UDP, false, POLICY_EXPLAIN_NO_PROTO,
	       "udp is not a protocol of port 6379 of ServiceEntry redis-serviceentry "
	       "(10.59.118.59/32 lists 6379/tcp)",
	       &e);
	expect(p, "10.59.118.60", 6379, IPPROTO_TCP, false, POLICY_EXPLAIN_NO_ADDRESS,
	       "no ServiceEntry lists 10.59.118.60; the closest is ServiceEntry "
	       "redis-serviceentry (10.59.118.59/32 port 6379/tcp)",
	       &e);
	policy_free(p);

	p = build_dir("../config/memorystore/policy", EGRESS_OUTBOUND_ALLOW_ANY);
	assert_non_null(p);
	expect(p, "10.59.118.60", 6379, IPPROTO_TCP, true, POLICY_EXPLAIN_ALLOW_ANY,
	       "no ServiceEntry lists 10.59.118.60 port 6379/tcp; outbound ALLOW_ANY passes it",
	       &e);
	policy_free(p);
}

static void
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static char tmp[64];

static int
tmp_setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/egt-explain-XXXXXX");
	return mkdtemp(tmp) == NULL ? -1 : 0;
}

static int
tmp_teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

#define SE_HEAD                                                                                    \
	"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: %s, "            \
	"namespace: ns}\nspec:\n  hosts: [%s.example]\n  location: MESH_EXTERNAL\n  "              \
	"resolution: NONE\n"

/* Closest-rule choices: the longest prefix that lists the address, the other
 * protocol before another port, the nearest address; and the empty policy. */
static void
test_closest(void **state)
{
	char path[128], text[2048];
	struct policy_explanation e;
	struct policy *p;
	uint32_t c;
	struct flow_key k;

	(void)state;
	snprintf(path, sizeof(path), "%s/se.yaml", tmp);
	snprintf(text, sizeof(text),
		 SE_HEAD
		 "  addresses: [192.0.2.0/24]\n  ports: [{number: 80, name: http, protocol: "
		 "TCP}]\n---\n" SE_HEAD
		 "  addresses: [192.0.2.7]\n  ports: [{number: 53, name: dns, protocol: "
		 "UDP}, {number: 443, name: tls, protocol: TLS}, {number: 8443, name: t2, "
		 "protocol: TLS}]\n---\n" SE_HEAD
		 "  addresses: [198.51.100.64/26]\n  ports: [{number: 5432, name: pg, protocol: "
		 "TCP}]\n",
		 "wide", "wide", "host", "host", "pg", "pg");
	write_text(path, text);
	p = build_dir(path, EGRESS_OUTBOUND_REGISTRY_ONLY);
	assert_non_null(p);

	/* the /32 lists other TCP ports: it, not the /24, and its TCP ports */
	expect(p, "192.0.2.7", 22, IPPROTO_TCP, false, POLICY_EXPLAIN_NO_PORT,
	       "22 is not a port of ServiceEntry ns/host (192.0.2.7/32 lists 443/tcp, 8443/tcp)",
	       &e);
	/* port 53 is the host's in UDP: the protocol is what is missing */
	expect(p, "192.0.2.7", 53, IPPROTO_TCP, false, POLICY_EXPLAIN_NO_PROTO,
	       "tcp is not a protocol of port 53 of ServiceEntry ns/host (192.0.2.7/32 lists "
	       "53/udp)",
	       &e);
	/* port 80 on the /32 is the /24's: allowed */
	expect(p, "192.0.2.7", 80, IPPROTO_TCP, true, POLICY_EXPLAIN_MATCH,
	       "allowed by ServiceEntry ns/wide: 192.0.2.0/24 port 80/tcp", &e);
	/* no rule lists it: of port 5432/tcp, the /26 shares most bits */
	expect(p, "198.51.100.1", 5432, IPPROTO_TCP, false, POLICY_EXPLAIN_NO_ADDRESS,
	       "no ServiceEntry lists 198.51.100.1; the closest is ServiceEntry ns/pg "
	       "(198.51.100.64/26 port 5432/tcp)",
	       &e);
	/* of another port and protocol: the nearest address, whatever its port */
	k = test_key("192.0.3.1", 9999, IPPROTO_UDP);
	assert_int_equal(policy_closest_rule(p, &k, &c), POLICY_EXPLAIN_NO_ADDRESS);
	assert_string_equal(p->rules[c].name, "ns/wide");
	policy_free(p);

	snprintf(path, sizeof(path), "%s/empty", tmp);
	assert_int_equal(mkdir(path, 0755), 0);
	p = build_dir(path, EGRESS_OUTBOUND_REGISTRY_ONLY);
	assert_non_null(p);
	expect(p, "192.0.2.7", 22, IPPROTO_TCP, false, POLICY_EXPLAIN_NO_ADDRESS,
	       "no ServiceEntry lists 192.0.2.7; the policy has no rules", &e);
	assert_int_equal(e.closest, POLICY_NO_RULE);
	policy_free(p);
}

/* --------------------------------------------- randomized agreement */

#define RAND_POLICIES 40
#define RAND_KEYS     2048
#define BURST         32 /* DP_BURST_MAX: the workers classify bursts */

/* The longest prefix that lists the key, by a walk of every rule. */
static int
reference_prefix(const struct policy *p, const struct flow_key *k)
{
	uint32_t dst = ntohl(k->dst_ip), i;
	int best = -1;

	for (i = 0; i < p->n_rules; i++) {
		const struct policy_rule *r = &p->rules[i];
		uint32_t mask = r->prefix_len ? ~UINT32_C(0) << (32 - r->prefix_len) : 0;

		if ((dst & mask) == r->dst_ip && r->port == ntohs(k->dst_port) &&
		    r->proto == k->proto && (int)r->prefix_len > best)
			best = r->prefix_len;
	}
	return best;
}

/*
 * policy_near_miss() through the compiled index names the rule the linear
 * walk of every rule names, for the same reason.
 */
static void
assert_near_miss_agrees(struct policy *p, const struct flow_key *k)
{
	struct policy_near *near = p->near;
	enum policy_explain_why why_idx, why_lin;
	uint32_t r_idx, r_lin;

	assert_true(p->n_rules == 0 || near != NULL);
	why_idx = policy_near_miss(p, k, &r_idx);
	p->near = NULL;
	why_lin = policy_near_miss(p, k, &r_lin);
	p->near = near;
	assert_int_equal(why_idx, why_lin);
	assert_int_equal(r_idx, r_lin);
}

/* A rule's name for the operator: "ServiceEntry/NS/NAME", "default" without one. */
static void
test_rule_label(void **state)
{
	struct policy_rule r = { .name = "redis-serviceentry" };
	char buf[POLICY_LABEL_MAX];

	(void)state;
	assert_string_equal(policy_rule_label(&r, buf, sizeof(buf)),
			    "ServiceEntry/default/redis-serviceentry");
	r.name = "cart/redis";
	assert_string_equal(policy_rule_label(&r, buf, sizeof(buf)), "ServiceEntry/cart/redis");
}

static void
test_random_agreement(void **state)
{
	static struct flow_key keys[RAND_KEYS];
	static uint32_t dp_rule[RAND_KEYS];
	char path[128];
	unsigned int n, i, allowed = 0, denied = 0, kinds[5] = { 0 };

	(void)state;
	srand(13);
	snprintf(path, sizeof(path), "%s/random.yaml", tmp);
	for (n = 0; n < RAND_POLICIES; n++) {
		enum egress_outbound ob =
			n % 4 == 3 ? EGRESS_OUTBOUND_ALLOW_ANY : EGRESS_OUTBOUND_REGISTRY_ONLY;
		struct policy *p;

		assert_int_equal(random_policy_write(path), 0);
		p = build_dir(path, ob);
		assert_non_null(p);
		for (i = 0; i < RAND_KEYS; i++) {
			keys[i] = (struct flow_key){
				.src_ip = htonl(0x0a080000u | (uint32_t)(rand() & 0xffff)),
				.dst_ip = htonl(rand_probe_addr()),
				.src_port = htons((uint16_t)(1024 + rand() % 60000)),
				.dst_port = htons(rand_port()),
				.proto = rand_proto(),
			};
		}
		/* the data path: bursts, as stage_flows() hands them over */
		for (i = 0; i < RAND_KEYS; i += BURST) {
			const struct flow_key *kp[BURST];
			unsigned int j;

			for (j = 0; j < BURST; j++)
				kp[j] = &keys[i + j];
			policy_classify_bulk(p, kp, BURST, &dp_rule[i]);
		}
		for (i = 0; i < RAND_KEYS; i++) {
			struct policy_explanation e;
			bool dp_allow =
				dp_rule[i] != POLICY_NO_RULE || ob == EGRESS_OUTBOUND_ALLOW_ANY;
			int ref = reference_prefix(p, &keys[i]);
			uint32_t dst = ntohl(keys[i].dst_ip);

			policy_explain(p, &keys[i], &e);
			assert_near_miss_agrees(p, &keys[i]);
			assert_int_equal(e.allow, dp_allow);
			assert_int_equal(e.rule, dp_rule[i]);
			assert_int_equal(ref >= 0, dp_rule[i] != POLICY_NO_RULE);
			if (ref >= 0)
				assert_int_equal(p->rules[dp_rule[i]].prefix_len, ref);
			kinds[e.why]++;
			e.allow ? allowed++ : denied++;
			if (e.allow)
				continue;
			/* what the sentence claims of the closest rule holds */
			if (e.why == POLICY_EXPLAIN_NO_ADDRESS) {
				uint32_t r;

				for (r = 0; r < p->n_rules; r++) {
					uint32_t m =
						p->rules[r].prefix_len ?
							~UINT32_C(0)
								<< (32 - p->rules[r].prefix_len) :
							0;

					assert_int_not_equal(dst & m, p->rules[r].dst_ip);
				}
			} else {
				const struct policy_rule *c = &p->rules[e.closest];
				uint32_t m = ~UINT32_C(0) << (32 - c->prefix_len);

				assert_int_equal(dst & m, c->dst_ip);
				if (e.why == POLICY_EXPLAIN_NO_PROTO) {
					assert_int_equal(c->port, ntohs(keys[i].dst_port));
					assert_int_not_equal(c->proto, keys[i].proto);
				} else {
					assert_int_not_equal(c->port, ntohs(keys[i].dst_port));
				}
			}
		}
		policy_free(p);
	}
	/* the draw reached every verdict and every kind of deny */
	fprintf(stderr, "allowed %u denied %u; match %u any %u port %u proto %u address %u\n",
		allowed, denied, kinds[0], kinds[1], kinds[2], kinds[3], kinds[4]);
	for (i = 0; i < 5; i++)
		assert_true(kinds[i] > 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memorystore),
		cmocka_unit_test(test_closest),
		cmocka_unit_test(test_random_agreement),
		cmocka_unit_test(test_rule_label),
	};

	if (test_eal_init("explain") < 0)
		return 1;
	return cmocka_run_group_tests(tests, tmp_setup, tmp_teardown);
}
