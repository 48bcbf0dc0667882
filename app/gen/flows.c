/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * egress-gen: the flow plan. Flow i of a capture is a pure function of the
 * options and i: its client (a hash of i), its 5-tuple, its initial sequence
 * numbers, whether it is denied and the sizes of its data segments, so every
 * pass (SYN, data rounds) recomputes it rather than storing it.
 */
#include "gen.h"

/* IMIX, 7:4:1 of 64, 570 and 1518 B, interleaved over a cycle of 12 */
static const uint16_t imix_cycle[12] = {
	64, 570, 64, 64, 570, 64, 1518, 64, 570, 64, 570, 64,
};

static uint32_t
mix32(uint32_t x)
{
	/* a 32-bit finaliser (lowbias32): cheap, well spread */
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

/*
 * Flow i of the capture, the idx-th allowed or denied one: destination idx %
 * D, client port sport_lo + idx / D (egress-gen.c's top says why).
 */
void
flow_of(const struct gen_opts *o, uint32_t i, bool denied, uint32_t idx, struct flow *fl)
{
	uint32_t h = mix32(i ^ mix32(o->seed));

	fl->denied = denied;
	fl->client = h % o->n_clients;
	fl->src = o->client_net + fl->client;
	if (denied) {
		fl->dst = o->deny_dst + idx % o->n_deny_dst;
		fl->dport = o->deny_port;
		fl->sport = (uint16_t)(o->sport_lo + idx / o->n_deny_dst);
	} else {
		fl->dst = o->dst + idx % o->n_dst;
		fl->dport = o->dport;
		fl->sport = (uint16_t)(o->sport_lo + idx / o->n_dst);
	}
	fl->c_isn = mix32(h + 0x9e3779b9U);
	fl->s_isn = mix32(h + 0x3c6ef372U);
}

/*
 * Is flow i (of o->flows) one of the denied ones? Spread evenly, except in
 * established mode: there they come last, so that allowed flow a is frame a
 * of the SYN pass in both captures and a replay reads every SYN before its
 * SYN-ACK.
 */
bool
flow_is_denied(const struct gen_opts *o, uint32_t i)
{
	uint64_t a, b;

	if (o->mode == MODE_ESTABLISHED)
		return i >= o->flows - o->denied;
	a = (uint64_t)i * o->denied / o->flows;
	b = (uint64_t)(i + 1) * o->denied / o->flows;
	return b > a;
}

/* Wire size of data segment r of flow i in direction dir (0 client, 1 server). */
uint16_t
flow_data_size(const struct gen_opts *o, uint32_t i, uint32_t r, unsigned int dir)
{
	if (o->size != 0)
		return o->size;
	return imix_cycle[((uint64_t)i * 7 + (uint64_t)r * 2 + dir) % 12];
}

/* TCP payload bytes of a data frame of wire bytes on the wire. */
uint16_t
flow_payload_len(uint16_t wire)
{
	return (uint16_t)(wire - GEN_FCS - GEN_ETH_LEN - GEN_IP_LEN - GEN_TCP_LEN);
}
