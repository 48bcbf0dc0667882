/* SPDX-License-Identifier: BSD-3-Clause */
/* EAL's runtime folder removed at exit when empty (runtime_dir.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_eal.h>

#include "runtime_dir.h"

static char runtime_dir_path[PATH_MAX];

static void
runtime_dir_rm(void)
{
	if (runtime_dir_path[0] != '\0')
		(void)rmdir(runtime_dir_path);
}

void
egress_runtime_dir_rm_at_exit(void)
{
	if (runtime_dir_path[0] != '\0')
		return;
	snprintf(runtime_dir_path, sizeof(runtime_dir_path), "%s", rte_eal_get_runtime_dir());
	atexit(runtime_dir_rm);
}
