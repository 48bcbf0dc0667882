/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * egressd as a systemd service (Type=notify, dist/systemd/egressd.service):
 * READY=1 once it forwards, RELOADING=1 ... READY=1 around a reload asked by
 * SIGHUP (ExecReload), STOPPING=1, and the watchdog: WATCHDOG=1 only while
 * every worker's poll loop goes round. All through libsystemd's sd_notify();
 * without NOTIFY_SOCKET (not under systemd) every call does nothing.
 * Main thread only.
 */
#ifndef EGRESS_SERVICE_H
#define EGRESS_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "dp.h"

struct service {
	uint64_t watchdog_ms; /**< ping period (half WatchdogSec); 0: no watchdog */
	uint64_t next_ms;     /**< when the workers are looked at next */
	unsigned int n_workers;
	struct dp_worker *const *workers;
	uint64_t loops[DP_MAX_WORKERS]; /**< each worker's loop count when last looked at */
	bool stalled;                   /**< a worker was stalled at the last look (logged once) */
};

/** Read the watchdog's period from the environment (sd_watchdog_enabled()). */
void service_init(struct service *s, struct dp_worker *const *workers, unsigned int n_workers,
		  uint64_t now_ms);

void service_ready(const char *status);
void service_stopping(void);

/** A reload begins (RELOADING=1 with MONOTONIC_USEC, as systemd 253 wants it). */
void service_reloading(void);

/**
 * Ping the watchdog when its period is due and every worker's loop count
 * moved since the last look; a worker that did not is named in the log
 * (once per stall) and the ping withheld, so that systemd restarts a
 * gateway whose data path hangs. @return true when a ping was sent.
 */
bool service_watchdog(struct service *s, uint64_t now_ms);

#endif
