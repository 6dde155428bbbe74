/* One certificate: facts (the intrinsic half of the inventory's JSON
 * contract, docs/JSON.md), fingerprints, encodings. */
#ifndef ACLM_CRYPTO_CERT_H
#define ACLM_CRYPTO_CERT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "core/buf.h"
#include "core/status.h"

/* Facts of cert as a new JSON object with exactly these keys:
 * fingerprint_sha256, serial, subject, common_name, sans {dns, ip, email, uri},
 * issuer, not_before, not_after, lifetime_days, key {type, bits, curve},
 * signature_algorithm, is_ca, self_signed, key_usage, ext_key_usage,
 * must_staple, sct_count, ocsp_urls, crl_urls, aki, ski, spki_sha256.
 * Instance facts (id, tenant, days_left, source, owner, tags, ...) are added
 * by the inventory. */
aclm_status crypto_cert_facts(X509 *cert, json_t **out, struct aclm_err *err);

/* SHA-256 of the DER certificate, lowercase hex. */
aclm_status crypto_cert_fingerprint(X509 *cert, char out[65]);
/* Validity as UTC epoch seconds. */
aclm_status crypto_cert_validity(const X509 *cert, int64_t *not_before, int64_t *not_after);
/* True when the certificate's signature algorithm is SM2-with-SM3. */
bool crypto_cert_is_sm2_signed(const X509 *cert);

/* Signs cert with key through X509_sign_ctx and crypto_sign_init (the key's
 * usual digest; SM2: SM2-with-SM3 with CRYPTO_SM2_ID, which X509_sign would
 * drop). The caller has set everything else. */
aclm_status crypto_cert_sign(X509 *cert, EVP_PKEY *key, struct aclm_err *err);

aclm_status crypto_cert_to_pem(X509 *cert, struct aclm_buf *out, struct aclm_err *err);
/* PEM of DER certificate bytes without parsing them (bytes aclm made and
 * stored itself: parsing costs a public key decode in OpenSSL 3). */
aclm_status crypto_cert_der_to_pem(const unsigned char *der, size_t len, struct aclm_buf *out,
				   struct aclm_err *err);
/* DER into a malloc'd buffer (OPENSSL_free). */
aclm_status crypto_cert_to_der(X509 *cert, unsigned char **der, size_t *len, struct aclm_err *err);
aclm_status crypto_cert_from_der(const unsigned char *der, size_t len, X509 **out,
				 struct aclm_err *err);

/* PKCS#12 with modern encryption (AES-256-CBC, PBKDF2, SHA-256 MAC);
 * password may be "" but not NULL. *out is OPENSSL_free'd by the caller. */
aclm_status crypto_pkcs12_create(X509 *cert, STACK_OF(X509) *chain, EVP_PKEY *key,
				 const char *password, unsigned char **out, size_t *len,
				 struct aclm_err *err);

#endif
