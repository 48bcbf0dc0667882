/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared pieces of the libFuzzer targets: EAL start-up, a memfd that stands
 * in for a file, the oracle's own checksum arithmetic and a loud failure.
 *
 * The checksum helpers here are written from RFC 1071 on big-endian words,
 * independently of lib/pkt (which sums host-order words with rte_raw_cksum),
 * so that a target can check the library against something it did not write.
 */
#ifndef EGRESS_FUZZ_COMMON_H
#define EGRESS_FUZZ_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "runtime_dir.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * An invariant the target checks does not hold: print why and abort, so that
 * libFuzzer saves the input as a crash like any sanitizer report.
 */
#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s: ", __FILE__, __LINE__,       \
				#cond);                                                            \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/*
 * Start the EAL once per process, as the unit tests do: no hugepages, no PCI,
 * no shared config, no telemetry socket, a file prefix no other run uses.
 */
static inline int
fuzz_eal_init(const char *name)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "--file-prefix=egfz-%s-%d", name, (int)getpid());
	char *argv[] = {
		(char *)name,
		"--no-huge",
		"--no-pci",
		"--no-shconf",
		"--no-telemetry",
		"--log-level=*:error",
		"-m",
		"256",
		"-l",
		"0",
		prefix,
		NULL,
	};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "%s: rte_eal_init: %s\n", name, rte_strerror(rte_errno));
		return -1;
	}
	egress_runtime_dir_rm_at_exit();
	return 0;
}

/*
 * A memory file the loaders can open by path (/proc/self/fd/N): no temporary
 * file on disk, nothing to clean up. Each call replaces its content.
 * @return 0, or -errno.
 */
struct fuzz_memfile {
	int fd;
	char path[64];
};

static inline int
fuzz_memfile_open(struct fuzz_memfile *mf, const char *name)
{
	mf->fd = memfd_create(name, MFD_CLOEXEC);
	if (mf->fd < 0)
		return -errno;
	snprintf(mf->path, sizeof(mf->path), "/proc/self/fd/%d", mf->fd);
	return 0;
}

static inline int
fuzz_memfile_set(struct fuzz_memfile *mf, const void *data, size_t size)
{
	const uint8_t *p = data;
	size_t done = 0;

	if (ftruncate(mf->fd, 0) != 0)
		return -errno;
	while (done < size) {
		ssize_t n = pwrite(mf->fd, p + done, size - done, (off_t)done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		done += (size_t)n;
	}
	return 0;
}

/* ------------------------------------------------- reference checksums */

/* RFC 1071 sum of n bytes as big-endian 16-bit words, added to sum. */
static inline uint32_t
ref_sum(const uint8_t *p, size_t n, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum;
}

/* The IPv4 pseudo-header (RFC 9293 3.1, RFC 768) of an L4 segment. */
static inline uint32_t
ref_pseudo(const uint8_t *ip, uint8_t proto, uint32_t l4_len)
{
	uint32_t sum = ref_sum(ip + 12, 8, 0);

	return sum + proto + l4_len;
}

/* True when the IPv4 header of ihl bytes at ip carries a correct checksum. */
static inline bool
ref_ipv4_hdr_ok(const uint8_t *ip, uint32_t ihl)
{
	return ref_sum(ip, ihl, 0) == 0xffff;
}

/*
 * True when the L4 segment (l4_len bytes at ip + ihl) verifies: TCP and UDP
 * with the pseudo-header, ICMP without; a UDP checksum of 0 means none.
 * Other protocols verify trivially.
 */
static inline bool
ref_l4_ok(const uint8_t *ip, uint32_t ihl, uint32_t l4_len)
{
	const uint8_t *l4 = ip + ihl;
	uint8_t proto = ip[9];

	switch (proto) {
	case 6:
		return l4_len >= 20 && ref_sum(l4, l4_len, ref_pseudo(ip, proto, l4_len)) == 0xffff;
	case 17:
		if (l4_len >= 8 && l4[6] == 0 && l4[7] == 0)
			return true;
		return l4_len >= 8 && ref_sum(l4, l4_len, ref_pseudo(ip, proto, l4_len)) == 0xffff;
	case 1:
		return l4_len >= 8 && ref_sum(l4, l4_len, 0) == 0xffff;
	default:
		return true;
	}
}

/* Store the correct checksum (big-endian) at field, over n bytes from p plus sum. */
static inline void
ref_fix(uint8_t *p, size_t n, uint8_t *field, uint32_t sum)
{
	uint16_t c;

	field[0] = 0;
	field[1] = 0;
	c = (uint16_t)~ref_sum(p, n, sum);
	field[0] = (uint8_t)(c >> 8);
	field[1] = (uint8_t)c;
}

#endif
