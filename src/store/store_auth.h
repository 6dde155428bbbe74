/* store/: the auth area: users, API tokens and browser sessions (migration
 * 5's users, api_tokens, sessions) and the tenant list. Secrets never reach
 * the store: passwords arrive as argon2id strings, tokens and session ids as
 * SHA-256 hex. auth/ is the only caller; everyone else uses auth/auth.h. */
#ifndef ACLM_STORE_AUTH_H
#define ACLM_STORE_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/status.h"
#include "store/store.h"

#define STORE_AUTH_NAME_MAX 129    /* user and token names: 128 bytes + NUL */
#define STORE_AUTH_HASH_MAX 256    /* argon2id encoded string, NUL included */
#define STORE_AUTH_ROLE_MAX 16     /* "operator" ... */
#define STORE_AUTH_TOKEN_ID_MAX 32 /* 16 hex digits today */
#define STORE_AUTH_SHA256_HEX 65

struct store_user {
	int64_t id;
	int64_t tenant_id;
	char name[STORE_AUTH_NAME_MAX];
	char role[STORE_AUTH_ROLE_MAX];
	char password_hash[STORE_AUTH_HASH_MAX]; /* "" when the user has no password */
	bool disabled;
	int64_t created_at, updated_at;
};
typedef aclm_status (*store_user_cb)(const struct store_user *u, void *arg);

struct store_api_token {
	char id[STORE_AUTH_TOKEN_ID_MAX];
	int64_t tenant_id;
	int64_t user_id;           /* 0: not tied to a user */
	char name[STORE_AUTH_NAME_MAX];
	char role[STORE_AUTH_ROLE_MAX];
	char scope[STORE_AUTH_ROLE_MAX]; /* "api" | "metrics" */
	char hash[STORE_AUTH_SHA256_HEX]; /* SHA-256 hex of the secret part */
	int64_t created_at;
	int64_t expires_at;        /* 0: never */
	int64_t revoked_at;        /* 0: not revoked */
	int64_t last_used_at;      /* 0: never used */
	/* Read only, filled by the reads (joined): */
	char tenant_name[128];
	char user_name[STORE_AUTH_NAME_MAX]; /* "" without a user */
	char user_role[STORE_AUTH_ROLE_MAX]; /* "" without a user */
	bool user_disabled;
};
typedef aclm_status (*store_api_token_cb)(const struct store_api_token *t, void *arg);

struct store_session {
	char id_hash[STORE_AUTH_SHA256_HEX]; /* SHA-256 hex of the cookie value */
	int64_t tenant_id;
	int64_t user_id;
	char csrf[STORE_AUTH_NAME_MAX];
	int64_t created_at, expires_at;
	/* Read only, filled by the reads (joined): */
	char tenant_name[128];
	char user_name[STORE_AUTH_NAME_MAX];
	char user_role[STORE_AUTH_ROLE_MAX];
	bool user_disabled;
};

struct store_tenant {
	int64_t id;
	char name[128];
	int64_t created_at;
};
typedef aclm_status (*store_tenant_cb)(const struct store_tenant *t, void *arg);

/* The backend's table; a NULL entry means "unsupported". Every call on a
 * tenant's rows takes the tenant id, except the two lookups by a presented
 * secret (token_find by the token's public id, session_find by the cookie's
 * hash): those find the tenant from the row, which is the point. */
struct store_auth_ops {
	aclm_status (*user_add)(void *state, const struct store_user *u, int64_t *id,
				struct aclm_err *err);
	aclm_status (*user_get)(void *state, int64_t tenant, const char *name,
				struct store_user *out, struct aclm_err *err);
	aclm_status (*user_set_password)(void *state, int64_t tenant, const char *name,
					 const char *password_hash, struct aclm_err *err);
	aclm_status (*user_delete)(void *state, int64_t tenant, const char *name,
				   struct aclm_err *err);
	aclm_status (*user_list)(void *state, int64_t tenant, store_user_cb cb, void *arg,
				 struct aclm_err *err);
	aclm_status (*user_count)(void *state, int64_t tenant, int64_t *count,
				  struct aclm_err *err);

	aclm_status (*token_add)(void *state, const struct store_api_token *t,
				 struct aclm_err *err);
	aclm_status (*token_find)(void *state, const char *id, struct store_api_token *out,
				  struct aclm_err *err);
	aclm_status (*token_touch)(void *state, int64_t tenant, const char *id, int64_t now,
				   struct aclm_err *err);
	aclm_status (*token_revoke)(void *state, int64_t tenant, const char *id, int64_t now,
				    struct aclm_err *err);
	aclm_status (*token_list)(void *state, int64_t tenant, store_api_token_cb cb, void *arg,
				  struct aclm_err *err);

	aclm_status (*session_add)(void *state, const struct store_session *se,
				   struct aclm_err *err);
	aclm_status (*session_find)(void *state, const char *id_hash, struct store_session *out,
				    struct aclm_err *err);
	aclm_status (*session_delete)(void *state, const char *id_hash, struct aclm_err *err);

	aclm_status (*tenant_list)(void *state, store_tenant_cb cb, void *arg,
				   struct aclm_err *err);
};

/* Inserts a user; (tenant, name) taken -> ACLM_ERR_EXISTS. *id is the row. */
aclm_status store_user_add(struct store *s, const struct store_user *u, int64_t *id,
			   struct aclm_err *err);
/* ACLM_ERR_NOTFOUND when the tenant has no such user. */
aclm_status store_user_get(struct store *s, int64_t tenant, const char *name,
			   struct store_user *out, struct aclm_err *err);
/* password_hash NULL clears the password; unknown user -> ACLM_ERR_NOTFOUND. */
aclm_status store_user_set_password(struct store *s, int64_t tenant, const char *name,
				    const char *password_hash, struct aclm_err *err);
/* Deletes the user with its tokens and sessions (one statement: the foreign
 * keys cascade); unknown user -> ACLM_ERR_NOTFOUND. */
aclm_status store_user_delete(struct store *s, int64_t tenant, const char *name,
			      struct aclm_err *err);
/* The tenant's users ordered by name. */
aclm_status store_user_list(struct store *s, int64_t tenant, store_user_cb cb, void *arg,
			    struct aclm_err *err);
aclm_status store_user_count(struct store *s, int64_t tenant, int64_t *count,
			     struct aclm_err *err);

/* Inserts a token row; a user_id that is not a user of t->tenant_id ->
 * ACLM_ERR_NOTFOUND; an existing id -> ACLM_ERR_EXISTS. */
aclm_status store_token_add(struct store *s, const struct store_api_token *t,
			    struct aclm_err *err);
/* By the token's public id, whatever its tenant (the row says which);
 * ACLM_ERR_NOTFOUND if none. Fills the joined fields. */
aclm_status store_token_find(struct store *s, const char *id, struct store_api_token *out,
			     struct aclm_err *err);
/* Records a use at now, at most once a minute per token (a write per
 * request would serialise every API call on the write lock). */
aclm_status store_token_touch(struct store *s, int64_t tenant, const char *id, int64_t now,
			      struct aclm_err *err);
/* Sets revoked_at (the first revocation's time stays); a token not in the
 * tenant -> ACLM_ERR_NOTFOUND. */
aclm_status store_token_revoke(struct store *s, int64_t tenant, const char *id, int64_t now,
			       struct aclm_err *err);
/* The tenant's tokens ordered by creation. */
aclm_status store_token_list(struct store *s, int64_t tenant, store_api_token_cb cb, void *arg,
			     struct aclm_err *err);

/* Inserts a session; its user must be a user of se->tenant_id
 * (ACLM_ERR_NOTFOUND otherwise). */
aclm_status store_session_add(struct store *s, const struct store_session *se,
			      struct aclm_err *err);
/* By the cookie's hash; ACLM_ERR_NOTFOUND if none. Fills the joined fields. */
aclm_status store_session_find(struct store *s, const char *id_hash, struct store_session *out,
			       struct aclm_err *err);
/* Deletes it; no such session is not an error (logging out twice). */
aclm_status store_session_delete(struct store *s, const char *id_hash, struct aclm_err *err);

/* Every tenant ordered by name (the installation's admins list them). */
aclm_status store_tenant_list(struct store *s, store_tenant_cb cb, void *arg,
			      struct aclm_err *err);

#endif
