/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The session-sync thread (sync.h): drain, batch, send; receive, hold;
 * detect the peer's death, take over.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>
#include <rte_ring.h>

#include "ctl_private.h"
#include "log.h"
#include "sync.h"

EGRESS_LOG_TYPE(ctl);

#define SY_GARP_TIMES    3    /* gratuitous ARPs per peer address at a takeover */
#define SY_GARP_EVERY_MS 1000 /* apart */
#define SY_RX_BURST      64   /* datagrams read per tick at most */

/* ------------------------------------------------------------ wire */

size_t
ctl_sync_encode(void *buf, size_t size, uint32_t seq, uint32_t sender,
		const struct dp_sync_rec *recs, unsigned int n)
{
	struct ctl_sync_hdr h = {
		.magic = htonl(CTL_SYNC_MAGIC),
		.version = CTL_SYNC_VERSION,
		.count = htons((uint16_t)n),
		.seq = htonl(seq),
		.sender = htonl(sender),
	};
	size_t len = sizeof(h) + (size_t)n * sizeof(*recs);

	if (n > CTL_SYNC_BATCH || len > size)
		return 0;
	memcpy(buf, &h, sizeof(h));
	if (n > 0)
		memcpy((uint8_t *)buf + sizeof(h), recs, (size_t)n * sizeof(*recs));
	return len;
}

int
ctl_sync_decode(const void *buf, size_t len, struct ctl_sync_hdr *h, struct dp_sync_rec *recs,
		unsigned int *bad)
{
	unsigned int i, n = 0, count;

	if (len < sizeof(*h))
		return -EINVAL;
	memcpy(h, buf, sizeof(*h));
	h->magic = ntohl(h->magic);
	h->count = ntohs(h->count);
	h->seq = ntohl(h->seq);
	h->sender = ntohl(h->sender);
	count = h->count;
	if (h->magic != CTL_SYNC_MAGIC || h->version != CTL_SYNC_VERSION || h->flags != 0 ||
	    count > CTL_SYNC_BATCH || len != sizeof(*h) + (size_t)count * sizeof(*recs))
		return -EINVAL;
	for (i = 0; i < count; i++) {
		struct dp_sync_rec r;

		/* the payload is not aligned for the struct: copy each out */
		memcpy(&r, (const uint8_t *)buf + sizeof(*h) + (size_t)i * sizeof(r), sizeof(r));
		if (dp_sync_rec_valid(&r))
			recs[n++] = r;
		else
			(*bad)++;
	}
	return (int)n;
}

/* ------------------------------------------------------------ thread */

struct ctl_sync {
	struct ctl *c;
	int fd;
	struct sockaddr_in peer;
	uint32_t sender; /* ours */
	uint32_t seq;
	uint64_t last_tx_ms;
	uint64_t last_rx_ms; /* 0: never heard of the peer */
	uint64_t dead_after_ms;
	bool takeover_auto;
	uint32_t max_flows;
	struct rte_hash *held; /* client 5-tuple -> position in rec[] */
	struct dp_sync_rec *rec;
	/* the takeover: held flows queued so far (rte_hash_iterate()'s cursor) */
	bool taken;
	uint32_t iter;
	bool iter_done;
	unsigned int garps;
	uint64_t garp_ms;
	pthread_t thread;
	uint32_t stop;         /* atomic */
	uint32_t takeover_req; /* atomic: ctl_sync_takeover() */
	unsigned int n_out;
	struct dp_sync_rec out[CTL_SYNC_BATCH];
};

static struct ctl_sync *sy_running;    /* atomic: the one sync thread, NULL: off */
static struct ctl_sync_stats sy_stats; /* each word atomic */

#define STAT_ADD(f, n) __atomic_fetch_add(&sy_stats.f, (uint64_t)(n), __ATOMIC_RELAXED)
#define STAT_SET(f, v) __atomic_store_n(&sy_stats.f, (uint64_t)(v), __ATOMIC_RELAXED)

void
ctl_sync_stats_get(struct ctl_sync_stats *st)
{
	uint64_t *dst = (uint64_t *)st;
	const uint64_t *src = (const uint64_t *)&sy_stats;
	size_t i;

	for (i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
flush(struct ctl_sync *s, uint64_t now)
{
	uint8_t buf[CTL_SYNC_DGRAM_MAX];
	size_t len = ctl_sync_encode(buf, sizeof(buf), s->seq++, s->sender, s->out, s->n_out);

	if (sendto(s->fd, buf, len, 0, (const struct sockaddr *)&s->peer, sizeof(s->peer)) < 0)
		STAT_ADD(send_errors, 1); /* the peer's socket is not there (yet): lost */
	else
		STAT_ADD(records_sent, s->n_out);
	s->n_out = 0;
	s->last_tx_ms = now;
}

/* Every worker's ring, into datagrams of CTL_SYNC_BATCH records. */
static void
drain(struct ctl_sync *s, uint64_t now)
{
	const struct dp_conf *conf = s->c->conf;
	unsigned int w, n;

	for (w = 0; w < s->c->n_workers && w < DP_MAX_WORKERS; w++) {
		if (conf->sync[w] == NULL)
			continue;
		while ((n = rte_ring_sc_dequeue_burst_elem(conf->sync[w], &s->out[s->n_out],
							   sizeof(s->out[0]),
							   CTL_SYNC_BATCH - s->n_out, NULL)) > 0) {
			s->n_out += n;
			if (s->n_out == CTL_SYNC_BATCH)
				flush(s, now);
		}
	}
	if (s->n_out > 0 || now - s->last_tx_ms >= CTL_SYNC_HEARTBEAT_MS)
		flush(s, now);
}

/* One of the peer's records into the held flows. */
static void
hold(struct ctl_sync *s, const struct dp_sync_rec *r)
{
	struct flow_key k, in;
	int32_t pos;

	dp_sync_rec_keys(r, &k, &in);
	if (r->type == DP_SYNC_DELETE) {
		if (rte_hash_del_key(s->held, &k) >= 0)
			STAT_SET(peer_flows, rte_hash_count(s->held));
		return;
	}
	pos = rte_hash_lookup(s->held, &k);
	if (pos < 0) {
		if ((uint32_t)rte_hash_count(s->held) >= s->max_flows ||
		    (pos = rte_hash_add_key(s->held, &k)) < 0) {
			STAT_ADD(peer_flows_dropped, 1);
			return;
		}
		STAT_SET(peer_flows, rte_hash_count(s->held));
	}
	s->rec[pos] = *r;
}

static void
receive(struct ctl_sync *s, uint64_t now)
{
	uint8_t buf[CTL_SYNC_DGRAM_MAX + 1];
	struct dp_sync_rec recs[CTL_SYNC_BATCH];
	struct ctl_sync_hdr h;
	unsigned int i, d, bad;
	ssize_t len;
	int n;

	for (d = 0; d < SY_RX_BURST; d++) {
		len = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (len < 0)
			return;
		bad = 0;
		n = ctl_sync_decode(buf, (size_t)len, &h, recs, &bad);
		if (n < 0) {
			STAT_ADD(records_malformed, 1);
			continue;
		}
		STAT_ADD(records_malformed, bad);
		STAT_ADD(records_received, n);
		if (s->last_rx_ms == 0)
			EGRESS_LOG(INFO, "session sync: peer heard");
		s->last_rx_ms = now;
		for (i = 0; i < (unsigned int)n; i++)
			hold(s, &recs[i]);
	}
}

/*
 * A gratuitous ARP for addr out of the outside port, through worker 0: a
 * request for the address itself (RFC 5227 section 3), so that every host
 * that has it in its cache points it at our MAC.
 */
static void
garp(struct ctl_sync *s, uint32_t addr)
{
	struct rte_ring *tx = s->c->conf->tx[DP_OUTSIDE];
	struct rte_mbuf *m;

	if (tx == NULL)
		return;
	m = ctl_arp_request(s->c, DP_OUTSIDE, NULL, addr, addr);
	if (m != NULL && rte_ring_mp_enqueue(tx, m) != 0)
		rte_pktmbuf_free(m);
}

/* The takeover, a tick at a time: held flows to their workers, then ARP. */
static void
takeover_step(struct ctl_sync *s, uint64_t now)
{
	struct dp_conf *conf = s->c->conf;
	const void *key;
	void *data;
	int32_t pos;
	unsigned int i;

	if (!s->taken) {
		s->taken = true;
		/* the addresses first: a reply that arrives before its flow is
		 * installed is dropped as no_flow either way */
		__atomic_store_n(&conf->sync_takeover, 1, __ATOMIC_RELEASE);
		STAT_SET(takeover, 1);
		EGRESS_LOG(WARNING,
			   "session sync: taking over the peer's %u NAT address(es) and %u flow(s)",
			   conf->n_sync_peer_addrs, rte_hash_count(s->held));
	}
	while (!s->iter_done) {
		uint32_t at = s->iter;
		struct dp_sync_rec *r;

		pos = rte_hash_iterate(s->held, &key, &data, &s->iter);
		if (pos < 0) {
			s->iter_done = true;
			break;
		}
		r = &s->rec[pos];
		if (r->state == FLOW_S_NONE || r->state == FLOW_S_SYN_SENT ||
		    r->state == FLOW_S_SYN_RCVD || r->state == FLOW_S_SYN_SENT2 ||
		    r->state == FLOW_S_SYN_RCVD2) {
			STAT_ADD(flows_skipped, 1);
			continue;
		}
		if (rte_ring_sp_enqueue_elem(conf->sync_in[dp_sync_worker(conf, r)], r,
					     sizeof(*r)) != 0) {
			s->iter = at; /* the worker's ring is full: this one again next tick */
			break;
		}
		STAT_ADD(flows_queued, 1);
	}
	if (s->garps < SY_GARP_TIMES && (s->garps == 0 || now - s->garp_ms >= SY_GARP_EVERY_MS)) {
		for (i = 0; i < conf->n_sync_peer_addrs; i++)
			garp(s, conf->sync_peer_addrs[i]);
		s->garps++;
		s->garp_ms = now;
	}
}

static void *
sync_main(void *arg)
{
	struct ctl_sync *s = arg;
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };

	while (!__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE)) {
		uint64_t now = mono_ms();
		bool alive;

		drain(s, now);
		receive(s, now);
		alive = s->last_rx_ms != 0 && now - s->last_rx_ms < s->dead_after_ms;
		STAT_SET(peer_alive, alive);
		/* auto: only a peer once heard can be declared dead */
		if (s->taken || (s->takeover_auto && s->last_rx_ms != 0 && !alive) ||
		    __atomic_load_n(&s->takeover_req, __ATOMIC_ACQUIRE))
			takeover_step(s, now);
		(void)poll(&pfd, 1, CTL_SYNC_TICK_MS);
	}
	drain(s, mono_ms()); /* the workers have stopped: what they left */
	return NULL;
}

static void
sync_free(struct ctl_sync *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	rte_hash_free(s->held);
	rte_free(s->rec);
	free(s);
}

int
ctl_sync_start(struct ctl *c)
{
	const struct egress_sync_cfg *cfg = &c->cfg->sync;
	struct rte_hash_parameters hp = {
		.name = "egress_sync_held",
		.key_len = sizeof(struct flow_key),
		.hash_func = rte_jhash,
		.socket_id = SOCKET_ID_ANY,
	};
	struct sockaddr_in me = { .sin_family = AF_INET };
	struct ctl_sync *s;
	int rc;

	if (!cfg->on)
		return 0;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->c = c;
	s->sender = (uint32_t)rte_rand();
	s->dead_after_ms = cfg->dead_after_ms;
	s->takeover_auto = cfg->takeover_auto;
	s->max_flows = cfg->max_flows;
	/* rte_hash wants room for a full bucket past the cap it is asked for */
	hp.entries = RTE_MAX(cfg->max_flows + cfg->max_flows / 8, 64u);
	s->held = rte_hash_create(&hp);
	s->rec = rte_zmalloc("egress_sync_rec", sizeof(*s->rec) * hp.entries, 0);
	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s->held == NULL || s->rec == NULL || s->fd < 0) {
		rc = s->fd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	me.sin_addr.s_addr = cfg->listen_addr;
	me.sin_port = htons(cfg->listen_port);
	if (bind(s->fd, (const struct sockaddr *)&me, sizeof(me)) < 0) {
		rc = -errno;
		EGRESS_LOG(ERR, "sync.listen: cannot bind: %s", strerror(errno));
		goto fail;
	}
	s->peer = (struct sockaddr_in){ .sin_family = AF_INET,
					.sin_addr.s_addr = cfg->peer_addr,
					.sin_port = htons(cfg->peer_port) };
	memset(&sy_stats, 0, sizeof(sy_stats));
	rc = pthread_create(&s->thread, NULL, sync_main, s);
	if (rc != 0) {
		rc = -rc;
		goto fail;
	}
	pthread_setname_np(s->thread, "egressd-sync");
	__atomic_store_n(&sy_running, s, __ATOMIC_RELEASE);
	{
		char me_s[INET_ADDRSTRLEN], peer_s[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &cfg->listen_addr, me_s, sizeof(me_s));
		inet_ntop(AF_INET, &cfg->peer_addr, peer_s, sizeof(peer_s));
		EGRESS_LOG(INFO,
			   "session sync: listening on %s:%u, peer %s:%u, %u peer address(es), "
			   "takeover %s after %" PRIu64 " ms",
			   me_s, cfg->listen_port, peer_s, cfg->peer_port, cfg->n_peer_nat_addrs,
			   cfg->takeover_auto ? "auto" : "manual", cfg->dead_after_ms);
	}
	return 0;
fail:
	sync_free(s);
	return rc;
}

void
ctl_sync_stop(void)
{
	struct ctl_sync *s = __atomic_exchange_n(&sy_running, NULL, __ATOMIC_ACQ_REL);

	if (s == NULL)
		return;
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	pthread_join(s->thread, NULL);
	sync_free(s);
}

int
ctl_sync_takeover(void)
{
	struct ctl_sync *s = __atomic_load_n(&sy_running, __ATOMIC_ACQUIRE);

	if (s == NULL)
		return -ENOTCONN;
	__atomic_store_n(&s->takeover_req, 1, __ATOMIC_RELEASE);
	return 0;
}
