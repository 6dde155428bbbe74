/* The CA's check of a finalize CSR (RFC 8555 §7.4): untrusted DER against
 * the order's identifiers and the key policy. */
#include "ca/ca_int.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/core_names.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>

#include "crypto/csr.h"

#define DNS_NAME_MAX 255           /* "*." + RFC 1035 §2.3.4's 253 */
#define CN_TEXT_MAX 256            /* longer CNs are refused before any compare */

/* The request as RFC 2986 §4 lays it out, X509_REQ's template with the
 * SubjectPublicKeyInfo left as its two parts: d2i_X509_REQ decodes the key
 * through OpenSSL 3.0's decoder look-ups, which cost more than the rest of
 * a finalize. EC P-256/P-384 keys are built from the parts here; other
 * keys still go through d2i_X509_REQ. */
typedef struct {
	X509_ALGOR *algor;
	ASN1_BIT_STRING *public_key;
} CA_CSR_SPKI;

typedef struct {
	ASN1_ENCODING enc;         /* the signed bytes, as received */
	ASN1_INTEGER *version;
	X509_NAME *subject;
	CA_CSR_SPKI *spki;
	STACK_OF(X509_ATTRIBUTE) *attributes;
} CA_CSR_INFO;

typedef struct {
	CA_CSR_INFO *info;
	X509_ALGOR *sig_alg;
	ASN1_BIT_STRING *signature;
} CA_CSR;

ASN1_SEQUENCE(CA_CSR_SPKI) = {
	ASN1_SIMPLE(CA_CSR_SPKI, algor, X509_ALGOR),
	ASN1_SIMPLE(CA_CSR_SPKI, public_key, ASN1_BIT_STRING)
} static_ASN1_SEQUENCE_END(CA_CSR_SPKI)

ASN1_SEQUENCE_enc(CA_CSR_INFO, enc, 0) = {
	ASN1_SIMPLE(CA_CSR_INFO, version, ASN1_INTEGER),
	ASN1_SIMPLE(CA_CSR_INFO, subject, X509_NAME),
	ASN1_SIMPLE(CA_CSR_INFO, spki, CA_CSR_SPKI),
	/* Not OPTIONAL in RFC 2986; X509_REQ reads it so too (old encoders). */
	ASN1_IMP_SET_OF_OPT(CA_CSR_INFO, attributes, X509_ATTRIBUTE, 0)
} static_ASN1_SEQUENCE_END_ref(CA_CSR_INFO, CA_CSR_INFO)

ASN1_SEQUENCE(CA_CSR) = {
	ASN1_SIMPLE(CA_CSR, info, CA_CSR_INFO),
	ASN1_SIMPLE(CA_CSR, sig_alg, X509_ALGOR),
	ASN1_SIMPLE(CA_CSR, signature, ASN1_BIT_STRING)
} static_ASN1_SEQUENCE_END(CA_CSR)

/* One identifier of the order, parsed once. */
struct ident {
	bool ip;
	const char *value;         /* dns: the name as ordered */
	size_t len;
	unsigned char addr[16];    /* ip: the address octets */
	size_t alen;
	bool seen;                 /* some SAN names it */
};

struct check {
	struct ident *ids;
	size_t n;
	const char **problem;
	struct aclm_err *err;
};

static aclm_status bad_csr(struct check *c, aclm_status code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static aclm_status bad_csr(struct check *c, aclm_status code, const char *fmt, ...)
{
	char msg[ACLM_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	*c->problem = "badCSR";
	aclm_err_set(c->err, code, "%s", msg);
	ERR_clear_error();
	return code;
}

/* RFC 4343: DNS names compare case-insensitively, ASCII letters only (no
 * locale: a CSR's bytes are not text in any locale). */
static bool dns_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	bool eq = alen == blen;

	for (size_t i = 0; eq && i < alen; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		eq = x == y;
	}
	return eq;
}

/* Text IPv4/IPv6 into octets; false when it is neither. */
static bool ip_parse(const char *text, unsigned char addr[16], size_t *alen)
{
	bool ok = true;

	if (inet_pton(AF_INET, text, addr) == 1)
		*alen = 4;
	else if (inet_pton(AF_INET6, text, addr) == 1)
		*alen = 16;
	else
		ok = false;
	return ok;
}

static aclm_status idents_parse(const json_t *identifiers, struct ident **out, size_t *n,
				struct aclm_err *err)
{
	struct ident *ids = NULL;
	size_t count = json_is_array(identifiers) ? json_array_size(identifiers) : 0;
	aclm_status st = ACLM_OK;

	*out = NULL;
	*n = 0;
	if (count == 0 || count > CA_CSR_NAMES_MAX) {
		st = aclm_err_set(err, ACLM_ERR_INVALID, "order: %zu identifiers (1 to %d)", count,
				  CA_CSR_NAMES_MAX);
		goto out;
	}
	if ((ids = calloc(count, sizeof(*ids))) == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count && st == ACLM_OK; i++) {
		const json_t *o = json_array_get(identifiers, i);
		const char *type = json_string_value(json_object_get(o, "type"));
		const char *value = json_string_value(json_object_get(o, "value"));

		ids[i].value = value;
		ids[i].len = value != NULL ? strlen(value) : 0;
		ids[i].ip = type != NULL && strcmp(type, "ip") == 0;
		if (value == NULL || type == NULL ||
		    (!ids[i].ip && strcmp(type, "dns") != 0) ||
		    (ids[i].ip && !ip_parse(value, ids[i].addr, &ids[i].alen)))
			st = aclm_err_set(err, ACLM_ERR_INVALID, "order: identifier %zu is not a "
					  "dns name or an IP address", i);
	}
	if (st == ACLM_OK) {
		*out = ids;
		*n = count;
		ids = NULL;
	}
out:
	free(ids);
	return st;
}

static struct ident *find_dns(struct check *c, const char *name, size_t len)
{
	for (size_t i = 0; i < c->n; i++)
		if (!c->ids[i].ip && dns_equal(c->ids[i].value, c->ids[i].len, name, len))
			return &c->ids[i];
	return NULL;
}

static struct ident *find_ip(struct check *c, const unsigned char *addr, size_t alen)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->ids[i].ip && c->ids[i].alen == alen &&
		    memcmp(c->ids[i].addr, addr, alen) == 0)
			return &c->ids[i];
	return NULL;
}

/* RFC 5480 §2.1.1: PKIX EC keys name their curve; explicit parameters
 * would be copied into the leaf. */
static bool ec_named_curve(const CA_CSR_SPKI *spki)
{
	const void *pval = NULL;
	int ptype = V_ASN1_UNDEF;

	X509_ALGOR_get0(NULL, &ptype, &pval, spki->algor);
	return ptype == V_ASN1_OBJECT;
}

/* CA/B BR §6.1.6: an odd public exponent of at least 3. */
static bool rsa_exponent_ok(const EVP_PKEY *key)
{
	BIGNUM *e = NULL;
	bool ok = EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) == 1 && BN_is_odd(e) &&
		  !BN_is_one(e);

	BN_free(e);
	return ok;
}

/* Key policy. RSA-PSS-only keys are refused with the rest: the leaf's key
 * usage (keyEncipherment) is written for rsaEncryption keys. */
static aclm_status key_check(struct check *c, const CA_CSR_SPKI *spki, const EVP_PKEY *key)
{
	struct crypto_key_info info;
	bool ok;

	if (key == NULL || crypto_key_info(key, &info) != ACLM_OK)
		return bad_csr(c, ACLM_ERR_PARSE, "CSR: unreadable public key");
	if (strcmp(info.type, "sm2") == 0)
		ok = ec_named_curve(spki);
	else if (strcmp(info.type, "rsa") == 0)
		ok = EVP_PKEY_is_a(key, "RSA") && info.bits >= 2048 && info.bits <= 8192 &&
		     rsa_exponent_ok(key);
	else if (strcmp(info.type, "ec") == 0)
		ok = (strcmp(info.curve, "P-256") == 0 || strcmp(info.curve, "P-384") == 0) &&
		     ec_named_curve(spki);
	else
		ok = false;
	if (!ok)
		return bad_csr(c, ACLM_ERR_UNSUPPORTED, "CSR key %s%s%s (%d bits): only RSA 2048 to "
			       "8192 bits, EC P-256/P-384 and SM2 on named curves are accepted",
			       info.type, info.curve[0] != '\0' ? " " : "", info.curve, info.bits);
	return ACLM_OK;
}

/* The EC P-256/P-384 key of a SubjectPublicKeyInfo (id-ecPublicKey, a
 * named curve, the point), imported as parameters; NULL for any other key,
 * which then takes d2i_X509_REQ's way. The import checks that the point
 * is on the curve, as decoding it would. */
static EVP_PKEY *ec_key_from_spki(const CA_CSR_SPKI *spki)
{
	const ASN1_OBJECT *alg = NULL, *curve = NULL;
	const void *pval = NULL;
	int ptype = V_ASN1_UNDEF, nid;
	const unsigned char *pt = ASN1_STRING_get0_data(spki->public_key);
	int ptlen = ASN1_STRING_length(spki->public_key);
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *key = NULL;

	X509_ALGOR_get0(&alg, &ptype, &pval, spki->algor);
	if (OBJ_obj2nid(alg) != NID_X9_62_id_ecPublicKey || ptype != V_ASN1_OBJECT)
		goto out;
	curve = pval;
	nid = OBJ_obj2nid(curve);
	if ((nid != NID_X9_62_prime256v1 && nid != NID_secp384r1) || pt == NULL || ptlen < 1)
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, OBJ_nid2sn(nid), 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, (size_t)ptlen) ||
	    /* Keep a compressed point compressed in the leaf, as decoding did. */
	    ((pt[0] == 0x02 || pt[0] == 0x03) &&
	     !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
					      "compressed", 0)) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		EVP_PKEY_free(key);
		key = NULL;
	}
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	ERR_clear_error();
	return key;
}

/* What ASN1_item_verify does for an EC key: the signature's key type must
 * be the key's, no unused bits, the digest over the received bytes. */
static bool ec_csr_verify(CA_CSR *csr, EVP_PKEY *key, int md_nid, int pk_nid)
{
	unsigned char *tbs = NULL;
	EVP_MD_CTX *ctx = NULL;
	int len;
	bool ok = false;

	if (pk_nid != NID_X9_62_id_ecPublicKey || md_nid == NID_undef ||
	    (csr->signature->flags & 0x7) != 0)
		goto out;
	len = ASN1_item_i2d((const ASN1_VALUE *)csr->info, &tbs, ASN1_ITEM_rptr(CA_CSR_INFO));
	if (len <= 0 || (ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit_ex(ctx, NULL, OBJ_nid2sn(md_nid), NULL, NULL, key, NULL) != 1)
		goto out;
	ok = EVP_DigestVerify(ctx, ASN1_STRING_get0_data(csr->signature),
			      (size_t)ASN1_STRING_length(csr->signature), tbs, (size_t)len) == 1;
out:
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(tbs);
	return ok;
}

/* The self-signature, and no broken digest under it. req is NULL when the
 * key came from ec_key_from_spki. */
static aclm_status sig_check(struct check *c, CA_CSR *csr, X509_REQ *req, EVP_PKEY *key)
{
	int md_nid = NID_undef, pk_nid = NID_undef;
	int sig_nid = OBJ_obj2nid(csr->sig_alg->algorithm);
	bool ok;

	if (!OBJ_find_sigid_algs(sig_nid, &md_nid, &pk_nid) ||
	    md_nid == NID_md5 || md_nid == NID_md4 || md_nid == NID_md2 || md_nid == NID_sha1 ||
	    md_nid == NID_mdc2 || md_nid == NID_ripemd160 ||
	    (md_nid == NID_undef && pk_nid != NID_rsassaPss))
		return bad_csr(c, ACLM_ERR_UNSUPPORTED, "CSR: signature algorithm %s refused",
			       OBJ_nid2sn(sig_nid));
	ok = req != NULL ? crypto_csr_verify(req, c->err) == ACLM_OK
			 : ec_csr_verify(csr, key, md_nid, pk_nid);
	if (!ok)
		return bad_csr(c, ACLM_ERR_VERIFY, "CSR: the signature does not verify");
	return ACLM_OK;
}

static aclm_status san_one(struct check *c, const GENERAL_NAME *gn)
{
	static const char *const types[] = { "otherName", "email", "dNSName", "x400Address",
					     "directoryName", "ediPartyName", "URI",
					     "iPAddress", "registeredID" };
	const ASN1_STRING *s = NULL;
	struct ident *id = NULL;
	int t = gn->type;

	if (t == GEN_DNS) {
		s = gn->d.dNSName;
		/* An embedded NUL would make "a.example\0.evil" look like a.example. */
		if (s->length > 0 && s->length <= DNS_NAME_MAX &&
		    memchr(s->data, '\0', (size_t)s->length) == NULL)
			id = find_dns(c, (const char *)s->data, (size_t)s->length);
		if (id == NULL) {
			char name[DNS_NAME_MAX + 1];
			int len = s->length > DNS_NAME_MAX ? DNS_NAME_MAX : s->length;

			snprintf(name, sizeof(name), "%.*s", len > 0 ? len : 0, s->data);
			for (char *p = name; *p != '\0'; p++)
				if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
					*p = '?';
			return bad_csr(c, ACLM_ERR_INVALID,
				       "CSR: dNSName \"%s\" is not in the order", name);
		}
	} else if (t == GEN_IPADD) {
		s = gn->d.iPAddress;
		if (s->length == 4 || s->length == 16)
			id = find_ip(c, s->data, (size_t)s->length);
		if (id == NULL)
			return bad_csr(c, ACLM_ERR_INVALID, "CSR: an iPAddress %s",
				       s->length == 4 || s->length == 16 ? "is not in the order"
									 : "has a bad length");
	} else {
		return bad_csr(c, ACLM_ERR_INVALID, "CSR: subjectAltName of type %s refused",
			       t >= 0 && t < (int)(sizeof(types) / sizeof(types[0])) ? types[t]
										 : "?");
	}
	id->seen = true;
	return ACLM_OK;
}

/* The requested extensions as X509_REQ_get_extensions reads them: the
 * first value of the extensionRequest (PKCS#9, else Microsoft's), a
 * SEQUENCE of extensions. NULL when it is not one. */
static STACK_OF(X509_EXTENSION) *csr_extensions(const STACK_OF(X509_ATTRIBUTE) *attrs)
{
	int at = X509at_get_attr_by_NID(attrs, NID_ext_req, -1);
	ASN1_TYPE *ext = NULL;
	const unsigned char *p;

	if (at < 0)
		at = X509at_get_attr_by_NID(attrs, NID_ms_ext_req, -1);
	if (at >= 0)
		ext = X509_ATTRIBUTE_get0_type(X509at_get_attr(attrs, at), 0);
	if (ext == NULL || ext->type != V_ASN1_SEQUENCE)
		return NULL;
	p = ext->value.sequence->data;
	return (STACK_OF(X509_EXTENSION) *)ASN1_item_d2i(NULL, &p, ext->value.sequence->length,
							 ASN1_ITEM_rptr(X509_EXTENSIONS));
}

/* The one subjectAltName of the extensionRequest: each name an identifier,
 * each identifier named. */
static aclm_status san_check(struct check *c, const STACK_OF(X509_ATTRIBUTE) *attrs)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *gens = NULL;
	int nexts, san_at = -1, nreq = 0;
	aclm_status st = ACLM_OK;

	/* OpenSSL reads one extensionRequest (the first PKCS#9 one): another,
	 * or Microsoft's beside it, would be signed but ignored. Microsoft's
	 * alone reads as no extensions. */
	for (int at = -1; (at = X509at_get_attr_by_NID(attrs, NID_ext_req, at)) >= 0;)
		nreq++;
	for (int at = -1; (at = X509at_get_attr_by_NID(attrs, NID_ms_ext_req, at)) >= 0;)
		nreq++;
	if (nreq > 1) {
		st = bad_csr(c, ACLM_ERR_INVALID, "CSR: %d extensionRequest attributes", nreq);
		goto out;
	}
	if (nreq == 1) {
		exts = csr_extensions(attrs);
		if (exts == NULL) {
			st = bad_csr(c, ACLM_ERR_PARSE, "CSR: unreadable extensionRequest");
			goto out;
		}
	}
	nexts = sk_X509_EXTENSION_num(exts);
	if (nexts > CA_CSR_EXTS_MAX) {
		st = bad_csr(c, ACLM_ERR_TOOBIG, "CSR: %d extensions (at most %d)", nexts,
			     CA_CSR_EXTS_MAX);
		goto out;
	}
	for (int i = 0; i < nexts; i++) {
		if (OBJ_obj2nid(X509_EXTENSION_get_object(sk_X509_EXTENSION_value(exts, i))) !=
		    NID_subject_alt_name)
			continue;
		if (san_at >= 0) {
			st = bad_csr(c, ACLM_ERR_INVALID, "CSR: two subjectAltName extensions");
			goto out;
		}
		san_at = i;
	}
	if (san_at < 0) {
		st = bad_csr(c, ACLM_ERR_INVALID, "CSR: no subjectAltName");
		goto out;
	}
	gens = X509V3_EXT_d2i(sk_X509_EXTENSION_value(exts, san_at));
	if (gens == NULL) {
		st = bad_csr(c, ACLM_ERR_PARSE, "CSR: unreadable subjectAltName");
		goto out;
	}
	if (sk_GENERAL_NAME_num(gens) > CA_CSR_NAMES_MAX) {
		st = bad_csr(c, ACLM_ERR_TOOBIG, "CSR: %d subjectAltNames (at most %d)",
			     sk_GENERAL_NAME_num(gens), CA_CSR_NAMES_MAX);
		goto out;
	}
	for (int i = 0; i < sk_GENERAL_NAME_num(gens) && st == ACLM_OK; i++)
		st = san_one(c, sk_GENERAL_NAME_value(gens, i));
	for (size_t i = 0; i < c->n && st == ACLM_OK; i++)
		if (!c->ids[i].seen)
			st = bad_csr(c, ACLM_ERR_INVALID, "CSR: identifier \"%s\" of the order is "
				     "missing from subjectAltName", c->ids[i].value);
out:
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return st;
}

/* RFC 8555 §7.4 lets the CSR name a CN; it must be one of the identifiers
 * (an IP address in its text form, compared as octets). */
static aclm_status cn_check(struct check *c, const X509_NAME *subj)
{
	unsigned char addr[16];
	size_t alen = 0;
	aclm_status st = ACLM_OK;
	int at = -1;

	while (st == ACLM_OK && (at = X509_NAME_get_index_by_NID(subj, NID_commonName, at)) >= 0) {
		ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, at));
		unsigned char *utf8 = NULL;
		int len = s != NULL && ASN1_STRING_length(s) <= CN_TEXT_MAX
				  ? ASN1_STRING_to_UTF8(&utf8, s) : -1;
		bool ok = len > 0 && memchr(utf8, '\0', (size_t)len) == NULL;

		if (ok)
			ok = find_dns(c, (const char *)utf8, (size_t)len) != NULL ||
			     (ip_parse((const char *)utf8, addr, &alen) &&
			      find_ip(c, addr, alen) != NULL);
		if (!ok)
			st = bad_csr(c, ACLM_ERR_INVALID, "CSR: the common name is not one of the "
				     "order's identifiers");
		OPENSSL_free(utf8);
	}
	return st;
}

aclm_status ca_csr_check(const unsigned char *der, size_t len, const json_t *identifiers,
			 const EVP_PKEY *account_key, EVP_PKEY **pub, const char **problem,
			 struct aclm_err *err)
{
	const unsigned char *p = der;
	CA_CSR *csr = NULL;
	X509_REQ *req = NULL;
	EVP_PKEY *key = NULL;
	const char *ignored = NULL;
	struct check c = { .problem = problem != NULL ? problem : &ignored, .err = err };
	aclm_status st;

	*pub = NULL;
	*c.problem = NULL;
	st = idents_parse(identifiers, &c.ids, &c.n, err);
	if (st != ACLM_OK)
		goto out;
	if (der == NULL || len == 0 || len > CA_CSR_DER_MAX) {
		st = bad_csr(&c, ACLM_ERR_TOOBIG, "CSR: %zu bytes (1 to %d)", der != NULL ? len : 0,
			     CA_CSR_DER_MAX);
		goto out;
	}
	csr = (CA_CSR *)ASN1_item_d2i(NULL, &p, (long)len, ASN1_ITEM_rptr(CA_CSR));
	if (csr == NULL || p != der + len) {
		st = bad_csr(&c, ACLM_ERR_PARSE, "CSR: %s",
			     csr == NULL ? "not a DER PKCS#10 request" : "bytes after the request");
		goto out;
	}
	if (ASN1_INTEGER_get(csr->info->version) != X509_REQ_VERSION_1) {
		st = bad_csr(&c, ACLM_ERR_INVALID, "CSR: version %ld (RFC 2986: 0)",
			     ASN1_INTEGER_get(csr->info->version));
		goto out;
	}
	key = ec_key_from_spki(csr->info->spki);
	if (key == NULL) {
		/* Every other key, and anything ec_key_from_spki refused, is
		 * decoded (or found unreadable) as before. */
		p = der;
		req = d2i_X509_REQ(NULL, &p, (long)len);
		if (req == NULL || p != der + len) {
			st = bad_csr(&c, ACLM_ERR_PARSE, "CSR: not a DER PKCS#10 request");
			goto out;
		}
		key = X509_REQ_get0_pubkey(req);
		if (key != NULL && !EVP_PKEY_up_ref(key))
			key = NULL;
	}
	if ((st = key_check(&c, csr->info->spki, key)) != ACLM_OK ||
	    (st = sig_check(&c, csr, req, key)) != ACLM_OK)
		goto out;
	/* RFC 8555 §11.1: the account key must not be certified. */
	if (account_key != NULL && crypto_key_public_equal(key, account_key)) {
		st = bad_csr(&c, ACLM_ERR_INVALID, "CSR: the key is the account's key");
		goto out;
	}
	if ((st = san_check(&c, csr->info->attributes)) != ACLM_OK ||
	    (st = cn_check(&c, csr->info->subject)) != ACLM_OK)
		goto out;
	*pub = key;
	key = NULL;
out:
	EVP_PKEY_free(key);
	X509_REQ_free(req);
	ASN1_item_free((ASN1_VALUE *)csr, ASN1_ITEM_rptr(CA_CSR));
	free(c.ids);
	return st;
}
