/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT binding: range split, per-destination uniqueness, exhaustion, preserve,
 * pooling, spill; the per-destination counts (nat_dests); ports chosen for
 * the outside port's RSS (nat_rss), checked against rte_softrss() and a
 * bit-by-bit Toeplitz.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "test_common.h"

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_memory.h>
#include <rte_thash.h>

#include "flow.h"
#include "nat.h"
#include "nat_dests.h"
#include "nat_rss.h"
#include "test_nat_dests.h"
#include "test_rss.h"

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
	struct flow_key in, first;
	bool known;
	int ret, err;

	known = nat_bind_first(r, out, out->dst_ip, out->dst_port, rnd, &first);
	ret = nat_bind(r, ft, out, out->dst_ip, out->dst_port, rnd, &in);
	/* the data path prefetches the reply key nat_bind_first() names: when
	 * it is free, it is exactly the key bound */
	if (known && !flow_table_contains(ft, &first)) {
		assert_int_equal(ret, 0);
		assert_memory_equal(&in, &first, sizeof(in));
	}
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
	struct flow_key out, in;
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
	/* Outside the range: random within it (the first lookup is the
	 * probe's first port, rnd modulo the range past port_lo). */
	out = client(IP(10, 8, 0, 4), 50000, dst, 6379);
	assert_true(nat_bind_first(&r, &out, dst, out.dst_port, 13, &in));
	assert_int_equal(rte_be_to_cpu_16(in.dst_port), 1003);
	port = bind_add(&r, ft, &out, rnd_next(&s), NULL);
	assert_true(port >= 1000 && port <= 1009);
	/* Without preserve, the client's port is not favoured: rnd decides. */
	out = client(IP(10, 8, 0, 5), 1009, dst, 6390);
	assert_true(nat_bind_first(&r, &out, dst, out.dst_port, 3, &in));
	assert_int_equal(rte_be_to_cpu_16(in.dst_port), 1009);
	r.preserve = false;
	assert_true(nat_bind_first(&r, &out, dst, out.dst_port, 3, &in));
	assert_int_equal(rte_be_to_cpu_16(in.dst_port), 1003);
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

/* The holes of the tests: TCP 1000, 1005, 1019 and UDP 1007 on nat_addr[0];
 * TCP 1010 on nat_addr[1]; TCP 179, outside every range here. */
static const struct nat_hole holes[] = {
	{ .addr = IP(203, 0, 113, 10), .port = 1000, .proto = TCP },
	{ .addr = IP(203, 0, 113, 10), .port = 1005, .proto = TCP },
	{ .addr = IP(203, 0, 113, 10), .port = 1019, .proto = TCP },
	{ .addr = IP(203, 0, 113, 10), .port = 1007, .proto = 17 },
	{ .addr = IP(203, 0, 113, 11), .port = 1010, .proto = TCP },
	{ .addr = IP(203, 0, 113, 10), .port = 179, .proto = TCP },
};

/* Ports 1000-1019 on n_addrs addresses of nat_addr, with the holes. */
static struct nat_range
holes_range(uint32_t n_addrs, bool preserve)
{
	return (struct nat_range){ .addrs = nat_addr,
				   .n_addrs = n_addrs,
				   .port_lo = 1000,
				   .port_hi = 1019,
				   .preserve = preserve,
				   .holes = holes,
				   .n_holes = RTE_DIM(holes) };
}

/*
 * Bind clients toward dst:dport (proto) until the range is exhausted: every
 * port bound (host order) is marked in seen[port - lo], once. @return how
 * many were bound.
 */
static uint32_t
bind_all(const struct nat_range *r, struct flow_table *ft, uint32_t dst, uint16_t dport,
	 uint8_t proto, uint64_t *s, bool *seen)
{
	uint32_t n = 0;
	int port;

	for (;;) {
		struct flow_key out = client(IP(10, 8, 9, 1), (uint16_t)(20000 + n), dst, dport);

		out.proto = proto;
		port = bind_add(r, ft, &out, rnd_next(s), NULL);
		if (port < 0)
			break;
		assert_true(port >= r->port_lo && port <= r->port_hi);
		assert_false(seen[port - r->port_lo]);
		seen[port - r->port_lo] = true;
		n++;
	}
	assert_int_equal(port, -EADDRNOTAVAIL);
	return n;
}

/*
 * Holes (the exception path's ports): never bound on their address for
 * their protocol, whatever rnd; every other port of the range is, exactly
 * once, before exhaustion; another protocol or address is not affected;
 * holes outside the range change nothing.
 */
static void
test_holes_never_bound(void **state)
{
	struct nat_range r = holes_range(1, false);
	const uint32_t dst = IP(10, 59, 118, 59);
	uint16_t ports[NAT_MAX_HOLES];
	uint64_t s = 11;

	(void)state;
	assert_int_equal(nat_holes_of(&r, nat_addr[0], TCP, ports), 3);
	assert_int_equal(ports[0], 1000);
	assert_int_equal(ports[1], 1005);
	assert_int_equal(ports[2], 1019);
	assert_int_equal(nat_holes_of(&r, nat_addr[0], 17, ports), 1);
	assert_int_equal(ports[0], 1007);
	assert_int_equal(nat_holes_of(&r, nat_addr[1], TCP, ports), 1);
	assert_int_equal(nat_holes_of(&r, nat_addr[2], TCP, ports), 0);
	/* many rounds of random starts: the count and the ports are exact */
	for (int round = 0; round < 20; round++) {
		struct flow_table *ft = make_table(256);
		bool seen[20] = { false };

		assert_int_equal(bind_all(&r, ft, dst, 6379, TCP, &s, seen), 20 - 3);
		for (uint32_t p = 1000; p <= 1019; p++)
			assert_int_equal(seen[p - 1000], p != 1000 && p != 1005 && p != 1019);
		/* UDP on the same address: its own hole only */
		memset(seen, 0, sizeof(seen));
		assert_int_equal(bind_all(&r, ft, dst, 6379, 17, &s, seen), 20 - 1);
		for (uint32_t p = 1000; p <= 1019; p++)
			assert_int_equal(seen[p - 1000], p != 1007);
		flow_table_free(ft);
	}
	/* without holes: the whole range */
	{
		struct flow_table *ft = make_table(256);
		bool seen[20] = { false };

		r.n_holes = 0;
		assert_int_equal(bind_all(&r, ft, dst, 6379, TCP, &s, seen), 20);
		flow_table_free(ft);
	}
}

/*
 * port_alloc: preserve: a client whose own port is a hole is remapped to
 * another port (any but a hole), every time; a client whose port is no
 * hole keeps it; a hole of UDP does not remap TCP.
 */
static void
test_holes_preserve(void **state)
{
	struct nat_range r = holes_range(1, true);
	struct flow_table *ft = make_table(256);
	const uint32_t dst = IP(10, 59, 118, 59);
	uint64_t s = 13;
	int port;

	(void)state;
	for (uint32_t i = 0; i < 17; i++) {
		struct flow_key out = client(IP(10, 8, 0, 1 + i), 1005, dst, 179);

		port = bind_add(&r, ft, &out, rnd_next(&s), NULL);
		assert_true(port >= 1000 && port <= 1019);
		assert_true(port != 1000 && port != 1005 && port != 1019);
	}
	/* the 17 other ports are taken now: exhausted, the hole stays free */
	{
		struct flow_key out = client(IP(10, 8, 1, 1), 1005, dst, 179), in;

		assert_int_equal(nat_bind(&r, ft, &out, dst, out.dst_port, 0, &in), -EADDRNOTAVAIL);
	}
	{
		struct flow_key out = client(IP(10, 8, 2, 1), 1006, dst, 443);

		assert_int_equal(bind_add(&r, ft, &out, rnd_next(&s), NULL), 1006);
		out = client(IP(10, 8, 2, 2), 1007, dst, 443);
		assert_int_equal(bind_add(&r, ft, &out, rnd_next(&s), NULL), 1007);
		out = client(IP(10, 8, 2, 3), 1007, dst, 443);
		out.proto = 17;
		port = bind_add(&r, ft, &out, rnd_next(&s), NULL);
		assert_true(port >= 1000 && port <= 1019 && port != 1007);
		out = client(IP(10, 8, 2, 4), 1005, dst, 443);
		out.proto = 17;
		assert_int_equal(bind_add(&r, ft, &out, rnd_next(&s), NULL), 1005);
	}
	flow_table_free(ft);
}

/*
 * Spill: a client's own address is exhausted at its range less its holes,
 * then the next address serves, with its own holes; then -EADDRNOTAVAIL.
 */
static void
test_holes_spill(void **state)
{
	struct nat_range r = holes_range(2, false);
	struct flow_table *ft = make_table(256);
	const uint32_t dst = IP(10, 59, 118, 59);
	uint32_t cl = IP(10, 8, 0, 2), own, other, want_own, i;
	uint64_t s = 17;

	(void)state;
	own = nat_addr_index_of(&r, cl);
	other = 1 - own;
	/* nat_addr[0] has 3 TCP holes in the range, nat_addr[1] one */
	want_own = own == 0 ? 17 : 19;
	for (i = 0; i < 36; i++) {
		struct flow_key out = client(cl, (uint16_t)(30000 + i), dst, 6379), in;
		uint16_t port;
		int ret, err;

		ret = nat_bind(&r, ft, &out, dst, out.dst_port, rnd_next(&s), &in);
		assert_int_equal(ret, i < want_own ? 0 : 1);
		assert_int_equal(in.dst_ip, nat_addr[i < want_own ? own : other]);
		port = rte_be_to_cpu_16(in.dst_port);
		if (in.dst_ip == nat_addr[0])
			assert_true(port != 1000 && port != 1005 && port != 1019);
		else
			assert_true(port != 1010);
		assert_non_null(flow_table_add(ft, &out, &in, &err));
	}
	{
		struct flow_key out = client(cl, 30036, dst, 6379), in;

		assert_int_equal(nat_bind(&r, ft, &out, dst, out.dst_port, 0, &in), -EADDRNOTAVAIL);
	}
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

/*
 * The positions cached in front of the hash table (64 of them, direct
 * mapped) are hints: 200 destinations collide there, destinations leave and
 * their positions go to others, and every count stays the model's, exactly,
 * after every add and remove in a random order.
 */
static void
test_dests_cache_follows_the_table(void **state)
{
	enum {
		N_DST = 200,
		OPS = 20000
	};
	struct nat_dests *d = nat_dests_create(256, SOCKET_ID_ANY);
	uint32_t model[N_DST] = { 0 }, live = 0;
	uint64_t seed = 42;
	unsigned int i, n;

	(void)state;
	assert_non_null(d);
	for (i = 0; i < OPS; i++) {
		unsigned int j;
		struct flow_key k;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		j = (unsigned int)(seed >> 33) % N_DST;
		k = reply_key(nat_addr[j % 4], 1000, IP(10, 59, 118, j / 4 + 1), 6379, TCP);
		/* more adds than removes while few are live, fewer later */
		if (model[j] > 0 && (seed >> 20) % 100 < 50u + live / 8) {
			nat_dests_remove(d, &k, true);
			model[j]--;
			live--;
		} else {
			assert_int_equal(nat_dests_add(d, &k), 0);
			model[j]++;
			live++;
		}
		assert_int_equal(nat_dest_ports(d, nat_addr[j % 4], IP(10, 59, 118, j / 4 + 1),
						6379, TCP, &n),
				 model[j]);
	}
	/* all given back: nothing left anywhere */
	for (i = 0; i < N_DST; i++) {
		struct flow_key k =
			reply_key(nat_addr[i % 4], 1000, IP(10, 59, 118, i / 4 + 1), 6379, TCP);

		while (model[i] > 0) {
			nat_dests_remove(d, &k, true);
			model[i]--;
		}
	}
	assert_int_equal(nat_dest_ports(d, nat_addr[0], IP(10, 59, 118, 1), 6379, TCP, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(nat_dests_untracked(d), 0);
	nat_dests_free(d);
}

/* ------------------------------------------------- RSS-aware port choice */

static struct nat_rss *
make_rss(const uint8_t *key, const uint16_t *reta, uint32_t size, unsigned int n, uint16_t lo,
	 uint16_t hi)
{
	struct nat_rss *r = test_rss_create(key, reta, size, n, lo, hi);

	assert_non_null(r);
	return r;
}

/* rte_softrss() of a reply key, as DPDK computes it (host-order words). */
static uint32_t
softrss_of(const uint8_t *key, const struct flow_key *in)
{
	uint32_t t[3] = {
		rte_be_to_cpu_32(in->src_ip),
		rte_be_to_cpu_32(in->dst_ip),
		(uint32_t)rte_be_to_cpu_16(in->src_port) << 16 | rte_be_to_cpu_16(in->dst_port),
	};

	return rte_softrss(t, 3, key);
}

/*
 * The hash of known tuples: the RSS verification suite's IPv4/TCP values for
 * the default key, equal from the bit-by-bit Toeplitz and rte_softrss(); the
 * owner nat_rss gives them is the RETA entry of their low bits; the
 * symmetric key hashes both directions alike.
 */
static void
test_rss_known_hashes(void **state)
{
	static const struct {
		uint32_t src, dst;
		uint16_t sport, dport;
		uint32_t hash;
	} known[] = {
		{ IP(66, 9, 149, 187), IP(161, 142, 100, 80), 2794, 1766, 0x51ccc178 },
		{ IP(199, 92, 111, 2), IP(65, 69, 140, 83), 14230, 4739, 0xc626b0ea },
		{ IP(24, 19, 198, 95), IP(12, 22, 207, 184), 12898, 38024, 0x5c2b394a },
		{ IP(38, 27, 205, 30), IP(209, 142, 163, 6), 48228, 2217, 0xafc7327f },
		{ IP(153, 39, 163, 191), IP(202, 188, 127, 2), 44251, 1303, 0x10e828a2 },
	};
	uint16_t reta[128];
	struct nat_rss *r;

	(void)state;
	/* 4 queues in blocks of 32 entries: index bits 5-6 choose the queue */
	test_reta_fill(reta, 128, 4, 32);
	r = make_rss(toeplitz_default_key, reta, 128, 4, 1024, 65535);
	for (unsigned int i = 0; i < RTE_DIM(known); i++) {
		struct flow_key in = {
			.src_ip = known[i].src,
			.dst_ip = known[i].dst,
			.src_port = rte_cpu_to_be_16(known[i].sport),
			.dst_port = rte_cpu_to_be_16(known[i].dport),
			.proto = TCP,
		};

		assert_int_equal(toeplitz_v4(toeplitz_default_key, in.src_ip, in.dst_ip,
					     in.src_port, in.dst_port),
				 known[i].hash);
		assert_int_equal(softrss_of(toeplitz_default_key, &in), known[i].hash);
		assert_int_equal(nat_rss_owner(r, &in), (known[i].hash & 127) / 32);
	}
	/* 0x51ccc178: index 0x78 = 120, queue 3; 0xc626b0ea: 0x6a = 106, queue 3;
	 * 0x5c2b394a: 0x4a = 74, queue 2; 0xafc7327f: 0x7f, queue 3; 0x10e828a2:
	 * 0x22 = 34, queue 1 */
	assert_int_equal(nat_rss_owner(r, &(struct flow_key){ .src_ip = known[4].src,
							      .dst_ip = known[4].dst,
							      .src_port = RTE_BE16(44251),
							      .dst_port = RTE_BE16(1303) }),
			 1);
	nat_rss_free(r);

	r = make_rss(toeplitz_symmetric_key, reta, 128, 4, 1024, 65535);
	for (unsigned int i = 0; i < RTE_DIM(known); i++) {
		struct flow_key a = { .src_ip = known[i].src,
				      .dst_ip = known[i].dst,
				      .src_port = rte_cpu_to_be_16(known[i].sport),
				      .dst_port = rte_cpu_to_be_16(known[i].dport) };
		struct flow_key b = { .src_ip = a.dst_ip,
				      .dst_ip = a.src_ip,
				      .src_port = a.dst_port,
				      .dst_port = a.src_port };
		uint32_t h = toeplitz_v4(toeplitz_symmetric_key, a.src_ip, a.dst_ip, a.src_port,
					 a.dst_port);

		assert_int_equal(softrss_of(toeplitz_symmetric_key, &a), h);
		assert_int_equal(softrss_of(toeplitz_symmetric_key, &b), h);
		assert_int_equal(nat_rss_owner(r, &a), reta[h & 127]);
		assert_int_equal(nat_rss_owner(r, &b), reta[h & 127]);
	}
	nat_rss_free(r);
}

/*
 * Every port a worker binds has its reply (server -> NAT address:port)
 * hash, computed bit by bit and by rte_softrss(), to a RETA entry of the
 * worker's own queue; so does the client's port when preserved. For the
 * default and the symmetric key, RETAs of 128 entries over 2 and 4 queues
 * and of 512 over 4 in uneven blocks, two NAT addresses.
 */
static void
test_rss_bind_lands_on_owner(void **state)
{
	static const struct {
		uint32_t size;
		unsigned int n;
		uint32_t block;
	} retas[] = { { 128, 2, 1 }, { 128, 4, 1 }, { 128, 4, 32 }, { 512, 4, 3 } };
	const uint8_t *keys[] = { toeplitz_default_key, toeplitz_symmetric_key };
	uint16_t reta[NAT_RSS_RETA_MAX];
	uint64_t s = 11;

	(void)state;
	for (unsigned int k = 0; k < RTE_DIM(keys); k++) {
		for (unsigned int t = 0; t < RTE_DIM(retas); t++) {
			struct nat_rss *rss;
			uint32_t mask = retas[t].size - 1;

			test_reta_fill(reta, retas[t].size, retas[t].n, retas[t].block);
			rss = make_rss(keys[k], reta, retas[t].size, retas[t].n, 1024, 65535);
			for (unsigned int w = 0; w < retas[t].n; w++) {
				struct flow_table *ft = make_table(1024);
				struct nat_range r = { .addrs = nat_addr,
						       .n_addrs = 2,
						       .port_lo = 1024,
						       .port_hi = 65535,
						       .preserve = w % 2 == 1,
						       .rss = rss,
						       .owner = w };
				unsigned int kept = 0;

				for (uint32_t c = 0; c < 400; c++) {
					uint16_t cport = (uint16_t)(20000 + c * 7);
					struct flow_key out = client(IP(10, 8, c >> 6, c & 63),
								     cport, IP(192, 0, 2, c % 5),
								     (uint16_t)(6379 + c % 3));
					struct flow_key in,
						own = { .src_ip = out.dst_ip,
							.dst_ip = nat_addr_of(&r, out.src_ip),
							.src_port = out.dst_port,
							.dst_port = out.src_port,
							.proto = TCP };
					/* preserve: the client's port exactly when it is
					 * ours and free on the client's address */
					bool ours = r.preserve && nat_rss_owner(rss, &own) == w &&
						    !flow_table_contains(ft, &own);
					uint32_t h;
					int port;

					port = bind_add(&r, ft, &out, rnd_next(&s), &in);
					assert_true(port >= 1024);
					h = toeplitz_v4(keys[k], in.src_ip, in.dst_ip, in.src_port,
							in.dst_port);
					assert_int_equal(reta[h & mask], w);
					assert_int_equal(softrss_of(keys[k], &in), h);
					assert_int_equal(nat_rss_owner(rss, &in), w);
					assert_int_equal(port == cport && in.dst_ip == own.dst_ip,
							 ours);
					kept += ours;
				}
				/* about one in n client ports was the worker's to keep */
				if (r.preserve)
					assert_true(kept > 400 / retas[t].n / 2);
				assert_int_equal(flow_table_count(ft), 400);
				flow_table_free(ft);
			}
			nat_rss_free(rss);
		}
	}
}

/*
 * A worker binds toward one destination exactly the ports of the range whose
 * reply hashes to its queue (counted here bit by bit): nat_rss_share() of
 * them, then -EADDRNOTAVAIL; the workers' shares partition the range.
 */
static void
test_rss_exhaustion_share(void **state)
{
	uint16_t reta[128];
	struct nat_rss *rss;
	uint32_t total = 0;

	(void)state;
	test_reta_fill(reta, 128, 3, 1);
	rss = make_rss(toeplitz_default_key, reta, 128, 3, 2000, 2095);
	for (unsigned int w = 0; w < 3; w++) {
		struct flow_table *ft = make_table(256);
		struct nat_range r = { .addrs = nat_addr,
				       .n_addrs = 1,
				       .port_lo = 2000,
				       .port_hi = 2095,
				       .rss = rss,
				       .owner = w };
		uint32_t dst = IP(192, 0, 2, 7), expect = 0, bound = 0;
		struct flow_key out,
			in = { .src_ip = dst, .dst_ip = nat_addr[0], .src_port = RTE_BE16(443) };
		uint64_t s = 5;

		for (uint32_t p = 2000; p <= 2095; p++) {
			uint32_t h = toeplitz_v4(toeplitz_default_key, dst, nat_addr[0],
						 RTE_BE16(443), rte_cpu_to_be_16((uint16_t)p));

			expect += reta[h & 127] == w;
		}
		assert_true(expect > 0);
		assert_int_equal(nat_rss_share(rss, &in, w), expect);
		for (;;) {
			out = client(IP(10, 8, 1, 1), (uint16_t)(30000 + bound), dst, 443);
			if (bind_add(&r, ft, &out, rnd_next(&s), NULL) < 0)
				break;
			bound++;
		}
		assert_int_equal(bound, expect);
		assert_int_equal(nat_bind(&r, ft, &out, dst, out.dst_port, 0, &in), -EADDRNOTAVAIL);
		total += bound;
		flow_table_free(ft);
	}
	assert_int_equal(total, 96);
	nat_rss_free(rss);
}

/*
 * Holes with the outside port's RSS known: each worker binds exactly its
 * share less the holes whose reply hashes to its queue, never a hole; the
 * workers together bind the range less the holes.
 */
static void
test_rss_holes(void **state)
{
	static const struct nat_hole h[] = {
		{ .addr = IP(203, 0, 113, 10), .port = 2000, .proto = TCP },
		{ .addr = IP(203, 0, 113, 10), .port = 2033, .proto = TCP },
		{ .addr = IP(203, 0, 113, 10), .port = 2034, .proto = TCP },
		{ .addr = IP(203, 0, 113, 10), .port = 2095, .proto = TCP },
	};
	const uint32_t dst = IP(192, 0, 2, 7);
	uint32_t total = 0;
	uint16_t reta[128];
	struct nat_rss *rss;

	(void)state;
	test_reta_fill(reta, 128, 3, 1);
	rss = make_rss(toeplitz_default_key, reta, 128, 3, 2000, 2095);
	for (unsigned int w = 0; w < 3; w++) {
		struct flow_table *ft = make_table(256);
		struct nat_range r = { .addrs = nat_addr,
				       .n_addrs = 1,
				       .port_lo = 2000,
				       .port_hi = 2095,
				       .rss = rss,
				       .owner = w,
				       .holes = h,
				       .n_holes = RTE_DIM(h) };
		struct flow_key in = { .src_ip = dst,
				       .dst_ip = nat_addr[0],
				       .src_port = RTE_BE16(443) };
		bool seen[96] = { false };
		uint32_t expect = nat_rss_share(rss, &in, w), n;
		uint64_t s = 29;

		for (unsigned int k = 0; k < RTE_DIM(h); k++) {
			in.dst_port = rte_cpu_to_be_16(h[k].port);
			expect -= nat_rss_owner(rss, &in) == w;
		}
		n = bind_all(&r, ft, dst, 443, TCP, &s, seen);
		assert_int_equal(n, expect);
		for (unsigned int k = 0; k < RTE_DIM(h); k++)
			assert_false(seen[h[k].port - 2000]);
		total += n;
		flow_table_free(ft);
	}
	assert_int_equal(total, 96 - 4);
	nat_rss_free(rss);
}

/* Every owner rss gives 1000 random replies is the RETA entry of their hash by key. */
static void
assert_owners(const struct nat_rss *rss, const uint8_t *key, const uint16_t *reta)
{
	uint64_t s = 23;

	for (uint32_t i = 0; i < 1000; i++) {
		uint64_t r = rnd_next(&s);
		struct flow_key in = { .src_ip = (uint32_t)r,
				       .dst_ip = nat_addr[i % 4],
				       .src_port = (uint16_t)(r >> 32),
				       .dst_port = (uint16_t)(r >> 48) };
		uint32_t h = toeplitz_v4(key, in.src_ip, in.dst_ip, in.src_port, in.dst_port);

		assert_int_equal(nat_rss_owner(rss, &in), reta[h & 127]);
	}
}

/*
 * nat_rss_from_port() on a started device with RSS (net_null: its key and
 * RETA can be set and read back): the tables follow the key the device
 * has, not the one asked for (net_null keeps the default key whatever the
 * configuration says; then the symmetric key set by rss_hash_update), and
 * the RETA set after the start; a device whose hash leaves out the ports,
 * or one worker, is refused (ENOTSUP).
 */
static void
test_rss_from_port(void **state)
{
	struct rte_eth_rss_reta_entry64 groups[128 / RTE_ETH_RETA_GROUP_SIZE];
	uint8_t key[40];
	struct rte_eth_conf conf = {
		.rxmode = { .mq_mode = RTE_ETH_MQ_RX_RSS },
		.rx_adv_conf.rss_conf = { .rss_key = key,
					  .rss_key_len = sizeof(key),
					  .rss_hf = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP |
						    RTE_ETH_RSS_UDP },
	};
	struct rte_eth_rss_conf sym = conf.rx_adv_conf.rss_conf;
	struct rte_eth_rss_conf ip_only = { .rss_hf = RTE_ETH_RSS_IP };
	struct rte_eth_dev_info info;
	struct rte_mempool *mp;
	struct nat_rss *rss;
	uint16_t port, q, reta[128];
	const char *why;

	(void)state;
	memcpy(key, toeplitz_symmetric_key, sizeof(key));
	mp = rte_pktmbuf_pool_create("rss_null", 1024, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     SOCKET_ID_ANY);
	assert_non_null(mp);
	assert_int_equal(rte_dev_probe("net_null_rss"), 0);
	assert_int_equal(rte_eth_dev_get_port_by_name("net_null_rss", &port), 0);
	assert_int_equal(rte_eth_dev_info_get(port, &info), 0);
	assert_int_equal(info.reta_size, 128);
	assert_int_equal(info.hash_key_size, 0); /* net_null does not say: 40 bytes */
	assert_int_equal(rte_eth_dev_configure(port, 2, 2, &conf), 0);
	for (q = 0; q < 2; q++) {
		assert_int_equal(rte_eth_rx_queue_setup(port, q, 64, SOCKET_ID_ANY, NULL, mp), 0);
		assert_int_equal(rte_eth_tx_queue_setup(port, q, 64, SOCKET_ID_ANY, NULL), 0);
	}
	assert_int_equal(rte_eth_dev_start(port), 0);
	/* an uneven RETA: queue 1 for entries 0-31, queue 0 for the rest */
	test_reta_fill(reta, 128, 1, 1);
	for (q = 0; q < 32; q++)
		reta[q] = 1;
	memset(groups, 0, sizeof(groups));
	for (uint32_t i = 0; i < 128; i++) {
		groups[i / RTE_ETH_RETA_GROUP_SIZE].mask |= UINT64_C(1)
							    << (i % RTE_ETH_RETA_GROUP_SIZE);
		groups[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] = reta[i];
	}
	assert_int_equal(rte_eth_dev_rss_reta_update(port, groups, 128), 0);

	rss = nat_rss_from_port(port, 2, 1024, 65535, SOCKET_ID_ANY, &why);
	assert_non_null(rss);
	assert_string_equal(why, "rss (replies land on their flow's worker)");
	assert_owners(rss, toeplitz_default_key, reta);
	nat_rss_free(rss);
	assert_int_equal(rte_eth_dev_rss_hash_update(port, &sym), 0);
	rss = nat_rss_from_port(port, 2, 1024, 65535, SOCKET_ID_ANY, &why);
	assert_non_null(rss);
	assert_owners(rss, toeplitz_symmetric_key, reta);
	nat_rss_free(rss);

	assert_null(nat_rss_from_port(port, 1, 1024, 65535, SOCKET_ID_ANY, &why));
	assert_int_equal(rte_errno, ENOTSUP);
	assert_string_equal(why, "share (one worker)");
	/* addresses only: the NAT port would not choose the queue */
	assert_int_equal(rte_eth_dev_rss_hash_update(port, &ip_only), 0);
	assert_null(nat_rss_from_port(port, 2, 1024, 65535, SOCKET_ID_ANY, &why));
	assert_int_equal(rte_errno, ENOTSUP);
	assert_string_equal(why, "share (the outside device's RSS does not hash IPv4 TCP and "
				 "UDP by both addresses and ports)");

	assert_int_equal(rte_eth_dev_stop(port), 0);
	assert_int_equal(rte_eth_dev_close(port), 0);
	assert_int_equal(rte_dev_remove(info.device), 0);
	rte_mempool_free(mp);
}

/* What nat_rss_create() refuses, and why. */
static void
test_rss_create_errors(void **state)
{
	uint16_t reta[128];
	struct nat_rss_params p = {
		.key = toeplitz_default_key,
		.key_len = 40,
		.reta = reta,
		.reta_size = 128,
		.n_workers = 2,
		.port_lo = 1024,
		.port_hi = 65535,
		.socket_id = SOCKET_ID_ANY,
	};
	struct nat_rss_params q;

	(void)state;
	test_reta_fill(reta, 128, 2, 1);
	q = p;
	q.key_len = NAT_RSS_KEY_MIN - 1;
	assert_null(nat_rss_create(&q));
	assert_int_equal(rte_errno, EINVAL);
	q = p;
	q.reta_size = 96; /* not a power of two */
	assert_null(nat_rss_create(&q));
	assert_int_equal(rte_errno, EINVAL);
	q = p;
	q.n_workers = 1;
	assert_null(nat_rss_create(&q));
	assert_int_equal(rte_errno, EINVAL);
	/* an entry naming a queue no worker polls */
	reta[5] = 2;
	assert_null(nat_rss_create(&p));
	assert_int_equal(rte_errno, EINVAL);
	/* a worker no entry names could bind nothing */
	test_reta_fill(reta, 128, 1, 1);
	assert_null(nat_rss_create(&p));
	assert_int_equal(rte_errno, ENOTSUP);
	/* one port: some destination has none for one of the two workers */
	test_reta_fill(reta, 128, 2, 1);
	q = p;
	q.port_lo = q.port_hi = 5000;
	assert_null(nat_rss_create(&q));
	assert_int_equal(rte_errno, ENOTSUP);
	nat_rss_free(NULL);
}

/*
 * ns per nat_bind() of n flows from fresh clients toward n_dsts
 * destinations; binds that find no port (a run of NAT_MAX_PROBES taken
 * ports) are counted in *failed.
 */
static double
bind_ns(const struct nat_range *r, uint32_t n, uint32_t n_dsts, uint32_t *failed)
{
	struct flow_table *ft = make_table(n);
	uint64_t s = 17, t0, cycles = 0;
	int ret;

	for (uint32_t i = 0; i < n; i++) {
		struct flow_key out =
			client(IP(10, 8, (i >> 8) & 0xff, i & 0xff), (uint16_t)(1024 + i % 60000),
			       IP(192, 0, 2, i % n_dsts), 6379);
		struct flow_key in;
		int err;

		t0 = rte_rdtsc_precise();
		ret = nat_bind(r, ft, &out, out.dst_ip, out.dst_port, rnd_next(&s), &in);
		cycles += rte_rdtsc_precise() - t0;
		if (ret < 0) {
			(*failed)++;
			continue;
		}
		if (flow_table_add(ft, &out, &in, &err) == NULL)
			fail_msg("flow_table_add: %d", err);
	}
	flow_table_free(ft);
	return (double)cycles * 1e9 / (double)rte_get_tsc_hz() / n;
}

/*
 * ns per owner of an outside frame, by port share (nat_range_owner()) and
 * by hash (nat_rss_owner(): what every outside frame costs with RSS known).
 */
static void
owner_cost(void)
{
	const uint32_t n = 1u << 20;
	uint16_t reta[128];
	struct nat_rss *rss;
	struct flow_key in = { .src_ip = IP(192, 0, 2, 1),
			       .dst_ip = nat_addr[0],
			       .src_port = RTE_BE16(6379) };
	uint64_t t0, t1, t2, sum = 0;

	test_reta_fill(reta, 128, 4, 1);
	rss = make_rss(toeplitz_default_key, reta, 128, 4, 1024, 65535);
	t0 = rte_rdtsc_precise();
	for (uint32_t i = 0; i < n; i++)
		sum += (uint32_t)nat_range_owner(1024, 65535, 4, (uint16_t)(1024 + (i & 0x7fff)));
	t1 = rte_rdtsc_precise();
	for (uint32_t i = 0; i < n; i++) {
		in.src_ip ^= i; /* a new tuple each time */
		in.dst_port = (uint16_t)i;
		sum += nat_rss_owner(rss, &in);
	}
	t2 = rte_rdtsc_precise();
	printf("owner of a reply: by share %.1f ns, by hash %.1f ns (%" PRIu64 ")\n",
	       (double)(t1 - t0) * 1e9 / (double)rte_get_tsc_hz() / n,
	       (double)(t2 - t1) * 1e9 / (double)rte_get_tsc_hz() / n, sum % 2);
	nat_rss_free(rss);
}

/*
 * The cost of a bind with the port range split (a share of 1/n of the range
 * each) and with the RSS choice (the whole range, 1/n of it the worker's),
 * for n = 2 and 4: a figure to read, not an assertion (doc/performance.md).
 * 8 Ki flows toward 1024 destinations (few collisions), and toward one
 * (its share up to a quarter full for n = 2, a half for n = 4).
 */
static void
test_rss_bind_cost(void **state)
{
	uint16_t reta[128];

	(void)state;
	for (unsigned int n = 2; n <= 4; n += 2) {
		struct nat_rss *rss;
		struct nat_range split = { .addrs = nat_addr, .n_addrs = 1 }, hashed;
		const uint32_t flows = 8192;
		double ns[4];
		uint32_t failed[4] = { 0 };

		test_reta_fill(reta, 128, n, 1);
		rss = make_rss(toeplitz_default_key, reta, 128, n, 1024, 65535);
		assert_int_equal(nat_range_split(1024, 65535, n, 0, &split.port_lo, &split.port_hi),
				 0);
		hashed = (struct nat_range){ .addrs = nat_addr,
					     .n_addrs = 1,
					     .port_lo = 1024,
					     .port_hi = 65535,
					     .rss = rss,
					     .owner = 0 };
		ns[0] = bind_ns(&split, flows, 1024, &failed[0]);
		ns[1] = bind_ns(&hashed, flows, 1024, &failed[1]);
		ns[2] = bind_ns(&split, flows, 1, &failed[2]);
		ns[3] = bind_ns(&hashed, flows, 1, &failed[3]);
		printf("nat_bind, %u workers, %u flows: 1024 destinations: split %.0f ns, "
		       "rss %.0f ns; one destination: split %.0f ns, rss %.0f ns "
		       "(failed binds %u %u %u %u)\n",
		       n, flows, ns[0], ns[1], ns[2], ns[3], failed[0], failed[1], failed[2],
		       failed[3]);
		nat_rss_free(rss);
	}
	owner_cost();
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
		cmocka_unit_test(test_holes_never_bound),
		cmocka_unit_test(test_holes_preserve),
		cmocka_unit_test(test_holes_spill),
		cmocka_unit_test(test_dests_count_exactly),
		cmocka_unit_test(test_dests_cache_follows_the_table),
		cmocka_unit_test(test_rss_known_hashes),
		cmocka_unit_test(test_rss_bind_lands_on_owner),
		cmocka_unit_test(test_rss_exhaustion_share),
		cmocka_unit_test(test_rss_holes),
		cmocka_unit_test(test_rss_create_errors),
		cmocka_unit_test(test_rss_from_port),
		cmocka_unit_test(test_rss_bind_cost),
	};

	if (test_eal_init("nat") < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
