/* store: the auth area (users, API tokens, sessions, tenant list) on
 * migration 5's tables, and its tenant isolation. */
#include "store_test.h"

#include "core/time.h"
#include "store/store_auth.h"

#define HASH_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HASH_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static int64_t add_user(struct tdb *t, int64_t tenant, const char *name, const char *role)
{
	struct store_user u = { .tenant_id = tenant };
	int64_t id = 0;

	snprintf(u.name, sizeof(u.name), "%s", name);
	snprintf(u.role, sizeof(u.role), "%s", role);
	snprintf(u.password_hash, sizeof(u.password_hash), "$argon2id$fake");
	assert_int_equal(store_user_add(t->s, &u, &id, &t->err), ACLM_OK);
	assert_true(id > 0);
	return id;
}

static struct store_api_token token_row(int64_t tenant, const char *id, int64_t user)
{
	struct store_api_token tok = { .tenant_id = tenant, .user_id = user };

	snprintf(tok.id, sizeof(tok.id), "%s", id);
	snprintf(tok.name, sizeof(tok.name), "ci");
	snprintf(tok.role, sizeof(tok.role), "operator");
	snprintf(tok.scope, sizeof(tok.scope), "api");
	snprintf(tok.hash, sizeof(tok.hash), HASH_A);
	tok.created_at = NOW;
	return tok;
}

static struct store_session session_row(int64_t tenant, const char *hash, int64_t user)
{
	struct store_session se = { .tenant_id = tenant, .user_id = user };

	snprintf(se.id_hash, sizeof(se.id_hash), "%s", hash);
	snprintf(se.csrf, sizeof(se.csrf), "csrf-value");
	se.created_at = NOW;
	se.expires_at = NOW + 3600;
	return se;
}

static aclm_status count_user(const struct store_user *u, void *arg)
{
	(void)u;
	(*(int *)arg)++;
	return ACLM_OK;
}

static aclm_status count_token(const struct store_api_token *t, void *arg)
{
	(void)t;
	(*(int *)arg)++;
	return ACLM_OK;
}

static void test_user_add_get_password_and_duplicate_name(void **state)
{
	struct tdb t;
	struct store_user u;
	int64_t id, dup = 0, n = -1;

	tdb_open(&t);
	id = add_user(&t, t.tenant, "alice", "admin");
	assert_int_equal(store_user_get(t.s, t.tenant, "alice", &u, &t.err), ACLM_OK);
	assert_int_equal(u.id, id);
	assert_int_equal(u.tenant_id, t.tenant);
	assert_string_equal(u.role, "admin");
	assert_string_equal(u.password_hash, "$argon2id$fake");
	assert_false(u.disabled);
	assert_true(u.created_at > 0);
	assert_int_equal(store_user_add(t.s, &u, &dup, &t.err), ACLM_ERR_EXISTS);
	assert_non_null(strstr(t.err.msg, "alice"));
	/* NULL clears the password: a token-only user */
	assert_int_equal(store_user_set_password(t.s, t.tenant, "alice", NULL, &t.err), ACLM_OK);
	assert_int_equal(store_user_get(t.s, t.tenant, "alice", &u, &t.err), ACLM_OK);
	assert_string_equal(u.password_hash, "");
	assert_int_equal(store_user_get(t.s, t.tenant, "bob", &u, &t.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(store_user_count(t.s, t.tenant, &n, &t.err), ACLM_OK);
	assert_int_equal(n, 1);
	tdb_close(&t);
}

static void test_user_delete_takes_its_tokens_and_sessions_along(void **state)
{
	struct tdb t;
	struct store_api_token tok, got;
	struct store_session se, sg;
	int64_t alice, bob;
	sqlite3 *raw;

	tdb_open(&t);
	alice = add_user(&t, t.tenant, "alice", "admin");
	bob = add_user(&t, t.tenant, "bob", "viewer");
	tok = token_row(t.tenant, "00000000000000a1", alice);
	assert_int_equal(store_token_add(t.s, &tok, &t.err), ACLM_OK);
	tok = token_row(t.tenant, "00000000000000b1", bob);
	assert_int_equal(store_token_add(t.s, &tok, &t.err), ACLM_OK);
	tok = token_row(t.tenant, "0000000000000001", 0);
	assert_int_equal(store_token_add(t.s, &tok, &t.err), ACLM_OK);
	se = session_row(t.tenant, HASH_A, alice);
	assert_int_equal(store_session_add(t.s, &se, &t.err), ACLM_OK);
	se = session_row(t.tenant, HASH_B, bob);
	assert_int_equal(store_session_add(t.s, &se, &t.err), ACLM_OK);

	assert_int_equal(store_user_delete(t.s, t.tenant, "alice", &t.err), ACLM_OK);
	assert_int_equal(store_token_find(t.s, "00000000000000a1", &got, &t.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(store_session_find(t.s, HASH_A, &sg, &t.err), ACLM_ERR_NOTFOUND);
	/* bob's and the user-less token stay */
	assert_int_equal(store_token_find(t.s, "00000000000000b1", &got, &t.err), ACLM_OK);
	assert_int_equal(store_token_find(t.s, "0000000000000001", &got, &t.err), ACLM_OK);
	assert_int_equal(store_session_find(t.s, HASH_B, &sg, &t.err), ACLM_OK);
	raw = raw_open(t.path);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM api_tokens"), 2);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM sessions"), 1);
	sqlite3_close(raw);
	assert_int_equal(store_user_delete(t.s, t.tenant, "alice", &t.err), ACLM_ERR_NOTFOUND);
	tdb_close(&t);
}

static void test_token_find_joins_tenant_and_user_and_revoke_keeps_first_time(void **state)
{
	struct tdb t;
	struct store_api_token tok, got;
	int64_t alice;
	sqlite3 *raw;

	tdb_open(&t);
	alice = add_user(&t, t.tenant, "alice", "viewer");
	tok = token_row(t.tenant, "00000000000000a1", alice);
	tok.expires_at = NOW + 100;
	assert_int_equal(store_token_add(t.s, &tok, &t.err), ACLM_OK);
	assert_int_equal(store_token_add(t.s, &tok, &t.err), ACLM_ERR_EXISTS);
	assert_int_equal(store_token_find(t.s, "00000000000000a1", &got, &t.err), ACLM_OK);
	assert_int_equal(got.tenant_id, t.tenant);
	assert_string_equal(got.tenant_name, "default");
	assert_int_equal(got.user_id, alice);
	assert_string_equal(got.user_name, "alice");
	assert_string_equal(got.user_role, "viewer");
	assert_string_equal(got.role, "operator");
	assert_string_equal(got.hash, HASH_A);
	assert_int_equal(got.expires_at, NOW + 100);
	assert_int_equal(got.revoked_at, 0);

	assert_int_equal(store_token_revoke(t.s, t.tenant, "00000000000000a1", NOW + 5, &t.err),
			 ACLM_OK);
	assert_int_equal(store_token_revoke(t.s, t.tenant, "00000000000000a1", NOW + 9, &t.err),
			 ACLM_OK);
	assert_int_equal(store_token_find(t.s, "00000000000000a1", &got, &t.err), ACLM_OK);
	assert_int_equal(got.revoked_at, NOW + 5);
	assert_int_equal(store_token_revoke(t.s, t.tenant, "ffffffffffffffff", NOW, &t.err),
			 ACLM_ERR_NOTFOUND);

	/* a use is recorded, then not again within the minute */
	assert_int_equal(store_token_touch(t.s, t.tenant, "00000000000000a1", NOW, &t.err), ACLM_OK);
	assert_int_equal(store_token_touch(t.s, t.tenant, "00000000000000a1", NOW + 59, &t.err),
			 ACLM_OK);
	raw = raw_open(t.path);
	assert_int_equal(raw_int(raw, "SELECT last_used_at FROM api_tokens"), NOW);
	assert_int_equal(store_token_touch(t.s, t.tenant, "00000000000000a1", NOW + 60, &t.err),
			 ACLM_OK);
	assert_int_equal(raw_int(raw, "SELECT last_used_at FROM api_tokens"), NOW + 60);
	sqlite3_close(raw);
	tdb_close(&t);
}

static void test_other_tenant_never_sees_users_tokens_or_sessions(void **state)
{
	struct tdb t;
	struct store_api_token tok;
	struct store_session se;
	struct store_user u;
	int64_t b = 0, alice, n = 0;
	int count = 0;
	sqlite3 *raw;

	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "team-b", &b, &t.err), ACLM_OK);
	alice = add_user(&t, t.tenant, "alice", "admin");
	tok = token_row(t.tenant, "00000000000000a1", alice);
	assert_int_equal(store_token_add(t.s, &tok, &t.err), ACLM_OK);

	assert_int_equal(store_user_get(t.s, b, "alice", &u, &t.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(store_user_set_password(t.s, b, "alice", "$argon2id$x", &t.err),
			 ACLM_ERR_NOTFOUND);
	assert_int_equal(store_user_delete(t.s, b, "alice", &t.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(store_user_list(t.s, b, count_user, &count, &t.err), ACLM_OK);
	assert_int_equal(count, 0);
	assert_int_equal(store_user_count(t.s, b, &n, &t.err), ACLM_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_token_list(t.s, b, count_token, &count, &t.err), ACLM_OK);
	assert_int_equal(count, 0);
	assert_int_equal(store_token_revoke(t.s, b, "00000000000000a1", NOW, &t.err),
			 ACLM_ERR_NOTFOUND);
	assert_int_equal(store_token_touch(t.s, b, "00000000000000a1", NOW, &t.err), ACLM_OK);
	/* b cannot hang a token or a session on a's user */
	tok = token_row(b, "00000000000000b1", alice);
	assert_int_equal(store_token_add(t.s, &tok, &t.err), ACLM_ERR_NOTFOUND);
	se = session_row(b, HASH_B, alice);
	assert_int_equal(store_session_add(t.s, &se, &t.err), ACLM_ERR_NOTFOUND);
	raw = raw_open(t.path);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM api_tokens"), 1);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM sessions"), 0);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL"
				      " AND last_used_at IS NULL"), 1);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM users WHERE password_hash = '$argon2id$fake'"),
			 1);
	sqlite3_close(raw);
	/* and the same name in b is b's own user */
	assert_int_not_equal(add_user(&t, b, "alice", "viewer"), alice);
	assert_int_equal(store_user_list(t.s, t.tenant, count_user, &count, &t.err), ACLM_OK);
	assert_int_equal(count, 1);
	tdb_close(&t);
}

static void test_session_find_joins_user_and_add_drops_expired_ones(void **state)
{
	struct tdb t;
	struct store_session se, got;
	int64_t alice;
	sqlite3 *raw;

	tdb_open(&t);
	alice = add_user(&t, t.tenant, "alice", "auditor");
	se = session_row(t.tenant, HASH_A, alice);
	se.expires_at = 1000; /* long gone */
	assert_int_equal(store_session_add(t.s, &se, &t.err), ACLM_OK);
	se = session_row(t.tenant, HASH_B, alice);
	se.expires_at = aclm_time_now() + 3600;
	assert_int_equal(store_session_add(t.s, &se, &t.err), ACLM_OK);
	assert_int_equal(store_session_find(t.s, HASH_A, &got, &t.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(store_session_find(t.s, HASH_B, &got, &t.err), ACLM_OK);
	assert_string_equal(got.user_name, "alice");
	assert_string_equal(got.user_role, "auditor");
	assert_string_equal(got.tenant_name, "default");
	assert_string_equal(got.csrf, "csrf-value");
	assert_int_equal(got.user_id, alice);
	assert_int_equal(store_session_delete(t.s, HASH_B, &t.err), ACLM_OK);
	assert_int_equal(store_session_delete(t.s, HASH_B, &t.err), ACLM_OK);
	raw = raw_open(t.path);
	assert_int_equal(raw_int(raw, "SELECT count(*) FROM sessions"), 0);
	sqlite3_close(raw);
	tdb_close(&t);
}

struct names {
	char list[256];
};

static aclm_status join_tenant(const struct store_tenant *tn, void *arg)
{
	struct names *n = arg;

	strcat(n->list, tn->name);
	strcat(n->list, ",");
	return tn->id > 0 && tn->created_at > 0 ? ACLM_OK : ACLM_ERR_INTERNAL;
}

static void test_tenant_list_orders_by_name(void **state)
{
	struct tdb t;
	struct names n = { "" };
	int64_t id;

	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "zeta", &id, &t.err), ACLM_OK);
	assert_int_equal(store_tenant_ensure(t.s, "alpha", &id, &t.err), ACLM_OK);
	assert_int_equal(store_tenant_list(t.s, join_tenant, &n, &t.err), ACLM_OK);
	assert_string_equal(n.list, "alpha,default,zeta,");
	tdb_close(&t);
}

static void test_writes_refuse_empty_names_and_bad_hashes(void **state)
{
	struct tdb t;
	struct store_user u = { 0 };
	struct store_api_token tok;
	int64_t id = 0;

	tdb_open(&t);
	u.tenant_id = t.tenant;
	snprintf(u.role, sizeof(u.role), "admin");
	assert_int_equal(store_user_add(t.s, &u, &id, &t.err), ACLM_ERR_INVALID);
	snprintf(u.name, sizeof(u.name), "alice");
	u.role[0] = '\0';
	assert_int_equal(store_user_add(t.s, &u, &id, &t.err), ACLM_ERR_INVALID);
	tok = token_row(t.tenant, "00000000000000a1", 0);
	tok.hash[10] = '\0';
	assert_int_equal(store_token_add(t.s, &tok, &t.err), ACLM_ERR_INVALID);
	tdb_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_user_add_get_password_and_duplicate_name),
		cmocka_unit_test(test_user_delete_takes_its_tokens_and_sessions_along),
		cmocka_unit_test(test_token_find_joins_tenant_and_user_and_revoke_keeps_first_time),
		cmocka_unit_test(test_other_tenant_never_sees_users_tokens_or_sessions),
		cmocka_unit_test(test_session_find_joins_user_and_add_drops_expired_ones),
		cmocka_unit_test(test_tenant_list_orders_by_name),
		cmocka_unit_test(test_writes_refuse_empty_names_and_bad_hashes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
