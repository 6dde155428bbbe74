/* CSRs the user brings (issue --csr): read, signature checked, names taken
 * from the subjectAltName; the key never reaches aclm. */
#include "client/client_int.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/buf.h"
#include "crypto/crypto.h"

#define CSR_MAX_BYTES (64u << 10)

static aclm_status parse(const struct aclm_buf *b, const char *path, X509_REQ **csr,
			 struct aclm_err *err)
{
	const unsigned char *p = b->data;
	BIO *bio = BIO_new_mem_buf(b->data, (int)b->len);

	*csr = bio != NULL ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (*csr == NULL)
		*csr = d2i_X509_REQ(NULL, &p, (long)b->len);
	return *csr != NULL ? ACLM_OK
			    : aclm_err_ssl(err, ACLM_ERR_PARSE, "%s: not a PEM or DER CSR", path);
}

/* DNS names and IP addresses of the subjectAltName, normalised. */
static aclm_status san_names(X509_REQ *csr, const char *path, struct client_csr *out,
			     struct aclm_err *err)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(csr);
	GENERAL_NAMES *gens = exts != NULL ? X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL) : NULL;
	int n = gens != NULL ? sk_GENERAL_NAME_num(gens) : 0;
	aclm_status st = ACLM_OK;

	out->names = calloc((size_t)n + 1, sizeof(*out->names));
	if (out->names == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
	for (int i = 0; i < n && st == ACLM_OK; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		char text[256];
		bool ip;

		if (g->type == GEN_DNS) {
			int len = ASN1_STRING_length(g->d.dNSName);

			if (len <= 0 || len >= (int)sizeof(text) ||
			    memchr(ASN1_STRING_get0_data(g->d.dNSName), 0, (size_t)len) != NULL) {
				st = aclm_err_set(err, ACLM_ERR_INVALID, "%s: a DNS name in the CSR is not valid", path);
				break;
			}
			memcpy(text, ASN1_STRING_get0_data(g->d.dNSName), (size_t)len);
			text[len] = '\0';
		} else if (g->type == GEN_IPADD) {
			int len = ASN1_STRING_length(g->d.iPAddress);
			int af = len == 4 ? AF_INET : len == 16 ? AF_INET6 : -1;

			if (af < 0 || inet_ntop(af, ASN1_STRING_get0_data(g->d.iPAddress), text,
						(socklen_t)sizeof(text)) == NULL) {
				st = aclm_err_set(err, ACLM_ERR_INVALID, "%s: an IP address in the CSR is not valid", path);
				break;
			}
		} else {
			continue; /* ACME identifiers are DNS names and IPs only */
		}
		st = client_normalise_name(text, &out->names[out->nnames], &ip, err);
		if (st == ACLM_OK)
			out->nnames++;
		else
			aclm_err_prefix(err, "%s", path);
	}
	if (st == ACLM_OK && out->nnames == 0)
		st = aclm_err_set(err, ACLM_ERR_INVALID,
				  "%s: the CSR has no DNS name or IP address in its subjectAltName", path);
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return st;
}

static enum crypto_key_type key_type_of(X509_REQ *csr)
{
	struct crypto_key_info ki;
	EVP_PKEY *key = X509_REQ_get0_pubkey(csr);

	if (key == NULL || crypto_key_info(key, &ki) != ACLM_OK)
		return CRYPTO_KEY_P256;
	if (strcmp(ki.type, "rsa") == 0)
		return ki.bits >= 4096 ? CRYPTO_KEY_RSA4096 : ki.bits >= 3072 ? CRYPTO_KEY_RSA3072
									 : CRYPTO_KEY_RSA2048;
	if (strcmp(ki.type, "sm2") == 0)
		return CRYPTO_KEY_SM2;
	return strcmp(ki.curve, "P-384") == 0 ? CRYPTO_KEY_P384 : CRYPTO_KEY_P256;
}

aclm_status client_csr_load(const char *path, struct client_csr *out, struct aclm_err *err)
{
	struct aclm_buf b;
	X509_REQ *csr = NULL;
	unsigned char *der = NULL;
	int len;
	aclm_status st;

	memset(out, 0, sizeof(*out));
	aclm_buf_init(&b, CSR_MAX_BYTES);
	st = aclm_buf_read_file(&b, path, err);
	if (st == ACLM_OK)
		st = parse(&b, path, &csr, err);
	if (st == ACLM_OK && (st = crypto_csr_verify(csr, err)) != ACLM_OK)
		aclm_err_prefix(err, "%s", path);
	if (st == ACLM_OK)
		st = san_names(csr, path, out, err);
	if (st == ACLM_OK) {
		out->key_type = key_type_of(csr);
		len = i2d_X509_REQ(csr, &der);
		if (len <= 0 || (out->der = malloc((size_t)len)) == NULL)
			st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "%s: cannot encode the CSR", path);
		else
			memcpy(out->der, der, (size_t)(out->len = (size_t)len));
	}
	OPENSSL_free(der);
	X509_REQ_free(csr);
	aclm_buf_free(&b);
	if (st != ACLM_OK)
		client_csr_free(out);
	return st;
}

void client_csr_free(struct client_csr *c)
{
	for (size_t i = 0; c->names != NULL && i < c->nnames; i++)
		free(c->names[i]);
	free(c->names);
	free(c->der);
	memset(c, 0, sizeof(*c));
}
