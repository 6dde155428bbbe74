/* crypto/: every certificate and key operation of aclm goes through here,
 * not through scattered OpenSSL calls. Umbrella header. */
#ifndef ACLM_CRYPTO_H
#define ACLM_CRYPTO_H

#include "crypto/key.h"
#include "crypto/csr.h"
#include "crypto/cert.h"
#include "crypto/bundle.h"
#include "crypto/chain.h"

/* Loads OpenSSL's default and legacy providers once (legacy reads RC2/3DES
 * PKCS#12 files from Windows and Java). Safe to call many times. */
aclm_status crypto_init(struct aclm_err *err);

#endif
