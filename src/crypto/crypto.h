/* crypto/: every certificate and key operation of aclm goes through here,
 * not through scattered OpenSSL calls. Umbrella header. */
#ifndef ACLM_CRYPTO_H
#define ACLM_CRYPTO_H

#include <openssl/types.h>

#include "crypto/key.h"
#include "crypto/csr.h"
#include "crypto/cert.h"
#include "crypto/bundle.h"
#include "crypto/chain.h"

/* Loads OpenSSL's default and legacy providers once (legacy reads RC2/3DES
 * PKCS#12 files from Windows and Java). Safe to call many times. */
aclm_status crypto_init(struct aclm_err *err);

/* A library context for TLS clients that parse many peers' certificates:
 * the default and legacy providers' algorithms, but only the decoders of
 * DER SubjectPublicKeyInfo, which makes OpenSSL 3.0's per-certificate key
 * decoding about twice as fast (lean.c says why). For SSL_CTX_new_ex; keys
 * and certificates made in it work with every other OpenSSL call. Created
 * once, kept for the life of the process; NULL (and err) when it cannot be. */
OSSL_LIB_CTX *crypto_lean_libctx(struct aclm_err *err);

#endif
