/* scan/scan_save.c without a network: endpoint objects as the engine makes
 * them (facts + chain_der) saved into a temporary home; the status and the
 * inventory.* findings follow the store's history, objects that are not
 * endpoints (or lack chain_der) are refused, nothing served saves nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "core/encode.h"
#include "core/json.h"
#include "core/time.h"
#include "crypto/crypto.h"
#include "inventory/inventory.h"
#include "scan/scan.h"
#include "testsupport.h"

struct fx {
	struct ts_home h;
	struct inventory inv;
	EVP_PKEY *key;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || ts_home_open(&f->h, "scansave") != 0)
		return -1;
	f->inv = (struct inventory){ .store = f->h.store, .ks = f->h.ks, .tenant_id = f->h.tenant,
				     .tenant = "default", .actor = "test", .max_file_bytes = 1 << 20 };
	f->key = EVP_EC_gen("P-256");
	*state = f;
	return f->key != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	EVP_PKEY_free(f->key);
	ts_home_close(&f->h);
	free(f);
	return 0;
}

/* A self-signed leaf for cn (DNS SAN cn) valid from now - 1 day for days. */
static X509 *leaf(struct fx *f, const char *cn, long serial, int days)
{
	X509 *x = X509_new();
	X509V3_CTX ctx;
	char san[300];
	X509_EXTENSION *e;

	assert_non_null(x);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
				   (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	ASN1_TIME_set(X509_getm_notBefore(x), (time_t)(aclm_time_now() - 86400));
	ASN1_TIME_set(X509_getm_notAfter(x), (time_t)(aclm_time_now() + (int64_t)days * 86400));
	X509_set_pubkey(x, f->key);
	snprintf(san, sizeof(san), "DNS:%s", cn);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	e = X509V3_EXT_nconf(NULL, &ctx, "subjectAltName", san);
	assert_non_null(e);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	assert_true(X509_sign(x, f->key, EVP_sha256()) > 0);
	return x;
}

/* The engine's object for 127.0.0.1:port serving x (reachable). */
static json_t *endpoint(X509 *x, int port)
{
	struct aclm_err err = { 0 };
	json_t *facts = NULL, *ep;
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	char *b64 = aclm_base64_encode(der, (size_t)n);

	assert_int_equal(crypto_cert_facts(x, &facts, &err), ACLM_OK);
	ep = json_pack("{s:s, s:s, s:i, s:n, s:b, s:[o], s:[s], s:[]}", "host", "127.0.0.1", "ip",
		       "127.0.0.1", "port", port, "sni", "reachable", 1, "chain", facts, "chain_der", b64,
		       "findings");
	assert_non_null(ep);
	free(b64);
	OPENSSL_free(der);
	return ep;
}

static const char *status_of(const json_t *ep)
{
	return aclm_json_str(json_object_get(ep, "inventory"), "status");
}

static bool has(const json_t *ep, const char *id)
{
	size_t i;
	json_t *f;

	json_array_foreach(json_object_get(ep, "findings"), i, f)
		if (strcmp(aclm_json_str(f, "id"), id) == 0)
			return true;
	return false;
}

static json_t *save(struct fx *f, X509 *x, int port, int64_t run_id)
{
	struct aclm_err err = { 0 };
	json_t *ep = endpoint(x, port);

	assert_int_equal(scan_save_endpoint(&f->inv, run_id, 0, ep, &err), ACLM_OK);
	assert_null(json_object_get(ep, "chain_der"));
	return ep;
}

static void test_ghost_then_known_then_drift(void **state)
{
	struct fx *f = *state;
	struct aclm_err err = { 0 };
	X509 *a = leaf(f, "a.test", 1, 30), *b = leaf(f, "a.test", 2, 60);
	int64_t id = 0;
	json_t *ep;

	ep = save(f, a, 4431, 0);
	assert_string_equal(status_of(ep), "unknown");
	assert_true(has(ep, "inventory.unknown"));
	json_decref(ep);
	/* imported afterwards: known, and no drift (same leaf) */
	assert_int_equal(store_begin(f->h.store, &err), ACLM_OK);
	assert_int_equal(inventory_add_cert(&f->inv, a, &(struct inventory_import_opts){ .source = "import" },
					    &id, &err), ACLM_OK);
	assert_int_equal(store_commit(f->h.store, &err), ACLM_OK);
	ep = save(f, a, 4431, 0);
	assert_string_equal(status_of(ep), "known");
	assert_int_equal(json_array_size(json_object_get(ep, "findings")), 0);
	assert_int_equal(aclm_json_int(json_object_get(ep, "inventory"), "cert_id", 0), id);
	json_decref(ep);
	/* another leaf on the same endpoint: drift (and a ghost) */
	ep = save(f, b, 4431, 0);
	assert_string_equal(status_of(ep), "drift");
	assert_true(has(ep, "inventory.drift"));
	assert_true(has(ep, "inventory.unknown"));
	json_decref(ep);
	X509_free(a);
	X509_free(b);
}

static void test_stale_needs_a_valid_later_renewal(void **state)
{
	struct fx *f = *state;
	struct aclm_err err = { 0 };
	X509 *old = leaf(f, "s.test", 3, 30), *renewal = leaf(f, "s.test", 4, 60);
	X509 *other = leaf(f, "t.test", 5, 90);
	int64_t id = 0;
	json_t *ep;

	assert_int_equal(store_begin(f->h.store, &err), ACLM_OK);
	assert_int_equal(inventory_add_cert(&f->inv, old, &(struct inventory_import_opts){ 0 }, &id, &err), ACLM_OK);
	assert_int_equal(inventory_add_cert(&f->inv, other, &(struct inventory_import_opts){ 0 }, &id, &err), ACLM_OK);
	assert_int_equal(store_commit(f->h.store, &err), ACLM_OK);
	ep = save(f, old, 4432, 0);
	assert_string_equal(status_of(ep), "known"); /* t.test is later but for other names */
	json_decref(ep);
	assert_int_equal(store_begin(f->h.store, &err), ACLM_OK);
	assert_int_equal(inventory_add_cert(&f->inv, renewal, &(struct inventory_import_opts){ 0 }, &id, &err),
			 ACLM_OK);
	assert_int_equal(store_commit(f->h.store, &err), ACLM_OK);
	ep = save(f, old, 4432, 0);
	assert_string_equal(status_of(ep), "stale");
	assert_true(has(ep, "inventory.stale"));
	assert_int_equal(aclm_json_int(json_object_get(ep, "inventory"), "newer_cert_id", 0), id);
	json_decref(ep);
	/* serving the renewal: nothing newer */
	ep = save(f, renewal, 4432, 0);
	assert_false(has(ep, "inventory.stale"));
	json_decref(ep);
	X509_free(old);
	X509_free(renewal);
	X509_free(other);
}

static void test_inconsistent_within_a_run(void **state)
{
	struct fx *f = *state;
	X509 *a = leaf(f, "m.test", 6, 30), *b = leaf(f, "n.test", 7, 30);
	json_t *ep1 = endpoint(a, 4433), *ep2 = endpoint(b, 4433), *ep3;
	struct aclm_err err = { 0 };

	json_object_set_new(ep1, "sni", json_string("m.test"));
	json_object_set_new(ep2, "sni", json_string("n.test"));
	assert_int_equal(scan_save_endpoint(&f->inv, 7, 0, ep1, &err), ACLM_OK);
	assert_int_equal(scan_save_endpoint(&f->inv, 7, 0, ep2, &err), ACLM_OK);
	assert_false(has(ep1, "inventory.inconsistent"));
	assert_true(has(ep2, "inventory.inconsistent"));
	/* run 8 sees only one of them: consistent */
	ep3 = save(f, b, 4433, 8);
	assert_false(has(ep3, "inventory.inconsistent"));
	json_decref(ep1);
	json_decref(ep2);
	json_decref(ep3);
	X509_free(a);
	X509_free(b);
}

static void test_refuses_non_endpoints_and_saves_nothing_unserved(void **state)
{
	struct fx *f = *state;
	struct aclm_err err = { 0 };
	X509 *a = leaf(f, "r.test", 8, 30);
	json_t *ep = endpoint(a, 4434), *bad = json_pack("{s:i}", "port", 443);
	json_t *down = json_pack("{s:s, s:i, s:b, s:[]}", "host", "192.0.2.1", "port", 443, "reachable", 0,
				 "chain");

	assert_int_equal(scan_save_endpoint(&f->inv, 0, 0, bad, &err), ACLM_ERR_INVALID);
	json_object_del(ep, "chain_der");
	assert_int_equal(scan_save_endpoint(&f->inv, 0, 0, ep, &err), ACLM_ERR_INVALID);
	assert_non_null(strstr(err.msg, "keep_der"));
	assert_int_equal(scan_save_endpoint(&f->inv, 0, 0, down, &err), ACLM_OK);
	assert_true(json_is_null(json_object_get(down, "inventory")));
	json_decref(ep);
	json_decref(bad);
	json_decref(down);
	X509_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ghost_then_known_then_drift, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_needs_a_valid_later_renewal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inconsistent_within_a_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_non_endpoints_and_saves_nothing_unserved, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
