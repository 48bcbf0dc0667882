/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flow log's writer thread (flowlog.h): drain, name, format, append.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include "api_proto.h"
#include "ctl_private.h"
#include "explain.h"
#include "flowlog.h"
#include "log.h"

EGRESS_LOG_TYPE(ctl);

#define FL_BURST    64
#define FL_BUF_SIZE (256 * 1024)     /* written out when fuller than this less a line */
#define FL_GEN_MASK 0xffffffu        /* dp_flowlog_rec.gen: the low 24 bits */
#define FL_RETRY_MS 1000             /* a path that did not open is tried again */
#define FL_NAME_MAX POLICY_LABEL_MAX /* a rule's name or source, at most */

/* The names of one generation's rules, copied while it was published. */
struct fl_names {
	uint32_t gen; /* full generation */
	bool valid;
	uint32_t n;
	char **rule;   /* [n]: "ServiceEntry/NS/NAME" */
	char **source; /* [n]: "FILE:LINE" */
};

struct ctl_flowlog {
	struct ctl *c;
	char *path;
	int fd; /* -1: not open */
	bool open_failed_logged;
	uint64_t next_open_ms;
	int64_t wall_offset_ms; /* Unix epoch ms - the workers' ms clock */
	uint64_t tsc_per_ms;
	struct fl_names names[2]; /* [gen & 1] */
	pthread_t thread;
	uint32_t stop;   /* atomic */
	uint32_t reopen; /* atomic */
	size_t len;
	char buf[FL_BUF_SIZE + CTL_FLOWLOG_LINE_MAX];
};

static uint64_t fl_unwritten; /* atomic */
static uint64_t fl_written;   /* atomic */

uint64_t
ctl_flowlog_unwritten(void)
{
	return __atomic_load_n(&fl_unwritten, __ATOMIC_RELAXED);
}

uint64_t
ctl_flowlog_written(void)
{
	return __atomic_load_n(&fl_written, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------ format */

struct out {
	char *p;
	size_t size, len;
	bool full;
};

static void __attribute__((format(printf, 2, 3))) put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->p + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len) {
		o->full = true;
		return;
	}
	o->len += (size_t)n;
}

/* ,"key":"s" (JSON-quoted), or ,"key":null */
static void
put_str(struct out *o, const char *key, const char *s)
{
	char q[2 * FL_NAME_MAX];

	if (s == NULL) {
		put(o, ",\"%s\":null", key);
		return;
	}
	api_quote(q, sizeof(q), s);
	put(o, ",\"%s\":%s", key, q);
}

static void
put_addr(struct out *o, const char *key, uint32_t ip_be, const char *pkey, uint16_t port_be)
{
	uint32_t a = ntohl(ip_be);

	put(o, ",\"%s\":\"%u.%u.%u.%u\",\"%s\":%u", key, a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
	    a & 0xff, pkey, ntohs(port_be));
}

static const char *
event_name(uint8_t ev)
{
	switch (ev) {
	case DP_FL_ADMIT:
		return "admit";
	case DP_FL_DENY:
		return "deny";
	case DP_FL_END:
		return "end";
	default:
		return "invalid";
	}
}

size_t
ctl_flowlog_format(char *buf, size_t size, const struct dp_flowlog_rec *r, int64_t wall_offset_ms,
		   const struct ctl_flowlog_text *t)
{
	struct out o = { .p = buf, .size = size };
	int64_t wall = (int64_t)r->time_ms + wall_offset_ms;
	time_t sec = (time_t)(wall / 1000);
	struct tm tm;

	if (size == 0)
		return 0;
	gmtime_r(&sec, &tm);
	/* RFC 3339 (section 5.6), UTC, milliseconds */
	put(&o, "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\",\"event\":\"%s\"",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (int)(wall % 1000), event_name(r->event));
	if (r->proto == IPPROTO_TCP)
		put(&o, ",\"proto\":\"tcp\"");
	else if (r->proto == IPPROTO_UDP)
		put(&o, ",\"proto\":\"udp\"");
	else
		put(&o, ",\"proto\":\"%u\"", r->proto);
	put_addr(&o, "src", r->src, "sport", r->sport);
	put_addr(&o, "dst", r->dst, "dport", r->dport);
	if (r->event == DP_FL_DENY) {
		put(&o, ",\"reason\":\"%s\"", egress_drop_name((enum egress_drop)r->u.deny.reason));
		put_str(&o, "closest", t->closest != NULL ? t->closest : "");
		if (r->u.deny.suppressed > 0)
			put(&o, ",\"suppressed\":%" PRIu32, r->u.deny.suppressed);
	} else {
		put_addr(&o, "nat_src", r->nat_src, "nat_sport", r->nat_sport);
		put_str(&o, "rule", t->rule);
		put_str(&o, "source", t->source);
	}
	if (r->event == DP_FL_ADMIT) {
		put_addr(&o, "nat_dst", r->u.admit.nat_dst, "nat_dport", r->u.admit.nat_dport);
		if (t->sni != NULL)
			put_str(&o, "sni", t->sni);
	} else if (r->event == DP_FL_END) {
		put(&o,
		    ",\"duration_ms\":%" PRIu32 ",\"packets_out\":%" PRIu32
		    ",\"bytes_out\":%" PRIu64 ",\"packets_in\":%" PRIu32 ",\"bytes_in\":%" PRIu64
		    ",\"end_reason\":\"%s\"",
		    r->u.end.duration_ms, r->u.end.packets[FLOW_DIR_OUT],
		    r->u.end.bytes[FLOW_DIR_OUT], r->u.end.packets[FLOW_DIR_IN],
		    r->u.end.bytes[FLOW_DIR_IN], dp_end_reason_name(r->u.end.reason));
	}
	put(&o, "}\n");
	return o.full ? 0 : o.len;
}

/* ------------------------------------------------------------ names */

static void
names_clear(struct fl_names *n)
{
	uint32_t i;

	for (i = 0; n->rule != NULL && i < n->n; i++) {
		free(n->rule[i]);
		free(n->source[i]);
	}
	free(n->rule);
	free(n->source);
	memset(n, 0, sizeof(*n));
}

/* As every other interface names it (policy_rule_label()). */
static char *
name_of(const struct policy_rule *r)
{
	char b[FL_NAME_MAX];

	return strdup(policy_rule_label(r, b, sizeof(b)));
}

static char *
source_of(const struct policy_rule *r)
{
	char b[FL_NAME_MAX];

	snprintf(b, sizeof(b), "%s:%u", r->file != NULL ? r->file : "?", r->line);
	return strdup(b);
}

/* Copy the names of p's rules (p held as a reader) into slot gen & 1. */
static void
names_take(struct ctl_flowlog *fl, const struct policy *p)
{
	struct fl_names *n = &fl->names[p->generation & 1];
	uint32_t i;

	if (n->valid && n->gen == p->generation)
		return;
	names_clear(n);
	n->gen = p->generation;
	n->rule = calloc(p->n_rules + 1, sizeof(char *));
	n->source = calloc(p->n_rules + 1, sizeof(char *));
	if (n->rule == NULL || n->source == NULL) {
		names_clear(n);
		return; /* its records get null names */
	}
	n->n = p->n_rules;
	for (i = 0; i < p->n_rules; i++) {
		n->rule[i] = name_of(&p->rules[i]);
		n->source[i] = source_of(&p->rules[i]);
	}
	n->valid = true;
}

static const struct fl_names *
names_of(const struct ctl_flowlog *fl, uint32_t gen24)
{
	unsigned int i;

	for (i = 0; i < 2; i++)
		if (fl->names[i].valid && (fl->names[i].gen & FL_GEN_MASK) == gen24)
			return &fl->names[i];
	return NULL;
}

/* ------------------------------------------------------------ file */

static void
file_open(struct ctl_flowlog *fl)
{
	uint64_t now = rte_rdtsc() / fl->tsc_per_ms;

	if (fl->fd >= 0 || now < fl->next_open_ms)
		return;
	fl->fd = open(fl->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fl->fd >= 0) {
		if (fl->open_failed_logged)
			EGRESS_LOG(INFO, "flowlog.path %s: open again", fl->path);
		fl->open_failed_logged = false;
		return;
	}
	fl->next_open_ms = now + FL_RETRY_MS;
	if (!fl->open_failed_logged)
		EGRESS_LOG(ERR, "flowlog.path %s: %s (records are counted, not written)", fl->path,
			   strerror(errno));
	fl->open_failed_logged = true;
}

/* Write the buffer out; what cannot be written is counted, lines of it. */
static void
file_flush(struct ctl_flowlog *fl)
{
	size_t off = 0;

	while (fl->fd >= 0 && off < fl->len) {
		ssize_t n = write(fl->fd, fl->buf + off, fl->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			EGRESS_LOG(ERR, "flowlog.path %s: %s", fl->path,
				   n < 0 ? strerror(errno) : "short write");
			close(fl->fd);
			fl->fd = -1;
			fl->next_open_ms = rte_rdtsc() / fl->tsc_per_ms + FL_RETRY_MS;
			break;
		}
		off += (size_t)n;
	}
	if (off < fl->len) {
		uint64_t lost = 0;
		size_t i;

		for (i = off; i < fl->len; i++)
			lost += fl->buf[i] == '\n';
		__atomic_fetch_add(&fl_unwritten, lost, __ATOMIC_RELAXED);
		__atomic_fetch_sub(&fl_written, lost, __ATOMIC_RELAXED);
	}
	fl->len = 0;
}

/* ------------------------------------------------------------ drain */

const char *
ctl_flowlog_closest(const struct policy *pol, const struct dp_flowlog_rec *r,
		    struct policy_explanation *e)
{
	struct flow_key k = { .src_ip = r->src,
			      .dst_ip = r->dst,
			      .src_port = r->sport,
			      .dst_port = r->dport,
			      .proto = r->proto };

	policy_explain(pol, &k, e);
	return !e->allow && e->closest != POLICY_NO_RULE ? e->reason : "";
}

/*
 * The published policy, online as a QSBR reader of the pool: NULL when
 * every pool id is taken (listings in progress). The flow tables reclaim
 * deleted flows' slots through the same QSBR variable, so the writer is
 * online only for such short stretches (copying names, one explain), never
 * while it formats or writes: a reader held online through a flood of
 * records holds every deleted flow's slot, and the tables fill.
 */
static const struct policy *
reader_enter(const struct ctl_flowlog *fl, int *slot)
{
	struct ctl *c = fl->c;

	*slot = -1;
	if (c->qsbr == NULL)
		return dp_policy(c->conf);
	*slot = ctl_reader_take();
	if (*slot < 0)
		return NULL;
	rte_rcu_qsbr_thread_online(c->qsbr, c->n_workers + (unsigned int)*slot);
	return dp_policy(c->conf);
}

static void
reader_leave(const struct ctl_flowlog *fl, int slot)
{
	if (slot < 0)
		return;
	rte_rcu_qsbr_thread_offline(fl->c->qsbr, fl->c->n_workers + (unsigned int)slot);
	ctl_reader_give(slot);
}

/* Copy the names of the published policy, if not yet (a short stretch online). */
static void
names_refresh(struct ctl_flowlog *fl)
{
	const struct policy *pol;
	int slot;

	pol = reader_enter(fl, &slot);
	if (pol != NULL)
		names_take(fl, pol);
	reader_leave(fl, slot);
}

/* A deny record's closest, into e; "" when its policy is no longer in force. */
static const char *
closest_of(struct ctl_flowlog *fl, const struct dp_flowlog_rec *r, struct policy_explanation *e)
{
	const struct policy *pol;
	const char *s = "";
	int slot;

	pol = reader_enter(fl, &slot);
	if (pol != NULL && (pol->generation & FL_GEN_MASK) == r->gen)
		s = ctl_flowlog_closest(pol, r, e); /* e->reason: a copy, ours */
	reader_leave(fl, slot);
	return s;
}

static void
line(struct ctl_flowlog *fl, const struct dp_flowlog_rec *r, const char *sni)
{
	const struct fl_names *n = names_of(fl, (uint32_t)r->gen);
	struct ctl_flowlog_text t = { .sni = sni };
	struct policy_explanation e;
	size_t len;

	if (n == NULL && r->event != DP_FL_DENY) {
		/* a generation published since the last copy */
		names_refresh(fl);
		n = names_of(fl, (uint32_t)r->gen);
	}
	if (r->event == DP_FL_DENY) {
		t.closest = closest_of(fl, r, &e);
	} else if (n != NULL && r->rule < n->n) {
		t.rule = n->rule[r->rule];
		t.source = n->source[r->rule];
	}
	if (fl->fd < 0) {
		__atomic_fetch_add(&fl_unwritten, 1, __ATOMIC_RELAXED);
		return;
	}
	len = ctl_flowlog_format(fl->buf + fl->len, sizeof(fl->buf) - fl->len, r,
				 fl->wall_offset_ms, &t);
	if (len == 0) {
		__atomic_fetch_add(&fl_unwritten, 1, __ATOMIC_RELAXED);
		return;
	}
	fl->len += len;
	__atomic_fetch_add(&fl_written, 1, __ATOMIC_RELAXED);
	if (fl->len > FL_BUF_SIZE)
		file_flush(fl);
}

/*
 * Everything in one ring now. An admit's SNI elements were enqueued with
 * it: those a burst cut off are in the ring, dequeued right after.
 */
static void
drain_ring(struct ctl_flowlog *fl, struct rte_ring *ring)
{
	struct dp_flowlog_rec
		recs[FL_BURST + DP_FLOWLOG_SNI_MAX / sizeof(struct dp_flowlog_rec) + 1];
	unsigned int n, i;

	while ((n = rte_ring_sc_dequeue_burst_elem(ring, recs, sizeof(recs[0]), FL_BURST, NULL)) >
	       0) {
		for (i = 0; i < n; i++) {
			const struct dp_flowlog_rec *r = &recs[i];
			char sni[DP_FLOWLOG_SNI_MAX + 1];
			unsigned int extra = 0, len = 0;

			if (r->event == DP_FL_ADMIT && r->u.admit.sni_len > 0) {
				len = r->u.admit.sni_len;
				extra = dp_flowlog_sni_extra(len);
				if (i + 1 + extra > n &&
				    rte_ring_sc_dequeue_bulk_elem(ring, &recs[n], sizeof(recs[0]),
								  i + 1 + extra - n, NULL) == 0)
					extra = 0, len = 0; /* cannot happen: enqueued together */
				else if (i + 1 + extra > n)
					n = i + 1 + extra;
				memcpy(sni, r->u.admit.sni,
				       RTE_MIN(len, (unsigned int)DP_FLOWLOG_SNI_INLINE));
				if (len > DP_FLOWLOG_SNI_INLINE)
					memcpy(sni + DP_FLOWLOG_SNI_INLINE, &recs[i + 1],
					       len - DP_FLOWLOG_SNI_INLINE);
				sni[len] = '\0';
			}
			line(fl, r, len > 0 ? sni : NULL);
			i += extra;
		}
	}
}

/* One pass over every worker's ring, as a reader of the published policy. */
static void
drain(struct ctl_flowlog *fl)
{
	struct ctl *c = fl->c;
	unsigned int w;

	if (__atomic_exchange_n(&fl->reopen, 0, __ATOMIC_ACQ_REL)) {
		file_flush(fl);
		if (fl->fd >= 0)
			close(fl->fd);
		fl->fd = -1;
		fl->next_open_ms = 0;
	}
	file_open(fl);
	names_refresh(fl);
	for (w = 0; w < c->n_workers && w < DP_MAX_WORKERS; w++)
		if (c->conf->flowlog[w] != NULL)
			drain_ring(fl, c->conf->flowlog[w]);
	file_flush(fl);
}

/*
 * At shutdown, the workers and the writer thread stopped: an end line for
 * every flow still open (end_reason "shutdown", or fin / rst for one that
 * closed), its worker's ring drained whenever it fills. This thread is
 * the rings' only reader now.
 */
static void
close_flows(struct ctl_flowlog *fl)
{
	struct ctl *c = fl->c;
	uint64_t now = rte_get_tsc_cycles() / (rte_get_tsc_hz() / 1000);
	unsigned int w;

	for (w = 0; c->workers != NULL && w < c->n_workers && w < DP_MAX_WORKERS; w++) {
		uint32_t cursor = 0, last = UINT32_MAX;

		if (c->workers[w] == NULL)
			continue;
		while (!dp_flowlog_close(c->workers[w], now, &cursor)) {
			/* no flow done since the last drain: a ring this thread
			 * does not drain (never here), and no endless loop */
			if (cursor == last) {
				EGRESS_LOG(WARNING,
					   "flow log: worker %u's ring does not drain: "
					   "its open flows get no end line",
					   w);
				break;
			}
			last = cursor;
			drain(fl);
		}
	}
	drain(fl);
}

static void *
writer_main(void *arg)
{
	struct ctl_flowlog *fl = arg;
	struct timespec tick = { .tv_sec = 0, .tv_nsec = CTL_FLOWLOG_PERIOD_MS * 1000000L };

	while (!__atomic_load_n(&fl->stop, __ATOMIC_ACQUIRE)) {
		drain(fl);
		nanosleep(&tick, NULL);
	}
	drain(fl); /* the workers have stopped: what they left */
	return NULL;
}

void
ctl_flowlog_reopen(struct ctl_flowlog *fl)
{
	if (fl != NULL)
		__atomic_store_n(&fl->reopen, 1, __ATOMIC_RELEASE);
}

int
ctl_flowlog_start(struct ctl *c, const char *path, struct ctl_flowlog **out)
{
	struct ctl_flowlog *fl = calloc(1, sizeof(*fl));
	struct timespec ts;
	int rc;

	*out = NULL;
	if (fl == NULL)
		return -ENOMEM;
	fl->c = c;
	fl->fd = -1;
	fl->path = strdup(path);
	if (fl->path == NULL) {
		free(fl);
		return -ENOMEM;
	}
	/* the workers' clock is the TSC in ms (dp_worker_main()) */
	fl->tsc_per_ms = rte_get_tsc_hz() / 1000;
	clock_gettime(CLOCK_REALTIME, &ts);
	fl->wall_offset_ms = ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000) -
			     (int64_t)(rte_rdtsc() / fl->tsc_per_ms);
	file_open(fl);
	rc = pthread_create(&fl->thread, NULL, writer_main, fl);
	if (rc != 0) {
		if (fl->fd >= 0)
			close(fl->fd);
		free(fl->path);
		free(fl);
		return -rc;
	}
	pthread_setname_np(fl->thread, "egressd-flowlog");
	*out = fl;
	return 0;
}

void
ctl_flowlog_stop(struct ctl_flowlog *fl)
{
	if (fl == NULL)
		return;
	__atomic_store_n(&fl->stop, 1, __ATOMIC_RELEASE);
	pthread_join(fl->thread, NULL);
	close_flows(fl);
	if (fl->fd >= 0)
		close(fl->fd);
	names_clear(&fl->names[0]);
	names_clear(&fl->names[1]);
	free(fl->path);
	free(fl);
}
