/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * systemd's notifications (service.h). A worker makes progress when its
 * poll loop goes round: dp_stats.loops counts every iteration, idle polls
 * included, so a quiet gateway still pings and only a worker stuck inside
 * one iteration (a hung PMD, a livelock in the data path) stops the pings.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "service.h"

EGRESS_LOG_TYPE(service);

static uint64_t
worker_loops(const struct dp_worker *w)
{
	return __atomic_load_n(&dp_worker_stats(w)->loops, __ATOMIC_RELAXED);
}

void
service_init(struct service *s, struct dp_worker *const *workers, unsigned int n_workers,
	     uint64_t now_ms)
{
	uint64_t usec = 0;
	unsigned int i;

	memset(s, 0, sizeof(*s));
	s->workers = workers;
	s->n_workers = n_workers < DP_MAX_WORKERS ? n_workers : DP_MAX_WORKERS;
	/* > 0: WatchdogSec is set for this very process (WATCHDOG_PID) */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000) {
		/* twice per period, as sd_watchdog_enabled(3) advises */
		s->watchdog_ms = usec / 2000;
		EGRESS_LOG(INFO,
			   "systemd watchdog: %" PRIu64 " ms, pinged every %" PRIu64
			   " ms while every worker makes progress",
			   usec / 1000, s->watchdog_ms);
	}
	for (i = 0; i < s->n_workers; i++)
		s->loops[i] = worker_loops(workers[i]);
	s->next_ms = now_ms + s->watchdog_ms;
}

static void
notify(const char *state)
{
	int rc = sd_notify(0, state);

	if (rc < 0)
		EGRESS_LOG(WARNING, "sd_notify(%s): %s", state, strerror(-rc));
}

void
service_ready(const char *status)
{
	char msg[256];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	notify(msg);
}

void
service_stopping(void)
{
	notify("STOPPING=1");
}

void
service_reloading(void)
{
	struct timespec ts;
	char msg[96];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%" PRIu64,
		 (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000);
	notify(msg);
}

bool
service_watchdog(struct service *s, uint64_t now_ms)
{
	unsigned int i, stuck = s->n_workers;

	if (s->watchdog_ms == 0 || now_ms < s->next_ms)
		return false;
	s->next_ms = now_ms + s->watchdog_ms;
	for (i = 0; i < s->n_workers; i++) {
		uint64_t n = worker_loops(s->workers[i]);

		if (n == s->loops[i] && stuck == s->n_workers)
			stuck = i;
		s->loops[i] = n;
	}
	if (stuck < s->n_workers) {
		if (!s->stalled)
			EGRESS_LOG(ERR,
				   "worker %u (lcore %u) made no progress in %" PRIu64
				   " ms: WATCHDOG=1 withheld, systemd will restart egressd",
				   stuck, dp_worker_lcore(s->workers[stuck]), s->watchdog_ms);
		s->stalled = true;
		return false;
	}
	if (s->stalled)
		EGRESS_LOG(INFO, "every worker makes progress again: WATCHDOG=1 resumed");
	s->stalled = false;
	notify("WATCHDOG=1");
	return true;
}
