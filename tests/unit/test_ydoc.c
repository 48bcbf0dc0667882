/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of lib/yaml: ydoc (the tree and its positions, multi-document
 * streams, every limit on hostile input with its exact message), yquote(),
 * and yreader (the path, diagnostics, and every getter of both families with
 * its exact message and position).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_common.h"

#include "ydoc.h"
#include "yreader.h"

static int
parse_str(struct yfile *yf, struct diag_list *dl, const char *text)
{
	return yfile_parse(yf, "t.yaml", text, strlen(text), dl);
}

/* The buffer is refused with exactly one diagnostic, formatted as expected. */
static void
expect_refused(const char *buf, size_t len, const char *expected)
{
	struct diag_list dl = { 0 };
	struct yfile yf;
	char out[512];

	assert_int_equal(yfile_parse(&yf, "t.yaml", buf, len, &dl), -EINVAL);
	assert_int_equal(dl.n, 1);
	assert_int_equal(diag_errors(&dl), 1);
	diag_format(&dl.v[0], out, sizeof(out));
	assert_string_equal(out, expected);
	/* No tree is left behind. */
	assert_int_equal(yf.n_docs, 0);
	assert_null(yf.docs);
	assert_null(yf.arena);
	assert_null(yf.path);
	yfile_free(&yf);
	diag_list_clear(&dl);
}

static void
expect_refused_str(const char *text, const char *expected)
{
	expect_refused(text, strlen(text), expected);
}

static void
assert_scalar(const struct ynode *n, const char *str, unsigned int line, unsigned int col,
	      bool plain)
{
	assert_non_null(n);
	assert_int_equal(n->type, YNODE_SCALAR);
	assert_string_equal(n->str, str);
	assert_int_equal(n->len, strlen(str));
	assert_int_equal(n->line, line);
	assert_int_equal(n->col, col);
	assert_int_equal(n->plain, plain);
}

/* count copies of pat, then tail: a malloc'd buffer and its length. */
static char *
repeat(const char *head, const char *pat, size_t count, const char *tail, size_t *len)
{
	size_t hl = strlen(head), pl = strlen(pat), tl = strlen(tail), i;
	char *buf = malloc(hl + pl * count + tl + 1);

	assert_non_null(buf);
	memcpy(buf, head, hl);
	for (i = 0; i < count; i++)
		memcpy(buf + hl + i * pl, pat, pl);
	memcpy(buf + hl + pl * count, tail, tl + 1);
	*len = hl + pl * count + tl;
	return buf;
}

static void
test_tree(void **state)
{
	const char *text = "name: cart\n"
			   "ports:\n"
			   "  - 6379\n"
			   "  - \"redis\"\n"
			   "nested: {a: [1, 'two'], b: ~}\n"
			   "empty: []\n"
			   "block: |\n"
			   "  line one\n"
			   "  line two\n";
	const struct ynode *root, *ports, *nested, *a, *empty;
	struct diag_list dl = { 0 };
	struct yfile yf;

	(void)state;
	assert_int_equal(parse_str(&yf, &dl, text), 0);
	assert_int_equal(dl.n, 0);
	assert_string_equal(yf.path, "t.yaml");
	assert_int_equal(yf.n_docs, 1);
	assert_int_equal(yf.docs[0].index, 0);
	assert_int_equal(yf.docs[0].line, 1);
	root = yf.docs[0].root;
	assert_non_null(root);
	assert_int_equal(root->type, YNODE_MAP);
	assert_int_equal(root->n, 5);
	assert_int_equal(root->line, 1);
	assert_int_equal(root->col, 1);
	assert_null(root->str);

	assert_scalar(ymap_key(root, "name"), "name", 1, 1, true);
	assert_scalar(ymap_get(root, "name"), "cart", 1, 7, true);
	assert_string_equal(ynode_str(ymap_get(root, "name")), "cart");

	ports = ymap_get(root, "ports");
	assert_int_equal(ports->type, YNODE_SEQ);
	assert_int_equal(ports->n, 2);
	assert_int_equal(ports->line, 3);
	assert_int_equal(ports->col, 3);
	assert_scalar(ports->items[0], "6379", 3, 5, true);
	assert_scalar(ports->items[1], "redis", 4, 5, false);
	assert_null(ynode_str(ports));

	nested = ymap_get(root, "nested");
	assert_int_equal(nested->type, YNODE_MAP);
	assert_int_equal(nested->line, 5);
	assert_int_equal(nested->col, 9);
	a = ymap_get(nested, "a");
	assert_int_equal(a->type, YNODE_SEQ);
	assert_int_equal(a->n, 2);
	assert_scalar(a->items[0], "1", 5, 14, true);
	assert_scalar(a->items[1], "two", 5, 17, false);
	assert_scalar(ymap_get(nested, "b"), "~", 5, 28, true);
	assert_true(ynode_is_null(ymap_get(nested, "b")));

	empty = ymap_get(root, "empty");
	assert_int_equal(empty->type, YNODE_SEQ);
	assert_int_equal(empty->n, 0);
	assert_null(empty->items);

	assert_scalar(ymap_get(root, "block"), "line one\nline two\n", 7, 8, false);

	assert_null(ymap_get(root, "missing"));
	assert_null(ymap_key(root, "missing"));
	assert_null(ymap_get(ports, "name"));
	assert_null(ymap_get(NULL, "name"));
	assert_null(ynode_str(NULL));

	yfile_free(&yf);
	assert_null(yf.docs);
	assert_int_equal(yf.n_docs, 0);
	diag_list_clear(&dl);
}

static void
test_nulls(void **state)
{
	const char *text = "a:\nb: ~\nc: null\nd: Null\ne: NULL\nf: \"null\"\ng: ''\n"
			   "h: nil\ni: {}\nj: !!str null\n";
	struct diag_list dl = { 0 };
	const struct ynode *root;
	struct yfile yf;

	(void)state;
	assert_int_equal(parse_str(&yf, &dl, text), 0);
	root = yf.docs[0].root;
	assert_true(ynode_is_null(NULL));
	assert_true(ynode_is_null(ymap_get(root, "a")));
	assert_true(ynode_is_null(ymap_get(root, "b")));
	assert_true(ynode_is_null(ymap_get(root, "c")));
	assert_true(ynode_is_null(ymap_get(root, "d")));
	assert_true(ynode_is_null(ymap_get(root, "e")));
	assert_false(ynode_is_null(ymap_get(root, "f")));
	assert_false(ynode_is_null(ymap_get(root, "g")));
	assert_false(ynode_is_null(ymap_get(root, "h")));
	assert_false(ynode_is_null(ymap_get(root, "i")));
	/* An explicit tag makes a scalar a string: not plain, not null. */
	assert_false(ymap_get(root, "j")->plain);
	assert_false(ynode_is_null(ymap_get(root, "j")));
	yfile_free(&yf);
	diag_list_clear(&dl);
}

static void
test_multi_doc(void **state)
{
	const char *text = "a: 1\n"
			   "---\n"
			   "---\n"
			   "# comment\n"
			   "- x\n"
			   "...\n"
			   "---\n"
			   "null\n"
			   "--- text\n";
	struct diag_list dl = { 0 };
	struct yfile yf;
	unsigned int i;

	(void)state;
	assert_int_equal(parse_str(&yf, &dl, text), 0);
	assert_int_equal(dl.n, 0);
	assert_int_equal(yf.n_docs, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(yf.docs[i].index, i);
	assert_int_equal(yf.docs[0].line, 1);
	assert_int_equal(yf.docs[0].root->type, YNODE_MAP);
	assert_int_equal(yf.docs[1].line, 2);
	assert_null(yf.docs[1].root);
	assert_int_equal(yf.docs[2].line, 3);
	assert_int_equal(yf.docs[2].root->type, YNODE_SEQ);
	assert_int_equal(yf.docs[2].root->line, 5);
	assert_scalar(yf.docs[2].root->items[0], "x", 5, 3, true);
	assert_int_equal(yf.docs[3].line, 7);
	assert_null(yf.docs[3].root);
	assert_int_equal(yf.docs[4].line, 9);
	assert_scalar(yf.docs[4].root, "text", 9, 5, true);
	yfile_free(&yf);
	diag_list_clear(&dl);
}

static void
test_empty_inputs(void **state)
{
	struct diag_list dl = { 0 };
	struct yfile yf;

	(void)state;
	assert_int_equal(parse_str(&yf, &dl, ""), 0);
	assert_int_equal(yf.n_docs, 0);
	yfile_free(&yf);
	assert_int_equal(parse_str(&yf, &dl, "# only a comment\n\n"), 0);
	assert_int_equal(yf.n_docs, 0);
	yfile_free(&yf);
	assert_int_equal(yfile_parse(&yf, "t.yaml", NULL, 0, &dl), 0);
	assert_int_equal(yf.n_docs, 0);
	yfile_free(&yf);
	assert_int_equal(dl.n, 0);
	assert_int_equal(yfile_parse(&yf, "t.yaml", NULL, 1, &dl), -EINVAL);
}

static void
test_file_too_large(void **state)
{
	struct diag_list dl = { 0 };
	struct yfile yf;
	char *buf = malloc(YDOC_MAX_FILE + 1);

	(void)state;
	assert_non_null(buf);
	/* Exactly the limit is accepted: one long comment line. */
	buf[0] = '#';
	memset(buf + 1, 'x', YDOC_MAX_FILE - 1);
	assert_int_equal(yfile_parse(&yf, "t.yaml", buf, YDOC_MAX_FILE, &dl), 0);
	assert_int_equal(dl.n, 0);
	yfile_free(&yf);

	buf[YDOC_MAX_FILE] = 'x';
	expect_refused(buf, YDOC_MAX_FILE + 1,
		       "t.yaml: error: file too large (16777217 bytes, limit 16777216)");
	free(buf);
}

static void
test_scalar_too_large(void **state)
{
	struct diag_list dl = { 0 };
	struct yfile yf;
	size_t len;
	char *buf;

	(void)state;
	buf = repeat("key: ", "x", YDOC_MAX_SCALAR, "\n", &len);
	assert_int_equal(yfile_parse(&yf, "t.yaml", buf, len, &dl), 0);
	assert_int_equal(ymap_get(yf.docs[0].root, "key")->len, YDOC_MAX_SCALAR);
	yfile_free(&yf);
	free(buf);

	buf = repeat("a: 1\nkey: \"", "x", 3 * YDOC_MAX_SCALAR / 2, "\"\n", &len);
	expect_refused(buf, len,
		       "t.yaml:2:6: error: scalar too large (1572864 bytes, limit 1048576)");
	free(buf);
}

/* A block mapping nested depth levels deep: "a:\n  a:\n    a: ..." */
static char *
block_nesting(unsigned int depth, size_t *len)
{
	char *buf = malloc((size_t)depth * (2 * depth + 8));
	size_t o = 0;
	unsigned int i;

	assert_non_null(buf);
	for (i = 0; i < depth; i++) {
		memset(buf + o, ' ', 2 * i);
		o += 2 * i;
		memcpy(buf + o, i + 1 < depth ? "a:\n" : "a: x\n", i + 1 < depth ? 3 : 5);
		o += i + 1 < depth ? 3 : 5;
	}
	buf[o] = '\0';
	*len = o;
	return buf;
}

static void
test_nesting_too_deep(void **state)
{
	struct diag_list dl = { 0 };
	struct yfile yf;
	const struct ynode *n;
	unsigned int depth = 0;
	size_t len;
	char *buf;

	(void)state;
	/* 64 levels are fine. */
	buf = block_nesting(YDOC_MAX_DEPTH, &len);
	assert_int_equal(yfile_parse(&yf, "t.yaml", buf, len, &dl), 0);
	for (n = yf.docs[0].root; n->type == YNODE_MAP; n = ymap_get(n, "a"))
		depth++;
	assert_int_equal(depth, YDOC_MAX_DEPTH);
	yfile_free(&yf);
	free(buf);

	/* 70 levels: refused at the 65th mapping, line 65, column 2 * 64 + 1. */
	buf = block_nesting(70, &len);
	expect_refused(buf, len, "t.yaml:65:129: error: nesting too deep (limit 64 levels)");
	free(buf);

	buf = repeat("", "[", 65, "", &len);
	expect_refused(buf, len, "t.yaml:1:65: error: nesting too deep (limit 64 levels)");
	free(buf);
	buf = repeat("", "- ", 70, "x\n", &len);
	expect_refused(buf, len, "t.yaml:1:129: error: nesting too deep (limit 64 levels)");
	free(buf);

	/* Hostile: 16 MiB of '[' stops at the 65th, without reading on. */
	buf = repeat("", "[", YDOC_MAX_FILE, "", &len);
	expect_refused(buf, len, "t.yaml:1:65: error: nesting too deep (limit 64 levels)");
	free(buf);
}

static void
test_too_many_nodes(void **state)
{
	struct diag_list dl = { 0 };
	struct yfile yf;
	size_t len;
	char *buf;

	(void)state;
	/* The sequence and its items are nodes: limit - 1 items fit. */
	buf = repeat("", "- a\n", YDOC_MAX_NODES - 1, "", &len);
	assert_int_equal(yfile_parse(&yf, "t.yaml", buf, len, &dl), 0);
	assert_int_equal(yf.docs[0].root->n, YDOC_MAX_NODES - 1);
	yfile_free(&yf);
	free(buf);

	buf = repeat("", "- a\n", YDOC_MAX_NODES, "", &len);
	expect_refused(buf, len, "t.yaml:2097152:3: error: too many nodes (limit 2097152)");
	free(buf);
}

/* text parses without a diagnostic: the first document's root. */
static const struct ynode *
parse_root(struct yfile *yf, const char *text)
{
	struct diag_list dl = { 0 };

	assert_int_equal(parse_str(yf, &dl, text), 0);
	assert_int_equal(dl.n, 0);
	return yf->docs[0].root;
}

/* An alias is the anchored node itself: shared, with the anchor's position. */
static void
test_aliases(void **state)
{
	const char *text = "a: &x {p: 1}\n"
			   "b: *x\n"
			   "c: &s v\n"
			   "d: [*s, *x]\n"
			   "e: &e []\n"
			   "f: *e\n"
			   "g: &r 1\n"
			   "h: &r 2\n"
			   "i: *r\n"
			   "j: &k key\n"
			   "*k : 1\n";
	const struct ynode *root, *a, *d;
	struct diag_list dl = { 0 };
	struct yfile yf;

	(void)state;
	root = parse_root(&yf, text);
	assert_int_equal(root->n, 11);
	a = ymap_get(root, "a");
	assert_int_equal(a->type, YNODE_MAP);
	assert_int_equal(a->line, 1);
	assert_int_equal(a->col, 4);
	assert_int_equal(a->n, 1);
	assert_scalar(ymap_get(a, "p"), "1", 1, 11, true);
	assert_ptr_equal(ymap_get(root, "b"), a);
	assert_scalar(ymap_get(root, "c"), "v", 3, 4, true);
	d = ymap_get(root, "d");
	assert_int_equal(d->type, YNODE_SEQ);
	assert_int_equal(d->n, 2);
	assert_int_equal(d->line, 4);
	assert_int_equal(d->col, 4);
	assert_ptr_equal(d->items[0], ymap_get(root, "c"));
	assert_ptr_equal(d->items[1], a);
	assert_int_equal(ymap_get(root, "e")->type, YNODE_SEQ);
	assert_int_equal(ymap_get(root, "e")->n, 0);
	assert_ptr_equal(ymap_get(root, "f"), ymap_get(root, "e"));
	/* A redefined anchor: aliases after it name the new node. */
	assert_scalar(ymap_get(root, "i"), "2", 8, 4, true);
	/* An alias as a key. */
	assert_ptr_equal(ymap_key(root, "key"), ymap_get(root, "j"));
	assert_scalar(ymap_get(root, "key"), "1", 11, 6, true);
	yfile_free(&yf);

	/* Anchors live in their document. */
	assert_int_equal(parse_str(&yf, &dl, "a: &x 1\nb: *x\n---\nc: &x 2\nd: *x\n"), 0);
	assert_int_equal(dl.n, 0);
	assert_scalar(ymap_get(yf.docs[0].root, "b"), "1", 1, 4, true);
	assert_scalar(ymap_get(yf.docs[1].root, "d"), "2", 4, 4, true);
	yfile_free(&yf);
}

static void
test_alias_errors(void **state)
{
	(void)state;
	expect_refused_str("a: 1\nb: *x\n", "t.yaml:2:4: error: unknown anchor 'x' referenced");
	expect_refused_str("a: &x 1\n---\nb: *x\n",
			   "t.yaml:3:4: error: unknown anchor 'x' referenced");
	/* An alias inside its own anchor's node. */
	expect_refused_str("a: &x [1, *x]\n",
			   "t.yaml:1:11: error: anchor 'x' value contains itself");
	expect_refused_str("a: &x\n  b: *x\n",
			   "t.yaml:2:6: error: anchor 'x' value contains itself");
	/* Errors about the alias are at the alias, not at the anchor. */
	expect_refused_str("a: &k a\n*k : 1\n", "t.yaml:2:1: error: duplicate key \"a\"");
	expect_refused_str("a: &m {x: 1}\n? *m\n: 1\n",
			   "t.yaml:2:3: error: mapping keys must be scalars");
}

/* Nodes of a tree walked with every alias expanded. */
static size_t
expanded(const struct ynode *n)
{
	size_t i, k, sum = 1;

	if (n->type == YNODE_SCALAR)
		return 1;
	k = n->type == YNODE_MAP ? 2 * n->n : n->n;
	for (i = 0; i < k; i++)
		sum += expanded(n->items[i]);
	return sum;
}

/*
 * Lines 2 to levels at p: "b: &b OPEN*a,*a...CLOSE", each anchor per times
 * the one before; @return the end.
 */
static char *
nested_aliases(char *p, int levels, int per, const char *open, const char *close)
{
	int i, j;

	for (i = 1; i < levels; i++) {
		p += sprintf(p, "%c: &%c %s*%c", 'a' + i, 'a' + i, open, 'a' + i - 1);
		for (j = 1; j < per; j++)
			p += sprintf(p, ",*%c", 'a' + i - 1);
		p += sprintf(p, "%s\n", close);
	}
	return p;
}

static void
test_alias_bound(void **state)
{
	struct diag_list dl = { 0 };
	struct yfile yf;
	char *buf, *p, *tail;
	size_t len;

	(void)state;
	/* The "billion laughs": 9^9 "lol"s from 9 nested anchors. */
	buf = malloc(4096);
	assert_non_null(buf);
	p = buf + sprintf(buf, "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\","
			       "\"lol\",\"lol\"]\n");
	p = nested_aliases(p, 9, 9, "[", "]");
	/* f expands to 597871 nodes: the third *f in g's line passes 2 Mi. */
	expect_refused(buf, (size_t)(p - buf),
		       "t.yaml:7:14: error: too many nodes (limit 2097152, aliases expanded): "
		       "*f adds 597871 to 1868354");
	free(buf);

	/* Exactly the bound, aliases expanded: 1 + 889 * 2359 nodes. */
	buf = repeat("- &a [", "x,", 2357, "x]\n", &len);
	tail = repeat(buf, "- *a\n", 888, "", &len);
	free(buf);
	assert_int_equal(yfile_parse(&yf, "t.yaml", tail, len, &dl), 0);
	assert_int_equal(yf.docs[0].root->n, 889);
	assert_int_equal(expanded(yf.docs[0].root), YDOC_MAX_NODES);
	yfile_free(&yf);
	/* One more node is one too many, and so is one more alias. */
	buf = repeat(tail, "- y\n", 1, "", &len);
	expect_refused(buf, len, "t.yaml:890:3: error: too many nodes (limit 2097152)");
	free(buf);
	buf = repeat(tail, "- *a\n", 1, "", &len);
	expect_refused(buf, len,
		       "t.yaml:890:3: error: too many nodes (limit 2097152, aliases expanded): "
		       "*a adds 2359 to 2097152");
	free(buf);
	free(tail);

	/* Merge keys count their maps as written, merged away or not. */
	buf = malloc(4096);
	assert_non_null(buf);
	p = buf + sprintf(buf, "a: &a {x: 1, y: 2, z: 3, w: 4, v: 5, u: 6, t: 7, s: 8}\n");
	p = nested_aliases(p, 7, 8, "{<<: [", "]}");
	expect_refused(buf, (size_t)(p - buf),
		       "t.yaml:7:19: error: too many nodes (limit 2097152, aliases expanded): "
		       "*f adds 571099 to 1794889");
	free(buf);
}

/* A pair a mapping should hold: key and value, plain, with their positions. */
struct pair_want {
	const char *key;
	unsigned int kline, kcol;
	const char *value;
	unsigned int vline, vcol;
};

/* m is a mapping of exactly these n pairs, in this order. */
static void
assert_pairs(const struct ynode *m, const struct pair_want *want, size_t n)
{
	size_t i;

	assert_non_null(m);
	assert_int_equal(m->type, YNODE_MAP);
	assert_int_equal(m->n, n);
	for (i = 0; i < n; i++) {
		assert_scalar(m->items[2 * i], want[i].key, want[i].kline, want[i].kcol, true);
		assert_scalar(m->items[2 * i + 1], want[i].value, want[i].vline, want[i].vcol,
			      true);
	}
}

static void
test_merge_keys(void **state)
{
	const char *text = "base: &base {a: 1, b: 2}\n"
			   "other: &other {b: 3, c: 4}\n"
			   "one: {<<: *base, b: 9}\n"
			   "seq: {<<: [*base, *other]}\n"
			   "inline: {<<: {x: 1}, y: 2}\n"
			   "before: {b: 7, <<: *base}\n"
			   "block:\n"
			   "  <<: *other\n"
			   "  d: 5\n"
			   "tagged: {!!merge \"<<\": *base}\n"
			   "quoted: {\"<<\": 1}\n"
			   "shared: &sh {<<: *base}\n"
			   "again: *sh\n";
	const struct ynode *root, *m;
	struct yfile yf;

	(void)state;
	root = parse_root(&yf, text);

	/* The mapping's own keys win; merged pairs keep their positions. */
	m = ymap_get(root, "one");
	assert_int_equal(m->type, YNODE_MAP);
	assert_int_equal(m->line, 3);
	assert_int_equal(m->col, 6);
	assert_pairs(m,
		     (const struct pair_want[]){ { "a", 1, 14, "1", 1, 17 },
						 { "b", 3, 18, "9", 3, 21 } },
		     2);
	assert_null(ymap_get(m, "<<"));

	/* In a sequence, earlier maps win. */
	assert_pairs(ymap_get(root, "seq"),
		     (const struct pair_want[]){ { "a", 1, 14, "1", 1, 17 },
						 { "b", 1, 20, "2", 1, 23 },
						 { "c", 2, 22, "4", 2, 25 } },
		     3);
	assert_pairs(ymap_get(root, "inline"),
		     (const struct pair_want[]){ { "x", 5, 15, "1", 5, 18 },
						 { "y", 5, 22, "2", 5, 25 } },
		     2);
	/* go-yaml v2 applies pairs in order: a key before "<<" is merged over. */
	assert_pairs(ymap_get(root, "before"),
		     (const struct pair_want[]){ { "a", 1, 14, "1", 1, 17 },
						 { "b", 1, 20, "2", 1, 23 } },
		     2);
	m = ymap_get(root, "block");
	assert_int_equal(m->line, 8);
	assert_int_equal(m->col, 3);
	assert_pairs(m,
		     (const struct pair_want[]){ { "b", 2, 16, "3", 2, 19 },
						 { "c", 2, 22, "4", 2, 25 },
						 { "d", 9, 3, "5", 9, 6 } },
		     3);

	/* !!merge makes any "<<" a merge key; a quoted one alone is a key. */
	m = ymap_get(root, "tagged");
	assert_int_equal(m->n, 2);
	assert_ptr_equal(ymap_get(m, "b"), ymap_get(ymap_get(root, "base"), "b"));
	m = ymap_get(root, "quoted");
	assert_int_equal(m->n, 1);
	assert_scalar(ymap_get(m, "<<"), "1", 11, 16, true);

	/* An anchored merged mapping is aliased merged. */
	m = ymap_get(root, "shared");
	assert_int_equal(m->n, 2);
	assert_ptr_equal(ymap_get(root, "again"), m);
	yfile_free(&yf);
}

static void
test_merge_errors(void **state)
{
	(void)state;
	expect_refused_str(
		"a: {<<: 1}\n",
		"t.yaml:1:9: error: map merge requires map or sequence of maps as the value");
	expect_refused_str(
		"s: &s [1]\na: {<<: *s}\n",
		"t.yaml:2:9: error: map merge requires map or sequence of maps as the value");
	expect_refused_str(
		"m: &m {x: 1}\na: {<<: [*m, 2]}\n",
		"t.yaml:2:14: error: map merge requires map or sequence of maps as the value");
	expect_refused_str(
		"a: {<<: [[x: 1]]}\n",
		"t.yaml:1:10: error: map merge requires map or sequence of maps as the value");
	expect_refused_str(
		"s: &s x\na: {<<: [{y: 1}, *s]}\n",
		"t.yaml:2:18: error: map merge requires map or sequence of maps as the value");
	expect_refused_str("a: &a {<<: *a}\n",
			   "t.yaml:1:12: error: anchor 'a' value contains itself");
	/* Repeated keys are still found among the mapping's own. */
	expect_refused_str("a: {<<: {x: 1}, <<: {y: 1}}\n",
			   "t.yaml:1:17: error: duplicate key \"<<\"");
	expect_refused_str("a: {<<: {x: 1}, y: 1, y: 2}\n",
			   "t.yaml:1:23: error: duplicate key \"y\"");
}

static void
test_duplicate_keys(void **state)
{
	struct diag_list dl = { 0 };
	struct yfile yf;
	char *buf, *p;
	int i;

	(void)state;
	expect_refused_str("a: 1\nb: 2\na: 3\n", "t.yaml:3:1: error: duplicate key \"a\"");
	expect_refused_str("outer:\n  x: 1\n  x: 2\n", "t.yaml:3:3: error: duplicate key \"x\"");
	expect_refused_str("\"a\": 1\na: 2\n", "t.yaml:2:1: error: duplicate key \"a\"");
	expect_refused_str("- {k: 1, k: 2}\n", "t.yaml:1:10: error: duplicate key \"k\"");
	expect_refused_str("\"q\\\"\\\\\\t\\u0001\": 1\n\"q\\\"\\\\\\t\\x01\": 2\n",
			   "t.yaml:2:1: error: duplicate key \"q\\\"\\\\\\t\\x01\"");

	/* A long key is shown cut after 64 bytes. */
	buf = malloc(2 * 110 + 16);
	assert_non_null(buf);
	p = buf;
	for (i = 0; i < 2; i++) {
		memset(p, 'k', 100);
		p += 100;
		p += sprintf(p, ": %d\n", i);
	}
	expect_refused(buf, (size_t)(p - buf),
		       "t.yaml:2:1: error: duplicate key "
		       "\"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...\"");
	free(buf);

	/* Same keys in different mappings, near-identical keys: fine. */
	assert_int_equal(parse_str(&yf, &dl,
				   "- {a: 1, b: 2}\n- {a: 1, b: 2}\n"
				   "- {a: 1, \"a \": 2, A: 3, \"\": 4}\n"),
			 0);
	yfile_free(&yf);
	assert_int_equal(dl.n, 0);

	/* A large mapping (sorted check): the first repetition in file order. */
	buf = malloc(64 * 40);
	assert_non_null(buf);
	p = buf;
	for (i = 0; i < 30; i++)
		p += sprintf(p, "k%d: v\n", i);
	p += sprintf(p, "k5: again\nk3: again\nk5: thrice\n");
	expect_refused(buf, (size_t)(p - buf), "t.yaml:31:1: error: duplicate key \"k5\"");
	p = buf;
	for (i = 0; i < 30; i++)
		p += sprintf(p, "k%d: v\n", i);
	p += sprintf(p, "k28: again\nk1: again\n");
	expect_refused(buf, (size_t)(p - buf), "t.yaml:31:1: error: duplicate key \"k28\"");
	free(buf);
}

static void
test_big_mapping(void **state)
{
	const unsigned int n = 200000;
	struct diag_list dl = { 0 };
	const struct ynode *root;
	struct yfile yf;
	char *buf, *p;
	unsigned int i;

	(void)state;
	buf = malloc((size_t)n * 24 + 64);
	assert_non_null(buf);
	p = buf;
	for (i = 0; i < n; i++)
		p += sprintf(p, "key%u: %u\n", i, i);
	assert_int_equal(yfile_parse(&yf, "t.yaml", buf, (size_t)(p - buf), &dl), 0);
	root = yf.docs[0].root;
	assert_int_equal(root->n, n);
	assert_scalar(ymap_get(root, "key199999"), "199999", 200000, 12, true);
	yfile_free(&yf);

	p += sprintf(p, "key123456: dup\n");
	expect_refused(buf, (size_t)(p - buf),
		       "t.yaml:200001:1: error: duplicate key \"key123456\"");
	free(buf);
}

static void
test_non_scalar_keys(void **state)
{
	(void)state;
	expect_refused_str("? [a]\n: 1\n", "t.yaml:1:3: error: mapping keys must be scalars");
	expect_refused_str("{[a]: 1}\n", "t.yaml:1:2: error: mapping keys must be scalars");
	expect_refused_str("x:\n  ? {a: 1}\n  : x\n",
			   "t.yaml:2:5: error: mapping keys must be scalars");
}

static void
test_invalid_utf8(void **state)
{
	(void)state;
	expect_refused_str("a: \xff\n", "t.yaml:1:4: error: invalid leading UTF-8 octet");
	expect_refused_str("a: b\nc: \xc3\n", "t.yaml:2:4: error: invalid trailing UTF-8 octet");
	/* Columns count characters: "é" is one. */
	expect_refused_str("\xc3\xa9: \xff\n", "t.yaml:1:4: error: invalid leading UTF-8 octet");
	expect_refused_str("a: 1\r\nb: \xfe\n", "t.yaml:2:4: error: invalid leading UTF-8 octet");
	expect_refused_str("a: \xc3", "t.yaml:1:4: error: incomplete UTF-8 octet sequence");
	expect_refused_str("a: \x01\n", "t.yaml:1:4: error: control characters are not allowed");
	expect_refused("a: \0\n", 5, "t.yaml:1:4: error: control characters are not allowed");
}

static void
test_syntax_errors(void **state)
{
	(void)state;
	expect_refused_str("a: b: c\n",
			   "t.yaml:1:5: error: mapping values are not allowed in this context");
	expect_refused_str("a:\n  - b\n c: d\n", "t.yaml:3:2: error: did not find expected key "
						 "(while parsing a block mapping started at 1:1)");
	expect_refused_str("a: \"abc\n", "t.yaml:2:1: error: found unexpected end of stream "
					 "(while scanning a quoted scalar started at 1:4)");
	expect_refused_str("a: [1, 2}\n", "t.yaml:1:9: error: did not find expected ',' or ']' "
					  "(while parsing a flow sequence started at 1:4)");
	/* An error in a later document refuses the whole file. */
	expect_refused_str("a: 1\n---\nb: [\n",
			   "t.yaml:4:1: error: did not find expected node content "
			   "(while parsing a flow node started at 4:1)");
}

/*
 * go-yaml (kubectl, Istio) reads a ':' inside a plain scalar of a flow
 * collection as part of the scalar unless a blank follows it; libyaml refuses
 * one followed by ',', '[', ']', '{', '}' or '?'. Values and positions are
 * go-yaml's, and so are the errors after such a scalar.
 */
static void
test_flow_colons(void **state)
{
	const char *text = "m: {k: v:, \"q\": [a:], n:}\n"
			   "u: [\xc3\xa9:, x]\n"
			   "l: [one\n"
			   "  two:]\n"
			   "w: [a:?b, -:]\n"
			   "k: a:,b\n"
			   "t: [!!str a:]\n"
			   "q: [it's:]\n"
			   "j: {\"a\":[1],\"k\":[x:]}\n";
	static const struct {
		const char *text;
		unsigned int line; /* of what follows it */
	} before[] = {
		{ "m: {k: v:, n:}\n", 2 },   { "u: [\xc3\xa9:, x]\n", 2 },
		{ "l: [one\n  two:]\n", 3 }, { "w: [a:?b, -:]\n", 2 },
		{ "t: [!!str a:]\n", 2 },    { "q: [it's:, a :]\n", 2 },
		{ "j: {\"k\":[x:]}\n", 2 },  { "c: \"[q:]\" # [r:]\ns: |\n  [t:]\n", 4 },
	};
	const struct ynode *root, *m, *u, *l, *w, *t, *q, *j, *n;
	struct diag_list dl = { 0 };
	struct yfile yf;
	size_t len, i;
	char *buf;

	(void)state;
	/* The Istio case: an IPv6 address ending in "::" in a flow sequence. */
	assert_int_equal(parse_str(&yf, &dl, "addresses: [1.2.3.4, 2001:db8::]\nnext: x\n"), 0);
	root = yf.docs[0].root;
	n = ymap_get(root, "addresses");
	assert_int_equal(n->type, YNODE_SEQ);
	assert_int_equal(n->n, 2);
	assert_scalar(n->items[0], "1.2.3.4", 1, 13, true);
	assert_scalar(n->items[1], "2001:db8::", 1, 22, true);
	assert_scalar(ymap_get(root, "next"), "x", 2, 7, true);
	yfile_free(&yf);
	/* An error after it keeps its exact position. */
	expect_refused_str("addresses: [2001:db8::]\nb: [1, 2}\n",
			   "t.yaml:2:9: error: did not find expected ',' or ']' "
			   "(while parsing a flow sequence started at 2:4)");

	assert_int_equal(parse_str(&yf, &dl, text), 0);
	root = yf.docs[0].root;
	/* flow mappings: values and keys */
	m = ymap_get(root, "m");
	assert_int_equal(m->n, 3);
	assert_scalar(ymap_get(m, "k"), "v:", 1, 8, true);
	assert_scalar(ymap_key(m, "q"), "q", 1, 12, false);
	assert_scalar(ymap_get(m, "q")->items[0], "a:", 1, 18, true);
	assert_scalar(ymap_key(m, "n:"), "n:", 1, 23, true);
	assert_scalar(ymap_get(m, "n:"), "", 1, 25, true);
	assert_true(ynode_is_null(ymap_get(m, "n:")));
	/* columns count characters: "é" is one */
	u = ymap_get(root, "u");
	assert_scalar(u->items[0], "\xc3\xa9:", 2, 5, true);
	assert_scalar(u->items[1], "x", 2, 9, true);
	/* a scalar folded over two lines */
	l = ymap_get(root, "l");
	assert_int_equal(l->n, 1);
	assert_scalar(l->items[0], "one two:", 3, 5, true);
	/* ':' before '?', a scalar starting with '-' */
	w = ymap_get(root, "w");
	assert_scalar(w->items[0], "a:?b", 5, 5, true);
	assert_scalar(w->items[1], "-:", 5, 11, true);
	/* block context: libyaml read it already, the value is unchanged */
	assert_scalar(ymap_get(root, "k"), "a:,b", 6, 4, true);
	/* after a tag (the node starts at the tag) */
	t = ymap_get(root, "t");
	assert_scalar(t->items[0], "a:", 7, 5, false);
	/* after a quote that is not a quoted scalar's end */
	q = ymap_get(root, "q");
	assert_scalar(q->items[0], "it's:", 8, 5, true);
	/* JSON: ':' after a quoted key is the value indicator, as before */
	j = ymap_get(root, "j");
	assert_scalar(ymap_get(j, "a")->items[0], "1", 9, 10, true);
	assert_scalar(ymap_get(j, "k")->items[0], "x:", 9, 18, true);
	assert_int_equal(dl.n, 0);
	yfile_free(&yf);

	/* An error after each construct: at its own position. */
	for (i = 0; i < sizeof(before) / sizeof(before[0]); i++) {
		char doc[128], want[160];

		snprintf(doc, sizeof(doc), "%sb: [1, 2}\n", before[i].text);
		snprintf(want, sizeof(want),
			 "t.yaml:%u:9: error: did not find expected ',' or ']' "
			 "(while parsing a flow sequence started at %u:4)",
			 before[i].line, before[i].line);
		expect_refused_str(doc, want);
	}

	/* Quoted scalars, comments and block scalars keep their ':' as written. */
	assert_int_equal(parse_str(&yf, &dl, "c: \"[q:]\" # [r:]\ns: |\n  [t:]\ne: [v:]\n"), 0);
	root = yf.docs[0].root;
	assert_scalar(ymap_get(root, "c"), "[q:]", 1, 4, false);
	assert_scalar(ymap_get(root, "s"), "[t:]\n", 2, 4, false);
	assert_scalar(ymap_get(root, "e")->items[0], "v:", 4, 5, true);
	yfile_free(&yf);
	/* A ':' that is the value indicator stays one: "? :" is null: null. */
	assert_int_equal(parse_str(&yf, &dl, "[?:]"), 0);
	n = yf.docs[0].root->items[0];
	assert_int_equal(n->type, YNODE_MAP);
	assert_int_equal(n->n, 1);
	assert_scalar(n->items[0], "", 1, 4, true);
	assert_scalar(n->items[1], "", 1, 4, true);
	yfile_free(&yf);

	/* A byte-order mark and CRLF line ends: positions as before. */
	assert_int_equal(parse_str(&yf, &dl,
				   "\xef\xbb\xbf"
				   "a: [b:,\r\n  c:]\r\nd: x\r\n"),
			 0);
	root = yf.docs[0].root;
	assert_scalar(ymap_get(root, "a")->items[0], "b:", 1, 5, true);
	assert_scalar(ymap_get(root, "a")->items[1], "c:", 2, 3, true);
	assert_scalar(ymap_get(root, "d"), "x", 3, 4, true);
	yfile_free(&yf);
	expect_refused_str("\xef\xbb\xbf"
			   "a: [b:,\r\n  c:]\r\nd: [e, f}\r\n",
			   "t.yaml:3:9: error: did not find expected ',' or ']' "
			   "(while parsing a flow sequence started at 3:4)");

	/* What go-yaml refuses stays refused, with go-yaml's message. */
	expect_refused_str("a: [x:[y]]\n", "t.yaml:1:7: error: did not find expected ',' or "
					   "']' (while parsing a flow sequence started at 1:4)");
	expect_refused_str("{x:{y}}\n", "t.yaml:1:4: error: did not find expected ',' or '}' "
					"(while parsing a flow mapping started at 1:1)");
	expect_refused_str("[::1]\n", "t.yaml:1:2: error: did not find expected node content "
				      "(while parsing a flow node started at 1:2)");
	expect_refused_str("{a:, a:}\n", "t.yaml:1:6: error: duplicate key \"a:\"");

	/* Colons after a quote take a pass each: 7 are read, the 8th is refused. */
	buf = repeat("[", "x':, ", 7, "]", &len);
	assert_int_equal(yfile_parse(&yf, "t.yaml", buf, len, &dl), 0);
	assert_int_equal(yf.docs[0].root->n, 7);
	assert_scalar(yf.docs[0].root->items[6], "x':", 1, 32, true);
	yfile_free(&yf);
	free(buf);
	buf = repeat("[", "x':, ", 8, "]", &len);
	expect_refused(buf, len,
		       "t.yaml:1:39: error: found unexpected ':' "
		       "(while scanning a plain scalar started at 1:37)");
	free(buf);

	/* Many of them: one pass, linear. */
	buf = repeat("[", "a:, ", 100000, "]", &len);
	assert_int_equal(yfile_parse(&yf, "t.yaml", buf, len, &dl), 0);
	n = yf.docs[0].root;
	assert_int_equal(n->n, 100000);
	for (i = 0; i < n->n; i++)
		assert_string_equal(n->items[i]->str, "a:");
	assert_scalar(n->items[99999], "a:", 1, 2 + 4 * 99999, true);
	yfile_free(&yf);
	free(buf);
	assert_int_equal(dl.n, 0);
}

/* Item i of a sequence of n items: a mapping of one pair. */
static const struct ynode *
one_pair_item(const struct ynode *seq, size_t n, size_t i)
{
	const struct ynode *m;

	assert_int_equal(seq->type, YNODE_SEQ);
	assert_int_equal(seq->n, n);
	m = seq->items[i];
	assert_int_equal(m->type, YNODE_MAP);
	assert_int_equal(m->n, 1);
	return m;
}

/* Anchors, tags and aliases next to a colon go-yaml keeps or ends at. */
static void
test_flow_colon_anchors(void **state)
{
	const struct ynode *root, *n, *m;
	struct diag_list dl = { 0 };
	struct yfile yf;

	(void)state;
	/* An anchored address: the node starts at its anchor, the value after it. */
	assert_int_equal(parse_str(&yf, &dl,
				   "addresses: [&v6 2001:db8::, 10.1.0.0/16]\n"
				   "again: [*v6]\n"
				   "t: [!!str &x 2001:db8::1:, &y !!str a:, &z\n"
				   "  b:]\n"
				   "b: &an x\n"
				   "d: [*an:, 1]\n"
				   "e: [&k:, *k]\n"
				   "g: [&g:[x]]\n"
				   "f: [y,\xc2\x85*an:]\n"),
			 0);
	root = yf.docs[0].root;
	n = ymap_get(root, "addresses");
	assert_int_equal(n->n, 2);
	assert_scalar(n->items[0], "2001:db8::", 1, 13, true);
	assert_scalar(n->items[1], "10.1.0.0/16", 1, 29, true);
	assert_ptr_equal(ymap_get(root, "again")->items[0], n->items[0]);
	n = ymap_get(root, "t");
	assert_int_equal(n->n, 3);
	assert_scalar(n->items[0], "2001:db8::1:", 3, 5, false);
	assert_scalar(n->items[1], "a:", 3, 28, false);
	assert_scalar(n->items[2], "b:", 3, 41, true);
	/*
	 * An alias or anchor name ends at ':' (not an anchor character), which
	 * is then the value indicator: go-yaml reads [*an:, 1] as [{x: null}, 1].
	 */
	n = ymap_get(root, "d");
	m = one_pair_item(n, 2, 0);
	assert_ptr_equal(m->items[0], ymap_get(root, "b"));
	assert_scalar(m->items[1], "", 6, 9, true);
	assert_scalar(n->items[1], "1", 6, 11, true);
	/* an anchored empty key, its alias null too */
	n = ymap_get(root, "e");
	m = one_pair_item(n, 2, 0);
	assert_scalar(m->items[0], "", 7, 5, true);
	assert_scalar(m->items[1], "", 7, 8, true);
	assert_ptr_equal(n->items[1], m->items[0]);
	/* a value after it: [{"": [x]}] */
	m = one_pair_item(ymap_get(root, "g"), 1, 0);
	assert_scalar(m->items[0], "", 8, 5, true);
	assert_int_equal(m->items[1]->type, YNODE_SEQ);
	assert_int_equal(m->items[1]->n, 1);
	assert_scalar(m->items[1]->items[0], "x", 8, 9, true);
	/* after a line break the bytes do not show (NEL): libyaml's reading decides */
	n = ymap_get(root, "f");
	m = one_pair_item(n, 2, 1);
	assert_scalar(n->items[0], "y", 9, 5, true);
	assert_ptr_equal(m->items[0], ymap_get(root, "b"));
	assert_scalar(m->items[1], "", 10, 5, true);
	assert_int_equal(dl.n, 0);
	yfile_free(&yf);
}

/* go-yaml reads YAML 1.1 only: a %YAML directive for another version is refused. */
static void
test_yaml_directive(void **state)
{
	struct diag_list dl = { 0 };
	struct yfile yf;

	(void)state;
	assert_int_equal(parse_str(&yf, &dl, "%YAML 1.1\n---\na: 1\n"), 0);
	assert_scalar(ymap_get(yf.docs[0].root, "a"), "1", 3, 4, true);
	yfile_free(&yf);
	assert_int_equal(dl.n, 0);
	expect_refused_str("%YAML 1.2\n---\na: 1\n",
			   "t.yaml:1:1: error: found incompatible YAML document (version 1.1 is "
			   "required, got 1.2)");
	expect_refused_str("a: 1\n...\n# then\n%YAML 1.2\n--- b\n",
			   "t.yaml:4:1: error: found incompatible YAML document (version 1.1 is "
			   "required, got 1.2)");
}

static void
write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}

static void
test_load(void **state)
{
	char dir[] = "/tmp/test_ydoc.XXXXXX";
	struct diag_list dl = { 0 };
	char path[128], expect[256], out[256];
	struct yfile yf;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));

	snprintf(path, sizeof(path), "%s/ok.yaml", dir);
	write_file(path, "kind: ServiceEntry\n---\nkind: Gateway\n");
	assert_int_equal(yfile_load(&yf, path, &dl), 0);
	assert_string_equal(yf.path, path);
	assert_int_equal(yf.n_docs, 2);
	assert_scalar(ymap_get(yf.docs[1].root, "kind"), "Gateway", 3, 7, true);
	yfile_free(&yf);
	assert_int_equal(unlink(path), 0);

	snprintf(path, sizeof(path), "%s/bad.yaml", dir);
	write_file(path, "a: 1\na: 2\n");
	assert_int_equal(yfile_load(&yf, path, &dl), -EINVAL);
	diag_format(&dl.v[0], out, sizeof(out));
	snprintf(expect, sizeof(expect), "%s:2:1: error: duplicate key \"a\"", path);
	assert_string_equal(out, expect);
	assert_int_equal(unlink(path), 0);
	diag_list_clear(&dl);

	snprintf(path, sizeof(path), "%s/missing.yaml", dir);
	assert_int_equal(yfile_load(&yf, path, &dl), -ENOENT);
	assert_int_equal(yf.n_docs, 0);
	diag_format(&dl.v[0], out, sizeof(out));
	snprintf(expect, sizeof(expect), "%s: error: cannot open: No such file or directory", path);
	assert_string_equal(out, expect);
	diag_list_clear(&dl);

	assert_int_equal(yfile_load(&yf, dir, &dl), -EISDIR);
	diag_format(&dl.v[0], out, sizeof(out));
	snprintf(expect, sizeof(expect), "%s: error: cannot read: Is a directory", dir);
	assert_string_equal(out, expect);
	diag_list_clear(&dl);

	/* A sparse file over the limit is refused before it is read. */
	snprintf(path, sizeof(path), "%s/huge.yaml", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)YDOC_MAX_FILE + 1), 0);
	close(fd);
	assert_int_equal(yfile_load(&yf, path, &dl), -EINVAL);
	assert_int_equal(dl.n, 1);
	diag_format(&dl.v[0], out, sizeof(out));
	snprintf(expect, sizeof(expect),
		 "%s: error: file too large (16777217 bytes, limit 16777216)", path);
	assert_string_equal(out, expect);
	assert_int_equal(unlink(path), 0);
	diag_list_clear(&dl);

	assert_int_equal(rmdir(dir), 0);
}

static void
test_free_and_reuse(void **state)
{
	struct diag_list dl = { 0 };
	struct yfile yf;

	(void)state;
	yfile_free(NULL);
	assert_int_equal(parse_str(&yf, &dl, "a: 1\n"), 0);
	yfile_free(&yf);
	yfile_free(&yf);
	assert_int_equal(parse_str(&yf, &dl, "b: 2\n"), 0);
	assert_scalar(ymap_get(yf.docs[0].root, "b"), "2", 1, 4, true);
	yfile_free(&yf);
	assert_int_equal(dl.n, 0);
}

/* ------------------------------------------------------------------ */
/* yquote() and yreader                                                */

static void
expect_quote(const char *s, size_t len, size_t max, const char *expected)
{
	char out[YQUOTE_SIZE(80)];

	assert_true(max <= 80);
	assert_ptr_equal(yquote(out, s, len, max), out);
	assert_string_equal(out, expected);
}

static void
test_yquote(void **state)
{
	char big[YQUOTE_SIZE(8)];
	size_t i;

	(void)state;
	expect_quote("", 0, 64, "\"\"");
	expect_quote("redis", 5, 64, "\"redis\"");
	expect_quote("a\"b\\c", 5, 64, "\"a\\\"b\\\\c\"");
	expect_quote("l1\nl2\tx\x01y\x7fz", 11, 64, "\"l1\\nl2\\tx\\x01y\\x7fz\"");
	/* the whole length: a NUL byte is shown, not an end */
	expect_quote("nul\0x", 5, 64, "\"nul\\x00x\"");
	/* exactly max bytes: no cut */
	expect_quote("abcdefgh", 8, 8, "\"abcdefgh\"");
	expect_quote("abcdefghi", 9, 8, "\"abcdefgh...\"");
	/* "é" is two bytes: one that would straddle the limit is left out whole */
	expect_quote("abcdefg\xc3\xa9", 9, 8, "\"abcdefg...\"");
	expect_quote("abcdef\xc3\xa9z", 9, 8, "\"abcdef\xc3\xa9...\"");
	/* the worst case fills YQUOTE_SIZE() exactly: 4 bytes per byte, "...", quotes, NUL */
	yquote(big, "\x01\x01\x01\x01\x01\x01\x01\x01\x01", 9, 8);
	assert_int_equal(strlen(big) + 1, 4 * 8 + 6);
	for (i = 0; i < 8; i++)
		assert_memory_equal(big + 1 + 4 * i, "\\x01", 4);
}

/* Every diagnostic of dl formatted, one per line; dl is cleared. */
static char *
diags_of(struct diag_list *dl)
{
	char *buf = NULL, line[1024];
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	for (i = 0; i < dl->n; i++) {
		diag_format(&dl->v[i], line, sizeof(line));
		fprintf(f, "%s\n", line);
	}
	fclose(f);
	diag_list_clear(dl);
	return buf;
}

static void
expect_diags(struct diag_list *dl, const char *expected)
{
	char *got = diags_of(dl);

	assert_string_equal(got, expected);
	free(got);
}

static void
test_reader_path(void **state)
{
	struct diag_list dl = { 0 };
	struct yreader r;
	size_t m0, m1, m2;
	char key[400];

	(void)state;
	yr_init(&r, "t.yaml", &dl, 64);
	assert_string_equal(r.path, "");
	m0 = yr_key(&r, "spec");
	assert_string_equal(r.path, "spec");
	m1 = yr_key(&r, "ports");
	m2 = yr_idx(&r, 3);
	yr_key(&r, "number");
	assert_string_equal(r.path, "spec.ports[3].number");
	yr_pop(&r, m2);
	assert_string_equal(r.path, "spec.ports");
	yr_push(&r, ".egress[%d]", 1);
	assert_string_equal(r.path, "spec.ports.egress[1]");
	yr_pop(&r, m1);
	assert_string_equal(r.path, "spec");
	yr_pop(&r, m0);
	assert_string_equal(r.path, "");
	assert_int_equal(r.path_len, 0);
	/* a path longer than YREADER_PATH_MAX is cut, and pops back cleanly */
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	m0 = yr_key(&r, "a");
	m1 = yr_key(&r, key);
	assert_int_equal(r.path_len, YREADER_PATH_MAX - 1);
	assert_int_equal(strlen(r.path), YREADER_PATH_MAX - 1);
	yr_pop(&r, m1);
	assert_string_equal(r.path, "a");
	yr_pop(&r, m0);
	assert_int_equal(dl.n, 0);
}

static void
test_reader_diag(void **state)
{
	const char *text = "a:\n  b: [1, {c: x}]\n";
	struct diag_list dl = { 0 };
	const struct ynode *b, *c;
	struct yfile yf;
	struct yreader r;
	size_t mark;

	(void)state;
	assert_int_equal(parse_str(&yf, &dl, text), 0);
	b = ymap_get(ymap_get(yf.docs[0].root, "a"), "b");
	c = ymap_get(b->items[1], "c");
	yr_init(&r, "t.yaml", &dl, 64);
	yr_err(&r, b, "no path %d", 1);
	mark = yr_key(&r, "a");
	yr_key(&r, "b");
	yr_idx(&r, 1);
	yr_key(&r, "c");
	yr_warn(&r, c, "at %s", yr_quote_node(&r, c));
	yr_diag_bare(&r, DIAG_ERROR, c, "names its own place");
	yr_err(&r, NULL, "no position");
	yr_pop(&r, mark);
	expect_diags(&dl, "t.yaml:2:6: error: no path 1\n"
			  "t.yaml:2:14: warning: a.b[1].c: at \"x\"\n"
			  "t.yaml:2:14: error: names its own place\n"
			  "t.yaml: error: a.b[1].c: no position\n");
	yfile_free(&yf);
}

static void
test_reader_quote(void **state)
{
	struct diag_list dl = { 0 };
	const char *a, *b, *c, *d;
	struct yreader r;
	char long_s[200];

	(void)state;
	/* quote_max is clamped to what the buffers hold */
	yr_init(&r, "t.yaml", &dl, 1000);
	assert_int_equal(r.quote_max, YREADER_QUOTE_MAX);
	memset(long_s, 'x', sizeof(long_s) - 1);
	long_s[sizeof(long_s) - 1] = '\0';
	a = yr_quote(&r, long_s);
	assert_int_equal(strlen(a), 1 + YREADER_QUOTE_MAX + 3 + 1);
	yr_init(&r, "t.yaml", &dl, 4);
	assert_string_equal(yr_quote(&r, "abcdef"), "\"abcd...\"");
	assert_string_equal(yr_quote(&r, NULL), "\"\"");
	/* four values in one message, each in a buffer of its own */
	yr_init(&r, "t.yaml", &dl, 64);
	a = yr_quote(&r, "one");
	b = yr_quote(&r, "two");
	c = yr_quote(&r, "three");
	d = yr_quote(&r, "four");
	yr_err(&r, NULL, "%s %s %s %s", a, b, c, d);
	expect_diags(&dl, "t.yaml: error: \"one\" \"two\" \"three\" \"four\"\n");
}

static void
test_reader_lookups(void **state)
{
	static const char *const known[] = { "name", "ports", NULL };
	const char *text = "name: x\nnul: ~\nempty:\nports: [1]\n\"name\\0x\": 1\nextra: {}\n";
	struct diag_list dl = { 0 };
	const struct ynode *root, *k;
	struct yfile yf;
	struct yreader r;
	size_t i = 0;

	(void)state;
	assert_int_equal(parse_str(&yf, &dl, text), 0);
	root = yf.docs[0].root;
	assert_ptr_equal(ymap_opt(root, "name"), ymap_get(root, "name"));
	assert_null(ymap_opt(root, "nul"));
	assert_null(ymap_opt(root, "empty"));
	assert_null(ymap_opt(root, "missing"));
	assert_null(ymap_opt(NULL, "name"));

	/* keys compare with their whole length: "name\0x" is not "name" */
	k = ymap_next_unknown(root, known, &i);
	assert_scalar(k, "nul", 2, 1, true);
	k = ymap_next_unknown(root, known, &i);
	assert_scalar(k, "empty", 3, 1, true);
	k = ymap_next_unknown(root, known, &i);
	assert_non_null(k);
	assert_int_equal(k->len, 6);
	assert_int_equal(k->line, 5);
	k = ymap_next_unknown(root, known, &i);
	assert_scalar(k, "extra", 6, 1, true);
	assert_null(ymap_next_unknown(root, known, &i));
	assert_null(ymap_next_unknown(root, known, &i));
	i = 0;
	assert_null(ymap_next_unknown(ymap_get(root, "ports"), known, &i));

	assert_string_equal(ynode_kind(root), "a mapping");
	assert_string_equal(ynode_kind(ymap_get(root, "ports")), "a list");
	assert_string_equal(ynode_kind(ymap_get(root, "name")), "a scalar");
	yr_init(&r, "t.yaml", &dl, 64);
	assert_string_equal(yr_describe(&r, ymap_get(root, "name")), "\"x\"");
	assert_string_equal(yr_describe(&r, ymap_get(root, "extra")), "a mapping");

	assert_string_equal(yr_scalar(&r, ymap_get(root, "name"), "a name"), "x");
	yr_key(&r, "ports");
	assert_null(yr_scalar(&r, ymap_get(root, "ports"), "a name"));
	expect_diags(&dl, "t.yaml:4:8: error: ports: expected a name, got a list\n");
	yfile_free(&yf);
}

/* Parse text and start reading it, the path at "spec": @return the root. */
static const struct ynode *
reader_on(struct yfile *yf, struct diag_list *dl, struct yreader *r, const char *text)
{
	assert_int_equal(parse_str(yf, dl, text), 0);
	yr_init(r, "t.yaml", dl, 64);
	yr_key(r, "spec");
	return yf->docs[0].root;
}

static void
test_reader_typed(void **state)
{
	const char *text = "m: {a: 1}\n"
			   "l: [1]\n"
			   "s: text\n"
			   "n: ~\n"
			   "ints: [80, -5, +7, \"80\", eighty, 1.5, [1], 99999999999999999999, "
			   "08]\n"
			   "bools: [true, False, TRUE, \"true\", maybe, {}]\n";
	struct diag_list dl = { 0 };
	const struct ynode *root, *ints, *bools, *node;
	struct yfile yf;
	struct yreader r;
	int64_t v = 0;
	bool b = false;
	size_t i;

	(void)state;
	root = reader_on(&yf, &dl, &r, text);

	/* the right type, missing and null: no message */
	assert_ptr_equal(yr_get(&r, root, "m", YNODE_MAP), ymap_get(root, "m"));
	assert_ptr_equal(yr_get(&r, root, "l", YNODE_SEQ), ymap_get(root, "l"));
	assert_null(yr_get(&r, root, "n", YNODE_MAP));
	assert_null(yr_get(&r, root, "missing", YNODE_SEQ));
	assert_int_equal(dl.n, 0);
	/* another type: the value is named, the path has the key, then is restored */
	assert_null(yr_get(&r, root, "s", YNODE_MAP));
	assert_null(yr_get(&r, root, "m", YNODE_SEQ));
	assert_null(yr_get(&r, root, "l", YNODE_SCALAR));
	assert_string_equal(r.path, "spec");
	expect_diags(&dl, "t.yaml:3:4: error: spec.s: expected a mapping, got \"text\"\n"
			  "t.yaml:1:4: error: spec.m: expected a list, got a mapping\n"
			  "t.yaml:2:4: error: spec.l: expected a string, got a list\n");

	assert_string_equal(yr_get_str(&r, root, "s", &node), "text");
	assert_ptr_equal(node, ymap_get(root, "s"));
	assert_null(yr_get_str(&r, root, "n", &node));
	assert_null(node);
	assert_null(yr_str(&r, NULL));
	assert_null(yr_str(&r, ymap_get(root, "n")));
	assert_string_equal(yr_str(&r, ymap_get(root, "s")), "text");
	assert_null(yr_str(&r, ymap_get(root, "m")));
	/* a null scalar is no string: yr_str() reads list items, a mapping's null is absent */
	expect_diags(&dl, "t.yaml:4:4: error: spec: expected a string, got null\n"
			  "t.yaml:1:4: error: spec: expected a string, got a mapping\n");

	ints = ymap_get(root, "ints");
	assert_int_equal(yr_int(&r, ints->items[0], &v), 0);
	assert_int_equal(v, 80);
	assert_int_equal(yr_int(&r, ints->items[1], &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(yr_int(&r, ints->items[2], &v), 0);
	assert_int_equal(v, 7);
	for (i = 3; i < 7; i++)
		assert_int_equal(yr_int(&r, ints->items[i], &v), -EINVAL);
	/* overflow saturates (the caller's range check quotes the text) */
	assert_int_equal(yr_int(&r, ints->items[7], &v), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(yr_int(&r, ints->items[8], &v), 0);
	assert_int_equal(v, 8);
	expect_diags(&dl, "t.yaml:5:20: error: spec: expected an integer, got the string \"80\"\n"
			  "t.yaml:5:26: error: spec: expected an integer, got \"eighty\"\n"
			  "t.yaml:5:34: error: spec: expected an integer, got a number (1.5)\n"
			  "t.yaml:5:39: error: spec: expected an integer, got a list\n");

	bools = ymap_get(root, "bools");
	assert_int_equal(yr_bool(&r, bools->items[0], &b), 0);
	assert_true(b);
	assert_int_equal(yr_bool(&r, bools->items[1], &b), 0);
	assert_false(b);
	assert_int_equal(yr_bool(&r, bools->items[2], &b), 0);
	assert_true(b);
	for (i = 3; i < 6; i++)
		assert_int_equal(yr_bool(&r, bools->items[i], &b), -EINVAL);
	assert_true(b);
	expect_diags(&dl, "t.yaml:6:28: error: spec: expected true or false, got the string "
			  "\"true\"\n"
			  "t.yaml:6:36: error: spec: expected true or false, got \"maybe\"\n"
			  "t.yaml:6:43: error: spec: expected true or false, got a mapping\n");
	assert_int_equal(yparse_bool("FALSE", &b), 0);
	assert_false(b);
	assert_int_equal(yparse_bool("tRUE", &b), -EINVAL);
	assert_int_equal(yparse_bool("1", &b), -EINVAL);
	yfile_free(&yf);
}

/* yresolve(): go-yaml v2's resolve.go, row by row, with the value each row gives. */
static void
test_yresolve(void **state)
{
	static const struct {
		const char *s;
		enum ytag tag;
		int64_t i; /* YTAG_INT; YTAG_BOOL: 0 or 1 */
		double f;  /* YTAG_FLOAT */
	} rows[] = {
		/* the map, looked up first: exact spellings only */
		{ "", YTAG_NULL, 0, 0 },
		{ "~", YTAG_NULL, 0, 0 },
		{ "null", YTAG_NULL, 0, 0 },
		{ "Null", YTAG_NULL, 0, 0 },
		{ "NULL", YTAG_NULL, 0, 0 },
		{ "nULL", YTAG_STR, 0, 0 },
		{ "y", YTAG_BOOL, 1, 0 },
		{ "Y", YTAG_BOOL, 1, 0 },
		{ "Yes", YTAG_BOOL, 1, 0 },
		{ "ON", YTAG_BOOL, 1, 0 },
		{ "True", YTAG_BOOL, 1, 0 },
		{ "n", YTAG_BOOL, 0, 0 },
		{ "NO", YTAG_BOOL, 0, 0 },
		{ "Off", YTAG_BOOL, 0, 0 },
		{ "FALSE", YTAG_BOOL, 0, 0 },
		{ "yEs", YTAG_STR, 0, 0 },
		{ "oN", YTAG_STR, 0, 0 },
		{ "nan", YTAG_STR, 0, 0 },
		{ "inf", YTAG_STR, 0, 0 },
		{ "+inf", YTAG_STR, 0, 0 },
		{ "+.nan", YTAG_STR, 0, 0 },
		{ "<<", YTAG_STR, 0, 0 },
		/* ParseInt(s, 0, 64) once '_' are dropped */
		{ "0", YTAG_INT, 0, 0 },
		{ "-0", YTAG_INT, 0, 0 },
		{ "00", YTAG_INT, 0, 0 },
		{ "0_", YTAG_INT, 0, 0 },
		{ "443", YTAG_INT, 443, 0 },
		{ "+443", YTAG_INT, 443, 0 },
		{ "-443", YTAG_INT, -443, 0 },
		{ "0x1bb", YTAG_INT, 443, 0 },
		{ "0X1BB", YTAG_INT, 443, 0 },
		{ "-0x1Bb", YTAG_INT, -443, 0 },
		{ "0_x1_bb", YTAG_INT, 443, 0 },
		{ "0673", YTAG_INT, 443, 0 },
		{ "017", YTAG_INT, 15, 0 },
		{ "0o673", YTAG_INT, 443, 0 },
		{ "0O673", YTAG_INT, 443, 0 },
		{ "0b110111011", YTAG_INT, 443, 0 },
		{ "-0B110111011", YTAG_INT, -443, 0 },
		{ "4_4_3", YTAG_INT, 443, 0 },
		{ "1__", YTAG_INT, 1, 0 },
		{ "9223372036854775807", YTAG_INT, INT64_MAX, 0 },
		{ "-9223372036854775808", YTAG_INT, INT64_MIN, 0 },
		/* ParseUint: beyond int64, clamped */
		{ "9223372036854775808", YTAG_INT, INT64_MAX, 0 },
		{ "0xffffffffffffffff", YTAG_INT, INT64_MAX, 0 },
		/* ParseInt(plain[2:], 2) after "0b" takes a sign */
		{ "0b-101", YTAG_INT, -5, 0 },
		{ "0b+101", YTAG_INT, 5, 0 },
		{ "0B-101", YTAG_STR, 0, 0 },
		{ "-0b-101", YTAG_STR, 0, 0 },
		/* a well-formed unsigned over 64 bits that is no float: a big.Int */
		{ "0x10000000000000000", YTAG_INT, INT64_MAX, 0 },
		{ "0b1_0000000000000000000000000000000000000000000000000000000000000000", YTAG_INT,
		  INT64_MAX, 0 },
		{ "-0x8000000000000001", YTAG_STR, 0, 0 },
		/* yamlStyleFloat, then ParseFloat */
		{ "443.0", YTAG_FLOAT, 0, 443.0 },
		{ "4.43e2", YTAG_FLOAT, 0, 443.0 },
		{ "4.43E+2", YTAG_FLOAT, 0, 443.0 },
		{ "1.", YTAG_FLOAT, 0, 1.0 },
		{ "+.5", YTAG_FLOAT, 0, 0.5 },
		{ "-.5e1", YTAG_FLOAT, 0, -5.0 },
		{ "08", YTAG_FLOAT, 0, 8.0 },
		{ "09.5", YTAG_FLOAT, 0, 9.5 },
		{ "1_0.2_5", YTAG_FLOAT, 0, 10.25 },
		{ "18446744073709551616", YTAG_FLOAT, 0, 18446744073709551616.0 },
		{ "-9223372036854775809", YTAG_FLOAT, 0, -9223372036854775808.0 },
		{ "1e-400", YTAG_FLOAT, 0, 0.0 },
		{ "1e400", YTAG_STR, 0, 0 },
		{ "0777777777777777777777777", YTAG_FLOAT, 0, 777777777777777777777777.0 },
		/* '.' first: the map, then ParseFloat of the text as written */
		{ ".5", YTAG_FLOAT, 0, 0.5 },
		{ ".5e1", YTAG_FLOAT, 0, 5.0 },
		{ ".2_5", YTAG_FLOAT, 0, 0.25 },
		{ ".5e1_0", YTAG_FLOAT, 0, 5e9 },
		{ "._5", YTAG_STR, 0, 0 },
		{ ".5_", YTAG_STR, 0, 0 },
		{ ".5__0", YTAG_STR, 0, 0 },
		{ ".5e400", YTAG_STR, 0, 0 },
		{ ".", YTAG_STR, 0, 0 },
		{ ".e5", YTAG_STR, 0, 0 },
		{ ".1.2", YTAG_STR, 0, 0 },
		/* strings */
		{ "0x", YTAG_STR, 0, 0 },
		{ "0b", YTAG_STR, 0, 0 },
		{ "0o8", YTAG_STR, 0, 0 },
		{ "0b2", YTAG_STR, 0, 0 },
		{ "1e", YTAG_STR, 0, 0 },
		{ "1e+", YTAG_STR, 0, 0 },
		{ "-", YTAG_STR, 0, 0 },
		{ "+", YTAG_STR, 0, 0 },
		{ "+-5", YTAG_STR, 0, 0 },
		{ "_1", YTAG_STR, 0, 0 },
		{ "1:30", YTAG_STR, 0, 0 },
		{ "1,000", YTAG_STR, 0, 0 },
		{ "1.2.3.4", YTAG_STR, 0, 0 },
		{ "10.0.0.0/8", YTAG_STR, 0, 0 },
		{ "2001:db8::", YTAG_STR, 0, 0 },
		{ "2001-12-14", YTAG_STR, 0, 0 },
		{ "2001-12-14t21:59:43.10-05:00", YTAG_STR, 0, 0 },
		{ "0x1p3", YTAG_STR, 0, 0 },
		{ "1e3x", YTAG_STR, 0, 0 },
		{ "v1", YTAG_STR, 0, 0 },
	};
	struct yvalue v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct ynode n = {
			.type = YNODE_SCALAR,
			.plain = true,
			.str = rows[i].s,
			.len = strlen(rows[i].s),
		};
		enum ytag t = yresolve(&n, &v);

		if (t != rows[i].tag)
			fail_msg("\"%s\": tag %d, want %d", rows[i].s, t, rows[i].tag);
		if (t == YTAG_INT && v.i != rows[i].i)
			fail_msg("\"%s\": %" PRId64 ", want %" PRId64, rows[i].s, v.i, rows[i].i);
		if (t == YTAG_BOOL && v.b != (rows[i].i == 1))
			fail_msg("\"%s\": %d", rows[i].s, v.b);
		if (t == YTAG_FLOAT && v.f != rows[i].f)
			fail_msg("\"%s\": %.17g, want %.17g", rows[i].s, v.f, rows[i].f);
		/* quoted, the same text is a string */
		n.plain = false;
		assert_int_equal(yresolve(&n, NULL), YTAG_STR);
	}
	/* the special floats; collections; a missing node */
	{
		static const char nul_inside[] = { '1', '\0', '2', '\0' };
		struct ynode n = { .type = YNODE_SCALAR, .plain = true, .str = "-.Inf", .len = 5 };

		assert_int_equal(yresolve(&n, &v), YTAG_FLOAT);
		assert_true(isinf(v.f) && v.f < 0);
		n.str = ".NaN";
		n.len = 4;
		assert_int_equal(yresolve(&n, &v), YTAG_FLOAT);
		assert_true(isnan(v.f));
		n.type = YNODE_SEQ;
		assert_int_equal(yresolve(&n, &v), YTAG_SEQ);
		n.type = YNODE_MAP;
		assert_int_equal(yresolve(&n, &v), YTAG_MAP);
		assert_int_equal(yresolve(NULL, &v), YTAG_NULL);
		/* a NUL inside is no number */
		n.type = YNODE_SCALAR;
		n.str = nul_inside;
		n.len = sizeof(nul_inside) - 1;
		assert_int_equal(yresolve(&n, &v), YTAG_STR);
	}
	assert_string_equal(ytag_name(YTAG_NULL), "null");
	assert_string_equal(ytag_name(YTAG_BOOL), "a boolean");
	assert_string_equal(ytag_name(YTAG_INT), "an integer");
	assert_string_equal(ytag_name(YTAG_FLOAT), "a number");
	assert_string_equal(ytag_name(YTAG_STR), "a string");
	assert_string_equal(ytag_name(YTAG_SEQ), "a list");
	assert_string_equal(ytag_name(YTAG_MAP), "a mapping");
}

/*
 * Kubernetes typing is go-yaml v2's (YAML 1.1), with which kubectl turns YAML
 * into JSON: integers in every base it reads, whole floats as the JSON
 * integers they become, the YAML 1.1 booleans, and a plain scalar of another
 * type where a string belongs refused (the API server: "must be of type
 * string"); a quoted or block scalar is always a string.
 */
static void
test_reader_yaml11(void **state)
{
	const char *text = "ints: [0x1bb, 0X1BB, 1_000, 017, 0o17, +12, 0b101, -0b101, 0b-101, "
			   "-0x10, 08, 80.0, 8e1, .5e1, 9223372036854775807, "
			   "9223372036854775808, -9223372036854775809, 1__0_, 0]\n"
			   "badints: [80.5, yes, .inf, ~, \"0x10\", 1e400, 0x, -.5]\n"
			   "bools: [yes, Yes, YES, y, Y, on, On, ON, true, "
			   "no, No, NO, n, N, off, Off, OFF, False]\n"
			   "badbools: [yEs, \"yes\", 1, 0.0, ~, tRUE]\n"
			   "s:\n"
			   "  i: 123\n"
			   "  b: yes\n"
			   "  f: 1.0\n"
			   "  h: 0x1F\n"
			   "  n: ~\n"
			   "  e:\n"
			   "  q: \"123\"\n"
			   "  t: 2001-12-14\n"
			   "  ip: 1.2.3.4\n"
			   "  big: 1e400\n"
			   "  lit: |\n"
			   "    123\n"
			   "nums: [1, 2.5, 0x10, -1e3, 1_0.5, .inf, -.Inf, .nan, \"1\", yes, x]\n";
	static const int64_t ints[] = {
		443, 443, 1000, 15, 15,        12,        5,         -5, -5, -16,
		8,   80,  80,   5,  INT64_MAX, INT64_MAX, INT64_MIN, 10, 0,
	};
	struct diag_list dl = { 0 };
	const struct ynode *root, *seq, *s, *node;
	struct yfile yf;
	struct yreader r;
	int64_t v = 0;
	bool b = false;
	size_t i;

	(void)state;
	root = reader_on(&yf, &dl, &r, text);

	seq = ymap_get(root, "ints");
	assert_int_equal(seq->n, sizeof(ints) / sizeof(ints[0]));
	for (i = 0; i < seq->n; i++) {
		v = 7;
		assert_int_equal(yr_int(&r, seq->items[i], &v), 0);
		assert_true(v == ints[i]);
	}
	assert_int_equal(dl.n, 0);
	seq = ymap_get(root, "badints");
	for (i = 0; i < seq->n; i++)
		assert_int_equal(yr_int(&r, seq->items[i], &v), -EINVAL);
	expect_diags(&dl, "t.yaml:2:11: error: spec: expected an integer, got a number (80.5)\n"
			  "t.yaml:2:17: error: spec: expected an integer, got a boolean (yes)\n"
			  "t.yaml:2:22: error: spec: expected an integer, got a number (.inf)\n"
			  "t.yaml:2:28: error: spec: expected an integer, got null\n"
			  "t.yaml:2:31: error: spec: expected an integer, got the string \"0x10\"\n"
			  "t.yaml:2:39: error: spec: expected an integer, got \"1e400\"\n"
			  "t.yaml:2:46: error: spec: expected an integer, got \"0x\"\n"
			  "t.yaml:2:50: error: spec: expected an integer, got a number (-.5)\n");

	seq = ymap_get(root, "bools");
	for (i = 0; i < seq->n; i++) {
		b = i >= 9;
		assert_int_equal(yr_bool(&r, seq->items[i], &b), 0);
		assert_int_equal(b, i < 9);
	}
	assert_int_equal(dl.n, 0);
	seq = ymap_get(root, "badbools");
	for (i = 0; i < seq->n; i++)
		assert_int_equal(yr_bool(&r, seq->items[i], &b), -EINVAL);
	expect_diags(&dl, "t.yaml:4:12: error: spec: expected true or false, got \"yEs\"\n"
			  "t.yaml:4:17: error: spec: expected true or false, got the string "
			  "\"yes\"\n"
			  "t.yaml:4:24: error: spec: expected true or false, got an integer (1)\n"
			  "t.yaml:4:27: error: spec: expected true or false, got a number (0.0)\n"
			  "t.yaml:4:32: error: spec: expected true or false, got null\n"
			  "t.yaml:4:35: error: spec: expected true or false, got \"tRUE\"\n");

	/* a string: the text, and for another YAML type an error saying how to quote it */
	s = ymap_get(root, "s");
	assert_string_equal(yr_get_str(&r, s, "i", &node), "123");
	assert_ptr_equal(node, ymap_get(s, "i"));
	assert_string_equal(yr_get_str(&r, s, "b", NULL), "yes");
	assert_string_equal(yr_get_str(&r, s, "f", NULL), "1.0");
	assert_string_equal(yr_str(&r, ymap_get(s, "h")), "0x1F");
	assert_non_null(yr_get(&r, s, "i", YNODE_SCALAR));
	assert_string_equal(yr_str_opt(&r, ymap_get(s, "b")), "yes");
	assert_string_equal(r.path, "spec");
	expect_diags(&dl, "t.yaml:6:6: error: spec.i: expected a string, got an integer (quote "
			  "it: \"123\")\n"
			  "t.yaml:7:6: error: spec.b: expected a string, got a boolean (quote it: "
			  "\"yes\")\n"
			  "t.yaml:8:6: error: spec.f: expected a string, got a number (quote it: "
			  "\"1.0\")\n"
			  "t.yaml:9:6: error: spec: expected a string, got an integer (quote it: "
			  "\"0x1F\")\n"
			  "t.yaml:6:6: error: spec.i: expected a string, got an integer (quote "
			  "it: \"123\")\n"
			  "t.yaml:7:6: error: spec: expected a string, got a boolean (quote it: "
			  "\"yes\")\n");
	/* null is absent; quoted, timestamps, addresses, overflowing floats, block: strings */
	assert_null(yr_get_str(&r, s, "n", &node));
	assert_null(node);
	assert_null(yr_get_str(&r, s, "e", NULL));
	assert_null(yr_str_opt(&r, ymap_get(s, "n")));
	assert_null(yr_str_opt(&r, ymap_get(s, "e")));
	assert_null(yr_str_opt(&r, NULL));
	assert_string_equal(yr_str_opt(&r, ymap_get(s, "ip")), "1.2.3.4");
	assert_string_equal(yr_get_str(&r, s, "q", NULL), "123");
	assert_string_equal(yr_get_str(&r, s, "t", NULL), "2001-12-14");
	assert_string_equal(yr_str(&r, ymap_get(s, "ip")), "1.2.3.4");
	assert_string_equal(yr_str(&r, ymap_get(s, "big")), "1e400");
	assert_string_equal(yr_get_str(&r, s, "lit", NULL), "123\n");
	assert_int_equal(dl.n, 0);

	/* a number (a CRD's type: number): an integer or a finite float */
	seq = ymap_get(root, "nums");
	for (i = 0; i < 5; i++) {
		static const double nums[] = { 1, 2.5, 16, -1000, 10.5 };
		double d = 0;

		assert_int_equal(yr_number(&r, seq->items[i], &d), 0);
		assert_true(d == nums[i]);
	}
	for (; i < seq->n; i++) {
		double d = 7;

		assert_int_equal(yr_number(&r, seq->items[i], &d), -EINVAL);
		assert_true(d == 7);
	}
	expect_diags(&dl, "t.yaml:18:35: error: spec: expected a number, got .inf (JSON has no "
			  "infinity or NaN)\n"
			  "t.yaml:18:41: error: spec: expected a number, got -.Inf (JSON has no "
			  "infinity or NaN)\n"
			  "t.yaml:18:48: error: spec: expected a number, got .nan (JSON has no "
			  "infinity or NaN)\n"
			  "t.yaml:18:54: error: spec: expected a number, got the string \"1\"\n"
			  "t.yaml:18:59: error: spec: expected a number, got a boolean (yes)\n"
			  "t.yaml:18:64: error: spec: expected a number, got \"x\"\n");
	yfile_free(&yf);
}

static void
test_reader_text(void **state)
{
	static const char *const modes[] = { "random", "preserve", "never", NULL };
	const char *text = "u: {ok: 1500, q: \"68\", lo: 67, zero: 01, sign: -1, frac: 1.5, "
			   "big: 99999999999999999999999, list: [1], nul: ~}\n"
			   "e: {ok: preserve, bad: sometimes, map: {}}\n"
			   "f: {t: True, q: \"false\", bad: maybe, list: []}\n"
			   "d: {s: 240s, sum: 2h4m, bare: 120, ms: 1500ms, zero: 0s, long: 169h, "
			   "bad: 7x, neg: -5s, list: [1s]}\n";
	struct diag_list dl = { 0 };
	const struct ynode *root, *u, *e, *f, *d;
	unsigned int ev = 9;
	uint64_t x = 7;
	struct yfile yf;
	struct yreader r;
	bool b = false;
	size_t mark;

	(void)state;
	assert_int_equal(parse_str(&yf, &dl, text), 0);
	root = yf.docs[0].root;
	u = ymap_get(root, "u");
	e = ymap_get(root, "e");
	f = ymap_get(root, "f");
	d = ymap_get(root, "d");
	yr_init(&r, "t.yaml", &dl, 64);

	mark = yr_key(&r, "u");
	assert_ptr_equal(yr_get_uint(&r, u, "ok", 68, 9000, NULL, &x), ymap_get(u, "ok"));
	assert_int_equal(x, 1500);
	assert_non_null(yr_get_uint(&r, u, "q", 68, 9000, NULL, &x));
	assert_int_equal(x, 68);
	/* missing or null: the default stays, nothing said */
	assert_null(yr_get_uint(&r, u, "nul", 0, 10, NULL, &x));
	assert_null(yr_get_uint(&r, u, "missing", 0, 10, NULL, &x));
	assert_int_equal(x, 68);
	assert_null(yr_get_uint(&r, u, "lo", 68, 9000, NULL, &x));
	assert_null(yr_get_uint(&r, u, "zero", 0, 9000, NULL, &x));
	assert_null(yr_get_uint(&r, u, "sign", 0, 9000, NULL, &x));
	assert_null(yr_get_uint(&r, u, "frac", 0, 9000, "a whole number", &x));
	assert_null(yr_get_uint(&r, u, "big", 0, UINT64_MAX, NULL, &x));
	assert_null(yr_get_uint(&r, u, "list", 0, 9000, NULL, &x));
	assert_int_equal(x, 68);
	yr_pop(&r, mark);
	assert_string_equal(r.path, "");
	expect_diags(&dl, "t.yaml:1:28: error: u.lo: invalid value \"67\" (want 68-9000)\n"
			  "t.yaml:1:38: error: u.zero: invalid value \"01\" (want 0-9000)\n"
			  "t.yaml:1:48: error: u.sign: invalid value \"-1\" (want 0-9000)\n"
			  "t.yaml:1:58: error: u.frac: invalid value \"1.5\" (want a whole "
			  "number)\n"
			  "t.yaml:1:68: error: u.big: invalid value \"99999999999999999999999\" "
			  "(want 0-18446744073709551615)\n"
			  "t.yaml:1:99: error: u.list: expected a number, got a list\n");

	mark = yr_key(&r, "e");
	assert_ptr_equal(yr_get_enum(&r, e, "ok", modes, NULL, &ev), ymap_get(e, "ok"));
	assert_int_equal(ev, 1);
	assert_null(yr_get_enum(&r, e, "bad", modes, NULL, &ev));
	assert_null(yr_get_enum(&r, e, "map", modes, "a mode", &ev));
	assert_null(yr_get_enum(&r, e, "missing", modes, NULL, &ev));
	assert_int_equal(ev, 1);
	yr_pop(&r, mark);
	expect_diags(&dl, "t.yaml:2:24: error: e.bad: invalid value \"sometimes\" (want random, "
			  "preserve or never)\n"
			  "t.yaml:2:40: error: e.map: expected a mode, got a mapping\n");

	mark = yr_key(&r, "f");
	assert_non_null(yr_get_flag(&r, f, "t", &b));
	assert_true(b);
	assert_non_null(yr_get_flag(&r, f, "q", &b));
	assert_false(b);
	assert_null(yr_get_flag(&r, f, "bad", &b));
	assert_null(yr_get_flag(&r, f, "list", &b));
	assert_false(b);
	yr_pop(&r, mark);
	expect_diags(&dl, "t.yaml:3:31: error: f.bad: invalid value \"maybe\" (want true or "
			  "false)\n"
			  "t.yaml:3:44: error: f.list: expected true or false, got a list\n");

	mark = yr_key(&r, "d");
	assert_non_null(yr_get_duration_ms(&r, d, "s", 168 * 3600000ull, &x));
	assert_int_equal(x, 240000);
	assert_non_null(yr_get_duration_ms(&r, d, "sum", 168 * 3600000ull, &x));
	assert_int_equal(x, (2 * 60 + 4) * 60000);
	assert_non_null(yr_get_duration_ms(&r, d, "bare", 168 * 3600000ull, &x));
	assert_int_equal(x, 120000);
	assert_non_null(yr_get_duration_ms(&r, d, "ms", 168 * 3600000ull, &x));
	assert_int_equal(x, 1500);
	assert_null(yr_get_duration_ms(&r, d, "zero", 168 * 3600000ull, &x));
	assert_null(yr_get_duration_ms(&r, d, "long", 168 * 3600000ull, &x));
	assert_null(yr_get_duration_ms(&r, d, "bad", 168 * 3600000ull, &x));
	assert_null(yr_get_duration_ms(&r, d, "neg", 168 * 3600000ull, &x));
	assert_null(yr_get_duration_ms(&r, d, "list", 168 * 3600000ull, &x));
	assert_int_equal(x, 1500);
	yr_pop(&r, mark);
	expect_diags(&dl, "t.yaml:4:54: error: d.zero: duration \"0s\" out of range (want 1ms to "
			  "168h)\n"
			  "t.yaml:4:64: error: d.long: duration \"169h\" out of range (want 1ms to "
			  "168h)\n"
			  "t.yaml:4:75: error: d.bad: invalid duration \"7x\" (want a number with "
			  "unit s, m, h or ms, e.g. 240s)\n"
			  "t.yaml:4:84: error: d.neg: invalid duration \"-5s\" (want a number with "
			  "unit s, m, h or ms, e.g. 240s)\n"
			  "t.yaml:4:95: error: d.list: expected a duration, got a list\n");
	yfile_free(&yf);
}

static void
test_parsers(void **state)
{
	uint64_t v = 42;

	(void)state;
	assert_int_equal(yparse_uint("0", 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(yparse_uint("65535", 65535, &v), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(yparse_uint("65536", 65535, &v), -ERANGE);
	assert_int_equal(yparse_uint("18446744073709551615", UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(yparse_uint("18446744073709551616", UINT64_MAX, &v), -ERANGE);
	assert_int_equal(yparse_uint("", 10, &v), -EINVAL);
	assert_int_equal(yparse_uint("010", 100, &v), -EINVAL);
	assert_int_equal(yparse_uint("+1", 100, &v), -EINVAL);
	assert_int_equal(yparse_uint("1 ", 100, &v), -EINVAL);
	assert_true(v == UINT64_MAX);

	assert_int_equal(yparse_duration_ms("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(yparse_duration_ms("7440", &v), 0);
	assert_int_equal(v, 7440000);
	assert_int_equal(yparse_duration_ms("1h1m1s1ms", &v), 0);
	assert_int_equal(v, 3661001);
	assert_int_equal(yparse_duration_ms("01s", &v), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(yparse_duration_ms("012", &v), -EINVAL);
	assert_int_equal(yparse_duration_ms("1.5s", &v), -EINVAL);
	assert_int_equal(yparse_duration_ms("1d", &v), -EINVAL);
	assert_int_equal(yparse_duration_ms("s", &v), -EINVAL);
	assert_int_equal(yparse_duration_ms("", &v), -EINVAL);
	assert_int_equal(yparse_duration_ms(NULL, &v), -EINVAL);
	/* UINT64_MAX / 1000 seconds fit; one more does not */
	assert_int_equal(yparse_duration_ms("18446744073709551", &v), 0);
	assert_int_equal(yparse_duration_ms("18446744073709552", &v), -EINVAL);
	assert_int_equal(yparse_duration_ms("5124095576030h", &v), 0);
	assert_int_equal(yparse_duration_ms("5124095576031h", &v), -EINVAL);
	assert_int_equal(yparse_duration_ms("18446744073709551615ms1ms", &v), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_nulls),
		cmocka_unit_test(test_multi_doc),
		cmocka_unit_test(test_empty_inputs),
		cmocka_unit_test(test_file_too_large),
		cmocka_unit_test(test_scalar_too_large),
		cmocka_unit_test(test_nesting_too_deep),
		cmocka_unit_test(test_too_many_nodes),
		cmocka_unit_test(test_aliases),
		cmocka_unit_test(test_alias_errors),
		cmocka_unit_test(test_alias_bound),
		cmocka_unit_test(test_merge_keys),
		cmocka_unit_test(test_merge_errors),
		cmocka_unit_test(test_duplicate_keys),
		cmocka_unit_test(test_big_mapping),
		cmocka_unit_test(test_non_scalar_keys),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_flow_colons),
		cmocka_unit_test(test_flow_colon_anchors),
		cmocka_unit_test(test_yaml_directive),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_free_and_reuse),
		cmocka_unit_test(test_yquote),
		cmocka_unit_test(test_reader_path),
		cmocka_unit_test(test_reader_diag),
		cmocka_unit_test(test_reader_quote),
		cmocka_unit_test(test_reader_lookups),
		cmocka_unit_test(test_reader_typed),
		cmocka_unit_test(test_yresolve),
		cmocka_unit_test(test_reader_yaml11),
		cmocka_unit_test(test_reader_text),
		cmocka_unit_test(test_parsers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
