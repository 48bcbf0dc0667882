/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Typed reading of a ydoc tree: the YAML path, diagnostics at a node's
 * position, quoted values, and the getters of both loaders (yreader.h).
 *
 * No allocation: the path and the quoted values live in the yreader.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "yreader.h"

void
yr_init(struct yreader *r, const char *file, struct diag_list *dl, size_t quote_max)
{
	memset(r, 0, sizeof(*r));
	r->file = file;
	r->dl = dl;
	r->quote_max = quote_max < YREADER_QUOTE_MAX ? quote_max : YREADER_QUOTE_MAX;
}

/* ------------------------------------------------------------------ */
/* The path                                                            */

size_t
yr_push(struct yreader *r, const char *fmt, ...)
{
	size_t mark = r->path_len;
	size_t room = sizeof(r->path) - mark;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(r->path + mark, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		r->path[mark] = '\0';
	else if ((size_t)n >= room)
		r->path_len = sizeof(r->path) - 1;
	else
		r->path_len = mark + (size_t)n;
	return mark;
}

size_t
yr_key(struct yreader *r, const char *key)
{
	return yr_push(r, "%s%s", r->path_len > 0 ? "." : "", key);
}

size_t
yr_idx(struct yreader *r, size_t i)
{
	return yr_push(r, "[%zu]", i);
}

void
yr_pop(struct yreader *r, size_t mark)
{
	r->path_len = mark;
	r->path[mark] = '\0';
}

/* ------------------------------------------------------------------ */
/* Diagnostics and quoting                                             */

static void
yr_vdiag(struct yreader *r, enum diag_severity sev, const struct ynode *at, bool with_path,
	 const char *fmt, va_list ap)
{
	char msg[YREADER_MSG_MAX];
	unsigned int line = at != NULL ? at->line : 0, col = at != NULL ? at->col : 0;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_path && r->path_len > 0)
		diag_add(r->dl, sev, r->file, line, col, "%s: %s", r->path, msg);
	else
		diag_add(r->dl, sev, r->file, line, col, "%s", msg);
}

void
yr_diag(struct yreader *r, enum diag_severity sev, const struct ynode *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	yr_vdiag(r, sev, at, true, fmt, ap);
	va_end(ap);
}

void
yr_diag_bare(struct yreader *r, enum diag_severity sev, const struct ynode *at, const char *fmt,
	     ...)
{
	va_list ap;

	va_start(ap, fmt);
	yr_vdiag(r, sev, at, false, fmt, ap);
	va_end(ap);
}

static const char *
yr_quote_len(struct yreader *r, const char *s, size_t len)
{
	return yquote(r->qbuf[r->qi++ % YREADER_NQUOTE], s, len, r->quote_max);
}

const char *
yr_quote(struct yreader *r, const char *s)
{
	return yr_quote_len(r, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

const char *
yr_quote_node(struct yreader *r, const struct ynode *n)
{
	return yr_quote_len(r, n->str, n->len);
}

const char *
ynode_kind(const struct ynode *n)
{
	switch (n->type) {
	case YNODE_MAP:
		return "a mapping";
	case YNODE_SEQ:
		return "a list";
	case YNODE_SCALAR:
	default:
		return "a scalar";
	}
}

const char *
yr_describe(struct yreader *r, const struct ynode *n)
{
	return n->type == YNODE_SCALAR ? yr_quote_node(r, n) : ynode_kind(n);
}

/* ------------------------------------------------------------------ */
/* Lookups                                                             */

const struct ynode *
ymap_opt(const struct ynode *map, const char *key)
{
	const struct ynode *v = ymap_get(map, key);

	return ynode_is_null(v) ? NULL : v;
}

const struct ynode *
ymap_next_unknown(const struct ynode *map, const char *const *known, size_t *i)
{
	if (map == NULL || map->type != YNODE_MAP)
		return NULL;
	for (; *i < map->n; (*i)++) {
		const struct ynode *k = map->items[2 * *i];
		size_t j;

		for (j = 0; known[j] != NULL; j++)
			if (strlen(known[j]) == k->len && memcmp(k->str, known[j], k->len) == 0)
				break;
		if (known[j] == NULL) {
			(*i)++;
			return k;
		}
	}
	return NULL;
}

const char *
yr_scalar(struct yreader *r, const struct ynode *n, const char *what)
{
	if (n->type == YNODE_SCALAR)
		return n->str;
	yr_err(r, n, "expected %s, got %s", what, ynode_kind(n));
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Kubernetes typing                                                   */

const struct ynode *
yr_get(struct yreader *r, const struct ynode *map, const char *key, enum ynode_type t)
{
	const struct ynode *v = ymap_opt(map, key);
	size_t mark;

	if (v == NULL || v->type == t)
		return v;
	mark = yr_key(r, key);
	yr_err(r, v, "expected %s, got %s",
	       t == YNODE_MAP ? "a mapping" :
	       t == YNODE_SEQ ? "a list" :
				"a string",
	       yr_describe(r, v));
	yr_pop(r, mark);
	return NULL;
}

const char *
yr_get_str(struct yreader *r, const struct ynode *map, const char *key, const struct ynode **node)
{
	const struct ynode *v = yr_get(r, map, key, YNODE_SCALAR);

	if (node != NULL)
		*node = v;
	return v != NULL ? v->str : NULL;
}

const char *
yr_str(struct yreader *r, const struct ynode *n)
{
	if (ynode_is_null(n))
		return NULL;
	return yr_scalar(r, n, "a string");
}

/* What the API server takes: a sign, then digits; quoted, it is a string. */
int
yr_int(struct yreader *r, const struct ynode *n, int64_t *v)
{
	const char *s = n->str;
	bool neg = false;
	int64_t val = 0;

	if (n->type != YNODE_SCALAR || !n->plain)
		goto bad;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (*s < '0' || *s > '9')
		goto bad;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			goto bad;
		if (val > (INT64_MAX - (*s - '0')) / 10)
			val = INT64_MAX;
		else
			val = val * 10 + (*s - '0');
	}
	*v = neg ? -val : val;
	return 0;
bad:
	yr_err(r, n, "expected an integer, got %s%s",
	       n->type == YNODE_SCALAR && !n->plain ? "the string " : "", yr_describe(r, n));
	return -EINVAL;
}

/* What the API server reads as a boolean: false and true alternate. */
static const char *const bool_spellings[] = {
	"false", "true", "False", "True", "FALSE", "TRUE", NULL,
};

int
yparse_bool(const char *s, bool *v)
{
	unsigned int i;

	for (i = 0; bool_spellings[i] != NULL; i++) {
		if (strcmp(s, bool_spellings[i]) == 0) {
			*v = i % 2 == 1;
			return 0;
		}
	}
	return -EINVAL;
}

int
yr_bool(struct yreader *r, const struct ynode *n, bool *v)
{
	if (n->type == YNODE_SCALAR && n->plain && yparse_bool(n->str, v) == 0)
		return 0;
	yr_err(r, n, "expected true or false, got %s", yr_describe(r, n));
	return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* Values as text                                                      */

int
yparse_uint(const char *s, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != '\0'))
		return -EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (x > (max - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*v = x;
	return 0;
}

int
yparse_duration_ms(const char *s, uint64_t *ms)
{
	uint64_t total = 0;
	const char *p = s;

	if (s == NULL || ms == NULL || *s == '\0')
		return -EINVAL;
	if (s[strspn(s, "0123456789")] == '\0') {
		if (yparse_uint(s, UINT64_MAX / 1000, &total) < 0)
			return -EINVAL;
		*ms = total * 1000;
		return 0;
	}
	while (*p != '\0') {
		uint64_t v = 0, unit;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (__builtin_mul_overflow(v, 10, &v) ||
			    __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
				return -EINVAL;
		}
		if (p[0] == 'm' && p[1] == 's') {
			unit = 1;
			p += 2;
		} else if (*p == 's') {
			unit = 1000;
			p++;
		} else if (*p == 'm') {
			unit = 60 * 1000;
			p++;
		} else if (*p == 'h') {
			unit = 3600 * 1000;
			p++;
		} else {
			return -EINVAL;
		}
		if (__builtin_mul_overflow(v, unit, &v) || __builtin_add_overflow(total, v, &total))
			return -EINVAL;
	}
	*ms = total;
	return 0;
}

/*
 * The optional scalar of a getter: NULL when key is missing or null; else the
 * key is pushed (*mark restores the path) and a collection is reported.
 * *node is the value either way, for the caller's pop.
 */
static const char *
text_of(struct yreader *r, const struct ynode *map, const char *key, const char *want,
	const struct ynode **node, size_t *mark)
{
	const struct ynode *v = ymap_opt(map, key);

	*node = v;
	if (v == NULL)
		return NULL;
	*mark = yr_key(r, key);
	return yr_scalar(r, v, want);
}

static void
invalid(struct yreader *r, const struct ynode *v, const char *want)
{
	yr_err(r, v, "invalid value %s (want %s)", yr_quote_node(r, v), want);
}

const struct ynode *
yr_get_uint(struct yreader *r, const struct ynode *map, const char *key, uint64_t lo, uint64_t hi,
	    const char *want, uint64_t *v)
{
	const struct ynode *n, *ok = NULL;
	char range[48];
	const char *s;
	size_t mark;
	uint64_t x;

	if (want == NULL) {
		snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, lo, hi);
		want = range;
	}
	s = text_of(r, map, key, "a number", &n, &mark);
	if (n == NULL)
		return NULL;
	if (s != NULL) {
		if (yparse_uint(s, UINT64_MAX, &x) < 0 || x < lo || x > hi) {
			invalid(r, n, want);
		} else {
			*v = x;
			ok = n;
		}
	}
	yr_pop(r, mark);
	return ok;
}

/* "a, b or c" */
static const char *
names_want(char *buf, size_t size, const char *const *names)
{
	size_t o = 0, i;

	buf[0] = '\0';
	for (i = 0; names[i] != NULL && o < size; i++) {
		const char *sep = i == 0 ? "" : names[i + 1] == NULL ? " or " : ", ";

		o += (size_t)snprintf(buf + o, size - o, "%s%s", sep, names[i]);
	}
	return buf;
}

const struct ynode *
yr_get_enum(struct yreader *r, const struct ynode *map, const char *key, const char *const *names,
	    const char *want, unsigned int *v)
{
	const struct ynode *n, *ok = NULL;
	char buf[96];
	const char *s;
	unsigned int i;
	size_t mark;

	if (want == NULL)
		want = names_want(buf, sizeof(buf), names);
	s = text_of(r, map, key, want, &n, &mark);
	if (n == NULL)
		return NULL;
	for (i = 0; s != NULL && names[i] != NULL; i++) {
		if (strcmp(s, names[i]) == 0) {
			*v = i;
			ok = n;
			break;
		}
	}
	if (s != NULL && ok == NULL)
		invalid(r, n, want);
	yr_pop(r, mark);
	return ok;
}

const struct ynode *
yr_get_flag(struct yreader *r, const struct ynode *map, const char *key, bool *v)
{
	const struct ynode *n;
	unsigned int i;

	n = yr_get_enum(r, map, key, bool_spellings, "true or false", &i);
	if (n != NULL)
		*v = i % 2 == 1;
	return n;
}

const struct ynode *
yr_get_duration_ms(struct yreader *r, const struct ynode *map, const char *key, uint64_t max_ms,
		   uint64_t *v)
{
	const struct ynode *n, *ok = NULL;
	const char *s;
	size_t mark;
	uint64_t ms;

	s = text_of(r, map, key, "a duration", &n, &mark);
	if (n == NULL)
		return NULL;
	if (s == NULL) {
		/* reported */
	} else if (yparse_duration_ms(s, &ms) < 0) {
		yr_err(r, n,
		       "invalid duration %s (want a number with unit s, m, h or ms, e.g. "
		       "240s)",
		       yr_quote_node(r, n));
	} else if (ms == 0 || ms > max_ms) {
		yr_err(r, n, "duration %s out of range (want 1ms to %" PRIu64 "h)",
		       yr_quote_node(r, n), max_ms / 3600000);
	} else {
		*v = ms;
		ok = n;
	}
	yr_pop(r, mark);
	return ok;
}
