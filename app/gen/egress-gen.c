/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * egress-gen: writes the pcap captures egressd's pcap-replay benchmark and
 * pipeline tests feed to net_pcap vdevs. Plain C11 and stdio, no DPDK.
 *
 *   egress-gen -o INSIDE.pcap [-r OUTSIDE.pcap] [-n FLOWS] [-m MODE] [-s SIZE] ...
 *
 * The inside capture is what the mesh clients send to egressd's inside port;
 * the outside capture (established mode) is what the servers answer, already
 * addressed to the NAT address and the client's own port, as egressd sends
 * it out under `nat.port_alloc: preserve` with one NAT address. For the NAT
 * port to be predictable, no two allowed flows share a (destination, source
 * port) pair: flow a goes to destination a % D from port sport_lo + a / D
 * (D destinations), whatever its client, so FLOWS is at most D * (65536 -
 * sport_lo). The client of a flow is a hash of its index.
 *
 * Modes (see usage() in options.c; gen.h lists the files and their parts):
 *   syn          every packet the SYN of a new 5-tuple (a new-flow storm);
 *   established  per flow the client's SYN, then --data segments each way:
 *                SYN pass (inside) / SYN-ACK pass (outside), then rounds of
 *                data; the client's first data segment ACKs the SYN-ACK;
 *   denied       every flow to a port no ServiceEntry lists (--deny-port).
 * --denied / --deny-fraction mix denied flows (their SYN only) into the
 * first two modes: spread evenly over the SYN pass (syn), or at its end
 * (established, so that frame i of both captures belongs to the same flow and
 * a replay that reads both at the same pace sees each SYN before its SYN-ACK).
 *
 * Frame sizes are Ethernet frames on the wire, FCS included (RFC 2544): a
 * "64 B" frame is 60 bytes in the capture. SYN, SYN-ACK and ARP frames are
 * always the 64 B minimum, padded with an Ethernet trailer; --size applies to
 * data segments. imix: 7:4:1 of 64, 570 and 1518 B.
 *
 * Destination MACs default to what net_pcap gives the ports of a process,
 * 02:70:63:61:70:NN with NN counting net_pcap devices in creation order (DPDK
 * 22.11 drivers/net/pcap): 00 inside, 01 outside when net_pcap0 and net_pcap1
 * are created in that order. egressd drops frames to any other unicast MAC.
 *
 * Every IPv4 header and TCP checksum is valid; the TCP payload is a fixed
 * pattern whose sum is computed once per length, so 1 M flows take about a
 * second. Exit status: 0, 1 on an I/O error, 2 on a usage error.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gen.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
size_name(const struct gen_opts *o, char *buf, size_t n)
{
	if (o->size == 0)
		snprintf(buf, n, "imix");
	else
		snprintf(buf, n, "%u", o->size);
}

int
main(int argc, char **argv)
{
	struct gen_opts o = {
		.mode = MODE_ESTABLISHED,
		.flows = 1000,
		.deny_fraction = -1,
		.size = 64,
		.data = 1,
		.dst = 0x0a3b763b, /* 10.59.118.59 */
		.n_dst = 1,
		.dport = 6379,
		.deny_port = 6380,
		.client_net = 0x0a080002, /* 10.8.0.2 */
		.n_clients = 64,
		.sport_lo = 1024,
		.inside_addr = 0x0a080001, /* 10.8.0.1 */
		.nat_addr = 0xcb00710a,    /* 203.0.113.10 */
		.gateway = 0xcb007101,     /* 203.0.113.1 */
		.in_mac = { 0x02, 0x70, 0x63, 0x61, 0x70, 0x00 },
		.out_mac = { 0x02, 0x70, 0x63, 0x61, 0x70, 0x01 },
		.src_mac = { 0x02, 0x00, 0x0a, 0x08, 0x00, 0x02 },
		.gw_mac = { 0x02, 0x00, 0xcb, 0x00, 0x71, 0x01 },
		.ttl = 64,
		.seed = 1,
	};
	static struct gen g;
	char sz[16], dst[16];
	double t0 = now_s();
	int rc = 1;

	if (opts_parse(argc, argv, &o) != 0)
		return 2;
	frame_payload_init();
	g.o = &o;
	if (o.mode == MODE_ESTABLISHED && o.data > 0) {
		uint32_t allowed = o.flows - o.denied;

		g.c_off = calloc(allowed ? allowed : 1, sizeof(*g.c_off));
		g.s_off = calloc(allowed ? allowed : 1, sizeof(*g.s_off));
		if (g.c_off == NULL || g.s_off == NULL) {
			fprintf(stderr, "egress-gen: out of memory for %" PRIu32 " flows\n",
				allowed);
			goto out;
		}
	}
	if (o.neighbors_path != NULL && neighbors_write(&o) != 0)
		goto out;
	if (pcap_out_open(&g.in, o.inside_path) != 0)
		goto out;
	if (o.outside_path != NULL) {
		if (pcap_out_open(&g.out, o.outside_path) != 0)
			goto out;
		g.have_out = true;
	}
	if (o.arp && traffic_arps(&g) != 0)
		goto out;
	if (traffic_syns(&g) != 0)
		goto out;
	if (o.mode == MODE_ESTABLISHED && traffic_data(&g) != 0)
		goto out;
	if (pcap_out_close(&g.in) != 0 || pcap_out_close(&g.out) != 0)
		goto out;
	rc = 0;
	if (!o.quiet) {
		size_name(&o, sz, sizeof(sz));
		addr_ip_str(o.dst, dst, sizeof(dst));
		printf("egress-gen: mode=%s flows=%" PRIu32 " allowed=%" PRIu32 " denied=%" PRIu32
		       " clients=%" PRIu32 " dst=%s:%u dsts=%" PRIu32 " size=%s"
		       " data=%" PRIu32 " inside=%s packets=%" PRIu64 " (arp=%" PRIu64
		       " syn=%" PRIu64 " data=%" PRIu64 ") bytes=%" PRIu64,
		       gen_mode_names[o.mode], o.flows, o.flows - o.denied, o.denied, o.n_clients,
		       dst, o.dport, o.n_dst, sz, o.mode == MODE_ESTABLISHED ? o.data : 0,
		       o.inside_path, g.in.pkts, o.arp ? (uint64_t)o.n_clients : 0, g.syns, g.datas,
		       g.in.bytes);
		if (g.have_out)
			printf(" outside=%s packets=%" PRIu64 " (arp=%" PRIu64 " synack=%" PRIu64
			       " data=%" PRIu64 ") bytes=%" PRIu64,
			       o.outside_path, g.out.pkts, o.arp ? (uint64_t)o.n_clients : 0,
			       g.synacks, g.replies, g.out.bytes);
		printf(" time=%.2fs\n", now_s() - t0);
	}
out:
	if (rc != 0) {
		pcap_out_close(&g.in);
		pcap_out_close(&g.out);
	}
	free(g.c_off);
	free(g.s_off);
	return rc;
}
