/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow table (see flow.h): flows in a preallocated array of one cache line
 * each, their TCP window tracking in a parallel array of half a line, and a
 * chained hash over both keys of every flow.
 *
 * Index. A bucket head and a flow's next[dir] hold a link: (index << 1) |
 * dir, or FT_NIL. Chain b runs heads[b] -> flows[l >> 1].key[l & 1] -> its
 * next[l & 1] -> ... There are at least two buckets per flow of capacity, so
 * a full table averages one key per bucket; a lookup touches the bucket head
 * and, for a hit, usually just the one flow line (rte_hash: a bucket line,
 * then a key-store line, then the flow). A chain never grows past
 * FT_CHAIN_MAX: CRC32 is linear, a random seed does not stop crafted
 * collisions, so the length limit is what bounds a lookup under attack (the
 * flow that would lengthen such a chain is refused as if the table were full).
 *
 * Slot life cycle:
 *
 *   free list --add--> live --del--> limbo --grace period--> free list
 *
 * add fills the flow, then publishes it with a release store of each
 * bucket head, so a reader that follows a link sees the keys and links behind
 * it. del unlinks both keys (a release store of the predecessor's link) but
 * leaves the flow's own keys and links intact: a reader standing on it still
 * finds its way along the chain. The slot goes to the limbo FIFO; the
 * owner's flow_table_sync() (or an add that finds no free slot) closes the
 * FIFO's open part into a batch with one QSBR token, and a batch goes back
 * to the free list once rte_rcu_qsbr_check() says every reader has passed a
 * quiescent state since that token. One token per poll loop, not per flow:
 * rte_hash's defer queue takes one per key, an atomic on a line every worker
 * shares. Without QSBR the owner is the only reader and a slot is free at once.
 *
 * The free list is chained through next[0] of freed slots, which no chain
 * and no reader reaches any more; slots never used yet are taken from a
 * high-water mark instead, so creating a table of 16 Mi flows does not
 * touch a gigabyte of them. Everything here but the lookups runs on
 * the owner only, so nothing needs atomics but the published links and the
 * counters telemetry reads.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_prefetch.h>
#include <rte_random.h>
#include <rte_rcu_qsbr.h>

#include "flow.h"

#define FT_NIL UINT32_MAX
/* Longest chain an add may extend (see the top of this file). */
#define FT_CHAIN_MAX 24u
/* Keys hashed and prefetched together by the bulk lookup. */
#define FT_BULK    32u
#define FT_BATCHES RTE_DIM(((struct flow_table *)0)->batch)

static_assert(FLOW_TABLE_MAX <= (FT_NIL >> 1), "a link must hold any index and direction");

static inline uint32_t
ft_link(uint32_t idx, unsigned int dir)
{
	return idx << 1 | dir;
}

static inline uint32_t
ft_hash(const struct flow_table *ft, const struct flow_key *k)
{
	return flow_key_hash(k, ft->seed);
}

static inline uint32_t *
ft_head(const struct flow_table *ft, uint32_t hash)
{
	return &ft->heads[hash & ft->head_mask];
}

static inline bool
ft_key_eq(const struct flow_key *a, const struct flow_key *b)
{
	uint64_t a0, a1, b0, b1;

	memcpy(&a0, a, 8);
	memcpy(&a1, (const uint8_t *)a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, (const uint8_t *)b + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

static inline bool
ft_key_valid(const struct flow_key *k)
{
	return (k->pad[0] | k->pad[1] | k->pad[2]) == 0;
}

/* Walk a chain from its first link; the flow whose key[dir] is key, or NULL. */
static inline struct flow *
ft_walk(const struct flow_table *ft, uint32_t link, const struct flow_key *key, uint8_t *dir)
{
	while (link != FT_NIL) {
		struct flow *f = &ft->flows[link >> 1];
		unsigned int d = link & 1;

		if (ft_key_eq(&f->key[d], key)) {
			*dir = (uint8_t)d;
			return f;
		}
		link = __atomic_load_n(&f->next[d], __ATOMIC_ACQUIRE);
	}
	return NULL;
}

/* Owner only: is key in the chain of head, and how long is that chain? */
static inline bool
ft_chain_has(const struct flow_table *ft, const uint32_t *head, const struct flow_key *key,
	     unsigned int *len)
{
	uint32_t link = *head;

	*len = 0;
	while (link != FT_NIL) {
		const struct flow *f = &ft->flows[link >> 1];
		unsigned int d = link & 1;

		if (ft_key_eq(&f->key[d], key))
			return true;
		(*len)++;
		link = f->next[d];
	}
	return false;
}

static inline void
ft_free_push(struct flow_table *ft, uint32_t idx)
{
	ft->flows[idx].next[0] = ft->free_head;
	ft->free_head = idx;
	ft->n_free++;
}

/* Close the limbo's open part into a batch with one QSBR token. */
static void
ft_close_batch(struct flow_table *ft)
{
	if (ft->limbo_open == ft->limbo_tail || ft->batch_tail - ft->batch_head == FT_BATCHES)
		return; /* nothing open, or no batch free: it joins the next */
	ft->batch[ft->batch_tail % FT_BATCHES].token = rte_rcu_qsbr_start(ft->qsbr);
	ft->batch[ft->batch_tail % FT_BATCHES].end = ft->limbo_tail;
	ft->batch_tail++;
	ft->limbo_open = ft->limbo_tail;
}

/* Free the slots of every batch whose grace period is over (oldest first). */
static void
ft_drain(struct flow_table *ft)
{
	while (ft->batch_head != ft->batch_tail) {
		const uint32_t b = ft->batch_head % FT_BATCHES;

		if (rte_rcu_qsbr_check(ft->qsbr, ft->batch[b].token, false) != 1)
			break;
		while (ft->limbo_head != ft->batch[b].end)
			ft_free_push(ft, ft->limbo[ft->limbo_head++ & ft->limbo_mask]);
		ft->batch_head++;
	}
}

/* No free slot: reclaim what is due. @return true when a slot is free. */
static bool
ft_reclaim(struct flow_table *ft)
{
	if (ft->qsbr == NULL)
		return false;
	ft_drain(ft);
	ft_close_batch(ft);
	ft_drain(ft); /* the batch just closed is due if no reader is online */
	return ft->n_free > 0;
}

void
flow_table_sync(struct flow_table *ft)
{
	if (ft->qsbr == NULL)
		return;
	ft_close_batch(ft);
	/* checking reads every reader's counter: not every loop, only once
	 * batches pile up (or when an add needs a slot) */
	if (ft->batch_tail - ft->batch_head >= FT_BATCHES / 2)
		ft_drain(ft);
}

uint64_t
flow_heap_allocated(void)
{
	struct rte_malloc_socket_stats st;
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < rte_socket_count(); i++)
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			sum += st.heap_allocsz_bytes;
	return sum;
}

struct flow_table *
flow_table_create(const struct flow_table_params *p)
{
	struct flow_table *ft;
	uint64_t heap_before, n_heads, n_limbo, parts;
	uint32_t ext_size;

	if (p == NULL || p->max_flows == 0 || p->max_flows > FLOW_TABLE_MAX ||
	    (p->ext_size != 0 && p->ext_size != FLOW_EXT_MIN && p->ext_size != FLOW_EXT_MAX)) {
		rte_errno = EINVAL;
		return NULL;
	}
	n_heads = rte_align64pow2(2 * (uint64_t)p->max_flows);
	n_limbo = p->qsbr != NULL ? rte_align64pow2(p->max_flows) : 0;
	heap_before = flow_heap_allocated();

	ft = rte_zmalloc_socket("flow_table", sizeof(*ft), RTE_CACHE_LINE_SIZE, p->socket_id);
	if (ft == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	ft->flows = rte_zmalloc_socket("flow_entries", (size_t)p->max_flows * sizeof(*ft->flows),
				       RTE_CACHE_LINE_SIZE, p->socket_id);
	ext_size = p->ext_size != 0 ? p->ext_size : FLOW_EXT_MIN;
	ft->ext_shift = (uint32_t)rte_bsf32(ext_size);
	ft->ext = rte_zmalloc_socket("flow_ext", (size_t)p->max_flows * ext_size,
				     RTE_CACHE_LINE_SIZE, p->socket_id);
	ft->heads = rte_malloc_socket("flow_heads", n_heads * sizeof(uint32_t), RTE_CACHE_LINE_SIZE,
				      p->socket_id);
	if (n_limbo > 0)
		ft->limbo = rte_malloc_socket("flow_limbo", n_limbo * sizeof(uint32_t),
					      RTE_CACHE_LINE_SIZE, p->socket_id);
	if (ft->flows == NULL || ft->ext == NULL || ft->heads == NULL ||
	    (n_limbo > 0 && ft->limbo == NULL)) {
		flow_table_free(ft);
		rte_errno = ENOMEM;
		return NULL;
	}
	memset(ft->heads, 0xff, n_heads * sizeof(uint32_t)); /* FT_NIL */
	ft->head_mask = (uint32_t)(n_heads - 1);
	ft->limbo_mask = n_limbo > 0 ? (uint32_t)(n_limbo - 1) : 0;
	ft->seed = (uint32_t)rte_rand();
	ft->max_flows = p->max_flows;
	ft->qsbr = p->qsbr;
	ft->free_head = FT_NIL;
	ft->n_free = p->max_flows; /* all fresh: filled from index 0 */

	/*
	 * Memory: the growth of the DPDK heaps across the creation (malloc
	 * headers and alignment included); should another thread allocate or
	 * free meanwhile, the sum of the parts instead.
	 */
	parts = sizeof(*ft) + (uint64_t)p->max_flows * (sizeof(*ft->flows) + ext_size) +
		(n_heads + n_limbo) * sizeof(uint32_t);
	ft->mem_bytes = flow_heap_allocated() - heap_before;
	if (ft->mem_bytes < parts || ft->mem_bytes > parts + 64 * 1024)
		ft->mem_bytes = parts;
	return ft;
}

void
flow_table_free(struct flow_table *ft)
{
	if (ft == NULL)
		return;
	rte_free(ft->limbo);
	rte_free(ft->heads);
	rte_free(ft->ext);
	rte_free(ft->flows);
	rte_free(ft);
}

unsigned
flow_table_lookup_bulk(const struct flow_table *ft, const struct flow_key **keys, unsigned n,
		       struct flow **flows, uint8_t *dirs)
{
	uint32_t hash[FT_BULK], link[FT_BULK];
	unsigned int done, chunk, i, hits = 0;

	for (done = 0; done < n; done += chunk) {
		chunk = RTE_MIN(n - done, FT_BULK);
		/* three passes, so that the misses of one key overlap the others':
		 * hash and prefetch the heads, read them and prefetch the first
		 * flow of each chain, then compare */
		for (i = 0; i < chunk; i++) {
			hash[i] = ft_hash(ft, keys[done + i]);
			rte_prefetch0(ft_head(ft, hash[i]));
		}
		for (i = 0; i < chunk; i++) {
			link[i] = __atomic_load_n(ft_head(ft, hash[i]), __ATOMIC_ACQUIRE);
			if (link[i] != FT_NIL)
				rte_prefetch0(&ft->flows[link[i] >> 1]);
		}
		for (i = 0; i < chunk; i++) {
			struct flow *f = ft_walk(ft, link[i], keys[done + i], &dirs[done + i]);

			flows[done + i] = f;
			if (f != NULL)
				hits++;
			else
				dirs[done + i] = 0;
		}
	}
	return hits;
}

struct flow *
flow_table_lookup(const struct flow_table *ft, const struct flow_key *key, uint8_t *dir)
{
	uint32_t head = __atomic_load_n(ft_head(ft, ft_hash(ft, key)), __ATOMIC_ACQUIRE);
	uint8_t d;
	struct flow *f = ft_walk(ft, head, key, &d);

	if (f != NULL && dir != NULL)
		*dir = d;
	return f;
}

void
flow_table_prefetch(const struct flow_table *ft, const struct flow_key *key)
{
	rte_prefetch0(ft_head(ft, ft_hash(ft, key)));
}

void
flow_table_prefetch_chain(const struct flow_table *ft, const struct flow_key *key)
{
	uint32_t link = __atomic_load_n(ft_head(ft, ft_hash(ft, key)), __ATOMIC_RELAXED);

	if (link != FT_NIL)
		rte_prefetch0(&ft->flows[link >> 1]);
}

bool
flow_table_contains(const struct flow_table *ft, const struct flow_key *key)
{
	return flow_table_lookup(ft, key, NULL) != NULL;
}

struct flow *
flow_table_add(struct flow_table *ft, const struct flow_key *out_key, const struct flow_key *in_key,
	       int *err)
{
	uint32_t *head_out, *head_in, idx;
	unsigned int len_out, len_in;
	struct flow *f;

	if (unlikely(!ft_key_valid(out_key) || !ft_key_valid(in_key))) {
		*err = -EINVAL;
		return NULL;
	}
	head_out = ft_head(ft, ft_hash(ft, out_key));
	head_in = ft_head(ft, ft_hash(ft, in_key));
	if (ft_key_eq(out_key, in_key) || ft_chain_has(ft, head_out, out_key, &len_out) ||
	    ft_chain_has(ft, head_in, in_key, &len_in)) {
		*err = -EEXIST;
		return NULL;
	}
	if (unlikely(len_out >= FT_CHAIN_MAX || len_in >= FT_CHAIN_MAX) ||
	    (unlikely(ft->n_free == 0) && !ft_reclaim(ft))) {
		*err = -ENOSPC;
		return NULL;
	}

	if (ft->free_head != FT_NIL) {
		idx = ft->free_head;
		ft->free_head = ft->flows[idx].next[0];
	} else {
		idx = ft->fresh++;
	}
	f = &ft->flows[idx];
	ft->n_free--;
	memset(f, 0, sizeof(*f));
	memset(ft->ext + ((size_t)idx << ft->ext_shift), 0, flow_table_ext_size(ft));
	f->key[FLOW_DIR_OUT] = *out_key;
	f->key[FLOW_DIR_IN] = *in_key;
	f->in_use = 1;
	/* each key's link is set before the head that publishes it (the two
	 * heads may be the same bucket: then the chain runs in -> out -> ...) */
	f->next[FLOW_DIR_OUT] = *head_out;
	__atomic_store_n(head_out, ft_link(idx, FLOW_DIR_OUT), __ATOMIC_RELEASE);
	f->next[FLOW_DIR_IN] = *head_in;
	__atomic_store_n(head_in, ft_link(idx, FLOW_DIR_IN), __ATOMIC_RELEASE);
	__atomic_store_n(&ft->count, ft->count + 1, __ATOMIC_RELAXED);
	return f;
}

/* Take key[dir] of flow idx out of its chain; the flow's own link stays. */
static void
ft_unlink(struct flow_table *ft, struct flow *f, uint32_t idx, unsigned int dir)
{
	const uint32_t me = ft_link(idx, dir);
	uint32_t *at = ft_head(ft, ft_hash(ft, &f->key[dir]));

	while (*at != me) {
		if (unlikely(*at == FT_NIL))
			return; /* not linked: cannot happen to a live flow */
		at = &ft->flows[*at >> 1].next[*at & 1];
	}
	__atomic_store_n(at, f->next[dir], __ATOMIC_RELEASE);
}

void
flow_table_del(struct flow_table *ft, struct flow *f)
{
	uint32_t idx;

	if (f == NULL || !f->in_use)
		return;
	idx = flow_table_index(ft, f);
	/* readers that still hold the flow see it dying before its keys go */
	__atomic_store_n(&f->in_use, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&ft->count, ft->count - 1, __ATOMIC_RELAXED);
	ft->deletions++;
	ft_unlink(ft, f, idx, FLOW_DIR_OUT);
	ft_unlink(ft, f, idx, FLOW_DIR_IN);
	if (ft->qsbr != NULL)
		ft->limbo[ft->limbo_tail++ & ft->limbo_mask] = idx;
	else
		ft_free_push(ft, idx);
}

uint64_t
flow_table_memory(const struct flow_table *ft)
{
	return ft->mem_bytes / ft->max_flows;
}
