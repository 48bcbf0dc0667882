/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The exception path's control side (lib/ctl/exception.c), its TAP stood
 * in for by a net_ring port: what ctl_exception_poll() writes to the "TAP"
 * lands in one ring, what the "kernel" writes is put in the other. Every
 * field of every frame checked, and the counters exactly.
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "test_common.h"
#include "test_frames.h"

#include "ctl.h"
#include "neigh.h"

#define IP(a, b, c, d)                                                                             \
	rte_cpu_to_be_32((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define OUR_ADDR IP(203, 0, 113, 10)
#define GATEWAY  IP(203, 0, 113, 1)
#define T0       5000u

static const uint8_t mac_port[6] = { 0x02, 0, 0, 0, 0, 0x02 }; /* the outside port's */
static const uint8_t mac_host[6] = { 0x02, 0, 0, 0, 0, 0x7a }; /* the TAP's kernel side */
static const uint8_t mac_gw[6] = { 0x02, 0, 0, 0, 0, 0x91 };
static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct {
	struct rte_mempool *pool;
	struct rte_ring *kernel_out; /* what the kernel writes: the TAP port's RX */
	struct rte_ring *kernel_in;  /* what egressd writes to the TAP: its TX */
	struct dp_conf conf;
	struct ctl c;
} fx;

static int
setup(void **state)
{
	struct rte_eth_conf ec;
	uint16_t port;
	int id;
	(void)state;

	fx.pool = rte_pktmbuf_pool_create("exc_pool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  SOCKET_ID_ANY);
	fx.kernel_out =
		rte_ring_create("exc_kout", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	fx.kernel_in = rte_ring_create("exc_kin", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	assert_non_null(fx.pool);
	assert_non_null(fx.kernel_out);
	assert_non_null(fx.kernel_in);
	id = rte_eth_from_rings("exc_tap", &fx.kernel_out, 1, &fx.kernel_in, 1, SOCKET_ID_ANY);
	assert_true(id >= 0);
	port = (uint16_t)id;
	memset(&ec, 0, sizeof(ec));
	assert_int_equal(rte_eth_dev_configure(port, 1, 1, &ec), 0);
	assert_int_equal(rte_eth_rx_queue_setup(port, 0, 64, SOCKET_ID_ANY, NULL, fx.pool), 0);
	assert_int_equal(rte_eth_tx_queue_setup(port, 0, 64, SOCKET_ID_ANY, NULL), 0);
	assert_int_equal(rte_eth_dev_start(port), 0);

	memset(&fx.conf, 0, sizeof(fx.conf));
	fx.conf.port[DP_OUTSIDE].addr = OUR_ADDR;
	fx.conf.port[DP_OUTSIDE].mask = rte_cpu_to_be_32(0xffffff00);
	fx.conf.port[DP_OUTSIDE].net = OUR_ADDR & fx.conf.port[DP_OUTSIDE].mask;
	memcpy(fx.conf.port[DP_OUTSIDE].mac, mac_port, 6);
	fx.conf.port[DP_OUTSIDE].neigh = neigh_create("exc_neigh", 64, SOCKET_ID_ANY);
	assert_non_null(fx.conf.port[DP_OUTSIDE].neigh);
	assert_int_equal(neigh_learn(fx.conf.port[DP_OUTSIDE].neigh, GATEWAY, mac_gw, T0), 0);
	fx.conf.tx[DP_OUTSIDE] = rte_ring_create("exc_tx", 64, SOCKET_ID_ANY, RING_F_SC_DEQ);
	fx.conf.exc[DP_OUTSIDE].ring =
		rte_ring_create("exc_ring", 64, SOCKET_ID_ANY, RING_F_SC_DEQ);
	assert_non_null(fx.conf.tx[DP_OUTSIDE]);
	assert_non_null(fx.conf.exc[DP_OUTSIDE].ring);

	memset(&fx.c, 0, sizeof(fx.c));
	fx.c.conf = &fx.conf;
	fx.c.pool = fx.pool;
	fx.c.exc[DP_OUTSIDE].on = true;
	fx.c.exc[DP_OUTSIDE].port_id = port;
	memcpy(fx.c.exc[DP_OUTSIDE].host_mac, mac_host, 6);
	return 0;
}

/* An Ethernet + IPv4 + TCP frame (a bare ACK, 54 bytes). */
static struct rte_mbuf *
tcp_frame(const uint8_t *dst_mac, const uint8_t *src_mac, uint32_t src, uint32_t dst)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(fx.pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;

	assert_non_null(m);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, 14 + 20 + 20);
	if (eth == NULL)
		abort();
	memset(eth, 0, 54);
	memcpy(&eth->dst_addr, dst_mac, 6);
	memcpy(&eth->src_addr, src_mac, 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(40);
	ip->time_to_live = 255;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = src;
	ip->dst_addr = dst;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th = (struct rte_tcp_hdr *)(ip + 1);
	th->src_port = rte_cpu_to_be_16(179);
	th->dst_port = rte_cpu_to_be_16(40179);
	th->data_off = 5 << 4;
	th->tcp_flags = RTE_TCP_ACK_FLAG;
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	return m;
}

/* The kernel's ARP request for tip, from sip (42 bytes, as a TAP carries it). */
static struct rte_mbuf *
kernel_arp(uint32_t sip, uint32_t tip)
{
	return test_arp_request(fx.pool, mac_host, sip, tip, 42);
}

static void
kernel_writes(struct rte_mbuf *m)
{
	assert_int_equal(rte_ring_enqueue(fx.kernel_out, m), 0);
}

static struct rte_mbuf *
take(struct rte_ring *r)
{
	void *m = NULL;

	assert_int_equal(rte_ring_dequeue(r, &m), 0);
	return m;
}

static void
test_both_ways(void **state)
{
	const struct ctl_exception *x = &fx.c.exc[DP_OUTSIDE];
	struct rte_mbuf *m, *w[2];
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;
	uint8_t copy[54];
	unsigned int i;
	(void)state;

	/* to the host: what the workers queued, to the kernel interface's MAC,
	 * nothing else changed */
	for (i = 0; i < 2; i++) {
		w[i] = tcp_frame(mac_port, mac_gw, GATEWAY, OUR_ADDR);
		assert_int_equal(rte_ring_enqueue(fx.conf.exc[DP_OUTSIDE].ring, w[i]), 0);
	}
	memcpy(copy, rte_pktmbuf_mtod(w[1], void *), 54);
	ctl_exception_poll(&fx.c, T0);
	assert_int_equal(rte_ring_count(fx.kernel_in), 2);
	assert_ptr_equal(take(fx.kernel_in), w[0]);
	rte_pktmbuf_free(w[0]);
	m = take(fx.kernel_in);
	assert_ptr_equal(m, w[1]);
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	assert_memory_equal(&eth->dst_addr, mac_host, 6);
	assert_memory_equal((uint8_t *)eth + 6, copy + 6, 54 - 6);
	rte_pktmbuf_free(m);
	assert_int_equal(x->to_host, 2);

	/* the kernel asks for the gateway: answered with egressd's entry */
	kernel_writes(kernel_arp(OUR_ADDR, GATEWAY));
	ctl_exception_poll(&fx.c, T0 + 1);
	assert_int_equal(rte_ring_count(fx.kernel_in), 1);
	m = take(fx.kernel_in);
	test_assert_arp_reply(m, mac_host, mac_gw, mac_gw, GATEWAY, OUR_ADDR);
	rte_pktmbuf_free(m);
	assert_int_equal(x->arp_replies, 1);
	assert_int_equal(rte_ring_count(fx.conf.tx[DP_OUTSIDE]), 0);

	/* a neighbour egressd does not know: no answer, resolved on the wire
	 * (egressd's own broadcast ARP request to worker 0's ring) */
	kernel_writes(kernel_arp(OUR_ADDR, IP(203, 0, 113, 77)));
	/* off the prefix, and the kernel's duplicate-address probe: nobody */
	kernel_writes(kernel_arp(OUR_ADDR, IP(198, 51, 100, 1)));
	kernel_writes(kernel_arp(0, OUR_ADDR));
	ctl_exception_poll(&fx.c, T0 + 2);
	assert_int_equal(rte_ring_count(fx.kernel_in), 0);
	assert_int_equal(rte_ring_count(fx.conf.tx[DP_OUTSIDE]), 1);
	m = take(fx.conf.tx[DP_OUTSIDE]);
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	arp = (struct rte_arp_hdr *)(eth + 1);
	assert_memory_equal(&eth->dst_addr, mac_bcast, 6);
	assert_memory_equal(&eth->src_addr, mac_port, 6);
	assert_int_equal(rte_be_to_cpu_16(arp->arp_opcode), RTE_ARP_OP_REQUEST);
	assert_int_equal(arp->arp_data.arp_sip, OUR_ADDR);
	assert_int_equal(arp->arp_data.arp_tip, IP(203, 0, 113, 77));
	rte_pktmbuf_free(m);
	assert_int_equal(x->host_dropped, 3);

	/* the kernel's segment from our address: our MAC as source, padded to
	 * 60 bytes, to worker 0's ring; one from another address is dropped */
	kernel_writes(tcp_frame(mac_gw, mac_host, OUR_ADDR, GATEWAY));
	kernel_writes(tcp_frame(mac_gw, mac_host, IP(192, 0, 2, 9), GATEWAY));
	ctl_exception_poll(&fx.c, T0 + 3);
	assert_int_equal(rte_ring_count(fx.conf.tx[DP_OUTSIDE]), 1);
	m = take(fx.conf.tx[DP_OUTSIDE]);
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	assert_memory_equal(&eth->dst_addr, mac_gw, 6);
	assert_memory_equal(&eth->src_addr, mac_port, 6);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 60);
	{
		static const uint8_t zeros[6];

		assert_memory_equal(rte_pktmbuf_mtod_offset(m, uint8_t *, 54), zeros, 6);
	}
	rte_pktmbuf_free(m);
	assert_int_equal(x->from_host, 1);
	assert_int_equal(x->host_dropped, 4);
	assert_int_equal(x->to_host, 2);
	assert_int_equal(x->arp_replies, 1);
	assert_int_equal(rte_ring_count(fx.kernel_out), 0);
}

/*
 * egressctl drain (conf.draining): the host's frames on the inside exception
 * path are withheld (the router's BGP and BFD go silent), counted as
 * host_dropped; the outside path keeps sending them.
 */
static void
test_drain_withholds_inside(void **state)
{
	struct ctl_exception *x;
	struct rte_mbuf *m;
	(void)state;

	/* test_both_ways' fixture, its counters from zero */
	fx.c.exc[DP_OUTSIDE].to_host = fx.c.exc[DP_OUTSIDE].from_host = 0;
	fx.c.exc[DP_OUTSIDE].arp_replies = fx.c.exc[DP_OUTSIDE].host_dropped = 0;
	/* the "TAP" as the outside port's: not withheld */
	fx.conf.draining = 1;
	kernel_writes(tcp_frame(mac_gw, mac_host, OUR_ADDR, GATEWAY));
	ctl_exception_poll(&fx.c, T0);
	assert_int_equal(rte_ring_count(fx.conf.tx[DP_OUTSIDE]), 1);
	rte_pktmbuf_free(take(fx.conf.tx[DP_OUTSIDE]));
	assert_int_equal(fx.c.exc[DP_OUTSIDE].from_host, 1);

	/* the same TAP as the inside port's */
	fx.conf.port[DP_INSIDE] = fx.conf.port[DP_OUTSIDE];
	fx.conf.tx[DP_INSIDE] = fx.conf.tx[DP_OUTSIDE];
	fx.conf.exc[DP_INSIDE] = fx.conf.exc[DP_OUTSIDE];
	fx.c.exc[DP_INSIDE] = fx.c.exc[DP_OUTSIDE];
	memset(&fx.c.exc[DP_OUTSIDE], 0, sizeof(fx.c.exc[DP_OUTSIDE]));
	x = &fx.c.exc[DP_INSIDE];
	kernel_writes(tcp_frame(mac_gw, mac_host, OUR_ADDR, GATEWAY));
	ctl_exception_poll(&fx.c, T0 + 1);
	assert_int_equal(rte_ring_count(fx.conf.tx[DP_INSIDE]), 0);
	assert_int_equal(x->from_host, 1);
	assert_int_equal(x->host_dropped, 1);
	/* the kernel's ARP is still answered (a neighbour egressd knows) */
	kernel_writes(kernel_arp(OUR_ADDR, GATEWAY));
	ctl_exception_poll(&fx.c, T0 + 2);
	assert_int_equal(x->arp_replies, 1);
	m = take(fx.kernel_in);
	rte_pktmbuf_free(m);

	/* not draining: sent on */
	fx.conf.draining = 0;
	kernel_writes(tcp_frame(mac_gw, mac_host, OUR_ADDR, GATEWAY));
	ctl_exception_poll(&fx.c, T0 + 3);
	assert_int_equal(rte_ring_count(fx.conf.tx[DP_INSIDE]), 1);
	rte_pktmbuf_free(take(fx.conf.tx[DP_INSIDE]));
	assert_int_equal(x->from_host, 2);
	assert_int_equal(x->host_dropped, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_both_ways, setup),
		cmocka_unit_test(test_drain_withholds_inside),
	};

	if (test_eal_init("exception") < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
