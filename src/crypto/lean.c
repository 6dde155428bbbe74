/* A lean OpenSSL library context for TLS clients that meet many servers'
 * certificates (the scanner): every algorithm of the default and legacy
 * providers, but of the decoders only those of DER SubjectPublicKeyInfo.
 *
 * Why: OpenSSL 3.0 decodes a certificate's public key through its decoder
 * machinery, and each decode first builds a decoder chain by walking every
 * decoder the library context offers (40 in the default provider: PEM,
 * PKCS#8, MSBLOB, PVK, ...). libssl decodes the peer's certificates with
 * d2i_X509 in the SSL_CTX's context, so that walk was ~20 % of a scan's
 * CPU. A certificate's key is always a DER SubjectPublicKeyInfo, so the 12
 * decoders of that structure are all a TLS client needs (OpenSSL 3.2
 * caches decoder chains instead; Debian 12 has 3.0).
 *
 * How: the default provider is loaded in a private context; a built-in
 * provider in the lean context forwards every operation to it (same
 * implementations, same provider context), except that its decoder list is
 * the filtered copy. The legacy provider is loaded as well, so that the
 * ciphers a scanner offers (RC4, SEED, IDEA at security level 0) are the
 * same as in the default context. Both contexts live as long as the
 * process, like the providers of init.c. */
#include "crypto/crypto.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_dispatch.h>
#include <openssl/err.h>
#include <openssl/provider.h>

static pthread_once_t lean_once = PTHREAD_ONCE_INIT;
static OSSL_LIB_CTX *lean_ctx;          /* the lean context handed out */
static OSSL_LIB_CTX *lean_backing_ctx;  /* the default provider's own */
static OSSL_PROVIDER *lean_backing;     /* that default provider */
static OSSL_ALGORITHM *lean_decoders;   /* the filtered copy, NULL-terminated */

/* True when the comma-separated property definition has ITEM. */
static bool has_property(const char *def, const char *item)
{
	size_t n = strlen(item);
	const char *p = def;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, item, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return true;
		p = strchr(p, ',');
		if (p != NULL)
			p++;
	}
	return false;
}

static bool lean_decoders_build(void)
{
	const OSSL_ALGORITHM *all, *a;
	size_t n = 0, k = 0;
	int no_cache = 0;

	all = OSSL_PROVIDER_query_operation(lean_backing, OSSL_OP_DECODER, &no_cache);
	if (all == NULL)
		return false;
	for (a = all; a->algorithm_names != NULL; a++)
		n++;
	lean_decoders = calloc(n + 1, sizeof(*lean_decoders));
	if (lean_decoders == NULL)
		return false;
	for (a = all; a->algorithm_names != NULL; a++)
		if (a->property_definition != NULL &&
		    has_property(a->property_definition, "input=der") &&
		    has_property(a->property_definition, "structure=SubjectPublicKeyInfo"))
			lean_decoders[k++] = *a;
	return k > 0;
}

static const OSSL_ALGORITHM *lean_query(void *provctx, int op, int *no_cache)
{
	(void)provctx;
	if (op == OSSL_OP_DECODER) {
		*no_cache = 0;
		return lean_decoders;
	}
	return OSSL_PROVIDER_query_operation(lean_backing, op, no_cache);
}

static void lean_unquery(void *provctx, int op, const OSSL_ALGORITHM *algs)
{
	(void)provctx;
	if (op != OSSL_OP_DECODER)
		OSSL_PROVIDER_unquery_operation(lean_backing, op, algs);
}

/* libssl learns the TLS groups (names, ids, security bits) this way. */
static int lean_capabilities(void *provctx, const char *capability, OSSL_CALLBACK *cb, void *arg)
{
	(void)provctx;
	return OSSL_PROVIDER_get_capabilities(lean_backing, capability, cb, arg);
}

static const OSSL_DISPATCH lean_dispatch[] = {
	{ OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))lean_query },
	{ OSSL_FUNC_PROVIDER_UNQUERY_OPERATION, (void (*)(void))lean_unquery },
	{ OSSL_FUNC_PROVIDER_GET_CAPABILITIES, (void (*)(void))lean_capabilities },
	{ 0, NULL }
};

/* The forwarded implementations run with the default provider's own
 * context, which ties them to the backing library context. */
static int lean_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
			      const OSSL_DISPATCH **out, void **provctx)
{
	(void)handle;
	(void)in;
	*out = lean_dispatch;
	*provctx = OSSL_PROVIDER_get0_provider_ctx(lean_backing);
	return *provctx != NULL;
}

static void lean_init(void)
{
	OSSL_LIB_CTX *ctx = NULL;

	ERR_set_mark();
	lean_backing_ctx = OSSL_LIB_CTX_new();
	if (lean_backing_ctx == NULL ||
	    (lean_backing = OSSL_PROVIDER_load(lean_backing_ctx, "default")) == NULL ||
	    !lean_decoders_build())
		goto out;
	ctx = OSSL_LIB_CTX_new();
	if (ctx == NULL || OSSL_PROVIDER_add_builtin(ctx, "aclm-lean", lean_provider_init) != 1 ||
	    OSSL_PROVIDER_load(ctx, "aclm-lean") == NULL) {
		OSSL_LIB_CTX_free(ctx);
		goto out;
	}
	(void)OSSL_PROVIDER_load(ctx, "legacy"); /* optional, as in init.c */
	lean_ctx = ctx;
out:
	ERR_pop_to_mark();
}

OSSL_LIB_CTX *crypto_lean_libctx(struct aclm_err *err)
{
	if (pthread_once(&lean_once, lean_init) != 0 || lean_ctx == NULL) {
		aclm_err_set(err, ACLM_ERR_CRYPTO, "cannot set up OpenSSL's lean library context");
		return NULL;
	}
	return lean_ctx;
}
