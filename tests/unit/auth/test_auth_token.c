/* auth: API tokens (token.c): create, check, revoke, expiry, tenant
 * isolation, tampering, and the one error message for every failure. */
#include "../store/store_test.h"

#include "auth/auth.h"

#define FAIL_MSG "invalid or expired token"

static struct auth_token_req req_for(int64_t tenant, int64_t user, enum auth_role role)
{
	struct auth_token_req r = { .tenant_id = tenant, .user_id = user, .name = "ci",
				    .role = role, .scope = AUTH_SCOPE_API };

	return r;
}

static void make_token(struct tdb *t, const struct auth_token_req *r, char token[AUTH_TOKEN_MAX],
		       char id[32])
{
	assert_int_equal(auth_token_create(t->s, r, token, id, &t->err), ACLM_OK);
}

/* The check fails with ACLM_ERR_PASSWORD and exactly the one message. */
static void check_refused(struct tdb *t, const char *token, int64_t now)
{
	struct auth_principal p;

	memset(&p, 0x55, sizeof(p));
	aclm_err_clear(&t->err);
	assert_int_equal(auth_token_check(t->s, token, now, &p, &t->err), ACLM_ERR_PASSWORD);
	assert_string_equal(t->err.msg, FAIL_MSG);
	assert_int_equal(p.tenant_id, 0); /* nothing half-filled */
}

static void test_created_token_has_the_format_and_checks_into_its_principal(void **state)
{
	struct tdb t;
	struct auth_token_req r;
	struct auth_principal p;
	char token[AUTH_TOKEN_MAX], id[32];
	sqlite3 *raw;
	char sql[256];

	tdb_open(&t);
	r = req_for(t.tenant, 0, AUTH_ROLE_OPERATOR);
	make_token(&t, &r, token, id);
	assert_int_equal(strlen(token), 5 + 16 + 1 + 43);
	assert_int_equal(strncmp(token, "aclm_", 5), 0);
	assert_int_equal(strlen(id), 16);
	assert_int_equal(strncmp(token + 5, id, 16), 0);
	assert_int_equal(strspn(id, "0123456789abcdef"), 16);
	assert_int_equal(token[21], '_');
	assert_int_equal(strspn(token + 22, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					   "0123456789-_"), 43);

	assert_int_equal(auth_token_check(t.s, token, NOW, &p, &t.err), ACLM_OK);
	assert_int_equal(p.tenant_id, t.tenant);
	assert_string_equal(p.tenant, "default");
	assert_int_equal(p.role, AUTH_ROLE_OPERATOR);
	assert_int_equal(p.scope, AUTH_SCOPE_API);
	assert_int_equal(p.user_id, 0);
	assert_string_equal(p.token_id, id);
	assert_non_null(strstr(p.actor, id));
	assert_int_equal(strncmp(p.actor, "api:token:", 10), 0);

	/* the store holds SHA-256 of the secret, never the secret */
	raw = raw_open(t.path);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM api_tokens WHERE hash LIKE '%%%s%%'",
		 token + 22);
	assert_int_equal(raw_int(raw, sql), 0);
	assert_int_equal(raw_int(raw, "SELECT length(hash) FROM api_tokens"), 64);
	assert_int_equal(raw_int(raw, "SELECT last_used_at FROM api_tokens"), NOW);
	sqlite3_close(raw);
	tdb_close(&t);
}

static void test_tampered_secret_with_the_right_id_fails(void **state)
{
	struct tdb t;
	struct auth_token_req r;
	char token[AUTH_TOKEN_MAX], bad[AUTH_TOKEN_MAX], id[32];

	tdb_open(&t);
	r = req_for(t.tenant, 0, AUTH_ROLE_ADMIN);
	make_token(&t, &r, token, id);
	/* every position of the secret, flipped to another valid character */
	for (size_t i = 22; i < strlen(token); i++) {
		memcpy(bad, token, sizeof(bad));
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		check_refused(&t, bad, NOW);
	}
	/* another token's secret behind this id */
	{
		char other[AUTH_TOKEN_MAX], oid[32];

		make_token(&t, &r, other, oid);
		memcpy(bad, token, 22);
		memcpy(bad + 22, other + 22, 44);
		check_refused(&t, bad, NOW);
	}
	tdb_close(&t);
}

static void test_malformed_tokens_fail_with_the_same_message(void **state)
{
	struct tdb t;
	struct auth_token_req r;
	char token[AUTH_TOKEN_MAX], bad[AUTH_TOKEN_MAX + 8], id[32];

	tdb_open(&t);
	r = req_for(t.tenant, 0, AUTH_ROLE_ADMIN);
	make_token(&t, &r, token, id);
	check_refused(&t, NULL, NOW);
	check_refused(&t, "", NOW);
	check_refused(&t, "aclm_", NOW);
	/* one character short, one too many */
	snprintf(bad, sizeof(bad), "%.*s", (int)strlen(token) - 1, token);
	check_refused(&t, bad, NOW);
	snprintf(bad, sizeof(bad), "%sA", token);
	check_refused(&t, bad, NOW);
	/* uppercase id, wrong prefix, wrong separator, padding, space */
	memcpy(bad, token, strlen(token) + 1);
	for (int i = 5; i < 21; i++)
		if (bad[i] >= 'a')
			bad[i] = (char)(bad[i] - 'a' + 'A');
	if (strcmp(bad, token) != 0)
		check_refused(&t, bad, NOW);
	memcpy(bad, token, strlen(token) + 1);
	bad[0] = 'A';
	check_refused(&t, bad, NOW);
	memcpy(bad, token, strlen(token) + 1);
	bad[21] = '-';
	check_refused(&t, bad, NOW);
	memcpy(bad, token, strlen(token) + 1);
	bad[64] = '=';
	check_refused(&t, bad, NOW);
	memcpy(bad, token, strlen(token) + 1);
	bad[30] = ' ';
	check_refused(&t, bad, NOW);
	/* unknown id with a well-formed secret */
	memcpy(bad, token, strlen(token) + 1);
	memcpy(bad + 5, "0000000000000000", 16);
	check_refused(&t, bad, NOW);
	tdb_close(&t);
}

static void test_revoked_token_fails_and_revoke_is_per_tenant(void **state)
{
	struct tdb t;
	struct auth_token_req r;
	struct auth_principal p;
	char token[AUTH_TOKEN_MAX], id[32];
	int64_t b = 0;

	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "team-b", &b, &t.err), ACLM_OK);
	r = req_for(t.tenant, 0, AUTH_ROLE_ADMIN);
	make_token(&t, &r, token, id);
	assert_int_equal(auth_token_revoke(t.s, b, id, NOW, &t.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(auth_token_check(t.s, token, NOW, &p, &t.err), ACLM_OK);
	assert_int_equal(auth_token_revoke(t.s, t.tenant, id, NOW, &t.err), ACLM_OK);
	check_refused(&t, token, NOW);
	check_refused(&t, token, NOW - 1000); /* revocation is not a time */
	assert_int_equal(auth_token_revoke(t.s, t.tenant, "0123456789abcdef", NOW, &t.err),
			 ACLM_ERR_NOTFOUND);
	tdb_close(&t);
}

static void test_expired_token_fails_from_its_expiry_on(void **state)
{
	struct tdb t;
	struct auth_token_req r;
	struct auth_principal p;
	char token[AUTH_TOKEN_MAX], id[32];

	tdb_open(&t);
	r = req_for(t.tenant, 0, AUTH_ROLE_VIEWER);
	r.expires_at = NOW + 100;
	make_token(&t, &r, token, id);
	assert_int_equal(auth_token_check(t.s, token, NOW + 99, &p, &t.err), ACLM_OK);
	check_refused(&t, token, NOW + 100);
	check_refused(&t, token, NOW + 100000);
	r.expires_at = -1;
	assert_int_equal(auth_token_create(t.s, &r, token, id, &t.err), ACLM_ERR_INVALID);
	tdb_close(&t);
}

static void test_token_of_tenant_a_never_resolves_as_tenant_b(void **state)
{
	struct tdb t;
	struct auth_token_req r;
	struct auth_principal p;
	char ta[AUTH_TOKEN_MAX], tb[AUTH_TOKEN_MAX], ida[32], idb[32];
	int64_t a = 0, b = 0, ua = 0;
	json_t *list = NULL;

	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "team-a", &a, &t.err), ACLM_OK);
	assert_int_equal(store_tenant_ensure(t.s, "team-b", &b, &t.err), ACLM_OK);
	assert_int_equal(auth_user_add(t.s, a, "alice", AUTH_ROLE_ADMIN, NULL, &ua, &t.err), ACLM_OK);
	r = req_for(a, ua, AUTH_ROLE_ADMIN);
	make_token(&t, &r, ta, ida);
	r = req_for(b, 0, AUTH_ROLE_VIEWER);
	make_token(&t, &r, tb, idb);

	assert_int_equal(auth_token_check(t.s, ta, NOW, &p, &t.err), ACLM_OK);
	assert_int_equal(p.tenant_id, a);
	assert_string_equal(p.tenant, "team-a");
	assert_int_equal(p.user_id, ua);
	assert_int_equal(auth_token_check(t.s, tb, NOW, &p, &t.err), ACLM_OK);
	assert_int_equal(p.tenant_id, b);
	assert_string_equal(p.tenant, "team-b");
	/* b sees and revokes none of a's tokens */
	assert_int_equal(auth_token_list(t.s, b, &list, &t.err), ACLM_OK);
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(aclm_json_str(json_array_get(list, 0), "id"), idb);
	json_decref(list);
	assert_int_equal(auth_token_revoke(t.s, b, ida, NOW, &t.err), ACLM_ERR_NOTFOUND);
	/* b cannot make a token for a's user */
	r = req_for(b, ua, AUTH_ROLE_ADMIN);
	assert_int_equal(auth_token_create(t.s, &r, tb, idb, &t.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(auth_token_check(t.s, ta, NOW, &p, &t.err), ACLM_OK);
	assert_int_equal(p.tenant_id, a);
	tdb_close(&t);
}

static void test_user_state_rules_its_tokens_disabled_removed_demoted(void **state)
{
	struct tdb t;
	struct auth_token_req r;
	struct auth_principal p;
	char token[AUTH_TOKEN_MAX], id[32];
	int64_t u = 0;
	sqlite3 *raw;

	tdb_open(&t);
	assert_int_equal(auth_user_add(t.s, t.tenant, "bob", AUTH_ROLE_ADMIN, NULL, &u, &t.err),
			 ACLM_OK);
	r = req_for(t.tenant, u, AUTH_ROLE_ADMIN);
	make_token(&t, &r, token, id);
	assert_int_equal(auth_token_check(t.s, token, NOW, &p, &t.err), ACLM_OK);
	assert_int_equal(p.role, AUTH_ROLE_ADMIN);
	raw = raw_open(t.path);
	/* demoted: the token follows the user's role */
	assert_int_equal(sqlite3_exec(raw, "UPDATE users SET role = 'viewer'", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(auth_token_check(t.s, token, NOW, &p, &t.err), ACLM_OK);
	assert_int_equal(p.role, AUTH_ROLE_VIEWER);
	assert_int_equal(sqlite3_exec(raw, "UPDATE users SET disabled = 1", NULL, NULL, NULL),
			 SQLITE_OK);
	check_refused(&t, token, NOW);
	assert_int_equal(sqlite3_exec(raw, "UPDATE users SET disabled = 0", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(auth_token_check(t.s, token, NOW, &p, &t.err), ACLM_OK);
	/* user rm removes its tokens */
	assert_int_equal(auth_user_rm(t.s, t.tenant, "bob", &t.err), ACLM_OK);
	check_refused(&t, token, NOW);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM api_tokens"), 0);
	sqlite3_close(raw);
	tdb_close(&t);
}

static void test_list_shows_fields_but_never_the_hash(void **state)
{
	struct tdb t;
	struct auth_token_req r;
	struct auth_principal p;
	char token[AUTH_TOKEN_MAX], id[32];
	json_t *list = NULL, *o;
	int64_t u = 0;
	char *text;

	tdb_open(&t);
	assert_int_equal(auth_user_add(t.s, t.tenant, "carol", AUTH_ROLE_OPERATOR, NULL, &u, &t.err),
			 ACLM_OK);
	r = req_for(t.tenant, u, AUTH_ROLE_OPERATOR);
	r.scope = AUTH_SCOPE_METRICS;
	r.expires_at = NOW + 3600;
	make_token(&t, &r, token, id);
	assert_int_equal(auth_token_check(t.s, token, NOW, &p, &t.err), ACLM_OK);
	assert_int_equal(p.scope, AUTH_SCOPE_METRICS);
	assert_false(auth_allows(&p, AUTH_READ));
	assert_int_equal(auth_token_list(t.s, t.tenant, &list, &t.err), ACLM_OK);
	assert_int_equal(json_array_size(list), 1);
	o = json_array_get(list, 0);
	assert_string_equal(aclm_json_str(o, "id"), id);
	assert_string_equal(aclm_json_str(o, "name"), "ci");
	assert_string_equal(aclm_json_str(o, "role"), "operator");
	assert_string_equal(aclm_json_str(o, "scope"), "metrics");
	assert_string_equal(aclm_json_str(o, "user"), "carol");
	assert_string_equal(aclm_json_str(o, "expires_at"), "2027-01-15T09:00:00Z");
	assert_true(json_is_null(json_object_get(o, "revoked_at")));
	assert_string_equal(aclm_json_str(o, "last_used_at"), "2027-01-15T08:00:00Z");
	assert_non_null(aclm_json_str(o, "created_at"));
	assert_null(json_object_get(o, "hash"));
	text = json_dumps(list, 0);
	assert_null(strstr(text, token + 22));
	free(text);
	json_decref(list);
	tdb_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_created_token_has_the_format_and_checks_into_its_principal),
		cmocka_unit_test(test_tampered_secret_with_the_right_id_fails),
		cmocka_unit_test(test_malformed_tokens_fail_with_the_same_message),
		cmocka_unit_test(test_revoked_token_fails_and_revoke_is_per_tenant),
		cmocka_unit_test(test_expired_token_fails_from_its_expiry_on),
		cmocka_unit_test(test_token_of_tenant_a_never_resolves_as_tenant_b),
		cmocka_unit_test(test_user_state_rules_its_tokens_disabled_removed_demoted),
		cmocka_unit_test(test_list_shows_fields_but_never_the_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
