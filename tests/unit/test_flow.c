/* SPDX-License-Identifier: BSD-3-Clause */
/* Flow table: both directions, duplicates, capacity, RCU slot reuse, bulk lookup. */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test_common.h"

#include <rte_byteorder.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "flow.h"

#define IP(a, b, c, d) RTE_BE32(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((c) << 8) | (d))

/* Flow i: client 10.8.x.y:(1024 + i % 50000) -> 10.59.118.59:6379, NAT 203.0.113.10. */
static struct flow_key
out_key(uint32_t i)
{
	struct flow_key k = {
		.src_ip = IP(10, 8, (i >> 8) & 0xff, i & 0xff),
		.dst_ip = IP(10, 59, 118, 59),
		.src_port = rte_cpu_to_be_16((uint16_t)(1024 + i % 50000)),
		.dst_port = rte_cpu_to_be_16(6379),
		.proto = 6,
	};
	return k;
}

static struct flow_key
in_key(uint32_t i)
{
	struct flow_key k = {
		.src_ip = IP(10, 59, 118, 59),
		.dst_ip = IP(203, 0, 113, 10),
		.src_port = rte_cpu_to_be_16(6379),
		.dst_port = rte_cpu_to_be_16((uint16_t)(1024 + i)),
		.proto = 6,
	};
	return k;
}

static struct flow_table *
make_table_ext(uint32_t max, struct rte_rcu_qsbr *v, uint32_t ext_size)
{
	struct flow_table_params p = {
		.max_flows = max,
		.socket_id = SOCKET_ID_ANY,
		.qsbr = v,
		.ext_size = ext_size,
	};
	struct flow_table *ft = flow_table_create(&p);

	assert_non_null(ft);
	return ft;
}

static struct flow_table *
make_table(uint32_t max, struct rte_rcu_qsbr *v)
{
	return make_table_ext(max, v, 0);
}

static struct flow *
add(struct flow_table *ft, uint32_t i)
{
	struct flow_key o = out_key(i), n = in_key(i);
	int err = 0;
	struct flow *f = flow_table_add(ft, &o, &n, &err);

	if (f == NULL)
		fail_msg("add %u: %d", i, err);
	return f;
}

static int
add_err(struct flow_table *ft, uint32_t i)
{
	struct flow_key o = out_key(i), n = in_key(i);
	int err = 0;

	assert_null(flow_table_add(ft, &o, &n, &err));
	return err;
}

static void
test_layout(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct flow_key), 16);
	assert_int_equal(offsetof(struct flow_key, src_ip), 0);
	assert_int_equal(offsetof(struct flow_key, dst_ip), 4);
	assert_int_equal(offsetof(struct flow_key, src_port), 8);
	assert_int_equal(offsetof(struct flow_key, dst_port), 10);
	assert_int_equal(offsetof(struct flow_key, proto), 12);
	/* A flow is one cache line; its extension (TCP tracking, counters) another. */
	assert_int_equal(sizeof(struct flow), 64);
	assert_int_equal(offsetof(struct flow, key), 0);
	assert_true(offsetof(struct flow, last_seen) % 4 == 0);

	struct flow_table *ft = make_table(4, NULL);
	uintptr_t a0 = (uintptr_t)flow_table_at(ft, 0);
	uintptr_t a1 = (uintptr_t)flow_table_at(ft, 1);
	uintptr_t t0 = (uintptr_t)flow_table_ext(ft, flow_table_at(ft, 0));
	uintptr_t t1 = (uintptr_t)flow_table_ext(ft, flow_table_at(ft, 1));

	assert_int_equal(a0 % RTE_CACHE_LINE_SIZE, 0);
	assert_int_equal(a1 - a0, 64);
	/* the extension: half a line by default (TCP tracking), a whole one
	 * asked for (flow logs): never across two lines */
	assert_int_equal(t0 % RTE_CACHE_LINE_SIZE, 0);
	assert_int_equal(t1 - t0, FLOW_EXT_MIN);
	assert_int_equal(flow_table_ext_size(ft), FLOW_EXT_MIN);
	flow_table_free(ft);
	ft = make_table_ext(4, NULL, FLOW_EXT_MAX);
	t0 = (uintptr_t)flow_table_ext(ft, flow_table_at(ft, 0));
	t1 = (uintptr_t)flow_table_ext(ft, flow_table_at(ft, 1));
	assert_int_equal(t0 % RTE_CACHE_LINE_SIZE, 0);
	assert_int_equal(t1 - t0, FLOW_EXT_MAX);
	assert_int_equal(flow_table_ext_size(ft), FLOW_EXT_MAX);
	assert_int_equal(flow_table_index(ft, flow_table_at(ft, 3)), 3);
	assert_null(flow_table_at(ft, 4));
	assert_int_equal(flow_table_capacity(ft), 4);
	flow_table_free(ft);
}

static void
test_create_args(void **state)
{
	struct flow_table_params p = { .max_flows = 8, .socket_id = 0 };
	struct flow_table *ft;

	(void)state;
	flow_table_free(NULL);
	assert_null(flow_table_create(NULL));
	assert_int_equal(rte_errno, EINVAL);
	p.max_flows = 0;
	assert_null(flow_table_create(&p));
	assert_int_equal(rte_errno, EINVAL);
	p.max_flows = FLOW_TABLE_MAX + 1;
	assert_null(flow_table_create(&p));
	assert_int_equal(rte_errno, EINVAL);
	p.max_flows = 8;
	p.ext_size = 48; /* neither half a line nor a line */
	assert_null(flow_table_create(&p));
	assert_int_equal(rte_errno, EINVAL);
	p.ext_size = 0;
	ft = flow_table_create(&p);
	assert_non_null(ft);
	flow_table_free(ft);
}

static void
test_add_lookup(void **state)
{
	struct flow_table *ft = make_table(16, NULL);
	struct flow_key o = out_key(7), n = in_key(7), miss = out_key(8);
	struct flow *f, *g;
	uint8_t dir = 0xee;
	unsigned int i;

	(void)state;
	f = add(ft, 7);
	assert_int_equal(f->in_use, 1);
	assert_memory_equal(&f->key[FLOW_DIR_OUT], &o, sizeof(o));
	assert_memory_equal(&f->key[FLOW_DIR_IN], &n, sizeof(n));
	assert_ptr_equal(flow_table_at(ft, flow_table_index(ft, f)), f);
	/* Every other field zero, the extension too. */
	assert_int_equal(f->last_seen, 0);
	assert_int_equal(f->state, 0);
	assert_int_equal(f->policy_gen, 0);
	for (i = 0; i < flow_table_ext_size(ft); i++)
		assert_int_equal(((const uint8_t *)flow_table_ext(ft, f))[i], 0);

	g = flow_table_lookup(ft, &o, &dir);
	assert_ptr_equal(g, f);
	assert_int_equal(dir, FLOW_DIR_OUT);
	g = flow_table_lookup(ft, &n, &dir);
	assert_ptr_equal(g, f);
	assert_int_equal(dir, FLOW_DIR_IN);
	assert_null(flow_table_lookup(ft, &miss, &dir));
	assert_ptr_equal(flow_table_lookup(ft, &o, NULL), f);
	assert_true(flow_table_contains(ft, &o));
	assert_true(flow_table_contains(ft, &n));
	assert_false(flow_table_contains(ft, &miss));
	assert_int_equal(flow_table_count(ft), 1);

	/* A reused slot comes back zeroed. */
	f->state = 3;
	f->last_seen = 1234;
	((uint8_t *)flow_table_ext(ft, f))[flow_table_ext_size(ft) - 1] = 99;
	flow_table_del(ft, f);
	assert_int_equal(f->in_use, 0);
	assert_int_equal(flow_table_count(ft), 0);
	assert_null(flow_table_lookup(ft, &o, &dir));
	assert_null(flow_table_lookup(ft, &n, &dir));
	flow_table_del(ft, f); /* twice: no effect */
	assert_int_equal(flow_table_count(ft), 0);
	g = add(ft, 7);
	assert_ptr_equal(g, f);
	assert_int_equal(g->state, 0);
	assert_int_equal(g->last_seen, 0);
	assert_int_equal(((uint8_t *)flow_table_ext(ft, g))[flow_table_ext_size(ft) - 1], 0);
	flow_table_free(ft);
}

static void
test_duplicates(void **state)
{
	struct flow_table *ft = make_table(16, NULL);
	struct flow_key o = out_key(1), n = in_key(1), o2 = out_key(2), n2 = in_key(2);
	struct flow *f;
	int err = 0;

	(void)state;
	f = add(ft, 1);
	assert_int_equal(add_err(ft, 1), -EEXIST);
	/* Either key alone already present. */
	assert_null(flow_table_add(ft, &o, &n2, &err));
	assert_int_equal(err, -EEXIST);
	assert_null(flow_table_add(ft, &o2, &n, &err));
	assert_int_equal(err, -EEXIST);
	/* A key that is another flow's key in the other direction. */
	assert_null(flow_table_add(ft, &n, &o2, &err));
	assert_int_equal(err, -EEXIST);
	/* Both keys equal. */
	assert_null(flow_table_add(ft, &o2, &o2, &err));
	assert_int_equal(err, -EEXIST);
	/* Pad bytes must be zero. */
	o2.pad[1] = 1;
	assert_null(flow_table_add(ft, &o2, &n2, &err));
	assert_int_equal(err, -EINVAL);
	/* The failed adds left the original intact and nothing else behind. */
	assert_int_equal(flow_table_count(ft), 1);
	assert_ptr_equal(flow_table_lookup(ft, &o, NULL), f);
	assert_ptr_equal(flow_table_lookup(ft, &n, NULL), f);
	o2.pad[1] = 0;
	assert_false(flow_table_contains(ft, &o2));
	assert_false(flow_table_contains(ft, &n2));
	add(ft, 2);
	assert_int_equal(flow_table_count(ft), 2);
	flow_table_free(ft);
}

static void
test_capacity(void **state)
{
	const uint32_t max = 8;
	struct flow_table *ft = make_table(max, NULL);
	struct flow *f[8];
	uint32_t i;

	(void)state;
	for (i = 0; i < max; i++)
		f[i] = add(ft, i);
	assert_int_equal(flow_table_count(ft), max);
	assert_int_equal(add_err(ft, 100), -ENOSPC);
	/* Without QSBR, deleted slots are free at once. */
	flow_table_del(ft, f[2]);
	flow_table_del(ft, f[5]);
	flow_table_del(ft, f[6]);
	assert_int_equal(flow_table_count(ft), max - 3);
	add(ft, 100);
	add(ft, 101);
	add(ft, 102);
	assert_int_equal(add_err(ft, 103), -ENOSPC);
	/* Round after round, nothing leaks (hash key slots included). */
	for (uint32_t round = 0; round < 1000; round++) {
		for (i = 0; i < max; i++)
			flow_table_del(ft, flow_table_at(ft, i));
		assert_int_equal(flow_table_count(ft), 0);
		for (i = 0; i < max; i++)
			add(ft, round % 2 ? i : 100 + i);
		assert_int_equal(add_err(ft, 1000), -ENOSPC);
	}
	flow_table_free(ft);
}

static void
test_capacity_qsbr(void **state)
{
	const uint32_t max = 4, reader = 1;
	struct rte_rcu_qsbr *v = test_qsbr(4);
	struct flow_table *ft = make_table(max, v);
	struct flow_key o1 = out_key(1), n1 = in_key(1);
	struct flow *f[4], *g;
	uint32_t i, idx;

	(void)state;
	assert_int_equal(rte_rcu_qsbr_thread_register(v, reader), 0);
	rte_rcu_qsbr_thread_online(v, reader);

	for (i = 0; i < max; i++)
		f[i] = add(ft, i);
	assert_int_equal(add_err(ft, 10), -ENOSPC);

	idx = flow_table_index(ft, f[1]);
	flow_table_del(ft, f[1]);
	assert_int_equal(flow_table_count(ft), max - 1);
	/* Gone for lookups at once... */
	assert_null(flow_table_lookup(ft, &o1, NULL));
	assert_null(flow_table_lookup(ft, &n1, NULL));
	/* ...but the reader may still hold it: the slot is not reused. */
	assert_int_equal(add_err(ft, 10), -ENOSPC);
	assert_int_equal(add_err(ft, 10), -ENOSPC);
	assert_int_equal(f[1]->in_use, 0);
	assert_memory_equal(&f[1]->key[FLOW_DIR_IN], &n1, sizeof(n1));
	/* The key itself may be re-added: only the slot waits. */

	rte_rcu_qsbr_quiescent(v, reader);
	g = add(ft, 10);
	assert_int_equal(flow_table_index(ft, g), idx);
	assert_int_equal(add_err(ft, 11), -ENOSPC);

	/* All at once, many rounds: every slot comes back after each grace period. */
	for (uint32_t round = 0; round < 200; round++) {
		for (i = 0; i < max; i++)
			flow_table_del(ft, flow_table_at(ft, i));
		assert_int_equal(flow_table_count(ft), 0);
		assert_int_equal(add_err(ft, 20), -ENOSPC);
		rte_rcu_qsbr_quiescent(v, reader);
		for (i = 0; i < max; i++)
			add(ft, 20 + (round % 3) * 10 + i);
		assert_int_equal(add_err(ft, 99), -ENOSPC);
	}

	/* The owner's per-loop sync starts the grace period of what it deleted;
	 * the reader's next quiescent state ends it. */
	flow_table_del(ft, flow_table_at(ft, 2));
	flow_table_sync(ft);
	assert_int_equal(add_err(ft, 60), -ENOSPC);
	rte_rcu_qsbr_quiescent(v, reader);
	add(ft, 60);

	/* An offline reader holds nothing back. */
	rte_rcu_qsbr_thread_offline(v, reader);
	flow_table_del(ft, flow_table_at(ft, 0));
	add(ft, 50);

	rte_rcu_qsbr_thread_unregister(v, reader);
	flow_table_free(ft);
	rte_free(v);
}

/*
 * Crafted collisions cannot make a chain, and so a lookup, longer than the
 * limit: the flow that would lengthen it is refused like a full table, and
 * flows in other buckets still go in.
 */
/* FT_CHAIN_MAX of lib/flow/flow.c: the longest chain an add may extend. */
#define CHAIN_MAX 24u

static void
test_chain_limit(void **state)
{
	struct flow_table *ft = make_table(4096, NULL);
	uint32_t target = UINT32_MAX, added = 0, i, refused = 0;
	int err = 0;

	(void)state;
	for (i = 0; i < 4000000 && refused == 0; i++) {
		struct flow_key o = out_key(i), n = in_key(i);

		o.src_port = (uint16_t)i;
		o.src_ip = (uint32_t)(i >> 16) + 1;
		n.dst_port = (uint16_t)i;
		n.dst_ip = (uint32_t)(i >> 16) + 1;
		/* keep only out keys that land in one bucket, in keys elsewhere */
		if (target == UINT32_MAX)
			target = flow_key_hash(&o, ft->seed) & ft->head_mask;
		if ((flow_key_hash(&o, ft->seed) & ft->head_mask) != target ||
		    (flow_key_hash(&n, ft->seed) & ft->head_mask) == target)
			continue;
		if (flow_table_add(ft, &o, &n, &err) != NULL) {
			added++;
			continue;
		}
		refused++;
	}
	/* exactly: the CHAIN_MAX-th colliding key got in, the next one did not */
	assert_int_equal(refused, 1);
	assert_int_equal(added, CHAIN_MAX);
	assert_int_equal(err, -ENOSPC);
	assert_int_equal(flow_table_count(ft), CHAIN_MAX);
	add(ft, 1); /* another bucket: fine */
	flow_table_free(ft);
}

static void
test_bulk(void **state)
{
	struct flow_table *ft = make_table(128, NULL);
	struct flow_key keys[64];
	const struct flow_key *kp[64];
	struct flow *flows[64];
	uint8_t dirs[64];
	unsigned int i, expect = 0, hits;

	(void)state;
	for (i = 0; i < 40; i++)
		add(ft, i);
	/* Mixed: out keys, in keys, and misses, in an irregular order. */
	for (i = 0; i < 64; i++) {
		switch (i % 3) {
		case 0:
			keys[i] = out_key((i * 7) % 60);
			break;
		case 1:
			keys[i] = in_key((i * 11) % 60);
			break;
		default:
			keys[i] = out_key(1000 + i);
			break;
		}
		kp[i] = &keys[i];
	}
	for (unsigned int n = 0; n <= 64; n += (n < 8 ? 1 : 7)) {
		memset(flows, 0xa5, sizeof(flows));
		hits = flow_table_lookup_bulk(ft, kp, n, flows, dirs);
		expect = 0;
		for (i = 0; i < n; i++) {
			uint8_t d = 0xee;
			struct flow *f = flow_table_lookup(ft, kp[i], &d);

			assert_ptr_equal(flows[i], f);
			if (f != NULL) {
				expect++;
				assert_int_equal(dirs[i], d);
				assert_memory_equal(&f->key[d], kp[i], sizeof(*kp[i]));
			}
		}
		assert_int_equal(hits, expect);
	}
	assert_true(expect > 10 && expect < 64);
	flow_table_free(ft);
}

static void
test_memory(void **state)
{
	struct rte_rcu_qsbr *v = test_qsbr(2);
	struct flow_table *ft;
	uint64_t plain, rcu;

	(void)state;
	ft = make_table(65536, NULL);
	plain = flow_table_memory(ft);
	flow_table_free(ft);
	ft = make_table(65536, v);
	rcu = flow_table_memory(ft);
	flow_table_free(ft);
	printf("flow table memory, 65536 flows: %" PRIu64 " bytes/flow, %" PRIu64 " with QSBR\n",
	       plain, rcu);
	/* The entry, its extension (TCP tracking: 32), two bucket heads; QSBR
	 * adds a limbo slot: 64 + 32 + 8 + 4 */
	assert_true(plain >= sizeof(struct flow) + FLOW_EXT_MIN + 2 * 4);
	assert_true(rcu >= plain + 4);
	assert_true(rcu <= 112);
	/* with flow logs the extension is a line: 32 more per flow */
	ft = make_table_ext(65536, v, FLOW_EXT_MAX);
	assert_int_equal(flow_table_memory(ft), rcu + FLOW_EXT_MAX - FLOW_EXT_MIN);
	flow_table_free(ft);
	rte_free(v);
}

/*
 * A reader thread looks flows up while the owner adds and deletes them; a
 * flow it finds must carry the key it was found by, until the reader's next
 * quiescent state (the contract: no slot reuse within a grace period).
 */
struct stress {
	struct flow_table *ft;
	struct rte_rcu_qsbr *v;
	volatile bool started, stop;
	volatile uint64_t loops;
	uint64_t found, bad;
};

#define STRESS_KEYS 256

static void *
stress_reader(void *arg)
{
	struct stress *s = arg;
	uint32_t i = 0;

	rte_rcu_qsbr_thread_online(s->v, 1);
	s->started = true;
	while (!s->stop) {
		for (unsigned int j = 0; j < 16; j++, i++) {
			struct flow_key k = (i & 1) ? in_key((i >> 1) % STRESS_KEYS) :
						      out_key((i >> 1) % STRESS_KEYS);
			uint8_t d;
			struct flow *f = flow_table_lookup(s->ft, &k, &d);

			if (f == NULL)
				continue;
			s->found++;
			/* Read again, later: the slot must not be recycled between. */
			for (volatile int spin = 0; spin < 1000; spin++)
				;
			if (memcmp(&f->key[d], &k, sizeof(k)) != 0)
				s->bad++;
		}
		rte_rcu_qsbr_quiescent(s->v, 1);
		s->loops++;
	}
	rte_rcu_qsbr_thread_offline(s->v, 1);
	return NULL;
}

static void
test_concurrent_reader(void **state)
{
	struct stress s = { 0 };
	struct flow *live[STRESS_KEYS] = { 0 };
	pthread_t th;
	uint32_t r = 12345, adds = 0, full = 0;
	time_t deadline = time(NULL) + 20;

	(void)state;
	s.v = test_qsbr(2);
	/* Fewer slots than keys: slots are recycled all the time. */
	s.ft = make_table(64, s.v);
	assert_int_equal(rte_rcu_qsbr_thread_register(s.v, 1), 0);
	/*
	 * EAL pinned this thread to lcore 0, and a new thread inherits that:
	 * give the reader the other CPUs, if any, so that both really run at once.
	 */
	pthread_attr_t attr;
	cpu_set_t cpus;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	CPU_ZERO(&cpus);
	for (long c = ncpu > 1 ? 1 : 0; c < ncpu && c < CPU_SETSIZE; c++)
		CPU_SET(c, &cpus);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	assert_int_equal(pthread_create(&th, &attr, stress_reader, &s), 0);
	pthread_attr_destroy(&attr);
	while (!s.started)
		sched_yield();
	/* Until every slot was reused many times (or time is up on a busy host). */
	while (adds < 64 * 50 && time(NULL) < deadline) {
		uint32_t i;
		int err;

		r = r * 1103515245 + 12345;
		i = (r >> 8) % STRESS_KEYS;
		if (live[i] != NULL) {
			flow_table_del(s.ft, live[i]);
			live[i] = NULL;
			continue;
		}
		struct flow_key o = out_key(i), n = in_key(i);

		live[i] = flow_table_add(s.ft, &o, &n, &err);
		if (live[i] != NULL) {
			adds++;
		} else if (err == -ENOSPC) {
			uint64_t seen = s.loops;

			full++;
			/* Let the reader reach a quiescent state: the slots wait for it. */
			while (s.loops == seen && time(NULL) < deadline)
				sched_yield();
		} else {
			fail_msg("add: %d", err);
		}
	}
	s.stop = true;
	pthread_join(th, NULL);
	printf("stress: %u adds, %u full, reader found %" PRIu64 ", bad %" PRIu64 "\n", adds, full,
	       s.found, s.bad);
	assert_int_equal(s.bad, 0);
	assert_true(adds > 64 * 10);
	rte_rcu_qsbr_thread_unregister(s.v, 1);
	flow_table_free(s.ft);
	rte_free(s.v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),      cmocka_unit_test(test_create_args),
		cmocka_unit_test(test_add_lookup),  cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_capacity),    cmocka_unit_test(test_capacity_qsbr),
		cmocka_unit_test(test_chain_limit), cmocka_unit_test(test_bulk),
		cmocka_unit_test(test_memory),      cmocka_unit_test(test_concurrent_reader),
	};

	if (test_eal_init("flow") < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
