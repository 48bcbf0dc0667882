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

/** Where a model element was written. file points into the model's storage. */
struct ypos {
	const char *file;
	unsigned int doc;         /**< 0-based document index */
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
	uint32_t ip;              /**< IPv4, host order, host bits zero */
	uint8_t ip6[16];          /**< IPv6, network order */
	uint8_t prefix_len;       /**< 32 (128) for a plain address */
	bool cidr;                /**< written with a /len */
	struct ypos pos;
};

struct se_port {
	uint32_t number;
	char *name;
	char *protocol;           /**< upper-cased as written, e.g. "TCP", "REDIS" */
	uint8_t l4proto;          /**< IPPROTO_TCP or IPPROTO_UDP */
	uint32_t target_port;     /**< 0: none */
	struct ypos pos;
};

struct se_endpoint_port {
	char *name;               /**< a spec.ports[].name */
	uint32_t number;
};

struct se_endpoint {
	char *address;            /**< as written: IP literal or hostname */
	bool is_ip;               /**< IPv4 literal */
	bool is_ip6;              /**< IPv6 literal */
	uint32_t ip;              /**< IPv4, host order, when is_ip */
	struct se_endpoint_port *ports;
	unsigned int n_ports;
	uint32_t weight;          /**< 0 when not given (Istio: treated as 1) */
	struct ypos pos;
};

struct service_entry {
	char *name;
	char *ns;                 /**< metadata.namespace, "" when absent */
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
	struct ypos pos;          /**< the document's metadata.name */
};

struct gw_server {
	uint32_t port;
	char *port_name;
	char *protocol;
	char **hosts;
	unsigned int n_hosts;
	char *tls_mode;           /**< NULL when no tls block */
	struct ypos pos;
};

struct gateway {
	char *name;
	char *ns;
	struct egress_label *selector; /**< spec.selector */
	unsigned int n_selector;
	struct gw_server *servers;
	unsigned int n_servers;
	bool selects_us;          /**< selector matches the appliance labels */
	struct ypos pos;
};

struct destination_rule {
	char *name;
	char *ns;
	char *host;
	char **subsets;
	unsigned int n_subsets;
	uint32_t max_connections; /**< trafficPolicy.connectionPool.tcp; 0: none */
	uint64_t connect_timeout_ms; /**< 0: none */
	struct ypos pos;
};

struct policy_model {
	struct service_entry *ses;
	unsigned int n_ses;
	struct gateway *gateways;
	unsigned int n_gateways;
	struct destination_rule *drs;
	unsigned int n_drs;
	char **files;             /**< every file loaded, owned; ypos.file points here */
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
int istio_load_file(const struct egress_config *cfg, struct policy_model *m,
		    const char *path, struct diag_list *dl);

/** Load from a buffer (tests, fuzzing); name is used in diagnostics. */
int istio_load_buffer(const struct egress_config *cfg, struct policy_model *m,
		      const char *name, const char *buf, size_t len, struct diag_list *dl);

/** Free everything the model owns; NULL-tolerant; m is zeroed. */
void policy_model_free(struct policy_model *m);

#endif
