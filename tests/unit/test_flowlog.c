/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flow log's JSON lines (ctl_flowlog_format()): one record of each
 * kind formatted, then parsed back by a JSON parser (lib/api's) and checked
 * field by field, in order, with exact values; RFC 3339 time from the
 * worker clock and the wall offset; names that need escaping; a buffer too
 * small. The records themselves are the pipeline tests' (test_pipeline.c).
 */
#include "test_common.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <rte_ring.h>

#include "api_proto.h"
#include "flowlog.h"

#define IP(a, b, c, d) htonl((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* 2026-12-07T23:15:07.042Z as Unix ms, and a worker clock of 5 000 123 ms then */
#define WALL_MS   1796685307042ll
#define WORKER_MS 5000123ll

static struct api_obj obj;

/* Format r, parse the line: exactly one line, a JSON object. */
static void
parse(const struct dp_flowlog_rec *r, const struct ctl_flowlog_text *t)
{
	char line[CTL_FLOWLOG_LINE_MAX], err[128];
	size_t n = ctl_flowlog_format(line, sizeof(line), r, WALL_MS - WORKER_MS, t);

	assert_true(n > 0);
	assert_int_equal(strlen(line), n);
	assert_int_equal(line[n - 1], '\n');
	assert_null(memchr(line, '\n', n - 1));
	if (api_parse(line, n, &obj, err, sizeof(err)) != 0)
		fail_msg("%s: %s", line, err);
}

/* Field i is key = the string want (want NULL: null). */
static void
str_at(unsigned int i, const char *key, const char *want)
{
	assert_true(i < obj.n);
	assert_string_equal(obj.f[i].key, key);
	if (want == NULL) {
		assert_int_equal(obj.f[i].type, API_NULL);
		return;
	}
	assert_int_equal(obj.f[i].type, API_STRING);
	assert_string_equal(obj.f[i].val, want);
}

static void
num_at(unsigned int i, const char *key, const char *want)
{
	assert_true(i < obj.n);
	assert_string_equal(obj.f[i].key, key);
	assert_int_equal(obj.f[i].type, API_NUMBER);
	assert_string_equal(obj.f[i].val, want);
}

static struct dp_flowlog_rec
tcp_rec(uint8_t event)
{
	struct dp_flowlog_rec r;

	memset(&r, 0, sizeof(r));
	r.time_ms = WORKER_MS;
	r.gen = 3;
	r.event = event;
	r.proto = IPPROTO_TCP;
	r.src = IP(10, 8, 0, 2);
	r.sport = htons(40000);
	r.dst = IP(10, 59, 118, 59);
	r.dport = htons(6379);
	r.nat_src = IP(203, 0, 113, 10);
	r.nat_sport = htons(61000);
	r.rule = 0;
	return r;
}

/* What admit and end lines have after the first 7: NAT source, rule, source. */
static void
flow_fields(const char *rule, const char *source)
{
	str_at(7, "nat_src", "203.0.113.10");
	num_at(8, "nat_sport", "61000");
	str_at(9, "rule", rule);
	str_at(10, "source", source);
}

/* The fields every line starts with, in order: 7 of them. */
static void
common(const char *time, const char *event, const char *proto, const char *dport)
{
	str_at(0, "time", time);
	str_at(1, "event", event);
	str_at(2, "proto", proto);
	str_at(3, "src", "10.8.0.2");
	num_at(4, "sport", "40000");
	str_at(5, "dst", "10.59.118.59");
	num_at(6, "dport", dport);
}

static void
test_admit(void **state)
{
	struct dp_flowlog_rec r = tcp_rec(DP_FL_ADMIT);
	struct ctl_flowlog_text t = { .rule = "ServiceEntry/default/redis",
				      .source = "/etc/egressd/policy/redis.yaml:3",
				      .sni = "test.example" };
	(void)state;

	r.u.admit.nat_dst = IP(10, 59, 118, 59);
	r.u.admit.nat_dport = htons(6379);
	parse(&r, &t);
	assert_int_equal(obj.n, 14);
	common("2026-12-07T23:15:07.042Z", "admit", "tcp", "6379");
	flow_fields("ServiceEntry/default/redis", "/etc/egressd/policy/redis.yaml:3");
	str_at(11, "nat_dst", "10.59.118.59");
	num_at(12, "nat_dport", "6379");
	str_at(13, "sni", "test.example");

	/* no SNI: no key; no rule (ALLOW_ANY, or a generation not seen): null */
	t = (struct ctl_flowlog_text){ 0 };
	r.proto = IPPROTO_UDP;
	r.time_ms = WORKER_MS + 1000 * 86400 - 42; /* a day later, at .000 */
	parse(&r, &t);
	assert_int_equal(obj.n, 13);
	common("2026-12-08T23:15:07.000Z", "admit", "udp", "6379");
	flow_fields(NULL, NULL);
	assert_null(api_get(&obj, "sni"));
}

static void
test_deny(void **state)
{
	struct dp_flowlog_rec r = tcp_rec(DP_FL_DENY);
	struct ctl_flowlog_text t = {
		.closest = "6380 is not a port of ServiceEntry redis-serviceentry "
			   "(10.59.118.59/32 lists 6379/tcp)",
	};
	(void)state;

	r.dport = htons(6380);
	r.u.deny.reason = EGRESS_DROP_POLICY_DENIED;
	r.time_ms = WORKER_MS + 958; /* the next second */
	parse(&r, &t);
	assert_int_equal(obj.n, 9);
	common("2026-12-07T23:15:08.000Z", "deny", "tcp", "6380");
	str_at(7, "reason", "policy_denied");
	str_at(8, "closest", t.closest);

	/* after skipped ones: suppressed; no closest rule: "" */
	t.closest = NULL;
	r.u.deny.suppressed = 4242;
	r.u.deny.reason = EGRESS_DROP_CONN_LIMIT;
	parse(&r, &t);
	assert_int_equal(obj.n, 10);
	str_at(7, "reason", egress_drop_name(EGRESS_DROP_CONN_LIMIT));
	str_at(8, "closest", "");
	num_at(9, "suppressed", "4242");
}

static void
test_end(void **state)
{
	static const char *const reasons[] = { "fin",     "rst",     "timeout",
					       "revoked", "evicted", "shutdown" };
	struct dp_flowlog_rec r = tcp_rec(DP_FL_END);
	struct ctl_flowlog_text t = { .rule = "ServiceEntry/default/redis",
				      .source = "redis.yaml:3" };
	unsigned int i;
	(void)state;

	assert_int_equal(DP_END_MAX, 6);
	r.u.end.duration_ms = 4294967295u;
	r.u.end.packets[FLOW_DIR_OUT] = 7;
	r.u.end.bytes[FLOW_DIR_OUT] = 18446744073709551615ull;
	r.u.end.packets[FLOW_DIR_IN] = 4294967295u;
	r.u.end.bytes[FLOW_DIR_IN] = 1234;
	for (i = 0; i < DP_END_MAX; i++) {
		r.u.end.reason = (uint8_t)i;
		parse(&r, &t);
		assert_int_equal(obj.n, 17);
		common("2026-12-07T23:15:07.042Z", "end", "tcp", "6379");
		flow_fields("ServiceEntry/default/redis", "redis.yaml:3");
		num_at(11, "duration_ms", "4294967295");
		num_at(12, "packets_out", "7");
		num_at(13, "bytes_out", "18446744073709551615");
		num_at(14, "packets_in", "4294967295");
		num_at(15, "bytes_in", "1234");
		str_at(16, "end_reason", reasons[i]);
	}
}

/* Names are JSON-escaped; a line that does not fit is not cut. */
static void
test_escaping_and_room(void **state)
{
	struct dp_flowlog_rec r = tcp_rec(DP_FL_ADMIT);
	struct ctl_flowlog_text t = { .rule = "ServiceEntry/a\"b/c\\d", .source = "/x\ny.yaml:1" };
	char line[CTL_FLOWLOG_LINE_MAX];
	size_t n, i;
	(void)state;

	parse(&r, &t);
	str_at(9, "rule", "ServiceEntry/a\"b/c\\d");
	str_at(10, "source", "/x\ny.yaml:1");
	n = ctl_flowlog_format(line, sizeof(line), &r, 0, &t);
	assert_true(n > 0);
	for (i = 0; i <= n; i++)
		assert_int_equal(ctl_flowlog_format(line, i, &r, 0, &t), 0);
	assert_int_equal(ctl_flowlog_format(line, n + 1, &r, 0, &t), n);
}

/*
 * The writer reads the published policy as a QSBR reader, and the flow
 * tables reclaim slots through the same variable: it must never be online
 * while it formats and writes (a flood of records kept it online, and no
 * deleted flow's slot came back: flow_table_full in a SYN storm). Here its
 * write blocks on a FIFO nobody reads, with a ring full of records: every
 * reader must be quiescent meanwhile.
 */
static void
test_writer_not_online_while_writing(void **state)
{
	struct rte_rcu_qsbr *v = test_qsbr(1 + CTL_TEL_READERS);
	struct dp_conf conf = { 0 };
	struct ctl c = { 0 };
	struct ctl_flowlog *fl;
	struct dp_flowlog_rec r = tcp_rec(DP_FL_ADMIT);
	char path[] = "/tmp/egt-flowlog-XXXXXX";
	char fifo[64], buf[65536];
	unsigned int i;
	int fd, n;
	(void)state;

	for (i = 0; i < CTL_TEL_READERS; i++)
		assert_int_equal(rte_rcu_qsbr_thread_register(v, 1 + i), 0);
	conf.flowlog[0] = rte_ring_create_elem("fl_test", sizeof(r), 4096, SOCKET_ID_ANY,
					       RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	assert_non_null(conf.flowlog[0]);
	for (i = 0; i < 4096; i++) {
		r.sport = htons((uint16_t)i);
		assert_int_equal(rte_ring_sp_enqueue_elem(conf.flowlog[0], &r, sizeof(r)), 0);
	}
	c.conf = &conf;
	c.n_workers = 1;
	c.qsbr = v;
	assert_non_null(mkdtemp(path));
	snprintf(fifo, sizeof(fifo), "%s/flows", path);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	fd = open(fifo, O_RDONLY | O_NONBLOCK);
	assert_true(fd >= 0);
	assert_int_equal(ctl_flowlog_start(&c, fifo, &fl), 0);
	/* the pipe fills (64 KiB) and the writer blocks in write() */
	for (i = 0; i < 100; i++) {
		usleep(20000);
		if (ioctl(fd, FIONREAD, &n) == 0 && n >= 65536)
			break;
	}
	assert_true(n >= 65536);
	usleep(50000);
	assert_int_equal(rte_rcu_qsbr_check(v, rte_rcu_qsbr_start(v), false), 1);
	/* let it finish: read everything it writes */
	fcntl(fd, F_SETFL, 0);
	while (rte_ring_count(conf.flowlog[0]) > 0 || ctl_flowlog_written() < 4096)
		if (read(fd, buf, sizeof(buf)) <= 0)
			break;
	while (read(fd, buf, sizeof(buf)) > 0 && ctl_flowlog_written() < 4096)
		;
	fcntl(fd, F_SETFL, O_NONBLOCK);
	ctl_flowlog_stop(fl);
	close(fd);
	unlink(fifo);
	rmdir(path);
	rte_ring_free(conf.flowlog[0]);
	rte_free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admit),
		cmocka_unit_test(test_deny),
		cmocka_unit_test(test_end),
		cmocka_unit_test(test_escaping_and_room),
		cmocka_unit_test(test_writer_not_online_while_writing),
	};

	if (test_eal_init("flowlog") != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
