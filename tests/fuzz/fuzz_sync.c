/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: ctl_sync_decode() on arbitrary bytes, as a session-sync
 * datagram from the network (doc/session-sync.md). Besides not crashing
 * (libFuzzer's buffer is exactly `size` bytes: a read past it is an ASan
 * report), the decoder must keep sync.h's promises: a malformed datagram
 * stores nothing; otherwise the records stored plus those counted bad are
 * the header's count, every record stored is valid (dp_sync_rec_valid())
 * and is, byte for byte, one of the datagram's, in order; and encoding what
 * was stored gives a datagram that decodes to the same records.
 */
#include <errno.h>
#include <string.h>

#include "fuzz_common.h"

#include "dp.h"
#include "sync.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dp_sync_rec recs[CTL_SYNC_BATCH], again[CTL_SYNC_BATCH];
	uint8_t buf[CTL_SYNC_DGRAM_MAX];
	struct ctl_sync_hdr h, h2;
	unsigned int bad = 0, bad2 = 0, i, j = 0;
	size_t len;
	int n = ctl_sync_decode(data, size, &h, recs, &bad);

	FUZZ_CHECK(n == -EINVAL || (n >= 0 && n <= CTL_SYNC_BATCH), "decode returned %d", n);
	if (n < 0)
		return 0;
	FUZZ_CHECK(h.magic == CTL_SYNC_MAGIC && h.version == CTL_SYNC_VERSION && h.flags == 0,
		   "accepted magic %#x version %u flags %u", h.magic, h.version, h.flags);
	FUZZ_CHECK(size == sizeof(h) + (size_t)h.count * sizeof(struct dp_sync_rec),
		   "accepted %zu bytes for %u records", size, h.count);
	FUZZ_CHECK((unsigned int)n + bad == h.count, "%d stored + %u bad != %u", n, bad, h.count);
	for (i = 0; i < (unsigned int)n; i++) {
		FUZZ_CHECK(dp_sync_rec_valid(&recs[i]), "record %u stored invalid", i);
		/* the i-th valid record of the datagram, in order */
		while (j < h.count && memcmp(data + sizeof(h) + j * sizeof(recs[0]), &recs[i],
					     sizeof(recs[0])) != 0)
			j++;
		FUZZ_CHECK(j < h.count, "record %u is none of the datagram's, in order", i);
		j++;
	}
	len = ctl_sync_encode(buf, sizeof(buf), h.seq, h.sender, recs, (unsigned int)n);
	FUZZ_CHECK(len == sizeof(h) + (size_t)n * sizeof(recs[0]), "encode gave %zu", len);
	FUZZ_CHECK(ctl_sync_decode(buf, len, &h2, again, &bad2) == n && bad2 == 0 &&
			   h2.seq == h.seq && h2.sender == h.sender &&
			   (n == 0 || memcmp(again, recs, (size_t)n * sizeof(recs[0])) == 0),
		   "re-encoded datagram decodes otherwise");
	return 0;
}
