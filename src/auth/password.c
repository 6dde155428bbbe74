/* Password hashing: argon2id (RFC 9106) via libargon2, encoded strings
 * "$argon2id$v=19$m=65536,t=3,p=1$SALT$HASH". */
#include "auth/auth_int.h"

#include <string.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

/* RFC 9106 §4 second recommended option is t=3, m=64 MiB; OWASP (2023)
 * asks for at least m=19 MiB, t=2. See docs/ARCHITECTURE.md, "auth". */
#define ARGON2_T 3
#define ARGON2_M_KIB (64u * 1024u)
#define ARGON2_P 1
#define SALT_LEN 16
#define HASH_LEN 32

/* UTF-8 characters, not bytes: the minimum is about what a person types. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

aclm_status auth_password_hash(const char *password, char out[AUTH_HASH_MAX],
			       struct aclm_err *err)
{
	unsigned char salt[SALT_LEN];
	size_t len = password != NULL ? strnlen(password, AUTH_PASSWORD_MAX + 1) : 0;
	int rc;

	out[0] = '\0';
	if (len > AUTH_PASSWORD_MAX || password == NULL || utf8_chars(password) < AUTH_PASSWORD_MIN)
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "a password must have %d to %d characters", AUTH_PASSWORD_MIN,
				    AUTH_PASSWORD_MAX);
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return aclm_err_ssl(err, ACLM_ERR_CRYPTO, "password salt");
	rc = argon2id_hash_encoded(ARGON2_T, ARGON2_M_KIB, ARGON2_P, password, len, salt,
				   sizeof(salt), HASH_LEN, out, AUTH_HASH_MAX);
	if (rc != ARGON2_OK) {
		out[0] = '\0';
		return aclm_err_set(err, rc == ARGON2_MEMORY_ALLOCATION_ERROR ? ACLM_ERR_NOMEM
									     : ACLM_ERR_CRYPTO,
				    "argon2id: %s", argon2_error_message(rc));
	}
	return ACLM_OK;
}

bool auth_password_verify(const char *encoded, const char *password)
{
	size_t len;

	if (encoded == NULL || password == NULL ||
	    strnlen(encoded, AUTH_HASH_MAX) >= AUTH_HASH_MAX ||
	    strncmp(encoded, "$argon2id$", 10) != 0)
		return false;
	len = strnlen(password, AUTH_PASSWORD_MAX + 1);
	if (len > AUTH_PASSWORD_MAX)
		return false;
	return argon2id_verify(encoded, password, len) == ARGON2_OK;
}

void auth__password_burn(const char *password)
{
	static const char salt[] = "aclm: no such user";
	unsigned char hash[HASH_LEN];
	size_t len = password != NULL ? strnlen(password, AUTH_PASSWORD_MAX) : 0;

	(void)argon2id_hash_raw(ARGON2_T, ARGON2_M_KIB, ARGON2_P, password != NULL ? password : "",
				len, salt, sizeof(salt) - 1, hash, sizeof(hash));
	OPENSSL_cleanse(hash, sizeof(hash));
}
