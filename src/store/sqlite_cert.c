/* SQLite backend: certificate rows (insert, get, fingerprint lookup,
 * update, delete) and the chain links between them. */
#include "store/sqlite_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/time.h"

/* Generous caps for JSON we wrote ourselves: a row above them is corrupt. */
#define FACTS_JSON_MAX (16u << 20)
#define SEARCH_MAX (4u << 20)

/* Bounded: c->fingerprint is a char[65] the caller may have filled badly. */
static bool is_fingerprint(const char *fp)
{
	size_t n = 0;

	for (; n < 65 && fp[n] != '\0'; n++) {
		if (!isxdigit((unsigned char)fp[n]) || isupper((unsigned char)fp[n]))
			return false;
	}
	return n == 64;
}

/* Optional facts strings: "" means absent, stored as NULL so that the
 * "AKI IS NULL" rules of the chain links see it as absent. */
static const char *fact_str(const json_t *obj, const char *key)
{
	const char *v = aclm_json_str(obj, key);

	return v != NULL && v[0] != '\0' ? v : NULL;
}

static aclm_status search_add(struct aclm_buf *b, const char *s)
{
	aclm_status st = ACLM_OK;

	if (s == NULL || s[0] == '\0')
		return ACLM_OK;
	if (b->len > 0)
		st = aclm_buf_append(b, "\n", 1);
	return st == ACLM_OK ? aclm_buf_puts(b, s) : st;
}

/* The lowercased text `--search` matches: common name, every SAN (all
 * kinds), subject and fingerprint, one per line so that a match never
 * spans two of them. */
static aclm_status search_text(const struct store_cert *c, struct aclm_buf *b)
{
	const json_t *sans = json_object_get(c->facts, "sans");
	const char *kind;
	json_t *list, *v;
	size_t i;
	aclm_status st = search_add(b, aclm_json_str(c->facts, "common_name"));

	json_object_foreach((json_t *)sans, kind, list) {
		json_array_foreach(list, i, v) {
			if (st == ACLM_OK)
				st = search_add(b, json_string_value(v));
		}
	}
	if (st == ACLM_OK)
		st = search_add(b, aclm_json_str(c->facts, "subject"));
	if (st == ACLM_OK)
		st = search_add(b, c->fingerprint);
	if (st == ACLM_OK && b->data == NULL)
		st = aclm_buf_puts(b, "");
	for (size_t k = 0; st == ACLM_OK && k < b->len; k++)
		b->data[k] = (unsigned char)tolower(b->data[k]);
	return st;
}

/* JSON text of the insert that is not in facts. */
struct insert_text {
	char *facts, *sources, *tags;
	struct aclm_buf search;
};

static void insert_text_free(struct insert_text *t)
{
	free(t->facts);
	free(t->sources);
	free(t->tags);
	aclm_buf_free(&t->search);
}

static aclm_status insert_check(const struct store_cert *c, struct aclm_err *err)
{
	if (!is_fingerprint(c->fingerprint))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "certificate fingerprint \"%.64s\" is not 64 lowercase hex digits",
				    c->fingerprint);
	if (!json_is_object(c->facts) || c->der == NULL || c->der_len == 0)
		return aclm_err_set(err, ACLM_ERR_INVALID, "certificate %s: facts or DER missing",
				    c->fingerprint);
	if (c->source == NULL || c->source[0] == '\0')
		return aclm_err_set(err, ACLM_ERR_INVALID, "certificate %s: no source",
				    c->fingerprint);
	if ((c->sources != NULL && !json_is_array(c->sources)) ||
	    (c->tags != NULL && !json_is_object(c->tags)))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "certificate %s: sources must be an array and tags an object",
				    c->fingerprint);
	return ACLM_OK;
}

/* Absent sources default to [source], absent tags to {}. */
static aclm_status insert_prepare(const struct store_cert *c, struct insert_text *t,
				  struct aclm_err *err)
{
	json_t *sources = c->sources != NULL ? json_incref(c->sources) : json_pack("[s]", c->source);
	aclm_status st = ACLM_OK;

	t->facts = aclm_json_dump_compact(c->facts);
	t->sources = sources != NULL ? aclm_json_dump_compact(sources) : NULL;
	t->tags = c->tags != NULL ? aclm_json_dump_compact(c->tags) : strdup("{}");
	if (t->facts == NULL || t->sources == NULL || t->tags == NULL)
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "certificate %s: cannot serialise JSON",
				  c->fingerprint);
	else if ((st = search_text(c, &t->search)) != ACLM_OK)
		st = aclm_err_set(err, st, "certificate %s: cannot build the search text (%u bytes max)",
				  c->fingerprint, SEARCH_MAX);
	json_decref(sources);
	return st;
}

static const char sql_insert[] =
	"INSERT INTO certificates(tenant_id, fingerprint, serial, subject, issuer, common_name,"
	" not_before, not_after, key_type, key_bits, key_curve, sig_alg, is_ca, self_signed,"
	" spki_sha256, aki, ski, search, facts, der, key_id, source, sources, owner, tags,"
	" created_at, updated_at)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,"
	" ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?26)"
	" ON CONFLICT(tenant_id, fingerprint) DO NOTHING RETURNING id";

#define INSERT_NARGS 26

static void insert_args(struct store__arg a[INSERT_NARGS], const struct store_cert *c,
			const struct insert_text *t)
{
	const json_t *f = c->facts;
	const json_t *key = json_object_get(f, "key");
	int64_t bits = aclm_json_int(key, "bits", 0);

	a[0] = STORE__INT(c->tenant_id);
	a[1] = STORE__TEXT(c->fingerprint);
	a[2] = STORE__TEXT(fact_str(f, "serial"));
	a[3] = STORE__TEXT(fact_str(f, "subject"));
	a[4] = STORE__TEXT(fact_str(f, "issuer"));
	a[5] = STORE__TEXT(fact_str(f, "common_name"));
	a[6] = STORE__INT(c->not_before);
	a[7] = STORE__INT(c->not_after);
	a[8] = STORE__TEXT(fact_str(key, "type"));
	a[9] = bits > 0 ? STORE__INT(bits) : STORE__NULL;
	a[10] = STORE__TEXT(fact_str(key, "curve"));
	a[11] = STORE__TEXT(fact_str(f, "signature_algorithm"));
	a[12] = STORE__INT(aclm_json_bool(f, "is_ca"));
	a[13] = STORE__INT(aclm_json_bool(f, "self_signed"));
	a[14] = STORE__TEXT(fact_str(f, "spki_sha256"));
	a[15] = STORE__TEXT(fact_str(f, "aki"));
	a[16] = STORE__TEXT(fact_str(f, "ski"));
	a[17] = STORE__TEXT((const char *)t->search.data);
	a[18] = STORE__TEXT(t->facts);
	a[19] = STORE__BLOB(c->der, c->der_len);
	a[20] = STORE__TEXT(c->key_id);
	a[21] = STORE__TEXT(c->source);
	a[22] = STORE__TEXT(t->sources);
	a[23] = STORE__TEXT(c->owner);
	a[24] = STORE__TEXT(t->tags);
	a[25] = STORE__INT(c->created_at > 0 ? c->created_at : aclm_time_now());
}

static aclm_status id_by_fingerprint(struct store__sqlite *s, int64_t tenant, const char *fp,
				     int64_t *id, struct aclm_err *err)
{
	bool found = false;
	aclm_status ret = store__sqlite_run(
		s, SQ_CERT_ID_BY_FP,
		"SELECT id FROM certificates WHERE tenant_id = ?1 AND fingerprint = ?2",
		STORE__ARGS(STORE__INT(tenant), STORE__TEXT(fp)), store__sqlite_row_id, id, &found,
		"find certificate", err);

	if (ret == ACLM_OK && !found)
		ret = aclm_err_set(err, ACLM_ERR_INTERNAL, "certificate %s: conflict but no row", fp);
	return ret;
}

/* RETURNING yields the id only when the row is new; on a conflict the
 * existing row is looked up by the same unique index. */
aclm_status store__sqlite_cert_insert(void *state, const struct store_cert *c, int64_t *id,
				      bool *created, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	struct insert_text t = { 0 };
	struct store__arg args[INSERT_NARGS];
	aclm_status ret = insert_check(c, err);

	*created = false;
	aclm_buf_init(&t.search, SEARCH_MAX);
	if (ret == ACLM_OK)
		ret = insert_prepare(c, &t, err);
	if (ret == ACLM_OK) {
		insert_args(args, c, &t);
		ret = store__sqlite_run(s, SQ_CERT_INSERT, sql_insert, args, INSERT_NARGS,
					store__sqlite_row_id, id, created, "insert certificate", err);
	}
	if (ret == ACLM_OK && !*created)
		ret = id_by_fingerprint(s, c->tenant_id, c->fingerprint, id, err);
	insert_text_free(&t);
	return ret;
}

/* ---- reading rows ---- */

static aclm_status parse_json_col(sqlite3_stmt *st, int col, const char *what, json_t **out,
				  struct aclm_err *err)
{
	const char *text = (const char *)sqlite3_column_text(st, col);

	if (text == NULL)
		return aclm_err_set(err, ACLM_ERR_DB, "certificate row: %s is NULL", what);
	return aclm_json_parse(text, (size_t)sqlite3_column_bytes(st, col), FACTS_JSON_MAX, what,
			       out, err);
}

static void copy_fingerprint(sqlite3_stmt *st, int col, char out[65])
{
	const char *fp = (const char *)sqlite3_column_text(st, col);

	out[0] = '\0';
	if (fp != NULL && strlen(fp) <= 64)
		memcpy(out, fp, strlen(fp) + 1);
}

static aclm_status copy_der(sqlite3_stmt *st, int col, struct store_cert *c, struct aclm_err *err)
{
	const void *der = sqlite3_column_blob(st, col);
	int len = sqlite3_column_bytes(st, col);

	if (der == NULL || len <= 0)
		return aclm_err_set(err, ACLM_ERR_DB, "certificate %s: row has no DER", c->fingerprint);
	c->der = malloc((size_t)len);
	if (c->der == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "certificate %s: out of memory",
				    c->fingerprint);
	memcpy(c->der, der, (size_t)len);
	c->der_len = (size_t)len;
	return ACLM_OK;
}

aclm_status store__sqlite_cert_row(const struct store__sqlite *s, sqlite3_stmt *st,
				   struct store_cert **out, struct aclm_err *err)
{
	struct store_cert *c = calloc(1, sizeof(*c));
	bool ok = true;
	aclm_status ret;

	*out = NULL;
	if (c == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "%s: out of memory", s->path);
	c->id = sqlite3_column_int64(st, 0);
	c->tenant_id = sqlite3_column_int64(st, 1);
	copy_fingerprint(st, 2, c->fingerprint);
	c->not_before = sqlite3_column_int64(st, 4);
	c->not_after = sqlite3_column_int64(st, 5);
	c->created_at = sqlite3_column_int64(st, 12);
	c->updated_at = sqlite3_column_int64(st, 13);
	copy_fingerprint(st, 14, c->issuer_fingerprint);
	c->key_id = store__sqlite_text_dup(st, 7, &ok);
	c->source = store__sqlite_text_dup(st, 8, &ok);
	c->owner = store__sqlite_text_dup(st, 10, &ok);
	ret = ok ? ACLM_OK : aclm_err_set(err, ACLM_ERR_NOMEM, "%s: out of memory", s->path);
	if (ret == ACLM_OK)
		ret = parse_json_col(st, 3, "certificate facts", &c->facts, err);
	if (ret == ACLM_OK)
		ret = parse_json_col(st, 9, "certificate sources", &c->sources, err);
	if (ret == ACLM_OK)
		ret = parse_json_col(st, 11, "certificate tags", &c->tags, err);
	if (ret == ACLM_OK)
		ret = copy_der(st, 6, c, err);
	if (ret != ACLM_OK) {
		store_cert_free(c);
		return ret;
	}
	*out = c;
	return ACLM_OK;
}

static aclm_status cert_row_fn(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
			       struct aclm_err *err)
{
	return store__sqlite_cert_row(s, st, out, err);
}

aclm_status store__sqlite_cert_get(void *state, int64_t tenant, int64_t id,
				   struct store_cert **out, struct aclm_err *err)
{
	bool found = false;
	aclm_status ret;

	*out = NULL;
	ret = store__sqlite_run(state, SQ_CERT_GET,
				"SELECT " STORE__SQLITE_CERT_COLUMNS " FROM certificates c"
				" WHERE c.tenant_id = ?1 AND c.id = ?2",
				STORE__ARGS(STORE__INT(tenant), STORE__INT(id)), cert_row_fn, out,
				&found, "get certificate", err);
	if (ret == ACLM_OK && !found)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "certificate %lld not found",
				   (long long)id);
	return ret;
}

/* ---- fingerprint prefixes ---- */

/* [lo, hi) holds exactly the fingerprints starting with the prefix: hi is
 * the prefix with its last digit bumped ('9'+1 = ':' and 'f'+1 = 'g' sort
 * after every digit that could follow). */
static aclm_status prefix_range(const char *prefix, char lo[65], char hi[65],
				struct aclm_err *err)
{
	size_t n = prefix != NULL ? strlen(prefix) : 0;

	if (n < 8 || n > 64)
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "fingerprint prefix \"%.70s\": give 8 to 64 hex digits",
				    prefix != NULL ? prefix : "");
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)prefix[i]))
			return aclm_err_set(err, ACLM_ERR_INVALID,
					    "fingerprint prefix \"%.64s\" is not hex", prefix);
		lo[i] = (char)tolower((unsigned char)prefix[i]);
	}
	lo[n] = '\0';
	memcpy(hi, lo, n + 1);
	hi[n - 1]++;
	return ACLM_OK;
}

aclm_status store__sqlite_cert_find_fingerprint(void *state, int64_t tenant, const char *prefix,
						int64_t *id, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	char lo[65], hi[65];
	sqlite3_stmt *st = NULL;
	struct store__bind b = { 0 };
	int n = 0, rc = SQLITE_ROW;
	aclm_status ret = prefix_range(prefix, lo, hi, err);

	if (ret == ACLM_OK)
		ret = store__sqlite_stmt(s, SQ_CERT_FIND_FP,
					 "SELECT id FROM certificates WHERE tenant_id = ?1"
					 " AND fingerprint >= ?2 AND fingerprint < ?3 LIMIT 2",
					 &st, err);
	if (ret != ACLM_OK)
		goto out;
	b.st = st;
	store__bind_int(&b, 1, tenant);
	store__bind_text(&b, 2, lo);
	store__bind_text(&b, 3, hi);
	rc = b.rc;
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW && n++ == 0)
			*id = sqlite3_column_int64(st, 0);
	}
	if (rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, "find certificate by fingerprint");
	else if (n == 0)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "no certificate with fingerprint %s...", lo);
	else if (n > 1)
		ret = aclm_err_set(err, ACLM_ERR_AMBIGUOUS,
				   "fingerprint %s... matches several certificates; give more digits",
				   lo);
out:
	store__sqlite_done(st);
	return ret;
}

/* ---- update, delete ---- */

/* Runs a cached single-row UPDATE/DELETE; no row changed -> NOTFOUND. The
 * reset in store__sqlite_run leaves sqlite3_changes() alone. */
static aclm_status run_change(struct store__sqlite *s, enum store__sqlite_stmt_id which,
			      const char *sql, const struct store__arg *args, size_t nargs,
			      int64_t id, const char *what, struct aclm_err *err)
{
	aclm_status ret = store__sqlite_run(s, which, sql, args, nargs, NULL, NULL, NULL, what, err);

	if (ret == ACLM_OK && sqlite3_changes(s->db) == 0)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "%s: certificate %lld not found", what,
				   (long long)id);
	return ret;
}

/* sources and tags are NOT NULL: a NULL in c keeps the stored value, while
 * NULL key_id and owner clear them. */
aclm_status store__sqlite_cert_update(void *state, const struct store_cert *c,
				      struct aclm_err *err)
{
	char *sources = c->sources != NULL ? aclm_json_dump_compact(c->sources) : NULL;
	char *tags = c->tags != NULL ? aclm_json_dump_compact(c->tags) : NULL;
	aclm_status ret = ACLM_OK;

	if ((c->sources != NULL && !json_is_array(c->sources)) ||
	    (c->tags != NULL && !json_is_object(c->tags)))
		ret = aclm_err_set(err, ACLM_ERR_INVALID,
				   "certificate %lld: sources must be an array and tags an object",
				   (long long)c->id);
	else if ((c->sources != NULL && sources == NULL) || (c->tags != NULL && tags == NULL))
		ret = aclm_err_set(err, ACLM_ERR_NOMEM, "certificate %lld: out of memory",
				   (long long)c->id);
	if (ret == ACLM_OK)
		ret = run_change(state, SQ_CERT_UPDATE,
				 "UPDATE certificates SET key_id = ?3,"
				 " sources = coalesce(?4, sources), owner = ?5,"
				 " tags = coalesce(?6, tags), updated_at = ?7"
				 " WHERE tenant_id = ?1 AND id = ?2",
				 STORE__ARGS(STORE__INT(c->tenant_id), STORE__INT(c->id),
					     STORE__TEXT(c->key_id), STORE__TEXT(sources),
					     STORE__TEXT(c->owner), STORE__TEXT(tags),
					     STORE__INT(c->updated_at > 0 ? c->updated_at
									  : aclm_time_now())),
				 c->id, "update certificate", err);
	free(sources);
	free(tags);
	return ret;
}

/* Links go with the row (ON DELETE CASCADE); observations keep their
 * history with cert_id set to NULL. */
aclm_status store__sqlite_cert_delete(void *state, int64_t tenant, int64_t id,
				      struct aclm_err *err)
{
	struct store__sqlite *s = state;
	aclm_status ret = run_change(s, SQ_CERT_DELETE,
				     "DELETE FROM certificates WHERE tenant_id = ?1 AND id = ?2",
				     STORE__ARGS(STORE__INT(tenant), STORE__INT(id)), id,
				     "delete certificate", err);

	/* Only the CA's rows (cas.root_cert_id, intermediate_cert_id) refuse:
	 * every other reference is cleared or cascades. */
	if (ret != ACLM_OK && sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_FOREIGNKEY)
		ret = aclm_err_set(err, ACLM_ERR_BUSY,
				   "certificate %lld is a root or intermediate of a CA (aclm ca list): "
				   "a CA keeps its certificates", (long long)id);
	return ret;
}

/* ---- chain links ---- */

/* me's issuers: CAs (or self-signed v1 roots, which predate basic
 * constraints) whose subject is me's issuer and, when both are known, whose
 * SKI is me's AKI (RFC 5280 §4.2.1.1). The is_ca/self_signed term is written
 * exactly as the partial index's WHERE, so that the planner can use it. */
static const char sql_link_issuers[] =
	"INSERT OR IGNORE INTO cert_links(tenant_id, cert_id, issuer_id)"
	" SELECT me.tenant_id, me.id, i.id FROM certificates me"
	" JOIN certificates i ON i.tenant_id = me.tenant_id AND i.subject = me.issuer"
	" WHERE me.tenant_id = ?1 AND me.id = ?2 AND i.id != me.id"
	" AND (i.is_ca = 1 OR i.self_signed = 1)"
	" AND (me.aki IS NULL OR i.ski IS NULL OR i.ski = me.aki)";

/* me's children: the same rule seen from the issuer's side. */
static const char sql_link_children[] =
	"INSERT OR IGNORE INTO cert_links(tenant_id, cert_id, issuer_id)"
	" SELECT me.tenant_id, ch.id, me.id FROM certificates me"
	" JOIN certificates ch ON ch.tenant_id = me.tenant_id AND ch.issuer = me.subject"
	" WHERE me.tenant_id = ?1 AND me.id = ?2 AND ch.id != me.id"
	" AND (ch.aki IS NULL OR me.ski IS NULL OR ch.aki = me.ski)";

static aclm_status link_run(struct store__sqlite *s, enum store__sqlite_stmt_id which,
			    const char *sql, int64_t tenant, int64_t id, struct aclm_err *err)
{
	return store__sqlite_run(s, which, sql, STORE__ARGS(STORE__INT(tenant), STORE__INT(id)),
				 NULL, NULL, NULL, "link certificate chain", err);
}

aclm_status store__sqlite_cert_link_issuers(void *state, int64_t tenant, int64_t id,
					    struct aclm_err *err)
{
	aclm_status st = link_run(state, SQ_LINK_ISSUERS, sql_link_issuers, tenant, id, err);

	if (st == ACLM_OK)
		st = link_run(state, SQ_LINK_CHILDREN, sql_link_children, tenant, id, err);
	return st;
}
