/* ca_csr_check (RFC 8555 §7.4) on untrusted DER: the SAN set must equal the
 * order's identifiers (DNS case-insensitive, IPs as octets, wildcards kept,
 * duplicates fine), a CN must be one of them, only dNSName/iPAddress SANs,
 * the key policy (RSA 2048..8192, P-256/P-384, SM2; not the account key),
 * the self-signature (no SHA-1), one extensionRequest, and garbage,
 * truncated or oversized input. Every refusal is "badCSR". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca/ca_int.h"
#include "crypto/crypto.h"
#include "testsupport.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void to_der(X509_REQ *req, unsigned char **der, size_t *len)
{
	int n;

	*der = NULL;
	n = i2d_X509_REQ(req, der);
	assert_true(n > 0);
	*len = (size_t)n;
}

static void csr_der(EVP_PKEY *key, const char *cn, const char *const *dns, size_t ndns,
		    const char *const *ips, size_t nips, unsigned char **der, size_t *len)
{
	struct crypto_csr_req r = { .cn = cn, .dns = dns, .ndns = ndns, .ips = ips, .nips = nips };
	X509_REQ *req = NULL;
	struct aclm_err err = { 0 };

	if (crypto_csr_new(key, &r, &req, &err) != ACLM_OK)
		fail_msg("crypto_csr_new: %s", err.msg);
	to_der(req, der, len);
	X509_REQ_free(req);
}

/* A CSR the way an odd client writes it: SANs in OpenSSL's config syntax,
 * any digest (NULL for EdDSA). */
static void raw_csr_der(EVP_PKEY *key, const char *cn, const char *san, const EVP_MD *md,
			unsigned char **der, size_t *len)
{
	X509_REQ *req = X509_REQ_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION *ext = NULL;

	assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
	if (cn != NULL)
		assert_int_equal(X509_NAME_add_entry_by_NID(
					 X509_REQ_get_subject_name(req), NID_commonName,
					 MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0), 1);
	if (san != NULL) {
		ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
		assert_non_null(ext);
		assert_true(sk_X509_EXTENSION_push(exts, ext) > 0);
		assert_int_equal(X509_REQ_add_extensions(req, exts), 1);
	}
	assert_true(X509_REQ_sign(req, key, md) > 0);
	to_der(req, der, len);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
}

static EVP_PKEY *gen(enum crypto_key_type t)
{
	EVP_PKEY *k = NULL;
	struct aclm_err err = { 0 };

	assert_int_equal(crypto_key_generate(t, &k, &err), ACLM_OK);
	return k;
}

/* Runs the check; want_ok or else badCSR with `needle` in the message. */
static void expect(const unsigned char *der, size_t len, const json_t *ids,
		   const EVP_PKEY *account, bool want_ok, const char *needle)
{
	struct aclm_err err = { 0 };
	const char *problem = "unset";
	EVP_PKEY *pub = NULL;
	aclm_status st = ca_csr_check(der, len, ids, account, &pub, &problem, &err);

	if (want_ok) {
		if (st != ACLM_OK)
			fail_msg("refused: %s", err.msg);
		assert_null(problem);
		assert_non_null(pub);
	} else {
		if (st == ACLM_OK)
			fail_msg("accepted, expected a refusal with \"%s\"", needle);
		assert_string_equal(problem, "badCSR");
		assert_null(pub);
		if (needle != NULL && strstr(err.msg, needle) == NULL)
			fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
	}
	assert_int_equal(ERR_peek_error(), 0); /* nothing left on OpenSSL's queue */
	EVP_PKEY_free(pub);
}

/* Names with a P-256 key: ids (spec) vs a CSR of dns/ips and cn. */
static void names(const char *const *spec, size_t nspec, const char *cn,
		  const char *const *dns, size_t ndns, const char *const *ips, size_t nips,
		  bool want_ok, const char *needle)
{
	EVP_PKEY *k = gen(CRYPTO_KEY_P256);
	json_t *ids = ts_identifiers(spec, nspec);
	unsigned char *der = NULL;
	size_t len = 0;

	csr_der(k, cn, dns, ndns, ips, nips, &der, &len);
	expect(der, len, ids, NULL, want_ok, needle);
	OPENSSL_free(der);
	json_decref(ids);
	EVP_PKEY_free(k);
}

static void test_exact_names_accepted(void **state)
{
	const char *const spec[] = { "dns:a.example.com", "dns:b.example.com" };
	const char *const dns[] = { "b.example.com", "a.example.com" };

	names(spec, 2, NULL, dns, 2, NULL, 0, true, NULL);
}

static void test_extra_name_refused(void **state)
{
	const char *const spec[] = { "dns:a.example.com" };
	const char *const dns[] = { "a.example.com", "b.example.com" };

	names(spec, 1, NULL, dns, 2, NULL, 0, false, "b.example.com");
}

static void test_missing_name_refused(void **state)
{
	const char *const spec[] = { "dns:a.example.com", "dns:b.example.com" };
	const char *const dns[] = { "a.example.com" };

	names(spec, 2, NULL, dns, 1, NULL, 0, false, "b.example.com");
}

static void test_other_case_and_duplicates_accepted(void **state)
{
	const char *const spec[] = { "dns:www.Example.com" };
	const char *const dns[] = { "WWW.EXAMPLE.COM", "www.example.com", "www.example.COM" };

	names(spec, 1, "Www.Example.Com", dns, 3, NULL, 0, true, NULL);
}

static void test_wildcard_kept_not_expanded(void **state)
{
	const char *const spec[] = { "dns:*.example.com", "dns:example.com" };
	const char *const ok[] = { "example.com", "*.example.com" };
	const char *const expanded[] = { "example.com", "www.example.com" };

	names(spec, 2, NULL, ok, 2, NULL, 0, true, NULL);
	names(spec, 2, NULL, expanded, 2, NULL, 0, false, "www.example.com");
}

/* IPs compare as octets: "::1" ordered, "0:0:0:0:0:0:0:1" in the CSR and
 * as its CN (crypto_csr_new's default CN is the first IP's text). */
static void test_ip_v4_v6_as_octets(void **state)
{
	const char *const spec[] = { "ip:10.0.0.1", "ip:::1" };
	const char *const ips[] = { "0:0:0:0:0:0:0:1", "10.0.0.1" };
	const char *const wrong[] = { "::1", "10.0.0.2" };
	const char *const mapped[] = { "::ffff:10.0.0.1", "::1" };

	names(spec, 2, NULL, NULL, 0, ips, 2, true, NULL);
	names(spec, 2, "10.0.0.1", NULL, 0, ips, 2, true, NULL);
	names(spec, 2, NULL, NULL, 0, wrong, 2, false, "iPAddress");
	/* An IPv4-mapped IPv6 address is another identifier (16 octets). */
	names(spec, 2, NULL, NULL, 0, mapped, 2, false, "iPAddress");
}

static void test_dns_identifier_does_not_match_ip_san(void **state)
{
	const char *const spec[] = { "dns:10.0.0.1" };
	const char *const ips[] = { "10.0.0.1" };

	names(spec, 1, NULL, NULL, 0, ips, 1, false, "iPAddress");
}

static void test_cn_not_in_sans_refused(void **state)
{
	const char *const spec[] = { "dns:a.example.com" };
	const char *const dns[] = { "a.example.com" };

	names(spec, 1, "other.example.com", dns, 1, NULL, 0, false, "common name");
	names(spec, 1, "10.0.0.1", dns, 1, NULL, 0, false, "common name");
}

static void test_no_san_refused(void **state)
{
	const char *const spec[] = { "dns:a.example.com" };

	names(spec, 1, "a.example.com", NULL, 0, NULL, 0, false, "no subjectAltName");
}

static void test_email_san_refused(void **state)
{
	const char *const spec[] = { "dns:a.example.com" };
	json_t *ids = ts_identifiers(spec, 1);
	EVP_PKEY *k = gen(CRYPTO_KEY_P256);
	unsigned char *der = NULL;
	size_t len = 0;

	raw_csr_der(k, NULL, "DNS:a.example.com,email:me@a.example.com", EVP_sha256(), &der, &len);
	expect(der, len, ids, NULL, false, "email");
	OPENSSL_free(der);
	raw_csr_der(k, NULL, "DNS:a.example.com,URI:https://a.example.com/", EVP_sha256(), &der,
		    &len);
	expect(der, len, ids, NULL, false, "URI");
	OPENSSL_free(der);
	/* The same client code with only the DNS name passes (the helper is fine). */
	raw_csr_der(k, "a.example.com", "DNS:a.example.com", EVP_sha256(), &der, &len);
	expect(der, len, ids, NULL, true, NULL);
	OPENSSL_free(der);
	/* A SHA-1 signature over the same request: refused. */
	raw_csr_der(k, "a.example.com", "DNS:a.example.com", EVP_sha1(), &der, &len);
	expect(der, len, ids, NULL, false, "signature algorithm");
	OPENSSL_free(der);
	EVP_PKEY_free(k);
	json_decref(ids);
}

/* OpenSSL reads the first extensionRequest only; a signed second one that
 * names another host is refused rather than ignored. */
static void test_two_extension_requests_refused(void **state)
{
	const char *const spec[] = { "dns:a.example.com" };
	const char *const sans[] = { "DNS:a.example.com", "DNS:evil.example.com" };
	json_t *ids = ts_identifiers(spec, 1);
	EVP_PKEY *k = gen(CRYPTO_KEY_P256);
	X509_REQ *req = X509_REQ_new();
	unsigned char *der = NULL;
	size_t len = 0;

	assert_int_equal(X509_REQ_set_pubkey(req, k), 1);
	/* OpenSSL 3.0 refuses to add the same attribute twice; PKCS#9's and
	 * Microsoft's extensionRequest make two all the same. */
	for (size_t i = 0; i < N(sans); i++) {
		STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();

		assert_true(sk_X509_EXTENSION_push(
				    exts, X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
							      sans[i])) > 0);
		assert_int_equal(X509_REQ_add_extensions_nid(req, exts, i == 0 ? NID_ext_req
										: NID_ms_ext_req), 1);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	assert_int_equal(X509_REQ_get_attr_count(req), 2);
	assert_true(X509_REQ_sign(req, k, EVP_sha256()) > 0);
	to_der(req, &der, &len);
	expect(der, len, ids, NULL, false, "2 extensionRequest");
	OPENSSL_free(der);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
	json_decref(ids);
}

static void test_san_count_capped(void **state)
{
	const char *const spec[] = { "dns:a.example.com" };
	const char *dns[CA_CSR_NAMES_MAX + 1];

	for (size_t i = 0; i < N(dns); i++)
		dns[i] = "a.example.com";
	names(spec, 1, NULL, dns, CA_CSR_NAMES_MAX, NULL, 0, true, NULL);
	names(spec, 1, NULL, dns, CA_CSR_NAMES_MAX + 1, NULL, 0, false, "at most");
}

/* The key policy, with keys crypto_key_generate does not make. */
static void key_case(EVP_PKEY *k, bool want_ok, const char *needle)
{
	const char *const spec[] = { "dns:a.example.com" };
	const char *const dns[] = { "a.example.com" };
	json_t *ids = ts_identifiers(spec, 1);
	unsigned char *der = NULL;
	size_t len = 0;

	assert_non_null(k);
	csr_der(k, NULL, dns, 1, NULL, 0, &der, &len);
	expect(der, len, ids, NULL, want_ok, needle);
	OPENSSL_free(der);
	json_decref(ids);
	EVP_PKEY_free(k);
}

static void test_key_policy(void **state)
{
	EVP_PKEY *explicit = gen(CRYPTO_KEY_P256);

	key_case(gen(CRYPTO_KEY_RSA2048), true, NULL);
	key_case(gen(CRYPTO_KEY_P384), true, NULL);
	key_case(gen(CRYPTO_KEY_SM2), true, NULL);
	key_case(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024), false, "rsa");
	key_case(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), false, "ed25519");
	key_case(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521"), false, "P-521");
	/* P-256 written with explicit curve parameters (RFC 5480 forbids). */
	assert_int_equal(EVP_PKEY_set_utf8_string_param(explicit, OSSL_PKEY_PARAM_EC_ENCODING,
							OSSL_PKEY_EC_ENCODING_EXPLICIT), 1);
	key_case(explicit, false, "named curves");
}

static void test_account_key_refused(void **state)
{
	const char *const spec[] = { "dns:a.example.com" };
	const char *const dns[] = { "a.example.com" };
	json_t *ids = ts_identifiers(spec, 1);
	EVP_PKEY *k = gen(CRYPTO_KEY_P256), *other = gen(CRYPTO_KEY_P256);
	unsigned char *der = NULL;
	size_t len = 0;

	csr_der(k, NULL, dns, 1, NULL, 0, &der, &len);
	expect(der, len, ids, k, false, "account");
	expect(der, len, ids, other, true, NULL);
	OPENSSL_free(der);
	EVP_PKEY_free(other);
	EVP_PKEY_free(k);
	json_decref(ids);
}

/* The DER's last byte is the signature's last; flipping it keeps the DER. */
static void bad_sig_case(enum crypto_key_type t)
{
	const char *const spec[] = { "dns:a.example.com" };
	const char *const dns[] = { "a.example.com" };
	json_t *ids = ts_identifiers(spec, 1);
	EVP_PKEY *k = gen(t);
	unsigned char *der = NULL;
	size_t len = 0;

	csr_der(k, NULL, dns, 1, NULL, 0, &der, &len);
	expect(der, len, ids, NULL, true, NULL);
	der[len - 1] ^= 0x01;
	expect(der, len, ids, NULL, false, "signature");
	OPENSSL_free(der);
	EVP_PKEY_free(k);
	json_decref(ids);
}

static void test_bad_signature_refused(void **state)
{
	bad_sig_case(CRYPTO_KEY_P256);
	bad_sig_case(CRYPTO_KEY_SM2);
}

static void test_garbage_truncated_trailing_refused(void **state)
{
	const char *const spec[] = { "dns:a.example.com" };
	const char *const dns[] = { "a.example.com" };
	json_t *ids = ts_identifiers(spec, 1);
	EVP_PKEY *k = gen(CRYPTO_KEY_P256);
	unsigned char *der = NULL, *longer = NULL, garbage[300];
	size_t len = 0;

	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (unsigned char)(i * 37 + 11);
	expect(garbage, sizeof(garbage), ids, NULL, false, "DER");
	expect(garbage, 0, ids, NULL, false, "bytes");
	csr_der(k, NULL, dns, 1, NULL, 0, &der, &len);
	expect(der, len - 1, ids, NULL, false, "DER");
	expect(der, len / 2, ids, NULL, false, "DER");
	longer = malloc(len + 1);
	memcpy(longer, der, len);
	longer[len] = 0;
	expect(longer, len + 1, ids, NULL, false, "after");
	expect(der, CA_CSR_DER_MAX + 1, ids, NULL, false, "bytes"); /* refused before reading */
	free(longer);
	OPENSSL_free(der);
	EVP_PKEY_free(k);
	json_decref(ids);
}

int main(void)
{
	struct aclm_err err = { 0 };
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_names_accepted),
		cmocka_unit_test(test_extra_name_refused),
		cmocka_unit_test(test_missing_name_refused),
		cmocka_unit_test(test_other_case_and_duplicates_accepted),
		cmocka_unit_test(test_wildcard_kept_not_expanded),
		cmocka_unit_test(test_ip_v4_v6_as_octets),
		cmocka_unit_test(test_dns_identifier_does_not_match_ip_san),
		cmocka_unit_test(test_cn_not_in_sans_refused),
		cmocka_unit_test(test_no_san_refused),
		cmocka_unit_test(test_email_san_refused),
		cmocka_unit_test(test_two_extension_requests_refused),
		cmocka_unit_test(test_san_count_capped),
		cmocka_unit_test(test_key_policy),
		cmocka_unit_test(test_account_key_refused),
		cmocka_unit_test(test_bad_signature_refused),
		cmocka_unit_test(test_garbage_truncated_trailing_refused),
	};

	if (crypto_init(&err) != ACLM_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
