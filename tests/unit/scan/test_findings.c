/* scan/scan_findings.c: every finding id fires when it should and stays
 * quiet otherwise, judged on facts of real certificates made here with
 * OpenSSL (through crypto_cert_facts, as the engine passes them); the
 * 1/3-lifetime rule, the CA/B Forum validity dates, RFC 6125 matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "crypto/crypto.h"
#include "scan/scan.h"

#define DAY INT64_C(86400)
#define T_2026_03_15 INT64_C(1773532800)
#define T_2026_10_01 INT64_C(1790812800)
#define T_2027_03_15 INT64_C(1805068800)
#define T_2029_03_15 INT64_C(1868227200)
#define NOW T_2026_10_01

static EVP_PKEY *ca_key, *p256, *rsa1024, *rsa2048, *p224;
static X509 *ca;

/* A certificate of key for CN with SANs ("DNS:a,IP:b" or NULL), signed by
 * signer/issuer (NULL: self-signed) with md. */
static X509 *make(EVP_PKEY *key, const char *cn, const char *sans, int64_t nb, int64_t na,
		  EVP_PKEY *signer, X509 *issuer, const EVP_MD *md, bool is_ca)
{
	X509 *x = X509_new();
	X509V3_CTX ctx;
	const char *ext_names[3] = { NULL, NULL, NULL }, *ext_values[3] = { NULL, NULL, NULL };
	int n = 0;

	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 4242), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
						    (const unsigned char *)cn, -1, -1, 0),
			 1);
	assert_int_equal(X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer)
								: X509_get_subject_name(x)),
			 1);
	assert_non_null(ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb));
	assert_non_null(ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na));
	assert_int_equal(X509_set_pubkey(x, key), 1);
	if (is_ca) {
		ext_names[n] = "basicConstraints";
		ext_values[n++] = "critical,CA:TRUE";
	}
	if (sans != NULL) {
		ext_names[n] = "subjectAltName";
		ext_values[n++] = sans;
	}
	ext_names[n] = "subjectKeyIdentifier";
	ext_values[n++] = "hash";
	X509V3_set_ctx(&ctx, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
	for (int i = 0; i < n; i++) {
		X509_EXTENSION *e = X509V3_EXT_nconf(NULL, &ctx, ext_names[i], ext_values[i]);

		assert_non_null(e);
		assert_int_equal(X509_add_ext(x, e, -1), 1);
		X509_EXTENSION_free(e);
	}
	assert_true(X509_sign(x, signer != NULL ? signer : key, md) > 0);
	return x;
}

static json_t *facts(X509 *x)
{
	struct aclm_err err = { 0 };
	json_t *f = NULL;

	assert_int_equal(crypto_cert_facts(x, &f, &err), ACLM_OK);
	X509_free(x);
	return f;
}

/* A P-256 leaf issued by the test CA with SHA-256. */
static json_t *leaf(const char *sans, int64_t nb, int64_t na)
{
	return facts(make(p256, "www.example.test", sans, nb, na, ca_key, ca, EVP_sha256(), false));
}

static json_t *ca_facts(void)
{
	return facts(X509_dup(ca));
}

/* A chain (leaf, CA) and an observation where everything is right. */
static struct scan_observed good(json_t *leaf_facts)
{
	struct scan_observed o = {
		.host = "www.example.test",
		.chain = json_array(),
		.chain_trusted = true,
		.chain_complete = true,
		.chain_ordered = true,
		.tls12 = true,
		.tls13 = true,
		.versions_probed = true,
		.pqc_groups = json_pack("[s]", "X25519MLKEM768"),
		.expiring_days = 30,
	};

	json_array_append_new(o.chain, leaf_facts);
	json_array_append_new(o.chain, ca_facts());
	return o;
}

static void done(struct scan_observed *o)
{
	json_decref(o->chain);
	json_decref(o->pqc_groups);
}

static json_t *run(const struct scan_observed *o, int64_t now)
{
	struct aclm_err err = { 0 };
	json_t *out = json_array();

	assert_int_equal(scan_findings(o, now, out, &err), ACLM_OK);
	return out;
}

/* The finding with id in out, or NULL. */
static const json_t *find(const json_t *out, const char *id)
{
	const json_t *f;
	size_t i;

	json_array_foreach(out, i, f)
		if (strcmp(json_string_value(json_object_get(f, "id")), id) == 0)
			return f;
	return NULL;
}

/* out has id exactly count times (count 1: with severity sev and a message
 * containing msg when given). */
static void expect(const json_t *out, const char *id, size_t count, const char *sev,
		   const char *msg)
{
	const json_t *f;
	size_t i, n = 0;

	json_array_foreach(out, i, f)
		n += strcmp(json_string_value(json_object_get(f, "id")), id) == 0;
	if (n != count) {
		char *dump = json_dumps(out, 0);

		fail_msg("%s: %zu findings, want %zu; got %s", id, n, count, dump);
	}
	if (count == 0)
		return;
	f = find(out, id);
	if (sev != NULL)
		assert_string_equal(json_string_value(json_object_get(f, "severity")), sev);
	if (msg != NULL && strstr(json_string_value(json_object_get(f, "message")), msg) == NULL)
		fail_msg("%s: message \"%s\" lacks \"%s\"", id,
			 json_string_value(json_object_get(f, "message")), msg);
}

/* One observation judged at now: id fires count times. */
static void check(struct scan_observed *o, int64_t now, const char *id, size_t count,
		  const char *sev, const char *msg)
{
	json_t *out = run(o, now);

	expect(out, id, count, sev, msg);
	json_decref(out);
}

static int setup(void **state)
{
	struct aclm_err err = { 0 };

	(void)state;
	assert_int_equal(crypto_init(&err), ACLM_OK);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_P256, &ca_key, &err), ACLM_OK);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_P256, &p256, &err), ACLM_OK);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_RSA2048, &rsa2048, &err), ACLM_OK);
	assert_non_null(rsa1024 = EVP_RSA_gen(1024));
	assert_non_null(p224 = EVP_EC_gen("P-224"));
	ca = make(ca_key, "Test Root", NULL, NOW - 3650 * DAY, NOW + 3650 * DAY, NULL, NULL,
		  EVP_sha256(), true);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(p256);
	EVP_PKEY_free(rsa1024);
	EVP_PKEY_free(rsa2048);
	EVP_PKEY_free(p224);
	return 0;
}

static void test_clean_endpoint_has_no_findings(void **state)
{
	struct scan_observed o = good(leaf("DNS:www.example.test", NOW - 10 * DAY, NOW + 80 * DAY));
	json_t *out = run(&o, NOW);

	(void)state;
	if (json_array_size(out) != 0) {
		char *dump = json_dumps(out, 0);

		fail_msg("findings on a clean endpoint: %s", dump);
	}
	json_decref(out);
	done(&o);
}

static void test_expired(void **state)
{
	struct scan_observed o = good(leaf("DNS:www.example.test", T_2026_10_01 - 90 * DAY, T_2026_10_01));

	(void)state;
	check(&o, T_2026_10_01 + 58 * DAY + 3600, "expired", 1, "critical",
	      "expired 2026-10-01T00:00:00Z (58 days ago)");
	/* notAfter is inclusive (RFC 5280 §4.1.2.5). */
	check(&o, T_2026_10_01, "expired", 0, NULL, NULL);
	check(&o, T_2026_10_01 + 1, "expired", 1, "critical", NULL);
	/* An expired certificate is not also "expiring". */
	check(&o, T_2026_10_01 + 1, "expiring", 0, NULL, NULL);
	done(&o);
}

static void test_not_yet_valid(void **state)
{
	struct scan_observed o = good(leaf("DNS:www.example.test", NOW + 2 * DAY, NOW + 92 * DAY));

	(void)state;
	check(&o, NOW, "not_yet_valid", 1, "high", "in 2 days");
	check(&o, NOW + 2 * DAY, "not_yet_valid", 0, NULL, NULL);
	done(&o);
}

/* The threshold is min(expiring_days, lifetime / 3). */
static void test_expiring_one_third_rule(void **state)
{
	struct scan_observed o90 = good(leaf("DNS:www.example.test", NOW - 70 * DAY, NOW + 20 * DAY));
	struct scan_observed o6 = good(leaf("DNS:www.example.test", NOW - 2 * DAY, NOW + 4 * DAY));
	struct scan_observed o45 = good(leaf("DNS:www.example.test", NOW - 30 * DAY, NOW + 15 * DAY));

	(void)state;
	/* 90-day certificate, 20 days left: expiring (medium). */
	check(&o90, NOW, "expiring", 1, "medium", "(in 20 days)");
	/* ... 40 days left: not yet. */
	check(&o90, NOW - 20 * DAY, "expiring", 0, NULL, NULL);
	/* ... 5 days left: high. */
	check(&o90, NOW + 15 * DAY, "expiring", 1, "high", "(in 5 days)");
	/* A threshold of 10 days: 20 left is fine. */
	o90.expiring_days = 10;
	check(&o90, NOW, "expiring", 0, NULL, NULL);
	o90.expiring_days = 0; /* unset: the default 30 */
	check(&o90, NOW, "expiring", 1, NULL, NULL);
	/* 6-day certificate with 4 days left: on schedule (window 2 days). */
	check(&o6, NOW, "expiring", 0, NULL, NULL);
	/* ... with 1 day left: expiring, high. */
	check(&o6, NOW + 3 * DAY, "expiring", 1, "high", NULL);
	/* 45-day certificate: window 15 days. */
	check(&o45, NOW - 5 * DAY, "expiring", 0, NULL, NULL); /* 20 left */
	check(&o45, NOW + 1, "expiring", 1, NULL, NULL);       /* just under 15 left */
	done(&o90);
	done(&o6);
	done(&o45);
}

static void test_hostname_mismatch(void **state)
{
	struct scan_observed o = good(leaf("DNS:www.example.test,DNS:example.test,IP:192.0.2.10",
					   NOW - DAY, NOW + 89 * DAY));

	(void)state;
	o.host = "other.test";
	check(&o, NOW, "hostname_mismatch", 1, "high",
	      "\"other.test\" is not among the names (www.example.test, example.test, 192.0.2.10)");
	o.host = "EXAMPLE.test";
	check(&o, NOW, "hostname_mismatch", 0, NULL, NULL);
	o.host = "192.0.2.10";
	check(&o, NOW, "hostname_mismatch", 0, NULL, NULL);
	o.host = "192.0.2.11";
	check(&o, NOW, "hostname_mismatch", 1, NULL, NULL);
	o.host = NULL; /* an address target without --sni: nothing to compare */
	check(&o, NOW, "hostname_mismatch", 0, NULL, NULL);
	done(&o);
}

/* A self-signed leaf says self_signed, not also untrusted_chain, and no
 * CA/B validity rule applies to it. */
static void test_self_signed(void **state)
{
	struct scan_observed o = good(facts(make(p256, "www.example.test", "DNS:www.example.test",
						 NOW - DAY, NOW + 5 * 365 * DAY, NULL, NULL, EVP_sha256(),
						 false)));

	(void)state;
	json_array_remove(o.chain, 1);
	o.chain_trusted = false;
	check(&o, NOW, "self_signed", 1, "medium", "CN=www.example.test");
	check(&o, NOW, "untrusted_chain", 0, NULL, NULL);
	check(&o, NOW, "long_validity", 0, NULL, NULL);
	done(&o);
}

static void test_untrusted_incomplete_order(void **state)
{
	struct scan_observed o = good(leaf("DNS:www.example.test", NOW - DAY, NOW + 89 * DAY));

	(void)state;
	check(&o, NOW, "self_signed", 0, NULL, NULL);
	o.chain_trusted = false;
	check(&o, NOW, "untrusted_chain", 1, "high", NULL);
	o.chain_trusted = true;
	o.chain_complete = false;
	check(&o, NOW, "incomplete_chain", 1, "medium", NULL);
	check(&o, NOW, "untrusted_chain", 0, NULL, NULL);
	o.chain_complete = true;
	o.chain_ordered = false;
	check(&o, NOW, "chain_order", 1, "low", NULL);
	check(&o, NOW, "incomplete_chain", 0, NULL, NULL);
	done(&o);
}

static void test_weak_key_on_any_certificate(void **state)
{
	struct scan_observed o =
		good(facts(make(rsa1024, "www.example.test", "DNS:www.example.test", NOW - DAY,
				NOW + 89 * DAY, ca_key, ca, EVP_sha256(), false)));
	struct scan_observed o2 =
		good(facts(make(rsa2048, "www.example.test", "DNS:www.example.test", NOW - DAY,
				NOW + 89 * DAY, ca_key, ca, EVP_sha256(), false)));
	X509 *mid = make(p224, "Weak Intermediate", NULL, NOW - DAY, NOW + 900 * DAY, ca_key, ca,
			 EVP_sha256(), true);

	(void)state;
	check(&o, NOW, "weak_key", 1, "high", "RSA 1024-bit key on the leaf");
	check(&o2, NOW, "weak_key", 0, NULL, NULL);
	/* A P-224 intermediate, second in the chain. */
	json_array_insert_new(o2.chain, 1, facts(mid));
	check(&o2, NOW, "weak_key", 1, "high", "EC 224-bit key on certificate 2 (CN=Weak Intermediate)");
	done(&o);
	done(&o2);
}

static void test_weak_signature_not_on_roots(void **state)
{
	struct scan_observed o =
		good(facts(make(p256, "www.example.test", "DNS:www.example.test", NOW - DAY,
				NOW + 89 * DAY, ca_key, ca, EVP_sha1(), false)));
	struct scan_observed o2 = good(leaf("DNS:www.example.test", NOW - DAY, NOW + 89 * DAY));
	X509 *md5_leaf = make(rsa2048, "www.example.test", "DNS:www.example.test", NOW - DAY,
			      NOW + 89 * DAY, rsa2048, ca, EVP_md5(), false);
	struct scan_observed o3 = good(facts(md5_leaf));

	(void)state;
	check(&o, NOW, "weak_signature", 1, "high", "ecdsa-with-SHA1 signature on the leaf");
	check(&o2, NOW, "weak_signature", 0, NULL, NULL);
	check(&o3, NOW, "weak_signature", 1, "high", "md5WithRSAEncryption");
	/* A SHA-1 self-signed root in the chain: its signature is never checked. */
	json_array_set_new(o2.chain, 1, facts(make(ca_key, "Test Root", NULL, NOW - DAY,
						     NOW + 3650 * DAY, NULL, NULL, EVP_sha1(), true)));
	check(&o2, NOW, "weak_signature", 0, NULL, NULL);
	done(&o);
	done(&o2);
	done(&o3);
}

/* lifetime (days) issued at nb: long_validity fires or not. */
static void check_validity(int64_t nb, int64_t days, size_t fires)
{
	struct scan_observed o = good(leaf("DNS:www.example.test", nb, nb + days * DAY));

	check(&o, nb, "long_validity", fires, fires ? "low" : NULL, NULL);
	done(&o);
}

static void test_long_validity_boundaries(void **state)
{
	(void)state;
	check_validity(T_2026_03_15 - DAY, 398, 0);
	check_validity(T_2026_03_15 - DAY, 399, 1);
	check_validity(T_2026_03_15 - 1, 398, 0);   /* last second of the 398-day era */
	check_validity(T_2026_03_15, 200, 0);
	check_validity(T_2026_03_15, 201, 1);
	check_validity(T_2027_03_15 - 1, 200, 0);
	check_validity(T_2027_03_15, 100, 0);
	check_validity(T_2027_03_15, 101, 1);
	check_validity(T_2029_03_15 - 1, 100, 0);
	check_validity(T_2029_03_15, 47, 0);
	check_validity(T_2029_03_15, 48, 1);
	{
		struct scan_observed o = good(leaf("DNS:www.example.test", T_2026_03_15, T_2026_03_15 + 201 * DAY));

		check(&o, T_2026_03_15, "long_validity", 1, "low",
		      "valid for 201 days from 2026-03-15T00:00:00Z, more than the 200 allowed");
		done(&o);
	}
}

static void test_tls_versions_and_pqc(void **state)
{
	struct scan_observed o = good(leaf("DNS:www.example.test", NOW - DAY, NOW + 89 * DAY));

	(void)state;
	o.tls10 = true;
	check(&o, NOW, "deprecated_tls", 1, "medium", "accepts TLS 1.0");
	o.tls11 = true;
	check(&o, NOW, "deprecated_tls", 1, "medium", "accepts TLS 1.0 and TLS 1.1");
	o.tls10 = false;
	check(&o, NOW, "deprecated_tls", 1, "medium", "accepts TLS 1.1");
	o.versions_probed = false; /* not probed: nothing said */
	check(&o, NOW, "deprecated_tls", 0, NULL, NULL);
	o.versions_probed = true;
	o.tls11 = false;
	check(&o, NOW, "deprecated_tls", 0, NULL, NULL);
	check(&o, NOW, "no_tls13", 0, NULL, NULL);
	check(&o, NOW, "no_pqc", 0, NULL, NULL);
	json_array_clear(o.pqc_groups);
	check(&o, NOW, "no_pqc", 1, "info", NULL);
	o.tls13 = false;
	check(&o, NOW, "no_tls13", 1, "low", NULL);
	check(&o, NOW, "no_pqc", 0, NULL, NULL);
	o.versions_probed = false;
	check(&o, NOW, "no_tls13", 0, NULL, NULL);
	/* PQC not probed (NULL): no verdict. */
	o.tls13 = true;
	json_decref(o.pqc_groups);
	o.pqc_groups = NULL;
	check(&o, NOW, "no_pqc", 0, NULL, NULL);
	done(&o);
}

static void test_wildcard(void **state)
{
	struct scan_observed o = good(leaf("DNS:*.example.test,DNS:example.test", NOW - DAY, NOW + 89 * DAY));

	(void)state;
	check(&o, NOW, "wildcard", 1, "info", "*.example.test");
	check(&o, NOW, "hostname_mismatch", 0, NULL, NULL);
	done(&o);
}

static void test_name_matching_table(void **state)
{
	json_t *f = leaf("DNS:*.example.test,DNS:Mixed.Example.ORG,DNS:*.com,DNS:f*.partial.test,"
			 "DNS:192.0.2.99,DNS:*.,IP:2001:db8::1,IP:192.0.2.10",
			 NOW - DAY, NOW + 89 * DAY);
	json_t *nosan = facts(make(p256, "cn.example.test", NULL, NOW - DAY, NOW + 89 * DAY, ca_key,
				   ca, EVP_sha256(), false));
	static const struct {
		const char *name;
		bool match;
	} cases[] = {
		{ "a.example.test", true },       { "A.EXAMPLE.TEST", true },
		{ "a.example.test.", true },      { "example.test", false },
		{ "a.b.example.test", false },    { ".example.test", false },
		{ "mixed.example.org", true },    { "MIXED.example.org.", true },
		{ "x.com", false },               { "foo.partial.test", false },
		{ "f.partial.test", false },      { "2001:db8::1", true },
		{ "2001:DB8:0:0:0:0:0:1", true }, { "2001:db8::2", false },
		{ "192.0.2.10", true },           { "192.0.2.99", false },
		{ "::ffff:192.0.2.10", false },   { "", false },
		{ "x.", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (scan_name_matches(f, cases[i].name) != cases[i].match)
			fail_msg("\"%s\": want %s", cases[i].name, cases[i].match ? "match" : "no match");
	assert_false(scan_name_matches(f, NULL));
	/* No fallback to the subject CN. */
	assert_false(scan_name_matches(nosan, "cn.example.test"));
	json_decref(f);
	json_decref(nosan);
}

static void test_severity_names(void **state)
{
	static const char *const names[] = { "info", "low", "medium", "high", "critical" };

	(void)state;
	for (int i = 0; i < 5; i++) {
		assert_string_equal(scan_severity_name((enum scan_severity)i), names[i]);
		assert_int_equal(scan_severity_parse(names[i]), i);
	}
	assert_int_equal(scan_severity_parse("HIGH"), SCAN_HIGH);
	assert_int_equal(scan_severity_parse("severe"), -1);
	assert_int_equal(scan_severity_parse(NULL), -1);
}

/* No chain (the handshake failed): only the protocol findings. */
static void test_empty_chain(void **state)
{
	struct scan_observed o = { .chain = json_array(), .versions_probed = true, .tls12 = true };
	json_t *out = run(&o, NOW);

	(void)state;
	assert_int_equal(json_array_size(out), 1);
	expect(out, "no_tls13", 1, "low", NULL);
	json_decref(out);
	json_decref(o.chain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_endpoint_has_no_findings),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_not_yet_valid),
		cmocka_unit_test(test_expiring_one_third_rule),
		cmocka_unit_test(test_hostname_mismatch),
		cmocka_unit_test(test_self_signed),
		cmocka_unit_test(test_untrusted_incomplete_order),
		cmocka_unit_test(test_weak_key_on_any_certificate),
		cmocka_unit_test(test_weak_signature_not_on_roots),
		cmocka_unit_test(test_long_validity_boundaries),
		cmocka_unit_test(test_tls_versions_and_pqc),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_name_matching_table),
		cmocka_unit_test(test_severity_names),
		cmocka_unit_test(test_empty_chain),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
