/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow table: flows in a preallocated array, indexed twice in one lock-free
 * rte_hash (inside key and outside key), the data stored with each key being
 * (flow index << 1) | direction.
 *
 * Slot life cycle (the concurrency contract of flow.h, made concrete):
 *
 *   free stack --add--> live --del--> deferred --grace period--> free stack
 *
 * flow_table_del() clears in_use, then deletes key[FLOW_DIR_OUT], then
 * key[FLOW_DIR_IN]. With a QSBR variable, rte_hash does not free a deleted
 * key: it queues it on its RCU defer queue (FIFO, one token per key) and
 * calls ft_rcu_free() once every reader has passed a quiescent state since
 * the delete. The slot goes back to the free stack only from the callback of
 * the FLOW_DIR_IN key: it was queued after the FLOW_DIR_OUT key, so when its
 * grace period is over, the other key's is too, and no reader can still hold
 * a pointer to the flow obtained from either key.
 *
 * rte_hash (DPDK 22.11) reclaims its defer queue only when a key is deleted
 * or when it runs out of key slots, and has no public call to reclaim on
 * demand. The free stack can therefore be empty while slots wait on a grace
 * period that is already over. flow_table_add() then "probes": it adds and
 * deletes a reserved key that no flow can have (pad bytes 0xff; flow keys
 * have zero pad), whose delete makes the defer queue reclaim what is due.
 * At most FT_PROBES_MAX probe keys wait on the queue at a time, and the hash
 * has that many key slots on top of two per flow, so probes never take a key
 * slot that a flow needs.
 *
 * Without a QSBR variable the owner is the only reader: a deleted key's slot
 * (rte_hash_free_key_with_position) and the flow slot are freed at once.
 *
 * Everything here but the lookups runs on the owner only (the defer queue
 * callbacks included: they run inside the owner's rte_hash add/del calls, or
 * in flow_table_free()), so the free stack and the counters need no atomics;
 * the counters that telemetry reads are stored with relaxed atomics so that
 * the racy read is at least a whole value.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "flow.h"

/* Probe keys that may wait on the defer queue at once (and spare key slots). */
#define FT_PROBES_MAX 32u
/* Data of the probe key: all ones, never (idx << 1) | dir of a flow (idx < 2^30). */
#define FT_PROBE_DATA ((void *)UINTPTR_MAX)
/* Marks key[FLOW_DIR_IN] when that key could not be inserted (see ft_undo_out). */
#define FT_ORPHAN_PAD 0xff
/*
 * Longest name: rte_hash names its rings "HT_EXT_<name>" and rte_hash_rcu_qsbr_add
 * its defer queue "HASH_RCU_<name>", each truncated to RTE_RING_NAMESIZE - 1.
 * A longer name would be cut silently, and two tables could collide.
 */
static_assert(FLOW_TABLE_NAME_MAX <= RTE_RING_NAMESIZE - 1 - (sizeof("HASH_RCU_") - 1),
	      "FLOW_TABLE_NAME_MAX must fit the names rte_hash derives from it");

static const struct flow_key ft_probe_key = {
	.src_ip = UINT32_MAX, .dst_ip = UINT32_MAX,
	.src_port = UINT16_MAX, .dst_port = UINT16_MAX,
	.proto = UINT8_MAX, .pad = { 0xff, 0xff, 0xff },
};

struct flow_table {
	struct rte_hash *hash;
	struct flow *flows;         /**< max_flows entries, cache aligned */
	uint32_t *free_idx;         /**< stack of free slot indices */
	uint32_t n_free;            /**< entries on the free stack */
	uint32_t max_flows;
	uint32_t count;             /**< live flows (telemetry reads it) */
	uint32_t deferred;          /**< deleted, waiting for the grace period */
	uint32_t probes;            /**< probe keys waiting for the grace period */
	uint64_t reclaimed;         /**< defer queue callbacks run, to see progress */
	struct rte_rcu_qsbr *qsbr;
	uint64_t mem_bytes;         /**< heap bytes the table holds, all parts */
};

static inline uintptr_t
ft_pdata(uint32_t idx, unsigned int dir)
{
	return ((uintptr_t)idx << 1) | dir;
}

static inline struct flow *
ft_decode(const struct flow_table *ft, const void *data, uint8_t *dir)
{
	uintptr_t pd = (uintptr_t)data;

	*dir = (uint8_t)(pd & 1);
	return &ft->flows[pd >> 1];
}

static inline void
ft_push(struct flow_table *ft, uint32_t idx)
{
	ft->free_idx[ft->n_free++] = idx;
}

static inline bool
ft_key_valid(const struct flow_key *k)
{
	return (k->pad[0] | k->pad[1] | k->pad[2]) == 0;
}

/* Defer queue callback: a deleted key's grace period is over. */
static void
ft_rcu_free(void *p, void *key_data)
{
	struct flow_table *ft = p;
	uintptr_t pd = (uintptr_t)key_data;
	struct flow *f;

	ft->reclaimed++;
	if (key_data == FT_PROBE_DATA) {
		ft->probes--;
		return;
	}
	f = &ft->flows[pd >> 1];
	/*
	 * Only the key deleted last frees the slot: FLOW_DIR_IN normally, the
	 * FLOW_DIR_OUT key of an add that was undone (its FLOW_DIR_IN key was
	 * never inserted, and is marked so).
	 */
	if ((pd & 1) == FLOW_DIR_OUT && f->key[FLOW_DIR_IN].pad[0] != FT_ORPHAN_PAD)
		return;
	ft->deferred--;
	ft_push(ft, (uint32_t)(pd >> 1));
}

/*
 * Delete one key. With QSBR, rte_hash defers the key slot (and calls back
 * ft_rcu_free); without, the owner is the only reader and frees it at once.
 */
static inline void
ft_del_key(struct flow_table *ft, const struct flow_key *key)
{
	int32_t pos = rte_hash_del_key(ft->hash, key);

	if (ft->qsbr == NULL && pos >= 0)
		rte_hash_free_key_with_position(ft->hash, pos);
}

/*
 * Make the defer queue reclaim what is due, when the free stack is empty
 * and slots wait on it (see the probe in the comment at the top).
 * @return true when the free stack is no longer empty.
 */
static bool
ft_reclaim(struct flow_table *ft)
{
	while (ft->n_free == 0 && ft->deferred > 0 && ft->probes < FT_PROBES_MAX) {
		uint64_t before = ft->reclaimed;

		if (rte_hash_add_key_data(ft->hash, &ft_probe_key, FT_PROBE_DATA) != 0)
			break;
		ft->probes++;
		/* The enqueue of this delete reclaims up to max_reclaim_size due keys. */
		rte_hash_del_key(ft->hash, &ft_probe_key);
		if (ft->reclaimed == before)
			break;          /* nothing due yet: a reader has not moved on */
	}
	return ft->n_free > 0;
}

static uint64_t
ft_heap_allocated(void)
{
	struct rte_malloc_socket_stats st;
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < rte_socket_count(); i++)
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			sum += st.heap_allocsz_bytes;
	return sum;
}

/*
 * What rte_hash_create() and rte_hash_rcu_qsbr_add() of DPDK 22.11 allocate
 * for these parameters, malloc element headers left out: the fallback of
 * flow_table_memory() when the heap measure is disturbed.
 */
static uint64_t
ft_hash_estimate(uint32_t entries, bool qsbr)
{
	/* rte_cuckoo_hash.h (private): 8 entries, one cache line per bucket. */
	const uint64_t bucket_entries = 8;
	uint64_t slots = (uint64_t)entries + 1;           /* slot 0 is a dummy */
	uint64_t buckets = rte_align32pow2(entries) / bucket_entries;
	uint64_t key_entry = RTE_ALIGN(sizeof(void *) + sizeof(struct flow_key), 16);
	uint64_t bytes;

	bytes = 2 * buckets * 64;                         /* main + extendable buckets */
	bytes += slots * key_entry;                       /* key store */
	bytes += (uint64_t)rte_align32pow2(slots) * 4;    /* free key slot ring */
	bytes += (uint64_t)rte_align32pow2(buckets + 1) * 4; /* free ext bucket ring */
	bytes += slots * 4;                               /* ext bucket to free per key */
	if (qsbr)                                         /* defer queue: token + entry */
		bytes += (uint64_t)rte_align32pow2(slots + 1) * (8 + 8);
	return bytes;
}

struct flow_table *
flow_table_create(const struct flow_table_params *p)
{
	struct rte_hash_parameters hp = { 0 };
	struct rte_hash_rcu_config rcu = { 0 };
	struct flow_table *ft = NULL;
	uint64_t heap_before, heap_after, own;
	uint32_t entries, i;
	int err;

	if (p == NULL || p->name == NULL || p->name[0] == '\0' ||
	    strlen(p->name) > FLOW_TABLE_NAME_MAX || p->max_flows == 0 ||
	    p->max_flows > (RTE_HASH_ENTRIES_MAX - FT_PROBES_MAX) / 2) {
		rte_errno = EINVAL;
		return NULL;
	}
	/* Two keys per flow, live or deferred, plus the probe keys' own slots. */
	entries = 2 * p->max_flows + FT_PROBES_MAX;

	heap_before = ft_heap_allocated();

	ft = rte_zmalloc_socket("flow_table", sizeof(*ft), RTE_CACHE_LINE_SIZE, p->socket_id);
	if (ft == NULL) {
		err = ENOMEM;
		goto fail;
	}
	ft->max_flows = p->max_flows;
	ft->qsbr = p->qsbr;
	ft->flows = rte_zmalloc_socket("flow_entries", (size_t)p->max_flows * sizeof(struct flow),
				       RTE_CACHE_LINE_SIZE, p->socket_id);
	ft->free_idx = rte_malloc_socket("flow_free", (size_t)p->max_flows * sizeof(uint32_t),
					 RTE_CACHE_LINE_SIZE, p->socket_id);
	if (ft->flows == NULL || ft->free_idx == NULL) {
		err = ENOMEM;
		goto fail;
	}
	/* Lowest index on top: a fresh table fills its array from the start. */
	for (i = 0; i < p->max_flows; i++)
		ft->free_idx[i] = p->max_flows - 1 - i;
	ft->n_free = p->max_flows;

	hp.name = p->name;
	hp.entries = entries;
	hp.key_len = sizeof(struct flow_key);
	hp.hash_func = rte_hash_crc;
	hp.hash_func_init_val = 0;
	hp.socket_id = p->socket_id;
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	ft->hash = rte_hash_create(&hp);
	if (ft->hash == NULL) {
		err = rte_errno == EEXIST ? EEXIST : ENOMEM;
		goto fail;
	}

	if (p->qsbr != NULL) {
		rcu.v = p->qsbr;
		rcu.mode = RTE_HASH_QSBR_MODE_DQ;
		/* 0: every delete reclaims what is due, so slots return promptly. */
		rcu.trigger_reclaim_limit = 0;
		rcu.key_data_ptr = ft;
		rcu.free_key_data_func = ft_rcu_free;
		if (rte_hash_rcu_qsbr_add(ft->hash, &rcu) != 0) {
			err = rte_errno == EINVAL ? EINVAL : ENOMEM;
			goto fail;
		}
	}

	/*
	 * Memory: the growth of the DPDK heaps (every socket: rte_hash puts a
	 * few of its parts on SOCKET_ID_ANY) across the creation, which counts
	 * every part (our arrays, rte_hash's buckets, key store and rings, the
	 * defer queue) with its malloc headers and alignment. Creation happens
	 * at start-up; should another thread allocate or free meanwhile, the
	 * figure can be off, so it is checked against our own arrays and
	 * replaced by the computed size of the parts when it cannot be right.
	 */
	heap_after = ft_heap_allocated();
	own = sizeof(*ft) + (uint64_t)p->max_flows * (sizeof(struct flow) + sizeof(uint32_t));
	ft->mem_bytes = heap_after - heap_before;
	if (heap_after < heap_before + own)
		ft->mem_bytes = own + ft_hash_estimate(entries, p->qsbr != NULL);
	return ft;

fail:
	flow_table_free(ft);
	rte_errno = err;
	return NULL;
}

void
flow_table_free(struct flow_table *ft)
{
	if (ft == NULL)
		return;
	/*
	 * The hash first: freeing it drains its defer queue, whose callbacks
	 * still write to the free stack. Keys whose readers have not reported
	 * a quiescent state cannot be drained; rte_hash then leaks its queue.
	 */
	rte_hash_free(ft->hash);
	rte_free(ft->free_idx);
	rte_free(ft->flows);
	rte_free(ft);
}

unsigned
flow_table_lookup_bulk(const struct flow_table *ft, const struct flow_key **keys, unsigned n,
		       struct flow **flows, uint8_t *dirs)
{
	void *data[RTE_HASH_LOOKUP_BULK_MAX];
	unsigned int done, chunk, i, hits = 0;
	uint64_t mask;

	for (done = 0; done < n; done += chunk) {
		chunk = RTE_MIN(n - done, (unsigned int)RTE_HASH_LOOKUP_BULK_MAX);
		mask = 0;
		/* rte_hash takes keys as const void *: same representation. */
		if (rte_hash_lookup_bulk_data(ft->hash, (const void **)(keys + done), chunk,
					      &mask, data) < 0)
			mask = 0;
		for (i = 0; i < chunk; i++) {
			if (mask & (UINT64_C(1) << i)) {
				flows[done + i] = ft_decode(ft, data[i], &dirs[done + i]);
				hits++;
			} else {
				flows[done + i] = NULL;
				dirs[done + i] = 0;
			}
		}
	}
	return hits;
}

struct flow *
flow_table_lookup(const struct flow_table *ft, const struct flow_key *key, uint8_t *dir)
{
	void *data;
	uint8_t d;
	struct flow *f;

	if (rte_hash_lookup_data(ft->hash, key, &data) < 0)
		return NULL;
	f = ft_decode(ft, data, &d);
	if (dir != NULL)
		*dir = d;
	return f;
}

bool
flow_table_contains(const struct flow_table *ft, const struct flow_key *key)
{
	return rte_hash_lookup(ft->hash, key) >= 0;
}

/*
 * The add of the FLOW_DIR_IN key failed after the FLOW_DIR_OUT key was
 * published: a reader may already hold the flow, so the slot too must wait
 * for the grace period. Marking key[FLOW_DIR_IN] tells ft_rcu_free() that the
 * FLOW_DIR_OUT key is this flow's last one.
 */
static void
ft_undo_out(struct flow_table *ft, struct flow *f)
{
	f->in_use = 0;
	if (ft->qsbr != NULL) {
		f->key[FLOW_DIR_IN].pad[0] = FT_ORPHAN_PAD;
		ft->deferred++;
		ft_del_key(ft, &f->key[FLOW_DIR_OUT]);
	} else {
		ft_del_key(ft, &f->key[FLOW_DIR_OUT]);
		ft_push(ft, f->idx);
	}
}

struct flow *
flow_table_add(struct flow_table *ft, const struct flow_key *out_key,
	       const struct flow_key *in_key, int *err)
{
	hash_sig_t sig_out, sig_in;
	struct flow *f;
	uint32_t idx;
	int ret;

	if (unlikely(!ft_key_valid(out_key) || !ft_key_valid(in_key))) {
		*err = -EINVAL;
		return NULL;
	}
	/*
	 * Both keys absent first: rte_hash_add_key_data() on a present key
	 * replaces its data, which would steal another flow's key. Each key is
	 * hashed once, for the checks and the inserts.
	 */
	sig_out = rte_hash_hash(ft->hash, out_key);
	sig_in = rte_hash_hash(ft->hash, in_key);
	if (memcmp(out_key, in_key, sizeof(*out_key)) == 0 ||
	    rte_hash_lookup_with_hash(ft->hash, out_key, sig_out) >= 0 ||
	    rte_hash_lookup_with_hash(ft->hash, in_key, sig_in) >= 0) {
		*err = -EEXIST;
		return NULL;
	}
	if (unlikely(ft->n_free == 0) && !ft_reclaim(ft)) {
		*err = -ENOSPC;
		return NULL;
	}

	idx = ft->free_idx[--ft->n_free];
	f = &ft->flows[idx];
	/*
	 * Fill the flow before its keys are published: rte_hash stores the
	 * data and then the key index with release semantics, so a reader that
	 * finds a key sees this content.
	 */
	memset(f, 0, sizeof(*f));
	f->key[FLOW_DIR_OUT] = *out_key;
	f->key[FLOW_DIR_IN] = *in_key;
	f->idx = idx;
	f->in_use = 1;

	ret = rte_hash_add_key_with_hash_data(ft->hash, out_key, sig_out,
					      (void *)ft_pdata(idx, FLOW_DIR_OUT));
	if (unlikely(ret != 0)) {
		f->in_use = 0;
		ft_push(ft, idx);       /* never published: reusable at once */
		*err = -ENOSPC;
		return NULL;
	}
	ret = rte_hash_add_key_with_hash_data(ft->hash, in_key, sig_in,
					      (void *)ft_pdata(idx, FLOW_DIR_IN));
	if (unlikely(ret != 0)) {
		ft_undo_out(ft, f);
		*err = -ENOSPC;
		return NULL;
	}
	__atomic_store_n(&ft->count, ft->count + 1, __ATOMIC_RELAXED);
	return f;
}

void
flow_table_del(struct flow_table *ft, struct flow *f)
{
	if (f == NULL || !f->in_use)
		return;
	/* Readers that still hold the flow see it dying before its keys go. */
	__atomic_store_n(&f->in_use, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&ft->count, ft->count - 1, __ATOMIC_RELAXED);
	if (ft->qsbr != NULL) {
		/* Counted first: the deletes run defer queue callbacks. */
		ft->deferred++;
		/* FLOW_DIR_OUT first: the FLOW_DIR_IN key's grace period covers both. */
		ft_del_key(ft, &f->key[FLOW_DIR_OUT]);
		ft_del_key(ft, &f->key[FLOW_DIR_IN]);
	} else {
		ft_del_key(ft, &f->key[FLOW_DIR_OUT]);
		ft_del_key(ft, &f->key[FLOW_DIR_IN]);
		ft_push(ft, f->idx);
	}
}

struct flow *
flow_table_at(const struct flow_table *ft, uint32_t idx)
{
	if (ft == NULL || idx >= ft->max_flows)
		return NULL;
	return &ft->flows[idx];
}

uint32_t
flow_table_capacity(const struct flow_table *ft)
{
	return ft->max_flows;
}

uint32_t
flow_table_count(const struct flow_table *ft)
{
	return __atomic_load_n(&ft->count, __ATOMIC_RELAXED);
}

uint64_t
flow_table_memory(const struct flow_table *ft)
{
	return ft->mem_bytes / ft->max_flows;
}
