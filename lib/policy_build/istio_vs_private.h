/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the VirtualService files share: istio_virtualservice.c (the
 * resource, hosts, gateways, tcp and tls routes) and istio_vs_http.c (the
 * http routes, which an L4 gateway does not run but validates as Istio does),
 * with istio_regex.c (their regular expressions, as Go's regexp parses them).
 *
 * Istio's names here are Istio's, not Kubernetes': its DNS-1123 label takes
 * upper case ([a-zA-Z0-9], pkg/config/labels), and a first host label may be
 * a partial wildcard ("*", "*foo", "*-foo").
 *
 * Control thread only.
 */
#ifndef EGRESS_ISTIO_VS_PRIVATE_H
#define EGRESS_ISTIO_VS_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "istio_private.h"

/* What the http routes need to know of their VirtualService. */
struct vs_ctx {
	bool delegate;          /* no hosts: a delegate VirtualService */
	bool to_gateway;        /* bound to gateways only (no "mesh") */
	const struct ynode *gw; /* spec.gateways, for messages; may be NULL */
};

/*
 * A list item that must be a mapping: a null one gets null_msg (an error, or
 * a warning when null_warns), another kind an error. @return true for a mapping.
 */
bool vs_item_map(struct ld *ld, const struct ynode *n, const char *null_msg, bool null_warns);

/* Istio's validateGatewayNames() over seq (path pushed); names go to *out. */
void vs_gateway_names(struct ld *ld, const struct ynode *seq, char ***out, unsigned int *n_out);

/* Istio's labels.Instance.Validate() of map[key] (a match's sourceLabels). */
void vs_source_labels(struct ld *ld, const struct ynode *map, const char *key);

/* A port that 0 leaves unset (match.port, redirect.port): 0 or the number, -1 bad. */
long vs_port(struct ld *ld, const struct ynode *map, const char *key);

/* Istio's validateDestination() of the mapping dm (path pushed); d may be NULL. */
void vs_destination(struct ld *ld, const struct ynode *dm, struct vs_destination *d);

/*
 * A destination's weight (int32, not negative) at rd.weight, added to *total.
 * @return the weight, 0 when absent or bad.
 */
int64_t vs_weight(struct ld *ld, const struct ynode *rd, int64_t *total, bool *has);

/*
 * istio_regex.c: does re parse as Go's regexp (RE2 syntax, Perl flags)?
 * When not, *why is Go's error ("missing closing )").
 */
bool istio_re2_ok(const char *re, const char **why);

/* istio_vs_headers.c: header names and values */
/* What validateAuthorityRewrite() tracks: the authority set so far. */
struct authority {
	const char *current; /* "" when none */
	bool reported;
};

/* RFC 7230 token characters. */
bool vs_header_token(const char *s, size_t len);
/* A match header naming a JWT claim ("@request.auth.claims..."). */
bool vs_jwt_claim(const char *name);
/* A match's header name k: a token, a pseudo-header or a JWT claim. */
void vs_match_header_name(struct ld *ld, const struct ynode *k);
/* headers: {request, response} of a route or a destination (path pushed); au may be NULL. */
void vs_headers_at(struct ld *ld, const struct ynode *map, struct authority *au);

/* spec.http (path at spec): Istio's validateHTTPRoute() for each route. */
void vs_http_routes(struct ld *ld, const struct ynode *spec, const struct vs_ctx *ctx);

#endif
