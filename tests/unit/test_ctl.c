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
	free(p); /* the test's policies are bare structs */
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_publish_frees_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_policy_outlives_its_readers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_publishes_free_each_once, setup,
						teardown),
	};

	if (test_eal_init("ctl") != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
