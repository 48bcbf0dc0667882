/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: pkt_parse() on arbitrary bytes, as one Ethernet frame.
 *
 * libFuzzer hands over a heap buffer of exactly `size` bytes, so any read past
 * the frame is an ASan report. Besides not crashing, a parse must keep the
 * promises of pkt.h, checked here against the target's own arithmetic:
 *   - a failure names one reason in range; a success describes a frame that
 *     fits: l2 + l3 + l4 <= frame_len <= len, frame_len = l2 + ip_len;
 *   - a success without offload flags means correct IPv4 and L4 checksums,
 *     valid TCP flags, non-zero ports, a well-placed MSS option;
 *   - the offload flags only skip checks: what parses without them parses
 *     with them, to the same result (and so does PKT_F_ALLOW_VLAN);
 *   - the checksum helpers agree with RFC 1071: pkt_ipv4_hdr_cksum(),
 *     pkt_l4_cksum(), pkt_csum_partial(), and an address + port rewrite done
 *     with pkt_csum_update32/16() (as the NAT does it) still verifies.
 */
#include <netinet/in.h>

#include <rte_byteorder.h>

#include "fuzz_common.h"

#include "pkt.h"

#define FLAGS_GOOD (PKT_F_IP_CKSUM_GOOD | PKT_F_L4_CKSUM_GOOD)

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The checks every successful parse must pass, whatever the flags. */
static void
check_shape(const uint8_t *frame, uint32_t len, uint32_t flags, const struct pkt_meta *m)
{
	FUZZ_CHECK(m->frame_len <= len, "frame_len %u > len %u", m->frame_len, len);
	FUZZ_CHECK(m->l2_len == 14 || (m->l2_len == 18 && (flags & PKT_F_ALLOW_VLAN)), "l2_len %u",
		   m->l2_len);
	FUZZ_CHECK((uint32_t)m->l2_len + m->l3_len + m->l4_len <= m->frame_len,
		   "l2 %u + l3 %u + l4 %u > frame_len %u", m->l2_len, m->l3_len, m->l4_len,
		   m->frame_len);
	if (m->l2_len == 18)
		FUZZ_CHECK(rd16(frame + 12) == PKT_ETHERTYPE_VLAN, "l2_len 18 without a tag");
	FUZZ_CHECK(m->ethertype == rd16(frame + m->l2_len - 2), "ethertype %#x", m->ethertype);

	if (m->ethertype == PKT_ETHERTYPE_ARP) {
		FUZZ_CHECK(m->frame_len == m->l2_len + 28u, "ARP frame_len %u", m->frame_len);
		FUZZ_CHECK(m->arp_op == 1 || m->arp_op == 2, "ARP op %u", m->arp_op);
		return;
	}
	FUZZ_CHECK(m->ethertype == PKT_ETHERTYPE_IPV4, "ethertype %#x accepted", m->ethertype);
	FUZZ_CHECK(m->frame_len == (uint32_t)m->l2_len + m->ip_len, "frame_len %u ip_len %u",
		   m->frame_len, m->ip_len);
	FUZZ_CHECK(m->l3_len >= 20 && m->l3_len <= 60 && m->l3_len % 4 == 0, "l3_len %u",
		   m->l3_len);
	FUZZ_CHECK(m->proto == IPPROTO_TCP || m->proto == IPPROTO_UDP || m->proto == IPPROTO_ICMP,
		   "proto %u", m->proto);
	if (m->proto == IPPROTO_TCP) {
		const uint8_t *th = frame + m->l2_len + m->l3_len;

		FUZZ_CHECK(m->l4_len >= 20 && m->l4_len % 4 == 0 && m->l4_len == (th[12] >> 4) * 4,
			   "tcp l4_len %u", m->l4_len);
		FUZZ_CHECK(!pkt_tcp_flags_invalid(m->tcp_flags), "tcp flags %#x accepted",
			   m->tcp_flags);
		FUZZ_CHECK(m->src_port != 0 && m->dst_port != 0, "tcp port 0 accepted");
		FUZZ_CHECK(m->tcp_win == rd16(th + 14), "tcp_win %u", m->tcp_win);
		FUZZ_CHECK(m->tcp_wscale == PKT_WSCALE_NONE ||
				   (m->tcp_wscale <= 14 && (m->tcp_flags & PKT_TCP_SYN)),
			   "tcp_wscale %u (flags %#x)", m->tcp_wscale, m->tcp_flags);
		if (m->tcp_mss_off != 0) {
			FUZZ_CHECK(m->tcp_flags & PKT_TCP_SYN, "MSS offset without SYN");
			FUZZ_CHECK(m->tcp_mss_off >= m->l2_len + m->l3_len + 22u &&
					   m->tcp_mss_off + 2u <=
						   (uint32_t)m->l2_len + m->l3_len + m->l4_len,
				   "MSS offset %u outside the options", m->tcp_mss_off);
			FUZZ_CHECK(frame[m->tcp_mss_off - 2] == 2 && frame[m->tcp_mss_off - 1] == 4,
				   "MSS offset %u not at an MSS option", m->tcp_mss_off);
		}
	} else {
		FUZZ_CHECK(m->l4_len == 8, "l4_len %u", m->l4_len);
		FUZZ_CHECK(m->tcp_mss_off == 0, "MSS offset outside TCP");
		if (m->proto == IPPROTO_UDP)
			FUZZ_CHECK(m->src_port != 0 && m->dst_port != 0, "udp port 0 accepted");
	}
	FUZZ_CHECK(!(m->src_ip == m->dst_ip && m->src_port == m->dst_port), "land accepted");
	FUZZ_CHECK(!pkt_ipv4_martian(m->src_ip), "martian source accepted");
}

/* What only a parse that verified everything itself guarantees. */
static void
check_verified(const uint8_t *frame, const struct pkt_meta *m)
{
	const uint8_t *ip = frame + m->l2_len;
	uint32_t l4_len = (uint32_t)m->ip_len - m->l3_len;
	uint16_t stored, computed;

	if (m->ethertype != PKT_ETHERTYPE_IPV4)
		return;
	FUZZ_CHECK(ref_ipv4_hdr_ok(ip, m->l3_len), "bad IPv4 header checksum accepted");
	FUZZ_CHECK(ref_l4_ok(ip, m->l3_len, l4_len), "bad L4 checksum accepted (proto %u)",
		   m->proto);
	FUZZ_CHECK(pkt_ipv4_hdr_cksum(ip, m->l3_len) == 0,
		   "pkt_ipv4_hdr_cksum of a valid header is %#x",
		   pkt_ipv4_hdr_cksum(ip, m->l3_len));

	/* recomputing the stored L4 checksum gives it back (0 and ~0 are one value) */
	stored = rd16(ip + m->l3_len +
		      (m->proto == IPPROTO_TCP ? 16 :
		       m->proto == IPPROTO_UDP ? 6 :
						 2));
	if (m->proto == IPPROTO_UDP && stored == 0)
		return;
	computed = rte_be_to_cpu_16(pkt_l4_cksum(ip, m->l3_len, m->ip_len, m->proto));
	FUZZ_CHECK(computed == stored || ((computed == 0 || computed == 0xffff) &&
					  (stored == 0 || stored == 0xffff)),
		   "pkt_l4_cksum %#x, stored %#x (proto %u)", computed, stored, m->proto);
}

/*
 * Source NAT the way lib/dp does it: new source address and port, each
 * checksum fixed incrementally before the field changes. Both must verify.
 */
static void
check_rewrite(const uint8_t *frame, const struct pkt_meta *m, uint32_t new_ip, uint16_t new_port)
{
	uint8_t buf[1600];
	uint8_t *ip = buf;
	uint8_t *l4;
	uint16_t ipc, l4c, port;
	uint32_t old_ip;
	size_t csum_off;

	if (m->ethertype != PKT_ETHERTYPE_IPV4 || m->proto == IPPROTO_ICMP ||
	    m->ip_len > sizeof(buf))
		return;
	memcpy(buf, frame + m->l2_len, m->ip_len);
	l4 = ip + m->l3_len;
	csum_off = m->proto == IPPROTO_TCP ? 16 : 6;
	memcpy(&ipc, ip + 10, 2);
	memcpy(&l4c, l4 + csum_off, 2);
	memcpy(&old_ip, ip + 12, 4);
	memcpy(&port, l4, 2);
	if (new_port == 0)
		new_port = 1;

	if (!(m->proto == IPPROTO_UDP && l4c == 0)) {
		pkt_csum_update32(&l4c, old_ip, new_ip);
		pkt_csum_update16(&l4c, port, new_port);
		if (m->proto == IPPROTO_UDP && l4c == 0)
			l4c = 0xffff;
	}
	pkt_csum_update32(&ipc, old_ip, new_ip);
	memcpy(ip + 10, &ipc, 2);
	memcpy(ip + 12, &new_ip, 4);
	memcpy(l4, &new_port, 2);
	memcpy(l4 + csum_off, &l4c, 2);

	FUZZ_CHECK(ref_ipv4_hdr_ok(ip, m->l3_len), "IPv4 checksum wrong after incremental update");
	FUZZ_CHECK(ref_l4_ok(ip, m->l3_len, m->ip_len - m->l3_len),
		   "L4 checksum wrong after incremental update (proto %u)", m->proto);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t len = size > 65535 + 18 ? 65535 + 18 : (uint32_t)size;
	struct pkt_meta m, mg, mv;
	enum egress_drop why = EGRESS_DROP_MAX, whyg = EGRESS_DROP_MAX, whyv = EGRESS_DROP_MAX;
	int rc, rcg, rcv;

	/* checksum primitive: the partial sum agrees with RFC 1071 on any bytes
	 * (host-order words: compare after converting the reference) */
	{
		uint32_t n = len > 256 ? 256 : len;
		uint16_t a = pkt_csum_fold(pkt_csum_partial(data, n, 0));
		uint16_t b = (uint16_t)ref_sum(data, n, 0);

		FUZZ_CHECK(rte_be_to_cpu_16(a) == b || (a == 0xffff && b == 0) ||
				   (a == 0 && b == 0xffff),
			   "pkt_csum_partial %#x, RFC 1071 %#x (%u bytes)", rte_be_to_cpu_16(a), b,
			   n);
	}

	rc = pkt_parse(data, len, 0, &m, &why);
	rcg = pkt_parse(data, len, FLAGS_GOOD, &mg, &whyg);
	rcv = pkt_parse(data, len, PKT_F_ALLOW_VLAN, &mv, &whyv);

	FUZZ_CHECK(rc == 0 || rc == -EINVAL, "rc %d", rc);
	if (rc != 0) {
		FUZZ_CHECK(why < EGRESS_DROP_MAX, "drop reason %d out of range", (int)why);
	} else {
		check_shape(data, len, 0, &m);
		check_verified(data, &m);
		if (m.ethertype == PKT_ETHERTYPE_IPV4 && len >= 4) {
			uint32_t ip;
			uint16_t port;

			memcpy(&ip, data + len - 4, 4);
			memcpy(&port, data + len - 2, 2);
			check_rewrite(data, &m, ip, port);
		}
		FUZZ_CHECK(rcg == 0, "fails only with the NIC's checksum flags: %s",
			   egress_drop_name(whyg));
		FUZZ_CHECK(memcmp(&m, &mg, sizeof(m)) == 0, "NIC flags change the result");
		FUZZ_CHECK(rcv == 0, "fails only with VLAN allowed: %s", egress_drop_name(whyv));
		FUZZ_CHECK(memcmp(&m, &mv, sizeof(m)) == 0, "PKT_F_ALLOW_VLAN changes the result");
	}
	if (rcg == 0)
		check_shape(data, len, FLAGS_GOOD, &mg);
	else
		FUZZ_CHECK(whyg < EGRESS_DROP_MAX, "drop reason %d out of range", (int)whyg);
	if (rcv == 0) {
		check_shape(data, len, PKT_F_ALLOW_VLAN, &mv);
		check_verified(data, &mv);
	} else {
		FUZZ_CHECK(whyv < EGRESS_DROP_MAX, "drop reason %d out of range", (int)whyv);
	}
	/* the checksum reasons are the only ones the NIC flags may take away */
	if (rc != 0 && rcg == 0)
		FUZZ_CHECK(why == EGRESS_DROP_IP_CHECKSUM || why == EGRESS_DROP_L4_CHECKSUM,
			   "flags turned a %s drop into a pass", egress_drop_name(why));
	return 0;
}
