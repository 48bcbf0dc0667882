/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: bursts of frames through dp_process(), as the workers'
 * poll loops run them (dp_worker_main()), against two workers built by
 * dp_worker_create() exactly as the daemon builds them: flow tables whose
 * slots are reclaimed through a QSBR variable (dp_qsbr_create(), one reader
 * per worker and one for the telemetry thread), embryonic FIFOs, per-source
 * tables, NAT port shares and hand-off rings. This thread is every worker's
 * lcore; each worker is online, and each iteration of its loop is:
 * dp_worker_quiesce(), dp_process() of the burst it received, dp_process()
 * of up to DP_BURST_MAX frames other workers handed off to it, dp_sweep().
 * The state PERSISTS across inputs (flow tables, NAT port shares, embryonic
 * FIFOs, neighbour tables with static entries, four prebuilt policies), so
 * that later inputs hit the flows earlier ones created, and time moves on.
 *
 * An input is a sequence of bursts; each is a 3-byte header, then its frames,
 * each a 4-byte header and its bytes:
 *
 *   burst header
 *   h0  bit 0     receiving port: 0 inside, 1 outside
 *       bits 1-3  time step before the burst: steps_ms[]
 *       bits 4-5  policy: 0 main (generation 1), 1 the same rules
 *                 republished (2: flows are re-checked and kept), 2
 *                 ALLOW_ANY without rules (3), 3 REGISTRY_ONLY without
 *                 rules (4: every flow is revoked)
 *       bit 6     then the control thread ages the neighbour tables
 *       bit 7     the port accepts one 802.1Q tag (PKT_F_ALLOW_VLAN)
 *   h1  bits 0-5  frames in the burst, minus one (1-64; fewer where the
 *                 input ends)
 *       bit 6     the other workers' loops do not run after this burst (a
 *                 stalled lcore): frames handed off to them wait in their
 *                 rings, and no grace period ends meanwhile; otherwise each
 *                 runs one iteration (its hand-off ring, its sweep)
 *       bit 7     the telemetry thread reads flows during this burst: its
 *                 QSBR reader is online, and holds every grace period
 *                 started meanwhile until a burst without this bit
 *   h2  bit 0     the receiving worker (0 or 1)
 *       bit 1     flows.tcp_liberal (no sequence-window checks)
 *       bit 2     flows.per_source caps: 6 flows and 10 new flows/s per
 *                 client and worker (the per-source table counts either way)
 *       bit 3     NAT port preservation (port_alloc: preserve)
 *       bit 4     deny: drop instead of deny: reset
 *       bit 5     the loops ran idle through the time step: before the
 *                 burst, every worker runs one iteration at the new time
 *                 (its sweep catches up); otherwise the burst comes first
 *       bit 6     flows.no_flow: reset instead of drop
 *       bit 7     unused
 *
 *   frame header
 *   f0  bit 0     destination MAC := the receiving port's own
 *       bit 1     fix the IPv4 header and L4 checksums (after every other
 *                 change below)
 *       bits 2-3  mbuf offload flags: none, IP+L4 GOOD, IP BAD, L4 BAD
 *       bits 4-5  addresses: 0 as written; 1 from the endpoint tables
 *                 (f1: low nibble source, high nibble destination);
 *                 2 a recent flow's 5-tuple (client's inside, its reply
 *                 outside, and for an ICMP error outside the packet it
 *                 quotes too; f1: 0 the newest, 1 the one before...);
 *                 3 the same, addresses only
 *       bits 6-7  derive: 0 the frame is the bytes that follow; 1 a copy of
 *                 the burst's previous frame as it went in (a retransmit);
 *                 2 that copy with its L4 source port + 1 (a client's next
 *                 connection); 3 the bytes that follow with the previous
 *                 frame's addresses and ports (the same flow). With 1 and
 *                 2 the bytes that follow, if any, are skipped.
 *   f1            selector for bits 4-5 of f0
 *   f2-f3         number of bytes that follow (big-endian, low 11 bits:
 *                 0-2047; cut short by the end of the input)
 *
 * After every burst, with every frame sent checked (below), the invariants of
 * every worker: the table's own structure (every slot live, free, never used
 * or waiting for its grace period, exactly once; every chain link leads to a
 * live flow under a key of its own that hashes to that bucket; flow count);
 * every live flow found under both keys, its client inside the inside prefix
 * and its NAT side a NAT address and a port of its worker's share; each NAT
 * binding (address, port, protocol, remote) held by one flow of all workers;
 * the embryonic counter equal to the live flows marked embryonic, which are
 * exactly the TCP flows in a handshake state and the UDP flows without a
 * reply, at most the cap, each still in the embryonic FIFO; quarantined flows
 * are TCP in TIME_WAIT; the per-source table holds one entry per client with
 * flows, counting them; the maxConnections and LEAST_CONN counts of the
 * current policy match the table; the flows counted as created, less those
 * the table deleted, are the live ones, and no more flows are counted as
 * expired, revoked or evicted than were deleted (one flow ended twice, by a
 * frame acting on a stale flow pointer, shows); every mbuf is free but those
 * of frames waiting in a hand-off ring.
 *
 * Per dp_process() call: it returns what it put in out; every frame received
 * is counted in rx once (by its owner when handed off); the drop reasons and
 * the port's dropped counter grow together; each frame is forwarded (or
 * answered in place: ARP, echo), dropped, or consumed (an ARP reply), never
 * two of them: a frame sent back where it came from as a TCP RST (deny:
 * reset, flows.no_flow: reset) is a dropped one; in a call that ended no flow, a TCP/UDP frame
 * forwarded is carried by a live flow of that worker, in the direction it
 * came from, and leaves as the reverse of the flow's other key; a frame
 * handed off is never also sent; nothing a worker received from a hand-off
 * ring is handed off again, nor anything to the worker itself. Every frame
 * sent: one segment, our source MAC, its
 * length that of its IPv4 packet (zeros up to 60 bytes for a shorter one);
 * its checksums right (by this file's own RFC 1071 code) when it was built
 * here or its input's were right, and pkt_parse() accepts it; nothing is
 * sent because of a destination no router may forward or answer (0/8, 127/8,
 * multicast, class E, limited or a connected prefix's broadcast: RFC 1812
 * 4.3.2.7, 5.3.5, 5.3.7): not the frame itself, no frame built here to or
 * from such an address, no ICMP error about a packet to one. Besides, ASan
 * and UBSan; the tailroom of every input mbuf is poisoned (past 60 bytes for
 * a shorter frame, which may leave padded in place) until the worker that
 * owns it is done with it.
 *
 * FUZZ_PIPELINE_SKIP=a,b,... turns checks off, to look past an open finding:
 *   poison   leave the tailroom addressable (code that appends to a frame);
 *   reparse  do not pkt_parse() emitted frames;
 *   icmp0    accept an ICMP checksum of 0x0000 where only 0xffff verifies;
 *   mdst     let packets to martian or broadcast destinations cause output;
 *   sources  do not audit the flows.per_source counts.
 *
 * FUZZ_PIPELINE_TRACE=1 prints what went in and out: one line per frame and
 * one per dp_process() call (for reading a replayed history).
 *
 * Reproducing a crash: the state is rebuilt from scratch (same random seed)
 * every RESET_EVERY inputs, and with FUZZ_PIPELINE_HISTORY=FILE every input
 * since the last rebuild is kept in FILE (a mapped file, so it survives the
 * crash). FUZZ_PIPELINE_REPLAY=FILE replays such a file at start-up, input
 * by input, and exits 0 if nothing fired. scripts/fuzz.sh keeps the history
 * next to every crash and prints the command that replays it.
 * tests/fuzz/gen_corpus.py writes inputs in this format (and converts those
 * of the one-frame format this target had before).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_random.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "fuzz_common.h"

#include "config.h"
#include "ctl.h"
#include "dp.h"
#include "dp_private.h" /* white-box: the audit reads the workers' fields */
#include "flow.h"
#include "nat.h"
#include "neigh.h"
#include "pkt.h"
#include "policy_build.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#endif
#endif
#ifndef ASAN_POISON_MEMORY_REGION
#define ASAN_POISON_MEMORY_REGION(addr, size)   ((void)(addr), (void)(size))
#define ASAN_UNPOISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#endif

/* not RTE_IPV4(): in DPDK 22.11 it shifts an int into the sign bit (UB) */
#define IP(a, b, c, d)                                                                             \
	RTE_BE32((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

#define BURST_HDR   3
#define FRAME_HDR   4
#define WORKERS     2
#define TELEMETRY   WORKERS /* the telemetry thread's QSBR reader id */
#define FRAME_MAX   2047    /* 11 bits of length; within one mbuf's data room */
#define INPUT_MAX   16384   /* bytes of an input read; the rest is ignored */
#define RESET_EVERY 1000    /* inputs between two rebuilds of the state */
#define FLOWS_MAX   64      /* per worker: small, so that inputs fill it */
#define EMBRYONIC   48      /* both workers: 24 each */
#define NAT_LO      1024
#define NAT_HI      1087 /* 32 ports per worker x 2 addresses, per destination */
#define RECENT      64   /* a power of two: a burst's worth of flows */
#define POOL_SIZE   1023
#define QUEUE_SIZE  1024     /* > POOL_SIZE: a hand-off queue never fills */
#define AUDIT_MAX   256      /* caps and targets of a policy the audit counts */
#define T0          1000000u /* ms */
#define RAND_SEED   0x5eed
#define FT_NIL      UINT32_MAX /* the flow table's null link (lib/flow/flow.c) */

static const uint8_t mac_in[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t mac_out[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t mac_client[6] = { 0x02, 0, 0, 0, 0, 0xc1 };
static const uint8_t mac_gw[6] = { 0x02, 0, 0, 0, 0, 0x91 };

#define INSIDE_ADDR IP(10, 8, 0, 1)
#define CLIENT      IP(10, 8, 0, 2)
#define NAT_ADDR    IP(203, 0, 113, 10)
#define NAT_ADDR2   IP(203, 0, 113, 11)
#define GATEWAY     IP(203, 0, 113, 1)
#define REDIS       IP(10, 59, 118, 59)

static const uint64_t steps_ms[8] = {
	0,       1, 10, 1000, 30000, 121000, /* past TIME_WAIT (120 s) */
	241000,                              /* past the transitory timeout (240 s) */
	7441000,                             /* past the established timeout (7440 s) */
};

/* Address tables of mode 1, per receiving port. */
static const uint32_t in_src[] = {
	CLIENT,      IP(10, 8, 0, 3), IP(10, 8, 255, 254), IP(10, 9, 0, 1),
	INSIDE_ADDR, NAT_ADDR,        IP(192, 0, 2, 1),
};
static const uint32_t in_dst[] = {
	REDIS,
	IP(10, 59, 118, 60),
	IP(192, 0, 2, 53),
	IP(198, 51, 100, 7),
	INSIDE_ADDR,
	NAT_ADDR,
	IP(224, 0, 0, 1),
	IP(255, 255, 255, 255),
	CLIENT,
	IP(8, 8, 8, 8),
	IP(10, 8, 255, 255),
};
static const uint32_t out_src[] = {
	REDIS,
	IP(10, 59, 118, 61),
	IP(10, 59, 118, 62),
	IP(192, 0, 2, 53),
	IP(198, 51, 100, 7),
	GATEWAY,
	NAT_ADDR,
	IP(8, 8, 8, 8),
	CLIENT,
};
static const uint32_t out_dst[] = {
	NAT_ADDR,
	NAT_ADDR2,
	IP(203, 0, 113, 12),
	GATEWAY,
	IP(255, 255, 255, 255),
	IP(203, 0, 113, 255),
	CLIENT,
};

/*
 * The policy: the Memorystore entry, a STATIC entry with weighted endpoints
 * and port mapping (DNAT), a UDP entry and a CIDR entry; DestinationRules
 * with connection caps, a connect timeout and load-balancing modes.
 */
static const char policy_yaml[] = "apiVersion: networking.istio.io/v1alpha3\n"
				  "kind: Gateway\n"
				  "metadata:\n"
				  "  name: istio-egressgateway\n"
				  "spec:\n"
				  "  selector:\n"
				  "    istio: egressgateway\n"
				  "  servers:\n"
				  "  - port:\n"
				  "      number: 6379\n"
				  "      name: tcp-redis\n"
				  "      protocol: TCP\n"
				  "    hosts:\n"
				  "    - redis.domain\n"
				  "---\n"
				  "apiVersion: networking.istio.io/v1alpha3\n"
				  "kind: ServiceEntry\n"
				  "metadata:\n"
				  "  name: redis-serviceentry\n"
				  "spec:\n"
				  "  hosts:\n"
				  "  - redis.domain\n"
				  "  addresses:\n"
				  "  - 10.59.118.59\n"
				  "  ports:\n"
				  "  - number: 6379\n"
				  "    name: tcp-redis\n"
				  "    protocol: TCP\n"
				  "  location: MESH_EXTERNAL\n"
				  "---\n"
				  "apiVersion: networking.istio.io/v1\n"
				  "kind: ServiceEntry\n"
				  "metadata:\n"
				  "  name: memorystore-static\n"
				  "  namespace: cart\n"
				  "spec:\n"
				  "  hosts:\n"
				  "  - redis.cart.internal\n"
				  "  addresses:\n"
				  "  - 10.59.118.60\n"
				  "  ports:\n"
				  "  - number: 6380\n"
				  "    name: tcp-redis\n"
				  "    protocol: TCP\n"
				  "    targetPort: 6381\n"
				  "  location: MESH_EXTERNAL\n"
				  "  resolution: STATIC\n"
				  "  endpoints:\n"
				  "  - address: 10.59.118.61\n"
				  "    ports:\n"
				  "      tcp-redis: 6390\n"
				  "    weight: 3\n"
				  "  - address: 10.59.118.62\n"
				  "    weight: 1\n"
				  "---\n"
				  "apiVersion: networking.istio.io/v1\n"
				  "kind: ServiceEntry\n"
				  "metadata:\n"
				  "  name: dns-udp\n"
				  "spec:\n"
				  "  hosts:\n"
				  "  - dns.example.com\n"
				  "  addresses:\n"
				  "  - 192.0.2.53\n"
				  "  ports:\n"
				  "  - number: 53\n"
				  "    name: udp-dns\n"
				  "    protocol: UDP\n"
				  "  location: MESH_EXTERNAL\n"
				  "---\n"
				  "apiVersion: networking.istio.io/v1\n"
				  "kind: ServiceEntry\n"
				  "metadata:\n"
				  "  name: web-range\n"
				  "spec:\n"
				  "  hosts:\n"
				  "  - web.example.com\n"
				  "  addresses:\n"
				  "  - 198.51.100.0/24\n"
				  "  ports:\n"
				  "  - number: 443\n"
				  "    name: tls-web\n"
				  "    protocol: TLS\n"
				  "  location: MESH_EXTERNAL\n"
				  "---\n"
				  "apiVersion: networking.istio.io/v1\n"
				  "kind: DestinationRule\n"
				  "metadata:\n"
				  "  name: redis-caps\n"
				  "spec:\n"
				  "  host: redis.domain\n"
				  "  trafficPolicy:\n"
				  "    connectionPool:\n"
				  "      tcp: {maxConnections: 4, connectTimeout: 500ms}\n"
				  "---\n"
				  "apiVersion: networking.istio.io/v1\n"
				  "kind: DestinationRule\n"
				  "metadata:\n"
				  "  name: memorystore-lb\n"
				  "  namespace: cart\n"
				  "spec:\n"
				  "  host: redis.cart.internal\n"
				  "  trafficPolicy:\n"
				  "    connectionPool:\n"
				  "      tcp: {maxConnections: 3}\n"
				  "    loadBalancer: {simple: LEAST_CONN}\n"
				  "---\n"
				  "apiVersion: networking.istio.io/v1\n"
				  "kind: DestinationRule\n"
				  "metadata:\n"
				  "  name: dns-hash\n"
				  "spec:\n"
				  "  host: dns.example.com\n"
				  "  trafficPolicy:\n"
				  "    loadBalancer:\n"
				  "      consistentHash: {useSourceIp: true}\n";

/* A client 5-tuple that went out, and the one its packets left with. */
struct recent {
	bool valid;
	struct flow_key client; /* inside, as the client sent it */
	struct flow_key nat;    /* outside, as forwarded: NAT -> server */
};

/* Frame offsets found by the harness's own minimal parse. */
struct layout {
	uint32_t l2; /* 0: not IPv4 */
	uint32_t ihl;
	uint32_t ip_len; /* total length, when within the buffer, else 0 */
	uint8_t proto;
	bool arp;
};

/* A frame given to a worker, and what the oracles need to know of it. */
struct frame {
	struct rte_mbuf *m;
	uint8_t *poison_at; /* its poisoned tailroom; NULL: none */
	uint32_t poison_len;
	uint32_t dst; /* IPv4 destination as it went in (network order) */
	bool ip;      /* an IPv4 frame: dst is set */
	bool arp;
	bool honest; /* its checksums were right */
	bool l4;     /* a TCP/UDP frame: tuple is its 5-tuple */
	bool client; /* an inside TCP/UDP frame */
	struct flow_key tuple;
};

/* Frames handed off to a worker, in ring order, until its loop runs. */
struct queue {
	struct frame f[QUEUE_SIZE];
	uint32_t head, tail;
};

struct history {
	uint32_t magic;
	uint32_t count;
	uint64_t used; /* bytes of records after the header */
};
#define HISTORY_MAGIC 0x45474648u /* "EGFH" */
#define HISTORY_SIZE  ((size_t)RESET_EVERY * (INPUT_MAX + 4) + sizeof(struct history))

static struct {
	struct rte_mempool *pool;
	struct egress_config cfg;
	struct dp_conf conf;
	struct rte_rcu_qsbr *qsbr;
	struct dp_worker *w[WORKERS];
	struct queue queue[WORKERS];
	bool reader_online; /* the telemetry reader (TELEMETRY) */
	struct policy *pol[4];
	struct dp_counters *cnt[4]; /* pol[i]'s counters (lib/ctl's ctl_counters_create()) */
	uint32_t generation;        /* of the last publish() */
	uint64_t now;
	uint64_t runs;
	unsigned int burst; /* bursts of this input so far */
	struct recent recent[RECENT];
	unsigned int recent_next;
	bool poison;          /* the input mbufs' tailroom is poisoned */
	bool reparse;         /* pkt_parse() must accept what we emit */
	bool icmp0;           /* ICMP checksum 0x0000 for 0xffff is a finding */
	bool trace;           /* what went in and out, on stderr */
	bool mdst;            /* output caused by a martian destination is a finding */
	bool sources;         /* audit flows.per_source */
	struct history *hist; /* NULL: no history kept */
	bool replaying;
} fz;

static void
req_noop(void *arg, uint32_t ip)
{
	(void)arg;
	(void)ip;
}

/* ------------------------------------------------------------ set-up */

static struct policy *
build_policy(const char *dir, uint32_t gen, enum egress_outbound outbound)
{
	struct diag_list dl = { 0 };
	char *src = (char *)dir;
	struct policy *p;

	fz.cfg.sources = &src;
	fz.cfg.n_sources = 1;
	fz.cfg.outbound = outbound;
	p = policy_build(&fz.cfg, gen, &dl);
	if (p == NULL)
		diag_print(&dl, stderr);
	diag_list_clear(&dl);
	fz.cfg.sources = NULL;
	fz.cfg.n_sources = 0;
	fz.cfg.outbound = EGRESS_OUTBOUND_REGISTRY_ONLY;
	return p;
}

static int
build_policies(void)
{
	char dir[] = "/tmp/egressd-fuzz-XXXXXX";
	char empty[64], file[64];
	unsigned int i;
	FILE *f;
	int rc = -1;

	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(file, sizeof(file), "%s/policy.yaml", dir);
	snprintf(empty, sizeof(empty), "%s/empty", dir);
	f = fopen(file, "w");
	if (f == NULL)
		goto out;
	fputs(policy_yaml, f);
	fclose(f);
	if (mkdir(empty, 0700) != 0)
		goto out;
	fz.pol[0] = build_policy(dir, 1, EGRESS_OUTBOUND_REGISTRY_ONLY);
	fz.pol[1] = build_policy(dir, 2, EGRESS_OUTBOUND_REGISTRY_ONLY);
	fz.pol[2] = build_policy(empty, 3, EGRESS_OUTBOUND_ALLOW_ANY);
	fz.pol[3] = build_policy(empty, 4, EGRESS_OUTBOUND_REGISTRY_ONLY);
	if (fz.pol[0] != NULL && fz.pol[1] != NULL && fz.pol[2] != NULL && fz.pol[3] != NULL &&
	    fz.pol[0]->n_rules >= 4)
		rc = 0;
	for (i = 0; rc == 0 && i < RTE_DIM(fz.pol); i++) {
		fz.cnt[i] = ctl_counters_create(WORKERS, fz.pol[i]);
		if (fz.cnt[i] == NULL)
			rc = -1;
		if (fz.pol[i]->n_caps > AUDIT_MAX || fz.pol[i]->n_targets > AUDIT_MAX)
			rc = -1;
	}
	if (rc == 0 && getenv("FUZZ_PIPELINE_TRACE") != NULL)
		policy_print(fz.pol[0], stderr);
out:
	unlink(file);
	rmdir(empty);
	rmdir(dir);
	return rc;
}

/*
 * Publish prebuilt policy i as ctl_publish() would publish a new one: a
 * generation above every earlier one, and counters that start at zero (what
 * the flows of older generations counted stays in those, as in a policy that
 * has been freed). Switching back to a policy is a new publish of it.
 */
static void
publish(unsigned int i)
{
	struct policy *p = fz.pol[i];
	struct dp_counters *c = fz.cnt[i];

	if (fz.conf.policy == p)
		return;
	p->generation = ++fz.generation;
	c->generation = p->generation;
	if (c->cap_count != NULL)
		memset(c->cap_count, 0, sizeof(uint32_t) * WORKERS * c->cap_stride);
	if (c->target_active != NULL)
		memset(c->target_active, 0, sizeof(uint32_t) * WORKERS * c->target_stride);
	if (c->rule_flows != NULL)
		memset(c->rule_flows, 0, sizeof(uint64_t) * WORKERS * c->rule_stride);
	/* the slot before the policy's release, as ctl_publish() stores it */
	fz.conf.counters[p->generation & 1] = c;
	__atomic_store_n(&fz.conf.policy, p, __ATOMIC_RELEASE);
}

static void
reader_set(bool online)
{
	if (online == fz.reader_online)
		return;
	if (online)
		rte_rcu_qsbr_thread_online(fz.qsbr, TELEMETRY);
	else
		rte_rcu_qsbr_thread_offline(fz.qsbr, TELEMETRY);
	fz.reader_online = online;
}

static void
state_free(void)
{
	unsigned int i;

	for (i = 0; i < WORKERS; i++) {
		if (fz.w[i] != NULL) {
			dp_worker_offline(fz.w[i]);
			dp_worker_free(fz.w[i]);
		}
		fz.w[i] = NULL;
	}
	if (fz.qsbr != NULL) {
		reader_set(false);
		rte_rcu_qsbr_thread_unregister(fz.qsbr, TELEMETRY);
		dp_qsbr_free(fz.qsbr);
		fz.qsbr = NULL;
	}
	neigh_free(fz.conf.port[DP_INSIDE].neigh);
	neigh_free(fz.conf.port[DP_OUTSIDE].neigh);
	rte_ring_free(fz.conf.events);
	fz.conf.port[DP_INSIDE].neigh = NULL;
	fz.conf.port[DP_OUTSIDE].neigh = NULL;
	fz.conf.events = NULL;
}

/*
 * Build the state from scratch, always the same way: the workers as egressd
 * builds them (app/egressd/main.c), through dp_worker_create(), with a QSBR
 * variable for the workers and the telemetry thread, every worker online.
 */
static void
state_reset(void)
{
	unsigned int i;

	state_free();
	memset(&fz.conf, 0, sizeof(fz.conf));
	ctl_dp_conf(&fz.conf, &fz.cfg);
	memcpy(fz.conf.port[DP_INSIDE].mac, mac_in, 6);
	memcpy(fz.conf.port[DP_OUTSIDE].mac, mac_out, 6);
	fz.conf.port[DP_INSIDE].neigh = neigh_create("fzni", 64, SOCKET_ID_ANY);
	fz.conf.port[DP_OUTSIDE].neigh = neigh_create("fzno", 64, SOCKET_ID_ANY);
	fz.conf.events = rte_ring_create_elem("fzev", sizeof(struct dp_event), 64, SOCKET_ID_ANY,
					      RING_F_SC_DEQ);
	if (fz.conf.port[DP_INSIDE].neigh == NULL || fz.conf.port[DP_OUTSIDE].neigh == NULL ||
	    fz.conf.events == NULL ||
	    neigh_add_static(fz.conf.port[DP_INSIDE].neigh, CLIENT, mac_client) != 0 ||
	    neigh_add_static(fz.conf.port[DP_OUTSIDE].neigh, GATEWAY, mac_gw) != 0) {
		fprintf(stderr, "fuzz_pipeline: cannot create the neighbour state\n");
		abort();
	}
	/* per-source caps at creation, so that every worker has its table;
	 * each burst turns the caps on or off (h2 bit 2) */
	fz.conf.source_max = 6;
	fz.conf.source_rate = 10;
	fz.conf.policy = NULL;
	fz.generation = 0;
	publish(0);
	/* flow table seeds and NAT ports come from rte_rand(): the same each time */
	rte_srand(RAND_SEED);
	fz.qsbr = dp_qsbr_create(WORKERS + 1, SOCKET_ID_ANY);
	if (fz.qsbr == NULL || rte_rcu_qsbr_thread_register(fz.qsbr, TELEMETRY) != 0) {
		fprintf(stderr, "fuzz_pipeline: cannot create the QSBR variable\n");
		abort();
	}
	fz.reader_online = false;
	for (i = 0; i < WORKERS; i++) {
		struct dp_worker_params wp = {
			.id = i,
			.conf = &fz.conf,
			.pool = fz.pool,
			.qsbr = fz.qsbr,
			.max_flows = FLOWS_MAX,
			.socket_id = SOCKET_ID_ANY,
		};

		fz.w[i] = dp_worker_create(&wp);
		if (fz.w[i] == NULL || fz.w[i]->sources == NULL || fz.conf.handoff[i] == NULL) {
			fprintf(stderr, "fuzz_pipeline: cannot create worker %u: %s\n", i,
				rte_strerror(rte_errno));
			abort();
		}
		dp_worker_online(fz.w[i]);
		fz.queue[i].head = fz.queue[i].tail = 0;
	}
	fz.now = T0;
	memset(fz.recent, 0, sizeof(fz.recent));
	fz.recent_next = 0;
	if (fz.hist != NULL && !fz.replaying) {
		fz.hist->count = 0;
		fz.hist->used = 0;
	}
}

static void
history_open(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	void *p;

	if (fd < 0 || ftruncate(fd, (off_t)HISTORY_SIZE) != 0) {
		perror(path);
		abort();
	}
	p = mmap(NULL, HISTORY_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		perror(path);
		abort();
	}
	fz.hist = p;
	fz.hist->magic = HISTORY_MAGIC;
}

static void
history_add(const uint8_t *data, size_t size)
{
	uint8_t *rec;
	uint32_t len = (uint32_t)size;

	if (fz.hist == NULL || fz.replaying ||
	    sizeof(*fz.hist) + fz.hist->used + 4 + size > HISTORY_SIZE)
		return;
	rec = (uint8_t *)(fz.hist + 1) + fz.hist->used;
	memcpy(rec, &len, 4);
	memcpy(rec + 4, data, size);
	fz.hist->used += 4 + size;
	fz.hist->count++;
}

static void
replay(const char *path)
{
	struct history h;
	uint8_t *buf;
	uint64_t off = 0;
	uint32_t i, len;
	FILE *f = fopen(path, "r");

	if (f == NULL || fread(&h, sizeof(h), 1, f) != 1 || h.magic != HISTORY_MAGIC) {
		fprintf(stderr, "fuzz_pipeline: %s: not a history file\n", path);
		exit(2);
	}
	buf = malloc(HISTORY_SIZE);
	if (buf == NULL || h.used > HISTORY_SIZE || fread(buf, 1, h.used, f) != h.used) {
		fprintf(stderr, "fuzz_pipeline: %s: truncated\n", path);
		exit(2);
	}
	fclose(f);
	fprintf(stderr, "fuzz_pipeline: replaying %u inputs from %s\n", h.count, path);
	fz.replaying = true;
	for (i = 0; i < h.count && off + 4 <= h.used; i++) {
		memcpy(&len, buf + off, 4);
		if (off + 4 + len > h.used)
			break;
		fprintf(stderr, "fuzz_pipeline: input %u (%u bytes)\n", i, len);
		LLVMFuzzerTestOneInput(buf + off + 4, len);
		off += 4 + len;
	}
	free(buf);
	fprintf(stderr, "fuzz_pipeline: replayed %u inputs, nothing fired\n", i);
	exit(0);
}

/* True when FUZZ_PIPELINE_SKIP names the check. */
static bool
skipped(const char *check)
{
	const char *v = getenv("FUZZ_PIPELINE_SKIP");
	size_t n = strlen(check);

	while (v != NULL && *v != '\0') {
		if (strncmp(v, check, n) == 0 && (v[n] == ',' || v[n] == '\0'))
			return true;
		v = strchr(v, ',');
		if (v != NULL)
			v++;
	}
	return false;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *hist = getenv("FUZZ_PIPELINE_HISTORY");
	const char *rep = getenv("FUZZ_PIPELINE_REPLAY");
	(void)argc;
	(void)argv;

	if (fuzz_eal_init("fuzz_pipeline") != 0)
		abort();
	fz.pool = rte_pktmbuf_pool_create("fzpool", POOL_SIZE, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  SOCKET_ID_ANY);
	if (fz.pool == NULL)
		abort();

	fz.cfg.path = "fuzz";
	fz.cfg.port[DP_INSIDE].addr = INSIDE_ADDR;
	fz.cfg.port[DP_INSIDE].prefix_len = 16;
	fz.cfg.port[DP_INSIDE].mtu = 1500;
	fz.cfg.port[DP_OUTSIDE].addr = NAT_ADDR;
	fz.cfg.port[DP_OUTSIDE].prefix_len = 24;
	fz.cfg.port[DP_OUTSIDE].gateway = GATEWAY;
	fz.cfg.port[DP_OUTSIDE].mtu = 1400; /* smaller: MTU_EXCEEDED is reachable */
	fz.cfg.nat_addrs[0] = NAT_ADDR;
	fz.cfg.nat_addrs[1] = NAT_ADDR2;
	fz.cfg.n_nat_addrs = 2;
	fz.cfg.nat_port_lo = NAT_LO;
	fz.cfg.nat_port_hi = NAT_HI;
	fz.cfg.mss_clamp = 1360;
	fz.cfg.deny = EGRESS_DENY_RESET;
	fz.cfg.on_revoke = EGRESS_REVOKE_RESET;
	fz.cfg.flows_max = FLOWS_MAX * WORKERS;
	fz.cfg.timeout_established_ms = 7440000;
	fz.cfg.timeout_transitory_ms = 240000;
	fz.cfg.timeout_time_wait_ms = 120000;
	fz.cfg.embryonic_max = EMBRYONIC;
	fz.cfg.workers = WORKERS;
	fz.cfg.labels[0] = (struct egress_label){ "istio", "egressgateway" };
	fz.cfg.n_labels = 1;
	if (build_policies() != 0) {
		fprintf(stderr, "fuzz_pipeline: cannot build the policies\n");
		abort();
	}
	fz.poison = !skipped("poison");
	fz.reparse = !skipped("reparse");
	fz.icmp0 = !skipped("icmp0");
	fz.trace = getenv("FUZZ_PIPELINE_TRACE") != NULL;
	fz.mdst = !skipped("mdst");
	fz.sources = !skipped("sources");
	if (hist != NULL && rep == NULL)
		history_open(hist);
	state_reset();
	if (rep != NULL)
		replay(rep);
	return 0;
}

/* ------------------------------------------------------------ frames */

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Where IPv4 and L4 are in a frame, without trusting any of it. */
static struct layout
layout_of(const uint8_t *f, uint32_t len)
{
	struct layout l = { 0 };
	uint32_t l2 = 14;
	uint16_t et;

	if (len < 14)
		return l;
	et = rd16(f + 12);
	if (et == PKT_ETHERTYPE_VLAN) {
		if (len < 18)
			return l;
		et = rd16(f + 16);
		l2 = 18;
	}
	if (et == PKT_ETHERTYPE_ARP) {
		l.arp = true;
		return l;
	}
	if (et != PKT_ETHERTYPE_IPV4 || len < l2 + 20 || (f[l2] >> 4) != 4)
		return l;
	l.ihl = (f[l2] & 0xfu) * 4u;
	if (l.ihl < 20 || len < l2 + l.ihl)
		return l;
	l.l2 = l2;
	l.proto = f[l2 + 9];
	l.ip_len = rd16(f + l2 + 2);
	if (l.ip_len < l.ihl || l2 + l.ip_len > len)
		l.ip_len = 0;
	return l;
}

static void
set_tuple(uint8_t *f, uint32_t len, const struct layout *l, const struct flow_key *k, bool ports)
{
	uint8_t *ip = f + l->l2;

	memcpy(ip + 12, &k->src_ip, 4);
	memcpy(ip + 16, &k->dst_ip, 4);
	if (ports && (l->proto == IPPROTO_TCP || l->proto == IPPROTO_UDP) &&
	    len >= l->l2 + l->ihl + 4) {
		memcpy(ip + l->ihl, &k->src_port, 2);
		memcpy(ip + l->ihl + 2, &k->dst_port, 2);
	}
}

/*
 * An ICMP error arriving outside about a packet of flow r: the packet it
 * quotes is what left through the NAT (r->nat), the checksum of the quoted
 * IPv4 header fixed. Lengths are left as the fuzzer wrote them.
 */
static void
set_quoted(uint8_t *f, uint32_t len, const struct layout *l, const struct recent *r)
{
	uint8_t *q = f + l->l2 + l->ihl + 8;
	uint32_t qihl;

	if (len < l->l2 + l->ihl + 8 + 20 || (q[0] >> 4) != 4)
		return;
	qihl = (q[0] & 0xfu) * 4u;
	if (qihl < 20 || len < l->l2 + l->ihl + 8 + qihl)
		return;
	memcpy(q + 12, &r->nat.src_ip, 4);
	memcpy(q + 16, &r->nat.dst_ip, 4);
	q[9] = r->nat.proto;
	ref_fix(q, qihl, q + 10, 0);
	if (len >= l->l2 + l->ihl + 8 + qihl + 4) {
		memcpy(q + qihl, &r->nat.src_port, 2);
		memcpy(q + qihl + 2, &r->nat.dst_port, 2);
	}
}

static void
fix_checksums(uint8_t *f, const struct layout *l)
{
	uint8_t *ip = f + l->l2;
	uint8_t *l4 = ip + l->ihl;
	uint32_t l4_len;

	ref_fix(ip, l->ihl, ip + 10, 0);
	if (l->ip_len == 0)
		return;
	l4_len = l->ip_len - l->ihl;
	switch (l->proto) {
	case IPPROTO_TCP:
		if (l4_len >= 20)
			ref_fix(l4, l4_len, l4 + 16, ref_pseudo(ip, IPPROTO_TCP, l4_len));
		break;
	case IPPROTO_UDP:
		if (l4_len >= 8) {
			ref_fix(l4, l4_len, l4 + 6, ref_pseudo(ip, IPPROTO_UDP, l4_len));
			if (l4[6] == 0 && l4[7] == 0)
				l4[6] = l4[7] = 0xff;
		}
		break;
	case IPPROTO_ICMP:
		if (l4_len >= 8)
			ref_fix(l4, l4_len, l4 + 2, 0);
		break;
	}
}

/* The input's checksums are right (or there are none to be wrong). */
static bool
checksums_right(const uint8_t *f, const struct layout *l)
{
	if (l->l2 == 0)
		return true;
	if (!ref_ipv4_hdr_ok(f + l->l2, l->ihl))
		return false;
	return l->ip_len == 0 || ref_l4_ok(f + l->l2, l->ihl, l->ip_len - l->ihl);
}

/* Apply f0 bits 0-5 and f1 of a frame header to the frame. */
static void
shape_frame(uint8_t *f, uint32_t len, enum dp_port in, uint8_t c1, uint8_t sel)
{
	struct layout l = layout_of(f, len);
	/* sel 0: the newest recent flow, 1 the one before, ... */
	const struct recent *r = &fz.recent[(fz.recent_next - 1u - sel) % RECENT];
	struct flow_key k;

	if ((c1 & 0x01) && len >= 6)
		memcpy(f, fz.conf.port[in].mac, 6);
	if (l.l2 == 0)
		return;
	switch ((c1 >> 4) & 3) {
	case 1:
		memset(&k, 0, sizeof(k));
		if (in == DP_INSIDE) {
			k.src_ip = in_src[(sel & 0xf) % RTE_DIM(in_src)];
			k.dst_ip = in_dst[(sel >> 4) % RTE_DIM(in_dst)];
		} else {
			k.src_ip = out_src[(sel & 0xf) % RTE_DIM(out_src)];
			k.dst_ip = out_dst[(sel >> 4) % RTE_DIM(out_dst)];
		}
		set_tuple(f, len, &l, &k, false);
		break;
	case 2:
	case 3:
		if (!r->valid)
			break;
		if (in == DP_INSIDE) {
			k = r->client;
		} else {
			k = (struct flow_key){
				.src_ip = r->nat.dst_ip,
				.dst_ip = r->nat.src_ip,
				.src_port = r->nat.dst_port,
				.dst_port = r->nat.src_port,
			};
		}
		set_tuple(f, len, &l, &k, ((c1 >> 4) & 3) == 2);
		if (in == DP_OUTSIDE && l.proto == IPPROTO_ICMP && ((c1 >> 4) & 3) == 2)
			set_quoted(f, len, &l, r);
		break;
	}
	if (c1 & 0x02)
		fix_checksums(f, &l);
}

/* The 5-tuple of a TCP/UDP frame, as stored (network order). */
static bool
tuple_of(const uint8_t *f, uint32_t len, struct flow_key *k)
{
	struct layout l = layout_of(f, len);
	const uint8_t *ip = f + l.l2;

	if (l.l2 == 0 || (l.proto != IPPROTO_TCP && l.proto != IPPROTO_UDP) ||
	    len < l.l2 + l.ihl + 4)
		return false;
	memset(k, 0, sizeof(*k));
	memcpy(&k->src_ip, ip + 12, 4);
	memcpy(&k->dst_ip, ip + 16, 4);
	memcpy(&k->src_port, ip + l.ihl, 2);
	memcpy(&k->dst_port, ip + l.ihl + 2, 2);
	k->proto = l.proto;
	return true;
}

/* Give frame f the addresses of frame g, and its ports when both carry ports. */
static void
copy_tuple(uint8_t *f, uint32_t len, const uint8_t *g, uint32_t glen)
{
	struct layout lf = layout_of(f, len), lg = layout_of(g, glen);
	struct flow_key k = { 0 };
	bool ports;

	if (lf.l2 == 0 || lg.l2 == 0)
		return;
	memcpy(&k.src_ip, g + lg.l2 + 12, 4);
	memcpy(&k.dst_ip, g + lg.l2 + 16, 4);
	ports = (lg.proto == IPPROTO_TCP || lg.proto == IPPROTO_UDP) && glen >= lg.l2 + lg.ihl + 4;
	if (ports) {
		memcpy(&k.src_port, g + lg.l2 + lg.ihl, 2);
		memcpy(&k.dst_port, g + lg.l2 + lg.ihl + 2, 2);
	}
	set_tuple(f, len, &lf, &k, ports);
}

/* The L4 source port of a TCP/UDP frame, plus one. */
static void
next_port(uint8_t *f, uint32_t len)
{
	struct layout l = layout_of(f, len);
	uint8_t *p;
	uint16_t v;

	if (l.l2 == 0 || (l.proto != IPPROTO_TCP && l.proto != IPPROTO_UDP) ||
	    len < l.l2 + l.ihl + 2)
		return;
	p = f + l.l2 + l.ihl;
	v = (uint16_t)(rd16(p) + 1);
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The TCP flags of a frame; 0 for anything else. */
static uint8_t
tcp_flags_of(const uint8_t *f, uint32_t len)
{
	struct layout l = layout_of(f, len);

	if (l.l2 == 0 || l.proto != IPPROTO_TCP || len < l.l2 + l.ihl + 14)
		return 0;
	return f[l.l2 + l.ihl + 13];
}

/* ------------------------------------------------------------ oracles */

/* A destination (network order) nothing may be sent for (RFC 1812 4.3.2.7, 5.3.7). */
static bool
martian_dst(uint32_t dst)
{
	uint32_t a = rte_be_to_cpu_32(dst);
	unsigned int p;

	if ((a >> 24) == 0 || (a >> 24) == 127 || (a >> 24) >= 224)
		return true;
	for (p = 0; p < DP_NPORTS; p++) {
		const struct dp_port_conf *pc = &fz.conf.port[p];

		if ((dst & pc->mask) == pc->net && (dst | pc->mask) == 0xffffffffu)
			return true;
	}
	return false;
}

static void
check_emitted(enum dp_port p, struct rte_mbuf *m, bool honest)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	struct layout l;
	struct pkt_meta pm;
	enum egress_drop why;

	FUZZ_CHECK(m->nb_segs == 1 && m->next == NULL, "emitted a chain of %u", m->nb_segs);
	FUZZ_CHECK(m->pkt_len == len, "pkt_len %u, data_len %u", m->pkt_len, len);
	FUZZ_CHECK(len >= 14 && len <= RTE_MBUF_DEFAULT_DATAROOM, "emitted %u bytes", len);
	FUZZ_CHECK(memcmp(f + 6, fz.conf.port[p].mac, 6) == 0,
		   "frame on port %d does not come from its MAC", (int)p);
	l = layout_of(f, len);
	if (l.arp) {
		uint32_t l2 = rd16(f + 12) == PKT_ETHERTYPE_VLAN ? 18 : 14;
		uint32_t sip;

		FUZZ_CHECK(len >= l2 + 28 && rd16(f + l2 + 6) == 2,
			   "emitted an ARP frame that is not a reply");
		memcpy(&sip, f + l2 + 14, 4);
		FUZZ_CHECK(sip == fz.conf.port[p].addr, "ARP reply for %08x, not our address",
			   rte_be_to_cpu_32(sip));
		return;
	}
	FUZZ_CHECK(l.l2 != 0, "emitted a frame that is not IPv4 or ARP");
	/* the packet, padded with zeros to Ethernet's 60-byte minimum */
	FUZZ_CHECK(l.ip_len != 0 && RTE_MAX(l.l2 + l.ip_len, 60u) == len,
		   "emitted %u bytes for an IPv4 packet of %u (l2 %u)", len, rd16(f + l.l2 + 2),
		   l.l2);
	for (uint32_t k = l.l2 + l.ip_len; k < len; k++)
		FUZZ_CHECK(f[k] == 0, "padding byte %u of %u is %02x", k, len, f[k]);
	FUZZ_CHECK(f[l.l2 + 8] >= 1, "emitted with TTL 0");
	if (p == DP_OUTSIDE && l.proto != IPPROTO_ICMP) {
		uint32_t src;

		memcpy(&src, f + l.l2 + 12, 4);
		FUZZ_CHECK(src == NAT_ADDR || src == NAT_ADDR2,
			   "left on the outside from %08x, not a NAT address",
			   rte_be_to_cpu_32(src));
	}
	if (!honest)
		return;
	FUZZ_CHECK(ref_ipv4_hdr_ok(f + l.l2, l.ihl), "emitted with a bad IPv4 checksum");
	if (!fz.icmp0 && l.proto == IPPROTO_ICMP && f[l.l2 + l.ihl + 2] == 0 &&
	    f[l.l2 + l.ihl + 3] == 0 && ref_sum(f + l.l2 + l.ihl, l.ip_len - l.ihl, 0) == 0)
		return;
	FUZZ_CHECK(ref_l4_ok(f + l.l2, l.ihl, l.ip_len - l.ihl),
		   "emitted with a bad L4 checksum (proto %u)", l.proto);
	if (fz.reparse)
		FUZZ_CHECK(pkt_parse(f, len, PKT_F_ALLOW_VLAN, &pm, &why) == 0,
			   "emitted a frame our own parser drops: %s", egress_drop_name(why));
}

/*
 * A frame built here (an RST, an ICMP error) rather than received: neither to
 * nor from a martian or broadcast address, and, for an ICMP error, not about
 * a packet to one (RFC 1812 4.3.2.7).
 */
static void
check_generated(const struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), src, dst, qdst;
	struct layout l = layout_of(f, len);
	uint8_t type;

	if (!fz.mdst || l.l2 == 0)
		return;
	memcpy(&src, f + l.l2 + 12, 4);
	memcpy(&dst, f + l.l2 + 16, 4);
	FUZZ_CHECK(!martian_dst(dst), "built a frame to %08x", rte_be_to_cpu_32(dst));
	FUZZ_CHECK(!martian_dst(src), "built a frame from %08x", rte_be_to_cpu_32(src));
	if (l.proto != IPPROTO_ICMP || len < l.l2 + l.ihl + 8 + 20)
		return;
	type = f[l.l2 + l.ihl];
	if (type != 3 && type != 11 && type != 12)
		return;
	memcpy(&qdst, f + l.l2 + l.ihl + 8 + 16, 4);
	FUZZ_CHECK(!martian_dst(qdst), "ICMP error %u about a packet to %08x", type,
		   rte_be_to_cpu_32(qdst));
}

/* A TCP state before the handshake completed (written here, not taken from tcp.h). */
static inline bool
in_handshake(uint8_t s)
{
	return s == FLOW_S_SYN_SENT || s == FLOW_S_SYN_RCVD || s == FLOW_S_SYN_SENT2 ||
	       s == FLOW_S_SYN_RCVD2;
}

/*
 * The flow table's own structure (its layout is public in flow.h; only this
 * audit reads it): every slot is exactly one of live, on the free list, never
 * used (past the high-water mark) or in limbo waiting for its grace period;
 * every link of every chain leads to a live flow under one of its own keys,
 * one that hashes to that bucket; two links per live flow.
 */
static void
audit_table(unsigned int wid, const struct flow_table *ft)
{
	enum {
		LIVE = 1,
		FREE,
		FRESH,
		LIMBO
	};
	static uint8_t mark[FLOWS_MAX];
	static const char *const what[] = { "lost", "live", "free", "never used", "in limbo" };
	uint32_t i, idx, n, live = 0, links = 0, steps;

	FUZZ_CHECK(ft->max_flows == FLOWS_MAX && ft->fresh <= FLOWS_MAX,
		   "worker %u: table of %u slots, high-water mark %u", wid, ft->max_flows,
		   ft->fresh);
	memset(mark, 0, sizeof(mark));
	for (i = 0; i < FLOWS_MAX; i++) {
		if (!ft->flows[i].in_use)
			continue;
		FUZZ_CHECK(i < ft->fresh, "worker %u: slot %u live past the high-water mark %u",
			   wid, i, ft->fresh);
		mark[i] = LIVE;
		live++;
	}
	for (i = ft->fresh; i < FLOWS_MAX; i++)
		mark[i] = FRESH;
	for (idx = ft->free_head, n = 0; idx != FT_NIL; idx = ft->flows[idx].next[0], n++) {
		FUZZ_CHECK(idx < FLOWS_MAX && n < FLOWS_MAX, "worker %u: free list broken at %u",
			   wid, idx);
		FUZZ_CHECK(mark[idx] == 0, "worker %u: slot %u on the free list and %s", wid, idx,
			   what[mark[idx]]);
		mark[idx] = FREE;
	}
	FUZZ_CHECK(ft->n_free == n + (FLOWS_MAX - ft->fresh),
		   "worker %u: n_free %u, free list %u + never used %u", wid, ft->n_free, n,
		   FLOWS_MAX - ft->fresh);
	FUZZ_CHECK(ft->limbo_tail - ft->limbo_head <= FLOWS_MAX, "worker %u: limbo holds %u slots",
		   wid, ft->limbo_tail - ft->limbo_head);
	for (i = ft->limbo_head; i != ft->limbo_tail; i++) {
		idx = ft->limbo[i & ft->limbo_mask];
		FUZZ_CHECK(idx < FLOWS_MAX, "worker %u: limbo holds slot %u", wid, idx);
		FUZZ_CHECK(mark[idx] == 0, "worker %u: slot %u in limbo and %s", wid, idx,
			   what[mark[idx]]);
		mark[idx] = LIMBO;
	}
	for (i = 0; i < FLOWS_MAX; i++)
		FUZZ_CHECK(mark[i] != 0,
			   "worker %u: slot %u lost: not live, free, never used nor in limbo", wid,
			   i);
	FUZZ_CHECK(live == flow_table_count(ft), "worker %u: %u live flows, count says %u", wid,
		   live, flow_table_count(ft));
	for (i = 0; i <= ft->head_mask; i++) {
		steps = 0;
		for (uint32_t l = ft->heads[i]; l != FT_NIL;) {
			const struct flow *f;
			unsigned int d = l & 1;

			idx = l >> 1;
			FUZZ_CHECK(idx < FLOWS_MAX && ++steps <= 2 * FLOWS_MAX,
				   "worker %u: bucket %u: link %08x (a loop?)", wid, i, l);
			f = &ft->flows[idx];
			FUZZ_CHECK(f->in_use,
				   "worker %u: bucket %u reaches slot %u (%s): no live flow", wid,
				   i, idx, what[mark[idx]]);
			FUZZ_CHECK(
				(flow_key_hash(&f->key[d], ft->seed) & ft->head_mask) == i,
				"worker %u: flow %u reachable from bucket %u under a key that is "
				"not its own",
				wid, idx, i);
			links++;
			l = f->next[d];
		}
	}
	FUZZ_CHECK(links == 2 * live, "worker %u: %u links in the chains for %u flows", wid, links,
		   live);
}

/* Every live flow of worker w against its table and its counters. */
static void
audit(const struct dp_worker *w)
{
	const struct policy *pol = fz.conf.policy;
	const struct dp_counters *cnt = dp_counters(&fz.conf, pol->generation);
	const struct dp_port_conf *ipc = &fz.conf.port[DP_INSIDE];
	uint32_t i, cap = flow_table_capacity(w->flows), live = 0, emb = 0;
	static uint32_t caps[AUDIT_MAX], targets[AUDIT_MAX];
	static struct {
		uint32_t ip;
		uint32_t flows;
	} clients[FLOWS_MAX];
	uint32_t n_clients = 0, j;

	audit_table(w->id, w->flows);
	memset(caps, 0, sizeof(caps));
	memset(targets, 0, sizeof(targets));
	FUZZ_CHECK(w->emb_tail - w->emb_head <= w->emb_mask + 1,
		   "worker %u: embryonic FIFO holds %u of %u", w->id, w->emb_tail - w->emb_head,
		   w->emb_mask + 1);
	for (i = 0; i < cap; i++) {
		const struct flow *f = flow_table_at(w->flows, i);
		const struct flow_key *o, *n;
		uint8_t dir;
		uint16_t port;
		uint32_t e;

		if (!f->in_use)
			continue;
		live++;
		emb += f->embryonic != 0;
		o = &f->key[FLOW_DIR_OUT];
		n = &f->key[FLOW_DIR_IN];
		FUZZ_CHECK(flow_table_lookup(w->flows, o, &dir) == f && dir == FLOW_DIR_OUT,
			   "worker %u flow %u not found by its inside key", w->id, i);
		FUZZ_CHECK(flow_table_lookup(w->flows, n, &dir) == f && dir == FLOW_DIR_IN,
			   "worker %u flow %u not found by its outside key", w->id, i);
		FUZZ_CHECK((o->src_ip & ipc->mask) == ipc->net,
			   "worker %u flow %u of client %08x, outside the inside prefix", w->id, i,
			   rte_be_to_cpu_32(o->src_ip));
		FUZZ_CHECK(n->dst_ip == NAT_ADDR || n->dst_ip == NAT_ADDR2,
			   "worker %u flow %u NATed to %08x", w->id, i,
			   rte_be_to_cpu_32(n->dst_ip));
		port = rte_be_to_cpu_16(n->dst_port);
		FUZZ_CHECK(port >= w->nat.port_lo && port <= w->nat.port_hi,
			   "worker %u flow %u NAT port %u outside its share %u-%u", w->id, i, port,
			   w->nat.port_lo, w->nat.port_hi);
		FUZZ_CHECK(n->proto == o->proto, "flow %u proto %u/%u", i, o->proto, n->proto);
		FUZZ_CHECK(f->state < FLOW_S_MAX, "flow %u state %u", i, f->state);
		if (o->proto == IPPROTO_TCP)
			FUZZ_CHECK(!f->embryonic == !in_handshake(f->state),
				   "worker %u TCP flow %u in state %s, embryonic %u", w->id, i,
				   flow_state_name(f->state), f->embryonic);
		else
			FUZZ_CHECK(!f->embryonic == (f->state != FLOW_S_NONE),
				   "worker %u flow %u (proto %u) in state %s, embryonic %u", w->id,
				   i, o->proto, flow_state_name(f->state), f->embryonic);
		FUZZ_CHECK(!f->quarantine ||
				   (o->proto == IPPROTO_TCP && f->state == FLOW_S_TIME_WAIT),
			   "worker %u flow %u (proto %u) in quarantine in state %s", w->id, i,
			   o->proto, flow_state_name(f->state));
		/* the FIFO eviction finds every embryonic flow (embryonic_evict()) */
		for (e = w->emb_head; f->embryonic && e != w->emb_tail; e++) {
			uint64_t v = w->emb_fifo[e & w->emb_mask];

			if ((uint32_t)(v >> 32) == i && (uint32_t)v == f->serial)
				break;
		}
		FUZZ_CHECK(!f->embryonic || e != w->emb_tail,
			   "worker %u: embryonic flow %u (serial %u) not in the embryonic FIFO",
			   w->id, i, f->serial);
		for (j = 0; j < n_clients && clients[j].ip != o->src_ip; j++)
			;
		if (j == n_clients) {
			clients[n_clients].ip = o->src_ip;
			clients[n_clients++].flows = 0;
		}
		clients[j].flows++;
		/* the current policy counts the flows it admitted or re-checked */
		if (f->policy_gen == pol->generation && f->rule < pol->n_rules) {
			const struct policy_rule *r = &pol->rules[f->rule];

			if (r->cap_id != POLICY_NO_CAP && r->cap_id < AUDIT_MAX)
				caps[r->cap_id]++;
			if (r->n_targets > 0 && r->first_target + f->target < AUDIT_MAX)
				targets[r->first_target + f->target]++;
		}
	}
	FUZZ_CHECK(emb == w->embryonic, "worker %u: %u embryonic flows, counter says %u", w->id,
		   emb, w->embryonic);
	/* flows counted as created and as ended against the table's own count
	 * of deletions: one flow ended twice (a stale pointer acted on) shows */
	FUZZ_CHECK((uint32_t)w->stats.flows_created - flow_table_deletions(w->flows) == live,
		   "worker %u: %" PRIu64 " flows created, %u deleted, %u live", w->id,
		   w->stats.flows_created, flow_table_deletions(w->flows), live);
	FUZZ_CHECK(w->stats.flows_expired + w->stats.flows_revoked + w->stats.embryonic_evicted <=
			   flow_table_deletions(w->flows),
		   "worker %u: %" PRIu64 " expired + %" PRIu64 " revoked + %" PRIu64
		   " evicted, but %u flows deleted",
		   w->id, w->stats.flows_expired, w->stats.flows_revoked,
		   w->stats.embryonic_evicted, flow_table_deletions(w->flows));
	FUZZ_CHECK(emb <= fz.conf.embryonic_max, "worker %u: %u embryonic flows, cap %u", w->id,
		   emb, fz.conf.embryonic_max);
	for (j = 0; fz.sources && j < n_clients; j++) {
		int pos = rte_hash_lookup(w->sources, &clients[j].ip);

		FUZZ_CHECK(pos >= 0 && w->source[pos].flows == clients[j].flows,
			   "worker %u: client %08x has %u flows, flows.per_source counts %d", w->id,
			   rte_be_to_cpu_32(clients[j].ip), clients[j].flows,
			   pos >= 0 ? (int)w->source[pos].flows : -1);
	}
	FUZZ_CHECK(!fz.sources || rte_hash_count(w->sources) == (int32_t)n_clients,
		   "worker %u: flows.per_source tracks %d clients, %u have flows", w->id,
		   rte_hash_count(w->sources), n_clients);
	FUZZ_CHECK(cnt != NULL, "worker %u: no counters for generation %u", w->id, pol->generation);
	for (j = 0; cnt != NULL && cnt->cap_count != NULL && j < pol->n_caps; j++)
		FUZZ_CHECK(cnt->cap_count[w->id * cnt->cap_stride + j] == caps[j],
			   "worker %u: maxConnections cap %u counts %u flows, the table has %u",
			   w->id, j, cnt->cap_count[w->id * cnt->cap_stride + j], caps[j]);
	for (j = 0; cnt != NULL && cnt->target_active != NULL && j < pol->n_targets; j++)
		FUZZ_CHECK(cnt->target_active[w->id * cnt->target_stride + j] == targets[j],
			   "worker %u: target %u counts %u flows, the table has %u", w->id, j,
			   cnt->target_active[w->id * cnt->target_stride + j], targets[j]);
}

struct binding {
	struct flow_key key; /* the flow's outside key: remote -> NAT address:port */
	uint32_t worker, idx;
};

static int
binding_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct binding *)a)->key, &((const struct binding *)b)->key,
		      sizeof(struct flow_key));
}

/* Each NAT binding (address, port, protocol, remote) is one flow's, of all workers. */
static void
audit_nat(void)
{
	static struct binding b[WORKERS * FLOWS_MAX];
	uint32_t n = 0, w, i;

	for (w = 0; w < WORKERS; w++)
		for (i = 0; i < FLOWS_MAX; i++) {
			const struct flow *f = flow_table_at(fz.w[w]->flows, i);

			if (f->in_use)
				b[n++] = (struct binding){ f->key[FLOW_DIR_IN], w, i };
		}
	qsort(b, n, sizeof(b[0]), binding_cmp);
	for (i = 1; i < n; i++)
		FUZZ_CHECK(binding_cmp(&b[i - 1], &b[i]) != 0,
			   "NAT binding %08x:%u <- %08x:%u proto %u held by worker %u flow %u and "
			   "worker %u flow %u",
			   rte_be_to_cpu_32(b[i].key.dst_ip), rte_be_to_cpu_16(b[i].key.dst_port),
			   rte_be_to_cpu_32(b[i].key.src_ip), rte_be_to_cpu_16(b[i].key.src_port),
			   b[i].key.proto, b[i - 1].worker, b[i - 1].idx, b[i].worker, b[i].idx);
}

/* What the control thread does with the workers' events. */
static void
drain_events(void)
{
	struct dp_event ev;

	while (rte_ring_dequeue_elem(fz.conf.events, &ev, sizeof(ev)) == 0) {
		struct neigh_table *nt;

		FUZZ_CHECK(ev.port < DP_NPORTS, "event for port %u", ev.port);
		nt = fz.conf.port[ev.port].neigh;
		if (ev.type == DP_EV_LEARN)
			(void)neigh_learn(nt, ev.ip, ev.mac, fz.now);
		else if (ev.type == DP_EV_RESOLVE)
			(void)neigh_resolve(nt, ev.ip, fz.now, req_noop, NULL);
		else
			FUZZ_CHECK(0, "event type %u", ev.type);
	}
}

/* ------------------------------------------------------------ the loops */

static void
unpoison(struct frame *fr)
{
	if (fr->poison_at != NULL)
		ASAN_UNPOISON_MEMORY_REGION(fr->poison_at, fr->poison_len);
	fr->poison_at = NULL;
}

static uint32_t
waiting(void)
{
	uint32_t n = 0, w;

	for (w = 0; w < WORKERS; w++)
		n += fz.queue[w].tail - fz.queue[w].head;
	return n;
}

static uint64_t
drops_of(const struct dp_stats *s)
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < EGRESS_DROP_MAX; i++)
		n += s->drops[i];
	return n;
}

/* FUZZ_PIPELINE_TRACE: one dp_process() call and what it counted. */
static void
trace_call(const struct dp_worker *w, enum dp_port in, uint16_t n, bool from_ring,
	   const struct dp_stats *s0, uint32_t handed, const struct dp_out *out)
{
	unsigned int i;

	fprintf(stderr,
		"fuzz_pipeline: #%" PRIu64 ".%u t=%" PRIu64 " w%u %s%s %u frames: "
		"sent %u in, %u out, handed off %u",
		fz.runs - 1, fz.burst, fz.now, w->id, in == DP_INSIDE ? "inside" : "outside",
		from_ring ? " (hand-off ring)" : "", n, out->n[DP_INSIDE], out->n[DP_OUTSIDE],
		handed);
	for (i = 0; i < EGRESS_DROP_MAX; i++)
		if (w->stats.drops[i] != s0->drops[i])
			fprintf(stderr, ", dropped %" PRIu64 " %s",
				w->stats.drops[i] - s0->drops[i],
				egress_drop_name((enum egress_drop)i));
	fprintf(stderr, "; flows %u+%u, embryonic %u+%u\n", flow_table_count(fz.w[0]->flows),
		flow_table_count(fz.w[1]->flows), fz.w[0]->embryonic, fz.w[1]->embryonic);
}

static void
remember(const struct frame *fr, const struct rte_mbuf *o)
{
	struct flow_key k;

	if (!tuple_of(rte_pktmbuf_mtod(o, const uint8_t *), rte_pktmbuf_data_len(o), &k))
		return;
	fz.recent[fz.recent_next % RECENT] =
		(struct recent){ .valid = true, .client = fr->tuple, .nat = k };
	fz.recent_next++;
}

/*
 * A TCP/UDP frame received on port in and forwarded (out through the other
 * port) by worker w, in a call that ended no flow: a live flow of w carries
 * it, the input's 5-tuple its key in that direction, the output's the
 * reverse of its other key.
 */
static void
check_carried(const struct dp_worker *w, enum dp_port in, const struct frame *fr,
	      const struct rte_mbuf *o)
{
	uint8_t want = in == DP_INSIDE ? FLOW_DIR_OUT : FLOW_DIR_IN, dir;
	const struct flow *f = flow_table_lookup(w->flows, &fr->tuple, &dir);
	struct flow_key k, r;

	FUZZ_CHECK(f != NULL && f->in_use && dir == want,
		   "worker %u forwarded %08x:%u > %08x:%u/%u on no flow of its own", w->id,
		   rte_be_to_cpu_32(fr->tuple.src_ip), rte_be_to_cpu_16(fr->tuple.src_port),
		   rte_be_to_cpu_32(fr->tuple.dst_ip), rte_be_to_cpu_16(fr->tuple.dst_port),
		   fr->tuple.proto);
	FUZZ_CHECK(tuple_of(rte_pktmbuf_mtod(o, const uint8_t *), rte_pktmbuf_data_len(o), &k),
		   "forwarded a TCP/UDP frame as something else");
	r = (struct flow_key){ .src_ip = k.dst_ip,
			       .dst_ip = k.src_ip,
			       .src_port = k.dst_port,
			       .dst_port = k.src_port,
			       .proto = k.proto };
	FUZZ_CHECK(memcmp(&r, &f->key[want ^ 1], sizeof(r)) == 0,
		   "worker %u forwarded %08x:%u > %08x:%u/%u, not as its flow's other key", w->id,
		   rte_be_to_cpu_32(k.src_ip), rte_be_to_cpu_16(k.src_port),
		   rte_be_to_cpu_32(k.dst_ip), rte_be_to_cpu_16(k.dst_port), k.proto);
}

/*
 * One dp_process() call of worker w on n frames received on port in (from
 * its hand-off ring when from_ring), checked: the frames it handed off go to
 * their owners' queues, every other one is unpoisoned, every frame it sent
 * is checked and freed, and its counters must account for every frame.
 */
static void
run_call(struct dp_worker *w, enum dp_port in, struct frame *fr, uint16_t n, bool from_ring)
{
	struct rte_mbuf *pkts[DP_BURST_MAX];
	bool handed[DP_BURST_MAX] = { false }, sent[DP_BURST_MAX] = { false };
	struct dp_stats s0 = w->stats;
	uint64_t others0[WORKERS], rx, drops, dropped;
	static struct dp_out out;
	uint32_t n_handed = 0, n_sent = 0, answers = 0, arp_kept = 0, freed, emitted, o;
	uint32_t deletions;
	unsigned int i, p, k;
	uint16_t ret;

	for (i = 0; i < n; i++)
		pkts[i] = fr[i].m;
	for (o = 0; o < WORKERS; o++)
		others0[o] = fz.w[o]->stats.port[DP_INSIDE].rx +
			     fz.w[o]->stats.port[DP_OUTSIDE].rx + drops_of(&fz.w[o]->stats);
	memset(&out, 0, sizeof(out));
	deletions = flow_table_deletions(w->flows);
	ret = dp_process(w, in, pkts, n, fz.now, &out);

	/* what the owners' loops will dequeue, in ring order */
	for (o = 0; o < WORKERS; o++) {
		struct queue *q = &fz.queue[o];
		void *m;

		while (rte_ring_sc_dequeue(fz.conf.handoff[o], &m) == 0) {
			FUZZ_CHECK(!from_ring, "worker %u handed off again a frame handed to it",
				   w->id);
			FUZZ_CHECK(o != w->id, "worker %u handed a frame off to itself", w->id);
			for (i = 0; i < n && fr[i].m != m; i++)
				;
			FUZZ_CHECK(i < n && !handed[i],
				   "worker %u handed off a frame not of its burst, or twice",
				   w->id);
			FUZZ_CHECK(in == DP_OUTSIDE, "worker %u handed off an inside frame", w->id);
			handed[i] = true;
			n_handed++;
			q->f[q->tail++ % QUEUE_SIZE] = fr[i];
		}
	}
	for (i = 0; i < n; i++)
		if (!handed[i])
			unpoison(&fr[i]);
	for (o = 0; o < WORKERS; o++)
		FUZZ_CHECK(o == w->id || others0[o] == fz.w[o]->stats.port[DP_INSIDE].rx +
							       fz.w[o]->stats.port[DP_OUTSIDE].rx +
							       drops_of(&fz.w[o]->stats),
			   "worker %u counted a frame of worker %u", o, w->id);

	emitted = (uint32_t)out.n[DP_INSIDE] + out.n[DP_OUTSIDE];
	FUZZ_CHECK(out.n[DP_INSIDE] <= DP_OUT_MAX && out.n[DP_OUTSIDE] <= DP_OUT_MAX,
		   "out holds %u + %u frames", out.n[DP_INSIDE], out.n[DP_OUTSIDE]);
	FUZZ_CHECK(ret == emitted, "dp_process returned %u, emitted %u", ret, emitted);
	FUZZ_CHECK(emitted <= 2u * n, "%u frames caused %u", n, emitted);
	for (p = 0; p < DP_NPORTS; p++) {
		for (k = 0; k < out.n[p]; k++) {
			struct rte_mbuf *m = out.pkts[p][k];

			for (i = 0; i < n && fr[i].m != m; i++)
				;
			if (i == n) {
				/* built here: an RST, an ICMP error */
				check_emitted((enum dp_port)p, m, true);
				check_generated(m);
				rte_pktmbuf_free(m);
				continue;
			}
			FUZZ_CHECK(!handed[i], "worker %u handed off frame %u and sent it", w->id,
				   i);
			FUZZ_CHECK(!sent[i], "worker %u sent frame %u twice", w->id, i);
			sent[i] = true;
			n_sent++;
			check_emitted((enum dp_port)p, m, fr[i].honest);
			if (fz.mdst && fr[i].ip)
				FUZZ_CHECK(!martian_dst(fr[i].dst),
					   "a packet to %08x was sent on (forwarded, RST or ICMP)",
					   rte_be_to_cpu_32(fr[i].dst));
			if (p != in && fr[i].l4 && deletions == flow_table_deletions(w->flows))
				check_carried(w, in, &fr[i], m);
			/* sent back as a TCP RST: a deny or a segment without a flow
			 * answered (counted as a drop) */
			if (p == in &&
			    layout_of(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m))
					    .proto == IPPROTO_TCP)
				answers++;
			if (p == DP_OUTSIDE && fr[i].client)
				remember(&fr[i], m);
			rte_pktmbuf_free(m);
		}
	}
	for (i = 0; i < n; i++)
		arp_kept += fr[i].arp && !sent[i];

	rx = w->stats.port[in].rx - s0.port[in].rx;
	drops = drops_of(&w->stats) - drops_of(&s0);
	dropped = w->stats.port[in].dropped - s0.port[in].dropped;
	if (fz.trace)
		trace_call(w, in, n, from_ring, &s0, n_handed, &out);
	FUZZ_CHECK(rx == n - n_handed, "%u frames, %u handed off: rx counted %" PRIu64, n, n_handed,
		   rx);
	FUZZ_CHECK(w->stats.handed_off - s0.handed_off == n_handed,
		   "%u frames handed off, counted %" PRIu64, n_handed,
		   w->stats.handed_off - s0.handed_off);
	FUZZ_CHECK(w->stats.port[in ^ 1].rx == s0.port[in ^ 1].rx &&
			   w->stats.port[in ^ 1].dropped == s0.port[in ^ 1].dropped,
		   "frames of port %u counted on the other port", in);
	FUZZ_CHECK(dropped == drops, "port dropped +%" PRIu64 ", drop reasons +%" PRIu64, dropped,
		   drops);
	/* each frame received: sent (forwarded, or answered in place), dropped
	 * (sent back as an RST: both), or consumed (an ARP reply to us) */
	freed = (uint32_t)rx - n_sent;
	FUZZ_CHECK(answers <= drops, "%u frames answered with a RST, %" PRIu64 " drops", answers,
		   drops);
	FUZZ_CHECK(drops - answers <= freed,
		   "%" PRIu64 " drops (%u answered) for %u frames not sent: a frame counted twice",
		   drops, answers, freed);
	FUZZ_CHECK(freed - (drops - answers) <= arp_kept,
		   "%" PRIu64 " frames neither sent nor counted as dropped (%u ARP)",
		   freed - (drops - answers), arp_kept);
}

/* dp_sweep() (or a whole pass of dp_expire()) of worker w, its RSTs checked. */
static void
sweep(struct dp_worker *w)
{
	static struct dp_out out;
	unsigned int p, k;

	memset(&out, 0, sizeof(out));
	(void)dp_sweep(w, fz.now, &out);
	for (p = 0; p < DP_NPORTS; p++) {
		FUZZ_CHECK(out.n[p] <= DP_OUT_MAX, "the sweep put %u frames in out", out.n[p]);
		for (k = 0; k < out.n[p]; k++) {
			/* revoked flows' RSTs are built from scratch: always checked */
			check_emitted((enum dp_port)p, out.pkts[p][k], true);
			check_generated(out.pkts[p][k]);
			rte_pktmbuf_free(out.pkts[p][k]);
		}
	}
}

/*
 * One iteration of worker wid's poll loop (dp_worker_main()): quiescent
 * state, the burst it received (n frames on port in; none when n is 0),
 * what other workers handed off to it, the sweep.
 */
static void
worker_loop(unsigned int wid, enum dp_port in, struct frame *fr, uint16_t n)
{
	static struct frame batch[DP_BURST_MAX];
	struct dp_worker *w = fz.w[wid];
	struct queue *q = &fz.queue[wid];
	uint16_t k = 0;

	dp_worker_quiesce(w);
	if (n > 0)
		run_call(w, in, fr, n, false);
	while (k < DP_BURST_MAX && q->head != q->tail)
		batch[k++] = q->f[q->head++ % QUEUE_SIZE];
	if (k > 0)
		run_call(w, DP_OUTSIDE, batch, k, true);
	sweep(w);
}

/* After a burst: the control thread's work, then every invariant. */
static void
after_burst(bool neigh_age)
{
	unsigned int w;

	drain_events();
	if (neigh_age) {
		neigh_tick(fz.conf.port[DP_INSIDE].neigh, fz.now, req_noop, NULL);
		neigh_tick(fz.conf.port[DP_OUTSIDE].neigh, fz.now, req_noop, NULL);
	}
	for (w = 0; w < WORKERS; w++)
		audit(fz.w[w]);
	audit_nat();
	FUZZ_CHECK(rte_mempool_in_use_count(fz.pool) == waiting(),
		   "%u mbufs in use, %u frames wait in hand-off rings: leaked or freed twice",
		   rte_mempool_in_use_count(fz.pool), waiting());
}

/* ------------------------------------------------------------ one input */

/*
 * The next frame of a burst, from its header at data[*off]: its bytes
 * shaped, in an mbuf whose tailroom is poisoned. prev/prev_len: the burst's
 * previous frame as it went in (prev_len UINT32_MAX: none), updated.
 * @return false when the input has no whole frame header left.
 */
static bool
next_frame(const uint8_t *data, size_t size, size_t *off, enum dp_port in, uint8_t *prev,
	   uint32_t *prev_len, struct frame *fr)
{
	static uint8_t buf[FRAME_MAX];
	const uint8_t *h = data + *off;
	uint32_t len, own;
	struct layout l;
	struct rte_mbuf *m;
	uint8_t derive;

	if (*off + FRAME_HDR > size)
		return false;
	derive = h[0] >> 6;
	own = RTE_MIN(rd16(h + 2) & 0x7ffu, (uint32_t)(size - *off - FRAME_HDR));
	*off += FRAME_HDR + own;
	if ((derive == 1 || derive == 2) && *prev_len != UINT32_MAX) {
		len = *prev_len;
		memcpy(buf, prev, len);
		if (derive == 2)
			next_port(buf, len);
	} else {
		len = own;
		memcpy(buf, h + FRAME_HDR, len);
		if (derive == 3 && *prev_len != UINT32_MAX)
			copy_tuple(buf, len, prev, *prev_len);
	}
	shape_frame(buf, len, in, h[0], h[1]);
	memcpy(prev, buf, len);
	*prev_len = len;

	memset(fr, 0, sizeof(*fr));
	l = layout_of(buf, len);
	fr->honest = checksums_right(buf, &l);
	fr->arp = l.arp;
	fr->ip = l.l2 != 0;
	if (fr->ip)
		memcpy(&fr->dst, buf + l.l2 + 16, 4);
	fr->l4 = tuple_of(buf, len, &fr->tuple);
	fr->client = in == DP_INSIDE && fr->l4;

	m = rte_pktmbuf_alloc(fz.pool);
	FUZZ_CHECK(m != NULL, "mempool empty: %u mbufs in use", rte_mempool_in_use_count(fz.pool));
	if (len > 0) {
		uint8_t *dst = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);

		FUZZ_CHECK(dst != NULL, "no room for %u bytes", len);
		memcpy(dst, buf, len);
	}
	switch ((h[0] >> 2) & 3) {
	case 1:
		m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_GOOD | RTE_MBUF_F_RX_L4_CKSUM_GOOD;
		break;
	case 2:
		m->ol_flags |= RTE_MBUF_F_RX_IP_CKSUM_BAD;
		break;
	case 3:
		m->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_BAD;
		break;
	}
	fr->m = m;
	if (fz.poison) {
		/* a frame shorter than 60 bytes may leave padded in place: the
		 * first 60 bytes stay writable */
		uint32_t from = RTE_MAX(len, 60u);

		fr->poison_at = rte_pktmbuf_mtod_offset(m, uint8_t *, from);
		fr->poison_len = rte_pktmbuf_tailroom(m) - (from - len);
		ASAN_POISON_MEMORY_REGION(fr->poison_at, fr->poison_len);
	}
	if (fz.trace) {
		struct flow_key k = { 0 };

		(void)tuple_of(buf, len, &k);
		fprintf(stderr, "fuzz_pipeline:   %s %u bytes %08x:%u > %08x:%u/%u tcp %02x%s\n",
			in == DP_INSIDE ? "inside" : "outside", len, rte_be_to_cpu_32(k.src_ip),
			rte_be_to_cpu_16(k.src_port), rte_be_to_cpu_32(k.dst_ip),
			rte_be_to_cpu_16(k.dst_port), k.proto, tcp_flags_of(buf, len),
			fr->honest ? "" : " (bad checksums)");
	}
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct frame fr[DP_BURST_MAX];
	static uint8_t prev[FRAME_MAX];
	size_t off = 0;
	unsigned int i, rounds;

	if (fz.runs++ % RESET_EVERY == 0)
		state_reset();
	size = RTE_MIN(size, (size_t)INPUT_MAX);
	history_add(data, size);
	for (fz.burst = 0; off + BURST_HDR <= size; fz.burst++) {
		uint8_t h0 = data[off], h1 = data[off + 1], h2 = data[off + 2];
		enum dp_port in = (h0 & 1) ? DP_OUTSIDE : DP_INSIDE;
		unsigned int wid = h2 & 1, want = (h1 & 63) + 1u;
		uint32_t prev_len = UINT32_MAX;
		uint16_t n = 0;

		off += BURST_HDR;
		fz.now += steps_ms[(h0 >> 1) & 7];
		publish((h0 >> 4) & 3);
		fz.conf.port[in].parse_flags = (h0 & 0x80) ? PKT_F_ALLOW_VLAN : 0;
		fz.conf.tcp_liberal = (h2 & 2) != 0;
		fz.conf.source_max = (h2 & 4) ? 6 : 0;
		fz.conf.source_rate = (h2 & 4) ? 10 : 0;
		for (i = 0; i < WORKERS; i++)
			fz.w[i]->nat.preserve = (h2 & 8) != 0;
		fz.conf.deny = (h2 & 0x10) ? EGRESS_DENY_DROP : EGRESS_DENY_RESET;
		fz.conf.no_flow = (h2 & 0x40) ? EGRESS_NO_FLOW_RESET : EGRESS_NO_FLOW_DROP;
		reader_set((h1 & 0x80) != 0);

		while (n < want && next_frame(data, size, &off, in, prev, &prev_len, &fr[n]))
			n++;
		if (n == 0)
			break;
		for (i = 0; (h2 & 0x20) && i < WORKERS; i++)
			worker_loop(i, in, NULL, 0);
		worker_loop(wid, in, fr, n);
		for (i = 0; !(h1 & 0x40) && i < WORKERS; i++)
			if (i != wid)
				worker_loop(i, in, NULL, 0);
		after_burst((h0 & 0x40) != 0);
	}
	/* the end of the input: the loops run until no frame waits for its owner */
	reader_set(false);
	for (rounds = 0; waiting() > 0; rounds++) {
		FUZZ_CHECK(rounds < QUEUE_SIZE, "hand-off queues never drain");
		for (i = 0; i < WORKERS; i++)
			if (fz.queue[i].head != fz.queue[i].tail)
				worker_loop(i, DP_OUTSIDE, NULL, 0);
		after_burst(false);
	}
	FUZZ_CHECK(rte_mempool_in_use_count(fz.pool) == 0,
		   "%u mbufs still in use after the input: leaked or freed twice",
		   rte_mempool_in_use_count(fz.pool));
	return 0;
}
