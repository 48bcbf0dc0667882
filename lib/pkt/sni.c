/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SNI of a TLS ClientHello (sni.h). Every length read is checked against
 * what is left of the enclosing structure and of the segment, whichever
 * ends first: a lie in any length field ends the parse, never a read.
 */
#include <stdbool.h>
#include <string.h>

#include "sni.h"

#define TLS_HANDSHAKE      22 /* ContentType handshake (RFC 8446 B.1) */
#define TLS_CLIENT_HELLO   1  /* HandshakeType client_hello */
#define TLS_EXT_SNI        0  /* ExtensionType server_name (RFC 6066 3) */
#define TLS_SNI_HOST_NAME  0  /* NameType host_name */
#define TLS_RECORD_HDR     5  /* type, legacy_version, length */
#define TLS_HANDSHAKE_HDR  4  /* msg_type, uint24 length */
#define TLS_RANDOM_LEN     32
#define TLS_LEGACY_VERSION 2

/* A cursor over [p, end): reads fail, and stay failed, past end. */
struct cur {
	const uint8_t *p, *end;
	bool bad;
};

static bool
take(struct cur *c, size_t n, const uint8_t **out)
{
	if (c->bad || (size_t)(c->end - c->p) < n) {
		c->bad = true;
		return false;
	}
	*out = c->p;
	c->p += n;
	return true;
}

static unsigned int
get(struct cur *c, size_t n)
{
	const uint8_t *b;
	unsigned int v = 0;
	size_t i;

	if (!take(c, n, &b))
		return 0;
	for (i = 0; i < n; i++)
		v = v << 8 | b[i];
	return v;
}

static void
skip(struct cur *c, size_t n)
{
	const uint8_t *b;

	(void)take(c, n, &b);
}

/*
 * A sub-cursor of the next n bytes, cut at c's end when the segment ends
 * first (the ClientHello goes on in the next segment, which is not ours).
 */
static struct cur
sub(struct cur *c, size_t n)
{
	struct cur s = { c->p, c->p, c->bad };
	size_t have = (size_t)(c->end - c->p);

	if (c->bad)
		return s;
	s.end = c->p + (n < have ? n : have);
	c->p = s.end;
	if (n > have)
		c->bad = true; /* nothing after this structure is in the segment */
	return s;
}

static bool
host_char(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '.' || ch == '_';
}

/* The server_name extension's body: ServerNameList (RFC 6066 3). */
static size_t
server_name(struct cur *e, char *out, size_t cap)
{
	struct cur list = sub(e, get(e, 2));

	while (!list.bad && list.p < list.end) {
		unsigned int type = get(&list, 1);
		size_t n = get(&list, 2);
		const uint8_t *name;
		size_t i;

		if (!take(&list, n, &name))
			return 0;
		if (type != TLS_SNI_HOST_NAME)
			continue;
		if (n == 0 || n > cap)
			return 0;
		for (i = 0; i < n; i++)
			if (!host_char(name[i]))
				return 0;
		memcpy(out, name, n);
		return n;
	}
	return 0;
}

size_t
pkt_tls_sni(const uint8_t *p, size_t len, char *out, size_t cap)
{
	struct cur seg = { p, p + len, false };
	struct cur rec, hs, exts;

	if (p == NULL || out == NULL || cap == 0)
		return 0;
	if (get(&seg, 1) != TLS_HANDSHAKE || get(&seg, 1) != 3)
		return 0;
	skip(&seg, 1);
	rec = sub(&seg, get(&seg, 2));
	if (get(&rec, 1) != TLS_CLIENT_HELLO)
		return 0;
	hs = sub(&rec, get(&rec, 3));
	skip(&hs, TLS_LEGACY_VERSION + TLS_RANDOM_LEN);
	skip(&hs, get(&hs, 1)); /* legacy_session_id */
	skip(&hs, get(&hs, 2)); /* cipher_suites */
	skip(&hs, get(&hs, 1)); /* legacy_compression_methods */
	if (hs.bad || hs.p == hs.end)
		return 0; /* no extensions (or not in this segment) */
	exts = sub(&hs, get(&hs, 2));
	while (!exts.bad && exts.p < exts.end) {
		unsigned int type = get(&exts, 2);
		size_t n = get(&exts, 2);
		struct cur e;

		if (exts.bad || (size_t)(exts.end - exts.p) < n)
			return 0; /* this extension goes on past the segment */
		e = sub(&exts, n);
		if (type == TLS_EXT_SNI)
			return server_name(&e, out, cap);
	}
	return 0;
}
