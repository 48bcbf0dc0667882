/* SPDX-License-Identifier: BSD-3-Clause */
#include "drop.h"

static const char *const drop_names[EGRESS_DROP_MAX] = {
#define EGRESS_DROP_NAME(sym, name) [EGRESS_DROP_##sym] = name,
	EGRESS_DROP_REASONS(EGRESS_DROP_NAME)
#undef EGRESS_DROP_NAME
};

const char *
egress_drop_name(enum egress_drop reason)
{
	if ((unsigned int)reason >= EGRESS_DROP_MAX)
		return "unknown";
	return drop_names[reason];
}
