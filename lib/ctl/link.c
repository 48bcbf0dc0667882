/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ports' link state: LSC events recorded by the ethdev callback, read
 * and logged by the control thread, shown in /egress/stats and /metrics. A
 * cable pull changes nothing else: the workers keep polling, flows and
 * counters stay, and traffic resumes when the link comes back.
 */
#include <rte_ethdev.h>

#include "ctl.h"
#include "ctl_private.h"
#include "log.h"

EGRESS_LOG_TYPE(ctl);

void
ctl_link_event(struct ctl *c, enum dp_port port)
{
	__atomic_store_n(&c->link[port].event, 1, __ATOMIC_RELEASE);
}

static void
link_read(struct ctl *c, unsigned int p)
{
	struct ctl_link *l = &c->link[p];
	struct rte_eth_link link;
	uint32_t up, speed;

	if (!rte_eth_dev_is_valid_port(c->conf->port[p].port_id) ||
	    rte_eth_link_get_nowait(c->conf->port[p].port_id, &link) != 0)
		return;
	up = link.link_status == RTE_ETH_LINK_UP;
	speed = up && link.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN ? link.link_speed : 0;
	if (l->known && up == l->up && speed == l->speed_mbps)
		return;
	if (up)
		EGRESS_LOG(INFO, "%s link up, %u Mbps %s", ctl_port_names[p], speed,
			   link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full-duplex" :
									  "half-duplex");
	else
		EGRESS_LOG(WARNING, "%s link down", ctl_port_names[p]);
	__atomic_store_n(&l->up, up, __ATOMIC_RELAXED);
	__atomic_store_n(&l->speed_mbps, speed, __ATOMIC_RELAXED);
	l->known = true;
}

void
ctl_link_poll(struct ctl *c, uint64_t now_ms)
{
	unsigned int p;

	for (p = 0; p < DP_NPORTS; p++) {
		struct ctl_link *l = &c->link[p];
		bool event = __atomic_exchange_n(&l->event, 0, __ATOMIC_ACQUIRE) != 0;

		/* read every CTL_LINK_POLL_MS even with LSC interrupts: some PMDs
		 * update the link without raising the event (net_tap in DPDK
		 * 22.11), and reading a link with LSC on costs nothing */
		if (!event && l->known && now_ms < l->next_ms)
			continue;
		l->next_ms = now_ms + CTL_LINK_POLL_MS;
		link_read(c, p);
	}
}
