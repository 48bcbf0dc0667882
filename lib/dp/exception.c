/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control-plane exception path, worker side (doc/operations.md
 * "Control-plane exception path"): TCP and UDP frames to a port's own
 * address for a protocol the operator listed (BGP, BFD, SSH) are not the
 * data path's; they go, untouched (TTL included: BFD and GTSM check it,
 * RFC 5881, RFC 5082), through an MP/SC ring to the control thread, which
 * writes them to the kernel TAP where a routing daemon listens
 * (lib/ctl/exception.c). A full ring drops the frame and counts it
 * (exception_dropped): a worker never waits for the control thread.
 */
#include <rte_ring.h>

#include "dp_private.h"

/*
 * Which frames are the host's: to a listed port (a connection to the
 * host's listener, a BFD control packet), or from a listed port to one
 * the NAT cannot have bound on this address (the peer's side of a
 * connection the host opened: the host's ephemeral port must lie outside
 * nat.ports when the address is a NAT address, else the frame is a NAT
 * reply; the NAT never binds the listed ports themselves there, lib/nat
 * nat.h, Holes).
 */
bool
dp_exception_match(const struct dp_conf *conf, enum dp_port in, const struct pkt_meta *pm)
{
	const struct dp_exception *x = &conf->exc[in];
	bool nat_port = false;
	unsigned int i;

	if (pm->proto != IPPROTO_TCP && pm->proto != IPPROTO_UDP)
		return false;
	if (is_nat_addr(conf, pm->dst_ip)) {
		uint16_t dport = rte_be_to_cpu_16(pm->dst_port);

		nat_port = dport >= conf->nat_port_lo && dport <= conf->nat_port_hi;
	}
	for (i = 0; i < x->n; i++) {
		if (x->proto[i] != pm->proto)
			continue;
		if (x->port[i] == pm->dst_port || (x->port[i] == pm->src_port && !nat_port))
			return true;
	}
	return false;
}

void
dp_exception(struct dp_burst *b, struct rte_mbuf *m)
{
	if (rte_ring_mp_enqueue(b->conf->exc[b->in].ring, m) != 0) {
		dp_drop(b, m, EGRESS_DROP_EXCEPTION_FULL);
		return;
	}
	b->w->stats.exception_queued++;
}

void
dp_pad_runt(struct rte_mbuf *m)
{
	pad_runt(m);
}
