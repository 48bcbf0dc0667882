/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * egressctl drain (doc/scale-out.md): stop taking new flows, keep the
 * existing ones, take the router's BGP and BFD session on the inside
 * exception path down (the router withdraws this appliance), and exit
 * cleanly, as on SIGTERM, once no flow is left or at the deadline. The
 * workers' side is one flag, dp_conf.draining (lib/dp/dp.c admit() and
 * the exception match); this file is the control thread's.
 */
#include <inttypes.h>
#include <time.h>

#include "ctl.h"
#include "log.h"

EGRESS_LOG_TYPE(ctl);

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

void
ctl_drain_request(struct ctl *c, uint32_t deadline_s)
{
	/* + 1: 0 is "no request"; a later request moves the deadline */
	__atomic_store_n(&c->drain_req, (uint64_t)deadline_s + 1, __ATOMIC_RELEASE);
}

void
ctl_drain_poll(struct ctl *c, uint64_t now_ms)
{
	uint64_t req = __atomic_exchange_n(&c->drain_req, 0, __ATOMIC_ACQUIRE);
	uint64_t flows;

	if (req != 0) {
		__atomic_store_n(&c->drain_deadline_ms, now_ms + (req - 1) * 1000,
				 __ATOMIC_RELAXED);
		if (__atomic_exchange_n(&c->conf->draining, 1, __ATOMIC_RELEASE) == 0)
			EGRESS_LOG(INFO,
				   "draining: new flows refused, the inside exception path "
				   "withheld; %" PRIu64 " flows active, exiting when none is "
				   "left or in %" PRIu64 " s",
				   ctl_flows_active(c), req - 1);
		else
			EGRESS_LOG(INFO, "draining: deadline now in %" PRIu64 " s", req - 1);
	}
	if (LOAD(c->conf->draining) == 0 || c->drain_done)
		return;
	flows = ctl_flows_active(c);
	if (flows == 0) {
		EGRESS_LOG(INFO, "drained: no flow left, exiting");
		c->drain_done = true;
	} else if (now_ms >= LOAD(c->drain_deadline_ms)) {
		EGRESS_LOG(INFO, "drain deadline reached with %" PRIu64 " flows: exiting", flows);
		c->drain_done = true;
	}
}

bool
ctl_drained(const struct ctl *c)
{
	return c->drain_done;
}

uint64_t
ctl_drain_left_ms(const struct ctl *c)
{
	struct timespec ts;
	uint64_t now, deadline = LOAD(c->drain_deadline_ms);

	if (LOAD(c->conf->draining) == 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* the clock of ctl_poll()'s now_ms */
	now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	return deadline > now ? deadline - now : 0;
}
