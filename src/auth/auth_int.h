/* Internals shared by the files of auth/: random strings, hashing, the
 * parsers of stored names, and the one message of every failed check. */
#ifndef ACLM_AUTH_INT_H
#define ACLM_AUTH_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/auth.h"
#include "store/store_auth.h"

/* Said for every failed token or session check, whatever the reason, so
 * that a probe learns nothing. */
#define AUTH__TOKEN_FAIL "invalid or expired token"
#define AUTH__LOGIN_FAIL "invalid user name or password"
#define AUTH__SESSION_FAIL "invalid or expired session"

/* base64url without padding of 32 random bytes: 43 characters. */
#define AUTH__SECRET_B64_LEN 43

/* n random bytes (RAND_bytes) as base64url without padding into out
 * (4 * n / 3 + 2 bytes); ACLM_ERR_CRYPTO when the RNG fails. */
aclm_status auth__random_b64url(size_t n, char *out, size_t outsize, struct aclm_err *err);
/* n random bytes as lowercase hex into out (2 * n + 1 bytes). */
aclm_status auth__random_hex(size_t n, char *out, struct aclm_err *err);
/* Lowercase hex SHA-256 of len bytes. */
aclm_status auth__sha256_hex(const void *data, size_t len, char out[65], struct aclm_err *err);
/* True when s is exactly len characters of [A-Za-z0-9_-] (reads at most
 * len + 1 bytes of s). */
bool auth__is_b64url(const char *s, size_t len);

/* Whether the value is one of the enum's. */
bool auth__role_known(enum auth_role r);
bool auth__scope_known(enum auth_scope s);
/* The stored names back to enums; false when unknown. */
bool auth__role_from(const char *name, enum auth_role *out);
bool auth__scope_from(const char *name, enum auth_scope *out);

/* One argon2id computation with the parameters of auth_password_hash on
 * password, result thrown away: a login for an unknown user costs what a
 * login for a known one does. */
void auth__password_burn(const char *password);

/* Sets key of o to t as RFC 3339, or to null when t is 0; 0 on success. */
int auth__json_time(json_t *o, const char *key, int64_t t);

/* A user name: 1..64 of [A-Za-z0-9._@-]. */
aclm_status auth__user_name_check(const char *name, struct aclm_err *err);

#endif
