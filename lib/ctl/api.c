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

#include "api_private.h"
#include "ctl_private.h"
#include "log.h"

EGRESS_LOG_TYPE(api);

static struct {
	int lfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	pthread_t tid;
	bool running;
	uint32_t stop; /* atomic */
	struct client cl[API_CLIENTS_MAX];
} api = { .lfd = -1 };

uint64_t
api_now_ms(void)
{
	return rte_get_timer_cycles() / (rte_get_timer_hz() / 1000);
}

/* ---------------------------------------------------------- output */

size_t
api_out_room(const struct client *cl)
{
	return API_OUT_SIZE - (cl->out_len - cl->out_head);
}

int
api_emit(struct client *cl, const char *fmt, ...)
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

void
api_finish(struct client *cl, const char *error)
{
	char q[API_LINE_MAX / 2];

	if (error == NULL) {
		api_emit(cl, "{\"status\":\"ok\",\"count\":%" PRIu64 "}\n", cl->count);
	} else {
		api_quote(q, sizeof(q), error);
		api_emit(cl, "{\"status\":\"error\",\"error\":%s}\n", q);
	}
	cl->st = C_DRAIN;
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
		api_handle_request(cl, now);
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
		api_handle_request(cl, now);
	} else if (cl->in_len == sizeof(cl->in)) {
		api_finish(cl, "request line longer than 4096 bytes");
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
		api_finish(cl, "request not complete within 2 s");
	if (cl->st == C_STREAM && api_out_room(cl) >= API_OUT_SIZE / 2)
		api_stream_chunk(cl);
	if (cl->st == C_RELOAD)
		api_reload_poll(cl, now);
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
			busy |= cl->st == C_STREAM && api_out_room(cl) >= API_OUT_SIZE / 2;
			who[n++] = cl;
		}
		if (poll(pfd, n, busy ? 0 : API_TICK_MS) < 0 && errno != EINTR)
			break;
		now = api_now_ms();
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
	api_verbs_init(c);
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
