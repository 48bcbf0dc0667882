/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * egress-gen's command line: usage(), the options and the checks across
 * them (a usage error: a message on stderr, and main exits 2).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

const char *const gen_mode_names[] = {
	[MODE_SYN] = "syn",
	[MODE_ESTABLISHED] = "established",
	[MODE_DENIED] = "denied",
};

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

/*
 * After the options: the defaults that follow from others, the number of
 * denied flows, and the checks across options (warnings go on).
 */
static int
settle(struct gen_opts *o, bool have_deny_dst, bool have_outside_addr, bool have_denied)
{
	uint64_t ports = 65536 - (uint64_t)o->sport_lo, allowed;

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
			gen_mode_names[o->mode], o->outside_path);
	if ((uint64_t)o->client_net + o->n_clients - 1 > UINT32_MAX) {
		fprintf(stderr, "egress-gen: --clients: addresses run past 255.255.255.255\n");
		return -1;
	}
	if (o->inside_addr >= o->client_net && o->inside_addr < o->client_net + o->n_clients) {
		fprintf(stderr, "egress-gen: the clients' addresses include --inside-addr\n");
		return -1;
	}
	/* unique (destination, client port) per allowed and per denied flow */
	allowed = o->flows - o->denied;
	if (allowed > ports * o->n_dst || o->denied > ports * o->n_deny_dst) {
		fprintf(stderr,
			"egress-gen: %" PRIu32 " flows need more (destination, port) pairs "
			"than %" PRIu32 " destination(s) x %" PRIu64 " client ports give: "
			"widen --dst (e.g. 10.59.118.0/24) or lower --sport-lo\n",
			o->flows, o->n_dst, ports);
		return -1;
	}
	return 0;
}

int
opts_parse(int argc, char **argv, struct gen_opts *o)
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
			if (addr_parse_hosts(optarg, &o->dst, &o->n_dst) != 0)
				return bad("--dst", optarg);
			break;
		case OPT_DPORT:
			if (parse_port("--dport", optarg, &o->dport) != 0)
				return -1;
			break;
		case OPT_DENY_DST:
			if (addr_parse_hosts(optarg, &o->deny_dst, &o->n_deny_dst) != 0)
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
			if (addr_parse_ip(optarg, &o->client_net) != 0)
				return bad("--client-net", optarg);
			break;
		case OPT_SPORT_LO:
			if (parse_port("--sport-lo", optarg, &o->sport_lo) != 0)
				return -1;
			break;
		case OPT_SRC_MAC:
			if (addr_parse_mac(optarg, o->src_mac) != 0)
				return bad("--src-mac", optarg);
			break;
		case OPT_IN_MAC:
			if (addr_parse_mac(optarg, o->in_mac) != 0)
				return bad("--in-mac", optarg);
			break;
		case OPT_OUT_MAC:
			if (addr_parse_mac(optarg, o->out_mac) != 0)
				return bad("--out-mac", optarg);
			break;
		case OPT_GW_MAC:
			if (addr_parse_mac(optarg, o->gw_mac) != 0)
				return bad("--gw-mac", optarg);
			break;
		case OPT_NAT_ADDR:
			if (addr_parse_ip(optarg, &o->nat_addr) != 0)
				return bad("--nat-addr", optarg);
			break;
		case OPT_ARP:
			o->arp = true;
			break;
		case OPT_INSIDE_ADDR:
			if (addr_parse_ip(optarg, &o->inside_addr) != 0)
				return bad("--inside-addr", optarg);
			break;
		case OPT_OUTSIDE_ADDR:
			if (addr_parse_ip(optarg, &o->outside_addr) != 0)
				return bad("--outside-addr", optarg);
			have_outside_addr = true;
			break;
		case OPT_GATEWAY:
			if (addr_parse_ip(optarg, &o->gateway) != 0)
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
	return settle(o, have_deny_dst, have_outside_addr, have_denied);
}
