/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session sync's wire format (lib/ctl/sync.h, lib/dp/sync.c): the exact
 * bytes of a datagram, its decoding, and malformed datagrams and records
 * (every truncation, every single-byte corruption, random bytes): dropped
 * and counted, never a crash, never a record that a worker could not have
 * made.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <rte_random.h>

#include "test_common.h"

#include "sync.h"

static struct dp_sync_rec
rec(uint8_t type, uint16_t sport)
{
	return (struct dp_sync_rec){
		.type = type,
		.proto = IPPROTO_TCP,
		.state = FLOW_S_ESTABLISHED,
		.wscale = 0x88, /* scale 7 both ways */
		.src = htonl(0x0a080002),
		.dst = htonl(0x0a3b763b),
		.sport = htons(sport),
		.dport = htons(6379),
		.remote = htonl(0x0a3b763b),
		.nat_addr = htonl(0xcb00710a),
		.rport = htons(6379),
		.nat_port = htons(50000),
	};
}

static void
test_encode_exact_bytes(void **state)
{
	static const uint8_t want[16 + 32] = {
		0x45, 0x53, 0x59,
		0x31,    /* magic "ESY1" */
		1,    0, /* version, flags */
		0,    1, /* count */
		0,    0,    0,
		7, /* seq */
		0xde, 0xad, 0xbe,
		0xef, /* sender */
		1,    6,    FLOW_S_ESTABLISHED,
		0x88, /* type, proto, state, wscale */
		10,   8,    0,
		2, /* src */
		10,   59,   118,
		59, /* dst */
		0x9c, 0x40, 0x18,
		0xeb, /* sport 40000, dport 6379 */
		10,   59,   118,
		59, /* remote */
		203,  0,    113,
		10, /* nat_addr */
		0x18, 0xeb, 0xc3,
		0x50, /* rport 6379, nat_port 50000 */
		0,    0,    0,
		0, /* reserved */
	};
	struct dp_sync_rec r = rec(DP_SYNC_CREATE, 40000);
	uint8_t buf[CTL_SYNC_DGRAM_MAX];
	(void)state;

	assert_int_equal(ctl_sync_encode(buf, sizeof(buf), 7, 0xdeadbeef, &r, 1), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* a heartbeat: the header alone */
	assert_int_equal(ctl_sync_encode(buf, sizeof(buf), 8, 1, NULL, 0), 16);
	assert_int_equal(buf[7], 0);
	/* too many records, or no room */
	assert_int_equal(ctl_sync_encode(buf, sizeof(buf), 0, 0, &r, CTL_SYNC_BATCH + 1), 0);
	assert_int_equal(ctl_sync_encode(buf, 47, 0, 0, &r, 1), 0);
}

static void
test_roundtrip_full_batch(void **state)
{
	struct dp_sync_rec in[CTL_SYNC_BATCH], out[CTL_SYNC_BATCH];
	uint8_t buf[CTL_SYNC_DGRAM_MAX];
	struct ctl_sync_hdr h;
	unsigned int i, bad = 0;
	size_t len;
	(void)state;

	for (i = 0; i < CTL_SYNC_BATCH; i++)
		in[i] = rec((uint8_t)(DP_SYNC_CREATE + i % 3), (uint16_t)(1000 + i));
	len = ctl_sync_encode(buf, sizeof(buf), 42, 99, in, CTL_SYNC_BATCH);
	assert_int_equal(len, 16 + 32 * CTL_SYNC_BATCH);
	assert_true(len <= 1472); /* one datagram under a 1500-byte MTU */
	assert_int_equal(ctl_sync_decode(buf, len, &h, out, &bad), CTL_SYNC_BATCH);
	assert_int_equal(bad, 0);
	assert_int_equal(h.seq, 42);
	assert_int_equal(h.sender, 99);
	assert_int_equal(h.count, CTL_SYNC_BATCH);
	assert_memory_equal(in, out, sizeof(in));
}

static void
test_malformed_datagrams(void **state)
{
	struct dp_sync_rec r[2] = { rec(DP_SYNC_CREATE, 1), rec(DP_SYNC_STATE, 2) };
	struct dp_sync_rec out[CTL_SYNC_BATCH];
	uint8_t buf[CTL_SYNC_DGRAM_MAX + 64], bad_buf[sizeof(buf)];
	struct ctl_sync_hdr h;
	unsigned int bad = 0;
	size_t len = ctl_sync_encode(buf, sizeof(buf), 1, 2, r, 2), i;
	(void)state;

	/* every truncation, and one byte too many */
	for (i = 0; i < len; i++)
		assert_int_equal(ctl_sync_decode(buf, i, &h, out, &bad), -EINVAL);
	assert_int_equal(ctl_sync_decode(buf, len + 1, &h, out, &bad), -EINVAL);
	/* magic, version, flags, a count over the batch */
	for (i = 0; i < 8; i++) {
		memcpy(bad_buf, buf, len);
		bad_buf[i] ^= 0x40;
		assert_int_equal(ctl_sync_decode(bad_buf, len, &h, out, &bad), -EINVAL);
	}
	assert_int_equal(bad, 0); /* a bad datagram is one count, the caller's */
}

static void
test_malformed_records_dropped(void **state)
{
	struct dp_sync_rec r[3] = { rec(DP_SYNC_CREATE, 1), rec(DP_SYNC_STATE, 2),
				    rec(DP_SYNC_DELETE, 3) };
	struct dp_sync_rec out[CTL_SYNC_BATCH];
	uint8_t buf[CTL_SYNC_DGRAM_MAX];
	struct ctl_sync_hdr h;
	unsigned int bad = 0;
	size_t len;
	(void)state;

	r[0].type = DP_SYNC_TYPE_MAX; /* unknown type */
	r[2].reserved = 1;            /* reserved bits set */
	len = ctl_sync_encode(buf, sizeof(buf), 1, 2, r, 3);
	assert_int_equal(ctl_sync_decode(buf, len, &h, out, &bad), 1);
	assert_int_equal(bad, 2);
	assert_int_equal(out[0].type, DP_SYNC_STATE);
	assert_int_equal(out[0].sport, htons(2));

	/* each field a worker never leaves so */
	r[0] = rec(DP_SYNC_CREATE, 1);
	r[0].proto = IPPROTO_ICMP;
	assert_false(dp_sync_rec_valid(&r[0]));
	r[0] = rec(DP_SYNC_CREATE, 1);
	r[0].state = FLOW_S_MAX;
	assert_false(dp_sync_rec_valid(&r[0]));
	r[0] = rec(DP_SYNC_CREATE, 1);
	r[0].nat_port = 0;
	assert_false(dp_sync_rec_valid(&r[0]));
	r[0] = rec(DP_SYNC_CREATE, 1);
	r[0].nat_addr = 0;
	assert_false(dp_sync_rec_valid(&r[0]));
	r[0] = rec(DP_SYNC_CREATE, 1);
	r[0].proto = IPPROTO_UDP; /* UDP has no window scale */
	assert_false(dp_sync_rec_valid(&r[0]));
	r[0].wscale = 0;
	assert_true(dp_sync_rec_valid(&r[0]));
	r[0].type = 0;
	assert_false(dp_sync_rec_valid(&r[0]));
}

/*
 * Fuzz-like: every single-byte corruption of a valid datagram and
 * 100000 random datagrams. The decoder never reads past len (ASan runs
 * this too), and what it returns is either -EINVAL or records that all
 * pass dp_sync_rec_valid(), with the rest counted.
 */
static void
test_random_bytes_never_crash(void **state)
{
	struct dp_sync_rec r[4] = { rec(1, 1), rec(2, 2), rec(3, 3), rec(1, 4) };
	struct dp_sync_rec out[CTL_SYNC_BATCH];
	uint8_t buf[CTL_SYNC_DGRAM_MAX], x[CTL_SYNC_DGRAM_MAX];
	struct ctl_sync_hdr h;
	unsigned int i, bad, v;
	size_t len = ctl_sync_encode(buf, sizeof(buf), 1, 2, r, 4), j;
	int n;
	(void)state;

	for (j = 0; j < len; j++) {
		for (v = 1; v < 256; v <<= 1) {
			memcpy(x, buf, len);
			x[j] ^= (uint8_t)v;
			bad = 0;
			n = ctl_sync_decode(x, len, &h, out, &bad);
			if (n < 0)
				continue;
			assert_int_equal((unsigned int)n + bad, 4);
			for (i = 0; i < (unsigned int)n; i++)
				assert_true(dp_sync_rec_valid(&out[i]));
		}
	}
	rte_srand(15);
	for (i = 0; i < 100000; i++) {
		size_t l = rte_rand_max(sizeof(x) + 1);

		for (j = 0; j < l; j++)
			x[j] = (uint8_t)rte_rand();
		if (i % 2 == 0 && l >= 16) { /* a valid header over random records */
			uint16_t cnt = (uint16_t)((l - 16) / 32);

			l = 16 + (size_t)cnt * 32;
			memcpy(x, buf, 16);
			x[6] = (uint8_t)(cnt >> 8);
			x[7] = (uint8_t)cnt;
		}
		bad = 0;
		n = ctl_sync_decode(x, l, &h, out, &bad);
		if (n < 0)
			continue;
		assert_int_equal((unsigned int)n + bad, h.count);
		for (j = 0; j < (size_t)n; j++)
			assert_true(dp_sync_rec_valid(&out[j]));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_exact_bytes),
		cmocka_unit_test(test_roundtrip_full_batch),
		cmocka_unit_test(test_malformed_datagrams),
		cmocka_unit_test(test_malformed_records_dropped),
		cmocka_unit_test(test_random_bytes_never_crash),
	};

	if (test_eal_init("sync") != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
