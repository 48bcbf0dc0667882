/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy publication and reclamation (lib/ctl): a published policy's
 * predecessor is freed exactly once, and never while a worker that loaded it
 * has not yet passed a quiescent state. policy_free() is wrapped at link
 * time (-Wl,--wrap=policy_free) to observe every reclamation.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "test_common.h"

#include "ctl.h"
#include "dp.h"
#include "policy.h"

void __real_policy_free(struct policy *p);
void __wrap_policy_free(struct policy *p);

static uint32_t freed[16];   /* generations, in the order freed */
static unsigned int n_freed;

void
__wrap_policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	if (n_freed < RTE_DIM(freed))
		freed[n_freed] = p->generation;
	__atomic_add_fetch(&n_freed, 1, __ATOMIC_SEQ_CST);
	free(p->rules);
	free(p->rule_flows);
	free(p->rule_carried);
	free(p); /* the test's policies are built by hand */
}

static struct policy *
fake_policy(uint32_t gen)
{
	struct policy *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->generation = gen;
	return p;
}

struct fixture {
	struct rte_rcu_qsbr *qsbr;
	struct dp_conf conf;
	struct ctl c;
};

static struct fixture fx;

static int
setup(void **state)
{
	size_t sz = rte_rcu_qsbr_get_memsize(2);

	(void)state;
	memset(&fx, 0, sizeof(fx));
	fx.qsbr = rte_zmalloc("qsbr", sz, RTE_CACHE_LINE_SIZE);
	assert_non_null(fx.qsbr);
	assert_int_equal(rte_rcu_qsbr_init(fx.qsbr, 2), 0);
	assert_int_equal(rte_rcu_qsbr_thread_register(fx.qsbr, 0), 0);
	fx.c.conf = &fx.conf;
	fx.c.qsbr = fx.qsbr;
	n_freed = 0;
	memset(freed, 0, sizeof(freed));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	__wrap_policy_free(fx.conf.policy);
	rte_free(fx.qsbr);
	return 0;
}

static void
test_first_publish_frees_nothing(void **state)
{
	struct policy *p1 = fake_policy(1);
	(void)state;

	ctl_publish(&fx.c, p1);
	assert_ptr_equal(dp_policy(&fx.conf), p1);
	assert_int_equal(fx.c.generation, 1);
	assert_int_equal(n_freed, 0);
}

/* A "worker": online, loads the policy, holds it until told, then quiescent. */
struct reader {
	volatile int go_quiescent;
	volatile int holding;
	const struct policy *seen;
};

static void *
reader_main(void *arg)
{
	struct reader *r = arg;

	rte_rcu_qsbr_thread_online(fx.qsbr, 0);
	r->seen = dp_policy(&fx.conf);
	__atomic_store_n(&r->holding, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&r->go_quiescent, __ATOMIC_SEQ_CST))
		;
	/* still using it: read a field the free would poison */
	assert_int_equal(r->seen->generation, 1);
	rte_rcu_qsbr_quiescent(fx.qsbr, 0);
	rte_rcu_qsbr_thread_offline(fx.qsbr, 0);
	return NULL;
}

struct publisher {
	struct policy *p;
	volatile int done;
};

static void *
publisher_main(void *arg)
{
	struct publisher *pub = arg;

	ctl_publish(&fx.c, pub->p);
	__atomic_store_n(&pub->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void
test_old_policy_outlives_its_readers(void **state)
{
	struct policy *p1 = fake_policy(1), *p2 = fake_policy(2), *p3 = fake_policy(3);
	struct timespec ms100 = { .tv_sec = 0, .tv_nsec = 100 * 1000 * 1000 };
	struct reader r = { 0 };
	struct publisher pub = { .p = p2 };
	pthread_t rt, pt;
	(void)state;

	ctl_publish(&fx.c, p1);
	assert_int_equal(pthread_create(&rt, NULL, reader_main, &r), 0);
	while (!__atomic_load_n(&r.holding, __ATOMIC_SEQ_CST))
		;
	assert_ptr_equal(r.seen, p1);

	assert_int_equal(pthread_create(&pt, NULL, publisher_main, &pub), 0);
	nanosleep(&ms100, NULL);
	/* published at once, but p1 is still held: not freed, publish waits */
	assert_ptr_equal(dp_policy(&fx.conf), p2);
	assert_int_equal(__atomic_load_n(&n_freed, __ATOMIC_SEQ_CST), 0);
	assert_int_equal(__atomic_load_n(&pub.done, __ATOMIC_SEQ_CST), 0);

	__atomic_store_n(&r.go_quiescent, 1, __ATOMIC_SEQ_CST);
	assert_int_equal(pthread_join(pt, NULL), 0);
	assert_int_equal(pthread_join(rt, NULL), 0);
	assert_int_equal(n_freed, 1);
	assert_int_equal(freed[0], 1);

	/* an offline reader does not hold anything: the next publish frees p2 */
	ctl_publish(&fx.c, p3);
	assert_int_equal(n_freed, 2);
	assert_int_equal(freed[1], 2);
	assert_int_equal(fx.c.generation, 3);
}

static void
test_many_publishes_free_each_once(void **state)
{
	struct policy *ps[10];
	unsigned int i, j;
	(void)state;

	for (i = 0; i < RTE_DIM(ps); i++) {
		ps[i] = fake_policy(i + 1);
		ctl_publish(&fx.c, ps[i]);
	}
	assert_int_equal(n_freed, RTE_DIM(ps) - 1);
	for (i = 0; i + 1 < RTE_DIM(ps); i++) {
		unsigned int seen = 0;

		for (j = 0; j < n_freed; j++)
			seen += freed[j] == i + 1;
		assert_int_equal(seen, 1);
	}
	assert_int_equal(dp_policy(&fx.conf)->generation, RTE_DIM(ps));
}

static struct policy *
policy_with_rules(uint32_t gen, const char *const *names, uint16_t *ports, uint32_t n)
{
	struct policy *p = fake_policy(gen);
	uint32_t i;

	p->rules = calloc(n, sizeof(*p->rules));
	assert_non_null(p->rules);
	p->n_rules = n;
	for (i = 0; i < n; i++) {
		p->rules[i].name = names[i];
		p->rules[i].dst_ip = RTE_IPV4(10, 59, 118, 59);
		p->rules[i].prefix_len = 32;
		p->rules[i].port = ports[i];
		p->rules[i].proto = 6;
	}
	assert_int_equal(ctl_attach_counters(&fx.c, p), 0);
	return p;
}

/* Per-rule counters survive a reload for the rules that still exist. */
static void
test_rule_counters_survive_reload(void **state)
{
	static const char *const old_names[] = { "redis", "mongo", "gone" };
	static const char *const new_names[] = { "new", "mongo", "redis" };
	uint16_t old_ports[] = { 6379, 27017, 443 }, new_ports[] = { 80, 27017, 6379 };
	struct policy *p1, *p2, *p3;
	(void)state;

	fx.c.n_workers = 2;
	p1 = policy_with_rules(1, old_names, old_ports, 3);
	ctl_publish(&fx.c, p1);
	p1->rule_flows[0 * p1->rule_stride + 0] = 5;     /* redis, worker 0 */
	p1->rule_flows[1 * p1->rule_stride + 0] = 2;     /* redis, worker 1 */
	p1->rule_flows[1 * p1->rule_stride + 1] = 7;     /* mongo */
	p1->rule_flows[0 * p1->rule_stride + 2] = 9;     /* gone */
	assert_int_equal(ctl_rule_flows(&fx.c, p1, 0), 7);

	p2 = policy_with_rules(2, new_names, new_ports, 3);
	ctl_publish(&fx.c, p2);
	assert_int_equal(ctl_rule_flows(&fx.c, p2, 0), 0);  /* new */
	assert_int_equal(ctl_rule_flows(&fx.c, p2, 1), 7);  /* mongo, carried */
	assert_int_equal(ctl_rule_flows(&fx.c, p2, 2), 7);  /* redis, carried */
	p2->rule_flows[1 * p2->rule_stride + 2] = 1;
	assert_int_equal(ctl_rule_flows(&fx.c, p2, 2), 8);

	/* carried again, with what was counted under generation 2 */
	p3 = policy_with_rules(3, new_names, new_ports, 3);
	ctl_publish(&fx.c, p3);
	assert_int_equal(ctl_rule_flows(&fx.c, p3, 2), 8);
	assert_int_equal(ctl_rule_flows(&fx.c, p3, 1), 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_publish_frees_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_policy_outlives_its_readers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_publishes_free_each_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rule_counters_survive_reload, setup,
						teardown),
	};

	if (test_eal_init("ctl") != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
