/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Why a packet was dropped: one X-macro list generates the enum, the counter
 * names used by telemetry and the final JSON, and nothing else. Every dropped
 * packet is counted under exactly one reason.
 */
#ifndef EGRESS_DROP_H
#define EGRESS_DROP_H

/* clang-format off: one row per entry, aligned by hand */
#define EGRESS_DROP_REASONS(X)                                                                     \
	X(RUNT, "runt")                   /* shorter than Ethernet */                              \
	X(MULTI_SEG, "multi_segment")     /* chained mbuf */                                       \
	X(L2_NOT_FOR_US, "l2_not_for_us") /* dst MAC not ours */                                   \
	X(VLAN_TAGGED, "vlan_tagged")     /* 802.1Q on untagged port */                            \
	X(VLAN_MISMATCH, "vlan_mismatch") /* untagged or other VID on a tagged port */             \
	X(ETHERTYPE, "unsupported_ethertype")                                                      \
	X(ARP_INVALID, "arp_invalid")                                                              \
	X(ARP_IGNORED, "arp_ignored") /* not for our address */                                    \
	X(IP_TRUNCATED, "ip_truncated")                                                            \
	X(IP_VERSION, "ip_bad_version")                                                            \
	X(IP_IHL, "ip_bad_ihl")                                                                    \
	X(IP_LENGTH, "ip_bad_length")                                                              \
	X(IP_CHECKSUM, "ip_bad_checksum")                                                          \
	X(IP_SOURCE_ROUTE, "ip_source_route")                                                      \
	X(IP_OPTIONS, "ip_bad_options")                                                            \
	X(IP_FRAGMENT, "ip_fragment")                                                              \
	X(IP_MARTIAN, "ip_martian_source")                                                         \
	X(IP_MARTIAN_DST, "ip_martian_destination") /* broadcast, multicast */                     \
	X(IP_LAND, "ip_land")                                                                      \
	X(L4_TRUNCATED, "l4_truncated")                                                            \
	X(L4_CHECKSUM, "l4_bad_checksum")                                                          \
	X(TCP_DOFF, "tcp_bad_data_offset")                                                         \
	X(TCP_OPTIONS, "tcp_bad_options")                                                          \
	X(TCP_FLAGS, "tcp_bad_flags")                                                              \
	X(TCP_WINDOW, "tcp_out_of_window") /* blind RST, stale/far data */                         \
	X(PORT_ZERO, "port_zero")                                                                  \
	X(PROTO, "unsupported_protocol")                                                           \
	X(ICMP_UNHANDLED, "icmp_unhandled")                                                        \
	X(ICMP_QUOTE_CHECKSUM, "icmp_quote_bad_checksum") /* quoted IP hdr */                      \
	X(SPOOFED, "inside_source_spoofed")                                                        \
	X(TTL_EXPIRED, "ttl_expired")                                                              \
	X(NO_ROUTE, "no_route")                                                                    \
	X(TO_SELF, "to_self_unhandled") /* for us, not ARP/echo */                                 \
	X(MTU_EXCEEDED, "mtu_exceeded")                                                            \
	X(POLICY_DENIED, "policy_denied")                                                          \
	X(CONN_LIMIT, "connection_limit") /* DestinationRule maxConnections */                     \
	X(NOT_SYN, "no_flow_not_syn")     /* TCP without flow, not SYN */                          \
	X(NO_FLOW, "no_flow")             /* outside, matches no flow */                           \
	X(REVOKED, "revoked")             /* policy no longer allows */                            \
	X(FLOW_TABLE_FULL, "flow_table_full")                                                      \
	X(EMBRYONIC_FULL, "embryonic_limit")                                                       \
	X(SOURCE_LIMIT, "per_source_limit") /* flows.per_source caps */                            \
	X(NAT_EXHAUSTED, "nat_ports_exhausted")                                                    \
	X(NEIGH_UNRESOLVED, "neigh_unresolved")                                                    \
	X(TX_FULL, "tx_full")                                                                      \
	X(VLAN_INSERT, "vlan_insert_failed")    /* no headroom for the tag */                      \
	X(HANDOFF_FULL, "handoff_full")         /* owner worker's ring full */                     \
	X(EXCEPTION_FULL, "exception_dropped")  /* exception path's ring full */                   \
	X(DRAINING, "draining")                 /* egressctl drain: a new flow refused */          \
	X(DRAINING_CONTROL, "draining_control") /* drain: the inside exception path withheld */
/* clang-format on */

enum egress_drop {
#define EGRESS_DROP_ENUM(sym, name) EGRESS_DROP_##sym,
	EGRESS_DROP_REASONS(EGRESS_DROP_ENUM)
#undef EGRESS_DROP_ENUM
	EGRESS_DROP_MAX
};

/** Counter name of a drop reason ("runt", ...); "unknown" out of range. */
const char *egress_drop_name(enum egress_drop reason);

#endif
