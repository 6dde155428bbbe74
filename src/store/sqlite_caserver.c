/* SQLite backend: the built-in CA's ACME server state (accounts, orders,
 * authorizations, issued certificates, EAB keys). Every row is scoped by
 * the CA's tenant and CA name, and every statement here names both. */
#include "store/sqlite_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/time.h"

/* JSON columns (JWKs, challenge lists, identifier lists, allow lists) and
 * certificates: far above what they hold, enforced on write so that every
 * row written reads back. */
#define CASRV_JSON_MAX (1u << 20)
#define CASRV_DER_MAX (1u << 20)
#define CASRV_SEALED_MAX 4096u /* a sealed HMAC key: 31 bytes + the key */

#define ACCOUNT_COLUMNS                                                                     \
	"id, tenant_id, ca_name, member_tenant, thumbprint, jwk, contact, status, eab_kid, " \
	"allow, created_at, updated_at"
#define ORDER_COLUMNS                                                                       \
	"id, tenant_id, ca_name, account_id, status, identifiers, authz_ids, profile, "     \
	"not_before, not_after, expires, error, cert_serial, replaces, created_at, updated_at"
#define AUTHZ_COLUMNS                                                                       \
	"id, tenant_id, ca_name, account_id, ident_type, ident_value, wildcard, status, "   \
	"expires, challenges, va_pending, created_at, updated_at"
#define ISSUED_COLUMNS                                                                      \
	"serial, tenant_id, ca_name, key_type, account_id, order_id, cert_id, der, "        \
	"not_before, not_after, profile, revoked, revoked_at, reason, replaced_by, created_at"
#define EAB_COLUMNS "kid, tenant_id, ca_name, member_tenant, hmac_sealed, allow, account_id, created_at"

/* RFC 8555 §7.1.6: the statuses each object can have. */
static const char *const account_statuses[] = { "valid", "deactivated", "revoked", NULL };
static const char *const order_statuses[] = { "pending", "ready", "processing", "valid",
					      "invalid", NULL };
static const char *const authz_statuses[] = { "pending", "valid", "invalid", "deactivated",
					      "expired", "revoked", NULL };

/* ---- helpers ---- */

static bool given(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* An id held in a fixed array: set, and terminated inside the array. */
static bool fixed_given(const char *s, size_t cap)
{
	return s[0] != '\0' && memchr(s, '\0', cap) != NULL;
}

static bool one_of(const char *v, const char *const *list)
{
	for (size_t i = 0; v != NULL && list[i] != NULL; i++) {
		if (strcmp(v, list[i]) == 0)
			return true;
	}
	return false;
}

static bool lower_hex(const char *s)
{
	for (; *s != '\0'; s++) {
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	}
	return true;
}

/* RFC 5280 §5.3.1 CRLReason: 0..10, 7 unused. */
static bool reason_valid(int reason)
{
	return reason >= 0 && reason <= 10 && reason != 7;
}

static int64_t or_now(int64_t t, int64_t now)
{
	return t > 0 ? t : now;
}

/* Row ids where 0 means "none" are stored as NULL. */
static struct store__arg ref_arg(int64_t v)
{
	return v > 0 ? STORE__INT(v) : STORE__NULL;
}

/* Compact JSON of v within CASRV_JSON_MAX; NULL v gives dflt (which may be
 * NULL: the column is nullable). */
static aclm_status json_text(const json_t *v, const char *dflt, const char *field, char **out,
			     struct aclm_err *err)
{
	*out = NULL;
	if (v != NULL)
		*out = aclm_json_dump_compact(v);
	else if (dflt != NULL)
		*out = strdup(dflt);
	else
		return ACLM_OK;
	if (*out == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "CA server: cannot serialise %s", field);
	if (strlen(*out) > CASRV_JSON_MAX) {
		free(*out);
		*out = NULL;
		return aclm_err_set(err, ACLM_ERR_TOOBIG, "CA server: %s longer than %u bytes of JSON",
				    field, CASRV_JSON_MAX);
	}
	return ACLM_OK;
}

/* A JSON column of the given type; SQL NULL is NULL when nullable. */
static aclm_status json_col(sqlite3_stmt *st, int col, json_type type, bool nullable,
			    const char *what, json_t **out, struct aclm_err *err)
{
	const char *text = (const char *)sqlite3_column_text(st, col);
	aclm_status ret;

	*out = NULL;
	if (text == NULL)
		return nullable ? ACLM_OK : aclm_err_set(err, ACLM_ERR_DB, "%s is NULL", what);
	ret = aclm_json_parse(text, (size_t)sqlite3_column_bytes(st, col), CASRV_JSON_MAX, what,
			      out, err);
	if (ret == ACLM_OK && json_typeof(*out) != type) {
		json_decref(*out);
		*out = NULL;
		ret = aclm_err_set(err, ACLM_ERR_DB, "%s has the wrong JSON type", what);
	}
	return ret;
}

/* A text column into a fixed array; false when NULL or too long. */
static bool fixed_col(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = t != NULL ? (size_t)sqlite3_column_bytes(st, col) : 0;

	if (t == NULL || n >= cap)
		return false;
	memcpy(dst, t, n);
	dst[n] = '\0';
	return true;
}

/* A blob column as a malloc'd copy; false when out of memory. */
static bool blob_col(sqlite3_stmt *st, int col, unsigned char **dst, size_t *len)
{
	const void *p = sqlite3_column_blob(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);

	*dst = NULL;
	*len = 0;
	if (p == NULL || n == 0)
		return true;
	*dst = malloc(n);
	if (*dst == NULL)
		return false;
	memcpy(*dst, p, n);
	*len = n;
	return true;
}

static aclm_status nomem(const struct store__sqlite *s, struct aclm_err *err)
{
	return aclm_err_set(err, ACLM_ERR_NOMEM, "%s: out of memory", s->path);
}

/* One row by (tenant, ca_name, key) with a cached statement whose
 * parameters are exactly those three; none -> ACLM_ERR_NOTFOUND. */
static aclm_status get_one(struct store__sqlite *s, enum store__sqlite_stmt_id id,
			   const char *sql, int64_t tenant, const char *ca_name, const char *key,
			   store__sqlite_row_fn row, void *out, const char *noun,
			   struct aclm_err *err)
{
	bool found = false;
	aclm_status ret;

	if (!given(ca_name) || !given(key))
		return aclm_err_set(err, ACLM_ERR_INVALID, "%s: CA name and id are required", noun);
	ret = store__sqlite_run(s, id, sql,
				STORE__ARGS(STORE__INT(tenant), STORE__TEXT(ca_name),
					    STORE__TEXT(key)),
				row, out, &found, noun, err);
	if (ret == ACLM_OK && !found)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "%s %s not found in CA %s", noun, key,
				   ca_name);
	return ret;
}

/* Runs a cached conditional UPDATE or upsert; *changed says whether it
 * matched (the reset in store__sqlite_run leaves sqlite3_changes() alone). */
static aclm_status update_one(struct store__sqlite *s, enum store__sqlite_stmt_id id,
			      const char *sql, const struct store__arg *args, size_t nargs,
			      bool *changed, const char *what, struct aclm_err *err)
{
	aclm_status ret = store__sqlite_run(s, id, sql, args, nargs, NULL, NULL, NULL, what, err);

	*changed = ret == ACLM_OK && sqlite3_changes(s->db) > 0;
	return ret;
}

/* ---- accounts ---- */

static aclm_status account_check(const struct store_ca_account *a, struct aclm_err *err)
{
	if (!given(a->ca_name) || !fixed_given(a->id, sizeof(a->id)) ||
	    !fixed_given(a->thumbprint, sizeof(a->thumbprint)) || !given(a->status))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "CA account: CA name, id, thumbprint and status are required");
	if (a->member_tenant <= 0)
		return aclm_err_set(err, ACLM_ERR_INVALID, "CA account %s: no member tenant", a->id);
	if (!one_of(a->status, account_statuses))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "CA account %s: status \"%s\" is not valid, deactivated or revoked",
				    a->id, a->status);
	if (!json_is_object(a->jwk) || (a->contact != NULL && !json_is_array(a->contact)) ||
	    (a->allow != NULL && !json_is_array(a->allow)))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "CA account %s: jwk must be an object, contact and allow arrays",
				    a->id);
	return ACLM_OK;
}

/* An upsert, not INSERT OR REPLACE: that deletes the row first, which the
 * foreign keys of orders and authorizations would refuse. created_at stays
 * the first put's; the thumbprint's UNIQUE refuses a key another account
 * holds. */
static const char sql_account_put[] =
	"INSERT INTO ca_accounts(tenant_id, ca_name, id, member_tenant, thumbprint, jwk, contact,"
	" status, eab_kid, allow, created_at, updated_at)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
	" ON CONFLICT(tenant_id, ca_name, id) DO UPDATE SET member_tenant = excluded.member_tenant,"
	" thumbprint = excluded.thumbprint, jwk = excluded.jwk, contact = excluded.contact,"
	" status = excluded.status, eab_kid = excluded.eab_kid, allow = excluded.allow,"
	" updated_at = excluded.updated_at";

aclm_status store__sqlite_ca_account_put(void *state, const struct store_ca_account *a,
					 struct aclm_err *err)
{
	char *jwk = NULL, *contact = NULL, *allow = NULL;
	int64_t now = aclm_time_now();
	aclm_status ret = account_check(a, err);

	if (ret == ACLM_OK)
		ret = json_text(a->jwk, NULL, "account jwk", &jwk, err);
	if (ret == ACLM_OK)
		ret = json_text(a->contact, "[]", "account contact", &contact, err);
	if (ret == ACLM_OK)
		ret = json_text(a->allow, NULL, "account allow", &allow, err);
	if (ret == ACLM_OK)
		ret = store__sqlite_run(
			state, SQ_CA_ACCOUNT_PUT, sql_account_put,
			STORE__ARGS(STORE__INT(a->tenant_id), STORE__TEXT(a->ca_name),
				    STORE__TEXT(a->id), STORE__INT(a->member_tenant),
				    STORE__TEXT(a->thumbprint), STORE__TEXT(jwk),
				    STORE__TEXT(contact), STORE__TEXT(a->status),
				    STORE__TEXT(a->eab_kid), STORE__TEXT(allow),
				    STORE__INT(or_now(a->created_at, now)), STORE__INT(now)),
			NULL, NULL, NULL, "store CA account", err);
	/* The primary key is the conflict target, so EXISTS is the thumbprint;
	 * INVALID can only be the member tenant's foreign key. */
	if (ret == ACLM_ERR_EXISTS)
		ret = aclm_err_set(err, ACLM_ERR_EXISTS,
				   "CA %s: another account already has key thumbprint %s",
				   a->ca_name, a->thumbprint);
	else if (ret == ACLM_ERR_INVALID)
		ret = aclm_err_set(err, ACLM_ERR_INVALID, "CA account %s: member tenant %lld does not "
				   "exist", a->id, (long long)a->member_tenant);
	free(jwk);
	free(contact);
	free(allow);
	return ret;
}

static aclm_status account_json(sqlite3_stmt *st, struct store_ca_account *a,
				struct aclm_err *err)
{
	aclm_status ret = json_col(st, 5, JSON_OBJECT, false, "CA account jwk", &a->jwk, err);

	if (ret == ACLM_OK)
		ret = json_col(st, 6, JSON_ARRAY, false, "CA account contact", &a->contact, err);
	if (ret == ACLM_OK)
		ret = json_col(st, 9, JSON_ARRAY, true, "CA account allow", &a->allow, err);
	return ret;
}

/* A store__sqlite_row_fn; out is a struct store_ca_account **. */
static aclm_status account_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
			       struct aclm_err *err)
{
	struct store_ca_account **res = out;
	struct store_ca_account *a = calloc(1, sizeof(*a));
	bool ok = true;
	aclm_status ret;

	*res = NULL;
	if (a == NULL)
		return nomem(s, err);
	a->tenant_id = sqlite3_column_int64(st, 1);
	a->ca_name = store__sqlite_text_dup(st, 2, &ok);
	a->member_tenant = sqlite3_column_int64(st, 3);
	a->status = store__sqlite_text_dup(st, 7, &ok);
	a->eab_kid = store__sqlite_text_dup(st, 8, &ok);
	a->created_at = sqlite3_column_int64(st, 10);
	a->updated_at = sqlite3_column_int64(st, 11);
	if (!fixed_col(st, 0, a->id, sizeof(a->id)) ||
	    !fixed_col(st, 4, a->thumbprint, sizeof(a->thumbprint)))
		ret = aclm_err_set(err, ACLM_ERR_DB, "%s: CA account id or thumbprint too long",
				   s->path);
	else
		ret = ok ? account_json(st, a, err) : nomem(s, err);
	if (ret != ACLM_OK) {
		store_ca_account_free(a);
		return ret;
	}
	*res = a;
	return ACLM_OK;
}

aclm_status store__sqlite_ca_account_get(void *state, int64_t tenant, const char *ca_name,
					 const char *id, struct store_ca_account **out,
					 struct aclm_err *err)
{
	*out = NULL;
	return get_one(state, SQ_CA_ACCOUNT_GET,
		       "SELECT " ACCOUNT_COLUMNS " FROM ca_accounts"
		       " WHERE tenant_id = ?1 AND ca_name = ?2 AND id = ?3",
		       tenant, ca_name, id, account_row, out, "CA account", err);
}

aclm_status store__sqlite_ca_account_find(void *state, int64_t tenant, const char *ca_name,
					  const char *thumbprint, struct store_ca_account **out,
					  struct aclm_err *err)
{
	*out = NULL;
	return get_one(state, SQ_CA_ACCOUNT_FIND,
		       "SELECT " ACCOUNT_COLUMNS " FROM ca_accounts"
		       " WHERE tenant_id = ?1 AND ca_name = ?2 AND thumbprint = ?3",
		       tenant, ca_name, thumbprint, account_row, out, "CA account with key",
		       err);
}

/* ---- orders ---- */

static aclm_status order_check(const struct store_ca_order *o, struct aclm_err *err)
{
	if (!given(o->ca_name) || !fixed_given(o->id, sizeof(o->id)) || !given(o->account_id) ||
	    !given(o->status))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "CA order: CA name, id, account and status are required");
	if (!one_of(o->status, order_statuses))
		return aclm_err_set(err, ACLM_ERR_INVALID, "CA order %s: status \"%s\" is unknown",
				    o->id, o->status);
	if (!json_is_array(o->identifiers) || json_array_size(o->identifiers) == 0 ||
	    (o->authz_ids != NULL && !json_is_array(o->authz_ids)) ||
	    (o->error != NULL && !json_is_object(o->error)))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "CA order %s: identifiers must be a non-empty array, authz_ids "
				    "an array, error an object", o->id);
	return ACLM_OK;
}

/* An order's account never changes: the update leaves it out of SET (an
 * assigned foreign key column is looked up in ca_accounts again) and the
 * WHERE refuses another account (no row changed). */
static const char sql_order_put[] =
	"INSERT INTO ca_orders(tenant_id, ca_name, id, account_id, status, identifiers, authz_ids,"
	" profile, not_before, not_after, expires, error, cert_serial, replaces, created_at,"
	" updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
	" ON CONFLICT(tenant_id, ca_name, id) DO UPDATE SET"
	" status = excluded.status, identifiers = excluded.identifiers,"
	" authz_ids = excluded.authz_ids, profile = excluded.profile,"
	" not_before = excluded.not_before, not_after = excluded.not_after,"
	" expires = excluded.expires, error = excluded.error, cert_serial = excluded.cert_serial,"
	" replaces = excluded.replaces, updated_at = excluded.updated_at"
	" WHERE account_id = excluded.account_id";

struct order_text {
	char *identifiers, *authz_ids, *error;
};

#define ORDER_NARGS 16

static void order_args(struct store__arg a[ORDER_NARGS], const struct store_ca_order *o,
		       const struct order_text *t, int64_t now)
{
	a[0] = STORE__INT(o->tenant_id);
	a[1] = STORE__TEXT(o->ca_name);
	a[2] = STORE__TEXT(o->id);
	a[3] = STORE__TEXT(o->account_id);
	a[4] = STORE__TEXT(o->status);
	a[5] = STORE__TEXT(t->identifiers);
	a[6] = STORE__TEXT(t->authz_ids);
	a[7] = STORE__TEXT(o->profile);
	a[8] = STORE__INT(o->not_before);
	a[9] = STORE__INT(o->not_after);
	a[10] = STORE__INT(o->expires);
	a[11] = STORE__TEXT(t->error);
	a[12] = STORE__TEXT(o->cert_serial);
	a[13] = STORE__TEXT(o->replaces);
	a[14] = STORE__INT(or_now(o->created_at, now));
	a[15] = STORE__INT(now);
}

aclm_status store__sqlite_ca_order_put(void *state, const struct store_ca_order *o,
				       struct aclm_err *err)
{
	struct order_text t = { 0 };
	struct store__arg args[ORDER_NARGS];
	bool changed = false;
	aclm_status ret = order_check(o, err);

	if (ret == ACLM_OK)
		ret = json_text(o->identifiers, NULL, "order identifiers", &t.identifiers, err);
	if (ret == ACLM_OK)
		ret = json_text(o->authz_ids, "[]", "order authz_ids", &t.authz_ids, err);
	if (ret == ACLM_OK)
		ret = json_text(o->error, NULL, "order error", &t.error, err);
	if (ret == ACLM_OK) {
		order_args(args, o, &t, aclm_time_now());
		ret = update_one(state, SQ_CA_ORDER_PUT, sql_order_put, args, ORDER_NARGS,
				 &changed, "store CA order", err);
		/* INVALID from SQLite can only be the account's foreign key. */
		if (ret == ACLM_ERR_INVALID)
			ret = aclm_err_set(err, ACLM_ERR_INVALID, "CA order %s: account %s is not "
					   "an account of CA %s", o->id, o->account_id, o->ca_name);
		else if (ret == ACLM_OK && !changed)
			ret = aclm_err_set(err, ACLM_ERR_INVALID, "CA order %s belongs to another "
					   "account than %s", o->id, o->account_id);
	}
	free(t.identifiers);
	free(t.authz_ids);
	free(t.error);
	return ret;
}

static aclm_status order_json(sqlite3_stmt *st, struct store_ca_order *o, struct aclm_err *err)
{
	aclm_status ret = json_col(st, 5, JSON_ARRAY, false, "CA order identifiers",
				   &o->identifiers, err);

	if (ret == ACLM_OK)
		ret = json_col(st, 6, JSON_ARRAY, false, "CA order authz_ids", &o->authz_ids, err);
	if (ret == ACLM_OK)
		ret = json_col(st, 11, JSON_OBJECT, true, "CA order error", &o->error, err);
	return ret;
}

/* A store__sqlite_row_fn; out is a struct store_ca_order **. */
static aclm_status order_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
			     struct aclm_err *err)
{
	struct store_ca_order **res = out;
	struct store_ca_order *o = calloc(1, sizeof(*o));
	bool ok = true;
	aclm_status ret;

	*res = NULL;
	if (o == NULL)
		return nomem(s, err);
	o->tenant_id = sqlite3_column_int64(st, 1);
	o->ca_name = store__sqlite_text_dup(st, 2, &ok);
	o->account_id = store__sqlite_text_dup(st, 3, &ok);
	o->status = store__sqlite_text_dup(st, 4, &ok);
	o->profile = store__sqlite_text_dup(st, 7, &ok);
	o->not_before = sqlite3_column_int64(st, 8);
	o->not_after = sqlite3_column_int64(st, 9);
	o->expires = sqlite3_column_int64(st, 10);
	o->cert_serial = store__sqlite_text_dup(st, 12, &ok);
	o->replaces = store__sqlite_text_dup(st, 13, &ok);
	o->created_at = sqlite3_column_int64(st, 14);
	o->updated_at = sqlite3_column_int64(st, 15);
	if (!fixed_col(st, 0, o->id, sizeof(o->id)))
		ret = aclm_err_set(err, ACLM_ERR_DB, "%s: CA order id too long", s->path);
	else
		ret = ok ? order_json(st, o, err) : nomem(s, err);
	if (ret != ACLM_OK) {
		store_ca_order_free(o);
		return ret;
	}
	*res = o;
	return ACLM_OK;
}

aclm_status store__sqlite_ca_order_get(void *state, int64_t tenant, const char *ca_name,
				       const char *id, struct store_ca_order **out,
				       struct aclm_err *err)
{
	*out = NULL;
	return get_one(state, SQ_CA_ORDER_GET,
		       "SELECT " ORDER_COLUMNS " FROM ca_orders"
		       " WHERE tenant_id = ?1 AND ca_name = ?2 AND id = ?3",
		       tenant, ca_name, id, order_row, out, "CA order", err);
}

/* ---- authorizations ---- */

static bool ident_type_known(const char *t)
{
	return t != NULL && (strcmp(t, "dns") == 0 || strcmp(t, "ip") == 0);
}

static aclm_status authz_check(const struct store_ca_authz *a, struct aclm_err *err)
{
	if (!given(a->ca_name) || !fixed_given(a->id, sizeof(a->id)) || !given(a->account_id) ||
	    !given(a->ident_value) || !given(a->status))
		return aclm_err_set(err, ACLM_ERR_INVALID, "CA authorization: CA name, id, account, "
				    "identifier and status are required");
	if (!ident_type_known(a->ident_type))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "CA authorization %s: identifier type must be dns or ip", a->id);
	/* RFC 8555 §7.1.4: the wildcard is a flag, the value has no "*.". */
	if (strncmp(a->ident_value, "*.", 2) == 0)
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "CA authorization %s: identifier %s keeps its \"*.\"; set "
				    "wildcard instead", a->id, a->ident_value);
	if (!one_of(a->status, authz_statuses))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "CA authorization %s: status \"%s\" is unknown", a->id, a->status);
	if (a->challenges != NULL && !json_is_array(a->challenges))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "CA authorization %s: challenges must be an array", a->id);
	return ACLM_OK;
}

/* An authorization's account and identifier never change. SQLite rewrites
 * an index entry whenever its columns are assigned, equal or not, so the
 * update assigns only what changes and ca_authzs_reuse (the identity) is
 * written once, at insert; the WHERE refuses another identity. */
static const char sql_authz_put[] =
	"INSERT INTO ca_authzs(tenant_id, ca_name, id, account_id, ident_type, ident_value,"
	" wildcard, status, expires, challenges, va_pending, created_at, updated_at)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
	" ON CONFLICT(tenant_id, ca_name, id) DO UPDATE SET status = excluded.status,"
	" expires = excluded.expires, challenges = excluded.challenges,"
	" va_pending = excluded.va_pending, updated_at = excluded.updated_at"
	" WHERE account_id = excluded.account_id AND ident_type = excluded.ident_type"
	" AND ident_value = excluded.ident_value AND wildcard = excluded.wildcard";

aclm_status store__sqlite_ca_authz_put(void *state, const struct store_ca_authz *a,
				       struct aclm_err *err)
{
	char *challenges = NULL;
	int64_t now = aclm_time_now();
	bool changed = false;
	aclm_status ret = authz_check(a, err);

	if (ret == ACLM_OK)
		ret = json_text(a->challenges, "[]", "authorization challenges", &challenges, err);
	if (ret != ACLM_OK)
		goto out;
	ret = update_one(state, SQ_CA_AUTHZ_PUT, sql_authz_put,
			 STORE__ARGS(STORE__INT(a->tenant_id), STORE__TEXT(a->ca_name),
				     STORE__TEXT(a->id), STORE__TEXT(a->account_id),
				     STORE__TEXT(a->ident_type), STORE__TEXT(a->ident_value),
				     STORE__INT(a->wildcard ? 1 : 0), STORE__TEXT(a->status),
				     STORE__INT(a->expires), STORE__TEXT(challenges),
				     STORE__INT(a->va_pending ? 1 : 0),
				     STORE__INT(or_now(a->created_at, now)), STORE__INT(now)),
			 &changed, "store CA authorization", err);
	/* INVALID from SQLite can only be the account's foreign key. */
	if (ret == ACLM_ERR_INVALID)
		ret = aclm_err_set(err, ACLM_ERR_INVALID, "CA authorization %s: account %s is not "
				   "an account of CA %s", a->id, a->account_id, a->ca_name);
	else if (ret == ACLM_OK && !changed)
		ret = aclm_err_set(err, ACLM_ERR_INVALID, "CA authorization %s belongs to another "
				   "account or identifier than %s %s%s", a->id, a->account_id,
				   a->wildcard ? "*." : "", a->ident_value);
out:
	free(challenges);
	return ret;
}

/* A store__sqlite_row_fn; out is a struct store_ca_authz **. */
static aclm_status authz_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
			     struct aclm_err *err)
{
	struct store_ca_authz **res = out;
	struct store_ca_authz *a = calloc(1, sizeof(*a));
	bool ok = true;
	aclm_status ret;

	*res = NULL;
	if (a == NULL)
		return nomem(s, err);
	a->tenant_id = sqlite3_column_int64(st, 1);
	a->ca_name = store__sqlite_text_dup(st, 2, &ok);
	a->account_id = store__sqlite_text_dup(st, 3, &ok);
	a->ident_type = store__sqlite_text_dup(st, 4, &ok);
	a->ident_value = store__sqlite_text_dup(st, 5, &ok);
	a->wildcard = sqlite3_column_int64(st, 6) != 0;
	a->status = store__sqlite_text_dup(st, 7, &ok);
	a->expires = sqlite3_column_int64(st, 8);
	a->va_pending = sqlite3_column_int64(st, 10) != 0;
	a->created_at = sqlite3_column_int64(st, 11);
	a->updated_at = sqlite3_column_int64(st, 12);
	if (!fixed_col(st, 0, a->id, sizeof(a->id)))
		ret = aclm_err_set(err, ACLM_ERR_DB, "%s: CA authorization id too long", s->path);
	else if (!ok)
		ret = nomem(s, err);
	else
		ret = json_col(st, 9, JSON_ARRAY, false, "CA authorization challenges",
			       &a->challenges, err);
	if (ret != ACLM_OK) {
		store_ca_authz_free(a);
		return ret;
	}
	*res = a;
	return ACLM_OK;
}

const char store__sqlite_ca_sql_authz_get[] =
	"SELECT " AUTHZ_COLUMNS " FROM ca_authzs WHERE tenant_id = ?1 AND ca_name = ?2 AND id = ?3";

aclm_status store__sqlite_ca_authz_get(void *state, int64_t tenant, const char *ca_name,
				       const char *id, struct store_ca_authz **out,
				       struct aclm_err *err)
{
	*out = NULL;
	return get_one(state, SQ_CA_AUTHZ_GET, store__sqlite_ca_sql_authz_get, tenant, ca_name,
		       id, authz_row, out, "CA authorization", err);
}

/* Walks ca_authzs_reuse to the account's few authorizations of the
 * identifier and keeps the valid one that expires last: beside max() the
 * other columns are that row's (https://www.sqlite.org/lang_select.html,
 * "bare columns"), with no sort. Without a match the one row is NULLs. */
const char store__sqlite_ca_sql_authz_find_valid[] =
	"SELECT " AUTHZ_COLUMNS ", max(expires) FROM ca_authzs"
	" WHERE tenant_id = ?1 AND ca_name = ?2 AND account_id = ?3 AND ident_type = ?4"
	" AND ident_value = ?5 AND wildcard = ?6 AND status = 'valid' AND expires > ?7";

/* A store__sqlite_row_fn for that row; NULLs leave *out NULL. */
static aclm_status latest_authz_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
				    struct aclm_err *err)
{
	if (sqlite3_column_type(st, 0) != SQLITE_NULL)
		return authz_row(s, st, out, err);
	*(struct store_ca_authz **)out = NULL;
	return ACLM_OK;
}

aclm_status store__sqlite_ca_authz_find_valid(void *state, int64_t tenant, const char *ca_name,
					      const char *account_id, const char *ident_type,
					      const char *ident_value, bool wildcard, int64_t now,
					      int64_t min_expires, struct store_ca_authz **out,
					      struct aclm_err *err)
{
	bool found = false;
	aclm_status ret;

	*out = NULL;
	if (!given(ca_name) || !given(account_id) || !given(ident_type) || !given(ident_value))
		return aclm_err_set(err, ACLM_ERR_INVALID, "CA authorization lookup: CA name, "
				    "account and identifier are required");
	ret = store__sqlite_run(state, SQ_CA_AUTHZ_FIND_VALID, store__sqlite_ca_sql_authz_find_valid,
				STORE__ARGS(STORE__INT(tenant), STORE__TEXT(ca_name),
					    STORE__TEXT(account_id), STORE__TEXT(ident_type),
					    STORE__TEXT(ident_value), STORE__INT(wildcard ? 1 : 0),
					    STORE__INT(now > min_expires ? now : min_expires)),
				latest_authz_row, out, &found, "find CA authorization", err);
	if (ret == ACLM_OK && (!found || *out == NULL))
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND,
				   "CA %s: no valid authorization of account %s for %s%s", ca_name,
				   account_id, wildcard ? "*." : "", ident_value);
	return ret;
}

/* The literal va_pending = 1 lets SQLite use the partial index. */
const char store__sqlite_ca_sql_authz_va_pending[] =
	"SELECT " AUTHZ_COLUMNS " FROM ca_authzs WHERE tenant_id = ?1 AND ca_name = ?2"
	" AND va_pending = 1 ORDER BY created_at, id";

/* Prepared per call: the callback may use the store while this steps. */
aclm_status store__sqlite_ca_authz_list_va_pending(void *state, int64_t tenant,
						   const char *ca_name, store_ca_authz_cb cb,
						   void *arg, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	struct store_ca_authz *a = NULL;
	sqlite3_stmt *st = NULL;
	aclm_status ret = ACLM_OK;
	int rc;

	if (!given(ca_name))
		return aclm_err_set(err, ACLM_ERR_INVALID, "CA authorization list: no CA name");
	rc = sqlite3_prepare_v2(s->db, store__sqlite_ca_sql_authz_va_pending, -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, tenant);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, ca_name, -1, SQLITE_STATIC);
	while (ret == ACLM_OK && rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = authz_row(s, st, &a, err);
		if (ret == ACLM_OK)
			ret = cb(a, arg);
		store_ca_authz_free(a);
		a = NULL;
		rc = SQLITE_OK;
	}
	if (ret == ACLM_OK && rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, "list CA authorizations being validated");
	sqlite3_finalize(st);
	return ret;
}

/* ---- issued certificates ---- */

static aclm_status issued_check(const struct store_ca_issued *c, struct aclm_err *err)
{
	if (!given(c->ca_name) || !fixed_given(c->serial, sizeof(c->serial)) ||
	    !given(c->key_type))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "CA issued certificate: CA name, serial and key type are required");
	if (!lower_hex(c->serial))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "CA issued certificate: serial %s is not lowercase hex", c->serial);
	if (c->der == NULL || c->der_len == 0 || c->der_len > CASRV_DER_MAX)
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "CA issued certificate %s: DER missing or over %u bytes", c->serial,
				    CASRV_DER_MAX);
	if (c->revoked && !reason_valid(c->reason))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "CA issued certificate %s: revocation reason %d is not a CRLReason",
				    c->serial, c->reason);
	if (c->cert_id < 0)
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "CA issued certificate %s: negative certificate id", c->serial);
	return ACLM_OK;
}

static const char sql_issued_put[] =
	"INSERT INTO ca_issued(tenant_id, ca_name, serial, key_type, account_id, order_id, cert_id,"
	" der, not_before, not_after, profile, revoked, revoked_at, reason, replaced_by, created_at)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";

#define ISSUED_NARGS 16

static void issued_args(struct store__arg a[ISSUED_NARGS], const struct store_ca_issued *c)
{
	a[0] = STORE__INT(c->tenant_id);
	a[1] = STORE__TEXT(c->ca_name);
	a[2] = STORE__TEXT(c->serial);
	a[3] = STORE__TEXT(c->key_type);
	a[4] = STORE__TEXT(c->account_id);
	a[5] = STORE__TEXT(c->order_id);
	a[6] = ref_arg(c->cert_id);
	a[7] = STORE__BLOB(c->der, c->der_len);
	a[8] = STORE__INT(c->not_before);
	a[9] = STORE__INT(c->not_after);
	a[10] = STORE__TEXT(c->profile);
	a[11] = STORE__INT(c->revoked ? 1 : 0);
	a[12] = STORE__INT(c->revoked ? c->revoked_at : 0);
	a[13] = STORE__INT(c->revoked ? c->reason : 0);
	a[14] = STORE__TEXT(c->replaced_by);
	a[15] = STORE__INT(or_now(c->created_at, aclm_time_now()));
}

aclm_status store__sqlite_ca_issued_put(void *state, const struct store_ca_issued *c,
					struct aclm_err *err)
{
	struct store__arg args[ISSUED_NARGS];
	aclm_status ret = issued_check(c, err);

	if (ret != ACLM_OK)
		return ret;
	issued_args(args, c);
	ret = store__sqlite_run(state, SQ_CA_ISSUED_PUT, sql_issued_put, args, ISSUED_NARGS, NULL,
				NULL, NULL, "store CA issued certificate", err);
	if (ret == ACLM_ERR_EXISTS)
		ret = aclm_err_set(err, ACLM_ERR_EXISTS, "CA %s: serial %s was already issued",
				   c->ca_name, c->serial);
	else if (ret == ACLM_ERR_INVALID)
		ret = aclm_err_set(err, ACLM_ERR_INVALID,
				   "CA %s: serial %s: account %s is not an account of this CA, or "
				   "certificate %lld does not exist", c->ca_name, c->serial,
				   c->account_id != NULL ? c->account_id : "(none)",
				   (long long)c->cert_id);
	return ret;
}

/* A store__sqlite_row_fn; out is a struct store_ca_issued **. */
static aclm_status issued_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
			      struct aclm_err *err)
{
	struct store_ca_issued **res = out;
	struct store_ca_issued *c = calloc(1, sizeof(*c));
	bool ok = true;
	aclm_status ret = ACLM_OK;

	*res = NULL;
	if (c == NULL)
		return nomem(s, err);
	c->tenant_id = sqlite3_column_int64(st, 1);
	c->ca_name = store__sqlite_text_dup(st, 2, &ok);
	c->key_type = store__sqlite_text_dup(st, 3, &ok);
	c->account_id = store__sqlite_text_dup(st, 4, &ok);
	c->order_id = store__sqlite_text_dup(st, 5, &ok);
	c->cert_id = sqlite3_column_int64(st, 6); /* NULL reads as 0 */
	ok = blob_col(st, 7, &c->der, &c->der_len) && ok;
	c->not_before = sqlite3_column_int64(st, 8);
	c->not_after = sqlite3_column_int64(st, 9);
	c->profile = store__sqlite_text_dup(st, 10, &ok);
	c->revoked = sqlite3_column_int64(st, 11) != 0;
	c->revoked_at = sqlite3_column_int64(st, 12);
	c->reason = sqlite3_column_int(st, 13);
	c->replaced_by = store__sqlite_text_dup(st, 14, &ok);
	c->created_at = sqlite3_column_int64(st, 15);
	if (!fixed_col(st, 0, c->serial, sizeof(c->serial)))
		ret = aclm_err_set(err, ACLM_ERR_DB, "%s: CA issued serial too long", s->path);
	else if (!ok)
		ret = nomem(s, err);
	if (ret != ACLM_OK) {
		store_ca_issued_free(c);
		return ret;
	}
	*res = c;
	return ACLM_OK;
}

aclm_status store__sqlite_ca_issued_get(void *state, int64_t tenant, const char *ca_name,
					const char *serial, struct store_ca_issued **out,
					struct aclm_err *err)
{
	*out = NULL;
	return get_one(state, SQ_CA_ISSUED_GET,
		       "SELECT " ISSUED_COLUMNS " FROM ca_issued"
		       " WHERE tenant_id = ?1 AND ca_name = ?2 AND serial = ?3",
		       tenant, ca_name, serial, issued_row, out, "CA issued certificate", err);
}

/* Why a conditional UPDATE of ca_issued matched nothing. */
struct issued_refusal {
	const char *serial;
	const char *order_id;      /* a replace: the order that asked; NULL: a revoke */
};

/* A store__sqlite_row_fn over (revoked, replaced_by); out is a struct
 * issued_refusal *. A row that no longer refuses changed between the
 * UPDATE and this read (never the case for the same order). */
static aclm_status refusal_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
			       struct aclm_err *err)
{
	const struct issued_refusal *r = out;
	const char *by = (const char *)sqlite3_column_text(st, 1);

	if (r->order_id == NULL && sqlite3_column_int64(st, 0) != 0)
		return aclm_err_set(err, ACLM_ERR_EXISTS, "certificate %s is already revoked",
				    r->serial);
	if (r->order_id != NULL && by != NULL && strcmp(by, r->order_id) != 0)
		return aclm_err_set(err, ACLM_ERR_EXISTS,
				    "certificate %s is already replaced by order %s", r->serial, by);
	return aclm_err_set(err, ACLM_ERR_BUSY, "%s: certificate %s changed meanwhile; try again",
			    s->path, r->serial);
}

static aclm_status issued_refused(struct store__sqlite *s, int64_t tenant, const char *ca_name,
				  struct issued_refusal *r, struct aclm_err *err)
{
	bool found = false;
	aclm_status ret = store__sqlite_run(s, SQ_CA_ISSUED_STATE,
					    "SELECT revoked, replaced_by FROM ca_issued"
					    " WHERE tenant_id = ?1 AND ca_name = ?2 AND serial = ?3",
					    STORE__ARGS(STORE__INT(tenant), STORE__TEXT(ca_name),
							STORE__TEXT(r->serial)),
					    refusal_row, r, &found, "read CA issued certificate", err);

	if (ret == ACLM_OK && !found)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "CA issued certificate %s not found in "
				   "CA %s", r->serial, ca_name);
	return ret;
}

/* The test (not yet revoked) and the change are one UPDATE, so of two
 * racing revocations exactly one succeeds. */
aclm_status store__sqlite_ca_issued_revoke(void *state, int64_t tenant, const char *ca_name,
					   const char *serial, int reason, int64_t at,
					   struct aclm_err *err)
{
	struct issued_refusal r = { .serial = serial };
	bool changed = false;
	aclm_status ret;

	if (!given(ca_name) || !given(serial))
		return aclm_err_set(err, ACLM_ERR_INVALID, "CA revoke: CA name and serial are required");
	if (!reason_valid(reason))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "CA revoke %s: reason %d is not a CRLReason (RFC 5280 §5.3.1)",
				    serial, reason);
	ret = update_one(state, SQ_CA_ISSUED_REVOKE,
			 "UPDATE ca_issued SET revoked = 1, revoked_at = ?5, reason = ?4"
			 " WHERE tenant_id = ?1 AND ca_name = ?2 AND serial = ?3 AND revoked = 0",
			 STORE__ARGS(STORE__INT(tenant), STORE__TEXT(ca_name), STORE__TEXT(serial),
				     STORE__INT(reason), STORE__INT(or_now(at, aclm_time_now()))),
			 &changed, "revoke CA issued certificate", err);
	if (ret == ACLM_OK && !changed)
		ret = issued_refused(state, tenant, ca_name, &r, err);
	return ret;
}

/* RFC 9773 §5: a certificate is replaced by one order only; the check and
 * the claim are one UPDATE, so two orders racing cannot both win. */
aclm_status store__sqlite_ca_issued_replace(void *state, int64_t tenant, const char *ca_name,
					    const char *serial, const char *order_id,
					    struct aclm_err *err)
{
	struct issued_refusal r = { .serial = serial, .order_id = order_id };
	bool changed = false;
	aclm_status ret;

	if (!given(ca_name) || !given(serial) || !given(order_id))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "CA replace: CA name, serial and order are required");
	ret = update_one(state, SQ_CA_ISSUED_REPLACE,
			 "UPDATE ca_issued SET replaced_by = ?4"
			 " WHERE tenant_id = ?1 AND ca_name = ?2 AND serial = ?3"
			 " AND (replaced_by IS NULL OR replaced_by = ?4)",
			 STORE__ARGS(STORE__INT(tenant), STORE__TEXT(ca_name), STORE__TEXT(serial),
				     STORE__TEXT(order_id)),
			 &changed, "mark CA issued certificate replaced", err);
	if (ret == ACLM_OK && !changed)
		ret = issued_refused(state, tenant, ca_name, &r, err);
	return ret;
}

/* Fixed texts, one per filter combination, so each can use its index
 * (ca_issued_crl, which holds only revoked rows, for a CRL: a key type and
 * revoked = 1, literally; else ca_issued_created). */
const char *const store__sqlite_ca_sql_issued_list[2][2] = {
	{ "SELECT " ISSUED_COLUMNS " FROM ca_issued WHERE tenant_id = ?1 AND ca_name = ?2"
	  " ORDER BY created_at, serial",
	  "SELECT " ISSUED_COLUMNS " FROM ca_issued WHERE tenant_id = ?1 AND ca_name = ?2"
	  " AND revoked = 1 ORDER BY created_at, serial" },
	{ "SELECT " ISSUED_COLUMNS " FROM ca_issued WHERE tenant_id = ?1 AND ca_name = ?2"
	  " AND key_type = ?3 ORDER BY created_at, serial",
	  "SELECT " ISSUED_COLUMNS " FROM ca_issued WHERE tenant_id = ?1 AND ca_name = ?2"
	  " AND key_type = ?3 AND revoked = 1 ORDER BY created_at, serial" },
};

/* Prepared per call, as the authorization listing. */
aclm_status store__sqlite_ca_issued_list(void *state, int64_t tenant, const char *ca_name,
					 const char *key_type, bool revoked_only,
					 store_ca_issued_cb cb, void *arg, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	struct store_ca_issued *c = NULL;
	sqlite3_stmt *st = NULL;
	aclm_status ret = ACLM_OK;
	int rc;

	if (!given(ca_name))
		return aclm_err_set(err, ACLM_ERR_INVALID, "CA issued list: no CA name");
	rc = sqlite3_prepare_v2(s->db, store__sqlite_ca_sql_issued_list[key_type != NULL][revoked_only],
				-1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, tenant);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 2, ca_name, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && key_type != NULL)
		rc = sqlite3_bind_text(st, 3, key_type, -1, SQLITE_STATIC);
	while (ret == ACLM_OK && rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = issued_row(s, st, &c, err);
		if (ret == ACLM_OK)
			ret = cb(c, arg);
		store_ca_issued_free(c);
		c = NULL;
		rc = SQLITE_OK;
	}
	if (ret == ACLM_OK && rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, "list CA issued certificates");
	sqlite3_finalize(st);
	return ret;
}

/* ---- EAB keys ---- */

static aclm_status eab_check(const struct store_ca_eab *e, struct aclm_err *err)
{
	if (!given(e->ca_name) || !fixed_given(e->kid, sizeof(e->kid)))
		return aclm_err_set(err, ACLM_ERR_INVALID, "EAB key: CA name and kid are required");
	if (e->member_tenant <= 0)
		return aclm_err_set(err, ACLM_ERR_INVALID, "EAB key %s: no member tenant", e->kid);
	if (e->hmac_sealed == NULL || e->hmac_sealed_len == 0 ||
	    e->hmac_sealed_len > CASRV_SEALED_MAX)
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "EAB key %s: sealed HMAC key missing or over %u bytes", e->kid,
				    CASRV_SEALED_MAX);
	if (e->allow != NULL && !json_is_array(e->allow))
		return aclm_err_set(err, ACLM_ERR_INVALID, "EAB key %s: allow must be an array",
				    e->kid);
	return ACLM_OK;
}

aclm_status store__sqlite_ca_eab_put(void *state, const struct store_ca_eab *e,
				     struct aclm_err *err)
{
	char *allow = NULL;
	aclm_status ret = eab_check(e, err);

	if (ret == ACLM_OK)
		ret = json_text(e->allow, NULL, "EAB allow", &allow, err);
	if (ret != ACLM_OK)
		goto out;
	ret = store__sqlite_run(
		state, SQ_CA_EAB_PUT,
		"INSERT INTO ca_eab(tenant_id, ca_name, kid, member_tenant, hmac_sealed, allow,"
		" account_id, created_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
		STORE__ARGS(STORE__INT(e->tenant_id), STORE__TEXT(e->ca_name),
			    STORE__TEXT(e->kid), STORE__INT(e->member_tenant),
			    STORE__BLOB(e->hmac_sealed, e->hmac_sealed_len),
			    STORE__TEXT(allow), STORE__TEXT(e->account_id),
			    STORE__INT(or_now(e->created_at, aclm_time_now()))),
		NULL, NULL, NULL, "store EAB key", err);
	if (ret == ACLM_ERR_EXISTS)
		ret = aclm_err_set(err, ACLM_ERR_EXISTS, "CA %s: EAB key %s already exists",
				   e->ca_name, e->kid);
	else if (ret == ACLM_ERR_INVALID)
		ret = aclm_err_set(err, ACLM_ERR_INVALID, "EAB key %s: member tenant %lld or account "
				   "%s does not exist", e->kid, (long long)e->member_tenant,
				   e->account_id != NULL ? e->account_id : "(none)");
out:
	free(allow);
	return ret;
}

/* A store__sqlite_row_fn; out is a struct store_ca_eab **. */
static aclm_status eab_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
			   struct aclm_err *err)
{
	struct store_ca_eab **res = out;
	struct store_ca_eab *e = calloc(1, sizeof(*e));
	bool ok = true;
	aclm_status ret = ACLM_OK;

	*res = NULL;
	if (e == NULL)
		return nomem(s, err);
	e->tenant_id = sqlite3_column_int64(st, 1);
	e->ca_name = store__sqlite_text_dup(st, 2, &ok);
	e->member_tenant = sqlite3_column_int64(st, 3);
	ok = blob_col(st, 4, &e->hmac_sealed, &e->hmac_sealed_len) && ok;
	e->account_id = store__sqlite_text_dup(st, 6, &ok);
	e->created_at = sqlite3_column_int64(st, 7);
	if (!fixed_col(st, 0, e->kid, sizeof(e->kid)))
		ret = aclm_err_set(err, ACLM_ERR_DB, "%s: EAB kid too long", s->path);
	else if (!ok)
		ret = nomem(s, err);
	else
		ret = json_col(st, 5, JSON_ARRAY, true, "EAB allow", &e->allow, err);
	if (ret != ACLM_OK) {
		store_ca_eab_free(e);
		return ret;
	}
	*res = e;
	return ACLM_OK;
}

aclm_status store__sqlite_ca_eab_get(void *state, int64_t tenant, const char *ca_name,
				     const char *kid, struct store_ca_eab **out,
				     struct aclm_err *err)
{
	*out = NULL;
	return get_one(state, SQ_CA_EAB_GET,
		       "SELECT " EAB_COLUMNS " FROM ca_eab"
		       " WHERE tenant_id = ?1 AND ca_name = ?2 AND kid = ?3",
		       tenant, ca_name, kid, eab_row, out, "EAB key", err);
}

/* A store__sqlite_row_fn over (account_id); out is the account that asked. */
static aclm_status eab_holder_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
				  struct aclm_err *err)
{
	const char *account_id = out;
	const char *holder = (const char *)sqlite3_column_text(st, 0);

	if (holder != NULL && strcmp(holder, account_id) != 0)
		return aclm_err_set(err, ACLM_ERR_EXISTS, "the EAB key is already bound to account %s",
				    holder);
	return aclm_err_set(err, ACLM_ERR_BUSY, "%s: the EAB key changed meanwhile; try again",
			    s->path);
}

/* One UPDATE claims an unused key, so a key binds exactly one account
 * however many registrations race for it. */
aclm_status store__sqlite_ca_eab_bind(void *state, int64_t tenant, const char *ca_name,
				      const char *kid, const char *account_id,
				      struct aclm_err *err)
{
	bool changed = false, found = false;
	aclm_status ret;

	if (!given(ca_name) || !given(kid) || !given(account_id))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "EAB bind: CA name, kid and account are required");
	ret = update_one(state, SQ_CA_EAB_BIND,
			 "UPDATE ca_eab SET account_id = ?4"
			 " WHERE tenant_id = ?1 AND ca_name = ?2 AND kid = ?3"
			 " AND (account_id IS NULL OR account_id = ?4)",
			 STORE__ARGS(STORE__INT(tenant), STORE__TEXT(ca_name), STORE__TEXT(kid),
				     STORE__TEXT(account_id)),
			 &changed, "bind EAB key", err);
	if (ret == ACLM_OK && !changed)
		ret = store__sqlite_run(state, SQ_CA_EAB_HOLDER,
					"SELECT account_id FROM ca_eab"
					" WHERE tenant_id = ?1 AND ca_name = ?2 AND kid = ?3",
					STORE__ARGS(STORE__INT(tenant), STORE__TEXT(ca_name),
						    STORE__TEXT(kid)),
					eab_holder_row, (void *)account_id, &found, "bind EAB key",
					err);
	if (ret == ACLM_OK && !changed && !found)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "EAB key %s not found in CA %s", kid,
				   ca_name);
	else if (ret == ACLM_ERR_INVALID)
		ret = aclm_err_set(err, ACLM_ERR_INVALID, "EAB key %s: account %s is not an account "
				   "of CA %s", kid, account_id, ca_name);
	return ret;
}
