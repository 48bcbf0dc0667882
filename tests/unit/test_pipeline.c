/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pipeline tests: crafted frames through dp_process() in both directions,
 * every rewritten field checked, checksums verified by DPDK's own full
 * computation (independent of the incremental updates under test). Time is
 * an argument: timeouts are tested without waiting.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_epoll.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_thash.h>
#include <rte_udp.h>

#include "test_common.h"
#include "test_frames.h"

#include "config.h"
#include "ctl.h"
#include "dp_private.h" /* white-box: the worker's fields */
#include "flow.h"
#include "nat.h"
#include "nat_dests.h"
#include "neigh.h"
#include "explain.h"
#include "flowlog.h"
#include "policy_build.h"
#include "test_nat_dests.h"
#include "test_rss.h"
#include "test_random_policy.h"

#define IP(a, b, c, d)                                                                             \
	rte_cpu_to_be_32((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static const uint8_t mac_in[6] = { 0x02, 0, 0, 0, 0, 0x01 };  /* our inside port */
static const uint8_t mac_out[6] = { 0x02, 0, 0, 0, 0, 0x02 }; /* our outside port */
static const uint8_t mac_client[6] = { 0x02, 0, 0, 0, 0, 0xc1 };
static const uint8_t mac_gw[6] = { 0x02, 0, 0, 0, 0, 0x91 };

#define CLIENT   IP(10, 8, 0, 2)
#define REDIS    IP(10, 59, 118, 59)
#define NAT_ADDR IP(203, 0, 113, 10)
#define GATEWAY  IP(203, 0, 113, 1)
#define DNS      IP(198, 51, 100, 53)
#define T0       1000000u /* ms: an arbitrary start of time */

struct fixture {
	struct rte_mempool *pool;
	struct egress_config cfg;
	struct dp_conf conf;
	struct rte_rcu_qsbr *qsbr; /* the workers' QSBR, as the daemon has it */
	struct dp_worker *w;       /* worker 0, built by dp_worker_create() */
	uint64_t now;
};

static struct fixture fx;
static unsigned int fixture_seq;

/* The counters use_static_policy() publishes with its policy (the control
 * thread's part: lib/ctl is not linked here). */
static struct dp_counters static_cnt;

static void
free_static_counters(void)
{
	free(static_cnt.rule_flows);
	free(static_cnt.cap_count);
	free(static_cnt.target_active);
	memset(&static_cnt, 0, sizeof(static_cnt));
}

static struct policy *
load_policy(const char *dir, uint32_t gen)
{
	struct diag_list dl = { 0 };
	char *src = (char *)dir;
	struct policy *p;

	fx.cfg.sources = &src;
	fx.cfg.n_sources = 1;
	p = policy_build(&fx.cfg, gen, &dl);
	if (p == NULL)
		diag_print(&dl, stderr);
	diag_list_clear(&dl);
	fx.cfg.sources = NULL;
	fx.cfg.n_sources = 0;
	return p;
}

/* The policy of one YAML text, as a folder of one file holds it. */
static struct policy *
load_policy_text(const char *text, uint32_t gen)
{
	char dir[] = "/tmp/egt-policy-XXXXXX", path[64];
	struct policy *p;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/se.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	p = load_policy(dir, gen);
	unlink(path);
	rmdir(dir);
	assert_non_null(p);
	return p;
}

/*
 * (Re)build worker `id` of fx.conf.n_workers from fx.conf, exactly as the
 * daemon builds its workers (dp_worker_create(): flow table with QSBR
 * reclamation, embryonic FIFO, per-source table when fx.conf has caps), and
 * bring it online. Tests change fx.conf first, then call this.
 */
static struct dp_worker *
make_worker(unsigned int id, uint32_t max_flows)
{
	struct dp_worker_params wp = {
		.id = id,
		.conf = &fx.conf,
		.pool = fx.pool,
		.qsbr = fx.qsbr,
		.max_flows = max_flows,
		.socket_id = SOCKET_ID_ANY,
	};
	struct dp_worker *w = dp_worker_create(&wp);

	assert_non_null(w);
	dp_worker_online(w);
	return w;
}

static void
free_worker(struct dp_worker *w)
{
	if (w == NULL)
		return;
	dp_worker_offline(w);
	dp_worker_free(w);
}

static void
rebuild_worker(uint32_t max_flows)
{
	free_worker(fx.w);
	fx.w = make_worker(0, max_flows);
}

static int
setup(void **state)
{
	char name[32];
	(void)state;

	memset(&fx.cfg, 0, sizeof(fx.cfg));
	fx.cfg.path = "test";
	fx.cfg.port[DP_INSIDE].addr = IP(10, 8, 0, 1);
	fx.cfg.port[DP_INSIDE].prefix_len = 16;
	fx.cfg.port[DP_INSIDE].mtu = 1500;
	fx.cfg.port[DP_OUTSIDE].addr = NAT_ADDR;
	fx.cfg.port[DP_OUTSIDE].prefix_len = 24;
	fx.cfg.port[DP_OUTSIDE].gateway = GATEWAY;
	fx.cfg.port[DP_OUTSIDE].mtu = 1500;
	fx.cfg.nat_addrs[0] = NAT_ADDR;
	fx.cfg.n_nat_addrs = 1;
	fx.cfg.nat_port_lo = 1024;
	fx.cfg.nat_port_hi = 65535;
	fx.cfg.timeout_established_ms = 7440000;
	fx.cfg.timeout_transitory_ms = 240000;
	fx.cfg.timeout_time_wait_ms = 120000;
	fx.cfg.embryonic_max = 1024;
	fx.cfg.workers = 1;
	fx.cfg.labels[0] = (struct egress_label){ "istio", "egressgateway" };
	fx.cfg.n_labels = 1;

	memset(&fx.conf, 0, sizeof(fx.conf));
	ctl_dp_conf(&fx.conf, &fx.cfg);
	memcpy(fx.conf.port[DP_INSIDE].mac, mac_in, 6);
	memcpy(fx.conf.port[DP_OUTSIDE].mac, mac_out, 6);
	snprintf(name, sizeof(name), "ni%u", fixture_seq);
	fx.conf.port[DP_INSIDE].neigh = neigh_create(name, 64, SOCKET_ID_ANY);
	snprintf(name, sizeof(name), "no%u", fixture_seq);
	fx.conf.port[DP_OUTSIDE].neigh = neigh_create(name, 64, SOCKET_ID_ANY);
	snprintf(name, sizeof(name), "ev%u", fixture_seq);
	fx.conf.events = rte_ring_create_elem(name, sizeof(struct dp_event), 64, SOCKET_ID_ANY,
					      RING_F_SC_DEQ);
	assert_non_null(fx.conf.port[DP_INSIDE].neigh);
	assert_non_null(fx.conf.port[DP_OUTSIDE].neigh);
	assert_non_null(fx.conf.events);
	assert_int_equal(neigh_learn(fx.conf.port[DP_INSIDE].neigh, CLIENT, mac_client, 0), 0);
	assert_int_equal(neigh_learn(fx.conf.port[DP_OUTSIDE].neigh, GATEWAY, mac_gw, 0), 0);

	fx.conf.policy = load_policy("../config/memorystore/policy", 1);
	assert_non_null(fx.conf.policy);

	fixture_seq++;
	/* readers: the workers a test builds (at most two) */
	fx.qsbr = dp_qsbr_create(2, SOCKET_ID_ANY);
	assert_non_null(fx.qsbr);
	fx.w = NULL;
	rebuild_worker(4096);
	fx.now = T0;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	free_worker(fx.w);
	fx.w = NULL;
	dp_qsbr_free(fx.qsbr);
	policy_free(fx.conf.policy);
	free_static_counters();
	neigh_free(fx.conf.port[DP_INSIDE].neigh);
	neigh_free(fx.conf.port[DP_OUTSIDE].neigh);
	rte_ring_free(fx.conf.events);
	return 0;
}

/* ------------------------------------------------------------ frame builder */

struct tcp_spec {
	const uint8_t *dst_mac, *src_mac;
	uint32_t src, dst;
	uint16_t sport, dport;
	uint8_t flags, ttl;
	uint32_t seq, ack;
	uint16_t payload;
};

static struct rte_mbuf *
make_tcp(const struct tcp_spec *s)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(fx.pool);
	uint16_t len = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) +
		       sizeof(struct rte_tcp_hdr) + s->payload;
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	uint8_t *buf;
	uint16_t i;

	assert_non_null(m);
	buf = (uint8_t *)rte_pktmbuf_append(m, len);
	if (buf == NULL)
		abort(); /* not assert_non_null: the compiler must see it stop */
	eth = (struct rte_ether_hdr *)buf;
	memcpy(&eth->dst_addr, s->dst_mac, 6);
	memcpy(&eth->src_addr, s->src_mac, 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(len - sizeof(*eth));
	ip->packet_id = rte_cpu_to_be_16(0x1234);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = s->ttl ? s->ttl : 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = s->src;
	ip->dst_addr = s->dst;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th = (struct rte_tcp_hdr *)(ip + 1);
	memset(th, 0, sizeof(*th));
	th->src_port = rte_cpu_to_be_16(s->sport);
	th->dst_port = rte_cpu_to_be_16(s->dport);
	th->sent_seq = rte_cpu_to_be_32(s->seq);
	th->recv_ack = rte_cpu_to_be_32(s->ack);
	th->data_off = 5 << 4;
	th->tcp_flags = s->flags;
	th->rx_win = rte_cpu_to_be_16(64240);
	for (i = 0; i < s->payload; i++)
		((uint8_t *)(th + 1))[i] = (uint8_t)(i * 7 + 1);
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	return m;
}

/* The key of the client's TCP 5-tuple to dst:dport from sport, as the flow table holds it. */
static struct flow_key
client_key(uint32_t dst, uint16_t sport, uint16_t dport)
{
	return (struct flow_key){ .src_ip = CLIENT,
				  .dst_ip = dst,
				  .src_port = rte_cpu_to_be_16(sport),
				  .dst_port = rte_cpu_to_be_16(dport),
				  .proto = IPPROTO_TCP };
}

/* A client segment to dst:dport from sport, with payload bytes of data. */
static struct rte_mbuf *
client_tcp(uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
	   uint16_t payload)
{
	return make_tcp(&(struct tcp_spec){ .dst_mac = mac_in,
					    .src_mac = mac_client,
					    .src = CLIENT,
					    .dst = dst,
					    .sport = sport,
					    .dport = dport,
					    .flags = flags,
					    .seq = seq,
					    .ack = ack,
					    .payload = payload });
}

/* A client segment, as the mesh sends it to the gateway. */
static struct rte_mbuf *
client_seg(uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags)
{
	return client_tcp(sport, dst, dport, flags, 1000, flags & RTE_TCP_ACK_FLAG ? 5001 : 0, 0);
}

/* A server segment arriving on the outside for NAT address:port. */
static struct rte_mbuf *
server_seg(uint32_t src, uint16_t sport, uint16_t nat_port, uint8_t flags)
{
	struct tcp_spec s = {
		.dst_mac = mac_out,
		.src_mac = mac_gw,
		.src = src,
		.dst = NAT_ADDR,
		.sport = sport,
		.dport = nat_port,
		.flags = flags,
		.seq = 5000,
		.ack = 1001,
		.payload = 12,
	};

	return make_tcp(&s);
}

/*
 * One burst through worker 0 at fx.now, as one iteration of the daemon's
 * poll loop: what earlier bursts deleted starts its grace period first.
 * Frames to send are appended to out.
 */
static uint16_t
burst(enum dp_port in, struct rte_mbuf **pkts, uint16_t n, struct dp_out *out)
{
	uint16_t before[DP_NPORTS] = { out->n[DP_INSIDE], out->n[DP_OUTSIDE] }, sent;
	unsigned int p;

	dp_worker_quiesce(fx.w);
	sent = dp_process(fx.w, in, pkts, n, fx.now, out);
	/* and made ready for TX, as the poll loop does (lib/dp/loop.c) */
	for (p = 0; p < DP_NPORTS; p++)
		out->n[p] = (uint16_t)(before[p] +
				       dp_tx_prepare(&fx.conf.port[p], &out->pkts[p][before[p]],
						     (uint16_t)(out->n[p] - before[p])));
	return sent;
}

static uint16_t
run(enum dp_port in, struct rte_mbuf *m, struct dp_out *out)
{
	memset(out, 0, sizeof(*out));
	return burst(in, &m, 1, out);
}

static void
free_out(struct dp_out *out)
{
	unsigned int p, i;

	for (p = 0; p < DP_NPORTS; p++)
		for (i = 0; i < out->n[p]; i++)
			rte_pktmbuf_free(out->pkts[p][i]);
	memset(out, 0, sizeof(*out));
}

static struct rte_ipv4_hdr *
ip_of(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
}

static struct rte_tcp_hdr *
tcp_of(struct rte_mbuf *m)
{
	return (struct rte_tcp_hdr *)(ip_of(m) + 1);
}

/* Both checksums, by full recomputation. */
static void
assert_checksums(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = ip_of(m);

	assert_int_equal(rte_ipv4_cksum(ip), 0); /* a valid header sums to 0xffff */
	assert_int_equal(rte_ipv4_udptcp_cksum_verify(ip, ip + 1), 0);
}

static void
assert_l2(struct rte_mbuf *m, const uint8_t *dst, const uint8_t *src)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	assert_memory_equal(&eth->dst_addr, dst, 6);
	assert_memory_equal(&eth->src_addr, src, 6);
	assert_int_equal(rte_be_to_cpu_16(eth->ether_type), RTE_ETHER_TYPE_IPV4);
}

static uint64_t
drops(enum egress_drop why)
{
	return fx.w->stats.drops[why];
}

/* Open a flow: client SYN out, returns the NAT port it got. */
static uint16_t
open_flow(uint16_t sport)
{
	struct dp_out out;
	uint16_t nat_port;

	assert_int_equal(run(DP_INSIDE, client_seg(sport, REDIS, 6379, RTE_TCP_SYN_FLAG), &out), 1);
	assert_int_equal(out.n[DP_OUTSIDE], 1);
	nat_port = rte_be_to_cpu_16(tcp_of(out.pkts[DP_OUTSIDE][0])->src_port);
	free_out(&out);
	return nat_port;
}

struct udp_spec {
	const uint8_t *dst_mac, *src_mac;
	uint32_t src, dst;
	uint16_t sport, dport; /* host order */
	uint16_t payload;
	bool no_cksum; /* checksum 0: none (RFC 768) */
};

static struct rte_mbuf *
make_udp(const struct udp_spec *s)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(fx.pool);
	uint16_t len = 14 + 20 + 8 + s->payload, i;
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *u;

	assert_non_null(m);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, len);
	if (eth == NULL)
		abort();
	memcpy(&eth->dst_addr, s->dst_mac, 6);
	memcpy(&eth->src_addr, s->src_mac, 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(len - 14);
	ip->packet_id = rte_cpu_to_be_16(0x5678);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = s->src;
	ip->dst_addr = s->dst;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	u = (struct rte_udp_hdr *)(ip + 1);
	u->src_port = rte_cpu_to_be_16(s->sport);
	u->dst_port = rte_cpu_to_be_16(s->dport);
	u->dgram_len = rte_cpu_to_be_16(8 + s->payload);
	u->dgram_cksum = 0;
	for (i = 0; i < s->payload; i++)
		((uint8_t *)(u + 1))[i] = (uint8_t)(i * 13 + 5);
	if (!s->no_cksum)
		u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
	return m;
}

static struct rte_mbuf *
client_udp(uint16_t sport, uint32_t dst, uint16_t dport, uint16_t payload, bool no_cksum)
{
	return make_udp(&(struct udp_spec){ .dst_mac = mac_in,
					    .src_mac = mac_client,
					    .src = CLIENT,
					    .dst = dst,
					    .sport = sport,
					    .dport = dport,
					    .payload = payload,
					    .no_cksum = no_cksum });
}

static struct rte_mbuf *
server_udp(uint16_t nat_port, uint16_t payload, bool no_cksum)
{
	return make_udp(&(struct udp_spec){ .dst_mac = mac_out,
					    .src_mac = mac_gw,
					    .src = DNS,
					    .dst = NAT_ADDR,
					    .sport = 53,
					    .dport = nat_port,
					    .payload = payload,
					    .no_cksum = no_cksum });
}

/* ------------------------------------------------------------------ tests */

static void
test_syn_is_snatted(void **state)
{
	struct rte_mbuf *m = client_seg(40000, REDIS, 6379, RTE_TCP_SYN_FLAG);
	struct rte_ipv4_hdr before = *ip_of(m);
	struct rte_tcp_hdr tbefore = *tcp_of(m);
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	struct dp_out out;
	(void)state;

	assert_int_equal(run(DP_INSIDE, m, &out), 1);
	assert_int_equal(out.n[DP_INSIDE], 0);
	assert_int_equal(out.n[DP_OUTSIDE], 1);
	m = out.pkts[DP_OUTSIDE][0];
	assert_l2(m, mac_gw, mac_out);
	ip = ip_of(m);
	th = tcp_of(m);
	assert_int_equal(ip->src_addr, NAT_ADDR);
	assert_int_equal(ip->dst_addr, REDIS);
	assert_int_equal(ip->time_to_live, before.time_to_live - 1);
	assert_int_equal(ip->total_length, before.total_length);
	assert_int_equal(ip->packet_id, before.packet_id);
	assert_int_equal(ip->fragment_offset, before.fragment_offset);
	assert_int_equal(ip->next_proto_id, IPPROTO_TCP);
	assert_true(rte_be_to_cpu_16(th->src_port) >= 1024);
	assert_int_equal(rte_be_to_cpu_16(th->dst_port), 6379);
	assert_int_equal(th->sent_seq, tbefore.sent_seq);
	assert_int_equal(th->recv_ack, tbefore.recv_ack);
	assert_int_equal(th->tcp_flags, RTE_TCP_SYN_FLAG);
	assert_int_equal(th->rx_win, tbefore.rx_win);
	assert_checksums(m);
	assert_int_equal(flow_table_count(fx.w->flows), 1);
	assert_int_equal(fx.w->stats.flows_created, 1);
	free_out(&out);
}

static void
test_reply_is_translated_back(void **state)
{
	uint16_t nat_port = open_flow(40001);
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	struct rte_mbuf *m;
	struct dp_out out;
	(void)state;

	m = server_seg(REDIS, 6379, nat_port, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	assert_int_equal(run(DP_OUTSIDE, m, &out), 1);
	assert_int_equal(out.n[DP_OUTSIDE], 0);
	assert_int_equal(out.n[DP_INSIDE], 1);
	m = out.pkts[DP_INSIDE][0];
	assert_l2(m, mac_client, mac_in);
	ip = ip_of(m);
	th = tcp_of(m);
	assert_int_equal(ip->src_addr, REDIS);
	assert_int_equal(ip->dst_addr, CLIENT);
	assert_int_equal(ip->time_to_live, 63);
	assert_int_equal(rte_be_to_cpu_16(th->src_port), 6379);
	assert_int_equal(rte_be_to_cpu_16(th->dst_port), 40001);
	assert_int_equal(rte_be_to_cpu_32(th->sent_seq), 5000);
	assert_int_equal(rte_be_to_cpu_32(th->recv_ack), 1001);
	assert_int_equal(rte_pktmbuf_data_len(m), 14 + 20 + 20 + 12);
	assert_int_equal(((uint8_t *)(th + 1))[11], (uint8_t)(11 * 7 + 1));
	assert_checksums(m);
	free_out(&out);

	/* the client's ACK establishes the flow */
	assert_int_equal(run(DP_INSIDE, client_seg(40001, REDIS, 6379, RTE_TCP_ACK_FLAG), &out), 1);
	assert_int_equal(tcp_of(out.pkts[DP_OUTSIDE][0])->src_port, rte_cpu_to_be_16(nat_port));
	assert_checksums(out.pkts[DP_OUTSIDE][0]);
	free_out(&out);
	{
		struct flow_key k = client_key(REDIS, 40001, 6379);
		uint8_t dir;
		struct flow *f = flow_table_lookup(fx.w->flows, &k, &dir);

		assert_non_null(f);
		assert_int_equal(dir, FLOW_DIR_OUT);
		assert_int_equal(f->state, FLOW_S_ESTABLISHED);
		assert_int_equal(fx.w->embryonic, 0);
	}
}

static void
test_denied_port_and_host(void **state)
{
	struct dp_out out;
	(void)state;

	assert_int_equal(run(DP_INSIDE, client_seg(40002, REDIS, 6380, RTE_TCP_SYN_FLAG), &out), 0);
	assert_int_equal(run(DP_INSIDE,
			     client_seg(40002, IP(10, 59, 118, 60), 6379, RTE_TCP_SYN_FLAG), &out),
			 0);
	assert_int_equal(drops(EGRESS_DROP_POLICY_DENIED), 2);
	assert_int_equal(fx.w->stats.port[DP_INSIDE].dropped, 2);
	assert_int_equal(flow_table_count(fx.w->flows), 0);
}

static void
test_deny_reset_answers_syn(void **state)
{
	struct rte_tcp_hdr *th;
	struct rte_ipv4_hdr *ip;
	struct rte_mbuf *m;
	struct dp_out out;
	(void)state;

	fx.conf.deny = EGRESS_DENY_RESET;
	assert_int_equal(run(DP_INSIDE, client_seg(40003, REDIS, 6380, RTE_TCP_SYN_FLAG), &out), 1);
	assert_int_equal(out.n[DP_INSIDE], 1);
	m = out.pkts[DP_INSIDE][0];
	assert_l2(m, mac_client, mac_in);
	ip = ip_of(m);
	th = tcp_of(m);
	assert_int_equal(ip->src_addr, REDIS);
	assert_int_equal(ip->dst_addr, CLIENT);
	assert_int_equal(rte_be_to_cpu_16(th->src_port), 6380);
	assert_int_equal(rte_be_to_cpu_16(th->dst_port), 40003);
	assert_int_equal(th->tcp_flags, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
	assert_int_equal(rte_be_to_cpu_32(th->sent_seq), 0);
	assert_int_equal(rte_be_to_cpu_32(th->recv_ack), 1001);
	/* 54 bytes of headers, padded to the Ethernet minimum */
	assert_int_equal(rte_pktmbuf_data_len(m), 60);
	assert_int_equal(rte_be_to_cpu_16(ip->total_length), 40);
	assert_checksums(m);
	assert_int_equal(drops(EGRESS_DROP_POLICY_DENIED), 1);
	assert_int_equal(fx.w->stats.rst_sent, 1);
	free_out(&out);
}

static void
test_no_flow_drops(void **state)
{
	struct dp_out out;
	(void)state;

	/* mid-stream segment of a flow the gateway never saw */
	assert_int_equal(run(DP_INSIDE, client_seg(40004, REDIS, 6379, RTE_TCP_ACK_FLAG), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_NOT_SYN), 1);
	/* an unsolicited segment from outside */
	assert_int_equal(run(DP_OUTSIDE, server_seg(REDIS, 6379, 5555, RTE_TCP_SYN_FLAG), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_NO_FLOW), 1);
	/* a reply from another source port than the flow's destination */
	{
		uint16_t nat_port = open_flow(40005);

		assert_int_equal(
			run(DP_OUTSIDE, server_seg(REDIS, 6380, nat_port, RTE_TCP_ACK_FLAG), &out),
			0);
		assert_int_equal(drops(EGRESS_DROP_NO_FLOW), 2);
	}
	/* no hairpin: a SYN to a mesh address, or to the sender itself,
	 * creates nothing and answers nothing, not even a RST (a fuzz finding:
	 * under ALLOW_ANY such a flow NATed the mesh to itself) */
	fx.conf.deny = EGRESS_DENY_RESET;
	assert_int_equal(
		run(DP_INSIDE, client_seg(40006, IP(10, 8, 0, 7), 6379, RTE_TCP_SYN_FLAG), &out),
		0);
	assert_int_equal(run(DP_INSIDE, client_seg(40006, CLIENT, 1536, RTE_TCP_SYN_FLAG), &out),
			 0);
	assert_int_equal(drops(EGRESS_DROP_NO_ROUTE), 2);
	assert_int_equal(fx.w->stats.rst_sent, 0);
	assert_int_equal(flow_table_count(fx.w->flows), 1);
}

/* The RST of a segment from the client to REDIS:dport from sport. */
static void
assert_client_rst(struct rte_mbuf *m, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq,
		  uint32_t ack)
{
	struct rte_ipv4_hdr *ip = ip_of(m);
	struct rte_tcp_hdr *th = tcp_of(m);

	assert_l2(m, mac_client, mac_in);
	assert_int_equal(ip->src_addr, REDIS);
	assert_int_equal(ip->dst_addr, CLIENT);
	assert_int_equal(ip->time_to_live, 64);
	assert_int_equal(rte_be_to_cpu_16(ip->total_length), 40);
	assert_int_equal(rte_be_to_cpu_16(th->src_port), dport);
	assert_int_equal(rte_be_to_cpu_16(th->dst_port), sport);
	assert_int_equal(th->tcp_flags, flags);
	assert_int_equal(rte_be_to_cpu_32(th->sent_seq), seq);
	assert_int_equal(rte_be_to_cpu_32(th->recv_ack), ack);
	assert_int_equal(th->rx_win, 0);
	/* 54 bytes of headers, padded to the Ethernet minimum */
	assert_int_equal(rte_pktmbuf_data_len(m), 60);
	assert_checksums(m);
}

/*
 * flows.no_flow, one burst from the inside: an ACK and a data segment of
 * connections the appliance never saw, a RST of one, and a new connection's
 * SYN. With reset, the first two are answered as RFC 793 "Reset
 * Generation" says for a segment with ACK (a bare RST whose seq is that
 * ACK; a segment without ACK, SYN or RST is tcp_bad_flags before this),
 * the RST by nothing, and the SYN is admitted; with drop (the default) only
 * the SYN passes. Either way the three are no_flow_not_syn.
 */
static uint16_t
run_no_flow_burst(struct dp_out *out)
{
	struct rte_mbuf *no_flow_burst[4];

	no_flow_burst[0] = client_tcp(40200, REDIS, 6379, RTE_TCP_ACK_FLAG, 1000, 5001, 0);
	no_flow_burst[1] =
		client_tcp(40201, REDIS, 6379, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 2000, 7001, 10);
	no_flow_burst[2] = client_tcp(40202, REDIS, 6379, RTE_TCP_RST_FLAG, 3000, 0, 0);
	no_flow_burst[3] = client_seg(40203, REDIS, 6379, RTE_TCP_SYN_FLAG);
	memset(out, 0, sizeof(*out));
	return burst(DP_INSIDE, no_flow_burst, 4, out);
}

static void
test_no_flow_reset(void **state)
{
	struct dp_out out;
	(void)state;

	fx.conf.no_flow = EGRESS_NO_FLOW_RESET;
	assert_int_equal(run_no_flow_burst(&out), 3);
	assert_int_equal(out.n[DP_INSIDE], 2);
	assert_client_rst(out.pkts[DP_INSIDE][0], 40200, 6379, RTE_TCP_RST_FLAG, 5001, 0);
	assert_client_rst(out.pkts[DP_INSIDE][1], 40201, 6379, RTE_TCP_RST_FLAG, 7001, 0);
	assert_int_equal(out.n[DP_OUTSIDE], 1);
	assert_int_equal(rte_be_to_cpu_16(tcp_of(out.pkts[DP_OUTSIDE][0])->dst_port), 6379);
	assert_int_equal(tcp_of(out.pkts[DP_OUTSIDE][0])->tcp_flags, RTE_TCP_SYN_FLAG);
	assert_int_equal(ip_of(out.pkts[DP_OUTSIDE][0])->src_addr, NAT_ADDR);
	assert_int_equal(drops(EGRESS_DROP_NOT_SYN), 3);
	assert_int_equal(fx.w->stats.port[DP_INSIDE].dropped, 3);
	assert_int_equal(fx.w->stats.rst_sent, 2);
	assert_int_equal(fx.w->stats.flows_created, 1);
	assert_int_equal(flow_table_count(fx.w->flows), 1);
	free_out(&out);

	/* the RSTs come out of the bucket policy.deny's use: empty, none */
	fx.w->rst.tokens = 0;
	fx.w->rst.last_ms = (uint32_t)fx.now;
	assert_int_equal(run(DP_INSIDE, client_seg(40204, REDIS, 6379, RTE_TCP_ACK_FLAG), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_NOT_SYN), 4);
	assert_int_equal(fx.w->stats.rst_sent, 2);
}

static void
test_no_flow_drop_default(void **state)
{
	struct dp_out out;
	(void)state;

	assert_int_equal(fx.conf.no_flow, EGRESS_NO_FLOW_DROP);
	/* policy.deny: reset is about denied SYNs, not these */
	fx.conf.deny = EGRESS_DENY_RESET;
	assert_int_equal(run_no_flow_burst(&out), 1);
	assert_int_equal(out.n[DP_INSIDE], 0);
	assert_int_equal(out.n[DP_OUTSIDE], 1);
	assert_int_equal(tcp_of(out.pkts[DP_OUTSIDE][0])->tcp_flags, RTE_TCP_SYN_FLAG);
	assert_int_equal(drops(EGRESS_DROP_NOT_SYN), 3);
	assert_int_equal(fx.w->stats.port[DP_INSIDE].dropped, 3);
	assert_int_equal(fx.w->stats.rst_sent, 0);
	assert_int_equal(flow_table_count(fx.w->flows), 1);
	free_out(&out);
}

static void
test_ttl_spoof_l2(void **state)
{
	struct tcp_spec s = {
		.dst_mac = mac_in,
		.src_mac = mac_client,
		.src = CLIENT,
		.dst = REDIS,
		.sport = 40006,
		.dport = 6379,
		.flags = RTE_TCP_SYN_FLAG,
		.ttl = 1,
	};
	struct dp_out out;
	(void)state;

	assert_int_equal(run(DP_INSIDE, make_tcp(&s), &out), 1);
	assert_int_equal(drops(EGRESS_DROP_TTL_EXPIRED), 1);
	/* ICMP time exceeded, from our inside address, quoting the packet */
	{
		struct rte_mbuf *e = out.pkts[DP_INSIDE][0];
		struct rte_ipv4_hdr *ip = ip_of(e);
		struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ip + 1);
		struct rte_ipv4_hdr *q = (struct rte_ipv4_hdr *)(ic + 1);

		assert_l2(e, mac_client, mac_in);
		assert_int_equal(ip->src_addr, IP(10, 8, 0, 1));
		assert_int_equal(ip->dst_addr, CLIENT);
		assert_int_equal(ip->next_proto_id, IPPROTO_ICMP);
		assert_int_equal(rte_ipv4_cksum(ip), 0);
		assert_int_equal(ic->icmp_type, 11);
		assert_int_equal(ic->icmp_code, 0);
		assert_int_equal(rte_raw_cksum(ic, rte_be_to_cpu_16(ip->total_length) - 20),
				 0xffff);
		assert_int_equal(q->src_addr, CLIENT);
		assert_int_equal(q->dst_addr, REDIS);
		assert_int_equal(q->time_to_live, 1);
		assert_int_equal(rte_be_to_cpu_16(((struct rte_tcp_hdr *)(q + 1))->src_port),
				 40006);
		assert_int_equal(fx.w->stats.icmp_sent, 1);
		free_out(&out);
	}
	s.ttl = 64;
	s.src = IP(192, 168, 1, 1);
	assert_int_equal(run(DP_INSIDE, make_tcp(&s), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_SPOOFED), 1);
	s.src = CLIENT;
	s.dst_mac = mac_out;
	assert_int_equal(run(DP_INSIDE, make_tcp(&s), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_L2_NOT_FOR_US), 1);
	assert_int_equal(flow_table_count(fx.w->flows), 0);
}

static void
test_arp_reply_and_learn(void **state)
{
	static const uint8_t mac_new[6] = { 0x02, 0, 0, 0, 0, 0xc2 };
	struct rte_mbuf *m =
		test_arp_request(fx.pool, mac_new, IP(10, 8, 0, 3), IP(10, 8, 0, 1), 60);
	struct dp_event ev;
	struct dp_out out;
	(void)state;

	assert_int_equal(run(DP_INSIDE, m, &out), 1);
	test_assert_arp_reply(out.pkts[DP_INSIDE][0], mac_new, mac_in, mac_in, IP(10, 8, 0, 1),
			      IP(10, 8, 0, 3));
	free_out(&out);

	/* the worker told the control thread what it learnt */
	assert_int_equal(rte_ring_sc_dequeue_elem(fx.conf.events, &ev, sizeof(ev)), 0);
	assert_int_equal(ev.type, DP_EV_LEARN);
	assert_int_equal(ev.port, DP_INSIDE);
	assert_int_equal(ev.ip, IP(10, 8, 0, 3));
	assert_memory_equal(ev.mac, mac_new, 6);
}

/* An echo request from the gateway to our outside address (16 bytes of data). */
static struct rte_mbuf *
gateway_echo(void)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(fx.pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *ic;

	assert_non_null(m);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, 14 + 20 + 8 + 16);
	memcpy(&eth->dst_addr, mac_out, 6);
	memcpy(&eth->src_addr, mac_gw, 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	memset(ip, 0, 20 + 8 + 16);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(20 + 8 + 16);
	ip->time_to_live = 60;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = GATEWAY;
	ip->dst_addr = NAT_ADDR;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	ic = (struct rte_icmp_hdr *)(ip + 1);
	ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	ic->icmp_ident = rte_cpu_to_be_16(77);
	ic->icmp_seq_nb = rte_cpu_to_be_16(1);
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, 8 + 16);
	return m;
}

static void
test_icmp_echo(void **state)
{
	struct rte_mbuf *m = gateway_echo();
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *ic;
	struct dp_out out;
	(void)state;

	assert_int_equal(run(DP_OUTSIDE, m, &out), 1);
	m = out.pkts[DP_OUTSIDE][0];
	assert_l2(m, mac_gw, mac_out);
	ip = ip_of(m);
	ic = (struct rte_icmp_hdr *)(ip + 1);
	assert_int_equal(ip->src_addr, NAT_ADDR);
	assert_int_equal(ip->dst_addr, GATEWAY);
	assert_int_equal(ic->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	assert_int_equal(rte_be_to_cpu_16(ic->icmp_ident), 77);
	assert_int_equal(rte_ipv4_cksum(ip), 0);
	assert_int_equal(rte_raw_cksum(ic, 8 + 16), 0xffff);
	assert_int_equal(fx.w->stats.echo_replies, 1);
	free_out(&out);
}

/* A TCP segment from a peer on the outside prefix (the gateway) to our outside address. */
static struct rte_mbuf *
peer_tcp(uint16_t sport, uint16_t dport, uint8_t ttl)
{
	return make_tcp(&(struct tcp_spec){ .dst_mac = mac_out,
					    .src_mac = mac_gw,
					    .src = GATEWAY,
					    .dst = NAT_ADDR,
					    .sport = sport,
					    .dport = dport,
					    .flags = RTE_TCP_SYN_FLAG,
					    .seq = 77,
					    .ttl = ttl });
}

/* A TCP segment from the client to our inside address, from port 50000. */
static struct rte_mbuf *
mesh_to_self(uint16_t dport, uint8_t flags)
{
	return make_tcp(&(struct tcp_spec){ .dst_mac = mac_in,
					    .src_mac = mac_client,
					    .src = CLIENT,
					    .dst = IP(10, 8, 0, 1),
					    .sport = 50000,
					    .dport = dport,
					    .flags = flags });
}

/* Run m on port in; it must reach ring r untouched, as the only frame there. */
static void
assert_excepted(enum dp_port in, struct rte_mbuf *m, struct rte_ring *r)
{
	uint8_t copy[128];
	uint32_t len = rte_pktmbuf_data_len(m);
	struct dp_out out;
	void *got = NULL;

	assert_true(len <= sizeof(copy));
	memcpy(copy, rte_pktmbuf_mtod(m, void *), len);
	assert_int_equal(run(in, m, &out), 0);
	assert_int_equal(rte_ring_count(r), 1);
	assert_int_equal(rte_ring_dequeue(r, &got), 0);
	assert_ptr_equal(got, m);
	assert_int_equal(rte_pktmbuf_data_len(m), len);
	assert_memory_equal(rte_pktmbuf_mtod(m, void *), copy, len);
	rte_pktmbuf_free(m);
}

/*
 * The exception path's ports inside nat.ports on the outside address (a
 * NAT address): ctl_dp_conf() makes them holes, and a worker built from
 * that conf never binds them, port_alloc: preserve included: a client's
 * own port equal to a hole is remapped, the range is exhausted at its size
 * less the holes.
 */
static void
test_nat_skips_exception_ports(void **state)
{
	struct egress_exception_cfg *x = &fx.cfg.port[DP_OUTSIDE].exception;
	struct dp_out out;
	uint16_t p0, p1, p2;
	(void)state;

	fx.cfg.nat_port_lo = 40000;
	fx.cfg.nat_port_hi = 40003;
	fx.cfg.port_alloc = EGRESS_PORT_ALLOC_PRESERVE;
	snprintf(x->tap, sizeof(x->tap), "egx");
	x->proto[0] = (struct egress_exception_proto){ .proto = IPPROTO_TCP, .port = 40001 };
	x->proto[1] = (struct egress_exception_proto){ .proto = IPPROTO_UDP, .port = 40002 };
	x->proto[2] = (struct egress_exception_proto){ .proto = IPPROTO_TCP, .port = 179 };
	x->n_protos = 3;
	ctl_dp_conf(&fx.conf, &fx.cfg);
	assert_int_equal(fx.conf.n_nat_holes, 2);
	assert_int_equal(fx.conf.nat_holes[0].addr, NAT_ADDR);
	assert_int_equal(fx.conf.nat_holes[0].port, 40001);
	assert_int_equal(fx.conf.nat_holes[0].proto, IPPROTO_TCP);
	assert_int_equal(fx.conf.nat_holes[1].addr, NAT_ADDR);
	assert_int_equal(fx.conf.nat_holes[1].port, 40002);
	assert_int_equal(fx.conf.nat_holes[1].proto, IPPROTO_UDP);
	rebuild_worker(4096);

	/* preserved where no hole; the TCP hole remapped; UDP's hole is no TCP one */
	assert_int_equal(open_flow(40000), 40000);
	p1 = open_flow(40001);
	assert_true(p1 == 40002 || p1 == 40003);
	p2 = open_flow(40002);
	assert_int_equal(p2, p1 == 40002 ? 40003 : 40002);
	/* three of four ports bound: the hole is all that is left, never bound */
	assert_int_equal(run(DP_INSIDE, client_seg(40003, REDIS, 6379, RTE_TCP_SYN_FLAG), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_NAT_EXHAUSTED), 1);
	assert_int_equal(flow_table_count(fx.w->flows), 3);

	/* the same exception on an address that is no NAT address: no hole */
	fx.cfg.nat_addrs[0] = IP(198, 51, 100, 7);
	ctl_dp_conf(&fx.conf, &fx.cfg);
	assert_int_equal(fx.conf.n_nat_holes, 0);
	fx.cfg.nat_addrs[0] = NAT_ADDR;
	ctl_dp_conf(&fx.conf, &fx.cfg);
	rebuild_worker(4096);
	p0 = open_flow(40001);
	assert_int_not_equal(p0, 40001);
}

/*
 * The control-plane exception path (lib/dp/exception.c): frames to our own
 * address for a listed protocol reach the exception ring untouched (TTL
 * too: BFD checks it); echo is still the data path's; an unlisted port is
 * dropped as before, under its reason; a full ring drops and counts.
 */
static void
test_exception_path(void **state)
{
	struct rte_ring *r_out =
		rte_ring_create("exc_t_out", 4, SOCKET_ID_ANY, RING_F_SC_DEQ | RING_F_EXACT_SZ);
	struct rte_ring *r_in = rte_ring_create("exc_t_in", 4, SOCKET_ID_ANY, RING_F_SC_DEQ);
	struct dp_out out;
	uint64_t total = 0;
	unsigned int r;
	(void)state;

	assert_non_null(r_out);
	assert_non_null(r_in);
	fx.conf.exc[DP_OUTSIDE] = (struct dp_exception){
		.ring = r_out,
		.n = 2,
		.proto = { IPPROTO_TCP, IPPROTO_UDP },
		.port = { rte_cpu_to_be_16(179), rte_cpu_to_be_16(3784) },
	};
	fx.conf.exc[DP_INSIDE] = (struct dp_exception){
		.ring = r_in,
		.n = 1,
		.proto = { IPPROTO_TCP },
		.port = { rte_cpu_to_be_16(22) },
	};

	/* BGP: a peer connects to our address:179 (GTSM's TTL 255 kept) */
	assert_excepted(DP_OUTSIDE, peer_tcp(40179, 179, 255), r_out);
	/* the peer's side of a session the host opened, to a port nat.ports
	 * (1024-65535) cannot have bound */
	assert_excepted(DP_OUTSIDE, peer_tcp(179, 1000, 64), r_out);
	/* BFD control (RFC 5881: udp/3784, TTL 255) */
	assert_excepted(DP_OUTSIDE,
			make_udp(&(struct udp_spec){ .dst_mac = mac_out,
						     .src_mac = mac_gw,
						     .src = GATEWAY,
						     .dst = NAT_ADDR,
						     .sport = 49152,
						     .dport = 3784,
						     .payload = 24 }),
			r_out);
	/* SSH to the inside (management) address */
	assert_excepted(DP_INSIDE, mesh_to_self(22, RTE_TCP_SYN_FLAG), r_in);
	assert_int_equal(fx.w->stats.exception_queued, 4);

	/* from a listed port to a NAT port: a NAT reply (no flow here), not the host's */
	assert_int_equal(run(DP_OUTSIDE, peer_tcp(179, 40000, 64), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_NO_FLOW), 1);
	/* an unlisted port: dropped as without the exception path */
	assert_int_equal(run(DP_OUTSIDE, peer_tcp(40180, 180, 64), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_NO_FLOW), 2);
	assert_int_equal(run(DP_INSIDE, mesh_to_self(23, RTE_TCP_SYN_FLAG), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_TO_SELF), 1);
	/* to another address (a flow's server) on port 179: forwarding's */
	assert_int_equal(run(DP_INSIDE, client_seg(40001, REDIS, 179, RTE_TCP_SYN_FLAG), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_POLICY_DENIED), 1);
	assert_int_equal(rte_ring_count(r_in), 0);
	/* echo is still answered by the data path */
	assert_int_equal(run(DP_OUTSIDE, gateway_echo(), &out), 1);
	assert_int_equal(fx.w->stats.echo_replies, 1);
	free_out(&out);
	assert_int_equal(rte_ring_count(r_out), 0);
	assert_int_equal(fx.w->stats.exception_queued, 4);

	/* a full ring (4 slots, exact): the fifth is dropped and counted */
	for (r = 0; r < 5; r++)
		assert_int_equal(run(DP_OUTSIDE, peer_tcp((uint16_t)(41000 + r), 179, 255), &out),
				 0);
	assert_int_equal(rte_ring_count(r_out), 4);
	assert_int_equal(fx.w->stats.exception_queued, 8);
	assert_int_equal(drops(EGRESS_DROP_EXCEPTION_FULL), 1);
	for (r = 0; r < EGRESS_DROP_MAX; r++)
		total += drops((enum egress_drop)r);
	assert_int_equal(total, 5); /* no_flow 2, to_self 1, policy 1, full 1 */
	assert_int_equal(fx.w->stats.port[DP_OUTSIDE].dropped, 3);

	rte_ring_free(r_in);
	{
		void *m;

		while (rte_ring_dequeue(r_out, &m) == 0)
			rte_pktmbuf_free(m);
	}
	rte_ring_free(r_out);
	memset(fx.conf.exc, 0, sizeof(fx.conf.exc));
}

static void
test_unresolved_next_hop(void **state)
{
	struct rte_mbuf *m;
	struct dp_event ev;
	struct dp_out out;
	uint16_t nat_port;
	(void)state;

	/* a client whose MAC the gateway has not learnt */
	nat_port = open_flow(40007);
	{
		struct flow_key k = client_key(REDIS, 40007, 6379);
		uint8_t dir;
		struct flow *f = flow_table_lookup(fx.w->flows, &k, &dir);

		/* pretend the client was another, unknown host of the prefix */
		assert_non_null(f);
	}
	neigh_free(fx.conf.port[DP_INSIDE].neigh);
	fx.conf.port[DP_INSIDE].neigh = neigh_create("ni_empty", 64, SOCKET_ID_ANY);
	m = server_seg(REDIS, 6379, nat_port, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	assert_int_equal(run(DP_OUTSIDE, m, &out), 0);
	assert_int_equal(drops(EGRESS_DROP_NEIGH_UNRESOLVED), 1);
	assert_int_equal(rte_ring_sc_dequeue_elem(fx.conf.events, &ev, sizeof(ev)), 0);
	assert_int_equal(ev.type, DP_EV_RESOLVE);
	assert_int_equal(ev.port, DP_INSIDE);
	assert_int_equal(ev.ip, CLIENT);
}

static void
test_timeouts_free_the_port(void **state)
{
	struct dp_out out;
	uint16_t nat_port;
	(void)state;

	/* one NAT port only, to see exactly when it is free again */
	fx.w->nat.port_lo = fx.w->nat.port_hi = 2000;
	nat_port = open_flow(40008);
	assert_int_equal(nat_port, 2000);
	assert_int_equal(flow_table_count(fx.w->flows), 1);
	/* an embryonic flow lives for the transitory timeout */
	fx.now += fx.cfg.timeout_transitory_ms - 1;
	assert_int_equal(dp_expire(fx.w, fx.now, 4096, NULL), 0);
	fx.now += 1;
	/* then its port is quarantined for time_wait: the flow is not usable,
	 * its reply is unknown, and the port is not given to another flow
	 * toward the same destination */
	assert_int_equal(dp_expire(fx.w, fx.now, 4096, NULL), 0);
	assert_int_equal(fx.w->embryonic, 0);
	assert_int_equal(run(DP_OUTSIDE, server_seg(REDIS, 6379, nat_port, RTE_TCP_ACK_FLAG), &out),
			 0);
	assert_int_equal(drops(EGRESS_DROP_NO_FLOW), 1);
	assert_int_equal(run(DP_INSIDE, client_seg(40108, REDIS, 6379, RTE_TCP_SYN_FLAG), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_NAT_EXHAUSTED), 1);
	/* after time_wait the port is free */
	fx.now += fx.cfg.timeout_time_wait_ms;
	assert_int_equal(dp_expire(fx.w, fx.now, 4096, NULL), 1);
	assert_int_equal(flow_table_count(fx.w->flows), 0);
	assert_int_equal(fx.w->stats.flows_expired, 1);
	assert_int_equal(open_flow(40108), 2000);
}

static void
test_established_timeout_and_lazy_expiry(void **state)
{
	struct dp_out out;
	uint16_t nat_port = open_flow(40009);
	(void)state;

	assert_int_equal(run(DP_OUTSIDE,
			     server_seg(REDIS, 6379, nat_port, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG),
			     &out),
			 1);
	free_out(&out);
	assert_int_equal(run(DP_INSIDE, client_seg(40009, REDIS, 6379, RTE_TCP_ACK_FLAG), &out), 1);
	free_out(&out);
	/* established: survives the transitory timeout */
	fx.now += fx.cfg.timeout_transitory_ms + 1;
	assert_int_equal(dp_expire(fx.w, fx.now, 4096, NULL), 0);
	assert_int_equal(run(DP_INSIDE, client_seg(40009, REDIS, 6379, RTE_TCP_ACK_FLAG), &out), 1);
	free_out(&out);
	/* idle past the established timeout, not swept yet: the next packet
	 * finds it expired, ends it (quarantine) and is treated as flowless */
	fx.now += fx.cfg.timeout_established_ms;
	assert_int_equal(run(DP_INSIDE, client_seg(40009, REDIS, 6379, RTE_TCP_ACK_FLAG), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_NOT_SYN), 1);
	assert_int_equal(run(DP_OUTSIDE, server_seg(REDIS, 6379, nat_port, RTE_TCP_ACK_FLAG), &out),
			 0);
	assert_int_equal(drops(EGRESS_DROP_NO_FLOW), 1);
	/* the client's new SYN on the same 5-tuple reopens it, same binding */
	assert_int_equal(run(DP_INSIDE, client_seg(40009, REDIS, 6379, RTE_TCP_SYN_FLAG), &out), 1);
	assert_int_equal(rte_be_to_cpu_16(tcp_of(out.pkts[DP_OUTSIDE][0])->src_port), nat_port);
	free_out(&out);
	assert_int_equal(flow_table_count(fx.w->flows), 1);
	assert_int_equal(fx.w->embryonic, 1);
}

static void
test_fin_close_and_rst(void **state)
{
	struct flow_key k = client_key(REDIS, 40010, 6379);
	uint16_t nat_port = open_flow(40010);
	struct dp_out out;
	struct flow *f;
	uint8_t dir;
	(void)state;

	assert_int_equal(run(DP_OUTSIDE,
			     server_seg(REDIS, 6379, nat_port, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG),
			     &out),
			 1);
	free_out(&out);
	assert_int_equal(run(DP_INSIDE, client_seg(40010, REDIS, 6379, RTE_TCP_ACK_FLAG), &out), 1);
	free_out(&out);
	assert_int_equal(run(DP_INSIDE,
			     client_seg(40010, REDIS, 6379, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG),
			     &out),
			 1);
	free_out(&out);
	f = flow_table_lookup(fx.w->flows, &k, &dir);
	assert_int_equal(f->state, FLOW_S_FIN_OUT);
	assert_int_equal(run(DP_OUTSIDE,
			     server_seg(REDIS, 6379, nat_port, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG),
			     &out),
			 1);
	free_out(&out);
	assert_int_equal(f->state, FLOW_S_TIME_WAIT);
	assert_int_equal(dp_flow_timeout(&fx.conf, f), fx.cfg.timeout_time_wait_ms);
	/* a RST from the server, forwarded, closes it */
	assert_int_equal(run(DP_OUTSIDE, server_seg(REDIS, 6379, nat_port, RTE_TCP_RST_FLAG), &out),
			 1);
	free_out(&out);
	assert_int_equal(f->state, FLOW_S_CLOSED);
}

static void
test_burst_of_many_flows(void **state)
{
	struct rte_mbuf *pkts[DP_BURST_MAX];
	uint16_t seen[DP_BURST_MAX];
	struct dp_out out;
	unsigned int i, j;
	(void)state;

	for (i = 0; i < DP_BURST_MAX; i++)
		pkts[i] = client_seg((uint16_t)(30000 + i), REDIS, 6379, RTE_TCP_SYN_FLAG);
	memset(&out, 0, sizeof(out));
	assert_int_equal(burst(DP_INSIDE, pkts, DP_BURST_MAX, &out), DP_BURST_MAX);
	assert_int_equal(out.n[DP_OUTSIDE], DP_BURST_MAX);
	for (i = 0; i < DP_BURST_MAX; i++) {
		struct rte_tcp_hdr *th = tcp_of(out.pkts[DP_OUTSIDE][i]);

		/* arrival order kept; every flow its own NAT port */
		assert_int_equal(rte_be_to_cpu_16(tcp_of(out.pkts[DP_OUTSIDE][i])->dst_port), 6379);
		seen[i] = th->src_port;
		for (j = 0; j < i; j++)
			assert_int_not_equal(seen[i], seen[j]);
		assert_checksums(out.pkts[DP_OUTSIDE][i]);
	}
	assert_int_equal(flow_table_count(fx.w->flows), DP_BURST_MAX);
	free_out(&out);
}

static void
test_duplicate_syn_in_one_burst(void **state)
{
	struct rte_mbuf *pkts[3];
	struct dp_out out;
	(void)state;

	pkts[0] = client_seg(40011, REDIS, 6379, RTE_TCP_SYN_FLAG);
	pkts[1] = client_seg(40011, REDIS, 6379, RTE_TCP_SYN_FLAG);
	pkts[2] = client_seg(40011, REDIS, 6379, RTE_TCP_ACK_FLAG);
	memset(&out, 0, sizeof(out));
	assert_int_equal(burst(DP_INSIDE, pkts, 3, &out), 3);
	assert_int_equal(flow_table_count(fx.w->flows), 1);
	assert_int_equal(tcp_of(out.pkts[DP_OUTSIDE][0])->src_port,
			 tcp_of(out.pkts[DP_OUTSIDE][1])->src_port);
	assert_int_equal(tcp_of(out.pkts[DP_OUTSIDE][0])->src_port,
			 tcp_of(out.pkts[DP_OUTSIDE][2])->src_port);
	free_out(&out);
}

static void
test_revoked_by_new_policy(void **state)
{
	struct policy *old = fx.conf.policy, *empty;
	uint16_t nat_port = open_flow(40012);
	struct dp_out out;
	char dir[] = "/tmp/egt-empty-XXXXXX";
	(void)state;

	assert_non_null(mkdtemp(dir));
	empty = load_policy(dir, 2);
	assert_non_null(empty);
	assert_int_equal(empty->n_rules, 0);
	fx.conf.policy = empty;
	/* on_revoke: reset (the default): an in-window RST toward both ends */
	assert_int_equal(run(DP_OUTSIDE, server_seg(REDIS, 6379, nat_port, RTE_TCP_ACK_FLAG), &out),
			 2);
	assert_int_equal(drops(EGRESS_DROP_REVOKED), 1);
	assert_int_equal(fx.w->stats.flows_revoked, 1);
	assert_int_equal(fx.w->stats.rst_sent, 2);
	assert_int_equal(flow_table_count(fx.w->flows), 0);
	{
		struct rte_mbuf *to_server = out.pkts[DP_OUTSIDE][0];
		struct rte_mbuf *to_client = out.pkts[DP_INSIDE][0];

		/* the server (sender) gets seq = the ACK it sent */
		assert_l2(to_server, mac_gw, mac_out);
		assert_int_equal(ip_of(to_server)->src_addr, NAT_ADDR);
		assert_int_equal(ip_of(to_server)->dst_addr, REDIS);
		assert_int_equal(rte_be_to_cpu_16(tcp_of(to_server)->src_port), nat_port);
		assert_int_equal(rte_be_to_cpu_16(tcp_of(to_server)->dst_port), 6379);
		assert_int_equal(rte_be_to_cpu_32(tcp_of(to_server)->sent_seq), 1001);
		assert_int_equal(tcp_of(to_server)->tcp_flags, RTE_TCP_RST_FLAG);
		assert_checksums(to_server);
		/* the client gets seq = that of the segment it will never see */
		assert_l2(to_client, mac_client, mac_in);
		assert_int_equal(ip_of(to_client)->src_addr, REDIS);
		assert_int_equal(ip_of(to_client)->dst_addr, CLIENT);
		assert_int_equal(rte_be_to_cpu_16(tcp_of(to_client)->src_port), 6379);
		assert_int_equal(rte_be_to_cpu_16(tcp_of(to_client)->dst_port), 40012);
		assert_int_equal(rte_be_to_cpu_32(tcp_of(to_client)->sent_seq), 5000);
		assert_int_equal(tcp_of(to_client)->tcp_flags, RTE_TCP_RST_FLAG);
		assert_checksums(to_client);
	}
	free_out(&out);
	/* on_revoke: drop: silent */
	fx.conf.on_revoke = EGRESS_REVOKE_DROP;
	fx.conf.policy = old;
	nat_port = open_flow(40015);
	fx.conf.policy = empty;
	assert_int_equal(run(DP_INSIDE, client_seg(40015, REDIS, 6379, RTE_TCP_ACK_FLAG), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_REVOKED), 2);
	fx.conf.on_revoke = EGRESS_REVOKE_RESET;
	/* a policy that still allows it keeps the flow and its NAT port */
	fx.conf.policy = old;
	policy_free(empty);
	rmdir(dir);
	nat_port = open_flow(40013);
	empty = load_policy("../config/memorystore/policy", 3);
	fx.conf.policy = empty;
	assert_int_equal(run(DP_OUTSIDE, server_seg(REDIS, 6379, nat_port, RTE_TCP_ACK_FLAG), &out),
			 1);
	assert_int_equal(fx.w->stats.flows_rechecked, 1);
	free_out(&out);
	fx.conf.policy = old;
	policy_free(empty);
}

/* An idle established flow is revoked by the sweep, RSTs from tracked seqs. */
static void
test_revoked_by_sweep(void **state)
{
	struct policy *old = fx.conf.policy, *empty;
	char dir[] = "/tmp/egt-empty-XXXXXX";
	uint16_t nat_port = open_flow(40016);
	struct dp_out out;
	(void)state;

	/* SYN seq 1000 (end 1001); SYN-ACK seq 5000 + 12 bytes (end 5013) */
	assert_int_equal(run(DP_OUTSIDE,
			     server_seg(REDIS, 6379, nat_port, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG),
			     &out),
			 1);
	free_out(&out);
	assert_non_null(mkdtemp(dir));
	empty = load_policy(dir, 2);
	assert_non_null(empty);
	fx.conf.policy = empty;
	memset(&out, 0, sizeof(out));
	assert_int_equal(dp_expire(fx.w, fx.now, 4096, &out), 1);
	assert_int_equal(fx.w->stats.flows_revoked, 1);
	assert_int_equal(out.n[DP_OUTSIDE], 1);
	assert_int_equal(out.n[DP_INSIDE], 1);
	assert_int_equal(rte_be_to_cpu_32(tcp_of(out.pkts[DP_OUTSIDE][0])->sent_seq), 1001);
	assert_int_equal(ip_of(out.pkts[DP_OUTSIDE][0])->src_addr, NAT_ADDR);
	assert_checksums(out.pkts[DP_OUTSIDE][0]);
	assert_int_equal(rte_be_to_cpu_32(tcp_of(out.pkts[DP_INSIDE][0])->sent_seq), 5013);
	assert_int_equal(ip_of(out.pkts[DP_INSIDE][0])->dst_addr, CLIENT);
	assert_checksums(out.pkts[DP_INSIDE][0]);
	free_out(&out);
	assert_int_equal(flow_table_count(fx.w->flows), 0);
	fx.conf.policy = old;
	policy_free(empty);
	rmdir(dir);
}

/* The flow CLIENT:sport -> dst:dport opened (host order ports). */
static struct flow *
client_flow(uint8_t proto, uint16_t sport, uint32_t dst, uint16_t dport)
{
	struct flow_key k = { .src_ip = CLIENT,
			      .dst_ip = dst,
			      .src_port = rte_cpu_to_be_16(sport),
			      .dst_port = rte_cpu_to_be_16(dport),
			      .proto = proto };
	uint8_t dir;
	struct flow *f = flow_table_lookup(fx.w->flows, &k, &dir);

	assert_non_null(f);
	assert_int_equal(dir, FLOW_DIR_OUT);
	return f;
}

static void
test_frag_needed(void **state)
{
	struct tcp_spec s = {
		.dst_mac = mac_in,
		.src_mac = mac_client,
		.src = CLIENT,
		.dst = REDIS,
		.sport = 40021,
		.dport = 6379,
		.flags = RTE_TCP_ACK_FLAG,
		.seq = 1001,
		.ack = 5001,
		.payload = 1500 - 40 + 1,
	};
	struct flow_tcp before;
	struct dp_out out;
	struct flow *f;
	uint8_t st0;
	(void)state;

	open_flow(40021);
	f = client_flow(IPPROTO_TCP, 40021, REDIS, 6379);
	st0 = f->state;
	before = dp_flow_tcp(fx.w->flows, f)[FLOW_DIR_OUT];
	/* 1501 bytes with DF: "fragmentation needed", next-hop MTU 1500 */
	assert_int_equal(run(DP_INSIDE, make_tcp(&s), &out), 1);
	assert_int_equal(drops(EGRESS_DROP_MTU_EXCEEDED), 1);
	{
		struct rte_mbuf *e = out.pkts[DP_INSIDE][0];
		struct rte_ipv4_hdr *ip = ip_of(e);
		struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ip + 1);

		assert_int_equal(ip->src_addr, IP(10, 8, 0, 1));
		assert_int_equal(ip->dst_addr, CLIENT);
		assert_int_equal(ic->icmp_type, 3);
		assert_int_equal(ic->icmp_code, 4);
		assert_int_equal(rte_be_to_cpu_16(ic->icmp_seq_nb), 1500);
		assert_int_equal(rte_raw_cksum(ic, rte_be_to_cpu_16(ip->total_length) - 20),
				 0xffff);
	}
	free_out(&out);
	/* a segment that does not leave moves no state: neither that ACK nor
	 * a FIN too big for the MTU changes the flow's state or its window */
	s.flags = RTE_TCP_ACK_FLAG | RTE_TCP_FIN_FLAG;
	assert_int_equal(run(DP_INSIDE, make_tcp(&s), &out), 1);
	free_out(&out);
	assert_int_equal(drops(EGRESS_DROP_MTU_EXCEEDED), 2);
	assert_int_equal(f->state, st0);
	assert_memory_equal(&dp_flow_tcp(fx.w->flows, f)[FLOW_DIR_OUT], &before, sizeof(before));
	s.flags = RTE_TCP_ACK_FLAG;
	/* exactly the MTU passes */
	s.payload = 1500 - 40;
	assert_int_equal(run(DP_INSIDE, make_tcp(&s), &out), 1);
	assert_int_equal(out.n[DP_OUTSIDE], 1);
	free_out(&out);
}

/* An ICMP error about a NATed packet goes back to the client, translated. */
static void
test_icmp_error_translated(void **state)
{
	const uint32_t router = IP(198, 51, 100, 1);
	struct rte_mbuf *m, *sent;
	struct rte_ipv4_hdr *ip, *q;
	struct rte_icmp_hdr *ic;
	struct rte_tcp_hdr orig_tcp, *qt;
	uint8_t *buf, dir;
	struct dp_out out;
	struct flow *f;
	uint64_t seen;
	struct flow_key k = client_key(REDIS, 40022, 6379);
	(void)state;

	m = client_seg(40022, REDIS, 6379, RTE_TCP_SYN_FLAG);
	orig_tcp = *tcp_of(m);
	assert_int_equal(run(DP_INSIDE, m, &out), 1);
	sent = out.pkts[DP_OUTSIDE][0];
	f = flow_table_lookup(fx.w->flows, &k, &dir);
	assert_non_null(f);
	seen = f->last_seen;

	/* a router's "fragmentation needed" quoting the NATed SYN (IP + 20 bytes) */
	m = rte_pktmbuf_alloc(fx.pool);
	buf = (uint8_t *)rte_pktmbuf_append(m, 14 + 20 + 8 + 40);
	if (buf == NULL)
		abort();
	memcpy(buf, mac_out, 6);
	memcpy(buf + 6, mac_gw, 6);
	buf[12] = 0x08;
	buf[13] = 0x00;
	ip = (struct rte_ipv4_hdr *)(buf + 14);
	memset(ip, 0, 20 + 8);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(20 + 8 + 40);
	ip->time_to_live = 60;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = router;
	ip->dst_addr = NAT_ADDR;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	ic = (struct rte_icmp_hdr *)(ip + 1);
	ic->icmp_type = 3;
	ic->icmp_code = 4;
	ic->icmp_seq_nb = rte_cpu_to_be_16(1400);
	memcpy(ic + 1, ip_of(sent), 40);
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, 48);
	free_out(&out);

	fx.now += 1000;
	assert_int_equal(run(DP_OUTSIDE, m, &out), 1);
	assert_int_equal(out.n[DP_INSIDE], 1);
	m = out.pkts[DP_INSIDE][0];
	assert_l2(m, mac_client, mac_in);
	ip = ip_of(m);
	ic = (struct rte_icmp_hdr *)(ip + 1);
	q = (struct rte_ipv4_hdr *)(ic + 1);
	qt = (struct rte_tcp_hdr *)(q + 1);
	assert_int_equal(ip->src_addr, router); /* the reporter is kept */
	assert_int_equal(ip->dst_addr, CLIENT);
	assert_int_equal(ip->time_to_live, 59);
	assert_int_equal(rte_ipv4_cksum(ip), 0);
	assert_int_equal(ic->icmp_type, 3);
	assert_int_equal(ic->icmp_code, 4);
	assert_int_equal(rte_be_to_cpu_16(ic->icmp_seq_nb), 1400);
	assert_int_equal(rte_raw_cksum(ic, 48), 0xffff);
	/* the quoted packet is the client's own again */
	assert_int_equal(q->src_addr, CLIENT);
	assert_int_equal(q->dst_addr, REDIS);
	assert_int_equal(rte_ipv4_cksum(q), 0);
	assert_int_equal(qt->src_port, orig_tcp.src_port);
	assert_int_equal(qt->dst_port, orig_tcp.dst_port);
	assert_int_equal(qt->cksum, orig_tcp.cksum);
	assert_int_equal(fx.w->stats.icmp_translated, 1);
	free_out(&out);
	/* it neither refreshed nor changed the flow */
	assert_int_equal(f->last_seen, seen);
	assert_int_equal(f->state, FLOW_S_SYN_SENT);
}

static void
test_icmp_error_without_flow(void **state)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(fx.pool);
	struct rte_ipv4_hdr *ip, *q;
	struct rte_icmp_hdr *ic;
	struct dp_out out;
	uint8_t *buf;
	(void)state;

	buf = (uint8_t *)rte_pktmbuf_append(m, 14 + 20 + 8 + 28);
	if (buf == NULL)
		abort();
	memset(buf, 0, 14 + 20 + 8 + 28);
	memcpy(buf, mac_out, 6);
	memcpy(buf + 6, mac_gw, 6);
	buf[12] = 0x08;
	ip = (struct rte_ipv4_hdr *)(buf + 14);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(20 + 8 + 28);
	ip->time_to_live = 60;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = IP(198, 51, 100, 1);
	ip->dst_addr = NAT_ADDR;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	ic = (struct rte_icmp_hdr *)(ip + 1);
	ic->icmp_type = 11;
	q = (struct rte_ipv4_hdr *)(ic + 1);
	q->version_ihl = RTE_IPV4_VHL_DEF;
	q->next_proto_id = IPPROTO_TCP;
	q->src_addr = NAT_ADDR;
	q->dst_addr = REDIS;
	((uint16_t *)(q + 1))[0] = rte_cpu_to_be_16(2000);
	((uint16_t *)(q + 1))[1] = rte_cpu_to_be_16(6379);
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, 36);
	assert_int_equal(run(DP_OUTSIDE, m, &out), 0);
	assert_int_equal(drops(EGRESS_DROP_NO_FLOW), 1);
}

/* Establish 40030: SYN (seq 1000), SYN-ACK (seq 5000, 12 bytes), ACK. */
static uint16_t
establish(uint16_t sport)
{
	uint16_t nat_port = open_flow(sport);
	struct dp_out out;

	assert_int_equal(run(DP_OUTSIDE,
			     server_seg(REDIS, 6379, nat_port, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG),
			     &out),
			 1);
	free_out(&out);
	assert_int_equal(run(DP_INSIDE, client_seg(sport, REDIS, 6379, RTE_TCP_ACK_FLAG), &out), 1);
	free_out(&out);
	return nat_port;
}

/*
 * egressctl drain (dp_conf.draining): a new flow's SYN is refused (dropped,
 * "draining", no RST even with deny: reset: the client's retry finds
 * another appliance), a new UDP flow too; an established flow forwards
 * both ways; the inside exception path is withheld ("draining_control"),
 * the outside one is not.
 */
static void
test_drain(void **state)
{
	uint16_t nat_port = establish(40100);
	struct rte_ring *r_in = rte_ring_create("drain_in", 4, SOCKET_ID_ANY, RING_F_SC_DEQ),
			*r_out = rte_ring_create("drain_out", 4, SOCKET_ID_ANY, RING_F_SC_DEQ);
	struct dp_out out;
	(void)state;

	assert_true(r_in != NULL && r_out != NULL);
	fx.conf.exc[DP_OUTSIDE] = (struct dp_exception){
		.ring = r_out, .n = 1, .proto = { IPPROTO_TCP }, .port = { rte_cpu_to_be_16(179) }
	};
	fx.conf.exc[DP_INSIDE] = (struct dp_exception){
		.ring = r_in, .n = 1, .proto = { IPPROTO_TCP }, .port = { rte_cpu_to_be_16(179) }
	};
	fx.conf.deny = EGRESS_DENY_RESET;
	fx.conf.draining = 1;

	/* a new flow: no answer, no flow, counted */
	assert_int_equal(run(DP_INSIDE, client_seg(40101, REDIS, 6379, RTE_TCP_SYN_FLAG), &out), 0);
	assert_int_equal(run(DP_INSIDE, client_udp(40102, DNS, 53, 30, false), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_DRAINING), 2);
	assert_int_equal(fx.w->stats.rst_sent, 0);
	assert_int_equal(flow_table_count(fx.w->flows), 1);
	assert_int_equal(fx.w->stats.flows_created, 1);

	/* the established flow: out and back */
	assert_int_equal(run(DP_INSIDE, client_seg(40100, REDIS, 6379, RTE_TCP_ACK_FLAG), &out), 1);
	assert_int_equal(out.n[DP_OUTSIDE], 1);
	assert_int_equal(tcp_of(out.pkts[DP_OUTSIDE][0])->src_port, rte_cpu_to_be_16(nat_port));
	free_out(&out);
	assert_int_equal(run(DP_OUTSIDE, server_seg(REDIS, 6379, nat_port, RTE_TCP_ACK_FLAG), &out),
			 1);
	assert_int_equal(out.n[DP_INSIDE], 1);
	assert_int_equal(rte_be_to_cpu_16(tcp_of(out.pkts[DP_INSIDE][0])->dst_port), 40100);
	free_out(&out);

	/* the router's BGP on the inside: withheld; the outside's still passes */
	assert_int_equal(run(DP_INSIDE, mesh_to_self(179, RTE_TCP_ACK_FLAG), &out), 0);
	assert_int_equal(rte_ring_count(r_in), 0);
	assert_int_equal(drops(EGRESS_DROP_DRAINING_CONTROL), 1);
	assert_excepted(DP_OUTSIDE, peer_tcp(40179, 179, 255), r_out);
	assert_int_equal(fx.w->stats.exception_queued, 1);

	/* nothing else dropped */
	assert_int_equal(fx.w->stats.port[DP_INSIDE].dropped + fx.w->stats.port[DP_OUTSIDE].dropped,
			 3);

	/* not draining: the same SYN opens a flow */
	fx.conf.draining = 0;
	open_flow(40101);
	assert_int_equal(flow_table_count(fx.w->flows), 2);

	rte_ring_free(r_in);
	rte_ring_free(r_out);
	memset(fx.conf.exc, 0, sizeof(fx.conf.exc));
}

static void
test_window_checks(void **state)
{
	uint16_t nat_port = establish(40030);
	struct tcp_spec s = {
		.dst_mac = mac_out,
		.src_mac = mac_gw,
		.src = REDIS,
		.dst = NAT_ADDR,
		.sport = 6379,
		.dport = nat_port,
		.flags = RTE_TCP_RST_FLAG,
	};
	struct dp_out out;
	(void)state;

	/* a blind RST far from the server's sequence space: dropped */
	s.seq = 5013 + 3000000;
	assert_int_equal(run(DP_OUTSIDE, make_tcp(&s), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_TCP_WINDOW), 1);
	/* data far beyond what the client's window allows: dropped */
	s.flags = RTE_TCP_ACK_FLAG;
	s.ack = 1001;
	s.seq = 5013 + 200000;
	s.payload = 100;
	assert_int_equal(run(DP_OUTSIDE, make_tcp(&s), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_TCP_WINDOW), 2);
	/* in-window data and an in-window RST pass */
	s.seq = 5013;
	assert_int_equal(run(DP_OUTSIDE, make_tcp(&s), &out), 1);
	free_out(&out);
	s.flags = RTE_TCP_RST_FLAG;
	s.seq = 5113;
	s.payload = 0;
	assert_int_equal(run(DP_OUTSIDE, make_tcp(&s), &out), 1);
	free_out(&out);
	assert_int_equal(drops(EGRESS_DROP_TCP_WINDOW), 2);
}

static void
test_tcp_liberal(void **state)
{
	uint16_t nat_port = establish(40031);
	struct tcp_spec s = {
		.dst_mac = mac_out,
		.src_mac = mac_gw,
		.src = REDIS,
		.dst = NAT_ADDR,
		.sport = 6379,
		.dport = nat_port,
		.flags = RTE_TCP_ACK_FLAG,
		.seq = 5013 + 3000000,
		.ack = 1001,
		.payload = 10,
	};
	struct dp_out out;
	(void)state;

	/* a replayed capture loops its sequence numbers: liberal lets it be */
	fx.conf.tcp_liberal = true;
	assert_int_equal(run(DP_OUTSIDE, make_tcp(&s), &out), 1);
	free_out(&out);
	assert_int_equal(drops(EGRESS_DROP_TCP_WINDOW), 0);
}

/* A SYN flood evicts the oldest embryonic flows, never established ones. */
static void
test_embryonic_cap_evicts_oldest(void **state)
{
	struct flow_key k = { .src_ip = CLIENT,
			      .dst_ip = REDIS,
			      .dst_port = rte_cpu_to_be_16(6379),
			      .proto = IPPROTO_TCP };
	struct dp_out out;
	uint8_t dir;
	unsigned int i;
	(void)state;

	fx.conf.embryonic_max = 4;
	rebuild_worker(4096);
	establish(40040);
	for (i = 0; i < 4; i++)
		open_flow((uint16_t)(40041 + i));
	assert_int_equal(fx.w->embryonic, 4);
	/* the fifth embryonic flow ends the oldest one (40041) */
	assert_int_equal(run(DP_INSIDE, client_seg(40045, REDIS, 6379, RTE_TCP_SYN_FLAG), &out), 1);
	free_out(&out);
	assert_int_equal(fx.w->stats.embryonic_evicted, 1);
	assert_int_equal(fx.w->embryonic, 4);
	k.src_port = rte_cpu_to_be_16(40041);
	assert_null(flow_table_lookup(fx.w->flows, &k, &dir));
	k.src_port = rte_cpu_to_be_16(40042);
	assert_non_null(flow_table_lookup(fx.w->flows, &k, &dir));
	/* the established flow was never a candidate */
	k.src_port = rte_cpu_to_be_16(40040);
	assert_non_null(flow_table_lookup(fx.w->flows, &k, &dir));
	/* a long flood keeps the newest four and the established one */
	for (i = 0; i < 40; i++) {
		assert_int_equal(
			run(DP_INSIDE,
			    client_seg((uint16_t)(41000 + i), REDIS, 6379, RTE_TCP_SYN_FLAG), &out),
			1);
		free_out(&out);
	}
	assert_int_equal(fx.w->embryonic, 4);
	assert_int_equal(flow_table_count(fx.w->flows), 5);
	assert_non_null(flow_table_lookup(fx.w->flows, &k, &dir));
}

/*
 * Two workers: each binds flows to its own share of the NAT ports, and a
 * reply received by the other worker is handed to the owner untouched,
 * translated there, and counted once.
 */
static void
test_two_workers_hand_off_replies(void **state)
{
	struct dp_worker *w1;
	struct rte_mbuf *m, *got[4];
	struct dp_out out;
	uint16_t lo, hi, port0, port1;
	(void)state;

	fx.conf.n_workers = 2;
	rebuild_worker(1024);
	w1 = make_worker(1, 1024);
	assert_non_null(fx.conf.handoff[0]);
	assert_non_null(fx.conf.handoff[1]);
	assert_int_equal(nat_range_split(1024, 65535, 2, 1, &lo, &hi), 0);
	assert_int_equal(w1->nat.port_lo, lo);
	assert_int_equal(w1->nat.port_hi, hi);

	/* worker 0 opens a flow; its reply arrives at worker 1 */
	port0 = open_flow(40050);
	assert_true(port0 < lo);
	m = server_seg(REDIS, 6379, port0, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	memset(&out, 0, sizeof(out));
	assert_int_equal(dp_process(w1, DP_OUTSIDE, &m, 1, fx.now, &out), 0);
	assert_int_equal(w1->stats.handed_off, 1);
	assert_int_equal(w1->stats.port[DP_OUTSIDE].rx, 0);
	assert_int_equal(w1->stats.port[DP_OUTSIDE].dropped, 0);
	assert_int_equal(rte_ring_sc_dequeue_burst(fx.conf.handoff[0], (void **)got, 4, NULL), 1);
	assert_int_equal(burst(DP_OUTSIDE, got, 1, &out), 1);
	assert_int_equal(ip_of(out.pkts[DP_INSIDE][0])->dst_addr, CLIENT);
	assert_int_equal(rte_be_to_cpu_16(tcp_of(out.pkts[DP_INSIDE][0])->dst_port), 40050);
	assert_checksums(out.pkts[DP_INSIDE][0]);
	free_out(&out);
	assert_int_equal(fx.w->stats.port[DP_OUTSIDE].rx, 1);

	/* and the other way round: worker 1's flow, its reply at worker 0 */
	m = client_seg(40051, REDIS, 6379, RTE_TCP_SYN_FLAG);
	assert_int_equal(dp_process(w1, DP_INSIDE, &m, 1, fx.now, &out), 1);
	port1 = rte_be_to_cpu_16(tcp_of(out.pkts[DP_OUTSIDE][0])->src_port);
	free_out(&out);
	assert_true(port1 >= lo && port1 <= hi);
	m = server_seg(REDIS, 6379, port1, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	assert_int_equal(burst(DP_OUTSIDE, &m, 1, &out), 0);
	assert_int_equal(fx.w->stats.handed_off, 1);
	assert_int_equal(rte_ring_sc_dequeue_burst(fx.conf.handoff[1], (void **)got, 4, NULL), 1);
	assert_int_equal(dp_process(w1, DP_OUTSIDE, got, 1, fx.now, &out), 1);
	assert_int_equal(rte_be_to_cpu_16(tcp_of(out.pkts[DP_INSIDE][0])->dst_port), 40051);
	free_out(&out);

	/* every frame counted once, by the worker that processed it */
	assert_int_equal(fx.w->stats.port[DP_OUTSIDE].rx + w1->stats.port[DP_OUTSIDE].rx, 2);
	assert_int_equal(fx.w->stats.port[DP_INSIDE].rx + w1->stats.port[DP_INSIDE].rx, 2);
	assert_int_equal(flow_table_count(fx.w->flows), 1);
	assert_int_equal(flow_table_count(w1->flows), 1);

	free_worker(w1);
	assert_null(fx.conf.handoff[1]);
}

/*
 * Two workers with the outside port's RSS known (a fake device: the default
 * Toeplitz key, 128 RETA entries alternating over the two queues): each
 * worker binds ports whose reply hashes (bit by bit, here) to its own queue,
 * so replies delivered where the NIC puts them need no hand-off (handed_off
 * exactly 0); a reply delivered to the other worker anyway is still handed
 * to its owner, found by the same hash, and translated there.
 */
static void
test_two_workers_rss_replies(void **state)
{
	uint16_t reta[128];
	struct dp_worker *wk[2];
	struct rte_mbuf *m, *got[4];
	struct dp_out out;
	uint16_t port[2][8];
	unsigned int i, w;
	(void)state;

	test_reta_fill(reta, 128, 2, 1);
	fx.conf.rss = test_rss_create(toeplitz_default_key, reta, 128, 2, 1024, 65535);
	assert_non_null(fx.conf.rss);
	fx.conf.n_workers = 2;
	rebuild_worker(1024);
	wk[0] = fx.w;
	wk[1] = make_worker(1, 1024);
	/* the whole range is each worker's to choose from, by hash */
	assert_int_equal(wk[1]->nat.port_lo, 1024);
	assert_int_equal(wk[1]->nat.port_hi, 65535);

	/* each worker opens 8 flows; every reply hashes to its queue */
	for (w = 0; w < 2; w++) {
		for (i = 0; i < 8; i++) {
			uint32_t h;

			m = client_seg((uint16_t)(40100 + 10 * w + i), REDIS, 6379,
				       RTE_TCP_SYN_FLAG);
			memset(&out, 0, sizeof(out));
			assert_int_equal(dp_process(wk[w], DP_INSIDE, &m, 1, fx.now, &out), 1);
			port[w][i] = rte_be_to_cpu_16(tcp_of(out.pkts[DP_OUTSIDE][0])->src_port);
			free_out(&out);
			h = toeplitz_v4(toeplitz_default_key, REDIS, NAT_ADDR, RTE_BE16(6379),
					rte_cpu_to_be_16(port[w][i]));
			assert_int_equal(reta[h & 127], w);
		}
	}
	/* replies where the NIC puts them: translated by the receiver, none handed off */
	for (w = 0; w < 2; w++) {
		for (i = 0; i < 8; i++) {
			m = server_seg(REDIS, 6379, port[w][i],
				       RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
			memset(&out, 0, sizeof(out));
			assert_int_equal(dp_process(wk[w], DP_OUTSIDE, &m, 1, fx.now, &out), 1);
			assert_int_equal(rte_be_to_cpu_16(tcp_of(out.pkts[DP_INSIDE][0])->dst_port),
					 40100 + 10 * w + i);
			assert_checksums(out.pkts[DP_INSIDE][0]);
			free_out(&out);
		}
	}
	assert_int_equal(wk[0]->stats.handed_off, 0);
	assert_int_equal(wk[1]->stats.handed_off, 0);
	assert_int_equal(wk[0]->stats.port[DP_OUTSIDE].rx, 8);
	assert_int_equal(wk[1]->stats.port[DP_OUTSIDE].rx, 8);

	/* a reply on the wrong queue (a NIC hashing otherwise): handed to the owner */
	m = server_seg(REDIS, 6379, port[0][3], RTE_TCP_ACK_FLAG);
	memset(&out, 0, sizeof(out));
	assert_int_equal(dp_process(wk[1], DP_OUTSIDE, &m, 1, fx.now, &out), 0);
	assert_int_equal(wk[1]->stats.handed_off, 1);
	assert_int_equal(wk[1]->stats.port[DP_OUTSIDE].rx, 8);
	assert_int_equal(rte_ring_count(fx.conf.handoff[1]), 0);
	assert_int_equal(rte_ring_sc_dequeue_burst(fx.conf.handoff[0], (void **)got, 4, NULL), 1);
	assert_int_equal(dp_process(wk[0], DP_OUTSIDE, got, 1, fx.now, &out), 1);
	assert_int_equal(rte_be_to_cpu_16(tcp_of(out.pkts[DP_INSIDE][0])->dst_port), 40103);
	free_out(&out);
	assert_int_equal(wk[0]->stats.port[DP_OUTSIDE].rx, 9);
	assert_int_equal(wk[0]->stats.handed_off, 0);

	free_worker(wk[1]);
	free_worker(fx.w);
	fx.w = NULL;
	nat_rss_free(fx.conf.rss);
	fx.conf.rss = NULL;
}

/* flows.per_source: concurrent flows and new flows per second per client. */
static void
test_per_source_caps(void **state)
{
	struct dp_out out;
	unsigned int i;
	(void)state;

	/* at most 2 concurrent flows per client */
	fx.conf.source_max = 2;
	rebuild_worker(1024);
	assert_non_null(fx.w->sources);
	open_flow(40060);
	open_flow(40061);
	assert_int_equal(run(DP_INSIDE, client_seg(40062, REDIS, 6379, RTE_TCP_SYN_FLAG), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_SOURCE_LIMIT), 1);
	/* another client is not affected */
	{
		struct tcp_spec s = {
			.dst_mac = mac_in,
			.src_mac = mac_client,
			.src = IP(10, 8, 0, 3),
			.dst = REDIS,
			.sport = 40062,
			.dport = 6379,
			.flags = RTE_TCP_SYN_FLAG,
		};

		assert_int_equal(run(DP_INSIDE, make_tcp(&s), &out), 1);
		free_out(&out);
	}
	/* when the client's flows are gone, it may open again */
	fx.now += fx.cfg.timeout_transitory_ms + fx.cfg.timeout_time_wait_ms;
	dp_expire(fx.w, fx.now, 4096, NULL);
	dp_expire(fx.w, fx.now + fx.cfg.timeout_time_wait_ms, 4096, NULL);
	fx.now += fx.cfg.timeout_time_wait_ms;
	assert_int_equal(flow_table_count(fx.w->flows), 0);
	open_flow(40063);

	/* at most 3 new flows per second */
	fx.conf.source_max = 0;
	fx.conf.source_rate = 3;
	fx.now += 10000;
	for (i = 0; i < 3; i++)
		open_flow((uint16_t)(40070 + i));
	assert_int_equal(run(DP_INSIDE, client_seg(40073, REDIS, 6379, RTE_TCP_SYN_FLAG), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_SOURCE_LIMIT), 2);
	fx.now += 1000;
	open_flow(40073);

	/* a duplicate SYN in the burst charges nothing (SYN A, SYN A, SYN B
	 * with a cap of 2: both flows) */
	fx.conf.source_rate = 0;
	fx.conf.source_max = 2;
	fx.now += 3 * fx.cfg.timeout_established_ms;
	dp_expire(fx.w, fx.now, 4096, NULL);
	dp_expire(fx.w, fx.now + fx.cfg.timeout_time_wait_ms, 4096, NULL);
	fx.now += fx.cfg.timeout_time_wait_ms;
	assert_int_equal(flow_table_count(fx.w->flows), 0);
	{
		struct rte_mbuf *pkts[3] = {
			client_seg(40090, REDIS, 6379, RTE_TCP_SYN_FLAG),
			client_seg(40090, REDIS, 6379, RTE_TCP_SYN_FLAG),
			client_seg(40091, REDIS, 6379, RTE_TCP_SYN_FLAG),
		};
		uint64_t limited = drops(EGRESS_DROP_SOURCE_LIMIT);

		memset(&out, 0, sizeof(out));
		assert_int_equal(burst(DP_INSIDE, pkts, 3, &out), 3);
		free_out(&out);
		assert_int_equal(flow_table_count(fx.w->flows), 2);
		assert_int_equal(drops(EGRESS_DROP_SOURCE_LIMIT), limited);
	}
}

/* ------------------------------------------- DNAT, load balancing, caps */

#define REDIS_VIP IP(10, 59, 118, 100)
#define EP1       IP(10, 59, 118, 1)
#define EP2       IP(10, 59, 118, 2)

/*
 * A STATIC ServiceEntry with a VIP, targetPort 7000, endpoints weighted 3:1,
 * the second with its own port (7001), and an optional DestinationRule
 * trafficPolicy (YAML flow mapping, or NULL). Published in place of the
 * fixture's policy, with the per-worker counters the control thread would
 * publish with it (struct dp_counters, found by its generation).
 */
static void
use_static_policy(const char *traffic_policy)
{
	char text[2048];
	struct policy *p;
	int n;

	n = snprintf(text, sizeof(text),
		     "apiVersion: networking.istio.io/v1beta1\n"
		     "kind: ServiceEntry\n"
		     "metadata: {name: redis-static, namespace: cart}\n"
		     "spec:\n"
		     "  hosts: [redis.memorystore.internal]\n"
		     "  addresses: [10.59.118.100]\n"
		     "  ports:\n"
		     "  - {number: 6379, name: tcp-redis, protocol: TCP, targetPort: 7000}\n"
		     "  location: MESH_EXTERNAL\n"
		     "  resolution: STATIC\n"
		     "  endpoints:\n"
		     "  - {address: 10.59.118.1, weight: 3}\n"
		     "  - {address: 10.59.118.2, weight: 1, ports: {tcp-redis: 7001}}\n");
	if (traffic_policy != NULL)
		snprintf(text + n, sizeof(text) - (size_t)n,
			 "---\n"
			 "apiVersion: networking.istio.io/v1beta1\n"
			 "kind: DestinationRule\n"
			 "metadata: {name: redis-dr, namespace: cart}\n"
			 "spec:\n"
			 "  host: redis.memorystore.internal\n"
			 "  trafficPolicy: %s\n",
			 traffic_policy);
	p = load_policy_text(text, 7);
	assert_int_equal(p->n_rules, 1);
	free_static_counters();
	static_cnt = (struct dp_counters){
		.generation = p->generation,
		.rule_stride = p->n_rules,
		.rule_flows = calloc(p->n_rules, sizeof(uint64_t)),
		.cap_stride = p->n_caps,
		.cap_count = p->n_caps ? calloc(p->n_caps, sizeof(uint32_t)) : NULL,
		.target_stride = p->n_targets,
		.target_active = calloc(p->n_targets, sizeof(uint32_t)),
	};
	fx.conf.counters[p->generation & 1] = &static_cnt;
	policy_free(fx.conf.policy);
	fx.conf.policy = p;
}

/* Open a flow from CLIENT:sport to the VIP; where did it go? */
static uint32_t
vip_flow(uint16_t sport, uint16_t *dport)
{
	struct dp_out out;
	uint32_t dst;

	assert_int_equal(run(DP_INSIDE, client_seg(sport, REDIS_VIP, 6379, RTE_TCP_SYN_FLAG), &out),
			 1);
	dst = ip_of(out.pkts[DP_OUTSIDE][0])->dst_addr;
	if (dport != NULL)
		*dport = rte_be_to_cpu_16(tcp_of(out.pkts[DP_OUTSIDE][0])->dst_port);
	assert_checksums(out.pkts[DP_OUTSIDE][0]);
	free_out(&out);
	return dst;
}

static void
test_dnat_ports_and_weights(void **state)
{
	unsigned int i, n1 = 0, n2 = 0;
	struct dp_out out;
	uint16_t dport, nat_port;
	struct rte_mbuf *m;
	(void)state;

	use_static_policy(NULL);
	fx.conf.embryonic_max = 4096;
	for (i = 0; i < 2000; i++) {
		uint32_t dst = vip_flow((uint16_t)(20000 + i), &dport);

		if (dst == EP1) {
			n1++;
			assert_int_equal(dport, 7000); /* the port's targetPort */
		} else {
			assert_int_equal(dst, EP2);
			assert_int_equal(dport, 7001); /* its own ports map wins */
			n2++;
		}
	}
	/* weights 3:1, drawn per flow: 1500 / 500 expected, within 10 % */
	assert_in_range(n1, 1350, 1650);
	assert_int_equal(n1 + n2, 2000);

	/* a reply from the endpoint reaches the client from the VIP */
	{
		struct flow_key k = client_key(REDIS_VIP, 20000, 6379);
		uint8_t dir;
		struct flow *f = flow_table_lookup(fx.w->flows, &k, &dir);

		assert_non_null(f);
		nat_port = rte_be_to_cpu_16(f->key[FLOW_DIR_IN].dst_port);
		m = server_seg(f->key[FLOW_DIR_IN].src_ip,
			       rte_be_to_cpu_16(f->key[FLOW_DIR_IN].src_port), nat_port,
			       RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	}
	assert_int_equal(run(DP_OUTSIDE, m, &out), 1);
	assert_int_equal(ip_of(out.pkts[DP_INSIDE][0])->src_addr, REDIS_VIP);
	assert_int_equal(rte_be_to_cpu_16(tcp_of(out.pkts[DP_INSIDE][0])->src_port), 6379);
	assert_int_equal(rte_be_to_cpu_16(tcp_of(out.pkts[DP_INSIDE][0])->dst_port), 20000);
	assert_checksums(out.pkts[DP_INSIDE][0]);
	free_out(&out);
}

static void
test_lb_round_robin(void **state)
{
	unsigned int i, n1 = 0;
	(void)state;

	use_static_policy("{loadBalancer: {simple: ROUND_ROBIN}}");
	assert_int_equal(fx.conf.policy->rules[0].lb, POLICY_LB_ROUND_ROBIN);
	/* weighted round robin: exactly 3 of every 4 to the first endpoint */
	for (i = 0; i < 40; i++)
		n1 += vip_flow((uint16_t)(21000 + i), NULL) == EP1;
	assert_int_equal(n1, 30);
}

static void
test_lb_consistent_source_ip(void **state)
{
	uint32_t first;
	unsigned int i;
	(void)state;

	use_static_policy("{loadBalancer: {consistentHash: {useSourceIp: true}}}");
	assert_int_equal(fx.conf.policy->rules[0].lb, POLICY_LB_CONSISTENT_SOURCE_IP);
	/* one client: every connection to the same endpoint */
	first = vip_flow(22000, NULL);
	for (i = 1; i < 30; i++)
		assert_int_equal(vip_flow((uint16_t)(22000 + i), NULL), first);
}

static void
test_lb_least_conn(void **state)
{
	unsigned int i, n1 = 0;
	(void)state;

	use_static_policy("{loadBalancer: {simple: LEAST_CONN}}");
	assert_int_equal(fx.conf.policy->rules[0].lb, POLICY_LB_LEAST_CONN);
	/* active flows per unit of weight stay balanced: 3:1 */
	for (i = 0; i < 40; i++)
		n1 += vip_flow((uint16_t)(23000 + i), NULL) == EP1;
	assert_int_equal(n1, 30);
	assert_int_equal(dp_counters(&fx.conf, fx.conf.policy->generation)->target_active[0], 30);
	assert_int_equal(dp_counters(&fx.conf, fx.conf.policy->generation)->target_active[1], 10);
}

static void
test_max_connections(void **state)
{
	struct dp_out out;
	unsigned int i;
	(void)state;

	use_static_policy("{connectionPool: {tcp: {maxConnections: 5}}}");
	assert_int_equal(fx.conf.policy->rules[0].max_connections, 5);
	for (i = 0; i < 5; i++)
		vip_flow((uint16_t)(24000 + i), NULL);
	/* the sixth is refused like a deny, under its own reason */
	assert_int_equal(run(DP_INSIDE, client_seg(24005, REDIS_VIP, 6379, RTE_TCP_SYN_FLAG), &out),
			 0);
	assert_int_equal(drops(EGRESS_DROP_CONN_LIMIT), 1);
	assert_int_equal(drops(EGRESS_DROP_POLICY_DENIED), 0);
	/* deny: reset answers it with a RST too */
	fx.conf.deny = EGRESS_DENY_RESET;
	assert_int_equal(run(DP_INSIDE, client_seg(24006, REDIS_VIP, 6379, RTE_TCP_SYN_FLAG), &out),
			 1);
	assert_int_equal(tcp_of(out.pkts[DP_INSIDE][0])->tcp_flags,
			 RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
	free_out(&out);
	/* when flows end, room again */
	fx.now += fx.cfg.timeout_transitory_ms;
	dp_expire(fx.w, fx.now, 4096, NULL);
	fx.now += fx.cfg.timeout_time_wait_ms;
	dp_expire(fx.w, fx.now, 4096, NULL);
	assert_int_equal(flow_table_count(fx.w->flows), 0);
	vip_flow(24007, NULL);
}

static void
test_connect_timeout(void **state)
{
	struct flow_key k = client_key(REDIS_VIP, 25000, 6379);
	struct flow *f;
	uint8_t dir;
	(void)state;

	use_static_policy("{connectionPool: {tcp: {connectTimeout: 2s}}}");
	vip_flow(25000, NULL);
	f = flow_table_lookup(fx.w->flows, &k, &dir);
	assert_non_null(f);
	/* the handshake has 2 s, not the 240 s transitory timeout */
	assert_int_equal(dp_flow_timeout(&fx.conf, f), 2000);
	fx.now += 2000;
	dp_expire(fx.w, fx.now, 4096, NULL);
	assert_int_equal(f->quarantine, 1);
}

/* Hostile frames through the whole pipeline: counted once, nothing created. */
/* ------------------------------------------------------- port offloads, VLAN */

/* An 802.1Q tag (TPID 0x8100, tci) put into m after the MAC addresses, byte by byte. */
static struct rte_mbuf *
tag(struct rte_mbuf *m, uint16_t tci)
{
	uint8_t *f = (uint8_t *)rte_pktmbuf_prepend(m, 4);

	if (f == NULL)
		abort();
	memmove(f, f + 4, 12);
	f[12] = 0x81;
	f[13] = 0x00;
	f[14] = (uint8_t)(tci >> 8);
	f[15] = (uint8_t)tci;
	return m;
}

/* m padded with zeros to Ethernet's 60-byte minimum, as dp_emit() pads. */
static struct rte_mbuf *
padded(struct rte_mbuf *m)
{
	uint16_t len = rte_pktmbuf_data_len(m);

	if (len < 60)
		memset(rte_pktmbuf_append(m, (uint16_t)(60 - len)), 0, 60 - len);
	return m;
}

/* got is byte for byte want (freed). */
static void
assert_frame(struct rte_mbuf *got, struct rte_mbuf *want)
{
	assert_int_equal(rte_pktmbuf_data_len(got), rte_pktmbuf_data_len(want));
	assert_memory_equal(rte_pktmbuf_mtod(got, uint8_t *), rte_pktmbuf_mtod(want, uint8_t *),
			    rte_pktmbuf_data_len(want));
	rte_pktmbuf_free(want);
}

/* The client's SYN as it leaves the outside port, NATed to nat_port. */
static struct rte_mbuf *
syn_out(uint16_t nat_port)
{
	return padded(make_tcp(&(struct tcp_spec){ .dst_mac = mac_gw,
						   .src_mac = mac_out,
						   .src = NAT_ADDR,
						   .dst = REDIS,
						   .sport = nat_port,
						   .dport = 6379,
						   .flags = RTE_TCP_SYN_FLAG,
						   .ttl = 63,
						   .seq = 1000 }));
}

/*
 * Checksums the NIC verified: one it marked bad is dropped and counted as if
 * egressd had found it; one it marked good is not summed again (a frame whose
 * bytes would fail passes).
 */
static void
test_rx_checksum_flags(void **state)
{
	struct rte_mbuf *m;
	struct dp_out out;
	(void)state;

	m = client_seg(41000, REDIS, 6379, RTE_TCP_SYN_FLAG);
	m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_BAD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	assert_int_equal(run(DP_INSIDE, m, &out), 0);
	assert_int_equal(drops(EGRESS_DROP_IP_CHECKSUM), 1);
	m = client_seg(41001, REDIS, 6379, RTE_TCP_SYN_FLAG);
	m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_BAD;
	assert_int_equal(run(DP_INSIDE, m, &out), 0);
	assert_int_equal(drops(EGRESS_DROP_L4_CHECKSUM), 1);
	assert_int_equal(fx.w->stats.port[DP_INSIDE].dropped, 2);
	assert_int_equal(flow_table_count(fx.w->flows), 0);

	m = client_seg(41002, REDIS, 6379, RTE_TCP_SYN_FLAG);
	tcp_of(m)->cksum ^= 0x1111;
	ip_of(m)->hdr_checksum ^= 0x2222;
	m->ol_flags = RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	assert_int_equal(run(DP_INSIDE, m, &out), 1);
	assert_int_equal(out.n[DP_OUTSIDE], 1);
	assert_int_equal(drops(EGRESS_DROP_IP_CHECKSUM), 1);
	assert_int_equal(drops(EGRESS_DROP_L4_CHECKSUM), 1);
	free_out(&out);
}

/*
 * TX checksum offload on the outside port: the frame leaves with the IPv4
 * checksum zeroed, the TCP checksum the pseudo-header sum, the flags and
 * lengths the NIC needs; completed as the NIC completes it, it is byte for
 * byte the frame software checksums give. The inside port, without the
 * offload, sends complete checksums and no TX flag.
 */
static void
test_tx_checksum_offload(void **state)
{
	const uint64_t tx = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	struct rte_mbuf *m;
	struct dp_out out;
	uint16_t nat_port;
	(void)state;

	fx.conf.port[DP_OUTSIDE].offloads = DP_PORT_TX_IP_CKSUM | DP_PORT_TX_L4_CKSUM;
	assert_int_equal(run(DP_INSIDE, client_seg(41010, REDIS, 6379, RTE_TCP_SYN_FLAG), &out), 1);
	assert_int_equal(out.n[DP_OUTSIDE], 1);
	m = out.pkts[DP_OUTSIDE][0];
	ip = ip_of(m);
	th = tcp_of(m);
	assert_int_equal(m->ol_flags & (tx | RTE_MBUF_F_TX_UDP_CKSUM | RTE_MBUF_F_TX_VLAN), tx);
	assert_int_equal(m->l2_len, 14);
	assert_int_equal(m->l3_len, 20);
	assert_int_equal(ip->hdr_checksum, 0);
	assert_int_equal(th->cksum, rte_ipv4_phdr_cksum(ip, 0));
	/* the NIC's part */
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	th->cksum = 0;
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	nat_port = rte_be_to_cpu_16(th->src_port);
	assert_frame(m, syn_out(nat_port));
	out.n[DP_OUTSIDE] = 0;

	assert_int_equal(run(DP_OUTSIDE,
			     server_seg(REDIS, 6379, nat_port, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG),
			     &out),
			 1);
	assert_int_equal(out.n[DP_INSIDE], 1);
	m = out.pkts[DP_INSIDE][0];
	assert_int_equal(m->ol_flags & (tx | RTE_MBUF_F_TX_UDP_CKSUM), 0);
	assert_checksums(m);
	free_out(&out);
}

/*
 * VLAN per port (inside 100, outside 200), tagged and untagged by egressd:
 * a tagged SYN leaves the other port with the other tag, the reply comes
 * back the same way, byte for byte; a frame without the port's tag is
 * dropped (vlan_mismatch), one the NIC stripped passes on its tci's VLAN ID
 * (priority bits aside); an ARP reply and a RST egressd makes carry the tag.
 */
static void
test_vlan_tagged_ports(void **state)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct rte_mbuf *m;
	struct dp_out out;
	uint16_t nat_port;
	uint8_t *f;
	(void)state;

	fx.conf.port[DP_INSIDE].vlan = 100;
	fx.conf.port[DP_OUTSIDE].vlan = 200;
	assert_int_equal(
		run(DP_INSIDE, tag(client_seg(41020, REDIS, 6379, RTE_TCP_SYN_FLAG), 100), &out),
		1);
	assert_int_equal(out.n[DP_OUTSIDE], 1);
	m = out.pkts[DP_OUTSIDE][0];
	f = rte_pktmbuf_mtod(m, uint8_t *);
	assert_int_equal(rte_pktmbuf_data_len(m), 64);
	nat_port = (uint16_t)(f[4 + 34] << 8 | f[4 + 35]);
	assert_frame(m, tag(syn_out(nat_port), 200));
	assert_int_equal(m->ol_flags & RTE_MBUF_F_TX_VLAN, 0);
	free_out(&out);

	assert_int_equal(
		run(DP_OUTSIDE,
		    tag(server_seg(REDIS, 6379, nat_port, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG),
			200),
		    &out),
		1);
	assert_int_equal(out.n[DP_INSIDE], 1);
	assert_frame(out.pkts[DP_INSIDE][0],
		     tag(make_tcp(&(struct tcp_spec){ .dst_mac = mac_client,
						      .src_mac = mac_in,
						      .src = REDIS,
						      .dst = CLIENT,
						      .sport = 6379,
						      .dport = 41020,
						      .flags = RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG,
						      .ttl = 63,
						      .seq = 5000,
						      .ack = 1001,
						      .payload = 12 }),
			 100));
	free_out(&out);

	/* untagged, another VLAN, the outside's VLAN on the inside: dropped */
	assert_int_equal(run(DP_INSIDE, client_seg(41021, REDIS, 6379, RTE_TCP_SYN_FLAG), &out), 0);
	assert_int_equal(
		run(DP_INSIDE, tag(client_seg(41022, REDIS, 6379, RTE_TCP_SYN_FLAG), 101), &out),
		0);
	assert_int_equal(
		run(DP_INSIDE, tag(client_seg(41023, REDIS, 6379, RTE_TCP_SYN_FLAG), 200), &out),
		0);
	assert_int_equal(drops(EGRESS_DROP_VLAN_MISMATCH), 3);
	assert_int_equal(drops(EGRESS_DROP_VLAN_TAGGED), 0);
	assert_int_equal(fx.w->stats.port[DP_INSIDE].dropped, 3);
	assert_int_equal(flow_table_count(fx.w->flows), 1);

	/* stripped by the NIC: priority 5 on VLAN 100 passes, VLAN 101 does not */
	m = client_seg(41024, REDIS, 6379, RTE_TCP_SYN_FLAG);
	m->ol_flags = RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED;
	m->vlan_tci = 5 << 13 | 100;
	assert_int_equal(run(DP_INSIDE, m, &out), 1);
	m = out.pkts[DP_OUTSIDE][0];
	f = rte_pktmbuf_mtod(m, uint8_t *);
	assert_frame(m, tag(syn_out((uint16_t)(f[4 + 34] << 8 | f[4 + 35])), 200));
	free_out(&out);
	m = client_seg(41025, REDIS, 6379, RTE_TCP_SYN_FLAG);
	m->ol_flags = RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED;
	m->vlan_tci = 101;
	assert_int_equal(run(DP_INSIDE, m, &out), 0);
	assert_int_equal(drops(EGRESS_DROP_VLAN_MISMATCH), 4);

	/* the NIC inserts the tag: the frame leaves untagged, flagged */
	fx.conf.port[DP_OUTSIDE].offloads = DP_PORT_VLAN_INSERT;
	assert_int_equal(
		run(DP_INSIDE, tag(client_seg(41026, REDIS, 6379, RTE_TCP_SYN_FLAG), 100), &out),
		1);
	m = out.pkts[DP_OUTSIDE][0];
	assert_int_equal(m->ol_flags & RTE_MBUF_F_TX_VLAN, RTE_MBUF_F_TX_VLAN);
	assert_int_equal(m->vlan_tci, 200);
	f = rte_pktmbuf_mtod(m, uint8_t *);
	assert_frame(m, syn_out((uint16_t)(f[34] << 8 | f[35])));
	free_out(&out);

	/* what egressd makes itself is tagged too: an ARP reply */
	m = rte_pktmbuf_alloc(fx.pool);
	f = (uint8_t *)rte_pktmbuf_append(m, 60);
	if (f == NULL)
		abort();
	memset(f, 0, 60);
	memcpy(f, bcast, 6);
	memcpy(f + 6, mac_client, 6);
	f[12] = 0x08, f[13] = 0x06;                 /* ARP */
	f[14] = 0, f[15] = 1, f[16] = 8, f[17] = 0; /* Ethernet, IPv4 */
	f[18] = 6, f[19] = 4, f[20] = 0, f[21] = 1; /* request */
	memcpy(f + 22, mac_client, 6);
	memcpy(f + 28, &(uint32_t){ CLIENT }, 4);
	memcpy(f + 38, &(uint32_t){ IP(10, 8, 0, 1) }, 4);
	assert_int_equal(run(DP_INSIDE, tag(m, 100), &out), 1);
	assert_int_equal(out.n[DP_INSIDE], 1);
	f = rte_pktmbuf_mtod(out.pkts[DP_INSIDE][0], uint8_t *);
	assert_memory_equal(f, mac_client, 6);
	assert_memory_equal(f + 6, mac_in, 6);
	assert_memory_equal(f + 12, ((const uint8_t[]){ 0x81, 0x00, 0x00, 100, 0x08, 0x06 }), 6);
	assert_int_equal(f[4 + 21], RTE_ARP_OP_REPLY);
	free_out(&out);

	/* and a RST it answers a denied SYN with */
	fx.conf.deny = EGRESS_DENY_RESET;
	assert_int_equal(
		run(DP_INSIDE, tag(client_seg(41028, REDIS, 6380, RTE_TCP_SYN_FLAG), 100), &out),
		1);
	assert_int_equal(out.n[DP_INSIDE], 1);
	m = out.pkts[DP_INSIDE][0];
	f = rte_pktmbuf_mtod(m, uint8_t *);
	assert_int_equal(rte_pktmbuf_data_len(m), 64);
	assert_memory_equal(f + 12, ((const uint8_t[]){ 0x81, 0x00, 0x00, 100, 0x08, 0x00 }), 6);
	assert_int_equal(f[4 + 47], RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
	assert_int_equal(fx.w->stats.rst_sent, 1);
	free_out(&out);

	/* an untagged port: a tag the NIC stripped is a tagged frame */
	fx.conf.port[DP_INSIDE].vlan = 0;
	m = client_seg(41027, REDIS, 6379, RTE_TCP_SYN_FLAG);
	m->ol_flags = RTE_MBUF_F_RX_VLAN | RTE_MBUF_F_RX_VLAN_STRIPPED;
	m->vlan_tci = 100;
	assert_int_equal(run(DP_INSIDE, m, &out), 0);
	assert_int_equal(drops(EGRESS_DROP_VLAN_TAGGED), 1);
}

/*
 * The RSS key ports get: symmetric, the hash of a 5-tuple and of its reverse
 * equal (rte_softrss, DPDK's Toeplitz in software) at the key sizes NICs
 * take (40: ixgbe, mlx5, iavf; 52: i40e, ice); with DPDK's default key they
 * differ, so the test can tell.
 */
static void
test_rss_symmetric_key(void **state)
{
	static const uint8_t default_key[40] = {
		0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
		0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
		0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
	};
	uint8_t key[52];
	unsigned int len, i;
	(void)state;

	for (len = 40; len <= 52; len += 12) {
		dp_rss_symmetric_key(key, len);
		assert_int_equal(key[0], 0x6d);
		assert_int_equal(key[1], 0x5a);
		assert_int_equal(key[len - 1], 0x5a);
		for (i = 0; i < 1000; i++) {
			uint32_t a = rte_rand(), b = rte_rand(), p = (uint32_t)rte_rand();
			uint32_t fwd[3] = { a, b, p }, rev[3] = { b, a, p >> 16 | p << 16 };

			assert_int_equal(rte_softrss(fwd, 3, key), rte_softrss(rev, 3, key));
		}
	}
	{
		uint32_t fwd[3] = { 0x0a080002, 0x0a3b763b, 47001u << 16 | 6379 };
		uint32_t rev[3] = { 0x0a3b763b, 0x0a080002, 6379u << 16 | 47001 };

		assert_int_not_equal(rte_softrss(fwd, 3, default_key),
				     rte_softrss(rev, 3, default_key));
	}
}

static void
test_hostile_frames(void **state)
{
	struct rte_mbuf *m, *seg2;
	struct dp_out out;
	uint16_t before;
	(void)state;

	/* a SYN with a bad TCP checksum creates no flow and takes no port */
	m = client_seg(40080, REDIS, 6379, RTE_TCP_SYN_FLAG);
	tcp_of(m)->cksum ^= 0x1234;
	assert_int_equal(run(DP_INSIDE, m, &out), 0);
	assert_int_equal(drops(EGRESS_DROP_L4_CHECKSUM), 1);
	assert_int_equal(flow_table_count(fx.w->flows), 0);
	assert_int_equal(fx.w->stats.flows_created, 0);

	/* a chained mbuf (a header could straddle the segments): dropped */
	m = client_seg(40081, REDIS, 6379, RTE_TCP_SYN_FLAG);
	seg2 = rte_pktmbuf_alloc(fx.pool);
	assert_non_null(rte_pktmbuf_append(seg2, 10));
	assert_int_equal(rte_pktmbuf_chain(m, seg2), 0);
	assert_int_equal(run(DP_INSIDE, m, &out), 0);
	assert_int_equal(drops(EGRESS_DROP_MULTI_SEG), 1);

	/* an Ethernet trailer (padding) is trimmed, the packet forwarded; a
	 * frame below Ethernet's 60-byte minimum leaves padded with zeros */
	m = client_seg(40082, REDIS, 6379, RTE_TCP_SYN_FLAG);
	before = rte_pktmbuf_data_len(m);
	memset(rte_pktmbuf_append(m, 6), 0xee, 6);
	assert_int_equal(run(DP_INSIDE, m, &out), 1);
	assert_int_equal(rte_pktmbuf_data_len(out.pkts[DP_OUTSIDE][0]), RTE_MAX(before, 60));
	for (unsigned int k = before; k < 60; k++)
		assert_int_equal(rte_pktmbuf_mtod(out.pkts[DP_OUTSIDE][0], uint8_t *)[k], 0);
	assert_checksums(out.pkts[DP_OUTSIDE][0]);
	free_out(&out);

	/* every reason counted exactly once: three frames, two drops */
	assert_int_equal(fx.w->stats.port[DP_INSIDE].rx, 3);
	assert_int_equal(fx.w->stats.port[DP_INSIDE].dropped, 2);

	/* nothing to broadcast, multicast or our prefixes' broadcast address is
	 * forwarded or answered, not even with a RST under deny: reset */
	fx.conf.deny = EGRESS_DENY_RESET;
	assert_int_equal(run(DP_INSIDE,
			     client_seg(40083, IP(255, 255, 255, 255), 6379, RTE_TCP_SYN_FLAG),
			     &out),
			 0);
	assert_int_equal(
		run(DP_INSIDE, client_seg(40083, IP(224, 0, 0, 1), 6379, RTE_TCP_SYN_FLAG), &out),
		0);
	assert_int_equal(run(DP_INSIDE,
			     client_seg(40083, IP(10, 8, 255, 255), 6379, RTE_TCP_SYN_FLAG), &out),
			 0);
	assert_int_equal(drops(EGRESS_DROP_IP_MARTIAN_DST), 3);
	assert_int_equal(fx.w->stats.rst_sent, 0);
	/* nor anything claiming to come from our own addresses (an ICMP error
	 * or echo reply to it would be sent to ourselves) */
	{
		struct tcp_spec t = {
			.dst_mac = mac_out,
			.src_mac = mac_gw,
			.src = NAT_ADDR,
			.dst = REDIS,
			.sport = 1050,
			.dport = 53,
			.flags = RTE_TCP_SYN_FLAG,
			.ttl = 1,
		};

		assert_int_equal(run(DP_OUTSIDE, make_tcp(&t), &out), 0);
		assert_int_equal(drops(EGRESS_DROP_IP_MARTIAN), 1);
		assert_int_equal(fx.w->stats.icmp_sent, 0);
	}
}

/* A full table: a counted drop, never a stall; expired flows make room. */
static void
test_full_table(void **state)
{
	struct dp_out out;
	unsigned int i, n = 0;
	(void)state;

	fx.conf.embryonic_max = 1u << 20;
	rebuild_worker(1024);
	/* fill it: every SYN that fits is forwarded, the rest are counted */
	for (i = 0; i < 1100; i++) {
		n += run(DP_INSIDE,
			 client_seg((uint16_t)(30000 + i), REDIS, 6379, RTE_TCP_SYN_FLAG), &out);
		free_out(&out);
	}
	assert_int_equal(n, flow_table_capacity(fx.w->flows));
	assert_int_equal(drops(EGRESS_DROP_FLOW_TABLE_FULL), 1100 - n);
	/* long after, nothing swept yet: the next SYN reclaims on demand
	 * (expired flows go to quarantine first, then free their slot) */
	fx.now += fx.cfg.timeout_transitory_ms;
	dp_expire(fx.w, fx.now, 4096, NULL);
	fx.now += fx.cfg.timeout_time_wait_ms;
	/* the reclaimed slots wait for their grace period (this burst may
	 * still hold pointers to those flows): the SYN that reclaimed is
	 * refused, ... */
	assert_int_equal(run(DP_INSIDE, client_seg(31500, REDIS, 6379, RTE_TCP_SYN_FLAG), &out), 0);
	assert_int_equal(fx.w->stats.flows_expired, 1024);
	assert_int_equal(drops(EGRESS_DROP_FLOW_TABLE_FULL), 1100 - n + 1);
	/* ... and the next burst, a poll-loop iteration later, gets one */
	assert_int_equal(run(DP_INSIDE, client_seg(31501, REDIS, 6379, RTE_TCP_SYN_FLAG), &out), 1);
	free_out(&out);
	assert_int_equal(fx.w->stats.flows_expired, 1024);
	assert_int_equal(flow_table_count(fx.w->flows), 1);
}

/* ------------------------------ frames of one burst, reopened 5-tuples, aging */

/* Every embryonic flow counted, and nothing else (the worker's counter). */
static void
assert_embryonic_consistent(void)
{
	uint32_t i, n = 0;

	for (i = 0; i < flow_table_capacity(fx.w->flows); i++) {
		const struct flow *f = flow_table_at(fx.w->flows, i);

		n += f->in_use && f->embryonic;
	}
	assert_int_equal(fx.w->embryonic, n);
}

/* The policy a test replaced with one that has no rule (publish_empty_policy()). */
static struct {
	struct policy *saved, *empty;
	char dir[32];
} swapped;

/* Publish a policy without rules, as a reload of an empty folder would. */
static void
publish_empty_policy(void)
{
	snprintf(swapped.dir, sizeof(swapped.dir), "/tmp/egt-empty-XXXXXX");
	assert_non_null(mkdtemp(swapped.dir));
	swapped.empty = load_policy(swapped.dir, fx.conf.policy->generation + 1);
	assert_non_null(swapped.empty);
	assert_int_equal(swapped.empty->n_rules, 0);
	swapped.saved = fx.conf.policy;
	fx.conf.policy = swapped.empty;
}

/* Put back the policy publish_empty_policy() replaced. */
static void
restore_policy(void)
{
	fx.conf.policy = swapped.saved;
	policy_free(swapped.empty);
	rmdir(swapped.dir);
}

/*
 * Three frames of one revoked flow in one burst end it once: one
 * revocation, one RST each way, the two later frames dropped as flowless,
 * and the client's per-source count keeps its two other flows.
 */
static void
test_revoked_flow_in_one_burst(void **state)
{
	struct rte_mbuf *pkts[3];
	struct dp_out out;
	uint32_t client = CLIENT;
	unsigned int i;
	int pos;
	(void)state;

	fx.conf.source_max = 8;
	rebuild_worker(1024);
	establish(40100);
	open_flow(40101);
	open_flow(40102);
	publish_empty_policy();
	for (i = 0; i < 3; i++)
		pkts[i] = client_seg(40100, REDIS, 6379, RTE_TCP_ACK_FLAG);
	memset(&out, 0, sizeof(out));
	assert_int_equal(burst(DP_INSIDE, pkts, 3, &out), 2);
	assert_int_equal(fx.w->stats.flows_revoked, 1);
	assert_int_equal(fx.w->stats.rst_sent, 2);
	assert_int_equal(out.n[DP_OUTSIDE], 1);
	assert_int_equal(out.n[DP_INSIDE], 1);
	assert_int_equal(drops(EGRESS_DROP_REVOKED), 1);
	assert_int_equal(drops(EGRESS_DROP_NOT_SYN), 2);
	free_out(&out);
	assert_int_equal(flow_table_count(fx.w->flows), 2);
	pos = rte_hash_lookup(fx.w->sources, &client);
	assert_true(pos >= 0);
	assert_int_equal(fx.w->source[pos].flows, 2);
	restore_policy();
}

/*
 * A SYN evicts embryonic flow A, and A's retransmit later in the
 * same burst is a new flow (it evicts the next oldest), not a frame on the
 * dead one: the embryonic count stays true, and what leaves carries the
 * NAT port of the flow the table holds.
 */
static void
test_evicted_flow_retransmit_in_one_burst(void **state)
{
	struct flow_key ka = client_key(REDIS, 40111, 6379);
	struct rte_mbuf *pkts[2];
	struct dp_out out;
	struct flow *f;
	uint8_t dir;
	(void)state;

	fx.conf.embryonic_max = 2;
	rebuild_worker(1024);
	open_flow(40111);                                           /* A, the oldest */
	open_flow(40112);                                           /* B */
	pkts[0] = client_seg(40113, REDIS, 6379, RTE_TCP_SYN_FLAG); /* C evicts A */
	pkts[1] = client_seg(40111, REDIS, 6379, RTE_TCP_SYN_FLAG); /* A again: evicts B */
	memset(&out, 0, sizeof(out));
	assert_int_equal(burst(DP_INSIDE, pkts, 2, &out), 2);
	assert_int_equal(fx.w->stats.embryonic_evicted, 2);
	assert_int_equal(fx.w->stats.flows_created, 4);
	assert_int_equal(fx.w->embryonic, 2);
	assert_int_equal(flow_table_count(fx.w->flows), 2);
	assert_embryonic_consistent();
	f = flow_table_lookup(fx.w->flows, &ka, &dir);
	assert_non_null(f);
	assert_true(f->embryonic);
	assert_int_equal(tcp_of(out.pkts[DP_OUTSIDE][1])->src_port, f->key[FLOW_DIR_IN].dst_port);
	free_out(&out);
}

/* Close a flow with a client RST: CLOSED, and it lingers. */
static uint16_t
open_and_reset(uint16_t sport)
{
	uint16_t nat_port = establish(sport);
	struct dp_out out;

	assert_int_equal(run(DP_INSIDE,
			     client_seg(sport, REDIS, 6379, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG),
			     &out),
			 1);
	free_out(&out);
	return nat_port;
}

/*
 * A SYN on a CLOSED (or TIME_WAIT) 5-tuple reopens it under the
 * embryonic cap, through the eviction FIFO: with a cap of 2 and four new
 * connections, two of them reopened, never more than two are embryonic and
 * the oldest are the ones evicted.
 */
static void
test_reopen_under_embryonic_cap(void **state)
{
	struct dp_out out;
	uint16_t nat_x;
	(void)state;

	fx.conf.embryonic_max = 2;
	rebuild_worker(1024);
	nat_x = open_and_reset(40120);
	open_and_reset(40121);
	assert_int_equal(fx.w->embryonic, 0);
	/* reopen both: the same NAT binding, embryonic again */
	assert_int_equal(run(DP_INSIDE, client_seg(40120, REDIS, 6379, RTE_TCP_SYN_FLAG), &out), 1);
	assert_int_equal(rte_be_to_cpu_16(tcp_of(out.pkts[DP_OUTSIDE][0])->src_port), nat_x);
	free_out(&out);
	open_flow(40121);
	assert_int_equal(fx.w->embryonic, 2);
	/* two fresh SYNs evict the two reopened flows, oldest first */
	open_flow(40122);
	assert_int_equal(fx.w->embryonic, 2);
	assert_int_equal(fx.w->stats.embryonic_evicted, 1);
	open_flow(40123);
	assert_int_equal(fx.w->embryonic, 2);
	assert_int_equal(fx.w->stats.embryonic_evicted, 2);
	assert_int_equal(flow_table_count(fx.w->flows), 2);
	assert_embryonic_consistent();
}

/*
 * On_revoke: keep keeps connections, it never admits one. A SYN on
 * the 5-tuple of a closed flow whose rule is gone is denied, like a SYN on
 * a fresh 5-tuple to the same place; the established flow kept passes.
 */
static void
test_keep_admits_no_new_connection(void **state)
{
	struct dp_out out;
	(void)state;

	fx.conf.on_revoke = EGRESS_REVOKE_KEEP;
	open_and_reset(40130);
	establish(40131);
	publish_empty_policy();
	/* the established one is kept */
	assert_int_equal(run(DP_INSIDE, client_seg(40131, REDIS, 6379, RTE_TCP_ACK_FLAG), &out), 1);
	free_out(&out);
	/* the closed one is not reopened */
	assert_int_equal(run(DP_INSIDE, client_seg(40130, REDIS, 6379, RTE_TCP_SYN_FLAG), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_POLICY_DENIED), 1);
	/* nor is a quarantined one: timed out, then a SYN */
	fx.now += fx.cfg.timeout_established_ms;
	assert_int_equal(dp_expire(fx.w, fx.now, 4096, NULL), 0);
	assert_int_equal(run(DP_INSIDE, client_seg(40131, REDIS, 6379, RTE_TCP_SYN_FLAG), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_POLICY_DENIED), 2);
	assert_int_equal(flow_table_count(fx.w->flows), 0);
	fx.conf.on_revoke = EGRESS_REVOKE_RESET;
	restore_policy();
}

/*
 * The sweep goes round the whole table once per period, whatever
 * its size: 64 Ki slots in 16 ms with the loop running ten times per ms
 * (4096 slots per ms; the old budget stopped at 640).
 */
static void
test_sweep_follows_table_size(void **state)
{
	struct flow_key k = client_key(REDIS, 40140, 6379);
	unsigned int ms, loop;
	uint8_t dir;
	(void)state;

	fx.conf.sweep_period_ms = 16;
	rebuild_worker(65536);
	establish(40140); /* slot 0 */
	/* the cursor just past it, then the flow expires */
	fx.w->sweep_cursor = 1;
	fx.w->sweep_ms = fx.now;
	fx.now += fx.cfg.timeout_established_ms + fx.cfg.timeout_time_wait_ms;
	fx.w->sweep_ms = fx.now;
	for (ms = 1; ms <= 17; ms++) {
		for (loop = 0; loop < 10; loop++)
			dp_sweep(fx.w, fx.now + ms, NULL);
		if (flow_table_lookup(fx.w->flows, &k, &dir) == NULL ||
		    flow_table_lookup(fx.w->flows, &k, &dir)->quarantine)
			break;
	}
	/* found, aged to quarantine, within one period (and a millisecond) */
	assert_true(ms <= 17);
	assert_true(ms >= 15);
}

/*
 * poll.idle: backoff: no sleep for the first 200 us without a frame, then
 * 8 us doubling with each sleep up to max_us, and max_us for ever after
 * (no shift overflow); max_us 0 (busy polling) never sleeps.
 */
static void
test_idle_sleep_schedule(void **state)
{
	static const struct {
		uint64_t idle_us;
		uint32_t sleeps, max_us, want;
	} t[] = {
		{ 0, 0, 1000, 0 },
		{ 199, 0, 1000, 0 },
		{ 200, 0, 1000, 8 },
		{ 200, 1, 1000, 16 },
		{ 250, 2, 1000, 32 },
		{ 500, 5, 1000, 256 },
		{ 900, 6, 1000, 512 },
		{ 1500, 7, 1000, 1000 },
		{ 2500, 8, 1000, 1000 },
		{ UINT64_MAX, 30, 1000, 1000 },
		{ UINT64_MAX, 31, 1000, 1000 },
		{ UINT64_MAX, UINT32_MAX, 1000, 1000 },
		{ UINT64_MAX, UINT32_MAX, 100000, 100000 },
		{ 1000000, 10, 100000, 8192 },
		{ 1000000, 13, 100000, 65536 },
		{ 1000000, 14, 100000, 100000 },
		/* the spin counts from the last frame, whatever the sleeps */
		{ 199, 14, 100000, 0 },
		/* a ceiling under the first step: the ceiling */
		{ 200, 0, 5, 5 },
		{ 200, 0, 8, 8 },
		{ 200, 1, 9, 9 },
		/* busy */
		{ 200, 0, 0, 0 },
		{ UINT64_MAX, UINT32_MAX, 0, 0 },
	};
	unsigned int i;
	(void)state;

	assert_int_equal(DP_IDLE_SPIN_US, 200);
	for (i = 0; i < RTE_DIM(t); i++)
		assert_int_equal(dp_idle_sleep_us(t[i].idle_us, t[i].sleeps, t[i].max_us),
				 t[i].want);
}

/*
 * poll.idle: interrupt against DPDK's interrupt calls, wrapped at link time
 * (tests/meson.build): every call counted per port, rte_epoll_wait()
 * answering what the test scripts, and whether the worker was off line for
 * the QSBR while it waited. Off (irq.on false): DPDK's own.
 */
int __real_rte_eth_dev_rx_intr_enable(uint16_t port_id, uint16_t queue_id);
int __real_rte_eth_dev_rx_intr_disable(uint16_t port_id, uint16_t queue_id);
int __real_rte_eth_dev_rx_intr_ctl_q(uint16_t port_id, uint16_t queue_id, int epfd, int op,
				     void *data);
int __real_rte_epoll_wait(int epfd, struct rte_epoll_event *events, int maxevents, int timeout);

static struct {
	bool on;
	unsigned int enable[DP_NPORTS], disable[DP_NPORTS]; /* by port id (0, 1) */
	unsigned int added[DP_NPORTS], deleted[DP_NPORTS];
	int ctl_rc[DP_NPORTS]; /* what ADD answers, by port id */
	unsigned int waits;    /* rte_epoll_wait() calls */
	int wait_rc;           /* what the next one answers */
	int timeout;           /* the last one's timeout, ms */
	bool online_in_wait;   /* the worker was on line in one */
	bool bad_args;         /* a call for another queue than 0 or another epfd */
} irq;

/* One call of the switch counted in count[] (by port id): port 0 answers
 * as net_tap does, -ENOTSUP (it has no switch). */
static int
irq_switch(unsigned int *count, uint16_t port_id, uint16_t queue_id)
{
	irq.bad_args |= port_id >= DP_NPORTS || queue_id != 0;
	count[port_id % DP_NPORTS]++;
	return port_id == 0 ? -ENOTSUP : 0;
}

int
__wrap_rte_eth_dev_rx_intr_enable(uint16_t port_id, uint16_t queue_id)
{
	return irq.on ? irq_switch(irq.enable, port_id, queue_id) :
			__real_rte_eth_dev_rx_intr_enable(port_id, queue_id);
}

int
__wrap_rte_eth_dev_rx_intr_disable(uint16_t port_id, uint16_t queue_id)
{
	return irq.on ? irq_switch(irq.disable, port_id, queue_id) :
			__real_rte_eth_dev_rx_intr_disable(port_id, queue_id);
}

int
__wrap_rte_eth_dev_rx_intr_ctl_q(uint16_t port_id, uint16_t queue_id, int epfd, int op, void *data)
{
	if (!irq.on)
		return __real_rte_eth_dev_rx_intr_ctl_q(port_id, queue_id, epfd, op, data);
	irq.bad_args |= port_id >= DP_NPORTS || queue_id != 0 || epfd != RTE_EPOLL_PER_THREAD;
	if (op == RTE_INTR_EVENT_DEL) {
		irq.deleted[port_id % DP_NPORTS]++;
		return 0;
	}
	irq.bad_args |= op != RTE_INTR_EVENT_ADD || (uintptr_t)data != port_id;
	if (irq.ctl_rc[port_id % DP_NPORTS] == 0)
		irq.added[port_id % DP_NPORTS]++;
	return irq.ctl_rc[port_id % DP_NPORTS];
}

int
__wrap_rte_epoll_wait(int epfd, struct rte_epoll_event *events, int maxevents, int timeout)
{
	uint64_t t;

	if (!irq.on)
		return __real_rte_epoll_wait(epfd, events, maxevents, timeout);
	irq.bad_args |= epfd != RTE_EPOLL_PER_THREAD || maxevents < DP_NPORTS;
	irq.waits++;
	irq.timeout = timeout;
	/* an on-line reader that has not quiesced holds a new token back */
	t = rte_rcu_qsbr_start(fx.qsbr);
	if (rte_rcu_qsbr_check(fx.qsbr, t, false) == 0)
		irq.online_in_wait = true;
	return irq.wait_rc;
}

/* dp_idle() without a frame at TSC us (one tick a microsecond). */
#define IDLE_AT(us) dp_idle(fx.w, false, (us), 1)

/*
 * poll.idle: interrupt, the idle state machine with exact counts: nothing
 * for 200 us after a frame; then the worker arms its queues' interrupts
 * (both ports, queue 0; net_tap's -ENOTSUP ignored) and polls once more;
 * then waits, off line, max_sleep_us rounded up to ms; an interrupt and a
 * timeout each counted, an interrupt restarting the idle time (200 us of
 * polls before the next wait); it stays armed until a frame disarms it; banked
 * sweep work puts the wait off; an epoll error counts as a timeout.
 * dp_worker_irq_setup() registers both queues, or, one refused, none.
 */
static void
test_idle_interrupt(void **state)
{
	struct dp_conf *conf = &fx.conf; /* the worker's (make_worker()) */
	enum dp_port bad = DP_INSIDE;
	(void)state;

	memset(&irq, 0, sizeof(irq));
	irq.on = true;
	conf->port[DP_INSIDE].port_id = 0;
	conf->port[DP_OUTSIDE].port_id = 1;
	conf->idle_sleep_max_us = 2500;
	conf->idle_interrupt = true;

	/* setup: one port refused (net_af_packet: no interrupt handle) */
	irq.ctl_rc[1] = -ENOTSUP;
	assert_int_equal(dp_worker_irq_setup(fx.w, &bad), -ENOTSUP);
	assert_int_equal(bad, DP_OUTSIDE);
	assert_false(dp_worker_irq(fx.w));
	assert_int_equal(irq.added[0], 1);
	assert_int_equal(irq.deleted[0], 1); /* undone */
	assert_int_equal(irq.added[1], 0);
	assert_int_equal(irq.deleted[1], 0);
	irq.ctl_rc[1] = 0;
	assert_int_equal(dp_worker_irq_setup(fx.w, &bad), 0);
	assert_true(dp_worker_irq(fx.w));
	assert_int_equal(irq.added[0], 2);
	assert_int_equal(irq.added[1], 1);

	dp_idle(fx.w, true, 1000, 1);
	IDLE_AT(1199); /* 199 us: poll on */
	assert_int_equal(irq.enable[0] + irq.enable[1] + irq.waits, 0);
	IDLE_AT(1200); /* 200 us: armed, one more poll before the wait */
	assert_int_equal(irq.enable[0], 1);
	assert_int_equal(irq.enable[1], 1);
	assert_int_equal(irq.waits, 0);
	assert_int_equal(fx.w->stats.idle_sleeps, 0);

	irq.wait_rc = 1; /* a frame's interrupt */
	IDLE_AT(1250);
	assert_int_equal(irq.waits, 1);
	assert_int_equal(irq.timeout, 3); /* 2500 us, rounded up */
	assert_false(irq.online_in_wait);
	assert_int_equal(fx.w->stats.idle_sleeps, 1);
	assert_int_equal(fx.w->stats.idle_wakeups_interrupt, 1);
	assert_int_equal(fx.w->stats.idle_wakeups_timeout, 0);
	irq.wait_rc = 0;
	/* the interrupt restarts the idle time: 200 us of polls first (the
	 * frame may not be readable yet), then another wait */
	IDLE_AT(4300);
	IDLE_AT(4499);
	assert_int_equal(irq.waits, 1);
	IDLE_AT(4500); /* nothing came: it timed out */
	assert_int_equal(irq.waits, 2);
	assert_int_equal(fx.w->stats.idle_wakeups_timeout, 1);
	assert_int_equal(irq.enable[0] + irq.enable[1], 2); /* still armed: not again */
	assert_int_equal(irq.disable[0] + irq.disable[1], 0);

	dp_idle(fx.w, true, 5000, 1); /* a frame: disarmed, idle time restarts */
	assert_int_equal(irq.disable[0], 1);
	assert_int_equal(irq.disable[1], 1);
	IDLE_AT(5199);
	dp_idle(fx.w, true, 5300, 1); /* unarmed: nothing to disarm */
	assert_int_equal(irq.disable[0] + irq.disable[1], 2);

	fx.w->sweep_credit = 5; /* banked sweep work: no arming, no wait */
	IDLE_AT(9000);
	IDLE_AT(9100);
	assert_int_equal(irq.enable[0] + irq.enable[1], 2);
	assert_int_equal(irq.waits, 2);
	fx.w->sweep_credit = 0;
	IDLE_AT(9200);
	assert_int_equal(irq.enable[0] + irq.enable[1], 4);
	irq.wait_rc = -1; /* epoll failed: a timeout, and a sleep instead */
	IDLE_AT(9300);
	assert_int_equal(irq.waits, 3);
	assert_int_equal(fx.w->stats.idle_sleeps, 3);
	assert_int_equal(fx.w->stats.idle_wakeups_interrupt, 1);
	assert_int_equal(fx.w->stats.idle_wakeups_timeout, 2);

	/* the loop's end: disarmed and unregistered, on the worker's lcore */
	dp_worker_irq_teardown(fx.w);
	assert_false(dp_worker_irq(fx.w));
	assert_int_equal(irq.disable[0] + irq.disable[1], 4);
	assert_int_equal(irq.deleted[0], 2);
	assert_int_equal(irq.deleted[1], 1);

	/* without registered queues (the fallback): the backoff's sleeps */
	dp_idle(fx.w, true, 20000, 1);
	IDLE_AT(20200);
	assert_int_equal(fx.w->stats.idle_sleeps, 4);
	assert_int_equal(irq.waits, 3);
	assert_int_equal(irq.enable[0] + irq.enable[1], 4);
	assert_false(irq.online_in_wait);
	assert_false(irq.bad_args);
	irq.on = false;

	assert_int_equal(dp_idle_wait_ms(0), 1);
	assert_int_equal(dp_idle_wait_ms(1), 1);
	assert_int_equal(dp_idle_wait_ms(1000), 1);
	assert_int_equal(dp_idle_wait_ms(1001), 2);
	assert_int_equal(dp_idle_wait_ms(100000), 100);
	assert_int_equal(dp_idle_wait_ms(UINT32_MAX), 4294968);
}

/*
 * A UDP flow nobody answered is embryonic, under the same cap
 * (the oldest evicted); a reply makes it established.
 */
static void
test_udp_under_embryonic_cap(void **state)
{
	struct dp_out out;
	unsigned int i;
	(void)state;

	fx.conf.embryonic_max = 4;
	rebuild_worker(1024);
	fx.conf.policy->outbound = EGRESS_OUTBOUND_ALLOW_ANY;
	for (i = 0; i < 6; i++) {
		assert_int_equal(
			run(DP_INSIDE,
			    client_udp((uint16_t)(40150 + i), IP(198, 51, 100, 7), 53, 0, false),
			    &out),
			1);
		free_out(&out);
	}
	assert_int_equal(fx.w->embryonic, 4);
	assert_int_equal(fx.w->stats.embryonic_evicted, 2);
	assert_int_equal(flow_table_count(fx.w->flows), 4);
	assert_embryonic_consistent();
	fx.conf.policy->outbound = EGRESS_OUTBOUND_REGISTRY_ONLY;
}

/*
 * At a full table, new flows reclaim on demand once per
 * millisecond, not a stretch of the table per packet: ten SYNs in one ms
 * move the aging cursor by exactly one reclaim budget.
 */
static void
test_full_table_reclaims_once_per_ms(void **state)
{
	struct rte_mbuf *pkts[10];
	struct dp_out out;
	unsigned int i;
	(void)state;

	fx.conf.embryonic_max = 1u << 20;
	rebuild_worker(4096);
	for (i = 0; i < 4096; i++) {
		assert_int_equal(
			run(DP_INSIDE,
			    client_seg((uint16_t)(20000 + i), REDIS, 6379, RTE_TCP_SYN_FLAG), &out),
			1);
		free_out(&out);
	}
	assert_int_equal(fx.w->sweep_cursor, 0);
	for (i = 0; i < 10; i++)
		pkts[i] = client_seg((uint16_t)(30000 + i), REDIS, 6379, RTE_TCP_SYN_FLAG);
	memset(&out, 0, sizeof(out));
	assert_int_equal(burst(DP_INSIDE, pkts, 10, &out), 0);
	assert_int_equal(drops(EGRESS_DROP_FLOW_TABLE_FULL), 10);
	assert_int_equal(fx.w->sweep_cursor, 1024);
}

/*
 * A simultaneous open (RFC 793 figure 8: SYN out, SYN in, SYN-ACK
 * out, SYN-ACK in) reaches ESTABLISHED and leaves the embryonic count.
 */
static void
test_simultaneous_open(void **state)
{
	struct flow_key k = client_key(REDIS, 40160, 6379);
	uint16_t nat_port = open_flow(40160);
	struct dp_out out;
	struct flow *f;
	uint8_t dir;
	(void)state;

	assert_int_equal(run(DP_OUTSIDE, server_seg(REDIS, 6379, nat_port, RTE_TCP_SYN_FLAG), &out),
			 1);
	free_out(&out);
	assert_int_equal(run(DP_INSIDE,
			     client_seg(40160, REDIS, 6379, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG),
			     &out),
			 1);
	free_out(&out);
	assert_int_equal(run(DP_OUTSIDE,
			     server_seg(REDIS, 6379, nat_port, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG),
			     &out),
			 1);
	free_out(&out);
	f = flow_table_lookup(fx.w->flows, &k, &dir);
	assert_non_null(f);
	assert_int_equal(f->state, FLOW_S_ESTABLISHED);
	assert_int_equal(fx.w->embryonic, 0);
}

/*
 * A SYN on an established flow passes without touching its
 * tracking (window scale included); an ACK of data the other side never
 * sent is out of window.
 */
static void
test_syn_past_handshake_and_ack_check(void **state)
{
	struct flow_key k = client_key(REDIS, 40170, 6379);
	struct tcp_spec s = {
		.dst_mac = mac_in,
		.src_mac = mac_client,
		.src = CLIENT,
		.dst = REDIS,
		.sport = 40170,
		.dport = 6379,
		.flags = RTE_TCP_SYN_FLAG,
		.seq = 90000000,
	};
	struct flow_tcp before[2];
	struct dp_out out;
	struct flow *f;
	uint8_t dir;
	(void)state;

	establish(40170);
	f = flow_table_lookup(fx.w->flows, &k, &dir);
	assert_non_null(f);
	memcpy(before, dp_flow_tcp(fx.w->flows, f), sizeof(before));
	assert_int_equal(run(DP_INSIDE, make_tcp(&s), &out), 1);
	free_out(&out);
	assert_memory_equal(dp_flow_tcp(fx.w->flows, f), before, sizeof(before));
	assert_int_equal(f->state, FLOW_S_ESTABLISHED);
	/* the server sent up to seq 5001: an ACK of 9001 acknowledges nothing */
	s.flags = RTE_TCP_ACK_FLAG;
	s.seq = 1001;
	s.ack = 9001;
	assert_int_equal(run(DP_INSIDE, make_tcp(&s), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_TCP_WINDOW), 1);
	/* one that acknowledges what was sent passes */
	s.ack = 5001;
	assert_int_equal(run(DP_INSIDE, make_tcp(&s), &out), 1);
	free_out(&out);
}

/* The RSTs of revoked flows take tokens of the RST bucket. */
static void
test_revocation_rsts_rate_limited(void **state)
{
	struct dp_out out;
	(void)state;

	establish(40180);
	establish(40181);
	publish_empty_policy();
	/* three tokens left in this millisecond: three RSTs, not four */
	fx.w->rst.tokens = 3;
	fx.w->rst.last_ms = (uint32_t)fx.now;
	memset(&out, 0, sizeof(out));
	assert_int_equal(dp_expire(fx.w, fx.now, 4096, &out), 2);
	assert_int_equal(fx.w->stats.flows_revoked, 2);
	assert_int_equal(fx.w->stats.rst_sent, 3);
	assert_int_equal(out.n[DP_INSIDE] + out.n[DP_OUTSIDE], 3);
	free_out(&out);
	restore_policy();
}

/*
 * A packet from the broadcast address of a connected prefix (inside
 * 10.8.255.255, outside 203.0.113.255) was sent by no host (RFC 1812
 * 5.3.7): dropped as a martian source, and never answered, even under
 * deny: reset, where a RST would go to every host of the prefix.
 */
static void
test_directed_broadcast_source(void **state)
{
	struct tcp_spec s = {
		.dst_mac = mac_in,
		.src_mac = mac_client,
		.src = IP(10, 8, 255, 255),
		.dst = REDIS,
		.sport = 40190,
		.dport = 6380,
		.flags = RTE_TCP_SYN_FLAG,
	};
	struct dp_out out;
	(void)state;

	fx.conf.deny = EGRESS_DENY_RESET;
	assert_int_equal(run(DP_INSIDE, make_tcp(&s), &out), 0);
	s.dport = 6379;
	assert_int_equal(run(DP_INSIDE, make_tcp(&s), &out), 0);
	s = (struct tcp_spec){ .dst_mac = mac_out,
			       .src_mac = mac_gw,
			       .src = IP(203, 0, 113, 255),
			       .dst = NAT_ADDR,
			       .sport = 6379,
			       .dport = 40000,
			       .flags = RTE_TCP_ACK_FLAG };
	assert_int_equal(run(DP_OUTSIDE, make_tcp(&s), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_IP_MARTIAN), 3);
	assert_int_equal(fx.w->stats.rst_sent, 0);
	assert_int_equal(flow_table_count(fx.w->flows), 0);
	fx.conf.deny = EGRESS_DENY_DROP;
}

/* nat.mss_clamp: the MSS option of a forwarded SYN is lowered, not raised. */
static void
test_mss_clamp(void **state)
{
	static const uint8_t mss1460[4] = { 2, 4, 0x05, 0xb4 };
	struct rte_tcp_hdr *th;
	struct rte_mbuf *m;
	struct dp_out out;
	uint8_t *opt;
	(void)state;

	fx.conf.mss_clamp = 1200;
	m = make_tcp(&(struct tcp_spec){ .dst_mac = mac_in,
					 .src_mac = mac_client,
					 .src = CLIENT,
					 .dst = REDIS,
					 .sport = 40100,
					 .dport = 6379,
					 .flags = RTE_TCP_SYN_FLAG,
					 .seq = 1000,
					 .payload = 4 });
	/* turn the 4 payload bytes into an MSS option */
	th = tcp_of(m);
	opt = (uint8_t *)(th + 1);
	memcpy(opt, mss1460, 4);
	th->data_off = 6 << 4;
	th->cksum = 0;
	th->cksum = rte_ipv4_udptcp_cksum(ip_of(m), th);
	assert_int_equal(run(DP_INSIDE, m, &out), 1);
	th = tcp_of(out.pkts[DP_OUTSIDE][0]);
	opt = (uint8_t *)(th + 1);
	assert_int_equal(opt[0], 2);
	assert_int_equal((opt[2] << 8) | opt[3], 1200);
	assert_checksums(out.pkts[DP_OUTSIDE][0]);
	free_out(&out);
	/* a smaller MSS is left alone */
	fx.conf.mss_clamp = 1500;
	m = make_tcp(&(struct tcp_spec){ .dst_mac = mac_in,
					 .src_mac = mac_client,
					 .src = CLIENT,
					 .dst = REDIS,
					 .sport = 40101,
					 .dport = 6379,
					 .flags = RTE_TCP_SYN_FLAG,
					 .seq = 1000,
					 .payload = 4 });
	th = tcp_of(m);
	memcpy(th + 1, mss1460, 4);
	th->data_off = 6 << 4;
	th->cksum = 0;
	th->cksum = rte_ipv4_udptcp_cksum(ip_of(m), th);
	assert_int_equal(run(DP_INSIDE, m, &out), 1);
	opt = (uint8_t *)(tcp_of(out.pkts[DP_OUTSIDE][0]) + 1);
	assert_int_equal((opt[2] << 8) | opt[3], 1460);
	assert_checksums(out.pkts[DP_OUTSIDE][0]);
	free_out(&out);
}

static void
test_allow_any(void **state)
{
	struct dp_out out;
	(void)state;

	fx.conf.policy->outbound = EGRESS_OUTBOUND_ALLOW_ANY;
	assert_int_equal(
		run(DP_INSIDE, client_seg(40014, IP(198, 51, 100, 7), 443, RTE_TCP_SYN_FLAG), &out),
		1);
	assert_int_equal(ip_of(out.pkts[DP_OUTSIDE][0])->dst_addr, IP(198, 51, 100, 7));
	assert_checksums(out.pkts[DP_OUTSIDE][0]);
	free_out(&out);
	fx.conf.policy->outbound = EGRESS_OUTBOUND_REGISTRY_ONLY;
}

/* ------------------------------- ICMP errors of NATed flows, UDP, rate limits */

#define ROUTER IP(198, 51, 100, 1)

static struct rte_udp_hdr *
udp_of(struct rte_mbuf *m)
{
	return (struct rte_udp_hdr *)(ip_of(m) + 1);
}

/*
 * An ICMP error of type/code arriving on the outside from src to the NAT
 * address (TTL 60, IP id 0x4242), `mtu` in the low half of its second word,
 * quoting qlen bytes of quote; outer IP and ICMP checksums right.
 */
static struct rte_mbuf *
outside_icmp_error(uint32_t src, uint8_t type, uint8_t code, uint16_t mtu, const void *quote,
		   uint16_t qlen)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(fx.pool);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *ic;

	assert_non_null(m);
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, 14 + 20 + 8 + qlen);
	if (eth == NULL)
		abort();
	memcpy(&eth->dst_addr, mac_out, 6);
	memcpy(&eth->src_addr, mac_gw, 6);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	memset(ip, 0, 20 + 8);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(20 + 8 + qlen);
	ip->packet_id = rte_cpu_to_be_16(0x4242);
	ip->time_to_live = 60;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = src;
	ip->dst_addr = NAT_ADDR;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	ic = (struct rte_icmp_hdr *)(ip + 1);
	ic->icmp_type = type;
	ic->icmp_code = code;
	ic->icmp_seq_nb = rte_cpu_to_be_16(mtu);
	memcpy(ic + 1, quote, qlen);
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, 8 + qlen);
	return m;
}

/*
 * The ICMP error m to the client: every outer field (IP id and TTL as
 * given, no TOS, no fragment bits), outer IP and ICMP checksums by full
 * computation. @return the quoted IP header.
 */
static struct rte_ipv4_hdr *
assert_icmp_error(struct rte_mbuf *m, uint32_t src, uint16_t id, uint8_t ttl, uint8_t type,
		  uint8_t code, uint16_t mtu, uint16_t qlen)
{
	struct rte_ipv4_hdr *ip = ip_of(m);
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)(ip + 1);

	assert_l2(m, mac_client, mac_in);
	assert_int_equal(rte_pktmbuf_data_len(m), 14 + 20 + 8 + qlen);
	assert_int_equal(ip->version_ihl, RTE_IPV4_VHL_DEF);
	assert_int_equal(ip->type_of_service, 0);
	assert_int_equal(rte_be_to_cpu_16(ip->total_length), 20 + 8 + qlen);
	assert_int_equal(rte_be_to_cpu_16(ip->packet_id), id);
	assert_int_equal(ip->fragment_offset, 0);
	assert_int_equal(ip->time_to_live, ttl);
	assert_int_equal(ip->next_proto_id, IPPROTO_ICMP);
	assert_int_equal(ip->src_addr, src);
	assert_int_equal(ip->dst_addr, CLIENT);
	assert_int_equal(rte_ipv4_cksum(ip), 0);
	assert_int_equal(ic->icmp_type, type);
	assert_int_equal(ic->icmp_code, code);
	assert_int_equal(ic->icmp_ident, 0);
	assert_int_equal(rte_be_to_cpu_16(ic->icmp_seq_nb), mtu);
	assert_int_equal(rte_raw_cksum(ic, 8 + qlen), 0xffff);
	return (struct rte_ipv4_hdr *)(ic + 1);
}

/* The ICMP error outside_icmp_error() built, translated on to the client. */
static struct rte_ipv4_hdr *
assert_icmp_to_client(struct rte_mbuf *m, uint32_t src, uint8_t type, uint8_t code, uint16_t mtu,
		      uint16_t qlen)
{
	return assert_icmp_error(m, src, 0x4242, 59, type, code, mtu, qlen);
}

/*
 * The quoted packet q is the client's own (header cip, first l4len bytes of
 * L4 cl4) as the far end received it: one hop later, every byte else as the
 * client sent it. The quoted IP checksum is verified by full computation,
 * and the quoted L4 checksum too when the whole segment is quoted and it
 * carries one.
 */
static void
assert_quote_is_clients(const struct rte_ipv4_hdr *q, const struct rte_ipv4_hdr *cip,
			const void *cl4, uint16_t l4len)
{
	const struct rte_udp_hdr *qu = (const struct rte_udp_hdr *)(q + 1);

	assert_int_equal(q->version_ihl, cip->version_ihl);
	assert_int_equal(q->type_of_service, cip->type_of_service);
	assert_int_equal(q->total_length, cip->total_length);
	assert_int_equal(q->packet_id, cip->packet_id);
	assert_int_equal(q->fragment_offset, cip->fragment_offset);
	assert_int_equal(q->time_to_live, cip->time_to_live - 1);
	assert_int_equal(q->next_proto_id, cip->next_proto_id);
	assert_int_equal(q->src_addr, cip->src_addr);
	assert_int_equal(q->dst_addr, cip->dst_addr);
	assert_int_equal(rte_ipv4_cksum(q), 0);
	assert_memory_equal(q + 1, cl4, l4len);
	if (l4len == rte_be_to_cpu_16(q->total_length) - 20 &&
	    !(q->next_proto_id == IPPROTO_UDP && qu->dgram_cksum == 0))
		assert_int_equal(rte_ipv4_udptcp_cksum_verify(q, q + 1), 0);
}

/* The error's quote: the first qlen bytes of the IP packet in m. */
static void
copy_ip(struct rte_mbuf *m, uint8_t *quote, uint16_t qlen)
{
	memcpy(quote, ip_of(m), qlen);
}

/*
 * A client SYN CLIENT:sport -> dst:6379 goes out; an ICMP error type/code
 * comes back from `from` (0: from where the SYN went, the real endpoint)
 * quoting the first qlen bytes of the SYN as sent on. The client must get it
 * from `shown` (0: from `from`), every field and checksum right, the quote
 * its own SYN again.
 * @return the address the error came from.
 */
static uint32_t
tcp_error_to_client(uint16_t sport, uint32_t dst, uint32_t from, uint8_t type, uint8_t code,
		    uint16_t qlen, uint32_t shown)
{
	struct rte_ipv4_hdr cip, *q;
	struct rte_tcp_hdr ctcp;
	uint8_t quote[40];
	struct rte_mbuf *m;
	struct dp_out out;

	assert_true(qlen <= sizeof(quote));
	m = client_seg(sport, dst, 6379, RTE_TCP_SYN_FLAG);
	cip = *ip_of(m);
	ctcp = *tcp_of(m);
	assert_int_equal(run(DP_INSIDE, m, &out), 1);
	copy_ip(out.pkts[DP_OUTSIDE][0], quote, qlen);
	if (from == 0)
		from = ip_of(out.pkts[DP_OUTSIDE][0])->dst_addr;
	if (shown == 0)
		shown = from;
	free_out(&out);

	m = outside_icmp_error(from, type, code, 0, quote, qlen);
	assert_int_equal(run(DP_OUTSIDE, m, &out), 1);
	assert_int_equal(out.n[DP_INSIDE], 1);
	assert_int_equal(out.n[DP_OUTSIDE], 0);
	q = assert_icmp_to_client(out.pkts[DP_INSIDE][0], shown, type, code, 0, qlen);
	assert_quote_is_clients(q, &cip, &ctcp, (uint16_t)RTE_MIN(qlen - 20, (int)sizeof(ctcp)));
	free_out(&out);
	return from;
}

/* The real endpoint's "port unreachable" reaches the client from the VIP. */
static void
test_icmp_error_from_dnat_endpoint(void **state)
{
	struct flow *f;
	uint32_t ep;
	(void)state;

	use_static_policy(NULL);
	ep = tcp_error_to_client(26000, REDIS_VIP, 0, 3, 3, 40, REDIS_VIP);
	assert_true(ep == EP1 || ep == EP2);
	f = client_flow(IPPROTO_TCP, 26000, REDIS_VIP, 6379);
	assert_int_equal(f->key[FLOW_DIR_IN].src_ip, ep);
	assert_int_equal(fx.w->stats.icmp_translated, 1);
	assert_int_equal(f->state, FLOW_S_SYN_SENT);
}

/* A router on the path to a DNAT endpoint is who the client hears from. */
static void
test_icmp_error_from_router_on_dnat_path(void **state)
{
	(void)state;

	use_static_policy(NULL);
	/* RFC 792's minimum quote: the IP header and 8 bytes (ports, seq) */
	tcp_error_to_client(26001, REDIS_VIP, ROUTER, 11, 0, 28, ROUTER);
	assert_int_equal(fx.w->stats.icmp_translated, 1);
}

/* Without DNAT the server's own error keeps its address: the one dialled. */
static void
test_icmp_error_from_server_without_dnat(void **state)
{
	(void)state;

	assert_int_equal(tcp_error_to_client(40201, REDIS, 0, 3, 3, 40, 0), REDIS);
	assert_int_equal(fx.w->stats.icmp_translated, 1);
}

/*
 * RFC 5508 REQ-3a: a quoted IP header whose checksum fails is dropped, under
 * its own reason; the check covers the whole header, options included.
 */
static void
test_icmp_error_bad_quoted_checksum(void **state)
{
	uint8_t quote[44], *opt = quote + 20;
	struct rte_ipv4_hdr *qip = (struct rte_ipv4_hdr *)quote, *q;
	struct rte_tcp_hdr *qt;
	struct rte_mbuf *m;
	struct dp_out out;
	(void)state;

	m = client_seg(40202, REDIS, 6379, RTE_TCP_SYN_FLAG);
	assert_int_equal(run(DP_INSIDE, m, &out), 1);
	copy_ip(out.pkts[DP_OUTSIDE][0], quote, 40);
	free_out(&out);

	qip->hdr_checksum ^= rte_cpu_to_be_16(0x0100);
	m = outside_icmp_error(ROUTER, 3, 4, 1400, quote, 40);
	assert_int_equal(run(DP_OUTSIDE, m, &out), 0);
	assert_int_equal(out.n[DP_INSIDE], 0);
	assert_int_equal(drops(EGRESS_DROP_ICMP_QUOTE_CHECKSUM), 1);
	assert_int_equal(fx.w->stats.port[DP_OUTSIDE].dropped, 1);
	assert_int_equal(fx.w->stats.icmp_translated, 0);

	/* the same header with 4 bytes of options (NOP NOP NOP EOL) and a
	 * right checksum is translated, the L4 found after the options */
	qip->hdr_checksum ^= rte_cpu_to_be_16(0x0100);
	memmove(quote + 24, quote + 20, 20);
	opt[0] = opt[1] = opt[2] = 1;
	opt[3] = 0;
	qip->version_ihl = 0x46;
	qip->total_length = rte_cpu_to_be_16(44);
	qip->hdr_checksum = 0;
	qip->hdr_checksum = rte_ipv4_cksum(qip);
	m = outside_icmp_error(ROUTER, 3, 4, 1400, quote, 44);
	assert_int_equal(run(DP_OUTSIDE, m, &out), 1);
	q = assert_icmp_to_client(out.pkts[DP_INSIDE][0], ROUTER, 3, 4, 1400, 44);
	assert_int_equal(q->version_ihl, 0x46);
	assert_int_equal(q->src_addr, CLIENT);
	assert_int_equal(q->dst_addr, REDIS);
	assert_int_equal(rte_ipv4_cksum(q), 0);
	assert_memory_equal((uint8_t *)q + 20, opt, 4);
	qt = (struct rte_tcp_hdr *)((uint8_t *)q + 24);
	assert_int_equal(rte_be_to_cpu_16(qt->src_port), 40202);
	assert_int_equal(rte_be_to_cpu_16(qt->dst_port), 6379);
	assert_int_equal(rte_ipv4_udptcp_cksum_verify(q, qt), 0);
	free_out(&out);
	/* an option byte changed, the first 20 bytes intact: still caught */
	opt[2] = 0;
	m = outside_icmp_error(ROUTER, 3, 4, 1400, quote, 44);
	assert_int_equal(run(DP_OUTSIDE, m, &out), 0);
	assert_int_equal(drops(EGRESS_DROP_ICMP_QUOTE_CHECKSUM), 2);
	assert_int_equal(fx.w->stats.icmp_translated, 1);
}

/* UDP: a ServiceEntry for DNS (198.51.100.53:53/UDP) in place of the fixture's. */
static void
use_udp_policy(void)
{
	static const char yaml[] = "apiVersion: networking.istio.io/v1beta1\n"
				   "kind: ServiceEntry\n"
				   "metadata: {name: dns, namespace: cart}\n"
				   "spec:\n"
				   "  hosts: [dns.example.internal]\n"
				   "  addresses: [198.51.100.53]\n"
				   "  ports:\n"
				   "  - {number: 53, name: udp-dns, protocol: UDP}\n"
				   "  location: MESH_EXTERNAL\n";
	char path[] = "/tmp/egt-udp-XXXXXX.yaml";
	int fd = mkstemps(path, 5);
	struct policy *p;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, sizeof(yaml) - 1), sizeof(yaml) - 1);
	close(fd);
	p = load_policy(path, 9);
	unlink(path);
	assert_non_null(p);
	assert_int_equal(p->n_rules, 1);
	assert_int_equal(p->rules[0].proto, IPPROTO_UDP);
	policy_free(fx.conf.policy);
	fx.conf.policy = p;
}

/* The one's complement sum of a UDP datagram and its pseudo-header, folded. */
static uint16_t
udp_sum(const struct rte_ipv4_hdr *ip, const struct rte_udp_hdr *u)
{
	uint32_t sum = (uint32_t)rte_raw_cksum(u, rte_be_to_cpu_16(u->dgram_len)) +
		       rte_ipv4_phdr_cksum(ip, 0);

	return (uint16_t)((sum & 0xffff) + (sum >> 16));
}

/*
 * Set the first two payload bytes of the UDP datagram in m so that once it
 * carries src:sport -> dst:dport (network order) its checksum computes to 0,
 * which RFC 768 sends as 0xffff; then give m the right checksum for the
 * addresses it carries now.
 */
static void
udp_zero_cksum_after(struct rte_mbuf *m, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport)
{
	struct rte_ipv4_hdr *ip = ip_of(m), saved = *ip;
	struct rte_udp_hdr *u = udp_of(m), usaved = *u;
	uint16_t *word = (uint16_t *)(u + 1);

	ip->src_addr = src;
	ip->dst_addr = dst;
	u->src_port = sport;
	u->dst_port = dport;
	u->dgram_cksum = 0;
	*word = 0;
	*word = (uint16_t)~udp_sum(ip, u);
	assert_int_equal(udp_sum(ip, u), 0xffff); /* the checksum is ~0xffff = 0 */
	*ip = saved;
	u->src_port = usaved.src_port;
	u->dst_port = usaved.dst_port;
	u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
}

/*
 * m is the datagram `sent` (its IP packet) forwarded one hop from src to
 * dst: every field but the ports, both checksums by full computation.
 * @return its UDP header.
 */
static struct rte_udp_hdr *
assert_udp_forwarded(struct rte_mbuf *m, const uint8_t *l2dst, const uint8_t *l2src,
		     const uint8_t *sent, uint32_t src, uint32_t dst)
{
	const struct rte_ipv4_hdr *before = (const struct rte_ipv4_hdr *)sent;
	const struct rte_udp_hdr *ubefore = (const struct rte_udp_hdr *)(before + 1);
	uint16_t len = rte_be_to_cpu_16(before->total_length);
	struct rte_ipv4_hdr *ip = ip_of(m);
	struct rte_udp_hdr *u = udp_of(m);

	assert_l2(m, l2dst, l2src);
	/* padded to Ethernet's minimum */
	assert_int_equal(rte_pktmbuf_data_len(m), RTE_MAX(14 + len, 60));
	assert_int_equal(ip->version_ihl, before->version_ihl);
	assert_int_equal(ip->type_of_service, before->type_of_service);
	assert_int_equal(ip->total_length, before->total_length);
	assert_int_equal(ip->packet_id, before->packet_id);
	assert_int_equal(ip->fragment_offset, before->fragment_offset);
	assert_int_equal(ip->time_to_live, before->time_to_live - 1);
	assert_int_equal(ip->next_proto_id, IPPROTO_UDP);
	assert_int_equal(ip->src_addr, src);
	assert_int_equal(ip->dst_addr, dst);
	assert_int_equal(u->dgram_len, ubefore->dgram_len);
	assert_int_not_equal(u->dgram_cksum, 0);
	assert_memory_equal(u + 1, ubefore + 1, len - 28);
	assert_checksums(m);
	return u;
}

/* A datagram out, SNATed; the reply in, translated back: every field. */
static void
test_udp_snat_and_reply(void **state)
{
	uint8_t sent[20 + 8 + 40];
	struct rte_udp_hdr *u;
	struct rte_mbuf *m;
	struct dp_out out;
	uint16_t nat_port;
	struct flow *f;
	(void)state;

	use_udp_policy();
	m = client_udp(41000, DNS, 53, 30, false);
	copy_ip(m, sent, 20 + 8 + 30);
	assert_int_equal(run(DP_INSIDE, m, &out), 1);
	assert_int_equal(out.n[DP_INSIDE], 0);
	assert_int_equal(out.n[DP_OUTSIDE], 1);
	u = assert_udp_forwarded(out.pkts[DP_OUTSIDE][0], mac_gw, mac_out, sent, NAT_ADDR, DNS);
	nat_port = rte_be_to_cpu_16(u->src_port);
	assert_true(nat_port >= 1024);
	assert_int_equal(rte_be_to_cpu_16(u->dst_port), 53);
	free_out(&out);
	f = client_flow(IPPROTO_UDP, 41000, DNS, 53);
	assert_int_equal(f->key[FLOW_DIR_IN].src_ip, DNS);
	assert_int_equal(f->key[FLOW_DIR_IN].dst_ip, NAT_ADDR);
	assert_int_equal(rte_be_to_cpu_16(f->key[FLOW_DIR_IN].src_port), 53);
	assert_int_equal(rte_be_to_cpu_16(f->key[FLOW_DIR_IN].dst_port), nat_port);
	assert_int_equal(fx.w->stats.flows_created, 1);

	/* the reply */
	m = server_udp(nat_port, 40, false);
	copy_ip(m, sent, sizeof(sent));
	assert_int_equal(run(DP_OUTSIDE, m, &out), 1);
	assert_int_equal(out.n[DP_OUTSIDE], 0);
	assert_int_equal(out.n[DP_INSIDE], 1);
	u = assert_udp_forwarded(out.pkts[DP_INSIDE][0], mac_client, mac_in, sent, DNS, CLIENT);
	assert_int_equal(rte_be_to_cpu_16(u->src_port), 53);
	assert_int_equal(rte_be_to_cpu_16(u->dst_port), 41000);
	free_out(&out);
	assert_int_equal(f->state, FLOW_S_ESTABLISHED);
}

/* RFC 768: checksum 0 is "none", and stays so both ways. */
static void
test_udp_zero_checksum_kept(void **state)
{
	struct rte_mbuf *m;
	struct dp_out out;
	uint16_t nat_port;
	(void)state;

	use_udp_policy();
	assert_int_equal(run(DP_INSIDE, client_udp(41001, DNS, 53, 17, true), &out), 1);
	m = out.pkts[DP_OUTSIDE][0];
	assert_int_equal(ip_of(m)->src_addr, NAT_ADDR);
	assert_int_equal(ip_of(m)->dst_addr, DNS);
	assert_int_equal(rte_ipv4_cksum(ip_of(m)), 0);
	nat_port = rte_be_to_cpu_16(udp_of(m)->src_port);
	assert_true(nat_port >= 1024);
	assert_int_equal(rte_be_to_cpu_16(udp_of(m)->dst_port), 53);
	assert_int_equal(udp_of(m)->dgram_cksum, 0);
	free_out(&out);

	assert_int_equal(run(DP_OUTSIDE, server_udp(nat_port, 9, true), &out), 1);
	m = out.pkts[DP_INSIDE][0];
	assert_int_equal(ip_of(m)->src_addr, DNS);
	assert_int_equal(ip_of(m)->dst_addr, CLIENT);
	assert_int_equal(rte_ipv4_cksum(ip_of(m)), 0);
	assert_int_equal(rte_be_to_cpu_16(udp_of(m)->src_port), 53);
	assert_int_equal(rte_be_to_cpu_16(udp_of(m)->dst_port), 41001);
	assert_int_equal(udp_of(m)->dgram_cksum, 0);
	free_out(&out);
}

/*
 * The datagram m, made to checksum to 0 once translated to src:sport ->
 * dst:dport (host order), sent in on port `in`: it must leave translated so,
 * every field right and the checksum sent as 0xffff (RFC 768).
 */
static void
assert_zero_sent_as_ffff(enum dp_port in, struct rte_mbuf *m, uint32_t src, uint16_t sport,
			 uint32_t dst, uint16_t dport)
{
	enum dp_port to = in == DP_INSIDE ? DP_OUTSIDE : DP_INSIDE;
	struct rte_udp_hdr *u;
	struct dp_out out;
	uint8_t sent[64];

	udp_zero_cksum_after(m, src, rte_cpu_to_be_16(sport), dst, rte_cpu_to_be_16(dport));
	assert_int_not_equal(udp_of(m)->dgram_cksum, 0xffff);
	copy_ip(m, sent, rte_be_to_cpu_16(ip_of(m)->total_length));
	assert_int_equal(run(in, m, &out), 1);
	u = assert_udp_forwarded(out.pkts[to][0], to == DP_OUTSIDE ? mac_gw : mac_client,
				 fx.conf.port[to].mac, sent, src, dst);
	assert_int_equal(rte_be_to_cpu_16(u->src_port), sport);
	assert_int_equal(rte_be_to_cpu_16(u->dst_port), dport);
	assert_int_equal(u->dgram_cksum, 0xffff);
	free_out(&out);
}

/* RFC 768: a checksum that computes to 0 after translation is sent as 0xffff. */
static void
test_udp_computed_zero_sent_as_ffff(void **state)
{
	(void)state;

	use_udp_policy();
	/* one NAT port: the translation is known before the datagram is sent */
	fx.w->nat.port_lo = fx.w->nat.port_hi = 3000;
	assert_zero_sent_as_ffff(DP_INSIDE, client_udp(41002, DNS, 53, 16, false), NAT_ADDR, 3000,
				 DNS, 53);
	/* and a reply whose checksum computes to 0 once translated back */
	assert_zero_sent_as_ffff(DP_OUTSIDE, server_udp(3000, 16, false), DNS, 53, CLIENT, 41002);
}

/*
 * Send a client datagram, and the server's "port unreachable" quoting all
 * of it as the server received it: the client gets it with the quote its
 * own again. @return the quoted UDP checksum the client got.
 */
static uint16_t
udp_port_unreachable(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr cip = *ip_of(m), *q;
	uint16_t len = rte_be_to_cpu_16(cip.total_length), cksum;
	uint8_t cl4[64], quote[84];
	struct dp_out out;

	assert_true(len <= sizeof(quote));
	memcpy(cl4, udp_of(m), len - 20);
	assert_int_equal(run(DP_INSIDE, m, &out), 1);
	copy_ip(out.pkts[DP_OUTSIDE][0], quote, len);
	free_out(&out);
	m = outside_icmp_error(DNS, 3, 3, 0, quote, len);
	assert_int_equal(run(DP_OUTSIDE, m, &out), 1);
	q = assert_icmp_to_client(out.pkts[DP_INSIDE][0], DNS, 3, 3, 0, len);
	assert_quote_is_clients(q, &cip, cl4, len - 20);
	cksum = ((struct rte_udp_hdr *)(q + 1))->dgram_cksum;
	free_out(&out);
	return cksum;
}

/* An ICMP error quoting a UDP datagram: its checksum back to the client's. */
static void
test_icmp_error_quoting_udp(void **state)
{
	struct rte_mbuf *m;
	uint16_t c;
	(void)state;

	use_udp_policy();
	m = client_udp(41003, DNS, 53, 20, false);
	c = udp_of(m)->dgram_cksum;
	assert_int_not_equal(c, 0);
	assert_int_equal(udp_port_unreachable(m), c);
	/* no checksum: still none */
	assert_int_equal(udp_port_unreachable(client_udp(41004, DNS, 53, 20, true)), 0);
	/* the client's own checksum computed to 0, sent as 0xffff: so it stays */
	m = client_udp(41005, DNS, 53, 20, false);
	udp_zero_cksum_after(m, CLIENT, rte_cpu_to_be_16(41005), DNS, rte_cpu_to_be_16(53));
	assert_int_equal(udp_of(m)->dgram_cksum, 0xffff);
	assert_int_equal(udp_port_unreachable(m), 0xffff);
	assert_int_equal(fx.w->stats.icmp_translated, 3);
}

/*
 * n client frames, each from make(), sent in bursts: none may leave outside.
 * @return how many were answered back inside, each answer passed to check().
 */
static unsigned int
answered(unsigned int n, struct rte_mbuf *(*make)(void), void (*check)(struct rte_mbuf *))
{
	unsigned int answers = 0;

	while (n > 0) {
		struct rte_mbuf *pkts[DP_BURST_MAX];
		unsigned int i, b = RTE_MIN(n, (unsigned int)DP_BURST_MAX);
		struct dp_out out;
		uint16_t emitted;

		for (i = 0; i < b; i++)
			pkts[i] = make();
		memset(&out, 0, sizeof(out));
		emitted = burst(DP_INSIDE, pkts, (uint16_t)b, &out);
		assert_int_equal(emitted, out.n[DP_INSIDE]);
		assert_int_equal(out.n[DP_OUTSIDE], 0);
		for (i = 0; i < out.n[DP_INSIDE]; i++)
			check(out.pkts[DP_INSIDE][i]);
		answers += out.n[DP_INSIDE];
		free_out(&out);
		n -= b;
	}
	return answers;
}

/* A SYN to a port the policy denies (REDIS:6380), and the RST it may get. */
static struct rte_mbuf *
denied_syn(void)
{
	static uint16_t sport = 10000;

	return client_seg(sport++, REDIS, 6380, RTE_TCP_SYN_FLAG);
}

static void
assert_rst(struct rte_mbuf *m)
{
	assert_int_equal(tcp_of(m)->tcp_flags, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG);
}

/*
 * A generator limited to `rate` per second per worker (a token bucket that
 * starts full), drawn on by the frames make() builds, each counted under
 * the drop reason `why` whether answered or not; its answers are checked by
 * check() and counted in *sent.
 */
static void
assert_rate_limited(unsigned int rate, struct rte_mbuf *(*make)(void),
		    void (*check)(struct rte_mbuf *), const uint64_t *sent, enum egress_drop why)
{
	const unsigned int t = 5, more = t * rate / 1000;

	assert_true(more > 0);
	/* `rate` in one millisecond, not one more */
	assert_int_equal(answered(rate, make, check), rate);
	assert_int_equal(answered(1, make, check), 0);
	assert_int_equal(*sent, rate);
	assert_int_equal(drops(why), rate + 1);
	assert_int_equal(fx.w->stats.port[DP_INSIDE].dropped, rate + 1);
	/* t ms later, exactly t ms worth */
	fx.now += t;
	assert_int_equal(answered(more + 3, make, check), more);
	assert_int_equal(*sent, rate + more);
	assert_int_equal(drops(why), rate + 1 + more + 3);
	/* a long pause refills it to one second's worth, no more */
	fx.now += 60000;
	assert_int_equal(answered(rate + 1, make, check), rate);
	assert_int_equal(*sent, 2 * rate + more);
	assert_int_equal(flow_table_count(fx.w->flows), 0);
}

/* Generated RSTs: DP_RST_RATE per second per worker, every denial counted. */
static void
test_rst_rate_limit(void **state)
{
	(void)state;

	fx.conf.deny = EGRESS_DENY_RESET;
	assert_rate_limited(DP_RST_RATE, denied_syn, assert_rst, &fx.w->stats.rst_sent,
			    EGRESS_DROP_POLICY_DENIED);
	assert_int_equal(fx.w->stats.icmp_sent, 0);
}

/* An allowed SYN arriving with TTL 1, and the time exceeded it may get. */
static struct rte_mbuf *
ttl1_syn(void)
{
	static uint16_t sport = 20000;
	struct tcp_spec s = {
		.dst_mac = mac_in,
		.src_mac = mac_client,
		.src = CLIENT,
		.dst = REDIS,
		.sport = sport++,
		.dport = 6379,
		.flags = RTE_TCP_SYN_FLAG,
		.ttl = 1,
	};

	return make_tcp(&s);
}

static void
assert_time_exceeded(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = ip_of(m);

	assert_int_equal(ip->next_proto_id, IPPROTO_ICMP);
	assert_int_equal(((struct rte_icmp_hdr *)(ip + 1))->icmp_type, 11);
}

/* Generated ICMP errors: DP_ICMP_RATE per second per worker, 3/13 included. */
static void
test_icmp_rate_limit(void **state)
{
	struct dp_out out;
	(void)state;

	assert_rate_limited(DP_ICMP_RATE, ttl1_syn, assert_time_exceeded, &fx.w->stats.icmp_sent,
			    EGRESS_DROP_TTL_EXPIRED);
	assert_int_equal(fx.w->stats.rst_sent, 0);
	/* the bucket is empty again: the administratively-prohibited answer
	 * to a denied datagram draws on it too; the denial is still counted */
	fx.conf.deny = EGRESS_DENY_RESET;
	assert_int_equal(run(DP_INSIDE, client_udp(41020, REDIS, 6379, 8, false), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_POLICY_DENIED), 1);
	fx.now += 1000 / DP_ICMP_RATE;
	assert_int_equal(run(DP_INSIDE, client_udp(41021, REDIS, 6379, 8, false), &out), 1);
	assert_int_equal(((struct rte_icmp_hdr *)(ip_of(out.pkts[DP_INSIDE][0]) + 1))->icmp_code,
			 13);
	free_out(&out);
	assert_int_equal(drops(EGRESS_DROP_POLICY_DENIED), 2);
}

/*
 * The ICMP 3/13 a denied non-TCP packet gets under deny: reset: every field;
 * it quotes the client's IP header and the first 64 bytes after it, or the
 * whole packet when shorter.
 */
static void
assert_admin_prohibited(struct rte_mbuf *m, const uint8_t *sent, uint16_t sent_len)
{
	uint16_t qlen = RTE_MIN(sent_len, (uint16_t)(20 + 64));
	struct rte_ipv4_hdr *q;

	/* from our inside address, a fresh header: id 0, TTL 64 */
	q = assert_icmp_error(m, IP(10, 8, 0, 1), 0, 64, 3, 13, 0, qlen);
	assert_memory_equal(q, sent, qlen);
	assert_int_equal(rte_ipv4_cksum(q), 0);
	if (qlen == sent_len)
		assert_int_equal(rte_ipv4_udptcp_cksum_verify(q, q + 1), 0);
}

static void
test_deny_reset_admin_prohibited(void **state)
{
	uint8_t sent[20 + 8 + 200];
	struct rte_mbuf *m;
	struct dp_out out;
	(void)state;

	/* deny: drop answers nothing */
	assert_int_equal(run(DP_INSIDE, client_udp(41030, REDIS, 6379, 12, false), &out), 0);
	assert_int_equal(fx.w->stats.icmp_sent, 0);

	fx.conf.deny = EGRESS_DENY_RESET;
	/* a short datagram (40 bytes): quoted whole */
	m = client_udp(41031, REDIS, 6379, 12, false);
	copy_ip(m, sent, 40);
	assert_int_equal(run(DP_INSIDE, m, &out), 1);
	assert_int_equal(out.n[DP_INSIDE], 1);
	assert_int_equal(out.n[DP_OUTSIDE], 0);
	assert_admin_prohibited(out.pkts[DP_INSIDE][0], sent, 40);
	free_out(&out);
	/* a long one (228 bytes): its header and 64 bytes */
	m = client_udp(41032, REDIS, 6379, 200, false);
	copy_ip(m, sent, sizeof(sent));
	assert_int_equal(run(DP_INSIDE, m, &out), 1);
	assert_admin_prohibited(out.pkts[DP_INSIDE][0], sent, sizeof(sent));
	free_out(&out);

	assert_int_equal(drops(EGRESS_DROP_POLICY_DENIED), 3);
	assert_int_equal(fx.w->stats.port[DP_INSIDE].dropped, 3);
	assert_int_equal(fx.w->stats.icmp_sent, 2);
	assert_int_equal(fx.w->stats.rst_sent, 0);
	assert_int_equal(flow_table_count(fx.w->flows), 0);
}

/*
 * egressctl explain and the data path agree: random policies, random new
 * TCP and UDP flows from the client pushed through the pipeline in bursts;
 * each one has a flow exactly when explain says allow, under the rule
 * explain names (ALLOW_ANY: no rule, and still a flow), and every deny is
 * counted as policy_denied.
 */
static void
test_explain_agrees_with_pipeline(void **state)
{
	struct policy *saved = fx.conf.policy;
	char dir[64], path[96];
	unsigned int n, b, i, allowed = 0, denied = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/egt-pipe-explain-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/random.yaml", dir);
	srand(29);
	for (n = 0; n < 24; n++) {
		unsigned int round_denied = 0;
		struct policy *p;

		fx.cfg.outbound =
			n % 4 == 3 ? EGRESS_OUTBOUND_ALLOW_ANY : EGRESS_OUTBOUND_REGISTRY_ONLY;
		assert_int_equal(random_policy_write(path), 0);
		p = load_policy(dir, saved->generation + 1 + n);
		assert_non_null(p);
		fx.conf.policy = p;
		rebuild_worker(4096);
		for (b = 0; b < 8; b++) {
			struct rte_mbuf *m[32];
			struct flow_key k[32];
			struct dp_out out;

			for (i = 0; i < 32; i++) {
				uint32_t dst = rte_cpu_to_be_32(rand_probe_addr());
				uint16_t sport = (uint16_t)(2000 + b * 32 + i), dport = rand_port();
				uint8_t proto = rand_proto();

				k[i] = client_key(dst, sport, dport);
				k[i].proto = proto;
				m[i] = proto == IPPROTO_TCP ?
					       client_seg(sport, dst, dport, RTE_TCP_SYN_FLAG) :
					       client_udp(sport, dst, dport, 8, false);
			}
			memset(&out, 0, sizeof(out));
			burst(DP_INSIDE, m, 32, &out);
			free_out(&out);
			for (i = 0; i < 32; i++) {
				struct policy_explanation e;
				uint8_t d;
				const struct flow *f = flow_table_lookup(fx.w->flows, &k[i], &d);

				policy_explain(p, &k[i], &e);
				assert_int_equal(f != NULL, e.allow);
				if (f != NULL)
					assert_int_equal(f->rule, e.rule);
				e.allow ? allowed++ : round_denied++;
			}
		}
		assert_int_equal(drops(EGRESS_DROP_POLICY_DENIED), round_denied);
		denied += round_denied;
		fx.conf.policy = saved;
		rebuild_worker(4096);
		policy_free(p);
	}
	fx.cfg.outbound = EGRESS_OUTBOUND_REGISTRY_ONLY;
	unlink(path);
	rmdir(dir);
	/* both verdicts drawn often */
	assert_true(allowed > 1000 && denied > 1000);
}

/* ------------------------------------------------------- per-rule counters */

#define MONGO IP(10, 59, 118, 60)

/* Counters ctl_counters_create() made for a policy a test published. */
static struct dp_counters *rule_cnt[2];

/* Two entries: redis (no namespace) and mongo (namespace db), mongo first or not. */
static struct policy *
counted_policy(uint32_t gen, bool mongo_first)
{
	static const char redis[] = "apiVersion: networking.istio.io/v1beta1\n"
				    "kind: ServiceEntry\n"
				    "metadata: {name: redis-serviceentry}\n"
				    "spec:\n"
				    "  hosts: [redis.domain]\n"
				    "  addresses: [10.59.118.59]\n"
				    "  ports: [{number: 6379, name: tcp-redis, protocol: TCP}]\n"
				    "  location: MESH_EXTERNAL\n"
				    "  resolution: NONE\n";
	static const char mongo[] = "apiVersion: networking.istio.io/v1beta1\n"
				    "kind: ServiceEntry\n"
				    "metadata: {name: mongo, namespace: db}\n"
				    "spec:\n"
				    "  hosts: [mongo.domain]\n"
				    "  addresses: [10.59.118.60]\n"
				    "  ports: [{number: 27017, name: tcp-mongo, protocol: TCP}]\n"
				    "  location: MESH_EXTERNAL\n"
				    "  resolution: NONE\n";
	char text[1024];
	struct policy *p;

	snprintf(text, sizeof(text), "%s---\n%s", mongo_first ? mongo : redis,
		 mongo_first ? redis : mongo);
	p = load_policy_text(text, gen);
	assert_int_equal(p->n_rules, 2);
	return p;
}

/* Publish p with counters of its own, as ctl_publish() would (worker 0's row). */
static struct dp_counters *
publish_counted(struct policy *p)
{
	struct dp_counters *cnt = ctl_counters_create(1, p);

	assert_non_null(cnt);
	ctl_counters_free(rule_cnt[p->generation & 1]);
	rule_cnt[p->generation & 1] = cnt;
	fx.conf.counters[p->generation & 1] = cnt;
	fx.conf.policy = p;
	return cnt;
}

static void
free_rule_counters(void)
{
	ctl_counters_free(rule_cnt[0]);
	ctl_counters_free(rule_cnt[1]);
	rule_cnt[0] = rule_cnt[1] = NULL;
}

static uint32_t
rule_index(const struct policy *p, const char *name)
{
	uint32_t i;

	for (i = 0; i < p->n_rules; i++)
		if (strcmp(p->rules[i].name, name) == 0)
			return i;
	fail_msg("no rule %s", name);
	return POLICY_NO_RULE;
}

static const struct dp_rule_traffic *
traffic(const struct dp_counters *cnt, uint32_t rule)
{
	return &cnt->rule_traffic[0 * cnt->traffic_stride + rule];
}

static uint64_t
drops_total(void)
{
	uint64_t n = 0;
	unsigned int r;

	for (r = 0; r < EGRESS_DROP_MAX; r++)
		n += drops((enum egress_drop)r);
	return n;
}

/*
 * Frames of two rules' flows mixed in bursts, each counted under its rule
 * and direction, with its length as sent (runts padded to 60); the denies
 * of the same burst counted as near misses (6380 and UDP to the redis
 * address: the redis rule) or under no rule (an address no entry lists),
 * and each drop under exactly its reason.
 */
static void
test_rule_counters_per_burst(void **state)
{
	struct policy *old = fx.conf.policy, *p = counted_policy(3, false);
	struct dp_counters *cnt = publish_counted(p);
	uint32_t redis = rule_index(p, "redis-serviceentry"), mongo = rule_index(p, "db/mongo");
	struct rte_mbuf *pkts[5];
	uint16_t np_redis, np_mongo;
	struct dp_out out;
	unsigned int i;
	(void)state;

	/* burst 1, inside: two admitted, three denied */
	pkts[0] = client_seg(40000, REDIS, 6379, RTE_TCP_SYN_FLAG);
	pkts[1] = client_seg(40001, MONGO, 27017, RTE_TCP_SYN_FLAG);
	pkts[2] = client_seg(40002, REDIS, 6380, RTE_TCP_SYN_FLAG);
	pkts[3] = client_seg(40003, IP(10, 59, 118, 61), 6379, RTE_TCP_SYN_FLAG);
	pkts[4] = client_udp(40004, REDIS, 6379, 8, false);
	memset(&out, 0, sizeof(out));
	assert_int_equal(burst(DP_INSIDE, pkts, 5, &out), 2);
	assert_int_equal(out.n[DP_OUTSIDE], 2);
	for (i = 0; i < 2; i++)
		assert_int_equal(rte_pktmbuf_pkt_len(out.pkts[DP_OUTSIDE][i]), 60);
	np_redis = rte_be_to_cpu_16(tcp_of(out.pkts[DP_OUTSIDE][0])->src_port);
	np_mongo = rte_be_to_cpu_16(tcp_of(out.pkts[DP_OUTSIDE][1])->src_port);
	free_out(&out);
	assert_int_equal(cnt->rule_flows[redis], 1);
	assert_int_equal(cnt->rule_flows[mongo], 1);
	assert_int_equal(cnt->rule_near_miss[redis], 2);
	assert_int_equal(cnt->rule_near_miss[mongo], 0);
	assert_int_equal(fx.w->stats.denied_no_address, 1);
	assert_int_equal(drops(EGRESS_DROP_POLICY_DENIED), 3);
	assert_int_equal(drops_total(), 3);

	/* burst 2, outside: both SYN-ACKs (66 bytes: 12 of payload), and
	 * one frame to a NAT port no flow holds */
	pkts[0] = server_seg(MONGO, 27017, np_mongo, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	pkts[1] = server_seg(REDIS, 6379, np_redis, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	pkts[2] = server_seg(REDIS, 6379, 1023, RTE_TCP_ACK_FLAG);
	memset(&out, 0, sizeof(out));
	assert_int_equal(burst(DP_OUTSIDE, pkts, 3, &out), 2);
	free_out(&out);
	assert_int_equal(drops(EGRESS_DROP_NO_FLOW), 1);
	assert_int_equal(drops_total(), 4);

	/* burst 3, inside: 100 bytes of data to redis (154), an ACK to mongo */
	pkts[0] = client_tcp(40000, REDIS, 6379, RTE_TCP_ACK_FLAG, 1001, 5013, 100);
	pkts[1] = client_seg(40001, MONGO, 27017, RTE_TCP_ACK_FLAG);
	memset(&out, 0, sizeof(out));
	assert_int_equal(burst(DP_INSIDE, pkts, 2, &out), 2);
	free_out(&out);

	assert_int_equal(traffic(cnt, redis)->packets[FLOW_DIR_OUT], 2);
	assert_int_equal(traffic(cnt, redis)->bytes[FLOW_DIR_OUT], 60 + 154);
	assert_int_equal(traffic(cnt, redis)->packets[FLOW_DIR_IN], 1);
	assert_int_equal(traffic(cnt, redis)->bytes[FLOW_DIR_IN], 66);
	assert_int_equal(traffic(cnt, mongo)->packets[FLOW_DIR_OUT], 2);
	assert_int_equal(traffic(cnt, mongo)->bytes[FLOW_DIR_OUT], 60 + 60);
	assert_int_equal(traffic(cnt, mongo)->packets[FLOW_DIR_IN], 1);
	assert_int_equal(traffic(cnt, mongo)->bytes[FLOW_DIR_IN], 66);
	assert_int_equal(cnt->rule_flows[redis], 1);
	assert_int_equal(drops_total(), 4);

	/* burst 4, inside: runs of one rule (redis, redis, mongo, redis, redis),
	 * summed per run before they reach the counters: every frame still
	 * counts once, under its own rule (10, 20, 30 and 40 bytes of data) */
	pkts[0] = client_tcp(40000, REDIS, 6379, RTE_TCP_ACK_FLAG, 1101, 5013, 10);
	pkts[1] = client_tcp(40000, REDIS, 6379, RTE_TCP_ACK_FLAG, 1111, 5013, 20);
	pkts[2] = client_seg(40001, MONGO, 27017, RTE_TCP_ACK_FLAG);
	pkts[3] = client_tcp(40000, REDIS, 6379, RTE_TCP_ACK_FLAG, 1131, 5013, 30);
	pkts[4] = client_tcp(40000, REDIS, 6379, RTE_TCP_ACK_FLAG, 1161, 5013, 40);
	memset(&out, 0, sizeof(out));
	assert_int_equal(burst(DP_INSIDE, pkts, 5, &out), 5);
	free_out(&out);
	assert_int_equal(traffic(cnt, redis)->packets[FLOW_DIR_OUT], 6);
	assert_int_equal(traffic(cnt, redis)->bytes[FLOW_DIR_OUT], 60 + 154 + 64 + 74 + 84 + 94);
	assert_int_equal(traffic(cnt, redis)->packets[FLOW_DIR_IN], 1);
	assert_int_equal(traffic(cnt, mongo)->packets[FLOW_DIR_OUT], 3);
	assert_int_equal(traffic(cnt, mongo)->bytes[FLOW_DIR_OUT], 60 + 60 + 60);
	assert_int_equal(drops_total(), 4);

	fx.conf.policy = old;
	policy_free(p);
	free_rule_counters();
}

/*
 * After a publish that renumbers the rules, a frame of a flow admitted
 * before is counted under its rule's index in the new policy, in the new
 * policy's counters, never at its old index nor in the old counters.
 */
static void
test_rule_counters_follow_generation(void **state)
{
	struct policy *old = fx.conf.policy, *p1 = counted_policy(3, false),
		      *p2 = counted_policy(4, true);
	struct dp_counters *c1 = publish_counted(p1), *c2;
	uint32_t r1 = rule_index(p1, "redis-serviceentry"),
		 r2 = rule_index(p2, "redis-serviceentry");
	uint16_t np;
	struct dp_out out;
	(void)state;

	assert_int_not_equal(r1, r2);
	np = open_flow(40000);
	assert_int_equal(traffic(c1, r1)->packets[FLOW_DIR_OUT], 1);
	c2 = publish_counted(p2);
	assert_int_equal(run(DP_OUTSIDE,
			     server_seg(REDIS, 6379, np, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG),
			     &out),
			 1);
	free_out(&out);
	assert_int_equal(fx.w->stats.flows_rechecked, 1);
	assert_int_equal(traffic(c2, r2)->packets[FLOW_DIR_IN], 1);
	assert_int_equal(traffic(c2, r2)->bytes[FLOW_DIR_IN], 66);
	assert_int_equal(traffic(c2, r1)->packets[FLOW_DIR_IN], 0);
	assert_int_equal(traffic(c1, r1)->packets[FLOW_DIR_IN], 0);
	assert_int_equal(traffic(c1, r1)->packets[FLOW_DIR_OUT], 1);

	fx.conf.policy = old;
	policy_free(p1);
	policy_free(p2);
	free_rule_counters();
}

/* ------------------------------------------------------------ flow log */

/* The rule the policy gives the client's flows to REDIS:6379 (flowlog_on() sets it). */
static uint32_t fl_redis_rule;

/* Flow logs on, as flowlog: would set them: rings of ring records, rate
 * deny records per second (window checks off: the segments below carry
 * whatever sequence numbers). */
static void
flowlog_on(uint32_t ring, uint32_t rate)
{
	fx.conf.flowlog_ring_size = ring;
	fx.conf.flowlog_deny_rate = rate;
	fx.conf.tcp_liberal = true;
	rebuild_worker(4096);
	{
		struct flow_key k = client_key(REDIS, 1, 6379);

		fl_redis_rule = classify_one(fx.conf.policy, &k);
	}
	assert_non_null(fx.w->flowlog);
	assert_ptr_equal(fx.conf.flowlog[0], fx.w->flowlog);
	/* the counters of the end record beside the TCP tracking: a line each */
	assert_int_equal(flow_table_ext_size(fx.w->flows), FLOW_EXT_MAX);
	assert_int_equal((uintptr_t)flow_table_ext(fx.w->flows, flow_table_at(fx.w->flows, 0)) %
				 RTE_CACHE_LINE_SIZE,
			 0);
}

/* The next record of worker 0's ring (and its SNI, NUL-terminated, in sni). */
static void
next_rec(struct dp_flowlog_rec *r, char *sni)
{
	struct dp_flowlog_rec more[8];
	unsigned int extra;

	assert_int_equal(rte_ring_sc_dequeue_elem(fx.w->flowlog, r, sizeof(*r)), 0);
	if (sni == NULL)
		return;
	sni[0] = '\0';
	if (r->event != DP_FL_ADMIT)
		return;
	extra = dp_flowlog_sni_extra(r->u.admit.sni_len);
	if (extra > 0)
		assert_int_equal(
			rte_ring_sc_dequeue_bulk_elem(fx.w->flowlog, more, sizeof(*r), extra, NULL),
			extra);
	memcpy(sni, r->u.admit.sni, RTE_MIN(r->u.admit.sni_len, DP_FLOWLOG_SNI_INLINE));
	if (r->u.admit.sni_len > DP_FLOWLOG_SNI_INLINE)
		memcpy(sni + DP_FLOWLOG_SNI_INLINE, more,
		       r->u.admit.sni_len - DP_FLOWLOG_SNI_INLINE);
	sni[r->u.admit.sni_len] = '\0';
}

/* An end record's reason and counts: frames and L3 bytes out, then in. */
static void
assert_end(const struct dp_flowlog_rec *r, uint8_t reason, uint32_t pkts_out, uint64_t bytes_out,
	   uint32_t pkts_in, uint64_t bytes_in)
{
	assert_int_equal(r->event, DP_FL_END);
	assert_int_equal(r->u.end.reason, reason);
	assert_int_equal(r->u.end.packets[FLOW_DIR_OUT], pkts_out);
	assert_int_equal(r->u.end.bytes[FLOW_DIR_OUT], bytes_out);
	assert_int_equal(r->u.end.packets[FLOW_DIR_IN], pkts_in);
	assert_int_equal(r->u.end.bytes[FLOW_DIR_IN], bytes_in);
}

static void
assert_no_rec(void)
{
	assert_int_equal(rte_ring_count(fx.w->flowlog), 0);
}

/* A segment of the client's flow from sport to REDIS:6379 (out) or its reply
 * to NAT_ADDR:nat_port (in), carrying len bytes of payload. */
static struct rte_mbuf *
fl_seg(bool out, uint16_t sport, uint16_t nat_port, uint8_t flags, const void *payload,
       uint16_t len)
{
	struct tcp_spec s = {
		.dst_mac = out ? mac_in : mac_out,
		.src_mac = out ? mac_client : mac_gw,
		.src = out ? CLIENT : REDIS,
		.dst = out ? REDIS : NAT_ADDR,
		.sport = out ? sport : 6379,
		.dport = out ? 6379 : nat_port,
		.flags = flags,
		.seq = out ? 1000 : 5000,
		.ack = out ? 5001 : 1001,
		.payload = len,
	};
	struct rte_mbuf *m = make_tcp(&s);
	struct rte_tcp_hdr *th = tcp_of(m);

	if (len > 0)
		memcpy(th + 1, payload, len);
	th->cksum = 0;
	th->cksum = rte_ipv4_udptcp_cksum(ip_of(m), th);
	return m;
}

/* Send one segment; it must be forwarded. */
static void
fl_send(bool out, uint16_t sport, uint16_t nat_port, uint8_t flags, const void *payload,
	uint16_t len)
{
	struct dp_out o;

	assert_int_equal(run(out ? DP_INSIDE : DP_OUTSIDE,
			     fl_seg(out, sport, nat_port, flags, payload, len), &o),
			 1);
	free_out(&o);
}

/* A TLS ClientHello naming name (RFC 8446 4.1.2, RFC 6066 3) in buf: its length. */
static uint16_t
client_hello(uint8_t *buf, const char *name)
{
	uint16_t n = (uint16_t)strlen(name), ext = (uint16_t)(9 + n), hs = (uint16_t)(41 + 2 + ext);
	uint8_t *p = buf;

	*p++ = 22, *p++ = 3, *p++ = 1, *p++ = (uint8_t)((hs + 4) >> 8), *p++ = (uint8_t)(hs + 4);
	*p++ = 1, *p++ = 0, *p++ = (uint8_t)(hs >> 8), *p++ = (uint8_t)hs;
	*p++ = 3, *p++ = 3;
	memset(p, 0x42, 32), p += 32;
	*p++ = 0;                                  /* no session id */
	*p++ = 0, *p++ = 2, *p++ = 0x13, *p++ = 1; /* TLS_AES_128_GCM_SHA256 */
	*p++ = 1, *p++ = 0;                        /* null compression */
	*p++ = (uint8_t)(ext >> 8), *p++ = (uint8_t)ext;
	*p++ = 0, *p++ = 0, *p++ = (uint8_t)((n + 5) >> 8), *p++ = (uint8_t)(n + 5);
	*p++ = (uint8_t)((n + 3) >> 8), *p++ = (uint8_t)(n + 3), *p++ = 0;
	*p++ = (uint8_t)(n >> 8), *p++ = (uint8_t)n;
	memcpy(p, name, n), p += n;
	return (uint16_t)(p - buf);
}

/* What every admit and end record of the client's flow from sport says. */
static void
assert_rec_flow(const struct dp_flowlog_rec *r, uint8_t event, uint16_t sport, uint16_t nat_port)
{
	assert_int_equal(r->event, event);
	assert_int_equal(r->proto, IPPROTO_TCP);
	assert_int_equal(r->src, CLIENT);
	assert_int_equal(r->dst, REDIS);
	assert_int_equal(r->sport, rte_cpu_to_be_16(sport));
	assert_int_equal(r->dport, rte_cpu_to_be_16(6379));
	assert_int_equal(r->nat_src, NAT_ADDR);
	assert_int_equal(r->nat_sport, rte_cpu_to_be_16(nat_port));
	assert_int_equal(r->rule, fl_redis_rule);
	assert_int_equal(r->gen, 1);
}

/*
 * A TLS session: no record for the handshake; the admit comes with the
 * client's first payload, a ClientHello, whose server name it carries (a
 * long one too, past the record's own room); its time is the flow's
 * creation. The end record after both FINs and TIME_WAIT: fin, every frame
 * and L3 byte counted each way, the duration up to the last packet.
 */
static void
test_flowlog_admit_sni_and_fin(void **state)
{
	static const char longname[] = "redis-0.memorystore.internal.europe-west1.example.com";
	uint8_t hello[512];
	struct dp_flowlog_rec r;
	char sni[256];
	uint16_t nat_port, hl;
	(void)state;

	assert_true(strlen(longname) > DP_FLOWLOG_SNI_INLINE + 16);
	flowlog_on(64, 100);
	nat_port = open_flow(41000);
	fx.now += 3;
	fl_send(false, 41000, nat_port, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0);
	fl_send(true, 41000, nat_port, RTE_TCP_ACK_FLAG, NULL, 0);
	assert_no_rec();
	fx.now += 2;
	hl = client_hello(hello, "test.example");
	fl_send(true, 41000, nat_port, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, hello, hl);
	next_rec(&r, sni);
	assert_rec_flow(&r, DP_FL_ADMIT, 41000, nat_port);
	assert_int_equal(r.time_ms, T0);
	assert_int_equal(r.u.admit.nat_dst, REDIS);
	assert_int_equal(r.u.admit.nat_dport, rte_cpu_to_be_16(6379));
	assert_string_equal(sni, "test.example");
	assert_no_rec();
	/* the server's answer and more data: no second admit */
	fl_send(false, 41000, nat_port, RTE_TCP_ACK_FLAG, "0123456789", 10);
	fl_send(true, 41000, nat_port, RTE_TCP_ACK_FLAG, hello, hl);
	assert_no_rec();
	fx.now += 10;
	fl_send(true, 41000, nat_port, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0);
	fl_send(false, 41000, nat_port, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0);
	fl_send(true, 41000, nat_port, RTE_TCP_ACK_FLAG, NULL, 0);
	assert_no_rec();
	/* TIME_WAIT runs out */
	fx.now += fx.cfg.timeout_time_wait_ms;
	assert_int_equal(dp_expire(fx.w, fx.now, 4096, NULL), 1);
	next_rec(&r, NULL);
	assert_rec_flow(&r, DP_FL_END, 41000, nat_port);
	assert_int_equal(r.time_ms, T0 + 15);
	assert_int_equal(r.u.end.duration_ms, 15);
	/* out: SYN, ACK, hello, hello, FIN, ACK; in: SYN-ACK, 10 bytes, FIN */
	assert_end(&r, DP_END_FIN, 6, 4 * 40 + 2 * (40 + hl), 3, 40 + 50 + 40);
	assert_no_rec();

	/* a name longer than the record's room comes whole */
	nat_port = open_flow(41001);
	hl = client_hello(hello, longname);
	fl_send(true, 41001, nat_port, RTE_TCP_ACK_FLAG, hello, hl);
	next_rec(&r, sni);
	assert_rec_flow(&r, DP_FL_ADMIT, 41001, nat_port);
	assert_int_equal(r.u.admit.sni_len, strlen(longname));
	assert_string_equal(sni, longname);
	assert_no_rec();
	assert_int_equal(fx.w->stats.flowlog_dropped, 0);
}

/*
 * Server-first (the server's payload comes first): admitted then, no SNI.
 * A flow that never carried a payload is admitted just before its end: a
 * RST (rst), and one idle past its timeout (timeout) that quarantine then
 * keeps another time_wait without logging it again.
 */
static void
test_flowlog_server_first_rst_timeout(void **state)
{
	struct dp_flowlog_rec r;
	char sni[256];
	uint16_t a, b;
	(void)state;

	flowlog_on(64, 100);
	a = establish(41010);
	fl_send(false, 41010, a, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, "220 hi\r\n", 8);
	next_rec(&r, sni);
	assert_rec_flow(&r, DP_FL_ADMIT, 41010, a);
	assert_string_equal(sni, "");
	assert_int_equal(r.u.admit.sni_len, 0);
	fx.now += 7;
	fl_send(false, 41010, a, RTE_TCP_RST_FLAG, NULL, 0);
	assert_no_rec();
	fx.now += fx.cfg.timeout_transitory_ms;
	assert_int_equal(dp_expire(fx.w, fx.now, 4096, NULL), 1);
	next_rec(&r, NULL);
	assert_rec_flow(&r, DP_FL_END, 41010, a);
	assert_int_equal(r.u.end.duration_ms, 7);
	/* SYN, ACK out; SYN-ACK (12 bytes, server_seg), 8 bytes, RST in */
	assert_end(&r, DP_END_RST, 2, 80, 3, 52 + 48 + 40);
	assert_no_rec();

	/* the SYN-ACK of establish() carries 12 bytes: admitted then */
	b = establish(41011);
	next_rec(&r, sni);
	assert_rec_flow(&r, DP_FL_ADMIT, 41011, b);
	assert_int_equal(r.time_ms, fx.now);
	fx.now += fx.cfg.timeout_established_ms;
	assert_int_equal(dp_expire(fx.w, fx.now, 4096, NULL), 0); /* quarantined */
	next_rec(&r, NULL);
	assert_rec_flow(&r, DP_FL_END, 41011, b);
	assert_end(&r, DP_END_TIMEOUT, 2, 80, 1, 52);
	assert_int_equal(r.u.end.duration_ms, 0);
	assert_no_rec();
	fx.now += fx.cfg.timeout_time_wait_ms;
	assert_int_equal(dp_expire(fx.w, fx.now, 4096, NULL), 1);
	assert_no_rec(); /* logged once */

	/* no payload ever: the admit comes right before the end */
	open_flow(41012);
	assert_no_rec();
	fx.now += fx.cfg.timeout_transitory_ms;
	assert_int_equal(dp_expire(fx.w, fx.now, 4096, NULL), 0); /* quarantined */
	next_rec(&r, NULL);
	assert_int_equal(r.event, DP_FL_ADMIT);
	assert_int_equal(r.time_ms, fx.now - fx.cfg.timeout_transitory_ms);
	next_rec(&r, NULL);
	assert_end(&r, DP_END_TIMEOUT, 1, 40, 0, 0);
	assert_no_rec();
}

/* UDP: admitted with its first frame; ended by its timeout. */
static void
test_flowlog_udp(void **state)
{
	struct dp_flowlog_rec r;
	struct dp_out out;
	uint16_t nat_port;
	(void)state;

	use_udp_policy();
	flowlog_on(64, 100);
	assert_int_equal(run(DP_INSIDE, client_udp(41020, DNS, 53, 20, false), &out), 1);
	nat_port = rte_be_to_cpu_16(
		((struct rte_udp_hdr *)(ip_of(out.pkts[DP_OUTSIDE][0]) + 1))->src_port);
	free_out(&out);
	next_rec(&r, NULL);
	assert_int_equal(r.event, DP_FL_ADMIT);
	assert_int_equal(r.proto, IPPROTO_UDP);
	assert_int_equal(r.dst, DNS);
	assert_int_equal(r.dport, rte_cpu_to_be_16(53));
	assert_int_equal(r.nat_sport, rte_cpu_to_be_16(nat_port));
	assert_int_equal(r.time_ms, T0);
	assert_int_equal(r.gen, 9);
	assert_int_equal(r.rule, 0);
	fx.now += 4;
	assert_int_equal(run(DP_OUTSIDE, server_udp(nat_port, 100, false), &out), 1);
	free_out(&out);
	assert_no_rec();
	fx.now += fx.cfg.timeout_transitory_ms;
	assert_int_equal(dp_expire(fx.w, fx.now, 4096, NULL), 1);
	next_rec(&r, NULL);
	assert_end(&r, DP_END_TIMEOUT, 1, 20 + 8 + 20, 1, 20 + 8 + 100);
	assert_int_equal(r.u.end.duration_ms, 4);
	assert_no_rec();
}

/* Revoked (by a flow's next packet, and by the sweep) and evicted flows: end records. */
static void
test_flowlog_revoked_and_evicted(void **state)
{
	struct dp_flowlog_rec r;
	struct dp_out out;
	uint16_t a;
	(void)state;

	fx.conf.embryonic_max = 1;
	flowlog_on(64, 100);
	a = open_flow(41030);
	fx.now += 2;
	open_flow(41031); /* evicts 41030, embryonic */
	next_rec(&r, NULL);
	assert_rec_flow(&r, DP_FL_ADMIT, 41030, a);
	next_rec(&r, NULL);
	assert_rec_flow(&r, DP_FL_END, 41030, a);
	assert_end(&r, DP_END_EVICTED, 1, 40, 0, 0);
	assert_int_equal(r.time_ms, T0 + 2);
	assert_int_equal(r.u.end.duration_ms, 2);
	assert_no_rec();

	a = establish(41032); /* evicts 41031 */
	next_rec(&r, NULL);
	assert_int_equal(r.event, DP_FL_ADMIT);
	next_rec(&r, NULL);
	assert_end(&r, DP_END_EVICTED, 1, 40, 0, 0);
	next_rec(&r, NULL); /* 41032's SYN-ACK payload */
	assert_rec_flow(&r, DP_FL_ADMIT, 41032, a);
	assert_no_rec();
	publish_empty_policy();
	fx.now += 5;
	assert_int_equal(run(DP_INSIDE, client_seg(41032, REDIS, 6379, RTE_TCP_ACK_FLAG), &out), 2);
	free_out(&out);
	next_rec(&r, NULL);
	assert_rec_flow(&r, DP_FL_END, 41032, a);
	/* the frame that found it revoked was not forwarded: not counted */
	assert_end(&r, DP_END_REVOKED, 2, 80, 1, 52);
	assert_int_equal(r.u.end.duration_ms, 5);
	assert_no_rec();
	restore_policy();
}

/*
 * A client SYN on a TIME_WAIT 5-tuple reopens it: the old connection's
 * end (fin) is logged then, and the new one is a flow of its own.
 */
static void
test_flowlog_reopen(void **state)
{
	struct dp_flowlog_rec r;
	uint16_t a;
	(void)state;

	flowlog_on(64, 100);
	a = establish(41040);
	next_rec(&r, NULL);
	assert_int_equal(r.event, DP_FL_ADMIT);
	fl_send(true, 41040, a, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0);
	fl_send(false, 41040, a, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0);
	fx.now += 9;
	fl_send(true, 41040, a, RTE_TCP_SYN_FLAG, NULL, 0);
	next_rec(&r, NULL);
	assert_rec_flow(&r, DP_FL_END, 41040, a);
	assert_end(&r, DP_END_FIN, 3, 120, 2, 92);
	assert_no_rec();
	fl_send(false, 41040, a, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, "x", 1);
	next_rec(&r, NULL);
	assert_rec_flow(&r, DP_FL_ADMIT, 41040, a);
	assert_int_equal(r.time_ms, fx.now);
	fx.now += fx.cfg.timeout_established_ms;
	assert_int_equal(dp_expire(fx.w, fx.now, 4096, NULL), 0);
	next_rec(&r, NULL);
	/* the new connection's own: its SYN out, its SYN-ACK in */
	assert_end(&r, DP_END_TIMEOUT, 1, 40, 1, 41);
	assert_no_rec();
}

/*
 * Denied flows: reason and (the writer's) closest rule; at most the rate
 * per second, the next record made saying how many were skipped, and the
 * suppressed counted. Time is an input: exact counts.
 */
static void
test_flowlog_deny_rate_limited(void **state)
{
	struct rte_mbuf *pkts[8];
	struct policy_explanation e;
	struct dp_flowlog_rec r;
	struct dp_out out;
	unsigned int i;
	(void)state;

	flowlog_on(64, 3);
	for (i = 0; i < 5; i++)
		pkts[i] = client_seg((uint16_t)(41050 + i), REDIS, 6380, RTE_TCP_SYN_FLAG);
	memset(&out, 0, sizeof(out));
	assert_int_equal(burst(DP_INSIDE, pkts, 5, &out), 0);
	for (i = 0; i < 3; i++) {
		next_rec(&r, NULL);
		assert_int_equal(r.event, DP_FL_DENY);
		assert_int_equal(r.proto, IPPROTO_TCP);
		assert_int_equal(r.src, CLIENT);
		assert_int_equal(r.sport, rte_cpu_to_be_16(41050 + i));
		assert_int_equal(r.dst, REDIS);
		assert_int_equal(r.dport, rte_cpu_to_be_16(6380));
		assert_int_equal(r.u.deny.reason, EGRESS_DROP_POLICY_DENIED);
		assert_int_equal(r.u.deny.suppressed, 0);
		assert_int_equal(r.time_ms, T0);
		assert_int_equal(r.gen, 1);
	}
	assert_no_rec();
	assert_int_equal(fx.w->stats.flowlog_suppressed, 2);
	assert_string_equal(ctl_flowlog_closest(fx.conf.policy, &r, &e),
			    "6380 is not a port of ServiceEntry redis-serviceentry "
			    "(10.59.118.59/32 lists 6379/tcp)");
	/* a third of a second later: one token back */
	fx.now += 334;
	assert_int_equal(run(DP_INSIDE, client_seg(41060, REDIS, 6380, RTE_TCP_SYN_FLAG), &out), 0);
	assert_int_equal(run(DP_INSIDE, client_seg(41061, REDIS, 6380, RTE_TCP_SYN_FLAG), &out), 0);
	next_rec(&r, NULL);
	assert_int_equal(r.sport, rte_cpu_to_be_16(41060));
	assert_int_equal(r.u.deny.suppressed, 2);
	assert_int_equal(r.time_ms, T0 + 334);
	assert_no_rec();
	assert_int_equal(fx.w->stats.flowlog_suppressed, 3);
	fx.now += 1000;
	assert_int_equal(run(DP_INSIDE, client_seg(41062, REDIS, 6380, RTE_TCP_SYN_FLAG), &out), 0);
	next_rec(&r, NULL);
	assert_int_equal(r.u.deny.suppressed, 1);
	/* an address no rule lists: no closest rule of that port named */
	assert_int_equal(run(DP_INSIDE,
			     client_seg(41063, IP(10, 59, 118, 60), 6380, RTE_TCP_SYN_FLAG), &out),
			 0);
	next_rec(&r, NULL);
	assert_int_equal(r.u.deny.suppressed, 0);
	assert_int_equal(r.dst, IP(10, 59, 118, 60));
	(void)ctl_flowlog_closest(fx.conf.policy, &r, &e);
	assert_false(e.allow);
	assert_int_equal(drops(EGRESS_DROP_POLICY_DENIED), 9);
}

/*
 * A full ring: records that do not fit are dropped and counted, exactly;
 * an admit with SNI continuation goes in whole or not at all.
 */
/*
 * A new flow refused for want of a resource (here the NAT's one port) makes
 * a deny record with that reason, as a policy deny does, under the same
 * rate limit; it is dropped, never answered with a RST.
 */
static void
test_flowlog_deny_exhausted(void **state)
{
	struct dp_flowlog_rec r;
	struct dp_out out;
	(void)state;

	fx.cfg.nat_port_lo = 41000;
	fx.cfg.nat_port_hi = 41000;
	ctl_dp_conf(&fx.conf, &fx.cfg);
	fx.conf.deny = EGRESS_DENY_RESET;
	flowlog_on(64, 100);
	assert_int_equal(run(DP_INSIDE, client_seg(41000, REDIS, 6379, RTE_TCP_SYN_FLAG), &out), 1);
	free_out(&out);
	assert_no_rec(); /* its admit waits for a payload */
	assert_int_equal(run(DP_INSIDE, client_seg(41001, REDIS, 6379, RTE_TCP_SYN_FLAG), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_NAT_EXHAUSTED), 1);
	assert_int_equal(fx.w->stats.rst_sent, 0);
	next_rec(&r, NULL);
	assert_int_equal(r.event, DP_FL_DENY);
	assert_int_equal(r.src, CLIENT);
	assert_int_equal(r.sport, rte_cpu_to_be_16(41001));
	assert_int_equal(r.dst, REDIS);
	assert_int_equal(r.dport, rte_cpu_to_be_16(6379));
	assert_int_equal(r.u.deny.reason, EGRESS_DROP_NAT_EXHAUSTED);
	assert_int_equal(r.u.deny.suppressed, 0);
	assert_no_rec();
}

/*
 * At shutdown every flow still open gets its end line: "shutdown" for an
 * established one (with its counts, at the shutdown's time), fin for one
 * that closed and waits in TIME_WAIT; a ring with room for one flow's
 * records at a time is drained between calls, and nothing is lost.
 */
static void
test_flowlog_close_at_shutdown(void **state)
{
	struct dp_flowlog_rec r;
	uint16_t p_open, p_fin;
	uint32_t cursor = 0;
	unsigned int calls = 0, ends = 0, fins = 0;
	(void)state;

	/* the most one flow makes: an admit, its SNI's elements, an end */
	flowlog_on(2 + dp_flowlog_sni_extra(DP_FLOWLOG_SNI_MAX), 100);
	assert_int_equal(rte_ring_get_capacity(fx.w->flowlog),
			 2 + dp_flowlog_sni_extra(DP_FLOWLOG_SNI_MAX));
	p_open = open_flow(41100);
	fl_send(false, 41100, p_open, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0);
	fl_send(true, 41100, p_open, RTE_TCP_ACK_FLAG, "0123456789", 10);
	next_rec(&r, NULL);
	assert_rec_flow(&r, DP_FL_ADMIT, 41100, p_open);
	p_fin = open_flow(41101);
	fl_send(false, 41101, p_fin, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0);
	fl_send(true, 41101, p_fin, RTE_TCP_ACK_FLAG, "abc", 3);
	next_rec(&r, NULL);
	fl_send(true, 41101, p_fin, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0);
	fl_send(false, 41101, p_fin, RTE_TCP_FIN_FLAG | RTE_TCP_ACK_FLAG, NULL, 0);
	fl_send(true, 41101, p_fin, RTE_TCP_ACK_FLAG, NULL, 0);
	assert_no_rec();
	fx.now += 100;
	for (;;) {
		bool done = dp_flowlog_close(fx.w, fx.now, &cursor);

		while (rte_ring_count(fx.w->flowlog) > 0) {
			next_rec(&r, NULL);
			assert_int_equal(r.event, DP_FL_END);
			if (r.sport == rte_cpu_to_be_16(41101)) {
				/* out: SYN, "abc", FIN, ACK; in: SYN-ACK, FIN */
				assert_end(&r, DP_END_FIN, 4, 40 + 43 + 40 + 40, 2, 80);
				fins++;
			} else {
				/* out: SYN, 10 bytes; in: SYN-ACK; ended now */
				assert_rec_flow(&r, DP_FL_END, 41100, p_open);
				assert_end(&r, DP_END_SHUTDOWN, 2, 40 + 50, 1, 40);
				assert_int_equal(r.time_ms, fx.now);
			}
			ends++;
		}
		if (done)
			break;
		calls++;
	}
	assert_int_equal(cursor, flow_table_capacity(fx.w->flows));
	assert_int_equal(ends, 2);
	assert_int_equal(calls, 1); /* the first end left no room for a second flow */
	assert_int_equal(fins, 1);
	assert_int_equal(fx.w->stats.flowlog_dropped, 0);
}

static void
test_flowlog_ring_full(void **state)
{
	static const char longname[] = "a-name-longer-than-the-records-own-room.example.com";
	struct dp_flowlog_rec r;
	uint8_t hello[256];
	char sni[256];
	unsigned int i;
	uint16_t hl, a;
	(void)state;

	flowlog_on(4, 100);
	assert_int_equal(rte_ring_get_capacity(fx.w->flowlog), 4);
	/* each admitted by its SYN-ACK's payload (server_seg) */
	for (i = 0; i < 6; i++)
		establish((uint16_t)(41070 + i));
	assert_int_equal(rte_ring_count(fx.w->flowlog), 4);
	assert_int_equal(fx.w->stats.flowlog_dropped, 2);
	for (i = 0; i < 4; i++) {
		next_rec(&r, NULL);
		assert_int_equal(r.sport, rte_cpu_to_be_16(41070 + i));
	}
	assert_no_rec();
	/* the admit and its one continuation need 2; 3 taken, 1 free: dropped whole */
	assert_int_equal(dp_flowlog_sni_extra(sizeof(longname) - 1), 1);
	for (i = 0; i < 4; i++)
		establish((uint16_t)(41080 + i));
	assert_int_equal(fx.w->stats.flowlog_dropped, 2);
	next_rec(&r, NULL);
	a = open_flow(41091);
	hl = client_hello(hello, longname);
	fl_send(true, 41091, a, RTE_TCP_ACK_FLAG, hello, hl);
	assert_int_equal(fx.w->stats.flowlog_dropped, 3);
	assert_int_equal(rte_ring_count(fx.w->flowlog), 3);
	/* room again: whole */
	next_rec(&r, NULL);
	a = open_flow(41092);
	fl_send(true, 41092, a, RTE_TCP_ACK_FLAG, hello, hl);
	assert_int_equal(rte_ring_count(fx.w->flowlog), 4);
	next_rec(&r, NULL);
	next_rec(&r, NULL);
	next_rec(&r, sni);
	assert_rec_flow(&r, DP_FL_ADMIT, 41092, a);
	assert_string_equal(sni, longname);
	assert_no_rec();
	assert_int_equal(fx.w->stats.flowlog_dropped, 3);
}

/* Flow logs off: no ring, nothing made; the per-flow counts still kept. */
static void
test_flowlog_off(void **state)
{
	struct flow_key k = client_key(REDIS, 41100, 6379);
	const struct flow_tcp *t;
	struct flow *f;
	uint8_t dir;
	(void)state;

	assert_null(fx.w->flowlog);
	assert_null(fx.conf.flowlog[0]);
	/* no end record to count for: the extension is the TCP tracking alone,
	 * half a line (a reopened flow and every frame forwarded leave the
	 * neighbouring flow's half alone: the sanitizer builds check it) */
	assert_int_equal(flow_table_ext_size(fx.w->flows), FLOW_EXT_MIN);
	establish(41100);
	f = flow_table_lookup(fx.w->flows, &k, &dir);
	assert_non_null(f);
	t = dp_flow_tcp(fx.w->flows, f);
	assert_true(t[FLOW_DIR_OUT].seen && t[FLOW_DIR_IN].seen);
	assert_int_equal(run(DP_INSIDE, client_seg(41101, REDIS, 6380, RTE_TCP_SYN_FLAG),
			     &(struct dp_out){ 0 }),
			 0);
	assert_int_equal(fx.w->stats.flowlog_suppressed, 0);
	assert_int_equal(fx.w->stats.flowlog_dropped, 0);
}

/* ------------------------------------------------------ session sync */

#define PEER_NAT IP(203, 0, 113, 20) /* the peer appliance's NAT address */

/* Session sync on for worker 0: its rings of ring_size records, PEER_NAT the peer's. */
static void
sync_on(uint32_t ring_size)
{
	fx.conf.sync_ring_size = ring_size;
	fx.conf.sync_peer_addrs[0] = PEER_NAT;
	fx.conf.n_sync_peer_addrs = 1;
	rebuild_worker(4096);
	assert_non_null(fx.w->sync);
	assert_ptr_equal(fx.conf.sync[0], fx.w->sync);
	assert_non_null(fx.conf.sync_in[0]);
}

static void
assert_sync_rec(const struct dp_sync_rec *r, uint8_t type, uint8_t state, uint16_t sport,
		uint16_t nat_port)
{
	assert_int_equal(r->type, type);
	assert_int_equal(r->proto, IPPROTO_TCP);
	assert_int_equal(r->state, state);
	assert_int_equal(r->wscale, 0); /* no window scale option in these SYNs */
	assert_int_equal(r->src, CLIENT);
	assert_int_equal(r->dst, REDIS);
	assert_int_equal(r->sport, rte_cpu_to_be_16(sport));
	assert_int_equal(r->dport, rte_cpu_to_be_16(6379));
	assert_int_equal(r->remote, REDIS);
	assert_int_equal(r->nat_addr, NAT_ADDR);
	assert_int_equal(r->rport, rte_cpu_to_be_16(6379));
	assert_int_equal(r->nat_port, rte_cpu_to_be_16(nat_port));
	assert_int_equal(r->reserved, 0);
	assert_true(dp_sync_rec_valid(r));
}

/* A flow's creation, its establishment, its RST and its deletion, in order. */
static void
test_sync_records_of_a_flow(void **state)
{
	struct dp_sync_rec r[8];
	struct flow_key k = client_key(REDIS, 42000, 6379);
	struct dp_out out;
	uint16_t nat_port;
	struct flow *f;
	uint8_t dir;
	(void)state;

	sync_on(64);
	nat_port = establish(42000);
	/* SYN_SENT and SYN_RCVD are not sent: a peer continues no handshake */
	assert_int_equal(rte_ring_count(fx.conf.sync[0]), 2);
	assert_int_equal(rte_ring_sc_dequeue_bulk_elem(fx.conf.sync[0], r, sizeof(r[0]), 2, NULL),
			 2);
	assert_sync_rec(&r[0], DP_SYNC_CREATE, FLOW_S_NONE, 42000, nat_port);
	assert_sync_rec(&r[1], DP_SYNC_STATE, FLOW_S_ESTABLISHED, 42000, nat_port);
	/* a data segment changes no state: no record */
	assert_int_equal(run(DP_INSIDE,
			     client_tcp(42000, REDIS, 6379, RTE_TCP_ACK_FLAG, 1001, 5013, 5), &out),
			 1);
	free_out(&out);
	assert_int_equal(rte_ring_count(fx.conf.sync[0]), 0);
	assert_int_equal(run(DP_INSIDE,
			     client_tcp(42000, REDIS, 6379, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG,
					1006, 5013, 0),
			     &out),
			 1);
	free_out(&out);
	assert_int_equal(rte_ring_sc_dequeue_elem(fx.conf.sync[0], &r[2], sizeof(r[0])), 0);
	assert_sync_rec(&r[2], DP_SYNC_STATE, FLOW_S_CLOSED, 42000, nat_port);
	f = flow_table_lookup(fx.w->flows, &k, &dir);
	assert_non_null(f);
	dp_flow_remove(fx.w, f, DP_END_BY_STATE);
	assert_int_equal(rte_ring_sc_dequeue_elem(fx.conf.sync[0], &r[3], sizeof(r[0])), 0);
	assert_sync_rec(&r[3], DP_SYNC_DELETE, FLOW_S_CLOSED, 42000, nat_port);
	assert_int_equal(fx.w->stats.sync_records_lost, 0);
}

/* A full ring loses the record and counts it; the packet goes through. */
static void
test_sync_ring_full_counts_lost(void **state)
{
	unsigned int i;
	(void)state;

	sync_on(4);
	for (i = 0; i < 6; i++)
		open_flow((uint16_t)(42100 + i)); /* one CREATE each */
	assert_int_equal(rte_ring_count(fx.conf.sync[0]), 4);
	assert_int_equal(fx.w->stats.sync_records_lost, 2);
	assert_int_equal(fx.w->stats.flows_created, 6);
}

/* Sync off: no ring, no record, nothing counted. */
static void
test_sync_off(void **state)
{
	(void)state;

	assert_null(fx.w->sync);
	assert_null(fx.conf.sync[0]);
	establish(42200);
	assert_int_equal(fx.w->stats.sync_records_lost, 0);
	assert_int_equal(dp_sync_apply(fx.w, fx.now), 0);
}

/* The peer's established flow 40100 -> REDIS:6379, bound to PEER_NAT:50000. */
static struct dp_sync_rec
peer_rec(uint8_t state)
{
	return (struct dp_sync_rec){
		.type = DP_SYNC_STATE,
		.proto = IPPROTO_TCP,
		.state = state,
		.src = CLIENT,
		.dst = REDIS,
		.sport = rte_cpu_to_be_16(40100),
		.dport = rte_cpu_to_be_16(6379),
		.remote = REDIS,
		.nat_addr = PEER_NAT,
		.rport = rte_cpu_to_be_16(6379),
		.nat_port = rte_cpu_to_be_16(50000),
	};
}

/*
 * The takeover: the peer's flow, installed on the worker that owns it,
 * carries the client's next segments with the peer's exact NAT binding
 * (PEER_NAT:50000), the server's replies to that binding come back to the
 * client, and the outside port answers ARP for PEER_NAT. Before the
 * takeover, none of it.
 */
static void
test_sync_takeover_keeps_binding(void **state)
{
	struct dp_sync_rec r[3] = { peer_rec(FLOW_S_ESTABLISHED), peer_rec(FLOW_S_SYN_SENT),
				    peer_rec(FLOW_S_ESTABLISHED) };
	struct tcp_spec reply = {
		.dst_mac = mac_out,
		.src_mac = mac_gw,
		.src = REDIS,
		.dst = PEER_NAT,
		.sport = 6379,
		.dport = 50000,
		.flags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG,
		.seq = 777000,
		.ack = 123470,
		.payload = 7,
	};
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	struct rte_mbuf *m;
	struct dp_out out;
	(void)state;

	sync_on(64);
	assert_int_equal(dp_sync_worker(&fx.conf, &r[0]), 0);
	/* before: a reply to the peer's address is no one's, its ARP ignored */
	assert_int_equal(run(DP_OUTSIDE, make_tcp(&reply), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_NO_ROUTE), 1);
	assert_int_equal(
		run(DP_OUTSIDE, test_arp_request(fx.pool, mac_gw, GATEWAY, PEER_NAT, 60), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_ARP_IGNORED), 1);

	__atomic_store_n(&fx.conf.sync_takeover, 1, __ATOMIC_RELEASE);
	/* the established one is installed; a handshake's and a duplicate are not */
	r[1].sport = rte_cpu_to_be_16(40101);
	assert_int_equal(
		rte_ring_sp_enqueue_bulk_elem(fx.conf.sync_in[0], r, sizeof(r[0]), 3, NULL), 3);
	assert_int_equal(dp_sync_apply(fx.w, fx.now), 1);
	assert_int_equal(fx.w->stats.sync_flows_installed, 1);
	assert_int_equal(fx.w->stats.sync_install_failed, 2);
	assert_int_equal(flow_table_count(fx.w->flows), 1);

	/* the client's next segment, mid-stream: out with the peer's binding */
	m = client_tcp(40100, REDIS, 6379, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 123456, 777000, 14);
	assert_int_equal(run(DP_INSIDE, m, &out), 1);
	assert_int_equal(out.n[DP_OUTSIDE], 1);
	m = out.pkts[DP_OUTSIDE][0];
	assert_l2(m, mac_gw, mac_out);
	ip = ip_of(m);
	th = tcp_of(m);
	assert_int_equal(ip->src_addr, PEER_NAT);
	assert_int_equal(ip->dst_addr, REDIS);
	assert_int_equal(th->src_port, rte_cpu_to_be_16(50000));
	assert_int_equal(th->dst_port, rte_cpu_to_be_16(6379));
	assert_int_equal(rte_be_to_cpu_32(th->sent_seq), 123456);
	assert_int_equal(rte_be_to_cpu_32(th->recv_ack), 777000);
	assert_checksums(m);
	free_out(&out);
	/* re-checked against this appliance's policy, and counted under it */
	assert_int_equal(fx.w->stats.flows_rechecked, 1);

	/* the server's reply to the peer's binding reaches the client */
	assert_int_equal(run(DP_OUTSIDE, make_tcp(&reply), &out), 1);
	assert_int_equal(out.n[DP_INSIDE], 1);
	m = out.pkts[DP_INSIDE][0];
	assert_l2(m, mac_client, mac_in);
	ip = ip_of(m);
	th = tcp_of(m);
	assert_int_equal(ip->src_addr, REDIS);
	assert_int_equal(ip->dst_addr, CLIENT);
	assert_int_equal(th->src_port, rte_cpu_to_be_16(6379));
	assert_int_equal(th->dst_port, rte_cpu_to_be_16(40100));
	assert_checksums(m);
	free_out(&out);

	/* and the outside port answers ARP for the peer's address */
	assert_int_equal(
		run(DP_OUTSIDE, test_arp_request(fx.pool, mac_gw, GATEWAY, PEER_NAT, 60), &out), 1);
	test_assert_arp_reply(out.pkts[DP_OUTSIDE][0], mac_gw, mac_out, mac_out, PEER_NAT, GATEWAY);
	free_out(&out);
	/* never on the inside */
	assert_int_equal(
		run(DP_INSIDE, test_arp_request(fx.pool, mac_client, CLIENT, PEER_NAT, 60), &out),
		0);
	assert_int_equal(drops(EGRESS_DROP_ARP_IGNORED), 2);
	/* installing makes no record: the flow came from the peer */
	assert_int_equal(rte_ring_count(fx.conf.sync[0]), 0);
}

/*
 * flows.no_flow: reset with session sync on: a client segment without a
 * flow is dropped, unanswered, until the takeover (it may be the peer's
 * flow, about to be installed); after it, the peer's flow carries the
 * client's segment and a flow never synced is answered by a RST.
 */
static void
test_no_flow_reset_waits_for_takeover(void **state)
{
	struct dp_sync_rec r = peer_rec(FLOW_S_ESTABLISHED);
	struct rte_mbuf *m;
	struct dp_out out;
	(void)state;

	sync_on(64);
	fx.conf.no_flow = EGRESS_NO_FLOW_RESET;
	m = client_tcp(40100, REDIS, 6379, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 123456, 777000, 14);
	assert_int_equal(run(DP_INSIDE, m, &out), 0);
	assert_int_equal(drops(EGRESS_DROP_NOT_SYN), 1);
	assert_int_equal(fx.w->stats.rst_sent, 0);

	__atomic_store_n(&fx.conf.sync_takeover, 1, __ATOMIC_RELEASE);
	assert_int_equal(rte_ring_sp_enqueue_bulk_elem(fx.conf.sync_in[0], &r, sizeof(r), 1, NULL),
			 1);
	assert_int_equal(dp_sync_apply(fx.w, fx.now), 1);
	/* the retransmission: out with the peer's binding */
	m = client_tcp(40100, REDIS, 6379, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 123456, 777000, 14);
	assert_int_equal(run(DP_INSIDE, m, &out), 1);
	assert_int_equal(out.n[DP_OUTSIDE], 1);
	assert_int_equal(ip_of(out.pkts[DP_OUTSIDE][0])->src_addr, PEER_NAT);
	free_out(&out);
	/* a connection the peer never synced: its RST */
	m = client_tcp(40101, REDIS, 6379, RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG, 9000, 424242, 5);
	assert_int_equal(run(DP_INSIDE, m, &out), 1);
	assert_int_equal(out.n[DP_INSIDE], 1);
	assert_client_rst(out.pkts[DP_INSIDE][0], 40101, 6379, RTE_TCP_RST_FLAG, 424242, 0);
	free_out(&out);
	assert_int_equal(drops(EGRESS_DROP_NOT_SYN), 2);
	assert_int_equal(fx.w->stats.rst_sent, 1);
}

/*
 * flows.no_flow: reset and a connection that timed out (its flow kept in
 * quarantine for its NAT port): the client's next segment is one without a
 * flow, answered by its RST; the client's new SYN reopens the binding.
 */
static void
test_no_flow_reset_after_timeout(void **state)
{
	uint16_t nat_port = establish(40300);
	struct dp_out out;
	(void)state;

	fx.conf.no_flow = EGRESS_NO_FLOW_RESET;
	fx.now += fx.cfg.timeout_established_ms + 1;
	assert_int_equal(dp_expire(fx.w, fx.now, 4096, NULL), 0);
	assert_int_equal(run(DP_INSIDE, client_seg(40300, REDIS, 6379, RTE_TCP_ACK_FLAG), &out), 1);
	assert_int_equal(out.n[DP_INSIDE], 1);
	assert_int_equal(out.n[DP_OUTSIDE], 0);
	assert_client_rst(out.pkts[DP_INSIDE][0], 40300, 6379, RTE_TCP_RST_FLAG, 5001, 0);
	free_out(&out);
	assert_int_equal(drops(EGRESS_DROP_NOT_SYN), 1);
	assert_int_equal(fx.w->stats.rst_sent, 1);
	/* the server's side is not the client's: dropped, unanswered */
	assert_int_equal(run(DP_OUTSIDE, server_seg(REDIS, 6379, nat_port, RTE_TCP_ACK_FLAG), &out),
			 0);
	assert_int_equal(drops(EGRESS_DROP_NO_FLOW), 1);
	assert_int_equal(run(DP_INSIDE, client_seg(40300, REDIS, 6379, RTE_TCP_SYN_FLAG), &out), 1);
	assert_int_equal(out.n[DP_OUTSIDE], 1);
	assert_int_equal(rte_be_to_cpu_16(tcp_of(out.pkts[DP_OUTSIDE][0])->src_port), nat_port);
	free_out(&out);
	assert_int_equal(fx.w->stats.rst_sent, 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* ------------------------------------------------- NAT port saturation */

#define NAT_ADDR2 IP(203, 0, 113, 11)
#define REDIS2    IP(10, 59, 118, 60)

/* The ports worker w holds toward (addr, dst:dport/tcp); *entries: its destinations. */
static uint32_t
dest_ports(const struct dp_worker *w, uint32_t addr, uint32_t dst, uint16_t dport,
	   unsigned int *entries)
{
	return nat_dest_ports(dp_worker_nat_dests(w), addr, dst, dport, IPPROTO_TCP, entries);
}

/* A client SYN to dst:6379 through worker w: the outside source address, *port its port. */
static uint32_t
syn_via(struct dp_worker *w, uint16_t sport, uint32_t dst, uint16_t *port)
{
	struct rte_mbuf *m = client_seg(sport, dst, 6379, RTE_TCP_SYN_FLAG);
	struct dp_out out;
	uint32_t src;

	memset(&out, 0, sizeof(out));
	dp_worker_quiesce(w);
	assert_int_equal(dp_process(w, DP_INSIDE, &m, 1, fx.now, &out), 1);
	assert_int_equal(out.n[DP_OUTSIDE], 1);
	assert_checksums(out.pkts[DP_OUTSIDE][0]);
	src = ip_of(out.pkts[DP_OUTSIDE][0])->src_addr;
	*port = rte_be_to_cpu_16(tcp_of(out.pkts[DP_OUTSIDE][0])->src_port);
	free_out(&out);
	return src;
}

/* The server's SYN-ACK to NAT address nat:port, as the outside port receives it. */
static struct rte_mbuf *
server_synack_to(uint32_t nat, uint16_t port)
{
	struct rte_mbuf *m = server_seg(REDIS, 6379, port, RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG);
	struct rte_ipv4_hdr *ip = ip_of(m);

	ip->dst_addr = nat;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	tcp_of(m)->cksum = 0;
	tcp_of(m)->cksum = rte_ipv4_udptcp_cksum(ip, tcp_of(m));
	return m;
}

/* The reply delivered to the client: 6379 -> CLIENT:sport, checksums right. */
static void
assert_reply_to_client(struct dp_out *out, uint16_t sport)
{
	assert_int_equal(out->n[DP_INSIDE], 1);
	assert_int_equal(ip_of(out->pkts[DP_INSIDE][0])->src_addr, REDIS);
	assert_int_equal(ip_of(out->pkts[DP_INSIDE][0])->dst_addr, CLIENT);
	assert_int_equal(rte_be_to_cpu_16(tcp_of(out->pkts[DP_INSIDE][0])->dst_port), sport);
	assert_checksums(out->pkts[DP_INSIDE][0]);
	free_out(out);
}

/* Two NAT addresses sharing ports lo-hi, and n workers (worker 0 rebuilt). */
static void
two_nat_addrs(uint16_t lo, uint16_t hi, unsigned int n_workers)
{
	fx.conf.nat_addrs[1] = NAT_ADDR2;
	fx.conf.n_nat_addrs = 2;
	fx.conf.nat_port_lo = lo;
	fx.conf.nat_port_hi = hi;
	fx.conf.n_workers = n_workers;
	rebuild_worker(4096);
}

/*
 * Spill: with two NAT addresses and 4 ports, the client's own address
 * (paired pooling) serves its first 4 flows to redis; the 5th spills to
 * the other address, counted, and its reply comes back; a new destination
 * still gets the client's own address; with both full, nat_exhausted. The
 * per-destination counts are exact throughout, hold through quarantine,
 * and return to zero once the flows leave the table.
 */
static void
test_nat_spill_and_exact_counts(void **state)
{
	uint32_t own, other;
	uint16_t port, spilled_port = 0;
	unsigned int seen = 0, n, i;
	struct dp_out out;
	(void)state;

	two_nat_addrs(2000, 2003, 1);
	own = nat_addr_of(&fx.w->nat, CLIENT);
	other = own == NAT_ADDR ? NAT_ADDR2 : NAT_ADDR;
	for (i = 0; i < 4; i++) {
		assert_int_equal(syn_via(fx.w, (uint16_t)(41000 + i), REDIS, &port), own);
		seen |= 1u << (port - 2000);
	}
	assert_int_equal(seen, 0xf);
	assert_int_equal(dest_ports(fx.w, own, REDIS, 6379, &n), 4);
	assert_int_equal(n, 1);
	assert_int_equal(fx.w->stats.nat_spilled, 0);

	/* its own address is full toward redis: the next flow spills */
	assert_int_equal(syn_via(fx.w, 41004, REDIS, &spilled_port), other);
	assert_true(spilled_port >= 2000 && spilled_port <= 2003);
	assert_int_equal(fx.w->stats.nat_spilled, 1);
	assert_int_equal(dest_ports(fx.w, other, REDIS, 6379, &n), 1);
	assert_int_equal(dest_ports(fx.w, own, REDIS, 6379, &n), 4);
	assert_int_equal(n, 2);
	/* the reply to the spilled address reaches the client */
	assert_int_equal(run(DP_OUTSIDE, server_synack_to(other, spilled_port), &out), 1);
	assert_reply_to_client(&out, 41004);

	/* another destination: the client keeps its own address */
	fx.conf.policy->outbound = EGRESS_OUTBOUND_ALLOW_ANY;
	assert_int_equal(syn_via(fx.w, 41005, REDIS2, &port), own);
	fx.conf.policy->outbound = EGRESS_OUTBOUND_REGISTRY_ONLY;
	assert_int_equal(fx.w->stats.nat_spilled, 1);
	assert_int_equal(dest_ports(fx.w, own, REDIS2, 6379, &n), 1);
	assert_int_equal(n, 3);

	/* fill the other address, then both are full */
	for (i = 0; i < 3; i++)
		assert_int_equal(syn_via(fx.w, (uint16_t)(41006 + i), REDIS, &port), other);
	assert_int_equal(fx.w->stats.nat_spilled, 4);
	assert_int_equal(run(DP_INSIDE, client_seg(41009, REDIS, 6379, RTE_TCP_SYN_FLAG), &out), 0);
	assert_int_equal(drops(EGRESS_DROP_NAT_EXHAUSTED), 1);
	assert_int_equal(fx.w->stats.nat_spilled, 4);
	assert_int_equal(flow_table_count(fx.w->flows), 9);
	assert_int_equal(dest_ports(fx.w, own, REDIS, 6379, &n), 4);
	assert_int_equal(dest_ports(fx.w, other, REDIS, 6379, &n), 4);
	assert_int_equal(dest_ports(fx.w, own, REDIS2, 6379, &n), 1);
	assert_int_equal(n, 3);
	assert_int_equal(nat_dests_untracked(dp_worker_nat_dests(fx.w)), 0);

	/* timed out: quarantined, the ports still held and counted */
	fx.now += fx.cfg.timeout_transitory_ms;
	assert_int_equal(dp_expire(fx.w, fx.now, 4096, NULL), 0);
	assert_int_equal(flow_table_count(fx.w->flows), 9);
	assert_int_equal(dest_ports(fx.w, own, REDIS, 6379, &n), 4);
	assert_int_equal(dest_ports(fx.w, other, REDIS, 6379, &n), 4);
	assert_int_equal(n, 3);
	/* after time_wait they leave the table: every count is gone */
	fx.now += fx.cfg.timeout_time_wait_ms;
	assert_int_equal(dp_expire(fx.w, fx.now, 4096, NULL), 9);
	assert_int_equal(dest_ports(fx.w, own, REDIS, 6379, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(nat_dests_untracked(dp_worker_nat_dests(fx.w)), 0);
	/* and the client's own address serves it again */
	assert_int_equal(syn_via(fx.w, 41010, REDIS, &port), own);
	assert_int_equal(dest_ports(fx.w, own, REDIS, 6379, &n), 1);
	assert_int_equal(n, 1);
}

/*
 * A flow's port is counted once from its creation to its slot leaving the
 * table, whatever the path: a RST (CLOSED, port held), its 5-tuple reopened
 * by a new SYN (same binding: not counted again), revocation, expiry.
 */
static void
test_nat_counts_over_reopen_and_revoke(void **state)
{
	struct flow_key k = client_key(REDIS, 40060, 6379);
	struct dp_out out;
	struct flow *f;
	unsigned int n;
	uint8_t dir;
	(void)state;

	establish(40060);
	assert_int_equal(dest_ports(fx.w, NAT_ADDR, REDIS, 6379, &n), 1);
	assert_int_equal(run(DP_INSIDE,
			     client_seg(40060, REDIS, 6379, RTE_TCP_RST_FLAG | RTE_TCP_ACK_FLAG),
			     &out),
			 1);
	free_out(&out);
	f = flow_table_lookup(fx.w->flows, &k, &dir);
	assert_non_null(f);
	assert_int_equal(f->state, FLOW_S_CLOSED);
	assert_int_equal(dest_ports(fx.w, NAT_ADDR, REDIS, 6379, &n), 1);
	/* reopened: the same flow, the same port, one count */
	assert_int_equal(run(DP_INSIDE, client_seg(40060, REDIS, 6379, RTE_TCP_SYN_FLAG), &out), 1);
	free_out(&out);
	assert_ptr_equal(flow_table_lookup(fx.w->flows, &k, &dir), f);
	assert_int_equal(dest_ports(fx.w, NAT_ADDR, REDIS, 6379, &n), 1);
	assert_int_equal(n, 1);
	/* a second flow, revoked: its count goes with it */
	open_flow(40061);
	assert_int_equal(dest_ports(fx.w, NAT_ADDR, REDIS, 6379, &n), 2);
	k = client_key(REDIS, 40061, 6379);
	dp_flow_revoke(fx.w, flow_table_lookup(fx.w->flows, &k, &dir), NULL, fx.now);
	assert_int_equal(dest_ports(fx.w, NAT_ADDR, REDIS, 6379, &n), 1);
	/* the first one ends by expiry (through quarantine) */
	fx.now += fx.cfg.timeout_transitory_ms;
	assert_int_equal(dp_expire(fx.w, fx.now, 4096, NULL), 0);
	assert_int_equal(dest_ports(fx.w, NAT_ADDR, REDIS, 6379, &n), 1);
	fx.now += fx.cfg.timeout_time_wait_ms;
	assert_int_equal(dp_expire(fx.w, fx.now, 4096, NULL), 1);
	assert_int_equal(dest_ports(fx.w, NAT_ADDR, REDIS, 6379, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(flow_table_count(fx.w->flows), 0);
}

/*
 * With two workers, a flow worker 1 spilled to the other address has a
 * port of worker 1's share: its reply, received by worker 0, is handed to
 * worker 1, which translates it. Only worker 1 counts it.
 */
static void
test_nat_spill_reply_reaches_owner(void **state)
{
	struct rte_mbuf *m, *got[4];
	struct dp_worker *w1;
	uint32_t own, other;
	uint16_t port, lo, hi;
	struct dp_out out;
	unsigned int i, n;
	(void)state;

	two_nat_addrs(2000, 2007, 2);
	w1 = make_worker(1, 1024);
	assert_int_equal(nat_range_split(2000, 2007, 2, 1, &lo, &hi), 0);
	own = nat_addr_of(&w1->nat, CLIENT);
	other = own == NAT_ADDR ? NAT_ADDR2 : NAT_ADDR;
	for (i = 0; i < 4; i++) {
		assert_int_equal(syn_via(w1, (uint16_t)(41100 + i), REDIS, &port), own);
		assert_true(port >= lo && port <= hi);
	}
	assert_int_equal(syn_via(w1, 41104, REDIS, &port), other);
	assert_true(port >= lo && port <= hi);
	assert_int_equal(w1->stats.nat_spilled, 1);
	assert_int_equal(fx.w->stats.nat_spilled, 0);

	m = server_synack_to(other, port);
	memset(&out, 0, sizeof(out));
	assert_int_equal(burst(DP_OUTSIDE, &m, 1, &out), 0);
	assert_int_equal(fx.w->stats.handed_off, 1);
	assert_int_equal(rte_ring_sc_dequeue_burst(fx.conf.handoff[1], (void **)got, 4, NULL), 1);
	assert_int_equal(dp_process(w1, DP_OUTSIDE, got, 1, fx.now, &out), 1);
	assert_reply_to_client(&out, 41104);

	assert_int_equal(dest_ports(w1, own, REDIS, 6379, &n), 4);
	assert_int_equal(dest_ports(w1, other, REDIS, 6379, &n), 1);
	assert_int_equal(n, 2);
	assert_int_equal(dest_ports(fx.w, own, REDIS, 6379, &n), 0);
	assert_int_equal(n, 0);
	free_worker(w1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_syn_is_snatted),
		T(test_explain_agrees_with_pipeline),
		T(test_reply_is_translated_back),
		T(test_denied_port_and_host),
		T(test_deny_reset_answers_syn),
		T(test_no_flow_drops),
		T(test_no_flow_reset),
		T(test_no_flow_drop_default),
		T(test_ttl_spoof_l2),
		T(test_arp_reply_and_learn),
		T(test_icmp_echo),
		T(test_exception_path),
		T(test_drain),
		T(test_nat_skips_exception_ports),
		T(test_unresolved_next_hop),
		T(test_timeouts_free_the_port),
		T(test_established_timeout_and_lazy_expiry),
		T(test_fin_close_and_rst),
		T(test_burst_of_many_flows),
		T(test_duplicate_syn_in_one_burst),
		T(test_revoked_by_new_policy),
		T(test_revoked_by_sweep),
		T(test_frag_needed),
		T(test_icmp_error_translated),
		T(test_icmp_error_without_flow),
		T(test_window_checks),
		T(test_tcp_liberal),
		T(test_embryonic_cap_evicts_oldest),
		T(test_two_workers_hand_off_replies),
		T(test_two_workers_rss_replies),
		T(test_per_source_caps),
		T(test_dnat_ports_and_weights),
		T(test_lb_round_robin),
		T(test_lb_consistent_source_ip),
		T(test_lb_least_conn),
		T(test_max_connections),
		T(test_connect_timeout),
		T(test_rss_symmetric_key),
		T(test_rx_checksum_flags),
		T(test_tx_checksum_offload),
		T(test_vlan_tagged_ports),
		T(test_hostile_frames),
		T(test_full_table),
		T(test_nat_spill_and_exact_counts),
		T(test_nat_counts_over_reopen_and_revoke),
		T(test_nat_spill_reply_reaches_owner),
		T(test_revoked_flow_in_one_burst),
		T(test_evicted_flow_retransmit_in_one_burst),
		T(test_reopen_under_embryonic_cap),
		T(test_keep_admits_no_new_connection),
		T(test_sweep_follows_table_size),
		T(test_idle_sleep_schedule),
		T(test_idle_interrupt),
		T(test_udp_under_embryonic_cap),
		T(test_full_table_reclaims_once_per_ms),
		T(test_simultaneous_open),
		T(test_syn_past_handshake_and_ack_check),
		T(test_revocation_rsts_rate_limited),
		T(test_directed_broadcast_source),
		T(test_mss_clamp),
		T(test_allow_any),
		T(test_icmp_error_from_dnat_endpoint),
		T(test_icmp_error_from_router_on_dnat_path),
		T(test_icmp_error_from_server_without_dnat),
		T(test_icmp_error_bad_quoted_checksum),
		T(test_udp_snat_and_reply),
		T(test_udp_zero_checksum_kept),
		T(test_udp_computed_zero_sent_as_ffff),
		T(test_icmp_error_quoting_udp),
		T(test_rst_rate_limit),
		T(test_icmp_rate_limit),
		T(test_deny_reset_admin_prohibited),
		T(test_rule_counters_per_burst),
		T(test_rule_counters_follow_generation),
		T(test_flowlog_admit_sni_and_fin),
		T(test_flowlog_server_first_rst_timeout),
		T(test_flowlog_udp),
		T(test_flowlog_revoked_and_evicted),
		T(test_flowlog_reopen),
		T(test_flowlog_deny_rate_limited),
		T(test_flowlog_deny_exhausted),
		T(test_flowlog_close_at_shutdown),
		T(test_flowlog_ring_full),
		T(test_flowlog_off),
		T(test_sync_records_of_a_flow),
		T(test_sync_ring_full_counts_lost),
		T(test_sync_off),
		T(test_sync_takeover_keeps_binding),
		T(test_no_flow_reset_waits_for_takeover),
		T(test_no_flow_reset_after_timeout),
	};

	if (test_eal_init("pipeline") != 0)
		return 1;
	fx.pool = rte_pktmbuf_pool_create("pipeline", 8191, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  SOCKET_ID_ANY);
	if (fx.pool == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
