/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the files of the DestinationRule loader share: typed values as the
 * API server and Istio's webhook read them (istio_dr_values.c), the parts
 * of a traffic policy (istio_dr_settings.c) and its locality load
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

/* How a duration field is checked (after Go's time.ParseDuration, which
 * the webhook and the CRD's CEL duration() both use to read it). */
enum dr_dur_check {
	DR_DUR_DECODE, /* read only (no rule: httpCookie.ttl) */
	DR_DUR_CEL,    /* the CRD's duration(self) >= duration('1ms') alone */
	DR_DUR_ISTIO,  /* that, and Istio's ValidateDuration(): whole ms */
	DR_DUR_IDLE,   /* tcp idleTimeout: under 1 ms disables it, else ValidateDuration() */
};

/*
 * Go's time.ParseDuration(): "300ms", "1h30m", "1.5s", "-2s", "0".
 * @return 0 and *ns; -EINVAL malformed; -ERANGE beyond a Go time.Duration
 * (2^63 - 1 ns, 292 years).
 */
int dr_parse_go_duration(const char *s, int64_t *ns);

/** The duration at key of map, checked as c says. @return true and *ns when it is valid. */
bool dr_duration(struct ld *ld, const struct ynode *map, const char *key, enum dr_dur_check c,
		 int64_t *ns);

/** An integer at key of map in [lo, hi] (the CRD's bounds). @return true and *v when present and in range. */
bool dr_int(struct ld *ld, const struct ynode *map, const char *key, int64_t lo, int64_t hi,
	    int64_t *v);

/**
 * An int32 at key that Istio wants non-negative ("WHAT must be non-negative";
 * "WHAT N out of range (0-2147483647)" past int32). @return true and *v when valid.
 */
bool dr_nonneg_int32(struct ld *ld, const struct ynode *map, const char *key, const char *what,
		     int64_t *v);

/** A JSON number (an integer or a float, plain). @return true and *v when present and one. */
bool dr_number(struct ld *ld, const struct ynode *map, const char *key, double *v);

/** A boolean at key. @return true and *v when present and one. */
bool dr_bool(struct ld *ld, const struct ynode *map, const char *key, bool *v);

/**
 * A string at key that must be one of names (NULL-terminated, the CRD's
 * enum): "invalid WHAT "X" (want A, B or C)". @return its index, -1 when
 * absent or invalid.
 */
int dr_enum(struct ld *ld, const struct ynode *map, const char *key, const char *const *names,
	    const char *what);

/*
 * The parts of a traffic policy (path pushed: the policy). outlier: the
 * policy's outlierDetection is set (locality failover wants it). ns: the
 * rule's namespace, for a configmap:// credentialName.
 */
void dr_connection_pool(struct ld *ld, const struct ynode *pool, struct dr_settings *st);
void dr_outlier_detection(struct ld *ld, const struct ynode *od);
void dr_load_balancer(struct ld *ld, const struct ynode *lbn, struct dr_settings *st, bool outlier);
void dr_client_tls(struct ld *ld, const struct ynode *tls, const char *ns);

/** loadBalancer.localityLbSetting (path pushed: localityLbSetting). */
void dr_locality_lb(struct ld *ld, const struct ynode *loc, bool outlier);

#endif
