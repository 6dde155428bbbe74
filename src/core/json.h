/* JSON helpers on jansson. */
#ifndef ACLM_CORE_JSON_H
#define ACLM_CORE_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "core/status.h"

/* Sets key to a string, or to null when s is NULL. Returns 0 on success. */
int aclm_json_set_str(json_t *obj, const char *key, const char *s);
int aclm_json_set_int(json_t *obj, const char *key, int64_t v);
int aclm_json_set_bool(json_t *obj, const char *key, bool v);
/* Sets key to value, stealing the reference (value may be NULL: sets null). */
int aclm_json_set_new(json_t *obj, const char *key, json_t *value);

/* Getters that tolerate missing keys and wrong types. */
const char *aclm_json_str(const json_t *obj, const char *key);
int64_t aclm_json_int(const json_t *obj, const char *key, int64_t def);
bool aclm_json_bool(const json_t *obj, const char *key);

/* Parses at most `max` bytes of JSON; err names `what` and the position. */
aclm_status aclm_json_parse(const char *text, size_t len, size_t max, const char *what,
			    json_t **out, struct aclm_err *err);

/* Writes v to f, indented (pretty) or compact, followed by a newline. */
aclm_status aclm_json_print(FILE *f, const json_t *v, bool pretty);

/* Appends v as json_dumps(JSON_COMPACT | JSON_ENCODE_ANY) would write it,
 * byte for byte, only faster (core/json_write.c); nesting deeper than 64
 * -> ACLM_ERR_INVALID. */
struct aclm_buf;
aclm_status aclm_json_write(struct aclm_buf *out, const json_t *v);
/* A JSON string of s, escaped as aclm_json_write escapes strings. */
aclm_status aclm_json_write_string(struct aclm_buf *out, const char *s);

/* Compact, key-sorted serialisation (stable for storage); caller frees. */
char *aclm_json_dump_compact(const json_t *v);

#endif
