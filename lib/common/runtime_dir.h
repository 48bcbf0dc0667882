/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK 22.11 creates its runtime folder (/var/run/dpdk/<file-prefix>) even
 * with --no-shconf and never removes it: every --check and every test
 * process left an empty folder behind. Called right after rte_eal_init(),
 * egress_runtime_dir_rm_at_exit() removes the folder at exit if it is empty
 * by then (a running daemon's telemetry socket keeps it, as DPDK intends).
 */
#ifndef EGRESS_RUNTIME_DIR_H
#define EGRESS_RUNTIME_DIR_H

/** Remove EAL's runtime folder at exit when empty. Once per process; main thread. */
void egress_runtime_dir_rm_at_exit(void);

#endif
