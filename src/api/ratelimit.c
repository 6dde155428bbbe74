/* api/ratelimit: login attempts per client address and per user name, in
 * memory (a restart forgets them): fixed windows in a small open-addressed
 * table; when full, the slot with the oldest window is reused. */
#include "api/api_int.h"

#include <stdio.h>
#include <string.h>

#include <openssl/sha.h>

#define PROBE 16

void api__limit_init(struct api__limit *l, int per_window, int64_t window_s)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	l->per_window = per_window;
	l->window_s = window_s;
}

void api__limit_destroy(struct api__limit *l)
{
	pthread_mutex_destroy(&l->lock);
}

static size_t slot_of(const char *key)
{
	unsigned char h[SHA256_DIGEST_LENGTH];
	size_t v;

	SHA256((const unsigned char *)key, strlen(key), h);
	memcpy(&v, h, sizeof(v));
	return v % API__LIMIT_SLOTS;
}

bool api__limit_take(struct api__limit *l, const char *key, int64_t now, int64_t *retry_after)
{
	size_t base = slot_of(key), pick = base;
	int64_t oldest = INT64_MAX;
	bool ok = true, found = false;

	pthread_mutex_lock(&l->lock);
	for (size_t i = 0; i < PROBE && !found; i++) {
		size_t k = (base + i) % API__LIMIT_SLOTS;

		if (strncmp(l->slot[k].key, key, API__LIMIT_KEY_MAX) == 0) {
			pick = k;
			found = true;
		} else if (l->slot[k].start < oldest) {
			oldest = l->slot[k].start;
			pick = k;
		}
	}
	if (!found || now - l->slot[pick].start >= l->window_s) {
		snprintf(l->slot[pick].key, API__LIMIT_KEY_MAX, "%s", key);
		l->slot[pick].start = now;
		l->slot[pick].count = 0;
	}
	if (l->slot[pick].count >= l->per_window) {
		ok = false;
		*retry_after = l->slot[pick].start + l->window_s - now;
		if (*retry_after < 1)
			*retry_after = 1;
	} else {
		l->slot[pick].count++;
	}
	pthread_mutex_unlock(&l->lock);
	return ok;
}
