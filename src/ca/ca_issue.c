/* Issuance: which intermediate signs a CSR's key, and the leaf certificate
 * it signs (RFC 5280 profile, CA/B Forum TLS server+client leaf). */
#include "ca/ca_int.h"

#include <arpa/inet.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "ca/ca.h"
#include "crypto/cert.h"

#define CN_MAX 64                  /* RFC 5280 Appendix A ub-common-name */

enum family { FAMILY_NONE, FAMILY_RSA, FAMILY_EC, FAMILY_SM2 };

static enum family type_family(enum crypto_key_type t)
{
	switch (t) {
	case CRYPTO_KEY_RSA2048:
	case CRYPTO_KEY_RSA3072:
	case CRYPTO_KEY_RSA4096:
		return FAMILY_RSA;
	case CRYPTO_KEY_P256:
	case CRYPTO_KEY_P384:
		return FAMILY_EC;
	case CRYPTO_KEY_SM2:
		return FAMILY_SM2;
	default:
		return FAMILY_NONE;
	}
}

const struct ca_issuer *ca_issuer_for(const struct ca_issuer *issuers, size_t n,
				      const EVP_PKEY *csr_key, const char **problem,
				      struct aclm_err *err)
{
	struct crypto_key_info info;
	enum family fam = FAMILY_NONE;
	int same_curve = -1;       /* the crypto_key_type whose curve matches, if EC */
	const struct ca_issuer *found = NULL;

	if (problem != NULL)
		*problem = NULL;
	if (crypto_key_info(csr_key, &info) == ACLM_OK) {
		if (strcmp(info.type, "sm2") == 0)
			fam = FAMILY_SM2;
		else if (strcmp(info.type, "rsa") == 0)
			fam = FAMILY_RSA;
		else if (strcmp(info.type, "ec") == 0)
			fam = FAMILY_EC;
	}
	if (strcmp(info.curve, "P-256") == 0)
		same_curve = CRYPTO_KEY_P256;
	else if (strcmp(info.curve, "P-384") == 0)
		same_curve = CRYPTO_KEY_P384;
	for (size_t i = 0; fam != FAMILY_NONE && i < n; i++) {
		if (type_family(issuers[i].key_type) != fam)
			continue;
		if (found == NULL || (int)issuers[i].key_type == same_curve)
			found = &issuers[i];
		if ((int)found->key_type == same_curve)
			break;
	}
	if (found == NULL) {
		if (problem != NULL)
			*problem = "badCSR";
		aclm_err_set(err, ACLM_ERR_UNSUPPORTED, "this CA has no issuer for %s%s%s keys",
			     info.type, info.curve[0] != '\0' ? " " : "", info.curve);
	}
	return found;
}

static aclm_status set_time(ASN1_TIME *t, int64_t when, struct aclm_err *err)
{
	/* RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime after;
	 * ASN1_TIME_set picks exactly that. */
	if (ASN1_TIME_set(t, (time_t)when) == NULL)
		return aclm_err_ssl(err, ACLM_ERR_INVALID, "certificate time %lld",
				    (long long)when);
	return ACLM_OK;
}

/* The SANs, in the order's order, built as structures: values never pass
 * through OpenSSL's configuration syntax, where a comma would start
 * another name. */
static aclm_status san_names(const json_t *identifiers, GENERAL_NAMES *gens,
			     struct aclm_err *err)
{
	size_t n = json_array_size(identifiers);
	aclm_status st = ACLM_OK;

	if (n == 0 || n > CA_CSR_NAMES_MAX)
		return aclm_err_set(err, ACLM_ERR_INVALID, "leaf: %zu identifiers (1 to %d)", n,
				    CA_CSR_NAMES_MAX);
	for (size_t i = 0; i < n && st == ACLM_OK; i++) {
		const json_t *o = json_array_get(identifiers, i);
		const char *type = json_string_value(json_object_get(o, "type"));
		const char *value = json_string_value(json_object_get(o, "value"));
		unsigned char addr[16];
		int alen = 0;
		ASN1_STRING *s = NULL;
		GENERAL_NAME *gn = GENERAL_NAME_new();

		if (type != NULL && value != NULL && strcmp(type, "ip") == 0) {
			if (inet_pton(AF_INET, value, addr) == 1)
				alen = 4;
			else if (inet_pton(AF_INET6, value, addr) == 1)
				alen = 16;
		}
		if (type == NULL || value == NULL || value[0] == '\0' ||
		    (strcmp(type, "dns") != 0 && alen == 0)) {
			st = aclm_err_set(err, ACLM_ERR_INVALID, "leaf: identifier %zu is not a dns "
					  "name or an IP address", i);
		} else if (gn == NULL || (s = ASN1_STRING_type_new(alen != 0 ? V_ASN1_OCTET_STRING
								     : V_ASN1_IA5STRING)) == NULL ||
			   !ASN1_STRING_set(s, alen != 0 ? (const void *)addr : value,
					    alen != 0 ? alen : (int)strlen(value))) {
			st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "leaf: subjectAltName");
		} else {
			GENERAL_NAME_set0_value(gn, alen != 0 ? GEN_IPADD : GEN_DNS, s);
			s = NULL;
			if (!sk_GENERAL_NAME_push(gens, gn))
				st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "leaf: subjectAltName");
			else
				gn = NULL;
		}
		ASN1_STRING_free(s);
		GENERAL_NAME_free(gn);
	}
	return st;
}

/* Subject CN = the first identifier when it fits; else an empty subject,
 * and RFC 5280 §4.2.1.6 then wants the SAN critical. */
static aclm_status subject_and_san(X509 *x, const json_t *identifiers, struct aclm_err *err)
{
	const char *first = json_string_value(json_object_get(json_array_get(identifiers, 0),
							      "value"));
	X509_NAME *name = X509_NAME_new();
	GENERAL_NAMES *gens = GENERAL_NAMES_new();
	bool cn = first != NULL && strlen(first) <= CN_MAX;
	aclm_status st = ACLM_OK;

	if (name == NULL || gens == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "leaf: subject");
		goto out;
	}
	if ((st = san_names(identifiers, gens, err)) != ACLM_OK)
		goto out;
	if ((cn && !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
					      (const unsigned char *)first, -1, -1, 0)) ||
	    !X509_set_subject_name(x, name) ||
	    !X509_add1_ext_i2d(x, NID_subject_alt_name, gens, cn ? 0 : 1, X509V3_ADD_DEFAULT))
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "leaf: subject or subjectAltName");
out:
	GENERAL_NAMES_free(gens);
	X509_NAME_free(name);
	return st;
}

/* RFC 5280 §4.2.1.13: one distribution point with the full name URI. */
static aclm_status crl_dp(X509 *x, const char *url, struct aclm_err *err)
{
	CRL_DIST_POINTS *dps = CRL_DIST_POINTS_new();
	DIST_POINT *dp = DIST_POINT_new();
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *uri = ASN1_IA5STRING_new();
	aclm_status st = ACLM_OK;

	if (dps == NULL || dp == NULL || gn == NULL || uri == NULL ||
	    (dp->distpoint = DIST_POINT_NAME_new()) == NULL ||
	    (dp->distpoint->name.fullname = GENERAL_NAMES_new()) == NULL ||
	    !ASN1_STRING_set(uri, url, (int)strlen(url))) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "leaf: CRL distribution point");
		goto out;
	}
	dp->distpoint->type = 0; /* fullName */
	GENERAL_NAME_set0_value(gn, GEN_URI, uri);
	uri = NULL;
	if (!sk_GENERAL_NAME_push(dp->distpoint->name.fullname, gn)) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "leaf: CRL distribution point");
		goto out;
	}
	gn = NULL;
	if (!sk_DIST_POINT_push(dps, dp)) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "leaf: CRL distribution point");
		goto out;
	}
	dp = NULL;
	if (!X509_add1_ext_i2d(x, NID_crl_distribution_points, dps, 0, X509V3_ADD_DEFAULT))
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "leaf: CRL distribution point %s", url);
out:
	ASN1_IA5STRING_free(uri);
	GENERAL_NAME_free(gn);
	DIST_POINT_free(dp);
	CRL_DIST_POINTS_free(dps);
	return st;
}

static aclm_status extensions(X509 *x, const struct ca_issuer *iss, const struct ca_leaf_req *r,
			      struct aclm_err *err)
{
	const char *ku = "critical,digitalSignature";
	X509V3_CTX ctx;
	aclm_status st;

	if (r->encryption)
		ku = "critical,keyEncipherment,dataEncipherment,keyAgreement";
	else if (EVP_PKEY_is_a(r->pub, "RSA"))
		ku = "critical,digitalSignature,keyEncipherment"; /* RSA key exchange (TLS 1.2) */
	X509V3_set_ctx(&ctx, iss->intermediate, x, NULL, NULL, 0);
	st = ca__add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE", err);
	if (st == ACLM_OK)
		st = ca__add_ext(x, &ctx, NID_key_usage, ku, err);
	if (st == ACLM_OK)
		st = ca__add_ext(x, &ctx, NID_ext_key_usage, "serverAuth,clientAuth", err);
	if (st == ACLM_OK)
		st = ca__add_ext(x, &ctx, NID_subject_key_identifier, "hash", err);
	if (st == ACLM_OK)
		st = ca__add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always", err);
	if (st == ACLM_OK && iss->crl_url[0] != '\0')
		st = crl_dp(x, iss->crl_url, err);
	return st;
}

/* The same key as a legacy EVP_PKEY (an EC_KEY inside) for the NIST
 * curves, else NULL: built from the curve's OID and the encoded point,
 * both read from the provider key without an encoder or decoder. */
static EVP_PKEY *legacy_ec_copy(EVP_PKEY *pub)
{
	unsigned char point[1 + 2 * 66], *params = NULL;
	const unsigned char *p;
	char group[32];
	size_t plen = 0, glen = 0;
	int nid, len;
	EVP_PKEY *k = NULL;

	if (!EVP_PKEY_is_a(pub, "EC") || crypto_key_is_sm2(pub) ||
	    EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					   &glen) != 1 ||
	    ((nid = OBJ_sn2nid(group)) != NID_X9_62_prime256v1 && nid != NID_secp384r1) ||
	    EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point,
					    sizeof(point), &plen) != 1 ||
	    (len = i2d_ASN1_OBJECT(OBJ_nid2obj(nid), &params)) <= 0)
		goto out;
	/* ECParameters (RFC 5480 §2.1.1: a named curve), then the point. */
	p = params;
	if (d2i_KeyParams(EVP_PKEY_EC, &k, &p, len) == NULL)
		goto out;
	p = point;
	if (d2i_PublicKey(EVP_PKEY_EC, &k, &p, (long)plen) == NULL) {
		EVP_PKEY_free(k);
		k = NULL;
	}
out:
	OPENSSL_free(params);
	ERR_clear_error();
	return k;
}

/* X509_set_pubkey with a provider key (what a CSR decodes to) encodes it
 * and decodes the result again, each through OpenSSL 3.0's encoder and
 * decoder look-ups: the most expensive step of a leaf. A legacy EC key is
 * encoded directly by its ASN.1 method, into the same SubjectPublicKeyInfo
 * (id-ecPublicKey, the named curve, the point as the CSR had it). */
static aclm_status set_pubkey(X509 *x, EVP_PKEY *pub, struct aclm_err *err)
{
	EVP_PKEY *legacy = legacy_ec_copy(pub);
	aclm_status st = ACLM_OK;

	if (!X509_set_pubkey(x, legacy != NULL ? legacy : pub))
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "leaf: public key");
	EVP_PKEY_free(legacy);
	return st;
}

aclm_status ca_leaf_sign(const struct ca_issuer *iss, const struct ca_leaf_req *r, X509 **out,
			 struct aclm_err *err)
{
	X509 *x = NULL;
	aclm_status st = ACLM_OK;

	*out = NULL;
	if (iss == NULL || iss->intermediate == NULL || iss->key == NULL || r == NULL ||
	    r->pub == NULL || r->not_after <= r->not_before) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "leaf: no issuer, key or validity");
		goto out;
	}
	/* TLCP (GB/T 38636) pairs an SM2 signing certificate with an SM2
	 * encryption one; no other family has encryption certificates here. */
	if (r->encryption && !crypto_key_is_sm2(r->pub)) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "leaf: encryption certificates are for SM2 "
				  "keys only, not %s", EVP_PKEY_get0_type_name(r->pub));
		goto out;
	}
	if ((x = X509_new()) == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "leaf");
		goto out;
	}
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(iss->intermediate))) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "leaf");
		goto out;
	}
	if ((st = set_pubkey(x, r->pub, err)) != ACLM_OK ||
	    (st = ca__random_serial(x, err)) != ACLM_OK ||
	    (st = set_time(X509_getm_notBefore(x), r->not_before, err)) != ACLM_OK ||
	    (st = set_time(X509_getm_notAfter(x), r->not_after, err)) != ACLM_OK ||
	    (st = subject_and_san(x, r->identifiers, err)) != ACLM_OK ||
	    (st = extensions(x, iss, r, err)) != ACLM_OK)
		goto out;
	/* The issuer's key decides the algorithm; an SM2 intermediate signs
	 * SM2-with-SM3 with the standard ID. */
	if ((st = crypto_cert_sign(x, iss->key, err)) != ACLM_OK)
		goto out;
	*out = x;
	x = NULL;
out:
	X509_free(x);
	return st;
}
