/* Keys: generation (RSA, ECDSA, SM2, Ed25519), what a key is, PKCS#8 encodings and
 * digest signatures, SM2 user IDs included. */
#include "crypto/key.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/encode.h"

static const struct {
	const char *name;
	const char *alg;   /* OpenSSL key type */
	const char *group; /* EC group, NULL for RSA */
	unsigned bits;     /* RSA modulus size */
} key_types[CRYPTO_KEY_TYPE_COUNT] = {
	[CRYPTO_KEY_RSA2048] = { "rsa2048", "RSA", NULL, 2048 },
	[CRYPTO_KEY_RSA3072] = { "rsa3072", "RSA", NULL, 3072 },
	[CRYPTO_KEY_RSA4096] = { "rsa4096", "RSA", NULL, 4096 },
	[CRYPTO_KEY_P256] = { "p256", "EC", "P-256", 0 },
	[CRYPTO_KEY_P384] = { "p384", "EC", "P-384", 0 },
	[CRYPTO_KEY_SM2] = { "sm2", "SM2", NULL, 0 },
	[CRYPTO_KEY_ED25519] = { "ed25519", "ED25519", NULL, 0 },
};

/* OpenSSL's group names next to the NIST names the inventory reports. */
static const struct {
	const char *openssl;
	const char *nist;
} curve_names[] = {
	{ "prime256v1", "P-256" },
	{ "secp384r1", "P-384" },
	{ "secp521r1", "P-521" },
	{ "P-256", "P-256" },
	{ "P-384", "P-384" },
	{ "P-521", "P-521" },
	{ "SM2", "SM2" },
};

const char *crypto_key_type_name(enum crypto_key_type t)
{
	return (unsigned)t < CRYPTO_KEY_TYPE_COUNT ? key_types[t].name : "unknown";
}

int crypto_key_type_parse(const char *s)
{
	int found = -1;

	for (int i = 0; s != NULL && found < 0 && i < CRYPTO_KEY_TYPE_COUNT; i++)
		if (strcasecmp(s, key_types[i].name) == 0)
			found = i;
	return found;
}

bool crypto_key_type_for_certs(enum crypto_key_type t)
{
	return (unsigned)t < CRYPTO_KEY_TYPE_COUNT && t != CRYPTO_KEY_ED25519;
}

aclm_status crypto_key_generate(enum crypto_key_type t, EVP_PKEY **out, struct aclm_err *err)
{
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM params[3], *p = params;
	unsigned bits;
	aclm_status st = ACLM_OK;

	*out = NULL;
	if ((unsigned)t >= CRYPTO_KEY_TYPE_COUNT) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "key type %d: unknown", (int)t);
		goto out;
	}
	bits = key_types[t].bits;
	/* RSA: OpenSSL's default public exponent is 65537 (RSA_F4). EC: named
	 * curve encoding (RFC 5480 §2.1.1 forbids explicit parameters). */
	if (bits != 0)
		*p++ = OSSL_PARAM_construct_uint(OSSL_PKEY_PARAM_RSA_BITS, &bits);
	if (key_types[t].group != NULL) {
		*p++ = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
							(char *)key_types[t].group, 0);
		*p++ = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING,
							(char *)OSSL_PKEY_EC_ENCODING_GROUP, 0);
	}
	*p = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, key_types[t].alg, NULL);
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_CTX_set_params(ctx, params) <= 0 ||
	    EVP_PKEY_generate(ctx, out) <= 0) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "generating a %s key", key_types[t].name);
		goto out;
	}
out:
	EVP_PKEY_CTX_free(ctx);
	return st;
}

/* The key's EC group name as OpenSSL spells it, "" when it has none. */
static void key_group(const EVP_PKEY *key, char *out, size_t size)
{
	size_t len = 0;

	if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, out, size, &len) != 1) {
		out[0] = '\0';
		ERR_clear_error(); /* RSA, EdDSA and explicit curves have no group name */
	}
}

/* OpenSSL 3.0 reads SM2 keys back (PEM, DER, certificates) as type SM2,
 * but an EC key on the SM2 curve (EVP_PKEY_Q_keygen "EC" "SM2") is SM2 too. */
bool crypto_key_is_sm2(const EVP_PKEY *key)
{
	char group[64] = "";

	if (key != NULL && EVP_PKEY_is_a(key, "EC"))
		key_group(key, group, sizeof(group));
	return key != NULL && (EVP_PKEY_is_a(key, "SM2") || strcmp(group, "SM2") == 0);
}

static const char *key_type_of(const EVP_PKEY *key)
{
	static const struct {
		const char *openssl;
		const char *type;
	} types[] = {
		{ "RSA", "rsa" },     { "RSA-PSS", "rsa" }, { "EC", "ec" }, { "ED25519", "ed25519" },
		{ "ED448", "ed448" }, { "DSA", "dsa" },
	};

	const char *type = crypto_key_is_sm2(key) ? "sm2" : NULL;

	for (size_t i = 0; type == NULL && i < sizeof(types) / sizeof(types[0]); i++)
		if (EVP_PKEY_is_a(key, types[i].openssl))
			type = types[i].type;
	return type != NULL ? type : "unknown";
}

aclm_status crypto_key_info(const EVP_PKEY *key, struct crypto_key_info *out)
{
	char group[sizeof(out->curve)];
	const char *curve = group;
	aclm_status st = ACLM_OK;

	memset(out, 0, sizeof(*out));
	snprintf(out->type, sizeof(out->type), "unknown");
	if (key == NULL) {
		st = ACLM_ERR_INVALID;
		goto out;
	}
	snprintf(out->type, sizeof(out->type), "%s", key_type_of(key));
	out->bits = EVP_PKEY_get_bits(key) > 0 ? EVP_PKEY_get_bits(key) : 0;
	key_group(key, group, sizeof(group));
	for (size_t i = 0; i < sizeof(curve_names) / sizeof(curve_names[0]); i++)
		if (strcasecmp(group, curve_names[i].openssl) == 0)
			curve = curve_names[i].nist;
	snprintf(out->curve, sizeof(out->curve), "%s", curve);
out:
	return st;
}

int crypto_key_type_of(const EVP_PKEY *key)
{
	struct crypto_key_info info;
	char name[16] = "";

	if (crypto_key_info(key, &info) != ACLM_OK)
		return -1;
	/* RSA-PSS keys report "rsa" too but are not the PKCS#1 keys made here. */
	if (strcmp(info.type, "rsa") == 0 && EVP_PKEY_is_a(key, "RSA"))
		snprintf(name, sizeof(name), "rsa%d", info.bits);
	else if (strcmp(info.type, "ec") == 0 && strcmp(info.curve, "P-256") == 0)
		snprintf(name, sizeof(name), "p256");
	else if (strcmp(info.type, "ec") == 0 && strcmp(info.curve, "P-384") == 0)
		snprintf(name, sizeof(name), "p384");
	else if (strcmp(info.type, "sm2") == 0 || strcmp(info.type, "ed25519") == 0)
		snprintf(name, sizeof(name), "%s", info.type);
	return crypto_key_type_parse(name[0] != '\0' ? name : NULL);
}

aclm_status crypto_key_spki_sha256(const EVP_PKEY *key, char out[65])
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int len;
	aclm_status st = ACLM_OK;

	out[0] = '\0';
	len = key != NULL ? i2d_PUBKEY(key, &der) : 0;
	if (len <= 0 || EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) != 1) {
		ERR_clear_error();
		st = ACLM_ERR_CRYPTO;
		goto out;
	}
	aclm_hex_encode(md, mdlen, out);
out:
	OPENSSL_free(der);
	return st;
}

bool crypto_key_public_equal(const EVP_PKEY *a, const EVP_PKEY *b)
{
	int r = a != NULL && b != NULL ? EVP_PKEY_eq(a, b) : 0;

	ERR_clear_error(); /* different key types answer -1 or -2 with a queued error */
	return r == 1;
}

/* Unencrypted PKCS#8 (RFC 5958 OneAsymmetricKey) in DER or PEM. */
static aclm_status key_encode(const EVP_PKEY *key, const char *format, unsigned char **data,
			      size_t *len, struct aclm_err *err)
{
	OSSL_ENCODER_CTX *ectx = NULL;
	aclm_status st = ACLM_OK;

	*data = NULL;
	*len = 0;
	if (key == NULL) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "encoding a key: no key");
		goto out;
	}
	ectx = OSSL_ENCODER_CTX_new_for_pkey(key, EVP_PKEY_KEYPAIR, format, "PrivateKeyInfo", NULL);
	if (ectx == NULL || OSSL_ENCODER_CTX_get_num_encoders(ectx) == 0 ||
	    OSSL_ENCODER_to_data(ectx, data, len) != 1) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "encoding a %s private key as PKCS#8 %s",
				  EVP_PKEY_get0_type_name(key), format);
		goto out;
	}
out:
	OSSL_ENCODER_CTX_free(ectx);
	return st;
}

aclm_status crypto_key_to_der(const EVP_PKEY *key, unsigned char **der, size_t *len,
			      struct aclm_err *err)
{
	return key_encode(key, "DER", der, len, err);
}

aclm_status crypto_key_to_pem(const EVP_PKEY *key, struct aclm_buf *out, struct aclm_err *err)
{
	unsigned char *pem = NULL;
	size_t len = 0;
	aclm_status st;

	st = key_encode(key, "PEM", &pem, &len, err);
	if (st != ACLM_OK)
		goto out;
	st = aclm_buf_append(out, pem, len);
	if (st != ACLM_OK)
		aclm_err_set(err, st, "private key PEM: %zu bytes do not fit the buffer", len);
out:
	OPENSSL_clear_free(pem, len);
	return st;
}

aclm_status crypto_key_from_der(const unsigned char *der, size_t len, EVP_PKEY **out,
				struct aclm_err *err)
{
	OSSL_DECODER_CTX *dctx = NULL;
	aclm_status st = ACLM_OK;

	*out = NULL;
	/* Structure NULL: PKCS#8 and the traditional per-type encodings. */
	dctx = OSSL_DECODER_CTX_new_for_pkey(out, "DER", NULL, NULL, EVP_PKEY_KEYPAIR, NULL, NULL);
	if (dctx == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "private key DER: no decoder");
		goto out;
	}
	if (OSSL_DECODER_from_data(dctx, &der, &len) != 1 || *out == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_PARSE, "private key DER: not a private key");
		goto out;
	}
	if (len != 0) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "private key DER: %zu trailing bytes", len);
		EVP_PKEY_free(*out);
		*out = NULL;
	}
out:
	OSSL_DECODER_CTX_free(dctx);
	return st;
}

struct pem_pass {
	const char *password;
	bool asked;
};

/* Always given to PEM reads: without a callback OpenSSL prompts on the tty. */
static int pem_pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pem_pass *pp = u;
	size_t len = pp->password != NULL ? strlen(pp->password) : 0;
	int r = -1;

	pp->asked = true;
	if (pp->password != NULL && len <= (size_t)size) {
		memcpy(buf, pp->password, len);
		r = (int)len;
	}
	return r;
}

aclm_status crypto_key_from_pem(const char *pem, size_t len, const char *password, EVP_PKEY **out,
				struct aclm_err *err)
{
	struct pem_pass pp = { password, false };
	BIO *bio = NULL;
	aclm_status st = ACLM_OK;

	*out = NULL;
	if (len > INT_MAX) {
		st = aclm_err_set(err, ACLM_ERR_TOOBIG, "private key PEM: %zu bytes", len);
		goto out;
	}
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "private key PEM");
		goto out;
	}
	*out = PEM_read_bio_PrivateKey_ex(bio, NULL, pem_pass_cb, &pp, NULL, NULL);
	if (*out != NULL)
		goto out;
	if (pp.asked && password == NULL)
		st = aclm_err_ssl(err, ACLM_ERR_PASSWORD, "private key PEM: encrypted, password needed");
	else if (pp.asked)
		st = aclm_err_ssl(err, ACLM_ERR_PASSWORD, "private key PEM: wrong password");
	else
		st = aclm_err_ssl(err, ACLM_ERR_PARSE, "private key PEM: no private key found");
out:
	BIO_free(bio);
	return st;
}

/* The usual digest for key when the caller names none; NULL for EdDSA,
 * which hashes internally (RFC 8032). */
static const char *default_digest(const EVP_PKEY *key)
{
	struct crypto_key_info info;
	const char *md = "SHA256";

	crypto_key_info(key, &info);
	if (strcmp(info.type, "sm2") == 0)
		md = "SM3"; /* GB/T 32918.2, RFC 8998 §3.2 */
	else if (strcmp(info.type, "ed25519") == 0 || strcmp(info.type, "ed448") == 0)
		md = NULL;
	else if (strcmp(info.curve, "P-384") == 0)
		md = "SHA384"; /* RFC 5480 §4: digest strength matches the curve */
	else if (strcmp(info.curve, "P-521") == 0)
		md = "SHA512";
	return md;
}

/* Initialises ctx to sign or verify with key; SM2 gets its user ID on the
 * EVP_PKEY_CTX the init created, before any data (Z = H(ID || ...)). */
static aclm_status digest_init(EVP_MD_CTX *ctx, EVP_PKEY *key, const char *digest,
			       const char *sm2_id, bool verify, struct aclm_err *err)
{
	EVP_PKEY_CTX *pctx = NULL;
	const char *md = digest != NULL ? digest : default_digest(key);
	const char *id = sm2_id != NULL ? sm2_id : CRYPTO_SM2_ID;
	aclm_status st = ACLM_OK;
	int r;

	if (crypto_key_is_sm2(key) && !EVP_PKEY_is_a(key, "SM2")) {
		st = aclm_err_set(err, ACLM_ERR_UNSUPPORTED,
				  "EC key on the SM2 curve: load it as an SM2 key to sign SM2");
		goto out;
	}
	if (verify)
		r = EVP_DigestVerifyInit_ex(ctx, &pctx, md, NULL, NULL, key, NULL);
	else
		r = EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, key, NULL);
	if (r <= 0) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "%s key with digest %s",
				  EVP_PKEY_get0_type_name(key), md != NULL ? md : "(none)");
		goto out;
	}
	if (EVP_PKEY_is_a(key, "SM2") && EVP_PKEY_CTX_set1_id(pctx, id, (int)strlen(id)) <= 0)
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "SM2 user ID \"%s\"", id);
out:
	return st;
}

aclm_status crypto_sign_init(EVP_MD_CTX *ctx, EVP_PKEY *key, const char *digest,
			     const char *sm2_id, struct aclm_err *err)
{
	aclm_status st;

	if (ctx == NULL || key == NULL)
		st = aclm_err_set(err, ACLM_ERR_INVALID, "signing: no %s", ctx ? "key" : "context");
	else
		st = digest_init(ctx, key, digest, sm2_id, false, err);
	return st;
}

aclm_status crypto_sign(EVP_PKEY *key, const char *digest, const char *sm2_id,
			const unsigned char *msg, size_t len, unsigned char **sig, size_t *siglen,
			struct aclm_err *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	aclm_status st;

	*sig = NULL;
	*siglen = 0;
	if (ctx == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "signing");
		goto out;
	}
	st = crypto_sign_init(ctx, key, digest, sm2_id, err);
	if (st != ACLM_OK)
		goto out;
	/* EdDSA signs only in one shot: EVP_DigestSign, first for the size. */
	if (EVP_DigestSign(ctx, NULL, siglen, msg, len) != 1 ||
	    (*sig = OPENSSL_malloc(*siglen)) == NULL ||
	    EVP_DigestSign(ctx, *sig, siglen, msg, len) != 1) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "signing with a %s key",
				  EVP_PKEY_get0_type_name(key));
		OPENSSL_free(*sig);
		*sig = NULL;
		*siglen = 0;
	}
out:
	EVP_MD_CTX_free(ctx);
	return st;
}

aclm_status crypto_verify(EVP_PKEY *key, const char *digest, const char *sm2_id,
			  const unsigned char *msg, size_t len, const unsigned char *sig,
			  size_t siglen, struct aclm_err *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	aclm_status st;

	if (ctx == NULL || key == NULL) {
		st = aclm_err_ssl(err, ctx ? ACLM_ERR_INVALID : ACLM_ERR_NOMEM, "verifying: no %s",
				  ctx ? "key" : "memory");
		goto out;
	}
	st = digest_init(ctx, key, digest, sm2_id, true, err);
	if (st != ACLM_OK)
		goto out;
	/* 0 is a bad signature, < 0 a malformed one: both do not verify. */
	if (EVP_DigestVerify(ctx, sig, siglen, msg, len) != 1)
		st = aclm_err_ssl(err, ACLM_ERR_VERIFY, "%s signature does not verify",
				  EVP_PKEY_get0_type_name(key));
out:
	EVP_MD_CTX_free(ctx);
	return st;
}
