/* Hex and base64 encodings (base64 through OpenSSL's EVP codec). */
#include "core/encode.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

void aclm_hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

long aclm_hex_decode(const char *in, unsigned char *out, size_t outmax)
{
	size_t n = 0;
	int hi = -1;

	for (; *in != '\0'; in++) {
		int v;

		if (*in == ':')
			continue;
		v = hexval((unsigned char)*in);
		if (v < 0)
			return -1;
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= outmax)
			return -1;
		out[n++] = (unsigned char)(hi << 4 | v);
		hi = -1;
	}
	return hi < 0 ? (long)n : -1;
}

char *aclm_base64_encode(const unsigned char *in, size_t len)
{
	size_t outlen = 4 * ((len + 2) / 3) + 1;
	char *out;

	if (len > (size_t)INT32_MAX)
		return NULL;
	out = malloc(outlen);
	if (out == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

long aclm_base64_decode(const char *in, unsigned char *out, size_t outmax)
{
	size_t len = strlen(in), n = 0, pad = 0;
	char *clean;
	int got;

	clean = malloc(len + 1);
	if (clean == NULL)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)in[i]))
			clean[n++] = in[i];
	clean[n] = '\0';
	if (n == 0 || n % 4 != 0 || n / 4 * 3 > outmax + 2) {
		free(clean);
		return -1;
	}
	if (clean[n - 1] == '=')
		pad++;
	if (clean[n - 2] == '=')
		pad++;
	{
		unsigned char *tmp = malloc(n / 4 * 3);

		if (tmp == NULL) {
			free(clean);
			return -1;
		}
		got = EVP_DecodeBlock(tmp, (unsigned char *)clean, (int)n);
		free(clean);
		if (got < 0 || (size_t)got < pad || (size_t)got - pad > outmax) {
			OPENSSL_clear_free(tmp, n / 4 * 3);
			return -1;
		}
		memcpy(out, tmp, (size_t)got - pad);
		OPENSSL_clear_free(tmp, n / 4 * 3);
	}
	return (long)((size_t)got - pad);
}

bool aclm_secret_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
