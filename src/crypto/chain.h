/* Chain building and verification against a trust bundle, for RSA, ECDSA
 * and SM2. SM2: X509_verify_cert verifies SM2 signatures when the ID is set
 * (X509_set0_distinguishing_id) on every SM2-signed certificate of the
 * chain, trust anchor included, and on no other; this module does that. */
#ifndef ACLM_CRYPTO_CHAIN_H
#define ACLM_CRYPTO_CHAIN_H

#include <stdint.h>

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "core/status.h"

/* A trust store from a PEM bundle file or a directory of PEM files. */
aclm_status crypto_trust_load(const char *path, X509_STORE **out, struct aclm_err *err);
/* A trust store from certificates in memory (each is up-ref'd). */
aclm_status crypto_trust_from_certs(X509 *const *certs, size_t n, X509_STORE **out,
				    struct aclm_err *err);

/* Builds and verifies leaf's chain from the untrusted intermediates (may be
 * NULL) to an anchor in trust, at time `at` (0 = now). On success *chain (if
 * not NULL) receives the chain leaf first, anchor last (free with
 * sk_X509_pop_free(chain, X509_free)). On failure ACLM_ERR_VERIFY
 * with OpenSSL's reason and the depth. */
aclm_status crypto_chain_verify(X509 *leaf, STACK_OF(X509) *untrusted, X509_STORE *trust,
				int64_t at, STACK_OF(X509) **chain, struct aclm_err *err);

#endif
