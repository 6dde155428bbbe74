/* acme/ari: the RFC 9773 §4.1 example identifier from a certificate with
 * that AKI and serial; parsing gives back the AKI and the serial exactly as
 * crypto_cert_facts prints it (high bit set or not, 20 octets, zero);
 * certificates without an AKI keyIdentifier have no id; malformed ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include "acme/acme.h"
#include "crypto/cert.h"
#include "crypto/key.h"

static const unsigned char rfc_aki[20] = {
	0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3,
	0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4,
};

/* A signed certificate with the given serial (big-endian magnitude) and
 * AKI keyIdentifier (NULL: no AKI extension), read back from DER as a
 * certificate from the wire would be. */
static X509 *make_cert(const unsigned char *serial, size_t serial_len, const unsigned char *aki,
		       size_t aki_len)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = NULL;
	X509 *cert = X509_new(), *back = NULL;
	BIGNUM *bn = BN_bin2bn(serial, (int)serial_len, NULL);
	ASN1_INTEGER *sn = BN_to_ASN1_INTEGER(bn, NULL);
	X509_NAME *name = X509_NAME_new();
	unsigned char *der = NULL;
	size_t derlen = 0;

	assert_int_equal(crypto_key_generate(CRYPTO_KEY_P256, &key, &err), ACLM_OK);
	assert_non_null(sn);
	assert_int_equal(X509_set_version(cert, X509_VERSION_3), 1);
	assert_int_equal(X509_set_serialNumber(cert, sn), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
						    (const unsigned char *)"ari test", -1, -1, 0),
			 1);
	assert_int_equal(X509_set_subject_name(cert, name), 1);
	assert_int_equal(X509_set_issuer_name(cert, name), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(cert), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(cert), 86400));
	assert_int_equal(X509_set_pubkey(cert, key), 1);
	if (aki != NULL) {
		AUTHORITY_KEYID *akid = AUTHORITY_KEYID_new();

		akid->keyid = ASN1_OCTET_STRING_new();
		assert_int_equal(ASN1_OCTET_STRING_set(akid->keyid, aki, (int)aki_len), 1);
		assert_int_equal(X509_add1_ext_i2d(cert, NID_authority_key_identifier, akid, 0,
						   X509V3_ADD_DEFAULT),
				 1);
		AUTHORITY_KEYID_free(akid);
	}
	assert_int_equal(crypto_cert_sign(cert, key, &err), ACLM_OK);
	assert_int_equal(crypto_cert_to_der(cert, &der, &derlen, &err), ACLM_OK);
	assert_int_equal(crypto_cert_from_der(der, derlen, &back, &err), ACLM_OK);
	OPENSSL_free(der);
	X509_NAME_free(name);
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	X509_free(cert);
	EVP_PKEY_free(key);
	return back;
}

/* RFC 9773 §4.1: AKI 69:88:5B:...:C8:D4, serial 00:87:65:43:21 (the DER
 * contents keep the sign octet). */
static void test_ari_rfc9773_example(void **state)
{
	static const unsigned char serial[] = { 0x87, 0x65, 0x43, 0x21 };
	struct aclm_err err = { 0 };
	X509 *cert = make_cert(serial, sizeof(serial), rfc_aki, sizeof(rfc_aki));
	char *id = acme_ari_cert_id(cert);
	char hex[41];
	unsigned char aki[64];
	size_t aki_len = 0;

	(void)state;
	assert_non_null(id);
	assert_string_equal(id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
	assert_int_equal(acme_ari_cert_id_parse(id, hex, aki, sizeof(aki), &aki_len, &err),
			 ACLM_OK);
	assert_string_equal(hex, "87654321");
	assert_int_equal(aki_len, sizeof(rfc_aki));
	assert_memory_equal(aki, rfc_aki, sizeof(rfc_aki));
	free(id);
	X509_free(cert);
}

/* The parsed serial is the string crypto_cert_facts stores, so a renewalInfo
 * request finds the certificate by it. */
static void test_ari_serial_matches_facts(void **state)
{
	static const struct {
		unsigned char serial[20];
		size_t len;
		const char *hex;
	} cases[] = {
		{ { 0x87, 0x65, 0x43, 0x21 }, 4, "87654321" },
		{ { 0x12, 0x34, 0x56, 0x78 }, 4, "12345678" },
		{ { 0x01 }, 1, "01" },
		{ { 0x80 }, 1, "80" },
		{ { 0x00, 0x00, 0xab }, 3, "ab" },
		{ { 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66,
		    0x55, 0x44, 0x33, 0x22, 0x11, 0x00, 0x01, 0x02, 0x03, 0x04 },
		  20, "ffeeddccbbaa99887766554433221100" "01020304" },
		{ { 0x7f, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66,
		    0x55, 0x44, 0x33, 0x22, 0x11, 0x00, 0x01, 0x02, 0x03, 0x04 },
		  20, "7feeddccbbaa99887766554433221100" "01020304" },
		{ { 0x00 }, 1, "00" },
	};
	struct aclm_err err = { 0 };
	unsigned char aki[64];
	size_t aki_len = 0;
	char hex[41];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		X509 *cert = make_cert(cases[i].serial, cases[i].len, rfc_aki, 8);
		char *id = acme_ari_cert_id(cert);
		json_t *facts = NULL;

		assert_non_null(id);
		assert_int_equal(crypto_cert_facts(cert, &facts, &err), ACLM_OK);
		assert_int_equal(acme_ari_cert_id_parse(id, hex, aki, sizeof(aki), &aki_len, &err),
				 ACLM_OK);
		assert_string_equal(hex, cases[i].hex);
		assert_string_equal(hex, json_string_value(json_object_get(facts, "serial")));
		assert_int_equal(aki_len, 8);
		assert_memory_equal(aki, rfc_aki, 8);
		json_decref(facts);
		free(id);
		X509_free(cert);
	}
}

static void test_ari_no_aki_keyid_no_id(void **state)
{
	static const unsigned char serial[] = { 0x42 };
	X509 *cert = make_cert(serial, 1, NULL, 0);

	(void)state;
	assert_null(acme_ari_cert_id(cert));
	X509_free(cert);
	assert_null(acme_ari_cert_id(NULL));
}

static void test_ari_parse_refuses_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ",          /* no dot */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.",         /* no serial */
		".AIdlQyE",                             /* no AKI */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE.", /* two dots */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ=.AIdlQyE", /* padding */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE=",
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdl+yE",  /* not the URL alphabet */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.gA",       /* 0x80: negative */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AAE",      /* 00 01: not minimal DER */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AAA",      /* 00 00 */
		/* 21 octets of magnitude: longer than RFC 5280 allows */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AQIDBAUGBwgJCgsMDQ4PEBESExQV",
		/* 22 octets with the sign octet */
		"aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIECAwQFBgcICQoLDA0ODxAREhMUFQ",
	};
	struct aclm_err err = { 0 };
	unsigned char aki[64];
	size_t aki_len = 7;
	char hex[41], *long_id;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(acme_ari_cert_id_parse(bad[i], hex, aki, sizeof(aki), &aki_len,
							&err),
				 ACLM_ERR_PARSE);
		assert_string_equal(hex, "");
		assert_int_equal(aki_len, 0);
	}
	assert_int_equal(acme_ari_cert_id_parse(NULL, hex, aki, sizeof(aki), &aki_len, &err),
			 ACLM_ERR_PARSE);
	/* the AKI must fit aki_max */
	assert_int_equal(acme_ari_cert_id_parse("aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE", hex, aki,
						19, &aki_len, &err),
			 ACLM_ERR_PARSE);
	/* 20 octets with the sign octet (21 of contents) is the longest serial */
	assert_int_equal(acme_ari_cert_id_parse("aYhba4dGQEHhs3uEe6CuLN4ByNQ."
						"AIECAwQFBgcICQoLDA0ODxAREhMU",
						hex, aki, sizeof(aki), &aki_len, &err),
			 ACLM_OK);
	assert_string_equal(hex, "8102030405060708090a0b0c0d0e0f1011121314");
	/* an id longer than any real one */
	long_id = malloc(400);
	memset(long_id, 'A', 399);
	long_id[300] = '.';
	long_id[399] = '\0';
	assert_int_equal(acme_ari_cert_id_parse(long_id, hex, aki, sizeof(aki), &aki_len, &err),
			 ACLM_ERR_PARSE);
	free(long_id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ari_rfc9773_example),
		cmocka_unit_test(test_ari_serial_matches_facts),
		cmocka_unit_test(test_ari_no_aki_keyid_no_id),
		cmocka_unit_test(test_ari_parse_refuses_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
