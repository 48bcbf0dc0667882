/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Statistics as the operator sees them: the sum of every worker's private
 * counters. Workers write their own struct dp_stats without atomics; readers
 * here load each naturally aligned 64-bit word once, so a figure may be a
 * burst behind but is never torn. One walk (ctl_stats_walk()) lists them
 * for the final JSON (here) and /egress/stats (telemetry.c) alike.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "ctl_private.h"
#include "flow.h"
#include "flowlog.h"
#include "sync.h"
#include "neigh.h"

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

const char *const ctl_port_names[DP_NPORTS] = { "inside", "outside" };

void
ctl_stats_sum(const struct ctl *c, struct dp_stats *sum)
{
	unsigned int w, p, r;

	memset(sum, 0, sizeof(*sum));
	for (w = 0; w < c->n_workers; w++) {
		const struct dp_stats *s = dp_worker_stats(c->workers[w]);

		for (p = 0; p < DP_NPORTS; p++) {
			sum->port[p].rx += LOAD(s->port[p].rx);
			sum->port[p].tx += LOAD(s->port[p].tx);
			sum->port[p].dropped += LOAD(s->port[p].dropped);
			sum->port[p].rx_bytes += LOAD(s->port[p].rx_bytes);
			sum->port[p].tx_bytes += LOAD(s->port[p].tx_bytes);
		}
		for (r = 0; r < EGRESS_DROP_MAX; r++)
			sum->drops[r] += LOAD(s->drops[r]);
#define SUM(name) sum->name += LOAD(s->name);
		DP_EVENT_COUNTERS(SUM)
		SUM(busy_cycles)
		SUM(busy_pkts)
		SUM(loop_cycles)
		SUM(loops)
		SUM(flowlog_dropped)
		SUM(flowlog_suppressed)
#undef SUM
	}
}

uint64_t
ctl_flows_active(const struct ctl *c)
{
	uint64_t n = 0;
	unsigned int w;

	for (w = 0; w < c->n_workers; w++)
		n += flow_table_count(dp_worker_flows(c->workers[w]));
	return n;
}

bool
ctl_flow_at(const struct ctl *c, unsigned int w, uint32_t i, struct ctl_flow_view *v)
{
	const struct flow *f = flow_table_at(dp_worker_flows(c->workers[w]), i);

	if (f == NULL || !__atomic_load_n(&f->in_use, __ATOMIC_RELAXED))
		return false;
	v->out = f->key[FLOW_DIR_OUT];
	v->in = f->key[FLOW_DIR_IN];
	v->rule = LOAD(f->rule);
	v->policy_gen = LOAD(f->policy_gen);
	v->state = LOAD(f->state);
	return true;
}

uint64_t
ctl_bytes_per_flow(const struct ctl *c)
{
	uint64_t bytes = 0, cap = 0;
	unsigned int w;

	for (w = 0; w < c->n_workers; w++) {
		bytes += dp_flow_memory(c->workers[w]);
		cap += flow_table_capacity(dp_worker_flows(c->workers[w]));
	}
	return cap ? bytes / cap : 0;
}

/* One port's counters, as an object named after the port. */
static void
walk_port(const struct ctl *c, const struct dp_stats *s, unsigned int p,
	  const struct ctl_stats_out *o, void *ctx)
{
	o->begin(ctx, ctl_port_names[p]);
	o->u64(ctx, "rx", s->port[p].rx);
	o->u64(ctx, "tx", s->port[p].tx);
	o->u64(ctx, "dropped", s->port[p].dropped);
	o->u64(ctx, "neigh_learn_dropped", neigh_learn_dropped(c->conf->port[p].neigh));
	o->u64(ctx, "rx_bytes", s->port[p].rx_bytes);
	o->u64(ctx, "tx_bytes", s->port[p].tx_bytes);
	o->u64(ctx, "link_up", LOAD(c->link[p].up));
	o->u64(ctx, "link_speed_mbps", LOAD(c->link[p].speed_mbps));
	/* the exception TAP's (ctl.h struct ctl_exception): zeros without one */
	o->u64(ctx, "exception_to_host", LOAD(c->exc[p].to_host));
	o->u64(ctx, "exception_from_host", LOAD(c->exc[p].from_host));
	o->u64(ctx, "exception_arp_replies", LOAD(c->exc[p].arp_replies));
	o->u64(ctx, "exception_host_dropped", LOAD(c->exc[p].host_dropped));
	o->end(ctx);
}

/* The sync thread's counters (sync.h), each as sync_NAME. */
static void
sync_walk(const struct ctl_stats_out *o, void *ctx)
{
	struct ctl_sync_stats st;

	ctl_sync_stats_get(&st);
	o->u64(ctx, "sync_records_sent", st.records_sent);
	o->u64(ctx, "sync_records_received", st.records_received);
	o->u64(ctx, "sync_records_malformed", st.records_malformed);
	o->u64(ctx, "sync_send_errors", st.send_errors);
	o->u64(ctx, "sync_peer_flows", st.peer_flows);
	o->u64(ctx, "sync_peer_flows_dropped", st.peer_flows_dropped);
	o->u64(ctx, "sync_flows_queued", st.flows_queued);
	o->u64(ctx, "sync_flows_skipped", st.flows_skipped);
	o->u64(ctx, "sync_peer_alive", st.peer_alive);
	o->u64(ctx, "sync_takeover", st.takeover);
}

void
ctl_stats_walk(const struct ctl *c, const struct ctl_stats_out *o, void *ctx)
{
	struct dp_stats s;
	unsigned int p, r;

	ctl_stats_sum(c, &s);
	o->u64(ctx, "policy_generation", c->generation);
	o->u64(ctx, "reloads", c->reloads);
	o->u64(ctx, "reload_failures", c->reload_failures);
	o->str(ctx, "last_reload_error", c->last_reload_error);
	o->u64(ctx, "last_reload_time", c->last_reload_time);
	o->u64(ctx, "flows_active", ctl_flows_active(c));
	/* egressctl drain: 1 once draining; the time left to its deadline */
	o->u64(ctx, "draining", LOAD(c->conf->draining));
	o->u64(ctx, "drain_left_ms", ctl_drain_left_ms(c));
	o->u64(ctx, "bytes_per_flow", ctl_bytes_per_flow(c));
#define EMIT_U64(name) o->u64(ctx, #name, s.name);
	DP_EVENT_COUNTERS(EMIT_U64)
#undef EMIT_U64
	o->ratio(ctx, "cycles_per_packet", s.busy_cycles, s.busy_pkts);
	/* the worker's whole loop (RX/TX, idle polls, sweep) per packet */
	o->ratio(ctx, "cycles_per_packet_loop", s.loop_cycles, s.busy_pkts);
	/* how NAT ports are chosen (nat_rss.h), and the share of the outside
	 * frames that reached another worker than their flow's: 0 with "rss" */
	o->str(ctx, "nat_port_choice", c->conf->rss != NULL ? "rss" : "share");
	o->ratio(ctx, "handed_off_percent", 100 * s.handed_off, s.port[DP_OUTSIDE].rx);
	/* the flow log's (doc/operations.md, Flow logs): zeros when it is off */
	o->u64(ctx, "flowlog_records", ctl_flowlog_written());
	o->u64(ctx, "flowlog_dropped", s.flowlog_dropped);
	o->u64(ctx, "flowlog_suppressed", s.flowlog_suppressed);
	o->u64(ctx, "flowlog_unwritten", ctl_flowlog_unwritten());
	/* session sync's (doc/session-sync.md): zeros when it is off */
	sync_walk(o, ctx);
	if (c->dns != NULL) {
		/* not the cache itself: a reload may reallocate it under a
		 * telemetry thread (dns.h: the control thread's alone); the
		 * figures it published */
#define EMIT_DNS(f) o->u64(ctx, "dns_" #f, LOAD(c->dns_pub.f));
		EMIT_DNS(names)
		EMIT_DNS(lookups)
		EMIT_DNS(failures)
		EMIT_DNS(stale)
		EMIT_DNS(changes)
#undef EMIT_DNS
	}
	o->begin(ctx, "drops");
	for (r = 0; r < EGRESS_DROP_MAX; r++)
		o->u64(ctx, egress_drop_name((enum egress_drop)r), s.drops[r]);
	o->end(ctx);
	for (p = 0; p < DP_NPORTS; p++)
		walk_port(c, &s, p, o, ctx);
	/* the same again, grouped: the final JSON's first form */
	o->begin(ctx, "ports");
	for (p = 0; p < DP_NPORTS; p++)
		walk_port(c, &s, p, o, ctx);
	o->end(ctx);
}

/* ------------------------------------------------------ as JSON text */

struct json_out {
	FILE *out;
	bool more; /* a member was written in the current object */
};

/* The error text is ours, but file names come from the operator: escape. */
static void
json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

static void
json_key(struct json_out *j, const char *name)
{
	if (j->more)
		fputc(',', j->out);
	json_string(j->out, name);
	fputc(':', j->out);
	j->more = true;
}

static void
json_u64(void *ctx, const char *name, uint64_t v)
{
	struct json_out *j = ctx;

	json_key(j, name);
	fprintf(j->out, "%" PRIu64, v);
}

static void
json_str(void *ctx, const char *name, const char *s)
{
	struct json_out *j = ctx;

	json_key(j, name);
	json_string(j->out, s);
}

static void
json_ratio(void *ctx, const char *name, uint64_t num, uint64_t den)
{
	struct json_out *j = ctx;

	json_key(j, name);
	fprintf(j->out, "%.1f", den ? (double)num / (double)den : 0.0);
}

static void
json_begin(void *ctx, const char *name)
{
	struct json_out *j = ctx;

	json_key(j, name);
	fputc('{', j->out);
	j->more = false;
}

static void
json_end(void *ctx)
{
	struct json_out *j = ctx;

	fputc('}', j->out);
	j->more = true;
}

void
ctl_stats_json(const struct ctl *c, FILE *out)
{
	static const struct ctl_stats_out json = {
		.u64 = json_u64,
		.str = json_str,
		.ratio = json_ratio,
		.begin = json_begin,
		.end = json_end,
	};
	struct json_out j = { .out = out, .more = false };

	fputc('{', out);
	ctl_stats_walk(c, &json, &j);
	fputs("}\n", out);
	fflush(out);
}
