/* auth: argon2id password hashes (password.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "auth/auth.h"

static void test_hash_then_verify_round_trips_and_wrong_password_fails(void **state)
{
	char h[AUTH_HASH_MAX];
	struct aclm_err err = { 0 };

	assert_int_equal(auth_password_hash("correct horse battery", h, &err), ACLM_OK);
	assert_true(auth_password_verify(h, "correct horse battery"));
	assert_false(auth_password_verify(h, "correct horse batterY"));
	assert_false(auth_password_verify(h, "correct horse battery "));
	assert_false(auth_password_verify(h, ""));
}

static void test_hash_is_argon2id_with_the_documented_parameters_and_a_fresh_salt(void **state)
{
	char a[AUTH_HASH_MAX], b[AUTH_HASH_MAX];
	struct aclm_err err = { 0 };

	assert_int_equal(auth_password_hash("same password here", a, &err), ACLM_OK);
	assert_int_equal(auth_password_hash("same password here", b, &err), ACLM_OK);
	assert_int_equal(strncmp(a, "$argon2id$v=19$m=65536,t=3,p=1$", 31), 0);
	assert_string_not_equal(a, b); /* 16 random salt bytes each time */
	assert_true(auth_password_verify(b, "same password here"));
}

static void test_too_short_or_too_long_is_refused_naming_the_bounds(void **state)
{
	char h[AUTH_HASH_MAX], big[AUTH_PASSWORD_MAX + 2];
	struct aclm_err err = { 0 };

	assert_int_equal(auth_password_hash("elevenchars", h, &err), ACLM_ERR_INVALID);
	assert_non_null(strstr(err.msg, "12 to 1024"));
	assert_string_equal(h, "");
	assert_int_equal(auth_password_hash(NULL, h, &err), ACLM_ERR_INVALID);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(auth_password_hash(big, h, &err), ACLM_ERR_INVALID);
	big[AUTH_PASSWORD_MAX] = '\0'; /* exactly the maximum */
	assert_int_equal(auth_password_hash(big, h, &err), ACLM_OK);
	/* twelve characters, more bytes: counted as characters */
	assert_int_equal(auth_password_hash("ééééééééééé", h, &err), ACLM_ERR_INVALID);
	assert_int_equal(auth_password_hash("éééééééééééé", h, &err), ACLM_OK);
}

static void test_malformed_or_foreign_hashes_never_verify(void **state)
{
	char h[AUTH_HASH_MAX];
	struct aclm_err err = { 0 };

	assert_false(auth_password_verify(NULL, "whatever password"));
	assert_false(auth_password_verify("", "whatever password"));
	assert_false(auth_password_verify("$argon2id$garbage", "whatever password"));
	assert_int_equal(auth_password_hash("whatever password", h, &err), ACLM_OK);
	/* the same string as argon2i: not what we write, refused */
	memmove(h + 8, h + 9, strlen(h + 9) + 1);
	assert_int_equal(strncmp(h, "$argon2i$", 9), 0);
	assert_false(auth_password_verify(h, "whatever password"));
	assert_false(auth_password_verify("$2b$12$abcdefghijklmnopqrstuv", "whatever password"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_then_verify_round_trips_and_wrong_password_fails),
		cmocka_unit_test(test_hash_is_argon2id_with_the_documented_parameters_and_a_fresh_salt),
		cmocka_unit_test(test_too_short_or_too_long_is_refused_naming_the_bounds),
		cmocka_unit_test(test_malformed_or_foreign_hashes_never_verify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
