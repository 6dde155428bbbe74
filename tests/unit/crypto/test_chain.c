/* crypto/chain.c: trust stores and chain verification for RSA, ECDSA and
 * SM2 chains made by the openssl CLI (each SM2 link checked on its own by
 * the CLI first), failures with depth and reason, verification time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "crypto/chain.h"
#include "crypto/crypto.h"

static char dir[] = "/tmp/aclm-test-chain-XXXXXX";

#define OLD_LEAF_VALID_AT 1590969600 /* 2020-06-01T00:00:00Z, inside old-leaf's validity */

static const char gen_script[] =
	"set -e\n"
	"D=distid:1234567812345678\n"
	"printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign,cRLSign\\n' > ca.ext\n"
	/* chain PREFIX 'GENPKEY ARGS' 'SIGN ARGS' 'CSR CHECK ARGS': root -> int -> leaf */
	"chain() {\n"
	"  p=$1; k=$2; s=$3; v=$4\n"
	"  openssl genpkey $k -out $p-root.key\n"
	"  openssl req -new -x509 -key $p-root.key $s -subj /CN=$p-root -days 30"
	"   -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out $p-root.pem\n"
	"  openssl genpkey $k -out $p-int.key\n"
	"  openssl req -new -key $p-int.key $s -subj /CN=$p-int -out $p-int.csr\n"
	"  openssl x509 -req -in $p-int.csr -CA $p-root.pem -CAkey $p-root.key -CAcreateserial $s $v"
	"   -days 30 -extfile ca.ext -out $p-int.pem\n"
	"  openssl genpkey $k -out $p-leaf.key\n"
	"  openssl req -new -key $p-leaf.key $s -subj /CN=$p-leaf -out $p-leaf.csr\n"
	"  openssl x509 -req -in $p-leaf.csr -CA $p-int.pem -CAkey $p-int.key -CAcreateserial $s $v"
	"   -days 30 -out $p-leaf.pem\n"
	"}\n"
	"chain rsa '-algorithm RSA -pkeyopt rsa_keygen_bits:2048' -sha256 ''\n"
	"chain ec '-algorithm EC -pkeyopt ec_paramgen_curve:P-256' -sha256 ''\n"
	"chain sm2 '-algorithm SM2' \"-sm3 -sigopt $D\" \"-vfyopt $D\"\n"
	"openssl x509 -in sm2-leaf.pem -noout -text | grep -q 'Signature Algorithm: SM2-with-SM3'\n"
	/* every SM2 link verifies on its own (openssl issue 23471: not as a whole chain) */
	"openssl verify -partial_chain -CAfile sm2-root.pem -vfyopt $D sm2-int.pem\n"
	"openssl verify -partial_chain -CAfile sm2-int.pem -vfyopt $D sm2-leaf.pem\n"
	"cat sm2-root.pem sm2-int.pem > sm2-root-int.pem\n"
	/* an impostor root with the same name signs another sm2-int */
	"openssl genpkey -algorithm SM2 -out evil-root.key\n"
	"openssl req -new -x509 -key evil-root.key -sm3 -sigopt $D -subj /CN=sm2-root -days 30"
	" -addext basicConstraints=critical,CA:TRUE -out evil-root.pem\n"
	"openssl x509 -req -in sm2-int.csr -CA evil-root.pem -CAkey evil-root.key -CAcreateserial -sm3"
	" -sigopt $D -vfyopt $D -days 30 -extfile ca.ext -out evil-int.pem\n"
	/* ... and once without authorityKeyIdentifier, so that the chain builds by name */
	"cp ca.ext noakid.ext && echo authorityKeyIdentifier=none >> noakid.ext\n"
	"openssl x509 -req -in sm2-int.csr -CA evil-root.pem -CAkey evil-root.key -CAcreateserial -sm3"
	" -sigopt $D -vfyopt $D -days 30 -extfile noakid.ext -out evil-int-noakid.pem\n"
	"! openssl x509 -in evil-int-noakid.pem -noout -text | grep -q 'Authority Key Identifier'\n"
	/* old-root (2019-2039) -> old-leaf (2020 only), with `openssl ca` for the dates */
	"mkdir ca && cd ca && : > index.txt && echo 01 > serial\n"
	"printf '[ca]\\ndefault_ca=d\\n[d]\\ndir=.\\ndatabase=index.txt\\nnew_certs_dir=.\\nserial=serial\\n"
	"default_md=sha256\\npolicy=p\\nunique_subject=no\\n[p]\\ncommonName=supplied\\n"
	"[v3ca]\\nbasicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign,cRLSign\\n' > ca.cnf\n"
	"openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out old-root.key\n"
	"openssl req -new -key old-root.key -subj /CN=old-root -out old-root.csr\n"
	"openssl ca -batch -config ca.cnf -selfsign -keyfile old-root.key -in old-root.csr"
	" -startdate 20190101000000Z -enddate 20390101000000Z -extensions v3ca -out ../old-root.pem\n"
	"openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out old-leaf.key\n"
	"openssl req -new -key old-leaf.key -subj /CN=old-leaf -out old-leaf.csr\n"
	"openssl ca -batch -config ca.cnf -cert ../old-root.pem -keyfile old-root.key -in old-leaf.csr"
	" -startdate 20200101000000Z -enddate 20210101000000Z -out ../old-leaf.pem\n"
	"cd ..\n"
	/* a trust directory: PEM, DER .cer, .crt, plus files to skip */
	"mkdir trustdir emptydir\n"
	"cp rsa-root.pem trustdir/rsa.pem\n"
	"openssl x509 -in ec-root.pem -outform DER -out trustdir/ec.CER\n"
	"cp sm2-root.pem trustdir/sm2.crt\n"
	"cp rsa-leaf.key trustdir/key.pem\n"
	"echo junk > trustdir/junk.crt\n"
	"echo notes > trustdir/readme.txt\n"
	"cp old-root.pem trustdir/old-root.0\n"
	"mkdir trustdir/sub.pem\n"
	"yes junk | head -c 3000 > garbage.pem\n";

static int group_setup(void **state)
{
	char cmd[512];
	struct aclm_err err = {0};
	FILE *p;

	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "cd '%s' && cat > gen.sh && sh gen.sh > gen.log 2>&1 || { cat gen.log; exit 1; }",
		 dir);
	p = popen(cmd, "w");
	if (p == NULL)
		return -1;
	fputs(gen_script, p);
	if (pclose(p) != 0)
		return -1;
	if (crypto_init(&err) != ACLM_OK)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Fresh objects per test: verification sets SM2 IDs on them. */
static X509 *load(const char *name)
{
	char path[512];
	FILE *f;
	X509 *x;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

static char *path_of(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static X509_STORE *trust_of(const char *root)
{
	X509 *r = load(root);
	X509_STORE *store = NULL;
	struct aclm_err err = {0};

	assert_int_equal(crypto_trust_from_certs(&r, 1, &store, &err), ACLM_OK);
	X509_free(r);
	return store;
}

/* Verifies leaf (with intermediate int, may be NULL) against store; returns
 * the status, the chain length in *depth when OK, and the error in err. */
static aclm_status verify(const char *leaf, const char *inter, X509_STORE *store, int64_t at,
			  int *len, struct aclm_err *err)
{
	X509 *l = load(leaf);
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	STACK_OF(X509) *chain = NULL;
	aclm_status st;

	assert_non_null(untrusted);
	if (inter != NULL)
		assert_true(sk_X509_push(untrusted, load(inter)) > 0);
	aclm_err_clear(err);
	st = crypto_chain_verify(l, untrusted, store, at, &chain, err);
	if (st == ACLM_OK) {
		assert_non_null(chain);
		assert_int_equal(X509_cmp(sk_X509_value(chain, 0), l), 0);
		*len = sk_X509_num(chain);
	} else {
		assert_null(chain);
	}
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(l);
	return st;
}

static void assert_verifies(const char *leaf, const char *inter, X509_STORE *store, int64_t at,
			    int want_len)
{
	struct aclm_err err;
	int len = 0;
	aclm_status st = verify(leaf, inter, store, at, &len, &err);

	if (st != ACLM_OK)
		fail_msg("%s: %s", leaf, err.msg);
	assert_int_equal(len, want_len);
}

static void assert_fails(const char *leaf, const char *inter, X509_STORE *store, int64_t at,
			 const char *want_msg)
{
	struct aclm_err err;
	int len = 0;
	aclm_status st = verify(leaf, inter, store, at, &len, &err);

	assert_int_equal(st, ACLM_ERR_VERIFY);
	if (strstr(err.msg, want_msg) == NULL)
		fail_msg("%s: message \"%s\" lacks \"%s\"", leaf, err.msg, want_msg);
}

/* ---- RSA and ECDSA ---- */

static void rsa_chain_verifies_to_root(void **state)
{
	X509_STORE *store = trust_of("rsa-root.pem");

	assert_verifies("rsa-leaf.pem", "rsa-int.pem", store, 0, 3);
	X509_STORE_free(store);
}

static void ecdsa_chain_verifies_to_root(void **state)
{
	X509_STORE *store = trust_of("ec-root.pem");

	assert_verifies("ec-leaf.pem", "ec-int.pem", store, 0, 3);
	X509_STORE_free(store);
}

static void chain_is_leaf_first_anchor_last(void **state)
{
	X509_STORE *store = trust_of("rsa-root.pem");
	X509 *leaf = load("rsa-leaf.pem"), *root = load("rsa-root.pem");
	STACK_OF(X509) *untrusted = sk_X509_new_null(), *chain = NULL;
	struct aclm_err err = {0};

	sk_X509_push(untrusted, load("rsa-int.pem"));
	assert_int_equal(crypto_chain_verify(leaf, untrusted, store, 0, &chain, &err), ACLM_OK);
	assert_int_equal(sk_X509_num(chain), 3);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 0), leaf), 0);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 1), sk_X509_value(untrusted, 0)), 0);
	assert_int_equal(X509_cmp(sk_X509_value(chain, 2), root), 0);
	/* chain may be NULL */
	assert_int_equal(crypto_chain_verify(leaf, untrusted, store, 0, NULL, &err), ACLM_OK);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(leaf);
	X509_free(root);
	X509_STORE_free(store);
}

static void missing_intermediate_fails_with_depth_subject_and_reason(void **state)
{
	X509_STORE *store = trust_of("rsa-root.pem");

	assert_fails("rsa-leaf.pem", NULL, store, 0,
		     "certificate verify failed at depth 0 (subject CN=rsa-leaf): "
		     "unable to get local issuer certificate");
	X509_STORE_free(store);
	store = trust_of("ec-root.pem");
	assert_fails("rsa-leaf.pem", "rsa-int.pem", store, 0,
		     "certificate verify failed at depth 1 (subject CN=rsa-int): "
		     "unable to get local issuer certificate");
	X509_STORE_free(store);
}

/* ---- SM2 ---- */

/* Control: plain OpenSSL without IDs rejects this chain, so the passing
 * tests below prove that the IDs are set, not that SM2 is lenient. */
static void sm2_chain_fails_in_plain_openssl_without_ids(void **state)
{
	X509_STORE *store = X509_STORE_new();
	X509 *root = load("sm2-root.pem"), *leaf = load("sm2-leaf.pem");
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();

	X509_STORE_add_cert(store, root);
	sk_X509_push(untrusted, load("sm2-int.pem"));
	assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, untrusted), 1);
	assert_int_not_equal(X509_verify_cert(ctx), 1);
	assert_int_equal(X509_STORE_CTX_get_error(ctx), X509_V_ERR_CERT_SIGNATURE_FAILURE);
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(leaf);
	X509_free(root);
	X509_STORE_free(store);
}

static void sm2_three_level_chain_verifies(void **state)
{
	X509_STORE *store = trust_of("sm2-root.pem");

	assert_verifies("sm2-leaf.pem", "sm2-int.pem", store, 0, 3);
	X509_STORE_free(store);
}

/* The intermediate comes from the trust store, so its signature is checked
 * with the ID set on the store's copy. */
static void sm2_intermediate_in_trust_store_verifies(void **state)
{
	X509_STORE *store = NULL;
	struct aclm_err err = {0};

	assert_int_equal(crypto_trust_load(path_of("sm2-root-int.pem"), &store, &err), ACLM_OK);
	assert_verifies("sm2-leaf.pem", NULL, store, 0, 3);
	X509_STORE_free(store);
}

/* X509_V_FLAG_CHECK_SS_SIGNATURE makes OpenSSL check the root's own
 * signature: that needs the ID on the anchor. */
static void sm2_root_self_signature_checks_when_asked(void **state)
{
	X509_STORE *store = trust_of("sm2-root.pem");

	X509_STORE_set_flags(store, X509_V_FLAG_CHECK_SS_SIGNATURE);
	assert_verifies("sm2-leaf.pem", "sm2-int.pem", store, 0, 3);
	X509_STORE_free(store);
}

/* The ID goes on SM2-signed certificates only. */
static void sm2_id_set_on_sm2_certificates_only(void **state)
{
	X509_STORE *store = trust_of("sm2-root.pem");
	X509 *sm2 = load("sm2-leaf.pem"), *rsa = load("rsa-leaf.pem");
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	struct aclm_err err = {0};
	ASN1_OCTET_STRING *id;

	sk_X509_push(untrusted, load("sm2-int.pem"));
	assert_int_equal(crypto_chain_verify(sm2, untrusted, store, 0, NULL, &err), ACLM_OK);
	id = X509_get0_distinguishing_id(sm2);
	assert_non_null(id);
	assert_int_equal(ASN1_STRING_length(id), 16);
	assert_memory_equal(ASN1_STRING_get0_data(id), "1234567812345678", 16);
	assert_non_null(X509_get0_distinguishing_id(sk_X509_value(untrusted, 0)));
	assert_int_equal(crypto_chain_verify(rsa, NULL, store, 0, NULL, &err), ACLM_ERR_VERIFY);
	assert_null(X509_get0_distinguishing_id(rsa));
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(sm2);
	X509_free(rsa);
	X509_STORE_free(store);
}

static void sm2_leaf_with_flipped_signature_byte_fails(void **state)
{
	X509_STORE *store = trust_of("sm2-root.pem");
	X509 *leaf = load("sm2-leaf.pem"), *bad;
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	unsigned char *der = NULL;
	const unsigned char *p;
	struct aclm_err err = {0};
	int len;

	len = i2d_X509(leaf, &der);
	assert_true(len > 0);
	der[len - 1] ^= 0x01; /* the signature BIT STRING ends the certificate */
	p = der;
	bad = d2i_X509(NULL, &p, len);
	assert_non_null(bad);
	sk_X509_push(untrusted, load("sm2-int.pem"));
	assert_int_equal(crypto_chain_verify(bad, untrusted, store, 0, NULL, &err), ACLM_ERR_VERIFY);
	assert_non_null(strstr(err.msg, "at depth 0 (subject CN=sm2-leaf): certificate signature failure"));
	/* the untouched leaf with the same objects verifies */
	assert_int_equal(crypto_chain_verify(leaf, untrusted, store, 0, NULL, &err), ACLM_OK);
	OPENSSL_free(der);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(bad);
	X509_free(leaf);
	X509_STORE_free(store);
}

/* An impostor root with the real root's name signed the intermediate. */
static void sm2_intermediate_signed_by_other_root_fails(void **state)
{
	X509_STORE *store = trust_of("sm2-root.pem");

	/* its authorityKeyIdentifier names the impostor: no chain at all */
	assert_fails("sm2-leaf.pem", "evil-int.pem", store, 0,
		     "at depth 1 (subject CN=sm2-int): unable to get local issuer certificate");
	/* without one the chain builds by name, and the SM2 signature check fails */
	assert_fails("sm2-leaf.pem", "evil-int-noakid.pem", store, 0,
		     "at depth 1 (subject CN=sm2-int): certificate signature failure");
	X509_STORE_free(store);
}

/* ---- time ---- */

static void expired_leaf_fails_now_and_verifies_inside_its_validity(void **state)
{
	X509_STORE *store = trust_of("old-root.pem");

	assert_fails("old-leaf.pem", NULL, store, 0,
		     "at depth 0 (subject CN=old-leaf): certificate has expired");
	assert_verifies("old-leaf.pem", NULL, store, OLD_LEAF_VALID_AT, 2);
	assert_fails("old-leaf.pem", NULL, store, 1546300800 /* 2019-01-01 */,
		     "certificate is not yet valid");
	X509_STORE_free(store);
}

/* ---- trust stores ---- */

static void trust_from_directory_reads_pem_crt_and_der_cer(void **state)
{
	X509_STORE *store = NULL;
	struct aclm_err err = {0};

	assert_int_equal(crypto_trust_load(path_of("trustdir"), &store, &err), ACLM_OK);
	assert_verifies("rsa-leaf.pem", "rsa-int.pem", store, 0, 3);
	assert_verifies("ec-leaf.pem", "ec-int.pem", store, 0, 3); /* DER ec.CER */
	assert_verifies("sm2-leaf.pem", "sm2-int.pem", store, 0, 3);
	/* old-root.0 has no wanted extension: not a trust anchor */
	assert_fails("old-leaf.pem", NULL, store, OLD_LEAF_VALID_AT, "unable to get local issuer certificate");
	X509_STORE_free(store);
}

static void trust_from_bundle_file_verifies(void **state)
{
	X509_STORE *store = NULL;
	struct aclm_err err = {0};

	assert_int_equal(crypto_trust_load(path_of("sm2-root-int.pem"), &store, &err), ACLM_OK);
	assert_verifies("sm2-leaf.pem", "sm2-int.pem", store, 0, 3);
	X509_STORE_free(store);
	/* a DER file is read too */
	assert_int_equal(crypto_trust_load(path_of("trustdir/ec.CER"), &store, &err), ACLM_OK);
	assert_verifies("ec-leaf.pem", "ec-int.pem", store, 0, 3);
	X509_STORE_free(store);
}

static void trust_load_errors(void **state)
{
	X509_STORE *store = (X509_STORE *)&store;
	struct aclm_err err = {0};

	assert_int_equal(crypto_trust_load(path_of("nonexistent"), &store, &err), ACLM_ERR_IO);
	assert_null(store);
	assert_int_equal(crypto_trust_load(path_of("emptydir"), &store, &err), ACLM_ERR_NOTFOUND);
	assert_null(store);
	assert_int_equal(crypto_trust_load(path_of("garbage.pem"), &store, &err), ACLM_ERR_PARSE);
	assert_null(store);
	assert_int_equal(crypto_trust_load(path_of("rsa-leaf.key"), &store, &err), ACLM_ERR_PARSE);
	assert_non_null(strstr(err.msg, "no certificate found"));
	assert_null(store);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rsa_chain_verifies_to_root),
		cmocka_unit_test(ecdsa_chain_verifies_to_root),
		cmocka_unit_test(chain_is_leaf_first_anchor_last),
		cmocka_unit_test(missing_intermediate_fails_with_depth_subject_and_reason),
		cmocka_unit_test(sm2_chain_fails_in_plain_openssl_without_ids),
		cmocka_unit_test(sm2_three_level_chain_verifies),
		cmocka_unit_test(sm2_intermediate_in_trust_store_verifies),
		cmocka_unit_test(sm2_root_self_signature_checks_when_asked),
		cmocka_unit_test(sm2_id_set_on_sm2_certificates_only),
		cmocka_unit_test(sm2_leaf_with_flipped_signature_byte_fails),
		cmocka_unit_test(sm2_intermediate_signed_by_other_root_fails),
		cmocka_unit_test(expired_leaf_fails_now_and_verifies_inside_its_validity),
		cmocka_unit_test(trust_from_directory_reads_pem_crt_and_der_cer),
		cmocka_unit_test(trust_from_bundle_file_verifies),
		cmocka_unit_test(trust_load_errors),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
