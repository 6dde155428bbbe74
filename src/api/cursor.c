/* api/cursor: list cursors are opaque to clients: base64url of the last
 * row's position, "ID" or, for lists in expiry order, "NOT_AFTER.ID", so
 * that the encoding can change without a new API. */
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme.h"

void api__cursor_encode(const struct api__cursor *c, char out[API__CURSOR_MAX])
{
	char dec[48];
	char *b = NULL;
	int n = c->has_key ? snprintf(dec, sizeof(dec), "%lld.%lld", (long long)c->key,
				      (long long)c->id)
			   : snprintf(dec, sizeof(dec), "%lld", (long long)c->id);

	out[0] = '\0';
	if (n > 0)
		b = acme_b64url_encode((const unsigned char *)dec, (size_t)n);
	if (b != NULL && strlen(b) < API__CURSOR_MAX)
		memcpy(out, b, strlen(b) + 1);
	free(b);
}

/* 1..18 digits, no sign, no leading zero (one spelling per number). */
static bool number(const unsigned char *p, size_t n, int64_t *out)
{
	int64_t v = 0;

	if (n < 1 || n > 18 || (p[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return true;
}

bool api__cursor_decode(const char *s, struct api__cursor *c)
{
	unsigned char dec[48];
	const unsigned char *dot;
	size_t len = strlen(s);
	long n;
	bool neg;

	memset(c, 0, sizeof(*c));
	if (len == 0 || len >= API__CURSOR_MAX)
		return false;
	n = acme_b64url_decode(s, len, dec, sizeof(dec) - 1);
	if (n < 1)
		return false;
	dot = memchr(dec, '.', (size_t)n);
	if (dot == NULL)
		return number(dec, (size_t)n, &c->id) && c->id > 0;
	/* Expiry keys may be before 1970. */
	neg = dec[0] == '-';
	if (!number(dec + neg, (size_t)(dot - dec) - neg, &c->key) ||
	    !number(dot + 1, (size_t)(dec + n - dot - 1), &c->id) || c->id < 1)
		return false;
	if (neg)
		c->key = -c->key;
	c->has_key = true;
	return true;
}
