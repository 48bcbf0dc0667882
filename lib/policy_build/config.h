/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The appliance config (doc/configuration.md): ports, NAT pool, policy
 * sources, flow limits and timeouts, workers. Loaded once at start-up; a
 * change needs a restart (the Istio YAML it points at is what reloads).
 *
 * Thread-safety: control thread only. The loaded struct is read-only after.
 */
#ifndef EGRESS_CONFIG_H
#define EGRESS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "egress_types.h"

#define EGRESS_MAX_LABELS    16
#define EGRESS_MAX_NEIGHBORS 64
#define EGRESS_MAX_EXPORT_TO 16
#define EGRESS_MAX_EXCEPTION 16 /**< protocols per port's exception path */
#define EGRESS_IFNAME_MAX    16 /**< a Linux interface name and its NUL (IFNAMSIZ) */

/** Istio's defaults: the mesh root namespace, the gateway's own namespace. */
#define EGRESS_DEFAULT_NAMESPACE "istio-system"

/** A static neighbour (ports.X.neighbors): never resolved, never aged. */
struct egress_neighbor {
	uint32_t ip; /**< network order */
	uint8_t mac[6];
};

/** One protocol/port of an exception path (ports.X.exception.protocols). */
struct egress_exception_proto {
	uint8_t proto; /**< IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port; /**< host order, 1-65535 */
};

/**
 * ports.X.exception: frames to the port's own address that the data path
 * does not answer itself, for the listed protocols, go to a kernel TAP
 * interface and the kernel's answers back out of the port
 * (doc/operations.md "Control-plane exception path").
 */
struct egress_exception_cfg {
	char tap[EGRESS_IFNAME_MAX]; /**< the TAP's kernel name; "": no exception path */
	struct egress_exception_proto proto[EGRESS_MAX_EXCEPTION];
	unsigned int n_protos;
};

struct egress_port_cfg {
	char *device;       /**< PCI address or vdev arguments */
	uint32_t addr;      /**< own address, network order */
	uint8_t prefix_len; /**< of the connected prefix */
	uint32_t gateway;   /**< next hop for off-link destinations; 0: none */
	uint16_t mtu;       /**< L3 MTU; default 1500 */
	uint16_t vlan;      /**< 802.1Q VLAN ID (1-4094) of the port's frames; 0: untagged */
	uint16_t rx_desc;   /**< RX descriptors per queue (a power of two); 0: egressd's default */
	uint16_t tx_desc;   /**< TX descriptors per queue, likewise */
	bool no_cksum_offload; /**< checksum_offload: false: checksums in software only */
	struct egress_neighbor neighbors[EGRESS_MAX_NEIGHBORS]; /**< static ARP entries */
	unsigned int n_neighbors;
	struct egress_exception_cfg exception; /**< control-plane exception path */
	unsigned int line;                     /**< position of the port's mapping, for messages */
};

struct egress_label {
	char *key;
	char *value;
};

/** The resource kinds that have exportTo, each with its own mesh default. */
enum egress_export_kind {
	EGRESS_EXPORT_SE = 0, /**< ServiceEntry: meshConfig.defaultServiceExportTo */
	EGRESS_EXPORT_VS,     /**< VirtualService: defaultVirtualServiceExportTo */
	EGRESS_EXPORT_DR,     /**< DestinationRule: defaultDestinationRuleExportTo */
	EGRESS_EXPORT_KINDS,
};

/** An exportTo list: ".", "*", "~" or namespaces. n == 0: Istio's default, "*". */
struct egress_export_to {
	char *v[EGRESS_MAX_EXPORT_TO];
	unsigned int n;
};

/** A TCP address to listen on (metrics.listen); family 0: not configured. */
struct egress_listen {
	int family;       /**< AF_INET, AF_INET6, or 0 (off) */
	uint8_t addr[16]; /**< network order; an IPv4 address in the first 4 bytes */
	uint16_t port;    /**< host order, 1-65535 */
};
/** sync: session sync with a peer appliance (doc/session-sync.md). */
struct egress_sync_cfg {
	bool on;              /**< the section is there */
	uint32_t listen_addr; /**< sync.listen: our UDP address, network order */
	uint16_t listen_port; /**< host order */
	uint32_t peer_addr;   /**< sync.peer: the peer's UDP address, network order */
	uint16_t peer_port;   /**< host order */
	uint32_t peer_nat_addrs[EGRESS_MAX_NAT_ADDRS]; /**< sync.peer_addresses, network order */
	unsigned int n_peer_nat_addrs;
	uint64_t
		dead_after_ms; /**< sync.dead_after: no heartbeat for this long: dead; default 1 s */
	bool takeover_auto;    /**< sync.takeover: auto (default) or manual */
	uint32_t max_flows;    /**< sync.max_flows: the peer's flows held; default flows.max */
	uint32_t ring;         /**< sync.ring: records per worker's ring, default 65536 */
};

/** api.socket's default, and its longest length + 1 (sun_path) */
#define EGRESS_API_SOCKET_DEFAULT "/run/egressd/egressd.sock"
#define EGRESS_API_SOCKET_MAX     108

struct egress_config {
	char *path; /**< the config file */
	char *dir;  /**< its folder: sources are relative to it */
	struct egress_port_cfg port[EGRESS_PORT_MAX];

	uint32_t nat_addrs[EGRESS_MAX_NAT_ADDRS]; /**< network order */
	unsigned int n_nat_addrs;                 /**< default: the outside address */
	uint16_t nat_port_lo;                     /**< default 1024 */
	uint16_t nat_port_hi;                     /**< default 65535 */
	enum egress_port_alloc port_alloc;
	uint16_t mss_clamp; /**< 0: off */

	enum egress_outbound outbound;
	enum egress_deny deny;
	enum egress_revoke on_revoke;
	char **sources; /**< absolute paths of files or folders */
	unsigned int n_sources;
	struct egress_label labels[EGRESS_MAX_LABELS]; /**< this appliance's labels,
							 matched by Gateway selectors */
	unsigned int n_labels;                         /**< default: istio=egressgateway */
	/** policy.namespace: the appliance's own (exportTo, Sidecar scope); NULL: istio-system */
	char *ns;
	/** policy.root_namespace: Istio's rootNamespace (mesh-wide Sidecar); NULL: istio-system */
	char *root_namespace;
	/** policy.default_export_to: Istio's meshConfig default*ExportTo, per kind */
	struct egress_export_to default_export_to[EGRESS_EXPORT_KINDS];

	uint32_t flows_max;                 /**< default 1048576 */
	uint64_t timeout_established_ms;    /**< default 7440 s (RFC 5382 REQ-5) */
	uint64_t timeout_transitory_ms;     /**< default 240 s */
	uint64_t timeout_time_wait_ms;      /**< default 120 s */
	uint32_t embryonic_max;             /**< default flows_max / 4 */
	uint32_t per_source_max;            /**< 0: no cap */
	uint32_t per_source_new_per_second; /**< 0: no cap */
	bool tcp_liberal;                   /**< flows.tcp_liberal: skip window checks */
	enum egress_no_flow no_flow;        /**< flows.no_flow: drop (default) or reset */

	unsigned int workers; /**< default 1 */
	/** poll.idle: busy (default), backoff or interrupt (doc/operations.md, Idle workers) */
	enum egress_poll_idle poll_idle;
	uint32_t
		poll_max_sleep_us; /**< poll.max_sleep_us: longest idle sleep or wait, default 1000 */

	struct egress_listen metrics; /**< metrics.listen: GET /metrics; default off */
	/** api.socket: egressctl's UNIX socket (doc/api.md) */
	char api_socket[EGRESS_API_SOCKET_MAX];
	/** flowlog.path: the flow log (JSON lines); NULL: no flow log */
	char *flowlog_path;
	uint32_t flowlog_denied_per_second; /**< default 100; 0: no deny records */
	uint32_t flowlog_ring;              /**< records per worker's ring, default 65536 */
	struct egress_sync_cfg sync;        /**< sync: session sync; default off */
};

/** The appliance's namespace (policy.namespace); cfg may be NULL. */
static inline const char *
egress_namespace(const struct egress_config *cfg)
{
	return cfg != NULL && cfg->ns != NULL ? cfg->ns : EGRESS_DEFAULT_NAMESPACE;
}

/** The mesh root namespace (policy.root_namespace); cfg may be NULL. */
static inline const char *
egress_root_namespace(const struct egress_config *cfg)
{
	return cfg != NULL && cfg->root_namespace != NULL ? cfg->root_namespace :
							    EGRESS_DEFAULT_NAMESPACE;
}

/**
 * Load the appliance config. Every problem is added to dl; on any error the
 * struct is freed and -EINVAL returned (-errno when the file cannot be read).
 */
int egress_config_load(const char *path, struct egress_config *cfg, struct diag_list *dl);

/** Free what egress_config_load() allocated; NULL-tolerant. */
void egress_config_free(struct egress_config *cfg);

/**
 * Parse a duration "120", "120s", "4m", "2h", "1500ms" into milliseconds.
 * @return 0, or -EINVAL.
 */
int egress_parse_duration(const char *s, uint64_t *ms);

/**
 * Parse a listening address: "A.B.C.D:PORT" or "[IPv6]:PORT", literal
 * addresses only, PORT 1-65535. @return 0 or -EINVAL.
 */
int egress_parse_listen(const char *s, struct egress_listen *l);

/** Parse "a.b.c.d/len" (or a bare address: len 32). @return 0 or -EINVAL. */
int egress_parse_cidr(const char *s, uint32_t *addr, uint8_t *len);

#endif
