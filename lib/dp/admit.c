/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A flow's life under the policy: admission of a new flow (the rule's caps,
 * the NAT target by load-balancing mode, the per-source limits, the
 * embryonic cap and its eviction FIFO, the NAT binding), the accounting of
 * what it holds, the re-check after a publish, the reopening of an ended
 * 5-tuple by a new SYN, and revocation. Worker lcore only.
 */

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_random.h>

#include "dp_private.h"
#include "neigh.h"
#include "rewrite.h"

/*
 * Count a flow against its rule's cap and target (or give it back: delta
 * -1), in cnt, the counters of pol (dp_counters(); NULL: not counted).
 */
static inline void
flow_account(const struct dp_worker *w, struct dp_counters *cnt, const struct policy *pol,
	     const struct flow *f, int delta)
{
	const struct policy_rule *r;

	if (cnt == NULL || f->rule == POLICY_NO_RULE || f->rule >= pol->n_rules)
		return;
	r = &pol->rules[f->rule];
	if (cnt->cap_count != NULL && r->cap_id != POLICY_NO_CAP)
		cnt->cap_count[w->id * cnt->cap_stride + r->cap_id] += (uint32_t)delta;
	if (cnt->target_active != NULL && r->n_targets > 0)
		cnt->target_active[w->id * cnt->target_stride + r->first_target + f->target] +=
			(uint32_t)delta;
}

/* One more flow admitted under rule by this worker (POLICY_NO_RULE: none). */
static inline void
rule_flow_count(const struct dp_worker *w, struct dp_counters *cnt, uint32_t rule)
{
	if (rule != POLICY_NO_RULE && cnt != NULL && cnt->rule_flows != NULL)
		cnt->rule_flows[w->id * cnt->rule_stride + rule]++;
}

/*
 * One flow fewer for this client against flows.per_source.max; with a token
 * back too when the flow was never created (refund). A client with no flow
 * left is forgotten, its rate bucket with it: ended TCP flows linger
 * (TIME_WAIT, quarantine), so that is minutes after its last connection,
 * and the table stays bounded by flows.
 */
static void
source_put(struct dp_worker *w, uint32_t ip, bool refund)
{
	struct dp_source *s;
	int pos;

	if (w->sources == NULL)
		return;
	pos = rte_hash_lookup(w->sources, &ip);
	if (pos < 0)
		return;
	s = &w->source[pos];
	if (refund && w->conf->source_rate != 0 && s->rate.tokens < w->conf->source_rate)
		s->rate.tokens++;
	if (s->flows <= 1)
		rte_hash_del_key(w->sources, &ip);
	else
		s->flows--;
}

void
dp_flow_remove(struct dp_worker *w, struct flow *f, unsigned int why)
{
	const struct policy *pol = dp_policy(w->conf);

	if (!f->in_use)
		return; /* ended already: nothing of it is counted any more */
	if (w->flowlog != NULL)
		dp_flowlog_end(w, f, why);
	if (unlikely(w->sync != NULL))
		dp_sync_flow(w, f, DP_SYNC_DELETE);
	/* counted in the policy that admitted or last re-checked it, if current */
	if (f->policy_gen == pol->generation)
		flow_account(w, dp_counters(w->conf, pol->generation), pol, f, -1);
	source_put(w, f->key[FLOW_DIR_OUT].src_ip, false);
	if (f->embryonic)
		w->embryonic--;
	f->embryonic = 0;
	/* the one place a flow's slot leaves the table: its port is free */
	nat_dests_remove(w->dests, &f->key[FLOW_DIR_IN], f->nat_counted);
	flow_table_del(w->flows, f);
}

/*
 * A SYN flood must not starve real connections nor evict established ones:
 * at the embryonic cap the oldest flow still embryonic is ended to make room
 * (as Linux's SYN queue drops its oldest). The FIFO holds every embryonic
 * flow in creation order; entries of flows that have since established or
 * gone are stale (serial mismatch) and skipped. @return true when one was
 * ended.
 */
static bool
embryonic_evict(struct dp_worker *w)
{
	while (w->emb_fifo != NULL && w->emb_head != w->emb_tail) {
		uint64_t e = w->emb_fifo[w->emb_head++ & w->emb_mask];
		struct flow *f = flow_table_at(w->flows, (uint32_t)(e >> 32));

		if (f != NULL && f->in_use && f->embryonic && f->serial == (uint32_t)e) {
			dp_flow_remove(w, f, DP_END_EVICTED);
			w->stats.embryonic_evicted++;
			return true;
		}
	}
	return false;
}

/*
 * Prefetch for the n_new frames of a burst that may evict an embryonic
 * flow each (the cap is reached): the flows next in the FIFO (heads
 * false), then, once those lines came in, the buckets of both their keys,
 * which flow_table_del() unlinks (heads true). Stale entries are skipped by
 * embryonic_evict() and prefetched for nothing.
 */
void
dp_evict_prefetch(struct dp_worker *w, unsigned int n_new, bool heads)
{
	uint32_t j, at = w->emb_head;

	if (w->emb_fifo == NULL || w->embryonic + n_new <= w->conf->embryonic_max)
		return;
	for (j = 0; j < n_new && at + j != w->emb_tail; j++) {
		const struct flow *f = flow_table_at(
			w->flows, (uint32_t)(w->emb_fifo[(at + j) & w->emb_mask] >> 32));

		if (f == NULL)
			continue;
		if (!heads) {
			rte_prefetch0(f);
		} else if (f->in_use) {
			flow_table_prefetch(w->flows, &f->key[FLOW_DIR_OUT]);
			flow_table_prefetch(w->flows, &f->key[FLOW_DIR_IN]);
		}
	}
}

static void
embryonic_push(struct dp_worker *w, struct flow *f)
{
	if (w->emb_fifo == NULL)
		return;
	/* full: the oldest entries are stale or the oldest embryonic flows */
	while (w->emb_tail - w->emb_head > w->emb_mask) {
		uint64_t e = w->emb_fifo[w->emb_head++ & w->emb_mask];
		struct flow *old = flow_table_at(w->flows, (uint32_t)(e >> 32));

		if (old != NULL && old->in_use && old->embryonic && old->serial == (uint32_t)e) {
			dp_flow_remove(w, old, DP_END_EVICTED);
			w->stats.embryonic_evicted++;
		}
	}
	w->emb_fifo[w->emb_tail++ & w->emb_mask] =
		(uint64_t)flow_table_index(w->flows, f) << 32 | f->serial;
}

/*
 * flows.per_source: may this client open one more flow now? Counts it when
 * yes (source_put() gives it back). A token bucket of source_rate per
 * second caps new flows, source_max the concurrent ones.
 */
static bool
source_admit(struct dp_worker *w, uint32_t ip, uint64_t now)
{
	const struct dp_conf *conf = w->conf;
	struct dp_source *s;
	int pos = rte_hash_lookup(w->sources, &ip);

	if (pos < 0) {
		pos = rte_hash_add_key(w->sources, &ip);
		if (pos < 0)
			return false; /* more clients than the table holds: refuse */
		s = &w->source[pos];
		s->flows = 0;
		s->rate =
			(struct dp_bucket){ .tokens = conf->source_rate, .last_ms = (uint32_t)now };
	}
	s = &w->source[pos];
	if (conf->source_max != 0 && s->flows >= conf->source_max)
		return false;
	if (conf->source_rate != 0 && !bucket_take(&s->rate, now, conf->source_rate))
		return false;
	s->flows++;
	return true;
}

/*
 * A client opens a new connection on a 5-tuple it already holds (a reopened
 * TIME_WAIT or CLOSED flow): it counts against its new flows per second,
 * not against its concurrent flows, which it already holds.
 */
static bool
source_reopen(struct dp_worker *w, uint32_t ip, uint64_t now)
{
	int pos;

	if (w->sources == NULL || w->conf->source_rate == 0)
		return true;
	pos = rte_hash_lookup(w->sources, &ip);
	return pos < 0 || bucket_take(&w->source[pos].rate, now, w->conf->source_rate);
}

/* The target whose cumulative weight covers pick (0 <= pick < total_weight). */
static inline uint32_t
target_by_weight(const struct policy_target *t, uint32_t n, uint32_t pick)
{
	uint32_t i;

	for (i = 0; i + 1 < n && pick >= t[i].weight; i++)
		pick -= t[i].weight;
	return i;
}

/*
 * Pick a NAT target of rule r for a new flow by the rule's load-balancing
 * mode (DestinationRule trafficPolicy.loadBalancer); every mode honours the
 * weights. @return the target's index within the rule's targets.
 */
static uint32_t
pick_target(const struct dp_worker *w, const struct dp_counters *cnt, const struct policy *pol,
	    const struct policy_rule *r, const struct flow_key *k, uint64_t rnd)
{
	const struct policy_target *t = &pol->targets[r->first_target];
	uint32_t i, best;

	switch (r->lb) {
	case POLICY_LB_ROUND_ROBIN:
		/* this worker's flows admitted under the rule so far: its sequence */
		if (cnt != NULL && cnt->rule_flows != NULL)
			return target_by_weight(
				t, r->n_targets,
				(uint32_t)(cnt->rule_flows[w->id * cnt->rule_stride +
							   (uint32_t)(r - pol->rules)] %
					   r->total_weight));
		break;
	case POLICY_LB_CONSISTENT_SOURCE_IP:
		return target_by_weight(t, r->n_targets,
					rte_hash_crc_4byte(k->src_ip, 0) % r->total_weight);
	case POLICY_LB_LEAST_CONN:
		if (cnt == NULL || cnt->target_active == NULL)
			break;
		{
			const uint32_t *act =
				&cnt->target_active[w->id * cnt->target_stride + r->first_target];

			/* fewest active flows per unit of weight; ties: the later
			 * random start breaks them */
			best = (uint32_t)(rnd % r->n_targets);
			for (i = 0; i < r->n_targets; i++) {
				uint32_t j = (uint32_t)((best + i) % r->n_targets);

				if ((uint64_t)act[j] * t[best].weight <
				    (uint64_t)act[best] * t[j].weight)
					best = j;
			}
			return best;
		}
	default:
		break;
	}
	return target_by_weight(t, r->n_targets, (uint32_t)(rnd % r->total_weight));
}

/* Where a new flow under rule r goes: ip and port in network order. */
static void
target_address(const struct policy *pol, const struct policy_rule *r, uint32_t ti,
	       const struct flow_key *k, uint32_t *ip, uint16_t *port)
{
	uint16_t p = 0;

	*ip = k->dst_ip;
	if (r->n_targets > 0) {
		*ip = pol->targets[r->first_target + ti].ip;
		p = pol->targets[r->first_target + ti].port;
	}
	if (p == 0)
		p = r->target_port;
	*port = p != 0 ? rte_cpu_to_be_16(p) : k->dst_port;
}

/* DestinationRule maxConnections: this worker's share of the cap is full. */
static inline bool
cap_reached(const struct dp_worker *w, const struct dp_counters *cnt, const struct policy_rule *r)
{
	uint32_t share;

	if (r->max_connections == 0 || cnt == NULL || cnt->cap_count == NULL ||
	    r->cap_id == POLICY_NO_CAP)
		return false;
	share = (r->max_connections + w->conf->n_workers - 1) / RTE_MAX(w->conf->n_workers, 1u);
	return cnt->cap_count[w->id * cnt->cap_stride + r->cap_id] >= share;
}

/* The reply key nat_bind() looks up first for frame i toward dst_ip:dst_port. */
static inline bool
probe_key(struct dp_burst *b, unsigned int i, uint32_t dst_ip, uint16_t dst_port,
	  struct flow_key *in)
{
	return nat_bind_first(&b->w->nat, &b->key[i], dst_ip, dst_port, b->rnd[i], in);
}

/*
 * Before the classification of a burst's n_new new flows (frames idx[j]):
 * draw the random number dp_flow_create() will use for each, and prefetch
 * the bucket of the reply key nat_bind() looks up first with it
 * (nat_bind_first()), guessing no DNAT: the one line a new flow reads that
 * the burst's bulk lookup did not bring in, and it comes in while the
 * burst is classified. dp_admit_prefetch() takes the next step.
 */
void
dp_admit_prefetch_guess(struct dp_burst *b, unsigned int n_new, const unsigned int *idx)
{
	unsigned int j;

	for (j = 0; j < n_new; j++) {
		unsigned int i = idx[j];

		b->rnd[i] = rte_rand();
		if (probe_key(b, i, b->key[i].dst_ip, b->key[i].dst_port, &b->probe[i]))
			flow_table_prefetch(b->w->flows, &b->probe[i]);
		else
			b->probe[i].proto = 0;
	}
}

/*
 * After the classification (rules[j]): where the guess held (the target
 * is the flow's own destination), the bucket is in: prefetch its first
 * flow, which the lookup compares; where a DNAT target or a port rewrite
 * moved the destination, the right bucket now. Not where the target is
 * still to be chosen (several), nor for a flow that is denied. A wrong
 * guess costs a prefetch, nothing else.
 */
void
dp_admit_prefetch(struct dp_burst *b, const uint32_t *rules, unsigned int n_new,
		  const unsigned int *idx)
{
	unsigned int j;

	for (j = 0; j < n_new; j++) {
		unsigned int i = idx[j];
		const struct flow_key *k = &b->key[i];
		struct flow_key in;
		uint32_t dst_ip = k->dst_ip;
		uint16_t dst_port = k->dst_port;

		if (rules[j] != POLICY_NO_RULE) {
			const struct policy_rule *r = &b->pol->rules[rules[j]];

			if (r->n_targets > 1)
				continue;
			target_address(b->pol, r, 0, k, &dst_ip, &dst_port);
		} else if (b->pol->outbound != EGRESS_OUTBOUND_ALLOW_ANY) {
			continue;
		}
		if (b->probe[i].proto != 0 && dst_ip == k->dst_ip && dst_port == k->dst_port)
			flow_table_prefetch_chain(b->w->flows, &b->probe[i]);
		else if (probe_key(b, i, dst_ip, dst_port, &in))
			flow_table_prefetch(b->w->flows, &in);
	}
}

/*
 * Admit a new flow allowed by rule (POLICY_NO_RULE under ALLOW_ANY).
 * @return the flow; NULL with *why set; NULL with *why = EGRESS_DROP_MAX when
 *         the flow already exists (a duplicate SYN earlier in this burst).
 */
struct flow *
dp_flow_create(struct dp_burst *b, const struct flow_key *k, uint32_t rule, uint64_t rnd,
	       enum egress_drop *why)
{
	struct dp_worker *w = b->w;
	struct flow_key in;
	uint32_t dst_ip;
	uint16_t dst_port;
	uint32_t ti = 0;
	struct flow *f;
	int err, bound;

	/* the 5-tuple exists already (a duplicate SYN earlier in this burst,
	 * a quarantined flow its SYN reopens): nothing to admit, nothing to
	 * evict or charge for it */
	if (flow_table_contains(w->flows, k)) {
		*why = EGRESS_DROP_MAX;
		return NULL;
	}
	if (rule != POLICY_NO_RULE) {
		const struct policy_rule *r = &b->pol->rules[rule];

		if (cap_reached(w, b->cnt, r)) {
			*why = EGRESS_DROP_CONN_LIMIT;
			return NULL;
		}
		ti = r->n_targets > 0 ? pick_target(w, b->cnt, b->pol, r, k, rnd >> 32) : 0;
		target_address(b->pol, r, ti, k, &dst_ip, &dst_port);
	} else {
		dst_ip = k->dst_ip;
		dst_port = k->dst_port;
	}
	bound = nat_bind(&w->nat, w->flows, k, dst_ip, dst_port, rnd, &in);
	if (bound < 0) {
		*why = EGRESS_DROP_NAT_EXHAUSTED;
		return NULL;
	}
	/* last, the checks that take something: a per-source token, an evicted
	 * embryonic flow; nothing can fail after them but a full table */
	if (w->sources != NULL && !source_admit(w, k->src_ip, b->now)) {
		*why = EGRESS_DROP_SOURCE_LIMIT;
		return NULL;
	}
	/* a UDP flow nobody answered yet is as cheap to make as a SYN: it is
	 * embryonic too, under the same cap */
	if (w->embryonic >= b->conf->embryonic_max && !embryonic_evict(w)) {
		source_put(w, k->src_ip, true);
		*why = EGRESS_DROP_EMBRYONIC_FULL;
		return NULL;
	}
	f = flow_table_add(w->flows, k, &in, &err);
	if (f == NULL && err == -ENOSPC && w->reclaim_ms != b->now) {
		/* full: reclaim what has expired but not been swept yet, a bounded
		 * stretch of the table, and try once more. Once per millisecond:
		 * under a flood at a full table, not a stretch per packet */
		w->reclaim_ms = b->now;
		dp_expire(w, b->now, DP_RECLAIM_BUDGET, NULL);
		f = flow_table_add(w->flows, k, &in, &err);
	}
	if (f == NULL) {
		source_put(w, k->src_ip, true);
		*why = err == -EEXIST ? EGRESS_DROP_MAX : EGRESS_DROP_FLOW_TABLE_FULL;
		return NULL;
	}
	f->last_seen = (uint32_t)b->now;
	f->policy_gen = b->pol->generation;
	f->rule = rule;
	f->worker = (uint8_t)w->id;
	f->serial = w->serial++;
	f->target = (uint16_t)ti;
	/* its port is in use toward its destination until it leaves the table
	 * (dp_flow_remove()); a full destination table leaves it untracked */
	f->nat_counted = nat_dests_add(w->dests, &in) == 0;
	if (bound > 0)
		w->stats.nat_spilled++;
	if (w->flowlog != NULL)
		dp_flow_ext(w->flows, f)->created_ms = (uint32_t)b->now;
	flow_account(w, b->cnt, b->pol, f, +1);
	if (k->proto != IPPROTO_TCP) {
		/* TCP becomes embryonic with its SYN (forward()), UDP until a reply */
		f->embryonic = 1;
		w->embryonic++;
	}
	embryonic_push(w, f);
	w->stats.flows_created++;
	rule_flow_count(w, b->cnt, rule);
	if (unlikely(w->sync != NULL))
		dp_sync_flow(w, f, DP_SYNC_CREATE);
	return f;
}

/*
 * Does rule (from the policy pol) send flow f where its NAT binding already
 * goes? Under ALLOW_ANY with no rule, that is the client's own destination.
 * @return true with *target the index of the rule's target it matches.
 */
static bool
binding_allowed(const struct policy *pol, const struct flow *f, uint32_t rule, uint16_t *target)
{
	const struct flow_key *k = &f->key[FLOW_DIR_OUT];
	const struct flow_key *in = &f->key[FLOW_DIR_IN];
	const struct policy_rule *r;
	uint32_t i;

	*target = 0;
	if (rule == POLICY_NO_RULE)
		return pol->outbound == EGRESS_OUTBOUND_ALLOW_ANY && in->src_ip == k->dst_ip &&
		       in->src_port == k->dst_port;
	r = &pol->rules[rule];
	if (r->n_targets == 0) {
		uint16_t p = r->target_port ? rte_cpu_to_be_16(r->target_port) : k->dst_port;

		return in->src_ip == k->dst_ip && in->src_port == p;
	}
	for (i = 0; i < r->n_targets; i++) {
		const struct policy_target *t = &pol->targets[r->first_target + i];
		uint16_t p = t->port ? t->port : r->target_port;

		if (in->src_ip == t->ip &&
		    in->src_port == (p ? rte_cpu_to_be_16(p) : k->dst_port)) {
			*target = (uint16_t)i;
			return true;
		}
	}
	return false;
}

/*
 * Count f under rule and target of pol (whose counters are cnt) from now on;
 * what it counted under pol before is given back (under an older policy,
 * those counters are gone with it: nothing to give back).
 */
static void
flow_rebind_rule(struct dp_worker *w, struct dp_counters *cnt, const struct policy *pol,
		 struct flow *f, uint32_t rule, uint16_t target)
{
	if (f->policy_gen == pol->generation)
		flow_account(w, cnt, pol, f, -1);
	f->policy_gen = pol->generation;
	f->rule = rule;
	f->target = target;
	flow_account(w, cnt, pol, f, +1);
}

/*
 * A policy was published since this flow was admitted: is it still allowed,
 * to the same destination? Same rule set, same endpoint: keep it untouched.
 * With on_revoke: keep a connection the policy no longer allows is kept too,
 * counted under no rule; it ends with the connection (a new one on its
 * 5-tuple is judged like any new one: dp_flow_reopen()).
 */
bool
dp_flow_recheck(struct dp_worker *w, const struct policy *pol, struct flow *f)
{
	uint32_t rule = classify_one(pol, &f->key[FLOW_DIR_OUT]);
	uint16_t target;
	bool ok = binding_allowed(pol, f, rule, &target);

	if (!ok && w->conf->on_revoke != EGRESS_REVOKE_KEEP)
		return false;
	flow_rebind_rule(w, dp_counters(w->conf, pol->generation), pol, f,
			 ok ? rule : POLICY_NO_RULE, ok ? target : 0);
	w->stats.flows_rechecked++;
	return true;
}

/*
 * End a flow the policy no longer allows. With on_revoke: reset both ends
 * get an in-window RST, built from the sequence numbers tracked per
 * direction: each end receives the sequence number its peer would send next
 * (the end of the last segment seen from that peer, RFC 5961 section 3:
 * exactly what it expects). Used on the flow's next packet and by the
 * background sweep alike. @return the number of RSTs appended to out.
 */
uint16_t
dp_flow_revoke(struct dp_worker *w, struct flow *f, struct dp_out *out, uint64_t now)
{
	const struct dp_conf *conf = w->conf;
	const struct flow_key *in = &f->key[FLOW_DIR_IN], *o = &f->key[FLOW_DIR_OUT];
	const struct flow_tcp *t = dp_flow_tcp(w->flows, f);
	uint16_t n = 0;
	unsigned int d;

	w->stats.flows_revoked++;
	if (conf->on_revoke != EGRESS_REVOKE_RESET || o->proto != IPPROTO_TCP || out == NULL ||
	    f->state == FLOW_S_CLOSED) {
		dp_flow_remove(w, f, DP_END_REVOKED);
		return 0;
	}
	/* d: the direction whose receiver gets the RST */
	for (d = 0; d < 2; d++) {
		enum dp_port port = d == FLOW_DIR_OUT ? DP_OUTSIDE : DP_INSIDE;
		const struct dp_port_conf *pc = &conf->port[port];
		uint8_t mac[RTE_ETHER_ADDR_LEN];
		struct rte_mbuf *m;
		struct rst_spec r;
		uint32_t nexthop;

		if (!t[d].seen)
			continue;
		if (d == FLOW_DIR_OUT) {
			/* to the server, as if from the client through the NAT */
			r = (struct rst_spec){ .src = in->dst_ip,
					       .dst = in->src_ip,
					       .sport = in->dst_port,
					       .dport = in->src_port };
			nexthop = in_prefix(pc, in->src_ip) ? in->src_ip : pc->gateway;
		} else {
			/* to the client, as if from the server */
			r = (struct rst_spec){ .src = o->dst_ip,
					       .dst = o->src_ip,
					       .sport = o->dst_port,
					       .dport = o->src_port };
			nexthop = o->src_ip;
		}
		r.seq = t[d].end;
		r.flags = RTE_TCP_RST_FLAG;
		r.dmac = mac;
		r.smac = pc->mac;
		/* rate-limited like every RST we make: a reload that revokes a
		 * million flows must not flood either side */
		if (nexthop == 0 || !neigh_lookup(pc->neigh, nexthop, mac) ||
		    out->n[port] >= DP_OUT_MAX || !bucket_take(&w->rst, now, DP_RST_RATE))
			continue;
		m = rte_pktmbuf_alloc(w->pool);
		if (m == NULL)
			continue;
		dp_write_rst(m, &r);
		pad_runt(m);
		out->pkts[port][out->n[port]++] = m;
		w->stats.rst_sent++;
		n++;
	}
	dp_flow_remove(w, f, DP_END_REVOKED);
	return n;
}

/*
 * A client SYN on a 5-tuple whose last connection ended (TIME_WAIT, CLOSED,
 * or quarantine after a timeout): a new connection, admitted as one. The
 * policy in force must allow it, whatever on_revoke kept of the old one; it
 * takes an embryonic slot (evicting the oldest embryonic flow at the cap)
 * and one of the client's new flows per second. It keeps the flow's NAT
 * binding, so the port stays held and the server sees the same 4-tuple
 * with a new sequence space (RFC 6191). A rule that now sends the 5-tuple
 * elsewhere (another DNAT endpoint), or none, ends the old flow: the caller
 * admits or denies the SYN like any first packet, with *rule.
 */
enum reopen
dp_flow_reopen(struct dp_burst *b, unsigned int i, struct flow *f, uint32_t *rule)
{
	struct dp_worker *w = b->w;
	uint16_t target;

	*rule = classify_one(b->pol, &f->key[FLOW_DIR_OUT]);
	if (!binding_allowed(b->pol, f, *rule, &target)) {
		/* its connection was over: counted as the sweep would have */
		w->stats.flows_expired++;
		dp_flow_remove(w, f, DP_END_BY_STATE);
		return REOPEN_NEW;
	}
	if (!source_reopen(w, f->key[FLOW_DIR_OUT].src_ip, b->now)) {
		dp_drop(b, b->m[i], EGRESS_DROP_SOURCE_LIMIT);
		return REOPEN_DONE;
	}
	if (w->embryonic >= b->conf->embryonic_max && !embryonic_evict(w)) {
		dp_drop(b, b->m[i], EGRESS_DROP_EMBRYONIC_FULL);
		return REOPEN_DONE;
	}
	flow_rebind_rule(b->w, b->cnt, b->pol, f, *rule, target);
	rule_flow_count(w, b->cnt, *rule);
	dp_flowlog_restart(w, f, b->now); /* the old connection's end record */
	f->quarantine = 0;
	f->serial = w->serial++;
	memset(dp_flow_tcp(w->flows, f), 0, 2 * sizeof(struct flow_tcp));
	flow_set_state(w, f, FLOW_S_NONE);
	embryonic_push(w, f);
	return REOPEN_OK;
}
