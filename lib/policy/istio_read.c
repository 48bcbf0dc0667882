/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Reading the YAML tree for the Istio loader: the YAML path of the node being
 * read ("spec.ports[0].number"), values quoted for messages, diagnostics at a
 * node's file, line and column, and typed access that reports a value of the
 * wrong type once, where it was written.
 *
 * Control thread only: allocates freely, never logs or prints.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "istio_private.h"
#include "ydoc.h"

/* Append to the current YAML path; returns the mark that path_pop() restores. */
size_t
path_push(struct ld *ld, const char *fmt, ...)
{
	size_t mark = ld->path_len;
	size_t room = sizeof(ld->path) - mark;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(ld->path + mark, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		ld->path[mark] = '\0';
	else if ((size_t)n >= room)
		ld->path_len = sizeof(ld->path) - 1;
	else
		ld->path_len = mark + (size_t)n;
	return mark;
}

size_t
path_key(struct ld *ld, const char *key)
{
	return path_push(ld, "%s%s", ld->path_len > 0 ? "." : "", key);
}

size_t
path_idx(struct ld *ld, size_t i)
{
	return path_push(ld, "[%zu]", i);
}

void
path_pop(struct ld *ld, size_t mark)
{
	ld->path_len = mark;
	ld->path[mark] = '\0';
}

/*
 * A value as it goes into a message: double-quoted, escaped, truncated. The
 * buffers rotate so that a message can quote a few values at once.
 */
const char *
q(struct ld *ld, const char *s)
{
	char *buf = ld->qbuf[ld->qi++ % N_QBUF];
	size_t o = 0, i;

	buf[o++] = '"';
	for (i = 0; s != NULL && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		/* cut on a character boundary: the message stays valid UTF-8 */
		if (i >= QUOTE_MAX && (c & 0xc0) != 0x80) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(buf + o, 5, "\\x%02x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* One diagnostic at node n, prefixed with the current YAML path. */
void
ld_diag(struct ld *ld, enum diag_severity sev, const struct ynode *n, const char *fmt, ...)
{
	char msg[MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ld->path_len > 0)
		diag_add(ld->dl, sev, ld->file, n != NULL ? n->line : 0, n != NULL ? n->col : 0,
			 "%s: %s", ld->path, msg);
	else
		diag_add(ld->dl, sev, ld->file, n != NULL ? n->line : 0, n != NULL ? n->col : 0,
			 "%s", msg);
}

#define ld_err(ld, n, ...) ld_diag(ld, DIAG_ERROR, n, __VA_ARGS__)
#define ld_warn(ld, n, ...) ld_diag(ld, DIAG_WARNING, n, __VA_ARGS__)

char *
ld_strdup(struct ld *ld, const char *s)
{
	char *d = strdup(s != NULL ? s : "");

	if (d == NULL)
		ld->oom = true;
	return d;
}

void *
ld_calloc(struct ld *ld, size_t n, size_t size)
{
	void *p;

	if (n == 0)
		return NULL;
	p = calloc(n, size);
	if (p == NULL)
		ld->oom = true;
	return p;
}

const char *
ytype_name(const struct ynode *n)
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

/* What a node is, for "expected X, got Y" messages. */
const char *
ydescribe(struct ld *ld, const struct ynode *n)
{
	if (n->type != YNODE_SCALAR)
		return ytype_name(n);
	return q(ld, n->str);
}

/*
 * The value of key in map when it has type t. Absent or null: NULL, silently.
 * Another type: an error at the value, and NULL.
 */
const struct ynode *
ld_get(struct ld *ld, const struct ynode *map, const char *key, enum ynode_type t)
{
	const struct ynode *v = ymap_get(map, key);
	size_t mark;

	if (v == NULL || ynode_is_null(v))
		return NULL;
	if (v->type == t)
		return v;
	mark = path_key(ld, key);
	ld_err(ld, v, "expected %s, got %s",
	       t == YNODE_MAP ? "a mapping" : t == YNODE_SEQ ? "a list" : "a string",
	       ydescribe(ld, v));
	path_pop(ld, mark);
	return NULL;
}

/* True when key is missing from map or null: "required" checks fire on this. */
bool
ld_absent(const struct ynode *map, const char *key)
{
	return ynode_is_null(ymap_get(map, key));
}

/* A scalar's text, with the error for anything else (path already pushed). */
const char *
ld_str(struct ld *ld, const struct ynode *n)
{
	if (n == NULL || ynode_is_null(n))
		return NULL;
	if (n->type != YNODE_SCALAR) {
		ld_err(ld, n, "expected a string, got %s", ytype_name(n));
		return NULL;
	}
	return n->str;
}

/* The string value of key; *node gets the value node (NULL when absent). */
const char *
ld_get_str(struct ld *ld, const struct ynode *map, const char *key, const struct ynode **node)
{
	const struct ynode *v = ld_get(ld, map, key, YNODE_SCALAR);

	if (node != NULL)
		*node = v;
	return v != NULL ? v->str : NULL;
}

/*
 * A YAML integer: a plain (unquoted) decimal scalar, as the Kubernetes API
 * server wants for an integer field. Overflow saturates; callers range-check
 * and quote n->str. @return 0, or -1 after an error.
 */
int
ld_int(struct ld *ld, const struct ynode *n, int64_t *v)
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
	ld_err(ld, n, "expected an integer, got %s%s",
	       n->type == YNODE_SCALAR && !n->plain ? "the string " : "", ydescribe(ld, n));
	return -1;
}

static bool
in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* A warning for every key of map that is not in known (NULL-terminated). */
void
ld_unknown_fields(struct ld *ld, const struct ynode *map, const char *const *known)
{
	size_t i, mark;

	if (map == NULL || map->type != YNODE_MAP)
		return;
	for (i = 0; i < map->n; i++) {
		const struct ynode *k = map->items[2 * i];

		if (k->type != YNODE_SCALAR || in_list(k->str, known))
			continue;
		mark = path_key(ld, k->str);
		ld_warn(ld, k, "unknown field, ignored");
		path_pop(ld, mark);
	}
}

/* A warning for a known field that an L4 gateway cannot act on. */
void
ld_unhonoured(struct ld *ld, const struct ynode *map, const char *key, const char *why)
{
	const struct ynode *k = ymap_key(map, key);
	size_t mark;

	if (k == NULL)
		return;
	mark = path_key(ld, key);
	ld_warn(ld, k, "%s", why);
	path_pop(ld, mark);
}
