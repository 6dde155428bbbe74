/* client/: the renewal schedule without ARI, identifier normalisation and
 * lineage names, revocation reason codes, account key types and their JWS
 * algorithms. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/client.h"
#include "crypto/crypto.h"

#define DAY 86400LL

/* --account-key-type: the algorithm a type is announced with is the one
 * the JWS code signs a key of that type with (acme_jws_alg); SM2 has none. */
static void test_account_key_types_and_their_algorithms(void **state)
{
	static const struct {
		enum crypto_key_type t;
		const char *alg;
	} want[] = {
		{ CRYPTO_KEY_P256, "ES256" },	 { CRYPTO_KEY_P384, "ES384" },
		{ CRYPTO_KEY_RSA2048, "RS256" }, { CRYPTO_KEY_RSA3072, "RS256" },
		{ CRYPTO_KEY_RSA4096, "RS256" }, { CRYPTO_KEY_ED25519, "EdDSA" },
	};
	struct aclm_err err = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		EVP_PKEY *key = NULL;

		assert_string_equal(client_account_key_alg(want[i].t), want[i].alg);
		/* RSA 4096 generation is slow and adds nothing over 2048 here. */
		if (want[i].t == CRYPTO_KEY_RSA4096 || want[i].t == CRYPTO_KEY_RSA3072)
			continue;
		assert_int_equal(crypto_key_generate(want[i].t, &key, &err), ACLM_OK);
		assert_string_equal(acme_jws_alg(key), want[i].alg);
		EVP_PKEY_free(key);
	}
	assert_null(client_account_key_alg(CRYPTO_KEY_SM2));
	assert_null(client_account_key_alg(CRYPTO_KEY_TYPE_COUNT));
}

static void test_renewal_at_one_third_left(void **state)
{
	int64_t nb = 1000000, na = nb + 90 * DAY, due;

	(void)state;
	/* 90 days: due with 30 days left, i.e. 60 days after notBefore. */
	assert_false(client_renewal_due(nb, na, nb + 59 * DAY, &due));
	assert_int_equal(due, nb + 60 * DAY);
	assert_true(client_renewal_due(nb, na, nb + 60 * DAY, NULL));
	assert_true(client_renewal_due(nb, na, na + 1, NULL));
	/* 47-day certificates (2029): due with 15.67 days left. */
	na = nb + 47 * DAY;
	assert_false(client_renewal_due(nb, na, na - 16 * DAY, &due));
	assert_int_equal(due, na - (47 * DAY) / 3);
}

static void test_short_lived_renew_at_half(void **state)
{
	int64_t nb = 5000000, na = nb + 6 * DAY, due;

	(void)state;
	/* Let's Encrypt's 6-day certificates: due after 3 days, not after 4. */
	assert_false(client_renewal_due(nb, na, nb + 3 * DAY - 1, &due));
	assert_int_equal(due, nb + 3 * DAY);
	assert_true(client_renewal_due(nb, na, nb + 3 * DAY, NULL));
	/* exactly 10 days still counts as short */
	na = nb + 10 * DAY;
	client_renewal_due(nb, na, nb, &due);
	assert_int_equal(due, nb + 5 * DAY);
	/* a broken certificate (notAfter <= notBefore) is always due */
	assert_true(client_renewal_due(nb, nb, nb - DAY, NULL));
}

static void expect_name(const char *in, const char *want, bool want_ip)
{
	struct aclm_err err = { 0 };
	char *out = NULL;
	bool ip = !want_ip;

	assert_int_equal(client_normalise_name(in, &out, &ip, &err), ACLM_OK);
	assert_string_equal(out, want);
	assert_int_equal(ip, want_ip);
	free(out);
}

static void expect_bad_name(const char *in)
{
	struct aclm_err err = { 0 };
	char *out = NULL;
	bool ip;

	assert_int_equal(client_normalise_name(in, &out, &ip, &err), ACLM_ERR_INVALID);
	assert_null(out);
	assert_non_null(strstr(err.msg, in));
}

static void test_names_are_normalised(void **state)
{
	(void)state;
	expect_name("WWW.Example.COM.", "www.example.com", false);
	expect_name("*.Example.com", "*.example.com", false);
	expect_name("xn--bcher-kva.example", "xn--bcher-kva.example", false);
	/* IDNs become punycode (UTS#46 non-transitional: ß stays ß, not "ss"). */
	expect_name("bücher.example", "xn--bcher-kva.example", false);
	expect_name("*.Bücher.example", "*.xn--bcher-kva.example", false);
	expect_name("BÜCHER.example.", "xn--bcher-kva.example", false);
	expect_name("faß.example", "xn--fa-hia.example", false);
	expect_name("192.0.2.1", "192.0.2.1", true);
	expect_name("2001:DB8:0:0::1", "2001:db8::1", true);
}

static void test_bad_names_are_refused(void **state)
{
	char long_label[80], long_name[300];

	(void)state;
	expect_bad_name("bad name.example");
	expect_bad_name("empty..example");
	expect_bad_name("-lead.example");
	expect_bad_name("trail-.example");
	expect_bad_name("under_score.example");
	expect_bad_name("nodot");
	expect_bad_name("");
	expect_bad_name("*.*.example.com");
	/* IDNs idn2 refuses: a leading combining mark, a disallowed symbol */
	expect_bad_name("\xcc\x81" "bc.example");
	expect_bad_name("\xe2\x98\x83" ".example");
	expect_bad_name("b\xc3\xbc" "cher .example");
	memset(long_label, 'a', 64);
	strcpy(long_label + 64, ".example");
	expect_bad_name(long_label);
	for (int i = 0; i < 50; i++)
		memcpy(long_name + 6 * i, "abcde.", 6);
	strcpy(long_name + 300 - 4, "com");
	expect_bad_name(long_name);
}

static void test_default_lineage(void **state)
{
	char out[64];

	(void)state;
	client_default_lineage("*.example.com", out, sizeof(out));
	assert_string_equal(out, "example.com");
	client_default_lineage("2001:db8::1", out, sizeof(out));
	assert_string_equal(out, "2001-db8--1");
}

/* Lineage names become directories under live/: never a path. */
static void test_lineage_names_stay_in_live(void **state)
{
	char long_name[260];

	(void)state;
	assert_true(client_lineage_name_ok("example.com"));
	assert_true(client_lineage_name_ok("example.com-sm2"));
	assert_false(client_lineage_name_ok("../etc"));
	assert_false(client_lineage_name_ok("a/b"));
	assert_false(client_lineage_name_ok(".."));
	assert_false(client_lineage_name_ok("."));
	assert_false(client_lineage_name_ok(""));
	assert_false(client_lineage_name_ok("a\nb"));
	memset(long_name, 'a', 250);
	long_name[250] = '\0';
	assert_false(client_lineage_name_ok(long_name));
}

static void test_revocation_reasons(void **state)
{
	(void)state;
	assert_int_equal(client_revocation_reason("unspecified"), 0);
	assert_int_equal(client_revocation_reason("keyCompromise"), 1);
	assert_int_equal(client_revocation_reason("superseded"), 4);
	assert_int_equal(client_revocation_reason("cessationOfOperation"), 5);
	assert_int_equal(client_revocation_reason("certificateHold"), -1);
	assert_int_equal(client_revocation_reason("removeFromCRL"), -1);
	assert_int_equal(client_revocation_reason("nonsense"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_account_key_types_and_their_algorithms),
		cmocka_unit_test(test_renewal_at_one_third_left),
		cmocka_unit_test(test_short_lived_renew_at_half),
		cmocka_unit_test(test_names_are_normalised),
		cmocka_unit_test(test_bad_names_are_refused),
		cmocka_unit_test(test_default_lineage),
		cmocka_unit_test(test_revocation_reasons),
		cmocka_unit_test(test_lineage_names_stay_in_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
