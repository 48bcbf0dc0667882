/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * egressd's own API (doc/api.md): one JSON request line per connection on a
 * UNIX socket, the reply streamed as JSON lines ending with a status line.
 *
 * One control thread of its own runs a poll() loop over the listening
 * socket and every client, with non-blocking sockets and a bounded output
 * buffer per client (API_OUT_SIZE). Why not a thread per client: a client
 * that stops reading then costs nothing but its buffer (the loop simply
 * produces no more for it, and drops it after API_STALL_MS without
 * progress), there is no thread to cancel mid-write, and a flow dump is
 * produced a chunk at a time whatever the number of clients.
 *
 * Listings of a million flows are never built whole: a client's cursor
 * (worker, slot) advances a chunk whenever its buffer has drained to half,
 * so memory per client is API_OUT_SIZE. Flow slots are read racily like
 * the telemetry listing reads them (flow.h: preallocated, never freed while
 * the appliance runs); the published policy, for rule names, is read as a
 * QSBR reader with an id of the CTL_TEL_READERS pool, online only for one
 * chunk, so that a slow client never holds up a publish (the control
 * thread's rte_rcu_qsbr_synchronize()) nor takes anything a worker waits on.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_lcore.h>
#include <rte_rcu_qsbr.h>

#include "api_proto.h"
#include "ctl.h"
#include "ctl_nat.h"
#include "ctl_private.h"
#include "explain.h"
#include "log.h"
#include "nat.h"
#include "policy.h"
#include "sync.h"
#include "tcp_state.h"

EGRESS_LOG_TYPE(api);

#define API_CLIENTS_MAX     16
#define API_OUT_SIZE        (64 * 1024)
#define API_LINE_MAX        2048  /* room a streamed line needs */
#define API_SCAN_CHUNK      65536 /* flow slots per chunk */
#define API_STALL_MS        30000 /* a client making no progress this long is dropped */
#define API_RELOAD_WAIT_MS  30000 /* then the reload's answer is "pending" */
#define API_TICK_MS         10
#define API_DRAIN_DEFAULT_S 300 /* egressctl drain without --deadline */
#define API_DRAIN_MAX_S     86400
#define API_EXPLAIN_TARGETS 32 /* DNAT targets explain lists with their weights */

/* From connect to the request's end: a bound on the whole line, not between
 * bytes, else 16 clients trickling a byte now and then hold every slot. */
#define API_REQUEST_MS 2000

enum api_verb {
	V_STATS,
	V_RULES,
	V_FLOWS,
	V_NAT,
	V_RELOAD,
	V_EXPLAIN,
	V_TAKEOVER,
	V_DRAIN,
	V_MAX
};
static const char *const verb_names[V_MAX] = { "stats",  "rules",   "flows",    "nat",
					       "reload", "explain", "takeover", "drain" };

enum client_state {
	C_FREE = 0,
	C_READ,
	C_STREAM,
	C_RELOAD,
	C_DRAIN
};

struct flow_filter {
	uint32_t src, dst; /* network order; 0: any */
	uint16_t port;     /* host order; 0: any */
	char rule[API_VAL_MAX / 4];
	uint64_t limit; /* 0: none */
};

struct client {
	int fd;
	enum client_state st;
	enum api_verb verb;
	char in[API_REQUEST_MAX];
	size_t in_len;
	char *out;
	size_t out_head, out_len;
	uint64_t last_ms; /* of the last progress */
	uint64_t born_ms; /* of the connection */
	/* a listing's cursor */
	unsigned int w;
	uint32_t i;
	uint64_t count;
	uint32_t gen; /* rules: of the policy listed */
	struct flow_filter flt;
	struct ctl_nat_dest *dests; /* nat: the destinations listed (malloc'd) */
	long n_dests;
	/* reload */
	uint32_t ticket;
	uint64_t since_ms;
};

static struct {
	struct ctl *c;
	int lfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	pthread_t tid;
	bool running;
	uint32_t stop; /* atomic */
	struct client cl[API_CLIENTS_MAX];
	struct api_obj req; /* the request being handled: the loop's alone */
} api = { .lfd = -1 };

static uint64_t
now_ms(void)
{
	return rte_get_timer_cycles() / (rte_get_timer_hz() / 1000);
}

static void
fmt_ip(char *buf, size_t size, uint32_t be)
{
	const uint8_t *b = (const uint8_t *)&be;

	snprintf(buf, size, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
}

/* ---------------------------------------------------------- output */

static size_t
out_room(const struct client *cl)
{
	return API_OUT_SIZE - (cl->out_len - cl->out_head);
}

/* Append a printf'd line (the caller ends it with \n). @return -1 when it does not fit. */
static int
emit(struct client *cl, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (cl->out_head > 0) { /* compact: the unsent bytes to the front */
		memmove(cl->out, cl->out + cl->out_head, cl->out_len - cl->out_head);
		cl->out_len -= cl->out_head;
		cl->out_head = 0;
	}
	va_start(ap, fmt);
	n = vsnprintf(cl->out + cl->out_len, API_OUT_SIZE - cl->out_len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= API_OUT_SIZE - cl->out_len)
		return -1;
	cl->out_len += (size_t)n;
	return 0;
}

/* The final line; the connection closes once it is sent. */
static void
finish(struct client *cl, const char *error)
{
	char q[API_LINE_MAX / 2];

	if (error == NULL) {
		emit(cl, "{\"status\":\"ok\",\"count\":%" PRIu64 "}\n", cl->count);
	} else {
		api_quote(q, sizeof(q), error);
		emit(cl, "{\"status\":\"error\",\"error\":%s}\n", q);
	}
	cl->st = C_DRAIN;
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
		finish(cl, "out of memory");
		return;
	}
	ctl_stats_json(api.c, f); /* the final JSON's and /egress/stats' walk */
	fclose(f);
	if (buf == NULL || emit(cl, "%s", buf) < 0) {
		free(buf);
		finish(cl, "stats larger than the reply buffer");
		return;
	}
	free(buf);
	cl->count = 1;
	finish(cl, NULL);
}

/* Take over the sync peer's addresses and flows now (doc/session-sync.md). */
static void
do_takeover(struct client *cl)
{
	if (ctl_sync_takeover() < 0) {
		finish(cl, "session sync is off (no sync section in the config)");
		return;
	}
	if (emit(cl, "{\"result\":\"ok\"}\n") < 0) {
		finish(cl, "out of memory");
		return;
	}
	cl->count = 1;
	finish(cl, NULL);
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
		finish(cl, "the policy changed during the listing; ask again");
		return;
	}
	cl->gen = p->generation;
	for (; cl->i < p->n_rules && out_room(cl) > API_LINE_MAX; cl->i++) {
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
		emit(cl,
		     "{\"rule\":%s,\"dst\":\"%s/%u\",\"port\":%u,\"proto\":\"%s\",\"targets\":%u,"
		     "\"flows\":%" PRIu64 ",\"source\":%s,\"route\":%s,\"packets_out\":%" PRIu64
		     ",\"bytes_out\":%" PRIu64 ",\"packets_in\":%" PRIu64 ",\"bytes_in\":%" PRIu64
		     ",\"near_miss\":%" PRIu64 "}\n",
		     name, dst, r->prefix_len, r->port, r->proto == 17 ? "udp" : "tcp",
		     r->n_targets, n.flows, src, route, n.t.packets[FLOW_DIR_OUT],
		     n.t.bytes[FLOW_DIR_OUT], n.t.packets[FLOW_DIR_IN], n.t.bytes[FLOW_DIR_IN],
		     n.near_miss);
		cl->count++;
	}
	if (cl->i == p->n_rules)
		finish(cl, NULL);
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
	while (cl->w < c->n_workers && scanned < API_SCAN_CHUNK && out_room(cl) > API_LINE_MAX) {
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
		emit(cl,
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
	finish(cl, NULL);
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
			finish(cl, "out of memory");
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
			emit(cl,
			     "{\"address\":\"%s\",\"ports_in_use\":%" PRIu64
			     ",\"port_lo\":%u,\"port_hi\":%u,\"destinations\":%" PRIu64
			     ",\"utilization_max\":%s,\"fullest\":%s,\"untracked_flows\":%" PRIu64
			     "}\n",
			     a, x->ports_in_use, conf->nat_port_lo, conf->nat_port_hi,
			     x->destinations, r, fullest, n.untracked);
			cl->count++;
		}
	}
	for (; cl->i < (uint64_t)cl->n_dests && out_room(cl) > API_LINE_MAX; cl->i++) {
		const struct ctl_nat_dest *x = &cl->dests[cl->i];

		fmt_ip(a, sizeof(a), x->d.addr);
		dest_json(d, sizeof(d), &x->d);
		snprintf(r, sizeof(r), CTL_NAT_RATIO_FMT,
			 x->share ? (double)x->share_count / x->share : 0.0);
		emit(cl, "{\"address\":\"%s\",%s,\"ports_in_use\":%u,\"utilization\":%s}\n", a, d,
		     x->d.count, r);
		cl->count++;
	}
	if (cl->i == (uint64_t)cl->n_dests)
		finish(cl, NULL);
}

static void
reload_poll(struct client *cl, uint64_t now)
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
	emit(cl,
	     "{\"result\":\"%s\",\"policy_generation\":%u,\"reloads\":%" PRIu64
	     ",\"reload_failures\":%" PRIu64 ",\"last_reload_error\":%s}\n",
	     result, c->generation, c->reloads, c->reload_failures, err);
	cl->count = 1;
	finish(cl, strcmp(result, "pending") == 0 ? "reload not served in 30 s" : NULL);
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
		finish(cl, "drain: arg deadline, seconds (1-86400)");
		return;
	}
	ctl_drain_request(api.c, (uint32_t)deadline);
	emit(cl, "{\"draining\":1,\"deadline_s\":%" PRIu64 ",\"flows_active\":%" PRIu64 "}\n",
	     deadline, ctl_flows_active(api.c));
	cl->count = 1;
	finish(cl, NULL);
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
		finish(cl, bad != NULL ? "args.src and args.dst: IPv4 addresses" :
					 "explain needs args.src and args.dst");
		return;
	}
	if (api_get_uint(&api.req, "args.port", 65535, &port) != 1 || port == 0) {
		finish(cl, "explain needs args.port, 1-65535");
		return;
	}
	if (proto != NULL && strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0) {
		finish(cl, "args.proto: tcp or udp");
		return;
	}
	k.dst_port = rte_cpu_to_be_16((uint16_t)port);
	k.src_port = rte_cpu_to_be_16(1024);
	k.proto = proto != NULL && strcmp(proto, "udp") == 0 ? 17 : 6;
	p = policy_enter(&slot);
	if (p == NULL) {
		policy_leave(slot);
		finish(cl, slot < 0 && c->qsbr != NULL ? "busy: ask again" : "no policy");
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
	emit(cl,
	     "{\"verdict\":\"%s\",\"rule\":%s,\"source\":%s,\"reason\":%s,\"nat\":%s,"
	     "\"closest\":%s,\"policy_generation\":%u}\n",
	     e.allow ? "allow" : "deny", rule, src, reason, nat, closest, p->generation);
	policy_leave(slot);
	cl->count = 1;
	finish(cl, NULL);
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

static void
handle_request(struct client *cl, uint64_t now)
{
	char err[API_LINE_MAX / 2];
	const char *verb;
	uint64_t version = 0;
	unsigned int v;

	if (api_parse(cl->in, cl->in_len, &api.req, err, sizeof(err)) < 0) {
		finish(cl, err);
		return;
	}
	if (api_get_uint(&api.req, "version", UINT32_MAX, &version) != 1 ||
	    version != API_VERSION) {
		finish(cl, "unsupported version (this egressd speaks version 1)");
		return;
	}
	verb = api_get_str(&api.req, "verb");
	for (v = 0; verb != NULL && v < V_MAX && strcmp(verb, verb_names[v]) != 0; v++)
		;
	if (verb == NULL || v == V_MAX) {
		finish(cl,
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
			finish(cl, "flows: args src, dst (IPv4), port (1-65535), limit, rule");
			return;
		}
		/* fall through */
	default:
		cl->st = C_STREAM;
		break;
	}
}

/* ---------------------------------------------------------- the loop */

static void
client_close(struct client *cl)
{
	close(cl->fd);
	free(cl->out);
	free(cl->dests);
	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
}

static void
client_accept(uint64_t now)
{
	unsigned int k;
	int fd = accept4(api.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (k = 0; k < API_CLIENTS_MAX && api.cl[k].st != C_FREE; k++)
		;
	if (k == API_CLIENTS_MAX) {
		static const char busy[] =
			"{\"status\":\"error\",\"error\":\"busy: too many clients\"}\n";

		/* MSG_NOSIGNAL: a client that has already gone must not
		 * SIGPIPE egressd; MSG_DONTWAIT: nor may a full one stall us */
		if (send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			/* nothing more to tell it */
		}
		close(fd);
		return;
	}
	api.cl[k] = (struct client){ .fd = fd, .st = C_READ, .last_ms = now, .born_ms = now };
	api.cl[k].out = malloc(API_OUT_SIZE);
	if (api.cl[k].out == NULL)
		client_close(&api.cl[k]);
}

static void
client_read(struct client *cl, uint64_t now)
{
	ssize_t n = read(cl->fd, cl->in + cl->in_len, sizeof(cl->in) - cl->in_len);
	char *nl;

	if (n == 0 && cl->in_len > 0) {
		/* the write side shut after a line without its newline: that
		 * line is the request (the client may still read the answer) */
		handle_request(cl, now);
		return;
	}
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			client_close(cl); /* gone before asking */
		return;
	}
	cl->in_len += (size_t)n;
	cl->last_ms = now;
	nl = memchr(cl->in, '\n', cl->in_len);
	if (nl != NULL) {
		cl->in_len = (size_t)(nl - cl->in);
		handle_request(cl, now);
	} else if (cl->in_len == sizeof(cl->in)) {
		finish(cl, "request line longer than 4096 bytes");
	}
}

static void
client_write(struct client *cl, uint64_t now)
{
	ssize_t n;

	if (cl->out_len == cl->out_head)
		return;
	n = send(cl->fd, cl->out + cl->out_head, cl->out_len - cl->out_head,
		 MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n > 0) {
		cl->out_head += (size_t)n;
		cl->last_ms = now;
		if (cl->out_head == cl->out_len)
			cl->out_head = cl->out_len = 0;
	} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
		client_close(cl);
	}
}

static void
client_step(struct client *cl, short revents, uint64_t now)
{
	if (cl->st == C_READ && (revents & (POLLIN | POLLHUP | POLLERR)))
		client_read(cl, now);
	if (cl->st == C_FREE)
		return;
	/* gone (or broken) in any state: a client waiting for its reload asks
	 * poll() for nothing, yet POLLHUP comes back every pass, a busy loop
	 * for as long as the reload waits (up to API_RELOAD_WAIT_MS) */
	if (revents & (POLLHUP | POLLERR)) {
		client_close(cl);
		return;
	}
	if (cl->st == C_READ && now - cl->born_ms >= API_REQUEST_MS)
		finish(cl, "request not complete within 2 s");
	if (cl->st == C_STREAM && out_room(cl) >= API_OUT_SIZE / 2) {
		if (cl->verb == V_RULES)
			rules_chunk(cl);
		else if (cl->verb == V_NAT)
			nat_chunk(cl);
		else
			flows_chunk(cl);
	}
	if (cl->st == C_RELOAD)
		reload_poll(cl, now);
	client_write(cl, now);
	if (cl->st == C_FREE)
		return;
	if ((cl->st == C_DRAIN && cl->out_len == cl->out_head) ||
	    (cl->st != C_RELOAD && now - cl->last_ms >= API_STALL_MS))
		client_close(cl);
}

static void *
api_main(void *arg)
{
	struct pollfd pfd[API_CLIENTS_MAX + 1];
	struct client *who[API_CLIENTS_MAX + 1];

	(void)arg;
	while (!__atomic_load_n(&api.stop, __ATOMIC_ACQUIRE)) {
		unsigned int k, n = 0;
		bool busy = false;
		uint64_t now;

		pfd[n] = (struct pollfd){ .fd = api.lfd, .events = POLLIN };
		who[n++] = NULL;
		for (k = 0; k < API_CLIENTS_MAX; k++) {
			struct client *cl = &api.cl[k];

			if (cl->st == C_FREE)
				continue;
			pfd[n] = (struct pollfd){ .fd = cl->fd };
			if (cl->st == C_READ)
				pfd[n].events |= POLLIN;
			if (cl->out_len > cl->out_head)
				pfd[n].events |= POLLOUT;
			/* a listing with room to fill goes on without waiting */
			busy |= cl->st == C_STREAM && out_room(cl) >= API_OUT_SIZE / 2;
			who[n++] = cl;
		}
		if (poll(pfd, n, busy ? 0 : API_TICK_MS) < 0 && errno != EINTR)
			break;
		now = now_ms();
		if (pfd[0].revents & POLLIN)
			client_accept(now);
		for (k = 1; k < n; k++)
			client_step(who[k], pfd[k].revents, now);
	}
	return NULL;
}

/* Is anybody listening at path? (Then it is not ours to replace.) */
static bool
someone_listens(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool yes;

	if (fd < 0)
		return false;
	yes = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return yes;
}

/* mkdir -p of path's folder (0755: the socket's own mode guards it). */
static int
make_dirs(const char *path)
{
	char dir[sizeof(api.path)];
	char *p;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (p == NULL || p == dir)
		return 0;
	*p = '\0';
	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int
ctl_api_start(struct ctl *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	unsigned int k;
	bool bound;
	int rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	rc = make_dirs(path);
	if (rc < 0) {
		EGRESS_LOG(ERR, "api.socket %s: cannot create its folder: %s", path, strerror(-rc));
		return rc;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			EGRESS_LOG(ERR, "api.socket %s: exists and is not a socket", path);
			return -EEXIST;
		}
		if (someone_listens(&sa)) {
			EGRESS_LOG(ERR, "api.socket %s: another process listens on it", path);
			return -EADDRINUSE;
		}
		unlink(path); /* stale: its egressd is gone */
	}
	api.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (api.lfd < 0)
		return -errno;
	/* The file is created with the umask's mode, but no connect() succeeds
	 * before listen(), which comes after chmod(): the window serves nobody.
	 * (umask() around bind() would change the mode of files other threads
	 * create meanwhile; Linux ignores fchmod() on a socket.) */
	bound = bind(api.lfd, (const struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (!bound || chmod(path, 0660) < 0 || listen(api.lfd, API_CLIENTS_MAX) < 0) {
		rc = -errno;
		EGRESS_LOG(ERR, "api.socket %s: %s", path, strerror(-rc));
		close(api.lfd);
		api.lfd = -1;
		if (bound)
			unlink(path); /* ours, and never served */
		return rc;
	}
	snprintf(api.path, sizeof(api.path), "%s", path);
	api.c = c;
	for (k = 0; k < API_CLIENTS_MAX; k++)
		api.cl[k].fd = -1;
	__atomic_store_n(&api.stop, 0, __ATOMIC_RELEASE);
	rc = rte_ctrl_thread_create(&api.tid, "egress-api", NULL, api_main, NULL);
	if (rc != 0) {
		close(api.lfd);
		api.lfd = -1;
		unlink(path);
		return -rc;
	}
	api.running = true;
	EGRESS_LOG(INFO, "API on %s", path);
	return 0;
}

void
ctl_api_stop(void)
{
	unsigned int k;

	if (!api.running)
		return;
	__atomic_store_n(&api.stop, 1, __ATOMIC_RELEASE);
	pthread_join(api.tid, NULL);
	for (k = 0; k < API_CLIENTS_MAX; k++)
		if (api.cl[k].st != C_FREE)
			client_close(&api.cl[k]);
	close(api.lfd);
	api.lfd = -1;
	unlink(api.path);
	api.running = false;
}
