/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Prometheus text exposition (format 0.0.4) of the operator's figures:
 * read once per scrape (ctl_metrics_read(), from the sources /egress/stats
 * reads), then written family by family, each with # HELP and # TYPE.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl_private.h"
#include "flowlog.h"
#include "metrics.h"

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

void
ctl_metrics_read(const struct ctl *c, struct ctl_metrics *m)
{
	ctl_stats_sum(c, &m->s);
	m->flows_active = ctl_flows_active(c);
	/* the control thread writes these plainly, as whole aligned words */
	m->generation = LOAD(c->generation);
	m->reloads_ok = LOAD(c->reloads);
	m->reloads_failed = LOAD(c->reload_failures);
	m->flowlog_written = ctl_flowlog_written();
	m->flowlog_unwritten = ctl_flowlog_unwritten();
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

void
prom_sample(struct prom_out *o, const char *name, const char *const *labels, unsigned int n_labels,
	    uint64_t value)
{
	unsigned int i;

	prom_printf(o, "%s", name);
	for (i = 0; i < n_labels; i++) {
		prom_printf(o, "%s%s=\"", i ? "," : "{", labels[2 * i]);
		prom_escaped(o, labels[2 * i + 1], true);
		prom_printf(o, "\"");
	}
	prom_printf(o, "%s %" PRIu64 "\n", n_labels ? "}" : "", value);
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

size_t
ctl_metrics_format(const struct ctl_metrics *m, char *buf, size_t size)
{
	struct prom_out o = { .buf = buf, .size = size };
	unsigned int p, r;

	if (size > 0)
		buf[0] = '\0';
	prom_family(&o, "egressd_port_packets_total", "counter",
		    "Frames received (rx) and sent (tx) per port.");
	for (p = 0; p < DP_NPORTS; p++) {
		const char *rx[] = { "port", ctl_port_names[p], "direction", "rx" };
		const char *tx[] = { "port", ctl_port_names[p], "direction", "tx" };

		prom_sample(&o, "egressd_port_packets_total", rx, 2, m->s.port[p].rx);
		prom_sample(&o, "egressd_port_packets_total", tx, 2, m->s.port[p].tx);
	}
	prom_family(&o, "egressd_drops_total", "counter",
		    "Frames dropped, by reason (the final JSON's \"drops\").");
	for (r = 0; r < EGRESS_DROP_MAX; r++) {
		const char *l[] = { "reason", egress_drop_name((enum egress_drop)r) };

		prom_sample(&o, "egressd_drops_total", l, 1, m->s.drops[r]);
	}
	prom_single(&o, "egressd_flows_active", "gauge", "Flows in the flow tables now.",
		    m->flows_active);
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
	prom_flowlog(&o, m);
	return o.len;
}
