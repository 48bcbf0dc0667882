/* SPDX-License-Identifier: BSD-3-Clause */
/* The API's JSON lines (api_proto.h): a small strict reader and the escaping. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_proto.h"

struct rd {
	const char *s;
	size_t len, pos;
	struct api_obj *o;
	char *err;
	size_t errsz;
};

static int
fail(struct rd *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(r->err, r->errsz, "at byte %zu: ", r->pos);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < r->errsz)
		vsnprintf(r->err + n, r->errsz - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static void
ws(struct rd *r)
{
	while (r->pos < r->len && (r->s[r->pos] == ' ' || r->s[r->pos] == '\t' ||
				   r->s[r->pos] == '\n' || r->s[r->pos] == '\r'))
		r->pos++;
}

static int
hex4(struct rd *r, unsigned int *v)
{
	unsigned int i;

	*v = 0;
	for (i = 0; i < 4; i++, r->pos++) {
		char ch = r->pos < r->len ? r->s[r->pos] : '\0';

		*v <<= 4;
		if (ch >= '0' && ch <= '9')
			*v |= (unsigned int)(ch - '0');
		else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
			*v |= (unsigned int)((ch | 0x20) - 'a' + 10);
		else
			return fail(r, "bad \\u escape");
	}
	return 0;
}

/* A string at pos (on its quote) into out (size bytes). */
static int
string(struct rd *r, char *out, size_t size)
{
	size_t n = 0;

	r->pos++; /* the quote */
	for (;;) {
		unsigned char ch;
		unsigned int u;
		char enc[4];
		size_t k = 0, i;

		if (r->pos >= r->len)
			return fail(r, "unterminated string");
		ch = (unsigned char)r->s[r->pos++];
		if (ch == '"')
			break;
		if (ch < 0x20)
			return fail(r, "control character in a string");
		if (ch != '\\') {
			enc[k++] = (char)ch;
		} else {
			/* JSON's one-letter escapes, and what each stands for */
			static const char esc_in[] = "\"\\/bfnrt";
			static const char esc_out[] = "\"\\/\b\f\n\r\t";
			const char *e;

			ch = r->pos < r->len ? (unsigned char)r->s[r->pos++] : '\0';
			e = ch != '\0' ? strchr(esc_in, ch) : NULL;
			if (e != NULL) {
				enc[k++] = esc_out[e - esc_in];
			} else if (ch == 'u') {
				if (hex4(r, &u) < 0)
					return -1;
				if (u == 0 || (u >= 0xd800 && u <= 0xdfff))
					return fail(r, "\\u%04x not accepted", u);
				if (u < 0x80) {
					enc[k++] = (char)u;
				} else if (u < 0x800) {
					enc[k++] = (char)(0xc0 | u >> 6);
					enc[k++] = (char)(0x80 | (u & 0x3f));
				} else {
					enc[k++] = (char)(0xe0 | u >> 12);
					enc[k++] = (char)(0x80 | ((u >> 6) & 0x3f));
					enc[k++] = (char)(0x80 | (u & 0x3f));
				}
			} else {
				return fail(r, "bad escape");
			}
		}
		if (n + k >= size)
			return fail(r, "string longer than %zu bytes", size - 1);
		for (i = 0; i < k; i++)
			out[n++] = enc[i];
	}
	out[n] = '\0';
	return 0;
}

static struct api_field *
field(struct rd *r, const char *prefix, const char *name)
{
	struct api_field *f;
	int n;

	if (r->o->n == API_FIELDS_MAX) {
		fail(r, "more than %u fields", API_FIELDS_MAX);
		return NULL;
	}
	f = &r->o->f[r->o->n];
	n = snprintf(f->key, sizeof(f->key), "%s%s%s", prefix, prefix[0] ? "." : "", name);
	if (n < 0 || (size_t)n >= sizeof(f->key)) {
		fail(r, "key too long");
		return NULL;
	}
	r->o->n++;
	return f;
}

/* Is s a JSON number (RFC 8259 section 6)? -?(0|[1-9][0-9]*)(.[0-9]+)?
 * ([eE][+-]?[0-9]+)?: strtod() would also take "-nan", "01", "1." or ".5". */
static bool
is_number(const char *s)
{
	const char *d;

	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (*s >= '0' && *s <= '9')
			s++;
	else
		return false;
	if (*s == '.') {
		for (d = ++s; *s >= '0' && *s <= '9'; s++)
			;
		if (s == d)
			return false;
	}
	if (*s == 'e' || *s == 'E') {
		if (*++s == '+' || *s == '-')
			s++;
		for (d = s; *s >= '0' && *s <= '9'; s++)
			;
		if (s == d)
			return false;
	}
	return *s == '\0';
}

/* A literal (number, true, false, null): its text as it is. */
static int
literal(struct rd *r, struct api_field *f)
{
	size_t start = r->pos, n;

	/* strchr() finds the terminating NUL too: a NUL byte is no literal's */
	while (r->pos < r->len && r->s[r->pos] != '\0' &&
	       strchr("+-.0123456789eEtrufalsn", r->s[r->pos]) != NULL)
		r->pos++;
	n = r->pos - start;
	if (n == 0 || n >= sizeof(f->val))
		return fail(r, "expected a value");
	memcpy(f->val, r->s + start, n);
	f->val[n] = '\0';
	if (strcmp(f->val, "true") == 0 || strcmp(f->val, "false") == 0) {
		f->type = API_BOOL;
	} else if (strcmp(f->val, "null") == 0) {
		f->type = API_NULL;
	} else {
		if (!is_number(f->val))
			return (r->pos = start), fail(r, "expected a value");
		f->type = API_NUMBER;
	}
	return 0;
}

static int
object(struct rd *r, const char *prefix, unsigned int depth)
{
	char name[API_KEY_MAX];

	if (depth > API_DEPTH_MAX)
		return fail(r, "nested deeper than %u", API_DEPTH_MAX);
	r->pos++; /* { */
	ws(r);
	if (r->pos < r->len && r->s[r->pos] == '}') {
		r->pos++;
		return 0;
	}
	for (;;) {
		struct api_field *f;
		char ch;

		ws(r);
		if (r->pos >= r->len || r->s[r->pos] != '"')
			return fail(r, "expected a key");
		if (string(r, name, sizeof(name)) < 0)
			return -1;
		ws(r);
		if (r->pos >= r->len || r->s[r->pos] != ':')
			return fail(r, "expected ':'");
		r->pos++;
		ws(r);
		ch = r->pos < r->len ? r->s[r->pos] : '\0';
		if (ch == '{') {
			char sub[API_KEY_MAX];
			int n = snprintf(sub, sizeof(sub), "%s%s%s", prefix, prefix[0] ? "." : "",
					 name);

			if (n < 0 || (size_t)n >= sizeof(sub))
				return fail(r, "key too long");
			if (object(r, sub, depth + 1) < 0)
				return -1;
		} else if (ch == '[') {
			return fail(r, "arrays are not part of the protocol");
		} else {
			f = field(r, prefix, name);
			if (f == NULL)
				return -1;
			if (ch == '"') {
				f->type = API_STRING;
				if (string(r, f->val, sizeof(f->val)) < 0)
					return -1;
			} else if (literal(r, f) < 0) {
				return -1;
			}
		}
		ws(r);
		ch = r->pos < r->len ? r->s[r->pos] : '\0';
		r->pos++;
		if (ch == '}')
			return 0;
		if (ch != ',')
			return r->pos--, fail(r, "expected ',' or '}'");
	}
}

int
api_parse(const char *s, size_t len, struct api_obj *o, char *err, size_t errsz)
{
	struct rd r = { .s = s, .len = len, .o = o, .err = err, .errsz = errsz };

	o->n = 0;
	ws(&r);
	if (r.pos >= len || s[r.pos] != '{')
		return fail(&r, "expected an object");
	if (object(&r, "", 1) < 0)
		return -1;
	ws(&r);
	if (r.pos != len)
		return fail(&r, "trailing bytes");
	return 0;
}

const struct api_field *
api_get(const struct api_obj *o, const char *key)
{
	unsigned int i;

	for (i = 0; i < o->n; i++)
		if (strcmp(o->f[i].key, key) == 0)
			return &o->f[i];
	return NULL;
}

const char *
api_get_str(const struct api_obj *o, const char *key)
{
	const struct api_field *f = api_get(o, key);

	return f != NULL && f->type == API_STRING ? f->val : NULL;
}

int
api_get_uint(const struct api_obj *o, const char *key, uint64_t max, uint64_t *v)
{
	const struct api_field *f = api_get(o, key);
	uint64_t x = 0;
	const char *p;

	if (f == NULL)
		return 0;
	if (f->type != API_NUMBER || f->val[0] == '-' || (f->val[0] == '0' && f->val[1] != '\0'))
		return -1;
	for (p = f->val; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || x > (max - (uint64_t)(*p - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	*v = x;
	return 1;
}

size_t
api_quote(char *buf, size_t size, const char *s)
{
	size_t n = 0;

	buf[n++] = '"';
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc[8];
		int k;

		if (ch == '"' || ch == '\\')
			k = snprintf(esc, sizeof(esc), "\\%c", ch);
		else if (ch < 0x20)
			k = snprintf(esc, sizeof(esc), "\\u%04x", ch);
		else
			k = snprintf(esc, sizeof(esc), "%c", ch);
		/* a UTF-8 sequence is cut whole: back to its lead byte */
		if (n + (size_t)k + 2 > size) {
			while (n > 1 && ((unsigned char)buf[n - 1] & 0xc0) == 0x80)
				n--;
			if (n > 1 && ((unsigned char)buf[n - 1] & 0xc0) == 0xc0)
				n--;
			break;
		}
		memcpy(buf + n, esc, (size_t)k);
		n += (size_t)k;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return n;
}
