/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: yfile_parse() on arbitrary bytes (not NUL-terminated:
 * libFuzzer's buffer is exactly `size` bytes, so reading past it is an ASan
 * report). Beyond not crashing or leaking, the promises of ydoc.h:
 *   - failure: at least one error, no documents left behind;
 *   - success: no error; every node has a position, depth and node count stay
 *     within the limits; scalars are NUL-terminated at len and not longer
 *     than YDOC_MAX_SCALAR; mapping keys are scalars, never repeated, and
 *     ymap_get() / ymap_key() find each of them; yresolve() types a quoted
 *     scalar a string and agrees with ynode_is_null() on nulls.
 */
#include "fuzz_common.h"

#include "diag.h"
#include "ydoc.h"
#include "yreader.h"

/* Maps with more pairs than this skip the quadratic key checks. */
#define KEY_CHECK_MAX 64

struct walk {
	size_t nodes;
};

static void
walk(struct walk *w, const struct ynode *n, unsigned int depth)
{
	struct yvalue v;
	enum ytag t;
	size_t i, j;

	FUZZ_CHECK(n != NULL, "NULL node at depth %u", depth);
	w->nodes++;
	FUZZ_CHECK(w->nodes <= YDOC_MAX_NODES, "more than %u nodes", YDOC_MAX_NODES);
	FUZZ_CHECK(n->line >= 1 && n->col >= 1, "node without a position (%u:%u)", n->line, n->col);
	switch (n->type) {
	case YNODE_SCALAR:
		FUZZ_CHECK(n->str != NULL && n->str[n->len] == '\0', "scalar not NUL-terminated");
		FUZZ_CHECK(n->len <= YDOC_MAX_SCALAR, "scalar of %zu bytes", n->len);
		FUZZ_CHECK(n->items == NULL && n->n == 0, "scalar with items");
		t = yresolve(n, &v);
		FUZZ_CHECK((t == YTAG_NULL) == ynode_is_null(n), "\"%s\": %s, ynode_is_null %d",
			   n->str, ytag_name(t), ynode_is_null(n));
		FUZZ_CHECK(n->plain || t == YTAG_STR, "quoted \"%s\" is %s", n->str, ytag_name(t));
		return;
	case YNODE_SEQ:
	case YNODE_MAP:
		FUZZ_CHECK(depth < YDOC_MAX_DEPTH, "collection at depth %u", depth);
		FUZZ_CHECK(n->str == NULL, "collection with a string");
		FUZZ_CHECK(n->n == 0 || n->items != NULL, "%zu items, no array", n->n);
		break;
	default:
		FUZZ_CHECK(0, "node type %d", (int)n->type);
	}
	if (n->type == YNODE_SEQ) {
		for (i = 0; i < n->n; i++)
			walk(w, n->items[i], depth + 1);
		FUZZ_CHECK(ymap_get(n, "a") == NULL, "ymap_get on a sequence");
		return;
	}
	for (i = 0; i < n->n; i++) {
		const struct ynode *k = n->items[2 * i];

		FUZZ_CHECK(k != NULL && k->type == YNODE_SCALAR, "mapping key %zu not a scalar", i);
		walk(w, k, depth + 1);
		walk(w, n->items[2 * i + 1], depth + 1);
		if (n->n > KEY_CHECK_MAX)
			continue;
		for (j = 0; j < i; j++) {
			const struct ynode *o = n->items[2 * j];

			FUZZ_CHECK(!(o->len == k->len && memcmp(o->str, k->str, k->len) == 0),
				   "duplicate key \"%s\" at %u:%u and %u:%u", k->str, o->line,
				   o->col, k->line, k->col);
		}
		/* keys with an embedded NUL cannot be asked for by C string */
		if (strlen(k->str) == k->len) {
			FUZZ_CHECK(ymap_get(n, k->str) == n->items[2 * i + 1],
				   "ymap_get(\"%s\") misses", k->str);
			FUZZ_CHECK(ymap_key(n, k->str) == k, "ymap_key(\"%s\") misses", k->str);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list dl = { 0 };
	struct yfile yf = { 0 };
	size_t i;
	int rc;

	rc = yfile_parse(&yf, "fuzz.yaml", (const char *)data, size, &dl);
	if (rc != 0) {
		FUZZ_CHECK(rc < 0, "rc %d", rc);
		FUZZ_CHECK(diag_errors(&dl) > 0, "failed (%d) without an error", rc);
		FUZZ_CHECK(yf.n_docs == 0, "failed, %zu documents left", yf.n_docs);
	} else {
		struct walk w = { 0 };

		FUZZ_CHECK(diag_errors(&dl) == 0, "succeeded with %zu errors", diag_errors(&dl));
		FUZZ_CHECK(yf.n_docs == 0 || yf.docs != NULL, "documents without an array");
		for (i = 0; i < yf.n_docs; i++) {
			FUZZ_CHECK(yf.docs[i].index == i, "document %zu has index %u", i,
				   yf.docs[i].index);
			if (yf.docs[i].root != NULL)
				walk(&w, yf.docs[i].root, 0);
		}
	}
	for (i = 0; i < dl.n; i++) {
		char buf[256];

		FUZZ_CHECK(dl.v[i].msg != NULL && dl.v[i].file != NULL, "empty diagnostic");
		(void)diag_format(&dl.v[i], buf, sizeof(buf));
	}
	yfile_free(&yf);
	/* a freed yfile is empty and reusable */
	FUZZ_CHECK(yf.n_docs == 0, "yfile_free left %zu documents", yf.n_docs);
	yfile_free(&yf);
	diag_list_clear(&dl);
	return 0;
}
