/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT ports chosen for the outside port's RSS (see nat_rss.h): the tables,
 * built once by the control thread, and their reading from a started port.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_thash.h>

#include "nat_rss.h"

/* The RETA-index bits of tuple byte `at` holding v (every other byte zero). */
static uint16_t
byte_contribution(const uint8_t *key, unsigned int at, uint8_t v, uint16_t mask)
{
	uint8_t tuple[NAT_RSS_TUPLE_LEN] = { 0 };
	uint32_t words[NAT_RSS_TUPLE_LEN / 4];
	unsigned int j;

	tuple[at] = v;
	/* rte_softrss() takes the tuple as host-order words, most significant
	 * bit first: the bytes in the order the NIC reads them off the wire */
	for (j = 0; j < RTE_DIM(words); j++)
		words[j] = (uint32_t)tuple[4 * j] << 24 | (uint32_t)tuple[4 * j + 1] << 16 |
			   (uint32_t)tuple[4 * j + 2] << 8 | tuple[4 * j + 3];
	return (uint16_t)(rte_softrss(words, RTE_DIM(words), key) & mask);
}

/*
 * r->share from r's tables and RETA. @return 0, or -ENOTSUP when some
 * worker would have no port toward some destination.
 */
static int
fill_shares(struct nat_rss *r)
{
	uint32_t cnt[NAT_RSS_RETA_MAX] = { 0 };
	uint32_t size = (uint32_t)r->reta_mask + 1, x, v, p;
	unsigned int w;

	/* how many ports of the range add each index bits */
	for (p = r->port_lo; p <= r->port_hi; p++)
		cnt[nat_rss_port_idx(r, (uint16_t)p)]++;
	for (x = 0; x < size; x++) {
		uint32_t *s = &r->share[x * r->n_workers];

		for (v = 0; v < size; v++)
			s[r->reta[x ^ v]] += cnt[v];
		for (w = 0; w < r->n_workers; w++)
			if (s[w] == 0)
				return -ENOTSUP;
	}
	return 0;
}

struct nat_rss *
nat_rss_create(const struct nat_rss_params *p)
{
	/* rte_softrss() reads the key as 32-bit words */
	uint32_t key[NAT_RSS_KEY_MIN / 4];
	bool named[NAT_RSS_RETA_MAX] = { false };
	struct nat_rss *r;
	unsigned int i, v;
	int err;

	if (p->key == NULL || p->key_len < NAT_RSS_KEY_MIN || p->reta == NULL ||
	    p->reta_size == 0 || p->reta_size > NAT_RSS_RETA_MAX ||
	    !rte_is_power_of_2(p->reta_size) || p->n_workers < 2 ||
	    p->n_workers > NAT_RSS_RETA_MAX || p->port_lo > p->port_hi) {
		rte_errno = EINVAL;
		return NULL;
	}
	for (i = 0; i < p->reta_size; i++) {
		if (p->reta[i] >= p->n_workers) {
			rte_errno = EINVAL;
			return NULL;
		}
		named[p->reta[i]] = true;
	}
	/* a worker no entry names would never see a reply: it could bind no port */
	for (i = 0; i < p->n_workers; i++) {
		if (!named[i]) {
			rte_errno = ENOTSUP;
			return NULL;
		}
	}
	r = rte_zmalloc_socket("nat_rss", sizeof(*r), RTE_CACHE_LINE_SIZE, p->socket_id);
	if (r == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	r->share =
		rte_zmalloc_socket("nat_rss_share", sizeof(uint32_t) * p->reta_size * p->n_workers,
				   RTE_CACHE_LINE_SIZE, p->socket_id);
	if (r->share == NULL) {
		err = ENOMEM;
		goto fail;
	}
	r->reta_mask = (uint16_t)(p->reta_size - 1);
	r->n_workers = (uint16_t)p->n_workers;
	r->port_lo = p->port_lo;
	r->port_hi = p->port_hi;
	for (i = 0; i < p->reta_size; i++)
		r->reta[i] = p->reta[i];
	memcpy(key, p->key, sizeof(key));
	for (i = 0; i < NAT_RSS_TUPLE_LEN; i++)
		for (v = 0; v < 256; v++)
			r->byte_idx[i][v] = byte_contribution((const uint8_t *)key, i, (uint8_t)v,
							      r->reta_mask);
	err = -fill_shares(r);
	if (err != 0)
		goto fail;
	return r;
fail:
	nat_rss_free(r);
	rte_errno = err;
	return NULL;
}

void
nat_rss_free(struct nat_rss *r)
{
	if (r == NULL)
		return;
	rte_free(r->share);
	rte_free(r);
}

/*
 * The fields the hash must cover for a reply's queue to follow its NAT port:
 * both addresses and both ports of IPv4 TCP and UDP. A device configured to
 * hash one side only (the *_SRC_ONLY / *_DST_ONLY modifiers) is not served.
 */
#define NAT_RSS_NEEDED (RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP)
#define NAT_RSS_PARTIAL                                                                            \
	(RTE_ETH_RSS_L3_SRC_ONLY | RTE_ETH_RSS_L3_DST_ONLY | RTE_ETH_RSS_L4_SRC_ONLY |             \
	 RTE_ETH_RSS_L4_DST_ONLY)

struct nat_rss *
nat_rss_from_port(uint16_t port_id, unsigned int n_workers, uint16_t lo, uint16_t hi, int socket_id,
		  const char **why)
{
	struct rte_eth_rss_reta_entry64 groups[NAT_RSS_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	uint16_t reta[NAT_RSS_RETA_MAX];
	uint8_t key[UINT8_MAX + 1];
	struct rte_eth_rss_conf rc = { .rss_key = key };
	struct rte_eth_dev_info info;
	struct nat_rss_params p;
	struct nat_rss *r;
	unsigned int i;

	rte_errno = ENOTSUP;
	if (n_workers < 2) {
		*why = "share (one worker)";
		return NULL;
	}
	if (rte_eth_dev_info_get(port_id, &info) != 0 || info.reta_size == 0 ||
	    info.reta_size > NAT_RSS_RETA_MAX ||
	    (info.hash_key_size != 0 && info.hash_key_size < NAT_RSS_KEY_MIN)) {
		*why = "share (the outside device reports no RSS key or redirection table)";
		return NULL;
	}
	/*
	 * The key the device has now: whatever the port set-up asked for. A
	 * PMD that reports no key size (net_null) holds the 40 bytes of the
	 * Toeplitz standard; the tuple's hash reads the first 16 of them.
	 */
	rc.rss_key_len = info.hash_key_size != 0 ? info.hash_key_size : NAT_RSS_KEY_STD;
	if (rte_eth_dev_rss_hash_conf_get(port_id, &rc) != 0 ||
	    (rc.rss_hf & NAT_RSS_NEEDED) != NAT_RSS_NEEDED || (rc.rss_hf & NAT_RSS_PARTIAL) != 0) {
		*why = "share (the outside device's RSS does not hash IPv4 TCP and UDP by "
		       "both addresses and ports)";
		return NULL;
	}
	memset(groups, 0, sizeof(groups));
	for (i = 0; i < RTE_DIM(groups); i++)
		groups[i].mask = UINT64_MAX;
	if (rte_eth_dev_rss_reta_query(port_id, groups, info.reta_size) != 0) {
		*why = "share (the outside device's redirection table cannot be read)";
		return NULL;
	}
	for (i = 0; i < info.reta_size; i++)
		reta[i] = groups[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE];
	p = (struct nat_rss_params){
		.key = key,
		.key_len = rc.rss_key_len,
		.reta = reta,
		.reta_size = info.reta_size,
		.n_workers = n_workers,
		.port_lo = lo,
		.port_hi = hi,
		.socket_id = socket_id,
	};
	r = nat_rss_create(&p);
	if (r != NULL)
		*why = "rss (replies land on their flow's worker)";
	else if (rte_errno == ENOTSUP)
		*why = "share (the outside device's redirection table leaves a worker without "
		       "ports)";
	else
		*why = rte_errno == ENOMEM ? "share (out of memory)" :
					     "share (the outside device's RSS cannot be followed)";
	return r;
}
