/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: one frame per input through dp_process(), in either
 * direction, against two workers whose state PERSISTS across inputs (flow
 * tables, NAT port shares, embryonic FIFOs, handoff rings, neighbour tables
 * with static entries, four prebuilt policies), so that later inputs hit the
 * flows earlier ones created, and time moves on. An outside frame that one
 * worker hands off to the owner of its NAT port is then processed by the
 * owner, as dp_worker_main() does.
 *
 * Input layout (a 4-byte header, then the frame):
 *   byte 0  bit 0     receiving port: 0 inside, 1 outside
 *           bits 1-3  time step before the frame: steps_ms[]
 *           bits 4-5  policy: 0 main (generation 1), 1 the same rules
 *                     republished (2: flows are re-checked and kept), 2
 *                     ALLOW_ANY without rules (3), 3 REGISTRY_ONLY without
 *                     rules (4: every flow is revoked)
 *           bit 6     then dp_expire(), neigh_tick() and a full table audit
 *           bit 7     the port accepts one 802.1Q tag (PKT_F_ALLOW_VLAN)
 *   byte 1  bit 0     destination MAC := the receiving port's own
 *           bit 1     fix the IPv4 header and L4 checksums
 *           bits 2-3  mbuf offload flags: none, IP+L4 GOOD, IP BAD, L4 BAD
 *           bits 4-5  addresses: 0 as written; 1 from the endpoint tables
 *                     (byte 2: low nibble source, high nibble destination);
 *                     2 a recent flow's 5-tuple (client's inside, its reply
 *                     outside, and for an ICMP error outside the packet it
 *                     quotes too; byte 2: 0 the newest, 1 the one before...);
 *                     3 the same, addresses only
 *           bit 6     NAT port preservation (port_alloc: preserve)
 *           bit 7     deny: drop instead of deny: reset
 *   byte 2  selector for bits 4-5 of byte 1
 *   byte 3  bit 0     the receiving worker (0 or 1)
 *           bit 1     flows.tcp_liberal (no sequence-window checks)
 *           bit 2     flows.per_source caps on: 6 flows and 10 new flows/s
 *                     per client and worker (counted either way)
 *           bits 3-7  unused
 *   4..     the Ethernet frame (at most one mbuf's data room)
 *
 * Oracles, besides ASan/UBSan (the tailroom of the input mbuf is poisoned, so
 * reading past the frame inside the mbuf is reported too; past 60 bytes for a
 * shorter frame, which may leave padded in place):
 *   - dp_process() returns what it put in out; the frame is counted once: at
 *     most one drop reason, and dropped, emitted or (ARP reply) consumed;
 *   - no mbuf leaks or double frees (mempool in-use count back to 0);
 *   - every emitted frame: one segment, our source MAC, its length that of
 *     its IPv4 packet (zeros up to 60 bytes for a shorter one); when the input's checksums were right, its checksums
 *     are right (by this file's own RFC 1071 code) and pkt_parse() accepts it;
 *   - a packet to a destination no router may forward or answer (0/8, 127/8,
 *     multicast, class E, limited or a connected prefix's broadcast: RFC 1812
 *     4.3.2.7, 5.3.5, 5.3.7) causes nothing: no forward, no RST, no ICMP;
 *   - nothing is left in a handoff ring once the owner has run;
 *   - audit (byte 0 bit 6): every live flow is found under both keys, its NAT
 *     side uses a NAT address and a port of its worker's share; the flow,
 *     embryonic, per-client (flows.per_source), per-cap (maxConnections) and
 *     per-target (LEAST_CONN) counts match what the table holds.
 *
 * FUZZ_PIPELINE_SKIP=a,b,... turns checks off, to look past an open finding:
 *   poison   leave the tailroom addressable (code that appends to a frame);
 *   reparse  do not pkt_parse() emitted frames;
 *   icmp0    accept an ICMP checksum of 0x0000 where only 0xffff verifies;
 *   mdst     let packets to martian or broadcast destinations cause output;
 *   sources  do not audit the flows.per_source counts.
 *
 * FUZZ_PIPELINE_TRACE=1 prints one line per input: what went in, what came
 * out, which drop reason was counted (for reading a replayed history).
 *
 * Reproducing a crash: the state is rebuilt from scratch (same random seed)
 * every RESET_EVERY inputs, and with FUZZ_PIPELINE_HISTORY=FILE every input
 * since the last rebuild is kept in FILE (a mapped file, so it survives the
 * crash). FUZZ_PIPELINE_REPLAY=FILE replays such a file at start-up, input
 * by input, and exits 0 if nothing fired. scripts/fuzz.sh keeps the history
 * next to every crash and prints the command that replays it.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_random.h>
#include <rte_ring.h>

#include "fuzz_common.h"

#include "config.h"
#include "ctl.h"
#include "dp.h"
#include "flow.h"
#include "nat.h"
#include "neigh.h"
#include "pkt.h"
#include "policy.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#endif
#endif
#ifndef ASAN_POISON_MEMORY_REGION
#define ASAN_POISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#define ASAN_UNPOISON_MEMORY_REGION(addr, size) ((void)(addr), (void)(size))
#endif

/* not RTE_IPV4(): in DPDK 22.11 it shifts an int into the sign bit (UB) */
#define IP(a, b, c, d) \
	RTE_BE32((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

#define HDR_LEN      4
#define WORKERS      2
#define FRAME_MAX    2048          /* the mbuf data room */
#define RESET_EVERY  1000          /* inputs between two rebuilds of the state */
#define FLOWS_MAX    256           /* per worker */
#define EMBRYONIC    48            /* both workers: 24 each */
#define NAT_LO       1024
#define NAT_HI       1087          /* 32 ports per worker x 2 addresses, per destination */
#define RECENT       16
#define T0           1000000u      /* ms */
#define RAND_SEED    0x5eed

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
	0, 1, 10, 1000, 30000,
	121000,     /* past TIME_WAIT (120 s) */
	241000,     /* past the transitory timeout (240 s) */
	7441000,    /* past the established timeout (7440 s) */
};

/* Address tables of mode 1, per receiving port. */
static const uint32_t in_src[] = {
	CLIENT, IP(10, 8, 0, 3), IP(10, 8, 255, 254), IP(10, 9, 0, 1), INSIDE_ADDR,
	NAT_ADDR, IP(192, 0, 2, 1),
};
static const uint32_t in_dst[] = {
	REDIS, IP(10, 59, 118, 60), IP(192, 0, 2, 53), IP(198, 51, 100, 7), INSIDE_ADDR,
	NAT_ADDR, IP(224, 0, 0, 1), IP(255, 255, 255, 255), CLIENT, IP(8, 8, 8, 8),
	IP(10, 8, 255, 255),
};
static const uint32_t out_src[] = {
	REDIS, IP(10, 59, 118, 61), IP(10, 59, 118, 62), IP(192, 0, 2, 53),
	IP(198, 51, 100, 7), GATEWAY, NAT_ADDR, IP(8, 8, 8, 8), CLIENT,
};
static const uint32_t out_dst[] = {
	NAT_ADDR, NAT_ADDR2, IP(203, 0, 113, 12), GATEWAY, IP(255, 255, 255, 255),
	IP(203, 0, 113, 255), CLIENT,
};

/*
 * The policy: the Memorystore entry, a STATIC entry with weighted endpoints
 * and port mapping (DNAT), a UDP entry and a CIDR entry; DestinationRules
 * with connection caps, a connect timeout and load-balancing modes.
 */
static const char policy_yaml[] =
	"apiVersion: networking.istio.io/v1alpha3\n"
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
	struct flow_key client;   /* inside, as the client sent it */
	struct flow_key nat;      /* outside, as forwarded: NAT -> server */
};

/* Frame offsets found by the harness's own minimal parse. */
struct layout {
	uint32_t l2;              /* 0: not IPv4 */
	uint32_t ihl;
	uint32_t ip_len;          /* total length, when within the buffer, else 0 */
	uint8_t proto;
	bool arp;
};

struct history {
	uint32_t magic;
	uint32_t count;
	uint64_t used;            /* bytes of records after the header */
};
#define HISTORY_MAGIC 0x45474648u /* "EGFH" */
#define HISTORY_SIZE  ((size_t)RESET_EVERY * (HDR_LEN + FRAME_MAX + 4) + sizeof(struct history))

static struct {
	struct rte_mempool *pool;
	struct egress_config cfg;
	struct dp_conf conf;
	struct dp_worker w[WORKERS];
	struct policy *pol[4];
	uint32_t generation;      /* of the last publish() */
	uint64_t now;
	uint64_t runs;
	struct recent recent[RECENT];
	unsigned int recent_next;
	bool poison;              /* the input mbuf's tailroom is poisoned */
	bool reparse;             /* pkt_parse() must accept what we emit */
	bool icmp0;               /* ICMP checksum 0x0000 for 0xffff is a finding */
	bool trace;               /* one line per input on stderr */
	bool mdst;                /* output caused by a martian destination is a finding */
	bool sources;             /* audit flows.per_source */
	struct history *hist;     /* NULL: no history kept */
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
		struct ctl c = { .n_workers = WORKERS };

		if (ctl_attach_counters(&c, fz.pol[i]) != 0)
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

	if (fz.conf.policy == p)
		return;
	p->generation = ++fz.generation;
	if (p->cap_count != NULL)
		memset(p->cap_count, 0, sizeof(uint32_t) * WORKERS * p->cap_stride);
	if (p->target_active != NULL)
		memset(p->target_active, 0, sizeof(uint32_t) * WORKERS * p->target_stride);
	if (p->rule_flows != NULL)
		memset(p->rule_flows, 0, sizeof(uint64_t) * WORKERS * p->rule_stride);
	__atomic_store_n(&fz.conf.policy, p, __ATOMIC_RELEASE);
}

static void
state_free(void)
{
	unsigned int i;

	for (i = 0; i < WORKERS; i++) {
		flow_table_free(fz.w[i].flows);
		rte_free(fz.w[i].emb_fifo);
		rte_hash_free(fz.w[i].sources);
		rte_free(fz.w[i].source);
		rte_ring_free(fz.conf.handoff[i]);
		fz.w[i].flows = NULL;
		fz.w[i].emb_fifo = NULL;
		fz.conf.handoff[i] = NULL;
	}
	neigh_free(fz.conf.port[DP_INSIDE].neigh);
	neigh_free(fz.conf.port[DP_OUTSIDE].neigh);
	rte_ring_free(fz.conf.events);
	fz.conf.port[DP_INSIDE].neigh = NULL;
	fz.conf.port[DP_OUTSIDE].neigh = NULL;
	fz.conf.events = NULL;
}

/* One worker as egressd sets it up (app/egressd/main.c). */
static void
worker_init(unsigned int id)
{
	struct dp_worker *w = &fz.w[id];
	struct flow_table_params fp = { .max_flows = FLOWS_MAX, .socket_id = SOCKET_ID_ANY };
	struct rte_hash_parameters hp = {
		.entries = FLOWS_MAX, .key_len = sizeof(uint32_t), .hash_func = rte_hash_crc,
		.socket_id = SOCKET_ID_ANY,
	};
	char name[32];
	uint16_t lo, hi;

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->conf = &fz.conf;
	w->pool = fz.pool;
	w->rst_tokens = DP_RST_RATE;
	w->rst_last_ms = T0;
	w->flows = flow_table_create(&fp);
	w->emb_mask = rte_align32pow2(2 * RTE_MAX(fz.conf.embryonic_max, 1u)) - 1;
	w->emb_fifo = rte_zmalloc("fzemb", sizeof(uint64_t) * (w->emb_mask + 1), 0);
	snprintf(name, sizeof(name), "fzsrc%u", id);
	hp.name = name;
	w->sources = rte_hash_create(&hp);
	w->source = rte_zmalloc("fzsrc", sizeof(struct dp_source) * FLOWS_MAX, 0);
	snprintf(name, sizeof(name), "fzho%u", id);
	fz.conf.handoff[id] = rte_ring_create(name, 64, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (w->flows == NULL || w->emb_fifo == NULL || fz.conf.handoff[id] == NULL ||
	    w->sources == NULL || w->source == NULL ||
	    nat_range_split(NAT_LO, NAT_HI, WORKERS, id, &lo, &hi) != 0) {
		fprintf(stderr, "fuzz_pipeline: cannot set up worker %u: %s\n", id,
			rte_strerror(rte_errno));
		abort();
	}
	w->nat = (struct nat_range){ .addrs = fz.conf.nat_addrs, .n_addrs = fz.conf.n_nat_addrs,
				     .port_lo = lo, .port_hi = hi };
}

/* Build the workers' state from scratch, always the same way. */
static void
state_reset(void)
{
	unsigned int i;

	state_free();
	memset(&fz.conf, 0, sizeof(fz.conf));
	dp_conf_from_config(&fz.conf, &fz.cfg);
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
	fz.conf.policy = NULL;
	fz.generation = 0;
	publish(0);
	for (i = 0; i < WORKERS; i++)
		worker_init(i);
	fz.now = T0;
	memset(fz.recent, 0, sizeof(fz.recent));
	fz.recent_next = 0;
	rte_srand(RAND_SEED);
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
	uint32_t len;

	/* bytes past one frame are never read: not worth keeping */
	size = RTE_MIN(size, (size_t)(HDR_LEN + FRAME_MAX));
	len = (uint32_t)size;

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
	fz.pool = rte_pktmbuf_pool_create("fzpool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
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
	fz.cfg.port[DP_OUTSIDE].mtu = 1400;   /* smaller: MTU_EXCEEDED is reachable */
	fz.cfg.nat_addrs[0] = NAT_ADDR;
	fz.cfg.nat_addrs[1] = NAT_ADDR2;
	fz.cfg.n_nat_addrs = 2;
	fz.cfg.nat_port_lo = NAT_LO;
	fz.cfg.nat_port_hi = NAT_HI;
	fz.cfg.mss_clamp = 1360;
	fz.cfg.deny = EGRESS_DENY_RESET;
	fz.cfg.on_revoke = EGRESS_REVOKE_RESET;
	fz.cfg.flows_max = FLOWS_MAX;
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
set_tuple(uint8_t *f, uint32_t len, const struct layout *l, const struct flow_key *k,
	  bool ports)
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

/* Apply byte 1 and 2 of the header to the frame copy. */
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
				.src_ip = r->nat.dst_ip, .dst_ip = r->nat.src_ip,
				.src_port = r->nat.dst_port, .dst_port = r->nat.src_port,
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
	FUZZ_CHECK(len >= 14 && len <= FRAME_MAX, "emitted %u bytes", len);
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
			   "left on the outside from %08x, not a NAT address", rte_be_to_cpu_32(src));
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

/* Every live flow of worker w against its table and its counters. */
static void
audit(const struct dp_worker *w)
{
	const struct policy *pol = fz.conf.policy;
	uint32_t i, cap = flow_table_capacity(w->flows), live = 0, emb = 0;
	static uint32_t caps[FLOWS_MAX], targets[FLOWS_MAX];
	static struct {
		uint32_t ip;
		uint32_t flows;
	} clients[FLOWS_MAX];
	uint32_t n_clients = 0, j;

	memset(caps, 0, sizeof(caps));
	memset(targets, 0, sizeof(targets));
	for (i = 0; i < cap; i++) {
		const struct flow *f = flow_table_at(w->flows, i);
		const struct flow_key *o, *n;
		uint8_t dir;
		uint16_t port;

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
		FUZZ_CHECK(n->dst_ip == NAT_ADDR || n->dst_ip == NAT_ADDR2,
			   "worker %u flow %u NATed to %08x", w->id, i, rte_be_to_cpu_32(n->dst_ip));
		port = rte_be_to_cpu_16(n->dst_port);
		FUZZ_CHECK(port >= w->nat.port_lo && port <= w->nat.port_hi,
			   "worker %u flow %u NAT port %u outside its share %u-%u", w->id, i, port,
			   w->nat.port_lo, w->nat.port_hi);
		FUZZ_CHECK(n->proto == o->proto, "flow %u proto %u/%u", i, o->proto, n->proto);
		FUZZ_CHECK(f->state < FLOW_S_MAX, "flow %u state %u", i, f->state);
		FUZZ_CHECK(!f->embryonic || f->state == FLOW_S_SYN_SENT ||
				   f->state == FLOW_S_SYN_RCVD,
			   "flow %u embryonic in state %u", i, f->state);
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

			if (r->cap_id != POLICY_NO_CAP && r->cap_id < FLOWS_MAX)
				caps[r->cap_id]++;
			if (r->n_targets > 0 && r->first_target + f->target < FLOWS_MAX)
				targets[r->first_target + f->target]++;
		}
	}
	FUZZ_CHECK(live == flow_table_count(w->flows), "worker %u: %u live flows, count says %u",
		   w->id, live, flow_table_count(w->flows));
	FUZZ_CHECK(emb == w->embryonic, "worker %u: %u embryonic flows, counter says %u", w->id,
		   emb, w->embryonic);
	FUZZ_CHECK(emb <= fz.conf.embryonic_max, "worker %u: %u embryonic flows, cap %u", w->id,
		   emb, fz.conf.embryonic_max);
	for (j = 0; fz.sources && j < n_clients; j++) {
		int pos = rte_hash_lookup(w->sources, &clients[j].ip);

		FUZZ_CHECK(pos >= 0 && w->source[pos].flows == clients[j].flows,
			   "worker %u: client %08x has %u flows, flows.per_source counts %d",
			   w->id, rte_be_to_cpu_32(clients[j].ip), clients[j].flows,
			   pos >= 0 ? (int)w->source[pos].flows : -1);
	}
	FUZZ_CHECK(!fz.sources || rte_hash_count(w->sources) == (int32_t)n_clients,
		   "worker %u: flows.per_source tracks %d clients, %u have flows", w->id,
		   rte_hash_count(w->sources), n_clients);
	for (j = 0; pol->cap_count != NULL && j < pol->n_caps && j < FLOWS_MAX; j++)
		FUZZ_CHECK(pol->cap_count[w->id * pol->cap_stride + j] == caps[j],
			   "worker %u: maxConnections cap %u counts %u flows, the table has %u",
			   w->id, j, pol->cap_count[w->id * pol->cap_stride + j], caps[j]);
	for (j = 0; pol->target_active != NULL && j < pol->n_targets && j < FLOWS_MAX; j++)
		FUZZ_CHECK(pol->target_active[w->id * pol->target_stride + j] == targets[j],
			   "worker %u: target %u counts %u flows, the table has %u", w->id, j,
			   pol->target_active[w->id * pol->target_stride + j], targets[j]);
}

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

/*
 * Check every frame in out, remember the 5-tuples of client frames that went
 * out (client: the input's tuple, NULL when it was not a client frame), free.
 */
static void
check_and_free(struct dp_out *out, bool honest, const struct flow_key *client)
{
	unsigned int p, i;

	for (p = 0; p < DP_NPORTS; p++) {
		for (i = 0; i < out->n[p]; i++) {
			struct rte_mbuf *o = out->pkts[p][i];
			struct flow_key k;

			check_emitted((enum dp_port)p, o, honest);
			if (p == DP_OUTSIDE && client != NULL &&
			    tuple_of(rte_pktmbuf_mtod(o, const uint8_t *),
				     rte_pktmbuf_data_len(o), &k)) {
				struct recent *r = &fz.recent[fz.recent_next++ % RECENT];

				r->valid = true;
				r->client = *client;
				r->nat = k;
			}
			rte_pktmbuf_free(o);
		}
		out->n[p] = 0;
	}
}

/* Counters summed over the workers: a handed-off frame is counted by its owner. */
struct totals {
	uint64_t drops;
	uint64_t dropped;
	uint64_t rx;
};

static struct totals
totals(enum dp_port in)
{
	struct totals t = { 0 };
	unsigned int w, i;

	for (w = 0; w < WORKERS; w++) {
		for (i = 0; i < EGRESS_DROP_MAX; i++)
			t.drops += fz.w[w].stats.drops[i];
		t.dropped += fz.w[w].stats.port[in].dropped;
		t.rx += fz.w[w].stats.port[in].rx;
	}
	return t;
}

/*
 * What dp_worker_main() does with its handoff ring: process the outside
 * frames another worker passed, as its own RX. @return frames emitted.
 */
static uint32_t
run_handoffs(bool honest)
{
	struct rte_mbuf *pkts[DP_BURST_MAX];
	struct dp_out out;
	uint32_t emitted = 0;
	unsigned int w, n;

	for (w = 0; w < WORKERS; w++) {
		n = rte_ring_sc_dequeue_burst(fz.conf.handoff[w], (void **)pkts, DP_BURST_MAX,
					      NULL);
		if (n == 0)
			continue;
		memset(&out, 0, sizeof(out));
		emitted += dp_process(&fz.w[w], DP_OUTSIDE, pkts, (uint16_t)n, fz.now, &out);
		check_and_free(&out, honest, NULL);
	}
	for (w = 0; w < WORKERS; w++)
		FUZZ_CHECK(rte_ring_count(fz.conf.handoff[w]) == 0,
			   "worker %u handed a frame off again", w);
	return emitted;
}

/* FUZZ_PIPELINE_TRACE: the input and its fate, given the counters before. */
static void
trace(const uint64_t (*drops0)[EGRESS_DROP_MAX], enum dp_port in, unsigned int wid,
      const uint8_t *f, uint32_t len, uint32_t emitted)
{
	struct flow_key k = { 0 };
	unsigned int w, i;

	(void)tuple_of(f, len, &k);
	fprintf(stderr, "fuzz_pipeline: #%" PRIu64 " t=%" PRIu64 " %s w%u %u bytes %08x:%u > "
		"%08x:%u/%u: emitted %u", fz.runs - 1, fz.now,
		in == DP_INSIDE ? "inside" : "outside", wid, len, rte_be_to_cpu_32(k.src_ip),
		rte_be_to_cpu_16(k.src_port), rte_be_to_cpu_32(k.dst_ip),
		rte_be_to_cpu_16(k.dst_port), k.proto, emitted);
	for (w = 0; w < WORKERS; w++)
		for (i = 0; i < EGRESS_DROP_MAX; i++)
			if (fz.w[w].stats.drops[i] != drops0[w][i])
				fprintf(stderr, ", w%u dropped %s", w,
					egress_drop_name((enum egress_drop)i));
	fprintf(stderr, "; flows %u+%u\n", flow_table_count(fz.w[0].flows),
		flow_table_count(fz.w[1].flows));
}

/* ------------------------------------------------------------ one input */

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t frame[FRAME_MAX];
	static uint64_t drops0[WORKERS][EGRESS_DROP_MAX];
	struct dp_out out;
	struct rte_mbuf *m;
	enum dp_port in;
	struct layout l;
	struct flow_key client;
	struct dp_worker *w;
	struct totals t0, t1;
	uint8_t c0, c1, c3, sel, *poison_at = NULL;
	uint32_t len, poison_len = 0, emitted, p;
	bool honest, have_client, handed;
	uint16_t n;

	if (fz.runs++ % RESET_EVERY == 0)
		state_reset();
	history_add(data, size);
	if (size < HDR_LEN)
		return 0;
	c0 = data[0];
	c1 = data[1];
	sel = data[2];
	c3 = data[3];
	len = (uint32_t)RTE_MIN(size - HDR_LEN, (size_t)FRAME_MAX);

	in = (c0 & 1) ? DP_OUTSIDE : DP_INSIDE;
	w = &fz.w[c3 & 1];
	fz.now += steps_ms[(c0 >> 1) & 7];
	publish((c0 >> 4) & 3);
	fz.conf.port[in].parse_flags = (c0 & 0x80) ? PKT_F_ALLOW_VLAN : 0;
	fz.conf.deny = (c1 & 0x80) ? EGRESS_DENY_DROP : EGRESS_DENY_RESET;
	fz.conf.tcp_liberal = (c3 & 2) != 0;
	fz.conf.source_max = (c3 & 4) ? 6 : 0;
	fz.conf.source_rate = (c3 & 4) ? 10 : 0;
	for (p = 0; p < WORKERS; p++)
		fz.w[p].nat.preserve = (c1 & 0x40) != 0;

	memcpy(frame, data + HDR_LEN, len);
	shape_frame(frame, len, in, c1, sel);
	l = layout_of(frame, len);
	honest = checksums_right(frame, &l);
	have_client = in == DP_INSIDE && tuple_of(frame, len, &client);

	m = rte_pktmbuf_alloc(fz.pool);
	FUZZ_CHECK(m != NULL, "mempool empty: %u mbufs in use",
		   rte_mempool_in_use_count(fz.pool));
	if (len > 0) {
		uint8_t *dst = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);

		FUZZ_CHECK(dst != NULL, "no room for %u bytes", len);
		memcpy(dst, frame, len);
	}
	switch ((c1 >> 2) & 3) {
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
	if (fz.poison) {
		/* a frame shorter than 60 bytes may leave padded in place: the
		 * first 60 bytes stay writable */
		uint32_t from = RTE_MAX(len, 60u);

		poison_at = rte_pktmbuf_mtod_offset(m, uint8_t *, from);
		poison_len = rte_pktmbuf_tailroom(m) - (from - len);
		ASAN_POISON_MEMORY_REGION(poison_at, poison_len);
	}

	t0 = totals(in);
	if (fz.trace)
		for (p = 0; p < WORKERS; p++)
			memcpy(drops0[p], fz.w[p].stats.drops, sizeof(drops0[p]));
	memset(&out, 0, sizeof(out));
	n = dp_process(w, in, &m, 1, fz.now, &out);
	/* a frame handed off stays poisoned until its owner has run; any other
	 * is unpoisoned before it is freed and its mbuf reused for a new frame */
	handed = false;
	for (p = 0; p < WORKERS; p++)
		handed |= rte_ring_count(fz.conf.handoff[p]) > 0;
	if (poison_at != NULL && !handed)
		ASAN_UNPOISON_MEMORY_REGION(poison_at, poison_len);

	emitted = 0;
	for (p = 0; p < DP_NPORTS; p++)
		emitted += out.n[p];
	FUZZ_CHECK(n == emitted, "dp_process returned %u, emitted %u", n, emitted);
	FUZZ_CHECK(!handed || emitted == 0, "handed off and emitted %u", emitted);
	check_and_free(&out, honest, have_client ? &client : NULL);
	emitted += run_handoffs(honest);
	if (poison_at != NULL && handed)
		ASAN_UNPOISON_MEMORY_REGION(poison_at, poison_len);
	t1 = totals(in);
	if (fz.trace)
		trace((const uint64_t(*)[EGRESS_DROP_MAX])drops0, in, w->id, frame, len, emitted);
	FUZZ_CHECK(emitted <= 2, "one frame caused %u", emitted);
	FUZZ_CHECK(t1.rx - t0.rx == 1, "rx counted %" PRIu64 " times", t1.rx - t0.rx);
	FUZZ_CHECK(t1.drops - t0.drops <= 1, "one frame counted under %" PRIu64 " reasons",
		   t1.drops - t0.drops);
	FUZZ_CHECK(t1.dropped - t0.dropped == t1.drops - t0.drops,
		   "port dropped +%" PRIu64 ", drop reasons +%" PRIu64, t1.dropped - t0.dropped,
		   t1.drops - t0.drops);
	FUZZ_CHECK(emitted > 0 || t1.drops > t0.drops || l.arp,
		   "frame neither emitted nor counted as dropped");
	if (fz.mdst && l.l2 != 0) {
		uint32_t dst;

		memcpy(&dst, frame + l.l2 + 16, 4);
		FUZZ_CHECK(emitted == 0 || !martian_dst(dst),
			   "a packet to %08x caused %u frames (forwarded, RST or ICMP)",
			   rte_be_to_cpu_32(dst), emitted);
	}
	FUZZ_CHECK(rte_mempool_in_use_count(fz.pool) == 0,
		   "%u mbufs still in use after the frame: leaked or freed twice",
		   rte_mempool_in_use_count(fz.pool));
	drain_events();
	if (c0 & 0x40) {
		/* revoked flows' RSTs are built from scratch: always checked */
		for (p = 0; p < WORKERS; p++) {
			memset(&out, 0, sizeof(out));
			(void)dp_expire(&fz.w[p], fz.now, 64, &out);
			check_and_free(&out, true, NULL);
		}
		FUZZ_CHECK(rte_mempool_in_use_count(fz.pool) == 0,
			   "%u mbufs still in use after dp_expire()",
			   rte_mempool_in_use_count(fz.pool));
		neigh_tick(fz.conf.port[DP_INSIDE].neigh, fz.now, req_noop, NULL);
		neigh_tick(fz.conf.port[DP_OUTSIDE].neigh, fz.now, req_noop, NULL);
		for (p = 0; p < WORKERS; p++)
			audit(&fz.w[p]);
	}
	return 0;
}
