/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What egressd's API server (api.c: the socket, the clients, the poll
 * loop) and its verbs (api_verbs.c: stats, rules, flows, nat, reload,
 * explain, takeover, drain) share: a client and its output buffer.
 * lib/ctl's own; doc/api.md has the protocol.
 */
#ifndef EGRESS_CTL_API_PRIVATE_H
#define EGRESS_CTL_API_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "api_proto.h"
#include "ctl.h"
#include "ctl_nat.h"

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

/* api.c: the ms clock of the loop */
uint64_t api_now_ms(void);
/* api.c: room left in the client's output buffer */
size_t api_out_room(const struct client *cl);
/* api.c: append a printf'd line (the caller ends it with \n);
 * @return -1 when it does not fit */
int api_emit(struct client *cl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* api.c: the final line; the connection closes once it is sent */
void api_finish(struct client *cl, const char *error);

/* api_verbs.c: the appliance the verbs answer for (before the loop runs) */
void api_verbs_init(struct ctl *c);
/* api_verbs.c: the client's request line is in: parse it, start its verb */
void api_handle_request(struct client *cl, uint64_t now);
/* api_verbs.c: a listing (rules, nat, flows) with room: its next chunk */
void api_stream_chunk(struct client *cl);
/* api_verbs.c: a reload the client waits for: answered once served */
void api_reload_poll(struct client *cl, uint64_t now);

#endif
