/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: pkt_tls_sni() on arbitrary bytes, as a client's first
 * TCP payload. libFuzzer's buffer is exactly `size` bytes: a read past it is
 * an ASan report. Besides not crashing, a name found must keep sni.h's
 * promises: 1..cap host-name characters, copied from the input; a smaller
 * cap finds the same name or none, never part of it.
 */
#include <string.h>

#include "fuzz_common.h"

#include "sni.h"

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
	char out[256], small[256];
	size_t n = pkt_tls_sni(data, size, out, sizeof(out)), m, i;

	FUZZ_CHECK(n <= sizeof(out) && n <= size, "length %zu of %zu bytes", n, size);
	for (i = 0; i < n; i++)
		FUZZ_CHECK((out[i] >= 'a' && out[i] <= 'z') || (out[i] >= 'A' && out[i] <= 'Z') ||
				   (out[i] >= '0' && out[i] <= '9') || out[i] == '-' ||
				   out[i] == '.' || out[i] == '_',
			   "byte %#x in the name", (unsigned int)(uint8_t)out[i]);
	if (n > 0) {
		FUZZ_CHECK(memmem(data, size, out, n) != NULL, "the name is not in the input");
		m = pkt_tls_sni(data, size, small, n);
		FUZZ_CHECK(m == n && memcmp(small, out, n) == 0, "cap %zu: %zu", n, m);
		m = pkt_tls_sni(data, size, small, n - 1 > 0 ? n - 1 : 1);
		FUZZ_CHECK(m == 0 || n == 1, "cap %zu below the name's %zu: %zu", n - 1, n, m);
	}
	return 0;
}
