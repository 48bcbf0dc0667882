/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench-pipeline: the packet pipeline alone, on one core, without a PMD.
 *
 * Builds the worker as egressd does (its config file, ctl_dp_conf(), static
 * neighbours, QSBR, dp_worker_create(), ctl_publish() of the policy and its
 * counters), then replays captures through dp_process() in bursts of 32,
 * inside and outside in turn as the poll loop reads them. Each burst is
 * copied into fresh mbufs before the clock starts (as net_pcap's RX copies
 * it), and what dp_process() emits is freed after the clock stops: the
 * figures are the pipeline's own cycles, without RX, TX or the sweep
 * (scripts/bench.sh measures those, and divides by testpmd).
 *
 * Why it exists: bench.sh shares the machine's two cores between the
 * worker, the main lcore and anything else running, so its run-to-run
 * spread is wider than the differences a change to the data path makes.
 * Here every burst is timed on its own and the median and minimum over
 * tens of thousands of bursts are reported: a preempted burst moves
 * neither. Compare builds with it before believing a bench.sh difference.
 *
 * Usage: bench-pipeline [EAL options] -- -c CONFIG --in PCAP [--out PCAP]
 *                       [--bursts N] [--once] [--sweep]
 *   -c CONFIG   an egressd config (scripts/bench.sh writes one per row, with
 *               static neighbours for every client)
 *   --in PCAP   inside frames; --out PCAP outside frames (optional)
 *   --bursts N  bursts timed per port after one warm-up pass (100000)
 *   --once      read each capture once, in order, and stop (a read-once SYN
 *               storm: every frame a new flow); figures then cover all
 *   --sweep     run the aging sweep (dp_sweep()) after each burst, untimed,
 *               as the poll loop does: its cache misses then weigh on the
 *               bursts as they do in egressd
 * Prints one line: bursts, frames, cycles/pkt median, p10, p90, min, the
 * mean over all (preempted bursts included), flows created, the drops by
 * reason and, with --once, the new flows/s the pipeline alone sustains at
 * the median burst's cycles per frame and the TSC's rate.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "config.h"
#include "ctl.h"
#include "diag.h"
#include "dp.h"
#include "neigh.h"
#include "policy_build.h"

#define BURST 32

struct capture {
	uint8_t **frame;
	uint16_t *len;
	size_t n;
};

static void
die(const char *what)
{
	fprintf(stderr, "bench-pipeline: %s\n", what);
	exit(1);
}

/* The frames of a classic pcap file (either byte order, any link type's
 * bytes taken as Ethernet), each at most 2048 bytes. */
static void
read_pcap(const char *path, struct capture *c)
{
	uint32_t gh[6], rh[4];
	size_t cap = 0;
	bool swap;
	FILE *f = fopen(path, "rb");

	if (f == NULL || fread(gh, sizeof(gh), 1, f) != 1)
		die("cannot read the capture's header");
	if (gh[0] != 0xa1b2c3d4 && gh[0] != 0xd4c3b2a1 && gh[0] != 0xa1b23c4d &&
	    gh[0] != 0x4d3cb2a1)
		die("not a pcap file");
	swap = gh[0] == 0xd4c3b2a1 || gh[0] == 0x4d3cb2a1;
	memset(c, 0, sizeof(*c));
	while (fread(rh, sizeof(rh), 1, f) == 1) {
		uint32_t len = swap ? __builtin_bswap32(rh[2]) : rh[2];

		if (len > 2048)
			die("a frame over 2048 bytes");
		if (c->n == cap) {
			cap = cap ? cap * 2 : 4096;
			c->frame = realloc(c->frame, cap * sizeof(*c->frame));
			c->len = realloc(c->len, cap * sizeof(*c->len));
			if (c->frame == NULL || c->len == NULL)
				die("out of memory");
		}
		c->frame[c->n] = malloc(len);
		if (c->frame[c->n] == NULL || fread(c->frame[c->n], len, 1, f) != 1)
			die("a truncated frame");
		c->len[c->n++] = (uint16_t)len;
	}
	fclose(f);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct run {
	struct dp_worker *w;
	bool sweep; /* dp_sweep() after each burst, untimed, as the loop does */
	struct rte_mempool *pool;
	uint64_t *cyc; /* per burst: cycles per frame, x100 */
	size_t n_cyc, cap_cyc;
	uint64_t cycles, frames;
};

/* One burst of c from *at (wrapping unless once): copied, timed, freed. */
static bool
one_burst(struct run *r, enum dp_port port, const struct capture *c, size_t *at, bool once,
	  bool timed)
{
	struct rte_mbuf *m[BURST];
	struct dp_out out;
	uint64_t t0, t;
	unsigned int i, n = BURST, p;

	if (c->n == 0 || (once && *at >= c->n))
		return false;
	if (once && c->n - *at < n)
		n = (unsigned int)(c->n - *at);
	if (rte_pktmbuf_alloc_bulk(r->pool, m, n) != 0)
		die("mbuf pool empty");
	for (i = 0; i < n; i++) {
		size_t k = (*at + i) % c->n;

		memcpy(rte_pktmbuf_mtod(m[i], void *), c->frame[k], c->len[k]);
		m[i]->data_len = m[i]->pkt_len = c->len[k];
		m[i]->port = (uint16_t)port;
	}
	*at = (*at + n) % (once ? SIZE_MAX : c->n);
	memset(&out, 0, sizeof(out));
	t0 = rte_rdtsc_precise();
	dp_process(r->w, port, m, (uint16_t)n, rte_get_tsc_cycles() / (rte_get_tsc_hz() / 1000),
		   &out);
	t = rte_rdtsc_precise() - t0;
	for (p = 0; p < DP_NPORTS; p++)
		rte_pktmbuf_free_bulk(out.pkts[p], out.n[p]);
	if (r->sweep) {
		memset(&out, 0, sizeof(out));
		dp_sweep(r->w, rte_get_tsc_cycles() / (rte_get_tsc_hz() / 1000), &out);
		for (p = 0; p < DP_NPORTS; p++)
			rte_pktmbuf_free_bulk(out.pkts[p], out.n[p]);
	}
	dp_worker_quiesce(r->w);
	if (!timed)
		return true;
	if (r->n_cyc == r->cap_cyc) {
		r->cap_cyc = r->cap_cyc ? r->cap_cyc * 2 : 65536;
		r->cyc = realloc(r->cyc, r->cap_cyc * sizeof(*r->cyc));
		if (r->cyc == NULL)
			die("out of memory");
	}
	r->cyc[r->n_cyc++] = t * 100 / n;
	r->cycles += t;
	r->frames += n;
	return true;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "in", required_argument, NULL, 'i' },     { "out", required_argument, NULL, 'o' },
		{ "bursts", required_argument, NULL, 'b' }, { "once", no_argument, NULL, '1' },
		{ "sweep", no_argument, NULL, 's' },        { NULL, 0, NULL, 0 },
	};
	const char *conf_path = NULL, *in_path = NULL, *out_path = NULL;
	struct capture cin = { 0 }, cout = { 0 };
	struct egress_config cfg;
	struct diag_list dl = { 0 };
	struct dp_conf conf;
	struct dp_worker *workers[1];
	struct ctl ctl;
	struct policy *pol;
	struct run r = { 0 };
	unsigned long bursts = 100000, b;
	size_t at_in = 0, at_out = 0;
	bool once = false;
	unsigned int p, k;
	int ret, opt;

	ret = rte_eal_init(argc, argv);
	if (ret < 0)
		die(rte_strerror(rte_errno));
	argc -= ret;
	argv += ret;
	while ((opt = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			conf_path = optarg;
			break;
		case 'i':
			in_path = optarg;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'b':
			bursts = strtoul(optarg, NULL, 10);
			break;
		case '1':
			once = true;
			break;
		case 's':
			r.sweep = true;
			break;
		default:
			die("usage: bench-pipeline [EAL] -- -c CONFIG --in PCAP [--out PCAP] "
			    "[--bursts N] [--once] [--sweep]");
		}
	}
	if (conf_path == NULL || in_path == NULL)
		die("-c CONFIG and --in PCAP are needed");
	read_pcap(in_path, &cin);
	if (out_path != NULL)
		read_pcap(out_path, &cout);

	memset(&cfg, 0, sizeof(cfg));
	if (egress_config_load(conf_path, &cfg, &dl) != 0) {
		diag_print(&dl, stderr);
		die("bad config");
	}
	cfg.workers = 1;
	memset(&conf, 0, sizeof(conf));
	ctl_dp_conf(&conf, &cfg);
	r.pool = rte_pktmbuf_pool_create("bench_pool", 65535, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					 (int)rte_socket_id());
	if (r.pool == NULL)
		die("no mbuf pool (memory: -m, hugepages)");
	for (p = 0; p < DP_NPORTS; p++) {
		const struct capture *c = p == DP_INSIDE ? &cin : &cout;
		static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 2 };

		/* the port's address: where the capture's frames go */
		conf.port[p].port_id = (uint16_t)p;
		memcpy(conf.port[p].mac, c->n > 0 ? c->frame[0] : mac, 6);
		conf.port[p].neigh = neigh_create(p == DP_INSIDE ? "b_neigh_in" : "b_neigh_out",
						  4096, (int)rte_socket_id());
		if (conf.port[p].neigh == NULL)
			die("no neighbour table");
		for (k = 0; k < cfg.port[p].n_neighbors; k++)
			neigh_add_static(conf.port[p].neigh, cfg.port[p].neighbors[k].ip,
					 cfg.port[p].neighbors[k].mac);
	}
	conf.events = rte_ring_create_elem("b_events", sizeof(struct dp_event), 1024,
					   (int)rte_socket_id(), RING_F_SC_DEQ);
	{
		struct dp_worker_params wp = {
			.id = 0,
			.conf = &conf,
			.pool = r.pool,
			.qsbr = dp_qsbr_create(1, (int)rte_socket_id()),
			.max_flows = RTE_MAX(cfg.flows_max, 1024u),
			.socket_id = (int)rte_socket_id(),
		};

		if (conf.events == NULL || wp.qsbr == NULL)
			die("no control state");
		for (p = 0; p < DP_NPORTS; p++)
			if (neigh_rcu_qsbr_add(conf.port[p].neigh, wp.qsbr) != 0)
				die("neighbour QSBR");
		r.w = workers[0] = dp_worker_create(&wp);
		if (r.w == NULL)
			die("cannot create the worker (flows.max, memory)");
		pol = policy_build(&cfg, 1, &dl);
		if (pol == NULL) {
			diag_print(&dl, stderr);
			die("bad policy");
		}
		ctl = (struct ctl){
			.cfg = &cfg,
			.conf = &conf,
			.workers = workers,
			.n_workers = 1,
			.qsbr = wp.qsbr,
			.pool = r.pool,
		};
	}
	if (ctl_publish(&ctl, pol) != 0)
		die("cannot publish the policy");
	dp_worker_online(r.w);

	if (once) {
		while (one_burst(&r, DP_INSIDE, &cin, &at_in, true, true) |
		       one_burst(&r, DP_OUTSIDE, &cout, &at_out, true, true))
			;
	} else {
		/* one pass of each capture first: the flows' handshakes */
		for (b = 0; b < (cin.n + BURST - 1) / BURST || b < (cout.n + BURST - 1) / BURST;
		     b++) {
			one_burst(&r, DP_INSIDE, &cin, &at_in, false, false);
			one_burst(&r, DP_OUTSIDE, &cout, &at_out, false, false);
		}
		for (b = 0; b < bursts; b++) {
			one_burst(&r, DP_INSIDE, &cin, &at_in, false, true);
			one_burst(&r, DP_OUTSIDE, &cout, &at_out, false, true);
		}
	}
	if (r.n_cyc == 0)
		die("nothing timed");
	qsort(r.cyc, r.n_cyc, sizeof(*r.cyc), cmp_u64);
	{
		const struct dp_stats *st = dp_worker_stats(r.w);
		double mean = (double)r.cycles / (double)r.frames;

		printf("bursts %zu frames %" PRIu64
		       " cycles/pkt median %.1f p10 %.1f p90 %.1f min %.1f mean %.1f"
		       " flows_created %" PRIu64,
		       r.n_cyc, r.frames, r.cyc[r.n_cyc / 2] / 100.0, r.cyc[r.n_cyc / 10] / 100.0,
		       r.cyc[r.n_cyc * 9 / 10] / 100.0, r.cyc[0] / 100.0, mean, st->flows_created);
		for (k = 0; k < EGRESS_DROP_MAX; k++)
			if (st->drops[k] != 0)
				printf(" drop:%s %" PRIu64, egress_drop_name(k), st->drops[k]);
		/* at the median burst's cost: preempted bursts left out */
		if (once)
			printf(" new_flows/s %.2fM",
			       (double)rte_get_tsc_hz() * 100 / (double)r.cyc[r.n_cyc / 2] / 1e6);
		printf("\n");
	}
	dp_worker_offline(r.w);
	return 0;
}
