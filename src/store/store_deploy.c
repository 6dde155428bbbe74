/* store/: the deploy area's public calls: forward to the backend's deploy
 * table, refuse a call without a tenant, free the rows. */
#include "store/store_deploy.h"

#include <stdlib.h>

#include "store/store_int.h"

/* The backend's deploy table, or NULL (then: unsupported). */
static const struct store_deploy_ops *deploy_ops(const struct store *s)
{
	return store__ops(s)->deploy;
}

#define DEPLOY_CALL(s, op, what, err, ...)                                                  \
	(deploy_ops(s) == NULL || deploy_ops(s)->op == NULL                                 \
		 ? store__unsupported((s), (what), (err))                                  \
		 : store__leave((s), deploy_ops(s)->op(store__enter(s), __VA_ARGS__, (err))))

static aclm_status need_tenant(int64_t tenant, const char *what, struct aclm_err *err)
{
	if (tenant > 0)
		return ACLM_OK;
	return aclm_err_set(err, ACLM_ERR_INVALID, "%s: no tenant given", what);
}

void store_target_free(struct store_target *t)
{
	if (t == NULL)
		return;
	free(t->name);
	free(t->type);
	json_decref(t->options);
	json_decref(t->verify);
	free(t);
}

void store_deployment_free(struct store_deployment *d)
{
	if (d == NULL)
		return;
	free(d->target_name);
	free(d->lineage);
	free(d->fingerprint);
	free(d->state);
	free(d->served_fingerprint);
	free(d->error);
	json_decref(d->detail);
	free(d);
}

aclm_status store_target_put(struct store *s, const struct store_target *t, int64_t *id,
			     struct aclm_err *err)
{
	aclm_status st = need_tenant(t->tenant_id, "target add", err);

	if (st == ACLM_OK && (t->name == NULL || t->type == NULL))
		st = aclm_err_set(err, ACLM_ERR_INVALID, "target add: name and type are required");
	return st != ACLM_OK ? st : DEPLOY_CALL(s, target_put, "deployment targets", err, t, id);
}

aclm_status store_target_get(struct store *s, int64_t tenant, const char *name,
			     struct store_target **out, struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "target get", err);

	*out = NULL;
	return st != ACLM_OK ? st : DEPLOY_CALL(s, target_get, "deployment targets", err, tenant, name, out);
}

aclm_status store_target_list(struct store *s, int64_t tenant, store_target_cb cb, void *arg,
			      struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "target list", err);

	return st != ACLM_OK ? st : DEPLOY_CALL(s, target_list, "deployment targets", err, tenant, cb, arg);
}

aclm_status store_target_delete(struct store *s, int64_t tenant, const char *name,
				struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "target rm", err);

	return st != ACLM_OK ? st : DEPLOY_CALL(s, target_delete, "deployment targets", err, tenant, name);
}

aclm_status store_binding_add(struct store *s, int64_t tenant, const char *lineage,
			      int64_t target_id, int64_t now, struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "bind", err);

	return st != ACLM_OK ? st
			     : DEPLOY_CALL(s, binding_add, "bindings", err, tenant, lineage, target_id, now);
}

aclm_status store_binding_list(struct store *s, int64_t tenant, const char *lineage,
			       store_target_cb cb, void *arg, struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "binding list", err);

	return st != ACLM_OK ? st
			     : DEPLOY_CALL(s, binding_list, "bindings", err, tenant, lineage, cb, arg);
}

aclm_status store_deployment_start(struct store *s, const struct store_deployment *d, int64_t *id,
				   struct aclm_err *err)
{
	aclm_status st = need_tenant(d->tenant_id, "deployment", err);

	return st != ACLM_OK ? st : DEPLOY_CALL(s, deployment_start, "deployments", err, d, id);
}

aclm_status store_deployment_finish(struct store *s, const struct store_deployment *d,
				    struct aclm_err *err)
{
	aclm_status st = need_tenant(d->tenant_id, "deployment", err);

	return st != ACLM_OK ? st : DEPLOY_CALL(s, deployment_finish, "deployments", err, d);
}

aclm_status store_deployment_latest(struct store *s, int64_t tenant, const char *lineage,
				    store_deployment_cb cb, void *arg, struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "deployments", err);

	return st != ACLM_OK ? st
			     : DEPLOY_CALL(s, deployment_latest, "deployments", err, tenant, lineage, cb,
					   arg);
}

aclm_status store_deployment_last_cert(struct store *s, int64_t tenant, int64_t target_id,
				       int64_t *cert_id, struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "deployments", err);

	*cert_id = 0;
	return st != ACLM_OK ? st
			     : DEPLOY_CALL(s, deployment_last_cert, "deployments", err, tenant,
					   target_id, cert_id);
}

aclm_status store_target_page(struct store *s, int64_t tenant, int64_t after_id, int64_t limit,
			      store_target_cb cb, void *arg, struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "target page", err);

	return st != ACLM_OK ? st
			     : DEPLOY_CALL(s, target_page, "deployment targets", err, tenant,
					   after_id, limit, cb, arg);
}

aclm_status store_deployment_latest_page(struct store *s, int64_t tenant, const char *lineage,
					 int64_t after_target_id, int64_t limit,
					 store_deployment_cb cb, void *arg, struct aclm_err *err)
{
	aclm_status st = need_tenant(tenant, "deployment page", err);

	return st != ACLM_OK ? st
			     : DEPLOY_CALL(s, deployment_latest_page, "deployments", err, tenant,
					   lineage, after_target_id, limit, cb, arg);
}
