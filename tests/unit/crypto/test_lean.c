/* crypto/lean.c: the lean library context decodes the public key of every
 * certificate key type a TLS client meets, offers only DER
 * SubjectPublicKeyInfo decoders, and carries complete TLS 1.3 and TLS 1.2
 * handshakes (groups and ciphers forwarded from the default provider). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"

static OSSL_LIB_CTX *lean(void)
{
	struct aclm_err err = { 0 };
	OSSL_LIB_CTX *ctx = crypto_lean_libctx(&err);

	if (ctx == NULL)
		fail_msg("crypto_lean_libctx: %s", err.msg);
	return ctx;
}

/* A self-signed certificate for key (made in the default context). */
static X509 *self_signed(EVP_PKEY *key, const EVP_MD *md)
{
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();

	assert_non_null(x);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
						    (const unsigned char *)"lean.test", -1, -1, 0), 1);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_set_subject_name(x, name), 1);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_true(X509_sign(x, key, md) > 0);
	X509_NAME_free(name);
	return x;
}

/* key's certificate, encoded, then decoded in the lean context: the key
 * must be there, of the same type and equal to the original. */
static void decodes_in_lean(const char *what, EVP_PKEY *key, const EVP_MD *md)
{
	X509 *x = self_signed(key, md), *y;
	unsigned char *der = NULL;
	const unsigned char *p;
	int len = i2d_X509(x, &der);
	EVP_PKEY *got;

	assert_true(len > 0);
	p = der;
	y = X509_new_ex(lean(), NULL);
	assert_non_null(y);
	if (d2i_X509(&y, &p, len) == NULL)
		fail_msg("%s: d2i_X509 failed in the lean context", what);
	got = X509_get0_pubkey(y);
	if (got == NULL)
		fail_msg("%s: no public key decoded in the lean context", what);
	if (EVP_PKEY_get_base_id(got) != EVP_PKEY_get_base_id(key) &&
	    !(EVP_PKEY_is_a(key, "SM2") && EVP_PKEY_is_a(got, "SM2")))
		fail_msg("%s: decoded as another key type", what);
	if (EVP_PKEY_eq(got, key) != 1)
		fail_msg("%s: decoded key differs from the original", what);
	X509_free(y);
	X509_free(x);
	OPENSSL_free(der);
}

static void every_certificate_key_type_decodes(void **state)
{
	static const struct {
		const char *type;
		const char *arg;
		bool digest;
	} keys[] = {
		{ "RSA", NULL, true },   { "EC", "P-256", true },   { "EC", "P-384", true },
		{ "ED25519", NULL, false }, { "ED448", NULL, false }, { "SM2", NULL, true },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		EVP_PKEY *k = keys[i].arg != NULL ?
			EVP_PKEY_Q_keygen(NULL, NULL, keys[i].type, keys[i].arg) :
			strcmp(keys[i].type, "RSA") == 0 ?
			EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048) :
			EVP_PKEY_Q_keygen(NULL, NULL, keys[i].type);
		const EVP_MD *md = !keys[i].digest ? NULL :
			strcmp(keys[i].type, "SM2") == 0 ? EVP_sm3() : EVP_sha256();

		assert_non_null(k);
		decodes_in_lean(keys[i].type, k, md);
		EVP_PKEY_free(k);
	}
}

static void count_decoder(OSSL_DECODER *d, void *arg)
{
	int *n = arg;
	const char *props = OSSL_DECODER_get0_properties(d);

	/* every decoder of the lean context is a DER SPKI one */
	if (arg != NULL && n[1] &&
	    (props == NULL || strstr(props, "structure=SubjectPublicKeyInfo") == NULL))
		fail_msg("lean context offers the decoder %s (%s)", OSSL_DECODER_get0_name(d),
			 props != NULL ? props : "");
	n[0]++;
}

static void only_spki_decoders_are_offered(void **state)
{
	int in_default[2] = { 0, 0 }, in_lean[2] = { 0, 1 };
	(void)state;

	OSSL_DECODER_do_all_provided(NULL, count_decoder, in_default);
	OSSL_DECODER_do_all_provided(lean(), count_decoder, in_lean);
	assert_true(in_lean[0] >= 10); /* DH, DHX, DSA, EC, ED*, X*, SM2, RSA, RSA-PSS, DER */
	assert_true(in_lean[0] < in_default[0]);
}

/* Moves what one side wrote to the other side's input. */
static void shuttle(BIO *from, BIO *to)
{
	char buf[16384];
	int n;

	while ((n = BIO_read(from, buf, sizeof(buf))) > 0)
		assert_int_equal(BIO_write(to, buf, n), n);
}

/* A lean client against a default-context server over memory BIOs, up to
 * the end of the handshake; returns the client for inspection. */
static SSL *handshake(SSL_CTX *cctx, SSL_CTX *sctx)
{
	SSL *c = SSL_new(cctx), *s = SSL_new(sctx);
	BIO *c_in = BIO_new(BIO_s_mem()), *c_out = BIO_new(BIO_s_mem());
	BIO *s_in = BIO_new(BIO_s_mem()), *s_out = BIO_new(BIO_s_mem());
	int rc = 0, rs = 0;

	assert_non_null(c);
	assert_non_null(s);
	SSL_set_bio(c, c_in, c_out);
	SSL_set_bio(s, s_in, s_out);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	for (int i = 0; i < 20 && (rc != 1 || rs != 1); i++) {
		if (rc != 1)
			rc = SSL_do_handshake(c);
		shuttle(c_out, s_in);
		if (rs != 1)
			rs = SSL_do_handshake(s);
		shuttle(s_out, c_in);
	}
	assert_int_equal(rc, 1);
	assert_int_equal(rs, 1);
	SSL_free(s);
	return c;
}

static void tls_handshakes_complete(void **state)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *cert = self_signed(key, EVP_sha256());
	SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX *cctx = SSL_CTX_new_ex(lean(), NULL, TLS_client_method());
	SSL *c;
	(void)state;

	assert_non_null(sctx);
	assert_non_null(cctx);
	assert_int_equal(SSL_CTX_use_certificate(sctx, cert), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(sctx, key), 1);
	SSL_CTX_set_verify(cctx, SSL_VERIFY_NONE, NULL);

	c = handshake(cctx, sctx); /* TLS 1.3: x25519 from the forwarded TLS-GROUP list */
	assert_int_equal(SSL_version(c), TLS1_3_VERSION);
	assert_int_equal(SSL_get_negotiated_group(c), NID_X25519);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(SSL_get0_peer_certificate(c)), key), 1);
	SSL_free(c);

	assert_int_equal(SSL_CTX_set_max_proto_version(cctx, TLS1_2_VERSION), 1);
	assert_int_equal(SSL_CTX_set_cipher_list(cctx, "ECDHE-ECDSA-AES128-SHA"), 1); /* CBC: HMAC keys */
	c = handshake(cctx, sctx);
	assert_int_equal(SSL_version(c), TLS1_2_VERSION);
	assert_string_equal(SSL_get_cipher_name(c), "ECDHE-ECDSA-AES128-SHA");
	SSL_free(c);

	SSL_CTX_free(cctx);
	SSL_CTX_free(sctx);
	X509_free(cert);
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_certificate_key_type_decodes),
		cmocka_unit_test(only_spki_decoders_are_offered),
		cmocka_unit_test(tls_handshakes_complete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
