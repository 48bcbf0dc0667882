/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A worker's life cycle, control side: everything here may allocate, fail
 * and take its time; nothing here runs on a worker lcore but
 * dp_worker_online/offline/quiesce. The daemon, the unit tests and the
 * fuzzers all build their workers here, so what a test runs is what the
 * daemon runs: the same flow table with the same QSBR reclamation, the same
 * embryonic FIFO, per-source table, NAT share and hand-off ring.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "dp_private.h"

#define DP_HANDOFF_RING_SIZE 4096

/* Names of DPDK objects are global to the process: one sequence for all. */
static unsigned int dp_name_seq;

static void
dp_name(char *buf, size_t len, const char *what, unsigned int id)
{
	snprintf(buf, len, "dp_%s%u_%u", what, id,
		 __atomic_fetch_add(&dp_name_seq, 1, __ATOMIC_RELAXED));
}

struct rte_rcu_qsbr *
dp_qsbr_create(unsigned int n_readers, int socket_id)
{
	size_t sz = rte_rcu_qsbr_get_memsize(n_readers);
	struct rte_rcu_qsbr *v;

	if (sz == 1) { /* rte_rcu_qsbr_get_memsize's error value */
		rte_errno = EINVAL;
		return NULL;
	}
	v = rte_zmalloc_socket("dp_qsbr", sz, RTE_CACHE_LINE_SIZE, socket_id);
	if (v == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	if (rte_rcu_qsbr_init(v, n_readers) != 0) {
		rte_free(v);
		rte_errno = EINVAL;
		return NULL;
	}
	return v;
}

void
dp_qsbr_free(struct rte_rcu_qsbr *v)
{
	rte_free(v);
}

/* The embryonic FIFO, the per-source table and the NAT destinations: their
 * bytes are aux_bytes. */
static int
worker_alloc_aux(struct dp_worker *w, uint32_t max_flows, int socket)
{
	const struct dp_conf *conf = w->conf;
	uint64_t before = flow_heap_allocated();

	/* twice the cap, a power of two: room for stale entries */
	w->emb_mask = rte_align32pow2(2 * RTE_MAX(conf->embryonic_max, 1u)) - 1;
	w->emb_fifo = rte_zmalloc_socket("dp_embryonic", sizeof(uint64_t) * (w->emb_mask + 1),
					 RTE_CACHE_LINE_SIZE, socket);
	if (w->emb_fifo == NULL)
		return -ENOMEM;
	w->dests = nat_dests_create(nat_dests_capacity_for(max_flows), socket);
	if (w->dests == NULL)
		return -ENOMEM;
	if (conf->source_max != 0 || conf->source_rate != 0) {
		char name[RTE_HASH_NAMESIZE];
		struct rte_hash_parameters hp = {
			.name = name,
			.entries = max_flows,
			.key_len = sizeof(uint32_t),
			.hash_func = rte_hash_crc,
			.socket_id = socket,
		};

		dp_name(name, sizeof(name), "src", w->id);
		w->sources = rte_hash_create(&hp);
		w->source = rte_zmalloc_socket("dp_sources", sizeof(struct dp_source) * max_flows,
					       RTE_CACHE_LINE_SIZE, socket);
		if (w->sources == NULL || w->source == NULL)
			return -ENOMEM;
	}
	w->aux_bytes = flow_heap_allocated() - before;
	return 0;
}

/*
 * With flow logs on, the worker's ring to the writer: SP/SC (one worker
 * enqueues, one writer dequeues), exactly conf->flowlog_ring_size records.
 */
static int
worker_flowlog_ring(struct dp_worker *w, int socket)
{
	struct dp_conf *conf = (struct dp_conf *)(uintptr_t)w->conf;
	char name[RTE_RING_NAMESIZE];

	if (conf->flowlog_ring_size == 0)
		return 0;
	dp_name(name, sizeof(name), "fl", w->id);
	w->flowlog =
		rte_ring_create_elem(name, sizeof(struct dp_flowlog_rec), conf->flowlog_ring_size,
				     socket, RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (w->flowlog == NULL)
		return -ENOMEM;
	/* full at the start (struct dp_bucket) */
	w->fl_deny.tokens = conf->flowlog_deny_rate;
	conf->flowlog[w->id] = w->flowlog;
	return 0;
}

/*
 * With session sync on, the worker's two rings: records to the sync
 * thread (SP/SC, exactly conf->sync_ring_size), and the peer's flows the
 * sync thread queues for it at a takeover (SP/SC, DP_SYNC_IN_RING).
 */
static int
worker_sync_rings(struct dp_worker *w, int socket)
{
	struct dp_conf *conf = (struct dp_conf *)(uintptr_t)w->conf;
	char name[RTE_RING_NAMESIZE];

	if (conf->sync_ring_size == 0)
		return 0;
	dp_name(name, sizeof(name), "sy", w->id);
	w->sync = rte_ring_create_elem(name, sizeof(struct dp_sync_rec), conf->sync_ring_size,
				       socket, RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (w->sync == NULL)
		return -ENOMEM;
	conf->sync[w->id] = w->sync;
	dp_name(name, sizeof(name), "syi", w->id);
	conf->sync_in[w->id] =
		rte_ring_create_elem(name, sizeof(struct dp_sync_rec), DP_SYNC_IN_RING, socket,
				     RING_F_SP_ENQ | RING_F_SC_DEQ);
	return conf->sync_in[w->id] == NULL ? -ENOMEM : 0;
}

struct dp_worker *
dp_worker_create(const struct dp_worker_params *p)
{
	struct dp_conf *conf = p->conf;
	struct flow_table_params fp = {
		.max_flows = p->max_flows,
		.socket_id = p->socket_id,
		.qsbr = p->qsbr,
		/* the flow log's per-flow counters take the second half of a
		 * line; without it, two flows' TCP tracking share one */
		.ext_size = p->conf->flowlog_ring_size != 0 ? FLOW_EXT_MAX : FLOW_EXT_MIN,
	};
	struct dp_worker *w;
	uint16_t lo, hi;
	int err;

	if (conf == NULL || p->pool == NULL || conf->n_workers == 0 || p->id >= conf->n_workers ||
	    p->id >= DP_MAX_WORKERS) {
		rte_errno = EINVAL;
		return NULL;
	}
	if (conf->rss != NULL &&
	    (conf->rss->n_workers != conf->n_workers || conf->rss->port_lo != conf->nat_port_lo ||
	     conf->rss->port_hi != conf->nat_port_hi)) {
		rte_errno = EINVAL; /* tables built for another set-up */
		return NULL;
	}
	if (nat_range_split(conf->nat_port_lo, conf->nat_port_hi, conf->n_workers, p->id, &lo,
			    &hi) != 0) {
		rte_errno = ERANGE; /* fewer NAT ports than workers */
		return NULL;
	}
	w = rte_zmalloc_socket("dp_worker", sizeof(*w), RTE_CACHE_LINE_SIZE, p->socket_id);
	if (w == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	w->id = p->id;
	w->lcore = p->lcore;
	w->conf = conf;
	w->pool = p->pool;
	w->qsbr = p->qsbr;
	/* full at the start (struct dp_bucket) */
	w->rst.tokens = DP_RST_RATE;
	w->icmp.tokens = DP_ICMP_RATE;
	w->nat = (struct nat_range){
		.addrs = conf->nat_addrs,
		.n_addrs = conf->n_nat_addrs,
		.port_lo = lo,
		.port_hi = hi,
		.preserve = conf->nat_preserve,
		.holes = conf->nat_holes,
		.n_holes = conf->n_nat_holes,
	};
	if (conf->rss != NULL && conf->n_workers > 1) {
		/* the whole range, each port by its reply's hash (dp_owner()) */
		w->nat.port_lo = conf->nat_port_lo;
		w->nat.port_hi = conf->nat_port_hi;
		w->nat.rss = conf->rss;
		w->nat.owner = p->id;
	}
	err = worker_alloc_aux(w, p->max_flows, p->socket_id);
	if (err != 0)
		goto fail;
	w->flows = flow_table_create(&fp);
	if (w->flows == NULL) {
		err = -rte_errno;
		goto fail;
	}
	if (p->qsbr != NULL && rte_rcu_qsbr_thread_register(p->qsbr, p->id) != 0) {
		err = -EINVAL;
		goto fail;
	}
	if (conf->n_workers > 1) {
		char name[RTE_RING_NAMESIZE];

		dp_name(name, sizeof(name), "handoff", p->id);
		conf->handoff[p->id] =
			rte_ring_create(name, DP_HANDOFF_RING_SIZE, p->socket_id, RING_F_SC_DEQ);
		if (conf->handoff[p->id] == NULL) {
			err = -ENOMEM;
			goto fail;
		}
	}
	err = worker_flowlog_ring(w, p->socket_id);
	if (err == 0)
		err = worker_sync_rings(w, p->socket_id);
	if (err != 0)
		goto fail;
	return w;
fail:
	dp_worker_free(w);
	rte_errno = -err;
	return NULL;
}

void
dp_worker_free(struct dp_worker *w)
{
	struct dp_conf *conf;
	struct rte_ring *r;
	void *m;

	if (w == NULL)
		return;
	/* conf is the caller's: dp_worker_create() had it writable */
	conf = (struct dp_conf *)(uintptr_t)w->conf;
	r = conf->handoff[w->id];
	if (r != NULL) {
		while (rte_ring_dequeue(r, &m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(r);
		conf->handoff[w->id] = NULL;
	}
	if (w->flowlog != NULL) {
		/* the writer drained it (lib/ctl stops it first) */
		rte_ring_free(w->flowlog);
		conf->flowlog[w->id] = NULL;
	}
	/* the sync thread stopped first (lib/ctl) */
	rte_ring_free(conf->sync[w->id]);
	conf->sync[w->id] = NULL;
	rte_ring_free(conf->sync_in[w->id]);
	conf->sync_in[w->id] = NULL;
	if (w->qsbr != NULL && w->flows != NULL)
		rte_rcu_qsbr_thread_unregister(w->qsbr, w->id);
	flow_table_free(w->flows);
	rte_hash_free(w->sources);
	rte_free(w->source);
	rte_free(w->emb_fifo);
	nat_dests_free(w->dests);
	rte_free(w);
}

void
dp_worker_online(struct dp_worker *w)
{
	if (w->qsbr != NULL)
		rte_rcu_qsbr_thread_online(w->qsbr, w->id);
}

void
dp_worker_offline(struct dp_worker *w)
{
	if (w->qsbr != NULL)
		rte_rcu_qsbr_thread_offline(w->qsbr, w->id);
}

void
dp_worker_quiesce(struct dp_worker *w)
{
	/* the flows deleted since the last call start their grace period, and
	 * this reader ends its own part of the older ones' */
	flow_table_sync(w->flows);
	if (w->qsbr != NULL)
		rte_rcu_qsbr_quiescent(w->qsbr, w->id);
}

uint64_t
dp_flow_memory(const struct dp_worker *w)
{
	return flow_table_memory(w->flows) * flow_table_capacity(w->flows) + w->aux_bytes;
}

const struct dp_stats *
dp_worker_stats(const struct dp_worker *w)
{
	return &w->stats;
}

const struct nat_dests *
dp_worker_nat_dests(const struct dp_worker *w)
{
	return w->dests;
}

const struct flow_table *
dp_worker_flows(const struct dp_worker *w)
{
	return w->flows;
}

unsigned int
dp_worker_lcore(const struct dp_worker *w)
{
	return w->lcore;
}

uint64_t
dp_worker_last_rx_ms(const struct dp_worker *w)
{
	return __atomic_load_n(&w->last_rx_ms, __ATOMIC_RELAXED);
}

void
dp_worker_stop(struct dp_worker *w)
{
	__atomic_store_n(&w->quit, true, __ATOMIC_RELAXED);
}
