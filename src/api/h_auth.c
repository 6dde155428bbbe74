/* api/h_auth: browser sessions: POST /api/v1/login (rate limited per
 * client address and per user) sets the aclm_session cookie and returns
 * the CSRF token; POST /api/v1/logout ends the session. */
#include "api/api_int.h"

#include <stdio.h>
#include <string.h>

#include "core/json.h"

static void too_many(struct api__req *r, int64_t retry)
{
	char s[24];

	snprintf(s, sizeof(s), "%lld", (long long)retry);
	api__header(r, "Retry-After", s);
	api__problem(r, 429, "rate-limited", "too many login attempts; retry in %lld s",
		     (long long)retry);
}

static bool login_allowed(struct api__req *r, const char *tenant, const char *user)
{
	char key[API__LIMIT_KEY_MAX];
	int64_t retry = 0;

	snprintf(key, sizeof(key), "%s", r->peer);
	if (!api__limit_take(&r->w->srv->login_ip, key, r->now, &retry)) {
		too_many(r, retry);
		return false;
	}
	snprintf(key, sizeof(key), "%s/%s", tenant, user);
	if (!api__limit_take(&r->w->srv->login_user, key, r->now, &retry)) {
		too_many(r, retry);
		return false;
	}
	return true;
}

static void set_cookie(struct api__req *r, const char *value, bool clear)
{
	char c[AUTH_SESSION_MAX + 160];

	snprintf(c, sizeof(c), "aclm_session=%s; HttpOnly; Secure; SameSite=Strict; Path=/%s", value,
		 clear ? "; Max-Age=0" : "");
	api__header(r, "Set-Cookie", c);
}

void api__h_login(struct api__req *r)
{
	struct aclm_err err = { 0 };
	char cookie[AUTH_SESSION_MAX], csrf[AUTH_CSRF_MAX];
	json_t *body = api__body_json(r);
	const char *tenant = aclm_json_str(body, "tenant"), *user = aclm_json_str(body, "user"),
		   *password = aclm_json_str(body, "password");

	if (body == NULL)
		return;
	if (tenant == NULL)
		tenant = "default";
	if (user == NULL || password == NULL || strlen(user) > 64 || strlen(tenant) > 127 ||
	    strlen(password) > AUTH_PASSWORD_MAX) {
		api__problem(r, 400, "invalid", "give user and password (and tenant)");
		goto out;
	}
	if (!login_allowed(r, tenant, user))
		goto out;
	if (auth_login(r->w->store, tenant, user, password, &r->p, &err) != ACLM_OK) {
		if (err.code == ACLM_ERR_PASSWORD || err.code == ACLM_ERR_NOTFOUND)
			api__problem(r, 401, "unauthorized", "invalid user name or password");
		else
			api__problem_err(r, &err);
		goto out;
	}
	if (auth_session_create(r->w->store, &r->p, API__SESSION_TTL, cookie, csrf, &err) !=
		    ACLM_OK ||
	    api__audit(r, "auth.login", user, NULL, &err) != ACLM_OK) {
		api__problem_err(r, &err);
		goto out;
	}
	set_cookie(r, cookie, false);
	api__reply_json(r, 200, json_pack("{s:s, s:s, s:s, s:s, s:i}", "tenant", r->p.tenant, "user",
					  user, "role", auth_role_name(r->p.role), "csrf_token",
					  csrf, "expires_in", API__SESSION_TTL));
out:
	json_decref(body);
}

void api__h_logout(struct api__req *r)
{
	struct aclm_err err = { 0 };
	char cookie[AUTH_SESSION_MAX];

	/* A token caller has no session: logging out is then a no-op. */
	if (api__cookie(r, "aclm_session", cookie, sizeof(cookie)) &&
	    (auth_session_end(r->w->store, cookie, &err) != ACLM_OK ||
	     api__audit(r, "auth.logout", r->p.actor, NULL, &err) != ACLM_OK)) {
		api__problem_err(r, &err);
		return;
	}
	set_cookie(r, "", true);
	api__reply_empty(r, 204);
}
