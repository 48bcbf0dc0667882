/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus metrics (DESIGN.md, "Operator interfaces"): GET /metrics on
 * metrics.listen, in the text exposition format 0.0.4.
 *
 * The figures are read at scrape time from the same sources as
 * /egress/stats and the final JSON (ctl_stats_sum(), ctl_flows_active(), the
 * reload counters): nothing more is counted per packet. The server is
 * libmicrohttpd's, on a thread of its own (metrics_http.c).
 *
 * Thread-safety: ctl_metrics_read() on any thread (counters are read racily,
 * never torn, as telemetry reads them); the formatting functions are pure;
 * start and stop on the control thread.
 */
#ifndef EGRESS_CTL_METRICS_H
#define EGRESS_CTL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ctl.h"
#include "sync.h"
#include "ctl_nat.h"
#include "explain.h"

/**
 * The per-rule figures of one (rule, port) label set: the compiled rules of
 * one ServiceEntry and port (one per address, per protocol) summed, so
 * that each series is named once.
 */
struct ctl_metrics_rule {
	char label[POLICY_LABEL_MAX]; /**< policy_rule_label() */
	uint16_t port;
	struct dp_rule_counts n;
};

/** One scrape's figures: read once, then formatted. */
struct ctl_metrics {
	struct dp_stats s;              /**< every worker's, summed */
	uint64_t flows_active;          /**< flows in the tables now */
	uint64_t draining;              /**< 1: egressctl drain in progress */
	uint64_t drain_left_ms;         /**< to the drain's deadline; 0: not draining */
	uint64_t generation;            /**< of the published policy */
	uint64_t reloads_ok;            /**< reloads published (the first policy is not one) */
	uint64_t reloads_failed;        /**< reloads rejected, the running policy kept */
	struct ctl_metrics_rule *rules; /**< sorted by label and port; NULL: none
					     (ctl_metrics_release() frees them) */
	uint32_t n_rules;
	uint64_t flowlog_written;          /**< flow-log lines written (ctl_flowlog_written()) */
	uint64_t flowlog_unwritten;        /**< drained but not written (ctl_flowlog_unwritten()) */
	struct ctl_nat nat;                /**< NAT port saturation (ctl_nat_read()) */
	uint32_t link_up[DP_NPORTS];       /**< 1: the port's link is up */
	uint64_t exc_to_host[DP_NPORTS];   /**< exception TAP: frames written to it */
	uint64_t exc_from_host[DP_NPORTS]; /**< frames of the host sent on */
	uint64_t exc_host_dropped[DP_NPORTS]; /**< not passed on, either way */
	struct ctl_sync_stats sync;           /**< session sync's (ctl_sync_stats_get()) */
};

/**
 * Read the figures of c now, the published policy's per-rule counters
 * (ctl_rule_counts()) as a QSBR reader of the CTL_TEL_READERS pool, online
 * for the read alone. Any thread. Release m after.
 */
void ctl_metrics_read(const struct ctl *c, struct ctl_metrics *m);

/** Free what ctl_metrics_read() allocated in m. */
void ctl_metrics_release(struct ctl_metrics *m);

/**
 * Appends text to a buffer, snprintf-like: len counts what was asked for,
 * even past size, so that a first pass with size 0 measures.
 */
struct prom_out {
	char *buf;
	size_t size;
	size_t len;
};

/** "# HELP name help\n# TYPE name type\n"; help escaped (backslash, newline). */
void prom_family(struct prom_out *o, const char *name, const char *type, const char *help);

/**
 * One sample: name{k1="v1",...} value. labels: n_labels pairs of key and
 * value (value escaped: backslash, double quote, newline); none: no braces.
 */
void prom_sample(struct prom_out *o, const char *name, const char *const *labels,
		 unsigned int n_labels, uint64_t value);

/**
 * The whole exposition of m into buf (NUL-terminated when size > 0).
 * @return its length (without NUL), also when it did not fit.
 */
size_t ctl_metrics_format(const struct ctl_metrics *m, char *buf, size_t size);

struct ctl_metrics_server;

/**
 * Serve GET /metrics for c on l (egress_parse_listen()) from a thread of its
 * own. Control thread, after the workers and the policy are set up.
 * @return 0 and *out, or -errno (-EADDRINUSE, -EACCES, ...; -EIO when the
 * library gives no reason).
 */
int ctl_metrics_start(struct ctl *c, const struct egress_listen *l,
		      struct ctl_metrics_server **out);

/** Stop serving: returns once no scrape is in progress. NULL-tolerant. */
void ctl_metrics_stop(struct ctl_metrics_server *s);

#endif
