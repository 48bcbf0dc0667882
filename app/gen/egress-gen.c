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
 * Modes (see usage()):
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
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GEN_MAX_FLOWS   (16u * 1024 * 1024)
#define GEN_MAX_DATA    1024
#define GEN_MIN_FRAME   64      /* on the wire, FCS included */
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

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_PSH 0x08
#define TCP_ACK 0x10

enum gen_mode {
	MODE_SYN,
	MODE_ESTABLISHED,
	MODE_DENIED,
};

static const char *const mode_names[] = {
	[MODE_SYN] = "syn",
	[MODE_ESTABLISHED] = "established",
	[MODE_DENIED] = "denied",
};

/* IMIX, 7:4:1 of 64, 570 and 1518 B, interleaved over a cycle of 12 */
static const uint16_t imix_cycle[12] = {
	64, 570, 64, 64, 570, 64, 1518, 64, 570, 64, 570, 64,
};

struct gen_opts {
	enum gen_mode mode;
	uint32_t flows;            /* all of them, denied included */
	uint32_t denied;           /* of flows */
	double deny_fraction;      /* < 0: --denied (or the mode) decides */
	uint16_t size;             /* wire size of data frames; 0: imix */
	uint32_t data;             /* data segments per flow each way (established) */
	uint32_t dst;              /* host order, first allowed destination */
	uint32_t n_dst;
	uint16_t dport;
	uint32_t deny_dst;
	uint32_t n_deny_dst;
	uint16_t deny_port;
	uint32_t client_net;       /* host order, first client address */
	uint32_t n_clients;
	uint16_t sport_lo;
	uint32_t inside_addr;      /* egressd's inside address (ARP target) */
	uint32_t outside_addr;     /* egressd's outside address (ARP target) */
	uint32_t nat_addr;
	uint32_t gateway;          /* sender of the outside ARP request */
	uint8_t in_mac[6];         /* egressd's inside port */
	uint8_t out_mac[6];        /* egressd's outside port */
	uint8_t src_mac[6];        /* client i: this + i */
	uint8_t gw_mac[6];         /* source of the outside frames */
	uint8_t ttl;
	bool arp;
	uint32_t seed;
	const char *inside_path;
	const char *outside_path;
	const char *neighbors_path;
	bool quiet;
};

struct pcap_out {
	FILE *f;
	const char *path;
	char *buf;
	uint64_t pkts;
	uint64_t bytes;            /* frame bytes, record headers excluded */
	uint64_t ts_usec;
};

/* ------------------------------------------------------------ utilities */

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

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* One's-complement sum of big-endian 16-bit words; an odd tail is padded. */
static uint32_t
csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
mac_add(uint8_t *out, const uint8_t *base, uint32_t n)
{
	uint32_t low = ((uint32_t)base[3] << 16 | (uint32_t)base[4] << 8 | base[5]) + n;

	memcpy(out, base, 3);
	out[3] = (uint8_t)(low >> 16);
	out[4] = (uint8_t)(low >> 8);
	out[5] = (uint8_t)low;
}

static int
parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

static int
parse_ip(const char *s, uint32_t *ip)
{
	unsigned int a, b, c, d;
	char tail;

	if (sscanf(s, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) != 4 || a > 255 || b > 255 ||
	    c > 255 || d > 255)
		return -EINVAL;
	*ip = a << 24 | b << 16 | c << 8 | d;
	return 0;
}

/*
 * "a.b.c.d/len" or a bare address: the usable hosts of the prefix (a /31 or
 * /32 as is, otherwise without the network and broadcast addresses).
 */
static int
parse_hosts(const char *s, uint32_t *first, uint32_t *n)
{
	char addr[32];
	const char *slash = strchr(s, '/');
	unsigned long len = 32;
	uint32_t ip, size, base;
	char *end;

	if (slash == NULL) {
		if (parse_ip(s, &ip) != 0)
			return -EINVAL;
		*first = ip;
		*n = 1;
		return 0;
	}
	if ((size_t)(slash - s) >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (errno || *end != '\0' || end == slash + 1 || len > 32 || len < 8 ||
	    parse_ip(addr, &ip) != 0)
		return -EINVAL;
	size = len == 32 ? 1 : 1u << (32 - len);
	base = ip & ~(size - 1);
	if (size <= 2) {
		*first = base;
		*n = size;
	} else {
		*first = base + 1;
		*n = size - 2;
	}
	return 0;
}

/* A count with an optional k/M (10^3, 10^6) or Ki/Mi (2^10, 2^20) suffix. */
static int
parse_count(const char *s, uint64_t max, uint64_t *v)
{
	unsigned long long n;
	uint64_t mult = 1;
	char *end;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (strcmp(end, "k") == 0 || strcmp(end, "K") == 0)
		mult = 1000;
	else if (strcmp(end, "M") == 0)
		mult = 1000 * 1000;
	else if (strcmp(end, "Ki") == 0)
		mult = 1024;
	else if (strcmp(end, "Mi") == 0)
		mult = 1024 * 1024;
	else if (*end != '\0')
		return -EINVAL;
	if (n > max / mult)
		return -ERANGE;
	*v = n * mult;
	return 0;
}

static void
ip_str(uint32_t ip, char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff,
		 ip & 0xff);
}

/* ------------------------------------------------------------ pcap files */

static int
pcap_open(struct pcap_out *po, const char *path)
{
	/* classic pcap, microsecond timestamps, LINKTYPE_ETHERNET */
	static const uint32_t hdr[6] = { 0xa1b2c3d4, 2 | 4 << 16, 0, 0, 65535, 1 };

	memset(po, 0, sizeof(*po));
	po->path = path;
	po->f = fopen(path, "wb");
	if (po->f == NULL) {
		fprintf(stderr, "egress-gen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	po->buf = malloc(GEN_IO_BUF);
	if (po->buf != NULL)
		setvbuf(po->f, po->buf, _IOFBF, GEN_IO_BUF);
	/* the header in host order: readers detect the byte order by the magic */
	if (fwrite(hdr, sizeof(hdr), 1, po->f) != 1) {
		fprintf(stderr, "egress-gen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	po->ts_usec = (uint64_t)1700000000 * 1000000;
	return 0;
}

/* rec: 16 bytes of record header room, then the frame of len bytes. */
static int
pcap_write(struct pcap_out *po, uint8_t *rec, uint32_t len)
{
	uint32_t h[4] = {
		(uint32_t)(po->ts_usec / 1000000), (uint32_t)(po->ts_usec % 1000000), len, len,
	};

	memcpy(rec, h, sizeof(h));
	if (fwrite(rec, sizeof(h) + len, 1, po->f) != 1) {
		fprintf(stderr, "egress-gen: %s: %s\n", po->path, strerror(errno));
		return -1;
	}
	po->ts_usec++;
	po->pkts++;
	po->bytes += len;
	return 0;
}

static int
pcap_close(struct pcap_out *po)
{
	int rc = 0;

	if (po->f == NULL)
		return 0;
	if (fclose(po->f) != 0) {
		fprintf(stderr, "egress-gen: %s: %s\n", po->path, strerror(errno));
		rc = -1;
	}
	po->f = NULL;
	free(po->buf);
	po->buf = NULL;
	return rc;
}

/* ------------------------------------------------------------- frames */

struct tcp_seg {
	const uint8_t *dst_mac, *src_mac;
	uint32_t src, dst;         /* host order */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t ip_id;
	uint8_t ttl;
	uint16_t payload;          /* bytes */
};

static uint8_t payload_pattern[GEN_MAX_FRAME];
static uint32_t payload_sum[GEN_MAX_FRAME + 1];
static bool payload_sum_valid[GEN_MAX_FRAME + 1];

static void
payload_init(void)
{
	/* what a Redis client would write first, then a counting pattern */
	static const char resp[] = "*1\r\n$4\r\nPING\r\n";
	size_t i;

	for (i = 0; i < sizeof(payload_pattern); i++)
		payload_pattern[i] = (uint8_t)(0x20 + i % 95);
	memcpy(payload_pattern, resp, sizeof(resp) - 1);
}

static uint32_t
payload_csum(uint16_t len)
{
	if (!payload_sum_valid[len]) {
		payload_sum[len] = csum_add(0, payload_pattern, len);
		payload_sum_valid[len] = true;
	}
	return payload_sum[len];
}

/* Ethernet + IPv4 + TCP (+ MSS option on SYNs) + payload + trailer. */
static uint32_t
build_tcp(uint8_t *f, const struct tcp_seg *s)
{
	uint16_t opt = (s->flags & TCP_SYN) ? GEN_MSS_OPT_LEN : 0;
	uint16_t tcp_len = (uint16_t)(GEN_TCP_LEN + opt + s->payload);
	uint16_t ip_len = (uint16_t)(GEN_IP_LEN + tcp_len);
	uint32_t frame = GEN_ETH_LEN + ip_len, cap = frame, sum;
	uint8_t *ip = f + GEN_ETH_LEN, *tcp = ip + GEN_IP_LEN;

	if (cap < GEN_MIN_FRAME - GEN_FCS)
		cap = GEN_MIN_FRAME - GEN_FCS;
	memcpy(f, s->dst_mac, 6);
	memcpy(f + 6, s->src_mac, 6);
	put16(f + 12, 0x0800);

	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, ip_len);
	put16(ip + 4, s->ip_id);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = s->ttl;
	ip[9] = 6;
	put16(ip + 10, 0);
	put32(ip + 12, s->src);
	put32(ip + 16, s->dst);
	put16(ip + 10, csum_fold(csum_add(0, ip, GEN_IP_LEN)));

	put16(tcp, s->sport);
	put16(tcp + 2, s->dport);
	put32(tcp + 4, s->seq);
	put32(tcp + 8, s->ack);
	tcp[12] = (uint8_t)(((GEN_TCP_LEN + opt) / 4) << 4);
	tcp[13] = s->flags;
	put16(tcp + 14, GEN_WINDOW);
	put16(tcp + 16, 0);
	put16(tcp + 18, 0);
	if (opt) {
		tcp[20] = 2; /* MSS */
		tcp[21] = 4;
		put16(tcp + 22, GEN_MSS);
	}
	memcpy(tcp + GEN_TCP_LEN + opt, payload_pattern, s->payload);
	/* pseudo-header, header, then the payload's precomputed sum: the header
	 * is of even length, so the payload's words line up */
	sum = (s->src >> 16) + (s->src & 0xffff) + (s->dst >> 16) + (s->dst & 0xffff) + 6 +
	      tcp_len;
	sum = csum_add(sum, tcp, GEN_TCP_LEN + opt);
	sum += payload_csum(s->payload);
	put16(tcp + 16, csum_fold(sum));
	if (cap > frame)
		memset(f + frame, 0, cap - frame);
	return cap;
}

/* ARP request: sender (sha, sip) asks who has tip; broadcast. */
static uint32_t
build_arp(uint8_t *f, const uint8_t *sha, uint32_t sip, uint32_t tip)
{
	uint8_t *a = f + GEN_ETH_LEN;
	uint32_t cap = GEN_MIN_FRAME - GEN_FCS;

	memset(f, 0xff, 6);
	memcpy(f + 6, sha, 6);
	put16(f + 12, 0x0806);
	put16(a, 1);          /* Ethernet */
	put16(a + 2, 0x0800); /* IPv4 */
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, 1);      /* request */
	memcpy(a + 8, sha, 6);
	put32(a + 14, sip);
	memset(a + 18, 0, 6);
	put32(a + 24, tip);
	memset(f + GEN_ETH_LEN + GEN_ARP_LEN, 0, cap - GEN_ETH_LEN - GEN_ARP_LEN);
	return cap;
}

/* --------------------------------------------------------------- flows */

struct flow {
	bool denied;
	uint32_t client;           /* index */
	uint32_t src, dst;         /* host order */
	uint16_t sport, dport;
	uint32_t c_isn, s_isn;
};

/* Flow i of the capture: allowed index a or denied index d (see the top). */
static void
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
static bool
is_denied(const struct gen_opts *o, uint32_t i)
{
	uint64_t a, b;

	if (o->mode == MODE_ESTABLISHED)
		return i >= o->flows - o->denied;
	a = (uint64_t)i * o->denied / o->flows;
	b = (uint64_t)(i + 1) * o->denied / o->flows;
	return b > a;
}

/* Wire size of data segment r of flow i in direction dir (0 client, 1 server). */
static uint16_t
data_size(const struct gen_opts *o, uint32_t i, uint32_t r, unsigned int dir)
{
	if (o->size != 0)
		return o->size;
	return imix_cycle[((uint64_t)i * 7 + (uint64_t)r * 2 + dir) % 12];
}

static uint16_t
payload_of(uint16_t wire)
{
	return (uint16_t)(wire - GEN_FCS - GEN_ETH_LEN - GEN_IP_LEN - GEN_TCP_LEN);
}

struct gen {
	const struct gen_opts *o;
	struct pcap_out in, out;
	bool have_out;
	uint8_t rec[16 + GEN_MAX_FRAME];
	uint32_t *c_off, *s_off;   /* established: bytes each side sent so far */
	uint64_t syns, datas, arps, synacks, replies;
};

static int
write_arps(struct gen *g)
{
	const struct gen_opts *o = g->o;
	uint8_t mac[6];
	uint32_t c, len;

	for (c = 0; c < o->n_clients; c++) {
		mac_add(mac, o->src_mac, c);
		len = build_arp(g->rec + 16, mac, o->client_net + c, o->inside_addr);
		if (pcap_write(&g->in, g->rec, len) != 0)
			return -1;
		g->arps++;
	}
	/* as many from the gateway: frame i of both captures still go together */
	for (c = 0; g->have_out && c < o->n_clients; c++) {
		len = build_arp(g->rec + 16, o->gw_mac, o->gateway, o->outside_addr);
		if (pcap_write(&g->out, g->rec, len) != 0)
			return -1;
		g->arps++;
	}
	return 0;
}

/* The SYN pass: every flow's SYN, in index order; SYN-ACKs on the outside. */
static int
write_syns(struct gen *g)
{
	const struct gen_opts *o = g->o;
	uint32_t i, a = 0, d = 0, len;
	uint8_t mac[6];
	struct flow fl;

	for (i = 0; i < o->flows; i++) {
		bool denied = is_denied(o, i);
		struct tcp_seg s;

		flow_of(o, i, denied, denied ? d++ : a++, &fl);
		mac_add(mac, o->src_mac, fl.client);
		s = (struct tcp_seg){
			.dst_mac = o->in_mac, .src_mac = mac, .src = fl.src, .dst = fl.dst,
			.sport = fl.sport, .dport = fl.dport, .seq = fl.c_isn, .ack = 0,
			.flags = TCP_SYN, .ip_id = (uint16_t)fl.c_isn, .ttl = o->ttl,
		};
		len = build_tcp(g->rec + 16, &s);
		if (pcap_write(&g->in, g->rec, len) != 0)
			return -1;
		g->syns++;
		if (denied || o->mode != MODE_ESTABLISHED || !g->have_out)
			continue;
		s = (struct tcp_seg){
			.dst_mac = o->out_mac, .src_mac = o->gw_mac, .src = fl.dst,
			.dst = o->nat_addr, .sport = fl.dport, .dport = fl.sport,
			.seq = fl.s_isn, .ack = fl.c_isn + 1, .flags = TCP_SYN | TCP_ACK,
			.ip_id = (uint16_t)fl.s_isn, .ttl = o->ttl,
		};
		len = build_tcp(g->rec + 16, &s);
		if (pcap_write(&g->out, g->rec, len) != 0)
			return -1;
		g->synacks++;
	}
	return 0;
}

/*
 * Data rounds: in round r every allowed flow sends one segment each way
 * (the server's answers the client's). Flow state (bytes sent, IP IDs) is
 * kept per allowed flow, 16 bytes each.
 */
static int
write_data(struct gen *g)
{
	const struct gen_opts *o = g->o;
	uint32_t r, i, a, len;
	uint8_t mac[6];
	struct flow fl;

	for (r = 0; r < o->data; r++) {
		for (i = 0, a = 0; i < o->flows; i++) {
			uint16_t cp, sp;
			struct tcp_seg s;

			if (is_denied(o, i))
				continue;
			flow_of(o, i, false, a, &fl);
			mac_add(mac, o->src_mac, fl.client);
			cp = payload_of(data_size(o, i, r, 0));
			sp = payload_of(data_size(o, i, r, 1));
			s = (struct tcp_seg){
				.dst_mac = o->in_mac, .src_mac = mac, .src = fl.src,
				.dst = fl.dst, .sport = fl.sport, .dport = fl.dport,
				.seq = fl.c_isn + 1 + g->c_off[a],
				.ack = fl.s_isn + 1 + g->s_off[a],
				.flags = TCP_ACK | TCP_PSH,
				.ip_id = (uint16_t)(fl.c_isn + 1 + r), .ttl = o->ttl, .payload = cp,
			};
			len = build_tcp(g->rec + 16, &s);
			if (pcap_write(&g->in, g->rec, len) != 0)
				return -1;
			g->datas++;
			g->c_off[a] += cp;
			if (g->have_out) {
				s = (struct tcp_seg){
					.dst_mac = o->out_mac, .src_mac = o->gw_mac, .src = fl.dst,
					.dst = o->nat_addr, .sport = fl.dport, .dport = fl.sport,
					.seq = fl.s_isn + 1 + g->s_off[a],
					.ack = fl.c_isn + 1 + g->c_off[a],
					.flags = TCP_ACK | TCP_PSH,
					.ip_id = (uint16_t)(fl.s_isn + 1 + r), .ttl = o->ttl,
					.payload = sp,
				};
				len = build_tcp(g->rec + 16, &s);
				if (pcap_write(&g->out, g->rec, len) != 0)
					return -1;
				g->replies++;
			}
			g->s_off[a] += sp;
			a++;
		}
	}
	return 0;
}

static int
write_neighbors(const struct gen_opts *o)
{
	FILE *f = fopen(o->neighbors_path, "w");
	char ip[16];
	uint8_t m[6];
	uint32_t c;

	if (f == NULL) {
		fprintf(stderr, "egress-gen: %s: %s\n", o->neighbors_path, strerror(errno));
		return -1;
	}
	/* a YAML flow mapping for ports.inside.neighbors */
	fputs("{ ", f);
	for (c = 0; c < o->n_clients; c++) {
		mac_add(m, o->src_mac, c);
		ip_str(o->client_net + c, ip, sizeof(ip));
		fprintf(f, "%s%s: \"%02x:%02x:%02x:%02x:%02x:%02x\"", c ? ", " : "", ip, m[0],
			m[1], m[2], m[3], m[4], m[5]);
	}
	fputs(" }\n", f);
	if (fclose(f) != 0) {
		fprintf(stderr, "egress-gen: %s: %s\n", o->neighbors_path, strerror(errno));
		return -1;
	}
	return 0;
}

/* --------------------------------------------------------------- options */

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: egress-gen -o INSIDE.pcap [-r OUTSIDE.pcap] [options]\n"
		"  -o, --inside FILE        the clients' frames (egressd's inside port)\n"
		"  -r, --outside FILE       the servers' replies (outside port; established)\n"
		"  -n, --flows N            flows, 1..16Mi, denied included; k M Ki Mi (1000)\n"
		"  -m, --mode MODE          syn | established | denied (established)\n"
		"  -s, --size SIZE          data frames on the wire, FCS included: 64..1518\n"
		"                           or imix (7:4:1 of 64/570/1518) (64); SYN,\n"
		"                           SYN-ACK and ARP frames are always 64 B\n"
		"      --data N             established: data segments per flow each way (1)\n"
		"      --denied N           N of the flows are denied (their SYN only)\n"
		"      --deny-fraction F    or a fraction of them, 0..1 (denied mode: 1)\n"
		"      --dst CIDR           allowed destinations (10.59.118.59/32); a prefix\n"
		"                           means its hosts, e.g. 10.59.118.0/24 = 254 hosts\n"
		"      --dport PORT         allowed destination port (6379)\n"
		"      --deny-dst CIDR      destinations of denied flows (as --dst)\n"
		"      --deny-port PORT     a port no ServiceEntry lists (6380)\n"
		"      --clients N          mesh clients (64), addresses from --client-net\n"
		"      --client-net IP      first client address (10.8.0.2)\n"
		"      --sport-lo PORT      lowest client port (1024, as nat.ports)\n"
		"      --src-mac MAC        MAC of client 0; client i has MAC + i\n"
		"                           (02:00:0a:08:00:02)\n"
		"      --in-mac MAC         egressd inside port (02:70:63:61:70:00, net_pcap's\n"
		"                           MAC of the first net_pcap vdev of the process)\n"
		"      --out-mac MAC        egressd outside port (02:70:63:61:70:01)\n"
		"      --gw-mac MAC         source of outside frames (02:00:cb:00:71:01)\n"
		"      --nat-addr IP        destination of the replies (203.0.113.10)\n"
		"      --arp                first, an ARP request from each client for\n"
		"                           --inside-addr (and, outside, as many from\n"
		"                           --gateway for --outside-addr), so egressd learns\n"
		"                           the MACs\n"
		"      --inside-addr IP     egressd inside address (10.8.0.1)\n"
		"      --outside-addr IP    egressd outside address (the NAT address)\n"
		"      --gateway IP         outside next hop (203.0.113.1)\n"
		"      --neighbors FILE     write the clients as a YAML flow mapping for\n"
		"                           ports.inside.neighbors (at most 64 entries there)\n"
		"      --ttl N              IPv4 TTL (64)\n"
		"      --seed N             client choice and sequence numbers (1)\n"
		"  -q, --quiet              no summary line\n"
		"  -h, --help               this text\n"
		"The Memorystore mix, 10 %% denied, with its replies:\n"
		"  egress-gen -o in.pcap -r out.pcap -n 1M --dst 10.59.118.0/24 \\\n"
		"             --deny-fraction 0.1 --data 4 -s imix\n");
}

enum {
	OPT_DATA = 256,
	OPT_DENIED,
	OPT_DENY_FRACTION,
	OPT_DST,
	OPT_DPORT,
	OPT_DENY_DST,
	OPT_DENY_PORT,
	OPT_CLIENTS,
	OPT_CLIENT_NET,
	OPT_SPORT_LO,
	OPT_SRC_MAC,
	OPT_IN_MAC,
	OPT_OUT_MAC,
	OPT_GW_MAC,
	OPT_NAT_ADDR,
	OPT_ARP,
	OPT_INSIDE_ADDR,
	OPT_OUTSIDE_ADDR,
	OPT_GATEWAY,
	OPT_NEIGHBORS,
	OPT_TTL,
	OPT_SEED,
};

static int
bad(const char *opt, const char *val)
{
	fprintf(stderr, "egress-gen: %s: invalid value: %s\n", opt, val);
	return -1;
}

static int
parse_port(const char *opt, const char *s, uint16_t *port)
{
	uint64_t v;

	if (parse_count(s, 65535, &v) != 0 || v == 0)
		return bad(opt, s);
	*port = (uint16_t)v;
	return 0;
}

static int
parse_args(int argc, char **argv, struct gen_opts *o)
{
	static const struct option longopts[] = {
		{ "inside", required_argument, NULL, 'o' },
		{ "outside", required_argument, NULL, 'r' },
		{ "flows", required_argument, NULL, 'n' },
		{ "mode", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "data", required_argument, NULL, OPT_DATA },
		{ "denied", required_argument, NULL, OPT_DENIED },
		{ "deny-fraction", required_argument, NULL, OPT_DENY_FRACTION },
		{ "dst", required_argument, NULL, OPT_DST },
		{ "dport", required_argument, NULL, OPT_DPORT },
		{ "deny-dst", required_argument, NULL, OPT_DENY_DST },
		{ "deny-port", required_argument, NULL, OPT_DENY_PORT },
		{ "clients", required_argument, NULL, OPT_CLIENTS },
		{ "client-net", required_argument, NULL, OPT_CLIENT_NET },
		{ "sport-lo", required_argument, NULL, OPT_SPORT_LO },
		{ "src-mac", required_argument, NULL, OPT_SRC_MAC },
		{ "in-mac", required_argument, NULL, OPT_IN_MAC },
		{ "out-mac", required_argument, NULL, OPT_OUT_MAC },
		{ "gw-mac", required_argument, NULL, OPT_GW_MAC },
		{ "nat-addr", required_argument, NULL, OPT_NAT_ADDR },
		{ "arp", no_argument, NULL, OPT_ARP },
		{ "inside-addr", required_argument, NULL, OPT_INSIDE_ADDR },
		{ "outside-addr", required_argument, NULL, OPT_OUTSIDE_ADDR },
		{ "gateway", required_argument, NULL, OPT_GATEWAY },
		{ "neighbors", required_argument, NULL, OPT_NEIGHBORS },
		{ "ttl", required_argument, NULL, OPT_TTL },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ NULL, 0, NULL, 0 },
	};
	bool have_deny_dst = false, have_outside_addr = false, have_denied = false;
	uint64_t v;
	char *end;
	int opt;

	while ((opt = getopt_long(argc, argv, "o:r:n:m:s:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			o->inside_path = optarg;
			break;
		case 'r':
			o->outside_path = optarg;
			break;
		case 'n':
			if (parse_count(optarg, GEN_MAX_FLOWS, &v) != 0 || v == 0)
				return bad("--flows (1..16Mi)", optarg);
			o->flows = (uint32_t)v;
			break;
		case 'm':
			if (strcmp(optarg, "syn") == 0)
				o->mode = MODE_SYN;
			else if (strcmp(optarg, "established") == 0)
				o->mode = MODE_ESTABLISHED;
			else if (strcmp(optarg, "denied") == 0)
				o->mode = MODE_DENIED;
			else
				return bad("--mode", optarg);
			break;
		case 's':
			if (strcmp(optarg, "imix") == 0) {
				o->size = 0;
				break;
			}
			if (parse_count(optarg, GEN_MAX_FRAME, &v) != 0 || v < GEN_MIN_FRAME)
				return bad("--size (64..1518 or imix)", optarg);
			o->size = (uint16_t)v;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_DATA:
			if (parse_count(optarg, GEN_MAX_DATA, &v) != 0)
				return bad("--data (0..1024)", optarg);
			o->data = (uint32_t)v;
			break;
		case OPT_DENIED:
			if (parse_count(optarg, GEN_MAX_FLOWS, &v) != 0)
				return bad("--denied", optarg);
			o->denied = (uint32_t)v;
			have_denied = true;
			break;
		case OPT_DENY_FRACTION:
			errno = 0;
			o->deny_fraction = strtod(optarg, &end);
			if (errno || *end != '\0' || end == optarg || !(o->deny_fraction >= 0) ||
			    o->deny_fraction > 1)
				return bad("--deny-fraction (0..1)", optarg);
			break;
		case OPT_DST:
			if (parse_hosts(optarg, &o->dst, &o->n_dst) != 0)
				return bad("--dst", optarg);
			break;
		case OPT_DPORT:
			if (parse_port("--dport", optarg, &o->dport) != 0)
				return -1;
			break;
		case OPT_DENY_DST:
			if (parse_hosts(optarg, &o->deny_dst, &o->n_deny_dst) != 0)
				return bad("--deny-dst", optarg);
			have_deny_dst = true;
			break;
		case OPT_DENY_PORT:
			if (parse_port("--deny-port", optarg, &o->deny_port) != 0)
				return -1;
			break;
		case OPT_CLIENTS:
			if (parse_count(optarg, 1u << 24, &v) != 0 || v == 0)
				return bad("--clients", optarg);
			o->n_clients = (uint32_t)v;
			break;
		case OPT_CLIENT_NET:
			if (parse_ip(optarg, &o->client_net) != 0)
				return bad("--client-net", optarg);
			break;
		case OPT_SPORT_LO:
			if (parse_port("--sport-lo", optarg, &o->sport_lo) != 0)
				return -1;
			break;
		case OPT_SRC_MAC:
			if (parse_mac(optarg, o->src_mac) != 0)
				return bad("--src-mac", optarg);
			break;
		case OPT_IN_MAC:
			if (parse_mac(optarg, o->in_mac) != 0)
				return bad("--in-mac", optarg);
			break;
		case OPT_OUT_MAC:
			if (parse_mac(optarg, o->out_mac) != 0)
				return bad("--out-mac", optarg);
			break;
		case OPT_GW_MAC:
			if (parse_mac(optarg, o->gw_mac) != 0)
				return bad("--gw-mac", optarg);
			break;
		case OPT_NAT_ADDR:
			if (parse_ip(optarg, &o->nat_addr) != 0)
				return bad("--nat-addr", optarg);
			break;
		case OPT_ARP:
			o->arp = true;
			break;
		case OPT_INSIDE_ADDR:
			if (parse_ip(optarg, &o->inside_addr) != 0)
				return bad("--inside-addr", optarg);
			break;
		case OPT_OUTSIDE_ADDR:
			if (parse_ip(optarg, &o->outside_addr) != 0)
				return bad("--outside-addr", optarg);
			have_outside_addr = true;
			break;
		case OPT_GATEWAY:
			if (parse_ip(optarg, &o->gateway) != 0)
				return bad("--gateway", optarg);
			break;
		case OPT_NEIGHBORS:
			o->neighbors_path = optarg;
			break;
		case OPT_TTL:
			if (parse_count(optarg, 255, &v) != 0 || v < 2)
				return bad("--ttl (2..255)", optarg);
			o->ttl = (uint8_t)v;
			break;
		case OPT_SEED:
			if (parse_count(optarg, UINT32_MAX, &v) != 0)
				return bad("--seed", optarg);
			o->seed = (uint32_t)v;
			break;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "egress-gen: unexpected argument: %s\n", argv[optind]);
		return -1;
	}
	if (o->inside_path == NULL) {
		fprintf(stderr, "egress-gen: -o INSIDE.pcap is required\n");
		usage(stderr);
		return -1;
	}
	if (!have_deny_dst) {
		o->deny_dst = o->dst;
		o->n_deny_dst = o->n_dst;
	}
	if (!have_outside_addr)
		o->outside_addr = o->nat_addr;
	if (have_denied && o->deny_fraction >= 0) {
		fprintf(stderr, "egress-gen: --denied and --deny-fraction: choose one\n");
		return -1;
	}
	if (o->mode == MODE_DENIED)
		o->denied = o->flows;
	else if (o->deny_fraction >= 0)
		o->denied = (uint32_t)((double)o->flows * o->deny_fraction);
	if (o->denied > o->flows) {
		fprintf(stderr, "egress-gen: --denied %" PRIu32 " > --flows %" PRIu32 "\n",
			o->denied, o->flows);
		return -1;
	}
	if (o->mode == MODE_ESTABLISHED && o->outside_path == NULL)
		fprintf(stderr, "egress-gen: warning: established without -r: no replies\n");
	if (o->mode != MODE_ESTABLISHED && o->outside_path != NULL && !o->arp)
		fprintf(stderr, "egress-gen: warning: %s mode: %s stays empty\n",
			mode_names[o->mode], o->outside_path);
	if ((uint64_t)o->client_net + o->n_clients - 1 > UINT32_MAX) {
		fprintf(stderr, "egress-gen: --clients: addresses run past 255.255.255.255\n");
		return -1;
	}
	if (o->inside_addr >= o->client_net && o->inside_addr < o->client_net + o->n_clients) {
		fprintf(stderr, "egress-gen: the clients' addresses include --inside-addr\n");
		return -1;
	}
	/* unique (destination, client port) per allowed and per denied flow */
	{
		uint64_t ports = 65536 - (uint64_t)o->sport_lo;
		uint64_t allowed = o->flows - o->denied;

		if (allowed > ports * o->n_dst || o->denied > ports * o->n_deny_dst) {
			fprintf(stderr,
				"egress-gen: %" PRIu32 " flows need more (destination, port) pairs "
				"than %" PRIu32 " destination(s) x %" PRIu64 " client ports give: "
				"widen --dst (e.g. 10.59.118.0/24) or lower --sport-lo\n",
				o->flows, o->n_dst, ports);
			return -1;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ main */

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
		.dst = 0x0a3b763b,          /* 10.59.118.59 */
		.n_dst = 1,
		.dport = 6379,
		.deny_port = 6380,
		.client_net = 0x0a080002,   /* 10.8.0.2 */
		.n_clients = 64,
		.sport_lo = 1024,
		.inside_addr = 0x0a080001,  /* 10.8.0.1 */
		.nat_addr = 0xcb00710a,     /* 203.0.113.10 */
		.gateway = 0xcb007101,      /* 203.0.113.1 */
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

	if (parse_args(argc, argv, &o) != 0)
		return 2;
	payload_init();
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
	if (o.neighbors_path != NULL && write_neighbors(&o) != 0)
		goto out;
	if (pcap_open(&g.in, o.inside_path) != 0)
		goto out;
	if (o.outside_path != NULL) {
		if (pcap_open(&g.out, o.outside_path) != 0)
			goto out;
		g.have_out = true;
	}
	if (o.arp && write_arps(&g) != 0)
		goto out;
	if (write_syns(&g) != 0)
		goto out;
	if (o.mode == MODE_ESTABLISHED && write_data(&g) != 0)
		goto out;
	if (pcap_close(&g.in) != 0 || pcap_close(&g.out) != 0)
		goto out;
	rc = 0;
	if (!o.quiet) {
		size_name(&o, sz, sizeof(sz));
		ip_str(o.dst, dst, sizeof(dst));
		printf("egress-gen: mode=%s flows=%" PRIu32 " allowed=%" PRIu32
		       " denied=%" PRIu32 " clients=%" PRIu32 " dst=%s:%u dsts=%" PRIu32 " size=%s"
		       " data=%" PRIu32 " inside=%s packets=%" PRIu64 " (arp=%" PRIu64
		       " syn=%" PRIu64 " data=%" PRIu64 ") bytes=%" PRIu64,
		       mode_names[o.mode], o.flows, o.flows - o.denied, o.denied, o.n_clients,
		       dst, o.dport, o.n_dst, sz, o.mode == MODE_ESTABLISHED ? o.data : 0,
		       o.inside_path, g.in.pkts, o.arp ? (uint64_t)o.n_clients : 0, g.syns,
		       g.datas, g.in.bytes);
		if (g.have_out)
			printf(" outside=%s packets=%" PRIu64 " (arp=%" PRIu64 " synack=%" PRIu64
			       " data=%" PRIu64 ") bytes=%" PRIu64, o.outside_path, g.out.pkts,
			       o.arp ? (uint64_t)o.n_clients : 0, g.synacks, g.replies,
			       g.out.bytes);
		printf(" time=%.2fs\n", now_s() - t0);
	}
out:
	if (rc != 0) {
		pcap_close(&g.in);
		pcap_close(&g.out);
	}
	free(g.c_off);
	free(g.s_off);
	return rc;
}
