/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /egress/ commands on DPDK's telemetry socket (usable with
 * dpdk-telemetry.py): stats, rules, flows, reload. Callbacks run on the
 * telemetry threads, one per connected client (DPDK's), so several at once:
 * they read counters and published policies, and hand reloads to the
 * control thread, which alone builds and publishes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_byteorder.h>
#include <rte_rcu_qsbr.h>
#include <rte_telemetry.h>

#include "ctl.h"
#include "ctl_private.h"
#include "explain.h"
#include "flow.h"
#include "policy.h"

#define TEL_FLOWS_SHOWN   64
#define TEL_RELOAD_WAIT_S 30

/* DPDK 22.11 telemetry callbacks carry no argument: one appliance per process. */
static struct ctl *tel_ctl;

/*
 * The callbacks run on DPDK's telemetry threads, which live until the
 * process exits, but the appliance they read is torn down before that:
 * ctl_telemetry_close() shuts this gate and waits for the callbacks in
 * progress, if any; later requests are answered with an error. (DPDK 22.11
 * cannot unregister a command.) Sequentially consistent on both sides: a
 * callback either sees the gate shut or is counted before the wait reads
 * the count.
 */
static uint32_t tel_busy;
static uint32_t tel_shut;

static bool
tel_enter(void)
{
	__atomic_add_fetch(&tel_busy, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&tel_shut, __ATOMIC_SEQ_CST)) {
		__atomic_sub_fetch(&tel_busy, 1, __ATOMIC_SEQ_CST);
		return false;
	}
	return true;
}

static void
tel_leave(void)
{
	__atomic_sub_fetch(&tel_busy, 1, __ATOMIC_SEQ_CST);
}

static void
fmt_ip(char *buf, size_t size, uint32_t be)
{
	const uint8_t *b = (const uint8_t *)&be;

	snprintf(buf, size, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
}

/*
 * /egress/stats as a telemetry dict, from ctl_stats_walk(). An object at the
 * top is a container; one inside it ("ports" -> "inside") cannot be (DPDK
 * 22.11 encodes one level of containers), so its members go into the outer
 * container under "inside/rx" ('/': the one separator telemetry names allow).
 */
struct tel_out {
	struct rte_tel_data *top;
	struct rte_tel_data *obj; /* the top-level object being filled; NULL
				      when it could not be allocated (dropped) */
	const char *obj_name;
	const char *inner; /* the object inside obj, or NULL */
	unsigned int depth;
};

/* Where a member named name goes, and under which key (in buf). */
static struct rte_tel_data *
tel_member(struct tel_out *t, const char *name, char *buf, size_t size)
{
	if (t->inner != NULL)
		snprintf(buf, size, "%s/%s", t->inner, name);
	else
		snprintf(buf, size, "%s", name);
	return t->depth == 0 ? t->top : t->obj;
}

static void
tel_u64(void *ctx, const char *name, uint64_t v)
{
	char key[RTE_TEL_MAX_STRING_LEN];
	struct rte_tel_data *d = tel_member(ctx, name, key, sizeof(key));

	if (d != NULL)
		rte_tel_data_add_dict_u64(d, key, v);
}

static void
tel_str(void *ctx, const char *name, const char *s)
{
	char key[RTE_TEL_MAX_STRING_LEN];
	struct rte_tel_data *d = tel_member(ctx, name, key, sizeof(key));

	if (d != NULL)
		rte_tel_data_add_dict_string(d, key, s);
}

static void
tel_ratio(void *ctx, const char *name, uint64_t num, uint64_t den)
{
	tel_u64(ctx, name, den ? num / den : 0);
}

static void
tel_begin(void *ctx, const char *name)
{
	struct tel_out *t = ctx;

	if (t->depth++ > 0) {
		t->inner = name;
		return;
	}
	t->obj_name = name;
	t->obj = rte_tel_data_alloc();
	if (t->obj != NULL)
		rte_tel_data_start_dict(t->obj);
}

static void
tel_end(void *ctx)
{
	struct tel_out *t = ctx;

	if (--t->depth > 0) {
		t->inner = NULL;
		return;
	}
	if (t->obj != NULL)
		rte_tel_data_add_dict_container(t->top, t->obj_name, t->obj, 0);
	t->obj = NULL;
}

static int
stats_reply(struct rte_tel_data *d)
{
	static const struct ctl_stats_out tel = {
		.u64 = tel_u64,
		.str = tel_str,
		.ratio = tel_ratio,
		.begin = tel_begin,
		.end = tel_end,
	};
	struct tel_out t = { .top = d };

	rte_tel_data_start_dict(d);
	ctl_stats_walk(tel_ctl, &tel, &t);
	return 0;
}

/*
 * A listing reads the published policy like a worker does, as a QSBR reader:
 * online while it holds the pointer, so that ctl_publish() does not free it
 * under the listing.
 *
 * DPDK runs each telemetry client in a thread of its own, and one reader id
 * is one reader: two listings sharing an id would let the first to finish
 * report it offline while the other still reads, and a publish then frees
 * the policy under the second. So each listing takes an id of its own from
 * a small pool (CTL_TEL_READERS ids after the workers'), one bit each in
 * tel_readers, taken and given back with atomics: no lock (workers never
 * wait for a telemetry thread, and a publish waits only for the listings in
 * progress, as before). When every id is taken the listing is
 * not waited for: the answer says so ("error": "busy ..."), and the client
 * asks again. A listing takes microseconds, so that needs CTL_TEL_READERS
 * clients listing at the same instant. (Taking turns on a lock would do as
 * well, but library code takes no locks.)
 */
static uint32_t tel_readers; /* bit i: reader id n_workers + i is taken */

_Static_assert(CTL_TEL_READERS >= 1 && CTL_TEL_READERS < 32, "one bit per reader id");

int
ctl_reader_take(void)
{
	uint32_t all = (UINT32_C(1) << CTL_TEL_READERS) - 1;
	uint32_t taken = __atomic_load_n(&tel_readers, __ATOMIC_RELAXED);
	int i;

	do {
		if (taken == all)
			return -1;
		i = __builtin_ctz(~taken);
	} while (!__atomic_compare_exchange_n(&tel_readers, &taken, taken | UINT32_C(1) << i, true,
					      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
	return i;
}

/* After the id's offline: the next listing to take it goes online after. */
void
ctl_reader_give(int i)
{
	__atomic_fetch_and(&tel_readers, ~(UINT32_C(1) << i), __ATOMIC_RELEASE);
}

static int
rules_reply(struct rte_tel_data *d)
{
	const struct policy *pol;
	unsigned int id = 0;
	int slot = -1;
	uint32_t i;

	if (tel_ctl->qsbr != NULL) {
		slot = ctl_reader_take();
		if (slot < 0) {
			rte_tel_data_start_dict(d);
			rte_tel_data_add_dict_string(
				d, "error",
				"busy: " RTE_STR(
					CTL_TEL_READERS) " listings in progress; ask again");
			return 0;
		}
		id = tel_ctl->n_workers + (unsigned int)slot;
		rte_rcu_qsbr_thread_online(tel_ctl->qsbr, id);
	}
	pol = dp_policy(tel_ctl->conf);
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	for (i = 0; pol != NULL && i < pol->n_rules && i < RTE_TEL_MAX_ARRAY_ENTRIES; i++) {
		const struct policy_rule *r = &pol->rules[i];
		char line[RTE_TEL_MAX_STRING_LEN], label[POLICY_LABEL_MAX];

		snprintf(line, sizeof(line), "%s %u.%u.%u.%u/%u %u/%s targets=%u flows=%" PRIu64,
			 policy_rule_label(r, label, sizeof(label)), r->dst_ip >> 24,
			 (r->dst_ip >> 16) & 0xff, (r->dst_ip >> 8) & 0xff, r->dst_ip & 0xff,
			 r->prefix_len, r->port, r->proto == 17 ? "udp" : "tcp", r->n_targets,
			 ctl_rule_flows(tel_ctl, pol, i));
		rte_tel_data_add_array_string(d, line);
	}
	if (slot >= 0) {
		rte_rcu_qsbr_thread_offline(tel_ctl->qsbr, id);
		ctl_reader_give(slot);
	}
	return 0;
}

static int
flows_reply(struct rte_tel_data *d)
{
	struct ctl *c = tel_ctl;
	uint64_t per_state[FLOW_S_MAX] = { 0 };
	struct rte_tel_data *list;
	unsigned int w, s, shown = 0;

	list = rte_tel_data_alloc();
	if (list != NULL)
		rte_tel_data_start_array(list, RTE_TEL_STRING_VAL);
	for (w = 0; w < c->n_workers; w++) {
		const struct flow_table *ft = dp_worker_flows(c->workers[w]);
		uint32_t i, cap = flow_table_capacity(ft);

		for (i = 0; i < cap; i++) {
			struct ctl_flow_view f;
			char line[RTE_TEL_MAX_STRING_LEN], a[16], b[16], n[16];

			if (!ctl_flow_at(c, w, i, &f))
				continue;
			per_state[f.state < FLOW_S_MAX ? f.state : 0]++;
			if (list == NULL || shown >= TEL_FLOWS_SHOWN)
				continue;
			fmt_ip(a, sizeof(a), f.out.src_ip);
			fmt_ip(b, sizeof(b), f.in.src_ip);
			fmt_ip(n, sizeof(n), f.in.dst_ip);
			snprintf(line, sizeof(line), "%s:%u -> %s:%u via %s:%u %s w%u", a,
				 rte_be_to_cpu_16(f.out.src_port), b,
				 rte_be_to_cpu_16(f.in.src_port), n,
				 rte_be_to_cpu_16(f.in.dst_port), flow_state_name(f.state), w);
			rte_tel_data_add_array_string(list, line);
			shown++;
		}
	}
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "flows_active", ctl_flows_active(c));
	for (s = 0; s < FLOW_S_MAX; s++)
		rte_tel_data_add_dict_u64(d, flow_state_name((uint8_t)s), per_state[s]);
	if (list != NULL)
		rte_tel_data_add_dict_container(d, "sample", list, 0);
	return 0;
}

static int
reload_reply(struct rte_tel_data *d)
{
	struct ctl *c = tel_ctl;
	uint32_t ticket = ctl_request_reload(c, CTL_RELOAD_TELEMETRY);
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 10 * 1000 * 1000 };
	unsigned int waited;

	/* the control thread serves it within a tick; wait, bounded (and not
	 * past a shutdown, which waits for this callback) */
	for (waited = 0; waited < TEL_RELOAD_WAIT_S * 100; waited++) {
		if (ctl_reload_served(c, ticket) || __atomic_load_n(&tel_shut, __ATOMIC_SEQ_CST))
			break;
		nanosleep(&ts, NULL);
	}
	rte_tel_data_start_dict(d);
	if (waited == TEL_RELOAD_WAIT_S * 100) {
		rte_tel_data_add_dict_string(d, "result", "pending");
	} else {
		rte_tel_data_add_dict_string(d, "result",
					     c->reload_result == 0 ? "ok" : "rejected");
	}
	rte_tel_data_add_dict_u64(d, "policy_generation", c->generation);
	rte_tel_data_add_dict_u64(d, "reload_failures", c->reload_failures);
	rte_tel_data_add_dict_string(d, "last_reload_error", c->last_reload_error);
	return 0;
}

/* The registered callbacks: each reply behind the gate. */
#define TEL_GATED(name)                                                                            \
	static int tel_##name(const char *cmd __rte_unused, const char *params __rte_unused,       \
			      struct rte_tel_data *d)                                              \
	{                                                                                          \
		int rc;                                                                            \
                                                                                                   \
		if (!tel_enter())                                                                  \
			return -EAGAIN;                                                            \
		rc = name##_reply(d);                                                              \
		tel_leave();                                                                       \
		return rc;                                                                         \
	}
TEL_GATED(stats)
TEL_GATED(rules)
TEL_GATED(flows)
TEL_GATED(reload)

void
ctl_telemetry_close(void)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 1000 * 1000 };

	__atomic_store_n(&tel_shut, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&tel_busy, __ATOMIC_SEQ_CST) != 0)
		nanosleep(&ts, NULL);
}

int
ctl_telemetry_init(struct ctl *c)
{
	unsigned int i;

	tel_ctl = c;
	ctl_dns_stats_publish(c);
	for (i = 0; c->qsbr != NULL && i < CTL_TEL_READERS; i++)
		if (rte_rcu_qsbr_thread_register(c->qsbr, c->n_workers + i) != 0)
			return -EINVAL;
	if (rte_telemetry_register_cmd(
		    "/egress/stats", tel_stats,
		    "Counters: policy, reloads, flows, drops by reason, ports") ||
	    rte_telemetry_register_cmd("/egress/rules", tel_rules,
				       "The compiled allowlist of the running policy") ||
	    rte_telemetry_register_cmd("/egress/flows", tel_flows,
				       "Active flows by TCP state, and a sample of them") ||
	    rte_telemetry_register_cmd("/egress/reload", tel_reload,
				       "Reload the policy sources now; returns the result"))
		return -EINVAL;
	return 0;
}
