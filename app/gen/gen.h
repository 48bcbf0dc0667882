/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * egress-gen's shared definitions: its options, the shapes of a flow and of
 * a TCP segment, and what each of its files provides. egress-gen.c describes
 * the tool; one concern a file:
 *   options.c    the command line, its checks and usage();
 *   addr.c       IPv4 and MAC addresses: parse, print, count up;
 *   flows.c      which flow is frame i, and the size of its data segments;
 *   frame.c      Ethernet frames: TCP segments and ARP requests;
 *   traffic.c    the passes a mode writes: ARP, SYN, data rounds;
 *   pcap-out.c   classic pcap files;
 *   neighbors.c  the clients as YAML for ports.inside.neighbors.
 * Single-threaded; every function reports an I/O error on stderr itself.
 */
#ifndef EGRESS_GEN_H
#define EGRESS_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GEN_MAX_FLOWS   (16u * 1024 * 1024)
#define GEN_MAX_DATA    1024
#define GEN_MIN_FRAME   64 /* on the wire, FCS included */
#define GEN_MAX_FRAME   1518
#define GEN_FCS         4
#define GEN_ETH_LEN     14
#define GEN_IP_LEN      20
#define GEN_TCP_LEN     20
#define GEN_MSS_OPT_LEN 4
#define GEN_ARP_LEN     28
#define GEN_MSS         1460
#define GEN_WINDOW      65535
#define GEN_IO_BUF      (4u << 20)
#define GEN_REC_HDR     16 /* a pcap record header */

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_PSH 0x08
#define TCP_ACK 0x10

enum gen_mode {
	MODE_SYN,
	MODE_ESTABLISHED,
	MODE_DENIED,
};

/* "syn", "established", "denied", indexed by enum gen_mode */
extern const char *const gen_mode_names[];

struct gen_opts {
	enum gen_mode mode;
	uint32_t flows;       /* all of them, denied included */
	uint32_t denied;      /* of flows */
	double deny_fraction; /* < 0: --denied (or the mode) decides */
	uint16_t size;        /* wire size of data frames; 0: imix */
	uint32_t data;        /* data segments per flow each way (established) */
	uint32_t dst;         /* host order, first allowed destination */
	uint32_t n_dst;
	uint16_t dport;
	uint32_t deny_dst;
	uint32_t n_deny_dst;
	uint16_t deny_port;
	uint32_t client_net; /* host order, first client address */
	uint32_t n_clients;
	uint16_t sport_lo;
	uint32_t inside_addr;  /* egressd's inside address (ARP target) */
	uint32_t outside_addr; /* egressd's outside address (ARP target) */
	uint32_t nat_addr;
	uint32_t gateway;   /* sender of the outside ARP request */
	uint8_t in_mac[6];  /* egressd's inside port */
	uint8_t out_mac[6]; /* egressd's outside port */
	uint8_t src_mac[6]; /* client i: this + i */
	uint8_t gw_mac[6];  /* source of the outside frames */
	uint8_t ttl;
	bool arp;
	uint32_t seed;
	const char *inside_path;
	const char *outside_path;
	const char *neighbors_path;
	bool quiet;
};

/* One flow of the capture (flows.c). */
struct flow {
	bool denied;
	uint32_t client;   /* index */
	uint32_t src, dst; /* host order */
	uint16_t sport, dport;
	uint32_t c_isn, s_isn;
};

/* One TCP segment to frame (frame.c). */
struct tcp_seg {
	const uint8_t *dst_mac, *src_mac;
	uint32_t src, dst; /* host order */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t ip_id;
	uint8_t ttl;
	uint16_t payload; /* bytes */
};

/* A capture being written (pcap-out.c). */
struct pcap_out {
	FILE *f;
	const char *path;
	char *buf;
	uint64_t pkts;
	uint64_t bytes; /* frame bytes, record headers excluded */
	uint64_t ts_usec;
};

/* The run: both captures and what the passes have written (traffic.c). */
struct gen {
	const struct gen_opts *o;
	struct pcap_out in, out;
	bool have_out;
	uint8_t rec[GEN_REC_HDR + GEN_MAX_FRAME];
	uint32_t *c_off, *s_off; /* established: bytes each side sent so far */
	uint64_t syns, datas, arps, synacks, replies;
};

/* options.c: fills o (defaults already in it); 0, or -1 after a message. */
int opts_parse(int argc, char **argv, struct gen_opts *o);

/* addr.c: addresses in host order; parsers return 0 or -EINVAL. */
int addr_parse_mac(const char *s, uint8_t *mac);
int addr_parse_ip(const char *s, uint32_t *ip);
int addr_parse_hosts(const char *s, uint32_t *first, uint32_t *n);
void addr_ip_str(uint32_t ip, char *buf, size_t n);
void addr_mac_add(uint8_t *out, const uint8_t *base, uint32_t n);

/* flows.c */
void flow_of(const struct gen_opts *o, uint32_t i, bool denied, uint32_t idx, struct flow *fl);
bool flow_is_denied(const struct gen_opts *o, uint32_t i);
uint16_t flow_data_size(const struct gen_opts *o, uint32_t i, uint32_t r, unsigned int dir);
uint16_t flow_payload_len(uint16_t wire);

/* frame.c: frame_payload_init() first; builders return the capture length. */
void frame_payload_init(void);
uint32_t frame_tcp(uint8_t *f, const struct tcp_seg *s);
uint32_t frame_arp(uint8_t *f, const uint8_t *sha, uint32_t sip, uint32_t tip);

/* pcap-out.c: 0, or -1 after a message on stderr. */
int pcap_out_open(struct pcap_out *po, const char *path);
int pcap_out_write(struct pcap_out *po, uint8_t *rec, uint32_t len);
int pcap_out_close(struct pcap_out *po);

/* traffic.c: 0, or -1 after a message on stderr. */
int traffic_arps(struct gen *g);
int traffic_syns(struct gen *g);
int traffic_data(struct gen *g);

/* neighbors.c: 0, or -1 after a message on stderr. */
int neighbors_write(const struct gen_opts *o);

#endif /* EGRESS_GEN_H */
