/* acme/: the protocol pieces shared by the ACME client (client/) and the ACME
 * server (ca/): base64url, JWK and thumbprints, JWS, External Account
 * Binding, problem documents, the directory. RFC 8555, RFC 7515/7517/7518/
 * 7638, RFC 8037 (EdDSA). No I/O here. */
#ifndef ACLM_ACME_H
#define ACLM_ACME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/status.h"

/* ---- base64url (RFC 4648 §5), no padding ---- */
/* Returns a malloc'd NUL-terminated string, or NULL on allocation failure. */
char *acme_b64url_encode(const unsigned char *in, size_t len);
/* Decodes exactly inlen characters (no padding, no whitespace accepted);
 * returns the number of bytes written, or -1 on bad input or when outmax is
 * too small. */
long acme_b64url_decode(const char *in, size_t inlen, unsigned char *out, size_t outmax);

/* ---- JWK (RFC 7517/7518, RFC 8037) ---- */
/* The public JWK of key: EC P-256/P-384 {"crv","kty":"EC","x","y"}, RSA
 * {"e","kty":"RSA","n"}, Ed25519 {"crv":"Ed25519","kty":"OKP","x"}; only the
 * required members. Other key types (SM2 included: no JWS algorithm exists)
 * -> ACLM_ERR_UNSUPPORTED. */
aclm_status acme_jwk_from_pkey(const EVP_PKEY *key, json_t **out, struct aclm_err *err);
/* The public key of a JWK (for the server side); RSA below 2048 bits and
 * unknown curves -> ACLM_ERR_UNSUPPORTED, malformed members -> ACLM_ERR_PARSE. */
aclm_status acme_jwk_to_pkey(const json_t *jwk, EVP_PKEY **out, struct aclm_err *err);
/* RFC 7638 thumbprint: base64url(SHA-256(canonical JSON of the required
 * members, sorted, no whitespace)); 43 characters + NUL. */
aclm_status acme_jwk_thumbprint(const json_t *jwk, char out[44], struct aclm_err *err);

/* The JWS "alg" for a key: "ES256" (P-256), "ES384" (P-384), "RS256" (RSA),
 * "EdDSA" (Ed25519); NULL when there is none. */
const char *acme_jws_alg(const EVP_PKEY *key);

/* ---- JWS (RFC 7515 flattened JSON serialisation, RFC 8555 §6.2) ---- */
/* Produces the signature over msg: ECDSA as DER (crypto_sign's output;
 * acme_jws_sign turns it into raw r||s of the curve's size, RFC 7518 §3.4),
 * RSA PKCS#1 v1.5 SHA-256, Ed25519 raw. The key stays wherever the callback
 * keeps it (keystore). *sig is released with OPENSSL_free (as crypto_sign's). */
typedef aclm_status (*acme_sign_fn)(void *arg, const unsigned char *msg, size_t len,
				    unsigned char **sig, size_t *siglen, struct aclm_err *err);

struct acme_signer {
	const char *alg;           /* from acme_jws_alg */
	const json_t *jwk;         /* public JWK: used when kid is NULL */
	const char *kid;           /* account URL once registered */
	acme_sign_fn sign;         /* returns DER (ECDSA) or raw (RSA, EdDSA) signatures */
	void *arg;
};

/* The flattened JWS {"protected","payload","signature"} as a compact JSON
 * string (malloc'd). protected = {"alg","jwk"|"kid","nonce","url"};
 * payload NULL means POST-as-GET (payload ""). nonce may be NULL (keyChange
 * inner JWS). ECDSA DER signatures from sign() are converted to r||s. */
aclm_status acme_jws_sign(const struct acme_signer *s, const char *url, const char *nonce,
			  const json_t *payload, char **out, struct aclm_err *err);
/* The same, returning the JWS object instead of a string (for nesting:
 * keyChange and EAB). */
aclm_status acme_jws_sign_obj(const struct acme_signer *s, const char *url, const char *nonce,
			      const json_t *payload, json_t **out, struct aclm_err *err);

/* ---- the server side: parsing and verifying requests (RFC 8555 §6.2-6.3) ----
 * Failures name the ACME problem to answer with: *problem is set to the
 * short type name ("malformed", "badSignatureAlgorithm", "badPublicKey",
 * "unauthorized", ...) and err carries the detail. These functions never
 * touch nonces, URLs of the server or accounts: the caller checks those. */
#define ACME_JWS_BODY_MAX (64 * 1024)   /* request bodies above this: malformed */

struct acme_jws_req {
	char alg[16];              /* "ES256", "ES384", "RS256", "EdDSA" (others refused) */
	json_t *jwk;               /* owned; set when the header carries "jwk" */
	char *kid;                 /* set when the header carries "kid" */
	char *nonce;               /* NULL when absent (allowed for inner JWS only) */
	char *url;                 /* required */
	json_t *payload;           /* owned; NULL for POST-as-GET (payload "") */
	char *signing_input;       /* protected "." payload, as received */
	size_t signing_input_len;
	unsigned char *sig;        /* decoded signature bytes */
	size_t sig_len;
};
/* Parses a flattened JWS (RFC 7515 §7.2.2; "signatures" arrays and unknown
 * top-level members refused, len > ACME_JWS_BODY_MAX refused): base64url of
 * each part, the protected header (alg among the four above, not "none" or
 * HS*: badSignatureAlgorithm; exactly one of jwk/kid: malformed; url
 * required; a "b64" or "crit" header: malformed), a payload that is empty
 * or a JSON object. Nothing is verified yet. */
aclm_status acme_jws_parse(const char *body, size_t len, struct acme_jws_req *out,
			   const char **problem, struct aclm_err *err);
void acme_jws_req_free(struct acme_jws_req *r);
/* The accepted "alg" values as a new JSON array (RFC 8555 §6.2: a
 * badSignatureAlgorithm problem lists them in "algorithms"). */
json_t *acme_jws_algs_json(void);
/* Verifies the signature with key: alg must match the key (ES256 = P-256,
 * ES384 = P-384, RS256 = RSA, EdDSA = Ed25519; else
 * badSignatureAlgorithm); a key of no JWS type or RSA outside 2048..8192
 * bits -> badPublicKey; ECDSA r||s of the curve's exact size. A bad
 * signature (wrong r||s length included) -> "malformed" (RFC 8555 §6.2),
 * ACLM_ERR_VERIFY. */
aclm_status acme_jws_verify(const struct acme_jws_req *r, EVP_PKEY *key, const char **problem,
			    struct aclm_err *err);
/* A key prepared once for the JWS of many requests, on one thread at a time
 * (a server's account key): the key's checks above run once, and an ECDSA
 * key keeps a context set up for its curve's digest, so each request costs
 * the digest and the signature check only (OpenSSL 3.0 fetches the digest
 * and signature methods and builds a context on each EVP_DigestVerifyInit).
 * The verdicts are acme_jws_verify's. */
struct acme_jws_verifier {
	EVP_PKEY *key;             /* a reference of our own */
	const char *alg;           /* the only alg the key may sign with */
	const char *problem;       /* set when the key itself is refused */
	char why[160];             /* ... and why */
	EVP_PKEY_CTX *ctx;         /* ECDSA: EVP_PKEY_verify set up with the digest */
	EVP_MD_CTX *md;            /* ECDSA: hashes the signing input */
};
/* Takes a reference to key. Fails only when out of memory: a key the JWS
 * rules refuse still makes a verifier, whose every verify refuses it. */
aclm_status acme_jws_verifier_init(struct acme_jws_verifier *v, EVP_PKEY *key,
				   struct aclm_err *err);
void acme_jws_verifier_clear(struct acme_jws_verifier *v);
aclm_status acme_jws_verify_with(const struct acme_jws_req *r, struct acme_jws_verifier *v,
				 const char **problem, struct aclm_err *err);
/* Checks an EAB JWS (RFC 8555 §7.3.4) inside newAccount: protected alg
 * HS256 and the kid it names (copied to kid_out), url equal to
 * new_account_url, payload equal to the outer account JWK (by RFC 7638
 * thumbprint), MAC compared in constant time with hmac_key. The kid is
 * returned by acme_eab_kid first so that the caller can look the key up.
 * Failures: "malformed" (shape, a nonce, a kid longer than kidlen - 1),
 * "badSignatureAlgorithm" (alg not HS256) or "unauthorized" (MAC, url,
 * payload key). */
aclm_status acme_eab_kid(const json_t *eab, char *kid_out, size_t kidlen, const char **problem,
			 struct aclm_err *err);
aclm_status acme_eab_verify(const json_t *eab, const unsigned char *hmac_key, size_t keylen,
			    const json_t *account_jwk, const char *new_account_url,
			    const char **problem, struct aclm_err *err);

/* ---- External Account Binding (RFC 8555 §7.3.4) ---- */
/* The HS256 JWS over the account's public JWK: protected {"alg":"HS256",
 * "kid":eab_kid,"url":new_account_url}. */
aclm_status acme_eab_jws(const char *eab_kid, const unsigned char *hmac_key, size_t keylen,
			 const json_t *account_jwk, const char *new_account_url, json_t **out,
			 struct aclm_err *err);

/* ---- key authorizations (RFC 8555 §8.1, §8.4; RFC 8737 §3) ---- */
/* token "." thumbprint, malloc'd. */
char *acme_key_authorization(const char *token, const char *thumbprint);
/* dns-01 TXT value: base64url(SHA-256(key authorization)), 43 chars + NUL. */
aclm_status acme_dns01_txt(const char *key_authorization, char out[44], struct aclm_err *err);
/* tls-alpn-01 acmeIdentifier value: SHA-256(key authorization), 32 bytes. */
aclm_status acme_tlsalpn01_digest(const char *key_authorization, unsigned char out[32],
				  struct aclm_err *err);

/* ---- problem documents (RFC 8555 §6.7, RFC 7807) ---- */
#define ACME_URN_PREFIX "urn:ietf:params:acme:error:"

struct acme_problem {
	char type[128];            /* full URN or URI; "" when absent */
	char detail[512];
	int status;                /* HTTP status from the document, or 0 */
	json_t *subproblems;       /* array or NULL; owned */
	/* RFC 8555 §6.2: a badSignatureAlgorithm problem lists the server's
	 * algorithms in "algorithms"; kept ", "-joined ("ES256, RS256"), at
	 * most ACME_PROBLEM_MAX_ALGS names; "" when absent. */
	char algorithms[128];
};
#define ACME_PROBLEM_MAX_ALGS 8

/* Maps a problem type to aclm's status (one table, as mod_md's Problems[]):
 * badNonce -> ACLM_ERR_BUSY (retry), rateLimited -> ACLM_ERR_BUSY, unauthorized ->
 * ACLM_ERR_VERIFY, malformed -> ACLM_ERR_INVALID, ... unknown -> ACLM_ERR_PARSE. */
aclm_status acme_problem_status(const char *type);
/* The short name of a type: "badNonce" for the ACME URN, else the type. */
const char *acme_problem_name(const char *type);
/* True for the URN "urn:ietf:params:acme:error:NAME". */
bool acme_problem_is(const struct acme_problem *p, const char *name);
/* The HTTP status a server answers a problem with (RFC 8555 §6.7 and
 * common practice: badNonce 400, unauthorized 403, orderNotReady 403,
 * rateLimited 429, alreadyReplaced 409, serverInternal 500, ...); name is
 * the short type name. Unknown names -> 500. */
int acme_problem_http_status(const char *name);
/* A problem document {"type": URN, "detail": detail, "status": N}. */
json_t *acme_problem_json(const char *name, const char *detail);
/* Parses a problem document (capped, untrusted); ACLM_ERR_PARSE when it is
 * not one. */
aclm_status acme_problem_parse(const char *body, size_t len, struct acme_problem *out,
			       struct aclm_err *err);
void acme_problem_free(struct acme_problem *p);
/* One clear line: "NAME: DETAIL" plus " (the server accepts ALGS)" when
 * the document lists algorithms, then, for each subproblem, "; IDENTIFIER:
 * NAME: DETAIL" (bounded); into err with the mapped status. */
aclm_status acme_problem_to_err(const struct acme_problem *p, const char *context,
				struct aclm_err *err);

/* ---- ARI (RFC 9773) ---- */
/* §4.1 certificate identifier: base64url(AKI keyIdentifier) "."
 * base64url(serial DER INTEGER contents). Malloc'd; NULL when the
 * certificate has no AKI keyIdentifier. */
char *acme_ari_cert_id(const X509 *cert);
/* Splits one into the serial as lowercase hex (leading zero octets of the
 * INTEGER dropped, as OpenSSL prints serials) and the AKI bytes (aki_max
 * >= 64); malformed -> ACLM_ERR_PARSE. */
aclm_status acme_ari_cert_id_parse(const char *id, char serial_hex[41], unsigned char *aki,
				   size_t aki_max, size_t *aki_len, struct aclm_err *err);

/* ---- directory (RFC 8555 §7.1.1) ---- */
struct acme_directory {
	char *new_nonce, *new_account, *new_order, *new_authz, *revoke_cert, *key_change;
	char *renewal_info;        /* RFC 9773 ARI; NULL when not offered */
	char *terms_of_service, *website;
	bool external_account_required;
	json_t *profiles;          /* object name -> description, or NULL */
	json_t *caa_identities;    /* array or NULL */
};
/* Parses a directory document; newNonce, newAccount and newOrder are
 * required (ACLM_ERR_PARSE naming the missing one). URLs must be https://
 * unless allow_http. */
aclm_status acme_directory_parse(const char *body, size_t len, bool allow_http,
				 struct acme_directory *out, struct aclm_err *err);
void acme_directory_free(struct acme_directory *d);

#endif
