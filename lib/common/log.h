/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Logging of the control side (lib/ctl, app/egressd, and any library file
 * that logs; never the data path: lib/dp, lib/pkt, lib/flow, lib/nat). One
 * DPDK log type per module, named "egressd.<module>", at INFO unless the EAL
 * option --log-level says otherwise: --log-level='egressd.*:warning' quiets
 * every module, --log-level=egressd.ctl:debug raises one. Every line starts
 * "egressd: " (tests and operators grep for it).
 *
 * Each file that logs says once, at file scope, which module it belongs to:
 *
 *     EGRESS_LOG_TYPE(ctl);
 *     ...
 *     EGRESS_LOG(WARNING, "cannot watch %s: %s", path, strerror(-rc));
 *
 * The type is registered by a constructor, before the EAL parses
 * --log-level (which then applies to it), into a static of the file: files
 * of one module share the type (registering a name twice returns its id).
 */
#ifndef EGRESS_LOG_H
#define EGRESS_LOG_H

#include <rte_common.h>
#include <rte_log.h>

/* (The last line re-declares the static, so that the use ends with ';'.) */
#define EGRESS_LOG_TYPE(module)                                                                    \
	static int egress_logtype = RTE_LOGTYPE_USER1;                                             \
	RTE_INIT(egress_logtype_register)                                                          \
	{                                                                                          \
		int t = rte_log_register_type_and_pick_level("egressd." #module, RTE_LOG_INFO);    \
		if (t >= 0)                                                                        \
			egress_logtype = t;                                                        \
	}                                                                                          \
	static int egress_logtype

/** Log one line at level (ERR, WARNING, INFO, DEBUG) of the file's module. */
#define EGRESS_LOG(level, fmt, ...)                                                                \
	rte_log(RTE_LOG_##level, egress_logtype, "egressd: " fmt "\n", ##__VA_ARGS__)

#endif
