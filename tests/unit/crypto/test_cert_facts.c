/* crypto/cert: facts of certificates built here with the raw OpenSSL API
 * (RSA leaf under a P-256 CA, SM2 root with Chinese names, v1 without
 * extensions, odd serials, unknown algorithms) checked fact by fact, and
 * against `openssl x509` for certificates of the openssl CLI; encodings
 * and PKCS#12 export. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/ct.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include "core/encode.h"
#include "crypto/cert.h"
#include "crypto/key.h"

struct ext {
	const char *name, *value;
};

struct spec {
	EVP_PKEY *key;              /* subject key */
	EVP_PKEY *signer;           /* NULL: key (self-signed) */
	X509 *issuer;               /* NULL: the certificate itself */
	const char *const *subject; /* "CN", "value", ..., NULL */
	int raw_type;               /* 0, or the ASN.1 type of raw, unchecked subject values */
	const char *serial;         /* hex, may start with '-' */
	bool v1;
	const char *not_before, *not_after; /* YYYYMMDDHHMMSSZ */
	const struct ext *exts;     /* ends with { NULL, NULL } */
	int scts;                   /* embedded SCTs to add */
};

static const char *const facts_keys[] = {
	"fingerprint_sha256", "serial", "subject", "common_name", "sans", "issuer", "not_before",
	"not_after", "lifetime_days", "key", "signature_algorithm", "is_ca", "self_signed",
	"key_usage", "ext_key_usage", "must_staple", "sct_count", "ocsp_urls", "crl_urls", "aki",
	"ski", "spki_sha256",
};

static EVP_PKEY *generate(enum crypto_key_type t)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *key = NULL;

	assert_int_equal(crypto_key_generate(t, &key, &err), ACLM_OK);
	return key;
}

static void set_subject(X509 *x, const struct spec *s)
{
	X509_NAME *name = X509_get_subject_name(x);

	for (const char *const *p = s->subject; p != NULL && *p != NULL; p += 2)
		assert_int_equal(X509_NAME_add_entry_by_txt(name, p[0],
							    s->raw_type ? s->raw_type : MBSTRING_UTF8,
							    (const unsigned char *)p[1], -1, -1, 0),
				 1);
}

static void set_serial(X509 *x, const char *hex)
{
	BIGNUM *bn = NULL;

	assert_true(BN_hex2bn(&bn, hex) > 0);
	assert_non_null(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)));
	BN_free(bn);
}

static void add_exts(X509 *x, const struct spec *s)
{
	X509V3_CTX ctx;

	X509V3_set_ctx(&ctx, s->issuer != NULL ? s->issuer : x, x, NULL, NULL, 0);
	for (const struct ext *e = s->exts; e != NULL && e->name != NULL; e++) {
		X509_EXTENSION *ext = X509V3_EXT_nconf(NULL, &ctx, e->name, e->value);

		if (ext == NULL)
			fail_msg("extension %s=%s", e->name, e->value);
		assert_int_equal(X509_add_ext(x, ext, -1), 1);
		X509_EXTENSION_free(ext);
	}
}

/* RFC 6962 §3.3 list of n syntactically valid (not genuinely signed) SCTs. */
static void add_scts(X509 *x, int n)
{
	STACK_OF(SCT) *scts = sk_SCT_new_null();

	for (int i = 0; i < n; i++) {
		SCT *sct = SCT_new_from_base64(SCT_VERSION_V1,
					       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
					       CT_LOG_ENTRY_TYPE_PRECERT, 1700000000000ULL + (uint64_t)i,
					       "", "BAMAAqq7");

		assert_non_null(sct);
		assert_true(sk_SCT_push(scts, sct) > 0);
	}
	assert_int_equal(X509_add1_ext_i2d(x, NID_ct_precert_scts, scts, 0, 0), 1);
	SCT_LIST_free(scts);
}

/* SM2 signs SM2-with-SM3 with the default ID through X509_sign_ctx. */
static void sign(X509 *x, EVP_PKEY *signer)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	const char *md = "SHA256";
	char group[32] = "";

	EVP_PKEY_get_utf8_string_param(signer, "group", group, sizeof(group), NULL);
	if (EVP_PKEY_is_a(signer, "SM2"))
		md = "SM3";
	else if (strcmp(group, "secp384r1") == 0)
		md = "SHA384";
	assert_int_equal(EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, signer, NULL), 1);
	if (EVP_PKEY_is_a(signer, "SM2"))
		assert_int_equal(EVP_PKEY_CTX_set1_id(pctx, CRYPTO_SM2_ID, 16), 1);
	assert_true(X509_sign_ctx(x, ctx) > 0);
	EVP_MD_CTX_free(ctx);
}

static X509 *make_cert(const struct spec *s)
{
	X509 *x = X509_new();

	assert_int_equal(X509_set_version(x, s->v1 ? X509_VERSION_1 : X509_VERSION_3), 1);
	set_serial(x, s->serial != NULL ? s->serial : "1000");
	set_subject(x, s);
	assert_int_equal(X509_set_issuer_name(x, s->issuer != NULL ? X509_get_subject_name(s->issuer)
								     : X509_get_subject_name(x)),
			 1);
	assert_int_equal(ASN1_TIME_set_string_X509(X509_getm_notBefore(x), s->not_before), 1);
	assert_int_equal(ASN1_TIME_set_string_X509(X509_getm_notAfter(x), s->not_after), 1);
	assert_int_equal(X509_set_pubkey(x, s->key), 1);
	add_exts(x, s);
	if (s->scts > 0)
		add_scts(x, s->scts);
	sign(x, s->signer != NULL ? s->signer : s->key);
	return x;
}

static json_t *facts_of(X509 *x)
{
	struct aclm_err err = { 0 };
	json_t *f = NULL;

	assert_int_equal(crypto_cert_facts(x, &f, &err), ACLM_OK);
	assert_non_null(f);
	/* Exactly the keys of cert.h, no more. */
	assert_int_equal(json_object_size(f), sizeof(facts_keys) / sizeof(facts_keys[0]));
	for (size_t i = 0; i < sizeof(facts_keys) / sizeof(facts_keys[0]); i++)
		if (json_object_get(f, facts_keys[i]) == NULL)
			fail_msg("facts lack %s", facts_keys[i]);
	return f;
}

/* facts[key] equals the JSON text expected. */
static void expect(const json_t *f, const char *key, const char *expected)
{
	json_error_t je;
	json_t *want = json_loads(expected, JSON_DECODE_ANY, &je);
	char *got;

	if (want == NULL)
		fail_msg("bad expected JSON for %s: %s", key, je.text);
	if (!json_equal(json_object_get(f, key), want)) {
		got = json_dumps(json_object_get(f, key), JSON_ENCODE_ANY);
		fail_msg("%s: got %s, want %s", key, got, expected);
	}
	json_decref(want);
}

static void expect_str(const json_t *f, const char *key, const char *want)
{
	const char *got = json_string_value(json_object_get(f, key));

	if (got == NULL || strcmp(got, want) != 0)
		fail_msg("%s: got %s, want %s", key, got ? got : "(not a string)", want);
}

static void sha256_of_der(X509 *x, char out[65])
{
	unsigned char *der = NULL, md[32];
	int len = i2d_X509(x, &der);

	assert_int_equal(EVP_Digest(der, (size_t)len, md, NULL, EVP_sha256(), NULL), 1);
	aclm_hex_encode(md, 32, out);
	OPENSSL_free(der);
}

static void octets_hex(const ASN1_OCTET_STRING *os, char *out)
{
	assert_non_null(os);
	aclm_hex_encode(ASN1_STRING_get0_data(os), (size_t)ASN1_STRING_length(os), out);
}

static void lower(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* Writes x to a temp dir as PEM and returns its path (in dir). */
static void write_pem(X509 *x, char dir[32], char path[64])
{
	FILE *f;

	strcpy(dir, "/tmp/aclm-test-cert-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, 64, "%s/cert.pem", dir);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(PEM_write_X509(f, x), 1);
	fclose(f);
}

/* fingerprint, serial, subject and issuer as `openssl x509` prints them
 * (RFC 2253 names, UTF-8 unescaped) equal the facts. */
static void compare_with_cli(X509 *x, const json_t *f)
{
	static const struct {
		const char *prefix, *key;
	} fields[] = {
		{ "sha256 Fingerprint=", "fingerprint_sha256" },
		{ "serial=", "serial" },
		{ "subject=", "subject" },
		{ "issuer=", "issuer" },
	};
	char dir[32], path[64], cmd[256], line[8192];
	int seen = 0;
	FILE *p;

	write_pem(x, dir, path);
	snprintf(cmd, sizeof(cmd),
		 "openssl x509 -in %s -noout -fingerprint -sha256 -serial -subject -issuer "
		 "-nameopt RFC2253,-esc_msb",
		 path);
	assert_non_null(p = popen(cmd, "r"));
	while (fgets(line, sizeof(line), p) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			char *v = line + strlen(fields[i].prefix);

			if (strncmp(line, fields[i].prefix, strlen(fields[i].prefix)) != 0)
				continue;
			if (i == 0) {
				char *w = v;

				for (char *r = v; *r != '\0'; r++)
					if (*r != ':')
						*w++ = *r;
				*w = '\0';
			}
			if (i < 2)
				lower(v);
			expect_str(f, fields[i].key, v);
			seen++;
		}
	}
	assert_int_equal(pclose(p), 0);
	assert_int_equal(seen, 4);
	unlink(path);
	rmdir(dir);
}

static X509 *make_ca(EVP_PKEY *key)
{
	static const char *const subject[] = { "O", "Example", "CN", "Test Root CA", NULL };
	static const struct ext exts[] = {
		{ "basicConstraints", "critical,CA:TRUE" },
		{ "keyUsage", "critical,keyCertSign,cRLSign" },
		{ "subjectKeyIdentifier", "hash" },
		{ NULL, NULL },
	};
	struct spec s = { .key = key, .subject = subject, .not_before = "20250101000000Z",
			  .not_after = "20350101000000Z", .exts = exts };

	return make_cert(&s);
}

static void test_facts_rsa_leaf_every_fact(void **state)
{
	static const char *const subject[] = { "C", "US", "O", "Example, Inc.", "CN", "www.example.com",
					       NULL };
	static const struct ext exts[] = {
		{ "basicConstraints", "critical,CA:FALSE" },
		{ "subjectAltName", "DNS:www.example.com,DNS:example.com,IP:192.0.2.1,"
				    "IP:2001:db8:0:0:0:0:0:1,email:hostmaster@example.com,"
				    "URI:https://example.com/id" },
		{ "keyUsage", "critical,digitalSignature,keyEncipherment" },
		{ "extendedKeyUsage", "serverAuth,clientAuth,1.2.3.4.5" },
		{ "tlsfeature", "status_request" },
		{ "authorityInfoAccess", "OCSP;URI:http://ocsp.example.com/,"
					 "caIssuers;URI:http://ca.example.com/ca.crt" },
		{ "crlDistributionPoints", "URI:http://crl.example.com/ca.crl,"
					   "URI:ldap://ldap.example.com/cn=ca" },
		{ "subjectKeyIdentifier", "hash" },
		{ "authorityKeyIdentifier", "keyid:always" },
		{ NULL, NULL },
	};
	EVP_PKEY *ca_key = generate(CRYPTO_KEY_P256), *key = generate(CRYPTO_KEY_RSA2048);
	X509 *ca = make_ca(ca_key);
	/* 90 days, notAfter one second short of notBefore + 90 d. */
	struct spec s = { .key = key, .signer = ca_key, .issuer = ca, .subject = subject,
			  .serial = "0123456789ABCDEF0011", .not_before = "20260101000000Z",
			  .not_after = "20260331235959Z", .exts = exts, .scts = 2 };
	X509 *x = make_cert(&s);
	json_t *f = facts_of(x);
	char hex[65], spki[65], aki[100], ski[100];
	int64_t nb, na;

	sha256_of_der(x, hex);
	expect_str(f, "fingerprint_sha256", hex);
	expect_str(f, "serial", "0123456789abcdef0011");
	expect_str(f, "subject", "CN=www.example.com,O=Example\\, Inc.,C=US");
	expect_str(f, "common_name", "www.example.com");
	expect(f, "sans", "{\"dns\":[\"www.example.com\",\"example.com\"],"
			  "\"ip\":[\"192.0.2.1\",\"2001:db8::1\"],"
			  "\"email\":[\"hostmaster@example.com\"],\"uri\":[\"https://example.com/id\"]}");
	expect_str(f, "issuer", "CN=Test Root CA,O=Example");
	expect_str(f, "not_before", "2026-01-01T00:00:00Z");
	expect_str(f, "not_after", "2026-03-31T23:59:59Z");
	expect(f, "lifetime_days", "90");
	expect(f, "key", "{\"type\":\"rsa\",\"bits\":2048,\"curve\":null}");
	expect_str(f, "signature_algorithm", "ecdsa-with-SHA256");
	expect(f, "is_ca", "false");
	expect(f, "self_signed", "false");
	expect(f, "key_usage", "[\"digitalSignature\",\"keyEncipherment\"]");
	expect(f, "ext_key_usage", "[\"serverAuth\",\"clientAuth\",\"1.2.3.4.5\"]");
	expect(f, "must_staple", "true");
	expect(f, "sct_count", "2");
	expect(f, "ocsp_urls", "[\"http://ocsp.example.com/\"]");
	expect(f, "crl_urls", "[\"http://crl.example.com/ca.crl\",\"ldap://ldap.example.com/cn=ca\"]");
	octets_hex(X509_get0_subject_key_id(ca), aki);
	octets_hex(X509_get0_subject_key_id(x), ski);
	assert_string_not_equal(aki, ski);
	expect_str(f, "aki", aki);
	expect_str(f, "ski", ski);
	assert_int_equal(crypto_key_spki_sha256(key, spki), ACLM_OK);
	expect_str(f, "spki_sha256", spki);

	assert_int_equal(crypto_cert_validity(x, &nb, &na), ACLM_OK);
	assert_int_equal(nb, 1767225600);
	assert_int_equal(na, 1767225600 + 90 * 86400 - 1);
	assert_false(crypto_cert_is_sm2_signed(x));
	compare_with_cli(x, f);
	json_decref(f);
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
}

/* SM2 root: Chinese names stay readable UTF-8, SM2 key facts, self-signed
 * without verifying (the ID would be needed), validity from 1950 (UTCTime)
 * to 9999 (GeneralizedTime). */
static void test_facts_sm2_root_chinese_names_extreme_validity(void **state)
{
	static const char *const subject[] = { "C", "CN", "O", "示例机构", "CN", "测试根证书", NULL };
	static const struct ext exts[] = {
		{ "basicConstraints", "critical,CA:TRUE" },
		{ "keyUsage", "critical,keyCertSign,cRLSign" },
		{ "subjectKeyIdentifier", "hash" },
		{ "authorityKeyIdentifier", "keyid:always" },
		{ NULL, NULL },
	};
	EVP_PKEY *key = generate(CRYPTO_KEY_SM2);
	struct spec s = { .key = key, .subject = subject, .not_before = "19500101000000Z",
			  .not_after = "99991231235959Z", .exts = exts };
	X509 *x = make_cert(&s);
	json_t *f = facts_of(x);
	ASN1_OCTET_STRING *id = ASN1_OCTET_STRING_new();
	int64_t nb, na;

	expect_str(f, "subject", "CN=测试根证书,O=示例机构,C=CN");
	expect_str(f, "issuer", "CN=测试根证书,O=示例机构,C=CN");
	expect_str(f, "common_name", "测试根证书");
	expect(f, "sans", "{\"dns\":[],\"ip\":[],\"email\":[],\"uri\":[]}");
	expect(f, "key", "{\"type\":\"sm2\",\"bits\":256,\"curve\":\"SM2\"}");
	expect_str(f, "signature_algorithm", "SM2-with-SM3");
	expect(f, "is_ca", "true");
	expect(f, "self_signed", "true");
	expect(f, "key_usage", "[\"keyCertSign\",\"cRLSign\"]");
	expect_str(f, "not_before", "1950-01-01T00:00:00Z");
	expect_str(f, "not_after", "9999-12-31T23:59:59Z");
	expect(f, "lifetime_days", "2940202");
	assert_non_null(json_string_value(json_object_get(f, "ski")));
	assert_true(json_equal(json_object_get(f, "aki"), json_object_get(f, "ski")));
	assert_int_equal(crypto_cert_validity(x, &nb, &na), ACLM_OK);
	assert_int_equal(nb, -631152000);
	assert_int_equal(na, 253402300799);
	assert_true(crypto_cert_is_sm2_signed(x));
	/* The helper made a genuine SM2 signature with the default ID. */
	ASN1_OCTET_STRING_set(id, (const unsigned char *)CRYPTO_SM2_ID, 16);
	X509_set0_distinguishing_id(x, id);
	assert_int_equal(X509_verify(x, key), 1);
	compare_with_cli(x, f);
	json_decref(f);
	X509_free(x);
	EVP_PKEY_free(key);
}

/* A v1 certificate has no extensions: every extension fact is empty or null. */
static void test_facts_v1_without_extensions_are_empty(void **state)
{
	static const char *const subject[] = { "O", "No CN Org", NULL };
	EVP_PKEY *key = generate(CRYPTO_KEY_P384);
	struct spec s = { .key = key, .subject = subject, .v1 = true,
			  .not_before = "20260101000000Z", .not_after = "20270101000000Z" };
	X509 *x = make_cert(&s);
	json_t *f = facts_of(x);

	expect(f, "common_name", "null");
	expect_str(f, "subject", "O=No CN Org");
	expect(f, "sans", "{\"dns\":[],\"ip\":[],\"email\":[],\"uri\":[]}");
	expect(f, "key", "{\"type\":\"ec\",\"bits\":384,\"curve\":\"P-384\"}");
	expect_str(f, "signature_algorithm", "ecdsa-with-SHA384");
	expect(f, "is_ca", "false");
	expect(f, "self_signed", "true");
	expect(f, "key_usage", "[]");
	expect(f, "ext_key_usage", "[]");
	expect(f, "must_staple", "false");
	expect(f, "sct_count", "0");
	expect(f, "ocsp_urls", "[]");
	expect(f, "crl_urls", "[]");
	expect(f, "aki", "null");
	expect(f, "ski", "null");
	expect(f, "lifetime_days", "365");
	compare_with_cli(x, f);
	json_decref(f);
	X509_free(x);
	EVP_PKEY_free(key);
}

/* Serials print as `openssl x509 -serial` does: even digit count, "-" kept. */
static void test_facts_serial_forms_match_openssl(void **state)
{
	static const char *const subject[] = { "CN", "serial.example", NULL };
	static const struct {
		const char *bn, *want;
	} serials[] = {
		{ "-5", "-05" },
		{ "0", "00" },
		{ "80", "80" },
		{ "ABC", "0abc" },
		{ "-80FF", "-80ff" },
		{ "80112233445566778899AABBCCDDEEFF00112233", "80112233445566778899aabbccddeeff00112233" },
	};
	EVP_PKEY *key = generate(CRYPTO_KEY_P256);

	for (size_t i = 0; i < sizeof(serials) / sizeof(serials[0]); i++) {
		struct spec s = { .key = key, .subject = subject, .serial = serials[i].bn,
				  .not_before = "20260101000000Z", .not_after = "20260201000000Z" };
		X509 *x = make_cert(&s);
		json_t *f = facts_of(x);

		expect_str(f, "serial", serials[i].want);
		compare_with_cli(x, f);
		json_decref(f);
		X509_free(x);
	}
	EVP_PKEY_free(key);
}

/* The last CN is the common name. A value that is no string (OpenSSL 3.0
 * refuses to decode names with invalid Unicode at all) gives a null common
 * name and a hex-dumped subject; T.61 bytes read as Latin-1 (RFC 4514 §2.4). */
static void test_facts_last_cn_wins_and_odd_values_are_null(void **state)
{
	static const char *const two_cns[] = { "CN", "first.example", "CN", "second.example", NULL };
	static const char *const bits[] = { "CN", "\x01\x02", NULL };
	static const char *const t61[] = { "CN", "caf\xe9", NULL };
	EVP_PKEY *key = generate(CRYPTO_KEY_P256);
	struct spec s = { .key = key, .subject = two_cns, .not_before = "20260101000000Z",
			  .not_after = "20260201000000Z" };
	X509 *x = make_cert(&s);
	json_t *f = facts_of(x);

	expect_str(f, "common_name", "second.example");
	expect_str(f, "subject", "CN=second.example,CN=first.example");
	json_decref(f);
	X509_free(x);

	s.subject = bits;
	s.raw_type = V_ASN1_BIT_STRING;
	x = make_cert(&s);
	f = facts_of(x);
	expect(f, "common_name", "null");
	expect_str(f, "subject", "CN=#0303010102");
	json_decref(f);
	X509_free(x);

	s.subject = t61;
	s.raw_type = V_ASN1_T61STRING;
	x = make_cert(&s);
	f = facts_of(x);
	expect_str(f, "common_name", "café");
	expect_str(f, "subject", "CN=café");
	compare_with_cli(x, f);
	json_decref(f);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void test_facts_huge_subject(void **state)
{
	enum { N = 400 };
	const char **subject = calloc(2 * N + 1, sizeof(*subject));
	char value[65];
	EVP_PKEY *key = generate(CRYPTO_KEY_P256);
	X509 *x;
	json_t *f;

	memset(value, 'x', 64);
	value[64] = '\0';
	for (int i = 0; i < N; i++) {
		subject[2 * i] = "OU";
		subject[2 * i + 1] = value;
	}
	struct spec s = { .key = key, .subject = subject, .not_before = "20260101000000Z",
			  .not_after = "20260201000000Z" };
	x = make_cert(&s);
	f = facts_of(x);
	assert_true(strlen(json_string_value(json_object_get(f, "subject"))) > (size_t)N * 67);
	expect(f, "common_name", "null");
	json_decref(f);
	X509_free(x);
	EVP_PKEY_free(key);
	free(subject);
}

static void replace_all(unsigned char *der, size_t len, const unsigned char *from,
			const unsigned char *to, size_t n)
{
	int hits = 0;

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(der + i, from, n) == 0) {
			memcpy(der + i, to, n);
			hits++;
		}
	assert_true(hits > 0);
}

/* Key and signature algorithms OpenSSL does not know: facts still come out,
 * with "unknown" key and the dotted signature OID. */
static void test_facts_unknown_algorithms_do_not_crash(void **state)
{
	static const unsigned char ec_pub[] = { 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
	static const unsigned char odd_pub[] = { 0x06, 0x07, 0x2a, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08 };
	static const unsigned char ecdsa256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce,
						  0x3d, 0x04, 0x03, 0x02 };
	static const unsigned char odd_sig[] = { 0x06, 0x08, 0x2a, 0x03, 0x04, 0x05,
						 0x06, 0x07, 0x08, 0x09 };
	static const char *const subject[] = { "CN", "odd.example", NULL };
	struct aclm_err err = { 0 };
	EVP_PKEY *key = generate(CRYPTO_KEY_P256);
	struct spec s = { .key = key, .subject = subject, .not_before = "20260101000000Z",
			  .not_after = "20260201000000Z" };
	X509 *x = make_cert(&s), *odd = NULL;
	unsigned char *der = NULL;
	size_t len = 0;
	json_t *f;
	char hex[65];

	assert_int_equal(crypto_cert_to_der(x, &der, &len, &err), ACLM_OK);
	replace_all(der, len, ec_pub, odd_pub, sizeof(ec_pub));
	replace_all(der, len, ecdsa256, odd_sig, sizeof(ecdsa256));
	assert_int_equal(crypto_cert_from_der(der, len, &odd, &err), ACLM_OK);
	f = facts_of(odd);
	expect(f, "key", "{\"type\":\"unknown\",\"bits\":null,\"curve\":null}");
	expect_str(f, "signature_algorithm", "1.2.3.4.5.6.7.8.9");
	expect(f, "self_signed", "false");
	expect_str(f, "common_name", "odd.example");
	assert_int_equal(strlen(json_string_value(json_object_get(f, "spki_sha256"))), 64);
	sha256_of_der(odd, hex);
	expect_str(f, "fingerprint_sha256", hex);
	json_decref(f);
	OPENSSL_free(der);
	X509_free(odd);
	X509_free(x);
	EVP_PKEY_free(key);
}

/* A certificate made by `openssl req -x509`: the facts equal what
 * `openssl x509` prints. */
static void test_facts_cli_certificate_matches_openssl(void **state)
{
	char dir[] = "/tmp/aclm-test-cli-XXXXXX", cmd[1024], path[64];
	X509 *x = NULL;
	json_t *f;
	FILE *fp;

	assert_non_null(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		 "-keyout key.pem -out cert.pem -days 30 -utf8 "
		 "-subj '/C=CN/O=示例 Ltd/CN=cli.example.com' "
		 "-addext 'subjectAltName=DNS:cli.example.com,IP:::1' >/dev/null 2>&1",
		 dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/cert.pem", dir);
	assert_non_null(fp = fopen(path, "r"));
	assert_non_null(x = PEM_read_X509(fp, NULL, NULL, NULL));
	fclose(fp);
	f = facts_of(x);
	expect_str(f, "subject", "CN=cli.example.com,O=示例 Ltd,C=CN");
	expect_str(f, "common_name", "cli.example.com");
	expect(f, "sans", "{\"dns\":[\"cli.example.com\"],\"ip\":[\"::1\"],\"email\":[],\"uri\":[]}");
	expect(f, "key", "{\"type\":\"ec\",\"bits\":256,\"curve\":\"P-256\"}");
	expect(f, "lifetime_days", "30");
	expect(f, "self_signed", "true");
	compare_with_cli(x, f);
	json_decref(f);
	X509_free(x);
	unlink(path);
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	unlink(path);
	rmdir(dir);
}

static void test_cert_der_pem_round_trip(void **state)
{
	struct aclm_err err = { 0 };
	struct aclm_buf pem;
	EVP_PKEY *key = generate(CRYPTO_KEY_P256);
	X509 *x = make_ca(key), *back = NULL;
	unsigned char *der = NULL, *longer;
	size_t len = 0;
	char a[65], b[65];

	assert_int_equal(crypto_cert_to_der(x, &der, &len, &err), ACLM_OK);
	assert_int_equal(crypto_cert_from_der(der, len, &back, &err), ACLM_OK);
	assert_int_equal(crypto_cert_fingerprint(x, a), ACLM_OK);
	assert_int_equal(crypto_cert_fingerprint(back, b), ACLM_OK);
	assert_string_equal(a, b);
	X509_free(back);
	back = NULL;
	longer = calloc(1, len + 1);
	memcpy(longer, der, len);
	assert_int_equal(crypto_cert_from_der(longer, len + 1, &back, &err), ACLM_ERR_PARSE);
	assert_int_equal(crypto_cert_from_der(der, len - 1, &back, &err), ACLM_ERR_PARSE);
	assert_null(back);
	aclm_buf_init(&pem, 1 << 16);
	assert_int_equal(crypto_cert_to_pem(x, &pem, &err), ACLM_OK);
	assert_non_null(strstr((char *)pem.data, "-----BEGIN CERTIFICATE-----"));
	aclm_buf_free(&pem);
	free(longer);
	OPENSSL_free(der);
	X509_free(x);
	EVP_PKEY_free(key);
}

static int pkcs12_info_count(const unsigned char *p12, size_t len, const char *needle)
{
	char dir[32], path[64], cmd[256], line[512];
	int count = 0;
	FILE *f;

	strcpy(dir, "/tmp/aclm-test-p12-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x.p12", dir);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(p12, 1, len, f), len);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "openssl pkcs12 -in %s -info -noout -passin pass:pw 2>&1", path);
	assert_non_null(f = popen(cmd, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		for (char *p = line; (p = strstr(p, needle)) != NULL; p += strlen(needle))
			count++;
	pclose(f);
	unlink(path);
	rmdir(dir);
	return count;
}

/* AES-256-CBC for both the key bag and the certificates, HMAC-SHA-256. */
static void test_pkcs12_aes256_and_sha256_mac(void **state)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *ca_key = generate(CRYPTO_KEY_P256), *key = generate(CRYPTO_KEY_P256);
	EVP_PKEY *got_key = NULL;
	X509 *ca = make_ca(ca_key), *got_cert = NULL;
	STACK_OF(X509) *chain = sk_X509_new_null(), *got_ca = NULL;
	unsigned char *p12der = NULL;
	const unsigned char *p;
	const X509_ALGOR *macalg = NULL;
	const ASN1_OBJECT *macoid = NULL;
	size_t len = 0;
	PKCS12 *p12;

	sk_X509_push(chain, ca);
	assert_int_equal(crypto_pkcs12_create(ca, chain, ca_key, "pw", &p12der, &len, &err), ACLM_OK);
	p = p12der;
	assert_non_null(p12 = d2i_PKCS12(NULL, &p, (long)len));
	assert_int_equal(PKCS12_verify_mac(p12, "wrong", -1), 0);
	assert_int_equal(PKCS12_verify_mac(p12, "pw", -1), 1);
	PKCS12_get0_mac(NULL, &macalg, NULL, NULL, p12);
	X509_ALGOR_get0(&macoid, NULL, NULL, macalg);
	assert_int_equal(OBJ_obj2nid(macoid), NID_sha256);
	assert_int_equal(PKCS12_parse(p12, "pw", &got_key, &got_cert, &got_ca), 1);
	assert_true(crypto_key_public_equal(ca_key, got_key));
	assert_int_equal(X509_cmp(ca, got_cert), 0);
	assert_int_equal(sk_X509_num(got_ca), 1);
	assert_int_equal(pkcs12_info_count(p12der, len, "PBES2, PBKDF2, AES-256-CBC"), 2);
	assert_int_equal(pkcs12_info_count(p12der, len, "MAC: sha256"), 1);
	PKCS12_free(p12);
	OPENSSL_free(p12der);
	assert_int_equal(crypto_pkcs12_create(ca, NULL, key, NULL, &p12der, &len, &err),
			 ACLM_ERR_INVALID);
	assert_int_equal(crypto_pkcs12_create(ca, NULL, ca_key, "", &p12der, &len, &err), ACLM_OK);
	OPENSSL_free(p12der);
	EVP_PKEY_free(got_key);
	X509_free(got_cert);
	sk_X509_pop_free(got_ca, X509_free);
	sk_X509_free(chain);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_facts_rsa_leaf_every_fact),
		cmocka_unit_test(test_facts_sm2_root_chinese_names_extreme_validity),
		cmocka_unit_test(test_facts_v1_without_extensions_are_empty),
		cmocka_unit_test(test_facts_serial_forms_match_openssl),
		cmocka_unit_test(test_facts_last_cn_wins_and_odd_values_are_null),
		cmocka_unit_test(test_facts_huge_subject),
		cmocka_unit_test(test_facts_unknown_algorithms_do_not_crash),
		cmocka_unit_test(test_facts_cli_certificate_matches_openssl),
		cmocka_unit_test(test_cert_der_pem_round_trip),
		cmocka_unit_test(test_pkcs12_aes256_and_sha256_mac),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
