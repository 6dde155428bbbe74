/* Certificate signing requests (RFC 2986) with DNS and IP subjectAltNames,
 * signed through crypto_sign_init so that SM2 requests carry the user ID. */
#include "crypto/csr.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crypto/key.h"

#define DNS_NAME_MAX 253  /* RFC 1035 §2.3.4, without the trailing dot */
#define DNS_LABEL_MAX 63
#define CN_MAX 64         /* RFC 5280 Appendix A ub-common-name */

static bool ldh_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

/* RFC 1123 §2.1: letters, digits, hyphens; no hyphen at either end. */
static bool dns_label_valid(const char *s, size_t len)
{
	bool ok = len >= 1 && len <= DNS_LABEL_MAX && s[0] != '-' && s[len - 1] != '-';

	for (size_t i = 0; ok && i < len; i++)
		ok = ldh_char(s[i]);
	return ok;
}

/* A host name, optionally under a leading "*." wildcard label (RFC 6125
 * §6.4.3); no empty labels, so no trailing dot either. */
static bool dns_name_valid(const char *name)
{
	const char *p = name;
	size_t len;
	bool ok;

	if (strncmp(p, "*.", 2) == 0)
		p += 2;
	ok = strlen(name) <= DNS_NAME_MAX;
	while (ok) {
		len = strcspn(p, ".");
		ok = dns_label_valid(p, len);
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	return ok;
}

static GENERAL_NAME *dns_general_name(const char *name)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();

	if (gn == NULL || ia5 == NULL || !ASN1_STRING_set(ia5, name, (int)strlen(name))) {
		GENERAL_NAME_free(gn);
		gn = NULL;
		goto out;
	}
	GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
	ia5 = NULL;
out:
	ASN1_IA5STRING_free(ia5);
	return gn;
}

/* RFC 5280 §4.2.1.6: iPAddress is the 4 or 16 address octets. */
static GENERAL_NAME *ip_general_name(const char *text, bool *bad)
{
	unsigned char addr[16];
	int len = 4;
	GENERAL_NAME *gn = NULL;
	ASN1_OCTET_STRING *os = NULL;

	*bad = false;
	if (inet_pton(AF_INET, text, addr) != 1) {
		len = 16;
		if (inet_pton(AF_INET6, text, addr) != 1) {
			*bad = true;
			goto out;
		}
	}
	gn = GENERAL_NAME_new();
	os = ASN1_OCTET_STRING_new();
	if (gn == NULL || os == NULL || !ASN1_OCTET_STRING_set(os, addr, len)) {
		GENERAL_NAME_free(gn);
		ASN1_OCTET_STRING_free(os);
		gn = NULL;
		goto out;
	}
	GENERAL_NAME_set0_value(gn, GEN_IPADD, os);
out:
	return gn;
}

static aclm_status san_names(const struct crypto_csr_req *r, GENERAL_NAMES *gens,
			     struct aclm_err *err)
{
	GENERAL_NAME *gn = NULL;
	bool bad = false;
	aclm_status st = ACLM_OK;

	for (size_t i = 0; i < r->ndns; i++) {
		if (r->dns[i] == NULL || !dns_name_valid(r->dns[i])) {
			st = aclm_err_set(err, ACLM_ERR_INVALID, "DNS name \"%.260s\": not a valid host name",
					  r->dns[i] != NULL ? r->dns[i] : "(null)");
			goto out;
		}
		if ((gn = dns_general_name(r->dns[i])) == NULL || !sk_GENERAL_NAME_push(gens, gn))
			goto nomem;
	}
	for (size_t i = 0; i < r->nips; i++) {
		gn = r->ips[i] != NULL ? ip_general_name(r->ips[i], &bad) : NULL;
		if (r->ips[i] == NULL || bad) {
			st = aclm_err_set(err, ACLM_ERR_INVALID, "IP address \"%.64s\": not IPv4 or IPv6",
					  r->ips[i] != NULL ? r->ips[i] : "(null)");
			goto out;
		}
		if (gn == NULL || !sk_GENERAL_NAME_push(gens, gn))
			goto nomem;
	}
	gn = NULL;
	goto out;
nomem:
	GENERAL_NAME_free(gn);
	st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "building subjectAltName");
out:
	return st;
}

/* Subject CN: the caller's, else the first name; a defaulted DNS name longer
 * than ub-common-name is left to the subjectAltName alone (as CAs do). */
static aclm_status subject_cn(X509_REQ *req, const struct crypto_csr_req *r, struct aclm_err *err)
{
	const char *cn = r->cn;
	aclm_status st = ACLM_OK;

	if (cn == NULL && r->ndns > 0 && strlen(r->dns[0]) <= CN_MAX)
		cn = r->dns[0];
	else if (cn == NULL && r->ndns == 0 && r->nips > 0)
		cn = r->ips[0];
	if (cn == NULL)
		goto out;
	if (strlen(cn) == 0 || strlen(cn) > CN_MAX) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "common name \"%.80s\": 1 to %d characters",
				  cn, CN_MAX);
		goto out;
	}
	if (!X509_NAME_add_entry_by_NID(X509_REQ_get_subject_name(req), NID_commonName,
					MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0))
		st = aclm_err_ssl(err, ACLM_ERR_INVALID, "common name \"%s\"", cn);
out:
	return st;
}

static aclm_status add_san(X509_REQ *req, const struct crypto_csr_req *r, struct aclm_err *err)
{
	GENERAL_NAMES *gens = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext = NULL;
	aclm_status st = ACLM_OK;

	if (r->ndns + r->nips == 0)
		goto out;
	if ((gens = GENERAL_NAMES_new()) == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "building subjectAltName");
		goto out;
	}
	st = san_names(r, gens, err);
	if (st != ACLM_OK)
		goto out;
	exts = sk_X509_EXTENSION_new_null();
	ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, gens);
	if (exts == NULL || ext == NULL || !sk_X509_EXTENSION_push(exts, ext) ||
	    !X509_REQ_add_extensions(req, exts)) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "adding subjectAltName to the request");
		goto out;
	}
	ext = NULL; /* owned by exts now */
out:
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	return st;
}

aclm_status crypto_csr_new(EVP_PKEY *key, const struct crypto_csr_req *r, X509_REQ **out,
			   struct aclm_err *err)
{
	X509_REQ *req = X509_REQ_new();
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	aclm_status st = ACLM_OK;

	*out = NULL;
	if (req == NULL || ctx == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "building a request");
		goto out;
	}
	if (key == NULL || r == NULL) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "building a request: no %s", key ? "names" : "key");
		goto out;
	}
	if (!X509_REQ_set_version(req, X509_REQ_VERSION_1) || !X509_REQ_set_pubkey(req, key)) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "building a request");
		goto out;
	}
	if ((st = add_san(req, r, err)) != ACLM_OK || (st = subject_cn(req, r, err)) != ACLM_OK ||
	    (st = crypto_sign_init(ctx, key, NULL, NULL, err)) != ACLM_OK)
		goto out;
	/* X509_REQ_sign would drop the SM2 ID; the _ctx variant keeps it. */
	if (X509_REQ_sign_ctx(req, ctx) <= 0) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "signing the request with a %s key",
				  EVP_PKEY_get0_type_name(key));
		goto out;
	}
	*out = req;
	req = NULL;
out:
	EVP_MD_CTX_free(ctx);
	X509_REQ_free(req);
	return st;
}

aclm_status crypto_csr_verify(X509_REQ *req, struct aclm_err *err)
{
	EVP_PKEY *key = req != NULL ? X509_REQ_get0_pubkey(req) : NULL;
	ASN1_OCTET_STRING *id = NULL;
	aclm_status st = ACLM_OK;

	if (key == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_PARSE, "request: no readable public key");
		goto out;
	}
	/* OpenSSL 3.0 verifies SM2 with no ID unless the request carries one. */
	if (EVP_PKEY_is_a(key, "SM2")) {
		id = ASN1_OCTET_STRING_new();
		if (id == NULL || !ASN1_OCTET_STRING_set(id, (const unsigned char *)CRYPTO_SM2_ID,
							 (int)strlen(CRYPTO_SM2_ID))) {
			st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "request: SM2 ID");
			goto out;
		}
		X509_REQ_set0_distinguishing_id(req, id);
		id = NULL;
	}
	if (X509_REQ_verify(req, key) != 1)
		st = aclm_err_ssl(err, ACLM_ERR_VERIFY, "request: signature does not verify");
out:
	ASN1_OCTET_STRING_free(id);
	return st;
}

aclm_status crypto_csr_to_pem(X509_REQ *req, struct aclm_buf *out, struct aclm_err *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL;
	long len;
	aclm_status st = ACLM_OK;

	if (bio == NULL || req == NULL || !PEM_write_bio_X509_REQ(bio, req)) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "writing the request as PEM");
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	st = aclm_buf_append(out, data, (size_t)len);
	if (st != ACLM_OK)
		aclm_err_set(err, st, "request PEM: %ld bytes do not fit the buffer", len);
out:
	BIO_free(bio);
	return st;
}
