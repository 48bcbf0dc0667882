/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Prometheus text exposition (format 0.0.4) of the operator's figures:
 * read once per scrape (ctl_metrics_read(), from the sources /egress/stats
 * reads), then written family by family, each with # HELP and # TYPE.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_rcu_qsbr.h>

#include "ctl_nat.h"
#include "ctl_private.h"
#include "flowlog.h"
#include "metrics.h"

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static int
metrics_rule_cmp(const void *x, const void *y)
{
	const struct ctl_metrics_rule *a = x, *b = y;
	int d = strcmp(a->label, b->label);

	return d != 0 ? d : (int)a->port - (int)b->port;
}

static void
rule_counts_add(struct dp_rule_counts *to, const struct dp_rule_counts *n)
{
	unsigned int d;

	to->flows += n->flows;
	to->near_miss += n->near_miss;
	for (d = 0; d < 2; d++) {
		to->t.packets[d] += n->t.packets[d];
		to->t.bytes[d] += n->t.bytes[d];
	}
}

/* The per-rule rows of policy p, merged per (label, port). */
static void
read_rules(const struct ctl *c, const struct policy *p, struct ctl_metrics *m)
{
	uint32_t i, j;

	m->rules = p != NULL && p->n_rules > 0 ? calloc(p->n_rules, sizeof(*m->rules)) : NULL;
	if (m->rules == NULL)
		return;
	for (i = 0; i < p->n_rules; i++) {
		policy_rule_label(&p->rules[i], m->rules[i].label, sizeof(m->rules[i].label));
		m->rules[i].port = p->rules[i].port;
		ctl_rule_counts(c, p, i, &m->rules[i].n);
	}
	qsort(m->rules, p->n_rules, sizeof(*m->rules), metrics_rule_cmp);
	for (i = 0, j = 0; i < p->n_rules; i++) {
		if (j > 0 && metrics_rule_cmp(&m->rules[j - 1], &m->rules[i]) == 0)
			rule_counts_add(&m->rules[j - 1].n, &m->rules[i].n);
		else if (j++ != i)
			m->rules[j - 1] = m->rules[i];
	}
	m->n_rules = j;
}

/* The policy's rows, held as a QSBR reader (a few tries when every reader
 * id is busy: a scrape without its rule series would look like a reset). */
static void
read_policy_rules(const struct ctl *c, struct ctl_metrics *m)
{
	struct timespec ms = { .tv_sec = 0, .tv_nsec = 1000 * 1000 };
	int slot = -1, tries;

	if (c->conf == NULL)
		return;
	if (c->qsbr != NULL) {
		for (tries = 0; tries < 100 && (slot = ctl_reader_take()) < 0; tries++)
			nanosleep(&ms, NULL);
		if (slot < 0)
			return;
		rte_rcu_qsbr_thread_online(c->qsbr, c->n_workers + (unsigned int)slot);
	}
	read_rules(c, dp_policy(c->conf), m);
	if (slot >= 0) {
		rte_rcu_qsbr_thread_offline(c->qsbr, c->n_workers + (unsigned int)slot);
		ctl_reader_give(slot);
	}
}

void
ctl_metrics_release(struct ctl_metrics *m)
{
	free(m->rules);
	m->rules = NULL;
	m->n_rules = 0;
}

void
ctl_metrics_read(const struct ctl *c, struct ctl_metrics *m)
{
	m->rules = NULL;
	m->n_rules = 0;
	read_policy_rules(c, m);
	ctl_stats_sum(c, &m->s);
	m->flows_active = ctl_flows_active(c);
	m->draining = __atomic_load_n(&c->conf->draining, __ATOMIC_RELAXED);
	m->drain_left_ms = ctl_drain_left_ms(c);
	/* the control thread writes these plainly, as whole aligned words */
	m->generation = LOAD(c->generation);
	m->reloads_ok = LOAD(c->reloads);
	m->reloads_failed = LOAD(c->reload_failures);
	ctl_nat_read(c, &m->nat);
	m->flowlog_written = ctl_flowlog_written();
	m->flowlog_unwritten = ctl_flowlog_unwritten();
	ctl_sync_stats_get(&m->sync);
	for (unsigned int p = 0; p < DP_NPORTS; p++) {
		m->link_up[p] = LOAD(c->link[p].up);
		m->exc_to_host[p] = LOAD(c->exc[p].to_host);
		m->exc_from_host[p] = LOAD(c->exc[p].from_host);
		m->exc_host_dropped[p] = LOAD(c->exc[p].host_dropped);
	}
}

static void __attribute__((format(printf, 2, 3)))
prom_printf(struct prom_out *o, const char *fmt, ...)
{
	size_t room = o->len < o->size ? o->size - o->len : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

/* s with '\\' and newline escaped, and '"' too in a label value. */
static void
prom_escaped(struct prom_out *o, const char *s, bool quote)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			prom_printf(o, "\\\\");
		else if (*s == '\n')
			prom_printf(o, "\\n");
		else if (*s == '"' && quote)
			prom_printf(o, "\\\"");
		else
			prom_printf(o, "%c", *s);
	}
}

void
prom_family(struct prom_out *o, const char *name, const char *type, const char *help)
{
	prom_printf(o, "# HELP %s ", name);
	prom_escaped(o, help, false);
	prom_printf(o, "\n# TYPE %s %s\n", name, type);
}

/* name{k1="v1",...} and the space before the value. */
static void
prom_name(struct prom_out *o, const char *name, const char *const *labels, unsigned int n_labels)
{
	unsigned int i;

	prom_printf(o, "%s", name);
	for (i = 0; i < n_labels; i++) {
		prom_printf(o, "%s%s=\"", i ? "," : "{", labels[2 * i]);
		prom_escaped(o, labels[2 * i + 1], true);
		prom_printf(o, "\"");
	}
	prom_printf(o, "%s ", n_labels ? "}" : "");
}

void
prom_sample(struct prom_out *o, const char *name, const char *const *labels, unsigned int n_labels,
	    uint64_t value)
{
	prom_name(o, name, labels, n_labels);
	prom_printf(o, "%" PRIu64 "\n", value);
}

/* A sample with a fraction, as CTL_NAT_RATIO_FMT prints it (egressctl prints the same). */
static void
prom_sample_ratio(struct prom_out *o, const char *name, const char *const *labels,
		  unsigned int n_labels, double value)
{
	prom_name(o, name, labels, n_labels);
	prom_printf(o, CTL_NAT_RATIO_FMT "\n", value);
}

/* A family of one unlabelled sample. */
static void
prom_single(struct prom_out *o, const char *name, const char *type, const char *help,
	    uint64_t value)
{
	prom_family(o, name, type, help);
	prom_sample(o, name, NULL, 0, value);
}

/* The flow log's (doc/operations.md "Flow logs"): zeros when it is off. */
static void
prom_flowlog(struct prom_out *o, const struct ctl_metrics *m)
{
	prom_single(o, "egressd_flowlog_records_total", "counter", "Flow-log lines written.",
		    m->flowlog_written);
	prom_single(o, "egressd_flowlog_dropped_total", "counter",
		    "Flow-log records lost: a worker's ring to the writer was full.",
		    m->s.flowlog_dropped);
	prom_single(o, "egressd_flowlog_suppressed_total", "counter",
		    "Deny records not made: over flowlog.denied_per_second.",
		    m->s.flowlog_suppressed);
	prom_single(o, "egressd_flowlog_unwritten_total", "counter",
		    "Flow-log records drained but not written: the file could not be opened or "
		    "written.",
		    m->flowlog_unwritten);
}

/* Session sync (doc/session-sync.md): zeros when it is off. */
static void
prom_sync(struct prom_out *o, const struct ctl_metrics *m)
{
	prom_single(o, "egressd_sync_records_sent_total", "counter",
		    "Session-sync records sent to the peer.", m->sync.records_sent);
	prom_single(o, "egressd_sync_records_received_total", "counter",
		    "Valid session-sync records received from the peer.", m->sync.records_received);
	prom_single(o, "egressd_sync_records_lost_total", "counter",
		    "Session-sync records lost: a worker's ring full, or sendto() refused.",
		    m->s.sync_records_lost + m->sync.send_errors);
	prom_single(o, "egressd_sync_records_malformed_total", "counter",
		    "Session-sync records and datagrams dropped as malformed.",
		    m->sync.records_malformed);
	prom_single(o, "egressd_sync_peer_flows", "gauge", "The peer's flows held.",
		    m->sync.peer_flows);
	prom_single(o, "egressd_sync_peer_flows_dropped_total", "counter",
		    "Records of new peer flows dropped at sync.max_flows.",
		    m->sync.peer_flows_dropped);
	prom_single(o, "egressd_sync_peer_alive", "gauge",
		    "1 while the peer's datagrams arrive within sync.dead_after.",
		    m->sync.peer_alive);
	prom_single(o, "egressd_sync_takeover", "gauge",
		    "1 once the peer's NAT addresses and flows were taken over.", m->sync.takeover);
	prom_single(o, "egressd_sync_flows_installed_total", "counter",
		    "The peer's flows installed by the workers at the takeover.",
		    m->s.sync_flows_installed);
}

/* The exception TAPs' (doc/operations.md): zeros on a port without one. */
static void
prom_exception(struct prom_out *o, const struct ctl_metrics *m)
{
	unsigned int p;

	prom_family(o, "egressd_exception_frames_total", "counter",
		    "Frames of the control-plane exception path: to the host's TAP (to_host) "
		    "and from it out of the port (from_host).");
	for (p = 0; p < DP_NPORTS; p++) {
		const char *to[] = { "port", ctl_port_names[p], "direction", "to_host" };
		const char *from[] = { "port", ctl_port_names[p], "direction", "from_host" };

		prom_sample(o, "egressd_exception_frames_total", to, 2, m->exc_to_host[p]);
		prom_sample(o, "egressd_exception_frames_total", from, 2, m->exc_from_host[p]);
	}
	prom_family(o, "egressd_exception_host_dropped_total", "counter",
		    "Exception-path frames the control thread could not pass on (TAP or ring "
		    "full, not from the port's address, neighbour unknown).");
	for (p = 0; p < DP_NPORTS; p++) {
		const char *l[] = { "port", ctl_port_names[p] };

		prom_sample(o, "egressd_exception_host_dropped_total", l, 1,
			    m->exc_host_dropped[p]);
	}
}

/* A per-port family: rx and tx of each port, frames or bytes. */
static void
port_family(struct prom_out *o, const struct ctl_metrics *m, const char *name, const char *help,
	    bool bytes)
{
	const struct dp_port_stats *s;
	unsigned int p;

	prom_family(o, name, "counter", help);
	for (p = 0; p < DP_NPORTS; p++) {
		const char *rx[] = { "port", ctl_port_names[p], "direction", "rx" };
		const char *tx[] = { "port", ctl_port_names[p], "direction", "tx" };

		s = &m->s.port[p];
		prom_sample(o, name, rx, 2, bytes ? s->rx_bytes : s->rx);
		prom_sample(o, name, tx, 2, bytes ? s->tx_bytes : s->tx);
	}
}

/* One sample per rule and direction: its packets, or its bytes. */
static void
rule_directions(struct prom_out *o, const struct ctl_metrics *m, const char *name, bool bytes)
{
	static const char *const dirs[2] = { [FLOW_DIR_OUT] = "out", [FLOW_DIR_IN] = "in" };
	uint32_t i;
	unsigned int d;
	char port[8];

	for (i = 0; i < m->n_rules; i++) {
		const struct dp_rule_traffic *t = &m->rules[i].n.t;

		snprintf(port, sizeof(port), "%u", m->rules[i].port);
		for (d = 0; d < 2; d++) {
			const char *l[] = { "rule", m->rules[i].label, "port",
					    port,   "direction",       dirs[d] };

			prom_sample(o, name, l, 3, bytes ? t->bytes[d] : t->packets[d]);
		}
	}
}

/*
 * The per-rule families. Counts of a rule that a reload keeps carry over;
 * a rule removed is no longer listed; a new one starts at 0.
 */
static void
format_rules(struct prom_out *o, const struct ctl_metrics *m)
{
	uint32_t i;
	char port[8];

	if (m->n_rules == 0)
		return;
	prom_family(o, "egressd_rule_flows_total", "counter", "Flows admitted, per rule and port.");
	for (i = 0; i < m->n_rules; i++) {
		const char *l[] = { "rule", m->rules[i].label, "port", port };

		snprintf(port, sizeof(port), "%u", m->rules[i].port);
		prom_sample(o, "egressd_rule_flows_total", l, 2, m->rules[i].n.flows);
	}
	prom_family(o, "egressd_rule_packets_total", "counter",
		    "Frames forwarded on the rule's flows: out (client to server), in (replies).");
	rule_directions(o, m, "egressd_rule_packets_total", false);
	prom_family(o, "egressd_rule_bytes_total", "counter",
		    "Bytes of those frames as sent (Ethernet header included, FCS excluded).");
	rule_directions(o, m, "egressd_rule_bytes_total", true);
	prom_family(o, "egressd_rule_near_miss_total", "counter",
		    "New flows denied to an address the rule lists, on a port or protocol it does "
		    "not.");
	for (i = 0; i < m->n_rules; i++) {
		const char *l[] = { "rule", m->rules[i].label, "port", port };

		snprintf(port, sizeof(port), "%u", m->rules[i].port);
		prom_sample(o, "egressd_rule_near_miss_total", l, 2, m->rules[i].n.near_miss);
	}
}

/* NAT port saturation (ctl_nat.h; doc/operations.md, "NAT saturation"). */
static void
nat_families(struct prom_out *o, const struct ctl_metrics *m)
{
	const struct ctl_nat *n = &m->nat;
	char addr[EGRESS_MAX_NAT_ADDRS][16];
	unsigned int i;

	for (i = 0; i < n->n_addrs; i++) {
		const uint8_t *b = (const uint8_t *)&n->a[i].addr;

		snprintf(addr[i], sizeof(addr[i]), "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
	}
	prom_family(o, "egressd_nat_ports_in_use", "gauge",
		    "NAT ports held by flows (quarantined ones included), per NAT address, over "
		    "every destination and worker.");
	for (i = 0; i < n->n_addrs; i++) {
		const char *l[] = { "address", addr[i] };

		prom_sample(o, "egressd_nat_ports_in_use", l, 1, n->a[i].ports_in_use);
	}
	prom_family(o, "egressd_nat_port_utilization_max", "gauge",
		    "The fullest destination's share per NAT address, 0 to 1: ports in use toward "
		    "one (destination, port, protocol) over the ports of one worker's share.");
	for (i = 0; i < n->n_addrs; i++) {
		const char *l[] = { "address", addr[i] };

		prom_sample_ratio(o, "egressd_nat_port_utilization_max", l, 1,
				  ctl_nat_utilization(&n->a[i]));
	}
	prom_single(o, "egressd_nat_spills_total", "counter",
		    "Flows bound on another NAT address than their client's, which had no port "
		    "free toward the destination.",
		    m->s.nat_spilled);
	prom_single(o, "egressd_nat_untracked_flows", "gauge",
		    "Flows holding a NAT port that the per-destination figures leave out (a "
		    "worker's destination table was full).",
		    n->untracked);
}

size_t
ctl_metrics_format(const struct ctl_metrics *m, char *buf, size_t size)
{
	struct prom_out o = { .buf = buf, .size = size };
	unsigned int r;

	if (size > 0)
		buf[0] = '\0';
	port_family(&o, m, "egressd_port_packets_total",
		    "Frames received (rx) and sent (tx) per port.", false);
	port_family(&o, m, "egressd_port_bytes_total",
		    "Bytes of the frames received (rx) and sent (tx) per port: Ethernet header "
		    "included, FCS excluded, as NIC counters count them.",
		    true);
	prom_family(&o, "egressd_port_link_up", "gauge",
		    "1 while the port's link is up, 0 while it is down.");
	for (r = 0; r < DP_NPORTS; r++) {
		const char *l[] = { "port", ctl_port_names[r] };

		prom_sample(&o, "egressd_port_link_up", l, 1, m->link_up[r]);
	}
	prom_family(&o, "egressd_drops_total", "counter",
		    "Frames dropped, by reason (the final JSON's \"drops\").");
	for (r = 0; r < EGRESS_DROP_MAX; r++) {
		const char *l[] = { "reason", egress_drop_name((enum egress_drop)r) };

		prom_sample(&o, "egressd_drops_total", l, 1, m->s.drops[r]);
	}
	prom_single(&o, "egressd_flows_active", "gauge", "Flows in the flow tables now.",
		    m->flows_active);
	prom_single(
		&o, "egressd_draining", "gauge",
		"1 while egressctl drain runs: new flows refused, the router's session withheld.",
		m->draining);
	prom_single(&o, "egressd_drain_left_seconds", "gauge",
		    "Seconds to the drain's deadline (0: not draining).", m->drain_left_ms / 1000);
	prom_single(&o, "egressd_flows_created_total", "counter", "Flows admitted.",
		    m->s.flows_created);
	prom_single(&o, "egressd_flows_revoked_total", "counter",
		    "Flows ended because a reload no longer allows them.", m->s.flows_revoked);
	prom_single(&o, "egressd_policy_generation", "gauge",
		    "Generation of the policy in force (1 at start, +1 per reload published).",
		    m->generation);
	prom_family(
		&o, "egressd_reloads_total", "counter",
		"Policy reloads: published (ok) or rejected, the running policy kept (failed).");
	{
		const char *ok[] = { "result", "ok" };
		const char *failed[] = { "result", "failed" };

		prom_sample(&o, "egressd_reloads_total", ok, 1, m->reloads_ok);
		prom_sample(&o, "egressd_reloads_total", failed, 1, m->reloads_failed);
	}
	prom_single(&o, "egressd_denied_no_address_total", "counter",
		    "New flows denied to an address no ServiceEntry lists (no near miss).",
		    m->s.denied_no_address);
	prom_flowlog(&o, m);
	prom_sync(&o, m);
	prom_exception(&o, m);
	nat_families(&o, m);
	format_rules(&o, m);
	return o.len;
}
