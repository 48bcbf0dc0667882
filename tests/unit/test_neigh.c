/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbour cache: learn, resolve with retries on a fake clock, failure,
 * refresh, aging, learning bounds, eviction for answers, deferred slot reuse.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "test_common.h"

#include <rte_byteorder.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_rcu_qsbr.h>

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

/* A distinct MAC per i (a host on the segment, or one a spoofer made up). */
static void
mac_of(uint32_t i, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0x5f;
	mac[2] = (uint8_t)(i >> 24);
	mac[3] = (uint8_t)(i >> 16);
	mac[4] = (uint8_t)(i >> 8);
	mac[5] = (uint8_t)i;
}

static struct neigh_stats
stats(const struct neigh_table *nt)
{
	struct neigh_stats st;

	neigh_stats_get(nt, &st);
	return st;
}

/* The data path needed ip at now and the host answered at now + 1. */
static void
solicit(struct neigh_table *nt, uint32_t ip, const uint8_t mac[6], uint64_t now,
	struct requests *rq)
{
	unsigned int n = rq->n;

	assert_int_equal(neigh_resolve(nt, ip, now, on_request, rq), 0);
	assert_int_equal(rq->n, n + 1);
	assert_int_equal(rq->last_ip, ip);
	assert_int_equal(neigh_learn(nt, ip, mac, now + 1), 0);
	assert_int_equal(neigh_state(nt, ip), NEIGH_REACHABLE);
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

/* A failed resolution is removed once its hold-down is over; nothing is sent. */
static void
test_failed_removed(void **state)
{
	struct neigh_table *nt = make_table("nb_failgc", 16);
	const uint32_t ip = IP(203, 0, 113, 1);
	struct requests rq = { 0 };
	const uint64_t failed_at = NEIGH_RETRIES * NEIGH_RETRY_MS;
	uint64_t t;

	(void)state;
	assert_int_equal(neigh_resolve(nt, ip, 0, on_request, &rq), 0);
	for (t = NEIGH_RETRY_MS; t <= failed_at; t += NEIGH_RETRY_MS)
		neigh_tick(nt, t, on_request, &rq);
	assert_int_equal(neigh_state(nt, ip), NEIGH_FAILED);
	assert_int_equal(stats(nt).entries, 1);
	neigh_tick(nt, failed_at + NEIGH_RETRY_MS - 1, on_request, &rq);
	assert_int_equal(neigh_state(nt, ip), NEIGH_FAILED);
	neigh_tick(nt, failed_at + NEIGH_RETRY_MS, on_request, &rq);
	assert_int_equal(neigh_state(nt, ip), -ENOENT);
	assert_int_equal(rq.n, NEIGH_RETRIES);
	assert_int_equal(stats(nt).entries, 0);
	assert_int_equal(stats(nt).expired, 1);
	/* needed again: a fresh resolution */
	assert_int_equal(neigh_resolve(nt, ip, failed_at + 2 * NEIGH_RETRY_MS, on_request, &rq), 0);
	assert_int_equal(rq.n, NEIGH_RETRIES + 1);
	assert_int_equal(neigh_state(nt, ip), NEIGH_INCOMPLETE);
	neigh_free(nt);
}

/* A solicited entry is asked again while its MAC stays in use. */
static void
test_refresh(void **state)
{
	struct neigh_table *nt = make_table("nb_refresh", 16);
	const uint32_t ip = IP(203, 0, 113, 1);
	struct requests rq = { 0 };
	uint8_t mac[6];
	uint64_t t;

	(void)state;
	solicit(nt, ip, mac_a, 0, &rq); /* confirmed at 1 */
	neigh_tick(nt, NEIGH_REACHABLE_MS, on_request, &rq);
	assert_int_equal(rq.n, 1);
	neigh_tick(nt, 1 + NEIGH_REACHABLE_MS, on_request, &rq);
	assert_int_equal(rq.n, 2);
	assert_int_equal(rq.last_ip, ip);
	/* Meanwhile the old MAC is still used. */
	assert_int_equal(neigh_state(nt, ip), NEIGH_REACHABLE);
	assert_true(neigh_lookup(nt, ip, mac));
	assert_memory_equal(mac, mac_a, 6);
	/* Answered: no retry, next refresh NEIGH_REACHABLE_MS after the answer. */
	t = NEIGH_REACHABLE_MS + 100;
	assert_int_equal(neigh_learn(nt, ip, mac_a, t), 0);
	neigh_tick(nt, t + NEIGH_RETRY_MS, on_request, &rq);
	neigh_tick(nt, t + NEIGH_REACHABLE_MS - 1, on_request, &rq);
	assert_int_equal(rq.n, 2);
	t += NEIGH_REACHABLE_MS;
	neigh_tick(nt, t, on_request, &rq);
	assert_int_equal(rq.n, 3);
	/* Not answered: retried, then FAILED and the MAC withdrawn. */
	for (unsigned int i = 1; i < NEIGH_RETRIES; i++) {
		neigh_tick(nt, t + i * NEIGH_RETRY_MS, on_request, &rq);
		assert_int_equal(rq.n, 3 + i);
		assert_true(neigh_lookup(nt, ip, mac));
	}
	neigh_tick(nt, t + NEIGH_RETRIES * NEIGH_RETRY_MS, on_request, &rq);
	assert_int_equal(rq.n, 2 + NEIGH_RETRIES);
	assert_int_equal(neigh_state(nt, ip), NEIGH_FAILED);
	assert_false(neigh_lookup(nt, ip, mac));
	/* An answer, however late, brings it back at once. */
	assert_int_equal(neigh_learn(nt, ip, mac_b, t + NEIGH_RETRIES * NEIGH_RETRY_MS + 5), 0);
	assert_true(neigh_lookup(nt, ip, mac));
	assert_memory_equal(mac, mac_b, 6);
	assert_int_equal(neigh_state(nt, ip), NEIGH_REACHABLE);
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
	neigh_tick(nt, 100 * NEIGH_REACHABLE_MS, on_request, &rq);
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
	/* Full: a learn of a new address does not fit, and is counted. */
	assert_int_equal(neigh_learn(nt, IP(10, 8, 0, 30), mac_a, 0), -ENOSPC);
	assert_false(neigh_lookup(nt, IP(10, 8, 0, 30), mac));
	assert_int_equal(neigh_state(nt, IP(10, 8, 0, 30)), -ENOENT);
	assert_int_equal(stats(nt).learn_dropped_full, 1);
	assert_int_equal(neigh_learn_dropped(nt), 1);
	/* Known addresses still update. */
	assert_int_equal(neigh_learn(nt, IP(10, 8, 0, 20), mac_b, 5), 0);
	assert_int_equal(neigh_learn(nt, IP(10, 8, 0, 10), mac_b, 5), 0);
	assert_true(neigh_lookup(nt, IP(10, 8, 0, 20), mac));
	assert_memory_equal(mac, mac_b, 6);
	assert_true(neigh_lookup(nt, IP(10, 8, 0, 10), mac));
	assert_memory_equal(mac, mac_b, 6);
	assert_int_equal(stats(nt).entries, 4);
	neigh_free(nt);

	/* A larger table is filled to exactly its capacity (hosts of their own
	 * MAC, no faster than NEIGH_LEARN_RATE). */
	nt = make_table("nb_cap2", 1000);
	for (uint32_t i = 0; i < 1000; i++) {
		mac_of(i, mac);
		assert_int_equal(neigh_learn(nt, IP(10, 9, i >> 8, i & 0xff), mac,
					     i * 1000 / NEIGH_LEARN_RATE),
				 0);
	}
	mac_of(1000, mac);
	assert_int_equal(neigh_learn(nt, IP(10, 10, 0, 1), mac, 1000 * 1000 / NEIGH_LEARN_RATE),
			 -ENOSPC);
	for (uint32_t i = 0; i < 1000; i++) {
		uint8_t want[6];

		mac_of(i, want);
		assert_true(neigh_lookup(nt, IP(10, 9, i >> 8, i & 0xff), mac));
		assert_memory_equal(mac, want, 6);
	}
	neigh_free(nt);
}

/*
 * Aging: an entry unconfirmed for NEIGH_REACHABLE_MS is asked again, its MAC
 * still in use meanwhile; a learned one nobody answers for is removed after
 * NEIGH_RETRIES requests, one that answers stays; a static one stays for good.
 */
static void
test_age(void **state)
{
	struct neigh_table *nt = make_table("nb_age", 16);
	const uint32_t idle = IP(10, 8, 0, 2), chatty = IP(10, 8, 0, 3);
	const uint32_t pinned = IP(10, 8, 0, 4), needed = IP(10, 8, 0, 5);
	const uint64_t t = NEIGH_REACHABLE_MS;
	struct requests rq = { 0 };
	uint8_t mac[6];
	unsigned int i;

	(void)state;
	assert_int_equal(neigh_learn(nt, idle, mac_a, 0), 0);
	assert_int_equal(neigh_learn(nt, chatty, mac_b, 0), 0);
	assert_int_equal(neigh_add_static(nt, pinned, mac_a), 0);
	solicit(nt, needed, mac_b, 10, &rq);                        /* confirmed at 11 */
	assert_int_equal(neigh_learn(nt, chatty, mac_b, 20000), 0); /* the host spoke */

	neigh_tick(nt, t - 1, on_request, &rq);
	assert_int_equal(rq.n, 1);
	neigh_tick(nt, t, on_request, &rq);
	assert_int_equal(rq.n, 2);
	assert_int_equal(rq.last_ip, idle);
	assert_true(neigh_lookup(nt, idle, mac));
	assert_memory_equal(mac, mac_a, 6);
	/* the solicited one likewise, and it answers */
	neigh_tick(nt, t + 11, on_request, &rq);
	assert_int_equal(rq.n, 3);
	assert_int_equal(rq.last_ip, needed);
	assert_true(neigh_lookup(nt, needed, mac));
	assert_int_equal(neigh_learn(nt, needed, mac_b, t + 12), 0);
	for (i = 1; i < NEIGH_RETRIES; i++) {
		neigh_tick(nt, t + i * NEIGH_RETRY_MS, on_request, &rq);
		assert_int_equal(rq.n, 3 + i);
		assert_int_equal(rq.last_ip, idle);
		assert_int_equal(neigh_state(nt, idle), NEIGH_REACHABLE);
	}
	assert_int_equal(rq.n, 2 + NEIGH_RETRIES);
	/* NEIGH_RETRIES requests unanswered: gone, at once, for lookups too */
	neigh_tick(nt, t + NEIGH_RETRIES * NEIGH_RETRY_MS - 1, on_request, &rq);
	assert_int_equal(neigh_state(nt, idle), NEIGH_REACHABLE);
	neigh_tick(nt, t + NEIGH_RETRIES * NEIGH_RETRY_MS, on_request, &rq);
	assert_int_equal(neigh_state(nt, idle), -ENOENT);
	assert_false(neigh_lookup(nt, idle, mac));
	assert_int_equal(rq.n, 2 + NEIGH_RETRIES);
	assert_int_equal(stats(nt).expired, 1);
	assert_int_equal(stats(nt).entries, 3);
	assert_int_equal(neigh_state(nt, needed), NEIGH_REACHABLE);

	/* the chatty one, last heard of at 20000, answers: it stays */
	neigh_tick(nt, 20000 + t - 1, on_request, &rq);
	assert_int_equal(rq.n, 2 + NEIGH_RETRIES);
	neigh_tick(nt, 20000 + t, on_request, &rq);
	assert_int_equal(rq.n, 3 + NEIGH_RETRIES);
	assert_int_equal(rq.last_ip, chatty);
	assert_int_equal(neigh_learn(nt, chatty, mac_b, 20000 + t + 5), 0);
	neigh_tick(nt, 20000 + t + 10 * NEIGH_RETRY_MS, on_request, &rq);
	assert_int_equal(neigh_state(nt, chatty), NEIGH_REACHABLE);
	assert_int_equal(stats(nt).expired, 1);

	neigh_tick(nt, 100 * t, on_request, &rq);
	assert_true(neigh_lookup(nt, pinned, mac));
	assert_memory_equal(mac, mac_a, 6);
	assert_int_equal(neigh_state(nt, pinned), NEIGH_REACHABLE);
	neigh_free(nt);
}

/* One MAC learns at most NEIGH_LEARN_PER_MAC addresses; the rest are counted. */
static void
test_learn_per_mac(void **state)
{
	struct neigh_table *nt = make_table("nb_permac", 256);
	struct requests rq = { 0 };
	uint8_t mac[6];
	uint32_t i;

	(void)state;
	for (i = 0; i < NEIGH_LEARN_PER_MAC; i++)
		assert_int_equal(neigh_learn(nt, IP(10, 8, 1, i), mac_a, 0), 0);
	for (; i < NEIGH_LEARN_PER_MAC + 3; i++) {
		assert_int_equal(neigh_learn(nt, IP(10, 8, 1, i), mac_a, 0), -EDQUOT);
		assert_int_equal(neigh_state(nt, IP(10, 8, 1, i)), -ENOENT);
	}
	assert_int_equal(stats(nt).learn_dropped_mac, 3);
	assert_int_equal(neigh_learn_dropped(nt), 3);
	assert_int_equal(stats(nt).entries, NEIGH_LEARN_PER_MAC);
	/* confirmations of its own addresses are not new entries */
	assert_int_equal(neigh_learn(nt, IP(10, 8, 1, 0), mac_a, 10), 0);
	/* another MAC is not affected */
	assert_int_equal(neigh_learn(nt, IP(10, 8, 2, 0), mac_b, 10), 0);
	/* nor can it move an address to the full MAC */
	assert_int_equal(neigh_learn(nt, IP(10, 8, 2, 0), mac_a, 11), -EDQUOT);
	assert_true(neigh_lookup(nt, IP(10, 8, 2, 0), mac));
	assert_memory_equal(mac, mac_b, 6);
	assert_int_equal(stats(nt).learn_dropped_mac, 4);
	/* the host behind the MAC still gets an address the data path asks for */
	solicit(nt, IP(10, 8, 1, 200), mac_a, 20, &rq);
	/* once its learned entries are gone (nobody answers), the MAC learns again */
	for (i = 0; i <= NEIGH_RETRIES; i++)
		neigh_tick(nt, 11 + NEIGH_REACHABLE_MS + i * NEIGH_RETRY_MS, on_request, &rq);
	assert_int_equal(neigh_state(nt, IP(10, 8, 1, 0)), -ENOENT);
	assert_int_equal(neigh_state(nt, IP(10, 8, 1, 1)), -ENOENT);
	assert_int_equal(neigh_learn(nt, IP(10, 8, 1, 100), mac_a, 20 + 2 * NEIGH_REACHABLE_MS), 0);
	neigh_free(nt);
}

/* At most NEIGH_LEARN_RATE new learned entries per second (burst as many). */
static void
test_learn_rate(void **state)
{
	struct neigh_table *nt = make_table("nb_rate", 1024);
	struct requests rq = { 0 };
	uint32_t i, ok = 0, n = 0;
	uint8_t mac[6];
	uint64_t t = 5000;

	(void)state;
	for (i = 0; i < NEIGH_LEARN_RATE + 5; i++, n++) {
		mac_of(n, mac);
		ok += neigh_learn(nt, IP(10, 8, n >> 8, n & 0xff), mac, t) == 0;
	}
	assert_int_equal(ok, NEIGH_LEARN_RATE);
	assert_int_equal(stats(nt).learn_dropped_rate, 5);
	assert_int_equal(neigh_learn_dropped(nt), 5);
	/* confirmations and answers to requests are not limited */
	mac_of(0, mac);
	assert_int_equal(neigh_learn(nt, IP(10, 8, 0, 0), mac, t), 0);
	solicit(nt, IP(10, 8, 200, 1), mac_a, t, &rq);
	/* half a second later: half the budget */
	t += 500;
	for (i = 0, ok = 0; i < NEIGH_LEARN_RATE; i++, n++) {
		mac_of(n, mac);
		ok += neigh_learn(nt, IP(10, 8, n >> 8, n & 0xff), mac, t) == 0;
	}
	assert_int_equal(ok, NEIGH_LEARN_RATE / 2);
	assert_int_equal(stats(nt).learn_dropped_rate, 5 + NEIGH_LEARN_RATE / 2);
	/* a whole second: the whole budget, no more */
	t += 1000;
	for (i = 0, ok = 0; i < 3 * NEIGH_LEARN_RATE; i++, n++) {
		mac_of(n, mac);
		ok += neigh_learn(nt, IP(10, 8, n >> 8, n & 0xff), mac, t) == 0;
	}
	assert_int_equal(ok, NEIGH_LEARN_RATE);
	assert_int_equal(stats(nt).entries, 2 * NEIGH_LEARN_RATE + NEIGH_LEARN_RATE / 2 + 1);
	neigh_free(nt);
}

/*
 * A table full of learned entries (a host that spoofed sender addresses):
 * a new client the data path needs is still asked for, and its answer takes
 * the place of the least recently confirmed learned entry.
 */
static void
test_full_of_spoofed(void **state)
{
	struct neigh_table *nt = make_table("nb_spoof", 16);
	const uint32_t client = IP(10, 8, 9, 9);
	struct requests rq = { 0 };
	uint8_t mac[6];
	uint32_t i;

	(void)state;
	for (i = 0; i < 16; i++) {
		mac_of(i, mac);
		assert_int_equal(neigh_learn(nt, IP(10, 8, 7, i), mac, 100 + i), 0);
	}
	mac_of(99, mac);
	assert_int_equal(neigh_learn(nt, client, mac, 200), -ENOSPC);
	assert_int_equal(neigh_resolve(nt, client, 300, on_request, &rq), 0);
	assert_int_equal(rq.n, 1);
	assert_int_equal(rq.last_ip, client);
	assert_int_equal(neigh_state(nt, client), NEIGH_INCOMPLETE);
	assert_false(neigh_lookup(nt, client, mac));
	/* the answer gets in */
	assert_int_equal(neigh_learn(nt, client, mac_a, 301), 0);
	assert_int_equal(neigh_state(nt, client), NEIGH_REACHABLE);
	assert_true(neigh_lookup(nt, client, mac));
	assert_memory_equal(mac, mac_a, 6);
	/* in place of the learned entry confirmed longest ago */
	assert_int_equal(neigh_state(nt, IP(10, 8, 7, 0)), -ENOENT);
	for (i = 1; i < 16; i++)
		assert_int_equal(neigh_state(nt, IP(10, 8, 7, i)), NEIGH_REACHABLE);
	assert_int_equal(stats(nt).evicted, 1);
	assert_int_equal(stats(nt).entries, 16);
	neigh_free(nt);
}

/*
 * Which entry an answer evicts: learned ones first (least recently confirmed
 * first), then the solicited one least recently needed; never a static one.
 */
static void
test_evict_order(void **state)
{
	struct neigh_table *nt = make_table("nb_evict", 5);
	const uint32_t l1 = IP(10, 8, 0, 1), s1 = IP(10, 8, 0, 2), s2 = IP(10, 8, 0, 3);
	const uint32_t l2 = IP(10, 8, 0, 4), st = IP(10, 8, 0, 5);
	struct requests rq = { 0 };

	(void)state;
	assert_int_equal(neigh_learn(nt, l1, mac_a, 0), 0);
	solicit(nt, s1, mac_a, 10, &rq);
	solicit(nt, s2, mac_a, 20, &rq);
	assert_int_equal(neigh_learn(nt, l2, mac_b, 30), 0);
	assert_int_equal(neigh_add_static(nt, st, mac_b), 0);
	/* s1 needed again (a worker missed it while it was being refreshed) */
	assert_int_equal(neigh_resolve(nt, s1, 35, on_request, &rq), 0);

	solicit(nt, IP(10, 8, 1, 1), mac_b, 40, &rq);
	assert_int_equal(neigh_state(nt, l1), -ENOENT);
	solicit(nt, IP(10, 8, 1, 2), mac_b, 50, &rq);
	assert_int_equal(neigh_state(nt, l2), -ENOENT);
	solicit(nt, IP(10, 8, 1, 3), mac_b, 60, &rq);
	assert_int_equal(neigh_state(nt, s2), -ENOENT);
	assert_int_equal(neigh_state(nt, s1), NEIGH_REACHABLE);
	solicit(nt, IP(10, 8, 1, 4), mac_b, 70, &rq);
	assert_int_equal(neigh_state(nt, s1), -ENOENT);
	assert_int_equal(neigh_state(nt, st), NEIGH_REACHABLE);
	assert_int_equal(stats(nt).evicted, 4);
	neigh_free(nt);

	/* nothing to evict: the answer is refused, the request stays pending */
	nt = make_table("nb_evict2", 2);
	assert_int_equal(neigh_add_static(nt, l1, mac_a), 0);
	assert_int_equal(neigh_add_static(nt, l2, mac_a), 0);
	assert_int_equal(neigh_resolve(nt, s1, 0, on_request, &rq), 0);
	assert_int_equal(neigh_learn(nt, s1, mac_b, 1), -ENOSPC);
	assert_int_equal(neigh_state(nt, s1), NEIGH_INCOMPLETE);
	assert_int_equal(stats(nt).evicted, 0);
	neigh_free(nt);
}

/* A full table takes NEIGH_PENDING_MAX requests more, not one beyond. */
static void
test_pending_max(void **state)
{
	struct neigh_table *nt = make_table("nb_pending", 4);
	struct requests rq = { 0 };
	uint8_t mac[6];
	uint32_t i;

	(void)state;
	for (i = 0; i < 4; i++) {
		mac_of(i, mac);
		assert_int_equal(neigh_learn(nt, IP(10, 8, 0, i), mac, 0), 0);
	}
	for (i = 0; i < NEIGH_PENDING_MAX; i++)
		assert_int_equal(neigh_resolve(nt, IP(10, 8, 1, i), 0, on_request, &rq), 0);
	assert_int_equal(rq.n, NEIGH_PENDING_MAX);
	assert_int_equal(neigh_resolve(nt, IP(10, 8, 2, 0), 0, on_request, &rq), -ENOSPC);
	assert_int_equal(rq.n, NEIGH_PENDING_MAX);
	assert_int_equal(stats(nt).resolve_dropped, 1);
	assert_int_equal(stats(nt).entries, 4 + NEIGH_PENDING_MAX);
	/* unanswered, they fail and go: room again */
	for (uint64_t t = NEIGH_RETRY_MS; t <= (NEIGH_RETRIES + 1) * NEIGH_RETRY_MS;
	     t += NEIGH_RETRY_MS)
		neigh_tick(nt, t, on_request, &rq);
	assert_int_equal(stats(nt).entries, 4);
	assert_int_equal(neigh_resolve(nt, IP(10, 8, 2, 0), 5000, on_request, &rq), 0);
	neigh_free(nt);
}

/*
 * A deleted entry's slot is not reused before every reader has passed a
 * quiescent state: a worker that found the key's position just before the
 * deletion must not read another address's MAC there.
 */
static void
test_deferred_reuse(void **state)
{
	struct rte_rcu_qsbr *v = test_qsbr(1);
	struct neigh_table *nt = make_table("nb_defer", 4);
	struct requests rq = { 0 };
	uint64_t t = NEIGH_REACHABLE_MS;
	uint8_t mac[6];
	uint32_t i;

	(void)state;
	assert_int_equal(neigh_rcu_qsbr_add(nt, v), 0);
	assert_int_equal(neigh_rcu_qsbr_add(nt, v), -EEXIST);
	/* a reader (this thread stands for it) inside a burst */
	assert_int_equal(rte_rcu_qsbr_thread_register(v, 0), 0);
	rte_rcu_qsbr_thread_online(v, 0);
	/* every slot taken: one learned entry, the rest pending requests */
	assert_int_equal(neigh_learn(nt, IP(10, 8, 0, 1), mac_a, 0), 0);
	for (i = 0; i < NEIGH_RETRIES; i++)
		neigh_tick(nt, t + i * NEIGH_RETRY_MS, on_request, &rq);
	for (i = 0; i < 4 + NEIGH_PENDING_MAX - 1; i++)
		assert_int_equal(neigh_resolve(nt, IP(10, 8, 1, i), t + 2500, on_request, &rq), 0);
	/* the learned one is not answered for: gone for lookups at once ... */
	t += NEIGH_RETRIES * NEIGH_RETRY_MS;
	neigh_tick(nt, t, on_request, &rq);
	assert_int_equal(neigh_state(nt, IP(10, 8, 0, 1)), -ENOENT);
	assert_false(neigh_lookup(nt, IP(10, 8, 0, 1), mac));
	assert_int_equal(stats(nt).entries, 4 + NEIGH_PENDING_MAX - 1);
	assert_int_equal(stats(nt).limbo, 1);
	/* ... but its slot waits for the reader */
	neigh_tick(nt, t + 1, on_request, &rq);
	assert_int_equal(stats(nt).limbo, 1);
	assert_int_equal(neigh_resolve(nt, IP(10, 8, 2, 0), t + 1, on_request, &rq), -ENOSPC);
	rte_rcu_qsbr_quiescent(v, 0);
	assert_int_equal(neigh_resolve(nt, IP(10, 8, 2, 0), t + 2, on_request, &rq), 0);
	assert_int_equal(stats(nt).limbo, 0);
	rte_rcu_qsbr_thread_offline(v, 0);
	rte_rcu_qsbr_thread_unregister(v, 0);
	neigh_free(nt);
	rte_free(v);
}

/*
 * Start a reader thread and wait until it runs. EAL pinned this thread to
 * lcore 0: the reader runs on the other CPUs.
 */
static pthread_t
start_reader(void *(*fn)(void *), void *arg, volatile bool *started)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_attr_t attr;
	cpu_set_t cpus;
	pthread_t th;

	CPU_ZERO(&cpus);
	for (long c = ncpu > 1 ? 1 : 0; c < ncpu && c < CPU_SETSIZE; c++)
		CPU_SET(c, &cpus);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(cpus), &cpus);
	assert_int_equal(pthread_create(&th, &attr, fn, arg), 0);
	pthread_attr_destroy(&attr);
	while (!*started)
		sched_yield();
	return th;
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
	time_t deadline = time(NULL) + 20;

	(void)state;
	f.nt = make_table("nb_flip", 64);
	assert_int_equal(neigh_learn(f.nt, IP(10, 8, 0, 1), mac_a, 0), 0);
	th = start_reader(flip_reader, &f, &f.started);
	/* Enough flips, and enough lookups among them (a busy host runs slowly). */
	for (uint32_t i = 0; (i < 200000 || f.seen < 100000) && time(NULL) < deadline; i++) {
		assert_int_equal(neigh_learn(f.nt, IP(10, 8, 0, 1), i & 1 ? mac_a : mac_b, i), 0);
		/* New entries appear meanwhile (the hash moves keys around). */
		if (i % 4000 == 0 && i / 4000 < 48) {
			uint8_t mac[6];

			mac_of(i / 4000, mac);
			assert_int_equal(neigh_learn(f.nt, IP(10, 8, 1, i / 4000), mac, i), 0);
		}
	}
	f.stop = true;
	pthread_join(th, NULL);
	printf("lookups %" PRIu64 ", torn %" PRIu64 "\n", f.seen, f.torn);
	assert_int_equal(f.torn, 0);
	assert_true(f.seen > 0);
	neigh_free(f.nt);
}

/*
 * Entries deleted and their slots reused under a reader (a QSBR reader that
 * reports a quiescent state between sweeps, as a worker does between bursts):
 * the reader never gets one address's MAC for another.
 */
#define CHURN_HOSTS 32

struct churn {
	struct neigh_table *nt;
	struct rte_rcu_qsbr *v;
	volatile bool started, stop;
	volatile uint64_t seen;
	uint64_t wrong;
};

static void
req_noop(void *arg, uint32_t ip)
{
	(void)arg;
	(void)ip;
}

static void *
churn_reader(void *arg)
{
	struct churn *c = arg;
	uint8_t mac[6], want[6];

	rte_rcu_qsbr_thread_online(c->v, 0);
	c->started = true;
	while (!c->stop) {
		for (uint32_t k = 0; k < CHURN_HOSTS; k++) {
			if (!neigh_lookup(c->nt, IP(10, 9, 0, k), mac))
				continue;
			c->seen++;
			mac_of(k, want);
			if (memcmp(mac, want, 6) != 0)
				c->wrong++;
		}
		rte_rcu_qsbr_quiescent(c->v, 0);
	}
	rte_rcu_qsbr_thread_offline(c->v, 0);
	return NULL;
}

static void
test_concurrent_delete(void **state)
{
	struct churn c = { 0 };
	pthread_t th;
	time_t deadline = time(NULL) + 20;
	uint64_t now = 0, evicted;
	uint8_t mac[6];

	(void)state;
	c.v = test_qsbr(1);
	c.nt = make_table("nb_churn", 8);
	assert_int_equal(neigh_rcu_qsbr_add(c.nt, c.v), 0);
	assert_int_equal(rte_rcu_qsbr_thread_register(c.v, 0), 0);
	th = start_reader(churn_reader, &c, &c.started);
	/* 32 hosts through 8 entries: each answer evicts the oldest */
	for (uint32_t i = 0; (i < 200000 || c.seen < 100000) && time(NULL) < deadline; i++) {
		const uint32_t k = i % CHURN_HOSTS;

		now++;
		mac_of(k, mac);
		if (neigh_resolve(c.nt, IP(10, 9, 0, k), now, req_noop, NULL) == 0)
			(void)neigh_learn(c.nt, IP(10, 9, 0, k), mac, now);
		neigh_tick(c.nt, now, req_noop, NULL);
	}
	c.stop = true;
	pthread_join(th, NULL);
	evicted = stats(c.nt).evicted;
	printf("lookups %" PRIu64 ", wrong %" PRIu64 ", evicted %" PRIu64 "\n", c.seen, c.wrong,
	       evicted);
	assert_int_equal(c.wrong, 0);
	assert_true(c.seen > 0);
	assert_true(evicted > 1000);
	rte_rcu_qsbr_thread_unregister(c.v, 0);
	neigh_free(c.nt);
	rte_free(c.v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_args),
		cmocka_unit_test(test_learn_lookup),
		cmocka_unit_test(test_resolve_retries_fail),
		cmocka_unit_test(test_failed_removed),
		cmocka_unit_test(test_refresh),
		cmocka_unit_test(test_static_entry),
		cmocka_unit_test(test_capacity),
		cmocka_unit_test(test_age),
		cmocka_unit_test(test_learn_per_mac),
		cmocka_unit_test(test_learn_rate),
		cmocka_unit_test(test_full_of_spoofed),
		cmocka_unit_test(test_evict_order),
		cmocka_unit_test(test_pending_max),
		cmocka_unit_test(test_deferred_reuse),
		cmocka_unit_test(test_concurrent_lookup),
		cmocka_unit_test(test_concurrent_delete),
	};

	if (test_eal_init("neigh") < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
