/* SPDX-License-Identifier: BSD-3-Clause */
/* What the policy tests (test_istio, test_policy) share. */
#ifndef EGRESS_TEST_POLICY_COMMON_H
#define EGRESS_TEST_POLICY_COMMON_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "diag.h"
#include "flow_key.h"

#define CORPUS        "data/istio"
#define DIAG_LINE_MAX 2048

static char label_key[] = "istio";
static char label_value[] = "egressgateway";
static char cfg_path[] = "egressd-test.yaml";

/* The appliance of DESIGN.md's example config, built by hand. */
static inline void
test_cfg(struct egress_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->path = cfg_path;
	cfg->port[EGRESS_PORT_INSIDE].addr = inet_addr("10.8.0.1");
	cfg->port[EGRESS_PORT_INSIDE].prefix_len = 16;
	cfg->port[EGRESS_PORT_INSIDE].mtu = 1500;
	cfg->port[EGRESS_PORT_OUTSIDE].addr = inet_addr("203.0.113.10");
	cfg->port[EGRESS_PORT_OUTSIDE].prefix_len = 24;
	cfg->port[EGRESS_PORT_OUTSIDE].gateway = inet_addr("203.0.113.1");
	cfg->port[EGRESS_PORT_OUTSIDE].mtu = 1500;
	cfg->nat_addrs[0] = inet_addr("203.0.113.10");
	cfg->n_nat_addrs = 1;
	cfg->nat_port_lo = 1024;
	cfg->nat_port_hi = 65535;
	cfg->labels[0].key = label_key;
	cfg->labels[0].value = label_value;
	cfg->n_labels = 1;
	cfg->flows_max = 1048576;
	cfg->workers = 1;
}

/* A client's 5-tuple from 10.8.0.2:40000 (flow_key: network order). */
static inline struct flow_key
test_key(const char *dst, uint16_t port, uint8_t proto)
{
	struct flow_key k = {
		.src_ip = inet_addr("10.8.0.2"),
		.dst_ip = inet_addr(dst),
		.src_port = htons(40000),
		.dst_port = htons(port),
		.proto = proto,
	};
	return k;
}

static inline bool
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static inline void
print_diags(const struct diag_list *dl)
{
	char buf[DIAG_LINE_MAX];
	size_t i;

	for (i = 0; i < dl->n; i++) {
		diag_format(&dl->v[i], buf, sizeof(buf));
		fprintf(stderr, "    %s\n", buf);
	}
}

#endif
