/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The policy model: what the Istio YAML says, after loading and validation,
 * before compilation. Control thread only. Every element remembers where it
 * was written so that later stages (compile) can report positions too.
 */
#ifndef EGRESS_POLICY_PRIVATE_H
#define EGRESS_POLICY_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "diag.h"
#include "policy_build.h"

/** The netmask of an IPv4 prefix length, host order. */
static inline uint32_t
mask4(uint8_t len)
{
	return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

/**
 * The namespace a resource lives in: its metadata.namespace, else "default",
 * where kubectl puts an object when neither the file nor the context names
 * one (and the namespace a short host is expanded with).
 */
#define ISTIO_DEFAULT_NAMESPACE "default"

static inline const char *
istio_ns(const char *ns)
{
	return ns != NULL && ns[0] != '\0' ? ns : ISTIO_DEFAULT_NAMESPACE;
}

/** Where a model element was written. file points into the model's storage. */
struct ypos {
	const char *file;
	unsigned int doc; /**< 0-based document index */
	unsigned int line;
	unsigned int col;
};

enum se_resolution {
	SE_RES_NONE = 0,
	SE_RES_STATIC,
	SE_RES_DNS,
	SE_RES_DNS_ROUND_ROBIN,
};

enum se_location {
	SE_LOC_MESH_EXTERNAL = 0,
	SE_LOC_MESH_INTERNAL,
};

struct se_address {
	bool v6;
	uint32_t ip;        /**< IPv4, host order, host bits zero */
	uint8_t ip6[16];    /**< IPv6, network order */
	uint8_t prefix_len; /**< 32 (128) for a plain address */
	bool cidr;          /**< written with a /len */
	bool ignored;       /**< valid for Istio, but compiled to nothing (warned) */
	struct ypos pos;
};

struct se_port {
	uint32_t number;
	char *name;
	char *protocol;       /**< upper-cased as written, e.g. "TCP", "REDIS" */
	uint8_t l4proto;      /**< IPPROTO_TCP or IPPROTO_UDP */
	uint32_t target_port; /**< 0: none */
	struct ypos pos;
};

struct se_endpoint_port {
	char *name; /**< a spec.ports[].name */
	uint32_t number;
};

struct se_endpoint {
	char *address; /**< as written: IP literal or hostname */
	bool is_ip;    /**< IPv4 literal */
	bool is_ip6;   /**< IPv6 literal */
	uint32_t ip;   /**< IPv4, host order, when is_ip */
	struct se_endpoint_port *ports;
	unsigned int n_ports;
	uint32_t weight;             /**< 0 when not given (Istio: treated as 1) */
	struct egress_label *labels; /**< matched by DestinationRule subsets */
	unsigned int n_labels;
	bool ignored; /**< valid for Istio, but never a NAT target (warned) */
	struct ypos pos;
};

struct service_entry {
	char *name;
	char *ns; /**< metadata.namespace, "" when absent */
	char **hosts;
	unsigned int n_hosts;
	struct se_address *addresses;
	unsigned int n_addresses;
	struct se_port *ports;
	unsigned int n_ports;
	struct se_endpoint *endpoints;
	unsigned int n_endpoints;
	enum se_resolution resolution;
	enum se_location location;
	const char *hidden; /**< why the gateway does not see it (exportTo, a
			       workloadSelector; a static phrase), NULL: it does */
	struct ypos pos;    /**< the document's metadata.name */
};

struct gw_server {
	uint32_t port;
	char *port_name;
	char *protocol;
	char **hosts;
	unsigned int n_hosts;
	char *tls_mode; /**< NULL when no tls block */
	struct ypos pos;
};

struct gateway {
	char *name;
	char *ns;
	struct egress_label *selector; /**< spec.selector */
	unsigned int n_selector;
	struct gw_server *servers;
	unsigned int n_servers;
	bool selects_us; /**< selector matches the appliance labels */
	struct ypos pos;
};

/*
 * What an L4 gateway takes from a trafficPolicy (the DestinationRule's own, a
 * portLevelSettings item or a subset's): each field remembers whether it was
 * written, so that a more specific level overrides only what it sets.
 */
struct dr_settings {
	uint32_t max_connections;    /**< connectionPool.tcp.maxConnections; 0: none */
	uint64_t connect_timeout_ms; /**< connectionPool.tcp.connectTimeout; 0: none */
	enum policy_lb lb;           /**< loadBalancer */
	bool has_max_connections;
	bool has_connect_timeout;
	bool has_lb;
};

struct dr_port_settings {
	uint32_t port; /**< portLevelSettings[].port.number */
	struct dr_settings s;
	struct ypos pos;
};

struct dr_subset {
	char *name;
	struct egress_label *labels; /**< endpoints whose labels include all of these */
	unsigned int n_labels;
	struct dr_settings s;           /**< the subset's trafficPolicy */
	struct dr_port_settings *ports; /**< its portLevelSettings */
	unsigned int n_ports;
	struct ypos pos;
};

struct destination_rule {
	char *name;
	char *ns;
	char *host;
	struct dr_subset *subsets;
	unsigned int n_subsets;
	uint32_t max_connections;       /**< trafficPolicy.connectionPool.tcp; 0: none */
	uint64_t connect_timeout_ms;    /**< 0: none */
	struct dr_settings s;           /**< trafficPolicy (max_connections etc. again) */
	struct dr_port_settings *ports; /**< trafficPolicy.portLevelSettings */
	unsigned int n_ports;
	const char *hidden; /**< why it does not apply to the gateway, NULL: it does */
	/* where Istio's DestinationRule lookup finds it (compile.c dr_lookup()) */
	bool priv;     /**< its own namespace's pool only: exportTo "." (or it) alone */
	bool exported; /**< the exported pool, and exported to the gateway's namespace */
	struct ypos pos;
};

/** A VirtualService route destination (tcp[].route[] / tls[].route[]). */
struct vs_destination {
	char *host;
	char *subset;    /**< NULL when not given */
	uint32_t port;   /**< destination.port.number; 0: the matched port */
	uint32_t weight; /**< as written; 0 when absent */
	bool has_weight;
	struct ypos pos;
};

/** One match of a route: L4 attributes only (an L4 gateway reads no SNI). */
struct vs_match {
	struct se_address *subnets; /**< destinationSubnets; none: any destination */
	unsigned int n_subnets;
	uint32_t port;   /**< 0: any */
	char **gateways; /**< match.gateways; none: the VirtualService's */
	unsigned int n_gateways;
	struct ypos pos;
};

struct vs_route {
	bool tls;                 /**< spec.tls[] (TLS/HTTPS ports), else spec.tcp[] */
	unsigned int index;       /**< position in spec.tcp or spec.tls */
	struct vs_match *matches; /**< none: every flow of the hosts' ports */
	unsigned int n_matches;
	struct vs_destination *dests;
	unsigned int n_dests;
	struct ypos pos;
};

struct virtual_service {
	char *name;
	char *ns;
	char **hosts;
	unsigned int n_hosts;
	char **gateways; /**< spec.gateways; none means "mesh" (sidecars) */
	unsigned int n_gateways;
	struct vs_route *routes; /**< tls routes, then tcp routes, each in order */
	unsigned int n_routes;
	const char *hidden; /**< why the gateway does not see it, NULL: it does */
	struct ypos pos;
	struct ypos gateways_pos;
};

struct sidecar {
	char *name;
	char *ns;
	struct egress_label *selector; /**< workloadSelector.labels */
	unsigned int n_selector;
	bool has_selector;
	bool selects_us;   /**< no selector, or it matches the appliance labels (the
			      namespace is compile.c's sidecar_rank()) */
	bool has_outbound; /**< outboundTrafficPolicy given */
	enum egress_outbound outbound;
	struct ypos pos;
	struct ypos outbound_pos;
};

struct policy_model {
	struct service_entry *ses;
	unsigned int n_ses;
	struct gateway *gateways;
	unsigned int n_gateways;
	struct destination_rule *drs;
	unsigned int n_drs;
	struct virtual_service *vss;
	unsigned int n_vss;
	struct sidecar *sidecars;
	unsigned int n_sidecars;
	char **files; /**< every file loaded, owned; ypos.file points here */
	unsigned int n_files;
};

/**
 * Load every file of cfg->sources (a folder: its *.yaml / *.yml files, not
 * dotfiles, sorted by name, symlinks followed) into m, validating each
 * resource with Istio's rules. Diagnostics go to dl.
 * @return 0, or -EINVAL when dl got any error (m is then still freeable).
 */
int istio_load_sources(const struct egress_config *cfg, struct policy_model *m,
		       struct diag_list *dl);

/** Load one file (any number of documents, kind: List) into m. Same contract. */
int istio_load_file(const struct egress_config *cfg, struct policy_model *m, const char *path,
		    struct diag_list *dl);

/** Load from a buffer (tests, fuzzing); name is used in diagnostics. */
int istio_load_buffer(const struct egress_config *cfg, struct policy_model *m, const char *name,
		      const char *buf, size_t len, struct diag_list *dl);

/** Free everything the model owns; NULL-tolerant; m is zeroed. */
void policy_model_free(struct policy_model *m);

/**
 * Compile a loaded model into p (rules, targets, classifier), with DNS
 * answers from dns (may be NULL). For policy_build_ex() and the benchmark.
 * @return 0, -EINVAL when dl got errors, -ENOMEM, or the rte_acl error.
 */
int policy_compile(struct policy *p, const struct policy_model *m, const struct egress_config *cfg,
		   struct dns_cache *dns, enum policy_classifier classifier, struct diag_list *dl);

/**
 * Istio host matching: does pattern ("*", "*.suffix" or a name) cover host
 * (a name or "*.suffix" itself)? A Gateway's "namespace/" prefix is skipped.
 */
bool istio_host_covers(const char *pattern, const char *host);

/** Istio's IsHTTP() / IsTLS() of a port protocol name (case-insensitive). */
bool istio_proto_is_http(const char *name);
bool istio_proto_is_tls(const char *name);

#endif
