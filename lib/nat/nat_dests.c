/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT ports in use per destination (see nat_dests.h). The owner's hash and
 * the readers' slots: only nat_dests_add() and nat_dests_remove() write,
 * only on a worker's flow creation and removal.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "nat_dests.h"

/* The hash key: 12 bytes, network order, the pad byte zero. */
struct dest_key {
	uint32_t addr;
	uint32_t dst_ip;
	uint16_t dst_port;
	uint8_t proto;
	uint8_t pad;
};

/* What readers see of a position (20 bytes; every word naturally aligned). */
struct dest_slot {
	struct dest_key key;
	uint32_t count; /* ports in use toward key */
	uint32_t seq;   /* odd: the slot holds key (see nat_dests.h) */
};

/*
 * Positions of the keys used last, direct-mapped by their hash: most flows
 * of a worker go to few destinations (every client of one Memorystore), so
 * most adds and removes find their position here and skip the hash table.
 * An entry is a hint, checked against the slot (odd seq, same key): a key
 * removed since, or its position reused by another key, is a miss.
 */
#define DESTS_CACHE 64u

struct nat_dests {
	int32_t cache[DESTS_CACHE]; /* hash & (DESTS_CACHE - 1) -> position; -1: none */
	struct rte_hash *h;         /* key -> position; the owner's alone */
	struct dest_slot *slot;     /* [position], read by any thread */
	uint32_t capacity;          /* keys the hash holds, its positions */
	uint64_t untracked;         /* flows bound but not counted (a gauge) */
};

/* rte_hash names are global to the process. */
static unsigned int dests_seq;

uint32_t
nat_dests_capacity_for(uint32_t max_flows)
{
	uint32_t n = RTE_MAX(max_flows / 16, RTE_MIN(max_flows, (uint32_t)NAT_DESTS_MIN));

	return RTE_MIN(n, (uint32_t)NAT_DESTS_MAX);
}

struct nat_dests *
nat_dests_create(uint32_t capacity, int socket_id)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = name,
		/* rte_hash wants at least a bucket's worth */
		.entries = RTE_MAX(capacity, 8u),
		.key_len = sizeof(struct dest_key),
		.hash_func = rte_hash_crc,
		.socket_id = socket_id,
		/* extendable buckets: exactly capacity keys fit, whatever
		 * their hashes (a cuckoo table alone may refuse one earlier) */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	struct nat_dests *d;

	if (capacity == 0) {
		rte_errno = EINVAL;
		return NULL;
	}
	snprintf(name, sizeof(name), "nat_dests_%u",
		 __atomic_fetch_add(&dests_seq, 1, __ATOMIC_RELAXED));
	d = rte_zmalloc_socket("nat_dests", sizeof(*d), RTE_CACHE_LINE_SIZE, socket_id);
	if (d == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	memset(d->cache, 0xff, sizeof(d->cache));
	d->capacity = hp.entries;
	d->h = rte_hash_create(&hp);
	d->slot = rte_zmalloc_socket("nat_dest_slots", sizeof(*d->slot) * hp.entries,
				     RTE_CACHE_LINE_SIZE, socket_id);
	if (d->h == NULL || d->slot == NULL) {
		nat_dests_free(d);
		rte_errno = ENOMEM;
		return NULL;
	}
	return d;
}

void
nat_dests_free(struct nat_dests *d)
{
	if (d == NULL)
		return;
	rte_hash_free(d->h);
	rte_free(d->slot);
	rte_free(d);
}

/* The destination of the flow whose reply key is in: remote -> NAT address. */
static inline struct dest_key
dest_key_of(const struct flow_key *in)
{
	return (struct dest_key){
		.addr = in->dst_ip,
		.dst_ip = in->src_ip,
		.dst_port = in->src_port,
		.proto = in->proto,
	};
}

static inline bool
dest_key_eq(const struct dest_key *a, const struct dest_key *b)
{
	return a->addr == b->addr && a->dst_ip == b->dst_ip && a->dst_port == b->dst_port &&
	       a->proto == b->proto;
}

/* k's position if the cache knows it, else -1. */
static inline int
cached_pos(const struct nat_dests *d, const struct dest_key *k, hash_sig_t sig)
{
	int pos = d->cache[sig & (DESTS_CACHE - 1)];

	if (pos >= 0 && (d->slot[pos].seq & 1) && dest_key_eq(&d->slot[pos].key, k))
		return pos;
	return -1;
}

int
nat_dests_add(struct nat_dests *d, const struct flow_key *in)
{
	struct dest_key k = dest_key_of(in);
	/* the table's own hash function, so that it is computed once */
	hash_sig_t sig = rte_hash_crc(&k, sizeof(k), 0);
	struct dest_slot *s;
	int pos;

	pos = cached_pos(d, &k, sig);
	if (pos >= 0) {
		s = &d->slot[pos];
		__atomic_store_n(&s->count, s->count + 1, __ATOMIC_RELAXED);
		return 0;
	}
	/* one hash operation: the position of the key, added or already
	 * there; its key store holds exactly capacity keys, -ENOSPC beyond */
	pos = rte_hash_add_key_with_hash(d->h, &k, sig);
	if (pos < 0) {
		__atomic_store_n(&d->untracked, d->untracked + 1, __ATOMIC_RELAXED);
		return -ENOSPC;
	}
	d->cache[sig & (DESTS_CACHE - 1)] = pos;
	s = &d->slot[pos];
	if (s->seq & 1) { /* the owner's own word: odd, the slot holds k */
		__atomic_store_n(&s->count, s->count + 1, __ATOMIC_RELAXED);
		return 0;
	}
	/* the slot was even (free) since its last remove, which released it:
	 * readers skip it while its key changes */
	s->key = k;
	s->count = 1;
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
	return 0;
}

void
nat_dests_remove(struct nat_dests *d, const struct flow_key *in, bool tracked)
{
	struct dest_key k;
	struct dest_slot *s;
	hash_sig_t sig;
	int pos;

	if (!tracked) {
		__atomic_store_n(&d->untracked, d->untracked - 1, __ATOMIC_RELAXED);
		return;
	}
	k = dest_key_of(in);
	sig = rte_hash_crc(&k, sizeof(k), 0);
	pos = cached_pos(d, &k, sig);
	if (pos < 0)
		pos = rte_hash_lookup_with_hash(d->h, &k, sig);
	if (pos < 0)
		return; /* cannot happen: a tracked flow's destination is counted */
	s = &d->slot[pos];
	if (s->count > 1) {
		__atomic_store_n(&s->count, s->count - 1, __ATOMIC_RELAXED);
		return;
	}
	/* even before the key may change: a reader that read the old key and
	 * then sees this store drops what it read (and so does cached_pos()) */
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	s->count = 0;
	rte_hash_del_key_with_hash(d->h, &k, sig);
}

uint32_t
nat_dests_capacity(const struct nat_dests *d)
{
	return d->capacity;
}

bool
nat_dests_read(const struct nat_dests *d, uint32_t i, struct nat_dest_view *v)
{
	const struct dest_slot *s;
	uint32_t seq;

	if (i >= d->capacity)
		return false;
	s = &d->slot[i];
	seq = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE);
	if ((seq & 1) == 0)
		return false;
	v->addr = __atomic_load_n(&s->key.addr, __ATOMIC_RELAXED);
	v->dst_ip = __atomic_load_n(&s->key.dst_ip, __ATOMIC_RELAXED);
	v->dst_port = __atomic_load_n(&s->key.dst_port, __ATOMIC_RELAXED);
	v->proto = __atomic_load_n(&s->key.proto, __ATOMIC_RELAXED);
	v->count = __atomic_load_n(&s->count, __ATOMIC_RELAXED);
	/* the reads above before the second load of seq */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&s->seq, __ATOMIC_RELAXED) == seq && v->count > 0;
}

uint64_t
nat_dests_untracked(const struct nat_dests *d)
{
	return __atomic_load_n(&d->untracked, __ATOMIC_RELAXED);
}
