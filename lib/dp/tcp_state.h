/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP tracker's per-flow data, as the data path keeps it in the flow
 * table (struct flow's state byte, and the table's per-flow extension), and
 * the names telemetry shows for its states. doc/tcp-states.md.
 */
#ifndef EGRESS_DP_TCP_STATE_H
#define EGRESS_DP_TCP_STATE_H

#include <assert.h>
#include <stdint.h>

#include "flow.h"

/**
 * TCP tracking states (doc/tcp-states.md), with the names telemetry shows.
 * UDP flows use NONE (no reply yet: embryonic) and ESTABLISHED.
 */
/* clang-format off: one row per entry, aligned by hand */
#define FLOW_STATES(X)                                                                             \
	X(NONE, "none")                                                                            \
	X(SYN_SENT, "syn_sent")       /* client SYN seen */                                        \
	X(SYN_RCVD, "syn_rcvd")       /* server SYN-ACK seen (or, in a simultaneous   \
					 open, the server's SYN-ACK first) */            \
	X(ESTABLISHED, "established") /* the handshake completed both ways */                      \
	X(FIN_OUT, "fin_client")      /* the client sent FIN */                                    \
	X(FIN_IN, "fin_server")       /* the server sent FIN */                                    \
	X(TIME_WAIT, "time_wait")     /* both sides sent FIN */                                    \
	X(CLOSED, "closed")           /* RST seen: lingers (RFC 7857 2.2) */                       \
	X(SYN_SENT2, "syn_sent2")     /* simultaneous open: both SYNs seen */                      \
	X(SYN_RCVD2, "syn_rcvd2")     /* simultaneous open: the client's SYN-ACK      \
					 seen, the server's still due */
/* clang-format on */

enum flow_state {
#define FLOW_STATE_ENUM(name, str) FLOW_S_##name,
	FLOW_STATES(FLOW_STATE_ENUM)
#undef FLOW_STATE_ENUM
	FLOW_S_MAX
};

/** The state's name as telemetry shows it; "invalid" out of range. */
const char *flow_state_name(uint8_t state);

/** TCP window tracking of one direction of a flow (the sender's). */
struct flow_tcp {
	uint32_t end;    /**< highest seq+len this direction sent */
	uint32_t maxend; /**< highest ack+window the other side allowed it */
	uint32_t maxwin; /**< largest (scaled) window this direction advertised */
	uint8_t wscale;  /**< its SYN's window scale + 1; 0: none */
	uint8_t seen;    /**< a segment of this direction was seen */
	uint8_t acked;   /**< maxend is known */
	uint8_t pad;
};
static_assert(sizeof(struct flow_tcp) == 16, "two directions: half a cache line per flow");

/**
 * What the data path keeps beside each flow (the flow table's extension):
 * TCP tracking, and, only in the table of a worker with flow logs on (its
 * extension is then FLOW_EXT_MAX, one line, instead of FLOW_EXT_MIN, half a
 * line: dp_worker_create()), the counts of the flow log's end record, which
 * forward() updates in the same line it tracks TCP in. The fields after
 * tcp[] exist only there: read or write them only when w->flowlog is set.
 */
struct dp_flow_ext {
	struct flow_tcp tcp[2]; /**< [enum flow_dir] */
	uint64_t bytes[2];      /**< [enum flow_dir]: L3 bytes (IPv4 total length) forwarded */
	uint32_t packets[2];    /**< [enum flow_dir]: frames forwarded */
	uint32_t created_ms;    /**< creation (or reopening), low 32 bits of the ms clock */
	uint8_t logged;         /**< DP_FLOWLOG_* records written for it */
	uint8_t pad[3];
};
static_assert(sizeof(struct dp_flow_ext) == FLOW_EXT_MAX, "with flow logs, one cache line");
static_assert(offsetof(struct dp_flow_ext, bytes) == FLOW_EXT_MIN,
	      "without flow logs, the TCP tracking alone: half a cache line");
#define DP_FLOWLOG_ADMITTED 1 /**< its admit record was made (or lost) */
#define DP_FLOWLOG_ENDED    2 /**< its end record was made (or lost) */

/** A flow's extension (its fields after tcp[] only with flow logs on). */
static inline struct dp_flow_ext *
dp_flow_ext(const struct flow_table *ft, const struct flow *f)
{
	return (struct dp_flow_ext *)flow_table_ext(ft, f);
}

/** A flow's TCP window tracking, [enum flow_dir]. */
static inline struct flow_tcp *
dp_flow_tcp(const struct flow_table *ft, const struct flow *f)
{
	return (struct flow_tcp *)flow_table_ext(ft, f);
}

#endif
