/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT binding: range split, per-destination uniqueness, exhaustion, preserve,
 * pooling, spill; the per-destination counts (nat_dests).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "test_common.h"

#include <rte_byteorder.h>
#include <rte_memory.h>

#include "flow.h"
#include "nat.h"
#include "nat_dests.h"
#include "test_nat_dests.h"

#define IP(a, b, c, d) RTE_BE32(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((c) << 8) | (d))
#define TCP            6

static const uint32_t nat_addr[4] = {
	IP(203, 0, 113, 10),
	IP(203, 0, 113, 11),
	IP(203, 0, 113, 12),
	IP(203, 0, 113, 13),
};

static uint64_t
rnd_next(uint64_t *s)
{
	/* splitmix64: reproducible "random" numbers for the tests. */
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static struct flow_key
client(uint32_t ip, uint16_t port, uint32_t dst, uint16_t dport)
{
	struct flow_key k = {
		.src_ip = ip,
		.dst_ip = dst,
		.src_port = rte_cpu_to_be_16(port),
		.dst_port = rte_cpu_to_be_16(dport),
		.proto = TCP,
	};
	return k;
}

static struct flow_table *
make_table(uint32_t max)
{
	struct flow_table_params p = { .max_flows = max, .socket_id = SOCKET_ID_ANY };
	struct flow_table *ft = flow_table_create(&p);

	assert_non_null(ft);
	return ft;
}

/* Bind and insert, as the data path does; returns the NAT port (host order) or -errno. */
static int
bind_add(const struct nat_range *r, struct flow_table *ft, const struct flow_key *out, uint64_t rnd,
	 struct flow_key *in_out)
{
	struct flow_key in;
	int ret, err;

	ret = nat_bind(r, ft, out, out->dst_ip, out->dst_port, rnd, &in);
	if (ret < 0)
		return ret;
	/* The reply key: destination -> NAT address, same protocol, no pad. */
	assert_int_equal(in.src_ip, out->dst_ip);
	assert_int_equal(in.src_port, out->dst_port);
	assert_int_equal(in.proto, out->proto);
	assert_int_equal(in.pad[0] | in.pad[1] | in.pad[2], 0);
	assert_false(flow_table_contains(ft, &in));
	if (flow_table_add(ft, out, &in, &err) == NULL)
		fail_msg("flow_table_add: %d", err);
	if (in_out != NULL)
		*in_out = in;
	return rte_be_to_cpu_16(in.dst_port);
}

/* The owner of every port is the worker whose share holds it. */
static void
test_owner(void **state)
{
	static const uint16_t ranges[][2] = { { 1024, 65535 }, { 1000, 1009 }, { 5, 7 } };
	unsigned int r, n, w;
	uint32_t p;
	uint16_t lo, hi;

	(void)state;
	for (r = 0; r < 3; r++) {
		for (n = 1; n <= 3; n++) {
			for (w = 0; w < n; w++) {
				assert_int_equal(
					nat_range_split(ranges[r][0], ranges[r][1], n, w, &lo, &hi),
					0);
				for (p = lo; p <= hi; p++)
					assert_int_equal(nat_range_owner(ranges[r][0], ranges[r][1],
									 n, (uint16_t)p),
							 (int)w);
			}
			assert_int_equal(
				nat_range_owner(ranges[r][0], ranges[r][1], n, ranges[r][0] - 1),
				-1);
		}
	}
	assert_int_equal(nat_range_owner(1024, 65535, 4, 1023), -1);
}

static void
test_split(void **state)
{
	static const uint16_t ranges[][2] = {
		{ 1024, 65535 }, { 1000, 1009 }, { 1, 8 }, { 0, 65535 }, { 40000, 40007 },
	};
	uint16_t lo, hi;

	(void)state;
	for (unsigned int r = 0; r < RTE_DIM(ranges); r++) {
		for (unsigned int n = 1; n <= 8; n++) {
			uint32_t next = ranges[r][0], size = ranges[r][1] - ranges[r][0] + 1;

			for (unsigned int w = 0; w < n; w++) {
				assert_int_equal(
					nat_range_split(ranges[r][0], ranges[r][1], n, w, &lo, &hi),
					0);
				/* Contiguous, in order, no overlap, none empty. */
				assert_int_equal(lo, next);
				assert_true(hi >= lo);
				/* Even: every share but the last is size / n. */
				if (w < n - 1)
					assert_int_equal(hi - lo + 1, size / n);
				else
					assert_int_equal(hi - lo + 1, size / n + size % n);
				next = (uint32_t)hi + 1;
			}
			assert_int_equal(next, (uint32_t)ranges[r][1] + 1);
		}
	}
	assert_int_equal(nat_range_split(1000, 1009, 0, 0, &lo, &hi), -EINVAL);
	assert_int_equal(nat_range_split(1000, 1009, 2, 2, &lo, &hi), -EINVAL);
	assert_int_equal(nat_range_split(1000, 1002, 4, 0, &lo, &hi), -EINVAL);
	assert_int_equal(nat_range_split(1009, 1000, 1, 0, &lo, &hi), -EINVAL);
}

static void
test_exhaustion_and_overlap(void **state)
{
	struct flow_table *ft = make_table(256);
	struct nat_range r = { .addrs = nat_addr, .n_addrs = 1, .port_lo = 1000, .port_hi = 1009 };
	const uint32_t redis = IP(10, 59, 118, 59), other = IP(10, 59, 118, 60);
	bool used[10] = { 0 };
	struct flow_key out, in, first_in;
	uint64_t s = 1;
	int port, i;

	(void)state;
	for (i = 0; i < 10; i++) {
		out = client(IP(10, 8, 0, 1 + i), 40000, redis, 6379);
		port = bind_add(&r, ft, &out, rnd_next(&s), &in);
		assert_true(port >= 1000 && port <= 1009);
		assert_false(used[port - 1000]);
		used[port - 1000] = true;
		assert_int_equal(in.dst_ip, nat_addr[0]);
		if (i == 0)
			first_in = in;
	}
	/* All ten ports taken for this destination: exhausted, whatever rnd. */
	out = client(IP(10, 8, 1, 1), 40000, redis, 6379);
	for (i = 0; i < 20; i++)
		assert_int_equal(nat_bind(&r, ft, &out, redis, out.dst_port, rnd_next(&s), &in),
				 -EADDRNOTAVAIL);

	/* Another destination port, or address: all ten ports again. */
	memset(used, 0, sizeof(used));
	for (i = 0; i < 10; i++) {
		out = client(IP(10, 8, 2, 1 + i), 40000, redis, 6380);
		port = bind_add(&r, ft, &out, rnd_next(&s), NULL);
		assert_false(used[port - 1000]);
		used[port - 1000] = true;
	}
	assert_int_equal(nat_bind(&r, ft, &out, redis, rte_cpu_to_be_16(6380), 0, &in),
			 -EADDRNOTAVAIL);
	for (i = 0; i < 10; i++) {
		out = client(IP(10, 8, 3, 1 + i), 40000, other, 6379);
		port = bind_add(&r, ft, &out, rnd_next(&s), NULL);
		assert_true(port >= 1000 && port <= 1009);
	}
	/* And UDP to the first destination is a separate space too. */
	out = client(IP(10, 8, 4, 1), 40000, redis, 6379);
	out.proto = 17;
	assert_int_equal(nat_bind(&r, ft, &out, redis, out.dst_port, 0, &in), 0);

	/* Freeing one port makes exactly that one available again. */
	flow_table_del(ft, flow_table_lookup(ft, &first_in, NULL));
	out = client(IP(10, 8, 1, 1), 40000, redis, 6379);
	for (i = 0; i < 20; i++) {
		assert_int_equal(nat_bind(&r, ft, &out, redis, out.dst_port, rnd_next(&s), &in), 0);
		assert_int_equal(in.dst_port, first_in.dst_port);
	}

	/* A DNAT destination differs from the client's own: the key uses the former. */
	out = client(IP(10, 8, 5, 1), 40000, IP(10, 96, 0, 10), 6379);
	assert_int_equal(nat_bind(&r, ft, &out, other, rte_cpu_to_be_16(6379), 0, &in),
			 -EADDRNOTAVAIL);
	flow_table_free(ft);
}

static void
test_probe_limit(void **state)
{
	struct flow_table *ft = make_table(1024);
	struct nat_range r = { .addrs = nat_addr, .n_addrs = 1, .port_lo = 2000, .port_hi = 2999 };
	const uint32_t dst = IP(198, 51, 100, 7);
	struct flow_key out, in;
	int i;

	(void)state;
	/* Take ports 2000..2299: a probe starting at 2000 gives up after 256. */
	for (i = 0; i < 300; i++) {
		struct flow_key o = client(IP(10, 8, 6, 1), (uint16_t)(10000 + i), dst, 443);
		struct flow_key n = {
			.src_ip = dst,
			.dst_ip = nat_addr[0],
			.src_port = rte_cpu_to_be_16(443),
			.dst_port = rte_cpu_to_be_16((uint16_t)(2000 + i)),
			.proto = TCP,
		};
		int err;

		assert_non_null(flow_table_add(ft, &o, &n, &err));
	}
	out = client(IP(10, 8, 7, 1), 40000, dst, 443);
	assert_int_equal(nat_bind(&r, ft, &out, dst, out.dst_port, 0, &in), -EADDRNOTAVAIL);
	/* Start at offset 44: the 256th probe is 2299, still taken. */
	assert_int_equal(nat_bind(&r, ft, &out, dst, out.dst_port, 44, &in), -EADDRNOTAVAIL);
	/* Start at offset 45: the 256th and last probe finds 2300. */
	assert_int_equal(nat_bind(&r, ft, &out, dst, out.dst_port, 45, &in), 0);
	assert_int_equal(rte_be_to_cpu_16(in.dst_port), 2300);
	flow_table_free(ft);
}

static void
test_preserve(void **state)
{
	struct flow_table *ft = make_table(64);
	struct nat_range r = {
		.addrs = nat_addr,
		.n_addrs = 1,
		.port_lo = 1000,
		.port_hi = 1009,
		.preserve = true,
	};
	const uint32_t dst = IP(10, 59, 118, 59);
	struct flow_key out;
	uint64_t s = 7;
	int port;

	(void)state;
	/* Free: kept, whatever rnd says. */
	out = client(IP(10, 8, 0, 1), 1005, dst, 6379);
	assert_int_equal(bind_add(&r, ft, &out, rnd_next(&s), NULL), 1005);
	/* Taken (another client, same port, same destination): another port. */
	out = client(IP(10, 8, 0, 2), 1005, dst, 6379);
	port = bind_add(&r, ft, &out, rnd_next(&s), NULL);
	assert_true(port >= 1000 && port <= 1009 && port != 1005);
	/* Same port to another destination: kept again (per-destination mapping). */
	out = client(IP(10, 8, 0, 3), 1005, dst, 6380);
	assert_int_equal(bind_add(&r, ft, &out, rnd_next(&s), NULL), 1005);
	/* Outside the range: random within it. */
	out = client(IP(10, 8, 0, 4), 50000, dst, 6379);
	port = bind_add(&r, ft, &out, rnd_next(&s), NULL);
	assert_true(port >= 1000 && port <= 1009);
	/* Without preserve, the client's port is not favoured: rnd decides. */
	r.preserve = false;
	out = client(IP(10, 8, 0, 5), 1009, dst, 6390);
	assert_int_equal(bind_add(&r, ft, &out, 3, NULL), 1003);
	flow_table_free(ft);
}

static void
test_paired_pooling(void **state)
{
	struct flow_table *ft = make_table(64);
	struct nat_range r = { .addrs = nat_addr, .n_addrs = 4, .port_lo = 1024, .port_hi = 65535 };
	unsigned int per_addr[4] = { 0 };
	struct flow_key out, in;
	uint64_t s = 3;

	(void)state;
	for (uint32_t c = 0; c < 200; c++) {
		uint32_t ip = IP(10, 8, c >> 8, c & 0xff), addr = 0;

		/* Whatever the destination, port or rnd: the same address. */
		for (uint32_t d = 0; d < 8; d++) {
			out = client(ip, (uint16_t)(30000 + d), IP(192, 0, 2, d),
				     (uint16_t)(80 + d));
			assert_int_equal(
				nat_bind(&r, ft, &out, out.dst_ip, out.dst_port, rnd_next(&s), &in),
				0);
			if (d == 0)
				addr = in.dst_ip;
			assert_int_equal(in.dst_ip, addr);
		}
		for (unsigned int a = 0; a < 4; a++)
			if (addr == nat_addr[a])
				per_addr[a]++;
	}
	/* And clients are spread over the pool. */
	for (unsigned int a = 0; a < 4; a++)
		assert_true(per_addr[a] >= 20);
	assert_int_equal(per_addr[0] + per_addr[1] + per_addr[2] + per_addr[3], 200);

	r.n_addrs = 0;
	assert_int_equal(nat_bind(&r, ft, &out, out.dst_ip, out.dst_port, 0, &in), -EINVAL);
	flow_table_free(ft);
}

static void
test_random_spread(void **state)
{
	struct flow_table *ft = make_table(256);
	struct nat_range r = { .addrs = nat_addr, .n_addrs = 1, .port_lo = 1024, .port_hi = 65535 };
	const uint32_t dst = IP(10, 59, 118, 59);
	int ports[64];
	unsigned int low = 0, consecutive = 0;
	uint64_t s = 11;

	(void)state;
	for (int i = 0; i < 64; i++) {
		struct flow_key out = client(IP(10, 8, 0, 1), (uint16_t)(20000 + i), dst, 6379);

		ports[i] = bind_add(&r, ft, &out, rnd_next(&s), NULL);
		assert_true(ports[i] >= 1024 && ports[i] <= 65535);
		if (ports[i] < 1024 + 64)
			low++;
		if (i > 0 && ports[i] == ports[i - 1] + 1)
			consecutive++;
	}
	/* Sequential allocation from lo would give 1024, 1025, ...: not this. */
	assert_true(low <= 2);
	assert_true(consecutive <= 2);
	flow_table_free(ft);
}

/*
 * Spill: the client's own address first while it has a port toward the
 * destination; then the next addresses in order (wrapping), each probed
 * afresh; none left: -EADDRNOTAVAIL. Another destination still gets the
 * client's own address.
 */
static void
test_spill_to_next_address(void **state)
{
	struct flow_table *ft = make_table(64);
	struct nat_range r = { .addrs = nat_addr, .n_addrs = 3, .port_lo = 1000, .port_hi = 1003 };
	const uint32_t redis = IP(10, 59, 118, 59), cl = IP(10, 8, 0, 2);
	uint32_t own = nat_addr_index_of(&r, cl);
	struct flow_key out, in;
	uint64_t s = 5;
	int i, ret;

	(void)state;
	for (i = 0; i < 12; i++) {
		uint32_t want = nat_addr[(own + (uint32_t)i / 4) % 3];
		int err;

		out = client(cl, (uint16_t)(30000 + i), redis, 6379);
		ret = nat_bind(&r, ft, &out, redis, out.dst_port, rnd_next(&s), &in);
		/* 0 on its own address (the first 4), 1 spilled */
		assert_int_equal(ret, i < 4 ? 0 : 1);
		assert_int_equal(in.dst_ip, want);
		assert_non_null(flow_table_add(ft, &out, &in, &err));
	}
	out = client(cl, 30012, redis, 6379);
	assert_int_equal(nat_bind(&r, ft, &out, redis, out.dst_port, 0, &in), -EADDRNOTAVAIL);
	/* another destination: the client's own address again */
	out = client(cl, 30013, redis, 6380);
	assert_int_equal(nat_bind(&r, ft, &out, redis, out.dst_port, 0, &in), 0);
	assert_int_equal(in.dst_ip, nat_addr[own]);
	flow_table_free(ft);
}

/* The reply key of a flow from NAT address nat:port to dst:dport. */
static struct flow_key
reply_key(uint32_t nat, uint16_t port, uint32_t dst, uint16_t dport, uint8_t proto)
{
	return (struct flow_key){ .src_ip = dst,
				  .dst_ip = nat,
				  .src_port = rte_cpu_to_be_16(dport),
				  .dst_port = rte_cpu_to_be_16(port),
				  .proto = proto };
}

/*
 * Exact counts per (NAT address, destination, port, proto): each field of
 * the key separates; a destination leaves at zero; a full table counts a
 * new destination's flows as untracked (an existing one still counts), and
 * giving those back restores the figure exactly.
 */
static void
test_dests_count_exactly(void **state)
{
	const uint32_t redis = IP(10, 59, 118, 59), other = IP(10, 59, 118, 60);
	struct nat_dests *d = nat_dests_create(8, SOCKET_ID_ANY);
	struct flow_key k;
	unsigned int n;
	uint16_t p;

	(void)state;
	assert_non_null(d);
	assert_int_equal(nat_dests_capacity(d), 8);
	assert_int_equal(nat_dests_capacity_for(64), 64);
	assert_int_equal(nat_dests_capacity_for(4096), 1024);
	assert_int_equal(nat_dests_capacity_for(1u << 16), 4096);
	assert_int_equal(nat_dests_capacity_for(1u << 20), 32768);
	assert_int_equal(nat_dests_capacity_for(1u << 24), 32768);
	for (p = 0; p < 5; p++) {
		k = reply_key(nat_addr[0], (uint16_t)(1000 + p), redis, 6379, TCP);
		assert_int_equal(nat_dests_add(d, &k), 0);
	}
	assert_int_equal(nat_dest_ports(d, nat_addr[0], redis, 6379, TCP, &n), 5);
	assert_int_equal(n, 1);
	/* every field of the key is a destination of its own */
	k = reply_key(nat_addr[1], 1000, redis, 6379, TCP);
	assert_int_equal(nat_dests_add(d, &k), 0);
	k = reply_key(nat_addr[0], 1000, other, 6379, TCP);
	assert_int_equal(nat_dests_add(d, &k), 0);
	k = reply_key(nat_addr[0], 1000, redis, 6380, TCP);
	assert_int_equal(nat_dests_add(d, &k), 0);
	k = reply_key(nat_addr[0], 1000, redis, 6379, 17);
	assert_int_equal(nat_dests_add(d, &k), 0);
	assert_int_equal(nat_dest_ports(d, nat_addr[0], redis, 6379, TCP, &n), 5);
	assert_int_equal(n, 5);
	assert_int_equal(nat_dest_ports(d, nat_addr[1], redis, 6379, TCP, &n), 1);
	assert_int_equal(nat_dest_ports(d, nat_addr[0], redis, 6379, 17, &n), 1);
	/* fill the table: 8 destinations */
	for (p = 0; p < 3; p++) {
		k = reply_key(nat_addr[2], 1000, redis, (uint16_t)(7000 + p), TCP);
		assert_int_equal(nat_dests_add(d, &k), 0);
	}
	assert_int_equal(nat_dests_untracked(d), 0);
	/* full: a ninth destination is untracked, twice; a known one counts */
	k = reply_key(nat_addr[3], 1000, redis, 6379, TCP);
	assert_int_equal(nat_dests_add(d, &k), -ENOSPC);
	k = reply_key(nat_addr[3], 1001, redis, 6379, TCP);
	assert_int_equal(nat_dests_add(d, &k), -ENOSPC);
	assert_int_equal(nat_dests_untracked(d), 2);
	k = reply_key(nat_addr[0], 1005, redis, 6379, TCP);
	assert_int_equal(nat_dests_add(d, &k), 0);
	assert_int_equal(nat_dest_ports(d, nat_addr[0], redis, 6379, TCP, &n), 6);
	assert_int_equal(n, 8);
	assert_int_equal(nat_dest_ports(d, nat_addr[3], redis, 6379, TCP, &n), 0);
	/* an untracked flow given back touches no count */
	nat_dests_remove(d, &k, false);
	assert_int_equal(nat_dests_untracked(d), 1);
	assert_int_equal(nat_dest_ports(d, nat_addr[0], redis, 6379, TCP, &n), 6);
	/* one port fewer, then none: the destination leaves, its room is free */
	nat_dests_remove(d, &k, true);
	assert_int_equal(nat_dest_ports(d, nat_addr[0], redis, 6379, TCP, &n), 5);
	k = reply_key(nat_addr[1], 1000, redis, 6379, TCP);
	nat_dests_remove(d, &k, true);
	assert_int_equal(nat_dest_ports(d, nat_addr[1], redis, 6379, TCP, &n), 0);
	assert_int_equal(n, 7);
	k = reply_key(nat_addr[3], 1002, redis, 6379, TCP);
	assert_int_equal(nat_dests_add(d, &k), 0);
	assert_int_equal(nat_dest_ports(d, nat_addr[3], redis, 6379, TCP, &n), 1);
	assert_int_equal(n, 8);
	nat_dests_free(d);
	nat_dests_free(NULL);
	assert_null(nat_dests_create(0, SOCKET_ID_ANY));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_owner),
		cmocka_unit_test(test_exhaustion_and_overlap),
		cmocka_unit_test(test_probe_limit),
		cmocka_unit_test(test_preserve),
		cmocka_unit_test(test_paired_pooling),
		cmocka_unit_test(test_random_spread),
		cmocka_unit_test(test_spill_to_next_address),
		cmocka_unit_test(test_dests_count_exactly),
	};

	if (test_eal_init("nat") < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
