/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The verbs of egressd's API (doc/api.md): a request line parsed, then
 * answered at once (stats, explain, takeover, drain), streamed a chunk at
 * a time as the client's buffer drains (rules, flows, nat), or answered
 * once the control thread served it (reload). api.c runs the socket and
 * the clients; see its header for why listings are read as they are.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <rte_byteorder.h>
#include <rte_rcu_qsbr.h>

#include "api_private.h"
#include "ctl_private.h"
#include "explain.h"
#include "nat.h"
#include "policy.h"
#include "sync.h"
#include "tcp_state.h"

static const char *const verb_names[V_MAX] = { "stats",  "rules",   "flows",    "nat",
					       "reload", "explain", "takeover", "drain" };

static struct {
	struct ctl *c;
	struct api_obj req; /* the request being handled: the loop's alone */
} api;

void
api_verbs_init(struct ctl *c)
{
	api.c = c;
}

static void
fmt_ip(char *buf, size_t size, uint32_t be)
{
	const uint8_t *b = (const uint8_t *)&be;

	snprintf(buf, size, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
}

/* ------------------------------------------------ policy as a reader */

/* Online as a reader of the pool; NULL when every id is taken (try later). */
static const struct policy *
policy_enter(int *slot)
{
	struct ctl *c = api.c;

	*slot = -1;
	if (c->qsbr != NULL) {
		*slot = ctl_reader_take();
		if (*slot < 0)
			return NULL;
		rte_rcu_qsbr_thread_online(c->qsbr, c->n_workers + (unsigned int)*slot);
	}
	return dp_policy(c->conf);
}

static void
policy_leave(int slot)
{
	if (slot < 0)
		return;
	rte_rcu_qsbr_thread_offline(api.c->qsbr, api.c->n_workers + (unsigned int)slot);
	ctl_reader_give(slot);
}

/* "ServiceEntry/NS/NAME" (policy_rule_label()) as a JSON string, or null. */
static void
rule_json(char *buf, size_t size, const struct policy *p, uint32_t rule)
{
	char name[POLICY_LABEL_MAX];

	if (p == NULL || rule >= p->n_rules) {
		snprintf(buf, size, "null");
		return;
	}
	api_quote(buf, size, policy_rule_label(&p->rules[rule], name, sizeof(name)));
}

static void
source_json(char *buf, size_t size, const struct policy_rule *r)
{
	char src[API_LINE_MAX / 4];

	snprintf(src, sizeof(src), "%s:%u", r->file != NULL ? r->file : "?", r->line);
	api_quote(buf, size, src);
}

/* ------------------------------------------------------------ verbs */

static void
do_stats(struct client *cl)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (f == NULL) {
		api_finish(cl, "out of memory");
		return;
	}
	ctl_stats_json(api.c, f); /* the final JSON's and /egress/stats' walk */
	fclose(f);
	if (buf == NULL || api_emit(cl, "%s", buf) < 0) {
		free(buf);
		api_finish(cl, "stats larger than the reply buffer");
		return;
	}
	free(buf);
	cl->count = 1;
	api_finish(cl, NULL);
}

/* Take over the sync peer's addresses and flows now (doc/session-sync.md). */
static void
do_takeover(struct client *cl)
{
	if (ctl_sync_takeover() < 0) {
		api_finish(cl, "session sync is off (no sync section in the config)");
		return;
	}
	if (api_emit(cl, "{\"result\":\"ok\"}\n") < 0) {
		api_finish(cl, "out of memory");
		return;
	}
	cl->count = 1;
	api_finish(cl, NULL);
}

/* One chunk of the rules of the policy of generation cl->gen. */
static void
rules_chunk(struct client *cl)
{
	int slot;
	const struct policy *p = policy_enter(&slot);

	if (p == NULL && slot < 0 && api.c->qsbr != NULL)
		return; /* every reader id taken: next tick */
	if (p == NULL || (cl->gen != 0 && p->generation != cl->gen)) {
		policy_leave(slot);
		api_finish(cl, "the policy changed during the listing; ask again");
		return;
	}
	cl->gen = p->generation;
	for (; cl->i < p->n_rules && api_out_room(cl) > API_LINE_MAX; cl->i++) {
		const struct policy_rule *r = &p->rules[cl->i];
		char name[API_LINE_MAX / 4], src[API_LINE_MAX / 4], dst[16],
			route[API_LINE_MAX / 4];
		struct dp_rule_counts n;

		rule_json(name, sizeof(name), p, cl->i);
		source_json(src, sizeof(src), r);
		fmt_ip(dst, sizeof(dst), rte_cpu_to_be_32(r->dst_ip));
		if (r->route != NULL)
			api_quote(route, sizeof(route), r->route);
		else
			snprintf(route, sizeof(route), "null");
		ctl_rule_counts(api.c, p, cl->i, &n);
		api_emit(
			cl,
			"{\"rule\":%s,\"dst\":\"%s/%u\",\"port\":%u,\"proto\":\"%s\",\"targets\":%u,"
			"\"flows\":%" PRIu64 ",\"source\":%s,\"route\":%s,\"packets_out\":%" PRIu64
			",\"bytes_out\":%" PRIu64 ",\"packets_in\":%" PRIu64
			",\"bytes_in\":%" PRIu64 ",\"near_miss\":%" PRIu64 "}\n",
			name, dst, r->prefix_len, r->port, r->proto == 17 ? "udp" : "tcp",
			r->n_targets, n.flows, src, route, n.t.packets[FLOW_DIR_OUT],
			n.t.bytes[FLOW_DIR_OUT], n.t.packets[FLOW_DIR_IN], n.t.bytes[FLOW_DIR_IN],
			n.near_miss);
		cl->count++;
	}
	if (cl->i == p->n_rules)
		api_finish(cl, NULL);
	policy_leave(slot);
}

static bool
flow_match(const struct client *cl, const struct ctl_flow_view *f, const struct policy *p)
{
	const struct flow_filter *x = &cl->flt;
	const char *name;
	char label[POLICY_LABEL_MAX];

	if ((x->src && f->out.src_ip != x->src) || (x->dst && f->out.dst_ip != x->dst) ||
	    (x->port && rte_be_to_cpu_16(f->out.dst_port) != x->port))
		return false;
	if (x->rule[0] == '\0')
		return true;
	if (p == NULL || f->policy_gen != p->generation || f->rule >= p->n_rules)
		return false;
	/* as listed ("ServiceEntry/NS/NAME"), or "NS/NAME", or the bare name
	 * of an entry without a namespace; the older "ServiceEntry/NAME" too */
	name = p->rules[f->rule].name;
	policy_rule_label(&p->rules[f->rule], label, sizeof(label));
	return strcmp(x->rule, name) == 0 || strcmp(x->rule, label) == 0 ||
	       strcmp(x->rule, label + 13) == 0 ||
	       (strncmp(x->rule, "ServiceEntry/", 13) == 0 && strcmp(x->rule + 13, name) == 0);
}

/* One chunk of the flows listing. */
static void
flows_chunk(struct client *cl)
{
	struct ctl *c = api.c;
	uint32_t scanned = 0;
	int slot;
	const struct policy *p = policy_enter(&slot);

	if (p == NULL && slot < 0 && c->qsbr != NULL)
		return;
	while (cl->w < c->n_workers && scanned < API_SCAN_CHUNK &&
	       api_out_room(cl) > API_LINE_MAX) {
		uint32_t cap = flow_table_capacity(dp_worker_flows(c->workers[cl->w]));
		struct ctl_flow_view f;
		char a[16], b[16], n[16], r[16], rule[API_LINE_MAX / 4];

		if (cl->i >= cap || (cl->flt.limit && cl->count >= cl->flt.limit)) {
			cl->w = cl->flt.limit && cl->count >= cl->flt.limit ? c->n_workers :
									      cl->w + 1;
			cl->i = 0;
			continue;
		}
		scanned++;
		if (!ctl_flow_at(c, cl->w, cl->i++, &f))
			continue;
		if (!flow_match(cl, &f, p))
			continue;
		fmt_ip(a, sizeof(a), f.out.src_ip);
		fmt_ip(b, sizeof(b), f.out.dst_ip);
		fmt_ip(n, sizeof(n), f.in.dst_ip);
		fmt_ip(r, sizeof(r), f.in.src_ip);
		rule_json(rule, sizeof(rule), p != NULL && f.policy_gen == p->generation ? p : NULL,
			  f.rule);
		api_emit(
			cl,
			"{\"src\":\"%s\",\"sport\":%u,\"dst\":\"%s\",\"dport\":%u,\"proto\":\"%s\","
			"\"nat_src\":\"%s\",\"nat_sport\":%u,\"target\":\"%s:%u\",\"state\":\"%s\","
			"\"worker\":%u,\"rule\":%s}\n",
			a, rte_be_to_cpu_16(f.out.src_port), b, rte_be_to_cpu_16(f.out.dst_port),
			f.out.proto == 17 ? "udp" : "tcp", n, rte_be_to_cpu_16(f.in.dst_port), r,
			rte_be_to_cpu_16(f.in.src_port), flow_state_name(f.state), cl->w, rule);
		cl->count++;
	}
	policy_leave(slot);
	if (cl->w < c->n_workers)
		return;
	api_finish(cl, NULL);
}

/* "dst":"IP","dport":N,"proto":"tcp" of a destination. */
static void
dest_json(char *buf, size_t size, const struct nat_dest_view *v)
{
	char d[16];

	fmt_ip(d, sizeof(d), v->dst_ip);
	snprintf(buf, size, "\"dst\":\"%s\",\"dport\":%u,\"proto\":\"%s\"", d,
		 rte_be_to_cpu_16(v->dst_port), v->proto == 17 ? "udp" : "tcp");
}

/*
 * The nat verb: one row per NAT address (ctl_nat_read(), as /metrics reads
 * it), then one per (address, destination, port, proto) with a port in use,
 * a chunk at a time (ctl_nat_dests(), read when the listing starts).
 */
static void
nat_chunk(struct client *cl)
{
	const struct dp_conf *conf = api.c->conf;
	char a[16], d[API_LINE_MAX / 4], r[32];

	if (cl->dests == NULL) {
		struct ctl_nat n;
		unsigned int k;

		cl->n_dests = ctl_nat_dests(api.c, &cl->dests);
		if (cl->n_dests < 0) {
			cl->dests = NULL;
			api_finish(cl, "out of memory");
			return;
		}
		ctl_nat_read(api.c, &n);
		for (k = 0; k < n.n_addrs; k++) {
			const struct ctl_nat_addr *x = &n.a[k];
			char fullest[API_LINE_MAX / 2] = "null";

			fmt_ip(a, sizeof(a), x->addr);
			if (x->fullest.count > 0) {
				dest_json(d, sizeof(d), &x->fullest);
				snprintf(
					fullest, sizeof(fullest),
					"{%s,\"ports_in_use\":%u,\"share_ports\":%u,\"worker\":%u}",
					d, x->fullest.count, x->share, x->fullest_worker);
			}
			snprintf(r, sizeof(r), CTL_NAT_RATIO_FMT, ctl_nat_utilization(x));
			/* ports are per destination (RFC 7857 3): one address holds
			 * up to the range toward each destination */
			api_emit(
				cl,
				"{\"address\":\"%s\",\"ports_in_use\":%" PRIu64
				",\"port_lo\":%u,\"port_hi\":%u,\"destinations\":%" PRIu64
				",\"utilization_max\":%s,\"fullest\":%s,\"untracked_flows\":%" PRIu64
				"}\n",
				a, x->ports_in_use, conf->nat_port_lo, conf->nat_port_hi,
				x->destinations, r, fullest, n.untracked);
			cl->count++;
		}
	}
	for (; cl->i < (uint64_t)cl->n_dests && api_out_room(cl) > API_LINE_MAX; cl->i++) {
		const struct ctl_nat_dest *x = &cl->dests[cl->i];

		fmt_ip(a, sizeof(a), x->d.addr);
		dest_json(d, sizeof(d), &x->d);
		snprintf(r, sizeof(r), CTL_NAT_RATIO_FMT,
			 x->share ? (double)x->share_count / x->share : 0.0);
		api_emit(cl, "{\"address\":\"%s\",%s,\"ports_in_use\":%u,\"utilization\":%s}\n", a,
			 d, x->d.count, r);
		cl->count++;
	}
	if (cl->i == (uint64_t)cl->n_dests)
		api_finish(cl, NULL);
}

void
api_reload_poll(struct client *cl, uint64_t now)
{
	struct ctl *c = api.c;
	const char *result;
	char err[API_LINE_MAX];

	if (ctl_reload_served(c, cl->ticket))
		result = c->reload_result == 0 ? "ok" : "rejected";
	else if (now - cl->since_ms >= API_RELOAD_WAIT_MS)
		result = "pending";
	else
		return;
	api_quote(err, sizeof(err), c->last_reload_error);
	api_emit(cl,
		 "{\"result\":\"%s\",\"policy_generation\":%u,\"reloads\":%" PRIu64
		 ",\"reload_failures\":%" PRIu64 ",\"last_reload_error\":%s}\n",
		 result, c->generation, c->reloads, c->reload_failures, err);
	cl->count = 1;
	api_finish(cl, strcmp(result, "pending") == 0 ? "reload not served in 30 s" : NULL);
}

/*
 * drain: refuse new flows, withdraw, exit when idle or at the deadline
 * (args: deadline, seconds, default API_DRAIN_DEFAULT_S). Answered at once:
 * the drain itself is the control thread's (ctl_drain_poll()).
 */
static void
do_drain(struct client *cl)
{
	uint64_t deadline = API_DRAIN_DEFAULT_S;

	if (api_get_uint(&api.req, "args.deadline", API_DRAIN_MAX_S, &deadline) < 0 ||
	    deadline == 0) {
		api_finish(cl, "drain: arg deadline, seconds (1-86400)");
		return;
	}
	ctl_drain_request(api.c, (uint32_t)deadline);
	api_emit(cl, "{\"draining\":1,\"deadline_s\":%" PRIu64 ",\"flows_active\":%" PRIu64 "}\n",
		 deadline, ctl_flows_active(api.c));
	cl->count = 1;
	api_finish(cl, NULL);
}

static int
arg_ip(const char *key, uint32_t *ip, const char **bad)
{
	const char *s = api_get_str(&api.req, key);
	struct in_addr a;

	if (s == NULL)
		return 0;
	if (inet_pton(AF_INET, s, &a) != 1) {
		*bad = key;
		return -1;
	}
	*ip = a.s_addr;
	return 1;
}

/* Target t of rule r for key k as "IP:PORT": its own port, else the rule's
 * targetPort, else the port the client asked for. */
static void
target_str(char *buf, size_t size, const struct policy_rule *r, const struct policy_target *t,
	   const struct flow_key *k)
{
	uint32_t ip = t != NULL ? t->ip : k->dst_ip;
	uint16_t port = t != NULL ? t->port : 0;
	char a[16];

	if (port == 0 && r != NULL)
		port = r->target_port;
	if (port == 0)
		port = rte_be_to_cpu_16(k->dst_port);
	fmt_ip(a, sizeof(a), ip);
	snprintf(buf, size, "%s:%u", a, port);
}

/*
 * The NAT of a new flow under rule r: "target", the DNAT target "IP:PORT"
 * (the destination itself without one; the first of the rule's when the
 * load balancer picks one of several per flow), "targets", how many the
 * rule has, and "target_weights", an object of each target's weight
 * ("IP:PORT": weight; the protocol has no arrays), the first
 * API_EXPLAIN_TARGETS of them. size > 64.
 */
static void
nat_json(char *buf, size_t size, const char *nat_addr, const struct policy *p,
	 const struct policy_rule *r, const struct flow_key *k)
{
	uint32_t i, n = r != NULL ? r->n_targets : 0;
	char t[32];
	size_t used;

	target_str(t, sizeof(t), r, n > 0 ? &p->targets[r->first_target] : NULL, k);
	used = (size_t)snprintf(buf, size,
				"{\"address\":\"%s\",\"target\":\"%s\",\"targets\":%u,"
				"\"target_weights\":{",
				nat_addr, t, n);
	/* a rule of many DNS endpoints: as many as fit, the line stays JSON */
	for (i = 0; i < n && i < API_EXPLAIN_TARGETS && used + 64 < size; i++) {
		const struct policy_target *pt = &p->targets[r->first_target + i];

		target_str(t, sizeof(t), r, pt, k);
		used += (size_t)snprintf(buf + used, size - used, "%s\"%s\":%u", i ? "," : "", t,
					 pt->weight);
	}
	snprintf(buf + used, size - used, "}}");
}

static void
do_explain(struct client *cl)
{
	struct ctl *c = api.c;
	struct flow_key k = { 0 };
	struct policy_explanation e;
	const struct policy *p;
	const struct policy_rule *r = NULL;
	const char *bad = NULL, *proto = api_get_str(&api.req, "args.proto");
	char rule[API_LINE_MAX / 4], src[API_LINE_MAX / 4], reason[API_LINE_MAX / 2];
	char closest[API_LINE_MAX / 4], nat[API_LINE_MAX], na[16];
	uint64_t port = 0;
	int slot;

	if (arg_ip("args.src", &k.src_ip, &bad) != 1 || arg_ip("args.dst", &k.dst_ip, &bad) != 1) {
		api_finish(cl, bad != NULL ? "args.src and args.dst: IPv4 addresses" :
					     "explain needs args.src and args.dst");
		return;
	}
	if (api_get_uint(&api.req, "args.port", 65535, &port) != 1 || port == 0) {
		api_finish(cl, "explain needs args.port, 1-65535");
		return;
	}
	if (proto != NULL && strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0) {
		api_finish(cl, "args.proto: tcp or udp");
		return;
	}
	k.dst_port = rte_cpu_to_be_16((uint16_t)port);
	k.src_port = rte_cpu_to_be_16(1024);
	k.proto = proto != NULL && strcmp(proto, "udp") == 0 ? 17 : 6;
	p = policy_enter(&slot);
	if (p == NULL) {
		policy_leave(slot);
		api_finish(cl, slot < 0 && c->qsbr != NULL ? "busy: ask again" : "no policy");
		return;
	}
	policy_explain(p, &k, &e);
	rule_json(rule, sizeof(rule), p, e.rule);
	rule_json(closest, sizeof(closest), p, e.closest);
	if (e.rule != POLICY_NO_RULE) {
		r = &p->rules[e.rule];
		source_json(src, sizeof(src), r);
	} else {
		snprintf(src, sizeof(src), "null");
	}
	api_quote(reason, sizeof(reason), e.reason);
	if (e.allow && c->cfg->n_nat_addrs > 0) {
		struct nat_range nr = { .addrs = c->cfg->nat_addrs,
					.n_addrs = c->cfg->n_nat_addrs };

		fmt_ip(na, sizeof(na), nat_addr_of(&nr, k.src_ip));
		nat_json(nat, sizeof(nat), na, p, r, &k);
	} else {
		snprintf(nat, sizeof(nat), "null");
	}
	api_emit(cl,
		 "{\"verdict\":\"%s\",\"rule\":%s,\"source\":%s,\"reason\":%s,\"nat\":%s,"
		 "\"closest\":%s,\"policy_generation\":%u}\n",
		 e.allow ? "allow" : "deny", rule, src, reason, nat, closest, p->generation);
	policy_leave(slot);
	cl->count = 1;
	api_finish(cl, NULL);
}

static int
flows_args(struct client *cl)
{
	const char *bad = NULL, *rule = api_get_str(&api.req, "args.rule");
	uint64_t v;

	memset(&cl->flt, 0, sizeof(cl->flt));
	if (arg_ip("args.src", &cl->flt.src, &bad) < 0 ||
	    arg_ip("args.dst", &cl->flt.dst, &bad) < 0)
		return -1;
	if (api_get_uint(&api.req, "args.port", 65535, &v) < 0)
		return -1;
	if (api_get(&api.req, "args.port") != NULL)
		cl->flt.port = (uint16_t)v;
	if (api_get_uint(&api.req, "args.limit", UINT64_MAX, &cl->flt.limit) < 0)
		return -1;
	if (rule != NULL)
		snprintf(cl->flt.rule, sizeof(cl->flt.rule), "%s", rule);
	return 0;
}

void
api_handle_request(struct client *cl, uint64_t now)
{
	char err[API_LINE_MAX / 2];
	const char *verb;
	uint64_t version = 0;
	unsigned int v;

	if (api_parse(cl->in, cl->in_len, &api.req, err, sizeof(err)) < 0) {
		api_finish(cl, err);
		return;
	}
	if (api_get_uint(&api.req, "version", UINT32_MAX, &version) != 1 ||
	    version != API_VERSION) {
		api_finish(cl, "unsupported version (this egressd speaks version 1)");
		return;
	}
	verb = api_get_str(&api.req, "verb");
	for (v = 0; verb != NULL && v < V_MAX && strcmp(verb, verb_names[v]) != 0; v++)
		;
	if (verb == NULL || v == V_MAX) {
		api_finish(
			cl,
			"unknown verb (stats, rules, flows, nat, reload, explain, takeover, drain)");
		return;
	}
	cl->verb = (enum api_verb)v;
	cl->w = 0;
	cl->i = 0;
	cl->count = 0;
	cl->gen = 0;
	switch (cl->verb) {
	case V_STATS:
		do_stats(cl);
		break;
	case V_EXPLAIN:
		do_explain(cl);
		break;
	case V_TAKEOVER:
		do_takeover(cl);
		break;
	case V_DRAIN:
		do_drain(cl);
		break;
	case V_RELOAD:
		cl->ticket = ctl_request_reload(api.c, CTL_RELOAD_API);
		cl->since_ms = now;
		cl->st = C_RELOAD;
		break;
	case V_FLOWS:
		if (flows_args(cl) < 0) {
			api_finish(cl, "flows: args src, dst (IPv4), port (1-65535), limit, rule");
			return;
		}
		/* fall through */
	default:
		cl->st = C_STREAM;
		break;
	}
}

void
api_stream_chunk(struct client *cl)
{
	if (cl->verb == V_RULES)
		rules_chunk(cl);
	else if (cl->verb == V_NAT)
		nat_chunk(cl);
	else
		flows_chunk(cl);
}
