/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests of the appliance config (lib/policy/config*.c): every key, the
 * defaults, relative sources, and every error with its exact position.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_common.h"

#include "config.h"

static char tmpdir[64];
static char cfg_path[128];

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_config.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(cfg_path, sizeof(cfg_path), "%s/egressd.yaml", tmpdir);
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void
write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}

/* Every diagnostic as "LINE:COL: severity: message\n", without the file name. */
static char *
diag_text(const struct diag_list *dl)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	for (i = 0; i < dl->n; i++) {
		const struct diag *d = &dl->v[i];

		assert_string_equal(d->file, cfg_path);
		fprintf(f, "%u:%u: %s: %s\n", d->line, d->col,
			d->sev == DIAG_ERROR ? "error" : "warning", d->msg);
	}
	fclose(f);
	return buf;
}

/* Load text as the config file; the result must be rc with exactly expected. */
static void
check(const char *text, int rc, const char *expected)
{
	struct egress_config cfg;
	struct diag_list dl = { 0 };
	char *got;

	write_file(cfg_path, text);
	assert_int_equal(egress_config_load(cfg_path, &cfg, &dl), rc);
	got = diag_text(&dl);
	assert_string_equal(got, expected);
	free(got);
	if (rc == 0)
		egress_config_free(&cfg);
	else
		assert_null(cfg.path);
	diag_list_clear(&dl);
}

/* Load text, which must load without any diagnostic. */
static void
load_ok(const char *text, struct egress_config *cfg)
{
	struct diag_list dl = { 0 };
	char *got;

	write_file(cfg_path, text);
	assert_int_equal(egress_config_load(cfg_path, cfg, &dl), 0);
	got = diag_text(&dl);
	assert_string_equal(got, "");
	free(got);
	diag_list_clear(&dl);
}

static uint32_t
ip(const char *s)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, s, &a), 1);
	return a.s_addr;
}

#define PORTS_OK                                                                                   \
	"ports:\n"                                                                                 \
	"  inside: {device: net_null0, address: 10.8.0.1/16}\n"                                    \
	"  outside: {device: net_null1, address: 203.0.113.10/24}\n"

static void
test_defaults(void **state)
{
	struct egress_config cfg;

	(void)state;
	load_ok(PORTS_OK, &cfg);
	assert_string_equal(cfg.path, cfg_path);
	assert_string_equal(cfg.dir, tmpdir);
	assert_string_equal(cfg.port[EGRESS_PORT_INSIDE].device, "net_null0");
	assert_int_equal(cfg.port[EGRESS_PORT_INSIDE].addr, ip("10.8.0.1"));
	assert_int_equal(cfg.port[EGRESS_PORT_INSIDE].prefix_len, 16);
	assert_int_equal(cfg.port[EGRESS_PORT_INSIDE].gateway, 0);
	assert_int_equal(cfg.port[EGRESS_PORT_INSIDE].mtu, 1500);
	assert_int_equal(cfg.port[EGRESS_PORT_INSIDE].line, 2);
	assert_string_equal(cfg.port[EGRESS_PORT_OUTSIDE].device, "net_null1");
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].addr, ip("203.0.113.10"));
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].prefix_len, 24);
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].gateway, 0);
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].mtu, 1500);
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].line, 3);

	assert_int_equal(cfg.n_nat_addrs, 1);
	assert_int_equal(cfg.nat_addrs[0], ip("203.0.113.10"));
	assert_int_equal(cfg.nat_port_lo, 1024);
	assert_int_equal(cfg.nat_port_hi, 65535);
	assert_int_equal(cfg.port_alloc, EGRESS_PORT_ALLOC_RANDOM);
	assert_int_equal(cfg.mss_clamp, 0);

	assert_int_equal(cfg.outbound, EGRESS_OUTBOUND_REGISTRY_ONLY);
	assert_int_equal(cfg.deny, EGRESS_DENY_DROP);
	assert_int_equal(cfg.on_revoke, EGRESS_REVOKE_RESET);
	assert_int_equal(cfg.n_sources, 0);
	assert_int_equal(cfg.n_labels, 1);
	assert_string_equal(cfg.labels[0].key, "istio");
	assert_string_equal(cfg.labels[0].value, "egressgateway");
	/* absent: Istio's defaults, istio-system and exportTo "*" for every kind */
	assert_null(cfg.ns);
	assert_null(cfg.root_namespace);
	assert_string_equal(egress_namespace(&cfg), "istio-system");
	assert_string_equal(egress_root_namespace(&cfg), "istio-system");
	assert_string_equal(egress_namespace(NULL), "istio-system");
	assert_int_equal(cfg.default_export_to[EGRESS_EXPORT_SE].n, 0);
	assert_int_equal(cfg.default_export_to[EGRESS_EXPORT_VS].n, 0);
	assert_int_equal(cfg.default_export_to[EGRESS_EXPORT_DR].n, 0);

	assert_int_equal(cfg.flows_max, 1048576);
	assert_int_equal(cfg.timeout_established_ms, 7440000);
	assert_int_equal(cfg.timeout_transitory_ms, 240000);
	assert_int_equal(cfg.timeout_time_wait_ms, 120000);
	assert_int_equal(cfg.embryonic_max, 262144);
	assert_int_equal(cfg.per_source_max, 0);
	assert_int_equal(cfg.per_source_new_per_second, 0);
	assert_false(cfg.tcp_liberal);
	assert_int_equal(cfg.no_flow, EGRESS_NO_FLOW_DROP);
	assert_int_equal(cfg.workers, 1);
	assert_int_equal(cfg.poll_idle, EGRESS_POLL_BUSY);
	assert_int_equal(cfg.poll_max_sleep_us, 1000);
	egress_config_free(&cfg);
	assert_null(cfg.path);
	egress_config_free(&cfg);
	egress_config_free(NULL);
}

/* The example of the design brief, comments and all. */
static void
test_design_example(void **state)
{
	const char *text =
		"ports:\n"
		"  inside:  { device: \"net_af_packet0,iface=veth-gw-in\",  "
		"address: 10.8.0.1/16 }\n"
		"  outside: { device: \"net_af_packet1,iface=veth-gw-out\", "
		"address: 203.0.113.10/24,\n"
		"             gateway: 203.0.113.1, mtu: 1500 }   # mtu: optional, per port\n"
		"nat:\n"
		"  addresses: [203.0.113.10]      # SNAT pool; default: the outside address\n"
		"  ports: 1024-65535\n"
		"  port_alloc: random             # or preserve\n"
		"  mss_clamp: 0                   # optional (0 = off)\n"
		"policy:\n"
		"  outbound: REGISTRY_ONLY        # or ALLOW_ANY\n"
		"  deny: drop                     # or reset (TCP RST to the client)\n"
		"  on_revoke: reset               # reset | drop | keep\n"
		"  sources: [serviceentries/]     # relative to this file\n"
		"flows:\n"
		"  max: 1048576\n"
		"  timeouts: { established: 7440s, transitory: 240s, time_wait: 120s }\n"
		"  embryonic_max: 262144\n"
		"  per_source: { max: 0, new_per_second: 0 }\n"
		"workers: 1\n";
	struct egress_config cfg;
	char want[192];

	(void)state;
	load_ok(text, &cfg);
	assert_string_equal(cfg.port[EGRESS_PORT_INSIDE].device, "net_af_packet0,iface=veth-gw-in");
	assert_string_equal(cfg.port[EGRESS_PORT_OUTSIDE].device,
			    "net_af_packet1,iface=veth-gw-out");
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].gateway, ip("203.0.113.1"));
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].mtu, 1500);
	assert_int_equal(cfg.n_nat_addrs, 1);
	assert_int_equal(cfg.nat_addrs[0], ip("203.0.113.10"));
	assert_int_equal(cfg.n_sources, 1);
	snprintf(want, sizeof(want), "%s/serviceentries", tmpdir);
	assert_string_equal(cfg.sources[0], want);
	assert_int_equal(cfg.embryonic_max, 262144);
	egress_config_free(&cfg);
}

static void
test_every_key(void **state)
{
	const char *text = "ports:\n"
			   "  inside:\n"
			   "    device: \"0000:3b:00.0\"\n"
			   "    address: 10.8.0.1/16\n"
			   "    gateway: 10.8.0.254\n"
			   "    mtu: 9000\n"
			   "    vlan: 4094\n"
			   "    rx_descriptors: 4096\n"
			   "    tx_descriptors: 64\n"
			   "    checksum_offload: false\n"
			   "  outside:\n"
			   "    device: net_af_packet1,iface=eth1\n"
			   "    address: 198.51.100.2/30\n"
			   "    gateway: 198.51.100.1\n"
			   "    mtu: 68\n"
			   "nat:\n"
			   "  addresses: [198.51.100.2, 192.0.2.7, 192.0.2.8]\n"
			   "  ports: 20000-20999\n"
			   "  port_alloc: preserve\n"
			   "  mss_clamp: 1360\n"
			   "policy:\n"
			   "  outbound: ALLOW_ANY\n"
			   "  deny: reset\n"
			   "  on_revoke: keep\n"
			   "  sources: [se/, ./more/redis.yaml, /etc/egressd/abs.yaml,\n"
			   "            \"a//b/./c/\", ../up.yaml]\n"
			   "  labels:\n"
			   "    istio: egress-redis\n"
			   "    app.kubernetes.io/name: egressd\n"
			   "    empty: \"\"\n"
			   "  namespace: egress\n"
			   "  root_namespace: mesh-root\n"
			   "  default_export_to:\n"
			   "    service_entry: [\".\", \"*\"]\n"
			   "    virtual_service: [\"*\"]\n"
			   "    destination_rule: [\".\"]\n"
			   "flows:\n"
			   "  max: 16777216\n"
			   "  timeouts: {established: 2h4m, transitory: 4m, time_wait: 1500ms}\n"
			   "  embryonic_max: 1000\n"
			   "  per_source: {max: 5000, new_per_second: 200}\n"
			   "  tcp_liberal: true\n"
			   "  no_flow: reset\n"
			   "workers: 128\n";
	struct egress_config cfg;
	char want[192];

	(void)state;
	load_ok(text, &cfg);
	assert_string_equal(cfg.port[EGRESS_PORT_INSIDE].device, "0000:3b:00.0");
	assert_int_equal(cfg.port[EGRESS_PORT_INSIDE].addr, ip("10.8.0.1"));
	assert_int_equal(cfg.port[EGRESS_PORT_INSIDE].prefix_len, 16);
	assert_int_equal(cfg.port[EGRESS_PORT_INSIDE].gateway, ip("10.8.0.254"));
	assert_int_equal(cfg.port[EGRESS_PORT_INSIDE].mtu, 9000);
	assert_int_equal(cfg.port[EGRESS_PORT_INSIDE].vlan, 4094);
	assert_int_equal(cfg.port[EGRESS_PORT_INSIDE].rx_desc, 4096);
	assert_int_equal(cfg.port[EGRESS_PORT_INSIDE].tx_desc, 64);
	assert_true(cfg.port[EGRESS_PORT_INSIDE].no_cksum_offload);
	assert_false(cfg.port[EGRESS_PORT_OUTSIDE].no_cksum_offload);
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].vlan, 0);
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].rx_desc, 0);
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].tx_desc, 0);
	assert_int_equal(cfg.port[EGRESS_PORT_INSIDE].line, 3);
	assert_string_equal(cfg.port[EGRESS_PORT_OUTSIDE].device, "net_af_packet1,iface=eth1");
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].addr, ip("198.51.100.2"));
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].prefix_len, 30);
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].gateway, ip("198.51.100.1"));
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].mtu, 68);
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].line, 12);

	assert_int_equal(cfg.n_nat_addrs, 3);
	assert_int_equal(cfg.nat_addrs[0], ip("198.51.100.2"));
	assert_int_equal(cfg.nat_addrs[1], ip("192.0.2.7"));
	assert_int_equal(cfg.nat_addrs[2], ip("192.0.2.8"));
	assert_int_equal(cfg.nat_port_lo, 20000);
	assert_int_equal(cfg.nat_port_hi, 20999);
	assert_int_equal(cfg.port_alloc, EGRESS_PORT_ALLOC_PRESERVE);
	assert_int_equal(cfg.mss_clamp, 1360);

	assert_int_equal(cfg.outbound, EGRESS_OUTBOUND_ALLOW_ANY);
	assert_int_equal(cfg.deny, EGRESS_DENY_RESET);
	assert_int_equal(cfg.on_revoke, EGRESS_REVOKE_KEEP);
	assert_int_equal(cfg.n_sources, 5);
	snprintf(want, sizeof(want), "%s/se", tmpdir);
	assert_string_equal(cfg.sources[0], want);
	snprintf(want, sizeof(want), "%s/more/redis.yaml", tmpdir);
	assert_string_equal(cfg.sources[1], want);
	assert_string_equal(cfg.sources[2], "/etc/egressd/abs.yaml");
	snprintf(want, sizeof(want), "%s/a/b/c", tmpdir);
	assert_string_equal(cfg.sources[3], want);
	snprintf(want, sizeof(want), "%s/../up.yaml", tmpdir);
	assert_string_equal(cfg.sources[4], want);
	assert_int_equal(cfg.n_labels, 3);
	assert_string_equal(cfg.labels[0].key, "istio");
	assert_string_equal(cfg.labels[0].value, "egress-redis");
	assert_string_equal(cfg.labels[1].key, "app.kubernetes.io/name");
	assert_string_equal(cfg.labels[1].value, "egressd");
	assert_string_equal(cfg.labels[2].key, "empty");
	assert_string_equal(cfg.labels[2].value, "");
	assert_string_equal(cfg.ns, "egress");
	assert_string_equal(egress_namespace(&cfg), "egress");
	assert_string_equal(cfg.root_namespace, "mesh-root");
	assert_string_equal(egress_root_namespace(&cfg), "mesh-root");
	assert_int_equal(cfg.default_export_to[EGRESS_EXPORT_SE].n, 2);
	assert_string_equal(cfg.default_export_to[EGRESS_EXPORT_SE].v[0], ".");
	assert_string_equal(cfg.default_export_to[EGRESS_EXPORT_SE].v[1], "*");
	assert_int_equal(cfg.default_export_to[EGRESS_EXPORT_VS].n, 1);
	assert_string_equal(cfg.default_export_to[EGRESS_EXPORT_VS].v[0], "*");
	assert_int_equal(cfg.default_export_to[EGRESS_EXPORT_DR].n, 1);
	assert_string_equal(cfg.default_export_to[EGRESS_EXPORT_DR].v[0], ".");

	assert_int_equal(cfg.flows_max, 16777216);
	assert_int_equal(cfg.timeout_established_ms, 7440000);
	assert_int_equal(cfg.timeout_transitory_ms, 240000);
	assert_int_equal(cfg.timeout_time_wait_ms, 1500);
	assert_int_equal(cfg.embryonic_max, 1000);
	assert_int_equal(cfg.per_source_max, 5000);
	assert_int_equal(cfg.per_source_new_per_second, 200);
	assert_true(cfg.tcp_liberal);
	assert_int_equal(cfg.no_flow, EGRESS_NO_FLOW_RESET);
	assert_int_equal(cfg.workers, 128);
	egress_config_free(&cfg);
}

static void
test_other_values(void **state)
{
	struct egress_config cfg;
	char want[192];

	(void)state;
	load_ok(PORTS_OK "nat: {addresses: 192.0.2.1}\n"
			 "policy: {on_revoke: drop, sources: /srv/istio, labels: {},\n"
			 "         outbound: REGISTRY_ONLY}\n"
			 "flows: {max: 4096, timeouts: {established: 90}, tcp_liberal: false,\n"
			 "        no_flow: drop}\n",
		&cfg);
	assert_int_equal(cfg.n_nat_addrs, 1);
	assert_int_equal(cfg.nat_addrs[0], ip("192.0.2.1"));
	assert_int_equal(cfg.on_revoke, EGRESS_REVOKE_DROP);
	assert_int_equal(cfg.outbound, EGRESS_OUTBOUND_REGISTRY_ONLY);
	assert_int_equal(cfg.n_sources, 1);
	assert_string_equal(cfg.sources[0], "/srv/istio");
	assert_int_equal(cfg.n_labels, 0);
	assert_int_equal(cfg.flows_max, 4096);
	assert_int_equal(cfg.embryonic_max, 1024);
	assert_int_equal(cfg.timeout_established_ms, 90000);
	assert_int_equal(cfg.timeout_transitory_ms, 240000);
	assert_false(cfg.tcp_liberal);
	assert_int_equal(cfg.no_flow, EGRESS_NO_FLOW_DROP);
	egress_config_free(&cfg);

	/* Null values mean "not given": the defaults apply. */
	load_ok(PORTS_OK "nat:\npolicy:\n  labels:\n  sources: []\nflows: ~\nworkers:\n", &cfg);
	assert_int_equal(cfg.n_nat_addrs, 1);
	assert_int_equal(cfg.nat_addrs[0], ip("203.0.113.10"));
	assert_int_equal(cfg.n_labels, 1);
	assert_int_equal(cfg.n_sources, 0);
	assert_int_equal(cfg.workers, 1);
	egress_config_free(&cfg);

	/* A single source string. */
	load_ok(PORTS_OK "policy: {sources: rules.yaml}\n", &cfg);
	snprintf(want, sizeof(want), "%s/rules.yaml", tmpdir);
	assert_string_equal(cfg.sources[0], want);
	egress_config_free(&cfg);
}

/* A config path relative to the working directory still gives absolute sources. */
static void
test_relative_config_path(void **state)
{
	struct egress_config cfg;
	struct diag_list dl = { 0 };
	char *old = getcwd(NULL, 0), *cwd, want[256];

	(void)state;
	assert_non_null(old);
	assert_int_equal(chdir(tmpdir), 0);
	cwd = getcwd(NULL, 0);
	assert_non_null(cwd);
	assert_int_equal(mkdir("sub", 0755), 0);
	write_file("sub/cfg.yaml", PORTS_OK "policy: {sources: [se/, ../x.yaml]}\n");

	assert_int_equal(egress_config_load("sub/cfg.yaml", &cfg, &dl), 0);
	assert_int_equal(dl.n, 0);
	assert_string_equal(cfg.path, "sub/cfg.yaml");
	snprintf(want, sizeof(want), "%s/sub", cwd);
	assert_string_equal(cfg.dir, want);
	snprintf(want, sizeof(want), "%s/sub/se", cwd);
	assert_string_equal(cfg.sources[0], want);
	snprintf(want, sizeof(want), "%s/sub/../x.yaml", cwd);
	assert_string_equal(cfg.sources[1], want);
	egress_config_free(&cfg);

	assert_int_equal(chdir("sub"), 0);
	assert_int_equal(egress_config_load("./cfg.yaml", &cfg, &dl), 0);
	snprintf(want, sizeof(want), "%s/sub", cwd);
	assert_string_equal(cfg.dir, want);
	egress_config_free(&cfg);
	assert_int_equal(egress_config_load("cfg.yaml", &cfg, &dl), 0);
	assert_string_equal(cfg.dir, want);
	egress_config_free(&cfg);

	assert_int_equal(chdir(old), 0);
	free(old);
	free(cwd);
	diag_list_clear(&dl);
}

/* vlan and the descriptor counts: each bad value at its own position. */
static void
test_port_device_keys(void **state)
{
	(void)state;
	check("ports:\n"
	      "  inside: { device: a, address: 10.8.0.1/16, vlan: 0, rx_descriptors: 1000 }\n"
	      "  outside: { device: b, address: 10.9.0.1/16, vlan: 4095, tx_descriptors: 32,\n"
	      "             rx_descriptors: 65536 }\n",
	      -EINVAL,
	      "2:52: error: ports.inside.vlan: invalid value \"0\" (want 1-4094)\n"
	      "2:71: error: ports.inside.rx_descriptors: invalid value \"1000\" (want a "
	      "power of two, 64-32768)\n"
	      "3:53: error: ports.outside.vlan: invalid value \"4095\" (want 1-4094)\n"
	      "3:75: error: ports.outside.tx_descriptors: invalid value \"32\" (want a "
	      "power of two, 64-32768)\n"
	      "4:30: error: ports.outside.rx_descriptors: invalid value \"65536\" (want a "
	      "power of two, 64-32768)\n");
}

/* One run reports every error, in file order, each with its path and value. */
static void
test_all_errors_in_one_run(void **state)
{
	(void)state;
	check("ports:\n"
	      "  inside:  { device: \"\", address: 10.8.0.0/16, foo: 1 }\n"
	      "  outside: { device: [x], address: 10.8.3.1/24, gateway: 10.9.0.1, mtu: 67 }\n"
	      "  middle: {}\n"
	      "nat:\n"
	      "  addresses: [10.8.0.5, 1.2.3.4, 1.2.3.4, 300.1.1.1, {a: b}]\n"
	      "  ports: 70000-2\n"
	      "  port_alloc: sometimes\n"
	      "  mss_clamp: 100\n"
	      "policy:\n"
	      "  outbound: registry_only\n"
	      "  deny: [drop]\n"
	      "  on_revoke: nuke\n"
	      "  sources: {a: b}\n"
	      "  labels: {\"x y\": z, app: \"bad value\", ok: [1]}\n"
	      "flows:\n"
	      "  max: 100\n"
	      "  timeouts: { established: 7x, transitory: 0s, time_wait: 1d }\n"
	      "  embryonic_max: 0\n"
	      "  per_source: { max: -1, new_per_second: 1.5 }\n"
	      "  tcp_liberal: maybe\n"
	      "workers: 0\n"
	      "extra: 1\n",
	      -EINVAL,
	      "2:14: error: ports.inside.device: a value is required\n"
	      "2:35: error: ports.inside.address: \"10.8.0.0/16\" is the network address of "
	      "its prefix\n"
	      "2:48: warning: unknown key \"foo\" in ports.inside\n"
	      "3:22: error: ports.outside.device: expected a device name, got a list\n"
	      "3:58: error: ports.outside.gateway: \"10.9.0.1\" is not inside the port's prefix "
	      "10.8.3.0/24\n"
	      "3:73: error: ports.outside.mtu: invalid value \"67\" (want 68-9000)\n"
	      "4:3: warning: unknown key \"middle\" in ports\n"
	      "6:34: error: nat.addresses[2]: duplicate address \"1.2.3.4\"\n"
	      "6:43: error: nat.addresses[3]: invalid address \"300.1.1.1\" (want A.B.C.D)\n"
	      "6:54: error: nat.addresses[4]: expected an IPv4 address, got a mapping\n"
	      "7:10: error: nat.ports: invalid port range \"70000-2\" (want LO-HI within "
	      "1-65535)\n"
	      "8:15: error: nat.port_alloc: invalid value \"sometimes\" (want random or "
	      "preserve)\n"
	      "9:14: error: nat.mss_clamp: invalid value \"100\" (want 0 for off, or 536-65535)\n"
	      "11:13: error: policy.outbound: invalid value \"registry_only\" (want "
	      "REGISTRY_ONLY or ALLOW_ANY)\n"
	      "12:9: error: policy.deny: expected drop or reset, got a list\n"
	      "13:14: error: policy.on_revoke: invalid value \"nuke\" (want reset, drop or "
	      "keep)\n"
	      "14:12: error: policy.sources: expected a list of files or folders, got a "
	      "mapping\n"
	      "15:12: error: policy.labels: invalid label key \"x y\" (want [PREFIX/]NAME, NAME "
	      "up to 63 of A-Z a-z 0-9 - _ . with alphanumeric ends)\n"
	      "15:27: error: policy.labels: label \"app\": invalid value \"bad value\" (want up "
	      "to 63 of A-Z a-z 0-9 - _ . with alphanumeric ends)\n"
	      "15:44: error: policy.labels: label \"ok\": expected a string, got a list\n"
	      "17:8: error: flows.max: invalid value \"100\" (want 1024-16777216)\n"
	      "18:28: error: flows.timeouts.established: invalid duration \"7x\" (want a number "
	      "with unit s, m, h or ms, e.g. 240s)\n"
	      "18:44: error: flows.timeouts.transitory: duration \"0s\" out of range (want 1ms "
	      "to 168h)\n"
	      "18:59: error: flows.timeouts.time_wait: invalid duration \"1d\" (want a number "
	      "with unit s, m, h or ms, e.g. 240s)\n"
	      "19:18: error: flows.embryonic_max: invalid value \"0\" (want 1-16777216)\n"
	      "20:22: error: flows.per_source.max: invalid value \"-1\" (want 0-16777216)\n"
	      "20:42: error: flows.per_source.new_per_second: invalid value \"1.5\" (want "
	      "0-100000000)\n"
	      "21:16: error: flows.tcp_liberal: invalid value \"maybe\" (want true or false)\n"
	      "22:10: error: workers: invalid value \"0\" (want 1-128)\n"
	      "23:1: warning: unknown key \"extra\" at the top level\n");
}

static void
test_structure_errors(void **state)
{
	(void)state;
	check("", -EINVAL, "0:0: error: empty config (want a mapping with at least \"ports\")\n");
	check("# nothing\n---\n", -EINVAL,
	      "0:0: error: empty config (want a mapping with at least \"ports\")\n");
	check("- ports\n", -EINVAL,
	      "1:1: error: expected a mapping at the top level, got a list\n");
	check("workers: 2\n", -EINVAL, "1:1: error: missing required key \"ports\"\n");
	check("ports: []\n", -EINVAL, "1:8: error: ports: expected a mapping, got a list\n");
	check("ports:\nworkers: 1\n", -EINVAL, "1:1: error: ports: a value is required\n");
	check("ports:\n  inside: {device: a, address: 10.0.0.1/8}\n", -EINVAL,
	      "2:3: error: ports: missing required key \"outside\"\n");
	check("ports:\n"
	      "  inside:\n"
	      "  outside: {address: 192.0.2.1/24}\n",
	      -EINVAL,
	      "2:3: error: ports.inside: a value is required\n"
	      "3:12: error: ports.outside: missing required key \"device\"\n");
	check("ports:\n"
	      "  inside: 10.8.0.1/16\n"
	      "  outside: {device: b, address: ~}\n",
	      -EINVAL,
	      "2:11: error: ports.inside: expected a mapping, got a scalar\n"
	      "3:24: error: ports.outside.address: a value is required\n");
	check(PORTS_OK "nat: [1]\npolicy: x\nflows: {timeouts: 5m, per_source: 1}\n", -EINVAL,
	      "4:6: error: nat: expected a mapping, got a list\n"
	      "5:9: error: policy: expected a mapping, got a scalar\n"
	      "6:19: error: flows.timeouts: expected a mapping, got a scalar\n"
	      "6:35: error: flows.per_source: expected a mapping, got a scalar\n");
	check(PORTS_OK "---\nworkers: 2\n", -EINVAL,
	      "4:1: error: more than one document (the config is a single mapping)\n");
}

static void
test_address_errors(void **state)
{
	(void)state;
	check("ports:\n"
	      "  inside: {device: a, address: 10.8.0.1}\n"
	      "  outside: {device: b, address: 10.8.0.1/33}\n",
	      -EINVAL,
	      "2:32: error: ports.inside.address: invalid address \"10.8.0.1\" (want "
	      "A.B.C.D/LEN, e.g. 10.8.0.1/16)\n"
	      "3:33: error: ports.outside.address: invalid address \"10.8.0.1/33\" (want "
	      "A.B.C.D/LEN, e.g. 10.8.0.1/16)\n");
	check("ports:\n"
	      "  inside: {device: a, address: 10.08.0.1/16}\n"
	      "  outside: {device: b, address: 10.8.0.1/0}\n",
	      -EINVAL,
	      "2:32: error: ports.inside.address: invalid address \"10.08.0.1/16\" (want "
	      "A.B.C.D/LEN, e.g. 10.8.0.1/16)\n"
	      "3:33: error: ports.outside.address: invalid address \"10.8.0.1/0\" (want "
	      "A.B.C.D/LEN, e.g. 10.8.0.1/16)\n");
	check("ports:\n"
	      "  inside: {device: a, address: 127.0.0.1/8}\n"
	      "  outside: {device: b, address: 224.0.0.1/24}\n",
	      -EINVAL,
	      "2:32: error: ports.inside.address: \"127.0.0.1/8\" is not a unicast address\n"
	      "3:33: error: ports.outside.address: \"224.0.0.1/24\" is not a unicast address\n");
	check("ports:\n"
	      "  inside: {device: a, address: 0.1.2.3/8}\n"
	      "  outside: {device: b, address: 192.0.2.255/24}\n",
	      -EINVAL,
	      "2:32: error: ports.inside.address: \"0.1.2.3/8\" is not a unicast address\n"
	      "3:33: error: ports.outside.address: \"192.0.2.255/24\" is the broadcast "
	      "address of its prefix\n");
	/* /31 and /32 have no network or broadcast address. */
	check("ports:\n"
	      "  inside: {device: a, address: 10.0.0.0/31}\n"
	      "  outside: {device: b, address: 192.0.2.255/32}\n",
	      0, "");
	check("ports:\n"
	      "  inside: {device: a, address: 10.8.0.1/16}\n"
	      "  outside: {device: b, address: 10.8.200.1/24}\n",
	      -EINVAL,
	      "3:33: error: ports.outside.address: \"10.8.200.1/24\" overlaps "
	      "ports.inside.address \"10.8.0.1/16\"\n");
	check("ports:\n"
	      "  inside: {device: a, address: 10.8.0.1/24}\n"
	      "  outside: {device: b, address: 10.0.0.1/8}\n",
	      -EINVAL,
	      "3:33: error: ports.outside.address: \"10.0.0.1/8\" overlaps "
	      "ports.inside.address \"10.8.0.1/24\"\n");
}

static void
test_gateway_errors(void **state)
{
	(void)state;
	check("ports:\n"
	      "  inside: {device: a, address: 10.8.0.1/16, gateway: 10.8.0.1}\n"
	      "  outside: {device: b, address: 192.0.2.1/24, gateway: 192.0.3.1}\n",
	      -EINVAL,
	      "2:54: error: ports.inside.gateway: \"10.8.0.1\" is the port's own address\n"
	      "3:56: error: ports.outside.gateway: \"192.0.3.1\" is not inside the port's "
	      "prefix 192.0.2.0/24\n");
	check("ports:\n"
	      "  inside: {device: a, address: 10.8.0.1/16, gateway: 10.8.255.255}\n"
	      "  outside: {device: b, address: 192.0.2.1/24, gateway: 192.0.2.0}\n",
	      -EINVAL,
	      "2:54: error: ports.inside.gateway: \"10.8.255.255\" is the broadcast address of "
	      "prefix 10.8.0.0/16\n"
	      "3:56: error: ports.outside.gateway: \"192.0.2.0\" is the network address of "
	      "prefix 192.0.2.0/24\n");
	check("ports:\n"
	      "  inside: {device: a, address: 10.8.0.1/16, gateway: 10.8.0.1/16}\n"
	      "  outside: {device: b, address: 192.0.2.1/24, gateway: 239.1.1.1}\n",
	      -EINVAL,
	      "2:54: error: ports.inside.gateway: invalid address \"10.8.0.1/16\" (want "
	      "A.B.C.D)\n"
	      "3:56: error: ports.outside.gateway: \"239.1.1.1\" is not a unicast address\n");
	/* A gateway is not checked against an address that is wrong itself. */
	check("ports:\n"
	      "  inside: {device: a, address: 10.8.0.1/16}\n"
	      "  outside: {device: b, address: nope, gateway: 192.0.2.1}\n",
	      -EINVAL,
	      "3:33: error: ports.outside.address: invalid address \"nope\" (want A.B.C.D/LEN, "
	      "e.g. 10.8.0.1/16)\n");
}

static void
test_nat_errors(void **state)
{
	char *text, *p;
	int i;

	(void)state;
	check(PORTS_OK "nat: {addresses: []}\n", -EINVAL,
	      "4:18: error: nat.addresses: empty list (want at least one address)\n");
	check(PORTS_OK "nat: {addresses: {a: 1}}\n", -EINVAL,
	      "4:18: error: nat.addresses: expected a list of addresses, got a mapping\n");
	check(PORTS_OK "nat: {addresses: [10.8.9.9, 203.0.113.10, 192.0.2.1/32]}\n", -EINVAL,
	      "4:19: error: nat.addresses[0]: \"10.8.9.9\" is inside ports.inside's prefix "
	      "10.8.0.0/16\n");
	check(PORTS_OK "nat: {addresses: 0.0.0.0}\n", -EINVAL,
	      "4:18: error: nat.addresses: \"0.0.0.0\" is not a unicast address\n");

	text = malloc(4096);
	assert_non_null(text);
	p = text + sprintf(text, PORTS_OK "nat:\n  addresses:\n");
	for (i = 0; i < EGRESS_MAX_NAT_ADDRS + 2; i++)
		p += sprintf(p, "    - 192.0.2.%d\n", i + 1);
	check(text, -EINVAL, "70:7: error: nat.addresses: too many addresses (limit 64)\n");
	free(text);

	check(PORTS_OK "nat: {ports: 1024}\n", -EINVAL,
	      "4:14: error: nat.ports: invalid port range \"1024\" (want LO-HI within "
	      "1-65535)\n");
	check(PORTS_OK "nat: {ports: 0-10}\n", -EINVAL,
	      "4:14: error: nat.ports: invalid port range \"0-10\" (want LO-HI within "
	      "1-65535)\n");
	check(PORTS_OK "nat: {ports: 2000-1999}\n", -EINVAL,
	      "4:14: error: nat.ports: invalid port range \"2000-1999\" (want LO-HI within "
	      "1-65535)\n");
	check(PORTS_OK "nat: {ports: 1024-65536}\n", -EINVAL,
	      "4:14: error: nat.ports: invalid port range \"1024-65536\" (want LO-HI within "
	      "1-65535)\n");
	check(PORTS_OK "nat: {ports: [1, 2]}\n", -EINVAL,
	      "4:14: error: nat.ports: expected a port range, got a list\n");
	check(PORTS_OK "nat: {ports: 5-5, mss_clamp: 535}\n", -EINVAL,
	      "4:30: error: nat.mss_clamp: invalid value \"535\" (want 0 for off, or "
	      "536-65535)\n");
	check(PORTS_OK "nat: {mss_clamp: 65536}\n", -EINVAL,
	      "4:18: error: nat.mss_clamp: invalid value \"65536\" (want 0 for off, or "
	      "536-65535)\n");
}

/* ports.X.exception: what loads, and every error with its position. */
static void
test_exception(void **state)
{
	struct egress_config cfg;
	(void)state;

	load_ok("ports:\n"
		"  inside: {device: a, address: 10.8.0.1/16,\n"
		"           exception: {tap: egx-in, protocols: [tcp/22]}}\n"
		"  outside: {device: b, address: 203.0.113.10/24,\n"
		"            exception: {tap: egx.out_1, protocols: [tcp/179, udp/3784, udp/179]}}\n"
		"nat: {ports: 5000-60999}\n",
		&cfg);
	assert_string_equal(cfg.port[EGRESS_PORT_INSIDE].exception.tap, "egx-in");
	assert_int_equal(cfg.port[EGRESS_PORT_INSIDE].exception.n_protos, 1);
	assert_int_equal(cfg.port[EGRESS_PORT_INSIDE].exception.proto[0].proto, IPPROTO_TCP);
	assert_int_equal(cfg.port[EGRESS_PORT_INSIDE].exception.proto[0].port, 22);
	assert_string_equal(cfg.port[EGRESS_PORT_OUTSIDE].exception.tap, "egx.out_1");
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].exception.n_protos, 3);
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].exception.proto[1].proto, IPPROTO_UDP);
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].exception.proto[1].port, 3784);
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].exception.proto[2].proto, IPPROTO_UDP);
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].exception.proto[2].port, 179);
	egress_config_free(&cfg);
	/* none: off */
	load_ok(PORTS_OK, &cfg);
	assert_string_equal(cfg.port[EGRESS_PORT_OUTSIDE].exception.tap, "");
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].exception.n_protos, 0);
	egress_config_free(&cfg);

	check("ports:\n"
	      "  inside: {device: a, address: 10.8.0.1/16,\n"
	      "           exception: {tap: \"a/b\", protocols: [tcp/22, sctp/9, tcp/0, tcp/22, "
	      "udp/65536, [1]]}}\n"
	      "  outside: {device: b, address: 203.0.113.10/24,\n"
	      "            exception: {tap: egx-out-is-too-long, protocols: {a: 1}, foo: 1}}\n",
	      -EINVAL,
	      "3:29: error: ports.inside.exception.tap: invalid interface name \"a/b\" (want 1-15 of letters, digits, '-', '_', '.')\n"
	      "3:56: error: ports.inside.exception.protocols[1]: invalid protocol \"sctp/9\" (want tcp/PORT or udp/PORT, PORT 1-65535)\n"
	      "3:64: error: ports.inside.exception.protocols[2]: invalid protocol \"tcp/0\" (want tcp/PORT or udp/PORT, PORT 1-65535)\n"
	      "3:71: error: ports.inside.exception.protocols[3]: duplicate \"tcp/22\"\n"
	      "3:79: error: ports.inside.exception.protocols[4]: invalid protocol \"udp/65536\" (want tcp/PORT or udp/PORT, PORT 1-65535)\n"
	      "3:90: error: ports.inside.exception.protocols[5]: expected PROTOCOL/PORT, got a list\n"
	      "5:30: error: ports.outside.exception.tap: invalid interface name \"egx-out-is-too-long\" (want 1-15 of letters, digits, '-', '_', '.')\n"
	      "5:62: error: ports.outside.exception.protocols: expected a list of PROTOCOL/PORT, got a mapping\n"
	      "5:70: warning: unknown key \"foo\" in ports.outside.exception\n");
	check("ports:\n"
	      "  inside: {device: a, address: 10.8.0.1/16, exception: {tap: egx}}\n"
	      "  outside: {device: b, address: 203.0.113.10/24,\n"
	      "            exception: {tap: egx, protocols: [udp/3784, tcp/1024, udp/65535]}}\n",
	      -EINVAL,
	      "2:56: error: ports.inside.exception: missing required key \"protocols\"\n"
	      "4:30: error: ports.outside.exception.tap: \"egx\" is ports.inside's TAP too\n");
	check("ports:\n"
	      "  inside: {device: a, address: 10.8.0.1/16}\n"
	      "  outside: {device: b, address: 203.0.113.10/24,\n"
	      "            exception: {protocols: []}}\n",
	      -EINVAL,
	      "4:24: error: ports.outside.exception: missing required key \"tap\"\n"
	      "4:36: error: ports.outside.exception.protocols: empty list (want at least one of tcp/PORT, udp/PORT)\n");
	/*
	 * Listed ports inside nat.ports on the port's own address, a NAT
	 * address (the default pool): no error, the NAT leaves them alone
	 * there (holes, ctl_dp_conf(); test_ctl).
	 */
	load_ok("ports:\n"
		"  inside: {device: a, address: 10.8.0.1/16}\n"
		"  outside: {device: b, address: 203.0.113.10/24,\n"
		"            exception: {tap: egx, protocols: [udp/3784, tcp/1024, udp/65535]}}\n",
		&cfg);
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].exception.n_protos, 3);
	assert_int_equal(cfg.nat_port_lo, 1024);
	assert_int_equal(cfg.nat_port_hi, 65535);
	egress_config_free(&cfg);
	/* the listed port is NAT's only on a NAT address */
	load_ok("ports:\n"
		"  inside: {device: a, address: 10.8.0.1/16}\n"
		"  outside: {device: b, address: 203.0.113.10/24,\n"
		"            exception: {tap: egx, protocols: [tcp/2000]}}\n"
		"nat: {addresses: [198.51.100.7]}\n",
		&cfg);
	egress_config_free(&cfg);
}

static void
test_policy_errors(void **state)
{
	char *text, *p;
	int i;

	(void)state;
	check(PORTS_OK "policy:\n  sources: [ok/, \"\", [x]]\n", -EINVAL,
	      "5:18: error: policy.sources[1]: empty path\n"
	      "5:22: error: policy.sources[2]: expected a file or folder, got a list\n");
	check(PORTS_OK "policy: {labels: [a]}\n", -EINVAL,
	      "4:18: error: policy.labels: expected a mapping of labels, got a list\n");
	check(PORTS_OK "policy: {labels: {a/b/c: x, -a: x, /a: x, a/: x, ok: -x}}\n", -EINVAL,
	      "4:19: error: policy.labels: invalid label key \"a/b/c\" (want [PREFIX/]NAME, "
	      "NAME up to 63 of A-Z a-z 0-9 - _ . with alphanumeric ends)\n"
	      "4:29: error: policy.labels: invalid label key \"-a\" (want [PREFIX/]NAME, "
	      "NAME up to 63 of A-Z a-z 0-9 - _ . with alphanumeric ends)\n"
	      "4:36: error: policy.labels: invalid label key \"/a\" (want [PREFIX/]NAME, "
	      "NAME up to 63 of A-Z a-z 0-9 - _ . with alphanumeric ends)\n"
	      "4:43: error: policy.labels: invalid label key \"a/\" (want [PREFIX/]NAME, "
	      "NAME up to 63 of A-Z a-z 0-9 - _ . with alphanumeric ends)\n"
	      "4:54: error: policy.labels: label \"ok\": invalid value \"-x\" (want up to 63 "
	      "of A-Z a-z 0-9 - _ . with alphanumeric ends)\n");

	/* policy.namespace, root_namespace: Kubernetes namespaces (RFC 1123 labels) */
	check(PORTS_OK "policy:\n  namespace: Istio_System\n  root_namespace: [a]\n", -EINVAL,
	      "5:14: error: policy.namespace: invalid namespace \"Istio_System\" (want a "
	      "lowercase RFC 1123 label)\n"
	      "6:19: error: policy.root_namespace: expected a namespace, got a list\n");
	check(PORTS_OK "policy: {namespace: a.b, root_namespace: -x}\n", -EINVAL,
	      "4:21: error: policy.namespace: invalid namespace \"a.b\" (want a lowercase RFC "
	      "1123 label)\n"
	      "4:42: error: policy.root_namespace: invalid namespace \"-x\" (want a lowercase "
	      "RFC 1123 label)\n");
	check(PORTS_OK "policy:\n  default_export_to:\n    service_entry: [\".\", Bad, [x]]\n"
		       "    virtual_service: \"*\"\n    gateway: [\"*\"]\n",
	      -EINVAL,
	      "6:26: error: policy.default_export_to.service_entry[1]: invalid entry \"Bad\" "
	      "(want \".\", \"*\", \"~\" or a namespace)\n"
	      "6:31: error: policy.default_export_to.service_entry[2]: expected a namespace, got "
	      "a list\n"
	      "7:22: error: policy.default_export_to.virtual_service: expected a list of "
	      "namespaces, got a scalar\n"
	      "8:5: warning: unknown key \"gateway\" in policy.default_export_to\n");
	/* accepted as Istio's meshConfig accepts them, but only "." and "*" count */
	check(PORTS_OK "policy:\n  default_export_to:\n    service_entry: [istio-system, \"~\"]\n"
		       "    destination_rule: [\".\", cart]\n",
	      0,
	      "6:21: warning: policy.default_export_to.service_entry[0]: Istio honours only "
	      "\".\" and \"*\" in a mesh default exportTo: \"istio-system\" is ignored (a "
	      "default without them exports to no namespace)\n"
	      "6:35: warning: policy.default_export_to.service_entry[1]: Istio honours only "
	      "\".\" and \"*\" in a mesh default exportTo: \"~\" is ignored (a default "
	      "without them exports to no namespace)\n"
	      "7:29: warning: policy.default_export_to.destination_rule[1]: Istio honours "
	      "only \".\" and \"*\" in a mesh default exportTo: \"cart\" is ignored (a "
	      "default without them exports to every namespace)\n");

	text = malloc(4096);
	assert_non_null(text);
	p = text + sprintf(text, PORTS_OK "policy:\n  labels:\n");
	for (i = 0; i < EGRESS_MAX_LABELS + 1; i++)
		p += sprintf(p, "    l%d: v\n", i);
	check(text, -EINVAL, "22:5: error: policy.labels: too many labels (limit 16)\n");
	free(text);
}

static void
test_flows_errors(void **state)
{
	(void)state;
	check(PORTS_OK "flows: {max: 16777217}\n", -EINVAL,
	      "4:14: error: flows.max: invalid value \"16777217\" (want 1024-16777216)\n");
	check(PORTS_OK "flows: {max: 01024}\n", -EINVAL,
	      "4:14: error: flows.max: invalid value \"01024\" (want 1024-16777216)\n");
	check(PORTS_OK "flows: {max: 99999999999999999999999}\n", -EINVAL,
	      "4:14: error: flows.max: invalid value \"99999999999999999999999\" (want "
	      "1024-16777216)\n");
	check(PORTS_OK "flows: {max: 2048, embryonic_max: 4096}\n", -EINVAL,
	      "4:35: error: flows.embryonic_max: \"4096\" exceeds flows.max (2048)\n");
	check(PORTS_OK "flows: {embryonic_max: 2000000}\n", -EINVAL,
	      "4:24: error: flows.embryonic_max: \"2000000\" exceeds flows.max (1048576)\n");
	check(PORTS_OK "flows: {timeouts: {established: 169h, transitory: -5s, idle: 1s}}\n",
	      -EINVAL,
	      "4:33: error: flows.timeouts.established: duration \"169h\" out of range (want "
	      "1ms to 168h)\n"
	      "4:51: error: flows.timeouts.transitory: invalid duration \"-5s\" (want a "
	      "number with unit s, m, h or ms, e.g. 240s)\n"
	      "4:56: warning: unknown key \"idle\" in flows.timeouts\n");
	check(PORTS_OK "flows: {tcp_liberal: yes}\n", -EINVAL,
	      "4:22: error: flows.tcp_liberal: invalid value \"yes\" (want true or false)\n");
	check(PORTS_OK "flows: {no_flow: rst}\n", -EINVAL,
	      "4:18: error: flows.no_flow: invalid value \"rst\" (want drop or reset)\n");
	check(PORTS_OK "flows:\n  no_flow: [reset]\n", -EINVAL,
	      "5:12: error: flows.no_flow: expected drop or reset, got a list\n");
	check(PORTS_OK "workers: 129\n", -EINVAL,
	      "4:10: error: workers: invalid value \"129\" (want 1-128)\n");
	check(PORTS_OK "workers: {n: 1}\n", -EINVAL,
	      "4:10: error: workers: expected a number, got a mapping\n");
}

/* api.socket: the default, a given path, and its errors at FILE:LINE:COL. */
static void
test_api_socket(void **state)
{
	struct egress_config cfg;

	(void)state;
	load_ok(PORTS_OK, &cfg);
	assert_string_equal(cfg.api_socket, "/run/egressd/egressd.sock");
	egress_config_free(&cfg);
	load_ok(PORTS_OK "api: {socket: /tmp/x/e.sock}\n", &cfg);
	assert_string_equal(cfg.api_socket, "/tmp/x/e.sock");
	egress_config_free(&cfg);
	check(PORTS_OK "api: {socket: run/e.sock}\n", -EINVAL,
	      "4:15: error: api.socket: want an absolute path, got \"run/e.sock\"\n");
	check(PORTS_OK "api: {socket: [a]}\n", -EINVAL,
	      "4:15: error: api.socket: expected a path, got a list\n");
	check(PORTS_OK
	      "api: {socket: /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, listen: x}\n",
	      -EINVAL,
	      "4:15: error: api.socket: path longer than 107 bytes\n"
	      "4:128: warning: unknown key \"listen\" in api\n");
	check(PORTS_OK "api: /x\n", -EINVAL, "4:6: error: api: expected a mapping, got a scalar\n");
}

/* flowlog: absent is off; path, denied_per_second, ring; errors at FILE:LINE:COL. */
static void
test_flowlog(void **state)
{
	struct egress_config cfg;

	(void)state;
	load_ok(PORTS_OK, &cfg);
	assert_null(cfg.flowlog_path);
	assert_int_equal(cfg.flowlog_denied_per_second, 100);
	assert_int_equal(cfg.flowlog_ring, 65536);
	egress_config_free(&cfg);
	load_ok(PORTS_OK "flowlog: {path: /var/log/egressd/flows.jsonl}\n", &cfg);
	assert_string_equal(cfg.flowlog_path, "/var/log/egressd/flows.jsonl");
	assert_int_equal(cfg.flowlog_denied_per_second, 100);
	egress_config_free(&cfg);
	load_ok(PORTS_OK "flowlog: {path: /f, denied_per_second: 0, ring: 16}\n", &cfg);
	assert_string_equal(cfg.flowlog_path, "/f");
	assert_int_equal(cfg.flowlog_denied_per_second, 0);
	assert_int_equal(cfg.flowlog_ring, 16);
	egress_config_free(&cfg);
	check(PORTS_OK "flowlog: {path: flows.jsonl}\n", -EINVAL,
	      "4:17: error: flowlog.path: want an absolute path, got \"flows.jsonl\"\n");
	check(PORTS_OK "flowlog: {denied_per_second: 5}\n", -EINVAL,
	      "4:10: error: flowlog: missing required key \"path\"\n");
	check(PORTS_OK "flowlog: {path: /f, denied_per_second: -1, ring: 15}\n", -EINVAL,
	      "4:40: error: flowlog.denied_per_second: invalid value \"-1\" (want 0-1000000)\n"
	      "4:50: error: flowlog.ring: invalid value \"15\" (want 16-16777216)\n");
}

/* sync: absent is off; every key; errors at FILE:LINE:COL, all in one run. */
static void
test_sync(void **state)
{
	struct egress_config cfg;

	(void)state;
	load_ok(PORTS_OK, &cfg);
	assert_false(cfg.sync.on);
	egress_config_free(&cfg);
	load_ok(PORTS_OK "sync: {listen: 192.0.2.1:4789, peer: 192.0.2.2:4790,\n"
			 "       peer_addresses: [203.0.113.11, 203.0.113.12]}\n",
		&cfg);
	assert_true(cfg.sync.on);
	assert_int_equal(cfg.sync.listen_addr, ip("192.0.2.1"));
	assert_int_equal(cfg.sync.listen_port, 4789);
	assert_int_equal(cfg.sync.peer_addr, ip("192.0.2.2"));
	assert_int_equal(cfg.sync.peer_port, 4790);
	assert_int_equal(cfg.sync.n_peer_nat_addrs, 2);
	assert_int_equal(cfg.sync.peer_nat_addrs[0], ip("203.0.113.11"));
	assert_int_equal(cfg.sync.peer_nat_addrs[1], ip("203.0.113.12"));
	/* defaults */
	assert_int_equal(cfg.sync.dead_after_ms, 1000);
	assert_true(cfg.sync.takeover_auto);
	assert_int_equal(cfg.sync.max_flows, cfg.flows_max);
	assert_int_equal(cfg.sync.ring, 65536);
	egress_config_free(&cfg);
	load_ok(PORTS_OK
		"sync: {listen: 192.0.2.1:1, peer: 192.0.2.2:2, peer_addresses: [203.0.113.11],\n"
		"       dead_after: 300ms, takeover: manual, max_flows: 5000, ring: 16}\n",
		&cfg);
	assert_int_equal(cfg.sync.dead_after_ms, 300);
	assert_false(cfg.sync.takeover_auto);
	assert_int_equal(cfg.sync.max_flows, 5000);
	assert_int_equal(cfg.sync.ring, 16);
	egress_config_free(&cfg);
	check(PORTS_OK
	      "sync: {listen: 127.0.0.1:1, peer: 127.0.0.1:2, peer_addresses: [203.0.113.10]}\n",
	      -EINVAL,
	      "4:65: error: sync.peer_addresses[0]: \"203.0.113.10\" is this appliance's own NAT "
	      "address (nat.addresses)\n");
	check(PORTS_OK "sync: {peer: 192.0.2.2, peer_addresses: 203.0.113.11}\n", -EINVAL,
	      "4:7: error: sync: missing required key \"listen\"\n"
	      "4:14: error: sync.peer: invalid address \"192.0.2.2\" (want A.B.C.D:PORT, PORT 1-65535)\n"
	      "4:41: error: sync.peer_addresses: expected a list of at least one address, got \"203.0.113.11\"\n");
	check(PORTS_OK
	      "sync: {listen: \"[::1]:5\", peer: 192.0.2.2:0, peer_addresses: [10.0.0.300],\n"
	      "       dead_after: 0s, takeover: sometimes, max_flows: 0, ring: 15, port: 1}\n",
	      -EINVAL,
	      "4:16: error: sync.listen: invalid address \"[::1]:5\" (want A.B.C.D:PORT, PORT 1-65535)\n"
	      "4:33: error: sync.peer: invalid address \"192.0.2.2:0\" (want A.B.C.D:PORT, PORT 1-65535)\n"
	      "4:63: error: sync.peer_addresses[0]: invalid address \"10.0.0.300\" (want A.B.C.D)\n"
	      "5:20: error: sync.dead_after: duration \"0s\" out of range (want 1ms to 1h)\n"
	      "5:34: error: sync.takeover: invalid value \"sometimes\" (want auto or manual)\n"
	      "5:56: error: sync.max_flows: invalid value \"0\" (want 1-16777216)\n"
	      "5:65: error: sync.ring: invalid value \"15\" (want 16-16777216)\n"
	      "5:69: warning: unknown key \"port\" in sync\n");
}

/* poll: idle, max_sleep_us (absent: test_defaults); errors at FILE:LINE:COL. */
static void
test_poll(void **state)
{
	struct egress_config cfg;

	(void)state;
	load_ok(PORTS_OK "poll: {idle: backoff}\n", &cfg);
	assert_int_equal(cfg.poll_idle, EGRESS_POLL_BACKOFF);
	assert_int_equal(cfg.poll_max_sleep_us, 1000);
	egress_config_free(&cfg);
	load_ok(PORTS_OK "poll: {idle: busy, max_sleep_us: 100000}\n", &cfg);
	assert_int_equal(cfg.poll_idle, EGRESS_POLL_BUSY);
	assert_int_equal(cfg.poll_max_sleep_us, 100000);
	egress_config_free(&cfg);
	load_ok(PORTS_OK "poll: {idle: backoff, max_sleep_us: 1}\n", &cfg);
	assert_int_equal(cfg.poll_max_sleep_us, 1);
	egress_config_free(&cfg);
	load_ok(PORTS_OK "poll: {idle: interrupt, max_sleep_us: 20000}\n", &cfg);
	assert_int_equal(cfg.poll_idle, EGRESS_POLL_INTERRUPT);
	assert_int_equal(cfg.poll_max_sleep_us, 20000);
	egress_config_free(&cfg);
	check(PORTS_OK "poll: {idle: irq, max_sleep_us: 0}\n", -EINVAL,
	      "4:14: error: poll.idle: invalid value \"irq\" (want busy, backoff or interrupt)\n"
	      "4:33: error: poll.max_sleep_us: invalid value \"0\" (want 1-100000)\n");
	check(PORTS_OK "poll: {max_sleep_us: 100001, spin: 5}\n", -EINVAL,
	      "4:22: error: poll.max_sleep_us: invalid value \"100001\" (want 1-100000)\n"
	      "4:30: warning: unknown key \"spin\" in poll\n");
	check(PORTS_OK "poll: backoff\n", -EINVAL,
	      "4:7: error: poll: expected a mapping, got a scalar\n");
}

/* Unknown keys warn, and a config with only warnings loads. */
static void
test_unknown_keys_warn(void **state)
{
	(void)state;
	check("ports:\n"
	      "  inside: {device: a, address: 10.8.0.1/16, vlans: 5}\n"
	      "  outside: {device: b, address: 192.0.2.1/24}\n"
	      "  mgmt: {}\n"
	      "nat: {pool: x}\n"
	      "policy: {mode: strict}\n"
	      "flows: {per_source: {burst: 1}, timeouts: {syn: 1s}, maximum: 1}\n"
	      "worker: 2\n",
	      0,
	      "2:45: warning: unknown key \"vlans\" in ports.inside\n"
	      "4:3: warning: unknown key \"mgmt\" in ports\n"
	      "5:7: warning: unknown key \"pool\" in nat\n"
	      "6:10: warning: unknown key \"mode\" in policy\n"
	      "7:22: warning: unknown key \"burst\" in flows.per_source\n"
	      "7:44: warning: unknown key \"syn\" in flows.timeouts\n"
	      "7:54: warning: unknown key \"maximum\" in flows\n"
	      "8:1: warning: unknown key \"worker\" at the top level\n");
}

/* YAML problems come from ydoc, with the config's file name. */
static void
test_yaml_errors(void **state)
{
	struct egress_config cfg;
	struct diag_list dl = { 0 };
	char path[160], want[256], got[256];

	(void)state;
	check(PORTS_OK "workers: 1\nworkers: 2\n", -EINVAL,
	      "5:1: error: duplicate key \"workers\"\n");
	check(PORTS_OK "workers: *w\n", -EINVAL, "4:10: error: unknown anchor 'w' referenced\n");
	check("ports: {inside: \xff}\n", -EINVAL, "1:17: error: invalid leading UTF-8 octet\n");

	snprintf(path, sizeof(path), "%s/missing.yaml", tmpdir);
	assert_int_equal(egress_config_load(path, &cfg, &dl), -ENOENT);
	assert_int_equal(dl.n, 1);
	diag_format(&dl.v[0], got, sizeof(got));
	snprintf(want, sizeof(want), "%s: error: cannot open: No such file or directory", path);
	assert_string_equal(got, want);
	assert_null(cfg.path);
	diag_list_clear(&dl);
}

static void
test_static_neighbors(void **state)
{
	static const uint8_t gw_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x91 };
	struct egress_config cfg;

	(void)state;
	load_ok("ports:\n"
		"  inside: {device: net_null0, address: 10.8.0.1/16}\n"
		"  outside:\n"
		"    device: net_null1\n"
		"    address: 203.0.113.10/24\n"
		"    gateway: 203.0.113.1\n"
		"    neighbors: { 203.0.113.1: \"02:00:00:00:00:91\" }\n"
		"policy: {sources: [p/]}\n",
		&cfg);
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].n_neighbors, 1);
	assert_int_equal(cfg.port[EGRESS_PORT_OUTSIDE].neighbors[0].ip, ip("203.0.113.1"));
	assert_memory_equal(cfg.port[EGRESS_PORT_OUTSIDE].neighbors[0].mac, gw_mac, 6);
	assert_int_equal(cfg.port[EGRESS_PORT_INSIDE].n_neighbors, 0);
	egress_config_free(&cfg);

	check(PORTS_OK "  neighbors_typo: 1\n"
		       "policy: {sources: [p/]}\n",
	      0, "4:3: warning: unknown key \"neighbors_typo\" in ports\n");
	check("ports:\n"
	      "  inside: {device: net_null0, address: 10.8.0.1/16,\n"
	      "           neighbors: {10.8.0.9: \"01:00:5e:00:00:01\", bogus: \"02:00:00:00:00:01\"}}\n"
	      "  outside: {device: net_null1, address: 203.0.113.10/24}\n"
	      "policy: {sources: [p/]}\n",
	      -EINVAL,
	      "3:34: error: ports.inside.neighbors.10.8.0.9: invalid MAC address "
	      "\"01:00:5e:00:00:01\" (want unicast aa:bb:cc:dd:ee:ff)\n"
	      "3:55: error: ports.inside.neighbors.bogus: invalid address \"bogus\" "
	      "(want A.B.C.D)\n");
}

static void
test_parse_duration(void **state)
{
	static const struct {
		const char *s;
		uint64_t ms;
	} ok[] = {
		{ "0", 0 },           { "120", 120000 },  { "120s", 120000 },
		{ "4m", 240000 },     { "2h", 7200000 },  { "1500ms", 1500 },
		{ "2h4m", 7440000 },  { "1m30s", 90000 }, { "1h0m0s5ms", 3600005 },
		{ "7440s", 7440000 },
	};
	static const char *const bad[] = {
		"",
		"s",
		"1d",
		"-1s",
		"1.5s",
		"1 s",
		"1sm",
		"1s ",
		"10x",
		"ms",
		"99999999999999999999s",
		"18446744073709552s",
		"1h1",
		"0x10",
	};
	uint64_t ms;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ms = 1;
		assert_int_equal(egress_parse_duration(ok[i].s, &ms), 0);
		assert_int_equal(ms, ok[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = 42;
		assert_int_equal(egress_parse_duration(bad[i], &ms), -EINVAL);
		assert_int_equal(ms, 42);
	}
	assert_int_equal(egress_parse_duration(NULL, &ms), -EINVAL);
}

static void
test_parse_cidr(void **state)
{
	static const struct {
		const char *s;
		const char *addr;
		uint8_t len;
	} ok[] = {
		{ "10.8.0.1/16", "10.8.0.1", 16 }, { "10.8.0.1", "10.8.0.1", 32 },
		{ "0.0.0.0/0", "0.0.0.0", 0 },     { "255.255.255.255/32", "255.255.255.255", 32 },
		{ "192.0.2.7/9", "192.0.2.7", 9 }, { "10.0.0.0/8", "10.0.0.0", 8 },
	};
	static const char *const bad[] = {
		"",          "10.8.0",      "10.8.0.1.",   "10.8.0.1.2",
		"256.0.0.1", "10.8.0.1/33", "10.8.0.1/",   "10.8.0.1/016",
		"010.8.0.1", "10.8.0.1/-1", " 10.8.0.1",   "10.8.0.1 ",
		"10..0.1",   "1000.8.0.1",  "10.8.0.1/1a", "a.b.c.d",
	};
	uint32_t addr;
	uint8_t len;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(egress_parse_cidr(ok[i].s, &addr, &len), 0);
		assert_int_equal(addr, ip(ok[i].addr));
		assert_int_equal(len, ok[i].len);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(egress_parse_cidr(bad[i], &addr, &len), -EINVAL);
	assert_int_equal(egress_parse_cidr(NULL, &addr, &len), -EINVAL);
}

/* metrics.listen: absent is off; both families; errors at the value. */
static void
test_metrics_listen(void **state)
{
	static const uint8_t v6[16] = { [15] = 1 };
	struct egress_config cfg;

	(void)state;
	load_ok(PORTS_OK, &cfg);
	assert_int_equal(cfg.metrics.family, 0);
	egress_config_free(&cfg);
	load_ok(PORTS_OK "metrics: {listen: \"127.0.0.1:9469\"}\n", &cfg);
	assert_int_equal(cfg.metrics.family, AF_INET);
	assert_memory_equal(cfg.metrics.addr, "\x7f\x00\x00\x01", 4);
	assert_int_equal(cfg.metrics.port, 9469);
	egress_config_free(&cfg);
	load_ok(PORTS_OK "metrics:\n  listen: \"[::1]:65535\"\n", &cfg);
	assert_int_equal(cfg.metrics.family, AF_INET6);
	assert_memory_equal(cfg.metrics.addr, v6, 16);
	assert_int_equal(cfg.metrics.port, 65535);
	egress_config_free(&cfg);

	check(PORTS_OK "metrics: {listen: \"127.0.0.1:0\"}\n", -EINVAL,
	      "4:19: error: metrics.listen: invalid address \"127.0.0.1:0\" (want IPV4:PORT or "
	      "[IPV6]:PORT, PORT 1-65535)\n");
	check(PORTS_OK "metrics:\n  listen: \"::1:9469\"\n", -EINVAL,
	      "5:11: error: metrics.listen: invalid address \"::1:9469\" (want IPV4:PORT or "
	      "[IPV6]:PORT, PORT 1-65535)\n");
	check(PORTS_OK "metrics: {listen: localhost:9469}\n", -EINVAL,
	      "4:19: error: metrics.listen: invalid address \"localhost:9469\" (want IPV4:PORT "
	      "or [IPV6]:PORT, PORT 1-65535)\n");
	check(PORTS_OK "metrics:\n  listen: [9469]\n", -EINVAL,
	      "5:11: error: metrics.listen: expected an address, got a list\n");
	check(PORTS_OK "metrics: {}\n", -EINVAL,
	      "4:10: error: metrics: missing required key \"listen\"\n");
	check(PORTS_OK "metrics: {listen: \"127.0.0.1:9469\", port: 1}\n", 0,
	      "4:37: warning: unknown key \"port\" in metrics\n");
}

static void
test_parse_listen(void **state)
{
	static const char *const bad[] = {
		"",
		":9469",
		"127.0.0.1",
		"127.0.0.1:",
		"127.0.0.1:65536",
		"127.0.0.1:09469",
		"127.0.0.1:94a",
		"[::1]",
		"[::1]9469",
		"[127.0.0.1]:80",
		"::1:80",
		"[]:80",
		"1.2.3:80",
		" 1.2.3.4:80",
		"1.2.3.4:80 ",
		"[::1:80",
	};
	struct egress_listen l;
	size_t i;

	(void)state;
	assert_int_equal(egress_parse_listen("0.0.0.0:1", &l), 0);
	assert_int_equal(l.family, AF_INET);
	assert_int_equal(l.port, 1);
	assert_int_equal(egress_parse_listen("[2001:db8::7]:9469", &l), 0);
	assert_int_equal(l.family, AF_INET6);
	assert_int_equal(l.addr[0], 0x20);
	assert_int_equal(l.addr[15], 7);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(egress_parse_listen(bad[i], &l), -EINVAL);
	assert_int_equal(egress_parse_listen(NULL, &l), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_metrics_listen),
		cmocka_unit_test(test_parse_listen),
		cmocka_unit_test(test_static_neighbors),
		cmocka_unit_test(test_design_example),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_other_values),
		cmocka_unit_test(test_relative_config_path),
		cmocka_unit_test(test_port_device_keys),
		cmocka_unit_test(test_all_errors_in_one_run),
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_address_errors),
		cmocka_unit_test(test_gateway_errors),
		cmocka_unit_test(test_nat_errors),
		cmocka_unit_test(test_exception),
		cmocka_unit_test(test_policy_errors),
		cmocka_unit_test(test_flows_errors),
		cmocka_unit_test(test_api_socket),
		cmocka_unit_test(test_flowlog),
		cmocka_unit_test(test_sync),
		cmocka_unit_test(test_poll),
		cmocka_unit_test(test_unknown_keys_warn),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_parse_cidr),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
