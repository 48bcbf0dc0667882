/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Control thread: policy publication, reloads, neighbour resolution.
 *
 * Publication order (doc/reload.md): the new policy is complete before the
 * release store that makes it visible; the old one is freed only after
 * the QSBR has seen every worker pass a quiescent state, i.e. finish the
 * burst during which it may have loaded the old pointer (ctl_synchronize(),
 * which names a worker that keeps it waiting).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "ctl.h"
#include "ctl_nat.h"
#include "dns.h"
#include "log.h"
#include "neigh.h"
#include "policy_build.h"

EGRESS_LOG_TYPE(ctl);

#define CTL_EVENTS_PER_TICK 256
#define CTL_DNS_STATS_MS    100 /* DNS figures in /egress/stats at most this old */

/* Rules are "the same" across reloads when entry name and match are. */
static int
rule_cmp(const struct policy_rule *a, const struct policy_rule *b)
{
	if (a->dst_ip != b->dst_ip)
		return a->dst_ip < b->dst_ip ? -1 : 1;
	if (a->prefix_len != b->prefix_len)
		return a->prefix_len < b->prefix_len ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	if (a->proto != b->proto)
		return a->proto < b->proto ? -1 : 1;
	return strcmp(a->name, b->name);
}

static const struct policy *sort_policy; /* qsort has no argument; control thread only */

static int
rule_idx_cmp(const void *x, const void *y)
{
	return rule_cmp(&sort_policy->rules[*(const uint32_t *)x],
			&sort_policy->rules[*(const uint32_t *)y]);
}

void
ctl_rule_counts(const struct ctl *c, const struct policy *p, uint32_t rule,
		struct dp_rule_counts *out)
{
	const struct dp_counters *cnt = dp_counters(c->conf, p->generation);
	unsigned int w, d;

	memset(out, 0, sizeof(*out));
	if (cnt == NULL || cnt->rule_carried == NULL || rule >= p->n_rules)
		return;
	*out = cnt->rule_carried[rule];
	for (w = 0; w < c->n_workers; w++) {
		if (cnt->rule_flows != NULL)
			out->flows += __atomic_load_n(&cnt->rule_flows[w * cnt->rule_stride + rule],
						      __ATOMIC_RELAXED);
		if (cnt->rule_near_miss != NULL)
			out->near_miss +=
				__atomic_load_n(&cnt->rule_near_miss[w * cnt->rule_stride + rule],
						__ATOMIC_RELAXED);
		for (d = 0; cnt->rule_traffic != NULL && d < 2; d++) {
			struct dp_rule_traffic *t =
				&cnt->rule_traffic[w * cnt->traffic_stride + rule];

			out->t.packets[d] += __atomic_load_n(&t->packets[d], __ATOMIC_RELAXED);
			out->t.bytes[d] += __atomic_load_n(&t->bytes[d], __ATOMIC_RELAXED);
		}
	}
}

uint64_t
ctl_rule_flows(const struct ctl *c, const struct policy *p, uint32_t rule)
{
	struct dp_rule_counts n;

	ctl_rule_counts(c, p, rule, &n);
	return n.flows;
}

/*
 * Carry the per-rule counts (flows, packets and bytes each way, near
 * misses) of old over to the rules of p that are the
 * same, into p's counters: after the grace period, when no worker counts
 * into old's any more. Sort + binary search: a reload of 10 000 entries
 * must not cost n^2.
 */
static void
carry_counters(const struct ctl *c, const struct policy *p, struct dp_counters *cnt,
	       const struct policy *old)
{
	uint32_t *idx, i, lo, hi;

	if (old->n_rules == 0 || cnt->rule_carried == NULL ||
	    dp_counters(c->conf, old->generation) == NULL)
		return;
	idx = malloc(sizeof(*idx) * old->n_rules);
	if (idx == NULL)
		return; /* counters restart: logged by nobody, harmless */
	for (i = 0; i < old->n_rules; i++)
		idx[i] = i;
	sort_policy = old;
	qsort(idx, old->n_rules, sizeof(*idx), rule_idx_cmp);
	for (i = 0; i < p->n_rules; i++) {
		lo = 0;
		hi = old->n_rules;
		while (lo < hi) {
			uint32_t mid = lo + (hi - lo) / 2;
			int d = rule_cmp(&old->rules[idx[mid]], &p->rules[i]);

			if (d == 0) {
				ctl_rule_counts(c, old, idx[mid], &cnt->rule_carried[i]);
				break;
			}
			if (d < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	free(idx);
}

/* n_workers rows of n counters of size bytes, each row whole cache lines. */
static void *
alloc_rows(unsigned int n_workers, uint32_t n, size_t size, uint32_t *stride, bool *failed)
{
	size_t per_line = RTE_CACHE_LINE_SIZE / size;
	size_t bytes;
	void *v;

	*stride = (uint32_t)((n + per_line - 1) / per_line * per_line);
	bytes = (size_t)*stride * n_workers * size;
	if (bytes == 0)
		return NULL;
	v = aligned_alloc(RTE_CACHE_LINE_SIZE, bytes);
	if (v == NULL)
		*failed = true;
	else
		memset(v, 0, bytes);
	return v;
}

struct dp_counters *
ctl_counters_create(unsigned int n_workers, const struct policy *p)
{
	struct dp_counters *cnt = calloc(1, sizeof(*cnt));
	bool failed = false;

	if (cnt == NULL)
		return NULL;
	cnt->generation = p->generation;
	cnt->rule_flows =
		alloc_rows(n_workers, p->n_rules, sizeof(uint64_t), &cnt->rule_stride, &failed);
	cnt->rule_near_miss =
		alloc_rows(n_workers, p->n_rules, sizeof(uint64_t), &cnt->rule_stride, &failed);
	cnt->rule_traffic = alloc_rows(n_workers, p->n_rules, sizeof(struct dp_rule_traffic),
				       &cnt->traffic_stride, &failed);
	cnt->cap_count =
		alloc_rows(n_workers, p->n_caps, sizeof(uint32_t), &cnt->cap_stride, &failed);
	cnt->target_active =
		alloc_rows(n_workers, p->n_targets, sizeof(uint32_t), &cnt->target_stride, &failed);
	if (p->n_rules > 0) {
		cnt->rule_carried = calloc(p->n_rules, sizeof(*cnt->rule_carried));
		failed |= cnt->rule_carried == NULL;
	}
	if (failed) {
		ctl_counters_free(cnt);
		return NULL;
	}
	return cnt;
}

void
ctl_counters_free(struct dp_counters *cnt)
{
	if (cnt == NULL)
		return;
	free(cnt->rule_flows);
	free(cnt->rule_near_miss);
	free(cnt->rule_traffic);
	free(cnt->cap_count);
	free(cnt->target_active);
	free(cnt->rule_carried);
	free(cnt);
}

/*
 * rte_rcu_qsbr_synchronize(), but a wait that lasts says who it waits for:
 * a worker stuck in a burst (a livelock, a debugger, a core taken away)
 * holds every reload, and the operator sees only a reload that never
 * returns. After CTL_SYNC_WARN_MS, and every CTL_SYNC_REPEAT_MS after
 * that, one WARNING names each worker whose loop counter has not moved
 * since the wait began (dp_stats.loops, as the watchdog reads it), or the
 * telemetry's listings when every worker moved; once it is over, one
 * INFO says how long it took. The policy is published meanwhile: new
 * bursts use it; only the old one's freeing waits.
 */
#define CTL_SYNC_WARN_MS   1000u
#define CTL_SYNC_REPEAT_MS 10000u

static void
ctl_synchronize(struct ctl *c, uint32_t generation)
{
	uint64_t token = rte_rcu_qsbr_start(c->qsbr), loops[RTE_MAX_LCORE];
	uint64_t tsc_per_ms = RTE_MAX(rte_get_tsc_hz() / 1000, (uint64_t)1), t0 = rte_rdtsc();
	unsigned int i,
		n = c->workers != NULL ? RTE_MIN(c->n_workers, (unsigned int)RTE_MAX_LCORE) : 0;
	uint64_t next_warn = CTL_SYNC_WARN_MS, ms = 0;
	bool warned = false;

	for (i = 0; i < n; i++)
		loops[i] = dp_worker_stats(c->workers[i])->loops;
	while (rte_rcu_qsbr_check(c->qsbr, token, false) != 1) {
		unsigned int stuck = 0;

		rte_delay_us_sleep(1000);
		/* the wall clock's ms, not the loop's: a loaded machine
		 * oversleeps */
		ms = (rte_rdtsc() - t0) / tsc_per_ms;
		if (ms < next_warn)
			continue;
		next_warn = ms + CTL_SYNC_REPEAT_MS;
		warned = true;
		for (i = 0; i < n; i++) {
			if (__atomic_load_n(&dp_worker_stats(c->workers[i])->loops,
					    __ATOMIC_RELAXED) != loops[i])
				continue;
			stuck++;
			EGRESS_LOG(WARNING,
				   "reload to generation %" PRIu32 ": waiting %" PRIu64
				   " ms for worker %u (lcore %u), which has not finished a loop "
				   "since: the old policy is freed once it does",
				   generation, ms, i, dp_worker_lcore(c->workers[i]));
		}
		if (stuck == 0)
			EGRESS_LOG(WARNING,
				   "reload to generation %" PRIu32 ": waiting %" PRIu64
				   " ms for a telemetry listing to finish",
				   generation, ms);
	}
	if (warned)
		EGRESS_LOG(INFO,
			   "reload to generation %" PRIu32 ": every worker passed after %" PRIu64
			   " ms",
			   generation, ms);
}

int
ctl_publish(struct ctl *c, struct policy *p)
{
	struct dp_counters *cnt, *old_cnt;
	struct policy *old = c->conf->policy; /* the control thread is its only writer */

	if (old != NULL && p->generation != old->generation + 1)
		return -EINVAL;
	cnt = ctl_counters_create(c->n_workers, p);
	if (cnt == NULL)
		return -ENOMEM;
	/* the slot of generation - 2, empty since the last publish; before
	 * the release that makes p, and so cnt, visible */
	__atomic_store_n(&c->conf->counters[p->generation & 1], cnt, __ATOMIC_RELAXED);
	old = __atomic_exchange_n(&c->conf->policy, p, __ATOMIC_ACQ_REL);
	c->generation = p->generation;
	c->last_reload_time = p->built_at;
	if (old == NULL)
		return 0;
	/* a worker may still be classifying and counting with old until its
	 * next quiescent state */
	if (c->qsbr != NULL)
		ctl_synchronize(c, p->generation);
	carry_counters(c, p, cnt, old);
	old_cnt = dp_counters(c->conf, old->generation);
	__atomic_store_n(&c->conf->counters[old->generation & 1], NULL, __ATOMIC_RELAXED);
	ctl_counters_free(old_cnt);
	policy_free(old);
	return 0;
}

void
ctl_free_policy(struct ctl *c)
{
	unsigned int i;

	if (c->conf == NULL)
		return;
	for (i = 0; i < RTE_DIM(c->conf->counters); i++) {
		ctl_counters_free(c->conf->counters[i]);
		c->conf->counters[i] = NULL;
	}
	policy_free(c->conf->policy);
	c->conf->policy = NULL;
}

void
ctl_dns_stats_publish(struct ctl *c)
{
	struct dns_stats st;

	if (c->dns == NULL)
		return;
	dns_stats_get(c->dns, &st);
	/* word by word: a reader may see one figure newer than another */
#define PUB(f) __atomic_store_n(&c->dns_pub.f, st.f, __ATOMIC_RELAXED);
	PUB(lookups) PUB(answers) PUB(failures) PUB(changes) PUB(names) PUB(stale)
#undef PUB
}

int
ctl_reload(struct ctl *c)
{
	struct diag_list dl = { 0 };
	struct policy *p;
	size_t i;

	{
		struct policy_build_params prm = {
			.cfg = c->cfg,
			.generation = c->generation + 1,
			.dns = c->dns,
		};

		p = policy_build_ex(&prm, &dl);
	}
	ctl_dns_stats_publish(c); /* the build added and dropped names */
	for (i = 0; i < dl.n; i++) {
		char line[1024];

		diag_format(&dl.v[i], line, sizeof(line));
		if (dl.v[i].sev == DIAG_ERROR)
			EGRESS_LOG(ERR, "%s", line);
		else
			EGRESS_LOG(WARNING, "%s", line);
	}
	if (p == NULL) {
		c->reload_failures++;
		for (i = 0; i < dl.n; i++) {
			if (dl.v[i].sev == DIAG_ERROR) {
				diag_format(&dl.v[i], c->last_reload_error,
					    sizeof(c->last_reload_error));
				break;
			}
		}
		if (i == dl.n)
			snprintf(c->last_reload_error, sizeof(c->last_reload_error),
				 "policy build failed (out of memory?)");
		EGRESS_LOG(ERR, "reload rejected; generation %u stays in force", c->generation);
		diag_list_clear(&dl);
		return -EINVAL;
	}
	diag_list_clear(&dl);
	if (ctl_publish(c, p) != 0) {
		c->reload_failures++;
		snprintf(c->last_reload_error, sizeof(c->last_reload_error),
			 "out of memory for the rule counters");
		policy_free(p);
		return -ENOMEM;
	}
	c->reloads++;
	EGRESS_LOG(INFO, "policy generation %u published: %u rules", p->generation, p->n_rules);
	return 0;
}

struct arp_req_ctx {
	struct ctl *c;
	enum dp_port port;
};

struct rte_mbuf *
ctl_arp_request(const struct ctl *c, enum dp_port port, const uint8_t *dst, uint32_t sip,
		uint32_t tip)
{
	const struct dp_port_conf *pc = &c->conf->port[port];
	struct rte_ether_hdr *eth;
	struct rte_arp_hdr *arp;
	struct rte_mbuf *m;
	uint8_t *buf;

	m = rte_pktmbuf_alloc(c->pool);
	if (m == NULL)
		return NULL;
	/* 60 bytes: the Ethernet minimum without FCS, zero padded */
	buf = (uint8_t *)rte_pktmbuf_append(m, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN);
	if (buf == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(buf, 0, RTE_ETHER_MIN_LEN - RTE_ETHER_CRC_LEN);
	eth = (struct rte_ether_hdr *)buf;
	if (dst != NULL)
		memcpy(&eth->dst_addr, dst, RTE_ETHER_ADDR_LEN);
	else
		memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	memcpy(&eth->src_addr, pc->mac, RTE_ETHER_ADDR_LEN);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	arp = (struct rte_arp_hdr *)(eth + 1);
	arp->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = sizeof(uint32_t);
	arp->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REQUEST);
	memcpy(&arp->arp_data.arp_sha, pc->mac, RTE_ETHER_ADDR_LEN);
	arp->arp_data.arp_sip = sip;
	arp->arp_data.arp_tip = tip;
	return m;
}

/*
 * Build an ARP request for ip and hand it to worker 0 to send: broadcast, or,
 * to check a host whose MAC the table still has, to that MAC alone (RFC 1122
 * 2.3.2.1: a unicast poll does not disturb every host on the segment).
 */
static void
send_arp_request(void *arg, uint32_t ip)
{
	const struct arp_req_ctx *x = arg;
	const struct dp_port_conf *pc = &x->c->conf->port[x->port];
	uint8_t dst[RTE_ETHER_ADDR_LEN];
	struct rte_mbuf *m;

	if (x->c->conf->tx[x->port] == NULL)
		return;
	m = ctl_arp_request(x->c, x->port, neigh_lookup(pc->neigh, ip, dst) ? dst : NULL, pc->addr,
			    ip);
	if (m != NULL && rte_ring_mp_enqueue(x->c->conf->tx[x->port], m) != 0)
		rte_pktmbuf_free(m);
}

/*
 * A full table still sends the request (neigh_resolve() keeps room for
 * NEIGH_PENDING_MAX of them, and the answer evicts): only past that is a
 * resolution refused. Workers ask once per packet: warn once a second.
 */
void
ctl_resolve(struct ctl *c, enum dp_port port, uint32_t ip, uint64_t now_ms)
{
	static uint64_t warned_ms[DP_NPORTS]; /* control thread only */
	struct arp_req_ctx x = { .c = c, .port = port };
	struct neigh_stats st;

	if (neigh_resolve(c->conf->port[port].neigh, ip, now_ms, send_arp_request, &x) == 0 ||
	    (warned_ms[port] != 0 && now_ms - warned_ms[port] < 1000))
		return;
	warned_ms[port] = now_ms;
	neigh_stats_get(c->conf->port[port].neigh, &st);
	EGRESS_LOG(WARNING,
		   "neighbour table of port %u full: %u entries, %" PRIu64
		   " resolutions refused so far",
		   port, st.entries, st.resolve_dropped);
}

uint32_t
ctl_request_reload(struct ctl *c, enum ctl_reload_why why)
{
	/* the reason first: whoever sees the ticket (acquire) sees it too */
	__atomic_fetch_or(&c->reload_why, UINT32_C(1) << why, __ATOMIC_RELAXED);
	return __atomic_add_fetch(&c->reload_req, 1, __ATOMIC_RELEASE);
}

bool
ctl_reload_served(const struct ctl *c, uint32_t ticket)
{
	return (int32_t)(__atomic_load_n(&c->reload_done, __ATOMIC_ACQUIRE) - ticket) >= 0;
}

void
ctl_start(struct ctl *c)
{
	if (ctl_watch_init(&c->watch, c->cfg->sources, c->cfg->n_sources) != 0)
		EGRESS_LOG(WARNING, "inotify unavailable: reload with SIGHUP or /egress/reload");
	c->watching = true;
}

void
ctl_stop(struct ctl *c)
{
	ctl_dns_stats_publish(c); /* the final counters' DNS figures: the last ones */
	if (c->watching)
		ctl_watch_close(&c->watch);
	c->watching = false;
}

/* "SIGHUP, policy sources changed: reloading the policy", once per reload. */
static void
log_reload_why(uint32_t why)
{
	static const char *const said[CTL_RELOAD_WHY_MAX] = {
		[CTL_RELOAD_SIGHUP] = "SIGHUP",
		[CTL_RELOAD_SOURCES] = "policy sources changed",
		[CTL_RELOAD_TELEMETRY] = "/egress/reload",
		[CTL_RELOAD_DNS] = "DNS answers changed",
		[CTL_RELOAD_API] = "egressctl reload",
	};
	char line[128]; /* every reason at once fits */
	size_t used = 0;
	unsigned int i;

	line[0] = '\0';
	for (i = 0; i < CTL_RELOAD_WHY_MAX; i++)
		if (why & (UINT32_C(1) << i))
			used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s",
						 used ? ", " : "", said[i]);
	/* the sources are the same, only the answers they name are new */
	EGRESS_LOG(INFO, "%s: %s the policy", line,
		   why == UINT32_C(1) << CTL_RELOAD_DNS ? "recompiling" : "reloading");
}

/*
 * The one place a reload runs: whatever asked since the last tick, one
 * reload. A ticket whose reason an earlier reload already took (it was
 * asked for between that reload's ticket and its start) is served by it.
 */
static void
serve_reload(struct ctl *c)
{
	uint32_t req = __atomic_load_n(&c->reload_req, __ATOMIC_ACQUIRE);
	uint32_t why;

	if (req == __atomic_load_n(&c->reload_done, __ATOMIC_RELAXED))
		return;
	why = __atomic_exchange_n(&c->reload_why, 0, __ATOMIC_RELAXED);
	if (why != 0) {
		log_reload_why(why);
		c->reload_result = ctl_reload(c);
	}
	__atomic_store_n(&c->reload_done, req, __ATOMIC_RELEASE);
}

void
ctl_poll(struct ctl *c, uint64_t now_ms)
{
	struct dp_event ev[CTL_EVENTS_PER_TICK];
	unsigned int n, i, p;

	ctl_link_poll(c, now_ms);
	ctl_exception_poll(c, now_ms);
	n = c->conf->events == NULL ?
		    0 :
		    rte_ring_sc_dequeue_burst_elem(c->conf->events, ev, sizeof(ev[0]),
						   CTL_EVENTS_PER_TICK, NULL);
	for (i = 0; i < n; i++) {
		struct neigh_table *nt;

		if (ev[i].port >= DP_NPORTS)
			continue;
		nt = c->conf->port[ev[i].port].neigh;
		if (ev[i].type == DP_EV_LEARN)
			neigh_learn(nt, ev[i].ip, ev[i].mac, now_ms);
		else if (ev[i].type == DP_EV_RESOLVE)
			ctl_resolve(c, (enum dp_port)ev[i].port, ev[i].ip, now_ms);
	}
	for (p = 0; p < DP_NPORTS; p++) {
		struct arp_req_ctx x = { .c = c, .port = (enum dp_port)p };

		if (c->conf->port[p].neigh != NULL)
			neigh_tick(c->conf->port[p].neigh, now_ms, send_arp_request, &x);
	}
	/* DNS answers that changed (TTL expiry, new addresses) recompile and
	 * publish like any other policy change; the lookups never block here */
	if (c->dns != NULL) {
		struct diag_list dl = { 0 };
		bool changed = false;
		size_t i;

		dns_refresh(c->dns, now_ms, &changed);
		if (now_ms - c->dns_pub_ms >= CTL_DNS_STATS_MS) {
			ctl_dns_stats_publish(c);
			c->dns_pub_ms = now_ms;
		}
		dns_drain_diags(c->dns, &dl);
		for (i = 0; i < dl.n; i++) {
			char line[1024];

			diag_format(&dl.v[i], line, sizeof(line));
			EGRESS_LOG(WARNING, "%s", line);
		}
		diag_list_clear(&dl);
		if (changed)
			ctl_request_reload(c, CTL_RELOAD_DNS);
	}
	if (c->watching && ctl_watch_poll(&c->watch, now_ms))
		ctl_request_reload(c, CTL_RELOAD_SOURCES);
	ctl_nat_poll(c, now_ms);
	serve_reload(c);
	ctl_drain_poll(c, now_ms);
}
