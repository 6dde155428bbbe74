/* ca/: every key type's root and intermediate form a chain that
 * crypto_chain_verify accepts; the root is self-signed, the intermediate
 * has pathlen 0; SM2 is signed SM2-with-SM3 with the standard ID (a plain
 * X509_verify_cert without the ID fails); serials are 16 random octets;
 * ca_init stores rows, refuses duplicates and takes roots offline. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "crypto/crypto.h"
#include "inventory/inventory.h"
#include "keystore/keystore.h"
#include "store/store.h"
#include "testsupport.h"

struct fixture {
	struct ts_home h;
	struct inventory inv;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (ts_home_open(&f->h, "ca") != 0)
		return -1;
	f->inv.store = f->h.store;
	f->inv.ks = f->h.ks;
	f->inv.tenant_id = f->h.tenant;
	f->inv.tenant = "default";
	f->inv.actor = "test";
	f->inv.max_file_bytes = 1 << 20;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = ts_home_close(&f->h);

	free(f);
	return rc;
}

static X509_STORE *trust_of(X509 *root)
{
	X509_STORE *trust = NULL;
	struct aclm_err err = { 0 };

	assert_int_equal(crypto_trust_from_certs(&root, 1, &trust, &err), ACLM_OK);
	return trust;
}

static void check_pair(struct fixture *f, enum crypto_key_type t)
{
	struct ca_pair p = { 0 };
	struct aclm_err err = { 0 };
	STACK_OF(X509) *chain = NULL;
	X509_STORE *trust = NULL;
	BASIC_CONSTRAINTS *bc = NULL;
	EVP_PKEY *pub = NULL;

	assert_int_equal(ca_pair_build(f->h.ks, f->inv.tenant_id, "Test", t, 0, &p, &err), ACLM_OK);
	/* Root: self-signed, CA, key usage for certificates and CRLs, SKI. */
	assert_true(X509_get_extension_flags(p.root) & EXFLAG_SS);
	assert_true(X509_check_ca(p.root) > 0);
	assert_int_equal(X509_get_key_usage(p.root), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
	assert_non_null(X509_get0_subject_key_id(p.root));
	assert_int_equal(X509_get_ext_by_NID(p.root, NID_basic_constraints, -1) >= 0, 1);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(
				 p.root, X509_get_ext_by_NID(p.root, NID_basic_constraints, -1))), 1);
	assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(
				 p.root, X509_get_ext_by_NID(p.root, NID_key_usage, -1))), 1);
	pub = X509_get0_pubkey(p.root);
	assert_true(X509_verify(p.root, pub) == 1 || t == CRYPTO_KEY_SM2);
	/* Intermediate: CA with pathlen 0, AKI = root's SKI. */
	assert_false(X509_get_extension_flags(p.intermediate) & EXFLAG_SS);
	bc = X509_get_ext_d2i(p.intermediate, NID_basic_constraints, NULL, NULL);
	assert_non_null(bc);
	assert_true(bc->ca);
	assert_non_null(bc->pathlen);
	assert_int_equal(ASN1_INTEGER_get(bc->pathlen), 0);
	BASIC_CONSTRAINTS_free(bc);
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(p.intermediate),
					       X509_get0_subject_key_id(p.root)), 0);
	/* Validity: 20 and 10 years. */
	{
		int days = 0, secs = 0;

		assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(p.root),
						X509_get0_notAfter(p.root)), 1);
		assert_int_equal(days, CA_ROOT_DAYS);
		assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(p.intermediate),
						X509_get0_notAfter(p.intermediate)), 1);
		assert_int_equal(days, CA_INTERMEDIATE_DAYS);
	}
	/* The chain verifies through crypto/ (SM2 included). */
	trust = trust_of(p.root);
	assert_int_equal(crypto_chain_verify(p.intermediate, NULL, trust, 0, &chain, &err), ACLM_OK);
	assert_int_equal(sk_X509_num(chain), 2);
	sk_X509_pop_free(chain, X509_free);
	X509_STORE_free(trust);
	/* The keys are in the keystore. */
	assert_int_equal(keystore_exists(f->h.ks, f->inv.tenant_id, p.root_key_id, &err), ACLM_OK);
	assert_int_equal(keystore_exists(f->h.ks, f->inv.tenant_id, p.intermediate_key_id, &err),
			 ACLM_OK);
	ca_pair_clear(&p);
}

static void test_p256_chain_verifies(void **state) { check_pair(*state, CRYPTO_KEY_P256); }
static void test_p384_chain_verifies(void **state) { check_pair(*state, CRYPTO_KEY_P384); }
static void test_rsa3072_chain_verifies(void **state) { check_pair(*state, CRYPTO_KEY_RSA3072); }
static void test_rsa4096_chain_verifies(void **state) { check_pair(*state, CRYPTO_KEY_RSA4096); }
static void test_sm2_chain_verifies(void **state) { check_pair(*state, CRYPTO_KEY_SM2); }

/* Without the ID on the certificates, OpenSSL 3.0 checks SM2 signatures
 * with an empty ID: the chain fails. crypto_chain_verify sets it. */
static void test_sm2_signed_with_standard_id(void **state)
{
	struct fixture *f = *state;
	struct ca_pair p = { 0 };
	struct aclm_err err = { 0 };
	X509_STORE *trust = NULL;
	X509_STORE_CTX *vctx = X509_STORE_CTX_new();

	assert_int_equal(ca_pair_build(f->h.ks, f->inv.tenant_id, "Test", CRYPTO_KEY_SM2, 0, &p,
				       &err), ACLM_OK);
	assert_true(crypto_cert_is_sm2_signed(p.root));
	assert_true(crypto_cert_is_sm2_signed(p.intermediate));
	assert_int_equal(X509_get_signature_nid(p.intermediate), NID_SM2_with_SM3);
	trust = trust_of(p.root);
	assert_int_equal(X509_STORE_CTX_init(vctx, trust, p.intermediate, NULL), 1);
	assert_int_not_equal(X509_verify_cert(vctx), 1);
	X509_STORE_CTX_free(vctx);
	assert_int_equal(crypto_chain_verify(p.intermediate, NULL, trust, 0, NULL, &err), ACLM_OK);
	X509_STORE_free(trust);
	ca_pair_clear(&p);
}

static void test_serials_random_16_octets(void **state)
{
	struct fixture *f = *state;
	struct ca_pair a = { 0 }, b = { 0 };
	struct aclm_err err = { 0 };
	const ASN1_INTEGER *s[4];

	assert_int_equal(ca_pair_build(f->h.ks, f->inv.tenant_id, "A", CRYPTO_KEY_P256, 0, &a,
				       &err), ACLM_OK);
	assert_int_equal(ca_pair_build(f->h.ks, f->inv.tenant_id, "B", CRYPTO_KEY_P256, 0, &b,
				       &err), ACLM_OK);
	s[0] = X509_get0_serialNumber(a.root);
	s[1] = X509_get0_serialNumber(a.intermediate);
	s[2] = X509_get0_serialNumber(b.root);
	s[3] = X509_get0_serialNumber(b.intermediate);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ASN1_STRING_length(s[i]), CA_SERIAL_BYTES);
		assert_int_equal(ASN1_STRING_type(s[i]), V_ASN1_INTEGER); /* positive */
		for (int j = 0; j < i; j++)
			assert_int_not_equal(ASN1_INTEGER_cmp(s[i], s[j]), 0);
	}
	ca_pair_clear(&a);
	ca_pair_clear(&b);
}

static aclm_status count_cb(const struct store_ca *ca, void *arg)
{
	(*(int *)arg)++;
	assert_true(ca->root_cert_id > 0 && ca->intermediate_cert_id > 0);
	return ACLM_OK;
}

static void test_init_stores_and_refuses_duplicates(void **state)
{
	struct fixture *f = *state;
	enum crypto_key_type types[] = { CRYPTO_KEY_P256, CRYPTO_KEY_SM2 };
	struct ca_init_opts o = { .name = "Corp", .types = types, .ntypes = 2 };
	struct aclm_err err = { 0 };
	struct aclm_buf pem;
	json_t *list = NULL;
	int n = 0;

	assert_int_equal(ca_init(&f->inv, &o, &err), ACLM_OK);
	assert_int_equal(store_ca_list(f->h.store, f->inv.tenant_id, "Corp", count_cb, &n, &err),
			 ACLM_OK);
	assert_int_equal(n, 2);
	assert_int_equal(ca_list_json(&f->inv, NULL, &list, &err), ACLM_OK);
	assert_int_equal(json_array_size(list), 2);
	assert_false(json_is_true(json_object_get(json_array_get(list, 0), "offline_root")));
	json_decref(list);
	/* Again, even with one type: nothing new is made. */
	o.ntypes = 1;
	o.types = &types[1];
	assert_int_equal(ca_init(&f->inv, &o, &err), ACLM_ERR_EXISTS);
	assert_non_null(strstr(err.msg, "exists"));
	/* Roots of the only CA without a name; two roots. */
	aclm_buf_init(&pem, 1 << 20);
	assert_int_equal(ca_roots_pem(&f->inv, NULL, &pem, &err), ACLM_OK);
	assert_non_null(memmem(pem.data, pem.len, "BEGIN CERTIFICATE", 17));
	aclm_buf_free(&pem);
	assert_int_equal(ca_roots_pem(&f->inv, "Nope", &pem, &err), ACLM_ERR_NOTFOUND);
	aclm_buf_free(&pem);
}

static void test_offline_root_leaves_keystore(void **state)
{
	struct fixture *f = *state;
	enum crypto_key_type t = CRYPTO_KEY_P256;
	char dir[128], path[192];
	struct ca_init_opts o = { .name = "Off", .types = &t, .ntypes = 1, .offline_root = true,
				  .offline_dir = dir };
	struct aclm_err err = { 0 };
	struct stat sb;
	json_t *list = NULL, *ca;
	struct aclm_buf pem;

	snprintf(dir, sizeof(dir), "%s/ca", f->h.dir);
	snprintf(path, sizeof(path), "%s/Off-p256-root.key", dir);
	assert_int_equal(ca_init(&f->inv, &o, &err), ACLM_OK);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(ca_list_json(&f->inv, "Off", &list, &err), ACLM_OK);
	ca = json_array_get(list, 0);
	assert_true(json_is_true(json_object_get(ca, "offline_root")));
	assert_int_equal(keystore_exists(f->h.ks, f->inv.tenant_id,
					 json_string_value(json_object_get(ca, "root_key_id")), NULL),
			 ACLM_ERR_NOTFOUND);
	assert_int_equal(keystore_exists(f->h.ks, f->inv.tenant_id,
					 json_string_value(json_object_get(ca, "intermediate_key_id")),
					 NULL),
			 ACLM_OK);
	json_decref(list);
	/* A second CA: --ca becomes necessary. */
	aclm_buf_init(&pem, 1 << 20);
	o.name = "Other";
	o.offline_root = false;
	assert_int_equal(ca_init(&f->inv, &o, &err), ACLM_OK);
	assert_int_equal(ca_roots_pem(&f->inv, NULL, &pem, &err), ACLM_ERR_AMBIGUOUS);
	aclm_buf_free(&pem);
}

static void test_name_rules(void **state)
{
	(void)state;
	assert_int_equal(ca_name_check("Corp CA-1.x_y", NULL), ACLM_OK);
	assert_int_equal(ca_name_check("", NULL), ACLM_ERR_INVALID);
	assert_int_equal(ca_name_check("../x", NULL), ACLM_ERR_INVALID);
	assert_int_equal(ca_name_check("a/b", NULL), ACLM_ERR_INVALID);
	assert_int_equal(ca_name_check("-x", NULL), ACLM_ERR_INVALID);
	assert_int_equal(ca_name_check("0123456789012345678901234567890123456789x", NULL),
			 ACLM_ERR_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_p256_chain_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_p384_chain_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsa3072_chain_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rsa4096_chain_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sm2_chain_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sm2_signed_with_standard_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serials_random_16_octets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_stores_and_refuses_duplicates, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_offline_root_leaves_keystore, setup, teardown),
		cmocka_unit_test(test_name_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
