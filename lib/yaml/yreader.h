/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Typed reading of a ydoc tree, for the loaders of the appliance config and
 * of the Istio YAML: one place for the YAML path of the node being read
 * ("spec.ports[0].number"), for diagnostics at a node's position
 * ("FILE:LINE:COL: PATH: message"), for values quoted in messages (yquote()),
 * and for getters that check a value's type and form and report, once and
 * where it was written, the value that is wrong.
 *
 * Two families of getters, because the two loaders read two kinds of YAML:
 *   - Kubernetes resources are typed as kubectl and the API server type
 *     them: go-yaml v2 resolves each plain (unquoted) scalar to null, a
 *     boolean, an integer, a float or a string (YAML 1.1: yresolve()), and
 *     a value of the wrong type reads "expected an integer, got the string
 *     \"80\"" or "expected a string, got an integer (quote it: \"123\")"
 *     (yr_get(), yr_str(), yr_int(), yr_number(), yr_bool());
 *   - the appliance config takes a value as text, quoted or not, and a wrong
 *     one reads "invalid value \"0\" (want 1-128)" (yr_get_uint(),
 *     yr_get_enum(), yr_get_flag(), yr_get_duration_ms()).
 * Both families share yr_scalar() ("expected WHAT, got a list").
 *
 * Thread-safety: a yreader belongs to the thread that loads; no global state.
 */
#ifndef EGRESS_YREADER_H
#define EGRESS_YREADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "ydoc.h"

#define YREADER_PATH_MAX  256 /**< bytes of a YAML path; a longer one is cut */
#define YREADER_QUOTE_MAX 80  /**< the most bytes of a value a message may show */
#define YREADER_NQUOTE    4   /**< values one message may quote with yr_quote*() */
#define YREADER_MSG_MAX   768 /**< bytes of a message, path excluded; cut beyond */

struct yreader {
	const char *file;            /**< the name diagnostics carry */
	struct diag_list *dl;        /**< where they go */
	size_t quote_max;            /**< bytes of a value shown in a message */
	char path[YREADER_PATH_MAX]; /**< YAML path of the node being read */
	size_t path_len;
	char qbuf[YREADER_NQUOTE][YQUOTE_SIZE(YREADER_QUOTE_MAX)]; /**< yr_quote*() */
	unsigned int qi;
};

/**
 * Start reading a file: an empty path; messages show at most quote_max bytes
 * of a value (clamped to YREADER_QUOTE_MAX). file and dl must outlive r.
 */
void yr_init(struct yreader *r, const char *file, struct diag_list *dl, size_t quote_max);

/** Append printf-style text to the path; @return the mark yr_pop() goes back to. */
size_t yr_push(struct yreader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Append ".key" ("key" to an empty path); @return the mark for yr_pop(). */
size_t yr_key(struct yreader *r, const char *key);

/** Append "[i]"; @return the mark for yr_pop(). */
size_t yr_idx(struct yreader *r, size_t i);

/** Cut the path back to a mark that yr_push(), yr_key() or yr_idx() returned. */
void yr_pop(struct yreader *r, size_t mark);

/**
 * Add "FILE:LINE:COL: PATH: message" at at's position ("FILE:LINE:COL:
 * message" when the path is empty; line 0 when at is NULL).
 */
void yr_diag(struct yreader *r, enum diag_severity sev, const struct ynode *at, const char *fmt,
	     ...) __attribute__((format(printf, 4, 5)));

/** yr_diag() without the path: for a message that names its place itself. */
void yr_diag_bare(struct yreader *r, enum diag_severity sev, const struct ynode *at,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define yr_err(r, at, ...)  yr_diag(r, DIAG_ERROR, at, __VA_ARGS__)
#define yr_warn(r, at, ...) yr_diag(r, DIAG_WARNING, at, __VA_ARGS__)

/**
 * s quoted for a message (yquote(), at most r->quote_max bytes); NULL reads
 * "". The text lives in one of YREADER_NQUOTE rotating buffers: a message may
 * quote that many values at once.
 */
const char *yr_quote(struct yreader *r, const char *s);

/** A scalar's whole text (its length, NUL bytes included) quoted, as yr_quote(). */
const char *yr_quote_node(struct yreader *r, const struct ynode *n);

/** What a node is: "a mapping", "a list" or "a scalar". */
const char *ynode_kind(const struct ynode *n);

/** A node for "got ..." messages: a scalar quoted (yr_quote_node()), else its kind. */
const char *yr_describe(struct yreader *r, const struct ynode *n);

/** The value of key in map, or NULL when it is missing or null (the default applies). */
const struct ynode *ymap_opt(const struct ynode *map, const char *key);

/**
 * The next key of map, from pair *i on, that is none of known (NULL-terminated,
 * compared with the key's whole length), or NULL; *i moves past it. Start
 * with *i = 0; map may be anything (no key then).
 */
const struct ynode *ymap_next_unknown(const struct ynode *map, const char *const *known, size_t *i);

/** n's text when it is a scalar; otherwise NULL after "expected WHAT, got a list". */
const char *yr_scalar(struct yreader *r, const struct ynode *n, const char *what);

/*
 * Kubernetes typing. Each getter reports at the value, with the path the
 * caller pushed (yr_get*() push the key themselves).
 */

/**
 * The value of key when it has type t; NULL when it is missing or null
 * (silently), or of another type: "KEY: expected a mapping|a list|a string,
 * got DESCRIBE". A string (t YNODE_SCALAR) is a scalar that yresolve() makes
 * YTAG_STR; a plain one of another YAML type (123, yes, 1.0: the API server
 * refuses it where a string belongs) is reported, "KEY: expected a string,
 * got an integer (quote it: \"123\")", and still returned.
 */
const struct ynode *yr_get(struct yreader *r, const struct ynode *map, const char *key,
			   enum ynode_type t);

/** yr_get() of a string: its text, and *node the value (NULL when absent). */
const char *yr_get_str(struct yreader *r, const struct ynode *map, const char *key,
		       const struct ynode **node);

/**
 * A string, for a list item: NULL, silently, for a missing node; NULL after
 * "expected a string, got null" (the API server drops a null in a mapping,
 * never in a list: see yr_str_opt()) or "... got a list"; the text otherwise,
 * after "expected a string, got an integer (quote it: \"123\")" for a plain
 * scalar of another YAML type (see yr_get()).
 */
const char *yr_str(struct yreader *r, const struct ynode *n);

/**
 * yr_str() of a mapping's value (a label's): NULL, silently, for null too,
 * which the API server drops from a mapping as if the key were absent.
 */
const char *yr_str_opt(struct yreader *r, const struct ynode *n);

/**
 * What go-yaml v2 (YAML 1.1; resolve.go) makes of a node, as kubectl reads a
 * manifest before it sends the API server JSON. Only a plain scalar is
 * resolved; a quoted or block one is a string.
 */
enum ytag {
	YTAG_NULL,  /**< "", ~, null, Null, NULL; a missing node */
	YTAG_BOOL,  /**< y, yes, true, on / n, no, false, off, each also Capitalised and UPPER */
	YTAG_INT,   /**< Go's ParseInt(s, 0, 64) once every '_' is dropped: 443, +443, 0x1bb,
		     *   0o673, 0b110111011, 0673 (a leading 0 is octal), 4_43 */
	YTAG_FLOAT, /**< 443.0, 4.43e2, .5, 08 (no octal digit: the float 8), .inf, -.Inf, .nan */
	YTAG_STR,   /**< any other scalar: 1.2.3.4, 2001-12-14, 0x, 1e400 (overflows) */
	YTAG_SEQ,
	YTAG_MAP,
};

/** The value of a resolved scalar. */
struct yvalue {
	bool b;    /**< YTAG_BOOL */
	int64_t i; /**< YTAG_INT, clamped to int64 (go-yaml goes on to uint64 and big ints) */
	double f;  /**< YTAG_FLOAT; YTAG_INT as a double */
};

/**
 * Resolve n as go-yaml v2 does; v (may be NULL) gets the value. One
 * deviation, for bounded memory: a float written with '_' that is longer
 * than YRESOLVE_FLOAT_MAX bytes without them is a string.
 */
enum ytag yresolve(const struct ynode *n, struct yvalue *v);

#define YRESOLVE_FLOAT_MAX 255 /**< bytes of a float with '_' (see yresolve()) */

/** "null", "a boolean", "an integer", "a number", "a string", "a list", "a mapping" */
const char *ytag_name(enum ytag t);

/**
 * An integer: YTAG_INT, or a whole YTAG_FLOAT (443.0, 4.43e2: JSON carries
 * them as 443, which the API server takes for an integer); clamped to int64
 * (callers range-check and quote n->str). Otherwise "expected an integer, got
 * a number (443.5)", "... got the string \"80\"", "... got \"eighty\"".
 * @return 0, or -EINVAL after the error.
 */
int yr_int(struct yreader *r, const struct ynode *n, int64_t *v);

/**
 * A number (a CRD's type: number): YTAG_INT or a finite YTAG_FLOAT (JSON has
 * no infinity or NaN). Otherwise "expected a number, got ...".
 * @return 0, or -EINVAL after the error.
 */
int yr_number(struct yreader *r, const struct ynode *n, double *v);

/**
 * A boolean: YTAG_BOOL (yes, On, N, false, ...). Otherwise "expected true or
 * false, got an integer (1)", "... got the string \"true\"".
 * @return 0, or -EINVAL after the error.
 */
int yr_bool(struct yreader *r, const struct ynode *n, bool *v);

/** true, True, TRUE, false, False, FALSE: the spellings yr_get_flag() takes. */
int yparse_bool(const char *s, bool *v);

/*
 * Values as text (quoted or not). Each takes an optional key of map: missing
 * or null leaves *v as it is (the default) and returns NULL. Otherwise the key
 * is pushed on the path for the message: "KEY: expected WANT, got a list" for
 * a collection, "KEY: invalid value \"x\" (want WANT)" for a bad scalar.
 * @return the value node when *v was set, else NULL.
 */

/** An unsigned decimal in [lo, hi]: digits only, no sign, no leading zero. want NULL: "LO-HI". */
const struct ynode *yr_get_uint(struct yreader *r, const struct ynode *map, const char *key,
				uint64_t lo, uint64_t hi, const char *want, uint64_t *v);

/** One of names (NULL-terminated): *v its index. want NULL: "a, b or c". */
const struct ynode *yr_get_enum(struct yreader *r, const struct ynode *map, const char *key,
				const char *const *names, const char *want, unsigned int *v);

/** A boolean spelled as yparse_bool() takes it; want: "true or false". */
const struct ynode *yr_get_flag(struct yreader *r, const struct ynode *map, const char *key,
				bool *v);

/**
 * A duration (yparse_duration_ms()) from 1 ms to max_ms. A bad one reads
 * "invalid duration \"x\" (want a number with unit s, m, h or ms, e.g. 240s)",
 * one out of range "duration \"x\" out of range (want 1ms to Nh)".
 */
const struct ynode *yr_get_duration_ms(struct yreader *r, const struct ynode *map, const char *key,
				       uint64_t max_ms, uint64_t *v);

/**
 * Decimal digits only, no sign, no leading zero (YAML 1.1 would read it as
 * octal), at most max. @return 0, -EINVAL (not such a number) or -ERANGE.
 */
int yparse_uint(const char *s, uint64_t max, uint64_t *v);

/**
 * "120" (seconds), "120s", "4m", "2h", "1500ms" and sums of them ("2h4m", as
 * Go's time.ParseDuration adds components) into milliseconds.
 * @return 0, or -EINVAL (malformed or over UINT64_MAX ms).
 */
int yparse_duration_ms(const char *s, uint64_t *ms);

#endif
