/* store/: the generic layer. Picks the backend by URL scheme (the one list of
 * backends is here), forwards every call to its ops table, and owns what is
 * the same for every backend: the audit hash chain and the frees. */
#include "store/store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/encode.h"
#include "core/json.h"
#include "core/time.h"
#include "store/store_int.h"

/* Threads that share a store (store_share) take turns: each call, and each
 * transaction from store_begin to its commit or rollback, holds the lock,
 * so no thread's statements run inside another's transaction. Recursive: a
 * call inside the caller's own transaction, or from a listing's callback,
 * takes it again. Uncontended, it costs tens of nanoseconds a call. */
struct store {
	const struct store_ops *ops;
	void *state;
	bool in_tx; /* store_begin is open: audit appends join it */
	pthread_mutex_t lock;
	int refs;   /* store_share references; store_close frees with the last */
};

const struct store_ops *store__ops(const struct store *s)
{
	return s->ops;
}

void *store__enter(struct store *s)
{
	pthread_mutex_lock(&s->lock);
	return s->state;
}

aclm_status store__leave(struct store *s, aclm_status st)
{
	pthread_mutex_unlock(&s->lock);
	return st;
}

aclm_status store__unsupported(const struct store *s, const char *what, struct aclm_err *err)
{
	return aclm_err_set(err, ACLM_ERR_UNSUPPORTED, "the store backend %s does not support %s",
			    s->ops->scheme, what);
}

/* The registered backends: adding one is one new file and one line here. */
static const struct store_ops *const store_backends[] = {
	&store_sqlite_ops,
};
#define N_BACKENDS (sizeof(store_backends) / sizeof(store_backends[0]))

/* Schemes a user may reasonably try that have no backend yet. */
static const char *const store_planned[] = { "postgresql", "postgres" };
#define N_PLANNED (sizeof(store_planned) / sizeof(store_planned[0]))

static void supported_schemes(char *out, size_t outlen)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < N_BACKENDS && used < outlen; i++)
		used += (size_t)snprintf(out + used, outlen - used, "%s%s:PATH", i ? ", " : "",
					 store_backends[i]->scheme);
}

static bool scheme_is(const char *url, size_t len, const char *scheme)
{
	return strlen(scheme) == len && strncmp(url, scheme, len) == 0;
}

/* "scheme:rest" -> the backend for scheme and rest, which it interprets. */
static aclm_status pick_backend(const char *url, const struct store_ops **ops, const char **target,
				struct aclm_err *err)
{
	const char *colon = url != NULL ? strchr(url, ':') : NULL;
	size_t len = colon != NULL ? (size_t)(colon - url) : 0;
	char supported[128];

	for (size_t i = 0; len > 0 && i < N_BACKENDS; i++) {
		if (scheme_is(url, len, store_backends[i]->scheme)) {
			*ops = store_backends[i];
			*target = colon + 1;
			return ACLM_OK;
		}
	}
	for (size_t i = 0; len > 0 && i < N_PLANNED; i++) {
		if (scheme_is(url, len, store_planned[i]))
			return aclm_err_set(err, ACLM_ERR_UNSUPPORTED,
					    "store \"%s\": PostgreSQL is not supported yet", url);
	}
	supported_schemes(supported, sizeof(supported));
	return aclm_err_set(err, ACLM_ERR_CONFIG, "store \"%s\": unknown scheme; supported: %s",
			    url != NULL ? url : "", supported);
}

aclm_status store_open(const char *url, const struct store_options *opt, struct store **out,
		       struct aclm_err *err)
{
	const struct store_ops *ops = NULL;
	const char *target = NULL;
	struct store *s = NULL;
	aclm_status st;

	*out = NULL;
	st = pick_backend(url, &ops, &target, err);
	if (st != ACLM_OK)
		goto out;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		st = aclm_err_set(err, ACLM_ERR_NOMEM, "store \"%s\": out of memory", url);
		goto out;
	}
	s->ops = ops;
	s->refs = 1;
	st = ops->open(target, opt, &s->state, err);
	if (st != ACLM_OK)
		goto out;
	{
		pthread_mutexattr_t attr;

		pthread_mutexattr_init(&attr);
		pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
		pthread_mutex_init(&s->lock, &attr);
		pthread_mutexattr_destroy(&attr);
	}
	*out = s;
	s = NULL;
out:
	free(s);
	return st;
}

struct store *store_share(struct store *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_SEQ_CST);
	return s;
}

void store_close(struct store *s)
{
	if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_SEQ_CST) > 0)
		return;
	s->ops->close(s->state);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static aclm_status unsupported(const struct store *s, const char *what, struct aclm_err *err)
{
	return aclm_err_set(err, ACLM_ERR_UNSUPPORTED, "%s is not supported by the %s store", what,
			    s->ops->scheme);
}

/* Forwards to an op; a NULL slot means the backend lacks the feature. */
#define CALL_OP(s, op, err, ...)                                                 \
	((s)->ops->op == NULL ? unsupported((s), #op, (err))                     \
			      : store__leave((s), (s)->ops->op(store__enter(s), __VA_ARGS__, (err))))

/* Every tenant-owned row carries its tenant: a zero tenant is a caller bug
 * (a zeroed filter, a forgotten lookup), never "all tenants". */
static aclm_status need_tenant(int64_t tenant, const char *what, struct aclm_err *err)
{
	if (tenant > 0)
		return ACLM_OK;
	return aclm_err_set(err, ACLM_ERR_INVALID, "%s: no tenant given", what);
}

/* The transaction holds the store's lock from here to its commit or
 * rollback (other threads sharing the store wait). */
aclm_status store_begin(struct store *s, struct aclm_err *err)
{
	aclm_status st;

	store__enter(s);
	if (s->in_tx)
		return store__leave(s, aclm_err_set(err, ACLM_ERR_INVALID,
				    "a transaction is already open (transactions do not nest)"));
	if (s->ops->begin == NULL)
		return store__leave(s, unsupported(s, "begin", err));
	st = s->ops->begin(s->state, err);
	s->in_tx = st == ACLM_OK;
	return st == ACLM_OK ? st : store__leave(s, st); /* kept: the transaction's hold */
}

/* The backend's commit either commits or rolls back, so afterwards no
 * transaction is open whatever the outcome. */
aclm_status store_commit(struct store *s, struct aclm_err *err)
{
	aclm_status st;

	store__enter(s);
	if (!s->in_tx)
		return store__leave(s, aclm_err_set(err, ACLM_ERR_INVALID,
						    "commit without an open transaction"));
	s->in_tx = false;
	st = s->ops->commit == NULL ? unsupported(s, "commit", err) : s->ops->commit(s->state, err);
	store__leave(s, st); /* the transaction's hold */
	return store__leave(s, st);
}

void store_rollback(struct store *s)
{
	bool was = false;

	store__enter(s);
	was = s->in_tx;
	s->in_tx = false;
	if (s->ops->rollback != NULL)
		s->ops->rollback(s->state);
	if (was)
		store__leave(s, ACLM_OK); /* the transaction's hold */
	store__leave(s, ACLM_OK);
}

aclm_status store_tenant_ensure(struct store *s, const char *name, int64_t *id,
				struct aclm_err *err)
{
	return CALL_OP(s, tenant_ensure, err, name, id);
}

aclm_status store_tenant_find(struct store *s, const char *name, int64_t *id, struct aclm_err *err)
{
	return CALL_OP(s, tenant_find, err, name, id);
}

aclm_status store_cert_insert(struct store *s, const struct store_cert *c, int64_t *id,
			      bool *created, struct aclm_err *err)
{
	aclm_status st = need_tenant(c->tenant_id, "certificate insert", err);

	return st != ACLM_OK ? st : CALL_OP(s, cert_insert, err, c, id, created);
}

aclm_status store_cert_get(struct store *s, int64_t tenant, int64_t id, struct store_cert **out,
			   struct aclm_err *err)
{
	*out = NULL;
	return CALL_OP(s, cert_get, err, tenant, id, out);
}

aclm_status store_cert_find_fingerprint(struct store *s, int64_t tenant, const char *prefix,
					int64_t *id, struct aclm_err *err)
{
	return CALL_OP(s, cert_find_fingerprint, err, tenant, prefix, id);
}

aclm_status store_cert_update(struct store *s, const struct store_cert *c, struct aclm_err *err)
{
	return CALL_OP(s, cert_update, err, c);
}

aclm_status store_cert_delete(struct store *s, int64_t tenant, int64_t id, struct aclm_err *err)
{
	return CALL_OP(s, cert_delete, err, tenant, id);
}

aclm_status store_cert_list(struct store *s, const struct store_cert_filter *f, store_cert_cb cb,
			    void *arg, struct aclm_err *err)
{
	aclm_status st = need_tenant(f->tenant_id, "certificate list", err);

	return st != ACLM_OK ? st : CALL_OP(s, cert_list, err, f, cb, arg);
}

aclm_status store_cert_link_issuers(struct store *s, int64_t tenant, int64_t id,
				    struct aclm_err *err)
{
	return CALL_OP(s, cert_link_issuers, err, tenant, id);
}

aclm_status store_cert_summary(struct store *s, int64_t tenant, int64_t now,
			       struct store_summary *out, struct aclm_err *err)
{
	memset(out, 0, sizeof(*out));
	return CALL_OP(s, cert_summary, err, tenant, now, out);
}

aclm_status store_key_put(struct store *s, const struct store_key *k, struct aclm_err *err)
{
	aclm_status st = need_tenant(k->tenant_id, "key put", err);

	return st != ACLM_OK ? st : CALL_OP(s, key_put, err, k);
}

aclm_status store_key_get(struct store *s, int64_t tenant, const char *id, struct store_key **out,
			  struct aclm_err *err)
{
	*out = NULL;
	return CALL_OP(s, key_get, err, tenant, id, out);
}

aclm_status store_key_delete(struct store *s, int64_t tenant, const char *id,
			     struct aclm_err *err)
{
	return CALL_OP(s, key_delete, err, tenant, id);
}

aclm_status store_ca_put(struct store *s, const struct store_ca *ca, int64_t *id,
			 struct aclm_err *err)
{
	aclm_status st = need_tenant(ca->tenant_id, "CA put", err);

	return st != ACLM_OK ? st : CALL_OP(s, ca_put, err, ca, id);
}

aclm_status store_ca_list(struct store *s, int64_t tenant, const char *name, store_ca_cb cb,
			  void *arg, struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "CA list", err);

	return st != ACLM_OK ? st : CALL_OP(s, ca_list, err, tenant, name, cb, arg);
}

aclm_status store_ca_cross_put(struct store *s, int64_t tenant, int64_t ca_id, int64_t cert_id,
			       struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "CA cross-sign", err);

	return st != ACLM_OK ? st : CALL_OP(s, ca_cross_put, err, tenant, ca_id, cert_id);
}

aclm_status store_ca_cross_list(struct store *s, int64_t tenant, int64_t ca_id, int64_t *cert_ids,
				size_t max, size_t *n, struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "CA cross list", err);

	*n = 0;
	return st != ACLM_OK ? st : CALL_OP(s, ca_cross_list, err, tenant, ca_id, cert_ids, max, n);
}

/* ---- the CA's ACME server ---- */

aclm_status store_ca_account_put(struct store *s, const struct store_ca_account *a,
				 struct aclm_err *err)
{
	aclm_status st = need_tenant(a->tenant_id, "CA account put", err);

	return st != ACLM_OK ? st : CALL_OP(s, ca_account_put, err, a);
}

aclm_status store_ca_account_get(struct store *s, int64_t tenant, const char *ca_name,
				 const char *id, struct store_ca_account **out,
				 struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "CA account get", err);

	*out = NULL;
	return st != ACLM_OK ? st : CALL_OP(s, ca_account_get, err, tenant, ca_name, id, out);
}

aclm_status store_ca_account_find(struct store *s, int64_t tenant, const char *ca_name,
				  const char *thumbprint, struct store_ca_account **out,
				  struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "CA account find", err);

	*out = NULL;
	return st != ACLM_OK ? st
			     : CALL_OP(s, ca_account_find, err, tenant, ca_name, thumbprint, out);
}

aclm_status store_ca_order_put(struct store *s, const struct store_ca_order *o,
			       struct aclm_err *err)
{
	aclm_status st = need_tenant(o->tenant_id, "CA order put", err);

	return st != ACLM_OK ? st : CALL_OP(s, ca_order_put, err, o);
}

aclm_status store_ca_order_get(struct store *s, int64_t tenant, const char *ca_name,
			       const char *id, struct store_ca_order **out, struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "CA order get", err);

	*out = NULL;
	return st != ACLM_OK ? st : CALL_OP(s, ca_order_get, err, tenant, ca_name, id, out);
}

aclm_status store_ca_authz_put(struct store *s, const struct store_ca_authz *a,
			       struct aclm_err *err)
{
	aclm_status st = need_tenant(a->tenant_id, "CA authorization put", err);

	return st != ACLM_OK ? st : CALL_OP(s, ca_authz_put, err, a);
}

aclm_status store_ca_authz_get(struct store *s, int64_t tenant, const char *ca_name,
			       const char *id, struct store_ca_authz **out, struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "CA authorization get", err);

	*out = NULL;
	return st != ACLM_OK ? st : CALL_OP(s, ca_authz_get, err, tenant, ca_name, id, out);
}

aclm_status store_ca_authz_find_valid(struct store *s, int64_t tenant, const char *ca_name,
				      const char *account_id, const char *ident_type,
				      const char *ident_value, bool wildcard, int64_t now,
				      int64_t min_expires, struct store_ca_authz **out,
				      struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "CA authorization find", err);

	*out = NULL;
	return st != ACLM_OK ? st
			     : CALL_OP(s, ca_authz_find_valid, err, tenant, ca_name, account_id,
				       ident_type, ident_value, wildcard, now, min_expires, out);
}

aclm_status store_ca_authz_list_va_pending(struct store *s, int64_t tenant, const char *ca_name,
					   store_ca_authz_cb cb, void *arg, struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "CA authorization list", err);

	return st != ACLM_OK ? st : CALL_OP(s, ca_authz_list_va_pending, err, tenant, ca_name, cb, arg);
}

aclm_status store_ca_issued_put(struct store *s, const struct store_ca_issued *c,
				struct aclm_err *err)
{
	aclm_status st = need_tenant(c->tenant_id, "CA issued put", err);

	return st != ACLM_OK ? st : CALL_OP(s, ca_issued_put, err, c);
}

aclm_status store_ca_issued_get(struct store *s, int64_t tenant, const char *ca_name,
				const char *serial, struct store_ca_issued **out,
				struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "CA issued get", err);

	*out = NULL;
	return st != ACLM_OK ? st : CALL_OP(s, ca_issued_get, err, tenant, ca_name, serial, out);
}

aclm_status store_ca_issued_revoke(struct store *s, int64_t tenant, const char *ca_name,
				   const char *serial, int reason, int64_t at, struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "CA revoke", err);

	return st != ACLM_OK ? st
			     : CALL_OP(s, ca_issued_revoke, err, tenant, ca_name, serial, reason, at);
}

aclm_status store_ca_issued_replace(struct store *s, int64_t tenant, const char *ca_name,
				    const char *serial, const char *order_id,
				    struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "CA replace", err);

	return st != ACLM_OK ? st
			     : CALL_OP(s, ca_issued_replace, err, tenant, ca_name, serial, order_id);
}

aclm_status store_ca_issued_list(struct store *s, int64_t tenant, const char *ca_name,
				 const char *key_type, bool revoked_only, store_ca_issued_cb cb,
				 void *arg, struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "CA issued list", err);

	return st != ACLM_OK ? st
			     : CALL_OP(s, ca_issued_list, err, tenant, ca_name, key_type,
				       revoked_only, cb, arg);
}

aclm_status store_ca_eab_put(struct store *s, const struct store_ca_eab *e, struct aclm_err *err)
{
	aclm_status st = need_tenant(e->tenant_id, "EAB key put", err);

	return st != ACLM_OK ? st : CALL_OP(s, ca_eab_put, err, e);
}

aclm_status store_ca_eab_get(struct store *s, int64_t tenant, const char *ca_name,
			     const char *kid, struct store_ca_eab **out, struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "EAB key get", err);

	*out = NULL;
	return st != ACLM_OK ? st : CALL_OP(s, ca_eab_get, err, tenant, ca_name, kid, out);
}

aclm_status store_ca_eab_bind(struct store *s, int64_t tenant, const char *ca_name,
			      const char *kid, const char *account_id, struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "EAB key bind", err);

	return st != ACLM_OK ? st
			     : CALL_OP(s, ca_eab_bind, err, tenant, ca_name, kid, account_id);
}

aclm_status store_audit_verify(struct store *s, int64_t *count, struct aclm_err *err)
{
	*count = 0;
	return CALL_OP(s, audit_verify, err, count);
}

aclm_status store_audit_list(struct store *s, int64_t tenant, int64_t after_id, int64_t limit,
			     store_audit_cb cb, void *arg, struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "audit list", err);

	return st != ACLM_OK ? st : CALL_OP(s, audit_list, err, tenant, after_id, limit, cb, arg);
}

aclm_status store_set_durable(struct store *s, bool durable, struct aclm_err *err)
{
	if (s->ops->set_durable == NULL)
		return aclm_err_set(err, ACLM_ERR_UNSUPPORTED, "this store cannot change durability");
	return store__leave(s, s->ops->set_durable(store__enter(s), durable, err));
}

aclm_status store_sync(struct store *s, struct aclm_err *err)
{
	if (s->ops->sync == NULL)
		return unsupported(s, "sync", err);
	/* Not under the lock: the sync must overlap other threads' commits
	 * (the backend's sync uses a path it noted at open, not the
	 * connection). */
	return s->ops->sync(s->state, err);
}

aclm_status store_reserve_log(struct store *s, struct aclm_err *err)
{
	if (s->ops->reserve_log == NULL)
		return unsupported(s, "reserve_log", err);
	return store__leave(s, s->ops->reserve_log(store__enter(s), err));
}

aclm_status store_backup(struct store *s, const char *path, struct aclm_err *err)
{
	if (!(s->ops->caps & STORE_CAP_BACKUP))
		return unsupported(s, "backup", err);
	return CALL_OP(s, backup, err, path);
}

aclm_status store_acme_account_put(struct store *s, const struct store_acme_account *a, int64_t *id,
				   struct aclm_err *err)
{
	aclm_status st = need_tenant(a->tenant_id, "ACME account put", err);

	return st != ACLM_OK ? st : CALL_OP(s, acme_account_put, err, a, id);
}

aclm_status store_acme_account_get(struct store *s, int64_t tenant, int64_t id,
				   struct store_acme_account **out, struct aclm_err *err)
{
	*out = NULL;
	return CALL_OP(s, acme_account_get, err, tenant, id, out);
}

aclm_status store_acme_account_find(struct store *s, int64_t tenant, const char *server,
				    struct store_acme_account **out, struct aclm_err *err)
{
	*out = NULL;
	return CALL_OP(s, acme_account_find, err, tenant, server, out);
}

aclm_status store_acme_account_list(struct store *s, int64_t tenant, store_acme_account_cb cb,
				    void *arg, struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "ACME account list", err);

	return st != ACLM_OK ? st : CALL_OP(s, acme_account_list, err, tenant, cb, arg);
}

aclm_status store_acme_account_page(struct store *s, int64_t tenant, int64_t after_id,
				    int64_t limit, store_acme_account_cb cb, void *arg,
				    struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "ACME account page", err);

	return st != ACLM_OK ? st
			     : CALL_OP(s, acme_account_page, err, tenant, after_id, limit, cb, arg);
}

aclm_status store_lineage_put(struct store *s, const struct store_lineage *l, int64_t *id,
			      struct aclm_err *err)
{
	aclm_status st = need_tenant(l->tenant_id, "lineage put", err);

	return st != ACLM_OK ? st : CALL_OP(s, lineage_put, err, l, id);
}

aclm_status store_lineage_get(struct store *s, int64_t tenant, const char *name,
			      struct store_lineage **out, struct aclm_err *err)
{
	*out = NULL;
	return CALL_OP(s, lineage_get, err, tenant, name, out);
}

aclm_status store_lineage_list(struct store *s, int64_t tenant, store_lineage_cb cb, void *arg,
			       struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "lineage list", err);

	return st != ACLM_OK ? st : CALL_OP(s, lineage_list, err, tenant, cb, arg);
}

aclm_status store_lineage_page(struct store *s, int64_t tenant, int64_t after_id, int64_t limit,
			       store_lineage_cb cb, void *arg, struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "lineage page", err);

	return st != ACLM_OK ? st : CALL_OP(s, lineage_page, err, tenant, after_id, limit, cb, arg);
}

aclm_status store_lineage_lock(struct store *s, int64_t tenant, const char *name, const char *owner,
			       int64_t until, struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "lineage lock", err);

	return st != ACLM_OK ? st : CALL_OP(s, lineage_lock, err, tenant, name, owner, until);
}

aclm_status store_lineage_unlock(struct store *s, int64_t tenant, const char *name,
				 const char *owner, struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "lineage unlock", err);

	return st != ACLM_OK ? st : CALL_OP(s, lineage_unlock, err, tenant, name, owner);
}

/* ---- the audit chain ---- */

aclm_status store__audit_hash(const char *prev_hash, int64_t at, int64_t tenant_id,
			      const char *actor, const char *action, const char *object,
			      const char *detail_json, char out[65], struct aclm_err *err)
{
	char at_s[24], tenant_s[24];
	const char *parts[7];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	aclm_status st = ACLM_OK;
	int ok;

	snprintf(at_s, sizeof(at_s), "%lld", (long long)at);
	snprintf(tenant_s, sizeof(tenant_s), "%lld", (long long)tenant_id);
	parts[0] = prev_hash;
	parts[1] = at_s;
	parts[2] = tenant_s;
	parts[3] = actor;
	parts[4] = action;
	parts[5] = object;
	parts[6] = detail_json;
	ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	/* Each field as "LENGTH:BYTES" (netstring-like), so no byte of one
	 * field can be moved into its neighbour without changing the hash. */
	for (size_t i = 0; ok && i < 7; i++) {
		const char *p = parts[i] != NULL ? parts[i] : "";
		char len[24];
		int n = snprintf(len, sizeof(len), "%zu:", strlen(p));

		ok = EVP_DigestUpdate(ctx, len, (size_t)n) && EVP_DigestUpdate(ctx, p, strlen(p));
	}
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == 32;
	if (!ok) {
		st = aclm_err_ssl(err, ACLM_ERR_CRYPTO, "audit: SHA-256 failed");
		goto out;
	}
	aclm_hex_encode(md, mdlen, out);
out:
	EVP_MD_CTX_free(ctx);
	return st;
}

static aclm_status audit_check_event(const struct store *s, const struct store_audit_event *e,
				     struct aclm_err *err)
{
	if (s->ops->audit_last_hash == NULL || s->ops->audit_insert == NULL)
		return unsupported(s, "audit", err);
	if (e->actor == NULL || e->actor[0] == '\0' || e->action == NULL || e->action[0] == '\0')
		return aclm_err_set(err, ACLM_ERR_INVALID, "audit event needs an actor and an action");
	return ACLM_OK;
}

/* Reading the last hash and inserting must be one transaction, or two
 * writers could chain onto the same row and fork the chain. */
/* Under the store's lock, so that in_tx is this thread's: another
 * thread's transaction is over by the time this one holds it. */
static aclm_status audit_append_locked(struct store *s, const struct store_audit_event *e,
				       int64_t at, const char *detail, struct aclm_err *err)
{
	char prev[65], hash[65];
	bool own_tx = false;
	aclm_status st = ACLM_OK;

	if (!s->in_tx) {
		st = store_begin(s, err);
		if (st != ACLM_OK)
			return st;
		own_tx = true;
	}
	st = s->ops->audit_last_hash(s->state, prev, err);
	if (st == ACLM_OK)
		st = store__audit_hash(prev, at, e->tenant_id, e->actor, e->action, e->object,
				       detail, hash, err);
	if (st == ACLM_OK)
		st = s->ops->audit_insert(s->state, e, at, detail, prev, hash, err);
	if (own_tx && st == ACLM_OK)
		st = store_commit(s, err);
	else if (own_tx)
		store_rollback(s);
	return st;
}

aclm_status store_audit_append(struct store *s, const struct store_audit_event *e,
			       struct aclm_err *err)
{
	char *detail = NULL;
	int64_t at = aclm_time_now();
	aclm_status st = audit_check_event(s, e, err);

	if (st != ACLM_OK)
		return st;
	if (e->detail != NULL && (detail = aclm_json_dump_compact(e->detail)) == NULL)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "audit %s: cannot serialise detail",
				    e->action);
	store__enter(s);
	st = store__leave(s, audit_append_locked(s, e, at, detail, err));
	free(detail);
	return st;
}

/* ---- frees ---- */

void store_cert_free(struct store_cert *c)
{
	if (c == NULL)
		return;
	json_decref(c->facts);
	json_decref(c->sources);
	json_decref(c->tags);
	free(c->der);
	free(c->key_id);
	free(c->source);
	free(c->owner);
	free(c);
}

void store_key_free(struct store_key *k)
{
	if (k == NULL)
		return;
	if (k->sealed != NULL)
		OPENSSL_cleanse(k->sealed, k->sealed_len);
	free(k->sealed);
	free(k);
}

void store_acme_account_free(struct store_acme_account *a)
{
	if (a == NULL)
		return;
	free(a->server);
	free(a->key_id);
	free(a->url);
	json_decref(a->contact);
	free(a->status);
	free(a);
}

void store_lineage_free(struct store_lineage *l)
{
	if (l == NULL)
		return;
	free(l->name);
	free(l->server);
	json_decref(l->names);
	free(l->key_type);
	json_decref(l->options);
	free(l->order_url);
	free(l->order_state);
	free(l->ari_id);
	free(l->lock_owner);
	free(l);
}

void store_ca_free(struct store_ca *ca)
{
	if (ca == NULL)
		return;
	free(ca->name);
	free(ca->key_type);
	free(ca->root_key_id);
	free(ca->intermediate_key_id);
	free(ca);
}

void store_ca_account_free(struct store_ca_account *a)
{
	if (a == NULL)
		return;
	free(a->ca_name);
	json_decref(a->jwk);
	json_decref(a->contact);
	free(a->status);
	free(a->eab_kid);
	json_decref(a->allow);
	free(a);
}

void store_ca_order_free(struct store_ca_order *o)
{
	if (o == NULL)
		return;
	free(o->ca_name);
	free(o->account_id);
	free(o->status);
	json_decref(o->identifiers);
	json_decref(o->authz_ids);
	free(o->profile);
	json_decref(o->error);
	free(o->cert_serial);
	free(o->replaces);
	free(o);
}

void store_ca_authz_free(struct store_ca_authz *a)
{
	if (a == NULL)
		return;
	free(a->ca_name);
	free(a->account_id);
	free(a->ident_type);
	free(a->ident_value);
	free(a->status);
	json_decref(a->challenges);
	free(a);
}

void store_ca_issued_free(struct store_ca_issued *c)
{
	if (c == NULL)
		return;
	free(c->ca_name);
	free(c->key_type);
	free(c->account_id);
	free(c->order_id);
	free(c->der);
	free(c->profile);
	free(c->replaced_by);
	free(c);
}

/* The sealed HMAC key is no secret without the master key, but it is
 * cleansed as the sealed private keys are. */
void store_ca_eab_free(struct store_ca_eab *e)
{
	if (e == NULL)
		return;
	free(e->ca_name);
	if (e->hmac_sealed != NULL)
		OPENSSL_cleanse(e->hmac_sealed, e->hmac_sealed_len);
	free(e->hmac_sealed);
	json_decref(e->allow);
	free(e->account_id);
	free(e);
}

static void buckets_free(struct store_summary_bucket *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(b[i].name);
	free(b);
}

void store_summary_free(struct store_summary *s)
{
	if (s == NULL)
		return;
	buckets_free(s->by_issuer, s->n_issuer);
	buckets_free(s->by_key_type, s->n_key_type);
	buckets_free(s->by_sig_alg, s->n_sig_alg);
	memset(s, 0, sizeof(*s));
}
