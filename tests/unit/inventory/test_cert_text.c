/* inventory/cert_text: the certificate JSON written from the store's text
 * (stored_json listings) is byte for byte the object inventory_cert_json
 * builds, for a zoo of certificates (RSA, P-256, SM2, CA and self-signed,
 * UTF-8 names, keys, owners, sources, tags) and for stored JSON that is not
 * in the store's own form (which must take the parsing path). Also: the
 * defaults of a row without sources or tags do not leak (ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/x509v3.h>

#include "core/json.h"
#include "core/time.h"
#include "crypto/cert.h"
#include "crypto/key.h"
#include "inventory/inventory.h"
#include "inventory/inventory_int.h"
#include "keystore/keystore.h"
#include "store/store.h"
#include "testsupport.h"

#define NOW 1800000000 /* 2027-01-15 */
#define ZOO_MAX 16

/* A tenant name that needs escaping: the contract prints it as given. */
static const char tenant_name[] = "t\"e\\n\x01nt \xe2\x9c\x93";

struct zoo_cert {
	const char *cn;            /* subject CN (UTF-8) */
	enum crypto_key_type key;
	int issuer;                /* index of its issuer in the zoo, or -1: self-signed */
	bool ca;
	const char *sans;          /* subjectAltName value or NULL */
	long days_before, days_after; /* validity around NOW */
};

static const struct zoo_cert zoo[] = {
	{ "Zoo Root \"R1\"", CRYPTO_KEY_P256, -1, true, NULL, -3650, 3650 },
	{ "Zoo Intermediate, O=x\\y", CRYPTO_KEY_RSA2048, 0, true, NULL, -365, 1800 },
	{ "www.zoo.test", CRYPTO_KEY_P256, 1, false,
	  "DNS:www.zoo.test,DNS:zoo.test,IP:192.0.2.7,IP:2001:db8::1,email:ops@zoo.test,"
	  "URI:https://zoo.test/x?a=1&b=\"2\"", -10, 20 },
	{ "\xe4\xb8\xad\xe6\x96\x87 SM2 \xe6\xa0\xb9", CRYPTO_KEY_SM2, -1, true, NULL, -100, 3000 },
	{ "sm2.zoo.test", CRYPTO_KEY_SM2, 3, false, "DNS:sm2.zoo.test", -5, 85 },
	{ "expired.zoo.test", CRYPTO_KEY_RSA2048, 1, false, "DNS:expired.zoo.test", -100, -3 },
	{ "p384 leaf", CRYPTO_KEY_P384, 0, false, "DNS:p384.zoo.test,DNS:*.p384.zoo.test", 0, 6 },
};
#define ZOO_N (sizeof(zoo) / sizeof(zoo[0]))

struct fixture {
	struct ts_home h;
	struct inventory inv;
	EVP_PKEY *keys[ZOO_N];
	X509 *certs[ZOO_N];
	int64_t ids[ZOO_N];
};

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *e;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

static X509 *make_cert(struct fixture *fx, size_t i)
{
	const struct zoo_cert *z = &zoo[i];
	struct aclm_err err = { 0 };
	X509 *x = X509_new(), *issuer;
	EVP_PKEY *signer;

	assert_int_equal(crypto_key_generate(z->key, &fx->keys[i], &err), ACLM_OK);
	issuer = z->issuer >= 0 ? fx->certs[z->issuer] : x;
	signer = z->issuer >= 0 ? fx->keys[z->issuer] : fx->keys[i];
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 1000 + (long)i), 1);
	assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
						    (const unsigned char *)z->cn, -1, -1, 0),
			 1);
	assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(issuer)), 1);
	assert_non_null(X509_time_adj_ex(X509_getm_notBefore(x), (int)z->days_before, 0,
					 &(time_t){ NOW }));
	assert_non_null(X509_time_adj_ex(X509_getm_notAfter(x), (int)z->days_after, 0,
					 &(time_t){ NOW }));
	assert_int_equal(X509_set_pubkey(x, fx->keys[i]), 1);
	add_ext(x, issuer, NID_subject_key_identifier, "hash");
	if (z->issuer >= 0)
		add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
	add_ext(x, issuer, NID_basic_constraints, z->ca ? "critical,CA:TRUE" : "CA:FALSE");
	if (z->sans != NULL)
		add_ext(x, issuer, NID_subject_alt_name, z->sans);
	assert_int_equal(crypto_cert_sign(x, signer, &err), ACLM_OK);
	return x;
}

/* Owners, sources and tags the API and CLI may set, with what needs
 * escaping; one key imported, one key imported after its certificate. */
static void decorate(struct fixture *fx)
{
	struct aclm_err err = { 0 };
	struct store_cert u = { .tenant_id = fx->h.tenant, .updated_at = NOW - 5 };
	char kid[KEYSTORE_ID_MAX];
	bool created;

	u.id = fx->ids[2];
	u.owner = "web \"team\"\n\xc3\xa9quipe";
	u.sources = json_pack("[s, s, s]", "import", "scan", "acme");
	u.tags = json_pack("{s:s, s:s, s:s}", "env", "prod", "zeta", "a\\b\x1f", "\xc3\xa9t\xc3\xa9",
			   "\"q\"");
	assert_int_equal(store_cert_update(fx->h.store, &u, &err), ACLM_OK);
	json_decref(u.sources);
	json_decref(u.tags);
	assert_int_equal(keystore_import(fx->h.ks, fx->h.tenant, fx->keys[4], kid, &created, &err),
			 ACLM_OK);
	assert_int_equal(keystore_import(fx->h.ks, fx->h.tenant, fx->keys[6], kid, &created, &err),
			 ACLM_OK);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct inventory_import_opts opts = { .source = "import", .owner = "pki" };
	struct aclm_err err = { 0 };

	assert_non_null(fx);
	assert_int_equal(ts_home_open(&fx->h, "certtext"), 0);
	fx->inv = (struct inventory){ .store = fx->h.store, .ks = fx->h.ks,
				      .tenant_id = fx->h.tenant, .tenant = tenant_name,
				      .actor = "test" };
	assert_int_equal(store_begin(fx->h.store, &err), ACLM_OK);
	for (size_t i = 0; i < ZOO_N; i++) {
		fx->certs[i] = make_cert(fx, i);
		opts.owner = i % 2 == 0 ? "pki" : NULL;
		assert_int_equal(inventory_add_cert(&fx->inv, fx->certs[i], &opts, &fx->ids[i], &err),
				 ACLM_OK);
	}
	assert_int_equal(store_commit(fx->h.store, &err), ACLM_OK);
	decorate(fx);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	for (size_t i = 0; i < ZOO_N; i++) {
		X509_free(fx->certs[i]);
		EVP_PKEY_free(fx->keys[i]);
	}
	assert_int_equal(ts_home_close(&fx->h), 0);
	free(fx);
	return 0;
}

/* ---- renderings ---- */

static char *old_rendering(const struct inventory *inv, const struct store_cert *c)
{
	json_t *o = inventory_cert_json(inv, c, NOW);
	char *s;

	assert_non_null(o);
	s = json_dumps(o, JSON_COMPACT);
	assert_non_null(s);
	json_decref(o);
	return s;
}

static char *new_rendering(const struct inventory *inv, const struct store_cert *c)
{
	struct aclm_buf b;
	struct aclm_err err = { 0 };

	aclm_buf_init(&b, 1u << 20);
	if (inventory_cert_json_write(inv, c, NOW, &b, &err) != ACLM_OK)
		fail_msg("certificate %lld: %s", (long long)c->id, err.msg);
	return (char *)aclm_buf_take(&b, NULL);
}

struct listed {
	const struct inventory *inv;
	int64_t ids[ZOO_N];
	char *text[ZOO_N];
	size_t n, spliced, with_key;
};

static aclm_status on_full(const struct store_cert *c, void *arg)
{
	struct listed *l = arg;

	assert_true(l->n < ZOO_N);
	assert_null(c->text);
	l->ids[l->n] = c->id;
	l->text[l->n++] = old_rendering(l->inv, c);
	return ACLM_OK;
}

static aclm_status on_text(const struct store_cert *c, void *arg)
{
	struct listed *l = arg;

	assert_true(l->n < ZOO_N);
	/* The listing hands over the stored text, without parsed JSON or DER. */
	assert_non_null(c->text);
	assert_null(c->facts);
	assert_null(c->der);
	l->spliced += inventory__cert_text_spliceable(c->text);
	l->ids[l->n] = c->id;
	l->text[l->n++] = new_rendering(l->inv, c);
	l->with_key += strstr(l->text[l->n - 1], "\"has_private_key\":true") != NULL;
	return ACLM_OK;
}

static void list(struct fixture *fx, bool stored_json, bool by_expiry, struct listed *l)
{
	struct store_cert_filter f = { .tenant_id = fx->h.tenant, .now = NOW,
				       .by_expiry = by_expiry, .stored_json = stored_json };
	struct aclm_err err = { 0 };

	memset(l, 0, sizeof(*l));
	l->inv = &fx->inv;
	assert_int_equal(store_cert_list(fx->h.store, &f, stored_json ? on_text : on_full, l, &err),
			 ACLM_OK);
}

static void listed_free(struct listed *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->text[i]);
}

static void test_zoo_text_rows_render_exactly_as_parsed_rows(void **state)
{
	struct fixture *fx = *state;
	struct listed old, new;

	for (int by_expiry = 0; by_expiry <= 1; by_expiry++) {
		list(fx, false, by_expiry, &old);
		list(fx, true, by_expiry, &new);
		assert_int_equal(old.n, ZOO_N);
		assert_int_equal(new.n, ZOO_N);
		/* Every zoo row was copied from the store's text, not re-parsed. */
		assert_int_equal(new.spliced, ZOO_N);
		/* keys[4] by its row's key, keys[6] found by the public key. */
		assert_int_equal(new.with_key, 2);
		for (size_t i = 0; i < ZOO_N; i++) {
			assert_int_equal(new.ids[i], old.ids[i]);
			assert_string_equal(new.text[i], old.text[i]);
		}
		listed_free(&old);
		listed_free(&new);
	}
}

/* ---- stored JSON in other forms ---- */

struct variant {
	const char *facts, *sources, *tags;
	bool spliceable;
};

static const struct variant variants[] = {
	{ "{}", "[]", "{}", true },
	{ "{\"a\":1,\"lifetime_days\":90,\"z\":\"x\"}", "[\"import\"]", "{}", true },
	{ "{\"lifetime_days\":90}", "[\"import\",\"scan\"]", "{\"a\":\"b\",\"env\":\"x\"}", true },
	{ "{\"a\":[1,{\"b\":null,\"c\":true}],\"n\":-12,\"z\":false}", "[]", "{}", true },
	{ "{\"a\":\"\xc3\xa9\xf0\x9f\x98\x80\",\"b\":\"\\u001F\\n\\\"\\\\\\t\"}", "[]", "{}", true },
	{ "{\"0\":0,\"a\":{},\"ab\":[],\"b\":{\"x\":{\"y\":[[]]}}}", "[]", "{}", true },
	/* Not the store's form: the parsing path, same bytes. */
	{ "{\"b\":1,\"a\":2}", "[]", "{}", false },
	{ "{\"a\": 1}", "[]", "{}", false },
	{ " {\"a\":1}", "[]", "{}", false },
	{ "{\"a\":\"\\u00e9\"}", "[]", "{}", false },
	{ "{\"a\":\"\\u001f\"}", "[]", "{}", false },
	{ "{\"a\":\"\\u000A\"}", "[]", "{}", false },
	{ "{\"a\":\"\\/\"}", "[]", "{}", false },
	{ "{\"a\":\"\\uD83D\\uDE00\"}", "[]", "{}", false },
	{ "{\"a\":1.5}", "[]", "{}", false },
	{ "{\"a\":1e3}", "[]", "{}", false },
	{ "{\"a\":-0}", "[]", "{}", false },
	{ "{\"a\":{\"y\":1,\"x\":2}}", "[]", "{}", false },
	{ "{\"owner\":\"x\",\"z\":1}", "[]", "{}", false },
	{ "{\"days_left\":5,\"lifetime_days\":9}", "[]", "{}", false },
	{ "{\"id\":\"99\"}", "[]", "{}", false },
	{ "{\"a\\\\b\":1}", "[]", "{}", false },
	{ "{}", "[ \"import\"]", "{}", false },
	{ "{}", "[]", "{\"z\":\"1\",\"a\":\"2\"}", false },
	{ "{}", "[]", "{\"a\":\"\\u00e9\"}", false },
};

static void text_row(const struct variant *v, struct store_cert_text *t, struct store_cert *c)
{
	*t = (struct store_cert_text){ .facts = v->facts, .facts_len = strlen(v->facts),
				       .sources = v->sources, .sources_len = strlen(v->sources),
				       .tags = v->tags, .tags_len = strlen(v->tags) };
	*c = (struct store_cert){ .id = 42, .not_after = NOW + 10 * 86400 + 5, .source = "import",
				  .owner = "o", .created_at = NOW - 86400, .updated_at = NOW,
				  .text = t };
	memcpy(c->issuer_fingerprint, "ab", 3);
}

static void test_stored_json_in_other_forms_renders_as_parsed(void **state)
{
	struct fixture *fx = *state;

	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		const struct variant *v = &variants[i];
		struct store_cert_text t;
		struct store_cert c, parsed;
		struct aclm_err err = { 0 };
		char *want, *got;

		text_row(v, &t, &c);
		parsed = c;
		parsed.text = NULL;
		assert_int_equal(aclm_json_parse(v->facts, strlen(v->facts), 4096, "facts",
						 &parsed.facts, &err), ACLM_OK);
		assert_int_equal(aclm_json_parse(v->sources, strlen(v->sources), 4096, "sources",
						 &parsed.sources, &err), ACLM_OK);
		assert_int_equal(aclm_json_parse(v->tags, strlen(v->tags), 4096, "tags",
						 &parsed.tags, &err), ACLM_OK);
		if (inventory__cert_text_spliceable(&t) != v->spliceable)
			fail_msg("variant %zu (%s %s %s): spliceable should be %d", i, v->facts,
				 v->sources, v->tags, v->spliceable);
		want = old_rendering(&fx->inv, &parsed);
		got = new_rendering(&fx->inv, &c);
		if (strcmp(want, got) != 0)
			fail_msg("variant %zu:\n want %s\n got  %s", i, want, got);
		free(want);
		free(got);
		json_decref(parsed.facts);
		json_decref(parsed.sources);
		json_decref(parsed.tags);
	}
}

/* The key a listing found by public key (key_by_spki) agrees with the
 * keystore: the derived id is the key, none means none, another id or no
 * lookup asks the keystore. keys[6] is in the keystore, keys[5] is not. */
static void test_listing_key_lookup_agrees_with_the_keystore(void **state)
{
	static const struct {
		size_t key;
		bool checked;
		const char *found;      /* "=" for the derived id */
		bool has;
	} cases[] = {
		{ 6, true, "=", true }, { 6, true, "kzzz", true }, { 6, false, NULL, true },
		{ 5, true, NULL, false }, { 5, false, NULL, false }, { 5, true, "kaaa", false },
	};
	struct fixture *fx = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct variant v = { NULL, "[]", "{}", true };
		char spki[65], facts[128], derived[KEYSTORE_ID_MAX], *want, *got;
		struct store_cert_text t;
		struct store_cert c, parsed;
		struct aclm_err err = { 0 };

		assert_int_equal(crypto_key_spki_sha256(fx->keys[cases[i].key], spki), ACLM_OK);
		snprintf(facts, sizeof(facts), "{\"spki_sha256\":\"%s\"}", spki);
		keystore_key_id_from_spki(spki, derived);
		v.facts = facts;
		text_row(&v, &t, &c);
		c.owner = NULL;
		t.spki_sha256 = spki;
		t.keys_checked = cases[i].checked;
		t.key_by_spki = cases[i].found != NULL && strcmp(cases[i].found, "=") == 0
					? derived : cases[i].found;
		parsed = c;
		parsed.text = NULL;
		parsed.facts = json_pack("{s:s}", "spki_sha256", spki);
		want = old_rendering(&fx->inv, &parsed);
		got = new_rendering(&fx->inv, &c);
		assert_string_equal(got, want);
		assert_int_equal(strstr(got, "\"has_private_key\":true") != NULL, cases[i].has);
		free(want);
		free(got);
		json_decref(parsed.facts);
		(void)err;
	}
}

/* Text the parser refuses fails the row as the parsing listing did. */
static void test_stored_json_the_parser_refuses_is_an_error(void **state)
{
	static const char *const bad[] = { "{\"a\":", "{\"a\":\"\xc3\"}", "{\"a\":\"\xed\xa0\x80\"}",
					   "{\"a\":\"\\u0000\"}", "{\"a\":007}", "{\"a\":1}x",
					   "{\"a\":12345678901234567890}", "{\"a\":1,\"a\":2}",
					   "{\"a\":{\"x\":1,\"x\":1}}" };
	struct fixture *fx = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct variant v = { bad[i], "[]", "{}", false };
		struct store_cert_text t;
		struct store_cert c;
		struct aclm_buf b;
		struct aclm_err err = { 0 };

		text_row(&v, &t, &c);
		assert_false(inventory__cert_text_spliceable(&t));
		aclm_buf_init(&b, 1u << 20);
		if (inventory_cert_json_write(&fx->inv, &c, NOW, &b, &err) == ACLM_OK)
			fail_msg("bad facts %zu accepted: %s", i, (const char *)b.data);
		aclm_buf_free(&b);
	}
}

/* A row without sources or tags gets [] and {}; under ASan a leaked
 * default fails the run. */
static void test_missing_sources_and_tags_default_without_leaking(void **state)
{
	struct fixture *fx = *state;
	struct store_cert c = { .id = 7, .source = "manual", .not_after = NOW };
	char *s;

	c.facts = json_object();
	s = old_rendering(&fx->inv, &c);
	assert_non_null(strstr(s, ",\"sources\":[],"));
	assert_non_null(strstr(s, ",\"tags\":{},"));
	free(s);
	json_decref(c.facts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zoo_text_rows_render_exactly_as_parsed_rows),
		cmocka_unit_test(test_stored_json_in_other_forms_renders_as_parsed),
		cmocka_unit_test(test_listing_key_lookup_agrees_with_the_keystore),
		cmocka_unit_test(test_stored_json_the_parser_refuses_is_an_error),
		cmocka_unit_test(test_missing_sources_and_tags_default_without_leaking),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
