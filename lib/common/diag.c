/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Diagnostic list: every loader appends here, the caller prints or moves the
 * lot. Allocation failures never lose an error: the counter is bumped before
 * anything is allocated, and a warning that cannot be stored counts as an
 * error (the load it belongs to was not checked completely).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

#define DIAG_DEFAULT_MAX 1000
#define DIAG_MIN_CAP     16

static size_t
diag_max(const struct diag_list *dl)
{
	return dl->max != 0 ? dl->max : DIAG_DEFAULT_MAX;
}

static void
diag_free_one(struct diag *d)
{
	free(d->file);
	free(d->msg);
}

/* Make room for at least want entries (want <= diag_max()). 0 or -ENOMEM. */
static int
diag_reserve(struct diag_list *dl, size_t want)
{
	struct diag *v;
	size_t cap;

	if (want <= dl->cap)
		return 0;
	cap = dl->cap != 0 ? dl->cap : DIAG_MIN_CAP;
	while (cap < want)
		cap *= 2;
	if (cap > diag_max(dl))
		cap = diag_max(dl);
	if (cap < want)
		cap = want;
	v = realloc(dl->v, cap * sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	dl->v = v;
	dl->cap = cap;
	return 0;
}

void
diag_vadd(struct diag_list *dl, enum diag_severity sev, const char *file, unsigned int line,
	  unsigned int col, const char *fmt, va_list ap)
{
	struct diag d = {
		.line = line,
		.col = col,
		.sev = sev,
	};

	if (sev == DIAG_ERROR)
		dl->n_errors++;
	if (dl->n >= diag_max(dl))
		return;
	if (diag_reserve(dl, dl->n + 1) < 0)
		goto fail;
	if (file != NULL) {
		d.file = strdup(file);
		if (d.file == NULL)
			goto fail;
	}
	if (vasprintf(&d.msg, fmt, ap) < 0) {
		d.msg = NULL;
		goto fail;
	}
	dl->v[dl->n++] = d;
	return;
fail:
	diag_free_one(&d);
	if (sev != DIAG_ERROR)
		dl->n_errors++;
}

void
diag_add(struct diag_list *dl, enum diag_severity sev, const char *file, unsigned int line,
	 unsigned int col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(dl, sev, file, line, col, fmt, ap);
	va_end(ap);
}

/*
 * Like snprintf(): returns the length of the full text (without the NUL),
 * which may be >= size when buf was too small, or -EINVAL.
 * A diagnostic without a file prints "error: msg"; without a line
 * "FILE: error: msg"; without a column "FILE:LINE: error: msg".
 */
int
diag_format(const struct diag *d, char *buf, size_t size)
{
	const char *sev;
	const char *msg;
	int ret;

	if (d == NULL || (buf == NULL && size != 0))
		return -EINVAL;
	sev = d->sev == DIAG_ERROR ? "error" : "warning";
	msg = d->msg != NULL ? d->msg : "";
	if (d->file == NULL || d->file[0] == '\0')
		ret = snprintf(buf, size, "%s: %s", sev, msg);
	else if (d->line == 0)
		ret = snprintf(buf, size, "%s: %s: %s", d->file, sev, msg);
	else if (d->col == 0)
		ret = snprintf(buf, size, "%s:%u: %s: %s", d->file, d->line, sev, msg);
	else
		ret = snprintf(buf, size, "%s:%u:%u: %s: %s", d->file, d->line, d->col, sev, msg);
	return ret < 0 ? -EINVAL : ret;
}

/*
 * One line per recorded diagnostic; when the cap dropped some errors, a last
 * line says how many, so that a truncated listing is never mistaken for a
 * complete one.
 */
void
diag_print(const struct diag_list *dl, FILE *out)
{
	size_t recorded_errors = 0;
	char small[512];
	size_t i;

	for (i = 0; i < dl->n; i++) {
		const struct diag *d = &dl->v[i];
		char *big = NULL;
		char *line = small;
		int len;

		if (d->sev == DIAG_ERROR)
			recorded_errors++;
		len = diag_format(d, small, sizeof(small));
		if (len < 0)
			continue;
		if ((size_t)len >= sizeof(small)) {
			big = malloc((size_t)len + 1);
			if (big != NULL && diag_format(d, big, (size_t)len + 1) >= 0)
				line = big;
		}
		fprintf(out, "%s\n", line);
		free(big);
	}
	if (dl->n_errors > recorded_errors)
		fprintf(out, "... and %zu more %s not shown\n", dl->n_errors - recorded_errors,
			dl->n_errors - recorded_errors == 1 ? "error" : "errors");
}

void
diag_move(struct diag_list *dst, struct diag_list *src)
{
	size_t fit, room, i;

	if (dst == src)
		return;
	fit = diag_max(dst) > dst->n ? diag_max(dst) - dst->n : 0;
	if (fit > src->n)
		fit = src->n;
	room = fit;
	if (room > 0 && diag_reserve(dst, dst->n + room) < 0)
		room = 0;
	dst->n_errors += src->n_errors;
	for (i = 0; i < src->n; i++) {
		if (i < room) {
			dst->v[dst->n++] = src->v[i];
			continue;
		}
		/* Errors are counted already; a warning lost to ENOMEM counts as one. */
		if (i < fit && src->v[i].sev != DIAG_ERROR)
			dst->n_errors++;
		diag_free_one(&src->v[i]);
	}
	free(src->v);
	src->v = NULL;
	src->n = 0;
	src->cap = 0;
	src->n_errors = 0;
}

void
diag_list_clear(struct diag_list *dl)
{
	size_t i;

	if (dl == NULL)
		return;
	for (i = 0; i < dl->n; i++)
		diag_free_one(&dl->v[i]);
	free(dl->v);
	dl->v = NULL;
	dl->n = 0;
	dl->cap = 0;
	dl->n_errors = 0;
}
