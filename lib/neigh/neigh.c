/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Neighbour cache (see neigh.h). An rte_hash created for lock-free readers
 * maps an IPv4 address to its key position, which is also the index of the
 * entry in a preallocated array. Workers read one word per entry: the MAC in
 * the low 48 bits and a valid bit, published by the control thread with a
 * release store and read with an acquire load, so a worker sees a whole MAC
 * or none. Every other field is the control thread's alone.
 *
 * States (times are arguments, never read here, so tests drive the clock):
 *   INCOMPLETE  request sent by neigh_resolve(); neigh_tick() repeats it every
 *               NEIGH_RETRY_MS, and NEIGH_RETRY_MS after the NEIGH_RETRIES-th
 *               unanswered one the entry is FAILED.
 *   REACHABLE   MAC valid. Unconfirmed for NEIGH_REACHABLE_MS, it is asked
 *               again (same retries) while the old MAC stays valid; no answer:
 *               a learned entry is deleted, a solicited one is FAILED, MAC
 *               withdrawn.
 *   FAILED      MAC invalid; deleted NEIGH_RETRY_MS after the failure, and
 *               until then neigh_resolve() sends nothing (hold-down against a
 *               worker asking for a dead host at line rate).
 * Why a learned entry is asked again rather than dropped: the control thread
 * cannot tell whether workers use it (they never write to the table), and
 * dropping one in use would cost its host a miss, i.e. a lost frame, every
 * NEIGH_REACHABLE_MS. A spoofed address nobody answers for is gone
 * NEIGH_REACHABLE_MS + NEIGH_RETRIES * NEIGH_RETRY_MS after its last ARP.
 *
 * Deletion under lock-free readers. A worker's neigh_lookup() is two reads:
 * rte_hash_lookup() finds the key's position p (comparing the key stored in
 * slot p), then it loads entries[p].word. If the control thread deleted the
 * address and gave slot p to another address in between, the worker would
 * read the other host's MAC for its own destination; if it did so while the
 * worker compared the key, the comparison would read a key being rewritten.
 * So a deletion (1) withdraws the MAC (word 0: a worker standing on p now
 * misses and asks for a resolution), (2) unlinks the key from its bucket
 * (rte_hash_del_key(): with RW_CONCURRENCY_LF it does not free the slot,
 * nor the extendable bucket the key may have emptied), and (3) hands the
 * slot back (rte_hash_free_key_with_position()) only once rte_rcu_qsbr_check()
 * says every worker has passed a quiescent state since the deletion.
 * Workers report one between bursts, never between the two reads, so no
 * worker still holds p when it is reused (what a worker's next-hop cache
 * keeps is a copy of an address and its MAC, read together, for at most a
 * millisecond). Until then the slot waits in the
 * limbo FIFO with its token (one per deletion: deletions are rare and on
 * the control thread, unlike the flow table's). A reused slot's word is still
 * 0 when rte_hash_add_key() publishes the new key, and the new MAC is
 * published after it: a worker sees the new address with no MAC or with its
 * own. Without a QSBR variable a slot is reused at once: tables no other
 * thread reads (tests).
 *
 * Bounds (neigh.h): learned entries per MAC are counted in a second,
 * control-only rte_hash keyed by the MAC; the learning rate is a token bucket
 * in thousandths of a token, so no fraction of a millisecond is lost.
 */
#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "neigh.h"

#define NEIGH_VALID    (UINT64_C(1) << 63)
#define NEIGH_MAC_MASK ((UINT64_C(1) << 48) - 1)
#define NEIGH_FREE     0xff /* state of a slot without an entry */
/*
 * rte_hash names its rings "HT_<name>" and, with EXT_TABLE, "HT_EXT_<name>".
 * The MAC counts' hash (no EXT_TABLE) is named after the table plus "m".
 */
static_assert(NEIGH_NAME_MAX <= RTE_RING_NAMESIZE - 1 - (sizeof("HT_EXT_") - 1),
	      "NEIGH_NAME_MAX must fit the names rte_hash derives from it");
static_assert(NEIGH_NAME_MAX + 1 <= RTE_RING_NAMESIZE - 1 - (sizeof("HT_") - 1),
	      "NEIGH_NAME_MAX must fit the names rte_hash derives from it");

enum neigh_kind {
	NEIGH_LEARNED = 0, /* from ARP the host sent on its own */
	NEIGH_SOLICITED,   /* created by neigh_resolve() */
	NEIGH_STATIC,
};

struct neigh_entry {
	uint64_t word;         /**< MAC | NEIGH_VALID; the only field workers read */
	uint32_t ip;           /**< network order */
	uint32_t live_idx;     /**< where the entry is in live[] */
	uint8_t state;         /**< enum neigh_state, or NEIGH_FREE */
	uint8_t kind;          /**< enum neigh_kind */
	uint8_t sent;          /**< requests sent in the current resolution */
	uint8_t probing;       /**< REACHABLE entry being asked again */
	uint64_t sent_ms;      /**< last request, or the failure when FAILED */
	uint64_t confirmed_ms; /**< last ARP from the host */
	uint64_t needed_ms;    /**< last neigh_resolve(): a worker missed it */
};

struct neigh_limbo {
	uint64_t token; /**< rte_rcu_qsbr_start() after the deletion */
	uint32_t pos;
};

struct neigh_table {
	struct rte_hash *hash;       /**< ip -> position; lock-free readers */
	struct rte_hash *macs;       /**< MAC -> position in mac_count; control only */
	struct neigh_entry *entries; /**< by position */
	uint32_t *mac_count;         /**< learned entries per MAC */
	uint32_t *live;              /**< positions of the entries, dense */
	struct rte_rcu_qsbr *qsbr;   /**< NULL: slots reused at once */
	struct neigh_limbo *limbo;   /**< deleted slots, oldest first */
	uint32_t limbo_mask, limbo_head, limbo_tail;
	uint32_t capacity;     /**< entries with a MAC, and learned creations */
	uint32_t slots;        /**< capacity + NEIGH_PENDING_MAX */
	uint32_t n;            /**< entries (live[0..n-1]) */
	uint32_t n_mac;        /**< of which with a valid MAC */
	uint64_t learn_credit; /**< thousandths of a token */
	uint64_t learn_last_ms;
	struct neigh_stats st; /**< counters telemetry reads: relaxed */
};

/* One writer, readers on other threads: a store they see whole. */
#define NEIGH_COUNT(nt, field)                                                                     \
	__atomic_store_n(&(nt)->st.field, (nt)->st.field + 1, __ATOMIC_RELAXED)

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
	char mac_name[NEIGH_NAME_MAX + 2];
	uint32_t positions;
	int err;

	if (name == NULL || name[0] == '\0' || strlen(name) > NEIGH_NAME_MAX || capacity == 0 ||
	    capacity > RTE_HASH_ENTRIES_MAX / 2) {
		rte_errno = EINVAL;
		return NULL;
	}
	nt = rte_zmalloc_socket("neigh_table", sizeof(*nt), RTE_CACHE_LINE_SIZE, socket_id);
	if (nt == NULL) {
		err = ENOMEM;
		goto fail;
	}
	nt->capacity = capacity;
	nt->slots = capacity + NEIGH_PENDING_MAX;
	nt->learn_credit = NEIGH_LEARN_RATE * 1000;

	hp.name = name;
	/* rte_hash wants at least one bucket (8 entries). */
	hp.entries = RTE_MAX(nt->slots, 8u);
	hp.key_len = sizeof(uint32_t);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = socket_id;
	/* EXT_TABLE: every slot is reachable even when cuckoo buckets collide. */
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	nt->hash = rte_hash_create(&hp);
	if (nt->hash == NULL) {
		err = rte_errno == EEXIST ? EEXIST : ENOMEM;
		goto fail;
	}
	/*
	 * Learned entries, hence their MACs, number at most capacity. No
	 * EXT_TABLE (its ring name would be too long): twice the room, so
	 * that colliding buckets never refuse a MAC in practice.
	 */
	snprintf(mac_name, sizeof(mac_name), "%sm", name);
	hp.name = mac_name;
	hp.entries = RTE_MAX(2 * capacity, 8u);
	hp.key_len = sizeof(uint64_t);
	hp.extra_flag = 0;
	nt->macs = rte_hash_create(&hp);
	if (nt->macs == NULL) {
		err = rte_errno == EEXIST ? EEXIST : ENOMEM;
		goto fail;
	}

	/* positions run from 0 to rte_hash_max_key_id() - 1 */
	positions = (uint32_t)rte_hash_max_key_id(nt->hash) + 1;
	nt->entries =
		rte_zmalloc_socket("neigh_entries", (size_t)positions * sizeof(struct neigh_entry),
				   RTE_CACHE_LINE_SIZE, socket_id);
	nt->live =
		rte_malloc_socket("neigh_live", (size_t)positions * sizeof(uint32_t), 0, socket_id);
	nt->mac_count = rte_zmalloc_socket(
		"neigh_macs", ((size_t)rte_hash_max_key_id(nt->macs) + 1) * sizeof(uint32_t), 0,
		socket_id);
	if (nt->entries == NULL || nt->live == NULL || nt->mac_count == NULL) {
		err = ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < positions; i++)
		nt->entries[i].state = NEIGH_FREE;
	return nt;

fail:
	neigh_free(nt);
	rte_errno = err;
	return NULL;
}

int
neigh_rcu_qsbr_add(struct neigh_table *nt, struct rte_rcu_qsbr *v)
{
	uint32_t size;

	if (nt == NULL || v == NULL)
		return -EINVAL;
	if (nt->qsbr != NULL)
		return -EEXIST;
	/* every slot may be in limbo at once */
	size = rte_align32pow2((uint32_t)rte_hash_max_key_id(nt->hash) + 1);
	nt->limbo = rte_malloc("neigh_limbo", (size_t)size * sizeof(*nt->limbo), 0);
	if (nt->limbo == NULL)
		return -ENOMEM;
	nt->limbo_mask = size - 1;
	nt->qsbr = v;
	return 0;
}

void
neigh_free(struct neigh_table *nt)
{
	if (nt == NULL)
		return;
	rte_hash_free(nt->hash);
	rte_hash_free(nt->macs);
	rte_free(nt->entries);
	rte_free(nt->live);
	rte_free(nt->mac_count);
	rte_free(nt->limbo);
	rte_free(nt);
}

static inline struct neigh_entry *
neigh_find(const struct neigh_table *nt, uint32_t ip)
{
	int32_t pos = rte_hash_lookup(nt->hash, &ip);

	return pos < 0 ? NULL : &nt->entries[pos];
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

/* Give the entry a MAC (or a new one), keeping n_mac. */
static void
neigh_set_mac(struct neigh_table *nt, struct neigh_entry *e, uint64_t w)
{
	if (!(e->word & NEIGH_VALID))
		nt->n_mac++;
	if (e->word != w)
		neigh_publish(e, w);
}

static void
neigh_clear_mac(struct neigh_table *nt, struct neigh_entry *e)
{
	if (e->word & NEIGH_VALID)
		nt->n_mac--;
	neigh_publish(e, 0);
}

/* ------------------------------------------------- learned entries per MAC */

static uint32_t
mac_count(const struct neigh_table *nt, uint64_t w)
{
	int32_t pos = rte_hash_lookup(nt->macs, &w);

	return pos < 0 ? 0 : nt->mac_count[pos];
}

static int
mac_ref(struct neigh_table *nt, uint64_t w)
{
	int32_t pos = rte_hash_add_key(nt->macs, &w);

	if (pos < 0)
		return pos;
	nt->mac_count[pos]++;
	return 0;
}

static void
mac_unref(struct neigh_table *nt, uint64_t w)
{
	int32_t pos = rte_hash_lookup(nt->macs, &w);

	if (pos >= 0 && --nt->mac_count[pos] == 0)
		rte_hash_del_key(nt->macs, &w); /* no concurrent reader: freed at once */
}

/* --------------------------------------------------- slots and their reuse */

/* Slots whose grace period is over go back to the hash. @return how many. */
static uint32_t
neigh_reclaim(struct neigh_table *nt)
{
	uint32_t n = 0;

	while (nt->limbo_head != nt->limbo_tail) {
		const struct neigh_limbo *l = &nt->limbo[nt->limbo_head & nt->limbo_mask];

		if (rte_rcu_qsbr_check(nt->qsbr, l->token, false) != 1)
			break;
		rte_hash_free_key_with_position(nt->hash, (int32_t)l->pos);
		nt->limbo_head++;
		n++;
	}
	return n;
}

/* Control: a new entry for ip, state INCOMPLETE, no MAC, nothing sent. */
static struct neigh_entry *
neigh_new(struct neigh_table *nt, uint32_t ip, uint8_t kind)
{
	struct neigh_entry *e;
	int32_t pos;

	pos = rte_hash_add_key(nt->hash, &ip);
	if (pos == -ENOSPC && nt->qsbr != NULL && neigh_reclaim(nt) > 0)
		pos = rte_hash_add_key(nt->hash, &ip);
	if (pos < 0)
		return NULL;
	/*
	 * Workers may find the key already: its word is 0 (never used, or
	 * cleared by neigh_delete()), left untouched until a MAC is published.
	 */
	e = &nt->entries[pos];
	e->ip = ip;
	e->state = NEIGH_INCOMPLETE;
	e->kind = kind;
	e->sent = 0;
	e->probing = 0;
	e->sent_ms = 0;
	e->confirmed_ms = 0;
	e->needed_ms = 0;
	e->live_idx = nt->n;
	nt->live[nt->n++] = (uint32_t)pos;
	return e;
}

/* Control: remove e; its slot is reused after a grace period (top of file). */
static void
neigh_delete(struct neigh_table *nt, struct neigh_entry *e)
{
	const uint32_t pos = (uint32_t)(e - nt->entries);
	const uint32_t last = nt->live[--nt->n];

	if (e->kind == NEIGH_LEARNED)
		mac_unref(nt, e->word);
	neigh_clear_mac(nt, e);
	rte_hash_del_key(nt->hash, &e->ip);
	nt->live[e->live_idx] = last;
	nt->entries[last].live_idx = e->live_idx;
	e->state = NEIGH_FREE;
	if (nt->qsbr == NULL) {
		rte_hash_free_key_with_position(nt->hash, (int32_t)pos);
		return;
	}
	nt->limbo[nt->limbo_tail & nt->limbo_mask] = (struct neigh_limbo){
		.token = rte_rcu_qsbr_start(nt->qsbr),
		.pos = pos,
	};
	nt->limbo_tail++;
}

/*
 * Control: make room for one more MAC by deleting the entry that matters
 * least: a learned one (nothing showed a worker needs it), the least
 * recently confirmed first; else the solicited one a worker needed least
 * recently. Never keep, never a static entry, never one without a MAC (it
 * holds no room). @return false when there is no such entry.
 */
static bool
neigh_evict(struct neigh_table *nt, const struct neigh_entry *keep)
{
	struct neigh_entry *victim = NULL;
	uint64_t victim_age = 0;
	uint32_t i;

	for (i = 0; i < nt->n; i++) {
		struct neigh_entry *e = &nt->entries[nt->live[i]];
		uint64_t age;

		if (e == keep || e->kind == NEIGH_STATIC || !(e->word & NEIGH_VALID))
			continue;
		age = e->kind == NEIGH_LEARNED ? e->confirmed_ms : e->needed_ms;
		if (victim == NULL || e->kind < victim->kind ||
		    (e->kind == victim->kind && age < victim_age)) {
			victim = e;
			victim_age = age;
		}
	}
	if (victim == NULL)
		return false;
	neigh_delete(nt, victim);
	NEIGH_COUNT(nt, evicted);
	return true;
}

/* ------------------------------------------------------------------ learn */

/* One token of NEIGH_LEARN_RATE per second, a burst of as many. */
static bool
neigh_learn_token(struct neigh_table *nt, uint64_t now_ms)
{
	const uint64_t full = (uint64_t)NEIGH_LEARN_RATE * 1000;

	if (now_ms > nt->learn_last_ms) {
		uint64_t gap = RTE_MIN(now_ms - nt->learn_last_ms, (uint64_t)1000);

		nt->learn_credit = RTE_MIN(nt->learn_credit + gap * NEIGH_LEARN_RATE, full);
		nt->learn_last_ms = now_ms;
	}
	if (nt->learn_credit < 1000)
		return false;
	nt->learn_credit -= 1000;
	return true;
}

/* An address not in the table: a learned entry, within the bounds. */
static int
neigh_learn_new(struct neigh_table *nt, uint32_t ip, uint64_t w, uint64_t now_ms)
{
	struct neigh_entry *e;

	/* the NEIGH_PENDING_MAX slots beyond capacity are for requests */
	if (nt->n >= nt->capacity) {
		NEIGH_COUNT(nt, learn_dropped_full);
		return -ENOSPC;
	}
	if (mac_count(nt, w) >= NEIGH_LEARN_PER_MAC) {
		NEIGH_COUNT(nt, learn_dropped_mac);
		return -EDQUOT;
	}
	if (!neigh_learn_token(nt, now_ms)) {
		NEIGH_COUNT(nt, learn_dropped_rate);
		return -EAGAIN;
	}
	e = neigh_new(nt, ip, NEIGH_LEARNED);
	if (e == NULL || mac_ref(nt, w) != 0) {
		if (e != NULL)
			neigh_delete(nt, e);
		NEIGH_COUNT(nt, learn_dropped_full);
		return -ENOSPC;
	}
	neigh_set_mac(nt, e, w);
	e->state = NEIGH_REACHABLE;
	e->confirmed_ms = now_ms;
	return 0;
}

int
neigh_learn(struct neigh_table *nt, uint32_t ip, const uint8_t mac[6], uint64_t now_ms)
{
	struct neigh_entry *e = neigh_find(nt, ip);
	const uint64_t w = neigh_pack(mac);

	if (e == NULL)
		return neigh_learn_new(nt, ip, w, now_ms);
	if (e->kind == NEIGH_STATIC)
		return 0;
	if (e->kind == NEIGH_LEARNED) {
		/* the address moved to another MAC: that MAC's bound applies */
		if (e->word != w) {
			if (mac_count(nt, w) >= NEIGH_LEARN_PER_MAC) {
				NEIGH_COUNT(nt, learn_dropped_mac);
				return -EDQUOT;
			}
			mac_unref(nt, e->word);
			(void)mac_ref(nt, w); /* fits: one MAC fewer or as many */
			neigh_set_mac(nt, e, w);
		}
		e->sent = 0;
		e->probing = 0;
		e->confirmed_ms = now_ms;
		return 0;
	}
	/*
	 * Solicited: the answer to our request (or the host speaking up). One
	 * without a MAC yet needs room: never refused for a learned entry.
	 */
	if (!(e->word & NEIGH_VALID) && nt->n_mac >= nt->capacity && !neigh_evict(nt, e)) {
		NEIGH_COUNT(nt, learn_dropped_full);
		return -ENOSPC;
	}
	neigh_set_mac(nt, e, w);
	e->state = NEIGH_REACHABLE;
	e->sent = 0;
	e->probing = 0;
	e->confirmed_ms = now_ms;
	return 0;
}

int
neigh_add_static(struct neigh_table *nt, uint32_t ip, const uint8_t mac[6])
{
	struct neigh_entry *e = neigh_find(nt, ip);

	if (e == NULL) {
		if (nt->n >= nt->capacity)
			return -ENOSPC;
		e = neigh_new(nt, ip, NEIGH_STATIC);
		if (e == NULL)
			return -ENOSPC;
	} else if (e->kind == NEIGH_LEARNED) {
		mac_unref(nt, e->word);
	}
	e->kind = NEIGH_STATIC;
	e->state = NEIGH_REACHABLE;
	e->probing = 0;
	neigh_set_mac(nt, e, neigh_pack(mac));
	return 0;
}

/* ---------------------------------------------------------------- resolve */

static inline void
neigh_send(struct neigh_entry *e, uint64_t now_ms, neigh_request_fn req, void *arg)
{
	e->sent++;
	e->sent_ms = now_ms;
	req(arg, e->ip);
}

int
neigh_resolve(struct neigh_table *nt, uint32_t ip, uint64_t now_ms, neigh_request_fn req, void *arg)
{
	struct neigh_entry *e = neigh_find(nt, ip);

	if (e != NULL) {
		e->needed_ms = now_ms;
		/* Pending, reachable (the worker raced an answer), or held down. */
		if (e->state != NEIGH_FAILED || now_ms - e->sent_ms < NEIGH_RETRY_MS)
			return 0;
	} else {
		/* beyond capacity too: the answer will make room (neigh_learn()) */
		e = nt->n < nt->slots ? neigh_new(nt, ip, NEIGH_SOLICITED) : NULL;
		if (e == NULL) {
			NEIGH_COUNT(nt, resolve_dropped);
			return -ENOSPC;
		}
		e->needed_ms = now_ms;
	}
	e->state = NEIGH_INCOMPLETE;
	e->sent = 0;
	neigh_send(e, now_ms, req, arg);
	return 0;
}

/*
 * An unanswered request is due again, or the resolution has failed.
 * @return true when e failed and is to be deleted.
 */
static bool
neigh_retry(struct neigh_table *nt, struct neigh_entry *e, uint64_t now_ms, neigh_request_fn req,
	    void *arg)
{
	if (now_ms - e->sent_ms < NEIGH_RETRY_MS)
		return false;
	if (e->sent < NEIGH_RETRIES) {
		neigh_send(e, now_ms, req, arg);
		return false;
	}
	/* NEIGH_RETRIES requests, none answered. Nothing asked for a learned
	 * entry: no hold-down, a worker's next miss asks afresh. */
	if (e->kind == NEIGH_LEARNED)
		return true;
	neigh_clear_mac(nt, e);
	e->state = NEIGH_FAILED;
	e->probing = 0;
	e->sent_ms = now_ms; /* start of the hold-down */
	return false;
}

/* Control: what time does to e. @return true when e was deleted. */
static bool
neigh_age(struct neigh_table *nt, struct neigh_entry *e, uint64_t now_ms, neigh_request_fn req,
	  void *arg)
{
	if (e->kind == NEIGH_STATIC)
		return false;
	switch (e->state) {
	case NEIGH_FAILED:
		if (now_ms - e->sent_ms < NEIGH_RETRY_MS)
			return false;
		break;
	case NEIGH_REACHABLE:
		if (!e->probing) {
			if (now_ms - e->confirmed_ms < NEIGH_REACHABLE_MS)
				return false;
			/* ask again while the old MAC stays valid */
			e->probing = 1;
			e->sent = 0;
			neigh_send(e, now_ms, req, arg);
			return false;
		}
		/* fall through */
	default:
		if (!neigh_retry(nt, e, now_ms, req, arg))
			return false;
		break;
	}
	neigh_delete(nt, e);
	NEIGH_COUNT(nt, expired);
	return true;
}

void
neigh_tick(struct neigh_table *nt, uint64_t now_ms, neigh_request_fn req, void *arg)
{
	uint32_t i = 0;

	if (nt->qsbr != NULL)
		neigh_reclaim(nt);
	while (i < nt->n) {
		/* a deletion moves the last entry to i: look at i again */
		if (!neigh_age(nt, &nt->entries[nt->live[i]], now_ms, req, arg))
			i++;
	}
}

int
neigh_state(const struct neigh_table *nt, uint32_t ip)
{
	const struct neigh_entry *e = neigh_find(nt, ip);

	return e == NULL ? -ENOENT : e->state;
}

void
neigh_stats_get(const struct neigh_table *nt, struct neigh_stats *st)
{
	*st = nt->st;
	st->entries = nt->n;
	st->limbo = nt->limbo_tail - nt->limbo_head;
}

uint64_t
neigh_learn_dropped(const struct neigh_table *nt)
{
	if (nt == NULL)
		return 0;
	return __atomic_load_n(&nt->st.learn_dropped_full, __ATOMIC_RELAXED) +
	       __atomic_load_n(&nt->st.learn_dropped_mac, __ATOMIC_RELAXED) +
	       __atomic_load_n(&nt->st.learn_dropped_rate, __ATOMIC_RELAXED);
}
