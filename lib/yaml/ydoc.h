/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A bounded YAML reader: libyaml's event parser builds a small, read-only tree
 * with the position of every node, so that loaders can report
 * "FILE:LINE:COL: message" for any value.
 *
 * Plain scalars are read as go-yaml (kubectl, Istio) reads them: a ':' inside
 * one in a flow collection is part of it unless a blank follows, so
 * "[1.2.3.4, 2001:db8::]" has two items (libyaml alone refuses it; see ydoc.c
 * for how positions stay the file's). Like go-yaml, a %YAML directive for a
 * version other than 1.1 is refused.
 *
 * Anchors, aliases and merge keys are read as go-yaml reads them: an alias is
 * the anchored node itself (shared, not copied: a node reached through an
 * alias has the anchor's position), and a mapping with a merge key ("<<: *a",
 * "<<: [*a, *b]") is a plain mapping of the merged pairs (see ydoc.c).
 *
 * Hostile input is refused, not interpreted: files over YDOC_MAX_FILE bytes,
 * scalars over YDOC_MAX_SCALAR, nesting deeper than YDOC_MAX_DEPTH, more than
 * YDOC_MAX_NODES nodes with every alias expanded (so that no walk of the tree
 * visits more), duplicate mapping keys, non-scalar mapping keys and invalid
 * UTF-8 each give one error and no tree.
 *
 * Thread-safety: none needed; a yfile is built and read by one thread.
 */
#ifndef EGRESS_YDOC_H
#define EGRESS_YDOC_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

#define YDOC_MAX_FILE   (16u << 20) /**< bytes per file */
#define YDOC_MAX_SCALAR (1u << 20)  /**< bytes per scalar */
#define YDOC_MAX_DEPTH  64          /**< nested collections */
#define YDOC_MAX_NODES  (1u << 21)  /**< nodes per file, aliases expanded */

enum ynode_type {
	YNODE_SCALAR,
	YNODE_SEQ,
	YNODE_MAP,
};

struct ynode {
	enum ynode_type type;
	unsigned int line;    /**< 1-based line of the node's first character */
	unsigned int col;     /**< 1-based column */
	bool plain;           /**< scalar written without quotes (may be null/bool/int) */
	const char *str;      /**< scalar: NUL-terminated value; NULL otherwise */
	size_t len;           /**< scalar: length of str */
	struct ynode **items; /**< seq: the items; map: key0, value0, key1, value1, ... */
	size_t n;             /**< seq: number of items; map: number of pairs */
};

struct ydoc {
	struct ynode *root; /**< NULL for an empty document */
	unsigned int index; /**< 0-based position of the document in the file */
	unsigned int line;  /**< where the document starts */
};

struct yfile {
	char *path;        /**< as passed to yfile_load() */
	struct ydoc *docs; /**< every document of a multi-document stream */
	size_t n_docs;
	void *arena; /**< private: owns all nodes and strings */
};

/**
 * Read and parse one file. On failure diagnostics are added to dl, the yfile
 * is left empty and -EINVAL (bad content) or -errno (I/O) is returned.
 */
int yfile_load(struct yfile *yf, const char *path, struct diag_list *dl);

/** Parse a buffer; name is used in diagnostics. Same contract as yfile_load(). */
int yfile_parse(struct yfile *yf, const char *name, const char *buf, size_t len,
		struct diag_list *dl);

/** Free everything a yfile owns; NULL-tolerant; the yfile may be reused. */
void yfile_free(struct yfile *yf);

/** Value for key in a mapping node, or NULL (also when map is not a mapping). */
const struct ynode *ymap_get(const struct ynode *map, const char *key);

/** Key node for key in a mapping node, or NULL. */
const struct ynode *ymap_key(const struct ynode *map, const char *key);

/** True for a plain scalar "null", "~", "" or a missing node. */
bool ynode_is_null(const struct ynode *n);

/** Bytes yquote() may write for at most max bytes of a value. */
#define YQUOTE_SIZE(max) (4 * (max) + 8)

/**
 * s (len bytes) as a double-quoted literal for a message, in out: '"' and
 * '\\' escaped with a backslash, newline and tab as \n and \t, other control
 * bytes (NUL included) as \xNN; at most max bytes of s, cut on a UTF-8
 * character boundary, "..." marking the cut. out holds YQUOTE_SIZE(max)
 * bytes. @return out.
 */
const char *yquote(char *out, const char *s, size_t len, size_t max);

/** Scalar text, or NULL when n is not a scalar. */
static inline const char *
ynode_str(const struct ynode *n)
{
	return n != NULL && n->type == YNODE_SCALAR ? n->str : NULL;
}

#endif
