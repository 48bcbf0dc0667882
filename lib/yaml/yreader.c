/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Typed reading of a ydoc tree: the YAML path, diagnostics at a node's
 * position, quoted values, and the getters of both loaders (yreader.h).
 *
 * No allocation: the path and the quoted values live in the yreader.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yreader.h"

void
yr_init(struct yreader *r, const char *file, struct diag_list *dl, size_t quote_max)
{
	memset(r, 0, sizeof(*r));
	r->file = file;
	r->dl = dl;
	r->quote_max = quote_max < YREADER_QUOTE_MAX ? quote_max : YREADER_QUOTE_MAX;
}

/* ------------------------------------------------------------------ */
/* The path                                                            */

size_t
yr_push(struct yreader *r, const char *fmt, ...)
{
	size_t mark = r->path_len;
	size_t room = sizeof(r->path) - mark;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(r->path + mark, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		r->path[mark] = '\0';
	else if ((size_t)n >= room)
		r->path_len = sizeof(r->path) - 1;
	else
		r->path_len = mark + (size_t)n;
	return mark;
}

size_t
yr_key(struct yreader *r, const char *key)
{
	return yr_push(r, "%s%s", r->path_len > 0 ? "." : "", key);
}

size_t
yr_idx(struct yreader *r, size_t i)
{
	return yr_push(r, "[%zu]", i);
}

void
yr_pop(struct yreader *r, size_t mark)
{
	r->path_len = mark;
	r->path[mark] = '\0';
}

/* ------------------------------------------------------------------ */
/* Diagnostics and quoting                                             */

static void
yr_vdiag(struct yreader *r, enum diag_severity sev, const struct ynode *at, bool with_path,
	 const char *fmt, va_list ap)
{
	char msg[YREADER_MSG_MAX];
	unsigned int line = at != NULL ? at->line : 0, col = at != NULL ? at->col : 0;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_path && r->path_len > 0)
		diag_add(r->dl, sev, r->file, line, col, "%s: %s", r->path, msg);
	else
		diag_add(r->dl, sev, r->file, line, col, "%s", msg);
}

void
yr_diag(struct yreader *r, enum diag_severity sev, const struct ynode *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	yr_vdiag(r, sev, at, true, fmt, ap);
	va_end(ap);
}

void
yr_diag_bare(struct yreader *r, enum diag_severity sev, const struct ynode *at, const char *fmt,
	     ...)
{
	va_list ap;

	va_start(ap, fmt);
	yr_vdiag(r, sev, at, false, fmt, ap);
	va_end(ap);
}

static const char *
yr_quote_len(struct yreader *r, const char *s, size_t len)
{
	return yquote(r->qbuf[r->qi++ % YREADER_NQUOTE], s, len, r->quote_max);
}

const char *
yr_quote(struct yreader *r, const char *s)
{
	return yr_quote_len(r, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

const char *
yr_quote_node(struct yreader *r, const struct ynode *n)
{
	return yr_quote_len(r, n->str, n->len);
}

const char *
ynode_kind(const struct ynode *n)
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

const char *
yr_describe(struct yreader *r, const struct ynode *n)
{
	return n->type == YNODE_SCALAR ? yr_quote_node(r, n) : ynode_kind(n);
}

/* ------------------------------------------------------------------ */
/* Lookups                                                             */

const struct ynode *
ymap_opt(const struct ynode *map, const char *key)
{
	const struct ynode *v = ymap_get(map, key);

	return ynode_is_null(v) ? NULL : v;
}

const struct ynode *
ymap_next_unknown(const struct ynode *map, const char *const *known, size_t *i)
{
	if (map == NULL || map->type != YNODE_MAP)
		return NULL;
	for (; *i < map->n; (*i)++) {
		const struct ynode *k = map->items[2 * *i];
		size_t j;

		for (j = 0; known[j] != NULL; j++)
			if (strlen(known[j]) == k->len && memcmp(k->str, known[j], k->len) == 0)
				break;
		if (known[j] == NULL) {
			(*i)++;
			return k;
		}
	}
	return NULL;
}

const char *
yr_scalar(struct yreader *r, const struct ynode *n, const char *what)
{
	if (n->type == YNODE_SCALAR)
		return n->str;
	yr_err(r, n, "expected %s, got %s", what, ynode_kind(n));
	return NULL;
}

/* ------------------------------------------------------------------ */
/* YAML 1.1 resolution, as go-yaml v2 does it                          */

/*
 * go-yaml v2's resolve table (resolve.go): a plain scalar whose first byte is
 * none of these is a string, whatever follows.
 */
static bool
may_resolve(char c)
{
	return strchr("+-0123456789yYnNtTfFoO~.", c) != NULL && c != '\0';
}

/* Its resolve map: the words a plain scalar is looked up by first. */
static const struct {
	const char *word;
	enum ytag tag;
	int v; /* bool: 0 or 1; float: +1/-1 infinity, 0 NaN */
} yaml11_words[] = {
	{ "y", YTAG_BOOL, 1 },       { "Y", YTAG_BOOL, 1 },       { "yes", YTAG_BOOL, 1 },
	{ "Yes", YTAG_BOOL, 1 },     { "YES", YTAG_BOOL, 1 },     { "true", YTAG_BOOL, 1 },
	{ "True", YTAG_BOOL, 1 },    { "TRUE", YTAG_BOOL, 1 },    { "on", YTAG_BOOL, 1 },
	{ "On", YTAG_BOOL, 1 },      { "ON", YTAG_BOOL, 1 },      { "n", YTAG_BOOL, 0 },
	{ "N", YTAG_BOOL, 0 },       { "no", YTAG_BOOL, 0 },      { "No", YTAG_BOOL, 0 },
	{ "NO", YTAG_BOOL, 0 },      { "false", YTAG_BOOL, 0 },   { "False", YTAG_BOOL, 0 },
	{ "FALSE", YTAG_BOOL, 0 },   { "off", YTAG_BOOL, 0 },     { "Off", YTAG_BOOL, 0 },
	{ "OFF", YTAG_BOOL, 0 },     { "~", YTAG_NULL, 0 },       { "null", YTAG_NULL, 0 },
	{ "Null", YTAG_NULL, 0 },    { "NULL", YTAG_NULL, 0 },    { ".nan", YTAG_FLOAT, 0 },
	{ ".NaN", YTAG_FLOAT, 0 },   { ".NAN", YTAG_FLOAT, 0 },   { ".inf", YTAG_FLOAT, 1 },
	{ ".Inf", YTAG_FLOAT, 1 },   { ".INF", YTAG_FLOAT, 1 },   { "+.inf", YTAG_FLOAT, 1 },
	{ "+.Inf", YTAG_FLOAT, 1 },  { "+.INF", YTAG_FLOAT, 1 },  { "-.inf", YTAG_FLOAT, -1 },
	{ "-.Inf", YTAG_FLOAT, -1 }, { "-.INF", YTAG_FLOAT, -1 },
};

/* go-yaml drops every '_' before it reads a number: the next byte that is not one. */
static const char *
skip_us(const char *p)
{
	while (*p == '_')
		p++;
	return p;
}

static int
digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
		return (c | 0x20) - 'a' + 10;
	return 99;
}

/*
 * Go's strconv.ParseUint(s, base, 64) of s without its '_': base 0 reads the
 * prefixes 0x, 0o, 0b and a bare leading 0 (octal), as Go does. No sign.
 * @return 0, -ERANGE (well-formed, over 64 bits) or -EINVAL.
 */
static int
go_parse_uint(const char *s, int base, uint64_t *u)
{
	const char *p = skip_us(s);
	bool range = false;
	uint64_t x = 0;

	if (*p == '\0')
		return -EINVAL;
	if (base == 0) {
		const char *q = skip_us(p + 1);

		base = 10;
		if (*p == '0') {
			switch (*q | 0x20) {
			case 'x':
				base = 16;
				p = skip_us(q + 1);
				break;
			case 'o':
				base = 8;
				p = skip_us(q + 1);
				break;
			case 'b':
				base = 2;
				p = skip_us(q + 1);
				break;
			default: /* "0" alone is 0; "0" then digits is octal */
				base = 8;
				p = q;
				if (*p == '\0') {
					*u = 0;
					return 0;
				}
			}
			if (*p == '\0')
				return -EINVAL; /* "0x" */
		}
	}
	for (; *p != '\0'; p = skip_us(p + 1)) {
		int d = digit_value(*p);

		if (d >= base)
			return -EINVAL;
		if (x > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
			range = true;
		else
			x = x * (uint64_t)base + (uint64_t)d;
	}
	if (range)
		return -ERANGE;
	*u = x;
	return 0;
}

/* Go's strconv.ParseInt(s, base, 64) of s without its '_': an optional sign, then go_parse_uint(). */
static int
go_parse_int(const char *s, int base, int64_t *i)
{
	const char *p = skip_us(s);
	bool neg = *p == '-';
	uint64_t u;
	int rc;

	if (*p == '-' || *p == '+')
		p++;
	rc = go_parse_uint(p, base, &u);
	if (rc == -EINVAL)
		return rc;
	if (rc == -ERANGE || u > (uint64_t)INT64_MAX + (neg ? 1 : 0))
		return -ERANGE;
	*i = neg ? (int64_t)(0 - u) : (int64_t)u;
	return 0;
}

static const char *
skip_digits(const char *p, bool *any)
{
	*any = false;
	for (p = skip_us(p); *p >= '0' && *p <= '9'; p = skip_us(p + 1))
		*any = true;
	return p;
}

/* go-yaml's yamlStyleFloat, ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$, without '_'. */
static bool
yaml_float_syntax(const char *s)
{
	const char *p = skip_us(s);
	bool any, frac;

	if (*p == '-' || *p == '+')
		p = skip_us(p + 1);
	if (*p == '.') {
		p = skip_digits(p + 1, &any);
		if (!any)
			return false;
	} else {
		p = skip_digits(p, &any);
		if (!any)
			return false;
		if (*p == '.')
			p = skip_digits(p + 1, &frac);
	}
	if (*p == 'e' || *p == 'E') {
		p = skip_us(p + 1);
		if (*p == '-' || *p == '+')
			p++;
		p = skip_digits(p, &any);
		if (!any)
			return false;
	}
	return *p == '\0';
}

/*
 * Go's strconv.ParseFloat() of a decimal float: -EINVAL when it overflows to
 * an infinity (Go's ErrRange; an underflow is no error there either) or, with
 * '_', is longer than YRESOLVE_FLOAT_MAX bytes without them.
 */
static int
go_parse_float(const char *s, double *f)
{
	char buf[YRESOLVE_FLOAT_MAX + 1];
	const char *text = s;
	size_t n = 0;

	if (strchr(s, '_') != NULL) {
		for (; *s != '\0'; s++) {
			if (*s == '_')
				continue;
			if (n == YRESOLVE_FLOAT_MAX)
				return -EINVAL;
			buf[n++] = *s;
		}
		buf[n] = '\0';
		text = buf;
	}
	*f = strtod(text, NULL);
	return isinf(*f) ? -EINVAL : 0;
}

/*
 * Go's ParseFloat() of a plain scalar that starts with '.' (go-yaml reads it
 * without dropping '_'): '.', digits, an optional exponent; Go takes a '_'
 * only between two digits.
 */
static bool
go_dot_float_syntax(const char *s)
{
	const char *p = s + 1;
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (s[i] == '_' && (i == 0 || s[i - 1] < '0' || s[i - 1] > '9' || s[i + 1] < '0' ||
				    s[i + 1] > '9'))
			return false;
	return *p >= '0' && *p <= '9' && yaml_float_syntax(s);
}

/* resolve.go's case 'D', 'S': a plain scalar that starts with a digit or a sign. */
static enum ytag
resolve_number(const char *s, struct yvalue *v)
{
	const char *p = skip_us(s);
	uint64_t u;
	int64_t i;
	int urc;

	/* Timestamps (2001-12-14) come first there, but stay strings in an interface{}. */
	if (go_parse_int(s, 0, &i) == 0)
		goto integer;
	urc = go_parse_uint(s, 0, &u);
	if (urc == 0)
		goto unsigned_int;
	if (yaml_float_syntax(s) && go_parse_float(s, &v->f) == 0)
		return YTAG_FLOAT;
	if (p[0] == '0' && skip_us(p + 1)[0] == 'b') {
		/* ParseInt(plain[2:], 2) also takes a sign there: 0b-101 is -5 */
		const char *rest = skip_us(skip_us(p + 1) + 1);

		if (go_parse_int(rest, 2, &i) == 0)
			goto integer;
		if (go_parse_uint(rest, 2, &u) == 0)
			goto unsigned_int;
	}
	/* "-0b..." is ParseInt(s, 0) again; a well-formed one too big is a big.Int */
	if (urc == -ERANGE) {
		v->i = INT64_MAX;
		v->f = (double)UINT64_MAX;
		return YTAG_INT;
	}
	return YTAG_STR;
integer:
	v->i = i;
	v->f = (double)i;
	return YTAG_INT;
unsigned_int:
	v->i = INT64_MAX;
	v->f = (double)u;
	return YTAG_INT;
}

enum ytag
yresolve(const struct ynode *n, struct yvalue *v)
{
	struct yvalue scratch;
	size_t i;

	if (v == NULL)
		v = &scratch;
	memset(v, 0, sizeof(*v));
	if (n == NULL)
		return YTAG_NULL;
	if (n->type != YNODE_SCALAR)
		return n->type == YNODE_SEQ ? YTAG_SEQ : YTAG_MAP;
	if (!n->plain || strlen(n->str) != n->len)
		return YTAG_STR;
	if (n->len == 0)
		return YTAG_NULL;
	if (!may_resolve(n->str[0]))
		return YTAG_STR;
	for (i = 0; i < sizeof(yaml11_words) / sizeof(yaml11_words[0]); i++) {
		if (strcmp(n->str, yaml11_words[i].word) != 0)
			continue;
		v->b = yaml11_words[i].v == 1;
		if (yaml11_words[i].tag == YTAG_FLOAT)
			v->f = yaml11_words[i].v == 0 ? NAN : yaml11_words[i].v * INFINITY;
		return yaml11_words[i].tag;
	}
	if (n->str[0] == '.')
		return go_dot_float_syntax(n->str) && go_parse_float(n->str, &v->f) == 0 ?
			       YTAG_FLOAT :
			       YTAG_STR;
	if (n->str[0] == '+' || n->str[0] == '-' || (n->str[0] >= '0' && n->str[0] <= '9'))
		return resolve_number(n->str, v);
	return YTAG_STR; /* a letter or '~' not in the map */
}

const char *
ytag_name(enum ytag t)
{
	switch (t) {
	case YTAG_NULL:
		return "null";
	case YTAG_BOOL:
		return "a boolean";
	case YTAG_INT:
		return "an integer";
	case YTAG_FLOAT:
		return "a number";
	case YTAG_SEQ:
		return "a list";
	case YTAG_MAP:
		return "a mapping";
	case YTAG_STR:
	default:
		return "a string";
	}
}

/* ------------------------------------------------------------------ */
/* Kubernetes typing                                                   */

/* A number's text for a message: unquoted (it holds no odd byte), cut as yr_quote() cuts. */
static int
text_len(const struct yreader *r, const struct ynode *n)
{
	return (int)(n->len < r->quote_max ? n->len : r->quote_max);
}

/*
 * "expected WANT, got ..." for n, of type t: "null", "a list", "the string
 * \"80\"" (quoted), "\"eighty\"" (plain), "an integer (1)"; where a string
 * is wanted, how to make one: "an integer (quote it: \"123\")".
 */
static void
wrong_type(struct yreader *r, const struct ynode *n, enum ytag t, const char *want)
{
	bool string = strcmp(want, "a string") == 0;

	switch (t) {
	case YTAG_BOOL:
	case YTAG_INT:
	case YTAG_FLOAT:
		if (string)
			yr_err(r, n, "expected %s, got %s (quote it: %s)", want, ytag_name(t),
			       yr_quote_node(r, n));
		else
			yr_err(r, n, "expected %s, got %s (%.*s%s)", want, ytag_name(t),
			       text_len(r, n), n->str, n->len > r->quote_max ? "..." : "");
		break;
	case YTAG_STR:
		yr_err(r, n, "expected %s, got %s%s", want, n->plain ? "" : "the string ",
		       yr_quote_node(r, n));
		break;
	case YTAG_NULL:
	case YTAG_SEQ:
	case YTAG_MAP:
	default:
		yr_err(r, n, "expected %s, got %s", want, ytag_name(t));
	}
}

/* A plain scalar of another YAML type where a string belongs: reported. @return n. */
static const struct ynode *
string_check(struct yreader *r, const struct ynode *n)
{
	enum ytag t = yresolve(n, NULL);

	if (t == YTAG_BOOL || t == YTAG_INT || t == YTAG_FLOAT)
		wrong_type(r, n, t, "a string");
	return n;
}

const struct ynode *
yr_get(struct yreader *r, const struct ynode *map, const char *key, enum ynode_type t)
{
	const struct ynode *v = ymap_opt(map, key);
	size_t mark;

	if (v == NULL || (v->type == t && t != YNODE_SCALAR))
		return v;
	mark = yr_key(r, key);
	if (v->type == t)
		string_check(r, v);
	else
		yr_err(r, v, "expected %s, got %s",
		       t == YNODE_MAP ? "a mapping" :
		       t == YNODE_SEQ ? "a list" :
					"a string",
		       yr_describe(r, v));
	yr_pop(r, mark);
	return v->type == t ? v : NULL;
}

const char *
yr_get_str(struct yreader *r, const struct ynode *map, const char *key, const struct ynode **node)
{
	const struct ynode *v = yr_get(r, map, key, YNODE_SCALAR);

	if (node != NULL)
		*node = v;
	return v != NULL ? v->str : NULL;
}

const char *
yr_str(struct yreader *r, const struct ynode *n)
{
	if (n == NULL)
		return NULL;
	if (ynode_is_null(n)) {
		/* not dropped as a mapping's null is: a list item of type string */
		wrong_type(r, n, YTAG_NULL, "a string");
		return NULL;
	}
	if (n->type != YNODE_SCALAR)
		return yr_scalar(r, n, "a string");
	return string_check(r, n)->str;
}

const char *
yr_str_opt(struct yreader *r, const struct ynode *n)
{
	return ynode_is_null(n) ? NULL : yr_str(r, n);
}

/* A whole float as an int64, clamped (JSON carries 443.0 as 443). */
static bool
whole(double f, int64_t *v)
{
	if (!isfinite(f) || f != trunc(f))
		return false;
	if (f >= 0x1p63)
		*v = INT64_MAX;
	else if (f < -0x1p63)
		*v = INT64_MIN;
	else
		*v = (int64_t)f;
	return true;
}

int
yr_int(struct yreader *r, const struct ynode *n, int64_t *v)
{
	struct yvalue y;
	enum ytag t = yresolve(n, &y);

	if (t == YTAG_INT) {
		*v = y.i;
		return 0;
	}
	if (t == YTAG_FLOAT && whole(y.f, v))
		return 0;
	wrong_type(r, n, t, "an integer");
	return -EINVAL;
}

int
yr_number(struct yreader *r, const struct ynode *n, double *v)
{
	struct yvalue y;
	enum ytag t = yresolve(n, &y);

	if (t == YTAG_INT || (t == YTAG_FLOAT && isfinite(y.f))) {
		*v = y.f;
		return 0;
	}
	if (t == YTAG_FLOAT) /* kubectl: "json: unsupported value: +Inf" */
		yr_err(r, n, "expected a number, got %.*s (JSON has no infinity or NaN)",
		       text_len(r, n), n->str);
	else
		wrong_type(r, n, t, "a number");
	return -EINVAL;
}

/* What the appliance config reads as a boolean: false and true alternate. */
static const char *const bool_spellings[] = {
	"false", "true", "False", "True", "FALSE", "TRUE", NULL,
};

int
yparse_bool(const char *s, bool *v)
{
	unsigned int i;

	for (i = 0; bool_spellings[i] != NULL; i++) {
		if (strcmp(s, bool_spellings[i]) == 0) {
			*v = i % 2 == 1;
			return 0;
		}
	}
	return -EINVAL;
}

int
yr_bool(struct yreader *r, const struct ynode *n, bool *v)
{
	struct yvalue y;
	enum ytag t = yresolve(n, &y);

	if (t == YTAG_BOOL) {
		*v = y.b;
		return 0;
	}
	wrong_type(r, n, t, "true or false");
	return -EINVAL;
}

/* ------------------------------------------------------------------ */
/* Values as text                                                      */

int
yparse_uint(const char *s, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] != '\0'))
		return -EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (x > (max - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*v = x;
	return 0;
}

int
yparse_duration_ms(const char *s, uint64_t *ms)
{
	uint64_t total = 0;
	const char *p = s;

	if (s == NULL || ms == NULL || *s == '\0')
		return -EINVAL;
	if (s[strspn(s, "0123456789")] == '\0') {
		if (yparse_uint(s, UINT64_MAX / 1000, &total) < 0)
			return -EINVAL;
		*ms = total * 1000;
		return 0;
	}
	while (*p != '\0') {
		uint64_t v = 0, unit;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (__builtin_mul_overflow(v, 10, &v) ||
			    __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
				return -EINVAL;
		}
		if (p[0] == 'm' && p[1] == 's') {
			unit = 1;
			p += 2;
		} else if (*p == 's') {
			unit = 1000;
			p++;
		} else if (*p == 'm') {
			unit = 60 * 1000;
			p++;
		} else if (*p == 'h') {
			unit = 3600 * 1000;
			p++;
		} else {
			return -EINVAL;
		}
		if (__builtin_mul_overflow(v, unit, &v) || __builtin_add_overflow(total, v, &total))
			return -EINVAL;
	}
	*ms = total;
	return 0;
}

/*
 * The optional scalar of a getter: NULL when key is missing or null; else the
 * key is pushed (*mark restores the path) and a collection is reported.
 * *node is the value either way, for the caller's pop.
 */
static const char *
text_of(struct yreader *r, const struct ynode *map, const char *key, const char *want,
	const struct ynode **node, size_t *mark)
{
	const struct ynode *v = ymap_opt(map, key);

	*node = v;
	if (v == NULL)
		return NULL;
	*mark = yr_key(r, key);
	return yr_scalar(r, v, want);
}

static void
invalid(struct yreader *r, const struct ynode *v, const char *want)
{
	yr_err(r, v, "invalid value %s (want %s)", yr_quote_node(r, v), want);
}

const struct ynode *
yr_get_uint(struct yreader *r, const struct ynode *map, const char *key, uint64_t lo, uint64_t hi,
	    const char *want, uint64_t *v)
{
	const struct ynode *n, *ok = NULL;
	char range[48];
	const char *s;
	size_t mark;
	uint64_t x;

	if (want == NULL) {
		snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, lo, hi);
		want = range;
	}
	s = text_of(r, map, key, "a number", &n, &mark);
	if (n == NULL)
		return NULL;
	if (s != NULL) {
		if (yparse_uint(s, UINT64_MAX, &x) < 0 || x < lo || x > hi) {
			invalid(r, n, want);
		} else {
			*v = x;
			ok = n;
		}
	}
	yr_pop(r, mark);
	return ok;
}

/* "a, b or c" */
static const char *
names_want(char *buf, size_t size, const char *const *names)
{
	size_t o = 0, i;

	buf[0] = '\0';
	for (i = 0; names[i] != NULL && o < size; i++) {
		const char *sep = i == 0 ? "" : names[i + 1] == NULL ? " or " : ", ";

		o += (size_t)snprintf(buf + o, size - o, "%s%s", sep, names[i]);
	}
	return buf;
}

const struct ynode *
yr_get_enum(struct yreader *r, const struct ynode *map, const char *key, const char *const *names,
	    const char *want, unsigned int *v)
{
	const struct ynode *n, *ok = NULL;
	char buf[96];
	const char *s;
	unsigned int i;
	size_t mark;

	if (want == NULL)
		want = names_want(buf, sizeof(buf), names);
	s = text_of(r, map, key, want, &n, &mark);
	if (n == NULL)
		return NULL;
	for (i = 0; s != NULL && names[i] != NULL; i++) {
		if (strcmp(s, names[i]) == 0) {
			*v = i;
			ok = n;
			break;
		}
	}
	if (s != NULL && ok == NULL)
		invalid(r, n, want);
	yr_pop(r, mark);
	return ok;
}

const struct ynode *
yr_get_flag(struct yreader *r, const struct ynode *map, const char *key, bool *v)
{
	const struct ynode *n;
	unsigned int i;

	n = yr_get_enum(r, map, key, bool_spellings, "true or false", &i);
	if (n != NULL)
		*v = i % 2 == 1;
	return n;
}

const struct ynode *
yr_get_duration_ms(struct yreader *r, const struct ynode *map, const char *key, uint64_t max_ms,
		   uint64_t *v)
{
	const struct ynode *n, *ok = NULL;
	const char *s;
	size_t mark;
	uint64_t ms;

	s = text_of(r, map, key, "a duration", &n, &mark);
	if (n == NULL)
		return NULL;
	if (s == NULL) {
		/* reported */
	} else if (yparse_duration_ms(s, &ms) < 0) {
		yr_err(r, n,
		       "invalid duration %s (want a number with unit s, m, h or ms, e.g. "
		       "240s)",
		       yr_quote_node(r, n));
	} else if (ms == 0 || ms > max_ms) {
		yr_err(r, n, "duration %s out of range (want 1ms to %" PRIu64 "h)",
		       yr_quote_node(r, n), max_ms / 3600000);
	} else {
		*v = ms;
		ok = n;
	}
	yr_pop(r, mark);
	return ok;
}
