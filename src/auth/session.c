/* Browser sessions: the cookie is 32 random bytes (base64url) of which only
 * SHA-256 is stored; each session has a CSRF token (32 random bytes) that
 * unsafe requests echo in a header, compared in constant time. */
#include "auth/auth_int.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/time.h"

#define SESSION_BYTES 32

_Static_assert(AUTH__SECRET_B64_LEN < AUTH_SESSION_MAX, "a cookie fits AUTH_SESSION_MAX");
_Static_assert(AUTH__SECRET_B64_LEN < AUTH_CSRF_MAX, "a CSRF token fits AUTH_CSRF_MAX");

aclm_status auth_session_create(struct store *s, const struct auth_principal *p, int64_t ttl,
				char cookie[AUTH_SESSION_MAX], char csrf[AUTH_CSRF_MAX],
				struct aclm_err *err)
{
	struct store_session se = { 0 };
	aclm_status ret = ACLM_OK;

	cookie[0] = '\0';
	csrf[0] = '\0';
	if (p->user_id <= 0 || ttl <= 0)
		ret = aclm_err_set(err, ACLM_ERR_INVALID,
				   "a session needs a user and a positive lifetime");
	if (ret == ACLM_OK)
		ret = auth__random_b64url(SESSION_BYTES, cookie, AUTH_SESSION_MAX, err);
	if (ret == ACLM_OK)
		ret = auth__random_b64url(SESSION_BYTES, csrf, AUTH_CSRF_MAX, err);
	if (ret == ACLM_OK)
		ret = auth__sha256_hex(cookie, strlen(cookie), se.id_hash, err);
	if (ret == ACLM_OK) {
		se.tenant_id = p->tenant_id;
		se.user_id = p->user_id;
		snprintf(se.csrf, sizeof(se.csrf), "%s", csrf);
		se.created_at = aclm_time_now();
		se.expires_at = se.created_at + ttl;
		ret = store_session_add(s, &se, err);
	}
	if (ret != ACLM_OK) {
		OPENSSL_cleanse(cookie, AUTH_SESSION_MAX);
		OPENSSL_cleanse(csrf, AUTH_CSRF_MAX);
		cookie[0] = '\0';
		csrf[0] = '\0';
	}
	OPENSSL_cleanse(se.csrf, sizeof(se.csrf));
	return ret;
}

/* The row's verdict; fills p. */
static bool session_usable(const struct store_session *se, const char *csrf, int64_t now,
			   struct auth_principal *p)
{
	size_t len = strlen(se->csrf);

	if (now >= se->expires_at || se->user_disabled || !auth__role_from(se->user_role, &p->role))
		return false;
	/* Unsafe methods: the CSRF token, in constant time over its length. */
	if (csrf != NULL && (strnlen(csrf, len + 1) != len || CRYPTO_memcmp(csrf, se->csrf, len) != 0))
		return false;
	p->tenant_id = se->tenant_id;
	snprintf(p->tenant, sizeof(p->tenant), "%s", se->tenant_name);
	p->scope = AUTH_SCOPE_API;
	p->user_id = se->user_id;
	snprintf(p->actor, sizeof(p->actor), "api:user:%s", se->user_name);
	return true;
}

aclm_status auth_session_check(struct store *s, const char *cookie, const char *csrf,
			       int64_t now, struct auth_principal *p, struct aclm_err *err)
{
	struct store_session se;
	char hash[65];
	bool valid = false;
	aclm_status ret = ACLM_OK;

	memset(p, 0, sizeof(*p));
	memset(&se, 0, sizeof(se));
	if (cookie != NULL && auth__is_b64url(cookie, AUTH__SECRET_B64_LEN)) {
		ret = auth__sha256_hex(cookie, AUTH__SECRET_B64_LEN, hash, err);
		if (ret == ACLM_OK)
			ret = store_session_find(s, hash, &se, err);
		if (ret == ACLM_OK)
			valid = session_usable(&se, csrf, now, p);
		else if (ret == ACLM_ERR_NOTFOUND)
			ret = ACLM_OK; /* an unknown cookie is one more invalid session */
	}
	if (ret == ACLM_OK && !valid) {
		memset(p, 0, sizeof(*p));
		ret = aclm_err_set(err, ACLM_ERR_PASSWORD, AUTH__SESSION_FAIL);
	}
	OPENSSL_cleanse(se.csrf, sizeof(se.csrf));
	return ret;
}

/* A malformed or unknown cookie has no session to end: not an error. */
aclm_status auth_session_end(struct store *s, const char *cookie, struct aclm_err *err)
{
	char hash[65];
	bool well_formed = cookie != NULL && auth__is_b64url(cookie, AUTH__SECRET_B64_LEN);
	aclm_status ret = ACLM_OK;

	if (well_formed)
		ret = auth__sha256_hex(cookie, AUTH__SECRET_B64_LEN, hash, err);
	if (well_formed && ret == ACLM_OK)
		ret = store_session_delete(s, hash, err);
	return ret;
}
