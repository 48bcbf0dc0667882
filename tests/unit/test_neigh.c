/* SPDX-License-Identifier: BSD-3-Clause */
/* Neighbour cache: learn, resolve with retries on a fake clock, failure, refresh. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "test_common.h"

#include <rte_byteorder.h>
#include <rte_memory.h>

#include "neigh.h"

#define IP(a, b, c, d) RTE_BE32(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((c) << 8) | (d))

static const uint8_t mac_a[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a };
static const uint8_t mac_b[6] = { 0x02, 0xfe, 0xdc, 0xba, 0x98, 0x76 };

struct requests {
	unsigned int n;
	uint32_t last_ip;
};

static void
on_request(void *arg, uint32_t ip)
{
	struct requests *r = arg;

	r->n++;
	r->last_ip = ip;
}

static struct neigh_table *
make_table(const char *name, uint32_t capacity)
{
	struct neigh_table *nt = neigh_create(name, capacity, SOCKET_ID_ANY);

	assert_non_null(nt);
	return nt;
}

static void
test_create_args(void **state)
{
	struct neigh_table *nt;

	(void)state;
	neigh_free(NULL);
	assert_null(neigh_create(NULL, 8, 0));
	assert_int_equal(rte_errno, EINVAL);
	assert_null(neigh_create("nb_zero", 0, 0));
	assert_int_equal(rte_errno, EINVAL);
	assert_null(neigh_create("a_name_much_longer_than_the_limit", 8, 0));
	assert_int_equal(rte_errno, EINVAL);
	nt = make_table("nb_args", 8);
	assert_null(neigh_create("nb_args", 8, 0));
	assert_int_equal(rte_errno, EEXIST);
	neigh_free(nt);
}

static void
test_learn_lookup(void **state)
{
	struct neigh_table *nt = make_table("nb_learn", 16);
	const uint32_t a = IP(10, 8, 0, 2), b = IP(10, 8, 0, 3);
	uint8_t mac[6] = { 0 };

	(void)state;
	assert_false(neigh_lookup(nt, a, mac));
	assert_int_equal(neigh_state(nt, a), -ENOENT);
	assert_int_equal(neigh_learn(nt, a, mac_a, 100), 0);
	assert_true(neigh_lookup(nt, a, mac));
	assert_memory_equal(mac, mac_a, 6);
	assert_int_equal(neigh_state(nt, a), NEIGH_REACHABLE);
	assert_false(neigh_lookup(nt, b, mac));
	/* The host moved: the new MAC replaces the old one. */
	assert_int_equal(neigh_learn(nt, a, mac_b, 200), 0);
	assert_true(neigh_lookup(nt, a, mac));
	assert_memory_equal(mac, mac_b, 6);
	neigh_free(nt);
}

static void
test_resolve_retries_fail(void **state)
{
	struct neigh_table *nt = make_table("nb_resolve", 16);
	const uint32_t ip = IP(203, 0, 113, 1);
	struct requests rq = { 0 };
	uint8_t mac[6];

	(void)state;
	assert_int_equal(neigh_resolve(nt, ip, 1000, on_request, &rq), 0);
	assert_int_equal(rq.n, 1);
	assert_int_equal(rq.last_ip, ip);
	assert_int_equal(neigh_state(nt, ip), NEIGH_INCOMPLETE);
	assert_false(neigh_lookup(nt, ip, mac));
	/* More misses from workers while pending: no more requests. */
	assert_int_equal(neigh_resolve(nt, ip, 1010, on_request, &rq), 0);
	assert_int_equal(neigh_resolve(nt, ip, 1999, on_request, &rq), 0);
	assert_int_equal(rq.n, 1);

	/* Retries every NEIGH_RETRY_MS, NEIGH_RETRIES requests in all. */
	neigh_tick(nt, 1000 + NEIGH_RETRY_MS - 1, on_request, &rq);
	assert_int_equal(rq.n, 1);
	for (unsigned int i = 1; i < NEIGH_RETRIES; i++) {
		neigh_tick(nt, 1000 + i * NEIGH_RETRY_MS, on_request, &rq);
		assert_int_equal(rq.n, i + 1);
		neigh_tick(nt, 1000 + i * NEIGH_RETRY_MS + 10, on_request, &rq);
		assert_int_equal(rq.n, i + 1);
		assert_int_equal(neigh_state(nt, ip), NEIGH_INCOMPLETE);
	}
	/* The last request unanswered for NEIGH_RETRY_MS: FAILED, no new request. */
	const uint64_t failed_at = 1000 + NEIGH_RETRIES * NEIGH_RETRY_MS;

	neigh_tick(nt, failed_at - 1, on_request, &rq);
	assert_int_equal(neigh_state(nt, ip), NEIGH_INCOMPLETE);
	neigh_tick(nt, failed_at, on_request, &rq);
	assert_int_equal(neigh_state(nt, ip), NEIGH_FAILED);
	assert_int_equal(rq.n, NEIGH_RETRIES);
	assert_false(neigh_lookup(nt, ip, mac));
	neigh_tick(nt, failed_at + 10 * NEIGH_RETRY_MS, on_request, &rq);
	assert_int_equal(rq.n, NEIGH_RETRIES);

	/* Hold-down: within NEIGH_RETRY_MS of the failure, a resolve sends nothing. */
	const uint64_t f = failed_at;

	assert_int_equal(neigh_resolve(nt, ip, f + NEIGH_RETRY_MS - 1, on_request, &rq), 0);
	assert_int_equal(rq.n, NEIGH_RETRIES);
	assert_int_equal(neigh_state(nt, ip), NEIGH_FAILED);
	/* After the hold-down: a new resolution, with its own retries. */
	assert_int_equal(neigh_resolve(nt, ip, f + NEIGH_RETRY_MS, on_request, &rq), 0);
	assert_int_equal(rq.n, NEIGH_RETRIES + 1);
	assert_int_equal(neigh_state(nt, ip), NEIGH_INCOMPLETE);
	neigh_tick(nt, f + 2 * NEIGH_RETRY_MS, on_request, &rq);
	assert_int_equal(rq.n, NEIGH_RETRIES + 2);
	/* An answer ends it. */
	assert_int_equal(neigh_learn(nt, ip, mac_a, f + 2 * NEIGH_RETRY_MS + 5), 0);
	assert_int_equal(neigh_state(nt, ip), NEIGH_REACHABLE);
	assert_true(neigh_lookup(nt, ip, mac));
	assert_memory_equal(mac, mac_a, 6);
	neigh_tick(nt, f + 10 * NEIGH_RETRY_MS, on_request, &rq);
	assert_int_equal(rq.n, NEIGH_RETRIES + 2);
	/* Resolve of a reachable entry (a worker raced the learn): nothing. */
	assert_int_equal(neigh_resolve(nt, ip, f + 10 * NEIGH_RETRY_MS, on_request, &rq), 0);
	assert_int_equal(rq.n, NEIGH_RETRIES + 2);
	neigh_free(nt);
}

static void
test_refresh(void **state)
{
	struct neigh_table *nt = make_table("nb_refresh", 16);
	const uint32_t ip = IP(203, 0, 113, 1);
	struct requests rq = { 0 };
	uint8_t mac[6];
	uint64_t t;

	(void)state;
	assert_int_equal(neigh_learn(nt, ip, mac_a, 0), 0);
	neigh_tick(nt, NEIGH_REFRESH_MS - 1, on_request, &rq);
	assert_int_equal(rq.n, 0);
	neigh_tick(nt, NEIGH_REFRESH_MS, on_request, &rq);
	assert_int_equal(rq.n, 1);
	assert_int_equal(rq.last_ip, ip);
	/* Meanwhile the old MAC is still used. */
	assert_int_equal(neigh_state(nt, ip), NEIGH_REACHABLE);
	assert_true(neigh_lookup(nt, ip, mac));
	assert_memory_equal(mac, mac_a, 6);
	/* Answered: no retry, next refresh NEIGH_REFRESH_MS after the answer. */
	t = NEIGH_REFRESH_MS + 100;
	assert_int_equal(neigh_learn(nt, ip, mac_a, t), 0);
	neigh_tick(nt, t + NEIGH_RETRY_MS, on_request, &rq);
	neigh_tick(nt, t + NEIGH_REFRESH_MS - 1, on_request, &rq);
	assert_int_equal(rq.n, 1);
	t += NEIGH_REFRESH_MS;
	neigh_tick(nt, t, on_request, &rq);
	assert_int_equal(rq.n, 2);
	/* Not answered: retried, then FAILED and the MAC withdrawn. */
	for (unsigned int i = 1; i < NEIGH_RETRIES; i++) {
		neigh_tick(nt, t + i * NEIGH_RETRY_MS, on_request, &rq);
		assert_int_equal(rq.n, 2 + i);
		assert_true(neigh_lookup(nt, ip, mac));
	}
	neigh_tick(nt, t + NEIGH_RETRIES * NEIGH_RETRY_MS, on_request, &rq);
	assert_int_equal(rq.n, 1 + NEIGH_RETRIES);
	assert_int_equal(neigh_state(nt, ip), NEIGH_FAILED);
	assert_false(neigh_lookup(nt, ip, mac));
	/* An unsolicited answer brings it back at once. */
	assert_int_equal(neigh_learn(nt, ip, mac_b, t + 10 * NEIGH_RETRY_MS), 0);
	assert_true(neigh_lookup(nt, ip, mac));
	assert_memory_equal(mac, mac_b, 6);
	neigh_free(nt);
}

static void
test_static_entry(void **state)
{
	struct neigh_table *nt = make_table("nb_static", 16);
	const uint32_t ip = IP(203, 0, 113, 1);
	struct requests rq = { 0 };
	uint8_t mac[6];

	(void)state;
	assert_int_equal(neigh_add_static(nt, ip, mac_a), 0);
	assert_true(neigh_lookup(nt, ip, mac));
	assert_memory_equal(mac, mac_a, 6);
	/* ARP cannot move it, time does not age it, a miss does not ask */
	assert_int_equal(neigh_learn(nt, ip, mac_b, 5), 0);
	assert_int_equal(neigh_resolve(nt, ip, 10, on_request, &rq), 0);
	neigh_tick(nt, 100 * NEIGH_REFRESH_MS, on_request, &rq);
	assert_int_equal(rq.n, 0);
	assert_true(neigh_lookup(nt, ip, mac));
	assert_memory_equal(mac, mac_a, 6);
	assert_int_equal(neigh_state(nt, ip), NEIGH_REACHABLE);
	neigh_free(nt);
}

static void
test_capacity(void **state)
{
	struct neigh_table *nt = make_table("nb_cap", 4);
	struct requests rq = { 0 };
	uint8_t mac[6];

	(void)state;
	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(neigh_learn(nt, IP(10, 8, 0, 10 + i), mac_a, 0), 0);
	assert_int_equal(neigh_resolve(nt, IP(10, 8, 0, 20), 0, on_request, &rq), 0);
	assert_int_equal(rq.n, 1);
	/* Full: neither a learn nor a resolve of a new address fits. */
	assert_int_equal(neigh_learn(nt, IP(10, 8, 0, 30), mac_a, 0), -ENOSPC);
	assert_int_equal(neigh_resolve(nt, IP(10, 8, 0, 31), 0, on_request, &rq), -ENOSPC);
	assert_int_equal(rq.n, 1);
	assert_false(neigh_lookup(nt, IP(10, 8, 0, 30), mac));
	assert_int_equal(neigh_state(nt, IP(10, 8, 0, 31)), -ENOENT);
	/* Known addresses still update. */
	assert_int_equal(neigh_learn(nt, IP(10, 8, 0, 20), mac_b, 5), 0);
	assert_int_equal(neigh_learn(nt, IP(10, 8, 0, 10), mac_b, 5), 0);
	assert_true(neigh_lookup(nt, IP(10, 8, 0, 20), mac));
	assert_memory_equal(mac, mac_b, 6);
	neigh_free(nt);

	/* A larger table is filled to exactly its capacity. */
	nt = make_table("nb_cap2", 1000);
	for (uint32_t i = 0; i < 1000; i++)
		assert_int_equal(neigh_learn(nt, IP(10, 9, i >> 8, i & 0xff), mac_a, 0), 0);
	assert_int_equal(neigh_learn(nt, IP(10, 10, 0, 1), mac_a, 0), -ENOSPC);
	for (uint32_t i = 0; i < 1000; i++)
		assert_true(neigh_lookup(nt, IP(10, 9, i >> 8, i & 0xff), mac));
	neigh_free(nt);
}

/* A worker thread never sees a torn MAC while the control thread flips it. */
struct flip {
	struct neigh_table *nt;
	volatile bool started, stop;
	volatile uint64_t seen;
	uint64_t torn;
};

static void *
flip_reader(void *arg)
{
	struct flip *f = arg;
	uint8_t mac[6];

	f->started = true;
	while (!f->stop) {
		if (!neigh_lookup(f->nt, IP(10, 8, 0, 1), mac))
			continue;
		f->seen++;
		if (memcmp(mac, mac_a, 6) != 0 && memcmp(mac, mac_b, 6) != 0)
			f->torn++;
	}
	return NULL;
}

static void
test_concurrent_lookup(void **state)
{
	struct flip f = { 0 };
	pthread_t th;
	pthread_attr_t attr;
	cpu_set_t cpus;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	time_t deadline = time(NULL) + 20;

	(void)state;
	f.nt = make_table("nb_flip", 64);
	assert_int_equal(neigh_learn(f.nt, IP(10, 8, 0, 1), mac_a, 0), 0);
	/* EAL pinned this thread to lcore 0: run the reader on the other CPUs. */
	CPU_ZERO(&cpus);
	for (long c = ncpu > 1 ? 1 : 0; c < ncpu && c < CPU_SETSIZE; c++)
		CPU_SET(c, &cpus);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	assert_int_equal(pthread_create(&th, &attr, flip_reader, &f), 0);
	pthread_attr_destroy(&attr);
	while (!f.started)
		sched_yield();
	/* Enough flips, and enough lookups among them (a busy host runs slowly). */
	for (uint32_t i = 0; (i < 200000 || f.seen < 100000) && time(NULL) < deadline; i++) {
		assert_int_equal(neigh_learn(f.nt, IP(10, 8, 0, 1), i & 1 ? mac_a : mac_b, i), 0);
		/* New entries appear meanwhile (the hash moves keys around). */
		if (i % 4000 == 0 && i / 4000 < 48)
			assert_int_equal(neigh_learn(f.nt, IP(10, 8, 1, i / 4000), mac_a, i), 0);
	}
	f.stop = true;
	pthread_join(th, NULL);
	printf("lookups %" PRIu64 ", torn %" PRIu64 "\n", f.seen, f.torn);
	assert_int_equal(f.torn, 0);
	assert_true(f.seen > 0);
	neigh_free(f.nt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_args),
		cmocka_unit_test(test_learn_lookup),
		cmocka_unit_test(test_resolve_retries_fail),
		cmocka_unit_test(test_refresh),
		cmocka_unit_test(test_static_entry),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_concurrent_lookup),
	};

	if (test_eal_init("neigh") < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
