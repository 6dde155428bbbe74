/* SQLite backend: the read-side queries over the inventory: `cert list`
 * (filters, order, cursor, streaming) and the `report summary` counts. */
#include "store/sqlite_int.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"

#define LIKE_TEXT_MAX 1024   /* longer issuer/search text is a mistake, not a query */
#define SQL_MAX 4096
#define TOP_ISSUERS 50
#define BUCKETS_MAX 1000     /* key types and signature algorithms: a cap, never reached */
#define DAY 86400
/* The cap sqlite_cert.c puts on a row's JSON (FACTS_JSON_MAX): larger is corrupt. */
#define JSON_TEXT_MAX (16u << 20)

/* ---- cert list ---- */

/* A stored_json listing's columns after STORE__SQLITE_CERT_COLUMNS: the
 * SPKI hash and, for rows without a key id, a key with that public key
 * (keys_tenant_spki), so that printing a row needs no query of its own. */
#define TEXT_COLUMNS                                                                        \
	", c.spki_sha256, CASE WHEN c.key_id IS NULL THEN (SELECT k.id FROM keys k"          \
	" WHERE k.tenant_id = c.tenant_id AND k.spki_sha256 = c.spki_sha256"                 \
	" ORDER BY k.id LIMIT 1) END"

/* The fragments are fixed text; every value is a bound parameter, with
 * fixed numbers: ?1 tenant, ?2 now, ?3 now + expiring_within, ?4 issuer
 * pattern, ?5 key type, ?6 search pattern, ?7 after_id, ?8 limit, ?9
 * after_not_after. With
 * tenant + expiry range + ORDER BY not_after, id the plan walks
 * certificates_tenant_not_after in order and stops at the limit. */
aclm_status store__sqlite_list_sql(const struct store_cert_filter *f, struct aclm_buf *sql)
{
	aclm_status st = aclm_buf_puts(sql, f->stored_json
						    ? "SELECT " STORE__SQLITE_CERT_COLUMNS TEXT_COLUMNS
						      " FROM certificates c WHERE c.tenant_id = ?1"
						    : "SELECT " STORE__SQLITE_CERT_COLUMNS
						      " FROM certificates c WHERE c.tenant_id = ?1");

	if (st == ACLM_OK && f->expiring_within > 0)
		st = aclm_buf_puts(sql, " AND c.not_after >= ?2 AND c.not_after <= ?3");
	if (st == ACLM_OK && f->expired)
		st = aclm_buf_puts(sql, " AND c.not_after < ?2");
	if (st == ACLM_OK && f->issuer != NULL)
		st = aclm_buf_puts(sql, " AND c.issuer LIKE ?4 ESCAPE '\\'");
	if (st == ACLM_OK && f->key_type != NULL)
		st = aclm_buf_puts(sql, " AND c.key_type = ?5");
	if (st == ACLM_OK && f->search != NULL)
		st = aclm_buf_puts(sql, " AND c.search LIKE ?6 ESCAPE '\\'");
	/* A row value follows the index order (tenant_id, not_after, rowid). */
	if (st == ACLM_OK && f->after_id > 0 && f->by_expiry && f->after_expiry)
		st = aclm_buf_puts(sql, " AND (c.not_after, c.id) > (?9, ?7)");
	else if (st == ACLM_OK && f->after_id > 0)
		st = aclm_buf_puts(sql, " AND c.id > ?7");
	if (st == ACLM_OK)
		st = aclm_buf_puts(sql, f->by_expiry ? " ORDER BY c.not_after, c.id"
						     : " ORDER BY c.id");
	if (st == ACLM_OK && f->limit > 0)
		st = aclm_buf_puts(sql, " LIMIT ?8");
	return st;
}

/* "%text%" with LIKE's wildcards (and the escape itself) made literal.
 * LIKE folds ASCII case, which makes the issuer match case-insensitive;
 * search is stored lowercased, so its text is lowercased here. */
static char *like_pattern(const char *text, bool lower)
{
	struct aclm_buf b;
	aclm_status st;

	aclm_buf_init(&b, 2 * LIKE_TEXT_MAX + 3);
	st = aclm_buf_puts(&b, "%");
	for (const char *p = text; st == ACLM_OK && *p != '\0'; p++) {
		char ch = lower ? (char)tolower((unsigned char)*p) : *p;

		if (ch == '%' || ch == '_' || ch == '\\')
			st = aclm_buf_append(&b, "\\", 1);
		if (st == ACLM_OK)
			st = aclm_buf_append(&b, &ch, 1);
	}
	if (st == ACLM_OK)
		st = aclm_buf_puts(&b, "%");
	if (st != ACLM_OK)
		aclm_buf_free(&b);
	return (char *)aclm_buf_take(&b, NULL);
}

static aclm_status check_filter(const struct store_cert_filter *f, struct aclm_err *err)
{
	if (f->expiring_within < 0 || f->limit < 0 || f->after_id < 0)
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "certificate list: negative expiry window, limit or cursor");
	if ((f->issuer != NULL && strlen(f->issuer) > LIKE_TEXT_MAX) ||
	    (f->search != NULL && strlen(f->search) > LIKE_TEXT_MAX))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "certificate list: issuer or search text longer than %d bytes",
				    LIKE_TEXT_MAX);
	return ACLM_OK;
}

static void list_bind(struct store__bind *b, const struct store_cert_filter *f,
		      const char *issuer, const char *search)
{
	int64_t now = f->now != 0 ? f->now : aclm_time_now();

	store__bind_int(b, 1, f->tenant_id);
	if (f->expiring_within > 0 || f->expired)
		store__bind_int(b, 2, now);
	if (f->expiring_within > 0)
		store__bind_int(b, 3, now > INT64_MAX - f->expiring_within
					      ? INT64_MAX : now + f->expiring_within);
	if (issuer != NULL)
		store__bind_text(b, 4, issuer);
	if (f->key_type != NULL)
		store__bind_text(b, 5, f->key_type);
	if (search != NULL)
		store__bind_text(b, 6, search);
	if (f->after_id > 0)
		store__bind_int(b, 7, f->after_id);
	if (f->limit > 0)
		store__bind_int(b, 8, f->limit);
	if (f->after_id > 0 && f->by_expiry && f->after_expiry)
		store__bind_int(b, 9, f->after_not_after);
}

/* A text column of a stored_json row: borrowed from SQLite. */
static const char *row_text(sqlite3_stmt *st, int col, size_t *len)
{
	const char *v = (const char *)sqlite3_column_text(st, col);

	*len = v != NULL ? (size_t)sqlite3_column_bytes(st, col) : 0;
	return v;
}

static void row_fingerprint(sqlite3_stmt *st, int col, char out[65])
{
	size_t n;
	const char *fp = row_text(st, col, &n);

	out[0] = '\0';
	if (fp != NULL && n <= 64)
		memcpy(out, fp, n + 1);
}

/* A stored_json row (columns of STORE__SQLITE_CERT_COLUMNS, then
 * TEXT_COLUMNS) handed over without a copy: the JSON columns stay text and
 * the DER column is never read. Decoding and copying them was most of a
 * REST API list page's CPU (docs/BENCHMARKS.md, api). */
static aclm_status text_row(const struct store__sqlite *s, sqlite3_stmt *st, store_cert_cb cb,
			    void *arg, struct aclm_err *err)
{
	struct store_cert_text t = { 0 };
	struct store_cert c = { .text = &t };

	c.id = sqlite3_column_int64(st, 0);
	c.tenant_id = sqlite3_column_int64(st, 1);
	row_fingerprint(st, 2, c.fingerprint);
	c.not_before = sqlite3_column_int64(st, 4);
	c.not_after = sqlite3_column_int64(st, 5);
	c.key_id = (char *)sqlite3_column_text(st, 7);
	c.source = (char *)sqlite3_column_text(st, 8);
	c.owner = (char *)sqlite3_column_text(st, 10);
	c.created_at = sqlite3_column_int64(st, 12);
	c.updated_at = sqlite3_column_int64(st, 13);
	row_fingerprint(st, 14, c.issuer_fingerprint);
	t.spki_sha256 = (const char *)sqlite3_column_text(st, 15);
	t.keys_checked = true;
	t.key_by_spki = (const char *)sqlite3_column_text(st, 16);
	t.facts = row_text(st, 3, &t.facts_len);
	t.sources = row_text(st, 9, &t.sources_len);
	t.tags = row_text(st, 11, &t.tags_len);
	if (t.facts == NULL || t.sources == NULL || t.tags == NULL || c.source == NULL)
		return aclm_err_set(err, ACLM_ERR_DB, "%s: certificate %lld: a NOT NULL column is NULL",
				    s->path, (long long)c.id);
	if (t.facts_len > JSON_TEXT_MAX || t.sources_len > JSON_TEXT_MAX ||
	    t.tags_len > JSON_TEXT_MAX)
		return aclm_err_set(err, ACLM_ERR_PARSE, "%s: certificate %lld: JSON over %u bytes",
				    s->path, (long long)c.id, JSON_TEXT_MAX);
	return cb(&c, arg);
}

/* Streams: one row decoded, handed over and freed at a time, so a listing
 * of a million rows holds one row in memory. */
static aclm_status list_rows(const struct store__sqlite *s, sqlite3_stmt *st,
			     const struct store_cert_filter *f, store_cert_cb cb, void *arg,
			     struct aclm_err *err)
{
	struct store_cert *c = NULL;
	aclm_status ret = ACLM_OK;
	int rc = SQLITE_DONE;

	while (ret == ACLM_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (f->stored_json) {
			ret = text_row(s, st, cb, arg, err);
			continue;
		}
		ret = store__sqlite_cert_row(s, st, &c, err);
		if (ret == ACLM_OK)
			ret = cb(c, arg);
		store_cert_free(c);
		c = NULL;
	}
	if (ret == ACLM_OK && rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, "list certificates");
	return ret;
}

/* The REST API's pages (stored_json, a limit, no text filters) come in
 * few shapes: their SQL is built once per process, at a fixed address, so
 * that SQ_KEYED prepares it once per connection. The bound keeps the
 * connection's statement cache from filling, whatever the queries. */
#define SHAPES 24
static char *_Atomic shape_sql[SHAPES];

static int shape_of(const struct store_cert_filter *f)
{
	int cursor = f->after_id <= 0 ? 0 : f->by_expiry && f->after_expiry ? 2 : 1;

	if (!f->stored_json || f->limit <= 0 || f->issuer != NULL || f->key_type != NULL ||
	    f->search != NULL)
		return -1;
	return ((f->expiring_within > 0) * 2 + f->expired) * 6 + cursor * 2 + f->by_expiry;
}

/* Built by the first caller; a thread that loses the race frees its copy. */
static const char *shape_text(const struct store_cert_filter *f, int shape)
{
	char *sql = atomic_load(&shape_sql[shape]), *mine, *expected = NULL;
	struct aclm_buf b;

	if (sql != NULL)
		return sql;
	aclm_buf_init(&b, SQL_MAX);
	if (store__sqlite_list_sql(f, &b) != ACLM_OK) {
		aclm_buf_free(&b);
		return NULL;
	}
	mine = (char *)aclm_buf_take(&b, NULL);
	if (atomic_compare_exchange_strong(&shape_sql[shape], &expected, mine))
		return mine;
	free(mine);
	return expected;
}

/* The cached statement of f's shape, or NULL (then *fresh is prepared
 * here): also when it is in use by a listing this one runs inside. */
static aclm_status list_stmt(struct store__sqlite *s, const struct store_cert_filter *f,
			     sqlite3_stmt **cached, sqlite3_stmt **fresh, struct aclm_err *err)
{
	int shape = shape_of(f);
	const char *text = shape >= 0 ? shape_text(f, shape) : NULL;
	struct aclm_buf sql;
	aclm_status ret = ACLM_OK;
	int rc;

	*cached = *fresh = NULL;
	if (text != NULL && store__sqlite_stmt(s, SQ_KEYED, text, cached, NULL) == ACLM_OK &&
	    !sqlite3_stmt_busy(*cached))
		return ACLM_OK;
	*cached = NULL;
	aclm_buf_init(&sql, SQL_MAX);
	if (store__sqlite_list_sql(f, &sql) != ACLM_OK) {
		ret = aclm_err_set(err, ACLM_ERR_NOMEM, "certificate list: out of memory");
	} else {
		rc = sqlite3_prepare_v2(s->db, (const char *)sql.data, (int)sql.len, fresh, NULL);
		if (rc != SQLITE_OK)
			ret = store__sqlite_err(s, rc, err, "prepare certificate list");
	}
	aclm_buf_free(&sql);
	return ret;
}

aclm_status store__sqlite_cert_list(void *state, const struct store_cert_filter *f,
				    store_cert_cb cb, void *arg, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	char *issuer = NULL, *search = NULL;
	sqlite3_stmt *cached = NULL, *fresh = NULL;
	struct store__bind b = { 0 };
	aclm_status ret = check_filter(f, err);

	if (ret != ACLM_OK)
		goto out;
	issuer = f->issuer != NULL ? like_pattern(f->issuer, false) : NULL;
	search = f->search != NULL ? like_pattern(f->search, true) : NULL;
	if ((f->issuer != NULL && issuer == NULL) || (f->search != NULL && search == NULL)) {
		ret = aclm_err_set(err, ACLM_ERR_NOMEM, "certificate list: out of memory");
		goto out;
	}
	ret = list_stmt(s, f, &cached, &fresh, err);
	if (ret != ACLM_OK)
		goto out;
	b.st = cached != NULL ? cached : fresh;
	list_bind(&b, f, issuer, search);
	if (b.rc != SQLITE_OK)
		ret = store__sqlite_err(s, b.rc, err, "bind certificate list");
	else
		ret = list_rows(s, b.st, f, cb, arg, err);
out:
	store__sqlite_done(cached);
	sqlite3_finalize(fresh);
	free(issuer);
	free(search);
	return ret;
}

/* ---- report summary ---- */

/* Days-left windows that do not overlap: days_left < 0 is not_after < now,
 * days_left < N is not_after < now + N days (cf. aclm_time_days_between). */
static aclm_status summary_windows(struct store__sqlite *s, int64_t tenant, int64_t now,
				   struct store_summary *out, struct aclm_err *err)
{
	static const char sql[] =
		"SELECT count(*), total(not_after < ?2),"
		" total(not_after >= ?2 AND not_after < ?3),"
		" total(not_after >= ?3 AND not_after < ?4),"
		" total(not_after >= ?4 AND not_after < ?5),"
		" total(not_after >= ?5)"
		" FROM certificates WHERE tenant_id = ?1";
	sqlite3_stmt *st = NULL;
	struct store__bind b = { 0 };
	aclm_status ret = ACLM_OK;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	b.st = st;
	b.rc = rc;
	store__bind_int(&b, 1, tenant);
	store__bind_int(&b, 2, now);
	store__bind_int(&b, 3, now + 7 * DAY);
	store__bind_int(&b, 4, now + 30 * DAY);
	store__bind_int(&b, 5, now + 90 * DAY);
	rc = b.rc == SQLITE_OK ? sqlite3_step(st) : b.rc;
	if (rc != SQLITE_ROW) {
		ret = store__sqlite_err(s, rc, err, "summary by days left");
		goto out;
	}
	out->total = sqlite3_column_int64(st, 0);
	out->expired = sqlite3_column_int64(st, 1);
	out->lt7 = sqlite3_column_int64(st, 2);
	out->lt30 = sqlite3_column_int64(st, 3);
	out->lt90 = sqlite3_column_int64(st, 4);
	out->later = sqlite3_column_int64(st, 5);
out:
	sqlite3_finalize(st);
	return ret;
}

static aclm_status bucket_add(struct store_summary_bucket **arr, size_t *n, sqlite3_stmt *st)
{
	struct store_summary_bucket *grown = realloc(*arr, (*n + 1) * sizeof(**arr));
	const unsigned char *name = sqlite3_column_text(st, 0);

	if (grown == NULL)
		return ACLM_ERR_NOMEM;
	*arr = grown;
	grown[*n].name = strdup(name != NULL ? (const char *)name : "unknown");
	grown[*n].count = sqlite3_column_int64(st, 1);
	if (grown[*n].name == NULL)
		return ACLM_ERR_NOMEM;
	(*n)++;
	return ACLM_OK;
}

/* Runs a "SELECT name, count ... WHERE tenant_id = ?1 ... LIMIT ?2" query. */
static aclm_status buckets(struct store__sqlite *s, const char *sql, int64_t tenant, int limit,
			   struct store_summary_bucket **arr, size_t *n, struct aclm_err *err)
{
	sqlite3_stmt *st = NULL;
	aclm_status ret = ACLM_OK;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, tenant);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int(st, 2, limit);
	while (ret == ACLM_OK && rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = bucket_add(arr, n, st);
		rc = SQLITE_OK;
	}
	if (ret == ACLM_OK && rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, "summary");
	else if (ret != ACLM_OK)
		ret = aclm_err_set(err, ret, "summary: out of memory");
	sqlite3_finalize(st);
	return ret;
}

/* Bucket names read like the CLI prints keys: "rsa 2048", "ec P-256", "sm2". */
static const char sql_by_issuer[] =
	"SELECT issuer, count(*) AS n FROM certificates WHERE tenant_id = ?1"
	" GROUP BY issuer ORDER BY n DESC, issuer LIMIT ?2";
static const char sql_by_key_type[] =
	"SELECT CASE WHEN key_type IN ('rsa', 'dsa') AND key_bits IS NOT NULL"
	"  THEN key_type || ' ' || key_bits"
	" WHEN key_type = 'ec' AND key_curve IS NOT NULL THEN 'ec ' || key_curve"
	" ELSE coalesce(key_type, 'unknown') END AS name, count(*) AS n"
	" FROM certificates WHERE tenant_id = ?1 GROUP BY name ORDER BY n DESC, name LIMIT ?2";
static const char sql_by_sig_alg[] =
	"SELECT coalesce(sig_alg, 'unknown') AS name, count(*) AS n FROM certificates"
	" WHERE tenant_id = ?1 GROUP BY name ORDER BY n DESC, name LIMIT ?2";

aclm_status store__sqlite_cert_summary(void *state, int64_t tenant, int64_t now,
				       struct store_summary *out, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	aclm_status st;

	memset(out, 0, sizeof(*out));
	st = summary_windows(s, tenant, now, out, err);
	if (st == ACLM_OK)
		st = buckets(s, sql_by_issuer, tenant, TOP_ISSUERS, &out->by_issuer, &out->n_issuer,
			     err);
	if (st == ACLM_OK)
		st = buckets(s, sql_by_key_type, tenant, BUCKETS_MAX, &out->by_key_type,
			     &out->n_key_type, err);
	if (st == ACLM_OK)
		st = buckets(s, sql_by_sig_alg, tenant, BUCKETS_MAX, &out->by_sig_alg,
			     &out->n_sig_alg, err);
	if (st != ACLM_OK)
		store_summary_free(out);
	return st;
}
