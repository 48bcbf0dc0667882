/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Typed values as the API server and Istio read them:
 * durations as Go's time.ParseDuration() reads them (the webhook's JSON
 * decoder and the CRD's CEL duration() both call it), integers within the
 * CRD's formats, JSON numbers and enums (names and addresses: istio_names.c).
 *
 * Control thread only.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "istio_private.h"

#define NS_PER_MS 1000000

/* 2^63: what Go's parser lets a component reach before it says overflow */
#define GO_DUR_LIMIT (UINT64_C(1) << 63)

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Go's unitMap; µs comes in two spellings (U+00B5, U+03BC). */
static uint64_t
go_unit(const char *u, size_t len)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {
		{ "ns", 1 },
		{ "us", 1000 },
		{ "\xc2\xb5s", 1000 },
		{ "\xce\xbcs", 1000 },
		{ "ms", 1000000 },
		{ "s", 1000000000 },
		{ "m", UINT64_C(60000000000) },
		{ "h", UINT64_C(3600000000000) },
	};
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == len && memcmp(units[i].name, u, len) == 0)
			return units[i].ns;
	return 0;
}

/*
 * A port of Go's time.ParseDuration(), to the bit: the same grammar
 * ([-+]?([0-9]*(\.[0-9]*)?[a-z]+)+ or a bare "0"), the same overflow points,
 * and the same float arithmetic for fractions, so that "1.0000000001s" is
 * exactly 1 s here too (digits below 1 ns are dropped, not an error).
 */
int
istio_parse_go_duration(const char *s, int64_t *ns)
{
	uint64_t d = 0;
	bool neg = false;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*ns = 0;
		return 0;
	}
	if (*s == '\0')
		return -EINVAL;
	while (*s != '\0') {
		uint64_t v = 0, f = 0, unit;
		double scale = 1;
		bool pre = false, post = false, overflow = false;
		size_t ul;

		if (!(*s == '.' || is_digit(*s)))
			return -EINVAL;
		for (; is_digit(*s); s++, pre = true) {
			if (v > GO_DUR_LIMIT / 10)
				return -ERANGE;
			v = v * 10 + (uint64_t)(*s - '0');
			if (v > GO_DUR_LIMIT)
				return -ERANGE;
		}
		if (*s == '.') {
			/* leadingFraction(): stops gaining precision, never fails */
			for (s++; is_digit(*s); s++, post = true) {
				uint64_t y;

				if (overflow)
					continue;
				if (f > (GO_DUR_LIMIT - 1) / 10) {
					overflow = true;
					continue;
				}
				y = f * 10 + (uint64_t)(*s - '0');
				if (y > GO_DUR_LIMIT) {
					overflow = true;
					continue;
				}
				f = y;
				scale *= 10;
			}
		}
		if (!pre && !post)
			return -EINVAL;
		for (ul = 0; s[ul] != '\0' && s[ul] != '.' && !is_digit(s[ul]); ul++)
			;
		unit = ul > 0 ? go_unit(s, ul) : 0;
		if (unit == 0)
			return -EINVAL;
		s += ul;
		if (v > GO_DUR_LIMIT / unit)
			return -ERANGE;
		v *= unit;
		if (f > 0) {
			/* f / scale < 1: the product is below unit (3.6e12 at most) */
			v += (uint64_t)((double)f * ((double)unit / scale));
			if (v > GO_DUR_LIMIT)
				return -ERANGE;
		}
		d += v;
		if (d > GO_DUR_LIMIT)
			return -ERANGE;
	}
	if (neg) {
		*ns = d == GO_DUR_LIMIT ? INT64_MIN : -(int64_t)d;
		return 0;
	}
	if (d > (uint64_t)INT64_MAX)
		return -ERANGE;
	*ns = (int64_t)d;
	return 0;
}

bool
ld_duration(struct ld *ld, const struct ynode *map, const char *key, enum ld_dur_check c,
	    int64_t *ns)
{
	const struct ynode *n;
	const char *s = yr_get_str(&ld->r, map, key, &n);
	bool ok = false;
	size_t mark;
	int rc;

	if (s == NULL)
		return false;
	mark = yr_key(&ld->r, key);
	rc = istio_parse_go_duration(s, ns);
	if (rc == -ERANGE) {
		yr_err(&ld->r, n, "duration %s out of range (at most 2562047h47m16.854775807s)",
		       yr_quote(&ld->r, s));
	} else if (rc < 0) {
		yr_err(&ld->r, n, "invalid duration %s (want e.g. 10s, 500ms, 1m)",
		       yr_quote(&ld->r, s));
	} else if (c == LD_DUR_DECODE || (c == LD_DUR_IDLE && *ns / NS_PER_MS == 0)) {
		/* Istio skips a tcp idleTimeout of 0 whole ms: it turns the timeout off */
		ok = true;
	} else if (*ns < NS_PER_MS) {
		/* the CRD's CEL message, or Istio's ValidateDuration()'s */
		yr_err(&ld->r, n, "%s",
		       c == LD_DUR_CEL ? "must be a valid duration greater than 1ms" :
					 "duration must be greater than 1ms");
	} else if (c != LD_DUR_CEL && *ns % NS_PER_MS != 0) {
		yr_err(&ld->r, n, "only durations to ms precision are supported");
	} else {
		ok = true;
	}
	yr_pop(&ld->r, mark);
	return ok;
}

/* The value at key of map, not null: its node, key pushed on the path (pop *mark); or NULL. */
static const struct ynode *
value_at(struct ld *ld, const struct ynode *map, const char *key, size_t *mark)
{
	const struct ynode *n = ymap_get(map, key);

	if (n == NULL || ynode_is_null(n))
		return NULL;
	*mark = yr_key(&ld->r, key);
	return n;
}

/* The integer at key of map: its node, or NULL when absent or no integer (reported). */
static const struct ynode *
int_at(struct ld *ld, const struct ynode *map, const char *key, int64_t *v)
{
	size_t mark;
	const struct ynode *n = value_at(ld, map, key, &mark);
	int rc;

	if (n == NULL)
		return NULL;
	rc = yr_int(&ld->r, n, v);
	yr_pop(&ld->r, mark);
	return rc == 0 ? n : NULL;
}

bool
ld_int(struct ld *ld, const struct ynode *map, const char *key, int64_t lo, int64_t hi, int64_t *v)
{
	const struct ynode *n = int_at(ld, map, key, v);
	size_t mark;

	if (n == NULL || (*v >= lo && *v <= hi))
		return n != NULL;
	mark = yr_key(&ld->r, key);
	yr_err(&ld->r, n, "%s out of range (%" PRId64 "-%" PRId64 ")", n->str, lo, hi);
	yr_pop(&ld->r, mark);
	return false;
}

bool
ld_nonneg_int32(struct ld *ld, const struct ynode *map, const char *key, const char *what,
		int64_t *v)
{
	const struct ynode *n = int_at(ld, map, key, v);
	size_t mark;

	if (n == NULL || (*v >= 0 && *v <= INT32_MAX))
		return n != NULL;
	mark = yr_key(&ld->r, key);
	if (*v < 0)
		yr_err(&ld->r, n, "%s must be non-negative", what);
	else /* the CRD's format: int32 */
		yr_err(&ld->r, n, "%s %s out of range (0-2147483647)", what, n->str);
	yr_pop(&ld->r, mark);
	return false;
}

bool
ld_number(struct ld *ld, const struct ynode *map, const char *key, double *v)
{
	size_t mark;
	const struct ynode *n = value_at(ld, map, key, &mark);
	bool ok;

	if (n == NULL)
		return false;
	ok = yr_number(&ld->r, n, v) == 0;
	yr_pop(&ld->r, mark);
	return ok;
}

bool
ld_bool(struct ld *ld, const struct ynode *map, const char *key, bool *v)
{
	size_t mark;
	const struct ynode *n = value_at(ld, map, key, &mark);
	int rc;

	if (n == NULL)
		return false;
	rc = yr_bool(&ld->r, n, v);
	yr_pop(&ld->r, mark);
	return rc == 0;
}

int
ld_enum(struct ld *ld, const struct ynode *map, const char *key, const char *const *names,
	const char *what)
{
	const struct ynode *n;
	const char *s = yr_get_str(&ld->r, map, key, &n);
	char want[MSG_MAX];
	size_t i, len = 0, mark;

	if (s == NULL)
		return -1;
	for (i = 0; names[i] != NULL; i++)
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	want[0] = '\0';
	for (i = 0; names[i] != NULL && len < sizeof(want); i++) {
		const char *sep = i == 0 ? "" : names[i + 1] == NULL ? " or " : ", ";

		len += (size_t)snprintf(want + len, sizeof(want) - len, "%s%s", sep, names[i]);
	}
	mark = yr_key(&ld->r, key);
	yr_err(&ld->r, n, "invalid %s %s (want %s)", what, yr_quote(&ld->r, s), want);
	yr_pop(&ld->r, mark);
	return -1;
}
