/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * egress-gen: Ethernet frames, as captured (no FCS). Every IPv4 header and
 * TCP checksum is valid; the TCP payload is a fixed pattern whose sum is
 * computed once per length. Frames shorter than Ethernet's minimum are padded
 * with a zero trailer to 60 bytes (64 on the wire).
 */
#include <string.h>

#include "gen.h"

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

static uint8_t payload_pattern[GEN_MAX_FRAME];
static uint32_t payload_sum[GEN_MAX_FRAME + 1];
static bool payload_sum_valid[GEN_MAX_FRAME + 1];

void
frame_payload_init(void)
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
uint32_t
frame_tcp(uint8_t *f, const struct tcp_seg *s)
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
	sum = (s->src >> 16) + (s->src & 0xffff) + (s->dst >> 16) + (s->dst & 0xffff) + 6 + tcp_len;
	sum = csum_add(sum, tcp, GEN_TCP_LEN + opt);
	sum += payload_csum(s->payload);
	put16(tcp + 16, csum_fold(sum));
	if (cap > frame)
		memset(f + frame, 0, cap - frame);
	return cap;
}

/* ARP request: sender (sha, sip) asks who has tip; broadcast. */
uint32_t
frame_arp(uint8_t *f, const uint8_t *sha, uint32_t sip, uint32_t tip)
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
	put16(a + 6, 1); /* request */
	memcpy(a + 8, sha, 6);
	put32(a + 14, sip);
	memset(a + 18, 0, 6);
	put32(a + 24, tip);
	memset(f + GEN_ETH_LEN + GEN_ARP_LEN, 0, cap - GEN_ETH_LEN - GEN_ARP_LEN);
	return cap;
}
