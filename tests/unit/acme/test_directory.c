/* acme/directory: Let's Encrypt- and Pebble-shaped directories parse with
 * meta; newNonce/newAccount/newOrder are required and named when missing;
 * only absolute https:// URLs unless allow_http; wrong types and oversized
 * documents are refused and leave nothing allocated. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "acme/acme.h"

/* Let's Encrypt production, 2025 (with profiles). */
static const char le[] =
	"{\"keyChange\":\"https://acme-v02.api.letsencrypt.org/acme/key-change\","
	"\"meta\":{\"caaIdentities\":[\"letsencrypt.org\"],"
	"\"profiles\":{\"classic\":\"https://letsencrypt.org/docs/profiles#classic\","
	"\"shortlived\":\"https://letsencrypt.org/docs/profiles#shortlived\"},"
	"\"termsOfService\":\"https://letsencrypt.org/documents/LE-SA-v1.5-February-24-2025.pdf\","
	"\"website\":\"https://letsencrypt.org\"},"
	"\"newAccount\":\"https://acme-v02.api.letsencrypt.org/acme/new-acct\","
	"\"newNonce\":\"https://acme-v02.api.letsencrypt.org/acme/new-nonce\","
	"\"newOrder\":\"https://acme-v02.api.letsencrypt.org/acme/new-order\","
	"\"renewalInfo\":\"https://acme-v02.api.letsencrypt.org/draft-ietf-acme-ari-03/renewalInfo\","
	"\"revokeCert\":\"https://acme-v02.api.letsencrypt.org/acme/revoke-cert\","
	"\"aBcDeFgHiJk\":\"https://community.letsencrypt.org/t/adding-random-entries/33417\"}";

static aclm_status parse(const char *json, bool allow_http, struct acme_directory *d,
			 struct aclm_err *err)
{
	aclm_status st = acme_directory_parse(json, strlen(json), allow_http, d, err);

	if (st != ACLM_OK) {
		assert_null(d->new_nonce);
		assert_null(d->profiles);
	}
	return st;
}

static void test_directory_letsencrypt_parses(void **state)
{
	struct aclm_err err = { 0 };
	struct acme_directory d;

	(void)state;
	assert_int_equal(parse(le, false, &d, &err), ACLM_OK);
	assert_string_equal(d.new_nonce, "https://acme-v02.api.letsencrypt.org/acme/new-nonce");
	assert_string_equal(d.new_account, "https://acme-v02.api.letsencrypt.org/acme/new-acct");
	assert_string_equal(d.new_order, "https://acme-v02.api.letsencrypt.org/acme/new-order");
	assert_string_equal(d.revoke_cert, "https://acme-v02.api.letsencrypt.org/acme/revoke-cert");
	assert_string_equal(d.key_change, "https://acme-v02.api.letsencrypt.org/acme/key-change");
	assert_non_null(strstr(d.renewal_info, "renewalInfo"));
	assert_null(d.new_authz);
	assert_non_null(strstr(d.terms_of_service, "LE-SA"));
	assert_string_equal(d.website, "https://letsencrypt.org");
	assert_false(d.external_account_required);
	assert_int_equal(json_object_size(d.profiles), 2);
	assert_non_null(json_object_get(d.profiles, "shortlived"));
	assert_string_equal(json_string_value(json_array_get(d.caa_identities, 0)),
			    "letsencrypt.org");
	acme_directory_free(&d);
	assert_null(d.new_order);
}

/* Pebble serves http:// nowhere, but a local test CA may: allow_http. */
static void test_directory_http_only_when_allowed(void **state)
{
	static const char http[] = "{\"newNonce\":\"http://localhost:14000/nonce-plz\","
				   "\"newAccount\":\"http://localhost:14000/sign-me-up\","
				   "\"newOrder\":\"http://localhost:14000/order-plz\","
				   "\"meta\":{\"externalAccountRequired\":true}}";
	struct aclm_err err = { 0 };
	struct acme_directory d;

	(void)state;
	assert_int_equal(parse(http, false, &d, &err), ACLM_ERR_PARSE);
	assert_non_null(strstr(err.msg, "\"newNonce\" is not an absolute https:// URL"));
	assert_int_equal(parse(http, true, &d, &err), ACLM_OK);
	assert_true(d.external_account_required);
	assert_null(d.profiles);
	assert_null(d.caa_identities);
	assert_null(d.terms_of_service);
	acme_directory_free(&d);
}

/* Pebble 2.4's terms are a data: URI; terms are shown, never fetched. */
static void test_directory_pebble_data_uri_terms_accepted(void **state)
{
	static const char pebble[] = "{\"newNonce\":\"https://127.0.0.1:14000/nonce-plz\","
				     "\"newAccount\":\"https://127.0.0.1:14000/sign-me-up\","
				     "\"newOrder\":\"https://127.0.0.1:14000/order-plz\","
				     "\"meta\":{\"termsOfService\":\"data:text/plain,Do%20what%20thou%20wilt\"}}";
	struct aclm_err err = { 0 };
	struct acme_directory d;

	(void)state;
	assert_int_equal(parse(pebble, false, &d, &err), ACLM_OK);
	assert_string_equal(d.terms_of_service, "data:text/plain,Do%20what%20thou%20wilt");
	acme_directory_free(&d);
}

static void test_directory_missing_required_named(void **state)
{
	static const char *const cases[][2] = {
		{ "{\"newAccount\":\"https://a.example/a\",\"newOrder\":\"https://a.example/o\"}",
		  "\"newNonce\" is missing" },
		{ "{\"newNonce\":\"https://a.example/n\",\"newOrder\":\"https://a.example/o\"}",
		  "\"newAccount\" is missing" },
		{ "{\"newNonce\":\"https://a.example/n\",\"newAccount\":\"https://a.example/a\"}",
		  "\"newOrder\" is missing" },
	};
	struct aclm_err err = { 0 };
	struct acme_directory d;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(parse(cases[i][0], false, &d, &err), ACLM_ERR_PARSE);
		assert_non_null(strstr(err.msg, cases[i][1]));
	}
}

/* Replaces the value of newOrder (a JSON fragment) in a valid directory. */
static aclm_status with_new_order(const char *value, bool allow_http, struct aclm_err *err)
{
	char doc[4096];
	struct acme_directory d;
	aclm_status st;

	snprintf(doc, sizeof(doc),
		 "{\"newNonce\":\"https://a.example/n\",\"newAccount\":\"https://a.example/a\","
		 "\"newOrder\":%s}",
		 value);
	st = parse(doc, allow_http, &d, err);
	acme_directory_free(&d);
	return st;
}

static void test_directory_bad_urls_refused(void **state)
{
	static const char *const bad[] = {
		"\"/acme/new-order\"", "\"ftp://a.example/o\"", "\"https://\"",
		"\"https:///o\"",      "\"https://a.example/o x\"", "\"https://a.example/\\u007fx\"",
		"\"https://a.example/\\n\"", "\"http://a.example/o\"", "42", "null",
	};
	struct aclm_err err = { 0 };
	char big[3000];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(with_new_order(bad[i], false, &err), ACLM_ERR_PARSE);
		assert_non_null(strstr(err.msg, "newOrder"));
	}
	assert_int_equal(with_new_order("\"ftp://a.example/o\"", true, &err), ACLM_ERR_PARSE);
	/* jansson itself refuses an escaped NUL */
	assert_int_equal(with_new_order("\"https://a.example/\\u0000x\"", false, &err),
			 ACLM_ERR_PARSE);
	assert_int_equal(with_new_order("\"HTTPS://a.example/o\"", false, &err), ACLM_OK);
	memset(big, 'a', sizeof(big));
	memcpy(big, "\"https://", 9);
	strcpy(big + sizeof(big) - 2, "\"");
	assert_int_equal(with_new_order(big, false, &err), ACLM_ERR_PARSE);
	assert_non_null(strstr(err.msg, "too long"));
}

static void test_directory_bad_meta_and_documents_refused(void **state)
{
	static const char *const bad_meta[][2] = {
		{ "[]", "\"meta\" is not an object" },
		{ "{\"termsOfService\":\"terms\\u0001.html\"}", "meta.termsOfService" },
		{ "{\"termsOfService\":\"\"}", "meta.termsOfService" },
		{ "{\"website\":1}", "meta.website" },
		{ "{\"externalAccountRequired\":\"yes\"}", "externalAccountRequired" },
		{ "{\"profiles\":[\"classic\"]}", "profiles" },
		{ "{\"profiles\":{\"classic\":1}}", "profiles" },
		{ "{\"caaIdentities\":\"letsencrypt.org\"}", "caaIdentities" },
		{ "{\"caaIdentities\":[\"a\",1]}", "caaIdentities[1]" },
	};
	struct aclm_err err = { 0 };
	struct acme_directory d;
	char doc[1024];
	char *huge;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_meta) / sizeof(bad_meta[0]); i++) {
		snprintf(doc, sizeof(doc),
			 "{\"newNonce\":\"https://a.example/n\",\"newAccount\":\"https://a.example/a\","
			 "\"newOrder\":\"https://a.example/o\",\"meta\":%s}",
			 bad_meta[i][0]);
		assert_int_equal(parse(doc, false, &d, &err), ACLM_ERR_PARSE);
		assert_non_null(strstr(err.msg, bad_meta[i][1]));
	}
	assert_int_equal(parse("[]", false, &d, &err), ACLM_ERR_PARSE);
	assert_int_equal(parse("{", false, &d, &err), ACLM_ERR_PARSE);
	assert_int_equal(acme_directory_parse(NULL, 0, false, &d, &err), ACLM_ERR_PARSE);
	huge = malloc(65 * 1024 + 1);
	memset(huge, ' ', 65 * 1024);
	huge[65 * 1024] = '\0';
	memcpy(huge, le, strlen(le));
	assert_int_equal(parse(huge, false, &d, &err), ACLM_ERR_TOOBIG);
	free(huge);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_directory_letsencrypt_parses),
		cmocka_unit_test(test_directory_http_only_when_allowed),
		cmocka_unit_test(test_directory_missing_required_named),
		cmocka_unit_test(test_directory_pebble_data_uri_terms_accepted),
		cmocka_unit_test(test_directory_bad_urls_refused),
		cmocka_unit_test(test_directory_bad_meta_and_documents_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
