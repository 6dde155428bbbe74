/* ca/wfe_limit: rate limits per account and per IP in fixed one-minute
 * windows, in a bounded table (a full table forgets the oldest window). */
#include "ca/wfe.h"

#include <string.h>

static uint32_t limit_hash(const char *key)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

void wfe_limits_init(struct wfe_limits *l)
{
	memset(l->slots, 0, sizeof(l->slots));
	pthread_mutex_init(&l->lock, NULL);
}

void wfe_limits_destroy(struct wfe_limits *l)
{
	pthread_mutex_destroy(&l->lock);
}

/* Linear probing over 8 slots; a slot from an older window is free. */
static struct wfe_limit_slot *limit_slot(struct wfe_limits *l, const char *key, int64_t window)
{
	uint32_t h = limit_hash(key);
	struct wfe_limit_slot *oldest = NULL;

	for (uint32_t i = 0; i < 8; i++) {
		struct wfe_limit_slot *s = &l->slots[(h + i) % WFE_LIMIT_SLOTS];

		if (strcmp(s->key, key) == 0)
			return s;
		if (oldest == NULL || s->window < oldest->window)
			oldest = s;
	}
	snprintf(oldest->key, sizeof(oldest->key), "%s", key);
	oldest->window = window;
	oldest->count = 0;
	return oldest;
}

bool wfe_limit_take(struct wfe_limits *l, const char *key, int max, int64_t now,
		    int64_t *retry_after)
{
	int64_t window = now / 60;
	struct wfe_limit_slot *s;
	bool ok;

	if (max <= 0)
		return true;
	pthread_mutex_lock(&l->lock);
	s = limit_slot(l, key, window);
	if (s->window != window) {
		s->window = window;
		s->count = 0;
	}
	ok = s->count < max;
	if (ok)
		s->count++;
	pthread_mutex_unlock(&l->lock);
	if (!ok && retry_after != NULL)
		*retry_after = (window + 1) * 60 - now;
	return ok;
}
