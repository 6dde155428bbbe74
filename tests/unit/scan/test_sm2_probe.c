/* The SM2 probes of the engine (--checks sm2), run through scan_run against
 * a fake server in this test that answers with byte-exact fixtures built
 * from the specifications: RFC 8998 / RFC 8446 §4.1.4 (a HelloRetryRequest
 * selecting curveSM2) and GB/T 38636 (a TLCP 1.1 flight with a signing and
 * an encryption certificate). No packaged server speaks either. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"
#include "scan/scan.h"
#include "testsupport.h"

/* ---- fixtures ---- */

struct bytes {
	unsigned char p[8192];
	size_t n;
};

static void b_put(struct bytes *b, const void *d, size_t n)
{
	assert_true(b->n + n <= sizeof(b->p));
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
	b_u8(b, v & 0xff);
}

static void b_u24(struct bytes *b, size_t v)
{
	b_u8(b, (unsigned)(v >> 16) & 0xff);
	b_u16(b, (unsigned)v & 0xffff);
}

/* RFC 8446 §4.1.3: the HelloRetryRequest random, SHA-256("HelloRetryRequest"). */
static const unsigned char hrr_random[32] = {
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
};

/* One record of type 22 (handshake) around hs. */
static void record(struct bytes *out, unsigned version, const struct bytes *hs)
{
	b_u8(out, 22);
	b_u16(out, version);
	b_u16(out, (unsigned)hs->n);
	b_put(out, hs->p, hs->n);
}

/* RFC 8446 §4.1.4 with RFC 8998 §3: HRR, TLS_SM4_GCM_SM3, supported_versions
 * 0x0304, key_share selected_group curveSM2 (0x0029). */
static void fixture_hrr_sm2(struct bytes *out, const unsigned char *sid, size_t sid_len)
{
	struct bytes hs = { .n = 0 }, body = { .n = 0 };

	b_u16(&body, 0x0303);
	b_put(&body, hrr_random, 32);
	b_u8(&body, (unsigned)sid_len);
	b_put(&body, sid, sid_len);
	b_u16(&body, 0x00C6);
	b_u8(&body, 0);
	b_u16(&body, 12);                       /* extensions */
	b_u16(&body, 0x002B), b_u16(&body, 2), b_u16(&body, 0x0304);
	b_u16(&body, 0x0033), b_u16(&body, 2), b_u16(&body, 0x0029);
	b_u8(&hs, 2);
	b_u24(&hs, body.n);
	b_put(&hs, body.p, body.n);
	record(out, 0x0303, &hs);
}

static struct bytes sign_der, enc_der;

/* GB/T 38636 §6.4.5: ServerHello 0x0101 with ECC_SM4_CBC_SM3 (0xE013), no
 * extensions; Certificate (signing certificate, then encryption
 * certificate); ServerHelloDone. One record of version 0x0101. */
static void fixture_tlcp(struct bytes *out, const unsigned char *sid, size_t sid_len)
{
	static struct bytes hs, sh, certs;

	hs.n = sh.n = certs.n = 0;
	b_u16(&sh, 0x0101);
	for (unsigned i = 0; i < 32; i++)
		b_u8(&sh, i * 7 + 1);
	b_u8(&sh, (unsigned)sid_len);
	b_put(&sh, sid, sid_len);
	b_u16(&sh, 0xE013);
	b_u8(&sh, 0);
	b_u8(&hs, 2);
	b_u24(&hs, sh.n);
	b_put(&hs, sh.p, sh.n);
	b_u24(&certs, sign_der.n);
	b_put(&certs, sign_der.p, sign_der.n);
	b_u24(&certs, enc_der.n);
	b_put(&certs, enc_der.p, enc_der.n);
	b_u8(&hs, 11);
	b_u24(&hs, certs.n + 3);
	b_u24(&hs, certs.n);
	b_put(&hs, certs.p, certs.n);
	b_u8(&hs, 14);
	b_u24(&hs, 0);
	record(out, 0x0101, &hs);
}

/* RFC 8446 §6: fatal handshake_failure (40). */
static const unsigned char fixture_alert[] = { 21, 0x03, 0x03, 0x00, 0x02, 2, 40 };

/* ---- the fake server ---- */

struct hello {
	unsigned record_version, version;
	const unsigned char *sid;
	size_t sid_len;
	bool suite_c6, suite_e013, group_sm2, sigalg_sm2, key_share_empty;
};

static unsigned rd16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Enough of RFC 8446 §4.1.2 to see what the probe offered; false when the
 * bytes are not one whole ClientHello record. */
static bool parse_hello(const unsigned char *p, size_t n, struct hello *h)
{
	size_t off = 43, end, len;

	memset(h, 0, sizeof(*h));
	if (n < 44 || p[0] != 22 || p[5] != 1 || rd16(p + 3) + 5 != n)
		return false;
	h->record_version = rd16(p + 1);
	h->version = rd16(p + 9);
	h->sid_len = p[off];
	h->sid = p + off + 1;
	off += 1 + h->sid_len;
	len = rd16(p + off);
	for (size_t i = 0; i < len; i += 2) {
		h->suite_c6 |= rd16(p + off + 2 + i) == 0x00C6;
		h->suite_e013 |= rd16(p + off + 2 + i) == 0xE013;
	}
	off += 2 + len;
	off += 1 + p[off];                      /* compression methods */
	if (off + 2 > n)
		return true;                    /* no extensions (TLCP) */
	end = off + 2 + rd16(p + off);
	for (off += 2; off + 4 <= end;) {
		unsigned type = rd16(p + off);
		size_t elen = rd16(p + off + 2);
		const unsigned char *e = p + off + 4;

		if (type == 0x000A || type == 0x000D)
			for (size_t i = 2; i + 1 < elen; i += 2) {
				h->group_sm2 |= type == 0x000A && rd16(e + i) == 0x0029;
				h->sigalg_sm2 |= type == 0x000D && rd16(e + i) == 0x0708;
			}
		if (type == 0x0033)
			h->key_share_empty = elen == 2 && rd16(e) == 0;
		off += 4 + elen;
	}
	return true;
}

/* Answers one connection: the fixture the offered hello calls for, or the
 * alert (always in alert_only mode). */
static void serve_one(int fd, bool alert_only)
{
	unsigned char buf[4096];
	size_t n = 0;
	struct hello h;
	struct bytes out = { .n = 0 };

	while (n < sizeof(buf)) {
		ssize_t got = read(fd, buf + n, sizeof(buf) - n);

		if (got <= 0)
			return;
		n += (size_t)got;
		if (n >= 5 && rd16(buf + 3) + 5 <= n)
			break;
	}
	if (!alert_only && parse_hello(buf, n, &h) && h.record_version == 0x0101 &&
	    h.version == 0x0101 && h.suite_e013)
		fixture_tlcp(&out, h.sid, h.sid_len);
	else if (!alert_only && parse_hello(buf, n, &h) && h.suite_c6 && h.group_sm2 &&
		 h.sigalg_sm2 && h.key_share_empty)
		fixture_hrr_sm2(&out, h.sid, h.sid_len);
	else
		b_put(&out, fixture_alert, sizeof(fixture_alert));
	if (write(fd, out.p, out.n) != (ssize_t)out.n)
		return;
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* Listens on 127.0.0.1 (bound before the fork: no race); *port set. */
static pid_t fake_start(bool alert_only, int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	pid_t pid;

	assert_true(ls >= 0);
	assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(ls, 64), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			int fd = accept(ls, NULL, NULL);

			if (fd < 0)
				_exit(1);
			serve_one(fd, alert_only);
			close(fd);
		}
	}
	close(ls);
	return pid;
}

static void fake_stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* ---- SM2 certificates made with src/crypto ---- */

static X509 *sm2_cert(const char *cn, long serial)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = NULL;
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	assert_int_equal(crypto_key_generate(CRYPTO_KEY_SM2, &key, &err), ACLM_OK);
	assert_non_null(x);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), serial), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn,
						    -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(x, name), 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -3600));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 10L * 86400));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_int_equal(crypto_cert_sign(x, key, &err), ACLM_OK);
	X509_NAME_free(name);
	EVP_PKEY_free(key);
	return x;
}

static void cert_der(X509 *x, struct bytes *out, char fp[65])
{
	struct aclm_err err = { 0 };
	unsigned char *der = NULL;
	size_t len = 0;

	assert_int_equal(crypto_cert_to_der(x, &der, &len, &err), ACLM_OK);
	out->n = 0;
	b_put(out, der, len);
	OPENSSL_free(der);
	assert_int_equal(crypto_cert_fingerprint(x, fp), ACLM_OK);
}

/* ---- the scan ---- */

static void on_endpoint(const json_t *ep, void *arg)
{
	json_t **out = arg;

	assert_null(*out);
	*out = json_deep_copy(ep);
}

static json_t *scan_one(int port, unsigned checks)
{
	struct scan_run_opts o;
	struct scan_ports ports;
	struct scan_targets *t = NULL;
	struct aclm_err err = { 0 };
	char target[32];
	const char *args[] = { target };
	json_t *ep = NULL;

	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	scan_run_opts_init(&o);
	o.checks = checks;
	o.timeout_ms = 3000;
	assert_int_equal(scan_ports_parse("443", &ports, &err), ACLM_OK);
	assert_int_equal(scan_targets_new(args, 1, &ports, NULL, 0, &t, &err), ACLM_OK);
	assert_int_equal(scan_run(&o, t, on_endpoint, &ep, &err), ACLM_OK);
	scan_targets_free(t);
	assert_non_null(ep);
	return ep;
}

static void test_rfc8998_hrr_and_tlcp_two_certs(void **state)
{
	X509 *sign = sm2_cert("TLCP Sign", 1), *enc = sm2_cert("TLCP Enc", 2);
	char sign_fp[65], enc_fp[65];
	int port;
	pid_t pid;
	json_t *ep, *sm2, *sc, *ec;

	(void)state;
	cert_der(sign, &sign_der, sign_fp);
	cert_der(enc, &enc_der, enc_fp);
	pid = fake_start(false, &port);
	ep = scan_one(port, SCAN_CHECK_SM2);
	fake_stop(pid);
	assert_true(json_is_true(json_object_get(ep, "reachable")));
	assert_true(json_is_null(json_object_get(ep, "error")));
	sm2 = json_object_get(ep, "sm2");
	assert_true(json_is_object(sm2));
	assert_true(json_is_true(json_object_get(sm2, "rfc8998")));
	assert_true(json_is_true(json_object_get(sm2, "tlcp")));
	sc = json_object_get(sm2, "tlcp_sign_cert");
	ec = json_object_get(sm2, "tlcp_enc_cert");
	assert_string_equal(json_string_value(json_object_get(sc, "fingerprint_sha256")), sign_fp);
	assert_string_equal(json_string_value(json_object_get(sc, "common_name")), "TLCP Sign");
	assert_string_equal(json_string_value(json_object_get(json_object_get(sc, "key"), "type")), "sm2");
	assert_string_equal(json_string_value(json_object_get(ec, "fingerprint_sha256")), enc_fp);
	assert_string_equal(json_string_value(json_object_get(ec, "common_name")), "TLCP Enc");
	assert_true(json_integer_value(json_object_get(ec, "days_left")) >= 9);
	/* sm2 alone: no other check's result. */
	assert_true(json_is_null(json_object_get(ep, "pqc")));
	assert_true(json_is_null(json_object_get(ep, "tls_versions")));
	json_decref(ep);
	X509_free(sign);
	X509_free(enc);
}

static void test_alert_means_neither(void **state)
{
	int port;
	pid_t pid = fake_start(true, &port);
	json_t *ep = scan_one(port, SCAN_CHECK_SM2), *sm2;

	(void)state;
	fake_stop(pid);
	assert_true(json_is_true(json_object_get(ep, "reachable")));
	sm2 = json_object_get(ep, "sm2");
	assert_true(json_is_false(json_object_get(sm2, "rfc8998")));
	assert_true(json_is_false(json_object_get(sm2, "tlcp")));
	assert_true(json_is_null(json_object_get(sm2, "tlcp_sign_cert")));
	assert_true(json_is_null(json_object_get(sm2, "tlcp_enc_cert")));
	json_decref(ep);
}

static void test_checks_parse_sm2(void **state)
{
	struct aclm_err err = { 0 };
	unsigned mask = 0;

	(void)state;
	assert_int_equal(scan_checks_parse("sm2", &mask, &err), ACLM_OK);
	assert_int_equal(mask, SCAN_CHECK_SM2);
	assert_int_equal(scan_checks_parse("cert,sm2", &mask, &err), ACLM_OK);
	assert_int_equal(mask, SCAN_CHECK_CERT | SCAN_CHECK_SM2);
	assert_int_equal(scan_checks_parse("all", &mask, &err), ACLM_OK);
	assert_true(mask & SCAN_CHECK_SM2);
	assert_int_equal(scan_checks_parse("sm3", &mask, &err), ACLM_ERR_INVALID);
	assert_non_null(strstr(err.msg, "sm3"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc8998_hrr_and_tlcp_two_certs),
		cmocka_unit_test(test_alert_means_neither),
		cmocka_unit_test(test_checks_parse_sm2),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
