/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parsing and checksum arithmetic (see pkt.h). Data path code: no
 * allocation, no logging, no state. Every read is preceded by a length check
 * against the bytes the caller gave; the checks run in the order pkt.h and the
 * tests fix, so that each bad frame is counted under exactly one reason.
 *
 * Checksums are summed over 16-bit words loaded in host order (as DPDK's
 * rte_raw_cksum() does): the result is then in the same order as the field
 * stored in the packet and can be compared or stored without a byte swap.
 */
#include <errno.h>
#include <assert.h>
#include <stddef.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_branch_prediction.h>
#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "pkt.h"

static_assert(PKT_ETHERTYPE_IPV4 == RTE_ETHER_TYPE_IPV4, "ethertype");
static_assert(PKT_ETHERTYPE_ARP == RTE_ETHER_TYPE_ARP, "ethertype");
static_assert(PKT_ETHERTYPE_VLAN == RTE_ETHER_TYPE_VLAN, "ethertype");
static_assert(PKT_TCP_FIN == RTE_TCP_FIN_FLAG && PKT_TCP_SYN == RTE_TCP_SYN_FLAG &&
		      PKT_TCP_RST == RTE_TCP_RST_FLAG && PKT_TCP_ACK == RTE_TCP_ACK_FLAG,
	      "TCP flags");
static_assert(sizeof(struct rte_arp_hdr) == 28, "ARP for Ethernet/IPv4 is 28 bytes");
static_assert(sizeof(struct rte_ipv4_hdr) == 20, "IPv4 header");
static_assert(sizeof(struct rte_tcp_hdr) == 20, "TCP header");
static_assert(sizeof(struct rte_udp_hdr) == 8, "UDP header");
static_assert(sizeof(struct rte_icmp_hdr) == 8, "ICMP header");

/* IP options (RFC 791 3.1, IANA ip-parameters): those the parser knows */
#define IPOPT_EOL_KIND  0
#define IPOPT_NOP_KIND  1
#define IPOPT_LSRR_KIND 131
#define IPOPT_SSRR_KIND 137

/* TCP options (RFC 9293 3.2) */
#define TCPOPT_EOL_KIND    0
#define TCPOPT_NOP_KIND    1
#define TCPOPT_MSS_KIND    2
#define TCPOPT_MSS_LEN     4
#define TCPOPT_WSCALE_KIND 3
#define TCPOPT_WSCALE_LEN  3

/* One's-complement sum of a correct header or segment, checksum included */
#define CSUM_OK 0xffff

static inline int
drop(enum egress_drop *why, enum egress_drop reason)
{
	*why = reason;
	return -EINVAL;
}

static inline uint16_t
load_be16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return rte_be_to_cpu_16(v);
}

/* A 32-bit word as stored (network order), from any alignment. */
static inline uint32_t
load_ne32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * rte_raw_cksum() of a header-sized buffer: 32-bit words into a 64-bit sum
 * (one's-complement sums do not depend on the word size), folded once. GCC
 * vectorizes rte_raw_cksum()'s 16-bit loop, whose set-up costs more than a
 * 20-byte IPv4 or TCP header takes; longer buffers still go there.
 */
static inline uint16_t
raw_cksum(const uint8_t *p, uint32_t len)
{
	uint64_t s = 0;
	uint32_t w;
	uint16_t h = 0;

	if (len > 64)
		return rte_raw_cksum(p, len);
	/* 8 bytes at a time with an end-around carry (2^64 = 1 mod 0xffff) */
	for (; len >= 8; len -= 8, p += 8) {
		uint64_t q;

		memcpy(&q, p, sizeof(q));
		s += q;
		s += s < q;
	}
	s = (s & UINT32_MAX) + (s >> 32);
	if (len >= 4) {
		memcpy(&w, p, sizeof(w));
		s += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&h, p, sizeof(h));
		s += h;
		p += 2;
		len -= 2;
	}
	if (len > 0) {
		/* the odd byte, as rte_raw_cksum() takes it: byte order independent */
		h = 0;
		memcpy(&h, p, 1);
		s += h;
	}
	s = (s & UINT32_MAX) + (s >> 32);
	s = (s & UINT32_MAX) + (s >> 32);
	return pkt_csum_fold((uint32_t)s);
}

/*
 * Sum of the IPv4 pseudo-header (RFC 9293 3.1, RFC 768) for an L4 segment of
 * l4_len bytes; addresses as stored.
 */
static inline uint32_t
pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, uint32_t l4_len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
	       rte_cpu_to_be_16((uint16_t)proto) + rte_cpu_to_be_16((uint16_t)l4_len);
}

/* True when the TCP or UDP segment at l4 (checksum field included) verifies. */
static inline bool
l4_cksum_ok(const struct rte_ipv4_hdr *ip, const uint8_t *l4, uint32_t l4_len)
{
	uint32_t sum = pseudo_sum(ip->src_addr, ip->dst_addr, ip->next_proto_id, l4_len);

	sum += raw_cksum(l4, l4_len);
	return pkt_csum_fold(sum) == CSUM_OK;
}

/*
 * A 5-tuple whose forward and reverse directions are the same key ("land",
 * CVE-1999-0016): no host sends those, and the flow table, which inserts
 * every flow under both keys, cannot hold one.
 */
static inline bool
is_land(const struct pkt_meta *m)
{
	return m->src_ip == m->dst_ip && m->src_port == m->dst_port;
}

uint32_t
pkt_csum_partial(const void *buf, uint32_t len, uint32_t sum)
{
	uint64_t s = (uint64_t)sum + rte_raw_cksum(buf, len);

	/* end-around carry: 2^32 = 1 modulo 0xffff, so the sum stays exact */
	return (uint32_t)s + (uint32_t)(s >> 32);
}

uint16_t
pkt_ipv4_hdr_cksum(const uint8_t *ip, uint16_t l3_len)
{
	return (uint16_t)~rte_raw_cksum(ip, l3_len);
}

uint16_t
pkt_l4_cksum(const uint8_t *ip, uint16_t l3_len, uint16_t ip_len, uint8_t proto)
{
	const struct rte_ipv4_hdr *h = (const struct rte_ipv4_hdr *)ip;
	const uint8_t *l4 = ip + l3_len;
	uint32_t l4_len, field, sum;
	uint16_t cksum;

	if (ip_len < l3_len)
		return 0;
	l4_len = (uint32_t)ip_len - l3_len;
	switch (proto) {
	case IPPROTO_TCP:
		field = offsetof(struct rte_tcp_hdr, cksum);
		sum = pseudo_sum(h->src_addr, h->dst_addr, proto, l4_len);
		break;
	case IPPROTO_UDP:
		field = offsetof(struct rte_udp_hdr, dgram_cksum);
		sum = pseudo_sum(h->src_addr, h->dst_addr, proto, l4_len);
		break;
	case IPPROTO_ICMP:
		field = offsetof(struct rte_icmp_hdr, icmp_cksum);
		sum = 0; /* RFC 792: no pseudo-header */
		break;
	default:
		return 0;
	}
	/*
	 * Sum around the field rather than subtracting it: then an all-zero
	 * ICMP message gets 0xffff, the only form that verifies.
	 */
	if (l4_len >= field + sizeof(uint16_t)) {
		sum += rte_raw_cksum(l4, field);
		sum += rte_raw_cksum(l4 + field + sizeof(uint16_t),
				     l4_len - field - sizeof(uint16_t));
	} else {
		sum += rte_raw_cksum(l4, l4_len);
	}
	cksum = (uint16_t)~pkt_csum_fold(sum);
	/* RFC 768: a computed zero is sent as all ones; zero means "none" */
	if (proto == IPPROTO_UDP && cksum == 0)
		cksum = 0xffff;
	return cksum;
}

/* Index of a flags byte in TCP_INVALID_MASK: bits FIN, SYN, RST, ACK. */
#define TCP_FLAG_IDX(f) (((f)&0x07u) | (((f)&PKT_TCP_ACK) >> 1))
#define TCP_INVALID(f)  (1u << TCP_FLAG_IDX(f))

/*
 * Only FIN, SYN, RST and ACK decide; PSH, URG, ECE and CWR may come with any
 * valid combination (SYN+ECE+CWR is the ECN set-up of RFC 3168 6.1.1). Every
 * segment but the first SYN and a RST carries ACK (RFC 9293 3.10.7.4), so no
 * SYN, RST or ACK at all is invalid: the null scan, FIN, PSH or URG alone, and
 * XMAS (FIN+PSH+URG). SYN never comes with FIN or RST. RST+FIN is invalid as
 * well: a RST ends the connection at once, there is nothing left to FIN (the
 * same table as Linux's nf_conntrack tcp_valid_flags[]).
 */
#define TCP_INVALID_MASK                                                                           \
	(TCP_INVALID(0) |           /* null */                                                     \
	 TCP_INVALID(PKT_TCP_FIN) | /* FIN, XMAS */                                                \
	 TCP_INVALID(PKT_TCP_SYN | PKT_TCP_FIN) | TCP_INVALID(PKT_TCP_RST | PKT_TCP_FIN) |         \
	 TCP_INVALID(PKT_TCP_RST | PKT_TCP_SYN) |                                                  \
	 TCP_INVALID(PKT_TCP_RST | PKT_TCP_SYN | PKT_TCP_FIN) |                                    \
	 TCP_INVALID(PKT_TCP_ACK | PKT_TCP_SYN | PKT_TCP_FIN) |                                    \
	 TCP_INVALID(PKT_TCP_ACK | PKT_TCP_RST | PKT_TCP_FIN) |                                    \
	 TCP_INVALID(PKT_TCP_ACK | PKT_TCP_RST | PKT_TCP_SYN) |                                    \
	 TCP_INVALID(PKT_TCP_ACK | PKT_TCP_RST | PKT_TCP_SYN | PKT_TCP_FIN))

bool
pkt_tcp_flags_invalid(uint8_t flags)
{
	return (TCP_INVALID_MASK >> TCP_FLAG_IDX(flags)) & 1;
}

/*
 * Walk the IPv4 options (RFC 791 3.1) of n bytes: EOL ends the list, NOP is
 * one byte, every other option has a length byte >= 2 that stays within the
 * header. Source routes are refused by their type, before their length is
 * looked at (RFC 7126 4.3/4.4: drop LSRR and SSRR).
 *
 * @return EGRESS_DROP_MAX when the options are acceptable, else the reason.
 */
static enum egress_drop
ipv4_options_check(const uint8_t *opt, uint32_t n)
{
	uint32_t i = 0;

	while (i < n) {
		uint8_t kind = opt[i];
		uint8_t len;

		if (kind == IPOPT_EOL_KIND)
			break;
		if (kind == IPOPT_NOP_KIND) {
			i++;
			continue;
		}
		if (kind == IPOPT_LSRR_KIND || kind == IPOPT_SSRR_KIND)
			return EGRESS_DROP_IP_SOURCE_ROUTE;
		if (n - i < 2)
			return EGRESS_DROP_IP_OPTIONS;
		len = opt[i + 1];
		if (len < 2 || len > n - i)
			return EGRESS_DROP_IP_OPTIONS;
		i += len;
	}
	return EGRESS_DROP_MAX;
}

/*
 * Walk the TCP options (RFC 9293 3.2) of n bytes, same rules as the IPv4 ones.
 * *mss gets the offset in opt of the value of the last well-formed MSS option
 * (what the receiving stack will use), untouched when there is none.
 *
 * @return false on a malformed option.
 */
static bool
tcp_options_check(const uint8_t *opt, uint32_t n, uint32_t *mss, uint8_t *wscale)
{
	uint32_t i = 0;

	while (i < n) {
		uint8_t kind = opt[i];
		uint8_t len;

		if (kind == TCPOPT_EOL_KIND)
			break;
		if (kind == TCPOPT_NOP_KIND) {
			i++;
			continue;
		}
		if (n - i < 2)
			return false;
		len = opt[i + 1];
		if (len < 2 || len > n - i)
			return false;
		if (kind == TCPOPT_MSS_KIND && len == TCPOPT_MSS_LEN)
			*mss = i + 2;
		/* RFC 7323 2.3: a shift over 14 is used as 14 */
		if (kind == TCPOPT_WSCALE_KIND && len == TCPOPT_WSCALE_LEN)
			*wscale = RTE_MIN(opt[i + 2], (uint8_t)14);
		i += len;
	}
	return true;
}

static inline int
parse_tcp(const struct rte_ipv4_hdr *ip, const uint8_t *l4, uint32_t l4_len, uint32_t flags,
	  struct pkt_meta *m, enum egress_drop *why)
{
	const struct rte_tcp_hdr *tcp = (const struct rte_tcp_hdr *)l4;
	uint32_t doff, mss = 0;
	uint8_t wscale = PKT_WSCALE_NONE;

	if (unlikely(l4_len < sizeof(*tcp)))
		return drop(why, EGRESS_DROP_L4_TRUNCATED);
	doff = (uint32_t)(tcp->data_off >> 4) * 4;
	if (unlikely(doff < sizeof(*tcp) || doff > l4_len))
		return drop(why, EGRESS_DROP_TCP_DOFF);
	m->l4_len = (uint16_t)doff;
	m->tcp_flags = tcp->tcp_flags;
	if (doff > sizeof(*tcp)) {
		if (unlikely(!tcp_options_check(l4 + sizeof(*tcp), doff - sizeof(*tcp), &mss,
						&wscale)))
			return drop(why, EGRESS_DROP_TCP_OPTIONS);
		/* the MSS only means something on a SYN (RFC 9293 3.7.1) */
		if (mss != 0 && (tcp->tcp_flags & PKT_TCP_SYN))
			m->tcp_mss_off = (uint16_t)(m->l2_len + m->l3_len + sizeof(*tcp) + mss);
	}
	if (unlikely(pkt_tcp_flags_invalid(tcp->tcp_flags)))
		return drop(why, EGRESS_DROP_TCP_FLAGS);
	m->src_port = tcp->src_port;
	m->dst_port = tcp->dst_port;
	if (unlikely(tcp->src_port == 0 || tcp->dst_port == 0))
		return drop(why, EGRESS_DROP_PORT_ZERO);
	if (unlikely(is_land(m)))
		return drop(why, EGRESS_DROP_IP_LAND);
	if (!(flags & PKT_F_L4_CKSUM_GOOD) && unlikely(!l4_cksum_ok(ip, l4, l4_len)))
		return drop(why, EGRESS_DROP_L4_CHECKSUM);
	m->tcp_seq = rte_be_to_cpu_32(tcp->sent_seq);
	m->tcp_ack = rte_be_to_cpu_32(tcp->recv_ack);
	m->tcp_win = rte_be_to_cpu_16(tcp->rx_win);
	/* the option only means something on a SYN (RFC 7323 2.2) */
	m->tcp_wscale = (tcp->tcp_flags & PKT_TCP_SYN) ? wscale : PKT_WSCALE_NONE;
	return 0;
}

static inline int
parse_udp(const struct rte_ipv4_hdr *ip, const uint8_t *l4, uint32_t l4_len, uint32_t flags,
	  struct pkt_meta *m, enum egress_drop *why)
{
	const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)l4;

	if (unlikely(l4_len < sizeof(*udp)))
		return drop(why, EGRESS_DROP_L4_TRUNCATED);
	/*
	 * RFC 768 allows a datagram shorter than the IP payload; nobody sends
	 * one, and the checksum and the NAT would disagree on its end: both
	 * lengths must agree (a length under 8 included).
	 */
	if (unlikely(rte_be_to_cpu_16(udp->dgram_len) != l4_len))
		return drop(why, EGRESS_DROP_IP_LENGTH);
	m->l4_len = sizeof(*udp);
	m->src_port = udp->src_port;
	m->dst_port = udp->dst_port;
	if (unlikely(udp->src_port == 0 || udp->dst_port == 0))
		return drop(why, EGRESS_DROP_PORT_ZERO);
	if (unlikely(is_land(m)))
		return drop(why, EGRESS_DROP_IP_LAND);
	/* a zero checksum field: the sender computed none (RFC 768) */
	if (!(flags & PKT_F_L4_CKSUM_GOOD) && udp->dgram_cksum != 0 &&
	    unlikely(!l4_cksum_ok(ip, l4, l4_len)))
		return drop(why, EGRESS_DROP_L4_CHECKSUM);
	return 0;
}

static inline int
parse_icmp(const uint8_t *l4, uint32_t l4_len, uint32_t flags, struct pkt_meta *m,
	   enum egress_drop *why)
{
	const struct rte_icmp_hdr *icmp = (const struct rte_icmp_hdr *)l4;

	if (unlikely(l4_len < sizeof(*icmp)))
		return drop(why, EGRESS_DROP_L4_TRUNCATED);
	m->l4_len = sizeof(*icmp);
	m->icmp_type = icmp->icmp_type;
	m->icmp_code = icmp->icmp_code;
	/* the echo identifier plays the part of both ports (RFC 3022 2.2) */
	if (icmp->icmp_type == RTE_IP_ICMP_ECHO_REQUEST ||
	    icmp->icmp_type == RTE_IP_ICMP_ECHO_REPLY) {
		m->src_port = icmp->icmp_ident;
		m->dst_port = icmp->icmp_ident;
	}
	if (unlikely(is_land(m)))
		return drop(why, EGRESS_DROP_IP_LAND);
	/* RFC 792: over the whole message, no pseudo-header */
	if (!(flags & PKT_F_L4_CKSUM_GOOD) &&
	    unlikely(pkt_csum_fold(raw_cksum(l4, l4_len)) != CSUM_OK))
		return drop(why, EGRESS_DROP_L4_CHECKSUM);
	return 0;
}

static inline int
parse_ipv4(const uint8_t *frame, uint32_t len, uint32_t flags, struct pkt_meta *m,
	   enum egress_drop *why)
{
	const uint8_t *l3 = frame + m->l2_len;
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)l3;
	uint32_t avail = len - m->l2_len;
	uint32_t ihl, ip_len;

	if (unlikely(avail < sizeof(*ip)))
		return drop(why, EGRESS_DROP_IP_TRUNCATED);
	if (unlikely((ip->version_ihl >> 4) != IPVERSION))
		return drop(why, EGRESS_DROP_IP_VERSION);
	ihl = (uint32_t)(ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * RTE_IPV4_IHL_MULTIPLIER;
	if (unlikely(ihl < sizeof(*ip) || ihl > avail))
		return drop(why, EGRESS_DROP_IP_IHL);
	ip_len = rte_be_to_cpu_16(ip->total_length);
	/* more bytes than ip_len is an Ethernet trailer (padding): the caller trims */
	if (unlikely(ip_len < ihl || ip_len > avail))
		return drop(why, EGRESS_DROP_IP_LENGTH);
	if (!(flags & PKT_F_IP_CKSUM_GOOD) && unlikely(raw_cksum(l3, ihl) != CSUM_OK))
		return drop(why, EGRESS_DROP_IP_CHECKSUM);
	if (unlikely(ihl > sizeof(*ip))) {
		enum egress_drop r = ipv4_options_check(l3 + sizeof(*ip), ihl - sizeof(*ip));

		if (r != EGRESS_DROP_MAX)
			return drop(why, r);
	}
	m->l3_len = (uint16_t)ihl;
	m->ip_len = (uint16_t)ip_len;
	m->frame_len = m->l2_len + ip_len;
	m->proto = ip->next_proto_id;
	m->ttl = ip->time_to_live;
	m->src_ip = ip->src_addr;
	m->dst_ip = ip->dst_addr;
	if (unlikely(pkt_ipv4_martian(ip->src_addr)))
		return drop(why, EGRESS_DROP_IP_MARTIAN);
	if (unlikely(ip->fragment_offset &
		     rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)))
		return drop(why, EGRESS_DROP_IP_FRAGMENT);

	if (likely(ip->next_proto_id == IPPROTO_TCP))
		return parse_tcp(ip, l3 + ihl, ip_len - ihl, flags, m, why);
	if (ip->next_proto_id == IPPROTO_UDP)
		return parse_udp(ip, l3 + ihl, ip_len - ihl, flags, m, why);
	if (ip->next_proto_id == IPPROTO_ICMP)
		return parse_icmp(l3 + ihl, ip_len - ihl, flags, m, why);
	return drop(why, EGRESS_DROP_PROTO);
}

static int
parse_arp(const uint8_t *frame, uint32_t len, struct pkt_meta *m, enum egress_drop *why)
{
	const uint8_t *arp = frame + m->l2_len;
	uint16_t op;

	/* Ethernet/IPv4 only (RFC 826): 28 bytes, any trailer is padding */
	if (len - m->l2_len < sizeof(struct rte_arp_hdr) ||
	    load_be16(arp + offsetof(struct rte_arp_hdr, arp_hardware)) != RTE_ARP_HRD_ETHER ||
	    load_be16(arp + offsetof(struct rte_arp_hdr, arp_protocol)) != RTE_ETHER_TYPE_IPV4 ||
	    arp[offsetof(struct rte_arp_hdr, arp_hlen)] != RTE_ETHER_ADDR_LEN ||
	    arp[offsetof(struct rte_arp_hdr, arp_plen)] != sizeof(uint32_t))
		return drop(why, EGRESS_DROP_ARP_INVALID);
	op = load_be16(arp + offsetof(struct rte_arp_hdr, arp_opcode));
	if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)
		return drop(why, EGRESS_DROP_ARP_INVALID);
	m->arp_op = op;
	memcpy(m->arp_sha, arp + offsetof(struct rte_arp_hdr, arp_data.arp_sha),
	       sizeof(m->arp_sha));
	m->arp_sip = load_ne32(arp + offsetof(struct rte_arp_hdr, arp_data.arp_sip));
	m->arp_tip = load_ne32(arp + offsetof(struct rte_arp_hdr, arp_data.arp_tip));
	m->frame_len = m->l2_len + sizeof(struct rte_arp_hdr);
	return 0;
}

int
pkt_parse(const uint8_t *frame, uint32_t len, uint32_t flags, struct pkt_meta *m,
	  enum egress_drop *why)
{
	uint16_t ethertype;

	memset(m, 0, sizeof(*m));
	if (unlikely(len < RTE_ETHER_HDR_LEN))
		return drop(why, EGRESS_DROP_RUNT);
	m->l2_len = RTE_ETHER_HDR_LEN;
	ethertype = load_be16(frame + offsetof(struct rte_ether_hdr, ether_type));
	if (unlikely(ethertype == PKT_ETHERTYPE_VLAN)) {
		if (!(flags & PKT_F_ALLOW_VLAN))
			return drop(why, EGRESS_DROP_VLAN_TAGGED);
		/* one tag only: an inner 0x8100 (QinQ) is an unsupported ethertype */
		if (len < RTE_ETHER_HDR_LEN + sizeof(struct rte_vlan_hdr))
			return drop(why, EGRESS_DROP_RUNT);
		m->vlan_tci = load_be16(frame + RTE_ETHER_HDR_LEN +
					offsetof(struct rte_vlan_hdr, vlan_tci));
		ethertype = load_be16(frame + RTE_ETHER_HDR_LEN +
				      offsetof(struct rte_vlan_hdr, eth_proto));
		m->l2_len += sizeof(struct rte_vlan_hdr);
	}
	m->ethertype = ethertype;
	if (likely(ethertype == PKT_ETHERTYPE_IPV4))
		return parse_ipv4(frame, len, flags, m, why);
	if (ethertype == PKT_ETHERTYPE_ARP)
		return parse_arp(frame, len, m, why);
	return drop(why, EGRESS_DROP_ETHERTYPE);
}
