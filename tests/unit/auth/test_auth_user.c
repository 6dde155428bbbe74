/* auth: users (user.c), password login, tenants and the first start's
 * admin (tenant.c). */
#include "../store/store_test.h"

#include "auth/auth.h"

#define LOGIN_FAIL "invalid user name or password"
#define PW "a long enough password"

static void login_refused(struct tdb *t, const char *tenant, const char *name, const char *pw)
{
	struct auth_principal p;

	aclm_err_clear(&t->err);
	assert_int_equal(auth_login(t->s, tenant, name, pw, &p, &t->err), ACLM_ERR_PASSWORD);
	assert_string_equal(t->err.msg, LOGIN_FAIL);
	assert_int_equal(p.tenant_id, 0);
}

static void test_add_list_passwd_rm_round_trip(void **state)
{
	struct tdb t;
	json_t *list = NULL, *o;
	int64_t id = 0, id2 = 0;
	char *text;

	tdb_open(&t);
	assert_int_equal(auth_user_add(t.s, t.tenant, "erin", AUTH_ROLE_OPERATOR, PW, &id, &t.err),
			 ACLM_OK);
	assert_int_equal(auth_user_add(t.s, t.tenant, "bot.ci@x-y_z", AUTH_ROLE_VIEWER, NULL, &id2,
				       &t.err), ACLM_OK);
	assert_int_equal(auth_user_add(t.s, t.tenant, "erin", AUTH_ROLE_ADMIN, NULL, &id2, &t.err),
			 ACLM_ERR_EXISTS);
	assert_int_equal(auth_user_list(t.s, t.tenant, &list, &t.err), ACLM_OK);
	assert_int_equal(json_array_size(list), 2);
	o = json_array_get(list, 1); /* by name: bot.ci... then erin */
	assert_int_equal(aclm_json_int(o, "id", 0), id);
	assert_string_equal(aclm_json_str(o, "name"), "erin");
	assert_string_equal(aclm_json_str(o, "role"), "operator");
	assert_true(json_is_true(json_object_get(o, "has_password")));
	assert_true(json_is_false(json_object_get(o, "disabled")));
	assert_non_null(aclm_json_str(o, "created_at"));
	assert_true(json_is_false(json_object_get(json_array_get(list, 0), "has_password")));
	text = json_dumps(list, 0);
	assert_null(strstr(text, "argon2"));
	free(text);
	json_decref(list);

	assert_int_equal(auth_user_passwd(t.s, t.tenant, "erin", "another long password", &t.err),
			 ACLM_OK);
	assert_int_equal(auth_user_passwd(t.s, t.tenant, "erin", "short", &t.err), ACLM_ERR_INVALID);
	assert_int_equal(auth_user_passwd(t.s, t.tenant, "nobody", PW, &t.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(auth_user_rm(t.s, t.tenant, "erin", &t.err), ACLM_OK);
	assert_int_equal(auth_user_rm(t.s, t.tenant, "erin", &t.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(auth_user_list(t.s, t.tenant, &list, &t.err), ACLM_OK);
	assert_int_equal(json_array_size(list), 1);
	json_decref(list);
	tdb_close(&t);
}

static void test_names_roles_and_passwords_are_checked(void **state)
{
	struct tdb t;
	int64_t id = 0;
	char longname[80];

	tdb_open(&t);
	assert_int_equal(auth_user_add(t.s, t.tenant, "", AUTH_ROLE_ADMIN, NULL, &id, &t.err),
			 ACLM_ERR_INVALID);
	assert_int_equal(auth_user_add(t.s, t.tenant, "a b", AUTH_ROLE_ADMIN, NULL, &id, &t.err),
			 ACLM_ERR_INVALID);
	assert_int_equal(auth_user_add(t.s, t.tenant, "a/b", AUTH_ROLE_ADMIN, NULL, &id, &t.err),
			 ACLM_ERR_INVALID);
	memset(longname, 'a', 65);
	longname[65] = '\0';
	assert_int_equal(auth_user_add(t.s, t.tenant, longname, AUTH_ROLE_ADMIN, NULL, &id, &t.err),
			 ACLM_ERR_INVALID);
	longname[64] = '\0';
	assert_int_equal(auth_user_add(t.s, t.tenant, longname, AUTH_ROLE_ADMIN, NULL, &id, &t.err),
			 ACLM_OK);
	assert_int_equal(auth_user_add(t.s, t.tenant, "f", (enum auth_role)9, NULL, &id, &t.err),
			 ACLM_ERR_INVALID);
	assert_int_equal(auth_user_add(t.s, t.tenant, "g", AUTH_ROLE_ADMIN, "too short", &id, &t.err),
			 ACLM_ERR_INVALID);
	assert_non_null(strstr(t.err.msg, "12 to 1024"));
	tdb_close(&t);
}

static void test_login_succeeds_only_with_the_right_password_in_the_right_tenant(void **state)
{
	struct tdb t;
	struct auth_principal p;
	int64_t id = 0, b = 0, nopw = 0;
	sqlite3 *raw;

	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "team-b", &b, &t.err), ACLM_OK);
	assert_int_equal(auth_user_add(t.s, t.tenant, "erin", AUTH_ROLE_AUDITOR, PW, &id, &t.err),
			 ACLM_OK);
	assert_int_equal(auth_user_add(t.s, t.tenant, "tok", AUTH_ROLE_ADMIN, NULL, &nopw, &t.err),
			 ACLM_OK);
	assert_int_equal(auth_login(t.s, "default", "erin", PW, &p, &t.err), ACLM_OK);
	assert_int_equal(p.tenant_id, t.tenant);
	assert_string_equal(p.tenant, "default");
	assert_int_equal(p.user_id, id);
	assert_int_equal(p.role, AUTH_ROLE_AUDITOR);
	assert_string_equal(p.actor, "api:user:erin");
	login_refused(&t, "default", "erin", PW "x");
	login_refused(&t, "default", "erin", "");
	login_refused(&t, "default", "nobody", PW);
	login_refused(&t, "team-b", "erin", PW);        /* right user, other tenant */
	login_refused(&t, "no-such-tenant", "erin", PW);
	login_refused(&t, "default", "tok", "");       /* no password set */
	login_refused(&t, "default", "bad name!", PW);
	raw = raw_open(t.path);
	assert_int_equal(sqlite3_exec(raw, "UPDATE users SET disabled = 1 WHERE name = 'erin'", NULL,
				      NULL, NULL), SQLITE_OK);
	sqlite3_close(raw);
	login_refused(&t, "default", "erin", PW);
	tdb_close(&t);
}

static void test_bootstrap_creates_admin_and_token_once(void **state)
{
	struct tdb t;
	struct auth_principal p;
	char token[AUTH_TOKEN_MAX], again[AUTH_TOKEN_MAX];
	bool created = false;
	json_t *list = NULL;
	sqlite3 *raw;

	tdb_open(&t);
	assert_int_equal(auth_bootstrap(t.s, "admin", token, &created, &t.err), ACLM_OK);
	assert_true(created);
	assert_int_equal(auth_token_check(t.s, token, NOW, &p, &t.err), ACLM_OK);
	assert_int_equal(p.role, AUTH_ROLE_ADMIN);
	assert_string_equal(p.tenant, "default");
	assert_true(p.user_id > 0);
	assert_true(auth_allows(&p, AUTH_ADMIN_TENANTS));
	assert_int_equal(auth_token_list(t.s, t.tenant, &list, &t.err), ACLM_OK);
	assert_string_equal(aclm_json_str(json_array_get(list, 0), "name"), "bootstrap");
	assert_string_equal(aclm_json_str(json_array_get(list, 0), "user"), "admin");
	json_decref(list);

	assert_int_equal(auth_bootstrap(t.s, "admin", again, &created, &t.err), ACLM_OK);
	assert_false(created);
	assert_string_equal(again, "");
	raw = raw_open(t.path);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM users"), 1);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM api_tokens"), 1);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM users WHERE password_hash IS NULL"), 1);
	sqlite3_close(raw);
	/* a bad admin name leaves nothing behind */
	tdb_close(&t);
	tdb_open(&t);
	assert_int_equal(auth_bootstrap(t.s, "bad name", token, &created, &t.err), ACLM_ERR_INVALID);
	assert_false(created);
	raw = raw_open(t.path);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM users"), 0);
	sqlite3_close(raw);
	tdb_close(&t);
}

static void test_tenant_list_shows_every_tenant(void **state)
{
	struct tdb t;
	json_t *list = NULL;
	int64_t id;

	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "team-b", &id, &t.err), ACLM_OK);
	assert_int_equal(auth_tenant_list(t.s, &list, &t.err), ACLM_OK);
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(aclm_json_str(json_array_get(list, 0), "name"), "default");
	assert_string_equal(aclm_json_str(json_array_get(list, 1), "name"), "team-b");
	assert_int_equal(aclm_json_int(json_array_get(list, 1), "id", 0), id);
	assert_non_null(aclm_json_str(json_array_get(list, 1), "created_at"));
	json_decref(list);
	tdb_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_list_passwd_rm_round_trip),
		cmocka_unit_test(test_names_roles_and_passwords_are_checked),
		cmocka_unit_test(test_login_succeeds_only_with_the_right_password_in_the_right_tenant),
		cmocka_unit_test(test_bootstrap_creates_admin_and_token_once),
		cmocka_unit_test(test_tenant_list_shows_every_tenant),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
