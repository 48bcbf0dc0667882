/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT ports chosen for the outside port's RSS: replies land on the queue of
 * the worker that owns their flow, so no worker hands them on.
 *
 * The outside NIC spreads replies over its RX queues by the Toeplitz hash of
 * (source address, destination address, source port, destination port): for
 * a reply, (server, NAT address, server port, NAT port); the low bits of the
 * hash index the redirection table (RETA), whose entry is the queue. Worker w
 * polls queue w. When the device's key and RETA are known (read from the
 * started port, nat_rss_from_port()), a worker binds only NAT ports whose
 * reply hashes to a RETA entry of its own queue (nat_rss_owner() == w): the
 * reply then arrives on its queue, and, since the owner is a function of the
 * reply key, no two workers can bind the same key (each worker's flow table
 * stays the whole truth about the keys it may use).
 *
 * Toeplitz is linear over GF(2): the hash of a tuple is the XOR of the
 * contributions of its bytes, each a function of the byte's value and its
 * position only. So the RETA index is the XOR of 12 table entries (one per
 * tuple byte), and a port candidate changes only the last two: a bind
 * computes the other ten once and tries each port with two loads and a RETA
 * read (RFC 6056's random start and linear probe are kept, skipping the ports
 * of other workers). The tables are built with rte_softrss() from the key,
 * and the tests check them against rte_softrss() and a bit-by-bit Toeplitz.
 * (rte_thash_adjust_tuple() would do the same search but needs a thash
 * context built around a key it generates itself, and is experimental.)
 *
 * Where the hash is unknown (net_af_packet, net_pcap: no RSS; a device
 * whose hash leaves out the ports), the port range is split among the
 * workers instead (nat_range_split()), and a reply on another worker's
 * queue is handed to its owner through a ring (lib/dp).
 *
 * Thread-safety: a struct nat_rss is built and freed by the control thread,
 * and read-only in between: any worker reads it without a lock.
 */
#ifndef EGRESS_NAT_RSS_H
#define EGRESS_NAT_RSS_H

#include <stdint.h>

#include <rte_byteorder.h>

#include "flow_key.h"

/** Bytes of the IPv4 + L4 ports tuple the NIC hashes. */
#define NAT_RSS_TUPLE_LEN 12
/** Key bytes the tuple's hash reads: the tuple's bits + 32. */
#define NAT_RSS_KEY_MIN (NAT_RSS_TUPLE_LEN + 4)
/** The Toeplitz standard's key length (most PMDs', Microsoft's RSS). */
#define NAT_RSS_KEY_STD 40
/** Largest redirection table (RTE_ETH_RSS_RETA_SIZE_512). */
#define NAT_RSS_RETA_MAX 512

struct nat_rss {
	/** [i][v]: the RETA-index bits that byte i of the tuple, of value v,
	 *  contributes to the hash */
	uint16_t byte_idx[NAT_RSS_TUPLE_LEN][256];
	uint16_t reta_mask;              /**< RETA size - 1 (a power of two) */
	uint16_t n_workers;              /**< RX queues, one per worker */
	uint16_t port_lo;                /**< NAT ports, host order */
	uint16_t port_hi;                /**< inclusive */
	uint16_t reta[NAT_RSS_RETA_MAX]; /**< [index]: queue = worker */
	/** [x * n_workers + w]: ports of [port_lo, port_hi] worker w may bind
	 *  toward a destination whose port-less RETA index is x */
	uint32_t *share;
};

/** What nat_rss_create() builds from: the device's hash as it is. */
struct nat_rss_params {
	const uint8_t *key;     /**< the Toeplitz key */
	uint32_t key_len;       /**< its bytes, >= NAT_RSS_KEY_MIN */
	const uint16_t *reta;   /**< [reta_size]: each entry's RX queue */
	uint32_t reta_size;     /**< a power of two, <= NAT_RSS_RETA_MAX */
	unsigned int n_workers; /**< >= 2; worker w polls queue w */
	uint16_t port_lo;       /**< NAT ports, host order */
	uint16_t port_hi;       /**< inclusive */
	int socket_id;
};

/**
 * Build the tables for p. Control thread.
 * @return them, or NULL with rte_errno set: EINVAL (a bad parameter: short
 *         key, RETA size, an entry naming a queue no worker polls); ENOTSUP
 *         (the scheme cannot serve: a worker no RETA entry names, or, for
 *         some destination, no port of the range that hashes to a worker,
 *         which would leave it unable to bind any); ENOMEM.
 */
struct nat_rss *nat_rss_create(const struct nat_rss_params *p);

/** Free it; NULL-tolerant. No worker may use it any more. */
void nat_rss_free(struct nat_rss *r);

/**
 * The key, RETA and hashed fields of a started port, as nat_rss_create()
 * takes them, for n_workers workers and the NAT ports [lo, hi]. Control
 * thread, after rte_eth_dev_start().
 * *why: the choice and its reason, for the log ("rss (...)", "share (...)").
 * @return the tables, or NULL with rte_errno set: ENOTSUP (one worker; the device reports no RSS key or RETA,
 *         or its hash of IPv4 TCP or UDP leaves out the ports or an
 *         address: the hand-off fallback serves it), or as nat_rss_create().
 */
struct nat_rss *nat_rss_from_port(uint16_t port_id, unsigned int n_workers, uint16_t lo,
				  uint16_t hi, int socket_id, const char **why);

/* XOR of the contributions of n bytes of a network-order word. */
static inline uint32_t
nat_rss_word(const struct nat_rss *r, unsigned int at, const uint8_t *b, unsigned int n)
{
	uint32_t x = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		x ^= r->byte_idx[at + i][b[i]];
	return x;
}

/**
 * The RETA index of reply key in (src: server, dst: NAT address and port)
 * with its destination port left out (zero): XOR it with
 * nat_rss_port_idx() of a port for the whole index.
 */
static inline uint32_t
nat_rss_base_idx(const struct nat_rss *r, const struct flow_key *in)
{
	return nat_rss_word(r, 0, (const uint8_t *)&in->src_ip, 4) ^
	       nat_rss_word(r, 4, (const uint8_t *)&in->dst_ip, 4) ^
	       nat_rss_word(r, 8, (const uint8_t *)&in->src_port, 2);
}

/** What NAT port port (host order) adds to the RETA index. */
static inline uint32_t
nat_rss_port_idx(const struct nat_rss *r, uint16_t port)
{
	return r->byte_idx[10][port >> 8] ^ r->byte_idx[11][port & 0xff];
}

/**
 * The worker whose queue the NIC delivers reply key in to: the owner of its
 * flow. Any thread; about a dozen loads.
 */
static inline unsigned int
nat_rss_owner(const struct nat_rss *r, const struct flow_key *in)
{
	return r->reta[nat_rss_base_idx(r, in) ^
		       nat_rss_port_idx(r, rte_be_to_cpu_16(in->dst_port))];
}

/**
 * Ports worker w may bind toward the destination of reply key in (its
 * destination port ignored): its share of the range for that destination.
 * Any thread.
 */
static inline uint32_t
nat_rss_share(const struct nat_rss *r, const struct flow_key *in, unsigned int w)
{
	return r->share[nat_rss_base_idx(r, in) * r->n_workers + w];
}

#endif
