/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * egressd: the egress gateway appliance.
 *
 *   egressd [EAL options] -- -c FILE [--exit-when-idle MS]
 *   egressd --check -c FILE
 *
 * The main lcore is the control thread; `workers` worker lcores run the
 * poll loop (lib/dp). See doc/operations.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <numa.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "config.h"
#include "ctl.h"
#include "diag.h"
#include "dns.h"
#include "dp.h"
#include "flow.h"
#include "log.h"
#include "flowlog.h"
#include "sync.h"
#include "ctl_nat.h"
#include "metrics.h"
#include "nat.h"
#include "neigh.h"
#include "exception.h"
#include "port.h"
#include "runtime_dir.h"
#include "policy_build.h"
#include "service.h"

EGRESS_LOG_TYPE(app);

#define NEIGH_CAPACITY   4096
#define EVENT_RING_SIZE  4096
#define CTL_TX_RING_SIZE 512
#define CTL_TICK_NS      (1000 * 1000) /* 1 ms */

struct options {
	const char *config;
	bool check;
	long exit_when_idle_ms; /* < 0: never */
	unsigned long mbufs;    /* 0: sized from the queues */
	const char *api_socket; /* NULL: the config's api.socket */
};

static volatile sig_atomic_t got_stop;
static volatile sig_atomic_t got_hup;
static volatile sig_atomic_t got_usr1; /* reopen the flow log (logrotate) */

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_stop = 1;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: egressd [EAL options] -- -c FILE [--exit-when-idle MS]\n"
		"       egressd --check -c FILE\n"
		"  -c, --config FILE       appliance config (doc/configuration.md)\n"
		"      --check             load, validate and compile; print the allowlist\n"
		"      --exit-when-idle MS exit once every RX queue was empty for MS ms\n"
		"      --api-socket PATH   egressctl's socket instead of the config's api.socket\n"
		"      --mbufs N           mbufs in the packet pool (default: sized from the\n"
		"                          queues; a pcap replay holds its capture in it)\n"
		"  -h, --help              this text\n");
}

/* @return 0; 1 when --help was shown; -1 after printing what is wrong. */
static int
parse_app_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "exit-when-idle", required_argument, NULL, 'i' },
		{ "mbufs", required_argument, NULL, 'm' },
		{ "api-socket", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			o->config = optarg;
			break;
		case 'k':
			o->check = true;
			break;
		case 'a':
			o->api_socket = optarg;
			break;
		case 'i':
			errno = 0;
			o->exit_when_idle_ms = strtol(optarg, &end, 10);
			if (errno || *end != '\0' || o->exit_when_idle_ms < 0) {
				fprintf(stderr,
					"egressd: --exit-when-idle: not a number of ms: %s\n",
					optarg);
				return -1;
			}
			break;
		case 'm':
			errno = 0;
			o->mbufs = strtoul(optarg, &end, 10);
			if (errno || *end != '\0' || o->mbufs == 0 || o->mbufs > (1ul << 31)) {
				fprintf(stderr, "egressd: --mbufs: not a count: %s\n", optarg);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			return 1; /* shown: the caller exits 0 */
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "egressd: unexpected argument: %s\n", argv[optind]);
		return -1;
	}
	if (o->config == NULL) {
		fprintf(stderr, "egressd: -c FILE is required\n");
		usage(stderr);
		return -1;
	}
	return 0;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --check: no EAL options from the user, no hugepages, no devices, no root. */
static int
run_check(const struct egress_config *cfg, struct diag_list *dl)
{
	char prefix[64];
	struct policy *p;

	snprintf(prefix, sizeof(prefix), "--file-prefix=egressd-check-%d", (int)getpid());
	char *eal_argv[] = {
		"egressd",
		"--no-huge",
		"--no-shconf",
		"--no-pci",
		"--no-telemetry",
		"--log-level=*:error",
		"-m",
		"128",
		"-l",
		"0",
		prefix,
		NULL,
	};
	if (rte_eal_init((int)RTE_DIM(eal_argv) - 1, eal_argv) < 0) {
		fprintf(stderr, "egressd: cannot start DPDK for --check: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	egress_runtime_dir_rm_at_exit();
	{
		/* names are resolved here and now, in this thread: no resolver thread */
		struct dns_params dp = { .background = false };
		struct dns_cache *dns = dns_cache_create(&dp);
		struct policy_build_params prm = {
			.cfg = cfg,
			.generation = 1,
			.dns = dns,
			.dns_wait = true,
			.now_ms = mono_ms(),
		};

		p = policy_build_ex(&prm, dl);
		if (dns != NULL)
			dns_drain_diags(dns, dl);
		diag_print(dl, stderr);
		if (p != NULL)
			policy_print(p, stdout);
		policy_free(p);
		dns_cache_free(dns);
	}
	rte_eal_cleanup();
	return p == NULL ? 1 : 0;
}

struct appliance {
	struct egress_config cfg;
	struct dp_conf conf;
	struct ctl ctl;
	struct dp_worker *workers[RTE_MAX_LCORE];
	unsigned int n_workers;
	struct rte_mempool *pool;
	struct rte_rcu_qsbr *qsbr;
	struct dns_cache *dns;
	struct policy *first; /* the first policy until lib/ctl publishes it */
	bool ports_started[DP_NPORTS];
	bool lsc[DP_NPORTS];                /**< the port reports link changes (LSC interrupts) */
	struct ctl_metrics_server *metrics; /* GET /metrics; NULL: off */
	struct ctl_flowlog *flowlog;        /* the flow log's writer; NULL: off */
};

/* GET /metrics when metrics.listen is set; an address that cannot be bound stops the start. */
static int
start_metrics(struct appliance *a)
{
	const struct egress_listen *l = &a->cfg.metrics;
	char host[INET6_ADDRSTRLEN], where[INET6_ADDRSTRLEN + 8];
	int rc;

	if (l->family == 0)
		return 0;
	inet_ntop(l->family, l->addr, host, sizeof(host));
	snprintf(where, sizeof(where), l->family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, l->port);
	rc = ctl_metrics_start(&a->ctl, l, &a->metrics);
	if (rc < 0) {
		EGRESS_LOG(ERR, "metrics.listen %s: %s", where, strerror(-rc));
		return rc;
	}
	EGRESS_LOG(INFO, "metrics on http://%s/metrics", where);
	return 0;
}

static int
setup(struct appliance *a, const struct options *o, struct diag_list *dl)
{
	const struct egress_config *cfg = &a->cfg;
	unsigned int lcore, w, p;
	int socket, rc;
	struct policy *pol;
	const char *why;

	a->n_workers = cfg->workers;
	if (rte_lcore_count() < a->n_workers + 1) {
		EGRESS_LOG(ERR,
			   "workers: %u needs %u lcores (one control + %u workers); "
			   "EAL has %u: pass e.g. -l 0-%u",
			   a->n_workers, a->n_workers + 1, a->n_workers, rte_lcore_count(),
			   a->n_workers);
		return -EINVAL;
	}
	ctl_dp_conf(&a->conf, cfg);
	ctl_nat_log_holes(&a->conf);

	/* the first policy is loaded before anything is started: all or nothing;
	 * its DNS names are resolved once, here, and refreshed in the background */
	{
		struct dns_params dp = { .background = true };
		struct policy_build_params prm = {
			.cfg = cfg,
			.generation = 1,
			.dns_wait = true,
			.now_ms = mono_ms(),
		};

		a->dns = dns_cache_create(&dp);
		if (a->dns == NULL)
			EGRESS_LOG(WARNING, "no DNS resolver thread: "
					    "DNS ServiceEntries admit nothing");
		prm.dns = a->dns;
		pol = policy_build_ex(&prm, dl);
		if (a->dns != NULL)
			dns_drain_diags(a->dns, dl);
	}
	diag_print(dl, stderr);
	if (pol == NULL)
		return -EINVAL;
	a->first = pol;

	for (p = 0; p < DP_NPORTS; p++) {
		rc = port_find(cfg->port[p].device, &a->conf.port[p].port_id);
		if (rc < 0) {
			EGRESS_LOG(ERR, "%s: device \"%s\" not found or not probed: %s", cfg->path,
				   cfg->port[p].device, strerror(-rc));
			port_explain_missing(cfg->port[p].device);
			return rc;
		}
	}
	if (a->conf.port[0].port_id == a->conf.port[1].port_id) {
		EGRESS_LOG(ERR, "%s: inside and outside are the same device", cfg->path);
		return -EINVAL;
	}
	socket = rte_eth_dev_socket_id(a->conf.port[DP_INSIDE].port_id);
	if (socket < 0)
		socket = (int)rte_socket_id();
	if (rte_eth_dev_socket_id(a->conf.port[DP_OUTSIDE].port_id) >= 0 &&
	    rte_eth_dev_socket_id(a->conf.port[DP_OUTSIDE].port_id) != socket)
		EGRESS_LOG(WARNING,
			   "inside and outside ports are on different NUMA sockets "
			   "(%d, %d): every forwarded packet crosses the interconnect",
			   socket, rte_eth_dev_socket_id(a->conf.port[DP_OUTSIDE].port_id));
	if (numa_available() >= 0)
		EGRESS_LOG(INFO, "NUMA: %d node(s); ports on socket %d",
			   numa_num_configured_nodes(), socket);

	{
		unsigned int n_mbufs = a->n_workers * (DP_OUT_MAX + 512) + 4096;

		for (p = 0; p < DP_NPORTS; p++) {
			n_mbufs += a->n_workers *
				   (port_rx_desc(&cfg->port[p]) + port_tx_desc(&cfg->port[p]));
			if (cfg->port[p].exception.tap[0] != '\0')
				n_mbufs += EXC_RING_SIZE + 2 * EXC_DESC;
		}
		if (o->mbufs > n_mbufs)
			n_mbufs = (unsigned int)o->mbufs;
		uint16_t room =
			(uint16_t)RTE_MAX(RTE_MBUF_DEFAULT_BUF_SIZE,
					  RTE_PKTMBUF_HEADROOM + RTE_ETHER_HDR_LEN + 4 +
						  RTE_MAX(cfg->port[0].mtu, cfg->port[1].mtu));

		a->pool = rte_pktmbuf_pool_create("egress_mbufs", n_mbufs, 256, 0, room, socket);
		if (a->pool == NULL) {
			EGRESS_LOG(ERR,
				   "cannot create the mbuf pool (%u mbufs on socket %d): %s "
				   "(more memory: -m, or hugepages)",
				   n_mbufs, socket, rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
	for (p = 0; p < DP_NPORTS; p++) {
		a->conf.port[p].parse_flags = 0;
		rc = port_setup(a->conf.port[p].port_id, &cfg->port[p], a->n_workers, a->pool,
				a->conf.idle_interrupt, &a->conf.port[p], &a->lsc[p]);
		if (rc < 0) {
			EGRESS_LOG(ERR, "%s: cannot start device \"%s\": %s", cfg->path,
				   cfg->port[p].device, strerror(-rc));
			return rc;
		}
		a->ports_started[p] = true;
		a->conf.port[p].neigh = neigh_create(p == DP_INSIDE ? "neigh_in" : "neigh_out",
						     NEIGH_CAPACITY, socket);
		a->conf.tx[p] = rte_ring_create(p == DP_INSIDE ? "ctl_tx_in" : "ctl_tx_out",
						CTL_TX_RING_SIZE, socket, RING_F_SC_DEQ);
		if (a->conf.port[p].neigh == NULL || a->conf.tx[p] == NULL) {
			EGRESS_LOG(ERR, "cannot allocate neighbour state: %s",
				   rte_strerror(rte_errno));
			return -ENOMEM;
		}
		for (w = 0; w < cfg->port[p].n_neighbors; w++)
			neigh_add_static(a->conf.port[p].neigh, cfg->port[p].neighbors[w].ip,
					 cfg->port[p].neighbors[w].mac);
	}
	/* replies on their flow's queue when the outside RSS is known (nat_rss.h) */
	a->conf.rss = nat_rss_from_port(a->conf.port[DP_OUTSIDE].port_id, a->n_workers,
					cfg->nat_port_lo, cfg->nat_port_hi, socket, &why);
	EGRESS_LOG(INFO, "NAT port choice: %s", why);
	if (a->conf.idle_interrupt)
		EGRESS_LOG(INFO,
			   "idle workers wait for RX interrupts: from %u us without a frame, up "
			   "to %" PRIu32 " ms at a time (poll.idle: interrupt)",
			   DP_IDLE_SPIN_US, dp_idle_wait_ms(a->conf.idle_sleep_max_us));
	else if (a->conf.idle_sleep_max_us != 0)
		EGRESS_LOG(INFO,
			   "idle workers back off: they sleep from %u us without a frame, up to "
			   "%" PRIu32 " us at a time (poll.idle: backoff)",
			   DP_IDLE_SPIN_US, a->conf.idle_sleep_max_us);
	else
		EGRESS_LOG(INFO, "idle workers poll on (poll.idle: busy): a core each");
	a->conf.events = rte_ring_create_elem("ctl_events", sizeof(struct dp_event),
					      EVENT_RING_SIZE, socket, RING_F_SC_DEQ);
	/* readers: the workers, and telemetry listings (ids n_workers ..) */
	a->qsbr = dp_qsbr_create(a->n_workers + CTL_TEL_READERS, socket);
	if (a->conf.events == NULL || a->qsbr == NULL) {
		EGRESS_LOG(ERR, "cannot allocate control state");
		return -ENOMEM;
	}
	/* workers look neighbours up: deleted entries wait for their grace period */
	for (p = 0; p < DP_NPORTS; p++)
		if (neigh_rcu_qsbr_add(a->conf.port[p].neigh, a->qsbr) != 0)
			return -ENOMEM;

	w = 0;
	RTE_LCORE_FOREACH_WORKER (lcore) {
		struct dp_worker_params wp = {
			.id = w,
			.lcore = lcore,
			.conf = &a->conf,
			.pool = a->pool,
			.qsbr = a->qsbr,
			.max_flows = RTE_MAX(cfg->flows_max / a->n_workers, 1024u),
			.socket_id = (int)rte_lcore_to_socket_id(lcore),
		};

		if (w == a->n_workers)
			break;
		if (wp.socket_id != socket)
			EGRESS_LOG(WARNING,
				   "worker lcore %u is on NUMA socket %d, the ports on socket %d: "
				   "every packet crosses the interconnect; give -l cores of "
				   "socket %d (lscpu -e shows each CPU's node)",
				   lcore, wp.socket_id, socket, socket);
		a->workers[w] = dp_worker_create(&wp);
		if (a->workers[w] == NULL) {
			rc = -rte_errno;
			if (rc == -ERANGE)
				EGRESS_LOG(ERR, "nat.ports %u-%u: fewer ports than workers",
					   cfg->nat_port_lo, cfg->nat_port_hi);
			else
				EGRESS_LOG(ERR,
					   "cannot create worker %u with a flow table of %u "
					   "flows on socket %d: %s (flows.max, or more memory: "
					   "-m / hugepages)",
					   w, wp.max_flows, wp.socket_id, rte_strerror(rte_errno));
			return rc;
		}
		w++;
	}

	a->ctl = (struct ctl){
		.cfg = cfg,
		.conf = &a->conf,
		.workers = a->workers,
		.n_workers = a->n_workers,
		.qsbr = a->qsbr,
		.pool = a->pool,
		.started_ms = mono_ms(),
		.dns = a->dns,
	};
	/* the exception TAPs: the control thread's from here (ctl_exception_poll()) */
	for (p = 0; p < DP_NPORTS; p++) {
		if (cfg->port[p].exception.tap[0] == '\0')
			continue;
		rc = exception_setup(&cfg->port[p], (enum dp_port)p, a->pool, socket,
				     &a->conf.exc[p], &a->ctl.exc[p]);
		if (rc < 0)
			return rc;
	}
	/* before the workers run: from here on the policy and its counters are lib/ctl's */
	if (ctl_publish(&a->ctl, pol) != 0) {
		EGRESS_LOG(ERR, "out of memory for the rule counters");
		return -ENOMEM;
	}
	a->first = NULL;
	port_watch_links(&a->ctl, a->lsc);
	if (ctl_telemetry_init(&a->ctl) != 0)
		EGRESS_LOG(WARNING, "telemetry commands not registered");
	/* the workers' rings exist (dp_worker_create()); they run later */
	if (cfg->flowlog_path != NULL) {
		rc = ctl_flowlog_start(&a->ctl, cfg->flowlog_path, &a->flowlog);
		if (rc != 0) {
			EGRESS_LOG(ERR, "flow log: cannot start its writer: %s", strerror(-rc));
			return rc;
		}
		EGRESS_LOG(INFO, "flow log to %s", cfg->flowlog_path);
	}
	/* session sync: the workers' rings exist, they run later */
	rc = ctl_sync_start(&a->ctl);
	if (rc != 0) {
		EGRESS_LOG(ERR, "session sync: cannot start: %s", strerror(-rc));
		return rc;
	}
	return start_metrics(a);
}

static void
teardown(struct appliance *a)
{
	unsigned int p, w;

	/* nothing below may be read by a scrape, an API or a telemetry request
	 * any more */
	ctl_metrics_stop(a->metrics);
	a->metrics = NULL;
	ctl_api_stop();
	ctl_telemetry_close();
	port_unwatch_links(&a->ctl);
	/* the workers stopped: their rings are drained and written out */
	ctl_flowlog_stop(a->flowlog);
	a->flowlog = NULL;
	ctl_sync_stop();
	for (p = 0; p < DP_NPORTS; p++)
		exception_teardown(&a->conf.exc[p], &a->ctl.exc[p]);
	for (p = 0; p < DP_NPORTS; p++) {
		if (a->ports_started[p]) {
			rte_eth_dev_stop(a->conf.port[p].port_id);
			rte_eth_dev_close(a->conf.port[p].port_id);
		}
		neigh_free(a->conf.port[p].neigh);
		if (a->conf.tx[p] != NULL) {
			void *m = NULL;

			while (rte_ring_dequeue(a->conf.tx[p], &m) == 0)
				rte_pktmbuf_free(m);
			rte_ring_free(a->conf.tx[p]);
		}
	}
	for (w = 0; w < a->n_workers; w++)
		dp_worker_free(a->workers[w]);
	rte_ring_free(a->conf.events);
	nat_rss_free(a->conf.rss);
	policy_free(a->first);
	ctl_free_policy(&a->ctl);
	dns_cache_free(a->dns);
	rte_mempool_free(a->pool);
	dp_qsbr_free(a->qsbr);
}

static bool
all_idle(const struct appliance *a, uint64_t now_tsc_ms, long idle_ms)
{
	unsigned int w;

	for (w = 0; w < a->n_workers; w++) {
		uint64_t last = dp_worker_last_rx_ms(a->workers[w]);

		if (now_tsc_ms - last < (uint64_t)idle_ms)
			return false;
	}
	return true;
}

/* dp_worker_irq_setup() on the worker's lcore: its epoll instance is that thread's. */
struct irq_setup {
	struct dp_worker *w;
	enum dp_port bad;
};

static int
irq_setup_on_lcore(void *arg)
{
	struct irq_setup *is = arg;

	return dp_worker_irq_setup(is->w, &is->bad);
}

/*
 * poll.idle: interrupt: each worker registers its RX queues, on its own
 * lcore, before its loop starts; one without (a port without RX
 * interrupts, port_setup(); a queue that cannot be registered) backs off.
 * Says what each worker does when idle.
 */
static void
idle_workers_setup(struct appliance *a)
{
	static const char *const whys[] = {
		"",
		" (the inside port has no RX interrupts)",
		" (the outside port has no RX interrupts)",
		" (neither port has RX interrupts)",
	};
	const struct dp_conf *conf = &a->conf;
	const char *why;
	unsigned int w;

	why = whys[conf->idle_interrupt ?
			   !conf->port[DP_INSIDE].rx_intr + 2 * !conf->port[DP_OUTSIDE].rx_intr :
			   0];
	for (w = 0; w < a->n_workers; w++) {
		unsigned int lcore = dp_worker_lcore(a->workers[w]);
		struct irq_setup is = { .w = a->workers[w] };
		const char *mode = conf->idle_sleep_max_us == 0 ? "busy" : "backoff";
		int rc;

		if (conf->idle_interrupt && why[0] == '\0') {
			rc = rte_eal_remote_launch(irq_setup_on_lcore, &is, lcore);
			if (rc == 0)
				rc = rte_eal_wait_lcore(lcore);
			if (rc == 0)
				mode = "interrupt";
			else
				EGRESS_LOG(WARNING,
					   "worker %u: %s: RX queue %u: interrupt not registered: "
					   "%s: this worker backs off instead",
					   w, a->cfg.port[is.bad].device, w, strerror(-rc));
		}
		EGRESS_LOG(INFO, "worker %u (lcore %u): idle: %s%s", w, lcore, mode,
			   conf->idle_interrupt && strcmp(mode, "backoff") == 0 ? why : "");
	}
}

static int
run(struct appliance *a, const struct options *o)
{
	uint64_t tsc_per_ms = rte_get_tsc_hz() / 1000;
	struct timespec tick = { .tv_sec = 0, .tv_nsec = CTL_TICK_NS };
	unsigned int w;
	struct policy *pol = a->conf.policy;
	struct service svc;
	uint32_t hup_ticket = 0;
	bool hup_pending = false;

	idle_workers_setup(a);
	for (w = 0; w < a->n_workers; w++) {
		if (rte_eal_remote_launch(dp_worker_main, a->workers[w],
					  dp_worker_lcore(a->workers[w]))) {
			EGRESS_LOG(ERR, "cannot launch worker %u", w);
			return -EINVAL;
		}
	}
	/* the outside gateway is needed by the first packet: ask now */
	if (a->conf.port[DP_OUTSIDE].gateway != 0)
		ctl_resolve(&a->ctl, DP_OUTSIDE, a->conf.port[DP_OUTSIDE].gateway, mono_ms());

	/* before "ready": whoever waits for it may ask egressctl at once */
	if (ctl_api_start(&a->ctl,
			  o->api_socket != NULL ? o->api_socket : a->ctl.cfg->api_socket) != 0)
		EGRESS_LOG(WARNING, "no API socket: egressctl cannot reach this egressd");

	printf("egressd: ready workers=%u policy_generation=%u rules=%u inside=port%u "
	       "outside=port%u\n",
	       a->n_workers, pol->generation, pol->n_rules, a->conf.port[DP_INSIDE].port_id,
	       a->conf.port[DP_OUTSIDE].port_id);
	fflush(stdout);
	service_init(&svc, a->workers, a->n_workers, mono_ms());
	service_ready("forwarding");

	/* every reload, whatever asked for it, is lib/ctl's: ctl_poll() */
	ctl_start(&a->ctl);
	while (!got_stop) {
		nanosleep(&tick, NULL);
		if (got_hup) {
			got_hup = 0;
			/* systemctl reload waits for READY=1 (ExecReload) */
			service_reloading();
			hup_ticket = ctl_request_reload(&a->ctl, CTL_RELOAD_SIGHUP);
			hup_pending = true;
		}
		if (got_usr1) {
			got_usr1 = 0;
			ctl_flowlog_reopen(a->flowlog);
		}
		ctl_poll(&a->ctl, mono_ms());
		if (hup_pending && ctl_reload_served(&a->ctl, hup_ticket)) {
			hup_pending = false;
			service_ready(a->ctl.reload_result == 0 ? "forwarding; reloaded" :
								  "forwarding; reload rejected, "
								  "the running policy kept");
		}
		service_watchdog(&svc, mono_ms());
		if (ctl_drained(&a->ctl))
			break; /* egressctl drain: idle or the deadline; logged */
		if (o->exit_when_idle_ms >= 0 &&
		    all_idle(a, rte_rdtsc() / tsc_per_ms, o->exit_when_idle_ms)) {
			EGRESS_LOG(INFO, "every RX queue idle for %ld ms: exiting",
				   o->exit_when_idle_ms);
			break;
		}
	}
	ctl_stop(&a->ctl);
	service_stopping();
	for (w = 0; w < a->n_workers; w++)
		dp_worker_stop(a->workers[w]);
	rte_eal_mp_wait_lcore();
	ctl_stats_json(&a->ctl, stdout);
	return 0;
}

/* Free hugepages of every size (/sys/kernel/mm/hugepages); -1: unknown. */
static long
hugepages_free(void)
{
	static const char *const sizes[] = { "hugepages-2048kB", "hugepages-1048576kB" };
	char path[128];
	long total = -1, n;
	unsigned int i;
	FILE *f;

	for (i = 0; i < RTE_DIM(sizes); i++) {
		snprintf(path, sizeof(path), "/sys/kernel/mm/hugepages/%s/free_hugepages",
			 sizes[i]);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		if (fscanf(f, "%ld", &n) == 1)
			total = (total < 0 ? 0 : total) + n;
		fclose(f);
	}
	return total;
}

/* After rte_eal_init() failed: the usual cause, and what to do about it. */
static void
explain_eal_failure(int eal_argc, char **argv)
{
	int i;

	for (i = 1; i < eal_argc; i++)
		if (strcmp(argv[i], "--no-huge") == 0)
			return;
	if (hugepages_free() == 0)
		fprintf(stderr,
			"egressd: no free hugepages: reserve them with scripts/setup-hugepages.sh "
			"(doc/deploy-bare-metal.md), or start without them for a trial: "
			"--no-huge -m 512\n");
}

/* Split argv at "--": EAL options before it, ours after (all ours without it). */
static void
split_args(int argc, char **argv, int *eal_argc, int *app_first)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			*eal_argc = i;
			*app_first = i + 1;
			return;
		}
	}
	*eal_argc = 1;
	*app_first = 1;
}

int
main(int argc, char **argv)
{
	struct options o = { .exit_when_idle_ms = -1 };
	struct diag_list dl = { 0 };
	static struct appliance a;
	int eal_argc, app_first, rc;

	split_args(argc, argv, &eal_argc, &app_first);
	{
		char *app_argv[argc - app_first + 2];

		app_argv[0] = argv[0];
		memcpy(&app_argv[1], &argv[app_first], sizeof(char *) * (size_t)(argc - app_first));
		app_argv[argc - app_first + 1] = NULL;
		rc = parse_app_args(argc - app_first + 1, app_argv, &o);
		if (rc != 0)
			return rc < 0 ? 1 : 0;
	}
	rc = egress_config_load(o.config, &a.cfg, &dl);
	if (rc != 0 || diag_errors(&dl) > 0) {
		diag_print(&dl, stderr);
		diag_list_clear(&dl);
		return 1;
	}
	if (o.check) {
		rc = run_check(&a.cfg, &dl);
		diag_list_clear(&dl);
		egress_config_free(&a.cfg);
		return rc;
	}
	diag_print(&dl, stderr); /* warnings */
	diag_list_clear(&dl);

	/*
	 * Every reload builds a whole policy (YAML tree, model, tables: tens of
	 * MB at 10 000 entries) and frees the previous one. Keep that memory in
	 * the heap rather than handing it back to the kernel and faulting it in
	 * again at the next reload: measured, the faults were a quarter of a
	 * 10 000-entry reload.
	 */
	mallopt(M_MMAP_THRESHOLD, 256 << 20);
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
	mallopt(M_TOP_PAD, 64 << 20);

	if (rte_eal_init(eal_argc, argv) < 0) {
		fprintf(stderr, "egressd: cannot start DPDK: %s\n", rte_strerror(rte_errno));
		explain_eal_failure(eal_argc, argv);
		egress_config_free(&a.cfg);
		return 1;
	}
	egress_runtime_dir_rm_at_exit();
	/* rte_rcu_qsbr's defer queue logs every reclaimed entry at INFO: on the
	 * data path, once per deleted flow. Quieter unless asked for. */
	{
		int t = rte_log_register("lib.rcu");

		if (t >= 0 && rte_log_get_level(t) > (int)RTE_LOG_WARNING)
			rte_log_set_level(t, RTE_LOG_WARNING);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGUSR1, on_signal);
	/* a peer of the API socket or /metrics that hangs up is an EPIPE to
	 * handle where it happens, never a reason to die */
	signal(SIGPIPE, SIG_IGN);

	rc = setup(&a, &o, &dl);
	diag_list_clear(&dl);
	if (rc == 0)
		rc = run(&a, &o);
	teardown(&a);
	rte_eal_cleanup();
	egress_config_free(&a.cfg);
	return rc == 0 ? 0 : 1;
}
