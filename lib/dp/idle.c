/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What an idle worker does (poll.idle, doc/operations.md "Idle workers"):
 * backoff, a sleep that doubles up to poll.max_sleep_us; interrupt, a wait
 * in epoll for an RX interrupt of one of its queues, at most
 * dp_idle_wait_ms(). Either only after DP_IDLE_SPIN_US without a frame, and
 * off line for the QSBR while it lasts.
 */
#include <errno.h>

#include <rte_cycles.h>
#include <rte_epoll.h>
#include <rte_ethdev.h>

#include "dp_private.h"

uint32_t
dp_idle_sleep_us(uint64_t idle_us, uint32_t sleeps, uint32_t max_us)
{
	if (idle_us < DP_IDLE_SPIN_US || max_us == 0)
		return 0;
	/* DP_IDLE_SLEEP_MIN_US << sleeps, without shifting past 32 bits */
	if (sleeps >= 31 || (uint64_t)DP_IDLE_SLEEP_MIN_US << sleeps >= max_us)
		return max_us;
	return DP_IDLE_SLEEP_MIN_US << sleeps;
}

uint32_t
dp_idle_wait_ms(uint32_t max_us)
{
	uint32_t ms = (uint32_t)(((uint64_t)max_us + 999) / 1000);

	return ms != 0 ? ms : 1;
}

int
dp_worker_irq_setup(struct dp_worker *w, enum dp_port *bad)
{
	unsigned int p, q;
	int rc;

	w->idle_irq = false;
	for (p = 0; p < DP_NPORTS; p++) {
		rc = rte_eth_dev_rx_intr_ctl_q(w->conf->port[p].port_id, (uint16_t)w->id,
					       RTE_EPOLL_PER_THREAD, RTE_INTR_EVENT_ADD,
					       (void *)(uintptr_t)p);
		if (rc == 0)
			continue;
		for (q = 0; q < p; q++)
			rte_eth_dev_rx_intr_ctl_q(w->conf->port[q].port_id, (uint16_t)w->id,
						  RTE_EPOLL_PER_THREAD, RTE_INTR_EVENT_DEL, NULL);
		*bad = (enum dp_port)p;
		return rc < 0 ? rc : -EINVAL;
	}
	w->idle_irq = true;
	return 0;
}

bool
dp_worker_irq(const struct dp_worker *w)
{
	return w->idle_irq;
}

/*
 * RX interrupts of the worker's queues on or off. A device whose queue's
 * event is its file descriptor (net_tap) has no switch: -ENOTSUP, and the
 * descriptor signals every frame anyway.
 */
static void
irq_arm(struct dp_worker *w, bool on)
{
	unsigned int p;

	for (p = 0; p < DP_NPORTS; p++) {
		uint16_t port = w->conf->port[p].port_id, q = (uint16_t)w->id;

		if (on)
			rte_eth_dev_rx_intr_enable(port, q);
		else
			rte_eth_dev_rx_intr_disable(port, q);
	}
	w->irq_armed = on;
}

void
dp_worker_irq_teardown(struct dp_worker *w)
{
	unsigned int p;

	if (!w->idle_irq)
		return;
	if (w->irq_armed)
		irq_arm(w, false);
	for (p = 0; p < DP_NPORTS; p++)
		rte_eth_dev_rx_intr_ctl_q(w->conf->port[p].port_id, (uint16_t)w->id,
					  RTE_EPOLL_PER_THREAD, RTE_INTR_EVENT_DEL, NULL);
	w->idle_irq = false;
}

/*
 * poll.idle: interrupt, the worker idle long enough. Arming first and
 * waiting only at the next idle end of an iteration, one poll of every
 * queue later: a frame that came before the arming raised no interrupt
 * (a NIC or virtio signals only frames that come while armed), and that
 * poll finds it. Then the wait, off line for the QSBR; it stays armed
 * until a frame comes (dp_idle()), so a wait that timed out is followed
 * by a poll and another wait, without disarming in between. An interrupt
 * restarts the idle time as a frame does (w->irq_woke): the frame may not
 * be readable yet when the wait ends (net_tap reads a queue only after
 * its SIGIO handler ran, maybe on another thread, and its event is
 * edge-triggered: waiting again at once would sleep the timeout away
 * with the frame in the queue), so the worker polls DP_IDLE_SPIN_US first.
 * rte_epoll_wait() reads the event's counter where the device has one (an
 * eventfd) and retries on EINTR; its timeout bounds what raises no
 * interrupt (hand-off ring, control frames, sweep, watchdog).
 */
static void
idle_wait(struct dp_worker *w)
{
	struct rte_epoll_event ev[DP_NPORTS];
	int n;

	if (!w->irq_armed) {
		irq_arm(w, true);
		return;
	}
	w->stats.idle_sleeps++;
	dp_worker_offline(w);
	n = rte_epoll_wait(RTE_EPOLL_PER_THREAD, ev, DP_NPORTS,
			   (int)dp_idle_wait_ms(w->conf->idle_sleep_max_us));
	dp_worker_online(w);
	if (n > 0) {
		w->stats.idle_wakeups_interrupt++;
		w->irq_woke = true;
		return;
	}
	w->stats.idle_wakeups_timeout++;
	/* an epoll that fails returns at once: sleep as the backoff would,
	 * rather than spin */
	if (n < 0)
		rte_delay_us_sleep(w->conf->idle_sleep_max_us);
}

/*
 * Frames (any queue, the hand-off ring, the control thread's) restart the
 * idle time and disarm the interrupts, an interrupt restarts it
 * (idle_wait()); sweep work still banked (a big table: sweep_budget())
 * only puts the sleep off, so that the sweep keeps its period.
 *
 * A sleeping worker goes off line for the QSBR (rte_rcu_qsbr_thread_offline)
 * rather than sleep on line: a grace period (a reload's publish, the
 * telemetry's flow reads) then never waits for a sleep, whatever
 * max_sleep_us. It holds nothing of this iteration (the next one starts with
 * dp_worker_quiesce()), and the round trip (a store, then a store and a
 * full fence) is paid only when it sleeps, never under traffic.
 * rte_delay_us_sleep() is nanosleep(): a syscall, made only here, when there
 * is no frame to process (the kernel adds its timer slack, 50 us by default).
 */
void
dp_idle(struct dp_worker *w, bool frames, uint64_t tsc, uint64_t tsc_per_us)
{
	uint32_t us;

	if (frames || w->irq_woke) {
		w->idle_tsc = tsc;
		w->idle_slept = 0;
		w->irq_woke = false;
		if (frames && w->irq_armed)
			irq_arm(w, false);
		return;
	}
	if (w->sweep_credit != 0)
		return;
	us = dp_idle_sleep_us((tsc - w->idle_tsc) / tsc_per_us, w->idle_slept,
			      w->conf->idle_sleep_max_us);
	if (us == 0)
		return;
	if (w->idle_slept != UINT32_MAX)
		w->idle_slept++;
	if (w->idle_irq) {
		idle_wait(w);
		return;
	}
	w->stats.idle_sleeps++;
	dp_worker_offline(w);
	rte_delay_us_sleep(us);
	dp_worker_online(w);
}
