/* auth: the role table (4 roles x 5 actions), scopes and role names. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "auth/auth.h"

static struct auth_principal who(enum auth_role r, const char *tenant, enum auth_scope s)
{
	struct auth_principal p = { .tenant_id = 7, .role = r, .scope = s };

	snprintf(p.tenant, sizeof(p.tenant), "%s", tenant);
	return p;
}

/* Expected, from issue 6 and auth.h: viewer READ; auditor READ AUDIT;
 * operator READ WRITE; admin everything (tenants only in "default"). */
static void test_every_role_and_action_in_the_default_tenant(void **state)
{
	static const bool want[4][5] = {
		/* READ WRITE AUDIT ADMIN ADMIN_TENANTS */
		{ true, false, false, false, false }, /* viewer */
		{ true, false, true, false, false },  /* auditor */
		{ true, true, false, false, false },  /* operator */
		{ true, true, true, true, true },     /* admin */
	};

	for (int r = 0; r < 4; r++)
		for (int a = 0; a < 5; a++) {
			struct auth_principal p = who((enum auth_role)r, "default", AUTH_SCOPE_API);

			if (auth_allows(&p, (enum auth_action)a) != want[r][a])
				fail_msg("role %s action %d: expected %d", auth_role_name(r), a,
					 want[r][a]);
		}
}

static void test_admin_of_another_tenant_manages_its_tenant_but_not_tenants(void **state)
{
	struct auth_principal p = who(AUTH_ROLE_ADMIN, "team-a", AUTH_SCOPE_API);

	assert_true(auth_allows(&p, AUTH_ADMIN));
	assert_true(auth_allows(&p, AUTH_AUDIT));
	assert_false(auth_allows(&p, AUTH_ADMIN_TENANTS));
}

static void test_metrics_scope_allows_no_api_action_even_for_admin(void **state)
{
	struct auth_principal p = who(AUTH_ROLE_ADMIN, "default", AUTH_SCOPE_METRICS);

	for (int a = 0; a < 5; a++)
		assert_false(auth_allows(&p, (enum auth_action)a));
	assert_false(auth_allows(NULL, AUTH_READ));
}

static void test_role_names_round_trip_and_unknown_names_list_the_four(void **state)
{
	struct aclm_err err = { 0 };
	enum auth_role r;

	for (int i = 0; i < 4; i++) {
		assert_int_equal(auth_role_parse(auth_role_name((enum auth_role)i), &r, &err), ACLM_OK);
		assert_int_equal(r, i);
	}
	assert_string_equal(auth_role_name(AUTH_ROLE_AUDITOR), "auditor");
	assert_int_equal(auth_role_parse("root", &r, &err), ACLM_ERR_INVALID);
	assert_non_null(strstr(err.msg, "root"));
	assert_non_null(strstr(err.msg, "viewer, auditor, operator, admin"));
	assert_int_equal(auth_role_parse("Admin", &r, &err), ACLM_ERR_INVALID);
	assert_string_equal(auth_scope_name(AUTH_SCOPE_METRICS), "metrics");
	assert_string_equal(auth_scope_name(AUTH_SCOPE_API), "api");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_role_and_action_in_the_default_tenant),
		cmocka_unit_test(test_admin_of_another_tenant_manages_its_tenant_but_not_tenants),
		cmocka_unit_test(test_metrics_scope_allows_no_api_action_even_for_admin),
		cmocka_unit_test(test_role_names_round_trip_and_unknown_names_list_the_four),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
