/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libyaml events -> a bounded, read-only tree.
 *
 * Every node and string lives in one arena that the yfile owns. The only
 * other allocations are the docs array, while a collection is open one item
 * vector and one of positions per nesting level (at most YDOC_MAX_DEPTH of
 * each, reused), the current document's anchor tree, and the scratch of a
 * duplicate check or a merge, freed when it is done.
 * Parsing stops at the first problem: a refused file gives exactly one error
 * and no tree, and hostile input is never read past the first limit it breaks.
 *
 * Duplicate keys are found when a mapping ends: pairwise for small mappings,
 * by sorting for large ones (O(n log n) whatever the keys, no hash to flood).
 *
 * Anchors, aliases and merge keys, as go-yaml reads them. An alias is the
 * anchored node itself (shared, never copied), so it keeps the anchor's
 * position; what is said of the alias (unknown anchor, a key that repeats,
 * the bound below) is said at the alias. Anchors are per document, a later
 * one of the same name replaces an earlier one, and they are found in a
 * balanced tree (tsearch(): O(log n) whatever the names). An anchored node is
 * usable once complete: an alias inside it is refused, as go-yaml refuses it.
 * The bound: each node's expanded size is 1 + its children's, an alias
 * counting as its target's; the file's total is kept as it is read and may
 * not pass YDOC_MAX_NODES, so no walk of the tree, aliases followed, visits
 * more nodes than that (the "billion laughs" stops at the alias that passes
 * it). A merge key ("<<", plain or tagged !!merge) takes a mapping, an alias
 * to one, or a sequence of those; when the mapping ends its pairs are applied
 * in order as go-yaml v2 applies them, later over earlier, a sequence's maps
 * last to first: the mapping's own keys after "<<" win, and so do earlier
 * maps of a sequence. What is left is a plain mapping; its size is counted as
 * written (merged maps whole), an upper bound of what it holds.
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
#include <search.h>
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
#define YAML_MERGE_TAG "tag:yaml.org,2002:merge"
#define NO_MERGE       SIZE_MAX

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

/* Where a node was written: an alias's own position, not its target's. */
struct ypos {
	unsigned int line;
	unsigned int col;
};

/* An anchor of the current document. */
struct yanchor {
	const char *name;
	size_t len;
	struct ynode *node;
	size_t size;   /* expanded nodes, once complete */
	bool complete; /* its node has ended: aliases may use it */
};

/* A collection being built: its node and, until it ends, its items. */
struct ylevel {
	struct ynode *node;
	struct ynode **items;
	struct ypos *pos; /* where each item was written */
	size_t n;
	size_t cap;
	struct yanchor *anchor; /* the node's anchor, or NULL */
	size_t start;           /* expanded nodes before this one */
	size_t merge;           /* pair index of the merge key, or NO_MERGE */
	bool merge_seq;         /* a sequence of maps to merge */
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
	size_t expanded;    /* nodes so far, aliases expanded */
	void *anchors;      /* tsearch() tree of struct yanchor, this document's */
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

	if (b->expanded >= YDOC_MAX_NODES)
		return yerr_at(b, mark_line(m), mark_col(m), "too many nodes (limit %u)",
			       YDOC_MAX_NODES);
	n = arena_alloc(b->arena, sizeof(*n));
	if (n == NULL)
		return ynomem(b);
	b->expanded++;
	*n = (struct ynode){
		.type = type,
		.line = mark_line(m),
		.col = mark_col(m),
	};
	*out = n;
	return 0;
}

/* Byte strings in the order the sorts and the anchor tree use. */
static int
bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int
yanchor_cmp(const void *pa, const void *pb)
{
	const struct yanchor *a = pa, *b = pb;

	return bytes_cmp(a->name, a->len, b->name, b->len);
}

/* tdestroy(): the anchors live in the arena. */
static void
yanchor_keep(void *p)
{
	(void)p;
}

static void
yanchors_clear(struct ybuild *b)
{
	tdestroy(b->anchors, yanchor_keep);
	b->anchors = NULL;
}

/* The anchor named name, or NULL. */
static struct yanchor *
yanchor_find(struct ybuild *b, const yaml_char_t *name)
{
	struct yanchor key = { .name = (const char *)name, .len = strlen((const char *)name) };
	void *const *found = tfind(&key, &b->anchors, yanchor_cmp);

	return found != NULL ? *found : NULL;
}

/* Name n by anchor (replacing an earlier one of the same name); *out: the record. */
static int
yanchor_define(struct ybuild *b, const yaml_char_t *name, struct ynode *n, struct yanchor **out)
{
	size_t len = strlen((const char *)name);
	struct yanchor *a = arena_alloc(b->arena, sizeof(*a));
	struct yanchor **slot;

	if (a == NULL)
		return ynomem(b);
	*a = (struct yanchor){ .len = len, .node = n };
	a->name = arena_strndup(b->arena, (const char *)name, len);
	if (a->name == NULL)
		return ynomem(b);
	slot = tsearch(a, &b->anchors, yanchor_cmp);
	if (slot == NULL)
		return ynomem(b);
	*slot = a; /* same name, same place in the tree */
	*out = a;
	return 0;
}

/* Is lv a mapping whose next item is the value of its merge key? */
static bool
merge_value_next(const struct ylevel *lv)
{
	return lv->node->type == YNODE_MAP && lv->n % 2 == 1 && lv->merge == lv->n / 2;
}

/*
 * Hang a node under the innermost open collection, or make it the root. at is
 * where it was written; alias: n was reached through an alias.
 */
static int
attach(struct ybuild *b, struct ynode *n, struct ypos at, bool alias)
{
	struct ylevel *lv;

	if (b->depth == 0) {
		b->docs[b->n_docs - 1].root = n;
		return 0;
	}
	lv = &b->lv[b->depth - 1];
	if (lv->node->type == YNODE_MAP && lv->n % 2 == 0 && n->type != YNODE_SCALAR)
		return yerr_at(b, at.line, at.col, "mapping keys must be scalars");
	/* go-yaml: a mapping, an alias to one, or a sequence of those. */
	if ((merge_value_next(lv) && n->type != YNODE_MAP && (alias || n->type != YNODE_SEQ)) ||
	    (lv->merge_seq && n->type != YNODE_MAP))
		return yerr_at(b, at.line, at.col,
			       "map merge requires map or sequence of maps as the value");
	if (lv->n == lv->cap) {
		size_t cap = lv->cap != 0 ? lv->cap * 2 : 16;
		struct ynode **items = realloc(lv->items, cap * sizeof(*items));
		struct ypos *pos;

		if (items == NULL)
			return ynomem(b);
		lv->items = items;
		pos = realloc(lv->pos, cap * sizeof(*pos));
		if (pos == NULL)
			return ynomem(b);
		lv->pos = pos;
		lv->cap = cap;
	}
	lv->items[lv->n] = n;
	lv->pos[lv->n++] = at;
	return 0;
}

static struct ypos
mark_pos(const yaml_mark_t *m)
{
	return (struct ypos){ mark_line(m), mark_col(m) };
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
	int c = bytes_cmp(a->key->str, a->key->len, b->key->str, b->key->len);

	if (c != 0)
		return c;
	return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/*
 * Index of the pair whose key repeats an earlier one, first in document order,
 * or SIZE_MAX in *dup. items holds a mapping of n pairs: key0, value0, ...
 */
static int
find_dup(struct ybuild *b, struct ynode *const *items, size_t n, size_t *dup)
{
	struct ykey *keys;
	size_t i, j, best = SIZE_MAX;

	*dup = SIZE_MAX;
	if (n <= DUP_LINEAR_MAX) {
		for (j = 1; j < n; j++)
			for (i = 0; i < j; i++)
				if (key_eq(items[2 * i], items[2 * j])) {
					*dup = j;
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
	*dup = best;
	free(keys);
	return 0;
}

/* A pair of a mapping being merged; prio: which wins among equal keys. */
struct ymerge {
	struct ynode *key;
	struct ynode *value;
	size_t prio;
	bool keep;
};

static int
ymerge_cmp(const void *pa, const void *pb)
{
	const struct ymerge *a = *(const struct ymerge *const *)pa;
	const struct ymerge *b = *(const struct ymerge *const *)pb;
	int c = bytes_cmp(a->key->str, a->key->len, b->key->str, b->key->len);

	if (c != 0)
		return c;
	if (a->prio != b->prio)
		return a->prio > b->prio ? -1 : 1;
	return a < b ? -1 : a > b;
}

/*
 * The pairs of lv's mapping with its merge key applied (see the top of this
 * file), into its node. Precedence, highest first: the pairs after "<<", the
 * merged maps in their order, the pairs before "<<". The pairs that win stay
 * in written order, the merged ones where "<<" was.
 */
static int
merge_map(struct ybuild *b, struct ylevel *lv)
{
	struct ynode *n = lv->node, *v = lv->items[2 * lv->merge + 1];
	struct ynode *const *maps = v->type == YNODE_MAP ? &v : v->items;
	size_t n_maps = v->type == YNODE_MAP ? 1 : v->n;
	size_t total = lv->n / 2 - 1, i, j, k = 0, kept = 0;
	struct ymerge *c, **ord;
	int rc = 0;

	for (i = 0; i < n_maps; i++)
		total += maps[i]->n;
	c = malloc(total * sizeof(*c) + 1);
	ord = malloc(total * sizeof(*ord) + 1);
	if (c == NULL || ord == NULL) {
		rc = ynomem(b);
		goto out;
	}
	for (i = 0; i < lv->merge; i++)
		c[k++] = (struct ymerge){ lv->items[2 * i], lv->items[2 * i + 1], 0, false };
	for (i = 0; i < n_maps; i++)
		for (j = 0; j < maps[i]->n; j++)
			c[k++] = (struct ymerge){ maps[i]->items[2 * j], maps[i]->items[2 * j + 1],
						  n_maps - i, false };
	for (i = lv->merge + 1; i < lv->n / 2; i++)
		c[k++] = (struct ymerge){ lv->items[2 * i], lv->items[2 * i + 1], SIZE_MAX, false };
	for (i = 0; i < total; i++)
		ord[i] = &c[i];
	qsort(ord, total, sizeof(*ord), ymerge_cmp);
	for (i = 0; i < total; i++) {
		ord[i]->keep = i == 0 || !key_eq(ord[i - 1]->key, ord[i]->key);
		kept += ord[i]->keep;
	}
	n->n = kept;
	if (kept == 0)
		goto out;
	n->items = arena_alloc(b->arena, 2 * kept * sizeof(*n->items));
	if (n->items == NULL) {
		rc = ynomem(b);
		goto out;
	}
	for (i = 0, k = 0; i < total; i++)
		if (c[i].keep) {
			n->items[k++] = c[i].key;
			n->items[k++] = c[i].value;
		}
out:
	free(c);
	free(ord);
	return rc;
}

/* Is this scalar event a merge key where it stands (go-yaml's isMerge())? */
static bool
is_merge_key(const struct ybuild *b, const yaml_event_t *ev)
{
	const struct ylevel *lv = b->depth > 0 ? &b->lv[b->depth - 1] : NULL;
	const char *tag = (const char *)ev->data.scalar.tag;

	return lv != NULL && lv->node->type == YNODE_MAP && lv->n % 2 == 0 &&
	       ev->data.scalar.length == 2 && memcmp(ev->data.scalar.value, "<<", 2) == 0 &&
	       (ev->data.scalar.plain_implicit ||
		(tag != NULL && strcmp(tag, YAML_MERGE_TAG) == 0));
}

static int
on_scalar(struct ybuild *b, const yaml_event_t *ev)
{
	const yaml_mark_t *m = &ev->start_mark;
	size_t len = ev->data.scalar.length;
	struct ynode *n = NULL;
	struct yanchor *a;
	char *str;
	int rc;

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
	if (ev->data.scalar.anchor != NULL) {
		rc = yanchor_define(b, ev->data.scalar.anchor, n, &a);
		if (rc < 0)
			return rc;
		a->size = 1;
		a->complete = true;
	}
	if (is_merge_key(b, ev))
		b->lv[b->depth - 1].merge = b->lv[b->depth - 1].n / 2;
	return attach(b, n, mark_pos(m), false);
}

static int
on_alias(struct ybuild *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct ypos at = mark_pos(&ev->start_mark);
	struct yanchor *a = yanchor_find(b, ev->data.alias.anchor);
	/* Anchor names are [0-9A-Za-z_-] (libyaml): shown as they are, cut. */
	size_t len = strlen(name);
	int shown = len > QUOTE_MAX ? QUOTE_MAX : (int)len;
	const char *cut = len > QUOTE_MAX ? "..." : "";

	if (a == NULL)
		return yerr_at(b, at.line, at.col, "unknown anchor '%.*s%s' referenced", shown,
			       name, cut);
	if (!a->complete)
		return yerr_at(b, at.line, at.col, "anchor '%.*s%s' value contains itself", shown,
			       name, cut);
	if (a->size > YDOC_MAX_NODES - b->expanded)
		return yerr_at(
			b, at.line, at.col,
			"too many nodes (limit %u, aliases expanded): *%.*s%s adds %zu to %zu",
			YDOC_MAX_NODES, shown, name, cut, a->size, b->expanded);
	b->expanded += a->size;
	return attach(b, a->node, at, true);
}

static int
on_start(struct ybuild *b, const yaml_event_t *ev, enum ynode_type type)
{
	const yaml_mark_t *m = &ev->start_mark;
	const yaml_char_t *anchor =
		type == YNODE_MAP ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
	bool merge_seq =
		type == YNODE_SEQ && b->depth > 0 && merge_value_next(&b->lv[b->depth - 1]);
	size_t start = b->expanded;
	struct yanchor *a = NULL;
	struct ylevel *lv;
	struct ynode *n = NULL;
	int rc;

	if (b->depth == YDOC_MAX_DEPTH)
		return yerr_at(b, mark_line(m), mark_col(m), "nesting too deep (limit %d levels)",
			       YDOC_MAX_DEPTH);
	rc = new_node(b, type, m, &n);
	if (rc < 0)
		return rc;
	if (anchor != NULL) {
		rc = yanchor_define(b, anchor, n, &a);
		if (rc < 0)
			return rc;
	}
	rc = attach(b, n, mark_pos(m), false);
	if (rc < 0)
		return rc;
	lv = &b->lv[b->depth++];
	lv->node = n;
	lv->n = 0;
	lv->anchor = a;
	lv->start = start;
	lv->merge = NO_MERGE;
	lv->merge_seq = merge_seq;
	return 0;
}

static int
on_end(struct ybuild *b)
{
	struct ylevel *lv = &b->lv[--b->depth];
	struct ynode *n = lv->node;
	char q[YQUOTE_SIZE(QUOTE_MAX)];
	size_t dup;
	int rc;

	if (n->type == YNODE_MAP && lv->n > 0) {
		rc = find_dup(b, lv->items, lv->n / 2, &dup);
		if (rc < 0)
			return rc;
		if (dup != SIZE_MAX) {
			const struct ynode *k = lv->items[2 * dup];

			return yerr_at(b, lv->pos[2 * dup].line, lv->pos[2 * dup].col,
				       "duplicate key %s", yquote(q, k->str, k->len, QUOTE_MAX));
		}
	}
	if (lv->merge != NO_MERGE) {
		rc = merge_map(b, lv);
		if (rc < 0)
			return rc;
	} else if (lv->n > 0) {
		n->items = arena_alloc(b->arena, lv->n * sizeof(*n->items));
		if (n->items == NULL)
			return ynomem(b);
		memcpy(n->items, lv->items, lv->n * sizeof(*n->items));
		n->n = n->type == YNODE_MAP ? lv->n / 2 : lv->n;
	}
	if (lv->anchor != NULL) {
		lv->anchor->size = b->expanded - lv->start;
		lv->anchor->complete = true;
	}
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
	yanchors_clear(b); /* anchors are per document, as in go-yaml */
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
		return on_alias(b, ev);
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
	yanchors_clear(&b);
	for (i = 0; i < YDOC_MAX_DEPTH; i++) {
		free(b.lv[i].items);
		free(b.lv[i].pos);
	}
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
