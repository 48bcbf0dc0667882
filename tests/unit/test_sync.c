/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session sync's wire format (lib/ctl/sync.h, lib/dp/sync.c): the exact
 * bytes of a datagram, its decoding, and malformed datagrams and records
 * (every truncation, every single-byte corruption, random bytes): dropped
 * and counted, never a crash, never a record that a worker could not have
 * made. Then the sync thread itself over loopback UDP: the peer's flows
 * held up to the cap, a worker's records sent, the manual and the
 * automatic takeover (queued flows, the workers' flag, gratuitous ARP).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <string.h>

#include <unistd.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_ring.h>

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

/* ------------------------------------------- the sync thread, over loopback */

struct thread_fx {
	struct egress_config cfg;
	struct dp_conf conf;
	struct ctl c;
	struct rte_mempool *pool;
	int peer;              /* the test's socket: the peer's sync.listen */
	struct sockaddr_in to; /* the thread's sync.listen */
};

static struct thread_fx tf;

/* A UDP socket on a free loopback port; its port (host order) in *port. */
static int
udp_socket(uint16_t *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* Start the sync thread: max_flows held, takeover auto after dead_ms. */
static void
thread_start(uint32_t max_flows, uint64_t dead_ms, bool takeover_auto)
{
	static unsigned int seq;
	uint16_t me, peer;
	char name[32];
	int probe;

	memset(&tf.cfg, 0, sizeof(tf.cfg));
	memset(&tf.conf, 0, sizeof(tf.conf));
	tf.peer = udp_socket(&peer);
	/* a recv() that gets nothing fails the test rather than hang it */
	assert_int_equal(setsockopt(tf.peer, SOL_SOCKET, SO_RCVTIMEO,
				    &(struct timeval){ .tv_sec = 2 }, sizeof(struct timeval)),
			 0);
	probe = udp_socket(&me); /* a free port for the thread, given back */
	close(probe);
	tf.cfg.sync = (struct egress_sync_cfg){
		.on = true,
		.listen_addr = htonl(INADDR_LOOPBACK),
		.listen_port = me,
		.peer_addr = htonl(INADDR_LOOPBACK),
		.peer_port = peer,
		.peer_nat_addrs = { htonl(0xcb007114) },
		.n_peer_nat_addrs = 1,
		.dead_after_ms = dead_ms,
		.takeover_auto = takeover_auto,
		.max_flows = max_flows,
		.ring = 64,
	};
	tf.conf.n_workers = 1;
	tf.conf.n_sync_peer_addrs = 1;
	tf.conf.sync_peer_addrs[0] = htonl(0xcb007114);
	memcpy(tf.conf.port[DP_OUTSIDE].mac, (uint8_t[]){ 2, 0, 0, 0, 0, 2 }, 6);
	snprintf(name, sizeof(name), "tsy%u", seq);
	tf.conf.sync[0] = rte_ring_create_elem(name, sizeof(struct dp_sync_rec), 64, SOCKET_ID_ANY,
					       RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	snprintf(name, sizeof(name), "tsi%u", seq);
	tf.conf.sync_in[0] = rte_ring_create_elem(name, sizeof(struct dp_sync_rec), 64,
						  SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	snprintf(name, sizeof(name), "tst%u", seq++);
	tf.conf.tx[DP_OUTSIDE] = rte_ring_create(name, 64, SOCKET_ID_ANY, RING_F_SC_DEQ);
	assert_non_null(tf.conf.sync[0]);
	assert_non_null(tf.conf.sync_in[0]);
	assert_non_null(tf.conf.tx[DP_OUTSIDE]);
	tf.c = (struct ctl){ .cfg = &tf.cfg, .conf = &tf.conf, .n_workers = 1, .pool = tf.pool };
	tf.to = (struct sockaddr_in){ .sin_family = AF_INET,
				      .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				      .sin_port = htons(me) };
	assert_int_equal(ctl_sync_start(&tf.c), 0);
}

static void
thread_stop(void)
{
	void *m;

	ctl_sync_stop();
	close(tf.peer);
	while (rte_ring_dequeue(tf.conf.tx[DP_OUTSIDE], &m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(tf.conf.tx[DP_OUTSIDE]);
	rte_ring_free(tf.conf.sync[0]);
	rte_ring_free(tf.conf.sync_in[0]);
}

/* Send n records to the thread as the peer, in one datagram. */
static void
peer_send(const struct dp_sync_rec *recs, unsigned int n)
{
	uint8_t buf[CTL_SYNC_DGRAM_MAX];
	size_t len = ctl_sync_encode(buf, sizeof(buf), 1, 7, recs, n);

	assert_int_equal(sendto(tf.peer, buf, len, 0, (struct sockaddr *)&tf.to, sizeof(tf.to)),
			 (ssize_t)len);
}

/* Wait (up to 2 s) until the counter at offset off of the stats is want. */
static uint64_t
stat_wait(size_t off, uint64_t want)
{
	struct ctl_sync_stats st;
	int i;

	for (i = 0; i < 2000; i++) {
		ctl_sync_stats_get(&st);
		if (*(uint64_t *)((uint8_t *)&st + off) == want)
			break;
		usleep(1000);
	}
	return *(uint64_t *)((uint8_t *)&st + off);
}

#define STAT_WAIT(field, want) stat_wait(offsetof(struct ctl_sync_stats, field), (want))

/*
 * The peer's flows held: created, updated, deleted, at most max_flows
 * (the rest counted); a malformed datagram counted; a worker's records sent
 * to the peer as they were; then egressctl takeover's path: the held
 * established flows queued to their worker, the handshake one skipped, the
 * workers told (conf->sync_takeover), gratuitous ARP for the peer address.
 */
static void
test_thread_holds_and_takes_over(void **state)
{
	struct dp_sync_rec r[4] = { rec(DP_SYNC_CREATE, 1), rec(DP_SYNC_CREATE, 2),
				    rec(DP_SYNC_CREATE, 3), rec(DP_SYNC_DELETE, 1) };
	struct dp_sync_rec got[CTL_SYNC_BATCH], in[4];
	uint8_t buf[CTL_SYNC_DGRAM_MAX + 1];
	struct ctl_sync_hdr h;
	struct rte_mbuf *m = NULL;
	unsigned int bad = 0;
	ssize_t len;
	(void)state;

	thread_start(2, 60000, false);
	r[1].state = FLOW_S_SYN_SENT;
	peer_send(r, 3); /* the third is over the cap */
	assert_int_equal(STAT_WAIT(peer_flows_dropped, 1), 1);
	assert_int_equal(STAT_WAIT(peer_flows, 2), 2);
	assert_int_equal(STAT_WAIT(records_received, 3), 3);
	peer_send(&r[3], 1); /* flow 1 ends */
	assert_int_equal(STAT_WAIT(peer_flows, 1), 1);
	r[0].sport = htons(4); /* a new one, under the cap again */
	r[0].state = FLOW_S_FIN_OUT;
	peer_send(r, 1);
	assert_int_equal(STAT_WAIT(peer_flows, 2), 2);
	assert_int_equal(sendto(tf.peer, "junk", 4, 0, (struct sockaddr *)&tf.to, sizeof(tf.to)),
			 4);
	assert_int_equal(STAT_WAIT(records_malformed, 1), 1);
	assert_int_equal(STAT_WAIT(peer_alive, 1), 1);

	/* a worker's record goes to the peer in the next datagram */
	assert_int_equal(rte_ring_sp_enqueue_elem(tf.conf.sync[0], &r[2], sizeof(r[2])), 0);
	do {
		len = recv(tf.peer, buf, sizeof(buf), 0);
		assert_true(len >= 16);
		bad = 0;
		assert_true(ctl_sync_decode(buf, (size_t)len, &h, got, &bad) >= 0);
	} while (h.count == 0); /* heartbeats */
	assert_int_equal(h.count, 1);
	assert_memory_equal(&got[0], &r[2], sizeof(r[2]));
	assert_int_equal(STAT_WAIT(records_sent, 1), 1);

	/* takeover: manual, so only on request */
	assert_int_equal(__atomic_load_n(&tf.conf.sync_takeover, __ATOMIC_ACQUIRE), 0);
	assert_int_equal(ctl_sync_takeover(), 0);
	assert_int_equal(STAT_WAIT(takeover, 1), 1);
	assert_int_equal(STAT_WAIT(flows_queued, 1), 1);
	assert_int_equal(STAT_WAIT(flows_skipped, 1), 1); /* flow 2: its handshake */
	assert_int_equal(__atomic_load_n(&tf.conf.sync_takeover, __ATOMIC_ACQUIRE), 1);
	assert_int_equal(
		rte_ring_sc_dequeue_burst_elem(tf.conf.sync_in[0], in, sizeof(in[0]), 4, NULL), 1);
	assert_int_equal(in[0].sport, htons(4));
	assert_int_equal(in[0].state, FLOW_S_FIN_OUT);
	/* a gratuitous ARP: broadcast, sender and target the peer's address */
	assert_int_equal(rte_ring_sc_dequeue(tf.conf.tx[DP_OUTSIDE], (void **)&m), 0);
	{
		struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
		struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(eth + 1);

		assert_true(rte_is_broadcast_ether_addr(&eth->dst_addr));
		assert_int_equal(rte_be_to_cpu_16(arp->arp_opcode), RTE_ARP_OP_REQUEST);
		assert_int_equal(arp->arp_data.arp_sip, htonl(0xcb007114));
		assert_int_equal(arp->arp_data.arp_tip, htonl(0xcb007114));
		assert_memory_equal(&arp->arp_data.arp_sha, tf.conf.port[DP_OUTSIDE].mac, 6);
	}
	rte_pktmbuf_free(m);
	thread_stop();
	/* stopped: a takeover request is refused */
	assert_int_equal(ctl_sync_takeover(), -ENOTCONN);
}

/* takeover: auto: a peer never heard is never dead; one heard, then silent, is. */
static void
test_thread_auto_takeover(void **state)
{
	struct dp_sync_rec r = rec(DP_SYNC_STATE, 9);
	(void)state;

	thread_start(16, 100, true);
	usleep(300000);
	assert_int_equal(STAT_WAIT(takeover, 0), 0);
	assert_int_equal(__atomic_load_n(&tf.conf.sync_takeover, __ATOMIC_ACQUIRE), 0);
	peer_send(&r, 1); /* a state record of a flow never created: held */
	assert_int_equal(STAT_WAIT(peer_flows, 1), 1);
	assert_int_equal(STAT_WAIT(takeover, 1), 1); /* 100 ms of silence */
	assert_int_equal(STAT_WAIT(peer_alive, 0), 0);
	assert_int_equal(STAT_WAIT(flows_queued, 1), 1);
	assert_int_equal(__atomic_load_n(&tf.conf.sync_takeover, __ATOMIC_ACQUIRE), 1);
	thread_stop();
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
		cmocka_unit_test(test_thread_holds_and_takes_over),
		cmocka_unit_test(test_thread_auto_takeover),
	};

	if (test_eal_init("sync") != 0)
		return 1;
	tf.pool = rte_pktmbuf_pool_create("sync", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  SOCKET_ID_ANY);
	if (tf.pool == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
