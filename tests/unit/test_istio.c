/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Istio loader (lib/policy/istio*.c): the seed scenario, a corpus of valid
 * and invalid documents compared with their exact diagnostics, folder loading
 * (a Kubernetes ConfigMap mount included), and what each resource puts into
 * the model. No EAL needed: the loader is plain C on the control thread.
 *
 * Corpus: tests/data/istio/{valid,invalid}/NAME.yaml, each with an optional
 * NAME.expected holding every diagnostic, one "FILE:LINE:COL: severity: msg"
 * per line, in order (no file: no diagnostics at all). Files are loaded from
 * inside their folder, so FILE is the bare name. ISTIO_CORPUS_UPDATE=1
 * rewrites the .expected files from the current output (review the diff).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test_common.h"
#include "test_policy_common.h"

#include "istio_dr_private.h"
#include "policy_private.h"

#define LINE_MAX_LEN 1024
#define RE2_WORDS                                                                                  \
	"Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)"

/* The diagnostic that ends with suffix, or NULL. */
static const struct diag *
find_diag(const struct diag_list *dl, const char *suffix)
{
	char buf[LINE_MAX_LEN];
	size_t i;

	for (i = 0; i < dl->n; i++) {
		diag_format(&dl->v[i], buf, sizeof(buf));
		if (ends_with(buf, suffix))
			return &dl->v[i];
	}
	return NULL;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.yaml files of dir, sorted; NULL-terminated, caller frees. */
static char **
list_yaml(const char *dir)
{
	size_t n = 0, cap = 64;
	char **v = calloc(cap + 1, sizeof(*v));
	struct dirent *de;
	DIR *d = opendir(dir);

	assert_non_null(d);
	assert_non_null(v);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !ends_with(de->d_name, ".yaml"))
			continue;
		if (n == cap) {
			cap *= 2;
			v = realloc(v, (cap + 1) * sizeof(*v));
			assert_non_null(v);
		}
		v[n++] = strdup(de->d_name);
	}
	v[n] = NULL;
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

/* name.yaml -> name.expected */
static void
expected_path(const char *yaml, char *out, size_t size)
{
	size_t len = strlen(yaml) - strlen(".yaml");

	snprintf(out, size, "%.*s.expected", (int)len, yaml);
}

/*
 * Compare dl with the .expected file of yaml (cwd: the corpus folder).
 * @return the number of mismatches, after printing them.
 */
static int
compare_expected(const char *yaml, const struct diag_list *dl)
{
	char path[PATH_MAX], line[LINE_MAX_LEN], got[LINE_MAX_LEN];
	FILE *f;
	size_t i = 0;
	int bad = 0;

	expected_path(yaml, path, sizeof(path));
	if (getenv("ISTIO_CORPUS_UPDATE") != NULL) {
		if (dl->n == 0) {
			unlink(path);
			return 0;
		}
		f = fopen(path, "w");
		assert_non_null(f);
		for (i = 0; i < dl->n; i++) {
			diag_format(&dl->v[i], got, sizeof(got));
			fprintf(f, "%s\n", got);
		}
		fclose(f);
		return 0;
	}
	f = fopen(path, "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (i >= dl->n) {
			fprintf(stderr, "%s: missing: %s\n", yaml, line);
			bad++;
			continue;
		}
		diag_format(&dl->v[i++], got, sizeof(got));
		if (strcmp(line, got) != 0) {
			fprintf(stderr, "%s: expected: %s\n%s:      got: %s\n", yaml, line, yaml,
				got);
			bad++;
		}
	}
	if (f != NULL)
		fclose(f);
	for (; i < dl->n; i++) {
		diag_format(&dl->v[i], got, sizeof(got));
		fprintf(stderr, "%s: unexpected: %s\n", yaml, got);
		bad++;
	}
	return bad;
}

/* Load every file of a corpus folder on its own and compare its diagnostics. */
static void
run_corpus(const char *dir, bool valid)
{
	struct egress_config cfg;
	char cwd[PATH_MAX];
	char **files;
	int bad = 0;
	size_t i;

	test_cfg(&cfg);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	files = list_yaml(dir);
	assert_non_null(files[0]);
	assert_int_equal(chdir(dir), 0);
	for (i = 0; files[i] != NULL; i++) {
		struct policy_model m = { 0 };
		struct diag_list dl = { 0 };
		int rc = istio_load_file(&cfg, &m, files[i], &dl);

		if (valid && (rc != 0 || diag_errors(&dl) != 0)) {
			fprintf(stderr, "%s: rc %d, %zu errors, want none\n", files[i], rc,
				diag_errors(&dl));
			bad++;
		} else if (!valid && (rc != -EINVAL || diag_errors(&dl) == 0)) {
			fprintf(stderr, "%s: rc %d, %zu errors, want -EINVAL\n", files[i], rc,
				diag_errors(&dl));
			bad++;
		}
		bad += compare_expected(files[i], &dl);
		policy_model_free(&m);
		diag_list_clear(&dl);
	}
	assert_int_equal(chdir(cwd), 0);
	free_list(files);
	assert_int_equal(bad, 0);
}

static void
test_corpus_valid(void **state)
{
	(void)state;
	run_corpus(CORPUS "/valid", true);
}

static void
test_corpus_invalid(void **state)
{
	(void)state;
	run_corpus(CORPUS "/invalid", false);
}

/*
 * Parity with Istio's own validation: tests/data/istio/parity/KIND/VERDICT/
 * NAME.yaml, one case per file, VERDICT what Istio's validation says of it
 * ("valid" or "invalid"); the first comment of each file names the Istio rule
 * or test it follows. egressd agrees when a valid case loads without error
 * and an invalid one is refused. Where it knowingly disagrees, the case is
 * listed in parity/KIND/DISAGREEMENTS ("KIND/VERDICT/NAME.yaml: why"); the test
 * fails on a disagreement not listed there, on a listed case that now agrees
 * (the list must stay true), and below 95 % agreement.
 */
#define PARITY           CORPUS "/parity"
#define PARITY_MIN_CASES 791 /* fewer: cases were lost */

struct parity_known {
	char **v;
	size_t n;
	bool *seen;
};

/* Append the cases parity/KIND/DISAGREEMENTS lists to k. */
static void
parity_known_load(struct parity_known *k, const char *kind)
{
	char line[LINE_MAX_LEN];
	size_t cap = k->n;
	FILE *f;

	snprintf(line, sizeof(line), PARITY "/%s/DISAGREEMENTS", kind);
	f = fopen(line, "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *colon = strstr(line, ".yaml:");

		if (line[0] == '#' || line[0] == '\n')
			continue;
		assert_non_null(colon); /* "KIND/VERDICT/NAME.yaml: why" */
		colon[strlen(".yaml")] = '\0';
		if (k->n == cap) {
			cap = cap ? 2 * cap : 32;
			k->v = realloc(k->v, cap * sizeof(*k->v));
			k->seen = realloc(k->seen, cap * sizeof(*k->seen));
			assert_non_null(k->v);
			assert_non_null(k->seen);
		}
		k->seen[k->n] = false;
		k->v[k->n++] = strdup(line);
	}
	fclose(f);
}

/* Is case (KIND/VERDICT/NAME.yaml) listed? Marks it seen. */
static bool
parity_known_has(struct parity_known *k, const char *c)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (strcmp(k->v[i], c) == 0) {
			k->seen[i] = true;
			return true;
		}
	return false;
}

/* Run the cases of one folder; @return how many agree, *n: how many ran. */
static size_t
parity_dir(const char *kind, const char *verdict, struct parity_known *k, size_t *n, int *bad)
{
	struct egress_config cfg;
	char dir[PATH_MAX / 2], path[PATH_MAX], id[PATH_MAX];
	struct stat st;
	size_t i, agree = 0;
	char **files;

	snprintf(dir, sizeof(dir), PARITY "/%s/%s", kind, verdict);
	*n = 0;
	if (stat(dir, &st) != 0)
		return 0;
	test_cfg(&cfg);
	files = list_yaml(dir);
	for (i = 0; files[i] != NULL; i++) {
		struct policy_model m = { 0 };
		struct diag_list dl = { 0 };
		bool valid = strcmp(verdict, "valid") == 0;
		bool loads, listed;
		int rc;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		snprintf(id, sizeof(id), "%s/%s/%s", kind, verdict, files[i]);
		rc = istio_load_file(&cfg, &m, path, &dl);
		loads = rc == 0 && diag_errors(&dl) == 0;
		if (!loads && rc != -EINVAL) {
			fprintf(stderr, "parity: %s: rc %d (want 0 or -EINVAL)\n", id, rc);
			(*bad)++;
		}
		listed = parity_known_has(k, id);
		if (loads == valid) {
			agree++;
			if (listed) {
				fprintf(stderr,
					"parity: %s: agrees with Istio now, "
					"remove it from DISAGREEMENTS\n",
					id);
				(*bad)++;
			}
		} else if (!listed) {
			fprintf(stderr, "parity: %s: Istio says %s, egressd %s it\n", id, verdict,
				loads ? "accepts" : "refuses");
			print_diags(&dl);
			(*bad)++;
		}
		(*n)++;
		policy_model_free(&m);
		diag_list_clear(&dl);
	}
	free_list(files);
	return agree;
}

static void
test_istio_parity(void **state)
{
	static const char *const verdicts[] = { "valid", "invalid" };
	struct parity_known k = { 0 };
	size_t total = 0, agree = 0, i;
	struct dirent *de;
	char **kinds = NULL;
	size_t n_kinds = 0;
	int bad = 0;
	DIR *d;

	(void)state;
	d = opendir(PARITY);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		char sub[PATH_MAX];
		struct stat st;

		snprintf(sub, sizeof(sub), PARITY "/%s", de->d_name);
		if (de->d_name[0] == '.' || stat(sub, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		kinds = realloc(kinds, (n_kinds + 1) * sizeof(*kinds));
		assert_non_null(kinds);
		kinds[n_kinds++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(kinds, n_kinds, sizeof(*kinds), cmp_str);
	for (i = 0; i < n_kinds; i++) {
		size_t kind_n = 0, kind_agree = 0, v;

		parity_known_load(&k, kinds[i]);
		for (v = 0; v < 2; v++) {
			size_t n;

			kind_agree += parity_dir(kinds[i], verdicts[v], &k, &n, &bad);
			kind_n += n;
		}
		printf("parity: %-16s %3zu of %3zu agree with Istio\n", kinds[i], kind_agree,
		       kind_n);
		total += kind_n;
		agree += kind_agree;
		free(kinds[i]);
	}
	free(kinds);
	printf("parity: %-16s %3zu of %3zu agree with Istio (%.1f %%)\n", "all", agree, total,
	       total ? 100.0 * (double)agree / (double)total : 0.0);
	for (i = 0; i < k.n; i++) {
		if (!k.seen[i]) {
			fprintf(stderr, "parity: DISAGREEMENTS lists %s, which is no case\n",
				k.v[i]);
			bad++;
		}
		free(k.v[i]);
	}
	free(k.v);
	free(k.seen);
	assert_int_equal(bad, 0);
	assert_true(total >= PARITY_MIN_CASES);
	assert_true(agree * 100 >= total * 95);
}

/* The seed's two files, placeholder filled in, load and mean what they say. */
static void
test_seed(void **state)
{
	struct policy_model m = { 0 };
	struct diag_list dl = { 0 };
	struct egress_config cfg;
	char *sources[1];
	const struct service_entry *se;
	const struct gateway *gw;
	const struct destination_rule *dr;
	int rc;

	(void)state;
	test_cfg(&cfg);
	sources[0] = realpath(CORPUS "/seed", NULL);
	assert_non_null(sources[0]);
	cfg.sources = sources;
	cfg.n_sources = 1;

	rc = istio_load_sources(&cfg, &m, &dl);
	if (rc != 0 || dl.n != 1)
		print_diags(&dl);
	assert_int_equal(rc, 0);
	assert_int_equal(diag_errors(&dl), 0);
	/* the one non-Istio field of the seed: a warning that names it */
	assert_int_equal(dl.n, 1);
	assert_non_null(find_diag(&dl, "/redis-egress.yaml:15:5: warning: "
				       "spec.servers[0].addresses: unknown field, ignored"));

	/* folder order: sorted by name */
	assert_int_equal(m.n_files, 2);
	assert_true(ends_with(m.files[0], "/seed/redis-egress.yaml"));
	assert_true(ends_with(m.files[1], "/seed/redis-serviceentry.yaml"));

	assert_int_equal(m.n_ses, 1);
	se = &m.ses[0];
	assert_string_equal(se->name, "redis-serviceentry");
	assert_string_equal(se->ns, "");
	assert_int_equal(se->n_hosts, 1);
	assert_string_equal(se->hosts[0], "redis.domain");
	assert_int_equal(se->n_addresses, 1);
	assert_false(se->addresses[0].v6);
	assert_false(se->addresses[0].cidr);
	assert_int_equal(se->addresses[0].ip, 0x0a3b763b); /* 10.59.118.59 */
	assert_int_equal(se->addresses[0].prefix_len, 32);
	assert_int_equal(se->addresses[0].pos.line, 9);
	assert_int_equal(se->addresses[0].pos.col, 5);
	assert_int_equal(se->n_ports, 1);
	assert_int_equal(se->ports[0].number, 6379);
	assert_string_equal(se->ports[0].name, "tcp-redis");
	assert_string_equal(se->ports[0].protocol, "TCP");
	assert_int_equal(se->ports[0].l4proto, IPPROTO_TCP);
	assert_int_equal(se->ports[0].target_port, 0);
	assert_int_equal(se->n_endpoints, 0);
	assert_int_equal(se->location, SE_LOC_MESH_EXTERNAL);
	assert_int_equal(se->resolution, SE_RES_NONE);
	assert_true(ends_with(se->pos.file, "/redis-serviceentry.yaml"));
	assert_int_equal(se->pos.doc, 0);
	assert_int_equal(se->pos.line, 4);
	assert_int_equal(se->pos.col, 9);

	assert_int_equal(m.n_gateways, 1);
	gw = &m.gateways[0];
	assert_string_equal(gw->name, "istio-egressgateway");
	assert_true(gw->selects_us);
	assert_int_equal(gw->n_selector, 1);
	assert_string_equal(gw->selector[0].key, "istio");
	assert_string_equal(gw->selector[0].value, "egressgateway");
	assert_int_equal(gw->n_servers, 1);
	assert_int_equal(gw->servers[0].port, 6379);
	assert_string_equal(gw->servers[0].port_name, "tcp-redis");
	assert_string_equal(gw->servers[0].protocol, "TCP");
	assert_int_equal(gw->servers[0].n_hosts, 1);
	assert_string_equal(gw->servers[0].hosts[0], "redis.domain");
	assert_null(gw->servers[0].tls_mode);

	assert_int_equal(m.n_drs, 1);
	dr = &m.drs[0];
	assert_string_equal(dr->name, "redis-egressgateway");
	assert_string_equal(dr->host, "istio-egressgateway.istio-system.svc.cluster.local");
	assert_int_equal(dr->n_subsets, 1);
	assert_string_equal(dr->subsets[0].name, "redis-serviceentry");
	assert_int_equal(dr->max_connections, 0);
	assert_int_equal(dr->connect_timeout_ms, 0);
	assert_true(ends_with(dr->pos.file, "/redis-egress.yaml"));
	assert_int_equal(dr->pos.doc, 1);

	policy_model_free(&m);
	diag_list_clear(&dl);
	free(sources[0]);
}

/* The seed exactly as published: REDIS_ENDPOINT is an error at its position. */
static void
test_seed_raw(void **state)
{
	struct policy_model m = { 0 };
	struct diag_list dl = { 0 };
	struct egress_config cfg;
	char buf[LINE_MAX_LEN];
	int rc;

	(void)state;
	test_cfg(&cfg);
	rc = istio_load_file(&cfg, &m, CORPUS "/invalid/seed-redis-serviceentry-raw.yaml", &dl);
	assert_int_equal(rc, -EINVAL);
	assert_int_equal(dl.n, 1);
	diag_format(&dl.v[0], buf, sizeof(buf));
	assert_string_equal(buf,
			    CORPUS "/invalid/seed-redis-serviceentry-raw.yaml:9:5: error: "
				   "spec.addresses[0]: invalid address \"REDIS_ENDPOINT\" (want an "
				   "IPv4/IPv6 address or CIDR)");
	policy_model_free(&m);
	diag_list_clear(&dl);
}

static void
load_corpus_file(const char *name, struct policy_model *m, struct diag_list *dl)
{
	struct egress_config cfg;
	char path[PATH_MAX];
	int rc;

	test_cfg(&cfg);
	snprintf(path, sizeof(path), CORPUS "/%s", name);
	rc = istio_load_file(&cfg, m, path, dl);
	if (rc != 0)
		print_diags(dl);
	assert_int_equal(rc, 0);
}

/* STATIC endpoints: weights, port maps, targetPort, case of protocols. */
static void
test_model_static(void **state)
{
	struct policy_model m = { 0 };
	struct diag_list dl = { 0 };
	const struct service_entry *se;

	(void)state;
	load_corpus_file("valid/se-static-endpoints.yaml", &m, &dl);
	assert_int_equal(m.n_ses, 1);
	se = &m.ses[0];
	assert_string_equal(se->ns, "cart");
	assert_int_equal(se->resolution, SE_RES_STATIC);
	assert_int_equal(se->n_ports, 2);
	assert_string_equal(se->ports[0].protocol, "REDIS");
	assert_int_equal(se->ports[0].target_port, 6380);
	assert_string_equal(se->ports[1].protocol, "TLS");
	assert_int_equal(se->ports[1].l4proto, IPPROTO_TCP);
	assert_int_equal(se->n_endpoints, 2);
	assert_string_equal(se->endpoints[0].address, "10.59.118.60");
	assert_true(se->endpoints[0].is_ip);
	assert_false(se->endpoints[0].is_ip6);
	assert_int_equal(se->endpoints[0].ip, 0x0a3b763c);
	assert_int_equal(se->endpoints[0].weight, 3);
	assert_int_equal(se->endpoints[0].n_ports, 1);
	assert_string_equal(se->endpoints[0].ports[0].name, "tcp-redis");
	assert_int_equal(se->endpoints[0].ports[0].number, 6390);
	assert_int_equal(se->endpoints[0].pos.line, 24);
	assert_int_equal(se->endpoints[1].weight, 1);
	assert_int_equal(se->endpoints[1].n_ports, 0);
	policy_model_free(&m);
	diag_list_clear(&dl);
}

/* DNS endpoints are modelled as written; resolving them is not the loader's job. */
static void
test_model_dns_and_cidr(void **state)
{
	struct policy_model m = { 0 };
	struct diag_list dl = { 0 };
	const struct service_entry *se;

	(void)state;
	load_corpus_file("valid/se-dns.yaml", &m, &dl);
	load_corpus_file("valid/se-none-cidr.yaml", &m, &dl);
	assert_int_equal(m.n_files, 2);
	assert_int_equal(m.n_ses, 4);
	se = &m.ses[1];
	assert_string_equal(se->name, "db-dns-endpoints");
	assert_int_equal(se->pos.doc, 1);
	assert_int_equal(se->resolution, SE_RES_DNS);
	assert_false(se->endpoints[0].is_ip);
	assert_string_equal(se->endpoints[0].address, "db-primary.example.com");
	assert_true(se->endpoints[1].is_ip);
	assert_int_equal(m.ses[2].resolution, SE_RES_DNS_ROUND_ROBIN);
	/* no protocol: Istio sniffs it, TCP at L4 */
	assert_string_equal(m.ses[2].ports[0].protocol, "");
	assert_int_equal(m.ses[2].ports[0].l4proto, IPPROTO_TCP);

	se = &m.ses[3];
	assert_int_equal(se->n_addresses, 2);
	assert_true(se->addresses[0].cidr);
	assert_int_equal(se->addresses[0].ip, 0xc6336400); /* 198.51.100.0 */
	assert_int_equal(se->addresses[0].prefix_len, 24);
	assert_true(se->addresses[1].cidr);
	assert_int_equal(se->addresses[1].prefix_len, 32);
	assert_string_equal(se->ports[1].protocol, "UDP");
	assert_int_equal(se->ports[1].l4proto, IPPROTO_UDP);
	assert_string_equal(se->hosts[1], "*.partner-backup.example.com");
	policy_model_free(&m);
	diag_list_clear(&dl);
}

/* IPv6 is parsed and kept, host bits cleared, flagged by warnings. */
static void
test_model_ipv6(void **state)
{
	static const uint8_t db8[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	struct policy_model m = { 0 };
	struct diag_list dl = { 0 };
	const struct service_entry *se;

	(void)state;
	load_corpus_file("valid/l4-warnings.yaml", &m, &dl);
	se = &m.ses[0];
	assert_int_equal(se->n_addresses, 4);
	assert_true(se->addresses[0].v6);
	assert_int_equal(se->addresses[0].prefix_len, 32);
	assert_memory_equal(se->addresses[0].ip6, db8, 16);
	assert_true(se->addresses[1].v6);
	assert_false(se->addresses[1].cidr);
	assert_int_equal(se->addresses[1].prefix_len, 128);
	assert_int_equal(se->addresses[1].ip6[15], 1);
	assert_int_equal(se->addresses[2].prefix_len, 0);
	assert_int_equal(se->addresses[2].ip, 0);
	assert_true(m.ses[2].endpoints[2].is_ip6);
	policy_model_free(&m);
	diag_list_clear(&dl);
}

/*
 * ServiceEntries Istio accepts and egressd once refused: a prefix with host
 * bits is kept as its network, the appliance's own addresses and endpoints it
 * cannot reach are kept but ignored (the compiler skips them), names in
 * either case, partial wildcards and HTTP_PROXY are taken as written.
 */
static void
test_model_istio_odd(void **state)
{
	struct policy_model m = { 0 };
	struct diag_list dl = { 0 };
	const struct service_entry *se;

	(void)state;
	load_corpus_file("valid/se-istio-odd.yaml", &m, &dl);
	assert_int_equal(diag_errors(&dl), 0);
	assert_int_equal(m.n_ses, 9);
	se = &m.ses[0];
	assert_int_equal(se->n_addresses, 1);
	assert_int_equal(se->addresses[0].ip, 0xac010000); /* 172.1.0.0 */
	assert_int_equal(se->addresses[0].prefix_len, 16);
	assert_false(se->addresses[0].ignored);
	assert_int_equal(m.ses[1].n_ports, 0); /* no-ports */
	assert_int_equal(m.ses[2].n_endpoints, 0);
	assert_int_equal(m.ses[2].resolution, SE_RES_STATIC);

	se = &m.ses[3]; /* endpoints-ignored */
	assert_int_equal(se->n_endpoints, 4);
	assert_true(se->endpoints[0].ignored); /* unix socket */
	assert_false(se->endpoints[0].is_ip);
	assert_true(se->endpoints[1].ignored); /* network only */
	assert_string_equal(se->endpoints[1].address, "");
	assert_int_equal(se->endpoints[1].pos.line, 58);
	assert_true(se->endpoints[2].ignored); /* the appliance */
	assert_true(se->endpoints[2].is_ip);
	assert_false(se->endpoints[3].ignored);

	se = &m.ses[6]; /* own-address */
	assert_int_equal(se->n_addresses, 2);
	assert_true(se->addresses[0].ignored);
	assert_false(se->addresses[1].ignored);

	se = &m.ses[8]; /* names-istio-allows */
	assert_string_equal(se->hosts[0], "*wiki.example.com");
	assert_string_equal(se->hosts[1], "Docs.Example.COM");
	assert_string_equal(se->ports[0].name, "HTTP-Proxy");
	assert_string_equal(se->ports[0].protocol, "HTTP_PROXY");
	assert_int_equal(se->ports[0].l4proto, IPPROTO_TCP);
	assert_true(istio_proto_is_http("http_proxy"));
	assert_int_equal(se->n_addresses, 2);
	assert_true(se->addresses[1].v6);
	assert_int_equal(se->addresses[1].ip6[0], 0xfe);
	assert_int_equal(se->addresses[1].ip6[15], 1);
	policy_model_free(&m);
	diag_list_clear(&dl);
}

/* n items made by item(i), ", " between them; @return the length written. */
static size_t
join_items(char *out, size_t cap, unsigned int n, int (*item)(char *, size_t, unsigned int))
{
	size_t len = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			len += (size_t)snprintf(out + len, cap - len, ", ");
		len += (size_t)item(out + len, cap - len, i);
	}
	return len;
}

/* A line "prefix[items]". */
static size_t
flow_list(char *out, size_t cap, const char *prefix, unsigned int n,
	  int (*item)(char *, size_t, unsigned int))
{
	size_t len = (size_t)snprintf(out, cap, "%s[", prefix);

	len += join_items(out + len, cap - len, n, item);
	return len + (size_t)snprintf(out + len, cap - len, "]\n");
}

static int
host_item(char *o, size_t c, unsigned int i)
{
	return snprintf(o, c, "h%u.example.com", i);
}

static int
address_item(char *o, size_t c, unsigned int i)
{
	return snprintf(o, c, "10.0.%u.%u", i / 256, i % 256);
}

static int
port_item(char *o, size_t c, unsigned int i)
{
	return snprintf(o, c, "{number: %u, name: p%u, protocol: HTTP}", i + 1, i);
}

static int
endpoint_item(char *o, size_t c, unsigned int i)
{
	return snprintf(o, c, "{address: 172.16.%u.%u}", i / 256, i % 256);
}

static int
label_item(char *o, size_t c, unsigned int i)
{
	return snprintf(o, c, "l%u: v", i);
}

/*
 * The CRD's MaxItems and MaxProperties (hosts, addresses, ports: 256,
 * endpoints: 4096, an endpoint's labels: 256): at the limit an entry loads,
 * one more is refused at the list, in the API server's words.
 */
static void
test_se_crd_limits(void **state)
{
	size_t cap = 1u << 20, len;
	char *yaml = malloc(cap);
	unsigned int over;

	(void)state;
	assert_non_null(yaml);
	for (over = 0; over <= 1; over++) {
		struct policy_model m = { 0 };
		struct diag_list dl = { 0 };
		struct egress_config cfg;
		char want[128];
		int col;

		len = (size_t)snprintf(yaml, cap,
				       "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
				       "metadata: {name: limits}\nspec:\n");
		len += flow_list(yaml + len, cap - len, "  hosts: ", 256 + over, host_item);
		len += flow_list(yaml + len, cap - len, "  addresses: ", 256 + over, address_item);
		len += flow_list(yaml + len, cap - len, "  ports: ", 256 + over, port_item);
		len += (size_t)snprintf(yaml + len, cap - len, "  resolution: STATIC\n");
		/* endpoints: the first with the labels, then the others */
		len += (size_t)snprintf(yaml + len, cap - len,
					"  endpoints: [{address: 172.17.0.1, labels: {");
		len += join_items(yaml + len, cap - len, 256 + over, label_item);
		len += (size_t)snprintf(yaml + len, cap - len, "}}, ");
		len += join_items(yaml + len, cap - len, 4095 + over, endpoint_item);
		len += (size_t)snprintf(yaml + len, cap - len, "]\n");
		test_cfg(&cfg);
		istio_load_buffer(&cfg, &m, "limits.yaml", yaml, len, &dl);
		if (!over) {
			if (diag_errors(&dl) != 0)
				print_diags(&dl);
			assert_int_equal(diag_errors(&dl), 0);
			assert_int_equal(m.n_ses, 1);
			assert_int_equal(m.ses[0].n_endpoints, 4096);
			assert_int_equal(m.ses[0].endpoints[0].n_labels, 256);
		} else {
			assert_int_equal(diag_errors(&dl), 5);
			assert_non_null(find_diag(&dl,
						  "limits.yaml:5:10: error: spec.hosts: Too many: "
						  "257: must have at most 256 items"));
			assert_non_null(find_diag(&dl,
						  "limits.yaml:6:14: error: spec.addresses: Too "
						  "many: 257: must have at most 256 items"));
			assert_non_null(find_diag(&dl,
						  "limits.yaml:7:10: error: spec.ports: Too many: "
						  "257: must have at most 256 items"));
			assert_non_null(find_diag(&dl,
						  "limits.yaml:9:14: error: spec.endpoints: Too "
						  "many: 4097: must have at most 4096 items"));
			col = (int)strlen("  endpoints: [{address: 172.17.0.1, labels: ");
			snprintf(
				want, sizeof(want),
				"limits.yaml:9:%d: error: spec.endpoints[0].labels: Too many: 257: "
				"must have at most 256 items",
				col + 1);
			assert_non_null(find_diag(&dl, want));
		}
		policy_model_free(&m);
		diag_list_clear(&dl);
	}
	free(yaml);
}

/* Gateways: selection by the appliance's labels; DestinationRule limits. */
static void
test_model_gateway_dr(void **state)
{
	struct policy_model m = { 0 };
	struct diag_list dl = { 0 };
	const struct gateway *gw;
	const struct destination_rule *dr;

	(void)state;
	load_corpus_file("valid/gateway-dr.yaml", &m, &dl);
	assert_int_equal(m.n_gateways, 2);
	gw = &m.gateways[0];
	assert_string_equal(gw->ns, "istio-system");
	assert_true(gw->selects_us);
	assert_int_equal(gw->n_servers, 3);
	assert_string_equal(gw->servers[0].tls_mode, "PASSTHROUGH");
	assert_string_equal(gw->servers[1].tls_mode, "AUTO_PASSTHROUGH");
	assert_string_equal(gw->servers[1].hosts[0], "istio-system/*.global");
	assert_null(gw->servers[2].tls_mode);
	assert_int_equal(gw->servers[2].port, 6379);
	assert_false(m.gateways[1].selects_us);

	assert_int_equal(m.n_drs, 1);
	dr = &m.drs[0];
	assert_int_equal(dr->max_connections, 100);
	assert_int_equal(dr->connect_timeout_ms, 90000);
	assert_int_equal(dr->n_subsets, 1);
	assert_string_equal(dr->subsets[0].name, "primary");
	policy_model_free(&m);
	diag_list_clear(&dl);
}

/* VirtualService routes, DestinationRule settings and Sidecars as modelled. */
static void
test_model_vs_dr_sidecar(void **state)
{
	struct policy_model m = { 0 };
	struct diag_list dl = { 0 };
	const struct virtual_service *vs;
	const struct destination_rule *dr;
	const struct vs_route *r;

	(void)state;
	load_corpus_file("valid/vs-routes.yaml", &m, &dl);
	assert_int_equal(m.n_vss, 2);
	vs = &m.vss[0];
	assert_string_equal(vs->name, "redis-split");
	assert_int_equal(vs->n_gateways, 2);
	assert_string_equal(vs->gateways[1], "istio-system/egress");
	assert_int_equal(vs->n_routes, 3);
	r = &vs->routes[1];
	assert_false(r->tls);
	assert_int_equal(r->index, 1);
	assert_int_equal(r->n_matches, 1);
	assert_int_equal(r->matches[0].n_subnets, 1);
	assert_int_equal(r->matches[0].subnets[0].ip, 0x0a3b0700); /* 10.59.7.0 */
	assert_int_equal(r->matches[0].subnets[0].prefix_len, 24);
	assert_int_equal(r->matches[0].port, 6379);
	assert_string_equal(r->dests[0].subset, "primary");
	r = &vs->routes[2];
	assert_int_equal(r->n_dests, 2);
	assert_int_equal(r->dests[0].weight, 80);
	assert_true(r->dests[0].has_weight);
	assert_int_equal(r->dests[1].port, 6380);
	assert_string_equal(vs->routes[0].matches[0].gateways[0], "mesh");
	assert_true(m.vss[1].routes[0].tls);

	dr = &m.drs[0];
	assert_int_equal(dr->s.max_connections, 100);
	assert_true(dr->s.has_lb);
	assert_int_equal(dr->s.lb, POLICY_LB_LEAST_CONN);
	assert_int_equal(dr->n_subsets, 1);
	assert_int_equal(dr->subsets[0].n_labels, 1);
	assert_string_equal(dr->subsets[0].labels[0].key, "role");
	assert_int_equal(dr->subsets[0].s.lb, POLICY_LB_CONSISTENT_SOURCE_IP);
	assert_false(dr->subsets[0].s.has_max_connections);
	assert_int_equal(m.ses[1].endpoints[0].n_labels, 1);
	assert_string_equal(m.ses[1].endpoints[0].labels[0].value, "primary");
	policy_model_free(&m);
	diag_list_clear(&dl);

	load_corpus_file("valid/sidecar.yaml", &m, &dl);
	assert_int_equal(m.n_sidecars, 2);
	assert_true(m.sidecars[0].selects_us);
	assert_true(m.sidecars[0].has_outbound);
	assert_int_equal(m.sidecars[0].outbound, EGRESS_OUTBOUND_ALLOW_ANY);
	assert_false(m.sidecars[1].selects_us); /* app=cart is not this appliance */
	assert_true(m.sidecars[1].has_selector);
	policy_model_free(&m);
	diag_list_clear(&dl);

	load_corpus_file("valid/dr-settings.yaml", &m, &dl);
	dr = &m.drs[0];
	assert_int_equal(dr->n_ports, 1);
	assert_int_equal(dr->ports[0].port, 5433);
	assert_int_equal(dr->ports[0].s.max_connections, 2);
	assert_int_equal(dr->ports[0].s.connect_timeout_ms, 250);
	policy_model_free(&m);
	diag_list_clear(&dl);
}

static int
load_buf(const struct egress_config *cfg, struct policy_model *m, struct diag_list *dl,
	 const char *yaml)
{
	return istio_load_buffer(cfg, m, "inline.yaml", yaml, strlen(yaml), dl);
}

/* A DestinationRule whose connectTimeout is text (on line 6, at column 58). */
static int
load_connect_timeout(const struct egress_config *cfg, struct policy_model *m, struct diag_list *dl,
		     const char *text)
{
	char yaml[512];

	snprintf(yaml, sizeof(yaml),
		 "apiVersion: networking.istio.io/v1\n"
		 "kind: DestinationRule\n"
		 "metadata: {name: d}\n"
		 "spec:\n"
		 "  host: redis.domain\n"
		 "  trafficPolicy: {connectionPool: {tcp: {connectTimeout: \"%s\"}}}\n",
		 text);
	return load_buf(cfg, m, dl, yaml);
}

/*
 * dl holds one diagnostic, at the connectTimeout load_connect_timeout()
 * wrote: SEV, the path, then PRE TEXT POST.
 */
static void
assert_timeout_diag(const struct diag_list *dl, const char *sev, const char *pre, const char *text,
		    const char *post)
{
	char buf[LINE_MAX_LEN], want[LINE_MAX_LEN];

	assert_int_equal(dl->n, 1);
	diag_format(&dl->v[0], buf, sizeof(buf));
	snprintf(want, sizeof(want),
		 "inline.yaml:6:58: %sspec.trafficPolicy.connectionPool.tcp.connectTimeout: %s%s%s",
		 sev, pre, text, post);
	assert_string_equal(buf, want);
}

/* Selectors against other appliance labels, the default, and no selector. */
static void
test_gateway_selection(void **state)
{
	static const char yaml[] =
		"apiVersion: networking.istio.io/v1beta1\n"
		"kind: Gateway\n"
		"metadata: {name: a}\n"
		"spec:\n"
		"  selector: {istio: egressgateway}\n"
		"  servers: [{port: {number: 1, name: p, protocol: TCP}, hosts: ['*']}]\n"
		"---\n"
		"apiVersion: networking.istio.io/v1beta1\n"
		"kind: Gateway\n"
		"metadata: {name: b}\n"
		"spec:\n"
		"  selector: {app: egressd, istio: egressgateway}\n"
		"  servers: [{port: {number: 1, name: p, protocol: TCP}, hosts: ['*']}]\n"
		"---\n"
		"apiVersion: networking.istio.io/v1beta1\n"
		"kind: Gateway\n"
		"metadata: {name: c}\n"
		"spec:\n"
		"  servers: [{port: {number: 1, name: p, protocol: TCP}, hosts: ['*']}]\n";
	static char k_app[] = "app", v_app[] = "egressd";
	struct policy_model m = { 0 };
	struct diag_list dl = { 0 };
	struct egress_config cfg;

	(void)state;
	test_cfg(&cfg);
	assert_int_equal(load_buf(&cfg, &m, &dl, yaml), 0);
	assert_int_equal(m.n_gateways, 3);
	assert_true(m.gateways[0].selects_us);
	assert_false(m.gateways[1].selects_us);
	assert_true(m.gateways[2].selects_us); /* Istio: no selector, every gateway */
	policy_model_free(&m);

	cfg.labels[1].key = k_app;
	cfg.labels[1].value = v_app;
	cfg.n_labels = 2;
	assert_int_equal(load_buf(&cfg, &m, &dl, yaml), 0);
	assert_true(m.gateways[0].selects_us);
	assert_true(m.gateways[1].selects_us);
	policy_model_free(&m);

	/* no config at all (fuzzing): the default labels istio=egressgateway */
	assert_int_equal(load_buf(NULL, &m, &dl, yaml), 0);
	assert_true(m.gateways[0].selects_us);
	assert_false(m.gateways[1].selects_us);
	assert_int_equal(dl.n, 0);
	policy_model_free(&m);
	diag_list_clear(&dl);
}

/*
 * connectTimeout in the forms Istio users write, read as Go's
 * time.ParseDuration() reads them (Istio does): digits below 1 ns are
 * dropped, so 1.0000000001s is 1 s.
 */
static void
test_durations(void **state)
{
	static const struct {
		const char *text;
		uint64_t ms;
	} ok[] = {
		{ "10s", 10000 },   { "1.5s", 1500 },    { "250ms", 250 },
		{ "1m30s", 90000 }, { "2h", 7200000 },   { "1000000ns", 1 },
		{ "0.001s", 1 },    { "1s500ms", 1500 }, { "1.0000000001s", 1000 },
		{ ".5s", 500 },     { "+2s", 2000 },
	};
	static const char *const bad[] = {
		"10", "s", "1.5", "-1s", "1x", "0.5ms", "", "0", "1 s", "2562048h",
	};
	struct egress_config cfg;
	size_t i;

	(void)state;
	test_cfg(&cfg);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]) + sizeof(bad) / sizeof(bad[0]); i++) {
		bool good = i < sizeof(ok) / sizeof(ok[0]);
		const char *text = good ? ok[i].text : bad[i - sizeof(ok) / sizeof(ok[0])];
		struct policy_model m = { 0 };
		struct diag_list dl = { 0 };
		int rc;

		rc = load_connect_timeout(&cfg, &m, &dl, text);
		if (good != (rc == 0)) {
			fprintf(stderr, "connectTimeout \"%s\": rc %d\n", text, rc);
			print_diags(&dl);
		}
		assert_int_equal(rc, good ? 0 : -EINVAL);
		if (good)
			assert_int_equal(m.drs[0].connect_timeout_ms, ok[i].ms);
		policy_model_free(&m);
		diag_list_clear(&dl);
	}
}

/*
 * Load yaml; of its diagnostics, those whose text holds filter ("error: ",
 * or a path) must be one ending in want (the whole line, or from the
 * severity on), or none when want is NULL. Others are printed.
 */
static void
assert_diag(const char *yaml, const char *filter, const char *want)
{
	struct egress_config cfg;
	struct policy_model m = { 0 };
	struct diag_list dl = { 0 };
	char buf[LINE_MAX_LEN];
	size_t j, n = 0;

	test_cfg(&cfg);
	(void)load_buf(&cfg, &m, &dl, yaml);
	for (j = 0; j < dl.n; j++) {
		diag_format(&dl.v[j], buf, sizeof(buf));
		if (strstr(buf, filter) == NULL)
			continue;
		if (want == NULL || strlen(buf) < strlen(want) ||
		    strcmp(buf + strlen(buf) - strlen(want), want) != 0)
			fprintf(stderr, "got: %s\nwant: %s\n", buf,
				want != NULL ? want : "nothing");
		assert_non_null(want);
		assert_true(strlen(buf) >= strlen(want));
		assert_string_equal(buf + strlen(buf) - strlen(want), want);
		n++;
	}
	assert_int_equal(n, want != NULL);
	policy_model_free(&m);
	diag_list_clear(&dl);
}

/* A text to load, and the error it gives (NULL: none). */
struct diag_case {
	const char *text, *err;
};

/*
 * Each case loaded as fmt with its text for the one "%s": its one error ends
 * with prefix and err (from the severity on, or the whole line), or none.
 */
static void
assert_diag_cases(const char *fmt, const char *prefix, const struct diag_case *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char yaml[512], want[LINE_MAX_LEN];

		snprintf(yaml, sizeof(yaml), fmt, c[i].text);
		snprintf(want, sizeof(want), "%s%s", prefix, c[i].err != NULL ? c[i].err : "");
		assert_diag(yaml, "error: ", c[i].err != NULL ? want : NULL);
	}
}

/*
 * A VirtualService's hosts follow Istio's ValidateWildcardDomain() exactly,
 * as every other kind's do: an empty last label is allowed even right after
 * the first ("*."), a top-level domain is all-numeric only when Go's
 * strconv.Atoi() takes it (a sign, at most int64), so "a.+1" is all-numeric
 * and twenty digits are a label.
 */
static void
test_vs_host_domains(void **state)
{
	static const struct diag_case cases[] = {
		{ "*.", NULL },
		{ "a.99999999999999999999", NULL },
		{ "a.+1",
		  "domain name \"a.+1\" invalid (top level domain \"+1\" cannot be all-numeric)" },
	};

	(void)state;
	assert_diag_cases("apiVersion: networking.istio.io/v1\n"
			  "kind: VirtualService\n"
			  "metadata: {name: v}\n"
			  "spec: {hosts: [\"%s\"], tcp: [{route: [{destination: {host: a.b}}]}]}\n",
			  "inline.yaml:4:16: error: spec.hosts[0]: ", cases,
			  sizeof(cases) / sizeof(cases[0]));
}

/*
 * Every kind reads a duration as Go's time.ParseDuration() does, then checks
 * it as Istio's ValidateDuration(): a Sidecar's connection pool and a
 * VirtualService's timeout as a DestinationRule's. A sign and "µs" are Go's,
 * and past 2562047h a duration does not decode.
 */
static void
test_durations_every_kind(void **state)
{
	static const struct diag_case cases[] = {
		{ "+2s", NULL },
		{ "-1s", "duration must be greater than 1ms" },
		{ "1000\xc2\xb5s", NULL },
		{ "2562048h",
		  "duration \"2562048h\" out of range (at most 2562047h47m16.854775807s)" },
	};

	(void)state;
	assert_diag_cases("apiVersion: networking.istio.io/v1\n"
			  "kind: Sidecar\n"
			  "metadata: {name: s, namespace: cart}\n"
			  "spec: {inboundConnectionPool: {tcp: {connectTimeout: \"%s\"}}}\n",
			  "error: spec.inboundConnectionPool.tcp.connectTimeout: ", cases,
			  sizeof(cases) / sizeof(cases[0]));
	assert_diag_cases("apiVersion: networking.istio.io/v1\n"
			  "kind: VirtualService\n"
			  "metadata: {name: v}\n"
			  "spec: {hosts: [a.b], http: [{timeout: \"%s\", "
			  "route: [{destination: {host: a.b}}]}]}\n",
			  "error: spec.http[0].timeout: ", cases, sizeof(cases) / sizeof(cases[0]));
}

/*
 * A regex parses as Go's regexp/syntax parses it: \p{Name} names one of
 * Go's Unicode tables (categories, their aliases, scripts; case and '_'
 * ignored; "^" negates), a range is ordered when its ends are escapes too,
 * and \x{...} takes any number of digits up to unicode.MaxRune.
 */
static void
test_vs_regex_go_syntax(void **state)
{
	static const struct diag_case cases[] = {
		{ "\\p{Greek}", NULL },
		{ "\\pL\\p{Lu}\\PN\\p{^Han}", NULL },
		{ "\\p{old_italic}\\p{Letter}\\p{Any}", NULL },
		{ "[\\p{Nd}]", NULL },
		{ "\\p{Foo}", "error parsing regexp: invalid character class range: "
			      "\"\\\\p{Foo}\"; " RE2_WORDS },
		{ "[\\pX]", "error parsing regexp: invalid character class range: "
			    "\"[\\\\pX]\"; " RE2_WORDS },
		{ "[\\x5a-\\x41]", "error parsing regexp: invalid character class range: "
				   "\"[\\\\x5a-\\\\x41]\"; " RE2_WORDS },
		{ "[\\x41-\\x5a]", NULL },
		{ "\\x{110000}", "error parsing regexp: invalid escape sequence: "
				 "\"\\\\x{110000}\"; " RE2_WORDS },
		{ "\\x{0000041}\\x{10FFFF}", NULL },
	};

	(void)state;
	assert_diag_cases("apiVersion: networking.istio.io/v1\n"
			  "kind: VirtualService\n"
			  "metadata: {name: v}\n"
			  "spec: {hosts: [a.b], http: [{match: [{uri: {regex: '%s'}}], "
			  "route: [{destination: {host: a.b}}]}]}\n",
			  "inline.yaml:4:52: error: spec.http[0].match[0].uri.regex: \"uri\": ",
			  cases, sizeof(cases) / sizeof(cases[0]));
}

/* A Gateway's uint32 port number past its range, in the words every kind uses. */
static void
test_gateway_port_range(void **state)
{
	(void)state;
	assert_diag("apiVersion: networking.istio.io/v1\n"
		    "kind: Gateway\n"
		    "metadata: {name: g}\n"
		    "spec:\n"
		    "  servers:\n"
		    "  - port: {number: 4294967296, protocol: TCP, name: t}\n"
		    "    hosts: [\"*/a.example.com\"]\n",
		    "error: ",
		    "inline.yaml:6:20: error: spec.servers[0].port.number: "
		    "4294967296 out of range (0-4294967295)");
}

/*
 * A Sidecar's connection pools are ConnectionPoolSettings as a
 * DestinationRule's are: http2KeepAlive is a field of it, and a count past
 * int32 is out of the CRD's range. Nothing else is said about this pool.
 */
static void
test_sidecar_pool_as_dr(void **state)
{
	(void)state;
	assert_diag("apiVersion: networking.istio.io/v1\n"
		    "kind: Sidecar\n"
		    "metadata: {name: s, namespace: cart}\n"
		    "spec:\n"
		    "  inboundConnectionPool:\n"
		    "    tcp: {maxConnections: 3000000000}\n"
		    "    http: {http2KeepAlive: {interval: 1s}}\n",
		    "inboundConnectionPool.",
		    "inline.yaml:6:27: error: spec.inboundConnectionPool.tcp.maxConnections: "
		    "max connections 3000000000 out of range (0-2147483647)");
}

/*
 * A VirtualService's Percent reads a number as a DestinationRule's numbers
 * do: a quoted one is "the string", and one below the smallest double is 0
 * (Go's strconv.ParseFloat() says no error for an underflow).
 */
static void
test_vs_percent_number(void **state)
{
	static const struct diag_case cases[] = {
		{ "\"50\"", "expected a number, got the string \"50\"" },
		{ "1e-400", NULL },
	};

	(void)state;
	assert_diag_cases("apiVersion: networking.istio.io/v1\n"
			  "kind: VirtualService\n"
			  "metadata: {name: v}\n"
			  "spec: {hosts: [a.b], http: [{mirrorPercentage: {value: %s}, "
			  "mirror: {host: m.b}, route: [{destination: {host: a.b}}]}]}\n",
			  "error: spec.http[0].mirrorPercentage.value: ", cases,
			  sizeof(cases) / sizeof(cases[0]));
}

/*
 * Every kind checks labels as Istio's labels.Instance.Validate(): a bad key
 * and a bad value in one pair are two errors, and a key too long says which
 * part is ("DNS prefix is too long", "name is too long").
 */
static void
test_label_pairs_every_kind(void **state)
{
	static const char se[] =
		"apiVersion: networking.istio.io/v1\n"
		"kind: ServiceEntry\n"
		"metadata: {name: s}\n"
		"spec:\n"
		"  hosts: [a.example.com]\n"
		"  ports: [{number: 80, name: http}]\n"
		"  resolution: STATIC\n"
		"  endpoints: [{address: 192.0.2.1, labels: {\"not a key\": -db}}]\n";
	char dr[1024], key[300];

	(void)state;
	assert_diag(se, "invalid tag key",
		    "inline.yaml:8:45: error: spec.endpoints[0].labels.not a key: "
		    "invalid tag key: \"not a key\"");
	assert_diag(se, "invalid tag value",
		    "inline.yaml:8:58: error: spec.endpoints[0].labels.not a key: "
		    "invalid tag value: \"-db\"");
	memset(key, 'a', 254);
	snprintf(key + 254, sizeof(key) - 254, "/x");
	snprintf(dr, sizeof(dr),
		 "apiVersion: networking.istio.io/v1\n"
		 "kind: DestinationRule\n"
		 "metadata: {name: d}\n"
		 "spec: {host: a.b, subsets: [{name: s, labels: {%s: v}}]}\n",
		 key);
	assert_diag(dr, "error: ", "...\" (DNS prefix is too long)");
}

/*
 * A flow keeps its last activity as 32-bit ms
 * (flow_age()), so a connectTimeout of 2^32 ms (49.7 days) or more wrapped
 * and ended handshakes at a random time. Istio takes any duration a Go
 * time.Duration holds (up to 2562047h): the manifest still loads, the value
 * is clamped to the longest timeout flows.timeouts accepts (168h), with a
 * warning at the value.
 */
static void
test_connect_timeout_clamped(void **state)
{
	static const struct {
		const char *text;
		uint64_t ms;
		bool clamped;
	} cases[] = {
		{ "1h", 3600000, false },
		{ "168h", 604800000, false },        /* the limit itself */
		{ "604800001ms", 604800000, true },  /* 1 ms above it */
		{ "1200h", 604800000, true },        /* 50 days: wrapped */
		{ "4320000s", 604800000, true },     /* 50 days, as protobuf JSON */
		{ "4294967296ms", 604800000, true }, /* 2^32 ms: was an age of 0 */
		{ "2562047h", 604800000, true },     /* the most whole hours Go reads */
	};
	struct egress_config cfg;
	size_t i;

	(void)state;
	test_cfg(&cfg);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy_model m = { 0 };
		struct diag_list dl = { 0 };
		int rc;

		rc = load_connect_timeout(&cfg, &m, &dl, cases[i].text);
		if (rc != 0 || dl.n != (cases[i].clamped ? 1u : 0u)) {
			fprintf(stderr, "connectTimeout \"%s\": rc %d\n", cases[i].text, rc);
			print_diags(&dl);
		}
		assert_int_equal(rc, 0);
		assert_int_equal(m.n_drs, 1);
		assert_true(m.drs[0].s.has_connect_timeout);
		assert_int_equal(m.drs[0].connect_timeout_ms, cases[i].ms);
		if (cases[i].clamped) {
			assert_timeout_diag(&dl, "warning: ", "\"", cases[i].text,
					    "\" is longer than a flow can be timed (168h): "
					    "clamped to 168h");
		} else {
			assert_int_equal(dl.n, 0);
		}
		policy_model_free(&m);
		diag_list_clear(&dl);
	}
}

/*
 * A duration past what a Go time.Duration holds (2^63 - 1 ns) fails Istio's
 * decoding and the CRD's CEL duration(): an error at the value, where it was
 * a warning and a clamp.
 */
static void
test_duration_out_of_range(void **state)
{
	static const char *const cases[] = {
		"2562048h",
		"9223372036854775808ns",
		"2562047h47m16.854775808s",
		"99999999999999999999h",
	};
	struct egress_config cfg;
	size_t i;

	(void)state;
	test_cfg(&cfg);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy_model m = { 0 };
		struct diag_list dl = { 0 };

		assert_int_equal(load_connect_timeout(&cfg, &m, &dl, cases[i]), -EINVAL);
		assert_timeout_diag(&dl, "error: ", "duration \"", cases[i],
				    "\" out of range (at most 2562047h47m16.854775807s)");
		policy_model_free(&m);
		diag_list_clear(&dl);
	}
}

/* istio_parse_go_duration() reads what Go's time.ParseDuration() reads, to the ns. */
static void
test_go_duration(void **state)
{
	static const struct {
		const char *text;
		int rc;
		int64_t ns;
	} cases[] = {
		{ "0", 0, 0 },
		{ "-0", 0, 0 },
		{ "+0", 0, 0 },
		{ "300ms", 0, 300000000 },
		{ "1h30m", 0, INT64_C(5400000000000) },
		{ "1.5h", 0, INT64_C(5400000000000) },
		{ "-1.5s", 0, -1500000000 },
		{ "1\xc2\xb5s", 0, 1000 }, /* micro sign */
		{ "1\xce\xbcs", 0, 1000 }, /* Greek mu */
		{ "2us", 0, 2000 },
		{ ".5s", 0, 500000000 },
		{ "5.s", 0, 5000000000 },
		{ "1.0000000001s", 0, 1000000000 },
		{ "0.0000000009s", 0, 0 },
		{ "1s1s", 0, 2000000000 },
		{ "9223372036854775807ns", 0, INT64_MAX },
		{ "2562047h47m16.854775807s", 0, INT64_MAX },
		{ "-9223372036854775808ns", 0, INT64_MIN },
		{ "9223372036854775808ns", -ERANGE, 0 },
		{ "2562047h47m16.854775808s", -ERANGE, 0 },
		{ "2562048h", -ERANGE, 0 },
		{ "99999999999999999999h", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ "-", -EINVAL, 0 },
		{ ".", -EINVAL, 0 },
		{ ".s", -EINVAL, 0 },
		{ "1", -EINVAL, 0 },
		{ "1 s", -EINVAL, 0 },
		{ "1x", -EINVAL, 0 },
		{ "1sx", -EINVAL, 0 },
		{ "1.5e3s", -EINVAL, 0 },
		{ "s1", -EINVAL, 0 },
		{ "--1s", -EINVAL, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ns = 0;
		int rc = istio_parse_go_duration(cases[i].text, &ns);

		if (rc != cases[i].rc || (rc == 0 && ns != cases[i].ns))
			fprintf(stderr, "\"%s\": rc %d ns %" PRId64 "\n", cases[i].text, rc, ns);
		assert_int_equal(rc, cases[i].rc);
		if (rc == 0)
			assert_true(ns == cases[i].ns);
	}
}

/* A scratch folder per test, removed by the teardown even when an assert fails. */
static int
tmpdir_setup(void **state)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/egt-istio-XXXXXX");
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
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/*
 * The appliance config's flows.timeouts have the same limit as the clamp of
 * connectTimeout above, but our own config is an error past it: 168h loads,
 * 1 ms more is reported at the value.
 */
static void
test_config_timeout_limit(void **state)
{
	static const char ports[] = "ports:\n"
				    "  inside: {device: net_null0, address: 10.8.0.1/16}\n"
				    "  outside: {device: net_null1, address: 203.0.113.10/24}\n";
	const char *dir = *state;
	struct egress_config cfg;
	struct diag_list dl = { 0 };
	char path[128], text[512], buf[LINE_MAX_LEN], want[LINE_MAX_LEN];

	snprintf(path, sizeof(path), "%s/egressd.yaml", dir);
	snprintf(text, sizeof(text), "%sflows: {timeouts: {established: 168h}}\n", ports);
	write_file(path, text);
	assert_int_equal(egress_config_load(path, &cfg, &dl), 0);
	assert_int_equal(dl.n, 0);
	assert_int_equal(cfg.timeout_established_ms, 604800000);
	egress_config_free(&cfg);

	snprintf(text, sizeof(text), "%sflows: {timeouts: {established: 604800001ms}}\n", ports);
	write_file(path, text);
	assert_int_equal(egress_config_load(path, &cfg, &dl), -EINVAL);
	if (dl.n != 1)
		print_diags(&dl);
	assert_int_equal(dl.n, 1);
	diag_format(&dl.v[0], buf, sizeof(buf));
	snprintf(want, sizeof(want),
		 "%s:4:33: error: flows.timeouts.established: duration "
		 "\"604800001ms\" out of range (want 1ms to 168h)",
		 path);
	assert_string_equal(buf, want);
	diag_list_clear(&dl);
}

static const char se_a[] = "apiVersion: networking.istio.io/v1\n"
			   "kind: ServiceEntry\n"
			   "metadata: {name: redis}\n"
			   "spec:\n"
			   "  hosts: [redis.domain]\n"
			   "  addresses: [10.59.118.59]\n"
			   "  ports: [{number: 6379, name: tcp-redis, protocol: TCP}]\n";

static const char gw_b[] =
	"apiVersion: networking.istio.io/v1\n"
	"kind: Gateway\n"
	"metadata: {name: egress}\n"
	"spec:\n"
	"  selector: {istio: egressgateway}\n"
	"  servers: [{port: {number: 6379, name: tcp, protocol: TCP}, hosts: [redis.domain]}]\n";

/*
 * A ConfigMap volume as the kubelet mounts it: the real files in a hidden
 * timestamped folder, "..data" a symlink to it, each visible name a symlink
 * through "..data". Every file loads once, in name order; dotfiles never.
 */
static void
test_configmap_folder(void **state)
{
	const char *dir = *state;
	char p[PATH_MAX], q[PATH_MAX];
	const char *ts = "..2026_11_26_16_04_47.123456789";
	struct policy_model m = { 0 };
	struct diag_list dl = { 0 };
	struct egress_config cfg;
	char *sources[2];
	int rc;

	snprintf(p, sizeof(p), "%s/%s", dir, ts);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/%s/b-gateway.yml", dir, ts);
	write_file(p, gw_b);
	snprintf(p, sizeof(p), "%s/%s/a-serviceentry.yaml", dir, ts);
	write_file(p, se_a);
	snprintf(p, sizeof(p), "%s/%s/notes.txt", dir, ts);
	write_file(p, "not yaml: [\n");
	snprintf(p, sizeof(p), "%s/..data", dir);
	assert_int_equal(symlink(ts, p), 0);
	snprintf(p, sizeof(p), "%s/a-serviceentry.yaml", dir);
	assert_int_equal(symlink("..data/a-serviceentry.yaml", p), 0);
	snprintf(p, sizeof(p), "%s/b-gateway.yml", dir);
	assert_int_equal(symlink("..data/b-gateway.yml", p), 0);
	snprintf(p, sizeof(p), "%s/notes.txt", dir);
	assert_int_equal(symlink("..data/notes.txt", p), 0);
	/* would be an error if it were read */
	snprintf(p, sizeof(p), "%s/.hidden.yaml", dir);
	write_file(p, "kind: [\n");

	test_cfg(&cfg);
	sources[0] = (char *)dir;
	cfg.sources = sources;
	cfg.n_sources = 1;
	rc = istio_load_sources(&cfg, &m, &dl);
	if (rc != 0 || dl.n != 0)
		print_diags(&dl);
	assert_int_equal(rc, 0);
	assert_int_equal(dl.n, 0);
	assert_int_equal(m.n_files, 2);
	snprintf(q, sizeof(q), "%s/a-serviceentry.yaml", dir);
	assert_string_equal(m.files[0], q);
	snprintf(q, sizeof(q), "%s/b-gateway.yml", dir);
	assert_string_equal(m.files[1], q);
	assert_int_equal(m.n_ses, 1);
	assert_int_equal(m.n_gateways, 1);
	assert_true(m.gateways[0].selects_us);
	policy_model_free(&m);

	/* the folder and one of its files both named: the file loads once */
	snprintf(q, sizeof(q), "%s/a-serviceentry.yaml", dir);
	sources[1] = q;
	cfg.n_sources = 2;
	rc = istio_load_sources(&cfg, &m, &dl);
	assert_int_equal(rc, 0);
	assert_int_equal(m.n_ses, 1);
	assert_int_equal(dl.n, 0);
	policy_model_free(&m);

	/* an update swaps ..data: the new content is what loads */
	snprintf(p, sizeof(p), "%s/%s/a-serviceentry.yaml", dir, ts);
	write_file(p, "apiVersion: networking.istio.io/v1\nkind: Sidecar\n"
		      "metadata: {name: s}\n"
		      "spec: {outboundTrafficPolicy: {mode: ALLOW_ANY}}\n");
	cfg.n_sources = 1;
	rc = istio_load_sources(&cfg, &m, &dl);
	assert_int_equal(rc, 0);
	assert_int_equal(m.n_ses, 0);
	assert_int_equal(m.n_sidecars, 1);
	assert_int_equal(dl.n, 0);
	policy_model_free(&m);
	diag_list_clear(&dl);
}

/* Across files: a name defined twice, and a port no selecting Gateway serves. */
static void
test_cross_file_checks(void **state)
{
	const char *dir = *state;
	char p[PATH_MAX], want[PATH_MAX + 128];
	struct policy_model m = { 0 };
	struct diag_list dl = { 0 };
	struct egress_config cfg;
	char *sources[1];
	char buf[LINE_MAX_LEN];
	int rc;

	snprintf(p, sizeof(p), "%s/1.yaml", dir);
	write_file(p, se_a);
	snprintf(p, sizeof(p), "%s/2.yaml", dir);
	write_file(p, "# the same entry again, with another port\n"
		      "apiVersion: networking.istio.io/v1\n"
		      "kind: ServiceEntry\n"
		      "metadata: {name: redis}\n"
		      "spec:\n"
		      "  hosts: [redis.domain]\n"
		      "  addresses: [10.59.118.60]\n"
		      "  ports: [{number: 6380, name: tcp-redis, protocol: TCP}]\n");
	snprintf(p, sizeof(p), "%s/3.yml", dir);
	write_file(p, gw_b);

	test_cfg(&cfg);
	sources[0] = (char *)dir;
	cfg.sources = sources;
	cfg.n_sources = 1;
	rc = istio_load_sources(&cfg, &m, &dl);
	assert_int_equal(rc, -EINVAL);
	if (dl.n != 2)
		print_diags(&dl);
	assert_int_equal(dl.n, 2);
	diag_format(&dl.v[0], buf, sizeof(buf));
	snprintf(want, sizeof(want),
		 "%s/2.yaml:4:18: error: metadata.name: ServiceEntry "
		 "redis already defined at %s/1.yaml:3:18",
		 dir, dir);
	assert_string_equal(buf, want);
	diag_format(&dl.v[1], buf, sizeof(buf));
	snprintf(want, sizeof(want),
		 "%s/2.yaml:8:11: warning: ServiceEntry redis: port 6380 "
		 "is not served by any Gateway that selects this appliance; admitted anyway",
		 dir);
	assert_string_equal(buf, want);
	policy_model_free(&m);
	diag_list_clear(&dl);
}

static void
test_missing_source(void **state)
{
	char missing[] = "/nonexistent/egressd/policy.yaml";
	struct policy_model m = { 0 };
	struct diag_list dl = { 0 };
	struct egress_config cfg;
	char *sources[1] = { missing };
	char buf[LINE_MAX_LEN];

	(void)state;
	test_cfg(&cfg);
	cfg.sources = sources;
	cfg.n_sources = 1;
	assert_int_equal(istio_load_sources(&cfg, &m, &dl), -EINVAL);
	assert_int_equal(dl.n, 1);
	diag_format(&dl.v[0], buf, sizeof(buf));
	assert_string_equal(buf, "/nonexistent/egressd/policy.yaml: error: cannot read policy "
				 "source: No such file or directory");
	policy_model_free(&m);
	diag_list_clear(&dl);
}

/* Broken YAML is the reader's error; the loader adds nothing and returns -EINVAL. */
static void
test_bad_yaml(void **state)
{
	static const char yaml[] = "kind: ServiceEntry\nspec: [\n";
	struct policy_model m = { 0 };
	struct diag_list dl = { 0 };
	struct egress_config cfg;

	(void)state;
	test_cfg(&cfg);
	assert_int_equal(load_buf(&cfg, &m, &dl, yaml), -EINVAL);
	assert_true(diag_errors(&dl) >= 1);
	assert_int_equal(m.n_ses, 0);
	assert_int_equal(m.n_files, 1);
	assert_string_equal(m.files[0], "inline.yaml");
	policy_model_free(&m);
	diag_list_clear(&dl);
}

/* Many entries: the model grows, every one is kept, positions stay right. */
static void
test_many_entries(void **state)
{
	const unsigned int n = 2000;
	struct policy_model m = { 0 };
	struct diag_list dl = { 0 };
	struct egress_config cfg;
	size_t cap = (size_t)n * 256, len = 0;
	char *yaml = malloc(cap);
	unsigned int i;

	(void)state;
	assert_non_null(yaml);
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(yaml + len, cap - len,
					"---\napiVersion: networking.istio.io/v1\n"
					"kind: ServiceEntry\nmetadata: {name: se-%u}\n"
					"spec: {hosts: [h%u.example.com], addresses: [10.%u.%u.1], "
					"ports: [{number: %u, name: tcp}]}\n",
					i, i, i / 256, i % 256, 1000 + i);
	test_cfg(&cfg);
	assert_int_equal(istio_load_buffer(&cfg, &m, "many.yaml", yaml, len, &dl), 0);
	assert_int_equal(dl.n, 0);
	assert_int_equal(m.n_ses, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(m.ses[i].ports[0].number, 1000 + i);
		assert_int_equal(m.ses[i].pos.doc, i);
		assert_int_equal(m.ses[i].pos.line, 5 * i + 4);
	}
	policy_model_free(&m);
	free(yaml);
}

static void
test_free_null(void **state)
{
	struct policy_model m = { 0 };

	(void)state;
	policy_model_free(NULL);
	policy_model_free(&m);
	policy_model_free(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed),
		cmocka_unit_test(test_seed_raw),
		cmocka_unit_test(test_corpus_valid),
		cmocka_unit_test(test_corpus_invalid),
		cmocka_unit_test(test_istio_parity),
		cmocka_unit_test(test_vs_regex_go_syntax),
		cmocka_unit_test(test_model_static),
		cmocka_unit_test(test_model_dns_and_cidr),
		cmocka_unit_test(test_model_ipv6),
		cmocka_unit_test(test_model_istio_odd),
		cmocka_unit_test(test_se_crd_limits),
		cmocka_unit_test(test_model_gateway_dr),
		cmocka_unit_test(test_model_vs_dr_sidecar),
		cmocka_unit_test(test_gateway_selection),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_connect_timeout_clamped),
		cmocka_unit_test(test_duration_out_of_range),
		cmocka_unit_test(test_go_duration),
		cmocka_unit_test_setup_teardown(test_configmap_folder, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_cross_file_checks, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test_setup_teardown(test_config_timeout_limit, tmpdir_setup,
						tmpdir_teardown),
		cmocka_unit_test(test_vs_host_domains),
		cmocka_unit_test(test_durations_every_kind),
		cmocka_unit_test(test_gateway_port_range),
		cmocka_unit_test(test_sidecar_pool_as_dr),
		cmocka_unit_test(test_vs_percent_number),
		cmocka_unit_test(test_label_pairs_every_kind),
		cmocka_unit_test(test_missing_source),
		cmocka_unit_test(test_bad_yaml),
		cmocka_unit_test(test_many_entries),
		cmocka_unit_test(test_free_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
