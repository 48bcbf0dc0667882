/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Source NAT port binding (see nat.h). A candidate is free when no flow of
 * the caller's table has it as a key: the reply key (destination -> NAT
 * address:port) is what makes a binding unique, so the same NAT port serves
 * any number of destinations at once (RFC 7857 section 3).
 *
 * The worker's own table is the whole truth: each worker owns a disjoint
 * share of the port range (nat_range_split), so no other worker can take a
 * port of this share, and replies reach the owner by their destination port.
 * With the outside port's RSS known (r->rss), the shares are of reply keys
 * instead: a worker binds only keys whose reply hashes to its own queue, and
 * the owner is a function of the key, so again no other worker can hold one.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_hash_crc.h>

#include "flow.h"
#include "nat.h"

int
nat_range_split(uint16_t lo, uint16_t hi, unsigned int n, unsigned int w, uint16_t *wlo,
		uint16_t *whi)
{
	uint32_t range, share;

	if (lo > hi || n == 0 || w >= n)
		return -EINVAL;
	range = (uint32_t)hi - lo + 1;
	if (range < n)
		return -EINVAL;
	share = range / n;
	*wlo = (uint16_t)(lo + w * share);
	/* The last worker takes the remainder, so the shares cover [lo, hi]. */
	*whi = w == n - 1 ? hi : (uint16_t)(*wlo + share - 1);
	return 0;
}

int
nat_range_owner(uint16_t lo, uint16_t hi, unsigned int n, uint16_t port)
{
	uint32_t share;

	if (port < lo || port > hi || n == 0 || (uint32_t)hi - lo + 1 < n)
		return -1;
	share = ((uint32_t)hi - lo + 1) / n;
	/* the last worker's share also holds the remainder */
	return (int)RTE_MIN((uint32_t)(port - lo) / share, n - 1);
}

static inline bool
nat_port_free(const struct flow_table *ft, struct flow_key *in, uint16_t port)
{
	in->dst_port = rte_cpu_to_be_16(port);
	return !flow_table_contains(ft, in);
}

uint32_t
nat_holes_of(const struct nat_range *r, uint32_t addr, uint8_t proto, uint16_t *ports)
{
	uint32_t i, n = 0;

	for (i = 0; i < r->n_holes && n < NAT_MAX_HOLES; i++) {
		const struct nat_hole *h = &r->holes[i];

		if (h->addr == addr && h->proto == proto && h->port >= r->port_lo &&
		    h->port <= r->port_hi)
			ports[n++] = h->port;
	}
	return n;
}

/* Port (host order) is one of the n holes. */
static inline bool
nat_port_hole(const uint16_t *holes, uint32_t n, uint16_t port)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (holes[i] == port)
			return true;
	return false;
}

/* Port (host order) is the caller's to bind toward k's destination (k's
 * RETA index without the port: base). */
static inline bool
nat_port_ours(const struct nat_range *r, uint32_t base, uint16_t port)
{
	return r->rss == NULL || r->rss->reta[base ^ nat_rss_port_idx(r->rss, port)] == r->owner;
}

/* Port preservation (RFC 4787 section 4.2.1), only within our share. */
static inline bool
nat_preserves(const struct nat_range *r, uint32_t base, uint16_t client_port)
{
	return r->preserve && client_port >= r->port_lo && client_port <= r->port_hi &&
	       nat_port_ours(r, base, client_port);
}

static inline uint32_t
nat_range_size(const struct nat_range *r)
{
	return (uint32_t)r->port_hi - r->port_lo + 1;
}

/*
 * The next port of the random probe that starts at offset start of the
 * range, from its *i-th offset on: ours (r->rss) and no hole, the others
 * passed over without a lookup. @return false past the range's end.
 */
static inline bool
nat_probe_next(const struct nat_range *r, uint32_t base, const uint16_t *holes, uint32_t n_holes,
	       uint32_t start, uint32_t *i, uint16_t *port)
{
	uint32_t range = nat_range_size(r);

	while (*i < range) {
		uint32_t off = start + (*i)++;

		if (off >= range)
			off -= range;
		*port = (uint16_t)(r->port_lo + off);
		if (nat_port_ours(r, base, *port) && !nat_port_hole(holes, n_holes, *port))
			return true;
	}
	return false;
}

/*
 * A free port toward k's destination on k's address (k->dst_ip), within
 * r's share: *k completed with it. @return true when one was found.
 */
static bool
nat_bind_addr(const struct nat_range *r, const struct flow_table *ft, uint16_t client_port,
	      uint64_t rnd, struct flow_key *k)
{
	uint32_t start, probes, i, base = 0, n_holes = 0;
	uint16_t holes[NAT_MAX_HOLES], port;

	if (r->rss != NULL)
		base = nat_rss_base_idx(r->rss, k);
	if (r->n_holes != 0)
		n_holes = nat_holes_of(r, k->dst_ip, k->proto, holes);
	if (nat_preserves(r, base, client_port) && !nat_port_hole(holes, n_holes, client_port) &&
	    nat_port_free(ft, k, client_port))
		return true;

	/*
	 * RFC 6056 algorithm 1 in spirit: an unpredictable start, then a
	 * bounded linear probe, so that a crowded range costs at most
	 * NAT_MAX_PROBES lookups per new flow and address. Ports of another
	 * worker's queue (r->rss) are passed over without a lookup: about
	 * n_workers - 1 of every n_workers, a few ns each; so are holes.
	 */
	start = (uint32_t)(rnd % nat_range_size(r));
	for (i = 0, probes = 0;
	     probes < NAT_MAX_PROBES && nat_probe_next(r, base, holes, n_holes, start, &i, &port);
	     probes++)
		if (nat_port_free(ft, k, port))
			return true;
	return false;
}

bool
nat_bind_first(const struct nat_range *r, const struct flow_key *out, uint32_t dst_ip,
	       uint16_t dst_port, uint64_t rnd, struct flow_key *in)
{
	uint16_t client_port = rte_be_to_cpu_16(out->src_port), holes[NAT_MAX_HOLES], port;
	uint32_t base = 0, n_holes = 0, i = 0;

	if (r->n_addrs == 0 || r->port_lo > r->port_hi)
		return false;
	*in = (struct flow_key){
		.src_ip = dst_ip,
		.dst_ip = nat_addr_of(r, out->src_ip),
		.src_port = dst_port,
		.proto = out->proto,
	};
	if (r->rss != NULL)
		base = nat_rss_base_idx(r->rss, in);
	if (r->n_holes != 0)
		n_holes = nat_holes_of(r, in->dst_ip, in->proto, holes);
	/* nat_bind_addr()'s first lookup, on the client's own address */
	if (nat_preserves(r, base, client_port) && !nat_port_hole(holes, n_holes, client_port))
		port = client_port;
	else if (!nat_probe_next(r, base, holes, n_holes, (uint32_t)(rnd % nat_range_size(r)), &i,
				 &port))
		return false;
	in->dst_port = rte_cpu_to_be_16(port);
	return true;
}

int
nat_bind(const struct nat_range *r, const struct flow_table *ft, const struct flow_key *out,
	 uint32_t dst_ip, uint16_t dst_port, uint64_t rnd, struct flow_key *in)
{
	struct flow_key k = { 0 };
	uint32_t first, a;

	if (r->n_addrs == 0 || r->port_lo > r->port_hi)
		return -EINVAL;

	k.src_ip = dst_ip;
	k.src_port = dst_port;
	k.proto = out->proto;
	/*
	 * Paired pooling (RFC 4787 REQ-2) as long as it can be kept: the
	 * client's own address first; only when it has no port left toward
	 * this destination the next addresses in turn (a flow refused on a
	 * free address would help nobody; REQ-2 is a SHOULD).
	 */
	first = nat_addr_index_of(r, out->src_ip);
	for (a = 0; a < r->n_addrs; a++) {
		uint32_t idx = first + a;

		if (idx >= r->n_addrs)
			idx -= r->n_addrs;
		k.dst_ip = r->addrs[idx];
		if (nat_bind_addr(r, ft, rte_be_to_cpu_16(out->src_port), rnd, &k)) {
			*in = k;
			return a == 0 ? 0 : 1;
		}
	}
	return -EADDRNOTAVAIL;
}
