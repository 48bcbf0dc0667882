/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flow log's writer (doc/operations.md "Flow logs"): one control-side
 * thread (a pthread, not an lcore) that drains every worker's flow-log ring
 * (struct dp_flowlog_rec, lib/dp/flowlog.c), turns each record into one
 * JSON line and appends it to flowlog.path through its own buffer, written
 * out at least every CTL_FLOWLOG_PERIOD_MS. SIGUSR1 (the app calls
 * ctl_flowlog_reopen()) reopens the path, as logrotate wants.
 *
 * Names: a record names its rule by index and policy generation. The
 * writer reads the published policy as a QSBR reader of the pool
 * (ctl_reader_take()), for short stretches only (the flow tables reclaim
 * through the same QSBR variable: never while it formats or writes), and
 * copies the names of each generation it sees, keeping the last two: a record of the generation
 * before a reload is still named after the policy that admitted it is
 * freed. A record whose generation it never saw (two reloads within one
 * drain period) gets null names rather than anything read from a freed
 * policy. A deny's `closest` is computed from the held policy when it is
 * the record's generation, and empty otherwise.
 */
#ifndef EGRESS_CTL_FLOWLOG_H
#define EGRESS_CTL_FLOWLOG_H

#include <stddef.h>
#include <stdint.h>

#include "ctl.h"
#include "explain.h"

#define CTL_FLOWLOG_PERIOD_MS 100 /**< the writer drains and writes this often */
#define CTL_FLOWLOG_LINE_MAX  2048

struct ctl_flowlog;

/** What a record names, resolved by the writer. NULL: none (null in JSON). */
struct ctl_flowlog_text {
	const char *rule;    /**< "ServiceEntry/NS/NAME" */
	const char *source;  /**< "FILE:LINE" */
	const char *closest; /**< deny: a sentence naming the nearest rule, or "" */
	const char *sni;     /**< admit: the ClientHello's server name, or NULL */
};

/**
 * One record as a JSON line (with its newline) in buf: wall time is the
 * record's worker ms clock + wall_offset_ms (Unix epoch ms).
 * @return the line's length, or 0 when it does not fit in size.
 */
size_t ctl_flowlog_format(char *buf, size_t size, const struct dp_flowlog_rec *r,
			  int64_t wall_offset_ms, const struct ctl_flowlog_text *t);

/**
 * A deny record's `closest`: the sentence policy_explain() gives the
 * record's 5-tuple under pol (in e->reason) when it names a nearest rule,
 * else "". pol must be the policy of the record's generation, held.
 */
const char *ctl_flowlog_closest(const struct policy *pol, const struct dp_flowlog_rec *r,
				struct policy_explanation *e);

/**
 * Start the writer for c's workers' rings (conf->flowlog[], made by
 * dp_worker_create()), appending to path (O_APPEND|O_CREAT, 0640). A path
 * that cannot be opened is logged once and retried every second; what the
 * writer drains meanwhile is counted (ctl_flowlog_unwritten()). Control
 * thread. @return 0, or -errno (no thread).
 */
int ctl_flowlog_start(struct ctl *c, const char *path, struct ctl_flowlog **out);

/** Reopen the path at the writer's next drain (SIGUSR1). Any thread. */
void ctl_flowlog_reopen(struct ctl_flowlog *fl);

/**
 * Drain every ring a last time, write out, close and free; NULL-tolerant.
 * After the workers stopped, before they are freed.
 */
void ctl_flowlog_stop(struct ctl_flowlog *fl);

/** Records drained but not written (no file, a write error) so far. Any thread. */
uint64_t ctl_flowlog_unwritten(void);

/** Records written so far. Any thread. */
uint64_t ctl_flowlog_written(void);

#endif
