/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GET /metrics over HTTP, served by libmicrohttpd.
 *
 * Threading: one internal polling thread of libmicrohttpd's (epoll), not a
 * thread per connection. Every socket is non-blocking and the answer is
 * built in microseconds from counters (no lock, nothing that waits), so a
 * scraper that connects and says nothing, sends half a request or never
 * reads its answer holds a connection slot and nothing else: the thread goes
 * on serving the others. Silent connections are closed after
 * METRICS_TIMEOUT_S of inactivity, and at most METRICS_CONNECTIONS are open
 * at once, METRICS_PER_IP of them from one address, so that a flood of them costs bounded memory (a thread per
 * connection would cost a stack each, for the same guarantee). The thread
 * is created by the control thread and inherits its CPU affinity (the EAL
 * main lcore): it never runs on a worker's core. Workers and the control
 * loop never wait for it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "metrics.h"

#define METRICS_TIMEOUT_S   10 /* Prometheus' default scrape_timeout */
#define METRICS_CONNECTIONS 32
#define METRICS_PATH        "/metrics"
#define METRICS_TYPE        "text/plain; version=0.0.4; charset=utf-8"

/* per peer address: one peer that floods cannot take every slot from the
 * scrapers (a few Prometheus replicas need far fewer) */
#define METRICS_PER_IP 8

struct ctl_metrics_server {
	struct MHD_Daemon *d;
	const struct ctl *c;
};

/* A fixed short answer: 404, 405. */
static enum MHD_Result
reply_text(struct MHD_Connection *conn, unsigned int status, const char *text)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
       const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	const struct ctl_metrics_server *s = cls;
	struct ctl_metrics m;
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t len;
	char *buf;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;
	/* HEAD: the library sends the headers of the GET answer alone */
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return reply_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n");
	if (strcmp(url, METRICS_PATH) != 0)
		return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found: try " METRICS_PATH "\n");
	/* one read, formatted twice (measure, write): the text is consistent */
	ctl_metrics_read(s->c, &m);
	len = ctl_metrics_format(&m, NULL, 0);
	buf = malloc(len + 1);
	if (buf == NULL) {
		ctl_metrics_release(&m);
		return MHD_NO; /* the library closes the connection */
	}
	ctl_metrics_format(&m, buf, len + 1);
	ctl_metrics_release(&m);
	r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, METRICS_TYPE);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

int
ctl_metrics_start(struct ctl *c, const struct egress_listen *l, struct ctl_metrics_server **out)
{
	struct ctl_metrics_server *s = calloc(1, sizeof(*s));
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	const struct sockaddr *sa;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;

	if (s == NULL)
		return -ENOMEM;
	s->c = c;
	if (l->family == AF_INET6) {
		memcpy(&a6.sin6_addr, l->addr, sizeof(a6.sin6_addr));
		a6.sin6_port = htons(l->port);
		sa = (const struct sockaddr *)&a6;
		flags |= MHD_USE_IPv6;
	} else {
		memcpy(&a4.sin_addr, l->addr, sizeof(a4.sin_addr));
		a4.sin_port = htons(l->port);
		sa = (const struct sockaddr *)&a4;
	}
	errno = 0;
	s->d = MHD_start_daemon(flags, l->port, NULL, NULL, answer, s, MHD_OPTION_SOCK_ADDR, sa,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)METRICS_TIMEOUT_S,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)METRICS_CONNECTIONS,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)METRICS_PER_IP,
				MHD_OPTION_END);
	if (s->d == NULL) {
		int err = errno ? errno : EIO; /* bind()'s, when that failed */

		free(s);
		return -err;
	}
	*out = s;
	return 0;
}

void
ctl_metrics_stop(struct ctl_metrics_server *s)
{
	if (s == NULL)
		return;
	/* joins the thread: no answer() runs after this */
	MHD_stop_daemon(s->d);
	free(s);
}
