/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP tracker's table (lib/dp/tcp.c, doc/tcp-states.md), one test per
 * row: every state, both directions, every flag class. The expectations are
 * written from the diagram, not copied from the table.
 */
#include "test_common.h"

#include "dp.h"
#include "flow.h"
#include "pkt.h"

#define SYN    PKT_TCP_SYN
#define SYNACK (PKT_TCP_SYN | PKT_TCP_ACK)
#define FIN    (PKT_TCP_FIN | PKT_TCP_ACK)
#define RST    PKT_TCP_RST
#define ACK    PKT_TCP_ACK
#define OUT    FLOW_DIR_OUT
#define IN     FLOW_DIR_IN

/* One row: the next state for SYN, SYN-ACK, FIN, RST and a plain ACK. */
static void
row(uint8_t state, uint8_t dir, uint8_t on_syn, uint8_t on_synack, uint8_t on_fin, uint8_t on_rst,
    uint8_t on_ack)
{
	assert_int_equal(dp_tcp_next(state, dir, SYN), on_syn);
	assert_int_equal(dp_tcp_next(state, dir, SYNACK), on_synack);
	assert_int_equal(dp_tcp_next(state, dir, FIN), on_fin);
	assert_int_equal(dp_tcp_next(state, dir, RST), on_rst);
	assert_int_equal(dp_tcp_next(state, dir, RST | ACK), on_rst);
	assert_int_equal(dp_tcp_next(state, dir, ACK), on_ack);
	assert_int_equal(dp_tcp_next(state, dir, ACK | PKT_TCP_PSH), on_ack);
}

/* Only the client's SYN creates (and so leaves NONE). */
static void
t_none_out(void **s)
{
	(void)s;
	row(FLOW_S_NONE, OUT, FLOW_S_SYN_SENT, FLOW_S_NONE, FLOW_S_NONE, FLOW_S_NONE, FLOW_S_NONE);
}
static void
t_none_in(void **s)
{
	(void)s;
	row(FLOW_S_NONE, IN, FLOW_S_NONE, FLOW_S_NONE, FLOW_S_NONE, FLOW_S_NONE, FLOW_S_NONE);
}
/* SYN retransmits stay; RST closes; nothing else moves it from the client. */
static void
t_syn_sent_out(void **s)
{
	(void)s;
	row(FLOW_S_SYN_SENT, OUT, FLOW_S_SYN_SENT, FLOW_S_SYN_SENT, FLOW_S_SYN_SENT, FLOW_S_CLOSED,
	    FLOW_S_SYN_SENT);
}
/* the server's SYN-ACK moves on; its own SYN is a simultaneous open. */
static void
t_syn_sent_in(void **s)
{
	(void)s;
	row(FLOW_S_SYN_SENT, IN, FLOW_S_SYN_SENT2, FLOW_S_SYN_RCVD, FLOW_S_SYN_SENT, FLOW_S_CLOSED,
	    FLOW_S_SYN_SENT);
}
/* the client's ACK of the SYN-ACK establishes, so does its own SYN-ACK
 * (simultaneous open, the server's SYN-ACK first); its FIN half-closes. */
static void
t_syn_rcvd_out(void **s)
{
	(void)s;
	row(FLOW_S_SYN_RCVD, OUT, FLOW_S_SYN_RCVD, FLOW_S_ESTABLISHED, FLOW_S_FIN_OUT,
	    FLOW_S_CLOSED, FLOW_S_ESTABLISHED);
}
/* SYN-ACK retransmits stay; the server's FIN half-closes. */
static void
t_syn_rcvd_in(void **s)
{
	(void)s;
	row(FLOW_S_SYN_RCVD, IN, FLOW_S_SYN_RCVD, FLOW_S_SYN_RCVD, FLOW_S_FIN_IN, FLOW_S_CLOSED,
	    FLOW_S_SYN_RCVD);
}
/* simultaneous open, both SYNs seen: the client's SYN-ACK leads to
 * SYN_RCVD2, SYNs again stay, RST closes */
static void
t_syn_sent2_out(void **s)
{
	(void)s;
	row(FLOW_S_SYN_SENT2, OUT, FLOW_S_SYN_SENT2, FLOW_S_SYN_RCVD2, FLOW_S_SYN_SENT2,
	    FLOW_S_CLOSED, FLOW_S_SYN_SENT2);
}
/* ... and the server's SYN-ACK to SYN_RCVD (the client's ACK completes) */
static void
t_syn_sent2_in(void **s)
{
	(void)s;
	row(FLOW_S_SYN_SENT2, IN, FLOW_S_SYN_SENT2, FLOW_S_SYN_RCVD, FLOW_S_SYN_SENT2,
	    FLOW_S_CLOSED, FLOW_S_SYN_SENT2);
}
/* the client's SYN-ACK seen: its own segments wait for the server's */
static void
t_syn_rcvd2_out(void **s)
{
	(void)s;
	row(FLOW_S_SYN_RCVD2, OUT, FLOW_S_SYN_RCVD2, FLOW_S_SYN_RCVD2, FLOW_S_SYN_RCVD2,
	    FLOW_S_CLOSED, FLOW_S_SYN_RCVD2);
}
/* the server's SYN-ACK, or any ACK of the client's SYN, establishes */
static void
t_syn_rcvd2_in(void **s)
{
	(void)s;
	row(FLOW_S_SYN_RCVD2, IN, FLOW_S_SYN_RCVD2, FLOW_S_ESTABLISHED, FLOW_S_FIN_IN,
	    FLOW_S_CLOSED, FLOW_S_ESTABLISHED);
}
static void
t_est_out(void **s)
{
	(void)s;
	row(FLOW_S_ESTABLISHED, OUT, FLOW_S_ESTABLISHED, FLOW_S_ESTABLISHED, FLOW_S_FIN_OUT,
	    FLOW_S_CLOSED, FLOW_S_ESTABLISHED);
}
static void
t_est_in(void **s)
{
	(void)s;
	row(FLOW_S_ESTABLISHED, IN, FLOW_S_ESTABLISHED, FLOW_S_ESTABLISHED, FLOW_S_FIN_IN,
	    FLOW_S_CLOSED, FLOW_S_ESTABLISHED);
}
/* client closed: its own FIN again stays, the server's completes the close */
static void
t_fin_out_out(void **s)
{
	(void)s;
	row(FLOW_S_FIN_OUT, OUT, FLOW_S_FIN_OUT, FLOW_S_FIN_OUT, FLOW_S_FIN_OUT, FLOW_S_CLOSED,
	    FLOW_S_FIN_OUT);
}
static void
t_fin_out_in(void **s)
{
	(void)s;
	row(FLOW_S_FIN_OUT, IN, FLOW_S_FIN_OUT, FLOW_S_FIN_OUT, FLOW_S_TIME_WAIT, FLOW_S_CLOSED,
	    FLOW_S_FIN_OUT);
}
/* server closed: the client's FIN completes it (simultaneous close too) */
static void
t_fin_in_out(void **s)
{
	(void)s;
	row(FLOW_S_FIN_IN, OUT, FLOW_S_FIN_IN, FLOW_S_FIN_IN, FLOW_S_TIME_WAIT, FLOW_S_CLOSED,
	    FLOW_S_FIN_IN);
}
static void
t_fin_in_in(void **s)
{
	(void)s;
	row(FLOW_S_FIN_IN, IN, FLOW_S_FIN_IN, FLOW_S_FIN_IN, FLOW_S_FIN_IN, FLOW_S_CLOSED,
	    FLOW_S_FIN_IN);
}
/* TIME_WAIT: a new client SYN reopens the 5-tuple; RST closes */
static void
t_tw_out(void **s)
{
	(void)s;
	row(FLOW_S_TIME_WAIT, OUT, FLOW_S_SYN_SENT, FLOW_S_TIME_WAIT, FLOW_S_TIME_WAIT,
	    FLOW_S_CLOSED, FLOW_S_TIME_WAIT);
}
static void
t_tw_in(void **s)
{
	(void)s;
	row(FLOW_S_TIME_WAIT, IN, FLOW_S_TIME_WAIT, FLOW_S_TIME_WAIT, FLOW_S_TIME_WAIT,
	    FLOW_S_CLOSED, FLOW_S_TIME_WAIT);
}
/* CLOSED lingers (RFC 7857 2.2); only a client SYN reopens it */
static void
t_closed_out(void **s)
{
	(void)s;
	row(FLOW_S_CLOSED, OUT, FLOW_S_SYN_SENT, FLOW_S_CLOSED, FLOW_S_CLOSED, FLOW_S_CLOSED,
	    FLOW_S_CLOSED);
}
static void
t_closed_in(void **s)
{
	(void)s;
	row(FLOW_S_CLOSED, IN, FLOW_S_CLOSED, FLOW_S_CLOSED, FLOW_S_CLOSED, FLOW_S_CLOSED,
	    FLOW_S_CLOSED);
}

/*
 * RFC 793 figure 8, both orders of the SYN-ACKs: SYN out, SYN in, then the
 * two SYN-ACKs (and nothing else) reach ESTABLISHED.
 */
static void
t_simultaneous_open(void **s)
{
	uint8_t st;
	(void)s;

	st = dp_tcp_next(FLOW_S_NONE, OUT, SYN);
	st = dp_tcp_next(st, IN, SYN);
	st = dp_tcp_next(st, IN, SYNACK);
	assert_int_equal(dp_tcp_next(st, OUT, SYNACK), FLOW_S_ESTABLISHED);
	st = dp_tcp_next(FLOW_S_NONE, OUT, SYN);
	st = dp_tcp_next(st, IN, SYN);
	st = dp_tcp_next(st, OUT, SYNACK);
	assert_int_equal(dp_tcp_next(st, IN, SYNACK), FLOW_S_ESTABLISHED);
}

/* SYN with ECE/CWR (ECN setup, RFC 3168) is a SYN like any other. */
static void
t_ecn_syn(void **s)
{
	(void)s;
	assert_int_equal(dp_tcp_next(FLOW_S_NONE, OUT, SYN | PKT_TCP_ECE | PKT_TCP_CWR),
			 FLOW_S_SYN_SENT);
	assert_int_equal(dp_tcp_next(FLOW_S_SYN_SENT, IN, SYNACK | PKT_TCP_ECE), FLOW_S_SYN_RCVD);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_none_out),
		cmocka_unit_test(t_none_in),
		cmocka_unit_test(t_syn_sent_out),
		cmocka_unit_test(t_syn_sent_in),
		cmocka_unit_test(t_syn_rcvd_out),
		cmocka_unit_test(t_syn_rcvd_in),
		cmocka_unit_test(t_syn_sent2_out),
		cmocka_unit_test(t_syn_sent2_in),
		cmocka_unit_test(t_syn_rcvd2_out),
		cmocka_unit_test(t_syn_rcvd2_in),
		cmocka_unit_test(t_est_out),
		cmocka_unit_test(t_est_in),
		cmocka_unit_test(t_fin_out_out),
		cmocka_unit_test(t_fin_out_in),
		cmocka_unit_test(t_fin_in_out),
		cmocka_unit_test(t_fin_in_in),
		cmocka_unit_test(t_tw_out),
		cmocka_unit_test(t_tw_in),
		cmocka_unit_test(t_closed_out),
		cmocka_unit_test(t_closed_in),
		cmocka_unit_test(t_simultaneous_open),
		cmocka_unit_test(t_ecn_syn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
