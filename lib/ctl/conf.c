/* SPDX-License-Identifier: BSD-3-Clause */
/* The data path's settings from the appliance config (ctl.h). Control thread. */
#include <string.h>

#include <rte_byteorder.h>

#include "ctl.h"

static bool
is_nat_addr(const struct egress_config *cfg, uint32_t a)
{
	unsigned int i;

	for (i = 0; i < cfg->n_nat_addrs; i++)
		if (cfg->nat_addrs[i] == a)
			return true;
	return false;
}

void
ctl_dp_conf(struct dp_conf *conf, const struct egress_config *cfg)
{
	unsigned int i, k;

	conf->n_nat_addrs = cfg->n_nat_addrs;
	for (i = 0; i < cfg->n_nat_addrs; i++)
		conf->nat_addrs[i] = cfg->nat_addrs[i];
	conf->nat_port_lo = cfg->nat_port_lo;
	conf->nat_port_hi = cfg->nat_port_hi;
	conf->nat_preserve = cfg->port_alloc == EGRESS_PORT_ALLOC_PRESERVE;
	conf->n_nat_holes = 0;
	for (i = 0; i < FLOW_S_MAX; i++)
		conf->timeout_ms[i] = cfg->timeout_transitory_ms;
	conf->timeout_ms[FLOW_S_ESTABLISHED] = cfg->timeout_established_ms;
	conf->timeout_ms[FLOW_S_TIME_WAIT] = cfg->timeout_time_wait_ms;
	conf->udp_timeout_ms = cfg->timeout_transitory_ms;
	conf->sweep_period_ms = DP_SWEEP_PERIOD_MS;
	conf->deny = cfg->deny;
	conf->on_revoke = cfg->on_revoke;
	conf->mss_clamp = cfg->mss_clamp;
	conf->tcp_liberal = cfg->tcp_liberal;
	conf->no_flow = cfg->no_flow;
	conf->n_workers = cfg->workers;
	conf->idle_sleep_max_us = cfg->poll_idle != EGRESS_POLL_BUSY ? cfg->poll_max_sleep_us : 0;
	conf->idle_interrupt = cfg->poll_idle == EGRESS_POLL_INTERRUPT;
	/* per worker: RSS spreads a client's flows over the workers */
	conf->source_max =
		cfg->per_source_max ? (cfg->per_source_max + cfg->workers - 1) / cfg->workers : 0;
	conf->source_rate =
		cfg->per_source_new_per_second ?
			(cfg->per_source_new_per_second + cfg->workers - 1) / cfg->workers :
			0;
	/* flowlog.denied_per_second is the appliance's: split, rounded up */
	conf->flowlog_ring_size = cfg->flowlog_path != NULL ? cfg->flowlog_ring : 0;
	conf->flowlog_deny_rate =
		(cfg->flowlog_denied_per_second + cfg->workers - 1) / cfg->workers;
	/* session sync: records to the peer, its NAT addresses to take over */
	conf->sync_ring_size = cfg->sync.on ? cfg->sync.ring : 0;
	conf->n_sync_peer_addrs = cfg->sync.on ? cfg->sync.n_peer_nat_addrs : 0;
	memcpy(conf->sync_peer_addrs, cfg->sync.peer_nat_addrs, sizeof(conf->sync_peer_addrs));
	conf->embryonic_max = cfg->embryonic_max / cfg->workers;
	if (conf->embryonic_max == 0)
		conf->embryonic_max = 1;
	for (i = 0; i < DP_NPORTS; i++) {
		const struct egress_port_cfg *pc = &cfg->port[i];
		uint32_t mask = pc->prefix_len ? ~0u << (32 - pc->prefix_len) : 0;

		conf->port[i].addr = pc->addr;
		conf->port[i].mask = rte_cpu_to_be_32(mask);
		conf->port[i].net = pc->addr & conf->port[i].mask;
		conf->port[i].gateway = pc->gateway;
		conf->port[i].mtu = pc->mtu;
		conf->port[i].vlan = pc->vlan;
		/* the exception path's ring is the caller's to create */
		conf->exc[i].n = (uint16_t)pc->exception.n_protos;
		for (k = 0; k < pc->exception.n_protos; k++) {
			const struct egress_exception_proto *x = &pc->exception.proto[k];

			conf->exc[i].proto[k] = x->proto;
			conf->exc[i].port[k] = rte_cpu_to_be_16(x->port);
			/* the NAT leaves it alone: its replies would be the host's */
			if (is_nat_addr(cfg, pc->addr) && x->port >= cfg->nat_port_lo &&
			    x->port <= cfg->nat_port_hi && conf->n_nat_holes < NAT_MAX_HOLES)
				conf->nat_holes[conf->n_nat_holes++] = (struct nat_hole){
					.addr = pc->addr, .port = x->port, .proto = x->proto
				};
		}
	}
}
