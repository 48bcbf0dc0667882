/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Policy publication and reclamation (lib/ctl): a published policy's
 * predecessor is freed exactly once, and never while a worker that loaded it
 * has not yet passed a quiescent state. policy_free() is wrapped at link
 * time (-Wl,--wrap=policy_free) to observe every reclamation, and
 * policy_build_ex() (--wrap=policy_build_ex) to count the reloads that
 * ctl_poll() runs, without YAML.
 *
 * The telemetry callbacks (lib/ctl/telemetry.c), run by several threads at
 * once as DPDK runs them (one thread per client): captured at registration
 * (--wrap=rte_telemetry_register_cmd) and called directly, with the reads
 * they make observed (--wrap=ctl_rule_flows, --wrap=dns_stats_get) and the
 * replies they build recorded (--wrap=rte_tel_data_add_dict_u64,
 * --wrap=rte_tel_data_add_dict_string, --wrap=rte_tel_data_add_dict_container).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_telemetry.h>

#include "test_common.h"

#include "ctl.h"
#include "ctl_nat.h"
#include "dns.h"
#include "dp.h"
#include "flow.h"
#include "policy_build.h"
#include "test_rss.h"

void __real_policy_free(struct policy *p);
void __wrap_policy_free(struct policy *p);

#define POISON 0xdeadbeefu /* the generation of a policy "freed" in quarantine */

static uint32_t freed[16]; /* generations, in the order freed */
static unsigned int n_freed;
/* quarantine: "freed" policies are poisoned and kept until the teardown, so
 * that a reader still using one reads the poison, not reused memory */
static bool quarantine;
static struct policy **limbo;
static unsigned int n_limbo;

static void
free_now(struct policy *p)
{
	free(p->rules);
	free(p); /* the test's policies are built by hand */
}

void
__wrap_policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	if (n_freed < RTE_DIM(freed))
		freed[n_freed] = p->generation;
	__atomic_add_fetch(&n_freed, 1, __ATOMIC_SEQ_CST);
	if (!quarantine) {
		free_now(p);
		return;
	}
	__atomic_store_n(&p->generation, POISON, __ATOMIC_SEQ_CST);
	limbo = realloc(limbo, (n_limbo + 1) * sizeof(*limbo));
	assert_non_null(limbo);
	limbo[n_limbo++] = p;
}

static pthread_t control_thread; /* the test's own: the control thread */

static struct policy *fake_policy(uint32_t gen);

/* A reload's build: a policy of the generation asked for, counted. */
struct policy *__real_policy_build_ex(const struct policy_build_params *prm, struct diag_list *dl);
struct policy *__wrap_policy_build_ex(const struct policy_build_params *prm, struct diag_list *dl);

static unsigned int builds;

struct policy *
__wrap_policy_build_ex(const struct policy_build_params *prm, struct diag_list *dl)
{
	(void)dl;
	builds++;
	return fake_policy(prm->generation);
}

/* The telemetry callbacks, as registered. */
static telemetry_cb tel_stats, tel_rules;

int __wrap_rte_telemetry_register_cmd(const char *cmd, telemetry_cb fn, const char *help);

int
__wrap_rte_telemetry_register_cmd(const char *cmd, telemetry_cb fn, const char *help)
{
	(void)help;
	if (strcmp(cmd, "/egress/stats") == 0)
		tel_stats = fn;
	else if (strcmp(cmd, "/egress/rules") == 0)
		tel_rules = fn;
	return 0;
}

/* A rule's line in /egress/rules: is its policy still there? And slowly,
 * so that listings overlap each other and the publishes. */
uint64_t __real_ctl_rule_flows(const struct ctl *c, const struct policy *p, uint32_t rule);
uint64_t __wrap_ctl_rule_flows(const struct ctl *c, const struct policy *p, uint32_t rule);

static uint32_t read_freed; /* rule lines read from a freed policy */
static uint32_t rule_reads;
static uint32_t hold_listings; /* while set, clients' listings wait at their first line */
static uint32_t listings_held;

uint64_t
__wrap_ctl_rule_flows(const struct ctl *c, const struct policy *p, uint32_t rule)
{
	struct timespec us10 = { .tv_sec = 0, .tv_nsec = 10 * 1000 };
	bool bad = __atomic_load_n(&p->generation, __ATOMIC_SEQ_CST) == POISON;

	/* (the test's own thread is never held: it must get its answer) */
	if (__atomic_load_n(&hold_listings, __ATOMIC_SEQ_CST) &&
	    !pthread_equal(pthread_self(), control_thread)) {
		__atomic_add_fetch(&listings_held, 1, __ATOMIC_SEQ_CST);
		while (__atomic_load_n(&hold_listings, __ATOMIC_SEQ_CST))
			nanosleep(&us10, NULL);
	}
	nanosleep(&us10, NULL);
	bad |= __atomic_load_n(&p->generation, __ATOMIC_SEQ_CST) == POISON;
	if (bad)
		__atomic_add_fetch(&read_freed, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&rule_reads, 1, __ATOMIC_RELAXED);
	return __real_ctl_rule_flows(c, p, rule);
}

/* The DNS cache belongs to the control thread (dns.h): who reads it? */
void __real_dns_stats_get(const struct dns_cache *c, struct dns_stats *st);
void __wrap_dns_stats_get(const struct dns_cache *c, struct dns_stats *st);

static uint32_t dns_read_elsewhere;

void
__wrap_dns_stats_get(const struct dns_cache *c, struct dns_stats *st)
{
	if (!pthread_equal(pthread_self(), control_thread))
		__atomic_add_fetch(&dns_read_elsewhere, 1, __ATOMIC_SEQ_CST);
	__real_dns_stats_get(c, st);
}

/*
 * The keys of one reply, recorded by the control thread when asked: a
 * member of a nested container is renamed "container/member" when the
 * container is added, so the list ends as the reply's leaf paths in order.
 */
#define KEYS_MAX 256
#define KEY_LEN  128

static bool recording;
static struct {
	const struct rte_tel_data *d;
	char path[KEY_LEN];
} rec[KEYS_MAX];
static unsigned int n_rec;

static void
record(const struct rte_tel_data *d, const char *name)
{
	if (!recording || !pthread_equal(pthread_self(), control_thread))
		return;
	assert_true(n_rec < KEYS_MAX);
	rec[n_rec].d = d;
	snprintf(rec[n_rec].path, KEY_LEN, "%s", name);
	n_rec++;
}

/* The figures a /egress/stats reply carries, per calling thread. */
int __real_rte_tel_data_add_dict_u64(struct rte_tel_data *d, const char *name, uint64_t val);
int __wrap_rte_tel_data_add_dict_u64(struct rte_tel_data *d, const char *name, uint64_t val);

static __thread int64_t reply_dns_names = -1;

int
__wrap_rte_tel_data_add_dict_u64(struct rte_tel_data *d, const char *name, uint64_t val)
{
	if (strcmp(name, "dns_names") == 0)
		reply_dns_names = (int64_t)val;
	record(d, name);
	return __real_rte_tel_data_add_dict_u64(d, name, val);
}

/* The "error" of a reply, per calling thread. */
int __real_rte_tel_data_add_dict_string(struct rte_tel_data *d, const char *name, const char *val);
int __wrap_rte_tel_data_add_dict_string(struct rte_tel_data *d, const char *name, const char *val);

static __thread char reply_error[128];

int
__wrap_rte_tel_data_add_dict_string(struct rte_tel_data *d, const char *name, const char *val)
{
	if (strcmp(name, "error") == 0)
		snprintf(reply_error, sizeof(reply_error), "%s", val);
	record(d, name);
	return __real_rte_tel_data_add_dict_string(d, name, val);
}

/* Nested containers are the library's to free once the reply is sent; no
 * reply is sent here, so they are freed at once (and not added). */
int __wrap_rte_tel_data_add_dict_container(struct rte_tel_data *d, const char *name,
					   struct rte_tel_data *val, int keep);

int
__wrap_rte_tel_data_add_dict_container(struct rte_tel_data *d, const char *name,
				       struct rte_tel_data *val, int keep)
{
	unsigned int i;

	for (i = 0; recording && i < n_rec; i++) {
		char path[KEY_LEN];

		if (rec[i].d != val)
			continue;
		snprintf(path, sizeof(path), "%s/%s", name, rec[i].path);
		memcpy(rec[i].path, path, KEY_LEN);
		rec[i].d = d;
	}
	if (!keep)
		rte_tel_data_free(val);
	return 0;
}

static struct policy *
fake_policy(uint32_t gen)
{
	struct policy *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->generation = gen;
	return p;
}

struct fixture {
	struct rte_rcu_qsbr *qsbr;
	struct dp_conf conf;
	struct ctl c;
	struct dp_worker *worker; /* for the telemetry tests */
	struct dp_worker *workers[2];
};

static struct fixture fx;

static int
setup(void **state)
{
	size_t sz = rte_rcu_qsbr_get_memsize(2 + CTL_TEL_READERS);

	(void)state;
	memset(&fx, 0, sizeof(fx));
	fx.qsbr = rte_zmalloc("qsbr", sz, RTE_CACHE_LINE_SIZE);
	assert_non_null(fx.qsbr);
	assert_int_equal(rte_rcu_qsbr_init(fx.qsbr, 2 + CTL_TEL_READERS), 0);
	assert_int_equal(rte_rcu_qsbr_thread_register(fx.qsbr, 0), 0);
	fx.c.conf = &fx.conf;
	fx.c.qsbr = fx.qsbr;
	n_freed = 0;
	memset(freed, 0, sizeof(freed));
	control_thread = pthread_self();
	return 0;
}

static int
teardown(void **state)
{
	unsigned int i;

	(void)state;
	quarantine = false;
	ctl_free_policy(&fx.c);
	for (i = 0; i < n_limbo; i++)
		free_now(limbo[i]);
	free(limbo);
	limbo = NULL;
	n_limbo = 0;
	dp_worker_free(fx.worker);
	dns_cache_free(fx.c.dns);
	rte_free(fx.qsbr);
	return 0;
}

/*
 * The telemetry tests' appliance: one worker (QSBR reader 0, offline: it
 * holds nothing), telemetry registered (reader 1), a DNS cache.
 */
static int
setup_telemetry(void **state)
{
	static struct rte_mempool *pool;
	struct dns_params dp = { .background = false };
	struct dp_worker_params wp = {
		.conf = &fx.conf,
		.qsbr = fx.qsbr,
		.max_flows = 64,
		.socket_id = SOCKET_ID_ANY,
	};

	setup(state);
	if (pool == NULL)
		pool = rte_pktmbuf_pool_create("ctl_test", 63, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					       SOCKET_ID_ANY);
	assert_non_null(pool);
	wp.pool = pool;
	fx.conf.n_workers = 1;
	fx.conf.nat_port_lo = 1024;
	fx.conf.nat_port_hi = 65535;
	fx.conf.embryonic_max = 64;
	/* as the daemon builds it (reader 0 of fx.qsbr, offline) */
	fx.worker = dp_worker_create(&wp);
	assert_non_null(fx.worker);
	fx.workers[0] = fx.worker;
	fx.c.workers = fx.workers;
	fx.c.n_workers = 1;
	fx.c.dns = dns_cache_create(&dp);
	assert_non_null(fx.c.dns);
	assert_int_equal(ctl_telemetry_init(&fx.c), 0);
	assert_non_null(tel_stats);
	assert_non_null(tel_rules);
	return 0;
}

static void
test_first_publish_frees_nothing(void **state)
{
	struct policy *p1 = fake_policy(1);
	(void)state;

	ctl_publish(&fx.c, p1);
	assert_ptr_equal(dp_policy(&fx.conf), p1);
	assert_int_equal(fx.c.generation, 1);
	assert_int_equal(n_freed, 0);
}

/* A "worker": online, loads the policy, holds it until told, then quiescent. */
struct reader {
	volatile int go_quiescent;
	volatile int holding;
	const struct policy *seen;
};

static void *
reader_main(void *arg)
{
	struct reader *r = arg;

	rte_rcu_qsbr_thread_online(fx.qsbr, 0);
	r->seen = dp_policy(&fx.conf);
	__atomic_store_n(&r->holding, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&r->go_quiescent, __ATOMIC_SEQ_CST))
		;
	/* still using it: read a field the free would poison */
	assert_int_equal(r->seen->generation, 1);
	rte_rcu_qsbr_quiescent(fx.qsbr, 0);
	rte_rcu_qsbr_thread_offline(fx.qsbr, 0);
	return NULL;
}

struct publisher {
	struct policy *p;
	volatile int done;
};

static void *
publisher_main(void *arg)
{
	struct publisher *pub = arg;

	ctl_publish(&fx.c, pub->p);
	__atomic_store_n(&pub->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

static void
test_old_policy_outlives_its_readers(void **state)
{
	struct policy *p1 = fake_policy(1), *p2 = fake_policy(2), *p3 = fake_policy(3);
	struct timespec ms100 = { .tv_sec = 0, .tv_nsec = 100 * 1000 * 1000 };
	struct reader r = { 0 };
	struct publisher pub = { .p = p2 };
	pthread_t rt, pt;
	(void)state;

	ctl_publish(&fx.c, p1);
	assert_int_equal(pthread_create(&rt, NULL, reader_main, &r), 0);
	while (!__atomic_load_n(&r.holding, __ATOMIC_SEQ_CST))
		;
	assert_ptr_equal(r.seen, p1);

	assert_int_equal(pthread_create(&pt, NULL, publisher_main, &pub), 0);
	nanosleep(&ms100, NULL);
	/* published at once, but p1 is still held: not freed, publish waits */
	assert_ptr_equal(dp_policy(&fx.conf), p2);
	assert_int_equal(__atomic_load_n(&n_freed, __ATOMIC_SEQ_CST), 0);
	assert_int_equal(__atomic_load_n(&pub.done, __ATOMIC_SEQ_CST), 0);

	__atomic_store_n(&r.go_quiescent, 1, __ATOMIC_SEQ_CST);
	assert_int_equal(pthread_join(pt, NULL), 0);
	assert_int_equal(pthread_join(rt, NULL), 0);
	assert_int_equal(n_freed, 1);
	assert_int_equal(freed[0], 1);

	/* an offline reader does not hold anything: the next publish frees p2 */
	ctl_publish(&fx.c, p3);
	assert_int_equal(n_freed, 2);
	assert_int_equal(freed[1], 2);
	assert_int_equal(fx.c.generation, 3);
}

static void
test_many_publishes_free_each_once(void **state)
{
	struct policy *ps[10];
	unsigned int i, j;
	(void)state;

	for (i = 0; i < RTE_DIM(ps); i++) {
		ps[i] = fake_policy(i + 1);
		ctl_publish(&fx.c, ps[i]);
	}
	assert_int_equal(n_freed, RTE_DIM(ps) - 1);
	for (i = 0; i + 1 < RTE_DIM(ps); i++) {
		unsigned int seen = 0;

		for (j = 0; j < n_freed; j++)
			seen += freed[j] == i + 1;
		assert_int_equal(seen, 1);
	}
	assert_int_equal(dp_policy(&fx.conf)->generation, RTE_DIM(ps));
}

static struct policy *
policy_with_rules(uint32_t gen, const char *const *names, uint16_t *ports, uint32_t n)
{
	struct policy *p = fake_policy(gen);
	uint32_t i;

	p->rules = calloc(n, sizeof(*p->rules));
	assert_non_null(p->rules);
	p->n_rules = n;
	for (i = 0; i < n; i++) {
		p->rules[i].name = names[i];
		p->rules[i].dst_ip = RTE_IPV4(10, 59, 118, 59);
		p->rules[i].prefix_len = 32;
		p->rules[i].port = ports[i];
		p->rules[i].proto = 6;
	}
	return p;
}

/* A worker's count of flows under rule: where the data path counts them. */
static uint64_t *
rule_count(uint32_t gen, unsigned int worker, uint32_t rule)
{
	struct dp_counters *cnt = dp_counters(&fx.conf, gen);

	assert_non_null(cnt);
	return &cnt->rule_flows[worker * cnt->rule_stride + rule];
}

/* Worker's packets/bytes of rule in direction dir, and its near misses. */
static struct dp_rule_traffic *
rule_traffic(uint32_t gen, unsigned int worker, uint32_t rule)
{
	struct dp_counters *cnt = dp_counters(&fx.conf, gen);

	assert_non_null(cnt);
	return &cnt->rule_traffic[worker * cnt->traffic_stride + rule];
}

static uint64_t *
rule_near(uint32_t gen, unsigned int worker, uint32_t rule)
{
	struct dp_counters *cnt = dp_counters(&fx.conf, gen);

	assert_non_null(cnt);
	return &cnt->rule_near_miss[worker * cnt->rule_stride + rule];
}

/* Give every counter of rule distinct figures, seeded by base, on both workers. */
static void
set_rule(uint32_t gen, uint32_t rule, uint64_t base)
{
	unsigned int w;

	for (w = 0; w < 2; w++) {
		struct dp_rule_traffic *t = rule_traffic(gen, w, rule);

		t->packets[0] = base + 1 + w;
		t->packets[1] = base + 3 + w;
		t->bytes[0] = base + 100 + w;
		t->bytes[1] = base + 200 + w;
		*rule_near(gen, w, rule) = base + 7 + w;
	}
}

/*
 * Every per-rule counter (packets and bytes each way, near misses) is
 * carried by a reload exactly, for the rules that stay; a removed rule's
 * are gone, a new rule's start at 0, and a second reload carries what the
 * first carried plus what was counted since.
 */
static void
test_rule_traffic_survives_reload(void **state)
{
	static const char *const old_names[] = { "redis", "mongo", "gone" };
	static const char *const new_names[] = { "new", "mongo", "redis" };
	uint16_t old_ports[] = { 6379, 27017, 443 }, new_ports[] = { 80, 27017, 6379 };
	struct dp_rule_counts redis_before, mongo_before, n;
	struct policy *p1, *p2, *p3;
	(void)state;

	fx.c.n_workers = 2;
	p1 = policy_with_rules(1, old_names, old_ports, 3);
	assert_int_equal(ctl_publish(&fx.c, p1), 0);
	set_rule(1, 0, 1000); /* redis */
	set_rule(1, 1, 2000); /* mongo */
	set_rule(1, 2, 3000); /* gone */
	*rule_count(1, 0, 0) = 5;
	ctl_rule_counts(&fx.c, p1, 0, &redis_before);
	ctl_rule_counts(&fx.c, p1, 1, &mongo_before);
	assert_int_equal(redis_before.flows, 5);
	assert_int_equal(redis_before.t.packets[0], 1001 + 1002);
	assert_int_equal(redis_before.t.packets[1], 1003 + 1004);
	assert_int_equal(redis_before.t.bytes[0], 1100 + 1101);
	assert_int_equal(redis_before.t.bytes[1], 1200 + 1201);
	assert_int_equal(redis_before.near_miss, 1007 + 1008);

	p2 = policy_with_rules(2, new_names, new_ports, 3);
	assert_int_equal(ctl_publish(&fx.c, p2), 0);
	ctl_rule_counts(&fx.c, p2, 2, &n); /* redis: the same figures */
	assert_memory_equal(&n, &redis_before, sizeof(n));
	ctl_rule_counts(&fx.c, p2, 1, &n); /* mongo */
	assert_memory_equal(&n, &mongo_before, sizeof(n));
	ctl_rule_counts(&fx.c, p2, 0, &n); /* new: nothing; "gone" is nowhere */
	assert_int_equal(n.flows + n.t.packets[0] + n.t.packets[1] + n.t.bytes[0] + n.t.bytes[1] +
				 n.near_miss,
			 0);

	/* counted under generation 2, carried again with the rest */
	rule_traffic(2, 1, 2)->bytes[1] = 60;
	*rule_near(2, 0, 2) = 1;
	p3 = policy_with_rules(3, new_names, new_ports, 3);
	assert_int_equal(ctl_publish(&fx.c, p3), 0);
	ctl_rule_counts(&fx.c, p3, 2, &n);
	redis_before.t.bytes[1] += 60;
	redis_before.near_miss += 1;
	assert_memory_equal(&n, &redis_before, sizeof(n));
}

/*
 * Per-rule counters survive a reload for the rules that still exist; they
 * live beside the policy, published with it, and the policy itself is
 * never written once published.
 */
static void
test_rule_counters_survive_reload(void **state)
{
	static const char *const old_names[] = { "redis", "mongo", "gone" };
	static const char *const new_names[] = { "new", "mongo", "redis" };
	uint16_t old_ports[] = { 6379, 27017, 443 }, new_ports[] = { 80, 27017, 6379 };
	struct policy *p1, *p2, *p3, before;
	struct policy_rule rules_before[3];
	(void)state;

	fx.c.n_workers = 2;
	p1 = policy_with_rules(1, old_names, old_ports, 3);
	assert_int_equal(ctl_publish(&fx.c, p1), 0);
	*rule_count(1, 0, 0) = 5; /* redis, worker 0 */
	*rule_count(1, 1, 0) = 2; /* redis, worker 1 */
	*rule_count(1, 1, 1) = 7; /* mongo */
	*rule_count(1, 0, 2) = 9; /* gone */
	assert_int_equal(ctl_rule_flows(&fx.c, p1, 0), 7);

	p2 = policy_with_rules(2, new_names, new_ports, 3);
	assert_int_equal(ctl_publish(&fx.c, p2), 0);
	assert_int_equal(ctl_rule_flows(&fx.c, p2, 0), 0); /* new */
	assert_int_equal(ctl_rule_flows(&fx.c, p2, 1), 7); /* mongo, carried */
	assert_int_equal(ctl_rule_flows(&fx.c, p2, 2), 7); /* redis, carried */
	*rule_count(2, 1, 2) = 1;
	assert_int_equal(ctl_rule_flows(&fx.c, p2, 2), 8);
	/* generation 1's counters went with it */
	assert_null(dp_counters(&fx.conf, 1));

	/* carried again, with what was counted under generation 2; the carry
	 * (after the exchange) writes nothing of the policy it publishes */
	p3 = policy_with_rules(3, new_names, new_ports, 3);
	before = *p3;
	memcpy(rules_before, p3->rules, sizeof(rules_before));
	assert_int_equal(ctl_publish(&fx.c, p3), 0);
	assert_memory_equal(p3, &before, sizeof(before));
	assert_memory_equal(p3->rules, rules_before, sizeof(rules_before));
	assert_int_equal(ctl_rule_flows(&fx.c, p3, 2), 8);
	assert_int_equal(ctl_rule_flows(&fx.c, p3, 1), 7);

	/* a generation out of turn would share its counters' slot: refused */
	p1 = policy_with_rules(5, old_names, old_ports, 3);
	assert_int_equal(ctl_publish(&fx.c, p1), -EINVAL);
	assert_ptr_equal(dp_policy(&fx.conf), p3);
	free_now(p1);
}

/* What the control thread logged while f ran, in buf (NUL-terminated). */
static char *
logged(void (*f)(void), char **buf)
{
	FILE *saved = rte_log_get_stream(), *mem;
	size_t len;

	mem = open_memstream(buf, &len);
	assert_non_null(mem);
	assert_int_equal(rte_openlog_stream(mem), 0);
	f();
	rte_openlog_stream(saved);
	fclose(mem);
	return *buf;
}

static unsigned int
count_of(const char *hay, const char *needle)
{
	unsigned int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

/* A worker that passes its quiescent state only after ms (a thread of its own). */
struct late_worker {
	pthread_t thread;
	unsigned int ms;
};

static void *
quiesce_late(void *arg)
{
	const struct late_worker *l = arg;
	struct timespec ts = { .tv_sec = l->ms / 1000, .tv_nsec = (long)(l->ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
	dp_worker_quiesce(fx.worker);
	return NULL;
}

static struct policy *stalled_next;

static void
publish_while_stalled(void)
{
	assert_int_equal(ctl_publish(&fx.c, stalled_next), 0);
}

/*
 * A reload held by a worker that finishes no loop says so: after a second,
 * one WARNING naming the worker and its lcore; once the worker passes, one
 * INFO with the wait.
 */
static void
test_reload_names_a_stalled_worker(void **state)
{
	struct late_worker late = { .ms = 2500 };
	char *buf = NULL, want[256];
	(void)state;

	assert_int_equal(ctl_publish(&fx.c, fake_policy(1)), 0);
	dp_worker_online(fx.worker); /* on line, in a burst that does not end */
	stalled_next = fake_policy(2);
	assert_int_equal(pthread_create(&late.thread, NULL, quiesce_late, &late), 0);
	logged(publish_while_stalled, &buf);
	assert_int_equal(pthread_join(late.thread, NULL), 0);
	/* the first wall-clock millisecond at or past 1000 (a loaded machine
	 * may wake later than asked) */
	snprintf(want, sizeof(want),
		 " ms for worker 0 (lcore %u), which has not finished a loop "
		 "since: the old policy is freed once it does\n",
		 dp_worker_lcore(fx.worker));
	{
		const char *at = strstr(buf, "egressd: reload to generation 2: waiting ");
		unsigned long ms;
		char *end;

		assert_non_null(at);
		ms = strtoul(at + strlen("egressd: reload to generation 2: waiting "), &end, 10);
		assert_true(ms >= 1000 && ms < 2500);
		assert_true(strncmp(end, want, strlen(want)) == 0);
	}
	assert_int_equal(count_of(buf, "waiting"), 1);
	assert_int_equal(
		count_of(buf, "egressd: reload to generation 2: every worker passed after "), 1);
	assert_ptr_equal(dp_policy(&fx.conf), stalled_next);
	free(buf);
	dp_worker_offline(fx.worker);
}

static uint32_t tickets[CTL_RELOAD_WHY_MAX];

static void
ask_three_then_poll(void)
{
	tickets[0] = ctl_request_reload(&fx.c, CTL_RELOAD_SIGHUP);
	tickets[1] = ctl_request_reload(&fx.c, CTL_RELOAD_SOURCES);
	tickets[2] = ctl_request_reload(&fx.c, CTL_RELOAD_TELEMETRY);
	assert_false(ctl_reload_served(&fx.c, tickets[0]));
	ctl_poll(&fx.c, 1000);
}

static void
ask_dns_then_poll_twice(void)
{
	tickets[3] = ctl_request_reload(&fx.c, CTL_RELOAD_DNS);
	ctl_poll(&fx.c, 1001);
	ctl_poll(&fx.c, 1002);
}

/*
 * Every trigger reaches lib/ctl, and one ctl_poll() runs one
 * reload for all the requests made since the last, serves every ticket, and
 * says why once; a poll with nothing asked reloads nothing.
 */
static void
test_reload_requests_coalesce(void **state)
{
	struct egress_config cfg = { .path = "test" };
	char *buf = NULL;
	(void)state;

	fx.c.cfg = &cfg;
	builds = 0;
	ctl_publish(&fx.c, fake_policy(1));
	logged(ask_three_then_poll, &buf);
	assert_int_equal(builds, 1);
	assert_int_equal(fx.c.reloads, 1);
	assert_int_equal(fx.c.reload_result, 0);
	assert_int_equal(dp_policy(&fx.conf)->generation, 2);
	assert_true(ctl_reload_served(&fx.c, tickets[0]));
	assert_true(ctl_reload_served(&fx.c, tickets[2]));
	assert_int_equal(count_of(buf, "egressd: SIGHUP, policy sources changed, /egress/reload: "
				       "reloading the policy\n"),
			 1);
	assert_int_equal(count_of(buf, "reloading the policy"), 1);
	assert_int_equal(count_of(buf, "egressd: policy generation 2 published: 0 rules\n"), 1);
	free(buf);

	/* a DNS change alone recompiles (as it always said), once */
	logged(ask_dns_then_poll_twice, &buf);
	assert_int_equal(builds, 2);
	assert_true(ctl_reload_served(&fx.c, tickets[3]));
	assert_int_equal(count_of(buf, "egressd: DNS answers changed: recompiling the policy\n"),
			 1);
	assert_int_equal(count_of(buf, "the policy\n"), 1);
	assert_int_equal(dp_policy(&fx.conf)->generation, 3);
	free(buf);
	fx.c.cfg = NULL;
}

/*
 * lib/ctl logs under a DPDK log type of its own, "egressd.ctl"
 * (lib/common/log.h), not USER1: --log-level='egressd.*:warning' quiets its
 * INFO lines, USER1's level does not; the lines keep their "egressd: ".
 */
static void
test_ctl_logs_under_its_own_type(void **state)
{
	struct egress_config cfg = { .path = "test" };
	int t = rte_log_register("egressd.ctl"); /* registered already: its id */
	char *buf = NULL;
	(void)state;

	assert_true(t >= 0);
	assert_int_not_equal(t, RTE_LOGTYPE_USER1);
	fx.c.cfg = &cfg;
	builds = 0;
	ctl_publish(&fx.c, fake_policy(1));

	assert_int_equal(rte_log_set_level_pattern("egressd.*", RTE_LOG_WARNING), 0);
	logged(ask_three_then_poll, &buf);
	assert_int_equal(builds, 1);
	assert_int_equal(count_of(buf, "reloading the policy"), 0);
	free(buf);

	assert_int_equal(rte_log_set_level_pattern("egressd.*", RTE_LOG_INFO), 0);
	rte_log_set_level(RTE_LOGTYPE_USER1, RTE_LOG_WARNING);
	logged(ask_three_then_poll, &buf);
	rte_log_set_level(RTE_LOGTYPE_USER1, RTE_LOG_INFO);
	assert_int_equal(builds, 2);
	assert_int_equal(count_of(buf, "egressd: SIGHUP, policy sources changed, /egress/reload: "
				       "reloading the policy\n"),
			 1);
	assert_int_equal(strncmp(buf, "egressd: ", 9), 0);
	free(buf);
	fx.c.cfg = NULL;
}

/* The control thread's side of a build: the cache wants n names now. */
static void
dns_want_names(unsigned int n)
{
	char name[64];
	unsigned int i;

	dns_mark_begin(fx.c.dns);
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "host-%u.example.internal", i);
		assert_int_equal(dns_want(fx.c.dns, name), 0);
	}
	dns_sweep(fx.c.dns);
	ctl_dns_stats_publish(&fx.c);
}

static int64_t
stats_dns_names(void)
{
	struct rte_tel_data *d = rte_tel_data_alloc();

	assert_non_null(d);
	reply_dns_names = -1;
	assert_int_equal(tel_stats("/egress/stats", NULL, d), 0);
	rte_tel_data_free(d);
	return reply_dns_names;
}

#define TEL_CLIENTS   (CTL_TEL_READERS + 1) /* telemetry client threads at once */
#define TEL_RULES     16                    /* rules per policy */
#define TEL_PUBLISHES 200
#define DNS_FEW       20 /* the two sizes the control thread alternates */
#define DNS_MANY      700

struct client {
	pthread_t t;
	bool rules; /* asks /egress/rules, else /egress/stats */
	bool once;  /* one request, else until clients_stop */
	unsigned int replies;
	unsigned int errors;  /* replies refused, or "busy" */
	unsigned int odd_dns; /* dns_names neither published figure */
};

static uint32_t clients_stop;

static void *
client_main(void *arg)
{
	struct client *cl = arg;

	do {
		struct rte_tel_data *d;
		int64_t n;

		/* no cmocka assertion off the main thread: counted instead */
		d = rte_tel_data_alloc();
		if (d == NULL) {
			cl->errors++;
			continue;
		}
		reply_dns_names = -1;
		reply_error[0] = '\0';
		if ((cl->rules ? tel_rules : tel_stats)("/egress/x", NULL, d) != 0 ||
		    reply_error[0] != '\0')
			cl->errors++;
		rte_tel_data_free(d);
		n = reply_dns_names;
		if (!cl->rules)
			cl->odd_dns += n != DNS_FEW && n != DNS_MANY;
		cl->replies++;
	} while (!cl->once && !__atomic_load_n(&clients_stop, __ATOMIC_SEQ_CST));
	return NULL;
}

/*
 * Several telemetry clients at once (DPDK gives each its own
 * thread) while the control thread publishes policies and rebuilds its DNS
 * cache. No policy is freed while a listing reads it (every rule line was
 * read from a live policy), and /egress/stats never reads the DNS cache
 * itself, only the figures the control thread published (so never one
 * half-way through a build).
 */
static void
test_telemetry_clients_race_publishes(void **state)
{
	static const char *names[TEL_RULES];
	uint16_t ports[TEL_RULES];
	struct client cl[TEL_CLIENTS] = { 0 };
	unsigned int i, k;
	(void)state;

	for (i = 0; i < TEL_RULES; i++) {
		names[i] = "redis";
		ports[i] = (uint16_t)(6000 + i);
	}
	quarantine = true;
	read_freed = 0;
	rule_reads = 0;
	dns_read_elsewhere = 0;
	clients_stop = 0;
	dns_want_names(DNS_FEW);
	ctl_publish(&fx.c, policy_with_rules(1, names, ports, TEL_RULES));
	for (i = 0; i < TEL_CLIENTS; i++) {
		cl[i].rules = i != 0; /* as many listings as reader ids, one stats reader */
		assert_int_equal(pthread_create(&cl[i].t, NULL, client_main, &cl[i]), 0);
	}
	for (k = 2; k <= TEL_PUBLISHES; k++) {
		struct timespec ms1 = { .tv_sec = 0, .tv_nsec = 1000 * 1000 };

		dns_want_names(k % 2 ? DNS_FEW : DNS_MANY);
		ctl_publish(&fx.c, policy_with_rules(k, names, ports, TEL_RULES));
		nanosleep(&ms1, NULL);
	}
	__atomic_store_n(&clients_stop, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < TEL_CLIENTS; i++)
		assert_int_equal(pthread_join(cl[i].t, NULL), 0);
	print_message("%u rule lines read, %u from a freed policy; DNS cache read %u times "
		      "off the control thread\n",
		      rule_reads, read_freed, dns_read_elsewhere);
	assert_true(rule_reads > 0);
	assert_int_equal(read_freed, 0);
	assert_int_equal(dns_read_elsewhere, 0);
	for (i = 0; i < TEL_CLIENTS; i++) {
		assert_true(cl[i].replies > 0);
		assert_int_equal(cl[i].errors, 0);
		assert_int_equal(cl[i].odd_dns, 0);
	}
	assert_int_equal(n_freed, TEL_PUBLISHES - 1);

	/* what the last build left, exactly */
	assert_int_equal(stats_dns_names(), DNS_MANY);
}

/* A listing of the running policy from this thread: its "error", if any. */
static const char *
rules_error(void)
{
	struct rte_tel_data *d = rte_tel_data_alloc();

	assert_non_null(d);
	reply_error[0] = '\0';
	assert_int_equal(tel_rules("/egress/rules", NULL, d), 0);
	rte_tel_data_free(d);
	return reply_error;
}

/*
 * Each listing in progress holds a reader id of its own; one more than
 * there are ids is told "busy" at once (not waited for, not sharing an id),
 * and when they are done the ids are free again.
 */
static void
test_telemetry_listings_beyond_the_pool_are_busy(void **state)
{
	static const char *names[] = { "redis" };
	uint16_t ports[] = { 6379 };
	struct timespec ms1 = { .tv_sec = 0, .tv_nsec = 1000 * 1000 };
	struct client cl[CTL_TEL_READERS] = { 0 };
	unsigned int i, waited;
	char busy[64];
	(void)state;

	ctl_publish(&fx.c, policy_with_rules(1, names, ports, 1));
	listings_held = 0;
	__atomic_store_n(&hold_listings, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < CTL_TEL_READERS; i++) {
		cl[i].rules = true;
		cl[i].once = true;
		assert_int_equal(pthread_create(&cl[i].t, NULL, client_main, &cl[i]), 0);
	}
	for (waited = 0; waited < 5000; waited++) {
		if (__atomic_load_n(&listings_held, __ATOMIC_SEQ_CST) == CTL_TEL_READERS)
			break;
		nanosleep(&ms1, NULL);
	}
	/* every id taken: told so */
	snprintf(busy, sizeof(busy), "busy: %u listings in progress; ask again", CTL_TEL_READERS);
	assert_string_equal(rules_error(), busy);
	__atomic_store_n(&hold_listings, 0, __ATOMIC_SEQ_CST);
	for (i = 0; i < CTL_TEL_READERS; i++) {
		assert_int_equal(pthread_join(cl[i].t, NULL), 0);
		assert_int_equal(cl[i].replies, 1);
		assert_int_equal(cl[i].errors, 0);
	}
	assert_int_equal(listings_held, CTL_TEL_READERS);
	/* all given back: a listing again, and nothing holds the policy */
	assert_string_equal(rules_error(), "");
	ctl_publish(&fx.c, policy_with_rules(2, names, ports, 1));
	assert_int_equal(n_freed, 1);
	assert_int_equal(freed[0], 1);
}

/*
 * The leaf paths of a JSON object, in order ("ports/inside/rx"): enough of
 * JSON for the one line ctl_stats_json() writes (objects, strings, numbers).
 */
static unsigned int
json_paths(const char *s, char (*paths)[KEY_LEN], unsigned int max)
{
	char names[4][KEY_LEN], key[KEY_LEN] = "";
	unsigned int level = 0, n = 0, i;
	bool have_key = false;

	while (*s != '\0') {
		if (*s == '"') {
			char str[KEY_LEN];
			size_t len = 0;

			for (s++; *s != '"' && *s != '\0'; s++) {
				if (*s == '\\')
					s++;
				if (len + 1 < sizeof(str))
					str[len++] = *s;
			}
			str[len] = '\0';
			s++;
			if (*s == ':') {
				memcpy(key, str, sizeof(str));
				have_key = true;
				s++;
				continue;
			}
		} else if (*s == '{') {
			assert_true(level < RTE_DIM(names));
			if (level > 0)
				memcpy(names[level - 1], key, KEY_LEN);
			level++;
			have_key = false;
			s++;
			continue;
		} else if (*s == '}') {
			level--;
			s++;
			continue;
		} else if (*s == ',' || *s == '\n') {
			s++;
			continue;
		} else {
			while (*s != ',' && *s != '}' && *s != '\0')
				s++;
		}
		/* a value: string or scalar */
		assert_true(have_key && n < max);
		paths[n][0] = '\0';
		for (i = 0; i + 1 < level; i++) {
			strcat(paths[n], names[i]);
			strcat(paths[n], "/");
		}
		strcat(paths[n], key);
		n++;
		have_key = false;
	}
	return n;
}

static bool
has_path(char (*paths)[KEY_LEN], unsigned int n, const char *path)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (strcmp(paths[i], path) == 0)
			return true;
	return false;
}

/*
 * /egress/stats and the final JSON come from one walk
 * (ctl_stats_walk()), so they list the same keys in the same order: the
 * JSON gained last_reload_time, dns_* and the ports at the top level,
 * telemetry gained "ports" (its members named "inside/rx": telemetry nests
 * one level), and every key either had is still there.
 */
static void
test_stats_outputs_list_the_same_keys(void **state)
{
	static char json_keys[KEYS_MAX][KEY_LEN];
	static const char *const must[] = {
		"policy_generation",
		"reloads",
		"reload_failures",
		"last_reload_error",
		"last_reload_time",
		"flows_active",
		"bytes_per_flow",
		"flows_created",
		"icmp_translated",
		"denied_no_address",
		"idle_sleeps",
		"idle_wakeups_interrupt",
		"idle_wakeups_timeout",
		"sync_records_lost",
		"sync_flows_installed",
		"sync_install_failed",
		"cycles_per_packet",
		"cycles_per_packet_loop",
		"nat_port_choice",
		"handed_off_percent",
		"flowlog_records",
		"flowlog_dropped",
		"flowlog_suppressed",
		"flowlog_unwritten",
		"sync_records_sent",
		"sync_records_received",
		"sync_records_malformed",
		"sync_send_errors",
		"sync_peer_flows",
		"sync_peer_flows_dropped",
		"sync_flows_queued",
		"sync_flows_skipped",
		"sync_peer_alive",
		"sync_takeover",
		"dns_names",
		"dns_lookups",
		"dns_failures",
		"dns_stale",
		"dns_changes",
		"drops/policy_denied",
		"drops/no_flow",
		"inside/rx",
		"inside/neigh_learn_dropped",
		"outside/dropped",
		"ports/inside/rx",
		"ports/outside/tx",
		"ports/outside/neigh_learn_dropped",
		"inside/rx_bytes",
		"ports/outside/tx_bytes",
	};
	struct rte_tel_data *d = rte_tel_data_alloc();
	unsigned int n_json, i;
	char *json = NULL;
	size_t len;
	FILE *f;
	(void)state;

	dns_want_names(3);
	f = open_memstream(&json, &len);
	assert_non_null(f);
	ctl_stats_json(&fx.c, f);
	fclose(f);
	n_json = json_paths(json, json_keys, KEYS_MAX);
	free(json);

	assert_non_null(d);
	recording = true;
	n_rec = 0;
	assert_int_equal(tel_stats("/egress/stats", NULL, d), 0);
	recording = false;
	rte_tel_data_free(d);

	for (i = 0; i < n_rec && i < n_json; i++) {
		assert_ptr_equal(rec[i].d, d); /* every member reached the reply */
		assert_string_equal(rec[i].path, json_keys[i]);
	}
	assert_int_equal(n_rec, n_json);
	for (i = 0; i < RTE_DIM(must); i++) {
		if (!has_path(json_keys, n_json, must[i]))
			fail_msg("no %s", must[i]);
	}
}

/*
 * bytes_per_flow is every worker's flow memory over the capacity of all
 * their tables, not worker 0's: a second worker with a per-source table
 * (more memory per flow) and sixteen times the capacity moves the figure.
 */
static void
test_bytes_per_flow_over_every_worker(void **state)
{
	struct dp_worker_params wp = {
		.id = 1,
		.conf = &fx.conf,
		.pool = NULL,
		.qsbr = NULL,
		.max_flows = 1024,
		.socket_id = SOCKET_ID_ANY,
	};
	uint64_t mem0 = dp_flow_memory(fx.worker), mem1, cap0 = 64, cap1 = 1024;
	struct dp_worker *w1;
	(void)state;

	wp.pool = rte_mempool_lookup("ctl_test");
	assert_non_null(wp.pool);
	fx.conf.n_workers = 2;
	fx.conf.source_max = 4;
	w1 = dp_worker_create(&wp);
	assert_non_null(w1);
	fx.workers[1] = w1;
	fx.c.n_workers = 2;
	mem1 = dp_flow_memory(w1);
	assert_true(mem1 / cap1 != mem0 / cap0);
	assert_int_equal(ctl_bytes_per_flow(&fx.c), (mem0 + mem1) / (cap0 + cap1));
	fx.c.n_workers = 1;
	fx.workers[1] = NULL;
	dp_worker_free(w1);
	fx.conf.n_workers = 1;
	fx.conf.source_max = 0;
}

/* ------------------------------------------------- NAT port saturation */

#define NAT_A  RTE_BE32(0xcb00710a) /* 203.0.113.10 */
#define NAT_B  RTE_BE32(0xcb00710b) /* 203.0.113.11 */
#define DST_R  RTE_BE32(0x0a3b763b) /* 10.59.118.59 */
#define DST_O  RTE_BE32(0x0a3b763c) /* 10.59.118.60 */
#define NAT_T0 1000000u

static uint16_t nat_next_port = 1000;

/* n more (or, n < 0, fewer) ports of worker 0 in use from addr toward dst:6379/tcp. */
static void
nat_ports(uint32_t addr, uint32_t dst, int n)
{
	struct nat_dests *d = (struct nat_dests *)(uintptr_t)dp_worker_nat_dests(fx.worker);

	for (; n > 0; n--) {
		struct flow_key k = { .src_ip = dst,
				      .dst_ip = addr,
				      .src_port = RTE_BE16(6379),
				      .dst_port = rte_cpu_to_be_16(nat_next_port++),
				      .proto = IPPROTO_TCP };

		assert_int_equal(nat_dests_add(d, &k), 0);
	}
	for (; n < 0; n++) {
		struct flow_key k = { .src_ip = dst,
				      .dst_ip = addr,
				      .src_port = RTE_BE16(6379),
				      .proto = IPPROTO_TCP };

		nat_dests_remove(d, &k, true);
	}
}

/* NAT addresses NAT_A and NAT_B, ports 1000-1099. */
static void
nat_conf_two_addrs(void)
{
	fx.conf.nat_addrs[0] = NAT_A;
	fx.conf.nat_addrs[1] = NAT_B;
	fx.conf.n_nat_addrs = 2;
	fx.conf.nat_port_lo = 1000;
	fx.conf.nat_port_hi = 1099;
}

static uint64_t nat_poll_at;

static void
nat_poll(void)
{
	ctl_nat_poll(&fx.c, nat_poll_at);
}

/* What ctl_nat_poll() logs at now (free() it). */
static char *
nat_poll_log(uint64_t now)
{
	char *buf = NULL;

	nat_poll_at = now;
	return logged(nat_poll, &buf);
}

static void
assert_nat_log(uint64_t now, const char *want)
{
	char *got = nat_poll_log(now);

	assert_string_equal(got, want);
	free(got);
}

#define WARN_80                                                                                    \
	"egressd: NAT ports: 203.0.113.10 toward 10.59.118.59:6379/tcp at 80.0 % of worker 0's "   \
	"share (80 of 100 ports), above 80 %: add NAT addresses (nat.addresses), widen nat.ports " \
	"or spread the flows over more destinations\n"
#define WARN_95                                                                                    \
	"egressd: NAT ports: 203.0.113.10 toward 10.59.118.59:6379/tcp at 95.0 % of worker 0's "   \
	"share (95 of 100 ports), above 95 %: add NAT addresses (nat.addresses), widen nat.ports " \
	"or spread the flows over more destinations\n"

/*
 * The figures every consumer reads (ctl_nat_read(), ctl_nat_dests()) and
 * the warnings, with exact values: a 100-port share (one worker, ports
 * 1000-1099), two NAT addresses, two destinations on the first. Warnings
 * at 80 % and 95 % when crossed upward, one per level per minute, quiet
 * within the band, a line back below 80 %; never for the other address.
 */
static void
test_nat_utilization_and_warnings(void **state)
{
	struct ctl_nat n;
	struct ctl_nat_dest *d;
	(void)state;

	nat_conf_two_addrs();
	assert_int_equal(rte_log_set_level_pattern("egressd.*", RTE_LOG_INFO), 0);
	nat_ports(NAT_A, DST_R, 79);
	nat_ports(NAT_A, DST_O, 10);
	nat_ports(NAT_B, DST_R, 5);

	ctl_nat_read(&fx.c, &n);
	assert_int_equal(n.n_addrs, 2);
	assert_int_equal(n.a[0].addr, NAT_A);
	assert_int_equal(n.a[0].ports_in_use, 89);
	assert_int_equal(n.a[0].destinations, 2);
	assert_int_equal(n.a[0].fullest.dst_ip, DST_R);
	assert_int_equal(n.a[0].fullest.count, 79);
	assert_int_equal(n.a[0].share, 100);
	assert_true(ctl_nat_utilization(&n.a[0]) == 79.0 / 100);
	assert_int_equal(n.a[1].ports_in_use, 5);
	assert_int_equal(n.a[1].fullest.count, 5);
	assert_int_equal(n.untracked, 0);
	/* per destination: by address as configured, most ports first */
	assert_int_equal(ctl_nat_dests(&fx.c, &d), 3);
	assert_int_equal(d[0].d.addr, NAT_A);
	assert_int_equal(d[0].d.dst_ip, DST_R);
	assert_int_equal(d[0].d.count, 79);
	assert_int_equal(d[0].share_count, 79);
	assert_int_equal(d[0].share, 100);
	assert_int_equal(d[1].d.dst_ip, DST_O);
	assert_int_equal(d[1].d.count, 10);
	assert_int_equal(d[2].d.addr, NAT_B);
	assert_int_equal(d[2].d.count, 5);
	free(d);

	assert_nat_log(NAT_T0, ""); /* 79 % */
	nat_ports(NAT_A, DST_R, 1);
	assert_nat_log(NAT_T0 + 500, ""); /* not read again within CTL_NAT_POLL_MS */
	assert_nat_log(NAT_T0 + 1000, WARN_80);
	assert_nat_log(NAT_T0 + 2000, ""); /* still 80 %: said once */
	nat_ports(NAT_A, DST_R, 15);
	assert_nat_log(NAT_T0 + 3000, WARN_95);
	nat_ports(NAT_A, DST_R, -1);
	assert_nat_log(NAT_T0 + 4000, ""); /* 94 %: within the band, quiet */
	nat_ports(NAT_A, DST_R, 1);
	assert_nat_log(NAT_T0 + 5000, ""); /* 95 % again within the minute: held back */
	assert_nat_log(NAT_T0 + 3000 + CTL_NAT_WARN_INTERVAL_MS, WARN_95); /* still so */
	nat_ports(NAT_A, DST_R, -16);
	assert_nat_log(NAT_T0 + 64000,
		       "egressd: NAT ports: 203.0.113.10 back below 80 % (fullest share 79.0 %)\n");
	assert_nat_log(NAT_T0 + 65000, "");
	nat_ports(NAT_A, DST_R, -79);
	nat_ports(NAT_A, DST_O, -10);
	nat_ports(NAT_B, DST_R, -5);
	ctl_nat_read(&fx.c, &n);
	assert_int_equal(n.a[0].ports_in_use + n.a[1].ports_in_use, 0);
	assert_true(ctl_nat_utilization(&n.a[0]) == 0);
	assert_int_equal(ctl_nat_dests(&fx.c, &d), 0);
	free(d);
}

/* The final JSON of fx.c (free() it). */
static char *
stats_json(void)
{
	char *json = NULL;
	size_t len;
	FILE *f = open_memstream(&json, &len);

	assert_non_null(f);
	ctl_stats_json(&fx.c, f);
	fclose(f);
	return json;
}

/*
 * With the outside port's RSS known's RSS known (conf->rss, 2 workers, the default key,
 * RETA alternating), a worker's share toward a destination is the ports
 * whose reply hashes to its queue (counted here bit by bit), not half the
 * range; the stats say "rss", and how many outside frames were handed off,
 * in percent of those received.
 */
static void
test_nat_share_by_rss(void **state)
{
	uint16_t reta[128];
	struct dp_stats *st = (struct dp_stats *)(uintptr_t)dp_worker_stats(fx.worker);
	uint32_t expect = 0, p;
	struct ctl_nat_dest *d;
	struct ctl_nat n;
	char *json;
	(void)state;

	test_reta_fill(reta, 128, 2, 1);
	for (p = 1000; p <= 1099; p++)
		expect += reta[toeplitz_v4(toeplitz_default_key, DST_R, NAT_A, RTE_BE16(6379),
					   rte_cpu_to_be_16((uint16_t)p)) &
			       127] == 0;
	assert_true(expect != 50); /* a share of the hash, not of the range */
	fx.conf.nat_addrs[0] = NAT_A;
	fx.conf.n_nat_addrs = 1;
	fx.conf.nat_port_lo = 1000;
	fx.conf.nat_port_hi = 1099;
	fx.conf.n_workers = 2;
	fx.conf.rss = test_rss_create(toeplitz_default_key, reta, 128, 2, 1000, 1099);
	assert_non_null(fx.conf.rss);
	nat_ports(NAT_A, DST_R, 7);
	ctl_nat_read(&fx.c, &n);
	assert_int_equal(n.a[0].fullest.count, 7);
	assert_int_equal(n.a[0].share, expect);
	assert_int_equal(ctl_nat_dests(&fx.c, &d), 1);
	assert_int_equal(d[0].share, expect);
	free(d);

	st->handed_off = 1;
	st->port[DP_OUTSIDE].rx = 8;
	json = stats_json();
	assert_non_null(strstr(json, "\"nat_port_choice\":\"rss\","));
	assert_non_null(strstr(json, "\"handed_off_percent\":12.5,"));
	free(json);

	nat_ports(NAT_A, DST_R, -7);
	st->handed_off = 0;
	st->port[DP_OUTSIDE].rx = 0;
	nat_rss_free(fx.conf.rss);
	fx.conf.rss = NULL;
	fx.conf.n_workers = 1;
	json = stats_json();
	assert_non_null(strstr(json, "\"nat_port_choice\":\"share\","));
	assert_non_null(strstr(json, "\"handed_off_percent\":0.0,"));
	free(json);
}

static void
log_holes(void)
{
	ctl_nat_log_holes(&fx.conf);
}

/*
 * The exception path's ports the NAT never binds (conf->nat_holes) are no
 * part of a share: one worker, ports 1000-1099, two TCP holes on the first
 * address: its share toward a TCP destination is 98, the other address's
 * (one TCP hole) 99; with the outside RSS known, the worker's hash share
 * less the holes whose reply lands on its queue. The start-up line names
 * them, one line per address.
 */
static void
test_nat_share_less_holes(void **state)
{
	uint16_t reta[128];
	uint32_t expect = 0, p, k;
	struct ctl_nat n;
	char *log = NULL;
	(void)state;

	nat_conf_two_addrs();
	fx.conf.nat_holes[0] = (struct nat_hole){ NAT_A, 1000, IPPROTO_TCP };
	fx.conf.nat_holes[1] = (struct nat_hole){ NAT_A, 1001, IPPROTO_UDP };
	fx.conf.nat_holes[2] = (struct nat_hole){ NAT_A, 1099, IPPROTO_TCP };
	fx.conf.nat_holes[3] = (struct nat_hole){ NAT_B, 1050, IPPROTO_TCP };
	fx.conf.n_nat_holes = 4;
	nat_ports(NAT_A, DST_R, 7);
	nat_ports(NAT_B, DST_R, 3);
	ctl_nat_read(&fx.c, &n);
	assert_int_equal(n.a[0].fullest.count, 7);
	assert_int_equal(n.a[0].share, 98);
	assert_int_equal(n.a[1].fullest.count, 3);
	assert_int_equal(n.a[1].share, 99);

	assert_int_equal(rte_log_set_level_pattern("egressd.*", RTE_LOG_INFO), 0);
	assert_string_equal(logged(log_holes, &log),
			    "egressd: NAT ports: never bound on 203.0.113.10: tcp/1000, udp/1001, "
			    "tcp/1099 (the exception path's, inside nat.ports 1000-1099)\n"
			    "egressd: NAT ports: never bound on 203.0.113.11: tcp/1050 (the "
			    "exception path's, inside nat.ports 1000-1099)\n");
	free(log);

	test_reta_fill(reta, 128, 2, 1);
	for (p = 1000; p <= 1099; p++)
		expect += reta[toeplitz_v4(toeplitz_default_key, DST_R, NAT_A, RTE_BE16(6379),
					   rte_cpu_to_be_16((uint16_t)p)) &
			       127] == 0;
	for (k = 0; k < 3; k += 2)
		expect -= reta[toeplitz_v4(toeplitz_default_key, DST_R, NAT_A, RTE_BE16(6379),
					   rte_cpu_to_be_16(fx.conf.nat_holes[k].port)) &
			       127] == 0;
	fx.conf.n_workers = 2;
	fx.conf.rss = test_rss_create(toeplitz_default_key, reta, 128, 2, 1000, 1099);
	assert_non_null(fx.conf.rss);
	ctl_nat_read(&fx.c, &n);
	assert_int_equal(n.a[0].share, expect);

	nat_ports(NAT_A, DST_R, -7);
	nat_ports(NAT_B, DST_R, -3);
	nat_rss_free(fx.conf.rss);
	fx.conf.rss = NULL;
	fx.conf.n_workers = 1;
	fx.conf.n_nat_holes = 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_publish_frees_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_policy_outlives_its_readers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_publishes_free_each_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rule_counters_survive_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rule_traffic_survives_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_requests_coalesce, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_logs_under_its_own_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_names_a_stalled_worker, setup_telemetry,
						teardown),
		cmocka_unit_test_setup_teardown(test_telemetry_clients_race_publishes,
						setup_telemetry, teardown),
		cmocka_unit_test_setup_teardown(test_telemetry_listings_beyond_the_pool_are_busy,
						setup_telemetry, teardown),
		cmocka_unit_test_setup_teardown(test_bytes_per_flow_over_every_worker,
						setup_telemetry, teardown),
		cmocka_unit_test_setup_teardown(test_nat_utilization_and_warnings, setup_telemetry,
						teardown),
		cmocka_unit_test_setup_teardown(test_nat_share_by_rss, setup_telemetry, teardown),
		cmocka_unit_test_setup_teardown(test_nat_share_less_holes, setup_telemetry,
						teardown),
		cmocka_unit_test_setup_teardown(test_stats_outputs_list_the_same_keys,
						setup_telemetry, teardown),
	};

	if (test_eal_init("ctl") != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
