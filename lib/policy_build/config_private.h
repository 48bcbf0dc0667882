/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the files of the appliance config loader share: the loader's state
 * and the checks every section makes. config.c reads the whole file and the
 * policy and flows sections; config_net.c the ports and nat sections.
 *
 * Control thread only.
 */
#ifndef EGRESS_CONFIG_PRIVATE_H
#define EGRESS_CONFIG_PRIVATE_H

#include <stdbool.h>

#include "config.h"
#include "ydoc.h"
#include "yreader.h"

#define CFG_MTU_DEFAULT 1500

/* What the loader remembers while it reads, for the checks that need two values. */
struct cfg_ctx {
	struct egress_config *cfg;
	struct yreader r;                          /* the YAML path, diagnostics, quoted values */
	const struct ynode *addr[EGRESS_PORT_MAX]; /* valid port addresses */
	const struct ynode *gateway[EGRESS_PORT_MAX]; /* gateways valid on their own */
	const struct ynode *embryonic;                /* flows.embryonic_max, when valid */
	const struct ynode *exc_tap[EGRESS_PORT_MAX]; /* ports.X.exception.tap, when valid */
};

/* config.c */
void cfg_nomem(struct cfg_ctx *c);
bool cfg_check_map(struct cfg_ctx *c, const struct ynode *n, const char *const *known);
const struct ynode *cfg_need(struct cfg_ctx *c, const struct ynode *map, const char *key);
const struct ynode *cfg_section(struct cfg_ctx *c, const struct ynode *map, const char *key,
				const char *const *known, size_t *mark);
int cfg_strdup(struct cfg_ctx *c, const char *s, char **out);

/* istio_names.c: a Kubernetes namespace is an RFC 1123 label */
bool istio_dns1123_label(const char *s, size_t len);

/* config_net.c: the sections "ports" (required) and "nat" of root */
void cfg_parse_ports(struct cfg_ctx *c, const struct ynode *root);
void cfg_parse_nat(struct cfg_ctx *c, const struct ynode *root);
void cfg_parse_metrics(struct cfg_ctx *c, const struct ynode *root);
/* config_net.c: a unicast host address "A.B.C.D" (the path is pushed); an
 * error added and false otherwise */
bool cfg_parse_host(struct cfg_ctx *c, const struct ynode *v, uint32_t *addr);
/* config_sync.c: sync (session sync, doc/session-sync.md) */
void cfg_parse_sync(struct cfg_ctx *c, const struct ynode *root);

/* config_exception.c: ports.X.exception of the port mapping m (the path is
 * the port's); once both ports are read, its relation to the other port's */
void cfg_parse_exception(struct cfg_ctx *c, const struct ynode *m, enum egress_port_role r);
void cfg_check_exceptions(struct cfg_ctx *c);

#endif
