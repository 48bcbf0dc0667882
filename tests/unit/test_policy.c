/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The compiler (lib/policy/compile*.c, build.c, classify.c, print.c) and the
 * DNS cache (lib/policy/dns.c): golden compiled tables for the valid corpus,
 * compile errors with their exact messages, what rules and targets STATIC
 * endpoints, VirtualService routes, DestinationRules and Sidecars produce,
 * classification of crafted keys, and DNS answers from a stub resolver on
 * 127.0.0.1 (a thread of this test; loopback only) with chosen TTLs,
 * failures and AAAA records.
 *
 * Golden files: tests/data/istio/valid/NAME.compiled holds the build's
 * diagnostics ("# diag: ...") then policy_print()'s output, for NAME.yaml
 * built alone from inside its folder; tests/data/istio/compile-invalid/
 * NAME.expected holds every diagnostic of a build that must fail.
 * POLICY_GOLDEN_UPDATE=1 rewrites them from the current output (review the diff).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "test_common.h"
#include "test_policy_common.h"

#include "dns.h"
#include "policy_build.h"
#include "policy_private.h"

#define LINE_MAX_LEN 2048

/* The diagnostic that contains text, or NULL. */
static const struct diag *
find_diag(const struct diag_list *dl, const char *text)
{
	char buf[LINE_MAX_LEN];
	size_t i;

	for (i = 0; i < dl->n; i++) {
		diag_format(&dl->v[i], buf, sizeof(buf));
		if (strstr(buf, text) != NULL)
			return &dl->v[i];
	}
	return NULL;
}

/* Build from one source (a file or folder) with cfg and an optional DNS cache. */
static struct policy *
build_with(const char *source, struct egress_config *cfg, struct dns_cache *dns,
	   struct diag_list *dl)
{
	struct policy_build_params prm = {
		.generation = 1, .dns = dns, .dns_wait = true, .now_ms = 1000, .cfg = cfg
	};
	char *sources[1] = { (char *)source };
	struct policy *p;

	cfg->sources = sources;
	cfg->n_sources = 1;
	p = policy_build_ex(&prm, dl);
	cfg->sources = NULL;
	cfg->n_sources = 0;
	return p;
}

/* The same with the test config. */
static struct policy *
build(const char *source, struct dns_cache *dns, struct diag_list *dl)
{
	struct egress_config cfg;

	test_cfg(&cfg);
	return build_with(source, &cfg, dns, dl);
}

/* p, after failing the test with the diagnostics when it did not build. */
static struct policy *
built(struct policy *p, const struct diag_list *dl)
{
	if (p == NULL)
		print_diags(dl);
	assert_non_null(p);
	return p;
}

static struct policy *
build_ok(const char *source, struct dns_cache *dns, struct diag_list *dl)
{
	return built(build(source, dns, dl), dl);
}

/* A scratch folder per test, removed by the teardown even when an assert fails. */
static int
tmpdir_setup(void **state)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/egt-policy-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	*state = dir;
	return 0;
}

static int
tmpdir_teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", (const char *)*state);
	return system(cmd) == 0 ? 0 : -1;
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static uint32_t
ip4(const char *s)
{
	return ntohl(inet_addr(s));
}

/* The index of the rule with this destination, port and protocol, or -1. */
static int
rule_find(const struct policy *p, const char *dst, uint8_t len, uint16_t port, uint8_t proto)
{
	uint32_t i;

	for (i = 0; i < p->n_rules; i++)
		if (p->rules[i].dst_ip == ip4(dst) && p->rules[i].prefix_len == len &&
		    p->rules[i].port == port && p->rules[i].proto == proto)
			return (int)i;
	return -1;
}

static const struct policy_target *
target(const struct policy *p, int rule, uint32_t i)
{
	assert_true(rule >= 0);
	assert_true(i < p->rules[rule].n_targets);
	return &p->targets[p->rules[rule].first_target + i];
}

/* Classify one key; the rule index or POLICY_NO_RULE. */
static uint32_t
classify(const struct policy *p, const char *dst, uint16_t port, uint8_t proto)
{
	struct flow_key k = {
		.src_ip = inet_addr("10.8.0.2"),
		.dst_ip = inet_addr(dst),
		.src_port = htons(40000),
		.dst_port = htons(port),
		.proto = proto,
	};
	const struct flow_key *kp = &k;
	uint32_t r;

	policy_classify_bulk(p, &kp, 1, &r);
	return r;
}

/* ------------------------------------------------------------------ */
/* A stub DNS server on 127.0.0.1                                      */

#define STUB_MAX 8

struct stub_rec {
	char name[64];
	uint32_t addrs[4]; /* network order */
	unsigned int n;
	unsigned int n_v6;
	uint32_t ttl;
	unsigned int queries;
};

struct stub {
	int fd;
	uint16_t port;
	pthread_t thread;
	atomic_bool stop;
	atomic_bool running;
	pthread_mutex_t lock;
	struct stub_rec recs[STUB_MAX];
	unsigned int n_recs;
};

static struct stub stub;

static void
stub_set(const char *name, const char *a1, const char *a2, unsigned int n_v6, uint32_t ttl)
{
	struct stub_rec *r = NULL;
	unsigned int i;

	pthread_mutex_lock(&stub.lock);
	for (i = 0; i < stub.n_recs; i++)
		if (strcmp(stub.recs[i].name, name) == 0)
			r = &stub.recs[i];
	if (r == NULL) {
		r = &stub.recs[stub.n_recs++];
		memset(r, 0, sizeof(*r));
		snprintf(r->name, sizeof(r->name), "%s", name);
	}
	r->n = 0;
	if (a1 != NULL)
		r->addrs[r->n++] = inet_addr(a1);
	if (a2 != NULL)
		r->addrs[r->n++] = inet_addr(a2);
	r->n_v6 = n_v6;
	r->ttl = ttl;
	pthread_mutex_unlock(&stub.lock);
}

static unsigned int
stub_queries(const char *name)
{
	unsigned int i, n = 0;

	pthread_mutex_lock(&stub.lock);
	for (i = 0; i < stub.n_recs; i++)
		if (strcmp(stub.recs[i].name, name) == 0)
			n = stub.recs[i].queries;
	pthread_mutex_unlock(&stub.lock);
	return n;
}

/* Answer one query: A / AAAA from the table, NXDOMAIN for unknown names. */
static size_t
stub_answer(const uint8_t *q, size_t qlen, uint8_t *out, size_t cap)
{
	char name[256];
	size_t o = 12, n = 0, end, i;
	uint16_t qtype, ancount = 0;
	struct stub_rec *r = NULL;
	uint8_t rcode = 0;

	if (qlen < 17)
		return 0;
	while (o < qlen && q[o] != 0 && n + q[o] + 1 < sizeof(name)) {
		if (n > 0)
			name[n++] = '.';
		memcpy(name + n, q + o + 1, q[o]);
		n += q[o];
		o += q[o] + 1u;
	}
	name[n] = '\0';
	end = o + 5; /* root label, qtype, qclass */
	if (end > qlen || end > cap)
		return 0;
	qtype = (uint16_t)(q[o + 1] << 8 | q[o + 2]);
	pthread_mutex_lock(&stub.lock);
	for (i = 0; i < stub.n_recs; i++)
		if (strcmp(stub.recs[i].name, name) == 0)
			r = &stub.recs[i];
	if (r == NULL)
		rcode = 3; /* NXDOMAIN */
	memcpy(out, q, end);
	o = end;
	if (r != NULL && qtype == 1) {
		r->queries++;
		for (i = 0; i < r->n && o + 16 <= cap; i++, ancount++) {
			const uint8_t rr[12] = { 0xc0,
						 0x0c,
						 0,
						 1,
						 0,
						 1,
						 (uint8_t)(r->ttl >> 24),
						 (uint8_t)(r->ttl >> 16),
						 (uint8_t)(r->ttl >> 8),
						 (uint8_t)r->ttl,
						 0,
						 4 };

			memcpy(out + o, rr, 12);
			memcpy(out + o + 12, &r->addrs[i], 4);
			o += 16;
		}
	} else if (r != NULL && qtype == 28) {
		for (i = 0; i < r->n_v6 && o + 28 <= cap; i++, ancount++) {
			const uint8_t rr[12] = { 0xc0, 0x0c, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16 };
			uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8 };

			a6[15] = (uint8_t)(i + 1);
			memcpy(out + o, rr, 12);
			memcpy(out + o + 12, a6, 16);
			o += 28;
		}
	}
	pthread_mutex_unlock(&stub.lock);
	out[2] = 0x81;                    /* QR, RD */
	out[3] = (uint8_t)(0x80 | rcode); /* RA */
	out[4] = 0;
	out[5] = 1;
	out[6] = (uint8_t)(ancount >> 8);
	out[7] = (uint8_t)ancount;
	memset(out + 8, 0, 4);
	return o;
}

static void *
stub_main(void *arg)
{
	uint8_t q[512], a[1024];
	(void)arg;

	while (!atomic_load(&stub.stop)) {
		struct pollfd pfd = { .fd = stub.fd, .events = POLLIN };
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n;
		size_t len;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = recvfrom(stub.fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
		if (n <= 0)
			continue;
		len = stub_answer(q, (size_t)n, a, sizeof(a));
		if (len > 0)
			sendto(stub.fd, a, len, 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

/* Start the stub on 127.0.0.1, an ephemeral port. */
static void
stub_start(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	stub.fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(stub.fd >= 0);
	assert_int_equal(bind(stub.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(stub.fd, (struct sockaddr *)&sa, &sl), 0);
	stub.port = ntohs(sa.sin_port);
	atomic_store(&stub.stop, false);
	assert_int_equal(pthread_create(&stub.thread, NULL, stub_main, NULL), 0);
	atomic_store(&stub.running, true);
}

/* Stop it: the port is closed, so queries get ICMP port unreachable at once. */
static void
stub_stop(void)
{
	if (!atomic_load(&stub.running))
		return;
	atomic_store(&stub.stop, true);
	pthread_join(stub.thread, NULL);
	close(stub.fd);
	atomic_store(&stub.running, false);
}

static int
stub_setup(void **state)
{
	if (tmpdir_setup(state) != 0)
		return -1;
	memset(stub.recs, 0, sizeof(stub.recs));
	stub.n_recs = 0;
	stub_start();
	return 0;
}

static int
stub_teardown(void **state)
{
	stub_stop();
	return tmpdir_teardown(state);
}

/* A DNS cache that asks the stub (resolv.conf in dir, the stub's port). */
static struct dns_cache *
stub_cache(const char *dir, bool background)
{
	char conf[PATH_MAX];
	struct dns_params prm = {
		.resolv_conf = conf,
		.port = stub.port,
		.background = background,
		.retry_ms = 500,
	};
	struct dns_cache *c;

	write_file(dir, "resolv.conf",
		   "# the stub of test_policy\n"
		   "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
	snprintf(conf, sizeof(conf), "%s/resolv.conf", dir);
	c = dns_cache_create(&prm);
	assert_non_null(c);
	return c;
}

/* ------------------------------------------------------------------ */
/* Golden files                                                        */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.yaml files of dir, sorted; NULL-terminated, caller frees. */
static char **
list_yaml(const char *dir)
{
	char **v = calloc(256, sizeof(*v));
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	assert_non_null(v);
	while ((de = readdir(d)) != NULL && n < 255)
		if (de->d_name[0] != '.' && ends_with(de->d_name, ".yaml"))
			v[n++] = strdup(de->d_name);
	closedir(d);
	qsort(v, n, sizeof(*v), cmp_str);
	return v;
}

static void
free_list(char **v)
{
	size_t i;

	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static char *
read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return buf;
}

/* Compare text with the golden file (or rewrite it); @return 1 on a mismatch. */
static int
golden(const char *path, const char *text)
{
	char *want;
	int bad;

	if (getenv("POLICY_GOLDEN_UPDATE") != NULL) {
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fputs(text, f);
		fclose(f);
		return 0;
	}
	want = read_all(path);
	bad = want == NULL || strcmp(want, text) != 0;
	if (bad)
		fprintf(stderr, "%s differs; got:\n%s", path, text);
	free(want);
	return bad;
}

/* name.yaml -> name.ext */
static void
sibling(const char *yaml, const char *ext, char *out, size_t size)
{
	snprintf(out, size, "%.*s.%s", (int)(strlen(yaml) - strlen(".yaml")), yaml, ext);
}

/* What a build says: its diagnostics as comments, then the table. */
static char *
build_text(const struct policy *p, const struct diag_list *dl)
{
	char line[LINE_MAX_LEN], *text = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	for (i = 0; i < dl->n; i++) {
		diag_format(&dl->v[i], line, sizeof(line));
		fprintf(f, "# diag: %s\n", line);
	}
	if (p != NULL)
		policy_print(p, f);
	fclose(f);
	return text;
}

/* Every valid corpus file builds; its table is the golden one. */
static void
test_golden_valid(void **state)
{
	char cwd[PATH_MAX], path[PATH_MAX];
	char **files;
	int bad = 0;
	size_t i;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	files = list_yaml(CORPUS "/valid");
	assert_int_equal(chdir(CORPUS "/valid"), 0);
	for (i = 0; files[i] != NULL; i++) {
		struct diag_list dl = { 0 };
		struct policy *p = build(files[i], NULL, &dl);
		char *text;

		if (p == NULL) {
			fprintf(stderr, "%s: does not build\n", files[i]);
			print_diags(&dl);
			bad++;
		}
		text = build_text(p, &dl);
		sibling(files[i], "compiled", path, sizeof(path));
		bad += golden(path, text);
		free(text);
		policy_free(p);
		diag_list_clear(&dl);
	}
	assert_int_equal(chdir(cwd), 0);
	free_list(files);
	assert_int_equal(bad, 0);
}

/* Every compile-invalid file fails to build, with exactly these diagnostics. */
static void
test_golden_compile_errors(void **state)
{
	char cwd[PATH_MAX], path[PATH_MAX];
	char **files;
	int bad = 0;
	size_t i;

	(void)state;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	files = list_yaml(CORPUS "/compile-invalid");
	assert_non_null(files[0]);
	assert_int_equal(chdir(CORPUS "/compile-invalid"), 0);
	for (i = 0; files[i] != NULL; i++) {
		struct diag_list dl = { 0 };
		struct policy *p = build(files[i], NULL, &dl);
		char *text, *line, *save = NULL;
		size_t o = 0;

		if (p != NULL || diag_errors(&dl) == 0) {
			fprintf(stderr, "%s: built, want errors\n", files[i]);
			bad++;
		}
		text = build_text(NULL, &dl);
		/* the .expected format of the loader corpus: no "# diag: " prefix */
		for (line = strtok_r(text, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save))
			o += (size_t)sprintf(text + o, "%s\n", line + strlen("# diag: "));
		text[o] = '\0';
		sibling(files[i], "expected", path, sizeof(path));
		bad += golden(path, text);
		free(text);
		policy_free(p);
		diag_list_clear(&dl);
	}
	assert_int_equal(chdir(cwd), 0);
	free_list(files);
	assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------------ */
/* What the rules hold                                                 */

/* STATIC: the endpoint ports map beats targetPort; weights are the endpoints'. */
static void
test_static_targets(void **state)
{
	struct diag_list dl = { 0 };
	struct policy *p;
	int r;

	(void)state;
	p = build_ok(CORPUS "/valid/se-static-endpoints.yaml", NULL, &dl);
	assert_int_equal(p->n_rules, 2);
	r = rule_find(p, "10.59.118.59", 32, 6379, IPPROTO_TCP);
	assert_int_equal(r, 0);
	assert_string_equal(p->rules[r].name, "cart/memorystore-static");
	assert_int_equal(p->rules[r].target_port, 6380);
	assert_int_equal(p->rules[r].n_targets, 2);
	assert_int_equal(p->rules[r].total_weight, 4);
	assert_int_equal(target(p, r, 0)->ip, inet_addr("10.59.118.60"));
	assert_int_equal(target(p, r, 0)->port, 6390); /* ports map */
	assert_int_equal(target(p, r, 0)->weight, 3);
	assert_int_equal(target(p, r, 1)->ip, inet_addr("10.59.118.61"));
	assert_int_equal(target(p, r, 1)->port, 6380); /* targetPort */
	assert_int_equal(target(p, r, 1)->weight, 1);
	assert_int_equal(p->rules[r].lb, POLICY_LB_RANDOM);
	assert_int_equal(p->rules[r].max_connections, 0);
	assert_int_equal(p->rules[r].cap_id, POLICY_NO_CAP);
	assert_null(p->rules[r].route);
	r = rule_find(p, "10.59.118.59", 32, 16379, IPPROTO_TCP);
	assert_int_equal(r, 1);
	assert_int_equal(p->rules[r].target_port, 0);
	assert_int_equal(target(p, r, 0)->port, 0); /* the client's port */
	assert_int_equal(p->n_caps, 0);
	assert_int_equal(p->outbound, EGRESS_OUTBOUND_REGISTRY_ONLY);
	assert_null(p->outbound_from);
	policy_free(p);
	diag_list_clear(&dl);
}

/* No rule in p matches every destination (a /0 prefix). */
static void
assert_no_any_rule(const struct policy *p)
{
	uint32_t i;

	for (i = 0; i < p->n_rules; i++)
		assert_int_not_equal(p->rules[i].prefix_len, 0);
}

/*
 * ServiceEntries Istio accepts but an L4 gateway finds odd compile to no
 * more than they say: a prefix with host bits to its network, no ports,
 * STATIC without endpoints, and endpoints it cannot reach (a unix socket,
 * another network, the appliance itself) to nothing, the appliance's own
 * addresses to no rule, and never to 0.0.0.0/0.
 */
static void
test_se_istio_odd(void **state)
{
	struct diag_list dl = { 0 };
	struct policy *p;
	int r;

	(void)state;
	p = build_ok(CORPUS "/valid/se-istio-odd.yaml", NULL, &dl);
	assert_int_equal(diag_errors(&dl), 0);
	assert_int_equal(p->n_rules, 4);
	assert_no_any_rule(p);

	/* 172.1.2.16/16: its network, as Envoy's CidrRange has it */
	r = rule_find(p, "172.1.0.0", 16, 5432, IPPROTO_TCP);
	assert_int_equal(r, 0);
	assert_string_equal(p->rules[r].name, "host-bits");
	assert_int_equal(classify(p, "172.1.200.1", 5432, IPPROTO_TCP), (uint32_t)r);
	assert_int_equal(classify(p, "172.2.0.1", 5432, IPPROTO_TCP), POLICY_NO_RULE);

	/* no ports, STATIC without endpoints: their addresses admit nothing */
	assert_int_equal(classify(p, "192.0.2.80", 80, IPPROTO_TCP), POLICY_NO_RULE);
	assert_int_equal(classify(p, "192.0.2.81", 8080, IPPROTO_TCP), POLICY_NO_RULE);
	assert_non_null(find_diag(&dl, "ServiceEntry static-no-endpoints port 8080: no endpoint "
				       "address to send to; the port admits nothing"));

	/* unix socket, other network, the appliance: only 192.0.2.83 is a target */
	r = rule_find(p, "192.0.2.82", 32, 443, IPPROTO_TCP);
	assert_int_equal(r, 1);
	assert_int_equal(p->rules[r].n_targets, 1);
	assert_int_equal(target(p, r, 0)->ip, inet_addr("192.0.2.83"));
	assert_int_equal(p->rules[r].total_weight, 1);

	/* no addresses and no reachable endpoint: not every destination, none */
	assert_int_equal(classify(p, "198.51.100.1", 6553, IPPROTO_TCP), POLICY_NO_RULE);
	assert_int_equal(classify(p, "198.51.100.1", 443, IPPROTO_TCP), POLICY_NO_RULE);
	assert_non_null(find_diag(&dl, "ServiceEntry unix-only port 6553: no endpoint address to "
				       "send to; the port admits nothing"));
	assert_non_null(find_diag(&dl, "ServiceEntry other-network-only port 443: no endpoint "
				       "address to send to; the port admits nothing"));

	/* the appliance's own addresses: no rule; the entry's others stay */
	r = rule_find(p, "192.0.2.84", 32, 80, IPPROTO_TCP);
	assert_int_equal(r, 2);
	assert_int_equal(rule_find(p, "203.0.113.10", 32, 80, IPPROTO_TCP), -1);
	assert_int_equal(classify(p, "203.0.113.10", 80, IPPROTO_TCP), POLICY_NO_RULE);
	assert_int_equal(rule_find(p, "10.8.0.1", 32, 80, IPPROTO_TCP), -1);
	assert_non_null(find_diag(&dl,
				  "ServiceEntry only-own-address has no address egressd "
				  "forwards to (this appliance's own are never, IPv6 not yet); "
				  "the entry admits nothing"));

	/* names Istio allows; targetPort with NONE is still applied */
	r = rule_find(p, "192.0.2.85", 32, 3128, IPPROTO_TCP);
	assert_int_equal(r, 3);
	assert_string_equal(p->rules[r].name, "names-istio-allows");
	assert_int_equal(p->rules[r].target_port, 8080);
	assert_int_equal(p->rules[r].n_targets, 0);
	policy_free(p);
	diag_list_clear(&dl);
}

/* A route over an entry whose only address is the appliance's: no rule at all. */
static void
test_route_own_address(void **state)
{
	static const char yaml[] =
		"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		"metadata: {name: own}\n"
		"spec: {hosts: [own.example.com], addresses: [203.0.113.10],\n"
		"       ports: [{number: 6379, name: tcp-redis}]}\n"
		"---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		"metadata: {name: backend}\n"
		"spec: {hosts: [backend.example.com], addresses: [192.0.2.50],\n"
		"       ports: [{number: 6379, name: tcp-redis}], resolution: STATIC,\n"
		"       endpoints: [{address: 192.0.2.51}]}\n"
		"---\napiVersion: networking.istio.io/v1\nkind: Gateway\n"
		"metadata: {name: egress}\n"
		"spec: {selector: {istio: egressgateway},\n"
		"       servers: [{port: {number: 6379, name: tcp-redis, protocol: TCP},\n"
		"                  hosts: ['*']}]}\n"
		"---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
		"metadata: {name: to-backend}\n"
		"spec: {hosts: [own.example.com], gateways: [egress],\n"
		"       tcp: [{route: [{destination: {host: backend.example.com}}]}]}\n";
	const char *dir = *state;
	struct diag_list dl = { 0 };
	struct policy *p;

	write_file(dir, "route-own.yaml", yaml);
	p = build_ok(dir, NULL, &dl);
	assert_int_equal(p->n_rules, 1);
	assert_int_equal(rule_find(p, "192.0.2.50", 32, 6379, IPPROTO_TCP), 0);
	assert_no_any_rule(p);
	assert_int_equal(classify(p, "203.0.113.10", 6379, IPPROTO_TCP), POLICY_NO_RULE);
	assert_int_equal(classify(p, "198.51.100.1", 6379, IPPROTO_TCP), POLICY_NO_RULE);
	policy_free(p);
	diag_list_clear(&dl);
}

/*
 * A route whose destinations have no endpoint (STATIC without endpoints,
 * endpoints egressd ignores, DNS names not resolved) refuses its flows, as
 * Envoy does with an empty cluster: neither the route nor the routed entry's
 * own rule sends them to the original destination.
 */
static void
test_route_no_endpoints(void **state)
{
	static const char common[] =
		"apiVersion: networking.istio.io/v1\nkind: Gateway\n"
		"metadata: {name: egress}\n"
		"spec: {selector: {istio: egressgateway},\n"
		"       servers: [{port: {number: 6379, name: tcp-redis, protocol: TCP},\n"
		"                  hosts: ['*']}]}\n"
		"---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		"metadata: {name: vip}\n"
		"spec: {hosts: [vip.example.com], addresses: [10.59.0.0/16],\n"
		"       ports: [{number: 6379, name: tcp-redis}], resolution: NONE}\n"
		"---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		"metadata: {name: blue}\n"
		"spec: {hosts: [blue.example.com], addresses: [192.0.2.100],\n"
		"       ports: [{number: 6379, name: tcp-redis}], resolution: STATIC}\n"
		"---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		"metadata: {name: green}\n"
		"spec: {hosts: [green.example.com], addresses: [192.0.2.200],\n"
		"       ports: [{number: 6379, name: tcp-redis}], resolution: STATIC,\n"
		"       endpoints: [{address: 'unix:///run/green.sock'}]}\n"
		"---\napiVersion: networking.istio.io/v1\nkind: VirtualService\n"
		"metadata: {name: split}\n"
		"spec: {hosts: [vip.example.com], gateways: [egress], tcp: [{route: [\n";
	static const char *const routes[] = {
		/* two destinations, both empty */
		"  {destination: {host: blue.example.com}, weight: 80},\n"
		"  {destination: {host: green.example.com}, weight: 20}]}]}\n",
		/* one */
		"  {destination: {host: blue.example.com}}]}]}\n",
	};
	const char *dir = *state;
	char yaml[sizeof(common) + 256];
	unsigned int i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		struct diag_list dl = { 0 };
		struct policy *p;

		snprintf(yaml, sizeof(yaml), "%s%s", common, routes[i]);
		write_file(dir, "route-empty.yaml", yaml);
		p = build_ok(dir, NULL, &dl);
		assert_int_equal(p->n_rules, 0);
		assert_int_equal(classify(p, "10.59.1.1", 6379, IPPROTO_TCP), POLICY_NO_RULE);
		assert_non_null(find_diag(&dl, "VirtualService split: destination "
					       "blue.example.com has no address to send to; its "
					       "share of the flows is refused"));
		policy_free(p);
		diag_list_clear(&dl);
	}
}

/* VirtualService routes: weights x endpoint weights, subsets, ports, caps shared. */
static void
test_vs_routes(void **state)
{
	struct diag_list dl = { 0 };
	struct policy *p;
	int split, sub, blue, green, api;

	(void)state;
	p = build_ok(CORPUS "/valid/vs-routes.yaml", NULL, &dl);
	/* the entry's own 10.59.0.0/16 rule is replaced by the route's */
	assert_int_equal(p->n_rules, 5);
	split = rule_find(p, "10.59.0.0", 16, 6379, IPPROTO_TCP);
	sub = rule_find(p, "10.59.7.0", 24, 6379, IPPROTO_TCP);
	blue = rule_find(p, "192.0.2.100", 32, 6379, IPPROTO_TCP);
	green = rule_find(p, "192.0.2.200", 32, 6380, IPPROTO_TCP);
	api = rule_find(p, "198.51.100.10", 32, 443, IPPROTO_TCP);
	assert_true(split >= 0 && sub >= 0 && blue >= 0 && green >= 0 && api >= 0);

	/* 80 % to blue (endpoints 3:1), 20 % to green: 60 / 20 / 20 */
	assert_true(p->rules[split].flags & POLICY_RULE_F_ROUTED);
	assert_string_equal(p->rules[split].route, "cart/redis-split tcp[2]");
	assert_string_equal(p->rules[split].name, "cart/redis-vip");
	assert_int_equal(p->rules[split].n_targets, 3);
	assert_int_equal(target(p, split, 0)->ip, inet_addr("192.0.2.101"));
	assert_int_equal(target(p, split, 0)->port, 7379); /* blue's targetPort */
	assert_int_equal(target(p, split, 0)->weight, 240);
	assert_int_equal(target(p, split, 1)->ip, inet_addr("192.0.2.102"));
	assert_int_equal(target(p, split, 1)->port, 7380); /* its ports map */
	assert_int_equal(target(p, split, 1)->weight, 80);
	assert_int_equal(target(p, split, 2)->ip, inet_addr("192.0.2.201"));
	assert_int_equal(target(p, split, 2)->port, 6380); /* destination.port */
	assert_int_equal(target(p, split, 2)->weight, 80);
	assert_int_equal(p->rules[split].total_weight, 400);
	/* the first destination's DestinationRule */
	assert_int_equal(p->rules[split].max_connections, 100);
	assert_int_equal(p->rules[split].connect_timeout_ms, 2000);
	assert_int_equal(p->rules[split].lb, POLICY_LB_LEAST_CONN);
	assert_string_equal(p->rules[split].dr, "cart/blue");

	/* the subset: its endpoints only, its own load balancer */
	assert_string_equal(p->rules[sub].route, "cart/redis-split tcp[1]");
	assert_int_equal(p->rules[sub].n_targets, 1);
	assert_int_equal(target(p, sub, 0)->ip, inet_addr("192.0.2.101"));
	assert_int_equal(p->rules[sub].lb, POLICY_LB_CONSISTENT_SOURCE_IP);
	assert_int_equal(p->rules[sub].max_connections, 100);

	/* blue's own rule and the split count against one cap; the subset has its own */
	assert_int_equal(p->rules[blue].max_connections, 100);
	assert_int_equal(p->rules[blue].cap_id, p->rules[split].cap_id);
	assert_true(p->rules[sub].cap_id != p->rules[split].cap_id);
	assert_true(p->rules[sub].cap_id < p->n_caps);
	assert_int_equal(p->n_caps, 2);
	assert_int_equal(p->rules[green].cap_id, POLICY_NO_CAP);

	/* a tls route to a NONE entry: the original destination */
	assert_true(p->rules[api].flags & POLICY_RULE_F_ROUTED);
	assert_int_equal(p->rules[api].n_targets, 0);
	assert_string_equal(p->rules[api].route, "api-tls tls[0]");

	/* longest prefix wins; port and protocol are exact */
	assert_int_equal(classify(p, "10.59.7.9", 6379, IPPROTO_TCP), (uint32_t)sub);
	assert_int_equal(classify(p, "10.59.8.9", 6379, IPPROTO_TCP), (uint32_t)split);
	assert_int_equal(classify(p, "10.59.7.9", 6380, IPPROTO_TCP), POLICY_NO_RULE);
	assert_int_equal(classify(p, "10.59.7.9", 6379, IPPROTO_UDP), POLICY_NO_RULE);
	assert_int_equal(classify(p, "10.60.0.1", 6379, IPPROTO_TCP), POLICY_NO_RULE);
	policy_free(p);
	diag_list_clear(&dl);
}

/* A Sidecar overrides policy.outbound, and says so. */
static void
test_sidecar_outbound(void **state)
{
	struct diag_list dl = { 0 };
	struct policy *p;

	(void)state;
	p = build_ok(CORPUS "/valid/sidecar.yaml", NULL, &dl);
	assert_int_equal(p->outbound, EGRESS_OUTBOUND_ALLOW_ANY);
	assert_non_null(p->outbound_from);
	assert_non_null(strstr(p->outbound_from, "Sidecar istio-system/default at "));
	assert_non_null(find_diag(&dl, "sidecar.yaml:10:11: warning: Sidecar "
				       "istio-system/default: outboundTrafficPolicy ALLOW_ANY "
				       "overrides policy.outbound REGISTRY_ONLY of the appliance "
				       "config"));
	policy_free(p);
	diag_list_clear(&dl);
}

/* ------------------------------------------------------------------ */
/* What the gateway sees: exportTo, workloadSelector, Sidecar scope    */

/* Build from one source with a config the test adjusted; it must build. */
static struct policy *
build_cfg(const char *source, struct egress_config *cfg, struct diag_list *dl)
{
	return built(build_with(source, cfg, NULL, dl), dl);
}

/* Exactly n rules, among them port 443 of a and, unless NULL, of b (/32 each). */
static void
expect_443(const struct policy *p, uint32_t n, const char *a, const char *b)
{
	assert_int_equal(p->n_rules, n);
	assert_true(rule_find(p, a, 32, 443, IPPROTO_TCP) >= 0);
	assert_true(b == NULL || rule_find(p, b, 32, 443, IPPROTO_TCP) >= 0);
}

static void
release(struct policy *p, struct diag_list *dl)
{
	policy_free(p);
	diag_list_clear(dl);
}

/*
 * exportTo for istio-system: "*", istio-system, "." there are seen; ".",
 * other namespaces, "~" and "." without a namespace (default) are not. What
 * is not seen admits nothing, caps nothing, and a route to it refuses.
 */
static void
test_scope_export(void **state)
{
	struct diag_list dl = { 0 };
	struct policy *p;
	int pub, gw, local;

	(void)state;
	p = build_ok(CORPUS "/valid/scope-export.yaml", NULL, &dl);
	expect_443(p, 3, "192.0.2.10", "192.0.2.11");
	pub = rule_find(p, "192.0.2.10", 32, 443, IPPROTO_TCP);
	gw = rule_find(p, "192.0.2.11", 32, 443, IPPROTO_TCP);
	local = rule_find(p, "192.0.2.14", 32, 443, IPPROTO_TCP);
	assert_true(local >= 0);
	assert_string_equal(p->rules[pub].name, "cart/public");
	assert_int_equal(p->rules[pub].max_connections, 5); /* its DR is "*" by default */
	assert_string_equal(p->rules[pub].dr, "cart/public-cap");
	assert_string_equal(p->rules[gw].name, "cart/to-gateway");
	assert_int_equal(p->rules[gw].max_connections, 0); /* its DR stays in cart */
	assert_null(p->rules[gw].dr);
	assert_null(p->rules[gw].route); /* the shop's VirtualService stays in shop */
	assert_string_equal(p->rules[local].name, "istio-system/local");
	assert_int_equal(classify(p, "192.0.2.12", 443, IPPROTO_TCP), POLICY_NO_RULE);
	assert_int_equal(classify(p, "192.0.2.13", 443, IPPROTO_TCP), POLICY_NO_RULE);
	assert_int_equal(classify(p, "192.0.2.15", 443, IPPROTO_TCP), POLICY_NO_RULE);
	assert_int_equal(classify(p, "192.0.2.16", 443, IPPROTO_TCP), POLICY_NO_RULE);
	assert_int_equal(classify(p, "192.0.2.22", 5432, IPPROTO_TCP), POLICY_NO_RULE);
	/* db is routed to a replica the gateway does not see: refused, not db's own */
	assert_int_equal(classify(p, "192.0.2.20", 5432, IPPROTO_TCP), POLICY_NO_RULE);
	assert_int_equal(classify(p, "192.0.2.11", 443, IPPROTO_TCP), (uint32_t)gw);
	assert_non_null(find_diag(&dl, "scope-export.yaml:29:3: warning: spec.exportTo: "
				       "ServiceEntry exported to namespaces the gateway "
				       "(istio-system) is not in: admits nothing"));
	assert_non_null(find_diag(&dl, "scope-export.yaml:38:3: warning: spec.exportTo: "
				       "ServiceEntry exported to no namespace (~): admits "
				       "nothing"));
	assert_non_null(find_diag(&dl, "scope-export.yaml:57:3: warning: spec.exportTo: "
				       "ServiceEntry exported to namespaces"));
	assert_non_null(find_diag(&dl, "scope-export.yaml:118:3: warning: spec.exportTo: "
				       "VirtualService exported to namespaces the gateway "
				       "(istio-system) is not in: its routes do not apply"));
	assert_non_null(find_diag(&dl, "scope-export.yaml:137:3: warning: spec.exportTo: "
				       "DestinationRule exported to namespaces the gateway "
				       "(istio-system) is not in: its traffic policy does not "
				       "apply"));
	assert_non_null(find_diag(&dl, "scope-export.yaml:109:27: warning: VirtualService "
				       "istio-system/db-to-replica: destination host "
				       "replica.example.com is ServiceEntry db/replica, which is "
				       "not exported to the gateway's namespace: the route "
				       "refuses its flows"));
	/* nothing about the ports of entries that admit nothing */
	assert_null(find_diag(&dl, "ServiceEntry private: port 443"));
	policy_free(p);
	diag_list_clear(&dl);
}

static const char scope_ns_yaml[] =
	"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
	"metadata: {name: private, namespace: cart}\n"
	"spec: {hosts: [a.example.com], addresses: [192.0.2.1],\n"
	"  ports: [{number: 443, name: tls, protocol: TLS}], exportTo: [\".\"]}\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
	"metadata: {name: no-namespace}\n"
	"spec: {hosts: [b.example.com], addresses: [192.0.2.2],\n"
	"  ports: [{number: 443, name: tls, protocol: TLS}], exportTo: [\".\"]}\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
	"metadata: {name: gateway-local, namespace: istio-system}\n"
	"spec: {hosts: [c.example.com], addresses: [192.0.2.3],\n"
	"  ports: [{number: 443, name: tls, protocol: TLS}], exportTo: [\".\"]}\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
	"metadata: {name: default-export}\n"
	"spec: {hosts: [d.example.com], addresses: [192.0.2.4],\n"
	"  ports: [{number: 443, name: tls, protocol: TLS}]}\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
	"metadata: {name: cap, namespace: istio-system}\n"
	"spec: {host: c.example.com,\n"
	"  trafficPolicy: {connectionPool: {tcp: {maxConnections: 3}}}}\n";

/* policy.namespace moves what "." and namespaces show; default_export_to the mesh default. */
static void
test_scope_namespace(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX], cart[] = "cart", dflt[] = "default", dot[] = ".", tilde[] = "~";
	struct diag_list dl = { 0 };
	struct egress_config cfg;
	struct policy *p;
	int r;

	snprintf(path, sizeof(path), "%s/se.yaml", dir);
	write_file(dir, "se.yaml", scope_ns_yaml);
	test_cfg(&cfg);

	/* istio-system (the default): its own "." and the "*" default */
	p = build_cfg(path, &cfg, &dl);
	expect_443(p, 2, "192.0.2.3", "192.0.2.4");
	r = rule_find(p, "192.0.2.3", 32, 443, IPPROTO_TCP);
	assert_int_equal(p->rules[r].max_connections, 3);
	release(p, &dl);

	/* a gateway in cart sees cart's "." only */
	cfg.ns = cart;
	p = build_cfg(path, &cfg, &dl);
	expect_443(p, 2, "192.0.2.1", "192.0.2.4");
	assert_non_null(find_diag(&dl, "se.yaml:17:53: warning: spec.exportTo: ServiceEntry "
				       "exported to namespaces the gateway (cart) is not in: "
				       "admits nothing"));
	release(p, &dl);

	/* no metadata.namespace is "default" */
	cfg.ns = dflt;
	p = build_cfg(path, &cfg, &dl);
	expect_443(p, 2, "192.0.2.2", "192.0.2.4");
	release(p, &dl);

	/* a mesh default of "." keeps what says nothing in its namespace */
	cfg.ns = NULL;
	cfg.default_export_to[EGRESS_EXPORT_SE].v[0] = dot;
	cfg.default_export_to[EGRESS_EXPORT_SE].n = 1;
	p = build_cfg(path, &cfg, &dl);
	expect_443(p, 1, "192.0.2.3", NULL);
	assert_non_null(find_diag(&dl, "se.yaml:21:18: warning: metadata.name: ServiceEntry "
				       "without exportTo is exported to the mesh default "
				       "(policy.default_export_to.service_entry), which the "
				       "gateway's namespace (istio-system) is not in: admits "
				       "nothing"));
	release(p, &dl);

	/* and one of "~" for DestinationRules drops the cap */
	cfg.default_export_to[EGRESS_EXPORT_SE].n = 0;
	cfg.default_export_to[EGRESS_EXPORT_DR].v[0] = tilde;
	cfg.default_export_to[EGRESS_EXPORT_DR].n = 1;
	p = build_cfg(path, &cfg, &dl);
	expect_443(p, 2, "192.0.2.3", "192.0.2.4");
	r = rule_find(p, "192.0.2.3", 32, 443, IPPROTO_TCP);
	assert_int_equal(p->rules[r].max_connections, 0);
	release(p, &dl);
}

static const char scope_sidecar_yaml[] =
	"apiVersion: networking.istio.io/v1\nkind: Sidecar\n"
	"metadata: {name: default, namespace: istio-system}\n"
	"spec: {outboundTrafficPolicy: {mode: ALLOW_ANY}}\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\nkind: Sidecar\n"
	"metadata: {name: gw-labels, namespace: istio-system}\n"
	"spec: {workloadSelector: {labels: {istio: egressgateway}},\n"
	"  outboundTrafficPolicy: {mode: REGISTRY_ONLY}}\n";

/*
 * A gateway in namespace egress: the root namespace's default applies, its
 * selector Sidecars do not; a default of egress comes first even without an
 * outboundTrafficPolicy (then policy.outbound applies, as Istio's mesh's).
 */
static void
test_scope_sidecar(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX], egress[] = "egress", root[] = "mesh-root";
	struct diag_list dl = { 0 };
	struct egress_config cfg;
	struct policy *p;

	snprintf(path, sizeof(path), "%s/sc.yaml", dir);
	write_file(dir, "sc.yaml", scope_sidecar_yaml);
	test_cfg(&cfg);
	cfg.ns = egress;
	p = build_cfg(path, &cfg, &dl);
	assert_int_equal(p->outbound, EGRESS_OUTBOUND_ALLOW_ANY);
	assert_non_null(p->outbound_from);
	assert_non_null(strstr(p->outbound_from, "Sidecar istio-system/default at "));
	assert_non_null(strstr(p->outbound_from, "/sc.yaml:3, over policy.outbound"));
	release(p, &dl);

	/* another root namespace: nothing applies */
	cfg.root_namespace = root;
	p = build_cfg(path, &cfg, &dl);
	assert_int_equal(p->outbound, EGRESS_OUTBOUND_REGISTRY_ONLY);
	assert_null(p->outbound_from);
	release(p, &dl);
	cfg.root_namespace = NULL;

	/* a default of the gateway's namespace, without outboundTrafficPolicy */
	write_file(dir, "sc.yaml",
		   "apiVersion: networking.istio.io/v1\nkind: Sidecar\n"
		   "metadata: {name: default, namespace: egress}\n"
		   "spec: {egress: [{hosts: [\"*/*\"]}]}\n"
		   "---\n"
		   "apiVersion: networking.istio.io/v1\nkind: Sidecar\n"
		   "metadata: {name: default, namespace: istio-system}\n"
		   "spec: {outboundTrafficPolicy: {mode: ALLOW_ANY}}\n");
	p = build_cfg(path, &cfg, &dl);
	assert_int_equal(p->outbound, EGRESS_OUTBOUND_REGISTRY_ONLY);
	assert_null(p->outbound_from);
	assert_non_null(find_diag(&dl, "sc.yaml:9:38: warning: Sidecar istio-system/default: "
				       "outboundTrafficPolicy does not apply to this appliance: "
				       "Sidecar egress/default ("));
	assert_non_null(find_diag(&dl, "/sc.yaml:3) is the default of the gateway's namespace "
				       "and comes first"));
	release(p, &dl);

	/* without metadata.namespace a Sidecar is in default */
	write_file(dir, "sc.yaml",
		   "apiVersion: networking.istio.io/v1\nkind: Sidecar\n"
		   "metadata: {name: open}\n"
		   "spec: {outboundTrafficPolicy: {mode: ALLOW_ANY}}\n");
	cfg.ns = NULL;
	p = build_cfg(path, &cfg, &dl);
	assert_int_equal(p->outbound, EGRESS_OUTBOUND_REGISTRY_ONLY);
	assert_non_null(find_diag(&dl, "sc.yaml:3:18: warning: Sidecar open has no "
				       "metadata.namespace, so it is taken to be in namespace "
				       "default: its outboundTrafficPolicy does not apply to the "
				       "gateway (namespace istio-system); set metadata.namespace"));
	release(p, &dl);
	cfg.ns = (char *)"default";
	p = build_cfg(path, &cfg, &dl);
	assert_int_equal(p->outbound, EGRESS_OUTBOUND_ALLOW_ANY);
	release(p, &dl);
}

/*
 * A ServiceEntry with a workloadSelector admits nothing (its endpoints are
 * workloads egressd cannot see), never 0.0.0.0/0; a DestinationRule's applies
 * where it selects the gateway in the gateway's namespace.
 */
static void
test_scope_selector(void **state)
{
	struct diag_list dl = { 0 };
	struct policy *p;
	uint32_t i;
	int a, b;

	(void)state;
	p = build_ok(CORPUS "/valid/scope-selector.yaml", NULL, &dl);
	assert_int_equal(p->n_rules, 2);
	for (i = 0; i < p->n_rules; i++) {
		assert_string_equal(p->rules[i].name, "istio-system/api");
		assert_int_equal(p->rules[i].flags & POLICY_RULE_F_ANY_DST, 0);
	}
	assert_int_equal(classify(p, "198.51.100.7", 8080, IPPROTO_TCP), POLICY_NO_RULE);
	assert_int_equal(classify(p, "192.0.2.30", 8080, IPPROTO_TCP), POLICY_NO_RULE);
	a = rule_find(p, "192.0.2.40", 32, 443, IPPROTO_TCP);
	b = rule_find(p, "192.0.2.40", 32, 8443, IPPROTO_TCP);
	assert_true(a >= 0 && b >= 0);
	assert_int_equal(p->rules[a].max_connections, 9);
	assert_string_equal(p->rules[a].dr, "istio-system/api-for-gateway");
	assert_int_equal(p->rules[b].max_connections, 9);
	assert_non_null(find_diag(&dl, "scope-selector.yaml:12:3: warning: spec.workloadSelector: "
				       "the endpoints of this ServiceEntry are the workloads its "
				       "selector picks (pods, WorkloadEntries), which egressd "
				       "cannot see: it admits nothing"));
	assert_null(find_diag(&dl, "is open to EVERY destination"));
	policy_free(p);
	diag_list_clear(&dl);
}

/*
 * A Sidecar Istio refuses never switches the appliance to ALLOW_ANY: an
 * egressProxy host that is no FQDN, an egressProxy without a port, an egress
 * listener host without its namespace each fail the build, at their place.
 */
static void
test_sidecar_refused_allow_any(void **state)
{
	static const char head[] = "apiVersion: networking.istio.io/v1\n"
				   "kind: Sidecar\n"
				   "metadata: {name: default, namespace: istio-system}\n"
				   "spec:\n";
	static const struct {
		const char *spec;
		const char *diag;
	} cases[] = {
		{ "  outboundTrafficPolicy:\n"
		  "    mode: ALLOW_ANY\n"
		  "    egressProxy:\n"
		  "      host: \"foobar*123\"\n"
		  "      port: {number: 3128}\n",
		  "sc.yaml:8:13: error: spec.outboundTrafficPolicy.egressProxy.host: domain name "
		  "\"foobar*123\" invalid (label \"foobar*123\" invalid)" },
		{ "  outboundTrafficPolicy:\n"
		  "    mode: ALLOW_ANY\n"
		  "    egressProxy:\n"
		  "      host: proxy.example.com\n",
		  "sc.yaml:8:7: error: spec.outboundTrafficPolicy.egressProxy.port: sidecar: "
		  "egress_proxy port must be non-nil" },
		{ "  egress:\n"
		  "  - hosts: [\"proxy.example.com\"]\n"
		  "  outboundTrafficPolicy:\n"
		  "    mode: ALLOW_ANY\n",
		  "sc.yaml:6:13: error: spec.egress[0].hosts[0]: host must be of form "
		  "namespace/dnsName" },
	};
	const char *dir = *state;
	char path[PATH_MAX], text[512];
	size_t i;

	snprintf(path, sizeof(path), "%s/sc.yaml", dir);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct diag_list dl = { 0 };
		struct policy *p;

		snprintf(text, sizeof(text), "%s%s", head, cases[i].spec);
		write_file(dir, "sc.yaml", text);
		p = build(path, NULL, &dl);
		if (p != NULL || find_diag(&dl, cases[i].diag) == NULL)
			print_diags(&dl);
		assert_null(p);
		assert_non_null(find_diag(&dl, cases[i].diag));
		diag_list_clear(&dl);
	}
}

/* portLevelSettings override the trafficPolicy for their port only. */
static void
test_dr_port_settings(void **state)
{
	struct diag_list dl = { 0 };
	struct policy *p;
	int a, b;

	(void)state;
	p = build_ok(CORPUS "/valid/dr-settings.yaml", NULL, &dl);
	a = rule_find(p, "192.0.2.50", 32, 5432, IPPROTO_TCP);
	b = rule_find(p, "192.0.2.50", 32, 5433, IPPROTO_TCP);
	assert_int_equal(p->rules[a].max_connections, 10);
	assert_int_equal(p->rules[a].connect_timeout_ms, 0);
	assert_int_equal(p->rules[a].lb, POLICY_LB_ROUND_ROBIN);
	assert_int_equal(p->rules[b].max_connections, 2);
	assert_int_equal(p->rules[b].connect_timeout_ms, 250);
	assert_int_equal(p->rules[b].lb, POLICY_LB_CONSISTENT_SOURCE_IP);
	assert_true(p->rules[a].cap_id != p->rules[b].cap_id);
	assert_string_equal(p->rules[a].dr, "db");
	policy_free(p);
	diag_list_clear(&dl);
}

/* Crafted keys: longest prefix wins, port and protocol exact, 0/0 last. */
static void
test_classify(void **state)
{
	static const char yaml[] =
		"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		"metadata: {name: wide}\n"
		"spec: {hosts: [w.example.com], addresses: [10.0.0.0/8],\n"
		"       ports: [{number: 80, name: http, protocol: HTTP}]}\n"
		"---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		"metadata: {name: mid}\n"
		"spec: {hosts: [m.example.com], addresses: [10.1.0.0/16],\n"
		"       ports: [{number: 80, name: http, protocol: HTTP}]}\n"
		"---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		"metadata: {name: host}\n"
		"spec: {hosts: [h.example.com], addresses: [10.1.2.3],\n"
		"       ports: [{number: 80, name: http, protocol: HTTP},\n"
		"               {number: 53, name: udp-dns, protocol: UDP}]}\n"
		"---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		"metadata: {name: any}\n"
		"spec: {hosts: [any.example.com], ports: [{number: 8080, name: http}]}\n"
		"---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		"metadata: {name: any-host}\n"
		"spec: {hosts: [ah.example.com], addresses: [192.0.2.8],\n"
		"       ports: [{number: 8080, name: http}]}\n";
	const char *dir = *state;
	struct diag_list dl = { 0 };
	const struct flow_key *kp[32];
	struct flow_key keys[32];
	uint32_t rules[32];
	struct policy *p;
	unsigned int i;

	write_file(dir, "classify.yaml", yaml);
	p = build_ok(dir, NULL, &dl);
	assert_int_equal(p->n_rules, 6);
	assert_int_equal(classify(p, "10.9.9.9", 80, IPPROTO_TCP), 0);
	assert_int_equal(classify(p, "10.1.9.9", 80, IPPROTO_TCP), 1);
	assert_int_equal(classify(p, "10.1.2.3", 80, IPPROTO_TCP), 2);
	assert_int_equal(classify(p, "10.1.2.3", 53, IPPROTO_UDP), 3);
	assert_int_equal(classify(p, "10.1.2.3", 53, IPPROTO_TCP), POLICY_NO_RULE);
	assert_int_equal(classify(p, "10.1.2.3", 81, IPPROTO_TCP), POLICY_NO_RULE);
	assert_int_equal(classify(p, "11.0.0.1", 80, IPPROTO_TCP), POLICY_NO_RULE);
	assert_int_equal(classify(p, "8.8.8.8", 8080, IPPROTO_TCP), 4);
	assert_true(p->rules[4].flags & POLICY_RULE_F_ANY_DST);
	assert_int_equal(classify(p, "192.0.2.8", 8080, IPPROTO_TCP), 5);

	/* /32 rules in the exact table, prefixes in rte_acl */
	assert_non_null(p->exact);
	assert_non_null(p->acl);
	assert_int_equal(p->stats.n_exact, 3);
	assert_int_equal(p->stats.n_acl, 3);

	/* a burst of 32, hits and misses mixed, in one call */
	for (i = 0; i < 32; i++) {
		keys[i] = (struct flow_key){
			.src_ip = inet_addr("10.8.0.2"),
			.src_port = htons((uint16_t)(1024 + i)),
			.dst_ip = inet_addr(i % 4 == 1 ? "10.1.2.3" : "10.1.9.9"),
			.dst_port = htons(i % 2 ? 80 : 81),
			.proto = IPPROTO_TCP,
		};
		kp[i] = &keys[i];
	}
	policy_classify_bulk(p, kp, 32, rules);
	for (i = 0; i < 32; i++) {
		uint32_t want = i % 2 == 0 ? POLICY_NO_RULE : i % 4 == 1 ? 2 : 1;

		assert_int_equal(rules[i], want);
	}
	policy_free(p);
	diag_list_clear(&dl);
}

/* More keys than one pass of the exact table takes; one stage only, either way. */
static void
test_classify_stages(void **state)
{
	static const char only32[] =
		"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		"metadata: {name: hosts}\n"
		"spec: {hosts: [h.example.com], addresses: [192.0.2.1, 192.0.2.2],\n"
		"       ports: [{number: 443, name: tls, protocol: TLS}]}\n";
	static const char only_prefix[] =
		"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
		"metadata: {name: nets}\n"
		"spec: {hosts: [n.example.com], addresses: [198.51.100.0/24],\n"
		"       ports: [{number: 443, name: tls, protocol: TLS}]}\n";
	const char *dir = *state;
	struct diag_list dl = { 0 };
	const struct flow_key *kp[200];
	struct flow_key keys[200];
	uint32_t rules[200];
	struct policy *p;
	char path[PATH_MAX];
	unsigned int i;

	write_file(dir, "a.yaml", only32);
	p = build_ok(dir, NULL, &dl);
	assert_non_null(p->exact);
	assert_null(p->acl);
	for (i = 0; i < 200; i++) {
		keys[i] = (struct flow_key){
			.dst_ip = htonl(ip4("192.0.2.0") + i % 4),
			.dst_port = htons(443),
			.proto = IPPROTO_TCP,
		};
		kp[i] = &keys[i];
	}
	policy_classify_bulk(p, kp, 200, rules);
	for (i = 0; i < 200; i++)
		assert_int_equal(rules[i], i % 4 == 1 ? 0 : i % 4 == 2 ? 1 : POLICY_NO_RULE);
	policy_free(p);

	snprintf(path, sizeof(path), "%s/a.yaml", dir);
	assert_int_equal(unlink(path), 0);
	write_file(dir, "b.yaml", only_prefix);
	p = build_ok(dir, NULL, &dl);
	assert_null(p->exact);
	assert_non_null(p->acl);
	for (i = 0; i < 200; i++)
		keys[i].dst_ip = htonl(ip4("198.51.99.200") + i);
	policy_classify_bulk(p, kp, 200, rules);
	for (i = 0; i < 200; i++)
		assert_int_equal(rules[i], i >= 56 && i < 56 + 144 ? 0 : POLICY_NO_RULE);
	policy_free(p);
	diag_list_clear(&dl);
}

/* No rules at all: everything misses, nothing crashes. */
static void
test_classify_empty(void **state)
{
	const char *dir = *state;
	struct diag_list dl = { 0 };
	struct policy *p;

	write_file(dir, "gw.yaml",
		   "apiVersion: networking.istio.io/v1\nkind: Gateway\n"
		   "metadata: {name: g}\nspec: {servers: [{port: {number: 1, name: p, "
		   "protocol: TCP}, hosts: ['*']}]}\n");
	p = build_ok(dir, NULL, &dl);
	assert_int_equal(p->n_rules, 0);
	assert_null(p->acl);
	assert_int_equal(classify(p, "10.0.0.1", 1, IPPROTO_TCP), POLICY_NO_RULE);
	policy_free(p);
	diag_list_clear(&dl);
}

/* ------------------------------------------------------------------ */
/* DNS                                                                 */

static const char dns_yaml[] =
	"# hosts resolved, no endpoints, no addresses: the answers are destinations\n"
	"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
	"metadata: {name: db}\n"
	"spec: {hosts: [db.test], resolution: DNS,\n"
	"       ports: [{number: 5432, name: tcp-postgres}]}\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
	"metadata: {name: cache}\n"
	"spec: {hosts: [cache.test], addresses: [10.9.0.1], resolution: DNS_ROUND_ROBIN,\n"
	"       ports: [{number: 11211, name: tcp-memcache}],\n"
	"       endpoints: [{address: memcache.test}]}\n"
	"---\n"
	"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
	"metadata: {name: api}\n"
	"spec: {hosts: [api.test], addresses: [10.9.0.2], resolution: DNS,\n"
	"       ports: [{number: 443, name: tls, protocol: TLS, targetPort: 8443}],\n"
	"       endpoints: [{address: api.test, ports: {tls: 9443}, weight: 2},\n"
	"                   {address: 192.0.2.77}]}\n";

/* Answers compile to targets and destinations, with the names they came from. */
static void
test_dns_compile(void **state)
{
	const char *dir = *state;
	struct diag_list dl = { 0 };
	struct dns_cache *c;
	struct policy *p;
	int r;

	stub_set("db.test", "192.0.2.11", "192.0.2.10", 0, 60);
	stub_set("memcache.test", "192.0.2.21", "192.0.2.20", 0, 60);
	stub_set("api.test", "192.0.2.30", NULL, 1, 60);
	write_file(dir, "dns.yaml", dns_yaml);
	c = stub_cache(dir, false);
	p = build_ok(dir, c, &dl);

	/* db: each answer is a destination, kept as the client asked */
	assert_int_equal(p->n_rules, 4);
	r = rule_find(p, "192.0.2.10", 32, 5432, IPPROTO_TCP);
	assert_true(r >= 0);
	assert_true(p->rules[r].flags & POLICY_RULE_F_DNS_DST);
	assert_string_equal(p->rules[r].dst_name, "db.test");
	assert_int_equal(p->rules[r].n_targets, 0);
	assert_true(rule_find(p, "192.0.2.11", 32, 5432, IPPROTO_TCP) >= 0);

	/* cache: DNS_ROUND_ROBIN, the first (lowest) address only */
	r = rule_find(p, "10.9.0.1", 32, 11211, IPPROTO_TCP);
	assert_int_equal(p->rules[r].n_targets, 1);
	assert_int_equal(target(p, r, 0)->ip, inet_addr("192.0.2.20"));
	assert_string_equal(p->target_names[p->rules[r].first_target], "memcache.test");
	assert_true(p->rules[r].flags & POLICY_RULE_F_DNS);

	/* api: a name endpoint (its ports map, its weight) and an IP endpoint */
	r = rule_find(p, "10.9.0.2", 32, 443, IPPROTO_TCP);
	assert_int_equal(p->rules[r].n_targets, 2);
	assert_int_equal(target(p, r, 0)->ip, inet_addr("192.0.2.30"));
	assert_int_equal(target(p, r, 0)->port, 9443);
	assert_int_equal(target(p, r, 0)->weight, 2);
	assert_int_equal(target(p, r, 1)->ip, inet_addr("192.0.2.77"));
	assert_int_equal(target(p, r, 1)->port, 8443);
	assert_null(p->target_names[p->rules[r].first_target + 1]);
	/* --check names where each answer came from */
	{
		char *text = build_text(p, &dl);

		assert_non_null(strstr(text, "\t192.0.2.10/32 (db.test)\t5432\ttcp\tsnat\t"));
		assert_non_null(strstr(text, "dnat 192.0.2.20:11211 w1 (memcache.test)\t"));
		assert_non_null(strstr(text, "dnat 192.0.2.30:9443 w2 (api.test),"
					     "192.0.2.77:8443 w1\t"));
		free(text);
	}
	/* its AAAA record is counted and reported, not forwarded */
	assert_non_null(find_diag(&dl, "warning: ServiceEntry api: api.test has 1 IPv6 "
				       "address, not forwarded (IPv6 is not forwarded yet)"));
	policy_free(p);
	diag_list_clear(&dl);
	dns_cache_free(c);
}

/* TTLs are respected: no lookup before expiry, a changed answer is reported. */
static void
test_dns_ttl(void **state)
{
	const char *dir = *state;
	const struct dns_answer *a;
	struct diag_list dl = { 0 };
	struct dns_stats st;
	struct dns_cache *c;
	bool changed;

	stub_set("db.test", "192.0.2.10", NULL, 0, 2);
	c = stub_cache(dir, false);
	dns_mark_begin(c);
	assert_int_equal(dns_want(c, "db.test"), 0);
	assert_int_equal(dns_get(c, "db.test")->state, DNS_PENDING);
	assert_int_equal(dns_resolve_now(c, 1000), 1);
	a = dns_get(c, "db.test");
	assert_int_equal(a->state, DNS_OK);
	assert_int_equal(a->n_addrs, 1);
	assert_int_equal(a->addrs[0], inet_addr("192.0.2.10"));
	assert_int_equal(a->expires_ms, 3000);
	assert_int_equal(stub_queries("db.test"), 1);
	/* what the build itself resolved is no change to report */
	assert_int_equal(dns_refresh(c, 1500, &changed), 0);
	assert_false(changed);
	assert_int_equal(stub_queries("db.test"), 1);

	/* same answer after expiry: looked up, nothing changed */
	assert_int_equal(dns_refresh(c, 3000, &changed), 0);
	assert_false(changed);
	assert_int_equal(stub_queries("db.test"), 2);
	assert_int_equal(dns_get(c, "db.test")->expires_ms, 5000);

	/* a new address, in another order: a change, once */
	stub_set("db.test", "192.0.2.12", "192.0.2.10", 0, 2);
	assert_int_equal(dns_refresh(c, 4999, &changed), 0);
	assert_false(changed);
	assert_int_equal(dns_refresh(c, 5000, &changed), 0);
	assert_true(changed);
	assert_false(dns_changed(c));
	a = dns_get(c, "db.test");
	assert_int_equal(a->n_addrs, 2);
	assert_int_equal(a->addrs[0], inet_addr("192.0.2.10"));
	assert_int_equal(a->addrs[1], inet_addr("192.0.2.12"));
	stub_set("db.test", "192.0.2.10", "192.0.2.12", 0, 2);
	assert_int_equal(dns_refresh(c, 7000, &changed), 0);
	assert_false(changed); /* the same set in the other order */

	/* NXDOMAIN is an answer: no address, kept for the negative TTL */
	assert_int_equal(dns_want(c, "gone.test"), 0);
	assert_int_equal(dns_refresh(c, 7000, &changed), 0);
	assert_int_equal(dns_get(c, "gone.test")->state, DNS_NONE);
	assert_int_equal(dns_get(c, "gone.test")->expires_ms, 7000 + 30000);

	dns_stats_get(c, &st);
	assert_int_equal(st.names, 2);
	assert_int_equal(st.lookups, 5);
	assert_int_equal(st.answers, 5);
	assert_int_equal(st.failures, 0);
	assert_int_equal(st.changes, 2);
	assert_int_equal(dns_drain_diags(c, &dl), 0);
	dns_cache_free(c);
}

/* An unreachable resolver keeps the last good addresses, is counted and said once. */
static void
test_dns_unreachable(void **state)
{
	const char *dir = *state;
	const struct dns_answer *a;
	struct diag_list dl = { 0 };
	struct dns_stats st;
	struct dns_cache *c;
	struct policy *p;
	bool changed;
	int r;

	stub_set("db.test", "192.0.2.11", "192.0.2.10", 0, 60);
	stub_set("memcache.test", "192.0.2.20", NULL, 0, 60);
	stub_set("api.test", "192.0.2.30", NULL, 0, 60);
	write_file(dir, "dns.yaml", dns_yaml);
	c = stub_cache(dir, false);
	p = build_ok(dir, c, &dl);
	policy_free(p);
	diag_list_clear(&dl);

	stub_stop();
	assert_int_equal(dns_refresh(c, 1000 + 60000, &changed), 0);
	assert_false(changed);
	a = dns_get(c, "db.test");
	assert_int_equal(a->state, DNS_STALE);
	assert_int_equal(a->n_addrs, 2);
	assert_non_null(a->error);
	assert_int_equal(a->expires_ms, 61000 + 500);
	dns_stats_get(c, &st);
	assert_int_equal(st.failures, 3);
	assert_int_equal(st.stale, 3);
	assert_int_equal(dns_drain_diags(c, &dl), 3);
	assert_non_null(find_diag(&dl, "/resolv.conf: warning: DNS: db.test: no answer from "
				       "the resolver (timeout, refused or SERVFAIL); its last good "
				       "addresses are kept"));
	diag_list_clear(&dl);
	/* failing again: counted, not said again */
	assert_int_equal(dns_refresh(c, 62000, &changed), 0);
	dns_stats_get(c, &st);
	assert_int_equal(st.failures, 6);
	assert_int_equal(dns_drain_diags(c, &dl), 0);

	/* a rebuild meanwhile keeps the rules, and warns */
	p = build_ok(dir, c, &dl);
	r = rule_find(p, "192.0.2.10", 32, 5432, IPPROTO_TCP);
	assert_true(r >= 0);
	assert_non_null(find_diag(&dl, "warning: ServiceEntry db: the resolver fails for "
				       "db.test (no answer from the resolver (timeout, refused or "
				       "SERVFAIL)); its last good addresses are kept"));
	policy_free(p);
	diag_list_clear(&dl);

	/* never answered and unreachable: one timeout for every name at start-up */
	assert_int_equal(dns_want(c, "new.test"), 0);
	assert_int_equal(dns_want(c, "new2.test"), 0);
	assert_int_equal(dns_resolve_now(c, 63000), 1);
	assert_int_equal(dns_get(c, "new.test")->state, DNS_FAILED);
	assert_int_equal(dns_get(c, "new2.test")->state, DNS_FAILED);
	assert_int_equal(dns_get(c, "new2.test")->n_addrs, 0);
	dns_cache_free(c);
}

/* The resolver thread: lookups off the caller's thread, results in dns_refresh(). */
static void
test_dns_background(void **state)
{
	const char *dir = *state;
	struct dns_cache *c;
	bool changed = false;
	unsigned int i;

	stub_set("bg.test", "192.0.2.40", NULL, 0, 60);
	c = stub_cache(dir, true);
	dns_mark_begin(c);
	assert_int_equal(dns_want(c, "bg.test"), 0);
	for (i = 0; i < 500 && !changed; i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		assert_int_equal(dns_refresh(c, 1000 + i, &changed), 0);
		if (!changed)
			nanosleep(&ts, NULL);
	}
	assert_true(changed);
	assert_int_equal(dns_get(c, "bg.test")->state, DNS_OK);
	assert_int_equal(dns_get(c, "bg.test")->addrs[0], inet_addr("192.0.2.40"));
	/* a name the next build no longer wants is forgotten */
	dns_mark_begin(c);
	dns_sweep(c);
	assert_null(dns_get(c, "bg.test"));
	dns_cache_free(c);
}

/* Bad names and parameters are refused; free(NULL) is a no-op. */
static void
test_dns_api(void **state)
{
	struct dns_params bad = { .min_ttl_ms = 10000, .max_ttl_ms = 1000 };
	struct dns_cache *c;
	char longname[1100];

	(void)state;
	dns_cache_free(NULL);
	assert_null(dns_cache_create(&bad));
	assert_int_equal(rte_errno, EINVAL);
	c = dns_cache_create(NULL);
	assert_non_null(c);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(dns_want(c, ""), -EINVAL);
	assert_int_equal(dns_want(c, longname), -EINVAL);
	assert_null(dns_get(c, "nothing.test"));
	assert_string_equal(dns_state_name(DNS_STALE), "STALE");
	dns_cache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_valid),
		cmocka_unit_test(test_golden_compile_errors),
		cmocka_unit_test(test_static_targets),
		cmocka_unit_test(test_se_istio_odd),
		cmocka_unit_test_setup_teardown(test_route_own_address, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_route_no_endpoints, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test(test_vs_routes),
		cmocka_unit_test(test_sidecar_outbound),
		cmocka_unit_test(test_scope_export),
		cmocka_unit_test_setup_teardown(test_scope_namespace, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_scope_sidecar, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test(test_scope_selector),
		cmocka_unit_test_setup_teardown(test_sidecar_refused_allow_any, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test(test_dr_port_settings),
		cmocka_unit_test_setup_teardown(test_classify, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_classify_empty, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_classify_stages, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_dns_compile, stub_setup, stub_teardown),
		cmocka_unit_test_setup_teardown(test_dns_ttl, stub_setup, stub_teardown),
		cmocka_unit_test_setup_teardown(test_dns_unreachable, stub_setup, stub_teardown),
		cmocka_unit_test_setup_teardown(test_dns_background, stub_setup, stub_teardown),
		cmocka_unit_test(test_dns_api),
	};

	if (test_eal_init("policy") < 0)
		return 1;
	pthread_mutex_init(&stub.lock, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
