/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP tracker's state table: one row per state and direction, one
 * comment per row (doc/tcp-states.md; tests/unit/test_tcp_states.c has one
 * test per row).
 */
#include "dp.h"
#include "tcp.h"

#define S_NONE FLOW_S_NONE
#define S_SS   FLOW_S_SYN_SENT
#define S_SR   FLOW_S_SYN_RCVD
#define S_ES   FLOW_S_ESTABLISHED
#define S_FO   FLOW_S_FIN_OUT
#define S_FI   FLOW_S_FIN_IN
#define S_TW   FLOW_S_TIME_WAIT
#define S_CL   FLOW_S_CLOSED
#define S_SS2  FLOW_S_SYN_SENT2
#define S_SR2  FLOW_S_SYN_RCVD2

/*
 * next = dp_tcp_table[state][direction][class]. One row per state and direction;
 * columns: SYN, SYN-ACK, FIN, RST, other. The unit test has one case per row.
 */
/* clang-format off: the table reads as one, aligned by direction */
const uint8_t dp_tcp_table[FLOW_S_MAX][2][TC_MAX] = {
	/* only a client SYN creates a flow */
	[S_NONE] = { [FLOW_DIR_OUT] = { S_SS, S_NONE, S_NONE, S_NONE, S_NONE },
		     [FLOW_DIR_IN] = { S_NONE, S_NONE, S_NONE, S_NONE, S_NONE } },
	/* client SYN retransmits stay; the server's SYN-ACK moves on, its own
	 * SYN is a simultaneous open (RFC 793 figure 8); RST closes */
	[S_SS] = { [FLOW_DIR_OUT] = { S_SS, S_SS, S_SS, S_CL, S_SS },
		   [FLOW_DIR_IN] = { S_SS2, S_SR, S_SS, S_CL, S_SS } },
	/* the client's ACK of the SYN-ACK establishes, and so does its own
	 * SYN-ACK (the last step of a simultaneous open whose server answered
	 * first); FIN before that is a half-close of an embryonic connection */
	[S_SR] = { [FLOW_DIR_OUT] = { S_SR, S_ES, S_FO, S_CL, S_ES },
		   [FLOW_DIR_IN] = { S_SR, S_SR, S_FI, S_CL, S_SR } },
	/* simultaneous open, both SYNs seen: each side now sends a SYN-ACK;
	 * the server's first leads to SYN_RCVD, the client's to SYN_RCVD2 */
	[S_SS2] = { [FLOW_DIR_OUT] = { S_SS2, S_SR2, S_SS2, S_CL, S_SS2 },
		    [FLOW_DIR_IN] = { S_SS2, S_SR, S_SS2, S_CL, S_SS2 } },
	/* simultaneous open, the client's SYN-ACK seen: the server's SYN-ACK
	 * (or any ACK of the client's SYN) establishes */
	[S_SR2] = { [FLOW_DIR_OUT] = { S_SR2, S_SR2, S_SR2, S_CL, S_SR2 },
		    [FLOW_DIR_IN] = { S_SR2, S_ES, S_FI, S_CL, S_ES } },
	/* a FIN starts the close from the side that sent it */
	[S_ES] = { [FLOW_DIR_OUT] = { S_ES, S_ES, S_FO, S_CL, S_ES },
		   [FLOW_DIR_IN] = { S_ES, S_ES, S_FI, S_CL, S_ES } },
	/* client closed; the server's FIN completes the close */
	[S_FO] = { [FLOW_DIR_OUT] = { S_FO, S_FO, S_FO, S_CL, S_FO },
		   [FLOW_DIR_IN] = { S_FO, S_FO, S_TW, S_CL, S_FO } },
	/* server closed; the client's FIN completes the close */
	[S_FI] = { [FLOW_DIR_OUT] = { S_FI, S_FI, S_TW, S_CL, S_FI },
		   [FLOW_DIR_IN] = { S_FI, S_FI, S_FI, S_CL, S_FI } },
	/* a new client SYN reopens the same 5-tuple (RFC 6191 style reuse) */
	[S_TW] = { [FLOW_DIR_OUT] = { S_SS, S_TW, S_TW, S_CL, S_TW },
		   [FLOW_DIR_IN] = { S_TW, S_TW, S_TW, S_CL, S_TW } },
	/* after RST the flow lingers (RFC 7857 2.2); a client SYN reopens it */
	[S_CL] = { [FLOW_DIR_OUT] = { S_SS, S_CL, S_CL, S_CL, S_CL },
		   [FLOW_DIR_IN] = { S_CL, S_CL, S_CL, S_CL, S_CL } },
};
/* clang-format on */

uint8_t
dp_tcp_next(uint8_t state, uint8_t dir, uint8_t tcp_flags)
{
	if (state >= FLOW_S_MAX || dir > FLOW_DIR_IN)
		return state;
	return dp_tcp_table[state][dir][tcp_class(tcp_flags)];
}

const char *
flow_state_name(uint8_t state)
{
	static const char *const names[FLOW_S_MAX] = {
#define FLOW_STATE_NAME(name, str) [FLOW_S_##name] = str,
		FLOW_STATES(FLOW_STATE_NAME)
#undef FLOW_STATE_NAME
	};

	return state < FLOW_S_MAX ? names[state] : "invalid";
}
