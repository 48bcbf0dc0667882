/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A VirtualService's HTTP header names and values, checked as Istio checks
 * them (validation.go: validateHeaderName(), ValidateHTTPHeaderNameOrJwtClaimRoute(),
 * validateHeaderValue() after Envoy's header-value grammar, validateAuthorityRewrite())
 * for a match's headers and a route's or destination's headers operations.
 * istio_vs_http.c calls them; nothing here is run.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "istio_vs_private.h"

static const char *const header_op_fields[] = { "set", "add", "remove", NULL };
static const char *const headers_fields[] = { "request", "response", NULL };

/* RFC 7230 token characters. */
bool
vs_header_token(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("!#$%&'*+-.^_`|~", c) != NULL) ||
		    c == '\0')
			return false;
	}
	return true;
}

/* Istio's jwt.ToRoutingClaim(name).Match: "@request.auth.claims.a.b" or "...[a][b]". */
bool
vs_jwt_claim(const char *name)
{
	static const char prefix[] = "@request.auth.claims";
	const char *rest = name + sizeof(prefix) - 1;
	size_t l;

	if (strncasecmp(name, prefix, sizeof(prefix) - 1) != 0)
		return false;
	l = strlen(rest);
	return (rest[0] == '.' && l > 1) || (rest[0] == '[' && rest[l - 1] == ']' && l > 2);
}

/* Istio's ValidateHTTPHeaderNameOrJwtClaimRoute() of a match key. */
void
vs_match_header_name(struct ld *ld, const struct ynode *k)
{
	static const char *const pseudo[] = {
		":method", ":scheme", ":authority", ":path", ":status", NULL,
	};

	if (k->len == 0)
		yr_err(&ld->r, k, "header name cannot be empty");
	else if (!vs_jwt_claim(k->str) && !istio_in_list(k->str, pseudo) &&
		 !vs_header_token(k->str, k->len))
		yr_err(&ld->r, k, "header name %s is not a valid header name",
		       yr_quote_node(&ld->r, k));
}

static bool
internal_header(const char *name)
{
	return name[0] == ':' || strcasecmp(name, "host") == 0;
}

static bool
authority_header(const char *name)
{
	return strcasecmp(name, ":authority") == 0 || strcasecmp(name, "host") == 0;
}

/*
 * Istio's ValidateHTTPHeaderWithAuthorityOperationName() (request set / add:
 * the authority may be set) or ValidateHTTPHeaderOperationName().
 */
static void
op_header_name(struct ld *ld, const struct ynode *k, bool authority_ok)
{
	if (k->len == 0)
		yr_err(&ld->r, k, "header name cannot be empty");
	else if (authority_ok && internal_header(k->str) && !authority_header(k->str))
		yr_err(&ld->r, k, "invalid header %s: header cannot have \":\" prefix",
		       yr_quote_node(&ld->r, k));
	else if (!authority_ok && strcasecmp(k->str, "host") == 0)
		yr_err(&ld->r, k, "invalid header %s: cannot set Host header",
		       yr_quote_node(&ld->r, k));
	else if (!authority_ok && internal_header(k->str))
		yr_err(&ld->r, k, "invalid header %s: header cannot have \":\" prefix",
		       yr_quote_node(&ld->r, k));
}

/*
 * Istio's ValidateHTTPHeaderValue(): no control character but tab, and
 * Envoy's %VARIABLE% syntax (Istio's port of Envoy's header_parser.cc:
 * "%%" a literal %, "%VAR%" or "%VAR(args)%"). @return the error or NULL.
 */
static const char *
header_value_error(const char *v, size_t len)
{
	enum {
		LIT,
		NAME,
		ARRAY,
		STR_OPEN,
		STR,
		DELIM,
		ARGS_END,
		VAR_END
	} st = LIT;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == 0x7f || (c < 0x20 && c != '\t'))
			return "";
	}
	for (i = 0; i < len; i++) {
		char c = v[i];
		bool more = i + 1 < len;

		switch (st) {
		case LIT:
			if (c != '%')
				break;
			if (!more)
				return "invalid header configuration. Un-escaped %";
			if (v[i + 1] == '%')
				i++;
			else
				st = NAME;
			break;
		case NAME:
			st = c == '%' ? LIT : c == '(' ? ARRAY : NAME;
			break;
		case ARRAY:
			st = c == '[' ? STR_OPEN : c != ' ' ? STR : ARRAY;
			break;
		case DELIM:
			if (c == ',')
				st = STR_OPEN;
			else if (c == ']')
				st = ARGS_END;
			else if (c != ' ')
				return "invalid header configuration. Expecting ',', ']', or whitespace";
			break;
		case STR_OPEN:
			if (c == '"')
				st = STR;
			else if (c != ' ')
				return "invalid header configuration. Expecting '\"'";
			break;
		case STR:
			if (c == '\\') {
				if (!more)
					return "invalid header configuration. Un-terminated backslash "
					       "in JSON string";
				i++;
			} else if (c == ')') {
				st = VAR_END;
			} else if (c == '"') {
				st = DELIM;
			}
			break;
		case ARGS_END:
			if (c == ')')
				st = VAR_END;
			else if (c != ' ')
				return "invalid header configuration. Expecting ')' or whitespace";
			break;
		case VAR_END:
			if (c == '%')
				st = LIT;
			else if (c != ' ')
				return "invalid header configuration. Expecting '%' or whitespace "
				       "after";
			break;
		}
	}
	return st != LIT ? "invalid header configuration. Un-terminated variable expression" : NULL;
}

/* One of set / add / remove of request / response (path pushed to the side). */
static void
header_op(struct ld *ld, const struct ynode *side, const char *op, bool request,
	  struct authority *au)
{
	bool remove = strcmp(op, "remove") == 0;
	const struct ynode *n = yr_get(&ld->r, side, op, remove ? YNODE_SEQ : YNODE_MAP);
	size_t i, mark;

	if (n == NULL)
		return;
	mark = yr_key(&ld->r, op);
	for (i = 0; i < n->n; i++) {
		const struct ynode *k = remove ? n->items[i] : n->items[2 * i];
		const struct ynode *v = remove ? NULL : n->items[2 * i + 1];
		size_t m2 = remove ? yr_idx(&ld->r, i) : yr_key(&ld->r, k->str);
		const char *why;

		if (remove && yr_str(&ld->r, k) == NULL) {
			yr_pop(&ld->r, m2);
			continue;
		}
		op_header_name(ld, k, request && !remove);
		if (v != NULL && !ynode_is_null(v) && yr_str(&ld->r, v) != NULL &&
		    (why = header_value_error(v->str, v->len)) != NULL)
			yr_err(&ld->r, v, "header value configuration %s%s%s",
			       yr_quote_node(&ld->r, v), why[0] != '\0' ? ": " : " is invalid",
			       why);
		/* Istio's validateAuthorityRewrite(): the first clash only */
		if (au != NULL && request && !remove && authority_header(k->str) && !au->reported) {
			const char *val = ynode_is_null(v) || v->type != YNODE_SCALAR ? "" : v->str;

			if (au->current[0] != '\0') {
				yr_err(&ld->r, k,
				       "authority header cannot be set multiple times: have %s, "
				       "attempting to set %s",
				       yr_quote(&ld->r, au->current), yr_quote(&ld->r, val));
				au->reported = true;
			}
			au->current = val;
		}
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

/* headers: {request, response} of a route or a destination (path pushed). */
void
vs_headers_at(struct ld *ld, const struct ynode *map, struct authority *au)
{
	const struct ynode *h = yr_get(&ld->r, map, "headers", YNODE_MAP);
	static const char *const sides[] = { "request", "response" };
	static const char *const ops[] = { "set", "add", "remove" };
	size_t s, o, mark;

	if (h == NULL)
		return;
	mark = yr_key(&ld->r, "headers");
	ld_unknown_fields(ld, h, headers_fields);
	for (s = 0; s < 2; s++) {
		const struct ynode *side = yr_get(&ld->r, h, sides[s], YNODE_MAP);
		size_t m2;

		if (side == NULL)
			continue;
		m2 = yr_key(&ld->r, sides[s]);
		ld_unknown_fields(ld, side, header_op_fields);
		for (o = 0; o < 3; o++)
			header_op(ld, side, ops[o], s == 0, au);
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}
