/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/pkt. Frames are crafted byte by byte by a small builder
 * whose checksums come from a byte-wise reference sum (independent of the
 * library and of DPDK); the checksum helpers are then also checked against
 * DPDK's rte_ipv4_cksum() / rte_ipv4_udptcp_cksum(). Every frame handed to
 * pkt_parse() is an exact-size heap copy, so that a sanitizer build catches
 * any read past its end. No EAL: pkt is pure functions on bytes.
 */
#include "test_common.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>

#include "drop.h"
#include "pkt.h"

#define FB_MAX 2048

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

#define CLIENT_IP  IP(10, 8, 0, 2)
#define SERVER_IP  IP(10, 59, 118, 59)
#define CLIENT_MSS 1460

/* ---- frame builder ---------------------------------------------------- */

struct fb {
	uint8_t buf[FB_MAX];
	uint32_t len; /**< bytes written */
	uint32_t l3;  /**< offset of the IPv4 or ARP header */
	uint32_t l4;  /**< offset of the L4 header */
};

static const uint8_t gw_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t client_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };

static void
put8(struct fb *f, uint8_t v)
{
	assert_true(f->len < FB_MAX);
	f->buf[f->len++] = v;
}

static void
put16(struct fb *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static void
put32(struct fb *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

static void
put(struct fb *f, const void *p, size_t n)
{
	assert_true(f->len + n <= FB_MAX);
	if (n == 0)
		return; /* p may be NULL */
	memcpy(f->buf + f->len, p, n);
	f->len += (uint32_t)n;
}

static void
set16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Ethernet header; tci < 0: untagged. */
static void
fb_eth(struct fb *f, uint16_t ethertype, int tci)
{
	memset(f, 0, sizeof(*f));
	put(f, gw_mac, 6);
	put(f, client_mac, 6);
	if (tci >= 0) {
		put16(f, PKT_ETHERTYPE_VLAN);
		put16(f, (uint16_t)tci);
	}
	put16(f, ethertype);
	f->l3 = f->len;
}

/* IPv4 header, total length and checksum left for fb_finish(). */
static void
fb_ipv4(struct fb *f, uint8_t proto, uint32_t src, uint32_t dst, const uint8_t *opt, size_t optlen)
{
	assert_int_equal(optlen % 4, 0);
	put8(f, (uint8_t)(0x40 | (5 + optlen / 4)));
	put8(f, 0);       /* TOS */
	put16(f, 0);      /* total length */
	put16(f, 0x1234); /* id */
	put16(f, 0x4000); /* DF */
	put8(f, 64);      /* TTL */
	put8(f, proto);
	put16(f, 0); /* checksum */
	put32(f, src);
	put32(f, dst);
	put(f, opt, optlen);
	f->l4 = f->len;
}

static void
fb_tcp(struct fb *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
       const uint8_t *opt, size_t optlen)
{
	assert_int_equal(optlen % 4, 0);
	put16(f, sport);
	put16(f, dport);
	put32(f, seq);
	put32(f, ack);
	put8(f, (uint8_t)((5 + optlen / 4) << 4));
	put8(f, flags);
	put16(f, 65535); /* window */
	put16(f, 0);     /* checksum */
	put16(f, 0);     /* urgent pointer */
	put(f, opt, optlen);
}

static void
fb_udp(struct fb *f, uint16_t sport, uint16_t dport)
{
	put16(f, sport);
	put16(f, dport);
	put16(f, 0); /* length */
	put16(f, 0); /* checksum */
}

static void
fb_icmp(struct fb *f, uint8_t type, uint8_t code, uint16_t id, uint16_t seq)
{
	put8(f, type);
	put8(f, code);
	put16(f, 0);
	put16(f, id);
	put16(f, seq);
}

static void
fb_arp(struct fb *f, uint16_t op, uint32_t sip, uint32_t tip)
{
	put16(f, 1); /* Ethernet */
	put16(f, PKT_ETHERTYPE_IPV4);
	put8(f, 6);
	put8(f, 4);
	put16(f, op);
	put(f, client_mac, 6);
	put32(f, sip);
	put(f, op == 1 ? (const uint8_t[6]){ 0 } : gw_mac, 6);
	put32(f, tip);
}

/* Reference one's-complement sum, big-endian byte pairs, host-order result. */
static uint32_t
ref_sum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i < n; i++)
		sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	return sum;
}

static uint16_t
ref_cksum(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint8_t *
fb_ip(struct fb *f)
{
	return f->buf + f->l3;
}

static uint32_t
fb_ihl(struct fb *f)
{
	return (uint32_t)(fb_ip(f)[0] & 0xf) * 4;
}

static void
fb_fix_ip(struct fb *f)
{
	uint8_t *ip = fb_ip(f);

	set16(ip + 10, 0);
	set16(ip + 10, ref_cksum(ref_sum(ip, fb_ihl(f), 0)));
}

/* Recompute the L4 checksum for the IP total length now in the header. */
static void
fb_fix_l4(struct fb *f)
{
	uint8_t *ip = fb_ip(f);
	uint8_t proto = ip[9];
	uint8_t *l4 = ip + fb_ihl(f);
	uint32_t n = get16(ip + 2) - fb_ihl(f);
	uint32_t off = proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2;
	uint32_t sum = 0;
	uint16_t c;

	if (n < off + 2)
		return;
	set16(l4 + off, 0);
	if (proto != IPPROTO_ICMP)
		sum = ref_sum(ip + 12, 8, 0) + proto + n;
	c = ref_cksum(ref_sum(l4, n, sum));
	if (proto == IPPROTO_UDP && c == 0)
		c = 0xffff;
	set16(l4 + off, c);
}

/* Lengths and checksums of an IPv4 frame whose last byte is the last written. */
static void
fb_finish(struct fb *f)
{
	uint8_t *ip = fb_ip(f);

	set16(ip + 2, (uint16_t)(f->len - f->l3));
	if (ip[9] == IPPROTO_UDP)
		set16(f->buf + f->l4 + 4, (uint16_t)(f->len - f->l4));
	fb_fix_ip(f);
	fb_fix_l4(f);
}

/* ---- templates -------------------------------------------------------- */

static const uint8_t syn_opts[20] = {
	2,
	4,
	CLIENT_MSS >> 8,
	CLIENT_MSS & 0xff, /* MSS */
	4,
	2, /* SACK permitted */
	8,
	10,
	0,
	0,
	0,
	1,
	0,
	0,
	0,
	0, /* timestamps */
	1, /* NOP */
	3,
	3,
	7, /* window scale */
};

static void
tcp_syn(struct fb *f, int tci)
{
	fb_eth(f, PKT_ETHERTYPE_IPV4, tci);
	fb_ipv4(f, IPPROTO_TCP, CLIENT_IP, SERVER_IP, NULL, 0);
	fb_tcp(f, 40000, 6379, 0x01020304, 0, PKT_TCP_SYN, syn_opts, sizeof(syn_opts));
	fb_finish(f);
}

static void
tcp_data(struct fb *f)
{
	static const char cmd[] = "*2\r\n$3\r\nGET\r\n$2\r\nab\r\n"; /* odd length */

	fb_eth(f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(f, IPPROTO_TCP, CLIENT_IP, SERVER_IP, NULL, 0);
	fb_tcp(f, 40000, 6379, 0x01020305, 0xa0b0c0d0, PKT_TCP_ACK | PKT_TCP_PSH, NULL, 0);
	put(f, cmd, sizeof(cmd) - 1);
	fb_finish(f);
}

static void
udp_dns(struct fb *f)
{
	static const uint8_t q[] = { 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0 };

	fb_eth(f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(f, IPPROTO_UDP, CLIENT_IP, IP(10, 8, 0, 53), NULL, 0);
	fb_udp(f, 33333, 53);
	put(f, q, sizeof(q));
	fb_finish(f);
}

static void
icmp_echo(struct fb *f, uint8_t type)
{
	static const char data[] = "abcdefghijklmnopqrstu";

	fb_eth(f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(f, IPPROTO_ICMP, CLIENT_IP, IP(10, 8, 0, 1), NULL, 0);
	fb_icmp(f, type, 0, 0x4242, 7);
	put(f, data, sizeof(data) - 1);
	fb_finish(f);
}

static void
arp(struct fb *f, uint16_t op, int tci)
{
	fb_eth(f, PKT_ETHERTYPE_ARP, tci);
	fb_arp(f, op, CLIENT_IP, IP(10, 8, 0, 1));
}

/* ---- parse helpers ---------------------------------------------------- */

static int
parse_n(const uint8_t *buf, uint32_t len, uint32_t flags, struct pkt_meta *m, enum egress_drop *why)
{
	/* exact size: ASan reports any read beyond len */
	uint8_t *p = malloc(len ? len : 1);
	int rc;

	assert_non_null(p);
	memcpy(p, buf, len);
	*why = EGRESS_DROP_MAX;
	rc = pkt_parse(p, len, flags, m, why);
	free(p);
	return rc;
}

static int
parse(const struct fb *f, uint32_t flags, struct pkt_meta *m, enum egress_drop *why)
{
	return parse_n(f->buf, f->len, flags, m, why);
}

static void
expect_ok(const struct fb *f, uint32_t flags, struct pkt_meta *m)
{
	enum egress_drop why;
	int rc = parse(f, flags, m, &why);

	if (rc != 0)
		fail_msg("dropped: %s", egress_drop_name(why));
	assert_int_equal(why, EGRESS_DROP_MAX);
}

/* A macro so that cmocka reports the caller's line. */
#define expect_drop(f, flags, reason)                                                              \
	do {                                                                                       \
		struct pkt_meta m_;                                                                \
		enum egress_drop why_;                                                             \
		assert_int_equal(parse((f), (flags), &m_, &why_), -EINVAL);                        \
		assert_string_equal(egress_drop_name(why_), egress_drop_name(reason));             \
	} while (0)

/* ---- valid frames ----------------------------------------------------- */

static void
test_tcp_syn(void **state)
{
	struct pkt_meta m;
	struct fb f;

	(void)state;
	tcp_syn(&f, -1);
	expect_ok(&f, 0, &m);
	assert_int_equal(m.ethertype, PKT_ETHERTYPE_IPV4);
	assert_int_equal(m.vlan_tci, 0);
	assert_int_equal(m.l2_len, 14);
	assert_int_equal(m.l3_len, 20);
	assert_int_equal(m.l4_len, 40);
	assert_int_equal(m.ip_len, 60);
	assert_int_equal(m.frame_len, 74);
	assert_int_equal(m.frame_len, f.len);
	assert_int_equal(m.proto, IPPROTO_TCP);
	assert_int_equal(m.ttl, 64);
	assert_int_equal(m.tcp_flags, PKT_TCP_SYN);
	assert_int_equal(m.icmp_type, 0);
	assert_int_equal(m.icmp_code, 0);
	assert_int_equal(m.tcp_mss_off, 14 + 20 + 20 + 2);
	assert_int_equal(get16(f.buf + m.tcp_mss_off), CLIENT_MSS);
	assert_int_equal(m.src_ip, rte_cpu_to_be_32(CLIENT_IP));
	assert_int_equal(m.dst_ip, rte_cpu_to_be_32(SERVER_IP));
	assert_int_equal(m.src_port, rte_cpu_to_be_16(40000));
	assert_int_equal(m.dst_port, rte_cpu_to_be_16(6379));
	assert_int_equal(m.tcp_seq, 0x01020304);
	assert_int_equal(m.tcp_ack, 0);
	assert_int_equal(m.arp_op, 0);
	assert_int_equal(m.arp_sip, 0);
	assert_int_equal(m.arp_tip, 0);
}

static void
test_tcp_data(void **state)
{
	struct pkt_meta m;
	struct fb f;

	(void)state;
	tcp_data(&f);
	expect_ok(&f, 0, &m);
	assert_int_equal(m.l4_len, 20);
	assert_int_equal(m.ip_len, 20 + 20 + 21);
	assert_int_equal(m.frame_len, f.len);
	assert_int_equal(m.tcp_flags, PKT_TCP_ACK | PKT_TCP_PSH);
	assert_int_equal(m.tcp_mss_off, 0);
	assert_int_equal(m.tcp_seq, 0x01020305);
	assert_int_equal(m.tcp_ack, 0xa0b0c0d0);
	/* PSH/URG/ECE/CWR on an ACK segment are fine */
	f.buf[f.l4 + 13] |= PKT_TCP_URG | PKT_TCP_ECE | PKT_TCP_CWR;
	fb_fix_l4(&f);
	expect_ok(&f, 0, &m);
}

static void
test_tcp_mss(void **state)
{
	static const uint8_t late_mss[8] = { 1, 1, 4, 2, 2, 4, 0x02, 0x18 }; /* MSS 536 */
	static const uint8_t after_eol[8] = { 0, 2, 4, 0x05, 0xb4, 0xff, 0x00, 0xee };
	static const uint8_t bad_len_mss[8] = { 2, 3, 0, 1, 1, 1, 1, 1 };
	struct pkt_meta m;
	struct fb f;

	(void)state;
	/* SYN+ACK records it too */
	fb_eth(&f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(&f, IPPROTO_TCP, SERVER_IP, CLIENT_IP, NULL, 0);
	fb_tcp(&f, 6379, 40000, 1, 2, PKT_TCP_SYN | PKT_TCP_ACK, late_mss, sizeof(late_mss));
	fb_finish(&f);
	expect_ok(&f, 0, &m);
	assert_int_equal(m.tcp_mss_off, 14 + 20 + 20 + 6);
	assert_int_equal(get16(f.buf + m.tcp_mss_off), 536);

	/* not on a segment without SYN */
	fb_eth(&f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(&f, IPPROTO_TCP, CLIENT_IP, SERVER_IP, NULL, 0);
	fb_tcp(&f, 40000, 6379, 1, 2, PKT_TCP_ACK, late_mss, sizeof(late_mss));
	fb_finish(&f);
	expect_ok(&f, 0, &m);
	assert_int_equal(m.tcp_mss_off, 0);

	/* EOL ends the list: what follows is not looked at */
	fb_eth(&f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(&f, IPPROTO_TCP, CLIENT_IP, SERVER_IP, NULL, 0);
	fb_tcp(&f, 40000, 6379, 1, 0, PKT_TCP_SYN, after_eol, sizeof(after_eol));
	fb_finish(&f);
	expect_ok(&f, 0, &m);
	assert_int_equal(m.tcp_mss_off, 0);

	/* an MSS option of another length is not an MSS (RFC 9293 3.2) */
	fb_eth(&f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(&f, IPPROTO_TCP, CLIENT_IP, SERVER_IP, NULL, 0);
	fb_tcp(&f, 40000, 6379, 1, 0, PKT_TCP_SYN, bad_len_mss, sizeof(bad_len_mss));
	fb_finish(&f);
	expect_ok(&f, 0, &m);
	assert_int_equal(m.tcp_mss_off, 0);

	/* SYN with ECN set-up (RFC 3168) */
	tcp_syn(&f, -1);
	f.buf[f.l4 + 13] |= PKT_TCP_ECE | PKT_TCP_CWR;
	fb_fix_l4(&f);
	expect_ok(&f, 0, &m);
	assert_int_equal(m.tcp_flags, PKT_TCP_SYN | PKT_TCP_ECE | PKT_TCP_CWR);
	assert_int_equal(m.tcp_mss_off, 56);
}

static void
test_udp(void **state)
{
	struct pkt_meta m;
	struct fb f;

	(void)state;
	udp_dns(&f);
	expect_ok(&f, 0, &m);
	assert_int_equal(m.proto, IPPROTO_UDP);
	assert_int_equal(m.l3_len, 20);
	assert_int_equal(m.l4_len, 8);
	assert_int_equal(m.ip_len, 20 + 8 + 15);
	assert_int_equal(m.frame_len, f.len);
	assert_int_equal(m.src_port, rte_cpu_to_be_16(33333));
	assert_int_equal(m.dst_port, rte_cpu_to_be_16(53));
	assert_int_equal(m.dst_ip, rte_cpu_to_be_32(IP(10, 8, 0, 53)));
	assert_int_equal(m.tcp_flags, 0);
	assert_int_equal(m.tcp_seq, 0);
	assert_int_equal(m.tcp_mss_off, 0);

	/* checksum 0: none computed */
	set16(f.buf + f.l4 + 6, 0);
	expect_ok(&f, 0, &m);
}

static void
test_icmp(void **state)
{
	static const uint8_t zero_reply[8] = { 0, 0, 0xff, 0xff, 0, 0, 0, 0 };
	struct pkt_meta m;
	struct fb f;

	(void)state;
	icmp_echo(&f, 8); /* echo request */
	expect_ok(&f, 0, &m);
	assert_int_equal(m.proto, IPPROTO_ICMP);
	assert_int_equal(m.l4_len, 8);
	assert_int_equal(m.icmp_type, 8);
	assert_int_equal(m.icmp_code, 0);
	assert_int_equal(m.src_port, rte_cpu_to_be_16(0x4242));
	assert_int_equal(m.dst_port, rte_cpu_to_be_16(0x4242));
	assert_int_equal(m.frame_len, f.len);

	icmp_echo(&f, 0); /* echo reply */
	expect_ok(&f, 0, &m);
	assert_int_equal(m.icmp_type, 0);
	assert_int_equal(m.src_port, rte_cpu_to_be_16(0x4242));

	/* destination unreachable: parsed, no identifier */
	fb_eth(&f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(&f, IPPROTO_ICMP, SERVER_IP, CLIENT_IP, NULL, 0);
	fb_icmp(&f, 3, 3, 0, 0);
	put(&f, fb_ip(&f), 28); /* quote of some IP header + 8 bytes */
	fb_finish(&f);
	expect_ok(&f, 0, &m);
	assert_int_equal(m.icmp_type, 3);
	assert_int_equal(m.icmp_code, 3);
	assert_int_equal(m.src_port, 0);
	assert_int_equal(m.dst_port, 0);

	/* an all-zero echo reply: only 0xffff verifies, and the library says so */
	fb_eth(&f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(&f, IPPROTO_ICMP, CLIENT_IP, IP(10, 8, 0, 1), NULL, 0);
	put(&f, zero_reply, sizeof(zero_reply));
	set16(fb_ip(&f) + 2, 28);
	fb_fix_ip(&f);
	expect_ok(&f, 0, &m);
	assert_int_equal(pkt_l4_cksum(fb_ip(&f), 20, 28, IPPROTO_ICMP), 0xffff);
}

static void
test_arp(void **state)
{
	static const uint8_t pad[18];
	struct pkt_meta m;
	struct fb f;

	(void)state;
	arp(&f, 1, -1);
	expect_ok(&f, 0, &m);
	assert_int_equal(m.ethertype, PKT_ETHERTYPE_ARP);
	assert_int_equal(m.l2_len, 14);
	assert_int_equal(m.frame_len, 42);
	assert_int_equal(m.arp_op, 1);
	assert_memory_equal(m.arp_sha, client_mac, 6);
	assert_int_equal(m.arp_sip, rte_cpu_to_be_32(CLIENT_IP));
	assert_int_equal(m.arp_tip, rte_cpu_to_be_32(IP(10, 8, 0, 1)));
	assert_int_equal(m.proto, 0);
	assert_int_equal(m.ip_len, 0);

	/* reply, padded to the Ethernet minimum: the trailer is not ARP */
	arp(&f, 2, -1);
	put(&f, pad, sizeof(pad));
	assert_int_equal(f.len, 60);
	expect_ok(&f, 0, &m);
	assert_int_equal(m.arp_op, 2);
	assert_int_equal(m.frame_len, 42);

	/* tagged */
	arp(&f, 1, 5);
	expect_ok(&f, PKT_F_ALLOW_VLAN, &m);
	assert_int_equal(m.l2_len, 18);
	assert_int_equal(m.vlan_tci, 5);
	assert_int_equal(m.frame_len, 46);
	assert_int_equal(m.arp_sip, rte_cpu_to_be_32(CLIENT_IP));
}

static void
test_vlan(void **state)
{
	struct pkt_meta m;
	struct fb f;

	(void)state;
	tcp_syn(&f, 0xa00a); /* PCP 5, VID 10 */
	expect_drop(&f, 0, EGRESS_DROP_VLAN_TAGGED);
	expect_ok(&f, PKT_F_ALLOW_VLAN, &m);
	assert_int_equal(m.vlan_tci, 0xa00a);
	assert_int_equal(m.ethertype, PKT_ETHERTYPE_IPV4);
	assert_int_equal(m.l2_len, 18);
	assert_int_equal(m.frame_len, f.len);
	assert_int_equal(m.tcp_mss_off, 18 + 20 + 20 + 2);
	assert_int_equal(get16(f.buf + m.tcp_mss_off), CLIENT_MSS);

	/* untagged frames still pass on a tagged port */
	tcp_syn(&f, -1);
	expect_ok(&f, PKT_F_ALLOW_VLAN, &m);
	assert_int_equal(m.vlan_tci, 0);
	assert_int_equal(m.l2_len, 14);

	/* tag cut short: runt; but an untagged port says "tagged" first */
	tcp_syn(&f, 10);
	for (uint32_t len = 14; len < 18; len++) {
		struct pkt_meta mm;
		enum egress_drop why;

		assert_int_equal(parse_n(f.buf, len, PKT_F_ALLOW_VLAN, &mm, &why), -EINVAL);
		assert_int_equal(why, EGRESS_DROP_RUNT);
		assert_int_equal(parse_n(f.buf, len, 0, &mm, &why), -EINVAL);
		assert_int_equal(why, EGRESS_DROP_VLAN_TAGGED);
	}

	/* one tag only: QinQ's inner tag is an unknown ethertype */
	fb_eth(&f, PKT_ETHERTYPE_VLAN, 10);
	put16(&f, 20);
	put16(&f, PKT_ETHERTYPE_IPV4);
	expect_drop(&f, PKT_F_ALLOW_VLAN, EGRESS_DROP_ETHERTYPE);
}

static void
test_trailer(void **state)
{
	static const uint8_t trailer[6] = { 0xde, 0xad, 0xbe, 0xef, 0, 0 };
	struct pkt_meta m;
	struct fb f;

	(void)state;
	/* a bare ACK is 54 bytes: Ethernet pads it to 60 */
	fb_eth(&f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(&f, IPPROTO_TCP, CLIENT_IP, SERVER_IP, NULL, 0);
	fb_tcp(&f, 40000, 6379, 5, 6, PKT_TCP_ACK, NULL, 0);
	fb_finish(&f);
	put(&f, trailer, sizeof(trailer));
	expect_ok(&f, 0, &m);
	assert_int_equal(f.len, 60);
	assert_int_equal(m.frame_len, 54);
	assert_int_equal(m.ip_len, 40);

	udp_dns(&f);
	put(&f, trailer, sizeof(trailer));
	expect_ok(&f, 0, &m);
	assert_int_equal(m.frame_len, f.len - sizeof(trailer));
}

/* ---- drop reasons, in check order ------------------------------------- */

static void
test_runt(void **state)
{
	struct fb f;

	(void)state;
	tcp_syn(&f, -1);
	for (uint32_t len = 0; len < 14; len++) {
		struct pkt_meta m;
		enum egress_drop why;

		assert_int_equal(parse_n(f.buf, len, 0, &m, &why), -EINVAL);
		assert_int_equal(why, EGRESS_DROP_RUNT);
	}
}

static void
test_ethertype(void **state)
{
	struct fb f;

	(void)state;
	fb_eth(&f, 0x86dd, -1); /* IPv6 */
	put(&f, (const uint8_t[40]){ 0x60 }, 40);
	expect_drop(&f, 0, EGRESS_DROP_ETHERTYPE);
	expect_drop(&f, PKT_F_ALLOW_VLAN, EGRESS_DROP_ETHERTYPE);
	fb_eth(&f, 0x88a8, -1); /* 802.1ad outer tag */
	put16(&f, 10);
	put16(&f, PKT_ETHERTYPE_IPV4);
	expect_drop(&f, PKT_F_ALLOW_VLAN, EGRESS_DROP_ETHERTYPE);
	fb_eth(&f, 0x0806 + 1, -1);
	expect_drop(&f, 0, EGRESS_DROP_ETHERTYPE);
}

static void
test_arp_invalid(void **state)
{
	static const struct {
		uint32_t off;
		uint8_t val;
	} bad[] = {
		{ 0, 1 },    { 1, 6 },                        /* htype 257, 6 (IEEE 802) */
		{ 2, 0x86 }, { 3, 0xdd },                     /* ptype */
		{ 4, 8 },                                     /* hlen */
		{ 5, 16 },                                    /* plen */
		{ 7, 0 },    { 7, 3 },    { 7, 4 }, { 6, 1 }, /* op 0, 3 (RARP), 4, 257 */
	};
	struct fb f;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		arp(&f, 1, -1);
		f.buf[f.l3 + bad[i].off] = bad[i].val;
		expect_drop(&f, 0, EGRESS_DROP_ARP_INVALID);
	}
	for (uint32_t len = 14; len < 42; len++) {
		struct pkt_meta m;
		enum egress_drop why;

		arp(&f, 2, -1);
		assert_int_equal(parse_n(f.buf, len, 0, &m, &why), -EINVAL);
		assert_int_equal(why, EGRESS_DROP_ARP_INVALID);
	}
}

static void
test_ip_truncated(void **state)
{
	struct fb f;

	(void)state;
	tcp_syn(&f, -1);
	for (uint32_t len = 14; len < 34; len++) {
		struct pkt_meta m;
		enum egress_drop why;

		assert_int_equal(parse_n(f.buf, len, 0, &m, &why), -EINVAL);
		assert_int_equal(why, EGRESS_DROP_IP_TRUNCATED);
	}
}

static void
test_ip_version(void **state)
{
	struct fb f;

	(void)state;
	for (unsigned int v = 0; v < 16; v++) {
		if (v == 4)
			continue;
		tcp_syn(&f, -1);
		fb_ip(&f)[0] = (uint8_t)(v << 4 | 5);
		fb_fix_ip(&f);
		expect_drop(&f, 0, EGRESS_DROP_IP_VERSION);
	}
}

static void
test_ip_ihl(void **state)
{
	struct fb f;

	(void)state;
	for (unsigned int ihl = 0; ihl < 5; ihl++) {
		tcp_syn(&f, -1);
		fb_ip(&f)[0] = (uint8_t)(0x40 | ihl);
		expect_drop(&f, PKT_F_IP_CKSUM_GOOD, EGRESS_DROP_IP_IHL);
	}
	/* IHL 15 (60 bytes) with only 50 bytes after the Ethernet header */
	fb_eth(&f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(&f, IPPROTO_UDP, CLIENT_IP, SERVER_IP, NULL, 0);
	fb_udp(&f, 1000, 53);
	put(&f, (const uint8_t[22]){ 0 }, 22);
	fb_finish(&f);
	fb_ip(&f)[0] = 0x4f;
	expect_drop(&f, PKT_F_IP_CKSUM_GOOD, EGRESS_DROP_IP_IHL);
}

static void
test_ip_length(void **state)
{
	struct fb f;

	(void)state;
	/* below the header length */
	tcp_syn(&f, -1);
	set16(fb_ip(&f) + 2, 19);
	fb_fix_ip(&f);
	expect_drop(&f, 0, EGRESS_DROP_IP_LENGTH);
	set16(fb_ip(&f) + 2, 0);
	fb_fix_ip(&f);
	expect_drop(&f, 0, EGRESS_DROP_IP_LENGTH);
	/* beyond the frame */
	tcp_syn(&f, -1);
	set16(fb_ip(&f) + 2, (uint16_t)(f.len - f.l3 + 1));
	fb_fix_ip(&f);
	expect_drop(&f, 0, EGRESS_DROP_IP_LENGTH);
	set16(fb_ip(&f) + 2, 0xffff);
	fb_fix_ip(&f);
	expect_drop(&f, 0, EGRESS_DROP_IP_LENGTH);
	/* options make the header longer than the total length */
	fb_eth(&f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(&f, IPPROTO_TCP, CLIENT_IP, SERVER_IP, (const uint8_t[4]){ 1, 1, 1, 0 }, 4);
	fb_tcp(&f, 1, 2, 0, 0, PKT_TCP_SYN, NULL, 0);
	fb_finish(&f);
	set16(fb_ip(&f) + 2, 20);
	fb_fix_ip(&f);
	expect_drop(&f, 0, EGRESS_DROP_IP_LENGTH);
}

static void
test_ip_checksum(void **state)
{
	struct pkt_meta m;
	struct fb f;

	(void)state;
	tcp_syn(&f, -1);
	fb_ip(&f)[10] ^= 0x01;
	expect_drop(&f, 0, EGRESS_DROP_IP_CHECKSUM);
	expect_ok(&f, PKT_F_IP_CKSUM_GOOD, &m);
	/* a changed TTL without the checksum fix-up */
	tcp_syn(&f, -1);
	fb_ip(&f)[8]--;
	expect_drop(&f, 0, EGRESS_DROP_IP_CHECKSUM);
	/* a checksum error is reported before bad options */
	fb_eth(&f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(&f, IPPROTO_TCP, CLIENT_IP, SERVER_IP, (const uint8_t[4]){ 131, 3, 4, 0 }, 4);
	fb_tcp(&f, 1, 2, 0, 0, PKT_TCP_SYN, NULL, 0);
	fb_finish(&f);
	fb_ip(&f)[11] ^= 0x80;
	expect_drop(&f, 0, EGRESS_DROP_IP_CHECKSUM);
}

static void
ipv4_with_options(struct fb *f, const uint8_t *opt, size_t n)
{
	fb_eth(f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(f, IPPROTO_TCP, CLIENT_IP, SERVER_IP, opt, n);
	fb_tcp(f, 40000, 6379, 0, 0, PKT_TCP_SYN, NULL, 0);
	fb_finish(f);
}

static void
test_ip_options_valid(void **state)
{
	static const uint8_t nops[4] = { 1, 1, 1, 1 };
	static const uint8_t eol_garbage[8] = { 1, 0, 131, 0, 0, 0, 0, 0 };
	static const uint8_t router_alert[4] = { 148, 4, 0, 0 };
	static const uint8_t rr[12] = { 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t ts_max[40] = { 68, 40, 5, 0 };
	struct pkt_meta m;
	struct fb f;

	(void)state;
	ipv4_with_options(&f, nops, sizeof(nops));
	expect_ok(&f, 0, &m);
	assert_int_equal(m.l3_len, 24);
	assert_int_equal(m.ip_len, 44);
	ipv4_with_options(&f, eol_garbage, sizeof(eol_garbage));
	expect_ok(&f, 0, &m);
	ipv4_with_options(&f, router_alert, sizeof(router_alert));
	expect_ok(&f, 0, &m);
	ipv4_with_options(&f, rr, sizeof(rr));
	expect_ok(&f, 0, &m);
	ipv4_with_options(&f, ts_max, sizeof(ts_max));
	expect_ok(&f, 0, &m);
	assert_int_equal(m.l3_len, 60);
	assert_int_equal(m.frame_len, f.len);
}

static void
test_ip_source_route(void **state)
{
	static const uint8_t lsrr[8] = { 131, 7, 4, 1, 2, 3, 4, 0 };
	static const uint8_t ssrr[8] = { 137, 7, 4, 1, 2, 3, 4, 0 };
	static const uint8_t late[12] = { 1, 148, 4, 0, 0, 137, 7, 4, 1, 2, 3, 4 };
	static const uint8_t bad_len[4] = { 131, 0, 0, 0 };
	struct fb f;

	(void)state;
	ipv4_with_options(&f, lsrr, sizeof(lsrr));
	expect_drop(&f, 0, EGRESS_DROP_IP_SOURCE_ROUTE);
	ipv4_with_options(&f, ssrr, sizeof(ssrr));
	expect_drop(&f, 0, EGRESS_DROP_IP_SOURCE_ROUTE);
	ipv4_with_options(&f, late, sizeof(late));
	expect_drop(&f, 0, EGRESS_DROP_IP_SOURCE_ROUTE);
	/* the type says it all: a malformed source route is still one */
	ipv4_with_options(&f, bad_len, sizeof(bad_len));
	expect_drop(&f, 0, EGRESS_DROP_IP_SOURCE_ROUTE);
}

static void
test_ip_options_bad(void **state)
{
	static const uint8_t len0[4] = { 148, 0, 0, 0 };
	static const uint8_t len1[4] = { 148, 1, 0, 0 };
	static const uint8_t past[4] = { 1, 148, 4, 0 }; /* needs 4, has 3 */
	static const uint8_t past2[8] = { 7, 9, 4, 0, 0, 0, 0, 0 };
	static const uint8_t last_byte[4] = { 1, 1, 1, 7 }; /* no room for its length */
	struct fb f;

	(void)state;
	ipv4_with_options(&f, len0, sizeof(len0));
	expect_drop(&f, 0, EGRESS_DROP_IP_OPTIONS);
	ipv4_with_options(&f, len1, sizeof(len1));
	expect_drop(&f, 0, EGRESS_DROP_IP_OPTIONS);
	ipv4_with_options(&f, past, sizeof(past));
	expect_drop(&f, 0, EGRESS_DROP_IP_OPTIONS);
	ipv4_with_options(&f, past2, sizeof(past2));
	expect_drop(&f, 0, EGRESS_DROP_IP_OPTIONS);
	ipv4_with_options(&f, last_byte, sizeof(last_byte));
	expect_drop(&f, 0, EGRESS_DROP_IP_OPTIONS);
	/* the same with the header ending the frame: a length read would overrun */
	fb_eth(&f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(&f, IPPROTO_TCP, CLIENT_IP, SERVER_IP, last_byte, sizeof(last_byte));
	fb_finish(&f);
	expect_drop(&f, 0, EGRESS_DROP_IP_OPTIONS);
}

static void
test_ip_martian(void **state)
{
	static const uint32_t martian[] = {
		IP(0, 0, 0, 0),         IP(0, 1, 2, 3),         IP(127, 0, 0, 1),
		IP(127, 255, 255, 255), IP(224, 0, 0, 1),       IP(239, 255, 255, 250),
		IP(240, 0, 0, 1),       IP(255, 255, 255, 254), IP(255, 255, 255, 255),
	};
	static const uint32_t fine[] = {
		IP(1, 0, 0, 0),     IP(10, 8, 0, 2),     IP(126, 255, 255, 255), IP(128, 0, 0, 0),
		IP(192, 168, 1, 1), IP(203, 0, 113, 10), IP(223, 255, 255, 255),
	};
	struct pkt_meta m;
	struct fb f;

	(void)state;
	for (size_t i = 0; i < sizeof(martian) / sizeof(martian[0]); i++) {
		assert_true(pkt_ipv4_martian(rte_cpu_to_be_32(martian[i])));
		fb_eth(&f, PKT_ETHERTYPE_IPV4, -1);
		fb_ipv4(&f, IPPROTO_UDP, martian[i], SERVER_IP, NULL, 0);
		fb_udp(&f, 68, 67);
		fb_finish(&f);
		expect_drop(&f, 0, EGRESS_DROP_IP_MARTIAN);
	}
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		assert_false(pkt_ipv4_martian(rte_cpu_to_be_32(fine[i])));
		fb_eth(&f, PKT_ETHERTYPE_IPV4, -1);
		fb_ipv4(&f, IPPROTO_UDP, fine[i], SERVER_IP, NULL, 0);
		fb_udp(&f, 68, 67);
		fb_finish(&f);
		expect_ok(&f, 0, &m);
	}
	/* only the source is judged */
	fb_eth(&f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(&f, IPPROTO_UDP, CLIENT_IP, IP(255, 255, 255, 255), NULL, 0);
	fb_udp(&f, 68, 67);
	fb_finish(&f);
	expect_ok(&f, 0, &m);
}

static void
test_ip_fragment(void **state)
{
	static const uint16_t frag[] = { 0x2000, 0x0001, 0x1fff, 0x6000, 0x2001, 0x4001 };
	struct pkt_meta m;
	struct fb f;

	(void)state;
	for (size_t i = 0; i < sizeof(frag) / sizeof(frag[0]); i++) {
		tcp_syn(&f, -1);
		set16(fb_ip(&f) + 6, frag[i]);
		fb_fix_ip(&f);
		expect_drop(&f, 0, EGRESS_DROP_IP_FRAGMENT);
	}
	/* DF alone, or nothing, is no fragment */
	tcp_syn(&f, -1);
	set16(fb_ip(&f) + 6, 0);
	fb_fix_ip(&f);
	expect_ok(&f, 0, &m);
	/* a fragment with a martian source is counted as martian */
	tcp_syn(&f, -1);
	set16(fb_ip(&f) + 6, 0x2000);
	fb_ip(&f)[12] = 127;
	fb_fix_ip(&f);
	expect_drop(&f, 0, EGRESS_DROP_IP_MARTIAN);
	/* a non-first fragment has no L4 header to judge */
	tcp_syn(&f, -1);
	set16(fb_ip(&f) + 6, 0x0010);
	f.buf[f.l4 + 12] = 0x10; /* doff 1 */
	fb_fix_ip(&f);
	expect_drop(&f, 0, EGRESS_DROP_IP_FRAGMENT);
}

static void
test_proto(void **state)
{
	static const uint8_t protos[] = { 0, 2, 4, 6 + 11, 41, 47, 50, 51, 58, 132, 255 };
	struct fb f;

	(void)state;
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		fb_eth(&f, PKT_ETHERTYPE_IPV4, -1);
		fb_ipv4(&f, protos[i], CLIENT_IP, SERVER_IP, NULL, 0);
		put(&f, (const uint8_t[24]){ 0 }, 24);
		fb_finish(&f);
		if (protos[i] == IPPROTO_UDP)
			continue;
		expect_drop(&f, 0, EGRESS_DROP_PROTO);
	}
}

/* Frame f with its IP total length cut to l4_len bytes of L4 (checksums fixed). */
static void
cut_l4(struct fb *f, uint32_t l4_len)
{
	f->len = f->l4 + l4_len;
	set16(fb_ip(f) + 2, (uint16_t)(f->len - f->l3));
	fb_fix_ip(f);
}

static void
test_l4_truncated(void **state)
{
	struct fb f;

	(void)state;
	for (uint32_t n = 0; n < 20; n++) {
		tcp_data(&f);
		cut_l4(&f, n);
		expect_drop(&f, 0, EGRESS_DROP_L4_TRUNCATED);
	}
	for (uint32_t n = 0; n < 8; n++) {
		udp_dns(&f);
		cut_l4(&f, n);
		expect_drop(&f, 0, EGRESS_DROP_L4_TRUNCATED);
		icmp_echo(&f, 8);
		cut_l4(&f, n);
		expect_drop(&f, 0, EGRESS_DROP_L4_TRUNCATED);
	}
}

static void
test_tcp_doff(void **state)
{
	struct fb f;

	(void)state;
	for (unsigned int doff = 0; doff < 5; doff++) {
		tcp_data(&f);
		f.buf[f.l4 + 12] = (uint8_t)(doff << 4);
		fb_fix_l4(&f);
		expect_drop(&f, 0, EGRESS_DROP_TCP_DOFF);
	}
	/* beyond the segment: 15 words in a 41-byte segment */
	tcp_data(&f);
	f.buf[f.l4 + 12] = 0xf0;
	fb_fix_l4(&f);
	expect_drop(&f, 0, EGRESS_DROP_TCP_DOFF);
	/* a SYN with 40 bytes of header cut to 36 */
	tcp_syn(&f, -1);
	cut_l4(&f, 36);
	expect_drop(&f, 0, EGRESS_DROP_TCP_DOFF);
}

static void
tcp_with_options(struct fb *f, const uint8_t *opt, size_t n)
{
	fb_eth(f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(f, IPPROTO_TCP, CLIENT_IP, SERVER_IP, NULL, 0);
	fb_tcp(f, 40000, 6379, 1, 0, PKT_TCP_SYN, opt, n);
	fb_finish(f);
}

static void
test_tcp_options(void **state)
{
	static const uint8_t len0[4] = { 2, 0, 0, 0 };
	static const uint8_t len1[4] = { 4, 1, 1, 1 };
	static const uint8_t past[4] = { 1, 2, 4, 5 }; /* MSS needs 4, has 3 */
	static const uint8_t past2[12] = { 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3 };
	static const uint8_t last_byte[4] = { 1, 1, 1, 3 };
	static const uint8_t len0_late[8] = { 2, 4, 5, 0xb4, 1, 1, 30, 0 };
	struct fb f;

	(void)state;
	tcp_with_options(&f, len0, sizeof(len0));
	expect_drop(&f, 0, EGRESS_DROP_TCP_OPTIONS);
	tcp_with_options(&f, len1, sizeof(len1));
	expect_drop(&f, 0, EGRESS_DROP_TCP_OPTIONS);
	tcp_with_options(&f, past, sizeof(past));
	expect_drop(&f, 0, EGRESS_DROP_TCP_OPTIONS);
	tcp_with_options(&f, past2, sizeof(past2));
	expect_drop(&f, 0, EGRESS_DROP_TCP_OPTIONS);
	tcp_with_options(&f, last_byte, sizeof(last_byte));
	expect_drop(&f, 0, EGRESS_DROP_TCP_OPTIONS);
	/* a payload after it must not be taken for its length */
	tcp_with_options(&f, last_byte, sizeof(last_byte));
	f.len--;
	put8(&f, 3);
	put8(&f, 3);
	put8(&f, 7);
	fb_finish(&f);
	expect_drop(&f, 0, EGRESS_DROP_TCP_OPTIONS);
	tcp_with_options(&f, len0_late, sizeof(len0_late));
	expect_drop(&f, 0, EGRESS_DROP_TCP_OPTIONS);
}

/* The rules of pkt.h, spelt out one by one. */
static bool
ref_flags_invalid(uint8_t fl)
{
	bool syn = fl & PKT_TCP_SYN, fin = fl & PKT_TCP_FIN;
	bool rst = fl & PKT_TCP_RST, ack = fl & PKT_TCP_ACK;

	if (!syn && !rst && !ack)
		return true; /* null, XMAS, FIN/PSH/URG alone */
	if (syn && fin)
		return true;
	if (syn && rst)
		return true;
	if (rst && fin)
		return true;
	if (fin && !ack)
		return true;
	return false;
}

static void
test_tcp_flags_table(void **state)
{
	static const uint8_t invalid[] = {
		0, /* null */
		PKT_TCP_FIN,
		PKT_TCP_FIN | PKT_TCP_PSH | PKT_TCP_URG, /* XMAS */
		0xff,                                    /* all */
		PKT_TCP_PSH,
		PKT_TCP_URG,
		PKT_TCP_ECE | PKT_TCP_CWR,
		PKT_TCP_SYN | PKT_TCP_FIN,
		PKT_TCP_SYN | PKT_TCP_FIN | PKT_TCP_ACK,
		PKT_TCP_SYN | PKT_TCP_RST,
		PKT_TCP_SYN | PKT_TCP_RST | PKT_TCP_ACK,
		PKT_TCP_RST | PKT_TCP_FIN,
		PKT_TCP_RST | PKT_TCP_FIN | PKT_TCP_ACK,
		PKT_TCP_FIN | PKT_TCP_PSH,
	};
	static const uint8_t valid[] = {
		PKT_TCP_SYN,
		PKT_TCP_SYN | PKT_TCP_ACK,
		PKT_TCP_SYN | PKT_TCP_ECE | PKT_TCP_CWR,
		PKT_TCP_SYN | PKT_TCP_ACK | PKT_TCP_ECE,
		PKT_TCP_ACK,
		PKT_TCP_ACK | PKT_TCP_PSH,
		PKT_TCP_ACK | PKT_TCP_URG,
		PKT_TCP_FIN | PKT_TCP_ACK,
		PKT_TCP_FIN | PKT_TCP_ACK | PKT_TCP_PSH,
		PKT_TCP_RST,
		PKT_TCP_RST | PKT_TCP_ACK,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(invalid); i++)
		assert_true(pkt_tcp_flags_invalid(invalid[i]));
	for (size_t i = 0; i < sizeof(valid); i++)
		assert_false(pkt_tcp_flags_invalid(valid[i]));
	for (unsigned int fl = 0; fl < 256; fl++)
		assert_int_equal(pkt_tcp_flags_invalid((uint8_t)fl),
				 ref_flags_invalid((uint8_t)fl));
}

/* Every one of the 256 flag bytes through the parser: TCP_FLAGS iff invalid. */
static void
test_tcp_flags_parse(void **state)
{
	struct pkt_meta m;
	struct fb f;

	(void)state;
	for (unsigned int fl = 0; fl < 256; fl++) {
		tcp_data(&f);
		f.buf[f.l4 + 13] = (uint8_t)fl;
		fb_fix_l4(&f);
		if (ref_flags_invalid((uint8_t)fl)) {
			expect_drop(&f, 0, EGRESS_DROP_TCP_FLAGS);
		} else {
			expect_ok(&f, 0, &m);
			assert_int_equal(m.tcp_flags, fl);
		}
	}
}

static void
test_port_zero(void **state)
{
	struct fb f;

	(void)state;
	for (uint32_t off = 0; off < 4; off += 2) {
		tcp_syn(&f, -1);
		set16(f.buf + f.l4 + off, 0);
		fb_fix_l4(&f);
		expect_drop(&f, 0, EGRESS_DROP_PORT_ZERO);
		udp_dns(&f);
		set16(f.buf + f.l4 + off, 0);
		fb_fix_l4(&f);
		expect_drop(&f, 0, EGRESS_DROP_PORT_ZERO);
	}
	/* both zero and same address: port zero comes first */
	fb_eth(&f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(&f, IPPROTO_TCP, CLIENT_IP, CLIENT_IP, NULL, 0);
	fb_tcp(&f, 0, 0, 1, 0, PKT_TCP_SYN, NULL, 0);
	fb_finish(&f);
	expect_drop(&f, 0, EGRESS_DROP_PORT_ZERO);
}

static void
test_land(void **state)
{
	struct pkt_meta m;
	struct fb f;

	(void)state;
	fb_eth(&f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(&f, IPPROTO_TCP, SERVER_IP, SERVER_IP, NULL, 0);
	fb_tcp(&f, 6379, 6379, 1, 0, PKT_TCP_SYN, NULL, 0);
	fb_finish(&f);
	expect_drop(&f, 0, EGRESS_DROP_IP_LAND);
	/* same address, other ports: fine */
	set16(f.buf + f.l4, 6380);
	fb_fix_l4(&f);
	expect_ok(&f, 0, &m);

	fb_eth(&f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(&f, IPPROTO_UDP, CLIENT_IP, CLIENT_IP, NULL, 0);
	fb_udp(&f, 53, 53);
	fb_finish(&f);
	expect_drop(&f, 0, EGRESS_DROP_IP_LAND);

	/* ICMP echo: the identifier is both ports */
	fb_eth(&f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(&f, IPPROTO_ICMP, CLIENT_IP, CLIENT_IP, NULL, 0);
	fb_icmp(&f, 8, 0, 1, 1);
	fb_finish(&f);
	expect_drop(&f, 0, EGRESS_DROP_IP_LAND);

	/* land is judged before the checksum */
	fb_eth(&f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(&f, IPPROTO_TCP, SERVER_IP, SERVER_IP, NULL, 0);
	fb_tcp(&f, 6379, 6379, 1, 0, PKT_TCP_SYN, NULL, 0);
	fb_finish(&f);
	f.buf[f.l4 + 16] ^= 0x55;
	expect_drop(&f, 0, EGRESS_DROP_IP_LAND);
}

static void
test_l4_checksum(void **state)
{
	struct pkt_meta m;
	struct fb f;

	(void)state;
	tcp_syn(&f, -1);
	f.buf[f.l4 + 17] ^= 0x01;
	expect_drop(&f, 0, EGRESS_DROP_L4_CHECKSUM);
	expect_ok(&f, PKT_F_L4_CKSUM_GOOD, &m);
	/* payload corrupted */
	tcp_data(&f);
	f.buf[f.len - 1] ^= 0x20;
	expect_drop(&f, 0, EGRESS_DROP_L4_CHECKSUM);
	/* pseudo-header: a NAT that forgot the L4 fix-up */
	tcp_data(&f);
	fb_ip(&f)[15]++;
	fb_fix_ip(&f);
	expect_drop(&f, 0, EGRESS_DROP_L4_CHECKSUM);
	expect_ok(&f, PKT_F_L4_CKSUM_GOOD, &m);

	udp_dns(&f);
	f.buf[f.len - 1] ^= 0x01;
	expect_drop(&f, 0, EGRESS_DROP_L4_CHECKSUM);
	expect_ok(&f, PKT_F_L4_CKSUM_GOOD, &m);

	icmp_echo(&f, 8);
	f.buf[f.len - 1] ^= 0x01;
	expect_drop(&f, 0, EGRESS_DROP_L4_CHECKSUM);
	icmp_echo(&f, 0);
	f.buf[f.l4 + 2] ^= 0x80;
	expect_drop(&f, 0, EGRESS_DROP_L4_CHECKSUM);
	/* the IP checksum flag does not cover L4 */
	expect_drop(&f, PKT_F_IP_CKSUM_GOOD, EGRESS_DROP_L4_CHECKSUM);
}

static void
test_udp_length(void **state)
{
	struct fb f;

	(void)state;
	udp_dns(&f);
	set16(f.buf + f.l4 + 4, (uint16_t)(f.len - f.l4 - 1));
	fb_fix_l4(&f);
	expect_drop(&f, 0, EGRESS_DROP_IP_LENGTH);
	udp_dns(&f);
	set16(f.buf + f.l4 + 4, (uint16_t)(f.len - f.l4 + 1));
	fb_fix_l4(&f);
	expect_drop(&f, 0, EGRESS_DROP_IP_LENGTH);
	udp_dns(&f);
	set16(f.buf + f.l4 + 4, 0);
	expect_drop(&f, 0, EGRESS_DROP_IP_LENGTH);
	udp_dns(&f);
	set16(f.buf + f.l4 + 4, 7);
	expect_drop(&f, 0, EGRESS_DROP_IP_LENGTH);
}

/* ---- truncation at every length, random mutations --------------------- */

typedef void (*template_fn)(struct fb *f);

static void
tpl_syn(struct fb *f)
{
	tcp_syn(f, -1);
}

static void
tpl_syn_vlan(struct fb *f)
{
	tcp_syn(f, 7);
}

static void
tpl_data(struct fb *f)
{
	tcp_data(f);
}

static void
tpl_udp(struct fb *f)
{
	udp_dns(f);
}

static void
tpl_icmp(struct fb *f)
{
	icmp_echo(f, 8);
}

static void
tpl_arp(struct fb *f)
{
	arp(f, 1, -1);
}

static void
tpl_syn_ipopt(struct fb *f)
{
	ipv4_with_options(f, (const uint8_t[8]){ 148, 4, 0, 0, 1, 1, 1, 0 }, 8);
}

static const template_fn templates[] = {
	tpl_syn, tpl_syn_vlan, tpl_data, tpl_udp, tpl_icmp, tpl_arp, tpl_syn_ipopt,
};

/* The reason a frame cut to len bytes (headers untouched) must be dropped for. */
static enum egress_drop
cut_reason(const struct fb *f, uint32_t len)
{
	uint16_t et = get16(f->buf + 12);

	if (len < 14)
		return EGRESS_DROP_RUNT;
	if (et == PKT_ETHERTYPE_VLAN && len < 18)
		return EGRESS_DROP_RUNT;
	if (get16(f->buf + f->l3 - 2) == PKT_ETHERTYPE_ARP)
		return EGRESS_DROP_ARP_INVALID;
	if (len < f->l3 + 20)
		return EGRESS_DROP_IP_TRUNCATED;
	if (len < f->l3 + (f->buf[f->l3] & 0xf) * 4u)
		return EGRESS_DROP_IP_IHL;
	return EGRESS_DROP_IP_LENGTH;
}

static void
test_truncation_every_length(void **state)
{
	(void)state;
	for (size_t t = 0; t < sizeof(templates) / sizeof(templates[0]); t++) {
		struct pkt_meta m;
		enum egress_drop why;
		struct fb f;

		templates[t](&f);
		assert_int_equal(parse(&f, PKT_F_ALLOW_VLAN, &m, &why), 0);
		for (uint32_t len = 0; len < f.len; len++) {
			enum egress_drop want = cut_reason(&f, len);

			assert_int_equal(parse_n(f.buf, len, PKT_F_ALLOW_VLAN, &m, &why), -EINVAL);
			if (why != want)
				fail_msg("template %zu len %u: %s, expected %s", t, len,
					 egress_drop_name(why), egress_drop_name(want));
		}
	}
}

/*
 * The same cut, with the IP total length and checksum made to agree: now the
 * L4 checks see every truncation point.
 */
static void
test_truncation_consistent_ip(void **state)
{
	(void)state;
	for (size_t t = 0; t < sizeof(templates) / sizeof(templates[0]); t++) {
		struct fb f;
		uint32_t full;
		uint8_t proto;

		templates[t](&f);
		if (get16(f.buf + f.l3 - 2) != PKT_ETHERTYPE_IPV4)
			continue;
		full = f.len;
		proto = fb_ip(&f)[9];
		for (uint32_t n = 0; n < full - f.l4; n++) {
			uint32_t hdr = 8;
			enum egress_drop want;
			struct pkt_meta m;
			enum egress_drop why;

			templates[t](&f);
			if (proto == IPPROTO_TCP)
				hdr = (uint32_t)(f.buf[f.l4 + 12] >> 4) * 4;
			cut_l4(&f, n);
			if (n < (proto == IPPROTO_TCP ? 20u : 8u))
				want = EGRESS_DROP_L4_TRUNCATED;
			else if (proto == IPPROTO_TCP && n < hdr)
				want = EGRESS_DROP_TCP_DOFF;
			else if (proto == IPPROTO_UDP)
				want = EGRESS_DROP_IP_LENGTH;
			else
				want = EGRESS_DROP_L4_CHECKSUM;
			assert_int_equal(parse(&f, PKT_F_ALLOW_VLAN, &m, &why), -EINVAL);
			if (why != want)
				fail_msg("template %zu l4 %u: %s, expected %s", t, n,
					 egress_drop_name(why), egress_drop_name(want));
			/* and with the checksum right, a short payload is valid TCP/ICMP */
			if (want == EGRESS_DROP_L4_CHECKSUM) {
				fb_fix_l4(&f);
				expect_ok(&f, PKT_F_ALLOW_VLAN, &m);
				assert_int_equal(m.frame_len, f.len);
			}
		}
	}
}

/* xorshift64*: deterministic, so that a failure is reproducible */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

/* Invariants of an accepted frame: everything it points at is inside it. */
static void
check_accepted(const struct pkt_meta *m, uint32_t len)
{
	assert_true(m->frame_len <= len);
	assert_true(m->l2_len == 14 || m->l2_len == 18);
	if (m->ethertype == PKT_ETHERTYPE_ARP) {
		assert_int_equal(m->frame_len, m->l2_len + 28u);
		return;
	}
	assert_int_equal(m->ethertype, PKT_ETHERTYPE_IPV4);
	assert_int_equal(m->frame_len, (uint32_t)m->l2_len + m->ip_len);
	assert_true(m->l3_len >= 20 && m->l3_len <= 60);
	assert_true((uint32_t)m->l3_len + m->l4_len <= m->ip_len);
	assert_false(pkt_ipv4_martian(m->src_ip));
	if (m->tcp_mss_off != 0) {
		assert_int_equal(m->proto, IPPROTO_TCP);
		assert_true(m->tcp_mss_off + 2u <= (uint32_t)m->l2_len + m->l3_len + m->l4_len);
	}
	if (m->proto == IPPROTO_TCP)
		assert_false(pkt_tcp_flags_invalid(m->tcp_flags));
}

static void
test_random_mutations(void **state)
{
	(void)state;
	for (size_t t = 0; t < sizeof(templates) / sizeof(templates[0]); t++) {
		for (unsigned int i = 0; i < 20000; i++) {
			struct pkt_meta m;
			enum egress_drop why;
			unsigned int flips = 1 + rnd() % 4;
			uint32_t flags = rnd() & 7;
			uint32_t len;
			struct fb f;
			int rc;

			templates[t](&f);
			for (unsigned int k = 0; k < flips; k++)
				f.buf[rnd() % f.len] = (uint8_t)rnd();
			/* sometimes cut, sometimes add a trailer */
			len = f.len;
			if (rnd() % 4 == 0)
				len = rnd() % (f.len + 1);
			else if (rnd() % 4 == 0)
				len = f.len + rnd() % 32;
			rc = parse_n(f.buf, len, flags, &m, &why);
			if (rc == 0)
				check_accepted(&m, len);
			else
				assert_true(why < EGRESS_DROP_MAX);
		}
	}
}

/* ---- checksums -------------------------------------------------------- */

/* A random TCP, UDP or ICMP packet with valid checksums, up to max_payload bytes. */
static void
random_packet(struct fb *f, uint8_t proto, uint32_t max_payload)
{
	uint32_t n = rnd() % (max_payload + 1);

	fb_eth(f, PKT_ETHERTYPE_IPV4, -1);
	fb_ipv4(f, proto, IP(10, 8, rnd() % 256, 1 + rnd() % 254),
		IP(1 + rnd() % 223, rnd() % 256, rnd() % 256, rnd() % 256), NULL, 0);
	fb_ip(f)[8] = (uint8_t)(2 + rnd() % 254);
	if (proto == IPPROTO_TCP)
		fb_tcp(f, (uint16_t)(1 + rnd() % 65535), (uint16_t)(1 + rnd() % 65535), rnd(),
		       rnd(), PKT_TCP_ACK, NULL, 0);
	else if (proto == IPPROTO_UDP)
		fb_udp(f, (uint16_t)(1 + rnd() % 65535), (uint16_t)(1 + rnd() % 65535));
	else
		fb_icmp(f, 8, 0, (uint16_t)rnd(), (uint16_t)rnd());
	for (uint32_t i = 0; i < n; i++)
		put8(f, (uint8_t)rnd());
	fb_finish(f);
}

static uint16_t
ld16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint32_t
ld32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void
st16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void
st32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* DPDK's own full computations, on a copy with the fields zeroed. */
static uint16_t
dpdk_ip_cksum(const struct fb *f)
{
	uint8_t hdr[60];

	memcpy(hdr, f->buf + f->l3, 60);
	st16(hdr + 10, 0);
	return rte_ipv4_cksum((const struct rte_ipv4_hdr *)hdr);
}

static uint16_t
dpdk_l4_cksum(const struct fb *f)
{
	static uint8_t copy[FB_MAX];
	uint8_t proto = f->buf[f->l3 + 9];

	memcpy(copy, f->buf, f->len);
	st16(copy + f->l4 + (proto == IPPROTO_TCP ? 16 : 6), 0);
	return rte_ipv4_udptcp_cksum((const struct rte_ipv4_hdr *)(copy + f->l3), copy + f->l4);
}

static uint32_t
l4_cksum_off(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 16 : proto == IPPROTO_UDP ? 6 : 2;
}

/* The full computations agree: builder (byte-wise), DPDK, and the library. */
static void
test_cksum_full(void **state)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP };

	(void)state;
	assert_int_equal(pkt_l4_cksum((const uint8_t[20]){ 0x45 }, 20, 19, IPPROTO_TCP), 0);
	assert_int_equal(pkt_l4_cksum((const uint8_t[40]){ 0x45 }, 20, 40, 47), 0);
	for (unsigned int i = 0; i < 6000; i++) {
		uint8_t proto = protos[i % 3];
		struct pkt_meta m;
		struct fb f;
		uint8_t *ip;
		uint16_t ip_len, stored;
		uint32_t k, sum;

		random_packet(&f, proto, 1460);
		ip = fb_ip(&f);
		ip_len = get16(ip + 2);
		stored = ld16(f.buf + f.l4 + l4_cksum_off(proto));

		assert_int_equal(pkt_ipv4_hdr_cksum(ip, 20), 0);
		assert_int_equal(ld16(ip + 10), dpdk_ip_cksum(&f));
		assert_int_equal(pkt_l4_cksum(ip, 20, ip_len, proto), stored);
		if (proto != IPPROTO_ICMP)
			assert_int_equal(stored, dpdk_l4_cksum(&f));
		st16(ip + 10, 0);
		assert_int_equal(pkt_ipv4_hdr_cksum(ip, 20), dpdk_ip_cksum(&f));
		fb_fix_ip(&f);

		/* summing in pieces (even, then anything) is summing at once */
		k = (rnd() % (f.len + 1)) & ~1u;
		sum = pkt_csum_partial(f.buf, k, 0);
		sum = pkt_csum_partial(f.buf + k, f.len - k, sum);
		assert_int_equal(pkt_csum_fold(sum), rte_raw_cksum(f.buf, f.len));

		expect_ok(&f, 0, &m);
	}
}

static uint32_t
random_public_ip(void)
{
	uint32_t a = 1 + rnd() % 222;

	return IP(a == 127 ? 223 : a, rnd() % 256, rnd() % 256, rnd() % 256);
}

/*
 * NAT-like rewrites fixed up incrementally, checked against DPDK's full
 * recomputation: source (SNAT), destination (DNAT) or both, plus the TTL.
 */
static void
test_cksum_update_nat(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < 20000; i++) {
		uint8_t proto = i & 1 ? IPPROTO_UDP : IPPROTO_TCP;
		unsigned int mode = rnd() % 3;
		struct pkt_meta m;
		struct fb f;
		uint8_t *ip, *l4;
		uint16_t ipck, l4ck, old16;
		uint32_t ckoff;
		bool has_l4;

		random_packet(&f, proto, 1460);
		ip = fb_ip(&f);
		l4 = f.buf + f.l4;
		ckoff = l4_cksum_off(proto);
		if (proto == IPPROTO_UDP && rnd() % 8 == 0)
			st16(l4 + ckoff, 0); /* no UDP checksum */
		ipck = ld16(ip + 10);
		l4ck = ld16(l4 + ckoff);
		/* a zero UDP checksum means none: it stays so */
		has_l4 = proto == IPPROTO_TCP || l4ck != 0;

		for (unsigned int dir = 0; dir < 2; dir++) {
			uint32_t aoff = dir == 0 ? 12 : 16, poff = dir == 0 ? 0 : 2;
			uint32_t old_ip, new_ip;
			uint16_t old_port, new_port;

			if (mode != 2 && mode != dir)
				continue;
			old_ip = ld32(ip + aoff);
			new_ip = rte_cpu_to_be_32(random_public_ip());
			old_port = ld16(l4 + poff);
			new_port = rte_cpu_to_be_16((uint16_t)(1 + rnd() % 65535));
			pkt_csum_update32(&ipck, old_ip, new_ip);
			if (has_l4) {
				/* the address is in the L4 pseudo-header too */
				pkt_csum_update32(&l4ck, old_ip, new_ip);
				pkt_csum_update16(&l4ck, old_port, new_port);
			}
			st32(ip + aoff, new_ip);
			st16(l4 + poff, new_port);
		}
		if (proto == IPPROTO_UDP && has_l4 && l4ck == 0)
			l4ck = 0xffff;
		/* TTL shares its 16-bit word with the protocol */
		old16 = ld16(ip + 8);
		ip[8]--;
		pkt_csum_update16(&ipck, old16, ld16(ip + 8));
		st16(ip + 10, ipck);
		st16(l4 + ckoff, l4ck);

		assert_int_equal(ipck, dpdk_ip_cksum(&f));
		if (has_l4)
			assert_int_equal(l4ck, dpdk_l4_cksum(&f));
		else
			assert_int_equal(l4ck, 0);
		if (ld32(ip + 12) != ld32(ip + 16))
			expect_ok(&f, 0, &m);
	}
}

/*
 * Every change summed with pkt_csum_delta*() and applied once with
 * pkt_csum_adjust(), as the data path rewrites: the same checksums as a
 * full recomputation.
 */
static void
test_cksum_delta(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < 20000; i++) {
		uint8_t proto = i & 1 ? IPPROTO_UDP : IPPROTO_TCP;
		struct pkt_meta m;
		struct fb f;
		uint8_t *ip, *l4;
		uint32_t ckoff, ip_delta = 0, l4_delta = 0;
		uint16_t old16, l4ck;

		random_packet(&f, proto, 1460);
		ip = fb_ip(&f);
		l4 = f.buf + f.l4;
		ckoff = l4_cksum_off(proto);
		for (unsigned int k = 0; k < 2; k++) {
			uint32_t aoff = k == 0 ? 12 : 16, poff = k == 0 ? 0 : 2;
			uint32_t new_ip = rte_cpu_to_be_32(random_public_ip());
			uint16_t new_port = rte_cpu_to_be_16((uint16_t)(1 + rnd() % 65535));
			uint32_t d = pkt_csum_delta32(ld32(ip + aoff), new_ip);

			ip_delta += d;
			l4_delta += d + pkt_csum_delta16(ld16(l4 + poff), new_port);
			st32(ip + aoff, new_ip);
			st16(l4 + poff, new_port);
		}
		old16 = ld16(ip + 8);
		ip[8]--;
		ip_delta += pkt_csum_delta16(old16, ld16(ip + 8));
		st16(ip + 10, pkt_csum_adjust(ld16(ip + 10), ip_delta));
		l4ck = pkt_csum_adjust(ld16(l4 + ckoff), l4_delta);
		if (proto == IPPROTO_UDP && l4ck == 0)
			l4ck = 0xffff;
		st16(l4 + ckoff, l4ck);

		assert_int_equal(ld16(ip + 10), dpdk_ip_cksum(&f));
		assert_int_equal(l4ck, dpdk_l4_cksum(&f));
		if (ld32(ip + 12) != ld32(ip + 16))
			expect_ok(&f, 0, &m);
	}
}

/*
 * Checksum verification at every segment length from 0 to 100 bytes of
 * payload (odd and even, either side of the short-buffer path): a valid
 * segment passes, any one flipped bit of it is caught.
 */
static void
test_l4_checksum_lengths(void **state)
{
	(void)state;
	for (uint32_t n = 0; n <= 100; n++) {
		for (unsigned int p = 0; p < 2; p++) {
			uint8_t proto = p ? IPPROTO_UDP : IPPROTO_TCP;
			struct pkt_meta m;
			struct fb f;
			uint32_t bit;

			do {
				random_packet(&f, proto, n);
			} while (f.len - f.l4 - (proto == IPPROTO_TCP ? 20 : 8) != n);
			expect_ok(&f, 0, &m);
			bit = rnd() % ((f.len - f.l4) * 8);
			f.buf[f.l4 + bit / 8] ^= (uint8_t)(1u << (bit % 8));
			/* a flip can make another check fail first (flags, doff, ports) */
			if (pkt_parse(f.buf, f.len, 0, &m, &(enum egress_drop){ 0 }) == 0)
				fail_msg("length %u proto %u: bit %u flipped, still accepted", n,
					 proto, bit);
		}
	}
}

/*
 * The +0/-0 corner: a rewrite whose full recomputation is TCP 0x0000 or UDP
 * 0xffff (a computed zero). RFC 1624 eqn. 3 gives 0x0000, right for TCP;
 * UDP must store 0xffff, as pkt.h says.
 */
static void
test_cksum_update_zero(void **state)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP };

	(void)state;
	for (unsigned int round = 0; round < 32; round++) {
		for (size_t pi = 0; pi < sizeof(protos); pi++) {
			uint8_t proto = protos[pi];
			uint32_t ckoff = l4_cksum_off(proto);
			uint16_t want = proto == IPPROTO_UDP ? 0xffff : 0x0000;
			uint16_t orig_port, orig_ck, port = 0, ck;
			struct pkt_meta m;
			struct fb f;
			uint8_t *l4;

			random_packet(&f, proto, 64);
			l4 = f.buf + f.l4;
			orig_port = ld16(l4);
			orig_ck = ld16(l4 + ckoff);
			/* find the source port that makes the checksum zero */
			for (uint32_t p = 1; p <= 0xffff; p++) {
				st16(l4, rte_cpu_to_be_16((uint16_t)p));
				if (dpdk_l4_cksum(&f) == want) {
					port = rte_cpu_to_be_16((uint16_t)p);
					break;
				}
			}
			assert_int_not_equal(port, 0);
			ck = orig_ck;
			pkt_csum_update16(&ck, orig_port, port);
			if (proto == IPPROTO_UDP) {
				assert_true(ck == 0 || ck == 0xffff);
				if (ck == 0)
					ck = 0xffff;
			}
			assert_int_equal(ck, want);
			st16(l4, port);
			assert_int_equal(pkt_l4_cksum(fb_ip(&f), 20, get16(fb_ip(&f) + 2), proto),
					 want);
			st16(l4 + ckoff, ck);
			expect_ok(&f, 0, &m);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_syn),
		cmocka_unit_test(test_tcp_data),
		cmocka_unit_test(test_tcp_mss),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_icmp),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_vlan),
		cmocka_unit_test(test_trailer),
		cmocka_unit_test(test_runt),
		cmocka_unit_test(test_ethertype),
		cmocka_unit_test(test_arp_invalid),
		cmocka_unit_test(test_ip_truncated),
		cmocka_unit_test(test_ip_version),
		cmocka_unit_test(test_ip_ihl),
		cmocka_unit_test(test_ip_length),
		cmocka_unit_test(test_ip_checksum),
		cmocka_unit_test(test_ip_options_valid),
		cmocka_unit_test(test_ip_source_route),
		cmocka_unit_test(test_ip_options_bad),
		cmocka_unit_test(test_ip_martian),
		cmocka_unit_test(test_ip_fragment),
		cmocka_unit_test(test_proto),
		cmocka_unit_test(test_l4_truncated),
		cmocka_unit_test(test_tcp_doff),
		cmocka_unit_test(test_tcp_options),
		cmocka_unit_test(test_tcp_flags_table),
		cmocka_unit_test(test_tcp_flags_parse),
		cmocka_unit_test(test_port_zero),
		cmocka_unit_test(test_land),
		cmocka_unit_test(test_l4_checksum),
		cmocka_unit_test(test_udp_length),
		cmocka_unit_test(test_truncation_every_length),
		cmocka_unit_test(test_truncation_consistent_ip),
		cmocka_unit_test(test_random_mutations),
		cmocka_unit_test(test_cksum_full),
		cmocka_unit_test(test_cksum_update_nat),
		cmocka_unit_test(test_cksum_update_zero),
		cmocka_unit_test(test_cksum_delta),
		cmocka_unit_test(test_l4_checksum_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
