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

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static const char *const port_names[DP_NPORTS] = { "inside", "outside" };

void
ctl_stats_sum(const struct ctl *c, struct dp_stats *sum)
{
	unsigned int w, p, r;

	memset(sum, 0, sizeof(*sum));
	for (w = 0; w < c->n_workers; w++) {
		const struct dp_stats *s = &c->workers[w]->stats;

		for (p = 0; p < DP_NPORTS; p++) {
			sum->port[p].rx += LOAD(s->port[p].rx);
			sum->port[p].tx += LOAD(s->port[p].tx);
			sum->port[p].dropped += LOAD(s->port[p].dropped);
		}
		for (r = 0; r < EGRESS_DROP_MAX; r++)
			sum->drops[r] += LOAD(s->drops[r]);
		sum->flows_created += LOAD(s->flows_created);
		sum->flows_expired += LOAD(s->flows_expired);
		sum->flows_revoked += LOAD(s->flows_revoked);
		sum->flows_rechecked += LOAD(s->flows_rechecked);
		sum->embryonic_evicted += LOAD(s->embryonic_evicted);
		sum->handed_off += LOAD(s->handed_off);
		sum->arp_replies += LOAD(s->arp_replies);
		sum->echo_replies += LOAD(s->echo_replies);
		sum->rst_sent += LOAD(s->rst_sent);
		sum->icmp_sent += LOAD(s->icmp_sent);
		sum->icmp_translated += LOAD(s->icmp_translated);
		sum->busy_cycles += LOAD(s->busy_cycles);
		sum->busy_pkts += LOAD(s->busy_pkts);
		sum->loops += LOAD(s->loops);
	}
}

uint64_t
ctl_flows_active(const struct ctl *c)
{
	uint64_t n = 0;
	unsigned int w;

	for (w = 0; w < c->n_workers; w++)
		n += flow_table_count(c->workers[w]->flows);
	return n;
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
	fprintf(out, ",\"bytes_per_flow\":%" PRIu64,
		c->n_workers ? dp_bytes_per_flow(c->workers[0]) : 0);
	fprintf(out, ",\"flows_active\":%" PRIu64 ",\"flows_created\":%" PRIu64
		",\"flows_expired\":%" PRIu64 ",\"flows_revoked\":%" PRIu64
		",\"embryonic_evicted\":%" PRIu64 ",\"handed_off\":%" PRIu64
		",\"arp_replies\":%" PRIu64 ",\"echo_replies\":%" PRIu64
		",\"rst_sent\":%" PRIu64 ",\"icmp_sent\":%" PRIu64
		",\"icmp_translated\":%" PRIu64 ",\"cycles_per_packet\":%.1f",
		ctl_flows_active(c), s.flows_created, s.flows_expired, s.flows_revoked,
		s.embryonic_evicted, s.handed_off, s.arp_replies, s.echo_replies, s.rst_sent, s.icmp_sent,
		s.icmp_translated,
		s.busy_pkts ? (double)s.busy_cycles / (double)s.busy_pkts : 0.0);
	fprintf(out, ",\"ports\":{");
	for (p = 0; p < DP_NPORTS; p++)
		fprintf(out, "%s\"%s\":{\"rx\":%" PRIu64 ",\"tx\":%" PRIu64
			",\"dropped\":%" PRIu64 "}",
			p ? "," : "", port_names[p], s.port[p].rx, s.port[p].tx,
			s.port[p].dropped);
	fprintf(out, "},\"drops\":{");
	for (r = 0; r < EGRESS_DROP_MAX; r++)
		fprintf(out, "%s\"%s\":%" PRIu64, r ? "," : "",
			egress_drop_name((enum egress_drop)r), s.drops[r]);
	fprintf(out, "}}\n");
	fflush(out);
}
