/* auth/: who is calling and what they may do. Users (argon2id password
 * hashes), API tokens (256 random bits, shown once, stored as SHA-256,
 * compared in constant time), browser sessions (cookie + CSRF token), the
 * four roles and what each allows, tenants. Used by the REST API (api/),
 * `aclm serve`'s first start and the CLI (tenant, user, token commands). */
#ifndef ACLM_AUTH_H
#define ACLM_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/status.h"
#include "store/store.h"

/* Ordered by power; the names are the strings stored and shown. */
enum auth_role { AUTH_ROLE_VIEWER = 0, AUTH_ROLE_AUDITOR, AUTH_ROLE_OPERATOR, AUTH_ROLE_ADMIN };

/* "viewer", "auditor", "operator", "admin". */
const char *auth_role_name(enum auth_role r);
/* Unknown name -> ACLM_ERR_INVALID naming it and the four roles. */
aclm_status auth_role_parse(const char *name, enum auth_role *out, struct aclm_err *err);

/* What a request needs. viewer: READ; auditor: READ and AUDIT; operator:
 * READ and WRITE; admin: everything in its tenant; an admin of the
 * "default" tenant also manages tenants (ADMIN_TENANTS). */
enum auth_action {
	AUTH_READ = 0,     /* list and get inventory, endpoints, scans, reports */
	AUTH_WRITE,        /* import, delete, issue, renew, scan, deploy, channels */
	AUTH_AUDIT,        /* the audit log */
	AUTH_ADMIN,        /* users and tokens of its tenant */
	AUTH_ADMIN_TENANTS /* create and list tenants */
};

/* Token scopes: "api" tokens call the API; "metrics" tokens only read
 * /metrics of their tenant. */
enum auth_scope { AUTH_SCOPE_API = 0, AUTH_SCOPE_METRICS };
const char *auth_scope_name(enum auth_scope s);

/* The caller of one request. */
struct auth_principal {
	int64_t tenant_id;
	char tenant[128];          /* name */
	enum auth_role role;
	enum auth_scope scope;
	int64_t user_id;           /* 0 for a token without user */
	char token_id[32];         /* "" for a session */
	char actor[160];           /* audit actor: "api:token:<id>" or "api:user:<name>" */
};

/* A "metrics" token is allowed none of the actions: /metrics checks its
 * scope itself (auth_allows is for the API's resources). */
bool auth_allows(const struct auth_principal *p, enum auth_action a);

/* ---- passwords (argon2id, libargon2) ---- */

#define AUTH_PASSWORD_MIN 12       /* characters */
#define AUTH_PASSWORD_MAX 1024
#define AUTH_HASH_MAX 256          /* encoded argon2id string */

/* Too short or too long -> ACLM_ERR_INVALID saying the bounds. */
aclm_status auth_password_hash(const char *password, char out[AUTH_HASH_MAX],
			       struct aclm_err *err);
/* false on mismatch or a malformed hash; never logs the password. */
bool auth_password_verify(const char *encoded, const char *password);

/* ---- tokens ---- */

/* The token string: "aclm_" ID "_" SECRET, ID 16 lowercase hex chars (the
 * row's key), SECRET 43 base64url chars (256 bits). */
#define AUTH_TOKEN_MAX 80

struct auth_token_req {
	int64_t tenant_id;
	int64_t user_id;           /* 0: not tied to a user */
	const char *name;          /* label shown in lists */
	enum auth_role role;
	enum auth_scope scope;
	int64_t expires_at;        /* 0: never */
};

/* Creates a token; `token` receives the string (shown once), `id` its ID. */
aclm_status auth_token_create(struct store *s, const struct auth_token_req *req,
			      char token[AUTH_TOKEN_MAX], char id[32], struct aclm_err *err);
/* Checks a presented token at time now: malformed, unknown, wrong secret,
 * revoked, expired or of a disabled user -> ACLM_ERR_PASSWORD with one
 * message for all ("invalid or expired token"), so nothing leaks. Fills p
 * and records last use. */
aclm_status auth_token_check(struct store *s, const char *token, int64_t now,
			     struct auth_principal *p, struct aclm_err *err);
/* Unknown id (or another tenant's) -> ACLM_ERR_NOTFOUND. */
aclm_status auth_token_revoke(struct store *s, int64_t tenant_id, const char *id, int64_t now,
			      struct aclm_err *err);
/* The tenant's tokens as JSON objects {id, name, role, scope, user,
 * created_at, expires_at, revoked_at, last_used_at} (never the hash). */
aclm_status auth_token_list(struct store *s, int64_t tenant_id, json_t **out,
			    struct aclm_err *err);

/* ---- users ---- */

/* name: 1..64 of [A-Za-z0-9._@-]; password may be NULL (token-only user). */
aclm_status auth_user_add(struct store *s, int64_t tenant_id, const char *name,
			  enum auth_role role, const char *password, int64_t *id,
			  struct aclm_err *err);
aclm_status auth_user_passwd(struct store *s, int64_t tenant_id, const char *name,
			     const char *password, struct aclm_err *err);
/* Removes the user, its tokens and sessions. */
aclm_status auth_user_rm(struct store *s, int64_t tenant_id, const char *name,
			 struct aclm_err *err);
/* [{id, name, role, has_password, disabled, created_at}] */
aclm_status auth_user_list(struct store *s, int64_t tenant_id, json_t **out,
			   struct aclm_err *err);
/* Password login of name in tenant; any failure -> ACLM_ERR_PASSWORD with
 * one message ("invalid user name or password"), after the same work
 * whether or not the user exists. */
aclm_status auth_login(struct store *s, const char *tenant, const char *name,
		       const char *password, struct auth_principal *p, struct aclm_err *err);

/* ---- sessions (the web UI's cookies) ---- */

#define AUTH_SESSION_MAX 64        /* cookie value: 43 base64url chars */
#define AUTH_CSRF_MAX 64

aclm_status auth_session_create(struct store *s, const struct auth_principal *p, int64_t ttl,
				char cookie[AUTH_SESSION_MAX], char csrf[AUTH_CSRF_MAX],
				struct aclm_err *err);
/* Checks the cookie and, when csrf is not NULL (unsafe methods), the
 * CSRF token in constant time; any failure -> ACLM_ERR_PASSWORD. */
aclm_status auth_session_check(struct store *s, const char *cookie, const char *csrf,
			       int64_t now, struct auth_principal *p, struct aclm_err *err);
aclm_status auth_session_end(struct store *s, const char *cookie, struct aclm_err *err);

/* ---- tenants ---- */

/* [{id, name, created_at}] */
aclm_status auth_tenant_list(struct store *s, json_t **out, struct aclm_err *err);

/* ---- first start of `aclm serve` ---- */

/* When the "default" tenant has no user: creates the tenant (if needed),
 * user admin_name (role admin, no password) and an admin API token named
 * "bootstrap" for it, in one transaction; token receives the string (shown
 * once) and *created is true. Otherwise *created is false and nothing
 * changes. */
aclm_status auth_bootstrap(struct store *s, const char *admin_name, char token[AUTH_TOKEN_MAX],
			   bool *created, struct aclm_err *err);

#endif
