/* The random strings and hashes of tokens and sessions: RAND_bytes,
 * base64url (RFC 4648 §5, no padding), SHA-256 hex. */
#include "auth/auth_int.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "core/encode.h"

#define RANDOM_MAX 64

static const char b64url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void b64url_encode(const unsigned char *in, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];

		out[o++] = b64url_alphabet[(v >> 18) & 63];
		out[o++] = b64url_alphabet[(v >> 12) & 63];
		out[o++] = b64url_alphabet[(v >> 6) & 63];
		out[o++] = b64url_alphabet[v & 63];
	}
	if (len - i == 1) {
		unsigned v = (unsigned)in[i] << 16;

		out[o++] = b64url_alphabet[(v >> 18) & 63];
		out[o++] = b64url_alphabet[(v >> 12) & 63];
	} else if (len - i == 2) {
		unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;

		out[o++] = b64url_alphabet[(v >> 18) & 63];
		out[o++] = b64url_alphabet[(v >> 12) & 63];
		out[o++] = b64url_alphabet[(v >> 6) & 63];
	}
	out[o] = '\0';
}

aclm_status auth__random_b64url(size_t n, char *out, size_t outsize, struct aclm_err *err)
{
	unsigned char buf[RANDOM_MAX];
	aclm_status ret = ACLM_OK;

	if (n > RANDOM_MAX || outsize < (n * 4 + 2) / 3 + 1)
		return aclm_err_set(err, ACLM_ERR_INTERNAL, "random string: %zu bytes do not fit", n);
	if (RAND_bytes(buf, (int)n) != 1)
		ret = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "random bytes");
	else
		b64url_encode(buf, n, out);
	OPENSSL_cleanse(buf, sizeof(buf));
	return ret;
}

aclm_status auth__random_hex(size_t n, char *out, struct aclm_err *err)
{
	unsigned char buf[RANDOM_MAX];
	aclm_status ret = ACLM_OK;

	if (n > RANDOM_MAX)
		return aclm_err_set(err, ACLM_ERR_INTERNAL, "random hex: %zu bytes is too many", n);
	if (RAND_bytes(buf, (int)n) != 1)
		ret = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "random bytes");
	else
		aclm_hex_encode(buf, n, out);
	OPENSSL_cleanse(buf, sizeof(buf));
	return ret;
}

aclm_status auth__sha256_hex(const void *data, size_t len, char out[65], struct aclm_err *err)
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != sizeof(md))
		return aclm_err_ssl(err, ACLM_ERR_CRYPTO, "SHA-256");
	aclm_hex_encode(md, sizeof(md), out);
	return ACLM_OK;
}

bool auth__is_b64url(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] == '\0' || strchr(b64url_alphabet, s[i]) == NULL)
			return false;
	return s[len] == '\0';
}
