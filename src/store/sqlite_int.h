/* SQLite backend internals shared by src/store/sqlite*.c. */
#ifndef ACLM_STORE_SQLITE_INT_H
#define ACLM_STORE_SQLITE_INT_H

#include <stdint.h>

#include <sqlite3.h>

#include "core/buf.h"
#include "store/store.h"

/* Statements prepared on first use and kept until close: the hot ones and
 * the fixed-text ones. Listing queries are built per call and not cached. */
enum store__sqlite_stmt_id {
	SQ_TENANT_FIND,
	SQ_TENANT_INSERT,
	SQ_CERT_INSERT,
	SQ_CERT_ID_BY_FP,
	SQ_CERT_GET,
	SQ_CERT_FIND_FP,
	SQ_CERT_UPDATE,
	SQ_CERT_DELETE,
	SQ_LINK_ISSUERS,
	SQ_LINK_CHILDREN,
	SQ_KEY_PUT,
	SQ_KEY_GET,
	SQ_KEY_DELETE,
	SQ_AUDIT_LAST,
	SQ_AUDIT_INSERT,
	SQ_ACCOUNT_PUT,
	SQ_ACCOUNT_GET,
	SQ_ACCOUNT_FIND,
	SQ_LINEAGE_PUT,
	SQ_LINEAGE_GET,
	SQ_LINEAGE_LOCK,
	SQ_LINEAGE_HOLDER,
	SQ_LINEAGE_UNLOCK,
	SQ_CA_PUT,
	SQ_CA_CROSS_PUT,
	SQ_CA_CROSS_LIST,
	SQ_CA_ACCOUNT_PUT,
	SQ_CA_ACCOUNT_GET,
	SQ_CA_ACCOUNT_FIND,
	SQ_CA_ORDER_PUT,
	SQ_CA_ORDER_GET,
	SQ_CA_AUTHZ_PUT,
	SQ_CA_AUTHZ_GET,
	SQ_CA_AUTHZ_FIND_VALID,
	SQ_CA_ISSUED_PUT,
	SQ_CA_ISSUED_GET,
	SQ_CA_ISSUED_REVOKE,
	SQ_CA_ISSUED_REPLACE,
	SQ_CA_ISSUED_STATE,
	SQ_CA_EAB_PUT,
	SQ_CA_EAB_GET,
	SQ_CA_EAB_BIND,
	SQ_CA_EAB_HOLDER,
	SQ_COUNT
};

/* Statements of the areas added later (auth, sched, deploy, notify, ...)
 * pass SQ_KEYED: they are cached by the address of their SQL text (a string
 * literal), so an area adds statements without touching the enum above. */
#define SQ_KEYED SQ_COUNT
#define STORE__SQLITE_KEYED_MAX 256

/* One connection; NOMUTEX, so one thread at a time uses it. */
struct store__sqlite {
	sqlite3 *db;
	char *path;
	char *wal;                 /* the -wal file's path (store_sync, store_reserve_log) */
	sqlite3_stmt *stmt[SQ_COUNT];
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} keyed[STORE__SQLITE_KEYED_MAX]; /* open addressing on the SQL's address */
};

/* The columns store__sqlite_cert_row() decodes, in its order; c is the row.
 * The issuer subquery must walk cert_links' primary key from c.id: CROSS
 * JOIN pins that loop order (left alone, the planner may scan the tenant's
 * certificates once per listed row), and ordering by l.issuer_id (the first
 * issuer linked, when cross-signed) follows that key without a sort. */
#define STORE__SQLITE_CERT_COLUMNS                                                          \
	"c.id, c.tenant_id, c.fingerprint, c.facts, c.not_before, c.not_after, c.der, "     \
	"c.key_id, c.source, c.sources, c.owner, c.tags, c.created_at, c.updated_at, "      \
	"(SELECT i.fingerprint FROM cert_links l CROSS JOIN certificates i "                 \
	"ON i.id = l.issuer_id WHERE l.cert_id = c.id AND i.tenant_id = c.tenant_id "        \
	"ORDER BY l.issuer_id LIMIT 1)"

/* Sets err from a SQLite result code: BUSY/LOCKED -> ACLM_ERR_BUSY, unique
 * and primary key violations -> ACLM_ERR_EXISTS, other constraints ->
 * ACLM_ERR_INVALID, the rest ACLM_ERR_DB; the message is
 * "PATH: WHAT: sqlite3_errmsg()". Returns the status. */
aclm_status store__sqlite_err(const struct store__sqlite *s, int rc, struct aclm_err *err,
			      const char *what);

/* The cached statement id (prepared from sql the first time). Hand it back
 * with store__sqlite_done() before returning, so that it holds no lock. */
aclm_status store__sqlite_stmt(struct store__sqlite *s, enum store__sqlite_stmt_id id,
			       const char *sql, sqlite3_stmt **out, struct aclm_err *err);
void store__sqlite_done(sqlite3_stmt *st);

/* Runs fixed SQL text (never text holding user data). */
aclm_status store__sqlite_exec(struct store__sqlite *s, const char *sql, struct aclm_err *err);

/* Binds that remember the first failure, so a run of binds is checked once.
 * Values are bound SQLITE_STATIC: keep them alive until store__sqlite_done. */
struct store__bind {
	sqlite3_stmt *st;
	int rc;
};
void store__bind_text(struct store__bind *b, int idx, const char *v);  /* NULL -> NULL */
void store__bind_int(struct store__bind *b, int idx, int64_t v);

/* One value to bind: the cached-statement runner binds an array of these to
 * ?1, ?2, ... in order. Text and blobs are bound SQLITE_STATIC, as above. */
enum store__arg_type { STORE__ARG_NULL, STORE__ARG_INT, STORE__ARG_TEXT, STORE__ARG_BLOB };
struct store__arg {
	enum store__arg_type type;
	union {
		int64_t i;
		const char *text; /* NULL binds NULL */
		struct {
			const void *p;
			size_t len;
		} blob;
	} v;
};
#define STORE__NULL ((struct store__arg){ .type = STORE__ARG_NULL })
#define STORE__INT(x) ((struct store__arg){ .type = STORE__ARG_INT, .v.i = (x) })
#define STORE__TEXT(x) ((struct store__arg){ .type = STORE__ARG_TEXT, .v.text = (x) })
#define STORE__BLOB(p_, len_)                                                                \
	((struct store__arg){ .type = STORE__ARG_BLOB, .v.blob = { .p = (p_), .len = (len_) } })
/* Expands to the two parameters "args, nargs" of store__sqlite_run(). */
#define STORE__ARGS(...)                                                                     \
	(const struct store__arg[]){ __VA_ARGS__ },                                          \
		sizeof((const struct store__arg[]){ __VA_ARGS__ }) / sizeof(struct store__arg)

/* Decodes the row st is on into out (whatever the caller passed along). */
typedef aclm_status (*store__sqlite_row_fn)(const struct store__sqlite *s, sqlite3_stmt *st,
					    void *out, struct aclm_err *err);

/* Runs statement id (SQ_KEYED: by its SQL) with args bound and hands every
 * row to each until it returns non-OK (returned as is); SQLite failures
 * are "PATH: WHAT: ...". The multi-row reads of the store use it. */
typedef aclm_status (*store__sqlite_each_fn)(struct store__sqlite *s, sqlite3_stmt *st, void *arg,
					     struct aclm_err *err);
aclm_status store__sqlite_each(struct store__sqlite *s, enum store__sqlite_stmt_id id,
			       const char *sql, const struct store__arg *args, size_t nargs,
			       store__sqlite_each_fn each, void *arg, const char *what,
			       struct aclm_err *err);

/* Runs cached statement id with args bound, at most one row read: a row
 * goes to row (when not NULL) and sets *found (when not NULL), no row
 * leaves *found false for the caller to word its own "not found". A
 * statement that writes (INSERT ... RETURNING) is stepped to its end, so
 * that its failure is reported; a read stops at the first row. SQLite
 * failures are "PATH: WHAT: ..." as store__sqlite_err(). */
aclm_status store__sqlite_run(struct store__sqlite *s, enum store__sqlite_stmt_id id,
			      const char *sql, const struct store__arg *args, size_t nargs,
			      store__sqlite_row_fn row, void *out, bool *found, const char *what,
			      struct aclm_err *err);
/* A store__sqlite_row_fn: column 0 as an int64_t into out (int64_t *). */
aclm_status store__sqlite_row_id(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
				 struct aclm_err *err);

/* A store__sqlite_row_fn: a scan_runs row (id, tenant_id, scan_id, state,
 * started_at, finished_at, endpoints, reachable, findings, summary, error)
 * as a new struct store_scanrun * into out (struct store_scanrun **). */
aclm_status store__sqlite_scanrun_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
				      struct aclm_err *err);

/* A malloc'd copy of a text column, NULL for SQL NULL. *ok is false when
 * the copy failed for lack of memory. */
char *store__sqlite_text_dup(sqlite3_stmt *st, int col, bool *ok);

aclm_status store__sqlite_migrate(struct store__sqlite *s, struct aclm_err *err);
/* Number of migrations this binary knows. */
int store__sqlite_schema_version(void);

/* Decodes a row selected with STORE__SQLITE_CERT_COLUMNS. */
aclm_status store__sqlite_cert_row(const struct store__sqlite *s, sqlite3_stmt *st,
				   struct store_cert **out, struct aclm_err *err);
/* The SQL of cert_list for f; exposed so that a test can EXPLAIN it. */
aclm_status store__sqlite_list_sql(const struct store_cert_filter *f, struct aclm_buf *sql);

/* The ops, one file per concern. */
aclm_status store__sqlite_cert_insert(void *state, const struct store_cert *c, int64_t *id,
				      bool *created, struct aclm_err *err);
aclm_status store__sqlite_cert_get(void *state, int64_t tenant, int64_t id,
				   struct store_cert **out, struct aclm_err *err);
aclm_status store__sqlite_cert_find_fingerprint(void *state, int64_t tenant, const char *prefix,
						int64_t *id, struct aclm_err *err);
aclm_status store__sqlite_cert_update(void *state, const struct store_cert *c,
				      struct aclm_err *err);
aclm_status store__sqlite_cert_delete(void *state, int64_t tenant, int64_t id,
				      struct aclm_err *err);
aclm_status store__sqlite_cert_link_issuers(void *state, int64_t tenant, int64_t id,
					    struct aclm_err *err);
aclm_status store__sqlite_cert_list(void *state, const struct store_cert_filter *f,
				    store_cert_cb cb, void *arg, struct aclm_err *err);
aclm_status store__sqlite_cert_summary(void *state, int64_t tenant, int64_t now,
				       struct store_summary *out, struct aclm_err *err);
aclm_status store__sqlite_key_put(void *state, const struct store_key *k, struct aclm_err *err);
aclm_status store__sqlite_key_get(void *state, int64_t tenant, const char *id,
				  struct store_key **out, struct aclm_err *err);
aclm_status store__sqlite_key_delete(void *state, int64_t tenant, const char *id,
				     struct aclm_err *err);
aclm_status store__sqlite_audit_last_hash(void *state, char out[65], struct aclm_err *err);
aclm_status store__sqlite_audit_insert(void *state, const struct store_audit_event *e, int64_t at,
				       const char *detail_json, const char *prev_hash,
				       const char *hash, struct aclm_err *err);
aclm_status store__sqlite_audit_verify(void *state, int64_t *count, struct aclm_err *err);
aclm_status store__sqlite_audit_list(void *state, int64_t tenant, int64_t after_id, int64_t limit,
				     store_audit_cb cb, void *arg, struct aclm_err *err);
aclm_status store__sqlite_backup(void *state, const char *path, struct aclm_err *err);
aclm_status store__sqlite_acme_account_put(void *state, const struct store_acme_account *a,
					   int64_t *id, struct aclm_err *err);
aclm_status store__sqlite_acme_account_get(void *state, int64_t tenant, int64_t id,
					   struct store_acme_account **out, struct aclm_err *err);
aclm_status store__sqlite_acme_account_find(void *state, int64_t tenant, const char *server,
					    struct store_acme_account **out,
					    struct aclm_err *err);
aclm_status store__sqlite_acme_account_list(void *state, int64_t tenant,
					    store_acme_account_cb cb, void *arg,
					    struct aclm_err *err);
aclm_status store__sqlite_acme_account_page(void *state, int64_t tenant, int64_t after_id,
					    int64_t limit, store_acme_account_cb cb, void *arg,
					    struct aclm_err *err);
aclm_status store__sqlite_lineage_put(void *state, const struct store_lineage *l, int64_t *id,
				      struct aclm_err *err);
aclm_status store__sqlite_lineage_get(void *state, int64_t tenant, const char *name,
				      struct store_lineage **out, struct aclm_err *err);
aclm_status store__sqlite_lineage_list(void *state, int64_t tenant, store_lineage_cb cb,
				       void *arg, struct aclm_err *err);
aclm_status store__sqlite_lineage_page(void *state, int64_t tenant, int64_t after_id,
				       int64_t limit, store_lineage_cb cb, void *arg,
				       struct aclm_err *err);
aclm_status store__sqlite_lineage_lock(void *state, int64_t tenant, const char *name,
				       const char *owner, int64_t until, struct aclm_err *err);
aclm_status store__sqlite_lineage_unlock(void *state, int64_t tenant, const char *name,
					 const char *owner, struct aclm_err *err);
aclm_status store__sqlite_ca_put(void *state, const struct store_ca *ca, int64_t *id,
				 struct aclm_err *err);
aclm_status store__sqlite_ca_list(void *state, int64_t tenant, const char *name, store_ca_cb cb,
				  void *arg, struct aclm_err *err);
aclm_status store__sqlite_ca_cross_put(void *state, int64_t tenant, int64_t ca_id,
				       int64_t cert_id, struct aclm_err *err);
aclm_status store__sqlite_ca_cross_list(void *state, int64_t tenant, int64_t ca_id,
					int64_t *cert_ids, size_t max, size_t *n,
					struct aclm_err *err);
aclm_status store__sqlite_ca_account_put(void *state, const struct store_ca_account *a,
					 struct aclm_err *err);
aclm_status store__sqlite_ca_account_get(void *state, int64_t tenant, const char *ca_name,
					 const char *id, struct store_ca_account **out,
					 struct aclm_err *err);
aclm_status store__sqlite_ca_account_find(void *state, int64_t tenant, const char *ca_name,
					  const char *thumbprint, struct store_ca_account **out,
					  struct aclm_err *err);
aclm_status store__sqlite_ca_order_put(void *state, const struct store_ca_order *o,
				       struct aclm_err *err);
aclm_status store__sqlite_ca_order_get(void *state, int64_t tenant, const char *ca_name,
				       const char *id, struct store_ca_order **out,
				       struct aclm_err *err);
aclm_status store__sqlite_ca_authz_put(void *state, const struct store_ca_authz *a,
				       struct aclm_err *err);
aclm_status store__sqlite_ca_authz_get(void *state, int64_t tenant, const char *ca_name,
				       const char *id, struct store_ca_authz **out,
				       struct aclm_err *err);
aclm_status store__sqlite_ca_authz_find_valid(void *state, int64_t tenant, const char *ca_name,
					      const char *account_id, const char *ident_type,
					      const char *ident_value, bool wildcard, int64_t now,
					      int64_t min_expires, struct store_ca_authz **out,
					      struct aclm_err *err);
aclm_status store__sqlite_ca_authz_list_va_pending(void *state, int64_t tenant,
						   const char *ca_name, store_ca_authz_cb cb,
						   void *arg, struct aclm_err *err);
aclm_status store__sqlite_ca_issued_put(void *state, const struct store_ca_issued *c,
					struct aclm_err *err);
aclm_status store__sqlite_ca_issued_get(void *state, int64_t tenant, const char *ca_name,
					const char *serial, struct store_ca_issued **out,
					struct aclm_err *err);
aclm_status store__sqlite_ca_issued_revoke(void *state, int64_t tenant, const char *ca_name,
					   const char *serial, int reason, int64_t at,
					   struct aclm_err *err);
aclm_status store__sqlite_ca_issued_replace(void *state, int64_t tenant, const char *ca_name,
					    const char *serial, const char *order_id,
					    struct aclm_err *err);
aclm_status store__sqlite_ca_issued_list(void *state, int64_t tenant, const char *ca_name,
					 const char *key_type, bool revoked_only,
					 store_ca_issued_cb cb, void *arg, struct aclm_err *err);
aclm_status store__sqlite_ca_eab_put(void *state, const struct store_ca_eab *e,
				     struct aclm_err *err);
aclm_status store__sqlite_ca_eab_get(void *state, int64_t tenant, const char *ca_name,
				     const char *kid, struct store_ca_eab **out,
				     struct aclm_err *err);
aclm_status store__sqlite_ca_eab_bind(void *state, int64_t tenant, const char *ca_name,
				      const char *kid, const char *account_id,
				      struct aclm_err *err);

/* Statements of sqlite_caserver.c whose query plans the unit tests check:
 * an authorization by id, the reuse lookup, the restart scan of those
 * being validated, and the issued lists ([key type given][revoked only];
 * [1][1] is a CRL's). */
extern const char store__sqlite_ca_sql_authz_get[];
extern const char store__sqlite_ca_sql_authz_find_valid[];
extern const char store__sqlite_ca_sql_authz_va_pending[];
extern const char *const store__sqlite_ca_sql_issued_list[2][2];

/* The area tables of the SQLite backend, one file each (sqlite_auth.c, ...). */
extern const struct store_auth_ops store__sqlite_auth_ops;
extern const struct store_sched_ops store__sqlite_sched_ops;
extern const struct store_notify_ops store__sqlite_notify_ops;
extern const struct store_scan_ops store__sqlite_scan_ops;
extern const struct store_deploy_ops store__sqlite_deploy_ops;

#endif
