/* SPDX-License-Identifier: BSD-3-Clause */
/* Placeholder: replaced by the real tests of this module. */
#include "test_common.h"

static void
test_placeholder(void **state)
{
	(void)state;
	skip();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_placeholder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
