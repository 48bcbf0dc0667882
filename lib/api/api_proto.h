/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * egressd's API protocol (doc/api.md), the part both ends share: a JSON
 * line read into flat fields ("args.src", "ports.inside.rx"), and strings
 * escaped for a JSON line. The protocol's objects have no arrays and nest
 * at most API_DEPTH_MAX deep. No DPDK, no allocation: egressctl links it too.
 */
#ifndef EGRESS_API_PROTO_H
#define EGRESS_API_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define API_VERSION     1
#define API_FIELDS_MAX  256 /**< fields of one line, all levels */
#define API_KEY_MAX     96  /**< a dotted path, with its NUL */
#define API_VAL_MAX     1024
#define API_DEPTH_MAX   4
#define API_REQUEST_MAX 4096 /**< longest request line, newline included */

enum api_type {
	API_STRING,
	API_NUMBER,
	API_BOOL,
	API_NULL
};

struct api_field {
	char key[API_KEY_MAX]; /**< "a.b.c" for nested objects */
	char val[API_VAL_MAX]; /**< unescaped string, or the literal's text */
	enum api_type type;
};

struct api_obj {
	struct api_field f[API_FIELDS_MAX];
	unsigned int n;
};

/**
 * Read one JSON object (s, len bytes; a trailing newline allowed) into o:
 * every scalar member, at any depth, as a dotted key, in order. Strings
 * must be valid JSON; \uXXXX beyond ASCII becomes UTF-8.
 * @return 0, or -1 with the reason in err ("at byte N: ...").
 */
int api_parse(const char *s, size_t len, struct api_obj *o, char *err, size_t errsz);

/** The field named key, or NULL. */
const struct api_field *api_get(const struct api_obj *o, const char *key);

/** A string field's value, or NULL when absent, null or not a string. */
const char *api_get_str(const struct api_obj *o, const char *key);

/**
 * A number field as a non-negative integer no larger than max.
 * @return 0 (absent: *v untouched), 1 (read), -1 (not such a number).
 */
int api_get_uint(const struct api_obj *o, const char *key, uint64_t max, uint64_t *v);

/**
 * s as a JSON string, quotes included, into buf (size > 2). Truncated at a
 * character boundary to fit. @return the length written (without NUL).
 */
size_t api_quote(char *buf, size_t size, const char *s);

#endif
