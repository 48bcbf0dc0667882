/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the two VirtualService files share: istio_virtualservice.c (the
 * resource, hosts, gateways, tcp and tls routes) and istio_vs_http.c (the
 * http routes, which an L4 gateway does not run but validates as Istio does).
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

/* spec.http (path at spec): Istio's validateHTTPRoute() for each route. */
void vs_http_routes(struct ld *ld, const struct ynode *spec, const struct vs_ctx *ctx);

#endif
