/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The sync section of the appliance config (doc/session-sync.md):
 *
 *   sync: { listen: A.B.C.D:PORT, peer: A.B.C.D:PORT, peer_addresses: [A.B.C.D],
 *           dead_after: 1s, takeover: auto|manual, max_flows: N, ring: N }
 */
#include <arpa/inet.h>
#include <string.h>

#include "config_private.h"

#define CFG_SYNC_DEAD_DEFAULT_MS 1000
#define CFG_SYNC_DEAD_MAX_MS     (3600ull * 1000) /* yr_get_duration_ms() says it in hours */
#define CFG_SYNC_RING_DEFAULT    65536
#define CFG_SYNC_RING_MIN        16
#define CFG_SYNC_RING_MAX        (1u << 24)
#define CFG_SYNC_FLOWS_MAX       16777216u

static const char *const sync_keys[] = { "listen",   "peer",      "peer_addresses", "dead_after",
					 "takeover", "max_flows", "ring",           NULL };
static const char *const takeover_names[] = { "auto", "manual", NULL };

/* "A.B.C.D:PORT" (required key): IPv4 only, the sync socket's family. */
static void
sync_endpoint(struct cfg_ctx *c, const struct ynode *m, const char *key, uint32_t *addr,
	      uint16_t *port)
{
	const struct ynode *v = cfg_need(c, m, key);
	struct egress_listen l;
	size_t mark;

	if (v == NULL)
		return;
	mark = yr_key(&c->r, key);
	if (yr_scalar(&c->r, v, "an address") != NULL) {
		if (egress_parse_listen(v->str, &l) < 0 || l.family != AF_INET)
			yr_err(&c->r, v, "invalid address %s (want A.B.C.D:PORT, PORT 1-65535)",
			       yr_quote_node(&c->r, v));
		else {
			memcpy(addr, l.addr, sizeof(*addr));
			*port = l.port;
		}
	}
	yr_pop(&c->r, mark);
}

/* One of nat.addresses (read before this section, the outside address by default). */
static bool
own_nat_addr(const struct egress_config *cfg, uint32_t a)
{
	unsigned int i;

	for (i = 0; i < cfg->n_nat_addrs; i++)
		if (cfg->nat_addrs[i] == a)
			return true;
	return false;
}

/* sync.peer_addresses: the NAT addresses this appliance takes over. */
static void
sync_peer_addresses(struct cfg_ctx *c, const struct ynode *m)
{
	struct egress_sync_cfg *s = &c->cfg->sync;
	const struct ynode *v = cfg_need(c, m, "peer_addresses");
	size_t i, mark, m2;
	uint32_t a;

	if (v == NULL)
		return;
	mark = yr_key(&c->r, "peer_addresses");
	if (v->type != YNODE_SEQ || v->n == 0) {
		yr_err(&c->r, v, "expected a list of at least one address, got %s",
		       yr_describe(&c->r, v));
		yr_pop(&c->r, mark);
		return;
	}
	for (i = 0; i < v->n; i++) {
		if (i == EGRESS_MAX_NAT_ADDRS) {
			yr_err(&c->r, v->items[i], "too many addresses (limit %d)",
			       EGRESS_MAX_NAT_ADDRS);
			break;
		}
		m2 = yr_idx(&c->r, i);
		if (cfg_parse_host(c, v->items[i], &a)) {
			if (own_nat_addr(c->cfg, a))
				yr_err(&c->r, v->items[i],
				       "%s is this appliance's own NAT address (nat.addresses)",
				       yr_quote_node(&c->r, v->items[i]));
			else
				s->peer_nat_addrs[s->n_peer_nat_addrs++] = a;
		}
		yr_pop(&c->r, m2);
	}
	yr_pop(&c->r, mark);
}

void
cfg_parse_sync(struct cfg_ctx *c, const struct ynode *root)
{
	struct egress_sync_cfg *s = &c->cfg->sync;
	const struct ynode *m;
	unsigned int e = 0;
	size_t mark;
	uint64_t x;

	s->dead_after_ms = CFG_SYNC_DEAD_DEFAULT_MS;
	s->takeover_auto = true;
	s->max_flows = c->cfg->flows_max;
	s->ring = CFG_SYNC_RING_DEFAULT;
	m = cfg_section(c, root, "sync", sync_keys, &mark);
	if (m == NULL)
		return;
	s->on = true;
	sync_endpoint(c, m, "listen", &s->listen_addr, &s->listen_port);
	sync_endpoint(c, m, "peer", &s->peer_addr, &s->peer_port);
	sync_peer_addresses(c, m);
	yr_get_duration_ms(&c->r, m, "dead_after", CFG_SYNC_DEAD_MAX_MS, &s->dead_after_ms);
	if (yr_get_enum(&c->r, m, "takeover", takeover_names, NULL, &e) != NULL)
		s->takeover_auto = e == 0;
	if (yr_get_uint(&c->r, m, "max_flows", 1, CFG_SYNC_FLOWS_MAX, NULL, &x) != NULL)
		s->max_flows = (uint32_t)x;
	if (yr_get_uint(&c->r, m, "ring", CFG_SYNC_RING_MIN, CFG_SYNC_RING_MAX, NULL, &x) != NULL)
		s->ring = (uint32_t)x;
	yr_pop(&c->r, mark);
}
