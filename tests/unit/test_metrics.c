/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the Prometheus exposition writer (lib/ctl/metrics.c): the
 * exact text for given counters, label and help escaping, and the
 * measure-then-write contract of ctl_metrics_format().
 */
#include <stdlib.h>
#include <string.h>

#include "test_common.h"

#include <rte_byteorder.h>

#include "metrics.h"

/* Every figure distinct, so that a sample that shows another's value fails. */
static void
fill(struct ctl_metrics *m)
{
	unsigned int r;

	memset(m, 0, sizeof(*m));
	m->s.port[DP_INSIDE].rx = 11;
	m->s.port[DP_INSIDE].tx = 12;
	m->s.port[DP_INSIDE].dropped = 13;
	m->s.port[DP_OUTSIDE].rx = 21;
	m->s.port[DP_OUTSIDE].tx = 22;
	m->s.port[DP_OUTSIDE].dropped = 23;
	m->s.port[DP_INSIDE].rx_bytes = 14;
	m->s.port[DP_INSIDE].tx_bytes = 15;
	m->s.port[DP_OUTSIDE].rx_bytes = 24;
	m->s.port[DP_OUTSIDE].tx_bytes = 25;
	m->s.denied_no_address = 51;
	for (r = 0; r < EGRESS_DROP_MAX; r++)
		m->s.drops[r] = 1000 + r;
	m->s.drops[EGRESS_DROP_POLICY_DENIED] = 0; /* zeros are listed too */
	m->s.flows_created = 31;
	m->s.flows_expired = 32;
	m->s.flows_revoked = 33;
	m->flows_active = 41;
	m->draining = 1;
	m->drain_left_ms = 42999;
	m->generation = 7;
	m->reloads_ok = 6;
	m->reloads_failed = 18446744073709551615ull;
	/* NAT: 40 of a 50-port share toward the fullest destination (0.8) */
	m->s.nat_spilled = 34;
	m->nat.n_addrs = 2;
	m->nat.a[0].addr = RTE_BE32(0xcb00710a); /* 203.0.113.10 */
	m->nat.a[0].ports_in_use = 51;
	m->nat.a[0].fullest.count = 40;
	m->nat.a[0].share = 50;
	m->nat.a[1].addr = RTE_BE32(0xcb00710b);
	m->nat.untracked = 3;
	m->flowlog_written = 51;
	m->s.flowlog_dropped = 52;
	m->s.flowlog_suppressed = 53;
	m->flowlog_unwritten = 54;
	m->s.sync_records_lost = 70;
	m->s.sync_flows_installed = 71;
	m->sync.records_sent = 72;
	m->sync.records_received = 73;
	m->sync.send_errors = 1;
	m->sync.records_malformed = 74;
	m->sync.peer_flows = 75;
	m->sync.peer_flows_dropped = 76;
	m->sync.peer_alive = 1;
	m->sync.takeover = 0;
	m->exc_to_host[DP_OUTSIDE] = 61;
	m->exc_from_host[DP_OUTSIDE] = 62;
	m->exc_host_dropped[DP_OUTSIDE] = 63;
	m->exc_from_host[DP_INSIDE] = 64;
}

static void
test_exact_text(void **state)
{
	static const char head[] =
		"# HELP egressd_port_packets_total Frames received (rx) and sent (tx) per port.\n"
		"# TYPE egressd_port_packets_total counter\n"
		"egressd_port_packets_total{port=\"inside\",direction=\"rx\"} 11\n"
		"egressd_port_packets_total{port=\"inside\",direction=\"tx\"} 12\n"
		"egressd_port_packets_total{port=\"outside\",direction=\"rx\"} 21\n"
		"egressd_port_packets_total{port=\"outside\",direction=\"tx\"} 22\n"
		"# HELP egressd_port_bytes_total Bytes of the frames received (rx) and sent (tx) "
		"per port: Ethernet header included, FCS excluded, as NIC counters count them.\n"
		"# TYPE egressd_port_bytes_total counter\n"
		"egressd_port_bytes_total{port=\"inside\",direction=\"rx\"} 14\n"
		"egressd_port_bytes_total{port=\"inside\",direction=\"tx\"} 15\n"
		"egressd_port_bytes_total{port=\"outside\",direction=\"rx\"} 24\n"
		"egressd_port_bytes_total{port=\"outside\",direction=\"tx\"} 25\n"
		"# HELP egressd_port_link_up 1 while the port's link is up, 0 while it is down.\n"
		"# TYPE egressd_port_link_up gauge\n"
		"egressd_port_link_up{port=\"inside\"} 1\n"
		"egressd_port_link_up{port=\"outside\"} 0\n"
		"# HELP egressd_drops_total Frames dropped, by reason (the final JSON's \"drops\").\n"
		"# TYPE egressd_drops_total counter\n";
	static const char tail[] =
		"# HELP egressd_flows_active Flows in the flow tables now.\n"
		"# TYPE egressd_flows_active gauge\n"
		"egressd_flows_active 41\n"
		"# HELP egressd_draining 1 while egressctl drain runs: new flows refused, the "
		"router's session withheld.\n"
		"# TYPE egressd_draining gauge\n"
		"egressd_draining 1\n"
		"# HELP egressd_drain_left_seconds Seconds to the drain's deadline (0: not "
		"draining).\n"
		"# TYPE egressd_drain_left_seconds gauge\n"
		"egressd_drain_left_seconds 42\n"
		"# HELP egressd_flows_created_total Flows admitted.\n"
		"# TYPE egressd_flows_created_total counter\n"
		"egressd_flows_created_total 31\n"
		"# HELP egressd_flows_revoked_total Flows ended because a reload no longer allows "
		"them.\n"
		"# TYPE egressd_flows_revoked_total counter\n"
		"egressd_flows_revoked_total 33\n"
		"# HELP egressd_policy_generation Generation of the policy in force (1 at start, +1 "
		"per reload published).\n"
		"# TYPE egressd_policy_generation gauge\n"
		"egressd_policy_generation 7\n"
		"# HELP egressd_reloads_total Policy reloads: published (ok) or rejected, the running "
		"policy kept (failed).\n"
		"# TYPE egressd_reloads_total counter\n"
		"egressd_reloads_total{result=\"ok\"} 6\n"
		"egressd_reloads_total{result=\"failed\"} 18446744073709551615\n"
		"# HELP egressd_denied_no_address_total New flows denied to an address no "
		"ServiceEntry lists (no near miss).\n"
		"# TYPE egressd_denied_no_address_total counter\n"
		"egressd_denied_no_address_total 51\n"
		"# HELP egressd_flowlog_records_total Flow-log lines written.\n"
		"# TYPE egressd_flowlog_records_total counter\n"
		"egressd_flowlog_records_total 51\n"
		"# HELP egressd_flowlog_dropped_total Flow-log records lost: a worker's ring to the "
		"writer was full.\n"
		"# TYPE egressd_flowlog_dropped_total counter\n"
		"egressd_flowlog_dropped_total 52\n"
		"# HELP egressd_flowlog_suppressed_total Deny records not made: over "
		"flowlog.denied_per_second.\n"
		"# TYPE egressd_flowlog_suppressed_total counter\n"
		"egressd_flowlog_suppressed_total 53\n"
		"# HELP egressd_flowlog_unwritten_total Flow-log records drained but not written: the "
		"file could not be opened or written.\n"
		"# TYPE egressd_flowlog_unwritten_total counter\n"
		"egressd_flowlog_unwritten_total 54\n"
		"# HELP egressd_sync_records_sent_total Session-sync records sent to the peer.\n"
		"# TYPE egressd_sync_records_sent_total counter\n"
		"egressd_sync_records_sent_total 72\n"
		"# HELP egressd_sync_records_received_total Valid session-sync records received "
		"from the peer.\n"
		"# TYPE egressd_sync_records_received_total counter\n"
		"egressd_sync_records_received_total 73\n"
		"# HELP egressd_sync_records_lost_total Session-sync records lost: a worker's ring "
		"full, or sendto() refused.\n"
		"# TYPE egressd_sync_records_lost_total counter\n"
		"egressd_sync_records_lost_total 71\n"
		"# HELP egressd_sync_records_malformed_total Session-sync records and datagrams "
		"dropped as malformed.\n"
		"# TYPE egressd_sync_records_malformed_total counter\n"
		"egressd_sync_records_malformed_total 74\n"
		"# HELP egressd_sync_peer_flows The peer's flows held.\n"
		"# TYPE egressd_sync_peer_flows gauge\n"
		"egressd_sync_peer_flows 75\n"
		"# HELP egressd_sync_peer_flows_dropped_total Records of new peer flows dropped at "
		"sync.max_flows.\n"
		"# TYPE egressd_sync_peer_flows_dropped_total counter\n"
		"egressd_sync_peer_flows_dropped_total 76\n"
		"# HELP egressd_sync_peer_alive 1 while the peer's datagrams arrive within "
		"sync.dead_after.\n"
		"# TYPE egressd_sync_peer_alive gauge\n"
		"egressd_sync_peer_alive 1\n"
		"# HELP egressd_sync_takeover 1 once the peer's NAT addresses and flows were taken "
		"over.\n"
		"# TYPE egressd_sync_takeover gauge\n"
		"egressd_sync_takeover 0\n"
		"# HELP egressd_sync_flows_installed_total The peer's flows installed by the "
		"workers at the takeover.\n"
		"# TYPE egressd_sync_flows_installed_total counter\n"
		"egressd_sync_flows_installed_total 71\n"
		"# HELP egressd_exception_frames_total Frames of the control-plane exception path: "
		"to the host's TAP (to_host) and from it out of the port (from_host).\n"
		"# TYPE egressd_exception_frames_total counter\n"
		"egressd_exception_frames_total{port=\"inside\",direction=\"to_host\"} 0\n"
		"egressd_exception_frames_total{port=\"inside\",direction=\"from_host\"} 64\n"
		"egressd_exception_frames_total{port=\"outside\",direction=\"to_host\"} 61\n"
		"egressd_exception_frames_total{port=\"outside\",direction=\"from_host\"} 62\n"
		"# HELP egressd_exception_host_dropped_total Exception-path frames the control "
		"thread could not pass on (TAP or ring full, not from the port's address, neighbour "
		"unknown).\n"
		"# TYPE egressd_exception_host_dropped_total counter\n"
		"egressd_exception_host_dropped_total{port=\"inside\"} 0\n"
		"egressd_exception_host_dropped_total{port=\"outside\"} 63\n"
		"# HELP egressd_nat_ports_in_use NAT ports held by flows (quarantined ones "
		"included), per NAT address, over every destination and worker.\n"
		"# TYPE egressd_nat_ports_in_use gauge\n"
		"egressd_nat_ports_in_use{address=\"203.0.113.10\"} 51\n"
		"egressd_nat_ports_in_use{address=\"203.0.113.11\"} 0\n"
		"# HELP egressd_nat_port_utilization_max The fullest destination's share per NAT "
		"address, 0 to 1: ports in use toward one (destination, port, protocol) over the "
		"ports of one worker's share.\n"
		"# TYPE egressd_nat_port_utilization_max gauge\n"
		"egressd_nat_port_utilization_max{address=\"203.0.113.10\"} 0.8\n"
		"egressd_nat_port_utilization_max{address=\"203.0.113.11\"} 0\n"
		"# HELP egressd_nat_spills_total Flows bound on another NAT address than their "
		"client's, which had no port free toward the destination.\n"
		"# TYPE egressd_nat_spills_total counter\n"
		"egressd_nat_spills_total 34\n"
		"# HELP egressd_nat_untracked_flows Flows holding a NAT port that the "
		"per-destination figures leave out (a worker's destination table was full).\n"
		"# TYPE egressd_nat_untracked_flows gauge\n"
		"egressd_nat_untracked_flows 3\n";
	struct ctl_metrics m;
	char *want, *got, *p;
	size_t n, len;
	unsigned int r;

	(void)state;
	fill(&m);
	m.link_up[DP_INSIDE] = 1;
	m.link_up[DP_OUTSIDE] = 0;
	want = malloc(65536);
	assert_non_null(want);
	p = want + sprintf(want, "%s", head);
	for (r = 0; r < EGRESS_DROP_MAX; r++)
		p += sprintf(p, "egressd_drops_total{reason=\"%s\"} %u\n",
			     egress_drop_name((enum egress_drop)r),
			     r == EGRESS_DROP_POLICY_DENIED ? 0 : 1000 + r);
	strcpy(p, tail);
	assert_non_null(strstr(want, "egressd_drops_total{reason=\"policy_denied\"} 0\n"));
	assert_non_null(strstr(want, "egressd_drops_total{reason=\"runt\"} 1000\n"));

	len = ctl_metrics_format(&m, NULL, 0);
	assert_int_equal(len, strlen(want));
	got = malloc(len + 1);
	assert_non_null(got);
	assert_int_equal(ctl_metrics_format(&m, got, len + 1), len);
	assert_string_equal(got, want);

	/* too small: the prefix that fits, NUL-terminated, and the whole length */
	n = ctl_metrics_format(&m, got, 10);
	assert_int_equal(n, len);
	assert_string_equal(got, "# HELP eg");
	free(got);
	free(want);
}

/* Label values escape \, " and newline; help text \ and newline only. */
static void
test_escaping(void **state)
{
	const char *labels[] = { "rule", "ServiceEntry/ns/a\"b\\c\nd", "port", "6379" };
	char buf[512];
	struct prom_out o = { .buf = buf, .size = sizeof(buf) };

	(void)state;
	prom_family(&o, "egressd_x_total", "counter", "a \"quoted\" back\\slash\nnewline");
	prom_sample(&o, "egressd_x_total", labels, 2, 5);
	prom_sample(&o, "egressd_x_total", NULL, 0, 0);
	assert_string_equal(buf, "# HELP egressd_x_total a \"quoted\" back\\\\slash\\nnewline\n"
				 "# TYPE egressd_x_total counter\n"
				 "egressd_x_total{rule=\"ServiceEntry/ns/a\\\"b\\\\c\\nd\","
				 "port=\"6379\"} 5\n"
				 "egressd_x_total 0\n");
	assert_int_equal(o.len, strlen(buf));
}

/* The per-rule families: every rule, each direction, its own figures. */
static void
test_rule_families(void **state)
{
	static const char want[] =
		"# HELP egressd_rule_flows_total Flows admitted, per rule and port.\n"
		"# TYPE egressd_rule_flows_total counter\n"
		"egressd_rule_flows_total{rule=\"ServiceEntry/db/mongo\",port=\"27017\"} 1\n"
		"egressd_rule_flows_total{rule=\"ServiceEntry/default/redis\",port=\"6379\"} 11\n"
		"# HELP egressd_rule_packets_total Frames forwarded on the rule's flows: out "
		"(client to server), in (replies).\n"
		"# TYPE egressd_rule_packets_total counter\n"
		"egressd_rule_packets_total{rule=\"ServiceEntry/db/mongo\",port=\"27017\","
		"direction=\"out\"} 2\n"
		"egressd_rule_packets_total{rule=\"ServiceEntry/db/mongo\",port=\"27017\","
		"direction=\"in\"} 3\n"
		"egressd_rule_packets_total{rule=\"ServiceEntry/default/redis\",port=\"6379\","
		"direction=\"out\"} 12\n"
		"egressd_rule_packets_total{rule=\"ServiceEntry/default/redis\",port=\"6379\","
		"direction=\"in\"} 13\n"
		"# HELP egressd_rule_bytes_total Bytes of those frames as sent (Ethernet header "
		"included, FCS excluded).\n"
		"# TYPE egressd_rule_bytes_total counter\n"
		"egressd_rule_bytes_total{rule=\"ServiceEntry/db/mongo\",port=\"27017\","
		"direction=\"out\"} 4\n"
		"egressd_rule_bytes_total{rule=\"ServiceEntry/db/mongo\",port=\"27017\","
		"direction=\"in\"} 5\n"
		"egressd_rule_bytes_total{rule=\"ServiceEntry/default/redis\",port=\"6379\","
		"direction=\"out\"} 14\n"
		"egressd_rule_bytes_total{rule=\"ServiceEntry/default/redis\",port=\"6379\","
		"direction=\"in\"} 15\n"
		"# HELP egressd_rule_near_miss_total New flows denied to an address the rule lists, "
		"on a port or protocol it does not.\n"
		"# TYPE egressd_rule_near_miss_total counter\n"
		"egressd_rule_near_miss_total{rule=\"ServiceEntry/db/mongo\",port=\"27017\"} 6\n"
		"egressd_rule_near_miss_total{rule=\"ServiceEntry/default/redis\",port=\"6379\"} "
		"16\n";
	struct ctl_metrics_rule rules[2] = {
		{ .label = "ServiceEntry/db/mongo",
		  .port = 27017,
		  .n = { .flows = 1, .t = { { 2, 3 }, { 4, 5 } }, .near_miss = 6 } },
		{ .label = "ServiceEntry/default/redis",
		  .port = 6379,
		  .n = { .flows = 11, .t = { { 12, 13 }, { 14, 15 } }, .near_miss = 16 } },
	};
	struct ctl_metrics m;
	char *got, *at;
	size_t len;

	(void)state;
	fill(&m);
	m.rules = rules;
	m.n_rules = 2;
	len = ctl_metrics_format(&m, NULL, 0);
	got = malloc(len + 1);
	assert_non_null(got);
	ctl_metrics_format(&m, got, len + 1);
	/* after every other family, to the end */
	at = strstr(got, "# HELP egressd_rule_flows_total");
	assert_non_null(at);
	assert_string_equal(at, want);
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_text),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_rule_families),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
