/* deploy_run and deploy_lineage on a real inventory (store + keystore):
 * material from the inventory and the keystore, the key loaded only for the
 * targets that write it, results in the store, the previous certificate of
 * each target, and references that do not resolve. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "core/json.h"
#include "deploy/deploy.h"
#include "store/store_deploy.h"
#include "testsupport.h"

struct fx {
	struct ts_home h;
	struct inventory inv;
	int64_t cert[2];
	char fp[2][65];
	char *key_id[2];
	char out[128];
};

/* A self-signed leaf and its key as PEM, imported; its row and fingerprint. */
static void make_cert(struct fx *f, int i)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	BIO *b = BIO_new(BIO_s_mem());
	struct inventory_file_result r = { 0 };
	struct inventory_import_opts o = { 0 };
	struct store_cert *c = NULL;
	char cn[32];
	char *pem;
	long n;

	snprintf(cn, sizeof(cn), "run%d.test", i);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 100 + i);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, key);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
	PEM_write_bio_X509(b, x);
	n = BIO_get_mem_data(b, &pem);
	assert_int_equal(inventory_import_data(&f->inv, (unsigned char *)pem, (size_t)n, cn, &o, &r),
			 ACLM_OK);
	assert_int_equal(r.keys, 1);
	f->cert[i] = (int64_t)strtoll(json_string_value(json_object_get(json_array_get(r.certs, 0), "id")),
				      NULL, 10);
	assert_int_equal(store_cert_get(f->inv.store, f->inv.tenant_id, f->cert[i], &c, &r.err), ACLM_OK);
	memcpy(f->fp[i], c->fingerprint, 65);
	f->key_id[i] = strdup(c->key_id);
	store_cert_free(c);
	json_decref(r.certs);
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void add_target(struct fx *f, const char *name, json_t *options)
{
	struct aclm_err err = { 0 };
	json_t *verify = json_array();
	struct store_target t = { .tenant_id = f->inv.tenant_id, .name = (char *)name, .type = "file",
				  .options = options, .verify = verify, .created_at = 1 };
	int64_t id = 0;

	assert_int_equal(store_target_put(f->inv.store, &t, &id, &err), ACLM_OK);
	json_decref(options);
	json_decref(verify);
}

static void set_lineage(struct fx *f, int64_t cert_id)
{
	struct aclm_err err = { 0 };
	json_t *names = json_pack("[s]", "run.test"), *options = json_object();
	struct store_lineage l = { .tenant_id = f->inv.tenant_id, .name = "lin", .server = "https://acme.test/dir",
				   .names = names, .key_type = "p256", .options = options,
				   .cert_id = cert_id, .created_at = 1, .updated_at = 1 };
	int64_t id = 0;

	assert_int_equal(store_lineage_put(f->inv.store, &l, &id, &err), ACLM_OK);
	json_decref(names);
	json_decref(options);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char p[256];

	if (f == NULL || ts_home_open(&f->h, "deployrun") != 0)
		return -1;
	f->inv = (struct inventory){ .store = f->h.store, .ks = f->h.ks, .tenant_id = f->h.tenant,
				     .tenant = "default", .actor = "test", .max_file_bytes = 1 << 20 };
	make_cert(f, 0);
	make_cert(f, 1);
	snprintf(f->out, sizeof(f->out), "%s/out", f->h.dir);
	snprintf(p, sizeof(p), "mkdir -p %s", f->out);
	assert_int_equal(system(p), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	free(f->key_id[0]);
	free(f->key_id[1]);
	ts_home_close(&f->h);
	free(f);
	return 0;
}

static json_t *options(struct fx *f, const char *k1, const char *name1, const char *k2,
		       const char *name2)
{
	char p1[256], p2[256];

	snprintf(p1, sizeof(p1), "%s/%s", f->out, name1);
	snprintf(p2, sizeof(p2), "%s/%s", f->out, name2 != NULL ? name2 : "");
	return name2 != NULL ? json_pack("{s:s, s:s}", k1, p1, k2, p2) : json_pack("{s:s}", k1, p1);
}

static const char *field(json_t *results, const char *target, const char *key)
{
	size_t i;
	json_t *r;

	json_array_foreach(results, i, r)
		if (strcmp(aclm_json_str(r, "target"), target) == 0)
			return aclm_json_str(r, key);
	fail_msg("no result for %s", target);
	return NULL;
}

static aclm_status count_states(const struct store_deployment *d, void *arg)
{
	strcat(arg, d->target_name);
	strcat(arg, "=");
	strcat(arg, d->state);
	strcat(arg, ";");
	return ACLM_OK;
}

static void test_lineage_deploys_to_bound_targets_and_records(void **state)
{
	struct fx *f = *state;
	struct aclm_err err = { 0 };
	json_t *results = NULL;
	char seen[256] = "";
	struct store_target *t = NULL;

	set_lineage(f, f->cert[0]);
	/* No binding yet: nothing to do. */
	assert_int_equal(deploy_lineage(&f->inv, "lin", &results, &err), ACLM_OK);
	assert_int_equal(json_array_size(results), 0);
	json_decref(results);

	add_target(f, "withkey", options(f, "fullchain_path", "a.pem", "key_path", "a.key"));
	add_target(f, "certonly", options(f, "cert_path", "b.pem", NULL, NULL));
	for (int i = 0; i < 2; i++) {
		assert_int_equal(store_target_get(f->inv.store, f->inv.tenant_id,
						  i == 0 ? "withkey" : "certonly", &t, &err), ACLM_OK);
		assert_int_equal(store_binding_add(f->inv.store, f->inv.tenant_id, "lin", t->id, 1, &err),
				 ACLM_OK);
		store_target_free(t);
	}
	assert_int_equal(deploy_lineage(&f->inv, "lin", &results, &err), ACLM_OK);
	assert_int_equal(json_array_size(results), 2);
	assert_string_equal(field(results, "withkey", "state"), "deployed");
	assert_string_equal(field(results, "certonly", "state"), "deployed");
	assert_string_equal(field(results, "withkey", "fingerprint"), f->fp[0]);
	assert_string_equal(field(results, "withkey", "lineage"), "lin");
	assert_null(field(results, "withkey", "previous_fingerprint"));
	json_decref(results);
	assert_int_equal(store_deployment_latest(f->inv.store, f->inv.tenant_id, "lin", count_states,
						 seen, &err), ACLM_OK);
	assert_string_equal(seen, "certonly=deployed;withkey=deployed;");
	{
		int64_t n = 0;

		assert_int_equal(store_audit_verify(f->inv.store, &n, &err), ACLM_OK);
		assert_true(n >= 2);
	}

	/* Renewed: the new certificate, with the old one as each target's previous. */
	set_lineage(f, f->cert[1]);
	assert_int_equal(deploy_lineage(&f->inv, "lin", &results, &err), ACLM_OK);
	assert_string_equal(field(results, "withkey", "fingerprint"), f->fp[1]);
	assert_string_equal(field(results, "withkey", "previous_fingerprint"), f->fp[0]);
	assert_string_equal(field(results, "certonly", "previous_fingerprint"), f->fp[0]);
	json_decref(results);
}

static void test_key_loaded_only_for_targets_writing_it(void **state)
{
	struct fx *f = *state;
	struct aclm_err err = { 0 };
	const char *const targets[] = { "k", "c" };
	json_t *results = NULL;
	char ref[32];

	add_target(f, "k", options(f, "key_path", "k.key", NULL, NULL));
	add_target(f, "c", options(f, "fullchain_path", "c.pem", NULL, NULL));
	/* The key gone from the keystore: only the target that writes it fails. */
	assert_int_equal(keystore_delete(f->inv.ks, f->inv.tenant_id, f->key_id[0], "test", &err),
			 ACLM_OK);
	snprintf(ref, sizeof(ref), "%lld", (long long)f->cert[0]);
	assert_int_equal(deploy_run(&f->inv, ref, targets, 2, NULL, &results, &err), ACLM_ERR_VERIFY);
	assert_non_null(strstr(err.msg, "1 of 2"));
	assert_string_equal(field(results, "k", "state"), "failed");
	assert_non_null(strstr(field(results, "k", "error"), "not in the keystore"));
	assert_string_equal(field(results, "c", "state"), "deployed");
	json_decref(results);
}

static void test_unresolvable_reference_fails_whole_call(void **state)
{
	struct fx *f = *state;
	struct aclm_err err = { 0 };
	const char *const targets[] = { "nobody" };
	json_t *results = NULL;

	assert_int_equal(deploy_run(&f->inv, "no-such-lineage", targets, 1, NULL, &results, &err),
			 ACLM_ERR_NOTFOUND);
	assert_null(results);
	assert_non_null(strstr(err.msg, "no-such-lineage"));
	assert_int_equal(deploy_run(&f->inv, "x", targets, 0, NULL, &results, &err), ACLM_ERR_INVALID);
}

static void test_dry_run_writes_nothing_and_records_nothing(void **state)
{
	struct fx *f = *state;
	struct aclm_err err = { 0 };
	const char *const targets[] = { "dry", "missing" };
	struct deploy_opts o = { .dry_run = true };
	json_t *results = NULL;
	char ref[32], path[256], seen[256] = "";
	FILE *fp;

	add_target(f, "dry", options(f, "cert_path", "dry.pem", NULL, NULL));
	snprintf(ref, sizeof(ref), "%lld", (long long)f->cert[1]);
	assert_int_equal(deploy_run(&f->inv, ref, targets, 2, &o, &results, &err), ACLM_ERR_VERIFY);
	assert_string_equal(field(results, "dry", "state"), "dry_run");
	assert_string_equal(field(results, "missing", "state"), "failed");
	json_decref(results);
	snprintf(path, sizeof(path), "%s/dry.pem", f->out);
	fp = fopen(path, "r");
	assert_null(fp);
	assert_int_equal(store_deployment_latest(f->inv.store, f->inv.tenant_id, NULL, count_states,
						 seen, &err), ACLM_OK);
	assert_null(strstr(seen, "dry="));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lineage_deploys_to_bound_targets_and_records, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_key_loaded_only_for_targets_writing_it, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unresolvable_reference_fails_whole_call, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_writes_nothing_and_records_nothing, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
