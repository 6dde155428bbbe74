/* crypto/bundle.c and crypto_init: PEM, DER and PKCS#12 inputs made by the
 * openssl CLI in a temporary directory, key pairing (RSA, EC, SM2), password
 * handling, the legacy provider, and the rejection of damaged input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/provider.h>
#include <openssl/x509.h>

#include "crypto/bundle.h"
#include "crypto/crypto.h"

static char dir[] = "/tmp/aclm-test-bundle-XXXXXX";

/* Every input of the tests below. */
static const char gen_script[] =
	"set -e\n"
	"D=distid:1234567812345678\n"
	"printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign,cRLSign\\n' > ca.ext\n"
	/* RSA root -> intermediate -> leaf */
	"openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -subj /CN=rsa-root -days 30 -out root.pem\n"
	"openssl req -newkey rsa:2048 -nodes -keyout int.key -subj /CN=rsa-int -out int.csr\n"
	"openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 30 -extfile ca.ext -out int.pem\n"
	"openssl req -newkey rsa:2048 -nodes -keyout leaf.key -subj /CN=rsa-leaf -out leaf.csr\n"
	"openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -CAcreateserial -days 30 -out leaf.pem\n"
	"openssl ecparam -name prime256v1 -out params.pem\n"
	"cat root.pem leaf.key params.pem int.pem leaf.pem > shuffled.pem\n"
	"sed 's/$/\\r/' shuffled.pem > crlf.pem\n"
	"cat int.pem root.pem > chain.pem\n"
	"openssl x509 -in root.pem -addtrust serverAuth -out root-trusted.pem\n"
	"grep -q 'BEGIN TRUSTED CERTIFICATE' root-trusted.pem\n"
	"cat root-trusted.pem leaf.pem > trusted-bundle.pem\n"
	/* EC P-256 leaf; ecparam writes EC PARAMETERS + EC PRIVATE KEY (SEC1) */
	"openssl ecparam -name prime256v1 -genkey -out ec.key\n"
	"openssl req -new -key ec.key -subj /CN=ec-leaf -out ec.csr\n"
	"openssl x509 -req -in ec.csr -CA int.pem -CAkey int.key -CAcreateserial -days 30 -out ec.pem\n"
	"cat int.pem ec.key ec.pem leaf.key > ec-bundle.pem\n"
	/* SM2 root -> leaf, keys as PKCS#8 and as `openssl ec`'s "SM2 PRIVATE KEY" */
	"openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:SM2 -out sm2root.key\n"
	"openssl req -new -x509 -key sm2root.key -sm3 -sigopt $D -subj /CN=sm2-root -days 30"
	" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out sm2root.pem\n"
	"openssl genpkey -algorithm SM2 -out sm2leaf.key\n"
	"openssl req -new -key sm2leaf.key -sm3 -sigopt $D -subj /CN=sm2-leaf -out sm2leaf.csr\n"
	"openssl x509 -req -in sm2leaf.csr -CA sm2root.pem -CAkey sm2root.key -CAcreateserial -sm3"
	" -sigopt $D -vfyopt $D -days 30 -out sm2leaf.pem\n"
	"openssl ec -in sm2leaf.key -out sm2leaf.sec1\n"
	"grep -q 'BEGIN SM2 PRIVATE KEY' sm2leaf.sec1\n"
	"cat sm2root.pem sm2leaf.key sm2leaf.pem > sm2-p8.pem\n"
	"cat sm2leaf.sec1 sm2root.pem sm2leaf.pem > sm2-sec1.pem\n"
	"cat sm2root.pem sm2leaf.key sm2root.key sm2leaf.pem > sm2-two-keys.pem\n"
	/* DER */
	"openssl x509 -in leaf.pem -outform DER -out leaf.der\n"
	"cp leaf.der leaf-trailing.der && printf X >> leaf-trailing.der\n"
	/* PKCS#12: modern (AES, PBKDF2), legacy (RC2 + 3DES), empty password, SM2 */
	"openssl pkcs12 -export -inkey leaf.key -in leaf.pem -certfile chain.pem -passout pass:secret -out modern.p12\n"
	"openssl pkcs12 -export -legacy -inkey leaf.key -in leaf.pem -certfile chain.pem -passout pass:secret -out legacy.p12\n"
	"openssl pkcs12 -info -noout -legacy -in legacy.p12 -passin pass:secret > legacy.info 2>&1\n"
	"grep -q 'pbeWithSHA1And40BitRC2-CBC' legacy.info\n"
	"grep -q 'pbeWithSHA1And3-KeyTripleDES-CBC' legacy.info\n"
	"openssl pkcs12 -export -inkey leaf.key -in leaf.pem -passout pass: -out empty.p12\n"
	"openssl pkcs12 -export -iter 1000001 -inkey leaf.key -in leaf.pem -passout pass:secret -out slow.p12\n"
	"openssl pkcs12 -export -inkey sm2leaf.key -in sm2leaf.pem -certfile sm2root.pem -passout pass:secret -out sm2.p12\n"
	/* encrypted keys: PKCS#8 and traditional with Proc-Type/DEK-Info */
	"openssl pkey -in leaf.key -aes256 -passout pass:pw -out leaf-enc.key\n"
	"grep -q 'BEGIN ENCRYPTED PRIVATE KEY' leaf-enc.key\n"
	"cat leaf.pem leaf-enc.key > enc-p8.pem\n"
	"openssl rsa -in leaf.key -traditional -des3 -passout pass:pw -out leaf-trad-enc.key\n"
	"grep -q 'Proc-Type: 4,ENCRYPTED' leaf-trad-enc.key\n"
	"cat leaf-trad-enc.key leaf.pem > enc-trad.pem\n"
	"mkdir nomodules\n";

static int group_setup(void **state)
{
	char cmd[512];
	struct aclm_err err = {0};

	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "cd '%s' && cat > gen.sh && sh gen.sh > gen.log 2>&1 || { cat gen.log; exit 1; }",
		 dir);
	FILE *p = popen(cmd, "w");
	if (p == NULL)
		return -1;
	fputs(gen_script, p);
	if (pclose(p) != 0)
		return -1;
	if (crypto_init(&err) != ACLM_OK) {
		fprintf(stderr, "crypto_init: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static unsigned char *slurp(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	unsigned char *data;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)n + 1);
	if (data != NULL && fread(data, 1, (size_t)n, f) != (size_t)n) {
		free(data);
		data = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return data;
}

/* Parses a file and checks the status; returns the bundle (NULL on error). */
static struct crypto_bundle *parse_mem(const unsigned char *data, size_t len, const char *pw,
				       aclm_status want, struct aclm_err *err)
{
	struct crypto_bundle *b = (struct crypto_bundle *)&b; /* poison: must become NULL on error */
	aclm_status st;

	aclm_err_clear(err);
	st = crypto_bundle_parse(data, len, pw, &b, err);
	if (st != want)
		fail_msg("status %s, want %s: %s", aclm_status_name(st), aclm_status_name(want), err->msg);
	if (st != ACLM_OK)
		assert_null(b);
	else
		assert_non_null(b);
	return b;
}

static struct crypto_bundle *parse_file(const char *name, const char *pw, aclm_status want,
					struct aclm_err *err)
{
	size_t len = 0;
	unsigned char *data = slurp(name, &len);
	struct crypto_bundle *b;

	assert_non_null(data);
	b = parse_mem(data, len, pw, want, err);
	free(data);
	return b;
}

static void assert_cn(X509 *x, const char *cn)
{
	char buf[256];

	assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, cn);
}

/* The one certificate with a key; it must be the one named cn. */
static void assert_only_paired(const struct crypto_bundle *b, const char *cn)
{
	size_t i, paired = 0;

	for (i = 0; i < b->ncerts; i++) {
		if (b->cert_key[i] < 0)
			continue;
		paired++;
		assert_true(b->cert_key[i] < (long)b->nkeys);
		assert_cn(b->certs[i], cn);
	}
	assert_int_equal(paired, 1);
}

/* ---- PEM ---- */

static void pem_shuffled_bundle_pairs_key_with_leaf_not_cas(void **state)
{
	struct aclm_err err;
	struct crypto_bundle *b = parse_file("shuffled.pem", NULL, ACLM_OK, &err);

	assert_int_equal(b->format, CRYPTO_FMT_PEM);
	assert_int_equal(b->ncerts, 3);
	assert_cn(b->certs[0], "rsa-root"); /* input order */
	assert_cn(b->certs[1], "rsa-int");
	assert_cn(b->certs[2], "rsa-leaf");
	assert_int_equal(b->nkeys, 1);
	assert_int_equal(b->cert_key[0], -1);
	assert_int_equal(b->cert_key[1], -1);
	assert_int_equal(b->cert_key[2], 0);
	assert_int_equal(b->nskipped, 1); /* EC PARAMETERS */
	crypto_bundle_free(b);
}

static void pem_crlf_line_endings_parse(void **state)
{
	struct aclm_err err;
	struct crypto_bundle *b = parse_file("crlf.pem", NULL, ACLM_OK, &err);

	assert_int_equal(b->ncerts, 3);
	assert_int_equal(b->nkeys, 1);
	assert_int_equal(b->cert_key[2], 0);
	crypto_bundle_free(b);
}

static void pem_ec_key_pairs_ec_cert_among_two_keys(void **state)
{
	struct aclm_err err;
	struct crypto_bundle *b = parse_file("ec-bundle.pem", NULL, ACLM_OK, &err);

	assert_int_equal(b->ncerts, 2);
	assert_int_equal(b->nkeys, 2);
	assert_true(EVP_PKEY_is_a(b->keys[0], "EC"));
	assert_true(EVP_PKEY_is_a(b->keys[1], "RSA"));
	assert_int_equal(b->cert_key[0], -1); /* rsa-int: neither key */
	assert_int_equal(b->cert_key[1], 0);  /* ec-leaf: the EC key */
	assert_int_equal(b->nskipped, 1);     /* EC PARAMETERS */
	crypto_bundle_free(b);
}

static void pem_sm2_pkcs8_key_pairs_sm2_leaf(void **state)
{
	struct aclm_err err;
	struct crypto_bundle *b = parse_file("sm2-p8.pem", NULL, ACLM_OK, &err);

	assert_int_equal(b->ncerts, 2);
	assert_int_equal(b->nkeys, 1);
	assert_int_equal(b->cert_key[0], -1);
	assert_int_equal(b->cert_key[1], 0);
	crypto_bundle_free(b);
}

static void pem_sm2_sec1_key_block_is_read_and_paired(void **state)
{
	struct aclm_err err;
	struct crypto_bundle *b = parse_file("sm2-sec1.pem", NULL, ACLM_OK, &err);

	assert_int_equal(b->nkeys, 1);
	assert_int_equal(b->cert_key[1], 0);
	crypto_bundle_free(b);
}

static void pem_sm2_two_keys_pair_with_their_own_certs(void **state)
{
	struct aclm_err err;
	struct crypto_bundle *b = parse_file("sm2-two-keys.pem", NULL, ACLM_OK, &err);

	assert_int_equal(b->ncerts, 2);
	assert_int_equal(b->nkeys, 2);
	assert_int_equal(b->cert_key[0], 1); /* sm2-root <- sm2root.key */
	assert_int_equal(b->cert_key[1], 0); /* sm2-leaf <- sm2leaf.key */
	crypto_bundle_free(b);
}

/* OpenSSL's TRUSTED CERTIFICATE: the certificate plus trust settings. */
static void pem_trusted_certificate_block_is_read(void **state)
{
	struct aclm_err err;
	struct crypto_bundle *b = parse_file("trusted-bundle.pem", NULL, ACLM_OK, &err);

	assert_int_equal(b->ncerts, 2);
	assert_cn(b->certs[0], "rsa-root");
	assert_cn(b->certs[1], "rsa-leaf");
	assert_int_equal(b->nskipped, 0);
	crypto_bundle_free(b);
}

static void pem_encrypted_pkcs8_key_needs_the_password(void **state)
{
	struct aclm_err err;
	struct crypto_bundle *b;

	parse_file("enc-p8.pem", NULL, ACLM_ERR_PASSWORD, &err);
	assert_string_equal(err.msg, "private key is encrypted; give a password");
	parse_file("enc-p8.pem", "wrong", ACLM_ERR_PASSWORD, &err);
	b = parse_file("enc-p8.pem", "pw", ACLM_OK, &err);
	assert_int_equal(b->nkeys, 1);
	assert_int_equal(b->cert_key[0], 0);
	crypto_bundle_free(b);
}

static void pem_encrypted_traditional_key_needs_the_password(void **state)
{
	struct aclm_err err;
	struct crypto_bundle *b;

	parse_file("enc-trad.pem", NULL, ACLM_ERR_PASSWORD, &err);
	assert_string_equal(err.msg, "private key is encrypted; give a password");
	parse_file("enc-trad.pem", "wrong", ACLM_ERR_PASSWORD, &err);
	b = parse_file("enc-trad.pem", "pw", ACLM_OK, &err);
	assert_int_equal(b->nkeys, 1);
	assert_int_equal(b->cert_key[0], 0);
	crypto_bundle_free(b);
}

static void pem_with_only_a_key_has_no_certificate(void **state)
{
	struct aclm_err err;

	parse_file("leaf.key", NULL, ACLM_ERR_PARSE, &err);
	assert_non_null(strstr(err.msg, "no certificate found"));
}

/* Cuts chain.pem (intermediate, root) in the middle of the second block. */
static void pem_truncated_in_a_block_names_the_block(void **state)
{
	struct aclm_err err;
	size_t len = 0;
	unsigned char *data = slurp("chain.pem", &len);
	const char *second;

	assert_non_null(data);
	data[len] = '\0';
	second = strstr(strstr((char *)data, "-----END") + 1, "-----BEGIN ");
	assert_non_null(second);
	parse_mem(data, (size_t)(second - (char *)data) + 200, NULL, ACLM_ERR_PARSE, &err);
	assert_non_null(strstr(err.msg, "truncated or corrupt PEM block 2 (CERTIFICATE)"));
	/* BEGIN line only */
	parse_mem(data, (size_t)(second - (char *)data) + 28, NULL, ACLM_ERR_PARSE, &err);
	assert_non_null(strstr(err.msg, "truncated or corrupt PEM block 2 (CERTIFICATE)"));
	free(data);
}

static void pem_bad_base64_is_parse_error(void **state)
{
	struct aclm_err err;
	size_t len = 0;
	unsigned char *data = slurp("leaf.pem", &len);

	assert_non_null(data);
	data[len / 2] = '*';
	parse_mem(data, len, NULL, ACLM_ERR_PARSE, &err);
	assert_non_null(strstr(err.msg, "truncated or corrupt PEM block 1 (CERTIFICATE)"));
	free(data);
}

static void pem_more_keys_than_the_cap_is_toobig(void **state)
{
	struct aclm_err err;
	size_t klen = 0, clen = 0, i, off = 0;
	unsigned char *key = slurp("ec.key", &klen);
	unsigned char *cert = slurp("ec.pem", &clen);
	unsigned char *data = malloc(clen + klen * (CRYPTO_BUNDLE_MAX_KEYS + 1));

	assert_non_null(key);
	assert_non_null(cert);
	assert_non_null(data);
	memcpy(data, cert, clen);
	off = clen;
	for (i = 0; i < CRYPTO_BUNDLE_MAX_KEYS; i++, off += klen)
		memcpy(data + off, key, klen);
	/* exactly at the cap: fine */
	crypto_bundle_free(parse_mem(data, off, NULL, ACLM_OK, &err));
	memcpy(data + off, key, klen);
	off += klen;
	parse_mem(data, off, NULL, ACLM_ERR_TOOBIG, &err);
	free(data);
	free(key);
	free(cert);
}

/* ---- DER ---- */

static void der_certificate_is_read(void **state)
{
	struct aclm_err err;
	struct crypto_bundle *b = parse_file("leaf.der", NULL, ACLM_OK, &err);

	assert_int_equal(b->format, CRYPTO_FMT_DER);
	assert_int_equal(b->ncerts, 1);
	assert_int_equal(b->nkeys, 0);
	assert_int_equal(b->cert_key[0], -1);
	assert_cn(b->certs[0], "rsa-leaf");
	crypto_bundle_free(b);
}

static void der_with_trailing_byte_is_rejected(void **state)
{
	struct aclm_err err;

	parse_file("leaf-trailing.der", NULL, ACLM_ERR_PARSE, &err);
}

/* ---- PKCS#12 ---- */

static void check_leaf_p12(const char *name, const char *pw)
{
	struct aclm_err err;
	struct crypto_bundle *b = parse_file(name, pw, ACLM_OK, &err);

	assert_int_equal(b->format, CRYPTO_FMT_PKCS12);
	assert_int_equal(b->ncerts, 3);
	assert_int_equal(b->nkeys, 1);
	assert_only_paired(b, "rsa-leaf");
	crypto_bundle_free(b);
}

static void p12_modern_with_password_loads(void **state)
{
	check_leaf_p12("modern.p12", "secret");
}

/* RC2-40 certificates: loads only with the legacy provider. */
static void p12_legacy_rc2_3des_with_password_loads(void **state)
{
	check_leaf_p12("legacy.p12", "secret");
}

/* Key-derivation rounds are capped: a hostile file cannot stall an import. */
static void p12_iteration_count_over_cap_is_refused(void **state)
{
	struct aclm_err err;

	parse_file("slow.p12", "secret", ACLM_ERR_TOOBIG, &err);
	assert_non_null(strstr(err.msg, "iteration count 1000001"));
}

static void p12_empty_password_loads_without_password(void **state)
{
	struct aclm_err err;
	struct crypto_bundle *b = parse_file("empty.p12", NULL, ACLM_OK, &err);

	assert_int_equal(b->ncerts, 1);
	assert_int_equal(b->cert_key[0], 0);
	crypto_bundle_free(b);
	/* the empty password is tried first, whatever the caller gives */
	crypto_bundle_free(parse_file("empty.p12", "unused", ACLM_OK, &err));
}

static void p12_missing_or_wrong_password_is_password_error(void **state)
{
	struct aclm_err err;

	parse_file("modern.p12", NULL, ACLM_ERR_PASSWORD, &err);
	assert_non_null(strstr(err.msg, "give a password"));
	parse_file("modern.p12", "wrong", ACLM_ERR_PASSWORD, &err);
	assert_non_null(strstr(err.msg, "wrong password"));
	parse_file("legacy.p12", NULL, ACLM_ERR_PASSWORD, &err);
	parse_file("legacy.p12", "wrong", ACLM_ERR_PASSWORD, &err);
}

static void p12_sm2_key_pairs_sm2_leaf(void **state)
{
	struct aclm_err err;
	struct crypto_bundle *b = parse_file("sm2.p12", "secret", ACLM_OK, &err);

	assert_int_equal(b->ncerts, 2);
	assert_int_equal(b->nkeys, 1);
	assert_only_paired(b, "sm2-leaf");
	crypto_bundle_free(b);
}

static void p12_damaged_mac_region_is_an_error(void **state)
{
	struct aclm_err err;
	size_t len = 0;
	unsigned char *data = slurp("modern.p12", &len);

	assert_non_null(data);
	data[len / 2] ^= 0x01; /* inside the authenticated contents */
	parse_mem(data, len, "secret", ACLM_ERR_PASSWORD, &err);
	free(data);
}

/* Runs in a child started with OPENSSL_MODULES pointing at an empty
 * directory: crypto_init must still succeed, modern files must load, and
 * the legacy file must fail saying why. */
static int no_legacy_child(void)
{
	struct aclm_err err = {0};
	struct crypto_bundle *b = NULL;
	unsigned char *data;
	size_t len = 0;
	int rc = 0;

	if (crypto_init(&err) != ACLM_OK)
		return 2;
	if (OSSL_PROVIDER_available(NULL, "legacy"))
		return 3; /* the environment did not hide the provider: test is void */
	data = slurp("legacy.p12", &len);
	if (crypto_bundle_parse(data, len, "secret", &b, &err) != ACLM_ERR_UNSUPPORTED ||
	    strstr(err.msg, "legacy provider is unavailable") == NULL) {
		fprintf(stderr, "legacy.p12 without the legacy provider: %s\n", err.msg);
		rc = 4;
	}
	free(data);
	data = slurp("modern.p12", &len);
	if (crypto_bundle_parse(data, len, "secret", &b, &err) != ACLM_OK) {
		fprintf(stderr, "modern.p12 without the legacy provider: %s\n", err.msg);
		rc = 5;
	}
	crypto_bundle_free(b);
	free(data);
	return rc;
}

static void p12_legacy_without_provider_says_so(void **state)
{
	char modules[512];
	int status = 0;
	pid_t pid;

	snprintf(modules, sizeof(modules), "%s/nomodules", dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("OPENSSL_MODULES", modules, 1);
		execl("/proc/self/exe", "test_bundle", "--no-legacy-child", dir, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- garbage ---- */

static void garbage_bytes_are_parse_error(void **state)
{
	struct aclm_err err;
	unsigned char junk[4096];
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 37 + 11);
	parse_mem(junk, sizeof(junk), NULL, ACLM_ERR_PARSE, &err);
	parse_mem(junk, sizeof(junk), "secret", ACLM_ERR_PARSE, &err);
	junk[0] = 0x30; /* looks like a DER SEQUENCE */
	junk[1] = 0x82;
	parse_mem(junk, sizeof(junk), NULL, ACLM_ERR_PARSE, &err);
	parse_mem((const unsigned char *)"-----BEGIN nothing", 18, NULL, ACLM_ERR_PARSE, &err);
}

static void empty_input_is_parse_error(void **state)
{
	struct aclm_err err;

	parse_mem(NULL, 0, NULL, ACLM_ERR_PARSE, &err);
	parse_mem((const unsigned char *)"", 0, NULL, ACLM_ERR_PARSE, &err);
	assert_string_equal(err.msg, "empty input");
}

/* Fuzzer find: a stray byte after a BEGIN line made our block scan and
 * PEM_read_bio disagree on where the block starts; the key text length went
 * negative and was read as a NUL-terminated string past the input. */
static void pem_begin_line_with_trailing_byte_is_parse_error(void **state)
{
	static const char input[] = "-----BEGIN PRIVATE KEY-----\xb0\nMIID\n-----END PRIVATE KEY-----\n"
				    "\n-----BEGIN -----";
	unsigned char *copy = malloc(sizeof(input) - 1); /* no NUL after it: ASan sees over-reads */
	struct aclm_err err;

	(void)state;
	assert_non_null(copy);
	memcpy(copy, input, sizeof(input) - 1);
	parse_mem(copy, sizeof(input) - 1, NULL, ACLM_ERR_PARSE, &err);
	free(copy);
}

static void crypto_init_is_idempotent(void **state)
{
	struct aclm_err err = {0};

	assert_int_equal(crypto_init(&err), ACLM_OK);
	assert_int_equal(crypto_init(&err), ACLM_OK);
	assert_true(OSSL_PROVIDER_available(NULL, "legacy"));
	assert_true(OSSL_PROVIDER_available(NULL, "default"));
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crypto_init_is_idempotent),
		cmocka_unit_test(pem_shuffled_bundle_pairs_key_with_leaf_not_cas),
		cmocka_unit_test(pem_crlf_line_endings_parse),
		cmocka_unit_test(pem_ec_key_pairs_ec_cert_among_two_keys),
		cmocka_unit_test(pem_sm2_pkcs8_key_pairs_sm2_leaf),
		cmocka_unit_test(pem_sm2_sec1_key_block_is_read_and_paired),
		cmocka_unit_test(pem_sm2_two_keys_pair_with_their_own_certs),
		cmocka_unit_test(pem_trusted_certificate_block_is_read),
		cmocka_unit_test(pem_encrypted_pkcs8_key_needs_the_password),
		cmocka_unit_test(pem_encrypted_traditional_key_needs_the_password),
		cmocka_unit_test(pem_with_only_a_key_has_no_certificate),
		cmocka_unit_test(pem_truncated_in_a_block_names_the_block),
		cmocka_unit_test(pem_bad_base64_is_parse_error),
		cmocka_unit_test(pem_more_keys_than_the_cap_is_toobig),
		cmocka_unit_test(der_certificate_is_read),
		cmocka_unit_test(der_with_trailing_byte_is_rejected),
		cmocka_unit_test(p12_modern_with_password_loads),
		cmocka_unit_test(p12_legacy_rc2_3des_with_password_loads),
		cmocka_unit_test(p12_empty_password_loads_without_password),
		cmocka_unit_test(p12_missing_or_wrong_password_is_password_error),
		cmocka_unit_test(p12_sm2_key_pairs_sm2_leaf),
		cmocka_unit_test(p12_damaged_mac_region_is_an_error),
		cmocka_unit_test(p12_legacy_without_provider_says_so),
		cmocka_unit_test(garbage_bytes_are_parse_error),
		cmocka_unit_test(empty_input_is_parse_error),
		cmocka_unit_test(p12_iteration_count_over_cap_is_refused),
		cmocka_unit_test(pem_begin_line_with_trailing_byte_is_parse_error),
	};

	if (argc == 3 && strcmp(argv[1], "--no-legacy-child") == 0) {
		snprintf(dir, sizeof(dir), "%s", argv[2]);
		return no_legacy_child();
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
