/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Statistics as the operator sees them: the sum of every worker's private
 * counters. Workers write their own struct dp_stats without atomics; readers
 * here load each naturally aligned 64-bit word once, so a figure may be a
 * burst behind but is never torn.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "flow.h"
#include "neigh.h"

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static const char *const port_names[DP_NPORTS] = { "inside", "outside" };

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
		}
		for (r = 0; r < EGRESS_DROP_MAX; r++)
			sum->drops[r] += LOAD(s->drops[r]);
#define SUM(name) sum->name += LOAD(s->name);
		DP_EVENT_COUNTERS(SUM)
		SUM(busy_cycles)
		SUM(busy_pkts)
		SUM(loop_cycles)
		SUM(loops)
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

void
ctl_stats_json(const struct ctl *c, FILE *out)
{
	struct dp_stats s;
	unsigned int p, r;

	ctl_stats_sum(c, &s);
	fprintf(out, "{\"policy_generation\":%u,\"reloads\":%" PRIu64
		",\"reload_failures\":%" PRIu64 ",\"last_reload_error\":",
		c->generation, c->reloads, c->reload_failures);
	json_string(out, c->last_reload_error);
	fprintf(out, ",\"bytes_per_flow\":%" PRIu64, ctl_bytes_per_flow(c));
	fprintf(out, ",\"flows_active\":%" PRIu64, ctl_flows_active(c));
#define JSON_U64(name) fprintf(out, ",\"" #name "\":%" PRIu64, s.name);
	DP_EVENT_COUNTERS(JSON_U64)
#undef JSON_U64
	fprintf(out, ",\"cycles_per_packet\":%.1f",
		s.busy_pkts ? (double)s.busy_cycles / (double)s.busy_pkts : 0.0);
	/* the worker's whole loop (RX/TX, idle polls, sweep) per packet */
	fprintf(out, ",\"cycles_per_packet_loop\":%.1f",
		s.busy_pkts ? (double)s.loop_cycles / (double)s.busy_pkts : 0.0);
	fprintf(out, ",\"ports\":{");
	for (p = 0; p < DP_NPORTS; p++)
		fprintf(out, "%s\"%s\":{\"rx\":%" PRIu64 ",\"tx\":%" PRIu64
			",\"dropped\":%" PRIu64 ",\"neigh_learn_dropped\":%" PRIu64 "}",
			p ? "," : "", port_names[p], s.port[p].rx, s.port[p].tx,
			s.port[p].dropped, neigh_learn_dropped(c->conf->port[p].neigh));
	fprintf(out, "},\"drops\":{");
	for (r = 0; r < EGRESS_DROP_MAX; r++)
		fprintf(out, "%s\"%s\":%" PRIu64, r ? "," : "",
			egress_drop_name((enum egress_drop)r), s.drops[r]);
	fprintf(out, "}}\n");
	fflush(out);
}
