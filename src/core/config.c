/* INI configuration with layered overrides (inih parses the file). */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "core/buf.h"

#define CONFIG_MAX_FILE (1024 * 1024)

struct config_value {
	char *v[ACLM_CFG_LAYERS];
};

struct aclm_config {
	size_t nkeys;
	struct config_value *values; /* parallel to aclm_config_keys */
};

aclm_status aclm_config_new(struct aclm_config **out)
{
	struct aclm_config *cfg = calloc(1, sizeof(*cfg));

	*out = NULL;
	if (cfg == NULL)
		return ACLM_ERR_NOMEM;
	while (aclm_config_keys[cfg->nkeys].section != NULL)
		cfg->nkeys++;
	cfg->values = calloc(cfg->nkeys, sizeof(*cfg->values));
	if (cfg->values == NULL) {
		free(cfg);
		return ACLM_ERR_NOMEM;
	}
	*out = cfg;
	return ACLM_OK;
}

void aclm_config_free(struct aclm_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->nkeys; i++)
		for (int l = 0; l < ACLM_CFG_LAYERS; l++)
			free(cfg->values[i].v[l]);
	free(cfg->values);
	free(cfg);
}

static long key_index(const char *section, const char *key)
{
	for (long i = 0; aclm_config_keys[i].section != NULL; i++)
		if (strcmp(aclm_config_keys[i].section, section) == 0 &&
		    strcmp(aclm_config_keys[i].key, key) == 0)
			return i;
	return -1;
}

static bool choice_ok(const char *choices, const char *v)
{
	size_t n = strlen(v);

	for (const char *p = choices; p != NULL && *p != '\0';) {
		const char *bar = strchr(p, '|');
		size_t len = bar != NULL ? (size_t)(bar - p) : strlen(p);

		if (len == n && strncmp(p, v, n) == 0)
			return true;
		p = bar != NULL ? bar + 1 : NULL;
	}
	return false;
}

/* Checks v against the key's type; the message says what is wrong. */
static aclm_status value_check(const struct aclm_config_key *k, const char *v, char *why,
			       size_t whylen)
{
	char *end;
	long n;

	switch (k->type) {
	case ACLM_CFG_STRING:
		return ACLM_OK;
	case ACLM_CFG_ENUM:
		if (choice_ok(k->choices, v))
			return ACLM_OK;
		snprintf(why, whylen, "[%s] %s: \"%s\" is not one of %s", k->section, k->key, v,
			 k->choices);
		return ACLM_ERR_CONFIG;
	case ACLM_CFG_INT:
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno == 0 && end != v && *end == '\0' && n >= k->min && n <= k->max)
			return ACLM_OK;
		snprintf(why, whylen, "[%s] %s: \"%s\" is not an integer in %ld..%ld", k->section,
			 k->key, v, k->min, k->max);
		return ACLM_ERR_CONFIG;
	}
	return ACLM_ERR_INTERNAL;
}

static aclm_status set_layer(struct aclm_config *cfg, long idx, int layer, const char *v,
			     char *why, size_t whylen)
{
	aclm_status st = value_check(&aclm_config_keys[idx], v, why, whylen);
	char *copy;

	if (st != ACLM_OK)
		return st;
	copy = strdup(v);
	if (copy == NULL) {
		snprintf(why, whylen, "out of memory");
		return ACLM_ERR_NOMEM;
	}
	free(cfg->values[idx].v[layer]);
	cfg->values[idx].v[layer] = copy;
	return ACLM_OK;
}

struct ini_ctx {
	struct aclm_config *cfg;
	char why[300];
};

static int config_ini_entry(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *ctx = user;
	long idx;

	if (name == NULL) /* a section header alone: checked when keys arrive */
		return 1;
	idx = key_index(section, name);
	if (idx < 0) {
		snprintf(ctx->why, sizeof(ctx->why), "unknown key [%s] %s", section, name);
		return 0;
	}
	return set_layer(ctx->cfg, idx, ACLM_CFG_FILE, value, ctx->why, sizeof(ctx->why)) ==
	       ACLM_OK;
}

aclm_status aclm_config_load_string(struct aclm_config *cfg, const char *text, const char *name,
				    struct aclm_err *err)
{
	struct ini_ctx ctx = { .cfg = cfg };
	int line = ini_parse_string(text, config_ini_entry, &ctx);

	if (line == 0)
		return ACLM_OK;
	if (line < 0)
		return aclm_err_set(err, ACLM_ERR_NOMEM, "%s: out of memory", name);
	if (ctx.why[0] == '\0')
		snprintf(ctx.why, sizeof(ctx.why), "syntax error (expected [section] or key = value)");
	return aclm_err_set(err, ACLM_ERR_CONFIG, "%s:%d: %s", name, line, ctx.why);
}

aclm_status aclm_config_load_file(struct aclm_config *cfg, const char *path, bool must_exist,
				  struct aclm_err *err)
{
	struct aclm_buf b;
	aclm_status st;

	aclm_buf_init(&b, CONFIG_MAX_FILE);
	st = aclm_buf_read_file(&b, path, err);
	if (st == ACLM_ERR_NOTFOUND && !must_exist) {
		aclm_err_clear(err);
		st = ACLM_OK;
		goto out;
	}
	if (st != ACLM_OK)
		goto out;
	if (memchr(b.data, '\0', b.len) != NULL) {
		st = aclm_err_set(err, ACLM_ERR_CONFIG, "%s: contains NUL bytes", path);
		goto out;
	}
	st = aclm_config_load_string(cfg, (const char *)b.data, path, err);
out:
	aclm_buf_free(&b);
	return st;
}

void aclm_config_env_name(const char *section, const char *key, char *out, size_t outlen)
{
	size_t n = (size_t)snprintf(out, outlen, "ACLM_%s_%s", section, key);

	for (size_t i = 0; i < n && i < outlen; i++)
		out[i] = isalnum((unsigned char)out[i]) ? (char)toupper((unsigned char)out[i]) : '_';
}

aclm_status aclm_config_load_env(struct aclm_config *cfg, struct aclm_err *err)
{
	for (size_t i = 0; i < cfg->nkeys; i++) {
		const struct aclm_config_key *k = &aclm_config_keys[i];
		char name[128], why[300];
		const char *v;

		aclm_config_env_name(k->section, k->key, name, sizeof(name));
		v = getenv(name);
		if (v == NULL && k->env_alias != NULL) {
			v = getenv(k->env_alias);
			snprintf(name, sizeof(name), "%s", k->env_alias);
		}
		if (v == NULL)
			continue;
		if (set_layer(cfg, (long)i, ACLM_CFG_ENV, v, why, sizeof(why)) != ACLM_OK)
			return aclm_err_set(err, ACLM_ERR_CONFIG, "environment %s: %s", name, why);
	}
	return ACLM_OK;
}

aclm_status aclm_config_set_flag(struct aclm_config *cfg, const char *section, const char *key,
				 const char *value, struct aclm_err *err)
{
	long idx = key_index(section, key);
	char why[300];

	if (idx < 0)
		return aclm_err_set(err, ACLM_ERR_INTERNAL, "unknown key [%s] %s", section, key);
	if (set_layer(cfg, idx, ACLM_CFG_FLAG, value, why, sizeof(why)) != ACLM_OK)
		return aclm_err_set(err, ACLM_ERR_CONFIG, "%s", why);
	return ACLM_OK;
}

static int effective_layer(const struct aclm_config *cfg, long idx)
{
	for (int l = ACLM_CFG_LAYERS - 1; l > ACLM_CFG_DEFAULT; l--)
		if (cfg->values[idx].v[l] != NULL)
			return l;
	return ACLM_CFG_DEFAULT;
}

const char *aclm_config_get(const struct aclm_config *cfg, const char *section, const char *key)
{
	long idx = key_index(section, key);
	int l;

	if (idx < 0)
		return NULL;
	l = effective_layer(cfg, idx);
	return l == ACLM_CFG_DEFAULT ? aclm_config_keys[idx].def : cfg->values[idx].v[l];
}

long aclm_config_get_int(const struct aclm_config *cfg, const char *section, const char *key)
{
	const char *v = aclm_config_get(cfg, section, key);

	return v != NULL ? strtol(v, NULL, 10) : 0;
}

enum aclm_config_origin aclm_config_origin(const struct aclm_config *cfg, const char *section,
					   const char *key)
{
	long idx = key_index(section, key);

	return idx < 0 ? ACLM_CFG_DEFAULT : (enum aclm_config_origin)effective_layer(cfg, idx);
}

const char *aclm_config_origin_name(enum aclm_config_origin o)
{
	static const char *const names[] = { "default", "file", "environment", "flag" };

	return (unsigned)o < ACLM_CFG_LAYERS ? names[o] : "unknown";
}
