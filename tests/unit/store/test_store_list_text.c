/* store/: stored_json listings (the REST API's pages) hand over the same
 * rows as parsed listings, with the JSON columns as the stored text and no
 * DER; their statements, prepared once per connection, page correctly
 * with every cursor kind, survive a callback that stops early, and work
 * inside another listing of the same shape. */
#include "store_test.h"

#define N 40

struct row {
	int64_t id, not_after, created_at, updated_at;
	char fingerprint[65], issuer_fp[65];
	char *facts, *sources, *tags, *key_id, *source, *owner, *spki, *key_by_spki;
	bool keys_checked;
};

struct rows {
	struct row r[2 * N];
	size_t n;
	int64_t stop_after;        /* > 0: the callback fails at this row */
};

static char *dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static char *dump(const json_t *v)
{
	return v != NULL ? aclm_json_dump_compact(v) : NULL;
}

/* Text parsed and dumped as the store dumps it: equal JSON gives equal text. */
static char *canon(const char *text, size_t len)
{
	json_t *v = json_loadb(text, len, 0, NULL);
	char *s;

	assert_non_null(v);
	s = aclm_json_dump_compact(v);
	json_decref(v);
	return s;
}

static aclm_status keep(const struct store_cert *c, void *arg)
{
	struct rows *l = arg;
	struct row *r;

	if (l->stop_after > 0 && (int64_t)l->n == l->stop_after)
		return ACLM_ERR_INVALID;
	assert_true(l->n < 2 * N);
	r = &l->r[l->n++];
	memset(r, 0, sizeof(*r));
	r->id = c->id;
	r->not_after = c->not_after;
	r->created_at = c->created_at;
	r->updated_at = c->updated_at;
	memcpy(r->fingerprint, c->fingerprint, 65);
	memcpy(r->issuer_fp, c->issuer_fingerprint, 65);
	r->key_id = dup_or_null(c->key_id);
	r->source = dup_or_null(c->source);
	r->owner = dup_or_null(c->owner);
	if (c->text != NULL) {
		assert_null(c->facts);
		assert_null(c->sources);
		assert_null(c->tags);
		assert_null(c->der);
		r->facts = canon(c->text->facts, c->text->facts_len);
		r->sources = canon(c->text->sources, c->text->sources_len);
		r->tags = canon(c->text->tags, c->text->tags_len);
		r->spki = dup_or_null(c->text->spki_sha256);
		r->keys_checked = c->text->keys_checked;
		r->key_by_spki = dup_or_null(c->text->key_by_spki);
	} else {
		assert_non_null(c->der);
		r->facts = dump(c->facts);
		r->sources = dump(c->sources);
		r->tags = dump(c->tags);
		r->spki = dup_or_null(aclm_json_str(c->facts, "spki_sha256"));
	}
	return ACLM_OK;
}

static void rows_free(struct rows *l)
{
	for (size_t i = 0; i < l->n; i++) {
		struct row *r = &l->r[i];

		free(r->facts);
		free(r->sources);
		free(r->tags);
		free(r->key_id);
		free(r->source);
		free(r->owner);
		free(r->spki);
		free(r->key_by_spki);
	}
	l->n = 0;
}

static void same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void same_rows(const struct rows *a, const struct rows *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct row *x = &a->r[i], *y = &b->r[i];

		assert_int_equal(x->id, y->id);
		assert_int_equal(x->not_after, y->not_after);
		assert_int_equal(x->created_at, y->created_at);
		assert_int_equal(x->updated_at, y->updated_at);
		assert_string_equal(x->fingerprint, y->fingerprint);
		assert_string_equal(x->issuer_fp, y->issuer_fp);
		same_str(x->facts, y->facts);
		same_str(x->sources, y->sources);
		same_str(x->tags, y->tags);
		same_str(x->key_id, y->key_id);
		same_str(x->source, y->source);
		same_str(x->owner, y->owner);
		same_str(x->spki, y->spki);
	}
}

struct fixture {
	struct tdb t;
	int64_t ids[N];
};

/* N certificates, expiring one day apart in scrambled order; every third
 * has an owner, tags and two sources; one issuer; two keys in the key
 * table, one under the id the keystore derives, one under another id. */
static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char sql[512];
	sqlite3 *db;

	assert_non_null(fx);
	tdb_open(&fx->t);
	for (unsigned i = 0; i < N; i++) {
		char fp[65], spki[65], cn[32];
		struct tfacts f = { .cn = cn, .subject = cn, .issuer = "CN=Issuer", .key_type = "ec",
				    .curve = "P-256", .bits = 256, .spki = spki,
				    .dns = { cn } };

		snprintf(cn, sizeof(cn), i == 0 ? "Issuer" : "h%u.example", i);
		if (i == 0) {
			f.subject = "CN=Issuer";
			f.is_ca = f.self_signed = true;
		}
		tfp(fp, "ab", i);
		tfp(spki, "5b", i);
		fx->ids[i] = tinsert(&fx->t, fx->t.tenant, fp, &f, NOW + (int64_t)((i * 17) % N) * DAY);
		if (i % 3 == 1) {
			struct store_cert u = { .tenant_id = fx->t.tenant, .id = fx->ids[i],
						.owner = "team \"a\"", .updated_at = NOW + i };

			u.sources = json_pack("[s, s]", "import", "scan");
			u.tags = json_pack("{s:s, s:s}", "z", "1", "env", "prod");
			assert_int_equal(store_cert_update(fx->t.s, &u, &fx->t.err), ACLM_OK);
			json_decref(u.sources);
			json_decref(u.tags);
		}
		assert_int_equal(store_cert_link_issuers(fx->t.s, fx->t.tenant, fx->ids[i],
							 &fx->t.err), ACLM_OK);
	}
	db = raw_open(fx->t.path);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO keys(tenant_id, id, type, spki_sha256, sealed, created_at) VALUES"
		 "(%lld, 'k5b%022d', 'p256', '5b%062d', x'00', 1),"
		 "(%lld, 'other', 'p256', '5b%062d', x'00', 1)",
		 (long long)fx->t.tenant, 0, 5, (long long)fx->t.tenant, 7);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	tdb_close(&fx->t);
	free(fx);
	return 0;
}

static void list(struct fixture *fx, const struct store_cert_filter *base, bool text,
		 struct rows *out)
{
	struct store_cert_filter f = *base;

	f.tenant_id = fx->t.tenant;
	f.now = NOW;
	f.stored_json = text;
	assert_int_equal(store_cert_list(fx->t.s, &f, keep, out, &fx->t.err), ACLM_OK);
}

/* Pages of `limit` rows, each from the last row's cursor, as the API walks. */
static void pages(struct fixture *fx, struct store_cert_filter f, int64_t limit, bool text,
		  struct rows *out)
{
	f.limit = limit;
	for (int guard = 0; guard < 2 * N; guard++) {
		size_t before = out->n;

		list(fx, &f, text, out);
		if (out->n == before)
			return;
		f.after_id = out->r[out->n - 1].id;
		f.after_expiry = f.by_expiry;
		f.after_not_after = out->r[out->n - 1].not_after;
	}
	fail_msg("paging did not end");
}

static void test_text_rows_are_the_parsed_rows(void **state)
{
	static const struct store_cert_filter filters[] = {
		{ 0 },
		{ .by_expiry = true },
		{ .expiring_within = 20 * DAY, .by_expiry = true },
		{ .expiring_within = 20 * DAY },
		{ .expired = true, .by_expiry = true },
		{ .key_type = "ec" },
		{ .search = "h1" },
	};
	struct fixture *fx = *state;
	struct rows a = { 0 }, b = { 0 };

	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		list(fx, &filters[i], false, &a);
		list(fx, &filters[i], true, &b);
		same_rows(&a, &b);
		rows_free(&a);
		rows_free(&b);
		/* Twice more through the cached statement, paged: the same rows. */
		for (int round = 0; round < 2; round++) {
			pages(fx, filters[i], 7, false, &a);
			pages(fx, filters[i], 7, true, &b);
			same_rows(&a, &b);
			rows_free(&a);
			rows_free(&b);
		}
	}
}

/* The listing looks up keys by public key for rows without a key id. */
static void test_text_rows_carry_the_key_by_public_key(void **state)
{
	struct fixture *fx = *state;
	struct store_cert_filter f = { 0 };
	struct rows b = { 0 };
	size_t found = 0;

	list(fx, &f, true, &b);
	assert_int_equal(b.n, N);
	for (size_t i = 0; i < b.n; i++) {
		assert_true(b.r[i].keys_checked);
		if (b.r[i].key_by_spki == NULL)
			continue;
		found++;
		if (b.r[i].id == fx->ids[5])
			assert_string_equal(b.r[i].key_by_spki, "k5b0000000000000000000000");
		else
			assert_int_equal(b.r[i].id, fx->ids[7]);
	}
	assert_int_equal(found, 2);
	rows_free(&b);
}

/* A callback that stops early leaves the cached statement reusable. */
static void test_stopped_listing_leaves_the_statement_reusable(void **state)
{
	struct fixture *fx = *state;
	struct store_cert_filter f = { .expiring_within = 30 * DAY, .by_expiry = true,
				       .limit = 10, .stored_json = true,
				       .tenant_id = fx->t.tenant, .now = NOW };
	struct rows a = { .stop_after = 3 }, b = { 0 }, c = { 0 };

	assert_int_equal(store_cert_list(fx->t.s, &f, keep, &a, &fx->t.err), ACLM_ERR_INVALID);
	assert_int_equal(a.n, 3);
	list(fx, &f, true, &b);
	list(fx, &f, false, &c);
	assert_int_equal(b.n, 10);
	same_rows(&b, &c);
	rows_free(&a);
	rows_free(&b);
	rows_free(&c);
}

struct nested {
	struct fixture *fx;
	struct store_cert_filter f;
	struct rows inner;
	size_t outer;
};

static aclm_status list_inside(const struct store_cert *c, void *arg)
{
	struct nested *n = arg;

	(void)c;
	n->outer++;
	if (n->outer == 2)
		assert_int_equal(store_cert_list(n->fx->t.s, &n->f, keep, &n->inner, &n->fx->t.err),
				 ACLM_OK);
	return ACLM_OK;
}

/* The same shape listed inside a listing: the inner one may not reset the
 * outer one's statement. */
static void test_same_shape_inside_a_listing(void **state)
{
	struct fixture *fx = *state;
	struct nested n = { .fx = fx };
	struct rows want = { 0 };

	n.f = (struct store_cert_filter){ .expiring_within = 30 * DAY, .by_expiry = true,
					  .limit = 5, .stored_json = true,
					  .tenant_id = fx->t.tenant, .now = NOW };
	assert_int_equal(store_cert_list(fx->t.s, &n.f, list_inside, &n, &fx->t.err), ACLM_OK);
	assert_int_equal(n.outer, 5);
	list(fx, &n.f, false, &want);
	same_rows(&n.inner, &want);
	rows_free(&n.inner);
	rows_free(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_rows_are_the_parsed_rows),
		cmocka_unit_test(test_text_rows_carry_the_key_by_public_key),
		cmocka_unit_test(test_stopped_listing_leaves_the_statement_reusable),
		cmocka_unit_test(test_same_shape_inside_a_listing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
