/* CRLs of an issuer (RFC 5280 §5): v2, CRL number and AKI, one entry per
 * revoked serial with its reason, signed like certificates (SM2 with ID). */
#include "ca/ca_int.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>

#include "core/time.h"

#define SERIAL_HEX_MAX 40          /* RFC 5280 §4.1.2.2: at most 20 octets */
#define CRL_NEXT_UPDATE_MAX ((int64_t)366 * 86400) /* keeps now + it far from overflow */

/* RFC 5280 §5.3.1: CRLReason 0..10, 7 unused. */
static bool reason_valid(int r)
{
	return r >= 0 && r <= 10 && r != 7;
}

static aclm_status serial_from_hex(const char *hex, ASN1_INTEGER **out, struct aclm_err *err)
{
	size_t len = hex != NULL ? strlen(hex) : 0;
	BIGNUM *bn = NULL;
	aclm_status st = ACLM_OK;

	*out = NULL;
	/* BN_hex2bn would take a '-' and stop silently at the first non-digit. */
	if (len == 0 || len > SERIAL_HEX_MAX || strspn(hex, "0123456789abcdefABCDEF") != len) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "CRL: serial \"%.48s\" is not 1 to %d hex "
				  "digits", hex != NULL ? hex : "", SERIAL_HEX_MAX);
		goto out;
	}
	if (!BN_hex2bn(&bn, hex) || (*out = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "CRL: serial %s", hex);
out:
	BN_free(bn);
	return st;
}

static aclm_status add_entry(X509_CRL *crl, const struct ca_crl_entry *e, struct aclm_err *err)
{
	X509_REVOKED *rev = X509_REVOKED_new();
	ASN1_INTEGER *serial = NULL;
	ASN1_TIME *when = NULL;
	ASN1_ENUMERATED *reason = NULL;
	aclm_status st = ACLM_OK;

	if (!reason_valid(e->reason)) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "CRL: reason %d (RFC 5280 §5.3.1)",
				  e->reason);
		goto out;
	}
	if ((st = serial_from_hex(e->serial_hex, &serial, err)) != ACLM_OK)
		goto out;
	if (rev == NULL || (when = ASN1_TIME_set(NULL, (time_t)e->revoked_at)) == NULL ||
	    !X509_REVOKED_set_serialNumber(rev, serial) ||
	    !X509_REVOKED_set_revocationDate(rev, when)) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "CRL: entry %s", e->serial_hex);
		goto out;
	}
	/* §5.3.1: the reasonCode extension is absent rather than unspecified (0). */
	if (e->reason != 0 &&
	    ((reason = ASN1_ENUMERATED_new()) == NULL || !ASN1_ENUMERATED_set(reason, e->reason) ||
	     !X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0, X509V3_ADD_DEFAULT))) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "CRL: reason of %s", e->serial_hex);
		goto out;
	}
	if (!X509_CRL_add0_revoked(crl, rev)) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "CRL: entry %s", e->serial_hex);
		goto out;
	}
	rev = NULL;
out:
	ASN1_ENUMERATED_free(reason);
	ASN1_TIME_free(when);
	ASN1_INTEGER_free(serial);
	X509_REVOKED_free(rev);
	return st;
}

/* §5.2.1 AKI (the intermediate's SKI) and §5.2.3 CRL number, both MUST. */
static aclm_status crl_extensions(X509_CRL *crl, const struct ca_issuer *iss,
				  int64_t crl_number, struct aclm_err *err)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(iss->intermediate);
	AUTHORITY_KEYID *aki = AUTHORITY_KEYID_new();
	ASN1_INTEGER *num = ASN1_INTEGER_new();
	aclm_status st = ACLM_OK;

	if (ski == NULL) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "CRL: the intermediate has no SKI");
		goto out;
	}
	if (aki == NULL || num == NULL || (aki->keyid = ASN1_OCTET_STRING_dup(ski)) == NULL ||
	    !ASN1_INTEGER_set_int64(num, crl_number) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, aki, 0, X509V3_ADD_DEFAULT) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, X509V3_ADD_DEFAULT))
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "CRL: extensions");
out:
	ASN1_INTEGER_free(num);
	AUTHORITY_KEYID_free(aki);
	return st;
}

static aclm_status crl_sign(X509_CRL *crl, EVP_PKEY *key, struct aclm_err *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	aclm_status st;

	if (ctx == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "CRL: signing");
		goto out;
	}
	st = crypto_sign_init(ctx, key, NULL, NULL, err);
	if (st != ACLM_OK)
		goto out;
	/* X509_CRL_sign would drop the SM2 ID; the _ctx variant keeps it. */
	if (X509_CRL_sign_ctx(crl, ctx) <= 0)
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "CRL: signing with a %s key",
				  EVP_PKEY_get0_type_name(key));
out:
	EVP_MD_CTX_free(ctx);
	return st;
}

aclm_status ca_crl_build(const struct ca_issuer *iss, const struct ca_crl_entry *entries,
			 size_t n, int64_t crl_number, int64_t next_update_s, X509_CRL **out,
			 struct aclm_err *err)
{
	X509_CRL *crl = NULL;
	ASN1_TIME *t = NULL;
	int64_t now = aclm_time_now();
	aclm_status st = ACLM_OK;

	*out = NULL;
	/* §5.2.3: the CRL number is a non-negative integer. */
	if (iss == NULL || iss->intermediate == NULL || iss->key == NULL || crl_number < 0 ||
	    next_update_s <= 0 || next_update_s > CRL_NEXT_UPDATE_MAX ||
	    (n > 0 && entries == NULL)) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "CRL: no issuer, a negative number or a "
				  "next update not within 1 s to 366 days");
		goto out;
	}
	if ((crl = X509_CRL_new()) == NULL || !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(iss->intermediate)) ||
	    (t = ASN1_TIME_set(NULL, (time_t)now)) == NULL || !X509_CRL_set1_lastUpdate(crl, t) ||
	    ASN1_TIME_set(t, (time_t)(now + next_update_s)) == NULL ||
	    !X509_CRL_set1_nextUpdate(crl, t)) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "CRL");
		goto out;
	}
	for (size_t i = 0; i < n && st == ACLM_OK; i++)
		st = add_entry(crl, &entries[i], err);
	if (st != ACLM_OK || (st = crl_extensions(crl, iss, crl_number, err)) != ACLM_OK)
		goto out;
	if (!X509_CRL_sort(crl)) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "CRL: sorting");
		goto out;
	}
	if ((st = crl_sign(crl, iss->key, err)) != ACLM_OK)
		goto out;
	*out = crl;
	crl = NULL;
out:
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return st;
}
