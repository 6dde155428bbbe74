/* acme/b64url: base64url without padding (RFC 4648 §5, RFC 7515 §2), the
 * encoding of every binary member of a JWS or JWK. */
#include "acme/acme.h"

#include <limits.h>
#include <stdlib.h>

static const char b64url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *acme_b64url_encode(const unsigned char *in, size_t len)
{
	size_t outlen = len / 3 * 4 + (len % 3 != 0 ? len % 3 + 1 : 0);
	char *out = NULL;
	size_t o = 0;

	if (len > (SIZE_MAX - 1) / 4 * 3 || (in == NULL && len != 0))
		goto out;
	out = malloc(outlen + 1);
	if (out == NULL)
		goto out;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t n = len - i < 3 ? len - i : 3;

		if (n > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (n > 2)
			v |= in[i + 2];
		out[o++] = b64url_alphabet[(v >> 18) & 63];
		out[o++] = b64url_alphabet[(v >> 12) & 63];
		if (n > 1)
			out[o++] = b64url_alphabet[(v >> 6) & 63];
		if (n > 2)
			out[o++] = b64url_alphabet[v & 63];
	}
	out[o] = '\0';
out:
	return out;
}

/* The 6-bit value of c, or -1 for anything outside the URL-safe alphabet
 * ('=', '+', '/', whitespace included). */
static int b64url_value(unsigned char c)
{
	int v = -1;

	if (c >= 'A' && c <= 'Z')
		v = c - 'A';
	else if (c >= 'a' && c <= 'z')
		v = c - 'a' + 26;
	else if (c >= '0' && c <= '9')
		v = c - '0' + 52;
	else if (c == '-')
		v = 62;
	else if (c == '_')
		v = 63;
	return v;
}

long acme_b64url_decode(const char *in, size_t inlen, unsigned char *out, size_t outmax)
{
	size_t need = inlen / 4 * 3 + (inlen % 4 != 0 ? inlen % 4 - 1 : 0);
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;
	long ret = -1;

	/* One leftover character carries only 6 bits: no whole byte. */
	if (inlen % 4 == 1 || need > outmax || need > LONG_MAX || (in == NULL && inlen != 0))
		goto out;
	for (size_t i = 0; i < inlen; i++) {
		int v = b64url_value((unsigned char)in[i]);

		if (v < 0)
			goto out;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* RFC 4648 §3.5: the unused bits of the last character must be zero, so
	 * each byte string has exactly one encoding. */
	if (acc != 0)
		goto out;
	ret = (long)o;
out:
	return ret;
}
