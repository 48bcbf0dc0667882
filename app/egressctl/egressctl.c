/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * egressctl: egressd's operator client, over its API socket (doc/api.md).
 * Human tables by default, one JSON document with --json. Rows are printed
 * as they arrive: a listing of a million flows is never held in memory.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "api_proto.h"

#define DEFAULT_SOCKET "/run/egressd/egressd.sock"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: egressctl [-s SOCKET] [--json] VERB [ARGS]\n"
		"\n"
		"Ask a running egressd over its API socket (doc/api.md).\n"
		"\n"
		"Options:\n"
		"  -s, --socket SOCKET  egressd's api.socket (default " DEFAULT_SOCKET ")\n"
		"  -j, --json           print one JSON document instead of a table\n"
		"  -h, --help           this text\n"
		"\n"
		"Verbs:\n"
		"  stats                counters: policy, reloads, flows, drops by reason, ports\n"
		"  rules                the compiled allowlist of the running policy, with flows\n"
		"                       admitted per rule\n"
		"  flows [--src IP] [--dst IP] [--port N] [--rule NAME] [--limit N]\n"
		"                       active flows (--dst and --port: as the client asked;\n"
		"                       --rule: ServiceEntry/NS/NAME or NS/NAME)\n"
		"  nat                  NAT ports in use per NAT address, its fullest destination\n"
		"                       and that one's share of a worker's ports; then per\n"
		"                       (address, destination, port, proto)\n"
		"  reload               reload the policy sources now (as SIGHUP); prints the\n"
		"                       result, exits 1 when the reload was rejected\n"
		"  explain SRC DST DPORT [tcp|udp]\n"
		"                       the verdict for a new flow, from the running policy's\n"
		"                       compiled tables: the rule that allows it (ServiceEntry,\n"
		"                       source FILE:LINE, NAT address and DNAT target), or why\n"
		"                       it is denied and the closest rule\n"
		"  takeover             session sync: take over the peer's NAT addresses and\n"
		"                       flows now (doc/session-sync.md)\n"
		"  drain [--deadline SECONDS]\n"
		"                       stop taking new flows (refused, dropped), keep the\n"
		"                       existing ones, go silent to the router (the inside\n"
		"                       exception path), exit when no flow is left or at the\n"
		"                       deadline (default 300 s; doc/scale-out.md)\n"
		"\n"
		"Exit status: 0 done, 1 egressd answered with an error, 2 usage, 3 cannot reach\n"
		"egressd.\n");
}

/* The request line's "args" members, appended as JSON. */
struct req {
	char buf[API_REQUEST_MAX];
	size_t len;
	bool args;
};

/* key:val into r. @return 0, or -1 after a message when val is longer than
 * egressd takes or the request would pass its API_REQUEST_MAX (r unchanged:
 * snprintf's return is the length it wanted, never added past the end). */
static int
req_add(struct req *r, const char *key, const char *val, bool quote)
{
	char q[API_REQUEST_MAX];
	size_t room = sizeof(r->buf) - r->len;
	int n;

	if (strlen(val) >= API_VAL_MAX) {
		fprintf(stderr, "egressctl: %s: longer than %d bytes\n", key, API_VAL_MAX - 1);
		return -1;
	}
	if (quote)
		api_quote(q, sizeof(q), val);
	n = snprintf(r->buf + r->len, room, "%s\"%s\":%s", r->args ? "," : "", key,
		     quote ? q : val);
	if (n < 0 || (size_t)n >= room) {
		r->buf[r->len] = '\0';
		fprintf(stderr, "egressctl: arguments too long\n");
		return -1;
	}
	r->len += (size_t)n;
	r->args = true;
	return 0;
}

static bool
is_uint(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Verb arguments into r. @return 0 or -1 after a message. */
static int
verb_args(const char *verb, int argc, char **argv, struct req *r)
{
	int i;

	if (strcmp(verb, "flows") == 0) {
		unsigned int seen = 0;

		for (i = 0; i < argc; i += 2) {
			static const char *const opts[] = { "--src", "--dst", "--port", "--rule",
							    "--limit" };
			unsigned int k;

			for (k = 0; k < 5 && strcmp(argv[i], opts[k]) != 0; k++)
				;
			if (k == 5 || i + 1 >= argc) {
				fprintf(stderr, "egressctl: flows: %s %s\n", argv[i],
					k == 5 ? "is not an option of flows" : "needs a value");
				return -1;
			}
			if ((k == 2 || k == 4) && !is_uint(argv[i + 1])) {
				fprintf(stderr, "egressctl: flows: %s: not a number: %s\n", argv[i],
					argv[i + 1]);
				return -1;
			}
			if (seen & (1u << k)) {
				fprintf(stderr, "egressctl: flows: %s given twice\n", argv[i]);
				return -1;
			}
			seen |= 1u << k;
			if (req_add(r, argv[i] + 2, argv[i + 1], !(k == 2 || k == 4)) < 0)
				return -1;
		}
		return 0;
	}
	if (strcmp(verb, "explain") == 0) {
		if (argc < 3 || argc > 4 || !is_uint(argv[2]) ||
		    (argc == 4 && strcmp(argv[3], "tcp") != 0 && strcmp(argv[3], "udp") != 0)) {
			fprintf(stderr, "egressctl: usage: explain SRC DST DPORT [tcp|udp]\n");
			return -1;
		}
		if (req_add(r, "src", argv[0], true) < 0 || req_add(r, "dst", argv[1], true) < 0 ||
		    req_add(r, "port", argv[2], false) < 0 ||
		    req_add(r, "proto", argc == 4 ? argv[3] : "tcp", true) < 0)
			return -1;
		return 0;
	}
	if (strcmp(verb, "drain") == 0) {
		if (argc != 0 &&
		    (argc != 2 || strcmp(argv[0], "--deadline") != 0 || !is_uint(argv[1]))) {
			fprintf(stderr, "egressctl: usage: drain [--deadline SECONDS]\n");
			return -1;
		}
		return argc == 2 ? req_add(r, "deadline", argv[1], false) : 0;
	}
	if (strcmp(verb, "stats") != 0 && strcmp(verb, "rules") != 0 && strcmp(verb, "nat") != 0 &&
	    strcmp(verb, "reload") != 0 && strcmp(verb, "takeover") != 0) {
		fprintf(stderr, "egressctl: unknown verb %s (see egressctl --help)\n", verb);
		return -1;
	}
	if (argc > 0) {
		fprintf(stderr, "egressctl: %s takes no arguments\n", verb);
		return -1;
	}
	return 0;
}

static int
connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "egressctl: socket path too long: %s\n", path);
		return -1;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "egressctl: cannot reach egressd at %s: %s\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static const char *
get(const struct api_obj *o, const char *key)
{
	const struct api_field *f = api_get(o, key);

	return f == NULL ? "-" : f->type == API_NULL ? "-" : f->val;
}

/* explain's NAT: the address, the target, and with several, each one's weight. */
static void
print_explain_nat(const struct api_obj *o)
{
	static const char pre[] = "nat.target_weights.";
	unsigned int i;

	printf("  nat:     %s\n  target:  %s (%s targets)\n", get(o, "nat.address"),
	       get(o, "nat.target"), get(o, "nat.targets"));
	if (strtoul(get(o, "nat.targets"), NULL, 10) < 2)
		return; /* none or one: the target says it all */
	for (i = 0; i < o->n; i++)
		if (strncmp(o->f[i].key, pre, sizeof(pre) - 1) == 0)
			printf("           %s weight %s\n", o->f[i].key + sizeof(pre) - 1,
			       o->f[i].val);
}

/*
 * nat: the address rows, then the destination rows (those with "dst"), each
 * kind a table of its own.
 */
static void
print_nat(const struct api_obj *o, unsigned long row)
{
	static bool dest_header;
	char d[40];

	if (api_get(o, "dst") == NULL) {
		if (row == 0)
			printf("%-16s %12s %-11s %-27s %s\n", "ADDRESS", "PORTS_IN_USE",
			       "PORT_RANGE", "FULLEST", "SHARE");
		snprintf(d, sizeof(d), "%.15s:%.5s/%.3s", get(o, "fullest.dst"),
			 get(o, "fullest.dport"), get(o, "fullest.proto"));
		printf("%-16s %12s %5s-%-5s %-27s %s\n", get(o, "address"), get(o, "ports_in_use"),
		       get(o, "port_lo"), get(o, "port_hi"),
		       api_get(o, "fullest.dst") != NULL ? d : "-", get(o, "utilization_max"));
		return;
	}
	if (!dest_header) {
		printf("\n%-16s %-27s %12s %s\n", "ADDRESS", "DESTINATION", "PORTS_IN_USE",
		       "SHARE");
		dest_header = true;
	}
	snprintf(d, sizeof(d), "%.15s:%.5s/%.3s", get(o, "dst"), get(o, "dport"), get(o, "proto"));
	printf("%-16s %-27s %12s %s\n", get(o, "address"), d, get(o, "ports_in_use"),
	       get(o, "utilization"));
}

/* One data line as a table row (or block), by verb. */
static void
print_human(const char *verb, const struct api_obj *o, unsigned long row)
{
	unsigned int i;

	if (strcmp(verb, "stats") == 0) {
		for (i = 0; i < o->n; i++)
			printf("%-40s %s\n", o->f[i].key, o->f[i].val);
	} else if (strcmp(verb, "rules") == 0) {
		if (row == 0)
			printf("%-40s %-18s %-9s %7s %10s %10s %12s %10s %12s %9s  %s\n", "RULE",
			       "DESTINATION", "PORT", "TARGETS", "FLOWS", "PKTS_OUT", "BYTES_OUT",
			       "PKTS_IN", "BYTES_IN", "NEAR_MISS", "SOURCE");
		char port[24];

		snprintf(port, sizeof(port), "%.8s/%.3s", get(o, "port"), get(o, "proto"));
		printf("%-40s %-18s %-9s %7s %10s %10s %12s %10s %12s %9s  %s\n", get(o, "rule"),
		       get(o, "dst"), port, get(o, "targets"), get(o, "flows"),
		       get(o, "packets_out"), get(o, "bytes_out"), get(o, "packets_in"),
		       get(o, "bytes_in"), get(o, "near_miss"), get(o, "source"));
	} else if (strcmp(verb, "flows") == 0) {
		char a[32], b[32], n[32];

		if (row == 0)
			printf("%-21s %-21s %-5s %-21s %-21s %-12s %2s  %s\n", "SOURCE",
			       "DESTINATION", "PROTO", "NAT", "TARGET", "STATE", "W", "RULE");
		snprintf(a, sizeof(a), "%.15s:%.5s", get(o, "src"), get(o, "sport"));
		snprintf(b, sizeof(b), "%.15s:%.5s", get(o, "dst"), get(o, "dport"));
		snprintf(n, sizeof(n), "%.15s:%.5s", get(o, "nat_src"), get(o, "nat_sport"));
		printf("%-21s %-21s %-5s %-21s %-21s %-12s %2s  %s\n", a, b, get(o, "proto"), n,
		       get(o, "target"), get(o, "state"), get(o, "worker"), get(o, "rule"));
	} else if (strcmp(verb, "nat") == 0) {
		print_nat(o, row);
	} else if (strcmp(verb, "reload") == 0) {
		printf("reload %s: policy generation %s, %s reloads, %s failures\n",
		       get(o, "result"), get(o, "policy_generation"), get(o, "reloads"),
		       get(o, "reload_failures"));
		if (strcmp(get(o, "result"), "ok") != 0)
			printf("last error: %s\n", get(o, "last_reload_error"));
	} else if (strcmp(verb, "takeover") == 0) {
		printf("takeover %s: the sync peer's NAT addresses and flows are taken over\n",
		       get(o, "result"));
	} else if (strcmp(verb, "drain") == 0) {
		printf("draining: new flows refused, %s flows active, exiting when none is left "
		       "or in %s s\n",
		       get(o, "flows_active"), get(o, "deadline_s"));
	} else if (strcmp(verb, "explain") == 0) {
		printf("%s: %s\n", get(o, "verdict"), get(o, "reason"));
		if (api_get_str(o, "rule") != NULL)
			printf("  rule:    %s\n  source:  %s\n", get(o, "rule"), get(o, "source"));
		if (api_get_str(o, "nat.address") != NULL)
			print_explain_nat(o);
		if (api_get_str(o, "closest") != NULL)
			printf("  closest: %s\n", get(o, "closest"));
	}
}

/* Read the reply: rows, then the status line. @return the exit status. */
static int
read_reply(int fd, const char *verb, bool json)
{
	bool list = strcmp(verb, "rules") == 0 || strcmp(verb, "flows") == 0 ||
		    strcmp(verb, "nat") == 0;
	struct api_obj *o = malloc(sizeof(*o));
	FILE *in = fdopen(fd, "r");
	char *line = NULL, err[256];
	size_t cap = 0;
	unsigned long rows = 0;
	bool rejected = false;
	int rc = 3;
	ssize_t n;

	if (o == NULL || in == NULL) {
		fprintf(stderr, "egressctl: out of memory\n");
		return 3;
	}
	if (json && list)
		fputs("[", stdout);
	while ((n = getline(&line, &cap, in)) > 0) {
		if (strncmp(line, "{\"status\":", 10) == 0) {
			if (api_parse(line, (size_t)n, o, err, sizeof(err)) < 0) {
				fprintf(stderr, "egressctl: bad status line: %s\n", err);
				break;
			}
			rc = strcmp(get(o, "status"), "ok") == 0 ? 0 : 1;
			if (rc != 0)
				fprintf(stderr, "egressctl: %s: %s\n", verb, get(o, "error"));
			break;
		}
		if (json) {
			if (list && rows > 0)
				fputs(",\n", stdout);
			fwrite(line, 1, (size_t)n - (line[n - 1] == '\n'), stdout);
			if (!list)
				fputc('\n', stdout);
		}
		if (json && strcmp(verb, "reload") != 0) {
			/* written as it came: nothing to read in it */
		} else if (api_parse(line, (size_t)n, o, err, sizeof(err)) == 0) {
			if (!json)
				print_human(verb, o, rows);
			/* a rejected reload is an answer, but not a success, with
			 * --json as without */
			if (strcmp(verb, "reload") == 0 && strcmp(get(o, "result"), "ok") != 0)
				rejected = true;
		} else if (!json) {
			fprintf(stderr, "egressctl: bad line from egressd: %s\n", err);
		}
		rows++;
	}
	if (json && list)
		fputs("]\n", stdout);
	if (n <= 0 && rc == 3)
		fprintf(stderr, "egressctl: egressd closed the connection without a status\n");
	free(line);
	fclose(in);
	free(o);
	return rc == 0 && rejected ? 1 : rc;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = DEFAULT_SOCKET, *verb;
	struct req r = { .len = 0 };
	bool json = false;
	int opt, fd, rc;

	/* "+": options end at the verb; its own (--src ...) are its arguments */
	while ((opt = getopt_long(argc, argv, "+s:jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			sock = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	verb = argv[optind];
	r.len = (size_t)snprintf(r.buf, sizeof(r.buf), "{\"version\":%d,\"verb\":\"%s\",\"args\":{",
				 API_VERSION, verb);
	if (strlen(verb) > 16 || verb_args(verb, argc - optind - 1, argv + optind + 1, &r) < 0)
		return 2;
	if (r.len + 3 >= sizeof(r.buf)) {
		fprintf(stderr, "egressctl: arguments too long\n");
		return 2;
	}
	r.len += (size_t)snprintf(r.buf + r.len, sizeof(r.buf) - r.len, "}}\n");
	fd = connect_to(sock);
	if (fd < 0)
		return 3;
	/* MSG_NOSIGNAL: an egressd that hangs up is exit 3, not a SIGPIPE */
	if (send(fd, r.buf, r.len, MSG_NOSIGNAL) != (ssize_t)r.len) {
		fprintf(stderr, "egressctl: cannot send to egressd: %s\n", strerror(errno));
		close(fd);
		return 3;
	}
	shutdown(fd, SHUT_WR);
	rc = read_reply(fd, verb, json);
	return rc;
}
