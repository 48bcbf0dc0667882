/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the files of the DestinationRule loader share: the parts of a
 * traffic policy (istio_dr_settings.c) and its locality load
 * balancing (istio_dr_locality.c). istio_destinationrule.c reads the rule
 * itself: host, subsets, workloadSelector, trafficPolicy, portLevelSettings.
 *
 * Each function checks a field the way Istio does (pkg/config/validation:
 * validation.go, agent/validation.go) and the way the CRD schema does
 * (types, enums, bounds, CEL rules), with Istio's message where it has one;
 * a message goes at the value, under the path the caller pushed.
 *
 * Control thread only.
 */
#ifndef EGRESS_ISTIO_DR_PRIVATE_H
#define EGRESS_ISTIO_DR_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "istio_private.h"

/*
 * The parts of a traffic policy (path pushed: the policy). outlier: the
 * policy's outlierDetection is set (locality failover wants it). ns: the
 * rule's namespace, for a configmap:// credentialName.
 */
void dr_outlier_detection(struct ld *ld, const struct ynode *od);
void dr_load_balancer(struct ld *ld, const struct ynode *lbn, struct dr_settings *st, bool outlier);
void dr_client_tls(struct ld *ld, const struct ynode *tls, const char *ns);

/** loadBalancer.localityLbSetting (path pushed: localityLbSetting). */
void dr_locality_lb(struct ld *ld, const struct ynode *loc, bool outlier);

#endif
