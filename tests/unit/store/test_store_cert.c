/* store: certificate rows: idempotent insert, tenant isolation, round trip,
 * fingerprint prefixes, update, delete, chain links and the summary. */
#include "store_test.h"

static const struct tfacts leaf = {
	.cn = "www.example.com", .subject = "CN=www.example.com", .issuer = "CN=Example CA",
	.key_type = "ec", .curve = "P-256", .sig = "ecdsa-with-SHA256",
	.aki = "aa11", .ski = "bb22", .spki = "cc33",
	.dns = { "www.example.com", "example.com" },
};

static void test_insert_is_idempotent_by_fingerprint(void **state)
{
	struct tdb t;
	struct store_cert c = { 0 };
	char fp[65];
	int64_t id1 = 0, id2 = 0;
	bool created = false;

	tdb_open(&t);
	tfp(fp, "a1", 1);
	c.tenant_id = t.tenant;
	memcpy(c.fingerprint, fp, 65);
	c.facts = tfacts_json(&leaf);
	c.not_after = NOW;
	c.der = (unsigned char *)tder;
	c.der_len = sizeof(tder);
	c.source = "import";
	assert_int_equal(store_cert_insert(t.s, &c, &id1, &created, &t.err), ACLM_OK);
	assert_true(created);
	assert_int_equal(store_cert_insert(t.s, &c, &id2, &created, &t.err), ACLM_OK);
	assert_false(created);
	assert_int_equal(id1, id2);
	/* what the store refuses before touching the database */
	c.fingerprint[0] = 'A';
	assert_int_equal(store_cert_insert(t.s, &c, &id2, &created, &t.err), ACLM_ERR_INVALID);
	c.fingerprint[0] = 'a';
	c.tenant_id = 0;
	assert_int_equal(store_cert_insert(t.s, &c, &id2, &created, &t.err), ACLM_ERR_INVALID);
	c.tenant_id = 999; /* no such tenant: the foreign key says no */
	assert_int_equal(store_cert_insert(t.s, &c, &id2, &created, &t.err), ACLM_ERR_INVALID);
	assert_non_null(strstr(t.err.msg, "FOREIGN KEY"));
	json_decref(c.facts);
	tdb_close(&t);
}

static aclm_status count_cb(const struct store_cert *c, void *arg)
{
	int64_t *ids = arg;

	ids[++ids[0]] = c->id;
	return ACLM_OK;
}

static void test_same_fingerprint_in_two_tenants_gives_isolated_rows(void **state)
{
	struct tdb t;
	struct store_cert *got = NULL;
	struct store_cert upd = { 0 };
	struct store_cert_filter f = { 0 };
	char fp[65];
	int64_t a = 0, b = 0, ida, idb, found = 0, ids[8] = { 0 };

	tdb_open(&t);
	assert_int_equal(store_tenant_ensure(t.s, "a", &a, &t.err), ACLM_OK);
	assert_int_equal(store_tenant_ensure(t.s, "b", &b, &t.err), ACLM_OK);
	tfp(fp, "5a", 7);
	ida = tinsert(&t, a, fp, &leaf, NOW);
	idb = tinsert(&t, b, fp, &leaf, NOW);
	assert_int_not_equal(ida, idb);
	/* b sees only its own row, by every path */
	assert_int_equal(store_cert_get(t.s, b, ida, &got, &t.err), ACLM_ERR_NOTFOUND);
	assert_null(got);
	assert_int_equal(store_cert_find_fingerprint(t.s, b, fp, &found, &t.err), ACLM_OK);
	assert_int_equal(found, idb);
	f.tenant_id = b;
	assert_int_equal(store_cert_list(t.s, &f, count_cb, ids, &t.err), ACLM_OK);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], idb);
	upd.tenant_id = b;
	upd.id = ida;
	upd.owner = "mallory";
	assert_int_equal(store_cert_update(t.s, &upd, &t.err), ACLM_ERR_NOTFOUND);
	assert_int_equal(store_cert_delete(t.s, b, ida, &t.err), ACLM_ERR_NOTFOUND);
	/* a's row is untouched */
	assert_int_equal(store_cert_get(t.s, a, ida, &got, &t.err), ACLM_OK);
	assert_null(got->owner);
	store_cert_free(got);
	/* a zeroed filter is a bug, not "every tenant" */
	f.tenant_id = 0;
	assert_int_equal(store_cert_list(t.s, &f, count_cb, ids, &t.err), ACLM_ERR_INVALID);
	tdb_close(&t);
}

static void test_get_round_trips_every_field(void **state)
{
	struct tdb t;
	struct store_cert c = { 0 }, *got = NULL;
	char fp[65];
	int64_t id = 0;
	bool created = false;
	char *want_facts, *have_facts;

	tdb_open(&t);
	tfp(fp, "c0ffee", 42);
	c.tenant_id = t.tenant;
	memcpy(c.fingerprint, fp, 65);
	c.facts = tfacts_json(&leaf);
	c.not_before = NOW - 10 * DAY;
	c.not_after = NOW + 80 * DAY;
	c.der = (unsigned char *)tder;
	c.der_len = sizeof(tder);
	c.key_id = "k-123";
	c.source = "acme";
	c.sources = json_pack("[ss]", "acme", "scan");
	c.owner = "team-web";
	c.tags = json_pack("{ss}", "env", "prod");
	c.created_at = NOW - DAY;
	assert_int_equal(store_cert_insert(t.s, &c, &id, &created, &t.err), ACLM_OK);
	assert_int_equal(store_cert_get(t.s, t.tenant, id, &got, &t.err), ACLM_OK);
	assert_int_equal(got->id, id);
	assert_int_equal(got->tenant_id, t.tenant);
	assert_string_equal(got->fingerprint, fp);
	want_facts = aclm_json_dump_compact(c.facts);
	have_facts = aclm_json_dump_compact(got->facts);
	assert_string_equal(have_facts, want_facts);
	assert_int_equal(got->not_before, c.not_before);
	assert_int_equal(got->not_after, c.not_after);
	assert_int_equal(got->der_len, sizeof(tder));
	assert_memory_equal(got->der, tder, sizeof(tder));
	assert_string_equal(got->key_id, "k-123");
	assert_string_equal(got->source, "acme");
	assert_true(json_equal(got->sources, c.sources));
	assert_string_equal(got->owner, "team-web");
	assert_true(json_equal(got->tags, c.tags));
	assert_string_equal(got->issuer_fingerprint, "");
	assert_int_equal(got->created_at, NOW - DAY);
	assert_int_equal(got->updated_at, NOW - DAY);
	free(want_facts);
	free(have_facts);
	store_cert_free(got);
	json_decref(c.facts);
	json_decref(c.sources);
	json_decref(c.tags);
	tdb_close(&t);
}

static void test_defaults_sources_to_source_and_tags_to_empty(void **state)
{
	struct tdb t;
	struct store_cert *got = NULL;
	char fp[65];
	int64_t id;

	tdb_open(&t);
	tfp(fp, "d0", 1);
	id = tinsert(&t, t.tenant, fp, &leaf, NOW);
	assert_int_equal(store_cert_get(t.s, t.tenant, id, &got, &t.err), ACLM_OK);
	assert_int_equal(json_array_size(got->sources), 1);
	assert_string_equal(json_string_value(json_array_get(got->sources, 0)), "import");
	assert_true(json_is_object(got->tags));
	assert_int_equal(json_object_size(got->tags), 0);
	assert_null(got->key_id);
	store_cert_free(got);
	tdb_close(&t);
}

static void test_fingerprint_prefix_unique_ambiguous_missing_short(void **state)
{
	struct tdb t;
	char fp1[65], fp2[65], fp3[65];
	int64_t id1, id3, found = 0;

	tdb_open(&t);
	tfp(fp1, "abcdef0011", 1);
	tfp(fp2, "abcdef0022", 2);
	tfp(fp3, "abcdf9", 3);
	id1 = tinsert(&t, t.tenant, fp1, &leaf, NOW);
	tinsert(&t, t.tenant, fp2, &leaf, NOW);
	id3 = tinsert(&t, t.tenant, fp3, &leaf, NOW);
	assert_int_equal(store_cert_find_fingerprint(t.s, t.tenant, "abcdef001", &found, &t.err),
			 ACLM_OK);
	assert_int_equal(found, id1);
	assert_int_equal(store_cert_find_fingerprint(t.s, t.tenant, "ABCDEF0011", &found, &t.err),
			 ACLM_OK); /* case does not matter */
	assert_int_equal(found, id1);
	assert_int_equal(store_cert_find_fingerprint(t.s, t.tenant, "abcdf900", &found, &t.err),
			 ACLM_OK);
	assert_int_equal(found, id3);
	assert_int_equal(store_cert_find_fingerprint(t.s, t.tenant, fp1, &found, &t.err), ACLM_OK);
	assert_int_equal(found, id1);
	assert_int_equal(store_cert_find_fingerprint(t.s, t.tenant, "abcdef00", &found, &t.err),
			 ACLM_ERR_AMBIGUOUS);
	assert_int_equal(store_cert_find_fingerprint(t.s, t.tenant, "abcdef09", &found, &t.err),
			 ACLM_ERR_NOTFOUND);
	assert_int_equal(store_cert_find_fingerprint(t.s, t.tenant, "abcdef0", &found, &t.err),
			 ACLM_ERR_INVALID);
	assert_int_equal(store_cert_find_fingerprint(t.s, t.tenant, "abcdefgh", &found, &t.err),
			 ACLM_ERR_INVALID);
	assert_int_equal(store_cert_find_fingerprint(t.s, t.tenant, "abcde%__", &found, &t.err),
			 ACLM_ERR_INVALID);
	tdb_close(&t);
}

static void test_update_changes_metadata_and_null_json_keeps_it(void **state)
{
	struct tdb t;
	struct store_cert upd = { 0 }, *got = NULL;
	char fp[65];
	int64_t id;

	tdb_open(&t);
	tfp(fp, "e0", 1);
	id = tinsert(&t, t.tenant, fp, &leaf, NOW);
	upd.tenant_id = t.tenant;
	upd.id = id;
	upd.key_id = "k-9";
	upd.owner = "ops";
	upd.tags = json_pack("{ss}", "team", "blue");
	upd.updated_at = NOW + 5;
	assert_int_equal(store_cert_update(t.s, &upd, &t.err), ACLM_OK);
	assert_int_equal(store_cert_get(t.s, t.tenant, id, &got, &t.err), ACLM_OK);
	assert_string_equal(got->key_id, "k-9");
	assert_string_equal(got->owner, "ops");
	assert_true(json_equal(got->tags, upd.tags));
	assert_int_equal(json_array_size(got->sources), 1); /* NULL sources: kept */
	assert_int_equal(got->updated_at, NOW + 5);
	store_cert_free(got);
	json_decref(upd.tags);
	upd.id = id + 100;
	upd.tags = NULL;
	assert_int_equal(store_cert_update(t.s, &upd, &t.err), ACLM_ERR_NOTFOUND);
	tdb_close(&t);
}

/* A v1 root: no basic constraints, so only self_signed says it may issue. */
static const struct tfacts root = {
	.cn = "Example Root", .subject = "CN=Example Root", .issuer = "CN=Example Root",
	.key_type = "rsa", .bits = 4096, .is_ca = false, .self_signed = true,
	.ski = "0001",
};
static const struct tfacts inter = {
	.cn = "Example CA", .subject = "CN=Example CA", .issuer = "CN=Example Root",
	.key_type = "rsa", .bits = 2048, .is_ca = true, .aki = "0001", .ski = "aa11",
};

static void assert_issuer(struct tdb *t, int64_t id, const char *want)
{
	struct store_cert *got = NULL;

	assert_int_equal(store_cert_get(t->s, t->tenant, id, &got, &t->err), ACLM_OK);
	assert_string_equal(got->issuer_fingerprint, want);
	store_cert_free(got);
}

/* Linking each row as it arrives connects the chain whatever the order. */
static void test_chain_links_in_both_insert_orders(void **state)
{
	struct tdb t;
	struct tfacts other_key = leaf, not_ca = inter;
	char fr[65], fi[65], fl[65], fo[65], fn[65];
	int64_t idr, idi, idl, ido;

	tdb_open(&t);
	tfp(fr, "f0", 1);
	tfp(fi, "f1", 2);
	tfp(fl, "f2", 3);
	tfp(fo, "f3", 4);
	tfp(fn, "f4", 5);
	other_key.aki = "ffff"; /* same issuer DN, another CA key: no link */
	not_ca.is_ca = false;   /* the CA's DN and key id, but it cannot issue */
	tinsert(&t, t.tenant, fn, &not_ca, NOW);
	idl = tinsert(&t, t.tenant, fl, &leaf, NOW); /* child first */
	ido = tinsert(&t, t.tenant, fo, &other_key, NOW);
	assert_int_equal(store_cert_link_issuers(t.s, t.tenant, idl, &t.err), ACLM_OK);
	assert_int_equal(store_cert_link_issuers(t.s, t.tenant, ido, &t.err), ACLM_OK);
	idi = tinsert(&t, t.tenant, fi, &inter, NOW);
	assert_int_equal(store_cert_link_issuers(t.s, t.tenant, idi, &t.err), ACLM_OK);
	assert_issuer(&t, idl, fi);
	assert_issuer(&t, ido, "");
	assert_issuer(&t, idi, ""); /* root not there yet */
	idr = tinsert(&t, t.tenant, fr, &root, NOW); /* issuer after the child */
	assert_int_equal(store_cert_link_issuers(t.s, t.tenant, idr, &t.err), ACLM_OK);
	assert_issuer(&t, idi, fr);
	assert_issuer(&t, idr, ""); /* self-signed: never its own issuer */
	/* deleting the issuer takes its links along */
	assert_int_equal(store_cert_delete(t.s, t.tenant, idi, &t.err), ACLM_OK);
	assert_issuer(&t, idl, "");
	assert_int_equal(store_cert_delete(t.s, t.tenant, idi, &t.err), ACLM_ERR_NOTFOUND);
	tdb_close(&t);
}

static void test_summary_counts_windows_issuers_keys_sigs(void **state)
{
	struct tdb t;
	struct store_summary sum;
	struct tfacts rsa = inter, sm2 = leaf;
	const int64_t after[] = { -1, 0, 6 * DAY, 7 * DAY, 29 * DAY, 30 * DAY, 89 * DAY,
				  90 * DAY, 400 * DAY };
	char fp[65];

	tdb_open(&t);
	rsa.sig = "sha256WithRSAEncryption";
	sm2.key_type = "sm2";
	sm2.curve = "SM2";
	sm2.sig = "SM2-with-SM3";
	sm2.issuer = "CN=SM2 CA";
	for (unsigned i = 0; i < 9; i++) {
		tfp(fp, "9a", i);
		tinsert(&t, t.tenant, fp, i < 5 ? &leaf : i < 8 ? &rsa : &sm2, NOW + after[i]);
	}
	assert_int_equal(store_cert_summary(t.s, t.tenant, NOW, &sum, &t.err), ACLM_OK);
	assert_int_equal(sum.total, 9);
	assert_int_equal(sum.expired, 1);  /* one second ago */
	assert_int_equal(sum.lt7, 2);      /* now, 6 days */
	assert_int_equal(sum.lt30, 2);     /* 7, 29 */
	assert_int_equal(sum.lt90, 2);     /* 30, 89 */
	assert_int_equal(sum.later, 2);    /* 90, 400 */
	assert_int_equal(sum.n_issuer, 3);
	assert_string_equal(sum.by_issuer[0].name, "CN=Example CA");
	assert_int_equal(sum.by_issuer[0].count, 5);
	assert_int_equal(sum.n_key_type, 3);
	assert_string_equal(sum.by_key_type[0].name, "ec P-256");
	assert_string_equal(sum.by_key_type[1].name, "rsa 2048");
	assert_int_equal(sum.by_key_type[1].count, 3);
	assert_string_equal(sum.by_key_type[2].name, "sm2");
	assert_int_equal(sum.n_sig_alg, 3);
	assert_string_equal(sum.by_sig_alg[2].name, "SM2-with-SM3");
	store_summary_free(&sum);
	assert_int_equal(sum.n_issuer, 0);
	tdb_close(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_is_idempotent_by_fingerprint),
		cmocka_unit_test(test_same_fingerprint_in_two_tenants_gives_isolated_rows),
		cmocka_unit_test(test_get_round_trips_every_field),
		cmocka_unit_test(test_defaults_sources_to_source_and_tags_to_empty),
		cmocka_unit_test(test_fingerprint_prefix_unique_ambiguous_missing_short),
		cmocka_unit_test(test_update_changes_metadata_and_null_json_keeps_it),
		cmocka_unit_test(test_chain_links_in_both_insert_orders),
		cmocka_unit_test(test_summary_counts_windows_issuers_keys_sigs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
