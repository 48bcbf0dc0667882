/* SPDX-License-Identifier: BSD-3-Clause */
/* What the tests read of a worker's NAT destinations (nat_dests.h). */
#ifndef EGRESS_TEST_NAT_DESTS_H
#define EGRESS_TEST_NAT_DESTS_H

#include <rte_byteorder.h>

#include "nat_dests.h"

/*
 * The ports d counts toward (nat, dst:dport/proto), 0 when absent; *entries:
 * how many destinations d holds. Addresses in network order, dport host order.
 */
static inline uint32_t
nat_dest_ports(const struct nat_dests *d, uint32_t nat, uint32_t dst, uint16_t dport, uint8_t proto,
	       unsigned int *entries)
{
	struct nat_dest_view v;
	uint32_t i, got = 0;

	*entries = 0;
	for (i = 0; i < nat_dests_capacity(d); i++) {
		if (!nat_dests_read(d, i, &v))
			continue;
		(*entries)++;
		if (v.addr == nat && v.dst_ip == dst && v.dst_port == rte_cpu_to_be_16(dport) &&
		    v.proto == proto)
			got = v.count;
	}
	return got;
}

#endif
