/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NAT port saturation, control side (ctl_nat.h): the one reading of every
 * worker's NAT destinations, and the warnings the control thread logs.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>

#include "ctl_nat.h"
#include "log.h"
#include "nat.h"

EGRESS_LOG_TYPE(ctl);

/*
 * Ports of worker w's share of the configured range toward destination v
 * (0: none): the ports whose reply hashes to its queue with the outside
 * port's RSS known, its slice of the range otherwise; less the holes of
 * v's address and protocol in it (nat.h), which it never binds.
 */
static uint32_t
share_ports(const struct dp_conf *conf, unsigned int w, const struct nat_dest_view *v)
{
	const struct nat_range all = { .port_lo = conf->nat_port_lo,
				       .port_hi = conf->nat_port_hi,
				       .holes = conf->nat_holes,
				       .n_holes = conf->n_nat_holes };
	struct flow_key in = { .src_ip = v->dst_ip, .dst_ip = v->addr, .src_port = v->dst_port };
	uint16_t holes[NAT_MAX_HOLES], lo = 0, hi = 0;
	uint32_t share, n, i;
	bool rss = conf->rss != NULL && conf->n_workers > 1;

	if (rss)
		share = nat_rss_share(conf->rss, &in, w);
	else if (nat_range_split(conf->nat_port_lo, conf->nat_port_hi, conf->n_workers, w, &lo,
				 &hi) == 0)
		share = (uint32_t)hi - lo + 1;
	else
		return 0;
	n = nat_holes_of(&all, v->addr, v->proto, holes);
	for (i = 0; i < n; i++) {
		in.dst_port = rte_cpu_to_be_16(holes[i]);
		if (rss ? nat_rss_owner(conf->rss, &in) == w : holes[i] >= lo && holes[i] <= hi)
			share--;
	}
	return share;
}

/* Index of NAT address addr in conf, or -1. */
static int
addr_index(const struct dp_conf *conf, uint32_t addr)
{
	uint32_t i;

	for (i = 0; i < conf->n_nat_addrs && i < EGRESS_MAX_NAT_ADDRS; i++)
		if (conf->nat_addrs[i] == addr)
			return (int)i;
	return -1;
}

/* a / b > c / d, exactly (b, d > 0). */
static inline bool
share_above(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	return a * d > c * b;
}

double
ctl_nat_utilization(const struct ctl_nat_addr *a)
{
	return a->share == 0 ? 0.0 : (double)a->fullest.count / a->share;
}

void
ctl_nat_read(const struct ctl *c, struct ctl_nat *n)
{
	const struct dp_conf *conf = c->conf;
	unsigned int w;
	uint32_t i;

	memset(n, 0, sizeof(*n));
	n->n_addrs = RTE_MIN(conf->n_nat_addrs, (uint32_t)EGRESS_MAX_NAT_ADDRS);
	for (i = 0; i < n->n_addrs; i++)
		n->a[i].addr = conf->nat_addrs[i];
	for (w = 0; w < c->n_workers; w++) {
		const struct nat_dests *d = dp_worker_nat_dests(c->workers[w]);
		uint32_t share, cap = nat_dests_capacity(d);
		struct nat_dest_view v;

		n->untracked += nat_dests_untracked(d);
		for (i = 0; i < cap; i++) {
			struct ctl_nat_addr *a;
			int k;

			if (!nat_dests_read(d, i, &v) || (k = addr_index(conf, v.addr)) < 0)
				continue;
			share = share_ports(conf, w, &v);
			a = &n->a[k];
			a->ports_in_use += v.count;
			a->destinations++;
			if (share > 0 &&
			    (a->fullest.count == 0 ||
			     share_above(v.count, share, a->fullest.count, a->share))) {
				a->fullest = v;
				a->share = share;
				a->fullest_worker = w;
			}
		}
	}
}

/* Destinations by key, so that one destination's workers lie together. */
static int
dest_key_cmp(const void *x, const void *y)
{
	const struct nat_dest_view *a = &((const struct ctl_nat_dest *)x)->d;
	const struct nat_dest_view *b = &((const struct ctl_nat_dest *)y)->d;

	if (a->addr != b->addr)
		return rte_be_to_cpu_32(a->addr) < rte_be_to_cpu_32(b->addr) ? -1 : 1;
	if (a->dst_ip != b->dst_ip)
		return rte_be_to_cpu_32(a->dst_ip) < rte_be_to_cpu_32(b->dst_ip) ? -1 : 1;
	if (a->dst_port != b->dst_port)
		return rte_be_to_cpu_16(a->dst_port) < rte_be_to_cpu_16(b->dst_port) ? -1 : 1;
	return (int)a->proto - (int)b->proto;
}

/* The listing's order: NAT address as configured, most ports first, then key. */
static int
dest_list_cmp(const void *x, const void *y)
{
	const struct ctl_nat_dest *a = x, *b = y;

	if (a->addr_index != b->addr_index)
		return a->addr_index < b->addr_index ? -1 : 1;
	if (a->d.count != b->d.count)
		return a->d.count > b->d.count ? -1 : 1;
	return dest_key_cmp(x, y);
}

long
ctl_nat_dests(const struct ctl *c, struct ctl_nat_dest **out)
{
	struct ctl_nat_dest *v;
	size_t cap = 0, n = 0, m, i;
	unsigned int w;

	for (w = 0; w < c->n_workers; w++)
		cap += nat_dests_capacity(dp_worker_nat_dests(c->workers[w]));
	v = malloc(sizeof(*v) * (cap ? cap : 1));
	if (v == NULL)
		return -ENOMEM;
	for (w = 0; w < c->n_workers; w++) {
		const struct nat_dests *d = dp_worker_nat_dests(c->workers[w]);
		uint32_t j;

		for (j = 0; j < nat_dests_capacity(d) && n < cap; j++) {
			int k;

			if (!nat_dests_read(d, j, &v[n].d) ||
			    (k = addr_index(c->conf, v[n].d.addr)) < 0)
				continue;
			v[n].addr_index = (unsigned int)k;
			v[n].share_count = v[n].d.count;
			v[n].share = share_ports(c->conf, w, &v[n].d);
			n++;
		}
	}
	/* one row per destination: counts summed, the fullest share kept */
	qsort(v, n, sizeof(*v), dest_key_cmp);
	for (i = 0, m = 0; i < n; i++) {
		if (m > 0 && dest_key_cmp(&v[m - 1], &v[i]) == 0) {
			struct ctl_nat_dest *p = &v[m - 1];

			p->d.count += v[i].d.count;
			if (v[i].share > 0 &&
			    (p->share == 0 ||
			     share_above(v[i].share_count, v[i].share, p->share_count, p->share))) {
				p->share_count = v[i].share_count;
				p->share = v[i].share;
			}
			continue;
		}
		v[m++] = v[i];
	}
	qsort(v, m, sizeof(*v), dest_list_cmp);
	*out = v;
	return (long)m;
}

/* "10.59.118.59:6379/tcp" */
static void
fmt_dest(char *buf, size_t size, const struct nat_dest_view *v)
{
	const uint8_t *a = (const uint8_t *)&v->addr, *d = (const uint8_t *)&v->dst_ip;

	snprintf(buf, size, "%u.%u.%u.%u toward %u.%u.%u.%u:%u/%s", a[0], a[1], a[2], a[3], d[0],
		 d[1], d[2], d[3], rte_be_to_cpu_16(v->dst_port),
		 v->proto == IPPROTO_UDP ? "udp" : "tcp");
}

/* The warning level of a fullest share: 0, 1 (80 %), 2 (95 %). */
static unsigned int
warn_level(const struct ctl_nat_addr *a)
{
	uint64_t used = (uint64_t)a->fullest.count * 100;

	if (a->share == 0)
		return 0;
	return used >= (uint64_t)a->share * 95 ? 2 : used >= (uint64_t)a->share * 80 ? 1 : 0;
}

void
ctl_nat_poll(struct ctl *c, uint64_t now_ms)
{
	static const unsigned int percent[3] = { 0, 80, 95 };
	struct ctl_nat_warn *s = &c->nat_warn;
	struct ctl_nat n;
	unsigned int i;

	if (s->read_ms != 0 && now_ms - s->read_ms < CTL_NAT_POLL_MS)
		return;
	s->read_ms = now_ms;
	ctl_nat_read(c, &n);
	for (i = 0; i < n.n_addrs; i++) {
		const struct ctl_nat_addr *a = &n.a[i];
		unsigned int lvl = warn_level(a);
		uint64_t *last = &s->warned_ms[i][lvl > 0 ? lvl - 1 : 0];
		char dest[64];

		fmt_dest(dest, sizeof(dest), &a->fullest);
		if (lvl > s->level[i]) {
			/* rising: once per level per interval; held back, it is
			 * said on a later poll if it still holds */
			if (*last != 0 && now_ms - *last < CTL_NAT_WARN_INTERVAL_MS)
				continue;
			*last = now_ms;
			s->level[i] = (uint8_t)lvl;
			EGRESS_LOG(
				WARNING,
				"NAT ports: %s at %.1f %% of worker %u's share (%u of %u ports), "
				"above %u %%: add NAT addresses (nat.addresses), widen nat.ports "
				"or spread the flows over more destinations",
				dest, 100.0 * a->fullest.count / a->share, a->fullest_worker,
				a->fullest.count, a->share, percent[lvl]);
		} else if (lvl < s->level[i]) {
			if (lvl == 0) {
				char addr[16];
				const uint8_t *b = (const uint8_t *)&a->addr;

				snprintf(addr, sizeof(addr), "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
				EGRESS_LOG(INFO,
					   "NAT ports: %s back below 80 %% (fullest share %.1f %%)",
					   addr, 100.0 * ctl_nat_utilization(a));
			}
			/* within the band (95 -> 80): quiet; a rise is warned again */
			s->level[i] = (uint8_t)lvl;
		}
	}
}

void
ctl_nat_log_holes(const struct dp_conf *conf)
{
	uint32_t i, k;

	for (i = 0; i < conf->n_nat_addrs; i++) {
		const uint8_t *b = (const uint8_t *)&conf->nat_addrs[i];
		char list[NAT_MAX_HOLES * sizeof("tcp/65535, ")] = "";
		size_t len = 0;

		for (k = 0; k < conf->n_nat_holes; k++) {
			const struct nat_hole *h = &conf->nat_holes[k];

			if (h->addr != conf->nat_addrs[i])
				continue;
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s/%u",
						len > 0 ? ", " : "",
						h->proto == IPPROTO_UDP ? "udp" : "tcp", h->port);
		}
		if (len > 0)
			EGRESS_LOG(INFO,
				   "NAT ports: never bound on %u.%u.%u.%u: %s (the exception "
				   "path's, inside nat.ports %u-%u)",
				   b[0], b[1], b[2], b[3], list, conf->nat_port_lo,
				   conf->nat_port_hi);
	}
}
