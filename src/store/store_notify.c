/* The notify area's store_* calls: forward to the backend's notify table
 * (store_notify.h), or say the backend lacks it. */
#include "store/store_notify.h"

#include <stdlib.h>

#include "store/store_int.h"

static const struct store_notify_ops *area(const struct store *s)
{
	return store__ops(s)->notify;
}

/* A backend without the area, or without this entry of it. */
#define MISSING(s, entry) (area(s) == NULL || area(s)->entry == NULL)

void store_notify_channel_clear(struct store_notify_channel *c)
{
	if (c == NULL)
		return;
	free(c->params);
	c->params = NULL;
}

aclm_status store_notify_channel_add(struct store *s, const struct store_notify_channel *c,
				     int64_t now, int64_t *id, struct aclm_err *err)
{
	if (MISSING(s, channel_add))
		return store__unsupported(s, "notification channels", err);
	return store__leave(s, area(s)->channel_add(store__enter(s), c, now, id, err));
}

aclm_status store_notify_channel_update(struct store *s, const struct store_notify_channel *c,
					int64_t now, struct aclm_err *err)
{
	if (MISSING(s, channel_update))
		return store__unsupported(s, "notification channels", err);
	return store__leave(s, area(s)->channel_update(store__enter(s), c, now, err));
}

aclm_status store_notify_channel_get(struct store *s, int64_t tenant, const char *name,
				     struct store_notify_channel *out, struct aclm_err *err)
{
	if (MISSING(s, channel_get))
		return store__unsupported(s, "notification channels", err);
	return store__leave(s, area(s)->channel_get(store__enter(s), tenant, name, out, err));
}

aclm_status store_notify_channel_list(struct store *s, int64_t tenant, const char *origin,
				      store_notify_channel_cb cb, void *arg, struct aclm_err *err)
{
	if (MISSING(s, channel_list))
		return store__unsupported(s, "notification channels", err);
	return store__leave(s, area(s)->channel_list(store__enter(s), tenant, origin, cb, arg, err));
}

aclm_status store_notify_channel_delete(struct store *s, int64_t tenant, const char *name,
					const char *origin, struct aclm_err *err)
{
	if (MISSING(s, channel_delete))
		return store__unsupported(s, "notification channels", err);
	return store__leave(s, area(s)->channel_delete(store__enter(s), tenant, name, origin, err));
}

aclm_status store_notify_channel_page(struct store *s, int64_t tenant, int64_t after_id,
				      int64_t limit, store_notify_channel_cb cb, void *arg,
				      struct aclm_err *err)
{
	if (MISSING(s, channel_page))
		return store__unsupported(s, "notification channel pages", err);
	return store__leave(s, area(s)->channel_page(store__enter(s), tenant, after_id, limit, cb, arg, err));
}
