/* Reading certificates and keys from untrusted bytes: PEM bundles in any
 * order, one DER certificate, or PKCS#12; private keys paired to their
 * certificates by public key. */
#include "crypto/bundle.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>

#include "crypto/crypto.h"

#define PEM_BEGIN "-----BEGIN "
#define PEM_BEGIN_LEN (sizeof(PEM_BEGIN) - 1)
#define PEM_TAIL "-----"
#define PEM_TAIL_LEN (sizeof(PEM_TAIL) - 1)
#define PEM_TYPE_MAX 64    /* block type kept for messages; longer ones are cut */
#define P12_MAX_NESTING 4  /* safeContentsBag inside safeContentsBag (RFC 7292 §4.2.6) */

/* The bundle being built and the capacity of its arrays. */
struct bundle_builder {
	struct crypto_bundle *b;
	size_t certcap;
	size_t keycap;
};

/* One PEM block as PEM_read_bio returned it, plus its text for the key
 * decoders (which need the headers of encrypted traditional keys). */
struct pem_block {
	unsigned long index; /* 1-based, for messages */
	const char *name;
	const char *header;
	const unsigned char *der;
	long derlen;
	const char *text;
	size_t textlen;
};

static const char *const pem_cert_types[] = {"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE",
					     NULL};
/* "SM2 PRIVATE KEY" is what `openssl ec` writes for SM2 keys in OpenSSL 3.0 (SEC1 inside). */
static const char *const pem_key_types[] = {"PRIVATE KEY",    "ENCRYPTED PRIVATE KEY",
					    "RSA PRIVATE KEY", "EC PRIVATE KEY",
					    "SM2 PRIVATE KEY", NULL};

static bool name_in(const char *name, const char *const *list)
{
	bool found = false;

	for (; *list != NULL && !found; list++)
		found = strcmp(name, *list) == 0;
	return found;
}

/* Grows an array by doubling, never past max elements, so that element n fits. */
static aclm_status grow(void **arr, size_t *cap, size_t n, size_t elem, size_t max)
{
	size_t ncap;
	void *p;
	aclm_status st = ACLM_OK;

	if (n < *cap)
		goto out;
	if (n >= max) {
		st = ACLM_ERR_TOOBIG;
		goto out;
	}
	ncap = *cap == 0 ? 16 : *cap * 2;
	if (ncap > max)
		ncap = max;
	p = realloc(*arr, ncap * elem);
	if (p == NULL) {
		st = ACLM_ERR_NOMEM;
		goto out;
	}
	*arr = p;
	*cap = ncap;
out:
	return st;
}

/* Takes ownership of x, also on failure. */
static aclm_status bundle_add_cert(struct bundle_builder *bb, X509 *x, struct aclm_err *err)
{
	struct crypto_bundle *b = bb->b;
	aclm_status st;
	void *arr = b->certs;

	st = grow(&arr, &bb->certcap, b->ncerts, sizeof(*b->certs), CRYPTO_BUNDLE_MAX_CERTS);
	b->certs = arr;
	if (st == ACLM_ERR_TOOBIG)
		aclm_err_set(err, st, "more than %d certificates", CRYPTO_BUNDLE_MAX_CERTS);
	else if (st != ACLM_OK)
		aclm_err_set(err, st, "out of memory reading certificates");
	if (st != ACLM_OK)
		X509_free(x);
	else
		b->certs[b->ncerts++] = x;
	return st;
}

/* Takes ownership of key, also on failure. */
static aclm_status bundle_add_key(struct bundle_builder *bb, EVP_PKEY *key, struct aclm_err *err)
{
	struct crypto_bundle *b = bb->b;
	aclm_status st;
	void *arr = b->keys;

	st = grow(&arr, &bb->keycap, b->nkeys, sizeof(*b->keys), CRYPTO_BUNDLE_MAX_KEYS);
	b->keys = arr;
	if (st == ACLM_ERR_TOOBIG)
		aclm_err_set(err, st, "more than %d private keys", CRYPTO_BUNDLE_MAX_KEYS);
	else if (st != ACLM_OK)
		aclm_err_set(err, st, "out of memory reading private keys");
	if (st != ACLM_OK)
		EVP_PKEY_free(key);
	else
		b->keys[b->nkeys++] = key;
	return st;
}

static bool is_ec_family(const EVP_PKEY *k)
{
	return EVP_PKEY_is_a(k, "EC") || EVP_PKEY_is_a(k, "SM2");
}

static bool key_matches_cert(X509 *cert, const EVP_PKEY *key)
{
	const EVP_PKEY *pub = X509_get0_pubkey(cert);
	unsigned char *a = NULL, *k = NULL;
	int alen, klen;
	bool eq = false;

	if (pub == NULL)
		goto out;
	ERR_set_mark();
	eq = EVP_PKEY_eq(pub, key) == 1;
	/* SM2: OpenSSL 3.0 can type one side "EC" with group SM2 and the other
	 * "SM2"; EVP_PKEY_eq then reports a type mismatch for the same point.
	 * Both encode to the same SubjectPublicKeyInfo. */
	if (!eq && is_ec_family(pub) && is_ec_family(key)) {
		alen = i2d_PUBKEY(pub, &a);
		klen = i2d_PUBKEY(key, &k);
		eq = alen > 0 && alen == klen && memcmp(a, k, (size_t)alen) == 0;
	}
	ERR_pop_to_mark();
out:
	OPENSSL_free(a);
	OPENSSL_free(k);
	return eq;
}

static aclm_status bundle_pair(struct crypto_bundle *b, struct aclm_err *err)
{
	aclm_status st = ACLM_OK;
	size_t i, k;

	b->cert_key = calloc(b->ncerts, sizeof(*b->cert_key));
	if (b->cert_key == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory pairing keys");
		goto out;
	}
	for (i = 0; i < b->ncerts; i++) {
		b->cert_key[i] = -1;
		for (k = 0; k < b->nkeys && b->cert_key[i] < 0; k++)
			if (key_matches_cert(b->certs[i], b->keys[k]))
				b->cert_key[i] = (long)k;
	}
out:
	return st;
}

/* ---- PEM ---- */

/* Mirrors PEM_read_bio: a block starts at a line beginning "-----BEGIN "
 * and ending "-----". Returns the start of the next one in [p, end). */
static const char *pem_next_begin(const char *p, const char *end)
{
	const char *q = p, *eol, *last, *found = NULL;

	while (found == NULL && q < end &&
	       (q = memmem(q, (size_t)(end - q), PEM_BEGIN, PEM_BEGIN_LEN)) != NULL) {
		eol = memchr(q, '\n', (size_t)(end - q));
		last = eol != NULL ? eol : end;
		while (last > q && (last[-1] == '\r' || last[-1] == ' ' || last[-1] == '\t'))
			last--;
		if ((q == p || q[-1] == '\n') && (size_t)(last - q) >= PEM_BEGIN_LEN + PEM_TAIL_LEN &&
		    memcmp(last - PEM_TAIL_LEN, PEM_TAIL, PEM_TAIL_LEN) == 0)
			found = q;
		q++;
	}
	return found;
}

/* The TYPE of "-----BEGIN TYPE-----" at begin, printable, for messages. */
static void pem_type_of(const char *begin, const char *end, char out[PEM_TYPE_MAX])
{
	const char *p = begin + PEM_BEGIN_LEN;
	size_t n = 0;

	while (p < end && *p != '\n' && *p != '\r' && n + 1 < PEM_TYPE_MAX) {
		if ((size_t)(end - p) >= PEM_TAIL_LEN && memcmp(p, PEM_TAIL, PEM_TAIL_LEN) == 0)
			break;
		out[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
		p++;
	}
	out[n] = '\0';
}

/* Never prompts: without a password the decoders get nothing. */
static int bundle_password_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pw = u;
	size_t n;

	if (pw == NULL || size <= 0)
		return -1;
	n = strlen(pw);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, pw, n);
	return (int)n;
}

static aclm_status pem_add_cert(struct bundle_builder *bb, const struct pem_block *blk,
				struct aclm_err *err)
{
	const unsigned char *p = blk->der;
	X509 *x;
	aclm_status st;

	/* TRUSTED CERTIFICATE carries OpenSSL's trust settings after the certificate. */
	ERR_set_mark();
	if (strcmp(blk->name, "TRUSTED CERTIFICATE") == 0)
		x = d2i_X509_AUX(NULL, &p, blk->derlen);
	else
		x = d2i_X509(NULL, &p, blk->derlen);
	ERR_pop_to_mark();
	if (x == NULL || p != blk->der + blk->derlen) {
		X509_free(x);
		st = aclm_err_set(err, ACLM_ERR_PARSE, "corrupt certificate in PEM block %lu (%s)",
				  blk->index, blk->name);
		goto out;
	}
	st = bundle_add_cert(bb, x, err);
out:
	return st;
}

static aclm_status pem_add_key(struct bundle_builder *bb, const struct pem_block *blk,
			       const char *password, struct aclm_err *err)
{
	bool encrypted;
	BIO *bio = NULL;
	EVP_PKEY *key = NULL;
	aclm_status st;

	/* PKCS#8 "ENCRYPTED PRIVATE KEY", or a traditional key with
	 * "Proc-Type: 4,ENCRYPTED" (RFC 1421 §4.6.1.1). */
	encrypted = strcmp(blk->name, "ENCRYPTED PRIVATE KEY") == 0 ||
		    (blk->header != NULL && strstr(blk->header, "ENCRYPTED") != NULL);
	if (encrypted && password == NULL) {
		st = aclm_err_set(err, ACLM_ERR_PASSWORD, "private key is encrypted; give a password");
		goto out;
	}
	bio = BIO_new_mem_buf(blk->text, (int)blk->textlen);
	if (bio == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "out of memory reading a private key");
		goto out;
	}
	ERR_set_mark();
	key = PEM_read_bio_PrivateKey(bio, NULL, bundle_password_cb, (void *)password);
	if (key == NULL && encrypted) {
		st = aclm_err_ssl(err, ACLM_ERR_PASSWORD,
				  "cannot decrypt the private key in PEM block %lu: wrong password",
				  blk->index);
		goto out;
	}
	if (key == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_PARSE, "corrupt or unsupported private key in PEM block %lu (%s)",
				  blk->index, blk->name);
		goto out;
	}
	/* Decoders queue errors for the formats they tried and dropped. */
	ERR_pop_to_mark();
	st = bundle_add_key(bb, key, err);
	key = NULL;
out:
	EVP_PKEY_free(key);
	BIO_free(bio);
	return st;
}

static aclm_status pem_handle_block(struct bundle_builder *bb, const struct pem_block *blk,
				    const char *password, struct aclm_err *err)
{
	aclm_status st = ACLM_OK;

	if (name_in(blk->name, pem_cert_types))
		st = pem_add_cert(bb, blk, err);
	else if (name_in(blk->name, pem_key_types))
		st = pem_add_key(bb, blk, password, err);
	else
		bb->b->nskipped++; /* CRLs, EC PARAMETERS, CSRs, public keys... */
	return st;
}

/* Walks every block. PEM_read_bio on a read-only memory BIO never holds more
 * than the input, so no block can be larger than it. */
static aclm_status bundle_parse_pem(struct bundle_builder *bb, const unsigned char *data, size_t len,
				    const char *password, struct aclm_err *err)
{
	BIO *bio = NULL;
	char *name = NULL, *header = NULL, *rem = NULL;
	unsigned char *der = NULL;
	char type[PEM_TYPE_MAX];
	const char *begin, *start;
	long derlen = 0, remlen;
	struct pem_block blk = {0};
	aclm_status st = ACLM_OK;

	bio = BIO_new_mem_buf(data, (int)len);
	if (bio == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_NOMEM, "out of memory reading PEM");
		goto out;
	}
	for (;;) {
		/* What is left of the input: a read-only memory BIO advances. */
		remlen = BIO_get_mem_data(bio, &rem);
		begin = remlen > 0 ? pem_next_begin(rem, rem + remlen) : NULL;
		if (begin == NULL)
			break;
		blk.index++;
		pem_type_of(begin, rem + remlen, type);
		start = rem;
		ERR_set_mark();
		if (PEM_read_bio(bio, &name, &header, &der, &derlen) != 1) {
			st = aclm_err_ssl(err, ACLM_ERR_PARSE, "truncated or corrupt PEM block %lu (%s)",
					  blk.index, type);
			goto out;
		}
		ERR_pop_to_mark();
		remlen = BIO_get_mem_data(bio, &rem);
		blk.name = name;
		blk.header = header;
		blk.der = der;
		blk.derlen = derlen;
		/* The text PEM_read_bio consumed, from where it started reading:
		 * `begin` is only our guess of the block (PEM_read_bio may accept a
		 * BEGIN line our scan skipped), and could lie after `rem`. */
		if (rem < start || rem - start > INT_MAX) {
			st = aclm_err_set(err, ACLM_ERR_PARSE, "corrupt PEM block %lu", blk.index);
			goto out;
		}
		blk.text = start;
		blk.textlen = (size_t)(rem - start);
		st = pem_handle_block(bb, &blk, password, err);
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_clear_free(der, (size_t)derlen); /* may be a private key */
		name = header = NULL;
		der = NULL;
		if (st != ACLM_OK)
			goto out;
	}
out:
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(der);
	BIO_free(bio);
	return st;
}

/* ---- DER ---- */

/* One DER certificate that is the whole input; *found says whether it was. */
static aclm_status bundle_parse_der(struct bundle_builder *bb, const unsigned char *data, size_t len,
				    bool *found, struct aclm_err *err)
{
	const unsigned char *p = data;
	X509 *x;
	aclm_status st = ACLM_OK;

	ERR_set_mark();
	x = d2i_X509(NULL, &p, (long)len);
	ERR_pop_to_mark();
	*found = x != NULL && p == data + len;
	if (*found)
		st = bundle_add_cert(bb, x, err);
	else
		X509_free(x);
	return st;
}

/* ---- PKCS#12 ---- */

struct p12_pass {
	const char *pass;
	int passlen;
	bool mac_checked; /* the MAC proved pass right */
};

/* A hostile file can ask for billions of key-derivation rounds; real
 * exporters use 2,000 (Windows) to a few 100,000 (recent Java). */
#define P12_MAX_ITER 1000000L

static aclm_status p12_iter_check(long iter, const char *what, struct aclm_err *err)
{
	if (iter < 0 || iter > P12_MAX_ITER)
		return aclm_err_set(err, ACLM_ERR_TOOBIG,
				    "PKCS#12 %s iteration count %ld exceeds the limit of %ld", what,
				    iter, P12_MAX_ITER);
	return ACLM_OK;
}

/* Iteration count of a PBES1 or PBES2/PBKDF2 algorithm (RFC 8018 A.2-A.4);
 * 0 when the parameters are of another shape (decryption will refuse them). */
static long p12_pbe_iter(const X509_ALGOR *alg)
{
	int nid = OBJ_obj2nid(alg->algorithm);
	long iter = 0;

	if (nid == NID_pbes2) {
		PBE2PARAM *pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
		PBKDF2PARAM *kdf = NULL;

		if (pbe2 != NULL && OBJ_obj2nid(pbe2->keyfunc->algorithm) == NID_id_pbkdf2)
			kdf = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM),
							pbe2->keyfunc->parameter);
		if (kdf != NULL)
			iter = ASN1_INTEGER_get(kdf->iter);
		PBKDF2PARAM_free(kdf);
		PBE2PARAM_free(pbe2);
	} else {
		PBEPARAM *pbe = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), alg->parameter);

		if (pbe != NULL)
			iter = ASN1_INTEGER_get(pbe->iter);
		PBEPARAM_free(pbe);
	}
	return iter;
}

static aclm_status p12_mac_iter_check(const PKCS12 *p12, struct aclm_err *err)
{
	const ASN1_INTEGER *iter = NULL;

	PKCS12_get0_mac(NULL, NULL, NULL, &iter, p12);
	return iter != NULL ? p12_iter_check(ASN1_INTEGER_get(iter), "MAC", err) : ACLM_OK;
}

/* Exporters encode an empty password either as no bytes (NULL) or as ""
 * (a lone BMPString NUL), so both are tried before the user's. The MAC
 * (RFC 7292 §5) tells a wrong password from damaged contents. */
static aclm_status p12_pick_password(PKCS12 *p12, const char *password, struct p12_pass *pw,
				     struct aclm_err *err)
{
	const char *cand[3] = {NULL, "", password};
	size_t i, n = password != NULL ? 3 : 2;
	unsigned long e;
	aclm_status st = ACLM_OK;

	pw->pass = password;
	pw->passlen = password != NULL ? (int)strlen(password) : 0;
	pw->mac_checked = false;
	if (!PKCS12_mac_present(p12))
		goto out; /* nothing to check against: decryption will tell */
	st = p12_mac_iter_check(p12, err);
	if (st != ACLM_OK)
		goto out;
	ERR_set_mark();
	for (i = 0; i < n && !pw->mac_checked; i++) {
		if (PKCS12_verify_mac(p12, cand[i], cand[i] != NULL ? (int)strlen(cand[i]) : 0) == 1) {
			pw->pass = cand[i];
			pw->passlen = cand[i] != NULL ? (int)strlen(cand[i]) : 0;
			pw->mac_checked = true;
		}
	}
	/* A MAC that cannot be computed (unknown digest) queues an error; a
	 * MAC that does not match queues none. */
	e = ERR_peek_last_error();
	ERR_pop_to_mark();
	if (pw->mac_checked)
		goto out;
	if (ERR_GET_LIB(e) == ERR_LIB_PKCS12 && ERR_GET_REASON(e) == PKCS12_R_MAC_GENERATION_ERROR)
		st = aclm_err_set(err, ACLM_ERR_UNSUPPORTED,
				  "cannot compute the PKCS#12 MAC (unsupported algorithm or damaged file)");
	else if (password == NULL)
		st = aclm_err_set(err, ACLM_ERR_PASSWORD, "PKCS#12 file is password protected; give a password");
	else
		st = aclm_err_set(err, ACLM_ERR_PASSWORD, "wrong password for PKCS#12 file");
out:
	return st;
}

static aclm_status p12_decrypt_error(const struct p12_pass *pw, const char *what, struct aclm_err *err)
{
	aclm_status st;

	if (!pw->mac_checked)
		st = aclm_err_ssl(err, ACLM_ERR_PASSWORD,
				  "cannot decrypt the PKCS#12 %s (no MAC to check the password): wrong or missing password",
				  what);
	else if (!OSSL_PROVIDER_available(NULL, "legacy"))
		/* The password is right, so the cipher is what failed. */
		st = aclm_err_ssl(err, ACLM_ERR_UNSUPPORTED,
				  "cannot decrypt the PKCS#12 %s: it is probably encrypted with RC2 (older Windows/Java exports), which needs OpenSSL's legacy provider, and the legacy provider is unavailable",
				  what);
	else
		st = aclm_err_ssl(err, ACLM_ERR_PARSE, "cannot decrypt the PKCS#12 %s", what);
	return st;
}

static aclm_status p12_add_p8(struct bundle_builder *bb, const PKCS8_PRIV_KEY_INFO *p8,
			      struct aclm_err *err)
{
	EVP_PKEY *key;
	aclm_status st;

	ERR_set_mark();
	key = EVP_PKCS82PKEY(p8);
	if (key == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_PARSE, "corrupt or unsupported private key in PKCS#12 file");
		goto out;
	}
	ERR_pop_to_mark();
	st = bundle_add_key(bb, key, err);
out:
	return st;
}

static aclm_status p12_shrouded_key(struct bundle_builder *bb, const PKCS12_SAFEBAG *bag,
				    const struct p12_pass *pw, struct aclm_err *err)
{
	PKCS8_PRIV_KEY_INFO *p8;
	aclm_status st;

	{
		const X509_SIG *shrouded = PKCS12_SAFEBAG_get0_pkcs8(bag);
		const X509_ALGOR *alg = NULL;

		X509_SIG_get0(shrouded, &alg, NULL);
		st = alg != NULL ? p12_iter_check(p12_pbe_iter(alg), "key encryption", err) : ACLM_OK;
		if (st != ACLM_OK)
			return st;
	}
	p8 = PKCS12_decrypt_skey(bag, pw->pass, pw->passlen);
	if (p8 == NULL)
		st = p12_decrypt_error(pw, "private key", err);
	else
		st = p12_add_p8(bb, p8, err);
	PKCS8_PRIV_KEY_INFO_free(p8);
	return st;
}

static aclm_status p12_cert(struct bundle_builder *bb, const PKCS12_SAFEBAG *bag, struct aclm_err *err)
{
	X509 *x;
	aclm_status st = ACLM_OK;

	if (PKCS12_SAFEBAG_get_bag_nid(bag) != NID_x509Certificate)
		goto out; /* SDSI certificates: not ours */
	x = PKCS12_SAFEBAG_get1_cert(bag);
	if (x == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_PARSE, "corrupt certificate in PKCS#12 file");
		goto out;
	}
	st = bundle_add_cert(bb, x, err);
out:
	return st;
}

static aclm_status p12_bags(struct bundle_builder *bb, const STACK_OF(PKCS12_SAFEBAG) *bags,
			    const struct p12_pass *pw, int depth, struct aclm_err *err)
{
	const PKCS12_SAFEBAG *bag;
	aclm_status st = ACLM_OK;
	int i;

	if (depth > P12_MAX_NESTING) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "PKCS#12 safe contents nested too deeply");
		goto out;
	}
	for (i = 0; i < sk_PKCS12_SAFEBAG_num(bags) && st == ACLM_OK; i++) {
		bag = sk_PKCS12_SAFEBAG_value(bags, i);
		switch (PKCS12_SAFEBAG_get_nid(bag)) {
		case NID_keyBag:
			st = p12_add_p8(bb, PKCS12_SAFEBAG_get0_p8inf(bag), err);
			break;
		case NID_pkcs8ShroudedKeyBag:
			st = p12_shrouded_key(bb, bag, pw, err);
			break;
		case NID_certBag:
			st = p12_cert(bb, bag, err);
			break;
		case NID_safeContentsBag:
			st = p12_bags(bb, PKCS12_SAFEBAG_get0_safes(bag), pw, depth + 1, err);
			break;
		default:
			break; /* CRL and secret bags */
		}
	}
out:
	return st;
}

/* One element of the AuthenticatedSafe: plain or password-encrypted data. */
static aclm_status p12_safe(struct bundle_builder *bb, PKCS7 *p7, const struct p12_pass *pw,
			    struct aclm_err *err)
{
	STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
	aclm_status st = ACLM_OK;

	if (PKCS7_type_is_data(p7)) {
		bags = PKCS12_unpack_p7data(p7);
		if (bags == NULL) {
			st = aclm_err_ssl(err, ACLM_ERR_PARSE, "corrupt PKCS#12 contents");
			goto out;
		}
	} else if (PKCS7_type_is_encrypted(p7)) {
		if (p7->d.encrypted != NULL && p7->d.encrypted->enc_data != NULL) {
			st = p12_iter_check(p12_pbe_iter(p7->d.encrypted->enc_data->algorithm),
					    "certificate encryption", err);
			if (st != ACLM_OK)
				goto out;
		}
		bags = PKCS12_unpack_p7encdata(p7, pw->pass, pw->passlen);
		if (bags == NULL) {
			st = p12_decrypt_error(pw, "certificates", err);
			goto out;
		}
	} else {
		goto out; /* public-key (enveloped) privacy mode: not supported, skipped */
	}
	st = p12_bags(bb, bags, pw, 0, err);
out:
	sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
	return st;
}

static aclm_status bundle_parse_pkcs12(struct bundle_builder *bb, const unsigned char *data, size_t len,
				       const char *password, struct aclm_err *err)
{
	const unsigned char *p = data;
	PKCS12 *p12 = NULL;
	STACK_OF(PKCS7) *safes = NULL;
	struct p12_pass pw;
	aclm_status st;
	int i;

	ERR_set_mark();
	p12 = d2i_PKCS12(NULL, &p, (long)len);
	ERR_pop_to_mark();
	if (p12 == NULL) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "not a PEM bundle, DER certificate or PKCS#12 file");
		goto out;
	}
	/* RC2 files need the legacy provider: make sure it was asked for
	 * even if the caller forgot crypto_init (cheap after the first call). */
	(void)crypto_init(NULL);
	st = p12_pick_password(p12, password, &pw, err);
	if (st != ACLM_OK)
		goto out;
	safes = PKCS12_unpack_authsafes(p12);
	if (safes == NULL) {
		st = aclm_err_ssl(err, ACLM_ERR_PARSE, "corrupt PKCS#12 contents");
		goto out;
	}
	for (i = 0; i < sk_PKCS7_num(safes) && st == ACLM_OK; i++)
		st = p12_safe(bb, sk_PKCS7_value(safes, i), &pw, err);
out:
	sk_PKCS7_pop_free(safes, PKCS7_free);
	PKCS12_free(p12);
	return st;
}

/* ---- entry points ---- */

static aclm_status bundle_parse_any(struct bundle_builder *bb, const unsigned char *data, size_t len,
				    const char *password, struct aclm_err *err)
{
	bool der = false;
	aclm_status st;

	if (memmem(data, len, PEM_BEGIN, PEM_BEGIN_LEN) != NULL) {
		bb->b->format = CRYPTO_FMT_PEM;
		st = bundle_parse_pem(bb, data, len, password, err);
		goto out;
	}
	st = bundle_parse_der(bb, data, len, &der, err);
	if (st != ACLM_OK || der) {
		bb->b->format = CRYPTO_FMT_DER;
		goto out;
	}
	bb->b->format = CRYPTO_FMT_PKCS12;
	st = bundle_parse_pkcs12(bb, data, len, password, err);
out:
	return st;
}

aclm_status crypto_bundle_parse(const unsigned char *data, size_t len, const char *password,
				struct crypto_bundle **out, struct aclm_err *err)
{
	struct bundle_builder bb = {0};
	aclm_status st;

	if (out == NULL || (data == NULL && len > 0)) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "crypto_bundle_parse: no input");
		goto out;
	}
	*out = NULL;
	if (len == 0) {
		st = aclm_err_set(err, ACLM_ERR_PARSE, "empty input");
		goto out;
	}
	if (len > INT_MAX) { /* BIO_new_mem_buf and d2i take int/long lengths */
		st = aclm_err_set(err, ACLM_ERR_TOOBIG, "input larger than %d bytes", INT_MAX);
		goto out;
	}
	bb.b = calloc(1, sizeof(*bb.b));
	if (bb.b == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		goto out;
	}
	st = bundle_parse_any(&bb, data, len, password, err);
	if (st == ACLM_OK && bb.b->ncerts == 0) {
		if (bb.b->nskipped > 0)
			st = aclm_err_set(err, ACLM_ERR_PARSE,
					  "no certificate found (%zu PEM blocks of other types ignored)",
					  bb.b->nskipped);
		else
			st = aclm_err_set(err, ACLM_ERR_PARSE, "no certificate found");
	}
	if (st == ACLM_OK)
		st = bundle_pair(bb.b, err);
	if (st == ACLM_OK) {
		*out = bb.b;
		bb.b = NULL;
	}
out:
	crypto_bundle_free(bb.b);
	return st;
}

void crypto_bundle_free(struct crypto_bundle *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->ncerts; i++)
		X509_free(b->certs[i]);
	for (i = 0; i < b->nkeys; i++)
		EVP_PKEY_free(b->keys[i]);
	free(b->certs);
	free(b->keys);
	free(b->cert_key);
	free(b);
}
