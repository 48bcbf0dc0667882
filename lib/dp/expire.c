/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Timeouts and aging: a flow's idle timeout by state, what happens when it
 * runs out (quarantine, deletion), and the sweep of the poll loop, paced to
 * go round a table once per period whatever its size. Worker lcore only.
 */

#include "dp_private.h"

/* every timeout (flows.timeouts, a DestinationRule's connectTimeout) is
 * compared with a flow's 32-bit age (flow_age()) */
static_assert(EGRESS_TIMEOUT_MAX_MS < (1ull << (8 * sizeof(((struct flow *)0)->last_seen) - 1)),
	      "EGRESS_TIMEOUT_MAX_MS must stay below half the range of flow.last_seen");

uint64_t
dp_flow_timeout(const struct dp_conf *conf, const struct flow *f)
{
	const struct policy *pol;

	if (f->key[FLOW_DIR_OUT].proto != IPPROTO_TCP)
		return conf->udp_timeout_ms;
	/* DestinationRule connectTimeout bounds the handshake of its flows */
	if (f->embryonic && f->rule != POLICY_NO_RULE) {
		pol = dp_policy(conf);
		if (pol != NULL && f->policy_gen == pol->generation && f->rule < pol->n_rules &&
		    pol->rules[f->rule].connect_timeout_ms != 0)
			return pol->rules[f->rule].connect_timeout_ms;
	}
	return conf->timeout_ms[f->state];
}

/*
 * A flow idle past its timeout. A TCP flow that did not end in TIME_WAIT or
 * CLOSED (which already held its binding for their own timeouts) is kept
 * another time_wait in quarantine, holding its NAT port so that the port is
 * not reused toward the same destination while the server may still hold
 * the old connection (RFC 6146 3.5.2.2, RFC 7857 2.3). Anything else goes.
 * @return true when the flow was deleted.
 */
bool
dp_flow_age_out(struct dp_worker *w, struct flow *f, uint64_t now)
{
	if (f->key[FLOW_DIR_OUT].proto == IPPROTO_TCP && !f->quarantine &&
	    f->state != FLOW_S_TIME_WAIT && f->state != FLOW_S_CLOSED) {
		/* the connection is over: logged now, not when the port is let go */
		if (w->flowlog != NULL)
			dp_flowlog_end(w, f, DP_END_TIMEOUT);
		f->quarantine = 1;
		flow_set_state(w, f, FLOW_S_TIME_WAIT);
		f->last_seen = (uint32_t)now;
		return false;
	}
	w->stats.flows_expired++;
	dp_flow_remove(w, f, DP_END_BY_STATE);
	return true;
}

unsigned int
dp_expire(struct dp_worker *w, uint64_t now_ms, unsigned int budget, struct dp_out *out)
{
	const struct policy *pol = dp_policy(w->conf);
	uint32_t cap = flow_table_capacity(w->flows);
	unsigned int deleted = 0;

	w->now = now_ms;
	while (budget-- > 0) {
		struct flow *f;

		if (w->sweep_cursor >= cap)
			w->sweep_cursor = 0;
		f = flow_table_at(w->flows, w->sweep_cursor++);
		if (!f->in_use)
			continue;
		if (flow_expired(w->conf, f, now_ms)) {
			deleted += dp_flow_age_out(w, f, now_ms);
		} else if (f->policy_gen != pol->generation && !dp_flow_recheck(w, pol, f)) {
			dp_flow_revoke(w, f, out, now_ms);
			deleted++;
		}
	}
	return deleted;
}

/*
 * Slots the background sweep may examine now: enough to go round the table
 * once per sweep period whatever its size, spread over the loop iterations
 * (a busy loop runs hundreds of times per ms: examining a fixed 64 slots in
 * each went round a small table many times a second, a cache miss per slot,
 * and round a 16 Mi table once in 16 s). What a slow iteration could not
 * examine is banked, up to one round, and examined over the next ones,
 * DP_SWEEP_LOOP_MAX at most each: bounded work per iteration.
 */
static unsigned int
sweep_budget(struct dp_worker *w, uint64_t now)
{
	uint64_t cap = flow_table_capacity(w->flows);
	uint64_t period = RTE_MAX(w->conf->sweep_period_ms, (uint64_t)1);
	unsigned int budget;

	if (now != w->sweep_ms) {
		uint64_t elapsed = RTE_MIN(now - w->sweep_ms, period);

		w->sweep_credit =
			RTE_MIN(w->sweep_credit + (elapsed * cap + period - 1) / period, cap);
		w->sweep_ms = now;
	}
	budget = (unsigned int)RTE_MIN(w->sweep_credit, (uint64_t)DP_SWEEP_LOOP_MAX);
	w->sweep_credit -= budget;
	return budget;
}

unsigned int
dp_sweep(struct dp_worker *w, uint64_t now_ms, struct dp_out *out)
{
	return dp_expire(w, now_ms, sweep_budget(w, now_ms), out);
}
