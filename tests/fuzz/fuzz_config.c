/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: egress_config_load() on arbitrary bytes, read from a
 * memfd by its /proc/self/fd path (the loader only takes paths; no file on
 * disk). Beyond not crashing or leaking:
 *   - the return value and the diagnostics agree (0 with no error, < 0 with
 *     at least one), every diagnostic has a file and a message;
 *   - a config the loader accepts is one egressd can start with: values in
 *     their documented ranges, a NAT port range that splits across the
 *     workers, and ctl_dp_conf() runs on it;
 * and, on the side, egress_parse_duration() / egress_parse_cidr() on the
 * first bytes as a string.
 */
#include "fuzz_common.h"

#include "config.h"
#include "ctl.h"
#include "diag.h"
#include "dp.h"
#include "nat.h"

static struct fuzz_memfile mf;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (fuzz_memfile_open(&mf, "egressd.yaml") != 0) {
		perror("fuzz_config: memfd_create");
		abort();
	}
	return 0;
}

static void
check_accepted(const struct egress_config *cfg)
{
	struct dp_conf conf;
	unsigned int p, i, w;

	FUZZ_CHECK(cfg->workers >= 1 && cfg->workers <= 128, "workers %u", cfg->workers);
	FUZZ_CHECK(cfg->n_nat_addrs >= 1 && cfg->n_nat_addrs <= EGRESS_MAX_NAT_ADDRS,
		   "%u NAT addresses", cfg->n_nat_addrs);
	for (i = 0; i < cfg->n_nat_addrs; i++)
		FUZZ_CHECK(cfg->nat_addrs[i] != 0, "NAT address %u is 0.0.0.0", i);
	FUZZ_CHECK(cfg->nat_port_lo >= 1 && cfg->nat_port_lo <= cfg->nat_port_hi, "nat.ports %u-%u",
		   cfg->nat_port_lo, cfg->nat_port_hi);
	for (w = 0; w < cfg->workers; w++) {
		uint16_t lo, hi;

		FUZZ_CHECK(nat_range_split(cfg->nat_port_lo, cfg->nat_port_hi, cfg->workers, w, &lo,
					   &hi) == 0,
			   "nat.ports %u-%u accepted, but it does not split across %u workers",
			   cfg->nat_port_lo, cfg->nat_port_hi, cfg->workers);
		FUZZ_CHECK(lo <= hi && lo >= cfg->nat_port_lo && hi <= cfg->nat_port_hi,
			   "worker %u gets %u-%u of %u-%u", w, lo, hi, cfg->nat_port_lo,
			   cfg->nat_port_hi);
	}
	for (p = 0; p < EGRESS_PORT_MAX; p++) {
		const struct egress_port_cfg *pc = &cfg->port[p];

		FUZZ_CHECK(pc->prefix_len <= 32, "port %u prefix /%u", p, pc->prefix_len);
		FUZZ_CHECK(pc->mtu >= 68 && pc->mtu <= 9000, "port %u mtu %u", p, pc->mtu);
		FUZZ_CHECK(pc->n_neighbors <= EGRESS_MAX_NEIGHBORS, "port %u: %u neighbours", p,
			   pc->n_neighbors);
	}
	FUZZ_CHECK(cfg->n_labels <= EGRESS_MAX_LABELS, "%u labels", cfg->n_labels);
	for (i = 0; i < cfg->n_labels; i++)
		FUZZ_CHECK(cfg->labels[i].key != NULL && cfg->labels[i].value != NULL,
			   "label %u without key or value", i);
	for (i = 0; i < cfg->n_sources; i++)
		FUZZ_CHECK(cfg->sources[i] != NULL && cfg->sources[i][0] != '\0',
			   "empty policy source %u", i);
	FUZZ_CHECK(cfg->flows_max >= 1, "flows.max %u", cfg->flows_max);
	FUZZ_CHECK(cfg->embryonic_max >= 1 && cfg->embryonic_max <= cfg->flows_max,
		   "flows.embryonic_max %u of %u", cfg->embryonic_max, cfg->flows_max);
	FUZZ_CHECK(cfg->timeout_established_ms > 0 && cfg->timeout_transitory_ms > 0 &&
			   cfg->timeout_time_wait_ms > 0,
		   "a zero timeout");
	FUZZ_CHECK(cfg->path != NULL && cfg->dir != NULL, "no path or dir");

	memset(&conf, 0, sizeof(conf));
	ctl_dp_conf(&conf, cfg);
	FUZZ_CHECK(conf.embryonic_max >= 1, "per-worker embryonic_max 0");
}

static void
fuzz_small_parsers(const uint8_t *data, size_t size)
{
	char s[64];
	uint64_t ms;
	uint32_t addr;
	uint8_t len;
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;

	memcpy(s, data, n);
	s[n] = '\0';
	(void)egress_parse_duration(s, &ms);
	if (egress_parse_cidr(s, &addr, &len) == 0)
		FUZZ_CHECK(len <= 32, "egress_parse_cidr(\"%s\") gives /%u", s, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_list dl = { 0 };
	struct egress_config cfg;
	size_t i;
	int rc;

	fuzz_small_parsers(data, size);
	if (fuzz_memfile_set(&mf, data, size) != 0)
		abort();
	rc = egress_config_load(mf.path, &cfg, &dl);
	for (i = 0; i < dl.n; i++) {
		char buf[512];

		FUZZ_CHECK(dl.v[i].file != NULL && dl.v[i].msg != NULL && dl.v[i].msg[0] != '\0',
			   "diagnostic %zu without file or message", i);
		FUZZ_CHECK(diag_format(&dl.v[i], buf, sizeof(buf)) > 0, "diag_format");
	}
	if (rc == 0) {
		FUZZ_CHECK(diag_errors(&dl) == 0, "loaded with %zu errors", diag_errors(&dl));
		check_accepted(&cfg);
		egress_config_free(&cfg);
	} else {
		FUZZ_CHECK(rc < 0, "rc %d", rc);
		FUZZ_CHECK(diag_errors(&dl) > 0, "refused (%d) without an error", rc);
	}
	diag_list_clear(&dl);
	return 0;
}
