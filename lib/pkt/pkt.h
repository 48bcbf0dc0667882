/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parsing and checksum arithmetic: pure functions on bytes, no state,
 * no allocation, callable from any lcore. Every length is checked before it is
 * read; a frame that fails a check gets exactly one drop reason.
 */
#ifndef EGRESS_PKT_H
#define EGRESS_PKT_H

#include <stdbool.h>
#include <stdint.h>

#include "drop.h"

/* pkt_parse() flags */
#define PKT_F_IP_CKSUM_GOOD (1u << 0) /**< NIC verified the IPv4 header checksum */
#define PKT_F_L4_CKSUM_GOOD (1u << 1) /**< NIC verified the L4 checksum */
#define PKT_F_ALLOW_VLAN    (1u << 2) /**< accept one 802.1Q tag (tagged port) */

/* TCP flags as in the header's 13th byte */
#define PKT_TCP_FIN 0x01
#define PKT_TCP_SYN 0x02
#define PKT_TCP_RST 0x04
#define PKT_TCP_PSH 0x08
#define PKT_TCP_ACK 0x10
#define PKT_TCP_URG 0x20
#define PKT_TCP_ECE 0x40
#define PKT_TCP_CWR 0x80

#define PKT_WSCALE_NONE 0xff

#define PKT_ETHERTYPE_IPV4 0x0800
#define PKT_ETHERTYPE_ARP  0x0806
#define PKT_ETHERTYPE_VLAN 0x8100

/** What the parser learnt of a frame. Addresses and ports in network order. */
struct pkt_meta {
	uint16_t ethertype; /**< host order, after any 802.1Q tag */
	uint16_t vlan_tci;  /**< host order; 0 when untagged */
	uint16_t l2_len;    /**< Ethernet header incl. tag */
	uint16_t l3_len;    /**< IPv4 header incl. options */
	uint16_t l4_len;    /**< TCP header incl. options, 8 for UDP/ICMP */
	uint16_t ip_len;    /**< IPv4 total length, host order */
	uint32_t frame_len; /**< l2_len + ip_len: bytes to keep (trailer trimmed) */
	uint8_t proto;      /**< IPPROTO_TCP/UDP/ICMP */
	uint8_t ttl;
	uint8_t tcp_flags; /**< TCP: flags byte */
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint16_t tcp_mss_off; /**< TCP SYN: offset of the MSS option value from
				      the frame start, 0 when absent */
	uint32_t src_ip;
	uint32_t dst_ip;
	uint16_t src_port;  /**< TCP/UDP port; ICMP echo: identifier */
	uint16_t dst_port;  /**< TCP/UDP port; ICMP echo: identifier */
	uint32_t tcp_seq;   /**< host order */
	uint32_t tcp_ack;   /**< host order */
	uint16_t tcp_win;   /**< host order, unscaled */
	uint8_t tcp_wscale; /**< SYN: window scale option (capped at 14);
				      PKT_WSCALE_NONE when absent or not a SYN */
	/* ARP (ethertype 0x0806) */
	uint16_t arp_op; /**< host order: 1 request, 2 reply */
	uint8_t arp_sha[6];
	uint32_t arp_sip;
	uint32_t arp_tip;
};

/**
 * Parse an Ethernet frame: Ethernet, optional 802.1Q, then ARP or IPv4 with
 * TCP, UDP or ICMP. Verifies lengths, IHL, options, checksums (unless flags
 * say the NIC did), TCP data offset, options and flag combinations, ports,
 * martian and land sources, fragments.
 *
 * Checks run in this order, the first failing one names the reason: Ethernet
 * (RUNT, VLAN_TAGGED, ETHERTYPE); ARP (ARP_INVALID); IPv4 (IP_TRUNCATED,
 * IP_VERSION, IP_IHL, IP_LENGTH, IP_CHECKSUM, then the options: IP_SOURCE_ROUTE
 * or IP_OPTIONS, IP_MARTIAN, IP_FRAGMENT); L4 (PROTO, L4_TRUNCATED; TCP:
 * TCP_DOFF, TCP_OPTIONS, TCP_FLAGS; UDP: IP_LENGTH when its length field is
 * not the IP payload length; PORT_ZERO for TCP/UDP; IP_LAND when source and
 * destination address and port are equal, for TCP, UDP and ICMP, whose ports
 * are the echo identifier or 0; L4_CHECKSUM).
 * Bytes beyond frame_len are an Ethernet trailer, not an error.
 *
 * Thread-safe; reads at most len bytes of frame, writes only *m and *why.
 *
 * @return 0 when m describes a valid ARP or IPv4 frame; -EINVAL with *why set
 *         otherwise (ethertypes other than IPv4 and ARP: EGRESS_DROP_ETHERTYPE).
 *         m is zeroed first and, on error, holds what was parsed before the
 *         failing check.
 */
int pkt_parse(const uint8_t *frame, uint32_t len, uint32_t flags, struct pkt_meta *m,
	      enum egress_drop *why);

/**
 * True for TCP flag combinations no valid segment carries: none of SYN, RST
 * and ACK (null, XMAS, FIN/PSH/URG alone), FIN without ACK, SYN with FIN or
 * RST, RST with FIN. PSH, URG, ECE and CWR never make a combination invalid.
 */
bool pkt_tcp_flags_invalid(uint8_t flags);

/**
 * One's-complement sum of len bytes added to sum (not folded). When a buffer
 * is summed in pieces, every piece but the last must have an even length.
 */
uint32_t pkt_csum_partial(const void *buf, uint32_t len, uint32_t sum);

/** Fold a 32-bit one's-complement sum to 16 bits (not complemented). */
static inline uint16_t
pkt_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/**
 * RFC 1624 eqn. 3 incremental update: the checksum field *csum covers a 16-bit
 * word that changes from old to new. All three values as stored in the packet.
 * UDP: leave a zero checksum (none) alone, and store a result of 0 as 0xffff
 * (RFC 768).
 */
static inline void
pkt_csum_update16(uint16_t *csum, uint16_t old, uint16_t new)
{
	uint32_t sum = (uint16_t) ~*csum + (uint32_t)(uint16_t)~old + new;

	*csum = (uint16_t)~pkt_csum_fold(sum);
}

/** As pkt_csum_update16() for a 32-bit word (an IPv4 address). */
static inline void
pkt_csum_update32(uint16_t *csum, uint32_t old, uint32_t new)
{
	uint32_t sum = (uint16_t) ~*csum;

	sum += (uint16_t) ~(old >> 16) + (uint16_t) ~(old & 0xffff);
	sum += (new >> 16) + (new & 0xffff);
	*csum = (uint16_t)~pkt_csum_fold(sum);
}

/**
 * Several fields changing under one checksum: sum the changes with
 * pkt_csum_delta16()/pkt_csum_delta32() (old and new values as stored in the
 * packet), then apply them once with pkt_csum_adjust(), which returns the new
 * checksum field. Same result as one pkt_csum_update*() per field, with one
 * load and one store of the field (RFC 1624 eqn. 3 over the sum).
 */
static inline uint32_t
pkt_csum_delta16(uint16_t old, uint16_t new)
{
	return (uint32_t)(uint16_t)~old + new;
}

static inline uint32_t
pkt_csum_delta32(uint32_t old, uint32_t new)
{
	return (uint32_t)(uint16_t) ~(old >> 16) + (uint16_t) ~(old & 0xffff) + (new >> 16) +
	       (new & 0xffff);
}

/** The checksum field after changes whose deltas sum to delta (< 2^31). */
static inline uint16_t
pkt_csum_adjust(uint16_t csum, uint32_t delta)
{
	return (uint16_t)~pkt_csum_fold((uint16_t)~csum + delta);
}

/**
 * Checksum of an IPv4 header of l3_len bytes (field itself included as is):
 * 0 for a correct header; over a header whose field is zero, the value to store.
 */
uint16_t pkt_ipv4_hdr_cksum(const uint8_t *ip, uint16_t l3_len);

/**
 * TCP/UDP checksum of the L4 segment that follows the IPv4 header at ip
 * (pseudo-header included), as it should be stored. The checksum field is
 * taken as zero. IPPROTO_ICMP works too (no pseudo-header); other protocols,
 * or ip_len < l3_len, return 0. A UDP result of 0 is returned as 0xffff.
 */
uint16_t pkt_l4_cksum(const uint8_t *ip, uint16_t l3_len, uint16_t ip_len, uint8_t proto);

/** True when addr (network order) is no valid unicast source. */
static inline bool
pkt_ipv4_martian(uint32_t addr)
{
	/* the first octet: the lowest-addressed byte of the stored word */
	uint8_t first = ((const uint8_t *)&addr)[0];

	/*
	 * RFC 1122 3.2.1.3 / RFC 6890: "this network" 0/8, loopback 127/8,
	 * multicast 224/4 and reserved 240/4 (limited broadcast included).
	 */
	return first == 0 || first == 127 || first >= 224;
}

#endif
