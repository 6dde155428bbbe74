/* core/json_write: compact JSON text of a jansson value, byte for byte what
 * json_dumps(JSON_COMPACT | JSON_ENCODE_ANY) writes, without jansson's
 * per-fragment callbacks: the API's list pages of 100 certificates (~110 KB)
 * spent a third of their CPU in json_dumps (docs/BENCHMARKS.md, api), and
 * the scanner prints one such line per endpoint. */
#include "core/json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

#define DEPTH_MAX 64

/* Bytes that json_dumps escapes (no JSON_ESCAPE_SLASH, no ENSURE_ASCII). */
static bool plain(unsigned char c)
{
	return c >= 0x20 && c != '"' && c != '\\';
}

static aclm_status write_string(struct aclm_buf *out, const char *s, size_t len)
{
	aclm_status st = aclm_buf_append(out, "\"", 1);
	size_t i = 0;

	while (st == ACLM_OK && i < len) {
		size_t run = i;
		char esc[8];
		unsigned char c;

		while (run < len && plain((unsigned char)s[run]))
			run++;
		if (run > i)
			st = aclm_buf_append(out, s + i, run - i);
		if (st != ACLM_OK || run == len)
			break;
		c = (unsigned char)s[run];
		switch (c) {
		case '"': snprintf(esc, sizeof(esc), "\\\""); break;
		case '\\': snprintf(esc, sizeof(esc), "\\\\"); break;
		case '\b': snprintf(esc, sizeof(esc), "\\b"); break;
		case '\f': snprintf(esc, sizeof(esc), "\\f"); break;
		case '\n': snprintf(esc, sizeof(esc), "\\n"); break;
		case '\r': snprintf(esc, sizeof(esc), "\\r"); break;
		case '\t': snprintf(esc, sizeof(esc), "\\t"); break;
		default: snprintf(esc, sizeof(esc), "\\u%04X", c); break;
		}
		st = aclm_buf_puts(out, esc);
		i = run + 1;
	}
	if (st == ACLM_OK)
		st = aclm_buf_append(out, "\"", 1);
	return st;
}

/* Reals are rare here; jansson's own formatting keeps them identical. */
static aclm_status write_real(struct aclm_buf *out, const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	aclm_status st = s != NULL ? aclm_buf_puts(out, s) : ACLM_ERR_NOMEM;

	free(s);
	return st;
}

static aclm_status write_value(struct aclm_buf *out, const json_t *v, int depth);

static aclm_status write_object(struct aclm_buf *out, const json_t *v, int depth)
{
	aclm_status st = aclm_buf_append(out, "{", 1);
	const char *k;
	json_t *m;
	bool first = true;

	json_object_foreach((json_t *)v, k, m) {
		if (st == ACLM_OK && !first)
			st = aclm_buf_append(out, ",", 1);
		if (st == ACLM_OK)
			st = write_string(out, k, strlen(k));
		if (st == ACLM_OK)
			st = aclm_buf_append(out, ":", 1);
		if (st == ACLM_OK)
			st = write_value(out, m, depth + 1);
		first = false;
	}
	return st == ACLM_OK ? aclm_buf_append(out, "}", 1) : st;
}

static aclm_status write_array(struct aclm_buf *out, const json_t *v, int depth)
{
	aclm_status st = aclm_buf_append(out, "[", 1);

	for (size_t i = 0; st == ACLM_OK && i < json_array_size(v); i++) {
		if (i > 0)
			st = aclm_buf_append(out, ",", 1);
		if (st == ACLM_OK)
			st = write_value(out, json_array_get(v, i), depth + 1);
	}
	return st == ACLM_OK ? aclm_buf_append(out, "]", 1) : st;
}

static aclm_status write_value(struct aclm_buf *out, const json_t *v, int depth)
{
	char num[32];

	if (v == NULL || depth > DEPTH_MAX)
		return ACLM_ERR_INVALID;
	switch (json_typeof(v)) {
	case JSON_OBJECT: return write_object(out, v, depth);
	case JSON_ARRAY: return write_array(out, v, depth);
	case JSON_STRING: return write_string(out, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return aclm_buf_puts(out, num);
	case JSON_REAL: return write_real(out, v);
	case JSON_TRUE: return aclm_buf_puts(out, "true");
	case JSON_FALSE: return aclm_buf_puts(out, "false");
	case JSON_NULL: return aclm_buf_puts(out, "null");
	}
	return ACLM_ERR_INVALID;
}

aclm_status aclm_json_write(struct aclm_buf *out, const json_t *v)
{
	return write_value(out, v, 0);
}

aclm_status aclm_json_write_string(struct aclm_buf *out, const char *s)
{
	return write_string(out, s, strlen(s));
}
