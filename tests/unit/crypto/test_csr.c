/* crypto/csr: requests with DNS and IP subjectAltNames for RSA, P-256 and
 * SM2 keys; SM2 requests verify with the default ID only, also for the
 * openssl CLI; bad names and addresses are refused, naming the value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crypto/csr.h"
#include "crypto/key.h"

static const char *const dns[] = { "www.example.com", "*.example.com", "xn--bcher-kva.example" };
static const char *const ips[] = { "192.0.2.7", "2001:db8::1" };

static EVP_PKEY *generate(enum crypto_key_type t)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = NULL;

	assert_int_equal(crypto_key_generate(t, &key, &err), ACLM_OK);
	return key;
}

static X509_REQ *make_csr(EVP_PKEY *key, const struct crypto_csr_req *r)
{
	struct aclm_err err = { 0 };
	X509_REQ *req = NULL;

	assert_int_equal(crypto_csr_new(key, r, &req, &err), ACLM_OK);
	assert_non_null(req);
	return req;
}

/* The subject's CN, "" when there is none. */
static void subject_cn(X509_REQ *req, char *out, size_t size)
{
	out[0] = '\0';
	X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, out, (int)size);
}

/* The SAN as "DNS:a,IP:b,..." in order, independent of crypto/. */
static void san_text(X509_REQ *req, char *out, size_t size)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
	GENERAL_NAMES *gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);

	out[0] = '\0';
	for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
		ASN1_STRING *ip = gn->d.iPAddress;
		char buf[300];

		if (gn->type == GEN_DNS)
			snprintf(buf, sizeof(buf), "DNS:%s", ASN1_STRING_get0_data(gn->d.dNSName));
		else if (gn->type == GEN_IPADD)
			snprintf(buf, sizeof(buf), "IP:%d bytes", ASN1_STRING_length(ip));
		else
			snprintf(buf, sizeof(buf), "other");
		strncat(out, i ? "," : "", size - strlen(out) - 1);
		strncat(out, buf, size - strlen(out) - 1);
	}
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
}

static void check_csr(enum crypto_key_type t, int sig_nid)
{
	struct crypto_csr_req r = { NULL, dns, 3, ips, 2 };
	struct aclm_err err = { 0 };
	struct aclm_buf pem;
	EVP_PKEY *key = generate(t);
	X509_REQ *req = make_csr(key, &r);
	char cn[256], san[1024];

	assert_int_equal(crypto_csr_verify(req, &err), ACLM_OK);
	assert_int_equal(X509_REQ_get_signature_nid(req), sig_nid);
	assert_true(crypto_key_public_equal(key, X509_REQ_get0_pubkey(req)));
	subject_cn(req, cn, sizeof(cn));
	assert_string_equal(cn, "www.example.com");
	san_text(req, san, sizeof(san));
	assert_string_equal(san, "DNS:www.example.com,DNS:*.example.com,DNS:xn--bcher-kva.example,"
				 "IP:4 bytes,IP:16 bytes");
	aclm_buf_init(&pem, 1 << 16);
	assert_int_equal(crypto_csr_to_pem(req, &pem, &err), ACLM_OK);
	assert_non_null(strstr((char *)pem.data, "-----BEGIN CERTIFICATE REQUEST-----"));
	aclm_buf_free(&pem);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
}

static void test_csr_rsa2048_with_dns_and_ip_verifies(void **state)
{
	check_csr(CRYPTO_KEY_RSA2048, NID_sha256WithRSAEncryption);
}

static void test_csr_p256_with_dns_and_ip_verifies(void **state)
{
	check_csr(CRYPTO_KEY_P256, NID_ecdsa_with_SHA256);
}

static void test_csr_p384_signs_sha384(void **state)
{
	check_csr(CRYPTO_KEY_P384, NID_ecdsa_with_SHA384);
}

static void test_csr_sm2_with_dns_and_ip_verifies(void **state)
{
	check_csr(CRYPTO_KEY_SM2, NID_SM2_with_SM3);
}

static void set_id(X509_REQ *req, const char *id)
{
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();

	assert_int_equal(ASN1_OCTET_STRING_set(os, (const unsigned char *)id, (int)strlen(id)), 1);
	X509_REQ_set0_distinguishing_id(req, os);
}

/* The signature binds the default ID: another ID, or none, fails; and a
 * request signed without the ID (X509_REQ_sign) fails crypto_csr_verify. */
static void test_csr_sm2_verifies_only_with_default_id(void **state)
{
	struct crypto_csr_req r = { NULL, dns, 1, NULL, 0 };
	struct aclm_err err = { 0 };
	EVP_PKEY *key = generate(CRYPTO_KEY_SM2);
	X509_REQ *req = make_csr(key, &r);
	X509_REQ *noid = make_csr(key, &r);

	set_id(req, "8765432187654321");
	assert_int_not_equal(X509_REQ_verify(req, key), 1);
	set_id(req, "1234567812345678");
	assert_int_equal(X509_REQ_verify(req, key), 1);
	X509_REQ_set0_distinguishing_id(req, NULL);
	assert_int_not_equal(X509_REQ_verify(req, key), 1);
	assert_int_equal(crypto_csr_verify(req, &err), ACLM_OK);

	assert_true(X509_REQ_sign(noid, key, EVP_sm3()) > 0);
	assert_int_equal(crypto_csr_verify(noid, &err), ACLM_ERR_VERIFY);
	X509_REQ_free(noid);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
}

/* What `openssl req -verify` says about path with the given distid: 1 for
 * "verify OK", 0 otherwise. OpenSSL 3.0's req exits 0 even on a failed
 * verification, so its message decides, not its exit status. */
static int cli_verify(const char *path, const char *distid)
{
	char cmd[1024], line[256];
	FILE *p;
	int ok = 0;

	snprintf(cmd, sizeof(cmd), "openssl req -verify -noout -in %s -vfyopt distid:%s 2>&1", path,
		 distid);
	p = popen(cmd, "r");
	assert_non_null(p);
	while (fgets(line, sizeof(line), p) != NULL)
		if (strstr(line, "self-signature verify OK") != NULL)
			ok = 1;
	pclose(p);
	return ok;
}

/* Interop: `openssl req -verify -vfyopt distid:1234567812345678` accepts our
 * SM2 request and rejects it under another distid. */
static void test_csr_sm2_verifies_with_openssl_cli_distid(void **state)
{
	struct crypto_csr_req r = { NULL, dns, 1, ips, 1 };
	struct aclm_err err = { 0 };
	struct aclm_buf pem;
	EVP_PKEY *key = generate(CRYPTO_KEY_SM2);
	X509_REQ *req = make_csr(key, &r);
	char dir[] = "/tmp/aclm-test-csr-XXXXXX", path[64];
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/csr.pem", dir);
	aclm_buf_init(&pem, 1 << 16);
	assert_int_equal(crypto_csr_to_pem(req, &pem, &err), ACLM_OK);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(pem.data, 1, pem.len, f), pem.len);
	fclose(f);
	assert_int_equal(cli_verify(path, "1234567812345678"), 1);
	assert_int_equal(cli_verify(path, "0000000000000000"), 0);
	unlink(path);
	rmdir(dir);
	aclm_buf_free(&pem);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
}

/* A byte changed in the signed name breaks the signature. */
static void test_csr_tampered_request_fails(void **state)
{
	struct crypto_csr_req r = { NULL, dns, 1, NULL, 0 };
	struct aclm_err err = { 0 };
	EVP_PKEY *key = generate(CRYPTO_KEY_P256);
	X509_REQ *req = make_csr(key, &r), *bad;
	unsigned char *der = NULL, *hit;
	const unsigned char *p;
	int len = i2d_X509_REQ(req, &der);

	hit = memmem(der, (size_t)len, "www.example.com", 15);
	assert_non_null(hit);
	hit[0] = 'v';
	p = der;
	bad = d2i_X509_REQ(NULL, &p, len);
	assert_non_null(bad);
	assert_int_equal(crypto_csr_verify(bad, &err), ACLM_ERR_VERIFY);
	X509_REQ_free(bad);
	OPENSSL_free(der);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
}

static void test_csr_common_name_defaults(void **state)
{
	static const char *const only_ip[] = { "::1" };
	static const char *const long_dns[] = {
		"a-very-long-label-that-keeps-going-and-going.example-with-more-labels.example.com",
		"short.example",
	};
	struct crypto_csr_req by_ip = { NULL, NULL, 0, only_ip, 1 };
	struct crypto_csr_req explicit_cn = { "Ops Team 运维", dns, 1, NULL, 0 };
	struct crypto_csr_req too_long = { NULL, long_dns, 2, NULL, 0 };
	EVP_PKEY *key = generate(CRYPTO_KEY_P256);
	X509_REQ *req;
	char cn[256], san[1024];

	req = make_csr(key, &by_ip);
	subject_cn(req, cn, sizeof(cn));
	assert_string_equal(cn, "::1");
	X509_REQ_free(req);

	req = make_csr(key, &explicit_cn);
	subject_cn(req, cn, sizeof(cn));
	assert_string_equal(cn, "Ops Team 运维");
	X509_REQ_free(req);

	/* RFC 5280 caps CN at 64 characters: the long name lives in the SAN only. */
	req = make_csr(key, &too_long);
	subject_cn(req, cn, sizeof(cn));
	assert_string_equal(cn, "");
	san_text(req, san, sizeof(san));
	assert_non_null(strstr(san, long_dns[0]));
	X509_REQ_free(req);
	EVP_PKEY_free(key);
}

static void expect_invalid(EVP_PKEY *key, const char *dns_name, const char *ip)
{
	struct crypto_csr_req r = { NULL, &dns_name, dns_name != NULL, &ip, ip != NULL };
	struct aclm_err err = { 0 };
	X509_REQ *req = NULL;
	const char *value = dns_name != NULL ? dns_name : ip;
	char quoted[400];

	assert_int_equal(crypto_csr_new(key, &r, &req, &err), ACLM_ERR_INVALID);
	assert_null(req);
	snprintf(quoted, sizeof(quoted), "\"%.260s\"", value);
	if (strstr(err.msg, quoted) == NULL)
		fail_msg("error for %s does not name it: %s", value, err.msg);
}

static void expect_valid(EVP_PKEY *key, const char *dns_name)
{
	struct crypto_csr_req r = { NULL, &dns_name, 1, NULL, 0 };
	struct aclm_err err = { 0 };
	X509_REQ *req = NULL;

	if (crypto_csr_new(key, &r, &req, &err) != ACLM_OK)
		fail_msg("%s refused: %s", dns_name, err.msg);
	X509_REQ_free(req);
}

static void test_csr_rejects_bad_names_and_addresses(void **state)
{
	static const char *const bad_dns[] = {
		"", "-a.example", "a-.example", "a..example", "example.com.", ".example.com",
		"ex ample.com", "exa_mple.com", "*.*.example.com", "a.*.example", "*", "*.",
		"café.example", "example.com/path", "a.example\n",
	};
	static const char *const bad_ips[] = {
		"1.2.3", "256.1.1.1", "::g", "example.com", "1.2.3.4 ", "", "2001:db8::1/64",
	};
	char label64[80], name254[260], label63[80], name253[260];
	EVP_PKEY *key = generate(CRYPTO_KEY_P256);

	for (size_t i = 0; i < sizeof(bad_dns) / sizeof(bad_dns[0]); i++)
		expect_invalid(key, bad_dns[i], NULL);
	for (size_t i = 0; i < sizeof(bad_ips) / sizeof(bad_ips[0]); i++)
		expect_invalid(key, NULL, bad_ips[i]);
	/* Limits: labels of 63 and names of 253 characters pass, one more fails. */
	memset(label63, 'a', 63);
	strcpy(label63 + 63, ".example");
	memset(label64, 'a', 64);
	strcpy(label64 + 64, ".example");
	expect_valid(key, label63);
	expect_invalid(key, label64, NULL);
	for (int i = 0; i < 253; i += 2)
		memcpy(name253 + i, "a.", 2);
	name253[252] = 'a';
	name253[253] = '\0';
	memcpy(name254, "b", 1);
	memcpy(name254 + 1, name253, 254);
	expect_valid(key, name253);
	expect_invalid(key, name254, NULL);
	expect_valid(key, "*.example.com");
	expect_valid(key, "localhost");
	EVP_PKEY_free(key);
}

static void test_csr_ed25519_signs_without_digest(void **state)
{
	struct crypto_csr_req r = { NULL, dns, 1, NULL, 0 };
	struct aclm_err err = { 0 };
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	X509_REQ *req = make_csr(key, &r);

	assert_int_equal(X509_REQ_get_signature_nid(req), NID_ED25519);
	assert_int_equal(crypto_csr_verify(req, &err), ACLM_OK);
	X509_REQ_free(req);
	EVP_PKEY_free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csr_rsa2048_with_dns_and_ip_verifies),
		cmocka_unit_test(test_csr_p256_with_dns_and_ip_verifies),
		cmocka_unit_test(test_csr_p384_signs_sha384),
		cmocka_unit_test(test_csr_sm2_with_dns_and_ip_verifies),
		cmocka_unit_test(test_csr_sm2_verifies_only_with_default_id),
		cmocka_unit_test(test_csr_sm2_verifies_with_openssl_cli_distid),
		cmocka_unit_test(test_csr_tampered_request_fails),
		cmocka_unit_test(test_csr_common_name_defaults),
		cmocka_unit_test(test_csr_rejects_bad_names_and_addresses),
		cmocka_unit_test(test_csr_ed25519_signs_without_digest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
