/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The exception TAPs of the ports (ports.X.exception): created, addressed
 * and started at start-up, closed at teardown. Main thread.
 */
#ifndef EGRESS_EXCEPTION_H
#define EGRESS_EXCEPTION_H

#include "config.h"
#include "ctl.h"
#include "dp.h"

struct rte_mempool;

#define EXC_RING_SIZE 1024 /* frames the workers may queue for one TAP */
#define EXC_DESC      256  /* the TAP's RX and TX descriptors */

/**
 * The TAP of port p: a net_tap device whose kernel interface is named
 * pc->exception.tap, given the port's address, prefix and MTU, IPv6 off
 * (the path carries IPv4), started with one RX and one TX queue for the
 * control thread; and the workers' ring to it (dx->ring). Fills x.
 * Logs what failed and what to do. @return 0 or -errno.
 */
int exception_setup(const struct egress_port_cfg *pc, enum dp_port p, struct rte_mempool *pool,
		    int socket, struct dp_exception *dx, struct ctl_exception *x);

/** Stop and close the TAP (its kernel interface goes), free the ring and what it holds. */
void exception_teardown(struct dp_exception *dx, struct ctl_exception *x);

#endif
