/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libyaml events -> a bounded, read-only tree.
 *
 * Every node and string lives in one arena that the yfile owns. The only
 * other allocations are the docs array and, while a collection is open, one
 * item vector per nesting level (at most YDOC_MAX_DEPTH of them, reused).
 * Parsing stops at the first problem: a refused file gives exactly one error
 * and no tree, and hostile input is never read past the first limit it breaks.
 *
 * Duplicate keys are found when a mapping ends: pairwise for small mappings,
 * by sorting for large ones (O(n log n) whatever the keys, no hash to flood).
 *
 * Colons in flow scalars, as go-yaml reads them. go-yaml (the parser kubectl,
 * the API server and Istio read manifests with) ends a plain scalar at ':'
 * only when a blank follows, so in "[1.2.3.4, 2001:db8::]" the second item is
 * "2001:db8::". libyaml refuses a ':' inside a plain scalar of a flow
 * collection when ',', '[', ']', '{', '}' or '?' follows it ("found unexpected
 * ':'"). Such colons are replaced by a stand-in byte in a copy of the buffer
 * that libyaml parses, and put back into the scalar values: the copy has the
 * same length, so every mark, and every position in a diagnostic, is the
 * original's. Which colons is first guessed from the bytes (ycolon_guess()),
 * then checked against what libyaml makes of the copy: a stand-in must land
 * inside the value of a plain scalar. One that lands anywhere else in a scalar
 * (a quoted or block scalar, the first character of a plain one) is turned
 * back into ':' and the copy parsed again; one in a comment changes nothing.
 * A ':' libyaml still refuses (the guess leaves out colons after a blank or
 * a quote, which most often are value indicators: "key" :[ or JSON's "key":[)
 * is replaced and the copy parsed again. At most YCOLON_PASSES passes: the last one's refusal of a
 * colon is the error, and a stand-in still misplaced then means the original
 * is parsed as it is.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "ydoc.h"

#define ARENA_BLOCK    (64u << 10) /* bytes per ordinary arena block */
#define DUP_LINEAR_MAX 16          /* mappings up to this many pairs: pairwise */
#define QUOTE_MAX      64          /* bytes of a key shown in a message */
#define READ_CHUNK     (64u << 10) /* first buffer when the size is unknown */

/* Colons in flow scalars (above) */
#define YCOLON_PASSES   8                      /* parses of a copy, at most */
#define YCOLON_STAND_IN '_'                    /* ends nothing, starts nothing */
#define YAML_FLOW_COLON "found unexpected ':'" /* libyaml's refusal of one */

struct arena_block {
	struct arena_block *next;
	size_t used;
	size_t size;
	max_align_t data[];
};

struct arena {
	struct arena_block *head; /* the block being filled comes first */
};

/* A collection being built: its node and, until it ends, its items. */
struct ylevel {
	struct ynode *node;
	struct ynode **items;
	size_t n;
	size_t cap;
};

/* Colons in flow scalars (see the top of this file). */
struct ycolons {
	const char *orig; /* the caller's buffer */
	char *mod;        /* a copy with stand-ins; NULL until one is needed */
	size_t len;
	size_t first;   /* byte where libyaml's character 0 is (after a UTF-8 BOM) */
	size_t ci, bo;  /* cursor: character ci starts at byte bo */
	size_t refused; /* byte of a ':' libyaml refused in this pass; SIZE_MAX: none */
	bool bad;       /* a stand-in landed outside a plain scalar's value (reverted) */
	bool off;       /* UTF-16 input: bytes are not characters, nothing is replaced */
};

struct ybuild {
	const char *name;
	struct ycolons *col; /* NULL: parse the bytes as they are */
	struct diag_list *dl;
	struct arena *arena;
	struct ydoc *docs;
	size_t n_docs;
	size_t cap_docs;
	struct ylevel lv[YDOC_MAX_DEPTH];
	unsigned int depth; /* open collections */
	size_t n_nodes;
};

/* A key of a large mapping, for the duplicate check. */
struct ykey {
	const struct ynode *key;
	size_t idx;
};

/* size bytes aligned to align (a power of two, at most sizeof(max_align_t)). */
static void *
arena_alloc_aligned(struct arena *a, size_t size, size_t align)
{
	struct arena_block *b = a->head;
	unsigned char *p;
	size_t pad = 0;

	if (size > SIZE_MAX / 2)
		return NULL;
	if (b != NULL)
		pad = (align - (b->used & (align - 1))) & (align - 1);
	if (b == NULL || b->size - b->used < size + pad) {
		/* Big requests get a block of their own behind the current one. */
		size_t bsize = size > ARENA_BLOCK / 4 ? size : ARENA_BLOCK;

		b = malloc(sizeof(*b) + bsize);
		if (b == NULL)
			return NULL;
		b->size = bsize;
		b->used = 0;
		pad = 0;
		if (bsize != ARENA_BLOCK && a->head != NULL) {
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	p = (unsigned char *)b->data + b->used + pad;
	b->used += pad + size;
	return p;
}

static void *
arena_alloc(struct arena *a, size_t size)
{
	return arena_alloc_aligned(a, size, sizeof(max_align_t));
}

static char *
arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *p = arena_alloc_aligned(a, len + 1, 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static void
arena_free(struct arena *a)
{
	struct arena_block *b, *next;

	if (a == NULL)
		return;
	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}

const char *
yquote(char *out, const char *s, size_t len, size_t max)
{
	size_t n = len, i, o = 0;

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	out[o++] = '"';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (c == '\t') {
			out[o++] = '\\';
			out[o++] = 't';
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(out + o, 5, "\\x%02x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	if (n < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

static int yerr_at(struct ybuild *b, unsigned int line, unsigned int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Add one error at a 1-based position (line 0: the whole file); -EINVAL. */
static int
yerr_at(struct ybuild *b, unsigned int line, unsigned int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(b->dl, DIAG_ERROR, b->name, line, col, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
ynomem(struct ybuild *b)
{
	diag_add(b->dl, DIAG_ERROR, b->name, 0, 0, "out of memory");
	return -ENOMEM;
}

static unsigned int
mark_line(const yaml_mark_t *m)
{
	return (unsigned int)m->line + 1;
}

static unsigned int
mark_col(const yaml_mark_t *m)
{
	return (unsigned int)m->column + 1;
}

/*
 * Position of a byte offset, for libyaml's reader errors, which carry an
 * offset instead of a mark. Columns count characters like libyaml's marks do.
 * An offset inside a multi-byte sequence (a bad trailing byte) is moved back
 * to the sequence's first byte: that is the character that is broken.
 */
static void
offset_pos(const char *buf, size_t len, size_t off, unsigned int *line, unsigned int *col)
{
	const unsigned char *s = (const unsigned char *)buf;
	size_t i = 0, k;

	if (off > len)
		off = len;
	for (k = 1; k <= 3 && k <= off; k++) {
		unsigned char c = s[off - k];
		size_t want;

		if ((c & 0xc0) == 0x80)
			continue;
		want = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 1;
		if (want > k)
			off -= k;
		break;
	}
	if (off >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	*line = 1;
	*col = 1;
	for (; i < off; i++) {
		if (s[i] == '\n' || (s[i] == '\r' && (i + 1 >= len || s[i + 1] != '\n'))) {
			(*line)++;
			*col = 1;
		} else if (s[i] != '\r' && (s[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

/* Is ch a flow indicator, or the '?' libyaml also refuses after a ':'? */
static bool
ycolon_next(char ch)
{
	switch (ch) {
	case ',':
	case '[':
	case ']':
	case '{':
	case '}':
	case '?':
		return true;
	default:
		return false;
	}
}

/*
 * Is a ':' after ch worth a stand-in? Not after a flow indicator, where it is
 * the value indicator, nor after a blank or a quote, where it most often is
 * (a quoted key: JSON's "key":[...]); libyaml's refusal finds the others.
 */
static bool
ycolon_prev(char ch)
{
	return ch != '\0' && strchr(" \t\r\n,[]{}\"'", ch) == NULL;
}

/* Put a stand-in for the ':' at byte i; 0 or -ENOMEM. */
static int
ycolon_replace(struct ycolons *c, size_t i)
{
	if (c->mod == NULL) {
		c->mod = malloc(c->len);
		if (c->mod == NULL)
			return -ENOMEM;
		memcpy(c->mod, c->orig, c->len);
	}
	c->mod[i] = YCOLON_STAND_IN;
	return 0;
}

/* Set c up for buf and replace the colons the bytes suggest; 0 or -ENOMEM. */
static int
ycolon_guess(struct ycolons *c, const char *buf, size_t len)
{
	const char *p, *end = buf + len;

	*c = (struct ycolons){ .orig = buf, .len = len, .refused = SIZE_MAX };
	if (len == 0)
		return 0;
	/* UTF-16 (libyaml reads it after its BOM): bytes are not characters. */
	if (len >= 2 && (memcmp(buf, "\xfe\xff", 2) == 0 || memcmp(buf, "\xff\xfe", 2) == 0)) {
		c->off = true;
		return 0;
	}
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		c->first = 3;
	for (p = buf + c->first; p + 1 < end && (p = memchr(p, ':', (size_t)(end - p - 1))); p++) {
		if (p > buf + c->first && ycolon_prev(p[-1]) && ycolon_next(p[1]) &&
		    ycolon_replace(c, (size_t)(p - buf)) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Byte offset of libyaml's character index (marks count characters). */
static size_t
ycolon_byte(struct ycolons *c, size_t index)
{
	const unsigned char *s = (const unsigned char *)c->orig;

	if (index < c->ci) {
		c->ci = 0;
		c->bo = c->first;
	}
	while (c->ci < index && c->bo < c->len) {
		unsigned char ch = s[c->bo];

		c->bo += ch < 0xc0 ? 1 : ch < 0xe0 ? 2 : ch < 0xf0 ? 3 : 4;
		c->ci++;
	}
	return c->bo < c->len ? c->bo : c->len;
}

static bool
ycolon_blank(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/*
 * Put the colons of bytes [i, e) back into val, the value libyaml made of
 * them. A plain scalar's value is its bytes with the blanks and line breaks
 * between words folded, so the non-blank bytes of both match one for one;
 * false when they do not (the stand-ins are then not where they seem).
 */
static bool
ycolon_restore(const struct ycolons *c, size_t i, size_t e, char *val, size_t vlen)
{
	const unsigned char *o = (const unsigned char *)c->orig;
	size_t j = 0;

	for (; i < e; i++) {
		if (ycolon_blank(o[i]))
			continue;
		if (o[i] == 0xc2 && i + 1 < e && o[i + 1] == 0x85) { /* NEL, a line break */
			i++;
			continue;
		}
		while (j < vlen && ycolon_blank((unsigned char)val[j]))
			j++;
		if (j == vlen || val[j] != c->mod[i])
			return false;
		val[j++] = (char)o[i];
	}
	while (j < vlen && ycolon_blank((unsigned char)val[j]))
		j++;
	return j == vlen;
}

/*
 * A scalar of the copy: restore the colons of its value (len bytes at val), or
 * turn back the stand-ins that are not in a plain scalar's value and ask for
 * another pass. Those in the tag of a plain scalar stay: the tag is not kept.
 */
static void
ycolon_scalar(struct ycolons *c, const yaml_event_t *ev, char *val, size_t len)
{
	size_t s = ycolon_byte(c, ev->start_mark.index);
	size_t e = ycolon_byte(c, ev->end_mark.index);
	size_t v = s, i;

	if (e <= s || memcmp(c->mod + s, c->orig + s, e - s) == 0)
		return;
	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		/* A node's marks start at its tag: the value is after it. */
		if (ev->data.scalar.tag != NULL) {
			while (v < e && !ycolon_blank((unsigned char)c->orig[v]))
				v++;
			while (v < e && ycolon_blank((unsigned char)c->orig[v]))
				v++;
		}
		if (v < e && c->mod[v] == c->orig[v] && ycolon_restore(c, v, e, val, len))
			return;
	}
	for (i = s; i < e; i++)
		c->mod[i] = c->orig[i];
	c->bad = true;
}

static int
ylibyaml_error(struct ybuild *b, const yaml_parser_t *p, const char *buf, size_t len)
{
	const char *problem = p->problem != NULL ? p->problem : "invalid YAML";
	unsigned int line, col;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return ynomem(b);
	case YAML_READER_ERROR:
		offset_pos(buf, len, p->problem_offset, &line, &col);
		return yerr_at(b, line, col, "%s", problem);
	default:
		break;
	}
	/* A colon go-yaml keeps in the scalar: the caller replaces it, parses again. */
	if (b->col != NULL && !b->col->off && p->error == YAML_SCANNER_ERROR &&
	    strcmp(problem, YAML_FLOW_COLON) == 0) {
		size_t off = ycolon_byte(b->col, p->problem_mark.index);

		if (off < len && buf[off] == ':')
			b->col->refused = off;
	}
	if (p->context != NULL)
		return yerr_at(b, mark_line(&p->problem_mark), mark_col(&p->problem_mark),
			       "%s (%s started at %u:%u)", problem, p->context,
			       mark_line(&p->context_mark), mark_col(&p->context_mark));
	return yerr_at(b, mark_line(&p->problem_mark), mark_col(&p->problem_mark), "%s", problem);
}

static int
new_node(struct ybuild *b, enum ynode_type type, const yaml_mark_t *m, struct ynode **out)
{
	struct ynode *n;

	if (b->n_nodes >= YDOC_MAX_NODES)
		return yerr_at(b, mark_line(m), mark_col(m), "too many nodes (limit %u)",
			       YDOC_MAX_NODES);
	n = arena_alloc(b->arena, sizeof(*n));
	if (n == NULL)
		return ynomem(b);
	b->n_nodes++;
	*n = (struct ynode){
		.type = type,
		.line = mark_line(m),
		.col = mark_col(m),
	};
	*out = n;
	return 0;
}

/* Hang a new node under the innermost open collection, or make it the root. */
static int
attach(struct ybuild *b, struct ynode *n)
{
	struct ylevel *lv;

	if (b->depth == 0) {
		b->docs[b->n_docs - 1].root = n;
		return 0;
	}
	lv = &b->lv[b->depth - 1];
	if (lv->node->type == YNODE_MAP && lv->n % 2 == 0 && n->type != YNODE_SCALAR)
		return yerr_at(b, n->line, n->col, "mapping keys must be scalars");
	if (lv->n == lv->cap) {
		size_t cap = lv->cap != 0 ? lv->cap * 2 : 16;
		struct ynode **items = realloc(lv->items, cap * sizeof(*items));

		if (items == NULL)
			return ynomem(b);
		lv->items = items;
		lv->cap = cap;
	}
	lv->items[lv->n++] = n;
	return 0;
}

static bool
key_eq(const struct ynode *a, const struct ynode *b)
{
	return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
}

static int
ykey_cmp(const void *pa, const void *pb)
{
	const struct ykey *a = pa, *b = pb;
	size_t n = a->key->len < b->key->len ? a->key->len : b->key->len;
	int c = memcmp(a->key->str, b->key->str, n);

	if (c != 0)
		return c;
	if (a->key->len != b->key->len)
		return a->key->len < b->key->len ? -1 : 1;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/*
 * The key that repeats an earlier one, first in document order, or NULL.
 * items holds a mapping of n pairs: key0, value0, key1, value1, ...
 */
static int
find_dup(struct ybuild *b, struct ynode *const *items, size_t n, const struct ynode **dup)
{
	struct ykey *keys;
	size_t i, j, best = SIZE_MAX;

	*dup = NULL;
	if (n <= DUP_LINEAR_MAX) {
		for (j = 1; j < n; j++)
			for (i = 0; i < j; i++)
				if (key_eq(items[2 * i], items[2 * j])) {
					*dup = items[2 * j];
					return 0;
				}
		return 0;
	}
	keys = malloc(n * sizeof(*keys));
	if (keys == NULL)
		return ynomem(b);
	for (i = 0; i < n; i++)
		keys[i] = (struct ykey){ .key = items[2 * i], .idx = i };
	qsort(keys, n, sizeof(*keys), ykey_cmp);
	/* In a run of equal keys the second entry is the first repetition. */
	for (i = 1; i < n; i++)
		if (key_eq(keys[i - 1].key, keys[i].key) &&
		    (i < 2 || !key_eq(keys[i - 2].key, keys[i].key)) && keys[i].idx < best)
			best = keys[i].idx;
	if (best != SIZE_MAX)
		*dup = items[2 * best];
	free(keys);
	return 0;
}

static int
on_scalar(struct ybuild *b, const yaml_event_t *ev)
{
	const yaml_mark_t *m = &ev->start_mark;
	size_t len = ev->data.scalar.length;
	struct ynode *n = NULL;
	char *str;
	int rc;

	if (ev->data.scalar.anchor != NULL)
		return yerr_at(b, mark_line(m), mark_col(m),
			       "anchors and aliases are not supported");
	if (len > YDOC_MAX_SCALAR)
		return yerr_at(b, mark_line(m), mark_col(m),
			       "scalar too large (%zu bytes, limit %u)", len, YDOC_MAX_SCALAR);
	rc = new_node(b, YNODE_SCALAR, m, &n);
	if (rc < 0)
		return rc;
	n->plain = ev->data.scalar.plain_implicit;
	n->len = len;
	str = arena_strndup(b->arena, (const char *)ev->data.scalar.value, len);
	if (str == NULL)
		return ynomem(b);
	if (b->col != NULL && b->col->mod != NULL)
		ycolon_scalar(b->col, ev, str, len);
	n->str = str;
	return attach(b, n);
}

static int
on_start(struct ybuild *b, const yaml_event_t *ev, enum ynode_type type)
{
	const yaml_mark_t *m = &ev->start_mark;
	const yaml_char_t *anchor =
		type == YNODE_MAP ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
	struct ylevel *lv;
	struct ynode *n = NULL;
	int rc;

	if (anchor != NULL)
		return yerr_at(b, mark_line(m), mark_col(m),
			       "anchors and aliases are not supported");
	if (b->depth == YDOC_MAX_DEPTH)
		return yerr_at(b, mark_line(m), mark_col(m), "nesting too deep (limit %d levels)",
			       YDOC_MAX_DEPTH);
	rc = new_node(b, type, m, &n);
	if (rc < 0)
		return rc;
	rc = attach(b, n);
	if (rc < 0)
		return rc;
	lv = &b->lv[b->depth++];
	lv->node = n;
	lv->n = 0;
	return 0;
}

static int
on_end(struct ybuild *b)
{
	struct ylevel *lv = &b->lv[--b->depth];
	struct ynode *n = lv->node;
	const struct ynode *dup;
	char q[YQUOTE_SIZE(QUOTE_MAX)];
	int rc;

	if (lv->n == 0)
		return 0;
	if (n->type == YNODE_MAP) {
		rc = find_dup(b, lv->items, lv->n / 2, &dup);
		if (rc < 0)
			return rc;
		if (dup != NULL) {
			return yerr_at(b, dup->line, dup->col, "duplicate key %s",
				       yquote(q, dup->str, dup->len, QUOTE_MAX));
		}
	}
	n->items = arena_alloc(b->arena, lv->n * sizeof(*n->items));
	if (n->items == NULL)
		return ynomem(b);
	memcpy(n->items, lv->items, lv->n * sizeof(*n->items));
	n->n = n->type == YNODE_MAP ? lv->n / 2 : lv->n;
	return 0;
}

static int
on_doc_start(struct ybuild *b, const yaml_event_t *ev)
{
	const yaml_version_directive_t *v = ev->data.document_start.version_directive;

	/*
	 * go-yaml (kubectl, Istio) reads YAML 1.1 only and refuses any other
	 * %YAML directive; libyaml also takes 1.2. The event starts at the
	 * directive, where go-yaml reports it.
	 */
	if (v != NULL && (v->major != 1 || v->minor != 1))
		return yerr_at(b, mark_line(&ev->start_mark), mark_col(&ev->start_mark),
			       "found incompatible YAML document (version 1.1 is required, got "
			       "%d.%d)",
			       v->major, v->minor);
	if (b->n_docs == b->cap_docs) {
		size_t cap = b->cap_docs != 0 ? b->cap_docs * 2 : 4;
		struct ydoc *docs = realloc(b->docs, cap * sizeof(*docs));

		if (docs == NULL)
			return ynomem(b);
		b->docs = docs;
		b->cap_docs = cap;
	}
	b->docs[b->n_docs] = (struct ydoc){
		.index = (unsigned int)b->n_docs,
		.line = mark_line(&ev->start_mark),
	};
	b->n_docs++;
	return 0;
}

static int
on_event(struct ybuild *b, const yaml_event_t *ev)
{
	struct ydoc *d;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		return on_doc_start(b, ev);
	case YAML_DOCUMENT_END_EVENT:
		/* "---" alone, or a null: an empty document. */
		d = &b->docs[b->n_docs - 1];
		if (d->root != NULL && d->root->type == YNODE_SCALAR && ynode_is_null(d->root))
			d->root = NULL;
		return 0;
	case YAML_ALIAS_EVENT:
		return yerr_at(b, mark_line(&ev->start_mark), mark_col(&ev->start_mark),
			       "anchors and aliases are not supported");
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(b, ev, YNODE_SEQ);
	case YAML_MAPPING_START_EVENT:
		return on_start(b, ev, YNODE_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(b);
	default:
		return 0;
	}
}

/*
 * One parse of buf (the caller's bytes, or col's copy) into yf. Returns 0,
 * -EINVAL (the content was refused, one error in dl) or -ENOMEM; on failure
 * yf is left empty.
 */
static int
parse_once(struct yfile *yf, const char *name, const char *buf, size_t len, struct ycolons *col,
	   struct diag_list *dl)
{
	struct ybuild b = {
		.name = name,
		.col = col,
		.dl = dl,
	};
	yaml_parser_t parser;
	yaml_event_t ev;
	unsigned int i;
	int rc = 0;

	memset(yf, 0, sizeof(*yf));
	if (col != NULL) {
		col->ci = 0;
		col->bo = col->first;
		col->refused = SIZE_MAX;
		col->bad = false;
	}
	b.arena = calloc(1, sizeof(*b.arena));
	if (b.arena == NULL)
		return ynomem(&b);
	if (name != NULL) {
		yf->path = arena_strndup(b.arena, name, strlen(name));
		if (yf->path == NULL) {
			rc = ynomem(&b);
			goto out_arena;
		}
	}
	if (!yaml_parser_initialize(&parser)) {
		rc = ynomem(&b);
		goto out_arena;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)(buf != NULL ? buf : ""), len);
	for (;;) {
		bool done;

		if (!yaml_parser_parse(&parser, &ev)) {
			rc = ylibyaml_error(&b, &parser, buf, len);
			break;
		}
		rc = on_event(&b, &ev);
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
		if (rc < 0 || done)
			break;
	}
	yaml_parser_delete(&parser);
	for (i = 0; i < YDOC_MAX_DEPTH; i++)
		free(b.lv[i].items);
	if (rc < 0)
		goto out_docs;
	yf->docs = b.docs;
	yf->n_docs = b.n_docs;
	yf->arena = b.arena;
	return 0;

out_docs:
	free(b.docs);
out_arena:
	arena_free(b.arena);
	memset(yf, 0, sizeof(*yf));
	return rc;
}

/*
 * yf is overwritten, not freed: call yfile_free() first to reuse one.
 * Returns 0, -EINVAL (the content was refused, one error in dl) or -ENOMEM.
 * Only the last pass's diagnostics reach dl (see "Colons in flow scalars").
 */
int
yfile_parse(struct yfile *yf, const char *name, const char *buf, size_t len, struct diag_list *dl)
{
	struct ybuild b = {
		.name = name,
		.dl = dl,
	};
	struct diag_list pass_dl = { 0 };
	struct ycolons col;
	unsigned int pass;
	int rc;

	memset(yf, 0, sizeof(*yf));
	if (buf == NULL && len != 0)
		return -EINVAL;
	if (len > YDOC_MAX_FILE)
		return yerr_at(&b, 0, 0, "file too large (%zu bytes, limit %u)", len,
			       YDOC_MAX_FILE);
	if (ycolon_guess(&col, buf, len) < 0) {
		rc = ynomem(&b);
		goto out;
	}
	for (pass = 1;; pass++) {
		rc = parse_once(yf, name, col.mod != NULL ? col.mod : buf, len, &col, &pass_dl);
		/* The last pass may end on a refused colon: that error is true. */
		if (!col.bad && (col.refused == SIZE_MAX || pass == YCOLON_PASSES))
			break;
		yfile_free(yf);
		diag_list_clear(&pass_dl);
		if (pass == YCOLON_PASSES) {
			/* Stand-ins still misplaced: what libyaml says of the bytes as they are. */
			rc = parse_once(yf, name, buf, len, NULL, &pass_dl);
			break;
		}
		if (col.refused != SIZE_MAX && ycolon_replace(&col, col.refused) < 0) {
			rc = ynomem(&b);
			break;
		}
	}
	diag_move(dl, &pass_dl);
out:
	free(col.mod);
	return rc;
}

/* Read at most YDOC_MAX_FILE + 1 bytes of fd into a malloc'd buffer. */
static int
read_all(int fd, const struct stat *st, char **out, size_t *out_len)
{
	size_t cap = READ_CHUNK, len = 0;
	char *buf, *nbuf;

	if (S_ISREG(st->st_mode) && st->st_size >= 0 && (uint64_t)st->st_size < YDOC_MAX_FILE)
		cap = (size_t)st->st_size + 1;
	buf = malloc(cap);
	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (len == cap) {
			if (cap > YDOC_MAX_FILE)
				break;
			cap = cap * 2 > YDOC_MAX_FILE + 1 ? YDOC_MAX_FILE + 1 : cap * 2;
			nbuf = realloc(buf, cap);
			if (nbuf == NULL) {
				free(buf);
				return -ENOMEM;
			}
			buf = nbuf;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			free(buf);
			return -err;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	*out = buf;
	*out_len = len;
	return 0;
}

int
yfile_load(struct yfile *yf, const char *path, struct diag_list *dl)
{
	struct stat st;
	size_t len = 0;
	char *buf = NULL;
	int fd, rc;

	memset(yf, 0, sizeof(*yf));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		diag_add(dl, DIAG_ERROR, path, 0, 0, "cannot open: %s", strerror(-rc));
		return rc;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		diag_add(dl, DIAG_ERROR, path, 0, 0, "cannot read: %s", strerror(-rc));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = -EISDIR;
		diag_add(dl, DIAG_ERROR, path, 0, 0, "cannot read: %s", strerror(-rc));
		goto out;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > YDOC_MAX_FILE) {
		rc = -EINVAL;
		diag_add(dl, DIAG_ERROR, path, 0, 0, "file too large (%llu bytes, limit %u)",
			 (unsigned long long)st.st_size, YDOC_MAX_FILE);
		goto out;
	}
	rc = read_all(fd, &st, &buf, &len);
	if (rc < 0) {
		diag_add(dl, DIAG_ERROR, path, 0, 0, "cannot read: %s", strerror(-rc));
		goto out;
	}
	rc = yfile_parse(yf, path, buf, len, dl);
	free(buf);
out:
	close(fd);
	return rc;
}

void
yfile_free(struct yfile *yf)
{
	if (yf == NULL)
		return;
	free(yf->docs);
	arena_free(yf->arena);
	memset(yf, 0, sizeof(*yf));
}

/* Index of the pair whose key is key, or SIZE_MAX. */
static size_t
ymap_find(const struct ynode *map, const char *key)
{
	size_t klen, i;

	if (map == NULL || map->type != YNODE_MAP || key == NULL)
		return SIZE_MAX;
	klen = strlen(key);
	for (i = 0; i < map->n; i++) {
		const struct ynode *k = map->items[2 * i];

		if (k->len == klen && memcmp(k->str, key, klen) == 0)
			return i;
	}
	return SIZE_MAX;
}

const struct ynode *
ymap_key(const struct ynode *map, const char *key)
{
	size_t i = ymap_find(map, key);

	return i != SIZE_MAX ? map->items[2 * i] : NULL;
}

const struct ynode *
ymap_get(const struct ynode *map, const char *key)
{
	size_t i = ymap_find(map, key);

	return i != SIZE_MAX ? map->items[2 * i + 1] : NULL;
}

bool
ynode_is_null(const struct ynode *n)
{
	if (n == NULL)
		return true;
	if (n->type != YNODE_SCALAR || !n->plain)
		return false;
	return n->len == 0 || strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0 ||
	       strcmp(n->str, "Null") == 0 || strcmp(n->str, "NULL") == 0;
}
