/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Diagnostics for every text the appliance reads (appliance config, Istio YAML).
 *
 * A loader never stops at the first problem: it appends every error and warning
 * to a diag_list, and the caller decides (apply nothing if diag_errors() > 0).
 * Each diagnostic prints as "FILE:LINE:COL: error|warning: message".
 *
 * Thread-safety: a diag_list belongs to one thread (the control thread).
 */
#ifndef EGRESS_DIAG_H
#define EGRESS_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

enum diag_severity {
	DIAG_WARNING,
	DIAG_ERROR,
};

struct diag {
	char *file;        /**< path as given by the user */
	unsigned int line; /**< 1-based; 0 when the problem has no position */
	unsigned int col;  /**< 1-based */
	enum diag_severity sev;
	char *msg; /**< the message, without position or severity */
};

struct diag_list {
	struct diag *v;  /**< diagnostics in the order they were found */
	size_t n;        /**< number used */
	size_t cap;      /**< number allocated */
	size_t n_errors; /**< how many of them are DIAG_ERROR */
	size_t max;      /**< stop recording after this many (0: 1000) */
};

/** Append one diagnostic. Allocation failures are absorbed (counted as error). */
void diag_add(struct diag_list *dl, enum diag_severity sev, const char *file, unsigned int line,
	      unsigned int col, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

void diag_vadd(struct diag_list *dl, enum diag_severity sev, const char *file, unsigned int line,
	       unsigned int col, const char *fmt, va_list ap) __attribute__((format(printf, 6, 0)));

/** Number of errors recorded so far. */
static inline size_t
diag_errors(const struct diag_list *dl)
{
	return dl->n_errors;
}

/** Format one diagnostic as "FILE:LINE:COL: error: msg" (no newline). */
int diag_format(const struct diag *d, char *buf, size_t size);

/** Print every diagnostic, one per line. */
void diag_print(const struct diag_list *dl, FILE *out);

/** Move every diagnostic of src to the end of dst; src is left empty. */
void diag_move(struct diag_list *dst, struct diag_list *src);

/** Free all diagnostics; the list is reusable afterwards. NULL-tolerant. */
void diag_list_clear(struct diag_list *dl);

#endif
