/* acme/ari: the RFC 9773 §4.1 certificate identifier of ACME Renewal
 * Information, "base64url(AKI keyIdentifier).base64url(serial)", both ways. */
#include "acme/acme.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "core/encode.h"

/* RFC 5280 §4.1.2.2: serials are at most 20 octets, so the INTEGER's
 * contents are at most 21 (a leading zero keeps a high bit positive). */
#define ARI_SERIAL_MAX 20
/* An identifier longer than this is not one: a 64-byte AKI (the most the
 * parser's callers keep) and a 21-octet serial take 86 + 1 + 28 characters. */
#define ARI_ID_MAX 128

/* The contents octets of a DER INTEGER (X.690 §8.3): *der points past the
 * tag and length. Returns the contents length, or -1. */
static long der_integer_contents(const unsigned char **der, long len)
{
	const unsigned char *p = *der;
	long n = -1, hdr = 2;

	if (len < 3 || p[0] != 0x02)
		goto out;
	if (p[1] < 0x80) {
		n = p[1];
	} else {
		/* Long form: p[1] & 0x7f length octets follow; serials need at most one. */
		if (p[1] != 0x81)
			goto out;
		n = p[2];
		hdr = 3;
	}
	if (n < 1 || hdr + n != len)
		n = -1;
	else
		*der = p + hdr;
out:
	return n;
}

char *acme_ari_cert_id(const X509 *cert)
{
	AUTHORITY_KEYID *akid = NULL;
	unsigned char *der = NULL;
	const unsigned char *content;
	char *aki64 = NULL, *serial64 = NULL, *id = NULL;
	long clen;
	int derlen, crit = 0;

	if (cert == NULL)
		goto out;
	/* A certificate with two AKI extensions gives NULL (crit -2): no id. */
	akid = X509_get_ext_d2i(cert, NID_authority_key_identifier, &crit, NULL);
	if (akid == NULL || akid->keyid == NULL || ASN1_STRING_length(akid->keyid) <= 0)
		goto out;
	derlen = i2d_ASN1_INTEGER(X509_get0_serialNumber(cert), &der);
	content = der;
	clen = derlen > 0 ? der_integer_contents(&content, derlen) : -1;
	if (clen < 0)
		goto out;
	aki64 = acme_b64url_encode(ASN1_STRING_get0_data(akid->keyid),
				   (size_t)ASN1_STRING_length(akid->keyid));
	serial64 = acme_b64url_encode(content, (size_t)clen);
	if (aki64 == NULL || serial64 == NULL || asprintf(&id, "%s.%s", aki64, serial64) < 0)
		id = NULL;
out:
	free(serial64);
	free(aki64);
	OPENSSL_free(der);
	AUTHORITY_KEYID_free(akid);
	return id;
}

/* The serial part: a minimal, positive DER INTEGER of at most 20 octets
 * without its sign octet, as lowercase hex the way crypto/cert.c's facts
 * print serials (i2a_ASN1_INTEGER: magnitude octets, "00" for zero). */
static aclm_status ari_serial(const char *s, size_t len, char serial_hex[41],
			      struct aclm_err *err)
{
	unsigned char buf[ARI_SERIAL_MAX + 1];
	long n = acme_b64url_decode(s, len, buf, sizeof(buf));
	size_t skip = 0;
	aclm_status st = ACLM_OK;

	if (n <= 0) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "ari: the serial is not base64url of 1 to "
				  "%d octets", ARI_SERIAL_MAX + 1);
		goto out;
	}
	/* X.690 §8.3.2: no leading 0x00 before an octet whose high bit is
	 * clear; a first octet with the high bit set is negative. */
	if ((buf[0] & 0x80) != 0 || (n > 1 && buf[0] == 0 && (buf[1] & 0x80) == 0)) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "ari: the serial is %s",
				  (buf[0] & 0x80) != 0 ? "negative" : "not minimal DER");
		goto out;
	}
	if (n > 1 && buf[0] == 0)
		skip = 1;
	if ((size_t)n - skip > ARI_SERIAL_MAX) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "ari: the serial is longer than %d octets",
				  ARI_SERIAL_MAX);
		goto out;
	}
	aclm_hex_encode(buf + skip, (size_t)n - skip, serial_hex);
out:
	return st;
}

aclm_status acme_ari_cert_id_parse(const char *id, char serial_hex[41], unsigned char *aki,
				   size_t aki_max, size_t *aki_len, struct aclm_err *err)
{
	size_t len = id != NULL ? strnlen(id, ARI_ID_MAX + 1) : 0;
	const char *dot = id != NULL ? memchr(id, '.', len) : NULL;
	long n;
	aclm_status st;

	serial_hex[0] = '\0';
	*aki_len = 0;
	if (dot == NULL || len > ARI_ID_MAX || dot == id || dot + 1 == id + len ||
	    memchr(dot + 1, '.', (size_t)(id + len - dot - 1)) != NULL) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "ari: a certificate id is "
				  "\"AKI.SERIAL\" (two base64url parts, at most %d characters)",
				  ARI_ID_MAX);
		goto out;
	}
	n = acme_b64url_decode(id, (size_t)(dot - id), aki, aki_max);
	if (n <= 0) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "ari: the AKI is not base64url of at most "
				  "%zu octets", aki_max);
		goto out;
	}
	st = ari_serial(dot + 1, (size_t)(id + len - dot - 1), serial_hex, err);
	if (st == ACLM_OK)
		*aki_len = (size_t)n;
out:
	return st;
}
