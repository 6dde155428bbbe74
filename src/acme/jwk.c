/* acme/jwk: public keys as JWK (RFC 7517/7518 §6, RFC 8037 §2), their RFC 7638
 * thumbprints, and the JWS algorithm of a key (RFC 7518 §3.1, RFC 8037 §3.1). */
#include "acme/acme.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

#include "crypto/key.h"

#define JWK_RSA_MIN_BITS 2048
/* A bigger modulus only makes verification slow (a server-side DoS). */
#define JWK_RSA_MAX_BITS 8192
#define JWK_RSA_MAX_E_BYTES 8

struct jwk_curve {
	const char *crv;     /* JWK "crv" (RFC 7518 §6.2.1.1) */
	const char *group;   /* OpenSSL group name */
	int nid;
	size_t size;         /* coordinate size in bytes */
	const char *alg;
};

static const struct jwk_curve jwk_curves[] = {
	{ "P-256", "prime256v1", NID_X9_62_prime256v1, 32, "ES256" },
	{ "P-384", "secp384r1", NID_secp384r1, 48, "ES384" },
};

#define N_CURVES (sizeof(jwk_curves) / sizeof(jwk_curves[0]))

/* The curve of an EC key, or NULL (SM2 and other curves). */
static const struct jwk_curve *curve_of_key(const EVP_PKEY *key)
{
	char group[64] = "";
	const struct jwk_curve *c = NULL;
	int nid;

	if (!EVP_PKEY_is_a(key, "EC") ||
	    !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
					    sizeof(group), NULL))
		goto out;
	nid = OBJ_sn2nid(group);
	if (nid == NID_undef)
		nid = EC_curve_nist2nid(group);
	for (size_t i = 0; i < N_CURVES; i++)
		if (jwk_curves[i].nid == nid)
			c = &jwk_curves[i];
out:
	return c;
}

static const struct jwk_curve *curve_of_crv(const char *crv)
{
	const struct jwk_curve *c = NULL;

	for (size_t i = 0; crv != NULL && i < N_CURVES; i++)
		if (strcmp(jwk_curves[i].crv, crv) == 0)
			c = &jwk_curves[i];
	return c;
}

const char *acme_jws_alg(const EVP_PKEY *key)
{
	const struct jwk_curve *c;
	const char *alg = NULL;

	if (key == NULL || crypto_key_is_sm2(key))
		goto out;
	if (EVP_PKEY_is_a(key, "RSA"))
		alg = "RS256";
	else if (EVP_PKEY_is_a(key, "ED25519"))
		alg = "EdDSA";
	else if ((c = curve_of_key(key)) != NULL)
		alg = c->alg;
out:
	return alg;
}

/* Sets jwk[name] = base64url(bin[0..len)). */
static aclm_status jwk_set_b64(json_t *jwk, const char *name, const unsigned char *bin,
			       size_t len, struct aclm_err *err)
{
	char *s = acme_b64url_encode(bin, len);
	aclm_status st = ACLM_OK;

	if (s == NULL || json_object_set_new(jwk, name, json_string(s)) != 0)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "jwk: %s: out of memory", name);
	free(s);
	return st;
}

/* Sets jwk[name] from a key's BIGNUM parameter, as `pad` bytes big-endian
 * (EC coordinates, RFC 7518 §6.2.1.2) or, when pad is 0, in the fewest
 * bytes (Base64urlUInt, RFC 7518 §2). */
static aclm_status jwk_set_bn(json_t *jwk, const char *name, const EVP_PKEY *key,
			      const char *param, size_t pad, struct aclm_err *err)
{
	BIGNUM *bn = NULL;
	unsigned char *bin = NULL;
	size_t len;
	aclm_status st;

	if (!EVP_PKEY_get_bn_param(key, param, &bn)) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "jwk: reading %s of the key", param);
		goto out;
	}
	len = pad != 0 ? pad : (size_t)BN_num_bytes(bn);
	bin = OPENSSL_malloc(len > 0 ? len : 1);
	if (bin == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "jwk: %s: out of memory", name);
		goto out;
	}
	if (BN_bn2binpad(bn, bin, (int)len) < 0) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "jwk: %s does not fit %zu bytes", name, len);
		goto out;
	}
	st = jwk_set_b64(jwk, name, bin, len, err);
out:
	OPENSSL_free(bin);
	BN_free(bn);
	return st;
}

static aclm_status jwk_from_ec(const EVP_PKEY *key, const struct jwk_curve *c, json_t *jwk,
			       struct aclm_err *err)
{
	aclm_status st = ACLM_ERR_NOMEM;

	/* Members in lexicographic order, as a thumbprint lists them. */
	if (json_object_set_new(jwk, "crv", json_string(c->crv)) != 0 ||
	    json_object_set_new(jwk, "kty", json_string("EC")) != 0) {
		aclm_err_set(err, st, "jwk: out of memory");
		goto out;
	}
	st = jwk_set_bn(jwk, "x", key, OSSL_PKEY_PARAM_EC_PUB_X, c->size, err);
	if (st == ACLM_OK)
		st = jwk_set_bn(jwk, "y", key, OSSL_PKEY_PARAM_EC_PUB_Y, c->size, err);
out:
	return st;
}

static aclm_status jwk_from_rsa(const EVP_PKEY *key, json_t *jwk, struct aclm_err *err)
{
	aclm_status st = jwk_set_bn(jwk, "e", key, OSSL_PKEY_PARAM_RSA_E, 0, err);

	if (st == ACLM_OK && json_object_set_new(jwk, "kty", json_string("RSA")) != 0)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "jwk: out of memory");
	if (st == ACLM_OK)
		st = jwk_set_bn(jwk, "n", key, OSSL_PKEY_PARAM_RSA_N, 0, err);
	return st;
}

/* RFC 8037 §2: "x" is the raw 32-byte public key. */
static aclm_status jwk_from_ed25519(const EVP_PKEY *key, json_t *jwk, struct aclm_err *err)
{
	unsigned char raw[32];
	size_t len = sizeof(raw);
	aclm_status st;

	if (!EVP_PKEY_get_raw_public_key(key, raw, &len) || len != sizeof(raw)) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "jwk: reading the Ed25519 public key");
		goto out;
	}
	if (json_object_set_new(jwk, "crv", json_string("Ed25519")) != 0 ||
	    json_object_set_new(jwk, "kty", json_string("OKP")) != 0) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "jwk: out of memory");
		goto out;
	}
	st = jwk_set_b64(jwk, "x", raw, len, err);
out:
	return st;
}

aclm_status acme_jwk_from_pkey(const EVP_PKEY *key, json_t **out, struct aclm_err *err)
{
	json_t *jwk = NULL;
	const struct jwk_curve *c = NULL;
	aclm_status st;

	*out = NULL;
	if (key == NULL) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "jwk: no key");
		goto out;
	}
	if (crypto_key_is_sm2(key)) {
		st = aclm_err_set(err, ACLM_ERR_UNSUPPORTED,
				  "jwk: SM2 keys cannot sign ACME requests: no JWS algorithm "
				  "exists for SM2 (use an RSA, P-256, P-384 or Ed25519 account key)");
		goto out;
	}
	jwk = json_object();
	if (jwk == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "jwk: out of memory");
		goto out;
	}
	if (EVP_PKEY_is_a(key, "RSA"))
		st = jwk_from_rsa(key, jwk, err);
	else if (EVP_PKEY_is_a(key, "ED25519"))
		st = jwk_from_ed25519(key, jwk, err);
	else if ((c = curve_of_key(key)) != NULL)
		st = jwk_from_ec(key, c, jwk, err);
	else
		st = aclm_err_set(err, ACLM_ERR_UNSUPPORTED,
				  "jwk: %s keys have no JWS algorithm (RSA, P-256, P-384, Ed25519 do)",
				  EVP_PKEY_get0_type_name(key));
	if (st == ACLM_OK) {
		*out = jwk;
		jwk = NULL;
	}
out:
	json_decref(jwk);
	return st;
}

/* Decodes the base64url string member `name` of jwk into buf (at most max
 * bytes); *len gets the decoded length. */
static aclm_status jwk_get_b64(const json_t *jwk, const char *name, unsigned char *buf,
			       size_t max, size_t *len, struct aclm_err *err)
{
	const json_t *v = json_object_get(jwk, name);
	long n;
	aclm_status st = ACLM_OK;

	if (!json_is_string(v)) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "jwk: \"%s\" %s", name,
				  v == NULL ? "is missing" : "is not a string");
		goto out;
	}
	n = acme_b64url_decode(json_string_value(v), json_string_length(v), buf, max);
	if (n < 0) {
		st = aclm_err_set(err, ACLM_ERR_PARSE,
				  "jwk: \"%s\" is not base64url of at most %zu bytes", name, max);
		goto out;
	}
	*len = (size_t)n;
out:
	return st;
}

/* Builds a public key of `type` from params. */
static aclm_status jwk_fromdata(const char *type, OSSL_PARAM_BLD *bld, EVP_PKEY **out,
				struct aclm_err *err)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	aclm_status st = ACLM_OK;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "jwk: preparing a %s key", type);
		goto out;
	}
	/* An EC point off the curve already fails here (EC_POINT_oct2point). */
	if (EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
		st = aclm_err_ssl(err, ACLM_ERR_PARSE, "jwk: not a valid %s public key", type);
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return st;
}

/* RFC 7518 §6.2.1: x and y are exactly the coordinate size; the point must
 * be on the curve (else an invalid-curve attack on a server's ECDH is the
 * classic risk; here it is simply not a public key). */
static aclm_status jwk_to_ec(const json_t *jwk, EVP_PKEY **out, struct aclm_err *err)
{
	const char *crv = json_string_value(json_object_get(jwk, "crv"));
	const struct jwk_curve *c = curve_of_crv(crv);
	unsigned char point[1 + 2 * 48 + 1];
	size_t xlen = 0, ylen = 0;
	OSSL_PARAM_BLD *bld = NULL;
	aclm_status st;

	if (c == NULL) {
		st = aclm_err_set(err, crv == NULL ? ACLM_ERR_PARSE : ACLM_ERR_UNSUPPORTED,
				  "jwk: \"crv\" %s", crv == NULL ? "is missing or not a string"
								: "is not P-256 or P-384");
		goto out;
	}
	point[0] = 0x04; /* SEC 1 §2.3.3 uncompressed point */
	st = jwk_get_b64(jwk, "x", point + 1, c->size + 1, &xlen, err);
	if (st == ACLM_OK)
		st = jwk_get_b64(jwk, "y", point + 1 + c->size, c->size + 1, &ylen, err);
	if (st != ACLM_OK)
		goto out;
	if (xlen != c->size || ylen != c->size) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "jwk: \"%s\" is %zu bytes, %s needs %zu",
				  xlen != c->size ? "x" : "y", xlen != c->size ? xlen : ylen,
				  c->crv, c->size);
		goto out;
	}
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, c->group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point,
					      1 + 2 * c->size)) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "jwk: building an EC key");
		goto out;
	}
	st = jwk_fromdata("EC", bld, out, err);
out:
	OSSL_PARAM_BLD_free(bld);
	return st;
}

/* RFC 7518 §6.3.1: n and e are Base64urlUInt, the fewest octets. */
static aclm_status jwk_get_uint(const json_t *jwk, const char *name, unsigned char *buf,
				size_t max, BIGNUM **bn, struct aclm_err *err)
{
	size_t len = 0;
	aclm_status st = jwk_get_b64(jwk, name, buf, max, &len, err);

	if (st != ACLM_OK)
		goto out;
	if (len == 0 || buf[0] == 0) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "jwk: \"%s\" is %s", name,
				  len == 0 ? "empty" : "not minimal (leading zero byte)");
		goto out;
	}
	*bn = BN_bin2bn(buf, (int)len, NULL);
	if (*bn == NULL)
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "jwk: \"%s\"", name);
out:
	return st;
}

static aclm_status jwk_to_rsa(const json_t *jwk, EVP_PKEY **out, struct aclm_err *err)
{
	unsigned char buf[JWK_RSA_MAX_BITS / 8];
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	aclm_status st;

	st = jwk_get_uint(jwk, "n", buf, sizeof(buf), &n, err);
	if (st == ACLM_ERR_PARSE && json_is_string(json_object_get(jwk, "n")) &&
	    json_string_length(json_object_get(jwk, "n")) > (sizeof(buf) * 4 + 2) / 3)
		st = aclm_err_set(err, ACLM_ERR_UNSUPPORTED,
				  "jwk: RSA keys above %d bits are not accepted", JWK_RSA_MAX_BITS);
	if (st == ACLM_OK)
		st = jwk_get_uint(jwk, "e", buf, JWK_RSA_MAX_E_BYTES, &e, err);
	if (st != ACLM_OK)
		goto out;
	if (BN_num_bits(n) < JWK_RSA_MIN_BITS) {
		st = aclm_err_set(err, ACLM_ERR_UNSUPPORTED,
				  "jwk: RSA key of %d bits: at least %d are required", BN_num_bits(n),
				  JWK_RSA_MIN_BITS);
		goto out;
	}
	if (!BN_is_odd(e) || BN_is_one(e) || !BN_is_odd(n)) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "jwk: \"%s\" is not a valid RSA %s",
				  BN_is_odd(n) ? "e" : "n", BN_is_odd(n) ? "exponent" : "modulus");
		goto out;
	}
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "jwk: building an RSA key");
		goto out;
	}
	st = jwk_fromdata("RSA", bld, out, err);
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return st;
}

/* RFC 8037 §2: {"kty":"OKP","crv":"Ed25519","x"}; Ed448 and X25519/X448
 * have no ACME use here. */
static aclm_status jwk_to_okp(const json_t *jwk, EVP_PKEY **out, struct aclm_err *err)
{
	const char *crv = json_string_value(json_object_get(jwk, "crv"));
	unsigned char raw[33];
	size_t len = 0;
	aclm_status st;

	if (crv == NULL || strcmp(crv, "Ed25519") != 0) {
		st = aclm_err_set(err, crv == NULL ? ACLM_ERR_PARSE : ACLM_ERR_UNSUPPORTED,
				  "jwk: OKP \"crv\" %s", crv == NULL ? "is missing or not a string"
								    : "is not Ed25519");
		goto out;
	}
	st = jwk_get_b64(jwk, "x", raw, sizeof(raw), &len, err);
	if (st != ACLM_OK)
		goto out;
	if (len != 32) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "jwk: \"x\" is %zu bytes, Ed25519 needs 32",
				  len);
		goto out;
	}
	*out = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, len);
	if (*out == NULL)
		st = aclm_err_ssl(err, ACLM_ERR_PARSE, "jwk: not a valid Ed25519 public key");
out:
	return st;
}

/* EVP_PKEY_public_check: the EC point is on the curve and not the point at
 * infinity; RSA and Ed25519 are checked for presence only. */
static aclm_status jwk_check(EVP_PKEY *key, struct aclm_err *err)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	aclm_status st = ACLM_OK;

	if (ctx == NULL)
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "jwk: checking the key");
	else if (EVP_PKEY_public_check(ctx) != 1)
		st = aclm_err_ssl(err, ACLM_ERR_PARSE, "jwk: the public key is not valid "
				  "(EC point not on the curve?)");
	EVP_PKEY_CTX_free(ctx);
	return st;
}

aclm_status acme_jwk_to_pkey(const json_t *jwk, EVP_PKEY **out, struct aclm_err *err)
{
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	EVP_PKEY *key = NULL;
	aclm_status st;

	*out = NULL;
	if (!json_is_object(jwk) || kty == NULL) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "jwk: %s",
				  json_is_object(jwk) ? "\"kty\" is missing or not a string"
						      : "not a JSON object");
		goto out;
	}
	/* RFC 7517 §9.2 habit: a public JWK never carries private members. */
	if (json_object_get(jwk, "d") != NULL) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "jwk: carries a private key (\"d\")");
		goto out;
	}
	if (strcmp(kty, "EC") == 0)
		st = jwk_to_ec(jwk, &key, err);
	else if (strcmp(kty, "RSA") == 0)
		st = jwk_to_rsa(jwk, &key, err);
	else if (strcmp(kty, "OKP") == 0)
		st = jwk_to_okp(jwk, &key, err);
	else
		st = aclm_err_set(err, ACLM_ERR_UNSUPPORTED,
				  "jwk: \"kty\" is not EC, RSA or OKP");
	if (st == ACLM_OK)
		st = jwk_check(key, err);
	if (st == ACLM_OK) {
		*out = key;
		key = NULL;
	}
out:
	EVP_PKEY_free(key);
	return st;
}

/* RFC 7638 §3.2: the required members of each key type, sorted. */
static const char *const *thumbprint_members(const char *kty)
{
	static const char *const ec[] = { "crv", "kty", "x", "y", NULL };
	static const char *const rsa[] = { "e", "kty", "n", NULL };
	static const char *const okp[] = { "crv", "kty", "x", NULL }; /* RFC 8037 §2 */
	const char *const *m = NULL;

	if (kty == NULL)
		m = NULL;
	else if (strcmp(kty, "EC") == 0)
		m = ec;
	else if (strcmp(kty, "RSA") == 0)
		m = rsa;
	else if (strcmp(kty, "OKP") == 0)
		m = okp;
	return m;
}

aclm_status acme_jwk_thumbprint(const json_t *jwk, char out[44], struct aclm_err *err)
{
	const char *kty = json_string_value(json_object_get(jwk, "kty"));
	const char *const *members = thumbprint_members(kty);
	json_t *canon = NULL;
	char *text = NULL, *b64 = NULL;
	unsigned char md[SHA256_DIGEST_LENGTH];
	aclm_status st = ACLM_OK;

	out[0] = '\0';
	if (members == NULL) {
		st = aclm_err_set(err, kty == NULL ? ACLM_ERR_PARSE : ACLM_ERR_UNSUPPORTED,
				  "jwk thumbprint: \"kty\" %s",
				  kty == NULL ? "is missing or not a string" : "is not EC, RSA or OKP");
		goto out;
	}
	canon = json_object();
	for (size_t i = 0; st == ACLM_OK && canon != NULL && members[i] != NULL; i++) {
		json_t *v = json_object_get(jwk, members[i]);

		if (!json_is_string(v))
			st = aclm_err_set(err, ACLM_ERR_PARSE, "jwk thumbprint: \"%s\" %s",
					  members[i], v == NULL ? "is missing" : "is not a string");
		else if (json_object_set(canon, members[i], v) != 0)
			st = aclm_err_set(err, ACLM_ERR_NOMEM, "jwk thumbprint: out of memory");
	}
	if (st != ACLM_OK)
		goto out;
	/* §3.3: no whitespace, members in lexicographic order, UTF-8. */
	if (canon != NULL)
		text = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS);
	if (text == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "jwk thumbprint: out of memory");
		goto out;
	}
	SHA256((const unsigned char *)text, strlen(text), md);
	b64 = acme_b64url_encode(md, sizeof(md));
	if (b64 == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "jwk thumbprint: out of memory");
		goto out;
	}
	memcpy(out, b64, 44);
out:
	free(b64);
	free(text);
	json_decref(canon);
	return st;
}
