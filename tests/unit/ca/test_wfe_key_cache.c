/* ca/: the account key cache shared by the CA's workers (wfe.c): an
 * account's key is built from its JWK once and then handed out as the same
 * object, also while other accounts whose ids fall into the same set are
 * in use (up to WFE_CACHE_WAYS of them), and a new thumbprint (keyChange)
 * gets a new key. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ca/wfe.h"
#include "crypto/key.h"

#define NACCT WFE_CACHE_WAYS

/* The cache's set of an id, as wfe.c computes it (FNV-1a). */
static size_t set_index(const char *id)
{
	uint32_t h = 2166136261u;

	for (const unsigned char *p = (const unsigned char *)id; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return h % (WFE_KEY_CACHE_SLOTS / WFE_CACHE_WAYS);
}

struct acct {
	struct store_ca_account a;
};

/* NACCT accounts whose ids share one set, each with a fresh P-256 key. */
static void colliding_accounts(struct acct *out)
{
	struct aclm_err err = { 0 };
	size_t want = (size_t)-1;
	int n = 0;

	for (int i = 0; n < NACCT && i < 1000000; i++) {
		char id[32];

		snprintf(id, sizeof(id), "acct%d", i);
		if (want == (size_t)-1)
			want = set_index(id);
		if (set_index(id) != want)
			continue;
		EVP_PKEY *key = NULL;
		struct acct *a = &out[n++];

		memset(a, 0, sizeof(*a));
		snprintf(a->a.id, sizeof(a->a.id), "%s", id);
		assert_int_equal(crypto_key_generate(CRYPTO_KEY_P256, &key, &err), ACLM_OK);
		assert_int_equal(acme_jwk_from_pkey(key, &a->a.jwk, &err), ACLM_OK);
		assert_int_equal(acme_jwk_thumbprint(a->a.jwk, a->a.thumbprint, &err), ACLM_OK);
		EVP_PKEY_free(key);
	}
	assert_int_equal(n, NACCT);
}

/* Our reference is kept until the test ends, so that a key built again
 * can never sit at the address of one freed by an eviction. */
static EVP_PKEY *held[64];
static int nheld;

static EVP_PKEY *key_of(struct wfe_worker *w, struct acct *a)
{
	struct aclm_err err = { 0 };
	EVP_PKEY *k = NULL;

	assert_int_equal(wfe_account_key(w, &a->a, &k, &err), ACLM_OK);
	assert_true(nheld < 64);
	held[nheld++] = k;
	return k;
}

static void test_accounts_sharing_a_set_keep_their_keys(void **state)
{
	struct wfe_worker w;
	struct acct accts[NACCT];
	EVP_PKEY *first[NACCT];

	(void)state;
	memset(&w, 0, sizeof(w));
	colliding_accounts(accts);
	for (int i = 0; i < NACCT; i++)
		first[i] = key_of(&w, &accts[i]);
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < NACCT; i++)
			assert_ptr_equal(key_of(&w, &accts[i]), first[i]);
	/* keyChange: another thumbprint is another key */
	snprintf(accts[0].a.thumbprint, sizeof(accts[0].a.thumbprint), "%s", "changed");
	assert_ptr_not_equal(key_of(&w, &accts[0]), first[0]);
	wfe_key_cache_clear(&w);
	for (int i = 0; i < nheld; i++)
		EVP_PKEY_free(held[i]);
	for (int i = 0; i < NACCT; i++)
		json_decref(accts[i].a.jwk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accounts_sharing_a_set_keep_their_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
