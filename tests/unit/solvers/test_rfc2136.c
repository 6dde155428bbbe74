/* solvers/dns_rfc2136.c: the BIND key file parser (exactly one
 * key "NAME" { algorithm hmac-sha256|384|512; secret "B64"; };, errors
 * naming file and line) and the solver's configuration checks. The updates
 * themselves are tested against BIND in test_acme_rfc2136.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "solvers/solver.h"
#include "solvers/solver_int.h"

#define SECRET "6wyUhqLY+cOh7m0EbmB3bnyV41uKNiZA/748JLjQ6SM="

static aclm_status parse(const char *text, struct solver__tsig_key *key, struct aclm_err *err)
{
	return solver__tsig_parse("k.conf", text, strlen(text), key, err);
}

/* Expects a parse error whose message starts with "k.conf:LINE: " and
 * holds what. */
static void expect_error(const char *text, unsigned line, const char *what)
{
	struct solver__tsig_key key;
	struct aclm_err err = { 0 };
	char prefix[32];

	assert_int_equal(parse(text, &key, &err), ACLM_ERR_PARSE);
	snprintf(prefix, sizeof(prefix), "k.conf:%u: ", line);
	if (strncmp(err.msg, prefix, strlen(prefix)) != 0 || strstr(err.msg, what) == NULL)
		fail_msg("want \"%s...%s\", got \"%s\"", prefix, what, err.msg);
	assert_string_equal(key.secret, ""); /* nothing half-parsed is left */
}

static void test_tsig_keygen_output_parses(void **state)
{
	struct solver__tsig_key key;
	struct aclm_err err = { 0 };

	assert_int_equal(parse("key \"tsig-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"" SECRET
			       "\";\n};\n", &key, &err), ACLM_OK);
	assert_string_equal(key.name, "tsig-key");
	assert_string_equal(key.algorithm, "hmac-sha256");
	assert_string_equal(key.secret, SECRET);
}

static void test_comments_unquoted_name_and_sha512_parse(void **state)
{
	struct solver__tsig_key key;
	struct aclm_err err = { 0 };

	assert_int_equal(parse("# made by hand\n// for the test zone\nkey acme.example. /* x\ny */ {"
			       " secret \"" SECRET "\"; algorithm HMAC-SHA512; };", &key, &err), ACLM_OK);
	assert_string_equal(key.name, "acme.example.");
	assert_string_equal(key.algorithm, "hmac-sha512");
}

static void test_other_algorithms_are_refused_with_the_line(void **state)
{
	expect_error("key \"k\" {\n\talgorithm hmac-md5;\n\tsecret \"" SECRET "\";\n};\n", 2,
		     "\"hmac-md5\": expected hmac-sha256, hmac-sha384 or hmac-sha512");
	expect_error("key \"k\" {\n\talgorithm hmac-sha1;\n};\n", 2, "hmac-sha1");
}

static void test_missing_or_repeated_fields_are_refused(void **state)
{
	expect_error("key \"k\" {\n\talgorithm hmac-sha256;\n};\n", 3, "key has no secret");
	expect_error("key \"k\" {\n\tsecret \"" SECRET "\";\n};\n", 3, "key has no algorithm");
	expect_error("key \"k\" {\n\talgorithm hmac-sha256;\n\talgorithm hmac-sha256;\n", 3,
		     "algorithm given twice");
	expect_error("key \"k\" {\n\tsecret \"" SECRET "\";\n\tfoo bar;\n};\n", 3,
		     "expected algorithm, secret or \"}\", got \"foo\"");
}

static void test_syntax_errors_name_the_line(void **state)
{
	expect_error("", 1, "expected key \"NAME\"");
	expect_error("zone \"x\" {};", 1, "expected key \"NAME\"");
	expect_error("key \"k\"\n\talgorithm hmac-sha256;", 2, "expected \"{\"");
	expect_error("key \"k\" {\n\talgorithm hmac-sha256\n\tsecret \"" SECRET "\";\n};\n", 3,
		     "expected \";\"");
	expect_error("key \"k\" {\n\talgorithm hmac-sha256;\n\tsecret \"" SECRET "\";\n}\n", 4,
		     "expected \";\" at the end of the file");
	expect_error("key \"k\" {\n\talgorithm hmac-sha256;\n", 2, "missing \"}\"");
	expect_error("key \"k\" {\n\tsecret \"abc\n\";\n};\n", 2, "unterminated");
	expect_error("key \"k\" {\n/* never closed\n\n", 2, "unterminated /* comment");
	expect_error("key \"bad name!\" {};", 1, "is not a DNS name");
	expect_error("key \"a..b\" {};", 1, "is not a DNS name");
}

static void test_secret_must_be_base64(void **state)
{
	expect_error("key k {\n algorithm hmac-sha256;\n secret \"not base64!\";\n};", 3,
		     "quoted base64");
	expect_error("key k {\n algorithm hmac-sha256;\n secret \"abc\";\n};", 3, "quoted base64");
	expect_error("key k {\n algorithm hmac-sha256;\n secret \"a===\";\n};", 3, "quoted base64");
	expect_error("key k {\n algorithm hmac-sha256;\n secret " SECRET ";\n};", 3, "quoted base64");
}

static void test_one_key_per_file(void **state)
{
	expect_error("key a { algorithm hmac-sha256; secret \"" SECRET "\"; };\n"
		     "key b { algorithm hmac-sha256; secret \"" SECRET "\"; };\n", 2,
		     "one key per file: unexpected \"key\"");
}

static void test_nul_bytes_are_refused(void **state)
{
	static const char text[] = "key k { algorithm hmac-sha256;\0 secret \"" SECRET "\"; };";
	struct solver__tsig_key key;
	struct aclm_err err = { 0 };

	assert_int_equal(solver__tsig_parse("k.conf", text, sizeof(text) - 1, &key, &err),
			 ACLM_ERR_PARSE);
	assert_non_null(strstr(err.msg, "NUL"));
}

static void test_load_names_a_missing_file(void **state)
{
	struct solver__tsig_key key;
	struct aclm_err err = { 0 };

	assert_int_equal(solver__tsig_load("/nonexistent/k.conf", &key, &err), ACLM_ERR_IO);
	assert_non_null(strstr(err.msg, "/nonexistent/k.conf"));
}

static void test_load_reads_a_file(void **state)
{
	char path[] = "/tmp/aclm-tsig-XXXXXX";
	int fd = mkstemp(path);
	struct solver__tsig_key key;
	struct aclm_err err = { 0 };
	static const char text[] = "key \"f\" { algorithm hmac-sha384; secret \"" SECRET "\"; };\n";

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	assert_int_equal(solver__tsig_load(path, &key, &err), ACLM_OK);
	unlink(path);
	assert_string_equal(key.name, "f");
	assert_string_equal(key.algorithm, "hmac-sha384");
}

static void test_start_checks_the_configuration(void **state)
{
	struct solver_config cfg = { .dns_rfc2136 = "127.0.0.1:53" };
	struct aclm_err err = { 0 };
	void *s = NULL;
	const char *bad[] = { "127.0.0.1", "localhost:53", "127.0.0.1:0", "127.0.0.1:70000",
			      "[::1]", "1.2.3.4:53x" };

	assert_ptr_equal(solver_for("dns-01", &cfg), &solver_rfc2136_ops);
	assert_int_equal(solver_rfc2136_ops.start(&cfg, &s, &err), ACLM_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "tsig_file"));
	cfg.tsig_file = "/nonexistent/k.conf";
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cfg.dns_rfc2136 = bad[i];
		assert_int_equal(solver_rfc2136_ops.start(&cfg, &s, &err), ACLM_ERR_CONFIG);
		assert_non_null(strstr(err.msg, "HOST:PORT"));
		assert_null(s);
	}
	cfg.dns_rfc2136 = "[::1]:5353";
	assert_int_equal(solver_rfc2136_ops.start(&cfg, &s, &err), ACLM_ERR_IO);
	assert_non_null(strstr(err.msg, "/nonexistent/k.conf"));
	cfg.dns_hook = "/bin/true"; /* both configured: RFC 2136 wins (solver.c's order) */
	assert_ptr_equal(solver_for("dns-01", &cfg), &solver_rfc2136_ops);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tsig_keygen_output_parses),
		cmocka_unit_test(test_comments_unquoted_name_and_sha512_parse),
		cmocka_unit_test(test_other_algorithms_are_refused_with_the_line),
		cmocka_unit_test(test_missing_or_repeated_fields_are_refused),
		cmocka_unit_test(test_syntax_errors_name_the_line),
		cmocka_unit_test(test_secret_must_be_base64),
		cmocka_unit_test(test_one_key_per_file),
		cmocka_unit_test(test_nul_bytes_are_refused),
		cmocka_unit_test(test_load_names_a_missing_file),
		cmocka_unit_test(test_load_reads_a_file),
		cmocka_unit_test(test_start_checks_the_configuration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
