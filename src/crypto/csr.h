/* Certificate signing requests with DNS and IP subjectAltNames. */
#ifndef ACLM_CRYPTO_CSR_H
#define ACLM_CRYPTO_CSR_H

#include <stddef.h>

#include <openssl/x509.h>

#include "core/buf.h"
#include "core/status.h"

struct crypto_csr_req {
	const char *cn;                /* NULL: first DNS name, else first IP, else none */
	const char *const *dns;
	size_t ndns;
	const char *const *ips;        /* textual IPv4/IPv6 */
	size_t nips;
};

/* Builds and signs a CSR with key. SM2 keys sign SM2-with-SM3 with
 * CRYPTO_SM2_ID through X509_REQ_sign_ctx (X509_REQ_sign ignores the ID).
 * Invalid names or addresses -> ACLM_ERR_INVALID naming the value. */
aclm_status crypto_csr_new(EVP_PKEY *key, const struct crypto_csr_req *req, X509_REQ **out,
			   struct aclm_err *err);
/* Verifies the CSR's self-signature (SM2: with CRYPTO_SM2_ID). */
aclm_status crypto_csr_verify(X509_REQ *req, struct aclm_err *err);
aclm_status crypto_csr_to_pem(X509_REQ *req, struct aclm_buf *out, struct aclm_err *err);

#endif
