/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * egressd's ports: the devices of the config's `ports`, found (or probed)
 * and started with the offloads they offer. Main thread, at start-up.
 */
#ifndef EGRESS_PORT_H
#define EGRESS_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "ctl.h"
#include "dp.h"

struct rte_mempool;

#define PORT_RX_DESC     1024
#define PORT_TX_DESC     1024
#define PORT_RSS_KEY_MAX 64 /* bytes: 40 (ixgbe, i40e VF), 52 (i40e, ice), 40 (mlx5) */

/** The port of a configured device: created by --vdev already, or probed now. */
int port_find(const char *device, uint16_t *port_id);

/**
 * Log what to do about a configured device port_find() did not find: a vdev
 * DPDK refused, a PCI address not on this machine, not bound to a DPDK
 * driver (scripts/bind-nic.sh), in no IOMMU group or one that cannot be
 * opened, or left out by EAL's options (--no-pci, -a). Reads sysfs only.
 */
void port_explain_missing(const char *device);

/** RX / TX descriptors per queue: the config's, or PORT_RX_DESC / PORT_TX_DESC. */
uint16_t port_rx_desc(const struct egress_port_cfg *pc);
uint16_t port_tx_desc(const struct egress_port_cfg *pc);

/**
 * Configure and start a port: n_queues RX/TX queue pairs, the MTU, the
 * offloads the device offers (dpc->offloads), RSS with the symmetric key,
 * promiscuous mode off, LSC interrupts where the device has them (*lsc),
 * RX interrupts when rx_intr (poll.idle: interrupt) and the device has
 * them (dpc->rx_intr; without, one WARNING and the port starts anyway).
 * Fills dpc's port_id, mac, parse_flags, offloads and rx_intr.
 * Logs what it chose and, on failure, what to change.
 */
int port_setup(uint16_t port_id, const struct egress_port_cfg *pc, unsigned int n_queues,
	       struct rte_mempool *pool, bool rx_intr, struct dp_port_conf *dpc, bool *lsc);

/**
 * Link state changes of the ports whose lsc[] port_setup() set: an LSC
 * callback that tells c (ctl_link_event()); the others are read by the
 * control thread every CTL_LINK_POLL_MS. Sets c->link[].lsc.
 */
void port_watch_links(struct ctl *c, const bool *lsc);

/** Unregister what port_watch_links() registered: before the ports close. */
void port_unwatch_links(struct ctl *c);

#endif
