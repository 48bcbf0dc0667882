/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Source NAT binding: choose the outside 5-tuple of a new flow.
 *
 * Mapping is per destination ("port overlapping", RFC 7857 section 3): a NAT
 * port is unique per (NAT address, destination address, destination port,
 * protocol), so one address carries up to a whole port range of concurrent
 * flows to *each* destination. The port is chosen unpredictably (RFC 6056
 * algorithm 1: random start, then a bounded linear probe), or, with
 * port_alloc: preserve, the client's own port when it is free (RFC 4787).
 * A client gets the same NAT address ("paired" pooling, RFC 4787 REQ-2)
 * while that address has a port free toward the destination; when it has
 * none, the flow spills to the next address (in the configured order) that
 * has one, rather than being refused: the pool serves a hot destination
 * with all its addresses, and a client keeps its own address for every
 * flow that fits there.
 *
 * Holes: ports the control-plane exception path claims on a NAT address
 * (BGP tcp/179, BFD udp/3784 on the port's own address, which is also a NAT
 * address) are never bound there, whatever the mode: a reply to a NATed
 * flow on one would go to the host (lib/dp/exception.c). A hole is per
 * address and protocol; the rest of the range serves as before.
 *
 * Which worker may bind a port is decided one of two ways, chosen at
 * start-up: by the outside port's RSS hash of the reply (nat_rss.h: the
 * whole range is shared, a worker binds only ports whose reply lands on its
 * own queue), or, where the hash is unknown, by a disjoint share of the
 * range per worker (nat_range_split()).
 *
 * Thread-safety: a nat_range is read-only; nat_bind() reads the caller's own
 * flow table, which only its owner writes, so no lock is needed.
 */
#ifndef EGRESS_NAT_H
#define EGRESS_NAT_H

#include <stdbool.h>
#include <stdint.h>

#include "flow.h"
#include "nat_rss.h"

/** Most ports nat_bind() tries before it reports exhaustion. */
#define NAT_MAX_PROBES 256
/** Most holes a range has: the two ports' exception paths, 16 each. */
#define NAT_MAX_HOLES 32

/** A port nat_bind() never binds on one NAT address, for one protocol. */
struct nat_hole {
	uint32_t addr; /**< NAT address, network order */
	uint16_t port; /**< host order */
	uint8_t proto; /**< IPPROTO_TCP, IPPROTO_UDP */
};

struct nat_range {
	const uint32_t *addrs; /**< network order */
	uint32_t n_addrs;
	uint16_t port_lo;             /**< host order, inclusive */
	uint16_t port_hi;             /**< host order, inclusive */
	bool preserve;                /**< try the client's port first */
	const struct nat_rss *rss;    /**< non-NULL: bind only ports whose reply
				        nat_rss_owner() gives to `owner`; NULL:
				        [port_lo, port_hi] is the caller's own */
	unsigned int owner;           /**< the caller's worker id (with rss) */
	const struct nat_hole *holes; /**< ports never bound (nat.h, Holes) */
	uint32_t n_holes;             /**< entries of holes, <= NAT_MAX_HOLES */
};

/**
 * The holes of r on address addr (network order) for protocol proto that
 * lie inside [r->port_lo, r->port_hi]: their ports (host order) into
 * ports[NAT_MAX_HOLES]. @return how many.
 */
uint32_t nat_holes_of(const struct nat_range *r, uint32_t addr, uint8_t proto, uint16_t *ports);

/**
 * The index in r->addrs of a client's NAT address (ip network order):
 * paired pooling (RFC 4787 REQ-2), the address depends on the client only.
 * r->n_addrs > 0.
 */
static inline uint32_t
nat_addr_index_of(const struct nat_range *r, uint32_t client_ip)
{
	if (r->n_addrs == 1)
		return 0;
	return rte_hash_crc_4byte(client_ip, 0) % r->n_addrs;
}

/** The address of index nat_addr_index_of(). */
static inline uint32_t
nat_addr_of(const struct nat_range *r, uint32_t client_ip)
{
	return r->addrs[nat_addr_index_of(r, client_ip)];
}

/**
 * The share of [lo, hi] that worker w of n owns (so the owner of a reply is
 * known from its destination port).
 * @return 0, or -EINVAL when the range has fewer ports than workers.
 */
int nat_range_split(uint16_t lo, uint16_t hi, unsigned int n, unsigned int w, uint16_t *wlo,
		    uint16_t *whi);

/**
 * The worker whose share (nat_range_split()) holds port (host order): the
 * owner of every flow bound to it. @return 0..n-1, or -1 when port is
 * outside [lo, hi].
 */
int nat_range_owner(uint16_t lo, uint16_t hi, unsigned int n, uint16_t port);

/**
 * The reply key nat_bind() looks up first for the same arguments (rnd
 * too): the client's own port kept (r->preserve) on the client's own
 * address, else the first port of the random probe there. For a prefetch
 * (flow_table_prefetch()): nat_bind() alone decides, and binds exactly
 * that key when it is free.
 * @return true with *in set; false when nat_bind() would look nothing up.
 */
bool nat_bind_first(const struct nat_range *r, const struct flow_key *out, uint32_t dst_ip,
		    uint16_t dst_port, uint64_t rnd, struct flow_key *in);

/**
 * Bind a new flow. out is the client's 5-tuple; dst_ip/dst_port (network
 * order) the destination after DNAT; rnd a random number. On success *in is
 * the reply key (dst -> NAT address:port) and no flow in ft uses it. The
 * client's own address (nat_addr_of()) is tried first, then each other
 * address in order after it; each with at most NAT_MAX_PROBES lookups.
 * With r->rss, only ports whose reply nat_rss_owner() gives to r->owner are
 * candidates (the client's own port too), the others skipped without a
 * lookup. A hole (r->holes) of the address and protocol is never a
 * candidate, the client's own port neither (port_alloc: preserve); an
 * address whose other ports are all taken is exhausted.
 * @return 0 (bound on the client's address), 1 (spilled: bound on another
 *         address, its own had no port free toward that destination),
 *         -EADDRNOTAVAIL when no address has a port free for that
 *         destination, or -EINVAL when r has no address or port_lo > port_hi.
 */
int nat_bind(const struct nat_range *r, const struct flow_table *ft, const struct flow_key *out,
	     uint32_t dst_ip, uint16_t dst_port, uint64_t rnd, struct flow_key *in);

#endif
