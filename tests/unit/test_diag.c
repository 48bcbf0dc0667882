/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests of lib/common/diag: recording, the cap, formatting, moving. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "test_common.h"

#include "diag.h"

/* Everything diag_print() writes, as one malloc'd string. */
static char *
print_to_string(const struct diag_list *dl)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	diag_print(dl, f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void
test_add_and_format(void **state)
{
	struct diag_list dl = { 0 };
	char buf[256];

	(void)state;
	diag_add(&dl, DIAG_ERROR, "a.yaml", 3, 7, "bad %s %d", "value", 42);
	diag_add(&dl, DIAG_WARNING, "a.yaml", 10, 1, "unknown key \"%s\"", "x");
	diag_add(&dl, DIAG_ERROR, "b.yaml", 0, 0, "cannot open: %s", "No such file");
	diag_add(&dl, DIAG_WARNING, NULL, 0, 0, "no file");
	diag_add(&dl, DIAG_ERROR, "c.yaml", 4, 0, "no column");

	assert_int_equal(dl.n, 5);
	assert_int_equal(diag_errors(&dl), 3);
	assert_string_equal(dl.v[0].file, "a.yaml");
	assert_int_equal(dl.v[0].line, 3);
	assert_int_equal(dl.v[0].col, 7);
	assert_int_equal(dl.v[0].sev, DIAG_ERROR);
	assert_string_equal(dl.v[0].msg, "bad value 42");
	assert_null(dl.v[3].file);

	assert_int_equal(diag_format(&dl.v[0], buf, sizeof(buf)),
			 (int)strlen("a.yaml:3:7: error: bad value 42"));
	assert_string_equal(buf, "a.yaml:3:7: error: bad value 42");
	diag_format(&dl.v[1], buf, sizeof(buf));
	assert_string_equal(buf, "a.yaml:10:1: warning: unknown key \"x\"");
	diag_format(&dl.v[2], buf, sizeof(buf));
	assert_string_equal(buf, "b.yaml: error: cannot open: No such file");
	diag_format(&dl.v[3], buf, sizeof(buf));
	assert_string_equal(buf, "warning: no file");
	diag_format(&dl.v[4], buf, sizeof(buf));
	assert_string_equal(buf, "c.yaml:4: error: no column");
	diag_list_clear(&dl);
}

static void
test_format_truncates_like_snprintf(void **state)
{
	struct diag d = {
		.file = "f.yaml",
		.line = 12,
		.col = 34,
		.sev = DIAG_ERROR,
		.msg = "message",
	};
	const char *full = "f.yaml:12:34: error: message";
	char small[10];

	(void)state;
	assert_int_equal(diag_format(&d, small, sizeof(small)), (int)strlen(full));
	assert_string_equal(small, "f.yaml:12");
	assert_int_equal(diag_format(&d, NULL, 0), (int)strlen(full));
	assert_int_equal(diag_format(NULL, small, sizeof(small)), -EINVAL);
	assert_int_equal(diag_format(&d, NULL, 5), -EINVAL);
}

static void
test_print(void **state)
{
	struct diag_list dl = { 0 };
	char *long_msg = malloc(2001);
	char *out, *expect;

	(void)state;
	assert_non_null(long_msg);
	memset(long_msg, 'x', 2000);
	long_msg[2000] = '\0';
	diag_add(&dl, DIAG_ERROR, "a.yaml", 1, 2, "first");
	diag_add(&dl, DIAG_WARNING, "a.yaml", 0, 0, "second");
	diag_add(&dl, DIAG_ERROR, "a.yaml", 5, 6, "%s", long_msg);
	out = print_to_string(&dl);
	assert_true(asprintf(&expect,
			     "a.yaml:1:2: error: first\n"
			     "a.yaml: warning: second\n"
			     "a.yaml:5:6: error: %s\n",
			     long_msg) > 0);
	assert_string_equal(out, expect);
	free(out);
	free(expect);
	free(long_msg);
	diag_list_clear(&dl);
}

static void
test_cap_keeps_counting(void **state)
{
	struct diag_list dl = { .max = 3 };
	char *out;
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		diag_add(&dl, DIAG_ERROR, "a.yaml", (unsigned int)i + 1, 1, "e%d", i);
	diag_add(&dl, DIAG_WARNING, "a.yaml", 9, 1, "dropped warning");
	assert_int_equal(dl.n, 3);
	assert_int_equal(diag_errors(&dl), 5);
	assert_string_equal(dl.v[2].msg, "e2");
	out = print_to_string(&dl);
	assert_string_equal(out, "a.yaml:1:1: error: e0\n"
				 "a.yaml:2:1: error: e1\n"
				 "a.yaml:3:1: error: e2\n"
				 "... and 2 more errors not shown\n");
	free(out);
	diag_list_clear(&dl);
	assert_int_equal(dl.max, 3);
}

static void
test_default_cap(void **state)
{
	struct diag_list dl = { 0 };
	unsigned int i;

	(void)state;
	for (i = 0; i < 1005; i++)
		diag_add(&dl, DIAG_ERROR, "big.yaml", i + 1, 1, "error %u", i);
	assert_int_equal(dl.n, 1000);
	assert_int_equal(diag_errors(&dl), 1005);
	assert_string_equal(dl.v[999].msg, "error 999");
	diag_list_clear(&dl);
}

static void
test_move(void **state)
{
	struct diag_list dst = { 0 }, src = { 0 };

	(void)state;
	diag_add(&dst, DIAG_WARNING, "d.yaml", 1, 1, "d0");
	diag_add(&src, DIAG_ERROR, "s.yaml", 2, 3, "s0");
	diag_add(&src, DIAG_WARNING, "s.yaml", 4, 5, "s1");
	diag_move(&dst, &src);

	assert_int_equal(dst.n, 3);
	assert_int_equal(diag_errors(&dst), 1);
	assert_string_equal(dst.v[0].msg, "d0");
	assert_string_equal(dst.v[1].msg, "s0");
	assert_string_equal(dst.v[1].file, "s.yaml");
	assert_int_equal(dst.v[1].line, 2);
	assert_string_equal(dst.v[2].msg, "s1");
	assert_int_equal(src.n, 0);
	assert_null(src.v);
	assert_int_equal(diag_errors(&src), 0);

	/* src is reusable, and moving an empty list changes nothing. */
	diag_add(&src, DIAG_ERROR, "s.yaml", 6, 1, "again");
	assert_int_equal(src.n, 1);
	diag_list_clear(&src);
	diag_move(&dst, &src);
	assert_int_equal(dst.n, 3);
	diag_move(&dst, &dst);
	assert_int_equal(dst.n, 3);
	diag_list_clear(&dst);
}

static void
test_move_respects_cap(void **state)
{
	struct diag_list dst = { .max = 2 }, src = { 0 };
	char *out;

	(void)state;
	diag_add(&dst, DIAG_ERROR, "d.yaml", 1, 1, "d0");
	diag_add(&src, DIAG_ERROR, "s.yaml", 1, 1, "s0");
	diag_add(&src, DIAG_ERROR, "s.yaml", 2, 1, "s1");
	diag_add(&src, DIAG_WARNING, "s.yaml", 3, 1, "s2");
	diag_move(&dst, &src);
	assert_int_equal(dst.n, 2);
	assert_int_equal(diag_errors(&dst), 3);
	out = print_to_string(&dst);
	assert_string_equal(out, "d.yaml:1:1: error: d0\n"
				 "s.yaml:1:1: error: s0\n"
				 "... and 1 more error not shown\n");
	free(out);
	diag_list_clear(&dst);
}

static void
test_clear(void **state)
{
	struct diag_list dl = { 0 };

	(void)state;
	diag_list_clear(NULL);
	diag_list_clear(&dl);
	diag_add(&dl, DIAG_ERROR, "a.yaml", 1, 1, "x");
	diag_list_clear(&dl);
	assert_int_equal(dl.n, 0);
	assert_int_equal(dl.cap, 0);
	assert_null(dl.v);
	assert_int_equal(diag_errors(&dl), 0);
	diag_add(&dl, DIAG_WARNING, "a.yaml", 2, 1, "y");
	assert_int_equal(dl.n, 1);
	assert_int_equal(diag_errors(&dl), 0);
	diag_list_clear(&dl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_and_format),
		cmocka_unit_test(test_format_truncates_like_snprintf),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_cap_keeps_counting),
		cmocka_unit_test(test_default_cap),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_move_respects_cap),
		cmocka_unit_test(test_clear),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
