/* One certificate: its facts as JSON (the intrinsic half of docs/JSON.md),
 * fingerprints, validity and encodings. Facts never fail on odd contents:
 * what cannot be read is null or empty. */
#include "crypto/cert.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/encode.h"
#include "core/json.h"
#include "core/time.h"
#include "crypto/key.h"

/* RFC 6066 §8: the TLS extension number of status_request (OCSP stapling). */
#define TLS_EXT_STATUS_REQUEST 5

static aclm_status sha256_hex(const unsigned char *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	aclm_status st = ACLM_OK;

	out[0] = '\0';
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1) {
		ERR_clear_error();
		st = ACLM_ERR_CRYPTO;
		goto out;
	}
	aclm_hex_encode(md, mdlen, out);
out:
	return st;
}

aclm_status crypto_cert_fingerprint(X509 *cert, char out[65])
{
	unsigned char *der = NULL;
	int len = cert != NULL ? i2d_X509(cert, &der) : 0;
	aclm_status st = ACLM_ERR_CRYPTO;

	out[0] = '\0';
	if (len > 0)
		st = sha256_hex(der, (size_t)len, out);
	ERR_clear_error();
	OPENSSL_free(der);
	return st;
}

/* ASN1_TIME_to_tm reads UTCTime and GeneralizedTime (years to 9999). */
static aclm_status time_epoch(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;
	aclm_status st = ACLM_OK;

	memset(&tm, 0, sizeof(tm));
	*out = 0;
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
		ERR_clear_error();
		st = ACLM_ERR_PARSE;
		goto out;
	}
	*out = (int64_t)timegm(&tm);
out:
	return st;
}

aclm_status crypto_cert_validity(const X509 *cert, int64_t *not_before, int64_t *not_after)
{
	aclm_status st = ACLM_ERR_INVALID;

	*not_before = *not_after = 0;
	if (cert == NULL)
		goto out;
	st = time_epoch(X509_get0_notBefore(cert), not_before);
	if (st == ACLM_OK)
		st = time_epoch(X509_get0_notAfter(cert), not_after);
out:
	return st;
}

bool crypto_cert_is_sm2_signed(const X509 *cert)
{
	return cert != NULL && X509_get_signature_nid(cert) == NID_SM2_with_SM3;
}

static json_t *hex_json(const unsigned char *data, size_t len)
{
	char *hex = malloc(2 * len + 1);
	json_t *j = NULL;

	if (hex != NULL) {
		aclm_hex_encode(data, len, hex);
		j = json_string(hex);
	}
	free(hex);
	return j;
}

/* As i2a_ASN1_INTEGER (openssl x509 -serial) prints it, lowercased and
 * without its line breaks every 35 bytes: "-" when negative, "00" for zero. */
static json_t *serial_json(const ASN1_INTEGER *sn)
{
	char *hex = NULL;
	json_t *j = NULL;
	size_t n = 0, len;

	if (sn == NULL)
		goto out;
	len = (size_t)ASN1_STRING_length(sn);
	if ((hex = malloc(2 * len + 4)) == NULL)
		goto out;
	if (ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER)
		hex[n++] = '-';
	if (len == 0)
		strcpy(hex + n, "00");
	else
		aclm_hex_encode(ASN1_STRING_get0_data(sn), len, hex + n);
	j = json_string(hex);
out:
	free(hex);
	return j;
}

/* RFC 4514 text with UTF-8 left readable. Should a name not print as valid
 * UTF-8 (OpenSSL 3.0 already refuses to decode invalid Unicode), every value
 * is hex-dumped instead, so the subject is never garbage. */
static json_t *name_json(const X509_NAME *name)
{
	static const unsigned long flags[] = {
		XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB,
		XN_FLAG_RFC2253 | ASN1_STRFLGS_DUMP_ALL,
	};
	BIO *bio = NULL;
	json_t *j = NULL;
	char *data;
	long len;

	for (size_t i = 0; name != NULL && j == NULL && i < sizeof(flags) / sizeof(flags[0]); i++) {
		BIO_free(bio);
		if ((bio = BIO_new(BIO_s_mem())) == NULL)
			goto out;
		if (X509_NAME_print_ex(bio, name, 0, flags[i]) < 0)
			continue;
		len = BIO_get_mem_data(bio, &data);
		j = json_stringn(data, (size_t)len);
	}
out:
	BIO_free(bio);
	return j;
}

/* The last CN is the "most specific" one (RFC 2818 §3.1). */
static json_t *common_name_json(const X509_NAME *name)
{
	const X509_NAME_ENTRY *e;
	unsigned char *utf8 = NULL;
	json_t *j = NULL;
	int i = -1, next, len;

	while (name != NULL && (next = X509_NAME_get_index_by_NID(name, NID_commonName, i)) >= 0)
		i = next;
	if (i < 0 || (e = X509_NAME_get_entry(name, i)) == NULL)
		goto out;
	len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
	if (len >= 0)
		j = json_stringn((const char *)utf8, (size_t)len); /* NULL (-> null) unless UTF-8 */
out:
	OPENSSL_free(utf8);
	return j;
}

/* iPAddress as inet_ntop text (RFC 5952 form for IPv6); NULL when the
 * length is neither 4 nor 16. */
static json_t *ip_json(const ASN1_OCTET_STRING *ip)
{
	char text[INET6_ADDRSTRLEN];
	int len = ASN1_STRING_length(ip);
	json_t *j = NULL;

	if ((len == 4 || len == 16) &&
	    inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(ip), text, sizeof(text)))
		j = json_string(text);
	return j;
}

/* A DNS name, address, email or URI as text; NULL for other types and for
 * values that cannot be shown (not UTF-8, odd address lengths). */
static json_t *gen_name_json(const GENERAL_NAME *gn)
{
	json_t *j = NULL;

	if (gn->type == GEN_IPADD)
		j = ip_json(gn->d.iPAddress);
	else if (gn->type == GEN_DNS || gn->type == GEN_EMAIL || gn->type == GEN_URI)
		j = json_stringn((const char *)ASN1_STRING_get0_data(gn->d.ia5),
				 (size_t)ASN1_STRING_length(gn->d.ia5));
	return j;
}

static int push_names(json_t *arr, const GENERAL_NAMES *gens, int type)
{
	int rc = 0;

	for (int i = 0; rc == 0 && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, i);
		json_t *v = gn->type == type ? gen_name_json(gn) : NULL;

		if (v != NULL)
			rc |= json_array_append_new(arr, v);
	}
	return rc;
}

static json_t *sans_json(X509 *cert)
{
	static const struct {
		const char *key;
		int type;
	} kinds[] = { { "dns", GEN_DNS }, { "ip", GEN_IPADD }, { "email", GEN_EMAIL }, { "uri", GEN_URI } };
	GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	json_t *sans = json_object(), *arr;
	int rc = sans == NULL;

	for (size_t i = 0; rc == 0 && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		arr = json_array();
		rc |= arr == NULL || push_names(arr, gens, kinds[i].type) != 0;
		rc |= json_object_set_new(sans, kinds[i].key, arr);
	}
	GENERAL_NAMES_free(gens);
	if (rc != 0) {
		json_decref(sans);
		sans = NULL;
	}
	return sans;
}

static int facts_names(json_t *f, X509 *cert)
{
	char fp[65];
	int rc = 0;

	rc |= aclm_json_set_str(f, "fingerprint_sha256",
				crypto_cert_fingerprint(cert, fp) == ACLM_OK ? fp : NULL);
	rc |= aclm_json_set_new(f, "serial", serial_json(X509_get0_serialNumber(cert)));
	rc |= aclm_json_set_new(f, "subject", name_json(X509_get_subject_name(cert)));
	rc |= aclm_json_set_new(f, "common_name", common_name_json(X509_get_subject_name(cert)));
	rc |= json_object_set_new(f, "sans", sans_json(cert));
	rc |= aclm_json_set_new(f, "issuer", name_json(X509_get_issuer_name(cert)));
	return rc;
}

/* Whole days, rounded: a 90-day certificate ending one second before
 * notBefore + 90 d still counts 90. */
static int64_t lifetime_days(int64_t nb, int64_t na)
{
	int64_t d = na - nb;

	return d >= 0 ? (d + 43200) / 86400 : -((-d + 43200) / 86400);
}

static int facts_validity(json_t *f, X509 *cert)
{
	char buf[ACLM_TIME_RFC3339_LEN];
	int64_t nb, na;
	bool nb_ok = time_epoch(X509_get0_notBefore(cert), &nb) == ACLM_OK;
	bool na_ok = time_epoch(X509_get0_notAfter(cert), &na) == ACLM_OK;
	int rc = 0;

	rc |= aclm_json_set_str(f, "not_before", nb_ok ? aclm_time_fmt(nb, buf) : NULL);
	rc |= aclm_json_set_str(f, "not_after", na_ok ? aclm_time_fmt(na, buf) : NULL);
	rc |= aclm_json_set_new(f, "lifetime_days",
				nb_ok && na_ok ? json_integer(lifetime_days(nb, na)) : NULL);
	return rc;
}

static json_t *key_json(X509 *cert)
{
	struct crypto_key_info info;
	json_t *k = json_object();

	/* An unknown key algorithm has no EVP_PKEY: type "unknown". */
	crypto_key_info(X509_get0_pubkey(cert), &info);
	ERR_clear_error();
	if (k != NULL &&
	    (aclm_json_set_str(k, "type", info.type) != 0 ||
	     aclm_json_set_new(k, "bits", info.bits > 0 ? json_integer(info.bits) : NULL) != 0 ||
	     aclm_json_set_str(k, "curve", info.curve[0] != '\0' ? info.curve : NULL) != 0)) {
		json_decref(k);
		k = NULL;
	}
	return k;
}

/* OpenSSL's long name ("sha256WithRSAEncryption", "SM2-with-SM3"), else
 * the dotted OID. */
static json_t *sigalg_json(const X509 *cert)
{
	const X509_ALGOR *alg = NULL;
	const ASN1_OBJECT *oid = NULL;
	char text[128];
	int nid = X509_get_signature_nid(cert);
	json_t *j = NULL;

	if (nid != NID_undef) {
		j = json_string(OBJ_nid2ln(nid));
		goto out;
	}
	X509_get0_signature(NULL, &alg, cert);
	X509_ALGOR_get0(&oid, NULL, NULL, alg);
	if (oid != NULL && OBJ_obj2txt(text, sizeof(text), oid, 1) > 0)
		j = json_string(text);
out:
	return j;
}

static int facts_key(json_t *f, X509 *cert)
{
	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(cert, NID_basic_constraints, NULL, NULL);
	int rc = 0;

	rc |= aclm_json_set_new(f, "key", key_json(cert));
	rc |= aclm_json_set_new(f, "signature_algorithm", sigalg_json(cert));
	rc |= aclm_json_set_bool(f, "is_ca", bc != NULL && bc->ca);
	/* Names and key identifiers only: verifying an SM2 self-signature would
	 * need its user ID, and a wrong guess must not make a root look issued. */
	rc |= aclm_json_set_bool(f, "self_signed", X509_self_signed(cert, 0) == 1);
	BASIC_CONSTRAINTS_free(bc);
	return rc;
}

/* RFC 5280 §4.2.1.3 bit order. */
static json_t *key_usage_json(X509 *cert)
{
	static const char *const names[] = {
		"digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment",
		"keyAgreement",     "keyCertSign",    "cRLSign",         "encipherOnly",
		"decipherOnly",
	};
	ASN1_BIT_STRING *ku = X509_get_ext_d2i(cert, NID_key_usage, NULL, NULL);
	json_t *arr = json_array();
	int rc = arr == NULL;

	for (int i = 0; rc == 0 && ku != NULL && i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (ASN1_BIT_STRING_get_bit(ku, i))
			rc |= json_array_append_new(arr, json_string(names[i]));
	ASN1_BIT_STRING_free(ku);
	if (rc != 0) {
		json_decref(arr);
		arr = NULL;
	}
	return arr;
}

static json_t *ext_key_usage_json(X509 *cert)
{
	EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(cert, NID_ext_key_usage, NULL, NULL);
	json_t *arr = json_array();
	char text[128];
	int rc = arr == NULL;

	for (int i = 0; rc == 0 && i < sk_ASN1_OBJECT_num(eku); i++) {
		const ASN1_OBJECT *oid = sk_ASN1_OBJECT_value(eku, i);
		int nid = OBJ_obj2nid(oid);

		if (nid != NID_undef)
			rc |= json_array_append_new(arr, json_string(OBJ_nid2sn(nid)));
		else if (OBJ_obj2txt(text, sizeof(text), oid, 1) > 0)
			rc |= json_array_append_new(arr, json_string(text));
	}
	EXTENDED_KEY_USAGE_free(eku);
	if (rc != 0) {
		json_decref(arr);
		arr = NULL;
	}
	return arr;
}

/* RFC 7633 §4.2.3: must-staple is a TLS Feature extension listing status_request. */
static bool must_staple(X509 *cert)
{
	TLS_FEATURE *tf = X509_get_ext_d2i(cert, NID_tlsfeature, NULL, NULL);
	bool found = false;

	for (int i = 0; !found && i < sk_ASN1_INTEGER_num(tf); i++)
		found = ASN1_INTEGER_get(sk_ASN1_INTEGER_value(tf, i)) == TLS_EXT_STATUS_REQUEST;
	TLS_FEATURE_free(tf);
	return found;
}

/* RFC 6962 §3.3: SCTs embedded in the certificate. */
static int sct_count(X509 *cert)
{
	STACK_OF(SCT) *scts = X509_get_ext_d2i(cert, NID_ct_precert_scts, NULL, NULL);
	int n = scts != NULL ? sk_SCT_num(scts) : 0;

	SCT_LIST_free(scts);
	return n;
}

static int facts_usage(json_t *f, X509 *cert)
{
	int rc = 0;

	rc |= json_object_set_new(f, "key_usage", key_usage_json(cert));
	rc |= json_object_set_new(f, "ext_key_usage", ext_key_usage_json(cert));
	rc |= aclm_json_set_bool(f, "must_staple", must_staple(cert));
	rc |= aclm_json_set_int(f, "sct_count", sct_count(cert));
	return rc;
}

/* RFC 5280 §4.2.2.1: OCSP responders from authorityInfoAccess. */
static json_t *ocsp_urls_json(X509 *cert)
{
	AUTHORITY_INFO_ACCESS *aia = X509_get_ext_d2i(cert, NID_info_access, NULL, NULL);
	json_t *arr = json_array();
	int rc = arr == NULL;

	for (int i = 0; rc == 0 && i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		const ACCESS_DESCRIPTION *ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		json_t *v = NULL;

		if (OBJ_obj2nid(ad->method) == NID_ad_OCSP && ad->location->type == GEN_URI)
			v = gen_name_json(ad->location);
		if (v != NULL)
			rc |= json_array_append_new(arr, v);
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	if (rc != 0) {
		json_decref(arr);
		arr = NULL;
	}
	return arr;
}

/* RFC 5280 §4.2.1.13: full-name URIs of the CRL distribution points. */
static json_t *crl_urls_json(X509 *cert)
{
	CRL_DIST_POINTS *dps = X509_get_ext_d2i(cert, NID_crl_distribution_points, NULL, NULL);
	json_t *arr = json_array();
	int rc = arr == NULL;

	for (int i = 0; rc == 0 && i < sk_DIST_POINT_num(dps); i++) {
		const DIST_POINT *dp = sk_DIST_POINT_value(dps, i);

		if (dp->distpoint != NULL && dp->distpoint->type == 0)
			rc |= push_names(arr, dp->distpoint->name.fullname, GEN_URI);
	}
	CRL_DIST_POINTS_free(dps);
	if (rc != 0) {
		json_decref(arr);
		arr = NULL;
	}
	return arr;
}

static json_t *spki_json(X509 *cert)
{
	unsigned char *der = NULL;
	int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	char hex[65];
	json_t *j = NULL;

	/* The certificate's own SPKI bytes, so unknown key types hash too. */
	if (len > 0 && sha256_hex(der, (size_t)len, hex) == ACLM_OK)
		j = json_string(hex);
	OPENSSL_free(der);
	return j;
}

static int facts_links(json_t *f, X509 *cert)
{
	AUTHORITY_KEYID *aki = X509_get_ext_d2i(cert, NID_authority_key_identifier, NULL, NULL);
	ASN1_OCTET_STRING *ski = X509_get_ext_d2i(cert, NID_subject_key_identifier, NULL, NULL);
	int rc = 0;

	rc |= json_object_set_new(f, "ocsp_urls", ocsp_urls_json(cert));
	rc |= json_object_set_new(f, "crl_urls", crl_urls_json(cert));
	rc |= aclm_json_set_new(f, "aki", aki != NULL && aki->keyid != NULL ?
					       hex_json(ASN1_STRING_get0_data(aki->keyid),
							(size_t)ASN1_STRING_length(aki->keyid)) :
					       NULL);
	rc |= aclm_json_set_new(f, "ski", ski != NULL ? hex_json(ASN1_STRING_get0_data(ski),
								 (size_t)ASN1_STRING_length(ski)) :
							NULL);
	rc |= aclm_json_set_new(f, "spki_sha256", spki_json(cert));
	AUTHORITY_KEYID_free(aki);
	ASN1_OCTET_STRING_free(ski);
	return rc;
}

aclm_status crypto_cert_facts(X509 *cert, json_t **out, struct aclm_err *err)
{
	json_t *f = NULL;
	int rc;
	aclm_status st = ACLM_OK;

	*out = NULL;
	if (cert == NULL) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "certificate facts: no certificate");
		goto out;
	}
	f = json_object();
	rc = f == NULL;
	/* Key order follows cert.h; each helper owns a run of keys. */
	rc = rc || facts_names(f, cert) || facts_validity(f, cert) || facts_key(f, cert) ||
	     facts_usage(f, cert) || facts_links(f, cert);
	ERR_clear_error(); /* odd extensions queue decode errors the facts tolerate */
	if (rc != 0) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "certificate facts: out of memory");
		goto out;
	}
	*out = f;
	f = NULL;
out:
	json_decref(f);
	return st;
}

aclm_status crypto_cert_sign(X509 *cert, EVP_PKEY *key, struct aclm_err *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	aclm_status st;

	if (ctx == NULL || cert == NULL) {
		st = aclm_err_ssl(err, ctx ? ACLM_ERR_INVALID : ACLM_ERR_NOMEM,
				  "signing a certificate: no %s", ctx ? "certificate" : "memory");
		goto out;
	}
	st = crypto_sign_init(ctx, key, NULL, NULL, err);
	if (st != ACLM_OK)
		goto out;
	/* X509_sign would drop the SM2 ID; the _ctx variant keeps it. */
	if (X509_sign_ctx(cert, ctx) <= 0)
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "signing a certificate with a %s key",
				  EVP_PKEY_get0_type_name(key));
out:
	EVP_MD_CTX_free(ctx);
	return st;
}

/* One PEM writer for both: an X509, or DER bytes written as they are. */
static aclm_status cert_pem(X509 *cert, const unsigned char *der, size_t derlen,
			    struct aclm_buf *out, struct aclm_err *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;
	aclm_status st = ACLM_OK;
	int ok = bio != NULL && (cert != NULL ? PEM_write_bio_X509(bio, cert)
				 : der != NULL && derlen <= 0x7fffffff &&
				   PEM_write_bio(bio, PEM_STRING_X509, "", der, (long)derlen) > 0);

	if (!ok) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "writing the certificate as PEM");
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	st = aclm_buf_append(out, data, (size_t)len);
	if (st != ACLM_OK)
		aclm_err_set(err, st, "certificate PEM: %ld bytes do not fit the buffer", len);
out:
	BIO_free(bio);
	return st;
}

aclm_status crypto_cert_to_pem(X509 *cert, struct aclm_buf *out, struct aclm_err *err)
{
	return cert_pem(cert, NULL, 0, out, err);
}

aclm_status crypto_cert_der_to_pem(const unsigned char *der, size_t len, struct aclm_buf *out,
				   struct aclm_err *err)
{
	return cert_pem(NULL, der, len, out, err);
}

aclm_status crypto_cert_to_der(X509 *cert, unsigned char **der, size_t *len, struct aclm_err *err)
{
	int n;
	aclm_status st = ACLM_OK;

	*der = NULL; /* i2d_X509 allocates only into a NULL pointer */
	*len = 0;
	n = cert != NULL ? i2d_X509(cert, der) : -1;
	if (n <= 0) {
		*der = NULL;
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "encoding the certificate as DER");
		goto out;
	}
	*len = (size_t)n;
out:
	return st;
}

aclm_status crypto_cert_from_der(const unsigned char *der, size_t len, X509 **out,
				 struct aclm_err *err)
{
	const unsigned char *p = der;
	aclm_status st = ACLM_OK;

	*out = NULL;
	if (len > LONG_MAX) {
		st = aclm_err_set(err, ACLM_ERR_TOOBIG, "certificate DER: %zu bytes", len);
		goto out;
	}
	if ((*out = d2i_X509(NULL, &p, (long)len)) == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_PARSE, "certificate DER: not a certificate");
		goto out;
	}
	if ((size_t)(p - der) != len) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "certificate DER: %zu trailing bytes",
				  len - (size_t)(p - der));
		X509_free(*out);
		*out = NULL;
	}
out:
	return st;
}
