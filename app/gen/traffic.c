/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * egress-gen: the passes that make up a mode's captures, in capture order:
 * with --arp the ARP pass, then the SYN pass (every mode), then in
 * established mode the data rounds. Inside frames are what the clients send
 * to egressd's inside port; outside frames what the servers answer, to the
 * NAT address and the client's own port (nat.port_alloc: preserve).
 */
#include "gen.h"

enum seg_dir {
	DIR_CLIENT, /* client to server: the inside capture */
	DIR_SERVER, /* server to client: the outside capture */
};

/*
 * A segment of flow fl from side dir, addressed as egressd's port receives
 * it; seq is that side's ISN and ack its peer's, for the caller to advance.
 * mac: the client's MAC (DIR_CLIENT).
 */
static struct tcp_seg
seg_from(const struct gen_opts *o, const struct flow *fl, const uint8_t *mac, enum seg_dir dir)
{
	if (dir == DIR_CLIENT)
		return (struct tcp_seg){
			.dst_mac = o->in_mac,
			.src_mac = mac,
			.src = fl->src,
			.dst = fl->dst,
			.sport = fl->sport,
			.dport = fl->dport,
			.seq = fl->c_isn,
			.ack = fl->s_isn,
			.ttl = o->ttl,
		};
	return (struct tcp_seg){
		.dst_mac = o->out_mac,
		.src_mac = o->gw_mac,
		.src = fl->dst,
		.dst = o->nat_addr,
		.sport = fl->dport,
		.dport = fl->sport,
		.seq = fl->s_isn,
		.ack = fl->c_isn,
		.ttl = o->ttl,
	};
}

/* Frame s into the record buffer and append it to dir's capture. */
static int
emit(struct gen *g, enum seg_dir dir, const struct tcp_seg *s)
{
	struct pcap_out *po = dir == DIR_CLIENT ? &g->in : &g->out;

	return pcap_out_write(po, g->rec, frame_tcp(g->rec + GEN_REC_HDR, s));
}

/* The client's SYN (MSS option, no ACK) or the server's SYN-ACK. */
static int
emit_syn(struct gen *g, const struct flow *fl, const uint8_t *mac, enum seg_dir dir)
{
	struct tcp_seg s = seg_from(g->o, fl, mac, dir);

	s.ip_id = (uint16_t)s.seq;
	if (dir == DIR_CLIENT) {
		s.ack = 0;
		s.flags = TCP_SYN;
	} else {
		s.ack += 1;
		s.flags = TCP_SYN | TCP_ACK;
	}
	return emit(g, dir, &s);
}

/*
 * Data segment of round r of allowed flow a from side dir, payload bytes:
 * each side's sequence runs on from its ISN + 1 by the bytes it has sent,
 * and acknowledges all the peer has sent so far.
 */
static int
emit_data(struct gen *g, const struct flow *fl, const uint8_t *mac, uint32_t a, uint32_t r,
	  enum seg_dir dir, uint16_t payload)
{
	struct tcp_seg s = seg_from(g->o, fl, mac, dir);
	uint32_t sent = dir == DIR_CLIENT ? g->c_off[a] : g->s_off[a];
	uint32_t got = dir == DIR_CLIENT ? g->s_off[a] : g->c_off[a];

	s.ip_id = (uint16_t)(s.seq + 1 + r);
	s.seq += 1 + sent;
	s.ack += 1 + got;
	s.flags = TCP_ACK | TCP_PSH;
	s.payload = payload;
	return emit(g, dir, &s);
}

int
traffic_arps(struct gen *g)
{
	const struct gen_opts *o = g->o;
	uint8_t mac[6];
	uint32_t c, len;

	for (c = 0; c < o->n_clients; c++) {
		addr_mac_add(mac, o->src_mac, c);
		len = frame_arp(g->rec + GEN_REC_HDR, mac, o->client_net + c, o->inside_addr);
		if (pcap_out_write(&g->in, g->rec, len) != 0)
			return -1;
		g->arps++;
	}
	/* as many from the gateway: frame i of both captures still go together */
	for (c = 0; g->have_out && c < o->n_clients; c++) {
		len = frame_arp(g->rec + GEN_REC_HDR, o->gw_mac, o->gateway, o->outside_addr);
		if (pcap_out_write(&g->out, g->rec, len) != 0)
			return -1;
		g->arps++;
	}
	return 0;
}

/* The SYN pass: every flow's SYN, in index order; SYN-ACKs on the outside. */
int
traffic_syns(struct gen *g)
{
	const struct gen_opts *o = g->o;
	uint32_t i, a = 0, d = 0;
	uint8_t mac[6];
	struct flow fl;

	for (i = 0; i < o->flows; i++) {
		bool denied = flow_is_denied(o, i);

		flow_of(o, i, denied, denied ? d++ : a++, &fl);
		addr_mac_add(mac, o->src_mac, fl.client);
		if (emit_syn(g, &fl, mac, DIR_CLIENT) != 0)
			return -1;
		g->syns++;
		if (denied || o->mode != MODE_ESTABLISHED || !g->have_out)
			continue;
		if (emit_syn(g, &fl, mac, DIR_SERVER) != 0)
			return -1;
		g->synacks++;
	}
	return 0;
}

/*
 * Data rounds: in round r every allowed flow sends one segment each way
 * (the server's answers the client's). The bytes each side has sent are
 * kept per allowed flow (g->c_off, g->s_off: 8 bytes a flow); the rest of a
 * flow is recomputed.
 */
int
traffic_data(struct gen *g)
{
	const struct gen_opts *o = g->o;
	uint32_t r, i, a;
	uint8_t mac[6];
	struct flow fl;

	for (r = 0; r < o->data; r++) {
		for (i = 0, a = 0; i < o->flows; i++) {
			uint16_t cp, sp;

			if (flow_is_denied(o, i))
				continue;
			flow_of(o, i, false, a, &fl);
			addr_mac_add(mac, o->src_mac, fl.client);
			cp = flow_payload_len(flow_data_size(o, i, r, 0));
			sp = flow_payload_len(flow_data_size(o, i, r, 1));
			if (emit_data(g, &fl, mac, a, r, DIR_CLIENT, cp) != 0)
				return -1;
			g->datas++;
			g->c_off[a] += cp;
			if (g->have_out) {
				if (emit_data(g, &fl, mac, a, r, DIR_SERVER, sp) != 0)
					return -1;
				g->replies++;
			}
			g->s_off[a] += sp;
			a++;
		}
	}
	return 0;
}
