/* scan_wire.c: the hand-built ClientHellos and the first-flight reader,
 * against byte-exact fixtures (RFC 8448, RFC 8446 §4.1.4, TLS 1.2 and
 * TLCP flights) and against real servers (openssl s_server, Node.js 24). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "scan/scan.h"
#include "testsupport.h"

/* ---- helpers ---- */

static size_t unhex(const char *s, unsigned char *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (*s) {
		if (*s == ' ' || *s == '\n') {
			s++;
			continue;
		}
		assert_true(sscanf(s, "%2x", &v) == 1);
		assert_true(n < cap);
		out[n++] = (unsigned char)v;
		s += 2;
	}
	return n;
}

/* A growable byte string for building flights. */
struct bytes {
	unsigned char p[80000];
	size_t n;
};

static void b_put(struct bytes *b, const void *d, size_t n)
{
	assert_true(n <= sizeof(b->p) - b->n);
	memcpy(b->p + b->n, d, n);
	b->n += n;
}

static void b_u8(struct bytes *b, unsigned v)
{
	unsigned char c = (unsigned char)v;

	b_put(b, &c, 1);
}

static void b_u16(struct bytes *b, unsigned v)
{
	b_u8(b, v >> 8);
	b_u8(b, v);
}

static void b_u24(struct bytes *b, size_t v)
{
	b_u8(b, (unsigned)(v >> 16));
	b_u16(b, (unsigned)v);
}

/* Wraps the handshake stream hs in records of at most frag bytes. */
static void b_records(struct bytes *out, unsigned type, unsigned version, const struct bytes *hs,
		      size_t frag)
{
	for (size_t off = 0; off < hs->n; off += frag) {
		size_t n = hs->n - off < frag ? hs->n - off : frag;

		b_u8(out, type);
		b_u16(out, version);
		b_u16(out, (unsigned)n);
		b_put(out, hs->p + off, n);
	}
}

/* Feeds everything at once; the kind. */
static enum scan_reply_kind feed_all(struct scan_reader *rd, const unsigned char *p, size_t n,
				     const struct scan_reply **r)
{
	return scan_reader_feed(rd, p, n, r);
}

/* Feeds byte by byte: NEED_MORE until the very last byte. */
static enum scan_reply_kind feed_bytewise(struct scan_reader *rd, const unsigned char *p, size_t n,
					  const struct scan_reply **r)
{
	enum scan_reply_kind k = SCAN_REPLY_NEED_MORE;

	for (size_t i = 0; i < n; i++) {
		k = scan_reader_feed(rd, p + i, 1, r);
		if (i + 1 < n)
			assert_int_equal(k, SCAN_REPLY_NEED_MORE);
	}
	return k;
}

/* ---- RFC 8448 §3: the ServerHello of the simple 1-RTT handshake ---- */

static const char rfc8448_sh[] =
	"16 03 03 00 5a"
	"02 00 00 56 03 03 a6 af 06 a4 12 18 60 dc 5e 6e 60 24 9c d3 4c 95 93"
	"0c 8a c5 cb 14 34 da c1 55 77 2e d3 e2 69 28 00 13 01 00 00 2e 00 33"
	"00 24 00 1d 00 20 c9 82 88 76 11 20 95 fe 66 76 2b db f7 c6 72 e1 56"
	"d6 cc 25 3b 83 3d f1 dd 69 b1 b0 4e 75 1f 0f 00 2b 00 02 03 04";

static void check_rfc8448(const struct scan_reply *r)
{
	assert_int_equal(r->kind, SCAN_REPLY_SERVER_HELLO);
	assert_int_equal(r->record_version, 0x0303);
	assert_int_equal(r->version, SCAN_TLS13);
	assert_int_equal(r->suite, 0x1301);
	assert_int_equal(r->group, 0x001d);
	assert_int_equal(r->ncerts, 0);
	assert_string_equal(scan_suite_name(r->suite), "TLS_AES_128_GCM_SHA256");
	assert_string_equal(scan_group_name(r->group), "x25519");
}

static void test_rfc8448_server_hello_whole_and_bytewise(void **state)
{
	unsigned char buf[128];
	size_t n = unhex(rfc8448_sh, buf, sizeof(buf));
	const struct scan_reply *r;
	struct scan_reader *rd = scan_reader_new(true);

	assert_int_equal(n, 95);
	assert_int_equal(feed_all(rd, buf, n, &r), SCAN_REPLY_SERVER_HELLO);
	check_rfc8448(r);
	scan_reader_free(rd);
	rd = scan_reader_new(true);
	assert_int_equal(feed_bytewise(rd, buf, n, &r), SCAN_REPLY_SERVER_HELLO);
	check_rfc8448(r);
	/* Decided: later bytes (the encrypted flight) change nothing. */
	assert_int_equal(scan_reader_feed(rd, (const unsigned char *)"\x17\x03\x03", 3, &r),
			 SCAN_REPLY_SERVER_HELLO);
	scan_reader_free(rd);
}

/* ---- RFC 8446 §4.1.4: a HelloRetryRequest ---- */

static const unsigned char hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* A ServerHello body: version, random, a 32-byte session id, suite, null
 * compression, then exts (NULL: no extensions block). */
static void b_server_hello(struct bytes *hs, unsigned version, const unsigned char *random,
			   unsigned suite, const struct bytes *exts)
{
	unsigned char sid[32];
	size_t start;

	memset(sid, 0x5a, sizeof(sid));
	b_u8(hs, 2);
	start = hs->n;
	b_u24(hs, 0);
	b_u16(hs, version);
	b_put(hs, random, 32);
	b_u8(hs, 32);
	b_put(hs, sid, 32);
	b_u16(hs, suite);
	b_u8(hs, 0);
	if (exts) {
		b_u16(hs, (unsigned)exts->n);
		b_put(hs, exts->p, exts->n);
	}
	hs->p[start] = (unsigned char)((hs->n - start - 3) >> 16);
	hs->p[start + 1] = (unsigned char)((hs->n - start - 3) >> 8);
	hs->p[start + 2] = (unsigned char)(hs->n - start - 3);
}

static void build_hrr(struct bytes *out, unsigned group)
{
	static struct bytes exts, hs;

	exts.n = hs.n = 0;
	b_u16(&exts, 0x002b); /* supported_versions: TLS 1.3 */
	b_u16(&exts, 2);
	b_u16(&exts, 0x0304);
	b_u16(&exts, 0x0033); /* key_share: selected_group */
	b_u16(&exts, 2);
	b_u16(&exts, group);
	b_server_hello(&hs, 0x0303, hrr_random, 0x1301, &exts);
	b_records(out, 22, 0x0303, &hs, 16384);
}

static void test_hrr_selects_x25519mlkem768(void **state)
{
	static struct bytes msg;
	const struct scan_reply *r;
	struct scan_reader *rd = scan_reader_new(false);

	build_hrr(&msg, 0x11ec);
	assert_int_equal(feed_bytewise(rd, msg.p, msg.n, &r), SCAN_REPLY_HRR);
	assert_int_equal(r->version, SCAN_TLS13);
	assert_int_equal(r->group, 0x11ec);
	assert_int_equal(r->suite, 0x1301);
	assert_string_equal(scan_group_name(r->group), "X25519MLKEM768");
	scan_reader_free(rd);

	/* The same message with an ordinary random is a ServerHello, not HRR
	 * (and its key_share is malformed for one: garbage). */
	msg.p[11] ^= 1;
	rd = scan_reader_new(false);
	assert_int_equal(feed_all(rd, msg.p, msg.n, &r), SCAN_REPLY_GARBAGE);
	scan_reader_free(rd);
}

static void test_alert_record(void **state)
{
	const unsigned char alert[] = { 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28 };
	const unsigned char warn_then_alert[] = { 0x15, 0x03, 0x01, 0x00, 0x02, 0x01, 0x70,
						  0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46 };
	const struct scan_reply *r;
	struct scan_reader *rd = scan_reader_new(true);

	assert_int_equal(feed_bytewise(rd, alert, sizeof(alert), &r), SCAN_REPLY_ALERT);
	assert_int_equal(r->alert_level, 2);
	assert_int_equal(r->alert_desc, 40); /* handshake_failure */
	scan_reader_free(rd);
	/* A warning unrecognized_name is skipped; the fatal alert counts. */
	rd = scan_reader_new(true);
	assert_int_equal(feed_all(rd, warn_then_alert, sizeof(warn_then_alert), &r),
			 SCAN_REPLY_ALERT);
	assert_int_equal(r->alert_desc, 70);
	scan_reader_free(rd);
}

/* ---- TLS 1.2 and TLCP flights: ServerHello + Certificate + ServerHelloDone ---- */

static void fake_der(unsigned char *p, size_t n, unsigned char seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(seed + i * 7);
	p[0] = 0x30;
}

static unsigned char cert_a[1234], cert_b[777];

/* The handshake stream of a TLS <= 1.2 / TLCP first flight. */
static void build_flight_hs(struct bytes *hs, unsigned version, unsigned suite, bool with_exts)
{
	static struct bytes exts;
	unsigned char random[32];
	size_t certs_len = 3 + sizeof(cert_a) + 3 + sizeof(cert_b);

	fake_der(cert_a, sizeof(cert_a), 1);
	fake_der(cert_b, sizeof(cert_b), 2);
	memset(random, 0x11, sizeof(random));
	exts.n = 0;
	b_u16(&exts, 0xff01); /* renegotiation_info */
	b_u16(&exts, 1);
	b_u8(&exts, 0);
	b_server_hello(hs, version, random, suite, with_exts ? &exts : NULL);
	b_u8(hs, 11); /* Certificate */
	b_u24(hs, 3 + certs_len);
	b_u24(hs, certs_len);
	b_u24(hs, sizeof(cert_a));
	b_put(hs, cert_a, sizeof(cert_a));
	b_u24(hs, sizeof(cert_b));
	b_put(hs, cert_b, sizeof(cert_b));
	b_u8(hs, 14); /* ServerHelloDone */
	b_u24(hs, 0);
}

static void check_two_certs(const struct scan_reply *r)
{
	assert_int_equal(r->ncerts, 2);
	assert_int_equal(r->cert_len[0], sizeof(cert_a));
	assert_memory_equal(r->certs[0], cert_a, sizeof(cert_a));
	assert_int_equal(r->cert_len[1], sizeof(cert_b));
	assert_memory_equal(r->certs[1], cert_b, sizeof(cert_b));
}

static void test_tls12_flight_split_across_records(void **state)
{
	static struct bytes hs, msg;
	const struct scan_reply *r;
	struct scan_reader *rd;

	hs.n = msg.n = 0;
	build_flight_hs(&hs, 0x0303, 0xc02f, true);
	/* 100-byte records: headers and certificates straddle records. */
	b_records(&msg, 22, 0x0303, &hs, 100);
	rd = scan_reader_new(true);
	assert_int_equal(feed_bytewise(rd, msg.p, msg.n - 4, &r), SCAN_REPLY_NEED_MORE);
	/* The ServerHello is known before the Certificate has arrived. */
	assert_int_equal(r->version, 0x0303);
	assert_int_equal(scan_reader_feed(rd, msg.p + msg.n - 4, 4, &r), SCAN_REPLY_SERVER_HELLO);
	assert_int_equal(r->suite, 0xc02f);
	assert_string_equal(scan_suite_name(r->suite), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
	check_two_certs(r);
	scan_reader_free(rd);

	/* Without want_certs the ServerHello alone decides. */
	rd = scan_reader_new(false);
	assert_int_equal(feed_all(rd, msg.p, 5 + 100, &r), SCAN_REPLY_SERVER_HELLO);
	assert_int_equal(r->ncerts, 0);
	scan_reader_free(rd);
}

/* No packaged server here speaks TLCP (GB/T 38636): this fixture is built
 * from the specification. Record and hello version 0x0101, suite
 * ECC_SM4_CBC_SM3, and the Certificate message laid out as TLS 1.2's,
 * carrying the signing certificate then the encryption certificate. */
static void test_tlcp_flight_sign_then_enc_cert(void **state)
{
	static struct bytes hs, msg;
	const struct scan_reply *r;
	struct scan_reader *rd = scan_reader_new(true);

	hs.n = msg.n = 0;
	build_flight_hs(&hs, SCAN_TLCP11, 0xe013, false);
	b_records(&msg, 22, SCAN_TLCP11, &hs, 16384);
	assert_int_equal(feed_all(rd, msg.p, msg.n, &r), SCAN_REPLY_SERVER_HELLO);
	assert_int_equal(r->record_version, SCAN_TLCP11);
	assert_int_equal(r->version, SCAN_TLCP11);
	assert_int_equal(r->suite, 0xe013);
	assert_string_equal(scan_suite_name(r->suite), "ECC_SM4_CBC_SM3");
	check_two_certs(r); /* [0] signing, [1] encryption */
	scan_reader_free(rd);
}

/* ---- truncated and oversized inputs ---- */

static enum scan_reply_kind feed_new(const unsigned char *p, size_t n, bool want_certs)
{
	const struct scan_reply *r;
	struct scan_reader *rd = scan_reader_new(want_certs);
	enum scan_reply_kind k = scan_reader_feed(rd, p, n, &r);

	scan_reader_free(rd);
	return k;
}

static void test_truncated_inputs_need_more(void **state)
{
	static struct bytes hs, msg;

	hs.n = msg.n = 0;
	build_flight_hs(&hs, 0x0303, 0xc02f, true);
	b_records(&msg, 22, 0x0303, &hs, 300);
	for (size_t i = 0; i < msg.n; i++)
		assert_int_equal(feed_new(msg.p, i, true), SCAN_REPLY_NEED_MORE);
	assert_int_equal(feed_new(msg.p, msg.n, true), SCAN_REPLY_SERVER_HELLO);
}

static void test_oversized_and_foreign_inputs_are_garbage(void **state)
{
	static struct bytes hs, msg;
	const unsigned char big_record[] = { 0x16, 0x03, 0x03, 0x41, 0x01 }; /* 16384+257 */
	const unsigned char ok_record[] = { 0x16, 0x03, 0x03, 0x41, 0x00 };  /* 16384+256 */
	const unsigned char big_msg[] = { 0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x01, 0x00, 0x01 };
	const unsigned char http[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
	const unsigned char appdata[] = { 0x17, 0x03, 0x03, 0x00, 0x01, 0x00 };
	const unsigned char ccs[] = { 0x14, 0x03, 0x03, 0x00, 0x01, 0x01 };
	const unsigned char badver[] = { 0x16, 0x02, 0x00, 0x00, 0x01, 0x02 };
	const unsigned char empty_hs[] = { 0x16, 0x03, 0x03, 0x00, 0x00 };
	const unsigned char long_alert[] = { 0x15, 0x03, 0x03, 0x00, 0x03, 0x02, 0x28, 0x00 };
	unsigned char big_cert[20000];
	unsigned char buf[128];
	size_t n;

	assert_int_equal(feed_new(big_record, sizeof(big_record), true), SCAN_REPLY_GARBAGE);
	assert_int_equal(feed_new(ok_record, sizeof(ok_record), true), SCAN_REPLY_NEED_MORE);
	/* A handshake message of 64 KiB + 1: refused before any allocation. */
	assert_int_equal(feed_new(big_msg, sizeof(big_msg), true), SCAN_REPLY_GARBAGE);
	assert_int_equal(feed_new(http, sizeof(http) - 1, true), SCAN_REPLY_GARBAGE);
	assert_int_equal(feed_new(appdata, sizeof(appdata), true), SCAN_REPLY_GARBAGE);
	assert_int_equal(feed_new(ccs, sizeof(ccs), true), SCAN_REPLY_GARBAGE);
	assert_int_equal(feed_new(badver, sizeof(badver), true), SCAN_REPLY_GARBAGE);
	assert_int_equal(feed_new(empty_hs, sizeof(empty_hs), true), SCAN_REPLY_GARBAGE);
	assert_int_equal(feed_new(long_alert, sizeof(long_alert), true), SCAN_REPLY_GARBAGE);

	/* The RFC 8448 ServerHello with its extensions length one too long,
	 * and with a session id length over 32. */
	n = unhex(rfc8448_sh, buf, sizeof(buf));
	buf[5 + 4 + 2 + 32 + 1 + 3 + 1] = 0x2f;
	assert_int_equal(feed_new(buf, n, true), SCAN_REPLY_GARBAGE);
	n = unhex(rfc8448_sh, buf, sizeof(buf));
	buf[5 + 4 + 2 + 32] = 33;
	assert_int_equal(feed_new(buf, n, true), SCAN_REPLY_GARBAGE);

	/* A certificate over 16 KiB inside a message under 64 KiB. */
	hs.n = msg.n = 0;
	{
		unsigned char random[32] = { 0 };

		b_server_hello(&hs, 0x0303, random, 0xc02f, NULL);
	}
	memset(big_cert, 0x30, sizeof(big_cert));
	b_u8(&hs, 11);
	b_u24(&hs, 3 + 3 + sizeof(big_cert));
	b_u24(&hs, 3 + sizeof(big_cert));
	b_u24(&hs, sizeof(big_cert));
	b_put(&hs, big_cert, sizeof(big_cert));
	b_records(&msg, 22, 0x0303, &hs, 16384);
	assert_int_equal(feed_new(msg.p, msg.n, true), SCAN_REPLY_GARBAGE);
	/* ... which does not matter without want_certs. */
	assert_int_equal(feed_new(msg.p, msg.n, false), SCAN_REPLY_SERVER_HELLO);
}

/* ---- the builder, parsed back ---- */

struct parsed_hello {
	unsigned record_version, legacy_version;
	size_t sid_len, nsuites;
	unsigned ext_type[32];
	const unsigned char *ext_data[32];
	size_t ext_len[32], next;
};

static unsigned rd16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* A strict parser of one ClientHello record (RFC 8446 §4.1.2). */
static void parse_hello(const unsigned char *p, size_t n, struct parsed_hello *h)
{
	size_t off, end, hs_len;

	memset(h, 0, sizeof(*h));
	assert_true(n >= 5 + 4 + 2 + 32 + 1);
	assert_int_equal(p[0], 22);
	h->record_version = rd16(p + 1);
	assert_int_equal(rd16(p + 3), n - 5);
	assert_int_equal(p[5], 1);
	hs_len = (size_t)p[6] << 16 | rd16(p + 7);
	assert_int_equal(hs_len, n - 9);
	h->legacy_version = rd16(p + 9);
	off = 9 + 2 + 32;
	h->sid_len = p[off];
	off += 1 + h->sid_len;
	h->nsuites = rd16(p + off) / 2;
	off += 2 + 2 * h->nsuites;
	assert_int_equal(p[off], 1);
	assert_int_equal(p[off + 1], 0);
	off += 2;
	assert_int_equal(rd16(p + off), n - off - 2);
	off += 2;
	end = n;
	while (off < end) {
		assert_true(off + 4 <= end);
		assert_true(h->next < 32);
		h->ext_type[h->next] = rd16(p + off);
		h->ext_len[h->next] = rd16(p + off + 2);
		h->ext_data[h->next] = p + off + 4;
		off += 4 + h->ext_len[h->next];
		assert_true(off <= end);
		h->next++;
	}
}

static const unsigned char *ext(const struct parsed_hello *h, unsigned type, size_t *len)
{
	for (size_t i = 0; i < h->next; i++)
		if (h->ext_type[i] == type) {
			*len = h->ext_len[i];
			return h->ext_data[i];
		}
	return NULL;
}

static bool has_ext(const struct parsed_hello *h, unsigned type)
{
	size_t len;

	return ext(h, type, &len) != NULL;
}

static const uint16_t suites13[] = { 0x1301, 0x1302, 0x1303 };
static const uint16_t suites12[] = { 0xc02f, 0xc030, 0xc02b, 0xc02c, 0xc013, 0xc014,
				     0x009c, 0x002f, 0x0035 };
static const uint16_t v13[] = { SCAN_TLS13 };

static unsigned char *build(const struct scan_hello_opts *o, size_t *len)
{
	unsigned char *out = NULL;
	struct aclm_err err = { 0 };

	assert_int_equal(scan_hello_build(o, &out, len, &err), ACLM_OK);
	return out;
}

static bool sigalgs_have(const struct parsed_hello *h, unsigned alg)
{
	size_t len;
	const unsigned char *d = ext(h, 0x000d, &len);

	assert_non_null(d);
	assert_int_equal(rd16(d), len - 2);
	for (size_t i = 2; i + 1 < len; i += 2)
		if (rd16(d + i) == alg)
			return true;
	return false;
}

static void test_builder_tls13_probe_extensions(void **state)
{
	const uint16_t group[] = { 0x11ec };
	struct scan_hello_opts o = { .record_version = 0x0301, .legacy_version = 0x0303,
				     .versions = v13, .nversions = 1, .suites = suites13,
				     .nsuites = 3, .groups = group, .ngroups = 1,
				     .key_share_empty = true, .sni = "example.test" };
	struct parsed_hello h;
	const unsigned char *d;
	size_t len, n;
	unsigned char *p = build(&o, &n);
	const struct scan_reply *r;
	struct scan_reader *rd = scan_reader_new(false);

	parse_hello(p, n, &h);
	assert_int_equal(h.record_version, 0x0301);
	assert_int_equal(h.legacy_version, 0x0303);
	assert_int_equal(h.sid_len, 32);
	assert_int_equal(h.nsuites, 3);
	d = ext(&h, 0x0000, &len); /* server_name: list, host_name(0), name */
	assert_non_null(d);
	assert_int_equal(len, 2 + 1 + 2 + 12);
	assert_int_equal(d[2], 0);
	assert_memory_equal(d + 5, "example.test", 12);
	d = ext(&h, 0x000a, &len);
	assert_non_null(d);
	assert_int_equal(len, 4);
	assert_int_equal(rd16(d + 2), 0x11ec);
	d = ext(&h, 0x002b, &len);
	assert_non_null(d);
	assert_int_equal(len, 3);
	assert_int_equal(d[0], 2);
	assert_int_equal(rd16(d + 1), 0x0304);
	d = ext(&h, 0x0033, &len); /* key_share: empty client_shares */
	assert_non_null(d);
	assert_int_equal(len, 2);
	assert_int_equal(rd16(d), 0);
	assert_true(has_ext(&h, 0x002d));
	assert_true(sigalgs_have(&h, 0x0804));
	assert_true(sigalgs_have(&h, 0x0403));
	assert_true(sigalgs_have(&h, 0x0807));
	assert_false(sigalgs_have(&h, 0x0708));
	assert_false(has_ext(&h, 0x000b));
	assert_false(has_ext(&h, 0xff01));
	/* A ClientHello is no server reply. */
	assert_int_equal(scan_reader_feed(rd, p, n, &r), SCAN_REPLY_GARBAGE);
	scan_reader_free(rd);
	free(p);
}

static void test_builder_tls12_and_sm_extensions(void **state)
{
	const uint16_t groups[] = { 0x001d, 0x0017 };
	const uint16_t sm_suites[] = { 0x00c6, 0x00c7 };
	const uint16_t sm_group[] = { 0x0029 };
	struct scan_hello_opts o = { .record_version = 0x0301, .legacy_version = 0x0303,
				     .suites = suites12, .nsuites = 9, .groups = groups,
				     .ngroups = 2 };
	struct parsed_hello h;
	size_t n;
	unsigned char *p = build(&o, &n);

	parse_hello(p, n, &h);
	assert_int_equal(h.nsuites, 9);
	assert_true(has_ext(&h, 0x000a));
	assert_true(has_ext(&h, 0x000b));
	assert_true(has_ext(&h, 0xff01));
	assert_true(has_ext(&h, 0x000d));
	assert_false(has_ext(&h, 0x0000));
	assert_false(has_ext(&h, 0x002b));
	assert_false(has_ext(&h, 0x0033));
	assert_false(has_ext(&h, 0x002d));
	free(p);

	/* RFC 8998: SM suites over TLS 1.3 also offer sm2sig_sm3. */
	o = (struct scan_hello_opts){ .record_version = 0x0301, .legacy_version = 0x0303,
				      .versions = v13, .nversions = 1, .suites = sm_suites,
				      .nsuites = 2, .groups = sm_group, .ngroups = 1,
				      .key_share_empty = true };
	p = build(&o, &n);
	parse_hello(p, n, &h);
	assert_true(sigalgs_have(&h, 0x0708));
	free(p);
}

static void test_builder_tlcp_hello(void **state)
{
	const uint16_t tlcp[] = { 0xe013, 0xe011, 0xe053, 0xe051 };
	struct scan_hello_opts o = { .record_version = SCAN_TLCP11, .legacy_version = SCAN_TLCP11,
				     .suites = tlcp, .nsuites = 4 };
	struct parsed_hello h;
	size_t n;
	unsigned char *p = build(&o, &n);

	parse_hello(p, n, &h);
	assert_int_equal(h.record_version, 0x0101);
	assert_int_equal(h.legacy_version, 0x0101);
	assert_int_equal(h.sid_len, 0);
	assert_int_equal(h.nsuites, 4);
	assert_int_equal(h.next, 0);
	free(p);

	/* Nonsense options are refused. */
	{
		struct scan_hello_opts none = { .record_version = 0x0301, .legacy_version = 0x0303 };
		struct aclm_err err = { 0 };

		p = (unsigned char *)"x";
		assert_int_equal(scan_hello_build(&none, &p, &n, &err), ACLM_ERR_INVALID);
		assert_null(p);
	}
}

static void test_names(void **state)
{
	static const struct { uint16_t id; const char *name; } g[] = {
		{ 0x001d, "x25519" }, { 0x0017, "secp256r1" }, { 0x0018, "secp384r1" },
		{ 0x0019, "secp521r1" }, { 0x001e, "x448" }, { 0x0100, "ffdhe2048" },
		{ 0x0029, "curveSM2" }, { 0x11ec, "X25519MLKEM768" },
		{ 0x11eb, "SecP256r1MLKEM768" }, { 0x11ed, "SecP384r1MLKEM1024" },
		{ 0x6399, "X25519Kyber768Draft00" }, { 0x0200, "MLKEM512" },
		{ 0x0201, "MLKEM768" }, { 0x0202, "MLKEM1024" }, { 0x11ee, "curveSM2MLKEM768" },
	};
	static const struct { uint16_t id; const char *name; } s[] = {
		{ 0x1302, "TLS_AES_256_GCM_SHA384" }, { 0x1303, "TLS_CHACHA20_POLY1305_SHA256" },
		{ 0x00c6, "TLS_SM4_GCM_SM3" }, { 0x00c7, "TLS_SM4_CCM_SM3" },
		{ 0xe013, "ECC_SM4_CBC_SM3" }, { 0xe011, "ECDHE_SM4_CBC_SM3" },
		{ 0xe053, "ECC_SM4_GCM_SM3" }, { 0xe051, "ECDHE_SM4_GCM_SM3" },
		{ 0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" },
		{ 0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA" },
	};

	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++)
		assert_string_equal(scan_group_name(g[i].id), g[i].name);
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
		assert_string_equal(scan_suite_name(s[i].id), s[i].name);
	assert_null(scan_group_name(0x7777));
	assert_null(scan_suite_name(0x7777));
}

/* ---- live: openssl s_server and Node.js 24 ---- */

struct live {
	char dir[64], key[96], cert[96];
	pid_t pid;
	int port;
};

static void live_keys(struct live *l)
{
	char cmd[512];

	assert_non_null(ts_tmpdir(l->dir, sizeof(l->dir), "scanwire"));
	snprintf(l->key, sizeof(l->key), "%s/key.pem", l->dir);
	snprintf(l->cert, sizeof(l->cert), "%s/cert.pem", l->dir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 2 "
		 "-keyout %s -out %s >/dev/null 2>&1", l->key, l->cert);
	assert_int_equal(system(cmd), 0);
}

/* fork + exec argv quietly; waits until the port accepts. */
static void live_start(struct live *l, char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	assert_true(pid > 0);
	l->pid = pid;
	for (int i = 0; i < 100 && !ts_tcp_accepts(l->port); i++)
		usleep(50 * 1000);
	assert_true(ts_tcp_accepts(l->port));
}

static void live_stop(struct live *l)
{
	if (l->pid > 0) {
		kill(l->pid, SIGTERM);
		waitpid(l->pid, NULL, 0);
	}
	l->pid = -1;
}

/* Connects, sends the hello, reads with a 2 s timeout until decided. */
static enum scan_reply_kind exchange(int port, const struct scan_hello_opts *o, bool want_certs,
				     struct scan_reader **rdp, const struct scan_reply **r)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_sec = 2 };
	enum scan_reply_kind k = SCAN_REPLY_NEED_MORE;
	unsigned char buf[4096], *hello;
	size_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	*rdp = scan_reader_new(want_certs);
	hello = build(o, &n);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(send(fd, hello, n, 0), (ssize_t)n);
	for (int i = 0; i < 200 && k == SCAN_REPLY_NEED_MORE; i++) {
		ssize_t got = recv(fd, buf, sizeof(buf), 0);

		if (got <= 0)
			break;
		k = scan_reader_feed(*rdp, buf, (size_t)got, r);
	}
	scan_reader_feed(*rdp, buf, 0, r);
	close(fd);
	free(hello);
	return k;
}

static enum scan_reply_kind probe_group(int port, uint16_t group, const struct scan_reply **r,
					struct scan_reader **rd)
{
	struct scan_hello_opts o = { .record_version = 0x0301, .legacy_version = 0x0303,
				     .versions = v13, .nversions = 1, .suites = suites13,
				     .nsuites = 3, .groups = &group, .ngroups = 1,
				     .key_share_empty = true, .sni = "localhost" };

	return exchange(port, &o, false, rd, r);
}

static void test_live_openssl_s_server(void **state)
{
	struct live l = { .pid = -1 };
	char port[16];
	char *tls13[] = { "openssl", "s_server", "-accept", port, "-cert", l.cert, "-key", l.key,
			  "-www", "-quiet", NULL };
	char *tls12[] = { "openssl", "s_server", "-accept", port, "-cert", l.cert, "-key", l.key,
			  "-www", "-quiet", "-tls1_2", NULL };
	char *tls10[] = { "openssl", "s_server", "-accept", port, "-cert", l.cert, "-key", l.key,
			  "-www", "-quiet", "-tls1", "-cipher", "DEFAULT@SECLEVEL=0", NULL };
	const struct scan_reply *r;
	struct scan_reader *rd;
	unsigned char *der = NULL;
	int der_len;
	X509 *x;
	FILE *f;

	live_keys(&l);
	l.port = ts_free_port(SOCK_STREAM);
	snprintf(port, sizeof(port), "%d", l.port);
	f = fopen(l.cert, "r");
	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	der_len = i2d_X509(x, &der);
	assert_true(der_len > 0);

	/* TLS 1.3, empty key_share: HRR for x25519, an alert for ML-KEM
	 * (OpenSSL 3.0 has none). */
	live_start(&l, tls13);
	assert_int_equal(probe_group(l.port, 0x001d, &r, &rd), SCAN_REPLY_HRR);
	assert_int_equal(r->group, 0x001d);
	scan_reader_free(rd);
	assert_int_equal(probe_group(l.port, 0x11ec, &r, &rd), SCAN_REPLY_ALERT);
	assert_int_equal(r->alert_level, 2);
	scan_reader_free(rd);
	live_stop(&l);

	/* TLS 1.2 only: ServerHello 0x0303 and the served certificate. */
	live_start(&l, tls12);
	{
		const uint16_t groups[] = { 0x001d, 0x0017 };
		struct scan_hello_opts o = { .record_version = 0x0301, .legacy_version = 0x0303,
					     .suites = suites12, .nsuites = 9, .groups = groups,
					     .ngroups = 2, .sni = "localhost" };

		assert_int_equal(exchange(l.port, &o, true, &rd, &r), SCAN_REPLY_SERVER_HELLO);
		assert_int_equal(r->version, 0x0303);
		assert_int_equal(r->ncerts, 1);
		assert_int_equal(r->cert_len[0], (size_t)der_len);
		assert_memory_equal(r->certs[0], der, (size_t)der_len);
		scan_reader_free(rd);
	}
	live_stop(&l);

	/* TLS 1.0 at security level 0: a legacy_version 0x0301 hello. */
	live_start(&l, tls10);
	{
		const uint16_t groups[] = { 0x001d, 0x0017 };
		struct scan_hello_opts o = { .record_version = 0x0301, .legacy_version = 0x0301,
					     .suites = suites12, .nsuites = 9, .groups = groups,
					     .ngroups = 2 };

		assert_int_equal(exchange(l.port, &o, false, &rd, &r), SCAN_REPLY_SERVER_HELLO);
		assert_int_equal(r->version, 0x0301);
		assert_string_equal(scan_suite_name(r->suite), "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA");
		scan_reader_free(rd);
	}
	live_stop(&l);
	OPENSSL_free(der);
	X509_free(x);
	assert_int_equal(ts_rmtree(l.dir), 0);
}

#define NODE24 "/opt/aclm-node/node_modules/.bin/node"

static void test_live_node24_mlkem(void **state)
{
	struct live l = { .pid = -1 };
	char port[16];
	char script[] = "const fs=require('fs'),a=process.argv;"
			"require('tls').createServer({key:fs.readFileSync(a[1]),"
			"cert:fs.readFileSync(a[2]),ecdhCurve:'X25519MLKEM768'},s=>s.end())"
			".listen(+a[3],'127.0.0.1')";
	char node[] = NODE24;
	char *argv[] = { node, "-e", script, l.key, l.cert, port, NULL };
	const struct scan_reply *r;
	struct scan_reader *rd;

	if (access(NODE24, X_OK) != 0) {
		fprintf(stderr, "skipped: %s missing (scripts/deps installs node@24)\n", NODE24);
		skip();
	}
	live_keys(&l);
	l.port = ts_free_port(SOCK_STREAM);
	snprintf(port, sizeof(port), "%d", l.port);
	live_start(&l, argv);
	assert_int_equal(probe_group(l.port, 0x11ec, &r, &rd), SCAN_REPLY_HRR);
	assert_int_equal(r->group, 0x11ec);
	scan_reader_free(rd);
	assert_int_equal(probe_group(l.port, 0x001d, &r, &rd), SCAN_REPLY_ALERT);
	assert_int_equal(r->alert_level, 2);
	scan_reader_free(rd);
	live_stop(&l);
	assert_int_equal(ts_rmtree(l.dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8448_server_hello_whole_and_bytewise),
		cmocka_unit_test(test_hrr_selects_x25519mlkem768),
		cmocka_unit_test(test_alert_record),
		cmocka_unit_test(test_tls12_flight_split_across_records),
		cmocka_unit_test(test_tlcp_flight_sign_then_enc_cert),
		cmocka_unit_test(test_truncated_inputs_need_more),
		cmocka_unit_test(test_oversized_and_foreign_inputs_are_garbage),
		cmocka_unit_test(test_builder_tls13_probe_extensions),
		cmocka_unit_test(test_builder_tls12_and_sm_extensions),
		cmocka_unit_test(test_builder_tlcp_hello),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_live_openssl_s_server),
		cmocka_unit_test(test_live_node24_mlkem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
