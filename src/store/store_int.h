/* Internals shared by the files of store/; other subsystems use store.h only. */
#ifndef ACLM_STORE_INT_H
#define ACLM_STORE_INT_H

#include <stdint.h>

#include "core/status.h"

/* prev_hash of the first audit row. */
#define STORE__AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* The audit chain hash: lowercase hex SHA-256 over
 * prev_hash "|" at "|" tenant_id "|" actor "|" action "|" object "|" detail_json
 * (integers in decimal, NULL strings as ""). store.c appends with it, each
 * backend's audit_verify re-computes with it. */
aclm_status store__audit_hash(const char *prev_hash, int64_t at, int64_t tenant_id,
			      const char *actor, const char *action, const char *object,
			      const char *detail_json, char out[65], struct aclm_err *err);

/* The backend behind an open store, for the area files (store_auth.c,
 * store_sched.c, ...) that forward to the backend's area ops table. */
struct store;
struct store_ops;
const struct store_ops *store__ops(const struct store *s);
/* The backend's state, with the store's lock taken (threads sharing a store
 * take turns, store_share); store__leave releases it and returns st, so
 * that a forwarding call reads
 *   return store__leave(s, ops->fn(store__enter(s), ...)); */
void *store__enter(struct store *s);
aclm_status store__leave(struct store *s, aclm_status st);

/* "the store backend <scheme> does not support <what>" (ACLM_ERR_UNSUPPORTED):
 * an area's call on a backend whose area table is NULL or lacks the entry. */
aclm_status store__unsupported(const struct store *s, const char *what, struct aclm_err *err);

#endif
