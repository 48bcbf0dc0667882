/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbour cache (see neigh.h). An rte_hash created for lock-free readers
 * maps an IPv4 address to an index in a preallocated entry array. Workers
 * read one word per entry: the MAC in the low 48 bits and a valid bit,
 * published by the control thread with a release store and read with an
 * acquire load, so a worker sees a whole MAC or none. Every other field is
 * the control thread's alone.
 *
 * States (times are arguments, never read here, so tests drive the clock):
 *   INCOMPLETE  request sent by neigh_resolve(); neigh_tick() repeats it every
 *               NEIGH_RETRY_MS, and NEIGH_RETRY_MS after the NEIGH_RETRIES-th
 *               unanswered one the entry is FAILED.
 *   REACHABLE   MAC valid. Once NEIGH_REFRESH_MS old, neigh_tick() requests it
 *               again (same retries) while the old MAC stays valid; no answer
 *               after NEIGH_RETRIES requests: FAILED, MAC withdrawn.
 *   FAILED      MAC invalid; neigh_resolve() starts over, but no sooner than
 *               NEIGH_RETRY_MS after the failure (hold-down against a worker
 *               asking for a dead host at line rate).
 * neigh_learn() makes any entry REACHABLE.
 *
 * Entries are never deleted, so the hash needs no reclamation and a worker's
 * entry pointer stays valid forever.
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "neigh.h"

#define NEIGH_VALID      (UINT64_C(1) << 63)
#define NEIGH_MAC_MASK   ((UINT64_C(1) << 48) - 1)
/* rte_hash names its extendable bucket ring "HT_EXT_<name>": a ring name. */
static_assert(NEIGH_NAME_MAX <= RTE_RING_NAMESIZE - 1 - (sizeof("HT_EXT_") - 1),
	      "NEIGH_NAME_MAX must fit the names rte_hash derives from it");

struct neigh_entry {
	uint64_t word;          /**< MAC | NEIGH_VALID; the only field workers read */
	uint32_t ip;            /**< network order */
	uint8_t state;          /**< enum neigh_state */
	uint8_t sent;           /**< requests sent in the current resolution */
	uint8_t probing;        /**< REACHABLE entry being refreshed */
	uint8_t is_static;      /**< configured: never resolved, refreshed or learnt */
	uint64_t sent_ms;       /**< last request, or the failure when FAILED */
	uint64_t confirmed_ms;  /**< last neigh_learn() */
};

struct neigh_table {
	struct rte_hash *hash;
	struct neigh_entry *entries;
	uint32_t capacity;
	uint32_t n;             /**< entries used, in order of creation */
};

static inline uint64_t
neigh_pack(const uint8_t mac[6])
{
	uint64_t w = 0;
	unsigned int i;

	for (i = 0; i < 6; i++)
		w |= (uint64_t)mac[i] << (8 * i);
	return w | NEIGH_VALID;
}

static inline void
neigh_unpack(uint64_t w, uint8_t mac[6])
{
	unsigned int i;

	for (i = 0; i < 6; i++)
		mac[i] = (uint8_t)(w >> (8 * i));
}

struct neigh_table *
neigh_create(const char *name, uint32_t capacity, int socket_id)
{
	struct rte_hash_parameters hp = { 0 };
	struct neigh_table *nt = NULL;
	int err;

	if (name == NULL || name[0] == '\0' || strlen(name) > NEIGH_NAME_MAX ||
	    capacity == 0 || capacity > RTE_HASH_ENTRIES_MAX) {
		rte_errno = EINVAL;
		return NULL;
	}
	nt = rte_zmalloc_socket("neigh_table", sizeof(*nt), RTE_CACHE_LINE_SIZE, socket_id);
	if (nt == NULL) {
		err = ENOMEM;
		goto fail;
	}
	nt->capacity = capacity;
	nt->entries = rte_zmalloc_socket("neigh_entries",
					 (size_t)capacity * sizeof(struct neigh_entry),
					 RTE_CACHE_LINE_SIZE, socket_id);
	if (nt->entries == NULL) {
		err = ENOMEM;
		goto fail;
	}

	hp.name = name;
	/* rte_hash wants at least one bucket (8 entries). */
	hp.entries = RTE_MAX(capacity, 8u);
	hp.key_len = sizeof(uint32_t);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = socket_id;
	/* EXT_TABLE: capacity is reachable even when cuckoo buckets collide. */
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	nt->hash = rte_hash_create(&hp);
	if (nt->hash == NULL) {
		err = rte_errno == EEXIST ? EEXIST : ENOMEM;
		goto fail;
	}
	return nt;

fail:
	neigh_free(nt);
	rte_errno = err;
	return NULL;
}

void
neigh_free(struct neigh_table *nt)
{
	if (nt == NULL)
		return;
	rte_hash_free(nt->hash);
	rte_free(nt->entries);
	rte_free(nt);
}

static inline struct neigh_entry *
neigh_find(const struct neigh_table *nt, uint32_t ip)
{
	void *data;

	if (rte_hash_lookup_data(nt->hash, &ip, &data) < 0)
		return NULL;
	return &nt->entries[(uintptr_t)data];
}

bool
neigh_lookup(const struct neigh_table *nt, uint32_t ip, uint8_t mac[6])
{
	const struct neigh_entry *e = neigh_find(nt, ip);
	uint64_t w;

	if (e == NULL)
		return false;
	/* Pairs with the release store of neigh_publish(). */
	w = __atomic_load_n(&e->word, __ATOMIC_ACQUIRE);
	if (!(w & NEIGH_VALID))
		return false;
	neigh_unpack(w, mac);
	return true;
}

static inline void
neigh_publish(struct neigh_entry *e, uint64_t w)
{
	__atomic_store_n(&e->word, w, __ATOMIC_RELEASE);
}

/* Control: a new entry, in state INCOMPLETE with nothing sent yet. */
static struct neigh_entry *
neigh_new(struct neigh_table *nt, uint32_t ip)
{
	struct neigh_entry *e;
	uint32_t idx;

	if (nt->n == nt->capacity)
		return NULL;
	idx = nt->n;
	e = &nt->entries[idx];
	memset(e, 0, sizeof(*e));
	e->ip = ip;
	e->state = NEIGH_INCOMPLETE;
	/*
	 * The entry is complete before the key is published: rte_hash stores
	 * the data and the key index with release semantics.
	 */
	if (rte_hash_add_key_data(nt->hash, &ip, (void *)(uintptr_t)idx) != 0)
		return NULL;
	nt->n++;
	return e;
}

int
neigh_learn(struct neigh_table *nt, uint32_t ip, const uint8_t mac[6], uint64_t now_ms)
{
	struct neigh_entry *e = neigh_find(nt, ip);

	if (e == NULL) {
		e = neigh_new(nt, ip);
		if (e == NULL)
			return -ENOSPC;
	}
	if (e->is_static)
		return 0;
	neigh_publish(e, neigh_pack(mac));
	e->state = NEIGH_REACHABLE;
	e->sent = 0;
	e->probing = 0;
	e->confirmed_ms = now_ms;
	return 0;
}

int
neigh_add_static(struct neigh_table *nt, uint32_t ip, const uint8_t mac[6])
{
	int rc = neigh_learn(nt, ip, mac, 0);

	if (rc == 0)
		neigh_find(nt, ip)->is_static = 1;
	return rc;
}

static inline void
neigh_send(struct neigh_entry *e, uint64_t now_ms, neigh_request_fn req, void *arg)
{
	e->sent++;
	e->sent_ms = now_ms;
	req(arg, e->ip);
}

int
neigh_resolve(struct neigh_table *nt, uint32_t ip, uint64_t now_ms,
	      neigh_request_fn req, void *arg)
{
	struct neigh_entry *e = neigh_find(nt, ip);

	if (e == NULL) {
		e = neigh_new(nt, ip);
		if (e == NULL)
			return -ENOSPC;
	} else if (e->state != NEIGH_FAILED || now_ms - e->sent_ms < NEIGH_RETRY_MS) {
		/* Pending, reachable (the worker raced a learn), or held down. */
		return 0;
	}
	e->state = NEIGH_INCOMPLETE;
	e->sent = 0;
	neigh_send(e, now_ms, req, arg);
	return 0;
}

/* An unanswered request is due again, or the resolution has failed. */
static void
neigh_retry(struct neigh_entry *e, uint64_t now_ms, neigh_request_fn req, void *arg)
{
	if (now_ms - e->sent_ms < NEIGH_RETRY_MS)
		return;
	if (e->sent < NEIGH_RETRIES) {
		neigh_send(e, now_ms, req, arg);
		return;
	}
	/* NEIGH_RETRIES requests, none answered: withdraw the MAC, if any. */
	neigh_publish(e, 0);
	e->state = NEIGH_FAILED;
	e->probing = 0;
	e->sent_ms = now_ms;    /* start of the hold-down */
}

void
neigh_tick(struct neigh_table *nt, uint64_t now_ms, neigh_request_fn req, void *arg)
{
	uint32_t i;

	for (i = 0; i < nt->n; i++) {
		struct neigh_entry *e = &nt->entries[i];

		if (e->is_static)
			continue;
		if (e->state == NEIGH_INCOMPLETE || (e->state == NEIGH_REACHABLE && e->probing)) {
			neigh_retry(e, now_ms, req, arg);
		} else if (e->state == NEIGH_REACHABLE &&
			   now_ms - e->confirmed_ms >= NEIGH_REFRESH_MS) {
			/* Refresh: ask again while the old MAC stays valid. */
			e->probing = 1;
			e->sent = 0;
			neigh_send(e, now_ms, req, arg);
		}
	}
}

int
neigh_state(const struct neigh_table *nt, uint32_t ip)
{
	const struct neigh_entry *e = neigh_find(nt, ip);

	return e == NULL ? -ENOENT : e->state;
}
