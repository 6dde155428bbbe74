/* scan/scan_trust.c: the scanner's trust store from a bundle indexed by
 * subject. Anchors are parsed only when a chain asks for their name; chains
 * verify as with crypto_trust_load (same name on two keys, a name encoded
 * differently by issuer and anchor); other files go to crypto_trust_load. */
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
#include "scan/scan_int.h"

static char dir[] = "/tmp/aclm-test-scan-trust-XXXXXX";

/* root -> int -> leaf (EC), the root's subject in UTF8String. Also: the root
 * re-signed with the same key and its name in PrintableString (another
 * encoding of the same name, RFC 5280 §7.1), an impostor root of the same
 * name with another key, an unrelated root, and files of other kinds. */
static const char gen_script[] =
	"set -e\n"
	"EC='-algorithm EC -pkeyopt ec_paramgen_curve:P-256'\n"
	"printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign,cRLSign\\n' > ca.ext\n"
	"printf '[req]\\ndistinguished_name=dn\\nstring_mask=utf8only\\n[dn]\\n' > utf8.cnf\n"
	"printf '[req]\\ndistinguished_name=dn\\nstring_mask=default\\n[dn]\\n' > printable.cnf\n"
	"openssl genpkey $EC -out root.key\n"
	"openssl req -config utf8.cnf -new -x509 -key root.key -subj '/C=DE/O=Scan Trust/CN=Scan Root' -days 30"
	" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out root.pem\n"
	"openssl req -config printable.cnf -new -x509 -key root.key -subj '/C=DE/O=Scan Trust/CN=Scan Root'"
	" -days 30 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign"
	" -out root-printable.pem\n"
	/* the two encodings really differ, byte for byte */
	"openssl x509 -in root.pem -noout -subject -nameopt show_type | grep -q 'O=UTF8STRING'\n"
	"openssl x509 -in root-printable.pem -noout -subject -nameopt show_type | grep -q 'O=PRINTABLESTRING'\n"
	"openssl genpkey $EC -out int.key\n"
	"openssl req -config utf8.cnf -new -key int.key -subj /CN=scan-int -out int.csr\n"
	"openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 30"
	" -extfile ca.ext -out int.pem\n"
	"openssl genpkey $EC -out leaf.key\n"
	"openssl req -new -key leaf.key -subj /CN=scan-leaf -out leaf.csr\n"
	"openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -CAcreateserial -days 30 -out leaf.pem\n"
	"openssl genpkey $EC -out evil.key\n"
	"openssl req -config utf8.cnf -new -x509 -key evil.key -subj '/C=DE/O=Scan Trust/CN=Scan Root' -days 30"
	" -addext basicConstraints=critical,CA:TRUE -out evil-root.pem\n"
	"openssl genpkey $EC -out other.key\n"
	"openssl req -new -x509 -key other.key -subj /CN=other-root -days 30 -out other-root.pem\n"
	"for i in 1 2 3 4 5 6 7 8 9 10; do cat other-root.pem; done > many-others.pem\n"
	"{ echo '# a comment between blocks'; cat many-others.pem root.pem; } > bundle.pem\n"
	"cat evil-root.pem root.pem > evil-first.pem\n"
	"cat root.pem evil-root.pem > evil-last.pem\n"
	"cat other-root.pem root-printable.pem > printable-bundle.pem\n"
	"openssl x509 -in root.pem -outform DER -out root.der\n"
	"openssl x509 -in root.pem -addtrust serverAuth -out root-trusted.pem\n"
	"grep -q 'BEGIN TRUSTED CERTIFICATE' root-trusted.pem\n"
	"mkdir rootdir && cp root.pem rootdir/root.pem\n"
	"printf -- '-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n' > corrupt.pem\n"
	"cat root.pem corrupt.pem > root-then-corrupt.pem\n";

static int group_setup(void **state)
{
	char cmd[512];
	struct aclm_err err = { 0 };
	FILE *p;

	(void)state;
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
	return crypto_init(&err) == ACLM_OK ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *path_of(const char *name)
{
	static char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static X509 *load(const char *name)
{
	FILE *f = fopen(path_of(name), "r");
	X509 *x;

	assert_non_null(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(x);
	return x;
}

static int store_count(X509_STORE *store)
{
	return sk_X509_OBJECT_num(X509_STORE_get0_objects(store));
}

/* Verifies leaf <- int against a store from scan__trust_load(bundle). */
static aclm_status verify_with(const char *bundle, X509_STORE **store_out)
{
	X509 *leaf = load("leaf.pem"), *in = load("int.pem");
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509_STORE *store = NULL;
	struct aclm_err err = { 0 };
	aclm_status st;

	assert_non_null(untrusted);
	assert_int_equal(sk_X509_push(untrusted, in), 1);
	assert_int_equal(scan__trust_load(path_of(bundle), &store, &err), ACLM_OK);
	st = crypto_chain_verify(leaf, untrusted, store, 0, NULL, &err);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(leaf);
	if (store_out != NULL)
		*store_out = store;
	else
		X509_STORE_free(store);
	return st;
}

static void bundle_anchor_found_and_only_it_parsed(void **state)
{
	X509_STORE *store = NULL;
	struct aclm_err err = { 0 };

	(void)state;
	/* Nothing is parsed up front ... */
	assert_int_equal(scan__trust_load(path_of("bundle.pem"), &store, &err), ACLM_OK);
	assert_int_equal(store_count(store), 0);
	X509_STORE_free(store);
	/* ... and a verification parses the anchor it needs, not the ten others. */
	assert_int_equal(verify_with("bundle.pem", &store), ACLM_OK);
	assert_int_equal(store_count(store), 1);
	X509_STORE_free(store);
}

static void chain_without_its_anchor_fails(void **state)
{
	(void)state;
	assert_int_equal(verify_with("many-others.pem", NULL), ACLM_ERR_VERIFY);
	assert_int_equal(verify_with("evil-root.pem", NULL), ACLM_ERR_VERIFY);
}

/* Every anchor of the name goes to the store, whatever the order: the
 * impostor shares the root's name but not its key. */
static void same_name_two_keys_in_either_order(void **state)
{
	X509_STORE *store = NULL;

	(void)state;
	assert_int_equal(verify_with("evil-first.pem", &store), ACLM_OK);
	assert_int_equal(store_count(store), 2);
	X509_STORE_free(store);
	assert_int_equal(verify_with("evil-last.pem", &store), ACLM_OK);
	assert_int_equal(store_count(store), 2);
	X509_STORE_free(store);
}

/* The issuer name says UTF8String, the anchor PrintableString: the same
 * name under X509_NAME_cmp, as crypto_trust_load's store finds it. */
static void name_matched_as_openssl_compares_names(void **state)
{
	X509_STORE *eager = NULL;
	X509 *leaf = load("leaf.pem"), *in = load("int.pem");
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	struct aclm_err err = { 0 };

	(void)state;
	assert_int_equal(verify_with("printable-bundle.pem", NULL), ACLM_OK);
	assert_int_equal(crypto_trust_load(path_of("printable-bundle.pem"), &eager, &err), ACLM_OK);
	assert_int_equal(sk_X509_push(untrusted, in), 1);
	assert_int_equal(crypto_chain_verify(leaf, untrusted, eager, 0, NULL, &err), ACLM_OK);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(leaf);
	X509_STORE_free(eager);
}

/* A store serves many verifications; the second finds the anchor in the
 * store (the lookup does not add it twice). */
static void store_serves_repeated_verifications(void **state)
{
	X509 *leaf = load("leaf.pem"), *in = load("int.pem");
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509_STORE *store = NULL;
	struct aclm_err err = { 0 };

	(void)state;
	assert_int_equal(sk_X509_push(untrusted, in), 1);
	assert_int_equal(scan__trust_load(path_of("bundle.pem"), &store, &err), ACLM_OK);
	for (int i = 0; i < 3; i++)
		assert_int_equal(crypto_chain_verify(leaf, untrusted, store, 0, NULL, &err), ACLM_OK);
	assert_int_equal(store_count(store), 1);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(leaf);
	X509_STORE_free(store);
}

/* Verifies leaf <- int against crypto_trust_load(bundle). */
static aclm_status verify_eager(const char *bundle)
{
	X509 *leaf = load("leaf.pem"), *in = load("int.pem");
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509_STORE *store = NULL;
	struct aclm_err err = { 0 };
	aclm_status st;

	assert_non_null(untrusted);
	assert_int_equal(sk_X509_push(untrusted, in), 1);
	assert_int_equal(crypto_trust_load(path_of(bundle), &store, &err), ACLM_OK);
	st = crypto_chain_verify(leaf, untrusted, store, 0, NULL, &err);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(leaf);
	X509_STORE_free(store);
	return st;
}

/* DER, a directory, trusted-certificate blocks (with their trust settings):
 * read whole by crypto_trust_load, so the store holds the anchor at once and
 * judges as before. */
static void other_files_read_as_before(void **state)
{
	static const char *const names[] = { "root.der", "rootdir", "root-trusted.pem" };
	X509_STORE *store = NULL;
	struct aclm_err err = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(scan__trust_load(path_of(names[i]), &store, &err), ACLM_OK);
		assert_int_equal(store_count(store), 1);
		X509_STORE_free(store);
		store = NULL;
		assert_int_equal(verify_with(names[i], NULL), verify_eager(names[i]));
	}
	assert_int_equal(verify_with("root.der", NULL), ACLM_OK);
	assert_int_equal(verify_with("rootdir", NULL), ACLM_OK);
}

/* Errors are crypto_trust_load's: a corrupt block, a missing file. */
static void bad_files_fail_as_before(void **state)
{
	static const char *const names[] = { "corrupt.pem", "root-then-corrupt.pem", "missing.pem" };
	X509_STORE *store = NULL, *eager = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct aclm_err e1 = { 0 }, e2 = { 0 };
		aclm_status st = scan__trust_load(path_of(names[i]), &store, &e1);

		assert_int_not_equal(st, ACLM_OK);
		assert_null(store);
		assert_int_equal(crypto_trust_load(path_of(names[i]), &eager, &e2), st);
		assert_string_equal(e1.msg, e2.msg);
		assert_null(eager);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bundle_anchor_found_and_only_it_parsed),
		cmocka_unit_test(chain_without_its_anchor_fails),
		cmocka_unit_test(same_name_two_keys_in_either_order),
		cmocka_unit_test(name_matched_as_openssl_compares_names),
		cmocka_unit_test(store_serves_repeated_verifications),
		cmocka_unit_test(other_files_read_as_before),
		cmocka_unit_test(bad_files_fail_as_before),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
