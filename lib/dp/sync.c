/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Session sync, the worker side (doc/session-sync.md): records of flows
 * created, of the TCP state changes a peer needs to continue a connection
 * (established, closing, closed) and of deletions, put on the worker's own
 * SP/SC ring for lib/ctl/sync.c's thread, which batches them to the peer;
 * and, at a takeover, the installation of the peer's flows the sync thread
 * queued for this worker. No lock, no syscall, no allocation; nothing here
 * runs when session sync is off (w->sync NULL).
 */
#include <rte_ring.h>

#include "dp_private.h"

bool
dp_sync_rec_valid(const struct dp_sync_rec *r)
{
	if (r->type == 0 || r->type >= DP_SYNC_TYPE_MAX || r->state >= FLOW_S_MAX)
		return false;
	if (r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP)
		return false;
	if (r->proto == IPPROTO_UDP && r->wscale != 0)
		return false;
	return r->src != 0 && r->dst != 0 && r->remote != 0 && r->nat_addr != 0 && r->sport != 0 &&
	       r->dport != 0 && r->rport != 0 && r->nat_port != 0 && r->reserved == 0;
}

void
dp_sync_rec_keys(const struct dp_sync_rec *r, struct flow_key *o, struct flow_key *in)
{
	memset(o, 0, sizeof(*o));
	memset(in, 0, sizeof(*in));
	o->src_ip = r->src;
	o->dst_ip = r->dst;
	o->src_port = r->sport;
	o->dst_port = r->dport;
	o->proto = r->proto;
	in->src_ip = r->remote;
	in->dst_ip = r->nat_addr;
	in->src_port = r->rport;
	in->dst_port = r->nat_port;
	in->proto = r->proto;
}

unsigned int
dp_sync_worker(const struct dp_conf *conf, const struct dp_sync_rec *r)
{
	struct flow_key o, in;
	int owner;

	dp_sync_rec_keys(r, &o, &in);
	owner = dp_owner(conf, &in);
	return owner < 0 || (unsigned int)owner >= conf->n_workers ? 0 : (unsigned int)owner;
}

/* The states a peer needs to hear of: those that decide what it continues. */
static inline bool
state_synced(uint8_t s)
{
	return s == FLOW_S_ESTABLISHED || s == FLOW_S_FIN_OUT || s == FLOW_S_FIN_IN ||
	       s == FLOW_S_TIME_WAIT || s == FLOW_S_CLOSED;
}

void
dp_sync_flow(struct dp_worker *w, const struct flow *f, uint8_t type)
{
	const struct flow_key *o = &f->key[FLOW_DIR_OUT], *in = &f->key[FLOW_DIR_IN];
	struct dp_sync_rec r;

	if (type == DP_SYNC_STATE && !state_synced(f->state))
		return;
	r = (struct dp_sync_rec){
		.type = type,
		.proto = o->proto,
		.state = f->state,
		.src = o->src_ip,
		.dst = o->dst_ip,
		.sport = o->src_port,
		.dport = o->dst_port,
		.remote = in->src_ip,
		.nat_addr = in->dst_ip,
		.rport = in->src_port,
		.nat_port = in->dst_port,
	};
	if (o->proto == IPPROTO_TCP) {
		const struct flow_tcp *t = dp_flow_tcp(w->flows, f);

		r.wscale = (uint8_t)((t[FLOW_DIR_OUT].wscale & 0xf) | (t[FLOW_DIR_IN].wscale & 0xf)
									      << 4);
	}
	if (rte_ring_sp_enqueue_elem(w->sync, &r, sizeof(r)) != 0)
		w->stats.sync_records_lost++;
}

/* One of the peer's flows into this worker's table. @return true when installed. */
static bool
install(struct dp_worker *w, const struct policy *pol, const struct dp_sync_rec *r, uint64_t now)
{
	struct flow_key o, in;
	struct flow *f;
	int err;

	dp_sync_rec_keys(r, &o, &in);
	f = flow_table_add(w->flows, &o, &in, &err);
	if (f == NULL)
		return false;
	f->last_seen = (uint32_t)now;
	/* not of the policy in force: its next packet has it re-checked
	 * (dp_flow_recheck()), which names its rule, counts it, or ends it
	 * when this appliance's policy does not allow it */
	f->policy_gen = pol->generation - 1;
	f->rule = POLICY_NO_RULE;
	f->worker = (uint8_t)w->id;
	f->serial = w->serial++;
	f->nat_counted = nat_dests_add(w->dests, &in) == 0;
	f->state = r->state; /* never embryonic: the sync thread sends no other */
	if (r->proto == IPPROTO_TCP) {
		struct flow_tcp *t = dp_flow_tcp(w->flows, f);

		/* the window scales were agreed in the SYNs this side never saw;
		 * the sequence windows are learnt from the next segments
		 * (tcp_in_window() judges no direction not seen yet) */
		t[FLOW_DIR_OUT].wscale = r->wscale & 0xf;
		t[FLOW_DIR_IN].wscale = r->wscale >> 4;
	}
	if (w->flowlog != NULL)
		dp_flow_ext(w->flows, f)->created_ms = (uint32_t)now;
	return true;
}

unsigned int
dp_sync_apply(struct dp_worker *w, uint64_t now_ms)
{
	struct rte_ring *ring = w->conf->sync_in[w->id];
	struct dp_sync_rec recs[DP_BURST_MAX];
	const struct policy *pol;
	unsigned int n, i, done = 0;

	if (ring == NULL)
		return 0;
	n = rte_ring_sc_dequeue_burst_elem(ring, recs, sizeof(recs[0]), DP_BURST_MAX, NULL);
	if (n == 0)
		return 0;
	pol = dp_policy(w->conf);
	w->now = now_ms;
	for (i = 0; i < n; i++) {
		if (dp_sync_rec_valid(&recs[i]) && !state_embryonic(recs[i].state) &&
		    recs[i].state != FLOW_S_NONE && install(w, pol, &recs[i], now_ms))
			done++;
		else
			w->stats.sync_install_failed++;
	}
	w->stats.sync_flows_installed += done;
	return done;
}
