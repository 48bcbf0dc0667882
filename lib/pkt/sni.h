/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The server name (SNI, RFC 6066 section 3) of a TLS ClientHello (RFC 8446
 * section 4.1.2, and TLS 1.0-1.2's, which has the same layout up to the
 * extensions), read from one TCP segment's payload: the flow log's `sni`.
 * Bounded: nothing beyond the segment is read, nothing is allocated. A
 * ClientHello split across segments is read as far as this segment goes:
 * a server_name extension wholly inside it is found, one that is not is
 * given up on (no SNI), never looked for in the next segment.
 */
#ifndef EGRESS_PKT_SNI_H
#define EGRESS_PKT_SNI_H

#include <stddef.h>
#include <stdint.h>

/**
 * The host_name of the server_name extension of the ClientHello that p
 * (len bytes of a client's first TCP payload) starts with, copied to out
 * (no NUL) when it is 1..cap bytes of letters, digits, '-', '.' and '_'.
 * @return its length, or 0: not a ClientHello, no server_name, a name
 *         that is not a host name or longer than cap, or not in p.
 */
size_t pkt_tls_sni(const uint8_t *p, size_t len, char *out, size_t cap);

#endif
