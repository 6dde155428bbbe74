/* store/: the notify area: alert channels (migration 5's notify_channels),
 * per tenant, from the configuration (origin "config") or the API ("api").
 * params is the channel's JSON object of strings (notify/notify.h); secrets
 * are file paths there, never values. */
#ifndef ACLM_STORE_NOTIFY_H
#define ACLM_STORE_NOTIFY_H

#include <stdint.h>

#include "core/status.h"
#include "store/store.h"

#define STORE_NOTIFY_NAME_MAX 129   /* 128 bytes + NUL */
#define STORE_NOTIFY_TYPE_MAX 16    /* "dingtalk" ... */
#define STORE_NOTIFY_ORIGIN_MAX 8   /* "config" | "api" */
#define STORE_NOTIFY_PARAMS_MAX 16384

struct store_notify_channel {
	int64_t id;
	int64_t tenant_id;
	char name[STORE_NOTIFY_NAME_MAX];
	char type[STORE_NOTIFY_TYPE_MAX];
	char origin[STORE_NOTIFY_ORIGIN_MAX];
	char *params;              /* JSON object text; reads malloc it (store_notify_channel_clear) */
	int64_t created_at, updated_at;
};
/* Frees params (after a get); the row itself is the caller's. */
void store_notify_channel_clear(struct store_notify_channel *c);
typedef aclm_status (*store_notify_channel_cb)(const struct store_notify_channel *c, void *arg);

/* The backend's table; a NULL entry means "unsupported". Every call takes
 * the tenant id: another tenant's channel is "not found". */
struct store_notify_ops {
	/* New channel (tenant, name); taken -> ACLM_ERR_EXISTS. */
	aclm_status (*channel_add)(void *state, const struct store_notify_channel *c, int64_t now,
				   int64_t *id, struct aclm_err *err);
	/* Replaces type and params of (tenant, name) when its origin is
	 * c->origin; none such -> ACLM_ERR_NOTFOUND. */
	aclm_status (*channel_update)(void *state, const struct store_notify_channel *c,
				      int64_t now, struct aclm_err *err);
	aclm_status (*channel_get)(void *state, int64_t tenant, const char *name,
				   struct store_notify_channel *out, struct aclm_err *err);
	/* By name; origin NULL for all. */
	aclm_status (*channel_list)(void *state, int64_t tenant, const char *origin,
				    store_notify_channel_cb cb, void *arg, struct aclm_err *err);
	/* Removes (tenant, name) when its origin is origin (NULL: any); none
	 * such -> ACLM_ERR_NOTFOUND. */
	aclm_status (*channel_delete)(void *state, int64_t tenant, const char *name,
				      const char *origin, struct aclm_err *err);
	/* Ids above after_id in id order, at most limit (> 0) rows. */
	aclm_status (*channel_page)(void *state, int64_t tenant, int64_t after_id, int64_t limit,
				    store_notify_channel_cb cb, void *arg, struct aclm_err *err);
};

aclm_status store_notify_channel_add(struct store *s, const struct store_notify_channel *c,
				     int64_t now, int64_t *id, struct aclm_err *err);
aclm_status store_notify_channel_update(struct store *s, const struct store_notify_channel *c,
					int64_t now, struct aclm_err *err);
aclm_status store_notify_channel_get(struct store *s, int64_t tenant, const char *name,
				     struct store_notify_channel *out, struct aclm_err *err);
aclm_status store_notify_channel_list(struct store *s, int64_t tenant, const char *origin,
				      store_notify_channel_cb cb, void *arg, struct aclm_err *err);
aclm_status store_notify_channel_delete(struct store *s, int64_t tenant, const char *name,
					const char *origin, struct aclm_err *err);
/* One page of the tenant's channels (any origin) in id order (the API's
 * cursor lists): ids above after_id, at most limit rows (limit > 0). */
aclm_status store_notify_channel_page(struct store *s, int64_t tenant, int64_t after_id,
				      int64_t limit, store_notify_channel_cb cb, void *arg,
				      struct aclm_err *err);

#endif
