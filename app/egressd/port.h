/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * egressd's ports: the devices of the config's `ports`, found (or probed)
 * and started with the offloads they offer. Main thread, at start-up.
 */
#ifndef EGRESS_PORT_H
#define EGRESS_PORT_H

#include <stdint.h>

#include "config.h"
#include "dp.h"

struct rte_mempool;

#define PORT_RX_DESC 1024
#define PORT_TX_DESC 1024

/** The port of a configured device: created by --vdev already, or probed now. */
int port_find(const char *device, uint16_t *port_id);

/** Configure and start a port: n_queues RX/TX queue pairs; fills dpc's port_id and mac. */
int port_setup(uint16_t port_id, const struct egress_port_cfg *pc, unsigned int n_queues,
	       struct rte_mempool *pool, struct dp_port_conf *dpc);

#endif
