/* auth: browser sessions (session.c): cookie and CSRF token. */
#include "../store/store_test.h"

#include "auth/auth.h"
#include "core/time.h"

#define FAIL_MSG "invalid or expired session"

struct sess {
	struct tdb t;
	struct auth_principal login;
	char cookie[AUTH_SESSION_MAX], csrf[AUTH_CSRF_MAX];
	int64_t now;
};

static void sess_open(struct sess *x, enum auth_role role)
{
	int64_t id = 0;

	tdb_open(&x->t);
	assert_int_equal(auth_user_add(x->t.s, x->t.tenant, "dana", role, NULL, &id, &x->t.err),
			 ACLM_OK);
	memset(&x->login, 0, sizeof(x->login));
	x->login.tenant_id = x->t.tenant;
	x->login.user_id = id;
	x->now = aclm_time_now();
	assert_int_equal(auth_session_create(x->t.s, &x->login, 3600, x->cookie, x->csrf, &x->t.err),
			 ACLM_OK);
}

static void refused(struct sess *x, const char *cookie, const char *csrf, int64_t now)
{
	struct auth_principal p;

	aclm_err_clear(&x->t.err);
	assert_int_equal(auth_session_check(x->t.s, cookie, csrf, now, &p, &x->t.err),
			 ACLM_ERR_PASSWORD);
	assert_string_equal(x->t.err.msg, FAIL_MSG);
	assert_int_equal(p.tenant_id, 0);
}

static void test_session_checks_into_the_user_and_stores_only_a_hash(void **state)
{
	struct sess x;
	struct auth_principal p;
	sqlite3 *raw;
	char sql[256];

	sess_open(&x, AUTH_ROLE_AUDITOR);
	assert_int_equal(strlen(x.cookie), 43);
	assert_int_equal(strlen(x.csrf), 43);
	assert_string_not_equal(x.cookie, x.csrf);
	assert_int_equal(auth_session_check(x.t.s, x.cookie, NULL, x.now, &p, &x.t.err), ACLM_OK);
	assert_int_equal(p.tenant_id, x.t.tenant);
	assert_string_equal(p.tenant, "default");
	assert_int_equal(p.role, AUTH_ROLE_AUDITOR);
	assert_int_equal(p.scope, AUTH_SCOPE_API);
	assert_int_equal(p.user_id, x.login.user_id);
	assert_string_equal(p.token_id, "");
	assert_string_equal(p.actor, "api:user:dana");
	raw = raw_open(x.t.path);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM sessions WHERE id_hash = '%s'", x.cookie);
	assert_int_equal(raw_int(raw, sql), 0);
	assert_int_equal(raw_int(raw, "SELECT length(id_hash) FROM sessions"), 64);
	sqlite3_close(raw);
	tdb_close(&x.t);
}

static void test_csrf_must_match_exactly_when_given(void **state)
{
	struct sess x;
	struct auth_principal p;
	char bad[AUTH_CSRF_MAX + 2];

	sess_open(&x, AUTH_ROLE_OPERATOR);
	assert_int_equal(auth_session_check(x.t.s, x.cookie, x.csrf, x.now, &p, &x.t.err), ACLM_OK);
	memcpy(bad, x.csrf, sizeof(x.csrf));
	bad[42] = bad[42] == 'A' ? 'B' : 'A';
	refused(&x, x.cookie, bad, x.now);
	bad[0] = bad[0] == 'A' ? 'B' : 'A';
	bad[42] = x.csrf[42];
	refused(&x, x.cookie, bad, x.now);
	refused(&x, x.cookie, "", x.now);
	snprintf(bad, sizeof(bad), "%.42s", x.csrf); /* a prefix */
	refused(&x, x.cookie, bad, x.now);
	snprintf(bad, sizeof(bad), "%sA", x.csrf); /* longer */
	refused(&x, x.cookie, bad, x.now);
	refused(&x, x.cookie, x.cookie, x.now); /* the cookie is not the CSRF token */
	tdb_close(&x.t);
}

static void test_expired_ended_tampered_or_disabled_sessions_fail(void **state)
{
	struct sess x;
	struct auth_principal p;
	char bad[AUTH_SESSION_MAX];
	sqlite3 *raw;

	sess_open(&x, AUTH_ROLE_ADMIN);
	refused(&x, x.cookie, NULL, x.now + 3602); /* ttl 3600 from creation */
	memcpy(bad, x.cookie, sizeof(bad));
	bad[10] = bad[10] == 'A' ? 'B' : 'A';
	refused(&x, bad, NULL, x.now);
	refused(&x, NULL, NULL, x.now);
	refused(&x, "short", NULL, x.now);
	raw = raw_open(x.t.path);
	assert_int_equal(sqlite3_exec(raw, "UPDATE users SET disabled = 1", NULL, NULL, NULL),
			 SQLITE_OK);
	refused(&x, x.cookie, NULL, x.now);
	assert_int_equal(sqlite3_exec(raw, "UPDATE users SET disabled = 0", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(raw);
	assert_int_equal(auth_session_check(x.t.s, x.cookie, NULL, x.now, &p, &x.t.err), ACLM_OK);
	assert_int_equal(auth_session_end(x.t.s, x.cookie, &x.t.err), ACLM_OK);
	refused(&x, x.cookie, NULL, x.now);
	assert_int_equal(auth_session_end(x.t.s, x.cookie, &x.t.err), ACLM_OK);
	assert_int_equal(auth_session_end(x.t.s, "garbage", &x.t.err), ACLM_OK);
	tdb_close(&x.t);
}

static void test_session_needs_a_user_and_dies_with_it(void **state)
{
	struct sess x;
	struct auth_principal nouser = { 0 };
	char c[AUTH_SESSION_MAX], k[AUTH_CSRF_MAX];

	sess_open(&x, AUTH_ROLE_VIEWER);
	nouser.tenant_id = x.t.tenant;
	assert_int_equal(auth_session_create(x.t.s, &nouser, 3600, c, k, &x.t.err), ACLM_ERR_INVALID);
	assert_int_equal(auth_session_create(x.t.s, &x.login, 0, c, k, &x.t.err), ACLM_ERR_INVALID);
	assert_int_equal(auth_user_rm(x.t.s, x.t.tenant, "dana", &x.t.err), ACLM_OK);
	refused(&x, x.cookie, NULL, x.now);
	tdb_close(&x.t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_checks_into_the_user_and_stores_only_a_hash),
		cmocka_unit_test(test_csrf_must_match_exactly_when_given),
		cmocka_unit_test(test_expired_ended_tampered_or_disabled_sessions_fail),
		cmocka_unit_test(test_session_needs_a_user_and_dies_with_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
