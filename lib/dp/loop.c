/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's poll loop: RX on its queue of every port, dp_process(), TX,
 * the hand-off ring, the control thread's frames (worker 0), the aging
 * sweep, and one quiescent state per iteration; with poll.idle, a sleep or
 * a wait for an RX interrupt when there was nothing to do (dp_idle(), idle.c).
 */

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ring.h>

#include "dp_private.h"

/*
 * The bytes of a burst, summed here and added to the worker's counter once:
 * one store per burst, as the frame counts. Read before TX (the PMD owns
 * the mbufs after) or after RX.
 */
static uint64_t
burst_bytes(struct rte_mbuf *const *pkts, uint16_t n)
{
	uint64_t bytes = 0;
	uint16_t i;

	for (i = 0; i < n; i++)
		bytes += rte_pktmbuf_pkt_len(pkts[i]);
	return bytes;
}

static void
tx_out(struct dp_worker *w, struct dp_out *out)
{
	unsigned int p;

	for (p = 0; p < DP_NPORTS; p++) {
		uint16_t n = out->n[p], sent;
		uint64_t bytes;

		if (n == 0)
			continue;
		sent = dp_tx_prepare(&w->conf->port[p], out->pkts[p], n);
		if (unlikely(sent < n)) {
			w->stats.drops[EGRESS_DROP_VLAN_INSERT] += n - sent;
			w->stats.port[p].dropped += n - sent;
			n = sent;
		}
		bytes = burst_bytes(out->pkts[p], n);
		sent = rte_eth_tx_burst(w->conf->port[p].port_id, (uint16_t)w->id, out->pkts[p], n);
		/* what was not sent is still ours: its bytes come off */
		if (unlikely(sent < n))
			bytes -= burst_bytes(&out->pkts[p][sent], n - sent);
		w->stats.port[p].tx += sent;
		w->stats.port[p].tx_bytes += bytes;
		if (unlikely(sent < n)) {
			w->stats.drops[EGRESS_DROP_TX_FULL] += n - sent;
			w->stats.port[p].dropped += n - sent;
			rte_pktmbuf_free_bulk(&out->pkts[p][sent], n - sent);
		}
		out->n[p] = 0;
	}
}

/* Frames the control thread built (ARP requests), sent by worker 0.
 * @return how many. */
static unsigned int
tx_control(struct dp_worker *w, struct dp_out *out)
{
	unsigned int p, n, sum = 0;

	for (p = 0; p < DP_NPORTS; p++) {
		if (w->conf->tx[p] == NULL)
			continue;
		n = rte_ring_sc_dequeue_burst(w->conf->tx[p], (void **)out->pkts[p], DP_BURST_MAX,
					      NULL);
		out->n[p] = (uint16_t)n;
		sum += n;
	}
	tx_out(w, out);
	return sum;
}

int
dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	const struct dp_conf *conf = w->conf;
	uint64_t tsc_per_ms = rte_get_tsc_hz() / 1000;
	uint64_t tsc_per_us = RTE_MAX(rte_get_tsc_hz() / 1000000, (uint64_t)1);
	struct rte_mbuf *pkts[DP_BURST_MAX];
	struct dp_out out;
	uint64_t loop_tsc;
	unsigned int p;

	dp_worker_online(w);
	memset(&out, 0, sizeof(out));
	loop_tsc = rte_rdtsc();
	w->last_rx_ms = loop_tsc / tsc_per_ms;
	w->idle_tsc = loop_tsc;

	while (!__atomic_load_n(&w->quit, __ATOMIC_RELAXED)) {
		uint64_t tsc = rte_rdtsc(), now = tsc / tsc_per_ms;
		unsigned int frames = 0;

		w->stats.loop_cycles += tsc - loop_tsc;
		loop_tsc = tsc;

		/* nothing of the previous iteration is held past this point */
		dp_worker_quiesce(w);
		for (p = 0; p < DP_NPORTS; p++) {
			uint16_t n = rte_eth_rx_burst(conf->port[p].port_id, (uint16_t)w->id, pkts,
						      DP_BURST_MAX);
			uint64_t t0;

			if (n == 0)
				continue;
			frames += n;
			w->last_rx_ms = now;
			/* as the NIC received them, before any trim; a frame a
			 * worker hands off is counted here, by the receiver */
			w->stats.port[p].rx_bytes += burst_bytes(pkts, n);
			t0 = rte_rdtsc();
			dp_process(w, (enum dp_port)p, pkts, n, now, &out);
			w->stats.busy_cycles += rte_rdtsc() - t0;
			w->stats.busy_pkts += n;
			tx_out(w, &out);
		}
		/* outside frames of our flows that another worker received */
		if (conf->handoff[w->id] != NULL) {
			uint16_t n = (uint16_t)rte_ring_sc_dequeue_burst(
				conf->handoff[w->id], (void **)pkts, DP_BURST_MAX, NULL);

			if (n > 0) {
				uint64_t t0 = rte_rdtsc();

				frames += n;
				dp_process(w, DP_OUTSIDE, pkts, n, now, &out);
				w->stats.busy_cycles += rte_rdtsc() - t0;
				w->stats.busy_pkts += n;
				tx_out(w, &out);
			}
		}
		if (w->id == 0)
			frames += tx_control(w, &out);
		/* the peer's flows, queued at a takeover (session sync) */
		if (unlikely(w->sync != NULL))
			frames += dp_sync_apply(w, now);
		dp_sweep(w, now, &out);
		tx_out(w, &out);
		w->stats.loops++;
		if (conf->idle_sleep_max_us != 0)
			dp_idle(w, frames != 0, tsc, tsc_per_us);
	}
	dp_worker_irq_teardown(w);
	dp_worker_offline(w);
	return 0;
}
