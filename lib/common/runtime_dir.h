/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK 22.11 creates its runtime folder (/var/run/dpdk/<file-prefix>) even
 * with --no-shconf and never removes it: every --check and every test
 * process left an empty folder behind. Called right after rte_eal_init(),
 * this removes the folder at exit if it is empty by then (a running
 * daemon's telemetry socket keeps it, as DPDK intends).
 */
#ifndef EGRESS_RUNTIME_DIR_H
#define EGRESS_RUNTIME_DIR_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_eal.h>

static char egress_runtime_dir_path[PATH_MAX];

static void
egress_runtime_dir_rm(void)
{
	if (egress_runtime_dir_path[0] != '\0')
		(void)rmdir(egress_runtime_dir_path);
}

static inline void
egress_runtime_dir_rm_at_exit(void)
{
	if (egress_runtime_dir_path[0] != '\0')
		return;
	snprintf(egress_runtime_dir_path, sizeof(egress_runtime_dir_path), "%s",
		 rte_eal_get_runtime_dir());
	atexit(egress_runtime_dir_rm);
}

#endif
