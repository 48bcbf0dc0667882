/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flow log's worker side (doc/operations.md "Flow logs"): records of
 * admitted, denied and ended flows, built in a struct dp_flowlog_rec and
 * put on the worker's own SP/SC ring for lib/ctl/flowlog.c's writer. No
 * lock, no syscall, no allocation; a full ring loses the record, counted.
 * Nothing here runs when flow logs are off (w->flowlog NULL).
 *
 * Each admitted flow gets exactly one admit and one end record, in that
 * order, whichever way it ends: dp_flowlog_end() makes the admit first if
 * none was made yet, and the flow's `logged` bits stop a second one (a
 * flow quarantined after a timeout is logged ended then, not again when
 * the quarantine ends).
 */
#include <rte_ring.h>

#include "dp_private.h"
#include "sni.h"

const char *
dp_end_reason_name(unsigned int why)
{
	static const char *const names[] = {
#define DP_END_NAME(name, str) str,
		DP_END_REASONS(DP_END_NAME)
#undef DP_END_NAME
	};

	return why < DP_END_MAX ? names[why] : "invalid";
}

/* Enqueue n elements (one record and its SNI continuation), all or none. */
static void
push(struct dp_worker *w, const void *recs, unsigned int n)
{
	if (rte_ring_sp_enqueue_bulk_elem(w->flowlog, recs, sizeof(struct dp_flowlog_rec), n,
					  NULL) != n)
		w->stats.flowlog_dropped++;
}

/* The full ms clock of a time kept as its low 32 bits, at most 2^32 ms before now. */
static inline uint64_t
full_ms(uint64_t now, uint32_t low)
{
	return now - (uint32_t)((uint32_t)now - low);
}

/* What admit and end records share: the flow's tuples, rule, creation. */
static void
rec_flow(struct dp_flowlog_rec *r, const struct dp_worker *w, const struct flow *f, uint8_t event,
	 uint64_t now)
{
	const struct flow_key *o = &f->key[FLOW_DIR_OUT], *in = &f->key[FLOW_DIR_IN];

	r->time_ms = full_ms(now, dp_flow_ext(w->flows, f)->created_ms);
	r->gen = f->policy_gen;
	r->src = o->src_ip;
	r->dst = o->dst_ip;
	r->sport = o->src_port;
	r->dport = o->dst_port;
	r->nat_src = in->dst_ip;
	r->nat_sport = in->dst_port;
	r->rule = f->rule;
	r->event = event;
	r->proto = o->proto;
}

static void
admit(struct dp_worker *w, struct flow *f, uint64_t now, const char *sni, size_t sni_len)
{
	struct dp_flowlog_rec r[1 + DP_FLOWLOG_SNI_MAX / sizeof(struct dp_flowlog_rec) + 1];
	size_t inl = RTE_MIN(sni_len, (size_t)DP_FLOWLOG_SNI_INLINE);

	dp_flow_ext(w->flows, f)->logged |= DP_FLOWLOG_ADMITTED;
	memset(&r[0], 0, sizeof(r[0]));
	rec_flow(&r[0], w, f, DP_FL_ADMIT, now);
	r[0].u.admit.nat_dst = f->key[FLOW_DIR_IN].src_ip;
	r[0].u.admit.nat_dport = f->key[FLOW_DIR_IN].src_port;
	r[0].u.admit.sni_len = (uint8_t)sni_len;
	if (inl > 0) /* sni may be NULL then */
		memcpy(r[0].u.admit.sni, sni, inl);
	if (sni_len > inl)
		memcpy(&r[1], sni + inl, sni_len - inl);
	push(w, r, 1 + dp_flowlog_sni_extra((unsigned int)sni_len));
}

void
dp_flowlog_first(struct dp_worker *w, struct flow *f, uint8_t dir, const struct pkt_meta *pm,
		 const uint8_t *frame, uint64_t now)
{
	char sni[DP_FLOWLOG_SNI_MAX];
	size_t n = 0;

	/* the client's first payload may be a ClientHello; a server that
	 * speaks first (SMTP, Redis' replies never do) gets no SNI */
	if (pm->proto == IPPROTO_TCP && dir == FLOW_DIR_OUT) {
		uint32_t off = (uint32_t)pm->l2_len + pm->l3_len + pm->l4_len;

		n = pkt_tls_sni(frame + off, (size_t)pm->l2_len + pm->ip_len - off, sni,
				sizeof(sni));
	}
	admit(w, f, now, sni, n);
}

void
dp_flowlog_end(struct dp_worker *w, struct flow *f, unsigned int why)
{
	struct dp_flow_ext *x = dp_flow_ext(w->flows, f);
	struct dp_flowlog_rec r;
	uint64_t end;

	if (x->logged & DP_FLOWLOG_ENDED)
		return;
	if (!(x->logged & DP_FLOWLOG_ADMITTED))
		admit(w, f, w->now, NULL, 0); /* nothing with a payload went through */
	if (why == DP_END_BY_STATE)
		why = f->state == FLOW_S_TIME_WAIT && f->key[FLOW_DIR_OUT].proto == IPPROTO_TCP ?
			      DP_END_FIN :
		      f->state == FLOW_S_CLOSED ? DP_END_RST :
						  DP_END_TIMEOUT;
	/* a connection that closed or went idle ended with its last packet
	 * (not when TIME_WAIT or the timeout let it go); one ended by us, now */
	end = why == DP_END_REVOKED || why == DP_END_EVICTED || why == DP_END_SHUTDOWN ?
		      w->now :
		      full_ms(w->now, f->last_seen);
	x->logged |= DP_FLOWLOG_ENDED;
	memset(&r, 0, sizeof(r));
	rec_flow(&r, w, f, DP_FL_END, w->now);
	r.u.end.duration_ms = (uint32_t)end - x->created_ms;
	r.time_ms = end;
	r.u.end.bytes[0] = x->bytes[0];
	r.u.end.bytes[1] = x->bytes[1];
	r.u.end.packets[0] = x->packets[0];
	r.u.end.packets[1] = x->packets[1];
	r.u.end.reason = (uint8_t)why;
	push(w, &r, 1);
}

void
dp_flowlog_restart(struct dp_worker *w, struct flow *f, uint64_t now)
{
	struct dp_flow_ext *x = dp_flow_ext(w->flows, f);

	if (w->flowlog == NULL)
		return; /* its extension is the TCP tracking alone */
	dp_flowlog_end(w, f, DP_END_BY_STATE);
	x->bytes[0] = x->bytes[1] = 0;
	x->packets[0] = x->packets[1] = 0;
	x->created_ms = (uint32_t)now;
	x->logged = 0;
}

/*
 * A denied new flow: at most conf->flowlog_deny_rate records per second
 * from this worker (a scan must not fill the log); the next one made says
 * how many were skipped. Its closest rule is the writer's to find.
 */
void
dp_flowlog_deny(struct dp_burst *b, unsigned int i, enum egress_drop why)
{
	struct dp_worker *w = b->w;
	const struct flow_key *k = &b->key[i];
	struct dp_flowlog_rec r;

	if (b->conf->flowlog_deny_rate == 0)
		return;
	if (!bucket_take(&w->fl_deny, b->now, b->conf->flowlog_deny_rate)) {
		w->fl_suppressed++;
		w->stats.flowlog_suppressed++;
		return;
	}
	memset(&r, 0, sizeof(r));
	r.time_ms = b->now;
	r.gen = b->pol->generation;
	r.src = k->src_ip;
	r.dst = k->dst_ip;
	r.sport = k->src_port;
	r.dport = k->dst_port;
	r.rule = POLICY_NO_RULE;
	r.event = DP_FL_DENY;
	r.proto = k->proto;
	r.u.deny.reason = (uint8_t)why;
	r.u.deny.suppressed = w->fl_suppressed;
	w->fl_suppressed = 0;
	push(w, &r, 1);
}

bool
dp_flowlog_close(struct dp_worker *w, uint64_t now_ms, uint32_t *cursor)
{
	/* the most one flow makes: an admit with its longest SNI, an end */
	const unsigned int room = 2 + dp_flowlog_sni_extra(DP_FLOWLOG_SNI_MAX);
	uint32_t cap = flow_table_capacity(w->flows);

	if (w->flowlog == NULL)
		return true;
	w->now = now_ms;
	for (; *cursor < cap; (*cursor)++) {
		struct flow *f = flow_table_at(w->flows, *cursor);

		/* a quarantined flow ended already (its record was made) */
		if (f == NULL || !f->in_use || f->quarantine)
			continue;
		if (rte_ring_free_count(w->flowlog) < room)
			return false;
		/* one that closed (FIN both ways, or RST) ended by its state */
		dp_flowlog_end(w, f,
			       f->state == FLOW_S_TIME_WAIT || f->state == FLOW_S_CLOSED ?
				       DP_END_BY_STATE :
				       DP_END_SHUTDOWN);
	}
	return true;
}
