/* JSON helpers on jansson. */
#include "core/json.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

int aclm_json_set_str(json_t *obj, const char *key, const char *s)
{
	return json_object_set_new(obj, key, s != NULL ? json_string(s) : json_null());
}

int aclm_json_set_int(json_t *obj, const char *key, int64_t v)
{
	return json_object_set_new(obj, key, json_integer((json_int_t)v));
}

int aclm_json_set_bool(json_t *obj, const char *key, bool v)
{
	return json_object_set_new(obj, key, json_boolean(v));
}

int aclm_json_set_new(json_t *obj, const char *key, json_t *value)
{
	return json_object_set_new(obj, key, value != NULL ? value : json_null());
}

const char *aclm_json_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

int64_t aclm_json_int(const json_t *obj, const char *key, int64_t def)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

bool aclm_json_bool(const json_t *obj, const char *key)
{
	return json_is_true(json_object_get(obj, key));
}

aclm_status aclm_json_parse(const char *text, size_t len, size_t max, const char *what,
			    json_t **out, struct aclm_err *err)
{
	json_error_t je;

	*out = NULL;
	if (len > max)
		return aclm_err_set(err, ACLM_ERR_TOOBIG, "%s: JSON larger than %zu bytes", what, max);
	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (*out == NULL)
		return aclm_err_set(err, ACLM_ERR_PARSE, "%s: invalid JSON at line %d column %d: %s",
				    what, je.line, je.column, je.text);
	return ACLM_OK;
}

/* jansson streams to the FILE, token by token. */
static aclm_status print_streamed(FILE *f, const json_t *v, size_t flags)
{
	if (json_dumpf(v, f, flags | JSON_ENCODE_ANY) != 0 || fputc('\n', f) == EOF)
		return ACLM_ERR_IO;
	return ACLM_OK;
}

/* Compact lines (the scanner prints one per endpoint) are rendered by
 * aclm_json_write and written at once: json_dumpf makes a locked stdio
 * call per token. Pretty text, and values too deep or too large for the
 * buffer, stream through jansson. */
#define JSON_PRINT_MAX (64u << 20)

aclm_status aclm_json_print(FILE *f, const json_t *v, bool pretty)
{
	struct aclm_buf b;
	aclm_status st;

	if (pretty)
		return print_streamed(f, v, JSON_INDENT(2));
	aclm_buf_init(&b, JSON_PRINT_MAX);
	st = aclm_json_write(&b, v);
	if (st == ACLM_OK)
		st = aclm_buf_append(&b, "\n", 1);
	if (st == ACLM_OK)
		st = fwrite(b.data, 1, b.len, f) == b.len ? ACLM_OK : ACLM_ERR_IO;
	else
		st = print_streamed(f, v, JSON_COMPACT);
	aclm_buf_free(&b);
	return st;
}

char *aclm_json_dump_compact(const json_t *v)
{
	return json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}
