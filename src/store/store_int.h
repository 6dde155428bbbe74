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

#endif
