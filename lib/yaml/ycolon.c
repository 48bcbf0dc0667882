/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Colons in flow scalars, as go-yaml reads them. go-yaml (the parser kubectl,
 * the API server and Istio read manifests with) ends a plain scalar at ':'
 * only when a blank follows, so in "[1.2.3.4, 2001:db8::]" the second item is
 * "2001:db8::". libyaml refuses a ':' inside a plain scalar of a flow
 * collection when ',', '[', ']', '{', '}' or '?' follows it ("found unexpected
 * ':'"). Such colons are replaced by a stand-in byte in a copy of the buffer
 * that libyaml parses, and put back into the scalar values: the copy has the
 * same length, so every mark, and every position in a diagnostic, is the
 * original's. Which colons is first guessed from the bytes (ycolon_guess(); not
 * one that ends an anchor or alias name: "[*a:, 1]" is [{*a: null}, 1]), then
 * checked against what libyaml makes of the copy: a stand-in must land inside
 * the value of a plain scalar. One that lands anywhere else in a node (a quoted
 * or block scalar, the first character of a plain one, an anchor, alias or
 * tag) is turned back into ':' and the copy parsed again; one in a comment
 * changes nothing.
 * A ':' libyaml still refuses (the guess leaves out colons after a blank or
 * a quote, which most often are value indicators: "key" :[ or JSON's "key":[)
 * is replaced and the copy parsed again. At most YCOLON_PASSES passes (ydoc.c
 * runs them): the last one's refusal of a colon is the error, and a stand-in
 * still misplaced then means the original is parsed as it is.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ycolon.h"

#define YCOLON_STAND_IN '_'                    /* ends nothing, starts nothing */
#define YAML_FLOW_COLON "found unexpected ':'" /* libyaml's refusal of one */

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
int
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

/* Is ch a character of an anchor or alias name (libyaml's and go-yaml's is_alpha)? */
static bool
ycolon_name_char(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       ch == '_' || ch == '-';
}

/*
 * Does the ':' at p end an anchor or alias name ("[*a:, 1]")? A name ends at
 * the first other character, and in a flow collection that ':' is the value
 * indicator ([{*a: null}, 1]); a stand-in would lengthen the name. Only a '&'
 * or '*' where a token starts begins one; the marks of libyaml's events check
 * what the bytes do not show (a NEL before the token, say).
 */
static bool
ycolon_ends_name(const char *start, const char *p)
{
	while (p > start && ycolon_name_char(p[-1]))
		p--;
	return p > start && (p[-1] == '&' || p[-1] == '*') &&
	       (p - 1 == start || !ycolon_prev(p[-2]));
}

/* Set c up for buf and replace the colons the bytes suggest; 0 or -ENOMEM. */
int
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
		    !ycolon_ends_name(buf + c->first, p) &&
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

/* Turn back the stand-ins of bytes [s, e): they are not in a scalar's value. */
static void
ycolon_revert(struct ycolons *c, size_t s, size_t e)
{
	for (; s < e; s++)
		c->mod[s] = c->orig[s];
	c->bad = true;
}

/*
 * The byte where the value of a node whose marks start at v (before e) starts:
 * after its properties, an anchor and a tag in either order ("&a !!str x",
 * "!!str &a x"), and the blanks after each.
 */
static size_t
ycolon_props(const struct ycolons *c, size_t v, size_t e)
{
	while (v < e && (c->orig[v] == '&' || c->orig[v] == '!')) {
		while (v < e && !ycolon_blank((unsigned char)c->orig[v]))
			v++;
		while (v < e && ycolon_blank((unsigned char)c->orig[v]))
			v++;
	}
	return v;
}

/*
 * A scalar of the copy: restore the colons of its value (len bytes at val), or
 * turn back the stand-ins that are not in a plain scalar's value (in its
 * anchor or tag too: an anchor's name would not be the file's) and ask for
 * another pass.
 */
void
ycolon_scalar(struct ycolons *c, const yaml_event_t *ev, char *val, size_t len)
{
	size_t s = ycolon_byte(c, ev->start_mark.index);
	size_t e = ycolon_byte(c, ev->end_mark.index);
	size_t v;

	if (e <= s || memcmp(c->mod + s, c->orig + s, e - s) == 0)
		return;
	if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		/* A node's marks start at its anchor or tag: the value is after them. */
		v = ycolon_props(c, s, e);
		if (v < e && memcmp(c->mod + s, c->orig + s, v - s + 1) == 0 &&
		    ycolon_restore(c, v, e, val, len))
			return;
	}
	ycolon_revert(c, s, e);
}

/*
 * An alias, or the start of a collection (its anchor and tag): a stand-in in
 * its marks is in a name, never in a value; turn it back, ask for another pass.
 */
void
ycolon_node(struct ycolons *c, const yaml_event_t *ev)
{
	size_t s = ycolon_byte(c, ev->start_mark.index);
	size_t e = ycolon_byte(c, ev->end_mark.index);

	if (e > s && memcmp(c->mod + s, c->orig + s, e - s) != 0)
		ycolon_revert(c, s, e);
}

/*
 * libyaml refused the parse: when the problem is a ':' go-yaml keeps in the
 * scalar, note it (c->refused) for the caller to replace before the next pass.
 */
void
ycolon_refusal(struct ycolons *c, const yaml_parser_t *p)
{
	size_t off;

	if (c->off || p->error != YAML_SCANNER_ERROR || p->problem == NULL ||
	    strcmp(p->problem, YAML_FLOW_COLON) != 0)
		return;
	off = ycolon_byte(c, p->problem_mark.index);
	if (off < c->len && (c->mod != NULL ? c->mod : c->orig)[off] == ':')
		c->refused = off;
}

/* Before each pass: the cursor at character 0, nothing refused or misplaced. */
void
ycolon_rewind(struct ycolons *c)
{
	c->ci = 0;
	c->bo = c->first;
	c->refused = SIZE_MAX;
	c->bad = false;
}
