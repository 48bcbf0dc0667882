/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench-classify: what the policy compiler and the new-flow classifier cost
 * for 10, 1 000, 10 000 and 100 000 ServiceEntries (a benchmark, not a test).
 *
 * For each size it writes ServiceEntry YAML to a scratch folder (files of at
 * most 5 000 entries: the YAML reader refuses files over 16 MiB), builds the
 * policy with policy_build() as egressd does (load + validate + compile +
 * rte_acl), several times, and reports medians of:
 *   - build: the whole of policy_build(), its load / compile / classifier parts;
 *   - memory: the DPDK heap the classifier holds, and the rule and target
 *     arrays;
 *   - classify: TSC cycles per key of policy_classify_bulk() on bursts of 32
 *     random keys (hits, misses, and a 50/50 mix), for every rte_acl
 *     algorithm this CPU runs (rte_acl_set_ctx_classify()),
 * once with egressd's classifier (/32 rules in an exact-match table, prefixes in
 * rte_acl) and once with every rule in rte_acl, for comparison.
 * The mix of entries: 95 % one /32 address, 5 % one /24; 80 % one port, 20 %
 * two; ports from a pool of 2 000; 10 % UDP; 10 % STATIC with an endpoint.
 *
 * Usage: bench-classify [EAL options] -- [--sizes N,N,...] [--runs N]
 * Without EAL options it starts the EAL with --no-huge (heap in ordinary
 * pages: the figures are then a little pessimistic for TLB misses) and its
 * one lcore free to run on any CPU.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_acl.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_random.h>
#include <rte_vect.h>

#include "config.h"
#include "diag.h"
#include "explain.h"
#include "flow_key.h"
#include "policy_build.h"

#define PER_FILE 5000
#define N_KEYS   (1u << 16)
#define BURST    32
#define MAX_RUNS 15

static const struct {
	enum rte_acl_classify_alg alg;
	const char *name;
} algs[] = {
	{ RTE_ACL_CLASSIFY_DEFAULT, "default" },
	{ RTE_ACL_CLASSIFY_SCALAR, "scalar" },
	{ RTE_ACL_CLASSIFY_SSE, "sse" },
	{ RTE_ACL_CLASSIFY_AVX2, "avx2" },
	{ RTE_ACL_CLASSIFY_AVX512X16, "avx512x16" },
	{ RTE_ACL_CLASSIFY_AVX512X32, "avx512x32" },
};
#define N_ALGS (sizeof(algs) / sizeof(algs[0]))

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t
median(uint64_t *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A small deterministic hash: the same entries every run. */
static uint32_t
mix(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352d;
	x ^= x >> 15;
	x *= 0x846ca68b;
	x ^= x >> 16;
	return x;
}

/* Entry i, as one YAML document. */
static int
write_entry(FILE *f, uint32_t i)
{
	uint32_t h = mix(i + 1);
	uint16_t p1 = (uint16_t)(1024 + h % 2000), p2 = (uint16_t)(1024 + (h >> 11) % 2000);
	const char *proto = h % 10 == 0 ? "UDP" : "TCP";
	char addr[32];

	if (i % 20 == 0) /* a /24 in 172.16.0.0/12, clear of the /32s in 10/8 */
		snprintf(addr, sizeof(addr), "172.%u.%u.0/24", 16 + ((i / 20) >> 8),
			 (i / 20) & 0xff);
	else
		snprintf(addr, sizeof(addr), "10.%u.%u.%u", (i >> 16) & 0xff, (i >> 8) & 0xff,
			 i & 0xff);
	if (p2 == p1)
		p2 = (uint16_t)(p1 + 1);
	fprintf(f,
		"---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		"metadata: {name: se-%u}\nspec:\n  hosts: [se-%u.bench.example]\n"
		"  addresses: [\"%s\"]\n  ports: [{number: %u, name: p1, protocol: %s}",
		i, i, addr, p1, proto);
	if (h % 5 == 0)
		fprintf(f, ", {number: %u, name: p2, protocol: %s}", p2, proto);
	fprintf(f, "]\n");
	if ((h >> 8) % 10 == 0)
		fprintf(f, "  resolution: STATIC\n  endpoints: [{address: 192.168.%u.%u}]\n",
			(i >> 8) & 0xff, i & 0xff);
	return ferror(f) ? -EIO : 0;
}

static int
write_corpus(const char *dir, uint32_t n)
{
	uint32_t i;
	FILE *f = NULL;
	char path[512];

	for (i = 0; i < n; i++) {
		if (i % PER_FILE == 0) {
			if (f != NULL && fclose(f) != 0)
				return -errno;
			snprintf(path, sizeof(path), "%s/se-%06u.yaml", dir, i / PER_FILE);
			f = fopen(path, "w");
			if (f == NULL)
				return -errno;
		}
		if (write_entry(f, i) < 0) {
			fclose(f);
			return -EIO;
		}
	}
	return f != NULL && fclose(f) != 0 ? -errno : 0;
}

static void
remove_corpus(const char *dir, uint32_t n)
{
	char path[512];
	uint32_t i;

	for (i = 0; i < n; i += PER_FILE) {
		snprintf(path, sizeof(path), "%s/se-%06u.yaml", dir, i / PER_FILE);
		unlink(path);
	}
}

/* Keys: hits are inside a random rule; misses are on a port no rule has. */
static void
make_keys(const struct policy *p, struct flow_key *keys, const struct flow_key **kp, unsigned int n,
	  unsigned int hit_pct)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct flow_key *k = &keys[i];
		uint64_t r = rte_rand();

		memset(k, 0, sizeof(*k));
		k->src_ip = htonl(0x0a080000u | (uint32_t)(r & 0xffff));
		k->src_port = htons((uint16_t)(1024 + (r >> 16) % 60000));
		if ((r >> 32) % 100 < hit_pct && p->n_rules > 0) {
			const struct policy_rule *pr = &p->rules[(r >> 40) % p->n_rules];
			uint32_t host = pr->prefix_len == 32 ?
						0 :
						(uint32_t)rte_rand() &
							~(UINT32_MAX << (32 - pr->prefix_len));

			k->dst_ip = htonl(pr->dst_ip | host);
			k->dst_port = htons(pr->port);
			k->proto = pr->proto;
		} else {
			/* an address of the same space, a port outside the pool */
			k->dst_ip = htonl(0x0a000000u | (uint32_t)(rte_rand() & 0xffffff));
			k->dst_port = htons((uint16_t)(4000 + rte_rand() % 60000));
			k->proto = IPPROTO_TCP;
		}
		kp[i] = k;
	}
}

/*
 * Median TSC cycles per key over runs passes of all keys, in bursts of 32;
 * *least gets the fastest pass (on a shared machine, the least disturbed).
 */
static double
cycles_per_key(const struct policy *p, const struct flow_key **kp, unsigned int n,
	       unsigned int runs, uint64_t *hits, double *least)
{
	uint64_t per[MAX_RUNS];
	uint32_t rules[BURST];
	unsigned int r, i, j;

	for (r = 0; r < runs; r++) {
		uint64_t t0, t1, h = 0;

		t0 = rte_rdtsc_precise();
		for (i = 0; i + BURST <= n; i += BURST) {
			policy_classify_bulk(p, &kp[i], BURST, rules);
			for (j = 0; j < BURST; j++)
				h += rules[j] != POLICY_NO_RULE;
		}
		t1 = rte_rdtsc_precise();
		per[r] = (t1 - t0) * 1000 / n; /* milli-cycles per key */
		*hits = h;
	}
	qsort(per, runs, sizeof(per[0]), cmp_u64);
	*least = (double)per[0] / 1000.0;
	return (double)median(per, runs) / 1000.0;
}

/*
 * Nanoseconds per policy_near_miss() call (what a worker adds per denied new
 * flow to name its near miss), median of 9 passes over n denied keys; with
 * the compiled index, or with it hidden (the linear walk it replaced).
 */
static double
near_miss_ns(struct policy *p, const struct flow_key **kp, unsigned int n, bool indexed,
	     uint64_t *named)
{
	struct policy_near *near = p->near;
	uint64_t per[9];
	unsigned int r, i;

	if (!indexed)
		p->near = NULL;
	for (r = 0; r < 9; r++) {
		uint64_t t0 = now_ns(), c = 0;
		uint32_t rule;

		for (i = 0; i < n; i++)
			c += policy_near_miss(p, kp[i], &rule) != POLICY_EXPLAIN_NO_ADDRESS;
		per[r] = (now_ns() - t0) * 1000 / n; /* picoseconds per call */
		*named = c;
	}
	p->near = near;
	qsort(per, 9, sizeof(per[0]), cmp_u64);
	return (double)median(per, 9) / 1000.0;
}

struct size_result {
	enum policy_classifier how;
	uint32_t n_entries;
	uint32_t n_rules;
	uint32_t n_targets;
	uint32_t n_exact, n_acl;
	uint64_t build_ns, load_ns, compile_ns, cls_ns;
	uint64_t cls_bytes;
	uint64_t meta_bytes;
	double cyc[N_ALGS][3];     /* hits, misses, mix: medians */
	double cyc_min[N_ALGS][3]; /* and the fastest passes */
	bool alg_ok[N_ALGS];
	uint64_t hits_mix;
	double near_ns[2][2]; /* [indexed, linear][near misses, unknown addresses] */
	uint64_t near_named;
};

/* Build the corpus in dir runs times with one classifier; measure the last policy. */
static int
bench_one(const char *dir, unsigned int runs, struct size_result *res)
{
	uint64_t build[MAX_RUNS], load[MAX_RUNS], comp[MAX_RUNS], cls[MAX_RUNS];
	static struct flow_key keys[3][N_KEYS];
	static const struct flow_key *kp[3][N_KEYS];
	struct policy_build_params prm = { .classifier = res->how };
	struct egress_config cfg;
	struct policy *p = NULL;
	char *sources[1] = { (char *)dir };
	unsigned int r, a, m;

	memset(&cfg, 0, sizeof(cfg));
	cfg.path = (char *)"bench";
	cfg.sources = sources;
	cfg.n_sources = 1;
	prm.cfg = &cfg;
	for (r = 0; r < runs; r++) {
		struct diag_list dl = { 0 };
		uint64_t t0 = now_ns();

		policy_free(p);
		prm.generation = r + 1;
		p = policy_build_ex(&prm, &dl);
		build[r] = now_ns() - t0;
		if (p == NULL) {
			diag_print(&dl, stderr);
			diag_list_clear(&dl);
			return -EINVAL;
		}
		diag_list_clear(&dl);
		load[r] = p->stats.load_ns;
		comp[r] = p->stats.compile_ns;
		cls[r] = p->stats.classifier_ns;
	}
	res->build_ns = median(build, runs);
	res->load_ns = median(load, runs);
	res->compile_ns = median(comp, runs);
	res->cls_ns = median(cls, runs);
	res->n_rules = p->n_rules;
	res->n_targets = p->n_targets;
	res->n_exact = p->stats.n_exact;
	res->n_acl = p->stats.n_acl;
	res->cls_bytes = p->stats.classifier_bytes;
	res->meta_bytes = (uint64_t)p->n_rules * sizeof(*p->rules) +
			  (uint64_t)p->n_targets * (sizeof(*p->targets) + sizeof(char *));

	make_keys(p, keys[0], kp[0], N_KEYS, 100);
	make_keys(p, keys[1], kp[1], N_KEYS, 0);
	make_keys(p, keys[2], kp[2], N_KEYS, 50);
	for (a = 0; a < N_ALGS; a++) {
		uint64_t hits;

		if (p->acl != NULL && rte_acl_set_ctx_classify(p->acl, algs[a].alg) != 0)
			continue;
		if (p->acl == NULL && a > 0)
			break;
		res->alg_ok[a] = true;
		for (m = 0; m < 3; m++) {
			double least;

			/* one untimed pass: caches and branch predictors warm */
			cycles_per_key(p, kp[m], N_KEYS, 1, &hits, &least);
			res->cyc[a][m] =
				cycles_per_key(p, kp[m], N_KEYS, 9, &hits, &res->cyc_min[a][m]);
			if (m == 0 && hits != N_KEYS / BURST * BURST)
				fprintf(stderr,
					"bench-classify: %s: %" PRIu64 " of %u hit keys "
					"matched\n",
					algs[a].name, hits, N_KEYS);
			if (m == 2 && a == 0)
				res->hits_mix = hits;
		}
	}
	if (p->acl != NULL)
		rte_acl_set_ctx_classify(p->acl, RTE_ACL_CLASSIFY_DEFAULT);
	/* denied keys: a rule's address on a port outside the pool (near
	 * misses), and the misses above (addresses mostly no rule lists) */
	for (m = 0; m < N_KEYS; m++)
		keys[0][m].dst_port = htons(3999);
	for (a = 0; a < 2; a++) {
		uint64_t named;

		res->near_ns[a][0] = near_miss_ns(p, kp[0], N_KEYS, a == 0, &res->near_named);
		res->near_ns[a][1] = near_miss_ns(p, kp[1], N_KEYS, a == 0, &named);
	}
	policy_free(p);
	return 0;
}

static int
bench_size(const char *dir, uint32_t n, unsigned int runs, struct size_result res[2])
{
	int rc;

	memset(res, 0, 2 * sizeof(*res));
	res[0].how = POLICY_CLASSIFIER_HYBRID;
	res[1].how = POLICY_CLASSIFIER_ACL;
	res[0].n_entries = res[1].n_entries = n;
	rc = write_corpus(dir, n);
	if (rc < 0) {
		fprintf(stderr, "bench-classify: cannot write %u entries in %s: %s\n", n, dir,
			strerror(-rc));
		return rc;
	}
	rc = bench_one(dir, runs, &res[0]);
	if (rc == 0)
		rc = bench_one(dir, runs, &res[1]);
	remove_corpus(dir, n);
	return rc;
}

static void
print_result(const struct size_result *r)
{
	unsigned int a;

	printf("%u entries: %u rules (%u exact, %u rte_acl), %u targets; classifier: %s\n",
	       r->n_entries, r->n_rules, r->n_exact, r->n_acl, r->n_targets,
	       r->how == POLICY_CLASSIFIER_HYBRID ? "exact table + rte_acl (egressd's)" :
						    "rte_acl only");
	printf("  build %.1f ms (load+validate %.1f, compile %.1f, classifier %.1f)\n",
	       r->build_ns / 1e6, r->load_ns / 1e6, r->compile_ns / 1e6, r->cls_ns / 1e6);
	printf("  memory: classifier %.2f MiB (DPDK heap), rules+targets %.2f MiB\n",
	       r->cls_bytes / 1048576.0, r->meta_bytes / 1048576.0);
	printf("  classify, TSC cycles/key, bursts of %u, median (fastest) of 9 passes of\n"
	       "  %u keys, by rte_acl algorithm:   hits            misses          50%% mix\n",
	       BURST, N_KEYS);
	for (a = 0; a < N_ALGS; a++) {
		if (!r->alg_ok[a])
			continue;
		printf("    %-10s %22.1f (%5.1f) %7.1f (%5.1f) %7.1f (%5.1f)\n", algs[a].name,
		       r->cyc[a][0], r->cyc_min[a][0], r->cyc[a][1], r->cyc_min[a][1], r->cyc[a][2],
		       r->cyc_min[a][2]);
	}
	printf("  near miss of a denied flow (policy_near_miss()), ns/call, median of 9:\n"
	       "    indexed %.1f (near misses, %" PRIu64 " of %u named), %.1f (unknown addresses);"
	       " linear walk %.1f, %.1f\n",
	       r->near_ns[0][0], r->near_named, N_KEYS, r->near_ns[0][1], r->near_ns[1][0],
	       r->near_ns[1][1]);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench-classify [EAL options] -- [--sizes N,N,...] [--runs N]\n");
}

int
main(int argc, char **argv)
{
	static const uint32_t dflt_sizes[] = { 10, 1000, 10000, 100000 };
	static char *eal_dflt[] = {
		"bench-classify",
		"--no-huge",
		"--no-pci",
		"--no-shconf",
		"--no-telemetry",
		"-m",
		"4096",
		"--lcores",
		NULL,
		"--log-level=*:error",
		NULL,
	};
	char lcores[32];
	static const struct option opts[] = {
		{ "sizes", required_argument, NULL, 's' },
		{ "runs", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t sizes[16];
	unsigned int n_sizes = 0, runs = 5, i;
	char dir[] = "/tmp/bench-classify-XXXXXX";
	bool own_eal = argc < 2 || strcmp(argv[1], "--") == 0 || argv[1][0] != '-' ||
		       strcmp(argv[1], "--sizes") == 0 || strcmp(argv[1], "--runs") == 0;
	int ret, c;

	if (own_eal) {
		/* float over every CPU rather than pin to CPU 0: on a shared machine
		 * CPU 0 may well be a busy-polling lcore of some DPDK program */
		snprintf(lcores, sizeof(lcores), "0@(0-%ld)", sysconf(_SC_NPROCESSORS_ONLN) - 1);
		eal_dflt[8] = lcores;
		ret = rte_eal_init((int)(sizeof(eal_dflt) / sizeof(eal_dflt[0])) - 1, eal_dflt);
		if (argc > 1 && strcmp(argv[1], "--") == 0) {
			argc--;
			argv++;
		}
	} else {
		ret = rte_eal_init(argc, argv);
		if (ret >= 0) {
			argc -= ret;
			argv += ret;
		}
	}
	if (ret < 0) {
		fprintf(stderr, "bench-classify: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *s, *save = NULL;

		switch (c) {
		case 's':
			for (s = strtok_r(optarg, ",", &save); s != NULL && n_sizes < 16;
			     s = strtok_r(NULL, ",", &save))
				sizes[n_sizes++] = (uint32_t)strtoul(s, NULL, 10);
			break;
		case 'r':
			runs = (unsigned int)atoi(optarg);
			if (runs < 1 || runs > MAX_RUNS)
				runs = 5;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (n_sizes == 0) {
		memcpy(sizes, dflt_sizes, sizeof(dflt_sizes));
		n_sizes = sizeof(dflt_sizes) / sizeof(dflt_sizes[0]);
	}
	/* let rte_acl use AVX-512 where the CPU has it (DPDK's default cap is 256) */
	rte_vect_set_max_simd_bitwidth(RTE_VECT_SIMD_512);
	if (mkdtemp(dir) == NULL) {
		perror("bench-classify: mkdtemp");
		return 1;
	}
	printf("bench-classify: TSC %.2f GHz, EAL %s, %u runs per size (medians)\n",
	       rte_get_tsc_hz() / 1e9, own_eal ? "--no-huge (ordinary pages)" : "as given", runs);
	ret = 0;
	for (i = 0; i < n_sizes && ret == 0; i++) {
		struct size_result r[2];

		ret = bench_size(dir, sizes[i], sizes[i] >= 100000 && runs > 3 ? 3 : runs, r);
		if (ret == 0) {
			print_result(&r[0]);
			print_result(&r[1]);
		}
		fflush(stdout);
	}
	rmdir(dir);
	rte_eal_cleanup();
	return ret == 0 ? 0 : 1;
}
