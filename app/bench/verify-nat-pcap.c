/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * verify-nat-pcap: checks every frame egressd transmitted in a pcap replay
 * against the frame it came from (scripts/bench-16m.sh). Plain C11 and
 * stdio, no DPDK.
 *
 *   verify-nat-pcap [options] IN.pcap OUT.pcap TX-IN.pcap TX-OUT.pcap
 *
 * IN and OUT are what egressd's inside and outside ports read (net_pcap
 * rx_pcap), as `egress-gen -m established` writes them: frame i of OUT
 * answers frame i of IN, from the server to the NAT address and the
 * client's own port (nat.port_alloc: preserve, one NAT address). TX-IN and
 * TX-OUT are what the inside and outside ports transmitted (tx_pcap). In
 * order, every frame of IN must leave in TX-OUT and every frame of OUT in
 * TX-IN, translated and otherwise as received:
 *   - a client's frame: IPv4 source the NAT address (--nat-addr), TCP source
 *     port the client's own, from the outside port's MAC (--out-mac) to the
 *     gateway's (--gw-mac);
 *   - a reply: IPv4 destination and TCP destination port the client's, from
 *     the inside port's MAC (--in-mac) to the client's (the source MAC of
 *     its frame in IN);
 *   - both: TTL one less; every other byte of the IPv4 and TCP headers and
 *     the payload as received, up to the IPv4 total length; IPv4 header and
 *     TCP checksums valid;
 *   - the length: the frame ends where the IPv4 total length says (the
 *     sender's Ethernet trailer is not forwarded), except that a frame
 *     shorter than Ethernet's 60-byte minimum (FCS excluded) is padded to 60
 *     bytes with zeros: a 58-byte SYN leaves as 60 bytes, the last two zero.
 * And nothing else: a transmitted frame that is not IPv4/TCP, or that no
 * received frame accounts for, fails too. A transmitted frame belongs to the
 * next received frame of its direction with the same server address, server
 * port and TCP sequence number; a received frame without one is missing (the
 * transmitted frame then waits for the next received one).
 *
 * The first --show problems are printed one by one on stderr; the counts go
 * to stdout. Exit status: 0 every check passed, 1 a check failed or a
 * capture cannot be read, 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG      "verify-nat-pcap"
#define ETH_LEN   14
#define IP_LEN    20 /* no IPv4 options: egress-gen writes none */
#define TCP_LEN   20
#define MIN_FRAME 60 /* Ethernet's minimum, FCS excluded */
#define MAX_SNAP  65535
#define IO_BUF    (8u << 20)

/* The problems counted, per direction. */
enum problem {
	P_MISSING,
	P_ETH,
	P_IP_SRC,
	P_IP_DST,
	P_SPORT,
	P_DPORT,
	P_TTL,
	P_IP_REST,
	P_TCP_REST,
	P_IP_CSUM,
	P_TCP_CSUM,
	P_LENGTH,
	P_UNPAIRED,
	P_EXTRA,
	P_NOT_TCP,
	P_COUNT
};

static const char *const problem_text[P_COUNT] = {
	[P_MISSING] = "missing (no transmitted frame for it)",
	[P_ETH] = "Ethernet addresses",
	[P_IP_SRC] = "IPv4 source",
	[P_IP_DST] = "IPv4 destination",
	[P_SPORT] = "TCP source port",
	[P_DPORT] = "TCP destination port",
	[P_TTL] = "TTL not one less",
	[P_IP_REST] = "IPv4 header changed (besides TTL, addresses, checksum)",
	[P_TCP_REST] = "TCP header or payload changed (besides ports, checksum)",
	[P_IP_CSUM] = "IPv4 header checksum",
	[P_TCP_CSUM] = "TCP checksum",
	[P_LENGTH] = "frame length or padding (not the IPv4 length, zero-padded to 60 if shorter)",
	[P_UNPAIRED] = "captures not paired (not IPv4/TCP, or not egress-gen's order)",
	[P_EXTRA] = "transmitted, but no received frame accounts for it",
	[P_NOT_TCP] = "transmitted, not IPv4/TCP",
};

enum dir {
	D_CLIENT, /* IN -> TX-OUT */
	D_REPLY,  /* OUT -> TX-IN */
};

static const char *const dir_text[2] = { "client", "reply" };

struct frame {
	uint32_t len;  /* captured */
	uint32_t wire; /* on the wire, as the record says */
	uint8_t b[MAX_SNAP];
};

struct capture {
	const char *path;
	FILE *f;
	bool big_endian;
	uint64_t records;
};

struct opts {
	uint32_t nat_addr;
	uint8_t gw_mac[6];
	uint8_t in_mac[6];
	uint8_t out_mac[6];
	unsigned long show;
};

static uint64_t problems[2][P_COUNT];
static uint64_t padded[2];
static unsigned long shown;
static struct opts opt = {
	.nat_addr = 203u << 24 | 113u << 8 | 10, /* 203.0.113.10 */
	.gw_mac = { 0x02, 0x00, 0xcb, 0x00, 0x71, 0x01 },
	/* net_pcap's MACs: 02:70:63:61:70:NN, NN counting its devices */
	.in_mac = { 0x02, 0x70, 0x63, 0x61, 0x70, 0x00 },
	.out_mac = { 0x02, 0x70, 0x63, 0x61, 0x70, 0x01 },
	.show = 10,
};

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* --------------------------------------------------------------- captures */

static void
read_failed(const struct capture *c, const char *what)
{
	fprintf(stderr, PROG ": %s: %s%s%s\n", c->path, what, ferror(c->f) ? ": " : "",
		ferror(c->f) ? strerror(errno) : "");
	exit(1);
}

/* A header field in the capture's byte order. */
static uint32_t
field32(const struct capture *c, const uint8_t *p)
{
	if (c->big_endian)
		return get32(p);
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static void
capture_open(struct capture *c, const char *path)
{
	uint8_t h[24];
	uint32_t magic;

	memset(c, 0, sizeof(*c));
	c->path = path;
	c->f = fopen(path, "rb");
	if (c->f == NULL) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		exit(1);
	}
	setvbuf(c->f, NULL, _IOFBF, IO_BUF);
	if (fread(h, 1, sizeof(h), c->f) != sizeof(h))
		read_failed(c, "no pcap file header");
	magic = field32(c, h);
	if (magic == 0xa1b2c3d4u || magic == 0xa1b23c4du)
		c->big_endian = false;
	else if (magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u)
		c->big_endian = true;
	else if (magic == 0x0a0d0d0au)
		read_failed(c, "pcapng: only classic pcap is read");
	else
		read_failed(c, "not a pcap file");
	if (field32(c, h + 20) != 1)
		read_failed(c, "not an Ethernet capture (link type 1)");
}

/* The next record into fr; false at the end of the file. */
static bool
capture_read(struct capture *c, struct frame *fr)
{
	uint8_t h[16];
	size_t n = fread(h, 1, sizeof(h), c->f);

	if (n == 0 && !ferror(c->f))
		return false;
	if (n != sizeof(h))
		read_failed(c, "truncated record header");
	fr->len = field32(c, h + 8);
	fr->wire = field32(c, h + 12);
	if (fr->len > sizeof(fr->b) || fr->len > fr->wire)
		read_failed(c, "bad record length");
	if (fread(fr->b, 1, fr->len, c->f) != fr->len)
		read_failed(c, "truncated record");
	c->records++;
	return true;
}

/* Ethernet, IPv4 without options, TCP, all within the captured bytes. */
static bool
is_tcp4(const struct frame *fr)
{
	uint32_t tot;

	if (fr->len < ETH_LEN + IP_LEN + TCP_LEN || get16(fr->b + 12) != 0x0800 ||
	    fr->b[ETH_LEN] != 0x45 || fr->b[ETH_LEN + 9] != 6)
		return false;
	tot = get16(fr->b + ETH_LEN + 2);
	return tot >= IP_LEN + TCP_LEN && ETH_LEN + tot <= fr->len;
}

/* --------------------------------------------------------------- checks */

static void
flag(enum dir d, enum problem p, const char *path, uint64_t record)
{
	problems[d][p]++;
	if (shown++ < opt.show)
		fprintf(stderr, PROG ": %s frame, %s record %llu: %s\n", dir_text[d], path,
			(unsigned long long)record, problem_text[p]);
}

/* The next IPv4/TCP frame of a transmit capture; anything else fails. */
static bool
next_tx(struct capture *c, enum dir d, struct frame *fr)
{
	while (capture_read(c, fr)) {
		if (is_tcp4(fr))
			return true;
		flag(d, P_NOT_TCP, c->path, c->records - 1);
	}
	return false;
}

/* One's-complement sum of big-endian 16-bit words, a last odd byte padded. */
static uint32_t
sum16(uint32_t sum, const uint8_t *p, uint32_t len)
{
	uint32_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

/* A sum over data that includes its own checksum: valid if it folds to ~0. */
static bool
sum_valid(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/*
 * What egressd sends: the packet up to its IPv4 total length, then zeros up
 * to Ethernet's minimum if it is shorter; no trailer beyond.
 */
static bool
length_valid(const struct frame *tx, uint32_t tot, enum dir d)
{
	uint32_t end = ETH_LEN + tot, want = end < MIN_FRAME ? MIN_FRAME : end, i;

	if (tx->len != want || tx->wire != want)
		return false;
	for (i = end; i < want; i++)
		if (tx->b[i] != 0)
			return false;
	if (end < want)
		padded[d]++;
	return true;
}

/* The translated fields a frame must have once egressd sent it. */
struct expect {
	const uint8_t *mac_dst, *mac_src;
	uint32_t src, dst;
	uint16_t sport, dport;
};

/* tx must be rx translated to e, every other byte as received. */
static void
check(enum dir d, uint64_t i, const char *path, const struct frame *rx, const struct frame *tx,
      const struct expect *e)
{
	const uint8_t *a = rx->b + ETH_LEN, *b = tx->b + ETH_LEN;
	uint32_t tot = get16(b + 2);

	if (memcmp(tx->b, e->mac_dst, 6) != 0 || memcmp(tx->b + 6, e->mac_src, 6) != 0)
		flag(d, P_ETH, path, i);
	if (get32(b + 12) != e->src)
		flag(d, P_IP_SRC, path, i);
	if (get32(b + 16) != e->dst)
		flag(d, P_IP_DST, path, i);
	if (get16(b + IP_LEN) != e->sport)
		flag(d, P_SPORT, path, i);
	if (get16(b + IP_LEN + 2) != e->dport)
		flag(d, P_DPORT, path, i);
	if (b[8] + 1 != a[8])
		flag(d, P_TTL, path, i);
	/* version to fragment offset (the total length among them), protocol */
	if (memcmp(a, b, 8) != 0 || a[9] != b[9])
		flag(d, P_IP_REST, path, i);
	/* sequence number to window, then urgent pointer, options, payload */
	if (get16(a + 2) != tot || memcmp(a + IP_LEN + 4, b + IP_LEN + 4, 12) != 0 ||
	    memcmp(a + IP_LEN + 18, b + IP_LEN + 18, tot - IP_LEN - 18) != 0)
		flag(d, P_TCP_REST, path, i);
	if (!sum_valid(sum16(0, b, IP_LEN)))
		flag(d, P_IP_CSUM, path, i);
	/* the pseudo-header: addresses, protocol, TCP length */
	if (!sum_valid(sum16(sum16(6 + tot - IP_LEN, b + 12, 8), b + IP_LEN, tot - IP_LEN)))
		flag(d, P_TCP_CSUM, path, i);
	if (!length_valid(tx, tot, d))
		flag(d, P_LENGTH, path, i);
}

/* ------------------------------------------------------------------ main */

static void
usage(FILE *out)
{
	fprintf(out, "usage: " PROG " [options] IN.pcap OUT.pcap TX-IN.pcap TX-OUT.pcap\n"
		     "Checks that egressd sent every frame of IN (the clients', inside port)\n"
		     "source-NATed in TX-OUT, and every frame of OUT (the servers' answers,\n"
		     "outside port) translated back in TX-IN: TTL one less, the rest as\n"
		     "received up to the IPv4 length, zero-padded to 60 bytes if shorter,\n"
		     "checksums valid, in order, nothing else sent. IN and OUT as\n"
		     "egress-gen -m established writes them (frame i of both: one flow).\n"
		     "  -n, --nat-addr IP   the NAT address (203.0.113.10)\n"
		     "  -g, --gw-mac MAC    the outside gateway's MAC (02:00:cb:00:71:01)\n"
		     "      --in-mac MAC    egressd's inside port (02:70:63:61:70:00)\n"
		     "      --out-mac MAC   egressd's outside port (02:70:63:61:70:01)\n"
		     "      --show N        print the first N problems one by one (10)\n"
		     "  -h, --help          this text\n"
		     "Exit status: 0 every check passed, 1 a check failed or a capture\n"
		     "cannot be read, 2 usage.\n");
}

static int
bad_value(const char *option, const char *value)
{
	fprintf(stderr, PROG ": %s: invalid value: %s\n", option, value);
	return -1;
}

static int
parse_mac(const char *option, const char *s, uint8_t *mac)
{
	int end = -1;

	if (sscanf(s, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx%n", &mac[0], &mac[1], &mac[2], &mac[3],
		   &mac[4], &mac[5], &end) != 6 ||
	    end < 0 || s[end] != '\0')
		return bad_value(option, s);
	return 0;
}

static int
parse_args(int argc, char **argv)
{
	enum {
		OPT_IN_MAC = 256,
		OPT_OUT_MAC,
		OPT_SHOW,
	};
	static const struct option longopts[] = {
		{ "nat-addr", required_argument, NULL, 'n' },
		{ "gw-mac", required_argument, NULL, 'g' },
		{ "in-mac", required_argument, NULL, OPT_IN_MAC },
		{ "out-mac", required_argument, NULL, OPT_OUT_MAC },
		{ "show", required_argument, NULL, OPT_SHOW },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct in_addr a;
	char *end;
	int o;

	while ((o = getopt_long(argc, argv, "n:g:h", longopts, NULL)) != -1) {
		switch (o) {
		case 'n':
			if (inet_pton(AF_INET, optarg, &a) != 1)
				return bad_value("--nat-addr", optarg);
			opt.nat_addr = ntohl(a.s_addr);
			break;
		case 'g':
			if (parse_mac("--gw-mac", optarg, opt.gw_mac) != 0)
				return -1;
			break;
		case OPT_IN_MAC:
			if (parse_mac("--in-mac", optarg, opt.in_mac) != 0)
				return -1;
			break;
		case OPT_OUT_MAC:
			if (parse_mac("--out-mac", optarg, opt.out_mac) != 0)
				return -1;
			break;
		case OPT_SHOW:
			errno = 0;
			opt.show = strtoul(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || optarg[0] == '-')
				return bad_value("--show", optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (argc - optind != 4) {
		fprintf(stderr, PROG ": four captures expected, %d given\n", argc - optind);
		usage(stderr);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	/* static: 64 KiB each */
	static struct frame in, out, tx_in, tx_out;
	struct capture c_in, c_out, c_tx_in, c_tx_out;
	struct in_addr nat;
	bool have_tx_in, have_tx_out;
	uint64_t i, total = 0;
	int d, p;

	if (parse_args(argc, argv) != 0)
		return 2;
	capture_open(&c_in, argv[optind]);
	capture_open(&c_out, argv[optind + 1]);
	capture_open(&c_tx_in, argv[optind + 2]);
	capture_open(&c_tx_out, argv[optind + 3]);
	have_tx_in = next_tx(&c_tx_in, D_REPLY, &tx_in);
	have_tx_out = next_tx(&c_tx_out, D_CLIENT, &tx_out);

	for (i = 0; capture_read(&c_in, &in); i++) {
		bool have_out = capture_read(&c_out, &out);
		const uint8_t *cl = in.b + ETH_LEN, *sv = out.b + ETH_LEN;
		uint32_t client, server;
		uint16_t cport, sport;
		struct expect e;

		if (!is_tcp4(&in)) {
			flag(D_CLIENT, P_UNPAIRED, c_in.path, i);
			continue;
		}
		client = get32(cl + 12);
		server = get32(cl + 16);
		cport = get16(cl + IP_LEN);
		sport = get16(cl + IP_LEN + 2);
		/* the client's frame out, source-NATed, its port preserved */
		if (have_tx_out && get32(tx_out.b + ETH_LEN + 16) == server &&
		    get16(tx_out.b + ETH_LEN + IP_LEN + 2) == sport &&
		    get32(tx_out.b + ETH_LEN + IP_LEN + 4) == get32(cl + IP_LEN + 4)) {
			e = (struct expect){ opt.gw_mac, opt.out_mac, opt.nat_addr,
					     server,     cport,       sport };
			check(D_CLIENT, i, c_in.path, &in, &tx_out, &e);
			have_tx_out = next_tx(&c_tx_out, D_CLIENT, &tx_out);
		} else {
			flag(D_CLIENT, P_MISSING, c_in.path, i);
		}
		if (!have_out)
			continue;
		if (!is_tcp4(&out) || get32(sv + 12) != server || get32(sv + 16) != opt.nat_addr ||
		    get16(sv + IP_LEN) != sport || get16(sv + IP_LEN + 2) != cport) {
			flag(D_REPLY, P_UNPAIRED, c_out.path, i);
			continue;
		}
		/* the server's frame in, translated back to the client */
		if (have_tx_in && get32(tx_in.b + ETH_LEN + 12) == server &&
		    get16(tx_in.b + ETH_LEN + IP_LEN) == sport &&
		    get32(tx_in.b + ETH_LEN + IP_LEN + 4) == get32(sv + IP_LEN + 4)) {
			e = (struct expect){ in.b + 6, opt.in_mac, server, client, sport, cport };
			check(D_REPLY, i, c_out.path, &out, &tx_in, &e);
			have_tx_in = next_tx(&c_tx_in, D_REPLY, &tx_in);
		} else {
			flag(D_REPLY, P_MISSING, c_out.path, i);
		}
	}
	while (capture_read(&c_out, &out))
		flag(D_REPLY, P_UNPAIRED, c_out.path, c_out.records - 1);
	for (; have_tx_out; have_tx_out = next_tx(&c_tx_out, D_CLIENT, &tx_out))
		flag(D_CLIENT, P_EXTRA, c_tx_out.path, c_tx_out.records - 1);
	for (; have_tx_in; have_tx_in = next_tx(&c_tx_in, D_REPLY, &tx_in))
		flag(D_REPLY, P_EXTRA, c_tx_in.path, c_tx_in.records - 1);

	printf(PROG ": received: inside %llu frames, outside %llu; transmitted: outside %llu "
		    "(%llu padded to %u bytes), inside %llu (%llu padded)\n",
	       (unsigned long long)c_in.records, (unsigned long long)c_out.records,
	       (unsigned long long)c_tx_out.records, (unsigned long long)padded[D_CLIENT],
	       MIN_FRAME, (unsigned long long)c_tx_in.records, (unsigned long long)padded[D_REPLY]);
	for (d = 0; d < 2; d++) {
		for (p = 0; p < P_COUNT; p++) {
			if (problems[d][p] == 0)
				continue;
			total += problems[d][p];
			printf(PROG ": %s frames: %llu %s\n", dir_text[d],
			       (unsigned long long)problems[d][p], problem_text[p]);
		}
	}
	if (total != 0) {
		printf(PROG ": FAIL: %llu problem%s\n", (unsigned long long)total,
		       total == 1 ? "" : "s");
		return 1;
	}
	nat.s_addr = htonl(opt.nat_addr);
	printf(PROG ": every client frame left source-NATed to %s with its own port, every "
		    "reply went back to its client (address, port, MAC); TTL - 1, the rest as "
		    "received up to the IPv4 length, zero padding to %u bytes only, IPv4 and TCP "
		    "checksums valid, nothing else sent\n",
	       inet_ntoa(nat), MIN_FRAME);
	return 0;
}
