/* Certificate-building helpers shared by ca/ files: random serials, their
 * hex form, and extensions from OpenSSL's configuration syntax. */
#include "ca/ca_int.h"

#include <openssl/bn.h>
#include <openssl/rand.h>

#include "ca/ca.h"
#include "core/encode.h"

/* RFC 5280 §4.1.2.2: positive, at most 20 octets; CA/B BR §7.1: at least
 * 64 bits from a CSPRNG. */
aclm_status ca__random_serial(X509 *x, struct aclm_err *err)
{
	unsigned char b[CA_SERIAL_BYTES];
	BIGNUM *bn = NULL;
	aclm_status st = ACLM_OK;

	if (RAND_bytes(b, sizeof(b)) != 1)
		return aclm_err_ssl(err, ACLM_ERR_CRYPTO, "random serial");
	b[0] = (unsigned char)((b[0] & 0x3f) | 0x40);
	bn = BN_bin2bn(b, sizeof(b), NULL);
	if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "random serial");
	BN_free(bn);
	return st;
}

aclm_status ca__add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value,
			struct aclm_err *err)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
	aclm_status st = ACLM_OK;

	if (ext == NULL || !X509_add_ext(x, ext, -1))
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "certificate extension %s = %s",
				  OBJ_nid2sn(nid), value);
	X509_EXTENSION_free(ext);
	return st;
}

void ca__serial_hex(const X509 *x, char out[41])
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	size_t len = (size_t)ASN1_STRING_length(sn);

	if (len > 20)
		len = 20;
	aclm_hex_encode(ASN1_STRING_get0_data(sn), len, out);
	out[2 * len] = '\0';
}
