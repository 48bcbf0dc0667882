/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared set-up for the cmocka unit tests. */
#ifndef EGRESS_TEST_COMMON_H
#define EGRESS_TEST_COMMON_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "runtime_dir.h"

/*
 * Start the EAL the way every unit test needs it: no hugepages, no PCI, no
 * files left behind, a unique prefix so that tests run in parallel.
 */
static inline int
test_eal_init(const char *name)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "--file-prefix=egt-%s-%d", name, (int)getpid());
	char *argv[] = {
		(char *)name,
		"--no-huge",
		"--no-pci",
		"--no-shconf",
		"--no-telemetry",
		"--log-level=lib.eal:error",
		"-m",
		"256",
		"-l",
		"0",
		prefix,
		NULL,
	};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "rte_eal_init: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	egress_runtime_dir_rm_at_exit();
	return 0;
}

/*
 * A QSBR variable for threads readers (rte_free() it), for the tests of
 * modules below lib/dp (whose dp_qsbr_create() the daemon uses).
 */
static inline struct rte_rcu_qsbr *
test_qsbr(uint32_t threads)
{
	size_t sz = rte_rcu_qsbr_get_memsize(threads);
	struct rte_rcu_qsbr *v = rte_zmalloc("test_qsbr", sz, RTE_CACHE_LINE_SIZE);

	assert_non_null(v);
	assert_int_equal(rte_rcu_qsbr_init(v, threads), 0);
	return v;
}

#endif
