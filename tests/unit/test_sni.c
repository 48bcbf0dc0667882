/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pkt_tls_sni(): the server name of a ClientHello. ClientHellos are crafted
 * field by field here (so that every length can be made to lie), and, when
 * OpenSSL's headers are there, generated at test time by OpenSSL itself
 * (TLS 1.2 and 1.3 client, through memory BIOs): the bytes a real client
 * sends. Every input is an exact-size heap copy, so that a sanitizer build
 * catches a read past its end; every cut of every ClientHello is tried.
 */
#include "test_common.h"

#include <stdlib.h>
#include <string.h>

#ifdef HAVE_OPENSSL
#include <openssl/bio.h>
#include <openssl/ssl.h>
#endif

#include "sni.h"

struct buf {
	uint8_t b[4096];
	size_t n;
};

static void
put8(struct buf *b, unsigned int v)
{
	b->b[b->n++] = (uint8_t)v;
}

static void
put16(struct buf *b, unsigned int v)
{
	put8(b, v >> 8);
	put8(b, v & 0xff);
}

static void
put24(struct buf *b, unsigned int v)
{
	put8(b, v >> 16);
	put16(b, v & 0xffff);
}

static void
putn(struct buf *b, const void *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

/* Back-patch a length of `bytes` bytes at `at` to what follows it. */
static void
patch(struct buf *b, size_t at, unsigned int bytes)
{
	size_t v = b->n - at - bytes;
	unsigned int i;

	for (i = 0; i < bytes; i++)
		b->b[at + i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
}

/*
 * A TLS 1.2-style ClientHello: record, handshake, session id of 32 bytes,
 * two cipher suites, null compression, then an extension before the
 * server_name (ext_before bytes of padding, type 21) and one after it
 * (supported_versions).
 */
static void
client_hello(struct buf *b, const char *name, size_t ext_before)
{
	size_t rec, hs, exts, sni, list;
	uint8_t random[32], sid[32];

	memset(random, 0xa5, sizeof(random));
	memset(sid, 0x5a, sizeof(sid));
	b->n = 0;
	put8(b, 22);
	put16(b, 0x0301);
	rec = b->n;
	put16(b, 0);
	put8(b, 1);
	hs = b->n;
	put24(b, 0);
	put16(b, 0x0303);
	putn(b, random, 32);
	put8(b, 32);
	putn(b, sid, 32);
	put16(b, 4);
	put16(b, 0x1301);
	put16(b, 0xc02f);
	put8(b, 1);
	put8(b, 0);
	exts = b->n;
	put16(b, 0);
	if (ext_before > 0) {
		put16(b, 21);
		put16(b, (unsigned int)ext_before);
		memset(b->b + b->n, 0, ext_before);
		b->n += ext_before;
	}
	if (name != NULL) {
		put16(b, 0);
		sni = b->n;
		put16(b, 0);
		list = b->n;
		put16(b, 0);
		put8(b, 0);
		put16(b, (unsigned int)strlen(name));
		putn(b, name, strlen(name));
		patch(b, list, 2);
		patch(b, sni, 2);
	}
	put16(b, 43);
	put16(b, 3);
	put8(b, 2);
	put16(b, 0x0304);
	patch(b, exts, 2);
	patch(b, hs, 3);
	patch(b, rec, 2);
}

/* pkt_tls_sni() on an exact-size copy of the first len bytes of b. */
static size_t
sni_of(const struct buf *b, size_t len, char *out, size_t cap)
{
	uint8_t *copy = malloc(len ? len : 1);
	size_t n;

	assert_non_null(copy);
	memcpy(copy, b->b, len);
	n = pkt_tls_sni(copy, len, out, cap);
	free(copy);
	return n;
}

static void
assert_sni(const struct buf *b, size_t len, const char *want)
{
	char out[256];
	size_t n = sni_of(b, len, out, sizeof(out));

	if (want == NULL) {
		assert_int_equal(n, 0);
		return;
	}
	assert_int_equal(n, strlen(want));
	assert_memory_equal(out, want, n);
}

/*
 * Every cut of the ClientHello: the name is found exactly when the
 * server_name extension is whole in the segment (a ClientHello split across
 * segments, read no further than the first), never otherwise.
 */
static void
assert_every_cut(const struct buf *b, const char *name)
{
	size_t len, whole = 0;
	char out[256];

	for (len = 0; len <= b->n; len++)
		if (sni_of(b, len, out, sizeof(out)) > 0) {
			whole = len;
			break;
		}
	assert_true(whole > 0);
	/* the first length that has it ends exactly with the name */
	assert_memory_equal(b->b + whole - strlen(name), name, strlen(name));
	for (len = whole; len <= b->n; len++)
		assert_sni(b, len, name);
}

static void
test_crafted(void **state)
{
	struct buf b;
	(void)state;

	client_hello(&b, "test.example", 0);
	assert_sni(&b, b.n, "test.example");
	assert_every_cut(&b, "test.example");
	/* after another extension, and with a longer name */
	client_hello(&b, "redis-0.memorystore.internal.example.com", 200);
	assert_sni(&b, b.n, "redis-0.memorystore.internal.example.com");
	assert_every_cut(&b, "redis-0.memorystore.internal.example.com");
	/* no server_name extension */
	client_hello(&b, NULL, 10);
	assert_sni(&b, b.n, NULL);
}

static void
test_not_a_client_hello(void **state)
{
	struct buf b;
	char out[64];
	(void)state;

	client_hello(&b, "test.example", 0);
	b.b[0] = 23; /* application data */
	assert_sni(&b, b.n, NULL);
	client_hello(&b, "test.example", 0);
	b.b[5] = 2; /* ServerHello */
	assert_sni(&b, b.n, NULL);
	client_hello(&b, "test.example", 0);
	b.b[1] = 2; /* SSL 2 */
	assert_sni(&b, b.n, NULL);
	/* Redis' protocol, HTTP */
	memcpy(b.b, "*1\r\n$4\r\nPING\r\n", 14);
	assert_sni(&b, 14, NULL);
	memcpy(b.b, "GET / HTTP/1.1\r\n", 16);
	assert_sni(&b, 16, NULL);
	assert_int_equal(pkt_tls_sni(NULL, 0, out, sizeof(out)), 0);
}

static void
test_name_checked(void **state)
{
	struct buf b;
	char out[64];
	(void)state;

	/* only host-name characters: a JSON line must not be broken by one */
	client_hello(&b, "a\"b.example", 0);
	assert_sni(&b, b.n, NULL);
	client_hello(&b, "a\\b", 0);
	assert_sni(&b, b.n, NULL);
	client_hello(&b, "a\nb", 0);
	assert_sni(&b, b.n, NULL);
	client_hello(&b, "\xc3\xa9.example", 0);
	assert_sni(&b, b.n, NULL);
	/* longer than the room: none rather than cut */
	client_hello(&b, "0123456789.example", 0);
	assert_int_equal(sni_of(&b, b.n, out, 17), 0);
	assert_int_equal(sni_of(&b, b.n, out, 18), 18);
}

/* Every length field made to lie, in both directions: never a read past the end. */
static void
test_lying_lengths(void **state)
{
	struct buf b, orig;
	char out[256];
	size_t i;
	unsigned int d;
	(void)state;

	client_hello(&orig, "test.example", 30);
	for (i = 0; i < orig.n; i++) {
		for (d = 1; d < 256; d += 17) {
			b = orig;
			b.b[i] = (uint8_t)(b.b[i] + d);
			/* whatever it returns, it is a host name within the input */
			size_t n = sni_of(&b, b.n, out, sizeof(out));

			assert_true(n <= b.n);
		}
	}
	/* the record says it is longer than it is: the segment bounds it */
	b = orig;
	b.b[3] = 0xff;
	assert_sni(&b, b.n, "test.example");
}

#ifdef HAVE_OPENSSL
/* The ClientHello OpenSSL sends as a client of version v to name. */
static void
openssl_hello(struct buf *b, int v, const char *name)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *s;
	BIO *rd, *wr;
	int n;

	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_set_min_proto_version(ctx, v), 1);
	assert_int_equal(SSL_CTX_set_max_proto_version(ctx, v), 1);
	s = SSL_new(ctx);
	assert_non_null(s);
	rd = BIO_new(BIO_s_mem());
	wr = BIO_new(BIO_s_mem());
	SSL_set_bio(s, rd, wr);
	assert_int_equal(SSL_set_tlsext_host_name(s, name), 1);
	assert_int_equal(SSL_connect(s), -1); /* waits for the ServerHello */
	n = BIO_read(wr, b->b, (int)sizeof(b->b));
	assert_true(n > 0);
	b->n = (size_t)n;
	SSL_free(s);
	SSL_CTX_free(ctx);
}

static void
test_openssl(void **state)
{
	struct buf b;
	(void)state;

	openssl_hello(&b, TLS1_3_VERSION, "test.example");
	assert_sni(&b, b.n, "test.example");
	assert_every_cut(&b, "test.example");
	openssl_hello(&b, TLS1_2_VERSION, "redis.memorystore.example.com");
	assert_sni(&b, b.n, "redis.memorystore.example.com");
	assert_every_cut(&b, "redis.memorystore.example.com");
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crafted),      cmocka_unit_test(test_not_a_client_hello),
		cmocka_unit_test(test_name_checked), cmocka_unit_test(test_lying_lengths),
#ifdef HAVE_OPENSSL
		cmocka_unit_test(test_openssl),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
