/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Typed reading of a ydoc tree: the YAML path, diagnostics at a node's
 * position, quoted values, and the getters of both loaders (yreader.h).
 *
 * No allocation: the path and the quoted values live in the yreader.
 */
#include <errno.h>
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
	       t == YNODE_MAP ? "a mapping" : t == YNODE_SEQ ? "a list" : "a string",
	       yr_describe(r, v));
	yr_pop(r, mark);
	return NULL;
}

const char *
yr_get_str(struct yreader *r, const struct ynode *map, const char *key,
	   const struct ynode **node)
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
	return -1;
}

int
yparse_bool(const char *s, bool *v)
{
	static const char *const spelled[] = { "false", "true", "False", "True", "FALSE", "TRUE" };
	unsigned int i;

	for (i = 0; i < sizeof(spelled) / sizeof(spelled[0]); i++) {
		if (strcmp(s, spelled[i]) == 0) {
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
	return -1;
}
