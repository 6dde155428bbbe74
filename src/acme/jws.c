/* acme/jws: signed ACME requests (RFC 7515 flattened JSON, RFC 8555 §6.2),
 * External Account Binding (RFC 8555 §7.3.4) and the key authorization with
 * its challenge digests (RFC 8555 §8.1, §8.4; RFC 8737 §3). */
#include "acme/acme.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

/* RFC 7518 §3.4: each of r and s is the curve's size, big-endian. */
static size_t ecdsa_size(const char *alg)
{
	size_t size = 0;

	if (strcmp(alg, "ES256") == 0)
		size = 32;
	else if (strcmp(alg, "ES384") == 0)
		size = 48;
	return size;
}

static bool jws_alg_known(const char *alg)
{
	return alg != NULL && (ecdsa_size(alg) != 0 || strcmp(alg, "RS256") == 0 ||
			       strcmp(alg, "EdDSA") == 0);
}

/* DER ECDSA-Sig-Value -> r||s, each padded to size; *out malloc'd. */
static aclm_status ecdsa_der_to_raw(const unsigned char *der, size_t len, size_t size,
				    unsigned char **out, struct aclm_err *err)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = NULL;
	const BIGNUM *r, *s;
	unsigned char *raw = NULL;
	aclm_status st = ACLM_OK;

	*out = NULL;
	sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	if (sig == NULL || p != der + len) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "jws: the signer returned no DER ECDSA "
				  "signature");
		goto out;
	}
	ECDSA_SIG_get0(sig, &r, &s);
	raw = malloc(2 * size);
	if (raw == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "jws: out of memory");
		goto out;
	}
	if (BN_bn2binpad(r, raw, (int)size) < 0 || BN_bn2binpad(s, raw + size, (int)size) < 0) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "jws: ECDSA r or s larger than %zu bytes "
				  "(wrong key for the alg?)", size);
		goto out;
	}
	*out = raw;
	raw = NULL;
out:
	free(raw);
	ECDSA_SIG_free(sig);
	return st;
}

/* base64url(compact JSON of v); v NULL gives "" (RFC 8555 §6.3 POST-as-GET). */
static char *b64url_json(const json_t *v)
{
	char *text = NULL, *b64 = NULL;

	if (v == NULL) {
		b64 = strdup("");
		goto out;
	}
	text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (text != NULL)
		b64 = acme_b64url_encode((const unsigned char *)text, strlen(text));
out:
	free(text);
	return b64;
}

/* RFC 8555 §6.2: exactly alg, jwk or kid, nonce, url. */
static json_t *jws_protected(const struct acme_signer *s, const char *url, const char *nonce)
{
	json_t *h = json_object();
	int rc = 0;

	if (h == NULL)
		goto out;
	rc |= json_object_set_new(h, "alg", json_string(s->alg));
	if (s->kid != NULL)
		rc |= json_object_set_new(h, "kid", json_string(s->kid));
	else
		rc |= json_object_set_new(h, "jwk", json_deep_copy(s->jwk));
	if (nonce != NULL)
		rc |= json_object_set_new(h, "nonce", json_string(nonce));
	rc |= json_object_set_new(h, "url", json_string(url));
	if (rc != 0) {
		json_decref(h);
		h = NULL;
	}
out:
	return h;
}

/* {"protected","payload","signature"} from the three base64url parts. */
static aclm_status jws_object(const char *prot, const char *payload, const unsigned char *sig,
			      size_t siglen, json_t **out, struct aclm_err *err)
{
	char *sig64 = acme_b64url_encode(sig, siglen);
	json_t *o = NULL;
	aclm_status st = ACLM_OK;

	if (sig64 != NULL)
		o = json_pack("{s:s,s:s,s:s}", "protected", prot, "payload", payload, "signature",
			      sig64);
	if (o == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "jws: out of memory");
	*out = o;
	free(sig64);
	return st;
}

static aclm_status jws_check_args(const struct acme_signer *s, const char *url,
				  struct aclm_err *err)
{
	aclm_status st = ACLM_OK;

	if (s == NULL || s->sign == NULL)
		st = aclm_err_set(err, ACLM_ERR_INVALID, "jws: no signer");
	else if (!jws_alg_known(s->alg))
		st = aclm_err_set(err, ACLM_ERR_UNSUPPORTED, "jws: alg \"%s\" is not ES256, "
				  "ES384, RS256 or EdDSA", s->alg != NULL ? s->alg : "");
	else if (s->kid == NULL && !json_is_object(s->jwk))
		st = aclm_err_set(err, ACLM_ERR_INVALID, "jws: neither kid nor jwk");
	else if (url == NULL || url[0] == '\0')
		st = aclm_err_set(err, ACLM_ERR_INVALID, "jws: no url");
	return st;
}

/* Calls the signer over input; converts ECDSA DER to r||s. */
static aclm_status jws_signature(const struct acme_signer *s, const char *input,
				 unsigned char **sig, size_t *siglen, struct aclm_err *err)
{
	unsigned char *raw = NULL, *der = NULL;
	size_t derlen = 0, size = ecdsa_size(s->alg);
	aclm_status st;

	st = s->sign(s->arg, (const unsigned char *)input, strlen(input), &der, &derlen, err);
	if (st != ACLM_OK)
		goto out;
	if (der == NULL || derlen == 0) {
		st = aclm_err_set(err, ACLM_ERR_CRYPTO, "jws: the signer returned no signature");
		goto out;
	}
	if (size != 0) {
		st = ecdsa_der_to_raw(der, derlen, size, &raw, err);
		if (st == ACLM_OK) {
			*sig = raw;
			*siglen = 2 * size;
		}
		goto out;
	}
	raw = malloc(derlen);
	if (raw == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "jws: out of memory");
		goto out;
	}
	memcpy(raw, der, derlen);
	*sig = raw;
	*siglen = derlen;
out:
	OPENSSL_free(der);
	return st;
}

aclm_status acme_jws_sign_obj(const struct acme_signer *s, const char *url, const char *nonce,
			      const json_t *payload, json_t **out, struct aclm_err *err)
{
	json_t *header = NULL;
	char *prot = NULL, *body = NULL, *input = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	aclm_status st;

	*out = NULL;
	st = jws_check_args(s, url, err);
	if (st != ACLM_OK)
		goto out;
	header = jws_protected(s, url, nonce);
	if (header == NULL) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "jws: cannot build the protected header "
				  "(kid, nonce or url not UTF-8?)");
		goto out;
	}
	prot = b64url_json(header);
	body = b64url_json(payload);
	if (prot == NULL || body == NULL ||
	    asprintf(&input, "%s.%s", prot, body) < 0) {
		input = NULL;
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "jws: out of memory");
		goto out;
	}
	/* RFC 7515 §5.1: the signing input is ASCII(protected "." payload). */
	st = jws_signature(s, input, &sig, &siglen, err);
	if (st == ACLM_OK)
		st = jws_object(prot, body, sig, siglen, out, err);
out:
	free(sig);
	free(input);
	free(body);
	free(prot);
	json_decref(header);
	return st;
}

aclm_status acme_jws_sign(const struct acme_signer *s, const char *url, const char *nonce,
			  const json_t *payload, char **out, struct aclm_err *err)
{
	json_t *jws = NULL;
	aclm_status st;

	*out = NULL;
	st = acme_jws_sign_obj(s, url, nonce, payload, &jws, err);
	if (st != ACLM_OK)
		goto out;
	*out = json_dumps(jws, JSON_COMPACT);
	if (*out == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "jws: out of memory");
out:
	json_decref(jws);
	return st;
}

/* RFC 8555 §7.3.4: the outer newAccount payload carries this as
 * "externalAccountBinding"; the MAC key is the CA's, base64url-decoded. */
aclm_status acme_eab_jws(const char *eab_kid, const unsigned char *hmac_key, size_t keylen,
			 const json_t *account_jwk, const char *new_account_url, json_t **out,
			 struct aclm_err *err)
{
	json_t *header = NULL;
	char *prot = NULL, *body = NULL, *input = NULL;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	aclm_status st = ACLM_OK;

	*out = NULL;
	if (eab_kid == NULL || eab_kid[0] == '\0' || hmac_key == NULL || keylen == 0 ||
	    keylen > INT_MAX || !json_is_object(account_jwk) || new_account_url == NULL) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "eab: %s",
				  eab_kid == NULL || eab_kid[0] == '\0' ? "no key id"
				  : hmac_key == NULL || keylen == 0 || keylen > INT_MAX
					  ? "no HMAC key"
				  : new_account_url == NULL ? "no newAccount URL"
							    : "the account JWK is not an object");
		goto out;
	}
	header = json_pack("{s:s,s:s,s:s}", "alg", "HS256", "kid", eab_kid, "url",
			   new_account_url);
	prot = header != NULL ? b64url_json(header) : NULL;
	body = b64url_json(account_jwk);
	if (prot == NULL || body == NULL || asprintf(&input, "%s.%s", prot, body) < 0) {
		input = NULL;
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "eab: out of memory");
		goto out;
	}
	if (HMAC(EVP_sha256(), hmac_key, (int)keylen, (const unsigned char *)input, strlen(input),
		 mac, &maclen) == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "eab: HMAC-SHA256");
		goto out;
	}
	st = jws_object(prot, body, mac, maclen, out, err);
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	free(input);
	free(body);
	free(prot);
	json_decref(header);
	return st;
}

/* RFC 8555 §8.1: keyAuthorization = token || '.' || base64url(Thumbprint). */
char *acme_key_authorization(const char *token, const char *thumbprint)
{
	char *ka = NULL;

	if (token != NULL && thumbprint != NULL && asprintf(&ka, "%s.%s", token, thumbprint) < 0)
		ka = NULL;
	return ka;
}

static aclm_status key_authz_sha256(const char *ka, unsigned char md[32], const char *what,
				    struct aclm_err *err)
{
	aclm_status st = ACLM_OK;

	if (ka == NULL || ka[0] == '\0')
		st = aclm_err_set(err, ACLM_ERR_INVALID, "%s: no key authorization", what);
	else if (SHA256((const unsigned char *)ka, strlen(ka), md) == NULL)
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "%s: SHA-256", what);
	return st;
}

/* RFC 8555 §8.4: the TXT record holds base64url(SHA-256(keyAuthorization)). */
aclm_status acme_dns01_txt(const char *key_authorization, char out[44], struct aclm_err *err)
{
	unsigned char md[32];
	char *b64 = NULL;
	aclm_status st;

	out[0] = '\0';
	st = key_authz_sha256(key_authorization, md, "dns-01", err);
	if (st != ACLM_OK)
		goto out;
	b64 = acme_b64url_encode(md, sizeof(md));
	if (b64 == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "dns-01: out of memory");
		goto out;
	}
	memcpy(out, b64, 44);
out:
	free(b64);
	return st;
}

/* RFC 8737 §3: the acmeIdentifier extension holds SHA-256(keyAuthorization). */
aclm_status acme_tlsalpn01_digest(const char *key_authorization, unsigned char out[32],
				  struct aclm_err *err)
{
	return key_authz_sha256(key_authorization, out, "tls-alpn-01", err);
}
