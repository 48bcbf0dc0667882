/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP tracking of the data path (doc/tcp-states.md): the state table, kept
 * in tcp.c, and the sequence-window checks, inline here because every
 * forwarded segment runs them. Private to lib/dp.
 */
#ifndef EGRESS_DP_TCP_H
#define EGRESS_DP_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "flow.h"
#include "pkt.h"

enum tcp_class {
	TC_SYN, /* SYN without ACK */
	TC_SYNACK,
	TC_FIN, /* FIN (with ACK; FIN without ACK never passes the parser) */
	TC_RST,
	TC_ACK, /* anything else */
	TC_MAX
};

static inline enum tcp_class
tcp_class(uint8_t flags)
{
	if (flags & PKT_TCP_RST)
		return TC_RST;
	if (flags & PKT_TCP_SYN)
		return (flags & PKT_TCP_ACK) ? TC_SYNACK : TC_SYN;
	if (flags & PKT_TCP_FIN)
		return TC_FIN;
	return TC_ACK;
}

/* A TCP flow whose handshake has not completed. */
static inline bool
state_embryonic(uint8_t s)
{
	return s == FLOW_S_SYN_SENT || s == FLOW_S_SYN_RCVD || s == FLOW_S_SYN_SENT2 ||
	       s == FLOW_S_SYN_RCVD2;
}

/* A TCP flow whose SYNs are still handshake segments (or a new one's). */
static inline bool
state_handshake(uint8_t s)
{
	return s == FLOW_S_NONE || state_embryonic(s);
}

static inline uint32_t
seg_end(const struct pkt_meta *pm)
{
	return pm->tcp_seq + (uint32_t)(pm->ip_len - pm->l3_len - pm->l4_len) +
	       !!(pm->tcp_flags & PKT_TCP_SYN) + !!(pm->tcp_flags & PKT_TCP_FIN);
}

#define SEQ_LT(a, b) ((int32_t)((a) - (b)) < 0)
#define SEQ_GT(a, b) ((int32_t)((a) - (b)) > 0)

/* Window of a non-SYN segment, scaled when both SYNs agreed on scaling. */
static inline uint32_t
seg_window(const struct flow_tcp *t, uint8_t dir, const struct pkt_meta *pm)
{
	if ((pm->tcp_flags & PKT_TCP_SYN) || !t[0].wscale || !t[1].wscale)
		return pm->tcp_win;
	return (uint32_t)pm->tcp_win << (t[dir].wscale - 1);
}

/*
 * Is a segment of an established-enough flow inside the window its receiver
 * can accept (as Linux's nf_conntrack and VPP do, after G. van Rooij)?
 * Upper bound: no byte beyond the highest ack + window the receiver gave.
 * Lower bound: not more than a window (at least 64 KiB) behind what this
 * side already sent: old retransmissions pass, blind RSTs and far-away data
 * do not. Its ACK, when it has one, acknowledges nothing the other side has
 * not sent, and nothing more than a window (at least 64 KiB) behind what it
 * has (van Rooij's third and fourth conditions). Handshake segments and
 * directions not yet seen are not judged.
 */
static inline bool
tcp_in_window(const struct flow_tcp *t, uint8_t dir, const struct pkt_meta *pm)
{
	const uint8_t rdir = dir ^ 1;
	uint32_t end = seg_end(pm), win;

	if ((pm->tcp_flags & PKT_TCP_SYN) || !t[dir].seen || !t[rdir].seen)
		return true;
	if (t[dir].acked && SEQ_GT(end, t[dir].maxend))
		return false;
	win = RTE_MAX(t[rdir].maxwin, (uint32_t)UINT16_MAX);
	if (SEQ_LT(end, t[dir].end - win))
		return false;
	if (pm->tcp_flags & PKT_TCP_ACK) {
		win = RTE_MAX(t[dir].maxwin, (uint32_t)UINT16_MAX);
		if (SEQ_GT(pm->tcp_ack, t[rdir].end) || SEQ_LT(pm->tcp_ack, t[rdir].end - win))
			return false;
	}
	return true;
}

/*
 * Learn from a segment: sequence end, scale, largest window, what it acks.
 * Only handshake SYNs are learnt from (the window scale is agreed there,
 * RFC 7323 2.2); forward() does not call this for a SYN on a connection
 * past its handshake.
 */
static inline void
track_tcp(struct flow_tcp *t, uint8_t dir, const struct pkt_meta *pm)
{
	uint32_t end = seg_end(pm), win;

	if (pm->tcp_flags & PKT_TCP_SYN)
		t[dir].wscale = pm->tcp_wscale == PKT_WSCALE_NONE ? 0 : pm->tcp_wscale + 1;
	if (!t[dir].seen || SEQ_GT(end, t[dir].end)) {
		t[dir].end = end;
		t[dir].seen = 1;
	}
	win = seg_window(t, dir, pm);
	if (win > t[dir].maxwin)
		t[dir].maxwin = win;
	if (pm->tcp_flags & PKT_TCP_ACK) {
		uint32_t maxend = pm->tcp_ack + RTE_MAX(win, 1u);

		/* what this side acks and opens bounds what the other may send */
		if (!t[dir ^ 1].acked || SEQ_GT(maxend, t[dir ^ 1].maxend)) {
			t[dir ^ 1].maxend = maxend;
			t[dir ^ 1].acked = 1;
		}
	}
}

/* next = dp_tcp_table[state][direction][class] (tcp.c) */
extern const uint8_t dp_tcp_table[FLOW_S_MAX][2][TC_MAX];

#endif
