/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VirtualService http routes. An L4 gateway does not run them, but a
 * VirtualService whose http routes Istio refuses does not exist in the
 * cluster, so they are validated as Istio's validateHTTPRoute() does
 * (pkg/config/validation/virtualservice.go and validation.go): matches,
 * header operations, CORS, fault injection, mirrors, redirect, direct
 * response, retries, rewrite, timeout, destinations, delegation. Regular
 * expressions are checked against RE2's syntax, as Go's regexp parses it
 * (istio_regex.c).
 *
 * Control thread only.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "istio_vs_private.h"

static const char *const route_fields[] = {
	"name",     "match",   "route",         "redirect",         "directResponse",
	"delegate", "rewrite", "timeout",       "retries",          "fault",
	"mirror",   "mirrors", "mirrorPercent", "mirrorPercentage", "corsPolicy",
	"headers",  NULL,
};
static const char *const match_fields[] = {
	"name",
	"uri",
	"scheme",
	"method",
	"authority",
	"headers",
	"port",
	"sourceLabels",
	"gateways",
	"queryParams",
	"ignoreUriCase",
	"withoutHeaders",
	"sourceNamespace",
	"statPrefix",
	NULL,
};
static const char *const string_match_fields[] = { "exact", "prefix", "regex", NULL };
static const char *const dest_fields[] = { "destination", "weight", "headers", NULL };
static const char *const delegate_fields[] = { "name", "namespace", NULL };
static const char *const redirect_fields[] = {
	"uri", "authority", "port", "derivePort", "scheme", "redirectCode", NULL,
};
static const char *const direct_fields[] = { "status", "body", NULL };
static const char *const body_fields[] = { "string", "bytes", NULL };
static const char *const rewrite_fields[] = { "uri", "authority", "uriRegexRewrite", NULL };
static const char *const regex_rewrite_fields[] = { "match", "rewrite", NULL };
static const char *const retry_fields[] = {
	"attempts",
	"perTryTimeout",
	"retryOn",
	"retryRemoteLocalities",
	"retryIgnorePreviousHosts",
	"backoff",
	NULL,
};
static const char *const cors_fields[] = {
	"allowOrigin", "allowOrigins",     "allowMethods",        "allowHeaders", "exposeHeaders",
	"maxAge",      "allowCredentials", "unmatchedPreflights", NULL,
};
static const char *const fault_fields[] = { "delay", "abort", NULL };
static const char *const delay_fields[] = {
	"fixedDelay", "exponentialDelay", "percent", "percentage", NULL,
};
static const char *const abort_fields[] = {
	"httpStatus", "grpcStatus", "http2Error", "percentage", NULL,
};
static const char *const mirror_fields[] = { "destination", "percentage", NULL };
static const char *const percent_fields[] = { "value", NULL };

/* Envoy's retry-on policies Istio takes (x-envoy-retry-on, x-envoy-retry-grpc-on). */
static const char *const retry_on[] = {
	"5xx",
	"gateway-error",
	"reset",
	"reset-before-request",
	"connect-failure",
	"retriable-4xx",
	"refused-stream",
	"retriable-status-codes",
	"retriable-headers",
	"envoy-ratelimited",
	"http3-post-connect-failure",
	"cancelled",
	"deadline-exceeded",
	"internal",
	"resource-exhausted",
	"unavailable",
	NULL,
};

/* The codes Go's http.StatusText() names: a retryOn number must be one. */
static const uint16_t http_codes[] = {
	100, 101, 102, 103, 200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301,
	302, 303, 304, 305, 307, 308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409,
	410, 411, 412, 413, 414, 415, 416, 417, 418, 421, 422, 423, 424, 425, 426, 428,
	429, 431, 451, 500, 501, 502, 503, 504, 505, 506, 507, 508, 510, 511,
};

static const char *const grpc_status[] = {
	"OK",
	"CANCELLED",
	"UNKNOWN",
	"INVALID_ARGUMENT",
	"DEADLINE_EXCEEDED",
	"NOT_FOUND",
	"ALREADY_EXISTS",
	"PERMISSION_DENIED",
	"RESOURCE_EXHAUSTED",
	"FAILED_PRECONDITION",
	"ABORTED",
	"OUT_OF_RANGE",
	"UNIMPLEMENTED",
	"INTERNAL",
	"UNAVAILABLE",
	"DATA_LOSS",
	"UNAUTHENTICATED",
	NULL,
};

static const char *const cors_methods[] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT", "OPTIONS", "TRACE", "*", NULL,
};

static const char *const derive_ports[] = { "FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT", NULL };

#define RE_MAX    1024         /* Envoy's RE2 program size, approximated by length */
#define BODY_WARN (100 * 1024) /* a direct response body Istio warns about */
#define BODY_MAX  (1024 * 1024)
#define MS_NS     1000000LL
#define RE2_SYNTAX                                                                                 \
	"Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)"

/* The value at map[key] when it is present and not null. */
static const struct ynode *
present(const struct ynode *map, const char *key)
{
	return ymap_opt(map, key);
}

static size_t
list_len(const struct ynode *map, const char *key)
{
	const struct ynode *n = ymap_get(map, key);

	return n != NULL && n->type == YNODE_SEQ ? n->n : 0;
}

/* An error at map[key]'s key (the path gets key). */
static void
key_err(struct ld *ld, const struct ynode *map, const char *key, const char *msg)
{
	size_t mark = yr_key(&ld->r, key);
	const struct ynode *k = ymap_key(map, key);

	yr_err(&ld->r, k != NULL ? k : map, "%s", msg);
	yr_pop(&ld->r, mark);
}

/* A string at map[key] ("" when absent); *node the value. */
static const char *
str_at(struct ld *ld, const struct ynode *map, const char *key, const struct ynode **node)
{
	const char *s = yr_get_str(&ld->r, map, key, node);

	return s != NULL ? s : "";
}

/* ------------------------------------------------------------------ */
/* Regular expressions (numbers, durations: istio_values.c)           */
/* Istio's validateStringRegexp(): re at n, where names the field. */
static void
regexp_check(struct ld *ld, const struct ynode *n, const char *re, const char *where)
{
	const char *why;

	if (strlen(re) > RE_MAX)
		yr_err(&ld->r, n, "\"%s\": regex is too large, max length allowed is %d", where,
		       RE_MAX);
	else if (!istio_re2_ok(re, &why))
		yr_err(&ld->r, n, "\"%s\": error parsing regexp: %s: %s; %s", where, why,
		       yr_quote(&ld->r, re), RE2_SYNTAX);
}

/*
 * A StringMatch {exact | prefix | regex}: Istio's validateStringMatch()
 * (strict: no empty prefix) or validateStringMatchRegexp() (uri).
 */
static void
string_match(struct ld *ld, const struct ynode *sm, const char *where, bool strict)
{
	const struct ynode *n;
	unsigned int set = 0;
	size_t i;

	if (sm->type != YNODE_MAP) {
		yr_err(&ld->r, sm, "expected a mapping, got %s", yr_describe(&ld->r, sm));
		return;
	}
	ld_unknown_fields(ld, sm, string_match_fields);
	for (i = 0; string_match_fields[i] != NULL; i++)
		set += present(sm, string_match_fields[i]) != NULL;
	if (set > 1)
		yr_err(&ld->r, sm, "\"%s\": only one of exact, prefix and regex may be set", where);
	if (strict && str_at(ld, sm, "prefix", &n)[0] == '\0' && n != NULL) {
		size_t mark = yr_key(&ld->r, "prefix");

		yr_err(&ld->r, n, "\"%s\": prefix string match should not be empty", where);
		yr_pop(&ld->r, mark);
	}
	if (present(sm, "regex") != NULL) {
		const char *re = str_at(ld, sm, "regex", &n);
		size_t mark = yr_key(&ld->r, "regex");

		if (re[0] == '\0')
			yr_err(&ld->r, n, "\"%s\": regex string match should not be empty", where);
		else
			regexp_check(ld, n, re, where);
		yr_pop(&ld->r, mark);
	}
}

/* ------------------------------------------------------------------ */
/* The pieces of a route                                               */

/* "[a b]" as Go prints a []string: the gateways in messages. */
static void
go_list(const struct ynode *seq, char *buf, size_t sz)
{
	size_t i, o;

	o = (size_t)snprintf(buf, sz, "[");
	for (i = 0; seq != NULL && seq->type == YNODE_SEQ && i < seq->n && o < sz; i++)
		o += (size_t)snprintf(buf + o, sz - o, "%s%s", i > 0 ? " " : "",
				      ynode_str(seq->items[i]) != NULL ? seq->items[i]->str : "");
	if (o < sz)
		snprintf(buf + o, sz - o, "]");
}

/*
 * headers / withoutHeaders of a match: names, null values, string matches;
 * routing by JWT claim needs a gateway (Istio checks it for the whole
 * VirtualService).
 */
static void
match_headers(struct ld *ld, const struct ynode *mm, const char *key, const struct vs_ctx *ctx)
{
	const struct ynode *h = yr_get(&ld->r, mm, key, YNODE_MAP);
	bool without = strcmp(key, "withoutHeaders") == 0;
	size_t i, mark;

	if (h == NULL)
		return;
	mark = yr_key(&ld->r, key);
	for (i = 0; i < h->n; i++) {
		const struct ynode *k = h->items[2 * i], *v = h->items[2 * i + 1];
		size_t m2 = yr_key(&ld->r, k->str);
		const char *rx;

		if (ynode_is_null(v) && !without)
			yr_err(&ld->r, k, "header match %s cannot be null", k->str);
		vs_match_header_name(ld, k);
		if (!ctx->to_gateway && vs_jwt_claim(k->str)) {
			char gws[MSG_MAX / 2];

			go_list(ctx->gw, gws, sizeof(gws));
			yr_err(&ld->r, k,
			       "JWT claim based routing (key: %s) is only supported for gateway, "
			       "found no gateways: %s",
			       k->str, gws);
		}
		/* withoutHeaders: regex "*" is a presence match, not RE2 */
		rx = ynode_str(ymap_get(v, "regex"));
		if (!ynode_is_null(v) && !(without && rx != NULL && strcmp(rx, "*") == 0))
			string_match(ld, v, key, true);
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

/* One match of an http route (path pushed): Istio's validateHTTPRouteMatchRequest(). */
static void
http_match(struct ld *ld, const struct ynode *mm, const struct vs_ctx *ctx)
{
	static const struct {
		const char *key;
		bool strict; /* uri takes an empty prefix; the others do not */
	} sms[] = {
		{ "uri", false }, { "scheme", true }, { "method", true }, { "authority", true }
	};
	const struct ynode *n, *seq;
	const char *ns;
	size_t i, mark;

	ld_unknown_fields(ld, mm, match_fields);
	match_headers(ld, mm, "headers", ctx);
	match_headers(ld, mm, "withoutHeaders", ctx);
	for (i = 0; i < sizeof(sms) / sizeof(sms[0]); i++) {
		n = yr_get(&ld->r, mm, sms[i].key, YNODE_MAP);
		if (n == NULL)
			continue;
		mark = yr_key(&ld->r, sms[i].key);
		string_match(ld, n, sms[i].key, sms[i].strict);
		yr_pop(&ld->r, mark);
	}
	n = yr_get(&ld->r, mm, "queryParams", YNODE_MAP);
	for (i = 0; n != NULL && i < n->n; i++) {
		const struct ynode *v = n->items[2 * i + 1];

		if (ynode_is_null(v))
			continue;
		mark = yr_push(&ld->r, "%squeryParams.%s", ld->r.path_len > 0 ? "." : "",
			       n->items[2 * i]->str);
		string_match(ld, v, "queryParams", true);
		yr_pop(&ld->r, mark);
	}
	vs_port(ld, mm, "port");
	vs_source_labels(ld, mm, "sourceLabels");
	seq = yr_get(&ld->r, mm, "gateways", YNODE_SEQ);
	if (seq != NULL && seq->n > 0) {
		char **names = NULL;
		unsigned int n_names = 0, j;

		mark = yr_key(&ld->r, "gateways");
		vs_gateway_names(ld, seq, &names, &n_names);
		for (j = 0; j < n_names; j++)
			free(names[j]);
		free(names);
		yr_pop(&ld->r, mark);
	}
	ns = str_at(ld, mm, "sourceNamespace", &n);
	if (ns[0] != '\0' && !istio_label(ns, strlen(ns))) {
		mark = yr_key(&ld->r, "sourceNamespace");
		yr_err(&ld->r, n, "sourceNamespace match %s is invalid", ns);
		yr_pop(&ld->r, mark);
	}
}

/* A Percent {value} at map[key] (path pushed): Istio's validatePercentage(). */
static bool
percent_at(struct ld *ld, const struct ynode *map, const char *key, double *v)
{
	const struct ynode *p = yr_get(&ld->r, map, key, YNODE_MAP);
	bool ok;
	size_t mark;

	if (p == NULL)
		return false;
	mark = yr_key(&ld->r, key);
	ld_unknown_fields(ld, p, percent_fields);
	*v = 0;
	ok = present(p, "value") == NULL || ld_number(ld, p, "value", v);
	yr_pop(&ld->r, mark);
	return ok;
}

static void
fraction_at(struct ld *ld, const struct ynode *map, const char *key)
{
	double v;

	if (percent_at(ld, map, key, &v) && (v < 0 || v > 100 || (v > 0 && v < 0.0001))) {
		size_t mark = yr_key(&ld->r, key);

		yr_err(&ld->r, ymap_get(map, key),
		       "percentage %g is neither 0.0, nor in range [0.0001, 100.0]", v);
		yr_pop(&ld->r, mark);
	}
}

/* A mirror percentage (0 to 100) at map[key]; what names it in the message. */
static void
mirror_percent_at(struct ld *ld, const struct ynode *map, const char *key, const char *what)
{
	double v;

	if (percent_at(ld, map, key, &v) && (v < 0 || v > 100)) {
		size_t mark = yr_key(&ld->r, key);

		yr_err(&ld->r, ymap_get(map, key), "%s must have a %s value of %s (it has %f)",
		       what, v < 0 ? "min" : "max", v < 0 ? "0" : "100", v);
		yr_pop(&ld->r, mark);
	}
}

static void
cors(struct ld *ld, const struct ynode *c)
{
	const struct ynode *seq;
	size_t i, mark;
	int64_t ns;

	ld_unknown_fields(ld, c, cors_fields);
	seq = yr_get(&ld->r, c, "allowOrigins", YNODE_SEQ);
	for (i = 0; seq != NULL && i < seq->n; i++) {
		const struct ynode *o = seq->items[i];
		const char *s = "";
		size_t k;

		mark = yr_push(&ld->r, ".allowOrigins[%zu]", i);
		if (o->type == YNODE_MAP) {
			for (k = 0; string_match_fields[k] != NULL; k++)
				if (ynode_str(present(o, string_match_fields[k])) != NULL)
					s = ymap_get(o, string_match_fields[k])->str;
		}
		if (s[0] == '\0')
			yr_err(&ld->r, o, "'' is not a valid match type for CORS allow origins");
		else
			string_match(ld, o, "corsPolicy.allowOrigins", false);
		yr_pop(&ld->r, mark);
	}
	seq = yr_get(&ld->r, c, "allowMethods", YNODE_SEQ);
	for (i = 0; seq != NULL && i < seq->n; i++) {
		const char *m;

		mark = yr_push(&ld->r, ".allowMethods[%zu]", i);
		m = yr_str(&ld->r, seq->items[i]);
		if (m != NULL && !istio_in_list(m, cors_methods))
			yr_err(&ld->r, seq->items[i], "%s is not a supported HTTP method",
			       yr_quote(&ld->r, m));
		yr_pop(&ld->r, mark);
	}
	for (i = 0; i < 2; i++) {
		const char *key = i == 0 ? "allowHeaders" : "exposeHeaders";
		size_t j;

		seq = yr_get(&ld->r, c, key, YNODE_SEQ);
		for (j = 0; seq != NULL && j < seq->n; j++) {
			const struct ynode *h = seq->items[j];
			const char *s;

			mark = yr_push(&ld->r, ".%s[%zu]", key, j);
			s = yr_str(&ld->r, h);
			if (s != NULL && s[0] == '\0')
				yr_err(&ld->r, h, "header name cannot be empty");
			else if (s != NULL && strcmp(s, "*") != 0 && !vs_header_token(s, h->len))
				yr_err(&ld->r, h, "header name %s is not a valid header name", s);
			yr_pop(&ld->r, mark);
		}
	}
	if (ld_duration(ld, c, "maxAge", LD_DUR_ISTIO, &ns) && ns % (1000 * MS_NS) != 0)
		key_err(ld, c, "maxAge", "max_age duration is accurate only to seconds precision");
}

static void
fault(struct ld *ld, const struct ynode *f)
{
	const struct ynode *abort = yr_get(&ld->r, f, "abort", YNODE_MAP);
	const struct ynode *delay = yr_get(&ld->r, f, "delay", YNODE_MAP);
	const struct ynode *n;
	size_t mark;
	int64_t v;

	ld_unknown_fields(ld, f, fault_fields);
	if (abort == NULL && delay == NULL)
		yr_err(&ld->r, f, "HTTP fault injection must have an abort and/or a delay");
	if (abort != NULL) {
		mark = yr_key(&ld->r, "abort");
		ld_unknown_fields(ld, abort, abort_fields);
		fraction_at(ld, abort, "percentage");
		if (present(abort, "grpcStatus") != NULL) {
			const char *s = str_at(ld, abort, "grpcStatus", &n);

			if (n != NULL && !istio_in_list(s, grpc_status))
				key_err(ld, abort, "grpcStatus",
					"gRPC status is not supported. See "
					"https://github.com/grpc/grpc/blob/master/doc/statuscodes.md "
					"for a list of supported codes, for example 'NOT_FOUND'");
		} else if (present(abort, "http2Error") != NULL) {
			key_err(ld, abort, "http2Error",
				"HTTP/2 abort fault injection not supported yet");
		} else if (present(abort, "httpStatus") != NULL) {
			if (ld_int(ld, abort, "httpStatus", INT32_MIN, INT32_MAX, &v) &&
			    (v < 200 || v > 600)) {
				char msg[64];

				snprintf(msg, sizeof(msg),
					 "HTTP status %" PRId64 " is not in range 200-599", v);
				key_err(ld, abort, "httpStatus", msg);
			}
		} else {
			yr_warn(&ld->r, abort, "abort configured, but error type not set");
		}
		yr_pop(&ld->r, mark);
	}
	if (delay != NULL) {
		mark = yr_key(&ld->r, "delay");
		ld_unknown_fields(ld, delay, delay_fields);
		fraction_at(ld, delay, "percentage");
		ld_int(ld, delay, "percent", INT32_MIN, INT32_MAX, &v);
		if (present(delay, "fixedDelay") != NULL) {
			ld_duration(ld, delay, "fixedDelay", LD_DUR_ISTIO, &v);
		} else if (present(delay, "exponentialDelay") != NULL) {
			ld_duration(ld, delay, "exponentialDelay", LD_DUR_ISTIO, &v);
			key_err(ld, delay, "exponentialDelay",
				"exponentialDelay not supported yet");
		}
		yr_pop(&ld->r, mark);
	}
}

/* Istio's validateHTTPRedirect(): the first error only, as Istio returns it. */
static void
redirect(struct ld *ld, const struct ynode *r)
{
	const struct ynode *n, *port = present(r, "port"), *derive = present(r, "derivePort");
	const char *scheme = str_at(ld, r, "scheme", &n);
	int64_t code = 0, p = 0;
	unsigned int e;

	ld_unknown_fields(ld, r, redirect_fields);
	if (port != NULL && derive != NULL)
		yr_err(&ld->r, r, "only one of port and derivePort may be set");
	if (derive != NULL && yr_get_enum(&ld->r, r, "derivePort", derive_ports, NULL, &e) == NULL)
		return;
	if (str_at(ld, r, "uri", &n)[0] == '\0' && str_at(ld, r, "authority", &n)[0] == '\0' &&
	    port == NULL && derive == NULL && scheme[0] == '\0') {
		yr_err(&ld->r, r, "redirect must specify URI, authority, scheme, or port");
		return;
	}
	if (present(r, "redirectCode") != NULL &&
	    ld_int(ld, r, "redirectCode", 0, UINT32_MAX, &code) && code != 0 &&
	    (code < 300 || code > 399)) {
		char msg[64];

		snprintf(msg, sizeof(msg), "%" PRId64 " is not a valid redirect code, must be 3xx",
			 code);
		key_err(ld, r, "redirectCode", msg);
		return;
	}
	if (scheme[0] != '\0' && strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		key_err(ld, r, "scheme", "invalid redirect scheme, must be \"http\" or \"https\"");
		return;
	}
	if (port != NULL && ld_int(ld, r, "port", 0, UINT32_MAX, &p) && p > 65535) {
		char msg[64];

		snprintf(msg, sizeof(msg), "port number %" PRId64 " must be in the range 1..65535",
			 p);
		key_err(ld, r, "port", msg);
	}
}

/* The bytes a base64 text decodes to (protobuf JSON "bytes"). */
static size_t
base64_len(const char *s, size_t len)
{
	while (len > 0 && s[len - 1] == '=')
		len--;
	return len * 3 / 4;
}

static void
direct_response(struct ld *ld, const struct ynode *d)
{
	const struct ynode *body = yr_get(&ld->r, d, "body", YNODE_MAP), *n;
	int64_t status = 0;

	ld_unknown_fields(ld, d, direct_fields);
	if (body != NULL) {
		size_t mark = yr_key(&ld->r, "body"), size = 0;

		ld_unknown_fields(ld, body, body_fields);
		if (present(body, "string") != NULL && present(body, "bytes") != NULL)
			yr_err(&ld->r, body, "only one of string and bytes may be set");
		if (yr_get_str(&ld->r, body, "string", &n) != NULL)
			size = n->len;
		else if (yr_get_str(&ld->r, body, "bytes", &n) != NULL)
			size = base64_len(n->str, n->len);
		if (size > BODY_MAX)
			yr_err(&ld->r, body,
			       "large direct_responses may impact control plane performance, must "
			       "be less than 1MB");
		else if (size > BODY_WARN)
			yr_warn(&ld->r, body,
				"large direct_responses may impact control plane performance");
		yr_pop(&ld->r, mark);
	}
	if (present(d, "status") == NULL || ld_int(ld, d, "status", 0, UINT32_MAX, &status)) {
		if (status < 200 || status > 600) {
			char msg[64];

			snprintf(msg, sizeof(msg),
				 "HTTP status %" PRId64 " is not in range 200-599", status);
			if (present(d, "status") != NULL)
				key_err(ld, d, "status", msg);
			else
				yr_err(&ld->r, d, "%s", msg);
		}
	}
}

/* One retryOn policy: an Envoy policy, or an HTTP status Go names. */
static bool
retry_policy_ok(const char *s, size_t len)
{
	char buf[32];
	size_t i, d = len > 0 && (s[0] == '+' || s[0] == '-');

	if (len < sizeof(buf) && len > d && strspn(s + d, "0123456789") == len - d) {
		long code = strtol(s, NULL, 10);

		for (i = 0; i < sizeof(http_codes) / sizeof(http_codes[0]); i++)
			if (code == http_codes[i])
				return true;
	}
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return istio_in_list(buf, retry_on);
}

static void
retries(struct ld *ld, const struct ynode *r)
{
	const struct ynode *n;
	const char *on = str_at(ld, r, "retryOn", &n);
	int64_t attempts = 0, ns;

	ld_unknown_fields(ld, r, retry_fields);
	if (ld_int(ld, r, "attempts", INT32_MIN, INT32_MAX, &attempts) && attempts < 0)
		key_err(ld, r, "attempts", "attempts cannot be negative");
	if (attempts == 0 && (present(r, "perTryTimeout") != NULL || on[0] != '\0' ||
			      present(r, "retryRemoteLocalities") != NULL))
		yr_err(&ld->r, r,
		       "http retry policy configured when attempts are set to 0 (disabled)");
	ld_duration(ld, r, "perTryTimeout", LD_DUR_ISTIO, &ns);
	if (on[0] != '\0') {
		const char *p = on;
		size_t mark = yr_key(&ld->r, "retryOn");

		for (;;) {
			size_t l = strcspn(p, ",");

			if (!retry_policy_ok(p, l))
				yr_err(&ld->r, n, "\"%.*s\" is not a valid retryOn policy", (int)l,
				       p);
			if (p[l] == '\0')
				break;
			p += l + 1;
		}
		yr_pop(&ld->r, mark);
	}
	ld_duration(ld, r, "backoff", LD_DUR_ISTIO, &ns);
}

/* Istio's validateHTTPRewrite(): the first error only. */
static void
rewrite(struct ld *ld, const struct ynode *r)
{
	const struct ynode *n, *rr = yr_get(&ld->r, r, "uriRegexRewrite", YNODE_MAP);
	const char *uri = str_at(ld, r, "uri", &n);

	ld_unknown_fields(ld, r, rewrite_fields);
	if (uri[0] != '\0' && rr != NULL) {
		yr_err(&ld->r, r, "rewrite may only contain one of URI or UriRegexRewrite");
	} else if (uri[0] == '\0' && rr == NULL && str_at(ld, r, "authority", &n)[0] == '\0') {
		yr_err(&ld->r, r,
		       "rewrite must specify at least one of URI, UriRegexRewrite, or authority. "
		       "Only one of URI or UriRegexRewrite may be specified");
	} else if (rr != NULL) {
		size_t mark = yr_key(&ld->r, "uriRegexRewrite");
		const char *m = str_at(ld, rr, "match", &n);

		ld_unknown_fields(ld, rr, regex_rewrite_fields);
		if (m[0] == '\0' || str_at(ld, rr, "rewrite", &n)[0] == '\0') {
			yr_err(&ld->r, rr,
			       "UriRegexRewrite has errors: UriRegexRewrite requires both Rewrite "
			       "and Match fields to be specified");
		} else {
			size_t m2 = yr_key(&ld->r, "match");

			regexp_check(ld, ymap_get(rr, "match"), m,
				     "HTTPRewrite.UriRegexRewrite.Match");
			yr_pop(&ld->r, m2);
		}
		yr_pop(&ld->r, mark);
	}
}

static void
mirrors(struct ld *ld, const struct ynode *seq)
{
	size_t i;

	for (i = 0; i < seq->n; i++) {
		const struct ynode *m = seq->items[i], *dm;
		size_t mark = yr_idx(&ld->r, i);

		if (vs_item_map(ld, m, "mirror cannot be null", false)) {
			ld_unknown_fields(ld, m, mirror_fields);
			dm = yr_get(&ld->r, m, "destination", YNODE_MAP);
			if (dm == NULL) {
				yr_err(&ld->r, m, "destination is required for mirrors");
			} else {
				size_t m2 = yr_key(&ld->r, "destination");

				vs_destination(ld, dm, NULL);
				yr_pop(&ld->r, m2);
				mirror_percent_at(ld, m, "percentage", "mirror percentage");
			}
		}
		yr_pop(&ld->r, mark);
	}
}

/* route[]: Istio's validateHTTPRouteDestinations() (path pushed to the list). */
static void
http_destinations(struct ld *ld, const struct ynode *seq)
{
	int64_t total = 0;
	size_t i;

	for (i = 0; i < seq->n; i++) {
		const struct ynode *rd = seq->items[i], *dm;
		size_t mark = yr_idx(&ld->r, i);
		bool has;

		if (rd->type != YNODE_MAP) {
			yr_err(&ld->r, rd, "weight may not be nil");
			yr_pop(&ld->r, mark);
			continue;
		}
		ld_unknown_fields(ld, rd, dest_fields);
		dm = yr_get(&ld->r, rd, "destination", YNODE_MAP);
		if (dm == NULL && ymap_opt(rd, "destination") == NULL)
			yr_err(&ld->r, rd, "destination is required");
		vs_headers_at(ld, rd, NULL);
		if (dm != NULL) {
			size_t m2 = yr_key(&ld->r, "destination");

			vs_destination(ld, dm, NULL);
			yr_pop(&ld->r, m2);
		}
		vs_weight(ld, rd, &total, &has);
		yr_pop(&ld->r, mark);
	}
	if (seq->n > 1 && total == 0)
		yr_err(&ld->r, seq, "total destination weight = 0");
}

/* Istio's validateHTTPRouteConflict(): what a route may combine. */
static void
http_conflicts(struct ld *ld, const struct ynode *rm, bool delegate)
{
	static const struct {
		const char *a, *b, *msg;
	} rules[] = {
		{ "redirect", "route", "HTTP route cannot contain both route and redirect" },
		{ "redirect", "fault", "HTTP route cannot contain both fault and redirect" },
		{ "redirect", "rewrite",
		  "HTTP route rule cannot contain both rewrite and redirect" },
		{ "redirect", "directResponse",
		  "HTTP route rule cannot contain both direct_response and redirect" },
		{ "directResponse", "route",
		  "HTTP route cannot contain both route and direct_response" },
		{ "directResponse", "fault",
		  "HTTP route cannot contain both fault and direct_response" },
		{ "directResponse", "rewrite",
		  "HTTP route rule cannot contain both rewrite and direct_response" },
	};
	const struct ynode *name = ymap_get(rm, "name");
	bool has_route = list_len(rm, "route") > 0, root = !delegate && present(rm, "delegate");
	const char *first = present(rm, "redirect") != NULL       ? "redirect" :
			    present(rm, "directResponse") != NULL ? "directResponse" :
								    NULL;
	char msg[MSG_MAX];
	size_t i;

	if (root) {
		/* a root route delegates: nothing else may route */
		if (present(rm, "redirect") != NULL) {
			snprintf(msg, sizeof(msg), "root HTTP route %s must not specify redirect",
				 ynode_str(name) != NULL ? name->str : "");
			key_err(ld, rm, "redirect", msg);
		}
		if (has_route) {
			snprintf(msg, sizeof(msg), "root HTTP route %s must not specify route",
				 ynode_str(name) != NULL ? name->str : "");
			key_err(ld, rm, "route", msg);
		}
		return;
	}
	if (delegate && present(rm, "delegate") != NULL)
		key_err(ld, rm, "delegate", "delegate HTTP route cannot contain delegate");
	for (i = 0; first != NULL && i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (strcmp(rules[i].a, first) != 0)
			continue;
		if (strcmp(rules[i].b, "route") == 0 ? has_route : present(rm, rules[i].b) != NULL)
			key_err(ld, rm, rules[i].b, rules[i].msg);
	}
	if (first == NULL && !has_route)
		yr_err(&ld->r, rm, "HTTP route, redirect or direct_response is required");
	if (present(rm, "mirror") != NULL && list_len(rm, "mirrors") > 0)
		key_err(ld, rm, "mirrors", "HTTP route cannot contain both mirror and mirrors");
}

/* validateDestination() of a mirror (its destination is the value). */
static void
mirror(struct ld *ld, const struct ynode *dm)
{
	vs_destination(ld, dm, NULL);
}

/* One http route (path pushed): Istio's validateHTTPRoute(). */
static void
http_route(struct ld *ld, const struct ynode *rm, const struct vs_ctx *ctx)
{
	/* the parts checked on their own */
	static const struct {
		const char *key;
		enum ynode_type type;
		void (*check)(struct ld *ld, const struct ynode *n);
	} parts[] = {
		{ "corsPolicy", YNODE_MAP, cors },
		{ "fault", YNODE_MAP, fault },
		{ "mirror", YNODE_MAP, mirror },
		{ "mirrors", YNODE_SEQ, mirrors },
		{ "redirect", YNODE_MAP, redirect },
		{ "directResponse", YNODE_MAP, direct_response },
		{ "retries", YNODE_MAP, retries },
		{ "rewrite", YNODE_MAP, rewrite },
		{ "route", YNODE_SEQ, http_destinations },
	};
	struct authority au = { .current = "" };
	const struct ynode *n;
	size_t i, mark;
	int64_t v;

	ld_unknown_fields(ld, rm, route_fields);
	http_conflicts(ld, rm, ctx->delegate);
	n = yr_get(&ld->r, rm, "match", YNODE_SEQ);
	for (i = 0; n != NULL && i < n->n; i++) {
		/* a null match is no condition (Istio skips it) */
		if (ynode_is_null(n->items[i]))
			continue;
		mark = yr_push(&ld->r, ".match[%zu]", i);
		if (n->items[i]->type != YNODE_MAP)
			yr_err(&ld->r, n->items[i], "expected a mapping, got %s",
			       yr_describe(&ld->r, n->items[i]));
		else
			http_match(ld, n->items[i], ctx);
		yr_pop(&ld->r, mark);
	}
	if ((n = yr_get(&ld->r, rm, "delegate", YNODE_MAP)) != NULL) {
		mark = yr_key(&ld->r, "delegate");
		ld_unknown_fields(ld, n, delegate_fields);
		yr_pop(&ld->r, mark);
	}
	/* validateAuthorityRewrite(): a rewritten authority first, then headers */
	n = ymap_get(ymap_get(rm, "rewrite"), "authority");
	if (ynode_str(n) != NULL && !ynode_is_null(n))
		au.current = n->str;
	vs_headers_at(ld, rm, &au);
	if (present(rm, "mirrorPercent") != NULL) {
		if (ld_int(ld, rm, "mirrorPercent", 0, UINT32_MAX, &v) && v > 100) {
			char msg[80];

			snprintf(msg, sizeof(msg),
				 "mirror_percent must have a max value of 100 (it has %" PRId64 ")",
				 v);
			key_err(ld, rm, "mirrorPercent", msg);
		}
		mark = yr_key(&ld->r, "mirrorPercent");
		yr_warn(&ld->r, ymap_key(rm, "mirrorPercent"),
			"using deprecated setting \"mirrorPercent\", use \"mirrorPercentage\" "
			"instead");
		yr_pop(&ld->r, mark);
	}
	mirror_percent_at(ld, rm, "mirrorPercentage", "mirror_percentage");
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if ((n = yr_get(&ld->r, rm, parts[i].key, parts[i].type)) == NULL)
			continue;
		mark = yr_key(&ld->r, parts[i].key);
		parts[i].check(ld, n);
		yr_pop(&ld->r, mark);
	}
	ld_duration(ld, rm, "timeout", LD_DUR_ISTIO, &v);
}

void
vs_http_routes(struct ld *ld, const struct ynode *spec, const struct vs_ctx *ctx)
{
	const struct ynode *seq = yr_get(&ld->r, spec, "http", YNODE_SEQ);
	size_t i, mark;

	if (seq == NULL)
		return;
	mark = yr_key(&ld->r, "http");
	for (i = 0; i < seq->n; i++) {
		const struct ynode *rm = seq->items[i];
		size_t m2 = yr_idx(&ld->r, i);

		if (vs_item_map(ld, rm, "http route may not be null", false))
			http_route(ld, rm, ctx);
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}
