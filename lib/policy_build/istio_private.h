/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the files of the Istio loader share: the state of one file being
 * loaded (struct ld, which reads the YAML tree through a yreader: paths,
 * diagnostics, typed values), names, hosts and addresses (istio_names.c),
 * durations, integers, numbers and enums as Istio reads them
 * (istio_values.c), the pieces every resource kind has (istio_common.c),
 * the model's storage (istio_model.c), and one load_<kind>() per resource
 * kind (istio_<kind>.c), which istio.c calls for every document.
 *
 * Control thread only: everything here allocates freely and never logs.
 */
#ifndef EGRESS_ISTIO_PRIVATE_H
#define EGRESS_ISTIO_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "policy_private.h"
#include "ydoc.h"
#include "yreader.h"

#define QUOTE_MAX 80              /* bytes of a value shown in a message */
#define MSG_MAX   YREADER_MSG_MAX /* bytes of a message */

/* Every address the appliance owns: no rule may send traffic to one of them. */
#define MAX_OWN_ADDRS (EGRESS_PORT_MAX + EGRESS_MAX_NAT_ADDRS)

struct own_addr {
	uint32_t ip;   /* host order */
	char what[32]; /* the config key that gives it */
};

/* State of one file being loaded. */
struct ld {
	struct yreader r;                /* r.file: the model-owned copy, for ypos too */
	const struct egress_config *cfg; /* may be NULL (fuzzing) */
	struct policy_model *m;
	unsigned int doc;
	bool oom; /* an allocation failed: the model is partial */
	struct own_addr own[MAX_OWN_ADDRS];
	unsigned int n_own;
};

/* The L4 meaning of Istio's protocol names (case-insensitive, as in Istio). */
struct proto_info {
	const char *name;
	uint8_t l4proto;
	bool http; /* Istio's IsHTTP(): hosts told apart by Host */
	bool tls;  /* Istio's IsTLS(): hosts told apart by SNI */
};

/* Every protocol name; istio_protocols[0] is TCP (what Istio sniffs to at L4). */
extern const struct proto_info istio_protocols[];

#define PROTOCOL_LIST "HTTP, HTTPS, HTTP2, GRPC, GRPC-WEB, TLS, MONGO, REDIS, MYSQL, TCP, UDP"

/* A resource's metadata, as load_<kind>() receives it. */
struct meta {
	const char *name;
	const char *ns;
	const struct ynode *name_node; /* the position of the resource */
	/* metadata.annotations, NULL when none */
	const struct ynode *annotations;
};

/* Where ld_string_map() puts pairs: an array sized for the map, and its count. */
struct label_sink {
	struct egress_label *v;
	unsigned int *n;
};

/* istio_names.c: Kubernetes and Istio names, hosts, addresses */
bool istio_dns1123_label(const char *s, size_t len);
bool istio_dns1123_subdomain(const char *s);
int istio_parse_prefix(const char *s, struct se_address *a, bool *host_bits);
void istio_format_prefix(const struct se_address *a, char *buf, size_t sz);
void istio_format_ip4(uint32_t ip, char *buf, size_t sz);
void ld_own_init(struct ld *ld);
const struct own_addr *ld_own_in_prefix(const struct ld *ld, uint32_t ip, uint8_t len);
/* Istio's exact rules (upper case allowed, "*x" first labels), Istio's messages */
bool istio_label(const char *s, size_t len);
/* agent.CheckDNS1123Preconditions(): 1-255 bytes; err gets Istio's message */
bool ld_istio_domain_size(struct ld *ld, const char *domain, char *err, size_t sz);
bool ld_istio_wildcard_domain(struct ld *ld, const char *domain, char *err, size_t sz);
bool ld_istio_fqdn(struct ld *ld, const char *name, char *err, size_t sz);
bool istio_partial_wildcard(const char *host);
/*
 * labels.Instance.Validate() of one pair (path pushed: the pair): the key
 * kn a Kubernetes label name (an optional DNS prefix of at most 253 bytes
 * and "/", then a name of at most 63), the value (NULL: not checked) empty
 * or a qualified name. Errors in Istio's words, at kn and at vn.
 * @return true when both are valid.
 */
bool ld_istio_label_pair(struct ld *ld, const struct ynode *kn, const struct ynode *vn,
			 const char *value);
bool istio_ip_address(const char *s);
const char *istio_unix_path(const char *s);
bool istio_unix_address(const char *path, char *err, size_t sz);
void ld_istio_ns_host(struct ld *ld, const struct ynode *n, const char *host, bool gateway,
		      bool gw_semantics);

/* istio_model.c: the model's arrays */
char *ld_strdup(struct ld *ld, const char *s);
void *ld_calloc(struct ld *ld, size_t n, size_t size);
void *model_grow(void *v, unsigned int n, size_t size);
const char *model_add_file(struct policy_model *m, const char *path);
void model_add_se(struct ld *ld, struct service_entry *se);
void model_add_gw(struct ld *ld, struct gateway *gw);
void model_add_dr(struct ld *ld, struct destination_rule *dr);
void model_add_vs(struct ld *ld, struct virtual_service *vs);
void model_add_sidecar(struct ld *ld, struct sidecar *sc);
struct ypos ld_pos(const struct ld *ld, const struct ynode *n);

/* istio_common.c: what every kind shares */
void ld_unknown_fields(struct ld *ld, const struct ynode *map, const char *const *known);
void ld_unhonoured(struct ld *ld, const struct ynode *map, const char *key, const char *why);
int ld_metadata(struct ld *ld, const struct ynode *res, struct meta *md);
void ld_string_map(struct ld *ld, const struct ynode *map,
		   void (*f)(struct ld *, const char *, const char *, void *), void *arg);
void ld_label_add(struct ld *ld, const char *k, const char *v, void *arg);
const char *ld_export_to(struct ld *ld, const struct ynode *spec, const struct meta *md,
			 enum egress_export_kind kind);
bool istio_exported_to(const char *const *e, size_t n, const char *res_ns, const char *to);
size_t ld_selector_check(struct ld *ld, const struct ynode *ws, const char *field, bool *ours);
const struct proto_info *istio_proto_find(const char *name);
char *ld_strdup_upper(struct ld *ld, const char *s);
long ld_port_number(struct ld *ld, const struct ynode *map, const char *key, const char *what);
bool istio_labels_select(const struct egress_config *cfg, const struct egress_label *sel,
			 unsigned int n_sel);
/*
 * Istio's validateConnectionPool() of a ConnectionPoolSettings (path pushed:
 * the pool), with the CRD's types and bounds. st: a DestinationRule's
 * settings, which get maxConnections and connectTimeout, and a warning for
 * each field the gateway ignores. NULL: a Sidecar's pool, validated only.
 */
void ld_connection_pool(struct ld *ld, const struct ynode *pool, struct dr_settings *st);

/*
 * istio_values.c: typed values as the API server and Istio's webhook read
 * them; a message goes at the value, under the path the caller pushed.
 *
 * How a duration field is checked (after Go's time.ParseDuration, which
 * the webhook and the CRD's CEL duration() both use to read it).
 */
enum ld_dur_check {
	LD_DUR_DECODE, /* read only (no rule: httpCookie.ttl) */
	LD_DUR_CEL,    /* the CRD's duration(self) >= duration('1ms') alone */
	LD_DUR_ISTIO,  /* that, and Istio's ValidateDuration(): whole ms */
	LD_DUR_IDLE,   /* tcp idleTimeout: under 1 ms disables it, else ValidateDuration() */
};

/*
 * Go's time.ParseDuration(): "300ms", "1h30m", "1.5s", "-2s", "0".
 * @return 0 and *ns; -EINVAL malformed; -ERANGE beyond a Go time.Duration
 * (2^63 - 1 ns, 292 years).
 */
int istio_parse_go_duration(const char *s, int64_t *ns);

/* The duration at key of map, checked as c says. @return true and *ns when it is valid. */
bool ld_duration(struct ld *ld, const struct ynode *map, const char *key, enum ld_dur_check c,
		 int64_t *ns);

/* An integer at key of map in [lo, hi]: "N out of range (LO-HI)". @return true and *v when valid. */
bool ld_int(struct ld *ld, const struct ynode *map, const char *key, int64_t lo, int64_t hi,
	    int64_t *v);

/*
 * An int32 at key that Istio wants non-negative ("WHAT must be non-negative";
 * "WHAT N out of range (0-2147483647)" past int32). @return true and *v when valid.
 */
bool ld_nonneg_int32(struct ld *ld, const struct ynode *map, const char *key, const char *what,
		     int64_t *v);

/* A JSON number (an integer or a float, plain). @return true and *v when present and one. */
bool ld_number(struct ld *ld, const struct ynode *map, const char *key, double *v);

/* A boolean at key. @return true and *v when present and one. */
bool ld_bool(struct ld *ld, const struct ynode *map, const char *key, bool *v);

/*
 * A string at key that must be one of names (NULL-terminated, the CRD's
 * enum): "invalid WHAT "X" (want A, B or C)". @return its index, -1 when
 * absent or invalid.
 */
int ld_enum(struct ld *ld, const struct ynode *map, const char *key, const char *const *names,
	    const char *what);

/* istio_gateway.c: a ServerTLSSettings, which Sidecar ingress listeners use too */
struct server_tls {
	const char *mode; /* as written; "PASSTHROUGH" when absent (the protobuf default) */
	bool known_mode;  /* one of Istio's six */
	bool https_redirect;
	bool has_san, has_credential_name, has_credential_names, has_tls_certificates;
	bool has_certs; /* serverCertificate, privateKey or caCertificates */
};
void ld_server_tls(struct ld *ld, const struct ynode *tls, struct server_tls *out);

/* One resource of each kind (spec is a mapping; the path is empty). */
void load_service_entry(struct ld *ld, const struct meta *md, const struct ynode *spec);
void load_gateway(struct ld *ld, const struct meta *md, const struct ynode *spec);
void load_destination_rule(struct ld *ld, const struct meta *md, const struct ynode *spec);
void load_virtual_service(struct ld *ld, const struct meta *md, const struct ynode *spec);
void load_sidecar(struct ld *ld, const struct meta *md, const struct ynode *spec);

#endif
