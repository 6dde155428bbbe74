/* ca/ issuance: for P-256, P-384, RSA-3072 and SM2 a CSR passes
 * ca_csr_check, ca_issuer_for picks the family's intermediate, and the leaf
 * ca_leaf_sign makes verifies root -> intermediate -> leaf and carries the
 * profile (serial, validity, CN, SAN order, KU/EKU, AKI/SKI, CRL DP); SM2
 * encryption leaves get their key usage; CRLs verify, list their entries
 * with reasons and revoke through an X509_STORE. CSR refusals are in
 * test_csr_check.c. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "ca/ca_int.h"
#include "core/time.h"
#include "crypto/crypto.h"
#include "keystore/keystore.h"
#include "store/store.h"
#include "testsupport.h"

#define NFAM 4
static const enum crypto_key_type families[NFAM] = { CRYPTO_KEY_P256, CRYPTO_KEY_P384,
						     CRYPTO_KEY_RSA3072, CRYPTO_KEY_SM2 };

struct fixture {
	struct ts_home h;
	struct ca_pair pairs[NFAM];
	struct ca_issuer iss[NFAM];
};

/* One CA pair per family for the whole file: RSA key generation is slow. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct aclm_err err = { 0 };

	if (ts_home_open(&f->h, "issue") != 0)
		return -1;
	for (int i = 0; i < NFAM; i++) {
		struct ca_issuer *is = &f->iss[i];

		if (ca_pair_build(f->h.ks, f->h.tenant, "Test", families[i], 0, &f->pairs[i],
				  &err) != ACLM_OK ||
		    keystore_pkey(f->h.ks, f->h.tenant, f->pairs[i].intermediate_key_id,
				  &is->key, &err) != ACLM_OK)
			goto fail;
		is->key_type = families[i];
		is->intermediate = f->pairs[i].intermediate;
		is->root = f->pairs[i].root;
		snprintf(is->crl_url, sizeof(is->crl_url), "http://ca.example/crl/%s.crl",
			 crypto_key_type_name(families[i]));
	}
	*state = f;
	return 0;
fail:
	fprintf(stderr, "setup: %s\n", err.msg);
	return -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc;

	for (int i = 0; i < NFAM; i++) {
		EVP_PKEY_free(f->iss[i].key);
		ca_pair_clear(&f->pairs[i]);
	}
	rc = ts_home_close(&f->h);
	free(f);
	return rc;
}

static void csr_der(EVP_PKEY *key, const struct crypto_csr_req *r, unsigned char **der,
		    size_t *len)
{
	X509_REQ *req = NULL;
	struct aclm_err err = { 0 };
	int n;

	assert_int_equal(crypto_csr_new(key, r, &req, &err), ACLM_OK);
	*der = NULL;
	n = i2d_X509_REQ(req, der);
	assert_true(n > 0);
	*len = (size_t)n;
	X509_REQ_free(req);
}

static X509 *issue(struct fixture *f, int fam, EVP_PKEY *leaf_key, const json_t *ids,
		   const struct crypto_csr_req *csr, bool encryption, int64_t nb, int64_t na)
{
	unsigned char *der = NULL;
	size_t len = 0;
	EVP_PKEY *pub = NULL;
	const char *problem = "unset";
	const struct ca_issuer *iss;
	struct ca_leaf_req r = { .identifiers = ids, .not_before = nb, .not_after = na,
				 .encryption = encryption };
	struct aclm_err err = { 0 };
	X509 *leaf = NULL;

	csr_der(leaf_key, csr, &der, &len);
	assert_int_equal(ca_csr_check(der, len, ids, NULL, &pub, &problem, &err), ACLM_OK);
	assert_null(problem);
	assert_true(crypto_key_public_equal(pub, leaf_key));
	iss = ca_issuer_for(f->iss, NFAM, pub, &problem, &err);
	assert_ptr_equal(iss, &f->iss[fam]);
	r.pub = pub;
	if (ca_leaf_sign(iss, &r, &leaf, &err) != ACLM_OK)
		fail_msg("ca_leaf_sign: %s", err.msg);
	EVP_PKEY_free(pub);
	OPENSSL_free(der);
	return leaf;
}

/* root -> intermediate -> leaf through X509_verify_cert (crypto_chain_verify
 * sets the SM2 ID on every SM2-signed certificate, anchor included). */
static void chain_verifies(struct fixture *f, int fam, X509 *leaf)
{
	X509_STORE *trust = NULL;
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	STACK_OF(X509) *chain = NULL;
	struct aclm_err err = { 0 };

	assert_int_equal(crypto_trust_from_certs(&f->pairs[fam].root, 1, &trust, &err), ACLM_OK);
	assert_true(sk_X509_push(untrusted, f->pairs[fam].intermediate) > 0);
	if (crypto_chain_verify(leaf, untrusted, trust, 0, &chain, &err) != ACLM_OK)
		fail_msg("chain: %s", err.msg);
	assert_int_equal(sk_X509_num(chain), 3);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_free(untrusted);
	X509_STORE_free(trust);
}

static bool ext_critical(X509 *x, int nid)
{
	int at = X509_get_ext_by_NID(x, nid, -1);

	assert_true(at >= 0);
	return X509_EXTENSION_get_critical(X509_get_ext(x, at)) == 1;
}

static void san_is(X509 *x, const char *const *spec, size_t n)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);

	assert_non_null(gens);
	assert_int_equal(sk_GENERAL_NAME_num(gens), (int)n);
	for (size_t i = 0; i < n; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(gens, (int)i);

		if (strncmp(spec[i], "ip:", 3) == 0) {
			unsigned char addr[16];
			int alen = strchr(spec[i] + 3, ':') != NULL ? 16 : 4;

			assert_int_equal(gn->type, GEN_IPADD);
			assert_int_equal(inet_pton(alen == 4 ? AF_INET : AF_INET6, spec[i] + 3, addr),
					 1);
			assert_int_equal(gn->d.iPAddress->length, alen);
			assert_memory_equal(gn->d.iPAddress->data, addr, (size_t)alen);
		} else {
			assert_int_equal(gn->type, GEN_DNS);
			assert_int_equal(gn->d.dNSName->length, (int)strlen(spec[i] + 4));
			assert_memory_equal(gn->d.dNSName->data, spec[i] + 4, strlen(spec[i] + 4));
		}
	}
	GENERAL_NAMES_free(gens);
}

static void crl_dp_is(X509 *x, const char *url)
{
	CRL_DIST_POINTS *dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	const DIST_POINT *dp;
	const GENERAL_NAME *gn;

	assert_non_null(dps);
	assert_int_equal(sk_DIST_POINT_num(dps), 1);
	dp = sk_DIST_POINT_value(dps, 0);
	assert_non_null(dp->distpoint);
	assert_int_equal(dp->distpoint->type, 0);
	assert_int_equal(sk_GENERAL_NAME_num(dp->distpoint->name.fullname), 1);
	gn = sk_GENERAL_NAME_value(dp->distpoint->name.fullname, 0);
	assert_int_equal(gn->type, GEN_URI);
	assert_int_equal(gn->d.uniformResourceIdentifier->length, (int)strlen(url));
	assert_memory_equal(gn->d.uniformResourceIdentifier->data, url, strlen(url));
	CRL_DIST_POINTS_free(dps);
}

static void check_leaf_family(struct fixture *f, int fam)
{
	/* The order's order, not the CSR's (crypto_csr_new puts DNS first). */
	static const char *const spec[] = { "dns:www.example.com", "ip:10.0.0.1",
					    "dns:*.example.com", "ip:::1" };
	static const char *const dns[] = { "*.example.com", "www.example.com" };
	static const char *const ips[] = { "::1", "10.0.0.1" };
	struct crypto_csr_req csr = { .dns = dns, .ndns = 2, .ips = ips, .nips = 2 };
	json_t *ids = ts_identifiers(spec, 4);
	EVP_PKEY *key = NULL;
	struct aclm_err err = { 0 };
	int64_t now = aclm_time_now(), nb = now - 60, na = now + 90 * 86400, vb = 0, va = 0;
	const ASN1_INTEGER *sn;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	BASIC_CONSTRAINTS *bc = NULL;
	uint32_t ku;
	X509 *leaf;
	char cn[80];

	assert_int_equal(crypto_key_generate(families[fam], &key, &err), ACLM_OK);
	leaf = issue(f, fam, key, ids, &csr, false, nb, na);
	if (families[fam] == CRYPTO_KEY_SM2) {
		/* Signed SM2-with-SM3 with the standard ID: without it, no
		 * (checked before crypto_chain_verify sets the ID on the leaf). */
		assert_int_equal(X509_get_signature_nid(leaf), NID_SM2_with_SM3);
		assert_int_not_equal(X509_verify(leaf, f->iss[fam].key), 1);
		ERR_clear_error();
	} else {
		assert_int_equal(X509_verify(leaf, f->iss[fam].key), 1);
	}
	chain_verifies(f, fam, leaf);
	assert_int_equal(X509_get_version(leaf), X509_VERSION_3);
	/* Serial: 16 octets, positive. */
	sn = X509_get0_serialNumber(leaf);
	assert_int_equal(ASN1_STRING_length(sn), CA_SERIAL_BYTES);
	assert_int_equal(ASN1_STRING_type(sn), V_ASN1_INTEGER);
	/* Names and validity. */
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(leaf),
				       X509_get_subject_name(f->pairs[fam].intermediate)), 0);
	assert_int_equal(X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_commonName, cn,
						   sizeof(cn)), (int)strlen("www.example.com"));
	assert_string_equal(cn, "www.example.com");
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(leaf)), 1);
	assert_int_equal(crypto_cert_validity(leaf, &vb, &va), ACLM_OK);
	assert_true(vb == nb && va == na);
	san_is(leaf, spec, 4);
	assert_false(ext_critical(leaf, NID_subject_alt_name));
	/* basicConstraints CA:FALSE and key usage, both critical. */
	bc = X509_get_ext_d2i(leaf, NID_basic_constraints, NULL, NULL);
	assert_non_null(bc);
	assert_false(bc->ca);
	BASIC_CONSTRAINTS_free(bc);
	assert_true(ext_critical(leaf, NID_basic_constraints));
	assert_true(ext_critical(leaf, NID_key_usage));
	ku = X509_get_key_usage(leaf);
	if (families[fam] == CRYPTO_KEY_RSA3072)
		assert_int_equal(ku, KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	else
		assert_int_equal(ku, KU_DIGITAL_SIGNATURE);
	assert_int_equal(X509_get_extended_key_usage(leaf), XKU_SSL_SERVER | XKU_SSL_CLIENT);
	assert_false(ext_critical(leaf, NID_ext_key_usage));
	/* SKI = SHA-1 of the key (RFC 5280 §4.2.1.2 method 1), AKI = issuer's SKI. */
	assert_int_equal(X509_pubkey_digest(leaf, EVP_sha1(), md, &mdlen), 1);
	assert_non_null(X509_get0_subject_key_id(leaf));
	assert_int_equal(ASN1_STRING_length(X509_get0_subject_key_id(leaf)), (int)mdlen);
	assert_memory_equal(ASN1_STRING_get0_data(X509_get0_subject_key_id(leaf)), md, mdlen);
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(leaf),
					       X509_get0_subject_key_id(f->pairs[fam].intermediate)),
			 0);
	crl_dp_is(leaf, f->iss[fam].crl_url);
	X509_free(leaf);
	EVP_PKEY_free(key);
	json_decref(ids);
}

static void test_leaf_p256(void **state) { check_leaf_family(*state, 0); }
static void test_leaf_p384(void **state) { check_leaf_family(*state, 1); }
static void test_leaf_rsa3072(void **state) { check_leaf_family(*state, 2); }
static void test_leaf_sm2(void **state) { check_leaf_family(*state, 3); }

/* No CRL URL: no distribution point. A first name over 64 characters: no
 * CN, an empty subject and so a critical SAN (RFC 5280 §4.2.1.6). */
static void test_leaf_without_crl_dp_and_long_name(void **state)
{
	struct fixture *f = *state;
	static const char *const spec[] = {
		"dns:a-rather-long-label-that-goes-on.and-on-for-more-than-64.example.com",
		"dns:short.example.com" };
	struct ca_issuer iss = f->iss[0];
	struct ca_leaf_req r = { 0 };
	struct aclm_err err = { 0 };
	EVP_PKEY *key = NULL;
	X509 *leaf = NULL;
	int64_t now = aclm_time_now();

	assert_true(strlen(spec[0] + 4) > 64);
	iss.crl_url[0] = '\0';
	r.identifiers = ts_identifiers(spec, 2);
	r.not_before = now;
	r.not_after = now + 86400;
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_P256, &key, &err), ACLM_OK);
	r.pub = key;
	assert_int_equal(ca_leaf_sign(&iss, &r, &leaf, &err), ACLM_OK);
	assert_int_equal(X509_get_ext_by_NID(leaf, NID_crl_distribution_points, -1), -1);
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(leaf)), 0);
	assert_true(ext_critical(leaf, NID_subject_alt_name));
	san_is(leaf, spec, 2);
	chain_verifies(f, 0, leaf);
	X509_free(leaf);
	EVP_PKEY_free(key);
	json_decref((json_t *)r.identifiers);
}

/* TLCP: the SM2 encryption certificate's key usage, exactly. */
static void test_sm2_encryption_leaf_key_usage(void **state)
{
	struct fixture *f = *state;
	static const char *const spec[] = { "dns:tlcp.example.com" };
	struct crypto_csr_req csr = { .dns = (const char *const[]){ "tlcp.example.com" },
				      .ndns = 1 };
	json_t *ids = ts_identifiers(spec, 1);
	struct aclm_err err = { 0 };
	EVP_PKEY *key = NULL;
	int64_t now = aclm_time_now();
	X509 *leaf;

	assert_int_equal(crypto_key_generate(CRYPTO_KEY_SM2, &key, &err), ACLM_OK);
	leaf = issue(f, 3, key, ids, &csr, true, now, now + 86400);
	assert_true(ext_critical(leaf, NID_key_usage));
	assert_int_equal(X509_get_key_usage(leaf),
			 KU_KEY_ENCIPHERMENT | KU_DATA_ENCIPHERMENT | KU_KEY_AGREEMENT);
	assert_int_equal(X509_get_extended_key_usage(leaf), XKU_SSL_SERVER | XKU_SSL_CLIENT);
	chain_verifies(f, 3, leaf);
	X509_free(leaf);
	EVP_PKEY_free(key);
	json_decref(ids);
}

static void test_encryption_leaf_refused_for_non_sm2(void **state)
{
	struct fixture *f = *state;
	static const char *const spec[] = { "dns:a.example.com" };
	struct ca_leaf_req r = { .encryption = true };
	struct aclm_err err = { 0 };
	EVP_PKEY *key = NULL;
	X509 *leaf = NULL;

	r.identifiers = ts_identifiers(spec, 1);
	r.not_before = aclm_time_now();
	r.not_after = r.not_before + 86400;
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_P256, &key, &err), ACLM_OK);
	r.pub = key;
	assert_int_equal(ca_leaf_sign(&f->iss[0], &r, &leaf, &err), ACLM_ERR_INVALID);
	assert_null(leaf);
	assert_non_null(strstr(err.msg, "SM2"));
	/* Through the SM2 issuer it is the key that counts, not the issuer. */
	assert_int_equal(ca_leaf_sign(&f->iss[3], &r, &leaf, &err), ACLM_ERR_INVALID);
	EVP_PKEY_free(key);
	json_decref((json_t *)r.identifiers);
}

static void test_issuer_for_picks_family(void **state)
{
	struct fixture *f = *state;
	struct aclm_err err = { 0 };
	const char *problem = NULL;
	EVP_PKEY *p256 = NULL, *p384 = NULL, *rsa = NULL, *sm2 = NULL, *ed = NULL;
	struct ca_issuer two[2] = { f->iss[0], f->iss[2] }; /* P-256 and RSA */

	assert_int_equal(crypto_key_generate(CRYPTO_KEY_P256, &p256, &err), ACLM_OK);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_P384, &p384, &err), ACLM_OK);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_RSA2048, &rsa, &err), ACLM_OK);
	assert_int_equal(crypto_key_generate(CRYPTO_KEY_SM2, &sm2, &err), ACLM_OK);
	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(ed);
	/* All four issuers: the same curve wins. */
	assert_ptr_equal(ca_issuer_for(f->iss, NFAM, p256, &problem, &err), &f->iss[0]);
	assert_ptr_equal(ca_issuer_for(f->iss, NFAM, p384, &problem, &err), &f->iss[1]);
	assert_ptr_equal(ca_issuer_for(f->iss, NFAM, rsa, &problem, &err), &f->iss[2]);
	assert_ptr_equal(ca_issuer_for(f->iss, NFAM, sm2, &problem, &err), &f->iss[3]);
	assert_null(problem);
	/* P-384 key, only a P-256 issuer: that one. */
	assert_ptr_equal(ca_issuer_for(two, 2, p384, &problem, &err), &two[0]);
	assert_ptr_equal(ca_issuer_for(two, 2, rsa, &problem, &err), &two[1]);
	/* No SM2 issuer: badCSR naming the family; Ed25519 never. */
	assert_null(ca_issuer_for(two, 2, sm2, &problem, &err));
	assert_string_equal(problem, "badCSR");
	assert_non_null(strstr(err.msg, "sm2"));
	problem = NULL;
	assert_null(ca_issuer_for(f->iss, NFAM, ed, &problem, &err));
	assert_string_equal(problem, "badCSR");
	EVP_PKEY_free(p256);
	EVP_PKEY_free(p384);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(sm2);
	EVP_PKEY_free(ed);
}

/* ---- CRLs ---- */

static X509_EXTENSION *entry_ext(const X509_REVOKED *rev, int nid)
{
	int at = X509_REVOKED_get_ext_by_NID(rev, nid, -1);

	return at >= 0 ? X509_REVOKED_get_ext(rev, at) : NULL;
}

/* SM2: X509_CRL_verify applies no ID in OpenSSL 3.0, so the TBS bytes are
 * checked through crypto_verify, which sets it. */
static bool crl_sig_ok(X509_CRL *crl, EVP_PKEY *pub, bool sm2)
{
	unsigned char *tbs = NULL;
	const ASN1_BIT_STRING *sig = NULL;
	int len;
	bool ok;

	if (!sm2)
		return X509_CRL_verify(crl, pub) == 1;
	len = i2d_re_X509_CRL_tbs(crl, &tbs);
	X509_CRL_get0_signature(crl, &sig, NULL);
	ok = len > 0 && crypto_verify(pub, NULL, NULL, tbs, (size_t)len, sig->data,
				      (size_t)sig->length, NULL) == ACLM_OK;
	OPENSSL_free(tbs);
	return ok;
}

static void check_crl_family(struct fixture *f, int fam)
{
	static const char *const spec[] = { "dns:revoked.example.com" };
	struct crypto_csr_req csr = { .dns = (const char *const[]){ "revoked.example.com" },
				      .ndns = 1 };
	json_t *ids = ts_identifiers(spec, 1);
	struct aclm_err err = { 0 };
	EVP_PKEY *key = NULL, *ipub = X509_get0_pubkey(f->pairs[fam].intermediate);
	int64_t now = aclm_time_now();
	char *serial_hex = NULL;
	BIGNUM *bn = NULL;
	struct ca_crl_entry e[2];
	X509_CRL *crl = NULL;
	X509_REVOKED *rev = NULL;
	ASN1_ENUMERATED *reason = NULL;
	ASN1_INTEGER *num = NULL, *other = NULL;
	AUTHORITY_KEYID *aki = NULL;
	bool sm2 = families[fam] == CRYPTO_KEY_SM2;
	int days = 0, secs = 0;
	X509 *leaf;

	assert_int_equal(crypto_key_generate(families[fam], &key, &err), ACLM_OK);
	leaf = issue(f, fam, key, ids, &csr, false, now - 60, now + 86400);
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), NULL);
	serial_hex = BN_bn2hex(bn);
	e[0] = (struct ca_crl_entry){ .serial_hex = serial_hex, .revoked_at = now - 30,
				      .reason = 1 /* keyCompromise */ };
	e[1] = (struct ca_crl_entry){ .serial_hex = "0123abcd", .revoked_at = now - 20 };
	assert_int_equal(ca_crl_build(&f->iss[fam], e, 2, 7, 86400, &crl, &err), ACLM_OK);
	assert_int_equal(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
	assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl),
				       X509_get_subject_name(f->pairs[fam].intermediate)), 0);
	assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_CRL_get0_lastUpdate(crl),
					X509_CRL_get0_nextUpdate(crl)), 1);
	assert_true(days == 1 && secs == 0);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl), (time_t)now + 5), -1);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl), (time_t)now - 5), 1);
	/* Signature: with the ID for SM2, and X509_CRL_verify (no ID) fails there. */
	assert_true(crl_sig_ok(crl, ipub, sm2));
	if (sm2) {
		assert_int_not_equal(X509_CRL_verify(crl, ipub), 1);
		ERR_clear_error();
	}
	/* Entries: the leaf with keyCompromise, the other without a reason. */
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 2);
	assert_int_equal(X509_CRL_get0_by_serial(crl, &rev,
						 (ASN1_INTEGER *)X509_get0_serialNumber(leaf)), 1);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_REVOKED_get0_revocationDate(rev),
					      (time_t)now - 30), 0);
	assert_non_null(entry_ext(rev, NID_crl_reason));
	reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
	assert_int_equal(ASN1_ENUMERATED_get(reason), 1);
	ASN1_ENUMERATED_free(reason);
	other = s2i_ASN1_INTEGER(NULL, "0x0123abcd");
	assert_int_equal(X509_CRL_get0_by_serial(crl, &rev, other), 1);
	assert_null(entry_ext(rev, NID_crl_reason));
	/* CRL number and AKI. */
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	assert_int_equal(ASN1_INTEGER_get(num), 7);
	aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL, NULL);
	assert_non_null(aki);
	assert_int_equal(ASN1_OCTET_STRING_cmp(aki->keyid,
					       X509_get0_subject_key_id(f->pairs[fam].intermediate)),
			 0);
	/* A relying party with CRL checks finds the leaf revoked (OpenSSL's CRL
	 * path verifies without an SM2 ID, so SM2 stops at the TBS check). */
	if (!sm2) {
		X509_STORE *st = X509_STORE_new();
		X509_STORE_CTX *ctx = X509_STORE_CTX_new();
		STACK_OF(X509) *untrusted = sk_X509_new_null();

		assert_int_equal(X509_STORE_add_cert(st, f->pairs[fam].root), 1);
		assert_int_equal(X509_STORE_add_crl(st, crl), 1);
		X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK);
		sk_X509_push(untrusted, f->pairs[fam].intermediate);
		assert_int_equal(X509_STORE_CTX_init(ctx, st, leaf, untrusted), 1);
		assert_int_not_equal(X509_verify_cert(ctx), 1);
		assert_int_equal(X509_STORE_CTX_get_error(ctx), X509_V_ERR_CERT_REVOKED);
		X509_STORE_CTX_free(ctx);
		sk_X509_free(untrusted);
		X509_STORE_free(st);
		ERR_clear_error();
	}
	AUTHORITY_KEYID_free(aki);
	ASN1_INTEGER_free(num);
	ASN1_INTEGER_free(other);
	X509_CRL_free(crl);
	OPENSSL_free(serial_hex);
	BN_free(bn);
	X509_free(leaf);
	EVP_PKEY_free(key);
	json_decref(ids);
}

static void test_crl_p256(void **state) { check_crl_family(*state, 0); }
static void test_crl_p384(void **state) { check_crl_family(*state, 1); }
static void test_crl_rsa3072(void **state) { check_crl_family(*state, 2); }
static void test_crl_sm2(void **state) { check_crl_family(*state, 3); }

static void test_crl_refuses_bad_entries(void **state)
{
	struct fixture *f = *state;
	struct aclm_err err = { 0 };
	X509_CRL *crl = NULL;
	struct ca_crl_entry bad[] = {
		{ .serial_hex = "-01", .revoked_at = 1 },
		{ .serial_hex = "12zz", .revoked_at = 1 },
		{ .serial_hex = "", .revoked_at = 1 },
		{ .serial_hex = "0123456789abcdef0123456789abcdef0123456789", .revoked_at = 1 },
		{ .serial_hex = "01", .revoked_at = 1, .reason = 7 }, /* unused value */
		{ .serial_hex = "01", .revoked_at = 1, .reason = 11 },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ca_crl_build(&f->iss[0], &bad[i], 1, 1, 3600, &crl, &err),
				 ACLM_ERR_INVALID);
		assert_null(crl);
	}
	assert_int_equal(ca_crl_build(&f->iss[0], NULL, 0, -1, 3600, &crl, &err),
			 ACLM_ERR_INVALID);
	/* An empty CRL is fine; RFC 5280 §5.1.2.6: the list is then absent. */
	assert_int_equal(ca_crl_build(&f->iss[0], NULL, 0, 0, 3600, &crl, &err), ACLM_OK);
	assert_null(X509_CRL_get_REVOKED(crl));
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(f->pairs[0].intermediate)), 1);
	X509_CRL_free(crl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leaf_p256),
		cmocka_unit_test(test_leaf_p384),
		cmocka_unit_test(test_leaf_rsa3072),
		cmocka_unit_test(test_leaf_sm2),
		cmocka_unit_test(test_leaf_without_crl_dp_and_long_name),
		cmocka_unit_test(test_sm2_encryption_leaf_key_usage),
		cmocka_unit_test(test_encryption_leaf_refused_for_non_sm2),
		cmocka_unit_test(test_issuer_for_picks_family),
		cmocka_unit_test(test_crl_p256),
		cmocka_unit_test(test_crl_p384),
		cmocka_unit_test(test_crl_rsa3072),
		cmocka_unit_test(test_crl_sm2),
		cmocka_unit_test(test_crl_refuses_bad_entries),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
