/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * egress-gen: classic pcap files (microsecond timestamps, LINKTYPE_ETHERNET),
 * written through a 4 MiB stdio buffer. Record i of a file is stamped
 * 1700000000 s plus i microseconds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

int
pcap_out_open(struct pcap_out *po, const char *path)
{
	/* classic pcap, microsecond timestamps, LINKTYPE_ETHERNET */
	static const uint32_t hdr[6] = { 0xa1b2c3d4, 2 | 4 << 16, 0, 0, 65535, 1 };

	memset(po, 0, sizeof(*po));
	po->path = path;
	po->f = fopen(path, "wb");
	if (po->f == NULL) {
		fprintf(stderr, "egress-gen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	po->buf = malloc(GEN_IO_BUF);
	if (po->buf != NULL)
		setvbuf(po->f, po->buf, _IOFBF, GEN_IO_BUF);
	/* the header in host order: readers detect the byte order by the magic */
	if (fwrite(hdr, sizeof(hdr), 1, po->f) != 1) {
		fprintf(stderr, "egress-gen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	po->ts_usec = (uint64_t)1700000000 * 1000000;
	return 0;
}

/* rec: 16 bytes of record header room, then the frame of len bytes. */
int
pcap_out_write(struct pcap_out *po, uint8_t *rec, uint32_t len)
{
	uint32_t h[4] = {
		(uint32_t)(po->ts_usec / 1000000),
		(uint32_t)(po->ts_usec % 1000000),
		len,
		len,
	};

	memcpy(rec, h, sizeof(h));
	if (fwrite(rec, sizeof(h) + len, 1, po->f) != 1) {
		fprintf(stderr, "egress-gen: %s: %s\n", po->path, strerror(errno));
		return -1;
	}
	po->ts_usec++;
	po->pkts++;
	po->bytes += len;
	return 0;
}

int
pcap_out_close(struct pcap_out *po)
{
	int rc = 0;

	if (po->f == NULL)
		return 0;
	if (fclose(po->f) != 0) {
		fprintf(stderr, "egress-gen: %s: %s\n", po->path, strerror(errno));
		rc = -1;
	}
	po->f = NULL;
	free(po->buf);
	po->buf = NULL;
	return rc;
}
