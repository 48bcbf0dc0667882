/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The parts of a DestinationRule traffic policy: outlier detection, client
 * TLS, load balancer (consistent hashing, warmup); the connection pool,
 * which a Sidecar has too, is ld_connection_pool() (istio_common.c). Each is
 * checked as Istio checks it (validateOutlierDetection(), ValidateTLS(),
 * validateLoadBalancer()) and as the CRD schema types and bounds it. An L4
 * gateway enforces the choice of load balancer; the rest is validated, then
 * ignored with one warning.
 *
 * Control thread only.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "istio_dr_private.h"

/* ------------------------------------------------------------------ */
/* outlierDetection                                                     */

/* ValidatePercent() of an int32 field. */
static void
dr_percent(struct ld *ld, const struct ynode *map, const char *key)
{
	int64_t v;

	if (ld_int(ld, map, key, INT32_MIN, INT32_MAX, &v) && (v < 0 || v > 100)) {
		size_t mark = yr_key(&ld->r, key);

		yr_err(&ld->r, ymap_get(map, key), "percentage %" PRId64 " is not in range 0..100",
		       v);
		yr_pop(&ld->r, mark);
	}
}

void
dr_outlier_detection(struct ld *ld, const struct ynode *od)
{
	static const char *const fields[] = {
		"consecutiveErrors",
		"consecutiveGatewayErrors",
		"consecutive5xxErrors",
		"consecutiveLocalOriginFailures",
		"splitExternalLocalOriginErrors",
		"interval",
		"baseEjectionTime",
		"maxEjectionPercent",
		"minHealthPercent",
		NULL,
	};
	size_t mark = yr_key(&ld->r, "outlierDetection");
	int64_t v, local = 0, ns;
	bool split = false;

	ld_unknown_fields(ld, od, fields);
	ld_duration(ld, od, "baseEjectionTime", LD_DUR_ISTIO, &ns);
	if (ld_int(ld, od, "consecutiveErrors", INT32_MIN, INT32_MAX, &v) && v != 0) {
		size_t m2 = yr_key(&ld->r, "consecutiveErrors");

		yr_warn(&ld->r, ymap_get(od, "consecutiveErrors"),
			"outlier detection consecutive errors is deprecated, use "
			"consecutiveGatewayErrors or consecutive5xxErrors instead");
		yr_pop(&ld->r, m2);
	}
	ld_int(ld, od, "consecutiveGatewayErrors", 0, UINT32_MAX, &v);
	ld_int(ld, od, "consecutive5xxErrors", 0, UINT32_MAX, &v);
	ld_int(ld, od, "consecutiveLocalOriginFailures", 0, UINT32_MAX, &local);
	ld_bool(ld, od, "splitExternalLocalOriginErrors", &split);
	if (local > 0 && !split) {
		size_t m2 = yr_key(&ld->r, "consecutiveLocalOriginFailures");

		yr_err(&ld->r, ymap_get(od, "consecutiveLocalOriginFailures"),
		       "outlier detection consecutive local origin failures is specified, but "
		       "split external local origin errors is set to false");
		yr_pop(&ld->r, m2);
	}
	ld_duration(ld, od, "interval", LD_DUR_ISTIO, &ns);
	dr_percent(ld, od, "maxEjectionPercent");
	dr_percent(ld, od, "minHealthPercent");
	yr_pop(&ld->r, mark);
}

/* ------------------------------------------------------------------ */
/* tls (ClientTLSSettings)                                              */

/* A string field that is set: present and not "" (proto3 has no other unset). */
static bool
tls_set(struct ld *ld, const struct ynode *tls, const char *key)
{
	const char *s = yr_get_str(&ld->r, tls, key, NULL);

	return s != NULL && s[0] != '\0';
}

/* credentialName "configmap://NAMESPACE/NAME": only the rule's own namespace. */
static void
tls_configmap(struct ld *ld, const struct ynode *tls, const char *cred, const char *ns)
{
	static const char prefix[] = "configmap://";
	const char *res = cred + sizeof(prefix) - 1, *slash = strchr(res, '/');
	const struct ynode *n = ymap_get(tls, "credentialName");
	size_t mark = yr_key(&ld->r, "credentialName");

	if (slash == NULL)
		yr_err(&ld->r, n,
		       "invalid configmap:// credentialName: invalid resource name %s. Expected "
		       "namespace and name",
		       yr_quote(&ld->r, cred));
	else if (slash == res)
		yr_err(&ld->r, n,
		       "invalid configmap:// credentialName: invalid resource name %s. Expected "
		       "namespace",
		       yr_quote(&ld->r, cred));
	else if (slash[1] == '\0' || slash[1] == '/')
		yr_err(&ld->r, n,
		       "invalid configmap:// credentialName: invalid resource name %s. Expected "
		       "name",
		       yr_quote(&ld->r, cred));
	else if (strlen(ns) != (size_t)(slash - res) || strncmp(res, ns, strlen(ns)) != 0)
		yr_err(&ld->r, n,
		       "invalid configmap:// credentialName: namespace must match the "
		       "configuration namespace %s",
		       yr_quote(&ld->r, ns));
	yr_pop(&ld->r, mark);
}

void
dr_client_tls(struct ld *ld, const struct ynode *tls, const char *ns)
{
	static const char *const fields[] = {
		"mode",
		"clientCertificate",
		"privateKey",
		"caCertificates",
		"credentialName",
		"subjectAltNames",
		"sni",
		"insecureSkipVerify",
		"caCrl",
		NULL,
	};
	enum {
		DISABLE,
		SIMPLE,
		MUTUAL,
		ISTIO_MUTUAL
	};
	static const char *const modes[] = { "DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL", NULL };
	const struct ynode *sans;
	const char *cred;
	bool skip = false, cert, key, ca, crl, san, has_cred;
	size_t mark = yr_key(&ld->r, "tls"), i;
	int mode;

	ld_unknown_fields(ld, tls, fields);
	mode = ld_enum(ld, tls, "mode", modes, "TLS mode");
	cert = tls_set(ld, tls, "clientCertificate");
	key = tls_set(ld, tls, "privateKey");
	ca = tls_set(ld, tls, "caCertificates");
	crl = tls_set(ld, tls, "caCrl");
	(void)tls_set(ld, tls, "sni");
	cred = yr_get_str(&ld->r, tls, "credentialName", NULL);
	has_cred = cred != NULL && cred[0] != '\0';
	/* an empty list decodes to none: Istio's SubjectAltNames != nil is false */
	sans = yr_get(&ld->r, tls, "subjectAltNames", YNODE_SEQ);
	san = sans != NULL && sans->n > 0;
	for (i = 0; sans != NULL && i < sans->n; i++) {
		size_t m2 = yr_key(&ld->r, "subjectAltNames");

		yr_idx(&ld->r, i);
		yr_str(&ld->r, sans->items[i]);
		yr_pop(&ld->r, m2);
	}
	ld_bool(ld, tls, "insecureSkipVerify", &skip);
	if (has_cred && strncmp(cred, "configmap://", 12) == 0)
		tls_configmap(ld, tls, cred, ns);
	if (skip && mode == SIMPLE && (ca || has_cred || san))
		yr_err(&ld->r, tls,
		       "cannot specify CaCertificates or CredentialName or SubjectAltNames when "
		       "InsecureSkipVerify is set true");
	if (skip && mode == MUTUAL && (ca || san))
		yr_err(&ld->r, tls,
		       "cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify "
		       "is set true");
	if ((mode == SIMPLE || mode == MUTUAL) && has_cred) {
		/* the credentials come from the secret: nothing else may name any */
		if (cert || ca || key || crl)
			yr_err(&ld->r, tls,
			       "cannot specify client certificates or CA certificate or CA CRL If "
			       "credentialName is set");
	} else if (mode == MUTUAL) {
		if (!cert)
			yr_err(&ld->r, tls, "client certificate required for mutual tls");
		if (!key)
			yr_err(&ld->r, tls, "private key required for mutual tls");
	}
	yr_pop(&ld->r, mark);
}

/* ------------------------------------------------------------------ */
/* loadBalancer                                                         */

/* Envoy's isPrime() (Istio copies it): maglev needs a prime table size. */
static bool
is_prime(uint64_t x)
{
	uint64_t f;

	if (x != 0 && x < 4)
		return true;
	if ((x & 1) == 0)
		return false;
	for (f = 3; f * f <= x; f += 2)
		if (x % f == 0)
			return false;
	return true;
}

#define MAGLEV_TABLE_MAX 5000011 /* Istio: tableSize must be less than this */

static void
dr_maglev(struct ld *ld, const struct ynode *ml)
{
	static const char *const fields[] = { "tableSize", NULL };
	const struct ynode *at = ymap_opt(ml, "tableSize");
	size_t mark = yr_key(&ld->r, "maglev");
	int64_t size = 0;

	ld_unknown_fields(ld, ml, fields);
	if (at != NULL && !ld_int(ld, ml, "tableSize", 0, INT64_MAX, &size)) {
		yr_pop(&ld->r, mark);
		return;
	}
	if (at != NULL)
		yr_key(&ld->r, "tableSize");
	if (size == 0)
		yr_err(&ld->r, at != NULL ? at : ml, "tableSize must be set for maglev");
	if (size >= MAGLEV_TABLE_MAX)
		yr_err(&ld->r, at, "tableSize must be less than 5000011 for maglev");
	else if (!is_prime((uint64_t)size))
		yr_err(&ld->r, at != NULL ? at : ml, "tableSize must be a prime number for maglev");
	yr_pop(&ld->r, mark);
}

/* The CRD's oneOf: at most one of keys (NULL-terminated) set; the second one written is wrong. */
static void
dr_one_of(struct ld *ld, const struct ynode *map, const char *const *keys, const char *msg)
{
	size_t i, j, set = 0;

	for (i = 0; i < map->n; i++) {
		const struct ynode *k = map->items[2 * i];

		for (j = 0; keys[j] != NULL && strcmp(k->str, keys[j]) != 0; j++)
			;
		if (keys[j] == NULL || ynode_is_null(map->items[2 * i + 1]))
			continue;
		if (++set == 2) {
			size_t mark = yr_key(&ld->r, k->str);

			yr_err(&ld->r, k, "%s", msg);
			yr_pop(&ld->r, mark);
		}
	}
}

/* consistentHash: the client's address is the one key an L4 gateway has. */
static void
dr_consistent_hash(struct ld *ld, const struct ynode *ch, struct dr_settings *st)
{
	static const char *const fields[] = {
		"httpHeaderName", "httpCookie", "useSourceIp",     "httpQueryParameterName",
		"ringHash",       "maglev",     "minimumRingSize", NULL,
	};
	static const char *const hash_keys[] = {
		"httpHeaderName", "httpCookie", "useSourceIp", "httpQueryParameterName", NULL,
	};
	static const char *const algorithms[] = { "ringHash", "maglev", NULL };
	static const char *const l7_keys[] = {
		"httpHeaderName",
		"httpCookie",
		"httpQueryParameterName",
		NULL,
	};
	static const char *const cookie_fields[] = { "name", "path", "ttl", NULL };
	static const char *const ring_fields[] = { "minimumRingSize", NULL };
	const struct ynode *cookie, *ring, *ml;
	bool src = false, algorithm;
	int64_t v, ns;
	size_t i, mark;

	ld_unknown_fields(ld, ch, fields);
	dr_one_of(ld, ch, hash_keys,
		  "only one of httpHeaderName, httpCookie, useSourceIp or "
		  "httpQueryParameterName can be set");
	dr_one_of(ld, ch, algorithms, "only one of ringHash or maglev can be set");
	ld_bool(ld, ch, "useSourceIp", &src);
	(void)yr_get_str(&ld->r, ch, "httpHeaderName", NULL);
	(void)yr_get_str(&ld->r, ch, "httpQueryParameterName", NULL);
	cookie = yr_get(&ld->r, ch, "httpCookie", YNODE_MAP);
	if (cookie != NULL) {
		const char *name;

		mark = yr_key(&ld->r, "httpCookie");
		ld_unknown_fields(ld, cookie, cookie_fields);
		name = yr_get_str(&ld->r, cookie, "name", NULL);
		if (name == NULL || name[0] == '\0')
			yr_err(&ld->r, cookie, "name required for HttpCookie");
		(void)yr_get_str(&ld->r, cookie, "path", NULL);
		ld_duration(ld, cookie, "ttl", LD_DUR_DECODE, &ns);
		yr_pop(&ld->r, mark);
	}
	ring = yr_get(&ld->r, ch, "ringHash", YNODE_MAP);
	if (ring != NULL) {
		mark = yr_key(&ld->r, "ringHash");
		ld_unknown_fields(ld, ring, ring_fields);
		ld_int(ld, ring, "minimumRingSize", 0, INT64_MAX, &v);
		yr_pop(&ld->r, mark);
	}
	ml = yr_get(&ld->r, ch, "maglev", YNODE_MAP);
	if (ml != NULL)
		dr_maglev(ld, ml);
	algorithm = ymap_opt(ch, "ringHash") != NULL || ymap_opt(ch, "maglev") != NULL;
	if (ld_int(ld, ch, "minimumRingSize", 0, INT64_MAX, &v) && v != 0) {
		const struct ynode *n = ymap_get(ch, "minimumRingSize");

		mark = yr_key(&ld->r, "minimumRingSize");
		yr_warn(&ld->r, n,
			"consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's "
			"RingHash configuration instead");
		if (algorithm)
			yr_err(&ld->r, n,
			       "only one of MinimumRingSize or Maglev/Ringhash can be specified");
		yr_pop(&ld->r, mark);
	}
	for (i = 0; l7_keys[i] != NULL; i++) {
		if (ymap_key(ch, l7_keys[i]) == NULL)
			continue;
		ld_unhonoured(ld, ch, l7_keys[i],
			      "hashing on HTTP request attributes needs an "
			      "L7 proxy; the client's source address is hashed instead");
		src = true;
	}
	if (!src) {
		yr_warn(&ld->r, ch,
			"no hash key an L4 gateway can use (set useSourceIp: true); "
			"the client's source address is hashed");
	}
	st->lb = POLICY_LB_CONSISTENT_SOURCE_IP;
	st->has_lb = true;
}

static void
dr_warmup(struct ld *ld, const struct ynode *warm)
{
	static const char *const fields[] = { "duration", "minimumPercent", "aggression", NULL };
	size_t mark = yr_key(&ld->r, "warmup");
	int64_t ns;
	double v;

	ld_unknown_fields(ld, warm, fields);
	if (ymap_opt(warm, "duration") == NULL)
		yr_err(&ld->r, warm, "duration is required");
	else
		ld_duration(ld, warm, "duration", LD_DUR_ISTIO, &ns);
	if (ld_number(ld, warm, "minimumPercent", &v) && (v < 0 || v > 100)) {
		size_t m2 = yr_key(&ld->r, "minimumPercent");

		/* below 0: the CRD's minimum; above 100: Istio's words */
		yr_err(&ld->r, ymap_get(warm, "minimumPercent"), "%s",
		       v < 0 ? "minimumPercent value should be greater than or equal to 0" :
			       "minimumPercent value should be less than or equal to 100");
		yr_pop(&ld->r, m2);
	}
	if (ld_number(ld, warm, "aggression", &v) && v < 1) {
		size_t m2 = yr_key(&ld->r, "aggression");

		yr_err(&ld->r, ymap_get(warm, "aggression"),
		       "aggression should be greater than or equal to 1");
		yr_pop(&ld->r, m2);
	}
	yr_pop(&ld->r, mark);
}

void
dr_load_balancer(struct ld *ld, const struct ynode *lbn, struct dr_settings *st, bool outlier)
{
	static const char *const fields[] = {
		"simple", "consistentHash", "localityLbSetting", "warmupDurationSecs", "warmup",
		NULL,
	};
	static const struct {
		const char *name;
		enum policy_lb lb;
	} simple[] = {
		{ "UNSPECIFIED", POLICY_LB_RANDOM },       { "RANDOM", POLICY_LB_RANDOM },
		{ "ROUND_ROBIN", POLICY_LB_ROUND_ROBIN },  { "LEAST_CONN", POLICY_LB_LEAST_CONN },
		{ "LEAST_REQUEST", POLICY_LB_LEAST_CONN }, { "PASSTHROUGH", POLICY_LB_RANDOM },
	};
	const struct ynode *sn, *ch, *loc, *warm;
	const char *s;
	size_t i, mark = yr_key(&ld->r, "loadBalancer");
	int64_t ns;

	ld_unknown_fields(ld, lbn, fields);
	s = yr_get_str(&ld->r, lbn, "simple", &sn);
	ch = yr_get(&ld->r, lbn, "consistentHash", YNODE_MAP);
	if (s != NULL && ch != NULL) {
		size_t m2 = yr_key(&ld->r, "consistentHash");

		yr_err(&ld->r, ymap_key(lbn, "consistentHash"),
		       "only one of simple or consistentHash can be set");
		yr_pop(&ld->r, m2);
	} else if (s != NULL) {
		size_t m2 = yr_key(&ld->r, "simple");

		for (i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
			if (strcmp(s, simple[i].name) == 0)
				break;
		if (i == sizeof(simple) / sizeof(simple[0])) {
			yr_err(&ld->r, sn,
			       "invalid load balancer %s (want RANDOM, ROUND_ROBIN, "
			       "LEAST_CONN, LEAST_REQUEST or PASSTHROUGH)",
			       yr_quote(&ld->r, s));
		} else {
			if (strcmp(s, "PASSTHROUGH") == 0)
				yr_warn(&ld->r, sn,
					"PASSTHROUGH (to the address the client asked "
					"for) is what entries without endpoints do; with "
					"endpoints, RANDOM is used");
			st->lb = simple[i].lb;
			st->has_lb = true;
		}
		yr_pop(&ld->r, m2);
	} else if (ch != NULL) {
		size_t m2 = yr_key(&ld->r, "consistentHash");

		dr_consistent_hash(ld, ch, st);
		yr_pop(&ld->r, m2);
	}
	loc = yr_get(&ld->r, lbn, "localityLbSetting", YNODE_MAP);
	if (loc != NULL) {
		size_t m2 = yr_key(&ld->r, "localityLbSetting");

		dr_locality_lb(ld, loc, outlier);
		yr_pop(&ld->r, m2);
	}
	ld_duration(ld, lbn, "warmupDurationSecs", LD_DUR_CEL, &ns);
	warm = yr_get(&ld->r, lbn, "warmup", YNODE_MAP);
	if (warm != NULL)
		dr_warmup(ld, warm);
	ld_unhonoured(ld, lbn, "localityLbSetting",
		      "locality-aware load balancing is not "
		      "done by an L4 gateway; ignored");
	ld_unhonoured(ld, lbn, "warmupDurationSecs",
		      "slow start is not done by egressd; "
		      "ignored");
	ld_unhonoured(ld, lbn, "warmup", "slow start is not done by egressd; ignored");
	yr_pop(&ld->r, mark);
}
