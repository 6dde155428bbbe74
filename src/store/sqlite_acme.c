/* SQLite backend: the ACME client's state: accounts held at ACME servers and
 * lineages (what to renew, the order in flight, and the lease that lets one
 * process at a time run an order for a lineage). */
#include "store/sqlite_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/time.h"

/* contact, names and options: generous for what they hold, and enforced on
 * write too, so that every row written can be read back. */
#define ACME_JSON_MAX (1u << 20)

#define ACCOUNT_COLUMNS                                                                     \
	"id, tenant_id, server, key_id, url, contact, status, created_at, updated_at"
#define LINEAGE_COLUMNS                                                                     \
	"id, tenant_id, name, server, account_id, names, key_type, options, cert_id, "      \
	"order_url, order_state, ari_id, next_check, created_at, updated_at, lock_owner, "   \
	"lock_until"

static bool given(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* Compact JSON of v, or dflt when v is NULL, within ACME_JSON_MAX. */
static aclm_status json_text(const json_t *v, const char *dflt, const char *who,
			     const char *field, char **out, struct aclm_err *err)
{
	*out = v != NULL ? aclm_json_dump_compact(v) : strdup(dflt);
	if (*out == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "%s: cannot serialise %s", who, field);
	if (strlen(*out) > ACME_JSON_MAX) {
		free(*out);
		*out = NULL;
		return aclm_err_set(err, ACLM_ERR_TOOBIG, "%s: %s longer than %u bytes of JSON", who,
				    field, ACME_JSON_MAX);
	}
	return ACLM_OK;
}

static aclm_status json_col(sqlite3_stmt *st, int col, const char *what, json_t **out,
			    struct aclm_err *err)
{
	const char *text = (const char *)sqlite3_column_text(st, col);

	if (text == NULL)
		return aclm_err_set(err, ACLM_ERR_DB, "%s is NULL", what);
	return aclm_json_parse(text, (size_t)sqlite3_column_bytes(st, col), ACME_JSON_MAX, what,
			       out, err);
}

/* Row ids where 0 means "none": stored as NULL, which the foreign keys allow. */
static struct store__arg ref_arg(int64_t v)
{
	return v > 0 ? STORE__INT(v) : STORE__NULL;
}

/* ---- ACME accounts ---- */

/* RFC 8555 §7.1.2: the statuses an account object can have. */
static bool account_status_known(const char *status)
{
	return strcmp(status, "valid") == 0 || strcmp(status, "deactivated") == 0 ||
	       strcmp(status, "revoked") == 0;
}

static aclm_status account_check(const struct store_acme_account *a, struct aclm_err *err)
{
	if (!given(a->server) || !given(a->key_id) || !given(a->status))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "ACME account: server, key_id and status are required");
	if (!account_status_known(a->status))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "ACME account at %s: status \"%s\" is not valid, deactivated or "
				    "revoked", a->server, a->status);
	if (a->contact != NULL && !json_is_array(a->contact))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "ACME account at %s: contact must be an array", a->server);
	return ACLM_OK;
}

/* RETURNING yields the row on both paths of the upsert. updated_at is the
 * time of this put, never the caller's copy: a get, change, put cycle
 * would otherwise keep the first one forever. */
static const char sql_account_put[] =
	"INSERT INTO acme_accounts(tenant_id, server, key_id, url, contact, status, created_at,"
	" updated_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
	" ON CONFLICT(tenant_id, server, key_id) DO UPDATE SET url = excluded.url,"
	" contact = excluded.contact, status = excluded.status, updated_at = excluded.updated_at"
	" RETURNING id";

aclm_status store__sqlite_acme_account_put(void *state, const struct store_acme_account *a,
					   int64_t *id, struct aclm_err *err)
{
	char *contact = NULL;
	int64_t now = aclm_time_now();
	aclm_status ret = account_check(a, err);

	if (ret == ACLM_OK)
		ret = json_text(a->contact, "[]", "ACME account", "contact", &contact, err);
	if (ret == ACLM_OK)
		ret = store__sqlite_run(state, SQ_ACCOUNT_PUT, sql_account_put,
					STORE__ARGS(STORE__INT(a->tenant_id), STORE__TEXT(a->server),
						    STORE__TEXT(a->key_id), STORE__TEXT(a->url),
						    STORE__TEXT(contact), STORE__TEXT(a->status),
						    STORE__INT(a->created_at > 0 ? a->created_at : now),
						    STORE__INT(now)),
					store__sqlite_row_id, id, NULL, "store ACME account", err);
	free(contact);
	return ret;
}

/* A store__sqlite_row_fn; out is a struct store_acme_account **. */
static aclm_status account_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
			       struct aclm_err *err)
{
	struct store_acme_account **res = out;
	struct store_acme_account *a = calloc(1, sizeof(*a));
	bool ok = true;
	aclm_status ret;

	*res = NULL;
	if (a == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "%s: out of memory", s->path);
	a->id = sqlite3_column_int64(st, 0);
	a->tenant_id = sqlite3_column_int64(st, 1);
	a->server = store__sqlite_text_dup(st, 2, &ok);
	a->key_id = store__sqlite_text_dup(st, 3, &ok);
	a->url = store__sqlite_text_dup(st, 4, &ok);
	a->status = store__sqlite_text_dup(st, 6, &ok);
	a->created_at = sqlite3_column_int64(st, 7);
	a->updated_at = sqlite3_column_int64(st, 8);
	ret = ok ? ACLM_OK : aclm_err_set(err, ACLM_ERR_NOMEM, "%s: out of memory", s->path);
	if (ret == ACLM_OK)
		ret = json_col(st, 5, "ACME account contact", &a->contact, err);
	if (ret == ACLM_OK && !json_is_array(a->contact))
		ret = aclm_err_set(err, ACLM_ERR_DB, "ACME account %lld: contact is not an array",
				   (long long)a->id);
	if (ret != ACLM_OK) {
		store_acme_account_free(a);
		return ret;
	}
	*res = a;
	return ACLM_OK;
}

aclm_status store__sqlite_acme_account_get(void *state, int64_t tenant, int64_t id,
					   struct store_acme_account **out, struct aclm_err *err)
{
	bool found = false;
	aclm_status ret;

	*out = NULL;
	ret = store__sqlite_run(state, SQ_ACCOUNT_GET,
				"SELECT " ACCOUNT_COLUMNS " FROM acme_accounts"
				" WHERE tenant_id = ?1 AND id = ?2",
				STORE__ARGS(STORE__INT(tenant), STORE__INT(id)), account_row, out,
				&found, "get ACME account", err);
	if (ret == ACLM_OK && !found)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "ACME account %lld not found",
				   (long long)id);
	return ret;
}

aclm_status store__sqlite_acme_account_find(void *state, int64_t tenant, const char *server,
					    struct store_acme_account **out,
					    struct aclm_err *err)
{
	bool found = false;
	aclm_status ret;

	*out = NULL;
	if (!given(server))
		return aclm_err_set(err, ACLM_ERR_INVALID, "ACME account: no server given");
	ret = store__sqlite_run(state, SQ_ACCOUNT_FIND,
				"SELECT " ACCOUNT_COLUMNS " FROM acme_accounts"
				" WHERE tenant_id = ?1 AND server = ?2 AND status = 'valid'"
				" ORDER BY id DESC LIMIT 1",
				STORE__ARGS(STORE__INT(tenant), STORE__TEXT(server)), account_row, out,
				&found, "find ACME account", err);
	if (ret == ACLM_OK && !found)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "no valid ACME account at %s", server);
	return ret;
}

/* Listings prepare their own statement: the callback may call the store,
 * even list again, while this one is still stepping. */
aclm_status store__sqlite_acme_account_list(void *state, int64_t tenant,
					    store_acme_account_cb cb, void *arg,
					    struct aclm_err *err)
{
	struct store__sqlite *s = state;
	struct store_acme_account *a = NULL;
	sqlite3_stmt *st = NULL;
	aclm_status ret = ACLM_OK;
	int rc = sqlite3_prepare_v2(s->db,
				    "SELECT " ACCOUNT_COLUMNS " FROM acme_accounts"
				    " WHERE tenant_id = ?1 ORDER BY id",
				    -1, &st, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, tenant);
	while (ret == ACLM_OK && rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = account_row(s, st, &a, err);
		if (ret == ACLM_OK)
			ret = cb(a, arg);
		store_acme_account_free(a);
		a = NULL;
		rc = SQLITE_OK;
	}
	if (ret == ACLM_OK && rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, "list ACME accounts");
	sqlite3_finalize(st);
	return ret;
}

/* One page in id order. */
struct account_each {
	store_acme_account_cb cb;
	void *arg;
};

static aclm_status account_each_row(struct store__sqlite *s, sqlite3_stmt *st, void *arg,
				    struct aclm_err *err)
{
	const struct account_each *c = arg;
	struct store_acme_account *a = NULL;
	aclm_status ret = account_row(s, st, &a, err);

	if (ret == ACLM_OK)
		ret = c->cb(a, c->arg);
	store_acme_account_free(a);
	return ret;
}

aclm_status store__sqlite_acme_account_page(void *state, int64_t tenant, int64_t after_id,
					    int64_t limit, store_acme_account_cb cb, void *arg,
					    struct aclm_err *err)
{
	struct account_each c = { cb, arg };

	return store__sqlite_each(state, SQ_KEYED,
				  "SELECT " ACCOUNT_COLUMNS " FROM acme_accounts"
				  " WHERE tenant_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
				  STORE__ARGS(STORE__INT(tenant), STORE__INT(after_id),
					      STORE__INT(limit > 0 ? limit : -1)),
				  account_each_row, &c, "page ACME accounts", err);
}

/* ---- lineages ---- */

static aclm_status lineage_check(const struct store_lineage *l, struct aclm_err *err)
{
	if (!given(l->name) || !given(l->server) || !given(l->key_type))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "lineage: name, server and key_type are required");
	if (!json_is_array(l->names) || json_array_size(l->names) == 0)
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "lineage %s: names must be a non-empty array", l->name);
	if (l->options != NULL && !json_is_object(l->options))
		return aclm_err_set(err, ACLM_ERR_INVALID, "lineage %s: options must be an object",
				    l->name);
	if (l->account_id < 0 || l->cert_id < 0 || l->next_check < 0)
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "lineage %s: negative account, certificate or next check",
				    l->name);
	return ACLM_OK;
}

/* The foreign keys only say that the account and the certificate exist;
 * the WHERE adds "in this tenant", in the same statement, so a lineage can
 * never point into another tenant. No row comes back when it does not hold.
 * (The WHERE also keeps SQLite from reading ON CONFLICT as a join clause.) */
static const char sql_lineage_put[] =
	"INSERT INTO lineages(tenant_id, name, server, account_id, names, key_type, options,"
	" cert_id, order_url, order_state, ari_id, next_check, created_at, updated_at)"
	" SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14"
	" WHERE (?4 IS NULL OR EXISTS(SELECT 1 FROM acme_accounts WHERE tenant_id = ?1 AND id = ?4))"
	" AND (?8 IS NULL OR EXISTS(SELECT 1 FROM certificates WHERE tenant_id = ?1 AND id = ?8))"
	" ON CONFLICT(tenant_id, name) DO UPDATE SET server = excluded.server,"
	" account_id = excluded.account_id, names = excluded.names, key_type = excluded.key_type,"
	" options = excluded.options, cert_id = excluded.cert_id, order_url = excluded.order_url,"
	" order_state = excluded.order_state, ari_id = excluded.ari_id,"
	" next_check = excluded.next_check, updated_at = excluded.updated_at"
	" RETURNING id";

struct lineage_text {
	char *names, *options;
};

#define LINEAGE_NARGS 14

static void lineage_args(struct store__arg a[LINEAGE_NARGS], const struct store_lineage *l,
			 const struct lineage_text *t)
{
	int64_t now = aclm_time_now();

	a[0] = STORE__INT(l->tenant_id);
	a[1] = STORE__TEXT(l->name);
	a[2] = STORE__TEXT(l->server);
	a[3] = ref_arg(l->account_id);
	a[4] = STORE__TEXT(t->names);
	a[5] = STORE__TEXT(l->key_type);
	a[6] = STORE__TEXT(t->options);
	a[7] = ref_arg(l->cert_id);
	a[8] = STORE__TEXT(l->order_url);
	a[9] = STORE__TEXT(l->order_state);
	a[10] = STORE__TEXT(l->ari_id);
	a[11] = STORE__INT(l->next_check);
	a[12] = STORE__INT(l->created_at > 0 ? l->created_at : now);
	a[13] = STORE__INT(now); /* as for accounts: the time of this put */
}

aclm_status store__sqlite_lineage_put(void *state, const struct store_lineage *l, int64_t *id,
				      struct aclm_err *err)
{
	struct lineage_text t = { 0 };
	struct store__arg args[LINEAGE_NARGS];
	bool stored = false;
	aclm_status ret = lineage_check(l, err);

	if (ret == ACLM_OK)
		ret = json_text(l->names, "[]", l->name, "names", &t.names, err);
	if (ret == ACLM_OK)
		ret = json_text(l->options, "{}", l->name, "options", &t.options, err);
	if (ret == ACLM_OK) {
		lineage_args(args, l, &t);
		ret = store__sqlite_run(state, SQ_LINEAGE_PUT, sql_lineage_put, args, LINEAGE_NARGS,
					store__sqlite_row_id, id, &stored, "store lineage", err);
	}
	if (ret == ACLM_OK && !stored)
		ret = aclm_err_set(err, ACLM_ERR_INVALID,
				   "lineage %s: ACME account %lld or certificate %lld is not in "
				   "this tenant", l->name, (long long)l->account_id,
				   (long long)l->cert_id);
	free(t.names);
	free(t.options);
	return ret;
}

static aclm_status lineage_json(sqlite3_stmt *st, struct store_lineage *l, struct aclm_err *err)
{
	aclm_status ret = json_col(st, 5, "lineage names", &l->names, err);

	if (ret == ACLM_OK)
		ret = json_col(st, 7, "lineage options", &l->options, err);
	if (ret == ACLM_OK && (!json_is_array(l->names) || !json_is_object(l->options)))
		ret = aclm_err_set(err, ACLM_ERR_DB,
				   "lineage %s: stored names or options have the wrong type",
				   l->name);
	return ret;
}

/* A store__sqlite_row_fn; out is a struct store_lineage **. */
static aclm_status lineage_row(const struct store__sqlite *s, sqlite3_stmt *st, void *out,
			       struct aclm_err *err)
{
	struct store_lineage **res = out;
	struct store_lineage *l = calloc(1, sizeof(*l));
	bool ok = true;
	aclm_status ret;

	*res = NULL;
	if (l == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "%s: out of memory", s->path);
	l->id = sqlite3_column_int64(st, 0);
	l->tenant_id = sqlite3_column_int64(st, 1);
	l->name = store__sqlite_text_dup(st, 2, &ok);
	l->server = store__sqlite_text_dup(st, 3, &ok);
	l->account_id = sqlite3_column_int64(st, 4); /* NULL reads as 0 */
	l->key_type = store__sqlite_text_dup(st, 6, &ok);
	l->cert_id = sqlite3_column_int64(st, 8);
	l->order_url = store__sqlite_text_dup(st, 9, &ok);
	l->order_state = store__sqlite_text_dup(st, 10, &ok);
	l->ari_id = store__sqlite_text_dup(st, 11, &ok);
	l->next_check = sqlite3_column_int64(st, 12);
	l->created_at = sqlite3_column_int64(st, 13);
	l->updated_at = sqlite3_column_int64(st, 14);
	l->lock_owner = store__sqlite_text_dup(st, 15, &ok);
	l->lock_until = sqlite3_column_int64(st, 16);
	ret = ok ? ACLM_OK : aclm_err_set(err, ACLM_ERR_NOMEM, "%s: out of memory", s->path);
	if (ret == ACLM_OK)
		ret = lineage_json(st, l, err);
	if (ret != ACLM_OK) {
		store_lineage_free(l);
		return ret;
	}
	*res = l;
	return ACLM_OK;
}

aclm_status store__sqlite_lineage_get(void *state, int64_t tenant, const char *name,
				      struct store_lineage **out, struct aclm_err *err)
{
	bool found = false;
	aclm_status ret;

	*out = NULL;
	if (!given(name))
		return aclm_err_set(err, ACLM_ERR_INVALID, "lineage: no name given");
	ret = store__sqlite_run(state, SQ_LINEAGE_GET,
				"SELECT " LINEAGE_COLUMNS " FROM lineages"
				" WHERE tenant_id = ?1 AND name = ?2",
				STORE__ARGS(STORE__INT(tenant), STORE__TEXT(name)), lineage_row, out,
				&found, "get lineage", err);
	if (ret == ACLM_OK && !found)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "lineage %s not found", name);
	return ret;
}

/* Prepared per call, as store__sqlite_acme_account_list. */
aclm_status store__sqlite_lineage_list(void *state, int64_t tenant, store_lineage_cb cb,
				       void *arg, struct aclm_err *err)
{
	struct store__sqlite *s = state;
	struct store_lineage *l = NULL;
	sqlite3_stmt *st = NULL;
	aclm_status ret = ACLM_OK;
	int rc = sqlite3_prepare_v2(s->db,
				    "SELECT " LINEAGE_COLUMNS " FROM lineages"
				    " WHERE tenant_id = ?1 ORDER BY name",
				    -1, &st, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 1, tenant);
	while (ret == ACLM_OK && rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ret = lineage_row(s, st, &l, err);
		if (ret == ACLM_OK)
			ret = cb(l, arg);
		store_lineage_free(l);
		l = NULL;
		rc = SQLITE_OK;
	}
	if (ret == ACLM_OK && rc != SQLITE_DONE)
		ret = store__sqlite_err(s, rc, err, "list lineages");
	sqlite3_finalize(st);
	return ret;
}

/* One page in id order (a name order would need a text cursor). */
struct lineage_each {
	store_lineage_cb cb;
	void *arg;
};

static aclm_status lineage_each_row(struct store__sqlite *s, sqlite3_stmt *st, void *arg,
				    struct aclm_err *err)
{
	const struct lineage_each *c = arg;
	struct store_lineage *l = NULL;
	aclm_status ret = lineage_row(s, st, &l, err);

	if (ret == ACLM_OK)
		ret = c->cb(l, c->arg);
	store_lineage_free(l);
	return ret;
}

aclm_status store__sqlite_lineage_page(void *state, int64_t tenant, int64_t after_id,
				       int64_t limit, store_lineage_cb cb, void *arg,
				       struct aclm_err *err)
{
	struct lineage_each c = { cb, arg };

	return store__sqlite_each(state, SQ_KEYED,
				  "SELECT " LINEAGE_COLUMNS " FROM lineages"
				  " WHERE tenant_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
				  STORE__ARGS(STORE__INT(tenant), STORE__INT(after_id),
					      STORE__INT(limit > 0 ? limit : -1)),
				  lineage_each_row, &c, "page lineages", err);
}

/* ---- the lineage lease ---- */

/* Runs a cached UPDATE of one lineage bound to (tenant, name, owner) and,
 * for a lock (until > 0), (until, now); *changed says whether it matched
 * (the reset in store__sqlite_run leaves sqlite3_changes() alone). */
static aclm_status lease_update(struct store__sqlite *s, enum store__sqlite_stmt_id which,
				const char *sql, int64_t tenant, const char *name,
				const char *owner, int64_t until, int64_t now, bool *changed,
				struct aclm_err *err)
{
	const struct store__arg args[] = { STORE__INT(tenant), STORE__TEXT(name), STORE__TEXT(owner),
					   STORE__INT(until), STORE__INT(now) };
	aclm_status ret = store__sqlite_run(s, which, sql, args, until > 0 ? 5 : 3, NULL, NULL,
					    NULL, until > 0 ? "lock lineage" : "unlock lineage",
					    err);

	*changed = ret == ACLM_OK && sqlite3_changes(s->db) > 0;
	return ret;
}

/* A store__sqlite_row_fn for lease_refused: the lineage's holder as an error. */
static aclm_status holder_row(const struct store__sqlite *s, sqlite3_stmt *st, void *arg,
			      struct aclm_err *err)
{
	const char *const *name = arg;
	const char *holder = (const char *)sqlite3_column_text(st, 0);
	char until[ACLM_TIME_RFC3339_LEN];

	if (holder == NULL) /* released between our UPDATE and this read */
		return aclm_err_set(err, ACLM_ERR_BUSY,
				    "lineage %s was locked by another process a moment ago; try again",
				    *name);
	aclm_time_fmt(sqlite3_column_int64(st, 1), until);
	return aclm_err_set(err, ACLM_ERR_BUSY, "lineage %s is locked by %s until %s", *name,
			    holder, until);
}

/* Why a lock was refused: no such lineage in this tenant, or its holder. */
static aclm_status lease_refused(struct store__sqlite *s, int64_t tenant, const char *name,
				 struct aclm_err *err)
{
	bool found = false;
	aclm_status ret = store__sqlite_run(s, SQ_LINEAGE_HOLDER,
					    "SELECT lock_owner, lock_until FROM lineages"
					    " WHERE tenant_id = ?1 AND name = ?2",
					    STORE__ARGS(STORE__INT(tenant), STORE__TEXT(name)),
					    holder_row, &name, &found, "lock lineage", err);

	if (ret == ACLM_OK && !found)
		ret = aclm_err_set(err, ACLM_ERR_NOTFOUND, "lineage %s not found", name);
	return ret;
}

/* The test and the take are one UPDATE, so of two processes racing for a
 * free lineage exactly one matches the row; the loser only reads why. An
 * `until` that is not in the future would be a lock that is already
 * expired (typically a duration passed for a time), so it is refused. */
aclm_status store__sqlite_lineage_lock(void *state, int64_t tenant, const char *name,
				       const char *owner, int64_t until, struct aclm_err *err)
{
	int64_t now = aclm_time_now();
	bool changed = false;
	aclm_status ret;

	if (!given(name) || !given(owner))
		return aclm_err_set(err, ACLM_ERR_INVALID, "lineage lock: name and owner are required");
	if (until <= now)
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "lineage %s: lock until %lld is not in the future (epoch seconds)",
				    name, (long long)until);
	ret = lease_update(state, SQ_LINEAGE_LOCK,
			   "UPDATE lineages SET lock_owner = ?3, lock_until = ?4"
			   " WHERE tenant_id = ?1 AND name = ?2"
			   " AND (lock_owner IS NULL OR lock_until < ?5 OR lock_owner = ?3)",
			   tenant, name, owner, until, now, &changed, err);
	if (ret == ACLM_OK && !changed)
		ret = lease_refused(state, tenant, name, err);
	return ret;
}

/* Releases only owner's lock. Anything else (another holder, no lock, no
 * such lineage) is left alone and is not an error: unlock runs on cleanup
 * paths, where a lease that expired and was taken over is no failure. */
aclm_status store__sqlite_lineage_unlock(void *state, int64_t tenant, const char *name,
					 const char *owner, struct aclm_err *err)
{
	bool changed = false;

	if (!given(name) || !given(owner))
		return aclm_err_set(err, ACLM_ERR_INVALID,
				    "lineage unlock: name and owner are required");
	return lease_update(state, SQ_LINEAGE_UNLOCK,
			    "UPDATE lineages SET lock_owner = NULL, lock_until = 0"
			    " WHERE tenant_id = ?1 AND name = ?2 AND lock_owner = ?3",
			    tenant, name, owner, 0, 0, &changed, err);
}
