/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Regular expressions as Go's regexp/syntax parses them (RE2 syntax, Perl
 * flags): Istio's validateStringRegexp() calls regexp.Compile() on every
 * regex of a VirtualService http match, so a regex Go refuses makes the
 * VirtualService invalid. Only the syntax is checked; nothing here runs one.
 *
 * Control thread only.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "istio_vs_private.h"

#define RE_DEPTH_MAX 1000 /* Go's regexp/syntax maxHeight */

/* A hexadecimal digit's value, or -1. */
static int
unhex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The UTF-8 character at p: its code point in *r; @return past it. */
static const char *
rune(const char *p, unsigned int *r)
{
	unsigned char c = (unsigned char)*p;
	int n = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4, i;

	*r = n == 1 ? c : c & (0x7fu >> n);
	for (i = 1; i < n && ((unsigned char)p[i] & 0xc0) == 0x80; i++)
		*r = *r << 6 | ((unsigned char)p[i] & 0x3f);
	return p + i;
}

/* Go's regexp/syntax parseEscape(): p at the backslash; its rune in *r. @return past it, or NULL. */
static const char *
re_escape(const char *p, unsigned int *r, const char **why)
{
	char c = p[1];

	if (c == '\0') {
		*why = "trailing backslash at end of expression";
		return NULL;
	}
	*why = "invalid escape sequence";
	/* an escaped ASCII non-word character is itself; a non-ASCII one is refused */
	if ((unsigned char)c < 0x80 &&
	    !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
		*r = (unsigned char)c;
		return p + 2;
	}
	if (c >= '1' && c <= '7' && (p[2] < '0' || p[2] > '7'))
		return NULL; /* a backreference: RE2 has none */
	if (c >= '0' && c <= '7') {
		int i;

		*r = (unsigned int)(c - '0');
		for (p += 2, i = 1; i < 3 && *p >= '0' && *p <= '7'; i++)
			*r = *r * 8 + (unsigned int)(*p++ - '0');
		return p;
	}
	if (c == 'x') {
		int n = 0;

		/* any number of digits in braces, up to unicode.MaxRune */
		if (p[2] == '{') {
			for (*r = 0, p += 3; *p != '}'; p++, n++) {
				if (unhex(*p) < 0)
					return NULL;
				*r = *r * 16 + (unsigned int)unhex(*p);
				if (*r > 0x10ffff)
					return NULL;
			}
			return n > 0 ? p + 1 : NULL;
		}
		if (unhex(p[2]) < 0 || unhex(p[3]) < 0)
			return NULL;
		*r = (unsigned int)(unhex(p[2]) * 16 + unhex(p[3]));
		return p + 4;
	}
	if (c == '\0' || strchr("afnrtv", c) == NULL)
		return NULL;
	*r = (unsigned char)"\a\f\n\r\t\v"[strchr("afnrtv", c) - "afnrtv"];
	return p + 2;
}

/*
 * The names \p{Name} takes, as Go's regexp/syntax unicodeTable() finds
 * them: unicode.Categories and CategoryAliases, unicode.Scripts (Unicode
 * 15.0.0), and Any, Assigned, ASCII. Go looks a name up case-insensitively,
 * ignoring '_', '-' and ' ' (its canonicalName(), after Unicode TR18), so
 * they are kept here in that form: lower case, no separators, sorted.
 */
static const char *const re_unicode_names[] = {
	"adlam",
	"ahom",
	"anatolianhieroglyphs",
	"any",
	"arabic",
	"armenian",
	"ascii",
	"assigned",
	"avestan",
	"balinese",
	"bamum",
	"bassavah",
	"batak",
	"bengali",
	"bhaiksuki",
	"bopomofo",
	"brahmi",
	"braille",
	"buginese",
	"buhid",
	"c",
	"canadianaboriginal",
	"carian",
	"casedletter",
	"caucasianalbanian",
	"cc",
	"cf",
	"chakma",
	"cham",
	"cherokee",
	"chorasmian",
	"closepunctuation",
	"cn",
	"co",
	"combiningmark",
	"common",
	"connectorpunctuation",
	"control",
	"coptic",
	"cs",
	"cuneiform",
	"currencysymbol",
	"cypriot",
	"cyprominoan",
	"cyrillic",
	"dashpunctuation",
	"decimalnumber",
	"deseret",
	"devanagari",
	"digit",
	"divesakuru",
	"dogra",
	"duployan",
	"egyptianhieroglyphs",
	"elbasan",
	"elymaic",
	"enclosingmark",
	"ethiopic",
	"finalpunctuation",
	"format",
	"georgian",
	"glagolitic",
	"gothic",
	"grantha",
	"greek",
	"gujarati",
	"gunjalagondi",
	"gurmukhi",
	"han",
	"hangul",
	"hanifirohingya",
	"hanunoo",
	"hatran",
	"hebrew",
	"hiragana",
	"imperialaramaic",
	"inherited",
	"initialpunctuation",
	"inscriptionalpahlavi",
	"inscriptionalparthian",
	"javanese",
	"kaithi",
	"kannada",
	"katakana",
	"kawi",
	"kayahli",
	"kharoshthi",
	"khitansmallscript",
	"khmer",
	"khojki",
	"khudawadi",
	"l",
	"lao",
	"latin",
	"lc",
	"lepcha",
	"letter",
	"letternumber",
	"limbu",
	"lineara",
	"linearb",
	"lineseparator",
	"lisu",
	"ll",
	"lm",
	"lo",
	"lowercaseletter",
	"lt",
	"lu",
	"lycian",
	"lydian",
	"m",
	"mahajani",
	"makasar",
	"malayalam",
	"mandaic",
	"manichaean",
	"marchen",
	"mark",
	"masaramgondi",
	"mathsymbol",
	"mc",
	"me",
	"medefaidrin",
	"meeteimayek",
	"mendekikakui",
	"meroiticcursive",
	"meroitichieroglyphs",
	"miao",
	"mn",
	"modi",
	"modifierletter",
	"modifiersymbol",
	"mongolian",
	"mro",
	"multani",
	"myanmar",
	"n",
	"nabataean",
	"nagmundari",
	"nandinagari",
	"nd",
	"newa",
	"newtailue",
	"nko",
	"nl",
	"no",
	"nonspacingmark",
	"number",
	"nushu",
	"nyiakengpuachuehmong",
	"ogham",
	"olchiki",
	"oldhungarian",
	"olditalic",
	"oldnortharabian",
	"oldpermic",
	"oldpersian",
	"oldsogdian",
	"oldsoutharabian",
	"oldturkic",
	"olduyghur",
	"openpunctuation",
	"oriya",
	"osage",
	"osmanya",
	"other",
	"otherletter",
	"othernumber",
	"otherpunctuation",
	"othersymbol",
	"p",
	"pahawhhmong",
	"palmyrene",
	"paragraphseparator",
	"paucinhau",
	"pc",
	"pd",
	"pe",
	"pf",
	"phagspa",
	"phoenician",
	"pi",
	"po",
	"privateuse",
	"ps",
	"psalterpahlavi",
	"punct",
	"punctuation",
	"rejang",
	"runic",
	"s",
	"samaritan",
	"saurashtra",
	"sc",
	"separator",
	"sharada",
	"shavian",
	"siddham",
	"signwriting",
	"sinhala",
	"sk",
	"sm",
	"so",
	"sogdian",
	"sorasompeng",
	"soyombo",
	"spaceseparator",
	"spacingmark",
	"sundanese",
	"surrogate",
	"sylotinagri",
	"symbol",
	"syriac",
	"tagalog",
	"tagbanwa",
	"taile",
	"taitham",
	"taiviet",
	"takri",
	"tamil",
	"tangsa",
	"tangut",
	"telugu",
	"thaana",
	"thai",
	"tibetan",
	"tifinagh",
	"tirhuta",
	"titlecaseletter",
	"toto",
	"ugaritic",
	"unassigned",
	"uppercaseletter",
	"vai",
	"vithkuqi",
	"wancho",
	"warangciti",
	"yezidi",
	"yi",
	"z",
	"zanabazarsquare",
	"zl",
	"zp",
	"zs",
};

static int
re_name_cmp(const void *a, const void *b)
{
	return strcmp(a, *(const char *const *)b);
}

/* Does Go's unicodeTable() know name (len bytes, a leading '^' stripped)? */
static bool
re_unicode_name(const char *name, size_t len)
{
	char key[32];
	size_t i, n = 0;

	if (len > 0 && name[0] == '^') /* \p{^Greek} is \P{Greek} */
		name++, len--;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (c == '_' || c == '-' || c == ' ')
			continue;
		if (n + 1 >= sizeof(key))
			return false;
		key[n++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	key[n] = '\0';
	return n > 0 && bsearch(key, re_unicode_names,
				sizeof(re_unicode_names) / sizeof(re_unicode_names[0]),
				sizeof(re_unicode_names[0]), re_name_cmp) != NULL;
}

/* \d \D \s \S \w \W, \pN, \p{Name}, \PN: p at the backslash; @return past it or p. */
static const char *
re_class_escape(const char *p, const char **why)
{
	if (p[1] != '\0' && strchr("dDsSwW", p[1]) != NULL)
		return p + 2;
	if (p[1] == 'p' || p[1] == 'P') {
		const char *q = p + 2;
		unsigned int c;

		*why = "invalid character class range";
		if (*q == '{') {
			const char *end = strchr(q, '}');

			if (end == NULL || !re_unicode_name(q + 1, (size_t)(end - q - 1)))
				return NULL;
			return end + 1;
		}
		if (*q == '\0')
			return NULL;
		p = rune(q, &c);
		return re_unicode_name(q, (size_t)(p - q)) ? p : NULL;
	}
	return p;
}

/* A character class, p past "[". @return past "]", or NULL with *why. */
static const char *
re_class(const char *p, const char **why)
{
	static const char *const posix[] = {
		"alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph",
		"lower", "print", "punct", "space", "upper", "word",  "xdigit",
	};
	bool first = true;

	if (*p == '^')
		p++;
	while (first || *p != ']') {
		unsigned int lo = 0, hi = 0;
		const char *q;
		size_t i;

		first = false;
		if (*p == '\0') {
			*why = "missing closing ]";
			return NULL;
		}
		if (p[0] == '[' && p[1] == ':' && (q = strstr(p + 2, ":]")) != NULL) {
			const char *name = p[2] == '^' ? p + 3 : p + 2;

			for (i = 0; i < sizeof(posix) / sizeof(posix[0]); i++)
				if (strlen(posix[i]) == (size_t)(q - name) &&
				    strncmp(posix[i], name, (size_t)(q - name)) == 0)
					break;
			if (i == sizeof(posix) / sizeof(posix[0])) {
				*why = "invalid character class range";
				return NULL;
			}
			p = q + 2;
			continue;
		}
		if (p[0] == '\\') {
			q = re_class_escape(p, why);
			if (q == NULL)
				return NULL;
			if (q != p) {
				p = q;
				continue;
			}
		}
		/* one character, or a range lo-hi (either end may be an escape) */
		q = p[0] == '\\' ? re_escape(p, &lo, why) : rune(p, &lo);
		if (q == NULL)
			return NULL;
		p = q;
		if (p[0] == '-' && p[1] != ']' && p[1] != '\0') {
			q = p[1] == '\\' ? re_escape(p + 1, &hi, why) : rune(p + 1, &hi);
			if (q == NULL)
				return NULL;
			if (hi < lo) {
				*why = "invalid character class range";
				return NULL;
			}
			p = q;
		}
	}
	return p + 1;
}

/* A {min,max} repetition at p: @return past it (and the counts), or p when it is a literal "{". */
static const char *
re_repeat(const char *p, long *min, long *max)
{
	const char *q = p + 1;
	char *end;

	if (*q < '0' || *q > '9' || (q[0] == '0' && q[1] >= '0' && q[1] <= '9'))
		return p;
	*min = strtol(q, &end, 10);
	q = end;
	*max = *min;
	if (*q == ',') {
		q++;
		if (*q == '}') {
			*max = -1;
		} else {
			if (*q < '0' || *q > '9' || (q[0] == '0' && q[1] >= '0' && q[1] <= '9'))
				return p;
			*max = strtol(q, &end, 10);
			q = end;
		}
	}
	return *q == '}' ? q + 1 : p;
}

bool
istio_re2_ok(const char *re, const char **why)
{
	const char *p = re;
	bool atom = false, last_repeat = false;
	long depth = 0;

	while (*p != '\0') {
		bool repeat = false;
		long min, max;
		unsigned int c;
		const char *q;

		if (depth > RE_DEPTH_MAX) {
			*why = "expression nests too deeply";
			return false;
		}
		switch (*p) {
		case '(':
			if (p[1] == '?') {
				q = p + 2;
				if (*q == 'P' && q[1] == '<')
					q++;
				if (*q == '<') {
					const char *name = ++q;

					q += strspn(
						q,
						"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
						"0123456789_");
					if (*q != '>' || q == name) {
						*why = "invalid named capture";
						return false;
					}
					p = q + 1;
					depth++;
					atom = false;
					break;
				}
				{
					bool sign = false, flag = false;

					for (; *q != '\0' && strchr("imsU-", *q) != NULL; q++) {
						if (*q == '-') {
							if (sign)
								break;
							sign = true;
							flag = false;
						} else {
							flag = true;
						}
					}
					if ((*q != ')' && *q != ':') || (sign && !flag)) {
						*why = "invalid or unsupported Perl syntax";
						return false;
					}
					if (*q == ':') {
						depth++;
						atom = false;
					}
					p = q + 1;
				}
				break;
			}
			depth++;
			atom = false;
			p++;
			break;
		case ')':
			if (depth == 0) {
				*why = "unexpected )";
				return false;
			}
			depth--;
			atom = true;
			p++;
			break;
		case '|':
			atom = false;
			p++;
			break;
		case '*':
		case '+':
		case '?':
		case '{':
			q = p + 1;
			if (*p == '{') {
				q = re_repeat(p, &min, &max);
				if (q == p) { /* not a repetition: a literal "{" */
					atom = true;
					p++;
					break;
				}
				if (min < 0 || min > 1000 || max > 1000 ||
				    (max >= 0 && min > max)) {
					*why = "invalid repeat count";
					return false;
				}
			}
			if (*q == '?')
				q++;
			if (last_repeat) {
				*why = "invalid nested repetition operator";
				return false;
			}
			if (!atom) {
				*why = "missing argument to repetition operator";
				return false;
			}
			repeat = true;
			p = q;
			break;
		case '[':
			p = re_class(p + 1, why);
			if (p == NULL)
				return false;
			atom = true;
			break;
		case '\\':
			if (p[1] == 'Q') {
				q = strstr(p + 2, "\\E");
				atom = atom || q != p + 2;
				p = q != NULL ? q + 2 : p + strlen(p);
				break;
			}
			if (p[1] != '\0' && strchr("AbBz", p[1]) != NULL) {
				p += 2;
			} else if (p[1] == 'C') {
				*why = "invalid escape sequence";
				return false;
			} else {
				q = re_class_escape(p, why);
				if (q == NULL)
					return false;
				if (q == p)
					q = re_escape(p, &c, why);
				if (q == NULL)
					return false;
				p = q;
			}
			atom = true;
			break;
		default:
			atom = true;
			p++;
			break;
		}
		last_repeat = repeat;
	}
	if (depth > 0) {
		*why = "missing closing )";
		return false;
	}
	return true;
}
