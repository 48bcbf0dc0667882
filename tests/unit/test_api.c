/* SPDX-License-Identifier: BSD-3-Clause */
/* The API protocol's JSON line reader and quoting (lib/api/api_proto.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_proto.h"

static struct api_obj o;

static void
parse_ok(const char *s)
{
	char err[128] = "";

	if (api_parse(s, strlen(s), &o, err, sizeof(err)) != 0)
		fail_msg("%s: %s", s, err);
}

static void
parse_err(const char *s, const char *want)
{
	char err[128] = "";

	assert_int_equal(api_parse(s, strlen(s), &o, err, sizeof(err)), -1);
	assert_string_equal(err, want);
}

/* A request as egressctl sends it: every field, flattened, typed, in order. */
static void
test_request(void **state)
{
	uint64_t v = 7;

	(void)state;
	parse_ok("{\"version\":1,\"verb\":\"flows\",\"args\":{\"src\":\"10.8.0.2\",\"port\":6379,"
		 "\"limit\":0}}\n");
	assert_int_equal(o.n, 5);
	assert_string_equal(o.f[0].key, "version");
	assert_int_equal(o.f[0].type, API_NUMBER);
	assert_string_equal(o.f[2].key, "args.src");
	assert_string_equal(api_get_str(&o, "verb"), "flows");
	assert_string_equal(api_get_str(&o, "args.src"), "10.8.0.2");
	assert_null(api_get_str(&o, "args.port")); /* a number, not a string */
	assert_int_equal(api_get_uint(&o, "args.port", 65535, &v), 1);
	assert_int_equal(v, 6379);
	assert_int_equal(api_get_uint(&o, "args.limit", 10, &v), 1);
	assert_int_equal(v, 0);
	assert_int_equal(api_get_uint(&o, "args.dst", 10, &v), 0); /* absent */
	assert_int_equal(v, 0);
	assert_int_equal(api_get_uint(&o, "args.port", 6378, &v), -1); /* above max */
	assert_int_equal(api_get_uint(&o, "args.src", 10, &v), -1);    /* a string */

	/* whitespace anywhere JSON allows it; nesting; the literals */
	parse_ok(" { \"a\" : { \"b\" : { \"c\" : true } } , \"d\" : null , \"e\" : -1.5e3 }\r\n");
	assert_int_equal(o.n, 3);
	assert_string_equal(o.f[0].key, "a.b.c");
	assert_int_equal(o.f[0].type, API_BOOL);
	assert_int_equal(o.f[1].type, API_NULL);
	assert_string_equal(o.f[2].val, "-1.5e3");
	assert_int_equal(api_get_uint(&o, "e", 10, &v), -1);
	parse_ok("{}");
	assert_int_equal(o.n, 0);
}

static void
test_escapes(void **state)
{
	(void)state;
	parse_ok("{\"s\":\"a\\\"b\\\\c\\/d\\n\\t\\u0041\\u00e9\\u20ac\"}");
	assert_string_equal(api_get_str(&o, "s"), "a\"b\\c/d\n\tA\xc3\xa9\xe2\x82\xac");
	parse_err("{\"s\":\"\\u0000\"}", "at byte 12: \\u0000 not accepted");
	parse_err("{\"s\":\"\\ud800\"}", "at byte 12: \\ud800 not accepted");
	parse_err("{\"s\":\"\\x\"}", "at byte 8: bad escape");
	parse_err("{\"s\":\"\\u12g4\"}", "at byte 10: bad \\u escape");
	parse_err("{\"s\":\"a\nb\"}", "at byte 8: control character in a string");
}

static void
test_errors(void **state)
{
	char big[API_VAL_MAX + 16];

	(void)state;
	parse_err("", "at byte 0: expected an object");
	parse_err("[1]", "at byte 0: expected an object");
	parse_err("{\"a\":1", "at byte 6: expected ',' or '}'");
	parse_err("{\"a\":1}x", "at byte 7: trailing bytes");
	parse_err("{\"a\":[1]}", "at byte 5: arrays are not part of the protocol");
	parse_err("{\"a\":tru}", "at byte 5: expected a value");
	parse_err("{\"a\":1,}", "at byte 7: expected a key");
	parse_err("{a:1}", "at byte 1: expected a key");
	parse_err("{\"a\" 1}", "at byte 5: expected ':'");
	parse_err("{\"a\":\"x", "at byte 7: unterminated string");
	parse_err("{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":1}}}}}", "at byte 20: nested deeper than 4");
	memset(big, 'x', sizeof(big));
	memcpy(big, "{\"a\":\"", 6);
	memcpy(big + sizeof(big) - 3, "\"}", 3);
	parse_err(big, "at byte 1030: string longer than 1023 bytes");
}

/* Literals: bytes outside a literal end it (a NUL too), and a number has
 * JSON's syntax (RFC 8259 section 6), not whatever strtod() takes. */
static void
test_literals(void **state)
{
	static const char nul[] = "{\"version\":1\0\0,\"verb\":\"stats\"}";
	static const char *const bad[] = { "-nan", "-",  "01",  "-01",  "1.",  ".5",
					   "+1",   "1e", "1e+", "1.e3", "--1", "1-" };
	static const char *const good[] = {
		"0", "-0", "10", "1.5", "-0.25", "1e5", "1E+5", "2.5e-3"
	};
	char err[128] = "", s[64];
	unsigned int i;

	(void)state;
	assert_int_equal(api_parse(nul, sizeof(nul) - 1, &o, err, sizeof(err)), -1);
	assert_string_equal(err, "at byte 12: expected ',' or '}'");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(s, sizeof(s), "{\"a\":%s}", bad[i]);
		parse_err(s, "at byte 5: expected a value");
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(s, sizeof(s), "{\"a\":%s}", good[i]);
		parse_ok(s);
		assert_int_equal(o.f[0].type, API_NUMBER);
		assert_string_equal(o.f[0].val, good[i]);
	}
}

static void
test_quote(void **state)
{
	char buf[16], line[64];

	(void)state;
	assert_int_equal(api_quote(buf, sizeof(buf), "a\"b\\\n"), 14);
	assert_string_equal(buf, "\"a\\\"b\\\\\\u000a\"");
	/* truncated whole: never half an escape, never half a UTF-8 character */
	assert_int_equal(api_quote(buf, 8, "abcdefgh"), 7);
	assert_string_equal(buf, "\"abcde\"");
	assert_int_equal(api_quote(buf, 8, "ab\xc3\xa9\xc3\xa9"), 6);
	assert_string_equal(buf, "\"ab\xc3\xa9\"");
	/* what it writes reads back as what it was given */
	api_quote(buf, sizeof(buf), "q\"\t");
	snprintf(line, sizeof(line), "{\"k\":%s}", buf);
	parse_ok(line);
	assert_string_equal(api_get_str(&o, "k"), "q\"\t");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request), cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_errors),  cmocka_unit_test(test_literals),
		cmocka_unit_test(test_quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
