/* ca/wfe_sync: group commit for the CA's durable transactions. They commit
 * without a sync and release the write lock; the answer waits until one
 * store_sync, shared by every commit that ended before it began, covers
 * them. Readers wait the same way for the durable commits they could see. */
#include "ca/wfe.h"

#include <string.h>

void wfe_sync_init(struct wfe_sync *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
}

void wfe_sync_destroy(struct wfe_sync *s)
{
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
}

static size_t mark_slot(const char *key)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return h % WFE_SYNC_MARKS;
}

/* The number is taken, and the keys marked, before COMMIT: a reader that
 * sees the commit's rows started its read after the COMMIT, so the mark it
 * loads after its read is at least this number. A slot shared by two keys
 * keeps the larger number: a reader then waits longer, never too little. */
uint64_t wfe_sync_begin(struct wfe_sync *s, const char *const *keys, size_t n)
{
	uint64_t seq = __atomic_add_fetch(&s->reserved, 1, __ATOMIC_SEQ_CST);

	for (size_t i = 0; i < n; i++) {
		uint64_t *m = &s->marks[mark_slot(keys[i])];
		uint64_t cur = __atomic_load_n(m, __ATOMIC_SEQ_CST);

		while (cur < seq &&
		       !__atomic_compare_exchange_n(m, &cur, seq, false, __ATOMIC_SEQ_CST,
						    __ATOMIC_SEQ_CST))
			;
	}
	return seq;
}

/* Under the write lock, so commits end in number order: every number up to
 * committed has its frames in the WAL, and a sync that starts now covers
 * them. Also after a failed COMMIT: a waiter must not wait for a number
 * that never ends (syncing a rolled-back number is harmless). */
void wfe_sync_end(struct wfe_sync *s, uint64_t seq)
{
	pthread_mutex_lock(&s->lock);
	if (seq > s->committed)
		s->committed = seq;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

uint64_t wfe_sync_seen(struct wfe_sync *s, const char *key)
{
	const uint64_t *p = key != NULL ? &s->marks[mark_slot(key)] : &s->reserved;

	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

/* One waiter at a time syncs, for every commit ended so far; the others
 * wait for it, and whoever is still short afterwards (its commit ended
 * during that sync) leads the next one. With nothing pending this is one
 * atomic load. A failed sync advances nothing: the next waiter tries again. */
aclm_status wfe_sync_wait(struct wfe_sync *s, uint64_t target, wfe_sync_fn fn, void *arg,
			  struct aclm_err *err)
{
	aclm_status st = ACLM_OK;
	uint64_t goal;

	if (__atomic_load_n(&s->synced, __ATOMIC_SEQ_CST) >= target)
		goto out;
	pthread_mutex_lock(&s->lock);
	while (st == ACLM_OK && __atomic_load_n(&s->synced, __ATOMIC_SEQ_CST) < target) {
		if (s->syncing || s->committed < target) {
			pthread_cond_wait(&s->cond, &s->lock);
			continue;
		}
		s->syncing = true;
		goal = s->committed;
		pthread_mutex_unlock(&s->lock);
		st = fn(arg, err);
		pthread_mutex_lock(&s->lock);
		s->syncing = false;
		if (st == ACLM_OK && goal > s->synced)
			__atomic_store_n(&s->synced, goal, __ATOMIC_SEQ_CST);
		if (st == ACLM_OK)
			s->syncs++;
		pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
out:
	return st;
}
