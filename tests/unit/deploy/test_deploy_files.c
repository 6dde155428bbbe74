/* deploy/files.c: staged files are invisible until activated, get their
 * mode, restore puts back exactly what was there (or removes what was
 * not), p12 and combined PEM hold what they should, options are checked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "core/json.h"
#include "deploy/deploy_int.h"
#include "testsupport.h"

#define CERT "-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----\n"
#define CHAIN "-----BEGIN CERTIFICATE-----\nINTER\n-----END CERTIFICATE-----\n"
#define KEY "-----BEGIN PRIVATE KEY-----\nSECRET\n-----END PRIVATE KEY-----\n"

static const struct deploy_material fake = {
	.cert_id = 1, .fingerprint = "00", .cert_pem = CERT, .chain_pem = CHAIN,
	.fullchain_pem = CERT CHAIN, .key_pem = KEY,
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 65536);
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static json_t *paths(const char *dir)
{
	char c[512], k[512], cb[512];

	snprintf(c, sizeof(c), "%s/cert.pem", dir);
	snprintf(k, sizeof(k), "%s/key.pem", dir);
	snprintf(cb, sizeof(cb), "%s/combined.pem", dir);
	return json_pack("{s:s, s:s, s:s}", "cert_path", c, "key_path", k, "combined_path", cb);
}

static void test_stage_is_invisible_until_activate_then_restore_puts_back(void **state)
{
	char dir[256], p[512];
	struct aclm_err err = { 0 };
	struct deploy__files *f = NULL;
	json_t *o;
	struct stat st;
	char *text;

	(void)state;
	ts_tmpdir(dir, sizeof(dir), "files");
	o = paths(dir);
	ts_write_file(dir, "cert.pem", "OLD CERT\n");
	snprintf(p, sizeof(p), "%s/cert.pem", dir);
	chmod(p, 0640);
	if (geteuid() == 0)
		assert_int_equal(chown(p, 65534, 65534), 0);
	assert_int_equal(deploy__files_stage(o, &fake, NULL, &f, &err), ACLM_OK);
	text = slurp(p);
	assert_string_equal(text, "OLD CERT\n"); /* staged: nothing live changed */
	free(text);
	assert_int_equal(entries(dir), 4); /* the old file and three temp files */
	assert_int_equal(deploy__files_activate(f, &err), ACLM_OK);
	assert_int_equal(entries(dir), 3);
	text = slurp(p);
	assert_string_equal(text, CERT);
	free(text);
	/* A replaced file keeps its mode and owner. */
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	if (geteuid() == 0)
		assert_int_equal(st.st_uid, 65534);
	snprintf(p, sizeof(p), "%s/key.pem", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600); /* the key defaults to 0600 */
	snprintf(p, sizeof(p), "%s/combined.pem", dir);
	text = slurp(p);
	assert_string_equal(text, CERT CHAIN KEY);
	free(text);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	assert_int_equal(deploy__files_restore(f, &err), ACLM_OK);
	snprintf(p, sizeof(p), "%s/cert.pem", dir);
	text = slurp(p);
	assert_string_equal(text, "OLD CERT\n");
	free(text);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640); /* the old mode too */
	/* key.pem and combined.pem did not exist before: gone again. */
	assert_int_equal(entries(dir), 1);
	deploy__files_free(f);
	json_decref(o);
	ts_rmtree(dir);
}

static void test_free_without_activate_leaves_no_temp_file(void **state)
{
	char dir[256];
	struct aclm_err err = { 0 };
	struct deploy__files *f = NULL;
	json_t *o;

	(void)state;
	ts_tmpdir(dir, sizeof(dir), "files");
	o = paths(dir);
	assert_int_equal(deploy__files_stage(o, &fake, NULL, &f, &err), ACLM_OK);
	assert_int_equal(entries(dir), 3);
	deploy__files_free(f);
	assert_int_equal(entries(dir), 0);
	json_decref(o);
	ts_rmtree(dir);
}

static void test_mode_option_and_missing_directory_reported(void **state)
{
	char dir[256], p[512];
	struct aclm_err err = { 0 };
	struct deploy__files *f = NULL;
	struct stat st;
	json_t *o;

	(void)state;
	ts_tmpdir(dir, sizeof(dir), "files");
	snprintf(p, sizeof(p), "%s/cert.pem", dir);
	o = json_pack("{s:s, s:s}", "cert_path", p, "mode", "0604");
	assert_int_equal(deploy__files_check(o, false, &err), ACLM_OK);
	assert_int_equal(deploy__files_stage(o, &fake, NULL, &f, &err), ACLM_OK);
	assert_int_equal(deploy__files_activate(f, &err), ACLM_OK);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0604);
	deploy__files_free(f);
	json_decref(o);

	snprintf(p, sizeof(p), "%s/gone/cert.pem", dir);
	o = json_pack("{s:s}", "cert_path", p);
	assert_int_equal(deploy__files_check(o, false, &err), ACLM_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "cert_path"));
	assert_int_not_equal(deploy__files_stage(o, &fake, NULL, &f, &err), ACLM_OK);
	assert_null(f);
	assert_non_null(strstr(err.msg, p));
	json_decref(o);

	o = json_pack("{s:s}", "cert_path", "relative.pem");
	assert_int_equal(deploy__files_check(o, false, &err), ACLM_ERR_CONFIG);
	json_decref(o);
	o = json_pack("{s:s, s:s}", "cert_path", "/tmp/x.pem", "mode", "0999");
	assert_int_equal(deploy__files_check(o, false, &err), ACLM_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "mode"));
	json_decref(o);
	o = json_pack("{s:s, s:s}", "cert_path", "/tmp/x.pem", "owner", "no-such-user-aclm");
	assert_int_equal(deploy__files_check(o, false, &err), ACLM_ERR_CONFIG);
	json_decref(o);
	o = json_object();
	assert_int_equal(deploy__files_check(o, false, &err), ACLM_ERR_CONFIG);
	assert_int_equal(deploy__files_check(o, true, &err), ACLM_OK);
	json_decref(o);
	ts_rmtree(dir);
}

static void test_want_key_only_for_key_paths(void **state)
{
	json_t *o = json_pack("{s:s}", "fullchain_path", "/tmp/a");

	(void)state;
	assert_false(deploy__files_want_key(o));
	json_object_set_new(o, "p12_path", json_string("/tmp/b"));
	assert_true(deploy__files_want_key(o));
	json_decref(o);
}

static void test_p12_holds_key_and_chain(void **state)
{
	char dir[256], p[512];
	struct aclm_err err = { 0 };
	struct deploy__files *f = NULL;
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *got_key = NULL;
	X509 *x = X509_new(), *got = NULL;
	STACK_OF(X509) *ca = NULL;
	BIO *b;
	char *cert_pem = NULL, *key_pem = NULL;
	long n;
	struct deploy_material m = fake;
	PKCS12 *p12;
	FILE *fp;
	json_t *o;

	(void)state;
	/* A real self-signed certificate and key for PKCS#12. */
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)"p12.test", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, key);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	n = BIO_get_mem_data(b, &cert_pem);
	cert_pem = strndup(cert_pem, (size_t)n);
	BIO_free(b);
	b = BIO_new(BIO_s_mem());
	PEM_write_bio_PKCS8PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(b, &key_pem);
	key_pem = strndup(key_pem, (size_t)n);
	BIO_free(b);
	m.cert_pem = cert_pem;
	m.chain_pem = "";
	m.fullchain_pem = cert_pem;
	m.key_pem = key_pem;

	ts_tmpdir(dir, sizeof(dir), "files");
	snprintf(p, sizeof(p), "%s/site.p12", dir);
	o = json_pack("{s:s}", "p12_path", p);
	assert_int_equal(deploy__files_stage(o, &m, NULL, &f, &err), ACLM_OK);
	assert_int_equal(deploy__files_activate(f, &err), ACLM_OK);
	fp = fopen(p, "rb");
	assert_non_null(fp);
	p12 = d2i_PKCS12_fp(fp, NULL);
	fclose(fp);
	assert_non_null(p12);
	assert_int_equal(PKCS12_parse(p12, "", &got_key, &got, &ca), 1);
	assert_int_equal(X509_cmp(got, x), 0);
	assert_int_equal(EVP_PKEY_eq(got_key, key), 1);
	PKCS12_free(p12);
	X509_free(got);
	EVP_PKEY_free(got_key);
	sk_X509_pop_free(ca, X509_free);
	deploy__files_free(f);
	json_decref(o);
	free(cert_pem);
	free(key_pem);
	X509_free(x);
	EVP_PKEY_free(key);
	ts_rmtree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stage_is_invisible_until_activate_then_restore_puts_back),
		cmocka_unit_test(test_free_without_activate_leaves_no_temp_file),
		cmocka_unit_test(test_mode_option_and_missing_directory_reported),
		cmocka_unit_test(test_want_key_only_for_key_paths),
		cmocka_unit_test(test_p12_holds_key_and_chain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
