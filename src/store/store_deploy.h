/* store/: the deploy area: deployment targets, lineage -> target bindings
 * and deployment results (tables targets, bindings, deployments of
 * migration 5). Every call takes the tenant. */
#ifndef ACLM_STORE_DEPLOY_H
#define ACLM_STORE_DEPLOY_H

#include "store/store.h"

/* A target row. Returned rows own their strings and JSON
 * (store_target_free); on put they are borrowed. */
struct store_target {
	int64_t id;
	int64_t tenant_id;
	char *name;
	char *type;                /* file|nginx|apache|haproxy|ssh|webhook */
	json_t *options;           /* the type's options object */
	json_t *verify;            /* array of "HOST:PORT[/SNI]" */
	int64_t created_at, updated_at;
};
void store_target_free(struct store_target *t);
typedef aclm_status (*store_target_cb)(const struct store_target *t, void *arg);

/* One deploy of one certificate to one target. */
struct store_deployment {
	int64_t id;
	int64_t tenant_id;
	int64_t target_id;
	char *target_name;         /* read only (joined from targets) */
	int64_t cert_id;           /* 0 when the certificate is gone */
	char *lineage;             /* or NULL */
	char *fingerprint;         /* what was deployed */
	char *state;               /* running|deployed|rolled_back|failed */
	char *served_fingerprint;  /* what the last probe saw, or NULL */
	char *error;               /* or NULL */
	json_t *detail;            /* object or NULL */
	int64_t started_at, finished_at;
};
void store_deployment_free(struct store_deployment *d);
typedef aclm_status (*store_deployment_cb)(const struct store_deployment *d, void *arg);

struct store_deploy_ops {
	aclm_status (*target_put)(void *state, const struct store_target *t, int64_t *id,
				  struct aclm_err *err);
	aclm_status (*target_get)(void *state, int64_t tenant, const char *name,
				  struct store_target **out, struct aclm_err *err);
	aclm_status (*target_list)(void *state, int64_t tenant, store_target_cb cb, void *arg,
				   struct aclm_err *err);
	aclm_status (*target_delete)(void *state, int64_t tenant, const char *name,
				     struct aclm_err *err);
	aclm_status (*binding_add)(void *state, int64_t tenant, const char *lineage,
				   int64_t target_id, int64_t now, struct aclm_err *err);
	aclm_status (*binding_list)(void *state, int64_t tenant, const char *lineage,
				    store_target_cb cb, void *arg, struct aclm_err *err);
	aclm_status (*deployment_start)(void *state, const struct store_deployment *d,
					int64_t *id, struct aclm_err *err);
	aclm_status (*deployment_finish)(void *state, const struct store_deployment *d,
					 struct aclm_err *err);
	aclm_status (*deployment_latest)(void *state, int64_t tenant, const char *lineage,
					 store_deployment_cb cb, void *arg, struct aclm_err *err);
	aclm_status (*deployment_last_cert)(void *state, int64_t tenant, int64_t target_id,
					    int64_t *cert_id, struct aclm_err *err);
	aclm_status (*target_page)(void *state, int64_t tenant, int64_t after_id, int64_t limit,
				   store_target_cb cb, void *arg, struct aclm_err *err);
	aclm_status (*deployment_latest_page)(void *state, int64_t tenant, const char *lineage,
					      int64_t after_target_id, int64_t limit,
					      store_deployment_cb cb, void *arg,
					      struct aclm_err *err);
};

/* Inserts a new target (ACLM_ERR_EXISTS when the tenant has that name). */
aclm_status store_target_put(struct store *s, const struct store_target *t, int64_t *id,
			     struct aclm_err *err);
/* ACLM_ERR_NOTFOUND "no target NAME" when absent. */
aclm_status store_target_get(struct store *s, int64_t tenant, const char *name,
			     struct store_target **out, struct aclm_err *err);
/* By name. */
aclm_status store_target_list(struct store *s, int64_t tenant, store_target_cb cb, void *arg,
			      struct aclm_err *err);
/* Removes the target, its bindings and its results; ACLM_ERR_NOTFOUND when absent. */
aclm_status store_target_delete(struct store *s, int64_t tenant, const char *name,
				struct aclm_err *err);

/* Binds a lineage to a target (binding twice is not an error). */
aclm_status store_binding_add(struct store *s, int64_t tenant, const char *lineage,
			      int64_t target_id, int64_t now, struct aclm_err *err);
/* The targets bound to a lineage, by name. */
aclm_status store_binding_list(struct store *s, int64_t tenant, const char *lineage,
			       store_target_cb cb, void *arg, struct aclm_err *err);

/* Records a deploy in state d->state (started_at set); *id is its row. */
aclm_status store_deployment_start(struct store *s, const struct store_deployment *d, int64_t *id,
				   struct aclm_err *err);
/* Sets state, served_fingerprint, error, detail and finished_at of row d->id. */
aclm_status store_deployment_finish(struct store *s, const struct store_deployment *d,
				    struct aclm_err *err);
/* The last deployment per target (of lineage, when not NULL), by target name. */
aclm_status store_deployment_latest(struct store *s, int64_t tenant, const char *lineage,
				    store_deployment_cb cb, void *arg, struct aclm_err *err);

/* The certificate last deployed successfully to the target (still in the
 * inventory): *cert_id, or 0 when there is none. */
aclm_status store_deployment_last_cert(struct store *s, int64_t tenant, int64_t target_id,
				       int64_t *cert_id, struct aclm_err *err);

/* One page of the tenant's targets in id order (the API's cursor lists):
 * ids above after_id, at most limit rows (limit > 0). */
aclm_status store_target_page(struct store *s, int64_t tenant, int64_t after_id, int64_t limit,
			      store_target_cb cb, void *arg, struct aclm_err *err);
/* One page of store_deployment_latest in target id order: the last
 * deployment of each target whose id is above after_target_id, at most
 * limit rows (limit > 0). One row per target, so a walk sees each target
 * once even while deployments are added. */
aclm_status store_deployment_latest_page(struct store *s, int64_t tenant, const char *lineage,
					 int64_t after_target_id, int64_t limit,
					 store_deployment_cb cb, void *arg, struct aclm_err *err);

#endif
