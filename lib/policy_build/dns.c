/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The DNS cache of the control thread (dns.h): one entry per name the
 * policy needs, looked up again when its TTL runs out.
 *
 * Who touches what:
 *   - the control thread owns the table (entries, hash chains, answers, the
 *     diagnostics) and is the only one to read or change it;
 *   - the resolver thread (dns_params.background) owns nothing: it pops a job
 *     (a copy of the name) from the request ring, runs the blocking lookups
 *     with a res_state of its own, writes the result into the job and pushes
 *     it onto the reply ring. The control thread applies replies in
 *     dns_refresh(). Each ring has one producer and one consumer, so two
 *     indexes with acquire/release ordering are all the synchronisation
 *     needed; a semaphore wakes the resolver thread when there is work.
 * The control thread never has more jobs out than a ring holds, so the
 * resolver thread never waits for room in the reply ring.
 *
 * Time is the caller's: an entry's expiry is computed from the now_ms of the
 * dns_refresh() (or dns_resolve_now()) that applies its answer, so tests
 * step through TTLs without waiting.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <resolv.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>

#include "dns.h"

#define RING_SIZE        256 /* jobs out at once; a power of two */
#define ERR_MAX          120
#define QUERY_BUF        8192 /* a UDP answer, or a TCP retry's */
#define ADDRS_SEEN       256  /* A records looked at per answer */
#define RETRY_MAX_FACTOR 12   /* a failing name waits up to 12 x retry_ms */

enum job_status {
	JOB_OK,   /* an answer: addresses (maybe none) */
	JOB_NONE, /* NXDOMAIN, or no A record */
	JOB_FAIL, /* no usable answer: resolver down or broken */
};

/* One lookup, from the control thread to the resolver thread and back. */
struct dns_job {
	uint64_t id; /* the entry it was started for */
	char name[NS_MAXDNAME];
	enum job_status status;
	uint32_t addrs[DNS_MAX_ADDRS];
	unsigned int n_addrs;
	unsigned int n_v6;
	uint32_t ttl_s;
	char error[ERR_MAX];
};

/* A single-producer single-consumer ring of job pointers. */
struct spsc {
	struct dns_job *slot[RING_SIZE];
	_Atomic uint32_t head; /* next slot the producer fills */
	_Atomic uint32_t tail; /* next slot the consumer empties */
};

struct dns_entry {
	char *name;
	uint64_t id;           /* unique per entry: a late reply for a name
				     dropped and added again is not applied */
	uint32_t next;         /* hash chain, UINT32_MAX ends it */
	uint32_t epoch;        /* the last build that wanted it */
	bool in_flight;        /* a job is out for it */
	unsigned int failures; /* in a row */
	struct dns_answer a;
	char error[ERR_MAX]; /* a.error points here */
};

struct dns_cache {
	struct dns_params prm;
	char *resolv_conf; /* owned copy of prm.resolv_conf */
	struct dns_entry *e;
	uint32_t n, cap;
	uint32_t *buckets;
	uint32_t n_buckets; /* a power of two, >= 2 x cap */
	uint64_t next_id;
	uint32_t epoch;
	uint32_t cursor; /* where the next refresh scan starts */
	uint64_t now;
	bool changed; /* an address set changed since dns_refresh() said */
	struct dns_stats st;
	struct diag_list diags;
	/* the resolver thread */
	bool threaded;
	pthread_t thread;
	sem_t work;
	atomic_bool stop;
	unsigned int in_flight;
	struct spsc req, resp;
};

/* ------------------------------------------------------------------ */
/* Rings                                                               */

static bool
spsc_push(struct spsc *r, struct dns_job *j)
{
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_acquire);

	if (h - t == RING_SIZE)
		return false;
	r->slot[h % RING_SIZE] = j;
	/* the slot is written before the consumer can see the new head */
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
	return true;
}

static struct dns_job *
spsc_pop(struct spsc *r)
{
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
	struct dns_job *j;

	if (t == h)
		return NULL;
	j = r->slot[t % RING_SIZE];
	atomic_store_explicit(&r->tail, t + 1, memory_order_release);
	return j;
}

/* ------------------------------------------------------------------ */
/* Lookups (either thread; no shared state)                            */

/*
 * A resolv.conf of our own (tests, or an appliance that must not use the
 * host's): IPv4 "nameserver" lines and "options timeout:N attempts:N".
 */
static int
read_resolv_conf(const char *path, struct sockaddr_in *ns, int *n_ns, int *timeout, int *attempts,
		 char *err, size_t sz)
{
	char line[512];
	FILE *f = fopen(path, "re");

	*n_ns = 0;
	if (f == NULL) {
		snprintf(err, sz, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save);

		if (tok == NULL || tok[0] == '#' || tok[0] == ';')
			continue;
		if (strcmp(tok, "nameserver") == 0) {
			struct in_addr in;

			tok = strtok_r(NULL, " \t\r\n", &save);
			if (tok == NULL || inet_pton(AF_INET, tok, &in) != 1 || *n_ns >= MAXNS)
				continue;
			memset(&ns[*n_ns], 0, sizeof(ns[*n_ns]));
			ns[*n_ns].sin_family = AF_INET;
			ns[*n_ns].sin_port = htons(NAMESERVER_PORT);
			ns[*n_ns].sin_addr = in;
			(*n_ns)++;
		} else if (strcmp(tok, "options") == 0) {
			while ((tok = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
				if (strncmp(tok, "timeout:", 8) == 0)
					*timeout = atoi(tok + 8);
				else if (strncmp(tok, "attempts:", 9) == 0)
					*attempts = atoi(tok + 9);
			}
		}
	}
	fclose(f);
	if (*n_ns == 0) {
		snprintf(err, sz, "no IPv4 nameserver in %s", path);
		return -1;
	}
	return 0;
}

/*
 * A resolver state for one round of lookups. res_ninit() reads the system's
 * resolv.conf every time, so an edit of it takes effect at the next round.
 */
static int
resolver_open(const struct dns_params *prm, res_state rs, char *err, size_t sz)
{
	struct sockaddr_in ns[MAXNS];
	int n_ns = 0, timeout = 0, attempts = 0, i;

	memset(rs, 0, sizeof(*rs));
	if (prm->resolv_conf != NULL &&
	    read_resolv_conf(prm->resolv_conf, ns, &n_ns, &timeout, &attempts, err, sz) < 0)
		return -1;
	if (res_ninit(rs) != 0) {
		snprintf(err, sz, "res_ninit failed");
		return -1;
	}
	if (prm->resolv_conf != NULL) {
		rs->nscount = n_ns;
		for (i = 0; i < n_ns; i++)
			rs->nsaddr_list[i] = ns[i];
		if (timeout > 0)
			rs->retrans = timeout;
		if (attempts > 0)
			rs->retry = attempts;
	}
	for (i = 0; prm->port != 0 && i < rs->nscount; i++)
		if (rs->nsaddr_list[i].sin_family == AF_INET)
			rs->nsaddr_list[i].sin_port = htons(prm->port);
	/* a name of a ServiceEntry is absolute: no search list */
	rs->options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
	return 0;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = ntohl(*(const uint32_t *)a), y = ntohl(*(const uint32_t *)b);

	return x < y ? -1 : x > y;
}

/* One query; A records go to j->addrs, AAAA records are counted. */
static enum job_status
query(res_state rs, const char *name, int type, struct dns_job *j)
{
	unsigned char buf[QUERY_BUF];
	unsigned int n_seen = 0;
	ns_msg msg;
	ns_rr rr;
	int len, i, count;

	len = res_nquery(rs, name, ns_c_in, type, buf, sizeof(buf));
	if (len < 0) {
		switch (rs->res_h_errno) {
		case HOST_NOT_FOUND:
			snprintf(j->error, sizeof(j->error), "NXDOMAIN");
			return JOB_NONE;
		case NO_DATA:
			return JOB_NONE;
		case TRY_AGAIN:
			snprintf(j->error, sizeof(j->error),
				 "no answer from the resolver "
				 "(timeout, refused or SERVFAIL)");
			return JOB_FAIL;
		default:
			snprintf(j->error, sizeof(j->error), "resolver error: %s",
				 hstrerror(rs->res_h_errno));
			return JOB_FAIL;
		}
	}
	if (ns_initparse(buf, len, &msg) < 0) {
		snprintf(j->error, sizeof(j->error), "malformed answer");
		return JOB_FAIL;
	}
	count = ns_msg_count(msg, ns_s_an);
	{
		uint32_t found[ADDRS_SEEN];

		for (i = 0; i < count; i++) {
			uint32_t ttl;

			if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
				snprintf(j->error, sizeof(j->error), "malformed answer");
				return JOB_FAIL;
			}
			if (ns_rr_class(rr) != ns_c_in)
				continue;
			ttl = ns_rr_ttl(rr);
			/* a CNAME on the way counts: the chain lives as long as its
			 * shortest link */
			if (type == ns_t_a &&
			    (ns_rr_type(rr) == ns_t_cname || ns_rr_type(rr) == ns_t_a))
				j->ttl_s = ttl < j->ttl_s ? ttl : j->ttl_s;
			if (type == ns_t_a && ns_rr_type(rr) == ns_t_a && ns_rr_rdlen(rr) == 4 &&
			    n_seen < ADDRS_SEEN)
				memcpy(&found[n_seen++], ns_rr_rdata(rr), 4);
			else if (type == ns_t_aaaa && ns_rr_type(rr) == ns_t_aaaa)
				j->n_v6++;
		}
		if (type == ns_t_a) {
			unsigned int k;

			/* sorted and deduplicated: an answer in another order is the
			 * same answer, and the first address is always the same one */
			qsort(found, n_seen, sizeof(found[0]), cmp_u32);
			for (k = 0; k < n_seen && j->n_addrs < DNS_MAX_ADDRS; k++)
				if (j->n_addrs == 0 || j->addrs[j->n_addrs - 1] != found[k])
					j->addrs[j->n_addrs++] = found[k];
		}
	}
	return JOB_OK;
}

/* Look a name up (A, then AAAA to count them): the whole job, blocking. */
static void
resolve(const struct dns_params *prm, struct dns_job *j)
{
	struct __res_state rs;
	enum job_status st;

	j->n_addrs = 0;
	j->n_v6 = 0;
	j->ttl_s = UINT32_MAX;
	j->error[0] = '\0';
	if (resolver_open(prm, &rs, j->error, sizeof(j->error)) < 0) {
		j->status = JOB_FAIL;
		return;
	}
	st = query(&rs, j->name, ns_t_a, j);
	if (st != JOB_FAIL) {
		char keep[ERR_MAX];

		/* no AAAA is the normal case: its failure changes nothing */
		snprintf(keep, sizeof(keep), "%s", j->error);
		(void)query(&rs, j->name, ns_t_aaaa, j);
		snprintf(j->error, sizeof(j->error), "%s", keep);
		if (st == JOB_OK && j->n_addrs == 0)
			st = JOB_NONE;
	}
	j->status = st;
	res_nclose(&rs);
}

static void *
resolver_main(void *arg)
{
	struct dns_cache *c = arg;
	struct dns_job *j;

	for (;;) {
		while (sem_wait(&c->work) != 0 && errno == EINTR)
			;
		if (atomic_load(&c->stop))
			break;
		/* stop between lookups: dns_cache_free() frees what is left */
		while (!atomic_load(&c->stop) && (j = spsc_pop(&c->req)) != NULL) {
			resolve(&c->prm, j);
			/* cannot fail: no more jobs are out than the ring holds */
			spsc_push(&c->resp, j);
		}
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The table (control thread)                                          */

static uint32_t
name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static struct dns_entry *
find(const struct dns_cache *c, const char *name)
{
	uint32_t i;

	if (c->n_buckets == 0)
		return NULL;
	for (i = c->buckets[name_hash(name) & (c->n_buckets - 1)]; i != UINT32_MAX;
	     i = c->e[i].next)
		if (strcmp(c->e[i].name, name) == 0)
			return &c->e[i];
	return NULL;
}

static int
rehash(struct dns_cache *c, uint32_t n_buckets)
{
	uint32_t *b = malloc((size_t)n_buckets * sizeof(*b)), i;

	if (b == NULL)
		return -ENOMEM;
	free(c->buckets);
	c->buckets = b;
	c->n_buckets = n_buckets;
	for (i = 0; i < n_buckets; i++)
		b[i] = UINT32_MAX;
	for (i = 0; i < c->n; i++) {
		uint32_t h = name_hash(c->e[i].name) & (n_buckets - 1);

		c->e[i].next = b[h];
		b[h] = i;
	}
	return 0;
}

static const char *
conf_name(const struct dns_cache *c)
{
	return c->resolv_conf != NULL ? c->resolv_conf : "/etc/resolv.conf";
}

/* Apply a finished lookup; report what the operator must know. */
static void
apply(struct dns_cache *c, struct dns_entry *e, const struct dns_job *j, bool report_change)
{
	struct dns_answer *a = &e->a;
	uint64_t ttl;

	if (j->status == JOB_FAIL) {
		c->st.failures++;
		e->failures++;
		snprintf(e->error, sizeof(e->error), "%s", j->error);
		a->error = e->error;
		if (e->failures == 1)
			diag_add(&c->diags, DIAG_WARNING, conf_name(c), 0, 0, "DNS: %s: %s; %s",
				 e->name, j->error,
				 a->answered_ms != 0 ? "its last good addresses are kept" :
						       "it has no address yet");
		a->state = a->answered_ms != 0 ? DNS_STALE : DNS_FAILED;
		a->expires_ms =
			c->now +
			(uint64_t)c->prm.retry_ms *
				(e->failures < RETRY_MAX_FACTOR ? e->failures : RETRY_MAX_FACTOR);
		return;
	}
	c->st.answers++;
	if (e->failures > 0 && a->answered_ms != 0)
		diag_add(&c->diags, DIAG_WARNING, conf_name(c), 0, 0,
			 "DNS: %s: the resolver answers again after %u failure%s", e->name,
			 e->failures, e->failures == 1 ? "" : "s");
	if (j->n_addrs == 0 && a->n_addrs > 0)
		diag_add(&c->diags, DIAG_WARNING, conf_name(c), 0, 0,
			 "DNS: %s no longer has an IPv4 address (%s)", e->name,
			 j->error[0] != '\0' ? j->error : "no A record");
	if (j->n_addrs != a->n_addrs ||
	    memcmp(j->addrs, a->addrs, j->n_addrs * sizeof(j->addrs[0])) != 0) {
		c->st.changes++;
		if (report_change)
			c->changed = true;
	}
	memcpy(a->addrs, j->addrs, sizeof(a->addrs));
	a->n_addrs = j->n_addrs;
	a->n_v6 = j->n_v6;
	a->state = j->n_addrs > 0 ? DNS_OK : DNS_NONE;
	a->answered_ms = c->now != 0 ? c->now : 1;
	a->error = NULL;
	e->failures = 0;
	if (j->status == JOB_NONE || j->n_addrs == 0)
		ttl = c->prm.negative_ttl_ms;
	else
		ttl = (uint64_t)j->ttl_s * 1000;
	if (ttl < c->prm.min_ttl_ms)
		ttl = c->prm.min_ttl_ms;
	if (ttl > c->prm.max_ttl_ms)
		ttl = c->prm.max_ttl_ms;
	a->expires_ms = c->now + ttl;
}

static void
lookup_inline(struct dns_cache *c, struct dns_entry *e, bool report_change)
{
	struct dns_job j;

	memset(&j, 0, sizeof(j));
	snprintf(j.name, sizeof(j.name), "%s", e->name);
	c->st.lookups++;
	resolve(&c->prm, &j);
	apply(c, e, &j, report_change);
}

/* Hand a lookup to the resolver thread. @return false when it cannot take more. */
static bool
lookup_start(struct dns_cache *c, struct dns_entry *e)
{
	struct dns_job *j;

	if (c->in_flight >= RING_SIZE)
		return false;
	j = calloc(1, sizeof(*j));
	if (j == NULL)
		return false;
	j->id = e->id;
	snprintf(j->name, sizeof(j->name), "%s", e->name);
	if (!spsc_push(&c->req, j)) {
		free(j);
		return false;
	}
	c->in_flight++;
	c->st.lookups++;
	e->in_flight = true;
	sem_post(&c->work);
	return true;
}

/* ------------------------------------------------------------------ */
/* API                                                                 */

struct dns_cache *
dns_cache_create(const struct dns_params *prm)
{
	struct dns_cache *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}
	if (prm != NULL)
		c->prm = *prm;
	if (c->prm.min_ttl_ms == 0)
		c->prm.min_ttl_ms = 1000;
	if (c->prm.max_ttl_ms == 0)
		c->prm.max_ttl_ms = 3600 * 1000;
	if (c->prm.retry_ms == 0)
		c->prm.retry_ms = 5000;
	if (c->prm.negative_ttl_ms == 0)
		c->prm.negative_ttl_ms = 30000;
	if (c->prm.max_per_refresh == 0)
		c->prm.max_per_refresh = 64;
	if (c->prm.min_ttl_ms > c->prm.max_ttl_ms) {
		free(c);
		rte_errno = EINVAL;
		return NULL;
	}
	if (c->prm.resolv_conf != NULL) {
		c->resolv_conf = strdup(c->prm.resolv_conf);
		if (c->resolv_conf == NULL)
			goto nomem;
		c->prm.resolv_conf = c->resolv_conf;
	}
	if (rehash(c, 64) < 0)
		goto nomem;
	if (c->prm.background) {
		if (sem_init(&c->work, 0, 0) != 0) {
			rc = errno;
			goto fail;
		}
		atomic_init(&c->stop, false);
		rc = pthread_create(&c->thread, NULL, resolver_main, c);
		if (rc != 0) {
			sem_destroy(&c->work);
			goto fail;
		}
		c->threaded = true;
	}
	return c;
nomem:
	rc = ENOMEM;
fail:
	free(c->buckets);
	free(c->resolv_conf);
	free(c);
	rte_errno = rc;
	return NULL;
}

void
dns_cache_free(struct dns_cache *c)
{
	struct dns_job *j;
	uint32_t i;

	if (c == NULL)
		return;
	if (c->threaded) {
		/* waits for a lookup under way: at most the resolver's timeout */
		atomic_store(&c->stop, true);
		sem_post(&c->work);
		pthread_join(c->thread, NULL);
		sem_destroy(&c->work);
		while ((j = spsc_pop(&c->req)) != NULL)
			free(j);
		while ((j = spsc_pop(&c->resp)) != NULL)
			free(j);
	}
	for (i = 0; i < c->n; i++)
		free(c->e[i].name);
	free(c->e);
	free(c->buckets);
	free(c->resolv_conf);
	diag_list_clear(&c->diags);
	free(c);
}

int
dns_want(struct dns_cache *c, const char *name)
{
	struct dns_entry *e;
	size_t len = name != NULL ? strlen(name) : 0;

	if (len == 0 || len >= NS_MAXDNAME)
		return -EINVAL;
	e = find(c, name);
	if (e != NULL) {
		e->epoch = c->epoch;
		return 0;
	}
	if (c->n == c->cap) {
		uint32_t ncap = c->cap ? c->cap * 2 : 16, i;
		struct dns_entry *v = realloc(c->e, (size_t)ncap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		c->e = v;
		c->cap = ncap;
		/* the entries moved: so did the error texts their answers point at */
		for (i = 0; i < c->n; i++)
			if (v[i].a.error != NULL)
				v[i].a.error = v[i].error;
	}
	e = &c->e[c->n];
	memset(e, 0, sizeof(*e));
	e->name = strdup(name);
	if (e->name == NULL)
		return -ENOMEM;
	e->id = ++c->next_id;
	e->epoch = c->epoch;
	e->a.state = DNS_PENDING;
	c->n++;
	/* the table moved or grew: chains are rebuilt (amortised by doubling) */
	return rehash(c, c->n_buckets < 2 * c->cap ? 2 * c->cap : c->n_buckets);
}

void
dns_mark_begin(struct dns_cache *c)
{
	c->epoch++;
}

void
dns_sweep(struct dns_cache *c)
{
	uint32_t i, n = 0;

	for (i = 0; i < c->n; i++) {
		if (c->e[i].epoch != c->epoch) {
			/* a reply still out for it finds no entry and is dropped */
			free(c->e[i].name);
			continue;
		}
		c->e[n] = c->e[i];
		c->e[n].a.error = c->e[n].a.error != NULL ? c->e[n].error : NULL;
		n++;
	}
	c->n = n;
	c->cursor = 0;
	rehash(c, c->n_buckets);
}

const struct dns_answer *
dns_get(const struct dns_cache *c, const char *name)
{
	const struct dns_entry *e = find(c, name);

	return e != NULL ? &e->a : NULL;
}

unsigned int
dns_resolve_now(struct dns_cache *c, uint64_t now_ms)
{
	const char *down = NULL;
	unsigned int done = 0;
	uint32_t i;

	c->now = now_ms;
	for (i = 0; i < c->n; i++) {
		struct dns_entry *e = &c->e[i];

		if (e->a.state != DNS_PENDING)
			continue;
		if (down != NULL) {
			/* one timeout for all: the resolver did not answer the last one */
			struct dns_job j = { .status = JOB_FAIL };

			snprintf(j.error, sizeof(j.error), "%s", down);
			apply(c, e, &j, false);
			continue;
		}
		lookup_inline(c, e, false);
		done++;
		if (e->a.state == DNS_FAILED)
			down = e->error;
	}
	return done;
}

int
dns_refresh(struct dns_cache *c, uint64_t now_ms, bool *changed)
{
	unsigned int started = 0;
	uint32_t scanned;
	struct dns_job *j;

	c->now = now_ms;
	while (c->threaded && (j = spsc_pop(&c->resp)) != NULL) {
		struct dns_entry *e = find(c, j->name);

		c->in_flight--;
		if (e != NULL && e->id == j->id) {
			e->in_flight = false;
			apply(c, e, j, true);
		}
		free(j);
	}
	for (scanned = 0; scanned < c->n && started < c->prm.max_per_refresh; scanned++) {
		struct dns_entry *e = &c->e[c->cursor++ % c->n];

		if (e->in_flight || (e->a.state != DNS_PENDING && e->a.expires_ms > now_ms))
			continue;
		if (c->threaded) {
			if (!lookup_start(c, e))
				break;
		} else {
			lookup_inline(c, e, true);
		}
		started++;
	}
	if (changed != NULL)
		*changed = c->changed;
	c->changed = false;
	return 0;
}

bool
dns_changed(const struct dns_cache *c)
{
	return c->changed;
}

size_t
dns_drain_diags(struct dns_cache *c, struct diag_list *dl)
{
	size_t n = c->diags.n;

	diag_move(dl, &c->diags);
	return n;
}

void
dns_stats_get(const struct dns_cache *c, struct dns_stats *st)
{
	uint32_t i;

	*st = c->st;
	st->names = c->n;
	st->stale = 0;
	for (i = 0; i < c->n; i++)
		st->stale += c->e[i].a.state == DNS_STALE;
}

const char *
dns_state_name(enum dns_state s)
{
	static const char *const names[] = {
		[DNS_PENDING] = "PENDING", [DNS_OK] = "OK",         [DNS_NONE] = "NONE",
		[DNS_STALE] = "STALE",     [DNS_FAILED] = "FAILED",
	};

	return (unsigned int)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}
