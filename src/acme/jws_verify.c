/* acme/jws_verify: the server side of RFC 8555 §6.2-6.3: a flattened JWS
 * request split into header, payload and signature, its signature checked
 * with the account key, and the External Account Binding (§7.3.4) checked. */
#include "acme/acme.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "crypto/key.h"

/* The decoded protected header: an RSA-8192 "jwk" is about 1.5 KiB, so 8 KiB
 * leaves room for a long kid or url without letting a header eat the body. */
#define JWS_HEADER_MAX (8 * 1024)
/* The longest signature of the four algorithms: RS256 with an 8192-bit key. */
#define JWS_SIG_MAX 1024
#define JWS_RSA_MIN_BITS 2048
#define JWS_RSA_MAX_BITS 8192   /* as acme_jwk_to_pkey: bigger keys only cost CPU */
#define EAB_MAC_LEN 32          /* HMAC-SHA256 */

/* The algorithms a request may use (RFC 8555 §6.2: ES256 and EdDSA
 * recommended, RS256 common), the digest each one hashes with and the size
 * of r and s for ECDSA (RFC 7518 §3.4). */
struct jws_alg {
	const char *name;
	const char *digest;     /* NULL: EdDSA hashes internally */
	size_t ec_size;         /* 0: not ECDSA */
};

static const struct jws_alg jws_algs[] = {
	{ "ES256", "SHA256", 32 },
	{ "ES384", "SHA384", 48 },
	{ "RS256", "SHA256", 0 },
	{ "EdDSA", NULL, 0 },
};

#define N_ALGS (sizeof(jws_algs) / sizeof(jws_algs[0]))

json_t *acme_jws_algs_json(void)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr != NULL && i < N_ALGS; i++)
		json_array_append_new(arr, json_string(jws_algs[i].name));
	return arr;
}

static const struct jws_alg *jws_alg_find(const char *name)
{
	const struct jws_alg *a = NULL;

	for (size_t i = 0; name != NULL && i < N_ALGS; i++)
		if (strcmp(jws_algs[i].name, name) == 0)
			a = &jws_algs[i];
	return a;
}

/* Names the problem for the caller (who may pass NULL) and returns st, so
 * that `st = fail(problem, "malformed", aclm_err_set(...))` reads as one. */
static aclm_status fail(const char **problem, const char *name, aclm_status st)
{
	if (problem != NULL)
		*problem = name;
	return st;
}

/* True when s is short printable ASCII: only such values from a request are
 * echoed in messages (they reach logs and problem documents). */
static bool echoable(const char *s)
{
	bool ok = s != NULL && strnlen(s, 33) <= 32;

	for (size_t n = 0; ok && s[n] != '\0'; n++)
		ok = s[n] >= 0x20 && s[n] <= 0x7e;
	return ok;
}

/* Decodes the base64url text s[0..len) into a malloc'd buffer of at most max
 * bytes (*out NULL and *outlen 0 when len is 0). */
static aclm_status b64_decode_alloc(const char *what, const char *s, size_t len, size_t max,
				    unsigned char **out, size_t *outlen, const char **problem,
				    struct aclm_err *err)
{
	unsigned char *buf = NULL;
	size_t room = len / 4 * 3 + 3;
	long n;
	aclm_status st = ACLM_OK;

	*out = NULL;
	*outlen = 0;
	if (len == 0)
		goto out;
	/* Four characters carry three bytes: refuse before allocating. */
	if (len / 4 > max / 3 + 1) {
		st = fail(problem, "malformed", aclm_err_set(err, ACLM_ERR_TOOBIG,
				"jws: %s is longer than %zu bytes", what, max));
		goto out;
	}
	buf = malloc(room);
	if (buf == NULL) {
		st = fail(problem, "serverInternal", aclm_err_set(err, ACLM_ERR_NOMEM,
				"jws: out of memory"));
		goto out;
	}
	n = acme_b64url_decode(s, len, buf, room < max ? room : max);
	if (n < 0) {
		st = fail(problem, "malformed", aclm_err_set(err, ACLM_ERR_PARSE,
				"jws: %s is not base64url (without padding) of at most %zu bytes",
				what, max));
		goto out;
	}
	*out = buf;
	*outlen = (size_t)n;
	buf = NULL;
out:
	free(buf);
	return st;
}

/* Decodes base64url of a JSON object (the protected header, the payload).
 * RFC 7515 §4: duplicate member names are either refused or the last one
 * wins; refusing keeps every parser of the request seeing the same values. */
static aclm_status b64_json_object(const char *what, const char *s, size_t len, size_t max,
				   json_t **out, const char **problem, struct aclm_err *err)
{
	unsigned char *bin = NULL;
	size_t binlen = 0;
	json_error_t je;
	aclm_status st;

	*out = NULL;
	st = b64_decode_alloc(what, s, len, max, &bin, &binlen, problem, err);
	if (st != ACLM_OK)
		goto out;
	if (binlen != 0)
		*out = json_loadb((const char *)bin, binlen, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(*out)) {
		st = fail(problem, "malformed", aclm_err_set(err, ACLM_ERR_PARSE,
				"jws: %s is not a JSON object%s%s", what, *out == NULL ? ": " : "",
				*out == NULL ? (binlen == 0 ? "empty" : je.text) : ""));
		json_decref(*out);
		*out = NULL;
	}
out:
	free(bin);
	return st;
}

/* The flattened JWS (RFC 7515 §7.2.2) as ACME sends it: exactly the three
 * string members; "header", "signatures" and anything else refused. */
struct jws_parts {
	const json_t *prot, *payload, *sig;
};

/* The three members' text, wherever it came from (jansson's strings or
 * the request body itself). */
struct jws_text {
	const char *prot, *payload, *sig;
	size_t prot_len, payload_len, sig_len;
};

static void jws_text_of(const struct jws_parts *p, struct jws_text *t)
{
	t->prot = json_string_value(p->prot);
	t->prot_len = json_string_length(p->prot);
	t->payload = json_string_value(p->payload);
	t->payload_len = json_string_length(p->payload);
	t->sig = json_string_value(p->sig);
	t->sig_len = json_string_length(p->sig);
}

static aclm_status jws_split(const json_t *jws, struct jws_parts *p, const char **problem,
			     struct aclm_err *err)
{
	aclm_status st = ACLM_OK;

	p->prot = json_object_get(jws, "protected");
	p->payload = json_object_get(jws, "payload");
	p->sig = json_object_get(jws, "signature");
	if (!json_is_object(jws) || json_object_size(jws) != 3 || !json_is_string(p->prot) ||
	    !json_is_string(p->payload) || !json_is_string(p->sig))
		st = fail(problem, "malformed", aclm_err_set(err, ACLM_ERR_PARSE,
				"jws: not a flattened JWS (an object of exactly the strings "
				"\"protected\", \"payload\" and \"signature\")"));
	return st;
}

/* RFC 7515 §4.1.11 "crit" would oblige us to understand extensions, and
 * RFC 7797 "b64":false changes what is signed: ACME uses neither. */
static aclm_status header_decode(const char *prot, size_t len, json_t **out,
				 const char **problem, struct aclm_err *err)
{
	aclm_status st = b64_json_object("the protected header", prot, len, JWS_HEADER_MAX, out,
					 problem, err);

	if (st == ACLM_OK && (json_object_get(*out, "crit") != NULL ||
			      json_object_get(*out, "b64") != NULL)) {
		st = fail(problem, "malformed", aclm_err_set(err, ACLM_ERR_PARSE,
				"jws: the protected header carries \"%s\", which ACME does not use",
				json_object_get(*out, "crit") != NULL ? "crit" : "b64"));
		json_decref(*out);
		*out = NULL;
	}
	return st;
}

/* RFC 8555 §6.2: "none" and MAC algorithms (HS*) are refused for requests;
 * so is anything this server does not implement. */
static aclm_status header_alg(const json_t *h, char alg[16], const char **problem,
			      struct aclm_err *err)
{
	const json_t *v = json_object_get(h, "alg");
	const char *name = json_string_value(v);
	aclm_status st = ACLM_OK;

	if (name == NULL)
		st = fail(problem, "malformed", aclm_err_set(err, ACLM_ERR_PARSE,
				"jws: \"alg\" is %s", v == NULL ? "missing" : "not a string"));
	else if (jws_alg_find(name) == NULL)
		st = fail(problem, "badSignatureAlgorithm", aclm_err_set(err,
				ACLM_ERR_UNSUPPORTED, "jws: alg \"%s\" is not supported (ES256, "
				"ES384, RS256, EdDSA are)", echoable(name) ? name : "?"));
	else
		strcpy(alg, name); /* one of jws_algs: fits */
	return st;
}

/* A string member of the header: required or not, never empty. */
static aclm_status header_str(const json_t *h, const char *name, bool required, char **out,
			      const char **problem, struct aclm_err *err)
{
	const json_t *v = json_object_get(h, name);
	aclm_status st = ACLM_OK;

	*out = NULL;
	if (v == NULL && !required)
		goto out;
	if (!json_is_string(v) || json_string_length(v) == 0) {
		st = fail(problem, "malformed", aclm_err_set(err, ACLM_ERR_PARSE,
				"jws: \"%s\" is %s", name, v == NULL ? "missing"
							   : !json_is_string(v) ? "not a string"
									       : "empty"));
		goto out;
	}
	*out = strdup(json_string_value(v));
	if (*out == NULL)
		st = fail(problem, "serverInternal", aclm_err_set(err, ACLM_ERR_NOMEM,
				"jws: out of memory"));
out:
	return st;
}

/* RFC 8555 §6.2: "jwk" (newAccount, revokeCert by certificate key) and
 * "kid" (everything else) are mutually exclusive, and one is required. */
static aclm_status header_key(const json_t *h, struct acme_jws_req *out, const char **problem,
			      struct aclm_err *err)
{
	const json_t *jwk = json_object_get(h, "jwk");
	aclm_status st = ACLM_OK;

	if ((jwk == NULL) == (json_object_get(h, "kid") == NULL)) {
		st = fail(problem, "malformed", aclm_err_set(err, ACLM_ERR_PARSE,
				"jws: the protected header must carry exactly one of \"jwk\" and "
				"\"kid\" (it has %s)", jwk == NULL ? "neither" : "both"));
		goto out;
	}
	if (jwk == NULL) {
		st = header_str(h, "kid", true, &out->kid, problem, err);
		goto out;
	}
	if (!json_is_object(jwk)) {
		st = fail(problem, "malformed", aclm_err_set(err, ACLM_ERR_PARSE,
				"jws: \"jwk\" is not an object"));
		goto out;
	}
	out->jwk = json_incref((json_t *)jwk);
out:
	return st;
}

static aclm_status jws_header(const struct jws_text *t, struct acme_jws_req *out,
			      const char **problem, struct aclm_err *err)
{
	json_t *h = NULL;
	aclm_status st = header_decode(t->prot, t->prot_len, &h, problem, err);

	if (st == ACLM_OK)
		st = header_alg(h, out->alg, problem, err);
	if (st == ACLM_OK)
		st = header_key(h, out, problem, err);
	if (st == ACLM_OK)
		st = header_str(h, "url", true, &out->url, problem, err);
	/* The caller enforces the nonce: keyChange's inner JWS has none. */
	if (st == ACLM_OK)
		st = header_str(h, "nonce", false, &out->nonce, problem, err);
	json_decref(h);
	return st;
}

/* RFC 8555 §6.3: "" is POST-as-GET; anything else is a JSON object (every
 * ACME request body is one). */
static aclm_status jws_payload(const struct jws_text *t, struct acme_jws_req *out,
			       const char **problem, struct aclm_err *err)
{
	aclm_status st = ACLM_OK;

	if (t->payload_len != 0)
		st = b64_json_object("the payload", t->payload, t->payload_len, ACME_JWS_BODY_MAX,
				     &out->payload, problem, err);
	return st;
}

/* RFC 7515 §5.2 step 8: the signing input is the protected and payload
 * members exactly as received, joined by ".". */
static aclm_status jws_signing_input(const struct jws_text *t, struct acme_jws_req *out,
				     const char **problem, struct aclm_err *err)
{
	size_t plen = t->prot_len, blen = t->payload_len;
	aclm_status st = ACLM_OK;

	out->signing_input = malloc(plen + blen + 2);
	if (out->signing_input == NULL) {
		st = fail(problem, "serverInternal", aclm_err_set(err, ACLM_ERR_NOMEM,
				"jws: out of memory"));
		goto out;
	}
	memcpy(out->signing_input, t->prot, plen);
	out->signing_input[plen] = '.';
	memcpy(out->signing_input + plen + 1, t->payload, blen);
	out->signing_input[plen + 1 + blen] = '\0';
	out->signing_input_len = plen + 1 + blen;
out:
	return st;
}

static aclm_status jws_sig(const struct jws_text *t, struct acme_jws_req *out,
			   const char **problem, struct aclm_err *err)
{
	aclm_status st = b64_decode_alloc("the signature", t->sig, t->sig_len, JWS_SIG_MAX,
					  &out->sig, &out->sig_len, problem, err);

	if (st == ACLM_OK && out->sig_len == 0)
		st = fail(problem, "malformed", aclm_err_set(err, ACLM_ERR_PARSE,
				"jws: the signature is empty"));
	return st;
}

/* JSON whitespace (RFC 8259 §2). */
static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* A JSON string of base64url characters only (no escapes: none is needed);
 * its text in *s and *len, and the position after it. NULL for anything
 * else. */
static const char *b64url_string(const char *p, const char *end, const char **s, size_t *len)
{
	const char *q;

	if (p >= end || *p != '"')
		return NULL;
	for (q = ++p; q < end && *q != '"'; q++)
		if (!((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') ||
		      (*q >= '0' && *q <= '9') || *q == '-' || *q == '_'))
			return NULL;
	if (q >= end)
		return NULL;
	*s = p;
	*len = (size_t)(q - p);
	return q + 1;
}

/* The flattened JWS as every ACME client writes it: an object of exactly
 * "protected", "payload" and "signature", each once, each a base64url
 * string, whitespace anywhere JSON allows it. Those bytes are what jansson
 * would return for the same body, so the slices point into the body; any
 * other body (escapes, other members, invalid JSON) returns false and
 * goes through jansson, which refuses or accepts it with its own message.
 * Saves parsing the whole body into a tree on every request. */
static bool jws_text_fast(const char *body, size_t len, struct jws_text *t)
{
	static const char *const names[] = { "protected", "payload", "signature" };
	const char *p = body, *end = body + len;
	bool seen[3] = { false, false, false };

	memset(t, 0, sizeof(*t));
	p = skip_ws(p, end);
	if (p >= end || *p++ != '{')
		return false;
	for (int m = 0; m < 3; m++) {
		const char *name, *val;
		size_t nlen, vlen;
		int i;

		p = skip_ws(p, end);
		if ((p = b64url_string(p, end, &name, &nlen)) == NULL)
			return false;
		for (i = 0; i < 3; i++)
			if (nlen == strlen(names[i]) && memcmp(name, names[i], nlen) == 0)
				break;
		if (i == 3 || seen[i])
			return false;
		seen[i] = true;
		p = skip_ws(p, end);
		if (p >= end || *p++ != ':')
			return false;
		p = skip_ws(p, end);
		if ((p = b64url_string(p, end, &val, &vlen)) == NULL)
			return false;
		if (i == 0) {
			t->prot = val;
			t->prot_len = vlen;
		} else if (i == 1) {
			t->payload = val;
			t->payload_len = vlen;
		} else {
			t->sig = val;
			t->sig_len = vlen;
		}
		p = skip_ws(p, end);
		if (p >= end || *p++ != (m < 2 ? ',' : '}'))
			return false;
	}
	return skip_ws(p, end) == end;
}

aclm_status acme_jws_parse(const char *body, size_t len, struct acme_jws_req *out,
			   const char **problem, struct aclm_err *err)
{
	json_t *jws = NULL;
	struct jws_parts parts;
	struct jws_text text;
	json_error_t je;
	aclm_status st = ACLM_OK;

	memset(out, 0, sizeof(*out));
	fail(problem, NULL, ACLM_OK);
	if (body == NULL) {
		st = fail(problem, "malformed", aclm_err_set(err, ACLM_ERR_PARSE,
				"jws: no request body"));
		goto out;
	}
	if (len > ACME_JWS_BODY_MAX) {
		st = fail(problem, "malformed", aclm_err_set(err, ACLM_ERR_TOOBIG,
				"jws: the request body is larger than %d bytes",
				ACME_JWS_BODY_MAX));
		goto out;
	}
	if (!jws_text_fast(body, len, &text)) {
		jws = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
		if (jws == NULL) {
			st = fail(problem, "malformed", aclm_err_set(err, ACLM_ERR_PARSE,
					"jws: invalid JSON at column %d: %s", je.column, je.text));
			goto out;
		}
		st = jws_split(jws, &parts, problem, err);
		if (st == ACLM_OK)
			jws_text_of(&parts, &text);
	}
	if (st == ACLM_OK)
		st = jws_header(&text, out, problem, err);
	if (st == ACLM_OK)
		st = jws_payload(&text, out, problem, err);
	if (st == ACLM_OK)
		st = jws_sig(&text, out, problem, err);
	if (st == ACLM_OK)
		st = jws_signing_input(&text, out, problem, err);
out:
	if (st != ACLM_OK)
		acme_jws_req_free(out);
	json_decref(jws);
	return st;
}

void acme_jws_req_free(struct acme_jws_req *r)
{
	if (r == NULL)
		return;
	json_decref(r->jwk);
	json_decref(r->payload);
	free(r->kid);
	free(r->nonce);
	free(r->url);
	free(r->signing_input);
	free(r->sig);
	memset(r, 0, sizeof(*r));
}

/* The key must be the one the alg names (RFC 7518 §3.1): another key type
 * is badSignatureAlgorithm, as the alg does not fit the key; a key of the
 * right type that this server refuses (RSA outside 2048..8192 bits, other
 * curves) is badPublicKey (RFC 8555 §6.7). The key's part of that is
 * decided once per verifier (verifier_judge_key), the alg's per request. */
static void verifier_judge_key(struct acme_jws_verifier *v)
{
	int bits = EVP_PKEY_get_bits(v->key);

	v->alg = acme_jws_alg(v->key);
	v->problem = NULL;
	v->why[0] = '\0';
	if (v->alg == NULL) {
		v->problem = "badPublicKey";
		snprintf(v->why, sizeof(v->why), "%s keys are not accepted (RSA, P-256, P-384, "
			 "Ed25519 are)", EVP_PKEY_get0_type_name(v->key));
	} else if (strcmp(v->alg, "RS256") == 0 && (bits < JWS_RSA_MIN_BITS ||
						   bits > JWS_RSA_MAX_BITS)) {
		v->problem = "badPublicKey";
		snprintf(v->why, sizeof(v->why), "RSA key of %d bits (%d to %d are accepted)", bits,
			 JWS_RSA_MIN_BITS, JWS_RSA_MAX_BITS);
	}
}

static aclm_status verify_key(const char *alg, const struct acme_jws_verifier *v,
			      const char **problem, struct aclm_err *err)
{
	aclm_status st = ACLM_OK;

	if (v->alg == NULL)
		st = fail(problem, v->problem, aclm_err_set(err, ACLM_ERR_UNSUPPORTED, "jws: %s",
							      v->why));
	else if (strcmp(v->alg, alg) != 0)
		st = fail(problem, "badSignatureAlgorithm", aclm_err_set(err,
				ACLM_ERR_UNSUPPORTED, "jws: alg %s does not fit the key (%s)", alg,
				v->alg));
	else if (v->problem != NULL)
		st = fail(problem, v->problem, aclm_err_set(err, ACLM_ERR_UNSUPPORTED, "jws: %s",
							      v->why));
	return st;
}

/* RFC 7518 §3.4: r||s, each exactly the curve's size, into the DER
 * ECDSA-Sig-Value that OpenSSL verifies. */
static aclm_status ecdsa_raw_to_der(const unsigned char *raw, size_t len, size_t size,
				    unsigned char **der, size_t *derlen, const char **problem,
				    struct aclm_err *err)
{
	ECDSA_SIG *sig = NULL;
	BIGNUM *r = NULL, *s = NULL;
	int n;
	aclm_status st = ACLM_OK;

	*der = NULL;
	if (len != 2 * size) {
		st = fail(problem, "malformed", aclm_err_set(err, ACLM_ERR_VERIFY,
				"jws: an ECDSA signature of %zu bytes (r||s needs %zu)", len,
				2 * size));
		goto out;
	}
	sig = ECDSA_SIG_new();
	r = BN_bin2bn(raw, (int)size, NULL);
	s = BN_bin2bn(raw + size, (int)size, NULL);
	if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
		st = fail(problem, "serverInternal", aclm_err_ssl(err, ACLM_ERR_NOMEM,
				"jws: ECDSA signature"));
		goto out;
	}
	r = s = NULL; /* owned by sig now */
	n = i2d_ECDSA_SIG(sig, der);
	if (n <= 0) {
		*der = NULL;
		st = fail(problem, "serverInternal", aclm_err_ssl(err, ACLM_ERR_NOMEM,
				"jws: ECDSA signature"));
		goto out;
	}
	*derlen = (size_t)n;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	return st;
}

void acme_jws_verifier_clear(struct acme_jws_verifier *v)
{
	EVP_MD_CTX_free(v->md);
	EVP_PKEY_CTX_free(v->ctx);
	EVP_PKEY_free(v->key);
	memset(v, 0, sizeof(*v));
}

/* ECDSA: the digest of the alg the key signs with, and a verify context
 * that checks signatures over such digests. */
static aclm_status verifier_ecdsa(struct acme_jws_verifier *v, const struct jws_alg *a,
				  struct aclm_err *err)
{
	EVP_MD *md = EVP_MD_fetch(NULL, a->digest, NULL);
	aclm_status st = ACLM_OK;

	v->md = EVP_MD_CTX_new();
	v->ctx = EVP_PKEY_CTX_new_from_pkey(NULL, v->key, NULL);
	if (md == NULL || v->md == NULL || v->ctx == NULL ||
	    EVP_DigestInit_ex2(v->md, md, NULL) != 1 || EVP_PKEY_verify_init(v->ctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(v->ctx, md) != 1)
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "jws: %s verifier", a->name);
	EVP_MD_free(md); /* the contexts keep their own references */
	return st;
}

aclm_status acme_jws_verifier_init(struct acme_jws_verifier *v, EVP_PKEY *key,
				   struct aclm_err *err)
{
	const struct jws_alg *a;
	aclm_status st = ACLM_OK;

	memset(v, 0, sizeof(*v));
	if (key == NULL || !EVP_PKEY_up_ref(key))
		return aclm_err_set(err, ACLM_ERR_INVALID, "jws: no key to verify with");
	v->key = key;
	verifier_judge_key(v);
	a = v->problem == NULL ? jws_alg_find(v->alg) : NULL;
	if (a != NULL && a->ec_size != 0)
		st = verifier_ecdsa(v, a, err);
	if (st != ACLM_OK)
		acme_jws_verifier_clear(v);
	return st;
}

/* The digest of the signing input, checked against the DER signature. */
static aclm_status verify_ecdsa(const struct acme_jws_req *r, struct acme_jws_verifier *v,
				const unsigned char *der, size_t derlen, struct aclm_err *err)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	int ok;

	if (EVP_DigestInit_ex2(v->md, NULL, NULL) != 1 ||
	    EVP_DigestUpdate(v->md, r->signing_input, r->signing_input_len) != 1 ||
	    EVP_DigestFinal_ex(v->md, digest, &dlen) != 1)
		return aclm_err_ssl(err, ACLM_ERR_CRYPTO, "jws: digest");
	/* 0 is a bad signature, < 0 a malformed one: both do not verify. */
	ok = EVP_PKEY_verify(v->ctx, der, derlen, digest, dlen);
	if (ok != 1)
		return aclm_err_ssl(err, ACLM_ERR_VERIFY, "%s signature does not verify",
				    EVP_PKEY_get0_type_name(v->key));
	return ACLM_OK;
}

aclm_status acme_jws_verify_with(const struct acme_jws_req *r, struct acme_jws_verifier *v,
				 const char **problem, struct aclm_err *err)
{
	const struct jws_alg *a = r != NULL ? jws_alg_find(r->alg) : NULL;
	unsigned char *der = NULL;
	size_t derlen = 0;
	aclm_status st;

	fail(problem, NULL, ACLM_OK);
	if (a == NULL || v == NULL || v->key == NULL || r->signing_input == NULL ||
	    r->sig == NULL) {
		st = fail(problem, "serverInternal", aclm_err_set(err, ACLM_ERR_INVALID,
				"jws: nothing to verify (no parsed request or no key)"));
		goto out;
	}
	st = verify_key(a->name, v, problem, err);
	if (st == ACLM_OK && a->ec_size != 0)
		st = ecdsa_raw_to_der(r->sig, r->sig_len, a->ec_size, &der, &derlen, problem, err);
	if (st != ACLM_OK)
		goto out;
	if (v->ctx != NULL)
		st = verify_ecdsa(r, v, der, derlen, err);
	else
		st = crypto_verify(v->key, a->digest, NULL, (const unsigned char *)r->signing_input,
				   r->signing_input_len, r->sig, r->sig_len, err);
	if (st != ACLM_OK) {
		aclm_err_prefix(err, "jws");
		/* RFC 8555 §6.2: a signature that does not verify is malformed. */
		fail(problem, st == ACLM_ERR_VERIFY ? "malformed" : "serverInternal", st);
	}
out:
	OPENSSL_free(der);
	return st;
}

aclm_status acme_jws_verify(const struct acme_jws_req *r, EVP_PKEY *key, const char **problem,
			    struct aclm_err *err)
{
	struct acme_jws_verifier v;
	aclm_status st = acme_jws_verifier_init(&v, key, err);

	if (st != ACLM_OK)
		fail(problem, "serverInternal", st);
	else
		st = acme_jws_verify_with(r, &v, problem, err);
	acme_jws_verifier_clear(&v);
	return st;
}

/* ---- External Account Binding (RFC 8555 §7.3.4) ---- */

/* The EAB JWS: the three parts and its decoded protected header. */
struct eab {
	struct jws_parts parts;
	json_t *header;
	const char *kid, *url;
};

/* §7.3.4: protected {"alg": a MAC algorithm, "kid", "url"}, no "nonce".
 * This CA's EAB keys are HMAC-SHA256 keys, so HS256 is the only MAC
 * accepted; any other alg is badSignatureAlgorithm as in §6.2, a missing
 * one or a header of the wrong shape malformed. */
static aclm_status eab_parse(const json_t *jws, struct eab *e, const char **problem,
			     struct aclm_err *err)
{
	const char *alg;
	aclm_status st;

	memset(e, 0, sizeof(*e));
	st = jws_split(jws, &e->parts, problem, err);
	if (st == ACLM_OK)
		st = header_decode(json_string_value(e->parts.prot),
				   json_string_length(e->parts.prot), &e->header, problem, err);
	if (st != ACLM_OK)
		goto out;
	alg = json_string_value(json_object_get(e->header, "alg"));
	e->kid = json_string_value(json_object_get(e->header, "kid"));
	e->url = json_string_value(json_object_get(e->header, "url"));
	if (alg != NULL && strcmp(alg, "HS256") != 0)
		st = fail(problem, "badSignatureAlgorithm", aclm_err_set(err,
				ACLM_ERR_UNSUPPORTED, "eab: alg \"%s\" is not HS256",
				echoable(alg) ? alg : "?"));
	else if (alg == NULL || e->kid == NULL || e->kid[0] == '\0' || e->url == NULL ||
		 e->url[0] == '\0')
		st = fail(problem, "malformed", aclm_err_set(err, ACLM_ERR_PARSE,
				"eab: the protected header needs the strings \"%s\"",
				alg == NULL ? "alg" : e->url == NULL || e->url[0] == '\0' ? "url"
											  : "kid"));
	else if (json_object_get(e->header, "nonce") != NULL ||
		 json_object_get(e->header, "jwk") != NULL)
		st = fail(problem, "malformed", aclm_err_set(err, ACLM_ERR_PARSE,
				"eab: the protected header must not carry \"%s\"",
				json_object_get(e->header, "nonce") != NULL ? "nonce" : "jwk"));
out:
	return st;
}

aclm_status acme_eab_kid(const json_t *eab, char *kid_out, size_t kidlen, const char **problem,
			 struct aclm_err *err)
{
	struct eab e;
	aclm_status st;

	fail(problem, NULL, ACLM_OK);
	if (kid_out != NULL && kidlen > 0)
		kid_out[0] = '\0';
	st = eab_parse(eab, &e, problem, err);
	if (st != ACLM_OK)
		goto out;
	if (kid_out == NULL || strlen(e.kid) >= kidlen) {
		st = fail(problem, "malformed", aclm_err_set(err, ACLM_ERR_TOOBIG,
				"eab: \"kid\" is longer than %zu bytes",
				kidlen > 0 ? kidlen - 1 : 0));
		goto out;
	}
	memcpy(kid_out, e.kid, strlen(e.kid) + 1);
out:
	json_decref(e.header);
	return st;
}

/* §7.3.4 step 4: HMAC-SHA256 over protected "." payload, compared in
 * constant time. */
static aclm_status eab_mac(const struct eab *e, const unsigned char *key, size_t keylen,
			   const char **problem, struct aclm_err *err)
{
	struct acme_jws_req input = { .signing_input = NULL };
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	struct jws_text text;
	aclm_status st;

	jws_text_of(&e->parts, &text);
	st = jws_signing_input(&text, &input, problem, err);
	if (st == ACLM_OK)
		st = b64_decode_alloc("the EAB signature", json_string_value(e->parts.sig),
				      json_string_length(e->parts.sig), JWS_SIG_MAX, &input.sig,
				      &input.sig_len, problem, err);
	if (st != ACLM_OK)
		goto out;
	if (HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)input.signing_input,
		 input.signing_input_len, mac, &maclen) == NULL || maclen != EAB_MAC_LEN) {
		st = fail(problem, "serverInternal", aclm_err_ssl(err, ACLM_ERR_CRYPTO,
				"eab: HMAC-SHA256"));
		goto out;
	}
	if (input.sig_len != EAB_MAC_LEN || CRYPTO_memcmp(input.sig, mac, EAB_MAC_LEN) != 0)
		st = fail(problem, "unauthorized", aclm_err_set(err, ACLM_ERR_VERIFY,
				"eab: the MAC does not verify with the key of this kid"));
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	acme_jws_req_free(&input);
	return st;
}

/* §7.3.4 step 5: the payload is the account's key; compared by RFC 7638
 * thumbprint, so member order and extra members do not matter. */
static aclm_status eab_payload_key(const struct eab *e, const json_t *account_jwk,
				   const char **problem, struct aclm_err *err)
{
	json_t *jwk = NULL;
	char want[44], got[44];
	aclm_status st;

	st = acme_jwk_thumbprint(account_jwk, want, err);
	if (st != ACLM_OK) {
		st = fail(problem, "malformed", st);
		aclm_err_prefix(err, "eab: the account key");
		goto out;
	}
	st = b64_json_object("the EAB payload", json_string_value(e->parts.payload),
			     json_string_length(e->parts.payload), JWS_HEADER_MAX, &jwk, problem,
			     err);
	if (st != ACLM_OK)
		goto out;
	st = acme_jwk_thumbprint(jwk, got, err);
	if (st != ACLM_OK) {
		st = fail(problem, "malformed", st);
		aclm_err_prefix(err, "eab: the payload");
		goto out;
	}
	if (strcmp(want, got) != 0)
		st = fail(problem, "unauthorized", aclm_err_set(err, ACLM_ERR_VERIFY,
				"eab: the payload is not the account's key"));
out:
	json_decref(jwk);
	return st;
}

aclm_status acme_eab_verify(const json_t *eab, const unsigned char *hmac_key, size_t keylen,
			    const json_t *account_jwk, const char *new_account_url,
			    const char **problem, struct aclm_err *err)
{
	struct eab e = { .header = NULL };
	aclm_status st;

	fail(problem, NULL, ACLM_OK);
	if (hmac_key == NULL || keylen == 0 || keylen > INT32_MAX || account_jwk == NULL ||
	    new_account_url == NULL) {
		st = fail(problem, "serverInternal", aclm_err_set(err, ACLM_ERR_INVALID,
				"eab: no %s", new_account_url == NULL ? "newAccount URL"
					      : account_jwk == NULL ? "account key" : "HMAC key"));
		goto out;
	}
	st = eab_parse(eab, &e, problem, err);
	if (st == ACLM_OK)
		st = eab_mac(&e, hmac_key, keylen, problem, err);
	if (st != ACLM_OK)
		goto out;
	/* §7.3.4: "url" is the outer JWS's, i.e. newAccount; a binding made
	 * for another request does not authorize this one. */
	if (strcmp(e.url, new_account_url) != 0) {
		st = fail(problem, "unauthorized", aclm_err_set(err, ACLM_ERR_VERIFY,
				"eab: \"url\" is not the newAccount URL"));
		goto out;
	}
	st = eab_payload_key(&e, account_jwk, problem, err);
out:
	json_decref(e.header);
	return st;
}
